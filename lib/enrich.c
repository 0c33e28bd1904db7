/*
 * enrich.c - pim_catalog_enrich: the rules applied to the catalog's
 * products in one transaction and one batch.
 *
 * Two halves: reading the products and applying the rules to them, and
 * writing what changed (the products and their history). When the rules
 * write no unique attribute, the reading half runs in a thread of its own
 * on a second, read-only connection: in WAL mode it reads the catalog as
 * it was when the write transaction began, which is what the rules must
 * see, and the writing half (the calling thread, with the catalog's own
 * connection) gets the changed products in order through a queue. The
 * rules' diagnostics travel the same way, so every callback runs in the
 * calling thread. On a large catalog with two processors or more, two
 * reading threads share it out by product id, each with its own
 * connection, rules run and queue; the writing half drains the first
 * queue, then the second, so the products are written, and the
 * diagnostics told, in the order one reader would give. With a unique
 * target the rules must ask the catalog as it is being written, and both
 * halves run in the calling thread.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "catalog.h"
#include "expr.h"
#include "queue.h"
#include "rules.h"

#define TXT(st, i) ((const char *)sqlite3_column_text((st), (i)))

#define QBLOCK (256u << 10)
#define QBLOCKS 8
#define READERS 2
/* the catalog size from which two threads read */
#define SPLIT_PRODUCTS 10000

/* A product the rules changed: what the writing half needs of it. */
typedef struct change {
	size_t slot;
	const char *old, *new_value;
	const char *src; /* the rule's name: lives as long as the rules */
} change;

typedef struct product {
	long long id;
	const char *key;
	unsigned long seen;   /* products read so far, for the progress */
	const char **value;   /* per written slot, in wslot order */
	change *changes;
	size_t n_changes;
} product;

struct enr;

/* A reading half: the products with lo <= _id <= hi. */
typedef struct reader {
	struct enr *e;
	sqlite3 *db;           /* the connection it reads with */
	pim_cond *where;
	pim_rules_run *run;
	long long lo, hi;
	unsigned long products, skipped, invalid;
	sqlite3_stmt **owner;  /* per slot: who else holds a value */
	long long id;          /* the product being read */
	const char **vals;     /* per slot: its values */
	product p;             /* the one being handed over */
	int rrc;               /* its result, when threaded */
	int write_failed;      /* write_product failed, its message set */
	int rsql;              /* its SQLite failure, and the message */
	char rmsg[256];
	pim_queue q;           /* to the writing half, when threaded */
	int oom;               /* the queue could not grow */
	pthread_t tid;
} reader;

typedef struct enr {
	pim_catalog *cat;
	const pim_rules *rules;
	const pim_enrich_options *o;
	pim_enrich_stats *st;
	pim_diag_fn diag;
	void *dctx;
	size_t *wslot, n_w;    /* the slots a rule may write */
	char **colname;        /* per slot: the column's name */

	/* the writing half */
	sqlite3_stmt *upd;
	long long batch;
	char now[32];
	unsigned long long total;
	unsigned long total_count; /* the products in the catalog */
	unsigned long next_progress;
	unsigned long written_seen; /* `seen` of the last product written */
	unsigned long seen_base; /* products read by the readers drained */
	unsigned long drop_at; /* products changed: drop product_updated */
	int upd_dropped;       /* ... it was dropped, to build at the end */

	/* the reading halves: one, or READERS when threaded and large */
	reader rd[READERS];
	size_t n_rd;
	int threaded;
	product wp;            /* the writing half's copy of a product */
} enr;

/* ---- the writing half ------------------------------------------------- */

/* Records the changes of one product and writes it. */
static int write_product(enr *e, const product *p)
{
	pim_catalog *cat = e->cat;
	const pim_enrich_options *o = e->o;
	unsigned long seen;
	int rc;

	e->st->changed++;
	seen = e->seen_base + p->seen;
	e->written_seen = seen;
	for (size_t i = 0; i < p->n_changes; i++) {
		const change *c = &p->changes[i];
		const char *col = e->colname[c->slot];
		e->st->changes++;
		if ((rc = pim_cat_history(cat, e->batch, p->id, col,
					  c->old, c->new_value, c->src)))
			return rc;
		if (o->on_change && o->on_change(p->key, col, c->old,
						 c->new_value, o->change_ctx))
			return pim_cat_error(cat, PIM_EDATA,
					     "enrich stopped early; nothing "
					     "changed");
	}
	sqlite3_bind_int64(e->upd, 1, e->batch);
	sqlite3_bind_text(e->upd, 2, e->now, -1, SQLITE_STATIC);
	sqlite3_bind_int64(e->upd, 3, p->id);
	for (size_t i = 0; i < e->n_w; i++)
		sqlite3_bind_text(e->upd, (int)i + 4, p->value[i], -1,
				  SQLITE_STATIC);
	rc = sqlite3_step(e->upd);
	sqlite3_reset(e->upd);
	if (rc != SQLITE_DONE)
		return pim_cat_sqlerr(cat, rc, "writing products");
	/* every product written moves its entry in product_updated; once a
	 * fifth of the catalog has changed, building the index again at the
	 * end costs less than keeping it up (about 0.3 against 1.4 µs per
	 * product) */
	if (e->st->changed == e->drop_at) {
		if ((rc = pim_cat_updated_index(cat, 0)))
			return rc;
		e->upd_dropped = 1;
	}
	if (o->progress && seen >= e->next_progress) {
		o->progress(seen, (unsigned long long)seen, e->total,
			    o->progress_ctx);
		e->next_progress = seen + 4096;
	}
	return 0;
}

/* ---- between the halves ----------------------------------------------- */

enum { IT_PRODUCT = 1, IT_DIAG };

typedef struct item {
	uint32_t type, size;
} item;

typedef struct prod_item {
	item h;
	long long id;
	unsigned long seen;
	size_t n_changes;
	/* then the key, the written values, and per change its slot, the
	 * rule's name, old and new */
} prod_item;

typedef struct diag_item {
	item h;
	unsigned long line, col;
	pim_severity severity;
	const char *code; /* static */
	/* then file, column, attribute, message, value, key */
} diag_item;

static void *reserve(reader *r, size_t size)
{
	void *p = pim_queue_reserve(&r->q, (size + 7) & ~(size_t)7);
	if (!p && !pim_queue_stopped(&r->q))
		r->oom = 1;
	return p;
}

static int send_product(reader *r, const product *p)
{
	const enr *e = r->e;
	size_t size = sizeof(prod_item) + pim_qstr_size(p->key);
	prod_item *it;
	char *s;

	for (size_t i = 0; i < e->n_w; i++)
		size += pim_qstr_size(p->value[i]);
	for (size_t i = 0; i < p->n_changes; i++)
		size += sizeof(uint32_t) + sizeof(const char *) +
			pim_qstr_size(p->changes[i].old) +
			pim_qstr_size(p->changes[i].new_value);
	if (!(it = reserve(r, size)))
		return 1;
	it->h.type = IT_PRODUCT;
	it->h.size = (uint32_t)((size + 7) & ~(size_t)7);
	it->id = p->id;
	it->seen = p->seen;
	it->n_changes = p->n_changes;
	s = pim_qstr_put((char *)(it + 1), p->key);
	for (size_t i = 0; i < e->n_w; i++)
		s = pim_qstr_put(s, p->value[i]);
	for (size_t i = 0; i < p->n_changes; i++) {
		uint32_t slot = (uint32_t)p->changes[i].slot;
		memcpy(s, &slot, sizeof slot);
		s += sizeof slot;
		memcpy(s, &p->changes[i].src, sizeof(const char *));
		s += sizeof(const char *);
		s = pim_qstr_put(s, p->changes[i].old);
		s = pim_qstr_put(s, p->changes[i].new_value);
	}
	return 0;
}

/* The rules' diagnostics, from the reading thread. */
static int send_diag(const pim_diag *d, void *ctx)
{
	reader *r = ctx;
	size_t size = sizeof(diag_item) + pim_qstr_size(d->file) +
		      pim_qstr_size(d->column) + pim_qstr_size(d->attribute) +
		      pim_qstr_size(d->message) + pim_qstr_size(d->value) +
		      pim_qstr_size(d->key);
	diag_item *it;
	char *s;

	if (!(it = reserve(r, size)))
		return 1;
	it->h.type = IT_DIAG;
	it->h.size = (uint32_t)((size + 7) & ~(size_t)7);
	it->line = d->line;
	it->col = d->col;
	it->severity = d->severity;
	it->code = d->code;
	s = pim_qstr_put((char *)(it + 1), d->file);
	s = pim_qstr_put(s, d->column);
	s = pim_qstr_put(s, d->attribute);
	s = pim_qstr_put(s, d->message);
	s = pim_qstr_put(s, d->value);
	pim_qstr_put(s, d->key);
	return 0;
}

/* The writing half's side: every item of a block, in order. */
static int take_block(enr *e, const pim_qblock *b)
{
	size_t off = 0;
	int rc;

	while (off < b->len) {
		const item *h = (const item *)(const void *)(b->data + off);
		const char *s;
		if (h->type == IT_PRODUCT) {
			const prod_item *it = (const prod_item *)h;
			product p;
			p.id = it->id;
			p.seen = it->seen;
			p.n_changes = it->n_changes;
			p.value = e->wp.value;
			p.changes = e->wp.changes;
			s = (const char *)(it + 1);
			p.key = pim_qstr_get(&s);
			for (size_t i = 0; i < e->n_w; i++)
				p.value[i] = pim_qstr_get(&s);
			for (size_t i = 0; i < p.n_changes; i++) {
				uint32_t slot;
				memcpy(&slot, s, sizeof slot);
				s += sizeof slot;
				p.changes[i].slot = slot;
				memcpy(&p.changes[i].src, s,
				       sizeof(const char *));
				s += sizeof(const char *);
				p.changes[i].old = pim_qstr_get(&s);
				p.changes[i].new_value = pim_qstr_get(&s);
			}
			if ((rc = write_product(e, &p)))
				return rc;
		} else {
			const diag_item *it = (const diag_item *)h;
			pim_diag d;
			memset(&d, 0, sizeof d);
			d.line = it->line;
			d.col = it->col;
			d.severity = it->severity;
			d.code = it->code;
			s = (const char *)(it + 1);
			d.file = pim_qstr_get(&s);
			d.column = pim_qstr_get(&s);
			d.attribute = pim_qstr_get(&s);
			d.message = pim_qstr_get(&s);
			d.value = pim_qstr_get(&s);
			d.key = pim_qstr_get(&s);
			if (e->diag)
				e->diag(&d, e->dctx);
		}
		off += h->size;
	}
	return 0;
}

/* ---- the reading half ------------------------------------------------- */

static int enrich_unique(void *ctx, size_t slot, const char *value, char *sku,
			 size_t len)
{
	reader *r = ctx;
	return pim_cat_owner_of(r->e->cat, r->owner, slot, value, r->id, sku,
				len);
}

/* Reads its products (not archived) in rowid order, applies the rules
 * and hands over the changed ones. 0, or a PIM_E* code; an SQLite
 * failure leaves its code in r->rsql and its message in r->rmsg. */
static int read_all(reader *r)
{
	enr *e = r->e;
	pim_catalog *cat = e->cat;
	pim_buf sql = PIM_BUF_INIT;
	sqlite3_stmt *sel = NULL;
	int rc;

	pim_buf_printf(&sql, "SELECT _id, %s, _family, _updated_batch",
		       cat->col[cat->key_slot]);
	for (size_t i = 0; i < cat->n_slots; i++)
		pim_buf_printf(&sql, ", %s", cat->col[i]);
	pim_buf_adds(&sql, " FROM product WHERE _archived = 0 AND _id BETWEEN "
			   "?1 AND ?2 ORDER BY _id");
	if (!sql.data)
		return PIM_ENOMEM;
	rc = sqlite3_prepare_v2(r->db, sql.data, -1, &sel, NULL);
	pim_buf_free(&sql);
	if (rc != SQLITE_OK)
		goto sqlfail;
	sqlite3_bind_int64(sel, 1, r->lo);
	sqlite3_bind_int64(sel, 2, r->hi);
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		pim_rules_product rp;
		const char *const *res;
		int changed;
		product *p = &r->p;

		r->id = sqlite3_column_int64(sel, 0);
		memset(&rp, 0, sizeof rp);
		rp.key = TXT(sel, 1);
		rp.family = TXT(sel, 2);
		rp.updated_batch = sqlite3_column_int64(sel, 3);
		for (size_t i = 0; i < cat->n_slots; i++) {
			const char *v = TXT(sel, (int)i + 4);
			r->vals[i] = v && *v ? v : NULL;
		}
		if (r->where) {
			pim_cond_values cv;
			cv.value = r->vals;
			cv.family = rp.family;
			cv.updated_batch = rp.updated_batch;
			if (!pim_cond_eval(r->where, &cv))
				continue;
		}
		r->products++;
		rc = pim_rules_apply(r->run, &res, &changed, r->vals, &rp,
				     &r->skipped, &r->invalid);
		if (rc) {
			sqlite3_finalize(sel);
			return rc;
		}
		if (!changed)
			continue;
		p->id = r->id;
		p->key = rp.key;
		p->seen = r->products;
		for (size_t i = 0; i < e->n_w; i++)
			p->value[i] = res[e->wslot[i]];
		p->n_changes = 0;
		for (size_t i = 0; i < cat->n_slots; i++) {
			const char *src = pim_rules_writer(r->run, i);
			change *c = &p->changes[p->n_changes];
			if (!src || pim_str_same(r->vals[i], res[i]))
				continue;
			c->slot = i;
			c->old = r->vals[i];
			c->new_value = res[i];
			c->src = src;
			p->n_changes++;
		}
		rc = e->threaded ? send_product(r, p) : write_product(e, p);
		if (rc) {
			sqlite3_finalize(sel);
			if (!e->threaded) {
				r->write_failed = 1;
				return rc;
			}
			/* the writing half stopped (its failure is the one
			 * to report), or the queue could not grow */
			return r->oom ? PIM_ENOMEM : 0;
		}
	}
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(sel);
		return 0;
	}
sqlfail:
	r->rsql = rc;
	snprintf(r->rmsg, sizeof r->rmsg, "%s", sqlite3_errmsg(r->db));
	sqlite3_finalize(sel);
	return PIM_EDB;
}

static void *reader_main(void *arg)
{
	reader *r = arg;
	r->rrc = read_all(r);
	pim_queue_finish(&r->q);
	return NULL;
}

/* Whether the halves may be split: no unique target, a catalog in a file,
 * and PIM_THREADS not 1. */
static int may_split(pim_catalog *cat, const pim_rules *rules)
{
	const unsigned char *target = pim_rules_targets(rules);
	const char *env = getenv("PIM_THREADS");

	if (env && atoi(env) == 1)
		return 0;
	for (size_t i = 0; i < cat->n_slots; i++)
		if (target[i] && cat->schema->attrs[cat->slots[i].attr].unique)
			return 0;
	return cat->path && *cat->path && strcmp(cat->path, ":memory:");
}

/* A second connection that reads the catalog as committed, or NULL. */
static sqlite3 *open_reader(pim_catalog *cat)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(cat->path, &db,
			    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 10000);
	return db;
}

/* How many threads read: two on a large catalog with two processors or
 * more (PIM_THREADS=2 keeps one), else one. */
static size_t readers_for(unsigned long products)
{
	const char *env = getenv("PIM_THREADS");
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (env && atoi(env) == 2)
		return 1;
	return products >= SPLIT_PRODUCTS && cpus >= 2 ? READERS : 1;
}

/* The reading half's failure as the catalog's error. */
static int reader_error(reader *r, int rc)
{
	pim_catalog *cat = r->e->cat;
	int prim = r->rsql & 0xff;

	if (r->write_failed)
		return rc; /* its message is set */
	if (rc != PIM_EDB || !r->rsql)
		return pim_cat_error(cat, rc, "%s",
				     rc == PIM_ENOMEM ? "out of memory"
				     : cat->errmsg[0] ? pim_errmsg(cat)
						      : pim_strerror(rc));
	if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED ||
	    prim == SQLITE_NOMEM || prim == SQLITE_FULL)
		return pim_cat_sqlerr(cat, r->rsql, "reading products");
	return pim_cat_error(cat, prim == SQLITE_IOERR ? PIM_EIO : PIM_EDB,
			     "%s: reading products: %s", cat->path, r->rmsg);
}

/* One reader for every product, in the calling thread, on the catalog's
 * own connection (where the rules can ask who holds a unique value), and
 * the reading connections closed. Nothing is written yet. */
static void read_here(enr *e)
{
	reader *r = &e->rd[0];

	for (size_t i = 0; i < READERS; i++) {
		sqlite3_close(e->rd[i].db);
		e->rd[i].db = NULL;
	}
	e->threaded = 0;
	e->n_rd = 1;
	e->drop_at = 0; /* a DROP INDEX fails while the reading runs */
	r->lo = INT64_MIN;
	r->hi = INT64_MAX;
	r->products = r->skipped = r->invalid = 0;
	r->rrc = r->oom = 0;
	r->db = e->cat->db;
	pim_rules_run_diag(r->run, e->diag, e->dctx, PIM_SEV_ERROR);
	pim_rules_run_unique(r->run, enrich_unique, r);
}

/* Runs the halves: the readers in threads of their own, each through its
 * queue, drained in turn; or both halves here when there is no second
 * connection or thread. */
static int run_halves(enr *e)
{
	size_t n = 0;
	int rc = 0;

	for (; e->threaded && n < e->n_rd; n++) {
		reader *r = &e->rd[n];
		pim_queue_init(&r->q, QBLOCK, QBLOCKS);
		if (pthread_create(&r->tid, NULL, reader_main, r) != 0) {
			pim_queue_destroy(&r->q);
			break;
		}
	}
	if (e->threaded && n < e->n_rd) {
		/* a thread did not start: stop those that did (nothing is
		 * written yet) and read here */
		for (size_t k = 0; k < n; k++) {
			pim_queue_stop(&e->rd[k].q);
			pthread_join(e->rd[k].tid, NULL);
			pim_queue_destroy(&e->rd[k].q);
		}
		read_here(e);
	}
	if (!e->threaded) {
		rc = read_all(&e->rd[0]);
		return rc ? reader_error(&e->rd[0], rc) : 0;
	}
	for (size_t i = 0; i < e->n_rd; i++) {
		reader *r = &e->rd[i];
		for (;;) {
			pim_qblock *b = pim_queue_next(&r->q);
			if (!b)
				break;
			if (!rc && (rc = take_block(e, b)))
				for (size_t k = i; k < e->n_rd; k++)
					pim_queue_stop(&e->rd[k].q);
			pim_queue_release(&r->q, b);
		}
		pthread_join(r->tid, NULL);
		pim_queue_destroy(&r->q);
		if (!rc && r->rrc)
			rc = reader_error(r, r->rrc);
		if (rc)
			for (size_t k = i + 1; k < e->n_rd; k++)
				pim_queue_stop(&e->rd[k].q);
		e->seen_base += r->products;
	}
	return rc;
}

/* ---- the whole -------------------------------------------------------- */

static void reader_free(reader *r, pim_catalog *cat)
{
	for (size_t i = 0; r->owner && i < cat->n_slots; i++)
		sqlite3_finalize(r->owner[i]);
	pim_free(r->owner);
	pim_free(r->vals);
	pim_free(r->p.value);
	pim_free(r->p.changes);
	pim_rules_run_free(r->run);
	pim_cond_free(r->where);
	if (r->db && r->db != cat->db)
		sqlite3_close(r->db);
}

static void enr_free(enr *e)
{
	sqlite3_finalize(e->upd);
	for (size_t i = 0; e->colname && i < e->cat->n_slots; i++)
		pim_free(e->colname[i]);
	pim_free(e->colname);
	pim_free(e->wslot);
	pim_free(e->wp.value);
	pim_free(e->wp.changes);
	for (size_t i = 0; i < READERS; i++)
		reader_free(&e->rd[i], e->cat);
}

/* A reader's own memory, rules run and condition. 0, or the error set. */
static int reader_init(reader *r, enr *e)
{
	pim_catalog *cat = e->cat;
	int rc;

	if (e->o->where) {
		pim_where_error err;
		rc = pim_cond_parse(&r->where, cat, e->o->where, NULL, &err);
		if (rc == PIM_EPARSE)
			return pim_cat_error(cat, rc, "--where: column %lu: %s",
					     err.col, err.message);
		if (rc)
			return pim_cat_error(cat, rc, "out of memory");
	}
	r->owner = pim_calloc(cat->n_slots + 1, sizeof *r->owner);
	r->vals = pim_calloc(cat->n_slots + 1, sizeof *r->vals);
	r->p.value = pim_calloc(cat->n_slots + 1, sizeof *r->p.value);
	r->p.changes = pim_calloc(cat->n_slots + 1, sizeof *r->p.changes);
	if (!r->owner || !r->vals || !r->p.value || !r->p.changes ||
	    pim_rules_run_new(&r->run, e->rules))
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	r->lo = INT64_MIN;
	r->hi = INT64_MAX;
	return 0;
}

/* The readers: their connections, and with two, where the first one's
 * products end (the middle of the ids); or one reader on the catalog's
 * own connection when the halves are not split. */
static int setup_readers(enr *e)
{
	pim_catalog *cat = e->cat;

	e->n_rd = 1;
	if (may_split(cat, e->rules)) {
		e->n_rd = readers_for(e->total_count);
		e->threaded = 1;
		for (size_t i = 0; i < e->n_rd; i++)
			if (!(e->rd[i].db = open_reader(cat)))
				e->threaded = 0;
	}
	if (e->threaded && e->n_rd > 1) {
		sqlite3_stmt *st = NULL;
		int rc = sqlite3_prepare_v2(cat->db,
					    "SELECT (SELECT min(_id) FROM "
					    "product), (SELECT max(_id) FROM "
					    "product)",
					    -1, &st, NULL);
		if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			long long lo = sqlite3_column_int64(st, 0);
			long long hi = sqlite3_column_int64(st, 1);
			e->rd[0].hi = lo + (hi - lo) / 2;
			e->rd[1].lo = e->rd[0].hi + 1;
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW)
			return pim_cat_sqlerr(cat, rc, "reading products");
	}
	if (e->threaded) {
		for (size_t i = 0; i < e->n_rd; i++)
			pim_rules_run_diag(e->rd[i].run, send_diag, &e->rd[i],
					   PIM_SEV_ERROR);
		return 0;
	}
	read_here(e);
	return 0;
}

static int prepare_update(enr *e)
{
	pim_catalog *cat = e->cat;
	pim_buf sql = PIM_BUF_INIT;
	int rc, k = 4;

	/* the update writes every slot a rule may write */
	pim_buf_adds(&sql, "UPDATE product SET _updated_batch = ?1, "
			   "_updated_at = ?2, _src = NULL");
	for (size_t i = 0; i < e->n_w; i++)
		pim_buf_printf(&sql, ", %s = ?%d", cat->col[e->wslot[i]], k++);
	pim_buf_adds(&sql, " WHERE _id = ?3");
	if (!sql.data)
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	rc = sqlite3_prepare_v2(cat->db, sql.data, -1, &e->upd, NULL);
	pim_buf_free(&sql);
	return rc == SQLITE_OK ? 0 : pim_cat_sqlerr(cat, rc, "writing products");
}

int pim_catalog_enrich(pim_enrich_stats *st, pim_catalog *cat,
		       const pim_rules *rules, const pim_enrich_options *o,
		       pim_diag_fn diag, void *ctx)
{
	const unsigned char *target;
	pim_buf counts = PIM_BUF_INIT;
	enr e;
	int rc, began = 0, hist_dropped = 0;

	memset(st, 0, sizeof *st);
	memset(&e, 0, sizeof e);
	e.cat = cat;
	if (!o || o->version != PIM_ENRICH_OPTIONS_VERSION)
		return pim_cat_error(cat, PIM_EINVALID, "bad enrich options");
	if (!rules || pim_rules_catalog(rules) != cat)
		return pim_cat_error(cat, PIM_EINVALID,
				     "the rules were checked against another "
				     "catalog");
	if (cat->readonly)
		return pim_cat_error(cat, PIM_EIO, "%s: opened read-only",
				     cat->path);
	if ((rc = pim_rules_check_rights(cat, rules)))
		return rc;
	e.rules = rules;
	e.o = o;
	e.st = st;
	e.diag = diag;
	e.dctx = ctx;
	for (size_t i = 0; i < READERS; i++) {
		e.rd[i].e = &e;
		if ((rc = reader_init(&e.rd[i], &e))) {
			enr_free(&e);
			return rc;
		}
	}
	target = pim_rules_targets(rules);
	e.colname = pim_calloc(cat->n_slots + 1, sizeof *e.colname);
	e.wslot = pim_calloc(cat->n_slots + 1, sizeof *e.wslot);
	e.wp.value = pim_calloc(cat->n_slots + 1, sizeof *e.wp.value);
	e.wp.changes = pim_calloc(cat->n_slots + 1, sizeof *e.wp.changes);
	if (!e.colname || !e.wslot || !e.wp.value || !e.wp.changes) {
		rc = pim_cat_error(cat, PIM_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < cat->n_slots; i++) {
		char col[128];
		pim_slot_column(col, sizeof col, cat->schema, &cat->slots[i]);
		if (!(e.colname[i] = pim_strdup(col))) {
			rc = pim_cat_error(cat, PIM_ENOMEM, "out of memory");
			goto out;
		}
		if (target[i])
			e.wslot[e.n_w++] = i;
	}

	if ((rc = pim_cat_begin(cat)))
		goto out;
	began = 1;
	pim_cat_now(e.now, sizeof e.now);
	if ((rc = pim_cat_batch_begin(cat, &e.batch, "enrich", NULL)))
		goto out;
	{
		long long count = 0;
		if ((rc = pim_catalog_product_count(cat, &count)) ||
		    (rc = pim_cat_history_bulk_begin(cat, count, &hist_dropped)))
			goto out;
		e.total = o->progress ? (unsigned long long)count : 0;
		e.total_count = (unsigned long)count;
	}
	if ((rc = prepare_update(&e)))
		goto out;
	/* the reading connections start their snapshots after BEGIN
	 * IMMEDIATE: no other writer can come between */
	if ((rc = setup_readers(&e)))
		goto out;
	/* only when threaded: a DROP INDEX fails while the reading
	 * statement runs on the same connection */
	if (e.threaded && e.total_count >= 10000)
		e.drop_at = e.total_count / 5;
	rc = run_halves(&e);
	/* a stop counts what was read up to the last product written, not
	 * what the reading threads had read ahead */
	{
		unsigned long products = 0;
		for (size_t i = 0; i < e.n_rd; i++) {
			products += e.rd[i].products;
			st->skipped += e.rd[i].skipped;
			st->invalid += e.rd[i].invalid;
		}
		st->products = rc && e.threaded ? e.written_seen : products;
	}
	st->unchanged = st->products - st->changed;
	if (rc)
		goto out;
	sqlite3_finalize(e.upd);
	e.upd = NULL;
	for (size_t i = 0; i < cat->n_slots; i++) {
		sqlite3_finalize(e.rd[0].owner[i]);
		e.rd[0].owner[i] = NULL;
	}
	if (!st->changed || o->dry_run) {
		/* nothing to keep: no batch */
		pim_cat_rollback(cat);
		began = 0;
	} else {
		pim_buf_printf(&counts,
			       "{\"products\":%lu,\"updated\":%lu,\"unchanged\":"
			       "%lu,\"changes\":%lu,\"skipped\":%lu,\"invalid\":"
			       "%lu}",
			       st->products, st->changed, st->unchanged,
			       st->changes, st->skipped, st->invalid);
		if (!counts.data) {
			rc = pim_cat_error(cat, PIM_ENOMEM, "out of memory");
			goto out;
		}
		if ((e.upd_dropped && (rc = pim_cat_updated_index(cat, 1))) ||
		    (rc = pim_cat_history_bulk_end(cat, hist_dropped)) ||
		    (rc = pim_cat_batch_end(cat, e.batch, counts.data)))
			goto out;
		if ((rc = pim_cat_commit(cat)))
			goto out;
		began = 0;
		st->batch = e.batch;
	}
	rc = st->invalid ? PIM_EDATA : 0;
	if (rc)
		pim_cat_error(cat, rc, "%lu rule application%s refused: the "
				       "result was invalid",
			      st->invalid, st->invalid == 1 ? "" : "s");
out:
	enr_free(&e);
	if (began)
		pim_cat_rollback(cat);
	pim_buf_free(&counts);
	return rc;
}
