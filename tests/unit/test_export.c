/*
 * test_export.c - unit tests of pim_export and the typed JSON writer: each
 * format's shape on a small catalog (SQLite file in a temporary directory,
 * filled by pim_import), formula neutralisation, the Excel dialect, the
 * filters, products left out of a merchant feed with their reasons, the
 * check-only mode and the errors of bad options.
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

static const char schema_yaml[] =
	"pim: 1\n"
	"name: export-test\n"
	"locales: [nb_NO, en_US]\n"
	"currencies: [NOK, EUR]\n"
	"attributes:\n"
	"  sku:      { type: identifier }\n"
	"  name:     { type: text, localizable: true }\n"
	"  description: { type: textarea }\n"
	"  price:    { type: price, currency: NOK }\n"
	"  weight:   { type: measure, dimension: mass, unit: KGM }\n"
	"  stock:    { type: integer }\n"
	"  ratio:    { type: number }\n"
	"  tags:     { type: multiselect, options: [eco, new, sale] }\n"
	"  fragile:  { type: boolean }\n"
	"  gtin:     { type: gtin }\n"
	"  note:     { type: text }\n"
	"families:\n"
	"  kitchen: [sku, name, price]\n"
	"roles:\n"
	"  sales:\n"
	"    attributes: [name, price]\n"
	"    required: [name, price]\n";

static const char products_csv[] =
	"sku,name@nb_NO,name@en_US,description,price,weight,stock,ratio,tags,"
	"fragile,gtin,note\n"
	"A1,Eikebord,Oak table,Solid oak,1200 NOK,12.5 kg,5,-0.5,eco;new,yes,"
	"4006381333931,=1+2\n"
	"A2,Krus,,,99.9,300 g,0,,sale,no,,@SUM(A1)\n"
	"A3,Sofa,,A sofa,,,,,,,,plain\n";

static char dir[256];
static char dbpath[300];
static pim_catalog *cat;

static int setup(void **state)
{
	pim_schema *s = NULL;
	pim_catalog_options co = PIM_CATALOG_OPTIONS_INIT;
	pim_import_options io = PIM_IMPORT_OPTIONS_INIT;
	pim_import_stats st;
	char csv[300];
	const char *paths[1];
	FILE *f;

	(void)state;
	snprintf(dir, sizeof dir, "%s/pim-test-export-XXXXXX",
		 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR")
						       : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(dbpath, sizeof dbpath, "%s/catalog.db", dir);
	snprintf(csv, sizeof csv, "%s/products.csv", dir);
	if (!(f = fopen(csv, "w")))
		return -1;
	fputs(products_csv, f);
	fclose(f);
	if (pim_schema_load_buffer(&s, "schema", schema_yaml,
				   sizeof schema_yaml - 1, NULL, NULL))
		return -1;
	co.create = 1;
	co.user = "tester";
	if (pim_catalog_open(&cat, dbpath, &co, s)) {
		pim_schema_free(s);
		return -1;
	}
	pim_schema_free(s);
	paths[0] = csv;
	if (pim_import(&st, cat, paths, 1, &io, NULL, NULL) || st.created != 3)
		return -1;
	unlink(csv);
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

/* ---- helpers -------------------------------------------------------------- */

struct reasons {
	char text[1024];
	unsigned n;
};

static int on_diag(const pim_diag *d, void *ctx)
{
	struct reasons *r = ctx;
	size_t n = strlen(r->text);

	r->n++;
	snprintf(r->text + n, sizeof r->text - n, "%s|%s|%s|%s\n",
		 d->key ? d->key : "-", d->attribute ? d->attribute : "-",
		 d->code ? d->code : "-", d->message);
	return 0;
}

/* Runs an export into memory; the text (caller frees) or NULL on error,
 * with the code in *rc. */
static char *run(const pim_export_options *o, pim_export_stats *st,
		 struct reasons *r, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	pim_where_error err;

	assert_non_null(f);
	*rc = pim_export(cat, o, f, st, r ? on_diag : NULL, r, &err);
	fclose(f);
	return buf;
}

static char *json_of(pim_type t, const char *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(pim_json_write_value(f, t, v), 0);
	fclose(f);
	return buf;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_json_values_are_typed(void **state)
{
	static const struct {
		pim_type t;
		const char *v, *want;
	} cases[] = {
		{ PIM_TYPE_INTEGER, "12", "12" },
		{ PIM_TYPE_NUMBER, "-0.5", "-0.5" },
		{ PIM_TYPE_NUMBER, "1e5", "\"1e5\"" },
		{ PIM_TYPE_INTEGER, "012", "\"012\"" },
		{ PIM_TYPE_BOOLEAN, "true", "true" },
		{ PIM_TYPE_BOOLEAN, "yes", "\"yes\"" },
		{ PIM_TYPE_PRICE, "4107.27 NOK",
		  "{\"amount\":4107.27,\"currency\":\"NOK\"}" },
		{ PIM_TYPE_MEASURE, "33.99 KGM",
		  "{\"amount\":33.99,\"unit\":\"KGM\"}" },
		{ PIM_TYPE_PRICE, "lots NOK", "\"lots NOK\"" },
		{ PIM_TYPE_MULTISELECT, "a,b", "[\"a\",\"b\"]" },
		{ PIM_TYPE_DATE, "2026-01-15", "\"2026-01-15\"" },
		{ PIM_TYPE_GTIN, "7083016613184", "\"7083016613184\"" },
		{ PIM_TYPE_TEXT, "a\"b\\c\n\x01", "\"a\\\"b\\\\c\\n\\u0001\"" },
		{ PIM_TYPE_TEXT, NULL, "null" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *s = json_of(cases[i].t, cases[i].v);
		assert_string_equal(s, cases[i].want);
		free(s);
	}
}

static void test_format_names(void **state)
{
	pim_export_format f;

	(void)state;
	assert_int_equal(pim_export_format_find(&f, "merchant"), 0);
	assert_int_equal(f, PIM_EXPORT_MERCHANT);
	assert_int_equal(pim_export_format_find(&f, "bmecat"), 0);
	assert_int_equal(f, PIM_EXPORT_BMECAT);
	assert_int_equal(pim_export_format_find(&f, "xlsx"), PIM_ENOTFOUND);
}

static void test_csv_neutralises_formulas_not_numbers(void **state)
{
	pim_export_options o = PIM_EXPORT_OPTIONS_INIT;
	pim_export_stats st;
	int rc;
	char *s;

	(void)state;
	o.where = "sku = A1";
	s = run(&o, &st, NULL, &rc);
	assert_int_equal(rc, 0);
	/* -0.5 is a number; =1+2 a formula */
	assert_non_null(strstr(s, ",-0.5,"));
	assert_non_null(strstr(s, ",\"'=1+2\"\n"));
	free(s);
	o.raw = 1;
	s = run(&o, &st, NULL, &rc);
	assert_non_null(strstr(s, ",=1+2\n"));
	assert_null(strstr(s, "'="));
	free(s);
}

static void test_excel_dialect(void **state)
{
	pim_export_options o = PIM_EXPORT_OPTIONS_INIT;
	pim_export_stats st;
	int rc;
	char *s;

	(void)state;
	o.excel = 1;
	o.where = "sku = A1";
	s = run(&o, &st, NULL, &rc);
	assert_int_equal(rc, 0);
	assert_memory_equal(s, "\xEF\xBB\xBFsku;", 7);
	assert_non_null(strstr(s, ";1200,00 NOK;12,5 KGM;5;-0,5;"));
	assert_non_null(strstr(s, "\r\nA1;"));
	/* the GTIN and the tags keep their text */
	assert_non_null(strstr(s, ";4006381333931;"));
	assert_non_null(strstr(s, ";eco,new;"));
	free(s);
}

static void test_role_view_without_key_still_names_products(void **state)
{
	pim_export_options o = PIM_EXPORT_OPTIONS_INIT;
	pim_export_stats st;
	int rc;
	char *s;

	(void)state;
	o.role = "sales";
	o.locale = "en_US";
	o.format = PIM_EXPORT_JSONL;
	s = run(&o, &st, NULL, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(s, "{\"sku\":\"A1\",\"name@en_US\":\"Oak table\","
			       "\"price\":{\"amount\":1200.00,\"currency\":"
			       "\"NOK\"}}\n"
			       "{\"sku\":\"A2\",\"price\":{\"amount\":99.90,"
			       "\"currency\":\"NOK\"}}\n"
			       "{\"sku\":\"A3\"}\n");
	assert_int_equal(st.products, 3);
	assert_int_equal(st.written, 3);
	free(s);
}

static void test_filters_combine(void **state)
{
	pim_export_options o = PIM_EXPORT_OPTIONS_INIT;
	pim_export_stats st;
	int rc;
	char *s;

	(void)state;
	o.format = PIM_EXPORT_JSONL;
	o.complete_for = "sales";
	o.locale = "nb_NO";
	s = run(&o, &st, NULL, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(st.products, 2); /* A3 has no price */
	free(s);
	o.where = "stock > 1";
	s = run(&o, &st, NULL, &rc);
	assert_int_equal(st.products, 1);
	assert_non_null(strstr(s, "\"sku\":\"A1\""));
	free(s);
	o.where = NULL;
	o.complete_for = NULL;
	o.since = "1";
	s = run(&o, &st, NULL, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(st.products, 3);
	free(s);
	o.since = "2999-01-01";
	s = run(&o, &st, NULL, &rc);
	assert_int_equal(st.products, 0);
	assert_string_equal(s, "");
	free(s);
}

static void test_bad_filters_write_nothing(void **state)
{
	pim_export_options o = PIM_EXPORT_OPTIONS_INIT;
	pim_export_stats st;
	pim_where_error err;
	int rc;
	char *s;

	(void)state;
	o.where = "stock >";
	o.family = "kitchen";
	s = run(&o, &st, NULL, &rc);
	assert_int_equal(rc, PIM_EPARSE);
	assert_string_equal(s, "");
	free(s);
	/* the column is the user's, not the combined expression's */
	rc = pim_export(cat, &o, NULL, &st, NULL, NULL, &err);
	assert_int_equal(rc, PIM_EPARSE);
	assert_int_equal(err.col, 8);
	o.where = NULL;
	o.family = "garden";
	assert_int_equal(pim_export(cat, &o, NULL, &st, NULL, NULL, NULL),
			 PIM_ENOTFOUND);
	o.family = NULL;
	o.complete_for = "nobody";
	assert_int_equal(pim_export(cat, &o, NULL, &st, NULL, NULL, NULL),
			 PIM_ENOTFOUND);
	o.complete_for = NULL;
	o.since = "last week";
	assert_int_equal(pim_export(cat, &o, NULL, &st, NULL, NULL, NULL),
			 PIM_EINVALID);
}

static void test_bad_options(void **state)
{
	pim_export_options o = PIM_EXPORT_OPTIONS_INIT;

	(void)state;
	o.version = 99;
	assert_int_equal(pim_export(cat, &o, NULL, NULL, NULL, NULL, NULL),
			 PIM_EINVALID);
	o.version = PIM_EXPORT_OPTIONS_VERSION;
	o.format = (pim_export_format)42;
	assert_int_equal(pim_export(cat, &o, NULL, NULL, NULL, NULL, NULL),
			 PIM_EINVALID);
	o.format = PIM_EXPORT_XML;
	o.excel = 1;
	assert_int_equal(pim_export(cat, &o, NULL, NULL, NULL, NULL, NULL),
			 PIM_EINVALID);
}

static void test_merchant_leaves_out_invalid_products(void **state)
{
	pim_export_options o = PIM_EXPORT_OPTIONS_INIT;
	pim_export_stats st;
	struct reasons r;
	char profile[400];
	int rc;
	char *s;
	FILE *f;

	(void)state;
	snprintf(profile, sizeof profile, "%s/profile.yaml", dir);
	f = fopen(profile, "w");
	assert_non_null(f);
	fputs("merchant: 1\n"
	      "items:\n"
	      "  id: \"{sku}\"\n"
	      "  title: \"{name}\"\n"
	      "  description: \"{description}\"\n"
	      "  link: \"https://x.example/{sku}\"\n"
	      "  image_link: \"https://x.example/{sku}.jpg\"\n"
	      "  price: \"{price}\"\n"
	      "  availability: in stock\n"
	      "  gtin: \"{gtin}\"\n",
	      f);
	fclose(f);
	memset(&r, 0, sizeof r);
	o.format = PIM_EXPORT_MERCHANT;
	o.profile = profile;
	s = run(&o, &st, &r, &rc);
	unlink(profile);
	assert_int_equal(rc, 0);
	assert_int_equal(st.products, 3);
	assert_int_equal(st.written, 1);
	assert_int_equal(st.skipped, 2);
	assert_string_equal(r.text,
			    "A2|description|feed|g:description is required and "
			    "description is empty\n"
			    "A3|price|feed|g:price is required and price is "
			    "empty\n");
	assert_non_null(strstr(s, "<g:id>A1</g:id>"));
	assert_non_null(strstr(s, "<g:price>1200.00 NOK</g:price>"));
	assert_non_null(strstr(s, "<g:identifier_exists>yes</g:identifier_exists>"));
	assert_null(strstr(s, "<g:id>A2</g:id>"));
	free(s);
}

static void test_check_only_writes_nothing_and_counts(void **state)
{
	pim_export_options o = PIM_EXPORT_OPTIONS_INIT;
	pim_export_stats st;
	struct reasons r;

	(void)state;
	memset(&r, 0, sizeof r);
	o.format = PIM_EXPORT_BMECAT;
	assert_int_equal(pim_export(cat, &o, NULL, &st, on_diag, &r, NULL), 0);
	assert_int_equal(st.products, 3);
	assert_int_equal(st.written, 2);
	assert_int_equal(st.skipped, 1);
	assert_int_equal(r.n, 1);
	assert_non_null(strstr(r.text, "A3|price|feed|"));
}

static void test_same_catalog_same_bytes(void **state)
{
	(void)state;
	for (int fmt = PIM_EXPORT_CSV; fmt <= PIM_EXPORT_BMECAT; fmt++) {
		pim_export_options o = PIM_EXPORT_OPTIONS_INIT;
		pim_export_stats st;
		int rc1, rc2;
		char *a, *b;
		if (fmt == PIM_EXPORT_MERCHANT)
			continue; /* the built-in profile wants other attributes */
		o.format = (pim_export_format)fmt;
		a = run(&o, &st, NULL, &rc1);
		b = run(&o, &st, NULL, &rc2);
		assert_int_equal(rc1, 0);
		assert_int_equal(rc2, 0);
		assert_true(strlen(a) > 0);
		assert_string_equal(a, b);
		free(a);
		free(b);
	}
}

static void test_yaml_quotes_what_yaml_would_misread(void **state)
{
	pim_export_options o = PIM_EXPORT_OPTIONS_INIT;
	pim_export_stats st;
	int rc;
	char *s;

	(void)state;
	o.format = PIM_EXPORT_YAML;
	o.where = "sku = A1";
	s = run(&o, &st, NULL, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(s, "- sku: A1\n"));
	assert_non_null(strstr(s, "  gtin: \"4006381333931\"\n"));
	assert_non_null(strstr(s, "  note: \"=1+2\"\n"));
	assert_non_null(strstr(s, "  fragile: true\n"));
	assert_non_null(strstr(s, "  tags: [eco, new]\n"));
	assert_non_null(strstr(s, "  price: {amount: 1200.00, currency: NOK}\n"));
	free(s);
	/* '@' starts no plain scalar */
	o.where = "sku = A2";
	s = run(&o, &st, NULL, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(s, "  note: \"@SUM(A1)\"\n"));
	assert_non_null(strstr(s, "  fragile: false\n"));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_values_are_typed),
		cmocka_unit_test(test_format_names),
		cmocka_unit_test(test_csv_neutralises_formulas_not_numbers),
		cmocka_unit_test(test_excel_dialect),
		cmocka_unit_test(test_role_view_without_key_still_names_products),
		cmocka_unit_test(test_filters_combine),
		cmocka_unit_test(test_bad_filters_write_nothing),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_merchant_leaves_out_invalid_products),
		cmocka_unit_test(test_check_only_writes_nothing_and_counts),
		cmocka_unit_test(test_same_catalog_same_bytes),
		cmocka_unit_test(test_yaml_quotes_what_yaml_would_misread),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
