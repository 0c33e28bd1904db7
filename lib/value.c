/*
 * value.c - value parsers for every schema type. Each parser is strict (a
 * value is either clearly valid or reported with a reason) but accepts what
 * spreadsheets write: decimal comma, thousands separators, the Unicode
 * minus, dd.mm.yyyy dates, ja/nei booleans, unit and currency suffixes.
 */
#include "value.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int fail(pim_value_err *e, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(pim_value_err *e, const char *code, const char *fmt, ...)
{
	va_list ap;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return 1;
}

static int nul_fail(pim_value_err *err)
{
	return fail(err, "nul-byte", "the value has a NUL byte");
}

/*
 * Word-at-a-time byte tests. Only "is there such a byte in the word" is
 * asked, which these answer exactly: a borrow crosses into the next byte
 * only from a byte that is itself below n.
 */
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

static inline uint64_t load64(const char *p)
{
	uint64_t w;
	memcpy(&w, p, sizeof w); /* one unaligned load */
	return w;
}

/* Nonzero when a byte of w is below n (n <= 128). */
static inline uint64_t bytes_below(uint64_t w, unsigned n)
{
	return (w - ONES * n) & ~w & HIGHS;
}

/*
 * In the loops below, a value of 8 bytes or more ends with one word that
 * overlaps bytes already seen, instead of a byte at a time.
 */
static int has_nul(const char *s, size_t len)
{
	size_t i = 0;
	if (len >= 8) {
		for (; i + 8 <= len; i += 8)
			if (bytes_below(load64(s + i), 1))
				return 1;
		return i < len && bytes_below(load64(s + len - 8), 1);
	}
	for (; i < len; i++)
		if (!s[i])
			return 1;
	return 0;
}

static int is_ascii(const char *s, size_t len)
{
	size_t i = 0;
	if (len >= 8) {
		for (; i + 8 <= len; i += 8)
			if (load64(s + i) & HIGHS)
				return 0;
		return i == len || !(load64(s + len - 8) & HIGHS);
	}
	for (; i < len; i++)
		if ((unsigned char)s[i] & 0x80)
			return 0;
	return 1;
}

/* A word of text needing no look: no control byte, no DEL, and no space
 * when `low` is 0x21 (identifiers). */
static inline int text_word_ok(uint64_t w, unsigned low)
{
	return !(bytes_below(w, low) | bytes_below(w ^ (ONES * 0x7F), 1));
}

/* The offset of the first byte of a text value that parse_text has to look
 * at (a control byte, DEL, or a space in an identifier), or len. */
static size_t text_clean(const char *s, size_t len, int ident)
{
	unsigned low = ident ? 0x21 : 0x20;
	size_t i = 0;

	for (; i + 8 <= len; i += 8)
		if (!text_word_ok(load64(s + i), low))
			break;
	if (i < len && i + 8 > len && len >= 8 &&
	    text_word_ok(load64(s + len - 8), low))
		return len;
	for (; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < low || c == 0x7F)
			break;
	}
	return i;
}

/* memcpy for the few bytes of a value, as plain moves: a call to the
 * library's memcpy costs more than such a copy. */
static inline void copy_short(char *d, const char *s, size_t n)
{
	if (n >= 8) {
		if (n > 16) {
			memcpy(d, s, n);
			return;
		}
		memcpy(d, s, 8);
		memcpy(d + n - 8, s + n - 8, 8);
	} else if (n >= 4) {
		memcpy(d, s, 4);
		memcpy(d + n - 4, s + n - 4, 4);
	} else if (n) {
		d[0] = s[0];
		d[n / 2] = s[n / 2];
		d[n - 1] = s[n - 1];
	}
}

/*
 * Puts s in b as pim_buf_clear + pim_buf_add would, without the calls when
 * it fits; when it does not, those calls grow it exactly as before.
 */
static inline int buf_set(pim_buf *b, const char *s, size_t n)
{
	if (n < b->cap) {
		copy_short(b->data, s, n);
		b->data[n] = '\0';
		b->len = n;
		return 0;
	}
	pim_buf_clear(b);
	return pim_buf_add(b, s, n);
}

static int is_space_at(const char *s, size_t len, size_t i, size_t *w)
{
	unsigned char c = (unsigned char)s[i];
	if (c == ' ' || c == '\t') {
		*w = 1;
		return 1;
	}
	/* U+00A0 no-break space, U+202F narrow no-break space */
	if (c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] == 0xA0) {
		*w = 2;
		return 1;
	}
	if (c == 0xE2 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
	    (unsigned char)s[i + 2] == 0xAF) {
		*w = 3;
		return 1;
	}
	return 0;
}

static void trim_slow(const char **s, size_t *len)
{
	size_t w;
	while (*len && is_space_at(*s, *len, 0, &w)) {
		*s += w;
		*len -= w;
	}
	while (*len) {
		size_t i = *len - 1;
		unsigned char c = (unsigned char)(*s)[i];
		if (c == ' ' || c == '\t')
			(*len)--;
		else if (c == 0xA0 && *len >= 2 &&
			 (unsigned char)(*s)[i - 1] == 0xC2)
			*len -= 2;
		else if (c == 0xAF && *len >= 3 &&
			 (unsigned char)(*s)[i - 1] == 0x80 &&
			 (unsigned char)(*s)[i - 2] == 0xE2)
			*len -= 3;
		else
			break;
	}
}

/* Bytes that can start (1) or end (2) a space trim() cuts. */
static const unsigned char space_edge[256] = {
	['\t'] = 3, [' '] = 3, [0xC2] = 1, [0xE2] = 1, [0xA0] = 2, [0xAF] = 2,
};

static inline void trim(const char **s, size_t *len)
{
	/* most values neither start nor end with a space: nothing to do */
	if (*len && !(space_edge[(unsigned char)(*s)[0]] & 1) &&
	    !(space_edge[(unsigned char)(*s)[*len - 1]] & 2))
		return;
	trim_slow(s, len);
}

/*
 * A decimal number as read by scan_decimal, kept as its canonical text
 * "[-]digits[.digits]": the integer part without leading zeros ("0" when
 * nothing is left) starts at t[NUM_AT]; the two bytes before it are room
 * for a carry digit and the sign, so rounding works in place.
 */
#define NUM_AT 2

typedef struct decnum {
	char t[104];
	size_t il, fl;  /* integer and fraction digits */
	int neg;        /* a minus sign was given */
	int nonzero;    /* some digit is not 0 */
} decnum;

static int scan_general(decnum *n, const char *s, size_t len, char dec,
			double *val);

static const double p10[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5, 1e6,
			      1e7,  1e8,  1e9,  1e10, 1e11, 1e12, 1e13,
			      1e14, 1e15, 1e16, 1e17, 1e18 };

/*
 * Reads a decimal number. Accepts a sign (+, -, U+2212), thousands
 * separators (spaces, and the other of . and , when grouping is
 * consistent), and one decimal separator. Returns 0 or 1 (not a number).
 */
static int scan_decimal(decnum *n, const char *s, size_t len, char dec,
			double *val)
{
	unsigned long long mant = 0;
	size_t i = 0, t = NUM_AT, f0;
	unsigned nz = 0;

	/* the usual shape in one pass: digits, maybe a fraction, no sign
	 * or group, at most 18 digits (so the mantissa is exact); anything
	 * else goes to scan_general, which reads this shape the same way */
	if (len > 18)
		return scan_general(n, s, len, dec, val);
	for (; i < len && (unsigned char)(s[i] - '0') < 10; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		mant = mant * 10 + d;
		nz |= d;
		n->t[t] = s[i];
		t += t > NUM_AT || d; /* leading zeros are not kept */
	}
	if (i == 0)
		return scan_general(n, s, len, dec, val);
	if (t == NUM_AT)
		n->t[t++] = '0';
	n->il = t - NUM_AT;
	f0 = i;
	if (i < len) {
		if (s[i] != dec || i + 1 == len)
			return scan_general(n, s, len, dec, val);
		n->t[t++] = '.';
		for (f0 = ++i; i < len && (unsigned char)(s[i] - '0') < 10;
		     i++) {
			unsigned d = (unsigned)(s[i] - '0');
			mant = mant * 10 + d;
			nz |= d;
			n->t[t++] = s[i];
		}
		if (i < len)
			return scan_general(n, s, len, dec, val);
	}
	n->fl = i - f0;
	n->neg = 0;
	n->nonzero = nz != 0;
	if (val)
		*val = (double)mant / p10[n->fl];
	return 0;
}

/* scan_decimal for any input. */
static int scan_general(decnum *n, const char *s, size_t len, char dec,
			double *val)
{
	size_t t = NUM_AT, i = 0, w;
	char grp = dec == ',' ? '.' : ',';
	int neg = 0, digits = 0, seen_dec = 0, frac = 0, nonzero = 0;
	int group_len = -1; /* digits since the last group separator */
	int grouped = 0;
	unsigned long long mant = 0;

	if (len == 0 || len > 60)
		return 1;
	if (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-';
		i = 1;
	} else if (len >= 3 && (unsigned char)s[0] == 0xE2 &&
		   (unsigned char)s[1] == 0x88 && (unsigned char)s[2] == 0x92) {
		neg = 1; /* U+2212 MINUS SIGN */
		i = 3;
	}
	for (; i < len; i++) {
		char c = s[i];
		if (c >= '0' && c <= '9') {
			/* canonical: no leading zeros in the integer part
			 * (after the separator t is past NUM_AT) */
			if (c != '0')
				nonzero = 1;
			if (t > NUM_AT || c != '0')
				n->t[t++] = c;
			if (digits < 19)
				mant = mant * 10 + (unsigned long long)(c - '0');
			digits++;
			if (seen_dec)
				frac++;
			else if (group_len >= 0)
				group_len++;
			continue;
		}
		if (c == dec && !seen_dec) {
			if (digits == 0 && !(i + 1 < len && s[i + 1] >= '0' &&
					     s[i + 1] <= '9'))
				return 1;
			if (grouped && group_len != 3)
				return 1;
			if (t == NUM_AT)
				n->t[t++] = '0';
			n->il = t - NUM_AT;
			n->t[t++] = '.';
			seen_dec = 1;
			continue;
		}
		if (!seen_dec && digits > 0 &&
		    (c == grp || is_space_at(s, len, i, &w))) {
			if (c != grp)
				i += w - 1;
			/* a group separator: the previous group had 1-3
			 * digits (first) or exactly 3 */
			if (grouped ? group_len != 3 : digits > 3)
				return 1;
			/* "0,500" is not five hundred */
			if (!grouped && s[i - 1] == '0' && digits == 1)
				return 1;
			grouped = 1;
			group_len = 0;
			continue;
		}
		return 1;
	}
	if (digits == 0 || (grouped && group_len != 3 && !seen_dec))
		return 1;
	if (seen_dec && frac == 0)
		return 1;
	if (!seen_dec) {
		if (t == NUM_AT)
			n->t[t++] = '0';
		n->il = t - NUM_AT;
	}
	n->fl = (size_t)frac;
	n->neg = neg;
	n->nonzero = nonzero;
	if (val) {
		if (digits <= 18 && frac <= 18) {
			*val = (double)mant / p10[frac] * (neg ? -1 : 1);
		} else {
			/* strtod reads the canonical text, with the sign
			 * even of a zero */
			char tmp[80];
			size_t k = 0, tl = n->il + (n->fl ? n->fl + 1 : 0);
			if (neg)
				tmp[k++] = '-';
			memcpy(tmp + k, n->t + NUM_AT, tl);
			tmp[k + tl] = '\0';
			*val = strtod(tmp, NULL);
		}
	}
	return 0;
}

/* Rewrites canonical decimal text to `dec` fraction digits, rounding half
 * away from zero on the digits themselves (no binary floating point), or
 * strips trailing zeros when dec < 0. */
static int fix_decimals(pim_buf *b, int dec)
{
	char *dot = strchr(b->data, '.');
	char digits[96], tmp[100];
	size_t intlen, fl, nd, k = 0;
	int neg, up, allzero = 1;
	const char *p, *frac;

	if (dec < 0) {
		if (dot) {
			size_t n = b->len;
			while (n > 0 && b->data[n - 1] == '0')
				n--;
			if (b->data[n - 1] == '.')
				n--;
			b->len = n;
			b->data[n] = '\0';
		}
		if (!strcmp(b->data, "-0")) {
			pim_buf_clear(b);
			return pim_buf_adds(b, "0");
		}
		return 0;
	}
	neg = b->data[0] == '-';
	p = b->data + neg;
	intlen = dot ? (size_t)(dot - p) : strlen(p);
	frac = dot ? dot + 1 : "";
	fl = strlen(frac);
	if (intlen + (size_t)dec + 2 >= sizeof digits)
		return PIM_ELIMIT;
	memcpy(digits, p, intlen);
	nd = intlen;
	for (int i = 0; i < dec; i++)
		digits[nd++] = (size_t)i < fl ? frac[i] : '0';
	up = fl > (size_t)dec && frac[dec] >= '5';
	if (up) {
		size_t i = nd;
		while (i > 0 && digits[i - 1] == '9')
			digits[--i] = '0';
		if (i == 0) {
			memmove(digits + 1, digits, nd);
			digits[0] = '1';
			nd++;
			intlen++;
		} else {
			digits[i - 1]++;
		}
	}
	for (size_t i = 0; i < nd; i++)
		if (digits[i] != '0')
			allzero = 0;
	if (neg && !allzero)
		tmp[k++] = '-';
	memcpy(tmp + k, digits, intlen);
	k += intlen;
	if (dec > 0) {
		tmp[k++] = '.';
		memcpy(tmp + k, digits + intlen, (size_t)dec);
		k += (size_t)dec;
	}
	pim_buf_clear(b);
	return pim_buf_add(b, tmp, k);
}

/* The canonical text of n. */
static const char *dec_text(decnum *n, size_t *len)
{
	int sign = n->neg && n->nonzero;

	n->t[NUM_AT - 1] = '-';
	*len = (size_t)sign + n->il + (n->fl ? n->fl + 1 : 0);
	return n->t + NUM_AT - sign;
}

static int put_canon(pim_buf *out, decnum *n)
{
	size_t len;
	const char *c = dec_text(n, &len);
	return buf_set(out, c, len) ? -1 : 0;
}

/*
 * Puts n in out as fix_decimals(places) rewrites its canonical text
 * (places < 0: trailing zeros of the fraction cut), working on the digits
 * in place by the same rules. out grows as it did when the canonical text
 * went in first. Returns 0 or a negative code.
 */
static int put_number(pim_buf *out, decnum *n, int places)
{
	size_t clen, k, b = NUM_AT, il = n->il, fl = n->fl, dot;
	const char *c = dec_text(n, &clen);
	char *t = n->t;
	int sign = n->neg && n->nonzero;

	if (places > 30) { /* never from a schema: the general way */
		if (buf_set(out, c, clen))
			return -1;
		return fix_decimals(out, places);
	}
	if (clen >= out->cap) {
		pim_buf_clear(out);
		if (pim_buf_add(out, c, clen))
			return -1;
	}
	dot = b + il;
	if (places < 0) {
		/* a nonzero digit remains, so the sign stays */
		while (fl && t[dot + fl] == '0')
			fl--;
		k = il + (fl ? fl + 1 : 0);
	} else {
		size_t p = (size_t)places;
		if (fl <= p) {
			/* zeros added: the digits, and so the sign, stay */
			if (p) {
				t[dot] = '.';
				for (size_t i = fl; i < p; i++)
					t[dot + 1 + i] = '0';
			}
		} else if (t[dot + 1 + p] >= '5') {
			/* half away from zero; the result is not zero */
			size_t j = p ? dot + p : dot - 1;
			for (;;) {
				if (j == dot) {
					j--;
				} else if (t[j] != '9') {
					t[j]++;
					break;
				} else if (j == b) {
					t[j] = '0';
					t[--b] = '1';
					il++;
					break;
				} else {
					t[j--] = '0';
				}
			}
		} else if (il == 1 && t[b] == '0') {
			/* cut: no sign when all the digits kept are zero */
			size_t i = 0;
			while (i < p && t[dot + 1 + i] == '0')
				i++;
			if (i == p)
				sign = 0;
		}
		k = il + (p ? p + 1 : 0);
	}
	if (sign) {
		t[--b] = '-';
		k++;
	}
	return buf_set(out, t + b, k) ? -1 : 0;
}

static int looks_scientific(const char *s, size_t len)
{
	int e = 0, d = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == 'E' || s[i] == 'e')
			e++;
		else if (s[i] >= '0' && s[i] <= '9')
			d++;
		else if (!strchr(".,+-", s[i]))
			return 0;
	}
	return e == 1 && d > 0;
}

static void show(char *dst, size_t cap, const char *s, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

static int check_range(pim_value_err *err, const pim_attr *a, double v,
		       const char *canon)
{
	if (a->has_min && v < a->min)
		return fail(err, "min", "%s is below the minimum %s", canon,
			    a->min_text);
	if (a->has_max && v > a->max)
		return fail(err, "max", "%s is above the maximum %s", canon,
			    a->max_text);
	return 0;
}

int pim_gtin_check_digit(const char *d, size_t n)
{
	int sum = 0;
	size_t i = 0;
	/* weights 3,1,3,... from the right of the body, two at a time */
	for (; i + 1 < n; i += 2)
		sum += 3 * (d[n - 1 - i] - '0') + (d[n - 2 - i] - '0');
	if (i < n)
		sum += 3 * (d[n - 1 - i] - '0');
	return (10 - sum % 10) % 10;
}

static int parse_gtin(pim_buf *out, pim_value_err *err, const char *s,
		      size_t len)
{
	size_t i = 0;

	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i < len) {
		/* scientific notation has a non-digit, so all-digit values
		 * need not be asked; a NUL byte is a non-digit too */
		if (has_nul(s, len))
			return nul_fail(err);
		if (looks_scientific(s, len))
			return fail(err, "gtin-scientific",
				    "a GTIN in scientific notation (a "
				    "spreadsheet rounded it); the digits are "
				    "lost, export the column as text");
		return fail(err, "not-a-gtin", "a GTIN has only digits");
	}
	if (len != 8 && len != 12 && len != 13 && len != 14)
		return fail(err, "gtin-length",
			    "a GTIN has 8, 12, 13 or 14 digits, not %zu", len);
	{
		int want = pim_gtin_check_digit(s, len - 1);
		if (s[len - 1] - '0' != want)
			return fail(err, "gtin-check-digit",
				    "GTIN check digit is %c, expected %d",
				    s[len - 1], want);
	}
	return buf_set(out, s, len) ? -1 : 0;
}

static int parse_date(pim_buf *out, pim_value_err *err, const char *s,
		      size_t len, int dmy)
{
	char iso[11];
	long ymd;

	if (len == 10 && s[4] == '-') {
		memcpy(iso, s, 10);
	} else if (dmy && len == 10 && (s[2] == '.' || s[2] == '/') &&
		   s[5] == s[2]) {
		memcpy(iso, s + 6, 4);
		iso[4] = '-';
		memcpy(iso + 5, s + 3, 2);
		iso[7] = '-';
		memcpy(iso + 8, s, 2);
	} else {
		return fail(err, "date",
			    "not a date (YYYY-MM-DD or DD.MM.YYYY)");
	}
	iso[10] = '\0';
	ymd = pim_date_ymd(iso, 10);
	if (ymd < 0)
		return fail(err, "date", "no such date");
	return buf_set(out, iso, 10) ? -1 : 0;
}

static int parse_bool(pim_buf *out, pim_value_err *err, const char *s,
		      size_t len)
{
	static const char *yes[] = { "true", "yes", "ja", "1", "x", "y", "j",
				     "sant", NULL };
	static const char *no[] = { "false", "no", "nei", "0", "n", "usant",
				    NULL };
	char v[16];

	if (len < sizeof v) {
		show(v, sizeof v, s, len);
		for (int i = 0; yes[i]; i++)
			if (pim_strcaseeq(v, yes[i]))
				return buf_set(out, "true", 4) ? -1 : 0;
		for (int i = 0; no[i]; i++)
			if (pim_strcaseeq(v, no[i]))
				return buf_set(out, "false", 5) ? -1 : 0;
	}
	return fail(err, "boolean",
		    "not a yes/no value (true/false, yes/no, ja/nei, 1/0, x)");
}

static inline unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* The option that s names, ignoring ASCII case. The option's end is found
 * while comparing: it matches when it ends exactly at len. */
static const char *match_option(const pim_attr *a, const char *s, size_t len)
{
	for (size_t i = 0; i < a->n_options; i++) {
		const char *o = a->options[i];
		size_t k;
		/* lower() changes only bit 0x20: bytes differing elsewhere
		 * cannot match */
		if (len && ((unsigned char)(o[0] ^ s[0]) & ~0x20))
			continue;
		for (k = 0; k < len; k++) {
			unsigned char x = (unsigned char)o[k];
			unsigned char y = (unsigned char)s[k];
			if (x == y && x)
				continue;
			if (!x || lower(x) != lower(y))
				break;
		}
		if (k == len && !o[len])
			return o;
	}
	return NULL;
}

static int option_fail(pim_value_err *err, const pim_attr *a)
{
	char list[160];
	size_t used = 0;

	list[0] = '\0';
	for (size_t i = 0; i < a->n_options && used + 20 < sizeof list; i++)
		used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
					 i ? ", " : "", a->options[i]);
	if (used + 20 >= sizeof list)
		snprintf(list + used, sizeof list - used, ", ...");
	return fail(err, "option", "not one of %s", list);
}

/*
 * Checks text: encoding, control characters, length. The caller has found
 * that the bytes before `clean` need no look (see text_clean), and that the
 * value has no NUL byte.
 */
static inline int parse_text(pim_value_err *err, const pim_attr *a,
			     const char *s, size_t len, size_t clean,
			     int utf8_ok)
{
	size_t chars, i = clean;
	unsigned low = a->type == PIM_TYPE_IDENTIFIER ? 0x21 : 0x20;

	if (!utf8_ok) {
		size_t bad = pim_utf8_valid(s, len);
		if (bad != len)
			return fail(err, "encoding",
				    "invalid UTF-8 at byte %zu of the value",
				    bad + 1);
	}
	while (i < len) {
		unsigned char c;
		if (i + 8 <= len && text_word_ok(load64(s + i), low)) {
			i += 8;
			continue;
		}
		c = (unsigned char)s[i++];
		if (c > ' ' && c != 0x7F)
			continue;
		if (c == ' ') {
			if (a->type == PIM_TYPE_IDENTIFIER)
				return fail(err, "identifier",
					    "an identifier cannot contain spaces");
			continue;
		}
		if (c == 0)
			return fail(err, "nul-byte", "the value has a NUL byte");
		if (a->type == PIM_TYPE_TEXTAREA &&
		    (c == '\n' || c == '\r' || c == '\t'))
			continue;
		return fail(err, "control-char",
			    "control character 0x%02X in a %s value", c,
			    pim_type_name(a->type));
	}
	/* characters are never more than bytes: count only when it matters */
	if ((a->min_length > 0 && len >= (size_t)a->min_length) ||
	    (a->max_length >= 0 && len > (size_t)a->max_length)) {
		chars = pim_utf8_count(s, len);
		if (a->min_length >= 0 && chars < (size_t)a->min_length)
			return fail(err, "min-length",
				    "%zu characters, fewer than min_length %ld",
				    chars, a->min_length);
		if (a->max_length >= 0 && chars > (size_t)a->max_length)
			return fail(err, "max-length",
				    "%zu characters, more than max_length %ld",
				    chars, a->max_length);
	} else if (a->min_length > 0 && len < (size_t)a->min_length) {
		chars = pim_utf8_count(s, len);
		return fail(err, "min-length",
			    "%zu characters, fewer than min_length %ld", chars,
			    a->min_length);
	}
	if (a->type == PIM_TYPE_IDENTIFIER && a->max_length < 0 && len > 255)
		return fail(err, "max-length",
			    "an identifier has at most 255 bytes, not %zu", len);
	return 0;
}

static int parse_url(pim_value_err *err, const char *s, size_t len)
{
	size_t i, host;

	if (len > 7 && strncasecmp(s, "http://", 7) == 0)
		i = 7;
	else if (len > 8 && strncasecmp(s, "https://", 8) == 0)
		i = 8;
	else
		return fail(err, "url",
			    "not a web address (http:// or https://)");
	host = i;
	for (; i < len && s[i] != '/' && s[i] != '?' && s[i] != '#'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '-' || s[i] == ':'))
			return fail(err, "url", "bad host name in the web address");
	if (i == host || !memchr(s + host, '.', i - host))
		return fail(err, "url", "no host name in the web address");
	for (; i < len; i++)
		if ((unsigned char)s[i] <= ' ')
			return fail(err, "url", "a web address cannot contain spaces");
	return 0;
}

static int parse_email(pim_value_err *err, const char *s, size_t len)
{
	const char *at = memchr(s, '@', len);
	size_t local, dom;

	if (!at)
		return fail(err, "email", "not an e-mail address");
	local = (size_t)(at - s);
	dom = len - local - 1;
	if (local == 0 || dom < 3 || memchr(at + 1, '@', dom) ||
	    !memchr(at + 1, '.', dom) || at[1] == '.' || s[len - 1] == '.')
		return fail(err, "email", "not an e-mail address");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == ',' || s[i] == ';' ||
		    s[i] == '<' || s[i] == '>')
			return fail(err, "email",
				    "not an e-mail address");
	return 0;
}

/*
 * Rebuilds a category path in out. The caller has made out's capacity
 * larger than len, and the path is never longer than the value, so it is
 * written in place; out->len and the NUL follow each step, as they did.
 */
static int parse_category(pim_buf *out, pim_value_err *err, const char *s,
			  size_t len)
{
	size_t i = 0;
	char *d = out->data;

	while (len && s[len - 1] == '/')
		len--;
	while (i < len && s[i] == '/')
		i++;
	out->len = 0;
	d[0] = '\0';
	if (i == len)
		return fail(err, "category", "an empty category path");
	while (i < len) {
		size_t start = i;
		const char *seg;
		size_t sl;
		while (i < len && s[i] != '/')
			i++;
		seg = s + start;
		sl = i - start;
		trim(&seg, &sl);
		if (sl == 0)
			return fail(err, "category",
				    "empty level (//) in the category path");
		for (size_t k = 0; k < sl; k++)
			if ((unsigned char)seg[k] < 0x20)
				return fail(err, "category",
					    "control character in the category path");
		if (out->len) {
			d[out->len++] = '/';
			d[out->len] = '\0';
		}
		memcpy(d + out->len, seg, sl);
		out->len += sl;
		d[out->len] = '\0';
		i++;
	}
	return 0;
}

/* Splits "12.5 kg" / "NOK 12,50" into number and word. */
static inline int is_alpha(char c)
{
	return (unsigned char)(((unsigned char)c | 0x20) - 'a') < 26;
}

static inline void split_suffix(const char *s, size_t len,
				const char **num, size_t *nlen,
				const char **word, size_t *wlen)
{
	size_t i = 0, k;

	*word = NULL;
	*wlen = 0;
	*num = s;
	*nlen = len;
	/* leading letters: "NOK 12.50" */
	while (i < len && is_alpha(s[i]))
		i++;
	if (i > 0 && i < len) {
		*word = s;
		*wlen = i;
		*num = s + i;
		*nlen = len - i;
		trim(num, nlen);
		return;
	}
	/* a trailing word: "12.5 kg", "3 m2", "12,50NOK" */
	for (i = 0; i < len && !is_alpha(s[i]); i++)
		;
	if (i == 0 || i == len)
		return;
	for (k = i; k < len; k++)
		if (!is_alpha(s[k]) && !(s[k] >= '0' && s[k] <= '9'))
			return;
	*word = s + i;
	*wlen = len - i;
	*nlen = i;
	trim(num, nlen);
}

int pim_fixed(char *t, unsigned long long m, int neg, int d)
{
	char rev[48];
	int k = 0, n;

	/* digits from the right: d decimals, the point, the rest */
	for (int i = 0; i < d; i++, m /= 10)
		rev[k++] = (char)('0' + m % 10);
	if (d > 0)
		rev[k++] = '.';
	do {
		rev[k++] = (char)('0' + m % 10);
		m /= 10;
	} while (m);
	if (neg)
		rev[k++] = '-';
	for (n = 0; n < k; n++)
		t[n] = rev[k - 1 - n];
	t[n] = '\0';
	return n;
}

/* printf's "%.*f" of v for the common case, without its slow exact
 * path: when v * 10^prec is below 2^53 its product is within 1/8 of the
 * exact one, so a fraction clearly away from one half rounds the same.
 * 0 when the case is not a plain one. */
static int fixed_fast(char *t, double v, int prec)
{
	double r, q;

	if (prec < 0 || prec > 16)
		return 0;
	r = fabs(v) * p10[prec];
	if (!(r < 1e15))
		return 0;
	q = floor(r + 0.5);
	if (fabs(r - q) > 0.375 || (q == 0 && v < 0))
		return 0;
	return pim_fixed(t, (unsigned long long)q, v < 0, prec);
}

/* A converted amount with 15 significant digits, trailing zeros cut. */
static int format_amount(pim_buf *out, double v)
{
	char tmp[400];
	int mag, prec;

	if (!isfinite(v) || fabs(v) > 1e300)
		return 1;
	/* the digits before the point, as floor(log10(|v|)) + 1 */
	if (v != 0 && fabs(v) >= 1 && fabs(v) < 1e15) {
		for (mag = 1; mag < 16 && fabs(v) >= p10[mag]; mag++)
			;
	} else {
		mag = v != 0 ? (int)floor(log10(fabs(v))) + 1 : 1;
	}
	prec = 15 - mag;
	if (prec < 0)
		prec = 0;
	if (prec > 30)
		prec = 30;
	if (!fixed_fast(tmp, v, prec))
		snprintf(tmp, sizeof tmp, "%.*f", prec, v);
	pim_buf_clear(out);
	if (pim_buf_adds(out, tmp))
		return -1;
	return fix_decimals(out, -1) ? -1 : 0;
}

/* strcmp() == 0 for codes of a few letters, without the call. */
static inline int streq(const char *x, const char *y)
{
	while (*x && *x == *y) {
		x++;
		y++;
	}
	return *x == *y;
}

static int currency_allowed(const pim_attr *a, const char *cur)
{
	if (!a->n_currencies)
		return streq(cur, a->currency);
	for (size_t i = 0; i < a->n_currencies; i++)
		if (streq(a->currencies[i], cur))
			return 1;
	return 0;
}

/* One match block per thread, freed when the thread ends; the thread-local
 * pointer saves the key lookup on every match. */
static pthread_key_t md_key;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static _Thread_local pcre2_match_data *md_cache;

static void md_free(void *p)
{
	md_cache = NULL; /* a later destructor may still match */
	pcre2_match_data_free(p);
}

static void md_init(void)
{
	pthread_key_create(&md_key, md_free);
}

static pcre2_match_data *thread_match_data(void)
{
	pcre2_match_data *md = md_cache;

	if (md)
		return md;
	pthread_once(&md_once, md_init);
	md = pthread_getspecific(md_key);
	if (!md) {
		md = pcre2_match_data_create(8, NULL);
		if (md && pthread_setspecific(md_key, md) != 0) {
			pcre2_match_data_free(md);
			md = NULL;
		}
	}
	md_cache = md;
	return md;
}

/* Appends ' ' and w as pim_buf_addc + pim_buf_add would. */
static int put_suffix(pim_buf *b, const char *w, size_t n)
{
	if (b->len + 1 + n < b->cap) {
		b->data[b->len] = ' ';
		copy_short(b->data + b->len + 1, w, n);
		b->len += 1 + n;
		b->data[b->len] = '\0';
		return 0;
	}
	return pim_buf_addc(b, ' ') || pim_buf_add(b, w, n) ? -1 : 0;
}

/*
 * The types whose parsers take no NUL byte: a value they accept has none,
 * so it is looked for only when they refuse one, and then still reported
 * first, before anything is written to out.
 */
#define TYPE_BIT(t) (1u << (t))

static int nul_refused(pim_type t)
{
	return (unsigned)t < 32 &&
	       (TYPE_BIT(t) &
		(TYPE_BIT(PIM_TYPE_INTEGER) | TYPE_BIT(PIM_TYPE_NUMBER) |
		 TYPE_BIT(PIM_TYPE_PRICE) | TYPE_BIT(PIM_TYPE_MEASURE) |
		 TYPE_BIT(PIM_TYPE_SELECT) | TYPE_BIT(PIM_TYPE_GTIN)));
}

/* The types read by parse_text first. */
static int is_text_type(pim_type t)
{
	return (unsigned)t < 32 &&
	       (TYPE_BIT(t) &
		(TYPE_BIT(PIM_TYPE_IDENTIFIER) | TYPE_BIT(PIM_TYPE_TEXT) |
		 TYPE_BIT(PIM_TYPE_TEXTAREA) | TYPE_BIT(PIM_TYPE_URL) |
		 TYPE_BIT(PIM_TYPE_EMAIL) | TYPE_BIT(PIM_TYPE_CATEGORY)));
}

int pim_value_parse(pim_buf *out, pim_value_err *err, const pim_attr *a,
		    const char *in, size_t len, const pim_parse_opts *o)
{
	static const pim_parse_opts defaults = PIM_PARSE_OPTS_INIT;
	size_t clean = 0;
	decnum n;
	char dec;
	double num = 0;
	int rc;

	if (!o)
		o = &defaults;
	dec = o->decimal ? o->decimal : '.';
	err->code = NULL;
	err->msg[0] = '\0';

	/* text keeps its spaces; everything else is read trimmed */
	if (a->type != PIM_TYPE_TEXT && a->type != PIM_TYPE_TEXTAREA)
		trim(&in, &len);
	if (is_text_type(a->type)) {
		/* one pass finds where parse_text must start looking; a NUL
		 * byte can only be from there on */
		clean = text_clean(in, len, a->type == PIM_TYPE_IDENTIFIER);
		if (clean < len && memchr(in + clean, '\0', len - clean))
			return nul_fail(err);
	} else if (!nul_refused(a->type) && has_nul(in, len)) {
		return nul_fail(err);
	}

	switch (a->type) {
	case PIM_TYPE_IDENTIFIER:
	case PIM_TYPE_TEXT:
	case PIM_TYPE_TEXTAREA:
		if ((rc = parse_text(err, a, in, len, clean, o->utf8_ok)) == 0)
			rc = buf_set(out, in, len) ? -1 : 0;
		break;
	case PIM_TYPE_URL:
		if ((rc = parse_text(err, a, in, len, clean, o->utf8_ok)) == 0 &&
		    (rc = buf_set(out, in, len) ? -1 : 0) == 0)
			rc = parse_url(err, in, len);
		break;
	case PIM_TYPE_EMAIL:
		if ((rc = parse_text(err, a, in, len, clean, o->utf8_ok)) == 0 &&
		    (rc = buf_set(out, in, len) ? -1 : 0) == 0)
			rc = parse_email(err, in, len);
		break;
	case PIM_TYPE_CATEGORY:
		rc = parse_text(err, a, in, len, clean, o->utf8_ok);
		/* the path is rebuilt from the value at once, so the copy of
		 * the value is only made when out has to grow for it */
		if (rc == 0 && len >= out->cap)
			rc = buf_set(out, in, len) ? -1 : 0;
		if (rc == 0)
			rc = parse_category(out, err, in, len);
		break;
	case PIM_TYPE_INTEGER:
		if (scan_decimal(&n, in, len, dec, &num))
			return has_nul(in, len) ? nul_fail(err)
						: fail(err, "not-an-integer",
						       "not a whole number");
		if ((rc = put_number(out, &n, -1)))
			break;
		/* 12.0 is fine, 12.5 is not */
		for (size_t k = 0; k < n.fl; k++)
			if (n.t[NUM_AT + n.il + 1 + k] != '0')
				return fail(err, "not-an-integer",
					    "not a whole number");
		if (fabs(num) > 9.0e15)
			return fail(err, "max", "the number is too large");
		rc = check_range(err, a, num, out->data);
		break;
	case PIM_TYPE_NUMBER:
		if (scan_decimal(&n, in, len, dec, &num))
			return has_nul(in, len) ? nul_fail(err)
						: fail(err, "not-a-number",
						       "not a number");
		if ((rc = put_number(out, &n, a->decimals)) == 0)
			rc = check_range(err, a, num, out->data);
		break;
	case PIM_TYPE_PRICE: {
		const char *nump, *word;
		size_t nlen, wlen;
		char cur[4];
		split_suffix(in, len, &nump, &nlen, &word, &wlen);
		/* the amount first: "se nettside" is not a number, whatever
		 * its words look like */
		if (scan_decimal(&n, nump, nlen, dec, &num))
			return has_nul(in, len) ? nul_fail(err)
						: fail(err, "not-a-number",
						       "not an amount");
		if (word && wlen == 3) {
			for (int k = 0; k < 3; k++)
				cur[k] = (char)(word[k] >= 'a' && word[k] <= 'z'
							? word[k] - 32
							: word[k]);
			cur[3] = '\0';
		} else if (word && wlen == 2 &&
			   (word[0] == 'k' || word[0] == 'K') &&
			   (word[1] == 'r' || word[1] == 'R')) {
			memcpy(cur, "NOK", 4);
		} else if (word) {
			/* out holds the amount, as it always has here */
			if ((rc = put_canon(out, &n)))
				break;
			return fail(err, "currency", "unknown currency");
		} else {
			const char *c = o->currency ? o->currency : a->currency;
			memcpy(cur, c, 3);
			cur[3] = '\0';
		}
		if ((rc = put_number(out, &n, a->decimals >= 0 ? a->decimals
							       : 2)))
			break;
		if ((rc = check_range(err, a, num, out->data)))
			break;
		if (!currency_allowed(a, cur))
			return fail(err, "currency",
				    "%s is not a currency of this catalog", cur);
		rc = put_suffix(out, cur, 3);
		break;
	}
	case PIM_TYPE_MEASURE: {
		const char *nump, *word;
		size_t nlen, wlen;
		const pim_unit *from = o->unit ? o->unit : a->unit;
		split_suffix(in, len, &nump, &nlen, &word, &wlen);
		if (word == in)
			return has_nul(in, len)
				       ? nul_fail(err)
				       : fail(err, "not-a-number",
					      "not a number (the unit goes "
					      "after it)");
		if (scan_decimal(&n, nump, nlen, dec, &num))
			return has_nul(in, len) ? nul_fail(err)
						: fail(err, "not-a-number",
						       "not a number");
		if (!word && from && from == a->unit) {
			/* the usual case: already in the attribute's unit */
			if ((rc = put_number(out, &n, a->decimals)))
				break;
		} else {
			/* out holds the amount while the unit is looked at */
			if ((rc = put_canon(out, &n)))
				break;
			if (word) {
				char u[16];
				show(u, sizeof u, word, wlen);
				from = wlen < sizeof u ? pim_unit_find(u) : NULL;
				if (!from)
					return fail(err, "unit",
						    "unknown unit '%s'", u);
			}
			if (!from || !a->unit)
				return fail(err, "unit",
					    "no unit for this measure");
			if (from->dim != a->unit->dim)
				return fail(err, "unit",
					    "%s is a %s unit; %s needs %s",
					    from->code,
					    pim_dimension_name(from->dim),
					    a->code,
					    pim_dimension_name(a->unit->dim));
			if (from != a->unit) {
				num = num * from->factor / a->unit->factor;
				if ((rc = format_amount(out, num)) == 1)
					return fail(err, "max",
						    "the amount is too large");
				if (rc)
					break;
			}
			if ((rc = fix_decimals(out, a->decimals)))
				break;
		}
		if ((rc = check_range(err, a, num, out->data)))
			break;
		rc = put_suffix(out, a->unit->code, strlen(a->unit->code));
		break;
	}
	case PIM_TYPE_BOOLEAN:
		rc = parse_bool(out, err, in, len);
		break;
	case PIM_TYPE_DATE:
		rc = parse_date(out, err, in, len, o->dmy_dates);
		if (rc == 0 && (a->has_min || a->has_max))
			rc = check_range(err, a,
					 (double)pim_date_ymd(out->data, 10),
					 out->data);
		break;
	case PIM_TYPE_SELECT: {
		const char *opt = match_option(a, in, len);
		if (!opt)
			return has_nul(in, len) ? nul_fail(err)
						: option_fail(err, a);
		/* a matched option is len bytes long */
		rc = buf_set(out, opt, len) ? -1 : 0;
		break;
	}
	case PIM_TYPE_MULTISELECT: {
		size_t i = 0;
		pim_buf_clear(out);
		rc = 0;
		while (i <= len && rc == 0) {
			size_t start = i;
			const char *part, *opt;
			size_t pl;
			while (i < len && in[i] != ',' && in[i] != ';' &&
			       in[i] != '|')
				i++;
			part = in + start;
			pl = i - start;
			i++;
			trim(&part, &pl);
			if (pl == 0)
				continue;
			opt = match_option(a, part, pl);
			if (!opt)
				return option_fail(err, a);
			/* skip repeats */
			{
				size_t ol = strlen(opt);
				const char *p = out->data;
				int dupe = 0;
				while (p && *p) {
					const char *e = strchr(p, ',');
					size_t l = e ? (size_t)(e - p) : strlen(p);
					if (l == ol && !memcmp(p, opt, ol))
						dupe = 1;
					p = e ? e + 1 : p + l;
				}
				if (dupe)
					continue;
			}
			if ((out->len && pim_buf_addc(out, ',')) ||
			    pim_buf_adds(out, opt))
				rc = -1;
		}
		if (rc == 0 && out->len == 0)
			return fail(err, "option", "no option given");
		break;
	}
	case PIM_TYPE_GTIN:
		rc = parse_gtin(out, err, in, len);
		break;
	default:
		return fail(err, "type", "unknown type");
	}
	if (rc < 0)
		return PIM_ENOMEM;
	if (rc == 0 && a->re) {
		/* one match block per thread; only match or not matters, so
		 * a small ovector is enough (pcre2_match then returns 0) */
		pcre2_match_data *md = thread_match_data();
		int m = PCRE2_ERROR_JIT_BADOPTION;
		if (!md)
			return PIM_ENOMEM;
		/* ASCII is valid UTF-8, so what pcre2_match checks before it
		 * runs the JIT code can be skipped. Without JIT code,
		 * pcre2_jit_match says so and pcre2_match does it all. */
		if (out->data && is_ascii(out->data, out->len))
			m = pcre2_jit_match(a->re, (PCRE2_SPTR)out->data,
					    out->len, 0, 0, md, NULL);
		if (m == PCRE2_ERROR_JIT_BADOPTION)
			m = pcre2_match(a->re, (PCRE2_SPTR)out->data, out->len,
					0, 0, md, NULL);
		if (m < 0 && m != PCRE2_ERROR_NOMATCH &&
		    m != PCRE2_ERROR_PARTIAL)
			return fail(err, "pattern",
				    "the pattern cannot be matched (%d)", m);
		if (m == PCRE2_ERROR_NOMATCH)
			return fail(err, "pattern",
				    "does not match the pattern %s", a->pattern);
	}
	return rc;
}

/* Reads canonical "[-]digits[.digits]" quickly; strtod for the rest. */
static int canon_number(double *out, const char *s)
{
	unsigned long long m = 0;
	int neg = *s == '-', digits = 0, frac = -1;
	const char *p = s + neg;
	char *end;

	for (; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			m = m * 10 + (unsigned long long)(*p - '0');
			digits++;
			if (frac >= 0)
				frac++;
		} else if (*p == '.' && frac < 0) {
			frac = 0;
		} else {
			break;
		}
	}
	if (digits == 0)
		return 0;
	if (digits > 18 || frac > 18) {
		*out = strtod(s, &end);
		return end != s;
	}
	*out = (double)m / p10[frac < 0 ? 0 : frac];
	if (neg)
		*out = -*out;
	return 1;
}

int pim_value_number(double *out, const pim_attr *a, const char *canon)
{
	if (!canon || !*canon)
		return 0;
	if (a->type == PIM_TYPE_DATE) {
		long ymd = pim_date_ymd(canon, strlen(canon));
		if (ymd < 0)
			return 0;
		*out = (double)ymd;
		return 1;
	}
	if (a->type != PIM_TYPE_INTEGER && a->type != PIM_TYPE_NUMBER &&
	    a->type != PIM_TYPE_PRICE && a->type != PIM_TYPE_MEASURE)
		return 0;
	return canon_number(out, canon);
}

int pim_check_eval(const pim_schema *s, const pim_check *ck, const char *l,
		   const char *r)
{
	const pim_attr *la = &s->attrs[ck->left];
	double x, y;

	if (!pim_value_number(&x, la, l))
		return -1;
	if (ck->right_is_attr) {
		const pim_attr *ra = &s->attrs[ck->right];
		if (!pim_value_number(&y, ra, r))
			return -1;
		/* prices in different currencies cannot be compared */
		if (la->type == PIM_TYPE_PRICE) {
			const char *lc = strchr(l, ' '), *rc = strchr(r, ' ');
			if (lc && rc && strcmp(lc, rc) != 0)
				return -1;
		}
		/* measures are stored in their attribute's unit */
		if (la->type == PIM_TYPE_MEASURE && la->unit && ra->unit) {
			x *= la->unit->factor;
			y *= ra->unit->factor;
		}
		y *= ck->factor;
	} else {
		y = ck->constant;
	}
	switch (ck->op) {
	case CMP_LT: return x < y;
	case CMP_LE: return x <= y;
	case CMP_GT: return x > y;
	case CMP_GE: return x >= y;
	case CMP_EQ: return x == y;
	case CMP_NE: return x != y;
	}
	return -1;
}
