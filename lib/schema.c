/*
 * schema.c - loads a pim schema (pim-schema(5)) from YAML and checks it.
 * The checker keeps going after an error so that one run reports every
 * problem it can find, each with the line and column of the node at fault.
 */
#include "schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "yml.h"

#define SCHEMA_MAX_BYTES (16u << 20)
#define CODE_MAX 64

typedef struct sctx {
	pim_schema *s;
	const char *file;
	pim_diag_fn diag;
	void *dctx;
	int errors;
	int nomem;
	int stopped; /* the callback asked to stop */
} sctx;

static const char *type_names[PIM_TYPE__COUNT] = {
	"identifier", "text",    "textarea", "integer", "number",
	"boolean",    "date",    "select",   "multiselect", "price",
	"measure",    "gtin",    "url",      "email",   "category"
};

const char *pim_type_name(pim_type t)
{
	return (unsigned)t < PIM_TYPE__COUNT ? type_names[t] : NULL;
}

static void report(sctx *c, const yml_node *at, const char *code,
		   pim_severity sev, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void report(sctx *c, const yml_node *at, const char *code,
		   pim_severity sev, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	pim_diag d;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (sev == PIM_SEV_ERROR)
		c->errors++;
	if (!c->diag || c->stopped)
		return;
	memset(&d, 0, sizeof d);
	d.file = c->file;
	d.line = at ? at->line : 0;
	d.col = at ? at->col : 0;
	d.code = code;
	d.severity = sev;
	d.message = msg;
	if (c->diag(&d, c->dctx))
		c->stopped = 1;
}

#define ERR(c, at, code, ...) report(c, at, code, PIM_SEV_ERROR, __VA_ARGS__)

/* "unknown key 'x'", with a hint when a known key is close. */
static void unknown_key(sctx *c, const yml_node *key, const char *where,
			const char *const *known)
{
	const char *best = NULL;
	unsigned bestd = 3;

	for (size_t i = 0; known[i]; i++) {
		unsigned d = pim_levenshtein(key->str, known[i]);
		if (d < bestd) {
			bestd = d;
			best = known[i];
		}
	}
	if (best)
		ERR(c, key, "unknown-key",
		    "unknown key '%s' in %s (did you mean '%s'?)", key->str,
		    where, best);
	else
		ERR(c, key, "unknown-key", "unknown key '%s' in %s", key->str,
		    where);
}

static int is_code(const char *s)
{
	size_t n = 0;
	if (!(*s >= 'a' && *s <= 'z'))
		return 0;
	for (; *s; s++, n++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_'))
			return 0;
	return n <= CODE_MAX;
}

static int is_locale(const char *s)
{
	size_t n = strlen(s);
	if (n != 5 && n != 2)
		return 0;
	if (!(s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'a' && s[1] <= 'z'))
		return 0;
	if (n == 2)
		return 1;
	return s[2] == '_' && s[3] >= 'A' && s[3] <= 'Z' && s[4] >= 'A' &&
	       s[4] <= 'Z';
}

static int is_currency(const char *s)
{
	return strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' &&
	       s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z';
}

static char *dup(sctx *c, const char *s)
{
	char *d = pim_strdup(s);
	if (!d)
		c->nomem = 1;
	return d;
}

/* Reports duplicate keys in a map (libyaml accepts them silently). */
static void check_dup_keys(sctx *c, const yml_node *map, const char *what)
{
	if (!map || map->kind != YML_MAP)
		return;
	for (size_t i = 1; i < map->n; i++) {
		const yml_node *k = map->items[2 * i];
		for (size_t j = 0; j < i; j++) {
			const yml_node *p = map->items[2 * j];
			if (k->kind == YML_SCALAR && p->kind == YML_SCALAR &&
			    strcmp(k->str, p->str) == 0) {
				ERR(c, k, "duplicate",
				    "duplicate %s '%s' (first at line %lu)",
				    what, k->str, p->line);
				break;
			}
		}
	}
}

static int want_scalar(sctx *c, const yml_node *n, const char *what)
{
	if (n && n->kind == YML_SCALAR)
		return 1;
	ERR(c, n, "bad-value", "%s must be a single value", what);
	return 0;
}

/* A list of scalars, or a single scalar taken as a list of one. */
static int want_list(sctx *c, const yml_node *n, const char *what)
{
	if (n && n->kind == YML_SEQ) {
		for (size_t i = 0; i < n->n; i++)
			if (n->items[i]->kind != YML_SCALAR) {
				ERR(c, n->items[i], "bad-value",
				    "%s must be a list of names", what);
				return 0;
			}
		return 1;
	}
	ERR(c, n, "bad-value", "%s must be a list, like [a, b]", what);
	return 0;
}

static char **str_list(sctx *c, const yml_node *n, size_t *count)
{
	char **v;

	*count = 0;
	v = pim_calloc(n->n + 1, sizeof *v);
	if (!v) {
		c->nomem = 1;
		return NULL;
	}
	for (size_t i = 0; i < n->n; i++) {
		if (!(v[i] = dup(c, n->items[i]->str)))
			break; /* out of memory: the load fails, keep what is set */
		(*count)++;
	}
	return v;
}

static void free_list(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		pim_free(v[i]);
	pim_free(v);
}

static int has_locale(const pim_schema *s, const char *loc)
{
	if (s->n_locales == 0)
		return 1;
	for (size_t i = 0; i < s->n_locales; i++)
		if (strcmp(s->locales[i], loc) == 0)
			return 1;
	return 0;
}

/* ---- attributes ----------------------------------------------------- */

enum {
	K_MINMAX = 1 << 0,
	K_LENGTH = 1 << 1,
	K_PATTERN = 1 << 2,
	K_OPTIONS = 1 << 3,
	K_CURRENCY = 1 << 4,
	K_UNIT = 1 << 5,
	K_DECIMALS = 1 << 6,
	K_LOCALIZABLE = 1 << 7,
	K_UNIQUE = 1 << 8
};

static unsigned type_allows(pim_type t)
{
	switch (t) {
	case PIM_TYPE_IDENTIFIER:
		return K_LENGTH | K_PATTERN | K_UNIQUE;
	case PIM_TYPE_TEXT:
	case PIM_TYPE_TEXTAREA:
		return K_LENGTH | K_PATTERN | K_LOCALIZABLE | K_UNIQUE;
	case PIM_TYPE_URL:
		return K_LENGTH | K_PATTERN | K_LOCALIZABLE | K_UNIQUE;
	case PIM_TYPE_EMAIL:
	case PIM_TYPE_CATEGORY:
		return K_LENGTH | K_PATTERN | K_UNIQUE;
	case PIM_TYPE_INTEGER:
		return K_MINMAX | K_UNIQUE;
	case PIM_TYPE_NUMBER:
		return K_MINMAX | K_DECIMALS | K_UNIQUE;
	case PIM_TYPE_DATE:
		return K_MINMAX | K_UNIQUE;
	case PIM_TYPE_BOOLEAN:
		return 0;
	case PIM_TYPE_SELECT:
		return K_OPTIONS | K_UNIQUE;
	case PIM_TYPE_MULTISELECT:
		return K_OPTIONS;
	case PIM_TYPE_PRICE:
		return K_MINMAX | K_CURRENCY | K_DECIMALS;
	case PIM_TYPE_MEASURE:
		return K_MINMAX | K_UNIT | K_DECIMALS;
	case PIM_TYPE_GTIN:
		return K_UNIQUE;
	default:
		return 0;
	}
}

static const char *const attr_keys[] = {
	"type",       "required", "unique",     "localizable", "min",
	"max",        "min_length", "max_length", "pattern",   "options",
	"currency",   "dimension", "unit",      "decimals",    "labels",
	"description", NULL
};

static unsigned key_needs(const char *k)
{
	if (!strcmp(k, "min") || !strcmp(k, "max"))
		return K_MINMAX;
	if (!strcmp(k, "min_length") || !strcmp(k, "max_length"))
		return K_LENGTH;
	if (!strcmp(k, "pattern"))
		return K_PATTERN;
	if (!strcmp(k, "options"))
		return K_OPTIONS;
	if (!strcmp(k, "currency"))
		return K_CURRENCY;
	if (!strcmp(k, "dimension") || !strcmp(k, "unit"))
		return K_UNIT;
	if (!strcmp(k, "decimals"))
		return K_DECIMALS;
	if (!strcmp(k, "localizable"))
		return K_LOCALIZABLE;
	if (!strcmp(k, "unique"))
		return K_UNIQUE;
	return 0;
}

static void labels_load(sctx *c, const yml_node *n, pim_label **out,
			size_t *count, const char *what)
{
	pim_label *v;

	*out = NULL;
	*count = 0;
	if (!n)
		return;
	if (n->kind != YML_MAP) {
		ERR(c, n, "bad-value",
		    "labels of %s must map locales to text, like {en_US: Name}",
		    what);
		return;
	}
	check_dup_keys(c, n, "locale");
	v = pim_calloc(n->n + 1, sizeof *v);
	if (!v) {
		c->nomem = 1;
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		const yml_node *k = n->items[2 * i], *t = n->items[2 * i + 1];
		if (k->kind != YML_SCALAR || !is_locale(k->str)) {
			ERR(c, k, "bad-locale",
			    "'%s' is not a locale like nb_NO or en_US",
			    k->kind == YML_SCALAR ? k->str : "?");
			continue;
		}
		if (!has_locale(c->s, k->str))
			ERR(c, k, "unknown-locale",
			    "locale '%s' is not in the schema's locales",
			    k->str);
		if (t->kind != YML_SCALAR) {
			ERR(c, t, "bad-value", "a label must be text");
			continue;
		}
		v[*count].locale = dup(c, k->str);
		v[*count].text = dup(c, t->str);
		(*count)++;
	}
	*out = v;
}

static void free_labels(pim_label *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		pim_free(v[i].locale);
		pim_free(v[i].text);
	}
	pim_free(v);
}

static int load_bound(sctx *c, pim_attr *a, const yml_node *n, double *out,
		      char **text)
{
	if (!want_scalar(c, n, "min/max"))
		return 0;
	if (a->type == PIM_TYPE_DATE) {
		long ymd = pim_date_ymd(n->str, n->len);
		if (ymd < 0) {
			ERR(c, n, "bad-value",
			    "'%s' is not a date (YYYY-MM-DD)", n->str);
			return 0;
		}
		*out = (double)ymd;
	} else if (yml_number(n, out)) {
		ERR(c, n, "bad-value", "'%s' is not a number", n->str);
		return 0;
	} else if (a->type == PIM_TYPE_INTEGER && *out > -9.0e15 &&
		   *out < 9.0e15 && /* beyond, every double is whole */
		   *out != (double)(long long)*out) {
		ERR(c, n, "bad-value", "'%s' is not a whole number", n->str);
		return 0;
	}
	*text = dup(c, n->str);
	return 1;
}

static void load_length(sctx *c, const yml_node *n, long *out)
{
	double v;
	if (!want_scalar(c, n, "a length"))
		return;
	if (yml_number(n, &v) || v < 0 || v > 1e9 || v != (double)(long)v) {
		ERR(c, n, "bad-value",
		    "'%s' is not a length (a whole number, 0 or more)", n->str);
		return;
	}
	*out = (long)v;
}

static void load_attr(sctx *c, pim_attr *a, const yml_node *key,
		      const yml_node *def)
{
	const yml_node *t = NULL, *n;
	unsigned allows;

	a->line = key->line;
	a->col = key->col;
	a->min_length = a->max_length = -1;
	a->decimals = -1;
	a->type = PIM_TYPE__COUNT;

	if (def->kind == YML_SCALAR) {
		t = def; /* shorthand: `sku: identifier` */
	} else if (def->kind == YML_MAP) {
		check_dup_keys(c, def, "key");
		t = yml_get(def, "type");
		if (!t) {
			ERR(c, key, "missing", "attribute '%s' has no type",
			    key->str);
			return;
		}
	} else {
		ERR(c, def, "bad-value",
		    "attribute '%s' must be a map like { type: text }",
		    key->str);
		return;
	}
	if (!want_scalar(c, t, "type"))
		return;
	for (int i = 0; i < PIM_TYPE__COUNT; i++)
		if (strcmp(t->str, type_names[i]) == 0)
			a->type = (pim_type)i;
	if (a->type == PIM_TYPE__COUNT) {
		const char *best = NULL;
		unsigned bestd = 3;
		for (int i = 0; i < PIM_TYPE__COUNT; i++) {
			unsigned d = pim_levenshtein(t->str, type_names[i]);
			if (d < bestd) {
				bestd = d;
				best = type_names[i];
			}
		}
		if (best)
			ERR(c, t, "unknown-type",
			    "unknown type '%s' (did you mean '%s'?)", t->str,
			    best);
		else
			ERR(c, t, "unknown-type",
			    "unknown type '%s' (known: identifier, text, "
			    "textarea, integer, number, boolean, date, select, "
			    "multiselect, price, measure, gtin, url, email, "
			    "category)",
			    t->str);
		return;
	}
	if (def->kind != YML_MAP)
		goto defaults;

	allows = type_allows(a->type);
	for (size_t i = 0; i < def->n; i++) {
		const yml_node *k = def->items[2 * i];
		const yml_node *v = def->items[2 * i + 1];
		unsigned need;
		int known = 0;

		if (k->kind != YML_SCALAR)
			continue;
		for (size_t j = 0; attr_keys[j]; j++)
			if (strcmp(k->str, attr_keys[j]) == 0)
				known = 1;
		if (!known) {
			unknown_key(c, k, "an attribute", attr_keys);
			continue;
		}
		/* a repeated key is reported above (check_dup_keys); the
		 * first one counts, as for yml_get, and nothing leaks */
		if (yml_get(def, k->str) != v)
			continue;
		need = key_needs(k->str);
		if (need && !(allows & need)) {
			ERR(c, k, "constraint-type",
			    "'%s' does not apply to a %s attribute", k->str,
			    type_names[a->type]);
			continue;
		}
		if (!strcmp(k->str, "required") || !strcmp(k->str, "unique") ||
		    !strcmp(k->str, "localizable")) {
			int b;
			if (yml_bool(v, &b)) {
				ERR(c, v, "bad-value",
				    "'%s' must be true or false", k->str);
				continue;
			}
			if (k->str[0] == 'r')
				a->required = b;
			else if (k->str[0] == 'u')
				a->unique = b;
			else
				a->localizable = b;
		} else if (!strcmp(k->str, "min")) {
			a->has_min = load_bound(c, a, v, &a->min, &a->min_text);
		} else if (!strcmp(k->str, "max")) {
			a->has_max = load_bound(c, a, v, &a->max, &a->max_text);
		} else if (!strcmp(k->str, "min_length")) {
			load_length(c, v, &a->min_length);
		} else if (!strcmp(k->str, "max_length")) {
			load_length(c, v, &a->max_length);
		} else if (!strcmp(k->str, "decimals")) {
			double d;
			if (yml_number(v, &d) || d < 0 || d > 12 ||
			    d != (double)(int)d)
				ERR(c, v, "bad-value",
				    "decimals must be a whole number from 0 to 12");
			else
				a->decimals = (int)d;
		} else if (!strcmp(k->str, "pattern")) {
			int errcode;
			PCRE2_SIZE off;
			if (!want_scalar(c, v, "pattern"))
				continue;
			a->re = pcre2_compile((PCRE2_SPTR)v->str, v->len,
					      PCRE2_UTF | PCRE2_DOLLAR_ENDONLY,
					      &errcode, &off, NULL);
			if (!a->re) {
				PCRE2_UCHAR buf[160];
				pcre2_get_error_message(errcode, buf, sizeof buf);
				ERR(c, v, "bad-pattern",
				    "bad pattern '%s': %s at offset %lu", v->str,
				    (char *)buf, (unsigned long)off);
				continue;
			}
			/* JIT when the platform has it; matching works either
			 * way */
			pcre2_jit_compile(a->re, PCRE2_JIT_COMPLETE);
			a->pattern = dup(c, v->str);
		} else if (!strcmp(k->str, "options")) {
			if (!want_list(c, v, "options"))
				continue;
			if (v->n == 0) {
				ERR(c, v, "missing-options",
				    "%s attribute '%s' needs at least one option",
				    type_names[a->type], key->str);
				continue;
			}
			for (size_t x = 1; x < v->n; x++)
				for (size_t y = 0; y < x; y++)
					if (pim_strcaseeq(v->items[x]->str,
							  v->items[y]->str)) {
						ERR(c, v->items[x], "duplicate",
						    "duplicate option '%s'",
						    v->items[x]->str);
						break;
					}
			for (size_t x = 0; x < v->n; x++)
				if (v->items[x]->len == 0 ||
				    strpbrk(v->items[x]->str, ",;|"))
					ERR(c, v->items[x], "bad-value",
					    "option '%s' must be non-empty and "
					    "contain none of , ; |",
					    v->items[x]->str);
			a->options = str_list(c, v, &a->n_options);
		} else if (!strcmp(k->str, "currency")) {
			if (!want_scalar(c, v, "currency"))
				continue;
			if (!is_currency(v->str)) {
				ERR(c, v, "bad-value",
				    "'%s' is not an ISO 4217 currency code "
				    "like NOK",
				    v->str);
				continue;
			}
			if (c->s->n_currencies) {
				int found = 0;
				for (size_t x = 0; x < c->s->n_currencies; x++)
					if (!strcmp(c->s->currencies[x], v->str))
						found = 1;
				if (!found)
					ERR(c, v, "unknown-currency",
					    "currency '%s' is not in the "
					    "schema's currencies",
					    v->str);
			}
			memcpy(a->currency, v->str, 4);
		} else if (!strcmp(k->str, "dimension")) {
			if (!want_scalar(c, v, "dimension"))
				continue;
			a->dimension = pim_dimension_find(v->str);
			if (a->dimension == DIM_NONE)
				ERR(c, v, "unknown-dimension",
				    "unknown dimension '%s' (known: mass, "
				    "length, area, volume, time, count)",
				    v->str);
		}
		/* unit, labels and description are read below */
	}

	if ((n = yml_get(def, "labels")))
		labels_load(c, n, &a->labels, &a->n_labels, key->str);
	if ((n = yml_get(def, "description")))
		want_scalar(c, n, "description");

	if (a->type == PIM_TYPE_MEASURE) {
		const yml_node *u = yml_get(def, "unit");
		const yml_node *dn = yml_get(def, "dimension");
		if (!u) {
			ERR(c, key, "missing",
			    "measure '%s' needs a unit (a UN/ECE Rec 20 code "
			    "such as KGM or CMT)",
			    key->str);
		} else if (want_scalar(c, u, "unit")) {
			const pim_unit *unit = pim_unit_find(u->str);
			if (!unit || strcmp(unit->code, u->str) != 0) {
				ERR(c, u, "unknown-unit",
				    "unknown unit '%s'%s%s%s", u->str,
				    unit ? " (did you mean '" : "",
				    unit ? unit->code : "", unit ? "'?)" : "");
			} else if (dn && a->dimension != DIM_NONE &&
				   unit->dim != a->dimension) {
				ERR(c, u, "unit-dimension",
				    "unit %s is a %s unit, not a %s unit",
				    unit->code, pim_dimension_name(unit->dim),
				    pim_dimension_name(a->dimension));
			} else {
				a->unit = unit;
				a->dimension = unit->dim;
			}
		}
	}
	if ((a->type == PIM_TYPE_SELECT || a->type == PIM_TYPE_MULTISELECT) &&
	    !yml_get(def, "options"))
		ERR(c, key, "missing-options",
		    "%s attribute '%s' needs options: [...]",
		    type_names[a->type], key->str);
	if (a->has_min && a->has_max && a->min > a->max)
		ERR(c, yml_get(def, "max"), "bad-value",
		    "max (%s) is less than min (%s)", a->max_text, a->min_text);
	if (a->min_length >= 0 && a->max_length >= 0 &&
	    a->min_length > a->max_length)
		ERR(c, yml_get(def, "max_length"), "bad-value",
		    "max_length (%ld) is less than min_length (%ld)",
		    a->max_length, a->min_length);

defaults:
	if (a->type == PIM_TYPE_PRICE && !a->currency[0]) {
		if (c->s->n_currencies) {
			/* a bad code in the list (reported already) may be
			 * shorter than three letters */
			size_t cl = strlen(c->s->currencies[0]);
			memcpy(a->currency, c->s->currencies[0], cl < 3 ? cl : 3);
			a->currency[cl < 3 ? cl : 3] = '\0';
		} else
			ERR(c, key, "missing",
			    "price '%s' needs a currency (or the schema a "
			    "currencies: list)",
			    key->str);
	}
	if (a->type == PIM_TYPE_MEASURE && def->kind != YML_MAP)
		ERR(c, key, "missing", "measure '%s' needs a unit", key->str);
	if ((a->type == PIM_TYPE_SELECT || a->type == PIM_TYPE_MULTISELECT) &&
	    def->kind != YML_MAP)
		ERR(c, key, "missing-options",
		    "%s attribute '%s' needs options: [...]",
		    type_names[a->type], key->str);
	if (a->type == PIM_TYPE_IDENTIFIER)
		a->required = 1;
}

static void free_attr(pim_attr *a)
{
	pim_free(a->code);
	pim_free(a->min_text);
	pim_free(a->max_text);
	pim_free(a->pattern);
	if (a->re)
		pcre2_code_free(a->re);
	free_list(a->options, a->n_options);
	free_labels(a->labels, a->n_labels);
}

static long find_attr(const pim_schema *s, const char *code)
{
	for (size_t i = 0; i < s->n_attrs; i++)
		if (s->attrs[i].code && strcmp(s->attrs[i].code, code) == 0)
			return (long)i;
	return -1;
}

static void unknown_attr(sctx *c, const yml_node *n, const char *where)
{
	const char *best = NULL;
	unsigned bestd = 3;

	for (size_t i = 0; i < c->s->n_attrs; i++) {
		unsigned d;
		if (!c->s->attrs[i].code)
			continue;
		d = pim_levenshtein(n->str, c->s->attrs[i].code);
		if (d < bestd) {
			bestd = d;
			best = c->s->attrs[i].code;
		}
	}
	if (best)
		ERR(c, n, "unknown-attribute",
		    "%s names unknown attribute '%s' (did you mean '%s'?)",
		    where, n->str, best);
	else
		ERR(c, n, "unknown-attribute",
		    "%s names unknown attribute '%s'", where, n->str);
}

/* Resolves a list of attribute codes to indices. */
static size_t *attr_refs(sctx *c, const yml_node *n, size_t *count,
			 const char *where)
{
	size_t *v;

	*count = 0;
	if (!n)
		return NULL;
	if (!want_list(c, n, where))
		return NULL;
	v = pim_calloc(n->n + 1, sizeof *v);
	if (!v) {
		c->nomem = 1;
		return NULL;
	}
	for (size_t i = 0; i < n->n; i++) {
		long idx = find_attr(c->s, n->items[i]->str);
		if (idx < 0) {
			unknown_attr(c, n->items[i], where);
			continue;
		}
		for (size_t j = 0; j < *count; j++)
			if (v[j] == (size_t)idx) {
				ERR(c, n->items[i], "duplicate",
				    "%s lists '%s' twice", where,
				    n->items[i]->str);
				idx = -1;
				break;
			}
		if (idx >= 0)
			v[(*count)++] = (size_t)idx;
	}
	return v;
}

/* ---- families and roles --------------------------------------------- */

static const char *const family_keys[] = { "attributes", "required",
					   "labels", "description", NULL };
static const char *const role_keys[] = { "attributes", "labels",
					 "required",   "edit",
					 "description", NULL };

static void load_families(sctx *c, const yml_node *n)
{
	pim_schema *s = c->s;
	if (n->kind != YML_MAP) {
		ERR(c, n, "bad-value", "families must be a map of name: {...}");
		return;
	}
	check_dup_keys(c, n, "family");
	s->families = pim_calloc(n->n + 1, sizeof *s->families);
	if (!s->families) {
		c->nomem = 1;
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		const yml_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		pim_family *f = &s->families[s->n_families];
		char where[128];

		if (k->kind != YML_SCALAR)
			continue;
		if (!is_code(k->str))
			ERR(c, k, "bad-code",
			    "family name '%s' must match [a-z][a-z0-9_]*",
			    k->str);
		snprintf(where, sizeof where, "family '%.60s'", k->str);
		f->name = dup(c, k->str);
		s->n_families++;
		if (v->kind == YML_SEQ) {
			f->attrs = attr_refs(c, v, &f->n_attrs, where);
			continue;
		}
		if (v->kind != YML_MAP) {
			ERR(c, v, "bad-value",
			    "%s must be a map with attributes: [...]", where);
			continue;
		}
		check_dup_keys(c, v, "key");
		for (size_t j = 0; j < v->n; j++) {
			const yml_node *fk = v->items[2 * j];
			int known = 0;
			if (fk->kind != YML_SCALAR) {
				ERR(c, fk, "bad-value", "keys must be plain names");
				continue;
			}
			for (size_t x = 0; family_keys[x]; x++)
				if (!strcmp(fk->str, family_keys[x]))
					known = 1;
			if (!known)
				unknown_key(c, fk, "a family", family_keys);
		}
		f->attrs = attr_refs(c, yml_get(v, "attributes"), &f->n_attrs,
				     where);
		f->required = attr_refs(c, yml_get(v, "required"),
					&f->n_required, where);
	}
}

static void load_roles(sctx *c, const yml_node *n)
{
	pim_schema *s = c->s;
	if (n->kind != YML_MAP) {
		ERR(c, n, "bad-value", "roles must be a map of name: {...}");
		return;
	}
	check_dup_keys(c, n, "role");
	s->roles = pim_calloc(n->n + 1, sizeof *s->roles);
	if (!s->roles) {
		c->nomem = 1;
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		const yml_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		const yml_node *lab;
		pim_role *r = &s->roles[s->n_roles];
		char where[128];

		if (k->kind != YML_SCALAR)
			continue;
		if (!is_code(k->str))
			ERR(c, k, "bad-code",
			    "role name '%s' must match [a-z][a-z0-9_]*", k->str);
		snprintf(where, sizeof where, "role '%.60s'", k->str);
		r->name = dup(c, k->str);
		s->n_roles++;
		if (v->kind != YML_MAP) {
			ERR(c, v, "bad-value",
			    "%s must be a map with attributes: [...]", where);
			continue;
		}
		check_dup_keys(c, v, "key");
		for (size_t j = 0; j < v->n; j++) {
			const yml_node *rk = v->items[2 * j];
			int known = 0;
			if (rk->kind != YML_SCALAR) {
				ERR(c, rk, "bad-value", "keys must be plain names");
				continue;
			}
			for (size_t x = 0; role_keys[x]; x++)
				if (!strcmp(rk->str, role_keys[x]))
					known = 1;
			if (!known)
				unknown_key(c, rk, "a role", role_keys);
		}
		if (!yml_get(v, "attributes"))
			ERR(c, k, "missing", "%s has no attributes: [...]",
			    where);
		r->attrs = attr_refs(c, yml_get(v, "attributes"), &r->n_attrs,
				     where);
		r->required = attr_refs(c, yml_get(v, "required"),
					&r->n_required, where);
		r->edit = attr_refs(c, yml_get(v, "edit"), &r->n_edit, where);
		r->labels = pim_calloc(r->n_attrs + 1, sizeof *r->labels);
		r->n_labels = pim_calloc(r->n_attrs + 1, sizeof *r->n_labels);
		if (!r->labels || !r->n_labels) {
			c->nomem = 1;
			continue;
		}
		/* labels: { locale: { attribute: text } } */
		lab = yml_get(v, "labels");
		if (!lab)
			continue;
		if (lab->kind != YML_MAP) {
			ERR(c, lab, "bad-value",
			    "labels of %s must be {locale: {attribute: text}}",
			    where);
			continue;
		}
		check_dup_keys(c, lab, "locale");
		for (size_t j = 0; j < lab->n; j++) {
			const yml_node *lk = lab->items[2 * j];
			const yml_node *lv = lab->items[2 * j + 1];
			if (lk->kind != YML_SCALAR || !is_locale(lk->str)) {
				ERR(c, lk, "bad-locale",
				    "'%s' is not a locale like nb_NO or en_US",
				    lk->kind == YML_SCALAR ? lk->str : "?");
				continue;
			}
			if (!has_locale(s, lk->str))
				ERR(c, lk, "unknown-locale",
				    "locale '%s' is not in the schema's locales",
				    lk->str);
			if (lv->kind != YML_MAP) {
				ERR(c, lv, "bad-value",
				    "labels for %s must map attributes to text",
				    lk->str);
				continue;
			}
			check_dup_keys(c, lv, "attribute");
			for (size_t x = 0; x < lv->n; x++) {
				const yml_node *ak = lv->items[2 * x];
				const yml_node *at = lv->items[2 * x + 1];
				long idx;
				size_t slot = (size_t)-1;
				pim_label *l;
				if (ak->kind != YML_SCALAR) {
					ERR(c, ak, "bad-value",
					    "keys must be plain names");
					continue;
				}
				idx = find_attr(s, ak->str);
				if (idx < 0) {
					unknown_attr(c, ak, where);
					continue;
				}
				for (size_t y = 0; y < r->n_attrs; y++)
					if (r->attrs[y] == (size_t)idx)
						slot = y;
				if (slot == (size_t)-1) {
					ERR(c, ak, "unknown-attribute",
					    "%s labels '%s', which is not in "
					    "its attributes",
					    where, ak->str);
					continue;
				}
				if (at->kind != YML_SCALAR) {
					ERR(c, at, "bad-value",
					    "a label must be text");
					continue;
				}
				l = pim_realloc(r->labels[slot],
						(r->n_labels[slot] + 1) *
							sizeof *l);
				if (!l) {
					c->nomem = 1;
					continue;
				}
				r->labels[slot] = l;
				l[r->n_labels[slot]].locale = dup(c, lk->str);
				l[r->n_labels[slot]].text = dup(c, at->str);
				r->n_labels[slot]++;
			}
		}
	}
}

/* ---- checks --------------------------------------------------------- */

static int numeric_type(pim_type t)
{
	return t == PIM_TYPE_INTEGER || t == PIM_TYPE_NUMBER ||
	       t == PIM_TYPE_PRICE || t == PIM_TYPE_MEASURE ||
	       t == PIM_TYPE_DATE;
}

const char *pim_cmp_text(pim_cmp op)
{
	static const char *t[] = { "<", "<=", ">", ">=", "=", "!=" };
	return t[op];
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static void load_check(sctx *c, pim_check *ck, const yml_node *n)
{
	const yml_node *expr = n, *msg = NULL;
	const char *p, *q;
	char name[CODE_MAX + 2];
	size_t len;
	long idx;
	yml_node at;

	ck->factor = 1.0;
	if (n->kind == YML_MAP) {
		static const char *const keys[] = { "check", "message", NULL };
		for (size_t j = 0; j < n->n; j++) {
			const yml_node *k = n->items[2 * j];
			if (k->kind != YML_SCALAR) {
				ERR(c, k, "bad-value", "keys must be plain names");
				continue;
			}
			if (strcmp(k->str, "check") && strcmp(k->str, "message"))
				unknown_key(c, k, "a check", keys);
		}
		expr = yml_get(n, "check");
		msg = yml_get(n, "message");
		if (!expr) {
			ERR(c, n, "missing", "a check needs check: \"a >= b\"");
			return;
		}
	}
	if (!want_scalar(c, expr, "a check"))
		return;
	if (msg && want_scalar(c, msg, "message"))
		ck->message = dup(c, msg->str);
	ck->text = dup(c, expr->str);
	at = *expr;

	/* left attribute */
	p = skip_ws(expr->str);
	for (q = p; (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') ||
		    *q == '_';
	     q++)
		;
	len = (size_t)(q - p);
	if (len == 0 || len > CODE_MAX) {
		ERR(c, expr, "bad-check",
		    "check '%s' must read like 'list_price >= cost_price'",
		    expr->str);
		return;
	}
	memcpy(name, p, len);
	name[len] = '\0';
	idx = find_attr(c->s, name);
	if (idx < 0) {
		yml_node tmp = at;
		tmp.str = name;
		tmp.col = expr->col + (unsigned long)(p - expr->str) +
			  (expr->quoted ? 1 : 0);
		unknown_attr(c, &tmp, "check");
		return;
	}
	ck->left = (size_t)idx;
	/* operator */
	p = skip_ws(q);
	if (p[0] == '>' && p[1] == '=') {
		ck->op = CMP_GE;
		p += 2;
	} else if (p[0] == '<' && p[1] == '=') {
		ck->op = CMP_LE;
		p += 2;
	} else if (p[0] == '!' && p[1] == '=') {
		ck->op = CMP_NE;
		p += 2;
	} else if (p[0] == '=' && p[1] == '=') {
		ck->op = CMP_EQ;
		p += 2;
	} else if (*p == '>' || *p == '<' || *p == '=') {
		ck->op = *p == '>' ? CMP_GT : *p == '<' ? CMP_LT : CMP_EQ;
		p++;
	} else {
		ERR(c, expr, "bad-check",
		    "check '%s' needs a comparison (< <= > >= = !=) after '%s'",
		    expr->str, name);
		return;
	}
	p = skip_ws(p);
	if ((*p >= 'a' && *p <= 'z')) {
		for (q = p; (*q >= 'a' && *q <= 'z') ||
			    (*q >= '0' && *q <= '9') || *q == '_';
		     q++)
			;
		len = (size_t)(q - p);
		if (len > CODE_MAX)
			len = CODE_MAX;
		memcpy(name, p, len);
		name[len] = '\0';
		idx = find_attr(c->s, name);
		if (idx < 0) {
			yml_node tmp = at;
			tmp.str = name;
			tmp.col = expr->col + (unsigned long)(p - expr->str) +
				  (expr->quoted ? 1 : 0);
			unknown_attr(c, &tmp, "check");
			return;
		}
		ck->right_is_attr = 1;
		ck->right = (size_t)idx;
		p = skip_ws(q);
		if (*p == '*') {
			char *end;
			ck->factor = strtod(skip_ws(p + 1), &end);
			if (end == skip_ws(p + 1)) {
				ERR(c, expr, "bad-check",
				    "check '%s': expected a number after '*'",
				    expr->str);
				return;
			}
			p = skip_ws(end);
		}
	} else {
		char *end;
		ck->constant = strtod(p, &end);
		if (end == p) {
			ERR(c, expr, "bad-check",
			    "check '%s': expected an attribute or a number "
			    "after '%s'",
			    expr->str, pim_cmp_text(ck->op));
			return;
		}
		p = skip_ws(end);
	}
	if (*p) {
		ERR(c, expr, "bad-check", "check '%s': unexpected '%s'",
		    expr->str, p);
		return;
	}
	{
		const pim_attr *l = &c->s->attrs[ck->left];
		const pim_attr *r = ck->right_is_attr
					    ? &c->s->attrs[ck->right]
					    : NULL;
		if (l->type == PIM_TYPE__COUNT ||
		    (r && r->type == PIM_TYPE__COUNT))
			return; /* the bad type is reported already */
		if (!numeric_type(l->type) || (r && !numeric_type(r->type))) {
			ERR(c, expr, "bad-check",
			    "check '%s' compares a %s; only integer, number, "
			    "price, measure and date can be compared",
			    expr->str,
			    type_names[numeric_type(l->type) ? r->type
							     : l->type]);
		} else if (r && l->type != r->type &&
			   !((l->type == PIM_TYPE_INTEGER ||
			      l->type == PIM_TYPE_NUMBER) &&
			     (r->type == PIM_TYPE_INTEGER ||
			      r->type == PIM_TYPE_NUMBER))) {
			ERR(c, expr, "bad-check",
			    "check '%s' compares a %s with a %s", expr->str,
			    type_names[l->type], type_names[r->type]);
		} else if (r && l->type == PIM_TYPE_MEASURE &&
			   l->dimension != r->dimension) {
			ERR(c, expr, "bad-check",
			    "check '%s' compares a %s with a %s measure",
			    expr->str, pim_dimension_name(l->dimension),
			    pim_dimension_name(r->dimension));
		}
	}
}

/* ---- top level ------------------------------------------------------ */

static const char *const top_keys[] = { "pim",        "name",     "description",
					"locales",    "currencies", "units",
					"attributes", "families", "roles",
					"checks",     NULL };

static void load_root(sctx *c, const yml_node *root)
{
	pim_schema *s = c->s;
	const yml_node *n;

	if (!root || root->kind != YML_MAP) {
		ERR(c, root, "bad-value",
		    "a schema must be a YAML map starting with 'pim: 1'");
		return;
	}
	check_dup_keys(c, root, "key");
	for (size_t i = 0; i < root->n; i++) {
		const yml_node *k = root->items[2 * i];
		int known = 0;
		if (k->kind != YML_SCALAR) {
			ERR(c, k, "bad-value", "keys must be plain names");
			continue;
		}
		for (size_t j = 0; top_keys[j]; j++)
			if (!strcmp(k->str, top_keys[j]))
				known = 1;
		if (!known)
			unknown_key(c, k, "the schema", top_keys);
	}
	n = yml_get(root, "pim");
	if (!n) {
		ERR(c, root, "missing", "the schema must start with 'pim: 1'");
	} else if (n->kind != YML_SCALAR || strcmp(n->str, "1") != 0) {
		ERR(c, n, "bad-version",
		    "this pim reads schema format 1, not '%s'",
		    n->kind == YML_SCALAR ? n->str : "?");
	}
	n = yml_get(root, "name");
	if (n && want_scalar(c, n, "name"))
		s->name = dup(c, n->str);
	else if (!n)
		s->name = dup(c, "catalog");
	if ((n = yml_get(root, "description")))
		want_scalar(c, n, "description");

	if ((n = yml_get(root, "locales")) && want_list(c, n, "locales")) {
		for (size_t i = 0; i < n->n; i++) {
			if (!is_locale(n->items[i]->str))
				ERR(c, n->items[i], "bad-locale",
				    "'%s' is not a locale like nb_NO or en_US",
				    n->items[i]->str);
			for (size_t j = 0; j < i; j++)
				if (!strcmp(n->items[i]->str, n->items[j]->str))
					ERR(c, n->items[i], "duplicate",
					    "duplicate locale '%s'",
					    n->items[i]->str);
		}
		s->locales = str_list(c, n, &s->n_locales);
	}
	if ((n = yml_get(root, "currencies")) &&
	    want_list(c, n, "currencies")) {
		for (size_t i = 0; i < n->n; i++)
			if (!is_currency(n->items[i]->str))
				ERR(c, n->items[i], "bad-value",
				    "'%s' is not an ISO 4217 currency code "
				    "like NOK",
				    n->items[i]->str);
		s->currencies = str_list(c, n, &s->n_currencies);
	}
	if ((n = yml_get(root, "units")) && want_list(c, n, "units")) {
		for (size_t i = 0; i < n->n; i++) {
			const pim_unit *u = pim_unit_find(n->items[i]->str);
			if (!u || strcmp(u->code, n->items[i]->str) != 0)
				ERR(c, n->items[i], "unknown-unit",
				    "unknown unit '%s' (use UN/ECE Rec 20 codes "
				    "such as KGM, GRM, CMT, MMT)",
				    n->items[i]->str);
		}
	}

	n = yml_get(root, "attributes");
	if (!n) {
		ERR(c, root, "missing", "the schema has no attributes:");
	} else if (n->kind != YML_MAP) {
		ERR(c, n, "bad-value", "attributes must be a map of code: {...}");
	} else {
		s->attrs = pim_calloc(n->n + 1, sizeof *s->attrs);
		if (!s->attrs) {
			c->nomem = 1;
			return;
		}
		for (size_t i = 0; i < n->n; i++) {
			const yml_node *k = n->items[2 * i];
			const yml_node *v = n->items[2 * i + 1];
			long prev;
			if (k->kind != YML_SCALAR) {
				ERR(c, k, "bad-code",
				    "an attribute code must be a plain name");
				continue;
			}
			if (!is_code(k->str)) {
				ERR(c, k, "bad-code",
				    "attribute code '%s' must match "
				    "[a-z][a-z0-9_]* (at most %d characters)",
				    k->str, CODE_MAX);
				continue;
			}
			prev = find_attr(s, k->str);
			if (prev >= 0) {
				ERR(c, k, "duplicate",
				    "duplicate attribute '%s' (first at line %lu)",
				    k->str, s->attrs[prev].line);
				continue;
			}
			s->attrs[s->n_attrs].code = dup(c, k->str);
			load_attr(c, &s->attrs[s->n_attrs], k, v);
			s->n_attrs++;
		}
		s->key = -1;
		for (size_t i = 0; i < s->n_attrs; i++) {
			if (s->attrs[i].type != PIM_TYPE_IDENTIFIER)
				continue;
			if (s->key >= 0) {
				yml_node tmp;
				memset(&tmp, 0, sizeof tmp);
				tmp.line = s->attrs[i].line;
				tmp.col = s->attrs[i].col;
				ERR(c, &tmp, "duplicate",
				    "only one identifier attribute (the product "
				    "key) is allowed; '%s' is already it",
				    s->attrs[s->key].code);
				continue;
			}
			s->key = (long)i;
		}
		if (s->key < 0 && (s->n_attrs || n->n == 0))
			ERR(c, n, "missing",
			    "the schema needs one attribute of type identifier "
			    "(the product key, such as sku)");
	}

	for (size_t i = 0; i < s->n_attrs; i++) {
		s->attrs[i].currencies = s->currencies;
		s->attrs[i].n_currencies = s->n_currencies;
	}
	if ((n = yml_get(root, "families")))
		load_families(c, n);
	if ((n = yml_get(root, "roles")))
		load_roles(c, n);
	if ((n = yml_get(root, "checks"))) {
		if (n->kind != YML_SEQ) {
			ERR(c, n, "bad-value",
			    "checks must be a list like [\"a >= b\"]");
		} else {
			s->checks = pim_calloc(n->n + 1, sizeof *s->checks);
			if (!s->checks) {
				c->nomem = 1;
				return;
			}
			for (size_t i = 0; i < n->n; i++)
				load_check(c, &s->checks[s->n_checks++],
					   n->items[i]);
		}
	}
}

void pim_schema_free(pim_schema *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_attrs; i++)
		free_attr(&s->attrs[i]);
	pim_free(s->attrs);
	for (size_t i = 0; i < s->n_families; i++) {
		pim_free(s->families[i].name);
		pim_free(s->families[i].attrs);
		pim_free(s->families[i].required);
	}
	pim_free(s->families);
	for (size_t i = 0; i < s->n_roles; i++) {
		pim_role *r = &s->roles[i];
		pim_free(r->name);
		if (r->labels)
			for (size_t j = 0; j < r->n_attrs; j++)
				free_labels(r->labels[j],
					    r->n_labels ? r->n_labels[j] : 0);
		pim_free(r->labels);
		pim_free(r->n_labels);
		pim_free(r->attrs);
		pim_free(r->required);
		pim_free(r->edit);
	}
	pim_free(s->roles);
	for (size_t i = 0; i < s->n_checks; i++) {
		pim_free(s->checks[i].text);
		pim_free(s->checks[i].message);
	}
	pim_free(s->checks);
	free_list(s->locales, s->n_locales);
	free_list(s->currencies, s->n_currencies);
	pim_free(s->name);
	pim_free(s->source);
	pim_free(s);
}

int pim_schema_load_buffer(pim_schema **out, const char *name,
			   const char *data, size_t len, pim_diag_fn diag,
			   void *ctx)
{
	yml_doc doc;
	sctx c;
	int rc;

	*out = NULL;
	memset(&c, 0, sizeof c);
	c.file = name ? name : "-";
	c.diag = diag;
	c.dctx = ctx;
	c.s = pim_calloc(1, sizeof *c.s);
	if (!c.s)
		return PIM_ENOMEM;
	c.s->key = -1;
	c.s->source = pim_strndup(data, len);
	c.s->source_len = len;
	if (!c.s->source) {
		pim_schema_free(c.s);
		return PIM_ENOMEM;
	}
	rc = yml_parse(&doc, c.file, data, len, diag, ctx);
	if (rc == 0) {
		if (!doc.root) {
			c.errors++;
			if (diag) {
				pim_diag d;
				memset(&d, 0, sizeof d);
				d.file = c.file;
				d.line = 1;
				d.col = 1;
				d.code = "missing";
				d.message = "the schema file is empty";
				diag(&d, ctx);
			}
		} else {
			load_root(&c, doc.root);
		}
		rc = c.nomem ? PIM_ENOMEM : c.errors ? PIM_EPARSE : 0;
	} else if (rc == PIM_ELIMIT) {
		rc = PIM_EPARSE;
	}
	yml_free(&doc);
	if (rc) {
		pim_schema_free(c.s);
		return rc;
	}
	*out = c.s;
	return 0;
}

int pim_schema_load_file(pim_schema **out, const char *path,
			 pim_diag_fn diag, void *ctx)
{
	char *data = NULL;
	size_t len;
	int rc;

	*out = NULL;
	rc = yml_read_file_diag(&data, &len, path, SCHEMA_MAX_BYTES, diag, ctx);
	if (rc)
		return rc;
	rc = pim_schema_load_buffer(out, path, data, len, diag, ctx);
	pim_free(data);
	return rc;
}

const char *pim_schema_name(const pim_schema *s)
{
	return s->name;
}

const char *pim_schema_source(const pim_schema *s, size_t *len)
{
	if (len)
		*len = s->source_len;
	return s->source;
}

size_t pim_schema_attribute_count(const pim_schema *s)
{
	return s->n_attrs;
}

const char *pim_schema_attribute_code(const pim_schema *s, size_t i)
{
	return i < s->n_attrs ? s->attrs[i].code : NULL;
}

pim_type pim_schema_attribute_type(const pim_schema *s, size_t i)
{
	return i < s->n_attrs ? s->attrs[i].type : PIM_TYPE__COUNT;
}

long pim_schema_attribute_find(const pim_schema *s, const char *code)
{
	return find_attr(s, code);
}

size_t pim_schema_role_count(const pim_schema *s)
{
	return s->n_roles;
}

const char *pim_schema_role_name(const pim_schema *s, size_t i)
{
	return i < s->n_roles ? s->roles[i].name : NULL;
}

const pim_role *pim_schema_role(const pim_schema *s, const char *name)
{
	for (size_t i = 0; i < s->n_roles; i++)
		if (strcmp(s->roles[i].name, name) == 0)
			return &s->roles[i];
	return NULL;
}

long pim_date_ymd(const char *s, size_t len)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31 };
	long y, m, d;

	if (len != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (size_t i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !(s[i] >= '0' && s[i] <= '9'))
			return -1;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return -1;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -1;
	return y * 10000 + m * 100 + d;
}
