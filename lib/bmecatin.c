/*
 * bmecatin.c - reads BMEcat catalogs (BMEcat 2005 PRODUCT, BMEcat 1.2
 * ARTICLE) with libxml2's streaming reader and turns each product into a
 * row of the columns pim export -f bmecat writes them from (the key,
 * name, description, gtin, list_price, unit, moq), so the CSV pipeline
 * maps and checks them unchanged. Hostile input is expected: no network,
 * no DTD loading, no entity substitution, no internal DTD subset.
 */
#include "recin.h"

#include <pthread.h>
#include <string.h>
#include <strings.h>

#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlreader.h>

#include "export.h"

/* Never the network, never a DTD, never entity substitution. */
#define BMECAT_XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOCDATA)

enum { C_KEY, C_NAME, C_DESC, C_GTIN, C_PRICE, C_UNIT, C_MOQ, C__COUNT };

static const char *const col_names[C__COUNT] = {
	NULL, "name", "description", "gtin", "list_price", "unit", "moq"
};

typedef struct bx {
	pim_recin *rd;
	xmlTextReaderPtr reader;
	int pass;
	int fatal;
	int eof;
	const char *key_name;
	char currency[16];      /* HEADER/CATALOG/CURRENCY */
	int t_depth;            /* depth of T_NEW_CATALOG, -1 outside */
	/* the product being read */
	int in_prod, prod_depth;
	unsigned long prod_line;
	pim_buf val[C__COUNT];
	int have[C__COUNT];
	int price_depth;        /* a net_list price element, or -1 */
	pim_buf amount, cur;
	int too_long;
	xmlStructuredErrorFunc old_serror;
	void *old_sctx;
	xmlGenericErrorFunc old_gerror;
	void *old_gctx;
	int handlers_set;
} bx;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_libxml(void)
{
	xmlInitParser();
}

static void on_error(void *ctx, xmlErrorPtr e)
{
	bx *x = ctx;
	pim_buf msg = PIM_BUF_INIT;
	unsigned long line = e && e->line > 0 ? (unsigned long)e->line : 1;
	unsigned long col = e && e->int2 > 0 ? (unsigned long)e->int2 : 0;

	if (!e)
		return;
	for (const char *m = e->message ? e->message : "XML error"; *m; m++)
		pim_buf_addc(&msg, *m == '\n' ? ' ' : *m);
	while (msg.len && msg.data[msg.len - 1] == ' ')
		msg.data[--msg.len] = '\0';
	if (e->level == XML_ERR_WARNING) {
		pim_recin_diag(x->rd, line, col, "xml", PIM_SEV_WARNING, "%s",
			       msg.data ? msg.data : "");
	} else if (!x->fatal) {
		pim_recin_diag(x->rd, line, col, "xml", PIM_SEV_ERROR, "%s",
			       msg.data ? msg.data : "");
		x->fatal = 1;
	}
	pim_buf_free(&msg);
}

static void no_generic(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

static void set_handlers(bx *x)
{
	/* libxml2 keeps these per thread: restored at close */
	x->old_serror = xmlStructuredError;
	x->old_sctx = xmlStructuredErrorContext;
	x->old_gerror = xmlGenericError;
	x->old_gctx = xmlGenericErrorContext;
	xmlSetStructuredErrorFunc(x, on_error);
	xmlSetGenericErrorFunc(NULL, no_generic);
	x->handlers_set = 1;
}

static void restore_handlers(bx *x)
{
	if (!x->handlers_set)
		return;
	xmlSetStructuredErrorFunc(x->old_sctx, x->old_serror);
	xmlSetGenericErrorFunc(x->old_gctx, x->old_gerror);
	x->handlers_set = 0;
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

/* ---- the prolog ------------------------------------------------------------- */

/*
 * Read before libxml2 sees the document: a DOCTYPE with an internal subset
 * (the way to entity bombs) is refused; an external one, as BMEcat 1.2
 * files carry, is allowed and never loaded. Only ASCII-compatible
 * encodings are read, so that this check cannot be fooled.
 */
static int prescan(pim_recin *rd)
{
	char buf[8192];
	size_t n = fread(buf, 1, sizeof buf - 1, rd->f);
	const char *p, *end;

	if (ferror(rd->f))
		return PIM_EIO;
	buf[n] = '\0';
	if (n == 0) {
		pim_recin_diag(rd, 1, 0, "empty-file", PIM_SEV_ERROR,
			       "the file is empty: no <BMECAT> element");
		return PIM_EDATA;
	}
	if ((unsigned char)buf[0] == 0xFE || (unsigned char)buf[0] == 0xFF ||
	    buf[0] == '\0' || memchr(buf, '\0', n)) {
		pim_recin_diag(rd, 1, 1, "encoding", PIM_SEV_ERROR,
			       "the document is UTF-16 or binary; BMEcat files "
			       "are read in UTF-8 or ISO-8859-1 (refused)");
		return PIM_EDATA;
	}
	if ((p = strstr(buf, "encoding=")) && p < strstr(buf, "?>")) {
		static const char *const ok[] = { "utf-8", "iso-8859-1",
						  "iso-8859-15", "windows-1252",
						  "us-ascii", "latin1" };
		char enc[32];
		size_t k = 0, i;
		char q = p[9];
		for (p += 10; *p && *p != q && k < sizeof enc - 1; p++)
			enc[k++] = *p;
		enc[k] = '\0';
		for (i = 0; i < sizeof ok / sizeof *ok; i++)
			if (!strcasecmp(enc, ok[i]))
				break;
		if (i == sizeof ok / sizeof *ok) {
			pim_recin_diag(rd, 1, 1, "encoding", PIM_SEV_ERROR,
				       "the document's encoding '%s' is not "
				       "read; UTF-8, ISO-8859-1, ISO-8859-15 and "
				       "windows-1252 are (refused)",
				       enc);
			return PIM_EDATA;
		}
	}
	if ((p = strstr(buf, "<!DOCTYPE"))) {
		unsigned long line = 1;
		char q = 0;
		for (const char *c = buf; c < p; c++)
			line += *c == '\n';
		for (end = p + 9; *end && (q || *end != '>'); end++) {
			if (q && *end == q)
				q = 0;
			else if (!q && (*end == '"' || *end == '\''))
				q = *end;
			else if (!q && *end == '[') {
				pim_recin_diag(rd, line, 0, "doctype",
					       PIM_SEV_ERROR,
					       "the DOCTYPE has an internal subset; "
					       "entities are not read (refused)");
				return PIM_EDATA;
			}
		}
	}
	if (fseek(rd->f, 0, SEEK_SET) != 0)
		return PIM_EIO;
	return 0;
}

/* ---- reading ---------------------------------------------------------------- */

static const char *lname(bx *x)
{
	const xmlChar *l = xmlTextReaderConstLocalName(x->reader);
	return l ? (const char *)l : "";
}

/* The line of the node the reader is on: libxml2 keeps element lines up
 * to 65535; beyond, the parser's line is near. */
static unsigned long cur_line(bx *x)
{
	xmlNodePtr n = xmlTextReaderCurrentNode(x->reader);
	long l = n ? xmlGetLineNo(n) : -1;

	if (l <= 0 || l >= 65535)
		l = xmlTextReaderGetParserLineNumber(x->reader);
	return l > 0 ? (unsigned long)l : 1;
}

static int has_attr(bx *x, const char *name, const char *const *values,
		    size_t n)
{
	xmlChar *v = xmlTextReaderGetAttribute(x->reader, BAD_CAST name);
	int r = 0;

	for (size_t i = 0; v && i < n; i++)
		r |= !strcasecmp((const char *)v, values[i]);
	xmlFree(v);
	return r;
}

/* The text of the element the reader is on, trimmed, into b. */
static int elem_text(bx *x, pim_buf *b)
{
	xmlChar *t = xmlTextReaderReadString(x->reader);
	const char *s = t ? (const char *)t : "";
	size_t n;
	int rc;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	n = strlen(s);
	while (n && strchr(" \t\r\n", s[n - 1]))
		n--;
	pim_buf_clear(b);
	rc = pim_buf_add(b, s, n) || pim_buf_addc(b, '\0') ? PIM_ENOMEM : 0;
	if (!rc)
		b->len--;
	xmlFree(t);
	return rc;
}

/* UN/ECE units of pim export -f bmecat back to the example's options. */
static const char *unit_option(const char *v)
{
	static const char *const t[][2] = { { "C62", "pcs" }, { "PCE", "pcs" },
					    { "BX", "box" },  { "PF", "pal" } };
	for (size_t i = 0; i < sizeof t / sizeof *t; i++)
		if (!strcasecmp(v, t[i][0]))
			return t[i][1];
	return v;
}

static int take(bx *x, int c)
{
	int rc;

	if (x->have[c])
		return 0; /* the first one counts */
	if ((rc = elem_text(x, &x->val[c])))
		return rc;
	if (x->val[c].len == 0)
		return 0;
	if (c == C_UNIT) {
		const char *u = unit_option(x->val[c].data);
		if (u != x->val[c].data) {
			pim_buf_clear(&x->val[c]);
			pim_buf_adds(&x->val[c], u);
		}
	}
	x->have[c] = 1;
	return 0;
}

/* One element inside a product. */
static int product_element(bx *x, int depth)
{
	const char *n = lname(x);
	static const char *const gtin[] = { "gtin", "ean" };
	static const char *const net[] = { "net_list" };

	if (depth == x->prod_depth + 1 &&
	    (!strcmp(n, "SUPPLIER_PID") || !strcmp(n, "SUPPLIER_AID")))
		return take(x, C_KEY);
	if (!strcmp(n, "DESCRIPTION_SHORT"))
		return take(x, C_NAME);
	if (!strcmp(n, "DESCRIPTION_LONG"))
		return take(x, C_DESC);
	if ((!strcmp(n, "INTERNATIONAL_PID") && has_attr(x, "type", gtin, 2)) ||
	    !strcmp(n, "EAN"))
		return take(x, C_GTIN);
	if (!strcmp(n, "ORDER_UNIT"))
		return take(x, C_UNIT);
	if (!strcmp(n, "QUANTITY_MIN"))
		return take(x, C_MOQ);
	if ((!strcmp(n, "PRODUCT_PRICE") || !strcmp(n, "ARTICLE_PRICE")) &&
	    !x->have[C_PRICE] && x->price_depth < 0 &&
	    has_attr(x, "price_type", net, 1) &&
	    !xmlTextReaderIsEmptyElement(x->reader)) {
		x->price_depth = depth;
		pim_buf_clear(&x->amount);
		pim_buf_clear(&x->cur);
		return 0;
	}
	if (x->price_depth >= 0 && !strcmp(n, "PRICE_AMOUNT"))
		return elem_text(x, &x->amount);
	if (x->price_depth >= 0 && !strcmp(n, "PRICE_CURRENCY"))
		return elem_text(x, &x->cur);
	return 0;
}

static void price_end(bx *x)
{
	const char *cur = x->cur.len ? x->cur.data : x->currency;

	x->price_depth = -1;
	if (!x->amount.len)
		return;
	pim_buf_clear(&x->val[C_PRICE]);
	pim_buf_add(&x->val[C_PRICE], x->amount.data, x->amount.len);
	if (*cur) {
		pim_buf_addc(&x->val[C_PRICE], ' ');
		pim_buf_adds(&x->val[C_PRICE], cur);
	}
	x->have[C_PRICE] = x->val[C_PRICE].data != NULL;
}

static long column(bx *x, int c, unsigned long line)
{
	const char *name = c == C_KEY ? x->key_name : col_names[c];

	return pim_recin_col(x->rd, name, strlen(name), line, 0, x->pass == 1);
}

/* The product is complete: pass 1 notes its columns, pass 2 its row. */
static int product_end(bx *x, int *broken)
{
	pim_recin *rd = x->rd;
	long bad;

	x->in_prod = 0;
	if (x->pass == 1) {
		rd->records++;
		if (!rd->first_line) {
			rd->first_line = x->prod_line;
			rd->name_pos[0].line = x->prod_line;
		}
		for (int c = 1; c < C__COUNT; c++) {
			long col;
			if (!x->have[c])
				continue;
			col = column(x, c, x->prod_line);
			if (col == PIM_ELIMIT - 1 || col < -1)
				return col == PIM_ELIMIT - 1 ? PIM_ELIMIT
							     : (int)col + 1;
		}
		return 0;
	}
	pim_recin_row_begin(rd, x->prod_line);
	*broken = 0;
	for (int c = 0; c < C__COUNT; c++) {
		long col;
		if (!x->have[c])
			continue;
		if (x->val[c].len > rd->max_field) {
			pim_recin_diag(rd, x->prod_line, 0, "field-too-long",
				       PIM_SEV_ERROR,
				       "the value for '%s' is longer than %zu "
				       "bytes (--max-field-size)",
				       c == C_KEY ? x->key_name : col_names[c],
				       rd->max_field);
			*broken = 1;
			continue;
		}
		col = column(x, c, x->prod_line);
		if (col >= 0 &&
		    pim_recin_put(rd, (size_t)col, x->val[c].data, x->val[c].len,
				  x->prod_line, 0, 0, 0) < 0)
			return PIM_ENOMEM;
	}
	if (!x->have[C_KEY]) {
		pim_recin_diag(rd, x->prod_line, 0, "xml", PIM_SEV_ERROR,
			       "the product has no SUPPLIER_PID (SUPPLIER_AID)");
		*broken = 1;
	}
	bad = pim_recin_row_end(rd);
	if (bad < 0)
		return (int)bad;
	return 1;
}

/* Reads on; returns 1 at the end of a product, 0 at the end of the
 * document, or a negative code. */
static int advance(bx *x, int *broken)
{
	int ret, rc;

	while (!x->eof && (ret = xmlTextReaderRead(x->reader)) == 1) {
		int type = xmlTextReaderNodeType(x->reader);
		int depth = xmlTextReaderDepth(x->reader);
		const char *n;
		if (type == XML_READER_TYPE_ENTITY_REFERENCE ||
		    type == XML_READER_TYPE_ENTITY) {
			pim_recin_diag(x->rd, cur_line(x), 0, "doctype",
				       PIM_SEV_ERROR,
				       "entities are not read (refused)");
			x->fatal = 1;
			return PIM_EDATA;
		}
		/* an internal subset prescan did not see (after its 8 KB) */
		if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
			xmlNodePtr dt = xmlTextReaderCurrentNode(x->reader);
			if (dt && dt->children) {
				pim_recin_diag(x->rd, cur_line(x), 0, "doctype",
					       PIM_SEV_ERROR,
					       "the DOCTYPE has an internal "
					       "subset; entities are not read "
					       "(refused)");
				x->fatal = 1;
				return PIM_EDATA;
			}
		}
		if (type == XML_READER_TYPE_END_ELEMENT) {
			if (x->in_prod && depth == x->price_depth)
				price_end(x);
			if (x->in_prod && depth == x->prod_depth)
				return (rc = product_end(x, broken)) < 0 ? rc : 1;
			if (depth == x->t_depth)
				x->t_depth = -1;
			continue;
		}
		if (type != XML_READER_TYPE_ELEMENT)
			continue;
		n = lname(x);
		if (depth == 0) {
			if (strcmp(n, "BMECAT")) {
				pim_recin_diag(x->rd, cur_line(x), 0, "xml",
					       PIM_SEV_ERROR,
					       "the root element is <%.60s>; a "
					       "BMEcat document has <BMECAT>",
					       n);
				x->fatal = 1;
				return PIM_EDATA;
			}
			continue;
		}
		if (x->in_prod) {
			if ((rc = product_element(x, depth)))
				return rc;
			continue;
		}
		if (!strcmp(n, "CURRENCY") && !x->currency[0] && x->t_depth < 0) {
			pim_buf b = PIM_BUF_INIT;
			if (elem_text(x, &b))
				return PIM_ENOMEM;
			snprintf(x->currency, sizeof x->currency, "%s",
				 b.data ? b.data : "");
			pim_buf_free(&b);
			continue;
		}
		if (depth == 1 && (!strcmp(n, "T_NEW_CATALOG") ||
				   !strcmp(n, "T_UPDATE_PRODUCTS"))) {
			if (!xmlTextReaderIsEmptyElement(x->reader))
				x->t_depth = depth;
			continue;
		}
		if (x->t_depth >= 0 && depth == x->t_depth + 1 &&
		    (!strcmp(n, "PRODUCT") || !strcmp(n, "ARTICLE"))) {
			x->in_prod = 1;
			x->prod_depth = depth;
			x->prod_line = cur_line(x);
			x->price_depth = -1;
			memset(x->have, 0, sizeof x->have);
			if (xmlTextReaderIsEmptyElement(x->reader))
				return (rc = product_end(x, broken)) < 0 ? rc : 1;
		}
	}
	x->eof = 1;
	if (x->fatal)
		return PIM_EDATA;
	return 0;
}

static int bmecat_next(pim_recin *rd, int *broken)
{
	bx *x = rd->impl;
	int rc = advance(x, broken);

	return rc == PIM_EDATA ? 0 : rc;
}

static void bmecat_close(pim_recin *rd)
{
	bx *x = rd->impl;

	if (!x)
		return;
	if (x->reader)
		xmlFreeTextReader(x->reader);
	for (int c = 0; c < C__COUNT; c++)
		pim_buf_free(&x->val[c]);
	pim_buf_free(&x->amount);
	pim_buf_free(&x->cur);
	restore_handlers(x);
	pim_free(x);
	rd->impl = NULL;
}

static int new_reader(pim_recin *rd, bx *x)
{
	x->reader = xmlReaderForIO(io_read, io_close, rd, NULL, NULL,
				   BMECAT_XML_OPTIONS);
	if (!x->reader)
		return PIM_ENOMEM;
	xmlTextReaderSetStructuredErrorHandler(x->reader, on_error, x);
	x->t_depth = -1;
	x->in_prod = 0;
	x->eof = 0;
	return 0;
}

int pim_bmecat_start(pim_recin *rd, const pim_recin_opts *o)
{
	bx *x;
	long c;
	int rc, broken = 0;

	pthread_once(&init_once, init_libxml);
	if (!(x = pim_calloc(1, sizeof *x)))
		return PIM_ENOMEM;
	x->rd = rd;
	x->key_name = o->key_name ? o->key_name : "sku";
	rd->impl = x;
	rd->close_impl = bmecat_close;
	rd->next_impl = bmecat_next;
	set_handlers(x);
	if ((rc = prescan(rd)))
		return rc;
	/* the key is the first column */
	c = pim_recin_col(rd, x->key_name, strlen(x->key_name), 1, 0, 1);
	if (c < -1)
		return (int)c + 1;
	x->pass = 1;
	if ((rc = new_reader(rd, x)))
		return rc;
	while ((rc = advance(x, &broken)) == 1)
		;
	xmlFreeTextReader(x->reader);
	x->reader = NULL;
	if (rc == PIM_ELIMIT) {
		pim_recin_diag(rd, 1, 0, "too-many-columns", PIM_SEV_ERROR,
			       "too many columns");
		return PIM_EDATA;
	}
	if (rc)
		return rc;
	if (fseek(rd->f, 0, SEEK_SET) != 0)
		return PIM_EIO;
	rd->done = 0;
	x->pass = 2;
	x->currency[0] = '\0';
	return new_reader(rd, x);
}
