/*
 * test_where.c - unit tests of the --where language and of views: each
 * operator against a real catalog (SQLite file in a temporary directory,
 * filled by pim_import), the two-valued handling of empty values, type
 * parsing of values, precedence, the column of every kind of mistake,
 * and view columns, labels and completeness.
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

#include "expr.h"
#include "pim.h"

static const char schema_yaml[] =
	"pim: 1\n"
	"name: where-test\n"
	"locales: [nb_NO, en_US]\n"
	"currencies: [NOK, EUR]\n"
	"attributes:\n"
	"  sku:      { type: identifier }\n"
	"  name:     { type: text, localizable: true }\n"
	"  price:    { type: price, currency: NOK }\n"
	"  weight:   { type: measure, dimension: mass, unit: KGM }\n"
	"  stock:    { type: integer }\n"
	"  color:    { type: select, options: [red, blue, green] }\n"
	"  tags:     { type: multiselect, options: [eco, new, sale] }\n"
	"  fragile:  { type: boolean }\n"
	"  launched: { type: date }\n"
	"  gtin:     { type: gtin, unique: true }\n"
	"  category: { type: category }\n"
	"roles:\n"
	"  sales:\n"
	"    attributes: [sku, name, price, color]\n"
	"    required: [name, price]\n"
	"    labels:\n"
	"      nb_NO: { name: Varenavn, price: Pris }\n"
	"  empty:\n"
	"    attributes: [sku]\n"
	"  buyer:\n"
	"    attributes: [sku, price, stock, color]\n"
	"    required: [price, stock, color]\n";

static const char products_csv[] =
	"sku,name@nb_NO,name@en_US,price,weight,stock,color,tags,fragile,"
	"launched,gtin,category\n"
	"A1,Eikebord,Oak table,1200 NOK,12.5 kg,5,red,eco;new,yes,2026-01-15,"
	"4006381333931,home/table\n"
	"A2,\xC3\x86rlig \xC3\x98l-krus,Honest mug,99.90,300 g,0,blue,sale,no,"
	"2025-12-01,5901234123457,home/kitchen/mugs\n"
	"A3,Sofa Gr\xC3\xA5,,45 EUR,,,green,,,,,home/sofa\n"
	"A4,sofa puter,Cushions,,2 kg,12,,eco,,,,home/sofa/cushions\n"
	"A5,Lampe,,5000 NOK,0.5 kg,3,RED,,x,2026-11-01,,home/sofaer\n";

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
	snprintf(dir, sizeof dir, "%s/pim-test-where-XXXXXX",
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
	if (pim_import(&st, cat, paths, 1, &io, NULL, NULL) || st.created != 5)
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

/* ---- helpers ------------------------------------------------------------ */

struct keys {
	char list[256];
};

static int collect(const pim_product_row *p, void *ctx)
{
	struct keys *k = ctx;
	size_t n = strlen(k->list);

	snprintf(k->list + n, sizeof k->list - n, "%s%s", n ? " " : "",
		 p->key);
	return 0;
}

/* The keys `expr` selects, space-separated, in key order. */
static const char *select_keys(const char *expr, const char *locale)
{
	static struct keys k;
	char msg[200];
	pim_select sel = PIM_SELECT_INIT;
	pim_where_error err;
	pim_view *v = NULL;
	int rc;

	memset(&k, 0, sizeof k);
	assert_int_equal(pim_view_new(&v, cat, NULL, locale, "sku"), 0);
	sel.where = expr;
	rc = pim_catalog_select(cat, v, &sel, collect, &k, &err);
	pim_view_free(v);
	if (rc) {
		memcpy(msg, err.message, sizeof msg - 1);
		msg[sizeof msg - 1] = '\0';
		snprintf(k.list, sizeof k.list, "error %d at %lu: %s", rc,
			 err.col, msg);
	}
	return k.list;
}

/* The keys `expr` selects when evaluated in C on every product's values
 * (every product was written by batch 1). */
struct eval_ctx {
	pim_cond *cond;
	struct keys k;
};

static int eval_row(const pim_product_row *p, void *ctx)
{
	struct eval_ctx *e = ctx;
	pim_cond_values x;

	x.value = p->value;
	x.family = p->family;
	x.updated_batch = 1;
	if (pim_cond_eval(e->cond, &x))
		collect(p, &e->k);
	return 0;
}

static const char *eval_keys(const char *expr, const char *locale)
{
	static struct eval_ctx e;
	pim_select sel = PIM_SELECT_INIT;
	pim_view *v = NULL;

	memset(&e, 0, sizeof e);
	assert_int_equal(pim_cond_parse(&e.cond, cat, expr, locale, NULL), 0);
	/* no role, no locale: one column per slot, in slot order */
	assert_int_equal(pim_view_new(&v, cat, NULL, NULL, NULL), 0);
	assert_int_equal(pim_catalog_select(cat, v, &sel, eval_row, &e, NULL),
			 0);
	pim_view_free(v);
	pim_cond_free(e.cond);
	return e.k.list;
}

/* SQL and C must agree, and give `want`. */
#define WHERE(expr, want)                                              \
	do {                                                           \
		assert_string_equal(select_keys(expr, NULL), want);    \
		assert_string_equal(eval_keys(expr, NULL), want);      \
	} while (0)

/* The column of the mistake in `expr`, and its message contains `what`. */
static void bad(const char *expr, unsigned long col, const char *what)
{
	pim_select sel = PIM_SELECT_INIT;
	pim_where_error err;
	pim_view *v = NULL;
	struct keys k;

	memset(&k, 0, sizeof k);
	assert_int_equal(pim_view_new(&v, cat, NULL, NULL, "sku"), 0);
	sel.where = expr;
	assert_int_equal(pim_catalog_select(cat, v, &sel, collect, &k, &err),
			 PIM_EPARSE);
	pim_view_free(v);
	if (err.col != col || !strstr(err.message, what))
		fail_msg("'%s': column %lu '%s', wanted column %lu '%s'", expr,
			 err.col, err.message, col, what);
	assert_string_equal(k.list, ""); /* nothing was listed */
}

/* ---- comparisons by type --------------------------------------------------- */

static void test_select_equality_is_case_insensitive_option(void **state)
{
	(void)state;
	WHERE("color = red", "A1 A5");
	WHERE("color = RED", "A1 A5");
	WHERE("color=red", "A1 A5");
	WHERE("color = ' Blue '", "A2");
}

static void test_not_equal_includes_empty_values(void **state)
{
	(void)state;
	WHERE("color != red", "A2 A3 A4");
	WHERE("color <> red", "A2 A3 A4");
	WHERE("not color = red", "A2 A3 A4");
	WHERE("not not color = red", "A1 A5");
}

static void test_price_compares_amounts_within_currency(void **state)
{
	(void)state;
	WHERE("price > 1000 NOK", "A1 A5");
	WHERE("price > 1000", "A1 A5"); /* the attribute's currency */
	WHERE("price > 10 EUR", "A3");
	WHERE("price <= 99.90", "A2");
	WHERE("price = 99.9", "A2");
	WHERE("price < 100000 NOK and price >= 1200", "A1 A5");
}

static void test_measure_converts_units(void **state)
{
	(void)state;
	WHERE("weight >= 1 kg", "A1 A4");
	WHERE("weight < 500 g", "A2");
	WHERE("weight <= 500g", "A2 A5");
	WHERE("weight = 2000 g", "A4");
}

static void test_integer_order_is_numeric(void **state)
{
	(void)state;
	/* as text "12" < "5"; as numbers not */
	WHERE("stock > 4", "A1 A4");
	WHERE("stock < 1", "A2");
	WHERE("stock = 12", "A4");
}

static void test_empty_and_not_empty(void **state)
{
	(void)state;
	WHERE("stock is empty", "A3");
	WHERE("stock is not empty", "A1 A2 A4 A5");
	WHERE("not stock is empty", "A1 A2 A4 A5");
	WHERE("name@en_US is empty", "A3 A5");
	WHERE("color IS EMPTY", "A4");
}

static void test_contains_folds_case(void **state)
{
	(void)state;
	WHERE("name ~ SOFA", "A3 A4");
	WHERE("name ~ \xC3\xB8l", "A2");      /* "øl" finds "Øl" */
	WHERE("name ~ \"GR\xC3\x85\"", "A3"); /* "GRÅ" finds "Grå" */
	WHERE("name !~ sofa", "A1 A2 A5");
	WHERE("name@en_US ~ mug", "A2");
}

static void test_localizable_locale(void **state)
{
	(void)state;
	/* the schema's first locale, or the one given */
	WHERE("name = Eikebord", "A1");
	assert_string_equal(select_keys("name = \"Oak table\"", "en_US"),
			    "A1");
	WHERE("name@en_US = \"Oak table\"", "A1");
}

static void test_multiselect_has_all_options(void **state)
{
	(void)state;
	WHERE("tags = eco", "A1 A4");
	WHERE("tags = \"new, eco\"", "A1");
	WHERE("tags in (sale, new)", "A1 A2");
	WHERE("tags != eco", "A2 A3 A5");
}

static void test_boolean_and_date(void **state)
{
	(void)state;
	WHERE("fragile = true", "A1 A5");
	WHERE("fragile = nei", "A2");
	WHERE("launched >= 2026-01-01", "A1 A5");
	WHERE("launched < 01.01.2026", "A2");
}

static void test_gtin_and_key(void **state)
{
	(void)state;
	WHERE("gtin = 4006381333931", "A1");
	WHERE("sku = A4", "A4");
	WHERE("sku in (A2, A4, A9)", "A2 A4");
	WHERE("sku > A3", "A4 A5");
}

static void test_in_and_not_in(void **state)
{
	(void)state;
	WHERE("color in (red, blue)", "A1 A2 A5");
	WHERE("color not in (red, blue)", "A3 A4");
	WHERE("color in (green)", "A3");
}

static void test_category_under_is_a_path_prefix(void **state)
{
	(void)state;
	/* home/sofaer is not under home/sofa */
	WHERE("category under home/sofa", "A3 A4");
	WHERE("category under home", "A1 A2 A3 A4 A5");
	WHERE("category under /home/kitchen/", "A2");
	WHERE("category = home/sofa", "A3");
}

static void test_completeness(void **state)
{
	(void)state;
	/* sales requires name (every locale) and price */
	WHERE("complete for sales", "A1 A2");
	WHERE("incomplete for sales", "A3 A4 A5");
	WHERE("complete for empty", "A1 A2 A3 A4 A5");
	/* in one locale, A3 and A5 have their name */
	assert_string_equal(select_keys("complete for sales", "nb_NO"),
			    "A1 A2 A3 A5");
}

static void test_updated_since(void **state)
{
	(void)state;
	WHERE("updated since 1", "A1 A2 A3 A4 A5");
	WHERE("updated since 2", "");
	WHERE("updated since 2000-01-01", "A1 A2 A3 A4 A5");
	WHERE("updated since 2999-01-01T00:00:00Z", "");
}

static void test_precedence_and_parentheses(void **state)
{
	(void)state;
	WHERE("color = red or color = blue and stock > 3", "A1 A5");
	WHERE("(color = red or color = blue) and stock > 3", "A1");
	WHERE("not (color = red or color = blue)", "A3 A4");
	WHERE("color = red AND NOT stock < 4", "A1");
	WHERE("family is empty", "A1 A2 A3 A4 A5");
}

static void test_quoted_values(void **state)
{
	(void)state;
	WHERE("name = \"Sofa Gr\xC3\xA5\"", "A3");
	WHERE("name = 'sofa puter'", "A4");
	WHERE("name = \"it\\\"s\"", "");
}

/* ---- mistakes --------------------------------------------------------------- */

static void test_errors_point_at_the_column(void **state)
{
	(void)state;
	bad("colr = red", 1, "did you mean 'color'");
	bad("color = purple", 9, "not one of");
	bad("(color = red", 13, "expected ')'");
	bad("color = \"red", 9, "never closed");
	bad("stock < abc", 9, "stock");
	bad("color < red", 7, "no order");
	bad("stock under x", 7, "category");
	bad("complete for nobody", 14, "unknown role 'nobody'");
	bad("", 1, "empty");
	bad("   ", 4, "empty");
	bad("color = red blue", 13, "expected 'and', 'or'");
	bad("color =", 8, "expected a value");
	bad("sku == A1", 6, "expected a value");
	bad("stock >= <3", 10, "quote");
	bad("name@xx = a", 6, "locales");
	bad("stock@nb_NO = 1", 1, "not localizable");
	bad("stock is full", 10, "expected 'empty'");
	bad("color in red", 10, "expected '('");
	bad("color in (red", 14, "expected ',' or ')'");
	bad("updated since yesterday", 15, "expected a date");
	bad("color", 6, "expected an operator");
	bad("\xC3\x86 = 1", 1, "expected an attribute");
	bad("name = x and \xC3\x86\xC3\x86 = y", 14, "expected an attribute");
}

static void test_deep_nesting_is_refused(void **state)
{
	char expr[400];
	size_t n = 0;
	pim_select sel = PIM_SELECT_INIT;
	pim_where_error err;
	pim_view *v = NULL;
	struct keys k;

	(void)state;
	for (int i = 0; i < 100; i++)
		expr[n++] = '(';
	memcpy(expr + n, "color = red", 12);
	memset(&k, 0, sizeof k);
	assert_int_equal(pim_view_new(&v, cat, NULL, NULL, "sku"), 0);
	sel.where = expr;
	assert_int_equal(pim_catalog_select(cat, v, &sel, collect, &k, &err),
			 PIM_EPARSE);
	assert_non_null(strstr(err.message, "nested"));
	pim_view_free(v);
}

static void test_values_are_bound_not_spliced(void **state)
{
	(void)state;
	/* SQL in a value is only a value */
	WHERE("name = \"x' OR '1'='1\"", "");
	WHERE("name ~ \"'; DROP TABLE product; --\"", "");
	WHERE("sku is not empty", "A1 A2 A3 A4 A5");
}

/* ---- views ---------------------------------------------------------------- */

struct completeness {
	char key[8];
	int pct;
	size_t missing, required;
};

static int grab(const pim_product_row *p, void *ctx)
{
	struct completeness *c = ctx;

	snprintf(c->key, sizeof c->key, "%s", p->key);
	c->pct = p->completeness;
	c->missing = p->missing;
	c->required = p->required;
	return 1;
}

static void completeness_in(const char *role, const char *key,
			    const char *locale, struct completeness *c)
{
	pim_select sel = PIM_SELECT_INIT;
	pim_view *v = NULL;

	memset(c, 0, sizeof *c);
	assert_int_equal(pim_view_new(&v, cat, role, locale, NULL), 0);
	sel.key = key;
	assert_int_equal(pim_catalog_select(cat, v, &sel, grab, c, NULL), 0);
	pim_view_free(v);
	assert_string_equal(c->key, key);
}

static void completeness_of(const char *key, const char *locale,
			    struct completeness *c)
{
	completeness_in("sales", key, locale, c);
}

static void test_completeness_figures(void **state)
{
	struct completeness c;

	(void)state;
	/* A3 has name@nb_NO but not name@en_US, and a price: without a
	 * locale its name counts as missing */
	completeness_of("A3", NULL, &c);
	assert_int_equal(c.required, 2);
	assert_int_equal(c.missing, 1);
	assert_int_equal(c.pct, 50);
	completeness_of("A3", "nb_NO", &c);
	assert_int_equal(c.required, 2);
	assert_int_equal(c.pct, 100);
	completeness_of("A4", "nb_NO", &c);
	assert_int_equal(c.pct, 50);
	completeness_of("A1", NULL, &c);
	assert_int_equal(c.pct, 100);
	/* floor, not round: 2 of 3 is 66, 1 of 3 is 33 */
	completeness_in("buyer", "A3", NULL, &c);
	assert_int_equal(c.required, 3);
	assert_int_equal(c.pct, 66);
	completeness_in("buyer", "A4", NULL, &c);
	assert_int_equal(c.pct, 33);
	completeness_in("empty", "A4", NULL, &c);
	assert_int_equal(c.required, 0);
	assert_int_equal(c.pct, 100);
}

static void test_view_columns_and_labels(void **state)
{
	pim_view *v = NULL;
	const pim_view_column *c;

	(void)state;
	assert_int_equal(pim_view_new(&v, cat, "sales", "nb_NO", NULL), 0);
	assert_string_equal(pim_view_role(v), "sales");
	assert_int_equal(pim_view_column_count(v), 4);
	c = pim_view_column_at(v, 1);
	assert_string_equal(c->name, "name@nb_NO");
	assert_string_equal(c->label, "Varenavn");
	assert_int_equal(c->required, 1);
	c = pim_view_column_at(v, 3);
	assert_string_equal(c->label, "color"); /* no label: the code */
	assert_null(pim_view_column_at(v, 4));
	pim_view_free(v);

	/* no locale: one column per locale */
	assert_int_equal(pim_view_new(&v, cat, "sales", NULL, NULL), 0);
	assert_int_equal(pim_view_column_count(v), 5);
	pim_view_free(v);

	/* no role: every attribute */
	assert_int_equal(pim_view_new(&v, cat, NULL, "en_US", NULL), 0);
	assert_int_equal(pim_view_column_count(v), 11);
	c = pim_view_column_at(v, 3);
	assert_string_equal(c->code, "weight");
	assert_string_equal(c->unit, "KGM");
	assert_string_equal(c->unit_symbol, "kg");
	pim_view_free(v);
}

static void test_view_unknowns_are_refused(void **state)
{
	pim_view *v = NULL;

	(void)state;
	assert_int_equal(pim_view_new(&v, cat, "nobody", NULL, NULL),
			 PIM_ENOTFOUND);
	assert_null(v);
	assert_non_null(strstr(pim_errmsg(cat), "sales"));
	assert_int_equal(pim_view_new(&v, cat, NULL, "xx_XX", NULL),
			 PIM_ENOTFOUND);
	assert_int_equal(pim_view_new(&v, cat, NULL, NULL, "sku,colour"),
			 PIM_ENOTFOUND);
	assert_non_null(strstr(pim_errmsg(cat), "colour"));
	assert_int_equal(pim_view_new(&v, cat, NULL, NULL, "stock@nb_NO"),
			 PIM_ENOTFOUND);
	assert_int_equal(pim_view_new(&v, cat, NULL, NULL, " sku , stock "),
			 0);
	assert_int_equal(pim_view_column_count(v), 2);
	pim_view_free(v);
}

struct plan {
	char text[1024];
};

static int plan_line(const char *line, void *ctx)
{
	struct plan *p = ctx;
	size_t n = strlen(p->text);

	snprintf(p->text + n, sizeof p->text - n, "%s\n", line);
	return 0;
}

static void test_indexes_serve_point_and_range_queries(void **state)
{
	pim_select sel = PIM_SELECT_INIT;
	pim_view *v = NULL;
	struct plan p;

	(void)state;
	assert_int_equal(pim_view_new(&v, cat, NULL, NULL, "sku"), 0);
	memset(&p, 0, sizeof p);
	sel.where = "gtin = 4006381333931";
	assert_int_equal(pim_catalog_explain(cat, v, &sel, plan_line, &p, NULL),
			 0);
	assert_non_null(strstr(p.text, "USING INDEX product_u_gtin"));
	memset(&p, 0, sizeof p);
	sel.where = "updated since 1";
	assert_int_equal(pim_catalog_explain(cat, v, &sel, plan_line, &p, NULL),
			 0);
	assert_non_null(strstr(p.text, "USING INDEX product_updated"));
	memset(&p, 0, sizeof p);
	sel.where = "sku = A1";
	assert_int_equal(pim_catalog_explain(cat, v, &sel, plan_line, &p, NULL),
			 0);
	assert_non_null(strstr(p.text, "USING INDEX"));
	pim_view_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_select_equality_is_case_insensitive_option),
		cmocka_unit_test(test_not_equal_includes_empty_values),
		cmocka_unit_test(test_price_compares_amounts_within_currency),
		cmocka_unit_test(test_measure_converts_units),
		cmocka_unit_test(test_integer_order_is_numeric),
		cmocka_unit_test(test_empty_and_not_empty),
		cmocka_unit_test(test_contains_folds_case),
		cmocka_unit_test(test_localizable_locale),
		cmocka_unit_test(test_multiselect_has_all_options),
		cmocka_unit_test(test_boolean_and_date),
		cmocka_unit_test(test_gtin_and_key),
		cmocka_unit_test(test_in_and_not_in),
		cmocka_unit_test(test_category_under_is_a_path_prefix),
		cmocka_unit_test(test_completeness),
		cmocka_unit_test(test_updated_since),
		cmocka_unit_test(test_precedence_and_parentheses),
		cmocka_unit_test(test_quoted_values),
		cmocka_unit_test(test_errors_point_at_the_column),
		cmocka_unit_test(test_deep_nesting_is_refused),
		cmocka_unit_test(test_values_are_bound_not_spliced),
		cmocka_unit_test(test_completeness_figures),
		cmocka_unit_test(test_view_columns_and_labels),
		cmocka_unit_test(test_view_unknowns_are_refused),
		cmocka_unit_test(test_indexes_serve_point_and_range_queries),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
