/*
 * test_mapping.c - unit tests of the mapping loader (pim-mapping(5)): a
 * valid mapping loads into the model, each rule is reported with its
 * diagnostic code at the line and column of the node at fault, and the
 * text transforms mappings apply to cells.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "mapping.h"
#include "pim.h"
#include "schema.h"

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
	size_t errors;
} recorder;

static int record(const pim_diag *d, void *ctx)
{
	recorder *r = ctx;

	if (d->severity == PIM_SEV_ERROR)
		r->errors++;
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

static void expect_msg(const rec_diag *d, const char *needle)
{
	if (!strstr(d->msg, needle))
		fail_msg("message '%s' lacks '%s'", d->msg, needle);
}

/* ---- the schema ------------------------------------------------------ */

static const char schema_text[] =
	"pim: 1\n"
	"name: mapping-test\n"
	"locales: [nb_NO, en_US]\n"
	"currencies: [NOK, EUR]\n"
	"units: [KGM, GRM, CMT]\n"
	"attributes:\n"
	"  sku:    { type: identifier }\n"
	"  name:   { type: text, localizable: true }\n"
	"  weight: { type: measure, dimension: mass, unit: KGM }\n"
	"  color:  { type: select, options: [red, blue] }\n"
	"  price:  { type: price, currency: NOK }\n"
	"  qty:    { type: integer, min: 0 }\n";

static int load_schema(void **state)
{
	pim_schema *s = NULL;
	int rc = pim_schema_load_buffer(&s, "schema.yaml", schema_text,
					strlen(schema_text), NULL, NULL);
	*state = s;
	return rc;
}

static int free_schema(void **state)
{
	pim_schema_free(*state);
	return 0;
}

static int load(pim_mapping **out, void **state, recorder *r,
		const char *text)
{
	memset(r, 0, sizeof *r);
	return pim_mapping_load_buffer(out, "map.yaml", text, strlen(text),
				       *state, record, r);
}

/* Loads `text`, which must fail; leaves the diagnostics in *r. */
static void load_bad(void **state, recorder *r, const char *text)
{
	pim_mapping *m = (pim_mapping *)1;
	int rc = load(&m, state, r, text);

	if (rc != PIM_EPARSE) {
		dump(r);
		if (rc == 0)
			pim_mapping_free(m);
	}
	assert_int_equal(rc, PIM_EPARSE);
	assert_null(m);
	assert_true(r->errors >= 1);
}

static const pim_colmap *column(const pim_mapping *m, const char *name)
{
	for (size_t i = 0; i < m->n_cols; i++)
		if (!strcmp(m->cols[i].column, name))
			return &m->cols[i];
	fail_msg("no column '%s' in the mapping", name);
	return NULL;
}

static const char *attr_code(void **state, long attr)
{
	assert_true(attr >= 0);
	return pim_schema_attribute_code(*state, (size_t)attr);
}

/* ---- a valid mapping -------------------------------------------------- */

static const char valid[] =
	"pim: 1\n"
	"name: supplier-a\n"
	"dialect:\n"
	"  delimiter: \";\"\n"
	"  decimal: \",\"\n"
	"  encoding: windows-1252\n"
	"  header: true\n"
	"key: Varenr\n"
	"transform: [trim]\n"
	"unknown_columns: error\n"
	"columns:\n"
	"  Varenr: sku\n"
	"  Navn: { attribute: name, locale: en_US }\n"
	"  Tittel: name@nb_NO\n"
	"  Beskrivelse: name\n"
	"  Vekt (g): { attribute: weight, unit: GRM }\n"
	"  Farge:\n"
	"    attribute: color\n"
	"    map: { r\xC3\xB8" "d: red, bl\xC3\xA5: blue }\n"
	"    default: empty\n"
	"    transform: lower\n"
	"  Pris: { attribute: price, currency: eur }\n"
	"  Notat:\n"
	"constants:\n"
	"  qty: 5\n"
	"ignore: [Valuta]\n";

static void test_valid_mapping_loads(void **state)
{
	pim_mapping *m = NULL;
	recorder r;
	const pim_colmap *c;

	if (load(&m, state, &r, valid) != 0)
		dump(&r);
	assert_non_null(m);
	assert_int_equal(r.n, 0);
	assert_string_equal(m->name, "supplier-a");
	assert_int_equal(m->dialect.delimiter, ';');
	assert_int_equal(m->dialect.decimal, ',');
	assert_int_equal(m->dialect.encoding, PIM_ENC_CP1252);
	assert_int_equal(m->dialect.header, 1);
	assert_string_equal(m->key_column, "Varenr");
	assert_int_equal(m->transforms, TR_TRIM);
	assert_int_equal(m->unknown, 2);
	assert_int_equal(m->n_cols, 8);

	c = column(m, "Varenr");
	assert_string_equal(attr_code(state, c->attr), "sku");
	assert_null(c->locale);
	assert_int_equal(c->index, 0);

	c = column(m, "Navn");
	assert_string_equal(attr_code(state, c->attr), "name");
	assert_string_equal(c->locale, "en_US");

	c = column(m, "Tittel");
	assert_string_equal(attr_code(state, c->attr), "name");
	assert_string_equal(c->locale, "nb_NO");

	/* a localizable attribute without a locale gets the first one */
	c = column(m, "Beskrivelse");
	assert_string_equal(c->locale, "nb_NO");

	c = column(m, "Vekt (g)");
	assert_string_equal(attr_code(state, c->attr), "weight");
	assert_non_null(c->unit);
	assert_string_equal(c->unit->code, "GRM");

	c = column(m, "Farge");
	assert_string_equal(attr_code(state, c->attr), "color");
	assert_int_equal(c->n_map, 2);
	assert_string_equal(c->map[0].from, "r\xC3\xB8" "d");
	assert_string_equal(c->map[0].to, "red");
	assert_string_equal(c->map[1].to, "blue");
	assert_int_equal(c->map_default, MAPDEF_EMPTY);
	assert_int_equal(c->transforms, TR_LOWER);

	c = column(m, "Pris");
	assert_string_equal(c->currency, "EUR");

	c = column(m, "Notat");
	assert_int_equal(c->attr, -1);

	assert_int_equal(m->n_constants, 1);
	assert_string_equal(attr_code(state, m->constants[0].attr), "qty");
	assert_string_equal(m->constants[0].value, "5");
	assert_int_equal(m->n_ignore, 1);
	assert_string_equal(m->ignore[0], "Valuta");
	pim_mapping_free(m);
}

static void test_minimal_mapping_defaults(void **state)
{
	pim_mapping *m = NULL;
	recorder r;

	assert_int_equal(load(&m, state, &r,
			      "pim: 1\n"
			      "columns:\n"
			      "  SKU: sku\n"),
			 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(m->dialect.delimiter, 0);
	assert_int_equal(m->dialect.encoding, PIM_ENC_AUTO);
	assert_int_equal(m->dialect.header, -1);
	assert_null(m->key_column);
	assert_int_equal(m->unknown, 0);
	assert_int_equal(m->n_cols, 1);
	pim_mapping_free(m);
}

static void test_tab_delimiter_by_name(void **state)
{
	pim_mapping *m = NULL;
	recorder r;

	assert_int_equal(load(&m, state, &r,
			      "pim: 1\n"
			      "dialect: { delimiter: tab }\n"
			      "columns: { SKU: sku }\n"),
			 0);
	assert_int_equal(m->dialect.delimiter, '\t');
	pim_mapping_free(m);
}

static void test_free_null_is_safe(void **state)
{
	(void)state;
	pim_mapping_free(NULL);
}

/* ---- one test per rule ------------------------------------------------ */

static void test_unknown_top_level_key_hints(void **state)
{
	recorder r;
	const rec_diag *d;

	load_bad(state, &r,
		 "pim: 1\n"
		 "key: SKU\n"
		 "columns:\n"
		 "  SKU: sku\n"
		 "constans:\n"
		 "  qty: 1\n");
	d = EXPECT_DIAG(&r, "unknown-key", 5, 1);
	expect_msg(d, "'constans'");
	expect_msg(d, "did you mean 'constants'");
	assert_int_equal(r.errors, 1);
}

static void test_unknown_column_key_hints(void **state)
{
	recorder r;
	const rec_diag *d;

	load_bad(state, &r,
		 "pim: 1\n"
		 "columns:\n"
		 "  SKU: sku\n"
		 "  Navn: { attribute: name, lokale: en_US }\n");
	d = EXPECT_DIAG(&r, "unknown-key", 4, 28);
	expect_msg(d, "did you mean 'locale'");
	assert_int_equal(r.errors, 1);
}

static void test_unknown_dialect_key_hints(void **state)
{
	recorder r;
	const rec_diag *d;

	load_bad(state, &r,
		 "pim: 1\n"
		 "dialect:\n"
		 "  delimeter: \";\"\n"
		 "columns: { SKU: sku }\n");
	d = EXPECT_DIAG(&r, "unknown-key", 3, 3);
	expect_msg(d, "did you mean 'delimiter'");
}

static void test_unknown_key_without_hint(void **state)
{
	recorder r;
	const rec_diag *d;

	load_bad(state, &r,
		 "pim: 1\n"
		 "columns: { SKU: sku }\n"
		 "something_else: 1\n");
	d = EXPECT_DIAG(&r, "unknown-key", 3, 1);
	assert_null(strstr(d->msg, "did you mean"));
}

static void test_unknown_attribute_hints(void **state)
{
	recorder r;
	const rec_diag *d;

	load_bad(state, &r,
		 "pim: 1\n"
		 "columns:\n"
		 "  SKU: sku\n"
		 "  Navn: nam\n");
	d = EXPECT_DIAG(&r, "unknown-attribute", 4, 9);
	expect_msg(d, "'nam'");
	expect_msg(d, "did you mean 'name'");
	assert_int_equal(r.errors, 1);
}

static void test_unknown_attribute_in_long_form(void **state)
{
	recorder r;
	const rec_diag *d;

	load_bad(state, &r,
		 "pim: 1\n"
		 "columns:\n"
		 "  SKU: sku\n"
		 "  Farge: { attribute: colour }\n");
	d = EXPECT_DIAG(&r, "unknown-attribute", 4, 23);
	expect_msg(d, "did you mean 'color'");
}

static void test_unknown_attribute_without_hint(void **state)
{
	recorder r;
	const rec_diag *d;

	load_bad(state, &r,
		 "pim: 1\n"
		 "columns:\n"
		 "  SKU: sku\n"
		 "  X: zzzzzzzz\n");
	d = EXPECT_DIAG(&r, "unknown-attribute", 4, 6);
	assert_null(strstr(d->msg, "did you mean"));
}

static void test_unknown_locale_after_at(void **state)
{
	recorder r;
	const rec_diag *d;

	load_bad(state, &r,
		 "pim: 1\n"
		 "columns:\n"
		 "  SKU: sku\n"
		 "  Name: name@de_DE\n");
	d = EXPECT_DIAG(&r, "unknown-locale", 4, 9);
	expect_msg(d, "'de_DE'");
	assert_int_equal(r.errors, 1);
}

static void test_unknown_locale_key(void **state)
{
	recorder r;

	load_bad(state, &r,
		 "pim: 1\n"
		 "columns:\n"
		 "  SKU: sku\n"
		 "  Name: { attribute: name, locale: sv_SE }\n");
	EXPECT_DIAG(&r, "unknown-locale", 4, 36);
	assert_int_equal(r.errors, 1);
}

static void test_locale_on_non_localizable(void **state)
{
	recorder r;
	const rec_diag *d;

	load_bad(state, &r,
		 "pim: 1\n"
		 "columns:\n"
		 "  SKU: sku\n"
		 "  Antall: qty@nb_NO\n");
	d = EXPECT_DIAG(&r, "bad-value", 4, 11);
	expect_msg(d, "not localizable");
}

static void test_unit_on_non_measure(void **state)
{
	recorder r;
	const rec_diag *d;

	load_bad(state, &r,
		 "pim: 1\n"
		 "columns:\n"
		 "  SKU: sku\n"
		 "  Antall: { attribute: qty, unit: KGM }\n");
	d = EXPECT_DIAG(&r, "constraint-type", 4, 35);
	expect_msg(d, "'qty' is a integer");
	assert_int_equal(r.errors, 1);
}

static void test_unit_of_wrong_dimension(void **state)
{
	recorder r;
	const rec_diag *d;

	load_bad(state, &r,
		 "pim: 1\n"
		 "columns:\n"
		 "  SKU: sku\n"
		 "  Vekt: { attribute: weight, unit: CMT }\n");
	d = EXPECT_DIAG(&r, "unit-dimension", 4, 36);
	expect_msg(d, "CMT");
	expect_msg(d, "length");
	expect_msg(d, "mass");
	assert_int_equal(r.errors, 1);
}

static void test_unknown_unit(void **state)
{
	recorder r;

	load_bad(state, &r,
		 "pim: 1\n"
		 "columns:\n"
		 "  SKU: sku\n"
		 "  Vekt: { attribute: weight, unit: XYZ }\n");
	EXPECT_DIAG(&r, "unknown-unit", 4, 36);
}

static void test_currency_on_non_price(void **state)
{
	recorder r;

	load_bad(state, &r,
		 "pim: 1\n"
		 "columns:\n"
		 "  SKU: sku\n"
		 "  Antall: { attribute: qty, currency: NOK }\n");
	EXPECT_DIAG(&r, "constraint-type", 4, 39);
}

static void test_bad_delimiter(void **state)
{
	recorder r;
	const rec_diag *d;

	load_bad(state, &r,
		 "pim: 1\n"
		 "dialect:\n"
		 "  delimiter: x\n"
		 "columns: { SKU: sku }\n");
	d = EXPECT_DIAG(&r, "bad-value", 3, 14);
	expect_msg(d, "delimiter must be one of");
	assert_int_equal(r.errors, 1);
}

static void test_delimiter_of_two_characters(void **state)
{
	recorder r;
	const rec_diag *d;

	load_bad(state, &r,
		 "pim: 1\n"
		 "dialect:\n"
		 "  delimiter: \";;\"\n"
		 "columns: { SKU: sku }\n");
	d = EXPECT_DIAG(&r, "bad-value", 3, 14);
	expect_msg(d, "one character");
}

static void test_bad_decimal_and_encoding(void **state)
{
	recorder r;

	load_bad(state, &r,
		 "pim: 1\n"
		 "dialect:\n"
		 "  decimal: \"x\"\n"
		 "  encoding: ebcdic\n"
		 "columns: { SKU: sku }\n");
	EXPECT_DIAG(&r, "bad-value", 3, 12);
	EXPECT_DIAG(&r, "bad-value", 4, 13);
	assert_int_equal(r.errors, 2);
}

static void test_key_column_not_under_columns(void **state)
{
	recorder r;
	const rec_diag *d;

	load_bad(state, &r,
		 "pim: 1\n"
		 "key: Varenummer\n"
		 "columns:\n"
		 "  Varenr: sku\n");
	d = EXPECT_DIAG(&r, "unknown-column", 2, 6);
	expect_msg(d, "'Varenummer'");
	assert_int_equal(r.errors, 1);
}

static void test_key_column_not_the_identifier(void **state)
{
	recorder r;
	const rec_diag *d;

	load_bad(state, &r,
		 "pim: 1\n"
		 "key: Navn\n"
		 "columns:\n"
		 "  Varenr: sku\n"
		 "  Navn: name\n");
	d = EXPECT_DIAG(&r, "bad-value", 2, 6);
	expect_msg(d, "identifier 'sku'");
}

static void test_no_column_for_the_key(void **state)
{
	recorder r;
	const rec_diag *d;

	load_bad(state, &r,
		 "pim: 1\n"
		 "columns:\n"
		 "  Navn: name\n"
		 "  Antall: qty\n");
	d = EXPECT_DIAG(&r, "missing", 1, 1);
	expect_msg(d, "no column maps to the key 'sku'");
	assert_int_equal(r.errors, 1);
}

static void test_constant_not_an_option(void **state)
{
	recorder r;
	const rec_diag *d;

	load_bad(state, &r,
		 "pim: 1\n"
		 "columns: { SKU: sku }\n"
		 "constants:\n"
		 "  color: purple\n");
	d = EXPECT_DIAG(&r, "option", 4, 10);
	expect_msg(d, "constant for 'color'");
	assert_int_equal(r.errors, 1);
}

static void test_constant_below_minimum(void **state)
{
	recorder r;

	load_bad(state, &r,
		 "pim: 1\n"
		 "columns: { SKU: sku }\n"
		 "constants:\n"
		 "  qty: -3\n");
	EXPECT_DIAG(&r, "min", 4, 8);
	assert_int_equal(r.errors, 1);
}

static void test_constant_unknown_attribute(void **state)
{
	recorder r;

	load_bad(state, &r,
		 "pim: 1\n"
		 "columns: { SKU: sku }\n"
		 "constants:\n"
		 "  qtty: 3\n");
	expect_msg(EXPECT_DIAG(&r, "unknown-attribute", 4, 3),
		   "did you mean 'qty'");
}

static void test_duplicate_column(void **state)
{
	recorder r;
	const rec_diag *d;

	load_bad(state, &r,
		 "pim: 1\n"
		 "columns:\n"
		 "  SKU: sku\n"
		 "  Navn: name\n"
		 "  Antall: qty\n"
		 "  Navn: name@en_US\n");
	d = EXPECT_DIAG(&r, "duplicate", 6, 3);
	expect_msg(d, "'Navn'");
	expect_msg(d, "first at line 4");
	assert_int_equal(r.errors, 1);
}

static void test_columns_by_position(void **state)
{
	pim_mapping *m = NULL;
	recorder r;
	const pim_colmap *c;

	if (load(&m, state, &r,
		 "pim: 1\n"
		 "dialect: { header: false }\n"
		 "columns:\n"
		 "  \"#1\": sku\n"
		 "  \"#3\": name@en_US\n"
		 "  \"#12\": qty\n") != 0)
		dump(&r);
	assert_non_null(m);
	assert_int_equal(m->dialect.header, 0);
	c = column(m, "#1");
	assert_int_equal(c->index, 1);
	assert_string_equal(attr_code(state, c->attr), "sku");
	c = column(m, "#3");
	assert_int_equal(c->index, 3);
	assert_string_equal(c->locale, "en_US");
	assert_int_equal(column(m, "#12")->index, 12);
	pim_mapping_free(m);
}

static void test_bad_column_positions(void **state)
{
	recorder r;

	load_bad(state, &r,
		 "pim: 1\n"
		 "columns:\n"
		 "  \"#1\": sku\n"
		 "  \"#0\": name\n"
		 "  \"#2x\": qty\n"
		 "  \"#4097\": color\n");
	EXPECT_DIAG(&r, "bad-value", 4, 3);
	EXPECT_DIAG(&r, "bad-value", 5, 3);
	EXPECT_DIAG(&r, "bad-value", 6, 3);
	assert_int_equal(r.errors, 3);
}

static void test_unknown_transform(void **state)
{
	recorder r;
	const rec_diag *d;

	load_bad(state, &r,
		 "pim: 1\n"
		 "transform: [trim, shout]\n"
		 "columns: { SKU: sku }\n");
	d = EXPECT_DIAG(&r, "unknown-transform", 2, 19);
	expect_msg(d, "'shout'");
}

static void test_missing_version(void **state)
{
	recorder r;

	load_bad(state, &r, "columns: { SKU: sku }\n");
	EXPECT_DIAG(&r, "missing", 1, 1);
}

static void test_empty_mapping(void **state)
{
	recorder r;

	load_bad(state, &r, "");
	EXPECT_DIAG(&r, "missing", 0, 0);
}

/* ---- transforms -------------------------------------------------------- */

static void expect_transform(const char *in, unsigned tr, const char *want)
{
	pim_buf b = PIM_BUF_INIT;

	assert_int_equal(pim_transform(&b, in, strlen(in), tr), 0);
	assert_string_equal(b.data, want);
	assert_int_equal(b.len, strlen(want));
	pim_buf_free(&b);
}

static void test_transform_trim(void **state)
{
	(void)state;
	expect_transform("  oak  table \t", TR_TRIM, "oak  table");
	expect_transform("   ", TR_TRIM, "");
	expect_transform("plain", TR_TRIM, "plain");
}

static void test_transform_collapse_spaces(void **state)
{
	(void)state;
	expect_transform("  oak \t  table   top ", TR_COLLAPSE, "oak table top");
}

static void test_transform_upper(void **state)
{
	(void)state;
	/* ASCII letters only; others are left as they are */
	expect_transform("abc-xyz bl\xC3\xA5", TR_UPPER, "ABC-XYZ BL\xC3\xA5");
}

static void test_transform_lower(void **state)
{
	(void)state;
	expect_transform("ABC Def \xC3\x85", TR_LOWER, "abc def \xC3\x85");
}

static void test_transform_title(void **state)
{
	(void)state;
	expect_transform("hello wORLD oak-table", TR_TITLE,
			 "Hello World Oak-Table");
}

static void test_transform_combined(void **state)
{
	(void)state;
	expect_transform("  big   OAK  ", TR_TRIM | TR_COLLAPSE | TR_LOWER,
			 "big oak");
	expect_transform("  big oak ", TR_TRIM | TR_UPPER, "BIG OAK");
}

static void test_transform_parse(void **state)
{
	(void)state;
	assert_int_equal(pim_transform_parse("trim"), TR_TRIM);
	assert_int_equal(pim_transform_parse("collapse_spaces"), TR_COLLAPSE);
	assert_int_equal(pim_transform_parse("collapse"), TR_COLLAPSE);
	assert_int_equal(pim_transform_parse("upper"), TR_UPPER);
	assert_int_equal(pim_transform_parse("lower"), TR_LOWER);
	assert_int_equal(pim_transform_parse("title"), TR_TITLE);
	assert_int_equal(pim_transform_parse("shout"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_mapping_loads),
		cmocka_unit_test(test_minimal_mapping_defaults),
		cmocka_unit_test(test_tab_delimiter_by_name),
		cmocka_unit_test(test_free_null_is_safe),
		cmocka_unit_test(test_unknown_top_level_key_hints),
		cmocka_unit_test(test_unknown_column_key_hints),
		cmocka_unit_test(test_unknown_dialect_key_hints),
		cmocka_unit_test(test_unknown_key_without_hint),
		cmocka_unit_test(test_unknown_attribute_hints),
		cmocka_unit_test(test_unknown_attribute_in_long_form),
		cmocka_unit_test(test_unknown_attribute_without_hint),
		cmocka_unit_test(test_unknown_locale_after_at),
		cmocka_unit_test(test_unknown_locale_key),
		cmocka_unit_test(test_locale_on_non_localizable),
		cmocka_unit_test(test_unit_on_non_measure),
		cmocka_unit_test(test_unit_of_wrong_dimension),
		cmocka_unit_test(test_unknown_unit),
		cmocka_unit_test(test_currency_on_non_price),
		cmocka_unit_test(test_bad_delimiter),
		cmocka_unit_test(test_delimiter_of_two_characters),
		cmocka_unit_test(test_bad_decimal_and_encoding),
		cmocka_unit_test(test_key_column_not_under_columns),
		cmocka_unit_test(test_key_column_not_the_identifier),
		cmocka_unit_test(test_no_column_for_the_key),
		cmocka_unit_test(test_constant_not_an_option),
		cmocka_unit_test(test_constant_below_minimum),
		cmocka_unit_test(test_constant_unknown_attribute),
		cmocka_unit_test(test_duplicate_column),
		cmocka_unit_test(test_columns_by_position),
		cmocka_unit_test(test_bad_column_positions),
		cmocka_unit_test(test_unknown_transform),
		cmocka_unit_test(test_missing_version),
		cmocka_unit_test(test_empty_mapping),
		cmocka_unit_test(test_transform_trim),
		cmocka_unit_test(test_transform_collapse_spaces),
		cmocka_unit_test(test_transform_upper),
		cmocka_unit_test(test_transform_lower),
		cmocka_unit_test(test_transform_title),
		cmocka_unit_test(test_transform_combined),
		cmocka_unit_test(test_transform_parse),
	};

	return cmocka_run_group_tests(tests, load_schema, free_schema);
}
