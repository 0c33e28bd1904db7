/*
 * test_jsonin.c - unit tests of the strict JSON parser (every value form,
 * escapes and surrogate pairs, errors with their byte offset, depth and
 * size limits, numbers kept exactly) and of the JSON Lines record reader
 * (header order, value forms as cells, broken lines, long lines).
 */
#include <dirent.h>
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
#include "pim.h"
#include "recin.h"

/* ---- helpers --------------------------------------------------------------- */

static pim_json_doc doc;
static pim_json_err jerr;

static int parse(const char *s)
{
	return pim_json_parse(&doc, &jerr, s, strlen(s));
}

static int setup_doc(void **state)
{
	(void)state;
	pim_json_init(&doc);
	return 0;
}

static int teardown_doc(void **state)
{
	(void)state;
	pim_json_free(&doc);
	return 0;
}

/* The n-th child (0-based) of node k. */
static const pim_json_node *nth(size_t k, size_t n)
{
	size_t c = doc.node[k].first;
	while (n-- && c)
		c = doc.node[c].next;
	assert_true(c != 0);
	return &doc.node[c];
}

/* Expects a parse error at 0-based offset `pos` whose message holds
 * `words`. */
static void expect_error(const char *s, size_t pos, const char *words)
{
	assert_int_equal(parse(s), PIM_EPARSE);
	if (jerr.pos != pos || !strstr(jerr.msg, words))
		fail_msg("%s: got %zu '%s', expected %zu '%s'", s, jerr.pos,
			 jerr.msg, pos, words);
}

/* ---- values ---------------------------------------------------------------- */

static void test_scalars(void **state)
{
	(void)state;
	assert_int_equal(parse("\"text\""), 0);
	assert_int_equal(doc.node[0].type, PIM_JSON_STRING);
	assert_string_equal(pim_json_text(&doc, &doc.node[0]), "text");
	assert_int_equal(parse(" true "), 0);
	assert_int_equal(doc.node[0].type, PIM_JSON_TRUE);
	assert_int_equal(parse("false"), 0);
	assert_int_equal(doc.node[0].type, PIM_JSON_FALSE);
	assert_int_equal(parse("null"), 0);
	assert_int_equal(doc.node[0].type, PIM_JSON_NULL);
	assert_int_equal(parse("-12.50e+3"), 0);
	assert_int_equal(doc.node[0].type, PIM_JSON_NUMBER);
	assert_string_equal(pim_json_text(&doc, &doc.node[0]), "-12.50e+3");
}

static void test_numbers_kept_exactly(void **state)
{
	static const char *const nums[] = {
		"0", "-0", "12.50", "1E400", "-1e-400", "0.000000000000000000001",
		"123456789012345678901234567890123456789012345678901234567890",
		"9007199254740993", "3.14159265358979323846264338327950288",
		NULL
	};
	(void)state;
	for (int i = 0; nums[i]; i++) {
		assert_int_equal(parse(nums[i]), 0);
		assert_int_equal(doc.node[0].type, PIM_JSON_NUMBER);
		assert_string_equal(pim_json_text(&doc, &doc.node[0]), nums[i]);
		assert_int_equal(doc.node[0].len, strlen(nums[i]));
	}
}

static void test_object_and_array(void **state)
{
	const pim_json_node *a, *b;
	(void)state;
	assert_int_equal(parse("{\"a\": [1, \"x\", null], \"b\": {}}"), 0);
	assert_int_equal(doc.node[0].type, PIM_JSON_OBJECT);
	assert_int_equal(doc.node[0].n, 2);
	a = nth(0, 0);
	assert_string_equal(pim_json_keytext(&doc, a), "a");
	assert_int_equal(a->key_pos, 1);
	assert_int_equal(a->type, PIM_JSON_ARRAY);
	assert_int_equal(a->n, 3);
	assert_int_equal(a->pos, 6);
	assert_int_equal(a->end, 20);
	b = nth(0, 1);
	assert_string_equal(pim_json_keytext(&doc, b), "b");
	assert_int_equal(b->type, PIM_JSON_OBJECT);
	assert_int_equal(b->n, 0);
	assert_int_equal(parse("[]"), 0);
	assert_int_equal(doc.node[0].type, PIM_JSON_ARRAY);
	assert_int_equal(doc.node[0].n, 0);
	assert_int_equal(doc.node[0].end, 2);
}

static void test_escapes(void **state)
{
	const pim_json_node *n;
	(void)state;
	assert_int_equal(parse("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\""), 0);
	assert_string_equal(pim_json_text(&doc, &doc.node[0]),
			    "q\" b\\ s/ \b\f\n\r\t");
	assert_int_equal(parse("\"Gr\\u00e5 \\u20AC\""), 0);
	assert_string_equal(pim_json_text(&doc, &doc.node[0]),
			    "Gr\xC3\xA5 \xE2\x82\xAC");
	/* a NUL stays in the value; the length says so */
	assert_int_equal(parse("\"a\\u0000b\""), 0);
	n = &doc.node[0];
	assert_int_equal(n->len, 3);
	assert_memory_equal(pim_json_text(&doc, n), "a\0b", 3);
	/* escaped keys are decoded too */
	assert_int_equal(parse("{\"n\\u0061me\": 1}"), 0);
	assert_string_equal(pim_json_keytext(&doc, nth(0, 0)), "name");
}

static void test_surrogate_pairs(void **state)
{
	(void)state;
	assert_int_equal(parse("\"\\ud83d\\ude00\""), 0);
	assert_string_equal(pim_json_text(&doc, &doc.node[0]),
			    "\xF0\x9F\x98\x80");
	assert_int_equal(parse("\"\\uDBFF\\uDFFF\""), 0);
	assert_string_equal(pim_json_text(&doc, &doc.node[0]),
			    "\xF4\x8F\xBF\xBF");
	expect_error("\"x\\ud83d\"", 2, "high surrogate");
	expect_error("\"x\\ud83dy\"", 2, "high surrogate");
	expect_error("\"\\ud83d\\u0041\"", 1, "high surrogate");
	expect_error("\"ab\\ude00\"", 3, "lone low surrogate");
}

static void test_raw_utf8(void **state)
{
	(void)state;
	assert_int_equal(parse("\"Gr\xC3\xA5 \xE2\x82\xAC \xF0\x9F\x98\x80\""),
			 0);
	expect_error("\"ab\xC3\"", 3, "invalid UTF-8");
	expect_error("\"\xC0\x80\"", 1, "invalid UTF-8");     /* overlong */
	expect_error("\"x\xE0\x80\x80\"", 2, "invalid UTF-8"); /* overlong */
	expect_error("\"\xED\xA0\x80\"", 1, "invalid UTF-8");  /* surrogate */
	expect_error("\"\xF4\x90\x80\x80\"", 1, "invalid UTF-8");
	expect_error("\"\xFF\"", 1, "invalid UTF-8");
	expect_error("\xC3\xA5", 0, "byte 0xC3");
}

/* ---- errors, with the byte where they are ----------------------------------- */

static void test_syntax_error_columns(void **state)
{
	(void)state;
	expect_error("{\"a\": 1 \"b\": 2}", 8, "expected ',' or '}'");
	expect_error("{\"a\": 1,}", 8, "member name");
	expect_error("[1, 2,]", 6, "expected a value");
	expect_error("{\"a\" 1}", 5, "expected ':'");
	expect_error("{'a': 1}", 1, "member name");
	expect_error("{\"a\": \"open}", 6, "unterminated string");
	expect_error("{\"a\": [1, 2}", 11, "expected ',' or ']'");
	expect_error("{\"a\": 1", 0, "object is not closed");
	expect_error("\"tab\there\"", 4, "control character U+0009");
	expect_error("\"\\x41\"", 1, "invalid escape '\\x'");
	expect_error("\"\\u12G4\"", 1, "four hex digits");
	expect_error("01", 1, "leading zeros");
	expect_error("1.", 2, "after '.'");
	expect_error(".5", 0, "expected a value");
	expect_error("-", 1, "expected a digit");
	expect_error("1e", 2, "exponent");
	expect_error("+1", 0, "expected a value");
	expect_error("tru", 0, "invalid literal");
	expect_error("nulls", 0, "invalid literal");
	expect_error("NaN", 0, "expected a value");
	expect_error("Infinity", 0, "expected a value");
	expect_error("{} x", 3, "after the value");
	expect_error("", 0, "end of the line");
	expect_error("   ", 3, "end of the line");
}

static void test_depth_limit(void **state)
{
	char buf[300];
	size_t k = 0;
	(void)state;
	for (int i = 0; i < 64; i++)
		buf[k++] = '[';
	for (int i = 0; i < 64; i++)
		buf[k++] = ']';
	buf[k] = '\0';
	assert_int_equal(parse(buf), 0);
	k = 0;
	for (int i = 0; i < 65; i++)
		buf[k++] = '[';
	for (int i = 0; i < 65; i++)
		buf[k++] = ']';
	buf[k] = '\0';
	expect_error(buf, 64, "nested deeper than 64");
	doc.max_depth = 2;
	assert_int_equal(parse("{\"a\": [1]}"), 0);
	expect_error("{\"a\": [[1]]}", 7, "nested deeper than 2");
	doc.max_depth = 0;
}

static void test_node_limit(void **state)
{
	(void)state;
	doc.max_nodes = 4;
	assert_int_equal(parse("[1, 2, 3]"), 0);
	expect_error("[1, 2, 3, 4]", 10, "more than 4 values");
	doc.max_nodes = 0;
}

static void test_is_object(void **state)
{
	(void)state;
	assert_true(pim_json_is_object("{\"a\":1}", 7));
	assert_false(pim_json_is_object("[1]", 3));
	assert_false(pim_json_is_object("{\"a\":1", 6));
}

/* ---- the JSON Lines reader ----------------------------------------------------- */

static char tmpdir[512];

static int make_tmpdir(void **state)
{
	const char *base = getenv("TMPDIR");
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "%s/pim-test-jsonin-XXXXXX",
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

static const char *write_file(const char *name, const char *data, size_t len)
{
	static char path[1024];
	FILE *f;
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	return path;
}

/* Diagnostics, collected as "LINE:COL code" lines. */
static char diags[4096];

static int collect(const pim_diag *d, void *ctx)
{
	size_t n = strlen(diags);
	(void)ctx;
	snprintf(diags + n, sizeof diags - n, "%lu:%lu %s\n", d->line, d->col,
		 d->code);
	return 0;
}

static pim_recin *open_jsonl(const char *name, const char *text,
			     size_t max_field)
{
	pim_recin_opts o;
	pim_recin *rd = NULL;
	char err[256];
	memset(&o, 0, sizeof o);
	o.format = PIM_FORMAT_JSONL;
	o.max_field = max_field;
	diags[0] = '\0';
	assert_int_equal(pim_recin_open(&rd, write_file(name, text, strlen(text)),
					&o, collect, NULL, err, sizeof err),
			 0);
	return rd;
}

static long col_of(const pim_recin *rd, const char *name)
{
	const pim_csv_row *h = pim_recin_header(rd);
	for (size_t j = 0; j < h->n; j++)
		if (!strcmp(h->field[j], name))
			return (long)j;
	fail_msg("no column %s", name);
	return -1;
}

static void test_reader_header_in_order(void **state)
{
	pim_recin *rd;
	const pim_csv_row *h;
	const pim_fpos *pos;
	(void)state;
	rd = open_jsonl("order.jsonl",
			"{\"sku\": \"A\", \"name\": {\"nb_NO\": \"x\", \"en_US\": \"y\"}}\n"
			"\n"
			"{\"gtin\": \"1\", \"sku\": \"B\"}\n",
			0);
	h = pim_recin_header(rd);
	pos = pim_recin_header_pos(rd);
	assert_int_equal(h->n, 5); /* and the raw column */
	assert_string_equal(h->field[0], "sku");
	assert_string_equal(h->field[1], "name@nb_NO");
	assert_string_equal(h->field[2], "name@en_US");
	assert_string_equal(h->field[3], "gtin");
	assert_int_equal(pim_recin_raw_col(rd), 4);
	assert_int_equal(pos[3].line, 3);
	assert_int_equal(pos[3].col, 2);
	assert_int_equal(pos[2].col, 37);
	assert_int_equal(pim_recin_records(rd), 2);
	pim_recin_close(rd);
}

static void test_reader_value_forms(void **state)
{
	static const char text[] =
		"{\"sku\": \"A\", \"price\": {\"amount\": 12.50, \"currency\": "
		"\"NOK\"}, \"w\": {\"amount\": 2.5, \"unit\": \"KGM\"}, \"s\": "
		"\"12.50 NOK\", \"big\": 123456789012345678901234567890, \"ok\": "
		"true, \"no\": false, \"nil\": null, \"tags\": [\"a\", \"b\", 3], "
		"\"name\": {\"nb_NO\": \"Hylle\"}, \"d@en_US\": \"Shelf\", \"e1\": "
		"1.5e-3, \"e2\": -2.50E+1, \"e3\": 7e2, \"e4\": 0.012e1}\n";
	pim_recin *rd;
	pim_csv_row *row;
	const pim_fpos *pos;
	int broken;
	(void)state;
	rd = open_jsonl("forms.jsonl", text, 0);
	assert_int_equal(pim_recin_next(rd, &row, &pos, &broken), 1);
	assert_false(broken);
	assert_int_equal(row->line, 1);
	assert_string_equal(row->field[col_of(rd, "sku")], "A");
	assert_string_equal(row->field[col_of(rd, "price")], "12.50 NOK");
	assert_string_equal(row->field[col_of(rd, "w")], "2.5 KGM");
	assert_string_equal(row->field[col_of(rd, "s")], "12.50 NOK");
	assert_string_equal(row->field[col_of(rd, "big")],
			    "123456789012345678901234567890");
	assert_string_equal(row->field[col_of(rd, "ok")], "true");
	assert_string_equal(row->field[col_of(rd, "no")], "false");
	assert_string_equal(row->field[col_of(rd, "nil")], "");
	assert_true(row->field[col_of(rd, "nil")] != pim_recin_absent);
	assert_string_equal(row->field[col_of(rd, "tags")], "a,b,3");
	assert_string_equal(row->field[col_of(rd, "name@nb_NO")], "Hylle");
	assert_string_equal(row->field[col_of(rd, "d@en_US")], "Shelf");
	/* exponents are written out, digit for digit */
	assert_string_equal(row->field[col_of(rd, "e1")], "0.0015");
	assert_string_equal(row->field[col_of(rd, "e2")], "-25.0");
	assert_string_equal(row->field[col_of(rd, "e3")], "700");
	assert_string_equal(row->field[col_of(rd, "e4")], "0.12");
	/* the value's byte column */
	assert_int_equal(pos[col_of(rd, "price")].col, 23);
	/* the raw column holds the line as read */
	assert_int_equal(row->len[pim_recin_raw_col(rd)], strlen(text) - 1);
	assert_int_equal(pim_recin_next(rd, &row, &pos, &broken), 0);
	assert_string_equal(diags, "");
	pim_recin_close(rd);
}

static void test_reader_absent_and_lists(void **state)
{
	pim_recin *rd;
	pim_csv_row *row;
	const pim_fpos *pos;
	unsigned char lists[4] = { 0, 1, 0, 0 };
	int broken;
	(void)state;
	rd = open_jsonl("lists.jsonl",
			"{\"sku\": \"A\", \"tags\": [\"x\"], \"one\": \"v\"}\n"
			"{\"sku\": \"B\"}\n"
			"{\"sku\": \"C\", \"one\": [\"a\", \"b\"]}\n",
			0);
	pim_recin_set_lists(rd, lists);
	assert_int_equal(pim_recin_next(rd, &row, &pos, &broken), 1);
	assert_false(broken);
	assert_int_equal(pim_recin_next(rd, &row, &pos, &broken), 1);
	assert_false(broken);
	assert_ptr_equal(row->field[col_of(rd, "tags")], pim_recin_absent);
	assert_ptr_equal(row->field[col_of(rd, "one")], pim_recin_absent);
	assert_int_equal(pim_recin_next(rd, &row, &pos, &broken), 1);
	assert_true(broken);
	assert_string_equal(diags, "3:21 list\n");
	pim_recin_close(rd);
}

static void test_reader_broken_lines(void **state)
{
	pim_recin *rd;
	pim_csv_row *row;
	const pim_fpos *pos;
	int broken;
	long raw;
	(void)state;
	rd = open_jsonl("broken.jsonl",
			"\xEF\xBB\xBF{\"sku\": \"A\"}\r\n"
			"{\"sku\": \"B\",}\n"
			"[\"sku\"]\n"
			"{\"sku\": \"C\", \"sku\": \"D\"}\n"
			"{\"sku\": {\"amount\": 1, \"colour\": 2}}\n"
			"{\"sku\": \"E\"}",
			0);
	raw = pim_recin_raw_col(rd);
	assert_int_equal(pim_recin_next(rd, &row, &pos, &broken), 1);
	assert_false(broken);
	assert_string_equal(row->field[0], "A");
	assert_string_equal(row->field[raw], "{\"sku\": \"A\"}");
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pim_recin_next(rd, &row, &pos, &broken), 1);
		assert_true(broken);
		assert_int_equal(row->field[0][0], '\0');
	}
	assert_string_equal(row->field[raw],
			    "{\"sku\": {\"amount\": 1, \"colour\": 2}}");
	assert_int_equal(pim_recin_next(rd, &row, &pos, &broken), 1);
	assert_false(broken);
	assert_string_equal(row->field[0], "E");
	assert_int_equal(row->line, 6);
	assert_int_equal(pim_recin_next(rd, &row, &pos, &broken), 0);
	assert_string_equal(diags, "2:13 syntax\n"
				   "3:1 not-an-object\n"
				   "4:14 duplicate-member\n"
				   "5:23 bad-value\n");
	pim_recin_close(rd);
}

static void test_reader_long_line(void **state)
{
	pim_recin *rd;
	pim_csv_row *row;
	const pim_fpos *pos;
	int broken;
	pim_buf b = PIM_BUF_INIT;
	(void)state;
	/* max field 16 bytes: a line may have 256 */
	pim_buf_adds(&b, "{\"sku\": \"");
	for (int i = 0; i < 300; i++)
		pim_buf_addc(&b, 'x');
	pim_buf_adds(&b, "\"}\n{\"sku\": \"0123456789abcdefg\"}\n{\"sku\": \"ok\"}\n");
	rd = open_jsonl("long.jsonl", b.data, 16);
	assert_int_equal(pim_recin_next(rd, &row, &pos, &broken), 1);
	assert_true(broken);
	assert_int_equal(row->len[pim_recin_raw_col(rd)], 0);
	assert_int_equal(pim_recin_next(rd, &row, &pos, &broken), 1);
	assert_true(broken);
	assert_int_equal(pim_recin_next(rd, &row, &pos, &broken), 1);
	assert_false(broken);
	assert_string_equal(row->field[0], "ok");
	assert_int_equal(row->line, 3);
	assert_string_equal(diags, "1:1 line-too-long\n2:9 field-too-long\n");
	pim_recin_close(rd);
	pim_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest parser[] = {
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_numbers_kept_exactly),
		cmocka_unit_test(test_object_and_array),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_surrogate_pairs),
		cmocka_unit_test(test_raw_utf8),
		cmocka_unit_test(test_syntax_error_columns),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_node_limit),
		cmocka_unit_test(test_is_object),
	};
	const struct CMUnitTest reader[] = {
		cmocka_unit_test(test_reader_header_in_order),
		cmocka_unit_test(test_reader_value_forms),
		cmocka_unit_test(test_reader_absent_and_lists),
		cmocka_unit_test(test_reader_broken_lines),
		cmocka_unit_test(test_reader_long_line),
	};
	int fails = cmocka_run_group_tests_name("json parser", parser, setup_doc,
						teardown_doc);
	fails += cmocka_run_group_tests_name("json lines reader", reader,
					     make_tmpdir, remove_tmpdir);
	return fails ? 1 : 0;
}
