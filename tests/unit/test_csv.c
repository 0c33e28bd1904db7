/*
 * test_csv.c - unit tests of the CSV reader: rows, fields and the line of
 * each record; dialect detection (delimiter, decimal, line ends, BOMs,
 * encodings); structural diagnostics; splitting a big file for two readers.
 * Every input is written to a temporary directory at test time.
 */
#include <dirent.h>
#include <iconv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "csvin.h"
#include "pim.h"

/* ---- the temporary directory ---------------------------------------- */

static char tmpdir[512];

static int make_tmpdir(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "%s/pim-test-csv-XXXXXX",
		 base && *base ? base : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[1024];

	(void)state;
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
		unlink(p);
	}
	closedir(d);
	return rmdir(tmpdir);
}

/* Writes `len` bytes to `name` in the temporary directory; returns the
 * path in a static buffer, valid until the next call. */
static const char *write_bytes(const char *name, const void *data,
			       size_t len)
{
	static char path[1024];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	if (len)
		assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static const char *write_text(const char *name, const char *text)
{
	return write_bytes(name, text, strlen(text));
}

/* ---- recording diagnostics ------------------------------------------ */

#define MAX_DIAGS 32

typedef struct rec_diag {
	unsigned long line, col;
	char code[40];
	char msg[512];
	pim_severity sev;
} rec_diag;

typedef struct recorder {
	rec_diag d[MAX_DIAGS];
	size_t n;
} recorder;

static int record(const pim_diag *d, void *ctx)
{
	recorder *r = ctx;

	if (r->n < MAX_DIAGS) {
		rec_diag *x = &r->d[r->n++];
		x->line = d->line;
		x->col = d->col;
		x->sev = d->severity;
		snprintf(x->code, sizeof x->code, "%s", d->code ? d->code : "");
		snprintf(x->msg, sizeof x->msg, "%s",
			 d->message ? d->message : "");
	}
	return 0;
}

static void dump(const recorder *r)
{
	for (size_t i = 0; i < r->n; i++)
		print_message("  diag %zu: %lu:%lu %s: %s\n", i, r->d[i].line,
			      r->d[i].col, r->d[i].code, r->d[i].msg);
}

static const rec_diag *expect_at(const char *file, int fline,
				 const recorder *r, const char *code,
				 unsigned long line, unsigned long col)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->d[i].code, code) == 0 && r->d[i].line == line &&
		    (col == 0 || r->d[i].col == col))
			return &r->d[i];
	dump(r);
	fail_msg("%s:%d: no '%s' diagnostic at %lu:%lu", file, fline, code,
		 line, col);
	return NULL;
}

#define EXPECT_DIAG(r, code, line, col)                                  \
	expect_at(__FILE__, __LINE__, (r), (code), (line), (col))

static void expect_no_diags(const recorder *r)
{
	if (r->n) {
		dump(r);
		fail_msg("expected no diagnostics, got %zu", r->n);
	}
}

static void expect_msg(const rec_diag *d, const char *needle)
{
	if (!strstr(d->msg, needle))
		fail_msg("message '%s' lacks '%s'", d->msg, needle);
}

/* ---- collecting rows ------------------------------------------------- */

#define MAX_ROWS 16
#define MAX_FIELDS 8

typedef struct rows {
	size_t n;
	unsigned long line[MAX_ROWS];
	size_t nf[MAX_ROWS];                 /* fields in the row */
	char *f[MAX_ROWS][MAX_FIELDS];       /* the first MAX_FIELDS */
	size_t len[MAX_ROWS][MAX_FIELDS];
} rows;

static void rows_free(rows *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		for (size_t j = 0; j < rs->nf[i] && j < MAX_FIELDS; j++)
			free(rs->f[i][j]);
	rs->n = 0;
}

/* Reads every row of `csv` into *rs. */
static void read_rows(pim_csv *csv, rows *rs)
{
	pim_csv_row *row;
	int rc;

	memset(rs, 0, sizeof *rs);
	while ((rc = pim_csv_next(csv, &row)) == 1) {
		size_t i = rs->n++;
		assert_true(i < MAX_ROWS);
		rs->line[i] = row->line;
		rs->nf[i] = row->n;
		for (size_t j = 0; j < row->n && j < MAX_FIELDS; j++) {
			/* the field is NUL-terminated and may hold NULs */
			assert_int_equal(row->field[j][row->len[j]], '\0');
			rs->f[i][j] = malloc(row->len[j] + 1);
			assert_non_null(rs->f[i][j]);
			memcpy(rs->f[i][j], row->field[j], row->len[j] + 1);
			rs->len[i][j] = row->len[j];
		}
	}
	assert_int_equal(rc, 0);
	/* the end stays the end */
	assert_int_equal(pim_csv_next(csv, &row), 0);
}

static void expect_field(const rows *rs, size_t i, size_t j, const char *s)
{
	assert_true(i < rs->n);
	assert_true(j < rs->nf[i]);
	assert_int_equal(rs->len[i][j], strlen(s));
	assert_string_equal(rs->f[i][j], s);
}

/* Opens `path`, which must succeed. */
static pim_csv *open_ok(const char *path, const pim_dialect *forced,
			size_t max_field, recorder *r)
{
	pim_csv *csv = NULL;
	char err[256] = "";
	int rc;

	memset(r, 0, sizeof *r);
	rc = pim_csv_open(&csv, path, forced, max_field, record, r, err,
			  sizeof err);
	if (rc) {
		dump(r);
		fail_msg("pim_csv_open(%s) = %d: %s", path, rc, err);
	}
	assert_non_null(csv);
	return csv;
}

/* Writes `text` to `name`, reads it all with detection; returns the
 * dialect found in *d. */
static void read_text(const char *name, const char *text, rows *rs,
		      recorder *r, pim_dialect *d)
{
	pim_csv *csv = open_ok(write_text(name, text), NULL, 0, r);
	if (d)
		*d = *pim_csv_dialect(csv);
	read_rows(csv, rs);
	pim_csv_close(csv);
}

/* ---- rows, fields, lines --------------------------------------------- */

static void test_rows_fields_and_lines(void **state)
{
	rows rs;
	recorder r;
	pim_dialect d;

	(void)state;
	read_text("plain.csv", "sku,name,qty\nA1,Chair,3\nA2,Table,1\n", &rs,
		  &r, &d);
	expect_no_diags(&r);
	assert_int_equal(rs.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(rs.line[i], i + 1);
		assert_int_equal(rs.nf[i], 3);
	}
	expect_field(&rs, 0, 0, "sku");
	expect_field(&rs, 1, 1, "Chair");
	expect_field(&rs, 2, 2, "1");
	assert_int_equal(d.delimiter, ',');
	assert_int_equal(d.quote, '"');
	assert_int_equal(d.eol, PIM_EOL_LF);
	assert_int_equal(d.encoding, PIM_ENC_UTF8);
	assert_int_equal(d.bom, 0);
	assert_true(d.utf8_valid);
	rows_free(&rs);
}

static void test_last_line_without_newline(void **state)
{
	rows rs;
	recorder r;

	(void)state;
	read_text("noeol.csv", "a,b\n1,2\n3,4", &rs, &r, NULL);
	expect_no_diags(&r);
	assert_int_equal(rs.n, 3);
	assert_int_equal(rs.line[2], 3);
	expect_field(&rs, 2, 0, "3");
	expect_field(&rs, 2, 1, "4");
	rows_free(&rs);
}

static void test_quoted_multiline_field_keeps_record_lines(void **state)
{
	rows rs;
	recorder r;

	(void)state;
	read_text("multi.csv",
		  "sku,description\n"
		  "A1,\"line one\nline two\nline three\"\n"
		  "A2,\"say \"\"hi\"\", ok\"\n"
		  "A3,\"x\n\ny\"\n"
		  "A4,last\n",
		  &rs, &r, NULL);
	expect_no_diags(&r);
	assert_int_equal(rs.n, 5);
	assert_int_equal(rs.line[0], 1);
	assert_int_equal(rs.line[1], 2);
	assert_int_equal(rs.line[2], 5);
	assert_int_equal(rs.line[3], 6);
	assert_int_equal(rs.line[4], 9);
	expect_field(&rs, 1, 1, "line one\nline two\nline three");
	expect_field(&rs, 2, 1, "say \"hi\", ok");
	/* a blank line inside quotes is data, not a blank line */
	expect_field(&rs, 3, 1, "x\n\ny");
	expect_field(&rs, 4, 1, "last");
	rows_free(&rs);
}

static void test_records_counted_by_detection(void **state)
{
	pim_csv *csv;
	recorder r;

	(void)state;
	csv = open_ok(write_text("count.csv", "a,b\n1,\"x\ny\"\n3,4\n"), NULL,
		      0, &r);
	assert_int_equal(pim_csv_records(csv), 3);
	pim_csv_close(csv);
}

/* ---- delimiter and decimal detection ---------------------------------- */

static void expect_delimiter(const char *name, const char *text, char delim)
{
	rows rs;
	recorder r;
	pim_dialect d;

	read_text(name, text, &rs, &r, &d);
	expect_no_diags(&r);
	assert_int_equal(d.delimiter, delim);
	assert_int_equal(rs.n, 3);
	for (size_t i = 0; i < rs.n; i++)
		assert_int_equal(rs.nf[i], 3);
	expect_field(&rs, 1, 0, "A1");
	expect_field(&rs, 1, 2, "3");
	rows_free(&rs);
}

static void test_detects_comma(void **state)
{
	(void)state;
	expect_delimiter("comma.csv", "sku,name,qty\nA1,Chair,3\nA2,Desk,4\n",
			 ',');
}

static void test_detects_semicolon(void **state)
{
	(void)state;
	expect_delimiter("semi.csv", "sku;name;qty\nA1;Chair;3\nA2;Desk;4\n",
			 ';');
}

static void test_detects_tab(void **state)
{
	(void)state;
	expect_delimiter("tab.csv", "sku\tname\tqty\nA1\tChair\t3\nA2\tDesk\t4\n",
			 '\t');
}

static void test_detects_pipe(void **state)
{
	(void)state;
	expect_delimiter("pipe.csv", "sku|name|qty\nA1|Chair|3\nA2|Desk|4\n",
			 '|');
}

static void test_semicolon_with_commas_in_quotes(void **state)
{
	rows rs;
	recorder r;
	pim_dialect d;

	(void)state;
	read_text("semi-commas.csv",
		  "sku;description;qty\n"
		  "A1;\"oak, birch, pine, ash, elm, teak, beech\";3\n"
		  "A2;\"red, green, blue, white, black, grey\";4\n"
		  "A3;\"a, b, c, d, e, f, g, h, i, j, k\";5\n",
		  &rs, &r, &d);
	expect_no_diags(&r);
	assert_int_equal(d.delimiter, ';');
	assert_int_equal(rs.n, 4);
	for (size_t i = 0; i < rs.n; i++)
		assert_int_equal(rs.nf[i], 3);
	expect_field(&rs, 1, 1, "oak, birch, pine, ash, elm, teak, beech");
	expect_field(&rs, 3, 2, "5");
	rows_free(&rs);
}

static void test_semicolon_file_decimal_comma(void **state)
{
	rows rs;
	recorder r;
	pim_dialect d;

	(void)state;
	read_text("dec-comma.csv",
		  "sku;price;weight\nA1;12,50;0,75\nA2;3,99;1,5\n", &rs, &r,
		  &d);
	assert_int_equal(d.delimiter, ';');
	assert_int_equal(d.decimal, ',');
	expect_field(&rs, 1, 1, "12,50");
	rows_free(&rs);
}

static void test_semicolon_file_decimal_point(void **state)
{
	rows rs;
	recorder r;
	pim_dialect d;

	(void)state;
	read_text("dec-point.csv",
		  "sku;price;weight\nA1;12.50;0.75\nA2;3.99;1.5\n", &rs, &r,
		  &d);
	assert_int_equal(d.delimiter, ';');
	assert_int_equal(d.decimal, '.');
	rows_free(&rs);
}

static void test_comma_file_decimal_is_point(void **state)
{
	rows rs;
	recorder r;
	pim_dialect d;

	(void)state;
	read_text("dec-commafile.csv", "sku,price\nA1,\"12,50\"\nA2,\"3,99\"\n",
		  &rs, &r, &d);
	assert_int_equal(d.delimiter, ',');
	assert_int_equal(d.decimal, '.');
	expect_field(&rs, 1, 1, "12,50");
	rows_free(&rs);
}

/* ---- line ends -------------------------------------------------------- */

static void test_crlf_line_ends(void **state)
{
	rows rs;
	recorder r;
	pim_dialect d;

	(void)state;
	read_text("crlf.csv",
		  "sku,name\r\nA1,\"two\r\nlines\"\r\nA2,Desk\r\n", &rs, &r,
		  &d);
	expect_no_diags(&r);
	assert_int_equal(d.eol, PIM_EOL_CRLF);
	assert_int_equal(rs.n, 3);
	assert_int_equal(rs.line[0], 1);
	assert_int_equal(rs.line[1], 2);
	assert_int_equal(rs.line[2], 4);
	/* no CR left at the end of the last field */
	expect_field(&rs, 0, 1, "name");
	expect_field(&rs, 2, 1, "Desk");
	expect_field(&rs, 1, 1, "two\r\nlines");
	rows_free(&rs);
}

static void test_cr_line_ends(void **state)
{
	rows rs;
	recorder r;
	pim_dialect d;

	(void)state;
	read_text("cr.csv", "sku,name\rA1,\"two\rlines\"\rA2,Desk\rA3,Bed\r",
		  &rs, &r, &d);
	expect_no_diags(&r);
	assert_int_equal(d.eol, PIM_EOL_CR);
	assert_int_equal(d.delimiter, ',');
	assert_int_equal(rs.n, 4);
	assert_int_equal(rs.line[0], 1);
	assert_int_equal(rs.line[1], 2);
	assert_int_equal(rs.line[2], 4);
	assert_int_equal(rs.line[3], 5);
	expect_field(&rs, 1, 1, "two\rlines");
	expect_field(&rs, 3, 1, "Bed");
	rows_free(&rs);
}

static void test_lf_line_ends(void **state)
{
	rows rs;
	recorder r;
	pim_dialect d;

	(void)state;
	read_text("lf.csv", "a,b\n1,2\n", &rs, &r, &d);
	assert_int_equal(d.eol, PIM_EOL_LF);
	assert_int_equal(rs.n, 2);
	rows_free(&rs);
}

/* ---- BOMs and encodings ---------------------------------------------- */

static void test_utf8_bom_is_skipped(void **state)
{
	rows rs;
	recorder r;
	pim_dialect d;

	(void)state;
	read_text("bom8.csv", "\xEF\xBB\xBFsku;name\nA1;bl\xC3\xA5\n", &rs, &r,
		  &d);
	expect_no_diags(&r);
	assert_int_equal(d.bom, 1);
	assert_int_equal(d.encoding, PIM_ENC_UTF8);
	assert_int_equal(d.delimiter, ';');
	assert_int_equal(rs.n, 2);
	assert_int_equal(rs.line[0], 1);
	assert_int_equal(rs.line[1], 2);
	expect_field(&rs, 0, 0, "sku");
	expect_field(&rs, 1, 1, "bl\xC3\xA5");
	rows_free(&rs);
}

/* Converts UTF-8 text to `to` with iconv; the caller frees. */
static char *convert(const char *to, const char *text, size_t *outlen)
{
	iconv_t cd = iconv_open(to, "UTF-8");
	size_t inleft = strlen(text), cap = 4 * inleft + 8, outleft = cap;
	char *in = (char *)text, *buf, *out;

	assert_true(cd != (iconv_t)-1);
	buf = malloc(cap);
	assert_non_null(buf);
	out = buf;
	assert_true(iconv(cd, &in, &inleft, &out, &outleft) != (size_t)-1);
	assert_int_equal(inleft, 0);
	iconv_close(cd);
	*outlen = cap - outleft;
	return buf;
}

static void expect_utf16(const char *name, const char *to,
			 const char *bom, pim_encoding want)
{
	const char *text = "sku;name\nA1;bl\xC3\xA5 stol\nA2;\"to\nlinjer\"\n"
			   "A3;s\xC3\xB8t\n";
	size_t len;
	char *body = convert(to, text, &len);
	char *file = malloc(len + 2);
	pim_csv *csv;
	recorder r;
	rows rs;
	const pim_dialect *d;

	assert_non_null(file);
	memcpy(file, bom, 2);
	memcpy(file + 2, body, len);
	csv = open_ok(write_bytes(name, file, len + 2), NULL, 0, &r);
	d = pim_csv_dialect(csv);
	assert_int_equal(d->encoding, want);
	assert_int_equal(d->bom, 1);
	assert_int_equal(d->delimiter, ';');
	assert_int_equal(d->eol, PIM_EOL_LF);
	assert_true(d->utf8_valid);
	read_rows(csv, &rs);
	expect_no_diags(&r);
	assert_int_equal(rs.n, 4);
	assert_int_equal(rs.line[0], 1);
	assert_int_equal(rs.line[1], 2);
	assert_int_equal(rs.line[2], 3);
	assert_int_equal(rs.line[3], 5);
	expect_field(&rs, 0, 0, "sku");
	expect_field(&rs, 1, 1, "bl\xC3\xA5 stol");
	expect_field(&rs, 2, 1, "to\nlinjer");
	expect_field(&rs, 3, 1, "s\xC3\xB8t");
	rows_free(&rs);
	pim_csv_close(csv);
	free(body);
	free(file);
}

static void test_utf16le_with_bom(void **state)
{
	(void)state;
	expect_utf16("le.csv", "UTF-16LE", "\xFF\xFE", PIM_ENC_UTF16LE);
}

static void test_utf16be_with_bom(void **state)
{
	(void)state;
	expect_utf16("be.csv", "UTF-16BE", "\xFE\xFF", PIM_ENC_UTF16BE);
}

static void test_windows1252_detected_and_converted(void **state)
{
	rows rs;
	recorder r;
	pim_dialect d;

	(void)state;
	/* 0xE5 = å, 0xF8 = ø, 0x80 = euro sign in Windows-1252 */
	read_text("cp1252.csv",
		  "Varenr;Navn;Pris\nA1;bl\xE5 stol;10 \x80\nA2;s\xF8t;5\n", &rs,
		  &r, &d);
	expect_no_diags(&r);
	assert_int_equal(d.encoding, PIM_ENC_CP1252);
	assert_true(d.utf8_valid);
	assert_int_equal(rs.n, 3);
	expect_field(&rs, 1, 1, "bl\xC3\xA5 stol");
	expect_field(&rs, 1, 2, "10 \xE2\x82\xAC");
	expect_field(&rs, 2, 1, "s\xC3\xB8t");
	assert_int_equal(rs.line[2], 3);
	rows_free(&rs);
}

/* Detection's UTF-8 check: well-formed sequences of every length pass,
 * overlong forms, surrogates, code points past U+10FFFF and cut sequences
 * make the file Windows-1252; both at the start of a line and after a run
 * of ASCII long enough for the word-at-a-time skip. */
static void test_utf8_validity_edge_cases(void **state)
{
	static const struct {
		const char *bytes;
		int valid;
	} cases[] = {
		{ "\xC3\xA5", 1 },          /* å */
		{ "\xE2\x82\xAC", 1 },      /* € */
		{ "\xF0\x9F\x98\x80", 1 },  /* U+1F600 */
		{ "\xF4\x8F\xBF\xBF", 1 },  /* U+10FFFF */
		{ "\xED\x9F\xBF", 1 },      /* U+D7FF */
		{ "\xE0\xA0\x80", 1 },      /* U+0800 */
		{ "\xC0\xA5", 0 },          /* overlong */
		{ "\xE0\x9F\xBF", 0 },      /* overlong */
		{ "\xF0\x8F\xBF\xBF", 0 },  /* overlong */
		{ "\xED\xA0\x80", 0 },      /* surrogate */
		{ "\xF4\x90\x80\x80", 0 },  /* past U+10FFFF */
		{ "\xC3", 0 },              /* cut by the delimiter */
		{ "\xE2\x82", 0 },          /* cut */
		{ "\xA5", 0 },              /* lone continuation */
	};
	char text[512], name[64];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (int pad = 0; pad < 2; pad++) {
			rows rs;
			recorder r;
			pim_dialect d;
			snprintf(text, sizeof text,
				 "sku,name\nA1,%s%s,\nA2,after\n",
				 pad ? "an ascii run of more than thirty-two "
				       "bytes before it "
				     : "",
				 cases[i].bytes);
			snprintf(name, sizeof name, "utf8-%zu-%d.csv", i, pad);
			read_text(name, text, &rs, &r, &d);
			if (cases[i].valid)
				assert_int_equal(d.encoding, PIM_ENC_UTF8);
			else
				assert_int_equal(d.encoding, PIM_ENC_CP1252);
			rows_free(&rs);
		}
	}
}

static void test_neither_utf8_nor_windows1252(void **state)
{
	pim_csv *csv = (pim_csv *)1;
	recorder r;
	char err[256] = "";
	const rec_diag *dg;
	const char *text = "sku;name;note\n"
			   "A1;plain;ascii text to push the bad byte further\n"
			   "A2;plain;and more ascii text on the third line\n"
			   "A3;plain;still fine\n"
			   "A4;x\x81y\x8Dz;bad\n"
			   "A5;fine;fine\n";
	unsigned long off = (unsigned long)(strstr(text, "\x81") - text) + 1;
	char want[64];

	(void)state;
	memset(&r, 0, sizeof r);
	assert_int_equal(pim_csv_open(&csv, write_text("bad-enc.csv", text),
				      NULL, 0, record, &r, err, sizeof err),
			 PIM_EDATA);
	assert_null(csv);
	dg = EXPECT_DIAG(&r, "encoding", 5, 0);
	assert_int_equal(dg->sev, PIM_SEV_ERROR);
	snprintf(want, sizeof want, "byte %lu ", off);
	expect_msg(dg, want);
	assert_int_equal(r.n, 1);
}

static void test_utf16_without_bom_refused(void **state)
{
	pim_csv *csv = (pim_csv *)1;
	recorder r;
	char err[256] = "";
	size_t len;
	char *body = convert("UTF-16LE", "sku,name\nA1,Chair\nA2,Desk\n", &len);
	const rec_diag *dg;

	(void)state;
	memset(&r, 0, sizeof r);
	assert_int_equal(pim_csv_open(&csv, write_bytes("le-nobom.csv", body,
							 len),
				      NULL, 0, record, &r, err, sizeof err),
			 PIM_EDATA);
	assert_null(csv);
	dg = EXPECT_DIAG(&r, "encoding", 1, 0);
	expect_msg(dg, "UTF-16");
	expect_msg(dg, "utf-16le");
	free(body);
}

static void test_utf16be_without_bom_refused(void **state)
{
	pim_csv *csv = (pim_csv *)1;
	recorder r;
	char err[256] = "";
	size_t len;
	char *body = convert("UTF-16BE", "sku,name\nA1,Chair\nA2,Desk\n", &len);

	(void)state;
	memset(&r, 0, sizeof r);
	assert_int_equal(pim_csv_open(&csv, write_bytes("be-nobom.csv", body,
							 len),
				      NULL, 0, record, &r, err, sizeof err),
			 PIM_EDATA);
	assert_null(csv);
	expect_msg(EXPECT_DIAG(&r, "encoding", 1, 0), "utf-16be");
	free(body);
}

static void test_missing_file_is_eio(void **state)
{
	pim_csv *csv = (pim_csv *)1;
	char err[256] = "";
	char path[1024];

	(void)state;
	snprintf(path, sizeof path, "%s/no-such-file.csv", tmpdir);
	assert_int_equal(pim_csv_open(&csv, path, NULL, 0, NULL, NULL, err,
				      sizeof err),
			 PIM_EIO);
	assert_null(csv);
	assert_non_null(strstr(err, "No such file")); /* the reason; the caller names the file */
}

/* ---- forced settings -------------------------------------------------- */

static void test_forced_delimiter_wins(void **state)
{
	pim_dialect forced = PIM_DIALECT_INIT;
	pim_csv *csv;
	recorder r;
	rows rs;

	(void)state;
	/* detection would pick ';' */
	forced.delimiter = ',';
	csv = open_ok(write_text("forced-delim.csv",
				 "a;b;c,d\n1;2;3,4\n5;6;7,8\n"),
		      &forced, 0, &r);
	assert_int_equal(pim_csv_dialect(csv)->delimiter, ',');
	read_rows(csv, &rs);
	assert_int_equal(rs.n, 3);
	assert_int_equal(rs.nf[1], 2);
	expect_field(&rs, 1, 0, "1;2;3");
	expect_field(&rs, 1, 1, "4");
	rows_free(&rs);
	pim_csv_close(csv);
}

static void test_forced_encoding_wins(void **state)
{
	pim_dialect forced = PIM_DIALECT_INIT;
	pim_csv *csv;
	recorder r;
	rows rs;

	(void)state;
	/* valid UTF-8 "å" read as Windows-1252 is two characters */
	forced.encoding = PIM_ENC_CP1252;
	csv = open_ok(write_text("forced-enc.csv", "a,b\n1,bl\xC3\xA5\n"),
		      &forced, 0, &r);
	assert_int_equal(pim_csv_dialect(csv)->encoding, PIM_ENC_CP1252);
	read_rows(csv, &rs);
	expect_field(&rs, 1, 1, "bl\xC3\x83\xC2\xA5");
	rows_free(&rs);
	pim_csv_close(csv);
}

static void test_forced_latin1_converts(void **state)
{
	pim_dialect forced = PIM_DIALECT_INIT;
	pim_csv *csv;
	recorder r;
	rows rs;

	(void)state;
	forced.encoding = PIM_ENC_LATIN1;
	/* 0x81 is undefined in Windows-1252 but a control in Latin-1 */
	csv = open_ok(write_text("forced-latin1.csv", "a,b\n1,\xE5\x81\n"),
		      &forced, 0, &r);
	expect_no_diags(&r);
	assert_int_equal(pim_csv_dialect(csv)->encoding, PIM_ENC_LATIN1);
	read_rows(csv, &rs);
	expect_field(&rs, 1, 1, "\xC3\xA5\xC2\x81");
	rows_free(&rs);
	pim_csv_close(csv);
}

static void test_forced_utf8_reports_bad_bytes(void **state)
{
	pim_dialect forced = PIM_DIALECT_INIT;
	pim_csv *csv;
	recorder r;
	rows rs;

	(void)state;
	forced.encoding = PIM_ENC_UTF8;
	csv = open_ok(write_text("forced-utf8.csv", "a,b\n1,2\n3,bl\xE5\n"),
		      &forced, 0, &r);
	EXPECT_DIAG(&r, "encoding", 3, 0);
	assert_false(pim_csv_dialect(csv)->utf8_valid);
	read_rows(csv, &rs);
	assert_int_equal(rs.n, 3);
	rows_free(&rs);
	pim_csv_close(csv);
}

static void test_forced_quote_and_decimal_win(void **state)
{
	pim_dialect forced = PIM_DIALECT_INIT;
	pim_csv *csv;
	recorder r;
	rows rs;

	(void)state;
	forced.quote = '\'';
	forced.decimal = ',';
	csv = open_ok(write_text("forced-quote.csv",
				 "a,b\n1,'x, y'\n2,\"z\"\n"),
		      &forced, 0, &r);
	assert_int_equal(pim_csv_dialect(csv)->quote, '\'');
	assert_int_equal(pim_csv_dialect(csv)->decimal, ',');
	assert_int_equal(pim_csv_dialect(csv)->delimiter, ',');
	read_rows(csv, &rs);
	assert_int_equal(rs.n, 3);
	assert_int_equal(rs.nf[1], 2);
	expect_field(&rs, 1, 1, "x, y");
	expect_field(&rs, 2, 1, "\"z\"");
	rows_free(&rs);
	pim_csv_close(csv);
}

/* ---- odd content ------------------------------------------------------ */

static void test_nul_bytes_come_through(void **state)
{
	static const char data[] = "a,b\nx\0y,z\n";
	pim_csv *csv;
	recorder r;
	rows rs;

	(void)state;
	csv = open_ok(write_bytes("nul.csv", data, sizeof data - 1), NULL, 0,
		      &r);
	read_rows(csv, &rs);
	assert_int_equal(rs.n, 2);
	assert_int_equal(rs.nf[1], 2);
	assert_int_equal(rs.len[1][0], 3);
	assert_memory_equal(rs.f[1][0], "x\0y", 3);
	expect_field(&rs, 1, 1, "z");
	rows_free(&rs);
	pim_csv_close(csv);
}

static void test_blank_line_warned_lines_kept(void **state)
{
	rows rs;
	recorder r;
	const rec_diag *dg;

	(void)state;
	read_text("blank.csv", "a,b\n1,2\n\n3,4\n   \n5,\"6\n7\"\n8,9\n", &rs,
		  &r, NULL);
	dg = EXPECT_DIAG(&r, "blank-line", 3, 0);
	assert_int_equal(dg->sev, PIM_SEV_WARNING);
	EXPECT_DIAG(&r, "blank-line", 5, 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(rs.n, 5);
	assert_int_equal(rs.line[0], 1);
	assert_int_equal(rs.line[1], 2);
	assert_int_equal(rs.line[2], 4);
	assert_int_equal(rs.line[3], 6);
	assert_int_equal(rs.line[4], 8);
	expect_field(&rs, 2, 0, "3");
	expect_field(&rs, 4, 1, "9");
	rows_free(&rs);
}

static void test_field_too_large_skips_row(void **state)
{
	char text[2048];
	char big[1001];
	pim_csv *csv;
	recorder r;
	rows rs;
	const rec_diag *dg;

	(void)state;
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	snprintf(text, sizeof text, "a,b\n1,2\n3,%s\n4,5\n", big);
	csv = open_ok(write_text("toolarge.csv", text), NULL, 256, &r);
	read_rows(csv, &rs);
	dg = EXPECT_DIAG(&r, "field-too-large", 3, 2);
	assert_int_equal(dg->sev, PIM_SEV_ERROR);
	assert_int_equal(r.n, 1);
	assert_int_equal(rs.n, 3);
	assert_int_equal(rs.line[2], 4);
	expect_field(&rs, 2, 0, "4");
	expect_field(&rs, 2, 1, "5");
	rows_free(&rs);
	pim_csv_close(csv);
}

static void test_quoted_field_too_large_skips_row(void **state)
{
	char text[2048];
	char big[1001];
	pim_csv *csv;
	recorder r;
	rows rs;

	(void)state;
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	snprintf(text, sizeof text, "a,b\n\"%s\",2\n4,5\n", big);
	csv = open_ok(write_text("toolarge-q.csv", text), NULL, 256, &r);
	read_rows(csv, &rs);
	EXPECT_DIAG(&r, "field-too-large", 2, 1);
	assert_int_equal(rs.n, 2);
	assert_int_equal(rs.line[1], 3);
	expect_field(&rs, 1, 1, "5");
	rows_free(&rs);
	pim_csv_close(csv);
}

/* The skipped record goes on over more lines: what follows the oversized
 * field up to the record's end is part of the skipped row, not new rows. */
static void test_multiline_field_too_large_skips_whole_record(void **state)
{
	char text[2048];
	char big[1001];
	pim_csv *csv;
	recorder r;
	rows rs;

	(void)state;
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	snprintf(text, sizeof text,
		 "a,b\n1,\"%s\nrest of it, still quoted\nand more\"\n4,5\n",
		 big);
	csv = open_ok(write_text("toolarge-ml.csv", text), NULL, 256, &r);
	read_rows(csv, &rs);
	EXPECT_DIAG(&r, "field-too-large", 2, 2);
	if (r.n != 1)
		dump(&r);
	assert_int_equal(r.n, 1);
	if (rs.n != 2)
		for (size_t i = 0; i < rs.n; i++)
			print_message("  row %zu at line %lu: '%s' ...\n", i,
				      rs.line[i], rs.f[i][0]);
	assert_int_equal(rs.n, 2);
	assert_int_equal(rs.line[1], 5);
	expect_field(&rs, 1, 0, "4");
	expect_field(&rs, 1, 1, "5");
	rows_free(&rs);
	pim_csv_close(csv);
}

/* A row over the row size limit (4 * field limit + 1 MiB) made of many
 * fields, each under the field limit, on lines under the line limit. */
static void test_row_too_large(void **state)
{
	pim_buf b = PIM_BUF_INIT;
	char field[1001];
	pim_csv *csv;
	recorder r;
	rows rs;
	const rec_diag *dg;
	unsigned long next_line;

	(void)state;
	memset(field, 'z', sizeof field - 1);
	field[sizeof field - 1] = '\0';
	assert_int_equal(pim_buf_adds(&b, "a,b\n1,2\n"), 0);
	/* one record of 1500 quoted fields of 1001 bytes, each ending in a
	 * line break: 1.5 MB over 1501 lines */
	for (int i = 0; i < 1500; i++)
		assert_int_equal(pim_buf_printf(&b, "%s\"%s\n\"", i ? "," : "",
						field),
				 0);
	assert_int_equal(pim_buf_adds(&b, "\n3,4\n"), 0);
	next_line = 3 + 1500 + 1;
	csv = open_ok(write_text("rowtoolarge.csv", b.data), NULL, 1024, &r);
	read_rows(csv, &rs);
	dg = EXPECT_DIAG(&r, "row-too-large", 3, 0);
	assert_int_equal(dg->sev, PIM_SEV_ERROR);
	assert_int_equal(r.n, 1);
	assert_int_equal(rs.n, 3);
	assert_int_equal(rs.line[2], next_line);
	expect_field(&rs, 2, 0, "3");
	rows_free(&rs);
	pim_csv_close(csv);
	pim_buf_free(&b);
}

/* A file whose third line holds 1100 fields of 1000 bytes: 1.1 MB, over
 * the line limit of 4 * 1024 + 1 MiB bytes with a field limit of 1024,
 * though no field is over the field limit. */
static char *long_line_file(int final_newline)
{
	pim_buf b = PIM_BUF_INIT;
	char field[1001];

	memset(field, 'w', sizeof field - 1);
	field[sizeof field - 1] = '\0';
	assert_int_equal(pim_buf_adds(&b, "a,b\n1,2\n"), 0);
	for (int i = 0; i < 1100; i++)
		assert_int_equal(pim_buf_printf(&b, "%s%s", i ? "," : "", field),
				 0);
	if (final_newline)
		assert_int_equal(pim_buf_adds(&b, "\n3,4\n"), 0);
	return pim_buf_detach(&b);
}

static void test_overlong_line_skipped(void **state)
{
	char *text = long_line_file(1);
	pim_csv *csv;
	recorder r;
	rows rs;
	const rec_diag *dg;

	(void)state;
	csv = open_ok(write_text("longline.csv", text), NULL, 1024, &r);
	read_rows(csv, &rs);
	assert_int_equal(r.n, 1);
	dg = &r.d[0];
	assert_int_equal(dg->line, 3);
	assert_int_equal(dg->sev, PIM_SEV_ERROR);
	assert_int_equal(rs.n, 3);
	assert_int_equal(rs.line[2], 4);
	expect_field(&rs, 2, 0, "3");
	rows_free(&rs);
	pim_csv_close(csv);
	pim_free(text);
}

/* The same line at the very end of the file, with no line end, must not
 * come out cut short in silence either. */
static void test_overlong_last_line_reported(void **state)
{
	char *text = long_line_file(0);
	pim_csv *csv;
	recorder r;
	rows rs;

	(void)state;
	csv = open_ok(write_text("longline-end.csv", text), NULL, 1024, &r);
	read_rows(csv, &rs);
	if (rs.n > 2)
		print_message("  row 3: %zu fields of the 1100 in the file\n",
			      rs.nf[2]);
	if (r.n != 1)
		dump(&r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.d[0].line, 3);
	assert_int_equal(r.d[0].sev, PIM_SEV_ERROR);
	assert_int_equal(rs.n, 2);
	rows_free(&rs);
	pim_csv_close(csv);
	pim_free(text);
}

static void test_field_under_limit_is_read(void **state)
{
	char text[512];
	char mid[101];
	pim_csv *csv;
	recorder r;
	rows rs;

	(void)state;
	memset(mid, 'y', sizeof mid - 1);
	mid[sizeof mid - 1] = '\0';
	snprintf(text, sizeof text, "a,b\n1,%s\n", mid);
	csv = open_ok(write_text("underlimit.csv", text), NULL, 256, &r);
	read_rows(csv, &rs);
	expect_no_diags(&r);
	assert_int_equal(rs.n, 2);
	expect_field(&rs, 1, 1, mid);
	rows_free(&rs);
	pim_csv_close(csv);
}

/* A file whose third line has `nfields` fields. */
static char *wide_file(size_t nfields)
{
	pim_buf b = PIM_BUF_INIT;

	assert_int_equal(pim_buf_adds(&b, "a,b\n1,2\n"), 0);
	for (size_t i = 0; i < nfields; i++)
		assert_int_equal(pim_buf_adds(&b, i ? ",v" : "v"), 0);
	assert_int_equal(pim_buf_adds(&b, "\n3,4\n"), 0);
	return pim_buf_detach(&b);
}

static void test_too_many_fields(void **state)
{
	char *text = wide_file(PIM_CSV_MAX_COLUMNS + 1);
	pim_csv *csv;
	recorder r;
	rows rs;
	const rec_diag *dg;

	(void)state;
	csv = open_ok(write_text("wide.csv", text), NULL, 0, &r);
	read_rows(csv, &rs);
	dg = EXPECT_DIAG(&r, "too-many-fields", 3, 0);
	assert_int_equal(dg->sev, PIM_SEV_ERROR);
	assert_int_equal(r.n, 1);
	assert_int_equal(rs.n, 3);
	assert_int_equal(rs.line[2], 4);
	expect_field(&rs, 2, 0, "3");
	rows_free(&rs);
	pim_csv_close(csv);
	pim_free(text);
}

static void test_max_columns_is_allowed(void **state)
{
	char *text = wide_file(PIM_CSV_MAX_COLUMNS);
	pim_csv *csv;
	recorder r;
	rows rs;

	(void)state;
	csv = open_ok(write_text("wide-ok.csv", text), NULL, 0, &r);
	read_rows(csv, &rs);
	expect_no_diags(&r);
	assert_int_equal(rs.n, 4);
	assert_int_equal(rs.nf[2], PIM_CSV_MAX_COLUMNS);
	assert_int_equal(rs.line[3], 4);
	rows_free(&rs);
	pim_csv_close(csv);
	pim_free(text);
}

static void test_unterminated_quote(void **state)
{
	rows rs;
	recorder r;
	const rec_diag *dg;

	(void)state;
	read_text("unterminated.csv", "a,b\n1,2\n3,\"open\nmore\nstill\n", &rs,
		  &r, NULL);
	dg = EXPECT_DIAG(&r, "unterminated-quote", 3, 2);
	assert_int_equal(dg->sev, PIM_SEV_ERROR);
	assert_int_equal(r.n, 1);
	assert_int_equal(rs.n, 2);
	assert_int_equal(rs.line[1], 2);
	rows_free(&rs);
}

static void test_inch_mark_is_text(void **state)
{
	rows rs;
	recorder r;

	(void)state;
	read_text("inch.csv", "sku,name\nA1,5\" screen\nA2,Desk\n", &rs, &r,
		  NULL);
	expect_no_diags(&r);
	assert_int_equal(rs.n, 3);
	expect_field(&rs, 1, 1, "5\" screen");
	assert_int_equal(rs.line[2], 3);
	rows_free(&rs);
}

static void test_empty_file_has_no_rows(void **state)
{
	rows rs;
	recorder r;
	pim_dialect d;
	pim_csv *csv;

	(void)state;
	csv = open_ok(write_bytes("empty.csv", "", 0), NULL, 0, &r);
	d = *pim_csv_dialect(csv);
	assert_int_equal(pim_csv_records(csv), 0);
	read_rows(csv, &rs);
	expect_no_diags(&r);
	assert_int_equal(rs.n, 0);
	assert_int_equal(d.delimiter, ',');
	pim_csv_close(csv);
}

static void test_close_null_is_safe(void **state)
{
	(void)state;
	pim_csv_close(NULL);
}

static void test_encoding_names(void **state)
{
	(void)state;
	assert_int_equal(pim_encoding_parse("UTF-8"), PIM_ENC_UTF8);
	assert_int_equal(pim_encoding_parse("cp1252"), PIM_ENC_CP1252);
	assert_int_equal(pim_encoding_parse("latin1"), PIM_ENC_LATIN1);
	assert_int_equal(pim_encoding_parse("utf-16be"), PIM_ENC_UTF16BE);
	assert_int_equal(pim_encoding_parse("auto"), PIM_ENC_AUTO);
	assert_int_equal(pim_encoding_parse("ebcdic"), -1);
	assert_string_equal(pim_encoding_name(PIM_ENC_CP1252), "windows-1252");
	assert_string_equal(pim_encoding_name(PIM_ENC_UTF16LE), "utf-16le");
}

/* ---- splitting a big file --------------------------------------------- */

/* How the big file is spoiled: not at all, an unquoted 5" screen inside a
 * field, or two inch marks that end unquoted fields (27",) one near the
 * start and one after the middle. */
enum { BIG_PLAIN, BIG_INCH, BIG_INCH_AT_END };

/* Row i of the big file; every 997th row has a two-line quoted field. */
static size_t big_row(char *out, size_t cap, unsigned long i, int inch)
{
	int n;
	if (inch)
		n = snprintf(out, cap,
			     inch == BIG_INCH
				     ? "SKU%07lu,Monitor 5\" screen,12.50,3\n"
				     : "SKU%07lu,Monitor 27\",12.50,3\n",
			     i);
	else if (i % 997 == 0)
		n = snprintf(out, cap,
			     "SKU%07lu,\"Shelf %lu, oak\nsecond line\",%lu.25,"
			     "%lu\n",
			     i, i, i % 1000, i % 7);
	else
		n = snprintf(out, cap, "SKU%07lu,Chair number %lu,%lu.50,%lu\n",
			     i, i, i % 1000, i % 13);
	assert_true(n > 0 && (size_t)n < cap);
	return (size_t)n;
}

#define BIG_SIZE (9u * 1024 * 1024)

/* Writes a file of about 9 MB; returns its path (static). */
static const char *write_big(const char *name, int spoil)
{
	static char path[1024];
	char line[256];
	FILE *f;
	size_t total = 0;
	unsigned long i = 0;
	int late_done = 0;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs("sku,name,price,qty\n", f);
	while (total < BIG_SIZE) {
		int inch = 0;
		size_t n;
		i++;
		if (spoil != BIG_PLAIN && i == 10)
			inch = spoil;
		if (spoil == BIG_INCH_AT_END && !late_done &&
		    total > BIG_SIZE / 10 * 9) {
			inch = spoil;
			late_done = 1;
		}
		n = big_row(line, sizeof line, i, inch);
		assert_int_equal(fwrite(line, 1, n, f), n);
		total += n;
	}
	assert_int_equal(fclose(f), 0);
	assert_true(total >= PIM_CSV_SPLIT_MIN);
	return path;
}

typedef struct seen {
	unsigned long *line;
	uint64_t *hash;
	size_t n, cap;
} seen;

static uint64_t row_hash(const pim_csv_row *row)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t j = 0; j < row->n; j++) {
		for (size_t k = 0; k < row->len[j]; k++)
			h = (h ^ (unsigned char)row->field[j][k]) *
			    1099511628211ULL;
		h = (h ^ 0x1F) * 1099511628211ULL; /* field separator */
	}
	return h ^ row->n;
}

static void collect(pim_csv *csv, seen *s)
{
	pim_csv_row *row;
	int rc;

	while ((rc = pim_csv_next(csv, &row)) == 1) {
		if (s->n == s->cap) {
			s->cap = s->cap ? 2 * s->cap : 4096;
			s->line = realloc(s->line, s->cap * sizeof *s->line);
			s->hash = realloc(s->hash, s->cap * sizeof *s->hash);
			assert_non_null(s->line);
			assert_non_null(s->hash);
		}
		s->line[s->n] = row->line;
		s->hash[s->n] = row_hash(row);
		s->n++;
	}
	assert_int_equal(rc, 0);
}

static void seen_free(seen *s)
{
	free(s->line);
	free(s->hash);
	memset(s, 0, sizeof *s);
}

/*
 * Reads `path` with one reader, then again in pieces: the first reader
 * reads piece 0, a second one the others, last piece first, as a thread may
 * well do. The pieces in order must give exactly the rows of the single
 * reader, with the same lines. Returns 1 when the file was cut.
 */
static int expect_split_matches(const char *path)
{
	pim_csv *one, *first, *other = NULL;
	recorder r1, r2, r3;
	seen all = { 0 }, parts[PIM_CSV_PIECES_MAX + 1];
	size_t n, k = 0;

	memset(parts, 0, sizeof parts);
	one = open_ok(path, NULL, 0, &r1);
	collect(one, &all);
	pim_csv_close(one);
	expect_no_diags(&r1);

	first = open_ok(path, NULL, 0, &r2);
	n = pim_csv_pieces(first);
	assert_true(n >= 1 && n <= PIM_CSV_PIECES_MAX);
	if (n > 1) {
		memset(&r3, 0, sizeof r3);
		assert_int_equal(pim_csv_reader(first, &other, record, &r3), 0);
		assert_int_equal(pim_csv_seek_piece(other, n), PIM_EINVALID);
		for (size_t i = n - 1; i >= 1; i--) {
			assert_int_equal(pim_csv_seek_piece(other, i), 0);
			collect(other, &parts[i]);
		}
		expect_no_diags(&r3);
	}
	collect(first, &parts[0]);
	expect_no_diags(&r2);

	for (size_t p = 0; p < n; p++) {
		if (n > 1)
			assert_true(parts[p].n > 100);
		if (p > 0)
			assert_true(parts[p - 1].line[parts[p - 1].n - 1] <
				    parts[p].line[0]);
		for (size_t i = 0; i < parts[p].n; i++, k++) {
			if (k >= all.n)
				fail_msg("the pieces gave more rows than a "
					 "single reader (%zu)", all.n);
			if (parts[p].line[i] != all.line[k] ||
			    parts[p].hash[i] != all.hash[k])
				fail_msg("row %zu: line %lu (single reader: "
					 "%lu) or fields differ",
					 k, parts[p].line[i], all.line[k]);
		}
	}
	if (k != all.n)
		fail_msg("the pieces gave %zu rows, a single reader %zu", k,
			 all.n);
	pim_csv_close(other);
	pim_csv_close(first);
	seen_free(&all);
	for (size_t p = 0; p < n; p++)
		seen_free(&parts[p]);
	return n > 1;
}

static void test_split_reads_the_same_rows(void **state)
{
	const char *path = write_big("big.csv", BIG_PLAIN);

	(void)state;
#if !defined(__SSE2__)
	skip(); /* the split point comes from the SSE2 detection pass */
#endif
	assert_true(expect_split_matches(path));
}

/* A quote that ends an unquoted field (27",) looks like a closing quote
 * to a scanner that only looks at its neighbours; two of them turn the
 * quote parity upside down in between. Refusing the split is fine;
 * splitting inside a quoted field is not. */
static void test_split_inch_mark_before_delimiter(void **state)
{
	const char *path = write_big("big-inch-end.csv", BIG_INCH_AT_END);

	(void)state;
	expect_split_matches(path);
}

static void test_split_refused_for_inch_marks(void **state)
{
	const char *path = write_big("big-inch.csv", BIG_INCH);
	pim_csv *csv;
	recorder r1;
	seen all = { 0 };

	(void)state;
	csv = open_ok(path, NULL, 0, &r1);
	assert_int_equal(pim_csv_pieces(csv), 1);
	/* the one reader still reads every row */
	collect(csv, &all);
	expect_no_diags(&r1);
	assert_true(all.n > 100000);
	assert_int_equal(all.line[0], 1);
	assert_int_equal(all.line[11], 12);
	pim_csv_close(csv);
	seen_free(&all);
}

static void test_small_file_not_split(void **state)
{
	pim_csv *csv;
	recorder r;

	(void)state;
	csv = open_ok(write_text("small-split.csv", "a,b\n1,2\n"), NULL, 0, &r);
	assert_int_equal(pim_csv_pieces(csv), 1);
	pim_csv_close(csv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_fields_and_lines),
		cmocka_unit_test(test_last_line_without_newline),
		cmocka_unit_test(test_quoted_multiline_field_keeps_record_lines),
		cmocka_unit_test(test_records_counted_by_detection),
		cmocka_unit_test(test_detects_comma),
		cmocka_unit_test(test_detects_semicolon),
		cmocka_unit_test(test_detects_tab),
		cmocka_unit_test(test_detects_pipe),
		cmocka_unit_test(test_semicolon_with_commas_in_quotes),
		cmocka_unit_test(test_semicolon_file_decimal_comma),
		cmocka_unit_test(test_semicolon_file_decimal_point),
		cmocka_unit_test(test_comma_file_decimal_is_point),
		cmocka_unit_test(test_crlf_line_ends),
		cmocka_unit_test(test_cr_line_ends),
		cmocka_unit_test(test_lf_line_ends),
		cmocka_unit_test(test_utf8_bom_is_skipped),
		cmocka_unit_test(test_utf16le_with_bom),
		cmocka_unit_test(test_utf16be_with_bom),
		cmocka_unit_test(test_windows1252_detected_and_converted),
		cmocka_unit_test(test_utf8_validity_edge_cases),
		cmocka_unit_test(test_neither_utf8_nor_windows1252),
		cmocka_unit_test(test_utf16_without_bom_refused),
		cmocka_unit_test(test_utf16be_without_bom_refused),
		cmocka_unit_test(test_missing_file_is_eio),
		cmocka_unit_test(test_forced_delimiter_wins),
		cmocka_unit_test(test_forced_encoding_wins),
		cmocka_unit_test(test_forced_latin1_converts),
		cmocka_unit_test(test_forced_utf8_reports_bad_bytes),
		cmocka_unit_test(test_forced_quote_and_decimal_win),
		cmocka_unit_test(test_nul_bytes_come_through),
		cmocka_unit_test(test_blank_line_warned_lines_kept),
		cmocka_unit_test(test_field_too_large_skips_row),
		cmocka_unit_test(test_quoted_field_too_large_skips_row),
		cmocka_unit_test(test_multiline_field_too_large_skips_whole_record),
		cmocka_unit_test(test_row_too_large),
		cmocka_unit_test(test_overlong_line_skipped),
		cmocka_unit_test(test_overlong_last_line_reported),
		cmocka_unit_test(test_field_under_limit_is_read),
		cmocka_unit_test(test_too_many_fields),
		cmocka_unit_test(test_max_columns_is_allowed),
		cmocka_unit_test(test_unterminated_quote),
		cmocka_unit_test(test_inch_mark_is_text),
		cmocka_unit_test(test_empty_file_has_no_rows),
		cmocka_unit_test(test_close_null_is_safe),
		cmocka_unit_test(test_encoding_names),
		cmocka_unit_test(test_split_reads_the_same_rows),
		cmocka_unit_test(test_split_refused_for_inch_marks),
		cmocka_unit_test(test_split_inch_mark_before_delimiter),
		cmocka_unit_test(test_small_file_not_split),
	};

	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
