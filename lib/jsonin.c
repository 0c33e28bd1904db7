/*
 * jsonin.c - JSON Lines input: a strict RFC 8259 parser of one line into a
 * small tree (decoded strings, numbers kept as written, depth and size
 * limits, errors with the byte column), and the reader that turns each
 * product object into a row of attribute columns.
 */
#include "recin.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- the parser ------------------------------------------------------------ */

typedef struct jp {
	pim_json_doc *d;
	const char *s;
	size_t len, i;
	pim_json_err *err;
	unsigned depth, max_depth;
	size_t max_nodes;
} jp;

void pim_json_init(pim_json_doc *d)
{
	memset(d, 0, sizeof *d);
	pim_buf_init(&d->text, 0);
}

void pim_json_free(pim_json_doc *d)
{
	pim_free(d->node);
	pim_buf_free(&d->text);
	d->node = NULL;
	d->n = d->cap = 0;
}

const char *pim_json_text(const pim_json_doc *d, const pim_json_node *n)
{
	return d->text.data + n->str;
}

const char *pim_json_keytext(const pim_json_doc *d, const pim_json_node *n)
{
	return d->text.data + n->key;
}

static int perr(jp *p, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int perr(jp *p, size_t pos, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
	va_end(ap);
	p->err->pos = pos;
	return PIM_EPARSE;
}

/* A description of the byte at `pos` for messages. */
static const char *found(jp *p, size_t pos, char *buf, size_t n)
{
	unsigned char c;
	if (pos >= p->len)
		return "the end of the line";
	c = (unsigned char)p->s[pos];
	if (c >= 0x21 && c < 0x7F)
		snprintf(buf, n, "'%c'", c);
	else
		snprintf(buf, n, "byte 0x%02X", c);
	return buf;
}

static int new_node(jp *p, size_t *out, pim_json_type t, size_t pos)
{
	pim_json_doc *d = p->d;
	pim_json_node *nd;

	if (d->n >= p->max_nodes)
		return perr(p, pos, "more than %zu values in one line",
			    p->max_nodes);
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		pim_json_node *nv = pim_realloc(d->node, cap * sizeof *nv);
		if (!nv)
			return PIM_ENOMEM;
		d->node = nv;
		d->cap = cap;
	}
	nd = &d->node[d->n];
	memset(nd, 0, sizeof *nd);
	nd->type = t;
	nd->pos = pos;
	*out = d->n++;
	return 0;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];

	if (c < 0x80)
		return 1;
	if (c < 0xC2)
		return 0;
	if (c < 0xE0)
		return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c < 0xF0) {
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && s[1] < 0xA0)
			return 0; /* overlong */
		if (c == 0xED && s[1] >= 0xA0)
			return 0; /* a UTF-16 surrogate */
		return 3;
	}
	if (c < 0xF5) {
		if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
		    (s[3] & 0xC0) != 0x80)
			return 0;
		if (c == 0xF0 && s[1] < 0x90)
			return 0; /* overlong */
		if (c == 0xF4 && s[1] >= 0x90)
			return 0; /* beyond U+10FFFF */
		return 4;
	}
	return 0;
}

static int hex4(const char *s, unsigned *out)
{
	unsigned v = 0;
	for (int k = 0; k < 4; k++) {
		char c = s[k];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static int add_utf8(pim_buf *b, unsigned cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return pim_buf_add(b, u, n);
}

/* A string at p->i (the opening quote), decoded into the text buffer. */
static int parse_string(jp *p, size_t *off, size_t *len)
{
	pim_buf *t = &p->d->text;
	size_t open = p->i;
	const unsigned char *s = (const unsigned char *)p->s;

	*off = t->len;
	p->i++;
	for (;;) {
		size_t run = p->i;
		/* plain characters, copied in one piece */
		while (run < p->len && s[run] >= 0x20 && s[run] < 0x80 &&
		       s[run] != '"' && s[run] != '\\')
			run++;
		if (run > p->i && pim_buf_add(t, p->s + p->i, run - p->i))
			return PIM_ENOMEM;
		p->i = run;
		if (p->i >= p->len)
			return perr(p, open, "unterminated string");
		if (s[p->i] == '"') {
			p->i++;
			*len = t->len - *off;
			return pim_buf_addc(t, '\0') ? PIM_ENOMEM : 0;
		}
		if (s[p->i] < 0x20)
			return perr(p, p->i,
				    "control character U+%04X in a string (write "
				    "it as \\u%04X)",
				    s[p->i], s[p->i]);
		if (s[p->i] >= 0x80) {
			size_t k = utf8_seq(s + p->i, p->len - p->i);
			if (!k)
				return perr(p, p->i, "invalid UTF-8 (byte 0x%02X)",
					    s[p->i]);
			if (pim_buf_add(t, p->s + p->i, k))
				return PIM_ENOMEM;
			p->i += k;
			continue;
		}
		/* an escape */
		{
			size_t at = p->i;
			char c = p->i + 1 < p->len ? p->s[p->i + 1] : '\0';
			const char *rep = NULL;
			unsigned cp, lo;
			switch (c) {
			case '"': rep = "\""; break;
			case '\\': rep = "\\"; break;
			case '/': rep = "/"; break;
			case 'b': rep = "\b"; break;
			case 'f': rep = "\f"; break;
			case 'n': rep = "\n"; break;
			case 'r': rep = "\r"; break;
			case 't': rep = "\t"; break;
			case 'u': break;
			default:
				if (p->i + 1 >= p->len)
					return perr(p, open, "unterminated string");
				return perr(p, at, "invalid escape '\\%c'",
					    c >= 0x21 && c < 0x7F ? c : '?');
			}
			if (rep) {
				if (pim_buf_add(t, rep, 1))
					return PIM_ENOMEM;
				p->i += 2;
				continue;
			}
			if (p->i + 6 > p->len || hex4(p->s + p->i + 2, &cp))
				return perr(p, at,
					    "\\u must be followed by four hex "
					    "digits");
			p->i += 6;
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				return perr(p, at,
					    "lone low surrogate \\u%04X", cp);
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (p->i + 6 > p->len || p->s[p->i] != '\\' ||
				    p->s[p->i + 1] != 'u' ||
				    hex4(p->s + p->i + 2, &lo) || lo < 0xDC00 ||
				    lo > 0xDFFF)
					return perr(p, at,
						    "high surrogate \\u%04X is not "
						    "followed by a low surrogate",
						    cp);
				p->i += 6;
				cp = 0x10000 + ((cp - 0xD800) << 10) +
				     (lo - 0xDC00);
			}
			if (add_utf8(t, cp))
				return PIM_ENOMEM;
		}
	}
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int parse_number(jp *p, size_t node)
{
	size_t start = p->i;
	pim_json_node *n;
	char buf[32];

	if (p->s[p->i] == '-')
		p->i++;
	if (p->i < p->len && p->s[p->i] == '0') {
		p->i++;
		if (p->i < p->len && is_digit(p->s[p->i]))
			return perr(p, p->i, "a number may not have leading "
					     "zeros");
	} else if (p->i < p->len && is_digit(p->s[p->i])) {
		while (p->i < p->len && is_digit(p->s[p->i]))
			p->i++;
	} else {
		return perr(p, p->i, "invalid number: expected a digit, found %s",
			    found(p, p->i, buf, sizeof buf));
	}
	if (p->i < p->len && p->s[p->i] == '.') {
		p->i++;
		if (p->i >= p->len || !is_digit(p->s[p->i]))
			return perr(p, p->i,
				    "invalid number: expected a digit after "
				    "'.', found %s",
				    found(p, p->i, buf, sizeof buf));
		while (p->i < p->len && is_digit(p->s[p->i]))
			p->i++;
	}
	if (p->i < p->len && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->len && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		if (p->i >= p->len || !is_digit(p->s[p->i]))
			return perr(p, p->i,
				    "invalid number: expected a digit in the "
				    "exponent, found %s",
				    found(p, p->i, buf, sizeof buf));
		while (p->i < p->len && is_digit(p->s[p->i]))
			p->i++;
	}
	n = &p->d->node[node];
	n->str = p->d->text.len;
	n->len = p->i - start;
	if (pim_buf_add(&p->d->text, p->s + start, p->i - start) ||
	    pim_buf_addc(&p->d->text, '\0'))
		return PIM_ENOMEM;
	return 0;
}

static void skip_ws(jp *p)
{
	while (p->i < p->len && (p->s[p->i] == ' ' || p->s[p->i] == '\t' ||
				 p->s[p->i] == '\n' || p->s[p->i] == '\r'))
		p->i++;
}

static int parse_value(jp *p, size_t *out);

static int parse_container(jp *p, size_t node, int object)
{
	char close = object ? '}' : ']';
	size_t last = 0, open = p->i;
	char buf[32];
	int rc;

	if (++p->depth > p->max_depth)
		return perr(p, p->i, "nested deeper than %u levels",
			    p->max_depth);
	p->i++;
	skip_ws(p);
	if (p->i < p->len && p->s[p->i] == close) {
		p->i++;
		p->depth--;
		p->d->node[node].end = p->i;
		return 0;
	}
	for (;;) {
		size_t koff = 0, klen = 0, kpos = 0, child;
		skip_ws(p);
		if (object) {
			if (p->i >= p->len || p->s[p->i] != '"')
				return perr(p, p->i,
					    "expected a member name in double "
					    "quotes, found %s",
					    found(p, p->i, buf, sizeof buf));
			kpos = p->i;
			if ((rc = parse_string(p, &koff, &klen)))
				return rc;
			skip_ws(p);
			if (p->i >= p->len || p->s[p->i] != ':')
				return perr(p, p->i,
					    "expected ':' after the member name, "
					    "found %s",
					    found(p, p->i, buf, sizeof buf));
			p->i++;
		}
		if ((rc = parse_value(p, &child)))
			return rc;
		if (object) {
			p->d->node[child].key = koff;
			p->d->node[child].key_len = klen;
			p->d->node[child].key_pos = kpos;
		}
		if (last)
			p->d->node[last].next = child;
		else
			p->d->node[node].first = child;
		last = child;
		p->d->node[node].n++;
		skip_ws(p);
		if (p->i < p->len && p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->i < p->len && p->s[p->i] == close) {
			p->i++;
			break;
		}
		if (p->i >= p->len)
			return perr(p, open, "%s is not closed",
				    object ? "object" : "array");
		return perr(p, p->i, "expected ',' or '%c', found %s", close,
			    found(p, p->i, buf, sizeof buf));
	}
	p->depth--;
	p->d->node[node].end = p->i;
	return 0;
}

static int parse_value(jp *p, size_t *out)
{
	size_t node, off, len;
	char buf[32];
	int rc;

	skip_ws(p);
	if (p->i >= p->len)
		return perr(p, p->i, "expected a value, found the end of the "
				     "line");
	switch (p->s[p->i]) {
	case '{':
	case '[':
		if ((rc = new_node(p, &node,
				   p->s[p->i] == '{' ? PIM_JSON_OBJECT
						     : PIM_JSON_ARRAY,
				   p->i)))
			return rc;
		if ((rc = parse_container(p, node, p->s[p->i] == '{')))
			return rc;
		break;
	case '"':
		if ((rc = new_node(p, &node, PIM_JSON_STRING, p->i)))
			return rc;
		if ((rc = parse_string(p, &off, &len)))
			return rc;
		p->d->node[node].str = off;
		p->d->node[node].len = len;
		p->d->node[node].end = p->i;
		break;
	case 't':
	case 'f':
	case 'n': {
		static const char *const lit[] = { "true", "false", "null" };
		static const pim_json_type ty[] = { PIM_JSON_TRUE, PIM_JSON_FALSE,
						    PIM_JSON_NULL };
		int k = p->s[p->i] == 't' ? 0 : p->s[p->i] == 'f' ? 1 : 2;
		size_t l = strlen(lit[k]);
		if (p->len - p->i < l || memcmp(p->s + p->i, lit[k], l) ||
		    (p->i + l < p->len &&
		     ((p->s[p->i + l] >= 'a' && p->s[p->i + l] <= 'z') ||
		      (p->s[p->i + l] >= 'A' && p->s[p->i + l] <= 'Z') ||
		      is_digit(p->s[p->i + l]))))
			return perr(p, p->i,
				    "invalid literal (expected true, false, "
				    "null, a number, a string, an object or "
				    "an array)");
		if ((rc = new_node(p, &node, ty[k], p->i)))
			return rc;
		p->i += l;
		p->d->node[node].end = p->i;
		break;
	}
	default:
		if (p->s[p->i] == '-' || is_digit(p->s[p->i])) {
			if ((rc = new_node(p, &node, PIM_JSON_NUMBER, p->i)))
				return rc;
			if ((rc = parse_number(p, node)))
				return rc;
			p->d->node[node].end = p->i;
			break;
		}
		return perr(p, p->i, "expected a value, found %s",
			    found(p, p->i, buf, sizeof buf));
	}
	*out = node;
	return 0;
}

int pim_json_parse(pim_json_doc *d, pim_json_err *err, const char *s,
		   size_t len)
{
	jp p;
	size_t root;
	char buf[32];
	int rc;

	memset(&p, 0, sizeof p);
	p.d = d;
	p.s = s;
	p.len = len;
	p.err = err;
	p.max_depth = d->max_depth ? d->max_depth : PIM_JSON_MAX_DEPTH;
	p.max_nodes = d->max_nodes ? d->max_nodes : PIM_JSON_MAX_NODES;
	err->pos = 0;
	err->msg[0] = '\0';
	d->n = 0;
	pim_buf_clear(&d->text);
	/* offset 0 of the text is an empty string */
	if (pim_buf_addc(&d->text, '\0'))
		return PIM_ENOMEM;
	if ((rc = parse_value(&p, &root)))
		return rc;
	skip_ws(&p);
	if (p.i < p.len)
		return perr(&p, p.i, "unexpected %s after the value",
			    found(&p, p.i, buf, sizeof buf));
	return 0;
}

int pim_json_is_object(const char *s, size_t len)
{
	pim_json_doc d;
	pim_json_err err;
	int ok;

	pim_json_init(&d);
	ok = pim_json_parse(&d, &err, s, len) == 0 &&
	     d.node[0].type == PIM_JSON_OBJECT;
	pim_json_free(&d);
	return ok;
}

/* ---- the JSON Lines reader ------------------------------------------------- */

#define BLOCK (64u << 10)

typedef struct jl {
	char *blk;
	size_t blen, bpos;
	pim_buf line;
	unsigned long lineno;
	size_t max_line;
	size_t skip;          /* a byte-order mark before the first line */
	pim_json_doc doc;
	pim_buf tmp;
	pim_buf num;          /* a number with an exponent, written out */
	int pass;             /* 1: collecting keys, 2: rows */
} jl;

/* Reads one line without its end. Returns 1, 0 at the end, PIM_EIO. Too
 * long a line is consumed and *toolong set. */
static int read_line(pim_recin *rd, jl *j, int *toolong)
{
	int any = 0;

	pim_buf_clear(&j->line);
	*toolong = 0;
	for (;;) {
		char *nl;
		size_t seg;
		if (j->bpos == j->blen) {
			j->blen = fread(j->blk, 1, BLOCK, rd->f);
			j->bpos = 0;
			if (j->blen == 0) {
				if (ferror(rd->f))
					return PIM_EIO;
				if (!any)
					return 0;
				break;
			}
		}
		any = 1;
		nl = memchr(j->blk + j->bpos, '\n', j->blen - j->bpos);
		seg = nl ? (size_t)(nl - (j->blk + j->bpos)) : j->blen - j->bpos;
		if (!*toolong) {
			if (j->line.len + seg > j->max_line) {
				*toolong = 1;
				pim_buf_clear(&j->line);
			} else if (pim_buf_add(&j->line, j->blk + j->bpos, seg)) {
				return PIM_ENOMEM;
			}
		}
		j->bpos += seg + (nl ? 1 : 0);
		rd->done += seg + (nl ? 1 : 0);
		if (nl)
			break;
	}
	j->lineno++;
	if (!*toolong && j->line.len && j->line.data[j->line.len - 1] == '\r')
		j->line.data[--j->line.len] = '\0';
	if (!j->line.data) {
		if (pim_buf_reserve(&j->line, 1))
			return PIM_ENOMEM;
		j->line.data[0] = '\0';
	}
	j->skip = 0;
	if (j->lineno == 1 && j->line.len >= 3 &&
	    !memcmp(j->line.data, "\xEF\xBB\xBF", 3))
		j->skip = 3;
	return 1;
}

static int blank(const jl *j)
{
	for (size_t i = j->skip; i < j->line.len; i++)
		if (!strchr(" \t\r", j->line.data[i]))
			return 0;
	return 1;
}

typedef struct cerr {
	size_t pos;
	const char *code;
	char msg[300];
} cerr;

static int cfail(cerr *e, size_t pos, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int cfail(cerr *e, size_t pos, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	e->pos = pos;
	e->code = code;
	return 1;
}

static const char *type_name(pim_json_type t)
{
	switch (t) {
	case PIM_JSON_NULL: return "null";
	case PIM_JSON_FALSE:
	case PIM_JSON_TRUE: return "a boolean";
	case PIM_JSON_NUMBER: return "a number";
	case PIM_JSON_STRING: return "a string";
	case PIM_JSON_ARRAY: return "an array";
	default: return "an object";
	}
}

/*
 * 1.5e-3 as 0.0015: the type parsers read plain decimals. The digits are
 * moved, never computed, so nothing is rounded. Returns 0 and the text in
 * out, or 1 when the number is best left as written.
 */
static int plain_decimal(pim_buf *out, const char *n, size_t len)
{
	const char *e = memchr(n, 'e', len);
	char digits[128];
	size_t nd = 0, nint = 0, i = 0;
	long exp, point;

	if (!e)
		e = memchr(n, 'E', len);
	if (!e)
		return 1;
	pim_buf_clear(out);
	if (n[0] == '-') {
		pim_buf_addc(out, '-');
		i = 1;
	}
	for (; n + i < e; i++) {
		if (n[i] == '.')
			continue;
		if (nd == sizeof digits)
			return 1;
		digits[nd++] = n[i];
		if (!memchr(n, '.', i))
			nint++;
	}
	{
		char *end;
		char ebuf[16];
		size_t el = len - (size_t)(e + 1 - n);
		if (el >= sizeof ebuf)
			return 1;
		memcpy(ebuf, e + 1, el);
		ebuf[el] = '\0';
		exp = strtol(ebuf, &end, 10);
		if (*end || exp > 400 || exp < -400)
			return 1;
	}
	point = (long)nint + exp;
	if (point <= 0) {
		pim_buf_adds(out, "0.");
		for (long k = point; k < 0; k++)
			pim_buf_addc(out, '0');
		pim_buf_add(out, digits, nd);
	} else {
		size_t start = 0;
		size_t ip = (size_t)point;
		/* no leading zeros in the whole part */
		while (start + 1 < ip && start < nd && digits[start] == '0')
			start++;
		for (size_t k = start; k < ip; k++)
			pim_buf_addc(out, k < nd ? digits[k] : '0');
		if (ip < nd) {
			pim_buf_addc(out, '.');
			pim_buf_add(out, digits + ip, nd - ip);
		}
	}
	return out->data ? 0 : PIM_ENOMEM;
}

/* A scalar as cell text; 1 when it is not a scalar. */
static int scalar_text(jl *j, const pim_json_node *n, const char **s,
		       size_t *len)
{
	const pim_json_doc *d = &j->doc;

	switch (n->type) {
	case PIM_JSON_NULL:
		*s = "";
		*len = 0;
		return 0;
	case PIM_JSON_TRUE:
		*s = "true";
		*len = 4;
		return 0;
	case PIM_JSON_FALSE:
		*s = "false";
		*len = 5;
		return 0;
	case PIM_JSON_NUMBER:
		if (!plain_decimal(&j->num, pim_json_text(d, n), n->len)) {
			*s = j->num.data;
			*len = j->num.len;
			return 0;
		}
		/* fall through */
	case PIM_JSON_STRING:
		*s = pim_json_text(d, n);
		*len = n->len;
		return 0;
	default:
		return 1;
	}
}

static const pim_json_node *child(const pim_json_doc *d, size_t idx)
{
	return idx ? &d->node[idx] : NULL;
}

/* Puts one cell: the column `name` gets `s`. */
static int put_cell(pim_recin *rd, jl *j, const char *name, size_t nlen,
		    size_t key_pos, const char *s, size_t len, size_t vpos,
		    int list, cerr *e)
{
	long col;
	int rc;

	if (nlen == 0)
		return cfail(e, key_pos, "bad-member", "a member name is empty");
	if (memchr(name, '\0', nlen))
		return cfail(e, key_pos, "bad-member",
			     "a member name holds a NUL character");
	if (len > rd->max_field)
		return cfail(e, vpos, "field-too-long",
			     "the value of '%.*s' is longer than %zu bytes "
			     "(--max-field-size)",
			     (int)(nlen > 80 ? 80 : nlen), name, rd->max_field);
	col = pim_recin_col(rd, name, nlen, j->lineno, key_pos + j->skip + 1,
			    j->pass == 1);
	if (col == PIM_ELIMIT - 1)
		return cfail(e, key_pos, "too-many-columns",
			     "more than %u different members in the file",
			     PIM_CSV_MAX_COLUMNS);
	if (col < -1)
		return (int)col + 1;
	if (col < 0)
		return cfail(e, key_pos, "io",
			     "the file changed while it was read");
	if (j->pass == 1)
		return 0;
	rc = pim_recin_put(rd, (size_t)col, s, len, j->lineno,
			   vpos + j->skip + 1, list, 0);
	if (rc == 1)
		return cfail(e, key_pos, "duplicate-member",
			     "'%.*s' is given twice", (int)(nlen > 80 ? 80 : nlen),
			     name);
	return rc;
}

/* The text of an amount object {"amount": 12.5, "currency": "NOK"} or
 * {"amount": 2.5, "unit": "KGM"}, into j->tmp. */
static int amount_text(jl *j, const pim_json_node *o, cerr *e)
{
	const pim_json_doc *d = &j->doc;
	const pim_json_node *amount = NULL, *suffix = NULL;
	const char *s = "";
	size_t len = 0;

	for (const pim_json_node *m = child(d, o->first); m;
	     m = child(d, m->next)) {
		const char *k = pim_json_keytext(d, m);
		if (!strcmp(k, "amount")) {
			amount = m;
		} else if (!strcmp(k, "currency") || !strcmp(k, "unit")) {
			if (suffix)
				return cfail(e, m->key_pos, "bad-value",
					     "an amount has a currency or a "
					     "unit, not both");
			suffix = m;
		} else {
			return cfail(e, m->key_pos, "bad-value",
				     "unexpected member '%.60s' in an amount "
				     "(expected amount, currency or unit)",
				     k);
		}
		if (m->type != PIM_JSON_STRING &&
		    (m != amount || (m->type != PIM_JSON_NUMBER &&
				     m->type != PIM_JSON_NULL)))
			return cfail(e, m->pos, "bad-value",
				     "'%s' of an amount must be %s, not %s", k,
				     m == amount ? "a number or a string"
						 : "a string",
				     type_name(m->type));
	}
	pim_buf_clear(&j->tmp);
	if (amount)
		scalar_text(j, amount, &s, &len);
	if (len == 0)
		return pim_buf_addc(&j->tmp, '\0') ? PIM_ENOMEM : 0;
	if (pim_buf_add(&j->tmp, s, len))
		return PIM_ENOMEM;
	if (suffix && suffix->len &&
	    (pim_buf_addc(&j->tmp, ' ') ||
	     pim_buf_add(&j->tmp, pim_json_text(d, suffix), suffix->len)))
		return PIM_ENOMEM;
	return 0;
}

/* One value (not a locale map) as cell text: *s, *len, *list. */
static int value_text(jl *j, const pim_json_node *v, const char **s,
		      size_t *len, int *list, cerr *e)
{
	const pim_json_doc *d = &j->doc;
	int rc;

	*list = 0;
	if (!scalar_text(j, v, s, len))
		return 0;
	if (v->type == PIM_JSON_ARRAY) {
		pim_buf_clear(&j->tmp);
		for (const pim_json_node *x = child(d, v->first); x;
		     x = child(d, x->next)) {
			const char *xs;
			size_t xl;
			if (x->type == PIM_JSON_NULL || scalar_text(j, x, &xs, &xl))
				return cfail(e, x->pos, "bad-value",
					     "a list may hold strings, numbers "
					     "and booleans, not %s",
					     type_name(x->type));
			if ((j->tmp.len && pim_buf_addc(&j->tmp, ',')) ||
			    pim_buf_add(&j->tmp, xs, xl))
				return PIM_ENOMEM;
		}
		if (pim_buf_addc(&j->tmp, '\0'))
			return PIM_ENOMEM;
		*s = j->tmp.data;
		*len = j->tmp.len - 1;
		*list = 1;
		return 0;
	}
	/* an object: an amount */
	if ((rc = amount_text(j, v, e)))
		return rc;
	*s = j->tmp.data;
	*len = strlen(j->tmp.data);
	return 0;
}

static int has_amount(const pim_json_doc *d, const pim_json_node *o)
{
	for (const pim_json_node *m = child(d, o->first); m;
	     m = child(d, m->next))
		if (!strcmp(pim_json_keytext(d, m), "amount"))
			return 1;
	return 0;
}

/* The members of one product object become cells. */
static int convert(pim_recin *rd, jl *j, cerr *e)
{
	const pim_json_doc *d = &j->doc;
	const pim_json_node *root = &d->node[0];
	pim_buf name = PIM_BUF_INIT;
	int rc = 0, list;

	for (const pim_json_node *m = child(d, root->first); m && !rc;
	     m = child(d, m->next)) {
		const char *key = pim_json_keytext(d, m), *s;
		size_t len;
		if (m->type == PIM_JSON_OBJECT && !has_amount(d, m)) {
			/* "name": {"nb_NO": "...", "en_US": "..."} */
			for (const pim_json_node *l = child(d, m->first);
			     l && !rc; l = child(d, l->next)) {
				if (l->type == PIM_JSON_OBJECT && !has_amount(d, l)) {
					rc = cfail(e, l->pos, "bad-value",
						   "a localized value must be a "
						   "string, a number, a list or "
						   "an amount, not an object");
					break;
				}
				if (l->key_len == 0) {
					rc = cfail(e, l->key_pos, "bad-member",
						   "a locale is empty");
					break;
				}
				if ((rc = value_text(j, l, &s, &len, &list, e)))
					break;
				pim_buf_clear(&name);
				if (pim_buf_add(&name, key, m->key_len) ||
				    pim_buf_addc(&name, '@') ||
				    pim_buf_add(&name, pim_json_keytext(d, l),
						l->key_len)) {
					rc = PIM_ENOMEM;
					break;
				}
				rc = put_cell(rd, j, name.data, name.len,
					      l->key_pos, s, len, l->pos, list, e);
			}
			continue;
		}
		if ((rc = value_text(j, m, &s, &len, &list, e)))
			break;
		rc = put_cell(rd, j, key, m->key_len, m->key_pos, s, len, m->pos,
			      list, e);
	}
	pim_buf_free(&name);
	return rc;
}

/* The record of a line that cannot be read: empty but for the text. */
static void make_broken(pim_recin *rd, jl *j, int toolong)
{
	rd->n_ents = 0;
	rd->cur_gen++;
	pim_recin_row_end(rd);
	rd->field[rd->raw_col] = toolong ? rd->field[rd->raw_col]
					 : j->line.data + j->skip;
	rd->flen[rd->raw_col] = toolong ? 0 : j->line.len - j->skip;
}

static int jsonl_next(pim_recin *rd, int *broken)
{
	jl *j = rd->impl;
	pim_json_err jerr;
	cerr e;
	int rc, toolong;
	long bad;

	for (;;) {
		if ((rc = read_line(rd, j, &toolong)) <= 0)
			return rc;
		if (!toolong && blank(j))
			continue;
		pim_recin_row_begin(rd, j->lineno);
		*broken = 1;
		if (toolong) {
			pim_recin_diag(rd, j->lineno, 1, "line-too-long",
				       PIM_SEV_ERROR,
				       "the line is longer than %zu bytes (%d "
				       "times --max-field-size); skipped",
				       j->max_line, PIM_JSONL_LINE_FACTOR);
			make_broken(rd, j, 1);
			return 1;
		}
		rc = pim_json_parse(&j->doc, &jerr, j->line.data + j->skip,
				    j->line.len - j->skip);
		if (rc == PIM_ENOMEM)
			return rc;
		if (rc) {
			pim_recin_diag(rd, j->lineno, jerr.pos + j->skip + 1,
				       "syntax", PIM_SEV_ERROR, "%s", jerr.msg);
			make_broken(rd, j, 0);
			return 1;
		}
		if (j->doc.node[0].type != PIM_JSON_OBJECT) {
			pim_recin_diag(rd, j->lineno,
				       j->doc.node[0].pos + j->skip + 1,
				       "not-an-object", PIM_SEV_ERROR,
				       "expected a product object {...}, found "
				       "%s",
				       type_name(j->doc.node[0].type));
			make_broken(rd, j, 0);
			return 1;
		}
		rc = convert(rd, j, &e);
		if (rc < 0)
			return rc;
		if (rc) {
			pim_recin_diag(rd, j->lineno, e.pos + j->skip + 1, e.code,
				       PIM_SEV_ERROR, "%s", e.msg);
			make_broken(rd, j, 0);
			return 1;
		}
		bad = pim_recin_row_end(rd);
		if (bad < 0)
			return (int)bad;
		if (bad > 0) {
			pim_recin_diag(rd, j->lineno, rd->fpos[bad - 1].col, "list",
				       PIM_SEV_ERROR,
				       "'%s' takes a single value, not a list",
				       rd->names[bad - 1]);
			make_broken(rd, j, 0);
			return 1;
		}
		rd->field[rd->raw_col] = j->line.data + j->skip;
		rd->flen[rd->raw_col] = j->line.len - j->skip;
		*broken = 0;
		return 1;
	}
}

static void jsonl_close(pim_recin *rd)
{
	jl *j = rd->impl;
	if (!j)
		return;
	pim_free(j->blk);
	pim_buf_free(&j->line);
	pim_buf_free(&j->tmp);
	pim_buf_free(&j->num);
	pim_json_free(&j->doc);
	pim_free(j);
	rd->impl = NULL;
}

int pim_jsonl_start(pim_recin *rd)
{
	jl *j = pim_calloc(1, sizeof *j);
	pim_json_err jerr;
	cerr e;
	int rc, toolong;

	if (!j)
		return PIM_ENOMEM;
	rd->impl = j;
	rd->close_impl = jsonl_close;
	rd->next_impl = jsonl_next;
	j->blk = pim_malloc(BLOCK);
	if (!j->blk)
		return PIM_ENOMEM;
	if (pim_size_mul(&j->max_line, rd->max_field, PIM_JSONL_LINE_FACTOR))
		j->max_line = (size_t)-1 / 2;
	pim_buf_init(&j->line, j->max_line + 16);
	pim_buf_init(&j->tmp, 0);
	pim_buf_init(&j->num, 0);
	pim_json_init(&j->doc);

	/* pass 1: the members, in order of first appearance */
	j->pass = 1;
	errno = 0;
	while ((rc = read_line(rd, j, &toolong)) == 1) {
		if (!toolong && blank(j))
			continue;
		rd->records++;
		if (!rd->first_line)
			rd->first_line = j->lineno;
		if (toolong)
			continue;
		rc = pim_json_parse(&j->doc, &jerr, j->line.data + j->skip,
				    j->line.len - j->skip);
		if (rc == PIM_ENOMEM)
			return rc;
		if (rc || j->doc.node[0].type != PIM_JSON_OBJECT)
			continue; /* reported in pass 2 */
		rc = convert(rd, j, &e);
		if (rc < 0)
			return rc;
		if (rc && !strcmp(e.code, "too-many-columns")) {
			pim_recin_diag(rd, j->lineno, e.pos + j->skip + 1,
				       e.code, PIM_SEV_ERROR, "%s", e.msg);
			return PIM_EDATA;
		}
	}
	if (rc < 0)
		return rc;
	/* pass 2 starts from the top */
	if (fseek(rd->f, 0, SEEK_SET) != 0)
		return PIM_EIO;
	j->blen = j->bpos = 0;
	j->lineno = 0;
	rd->done = 0;
	j->pass = 2;
	return 0;
}
