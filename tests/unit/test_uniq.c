/*
 * test_uniq.c - unit tests of duplicate detection: every repeat is found
 * and points at the value's first place in the files, whatever order the
 * entries come in (threads read pieces of a file side by side), in memory
 * and after spilling to temporary files, and after a merge.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pim.h"
#include "uniq.h"

typedef struct seen {
	pim_uniq_hit h[64];
	size_t n;
} seen;

static int collect(const pim_uniq_hit *h, void *ctx)
{
	seen *s = ctx;
	assert_true(s->n < 64);
	s->h[s->n++] = *h;
	return 0;
}

static void add(pim_uniq *u, const char *v, uint16_t file, uint32_t line)
{
	assert_int_equal(pim_uniq_add(u, 0, v, strlen(v), file, line, 2), 0);
}

/* The same value on lines 50, 30 and 10, added in that order. */
static void test_first_is_earliest_not_first_added(void **state)
{
	pim_uniq *u;
	seen s = { .n = 0 };

	(void)state;
	assert_int_equal(pim_uniq_new(&u), 0);
	add(u, "7038010000001", 0, 50);
	add(u, "other", 0, 40);
	add(u, "7038010000001", 0, 30);
	add(u, "7038010000001", 0, 10);
	assert_int_equal(pim_uniq_finish(u, collect, &s), 0);
	assert_int_equal(s.n, 2);
	/* reported in file order, both pointing at line 10 */
	assert_int_equal(s.h[0].line, 30);
	assert_int_equal(s.h[0].first_line, 10);
	assert_int_equal(s.h[1].line, 50);
	assert_int_equal(s.h[1].first_line, 10);
	pim_uniq_free(u);
}

/* An earlier file wins over a lower line in a later file. */
static void test_first_by_file_then_line(void **state)
{
	pim_uniq *u;
	seen s = { .n = 0 };

	(void)state;
	assert_int_equal(pim_uniq_new(&u), 0);
	add(u, "A1", 1, 2);
	add(u, "A1", 0, 900);
	assert_int_equal(pim_uniq_finish(u, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.h[0].file, 1);
	assert_int_equal(s.h[0].line, 2);
	assert_int_equal(s.h[0].first_file, 0);
	assert_int_equal(s.h[0].first_line, 900);
	pim_uniq_free(u);
}

/* Two readers' entries merged, the later pieces read first, with enough
 * values to spill to temporary files. */
static void test_merge_and_spill_out_of_order(void **state)
{
	pim_uniq *a, *b;
	seen s = { .n = 0 };
	char v[32];

	(void)state;
	assert_int_equal(pim_uniq_new(&a), 0);
	assert_int_equal(pim_uniq_new(&b), 0);
	/* a: lines 200000..299999, then 1..99999; b: 100000..199999 */
	for (uint32_t l = 200000; l < 300000; l++) {
		snprintf(v, sizeof v, "v%u", l);
		add(a, v, 0, l);
	}
	add(a, "dup", 0, 250000);
	for (uint32_t l = 1; l < 100000; l++) {
		snprintf(v, sizeof v, "v%u", l);
		add(a, v, 0, l);
	}
	for (uint32_t l = 100000; l < 200000; l++) {
		snprintf(v, sizeof v, "v%u", l);
		add(b, v, 0, l);
	}
	add(b, "dup", 0, 150000);
	add(b, "v7", 0, 199999); /* again: first on line 7 */
	assert_int_equal(pim_uniq_merge(a, b), 0);
	assert_int_equal(pim_uniq_finish(a, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.h[0].line, 199999);
	assert_int_equal(s.h[0].first_line, 7);
	assert_int_equal(s.h[1].line, 250000);
	assert_int_equal(s.h[1].first_line, 150000);
	pim_uniq_free(a);
	pim_uniq_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_is_earliest_not_first_added),
		cmocka_unit_test(test_first_by_file_then_line),
		cmocka_unit_test(test_merge_and_spill_out_of_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
