/*
 * test_rules.c - unit tests of enrichment rules: each action, each
 * rounding rule, conditions, invalid results (the rule writes nothing),
 * and loader errors at their line and column. Rules are applied in memory
 * to values given per attribute, against a real catalog's schema.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pim.h"
#include "rules.h"

static const char schema_yaml[] =
	"pim: 1\n"
	"name: rules-test\n"
	"locales: [nb_NO, en_US]\n"
	"currencies: [NOK, EUR]\n"
	"attributes:\n"
	"  sku:      { type: identifier }\n"
	"  name:     { type: text, localizable: true }\n"
	"  cost:     { type: price, currency: NOK }\n"
	"  price:    { type: price, currency: NOK, min: 0 }\n"
	"  length:   { type: measure, dimension: length, unit: CMT }\n"
	"  stock:    { type: integer, min: 0 }\n"
	"  lead:     { type: integer }\n"
	"  color:    { type: select, options: [red, blue, grey] }\n"
	"  avail:    { type: select, options: [in_stock, backorder] }\n"
	"  body:     { type: text }\n"
	"  gtin:     { type: gtin }\n"
	"  title:    { type: text }\n";

static char dir[256], dbpath[300];
static pim_catalog *cat;

static int setup(void **state)
{
	pim_schema *s = NULL;
	pim_catalog_options co = PIM_CATALOG_OPTIONS_INIT;

	(void)state;
	snprintf(dir, sizeof dir, "%s/pim-test-rules-XXXXXX",
		 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR")
						       : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(dbpath, sizeof dbpath, "%s/catalog.db", dir);
	if (pim_schema_load_buffer(&s, "schema", schema_yaml,
				   sizeof schema_yaml - 1, NULL, NULL))
		return -1;
	co.create = 1;
	if (pim_catalog_open(&cat, dbpath, &co, s)) {
		pim_schema_free(s);
		return -1;
	}
	pim_schema_free(s);
	return 0;
}

static int teardown(void **state)
{
	char p[400];

	(void)state;
	pim_catalog_close(cat);
	unlink(dbpath);
	snprintf(p, sizeof p, "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", dbpath);
	unlink(p);
	return rmdir(dir);
}

/* ---- helpers ------------------------------------------------------------ */

static char diags[4096];
static unsigned long skipped, invalid;

static int collect(const pim_diag *d, void *ctx)
{
	size_t n = strlen(diags);
	(void)ctx;
	snprintf(diags + n, sizeof diags - n, "%lu:%lu %s|", d->line, d->col,
		 d->code ? d->code : "");
	return 0;
}

static pim_rules *load(const char *yaml)
{
	pim_rules *r = NULL;
	diags[0] = '\0';
	pim_rules_load_buffer(&r, cat, "r.yaml", yaml, strlen(yaml), collect,
			      NULL);
	return r;
}

static long slot_of(const char *col)
{
	/* slots: sku, name@nb_NO, name@en_US, then one per attribute */
	static const char *const cols[] = { "sku",   "name@nb_NO", "name@en_US",
					    "cost",  "price",      "length",
					    "stock", "lead",       "color",
					    "avail", "body",       "gtin",
					    "title", NULL };
	for (long i = 0; cols[i]; i++)
		if (!strcmp(cols[i], col))
			return i;
	return -1;
}

static char result[16][256];

/* Applies `yaml` to the product given as "col=value" arguments (NULL
 * ended); the results go to result[slot] ("" for empty). Returns
 * whether anything changed. */
static int apply(const char *yaml, ...)
{
	const char *in[16] = { 0 };
	const char *const *out;
	pim_rules *r = load(yaml);
	pim_rules_run *run = NULL;
	pim_rules_product p = { "A1", NULL, 0, NULL, 0 };
	va_list ap;
	const char *a;
	static char vals[16][256];
	int changed = 0;

	assert_non_null(r);
	va_start(ap, yaml);
	while ((a = va_arg(ap, const char *))) {
		char col[64];
		const char *eq = strchr(a, '=');
		long s;
		snprintf(col, sizeof col, "%.*s", (int)(eq - a), a);
		s = slot_of(col);
		assert_true(s >= 0);
		snprintf(vals[s], sizeof vals[s], "%s", eq + 1);
		in[s] = vals[s];
	}
	va_end(ap);
	in[0] = "A1";
	skipped = invalid = 0;
	assert_int_equal(pim_rules_run_new(&run, r), 0);
	pim_rules_run_diag(run, collect, NULL, PIM_SEV_ERROR);
	assert_int_equal(pim_rules_apply(run, &out, &changed, in, &p, &skipped,
					 &invalid),
			 0);
	for (int i = 0; i < 13; i++)
		snprintf(result[i], sizeof result[i], "%s", out[i] ? out[i] : "");
	pim_rules_run_free(run);
	pim_rules_free(r);
	return changed;
}

#define R(col) result[slot_of(col)]

/* ---- actions ------------------------------------------------------------ */

static void test_set_and_default(void **state)
{
	(void)state;
	apply("pim: 1\nrules:\n- name: a\n  set: { color: blue }\n"
	      "- name: b\n  default: { avail: backorder, stock: 3 }\n",
	      "color=red", "stock=7", NULL);
	assert_string_equal(R("color"), "blue");
	assert_string_equal(R("avail"), "backorder");
	assert_string_equal(R("stock"), "7"); /* not empty: kept */
}

static void test_copy_and_clear(void **state)
{
	(void)state;
	apply("pim: 1\nrules:\n- name: a\n  copy: { name@en_US: name@nb_NO }\n"
	      "  clear: [body]\n",
	      "name@nb_NO=Hylle", "body=x", NULL);
	assert_string_equal(R("name@en_US"), "Hylle");
	assert_string_equal(R("body"), "");
}

static void test_template_formats_numbers_and_units(void **state)
{
	(void)state;
	apply("pim: 1\nrules:\n- name: t\n  template:\n"
	      "    title: \"{name@nb_NO} {length} / {length:MMT:0} / "
	      "{length:0:bare} / {cost} {{x}}\"\n",
	      "name@nb_NO=Hylle", "length=236.94 CMT", "cost=1000.00 NOK", NULL);
	assert_string_equal(R("title"),
			    "Hylle 236.94 cm / 2369 mm / 237 / 1000.00 NOK {x}");
}

static void test_template_decimal_comma_and_missing_part(void **state)
{
	(void)state;
	apply("pim: 1\nrules:\n- name: t\n  template:\n"
	      "    title: { text: \"{length:1} lang\", decimal: \",\" }\n",
	      "length=12.25 CMT", NULL);
	assert_string_equal(R("title"), "12,3 cm lang");
	assert_int_equal(apply("pim: 1\nrules:\n- name: t\n  template:\n"
			       "    title: \"{name@nb_NO} {color}\"\n",
			       "name@nb_NO=Hylle", NULL),
			 0);
	assert_string_equal(R("title"), "");
}

static void test_calculate_round_nearest_up_down(void **state)
{
	(void)state;
	apply("pim: 1\nrules:\n- name: c\n  calculate: { price: cost * 1.8 }\n"
	      "  round: 0.10\n",
	      "cost=99.99 NOK", NULL);
	assert_string_equal(R("price"), "180.00 NOK"); /* 179.982 */
	apply("pim: 1\nrules:\n- name: c\n  calculate: { price: cost * 1.8 }\n"
	      "  round: 10\n  rounding: up\n",
	      "cost=100.00 NOK", NULL);
	assert_string_equal(R("price"), "180.00 NOK"); /* exact: not up */
	apply("pim: 1\nrules:\n- name: c\n  calculate: { price: cost * 1.81 }\n"
	      "  round: 10\n  rounding: up\n",
	      "cost=100.00 NOK", NULL);
	assert_string_equal(R("price"), "190.00 NOK");
	apply("pim: 1\nrules:\n- name: c\n  calculate:\n"
	      "    price: { expr: cost * 1.89, round: 10, rounding: down }\n",
	      "cost=100.00 NOK", NULL);
	assert_string_equal(R("price"), "180.00 NOK");
}

static void test_calculate_endings(void **state)
{
	(void)state;
	apply("pim: 1\nrules:\n- name: c\n  calculate: { price: cost + 0 }\n"
	      "  ending: .90\n",
	      "cost=1234.56 NOK", NULL);
	assert_string_equal(R("price"), "1234.90 NOK");
	apply("pim: 1\nrules:\n- name: c\n  calculate: { price: cost + 0 }\n"
	      "  ending: 9.90\n",
	      "cost=1234.56 NOK", NULL);
	assert_string_equal(R("price"), "1239.90 NOK");
	apply("pim: 1\nrules:\n- name: c\n  calculate: { price: cost + 0 }\n"
	      "  ending: 99\n",
	      "cost=1234.56 NOK", NULL);
	assert_string_equal(R("price"), "1299.00 NOK");
	/* a value that already ends so stays */
	apply("pim: 1\nrules:\n- name: c\n  calculate: { price: cost + 0 }\n"
	      "  ending: .90\n",
	      "cost=1234.90 NOK", NULL);
	assert_string_equal(R("price"), "1234.90 NOK");
}

static void test_calculate_precedence_and_currency(void **state)
{
	(void)state;
	apply("pim: 1\nrules:\n- name: c\n"
	      "  calculate: { price: \"(cost + 10) * 2 - -lead / 4\" }\n",
	      "cost=5.00 EUR", "lead=2", NULL);
	assert_string_equal(R("price"), "30.50 EUR");
}

static void test_calculate_skips_empty_and_division_by_zero(void **state)
{
	(void)state;
	assert_int_equal(apply("pim: 1\nrules:\n- name: c\n"
			       "  calculate: { price: cost / lead }\n",
			       "cost=5.00 NOK", "lead=0", NULL),
			 0);
	assert_int_equal(skipped, 1);
	assert_non_null(strstr(diags, "division-by-zero"));
	apply("pim: 1\nrules:\n- name: c\n  calculate: { price: cost * 2 }\n",
	      "lead=1", NULL);
	assert_int_equal(skipped, 1);
	assert_non_null(strstr(diags, "empty-input"));
	assert_string_equal(R("price"), "");
}

static void test_normalize_text_steps(void **state)
{
	(void)state;
	apply("pim: 1\nrules:\n- name: n\n  normalize:\n"
	      "    title: [trim, collapse, sentence]\n"
	      "    body: [upper]\n    name@nb_NO: [title]\n"
	      "    name@en_US: [nfc, lower]\n",
	      "title=  gRÅ   HYLLE  ", "body=grå ø", "name@nb_NO=grå hylle",
	      "name@en_US=A\xCC\x8A", NULL);
	assert_string_equal(R("title"), "Grå hylle");
	assert_string_equal(R("body"), "GRÅ Ø");
	assert_string_equal(R("name@nb_NO"), "Grå Hylle");
	assert_string_equal(R("name@en_US"), "\xC3\xA5"); /* one å */
}

static void test_normalize_unit_and_decimals(void **state)
{
	(void)state;
	apply("pim: 1\nrules:\n- name: n\n  normalize:\n"
	      "    length: [{unit: MMT}, {decimals: 0}]\n"
	      "    price: [{decimals: 0}]\n",
	      "length=236.94 CMT", "price=99.60 NOK", NULL);
	assert_string_equal(R("length"), "236.9 CMT");
	assert_string_equal(R("price"), "100.00 NOK");
}

static void test_map_whole_word_and_default(void **state)
{
	static const char rules[] =
		"pim: 1\nrules:\n- name: m\n  map:\n    color:\n"
		"      from: body\n      match: word\n"
		"      values: { grå: grey, rød: red }\n";
	(void)state;
	apply(rules, "body=Stor GRÅ hylle", NULL);
	assert_string_equal(R("color"), "grey");
	apply(rules, "body=hylle", "color=blue", NULL);
	assert_string_equal(R("color"), "blue"); /* no match, no default */
	apply("pim: 1\nrules:\n- name: m\n  map:\n    color:\n"
	      "      values: { Rød: red }\n      default: grey\n"
	      "      case: sensitive\n",
	      "color=red", NULL);
	assert_string_equal(R("color"), "grey");
}

static void test_gtin_check_digit_and_pad(void **state)
{
	(void)state;
	apply("pim: 1\nrules:\n- name: g\n  gtin: { gtin: { from: body } }\n",
	      "body=400638133393", NULL);
	assert_string_equal(R("gtin"), "4006381333931");
	apply("pim: 1\nrules:\n- name: g\n"
	      "  gtin: { gtin: { from: body, pad: 14 } }\n",
	      "body=9638-507", NULL);
	assert_string_equal(R("gtin"), "00000096385074");
	apply("pim: 1\nrules:\n- name: g\n  gtin: { gtin: { pad: 14 } }\n",
	      "gtin=4006381333931", NULL);
	assert_string_equal(R("gtin"), "04006381333931");
	apply("pim: 1\nrules:\n- name: g\n  gtin: { gtin: { from: body } }\n",
	      "body=12345", NULL);
	assert_int_equal(invalid, 1);
	assert_string_equal(R("gtin"), "");
}

/* ---- conditions and order ----------------------------------------------- */

static void test_when_and_rule_order(void **state)
{
	static const char rules[] =
		"pim: 1\nrules:\n"
		"- name: in\n  when: stock > 0\n  set: { avail: in_stock }\n"
		"- name: back\n  when: not stock > 0 and lead <= 14\n"
		"  set: { avail: backorder }\n"
		"- name: later\n  when: avail = backorder\n  set: { color: red }\n";
	(void)state;
	apply(rules, "stock=3", "lead=30", NULL);
	assert_string_equal(R("avail"), "in_stock");
	assert_string_equal(R("color"), "");
	apply(rules, "stock=0", "lead=14", NULL);
	assert_string_equal(R("avail"), "backorder");
	assert_string_equal(R("color"), "red"); /* sees the earlier rule */
	apply(rules, "lead=20", NULL);
	assert_string_equal(R("avail"), "");
}

static void test_invalid_result_writes_nothing_of_the_rule(void **state)
{
	(void)state;
	assert_int_equal(apply("pim: 1\nrules:\n- name: bad\n"
			       "  set: { color: blue }\n"
			       "  calculate: { stock: lead / 3 }\n",
			       "lead=10", "color=red", NULL),
			 0);
	assert_int_equal(invalid, 1);
	assert_string_equal(R("color"), "red"); /* set undone too */
	assert_string_equal(R("stock"), "");
	assert_non_null(strstr(diags, "not-an-integer"));
}

static void test_idempotent_second_pass(void **state)
{
	static const char rules[] =
		"pim: 1\nrules:\n- name: t\n  normalize: { title: [trim] }\n"
		"- name: p\n  when: price is empty\n"
		"  calculate: { price: cost * 2 }\n";
	(void)state;
	assert_int_equal(apply(rules, "title= x ", "cost=2.00 NOK", NULL), 1);
	assert_int_equal(apply(rules, "title=x", "cost=2.00 NOK",
			       "price=4.00 NOK", NULL),
			 0);
}

/* ---- loader errors ------------------------------------------------------ */

static void test_loader_reports_every_error_at_line_and_col(void **state)
{
	pim_rules *r;
	(void)state;
	r = load("pim: 1\n"
		 "rules:\n"
		 "  - name: a\n"
		 "    when: colr = red\n"
		 "    set: { color: pink }\n"
		 "  - name: b\n"
		 "    calculate: { price: cost * (2 }\n"
		 "    template: { title: \"{nme}\" }\n"
		 "    normalise: {}\n");
	assert_null(r);
	assert_non_null(strstr(diags, "4:11 when|"));
	assert_non_null(strstr(diags, "5:19 "));
	assert_non_null(strstr(diags, "7:34 calculate|"));
	assert_non_null(strstr(diags, "8:26 unknown-attribute|"));
	assert_non_null(strstr(diags, "9:5 unknown-key|"));
}

static void test_loader_structure_errors(void **state)
{
	(void)state;
	assert_null(load("pim: 2\nrules: []\n"));
	assert_non_null(strstr(diags, "1:6 version|"));
	assert_null(load("pim: 1\nrules:\n- name: x\n"));
	assert_non_null(strstr(diags, "no-action"));
	assert_null(load("pim: 1\nrules:\n- name: x\n  set: { sku: A }\n"));
	assert_non_null(strstr(diags, "4:10 key|"));
	assert_null(load("pim: 1\nrules:\n- name: x\n  set: { color: red }\n"
			 "  clear: [color]\n"));
	assert_non_null(strstr(diags, "duplicate"));
	assert_null(load("pim: 1\nrules:\n- name: x\n  calculate: { title: cost }\n"));
	assert_non_null(strstr(diags, "4:16 calculate|"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_and_default),
		cmocka_unit_test(test_copy_and_clear),
		cmocka_unit_test(test_template_formats_numbers_and_units),
		cmocka_unit_test(test_template_decimal_comma_and_missing_part),
		cmocka_unit_test(test_calculate_round_nearest_up_down),
		cmocka_unit_test(test_calculate_endings),
		cmocka_unit_test(test_calculate_precedence_and_currency),
		cmocka_unit_test(test_calculate_skips_empty_and_division_by_zero),
		cmocka_unit_test(test_normalize_text_steps),
		cmocka_unit_test(test_normalize_unit_and_decimals),
		cmocka_unit_test(test_map_whole_word_and_default),
		cmocka_unit_test(test_gtin_check_digit_and_pad),
		cmocka_unit_test(test_when_and_rule_order),
		cmocka_unit_test(test_invalid_result_writes_nothing_of_the_rule),
		cmocka_unit_test(test_idempotent_second_pass),
		cmocka_unit_test(test_loader_reports_every_error_at_line_and_col),
		cmocka_unit_test(test_loader_structure_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
