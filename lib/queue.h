/*
 * queue.h - a bounded queue of byte blocks from one producer thread to one
 * consumer thread (private). The producer reserves room for items in its
 * current block, which goes to the consumer when full or when the producer
 * finishes; the consumer takes blocks in order. At most `max_blocks` exist
 * at once, so memory does not grow with the work.
 */
#ifndef PIM_QUEUE_H
#define PIM_QUEUE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct pim_qblock {
	struct pim_qblock *next;
	size_t len, cap;
	char *data;
} pim_qblock;

typedef struct pim_queue {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pim_qblock *head, *tail; /* full blocks, oldest first */
	pim_qblock *spare;       /* empty blocks to reuse */
	pim_qblock *cur;         /* the producer's block being filled */
	size_t block_size;
	int max_blocks, nblocks;
	int done;                /* the producer has finished */
	int stop;                /* the consumer asked to stop */
} pim_queue;

/* Strings in items travel as their length (4 bytes, all ones for NULL)
 * and their bytes with the NUL, so the consumer takes them without
 * measuring them again. */
#define PIM_QSTR_NULL 0xffffffffu

static inline size_t pim_qstr_size(const char *s)
{
	return sizeof(uint32_t) + (s ? strlen(s) + 1 : 0);
}

static inline char *pim_qstr_put(char *p, const char *s)
{
	uint32_t n = s ? (uint32_t)strlen(s) : PIM_QSTR_NULL;
	memcpy(p, &n, sizeof n);
	p += sizeof n;
	if (!s)
		return p;
	memcpy(p, s, (size_t)n + 1);
	return p + n + 1;
}

static inline const char *pim_qstr_get(const char **pp)
{
	const char *p = *pp;
	uint32_t n;
	memcpy(&n, p, sizeof n);
	p += sizeof n;
	if (n == PIM_QSTR_NULL) {
		*pp = p;
		return NULL;
	}
	*pp = p + n + 1;
	return p;
}

void pim_queue_init(pim_queue *q, size_t block_size, int max_blocks);
/* Frees every block; both threads must be done with the queue. */
void pim_queue_destroy(pim_queue *q);

/* Producer: room for `size` bytes (8-byte aligned when size is a multiple
 * of 8), waiting while the consumer is behind; NULL when out of memory or
 * when the consumer has stopped (pim_queue_stopped tells which). */
void *pim_queue_reserve(pim_queue *q, size_t size);
/* Producer: whether the consumer has stopped (cheap: no lock). */
static inline int pim_queue_stopped(const pim_queue *q)
{
	return __atomic_load_n(&q->stop, __ATOMIC_RELAXED);
}
/* Producer: hands over the last block and marks the end. */
void pim_queue_finish(pim_queue *q);

/* Consumer: the next full block, NULL when the producer has finished and
 * every block was taken. */
pim_qblock *pim_queue_next(pim_queue *q);
/* Consumer: gives a block back once read. */
void pim_queue_release(pim_queue *q, pim_qblock *b);
/* Consumer: no more blocks wanted; the producer's next reserve fails. */
void pim_queue_stop(pim_queue *q);

#endif
