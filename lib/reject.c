/*
 * reject.c - writes rejected rows back in the supplier's dialect
 * (delimiter, quote, line ends, encoding, byte-order mark) so that the
 * purchaser can fix them in the same spreadsheet and import them again.
 */
#include "reject.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "pim.h"
#include "recin.h"

struct pim_reject {
	FILE *f;
	int started;
	pim_dialect d;
	iconv_t cd;
	pim_buf line, conv;
	int failed;
};

int pim_reject_open(pim_reject **out, const char *path, char *err,
		    size_t errlen)
{
	pim_reject *rj = pim_calloc(1, sizeof *rj);

	*out = NULL;
	if (!rj)
		return PIM_ENOMEM;
	rj->cd = (iconv_t)-1;
	rj->f = strcmp(path, "-") ? fopen(path, "wb") : stdout;
	if (!rj->f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		pim_free(rj);
		return PIM_EIO;
	}
	*out = rj;
	return 0;
}

static void add_field(pim_reject *rj, const char *s)
{
	char q = rj->d.quote ? rj->d.quote : '"';
	size_t len = strlen(s);
	int need = len && (s[0] == ' ' || s[len - 1] == ' ');

	for (size_t i = 0; i < len && !need; i++)
		if (s[i] == rj->d.delimiter || s[i] == q || s[i] == '\n' ||
		    s[i] == '\r')
			need = 1;
	if (!need) {
		pim_buf_add(&rj->line, s, len);
		return;
	}
	pim_buf_addc(&rj->line, q);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == q)
			pim_buf_addc(&rj->line, q);
		pim_buf_addc(&rj->line, s[i]);
	}
	pim_buf_addc(&rj->line, q);
}

static void end_line(pim_reject *rj)
{
	const char *eol = rj->d.eol == PIM_EOL_CRLF ? "\r\n"
			  : rj->d.eol == PIM_EOL_CR ? "\r"
						    : "\n";
	char *in, *out;
	size_t inleft, outleft;

	pim_buf_adds(&rj->line, eol);
	if (rj->cd == (iconv_t)-1) {
		if (fwrite(rj->line.data, 1, rj->line.len, rj->f) != rj->line.len)
			rj->failed = 1;
		pim_buf_clear(&rj->line);
		return;
	}
	/* back to the file's encoding; unmappable characters become '?' */
	pim_buf_clear(&rj->conv);
	if (pim_buf_reserve(&rj->conv, rj->line.len * 2 + 16)) {
		rj->failed = 1;
		return;
	}
	in = rj->line.data;
	inleft = rj->line.len;
	out = rj->conv.data;
	outleft = rj->conv.cap - 1;
	while (inleft) {
		if (iconv(rj->cd, &in, &inleft, &out, &outleft) != (size_t)-1)
			break;
		if (errno == E2BIG || outleft < 2)
			break;
		/* skip one UTF-8 character */
		do {
			in++;
			inleft--;
		} while (inleft && ((unsigned char)*in & 0xC0) == 0x80);
		*out++ = '?';
		outleft--;
	}
	if (fwrite(rj->conv.data, 1, (size_t)(out - rj->conv.data), rj->f) !=
	    (size_t)(out - rj->conv.data))
		rj->failed = 1;
	pim_buf_clear(&rj->line);
}

static int is_reject_member(const char *k, size_t len)
{
	return (len == 5 && !memcmp(k, "_line", 5)) ||
	       (len == 7 && !memcmp(k, "_errors", 7)) ||
	       (len == 5 && !memcmp(k, "_file", 5));
}

/* A JSON Lines record as it was, with _file, _line and _errors members
 * (replacing those of an earlier reject file). A line that is not an
 * object keeps its text in "_text". */
static int reject_jsonl(pim_reject *rj, const char *raw, size_t len,
			const char *file, int with_file, unsigned long line,
			const char *errors)
{
	pim_json_doc doc;
	pim_json_err jerr;
	pim_buf *b = &rj->line;
	int object, members = 0;

	while (len && strchr(" \t\r", raw[len - 1]))
		len--;
	pim_json_init(&doc);
	object = pim_json_parse(&doc, &jerr, raw, len) == 0 &&
		 doc.node[0].type == PIM_JSON_OBJECT;
	pim_buf_clear(b);
	if (object) {
		int again = 0;
		for (size_t k = doc.node[0].first; k; k = doc.node[k].next)
			if (is_reject_member(pim_json_keytext(&doc, &doc.node[k]),
					     doc.node[k].key_len))
				again = 1;
		if (!again) {
			/* byte for byte, up to the closing brace */
			size_t end = doc.node[0].end - 1;
			pim_buf_add(b, raw, end);
			members = doc.node[0].n > 0;
		} else {
			pim_buf_addc(b, '{');
			for (size_t k = doc.node[0].first; k;
			     k = doc.node[k].next) {
				const pim_json_node *m = &doc.node[k];
				if (is_reject_member(pim_json_keytext(&doc, m),
						     m->key_len))
					continue;
				if (members++)
					pim_buf_addc(b, ',');
				pim_buf_add(b, raw + m->key_pos,
					    m->end - m->key_pos);
			}
		}
	} else {
		pim_buf_adds(b, "{\"_text\":");
		pim_buf_add_json_string(b, raw, len);
		members = 1;
	}
	pim_json_free(&doc);
	if (with_file) {
		pim_buf_adds(b, members ? ",\"_file\":" : "\"_file\":");
		pim_buf_add_json_string(b, file, strlen(file));
		members = 1;
	}
	pim_buf_printf(b, "%s\"_line\":%lu,\"_errors\":", members ? "," : "",
		       line);
	pim_buf_add_json_string(b, errors, strlen(errors));
	pim_buf_adds(b, "}\n");
	if (!b->data || fwrite(b->data, 1, b->len, rj->f) != b->len)
		rj->failed = 1;
	pim_buf_clear(b);
	return rj->failed ? PIM_EIO : 0;
}

int pim_reject_row(pim_reject *rj, const pim_dialect *d,
		   const char *const *header, size_t n_header, int has_header,
		   const char *const *field, size_t n_field, const char *file,
		   int with_file, unsigned long line, const char *errors)
{
	char num[32];

	if (has_header == 2 && n_field)
		return reject_jsonl(rj, field[n_field - 1],
				    strlen(field[n_field - 1]), file, with_file,
				    line, errors);
	if (!rj->started) {
		rj->started = 1;
		rj->d = *d;
		if (d->encoding != PIM_ENC_UTF8) {
			const char *to = d->encoding == PIM_ENC_CP1252
						 ? "WINDOWS-1252"
					 : d->encoding == PIM_ENC_LATIN1
						 ? "ISO-8859-1"
					 : d->encoding == PIM_ENC_UTF16LE
						 ? "UTF-16LE"
						 : "UTF-16BE";
			rj->cd = iconv_open(to, "UTF-8");
			if (rj->cd == (iconv_t)-1)
				return PIM_EIO;
		}
		if (d->bom) {
			if (d->encoding == PIM_ENC_UTF8)
				fputs("\xEF\xBB\xBF", rj->f);
			else if (d->encoding == PIM_ENC_UTF16LE)
				fputs("\xFF\xFE", rj->f);
			else if (d->encoding == PIM_ENC_UTF16BE)
				fputs("\xFE\xFF", rj->f);
		}
		if (has_header) {
			for (size_t i = 0; i < n_header; i++) {
				add_field(rj, header[i]);
				pim_buf_addc(&rj->line, rj->d.delimiter);
			}
			if (with_file) {
				add_field(rj, "_file");
				pim_buf_addc(&rj->line, rj->d.delimiter);
			}
			add_field(rj, "_line");
			pim_buf_addc(&rj->line, rj->d.delimiter);
			add_field(rj, "_errors");
			end_line(rj);
		}
	}
	for (size_t i = 0; i < n_field; i++) {
		add_field(rj, field[i]);
		pim_buf_addc(&rj->line, rj->d.delimiter);
	}
	/* short rows are padded so _line and _errors stay in their columns */
	for (size_t i = n_field; i < n_header; i++)
		pim_buf_addc(&rj->line, rj->d.delimiter);
	if (with_file) {
		add_field(rj, file);
		pim_buf_addc(&rj->line, rj->d.delimiter);
	}
	snprintf(num, sizeof num, "%lu", line);
	add_field(rj, num);
	pim_buf_addc(&rj->line, rj->d.delimiter);
	add_field(rj, errors);
	end_line(rj);
	return rj->failed ? PIM_EIO : 0;
}

int pim_reject_close(pim_reject *rj)
{
	int rc;
	if (!rj)
		return 0;
	rc = rj->failed;
	if (rj->f && rj->f != stdout) {
		if (fclose(rj->f) != 0)
			rc = 1;
	} else if (rj->f && fflush(rj->f) != 0) {
		rc = 1;
	}
	if (rj->cd != (iconv_t)-1)
		iconv_close(rj->cd);
	pim_buf_free(&rj->line);
	pim_buf_free(&rj->conv);
	pim_free(rj);
	return rc ? PIM_EIO : 0;
}
