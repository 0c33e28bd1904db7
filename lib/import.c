/*
 * import.c - loads supplier files into the catalog: the validation
 * pipeline feeds records to an upsert by key inside one write transaction
 * and one batch. Every change is recorded in the history; rejected rows go
 * to the reject file with their reasons. Nothing is half-written: any
 * failure rolls the whole import back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "catalog.h"
#include "pipeline.h"
#include "reject.h"
#include "rules.h"
#include "uniq.h"

/* A set of 64-bit hashes, each with a 32-bit owner, for duplicates within
 * one import: 12 bytes a value at most 3/4 full. */
typedef struct hset {
	uint64_t *key;
	uint32_t *owner; /* NULL for a plain set */
	size_t cap, n;
	int with_owner;
} hset;

/* The home slot of k. The callers set bit 0 of every key (0 marks an
 * empty slot), so the slot comes from the bits above it: with bit 0 in
 * it, only odd slots would be homes and the probe runs would grow long. */
static inline size_t hset_home(uint64_t k, size_t cap)
{
	return (size_t)(k >> 1) & (cap - 1);
}

static void hset_free(hset *h)
{
	pim_free(h->key);
	pim_free(h->owner);
	h->key = NULL;
	h->owner = NULL;
	h->cap = h->n = 0;
}

static int hset_grow_to(hset *h, size_t ncap);

static int hset_grow(hset *h)
{
	return hset_grow_to(h, h->cap ? h->cap * 2 : 4096);
}

/* Sized once for the rows to come, the set never grows (and never holds
 * the old and the new table at once). */
static int hset_reserve(hset *h, size_t n)
{
	size_t cap = 4096;
	while (cap * 3 < n * 4)
		cap *= 2;
	return cap > h->cap ? hset_grow_to(h, cap) : 0;
}

static int hset_grow_to(hset *h, size_t ncap)
{
	uint64_t *nk = pim_calloc_huge(ncap, sizeof *nk);
	uint32_t *no = h->with_owner ? pim_calloc_huge(ncap, sizeof *no)
				     : NULL;

	if (!nk || (h->with_owner && !no)) {
		pim_free(nk);
		pim_free(no);
		return PIM_ENOMEM;
	}
	for (size_t i = 0; i < h->cap; i++) {
		size_t j;
		if (!h->key[i])
			continue;
		for (j = hset_home(h->key[i], ncap); nk[j];
		     j = (j + 1) & (ncap - 1))
			;
		nk[j] = h->key[i];
		if (no)
			no[j] = h->owner[i];
	}
	pim_free(h->key);
	pim_free(h->owner);
	h->key = nk;
	h->owner = no;
	h->cap = ncap;
	return 0;
}

/* 0 when `k` is absent, else its owner (1 in a plain set). */
static uint32_t hset_get(const hset *h, uint64_t k)
{
	if (!h->cap)
		return 0;
	for (size_t j = hset_home(k, h->cap); h->key[j];
	     j = (j + 1) & (h->cap - 1))
		if (h->key[j] == k)
			return h->owner ? h->owner[j] : 1;
	return 0;
}

/* A load the CPU starts without waiting for it. GCC 12 at -O2 was seen to
 * drop __builtin_prefetch here once inlined under a condition (the binary
 * had no prefetch at all); a volatile asm statement stays. */
static inline void prefetch(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)p));
#else
	__builtin_prefetch(p);
#endif
}

/* Starts loading the slots of k: the tables are bigger than the caches,
 * and the lookup comes a record later. */
static inline void hset_prefetch(const hset *h, uint64_t k)
{
	if (h->cap) {
		size_t j = hset_home(k, h->cap);
		prefetch(&h->key[j]);
		if (h->owner)
			prefetch(&h->owner[j]);
	}
}

static int hset_put(hset *h, uint64_t k, uint32_t owner)
{
	size_t j;
	if ((h->n + 1) * 4 > h->cap * 3) {
		int rc = hset_grow(h);
		if (rc)
			return rc;
	}
	for (j = hset_home(k, h->cap); h->key[j]; j = (j + 1) & (h->cap - 1))
		if (h->key[j] == k) {
			if (h->owner)
				h->owner[j] = owner;
			return 0;
		}
	h->key[j] = k;
	if (h->owner)
		h->owner[j] = owner;
	h->n++;
	return 0;
}

typedef struct imp {
	pim_catalog *cat;
	const pim_import_options *o;
	pim_import_stats *st;
	pim_diag_fn diag;
	void *dctx;
	long long batch;
	char now[32];
	pim_cat_writer *w;
	unsigned char *write;    /* per slot: what the current file writes */
	size_t cur_file;
	int writer_ready;
	const char **newv;       /* per slot */
	uint64_t *hash;          /* per slot: the values' hashes, when the
				    record comes without them */
	pim_buf fpbuf;           /* the fingerprint's input, when the
				    record comes without it */
	uint64_t write_h;        /* hash of `write` */
	unsigned char *unique;   /* per slot: unique, not the key */
	pim_buf src, errs, source;
	unsigned long errs_line;
	const char *errs_name;   /* file of the collected errors */
	int stopped;             /* the caller asked to stop */
	size_t n_unique;         /* unique slots besides the key */
	unsigned long own_errors; /* errors found here, not by validation */
	hset keys;               /* key hashes seen */
	hset uniq;               /* (slot, value) hash -> key hash */
	int catalog_empty;       /* no product before this import */
	int journal;             /* switched to a rollback journal */
	pim_reject *rj;
	int with_file;
	int rc;                  /* first hard failure */
	unsigned long rows_seen;
	const pim_role *role;    /* the catalog's role, NULL: no limits */
	pim_rules_run *rules;    /* --rules, or NULL */
	unsigned long rules_skipped, rules_invalid;
} imp;

/* Diagnostics pass through; errors of the current row are collected for
 * the reject file's _errors column. */
static int imp_diag(const pim_diag *d, void *ctx)
{
	imp *im = ctx;

	if (d->severity == PIM_SEV_ERROR && d->line) {
		if (d->line != im->errs_line || d->file != im->errs_name) {
			pim_buf_clear(&im->errs);
			im->errs_line = d->line;
			im->errs_name = d->file;
		}
		if (im->errs.len)
			pim_buf_adds(&im->errs, "; ");
		if (d->column)
			pim_buf_printf(&im->errs, "%s: ", d->column);
		pim_buf_printf(&im->errs, "%s: %s", d->code ? d->code : "error",
			       d->message);
	}
	return im->diag ? im->diag(d, im->dctx) : 0;
}

static void own_diag(imp *im, const pim_record *r, const char *attr,
		     const char *code, const char *msg, const char *value)
{
	pim_diag d;

	memset(&d, 0, sizeof d);
	d.file = r->file;
	d.line = r->line;
	d.attribute = attr;
	d.code = code;
	d.severity = PIM_SEV_ERROR;
	d.message = msg;
	d.value = value;
	im->own_errors++;
	imp_diag(&d, im);
}

static int reject(imp *im, const pim_record *r)
{
	const char *errors;

	im->st->rejected++;
	if (!im->rj)
		return 0;
	errors = im->errs_line == r->line && im->errs_name == r->file &&
				 im->errs.len
			 ? im->errs.data
			 : "rejected";
	if (pim_reject_row(im->rj, r->dialect, r->header, r->n_header,
			   r->has_header, (const char *const *)r->raw->field,
			   r->raw->n, r->file, im->with_file, r->line, errors)) {
		im->rc = pim_cat_error(im->cat, PIM_EIO,
				       "%s: cannot write the reject file",
				       im->o->reject_path);
		return 1;
	}
	return 0;
}

/* ---- the role's rights ------------------------------------------------ */

static int role_may(const pim_role *role, size_t attr)
{
	for (size_t i = 0; role && i < role->n_edit; i++)
		if (role->edit[i] == attr)
			return 1;
	return !role;
}

/* Before anything is read: the mapping's columns and constants that
 * write attributes the role may not edit are named and refused. The key
 * is how records are found, not a value the role changes. */
static int check_mapping_rights(pim_catalog *cat, const pim_role *role,
				const pim_mapping *m)
{
	const pim_schema *s = cat->schema;
	pim_buf names = PIM_BUF_INIT;
	size_t bad = 0;
	int rc = 0;

	for (size_t i = 0; i < m->n_cols; i++) {
		const pim_colmap *c = &m->cols[i];
		if (c->attr < 0 || c->attr == s->key ||
		    role_may(role, (size_t)c->attr))
			continue;
		pim_buf_printf(&names, "%s'%s' (%s)", bad++ ? ", " : "",
			       c->column ? c->column : "?",
			       s->attrs[c->attr].code);
	}
	for (size_t i = 0; i < m->n_constants; i++) {
		const pim_constant *c = &m->constants[i];
		if (c->attr < 0 || c->attr == s->key ||
		    role_may(role, (size_t)c->attr))
			continue;
		pim_buf_printf(&names, "%sconstant %s", bad++ ? ", " : "",
			       s->attrs[c->attr].code);
	}
	if (bad)
		rc = pim_cat_error(cat, PIM_EDENIED,
				   "role %s may not edit what mapping %s "
				   "writes: %s; nothing imported",
				   role->name, m->name ? m->name : "",
				   names.data ? names.data : "");
	pim_buf_free(&names);
	return rc;
}

/* Without a mapping the file's header says what it writes. */
static int check_header_rights(imp *im, const pim_record *r)
{
	pim_catalog *cat = im->cat;
	const pim_schema *s = cat->schema;
	pim_buf names = PIM_BUF_INIT;
	size_t bad = 0;

	for (size_t i = 0; i < cat->n_slots; i++) {
		char name[128];
		if (!r->given[i] || i == cat->key_slot ||
		    role_may(im->role, cat->slots[i].attr))
			continue;
		pim_slot_column(name, sizeof name, s, &cat->slots[i]);
		pim_buf_printf(&names, "%s%s", bad++ ? ", " : "", name);
	}
	if (bad)
		im->rc = pim_cat_error(cat, PIM_EDENIED,
				       "%s: role %s may not edit the columns "
				       "%s; nothing imported",
				       r->file, im->role->name,
				       names.data ? names.data : "");
	pim_buf_free(&names);
	return bad ? 1 : 0;
}

static int setup_writer(imp *im, const pim_record *r)
{
	pim_catalog *cat = im->cat;

	pim_cat_writer_free(im->w);
	im->w = NULL;
	if (im->role && !im->o->validate.mapping && check_header_rights(im, r))
		return im->rc;
	/* replace clears unmapped values, but only those the role owns */
	for (size_t i = 0; i < cat->n_slots; i++)
		im->write[i] = im->o->mode == PIM_MODE_REPLACE
				       ? r->given[i] ||
						 role_may(im->role,
							  cat->slots[i].attr)
				       : r->given[i];
	/* the rules may write more than the file gives */
	if (im->rules) {
		const unsigned char *t = pim_rules_targets(im->o->rules);
		for (size_t i = 0; i < cat->n_slots; i++)
			im->write[i] |= t[i];
	}
	im->cur_file = r->file_index;
	im->writer_ready = 1;
	return pim_cat_writer_new(&im->w, cat, im->write);
}

static int on_record(const pim_record *r, void *ctx)
{
	imp *im = ctx;
	pim_catalog *cat = im->cat;
	const pim_schema *s = cat->schema;
	const char *key;
	pim_cat_row row;
	const uint64_t *hash;
	uint64_t keyh, srch;
	uint32_t owner32;
	int found, changed = 0;
	char msg[300], owner[256];

	im->rows_seen++;
	if (im->o->progress && (im->rows_seen & 4095) == 0)
		im->o->progress(im->rows_seen, r->bytes_done, r->bytes_total,
				im->o->progress_ctx);
	if (!im->writer_ready || r->file_index != im->cur_file) {
		if ((im->rc = setup_writer(im, r)))
			return 1;
		im->write_h = pim_hash64(im->write, r->n_slots, 0x77726974);
		if ((im->rc = hset_reserve(&im->keys,
					   im->keys.n + r->records_hint)) ||
		    (im->rc = hset_reserve(&im->uniq,
					   im->uniq.n + r->records_hint *
							im->n_unique)))
			return 1;
	}
	if (r->errors)
		return reject(im, r);
	key = r->value[cat->key_slot];
	if (!key)
		return reject(im, r);

	/* the values' hashes: the relay's reading thread made them, and
	 * made the next record's too, whose slots in the sets start loading
	 * now, a record ahead of their lookup */
	if (!(hash = r->hash)) {
		for (size_t i = 0; i < r->n_slots; i++)
			im->hash[i] = r->value[i]
					      ? pim_record_hash(r->value[i], i)
					      : 0;
		hash = im->hash;
	} else if (r->next_hash) {
		hset_prefetch(&im->keys, r->next_hash[cat->key_slot]);
		for (size_t i = 0; im->n_unique && i < cat->n_slots; i++)
			if (im->unique[i] && r->next_hash[i])
				hset_prefetch(&im->uniq, r->next_hash[i]);
	}
	keyh = hash[cat->key_slot];
	owner32 = (uint32_t)(keyh >> 32) | 1;
	hset_prefetch(&im->keys, keyh); /* in case no record came before */

	/* the record's fingerprint, with what this file writes and how: the
	 * same record twice writes nothing */
	{
		uint64_t seed = 0x737263ULL ^ ((uint64_t)im->o->mode << 8) ^
				(uint64_t)im->o->empty_clear;
		uint64_t in[2];
		if (im->rules)
			seed ^= pim_rules_hash(im->o->rules);
		in[0] = r->has_fp ? r->fp
				  : pim_record_fingerprint(r, &im->fpbuf);
		in[1] = im->write_h;
		srch = pim_hash64(in, sizeof in, seed);
	}

	/* a key twice in this import: the first one counts */
	if (hset_get(&im->keys, keyh)) {
		snprintf(msg, sizeof msg,
			 "duplicate key: %s appears earlier in this import",
			 key);
		own_diag(im, r, s->attrs[s->key].code, "duplicate-key", msg, key);
		return reject(im, r);
	}

	/* an empty catalog holds only what this import created, and the
	 * key set above already refused a key twice */
	if (!im->catalog_empty) {
		/* the cheap question first: did this very record write it? */
		unsigned long long stored;
		int has = pim_cat_lookup_src(im->w, key, &stored);
		if (has < 0) {
			im->rc = has;
			return 1;
		}
		if (has && stored == srch) {
			im->st->unchanged++;
			goto accepted;
		}
	}
	found = im->catalog_empty ? 0 : pim_cat_lookup(im->w, key, &row);
	if (found < 0) {
		im->rc = found;
		return 1;
	}

	/* the new values of the written slots */
	for (size_t i = 0; i < cat->n_slots; i++) {
		const char *old = found ? row.value[i] : NULL;
		if (!im->write[i]) {
			im->newv[i] = old;
			continue;
		}
		if (r->value[i])
			im->newv[i] = r->value[i];
		else if (!r->given[i]) /* replace mode, or a rule's target */
			im->newv[i] = im->o->mode == PIM_MODE_REPLACE ? NULL : old;
		else
			im->newv[i] = im->o->empty_clear ? NULL : old;
		if (!pim_str_same(old, im->newv[i]))
			changed = 1;
	}

	/* the rules see the product as it would be, and change it */
	if (im->rules) {
		pim_rules_product rp = { key, NULL, 0, r->file, r->line };
		const char *const *res;
		int rchanged, rc;
		rc = pim_rules_apply(im->rules, &res, &rchanged, im->newv, &rp,
				     &im->rules_skipped, &im->rules_invalid);
		if (rc) {
			im->rc = pim_cat_error(cat, rc, "%s", pim_strerror(rc));
			return 1;
		}
		changed = 0;
		for (size_t i = 0; i < cat->n_slots; i++) {
			im->newv[i] = res[i];
			if (im->write[i] &&
			    !pim_str_same(found ? row.value[i] : NULL, res[i]))
				changed = 1;
		}
	}

	/* unique values: not twice in this import, not on another product */
	for (size_t i = 0; i < cat->n_slots; i++) {
		const pim_attr *a = &s->attrs[cat->slots[i].attr];
		const char *v = im->newv[i];
		uint64_t vh;
		uint32_t prev;
		if (!a->unique || i == cat->key_slot || !v ||
		    (found && pim_str_same(row.value[i], v)))
			continue;
		vh = v == r->value[i] ? hash[i] : pim_record_hash(v, i);
		prev = hset_get(&im->uniq, vh);
		if (prev && prev != owner32) {
			snprintf(msg, sizeof msg,
				 "duplicate %s: another product in this import "
				 "has the same value",
				 a->code);
			own_diag(im, r, a->code, "unique", msg, v);
			return reject(im, r);
		}
		if (!im->catalog_empty) {
			int rc = pim_cat_value_owner(im->w, i, v,
						     found ? row.id : -1, owner,
						     sizeof owner);
			if (rc < 0) {
				im->rc = rc;
				return 1;
			}
			if (rc == 1) {
				snprintf(msg, sizeof msg,
					 "duplicate %s: %s already has this "
					 "value",
					 a->code, owner);
				own_diag(im, r, a->code, "unique", msg, v);
				return reject(im, r);
			}
		}
	}

	if (!found) {
		long long id;
		/* a new product needs its required attributes */
		for (size_t i = 0; i < cat->n_slots; i++) {
			const pim_attr *a = &s->attrs[cat->slots[i].attr];
			char col[128];
			if (!a->required || im->newv[i] || i == cat->key_slot)
				continue;
			/* localized: one locale is enough */
			if (cat->slots[i].locale) {
				int any = 0;
				for (size_t j = 0; j < cat->n_slots; j++)
					if (cat->slots[j].attr == cat->slots[i].attr &&
					    im->newv[j])
						any = 1;
				if (any)
					continue;
			}
			pim_slot_column(col, sizeof col, s, &cat->slots[i]);
			snprintf(msg, sizeof msg,
				 "%s is new and needs a value for the required "
				 "attribute %s",
				 key, col);
			own_diag(im, r, a->code, "required", msg, NULL);
			return reject(im, r);
		}
		int rc = pim_cat_insert(im->w, &id, key, im->newv, im->batch,
					srch, im->now);
		if (rc) {
			im->rc = rc;
			return 1;
		}
		im->st->created++;
		if (im->o->on_change) {
			char col[128];
			for (size_t i = 0; i < cat->n_slots; i++) {
				if (!im->newv[i] || i == cat->key_slot)
					continue;
				pim_slot_column(col, sizeof col, s,
						&cat->slots[i]);
				if (im->o->on_change(key, col, NULL, im->newv[i],
						     im->o->change_ctx)) {
					im->stopped = 1;
					return 1;
				}
			}
		}
		goto accepted;
	}
	if (!changed) {
		/* the values are the record's already: with its fingerprint
		 * stored, the next import of it is the cheap kind (after an
		 * edit or enrich cleared it, or a mapping change) */
		if (!im->o->dry_run && (!row.has_src || row.src != srch)) {
			int rc = pim_cat_set_src(im->w, row.id, srch);
			if (rc) {
				im->rc = rc;
				return 1;
			}
		}
		im->st->unchanged++;
		goto accepted;
	}
	/* history first: the lookup's old values are still valid */
	pim_buf_clear(&im->source);
	pim_buf_printf(&im->source, "%s:%lu", r->file, r->line);
	for (size_t i = 0; i < cat->n_slots; i++) {
		char col[128];
		int rc;
		if (!im->write[i] || pim_str_same(row.value[i], im->newv[i]))
			continue;
		pim_slot_column(col, sizeof col, s, &cat->slots[i]);
		rc = pim_cat_history(cat, im->batch, row.id, col,
				     row.value[i], im->newv[i],
				     im->rules && pim_rules_writer(im->rules, i)
					     ? pim_rules_writer(im->rules, i)
					     : im->source.data);
		if (rc) {
			im->rc = rc;
			return 1;
		}
		im->st->changes++;
		if (im->o->on_change &&
		    im->o->on_change(key, col, row.value[i], im->newv[i],
				     im->o->change_ctx)) {
			im->stopped = 1;
			return 1;
		}
	}
	{
		int rc = pim_cat_update(im->w, row.id, im->newv, im->batch, srch,
					1, im->now);
		if (rc) {
			im->rc = rc;
			return 1;
		}
	}
	im->st->updated++;
accepted:
	if ((im->rc = hset_put(&im->keys, keyh, 1)))
		return 1;
	for (size_t i = 0; i < cat->n_slots; i++) {
		const pim_attr *a = &s->attrs[cat->slots[i].attr];
		const char *v = r->value[i];
		if (!a->unique || i == cat->key_slot || !v)
			continue;
		if ((im->rc = hset_put(&im->uniq, hash[i], owner32)))
			return 1;
	}
	return 0;
}

static int files_json(pim_buf *b, const char *const *paths, size_t n)
{
	pim_buf_addc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			pim_buf_addc(b, ',');
		pim_buf_add_json_string(b, paths[i], strlen(paths[i]));
	}
	return pim_buf_addc(b, ']');
}

/* 1 when the catalog has no product, archived ones included (they count
 * for uniqueness too) */
static int no_products(pim_catalog *cat)
{
	sqlite3_stmt *q = NULL;
	int none = 0;

	if (sqlite3_prepare_v2(cat->db, "SELECT NOT EXISTS(SELECT 1 FROM product)",
			       -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		none = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return none;
}

int pim_import(pim_import_stats *st, pim_catalog *cat,
	       const char *const *paths, size_t n,
	       const pim_import_options *o, pim_diag_fn diag, void *ctx)
{
	imp im;
	pim_buf files = PIM_BUF_INIT, counts = PIM_BUF_INIT;
	long long count;
	char err[512];
	int rc, vrc;

	memset(st, 0, sizeof *st);
	if (!o || o->version != PIM_IMPORT_OPTIONS_VERSION)
		return pim_cat_error(cat, PIM_EINVALID, "bad import options");
	if (cat->readonly)
		return pim_cat_error(cat, PIM_EIO, "%s: opened read-only",
				     cat->path);
	memset(&im, 0, sizeof im);
	im.cat = cat;
	im.o = o;
	im.st = st;
	im.diag = diag;
	im.dctx = ctx;
	im.with_file = n > 1;
	if (cat->role && !(im.role = pim_schema_role(cat->schema, cat->role))) {
		rc = pim_cat_error(cat, PIM_ENOTFOUND,
				   "unknown role '%s' (see pim schema show)",
				   cat->role);
		goto out;
	}
	if (im.role && o->validate.mapping &&
	    (rc = check_mapping_rights(cat, im.role, o->validate.mapping)))
		goto out;
	if (o->rules) {
		if (pim_rules_catalog(o->rules) != cat) {
			rc = pim_cat_error(cat, PIM_EINVALID,
					   "the rules were checked against "
					   "another catalog");
			goto out;
		}
		if ((rc = pim_rules_check_rights(cat, o->rules)))
			goto out;
		if (pim_rules_run_new(&im.rules, o->rules)) {
			rc = pim_cat_error(cat, PIM_ENOMEM, "out of memory");
			goto out;
		}
		/* a refused result is a warning: the row loads without it */
		pim_rules_run_diag(im.rules, imp_diag, &im, PIM_SEV_WARNING);
	}
	im.uniq.with_owner = 1;
	pim_cat_now(im.now, sizeof im.now);
	im.write = pim_calloc(cat->n_slots + 1, 1);
	im.newv = pim_calloc(cat->n_slots + 1, sizeof *im.newv);
	im.hash = pim_calloc(cat->n_slots + 1, sizeof *im.hash);
	im.unique = pim_calloc(cat->n_slots + 1, 1);
	if (!im.write || !im.newv || !im.hash || !im.unique) {
		rc = pim_cat_error(cat, PIM_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < cat->n_slots; i++)
		if (cat->schema->attrs[cat->slots[i].attr].unique &&
		    i != cat->key_slot) {
			im.unique[i] = 1;
			im.n_unique++;
		}
	if (o->reject_path &&
	    (rc = pim_reject_open(&im.rj, o->reject_path, err, sizeof err))) {
		rc = pim_cat_error(cat, rc, "%s", err);
		goto out;
	}
	/* a load into an empty catalog: its pages written once
	 * (pim_cat_journal) */
	if (!o->dry_run && no_products(cat))
		im.journal = pim_cat_journal(cat, 1);
	if ((rc = pim_cat_begin(cat)))
		goto out;
	if ((rc = pim_catalog_product_count(cat, &count)))
		goto out;
	/* in the transaction: what counts (another import may have loaded
	 * products since the look above) */
	im.catalog_empty = no_products(cat);
	if (files_json(&files, paths, n)) {
		rc = pim_cat_error(cat, PIM_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = pim_cat_batch_begin(cat, &im.batch, "import", files.data)))
		goto out;
	/* into an empty catalog: build the secondary indexes once, at the
	 * end, rather than row by row */
	if (im.catalog_empty && (rc = pim_cat_secondary_indexes(cat, 0)))
		goto out;

	/* the raw fields only for a reject file */
	vrc = pim_pipeline_relay(&st->validate, cat->schema, paths, n,
				 &o->validate, im.rj != NULL, imp_diag, &im,
				 on_record, &im);
	st->validate.errors += im.own_errors;
	st->rows = st->validate.rows;
	if (im.rc) {
		rc = im.rc;
		goto out;
	}
	if (im.stopped || st->validate.stopped) {
		rc = pim_cat_error(cat, PIM_EDATA,
				   "import stopped early%s; nothing imported",
				   st->validate.stopped ? " (--max-errors)" : "");
		goto out;
	}
	if (vrc == PIM_ENOMEM || vrc == PIM_EINVALID || vrc == PIM_ELIMIT) {
		rc = pim_cat_error(cat, vrc, "%s", pim_strerror(vrc));
		goto out;
	}
	if (vrc == PIM_EIO) {
		rc = pim_cat_error(cat, PIM_EIO, "an input file cannot be read; "
						 "nothing imported");
		goto out;
	}
	if (im.rj && (rc = pim_reject_close(im.rj))) {
		im.rj = NULL;
		rc = pim_cat_error(cat, rc, "%s: writing the reject file failed",
				   o->reject_path);
		goto out;
	}
	im.rj = NULL;
	if ((st->validate.errors || st->rejected) && o->abort_on_error) {
		if (!st->rejected) /* a file refused as a whole */
			rc = pim_cat_error(cat, PIM_EDATA,
					   "%lu error%s in the files; --on-error "
					   "abort: nothing imported",
					   st->validate.errors,
					   st->validate.errors == 1 ? "" : "s");
		else
			rc = pim_cat_error(cat, PIM_EDATA,
					   "%lu row%s rejected; --on-error abort: "
					   "nothing imported",
					   st->rejected,
					   st->rejected == 1 ? "" : "s");
		goto out;
	}
	if (im.catalog_empty) {
		pim_cat_writer_free(im.w);
		im.w = NULL;
		if ((rc = pim_cat_secondary_indexes(cat, 1)))
			goto out;
	}
	pim_buf_printf(&counts,
		       "{\"rows\":%lu,\"created\":%lu,\"updated\":%lu,"
		       "\"unchanged\":%lu,\"rejected\":%lu,\"changes\":%lu}",
		       st->rows, st->created, st->updated, st->unchanged,
		       st->rejected, st->changes);
	if (!counts.data) {
		rc = pim_cat_error(cat, PIM_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = pim_cat_batch_end(cat, im.batch, counts.data)))
		goto out;
	if (o->dry_run) {
		pim_cat_rollback(cat);
		st->batch = 0;
	} else {
		/* statements must be done before the commit */
		pim_cat_writer_free(im.w);
		im.w = NULL;
		if ((rc = pim_cat_commit(cat)))
			goto out;
		st->batch = im.batch;
	}
	rc = (st->validate.errors || st->rejected) ? PIM_EDATA : 0;
	if (rc)
		pim_cat_error(cat, rc, "%lu row%s rejected", st->rejected,
			      st->rejected == 1 ? "" : "s");
out:
	if (rc && rc != PIM_EDATA)
		st->batch = 0;
	if (rc && (rc != PIM_EDATA || o->abort_on_error || im.stopped ||
		   st->validate.stopped))
		pim_cat_rollback(cat);
	pim_cat_writer_free(im.w);
	if (im.journal)
		pim_cat_journal(cat, 0);
	if (im.rj)
		pim_reject_close(im.rj);
	pim_rules_run_free(im.rules);
	hset_free(&im.keys);
	hset_free(&im.uniq);
	pim_free(im.write);
	pim_free(im.newv);
	pim_free(im.hash);
	pim_buf_free(&im.fpbuf);
	pim_free(im.unique);
	pim_buf_free(&im.src);
	pim_buf_free(&im.errs);
	pim_buf_free(&im.source);
	pim_buf_free(&files);
	pim_buf_free(&counts);
	return rc;
}
