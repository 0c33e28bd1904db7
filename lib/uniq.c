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
	uint64_t h = seed ^ (0x9E3779B97F4A7C15ULL * (len + 1));

	/* eight bytes a step, each mixed by a multiply and a shift */
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
		p += 8;
		len -= 8;
	}
	if (len) {
		uint64_t w = 0;
		memcpy(&w, p, len);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
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
	size_t count[UNIQ_PARTS] = { 0 }, start[UNIQ_PARTS];
	entry *tmp = pim_malloc(u->n * sizeof *tmp + 1);

	if (!tmp)
		return PIM_ENOMEM;
	/* group by partition (a counting sort keeps line order), then one
	 * write per partition */
	for (size_t i = 0; i < u->n; i++)
		count[u->buf[i].h >> 58]++;
	for (unsigned p = 0, at = 0; p < UNIQ_PARTS; p++) {
		start[p] = at;
		at += (unsigned)count[p];
	}
	for (size_t i = 0; i < u->n; i++)
		tmp[start[u->buf[i].h >> 58]++] = u->buf[i];
	for (unsigned p = 0, at = 0; p < UNIQ_PARTS; p++) {
		if (!count[p])
			continue;
		if (!u->part[p] && !(u->part[p] = tmpfile())) {
			pim_free(tmp);
			return PIM_EIO;
		}
		if (fwrite(tmp + at, sizeof *tmp, count[p], u->part[p]) != count[p]) {
			pim_free(tmp);
			return PIM_EIO;
		}
		at += (unsigned)count[p];
	}
	pim_free(tmp);
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

static int cmp_hit(const void *a, const void *b)
{
	const pim_uniq_hit *x = a, *y = b;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->field < y->field ? -1 : x->field > y->field;
}

typedef struct hits {
	pim_uniq_hit *v;
	size_t n, cap;
} hits_t;

/* Whether entry x comes before y in the files. */
static int entry_before(const entry *x, const entry *y)
{
	if (x->file != y->file)
		return x->file < y->file;
	if (x->line != y->line)
		return x->line < y->line;
	return x->field < y->field;
}

/* The table slot of entry i's value: where it is, or the empty one where
 * it goes. */
static size_t find_slot(const uint32_t *tab, size_t size, const entry *v,
			size_t i)
{
	uint64_t key = v[i].h ^ ((uint64_t)v[i].slot << 48);
	size_t j = (size_t)(key ^ (key >> 29)) & (size - 1);

	for (; tab[j] != UINT32_MAX; j = (j + 1) & (size - 1)) {
		const entry *f = &v[tab[j]];
		if (f->h == v[i].h && f->slot == v[i].slot)
			break;
	}
	return j;
}

/* Finds every repeat with a hash table over the entries: the first pass
 * keeps, per value, the entry that comes first in the files (the entries
 * may come in any order: threads read pieces of a file side by side); the
 * second reports every other one. Sorted by the caller. */
static int scan(entry *v, size_t n, hits_t *hs)
{
	uint32_t *tab;
	size_t size = 16;

	while (size < 2 * n)
		size *= 2;
	tab = pim_malloc(size * sizeof *tab);
	if (!tab)
		return PIM_ENOMEM;
	memset(tab, 0xff, size * sizeof *tab);
	for (size_t i = 0; i < n; i++) {
		size_t j = find_slot(tab, size, v, i);
		if (tab[j] == UINT32_MAX || entry_before(&v[i], &v[tab[j]]))
			tab[j] = (uint32_t)i;
	}
	for (size_t i = 0; i < n; i++) {
		size_t j = find_slot(tab, size, v, i);
		if (tab[j] == (uint32_t)i)
			continue;
		if (hs->n == hs->cap) {
			size_t ncap = hs->cap ? hs->cap * 2 : 64;
			pim_uniq_hit *nv = pim_realloc(hs->v, ncap * sizeof *nv);
			if (!nv) {
				pim_free(tab);
				return PIM_ENOMEM;
			}
			hs->v = nv;
			hs->cap = ncap;
		}
		hs->v[hs->n].line = v[i].line;
		hs->v[hs->n].file = v[i].file;
		hs->v[hs->n].field = v[i].field;
		hs->v[hs->n].slot = v[i].slot;
		hs->v[hs->n].first_line = v[tab[j]].line;
		hs->v[hs->n].first_file = v[tab[j]].file;
		hs->n++;
	}
	pim_free(tab);
	return 0;
}

int pim_uniq_finish(pim_uniq *u, int (*fn)(const pim_uniq_hit *h, void *ctx),
		    void *ctx)
{
	hits_t hs = { NULL, 0, 0 };
	int rc = 0;

	if (!u->spilled) {
		rc = scan(u->buf, u->n, &hs);
	} else if ((rc = spill(u)) == 0) {
		for (unsigned p = 0; p < UNIQ_PARTS && rc == 0; p++) {
			long size;
			entry *v;
			size_t n;
			if (!u->part[p])
				continue;
			if (fflush(u->part[p]) || fseek(u->part[p], 0, SEEK_END) ||
			    (size = ftell(u->part[p])) < 0 ||
			    fseek(u->part[p], 0, SEEK_SET)) {
				rc = PIM_EIO;
				break;
			}
			n = (size_t)size / sizeof(entry);
			v = pim_malloc(n * sizeof *v + 1);
			if (!v) {
				rc = PIM_ENOMEM;
				break;
			}
			if (fread(v, sizeof *v, n, u->part[p]) != n)
				rc = PIM_EIO;
			else
				rc = scan(v, n, &hs);
			pim_free(v);
		}
	}
	if (rc == 0) {
		/* one order for all partitions: by file and line */
		if (hs.n)
			qsort(hs.v, hs.n, sizeof *hs.v, cmp_hit);
		for (size_t i = 0; i < hs.n; i++)
			if (fn(&hs.v[i], ctx))
				break;
	}
	pim_free(hs.v);
	return rc;
}

static int add_entry(pim_uniq *u, const entry *e)
{
	if (u->n == UNIQ_BUF) {
		int rc = spill(u);
		if (rc)
			return rc;
	}
	u->buf[u->n++] = *e;
	return 0;
}

int pim_uniq_merge(pim_uniq *dst, pim_uniq *src)
{
	entry chunk[1024];
	int rc;

	for (size_t i = 0; i < src->n; i++)
		if ((rc = add_entry(dst, &src->buf[i])))
			return rc;
	for (unsigned p = 0; p < UNIQ_PARTS; p++) {
		size_t got;
		if (!src->part[p])
			continue;
		if (fflush(src->part[p]) || fseek(src->part[p], 0, SEEK_SET))
			return PIM_EIO;
		while ((got = fread(chunk, sizeof chunk[0], 1024, src->part[p])) > 0)
			for (size_t i = 0; i < got; i++)
				if ((rc = add_entry(dst, &chunk[i])))
					return rc;
		if (ferror(src->part[p]))
			return PIM_EIO;
	}
	return 0;
}
