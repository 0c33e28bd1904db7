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

static void trim(const char **s, size_t *len)
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

/*
 * Parses a decimal number into canonical form "[-]digits[.digits]" in
 * `out`. Accepts a sign (+, -, U+2212), thousands separators (spaces, and
 * the other of . and , when grouping is consistent), and one decimal
 * separator. Returns 0 or 1 (not a number).
 */
static int parse_decimal(pim_buf *out, const char *s, size_t len, char dec,
			 double *val)
{
	char tmp[80];
	size_t t = 0, i = 0, w;
	char grp = dec == ',' ? '.' : ',';
	int neg = 0, digits = 0, seen_dec = 0, frac = 0;
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
	if (neg)
		tmp[t++] = '-';
	for (; i < len; i++) {
		char c = s[i];
		if (c >= '0' && c <= '9') {
			tmp[t++] = c;
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
			if (digits == 0)
				tmp[t++] = '0';
			tmp[t++] = '.';
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
	tmp[t] = '\0';
	/* canonical: strip leading zeros of the integer part */
	{
		char *p = tmp + neg;
		while (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
			memmove(p, p + 1, strlen(p));
	}
	if (val) {
		static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5,
					      1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
					      1e12, 1e13, 1e14, 1e15, 1e16,
					      1e17, 1e18 };
		if (digits <= 18 && frac <= 18)
			*val = (double)mant / p10[frac] * (neg ? -1 : 1);
		else
			*val = strtod(tmp, NULL); /* tmp has the sign */
	}
	if (strcmp(tmp, "-0") == 0 || (neg && strspn(tmp + 1, "0.") ==
						      strlen(tmp + 1)))
		memmove(tmp, tmp + 1, strlen(tmp)); /* no negative zero */
	pim_buf_clear(out);
	return pim_buf_adds(out, tmp) ? -1 : 0;
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
	/* weights 3,1,3,... from the right of the body */
	for (size_t i = 0; i < n; i++) {
		int digit = d[n - 1 - i] - '0';
		sum += digit * ((i % 2 == 0) ? 3 : 1);
	}
	return (10 - sum % 10) % 10;
}

static int parse_gtin(pim_buf *out, pim_value_err *err, const char *s,
		      size_t len)
{
	if (looks_scientific(s, len))
		return fail(err, "gtin-scientific",
			    "a GTIN in scientific notation (a "
			    "spreadsheet rounded it); the digits are lost, "
			    "export the column as text");
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return fail(err, "not-a-gtin",
				    "a GTIN has only digits");
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
	pim_buf_clear(out);
	return pim_buf_add(out, s, len) ? -1 : 0;
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
		char v[64];
		show(v, sizeof v, s, len);
		return fail(err, "date",
			    "not a date (YYYY-MM-DD or DD.MM.YYYY)");
	}
	iso[10] = '\0';
	ymd = pim_date_ymd(iso, 10);
	if (ymd < 0) {
		char v[64];
		show(v, sizeof v, s, len);
		return fail(err, "date", "no such date");
	}
	pim_buf_clear(out);
	return pim_buf_add(out, iso, 10) ? -1 : 0;
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
			if (pim_strcaseeq(v, yes[i])) {
				pim_buf_clear(out);
				return pim_buf_adds(out, "true") ? -1 : 0;
			}
		for (int i = 0; no[i]; i++)
			if (pim_strcaseeq(v, no[i])) {
				pim_buf_clear(out);
				return pim_buf_adds(out, "false") ? -1 : 0;
			}
	}
	return fail(err, "boolean",
		    "not a yes/no value (true/false, yes/no, ja/nei, 1/0, x)");
}

static const char *match_option(const pim_attr *a, const char *s, size_t len)
{
	for (size_t i = 0; i < a->n_options; i++) {
		const char *o = a->options[i];
		size_t k;
		if (strlen(o) != len)
			continue;
		for (k = 0; k < len; k++) {
			unsigned char x = (unsigned char)o[k];
			unsigned char y = (unsigned char)s[k];
			if (x >= 'A' && x <= 'Z')
				x = (unsigned char)(x + 32);
			if (y >= 'A' && y <= 'Z')
				y = (unsigned char)(y + 32);
			if (x != y)
				break;
		}
		if (k == len)
			return o;
	}
	return NULL;
}

static int option_fail(pim_value_err *err, const pim_attr *a, const char *s,
		       size_t len)
{
	char v[64], list[160];
	size_t used = 0;

	show(v, sizeof v, s, len);
	list[0] = '\0';
	for (size_t i = 0; i < a->n_options && used + 20 < sizeof list; i++)
		used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
					 i ? ", " : "", a->options[i]);
	if (used + 20 >= sizeof list)
		snprintf(list + used, sizeof list - used, ", ...");
	return fail(err, "option", "not one of %s", list);
}

static int parse_text(pim_buf *out, pim_value_err *err, const pim_attr *a,
		      const char *s, size_t len, int utf8_ok)
{
	size_t chars;

	if (!utf8_ok) {
		size_t bad = pim_utf8_valid(s, len);
		if (bad != len)
			return fail(err, "encoding",
				    "invalid UTF-8 at byte %zu of the value",
				    bad + 1);
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
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
	pim_buf_clear(out);
	return pim_buf_add(out, s, len) ? -1 : 0;
}

static int parse_url(pim_value_err *err, const char *s, size_t len)
{
	size_t i, host;
	char v[80];

	show(v, sizeof v, s, len);
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
	char v[80];
	size_t local, dom;

	show(v, sizeof v, s, len);
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

static int parse_category(pim_buf *out, pim_value_err *err, const char *s,
			  size_t len)
{
	size_t i = 0;
	char v[80];

	show(v, sizeof v, s, len);
	while (len && s[len - 1] == '/')
		len--;
	while (i < len && s[i] == '/')
		i++;
	pim_buf_clear(out);
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
		if ((out->len && pim_buf_addc(out, '/')) ||
		    pim_buf_add(out, seg, sl))
			return -1;
		i++;
	}
	return 0;
}

/* Splits "12.5 kg" / "NOK 12,50" into number and word. */
static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void split_suffix(const char *s, size_t len, const char **num,
			 size_t *nlen, const char **word, size_t *wlen)
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

/* A converted amount with 15 significant digits, trailing zeros cut. */
static int format_amount(pim_buf *out, double v)
{
	char tmp[400];
	int mag = v != 0 ? (int)floor(log10(fabs(v))) + 1 : 1;
	int prec = 15 - mag;

	if (!isfinite(v) || fabs(v) > 1e300)
		return 1;
	if (prec < 0)
		prec = 0;
	if (prec > 30)
		prec = 30;
	snprintf(tmp, sizeof tmp, "%.*f", prec, v);
	pim_buf_clear(out);
	if (pim_buf_adds(out, tmp))
		return -1;
	return fix_decimals(out, -1) ? -1 : 0;
}

static int currency_allowed(const pim_attr *a, const char *cur)
{
	if (!a->n_currencies)
		return strcmp(cur, a->currency) == 0;
	for (size_t i = 0; i < a->n_currencies; i++)
		if (!strcmp(a->currencies[i], cur))
			return 1;
	return 0;
}

/* One match block per thread, freed when the thread ends. */
static pthread_key_t md_key;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void md_free(void *p)
{
	pcre2_match_data_free(p);
}

static void md_init(void)
{
	pthread_key_create(&md_key, md_free);
}

static pcre2_match_data *thread_match_data(void)
{
	pcre2_match_data *md;

	pthread_once(&md_once, md_init);
	md = pthread_getspecific(md_key);
	if (!md) {
		md = pcre2_match_data_create(8, NULL);
		if (md && pthread_setspecific(md_key, md) != 0) {
			pcre2_match_data_free(md);
			md = NULL;
		}
	}
	return md;
}

int pim_value_parse(pim_buf *out, pim_value_err *err, const pim_attr *a,
		    const char *in, size_t len, const pim_parse_opts *o)
{
	static const pim_parse_opts defaults = PIM_PARSE_OPTS_INIT;
	char dec, v[64];
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
	if (memchr(in, '\0', len))
		return fail(err, "nul-byte", "the value has a NUL byte");

	switch (a->type) {
	case PIM_TYPE_IDENTIFIER:
	case PIM_TYPE_TEXT:
	case PIM_TYPE_TEXTAREA:
		rc = parse_text(out, err, a, in, len, o->utf8_ok);
		break;
	case PIM_TYPE_URL:
		if ((rc = parse_text(out, err, a, in, len, o->utf8_ok)) == 0)
			rc = parse_url(err, in, len);
		break;
	case PIM_TYPE_EMAIL:
		if ((rc = parse_text(out, err, a, in, len, o->utf8_ok)) == 0)
			rc = parse_email(err, in, len);
		break;
	case PIM_TYPE_CATEGORY:
		if ((rc = parse_text(out, err, a, in, len, o->utf8_ok)) == 0)
			rc = parse_category(out, err, in, len);
		break;
	case PIM_TYPE_INTEGER:
		rc = parse_decimal(out, in, len, dec, &num);
		if (rc == 1 || (rc == 0 && strchr(out->data, '.'))) {
			show(v, sizeof v, in, len);
			if (rc == 0) {
				/* 12.0 is fine, 12.5 is not */
				fix_decimals(out, -1);
				if (!strchr(out->data, '.'))
					goto int_ok;
			}
			return fail(err, "not-an-integer",
				    "not a whole number");
		}
	int_ok:
		if (rc == 0 && fabs(num) > 9.0e15) {
			show(v, sizeof v, in, len);
			return fail(err, "max", "the number is too large");
		}
		if (rc == 0)
			rc = check_range(err, a, num, out->data);
		break;
	case PIM_TYPE_NUMBER:
		rc = parse_decimal(out, in, len, dec, &num);
		if (rc == 1) {
			show(v, sizeof v, in, len);
			return fail(err, "not-a-number", "not a number");
		}
		if (rc == 0 && (rc = fix_decimals(out, a->decimals)) == 0)
			rc = check_range(err, a, num, out->data);
		break;
	case PIM_TYPE_PRICE: {
		const char *nump, *word;
		size_t nlen, wlen;
		char cur[4];
		split_suffix(in, len, &nump, &nlen, &word, &wlen);
		/* the amount first: "se nettside" is not a number, whatever
		 * its words look like */
		rc = parse_decimal(out, nump, nlen, dec, &num);
		if (rc == 1)
			return fail(err, "not-a-number", "not an amount");
		if (rc)
			break;
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
			return fail(err, "currency", "unknown currency");
		} else {
			const char *c = o->currency ? o->currency : a->currency;
			memcpy(cur, c, 3);
			cur[3] = '\0';
		}
		if ((rc = fix_decimals(out, a->decimals >= 0 ? a->decimals
							     : 2)))
			break;
		if ((rc = check_range(err, a, num, out->data)))
			break;
		if (!currency_allowed(a, cur))
			return fail(err, "currency",
				    "%s is not a currency of this catalog", cur);
		rc = pim_buf_addc(out, ' ') || pim_buf_add(out, cur, 3) ? -1 : 0;
		break;
	}
	case PIM_TYPE_MEASURE: {
		const char *nump, *word;
		size_t nlen, wlen;
		const pim_unit *from = o->unit ? o->unit : a->unit;
		split_suffix(in, len, &nump, &nlen, &word, &wlen);
		if (word == in)
			return fail(err, "not-a-number",
				    "not a number (the unit goes after it)");
		rc = parse_decimal(out, nump, nlen, dec, &num);
		if (rc == 1)
			return fail(err, "not-a-number", "not a number");
		if (rc)
			break;
		if (word) {
			char u[16];
			show(u, sizeof u, word, wlen);
			from = wlen < sizeof u ? pim_unit_find(u) : NULL;
			if (!from)
				return fail(err, "unit", "unknown unit '%s'", u);
		}
		if (!from || !a->unit)
			return fail(err, "unit", "no unit for this measure");
		if (from->dim != a->unit->dim)
			return fail(err, "unit", "%s is a %s unit; %s needs %s",
				    from->code, pim_dimension_name(from->dim),
				    a->code, pim_dimension_name(a->unit->dim));
		if (from != a->unit) {
			num = num * from->factor / a->unit->factor;
			if ((rc = format_amount(out, num)) == 1)
				return fail(err, "max", "the amount is too large");
			if (rc)
				break;
		}
		if ((rc = fix_decimals(out, a->decimals)))
			break;
		if ((rc = check_range(err, a, num, out->data)))
			break;
		rc = pim_buf_addc(out, ' ') || pim_buf_adds(out, a->unit->code)
			     ? -1
			     : 0;
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
			return option_fail(err, a, in, len);
		pim_buf_clear(out);
		rc = pim_buf_adds(out, opt) ? -1 : 0;
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
				return option_fail(err, a, part, pl);
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
		int m;
		if (!md)
			return PIM_ENOMEM;
		m = pcre2_match(a->re, (PCRE2_SPTR)out->data, out->len, 0, 0, md,
				NULL);
		if (m < 0 && m != PCRE2_ERROR_NOMATCH &&
		    m != PCRE2_ERROR_PARTIAL)
			return fail(err, "pattern",
				    "the pattern cannot be matched (%d)", m);
		if (m == PCRE2_ERROR_NOMATCH) {
			show(v, sizeof v, out->data, out->len);
			return fail(err, "pattern",
				    "does not match the pattern %s", a->pattern);
		}
	}
	return rc;
}

/* Reads canonical "[-]digits[.digits]" quickly; strtod for the rest. */
static int canon_number(double *out, const char *s)
{
	static const double p10[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5, 1e6,
				      1e7,  1e8,  1e9,  1e10, 1e11, 1e12, 1e13,
				      1e14, 1e15, 1e16, 1e17, 1e18 };
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
