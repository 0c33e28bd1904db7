/*
 * buf.c - growable buffer, allocation wrappers and string helpers.
 * Every allocation of the library goes through pim_malloc & co. so that the
 * allocation-failure test mode (PIM_FAIL_ALLOC=N) can fail the Nth one.
 */
#include "buf.h"
#include "pim.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define BUF_DEFAULT_MAX ((size_t)1 << 30)

static long fail_countdown = -2; /* -2: not read yet, -1: off */

static int alloc_should_fail(void)
{
	if (fail_countdown == -2) {
		const char *e = getenv("PIM_FAIL_ALLOC");
		fail_countdown = (e && *e) ? strtol(e, NULL, 10) : -1;
		if (fail_countdown <= 0)
			fail_countdown = -1;
	}
	if (fail_countdown < 0)
		return 0;
	if (--fail_countdown == 0) {
		fail_countdown = -1; /* fail once, as curl's torture mode does */
		return 1;
	}
	return 0;
}

void *pim_malloc(size_t n)
{
	if (alloc_should_fail())
		return NULL;
	return malloc(n ? n : 1);
}

void *pim_calloc(size_t n, size_t size)
{
	if (alloc_should_fail())
		return NULL;
	return calloc(n ? n : 1, size ? size : 1);
}

void *pim_calloc_lines(size_t n, size_t size)
{
	size_t bytes;
	void *p;

	if (alloc_should_fail() || pim_size_mul(&bytes, n ? n : 1,
						size ? size : 1) ||
	    pim_size_add(&bytes, bytes, 63))
		return NULL;
	bytes &= ~(size_t)63;
	if (posix_memalign(&p, 64, bytes))
		return NULL;
	memset(p, 0, bytes);
	return p;
}

void *pim_calloc_huge(size_t n, size_t size)
{
	const size_t huge = (size_t)2 << 20;
	size_t bytes;
	void *p;

	if (pim_size_mul(&bytes, n ? n : 1, size ? size : 1))
		return NULL;
	if (bytes < 2 * huge)
		return pim_calloc(n, size);
	if (alloc_should_fail() || pim_size_add(&bytes, bytes, huge - 1))
		return NULL;
	bytes &= ~(huge - 1);
	if (posix_memalign(&p, huge, bytes))
		return NULL;
	/* a hint only: where the kernel has no huge pages, small ones do */
	(void)madvise(p, bytes, MADV_HUGEPAGE);
	memset(p, 0, bytes);
	return p;
}

void *pim_realloc(void *p, size_t n)
{
	if (alloc_should_fail())
		return NULL;
	return realloc(p, n ? n : 1);
}

void pim_free(void *p)
{
	free(p);
}

char *pim_strndup(const char *s, size_t n)
{
	char *d = pim_malloc(n + 1);
	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *pim_strdup(const char *s)
{
	return s ? pim_strndup(s, strlen(s)) : NULL;
}

int pim_size_add(size_t *out, size_t a, size_t b)
{
	if (a > SIZE_MAX - b)
		return -1;
	*out = a + b;
	return 0;
}

int pim_size_mul(size_t *out, size_t a, size_t b)
{
	if (a && b > SIZE_MAX / a)
		return -1;
	*out = a * b;
	return 0;
}

void pim_buf_init(pim_buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void pim_buf_free(pim_buf *b)
{
	pim_free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int pim_buf_reserve(pim_buf *b, size_t extra)
{
	size_t need, cap, max = b->max ? b->max : BUF_DEFAULT_MAX;
	char *p;

	if (pim_size_add(&need, b->len, extra) || pim_size_add(&need, need, 1))
		return PIM_ELIMIT;
	if (need <= b->cap)
		return 0;
	if (need > max + 1)
		return PIM_ELIMIT;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > max + 1)
		cap = max + 1;
	p = pim_realloc(b->data, cap);
	if (!p)
		return PIM_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int pim_buf_add_grow(pim_buf *b, const void *data, size_t len)
{
	int rc = pim_buf_reserve(b, len);
	if (rc)
		return rc;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int pim_buf_vprintf(pim_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n, rc;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return PIM_EINVALID;
	if ((rc = pim_buf_reserve(b, (size_t)n)))
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int pim_buf_printf(pim_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = pim_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

int pim_buf_add_json_string(pim_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, start = 0;
	int rc;

	if ((rc = pim_buf_addc(b, '"')))
		return rc;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if ((rc = pim_buf_add(b, s + start, i - start)))
			return rc;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		if ((rc = pim_buf_add(b, esc, elen)))
			return rc;
		start = i + 1;
	}
	if ((rc = pim_buf_add(b, s + start, len - start)))
		return rc;
	return pim_buf_addc(b, '"');
}

char *pim_buf_detach(pim_buf *b)
{
	char *d = b->data;
	if (!d)
		d = pim_strdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}

int pim_strcaseeq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y + 32);
		if (x != y)
			return 0;
	}
	return *a == *b;
}

size_t pim_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned long cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return i;
		}
		if (len - i - 1 < n)
			return i; /* the sequence is cut short */
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return i;
		i += n + 1;
	}
	return len;
}

size_t pim_utf8_count(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

unsigned pim_levenshtein(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[64];

	if (la >= 64 || lb >= 64)
		return 1000;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned prev = row[0];
		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned cur = row[j];
			unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
			unsigned v = prev + cost;
			if (row[j] + 1 < v)
				v = row[j] + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			row[j] = v;
			prev = cur;
		}
	}
	return row[lb];
}
