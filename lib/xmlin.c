/*
 * xmlin.c - reads pim's XML exchange format (pim-xml(5)) with libxml2's
 * streaming reader, validated against the built-in XSD. Hostile input is
 * expected: no network, no DTD, no entity expansion; a document with a
 * DOCTYPE is refused before libxml2 sees it, and every libxml2 message
 * becomes a diagnostic instead of going to standard error.
 */
#include "recin.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlschemas.h>

#define PIM_XML_NS "urn:pim:products:1"

/* Parser options: never the network, never a DTD, never entity
 * substitution (no XML_PARSE_NOENT, XML_PARSE_DTDLOAD, XML_PARSE_HUGE).
 * The document is read as UTF-8 whatever it declares: a declared UTF-7
 * or EBCDIC could otherwise hide a DOCTYPE from the check below. */
#define PIM_XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_IGNORE_ENC)
/* (not XML_PARSE_NOCDATA: with the XSD plugged in, libxml2 2.9 then drops
 * CDATA sections; they come as CDATA nodes instead) */

typedef struct xerr {
	unsigned long line, col;
	char *msg;
} xerr;

typedef struct xr {
	pim_recin *rd;
	xmlTextReaderPtr reader;
	xmlSchemaPtr schema;
	int pass;
	int fatal;              /* the document is not well-formed */
	const char *key_name;
	const char *schema_name;
	xerr *pend;             /* validation errors not yet attributed */
	size_t n_pend, cap_pend;
	int have_prod;          /* a product is being read or waits */
	int prod_closed;        /* ... and its end has been seen */
	unsigned long prod_line;
	int prod_bad;           /* errors already reported for it */
	int stashed;            /* a new product started while delivering */
	unsigned long stash_line;
	char *stash_sku;
	int stash_empty;
	int eof;
	pim_buf text, name;
	xmlStructuredErrorFunc old_serror;
	void *old_sctx;
	xmlGenericErrorFunc old_gerror;
	void *old_gctx;
	int handlers_set;
} xr;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_libxml(void)
{
	xmlInitParser();
}

/* Messages without the namespace in every element name. */
static void clean_message(pim_buf *b, const char *m)
{
	static const char ns[] = "{" PIM_XML_NS "}";
	size_t nl = sizeof ns - 1;

	pim_buf_clear(b);
	while (m && *m) {
		if (!strncmp(m, ns, nl)) {
			m += nl;
			continue;
		}
		pim_buf_addc(b, *m == '\n' ? ' ' : *m);
		m++;
	}
	while (b->len && b->data[b->len - 1] == ' ')
		b->data[--b->len] = '\0';
	if (!b->data)
		pim_buf_adds(b, "");
}

static void on_error(void *ctx, xmlErrorPtr e)
{
	xr *x = ctx;
	pim_buf msg = PIM_BUF_INIT;
	unsigned long line = e && e->line > 0 ? (unsigned long)e->line : 0;
	unsigned long col = e && e->int2 > 0 ? (unsigned long)e->int2 : 0;

	if (!e)
		return;
	clean_message(&msg, e->message ? e->message : "XML error");
	if (e->domain == XML_FROM_SCHEMASV && x->pass == 2 &&
	    e->level != XML_ERR_WARNING) {
		/* attributed to a product once its extent is known */
		if (x->n_pend == x->cap_pend) {
			size_t cap = x->cap_pend ? x->cap_pend * 2 : 16;
			xerr *nv = pim_realloc(x->pend, cap * sizeof *nv);
			if (!nv)
				goto out;
			x->pend = nv;
			x->cap_pend = cap;
		}
		x->pend[x->n_pend].line = line;
		x->pend[x->n_pend].col = col;
		x->pend[x->n_pend].msg = pim_buf_detach(&msg);
		if (x->pend[x->n_pend].msg)
			x->n_pend++;
		goto out;
	}
	if (e->level == XML_ERR_WARNING) {
		pim_recin_diag(x->rd, line ? line : 1, col, "xml",
			       PIM_SEV_WARNING, "%s", msg.data);
	} else {
		if (!x->fatal || e->domain != XML_FROM_PARSER)
			pim_recin_diag(x->rd, line ? line : 1, col, "xml",
				       PIM_SEV_ERROR, "%s", msg.data);
		if (e->domain != XML_FROM_SCHEMASV &&
		    e->domain != XML_FROM_SCHEMASP)
			x->fatal = 1;
	}
out:
	pim_buf_free(&msg);
}

static void no_generic(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

static int io_read(void *ctx, char *buf, int len)
{
	pim_recin *rd = ctx;
	size_t n = fread(buf, 1, (size_t)len, rd->f);
	if (n == 0 && ferror(rd->f))
		return -1;
	rd->done += n;
	return (int)n;
}

static int io_close(void *ctx)
{
	(void)ctx;
	return 0;
}

/*
 * The prolog is read here first: a DOCTYPE (the way to entities, external
 * or exponential) refuses the document before any XML parser sees it, and
 * so does a document that is not ASCII-compatible, where this check
 * would be blind.
 */
typedef struct scan {
	FILE *f;
	unsigned long line, col;
} scan;

static int scan_getc(scan *sc)
{
	int c = getc(sc->f);
	if (c == '\n') {
		sc->line++;
		sc->col = 0;
	} else if (c != EOF) {
		sc->col++;
	}
	return c;
}

static int prescan(pim_recin *rd)
{
	scan sc = { rd->f, 1, 0 };
	int c;

	c = scan_getc(&sc);
	if (c == EOF && !ferror(rd->f)) {
		pim_recin_diag(rd, 1, 0, "empty-file", PIM_SEV_ERROR,
			       "the file is empty: no <products> element");
		return PIM_EDATA;
	}
	if (c == 0xEF) {
		if (scan_getc(&sc) != 0xBB || scan_getc(&sc) != 0xBF)
			goto not_utf8;
		sc.col = 0;
		c = scan_getc(&sc);
	} else if (c == 0xFE || c == 0xFF || c == 0x00) {
		goto not_utf8;
	}
	while (c != EOF) {
		unsigned long line, col;
		if (c == 0x00)
			goto not_utf8; /* UTF-16LE without a byte-order mark */
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			c = scan_getc(&sc);
			continue;
		}
		if (c != '<')
			break; /* not XML: libxml2 says so */
		line = sc.line;
		col = sc.col;
		c = scan_getc(&sc);
		if (c == 0x00)
			goto not_utf8;
		if (c == '?') {
			/* a processing instruction, to "?>" */
			int prev = 0;
			while ((c = scan_getc(&sc)) != EOF &&
			       !(prev == '?' && c == '>'))
				prev = c;
			c = scan_getc(&sc);
			continue;
		}
		if (c != '!')
			break; /* the root element */
		c = scan_getc(&sc);
		if (c == '-') {
			/* a comment, to "-->" */
			int p1 = 0, p2 = 0;
			while ((c = scan_getc(&sc)) != EOF &&
			       !(p2 == '-' && p1 == '-' && c == '>')) {
				p2 = p1;
				p1 = c;
			}
			c = scan_getc(&sc);
			continue;
		}
		{
			char word[8];
			size_t n = 0;
			while (n < 7 && c != EOF) {
				word[n++] = (char)c;
				c = scan_getc(&sc);
			}
			if (n == 7 && !memcmp(word, "DOCTYPE", 7)) {
				pim_recin_diag(rd, line, col, "doctype",
					       PIM_SEV_ERROR,
					       "the document has a DOCTYPE; pim's "
					       "XML format has none, and entities "
					       "are not read (refused)");
				return PIM_EDATA;
			}
		}
		break;
	}
	if (ferror(rd->f))
		return PIM_EIO;
	if (fseek(rd->f, 0, SEEK_SET) != 0)
		return PIM_EIO;
	return 0;
not_utf8:
	pim_recin_diag(rd, 1, 1, "encoding", PIM_SEV_ERROR,
		       "the document is not UTF-8 (UTF-16 or UTF-32?); "
		       "pim's XML format is UTF-8 (refused)");
	return PIM_EDATA;
}

static void set_handlers(xr *x)
{
	if (x->handlers_set)
		return;
	/* libxml2 keeps these per thread: restored at close */
	x->old_serror = xmlStructuredError;
	x->old_sctx = xmlStructuredErrorContext;
	x->old_gerror = xmlGenericError;
	x->old_gctx = xmlGenericErrorContext;
	xmlSetStructuredErrorFunc(x, on_error);
	xmlSetGenericErrorFunc(NULL, no_generic);
	x->handlers_set = 1;
}

static void restore_handlers(xr *x)
{
	if (!x->handlers_set)
		return;
	xmlSetStructuredErrorFunc(x->old_sctx, x->old_serror);
	xmlSetGenericErrorFunc(x->old_gctx, x->old_gerror);
	x->handlers_set = 0;
}

static int new_reader(pim_recin *rd, xr *x)
{
	x->reader = xmlReaderForIO(io_read, io_close, rd, NULL, "UTF-8",
				   PIM_XML_OPTIONS);
	if (!x->reader)
		return PIM_ENOMEM;
	xmlTextReaderSetStructuredErrorHandler(x->reader, on_error, x);
	if (x->schema && xmlTextReaderSetSchema(x->reader, x->schema) != 0)
		return PIM_ENOMEM;
	return 0;
}

static unsigned long node_line(xr *x)
{
	xmlNodePtr n = xmlTextReaderCurrentNode(x->reader);
	long l = n ? xmlGetLineNo(n) : -1;

	/* libxml2 keeps element lines up to 65535; beyond, the parser's
	 * line is near (it may have read a little ahead) */
	if (l <= 0 || l >= 65535)
		l = xmlTextReaderGetParserLineNumber(x->reader);
	return l > 0 ? (unsigned long)l : 1;
}

static int is_ns(xr *x, const char *local)
{
	const xmlChar *ns = xmlTextReaderConstNamespaceUri(x->reader);
	const xmlChar *ln = xmlTextReaderConstLocalName(x->reader);
	return ns && ln && !strcmp((const char *)ns, PIM_XML_NS) &&
	       !strcmp((const char *)ln, local);
}

static char *attr(xr *x, const char *name)
{
	return (char *)xmlTextReaderGetAttribute(x->reader,
						 (const xmlChar *)name);
}

/* The column name of a <value>: attribute, or attribute@locale. */
static int value_name(xr *x, const char *code, const char *locale)
{
	pim_buf_clear(&x->name);
	if (pim_buf_adds(&x->name, code) ||
	    (locale && *locale &&
	     (pim_buf_addc(&x->name, '@') || pim_buf_adds(&x->name, locale))))
		return PIM_ENOMEM;
	return 0;
}

/* Refuses what must not be there, whatever the XSD says. */
static int forbidden(xr *x, int type)
{
	if (type == XML_READER_TYPE_DOCUMENT_TYPE ||
	    type == XML_READER_TYPE_ENTITY_REFERENCE ||
	    type == XML_READER_TYPE_ENTITY) {
		pim_recin_diag(x->rd, node_line(x), 0, "doctype", PIM_SEV_ERROR,
			       "DOCTYPEs and entities are not allowed in pim's "
			       "XML format (refused)");
		x->fatal = 1;
		return 1;
	}
	return 0;
}

/* ---- pass 1: the attributes, in order of first appearance ---------------- */

static int collect(pim_recin *rd, xr *x)
{
	int ret, depth_prod = 0;

	while ((ret = xmlTextReaderRead(x->reader)) == 1) {
		int type = xmlTextReaderNodeType(x->reader);
		int depth = xmlTextReaderDepth(x->reader);
		if (forbidden(x, type))
			return PIM_EDATA;
		if (type != XML_READER_TYPE_ELEMENT)
			continue;
		if (depth == 0) {
			char *sn;
			if (!is_ns(x, "products")) {
				const xmlChar *ns =
					xmlTextReaderConstNamespaceUri(x->reader);
				pim_recin_diag(
					rd, node_line(x), 0, "xml", PIM_SEV_ERROR,
					"the root element is <%s>%s%s%s; pim's XML "
					"format has <products xmlns=\"%s\">",
					(const char *)xmlTextReaderConstLocalName(
						x->reader),
					ns ? " in namespace '" : " without a namespace",
					ns ? (const char *)ns : "", ns ? "'" : "",
					PIM_XML_NS);
				return PIM_EDATA;
			}
			sn = attr(x, "schema");
			if (sn && x->schema_name && strcmp(sn, x->schema_name))
				pim_recin_diag(rd, node_line(x), 0, "schema-name",
					       PIM_SEV_WARNING,
					       "the file was written for schema "
					       "'%.80s', this is '%.80s'",
					       sn, x->schema_name);
			xmlFree(sn);
			continue;
		}
		if (depth == 1 && is_ns(x, "product")) {
			rd->records++;
			depth_prod = 1;
			if (!rd->first_line) {
				rd->first_line = node_line(x);
				rd->name_pos[0].line = rd->first_line;
			}
			continue;
		}
		if (depth == 2 && depth_prod && is_ns(x, "value")) {
			char *code = attr(x, "attribute");
			char *loc = attr(x, "locale");
			long c = -1;
			int rc = 0;
			if (code && *code) {
				rc = value_name(x, code, loc);
				if (!rc)
					c = pim_recin_col(rd, x->name.data,
							  x->name.len,
							  node_line(x), 0, 1);
			}
			xmlFree(code);
			xmlFree(loc);
			if (rc)
				return rc;
			if (c == PIM_ELIMIT - 1) {
				pim_recin_diag(rd, node_line(x), 0,
					       "too-many-columns", PIM_SEV_ERROR,
					       "more than %u different attributes "
					       "in the file",
					       PIM_CSV_MAX_COLUMNS);
				return PIM_EDATA;
			}
			if (c < -1)
				return (int)c + 1;
		}
	}
	if (ret < 0 || x->fatal) {
		if (!x->fatal)
			pim_recin_diag(rd, (unsigned long)xmlTextReaderGetParserLineNumber(
						   x->reader),
				       0, "xml", PIM_SEV_ERROR,
				       "the document cannot be read");
		return PIM_EDATA;
	}
	return 0;
}

/* ---- pass 2: one product at a time ------------------------------------------ */

static void begin_product(pim_recin *rd, xr *x, unsigned long line,
			  const char *sku)
{
	pim_recin_row_begin(rd, line);
	x->have_prod = 1;
	x->prod_closed = 0;
	x->prod_line = line;
	x->prod_bad = 0;
	if (sku) {
		long c = pim_recin_col(rd, x->key_name, strlen(x->key_name), 0, 0,
				       0);
		if (c >= 0)
			pim_recin_put(rd, (size_t)c, sku, strlen(sku), line, 0, 0,
				      0);
	}
}

/* Reports the pending validation errors before line `upto`: those before
 * the product are the file's, the others the product's. */
static void attribute_errors(pim_recin *rd, xr *x, unsigned long upto,
			     int product)
{
	size_t k = 0;

	for (size_t i = 0; i < x->n_pend; i++) {
		xerr *e = &x->pend[i];
		if (e->line >= upto) {
			x->pend[k++] = *e;
			continue;
		}
		if (product && e->line >= x->prod_line) {
			if (e->line == x->prod_line)
				pim_recin_diag(rd, x->prod_line, e->col, "xsd",
					       PIM_SEV_ERROR, "%s", e->msg);
			else
				pim_recin_diag(rd, x->prod_line, 0, "xsd",
					       PIM_SEV_ERROR, "line %lu: %s",
					       e->line, e->msg);
			x->prod_bad = 1;
		} else {
			pim_recin_diag(rd, e->line ? e->line : 1, e->col, "xsd",
				       PIM_SEV_ERROR, "%s", e->msg);
		}
		pim_free(e->msg);
	}
	x->n_pend = k;
}

/* Builds the row of the finished product; 1 (a row) or a negative code. */
static int finish_product(pim_recin *rd, xr *x, unsigned long upto,
			  int *broken)
{
	long bad;

	attribute_errors(rd, x, upto, 1);
	x->have_prod = 0;
	bad = pim_recin_row_end(rd);
	if (bad < 0)
		return (int)bad;
	if (bad > 0) {
		pim_recin_diag(rd, x->prod_line, 0, "list", PIM_SEV_ERROR,
			       "'%s' takes a single value; it is given more "
			       "than once",
			       rd->names[bad - 1]);
		x->prod_bad = 1;
	}
	*broken = x->prod_bad;
	return 1;
}

/* The text of the <value> element the reader is on. */
static int read_value(pim_recin *rd, xr *x, int *too_long)
{
	int ret;

	pim_buf_clear(&x->text);
	*too_long = 0;
	if (pim_buf_adds(&x->text, ""))
		return PIM_ENOMEM;
	if (xmlTextReaderIsEmptyElement(x->reader))
		return 1;
	while ((ret = xmlTextReaderRead(x->reader)) == 1) {
		int type = xmlTextReaderNodeType(x->reader);
		int depth = xmlTextReaderDepth(x->reader);
		if (forbidden(x, type))
			return 0;
		if (type == XML_READER_TYPE_END_ELEMENT && depth == 2)
			return 1;
		if (depth == 3 &&
		    (type == XML_READER_TYPE_TEXT ||
		     type == XML_READER_TYPE_CDATA ||
		     type == XML_READER_TYPE_WHITESPACE ||
		     type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE)) {
			const char *v = (const char *)xmlTextReaderConstValue(
				x->reader);
			size_t n = v ? strlen(v) : 0;
			if (x->text.len + n > rd->max_field)
				*too_long = 1;
			else if (pim_buf_add(&x->text, v, n))
				return PIM_ENOMEM;
		}
	}
	return ret < 0 ? 0 : 1;
}

static int take_value(pim_recin *rd, xr *x)
{
	char *code = attr(x, "attribute"), *loc = attr(x, "locale");
	char *cur = attr(x, "currency"), *unit = attr(x, "unit");
	unsigned long line = node_line(x);
	int rc, too_long;
	long c;

	rc = read_value(rd, x, &too_long);
	if (rc <= 0)
		goto out;
	if (!code || !*code)
		goto out; /* the XSD reports it */
	if (too_long) {
		pim_recin_diag(rd, x->prod_line, 0, "field-too-long",
			       PIM_SEV_ERROR,
			       "line %lu: the value of '%.80s' is longer than "
			       "%zu bytes (--max-field-size)",
			       line, code, rd->max_field);
		x->prod_bad = 1;
		goto out;
	}
	/* "12.50" with currency="NOK" is the cell "12.50 NOK" */
	if (x->text.len && (cur || unit) &&
	    (pim_buf_addc(&x->text, ' ') ||
	     pim_buf_adds(&x->text, cur ? cur : unit))) {
		rc = PIM_ENOMEM;
		goto out;
	}
	if ((rc = value_name(x, code, loc)))
		goto out;
	c = pim_recin_col(rd, x->name.data, x->name.len, 0, 0, 0);
	if (c < 0) {
		pim_recin_diag(rd, x->prod_line, 0, "io", PIM_SEV_ERROR,
			       "the file changed while it was read");
		x->prod_bad = 1;
		goto out;
	}
	rc = pim_recin_put(rd, (size_t)c, x->text.data, x->text.len,
			   x->prod_line, 0, 0, 1);
out:
	xmlFree(code);
	xmlFree(loc);
	xmlFree(cur);
	xmlFree(unit);
	return rc < 0 ? rc : 0;
}

static int xml_next(pim_recin *rd, int *broken)
{
	xr *x = rd->impl;
	int ret, rc;

	if (x->stashed) {
		x->stashed = 0;
		begin_product(rd, x, x->stash_line, x->stash_sku);
		xmlFree(x->stash_sku);
		x->stash_sku = NULL;
		x->prod_closed = x->stash_empty;
	}
	while (!x->eof) {
		int type, depth;
		ret = xmlTextReaderRead(x->reader);
		if (ret != 1) {
			x->eof = 1;
			break;
		}
		type = xmlTextReaderNodeType(x->reader);
		depth = xmlTextReaderDepth(x->reader);
		if (forbidden(x, type)) {
			x->eof = 1;
			break;
		}
		if (depth == 1 && type == XML_READER_TYPE_ELEMENT &&
		    is_ns(x, "product")) {
			unsigned long line = node_line(x);
			char *sku = attr(x, "sku");
			int empty = xmlTextReaderIsEmptyElement(x->reader);
			if (x->have_prod) {
				x->stashed = 1;
				x->stash_line = line;
				x->stash_sku = sku;
				x->stash_empty = empty;
				return finish_product(rd, x, line, broken);
			}
			attribute_errors(rd, x, line, 0);
			begin_product(rd, x, line, sku);
			xmlFree(sku);
			x->prod_closed = empty;
			continue;
		}
		if (depth == 1 && type == XML_READER_TYPE_END_ELEMENT) {
			x->prod_closed = 1;
			continue;
		}
		if (depth == 2 && type == XML_READER_TYPE_ELEMENT &&
		    x->have_prod && !x->prod_closed && is_ns(x, "value")) {
			if ((rc = take_value(rd, x)))
				return rc;
			continue;
		}
		if ((depth == 1 && (type == XML_READER_TYPE_ELEMENT ||
				    type == XML_READER_TYPE_TEXT)) ||
		    (depth == 0 && type == XML_READER_TYPE_END_ELEMENT)) {
			/* something between products: the product before it
			 * is complete */
			unsigned long line = depth ? node_line(x) : ULONG_MAX;
			if (x->have_prod && x->prod_closed)
				return finish_product(rd, x, line, broken);
		}
	}
	if (x->have_prod)
		return finish_product(rd, x, ULONG_MAX, broken);
	attribute_errors(rd, x, ULONG_MAX, 0);
	return 0;
}

static void xml_close(pim_recin *rd)
{
	xr *x = rd->impl;
	if (!x)
		return;
	if (x->reader)
		xmlFreeTextReader(x->reader);
	if (x->schema)
		xmlSchemaFree(x->schema);
	for (size_t i = 0; i < x->n_pend; i++)
		pim_free(x->pend[i].msg);
	pim_free(x->pend);
	xmlFree(x->stash_sku);
	pim_buf_free(&x->text);
	pim_buf_free(&x->name);
	restore_handlers(x);
	pim_free(x);
	rd->impl = NULL;
}

static int load_schema(xr *x)
{
	xmlSchemaParserCtxtPtr pc;

	pc = xmlSchemaNewMemParserCtxt(pim_products_xsd,
				       (int)pim_products_xsd_len);
	if (!pc)
		return PIM_ENOMEM;
	xmlSchemaSetParserStructuredErrors(pc, on_error, x);
	x->schema = xmlSchemaParse(pc);
	xmlSchemaFreeParserCtxt(pc);
	return x->schema ? 0 : PIM_ENOMEM;
}

int pim_xml_start(pim_recin *rd, const pim_recin_opts *o)
{
	xr *x;
	long c;
	int rc;

	pthread_once(&init_once, init_libxml);
	x = pim_calloc(1, sizeof *x);
	if (!x)
		return PIM_ENOMEM;
	x->rd = rd;
	x->key_name = o->key_name ? o->key_name : "sku";
	x->schema_name = o->schema_name;
	pim_buf_init(&x->text, 0);
	pim_buf_init(&x->name, 0);
	rd->impl = x;
	rd->close_impl = xml_close;
	rd->next_impl = xml_next;
	set_handlers(x);

	if ((rc = prescan(rd)))
		return rc;
	/* the key is the first column: <product sku="..."> */
	c = pim_recin_col(rd, x->key_name, strlen(x->key_name), 1, 0, 1);
	if (c < -1)
		return (int)c + 1;
	x->pass = 1;
	if ((rc = new_reader(rd, x)))
		return rc;
	rc = collect(rd, x);
	xmlFreeTextReader(x->reader);
	x->reader = NULL;
	if (rc)
		return rc;
	if (fseek(rd->f, 0, SEEK_SET) != 0)
		return PIM_EIO;
	rd->done = 0;
	x->pass = 2;
	if ((rc = load_schema(x)))
		return rc;
	return new_reader(rd, x);
}
