/*
 * uniq.c - duplicate detection in bounded memory (see uniq.h). Two values
 * are taken as equal when their slot and 64-bit hash are equal; with a
 * million values the chance of a false match is about 3e-8.
 */
#include "uniq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pim.h"

#define UNIQ_BUF 65536u
#define UNIQ_PARTS 64u

typedef struct entry {
	uint64_t h;
	uint32_t line;
	uint32_t field;
	uint16_t file;
	uint16_t slot;
	uint32_t pad;
} entry;

struct pim_uniq {
	entry *buf;
	size_t n;
	FILE *part[UNIQ_PARTS];
	int spilled;
};

uint64_t pim_hash64(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	/* final avalanche so that the top bits pick partitions evenly */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

int pim_uniq_new(pim_uniq **out)
{
	pim_uniq *u = pim_calloc(1, sizeof *u);
	*out = NULL;
	if (!u)
		return PIM_ENOMEM;
	u->buf = pim_malloc(UNIQ_BUF * sizeof *u->buf);
	if (!u->buf) {
		pim_free(u);
		return PIM_ENOMEM;
	}
	*out = u;
	return 0;
}

void pim_uniq_free(pim_uniq *u)
{
	if (!u)
		return;
	for (unsigned i = 0; i < UNIQ_PARTS; i++)
		if (u->part[i])
			fclose(u->part[i]);
	pim_free(u->buf);
	pim_free(u);
}

static int spill(pim_uniq *u)
{
	for (size_t i = 0; i < u->n; i++) {
		unsigned p = (unsigned)(u->buf[i].h >> 58);
		if (!u->part[p]) {
			u->part[p] = tmpfile();
			if (!u->part[p])
				return PIM_EIO;
		}
		if (fwrite(&u->buf[i], sizeof u->buf[i], 1, u->part[p]) != 1)
			return PIM_EIO;
	}
	u->n = 0;
	u->spilled = 1;
	return 0;
}

int pim_uniq_add(pim_uniq *u, uint16_t slot, const char *v, size_t len,
		 uint16_t file, uint32_t line, uint32_t field)
{
	entry *e;
	if (u->n == UNIQ_BUF) {
		int rc = spill(u);
		if (rc)
			return rc;
	}
	e = &u->buf[u->n++];
	e->h = pim_hash64(v, len, slot);
	e->slot = slot;
	e->file = file;
	e->line = line;
	e->field = field;
	e->pad = 0;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const entry *x = a, *y = b;
	if (x->slot != y->slot)
		return x->slot < y->slot ? -1 : 1;
	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->field < y->field ? -1 : x->field > y->field;
}

static int cmp_hit(const void *a, const void *b)
{
	const pim_uniq_hit *x = a, *y = b;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->field < y->field ? -1 : x->field > y->field;
}

/* Sorts entries and reports every repeat, in (file, line) order. */
static int scan(entry *v, size_t n, int (*fn)(const pim_uniq_hit *, void *),
		void *ctx)
{
	pim_uniq_hit *hits = NULL;
	size_t nh = 0, cap = 0;
	int rc = 0;

	qsort(v, n, sizeof *v, cmp_entry);
	for (size_t i = 1; i < n; i++) {
		size_t first = i - 1;
		if (v[i].slot != v[first].slot || v[i].h != v[first].h)
			continue;
		while (first > 0 && v[first - 1].slot == v[i].slot &&
		       v[first - 1].h == v[i].h)
			first--;
		if (nh == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			pim_uniq_hit *nv = pim_realloc(hits, ncap * sizeof *nv);
			if (!nv) {
				pim_free(hits);
				return PIM_ENOMEM;
			}
			hits = nv;
			cap = ncap;
		}
		hits[nh].line = v[i].line;
		hits[nh].file = v[i].file;
		hits[nh].field = v[i].field;
		hits[nh].slot = v[i].slot;
		hits[nh].first_line = v[first].line;
		hits[nh].first_file = v[first].file;
		nh++;
	}
	qsort(hits, nh, sizeof *hits, cmp_hit);
	for (size_t i = 0; i < nh && rc == 0; i++)
		if (fn(&hits[i], ctx))
			rc = 1;
	pim_free(hits);
	return rc;
}

int pim_uniq_finish(pim_uniq *u, int (*fn)(const pim_uniq_hit *h, void *ctx),
		    void *ctx)
{
	int rc;

	if (!u->spilled)
		return scan(u->buf, u->n, fn, ctx) < 0 ? PIM_ENOMEM : 0;
	if ((rc = spill(u)))
		return rc;
	for (unsigned p = 0; p < UNIQ_PARTS; p++) {
		long size;
		entry *v;
		size_t n;
		if (!u->part[p])
			continue;
		if (fflush(u->part[p]) || fseek(u->part[p], 0, SEEK_END))
			return PIM_EIO;
		size = ftell(u->part[p]);
		if (size < 0 || fseek(u->part[p], 0, SEEK_SET))
			return PIM_EIO;
		n = (size_t)size / sizeof(entry);
		v = pim_malloc(n * sizeof *v + 1);
		if (!v)
			return PIM_ENOMEM;
		if (fread(v, sizeof *v, n, u->part[p]) != n) {
			pim_free(v);
			return PIM_EIO;
		}
		rc = scan(v, n, fn, ctx);
		pim_free(v);
		if (rc < 0)
			return rc;
		if (rc > 0)
			break;
	}
	return 0;
}
