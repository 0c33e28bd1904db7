/*
 * rules.c - enrichment rules (pim-rules(5)): loading and checking a rules
 * file against the catalog's schema (every problem as FILE:LINE:COL),
 * applying the rules to one product's values in memory, storing a rules
 * file in the catalog, and `pim enrich`: one streaming pass over the
 * products inside one write transaction and one batch.
 */
#include "rules.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicase.h>
#include <unistr.h>
#include <uninorm.h>

#include "expr.h"
#include "mapping.h"
#include "uniq.h"
#include "value.h"
#include "yml.h"

#define RULES_MAX_BYTES (16u << 20)
#define TXT(st, i) ((const char *)sqlite3_column_text((st), (i)))

/* ---- the model ---------------------------------------------------------- */

typedef enum {
	A_SET,
	A_DEFAULT,
	A_COPY,
	A_CLEAR,
	A_TEMPLATE,
	A_CALCULATE,
	A_NORMALIZE,
	A_MAP,
	A_GTIN
} akind;

static const char *const action_names[] = { "set",      "default",
					    "copy",     "clear",
					    "template", "calculate",
					    "normalize", "map",
					    "gtin",     NULL };

/* A piece of a template: literal text, then optionally a placeholder. */
typedef struct tpart {
	char *lit;
	long slot;             /* -1: no placeholder */
	int decimals;          /* -1: as stored */
	const pim_unit *unit;  /* measures: show in this unit */
	int bare;              /* the number without unit or currency */
} tpart;

/* Calculation in reverse Polish notation. */
typedef struct ctok {
	char op;   /* 'n' number, 'a' attribute, '+', '-', '*', '/', '~' neg */
	double num;
	long slot;
} ctok;

enum { ROUND_NEAREST, ROUND_UP, ROUND_DOWN };

/* Normalisation steps, applied in the order written. */
typedef enum {
	N_TRIM,
	N_COLLAPSE,
	N_UPPER,
	N_LOWER,
	N_TITLE,
	N_SENTENCE,
	N_NFC,
	N_UNIT,
	N_DECIMALS
} nkind;

typedef struct nstep {
	nkind kind;
	const pim_unit *unit;
	int decimals;
} nstep;

typedef struct mapent {
	char *from; /* folded unless case-sensitive */
	char *to;
} mapent;

typedef struct action {
	akind kind;
	long slot;            /* the target */
	long src;             /* copy, map, gtin: the source slot */
	char *text;           /* set, default: the value */
	tpart *parts;         /* template */
	size_t n_parts;
	char decimal;         /* template: decimal separator */
	ctok *rpn;            /* calculate */
	size_t n_rpn;
	double round;         /* 0: none */
	int rounding;
	int has_ending;
	double ending, ending_step;
	nstep *steps;         /* normalize */
	size_t n_steps;
	mapent *map;          /* map */
	size_t n_map;
	char *map_default;
	int map_words, map_case;
	int pad14;            /* gtin */
	unsigned long line, col;
} action;

typedef struct rule {
	char *name;
	pim_cond *when;
	action *acts;
	size_t n_acts;
	unsigned long line, col;
} rule;

struct pim_rules {
	pim_catalog *cat;
	char *file;
	char *source;
	size_t source_len;
	rule *rules;
	size_t n;
	unsigned char *target; /* per slot */
	uint64_t hash;
	size_t max_rpn;
};

/* ---- loading: diagnostics ------------------------------------------------ */

typedef struct lctx {
	pim_rules *r;
	pim_catalog *cat;
	const pim_schema *s;
	const char *file;
	pim_diag_fn diag;
	void *dctx;
	int errors;
	int nomem;
} lctx;

static void lerr_at(lctx *c, unsigned long line, unsigned long col,
		    const char *code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void lerr_at(lctx *c, unsigned long line, unsigned long col,
		    const char *code, const char *fmt, ...)
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
	d.line = line;
	d.col = col;
	d.code = code;
	d.severity = PIM_SEV_ERROR;
	d.message = msg;
	c->diag(&d, c->dctx);
}

#define lerr(c, n, code, ...) \
	lerr_at((c), (n) ? (n)->line : 0, (n) ? (n)->col : 0, code, __VA_ARGS__)

/* The column of character `off` (bytes) of a one-line scalar. */
static unsigned long scalar_col(const yml_node *n, size_t off)
{
	return n->col + (n->quoted ? 1 : 0) +
	       (unsigned long)pim_utf8_count(n->str, off);
}

static char *ldup(lctx *c, const char *s)
{
	char *d = pim_strdup(s ? s : "");
	if (!d)
		c->nomem = 1;
	return d;
}

static int is_scalar(const yml_node *n)
{
	return n && n->kind == YML_SCALAR;
}

static void check_keys(lctx *c, const yml_node *map, const char *where,
		       const char *const *known)
{
	for (size_t i = 0; i < map->n; i++) {
		const yml_node *k = map->items[2 * i];
		const char *best = NULL;
		unsigned bestd = 3;
		int ok = 0;
		if (k->kind != YML_SCALAR) {
			lerr(c, k, "bad-key", "a key in %s must be a name", where);
			continue;
		}
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
		for (size_t j = 0; j < i && ok; j++)
			if (map->items[2 * j]->kind == YML_SCALAR &&
			    !strcmp(map->items[2 * j]->str, k->str)) {
				lerr(c, k, "duplicate",
				     "duplicate key '%s' (first at line %lu)",
				     k->str, map->items[2 * j]->line);
				break;
			}
		if (ok)
			continue;
		if (best)
			lerr(c, k, "unknown-key",
			     "unknown key '%s' in %s (did you mean '%s'?)", k->str,
			     where, best);
		else
			lerr(c, k, "unknown-key", "unknown key '%s' in %s", k->str,
			     where);
	}
}

/* "code" or "code@locale" (len bytes of s) to a slot; -1 after an error
 * reported at line:col. */
static long resolve_at(lctx *c, const char *s, size_t len, unsigned long line,
		       unsigned long col)
{
	const pim_catalog *cat = c->cat;
	char code[128];
	const char *at = memchr(s, '@', len), *loc = NULL;
	size_t clen = at ? (size_t)(at - s) : len;
	long ai, slot;

	if (clen == 0 || clen >= sizeof code) {
		lerr_at(c, line, col, "unknown-attribute",
			"'%.*s' is not an attribute", (int)len, s);
		return -1;
	}
	memcpy(code, s, clen);
	code[clen] = '\0';
	ai = pim_schema_attribute_find(c->s, code);
	if (ai < 0) {
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
			lerr_at(c, line, col, "unknown-attribute",
				"unknown attribute '%s' (did you mean '%s'?)",
				code, best);
		else
			lerr_at(c, line, col, "unknown-attribute",
				"unknown attribute '%s'", code);
		return -1;
	}
	if (at) {
		char lbuf[64];
		size_t ll = len - clen - 1;
		if (ll >= sizeof lbuf) {
			ll = sizeof lbuf - 1;
		}
		memcpy(lbuf, at + 1, ll);
		lbuf[ll] = '\0';
		if (!c->s->attrs[ai].localizable) {
			lerr_at(c, line, col, "locale", "'%s' is not localizable",
				code);
			return -1;
		}
		if (!(loc = pim_schema_locale(c->s, lbuf))) {
			lerr_at(c, line, col, "locale",
				"'%s' is not one of the schema's locales", lbuf);
			return -1;
		}
	} else if (c->s->attrs[ai].localizable) {
		loc = c->s->n_locales ? c->s->locales[0] : NULL;
	}
	slot = pim_slot_find(cat->slots, cat->n_slots, (size_t)ai, loc);
	if (slot < 0)
		lerr_at(c, line, col, "locale", "'%s' has no value in locale %s",
			code, loc ? loc : "(none)");
	return slot;
}

static long resolve(lctx *c, const yml_node *n)
{
	if (!is_scalar(n) || n->len == 0) {
		lerr(c, n, "bad-value", "expected an attribute code");
		return -1;
	}
	return resolve_at(c, n->str, n->len, n->line, n->col);
}

/* A target: a slot any rule may write, never the key. */
static long resolve_target(lctx *c, const yml_node *n)
{
	long slot = resolve(c, n);
	if (slot >= 0 && (size_t)slot == c->cat->key_slot) {
		lerr(c, n, "key", "%s is the product's key; rules cannot "
				  "change it",
		     n->str);
		return -1;
	}
	return slot;
}

static const pim_attr *slot_attr(const pim_catalog *cat, long slot)
{
	return &cat->schema->attrs[cat->slots[slot].attr];
}

static int is_numeric(pim_type t)
{
	return t == PIM_TYPE_INTEGER || t == PIM_TYPE_NUMBER ||
	       t == PIM_TYPE_PRICE || t == PIM_TYPE_MEASURE;
}

/* ---- loading: calculate ------------------------------------------------- */

typedef struct cparse {
	lctx *c;
	const yml_node *n;
	const char *s;
	size_t pos;
	ctok *out;
	size_t n_out, cap;
	int failed;
	int depth;
} cparse;

static void cfail(cparse *p, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void cfail(cparse *p, size_t at, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	if (p->failed)
		return;
	p->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	lerr_at(p->c, p->n->line, scalar_col(p->n, at), "calculate",
		"calculate: %s", msg);
}

static void cskip(cparse *p)
{
	while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t')
		p->pos++;
}

static void cemit(cparse *p, char op, double num, long slot)
{
	if (p->n_out == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		ctok *nt = pim_realloc(p->out, cap * sizeof *nt);
		if (!nt) {
			p->c->nomem = 1;
			p->failed = 1;
			return;
		}
		p->out = nt;
		p->cap = cap;
	}
	p->out[p->n_out].op = op;
	p->out[p->n_out].num = num;
	p->out[p->n_out].slot = slot;
	p->n_out++;
}

static void c_expr(cparse *p);

static void c_primary(cparse *p)
{
	const char *s = p->s;
	size_t start;

	cskip(p);
	start = p->pos;
	if (p->failed)
		return;
	if (++p->depth > 64) {
		cfail(p, start, "the expression nests too deeply");
		return;
	}
	if (s[p->pos] == '-') {
		p->pos++;
		c_primary(p);
		cemit(p, '~', 0, -1);
	} else if (s[p->pos] == '(') {
		p->pos++;
		c_expr(p);
		cskip(p);
		if (s[p->pos] != ')')
			cfail(p, p->pos, "expected ')'");
		else
			p->pos++;
	} else if ((s[p->pos] >= '0' && s[p->pos] <= '9') || s[p->pos] == '.') {
		char *end;
		double v = strtod(s + p->pos, &end);
		if (end == s + p->pos || !isfinite(v))
			cfail(p, start, "a bad number");
		p->pos = (size_t)(end - s);
		cemit(p, 'n', v, -1);
	} else if ((s[p->pos] >= 'a' && s[p->pos] <= 'z') ||
		   (s[p->pos] >= 'A' && s[p->pos] <= 'Z') || s[p->pos] == '_') {
		long slot;
		while ((s[p->pos] >= 'a' && s[p->pos] <= 'z') ||
		       (s[p->pos] >= 'A' && s[p->pos] <= 'Z') ||
		       (s[p->pos] >= '0' && s[p->pos] <= '9') ||
		       s[p->pos] == '_' || s[p->pos] == '@')
			p->pos++;
		slot = resolve_at(p->c, s + start, p->pos - start, p->n->line,
				  scalar_col(p->n, start));
		if (slot < 0) {
			p->failed = 1;
			return;
		}
		if (!is_numeric(slot_attr(p->c->cat, slot)->type)) {
			cfail(p, start,
			      "%.*s is a %s attribute; calculate needs numbers, "
			      "prices or measures",
			      (int)(p->pos - start), s + start,
			      pim_type_name(slot_attr(p->c->cat, slot)->type));
			return;
		}
		cemit(p, 'a', 0, slot);
	} else if (!s[p->pos]) {
		cfail(p, start, "the expression ends too early");
	} else {
		cfail(p, start, "unexpected '%c'", s[p->pos]);
	}
	p->depth--;
}

static void c_term(cparse *p)
{
	c_primary(p);
	for (;;) {
		char op;
		cskip(p);
		op = p->s[p->pos];
		if (p->failed || (op != '*' && op != '/'))
			return;
		p->pos++;
		c_primary(p);
		cemit(p, op, 0, -1);
	}
}

static void c_expr(cparse *p)
{
	c_term(p);
	for (;;) {
		char op;
		cskip(p);
		op = p->s[p->pos];
		if (p->failed || (op != '+' && op != '-'))
			return;
		p->pos++;
		c_term(p);
		cemit(p, op, 0, -1);
	}
}

static int load_calc(lctx *c, action *a, const yml_node *n)
{
	cparse p;

	memset(&p, 0, sizeof p);
	p.c = c;
	p.n = n;
	p.s = n->str;
	c_expr(&p);
	cskip(&p);
	if (!p.failed && p.s[p.pos])
		cfail(&p, p.pos, "expected an operator or the end, found '%c'",
		      p.s[p.pos]);
	if (p.failed) {
		pim_free(p.out);
		return -1;
	}
	a->rpn = p.out;
	a->n_rpn = p.n_out;
	if (a->n_rpn > c->r->max_rpn)
		c->r->max_rpn = a->n_rpn;
	return 0;
}

static void load_rounding(lctx *c, action *a, const yml_node *round,
			  const yml_node *ending, const yml_node *mode)
{
	if (round) {
		if (yml_number(round, &a->round) || a->round <= 0)
			lerr(c, round, "bad-value",
			     "round must be a positive number, such as 0.10 or 1");
	}
	if (mode) {
		if (is_scalar(mode) && !strcmp(mode->str, "nearest"))
			a->rounding = ROUND_NEAREST;
		else if (is_scalar(mode) && !strcmp(mode->str, "up"))
			a->rounding = ROUND_UP;
		else if (is_scalar(mode) && !strcmp(mode->str, "down"))
			a->rounding = ROUND_DOWN;
		else
			lerr(c, mode, "bad-value",
			     "rounding must be nearest, up or down");
	}
	if (ending) {
		const char *s = is_scalar(ending) ? ending->str : "";
		const char *dot = strchr(s, '.');
		size_t ints = dot ? (size_t)(dot - s) : strlen(s);
		char *end;
		double v = strtod(s, &end);
		if (!*s || *end || v < 0 || ints > 9 ||
		    strspn(s, "0123456789.") != strlen(s)) {
			lerr(c, ending, "bad-value",
			     "ending must be digits such as .90, 9.90 or 99");
			return;
		}
		a->has_ending = 1;
		a->ending = v;
		a->ending_step = pow(10, (double)ints);
	}
}

/* ---- loading: template ------------------------------------------------- */

static int tpart_add(lctx *c, action *a, const char *lit, size_t len)
{
	tpart *np = pim_realloc(a->parts, (a->n_parts + 1) * sizeof *np);
	if (!np) {
		c->nomem = 1;
		return -1;
	}
	a->parts = np;
	memset(&np[a->n_parts], 0, sizeof *np);
	np[a->n_parts].slot = -1;
	np[a->n_parts].decimals = -1;
	if (!(np[a->n_parts].lit = pim_strndup(lit, len))) {
		c->nomem = 1;
		return -1;
	}
	a->n_parts++;
	return 0;
}

/* "{code[@locale][:option]...}" with options: N decimals, a unit, bare. */
static int load_placeholder(lctx *c, tpart *t, const yml_node *n,
			    const char *s, size_t len, size_t off)
{
	const char *colon = memchr(s, ':', len);
	size_t nlen = colon ? (size_t)(colon - s) : len;
	const pim_attr *at;
	long slot = resolve_at(c, s, nlen, n->line, scalar_col(n, off));

	if (slot < 0)
		return -1;
	t->slot = slot;
	at = slot_attr(c->cat, slot);
	while (colon) {
		const char *o = colon + 1;
		size_t olen;
		char opt[32];
		colon = memchr(o, ':', len - (size_t)(o - s));
		olen = colon ? (size_t)(colon - o) : len - (size_t)(o - s);
		if (olen == 0 || olen >= sizeof opt) {
			lerr_at(c, n->line, scalar_col(n, off + (size_t)(o - s)),
				"template", "template: an empty or too long "
					    "option");
			return -1;
		}
		memcpy(opt, o, olen);
		opt[olen] = '\0';
		if (strspn(opt, "0123456789") == olen && olen <= 2) {
			t->decimals = atoi(opt);
		} else if (!strcmp(opt, "bare")) {
			t->bare = 1;
		} else if (pim_unit_find(opt)) {
			const pim_unit *u = pim_unit_find(opt);
			if (at->type != PIM_TYPE_MEASURE || !at->unit ||
			    at->unit->dim != u->dim) {
				lerr_at(c, n->line,
					scalar_col(n, off + (size_t)(o - s)),
					"template",
					"template: %s cannot be shown in %s",
					at->code, opt);
				return -1;
			}
			t->unit = u;
		} else {
			lerr_at(c, n->line, scalar_col(n, off + (size_t)(o - s)),
				"template",
				"template: unknown option '%s' (a number of "
				"decimals, a unit, or bare)",
				opt);
			return -1;
		}
	}
	if ((t->decimals >= 0 || t->unit || t->bare) && !is_numeric(at->type)) {
		lerr_at(c, n->line, scalar_col(n, off), "template",
			"template: %s is not a number, price or measure; it "
			"takes no options",
			at->code);
		return -1;
	}
	return 0;
}

static int load_template(lctx *c, action *a, const yml_node *n)
{
	pim_buf lit = PIM_BUF_INIT;
	const char *s = n->str;
	size_t i = 0;
	int bad = 0;

	while (s[i]) {
		if (s[i] == '{' && s[i + 1] == '{') {
			pim_buf_addc(&lit, '{');
			i += 2;
		} else if (s[i] == '}' && s[i + 1] == '}') {
			pim_buf_addc(&lit, '}');
			i += 2;
		} else if (s[i] == '}') {
			lerr_at(c, n->line, scalar_col(n, i), "template",
				"template: '}' without '{' (write }} for a "
				"brace)");
			bad = 1;
			break;
		} else if (s[i] == '{') {
			const char *close = strchr(s + i, '}');
			if (!close) {
				lerr_at(c, n->line, scalar_col(n, i), "template",
					"template: '{' without '}'");
				bad = 1;
				break;
			}
			if (tpart_add(c, a, lit.data ? lit.data : "", lit.len)) {
				bad = 1;
				break;
			}
			pim_buf_clear(&lit);
			if (load_placeholder(c, &a->parts[a->n_parts - 1], n,
					     s + i + 1,
					     (size_t)(close - s - i - 1), i + 1))
				bad = 1;
			i = (size_t)(close - s) + 1;
		} else {
			pim_buf_addc(&lit, s[i++]);
		}
	}
	if (!bad && lit.len && tpart_add(c, a, lit.data, lit.len))
		bad = 1;
	pim_buf_free(&lit);
	return bad ? -1 : 0;
}

/* ---- loading: normalize, map, gtin ------------------------------------ */

static int load_steps(lctx *c, action *a, const yml_node *n)
{
	static const struct {
		const char *name;
		nkind kind;
	} names[] = { { "trim", N_TRIM },       { "collapse", N_COLLAPSE },
		      { "collapse_spaces", N_COLLAPSE },
		      { "upper", N_UPPER },     { "lower", N_LOWER },
		      { "title", N_TITLE },     { "sentence", N_SENTENCE },
		      { "nfc", N_NFC },         { NULL, N_TRIM } };
	const pim_attr *at = slot_attr(c->cat, a->slot);
	size_t count = n->kind == YML_SEQ ? n->n : 1;
	int bad = 0;

	if (n->kind == YML_MAP) {
		lerr(c, n, "bad-value",
		     "normalize: give a step or a list of steps");
		return -1;
	}
	if (!(a->steps = pim_calloc(count + 1, sizeof *a->steps))) {
		c->nomem = 1;
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		const yml_node *st = n->kind == YML_SEQ ? n->items[i] : n;
		nstep *x = &a->steps[a->n_steps];
		if (st->kind == YML_MAP && st->n == 1 &&
		    is_scalar(st->items[0]) && is_scalar(st->items[1])) {
			const yml_node *k = st->items[0], *v = st->items[1];
			double d;
			if (!at->unit || at->type != PIM_TYPE_MEASURE) {
				if (!strcmp(k->str, "decimals") &&
				    is_numeric(at->type)) {
					/* numbers and prices may round */
				} else {
					lerr(c, k, "normalize",
					     "normalize: %s applies to measures%s",
					     k->str,
					     strcmp(k->str, "decimals")
						     ? ""
						     : ", numbers and prices");
					bad = 1;
					continue;
				}
			}
			if (!strcmp(k->str, "unit")) {
				const pim_unit *u = pim_unit_find(v->str);
				if (!u || u->dim != at->unit->dim) {
					lerr(c, v, "normalize",
					     "normalize: '%s' is not a %s unit",
					     v->str,
					     pim_dimension_name(at->unit->dim));
					bad = 1;
					continue;
				}
				x->kind = N_UNIT;
				x->unit = u;
			} else if (!strcmp(k->str, "decimals")) {
				if (yml_number(v, &d) || d < 0 || d > 9 ||
				    d != floor(d)) {
					lerr(c, v, "normalize",
					     "normalize: decimals must be a "
					     "whole number from 0 to 9");
					bad = 1;
					continue;
				}
				x->kind = N_DECIMALS;
				x->decimals = (int)d;
			} else {
				lerr(c, k, "normalize",
				     "normalize: unknown step '%s' (unit, "
				     "decimals)",
				     k->str);
				bad = 1;
				continue;
			}
			a->n_steps++;
			continue;
		}
		if (!is_scalar(st)) {
			lerr(c, st, "normalize",
			     "normalize: a step is a name, {unit: U} or "
			     "{decimals: N}");
			bad = 1;
			continue;
		}
		{
			size_t k;
			for (k = 0; names[k].name; k++)
				if (!strcmp(names[k].name, st->str))
					break;
			if (!names[k].name) {
				lerr(c, st, "normalize",
				     "normalize: unknown step '%s' (trim, "
				     "collapse, upper, lower, title, sentence, "
				     "nfc, {unit: U}, {decimals: N})",
				     st->str);
				bad = 1;
				continue;
			}
			x->kind = names[k].kind;
			a->n_steps++;
		}
	}
	return bad ? -1 : 0;
}

/* Lower-cased with Unicode rules (caller frees), or NULL. */
static char *fold(const char *s, size_t len, size_t *outlen)
{
	size_t n = 0;
	uint8_t *r = u8_tolower((const uint8_t *)s, len, NULL, NULL, NULL, &n);
	char *z;

	if (!r)
		return NULL;
	z = pim_malloc(n + 1);
	if (z) {
		memcpy(z, r, n);
		z[n] = '\0';
	}
	free(r);
	if (outlen)
		*outlen = n;
	return z;
}

static int load_map(lctx *c, action *a, const yml_node *n)
{
	static const char *const keys[] = { "from", "values", "default",
					    "match", "case", NULL };
	const yml_node *v, *from, *def, *match, *cs;

	if (n->kind != YML_MAP) {
		lerr(c, n, "bad-value",
		     "map: give {values: {...}, from, default, match, case}");
		return -1;
	}
	check_keys(c, n, "map", keys);
	v = yml_get(n, "values");
	from = yml_get(n, "from");
	def = yml_get(n, "default");
	match = yml_get(n, "match");
	cs = yml_get(n, "case");
	a->src = from ? resolve(c, from) : a->slot;
	if (from && a->src < 0)
		return -1;
	if (match) {
		if (is_scalar(match) && !strcmp(match->str, "word"))
			a->map_words = 1;
		else if (!is_scalar(match) || strcmp(match->str, "whole")) {
			lerr(c, match, "bad-value", "match must be whole or word");
			return -1;
		}
	}
	if (cs) {
		if (is_scalar(cs) && !strcmp(cs->str, "sensitive"))
			a->map_case = 1;
		else if (!is_scalar(cs) || strcmp(cs->str, "insensitive")) {
			lerr(c, cs, "bad-value",
			     "case must be sensitive or insensitive");
			return -1;
		}
	}
	if (def) {
		if (!is_scalar(def)) {
			lerr(c, def, "bad-value", "default must be a value");
			return -1;
		}
		if (!(a->map_default = ldup(c, def->str)))
			return -1;
	}
	if (!v || v->kind != YML_MAP || v->n == 0) {
		lerr(c, v ? v : n, "bad-value",
		     "map: values must be a table of value: replacement");
		return -1;
	}
	if (!(a->map = pim_calloc(v->n + 1, sizeof *a->map))) {
		c->nomem = 1;
		return -1;
	}
	for (size_t i = 0; i < v->n; i++) {
		const yml_node *k = v->items[2 * i], *t = v->items[2 * i + 1];
		mapent *e = &a->map[a->n_map];
		if (!is_scalar(k) || !is_scalar(t)) {
			lerr(c, k, "bad-value",
			     "map: each entry is value: replacement");
			continue;
		}
		e->from = a->map_case ? ldup(c, k->str)
				      : fold(k->str, k->len, NULL);
		e->to = ldup(c, t->str);
		if (!e->from || !e->to) {
			c->nomem = 1;
			return -1;
		}
		a->n_map++;
	}
	return 0;
}

static int load_gtin(lctx *c, action *a, const yml_node *n)
{
	static const char *const keys[] = { "from", "pad", NULL };
	const yml_node *from, *pad;

	a->src = a->slot;
	if (slot_attr(c->cat, a->slot)->type != PIM_TYPE_GTIN &&
	    slot_attr(c->cat, a->slot)->type != PIM_TYPE_TEXT &&
	    slot_attr(c->cat, a->slot)->type != PIM_TYPE_IDENTIFIER) {
		lerr_at(c, a->line, a->col, "gtin",
			"gtin: the target must be a gtin or text attribute");
		return -1;
	}
	if (!n || (is_scalar(n) && yml_is_null(n)))
		return 0;
	if (n->kind != YML_MAP) {
		lerr(c, n, "bad-value", "gtin: give {from: ATTRIBUTE, pad: 14}");
		return -1;
	}
	check_keys(c, n, "gtin", keys);
	from = yml_get(n, "from");
	pad = yml_get(n, "pad");
	if (from && (a->src = resolve(c, from)) < 0)
		return -1;
	if (pad) {
		double d;
		if (yml_number(pad, &d) || d != 14) {
			lerr(c, pad, "bad-value", "gtin: pad can only be 14");
			return -1;
		}
		a->pad14 = 1;
	}
	return 0;
}

/* ---- loading: rules ----------------------------------------------------- */

static action *new_action(lctx *c, rule *r, akind kind, const yml_node *at)
{
	action *na = pim_realloc(r->acts, (r->n_acts + 1) * sizeof *na);
	if (!na) {
		c->nomem = 1;
		return NULL;
	}
	r->acts = na;
	memset(&na[r->n_acts], 0, sizeof *na);
	na[r->n_acts].kind = kind;
	na[r->n_acts].src = -1;
	na[r->n_acts].slot = -1;
	na[r->n_acts].decimal = '.';
	na[r->n_acts].line = at->line;
	na[r->n_acts].col = at->col;
	return &na[r->n_acts++];
}

/* One action key: its targets, each with its own specification. */
static void load_action(lctx *c, rule *r, akind kind, const yml_node *body,
			const yml_node *rule_map)
{
	const char *name = action_names[kind];

	if (kind == A_CLEAR) {
		size_t count = body->kind == YML_SEQ ? body->n : 1;
		if (body->kind == YML_MAP) {
			lerr(c, body, "bad-value",
			     "clear: give an attribute or a list of them");
			return;
		}
		for (size_t i = 0; i < count; i++) {
			const yml_node *t =
				body->kind == YML_SEQ ? body->items[i] : body;
			long slot = resolve_target(c, t);
			action *a;
			if (slot < 0 || !(a = new_action(c, r, kind, t)))
				continue;
			a->slot = slot;
			if (slot_attr(c->cat, slot)->required)
				lerr(c, t, "required",
				     "clear: %s is required; it cannot be "
				     "cleared",
				     t->str);
		}
		return;
	}
	if (kind == A_GTIN && is_scalar(body)) {
		long slot = resolve_target(c, body);
		action *a;
		if (slot < 0 || !(a = new_action(c, r, kind, body)))
			return;
		a->slot = slot;
		load_gtin(c, a, NULL);
		return;
	}
	if (body->kind != YML_MAP || body->n == 0) {
		lerr(c, body, "bad-value",
		     "%s: give a table of attribute: %s", name,
		     kind == A_COPY       ? "source"
		     : kind == A_TEMPLATE  ? "\"text with {attribute}\""
		     : kind == A_CALCULATE ? "expression"
		     : kind == A_NORMALIZE ? "[steps]"
		     : kind == A_MAP       ? "{values: {...}}"
		     : kind == A_GTIN      ? "{from: ATTRIBUTE, pad: 14}"
					   : "value");
		return;
	}
	for (size_t i = 0; i < body->n; i++) {
		const yml_node *k = body->items[2 * i];
		const yml_node *v = body->items[2 * i + 1];
		long slot = resolve_target(c, k);
		const pim_attr *at;
		action *a;

		if (slot < 0 || !(a = new_action(c, r, kind, k)))
			continue;
		a->slot = slot;
		at = slot_attr(c->cat, slot);
		switch (kind) {
		case A_SET:
		case A_DEFAULT: {
			pim_buf b = PIM_BUF_INIT;
			pim_value_err e;
			int rc;
			if (!is_scalar(v) || yml_is_null(v) || v->len == 0) {
				lerr(c, v, "bad-value",
				     "%s: %s needs a value (use clear to empty "
				     "it)",
				     name, k->str);
				break;
			}
			/* a constant is checked once, here */
			rc = pim_value_parse(&b, &e, at, v->str, v->len, NULL);
			if (rc > 0)
				lerr(c, v, e.code, "%s: '%s' for %s: %s", name,
				     v->str, k->str, e.msg);
			else if (rc < 0)
				c->nomem = 1;
			else
				a->text = ldup(c, b.data);
			pim_buf_free(&b);
			break;
		}
		case A_COPY:
			a->src = resolve(c, v);
			break;
		case A_TEMPLATE:
			if (v->kind == YML_MAP) {
				static const char *const keys[] = { "text",
								    "decimal",
								    NULL };
				const yml_node *t = yml_get(v, "text");
				const yml_node *d = yml_get(v, "decimal");
				check_keys(c, v, "template", keys);
				if (d && (!is_scalar(d) || d->len != 1 ||
					  (d->str[0] != '.' && d->str[0] != ',')))
					lerr(c, d, "bad-value",
					     "decimal must be \".\" or \",\"");
				else if (d)
					a->decimal = d->str[0];
				v = t;
			}
			if (!is_scalar(v) || v->len == 0)
				lerr(c, v ? v : k, "bad-value",
				     "template: %s needs a text", k->str);
			else
				load_template(c, a, v);
			break;
		case A_CALCULATE: {
			const yml_node *e = v, *round = yml_get(rule_map, "round");
			const yml_node *ending = yml_get(rule_map, "ending");
			const yml_node *mode = yml_get(rule_map, "rounding");
			if (!is_numeric(at->type)) {
				lerr(c, k, "calculate",
				     "calculate: %s is a %s attribute; the "
				     "result is a number",
				     k->str, pim_type_name(at->type));
				break;
			}
			if (v->kind == YML_MAP) {
				static const char *const keys[] = {
					"expr", "round", "ending", "rounding", NULL
				};
				check_keys(c, v, "calculate", keys);
				e = yml_get(v, "expr");
				if (yml_get(v, "round"))
					round = yml_get(v, "round");
				if (yml_get(v, "ending"))
					ending = yml_get(v, "ending");
				if (yml_get(v, "rounding"))
					mode = yml_get(v, "rounding");
			}
			if (!is_scalar(e) || e->len == 0) {
				lerr(c, e ? e : k, "bad-value",
				     "calculate: %s needs an expression", k->str);
				break;
			}
			if (memchr(e->str, '\n', e->len)) {
				lerr(c, e, "bad-value",
				     "calculate: write the expression on one "
				     "line");
				break;
			}
			load_calc(c, a, e);
			load_rounding(c, a, round, ending, mode);
			break;
		}
		case A_NORMALIZE:
			load_steps(c, a, v);
			break;
		case A_MAP:
			load_map(c, a, v);
			break;
		case A_GTIN:
			load_gtin(c, a, v);
			break;
		case A_CLEAR:
			break;
		}
	}
}

static void load_when(lctx *c, rule *r, const yml_node *w)
{
	pim_where_error err;
	int rc;

	if (r->when)
		return; /* a second 'when' (check_keys reports it) */
	if (!is_scalar(w) || w->len == 0) {
		lerr(c, w, "bad-value", "when: give a condition (pim-where(7))");
		return;
	}
	if (memchr(w->str, '\n', w->len)) {
		lerr(c, w, "bad-value", "when: write the condition on one line");
		return;
	}
	rc = pim_cond_parse(&r->when, c->cat, w->str, NULL, &err);
	if (rc == PIM_EPARSE) {
		/* err.col counts characters from 1 */
		unsigned long col = w->col + (w->quoted ? 1 : 0) +
				    (err.col ? err.col - 1 : 0);
		lerr_at(c, w->line, col, "when", "when: %s", err.message);
	} else if (rc) {
		c->nomem = 1;
	}
}

static void load_rule(lctx *c, rule *r, const yml_node *n)
{
	static const char *const keys[] = {
		"name",  "when",     "description", "set",    "default",
		"copy",  "clear",    "template",    "calculate", "normalize",
		"map",   "gtin",     "round",       "ending", "rounding",
		NULL
	};
	const yml_node *name;
	int has_calc = 0;

	r->line = n->line;
	r->col = n->col;
	if (n->kind != YML_MAP) {
		lerr(c, n, "bad-value", "a rule is a table with a name and "
					"actions");
		return;
	}
	check_keys(c, n, "a rule", keys);
	name = yml_get(n, "name");
	if (!is_scalar(name) || name->len == 0 || yml_is_null(name))
		lerr(c, name ? name : n, "name", "the rule needs a name");
	else
		r->name = ldup(c, name->str);
	for (size_t i = 0; i < n->n; i++) {
		const yml_node *k = n->items[2 * i];
		if (!is_scalar(k))
			continue;
		if (!strcmp(k->str, "when"))
			load_when(c, r, n->items[2 * i + 1]);
		for (int j = 0; action_names[j]; j++)
			if (!strcmp(k->str, action_names[j])) {
				load_action(c, r, (akind)j, n->items[2 * i + 1],
					    n);
				if (j == A_CALCULATE)
					has_calc = 1;
			}
	}
	if (!r->n_acts && !c->errors)
		lerr(c, n, "no-action",
		     "rule '%s' has no action (set, default, copy, clear, "
		     "template, calculate, normalize, map, gtin)",
		     r->name ? r->name : "?");
	if (!has_calc)
		for (size_t i = 0; i < n->n; i++) {
			const yml_node *k = n->items[2 * i];
			if (is_scalar(k) && (!strcmp(k->str, "round") ||
					     !strcmp(k->str, "ending") ||
					     !strcmp(k->str, "rounding")))
				lerr(c, k, "bad-key",
				     "%s goes with calculate", k->str);
		}
	/* each attribute once a rule: a rule is applied whole or not at all */
	for (size_t i = 1; i < r->n_acts; i++)
		for (size_t j = 0; j < i; j++)
			if (r->acts[i].slot == r->acts[j].slot &&
			    r->acts[i].slot >= 0) {
				char col[128];
				pim_slot_column(col, sizeof col, c->s,
						&c->cat->slots[r->acts[i].slot]);
				lerr_at(c, r->acts[i].line, r->acts[i].col,
					"duplicate",
					"rule '%s' writes %s twice (first at "
					"line %lu); use two rules",
					r->name ? r->name : "?", col,
					r->acts[j].line);
				break;
			}
}

static void action_free(action *a)
{
	for (size_t i = 0; i < a->n_parts; i++)
		pim_free(a->parts[i].lit);
	pim_free(a->parts);
	for (size_t i = 0; i < a->n_map; i++) {
		pim_free(a->map[i].from);
		pim_free(a->map[i].to);
	}
	pim_free(a->map);
	pim_free(a->map_default);
	pim_free(a->text);
	pim_free(a->rpn);
	pim_free(a->steps);
}

void pim_rules_free(pim_rules *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		for (size_t j = 0; j < r->rules[i].n_acts; j++)
			action_free(&r->rules[i].acts[j]);
		pim_free(r->rules[i].acts);
		pim_free(r->rules[i].name);
		pim_cond_free(r->rules[i].when);
	}
	pim_free(r->rules);
	pim_free(r->target);
	pim_free(r->file);
	pim_free(r->source);
	pim_free(r);
}

static int load_doc(lctx *c, const yml_node *root)
{
	static const char *const keys[] = { "pim", "name", "description",
					    "rules", NULL };
	pim_rules *r = c->r;
	const yml_node *v, *list;

	if (!root || root->kind != YML_MAP) {
		lerr_at(c, root ? root->line : 1, root ? root->col : 1, "empty",
			"a rules file is a table with pim: 1 and rules: [...]");
		return 0;
	}
	check_keys(c, root, "the rules file", keys);
	v = yml_get(root, "pim");
	if (!v)
		lerr_at(c, root->line, root->col, "version",
			"the rules file needs 'pim: 1'");
	else if (!is_scalar(v) || strcmp(v->str, "1"))
		lerr(c, v, "version", "this pim reads rules files of 'pim: 1'");
	list = yml_get(root, "rules");
	if (!list) {
		lerr_at(c, root->line, root->col, "no-rules",
			"the rules file needs a list of rules ('rules:')");
		return 0;
	}
	if (list->kind != YML_SEQ) {
		lerr(c, list, "bad-value", "rules must be a list");
		return 0;
	}
	if (!(r->rules = pim_calloc(list->n + 1, sizeof *r->rules))) {
		c->nomem = 1;
		return 0;
	}
	for (size_t i = 0; i < list->n && !c->nomem; i++) {
		rule *ru = &r->rules[r->n++];
		load_rule(c, ru, list->items[i]);
		for (size_t j = 0; ru->name && j + 1 < r->n; j++)
			if (r->rules[j].name && !strcmp(r->rules[j].name, ru->name)) {
				lerr_at(c, ru->line, ru->col, "duplicate",
					"a second rule named '%s' (first at "
					"line %lu)",
					ru->name, r->rules[j].line);
				break;
			}
	}
	return 0;
}

int pim_rules_load_buffer(pim_rules **out, pim_catalog *cat, const char *name,
			  const char *data, size_t len, pim_diag_fn diag,
			  void *ctx)
{
	yml_doc doc;
	lctx c;
	pim_rules *r;
	int rc;

	*out = NULL;
	if (!cat || !cat->schema)
		return PIM_EINVALID;
	if (!(r = pim_calloc(1, sizeof *r)))
		return PIM_ENOMEM;
	r->cat = cat;
	r->file = pim_strdup(name ? name : "-");
	r->source = pim_strndup(data, len);
	r->source_len = len;
	r->target = pim_calloc(cat->n_slots + 1, 1);
	if (!r->file || !r->source || !r->target) {
		pim_rules_free(r);
		return PIM_ENOMEM;
	}
	r->hash = pim_hash64(data, len, 0x72756c6573ULL);
	memset(&doc, 0, sizeof doc);
	rc = yml_parse(&doc, r->file, data, len, diag, ctx);
	if (rc) {
		/* a failed parse leaves what it built in doc */
		yml_free(&doc);
		pim_rules_free(r);
		return rc == PIM_ELIMIT ? PIM_EPARSE : rc;
	}
	memset(&c, 0, sizeof c);
	c.r = r;
	c.cat = cat;
	c.s = cat->schema;
	c.file = r->file;
	c.diag = diag;
	c.dctx = ctx;
	load_doc(&c, doc.root);
	yml_free(&doc);
	if (c.nomem) {
		pim_rules_free(r);
		return PIM_ENOMEM;
	}
	if (c.errors) {
		pim_rules_free(r);
		return PIM_EPARSE;
	}
	for (size_t i = 0; i < r->n; i++)
		for (size_t j = 0; j < r->rules[i].n_acts; j++)
			r->target[r->rules[i].acts[j].slot] = 1;
	*out = r;
	return 0;
}

int pim_rules_load_file(pim_rules **out, pim_catalog *cat, const char *path,
			pim_diag_fn diag, void *ctx)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((rc = yml_read_file_diag(&data, &len, path, RULES_MAX_BYTES, diag,
				     ctx)))
		return rc;
	rc = pim_rules_load_buffer(out, cat, path, data, len, diag, ctx);
	pim_free(data);
	return rc;
}

size_t pim_rules_count(const pim_rules *r)
{
	return r ? r->n : 0;
}

const char *pim_rules_name(const pim_rules *r, size_t i)
{
	return r && i < r->n ? r->rules[i].name : NULL;
}

const char *pim_rules_source(const pim_rules *r, size_t *len)
{
	if (len)
		*len = r ? r->source_len : 0;
	return r ? r->source : NULL;
}

const unsigned char *pim_rules_targets(const pim_rules *r)
{
	return r->target;
}

uint64_t pim_rules_hash(const pim_rules *r)
{
	return r->hash;
}

pim_catalog *pim_rules_catalog(const pim_rules *r)
{
	return r->cat;
}

/* ---- rules stored in the catalog ---------------------------------------- */

static const char rules_table[] =
	"CREATE TABLE IF NOT EXISTS rules(\n"
	"  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
	"  source TEXT NOT NULL,\n"
	"  file TEXT,\n"
	"  stored_at TEXT NOT NULL,\n"
	"  user TEXT\n"
	")";

int pim_rules_store(pim_catalog *cat, const pim_rules *r)
{
	sqlite3_stmt *st = NULL;
	char now[32];
	int rc;

	if (cat->readonly)
		return pim_cat_error(cat, PIM_EIO, "%s: opened read-only",
				     cat->path);
	if (!r || r->cat != cat)
		return pim_cat_error(cat, PIM_EINVALID,
				     "the rules were checked against another "
				     "catalog");
	if ((rc = pim_cat_begin(cat)))
		return rc;
	rc = sqlite3_exec(cat->db, rules_table, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		rc = pim_cat_sqlerr(cat, rc, "storing the rules");
		goto out;
	}
	rc = sqlite3_prepare_v2(cat->db,
				"INSERT OR REPLACE INTO rules(id, source, file, "
				"stored_at, user) VALUES(1, ?1, ?2, ?3, ?4)",
				-1, &st, NULL);
	if (rc != SQLITE_OK) {
		rc = pim_cat_sqlerr(cat, rc, "storing the rules");
		goto out;
	}
	pim_cat_now(now, sizeof now);
	sqlite3_bind_text(st, 1, r->source, (int)r->source_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->file, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, cat->user, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		rc = pim_cat_sqlerr(cat, rc, "storing the rules");
		goto out;
	}
	return pim_cat_commit(cat);
out:
	pim_cat_rollback(cat);
	return rc;
}

int pim_rules_load_stored(pim_rules **out, pim_catalog *cat, pim_diag_fn diag,
			  void *ctx)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	rc = sqlite3_prepare_v2(cat->db, "SELECT source FROM rules WHERE id = 1",
				-1, &st, NULL);
	if (rc != SQLITE_OK) {
		/* no table: no rules were ever stored */
		sqlite3_finalize(st);
		if (sqlite3_errcode(cat->db) == SQLITE_ERROR &&
		    strstr(sqlite3_errmsg(cat->db), "no such table"))
			return pim_cat_error(cat, PIM_ENOTFOUND,
					     "the catalog has no stored rules "
					     "(pim rules apply FILE)");
		return pim_cat_sqlerr(cat, rc, "reading the stored rules");
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *src = TXT(st, 0);
		int len = sqlite3_column_bytes(st, 0);
		rc = pim_rules_load_buffer(out, cat, "(stored rules)",
					   src ? src : "", (size_t)len, diag,
					   ctx);
		sqlite3_finalize(st);
		if (rc == PIM_EPARSE)
			return pim_cat_error(cat, rc,
					     "the stored rules no longer fit "
					     "the schema; store new ones (pim "
					     "rules apply FILE)");
		return rc ? pim_cat_error(cat, rc, "%s", pim_strerror(rc)) : 0;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return pim_cat_error(cat, PIM_ENOTFOUND,
				     "the catalog has no stored rules (pim "
				     "rules apply FILE)");
	return pim_cat_sqlerr(cat, rc, "reading the stored rules");
}

/* ---- applying ----------------------------------------------------------- */

struct pim_rules_run {
	const pim_rules *r;
	pim_catalog *cat;
	size_t n_slots;
	const char **cur;        /* per slot */
	pim_buf *buf;            /* per slot, two each */
	int *who;                /* per slot: the rule that wrote it, -1 */
	const char **snap;       /* per slot: before the current rule */
	int *snap_who;
	double *stack;
	pim_buf tmp, tmp2, word;
	pim_diag_fn diag;
	void *dctx;
	pim_severity sev;
	pim_rules_unique_fn unique;
	void *uctx;
	const pim_rules_product *p;
	const rule *rule;
	unsigned long *skipped;
};

void pim_rules_run_free(pim_rules_run *run)
{
	if (!run)
		return;
	for (size_t i = 0; run->buf && i < 2 * run->n_slots; i++)
		pim_buf_free(&run->buf[i]);
	pim_free(run->buf);
	pim_free(run->cur);
	pim_free(run->who);
	pim_free(run->snap);
	pim_free(run->snap_who);
	pim_free(run->stack);
	pim_buf_free(&run->tmp);
	pim_buf_free(&run->tmp2);
	pim_buf_free(&run->word);
	pim_free(run);
}

int pim_rules_run_new(pim_rules_run **out, const pim_rules *r)
{
	pim_rules_run *run = pim_calloc(1, sizeof *run);
	size_t n = r->cat->n_slots;

	*out = NULL;
	if (!run)
		return PIM_ENOMEM;
	run->r = r;
	run->cat = r->cat;
	run->n_slots = n;
	run->cur = pim_calloc(n + 1, sizeof *run->cur);
	run->buf = pim_calloc(2 * n + 1, sizeof *run->buf);
	run->who = pim_calloc(n + 1, sizeof *run->who);
	run->snap = pim_calloc(n + 1, sizeof *run->snap);
	run->snap_who = pim_calloc(n + 1, sizeof *run->snap_who);
	run->stack = pim_calloc(r->max_rpn + 1, sizeof *run->stack);
	run->sev = PIM_SEV_ERROR;
	if (!run->cur || !run->buf || !run->who || !run->snap ||
	    !run->snap_who || !run->stack) {
		pim_rules_run_free(run);
		return PIM_ENOMEM;
	}
	*out = run;
	return 0;
}

void pim_rules_run_diag(pim_rules_run *run, pim_diag_fn diag, void *ctx,
			pim_severity severity)
{
	run->diag = diag;
	run->dctx = ctx;
	run->sev = severity;
}

void pim_rules_run_unique(pim_rules_run *run, pim_rules_unique_fn fn,
			  void *ctx)
{
	run->unique = fn;
	run->uctx = ctx;
}

const char *pim_rules_writer(const pim_rules_run *run, size_t slot)
{
	int w = slot < run->n_slots ? run->who[slot] : -1;
	return w >= 0 ? run->r->rules[w].name : NULL;
}

static void rdiag(pim_rules_run *run, pim_severity sev, long slot,
		  const char *code, const char *value, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void rdiag(pim_rules_run *run, pim_severity sev, long slot,
		  const char *code, const char *value, const char *fmt, ...)
{
	char msg[512], col[128] = "";
	int k;
	va_list ap;
	pim_diag d;

	if (!run->diag)
		return;
	if (slot >= 0)
		pim_slot_column(col, sizeof col, run->cat->schema,
				&run->cat->slots[slot]);
	k = snprintf(msg, sizeof msg, "rule '%s': ", run->rule->name);
	va_start(ap, fmt);
	vsnprintf(msg + k, sizeof msg - (size_t)k, fmt, ap);
	va_end(ap);
	memset(&d, 0, sizeof d);
	d.file = run->p->file;
	d.line = run->p->line;
	d.key = run->p->key;
	d.attribute = slot >= 0 ? col : NULL;
	d.code = code;
	d.severity = sev;
	d.message = msg;
	d.value = value;
	run->diag(&d, run->dctx);
}

/* A space and a word after a number: "12 MMT". Nonzero on failure. */
static int add_word(pim_buf *b, const char *w)
{
	return pim_buf_addc(b, ' ') || pim_buf_adds(b, w);
}

/* Formats v with `dec` decimals (-1: as few as needed, at most 6). */
static int fmt_num(pim_buf *b, double v, int dec, char decimal)
{
	char t[64];
	int n;

	if (!isfinite(v))
		return -1;
	if (dec >= 0 && dec <= 9) {
		/* halves away from zero, as prices round, not printf's way */
		double f = pow(10, dec);
		v = v < 0 ? -floor(-v * f + 0.5 + 1e-9) / f
			  : floor(v * f + 0.5 + 1e-9) / f;
	}
	if (v == 0)
		v = 0; /* no "-0" */
	if (fabs(v) < 1e12) {
		/* exact in 64 bits: digits by hand, not printf's slow path */
		static const long long p10[] = { 1, 10, 100, 1000, 10000,
						 100000, 1000000, 10000000,
						 100000000, 1000000000 };
		int d = dec < 0 ? 6 : dec;
		long long q = llround(v * (double)p10[d]);
		n = pim_fixed(t, (unsigned long long)(q < 0 ? -q : q), q < 0,
			      d);
	} else {
		n = snprintf(t, sizeof t, "%.*f", dec < 0 ? 6 : dec, v);
	}
	if (n <= 0 || (size_t)n >= sizeof t)
		return -1;
	if (dec < 0 && strchr(t, '.')) {
		while (n > 0 && t[n - 1] == '0')
			t[--n] = '\0';
		if (n > 0 && t[n - 1] == '.')
			t[--n] = '\0';
	}
	if (!strcmp(t, "-0"))
		memcpy(t, "0", 2);
	if (decimal != '.') {
		char *dot = strchr(t, '.');
		if (dot)
			*dot = decimal;
	}
	return pim_buf_adds(b, t) ? -2 : 0;
}

/* The amount and unit or currency of a canonical number, price or
 * measure value. */
static int split_value(const pim_attr *a, const char *v, double *num,
		       const char **suffix)
{
	const char *sp;

	if (!pim_value_number(num, a, v))
		return -1;
	sp = strchr(v, ' ');
	*suffix = sp ? sp + 1 : NULL;
	return 0;
}

/* Outcome of one action on one product. */
enum { R_NONE, R_VALUE, R_CLEAR, R_SKIP, R_BAD };

static int do_template(pim_rules_run *run, const action *a, pim_buf *out)
{
	pim_catalog *cat = run->cat;

	pim_buf_clear(out);
	for (size_t i = 0; i < a->n_parts; i++) {
		const tpart *t = &a->parts[i];
		const char *v;
		const pim_attr *at;
		if (pim_buf_adds(out, t->lit))
			return PIM_ENOMEM;
		if (t->slot < 0)
			continue;
		v = run->cur[t->slot];
		if (!v)
			return R_NONE; /* a part is missing: no title */
		at = slot_attr(cat, t->slot);
		if (!is_numeric(at->type)) {
			if (pim_buf_adds(out, v))
				return PIM_ENOMEM;
			continue;
		}
		{
			double num;
			const char *suffix;
			const pim_unit *u = NULL;
			if (split_value(at, v, &num, &suffix))
				return R_NONE;
			if (at->type == PIM_TYPE_MEASURE && at->unit) {
				u = at->unit;
				if (t->unit && t->unit != at->unit) {
					num = num * at->unit->factor /
					      t->unit->factor;
					u = t->unit;
				}
			}
			if (t->decimals < 0 && !t->unit && a->decimal == '.') {
				/* as stored */
				size_t nl = suffix ? (size_t)(suffix - 1 - v)
						   : strlen(v);
				if (pim_buf_add(out, v, nl))
					return PIM_ENOMEM;
			} else if (fmt_num(out, num, t->decimals, a->decimal)) {
				return PIM_ENOMEM;
			}
			if (t->bare)
				continue;
			if (u && add_word(out, u->symbol ? u->symbol : u->code))
				return PIM_ENOMEM;
			if (at->type == PIM_TYPE_PRICE && suffix &&
			    add_word(out, suffix))
				return PIM_ENOMEM;
		}
	}
	return R_VALUE;
}

static double round_to(double x, double step, int mode)
{
	double q = x / step;
	switch (mode) {
	case ROUND_UP:
		q = ceil(q - 1e-9);
		break;
	case ROUND_DOWN:
		q = floor(q + 1e-9);
		break;
	default:
		q = q < 0 ? -floor(-q + 0.5 + 1e-9) : floor(q + 0.5 + 1e-9);
	}
	return q * step;
}

/* The smallest value >= x that ends in `ending`: 1234.56 with .90 gives
 * 1234.90, with 9.90 gives 1239.90. */
static double apply_ending(double x, double ending, double step)
{
	double k = ceil((x - ending) / step - 1e-9);
	return k * step + ending;
}

static int do_calculate(pim_rules_run *run, const action *a, pim_buf *out,
			const char **currency, const pim_unit **unit)
{
	pim_catalog *cat = run->cat;
	double *st = run->stack;
	size_t sp = 0;

	*currency = NULL;
	*unit = NULL;
	for (size_t i = 0; i < a->n_rpn; i++) {
		const ctok *t = &a->rpn[i];
		switch (t->op) {
		case 'n':
			st[sp++] = t->num;
			break;
		case 'a': {
			const pim_attr *at = slot_attr(cat, t->slot);
			const char *v = run->cur[t->slot], *suffix;
			char col[128];
			double num;
			if (!v || split_value(at, v, &num, &suffix)) {
				pim_slot_column(col, sizeof col, cat->schema,
						&cat->slots[t->slot]);
				rdiag(run, PIM_SEV_WARNING, a->slot, "empty-input",
				      NULL, "%s is empty; %s not calculated", col,
				      slot_attr(cat, a->slot)->code);
				return R_SKIP;
			}
			if (at->type == PIM_TYPE_PRICE && suffix) {
				if (*currency && strcmp(*currency, suffix)) {
					rdiag(run, PIM_SEV_WARNING, a->slot,
					      "currency", v,
					      "prices in %s and %s cannot be "
					      "combined",
					      *currency, suffix);
					return R_SKIP;
				}
				*currency = suffix;
			}
			if (at->type == PIM_TYPE_MEASURE && !*unit)
				*unit = at->unit;
			st[sp++] = num;
			break;
		}
		case '~':
			st[sp - 1] = -st[sp - 1];
			break;
		default: {
			double r = st[--sp], l = st[--sp];
			if (t->op == '/' && r == 0) {
				rdiag(run, PIM_SEV_WARNING, a->slot,
				      "division-by-zero", NULL,
				      "division by zero; %s not calculated",
				      slot_attr(cat, a->slot)->code);
				return R_SKIP;
			}
			st[sp++] = t->op == '+'   ? l + r
				   : t->op == '-' ? l - r
				   : t->op == '*' ? l * r
						  : l / r;
		}
		}
	}
	{
		double v = st[0];
		if (a->round > 0)
			v = round_to(v, a->round, a->rounding);
		if (a->has_ending)
			v = apply_ending(v, a->ending, a->ending_step);
		pim_buf_clear(out);
		if (!isfinite(v)) {
			rdiag(run, PIM_SEV_WARNING, a->slot, "overflow", NULL,
			      "the result is not a finite number");
			return R_SKIP;
		}
		if (fmt_num(out, v, -1, '.'))
			return PIM_ENOMEM;
	}
	return R_VALUE;
}

/* Whether UTF-8 text is NFC without asking libunistring: text made only
 * of characters below U+0300 (ASCII, Latin-1, Latin Extended, IPA,
 * spacing modifiers) has no combining marks and no singleton
 * decompositions, so it is its own NFC. Most product text is. */
static int nfc_quick(const char *in, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c >= 0x80 && (c & 0xC0) != 0x80 && (c < 0xC2 || c > 0xCB))
			return 0;
	}
	return 1;
}

/* Text steps with libunistring: case mapping and NFC. */
static int unicase_step(pim_buf *out, const char *in, size_t len, nkind k)
{
	uint8_t *r = NULL;
	size_t n = 0;

	if (k == N_NFC && nfc_quick(in, len)) {
		pim_buf_clear(out);
		return pim_buf_add(out, in, len) || (!len && pim_buf_adds(out, ""))
			       ? -2
			       : 0;
	}
	switch (k) {
	case N_UPPER:
		r = u8_toupper((const uint8_t *)in, len, NULL, NULL, NULL, &n);
		break;
	case N_LOWER:
	case N_SENTENCE:
		r = u8_tolower((const uint8_t *)in, len, NULL, NULL, NULL, &n);
		break;
	case N_TITLE:
		r = u8_totitle((const uint8_t *)in, len, NULL, NULL, NULL, &n);
		break;
	case N_NFC:
		r = u8_normalize(UNINORM_NFC, (const uint8_t *)in, len, NULL,
				 &n);
		break;
	default:
		return -1;
	}
	if (!r)
		return -1;
	pim_buf_clear(out);
	if (k == N_SENTENCE && n) {
		/* the first letter up, the rest as lowered */
		size_t i = 0;
		while (i < n && (r[i] == ' ' || r[i] == '\t' || r[i] == '"' ||
				 r[i] == '\'' || r[i] == '('))
			i++;
		if (i < n) {
			int cl = u8_mblen(r + i, n - i);
			uint8_t *up;
			size_t un = 0;
			if (cl < 1)
				cl = 1;
			up = u8_toupper(r + i, (size_t)cl, NULL, NULL, NULL, &un);
			if (!up) {
				free(r);
				return -1;
			}
			if (pim_buf_add(out, r, i) || pim_buf_add(out, up, un) ||
			    pim_buf_add(out, r + i + cl, n - i - (size_t)cl)) {
				free(up);
				free(r);
				return -2;
			}
			free(up);
			free(r);
			return 0;
		}
	}
	if (pim_buf_add(out, r, n) || (!n && pim_buf_adds(out, ""))) {
		free(r);
		return -2;
	}
	free(r);
	return 0;
}

static int do_normalize(pim_rules_run *run, const action *a, pim_buf *out)
{
	const pim_attr *at = slot_attr(run->cat, a->slot);
	const char *v = run->cur[a->slot];
	pim_buf *cur = &run->tmp2;
	const pim_unit *unit = at->type == PIM_TYPE_MEASURE ? at->unit : NULL;

	if (!v)
		return R_NONE;
	pim_buf_clear(cur);
	if (pim_buf_adds(cur, v))
		return PIM_ENOMEM;
	for (size_t i = 0; i < a->n_steps; i++) {
		const nstep *s = &a->steps[i];
		switch (s->kind) {
		case N_TRIM:
		case N_COLLAPSE:
			if (pim_transform(out, cur->data, cur->len,
					  s->kind == N_TRIM ? TR_TRIM
							    : TR_COLLAPSE))
				return PIM_ENOMEM;
			break;
		case N_UNIT:
		case N_DECIMALS: {
			double num;
			const char *suffix;
			if (split_value(at, cur->data, &num, &suffix))
				return R_NONE;
			if (s->kind == N_UNIT) {
				if (unit && s->unit != unit)
					num = num * unit->factor / s->unit->factor;
				unit = s->unit;
			}
			pim_buf_clear(out);
			if (s->kind == N_DECIMALS) {
				double f = pow(10, s->decimals);
				num = num < 0 ? -floor(-num * f + 0.5 + 1e-9) / f
					      : floor(num * f + 0.5 + 1e-9) / f;
			}
			if (fmt_num(out, num, -1, '.'))
				return PIM_ENOMEM;
			if (unit && add_word(out, unit->code))
				return PIM_ENOMEM;
			else if (at->type == PIM_TYPE_PRICE && suffix &&
				 add_word(out, suffix))
				return PIM_ENOMEM;
			break;
		}
		default: {
			int rc = unicase_step(out, cur->data, cur->len, s->kind);
			if (rc == -1) {
				rdiag(run, run->sev, a->slot, "utf8", cur->data,
				      "the value is not valid UTF-8");
				return R_BAD;
			}
			if (rc)
				return PIM_ENOMEM;
		}
		}
		/* the step's result is the next step's input */
		{
			pim_buf t = *cur;
			*cur = *out;
			*out = t;
		}
	}
	pim_buf_clear(out);
	return pim_buf_add(out, cur->data, cur->len) ? PIM_ENOMEM : R_VALUE;
}

static const mapent *map_find(const action *a, const char *s, size_t len,
			      pim_buf *scratch)
{
	const char *key = s;

	if (!a->map_case) {
		size_t n;
		char *f = fold(s, len, &n);
		if (!f)
			return NULL;
		pim_buf_clear(scratch);
		pim_buf_add(scratch, f, n);
		pim_free(f);
		key = scratch->data;
		len = scratch->len;
	}
	for (size_t i = 0; key && i < a->n_map; i++)
		if (strlen(a->map[i].from) == len &&
		    !memcmp(a->map[i].from, key, len))
			return &a->map[i];
	return NULL;
}

static int is_word_byte(unsigned char c)
{
	/* bytes of non-ASCII letters count as word bytes */
	return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '_';
}

static int do_map(pim_rules_run *run, const action *a, pim_buf *out)
{
	const char *v = run->cur[a->src];
	const mapent *e = NULL;

	if (!v)
		return R_NONE;
	if (a->map_words) {
		const char *p = v;
		while (*p && !e) {
			const char *w;
			while (*p && !is_word_byte((unsigned char)*p))
				p++;
			w = p;
			while (*p && is_word_byte((unsigned char)*p))
				p++;
			if (p > w)
				e = map_find(a, w, (size_t)(p - w), &run->word);
		}
	} else {
		size_t len = strlen(v);
		while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
			len--;
		while (len && (*v == ' ' || *v == '\t')) {
			v++;
			len--;
		}
		e = map_find(a, v, len, &run->word);
	}
	pim_buf_clear(out);
	if (e)
		return pim_buf_adds(out, e->to) ? PIM_ENOMEM : R_VALUE;
	if (a->map_default)
		return pim_buf_adds(out, a->map_default) ? PIM_ENOMEM : R_VALUE;
	return R_NONE;
}

static int do_gtin(pim_rules_run *run, const action *a, pim_buf *out)
{
	const char *v = run->cur[a->src];
	char d[32];
	size_t n = 0;

	if (!v)
		return R_NONE;
	for (const char *p = v; *p; p++) {
		if (*p == ' ' || *p == '-')
			continue;
		if (*p < '0' || *p > '9' || n + 2 >= sizeof d) {
			rdiag(run, run->sev, a->slot, "not-a-gtin", v,
			      "not the digits of a GTIN");
			return R_BAD;
		}
		d[n++] = *p;
	}
	if (a->src != a->slot) {
		if (n != 7 && n != 11 && n != 12 && n != 13) {
			rdiag(run, run->sev, a->slot, "gtin-length", v,
			      "a GTIN body has 7, 11, 12 or 13 digits, not %zu",
			      n);
			return R_BAD;
		}
		d[n] = (char)('0' + pim_gtin_check_digit(d, n));
		n++;
	}
	pim_buf_clear(out);
	if (a->pad14)
		for (size_t i = n; i < 14; i++)
			if (pim_buf_addc(out, '0'))
				return PIM_ENOMEM;
	return pim_buf_add(out, d, n) ? PIM_ENOMEM : R_VALUE;
}

/* Runs one action: R_VALUE with the raw result in run->tmp, R_CLEAR,
 * R_NONE (nothing to do), R_SKIP, R_BAD, or a negative code. */
static int run_action(pim_rules_run *run, const action *a,
		      const char **currency, const pim_unit **unit)
{
	pim_buf *out = &run->tmp;

	*currency = NULL;
	*unit = NULL;
	switch (a->kind) {
	case A_SET:
		pim_buf_clear(out);
		return pim_buf_adds(out, a->text) ? PIM_ENOMEM : R_VALUE;
	case A_DEFAULT:
		if (run->cur[a->slot])
			return R_NONE;
		pim_buf_clear(out);
		return pim_buf_adds(out, a->text) ? PIM_ENOMEM : R_VALUE;
	case A_COPY:
		if (!run->cur[a->src])
			return R_NONE;
		pim_buf_clear(out);
		return pim_buf_adds(out, run->cur[a->src]) ? PIM_ENOMEM
							   : R_VALUE;
	case A_CLEAR:
		return R_CLEAR;
	case A_TEMPLATE:
		return do_template(run, a, out);
	case A_CALCULATE:
		return do_calculate(run, a, out, currency, unit);
	case A_NORMALIZE:
		return do_normalize(run, a, out);
	case A_MAP:
		return do_map(run, a, out);
	case A_GTIN:
		return do_gtin(run, a, out);
	}
	return R_NONE;
}

/* The schema's checks that involve a slot the rule wrote; 0 when they
 * hold (or cannot be judged). */
static int rule_checks(pim_rules_run *run, const rule *ru)
{
	pim_catalog *cat = run->cat;
	const pim_schema *s = cat->schema;

	for (size_t i = 0; i < s->n_checks; i++) {
		const pim_check *ck = &s->checks[i];
		long ls = pim_slot_find(cat->slots, cat->n_slots, ck->left, NULL);
		long rs = ck->right_is_attr ? pim_slot_find(cat->slots,
							    cat->n_slots,
							    ck->right, NULL)
					    : -1;
		int touched = 0;
		if (ls < 0 || (ck->right_is_attr && rs < 0))
			continue;
		for (size_t j = 0; j < ru->n_acts; j++)
			if ((ru->acts[j].slot == ls || ru->acts[j].slot == rs) &&
			    run->cur[ru->acts[j].slot] !=
				    run->snap[ru->acts[j].slot])
				touched = 1;
		if (!touched)
			continue;
		if (pim_check_eval(s, ck, run->cur[ls],
				   rs >= 0 ? run->cur[rs] : NULL) != 0)
			continue;
		rdiag(run, run->sev, ls, "check", run->cur[ls],
		      "%s (check: %s)",
		      ck->message ? ck->message : "a check fails", ck->text);
		return 1;
	}
	return 0;
}

int pim_rules_apply(pim_rules_run *run, const char *const **out, int *changed,
		    const char *const *in, const pim_rules_product *p,
		    unsigned long *skipped, unsigned long *invalid)
{
	const pim_rules *r = run->r;
	pim_catalog *cat = run->cat;
	pim_cond_values cv;

	run->p = p;
	run->skipped = skipped;
	for (size_t i = 0; i < run->n_slots; i++) {
		run->cur[i] = in[i];
		run->who[i] = -1;
	}
	cv.value = run->cur;
	cv.family = p->family;
	cv.updated_batch = p->updated_batch;
	*changed = 0;
	for (size_t k = 0; k < r->n; k++) {
		const rule *ru = &r->rules[k];
		int bad = 0;

		if (ru->when && !pim_cond_eval(ru->when, &cv))
			continue;
		run->rule = ru;
		for (size_t j = 0; j < ru->n_acts; j++) {
			run->snap[ru->acts[j].slot] = run->cur[ru->acts[j].slot];
			run->snap_who[ru->acts[j].slot] = run->who[ru->acts[j].slot];
		}
		for (size_t j = 0; j < ru->n_acts && !bad; j++) {
			const action *a = &ru->acts[j];
			const pim_attr *at = slot_attr(cat, a->slot);
			const char *currency;
			const pim_unit *unit;
			pim_buf *dst;
			int rc = run_action(run, a, &currency, &unit);

			if (rc < 0)
				return rc;
			if (rc == R_NONE)
				continue;
			if (rc == R_SKIP) {
				(*skipped)++;
				continue;
			}
			if (rc == R_BAD) {
				bad = 1;
				break;
			}
			if (rc == R_CLEAR) {
				if (at->required) {
					rdiag(run, run->sev, a->slot, "required",
					      NULL, "%s is required", at->code);
					bad = 1;
				} else {
					run->cur[a->slot] = NULL;
					run->who[a->slot] = (int)k;
				}
				continue;
			}
			/* the other of the slot's two buffers */
			dst = &run->buf[2 * (size_t)a->slot];
			if (run->cur[a->slot] && run->cur[a->slot] == dst->data)
				dst++;
			if (run->tmp.len == 0) {
				/* an empty result clears */
				if (at->required) {
					rdiag(run, run->sev, a->slot, "required",
					      "", "%s is required; the result "
						  "is empty",
					      at->code);
					bad = 1;
				} else {
					run->cur[a->slot] = NULL;
					run->who[a->slot] = (int)k;
				}
				continue;
			}
			{
				pim_parse_opts o = PIM_PARSE_OPTS_INIT;
				pim_value_err e;
				o.currency = currency;
				o.unit = unit;
				o.utf8_ok = pim_utf8_valid(run->tmp.data,
							   run->tmp.len) ==
					    run->tmp.len;
				rc = pim_value_parse(dst, &e, at, run->tmp.data,
						     run->tmp.len, &o);
				if (rc < 0)
					return rc;
				if (rc > 0) {
					rdiag(run, run->sev, a->slot, e.code,
					      run->tmp.data, "%s", e.msg);
					bad = 1;
					continue;
				}
			}
			if (pim_str_same(run->cur[a->slot], dst->data))
				continue;
			if (at->unique && run->unique) {
				char owner[256];
				int u = run->unique(run->uctx, (size_t)a->slot,
						    dst->data, owner,
						    sizeof owner);
				if (u < 0)
					return u;
				if (u) {
					rdiag(run, run->sev, a->slot, "unique",
					      dst->data,
					      "%s is already used by %s",
					      at->code, owner);
					bad = 1;
					continue;
				}
			}
			run->cur[a->slot] = dst->data;
			run->who[a->slot] = (int)k;
		}
		if (!bad && cat->schema->n_checks)
			bad = rule_checks(run, ru);
		if (bad) {
			/* the rule writes nothing for this product */
			for (size_t j = 0; j < ru->n_acts; j++) {
				run->cur[ru->acts[j].slot] =
					run->snap[ru->acts[j].slot];
				run->who[ru->acts[j].slot] =
					run->snap_who[ru->acts[j].slot];
			}
			(*invalid)++;
		}
	}
	for (size_t i = 0; i < run->n_slots; i++)
		if (run->who[i] >= 0 && !pim_str_same(run->cur[i], in[i])) {
			*changed = 1;
			break;
		}
	*out = run->cur;
	return 0;
}

/* ---- rights ------------------------------------------------------------ */

static int role_may(const pim_role *role, size_t attr)
{
	for (size_t i = 0; role && i < role->n_edit; i++)
		if (role->edit[i] == attr)
			return 1;
	return !role;
}

/* Every attribute a rule writes must be one the catalog's role may edit. */
int pim_rules_check_rights(pim_catalog *cat, const pim_rules *rules)
{
	const pim_role *role;
	pim_buf names = PIM_BUF_INIT;
	size_t bad = 0;
	int rc = 0;

	if (!cat->role)
		return 0;
	if (!(role = pim_schema_role(cat->schema, cat->role)))
		return pim_cat_error(cat, PIM_ENOTFOUND,
				     "unknown role '%s' (see pim schema show)",
				     cat->role);
	for (size_t i = 0; i < cat->n_slots; i++) {
		char col[128];
		if (!rules->target[i] || role_may(role, cat->slots[i].attr))
			continue;
		pim_slot_column(col, sizeof col, cat->schema, &cat->slots[i]);
		pim_buf_printf(&names, "%s%s", bad++ ? ", " : "", col);
	}
	if (bad)
		rc = pim_cat_error(cat, PIM_EDENIED,
				   "role %s may not edit what the rules write: "
				   "%s; nothing changed",
				   role->name, names.data ? names.data : "");
	pim_buf_free(&names);
	return rc;
}
