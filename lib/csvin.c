/*
 * csvin.c - CSV reader: a detection pass over the whole file, then libcsv
 * fed one physical line at a time so that every row knows the line of its
 * first byte. Memory is bounded by the chunk size, the longest row and the
 * field size limit, never by the number of rows.
 */
#include "csvin.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"

#define CHUNK (1u << 20)

struct pim_csv {
	unsigned pieces_wanted; /* set before detection; 0: no pieces */
	int fd;
	int own_fd;         /* close fd when done */
	const char *name;
	pim_dialect d;
	unsigned long long size, done;
	unsigned long long pos, end; /* the byte range this reader reads */
	/* record boundaries that cut the file into pieces for several
	 * readers (none when it cannot be cut) */
	unsigned long long cut_off[PIM_CSV_PIECES_MAX];
	unsigned long cut_line[PIM_CSV_PIECES_MAX];
	unsigned n_cuts;
	unsigned long long file_end; /* the end of the last piece */
	unsigned long records;        /* counted by the detection pass */
	pim_diag_fn diag;
	void *ctx;
	size_t max_field;

	iconv_t cd;
	char *raw;          /* raw chunk */
	size_t raw_len;     /* bytes in raw (leftover from last iconv first) */
	char *utf;          /* decoded chunk */
	size_t utf_len, utf_pos;
	int eof;            /* the input is exhausted */
	int finished;       /* csv_fini has run */
	int first_chunk;
	pim_buf carry;      /* a line that crosses chunks */
	int carry_overflow;

	unsigned long line; /* line number of the next physical line */
	struct csv_parser p;
	int p_ready;
	int in_row;
	unsigned long row_line;
	int row_ready;
	int too_many;
	int skip_quote;     /* skipping a record: 1 outside its quotes, 2 in */

	pim_buf data;       /* field bytes of the row being built */
	size_t *offs;
	size_t cap;
	pim_csv_row row;
};

static const char *const enc_names[] = { "auto",       "utf-8",
					 "windows-1252", "iso-8859-1",
					 "utf-16le",   "utf-16be" };

const char *pim_encoding_name(pim_encoding e)
{
	return (unsigned)e < 6 ? enc_names[e] : "?";
}

int pim_encoding_parse(const char *s)
{
	if (pim_strcaseeq(s, "auto"))
		return PIM_ENC_AUTO;
	if (pim_strcaseeq(s, "utf-8") || pim_strcaseeq(s, "utf8"))
		return PIM_ENC_UTF8;
	if (pim_strcaseeq(s, "windows-1252") || pim_strcaseeq(s, "cp1252"))
		return PIM_ENC_CP1252;
	if (pim_strcaseeq(s, "iso-8859-1") || pim_strcaseeq(s, "latin1") ||
	    pim_strcaseeq(s, "latin-1"))
		return PIM_ENC_LATIN1;
	if (pim_strcaseeq(s, "utf-16le"))
		return PIM_ENC_UTF16LE;
	if (pim_strcaseeq(s, "utf-16be"))
		return PIM_ENC_UTF16BE;
	return -1;
}

static void report(pim_csv *c, unsigned long line, unsigned long col,
		   const char *code, pim_severity sev, const char *msg)
{
	pim_diag d;
	if (!c->diag)
		return;
	memset(&d, 0, sizeof d);
	d.file = c->name;
	d.line = line;
	d.col = col;
	d.code = code;
	d.severity = sev;
	d.message = msg;
	c->diag(&d, c->ctx);
}

/* ---- detection --------------------------------------------------------- */

typedef struct scan {
	/* per candidate delimiter: , ; \t | */
	unsigned long cnt[4];       /* in the current record */
	unsigned long first[4];     /* in the first record */
	unsigned long agree[4];     /* records whose count equals the first */
	unsigned long records;
	int in_quote;
	int prev_cr;
	unsigned long lf, crlf, cr;
	unsigned long comma_dec, dot_dec; /* digit,digit and digit.digit */
	unsigned char prev, prev2;
	/* encoding */
	unsigned long line;
	int utf8_ok;
	unsigned long bad_line, bad_byte; /* first invalid UTF-8 */
	unsigned long long offset;
	unsigned char pend[4];
	size_t npend, need;
	unsigned long long pend_off;
	unsigned long pend_line;
	int c1_undefined;    /* bytes undefined in Windows-1252 */
	unsigned long nul;
	unsigned long nul_line;
	int record_has_data;
	/* where to cut the file into pieces: the first record boundary at or
	 * after each of the targets size * k / pieces */
	unsigned long long size;
	unsigned pieces, ncut, tk;
	unsigned long long target;  /* the next one (number tk); 0: done */
	unsigned long long cut_off[PIM_CSV_PIECES_MAX];
	unsigned long cut_line[PIM_CSV_PIECES_MAX];
	unsigned long odd_quotes; /* quotes inside a field: no cuts */
} scan;

static const char cand[4] = { ',', ';', '\t', '|' };

static void end_record(scan *s)
{
	if (!s->record_has_data) {
		memset(s->cnt, 0, sizeof s->cnt);
		return;
	}
	if (s->records == 0)
		memcpy(s->first, s->cnt, sizeof s->cnt);
	for (int k = 0; k < 4; k++)
		if (s->cnt[k] == s->first[k])
			s->agree[k]++;
	s->records++;
	memset(s->cnt, 0, sizeof s->cnt);
	s->record_has_data = 0;
}

/* A record ends at file offset `off` (line `line` starts there): a cut
 * when the next target is reached. */
static void maybe_cut(scan *s, unsigned long long off, unsigned long line)
{
	if (off < s->target)
		return;
	s->cut_off[s->ncut] = off;
	s->cut_line[s->ncut] = line;
	s->ncut++;
	/* the next target past this boundary (small pieces skip some) */
	s->target = 0;
	while (++s->tk < s->pieces) {
		unsigned long long t = s->size * s->tk / s->pieces;
		if (t > off) {
			s->target = t;
			break;
		}
	}
}

static void utf8_bad(scan *s)
{
	if (s->utf8_ok) {
		s->utf8_ok = 0;
		s->bad_line = s->pend_line;
		s->bad_byte = (unsigned long)s->pend_off + 1;
	}
	s->npend = 0;
	s->need = 0;
}

/* A continuation byte of the pending sequence; 0 when c is not one (the
 * sequence is then bad and c must be looked at again). */
static int utf8_cont(scan *s, unsigned char c)
{
	if ((c & 0xC0) != 0x80) {
		utf8_bad(s);
		return 0;
	}
	s->pend[s->npend++] = c;
	if (s->npend == s->need + 1) {
		size_t k = s->need;
		unsigned long cp = s->pend[0] & (k == 1   ? 0x1F
						 : k == 2 ? 0x0F
							  : 0x07);
		for (size_t j = 1; j <= k; j++)
			cp = (cp << 6) | (s->pend[j] & 0x3F);
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			utf8_bad(s);
		s->need = 0;
		s->npend = 0;
	}
	return 1;
}

/* The start of a multi-byte UTF-8 sequence (or a byte that cannot be). */
static void utf8_start(scan *s, unsigned char c, unsigned long long off,
		       unsigned long line)
{
	if (c == 0x81 || c == 0x8D || c == 0x8F || c == 0x90 || c == 0x9D)
		s->c1_undefined = 1;
	s->pend_off = off;
	s->pend_line = line;
	s->pend[0] = c;
	s->npend = 1;
	if (c >= 0xC2 && c <= 0xDF)
		s->need = 1;
	else if (c >= 0xE0 && c <= 0xEF)
		s->need = 2;
	else if (c >= 0xF0 && c <= 0xF4)
		s->need = 3;
	else
		utf8_bad(s);
}

static void scan_bytes(scan *s, const unsigned char *p, size_t n, char quote)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		/* UTF-8 validity, across chunk borders */
		if (s->need && utf8_cont(s, c))
			goto structure;
		if (c >= 0x80)
			utf8_start(s, c, s->offset + i, s->line);
	structure:
		if (c == 0 && s->nul++ == 0)
			s->nul_line = s->line;
		if (c == '\n') {
			if (s->prev_cr)
				s->crlf++;
			else
				s->lf++;
			s->line++;
			s->prev_cr = 0;
			if (!s->in_quote)
				end_record(s);
			s->prev2 = s->prev;
			s->prev = c;
			continue;
		}
		if (s->prev_cr) {
			/* a lone CR before this byte */
			s->cr++;
			if (!s->lf && !s->crlf) {
				/* CR-only files: CR ends lines */
				s->line++;
				if (!s->in_quote)
					end_record(s);
			}
		}
		s->prev_cr = c == '\r';
		if (c == (unsigned char)quote) {
			s->in_quote = !s->in_quote;
			s->record_has_data = 1;
		} else if (!s->in_quote) {
			if (c == ',')
				s->cnt[0]++;
			else if (c == ';')
				s->cnt[1]++;
			else if (c == '\t')
				s->cnt[2]++;
			else if (c == '|')
				s->cnt[3]++;
			if (c >= '0' && c <= '9' && s->prev2 >= '0' &&
			    s->prev2 <= '9') {
				if (s->prev == ',')
					s->comma_dec++;
				else if (s->prev == '.')
					s->dot_dec++;
			}
			if (c != '\r' && c != ' ')
				s->record_has_data = 1;
		}
		s->prev2 = s->prev;
		s->prev = c;
	}
	s->offset += n;
}


/*
 * The fast detection pass (x86-64): 64 bytes at a time, characters of
 * interest become bit masks (with SSE2, or AVX2 where the CPU has it), the
 * quoted regions come from a prefix XOR of the quote mask, and delimiters
 * are counted per record with popcount.
 * It treats LF as the record end; a file with CR-only line ends is scanned
 * again by scan_bytes.
 */
#if defined(__SSE2__)
#include <immintrin.h>

/* One 64-byte block as bit masks, bit i for byte i. */
typedef struct masks {
	uint64_t q, lf, cr, nul, sp, dt, d;
	uint64_t dm[4]; /* the candidate delimiters, as in cand[] */
} masks;

static inline uint64_t mask64(const __m128i v[4], __m128i c)
{
	return (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v[0], c)) |
	       (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v[1], c)) << 16 |
	       (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v[2], c)) << 32 |
	       (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v[3], c)) << 48;
}

static inline __attribute__((always_inline)) void
masks_sse2(masks *m, const unsigned char *b, char quote)
{
	const __m128i z = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9);
	__m128i v[4];

	for (int k = 0; k < 4; k++)
		v[k] = _mm_loadu_si128((const __m128i *)(b + 16 * k));
	m->q = mask64(v, _mm_set1_epi8(quote));
	m->lf = mask64(v, _mm_set1_epi8('\n'));
	m->cr = mask64(v, _mm_set1_epi8('\r'));
	m->nul = mask64(v, _mm_setzero_si128());
	m->sp = mask64(v, _mm_set1_epi8(' '));
	m->dt = mask64(v, _mm_set1_epi8('.'));
	for (int k = 0; k < 4; k++)
		m->dm[k] = mask64(v, _mm_set1_epi8(cand[k]));
	m->d = 0;
	for (int k = 0; k < 4; k++) {
		__m128i x = _mm_sub_epi8(v[k], z);
		__m128i le = _mm_cmpeq_epi8(_mm_max_epu8(x, nine), nine);
		m->d |= (uint64_t)(unsigned)_mm_movemask_epi8(le) << (16 * k);
	}
}

__attribute__((target("avx2"))) static inline uint64_t
mask64_avx2(__m256i lo, __m256i hi, __m256i c)
{
	return (uint64_t)(unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, c)) |
	       (uint64_t)(unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, c))
		       << 32;
}

__attribute__((target("avx2"))) static inline void
masks_avx2(masks *m, const unsigned char *b, char quote)
{
	const __m256i z = _mm256_set1_epi8('0'), nine = _mm256_set1_epi8(9);
	__m256i lo = _mm256_loadu_si256((const __m256i *)b);
	__m256i hi = _mm256_loadu_si256((const __m256i *)(b + 32));
	__m256i xl = _mm256_sub_epi8(lo, z), xh = _mm256_sub_epi8(hi, z);

	m->q = mask64_avx2(lo, hi, _mm256_set1_epi8(quote));
	m->lf = mask64_avx2(lo, hi, _mm256_set1_epi8('\n'));
	m->cr = mask64_avx2(lo, hi, _mm256_set1_epi8('\r'));
	m->nul = mask64_avx2(lo, hi, _mm256_setzero_si256());
	m->sp = mask64_avx2(lo, hi, _mm256_set1_epi8(' '));
	m->dt = mask64_avx2(lo, hi, _mm256_set1_epi8('.'));
	for (int k = 0; k < 4; k++)
		m->dm[k] = mask64_avx2(lo, hi, _mm256_set1_epi8(cand[k]));
	m->d = mask64_avx2(_mm256_max_epu8(xl, nine), _mm256_max_epu8(xh, nine),
			   nine);
}

static inline uint64_t prefix_xor(uint64_t m)
{
	m ^= m << 1;
	m ^= m << 2;
	m ^= m << 4;
	m ^= m << 8;
	m ^= m << 16;
	m ^= m << 32;
	return m;
}

typedef struct fast_state {
	uint64_t prev_digit, prev_comma, prev_dot; /* top bits of the last
						      block */
	int prev_cr;
	uint64_t prev_sep;   /* the last byte was a separator (start: yes) */
	int q63_pending;     /* a quote ended the last block with no
				separator before it */
} fast_state;

/* The statistics of one block from its masks. */
static inline __attribute__((always_inline)) void
scan_block_body(scan *s, fast_state *fs, const masks *m,
		unsigned long long base)
{
	uint64_t q = m->q, lf = m->lf, cr = m->cr, nul = m->nul;
	uint64_t inq, nl, dm[4], content, d = m->d, cm, dt = m->dt, sep;
	uint64_t done = 0;
	unsigned long line0 = s->line;

	inq = prefix_xor(q) ^ (s->in_quote ? ~0ULL : 0);
	s->in_quote = (int)(inq >> 63);
	/* line ends: CRLF pairs, lone LF, lone CR */
	{
		uint64_t crlf = lf & ((cr << 1) | (uint64_t)fs->prev_cr);
		s->crlf += (unsigned long)__builtin_popcountll(crlf);
		s->lf += (unsigned long)__builtin_popcountll(lf & ~crlf);
		s->cr += (unsigned long)__builtin_popcountll(cr & ~(lf >> 1)) -
			 (unsigned long)((cr >> 63) & 1);
		if (fs->prev_cr && !(lf & 1))
			s->cr++;
		fs->prev_cr = (int)(cr >> 63);
	}
	if (nul) {
		if (s->nul == 0)
			s->nul_line = s->line + (unsigned long)__builtin_popcountll(
						lf & ((nul & -nul) - 1));
		s->nul += (unsigned long)__builtin_popcountll(nul);
	}
	for (int k = 0; k < 4; k++)
		dm[k] = m->dm[k];
	/* decimal separators: digit , digit and digit . digit */
	cm = dm[0];
	s->comma_dec += (unsigned long)__builtin_popcountll(
		d & ((cm << 1) | fs->prev_comma) &
		((d << 2) | fs->prev_digit) & ~inq);
	s->dot_dec += (unsigned long)__builtin_popcountll(
		d & ((dt << 1) | fs->prev_dot) & ((d << 2) | fs->prev_digit) &
		~inq);
	fs->prev_digit = d >> 62;
	fs->prev_comma = cm >> 63;
	fs->prev_dot = dt >> 63;

	content = ~(m->sp | cr | lf) | q;
	/* a quote with no separator on either side sits inside a field
	 * (5" screen): libcsv reads it as text, the prefix XOR as a quote,
	 * so such a file is never cut */
	sep = dm[0] | dm[1] | dm[2] | dm[3] | lf | cr | q;
	{
		uint64_t before = (sep << 1) | fs->prev_sep;
		uint64_t after = sep >> 1; /* bit 63: next block */
		uint64_t odd_open = q & inq & ~before;
		uint64_t odd = q & ~inq & ~after;
		if (fs->q63_pending && !(sep & 1))
			s->odd_quotes++;
		fs->q63_pending = (int)((odd >> 63) & 1);
		s->odd_quotes += (unsigned long)__builtin_popcountll(
			odd & ~(1ULL << 63));
		s->odd_quotes += (unsigned long)__builtin_popcountll(odd_open);
		fs->prev_sep = sep >> 63;
	}
	for (int k = 0; k < 4; k++)
		dm[k] &= ~inq;
	nl = lf & ~inq;
	s->line += (unsigned long)__builtin_popcountll(lf);
	while (nl) {
		unsigned pos = (unsigned)__builtin_ctzll(nl);
		uint64_t upto = pos == 63 ? ~0ULL : ((1ULL << (pos + 1)) - 1);
		uint64_t rng = upto & ~done;
		for (int k = 0; k < 4; k++)
			s->cnt[k] += (unsigned long)__builtin_popcountll(dm[k] & rng);
		if (content & rng & ~lf)
			s->record_has_data = 1;
		end_record(s);
		if (s->target && base + pos + 1 >= s->target)
			maybe_cut(s, base + pos + 1,
				  line0 + (unsigned long)__builtin_popcountll(
						  lf & upto));
		done = upto;
		nl &= nl - 1;
	}
	for (int k = 0; k < 4; k++)
		s->cnt[k] += (unsigned long)__builtin_popcountll(dm[k] & ~done);
	if (content & ~done)
		s->record_has_data = 1;
}

/* n bytes (a multiple of 64) from p, at file offset base; one version per
 * instruction set, picked once per chunk. */
__attribute__((target("avx2,popcnt"))) static void
scan_blocks_avx2(scan *s, fast_state *fs, const unsigned char *p, size_t n,
		 char quote, unsigned long long base)
{
	masks m;
	for (size_t i = 0; i < n; i += 64) {
		masks_avx2(&m, p + i, quote);
		scan_block_body(s, fs, &m, base + i);
	}
}

static inline __attribute__((always_inline)) void
scan_blocks_sse2(scan *s, fast_state *fs, const unsigned char *p, size_t n,
		 char quote, unsigned long long base)
{
	masks m;
	for (size_t i = 0; i < n; i += 64) {
		masks_sse2(&m, p + i, quote);
		scan_block_body(s, fs, &m, base + i);
	}
}

__attribute__((target("popcnt"))) static void
scan_blocks_popcnt(scan *s, fast_state *fs, const unsigned char *p, size_t n,
		   char quote, unsigned long long base)
{
	scan_blocks_sse2(s, fs, p, n, quote, base);
}

static void scan_blocks_plain(scan *s, fast_state *fs, const unsigned char *p,
			      size_t n, char quote, unsigned long long base)
{
	scan_blocks_sse2(s, fs, p, n, quote, base);
}

static void scan_blocks(scan *s, fast_state *fs, const unsigned char *p,
			size_t n, char quote, unsigned long long base)
{
	static int level = -1; /* 0 SSE2, 1 and popcount, 2 and AVX2 */
	if (level < 0) {
		__builtin_cpu_init();
		level = !__builtin_cpu_supports("popcnt")  ? 0
			: !__builtin_cpu_supports("avx2") ? 1
							  : 2;
		if (getenv("PIM_NO_AVX2") && level == 2)
			level = 1; /* lets the tests run the SSE2 path too */
	}
	if (level == 2)
		scan_blocks_avx2(s, fs, p, n, quote, base);
	else if (level == 1)
		scan_blocks_popcnt(s, fs, p, n, quote, base);
	else
		scan_blocks_plain(s, fs, p, n, quote, base);
}

/* UTF-8 validity with a fast path over ASCII words. */
static void utf8_scan(scan *s, const unsigned char *p, size_t n,
		      unsigned long line0)
{
	size_t i = 0;

	while (i < n) {
		if (!s->need) {
			/* ASCII words, then whole well-formed sequences in
			 * place; anything else (a sequence cut by the end of
			 * the buffer, a bad byte) goes the careful way */
			for (;;) {
				unsigned char c, c1;
				while (i + 16 <= n) {
					unsigned hi = (unsigned)_mm_movemask_epi8(
						_mm_loadu_si128(
							(const __m128i *)(p + i)));
					if (hi) {
						i += (unsigned)__builtin_ctz(hi);
						break;
					}
					i += 16;
				}
				while (i < n && p[i] < 0x80)
					i++;
				if (i + 4 > n)
					break;
				c = p[i];
				c1 = p[i + 1];
				if ((c1 & 0xC0) != 0x80)
					break;
				if (c >= 0xC2 && c <= 0xDF) {
					i += 2;
					continue;
				}
				if ((p[i + 2] & 0xC0) != 0x80)
					break;
				if (c >= 0xE0 && c <= 0xEF) {
					/* no overlong forms, no surrogates */
					if ((c == 0xE0 && c1 < 0xA0) ||
					    (c == 0xED && c1 >= 0xA0))
						break;
					i += 3;
					continue;
				}
				if (c >= 0xF0 && c <= 0xF4 &&
				    (p[i + 3] & 0xC0) == 0x80 &&
				    !(c == 0xF0 && c1 < 0x90) &&
				    !(c == 0xF4 && c1 >= 0x90)) {
					i += 4;
					continue;
				}
				break;
			}
			while (i < n && p[i] < 0x80)
				i++;
			if (i >= n)
				break;
		}
		{
			unsigned char c = p[i];
			if (s->need) {
				if (utf8_cont(s, c))
					i++;
				/* else: look at c again as a start */
				continue;
			}
			/* the line is found below, only when needed */
			utf8_start(s, c, s->offset + i, 0);
			i++;
		}
	}
	if (!s->utf8_ok && s->bad_line == 0) {
		/* the line of the first bad byte, for the message */
		unsigned long long rel = s->bad_byte - 1 >= s->offset
						 ? s->bad_byte - 1 - s->offset
						 : 0;
		unsigned long l = line0;
		for (size_t k = 0; k < rel && k < n; k++)
			l += p[k] == '\n';
		s->bad_line = l;
	}
}

static void scan_fast(scan *s, fast_state *fs, const unsigned char *p,
		      size_t n, char quote)
{
	unsigned char tail[64];
	size_t i = 0;
	unsigned long line0 = s->line;

	i = n & ~(size_t)63;
	if (i)
		scan_blocks(s, fs, p, i, quote, s->offset);
	if (i < n) {
		memset(tail, ' ', sizeof tail);
		memcpy(tail, p + i, n - i);
		scan_blocks(s, fs, tail, 64, quote, s->offset + i);
	}
	utf8_scan(s, p, n, line0);
	s->offset += n;
}
#define HAVE_SCAN_FAST 1
#endif

static int read_full(int fd, char *buf, size_t cap, size_t *got)
{
	size_t n = 0;
	while (n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*got = n;
	return 0;
}

static iconv_t open_iconv(pim_encoding e)
{
	const char *from = e == PIM_ENC_CP1252    ? "WINDOWS-1252"
			   : e == PIM_ENC_LATIN1  ? "ISO-8859-1"
			   : e == PIM_ENC_UTF16LE ? "UTF-16LE"
			   : e == PIM_ENC_UTF16BE ? "UTF-16BE"
						  : NULL;
	if (!from)
		return (iconv_t)-1;
	return iconv_open("UTF-8", from);
}

/*
 * Converts raw[0..raw_len) into utf; keeps an incomplete trailing sequence
 * in raw for the next chunk. Returns 0 or -1 on an invalid sequence
 * (replaced by U+FFFD so that the row is reported, not the file lost).
 */
static int decode(pim_csv *c)
{
	char *in = c->raw, *out = c->utf;
	size_t inleft = c->raw_len, outleft = 3 * CHUNK + 16;

	while (inleft > 0) {
		size_t r = iconv(c->cd, &in, &inleft, &out, &outleft);
		if (r != (size_t)-1)
			break;
		if (errno == EINVAL && !c->eof)
			break; /* incomplete sequence: wait for more input */
		if (errno == EILSEQ || errno == EINVAL) {
			/* skip one unit, write U+FFFD */
			size_t skip = (c->d.encoding == PIM_ENC_UTF16LE ||
				       c->d.encoding == PIM_ENC_UTF16BE)
					      ? 2
					      : 1;
			if (skip > inleft)
				skip = inleft;
			in += skip;
			inleft -= skip;
			if (outleft >= 3) {
				memcpy(out, "\xEF\xBF\xBD", 3);
				out += 3;
				outleft -= 3;
			}
			continue;
		}
		return -1;
	}
	c->utf_len = (size_t)(out - c->utf);
	c->utf_pos = 0;
	memmove(c->raw, in, inleft);
	c->raw_len = inleft;
	return 0;
}

/* One pass over the input: statistics into *s. Spools stdin when
 * spool_fd >= 0. `fast` picks the SSE2 scanner. */
static int detect_pass(pim_csv *c, scan *sp, int in_fd, int spool_fd,
		       int fast, unsigned long long *totalp, char *err,
		       size_t errlen)
{
	scan s;
	size_t got;
	unsigned long long total = 0;
	int utf16 = c->d.encoding == PIM_ENC_UTF16LE ||
		    c->d.encoding == PIM_ENC_UTF16BE;
	iconv_t cd = (iconv_t)-1;
	int first = 1;
	size_t nul_even = 0, nul_odd = 0, sample = 0;
#ifdef HAVE_SCAN_FAST
	fast_state fs;
	memset(&fs, 0, sizeof fs);
	fs.prev_sep = 1;
#else
	(void)fast;
#endif

	memset(&s, 0, sizeof s);
	s.line = 1;
	s.utf8_ok = 1;
	if (c->pieces_wanted > 1) {
		s.size = c->size;
		s.pieces = c->pieces_wanted;
		s.tk = 1;
		s.target = s.size / s.pieces;
	}
	for (;;) {
		const unsigned char *p;
		size_t n;
		if (read_full(in_fd, c->raw, CHUNK, &got)) {
			snprintf(err, errlen, "%s: %s", c->name, strerror(errno));
			return PIM_EIO;
		}
		if (got == 0)
			break;
		if (spool_fd >= 0) {
			size_t w = 0;
			while (w < got) {
				ssize_t r = write(spool_fd, c->raw + w, got - w);
				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0) {
					snprintf(err, errlen,
						 "spooling standard input: %s",
						 strerror(errno));
					return PIM_EIO;
				}
				w += (size_t)r;
			}
		}
		total += got;
		p = (const unsigned char *)c->raw;
		n = got;
		if (first) {
			first = 0;
			if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
				c->d.bom = 1;
				if (c->d.encoding == PIM_ENC_AUTO)
					c->d.encoding = PIM_ENC_UTF8;
				p += 3;
				n -= 3;
				s.offset = 3; /* offsets count from the file start */
			} else if (n >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) ||
					      (p[0] == 0xFE && p[1] == 0xFF))) {
				c->d.bom = 1;
				if (c->d.encoding == PIM_ENC_AUTO)
					c->d.encoding = p[0] == 0xFF
								? PIM_ENC_UTF16LE
								: PIM_ENC_UTF16BE;
				p += 2;
				n -= 2;
			}
			utf16 = c->d.encoding == PIM_ENC_UTF16LE ||
				c->d.encoding == PIM_ENC_UTF16BE;
			if (!utf16) {
				/* UTF-16 without a BOM: NULs in every other byte */
				for (size_t i = 0; i < n && i < 4096; i++, sample++)
					if (p[i] == 0) {
						if (i % 2)
							nul_odd++;
						else
							nul_even++;
					}
				if (sample >= 8 &&
				    (nul_odd > sample * 3 / 8 ||
				     nul_even > sample * 3 / 8)) {
					char msg[200];
					snprintf(msg, sizeof msg,
						 "the file looks like UTF-16 "
						 "without a byte-order mark; "
						 "save it as UTF-8 or set "
						 "encoding: utf-16%s",
						 nul_odd > nul_even ? "le" : "be");
					report(c, 1, 0, "encoding",
					       PIM_SEV_ERROR, msg);
					return PIM_EDATA;
				}
			} else {
				cd = open_iconv(c->d.encoding);
				if (cd == (iconv_t)-1) {
					snprintf(err, errlen,
						 "cannot convert from %s",
						 pim_encoding_name(c->d.encoding));
					return PIM_EIO;
				}
			}
		}
		if (utf16) {
			/* detection on the UTF-8 text */
			char *in = (char *)p, *out = c->utf;
			size_t inleft = n, outleft = 3 * CHUNK + 16;
			while (inleft) {
				if (iconv(cd, &in, &inleft, &out, &outleft) ==
				    (size_t)-1) {
					if (errno == EINVAL)
						break;
					in += 2 <= inleft ? 2 : inleft;
					inleft -= 2 <= inleft ? 2 : inleft;
				}
			}
			p = (const unsigned char *)c->utf;
			n = (size_t)(out - c->utf);
		}
#ifdef HAVE_SCAN_FAST
		if (fast)
			scan_fast(&s, &fs, p, n, c->d.quote ? c->d.quote : '"');
		else
#endif
			scan_bytes(&s, p, n, c->d.quote ? c->d.quote : '"');
	}
	if (cd != (iconv_t)-1)
		iconv_close(cd);
#ifdef HAVE_SCAN_FAST
	if (fast)
		s.prev_cr = fs.prev_cr;
#endif
	*sp = s;
	*totalp = total;
	return 0;
}

static int detect(pim_csv *c, int in_fd, int spool_fd, char *err,
		  size_t errlen)
{
	scan s;
	unsigned long long total = 0;
	int rc, fast = 0;

#ifdef HAVE_SCAN_FAST
	fast = 1;
#endif
	rc = detect_pass(c, &s, in_fd, spool_fd, fast, &total, err, errlen);
	if (rc)
		return rc;
	if (fast && !s.lf && !s.crlf && (s.cr || s.prev_cr)) {
		/* CR-only line ends: the scalar scanner splits records on CR */
		int fd = spool_fd >= 0 ? spool_fd : in_fd;
		pim_encoding e = c->d.encoding;
		int bom = c->d.bom;
		if (lseek(fd, 0, SEEK_SET) != 0) {
			snprintf(err, errlen, "%s: cannot re-read: %s", c->name,
				 strerror(errno));
			return PIM_EIO;
		}
		rc = detect_pass(c, &s, fd, -1, 0, &total, err, errlen);
		c->d.encoding = e;
		c->d.bom = bom;
		if (rc)
			return rc;
	}
	if (s.prev_cr)
		s.cr++;
	if (!s.in_quote)
		end_record(&s);
	else if (s.record_has_data)
		end_record(&s);
	c->size = total;
	c->records = s.records;
	/* cuts only where the quotes are unambiguous and the offsets are
	 * those of the file (not of converted UTF-16 text) */
	c->file_end = total;
	if (s.ncut && !s.odd_quotes && !s.in_quote && fast &&
	    c->d.encoding != PIM_ENC_UTF16LE && c->d.encoding != PIM_ENC_UTF16BE) {
		for (unsigned k = 0; k < s.ncut; k++) {
			if (s.cut_off[k] >= total)
				break;
			c->cut_off[c->n_cuts] = s.cut_off[k];
			c->cut_line[c->n_cuts] = s.cut_line[k];
			c->n_cuts++;
		}
	}

	/* encoding */
	if (c->d.encoding == PIM_ENC_AUTO) {
		if (s.utf8_ok && !s.need)
			c->d.encoding = PIM_ENC_UTF8;
		else if (!s.c1_undefined)
			c->d.encoding = PIM_ENC_CP1252;
		else {
			char msg[200];
			snprintf(msg, sizeof msg,
				 "byte %lu is not UTF-8, and the file is not "
				 "Windows-1252 or ISO-8859-1 either; set "
				 "encoding: in the mapping",
				 s.bad_byte);
			report(c, s.bad_line, 0, "encoding", PIM_SEV_ERROR, msg);
			return PIM_EDATA;
		}
	} else if (c->d.encoding == PIM_ENC_UTF8 && !s.utf8_ok) {
		char msg[160];
		snprintf(msg, sizeof msg,
			 "invalid UTF-8 at byte %lu (the file is read as UTF-8)",
			 s.bad_byte);
		report(c, s.bad_line, 0, "encoding", PIM_SEV_ERROR, msg);
	}
	/* converted text is valid UTF-8 (bad bytes become U+FFFD) */
	c->d.utf8_valid = c->d.encoding != PIM_ENC_UTF8 || (s.utf8_ok && !s.need);
	/* line ends */
	if (s.crlf >= s.lf && s.crlf >= s.cr && s.crlf)
		c->d.eol = PIM_EOL_CRLF;
	else if (s.cr > s.lf && !s.crlf)
		c->d.eol = PIM_EOL_CR;
	else
		c->d.eol = PIM_EOL_LF;
	/* delimiter: the candidate whose per-record count is most often the
	 * same as in the first record (ties: the order , ; tab |) */
	if (!c->d.delimiter) {
		int best = -1;
		unsigned long best_score = 0;
		for (int k = 0; k < 4; k++) {
			unsigned long score = s.first[k] ? s.agree[k] : 0;
			if (score > best_score ||
			    (score == best_score && best >= 0 && score &&
			     s.first[k] > s.first[best])) {
				best = k;
				best_score = score;
			}
		}
		c->d.delimiter = best >= 0 ? cand[best] : ',';
	}
	if (!c->d.quote)
		c->d.quote = '"';
	if (!c->d.decimal) {
		if (c->d.delimiter == ',')
			c->d.decimal = '.';
		else
			c->d.decimal = s.comma_dec > s.dot_dec ? ',' : '.';
	}
	return 0;
}

/* ---- libcsv plumbing ----------------------------------------------- */

static __thread size_t field_limit;

static void *limited_realloc(void *p, size_t n)
{
	if (n > field_limit)
		return NULL;
	return pim_realloc(p, n);
}

static int parser_init(pim_csv *c)
{
	if (csv_init(&c->p, CSV_STRICT_FINI | CSV_APPEND_NULL))
		return PIM_ENOMEM;
	csv_set_delim(&c->p, (unsigned char)c->d.delimiter);
	csv_set_quote(&c->p, (unsigned char)c->d.quote);
	csv_set_realloc_func(&c->p, limited_realloc);
	csv_set_free_func(&c->p, pim_free);
	/* libcsv's own terminators (CR, LF) and spaces (space, tab) fit
	 * every line-end style; its inline tests are much faster than
	 * callbacks */
	c->p_ready = 1;
	return 0;
}

static void on_field(void *s, size_t len, void *data)
{
	pim_csv *c = data;

	if (c->too_many)
		return;
	if (c->row.n >= PIM_CSV_MAX_COLUMNS) {
		c->too_many = 1;
		return;
	}
	if (c->row.n >= c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 32;
		size_t *no = pim_realloc(c->offs, ncap * sizeof *no);
		size_t *nl = pim_realloc(c->row.len, ncap * sizeof *nl);
		char **nf;
		if (no)
			c->offs = no;
		if (nl)
			c->row.len = nl;
		nf = pim_realloc(c->row.field, ncap * sizeof *nf);
		if (nf)
			c->row.field = nf;
		if (!no || !nl || !nf) {
			c->too_many = 2; /* out of memory */
			return;
		}
		c->cap = ncap;
	}
	c->offs[c->row.n] = c->data.len;
	c->row.len[c->row.n] = len;
	if (!s)
		len = 0;
	if (c->data.len + len + 1 >= c->data.cap) {
		int rc = pim_buf_reserve(&c->data, len + 1);
		if (rc) {
			c->too_many = rc == PIM_ELIMIT ? 3 : 2;
			return;
		}
	}
	if (len)
		memcpy(c->data.data + c->data.len, s, len);
	c->data.len += len;
	c->data.data[c->data.len++] = '\0';
	c->row.n++;
}

static void on_row(int term, void *data)
{
	pim_csv *c = data;
	(void)term;
	c->in_row = 0;
	c->row_ready = 1;
}

static void reset_row(pim_csv *c)
{
	c->row.n = 0;
	c->too_many = 0;
	pim_buf_clear(&c->data);
}

static int restart_parser(pim_csv *c)
{
	csv_free(&c->p);
	c->p_ready = 0;
	reset_row(c);
	c->in_row = 0;
	c->row_ready = 0;
	return parser_init(c);
}

static int line_is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != '\r' && s[i] != '\n' && s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

/* Feeds one physical line (with its terminator, except at the end). */
static int feed_line(pim_csv *c, const char *s, size_t n, int complete)
{
	size_t used;

	if (c->skip_quote) {
		for (size_t i = 0; i < n; i++)
			if (s[i] == c->d.quote)
				c->skip_quote = c->skip_quote == 2 ? 1 : 2;
		if (c->skip_quote == 1)
			c->skip_quote = 0;
		if (complete)
			c->line++;
		return 0;
	}
	if (!c->in_row) {
		if (line_is_blank(s, n)) {
			if (complete)
				report(c, c->line, 0, "blank-line",
				       PIM_SEV_WARNING, "blank line skipped");
			if (complete)
				c->line++;
			return 0;
		}
		c->in_row = 1;
		c->row_line = c->line;
		reset_row(c);
	}
	field_limit = c->max_field;
	used = csv_parse(&c->p, s, n, on_field, on_row, c);
	if (used < n || c->too_many == 2) {
		char msg[160];
		int in_quote = c->p.quoted && (c->p.pstate == 2 ||
					       c->p.pstate == 3);
		if (csv_error(&c->p) == CSV_ENOMEM && c->too_many != 2) {
			snprintf(msg, sizeof msg,
				 "field %zu is larger than the limit of %zu "
				 "bytes; row skipped",
				 c->row.n + 1, c->max_field);
			report(c, c->row_line, c->row.n + 1, "field-too-large",
			       PIM_SEV_ERROR, msg);
		} else if (c->too_many == 2) {
			return PIM_ENOMEM;
		} else {
			snprintf(msg, sizeof msg, "cannot parse the row: %s",
				 csv_strerror(csv_error(&c->p)));
			report(c, c->row_line, 0, "parse", PIM_SEV_ERROR, msg);
		}
		if (restart_parser(c))
			return PIM_ENOMEM;
		if (in_quote) {
			c->skip_quote = 2;
			for (size_t i = used + 1; i < n; i++)
				if (s[i] == c->d.quote)
					c->skip_quote = c->skip_quote == 2 ? 1 : 2;
			if (c->skip_quote == 1)
				c->skip_quote = 0;
		}
	}
	if (complete)
		c->line++;
	return 0;
}

int pim_csv_open(pim_csv **out, const char *path, const pim_dialect *forced,
		 size_t max_field, pim_diag_fn diag, void *ctx, char *err,
		 size_t errlen)
{
	pim_csv *c;
	struct stat st;
	int rc = 0, in_fd = -1, spool_fd = -1;

	*out = NULL;
	c = pim_calloc_lines(1, sizeof *c); /* two readers run side by side */
	if (!c)
		return PIM_ENOMEM;
	c->fd = -1;
	c->cd = (iconv_t)-1;
	c->name = path;
	c->diag = diag;
	c->ctx = ctx;
	c->max_field = max_field ? max_field : PIM_CSV_MAX_FIELD;
	c->line = 1;
	c->first_chunk = 1;
	if (forced)
		c->d = *forced;
	else {
		pim_dialect d0 = PIM_DIALECT_INIT;
		c->d = d0;
	}
	/* a physical line and a row are capped; the field limit and the
	 * column limit are checked separately with clearer messages */
	pim_buf_init(&c->carry, 4 * c->max_field + CHUNK);
	pim_buf_init(&c->data, 4 * c->max_field + CHUNK);
	c->raw = pim_malloc(CHUNK + 8);
	c->utf = pim_malloc(3 * CHUNK + 16);
	if (!c->raw || !c->utf) {
		pim_csv_close(c);
		return PIM_ENOMEM;
	}
	if (strcmp(path, "-") == 0) {
		/* an unlinked temporary file; mkstemp fills in the Xs */
		const char *dir = getenv("TMPDIR");
		char tmpl[4096];
		snprintf(tmpl, sizeof tmpl, "%s/pim-stdin-XXXXXX",
			 dir && *dir ? dir : "/tmp");
		spool_fd = mkstemp(tmpl);
		if (spool_fd >= 0)
			unlink(tmpl);
		if (spool_fd < 0) {
			snprintf(err, errlen, "cannot spool standard input: %s",
				 strerror(errno));
			pim_csv_close(c);
			return PIM_EIO;
		}
		in_fd = 0;
		c->name = "(stdin)";
	} else {
		in_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (in_fd < 0) {
			snprintf(err, errlen, "%s", strerror(errno));
			pim_csv_close(c);
			return PIM_EIO;
		}
		if (fstat(in_fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "is a directory");
			close(in_fd);
			pim_csv_close(c);
			return PIM_EIO;
		}
		/* big files are cut into pieces of 1 MiB or more (at most
		 * PIM_CSV_PIECES_MAX), so that threads can share them out as
		 * they go; small pieces keep the last one short, so neither
		 * thread waits long for the other (tests set the size with
		 * PIM_PIECE_SIZE and cut smaller files) */
		const char *ps = getenv("PIM_PIECE_SIZE");
		unsigned long long piece = PIM_CSV_PIECE_SIZE,
				   from = PIM_CSV_SPLIT_MIN;
		if (ps && atoll(ps) >= 65536) {
			piece = (unsigned long long)atoll(ps);
			from = 2 * piece;
		}
		if (S_ISREG(st.st_mode) &&
		    (unsigned long long)st.st_size >= from) {
			unsigned long long k = (unsigned long long)st.st_size /
					       piece;
			c->size = (unsigned long long)st.st_size;
			c->pieces_wanted = k > PIM_CSV_PIECES_MAX
						   ? PIM_CSV_PIECES_MAX
						   : (unsigned)k;
		}
	}
	rc = detect(c, in_fd, spool_fd, err, errlen);
	if (spool_fd >= 0) {
		c->fd = spool_fd;
	} else {
		c->fd = in_fd;
		in_fd = -1;
	}
	if (rc)
		goto fail;
	c->pos = 0;
	c->end = c->size;
	if (c->d.encoding != PIM_ENC_UTF8) {
		c->cd = open_iconv(c->d.encoding);
		if (c->cd == (iconv_t)-1) {
			snprintf(err, errlen, "cannot convert from %s",
				 pim_encoding_name(c->d.encoding));
			rc = PIM_EIO;
			goto fail;
		}
	}
	if ((rc = parser_init(c)))
		goto fail;
	*out = c;
	return 0;
fail:
	pim_csv_close(c);
	return rc;
}

const pim_dialect *pim_csv_dialect(const pim_csv *c)
{
	return &c->d;
}

unsigned long pim_csv_records(const pim_csv *c)
{
	return c->records;
}

void pim_csv_progress(const pim_csv *c, unsigned long long *done,
		      unsigned long long *total)
{
	*done = c->done;
	*total = c->size;
}

/* Reads and decodes the next chunk into utf. Returns 0, 1 at the end. */
static int next_chunk(pim_csv *c)
{
	size_t got;
	char *p;

	if (c->eof)
		return 1;
	if (c->cd == (iconv_t)-1) {
		/* UTF-8: read straight into the decoded buffer */
		size_t want = CHUNK;
		if (c->end && c->end - c->pos < want)
			want = (size_t)(c->end - c->pos);
		got = 0;
		while (got < want) {
			ssize_t r = pread(c->fd, c->utf + got, want - got,
					  (off_t)(c->pos + got));
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return PIM_EIO;
			if (r == 0)
				break;
			got += (size_t)r;
		}
		c->utf_pos = 0;
		c->utf_len = got;
		if (c->first_chunk) {
			c->first_chunk = 0;
			if (c->d.bom && c->pos == 0 && got >= 3 &&
			    (unsigned char)c->utf[0] == 0xEF)
				c->utf_pos = 3;
		}
		c->pos += got;
		c->done += got;
		if (got == 0) {
			c->eof = 1;
			return 1;
		}
		return 0;
	}
	{
		size_t want = CHUNK - c->raw_len;
		if (c->end && c->end - c->pos < want)
			want = (size_t)(c->end - c->pos);
		got = 0;
		while (got < want) {
			ssize_t r = pread(c->fd, c->raw + c->raw_len + got,
					  want - got, (off_t)(c->pos + got));
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return PIM_EIO;
			if (r == 0)
				break;
			got += (size_t)r;
		}
		c->pos += got;
	}
	c->done += got;
	if (got == 0)
		c->eof = 1;
	c->raw_len += got;
	if (c->raw_len == 0)
		return 1;
	p = c->raw;
	if (c->first_chunk) {
		size_t skip = 0;
		c->first_chunk = 0;
		if (c->d.bom && c->pos == got) {
			if (c->raw_len >= 3 && (unsigned char)p[0] == 0xEF)
				skip = 3;
			else if (c->raw_len >= 2 && ((unsigned char)p[0] == 0xFF ||
						     (unsigned char)p[0] == 0xFE))
				skip = 2;
		}
		if (skip) {
			memmove(c->raw, c->raw + skip, c->raw_len - skip);
			c->raw_len -= skip;
		}
	}
	if (decode(c))
		return PIM_EIO;
	return 0;
}

static int next_row(pim_csv *c, pim_csv_row **row)
{
	char term = c->d.eol == PIM_EOL_CR ? '\r' : '\n';
	int rc;

	*row = NULL;
	c->row_ready = 0;
	while (!c->row_ready) {
		const char *s, *e;
		size_t n;

		if (c->utf_pos >= c->utf_len) {
			rc = next_chunk(c);
			if (rc < 0)
				return rc;
			if (rc == 1) {
				/* end of input: the last line, then fini */
				if (c->finished)
					return 0;
				if (c->carry_overflow) {
					report(c, c->line, 0, "row-too-large",
					       PIM_SEV_ERROR,
					       "line too long; skipped");
					c->carry_overflow = 0;
					pim_buf_clear(&c->carry);
					c->finished = 1;
					return 0;
				}
				if (c->carry.len) {
					if ((rc = feed_line(c, c->carry.data,
							    c->carry.len, 0)))
						return rc;
					pim_buf_clear(&c->carry);
					if (c->row_ready)
						break;
				}
				c->finished = 1;
				field_limit = c->max_field;
				/* libcsv reports an open quote at the end only
				 * in strict mode, which would also refuse the
				 * inch marks real files have: look ourselves
				 * (state 2 is libcsv's FIELD_BEGUN) */
				if (c->in_row && c->p.quoted && c->p.pstate == 2) {
					report(c, c->row_line, c->row.n + 1,
					       "unterminated-quote", PIM_SEV_ERROR,
					       "the file ends inside a quoted "
					       "field that starts on this line; "
					       "the row is skipped");
					return 0;
				}
				if (csv_fini(&c->p, on_field, on_row, c) != 0) {
					char msg[160];
					if (csv_error(&c->p) == CSV_EPARSE)
						snprintf(msg, sizeof msg,
							 "the file ends inside "
							 "a quoted field that "
							 "starts on this line");
					else
						snprintf(msg, sizeof msg,
							 "field %zu is larger than the "
							 "limit of %zu bytes",
							 c->row.n + 1, c->max_field);
					report(c, c->row_line, c->row.n + 1,
					       csv_error(&c->p) == CSV_EPARSE
						       ? "unterminated-quote"
						       : "field-too-large",
					       PIM_SEV_ERROR, msg);
					return 0;
				}
				if (c->row_ready)
					break;
				return 0;
			}
			continue;
		}
		s = c->utf + c->utf_pos;
		n = c->utf_len - c->utf_pos;
		e = memchr(s, term, n);
		if (!e) {
			/* partial line: keep it for the next chunk */
			if (!c->carry_overflow &&
			    pim_buf_add(&c->carry, s, n) == PIM_ELIMIT)
				c->carry_overflow = 1;
			c->utf_pos = c->utf_len;
			continue;
		}
		n = (size_t)(e - s) + 1;
		c->utf_pos += n;
		if (c->carry.len || c->carry_overflow) {
			if (c->carry_overflow) {
				report(c, c->line, 0, "field-too-large",
				       PIM_SEV_ERROR, "line too long; skipped");
				c->carry_overflow = 0;
				pim_buf_clear(&c->carry);
				c->line++;
				if (restart_parser(c))
					return PIM_ENOMEM;
				continue;
			}
			rc = pim_buf_add(&c->carry, s, n);
			if (rc == PIM_ELIMIT) {
				report(c, c->line, 0, "row-too-large",
				       PIM_SEV_ERROR, "line too long; skipped");
				pim_buf_clear(&c->carry);
				c->line++;
				if (restart_parser(c))
					return PIM_ENOMEM;
				continue;
			}
			if (rc)
				return PIM_ENOMEM;
			rc = feed_line(c, c->carry.data, c->carry.len, 1);
			pim_buf_clear(&c->carry);
		} else {
			rc = feed_line(c, s, n, 1);
		}
		if (rc)
			return rc;
	}
	if (c->too_many == 1 || c->too_many == 3) {
		char msg[120];
		if (c->too_many == 1)
			snprintf(msg, sizeof msg,
				 "the row has more than %d fields; skipped",
				 PIM_CSV_MAX_COLUMNS);
		else
			snprintf(msg, sizeof msg,
				 "the row is larger than %zu bytes; skipped",
				 c->data.max);
		report(c, c->row_line, 0,
		       c->too_many == 1 ? "too-many-fields" : "row-too-large",
		       PIM_SEV_ERROR, msg);
		reset_row(c);
		return 2; /* skipped: read on */
	}
	for (size_t i = 0; i < c->row.n; i++)
		c->row.field[i] = c->data.data + c->offs[i];
	c->row.line = c->row_line;
	*row = &c->row;
	return 1;
}

size_t pim_csv_pieces(pim_csv *c)
{
	unsigned k = 0;

	/* the first reader has read ahead: the pieces it has reached are
	 * its own */
	while (k < c->n_cuts && c->cut_off[k] < c->pos)
		k++;
	if (k == c->n_cuts || c->end < c->file_end)
		return 1;
	c->end = c->cut_off[k];
	/* keep the cuts from k on; piece 0 is the reader's own */
	memmove(c->cut_off, c->cut_off + k, (c->n_cuts - k) * sizeof c->cut_off[0]);
	memmove(c->cut_line, c->cut_line + k,
		(c->n_cuts - k) * sizeof c->cut_line[0]);
	c->n_cuts -= k;
	return (size_t)c->n_cuts + 1;
}

int pim_csv_reader(pim_csv *c, pim_csv **out, pim_diag_fn diag, void *ctx)
{
	pim_csv *n;

	*out = NULL;
	n = pim_calloc_lines(1, sizeof *n);
	if (!n)
		return PIM_ENOMEM;
	n->fd = -1;
	n->cd = (iconv_t)-1;
	n->name = c->name;
	n->d = c->d;
	n->size = c->size;
	n->diag = diag;
	n->ctx = ctx;
	n->max_field = c->max_field;
	n->eof = 1; /* nothing to read until pim_csv_seek_piece */
	n->finished = 1;
	n->n_cuts = c->n_cuts;
	memcpy(n->cut_off, c->cut_off, sizeof n->cut_off);
	memcpy(n->cut_line, c->cut_line, sizeof n->cut_line);
	n->file_end = c->file_end;
	pim_buf_init(&n->carry, 4 * n->max_field + CHUNK);
	pim_buf_init(&n->data, 4 * n->max_field + CHUNK);
	n->raw = pim_malloc(CHUNK + 8);
	n->utf = pim_malloc(3 * CHUNK + 16);
	n->fd = dup(c->fd);
	if (!n->raw || !n->utf || n->fd < 0)
		goto fail;
	if (n->d.encoding != PIM_ENC_UTF8) {
		n->cd = open_iconv(n->d.encoding);
		if (n->cd == (iconv_t)-1)
			goto fail;
	}
	if (parser_init(n))
		goto fail;
	*out = n;
	return 0;
fail:
	pim_csv_close(n);
	return PIM_ENOMEM;
}

int pim_csv_seek_piece(pim_csv *c, size_t i)
{
	if (i < 1 || i > c->n_cuts)
		return PIM_EINVALID;
	c->pos = c->cut_off[i - 1];
	c->line = c->cut_line[i - 1];
	c->end = i < c->n_cuts ? c->cut_off[i] : c->file_end;
	c->eof = 0;
	c->finished = 0;
	c->first_chunk = 0;
	c->raw_len = 0;
	c->utf_len = c->utf_pos = 0;
	c->carry_overflow = 0;
	c->skip_quote = 0;
	pim_buf_clear(&c->carry);
	if (c->cd != (iconv_t)-1)
		iconv(c->cd, NULL, NULL, NULL, NULL);
	return restart_parser(c);
}

int pim_csv_next(pim_csv *c, pim_csv_row **row)
{
	int rc;
	while ((rc = next_row(c, row)) == 2)
		;
	return rc;
}

void pim_csv_close(pim_csv *c)
{
	if (!c)
		return;
	if (c->p_ready)
		csv_free(&c->p);
	if (c->cd != (iconv_t)-1)
		iconv_close(c->cd);
	if (c->fd > 0)
		close(c->fd);
	pim_free(c->raw);
	pim_free(c->utf);
	pim_buf_free(&c->carry);
	pim_buf_free(&c->data);
	pim_free(c->offs);
	pim_free(c->row.len);
	pim_free(c->row.field);
	pim_free(c);
}
