/*
 * test_report.c - unit tests of the data-quality report's pieces that do
 * not need a catalog: the folding of names for likely duplicates and the
 * grades of scores. The figures themselves are tested end to end in
 * tests/cli/cases/report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "pim.h"
#include "report.h"

static void fold_is(const char *in, const char *want)
{
	pim_buf b = PIM_BUF_INIT;

	assert_int_equal(pim_report_fold(&b, in, strlen(in)), 0);
	assert_string_equal(b.data ? b.data : "", want);
	pim_buf_free(&b);
}

static void test_fold_case_spaces_punctuation(void **state)
{
	(void)state;
	fold_is("Stol Eik", "stoleik");
	fold_is("  stol-EIK!! ", "stoleik");
	fold_is("Bord 120x80 cm", "bord120x80cm");
	fold_is("", "");
	fold_is("!?. ,", "");
}

static void test_fold_latin_letters(void **state)
{
	(void)state;
	fold_is("Ærø Straße", "aerostrasse");
	fold_is("Łódź Ćma Żółw", "lodzcmazolw");
	fold_is("Crème brûlée", "cremebrulee");
	fold_is("ØRE Þór œuvre", "orethoroeuvre");
	fold_is("Ĳssel ÿ Ÿ", "ijsselyy");
	fold_is("Ţara Ũnu Ŧ", "taraunut");
	/* Latin-1 symbols are dropped like punctuation */
	fold_is("50\xC2\xA0\xC2\xB0 \xC2\xA9", "50");
}

static void test_fold_other_scripts_and_bad_bytes(void **state)
{
	(void)state;
	/* Greek is kept as it is; a stray byte is dropped */
	fold_is("\xCE\xB1\xCE\xB2 X", "\xCE\xB1\xCE\xB2x");
	fold_is("a\xFF" "b", "ab");
	/* a cut sequence at the end is dropped */
	fold_is("ab\xC3", "ab");
}

static void test_grades(void **state)
{
	(void)state;
	assert_int_equal(pim_report_grade(100), 'A');
	assert_int_equal(pim_report_grade(90), 'A');
	assert_int_equal(pim_report_grade(89.99), 'B');
	assert_int_equal(pim_report_grade(80), 'B');
	assert_int_equal(pim_report_grade(70), 'C');
	assert_int_equal(pim_report_grade(69.9), 'D');
	assert_int_equal(pim_report_grade(60), 'D');
	assert_int_equal(pim_report_grade(59.9), 'E');
	assert_int_equal(pim_report_grade(0), 'E');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold_case_spaces_punctuation),
		cmocka_unit_test(test_fold_latin_letters),
		cmocka_unit_test(test_fold_other_scripts_and_bad_bytes),
		cmocka_unit_test(test_grades),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
