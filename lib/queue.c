/*
 * queue.c - a bounded queue of byte blocks between two threads; see
 * queue.h.
 */
#include "queue.h"

#include <string.h>

#include "buf.h"

void pim_queue_init(pim_queue *q, size_t block_size, int max_blocks)
{
	memset(q, 0, sizeof *q);
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	q->block_size = block_size;
	q->max_blocks = max_blocks;
}

static void free_list(pim_qblock *b)
{
	while (b) {
		pim_qblock *next = b->next;
		pim_free(b->data);
		pim_free(b);
		b = next;
	}
}

void pim_queue_destroy(pim_queue *q)
{
	free_list(q->head);
	free_list(q->spare);
	free_list(q->cur);
	q->head = q->tail = q->spare = q->cur = NULL;
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
}

/* A block of at least `need` bytes: a spare one, a new one while there
 * are fewer than max_blocks (or the item is bigger than a block), else
 * one the consumer gives back. */
static pim_qblock *get_block(pim_queue *q, size_t need)
{
	pim_qblock *b = NULL;
	size_t cap = need > q->block_size ? need : q->block_size;

	pthread_mutex_lock(&q->mu);
	while (!q->stop && need <= q->block_size && !q->spare &&
	       q->nblocks >= q->max_blocks)
		pthread_cond_wait(&q->cv, &q->mu);
	if (q->stop) {
		pthread_mutex_unlock(&q->mu);
		return NULL;
	}
	if (need <= q->block_size && q->spare) {
		b = q->spare;
		q->spare = b->next;
	}
	pthread_mutex_unlock(&q->mu);
	if (b) {
		b->len = 0;
		b->next = NULL;
		return b;
	}
	/* the producer writes its block's length for every item while the
	 * consumer reads another block: each on a cache line of its own */
	b = pim_calloc_lines(1, sizeof *b);
	if (b && !(b->data = pim_malloc(cap))) {
		pim_free(b);
		b = NULL;
	}
	if (!b)
		return NULL;
	b->cap = cap;
	pthread_mutex_lock(&q->mu);
	q->nblocks++;
	pthread_mutex_unlock(&q->mu);
	return b;
}

static void push_block(pim_queue *q, pim_qblock *b)
{
	pthread_mutex_lock(&q->mu);
	b->next = NULL;
	if (q->tail)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void *pim_queue_reserve(pim_queue *q, size_t size)
{
	void *p;

	if (q->cur && q->cur->len + size > q->cur->cap) {
		push_block(q, q->cur);
		q->cur = NULL;
	}
	if (!q->cur && !(q->cur = get_block(q, size)))
		return NULL;
	p = q->cur->data + q->cur->len;
	q->cur->len += size;
	return p;
}

void pim_queue_finish(pim_queue *q)
{
	pim_qblock *cur = q->cur;

	q->cur = NULL;
	if (cur && cur->len)
		push_block(q, cur);
	pthread_mutex_lock(&q->mu);
	if (cur && !cur->len) {
		cur->next = q->spare;
		q->spare = cur;
	}
	q->done = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

pim_qblock *pim_queue_next(pim_queue *q)
{
	pim_qblock *b;

	pthread_mutex_lock(&q->mu);
	while (!q->head && !q->done)
		pthread_cond_wait(&q->cv, &q->mu);
	b = q->head;
	if (b) {
		q->head = b->next;
		if (!q->head)
			q->tail = NULL;
	}
	pthread_mutex_unlock(&q->mu);
	return b;
}

void pim_queue_release(pim_queue *q, pim_qblock *b)
{
	pthread_mutex_lock(&q->mu);
	if (b->cap == q->block_size) {
		b->next = q->spare;
		q->spare = b;
	} else {
		/* an outsized block is not kept */
		pim_free(b->data);
		pim_free(b);
		q->nblocks--;
	}
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void pim_queue_stop(pim_queue *q)
{
	pthread_mutex_lock(&q->mu);
	__atomic_store_n(&q->stop, 1, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}
