/*
 * mapping.c - loads and checks a mapping file (pim-mapping(5)) against the
 * schema, and the text transforms mappings apply to cells.
 */
#include "mapping.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "value.h"
#include "yml.h"

#define MAPPING_MAX_BYTES (16u << 20)

typedef struct mctx {
	pim_mapping *m;
	const pim_schema *s;
	const char *file;
	pim_diag_fn diag;
	void *dctx;
	int errors;
	int nomem;
} mctx;

static void merr(mctx *c, const yml_node *at, const char *code,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void merr(mctx *c, const yml_node *at, const char *code,
		 const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	pim_diag d;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	c->errors++;
	if (!c->diag)
		return;
	memset(&d, 0, sizeof d);
	d.file = c->file;
	d.line = at ? at->line : 0;
	d.col = at ? at->col : 0;
	d.code = code;
	d.severity = PIM_SEV_ERROR;
	d.message = msg;
	c->diag(&d, c->dctx);
}

static char *mdup(mctx *c, const char *s)
{
	char *d = pim_strdup(s);
	if (!d)
		c->nomem = 1;
	return d;
}

static void check_dups(mctx *c, const yml_node *map);

static void check_keys(mctx *c, const yml_node *map, const char *where,
		       const char *const *known)
{
	for (size_t i = 0; i < map->n; i++) {
		const yml_node *k = map->items[2 * i];
		const char *best = NULL;
		unsigned bestd = 3;
		int ok = 0;
		if (k->kind != YML_SCALAR)
			continue;
		for (size_t j = 0; known[j]; j++) {
			unsigned d;
			if (!strcmp(k->str, known[j])) {
				ok = 1;
				break;
			}
			d = pim_levenshtein(k->str, known[j]);
			if (d < bestd) {
				bestd = d;
				best = known[j];
			}
		}
		if (ok)
			continue;
		if (best)
			merr(c, k, "unknown-key",
			     "unknown key '%s' in %s (did you mean '%s'?)",
			     k->str, where, best);
		else
			merr(c, k, "unknown-key", "unknown key '%s' in %s",
			     k->str, where);
	}
	check_dups(c, map);
}

static void check_dups(mctx *c, const yml_node *map)
{
	for (size_t i = 1; i < map->n; i++)
		for (size_t j = 0; j < i; j++)
			if (map->items[2 * i]->kind == YML_SCALAR &&
			    map->items[2 * j]->kind == YML_SCALAR &&
			    !strcmp(map->items[2 * i]->str,
				    map->items[2 * j]->str)) {
				merr(c, map->items[2 * i], "duplicate",
				     "duplicate key '%s' (first at line %lu)",
				     map->items[2 * i]->str,
				     map->items[2 * j]->line);
				break;
			}
}

const char *pim_schema_locale(const pim_schema *s, const char *loc)
{
	for (size_t i = 0; i < s->n_locales; i++)
		if (!strcmp(s->locales[i], loc))
			return s->locales[i];
	return NULL;
}

unsigned pim_transform_parse(const char *name)
{
	if (!strcmp(name, "trim"))
		return TR_TRIM;
	if (!strcmp(name, "collapse") || !strcmp(name, "collapse_spaces"))
		return TR_COLLAPSE;
	if (!strcmp(name, "upper"))
		return TR_UPPER;
	if (!strcmp(name, "lower"))
		return TR_LOWER;
	if (!strcmp(name, "title"))
		return TR_TITLE;
	return 0;
}

int pim_transform(pim_buf *out, const char *in, size_t len, unsigned tr)
{
	size_t i = 0, end = len;
	int word_start = 1, prev_space = 0;

	pim_buf_clear(out);
	if (tr & (TR_TRIM | TR_COLLAPSE)) {
		while (i < end && (in[i] == ' ' || in[i] == '\t'))
			i++;
		while (end > i && (in[end - 1] == ' ' || in[end - 1] == '\t'))
			end--;
	}
	if (pim_buf_reserve(out, end - i))
		return PIM_ENOMEM;
	for (; i < end; i++) {
		char ch = in[i];
		int space = ch == ' ' || ch == '\t';
		if ((tr & TR_COLLAPSE) && space) {
			if (prev_space)
				continue;
			ch = ' ';
		}
		prev_space = space;
		/* ASCII case mapping; other letters are left as they are */
		if ((tr & TR_UPPER) && ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 32);
		else if ((tr & TR_LOWER) && !(tr & TR_UPPER) && ch >= 'A' &&
			 ch <= 'Z')
			ch = (char)(ch + 32);
		else if (tr & TR_TITLE) {
			if (word_start && ch >= 'a' && ch <= 'z')
				ch = (char)(ch - 32);
			else if (!word_start && ch >= 'A' && ch <= 'Z')
				ch = (char)(ch + 32);
		}
		word_start = space || ch == '-';
		out->data[out->len++] = ch;
	}
	out->data[out->len] = '\0';
	return 0;
}

static unsigned load_transforms(mctx *c, const yml_node *n)
{
	unsigned tr = 0;
	const yml_node *one = n;
	size_t count = 1;

	if (n->kind == YML_SEQ)
		count = n->n;
	else if (n->kind != YML_SCALAR) {
		merr(c, n, "bad-value", "transform must be a name or a list");
		return 0;
	}
	for (size_t i = 0; i < count; i++) {
		unsigned t;
		if (n->kind == YML_SEQ)
			one = n->items[i];
		if (one->kind != YML_SCALAR) {
			merr(c, one, "bad-value", "transform must be a name");
			continue;
		}
		t = pim_transform_parse(one->str);
		if (!t)
			merr(c, one, "unknown-transform",
			     "unknown transform '%s' (known: trim, "
			     "collapse_spaces, upper, lower, title)",
			     one->str);
		tr |= t;
	}
	return tr;
}

static long resolve_attr(mctx *c, const yml_node *n, const char **locale)
{
	char code[80];
	const char *at;
	long idx;

	*locale = NULL;
	at = strchr(n->str, '@');
	snprintf(code, sizeof code, "%.*s",
		 (int)(at ? (size_t)(at - n->str) : n->len), n->str);
	idx = pim_schema_attribute_find(c->s, code);
	if (idx < 0) {
		const char *best = NULL;
		unsigned bestd = 3;
		for (size_t i = 0; i < c->s->n_attrs; i++) {
			unsigned d = pim_levenshtein(code, c->s->attrs[i].code);
			if (d < bestd) {
				bestd = d;
				best = c->s->attrs[i].code;
			}
		}
		if (best)
			merr(c, n, "unknown-attribute",
			     "unknown attribute '%s' (did you mean '%s'?)", code,
			     best);
		else
			merr(c, n, "unknown-attribute",
			     "unknown attribute '%s'", code);
		return -1;
	}
	if (at) {
		*locale = pim_schema_locale(c->s, at + 1);
		if (!*locale) {
			merr(c, n, "unknown-locale",
			     "locale '%s' is not in the schema's locales", at + 1);
			return -1;
		}
	}
	return idx;
}

static void fix_locale(mctx *c, const yml_node *at, long attr,
		       const char **locale)
{
	const pim_attr *a = &c->s->attrs[attr];
	if (a->localizable && !*locale) {
		if (c->s->n_locales)
			*locale = c->s->locales[0];
	} else if (!a->localizable && *locale) {
		merr(c, at, "bad-value", "attribute '%s' is not localizable",
		     a->code);
		*locale = NULL;
	}
}

static const char *const col_keys[] = {
	"attribute", "locale", "unit",      "currency", "currency_column",
	"map",       "default", "transform", "ignore",  NULL
};

static void load_column(mctx *c, pim_colmap *cm, const yml_node *k,
			const yml_node *v)
{
	const yml_node *n;

	cm->line = k->line;
	cm->col = k->col;
	cm->attr = -1;
	if (k->str[0] == '#' && k->len > 1) {
		char *end;
		cm->index = strtol(k->str + 1, &end, 10);
		if (*end || cm->index < 1 || cm->index > PIM_CSV_MAX_COLUMNS) {
			merr(c, k, "bad-value",
			     "'%s' is not a column number like #3", k->str);
			cm->index = 0;
		}
	}
	cm->column = mdup(c, k->str);
	if (v->kind == YML_SCALAR) {
		if (yml_is_null(v))
			return; /* `Column:` with nothing = ignored */
		cm->attr = resolve_attr(c, v, &cm->locale);
		if (cm->attr >= 0)
			fix_locale(c, v, cm->attr, &cm->locale);
		return;
	}
	if (v->kind != YML_MAP) {
		merr(c, v, "bad-value",
		     "column '%s' must map to an attribute or {attribute: ...}",
		     k->str);
		return;
	}
	check_keys(c, v, "a column", col_keys);
	if ((n = yml_get(v, "ignore"))) {
		int b;
		if (yml_bool(n, &b))
			merr(c, n, "bad-value", "ignore must be true or false");
		else if (b)
			return;
	}
	n = yml_get(v, "attribute");
	if (!n || n->kind != YML_SCALAR) {
		merr(c, n ? n : k, "missing",
		     "column '%s' needs attribute: CODE", k->str);
		return;
	}
	cm->attr = resolve_attr(c, n, &cm->locale);
	if (cm->attr < 0)
		return;
	if ((n = yml_get(v, "locale"))) {
		if (n->kind != YML_SCALAR ||
		    !(cm->locale = pim_schema_locale(c->s, n->str)))
			merr(c, n, "unknown-locale",
			     "locale '%s' is not in the schema's locales",
			     n->kind == YML_SCALAR ? n->str : "?");
	}
	fix_locale(c, k, cm->attr, &cm->locale);
	{
		const pim_attr *a = &c->s->attrs[cm->attr];
		if ((n = yml_get(v, "unit"))) {
			const pim_unit *u = n->kind == YML_SCALAR
						    ? pim_unit_find(n->str)
						    : NULL;
			if (a->type != PIM_TYPE_MEASURE)
				merr(c, n, "constraint-type",
				     "unit applies to measures; '%s' is a %s",
				     a->code, pim_type_name(a->type));
			else if (!u)
				merr(c, n, "unknown-unit", "unknown unit '%s'",
				     n->kind == YML_SCALAR ? n->str : "?");
			else if (a->unit && u->dim != a->unit->dim)
				merr(c, n, "unit-dimension",
				     "unit %s is a %s unit; '%s' is %s", u->code,
				     pim_dimension_name(u->dim), a->code,
				     pim_dimension_name(a->unit->dim));
			else
				cm->unit = u;
		}
		if ((n = yml_get(v, "currency"))) {
			if (a->type != PIM_TYPE_PRICE)
				merr(c, n, "constraint-type",
				     "currency applies to prices; '%s' is a %s",
				     a->code, pim_type_name(a->type));
			else if (n->kind != YML_SCALAR || n->len != 3)
				merr(c, n, "bad-value",
				     "currency must be a code like NOK");
			else
				for (int x = 0; x < 4; x++)
					cm->currency[x] = (char)(n->str[x] >= 'a' &&
								 n->str[x] <= 'z'
								 ? n->str[x] - 32
								 : n->str[x]);
		}
		if ((n = yml_get(v, "currency_column"))) {
			if (a->type != PIM_TYPE_PRICE)
				merr(c, n, "constraint-type",
				     "currency_column applies to prices");
			else if (n->kind != YML_SCALAR)
				merr(c, n, "bad-value",
				     "currency_column must name a column");
			else
				cm->currency_column = mdup(c, n->str);
		}
	}
	if ((n = yml_get(v, "transform")))
		cm->transforms = load_transforms(c, n);
	if ((n = yml_get(v, "map"))) {
		if (n->kind != YML_MAP) {
			merr(c, n, "bad-value",
			     "map must be {supplier value: our value}");
		} else {
			cm->map = pim_calloc(n->n + 1, sizeof *cm->map);
			if (!cm->map) {
				c->nomem = 1;
				return;
			}
			for (size_t i = 0; i < n->n; i++) {
				const yml_node *f = n->items[2 * i];
				const yml_node *t = n->items[2 * i + 1];
				if (f->kind != YML_SCALAR || t->kind != YML_SCALAR) {
					merr(c, f, "bad-value",
					     "map entries must be text: text");
					continue;
				}
				cm->map[cm->n_map].from = mdup(c, f->str);
				cm->map[cm->n_map].to = mdup(c, t->str);
				cm->n_map++;
			}
		}
	}
	if ((n = yml_get(v, "default"))) {
		if (n->kind != YML_SCALAR)
			merr(c, n, "bad-value",
			     "default must be keep, empty or a value");
		else if (!strcmp(n->str, "keep") && !n->quoted)
			cm->map_default = MAPDEF_KEEP;
		else if (!strcmp(n->str, "empty") && !n->quoted)
			cm->map_default = MAPDEF_EMPTY;
		else {
			cm->map_default = MAPDEF_VALUE;
			cm->map_default_value = mdup(c, n->str);
		}
	}
}

static int parse_char(mctx *c, const yml_node *n, char *out, const char *what)
{
	if (n->kind != YML_SCALAR) {
		merr(c, n, "bad-value", "%s must be one character", what);
		return 0;
	}
	if (!strcmp(n->str, "auto"))
		return 1;
	if (!strcmp(n->str, "\\t") || !strcmp(n->str, "tab")) {
		*out = '\t';
		return 1;
	}
	if (n->len != 1) {
		merr(c, n, "bad-value", "%s must be one character, not '%s'",
		     what, n->str);
		return 0;
	}
	*out = n->str[0];
	return 1;
}

static const char *const dialect_keys[] = { "delimiter", "quote",  "encoding",
					    "decimal",   "header", "date_format",
					    NULL };

static void load_dialect(mctx *c, const yml_node *n)
{
	pim_mapping *m = c->m;
	const yml_node *v;

	if (n->kind != YML_MAP) {
		merr(c, n, "bad-value", "dialect must be a map");
		return;
	}
	check_keys(c, n, "the dialect", dialect_keys);
	if ((v = yml_get(n, "delimiter")) &&
	    parse_char(c, v, &m->dialect.delimiter, "delimiter") &&
	    m->dialect.delimiter && !strchr(",;\t|", m->dialect.delimiter) &&
	    m->dialect.delimiter != ':')
		merr(c, v, "bad-value",
		     "delimiter must be one of , ; | : tab, or auto");
	if ((v = yml_get(n, "quote")))
		parse_char(c, v, &m->dialect.quote, "quote");
	if ((v = yml_get(n, "decimal")) &&
	    parse_char(c, v, &m->dialect.decimal, "decimal") &&
	    m->dialect.decimal && m->dialect.decimal != '.' &&
	    m->dialect.decimal != ',')
		merr(c, v, "bad-value", "decimal must be . or , or auto");
	if ((v = yml_get(n, "encoding"))) {
		int e = v->kind == YML_SCALAR ? pim_encoding_parse(v->str) : -1;
		if (e < 0)
			merr(c, v, "bad-value",
			     "unknown encoding (utf-8, windows-1252, "
			     "iso-8859-1, utf-16le, utf-16be, auto)");
		else
			m->dialect.encoding = (pim_encoding)e;
	}
	if ((v = yml_get(n, "header"))) {
		int b;
		if (v->kind == YML_SCALAR && !strcmp(v->str, "auto"))
			m->dialect.header = -1;
		else if (yml_bool(v, &b))
			merr(c, v, "bad-value", "header must be true, false or auto");
		else
			m->dialect.header = b;
	}
	if ((v = yml_get(n, "date_format"))) {
		if (v->kind == YML_SCALAR && (!strcmp(v->str, "dmy") ||
					      !strcmp(v->str, "auto")))
			m->dmy = 1;
		else if (v->kind == YML_SCALAR && !strcmp(v->str, "iso"))
			m->dmy = 0;
		else
			merr(c, v, "bad-value", "date_format must be iso, dmy or auto");
	}
}

static const char *const top_keys[] = { "pim",       "name",    "description",
					"dialect",   "key",     "columns",
					"constants", "ignore",  "transform",
					"unknown_columns", NULL };

static void load_root(mctx *c, const yml_node *root)
{
	pim_mapping *m = c->m;
	const yml_node *n;

	if (!root || root->kind != YML_MAP) {
		merr(c, root, "bad-value",
		     "a mapping must be a YAML map starting with 'pim: 1'");
		return;
	}
	check_keys(c, root, "the mapping", top_keys);
	n = yml_get(root, "pim");
	if (!n)
		merr(c, root, "missing", "the mapping must start with 'pim: 1'");
	else if (n->kind != YML_SCALAR || strcmp(n->str, "1"))
		merr(c, n, "bad-version", "this pim reads mapping format 1");
	if ((n = yml_get(root, "name")) && n->kind == YML_SCALAR)
		m->name = mdup(c, n->str);
	if ((n = yml_get(root, "dialect")))
		load_dialect(c, n);
	if ((n = yml_get(root, "transform")))
		m->transforms = load_transforms(c, n);
	if ((n = yml_get(root, "unknown_columns"))) {
		if (n->kind == YML_SCALAR && !strcmp(n->str, "warn"))
			m->unknown = 0;
		else if (n->kind == YML_SCALAR && !strcmp(n->str, "ignore"))
			m->unknown = 1;
		else if (n->kind == YML_SCALAR && !strcmp(n->str, "error"))
			m->unknown = 2;
		else
			merr(c, n, "bad-value",
			     "unknown_columns must be warn, ignore or error");
	}
	if ((n = yml_get(root, "ignore"))) {
		if (n->kind != YML_SEQ) {
			merr(c, n, "bad-value", "ignore must be a list of columns");
		} else {
			m->ignore = pim_calloc(n->n + 1, sizeof *m->ignore);
			if (!m->ignore) {
				c->nomem = 1;
				return;
			}
			for (size_t i = 0; i < n->n; i++)
				if (n->items[i]->kind == YML_SCALAR)
					m->ignore[m->n_ignore++] =
						mdup(c, n->items[i]->str);
		}
	}
	n = yml_get(root, "columns");
	if (!n) {
		merr(c, root, "missing", "the mapping has no columns:");
	} else if (n->kind != YML_MAP) {
		merr(c, n, "bad-value", "columns must map column names to attributes");
	} else {
		m->cols = pim_calloc(n->n + 1, sizeof *m->cols);
		if (!m->cols) {
			c->nomem = 1;
			return;
		}
		check_dups(c, n);
		for (size_t i = 0; i < n->n; i++) {
			const yml_node *k = n->items[2 * i];
			if (k->kind != YML_SCALAR)
				continue;
			load_column(c, &m->cols[m->n_cols++], k,
				    n->items[2 * i + 1]);
		}
	}
	if ((n = yml_get(root, "key"))) {
		if (n->kind != YML_SCALAR) {
			merr(c, n, "bad-value", "key must name a column");
		} else {
			int found = 0;
			m->key_column = mdup(c, n->str);
			for (size_t i = 0; i < m->n_cols; i++)
				if (m->cols[i].column &&
				    !strcmp(m->cols[i].column, n->str)) {
					found = 1;
					if (m->cols[i].attr != c->s->key)
						merr(c, n, "bad-value",
						     "the key column '%s' must map "
						     "to the identifier '%s'",
						     n->str,
						     c->s->key >= 0
							     ? c->s->attrs[c->s->key]
								       .code
							     : "?");
				}
			if (!found)
				merr(c, n, "unknown-column",
				     "key column '%s' is not under columns:",
				     n->str);
		}
	} else {
		int found = 0;
		for (size_t i = 0; i < m->n_cols; i++)
			if (m->cols[i].attr >= 0 && m->cols[i].attr == c->s->key)
				found = 1;
		if (!found && c->s->key >= 0)
			merr(c, root, "missing",
			     "no column maps to the key '%s' (add key: COLUMN)",
			     c->s->attrs[c->s->key].code);
	}
	if ((n = yml_get(root, "constants"))) {
		if (n->kind != YML_MAP) {
			merr(c, n, "bad-value",
			     "constants must map attributes to values");
			return;
		}
		m->constants = pim_calloc(n->n + 1, sizeof *m->constants);
		if (!m->constants) {
			c->nomem = 1;
			return;
		}
		for (size_t i = 0; i < n->n; i++) {
			const yml_node *k = n->items[2 * i];
			const yml_node *v = n->items[2 * i + 1];
			pim_constant *ct = &m->constants[m->n_constants];
			pim_buf out = PIM_BUF_INIT;
			pim_value_err err;
			int rc;
			if (k->kind != YML_SCALAR || v->kind != YML_SCALAR) {
				merr(c, k, "bad-value", "constants must be attr: value");
				continue;
			}
			ct->attr = resolve_attr(c, k, &ct->locale);
			if (ct->attr < 0)
				continue;
			fix_locale(c, k, ct->attr, &ct->locale);
			rc = pim_value_parse(&out, &err, &c->s->attrs[ct->attr],
					     v->str, v->len, NULL);
			if (rc < 0) {
				c->nomem = 1;
			} else if (rc == 1) {
				merr(c, v, err.code, "constant for '%s': %s",
				     c->s->attrs[ct->attr].code, err.msg);
			} else {
				ct->value = pim_buf_detach(&out);
				m->n_constants++;
			}
			pim_buf_free(&out);
		}
	}
}

void pim_mapping_free(pim_mapping *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_cols; i++) {
		pim_colmap *cm = &m->cols[i];
		pim_free(cm->column);
		pim_free(cm->currency_column);
		for (size_t j = 0; j < cm->n_map; j++) {
			pim_free(cm->map[j].from);
			pim_free(cm->map[j].to);
		}
		pim_free(cm->map);
		pim_free(cm->map_default_value);
	}
	pim_free(m->cols);
	for (size_t i = 0; i < m->n_constants; i++)
		pim_free(m->constants[i].value);
	pim_free(m->constants);
	for (size_t i = 0; i < m->n_ignore; i++)
		pim_free(m->ignore[i]);
	pim_free(m->ignore);
	pim_free(m->key_column);
	pim_free(m->name);
	pim_free(m);
}

int pim_mapping_load_buffer(pim_mapping **out, const char *name,
			    const char *data, size_t len,
			    const pim_schema *schema, pim_diag_fn diag,
			    void *ctx)
{
	pim_dialect d0 = PIM_DIALECT_INIT;
	yml_doc doc;
	mctx c;
	int rc;

	*out = NULL;
	memset(&c, 0, sizeof c);
	c.s = schema;
	c.file = name ? name : "-";
	c.diag = diag;
	c.dctx = ctx;
	c.m = pim_calloc(1, sizeof *c.m);
	if (!c.m)
		return PIM_ENOMEM;
	c.m->dialect = d0;
	c.m->dmy = 1;
	rc = yml_parse(&doc, c.file, data, len, diag, ctx);
	if (rc == 0) {
		if (!doc.root)
			merr(&c, NULL, "missing", "the mapping file is empty");
		else
			load_root(&c, doc.root);
		rc = c.nomem ? PIM_ENOMEM : c.errors ? PIM_EPARSE : 0;
	} else if (rc == PIM_ELIMIT) {
		rc = PIM_EPARSE;
	}
	yml_free(&doc);
	if (rc) {
		pim_mapping_free(c.m);
		return rc;
	}
	*out = c.m;
	return 0;
}

int pim_mapping_load_file(pim_mapping **out, const char *path,
			  const pim_schema *schema, pim_diag_fn diag, void *ctx)
{
	char *data = NULL;
	size_t len;
	int rc;

	*out = NULL;
	rc = yml_read_file_diag(&data, &len, path, MAPPING_MAX_BYTES, diag, ctx);
	if (rc)
		return rc;
	rc = pim_mapping_load_buffer(out, path, data, len, schema, diag, ctx);
	pim_free(data);
	return rc;
}
