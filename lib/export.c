/*
 * export.c - pim_export: the selected products of a catalog, streamed in
 * key order into a role's view as CSV, JSON Lines, JSON or YAML, into
 * pim's XML exchange format, a Google Merchant Center feed (driven by a
 * YAML profile) or a BMEcat 2005 catalog. Also the typed JSON value writer
 * the pim command shares. Nothing here depends on the time of day, so the
 * same catalog always gives the same bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#include "catalog.h"
#include "export.h"
#include "mapping.h"
#include "yml.h"

/* ---- format names --------------------------------------------------------- */

static const char *const format_names[] = { "csv",  "jsonl",    "json",  "yaml",
					    "xml",  "merchant", "bmecat" };

int pim_export_format_find(pim_export_format *out, const char *name)
{
	for (size_t i = 0; i < sizeof format_names / sizeof *format_names; i++)
		if (name && !strcmp(name, format_names[i])) {
			*out = (pim_export_format)i;
			return 0;
		}
	return PIM_ENOTFOUND;
}

/* ---- typed JSON ------------------------------------------------------------- */

int pim_ex_json_string(pim_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	pim_buf_addc(b, '"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		const char *esc = NULL;
		char u[7];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		pim_buf_add(b, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\t': esc = "\\t"; break;
		case '\r': esc = "\\r"; break;
		default:
			memcpy(u, "\\u00", 4);
			u[4] = hex[c >> 4];
			u[5] = hex[c & 15];
			u[6] = '\0';
			esc = u;
		}
		pim_buf_adds(b, esc);
	}
	if (s)
		pim_buf_add(b, run, (size_t)(s - run));
	return pim_buf_addc(b, '"');
}

/* A canonical decimal: [-]digits[.digits], no leading zeros. */
int pim_ex_is_number(const char *s, size_t n)
{
	size_t i = 0, dots = 0;

	if (n && s[0] == '-')
		i++;
	if (i == n || s[i] < '0' || s[i] > '9')
		return 0;
	if (s[i] == '0' && i + 1 < n && s[i + 1] != '.')
		return 0;
	for (; i < n; i++) {
		if (s[i] == '.')
			dots++;
		else if (s[i] < '0' || s[i] > '9')
			return 0;
	}
	return dots <= 1 && s[n - 1] != '.';
}

/* "12.50 NOK" -> amount "12.50" and suffix "NOK"; 0 when it is not one. */
static int split_amount(const char *v, size_t *alen, const char **suffix)
{
	const char *sp = strrchr(v, ' ');

	if (!sp || !sp[1] || !pim_ex_is_number(v, (size_t)(sp - v)))
		return 0;
	*alen = (size_t)(sp - v);
	*suffix = sp + 1;
	return 1;
}

int pim_ex_json_value(pim_buf *b, pim_type type, const char *v)
{
	size_t alen;
	const char *suffix;

	if (!v)
		return pim_buf_adds(b, "null");
	switch (type) {
	case PIM_TYPE_INTEGER:
	case PIM_TYPE_NUMBER:
		if (pim_ex_is_number(v, strlen(v)))
			return pim_buf_adds(b, v);
		break;
	case PIM_TYPE_BOOLEAN:
		if (!strcmp(v, "true") || !strcmp(v, "false"))
			return pim_buf_adds(b, v);
		break;
	case PIM_TYPE_PRICE:
	case PIM_TYPE_MEASURE:
		if (!split_amount(v, &alen, &suffix))
			break;
		pim_buf_adds(b, "{\"amount\":");
		pim_buf_add(b, v, alen);
		pim_buf_adds(b, type == PIM_TYPE_PRICE ? ",\"currency\":"
						       : ",\"unit\":");
		pim_ex_json_string(b, suffix);
		return pim_buf_addc(b, '}');
	case PIM_TYPE_MULTISELECT: {
		const char *p = v;
		pim_buf part = PIM_BUF_INIT;
		int rc;
		pim_buf_addc(b, '[');
		while (*p) {
			const char *e = strchr(p, ',');
			size_t l = e ? (size_t)(e - p) : strlen(p);
			pim_buf_clear(&part);
			pim_buf_add(&part, p, l);
			if (p != v)
				pim_buf_addc(b, ',');
			pim_ex_json_string(b, part.data ? part.data : "");
			p += l + (e ? 1 : 0);
		}
		pim_buf_free(&part);
		rc = pim_buf_addc(b, ']');
		return rc;
	}
	default:
		break;
	}
	return pim_ex_json_string(b, v);
}

static int write_buf(FILE *out, pim_buf *b)
{
	int rc = 0;

	if (!b->data)
		return PIM_ENOMEM;
	if (b->len && fwrite(b->data, 1, b->len, out) != b->len)
		rc = PIM_EIO;
	pim_buf_free(b);
	return rc;
}

int pim_json_write_value(FILE *out, pim_type type, const char *value)
{
	pim_buf b = PIM_BUF_INIT;

	pim_ex_json_value(&b, type, value);
	return write_buf(out, &b);
}

int pim_json_write_string(FILE *out, const char *s)
{
	pim_buf b = PIM_BUF_INIT;

	pim_ex_json_string(&b, s);
	return write_buf(out, &b);
}

/* ---- the export's state ------------------------------------------------------- */

/* A merchant profile's item field: a template of literal text and
 * attribute values, and an optional map of its result. */
typedef struct tpl_part {
	char *text;   /* literal, or the placeholder as written */
	long col;     /* -1: literal; else the view column */
	char *code;   /* placeholder: the attribute (and @locale) */
	unsigned long line, col_pos;
} tpl_part;

typedef struct feed_field {
	const char *name;   /* "title" */
	int set;
	tpl_part *parts;
	size_t n_parts;
	char **map_from, **map_to;
	size_t n_map;
	const char *attr;   /* the attribute of its first placeholder */
} feed_field;

enum {
	F_ID, F_TITLE, F_DESCRIPTION, F_LINK, F_IMAGE_LINK, F_PRICE,
	F_SALE_PRICE, F_AVAILABILITY, F_BRAND, F_GTIN, F_MPN, F_CONDITION,
	F_GOOGLE_PRODUCT_CATEGORY, F_PRODUCT_TYPE, F_IDENTIFIER_EXISTS,
	F__COUNT
};

static const char *const field_names[F__COUNT] = {
	"id", "title", "description", "link", "image_link", "price",
	"sale_price", "availability", "brand", "gtin", "mpn", "condition",
	"google_product_category", "product_type", "identifier_exists"
};

typedef struct profile {
	yml_doc doc;
	char *text;
	const char *title, *link, *description, *locale;
	feed_field f[F__COUNT];
	int required[F__COUNT];
} profile;

typedef struct ex {
	pim_catalog *cat;
	const pim_export_options *o;
	FILE *out;
	pim_view *view;
	pim_view *sview;     /* the same columns without the role: the
				select then reads no completeness columns */
	size_t ncol;
	long key_col;        /* the key's view column, or -1 */
	const char *key_code;
	pim_export_stats st;
	pim_diag_fn diag;
	void *dctx;
	int rc;              /* a failure inside the callback */
	int stopped;         /* diag asked to stop */
	pim_buf line;        /* the product being written */
	pim_buf tmp;
	char delim;
	const char *eol;
	xmlTextWriterPtr w;
	xmlOutputBufferPtr xout;
	profile *prof;
	/* bmecat: view columns, -1 when absent */
	long c_name, c_desc, c_gtin, c_price, c_unit, c_moq;
	char *feed[F__COUNT];
} ex;

static int ex_io(ex *e)
{
	return pim_cat_error(e->cat, PIM_EIO, "writing the export: %s",
			     strerror(errno ? errno : EIO));
}

static int ex_flush_line(ex *e)
{
	if (!e->line.data && e->line.len == 0)
		return 0;
	if (!e->line.data)
		return pim_cat_error(e->cat, PIM_ENOMEM, "out of memory");
	if (e->out && e->line.len &&
	    fwrite(e->line.data, 1, e->line.len, e->out) != e->line.len)
		return ex_io(e);
	pim_buf_clear(&e->line);
	return 0;
}

/* ---- CSV ------------------------------------------------------------------- */

static int numeric_type(pim_type t)
{
	return t == PIM_TYPE_INTEGER || t == PIM_TYPE_NUMBER ||
	       t == PIM_TYPE_PRICE || t == PIM_TYPE_MEASURE;
}

/* A value a spreadsheet would run: = + - @ tab CR first; a number of a
 * numeric column ("-12.5", "-3.00 NOK") is a number, not a formula. */
static int is_formula(const char *s, pim_type t, int numeric)
{
	size_t alen;
	const char *suffix;

	if (!s[0] || !strchr("=+-@\t\r", s[0]))
		return 0;
	if (numeric && (pim_ex_is_number(s, strlen(s)) ||
			((t == PIM_TYPE_PRICE || t == PIM_TYPE_MEASURE) &&
			 split_amount(s, &alen, &suffix))))
		return 0;
	return 1;
}

static void csv_cell(ex *e, const char *s, pim_type t, int numeric)
{
	pim_buf *b = &e->line;
	int formula, quote;
	const char *p;

	if (!s)
		return;
	formula = !e->o->raw && is_formula(s, t, numeric);
	if (e->o->excel && numeric && (t == PIM_TYPE_NUMBER ||
				       t == PIM_TYPE_PRICE ||
				       t == PIM_TYPE_MEASURE) &&
	    strchr(s, '.')) {
		/* decimal comma: only in the amount */
		pim_buf_clear(&e->tmp);
		pim_buf_adds(&e->tmp, s);
		if (e->tmp.data) {
			char *dot = strchr(e->tmp.data, '.');
			const char *sp = strchr(e->tmp.data, ' ');
			if (dot && (!sp || dot < sp))
				*dot = ',';
			s = e->tmp.data;
		}
	}
	quote = formula || strchr(s, e->delim) || strpbrk(s, "\"\n\r");
	if (!quote) {
		pim_buf_adds(b, s);
		return;
	}
	pim_buf_addc(b, '"');
	if (formula)
		pim_buf_addc(b, '\'');
	for (; (p = strchr(s, '"')); s = p + 1) {
		pim_buf_add(b, s, (size_t)(p - s) + 1);
		pim_buf_addc(b, '"');
	}
	pim_buf_adds(b, s);
	pim_buf_addc(b, '"');
}

static int csv_begin(ex *e)
{
	if (e->o->excel)
		pim_buf_adds(&e->line, "\xEF\xBB\xBF");
	if (e->key_col < 0) {
		csv_cell(e, e->key_code, PIM_TYPE_TEXT, 0);
		if (e->ncol)
			pim_buf_addc(&e->line, e->delim);
	}
	for (size_t i = 0; i < e->ncol; i++) {
		const pim_view_column *c = pim_view_column_at(e->view, i);
		const char *h = c->name;
		if (i)
			pim_buf_addc(&e->line, e->delim);
		if (e->o->header_labels) {
			/* every locale shown: say which column is which */
			if (c->locale && !e->o->locale) {
				pim_buf t = PIM_BUF_INIT;
				pim_buf_printf(&t, "%s (%s)", c->label, c->locale);
				csv_cell(e, t.data ? t.data : "", PIM_TYPE_TEXT, 0);
				pim_buf_free(&t);
				continue;
			}
			h = c->label;
		}
		csv_cell(e, h, PIM_TYPE_TEXT, 0);
	}
	pim_buf_adds(&e->line, e->eol);
	return ex_flush_line(e);
}

static int csv_row(ex *e, const pim_product_row *p)
{
	if (e->key_col < 0) {
		csv_cell(e, p->key, PIM_TYPE_IDENTIFIER, 0);
		if (e->ncol)
			pim_buf_addc(&e->line, e->delim);
	}
	for (size_t i = 0; i < e->ncol; i++) {
		const pim_view_column *c = pim_view_column_at(e->view, i);
		if (i)
			pim_buf_addc(&e->line, e->delim);
		csv_cell(e, p->value[i], c->type, numeric_type(c->type));
	}
	pim_buf_adds(&e->line, e->eol);
	return ex_flush_line(e);
}

/* ---- JSON Lines and JSON ---------------------------------------------------- */

static void json_object(ex *e, const pim_product_row *p)
{
	pim_buf *b = &e->line;
	int first = 1;

	pim_buf_addc(b, '{');
	if (e->key_col < 0) {
		pim_ex_json_string(b, e->key_code);
		pim_buf_addc(b, ':');
		pim_ex_json_string(b, p->key);
		first = 0;
	}
	for (size_t i = 0; i < e->ncol; i++) {
		const pim_view_column *c = pim_view_column_at(e->view, i);
		if (!p->value[i])
			continue;
		if (!first)
			pim_buf_addc(b, ',');
		first = 0;
		pim_ex_json_string(b, c->name);
		pim_buf_addc(b, ':');
		pim_ex_json_value(b, c->type, p->value[i]);
	}
	pim_buf_addc(b, '}');
}

static int jsonl_row(ex *e, const pim_product_row *p)
{
	json_object(e, p);
	pim_buf_addc(&e->line, '\n');
	return ex_flush_line(e);
}

static int json_row(ex *e, const pim_product_row *p)
{
	pim_buf_adds(&e->line, e->st.written ? ",\n" : "[\n");
	json_object(e, p);
	return ex_flush_line(e);
}

static int json_end(ex *e)
{
	pim_buf_adds(&e->line, e->st.written ? "\n]\n" : "[]\n");
	return ex_flush_line(e);
}

/* ---- YAML ------------------------------------------------------------------- */

/* Text that YAML reads back as the same string when written plain, in
 * block and in flow context: letters, digits, inner spaces and a few
 * harmless marks, not starting like a number, and none of the words YAML
 * 1.1 takes for booleans or null. */
static int yaml_plain_ok(const char *s)
{
	static const char *const words[] = { "true",  "false", "yes", "no",
					     "on",    "off",   "y",   "n",
					     "null",  "nan",   "inf" };
	size_t n = strlen(s);

	if (!n || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	if ((s[0] >= '0' && s[0] <= '9') || strchr(".-+_/@(", s[0]))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80) {
			/* NEL, LS and PS are line breaks to YAML */
			if ((c == 0xC2 && (unsigned char)s[i + 1] == 0x85) ||
			    (c == 0xE2 && (unsigned char)s[i + 1] == 0x80 &&
			     ((unsigned char)s[i + 2] == 0xA8 ||
			      (unsigned char)s[i + 2] == 0xA9)) ||
			    (c == 0xEF && (unsigned char)s[i + 1] == 0xBB &&
			     (unsigned char)s[i + 2] == 0xBF))
				return 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr(" ._/-@()", c)))
			return 0;
	}
	for (size_t i = 0; i < sizeof words / sizeof *words; i++)
		if (pim_strcaseeq(s, words[i]))
			return 0;
	return 1;
}

static void yaml_scalar(pim_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;

	if (yaml_plain_ok(s)) {
		pim_buf_adds(b, s);
		return;
	}
	pim_buf_addc(b, '"');
	for (; *p; p++) {
		if (*p == '"' || *p == '\\') {
			pim_buf_addc(b, '\\');
			pim_buf_addc(b, (char)*p);
		} else if (*p == '\n') {
			pim_buf_adds(b, "\\n");
		} else if (*p == '\t') {
			pim_buf_adds(b, "\\t");
		} else if (*p == '\r') {
			pim_buf_adds(b, "\\r");
		} else if (*p < 0x20 || *p == 0x7F) {
			char x[5] = { '\\', 'x', hex[*p >> 4], hex[*p & 15], 0 };
			pim_buf_adds(b, x);
		} else if (p[0] == 0xC2 && p[1] == 0x85) {
			pim_buf_adds(b, "\\N");
			p++;
		} else if (p[0] == 0xE2 && p[1] == 0x80 &&
			   (p[2] == 0xA8 || p[2] == 0xA9)) {
			pim_buf_adds(b, p[2] == 0xA8 ? "\\L" : "\\P");
			p += 2;
		} else if (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
			pim_buf_adds(b, "\\uFEFF");
			p += 2;
		} else {
			pim_buf_addc(b, (char)*p);
		}
	}
	pim_buf_addc(b, '"');
}

static void yaml_value(pim_buf *b, pim_type type, const char *v)
{
	size_t alen;
	const char *suffix;

	switch (type) {
	case PIM_TYPE_INTEGER:
	case PIM_TYPE_NUMBER:
		if (pim_ex_is_number(v, strlen(v))) {
			pim_buf_adds(b, v);
			return;
		}
		break;
	case PIM_TYPE_BOOLEAN:
		if (!strcmp(v, "true") || !strcmp(v, "false")) {
			pim_buf_adds(b, v);
			return;
		}
		break;
	case PIM_TYPE_PRICE:
	case PIM_TYPE_MEASURE:
		if (!split_amount(v, &alen, &suffix))
			break;
		pim_buf_adds(b, "{amount: ");
		pim_buf_add(b, v, alen);
		pim_buf_adds(b, type == PIM_TYPE_PRICE ? ", currency: "
						       : ", unit: ");
		yaml_scalar(b, suffix);
		pim_buf_addc(b, '}');
		return;
	case PIM_TYPE_MULTISELECT: {
		const char *p = v;
		pim_buf part = PIM_BUF_INIT;
		pim_buf_addc(b, '[');
		while (*p) {
			const char *e = strchr(p, ',');
			size_t l = e ? (size_t)(e - p) : strlen(p);
			pim_buf_clear(&part);
			pim_buf_add(&part, p, l);
			if (p != v)
				pim_buf_adds(b, ", ");
			yaml_scalar(b, part.data ? part.data : "");
			p += l + (e ? 1 : 0);
		}
		pim_buf_free(&part);
		pim_buf_addc(b, ']');
		return;
	}
	default:
		break;
	}
	yaml_scalar(b, v);
}

static int yaml_row(ex *e, const pim_product_row *p)
{
	pim_buf *b = &e->line;
	const char *lead = "- ";

	if (e->key_col < 0) {
		pim_buf_adds(b, lead);
		yaml_scalar(b, e->key_code);
		pim_buf_adds(b, ": ");
		yaml_scalar(b, p->key);
		pim_buf_addc(b, '\n');
		lead = "  ";
	}
	for (size_t i = 0; i < e->ncol; i++) {
		const pim_view_column *c = pim_view_column_at(e->view, i);
		if (!p->value[i])
			continue;
		pim_buf_adds(b, lead);
		lead = "  ";
		yaml_scalar(b, c->name);
		pim_buf_adds(b, ": ");
		yaml_value(b, c->type, p->value[i]);
		pim_buf_addc(b, '\n');
	}
	if (lead[0] == '-')
		pim_buf_adds(b, "- {}\n");
	return ex_flush_line(e);
}

/* ---- XML writers (exchange format, merchant, bmecat) -------------------------- */

/* libxml2 writes through this, so that one FILE and its errors serve
 * every format. */
static int xml_write_cb(void *ctx, const char *buf, int len)
{
	ex *e = ctx;

	if (len > 0 && fwrite(buf, 1, (size_t)len, e->out) != (size_t)len)
		return -1;
	return len;
}

static int xml_open(ex *e)
{
	if (!e->out)
		return 0;
	e->xout = xmlOutputBufferCreateIO(xml_write_cb, NULL, e, NULL);
	if (!e->xout || !(e->w = xmlNewTextWriter(e->xout)))
		return pim_cat_error(e->cat, PIM_ENOMEM, "out of memory");
	xmlTextWriterSetIndent(e->w, 1);
	xmlTextWriterSetIndentString(e->w, BAD_CAST "  ");
	if (xmlTextWriterStartDocument(e->w, "1.0", "UTF-8", NULL) < 0)
		return ex_io(e);
	return 0;
}

/* The characters XML 1.0 cannot hold become U+FFFD. */
static const char *xml_text(ex *e, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	int clean = 1;

	for (size_t i = 0; i < len; i++)
		if ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') ||
		    (p[i] == 0xEF && i + 2 < len && p[i + 1] == 0xBF &&
		     p[i + 2] >= 0xBE))
			clean = 0;
	pim_buf_clear(&e->tmp);
	if (clean) {
		pim_buf_add(&e->tmp, s, len);
	} else {
		for (size_t i = 0; i < len; i++) {
			if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' &&
			    p[i] != '\r') {
				pim_buf_adds(&e->tmp, "\xEF\xBF\xBD");
			} else if (p[i] == 0xEF && i + 2 < len &&
				   p[i + 1] == 0xBF && p[i + 2] >= 0xBE) {
				pim_buf_adds(&e->tmp, "\xEF\xBF\xBD");
				i += 2;
			} else {
				pim_buf_addc(&e->tmp, (char)p[i]);
			}
		}
	}
	return e->tmp.data ? e->tmp.data : "";
}

static int xw_elem(ex *e, const char *name, const char *text)
{
	if (xmlTextWriterWriteElement(e->w, BAD_CAST name,
				      BAD_CAST xml_text(e, text, strlen(text))) < 0)
		return -1;
	return 0;
}

static int xml_end(ex *e)
{
	if (!e->w)
		return 0;
	if (xmlTextWriterEndDocument(e->w) < 0 || xmlTextWriterFlush(e->w) < 0)
		return ex_io(e);
	return 0;
}

/* pim-xml(5) */

static int code_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 64 || !(*s >= 'a' && *s <= 'z'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_'))
			return 0;
	return 1;
}

static int suffix_ok(const char *s, int currency)
{
	size_t n = strlen(s);

	if (currency ? n != 3 : (n < 2 || n > 3))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (!currency && *s >= '0' &&
						   *s <= '9')))
			return 0;
	return 1;
}

static int xml_begin(ex *e)
{
	int rc;

	if ((rc = xml_open(e)) || !e->w)
		return rc;
	if (xmlTextWriterStartElement(e->w, BAD_CAST "products") < 0 ||
	    xmlTextWriterWriteAttribute(e->w, BAD_CAST "xmlns",
					BAD_CAST "urn:pim:products:1") < 0 ||
	    xmlTextWriterWriteAttribute(e->w, BAD_CAST "schema",
					BAD_CAST e->cat->schema->name) < 0)
		return ex_io(e);
	return 0;
}

static int xml_value(ex *e, const pim_view_column *c, const char *text,
		     size_t len, const char *cur, const char *unit)
{
	xmlTextWriterPtr w = e->w;
	const char *t;

	if (xmlTextWriterStartElement(w, BAD_CAST "value") < 0 ||
	    xmlTextWriterWriteAttribute(w, BAD_CAST "attribute",
					BAD_CAST c->code) < 0 ||
	    (c->locale && xmlTextWriterWriteAttribute(w, BAD_CAST "locale",
						      BAD_CAST c->locale) < 0) ||
	    (cur && xmlTextWriterWriteAttribute(w, BAD_CAST "currency",
						BAD_CAST cur) < 0) ||
	    (unit && xmlTextWriterWriteAttribute(w, BAD_CAST "unit",
						 BAD_CAST unit) < 0))
		return -1;
	t = xml_text(e, text, len);
	if (*t && xmlTextWriterWriteString(w, BAD_CAST t) < 0)
		return -1;
	return xmlTextWriterEndElement(w) < 0 ? -1 : 0;
}

static int xml_row(ex *e, const pim_product_row *p)
{
	xmlTextWriterPtr w = e->w;

	if (!w)
		return 0;
	if (xmlTextWriterStartElement(w, BAD_CAST "product") < 0 ||
	    xmlTextWriterWriteAttribute(w, BAD_CAST "sku",
					BAD_CAST xml_text(e, p->key,
							  strlen(p->key))) < 0 ||
	    (code_ok(p->family) &&
	     xmlTextWriterWriteAttribute(w, BAD_CAST "family",
					 BAD_CAST p->family) < 0))
		return ex_io(e);
	for (size_t i = 0; i < e->ncol; i++) {
		const pim_view_column *c = pim_view_column_at(e->view, i);
		const char *v = p->value[i], *suffix;
		size_t alen;
		int r = 0;
		if (!v || (long)i == e->key_col)
			continue;
		if ((c->type == PIM_TYPE_PRICE || c->type == PIM_TYPE_MEASURE) &&
		    split_amount(v, &alen, &suffix) &&
		    suffix_ok(suffix, c->type == PIM_TYPE_PRICE)) {
			char sfx[4];
			memcpy(sfx, suffix, strlen(suffix) + 1);
			r = xml_value(e, c, v, alen,
				      c->type == PIM_TYPE_PRICE ? sfx : NULL,
				      c->type == PIM_TYPE_MEASURE ? sfx : NULL);
		} else if (c->type == PIM_TYPE_MULTISELECT) {
			/* one <value> per option */
			const char *q = v;
			while (*q && r == 0) {
				const char *comma = strchr(q, ',');
				size_t l = comma ? (size_t)(comma - q) : strlen(q);
				r = xml_value(e, c, q, l, NULL, NULL);
				q += l + (comma ? 1 : 0);
			}
		} else {
			r = xml_value(e, c, v, strlen(v), NULL, NULL);
		}
		if (r)
			return ex_io(e);
	}
	if (xmlTextWriterEndElement(w) < 0)
		return ex_io(e);
	return 0;
}

/* ---- products left out ---------------------------------------------------------- */

static int feed_skip(ex *e, const char *key, const char *attr,
		     const char *value, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Reports one reason to leave a product out; 1 when diag says stop. */
static int feed_skip(ex *e, const char *key, const char *attr,
		     const char *value, const char *fmt, ...)
{
	char msg[512];
	pim_diag d;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!e->diag)
		return 0;
	memset(&d, 0, sizeof d);
	d.key = key;
	d.attribute = attr;
	d.code = "feed";
	d.severity = PIM_SEV_ERROR;
	d.message = msg;
	d.value = value;
	if (e->diag(&d, e->dctx)) {
		e->stopped = 1;
		return 1;
	}
	return 0;
}

/* ---- merchant: the profile -------------------------------------------------------- */

static int prof_err(ex *e, const char *file, const yml_node *n,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int prof_err(ex *e, const char *file, const yml_node *n,
		    const char *fmt, ...)
{
	char msg[512];
	pim_diag d;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	memset(&d, 0, sizeof d);
	d.file = file;
	d.line = n ? n->line : 0;
	d.col = n ? n->col : 0;
	d.code = "profile";
	d.severity = PIM_SEV_ERROR;
	d.message = msg;
	if (e->diag)
		e->diag(&d, e->dctx);
	pim_cat_error(e->cat, PIM_EPARSE, "%s:%lu:%lu: %s", file, d.line, d.col,
		      msg);
	return PIM_EPARSE;
}

static void profile_free(profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < F__COUNT; i++) {
		feed_field *f = &p->f[i];
		for (size_t k = 0; k < f->n_parts; k++) {
			pim_free(f->parts[k].text);
			pim_free(f->parts[k].code);
		}
		pim_free(f->parts);
		pim_free(f->map_from);
		pim_free(f->map_to);
	}
	yml_free(&p->doc);
	pim_free(p->text);
	pim_free(p);
}

static const char *scalar(const yml_node *n)
{
	return n && n->kind == YML_SCALAR ? n->str : NULL;
}

static int add_part(feed_field *f, const char *text, size_t len, int ph,
		    unsigned long line, unsigned long col)
{
	tpl_part *np = pim_realloc(f->parts, (f->n_parts + 1) * sizeof *np);
	tpl_part *t;

	if (!np)
		return PIM_ENOMEM;
	f->parts = np;
	t = &f->parts[f->n_parts++];
	memset(t, 0, sizeof *t);
	t->col = -1;
	t->line = line;
	t->col_pos = col;
	if (!(t->text = pim_strndup(text, len)))
		return PIM_ENOMEM;
	if (ph && !(t->code = pim_strndup(text, len)))
		return PIM_ENOMEM;
	return 0;
}

/* "https://shop.example/p/{sku}": literal text and {code} or
 * {code@locale} placeholders; {{ and }} are literal braces. */
static int parse_template(ex *e, const char *file, feed_field *f,
			  const yml_node *n)
{
	const char *s = n->str;
	pim_buf lit = PIM_BUF_INIT;
	int rc = 0;

	while (*s && rc == 0) {
		if ((s[0] == '{' && s[1] == '{') || (s[0] == '}' && s[1] == '}')) {
			pim_buf_addc(&lit, s[0]);
			s += 2;
		} else if (s[0] == '{') {
			const char *end = strchr(s, '}');
			if (!end || end == s + 1) {
				rc = prof_err(e, file, n,
					      "field '%s': an unclosed or "
					      "empty '{' (write {{ for a brace)",
					      f->name);
				break;
			}
			if (lit.len)
				rc = add_part(f, lit.data, lit.len, 0, n->line,
					      n->col);
			pim_buf_clear(&lit);
			if (rc == 0)
				rc = add_part(f, s + 1, (size_t)(end - s - 1), 1,
					      n->line, n->col);
			s = end + 1;
		} else if (s[0] == '}') {
			rc = prof_err(e, file, n,
				      "field '%s': a '}' without '{' (write }} "
				      "for a brace)",
				      f->name);
		} else {
			pim_buf_addc(&lit, *s++);
		}
	}
	if (rc == 0 && lit.len)
		rc = add_part(f, lit.data, lit.len, 0, n->line, n->col);
	if (rc == 0 && lit.len && !lit.data)
		rc = PIM_ENOMEM;
	pim_buf_free(&lit);
	return rc;
}

static int parse_map(ex *e, const char *file, feed_field *f, const yml_node *m)
{
	if (m->kind != YML_MAP)
		return prof_err(e, file, m,
				"values of '%s': expected a map of stored value "
				"to feed value",
				f->name);
	f->map_from = pim_calloc(m->n + 1, sizeof *f->map_from);
	f->map_to = pim_calloc(m->n + 1, sizeof *f->map_to);
	if (!f->map_from || !f->map_to)
		return PIM_ENOMEM;
	for (size_t i = 0; i < m->n; i++) {
		const char *k = scalar(m->items[2 * i]);
		const char *v = scalar(m->items[2 * i + 1]);
		if (!k || !v)
			return prof_err(e, file, m->items[2 * i],
					"values of '%s': each entry maps a "
					"text to a text",
					f->name);
		f->map_from[f->n_map] = (char *)k;
		f->map_to[f->n_map++] = (char *)v;
	}
	return 0;
}

static long field_find(const char *name)
{
	for (long i = 0; i < F__COUNT; i++)
		if (!strcmp(field_names[i], name))
			return i;
	return -1;
}

/* Checks the placeholders against the schema and builds the list of the
 * view's columns. */
static int profile_columns(ex *e, const char *file, pim_buf *cols)
{
	const pim_schema *s = e->cat->schema;
	profile *p = e->prof;

	for (size_t i = 0; i < F__COUNT; i++) {
		feed_field *f = &p->f[i];
		for (size_t k = 0; k < f->n_parts; k++) {
			tpl_part *t = &f->parts[k];
			char *at;
			long ai;
			yml_node pos;
			if (!t->code)
				continue;
			memset(&pos, 0, sizeof pos);
			pos.line = t->line;
			pos.col = t->col_pos;
			at = strchr(t->code, '@');
			if (at)
				*at = '\0';
			ai = pim_schema_attribute_find(s, t->code);
			if (ai < 0)
				return prof_err(e, file, &pos,
						"field '%s': the schema has no "
						"attribute '%s'",
						f->name, t->code);
			if (at && !s->attrs[ai].localizable)
				return prof_err(e, file, &pos,
						"field '%s': '%s' is not "
						"localizable",
						f->name, t->code);
			if (at && !pim_schema_locale(s, at + 1))
				return prof_err(e, file, &pos,
						"field '%s': '%s' is not one of "
						"the schema's locales",
						f->name, at + 1);
			if (!f->attr)
				f->attr = s->attrs[ai].code;
			if (at)
				*at = '@';
			if (cols->len)
				pim_buf_addc(cols, ',');
			pim_buf_adds(cols, t->code);
		}
	}
	return cols->len && !cols->data ? PIM_ENOMEM : 0;
}

static int profile_load(ex *e, const char *path)
{
	const char *file = path ? path : "merchant-profile.yaml (built in)";
	profile *p;
	const yml_node *root, *items, *ch, *vals, *req;
	size_t len;
	int rc;

	if (!(p = pim_calloc(1, sizeof *p)))
		return pim_cat_error(e->cat, PIM_ENOMEM, "out of memory");
	e->prof = p;
	for (size_t i = 0; i < F__COUNT; i++)
		p->f[i].name = field_names[i];
	if (path) {
		char err[256];
		rc = yml_read_file(&p->text, &len, path, 1 << 20, err, sizeof err);
		if (rc)
			return pim_cat_error(e->cat,
					     rc == PIM_ENOMEM ? rc : PIM_ENOTFOUND,
					     "--profile: %s: %s", path, err);
	} else {
		len = pim_merchant_profile_len;
		if (!(p->text = pim_strndup(pim_merchant_profile, len)))
			return pim_cat_error(e->cat, PIM_ENOMEM, "out of memory");
	}
	rc = yml_parse(&p->doc, file, p->text, len, e->diag, e->dctx);
	if (rc == PIM_EPARSE)
		return pim_cat_error(e->cat, rc, "%s: not a valid YAML file", file);
	if (rc)
		return pim_cat_error(e->cat, rc, "out of memory");
	root = p->doc.root;
	if (!root || root->kind != YML_MAP)
		return prof_err(e, file, root, "a profile is a map with "
				"'merchant: 1' and 'items:'");
	if (!scalar(yml_get(root, "merchant")) ||
	    strcmp(scalar(yml_get(root, "merchant")), "1"))
		return prof_err(e, file, root,
				"expected 'merchant: 1' (the profile format's "
				"version)");
	for (size_t i = 0; i < root->n; i++) {
		const char *k = scalar(root->items[2 * i]);
		if (!k || (strcmp(k, "merchant") && strcmp(k, "channel") &&
			   strcmp(k, "locale") && strcmp(k, "items") &&
			   strcmp(k, "values") && strcmp(k, "required")))
			return prof_err(e, file, root->items[2 * i],
					"unknown key '%s' (expected merchant, "
					"channel, locale, items, values, "
					"required)",
					k ? k : "?");
	}
	ch = yml_get(root, "channel");
	if (ch && ch->kind != YML_MAP)
		return prof_err(e, file, ch,
				"'channel' is a map of title, link, description");
	p->title = scalar(yml_get(ch, "title"));
	p->link = scalar(yml_get(ch, "link"));
	p->description = scalar(yml_get(ch, "description"));
	if (!p->title)
		p->title = e->cat->schema->name;
	if (!p->link)
		p->link = "";
	if (!p->description)
		p->description = "";
	p->locale = scalar(yml_get(root, "locale"));
	if (p->locale && !pim_schema_locale(e->cat->schema, p->locale))
		return prof_err(e, file, yml_get(root, "locale"),
				"'%s' is not one of the schema's locales",
				p->locale);
	items = yml_get(root, "items");
	if (!items || items->kind != YML_MAP)
		return prof_err(e, file, items ? items : root,
				"'items' is a map of feed field to template, "
				"such as title: \"{name}\"");
	for (size_t i = 0; i < items->n; i++) {
		const yml_node *kn = items->items[2 * i];
		const yml_node *vn = items->items[2 * i + 1];
		const char *k = scalar(kn);
		long fi = k ? field_find(k) : -1;
		if (fi < 0)
			return prof_err(e, file, kn,
					"unknown feed field '%s' (id, title, "
					"description, link, image_link, price, "
					"sale_price, availability, brand, gtin, "
					"mpn, condition, google_product_category, "
					"product_type, identifier_exists)",
					k ? k : "?");
		if (!scalar(vn))
			return prof_err(e, file, vn,
					"field '%s': expected a text such as "
					"\"{code}\"",
					k);
		p->f[fi].set = 1;
		if ((rc = parse_template(e, file, &p->f[fi], vn)))
			return rc == PIM_ENOMEM ? pim_cat_error(e->cat, rc,
								"out of memory")
						: rc;
	}
	vals = yml_get(root, "values");
	if (vals && vals->kind != YML_MAP)
		return prof_err(e, file, vals,
				"'values' is a map of feed field to a map of "
				"values");
	for (size_t i = 0; vals && i < vals->n; i++) {
		const char *k = scalar(vals->items[2 * i]);
		long fi = k ? field_find(k) : -1;
		if (fi < 0)
			return prof_err(e, file, vals->items[2 * i],
					"values: unknown feed field '%s'",
					k ? k : "?");
		if ((rc = parse_map(e, file, &p->f[fi], vals->items[2 * i + 1])))
			return rc == PIM_ENOMEM ? pim_cat_error(e->cat, rc,
								"out of memory")
						: rc;
	}
	/* what Google requires of every item */
	req = yml_get(root, "required");
	if (req) {
		if (req->kind != YML_SEQ)
			return prof_err(e, file, req,
					"'required' is a list of feed fields");
		for (size_t i = 0; i < req->n; i++) {
			const char *k = scalar(req->items[i]);
			long fi = k ? field_find(k) : -1;
			if (fi < 0)
				return prof_err(e, file, req->items[i],
						"required: unknown feed field "
						"'%s'",
						k ? k : "?");
			p->required[fi] = 1;
		}
	} else {
		static const int def[] = { F_ID, F_TITLE, F_DESCRIPTION, F_LINK,
					   F_IMAGE_LINK, F_PRICE,
					   F_AVAILABILITY };
		for (size_t i = 0; i < sizeof def / sizeof *def; i++)
			p->required[def[i]] = 1;
	}
	p->required[F_ID] = 1;
	if (!p->f[F_ID].set)
		return prof_err(e, file, items, "items: 'id' is missing "
				"(usually id: \"{sku}\")");
	return 0;
}

/* Binds every placeholder to its view column. */
static int profile_bind(ex *e)
{
	const char *vloc = e->o->locale ? e->o->locale : e->prof->locale;

	if (!vloc)
		vloc = e->cat->schema->n_locales ? e->cat->schema->locales[0]
						 : NULL;
	for (size_t i = 0; i < F__COUNT; i++) {
		feed_field *f = &e->prof->f[i];
		for (size_t k = 0; k < f->n_parts; k++) {
			tpl_part *t = &f->parts[k];
			const char *at;
			size_t clen;
			if (!t->code)
				continue;
			at = strchr(t->code, '@');
			clen = at ? (size_t)(at - t->code) : strlen(t->code);
			for (size_t c = 0; c < e->ncol; c++) {
				const pim_view_column *vc =
					pim_view_column_at(e->view, c);
				if (strlen(vc->code) != clen ||
				    strncmp(vc->code, t->code, clen))
					continue;
				if (vc->locale &&
				    strcmp(vc->locale, at ? at + 1 : vloc))
					continue;
				t->col = (long)c;
				break;
			}
			if (t->col < 0)
				return pim_cat_error(e->cat, PIM_EINVALID,
						     "profile: no column for "
						     "'%s'",
						     t->code);
		}
	}
	return 0;
}

/* ---- merchant: items ------------------------------------------------------------ */

static int url_field(int fi)
{
	return fi == F_LINK || fi == F_IMAGE_LINK;
}

/* The field's text for a product, into *out (owned); NULL when a
 * placeholder is empty. In links, values are percent-encoded. */
static int field_text(ex *e, int fi, const pim_product_row *p, char **out)
{
	feed_field *f = &e->prof->f[fi];
	pim_buf b = PIM_BUF_INIT;

	*out = NULL;
	for (size_t k = 0; k < f->n_parts; k++) {
		const tpl_part *t = &f->parts[k];
		const char *v;
		if (t->col < 0) {
			pim_buf_adds(&b, t->text);
			continue;
		}
		v = p->value[t->col];
		if (!v) {
			pim_buf_free(&b);
			return 0;
		}
		if (!url_field(fi)) {
			pim_buf_adds(&b, v);
			continue;
		}
		for (const unsigned char *q = (const unsigned char *)v; *q; q++) {
			if ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
			    (*q >= '0' && *q <= '9') || strchr("-._~", *q))
				pim_buf_addc(&b, (char)*q);
			else
				pim_buf_printf(&b, "%%%02X", *q);
		}
	}
	if (!b.data)
		b.data = pim_strdup(""), b.len = 0;
	if (!b.data)
		return PIM_ENOMEM;
	for (size_t m = 0; m < f->n_map; m++)
		if (!strcmp(b.data, f->map_from[m])) {
			pim_buf_clear(&b);
			pim_buf_adds(&b, f->map_to[m]);
			break;
		}
	if (!b.data)
		return PIM_ENOMEM;
	if (!*b.data) {
		pim_buf_free(&b);
		return 0;
	}
	*out = pim_buf_detach(&b);
	return *out ? 0 : PIM_ENOMEM;
}

/* "1299 NOK" -> "1299.00 NOK"; NULL when it is not an amount. */
static char *feed_price(const char *v)
{
	size_t alen;
	const char *suffix, *dot;
	pim_buf b = PIM_BUF_INIT;

	if (!split_amount(v, &alen, &suffix) || !suffix_ok(suffix, 1))
		return NULL;
	pim_buf_add(&b, v, alen);
	dot = memchr(v, '.', alen);
	if (!dot)
		pim_buf_adds(&b, ".00");
	else if (alen - (size_t)(dot - v) == 2)
		pim_buf_addc(&b, '0');
	pim_buf_addc(&b, ' ');
	pim_buf_adds(&b, suffix);
	return pim_buf_detach(&b);
}

static int utf8_chars_over(const char *s, size_t max)
{
	return pim_utf8_count(s, strlen(s)) > max;
}

static const char *fattr(ex *e, int fi)
{
	return e->prof->f[fi].attr ? e->prof->f[fi].attr : field_names[fi];
}

/* Builds the item's fields into e->feed; returns 1 when the product
 * cannot be in the feed (each reason reported), 0, or a negative code. */
static int merchant_fields(ex *e, const pim_product_row *p)
{
	char **v = e->feed;
	int bad = 0, rc;
	static const char *const avail[] = { "in stock", "out of stock",
					     "preorder", "backorder" };

	for (int i = 0; i < F__COUNT; i++) {
		pim_free(v[i]);
		v[i] = NULL;
		if (e->prof->f[i].set && (rc = field_text(e, i, p, &v[i])))
			return pim_cat_error(e->cat, rc, "out of memory");
	}
	for (int i = 0; i < F__COUNT && !e->stopped; i++)
		if (e->prof->required[i] && !v[i] && i != F_IDENTIFIER_EXISTS) {
			bad = 1;
			feed_skip(e, p->key, fattr(e, i), NULL,
				  "g:%s is required%s%s%s", field_names[i],
				  e->prof->f[i].attr ? " and " : "",
				  e->prof->f[i].attr ? e->prof->f[i].attr : "",
				  e->prof->f[i].attr ? " is empty"
						     : " and the profile has none");
		}
	if (v[F_ID] && utf8_chars_over(v[F_ID], 50) && !e->stopped) {
		bad = 1;
		feed_skip(e, p->key, fattr(e, F_ID), v[F_ID],
			  "g:id is longer than 50 characters");
	}
	if (v[F_TITLE] && utf8_chars_over(v[F_TITLE], 150) && !e->stopped) {
		bad = 1;
		feed_skip(e, p->key, fattr(e, F_TITLE), NULL,
			  "g:title is longer than 150 characters");
	}
	if (v[F_DESCRIPTION] && utf8_chars_over(v[F_DESCRIPTION], 5000) &&
	    !e->stopped) {
		bad = 1;
		feed_skip(e, p->key, fattr(e, F_DESCRIPTION), NULL,
			  "g:description is longer than 5000 characters");
	}
	for (int i = F_LINK; i <= F_IMAGE_LINK && !e->stopped; i++)
		if (v[i] && strncmp(v[i], "https://", 8) &&
		    strncmp(v[i], "http://", 7)) {
			bad = 1;
			feed_skip(e, p->key, fattr(e, i), v[i],
				  "g:%s is not an http or https URL",
				  field_names[i]);
		}
	for (int i = F_PRICE; i <= F_SALE_PRICE && !e->stopped; i++) {
		char *fp;
		if (!v[i])
			continue;
		if (!(fp = feed_price(v[i]))) {
			bad = 1;
			feed_skip(e, p->key, fattr(e, i), v[i],
				  "g:%s is not an amount with a currency",
				  field_names[i]);
			continue;
		}
		if (fp[0] == '-' || strspn(fp, "0.") == strcspn(fp, " ")) {
			bad = 1;
			feed_skip(e, p->key, fattr(e, i), v[i],
				  "g:%s must be more than 0", field_names[i]);
		}
		pim_free(v[i]);
		v[i] = fp;
	}
	if (v[F_AVAILABILITY] && !e->stopped) {
		int ok = 0;
		for (size_t k = 0; k < 4; k++)
			ok |= !strcmp(v[F_AVAILABILITY], avail[k]);
		if (!ok) {
			bad = 1;
			feed_skip(e, p->key, fattr(e, F_AVAILABILITY),
				  v[F_AVAILABILITY],
				  "g:availability must be in stock, out of "
				  "stock, preorder or backorder");
		}
	}
	if (v[F_CONDITION] && strcmp(v[F_CONDITION], "new") &&
	    strcmp(v[F_CONDITION], "refurbished") &&
	    strcmp(v[F_CONDITION], "used") && !e->stopped) {
		bad = 1;
		feed_skip(e, p->key, fattr(e, F_CONDITION), v[F_CONDITION],
			  "g:condition must be new, refurbished or used");
	}
	if (v[F_GTIN] && !e->stopped) {
		size_t n = strlen(v[F_GTIN]);
		if (strspn(v[F_GTIN], "0123456789") != n ||
		    (n != 8 && n != 12 && n != 13 && n != 14)) {
			bad = 1;
			feed_skip(e, p->key, fattr(e, F_GTIN), v[F_GTIN],
				  "g:gtin must be 8, 12, 13 or 14 digits");
		}
	}
	if (!e->prof->f[F_IDENTIFIER_EXISTS].set) {
		/* Google: an item has identifiers when it has a GTIN, or a
		 * brand and an MPN */
		int has = v[F_GTIN] || (v[F_BRAND] && v[F_MPN]);
		if (!(v[F_IDENTIFIER_EXISTS] = pim_strdup(has ? "yes" : "no")))
			return pim_cat_error(e->cat, PIM_ENOMEM, "out of memory");
	} else if (v[F_IDENTIFIER_EXISTS] &&
		   strcmp(v[F_IDENTIFIER_EXISTS], "yes") &&
		   strcmp(v[F_IDENTIFIER_EXISTS], "no") && !e->stopped) {
		bad = 1;
		feed_skip(e, p->key, fattr(e, F_IDENTIFIER_EXISTS),
			  v[F_IDENTIFIER_EXISTS],
			  "g:identifier_exists must be yes or no");
	}
	return bad;
}

static int merchant_begin(ex *e)
{
	int rc;

	if ((rc = xml_open(e)) || !e->w)
		return rc;
	if (xmlTextWriterStartElement(e->w, BAD_CAST "rss") < 0 ||
	    xmlTextWriterWriteAttribute(e->w, BAD_CAST "version",
					BAD_CAST "2.0") < 0 ||
	    xmlTextWriterWriteAttribute(e->w, BAD_CAST "xmlns:g",
					BAD_CAST "http://base.google.com/ns/1.0") < 0 ||
	    xmlTextWriterStartElement(e->w, BAD_CAST "channel") < 0 ||
	    xw_elem(e, "title", e->prof->title) ||
	    xw_elem(e, "link", e->prof->link) ||
	    xw_elem(e, "description", e->prof->description))
		return ex_io(e);
	return 0;
}

static int merchant_row(ex *e, const pim_product_row *p)
{
	int rc = merchant_fields(e, p);

	if (rc < 0)
		return rc;
	if (rc > 0) {
		e->st.skipped++;
		return 0;
	}
	if (!e->w)
		return 1; /* written */
	if (xmlTextWriterStartElement(e->w, BAD_CAST "item") < 0)
		return ex_io(e);
	for (int i = 0; i < F__COUNT; i++) {
		char name[40];
		if (!e->feed[i])
			continue;
		snprintf(name, sizeof name, "g:%s", field_names[i]);
		if (xw_elem(e, name, e->feed[i]))
			return ex_io(e);
	}
	if (xmlTextWriterEndElement(e->w) < 0)
		return ex_io(e);
	return 1;
}

/* ---- BMEcat ------------------------------------------------------------------- */

/* ISO 639-2 codes BMEcat wants, for the locales' languages. */
static const char *iso639_2(const char *locale)
{
	static const char *const t[][2] = {
		{ "nb", "nob" }, { "nn", "nno" }, { "no", "nor" }, { "en", "eng" },
		{ "de", "deu" }, { "sv", "swe" }, { "da", "dan" }, { "fi", "fin" },
		{ "fr", "fra" }, { "es", "spa" }, { "it", "ita" }, { "nl", "nld" },
		{ "pl", "pol" }, { "pt", "por" }, { "is", "isl" }, { "et", "est" },
		{ "cs", "ces" }, { "ja", "jpn" }, { "zh", "zho" }, { "ru", "rus" }
	};
	for (size_t i = 0; locale && i < sizeof t / sizeof *t; i++)
		if (!strncmp(locale, t[i][0], 2) &&
		    (locale[2] == '_' || locale[2] == '\0'))
			return t[i][1];
	return "und";
}

/* UN/ECE Rec 20 order units for the usual select options. */
static const char *order_unit(const char *v)
{
	static const char *const t[][2] = {
		{ "pcs", "C62" }, { "piece", "C62" }, { "stk", "C62" },
		{ "box", "BX" },  { "pal", "PF" },    { "pallet", "PF" },
		{ "pack", "PA" }, { "set", "SET" },   { "pair", "PR" },
		{ "kg", "KGM" },  { "m", "MTR" },     { "l", "LTR" }
	};
	if (!v)
		return "C62";
	for (size_t i = 0; i < sizeof t / sizeof *t; i++)
		if (pim_strcaseeq(v, t[i][0]))
			return t[i][1];
	return suffix_ok(v, 0) ? v : "C62";
}

typedef struct newest {
	char at[64];
} newest;

static int on_batch(const pim_batch_info *b, void *ctx)
{
	newest *n = ctx;
	const char *t = b->finished_at ? b->finished_at : b->started_at;

	if (t)
		snprintf(n->at, sizeof n->at, "%s", t);
	return 1;
}

static long col_of(ex *e, const char *code, int type)
{
	for (size_t i = 0; i < e->ncol; i++) {
		const pim_view_column *c = pim_view_column_at(e->view, i);
		if (code ? !strcmp(c->code, code) : (int)c->type == type)
			return (long)i;
	}
	return -1;
}

/* The columns BMEcat takes, by convention (pim-export(1)). */
static int bmecat_columns(ex *e, pim_buf *cols)
{
	const pim_schema *s = e->cat->schema;
	const char *name = NULL, *desc = NULL, *gtin = NULL, *price = NULL,
		   *unit = NULL, *moq = NULL;

	for (size_t i = 0; i < s->n_attrs; i++) {
		const pim_attr *a = &s->attrs[i];
		if (!strcmp(a->code, "name"))
			name = a->code;
		else if (!strcmp(a->code, "description"))
			desc = a->code;
		else if (!strcmp(a->code, "unit") && a->type == PIM_TYPE_SELECT)
			unit = a->code;
		else if (!strcmp(a->code, "moq") && a->type == PIM_TYPE_INTEGER)
			moq = a->code;
		if (a->type == PIM_TYPE_GTIN && !gtin)
			gtin = a->code;
		if (a->type == PIM_TYPE_PRICE &&
		    (!price || !strcmp(a->code, "list_price")))
			price = a->code;
	}
	pim_buf_adds(cols, s->attrs[s->key].code);
	if (name)
		pim_buf_printf(cols, ",%s", name);
	if (desc)
		pim_buf_printf(cols, ",%s", desc);
	if (gtin)
		pim_buf_printf(cols, ",%s", gtin);
	if (price)
		pim_buf_printf(cols, ",%s", price);
	if (unit)
		pim_buf_printf(cols, ",%s", unit);
	if (moq)
		pim_buf_printf(cols, ",%s", moq);
	return cols->data ? 0 : PIM_ENOMEM;
}

static int bmecat_begin(ex *e, const char *locale)
{
	const pim_schema *s = e->cat->schema;
	newest nb;
	int rc;

	memset(&nb, 0, sizeof nb);
	e->c_name = col_of(e, "name", 0);
	e->c_desc = col_of(e, "description", 0);
	e->c_gtin = col_of(e, NULL, PIM_TYPE_GTIN);
	e->c_price = col_of(e, NULL, PIM_TYPE_PRICE);
	e->c_unit = col_of(e, "unit", 0);
	e->c_moq = col_of(e, "moq", 0);
	if ((rc = xml_open(e)) || !e->w)
		return rc;
	/* the date of the newest batch: the catalog's, not the clock's */
	if ((rc = pim_catalog_log(e->cat, 1, on_batch, &nb)))
		return rc;
	if (xmlTextWriterStartElement(e->w, BAD_CAST "BMECAT") < 0 ||
	    xmlTextWriterWriteAttribute(e->w, BAD_CAST "version",
					BAD_CAST "2005") < 0 ||
	    xmlTextWriterWriteAttribute(e->w, BAD_CAST "xmlns",
					BAD_CAST "http://www.bmecat.org/bmecat/2005") < 0 ||
	    xmlTextWriterStartElement(e->w, BAD_CAST "HEADER") < 0 ||
	    xmlTextWriterStartElement(e->w, BAD_CAST "GENERATOR_INFO") < 0 ||
	    xmlTextWriterWriteString(e->w, BAD_CAST "pim") < 0 ||
	    xmlTextWriterEndElement(e->w) < 0 ||
	    xmlTextWriterStartElement(e->w, BAD_CAST "CATALOG") < 0 ||
	    xw_elem(e, "LANGUAGE", iso639_2(locale)) ||
	    xw_elem(e, "CATALOG_ID", s->name) ||
	    xw_elem(e, "CATALOG_VERSION", "1.0") ||
	    xw_elem(e, "CATALOG_NAME", s->name))
		return ex_io(e);
	if (strlen(nb.at) >= 19) {
		char date[11], time[9];
		memcpy(date, nb.at, 10);
		date[10] = '\0';
		memcpy(time, nb.at + 11, 8);
		time[8] = '\0';
		if (xmlTextWriterStartElement(e->w, BAD_CAST "DATETIME") < 0 ||
		    xmlTextWriterWriteAttribute(e->w, BAD_CAST "type",
						BAD_CAST "generation_date") < 0 ||
		    xw_elem(e, "DATE", date) || xw_elem(e, "TIME", time) ||
		    xw_elem(e, "TIMEZONE", "+00:00") ||
		    xmlTextWriterEndElement(e->w) < 0)
			return ex_io(e);
	}
	if (s->n_currencies && xw_elem(e, "CURRENCY", s->currencies[0]))
		return ex_io(e);
	if (xmlTextWriterEndElement(e->w) < 0 ||
	    xmlTextWriterStartElement(e->w, BAD_CAST "SUPPLIER") < 0 ||
	    xw_elem(e, "SUPPLIER_NAME", s->name) ||
	    xmlTextWriterEndElement(e->w) < 0 ||
	    xmlTextWriterEndElement(e->w) < 0 ||
	    xmlTextWriterStartElement(e->w, BAD_CAST "T_NEW_CATALOG") < 0)
		return ex_io(e);
	return 0;
}

static const char *val(const pim_product_row *p, long c)
{
	return c >= 0 ? p->value[c] : NULL;
}

static int bmecat_row(ex *e, const pim_product_row *p)
{
	const char *name = val(p, e->c_name), *price = val(p, e->c_price);
	const char *suffix = NULL;
	size_t alen = 0;
	int bad = 0;
	char amount[64], cur[4];
	xmlTextWriterPtr w = e->w;

	if (!name) {
		bad = 1;
		feed_skip(e, p->key, e->c_name >= 0 ? "name" : "DESCRIPTION_SHORT",
			  NULL,
			  e->c_name >= 0 ? "DESCRIPTION_SHORT is required and "
					   "name is empty"
					 : "DESCRIPTION_SHORT is required and the "
					   "schema has no attribute 'name'");
	}
	if (!e->stopped && (!price || !split_amount(price, &alen, &suffix) ||
			    !suffix_ok(suffix, 1) || alen >= sizeof amount)) {
		const char *pc = e->c_price >= 0
					 ? pim_view_column_at(e->view, (size_t)e->c_price)
						   ->code
					 : "PRICE_AMOUNT";
		bad = 1;
		feed_skip(e, p->key, pc, price,
			  price ? "PRODUCT_PRICE needs an amount with a currency"
				: e->c_price >= 0 ? "PRODUCT_PRICE is required and "
						    "the price is empty"
						  : "PRODUCT_PRICE is required and "
						    "the schema has no price "
						    "attribute");
	}
	if (bad) {
		e->st.skipped++;
		return 0;
	}
	if (!w)
		return 1;
	memcpy(amount, price, alen);
	amount[alen] = '\0';
	snprintf(cur, sizeof cur, "%s", suffix);
	if (xmlTextWriterStartElement(w, BAD_CAST "PRODUCT") < 0 ||
	    xmlTextWriterWriteAttribute(w, BAD_CAST "mode", BAD_CAST "new") < 0 ||
	    xw_elem(e, "SUPPLIER_PID", p->key) ||
	    xmlTextWriterStartElement(w, BAD_CAST "PRODUCT_DETAILS") < 0 ||
	    xw_elem(e, "DESCRIPTION_SHORT", name) ||
	    (val(p, e->c_desc) &&
	     xw_elem(e, "DESCRIPTION_LONG", val(p, e->c_desc))))
		return ex_io(e);
	if (val(p, e->c_gtin) &&
	    (xmlTextWriterStartElement(w, BAD_CAST "INTERNATIONAL_PID") < 0 ||
	     xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST "gtin") < 0 ||
	     xmlTextWriterWriteString(w, BAD_CAST val(p, e->c_gtin)) < 0 ||
	     xmlTextWriterEndElement(w) < 0))
		return ex_io(e);
	if (xmlTextWriterEndElement(w) < 0 ||
	    xmlTextWriterStartElement(w, BAD_CAST "PRODUCT_ORDER_DETAILS") < 0 ||
	    xw_elem(e, "ORDER_UNIT", order_unit(val(p, e->c_unit))) ||
	    xw_elem(e, "CONTENT_UNIT", order_unit(val(p, e->c_unit))) ||
	    (val(p, e->c_moq) && xw_elem(e, "QUANTITY_MIN", val(p, e->c_moq))) ||
	    xmlTextWriterEndElement(w) < 0 ||
	    xmlTextWriterStartElement(w, BAD_CAST "PRODUCT_PRICE_DETAILS") < 0 ||
	    xmlTextWriterStartElement(w, BAD_CAST "PRODUCT_PRICE") < 0 ||
	    xmlTextWriterWriteAttribute(w, BAD_CAST "price_type",
					BAD_CAST "net_list") < 0 ||
	    xw_elem(e, "PRICE_AMOUNT", amount) ||
	    xw_elem(e, "PRICE_CURRENCY", cur) ||
	    xmlTextWriterEndElement(w) < 0 || xmlTextWriterEndElement(w) < 0 ||
	    xmlTextWriterEndElement(w) < 0)
		return ex_io(e);
	return 1;
}

/* ---- selection ------------------------------------------------------------------- */

static int on_row(const pim_product_row *p, void *ctx)
{
	ex *e = ctx;
	int rc = 0;

	e->st.products++;
	switch (e->o->format) {
	case PIM_EXPORT_CSV:
		rc = csv_row(e, p);
		break;
	case PIM_EXPORT_JSONL:
		rc = jsonl_row(e, p);
		break;
	case PIM_EXPORT_JSON:
		rc = json_row(e, p);
		break;
	case PIM_EXPORT_YAML:
		rc = yaml_row(e, p);
		break;
	case PIM_EXPORT_XML:
		rc = xml_row(e, p);
		break;
	case PIM_EXPORT_MERCHANT:
		rc = merchant_row(e, p);
		break;
	case PIM_EXPORT_BMECAT:
		rc = bmecat_row(e, p);
		break;
	}
	if (rc < 0) {
		e->rc = rc;
		return 1;
	}
	if (rc > 0 || e->o->format < PIM_EXPORT_MERCHANT)
		e->st.written++;
	if (e->out && ferror(e->out)) {
		e->rc = ex_io(e);
		return 1;
	}
	return e->stopped;
}

/* Adds `value` to an expression as a quoted value. */
static void add_quoted(pim_buf *b, const char *value)
{
	pim_buf_addc(b, '"');
	for (; *value; value++) {
		if (*value == '"' || *value == '\\')
			pim_buf_addc(b, '\\');
		pim_buf_addc(b, *value);
	}
	pim_buf_addc(b, '"');
}

/* One expression from --where, --complete-for, --family and --since. */
static int build_where(ex *e, pim_buf *w, size_t *user_end, size_t *starts)
{
	const pim_export_options *o = e->o;
	const pim_schema *s = e->cat->schema;

	*user_end = 0;
	if (o->where) {
		/* alone, the expression goes as it is, so that messages quote
		 * it exactly; with other conditions, in parentheses */
		int alone = !o->complete_for && !o->family && !o->since;
		pim_buf_adds(w, alone ? "" : "(");
		pim_buf_adds(w, o->where);
		pim_buf_adds(w, alone ? "" : ")");
		*user_end = alone ? 0 : 1;
	}
	if (o->complete_for) {
		if (!pim_schema_role(s, o->complete_for)) {
			pim_buf list = PIM_BUF_INIT;
			for (size_t i = 0; i < s->n_roles; i++)
				pim_buf_printf(&list, "%s%s", i ? ", " : "",
					       s->roles[i].name);
			pim_cat_error(e->cat, PIM_ENOTFOUND,
				      "--complete-for: unknown role '%s' (the "
				      "schema's roles: %s)",
				      o->complete_for,
				      list.data ? list.data : "none");
			pim_buf_free(&list);
			return PIM_ENOTFOUND;
		}
		starts[0] = w->len + 1;
		pim_buf_printf(w, "%scomplete for %s", w->len ? " and " : "",
			       o->complete_for);
	}
	if (o->family) {
		size_t i;
		for (i = 0; i < s->n_families; i++)
			if (!strcmp(s->families[i].name, o->family))
				break;
		if (i == s->n_families)
			return pim_cat_error(e->cat, PIM_ENOTFOUND,
					     "--family: the schema has no family "
					     "'%s'",
					     o->family);
		starts[1] = w->len + 1;
		pim_buf_adds(w, w->len ? " and family = " : "family = ");
		add_quoted(w, o->family);
	}
	if (o->since) {
		size_t n = strlen(o->since);
		if (!n || strspn(o->since, "0123456789-:TZ.+") != n)
			return pim_cat_error(e->cat, PIM_EINVALID,
					     "--since: expected a batch number, "
					     "a date (2026-11-01) or a time "
					     "(2026-11-01T12:00:00Z), not '%s'",
					     o->since);
		starts[2] = w->len + 1;
		pim_buf_printf(w, "%supdated since %s", w->len ? " and " : "",
			       o->since);
	}
	return w->len && !w->data ? PIM_ENOMEM : 0;
}

static int no_plan(const char *line, void *ctx)
{
	(void)line;
	(void)ctx;
	return 0;
}

static int check_options(pim_catalog *cat, const pim_export_options *o)
{
	if (!o || o->version != PIM_EXPORT_OPTIONS_VERSION)
		return pim_cat_error(cat, PIM_EINVALID, "bad export options");
	if ((unsigned)o->format > PIM_EXPORT_BMECAT)
		return pim_cat_error(cat, PIM_EINVALID, "unknown export format");
	if ((o->excel || o->header_labels) && o->format != PIM_EXPORT_CSV)
		return pim_cat_error(cat, PIM_EINVALID,
				     "--excel and --header apply to csv only");
	if (o->profile && o->format != PIM_EXPORT_MERCHANT)
		return pim_cat_error(cat, PIM_EINVALID,
				     "--profile applies to the merchant format "
				     "only");
	if (cat->schema->key < 0)
		return pim_cat_error(cat, PIM_EINVALID,
				     "the schema has no identifier attribute");
	return 0;
}

int pim_export(pim_catalog *cat, const pim_export_options *opts, FILE *out,
	       pim_export_stats *stats, pim_diag_fn diag, void *ctx,
	       pim_where_error *err)
{
	pim_select sel = PIM_SELECT_INIT;
	pim_buf where = PIM_BUF_INIT, cols = PIM_BUF_INIT;
	pim_where_error werr;
	const char *locale;
	size_t user_end = 0, starts[3] = { 0, 0, 0 };
	static const char *const part_opt[3] = { "--complete-for", "--family",
						  "--since" };
	ex e;
	int rc;

	memset(&e, 0, sizeof e);
	if (stats)
		memset(stats, 0, sizeof *stats);
	if (err)
		memset(err, 0, sizeof *err);
	if ((rc = check_options(cat, opts)))
		return rc;
	e.cat = cat;
	e.o = opts;
	e.out = out;
	e.diag = diag;
	e.dctx = ctx;
	e.delim = opts->excel ? ';' : ',';
	e.eol = opts->excel ? "\r\n" : "\n";
	e.key_code = cat->schema->attrs[cat->schema->key].code;
	locale = opts->locale;
	if (opts->locale && !pim_schema_locale(cat->schema, opts->locale)) {
		rc = pim_view_new(&e.view, cat, NULL, opts->locale, NULL);
		goto out;
	}
	if ((rc = build_where(&e, &where, &user_end, starts)))
		goto out;
	switch (opts->format) {
	case PIM_EXPORT_MERCHANT:
		if ((rc = profile_load(&e, opts->profile)))
			goto out;
		if (!locale)
			locale = e.prof->locale;
		if (!locale && cat->schema->n_locales)
			locale = cat->schema->locales[0];
		if ((rc = profile_columns(&e, opts->profile ? opts->profile
							    : "merchant-profile.yaml",
					  &cols)))
			goto out;
		break;
	case PIM_EXPORT_BMECAT:
		if (!locale && cat->schema->n_locales)
			locale = cat->schema->locales[0];
		if ((rc = bmecat_columns(&e, &cols)))
			goto out;
		break;
	default:
		break;
	}
	rc = pim_view_new(&e.view, cat,
			  opts->format >= PIM_EXPORT_MERCHANT ? NULL : opts->role,
			  locale, cols.len ? cols.data : NULL);
	if (rc)
		goto out;
	e.ncol = pim_view_column_count(e.view);
	e.key_col = -1;
	for (size_t i = 0; i < e.ncol; i++)
		if (!strcmp(pim_view_column_at(e.view, i)->code, e.key_code))
			e.key_col = (long)i;
	if (e.prof && (rc = profile_bind(&e)))
		goto out;
	if (pim_view_role(e.view)) {
		pim_buf_clear(&cols);
		for (size_t i = 0; i < e.ncol; i++)
			pim_buf_printf(&cols, "%s%s", i ? "," : "",
				       pim_view_column_at(e.view, i)->name);
		if (cols.len && !cols.data) {
			rc = pim_cat_error(cat, PIM_ENOMEM, "out of memory");
			goto out;
		}
		if ((rc = pim_view_new(&e.sview, cat, NULL, locale,
				       cols.data ? cols.data : "")))
			goto out;
	}
	sel.where = where.len ? where.data : NULL;
	memset(&werr, 0, sizeof werr);
	/* the expression is checked before anything is written */
	rc = pim_catalog_explain(cat, e.sview ? e.sview : e.view, &sel,
				 no_plan, NULL, &werr);
	if (rc == PIM_EPARSE) {
		int part = -1;
		for (int i = 0; i < 3; i++)
			if (starts[i] && werr.col >= starts[i])
				part = i;
		if (opts->where && part < 0) {
			/* the user's own text: columns as they wrote them */
			size_t n = strlen(opts->where);
			werr.col = werr.col > user_end ? werr.col - user_end : 1;
			if (werr.col > n + 1)
				werr.col = n + 1;
			pim_cat_error(cat, rc, "--where: column %lu: %s",
				      werr.col, werr.message);
		} else {
			werr.col = 0;
			pim_cat_error(cat, rc, "%s: %s",
				      part_opt[part < 0 ? 2 : part],
				      werr.message);
		}
		if (err)
			*err = werr;
		goto out;
	}
	if (rc)
		goto out;
	switch (opts->format) {
	case PIM_EXPORT_CSV:
		rc = csv_begin(&e);
		break;
	case PIM_EXPORT_XML:
		rc = xml_begin(&e);
		break;
	case PIM_EXPORT_MERCHANT:
		rc = merchant_begin(&e);
		break;
	case PIM_EXPORT_BMECAT:
		rc = bmecat_begin(&e, locale);
		break;
	default:
		break;
	}
	if (rc)
		goto out;
	rc = pim_catalog_select(cat, e.sview ? e.sview : e.view, &sel, on_row,
				&e, &werr);
	if (rc == 0 && e.rc)
		rc = e.rc;
	if (rc == 0 && e.stopped)
		rc = pim_cat_error(cat, PIM_EDATA, "stopped by the caller");
	if (rc == 0 && opts->format == PIM_EXPORT_JSON)
		rc = json_end(&e);
	if (rc == 0 && opts->format == PIM_EXPORT_YAML && !e.st.written)
		rc = (pim_buf_adds(&e.line, "[]\n"), ex_flush_line(&e));
	if (rc == 0 && opts->format >= PIM_EXPORT_XML)
		rc = xml_end(&e);
	if (rc == 0 && out && (fflush(out) != 0 || ferror(out)))
		rc = ex_io(&e);
out:
	if (e.w)
		xmlFreeTextWriter(e.w); /* frees e.xout too */
	else if (e.xout)
		xmlOutputBufferClose(e.xout);
	for (int i = 0; i < F__COUNT; i++)
		pim_free(e.feed[i]);
	profile_free(e.prof);
	pim_view_free(e.view);
	pim_view_free(e.sview);
	pim_buf_free(&e.line);
	pim_buf_free(&e.tmp);
	pim_buf_free(&where);
	pim_buf_free(&cols);
	if (stats)
		*stats = e.st;
	return rc;
}
