/*
 * buf.h - the one growable byte buffer of libpim, with a size cap and
 * overflow-checked growth, plus small string helpers used everywhere.
 * Private to the library.
 */
#ifndef PIM_BUF_H
#define PIM_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

typedef struct pim_buf {
	char *data;  /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t max;  /* growth beyond this fails with PIM_ELIMIT; 0 = 1 GiB */
} pim_buf;

#define PIM_BUF_INIT { NULL, 0, 0, 0 }

void pim_buf_init(pim_buf *b, size_t max);
void pim_buf_free(pim_buf *b);
int pim_buf_reserve(pim_buf *b, size_t extra);
/* The growing side of pim_buf_add. */
int pim_buf_add_grow(pim_buf *b, const void *data, size_t len);

/* The small helpers are inline: they run for every value of every row. */
static inline void pim_buf_clear(pim_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static inline int pim_buf_add(pim_buf *b, const void *data, size_t len)
{
	/* room for len bytes and the NUL (cap is 0 before the first add) */
	if (len < b->cap - b->len) {
		if (len)
			memcpy(b->data + b->len, data, len);
		b->len += len;
		b->data[b->len] = '\0';
		return 0;
	}
	return pim_buf_add_grow(b, data, len);
}

static inline int pim_buf_adds(pim_buf *b, const char *s)
{
	return pim_buf_add(b, s, strlen(s));
}

static inline int pim_buf_addc(pim_buf *b, char c)
{
	return pim_buf_add(b, &c, 1);
}

/* Two values the same: both NULL (no value), or equal strings. */
static inline int pim_str_same(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}
int pim_buf_printf(pim_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int pim_buf_vprintf(pim_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Appends s as a JSON string literal, quotes included. */
int pim_buf_add_json_string(pim_buf *b, const char *s, size_t len);
/* Takes the data out of the buffer (caller frees); the buffer is reset. */
char *pim_buf_detach(pim_buf *b);

/* Allocation wrappers: the single place where a test can make them fail. */
void *pim_malloc(size_t n);
void *pim_calloc(size_t n, size_t size);
void *pim_realloc(void *p, size_t n);
/* Zeroed memory on cache lines of its own (aligned to 64 bytes and padded
 * to a multiple of 64), for what one thread writes while another reads
 * its neighbours; freed with pim_free. */
void *pim_calloc_lines(size_t n, size_t size);
/* Zeroed memory for a big table read at random (a hash table): on huge
 * pages where the kernel offers them, so that lookups do not also miss
 * the TLB; freed with pim_free. */
void *pim_calloc_huge(size_t n, size_t size);
void pim_free(void *p);
char *pim_strdup(const char *s);
char *pim_strndup(const char *s, size_t n);

/* Checked size arithmetic: 0 on success, -1 on overflow. */
int pim_size_add(size_t *out, size_t a, size_t b);
int pim_size_mul(size_t *out, size_t a, size_t b);

/* Strings. */
int pim_strcaseeq(const char *a, const char *b);
size_t pim_utf8_valid(const char *s, size_t len); /* len if valid, else offset
							of the first bad byte */
size_t pim_utf8_count(const char *s, size_t len); /* characters */
unsigned pim_levenshtein(const char *a, const char *b);

#endif
