/*
 * relay.c - runs the reading and checking half of the pipeline in its own
 * thread and hands its diagnostics and records, in order, to the calling
 * thread, which keeps the catalog (SQLite) to itself. Items travel in a
 * bounded number of blocks, so memory does not grow with the file.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pipeline.h"
#include "queue.h"
#include "uniq.h"

#define BLOCK_SIZE (256u << 10)
#define MAX_BLOCKS 12

enum { IT_DIAG = 1, IT_HEADER, IT_RECORD };

typedef struct relay {
	pim_queue q;
	int oom;               /* the queue could not grow */
	size_t last_file;
	int header_sent;
	unsigned char *hashed; /* see hashed_slots */

	/* producer arguments and results */
	pim_validate_stats *st;
	const pim_schema *s;
	const char *const *paths;
	size_t n;
	const pim_validate_options *o;
	int raw;               /* the raw fields too */
	int rc;
} relay;

/* ---- producer side ------------------------------------------------------ */

/* Room for `size` bytes in the current block; NULL when out of memory or
 * when the consumer has stopped. */
static char *reserve(relay *q, size_t size)
{
	char *p = pim_queue_reserve(&q->q, size);
	if (!p && !pim_queue_stopped(&q->q))
		q->oom = 1;
	return p;
}

typedef struct diag_item {
	uint32_t type, size;
	unsigned long line, col;
	pim_severity sev;
	const char *file, *code, *attribute, *key; /* static or long-lived */
} diag_item;

static int prod_diag(const pim_diag *d, void *ctx)
{
	relay *q = ctx;
	size_t size = sizeof(diag_item) + pim_qstr_size(d->column) +
		      pim_qstr_size(d->message) + pim_qstr_size(d->value);
	diag_item *it;
	char *p;

	size = (size + 7) & ~(size_t)7;
	if (!(p = reserve(q, size)))
		return 1;
	it = (diag_item *)p;
	it->type = IT_DIAG;
	it->size = (uint32_t)size;
	it->line = d->line;
	it->col = d->col;
	it->sev = d->severity;
	it->file = d->file;
	it->code = d->code;
	it->attribute = d->attribute;
	it->key = d->key;
	p += sizeof *it;
	p = pim_qstr_put(p, d->column);
	p = pim_qstr_put(p, d->message);
	pim_qstr_put(p, d->value);
	return pim_queue_stopped(&q->q);
}

uint64_t pim_record_hash(const char *value, size_t slot)
{
	return pim_hash64(value, strlen(value), slot) | 1;
}

#define FP_SEED 0x66707269ULL

/* The given bytes, then the values: the form records travel in, and the
 * input of their fingerprint. */
static size_t values_size(const pim_record *r)
{
	size_t size = r->n_slots;
	for (size_t i = 0; i < r->n_slots; i++)
		size += pim_qstr_size(r->value[i]);
	return size;
}

static char *put_values(char *p, const pim_record *r)
{
	memcpy(p, r->given, r->n_slots);
	p += r->n_slots;
	for (size_t i = 0; i < r->n_slots; i++)
		p = pim_qstr_put(p, r->value[i]);
	return p;
}

uint64_t pim_record_fingerprint(const pim_record *r, pim_buf *tmp)
{
	size_t size = values_size(r);
	pim_buf_clear(tmp);
	if (pim_buf_reserve(tmp, size))
		return 0;
	put_values(tmp->data, r);
	return pim_hash64(tmp->data, size, FP_SEED);
}

typedef struct rec_item {
	uint32_t type, size;
	const char *file;
	size_t file_index;
	unsigned long line;
	int errors;
	pim_dialect dialect;
	unsigned long records_hint;
	unsigned long long bytes_done, bytes_total;
	size_t n_slots, n_fields;
} rec_item;

/* Per slot: 1 for the key and the unique attributes, whose values the
 * consumer looks up by hash. */
static unsigned char *hashed_slots(const pim_schema *s, const pim_record *r)
{
	unsigned char *h = pim_calloc(r->n_slots + 1, 1);
	if (!h)
		return NULL;
	for (size_t i = 0; i < r->n_slots; i++) {
		size_t a = r->slots[i].attr;
		h[i] = (long)a == s->key || s->attrs[a].unique;
	}
	return h;
}

typedef struct header_item {
	uint32_t type, size;
	size_t n;
	int has_header;
} header_item;

static int prod_record(const pim_record *r, void *ctx)
{
	relay *q = ctx;
	size_t size, nf;
	rec_item *it;
	char *p;

	if (!q->header_sent || r->file_index != q->last_file) {
		header_item *h;
		size = sizeof *h;
		for (size_t i = 0; i < r->n_header; i++)
			size += pim_qstr_size(r->header[i]);
		size = (size + 7) & ~(size_t)7;
		if (!(p = reserve(q, size)))
			return 1;
		h = (header_item *)p;
		h->type = IT_HEADER;
		h->size = (uint32_t)size;
		h->n = r->n_header;
		h->has_header = r->has_header;
		p += sizeof *h;
		for (size_t i = 0; i < r->n_header; i++)
			p = pim_qstr_put(p, r->header[i]);
		q->header_sent = 1;
		q->last_file = r->file_index;
	}
	/* the header, the hashes (8-byte aligned after it), given, values,
	 * and when asked for, the raw fields */
	nf = q->raw ? r->raw->n : 0;
	size = sizeof *it + r->n_slots * sizeof(uint64_t) + values_size(r);
	for (size_t i = 0; i < nf; i++)
		size += sizeof(size_t) + r->raw->len[i] + 1;
	size = (size + 7) & ~(size_t)7;
	if (!(p = reserve(q, size)))
		return 1;
	it = (rec_item *)p;
	it->type = IT_RECORD;
	it->size = (uint32_t)size;
	it->file = r->file;
	it->file_index = r->file_index;
	it->line = r->line;
	it->errors = r->errors;
	it->dialect = *r->dialect;
	it->records_hint = r->records_hint;
	it->bytes_done = r->bytes_done;
	it->bytes_total = r->bytes_total;
	it->n_slots = r->n_slots;
	it->n_fields = nf;
	p += sizeof *it;
	{
		/* the key and unique values hashed here, so that the
		 * consumer can prefetch a record ahead */
		uint64_t *h = (uint64_t *)(void *)p;
		if (!q->hashed && !(q->hashed = hashed_slots(q->s, r)))
			return 1;
		for (size_t i = 0; i < r->n_slots; i++)
			h[i] = q->hashed[i] && r->value[i]
				       ? pim_record_hash(r->value[i], i)
				       : 0;
		p += r->n_slots * sizeof(uint64_t);
		p = put_values(p, r);
	}
	for (size_t i = 0; i < nf; i++) {
		/* fields may hold NUL bytes: length first */
		memcpy(p, &r->raw->len[i], sizeof(size_t));
		p += sizeof(size_t);
		memcpy(p, r->raw->field[i], r->raw->len[i]);
		p[r->raw->len[i]] = '\0';
		p += r->raw->len[i] + 1;
	}
	return pim_queue_stopped(&q->q);
}

static void *producer(void *arg)
{
	relay *q = arg;

	q->rc = pim_pipeline_run(q->st, q->s, q->paths, q->n, q->o, prod_diag,
				 q, prod_record, q);
	if (q->oom && !q->rc)
		q->rc = PIM_ENOMEM;
	pim_queue_finish(&q->q);
	return NULL;
}

/* ---- consumer side ------------------------------------------------------ */

typedef struct scratch {
	const char **value;
	pim_csv_row raw;
	size_t cap_fields;
	char **header;
	size_t n_header;
	int has_header;
} scratch;

static int consume(const pim_qblock *b, scratch *sc, const pim_slot *slots,
		   pim_diag_fn diag, void *dctx, pim_record_fn rec, void *rctx)
{
	size_t off = 0;

	while (off < b->len) {
		const uint32_t *hdr = (const uint32_t *)(b->data + off);
		const char *p;

		if (hdr[0] == IT_DIAG) {
			const diag_item *it = (const diag_item *)hdr;
			pim_diag d;
			memset(&d, 0, sizeof d);
			d.line = it->line;
			d.col = it->col;
			d.severity = it->sev;
			d.file = it->file;
			d.code = it->code;
			d.attribute = it->attribute;
			d.key = it->key;
			p = (const char *)(it + 1);
			d.column = pim_qstr_get(&p);
			d.message = pim_qstr_get(&p);
			d.value = pim_qstr_get(&p);
			if (diag && diag(&d, dctx))
				return 1;
		} else if (hdr[0] == IT_HEADER) {
			const header_item *it = (const header_item *)hdr;
			for (size_t i = 0; i < sc->n_header; i++)
				pim_free(sc->header[i]);
			pim_free(sc->header);
			sc->n_header = 0;
			sc->header = pim_calloc(it->n + 1, sizeof *sc->header);
			if (!sc->header)
				return -1;
			p = (const char *)(it + 1);
			for (size_t i = 0; i < it->n; i++) {
				const char *h = pim_qstr_get(&p);
				if (!(sc->header[i] = pim_strdup(h ? h : "")))
					return -1;
				sc->n_header++;
			}
			sc->has_header = it->has_header;
		} else if (hdr[0] == IT_RECORD) {
			const rec_item *it = (const rec_item *)hdr;
			pim_record r;
			if (it->n_fields > sc->cap_fields) {
				size_t cap = it->n_fields + 16;
				char **f = pim_realloc(sc->raw.field, cap * sizeof *f);
				size_t *l;
				if (!f)
					return -1;
				sc->raw.field = f;
				l = pim_realloc(sc->raw.len, cap * sizeof *l);
				if (!l)
					return -1;
				sc->raw.len = l;
				sc->cap_fields = cap;
			}
			size_t next = off + hdr[1];
			p = (const char *)(it + 1);
			memset(&r, 0, sizeof r);
			r.hash = (const uint64_t *)(const void *)p;
			p += it->n_slots * sizeof(uint64_t);
			if (next < b->len &&
			    ((const uint32_t *)(b->data + next))[0] == IT_RECORD)
				r.next_hash = (const uint64_t *)(const void *)(
					b->data + next + sizeof *it);
			r.given = (const unsigned char *)p;
			p += it->n_slots;
			for (size_t i = 0; i < it->n_slots; i++)
				sc->value[i] = pim_qstr_get(&p);
			/* the fingerprint here: the reading thread has less
			 * time to spare when the catalog has little to do */
			r.has_fp = 1;
			r.fp = pim_hash64(r.given,
					  (size_t)(p - (const char *)r.given),
					  FP_SEED);
			for (size_t i = 0; i < it->n_fields; i++) {
				size_t len;
				memcpy(&len, p, sizeof len);
				p += sizeof len;
				sc->raw.field[i] = (char *)p;
				sc->raw.len[i] = len;
				p += len + 1;
			}
			sc->raw.n = it->n_fields;
			sc->raw.line = it->line;
			r.file = it->file;
			r.file_index = it->file_index;
			r.line = it->line;
			r.n_slots = it->n_slots;
			r.slots = slots;
			r.value = sc->value;
			r.errors = it->errors;
			r.raw = &sc->raw;
			r.header = (const char *const *)sc->header;
			r.n_header = sc->n_header;
			r.has_header = sc->has_header;
			r.dialect = &it->dialect;
			r.bytes_done = it->bytes_done;
			r.bytes_total = it->bytes_total;
			r.records_hint = it->records_hint;
			if (rec(&r, rctx))
				return 1;
		} else {
			return -1;
		}
		off += hdr[1];
	}
	return 0;
}

int pim_pipeline_relay(pim_validate_stats *st, const pim_schema *s,
		       const char *const *paths, size_t n,
		       const pim_validate_options *o, int raw,
		       pim_diag_fn diag, void *dctx, pim_record_fn rec,
		       void *rctx)
{
	relay q;
	scratch sc;
	pim_slot *slots = NULL;
	size_t n_slots = 0;
	pthread_t tid;
	int rc = 0, stopped = 0;

	memset(&q, 0, sizeof q);
	memset(&sc, 0, sizeof sc);
	if ((rc = pim_slots_build(&slots, &n_slots, s)))
		return rc;
	sc.value = pim_calloc(n_slots + 1, sizeof *sc.value);
	if (!sc.value) {
		pim_free(slots);
		return PIM_ENOMEM;
	}
	pim_queue_init(&q.q, BLOCK_SIZE, MAX_BLOCKS);
	q.st = st;
	q.s = s;
	q.paths = paths;
	q.n = n;
	q.o = o;
	q.raw = raw;
	/* PIM_THREADS=1, or no thread: do it all here */
	if ((getenv("PIM_THREADS") && !strcmp(getenv("PIM_THREADS"), "1")) ||
	    pthread_create(&tid, NULL, producer, &q) != 0) {
		pim_queue_destroy(&q.q);
		pim_free(sc.value);
		pim_free(slots);
		return pim_pipeline_run(st, s, paths, n, o, diag, dctx, rec,
					rctx);
	}
	for (;;) {
		pim_qblock *b = pim_queue_next(&q.q);
		int crc;
		if (!b)
			break; /* done and drained */
		crc = stopped ? 0 : consume(b, &sc, slots, diag, dctx, rec, rctx);
		if (crc) {
			if (!stopped)
				pim_queue_stop(&q.q);
			stopped = 1;
			if (crc < 0)
				rc = PIM_ENOMEM;
		}
		pim_queue_release(&q.q, b);
	}
	pthread_join(tid, NULL);
	pim_free(q.hashed);
	pim_queue_destroy(&q.q);
	for (size_t i = 0; i < sc.n_header; i++)
		pim_free(sc.header[i]);
	pim_free(sc.header);
	pim_free(sc.raw.field);
	pim_free(sc.raw.len);
	pim_free(sc.value);
	pim_free(slots);
	return rc ? rc : q.rc;
}
