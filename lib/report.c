/*
 * report.c - the data-quality report (pim-report(1)): completeness per
 * role, locale, family and attribute, validity against the current schema,
 * duplicates, the schema's checks, sellable products that are not ready,
 * stale products, empty categories, and scores with grades; saved runs for
 * a trend. One streaming pass over the product table does it all
 * (duplicates by sorting 64-bit hashes of the values afterwards); a second
 * pass names the duplicated products when details are asked for.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "expr.h"
#include "report.h"
#include "value.h"

#define DEFAULT_STALE_DAYS 180

/* The weights of the score's parts (pim-report(1)). */
#define W_COMPLETENESS 0.40
#define W_VALIDITY 0.20
#define W_UNIQUENESS 0.15
#define W_CONSISTENCY 0.15
#define W_FRESHNESS 0.10

/* ---- name folding -------------------------------------------------------- */

/* Base letters of U+00C0..U+00FF and U+0100..U+017F; '*' has two letters
 * (see two_letters), '-' is a symbol and dropped. */
static const char latin1[] = "aaaaaa*ceeeeiiii"
			     "dnooooo-ouuuuy**"
			     "aaaaaa*ceeeeiiii"
			     "dnooooo-ouuuuy*y";
static const char latin_ext_a[] = "aaaaaaccccccccdd"
				  "ddeeeeeeeeeegggg"
				  "gggghhhhiiiiiiii"
				  "ii**jjkkklllllll"
				  "lllnnnnnnnnnoooo"
				  "oo**rrrrrrssssss"
				  "sstttttt" "uuuuuuuu"
				  "uuuuwwyyyzzzzzzs";

static const char *two_letters(unsigned cp)
{
	switch (cp) {
	case 0xC6: case 0xE6: return "ae";
	case 0xDE: case 0xFE: return "th";
	case 0xDF: return "ss";
	case 0x132: case 0x133: return "ij";
	case 0x152: case 0x153: return "oe";
	}
	return "";
}

int pim_report_fold(pim_buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	int rc = 0;

	while (p < end && rc == 0) {
		unsigned cp;
		size_t n;
		char c = 0;

		if (*p < 0x80) {
			unsigned char a = *p++;
			if (a >= 'A' && a <= 'Z')
				rc = pim_buf_addc(out, (char)(a - 'A' + 'a'));
			else if ((a >= 'a' && a <= 'z') || (a >= '0' && a <= '9'))
				rc = pim_buf_addc(out, (char)a);
			continue;
		}
		/* the length of the sequence; invalid bytes are dropped */
		if ((*p & 0xE0) == 0xC0)
			n = 2;
		else if ((*p & 0xF0) == 0xE0)
			n = 3;
		else if ((*p & 0xF8) == 0xF0)
			n = 4;
		else {
			p++;
			continue;
		}
		if ((size_t)(end - p) < n) {
			break;
		}
		if (n != 2) {
			rc = pim_buf_add(out, p, n); /* another script: kept */
			p += n;
			continue;
		}
		cp = ((unsigned)(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
		if (cp >= 0xC0 && cp <= 0xFF)
			c = latin1[cp - 0xC0];
		else if (cp >= 0x100 && cp <= 0x17F)
			c = latin_ext_a[cp - 0x100];
		else if (cp < 0xC0)
			c = '-'; /* Latin-1 symbols and spaces */
		else {
			rc = pim_buf_add(out, p, n);
			p += n;
			continue;
		}
		p += n;
		if (c == '*')
			rc = pim_buf_adds(out, two_letters(cp));
		else if (c != '-')
			rc = pim_buf_addc(out, c);
	}
	return rc ? PIM_ENOMEM : 0;
}

/* ---- keys behind a figure ---------------------------------------------- */

/* The products behind a figure: all counted, the first `limit` by key
 * kept (all of them, sorted at the end, for PIM_REPORT_ALL). */
typedef struct keylist {
	char **k;
	size_t n, cap;
	unsigned long long total;
} keylist;

static int keys_add(keylist *l, unsigned long limit, const char *key)
{
	size_t lo = 0, hi;

	l->total++;
	if (limit == 0 || !key)
		return 0;
	if (limit != PIM_REPORT_ALL && l->n >= limit &&
	    strcmp(key, l->k[l->n - 1]) >= 0)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		char **nk = pim_realloc(l->k, cap * sizeof *nk);
		if (!nk)
			return PIM_ENOMEM;
		l->k = nk;
		l->cap = cap;
	}
	if (limit == PIM_REPORT_ALL) {
		if (!(l->k[l->n] = pim_strdup(key)))
			return PIM_ENOMEM;
		l->n++;
		return 0;
	}
	if (l->n >= limit) { /* the largest goes */
		pim_free(l->k[--l->n]);
	}
	hi = l->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp(l->k[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(l->k + lo + 1, l->k + lo, (l->n - lo) * sizeof *l->k);
	if (!(l->k[lo] = pim_strdup(key)))
		return PIM_ENOMEM;
	l->n++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void keys_free(keylist *l)
{
	for (size_t i = 0; i < l->n; i++)
		pim_free(l->k[i]);
	pim_free(l->k);
	memset(l, 0, sizeof *l);
}

/* ---- the report's figures -------------------------------------------------- */

struct pim_report {
	pim_report_figure *f;
	size_t n, cap;
	char now[32];
	unsigned long long products;
	char *role; /* the role option, for saving */
};

void pim_report_free(pim_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		pim_report_figure *f = &r->f[i];
		pim_free((char *)f->role);
		pim_free((char *)f->subject);
		for (size_t k = 0; k < f->n_keys; k++)
			pim_free((char *)f->keys[k]);
		pim_free((void *)f->keys);
	}
	pim_free(r->f);
	pim_free(r->role);
	pim_free(r);
}

size_t pim_report_figure_count(const pim_report *r)
{
	return r ? r->n : 0;
}

const pim_report_figure *pim_report_figure_at(const pim_report *r, size_t i)
{
	return r && i < r->n ? &r->f[i] : NULL;
}

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

const pim_report_figure *pim_report_find(const pim_report *r,
					 const char *section,
					 const char *role,
					 const char *subject,
					 const char *metric)
{
	for (size_t i = 0; r && i < r->n; i++) {
		const pim_report_figure *f = &r->f[i];
		if (!strcmp(f->section, section) && !strcmp(f->metric, metric) &&
		    same(f->role, role) && same(f->subject, subject))
			return f;
	}
	return NULL;
}

const char *pim_report_time(const pim_report *r)
{
	return r->now;
}

unsigned long long pim_report_products(const pim_report *r)
{
	return r->products;
}

char pim_report_grade(double score)
{
	if (score >= 90)
		return 'A';
	if (score >= 80)
		return 'B';
	if (score >= 70)
		return 'C';
	if (score >= 60)
		return 'D';
	return 'E';
}

/* Adds a figure; `keys` (may be NULL) is moved into it. The section and
 * metric are static text. */
static int fig(pim_report *r, const char *section, const char *role,
	       const char *subject, const char *metric, double value,
	       keylist *keys)
{
	pim_report_figure *f;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		pim_report_figure *nf = pim_realloc(r->f, cap * sizeof *nf);
		if (!nf)
			return PIM_ENOMEM;
		r->f = nf;
		r->cap = cap;
	}
	f = &r->f[r->n];
	memset(f, 0, sizeof *f);
	f->section = section;
	f->metric = metric;
	f->value = value;
	if ((role && !(f->role = pim_strdup(role))) ||
	    (subject && !(f->subject = pim_strdup(subject)))) {
		pim_free((char *)f->role);
		return PIM_ENOMEM;
	}
	r->n++;
	if (keys) {
		f->products = keys->total;
		if (keys->n && keys->n > 1)
			qsort(keys->k, keys->n, sizeof *keys->k, cmp_str);
		f->keys = (const char *const *)keys->k;
		f->n_keys = keys->n;
		keys->k = NULL;
		keys->n = keys->cap = 0;
	}
	return 0;
}

/* ---- a small map from names to entries (families, categories) ----------- */

typedef struct group {
	char *name; /* NULL: none */
	unsigned long long products;
	unsigned long long stocked;      /* categories: sellable and complete
					    for sales */
	unsigned long long fcomplete;    /* families: their own requirement */
	unsigned long long fsum;
	unsigned long long *complete;    /* per measured role */
	unsigned long long *sum;
	keylist keys;                    /* categories: the products */
} group;

typedef struct gmap {
	group *g;
	size_t n, cap;
	size_t *slot; /* open addressing: index + 1, 0 empty */
	size_t n_slot;
	size_t n_roles;
} gmap;

static unsigned long hash_str(const char *s)
{
	unsigned long h = 5381;
	if (!s)
		return 7;
	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

static void gmap_free(gmap *m)
{
	for (size_t i = 0; i < m->n; i++) {
		pim_free(m->g[i].name);
		pim_free(m->g[i].complete);
		pim_free(m->g[i].sum);
		keys_free(&m->g[i].keys);
	}
	pim_free(m->g);
	pim_free(m->slot);
}

static int gmap_grow(gmap *m)
{
	size_t n = m->n_slot ? m->n_slot * 2 : 64;
	size_t *ns = pim_calloc(n, sizeof *ns);

	if (!ns)
		return PIM_ENOMEM;
	for (size_t i = 0; i < m->n; i++) {
		size_t h = hash_str(m->g[i].name) & (n - 1);
		while (ns[h])
			h = (h + 1) & (n - 1);
		ns[h] = i + 1;
	}
	pim_free(m->slot);
	m->slot = ns;
	m->n_slot = n;
	return 0;
}

/* The entry for `name` (NULL is an entry too), made when new. */
static group *gmap_get(gmap *m, const char *name)
{
	size_t h;

	if ((m->n + 1) * 2 > m->n_slot && gmap_grow(m))
		return NULL;
	h = hash_str(name) & (m->n_slot - 1);
	while (m->slot[h]) {
		group *g = &m->g[m->slot[h] - 1];
		if (same(g->name, name))
			return g;
		h = (h + 1) & (m->n_slot - 1);
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		group *ng = pim_realloc(m->g, cap * sizeof *ng);
		if (!ng)
			return NULL;
		m->g = ng;
		m->cap = cap;
	}
	group *g = &m->g[m->n];
	memset(g, 0, sizeof *g);
	if ((name && !(g->name = pim_strdup(name))) ||
	    !(g->complete = pim_calloc(m->n_roles + 1, sizeof *g->complete)) ||
	    !(g->sum = pim_calloc(m->n_roles + 1, sizeof *g->sum))) {
		pim_free(g->name);
		pim_free(g->complete);
		return NULL;
	}
	m->slot[h] = ++m->n;
	return g;
}

static int cmp_group(const void *a, const void *b)
{
	const group *x = a, *y = b;
	if (!x->name || !y->name)
		return x->name ? -1 : (y->name ? 1 : 0); /* none last */
	return strcmp(x->name, y->name);
}

/* ---- the state of the main pass ----------------------------------------- */

typedef struct rrole {
	const pim_role *role;
	int sell;                        /* sellable products must be
					    complete for it */
	unsigned long long complete, sum;
	keylist incomplete;
	unsigned long long *loc_complete, *loc_sum; /* per locale */
	int has_loc;                     /* requires a localizable attr */
	unsigned long long *missing;     /* per required attribute */
	keylist *missing_keys;
	keylist sell_incomplete;
	unsigned long long inconsistent;
	keylist stale_incomplete;
	/* per product */
	int done;                        /* complete */
} rrole;

typedef struct vcode {
	const char *code;
	keylist keys;
	unsigned long long values;
	unsigned long long last; /* the last product counted (1-based) */
} vcode;

/* A kind of duplicate: products sharing the value of one slot (a unique
 * attribute), of two (supplier + supplier_sku), or a folded name. The
 * pass keeps a 64-bit hash per product that has a value. */
typedef struct dupkind {
	char subject[160];
	size_t slot[2], n_slots;
	int fold;
	uint64_t *h;
	size_t n, cap;
	unsigned long long groups, products;
	keylist keys;
} dupkind;

typedef struct pass {
	pim_catalog *cat;
	const pim_schema *s;
	const pim_report_options *o;
	unsigned long det;
	rrole *roles;
	size_t n_roles;
	size_t *attr_first, *attr_n;     /* per attribute: its slots */
	long *slot_loc;                  /* per slot: locale index, -1 */
	unsigned char *filled;           /* per slot, this product */
	unsigned long long *slot_filled; /* per slot */
	unsigned long long *slot_invalid;
	vcode *codes;
	size_t n_codes;
	unsigned long long invalid_values, invalid_products;
	keylist invalid_keys;
	unsigned long long *check_failed; /* per check */
	keylist *check_keys;
	unsigned long long check_products; /* failing any check */
	long status_slot;                /* -1: no sellable rule */
	unsigned long long sellable;
	unsigned long long inconsistent;
	keylist inconsistent_keys;
	char cutoff[32];
	unsigned long long stale;
	keylist stale_keys;
	long category_slot;              /* -1: none */
	long sales_role;                 /* index in roles, -1 */
	gmap families, categories;
	unsigned long long products;
	pim_buf canon;
	pim_buf fold;
	dupkind *dups;
	size_t n_dups;
} pass;

static void pass_free(pass *p)
{
	for (size_t i = 0; i < p->n_roles; i++) {
		rrole *r = &p->roles[i];
		keys_free(&r->incomplete);
		keys_free(&r->sell_incomplete);
		keys_free(&r->stale_incomplete);
		for (size_t k = 0; r->missing_keys && k < r->role->n_required; k++)
			keys_free(&r->missing_keys[k]);
		pim_free(r->missing_keys);
		pim_free(r->missing);
		pim_free(r->loc_complete);
		pim_free(r->loc_sum);
	}
	pim_free(p->roles);
	pim_free(p->attr_first);
	pim_free(p->attr_n);
	pim_free(p->slot_loc);
	pim_free(p->filled);
	pim_free(p->slot_filled);
	pim_free(p->slot_invalid);
	for (size_t i = 0; i < p->n_codes; i++)
		keys_free(&p->codes[i].keys);
	pim_free(p->codes);
	keys_free(&p->invalid_keys);
	for (size_t i = 0; p->check_keys && i < p->s->n_checks; i++)
		keys_free(&p->check_keys[i]);
	pim_free(p->check_keys);
	pim_free(p->check_failed);
	keys_free(&p->inconsistent_keys);
	keys_free(&p->stale_keys);
	gmap_free(&p->families);
	gmap_free(&p->categories);
	pim_buf_free(&p->canon);
	pim_buf_free(&p->fold);
	for (size_t i = 0; i < p->n_dups; i++) {
		pim_free(p->dups[i].h);
		keys_free(&p->dups[i].keys);
	}
	pim_free(p->dups);
}

/* "YYYY-MM-DDTHH:MM:SS" into seconds since the epoch; -1 when not. */
static long long parse_time(const char *s)
{
	static const int at[] = { 0, 5, 8, 11, 14, 17 };
	static const int w[] = { 4, 2, 2, 2, 2, 2 };
	int v[6];
	struct tm tm;

	if (!s || strlen(s) < 19)
		return -1;
	for (int i = 0; i < 6; i++) {
		v[i] = 0;
		for (int k = 0; k < w[i]; k++) {
			char c = s[at[i] + k];
			if (c < '0' || c > '9')
				return -1;
			v[i] = v[i] * 10 + (c - '0');
		}
	}
	memset(&tm, 0, sizeof tm);
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	return (long long)timegm(&tm);
}

static int pass_init(pass *p, pim_report *rep)
{
	pim_catalog *cat = p->cat;
	const pim_schema *s = p->s;
	size_t nl = s->n_locales ? s->n_locales : 1;
	long long now, cut;

	p->attr_first = pim_calloc(s->n_attrs + 1, sizeof *p->attr_first);
	p->attr_n = pim_calloc(s->n_attrs + 1, sizeof *p->attr_n);
	p->slot_loc = pim_calloc(cat->n_slots + 1, sizeof *p->slot_loc);
	p->filled = pim_calloc(cat->n_slots + 1, 1);
	p->slot_filled = pim_calloc(cat->n_slots + 1, sizeof *p->slot_filled);
	p->slot_invalid = pim_calloc(cat->n_slots + 1, sizeof *p->slot_invalid);
	p->check_failed = pim_calloc(s->n_checks + 1, sizeof *p->check_failed);
	p->check_keys = pim_calloc(s->n_checks + 1, sizeof *p->check_keys);
	p->roles = pim_calloc(s->n_roles + 1, sizeof *p->roles);
	if (!p->attr_first || !p->attr_n || !p->slot_loc || !p->filled ||
	    !p->slot_filled || !p->slot_invalid || !p->check_failed ||
	    !p->check_keys || !p->roles)
		return PIM_ENOMEM;
	for (size_t i = cat->n_slots; i-- > 0;) {
		const pim_slot *sl = &cat->slots[i];
		p->attr_first[sl->attr] = i;
		p->attr_n[sl->attr]++;
		p->slot_loc[i] = -1;
		for (size_t l = 0; sl->locale && l < s->n_locales; l++)
			if (!strcmp(sl->locale, s->locales[l]))
				p->slot_loc[i] = (long)l;
	}
	/* the roles measured, and which must be ready for sale */
	int any_sell = pim_schema_role(s, "sales") ||
		       pim_schema_role(s, "warehouse");
	p->sales_role = -1;
	for (size_t i = 0; i < s->n_roles; i++) {
		const pim_role *ro = &s->roles[i];
		rrole *r;
		if (p->o->role && strcmp(p->o->role, ro->name))
			continue;
		r = &p->roles[p->n_roles];
		r->role = ro;
		r->sell = any_sell ? (!strcmp(ro->name, "sales") ||
				      !strcmp(ro->name, "warehouse"))
				   : 1;
		if (!strcmp(ro->name, "sales"))
			p->sales_role = (long)p->n_roles;
		r->loc_complete = pim_calloc(nl, sizeof *r->loc_complete);
		r->loc_sum = pim_calloc(nl, sizeof *r->loc_sum);
		r->missing = pim_calloc(ro->n_required + 1, sizeof *r->missing);
		r->missing_keys =
			pim_calloc(ro->n_required + 1, sizeof *r->missing_keys);
		p->n_roles++;
		if (!r->loc_complete || !r->loc_sum || !r->missing ||
		    !r->missing_keys)
			return PIM_ENOMEM;
		for (size_t k = 0; k < ro->n_required; k++)
			if (s->attrs[ro->required[k]].localizable &&
			    s->n_locales)
				r->has_loc = 1;
	}
	/* the sellable rule: a select `status` with an option `active` */
	p->status_slot = -1;
	long st = pim_schema_attribute_find(s, "status");
	if (st >= 0 && s->attrs[st].type == PIM_TYPE_SELECT &&
	    !s->attrs[st].localizable)
		for (size_t k = 0; k < s->attrs[st].n_options; k++)
			if (!strcmp(s->attrs[st].options[k], "active"))
				p->status_slot = (long)p->attr_first[st];
	/* the category: `category`, else the first attribute of that type */
	p->category_slot = -1;
	long ca = pim_schema_attribute_find(s, "category");
	if (ca < 0 || s->attrs[ca].type != PIM_TYPE_CATEGORY)
		for (ca = 0; ca < (long)s->n_attrs; ca++)
			if (s->attrs[ca].type == PIM_TYPE_CATEGORY)
				break;
	if (ca >= 0 && ca < (long)s->n_attrs)
		p->category_slot = (long)p->attr_first[ca];
	/* the kinds of duplicates */
	if (!(p->dups = pim_calloc(cat->n_slots + 3, sizeof *p->dups)))
		return PIM_ENOMEM;
	for (size_t i = 0; i < cat->n_slots; i++) {
		dupkind *d = &p->dups[p->n_dups];
		if (!s->attrs[cat->slots[i].attr].unique || i == cat->key_slot)
			continue;
		pim_slot_column(d->subject, sizeof d->subject, s,
				&cat->slots[i]);
		d->slot[0] = i;
		d->n_slots = 1;
		p->n_dups++;
	}
	long sa = pim_schema_attribute_find(s, "supplier");
	long sb = pim_schema_attribute_find(s, "supplier_sku");
	if (sa >= 0 && sb >= 0 && p->attr_n[sa] && p->attr_n[sb]) {
		dupkind *d = &p->dups[p->n_dups++];
		snprintf(d->subject, sizeof d->subject, "supplier+supplier_sku");
		d->slot[0] = p->attr_first[sa];
		d->slot[1] = p->attr_first[sb];
		d->n_slots = 2;
	}
	long na = pim_schema_attribute_find(s, "name");
	if (na >= 0 && p->attr_n[na]) {
		dupkind *d = &p->dups[p->n_dups++];
		char col[128];
		pim_slot_column(col, sizeof col, s, &cat->slots[p->attr_first[na]]);
		snprintf(d->subject, sizeof d->subject, "%s (normalised)", col);
		d->slot[0] = p->attr_first[na];
		d->n_slots = 1;
		d->fold = 1;
	}
	p->families.n_roles = p->n_roles;
	p->categories.n_roles = 0;
	/* stale: changed before now - days */
	now = parse_time(rep->now);
	if (now < 0)
		now = (long long)time(NULL);
	cut = now - (long long)p->o->stale_days * 86400;
	{
		time_t t = (time_t)cut;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(p->cutoff, sizeof p->cutoff, "%Y-%m-%dT%H:%M:%SZ",
			 &tm);
	}
	return 0;
}

static vcode *code_get(pass *p, const char *code)
{
	vcode *n;

	for (size_t i = 0; i < p->n_codes; i++)
		if (!strcmp(p->codes[i].code, code))
			return &p->codes[i];
	n = pim_realloc(p->codes, (p->n_codes + 1) * sizeof *n);
	if (!n)
		return NULL;
	p->codes = n;
	memset(&n[p->n_codes], 0, sizeof *n);
	n[p->n_codes].code = code;
	return &n[p->n_codes++];
}

/* Is attribute `ai` filled: in locale `loc` (its one slot when not
 * localizable), or in every locale when loc < 0. */
static int attr_filled(const pass *p, size_t ai, long loc)
{
	size_t f = p->attr_first[ai], n = p->attr_n[ai];

	if (n == 0)
		return 0;
	for (size_t i = f; i < f + n; i++) {
		if (loc >= 0 && p->slot_loc[i] >= 0 && p->slot_loc[i] != loc)
			continue;
		if (!p->filled[i])
			return 0;
	}
	return 1;
}

static int dup_hash(pass *p, const dupkind *d, sqlite3_stmt *st, int base,
		    uint64_t *out);

static int one_product(pass *p, sqlite3_stmt *st)
{
	pim_catalog *cat = p->cat;
	const pim_schema *s = p->s;
	const char *key = (const char *)sqlite3_column_text(st, 0);
	const char *family = (const char *)sqlite3_column_text(st, 1);
	const char *updated = (const char *)sqlite3_column_text(st, 2);
	unsigned long det = p->det;
	int invalid = 0, check_fail = 0, sellable = 0, stale, inconsistent = 0;
	group *fam;
	int rc = 0;

	p->products++;
	for (size_t i = 0; i < cat->n_slots; i++) {
		const char *v = (const char *)sqlite3_column_text(st, (int)i + 3);
		size_t len = (size_t)sqlite3_column_bytes(st, (int)i + 3);
		const pim_attr *a = &s->attrs[cat->slots[i].attr];
		pim_value_err err;
		int r;

		p->filled[i] = v && len;
		if (!p->filled[i])
			continue;
		p->slot_filled[i]++;
		/* the value as the current schema reads it: the parser
		 * imports use, and the canonical form they store */
		r = pim_value_parse(&p->canon, &err, a, v, len, NULL);
		if (r < 0)
			return r;
		if (r == 0 && (p->canon.len != len ||
			       memcmp(p->canon.data, v, len) != 0)) {
			r = 1;
			err.code = "canonical";
		}
		if (r == 1) {
			vcode *c = code_get(p, err.code ? err.code : "invalid");
			if (!c)
				return PIM_ENOMEM;
			c->values++;
			/* a product counts once per code */
			if (c->last != p->products) {
				c->last = p->products;
				if ((rc = keys_add(&c->keys, det, key)))
					return rc;
			}
			p->slot_invalid[i]++;
			p->invalid_values++;
			invalid = 1;
		}
	}
	for (size_t k = 0; k < p->n_dups; k++) {
		dupkind *d = &p->dups[k];
		uint64_t h;
		if ((rc = dup_hash(p, d, st, 3, &h)))
			return rc;
		if (!h)
			continue;
		if (d->n == d->cap) {
			size_t cap = d->cap ? d->cap * 2 : 1024;
			uint64_t *nh = pim_realloc(d->h, cap * sizeof *nh);
			if (!nh)
				return PIM_ENOMEM;
			d->h = nh;
			d->cap = cap;
		}
		d->h[d->n++] = h;
	}
	if (invalid) {
		p->invalid_products++;
		if ((rc = keys_add(&p->invalid_keys, det, key)))
			return rc;
	}
	/* the schema's checks, on the values of the first locale */
	for (size_t c = 0; c < s->n_checks; c++) {
		const pim_check *ck = &s->checks[c];
		size_t ls = p->attr_first[ck->left];
		const char *l = p->filled[ls] ? (const char *)sqlite3_column_text(
							st, (int)ls + 3)
					      : NULL;
		const char *r = NULL;
		if (ck->right_is_attr) {
			size_t rs = p->attr_first[ck->right];
			r = p->filled[rs] ? (const char *)sqlite3_column_text(
						    st, (int)rs + 3)
					  : NULL;
			if (!r)
				continue;
		}
		if (!l)
			continue;
		if (pim_check_eval(s, ck, l, r) == 0) {
			p->check_failed[c]++;
			check_fail = 1;
			if ((rc = keys_add(&p->check_keys[c], det, key)))
				return rc;
		}
	}
	if (check_fail)
		p->check_products++;
	if (p->status_slot >= 0 && p->filled[p->status_slot]) {
		const char *v = (const char *)sqlite3_column_text(
			st, (int)p->status_slot + 3);
		sellable = v && !strcmp(v, "active");
	}
	p->sellable += sellable;
	stale = !updated || strcmp(updated, p->cutoff) < 0;
	if (stale) {
		p->stale++;
		if ((rc = keys_add(&p->stale_keys, det, key)))
			return rc;
	}
	if (!(fam = gmap_get(&p->families, family)))
		return PIM_ENOMEM;
	fam->products++;
	/* the family's own requirement, when the schema defines it */
	for (size_t f = 0; family && f < s->n_families; f++) {
		const pim_family *df = &s->families[f];
		size_t filled = 0;
		if (strcmp(df->name, family) || !df->n_required)
			continue;
		for (size_t k = 0; k < df->n_required; k++)
			filled += (size_t)attr_filled(p, df->required[k], -1);
		fam->fsum += 100 * filled / df->n_required;
		fam->fcomplete += filled == df->n_required;
	}
	for (size_t i = 0; i < p->n_roles; i++) {
		rrole *r = &p->roles[i];
		const pim_role *ro = r->role;
		size_t filled = 0, pct;
		for (size_t k = 0; k < ro->n_required; k++) {
			if (attr_filled(p, ro->required[k], -1)) {
				filled++;
				continue;
			}
			r->missing[k]++;
			if ((rc = keys_add(&r->missing_keys[k], det, key)))
				return rc;
		}
		pct = ro->n_required ? 100 * filled / ro->n_required : 100;
		r->done = filled == ro->n_required;
		r->sum += pct;
		fam->sum[i] += pct;
		if (r->done) {
			r->complete++;
			fam->complete[i]++;
		} else if ((rc = keys_add(&r->incomplete, det, key))) {
			return rc;
		}
		for (size_t l = 0; r->has_loc && l < s->n_locales; l++) {
			size_t lf = 0;
			for (size_t k = 0; k < ro->n_required; k++)
				lf += (size_t)attr_filled(p, ro->required[k],
							  (long)l);
			r->loc_sum[l] += ro->n_required
						 ? 100 * lf / ro->n_required
						 : 100;
			r->loc_complete[l] += lf == ro->n_required;
		}
		if (r->sell && sellable && !r->done) {
			inconsistent = 1;
			if ((rc = keys_add(&r->sell_incomplete, det, key)))
				return rc;
		}
		if (check_fail || (r->sell && sellable && !r->done))
			r->inconsistent++;
		if (stale && !r->done &&
		    (rc = keys_add(&r->stale_incomplete, det, key)))
			return rc;
	}
	if (inconsistent || check_fail) {
		p->inconsistent++;
		if ((rc = keys_add(&p->inconsistent_keys, det, key)))
			return rc;
	}
	if (p->category_slot >= 0 && p->filled[p->category_slot]) {
		const char *c = (const char *)sqlite3_column_text(
			st, (int)p->category_slot + 3);
		group *g = gmap_get(&p->categories, c);
		int ready = p->status_slot < 0 || sellable;
		if (!g)
			return PIM_ENOMEM;
		g->products++;
		if (p->sales_role >= 0 && !p->roles[p->sales_role].done)
			ready = 0;
		g->stocked += ready;
		/* the first products of a category, in case it is empty */
		if ((rc = keys_add(&g->keys, det, key)))
			return rc;
	}
	return 0;
}

/* The scope: "_archived = 0" and the --where condition. */
static int scope_sql(pim_catalog *cat, const pim_report_options *o,
		     pim_buf *sql, pim_binds *binds, pim_where_error *err)
{
	int ranged = 0, rc;

	pim_buf_adds(sql, " FROM product WHERE _archived = 0");
	if (o->where && *o->where) {
		pim_buf_adds(sql, " AND ");
		rc = pim_where_compile(cat, o->where, NULL, 1, sql, binds,
				       &ranged, err);
		if (rc == PIM_EPARSE)
			return pim_cat_error(cat, rc, "--where: column %lu: %s",
					     err ? err->col : 0,
					     err ? err->message
						 : "bad expression");
		if (rc)
			return pim_cat_error(cat, rc, "out of memory");
	}
	return sql->data ? 0 : pim_cat_error(cat, PIM_ENOMEM, "out of memory");
}

static int prepare_scoped(pim_catalog *cat, sqlite3_stmt **st, const char *sql,
			  const pim_binds *b)
{
	int rc = sqlite3_prepare_v2(cat->db, sql, -1, st, NULL);

	if (rc != SQLITE_OK)
		return pim_cat_sqlerr(cat, rc, "reading products");
	for (size_t i = 0; i < b->n; i++)
		sqlite3_bind_text(*st, (int)i + 1, b->v[i], -1, SQLITE_STATIC);
	return 0;
}

static int main_pass(pass *p, pim_where_error *err)
{
	pim_catalog *cat = p->cat;
	pim_buf sql = PIM_BUF_INIT;
	pim_binds binds = { NULL, 0, 0 };
	sqlite3_stmt *st = NULL;
	int rc;

	pim_buf_printf(&sql, "SELECT %s, _family, _updated_at",
		       cat->col[cat->key_slot]);
	for (size_t i = 0; i < cat->n_slots; i++)
		pim_buf_printf(&sql, ", %s", cat->col[i]);
	if ((rc = scope_sql(cat, p->o, &sql, &binds, err)))
		goto out;
	if ((rc = prepare_scoped(cat, &st, sql.data, &binds)))
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = one_product(p, st))) {
			rc = pim_cat_error(cat, rc, "out of memory");
			goto out;
		}
	rc = rc == SQLITE_DONE ? 0 : pim_cat_sqlerr(cat, rc, "reading products");
out:
	sqlite3_finalize(st);
	pim_binds_free(&binds);
	pim_buf_free(&sql);
	return rc;
}

/* ---- duplicates ------------------------------------------------------------ */

static uint64_t hash_bytes(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The hash of a product's value for a kind of duplicate; 0 when it has
 * none (an empty value is nobody's duplicate). */
static int dup_hash(pass *p, const dupkind *d, sqlite3_stmt *st, int base,
		    uint64_t *out)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	*out = 0;
	for (size_t k = 0; k < d->n_slots; k++) {
		size_t sl = d->slot[k];
		const char *v = (const char *)sqlite3_column_text(st, (int)sl + base);
		size_t len = (size_t)sqlite3_column_bytes(st, (int)sl + base);
		if (!v || !len)
			return 0;
		if (d->fold) {
			pim_buf_clear(&p->fold);
			if (pim_report_fold(&p->fold, v, len))
				return PIM_ENOMEM;
			if (!p->fold.len)
				return 0;
			v = p->fold.data;
			len = p->fold.len;
		}
		h = hash_bytes(h, v, len);
		h = hash_bytes(h, "\x1f", 1);
	}
	*out = h ? h : 1;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Sorts the hashes, counts the groups of equal ones, and keeps only the
 * duplicated hashes (once each) for naming their products. */
static void dup_count(dupkind *d)
{
	size_t w = 0;

	if (d->n > 1)
		qsort(d->h, d->n, sizeof *d->h, cmp_u64);
	for (size_t i = 0; i < d->n;) {
		size_t j = i + 1;
		while (j < d->n && d->h[j] == d->h[i])
			j++;
		if (j - i > 1) {
			d->groups++;
			d->products += j - i;
			d->h[w++] = d->h[i];
		}
		i = j;
	}
	d->n = w;
}

static int dup_is(const dupkind *d, uint64_t h)
{
	size_t lo = 0, hi = d->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (d->h[mid] == h)
			return 1;
		if (d->h[mid] < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* With --details, the products behind the duplicates: one more pass. */
static int dup_keys(pass *p, pim_where_error *err)
{
	pim_catalog *cat = p->cat;
	pim_buf sql = PIM_BUF_INIT;
	pim_binds binds = { NULL, 0, 0 };
	sqlite3_stmt *st = NULL;
	int rc;

	pim_buf_printf(&sql, "SELECT %s", cat->col[cat->key_slot]);
	for (size_t i = 0; i < cat->n_slots; i++)
		pim_buf_printf(&sql, ", %s", cat->col[i]);
	if ((rc = scope_sql(cat, p->o, &sql, &binds, err)))
		goto out;
	if ((rc = prepare_scoped(cat, &st, sql.data, &binds)))
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(st, 0);
		for (size_t k = 0; k < p->n_dups; k++) {
			dupkind *d = &p->dups[k];
			uint64_t h;
			if (!d->n)
				continue;
			if ((rc = dup_hash(p, d, st, 1, &h)) ||
			    (h && dup_is(d, h) &&
			     (rc = keys_add(&d->keys, p->det, key)))) {
				rc = pim_cat_error(cat, rc, "out of memory");
				goto out;
			}
		}
	}
	rc = rc == SQLITE_DONE ? 0 : pim_cat_sqlerr(cat, rc, "reading products");
out:
	sqlite3_finalize(st);
	pim_binds_free(&binds);
	pim_buf_free(&sql);
	return rc;
}

static int uniqueness(pim_report *rep, pass *p, double *pct,
		      pim_where_error *err)
{
	unsigned long long extra = 0;
	int rc = 0;

	for (size_t k = 0; k < p->n_dups; k++)
		dup_count(&p->dups[k]);
	if (p->det && (rc = dup_keys(p, err)))
		return rc;
	for (size_t k = 0; k < p->n_dups && rc == 0; k++) {
		dupkind *d = &p->dups[k];
		/* likely duplicates by name are a hint, not a fault */
		if (!d->fold)
			extra += d->products - d->groups;
		d->keys.total = d->products;
		if ((rc = fig(rep, "uniqueness", NULL, d->subject, "groups",
			      (double)d->groups, NULL)))
			break;
		rc = fig(rep, "uniqueness", NULL, d->subject, "products",
			 (double)d->products, &d->keys);
	}
	*pct = p->products ? 100.0 * (1.0 - (double)extra / (double)p->products)
			   : 100.0;
	if (*pct < 0)
		*pct = 0;
	if (rc == 0)
		rc = fig(rep, "uniqueness", NULL, NULL, "extra", (double)extra,
			 NULL);
	if (rc == 0)
		rc = fig(rep, "uniqueness", NULL, NULL, "unique_pct", *pct, NULL);
	return rc ? pim_cat_error(p->cat, rc, "out of memory") : 0;
}

/* ---- figures from the pass ------------------------------------------------- */

static double pct_of(unsigned long long n, unsigned long long of)
{
	return of ? 100.0 * (double)n / (double)of : 100.0;
}

static double mean_of(unsigned long long sum, unsigned long long of)
{
	return of ? (double)sum / (double)of : 100.0;
}

static int completeness_figures(pim_report *rep, pass *p)
{
	const pim_schema *s = p->s;
	unsigned long long n = p->products;
	int rc = 0;

	for (size_t i = 0; i < p->n_roles && rc == 0; i++) {
		rrole *r = &p->roles[i];
		const char *name = r->role->name;
		keylist inc = r->incomplete;
		unsigned long long incomplete = n - r->complete;
		memset(&r->incomplete, 0, sizeof r->incomplete);
		inc.total = incomplete;
		if ((rc = fig(rep, "completeness", name, NULL, "products",
			      (double)n, NULL)) ||
		    (rc = fig(rep, "completeness", name, NULL, "required",
			      (double)r->role->n_required, NULL)) ||
		    (rc = fig(rep, "completeness", name, NULL, "complete",
			      (double)r->complete, NULL)) ||
		    (rc = fig(rep, "completeness", name, NULL, "incomplete",
			      (double)incomplete, &inc)) ||
		    (rc = fig(rep, "completeness", name, NULL, "complete_pct",
			      pct_of(r->complete, n), NULL)) ||
		    (rc = fig(rep, "completeness", name, NULL, "mean",
			      mean_of(r->sum, n), NULL))) {
			keys_free(&inc);
			break;
		}
		keys_free(&inc);
		for (size_t l = 0; r->has_loc && l < s->n_locales && rc == 0;
		     l++) {
			const char *loc = s->locales[l];
			if ((rc = fig(rep, "locale", name, loc, "complete",
				      (double)r->loc_complete[l], NULL)) ||
			    (rc = fig(rep, "locale", name, loc, "complete_pct",
				      pct_of(r->loc_complete[l], n), NULL)))
				break;
			rc = fig(rep, "locale", name, loc, "mean",
				 mean_of(r->loc_sum[l], n), NULL);
		}
	}
	return rc;
}

static int family_figures(pim_report *rep, pass *p)
{
	const pim_schema *s = p->s;
	gmap *m = &p->families;
	int rc = 0;

	if (m->n > 1)
		qsort(m->g, m->n, sizeof *m->g, cmp_group);
	for (size_t i = 0; i < m->n && rc == 0; i++) {
		group *g = &m->g[i];
		const char *name = g->name ? g->name : "(none)";
		int defined = 0;
		for (size_t f = 0; g->name && f < s->n_families; f++)
			if (!strcmp(s->families[f].name, g->name) &&
			    s->families[f].n_required)
				defined = 1;
		if ((rc = fig(rep, "family", NULL, name, "products",
			      (double)g->products, NULL)))
			break;
		if (defined &&
		    ((rc = fig(rep, "family", NULL, name, "complete_pct",
			       pct_of(g->fcomplete, g->products), NULL)) ||
		     (rc = fig(rep, "family", NULL, name, "mean",
			       mean_of(g->fsum, g->products), NULL))))
			break;
		for (size_t r = 0; r < p->n_roles && rc == 0; r++) {
			const char *role = p->roles[r].role->name;
			if ((rc = fig(rep, "family", role, name, "complete_pct",
				      pct_of(g->complete[r], g->products),
				      NULL)))
				break;
			rc = fig(rep, "family", role, name, "mean",
				 mean_of(g->sum[r], g->products), NULL);
		}
	}
	return rc;
}

static int attribute_figures(pim_report *rep, pass *p)
{
	pim_catalog *cat = p->cat;
	const pim_schema *s = p->s;
	char col[128];
	int rc = 0;

	for (size_t i = 0; i < cat->n_slots && rc == 0; i++) {
		pim_slot_column(col, sizeof col, s, &cat->slots[i]);
		if ((rc = fig(rep, "attribute", NULL, col, "filled",
			      (double)p->slot_filled[i], NULL)))
			break;
		rc = fig(rep, "attribute", NULL, col, "fill_pct",
			 pct_of(p->slot_filled[i], p->products), NULL);
	}
	for (size_t r = 0; r < p->n_roles && rc == 0; r++) {
		rrole *ro = &p->roles[r];
		for (size_t k = 0; k < ro->role->n_required && rc == 0; k++)
			rc = fig(rep, "attribute", ro->role->name,
				 s->attrs[ro->role->required[k]].code,
				 "missing", (double)ro->missing[k],
				 &ro->missing_keys[k]);
	}
	return rc;
}

static int cmp_code(const void *a, const void *b)
{
	return strcmp(((const vcode *)a)->code, ((const vcode *)b)->code);
}

static int validity_figures(pim_report *rep, pass *p, double *pct)
{
	pim_catalog *cat = p->cat;
	char col[128];
	int rc;

	*pct = pct_of(p->products - p->invalid_products, p->products);
	if ((rc = fig(rep, "validity", NULL, NULL, "invalid_values",
		      (double)p->invalid_values, NULL)) ||
	    (rc = fig(rep, "validity", NULL, NULL, "invalid_products",
		      (double)p->invalid_products, &p->invalid_keys)) ||
	    (rc = fig(rep, "validity", NULL, NULL, "valid_pct", *pct, NULL)))
		return rc;
	if (p->n_codes > 1)
		qsort(p->codes, p->n_codes, sizeof *p->codes, cmp_code);
	for (size_t i = 0; i < p->n_codes && rc == 0; i++) {
		vcode *c = &p->codes[i];
		rc = fig(rep, "validity", NULL, c->code, "values",
			 (double)c->values, &c->keys);
	}
	for (size_t i = 0; i < cat->n_slots && rc == 0; i++) {
		if (!p->slot_invalid[i])
			continue;
		pim_slot_column(col, sizeof col, p->s, &cat->slots[i]);
		rc = fig(rep, "validity", NULL, col, "invalid",
			 (double)p->slot_invalid[i], NULL);
	}
	return rc;
}

static int consistency_figures(pim_report *rep, pass *p, double *pct)
{
	const pim_schema *s = p->s;
	int rc = 0;

	for (size_t c = 0; c < s->n_checks && rc == 0; c++)
		rc = fig(rep, "consistency", NULL, s->checks[c].text, "failed",
			 (double)p->check_failed[c], &p->check_keys[c]);
	if (rc == 0 && p->status_slot >= 0)
		rc = fig(rep, "consistency", NULL, NULL, "sellable",
			 (double)p->sellable, NULL);
	for (size_t r = 0; r < p->n_roles && rc == 0; r++) {
		rrole *ro = &p->roles[r];
		if (!ro->sell || p->status_slot < 0)
			continue;
		rc = fig(rep, "consistency", ro->role->name, NULL,
			 "sellable_incomplete",
			 (double)ro->sell_incomplete.total,
			 &ro->sell_incomplete);
	}
	*pct = pct_of(p->products - p->inconsistent, p->products);
	if (rc == 0)
		rc = fig(rep, "consistency", NULL, NULL, "inconsistent",
			 (double)p->inconsistent, &p->inconsistent_keys);
	if (rc == 0)
		rc = fig(rep, "consistency", NULL, NULL, "consistent_pct", *pct,
			 NULL);
	return rc;
}

static int freshness_figures(pim_report *rep, pass *p, double *pct)
{
	int rc;

	*pct = pct_of(p->products - p->stale, p->products);
	if ((rc = fig(rep, "freshness", NULL, NULL, "stale_days",
		      (double)p->o->stale_days, NULL)) ||
	    (rc = fig(rep, "freshness", NULL, NULL, "stale", (double)p->stale,
		      &p->stale_keys)) ||
	    (rc = fig(rep, "freshness", NULL, NULL, "fresh_pct", *pct, NULL)))
		return rc;
	for (size_t r = 0; r < p->n_roles && rc == 0; r++) {
		rrole *ro = &p->roles[r];
		rc = fig(rep, "freshness", ro->role->name, NULL,
			 "stale_incomplete", (double)ro->stale_incomplete.total,
			 &ro->stale_incomplete);
	}
	return rc;
}

static int shelf_figures(pim_report *rep, pass *p)
{
	gmap *m = &p->categories;
	unsigned long long empty = 0;
	int rc;

	if (p->category_slot < 0)
		return 0;
	if (m->n > 1)
		qsort(m->g, m->n, sizeof *m->g, cmp_group);
	for (size_t i = 0; i < m->n; i++)
		empty += m->g[i].stocked == 0;
	if ((rc = fig(rep, "shelves", NULL, NULL, "categories", (double)m->n,
		      NULL)) ||
	    (rc = fig(rep, "shelves", NULL, NULL, "empty", (double)empty,
		      NULL)))
		return rc;
	for (size_t i = 0; i < m->n && rc == 0; i++) {
		group *g = &m->g[i];
		if (g->stocked)
			continue;
		g->keys.total = g->products;
		rc = fig(rep, "shelves", NULL, g->name, "products",
			 (double)g->products, &g->keys);
	}
	return rc;
}

/* ---- channel readiness: what a merchant feed would take ------------------ */

typedef struct reason {
	char *field;
	keylist keys;
	char last[128]; /* the last product counted */
} reason;

typedef struct chan {
	reason *r;
	size_t n;
	unsigned long det;
	int oom;
} chan;

static int on_feed_diag(const pim_diag *d, void *ctx)
{
	chan *c = ctx;
	const char *field = d->attribute ? d->attribute : "(product)";
	reason *r = NULL;

	if (!d->code || strcmp(d->code, "feed") || !d->key)
		return 0;
	for (size_t i = 0; i < c->n && !r; i++)
		if (!strcmp(c->r[i].field, field))
			r = &c->r[i];
	if (!r) {
		reason *n = pim_realloc(c->r, (c->n + 1) * sizeof *n);
		if (!n) {
			c->oom = 1;
			return 1;
		}
		c->r = n;
		r = &n[c->n];
		memset(r, 0, sizeof *r);
		if (!(r->field = pim_strdup(field))) {
			c->oom = 1;
			return 1;
		}
		c->n++;
	}
	/* a product counts once per field */
	if (!strncmp(r->last, d->key, sizeof r->last))
		return 0;
	snprintf(r->last, sizeof r->last, "%s", d->key);
	if (keys_add(&r->keys, c->det, d->key)) {
		c->oom = 1;
		return 1;
	}
	return 0;
}

static int cmp_reason(const void *a, const void *b)
{
	return strcmp(((const reason *)a)->field, ((const reason *)b)->field);
}

/* The products a merchant export (pim_export, checking only) would take,
 * and, by feed field, why it would leave the others out. A catalog the
 * feed profile does not fit gets one figure "unavailable" naming why. */
static int channel_figures(pim_report *rep, pass *p)
{
	pim_export_options eo = PIM_EXPORT_OPTIONS_INIT;
	pim_export_stats es;
	pim_where_error werr;
	chan c;
	int rc, xr;

	memset(&c, 0, sizeof c);
	memset(&es, 0, sizeof es);
	c.det = p->det;
	eo.format = PIM_EXPORT_MERCHANT;
	eo.where = p->o->where;
	xr = pim_export(p->cat, &eo, NULL, &es, on_feed_diag, &c, &werr);
	if (c.oom) {
		rc = PIM_ENOMEM;
		goto out;
	}
	if (xr == PIM_ENOMEM) {
		rc = xr;
		goto out;
	}
	if (xr) {
		char why[300];
		snprintf(why, sizeof why, "merchant: %s", pim_errmsg(p->cat));
		rc = fig(rep, "channel", NULL, why, "unavailable", 1, NULL);
		goto out;
	}
	if ((rc = fig(rep, "channel", NULL, NULL, "included",
		      (double)(es.products - es.skipped), NULL)) ||
	    (rc = fig(rep, "channel", NULL, NULL, "excluded",
		      (double)es.skipped, NULL)) ||
	    (rc = fig(rep, "channel", NULL, NULL, "ready_pct",
		      pct_of(es.products - es.skipped, es.products), NULL)))
		goto out;
	if (c.n > 1)
		qsort(c.r, c.n, sizeof *c.r, cmp_reason);
	for (size_t i = 0; i < c.n && rc == 0; i++)
		rc = fig(rep, "channel", NULL, c.r[i].field, "products",
			 (double)c.r[i].keys.total, &c.r[i].keys);
out:
	for (size_t i = 0; i < c.n; i++) {
		pim_free(c.r[i].field);
		keys_free(&c.r[i].keys);
	}
	pim_free(c.r);
	return rc;
}

static double round1(double x)
{
	return floor(x * 10 + 0.5) / 10;
}

static int score_figures(pim_report *rep, pass *p, double v, double u,
			 double k, double fr)
{
	unsigned long long n = p->products;
	double csum = 0, score;
	int rc = 0;

	for (size_t r = 0; r < p->n_roles && rc == 0; r++) {
		rrole *ro = &p->roles[r];
		const char *name = ro->role->name;
		double c = mean_of(ro->sum, n);
		double kr = pct_of(n - ro->inconsistent, n);
		csum += c;
		score = W_COMPLETENESS * c + W_VALIDITY * v + W_UNIQUENESS * u +
			W_CONSISTENCY * kr + W_FRESHNESS * fr;
		if ((rc = fig(rep, "score", name, NULL, "completeness", c,
			      NULL)) ||
		    (rc = fig(rep, "score", name, NULL, "validity", v, NULL)) ||
		    (rc = fig(rep, "score", name, NULL, "uniqueness", u,
			      NULL)) ||
		    (rc = fig(rep, "score", name, NULL, "consistency", kr,
			      NULL)) ||
		    (rc = fig(rep, "score", name, NULL, "freshness", fr,
			      NULL)))
			break;
		rc = fig(rep, "score", name, NULL, "score", round1(score),
			 NULL);
	}
	if (rc)
		return rc;
	csum = p->n_roles ? csum / (double)p->n_roles : 100.0;
	score = W_COMPLETENESS * csum + W_VALIDITY * v + W_UNIQUENESS * u +
		W_CONSISTENCY * k + W_FRESHNESS * fr;
	if ((rc = fig(rep, "score", NULL, NULL, "completeness", csum, NULL)) ||
	    (rc = fig(rep, "score", NULL, NULL, "validity", v, NULL)) ||
	    (rc = fig(rep, "score", NULL, NULL, "uniqueness", u, NULL)) ||
	    (rc = fig(rep, "score", NULL, NULL, "consistency", k, NULL)) ||
	    (rc = fig(rep, "score", NULL, NULL, "freshness", fr, NULL)))
		return rc;
	return fig(rep, "score", NULL, NULL, "score", round1(score), NULL);
}

/* Moves the score figures to the front: they are what one reads first. */
static void scores_first(pim_report *rep)
{
	size_t w = 0;

	for (size_t i = 0; i < rep->n; i++) {
		if (strcmp(rep->f[i].section, "score"))
			continue;
		pim_report_figure t = rep->f[i];
		memmove(rep->f + w + 1, rep->f + w, (i - w) * sizeof *rep->f);
		rep->f[w++] = t;
	}
}

/* Overall first, then the roles: put the NULL-role scores ahead. */
static void overall_first(pim_report *rep)
{
	size_t w = 0;

	for (size_t i = 0; i < rep->n && !strcmp(rep->f[i].section, "score");
	     i++) {
		if (rep->f[i].role)
			continue;
		pim_report_figure t = rep->f[i];
		memmove(rep->f + w + 1, rep->f + w, (i - w) * sizeof *rep->f);
		rep->f[w++] = t;
	}
}

int pim_report_run(pim_report **out, pim_catalog *cat,
		   const pim_report_options *o, pim_where_error *err)
{
	pim_report *rep = NULL;
	pim_report_options opts;
	pass p;
	double v = 100, u = 100, k = 100, fr = 100;
	int rc;

	*out = NULL;
	memset(&p, 0, sizeof p);
	if (!o || o->version != PIM_REPORT_OPTIONS_VERSION)
		return pim_cat_error(cat, PIM_EINVALID, "bad report options");
	opts = *o;
	if (!opts.stale_days)
		opts.stale_days = DEFAULT_STALE_DAYS;
	if (opts.role && !pim_schema_role(cat->schema, opts.role)) {
		pim_view *view = NULL;
		/* the view says which roles there are */
		rc = pim_view_new(&view, cat, opts.role, NULL, NULL);
		pim_view_free(view);
		return rc ? rc
			  : pim_cat_error(cat, PIM_ENOTFOUND, "unknown role");
	}
	if (!(rep = pim_calloc(1, sizeof *rep)))
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	pim_cat_now(rep->now, sizeof rep->now);
	if (opts.role && !(rep->role = pim_strdup(opts.role))) {
		rc = pim_cat_error(cat, PIM_ENOMEM, "out of memory");
		goto fail;
	}
	p.cat = cat;
	p.s = cat->schema;
	p.o = &opts;
	p.det = opts.details;
	/* one read transaction: every pass sees the same catalog */
	if ((rc = sqlite3_exec(cat->db, "BEGIN", NULL, NULL, NULL)) !=
	    SQLITE_OK) {
		rc = pim_cat_sqlerr(cat, rc, "starting to read");
		goto fail;
	}
	if ((rc = pass_init(&p, rep))) {
		rc = pim_cat_error(cat, rc, "out of memory");
		goto end;
	}
	if ((rc = main_pass(&p, err)))
		goto end;
	rep->products = p.products;
	if ((rc = completeness_figures(rep, &p)) ||
	    (rc = family_figures(rep, &p)) ||
	    (rc = attribute_figures(rep, &p)) ||
	    (rc = validity_figures(rep, &p, &v))) {
		rc = pim_cat_error(cat, rc, "out of memory");
		goto end;
	}
	if ((rc = uniqueness(rep, &p, &u, err)))
		goto end;
	if ((rc = consistency_figures(rep, &p, &k)) ||
	    (rc = freshness_figures(rep, &p, &fr)) ||
	    (rc = shelf_figures(rep, &p)) ||
	    (rc = score_figures(rep, &p, v, u, k, fr))) {
		rc = pim_cat_error(cat, rc, "out of memory");
		goto end;
	}
	scores_first(rep);
	overall_first(rep);
end:
	sqlite3_exec(cat->db, "COMMIT", NULL, NULL, NULL);
	/* the export reads in its own transaction */
	if (rc == 0 && opts.channel && (rc = channel_figures(rep, &p)))
		rc = pim_cat_error(cat, rc, "out of memory");
	if (rc)
		goto fail;
	pass_free(&p);
	*out = rep;
	return 0;
fail:
	pass_free(&p);
	pim_report_free(rep);
	return rc;
}

/* ---- saved runs -------------------------------------------------------------- */

static const char create_run[] =
	"CREATE TABLE IF NOT EXISTS report_run(\n"
	"  id       INTEGER PRIMARY KEY,\n"
	"  at       TEXT NOT NULL,\n"
	"  user     TEXT,\n"
	"  role     TEXT,\n"
	"  scope    TEXT,\n"
	"  products INTEGER NOT NULL,\n"
	"  score    REAL,\n"
	"  figures  TEXT NOT NULL)";

static void json_num(pim_buf *b, double v)
{
	if (v == floor(v) && fabs(v) < 1e15)
		pim_buf_printf(b, "%.0f", v);
	else
		pim_buf_printf(b, "%.6g", v);
}

static void json_str_or_null(pim_buf *b, const char *s)
{
	if (s)
		pim_buf_add_json_string(b, s, strlen(s));
	else
		pim_buf_adds(b, "null");
}

int pim_report_save(pim_catalog *cat, long long *id, const pim_report *rep,
		    const char *scope)
{
	pim_buf js = PIM_BUF_INIT;
	sqlite3_stmt *st = NULL;
	const pim_report_figure *sc = pim_report_find(rep, "score", NULL, NULL,
						      "score");
	int rc;

	*id = 0;
	pim_buf_addc(&js, '[');
	for (size_t i = 0; i < rep->n; i++) {
		const pim_report_figure *f = &rep->f[i];
		pim_buf_adds(&js, i ? ",[" : "[");
		json_str_or_null(&js, f->section);
		pim_buf_addc(&js, ',');
		json_str_or_null(&js, f->role);
		pim_buf_addc(&js, ',');
		json_str_or_null(&js, f->subject);
		pim_buf_addc(&js, ',');
		json_str_or_null(&js, f->metric);
		pim_buf_addc(&js, ',');
		json_num(&js, f->value);
		pim_buf_printf(&js, ",%llu]", f->products);
	}
	if (pim_buf_addc(&js, ']')) {
		pim_buf_free(&js);
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	}
	if ((rc = pim_cat_begin(cat)))
		goto out;
	rc = sqlite3_exec(cat->db, create_run, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(cat->db,
					"INSERT INTO report_run(at, user, role, "
					"scope, products, score, figures) "
					"VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
					-1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, rep->now, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, cat->user, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, rep->role, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, scope, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)rep->products);
		if (sc)
			sqlite3_bind_double(st, 6, sc->value);
		sqlite3_bind_text(st, 7, js.data, (int)js.len, SQLITE_STATIC);
		rc = sqlite3_step(st);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	if (rc != SQLITE_OK) {
		rc = pim_cat_sqlerr(cat, rc, "saving the report");
		pim_cat_rollback(cat);
		goto out;
	}
	*id = sqlite3_last_insert_rowid(cat->db);
	rc = pim_cat_commit(cat);
out:
	sqlite3_finalize(st);
	pim_buf_free(&js);
	return rc;
}

int pim_report_trend(pim_catalog *cat, unsigned long limit,
		     pim_report_run_fn fn, void *ctx)
{
	const pim_schema *s = cat->schema;
	sqlite3_stmt *st = NULL, *fq = NULL;
	double *vals = NULL;
	const char **roles = NULL;
	int rc, exists = 0;

	rc = sqlite3_prepare_v2(cat->db,
				"SELECT 1 FROM sqlite_master WHERE type = "
				"'table' AND name = 'report_run'",
				-1, &st, NULL);
	if (rc == SQLITE_OK)
		exists = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_OK)
		return pim_cat_sqlerr(cat, rc, "reading saved reports");
	if (!exists)
		return 0;
	vals = pim_calloc(3 * s->n_roles + 1, sizeof *vals);
	roles = pim_calloc(s->n_roles + 1, sizeof *roles);
	if (!vals || !roles) {
		rc = pim_cat_error(cat, PIM_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < s->n_roles; i++)
		roles[i] = s->roles[i].name;
	rc = sqlite3_prepare_v2(
		cat->db,
		"SELECT id, at, role, scope, products, score, figures FROM "
		"report_run WHERE id IN (SELECT id FROM report_run ORDER BY id "
		"DESC LIMIT ?1) ORDER BY id",
		-1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(
			cat->db,
			"SELECT json_extract(value, '$[1]'), json_extract(value, "
			"'$[0]') || '/' || json_extract(value, '$[3]'), "
			"json_extract(value, '$[4]') FROM json_each(?1) WHERE "
			"json_extract(value, '$[2]') IS NULL AND "
			"json_extract(value, '$[1]') IS NOT NULL",
			-1, &fq, NULL);
	if (rc != SQLITE_OK) {
		rc = pim_cat_sqlerr(cat, rc, "reading saved reports");
		goto out;
	}
	sqlite3_bind_int64(st, 1, limit ? (sqlite3_int64)limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		pim_report_run_info ri;
		memset(&ri, 0, sizeof ri);
		for (size_t i = 0; i < 3 * s->n_roles; i++)
			vals[i] = NAN;
		ri.id = sqlite3_column_int64(st, 0);
		ri.at = (const char *)sqlite3_column_text(st, 1);
		ri.role = (const char *)sqlite3_column_text(st, 2);
		ri.scope = (const char *)sqlite3_column_text(st, 3);
		ri.products = (unsigned long long)sqlite3_column_int64(st, 4);
		ri.score = sqlite3_column_type(st, 5) == SQLITE_NULL
				   ? NAN
				   : sqlite3_column_double(st, 5);
		sqlite3_bind_text(fq, 1, (const char *)sqlite3_column_text(st, 6),
				  -1, SQLITE_TRANSIENT);
		while (sqlite3_step(fq) == SQLITE_ROW) {
			const char *role = (const char *)sqlite3_column_text(fq, 0);
			const char *m = (const char *)sqlite3_column_text(fq, 1);
			double x = sqlite3_column_double(fq, 2);
			for (size_t i = 0; role && m && i < s->n_roles; i++) {
				if (strcmp(role, roles[i]))
					continue;
				if (!strcmp(m, "score/score"))
					vals[i] = x;
				else if (!strcmp(m, "completeness/complete_pct"))
					vals[s->n_roles + i] = x;
				else if (!strcmp(m, "completeness/mean"))
					vals[2 * s->n_roles + i] = x;
			}
		}
		sqlite3_reset(fq);
		ri.n_roles = s->n_roles;
		ri.roles = roles;
		ri.role_score = vals;
		ri.complete_pct = vals + s->n_roles;
		ri.mean = vals + 2 * s->n_roles;
		if (fn(&ri, ctx)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : pim_cat_sqlerr(cat, rc, "reading saved reports");
out:
	sqlite3_finalize(st);
	sqlite3_finalize(fq);
	pim_free(vals);
	pim_free(roles);
	return rc;
}
