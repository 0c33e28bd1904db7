/*
 * uniq.h - finds duplicate values over files of any size in bounded
 * memory: 64-bit hashes are buffered, spilled to hash-partitioned temporary
 * files when the buffer fills, and each partition is sorted on its own.
 */
#ifndef PIM_UNIQ_H
#define PIM_UNIQ_H

#include <stddef.h>
#include <stdint.h>

typedef struct pim_uniq pim_uniq;

typedef struct pim_uniq_hit {
	uint32_t line, first_line;
	uint16_t file, first_file;
	uint16_t slot;
	uint32_t field;
} pim_uniq_hit;

int pim_uniq_new(pim_uniq **out);
void pim_uniq_free(pim_uniq *u);
/* Records a value of `slot` seen at file/line/field. */
int pim_uniq_add(pim_uniq *u, uint16_t slot, const char *v, size_t len,
		 uint16_t file, uint32_t line, uint32_t field);
/* Moves every value of src into dst (src is left for freeing). */
int pim_uniq_merge(pim_uniq *dst, pim_uniq *src);

/* Calls fn for every value that was seen before (in (file, line) order
 * within a partition); fn returns non-zero to stop. */
int pim_uniq_finish(pim_uniq *u, int (*fn)(const pim_uniq_hit *h, void *ctx),
		    void *ctx);

uint64_t pim_hash64(const void *data, size_t len, uint64_t seed);

#endif
