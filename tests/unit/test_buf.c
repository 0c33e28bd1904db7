/*
 * test_buf.c - unit tests of the growable buffer (growth, size cap, JSON
 * string escaping) and the string helpers: UTF-8 validation, character
 * counting, Levenshtein distance, checked size arithmetic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "pim.h"

/* ---- growth ----------------------------------------------------------- */

static void test_buf_init_is_empty(void **state)
{
	pim_buf b = PIM_BUF_INIT;

	(void)state;
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	pim_buf_init(&b, 100);
	assert_null(b.data);
	assert_int_equal(b.max, 100);
	pim_buf_free(&b);
}

static void test_buf_add_grows(void **state)
{
	pim_buf b = PIM_BUF_INIT;
	char chunk[37];

	(void)state;
	for (size_t i = 0; i < sizeof chunk; i++)
		chunk[i] = (char)('a' + i % 26);
	for (int i = 0; i < 100; i++)
		assert_int_equal(pim_buf_add(&b, chunk, sizeof chunk), 0);
	assert_int_equal(b.len, 100 * sizeof chunk);
	assert_true(b.cap >= b.len + 1);
	assert_int_equal(b.data[b.len], '\0');
	for (size_t i = 0; i < b.len; i++)
		assert_int_equal(b.data[i], chunk[i % sizeof chunk]);
	pim_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void test_buf_adds_addc_printf(void **state)
{
	pim_buf b = PIM_BUF_INIT;

	(void)state;
	assert_int_equal(pim_buf_adds(&b, "abc"), 0);
	assert_int_equal(pim_buf_addc(&b, '-'), 0);
	assert_int_equal(pim_buf_printf(&b, "%d:%s", 42, "x"), 0);
	assert_string_equal(b.data, "abc-42:x");
	assert_int_equal(b.len, 8);
	pim_buf_free(&b);
}

static void test_buf_printf_grows(void **state)
{
	pim_buf b = PIM_BUF_INIT;
	char big[1000];

	(void)state;
	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(pim_buf_adds(&b, "<"), 0);
	assert_int_equal(pim_buf_printf(&b, "%s>", big), 0);
	assert_int_equal(b.len, 1001);
	assert_int_equal(b.data[0], '<');
	assert_int_equal(b.data[999], 'z');
	assert_int_equal(b.data[1000], '>');
	assert_int_equal(b.data[1001], '\0');
	pim_buf_free(&b);
}

static void test_buf_add_nothing_gives_empty_string(void **state)
{
	pim_buf b = PIM_BUF_INIT;

	(void)state;
	assert_int_equal(pim_buf_add(&b, "", 0), 0);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	assert_int_equal(b.len, 0);
	pim_buf_free(&b);
}

static void test_buf_clear_keeps_capacity(void **state)
{
	pim_buf b = PIM_BUF_INIT;
	size_t cap;

	(void)state;
	assert_int_equal(pim_buf_adds(&b, "hello world"), 0);
	cap = b.cap;
	pim_buf_clear(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	assert_int_equal(b.cap, cap);
	assert_int_equal(pim_buf_adds(&b, "x"), 0);
	assert_string_equal(b.data, "x");
	pim_buf_free(&b);
}

static void test_buf_detach(void **state)
{
	pim_buf b = PIM_BUF_INIT;
	char *s;

	(void)state;
	assert_int_equal(pim_buf_adds(&b, "kept"), 0);
	s = pim_buf_detach(&b);
	assert_string_equal(s, "kept");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	pim_free(s);
	s = pim_buf_detach(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	pim_free(s);
}

/* ---- the cap ---------------------------------------------------------- */

static void test_buf_cap_allows_max_bytes(void **state)
{
	pim_buf b;

	(void)state;
	pim_buf_init(&b, 10);
	assert_int_equal(pim_buf_add(&b, "0123456789", 10), 0);
	assert_string_equal(b.data, "0123456789");
	pim_buf_free(&b);
}

static void test_buf_cap_refuses_one_more(void **state)
{
	pim_buf b;

	(void)state;
	pim_buf_init(&b, 10);
	assert_int_equal(pim_buf_add(&b, "0123456789", 10), 0);
	assert_int_equal(pim_buf_add(&b, "x", 1), PIM_ELIMIT);
	assert_int_equal(pim_buf_addc(&b, 'x'), PIM_ELIMIT);
	/* the content is left as it was */
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "0123456789");
	pim_buf_free(&b);
}

static void test_buf_cap_refuses_large_add_at_once(void **state)
{
	pim_buf b;

	(void)state;
	pim_buf_init(&b, 10);
	assert_int_equal(pim_buf_add(&b, "0123456789A", 11), PIM_ELIMIT);
	assert_int_equal(b.len, 0);
	pim_buf_free(&b);
}

static void test_buf_cap_on_printf(void **state)
{
	pim_buf b;

	(void)state;
	pim_buf_init(&b, 8);
	assert_int_equal(pim_buf_adds(&b, "abc"), 0);
	assert_int_equal(pim_buf_printf(&b, "%s", "123456"), PIM_ELIMIT);
	assert_int_equal(b.len, 3);
	assert_string_equal(b.data, "abc");
	assert_int_equal(pim_buf_printf(&b, "%s", "12345"), 0);
	assert_string_equal(b.data, "abc12345");
	pim_buf_free(&b);
}

static void test_buf_cap_on_addc(void **state)
{
	pim_buf b;

	(void)state;
	pim_buf_init(&b, 3);
	assert_int_equal(pim_buf_addc(&b, 'a'), 0);
	assert_int_equal(pim_buf_addc(&b, 'b'), 0);
	assert_int_equal(pim_buf_addc(&b, 'c'), 0);
	assert_int_equal(pim_buf_addc(&b, 'd'), PIM_ELIMIT);
	assert_string_equal(b.data, "abc");
	pim_buf_free(&b);
}

static void test_buf_reserve_overflow(void **state)
{
	pim_buf b = PIM_BUF_INIT;

	(void)state;
	assert_int_equal(pim_buf_adds(&b, "x"), 0);
	assert_int_equal(pim_buf_reserve(&b, SIZE_MAX), PIM_ELIMIT);
	assert_int_equal(pim_buf_reserve(&b, SIZE_MAX - 1), PIM_ELIMIT);
	assert_string_equal(b.data, "x");
	pim_buf_free(&b);
}

static void test_buf_default_cap_is_one_gib(void **state)
{
	pim_buf b = PIM_BUF_INIT;

	(void)state;
	assert_int_equal(pim_buf_reserve(&b, ((size_t)1 << 30) + 1),
			 PIM_ELIMIT);
	pim_buf_free(&b);
}

/* ---- JSON strings ----------------------------------------------------- */

static void json_is(const char *in, size_t len, const char *want)
{
	pim_buf b = PIM_BUF_INIT;

	assert_int_equal(pim_buf_add_json_string(&b, in, len), 0);
	assert_string_equal(b.data, want);
	assert_int_equal(b.len, strlen(want));
	pim_buf_free(&b);
}

static void test_json_plain(void **state)
{
	(void)state;
	json_is("abc", 3, "\"abc\"");
	json_is("", 0, "\"\"");
}

static void test_json_quote_and_backslash(void **state)
{
	(void)state;
	json_is("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
}

static void test_json_short_escapes(void **state)
{
	(void)state;
	json_is("\n\r\t", 3, "\"\\n\\r\\t\"");
}

static void test_json_control_as_unicode_escape(void **state)
{
	(void)state;
	json_is("\x01\x1f\b\f", 4, "\"\\u0001\\u001f\\u0008\\u000c\"");
}

static void test_json_nul_byte(void **state)
{
	(void)state;
	json_is("a\0b", 3, "\"a\\u0000b\"");
}

static void test_json_utf8_passes_through(void **state)
{
	(void)state;
	json_is("bl\xC3\xA5 \xE2\x82\xAC", 8, "\"bl\xC3\xA5 \xE2\x82\xAC\"");
	json_is("a/b\x7F", 4, "\"a/b\x7F\"");
}

static void test_json_appends(void **state)
{
	pim_buf b = PIM_BUF_INIT;

	(void)state;
	assert_int_equal(pim_buf_adds(&b, "{\"k\":"), 0);
	assert_int_equal(pim_buf_add_json_string(&b, "v\n", 2), 0);
	assert_int_equal(pim_buf_addc(&b, '}'), 0);
	assert_string_equal(b.data, "{\"k\":\"v\\n\"}");
	pim_buf_free(&b);
}

static void test_json_respects_cap(void **state)
{
	pim_buf b;

	(void)state;
	pim_buf_init(&b, 6);
	/* "a\n" quoted and escaped is 5 bytes; "\u0001" quoted is 8 */
	assert_int_equal(pim_buf_add_json_string(&b, "a\n", 2), 0);
	assert_string_equal(b.data, "\"a\\n\"");
	pim_buf_clear(&b);
	assert_int_equal(pim_buf_add_json_string(&b, "\x01", 1), PIM_ELIMIT);
	pim_buf_free(&b);
}

/* ---- UTF-8 ------------------------------------------------------------ */

static size_t valid(const char *s)
{
	return pim_utf8_valid(s, strlen(s));
}

static void test_utf8_valid_ascii_and_multibyte(void **state)
{
	(void)state;
	assert_int_equal(valid("plain ascii"), 11);
	assert_int_equal(valid("bl\xC3\xA5" "b\xC3\xA6r"), 8); /* U+00E5 */
	assert_int_equal(valid("\xE2\x82\xAC"), 3);            /* U+20AC */
	assert_int_equal(valid("\xF0\x9F\x98\x80"), 4);        /* U+1F600 */
	assert_int_equal(pim_utf8_valid("", 0), 0);
}

static void test_utf8_valid_boundaries(void **state)
{
	(void)state;
	assert_int_equal(valid("\xC2\x80"), 2);         /* U+0080 */
	assert_int_equal(valid("\xDF\xBF"), 2);         /* U+07FF */
	assert_int_equal(valid("\xE0\xA0\x80"), 3);     /* U+0800 */
	assert_int_equal(valid("\xED\x9F\xBF"), 3);     /* U+D7FF */
	assert_int_equal(valid("\xEE\x80\x80"), 3);     /* U+E000 */
	assert_int_equal(valid("\xEF\xBF\xBF"), 3);     /* U+FFFF */
	assert_int_equal(valid("\xF0\x90\x80\x80"), 4); /* U+10000 */
	assert_int_equal(valid("\xF4\x8F\xBF\xBF"), 4); /* U+10FFFF */
}

static void test_utf8_embedded_nul_is_valid(void **state)
{
	(void)state;
	assert_int_equal(pim_utf8_valid("a\0b", 3), 3);
}

static void test_utf8_invalid_bytes(void **state)
{
	(void)state;
	assert_int_equal(valid("\x80"), 0);          /* lone continuation */
	assert_int_equal(valid("ab\xBF" "cd"), 2);
	assert_int_equal(valid("\xFF"), 0);
	assert_int_equal(valid("x\xFE"), 1);
	assert_int_equal(valid("\xF5\x80\x80\x80"), 0);
	assert_int_equal(valid("\xC3(" "x"), 0);      /* bad continuation */
	assert_int_equal(valid("ok\xE2\x28\xA1"), 2);
}

static void test_utf8_truncated(void **state)
{
	(void)state;
	assert_int_equal(valid("ab\xC3"), 2);
	assert_int_equal(valid("\xE2\x82"), 0);
	assert_int_equal(valid("xyz\xF0\x9F\x98"), 3);
	/* cut by the length, not by a NUL */
	assert_int_equal(pim_utf8_valid("\xE2\x82\xAC", 2), 0);
}

static void test_utf8_overlong(void **state)
{
	(void)state;
	assert_int_equal(valid("\xC0\x80"), 0);          /* NUL in 2 bytes */
	assert_int_equal(valid("\xC1\xBF"), 0);          /* U+007F */
	assert_int_equal(valid("a\xE0\x80\x80"), 1);     /* NUL in 3 bytes */
	assert_int_equal(valid("\xE0\x9F\xBF"), 0);      /* U+07FF in 3 */
	assert_int_equal(valid("\xF0\x80\x80\x80"), 0);  /* NUL in 4 */
	assert_int_equal(valid("\xF0\x8F\xBF\xBF"), 0);  /* U+FFFF in 4 */
}

static void test_utf8_surrogates_and_beyond(void **state)
{
	(void)state;
	assert_int_equal(valid("\xED\xA0\x80"), 0);      /* U+D800 */
	assert_int_equal(valid("\xED\xBF\xBF"), 0);      /* U+DFFF */
	assert_int_equal(valid("\xF4\x90\x80\x80"), 0);  /* U+110000 */
}

static void test_utf8_count(void **state)
{
	(void)state;
	assert_int_equal(pim_utf8_count("bl\xC3\xA5" "b\xC3\xA6r", 8), 6);
	assert_int_equal(pim_utf8_count("\xF0\x9F\x98\x80" "a", 5), 2);
	assert_int_equal(pim_utf8_count("", 0), 0);
}

/* ---- other helpers ---------------------------------------------------- */

static void test_levenshtein_known_distances(void **state)
{
	(void)state;
	assert_int_equal(pim_levenshtein("kitten", "sitting"), 3);
	assert_int_equal(pim_levenshtein("flaw", "lawn"), 2);
	assert_int_equal(pim_levenshtein("atributes", "attributes"), 1);
	assert_int_equal(pim_levenshtein("requird", "required"), 1);
	assert_int_equal(pim_levenshtein("integr", "integer"), 1);
	assert_int_equal(pim_levenshtein("abc", "acb"), 2);
}

static void test_levenshtein_empty_and_equal(void **state)
{
	(void)state;
	assert_int_equal(pim_levenshtein("", ""), 0);
	assert_int_equal(pim_levenshtein("", "abc"), 3);
	assert_int_equal(pim_levenshtein("abc", ""), 3);
	assert_int_equal(pim_levenshtein("same", "same"), 0);
}

static void test_levenshtein_symmetric(void **state)
{
	(void)state;
	assert_int_equal(pim_levenshtein("sunday", "saturday"),
			 pim_levenshtein("saturday", "sunday"));
	assert_int_equal(pim_levenshtein("sunday", "saturday"), 3);
}

static void test_levenshtein_long_strings_far(void **state)
{
	char a[100], b[100];

	(void)state;
	memset(a, 'a', 63);
	a[63] = '\0';
	memcpy(b, a, 64);
	b[62] = 'b';
	assert_int_equal(pim_levenshtein(a, b), 1);
	/* strings too long for the table are never "close" */
	memset(a, 'a', 99);
	a[99] = '\0';
	assert_true(pim_levenshtein(a, "a") >= 3);
}

static void test_strcaseeq(void **state)
{
	(void)state;
	assert_true(pim_strcaseeq("Red", "rED"));
	assert_true(pim_strcaseeq("", ""));
	assert_false(pim_strcaseeq("red", "reds"));
	assert_false(pim_strcaseeq("re", "red"));
	assert_false(pim_strcaseeq("\xC3\x85", "\xC3\xA5")); /* ASCII only */
}

static void test_size_arithmetic(void **state)
{
	size_t r = 0;

	(void)state;
	assert_int_equal(pim_size_add(&r, 2, 3), 0);
	assert_int_equal(r, 5);
	assert_int_equal(pim_size_add(&r, SIZE_MAX, 1), -1);
	assert_int_equal(pim_size_add(&r, SIZE_MAX, 0), 0);
	assert_int_equal(pim_size_mul(&r, 6, 7), 0);
	assert_int_equal(r, 42);
	assert_int_equal(pim_size_mul(&r, SIZE_MAX / 2 + 1, 2), -1);
	assert_int_equal(pim_size_mul(&r, 0, SIZE_MAX), 0);
	assert_int_equal(r, 0);
}

static void test_strndup(void **state)
{
	char *s;

	(void)state;
	s = pim_strndup("abcdef", 3);
	assert_string_equal(s, "abc");
	pim_free(s);
	s = pim_strdup("xyz");
	assert_string_equal(s, "xyz");
	pim_free(s);
	assert_null(pim_strdup(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_init_is_empty),
		cmocka_unit_test(test_buf_add_grows),
		cmocka_unit_test(test_buf_adds_addc_printf),
		cmocka_unit_test(test_buf_printf_grows),
		cmocka_unit_test(test_buf_add_nothing_gives_empty_string),
		cmocka_unit_test(test_buf_clear_keeps_capacity),
		cmocka_unit_test(test_buf_detach),
		cmocka_unit_test(test_buf_cap_allows_max_bytes),
		cmocka_unit_test(test_buf_cap_refuses_one_more),
		cmocka_unit_test(test_buf_cap_refuses_large_add_at_once),
		cmocka_unit_test(test_buf_cap_on_printf),
		cmocka_unit_test(test_buf_cap_on_addc),
		cmocka_unit_test(test_buf_reserve_overflow),
		cmocka_unit_test(test_buf_default_cap_is_one_gib),
		cmocka_unit_test(test_json_plain),
		cmocka_unit_test(test_json_quote_and_backslash),
		cmocka_unit_test(test_json_short_escapes),
		cmocka_unit_test(test_json_control_as_unicode_escape),
		cmocka_unit_test(test_json_nul_byte),
		cmocka_unit_test(test_json_utf8_passes_through),
		cmocka_unit_test(test_json_appends),
		cmocka_unit_test(test_json_respects_cap),
		cmocka_unit_test(test_utf8_valid_ascii_and_multibyte),
		cmocka_unit_test(test_utf8_valid_boundaries),
		cmocka_unit_test(test_utf8_embedded_nul_is_valid),
		cmocka_unit_test(test_utf8_invalid_bytes),
		cmocka_unit_test(test_utf8_truncated),
		cmocka_unit_test(test_utf8_overlong),
		cmocka_unit_test(test_utf8_surrogates_and_beyond),
		cmocka_unit_test(test_utf8_count),
		cmocka_unit_test(test_levenshtein_known_distances),
		cmocka_unit_test(test_levenshtein_empty_and_equal),
		cmocka_unit_test(test_levenshtein_symmetric),
		cmocka_unit_test(test_levenshtein_long_strings_far),
		cmocka_unit_test(test_strcaseeq),
		cmocka_unit_test(test_size_arithmetic),
		cmocka_unit_test(test_strndup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
