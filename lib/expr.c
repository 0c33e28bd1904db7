/*
 * expr.c - the --where expression language (pim-where(7)): a recursive
 * descent parser that writes an SQL condition as it goes. Grammar:
 *
 *   expr    := and ("or" and)*
 *   and     := not ("and" not)*
 *   not     := "not" not | primary
 *   primary := "(" expr ")"
 *            | ("complete" | "incomplete") "for" ROLE
 *            | "updated" "since" (DATE | BATCH)
 *            | FIELD pred
 *   pred    := OP VALUE | "is" ["not"] "empty" | ["not"] "in" "(" VALUE
 *              ("," VALUE)* ")" | "under" VALUE
 *   OP      := = != <> < <= > >= ~ !~
 *
 * Every predicate is two-valued: an empty value is "not equal" to
 * anything and fails every other comparison, and `not` turns exactly
 * those results around (SQL's NULL would not).
 */
#include "expr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "value.h"

#define MAX_DEPTH 64

void pim_binds_free(pim_binds *b)
{
	for (size_t i = 0; i < b->n; i++)
		pim_free(b->v[i]);
	pim_free(b->v);
	memset(b, 0, sizeof *b);
}

typedef struct parser {
	pim_catalog *cat;
	const pim_schema *s;
	const char *src;
	size_t pos;
	const char *locale;
	pim_where_error *err;
	int rc;          /* 0, PIM_EPARSE or PIM_ENOMEM */
	int depth;
	int ranged;
	pim_buf val;     /* the current literal, canonical */
	pim_buf raw;     /* the current literal, as written */
} parser;

/* What a field names: an attribute slot or the product's family. */
typedef struct field {
	long slot;       /* -1: the family */
	const pim_attr *a;
	const char *col; /* quoted column */
	size_t at;       /* where it was written */
	char name[128];
} field;

static void fail(parser *p, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(parser *p, size_t at, const char *fmt, ...)
{
	va_list ap;

	if (p->rc)
		return;
	p->rc = PIM_EPARSE;
	if (!p->err)
		return;
	p->err->col = (unsigned long)pim_utf8_count(p->src, at) + 1;
	va_start(ap, fmt);
	vsnprintf(p->err->message, sizeof p->err->message, fmt, ap);
	va_end(ap);
}

/* ---- lexing ------------------------------------------------------------ */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip(parser *p)
{
	while (is_space(p->src[p->pos]))
		p->pos++;
}

static int is_word_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_word_char(char c)
{
	return is_word_start(c) || (c >= '0' && c <= '9');
}

/* Length of the word at the current position (0 when none). */
static size_t word_len(parser *p)
{
	const char *s = p->src + p->pos;
	size_t n = 0;

	if (!is_word_start(s[0]))
		return 0;
	while (is_word_char(s[n]))
		n++;
	return n;
}

/* Whether the next word is keyword `kw` (any case); does not consume. */
static int peek_kw(parser *p, const char *kw)
{
	size_t n;

	skip(p);
	n = word_len(p);
	return n == strlen(kw) && strncasecmp(p->src + p->pos, kw, n) == 0;
}

static int accept_kw(parser *p, const char *kw)
{
	if (!peek_kw(p, kw))
		return 0;
	p->pos += strlen(kw);
	return 1;
}

static int accept(parser *p, const char *tok)
{
	size_t n = strlen(tok);

	skip(p);
	if (strncmp(p->src + p->pos, tok, n) != 0)
		return 0;
	p->pos += n;
	return 1;
}

static int is_reserved(const char *s, size_t n)
{
	static const char *const words[] = { "and", "or", "not", "in", "is",
					     "empty", "under", NULL };
	for (size_t i = 0; words[i]; i++)
		if (strlen(words[i]) == n && strncasecmp(s, words[i], n) == 0)
			return 1;
	return 0;
}

/* A describes-what-is-here text for messages: "end of expression" or the
 * next few characters. */
static const char *here(parser *p, char *buf, size_t len)
{
	const char *s = p->src + p->pos;
	size_t n = 0;

	if (!*s)
		return "the end of the expression";
	while (s[n] && !is_space(s[n]) && n < 20)
		n++;
	snprintf(buf, len, "'%.*s'", (int)n, s);
	return buf;
}

/*
 * Reads one value into p->raw: "quoted" or 'quoted' (backslash escapes
 * the next character), or a bare word that ends at white space, a
 * parenthesis or a comma. `unit_word` lets a measure or a price take a
 * following unit or currency word: `weight > 2.5 kg`.
 */
static int read_value(parser *p, const char *after, int unit_word)
{
	const char *s;
	size_t start;
	char buf[40];

	skip(p);
	start = p->pos;
	s = p->src;
	pim_buf_clear(&p->raw);
	if (s[p->pos] == '"' || s[p->pos] == '\'') {
		char q = s[p->pos++];
		for (;;) {
			char c = s[p->pos];
			if (!c) {
				fail(p, start, "this quote is never closed");
				return -1;
			}
			p->pos++;
			if (c == q)
				break;
			if (c == '\\' && s[p->pos])
				c = s[p->pos++];
			if (pim_buf_addc(&p->raw, c)) {
				p->rc = PIM_ENOMEM;
				return -1;
			}
		}
		if (!p->raw.data && pim_buf_adds(&p->raw, "")) {
			p->rc = PIM_ENOMEM;
			return -1;
		}
		return 0;
	}
	/* an operator where a value should be is a slip ("color == red");
	 * such a value can still be quoted */
	if (s[p->pos] && strchr("=<>!~", s[p->pos])) {
		fail(p, start, "expected a value after %s, found %s (quote "
			       "a value that starts with it)",
		     after, here(p, buf, sizeof buf));
		return -1;
	}
	while (s[p->pos] && !is_space(s[p->pos]) && s[p->pos] != '(' &&
	       s[p->pos] != ')' && s[p->pos] != ',')
		p->pos++;
	if (p->pos == start) {
		fail(p, start, "expected a value after %s, found %s", after,
		     here(p, buf, sizeof buf));
		return -1;
	}
	if (pim_buf_add(&p->raw, s + start, p->pos - start)) {
		p->rc = PIM_ENOMEM;
		return -1;
	}
	if (unit_word) {
		size_t save = p->pos, n;
		skip(p);
		n = word_len(p);
		if (n && !is_reserved(s + p->pos, n) &&
		    !is_word_char(s[p->pos + n]) && s[p->pos + n] != '@') {
			if (pim_buf_addc(&p->raw, ' ') ||
			    pim_buf_add(&p->raw, s + p->pos, n)) {
				p->rc = PIM_ENOMEM;
				return -1;
			}
			p->pos += n;
		} else {
			p->pos = save;
		}
	}
	return 0;
}

/* ---- fields and values ---------------------------------------------------- */

static int textish(pim_type t)
{
	return t == PIM_TYPE_IDENTIFIER || t == PIM_TYPE_TEXT ||
	       t == PIM_TYPE_TEXTAREA || t == PIM_TYPE_URL ||
	       t == PIM_TYPE_EMAIL;
}

static int numeric(pim_type t)
{
	return t == PIM_TYPE_INTEGER || t == PIM_TYPE_NUMBER ||
	       t == PIM_TYPE_PRICE || t == PIM_TYPE_MEASURE;
}

static const char *closest_attr(const pim_schema *s, const char *w)
{
	const char *best = NULL;
	unsigned bd = 3;

	for (size_t i = 0; i < s->n_attrs; i++) {
		unsigned d = pim_levenshtein(w, s->attrs[i].code);
		if (d < bd) {
			bd = d;
			best = s->attrs[i].code;
		}
	}
	return best;
}

static int read_field(parser *p, field *f)
{
	const pim_schema *s = p->s;
	const char *src = p->src;
	size_t n, ln = 0;
	const char *loc = NULL;
	char code[80], lbuf[40];
	long ai, slot;

	skip(p);
	memset(f, 0, sizeof *f);
	f->at = p->pos;
	n = word_len(p);
	if (!n) {
		fail(p, p->pos, "expected an attribute, found %s",
		     here(p, lbuf, sizeof lbuf));
		return -1;
	}
	if (n >= sizeof code) {
		fail(p, p->pos, "no attribute has a name this long");
		return -1;
	}
	memcpy(code, src + p->pos, n);
	code[n] = '\0';
	p->pos += n;
	if (src[p->pos] == '@') {
		size_t ls = ++p->pos;
		while (is_word_char(src[p->pos]) || src[p->pos] == '-')
			p->pos++;
		ln = p->pos - ls;
		if (ln == 0 || ln >= sizeof lbuf) {
			fail(p, ls, "expected a locale after '@'");
			return -1;
		}
		memcpy(lbuf, src + ls, ln);
		lbuf[ln] = '\0';
		loc = pim_schema_locale(s, lbuf);
		if (!loc) {
			fail(p, ls, "'%s' is not one of the schema's locales",
			     lbuf);
			return -1;
		}
	}
	ai = pim_schema_attribute_find(s, code);
	if (ai < 0 && !strcmp(code, "family") && !loc) {
		f->slot = -1;
		f->col = "_family";
		snprintf(f->name, sizeof f->name, "family");
		return 0;
	}
	if (ai < 0) {
		const char *near = closest_attr(s, code);
		if (near)
			fail(p, f->at, "unknown attribute '%s' (did you mean "
				       "'%s'?)",
			     code, near);
		else
			fail(p, f->at, "unknown attribute '%s'", code);
		return -1;
	}
	f->a = &s->attrs[ai];
	if (f->a->localizable) {
		if (!loc)
			loc = p->locale ? p->locale
					: (s->n_locales ? s->locales[0] : NULL);
	} else if (loc) {
		fail(p, f->at, "'%s' is not localizable: write it without "
			       "'@%s'",
		     code, loc);
		return -1;
	}
	slot = pim_slot_find(p->cat->slots, p->cat->n_slots, (size_t)ai,
			     f->a->localizable ? loc : NULL);
	if (slot < 0) {
		fail(p, f->at, "'%s' has no column for locale %s", code,
		     loc ? loc : "(none)");
		return -1;
	}
	f->slot = slot;
	f->col = p->cat->col[slot];
	pim_slot_column(f->name, sizeof f->name, s, &p->cat->slots[slot]);
	return 0;
}

/* Parses p->raw with the field's type into p->val (canonical). */
static int convert(parser *p, const field *f, size_t at)
{
	pim_value_err e;
	pim_parse_opts o = PIM_PARSE_OPTS_INIT;
	int rc;

	pim_buf_clear(&p->val);
	if (!f->a || textish(f->a->type)) {
		if (pim_buf_add(&p->val, p->raw.data, p->raw.len) ||
		    (!p->val.data && pim_buf_adds(&p->val, ""))) {
			p->rc = PIM_ENOMEM;
			return -1;
		}
		return 0;
	}
	if (p->raw.len == 0) {
		fail(p, at, "an empty value: write '%s is empty' to find "
			    "products without one",
		     f->name);
		return -1;
	}
	o.utf8_ok = pim_utf8_valid(p->raw.data, p->raw.len) == p->raw.len;
	rc = pim_value_parse(&p->val, &e, f->a, p->raw.data, p->raw.len, &o);
	if (rc < 0) {
		p->rc = rc == PIM_ENOMEM ? PIM_ENOMEM : PIM_EPARSE;
		return -1;
	}
	if (rc > 0) {
		fail(p, at, "%s: %s", f->name, e.msg);
		return -1;
	}
	return 0;
}

/* ---- the tree ------------------------------------------------------------ */

enum {
	N_AND, N_OR, N_NOT,   /* kids */
	N_EQ, N_NE,           /* vals[0] canonical */
	N_ORD,                /* op, vals[0], or numeric d (and currency) */
	N_HAS, N_HASNOT,      /* ~ and !~: vals[0] as written */
	N_EMPTY, N_FILLED,
	N_IN, N_NOTIN,        /* vals */
	N_UNDER,              /* vals[0] the path */
	N_COMPLETE,           /* role */
	N_SINCE               /* batch */
};

typedef struct node {
	int kind;
	struct node **kids;
	size_t n_kids;
	long slot;            /* -1: the family */
	const pim_attr *a;    /* NULL for the family */
	char op[3];
	int numeric;
	double d;
	char cur[4];          /* prices: compare within this currency */
	char **vals;
	size_t n_vals;
	const pim_role *role;
	long long batch;
} node;

struct pim_cond {
	pim_catalog *cat;
	const char *locale;
	node *root;
	int ranged;
};

static void node_free(node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n_kids; i++)
		node_free(n->kids[i]);
	for (size_t i = 0; i < n->n_vals; i++)
		pim_free(n->vals[i]);
	pim_free(n->kids);
	pim_free(n->vals);
	pim_free(n);
}

static node *new_node(parser *p, int kind, const field *f)
{
	node *n = pim_calloc(1, sizeof *n);

	if (!n) {
		p->rc = PIM_ENOMEM;
		return NULL;
	}
	n->kind = kind;
	if (f) {
		n->slot = f->slot;
		n->a = f->a;
	}
	return n;
}

static int add_kid(parser *p, node *n, node *kid)
{
	node **k = pim_realloc(n->kids, (n->n_kids + 1) * sizeof *k);

	if (!k) {
		p->rc = PIM_ENOMEM;
		return -1;
	}
	n->kids = k;
	n->kids[n->n_kids++] = kid;
	return 0;
}

static int add_val(parser *p, node *n, const char *v)
{
	char **vs = pim_realloc(n->vals, (n->n_vals + 1) * sizeof *vs);

	if (!vs) {
		p->rc = PIM_ENOMEM;
		return -1;
	}
	n->vals = vs;
	if (!(n->vals[n->n_vals] = pim_strdup(v))) {
		p->rc = PIM_ENOMEM;
		return -1;
	}
	n->n_vals++;
	return 0;
}

/* ---- predicates ------------------------------------------------------------ */

static node *pred_compare(parser *p, const field *f, const char *op,
			  size_t op_at)
{
	pim_type t = f->a ? f->a->type : PIM_TYPE_TEXT;
	int order;
	size_t vat;
	char what[8];
	node *n;

	if (!strcmp(op, "<>"))
		op = "!=";
	order = op[0] == '<' || op[0] == '>';
	snprintf(what, sizeof what, "'%s'", op);
	if (!strcmp(op, "~") || !strcmp(op, "!~")) {
		if (read_value(p, what, 0))
			return NULL;
		n = new_node(p, op[0] == '!' ? N_HASNOT : N_HAS, f);
		if (n && add_val(p, n, p->raw.data)) {
			node_free(n);
			return NULL;
		}
		return n;
	}
	if (order && (t == PIM_TYPE_BOOLEAN || t == PIM_TYPE_SELECT ||
		      t == PIM_TYPE_MULTISELECT || t == PIM_TYPE_GTIN)) {
		fail(p, op_at, "%s is a %s: its values have no order, so only "
			       "= != ~ in work",
		     f->name, pim_type_name(t));
		return NULL;
	}
	skip(p);
	vat = p->pos;
	if (read_value(p, what, t == PIM_TYPE_MEASURE || t == PIM_TYPE_PRICE))
		return NULL;
	if (convert(p, f, vat))
		return NULL;
	n = new_node(p, !order ? (op[0] == '!' ? N_NE : N_EQ) : N_ORD, f);
	if (!n)
		return NULL;
	snprintf(n->op, sizeof n->op, "%s", op);
	if (add_val(p, n, p->val.data)) {
		node_free(n);
		return NULL;
	}
	if (order && f->a && numeric(t)) {
		if (!pim_value_number(&n->d, f->a, p->val.data)) {
			fail(p, vat, "%s: '%s' has no number to compare",
			     f->name, p->raw.data);
			node_free(n);
			return NULL;
		}
		n->numeric = 1;
		/* amounts compare only within one currency */
		if (t == PIM_TYPE_PRICE && p->val.len > 4)
			memcpy(n->cur, p->val.data + p->val.len - 3, 3);
	}
	return n;
}

static node *pred_in(parser *p, const field *f, int negate)
{
	node *n;

	if (!accept(p, "(")) {
		char buf[40];
		fail(p, p->pos, "expected '(' after 'in', found %s",
		     here(p, buf, sizeof buf));
		return NULL;
	}
	if (!(n = new_node(p, negate ? N_NOTIN : N_IN, f)))
		return NULL;
	do {
		size_t vat;
		skip(p);
		vat = p->pos;
		if (read_value(p, n->n_vals ? "','" : "'('",
			       f->a && (f->a->type == PIM_TYPE_MEASURE ||
					f->a->type == PIM_TYPE_PRICE)) ||
		    convert(p, f, vat) || add_val(p, n, p->val.data)) {
			node_free(n);
			return NULL;
		}
	} while (accept(p, ","));
	if (!accept(p, ")")) {
		char buf[40];
		fail(p, p->pos, "expected ',' or ')' in the list, found %s",
		     here(p, buf, sizeof buf));
		node_free(n);
		return NULL;
	}
	return n;
}

static node *pred_under(parser *p, const field *f, size_t kw_at)
{
	size_t vat;
	node *n;

	if (!f->a || f->a->type != PIM_TYPE_CATEGORY) {
		if (f->a)
			fail(p, kw_at, "'under' needs a category attribute; "
				       "%s is of type %s",
			     f->name, pim_type_name(f->a->type));
		else
			fail(p, kw_at, "'under' needs a category attribute, "
				       "not the family");
		return NULL;
	}
	skip(p);
	vat = p->pos;
	if (read_value(p, "'under'", 0) || convert(p, f, vat))
		return NULL;
	n = new_node(p, N_UNDER, f);
	if (n && add_val(p, n, p->val.data)) {
		node_free(n);
		return NULL;
	}
	return n;
}

static node *predicate(parser *p)
{
	static const char *const ops[] = { "!=", "<>", "<=", ">=", "!~", "=",
					   "<",  ">",  "~",  NULL };
	field f;
	size_t at;
	char buf[40];

	if (read_field(p, &f))
		return NULL;
	skip(p);
	at = p->pos;
	for (size_t i = 0; ops[i]; i++)
		if (accept(p, ops[i]))
			return pred_compare(p, &f, ops[i], at);
	if (accept_kw(p, "is")) {
		int neg = accept_kw(p, "not");
		if (!accept_kw(p, "empty")) {
			skip(p);
			fail(p, p->pos, "expected 'empty' after 'is%s', found %s",
			     neg ? " not" : "", here(p, buf, sizeof buf));
			return NULL;
		}
		return new_node(p, neg ? N_FILLED : N_EMPTY, &f);
	}
	if (accept_kw(p, "in"))
		return pred_in(p, &f, 0);
	if (peek_kw(p, "not")) {
		size_t save = p->pos;
		p->pos += 3;
		if (accept_kw(p, "in"))
			return pred_in(p, &f, 1);
		p->pos = save;
	}
	if (accept_kw(p, "under"))
		return pred_under(p, &f, at);
	fail(p, at, "expected an operator after '%s' (= != < <= > >= ~ !~, "
		    "in, is empty, under), found %s",
	     f.name, here(p, buf, sizeof buf));
	return NULL;
}

static node *complete_for(parser *p, int negate)
{
	const pim_role *role;
	size_t n, at;
	char name[64], buf[40];
	node *c, *neg;

	if (!accept_kw(p, "for")) {
		skip(p);
		fail(p, p->pos, "expected 'for ROLE', found %s",
		     here(p, buf, sizeof buf));
		return NULL;
	}
	skip(p);
	at = p->pos;
	n = word_len(p);
	if (!n || n >= sizeof name) {
		fail(p, at, "expected a role after 'for', found %s",
		     here(p, buf, sizeof buf));
		return NULL;
	}
	memcpy(name, p->src + at, n);
	name[n] = '\0';
	p->pos += n;
	role = pim_schema_role(p->s, name);
	if (!role) {
		pim_buf list = PIM_BUF_INIT;
		for (size_t i = 0; i < p->s->n_roles; i++)
			pim_buf_printf(&list, "%s%s", i ? ", " : "",
				       p->s->roles[i].name);
		fail(p, at, "unknown role '%s' (the schema's roles: %s)", name,
		     list.data ? list.data : "none");
		pim_buf_free(&list);
		return NULL;
	}
	if (!(c = new_node(p, N_COMPLETE, NULL)))
		return NULL;
	c->role = role;
	if (!negate)
		return c;
	if (!(neg = new_node(p, N_NOT, NULL)) || add_kid(p, neg, c)) {
		node_free(c);
		node_free(neg);
		return NULL;
	}
	return neg;
}

/* "THH:MM", "THH:MM:SS", either with a "Z" */
static int is_time(const char *t)
{
	static const char *const forms[] = { "T00:00", "T00:00Z", "T00:00:00",
					     "T00:00:00Z", NULL };
	for (size_t f = 0; forms[f]; f++) {
		size_t i;
		for (i = 0; forms[f][i] && t[i]; i++) {
			char want = forms[f][i], c = t[i];
			if (want == '0' ? !(c >= '0' && c <= '9') : c != want)
				break;
		}
		if (!forms[f][i] && !t[i])
			return (t[1] - '0') * 10 + (t[2] - '0') < 24 &&
			       (t[4] - '0') < 6;
	}
	return 0;
}

/* Whether more than `limit` products changed in batch `batch` or later:
 * then reading them in key order beats sorting them. */
static int many_since(parser *p, long long batch, int limit)
{
	sqlite3_stmt *st = NULL;
	int many = 0;

	if (sqlite3_prepare_v2(p->cat->db,
			       "SELECT count(*) FROM (SELECT 1 FROM product "
			       "WHERE _updated_batch >= ?1 LIMIT ?2)",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, batch);
		sqlite3_bind_int(st, 2, limit + 1);
		if (sqlite3_step(st) == SQLITE_ROW)
			many = sqlite3_column_int(st, 0) > limit;
	}
	sqlite3_finalize(st);
	return many;
}

/* The first batch that started at or after `when`; past the last batch
 * when there is none, so that nothing matches. */
static long long first_batch_since(parser *p, const char *when)
{
	sqlite3_stmt *st = NULL;
	long long id = -1;

	if (sqlite3_prepare_v2(p->cat->db,
			       "SELECT IFNULL((SELECT min(id) FROM batch WHERE "
			       "started_at >= ?1), (SELECT IFNULL(max(id), 0) + "
			       "1 FROM batch))",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, when, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			id = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return id;
}

static node *updated_since(parser *p)
{
	size_t at, i;
	int digits = 1;
	node *n;

	if (!accept_kw(p, "since")) {
		char buf[40];
		skip(p);
		fail(p, p->pos, "expected 'since' after 'updated', found %s",
		     here(p, buf, sizeof buf));
		return NULL;
	}
	skip(p);
	at = p->pos;
	if (read_value(p, "'since'", 0))
		return NULL;
	for (i = 0; i < p->raw.len; i++)
		if (p->raw.data[i] < '0' || p->raw.data[i] > '9')
			digits = 0;
	if (!(n = new_node(p, N_SINCE, NULL)))
		return NULL;
	if (digits && p->raw.len <= 18) {
		n->batch = strtoll(p->raw.data, NULL, 10);
		p->ranged |= !many_since(p, n->batch, 10000);
		return n;
	}
	if (p->raw.len < 10 || pim_date_ymd(p->raw.data, 10) < 0 ||
	    (p->raw.len > 10 && !is_time(p->raw.data + 10))) {
		fail(p, at, "expected a date (YYYY-MM-DD), a time "
			    "(YYYY-MM-DDTHH:MM:SSZ) or a batch number after "
			    "'since', found '%s'",
		     p->raw.data);
		node_free(n);
		return NULL;
	}
	/* through the batches, so the index on _updated_batch serves it */
	if ((n->batch = first_batch_since(p, p->raw.data)) < 0) {
		fail(p, at, "cannot read the catalog's batches");
		node_free(n);
		return NULL;
	}
	p->ranged |= !many_since(p, n->batch, 10000);
	return n;
}

static node *parse_or(parser *p);

static node *primary(parser *p)
{
	size_t at;

	skip(p);
	at = p->pos;
	if (accept(p, "(")) {
		node *n;
		if (++p->depth > MAX_DEPTH) {
			fail(p, at, "parentheses nested deeper than %d",
			     MAX_DEPTH);
			return NULL;
		}
		if (!(n = parse_or(p)))
			return NULL;
		if (!accept(p, ")")) {
			char buf[40];
			skip(p);
			fail(p, p->pos, "expected ')' to close the '(' at "
					"column %lu, found %s",
			     (unsigned long)pim_utf8_count(p->src, at) + 1,
			     here(p, buf, sizeof buf));
			node_free(n);
			return NULL;
		}
		p->depth--;
		return n;
	}
	if (peek_kw(p, "complete") || peek_kw(p, "incomplete")) {
		size_t save = p->pos;
		int neg = peek_kw(p, "incomplete");
		p->pos += neg ? 10 : 8;
		if (peek_kw(p, "for"))
			return complete_for(p, neg);
		p->pos = save;
	}
	if (peek_kw(p, "updated")) {
		size_t save = p->pos;
		p->pos += 7;
		if (peek_kw(p, "since"))
			return updated_since(p);
		p->pos = save;
	}
	return predicate(p);
}

static node *parse_not(parser *p)
{
	node *n, *kid;

	if (!accept_kw(p, "not"))
		return primary(p);
	if (++p->depth > MAX_DEPTH) {
		fail(p, p->pos, "'not' nested deeper than %d", MAX_DEPTH);
		return NULL;
	}
	if (!(kid = parse_not(p)))
		return NULL;
	p->depth--;
	if (!(n = new_node(p, N_NOT, NULL)) || add_kid(p, n, kid)) {
		node_free(kid);
		node_free(n);
		return NULL;
	}
	return n;
}

/* One level of a left-to-right chain: `and` of nots, `or` of ands. */
static node *chain(parser *p, int kind, const char *kw,
		   node *(*sub)(parser *))
{
	node *first, *n;

	if (!(first = sub(p)))
		return NULL;
	if (!peek_kw(p, kw))
		return first;
	if (!(n = new_node(p, kind, NULL)) || add_kid(p, n, first)) {
		node_free(first);
		node_free(n);
		return NULL;
	}
	while (accept_kw(p, kw)) {
		node *k = sub(p);
		if (!k || add_kid(p, n, k)) {
			node_free(k);
			node_free(n);
			return NULL;
		}
	}
	return n;
}

static node *parse_and(parser *p)
{
	return chain(p, N_AND, "and", parse_not);
}

static node *parse_or(parser *p)
{
	return chain(p, N_OR, "or", parse_and);
}

int pim_cond_parse(pim_cond **out, pim_catalog *cat, const char *expr,
		   const char *locale, pim_where_error *err)
{
	parser p;
	node *root = NULL;
	pim_cond *c;

	*out = NULL;
	memset(&p, 0, sizeof p);
	p.cat = cat;
	p.s = cat->schema;
	p.src = expr;
	p.locale = locale;
	p.err = err;
	if (err)
		memset(err, 0, sizeof *err);
	skip(&p);
	if (!expr[p.pos]) {
		fail(&p, p.pos, "the expression is empty");
	} else if ((root = parse_or(&p))) {
		skip(&p);
		if (expr[p.pos]) {
			char buf[40];
			fail(&p, p.pos, "expected 'and', 'or' or the end, found %s",
			     here(&p, buf, sizeof buf));
		}
	}
	pim_buf_free(&p.val);
	pim_buf_free(&p.raw);
	if (!p.rc && !(c = pim_calloc(1, sizeof *c)))
		p.rc = PIM_ENOMEM;
	if (p.rc) {
		node_free(root);
		return p.rc;
	}
	c->cat = cat;
	c->locale = locale;
	c->root = root;
	c->ranged = p.ranged;
	*out = c;
	return 0;
}

void pim_cond_free(pim_cond *c)
{
	if (!c)
		return;
	node_free(c->root);
	pim_free(c);
}

/* ---- as SQL ------------------------------------------------------------- */

typedef struct emitter {
	pim_catalog *cat;
	const char *locale;
	pim_buf *sql;
	pim_binds *binds;
	int param;
	int rc;
} emitter;

static void put(emitter *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(emitter *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (pim_buf_vprintf(e->sql, fmt, ap) && !e->rc)
		e->rc = PIM_ENOMEM;
	va_end(ap);
}

/* Binds a copy of `text` and writes its placeholder. */
static void bind(emitter *e, const char *text)
{
	pim_binds *b = e->binds;
	char *copy;

	if (e->rc)
		return;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 8;
		char **v = pim_realloc(b->v, cap * sizeof *v);
		if (!v) {
			e->rc = PIM_ENOMEM;
			return;
		}
		b->v = v;
		b->cap = cap;
	}
	if (!(copy = pim_strdup(text))) {
		e->rc = PIM_ENOMEM;
		return;
	}
	b->v[b->n++] = copy;
	put(e, "?%d", e->param++);
}

static const char *col_of(const emitter *e, const node *n)
{
	return n->slot < 0 ? "_family" : e->cat->col[n->slot];
}

/* `col = value`; a multiselect has every option listed. */
static void emit_eq(emitter *e, const node *n, const char *canon)
{
	const char *col = col_of(e, n);

	if (n->a && n->a->type == PIM_TYPE_MULTISELECT) {
		const char *c = canon;
		int first = 1;
		put(e, "(");
		while (*c) {
			const char *end = strchr(c, ',');
			size_t l = end ? (size_t)(end - c) : strlen(c);
			char opt[256];
			snprintf(opt, sizeof opt, ",%.*s,", (int)l, c);
			put(e, "%sinstr(',' || %s || ',', ", first ? "" : " AND ",
			    col);
			bind(e, opt);
			put(e, ") > 0");
			first = 0;
			c += l + (end ? 1 : 0);
		}
		put(e, ")");
		return;
	}
	put(e, "%s = ", col);
	bind(e, canon);
}

static void emit(emitter *e, const node *n);

static void emit_kids(emitter *e, const node *n, const char *sep)
{
	put(e, "(");
	for (size_t i = 0; i < n->n_kids; i++) {
		if (i)
			put(e, "%s", sep);
		emit(e, n->kids[i]);
	}
	put(e, ")");
}

/* Every condition comes out two-valued (0 or 1, never NULL), so that NOT
 * turns exactly its results around. */
static void emit(emitter *e, const node *n)
{
	const char *col = n->kind <= N_NOT || n->kind >= N_COMPLETE
				  ? NULL
				  : col_of(e, n);

	switch (n->kind) {
	case N_AND:
		emit_kids(e, n, " AND ");
		break;
	case N_OR:
		emit_kids(e, n, " OR ");
		break;
	case N_NOT:
		put(e, "(");
		emit(e, n->kids[0]);
		put(e, " IS NOT 1)");
		break;
	case N_EQ:
		put(e, "(%s IS NOT NULL AND ", col);
		emit_eq(e, n, n->vals[0]);
		put(e, ")");
		break;
	case N_NE:
		put(e, "(%s IS NULL OR NOT ", col);
		emit_eq(e, n, n->vals[0]);
		put(e, ")");
		break;
	case N_ORD:
		if (n->numeric) {
			put(e, "(%s IS NOT NULL AND %s <> '' AND CAST(%s AS "
			       "REAL) %s %.17g",
			    col, col, col, n->op, n->d);
			if (n->cur[0]) {
				put(e, " AND substr(%s, -3) = ", col);
				bind(e, n->cur);
			}
			put(e, ")");
		} else {
			put(e, "(%s IS NOT NULL AND %s %s ", col, col, n->op);
			bind(e, n->vals[0]);
			put(e, ")");
		}
		break;
	case N_HAS:
		put(e, "(%s IS NOT NULL AND pim_icontains(%s, ", col, col);
		bind(e, n->vals[0]);
		put(e, "))");
		break;
	case N_HASNOT:
		put(e, "(%s IS NULL OR NOT pim_icontains(%s, ", col, col);
		bind(e, n->vals[0]);
		put(e, "))");
		break;
	case N_EMPTY:
		put(e, "(%s IS NULL OR %s = '')", col, col);
		break;
	case N_FILLED:
		put(e, "(%s IS NOT NULL AND %s <> '')", col, col);
		break;
	case N_IN:
	case N_NOTIN:
		put(e, n->kind == N_IN ? "(%s IS NOT NULL AND ("
				       : "(%s IS NULL OR NOT (",
		    col);
		for (size_t i = 0; i < n->n_vals; i++) {
			if (i)
				put(e, " OR ");
			emit_eq(e, n, n->vals[i]);
		}
		put(e, "))");
		break;
	case N_UNDER: {
		/* the path itself, or anything below it: a range an index
		 * can use ('0' follows '/') */
		pim_buf tmp = PIM_BUF_INIT;
		if (pim_buf_printf(&tmp, "%s/", n->vals[0])) {
			e->rc = PIM_ENOMEM;
			break;
		}
		put(e, "(%s IS NOT NULL AND (%s = ", col, col);
		bind(e, n->vals[0]);
		put(e, " OR (%s > ", col);
		bind(e, tmp.data);
		tmp.data[tmp.len - 1] = '0';
		put(e, " AND %s < ", col);
		bind(e, tmp.data);
		put(e, ")))");
		pim_buf_free(&tmp);
		break;
	}
	case N_COMPLETE:
		if (pim_where_complete(e->cat, n->role, e->locale, e->sql))
			e->rc = PIM_ENOMEM;
		break;
	case N_SINCE:
		put(e, "(_updated_batch IS NOT NULL AND _updated_batch >= %lld)",
		    n->batch);
		break;
	}
}

int pim_cond_sql(const pim_cond *c, int first, pim_buf *sql,
		 pim_binds *binds, int *ranged)
{
	emitter e;

	memset(&e, 0, sizeof e);
	e.cat = c->cat;
	e.locale = c->locale;
	e.sql = sql;
	e.binds = binds;
	e.param = first;
	emit(&e, c->root);
	if (ranged)
		*ranged = c->ranged;
	return e.rc;
}

int pim_where_complete(pim_catalog *cat, const pim_role *role,
		       const char *locale, pim_buf *sql)
{
	int first = 1;

	pim_buf_addc(sql, '(');
	for (size_t r = 0; r < role->n_required; r++) {
		size_t ai = role->required[r];
		for (size_t i = 0; i < cat->n_slots; i++) {
			const pim_slot *sl = &cat->slots[i];
			if (sl->attr != ai)
				continue;
			if (locale && sl->locale && strcmp(sl->locale, locale))
				continue;
			pim_buf_printf(sql, "%s(%s IS NOT NULL AND %s <> '')",
				       first ? "" : " AND ", cat->col[i],
				       cat->col[i]);
			first = 0;
		}
	}
	if (first)
		pim_buf_addc(sql, '1');
	pim_buf_addc(sql, ')');
	return sql->data ? 0 : PIM_ENOMEM;
}

int pim_where_compile(pim_catalog *cat, const char *expr, const char *locale,
		      int first, pim_buf *sql, pim_binds *binds, int *ranged,
		      pim_where_error *err)
{
	pim_cond *c = NULL;
	int rc = pim_cond_parse(&c, cat, expr, locale, err);

	if (rc == 0)
		rc = pim_cond_sql(c, first, sql, binds, ranged);
	pim_cond_free(c);
	return rc;
}

/* ---- in C, on values in memory ---------------------------------------------- */

static int contains_folded(const char *hay, const char *needle);

static int filled(const char *v)
{
	return v && *v;
}

static int eq_value(const node *n, const char *v, const char *canon)
{
	if (!filled(v))
		return 0;
	if (n->a && n->a->type == PIM_TYPE_MULTISELECT) {
		const char *c = canon;
		while (*c) {
			const char *end = strchr(c, ',');
			size_t l = end ? (size_t)(end - c) : strlen(c);
			const char *p = v;
			int found = 0;
			while (*p && !found) {
				const char *pe = strchr(p, ',');
				size_t pl = pe ? (size_t)(pe - p) : strlen(p);
				found = pl == l && !memcmp(p, c, l);
				p += pl + (pe ? 1 : 0);
			}
			if (!found)
				return 0;
			c += l + (end ? 1 : 0);
		}
		return 1;
	}
	return strcmp(v, canon) == 0;
}

static int cmp_holds(const char *op, int c)
{
	if (op[0] == '<')
		return op[1] == '=' ? c <= 0 : c < 0;
	return op[1] == '=' ? c >= 0 : c > 0;
}

static int eval(const pim_cond *cd, const node *n, const pim_cond_values *x)
{
	const char *v = NULL;

	if (n->kind > N_NOT && n->kind < N_COMPLETE)
		v = n->slot < 0 ? x->family : x->value[n->slot];
	switch (n->kind) {
	case N_AND:
		for (size_t i = 0; i < n->n_kids; i++)
			if (!eval(cd, n->kids[i], x))
				return 0;
		return 1;
	case N_OR:
		for (size_t i = 0; i < n->n_kids; i++)
			if (eval(cd, n->kids[i], x))
				return 1;
		return 0;
	case N_NOT:
		return !eval(cd, n->kids[0], x);
	case N_EQ:
		return eq_value(n, v, n->vals[0]);
	case N_NE:
		return !eq_value(n, v, n->vals[0]);
	case N_ORD:
		if (!filled(v))
			return 0;
		if (n->numeric) {
			double d;
			size_t l = strlen(v);
			/* as SQLite's CAST: the number the text starts with */
			d = strtod(v, NULL);
			if (n->cur[0] && (l < 3 || strcmp(v + l - 3, n->cur)))
				return 0;
			return cmp_holds(n->op, d < n->d ? -1 : d > n->d);
		}
		return cmp_holds(n->op, strcmp(v, n->vals[0]));
	case N_HAS:
		return filled(v) && contains_folded(v, n->vals[0]);
	case N_HASNOT:
		return !filled(v) || !contains_folded(v, n->vals[0]);
	case N_EMPTY:
		return !filled(v);
	case N_FILLED:
		return filled(v);
	case N_IN:
	case N_NOTIN: {
		int any = 0;
		for (size_t i = 0; i < n->n_vals && !any; i++)
			any = eq_value(n, v, n->vals[i]);
		return n->kind == N_IN ? any : !any;
	}
	case N_UNDER: {
		size_t l = strlen(n->vals[0]);
		return filled(v) && !strncmp(v, n->vals[0], l) &&
		       (v[l] == '\0' || v[l] == '/');
	}
	case N_COMPLETE: {
		pim_catalog *cat = cd->cat;
		for (size_t r = 0; r < n->role->n_required; r++)
			for (size_t i = 0; i < cat->n_slots; i++) {
				const pim_slot *sl = &cat->slots[i];
				if (sl->attr != n->role->required[r])
					continue;
				if (cd->locale && sl->locale &&
				    strcmp(sl->locale, cd->locale))
					continue;
				if (!filled(x->value[i]))
					return 0;
			}
		return 1;
	}
	case N_SINCE:
		/* a product being written now is as new as it gets */
		return x->updated_batch == 0 || x->updated_batch >= n->batch;
	}
	return 0;
}

int pim_cond_eval(const pim_cond *c, const pim_cond_values *x)
{
	return eval(c, c->root, x);
}

/* ---- pim_icontains ----------------------------------------------------- */

/* Simple case folding for the Latin, Greek and Cyrillic letters people
 * write product names in; everything else is compared as it is. */
static unsigned fold(unsigned c)
{
	if (c >= 'A' && c <= 'Z')
		return c + 32;
	if (c < 0xC0)
		return c;
	if (c <= 0xDE && c != 0xD7)
		return c + 32;
	if (c >= 0x100 && c <= 0x137)
		return c | 1;
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
		return (c & 1) ? c + 1 : c;
	if (c >= 0x14A && c <= 0x177)
		return c | 1;
	if (c == 0x178)
		return 0xFF;
	if (c >= 0x391 && c <= 0x3AB && c != 0x3A2)
		return c + 32;
	if (c >= 0x410 && c <= 0x42F)
		return c + 32;
	if (c >= 0x400 && c <= 0x40F)
		return c + 80;
	return c;
}

/* Folds UTF-8 text into out; bytes that are not UTF-8 stay as they are. */
static int fold_text(pim_buf *out, const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], k = 0;
		if (c >= 0xC2 && c <= 0xDF && i + 1 < n &&
		    (s[i + 1] & 0xC0) == 0x80) {
			c = ((c & 0x1F) << 6) | (s[i + 1] & 0x3F);
			k = 2;
		}
		if (!k) {
			if (pim_buf_addc(out, (char)(c < 0x80 ? fold(c) : c)))
				return -1;
			i++;
			continue;
		}
		c = fold(c);
		if (c < 0x80) {
			if (pim_buf_addc(out, (char)c))
				return -1;
		} else if (pim_buf_addc(out, (char)(0xC0 | (c >> 6))) ||
			   pim_buf_addc(out, (char)(0x80 | (c & 0x3F)))) {
			return -1;
		}
		i += k;
	}
	return 0;
}

static int contains_folded(const char *hay, const char *needle)
{
	pim_buf fh = PIM_BUF_INIT, fn = PIM_BUF_INIT;
	int found;

	if (fold_text(&fh, (const unsigned char *)hay, strlen(hay)) ||
	    fold_text(&fn, (const unsigned char *)needle, strlen(needle)))
		found = 0; /* out of memory: no match */
	else
		found = fn.len == 0 ||
			(fh.len && memmem(fh.data, fh.len, fn.data, fn.len));
	pim_buf_free(&fh);
	pim_buf_free(&fn);
	return found;
}

static void icontains(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *h = sqlite3_value_text(argv[0]);
	const unsigned char *n = sqlite3_value_text(argv[1]);
	pim_buf fh = PIM_BUF_INIT, fn = PIM_BUF_INIT;
	int found;

	(void)argc;
	if (!h || !n) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	if (fold_text(&fh, h, (size_t)sqlite3_value_bytes(argv[0])) ||
	    fold_text(&fn, n, (size_t)sqlite3_value_bytes(argv[1]))) {
		pim_buf_free(&fh);
		pim_buf_free(&fn);
		sqlite3_result_error_nomem(ctx);
		return;
	}
	found = fn.len == 0 ||
		(fh.len && memmem(fh.data, fh.len, fn.data, fn.len) != NULL);
	pim_buf_free(&fh);
	pim_buf_free(&fn);
	sqlite3_result_int(ctx, found);
}

int pim_expr_register(sqlite3 *db)
{
	return sqlite3_create_function_v2(db, "pim_icontains", 2,
					  SQLITE_UTF8 | SQLITE_DETERMINISTIC |
						  SQLITE_INNOCUOUS,
					  NULL, icontains, NULL, NULL, NULL);
}
