/*
 * test_schema.c - unit tests of the schema loader: valid schemas load, and
 * every rule of pim-schema(5) is reported with its diagnostic code at the
 * line and column of the node at fault. Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "pim.h"
#include "schema.h"

/* ---- recording diagnostics ------------------------------------------ */

#define MAX_DIAGS 64

typedef struct rec_diag {
	unsigned long line, col;
	char code[40];
	char msg[512];
	char file[64];
	pim_severity sev;
} rec_diag;

typedef struct recorder {
	rec_diag d[MAX_DIAGS];
	size_t n;       /* recorded (at most MAX_DIAGS) */
	size_t calls;   /* callback invocations */
	size_t errors;  /* of severity error */
	int stop;       /* the value the callback returns */
} recorder;

static int record(const pim_diag *d, void *ctx)
{
	recorder *r = ctx;

	r->calls++;
	if (d->severity == PIM_SEV_ERROR)
		r->errors++;
	if (r->n < MAX_DIAGS) {
		rec_diag *x = &r->d[r->n++];
		x->line = d->line;
		x->col = d->col;
		x->sev = d->severity;
		snprintf(x->code, sizeof x->code, "%s", d->code ? d->code : "");
		snprintf(x->file, sizeof x->file, "%s", d->file ? d->file : "");
		snprintf(x->msg, sizeof x->msg, "%s",
			 d->message ? d->message : "");
	}
	return r->stop;
}

static void dump(const recorder *r)
{
	for (size_t i = 0; i < r->n; i++)
		print_message("  diag %zu: %lu:%lu %s: %s\n", i, r->d[i].line,
			      r->d[i].col, r->d[i].code, r->d[i].msg);
}

static int load(pim_schema **out, recorder *r, const char *text)
{
	memset(r, 0, sizeof *r);
	return pim_schema_load_buffer(out, "test.yaml", text, strlen(text),
				      record, r);
}

/* Loads `text`, which must fail; leaves the diagnostics in *r. */
static void load_bad(recorder *r, const char *text)
{
	pim_schema *s = (pim_schema *)1;
	int rc = load(&s, r, text);

	if (rc != PIM_EPARSE) {
		dump(r);
		if (rc == 0)
			pim_schema_free(s);
	}
	assert_int_equal(rc, PIM_EPARSE);
	assert_null(s);
	assert_true(r->errors >= 1);
}

static const rec_diag *find_diag(const recorder *r, const char *code)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->d[i].code, code) == 0)
			return &r->d[i];
	return NULL;
}

static size_t count_diag(const recorder *r, const char *code)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->d[i].code, code) == 0)
			n++;
	return n;
}

/*
 * The diagnostic `code` reported at `line` (and `col` unless 0). Fails the
 * test, listing what was reported, when there is none.
 */
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

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data;
	long n;

	if (!f)
		fail_msg("cannot open %s (run from the repository root)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	assert_int_equal(fseek(f, 0, SEEK_SET), 0);
	data = malloc((size_t)n + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	data[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return data;
}

static pim_schema *load_path_buffer(const char *path, recorder *r)
{
	pim_schema *s = NULL;
	size_t len;
	char *data = read_file(path, &len);
	int rc;

	memset(r, 0, sizeof *r);
	rc = pim_schema_load_buffer(&s, path, data, len, record, r);
	free(data);
	if (rc != 0 || r->n != 0)
		dump(r);
	assert_int_equal(rc, 0);
	assert_non_null(s);
	return s;
}

/* ---- schemas that load ----------------------------------------------- */

static const char minimal[] = "pim: 1\n"
			      "attributes:\n"
			      "  sku: identifier\n";

static void test_minimal_schema_loads(void **state)
{
	pim_schema *s = NULL;
	recorder r;

	(void)state;
	assert_int_equal(load(&s, &r, minimal), 0);
	assert_non_null(s);
	assert_int_equal(r.calls, 0);
	assert_int_equal(pim_schema_attribute_count(s), 1);
	assert_string_equal(pim_schema_attribute_code(s, 0), "sku");
	assert_int_equal(pim_schema_attribute_type(s, 0), PIM_TYPE_IDENTIFIER);
	assert_string_equal(pim_schema_name(s), "catalog");
	pim_schema_free(s);
}

static void test_example_schema_loads_without_diagnostics(void **state)
{
	recorder r;
	pim_schema *s;

	(void)state;
	s = load_path_buffer("examples/schema.yaml", &r);
	assert_int_equal(r.calls, 0);
	assert_string_equal(pim_schema_name(s), "home-goods");
	assert_int_equal(pim_schema_attribute_count(s), 21);
	assert_int_equal(pim_schema_role_count(s), 3);
	assert_int_equal(s->n_families, 2);
	assert_int_equal(s->n_checks, 1);
	assert_int_equal(s->n_locales, 2);
	assert_int_equal(s->n_currencies, 3);
	pim_schema_free(s);
}

static void test_default_schema_loads_without_diagnostics(void **state)
{
	recorder r;
	pim_schema *s;

	(void)state;
	s = load_path_buffer("schemas/default.yaml", &r);
	assert_int_equal(r.calls, 0);
	assert_string_equal(pim_schema_name(s), "default");
	assert_int_equal(pim_schema_role_count(s), 3);
	assert_true(pim_schema_attribute_find(s, "sku") >= 0);
	pim_schema_free(s);
}

static void test_load_file_reads_example(void **state)
{
	pim_schema *s = NULL;
	recorder r;

	(void)state;
	memset(&r, 0, sizeof r);
	assert_int_equal(pim_schema_load_file(&s, "examples/schema.yaml",
					      record, &r),
			 0);
	assert_non_null(s);
	assert_int_equal(r.calls, 0);
	pim_schema_free(s);
}

static void test_load_file_missing_is_eio(void **state)
{
	pim_schema *s = (pim_schema *)1;
	recorder r;

	(void)state;
	memset(&r, 0, sizeof r);
	assert_int_equal(pim_schema_load_file(&s, "tests/no/such/schema.yaml",
					      record, &r),
			 PIM_EIO);
	assert_null(s);
	assert_non_null(find_diag(&r, "io"));
}

static void test_source_is_kept_verbatim(void **state)
{
	pim_schema *s = NULL;
	recorder r;
	size_t len = 0;

	(void)state;
	assert_int_equal(load(&s, &r, minimal), 0);
	assert_string_equal(pim_schema_source(s, &len), minimal);
	assert_int_equal(len, strlen(minimal));
	pim_schema_free(s);
}

/* ---- one test per rule ----------------------------------------------- */

static void test_yaml_syntax_error(void **state)
{
	recorder r;
	const rec_diag *d;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier: x\n");
	d = EXPECT_DIAG(&r, "yaml", 3, 18);
	expect_msg(d, "mapping values are not allowed");
	assert_int_equal(r.errors, 1);
}

static void test_unknown_top_level_key_hints(void **state)
{
	recorder r;
	const rec_diag *d;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "atributes:\n"
		     "  sku: identifier\n");
	d = EXPECT_DIAG(&r, "unknown-key", 2, 1);
	expect_msg(d, "'atributes'");
	expect_msg(d, "did you mean 'attributes'");
}

static void test_unknown_top_level_key_without_hint(void **state)
{
	recorder r;
	const rec_diag *d;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "wholly_unrelated: 3\n");
	d = EXPECT_DIAG(&r, "unknown-key", 4, 1);
	assert_null(strstr(d->msg, "did you mean"));
	assert_int_equal(r.errors, 1);
}

static void test_unknown_attribute_key_hints(void **state)
{
	recorder r;
	const rec_diag *d;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "  name:\n"
		     "    type: text\n"
		     "    requird: true\n");
	d = EXPECT_DIAG(&r, "unknown-key", 6, 5);
	expect_msg(d, "did you mean 'required'");
	assert_int_equal(r.errors, 1);
}

static void test_unknown_type_hints(void **state)
{
	recorder r;
	const rec_diag *d;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "  qty: { type: integr }\n");
	d = EXPECT_DIAG(&r, "unknown-type", 4, 16);
	expect_msg(d, "did you mean 'integer'");
	assert_int_equal(r.errors, 1);
}

static void test_unknown_type_shorthand(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "  blob: binary\n");
	EXPECT_DIAG(&r, "unknown-type", 4, 9);
	assert_int_equal(r.errors, 1);
}

static void test_constraint_not_for_type(void **state)
{
	recorder r;
	const rec_diag *d;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "  flag:\n"
		     "    type: boolean\n"
		     "    min: 1\n");
	d = EXPECT_DIAG(&r, "constraint-type", 6, 5);
	expect_msg(d, "'min'");
	expect_msg(d, "boolean");
	assert_int_equal(r.errors, 1);
}

static void test_select_without_options(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "  color:\n"
		     "    type: select\n");
	EXPECT_DIAG(&r, "missing-options", 4, 3);
	assert_int_equal(r.errors, 1);
}

static void test_select_shorthand_without_options(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "  color: select\n");
	EXPECT_DIAG(&r, "missing-options", 4, 3);
	assert_int_equal(r.errors, 1);
}

static void test_multiselect_empty_options(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "  colors:\n"
		     "    type: multiselect\n"
		     "    options: []\n");
	EXPECT_DIAG(&r, "missing-options", 6, 14);
	assert_int_equal(r.errors, 1);
}

static void test_duplicate_option(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "  color:\n"
		     "    type: select\n"
		     "    options: [red, blue, Red]\n");
	EXPECT_DIAG(&r, "duplicate", 6, 26);
	assert_int_equal(r.errors, 1);
}

static void test_bad_pattern(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "  code:\n"
		     "    type: text\n"
		     "    pattern: \"[a-\"\n");
	EXPECT_DIAG(&r, "bad-pattern", 6, 14);
	assert_int_equal(r.errors, 1);
}

static void test_unit_not_in_dimension(void **state)
{
	recorder r;
	const rec_diag *d;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "  weight: {type: measure, dimension: mass, unit: CMT}\n");
	d = EXPECT_DIAG(&r, "unit-dimension", 4, 50);
	expect_msg(d, "CMT");
	assert_int_equal(r.errors, 1);
}

static void test_unknown_unit(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "  weight:\n"
		     "    type: measure\n"
		     "    unit: XYZ\n");
	EXPECT_DIAG(&r, "unknown-unit", 6, 11);
	assert_int_equal(r.errors, 1);
}

static void test_unit_symbol_hints_code(void **state)
{
	recorder r;
	const rec_diag *d;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "  weight:\n"
		     "    type: measure\n"
		     "    unit: kg\n");
	d = EXPECT_DIAG(&r, "unknown-unit", 6, 11);
	expect_msg(d, "did you mean 'KGM'");
}

static void test_unknown_unit_in_units_list(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "units: [KGM, FOO]\n"
		     "attributes:\n"
		     "  sku: identifier\n");
	EXPECT_DIAG(&r, "unknown-unit", 2, 14);
	assert_int_equal(r.errors, 1);
}

static void test_measure_without_unit(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "  weight: { type: measure, dimension: mass }\n");
	EXPECT_DIAG(&r, "missing", 4, 3);
	assert_int_equal(r.errors, 1);
}

static const char with_name[] = "pim: 1\n"                  /* 1 */
				"attributes:\n"             /* 2 */
				"  sku: identifier\n"       /* 3 */
				"  name: text\n";           /* 4 */

static void test_role_unknown_attribute(void **state)
{
	recorder r;
	char text[512];
	const rec_diag *d;

	(void)state;
	snprintf(text, sizeof text, "%s%s", with_name,
		 "roles:\n"                             /* 5 */
		 "  sales:\n"                           /* 6 */
		 "    attributes: [sku, nmae]\n");     /* 7 */
	load_bad(&r, text);
	d = EXPECT_DIAG(&r, "unknown-attribute", 7, 23);
	expect_msg(d, "'nmae'");
	expect_msg(d, "did you mean 'name'");
	assert_int_equal(r.errors, 1);
}

static void test_role_edit_unknown_attribute(void **state)
{
	recorder r;
	char text[512];

	(void)state;
	snprintf(text, sizeof text, "%s%s", with_name,
		 "roles:\n"                             /* 5 */
		 "  sales:\n"                           /* 6 */
		 "    attributes: [sku, name]\n"        /* 7 */
		 "    edit: [price]\n");                /* 8 */
	load_bad(&r, text);
	EXPECT_DIAG(&r, "unknown-attribute", 8, 12);
	assert_int_equal(r.errors, 1);
}

static void test_family_unknown_attribute(void **state)
{
	recorder r;
	char text[512];
	const rec_diag *d;

	(void)state;
	snprintf(text, sizeof text, "%s%s", with_name,
		 "families:\n"                          /* 5 */
		 "  chairs:\n"                          /* 6 */
		 "    attributes: [sku, name]\n"        /* 7 */
		 "    required: [colour]\n");           /* 8 */
	load_bad(&r, text);
	d = EXPECT_DIAG(&r, "unknown-attribute", 8, 16);
	expect_msg(d, "'colour'");
	assert_int_equal(r.errors, 1);
}

static void test_check_unknown_attribute_left(void **state)
{
	recorder r;
	char text[512];
	const rec_diag *d;

	(void)state;
	snprintf(text, sizeof text, "%s%s", with_name,
		 "  cost: { type: price, currency: NOK }\n"  /* 5 */
		 "checks:\n"                                 /* 6 */
		 "  - list_price >= cost\n");                /* 7 */
	load_bad(&r, text);
	d = EXPECT_DIAG(&r, "unknown-attribute", 7, 5);
	expect_msg(d, "'list_price'");
	assert_int_equal(r.errors, 1);
}

static void test_check_unknown_attribute_right(void **state)
{
	recorder r;
	char text[512];
	const rec_diag *d;

	(void)state;
	snprintf(text, sizeof text, "%s%s", with_name,
		 "  cost: { type: price, currency: NOK }\n"  /* 5 */
		 "checks:\n"                                 /* 6 */
		 "  - check: \"cost >= cots * 2\"\n");       /* 7 */
	load_bad(&r, text);
	/* the quote is at column 12, "cots" at offset 8 inside it */
	d = EXPECT_DIAG(&r, "unknown-attribute", 7, 21);
	expect_msg(d, "'cots'");
	expect_msg(d, "did you mean 'cost'");
	assert_int_equal(r.errors, 1);
}

static void test_duplicate_attribute_code(void **state)
{
	recorder r;
	const rec_diag *d;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "  name: text\n"
		     "  size: integer\n"
		     "  name: textarea\n");
	d = EXPECT_DIAG(&r, "duplicate", 6, 3);
	expect_msg(d, "line 4");
	assert_int_equal(r.errors, 1);
}

static void expect_bad_code(const char *line3, unsigned long col)
{
	recorder r;
	char text[256];

	snprintf(text, sizeof text,
		 "pim: 1\nattributes:\n  sku: identifier\n%s\n", line3);
	load_bad(&r, text);
	EXPECT_DIAG(&r, "bad-code", 4, col);
	assert_int_equal(r.errors, 1);
}

static void test_code_with_capital_is_bad(void **state)
{
	(void)state;
	expect_bad_code("  Name: text", 3);
}

static void test_code_starting_with_digit_is_bad(void **state)
{
	(void)state;
	expect_bad_code("  2x: text", 3);
}

static void test_code_with_quote_is_bad(void **state)
{
	(void)state;
	expect_bad_code("  \"a'b\": text", 3);
}

static void test_code_with_hyphen_is_bad(void **state)
{
	(void)state;
	expect_bad_code("  list-price: text", 3);
}

static void test_code_of_64_chars_is_accepted(void **state)
{
	pim_schema *s = NULL;
	recorder r;
	char code[65], text[256];

	(void)state;
	memset(code, 'a', 64);
	code[64] = '\0';
	snprintf(text, sizeof text,
		 "pim: 1\nattributes:\n  sku: identifier\n  %s: text\n", code);
	assert_int_equal(load(&s, &r, text), 0);
	assert_true(pim_schema_attribute_find(s, code) >= 0);
	pim_schema_free(s);
}

static void test_code_of_65_chars_is_bad(void **state)
{
	char code[66], line[128];

	(void)state;
	memset(code, 'a', 65);
	code[65] = '\0';
	snprintf(line, sizeof line, "  %s: text", code);
	expect_bad_code(line, 3);
}

static void test_several_errors_all_reported(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "pim: 1\n"                                 /* 1 */
		     "attributes:\n"                            /* 2 */
		     "  sku: identifier\n"                      /* 3 */
		     "  qty: { type: integr }\n"                /* 4 */
		     "  flag: { type: boolean, max: 2 }\n"      /* 5 */
		     "  code: { type: text, pattern: \"[a-\" }\n" /* 6 */
		     "  Bad: text\n"                            /* 7 */
		     "roles:\n"                                 /* 8 */
		     "  sales:\n"                               /* 9 */
		     "    attributes: [sku, nmae]\n");          /* 10 */
	EXPECT_DIAG(&r, "unknown-type", 4, 16);
	EXPECT_DIAG(&r, "constraint-type", 5, 26);
	EXPECT_DIAG(&r, "bad-pattern", 6, 32);
	EXPECT_DIAG(&r, "bad-code", 7, 3);
	EXPECT_DIAG(&r, "unknown-attribute", 10, 23);
	assert_int_equal(r.errors, 5);
}

static void test_second_yaml_document_refused(void **state)
{
	recorder r;
	const rec_diag *d;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "---\n"
		     "pim: 1\n");
	d = EXPECT_DIAG(&r, "yaml", 4, 1);
	expect_msg(d, "one YAML document");
	assert_int_equal(r.errors, 1);
}

static void test_yaml_alias_refused(void **state)
{
	recorder r;
	const rec_diag *d;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: &t identifier\n"
		     "  name: *t\n");
	d = EXPECT_DIAG(&r, "yaml", 4, 9);
	expect_msg(d, "alias");
}

static void test_alias_bomb_refused(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
		     "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		     "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		     "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		     "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		     "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
		     "attributes:\n"
		     "  sku: identifier\n");
	EXPECT_DIAG(&r, "yaml", 3, 8);
	assert_int_equal(count_diag(&r, "yaml"), 1);
	assert_int_equal(r.errors, 1);
}

static void expect_deep_fails(const char *prefix, const char *open,
			      const char *close, int depth)
{
	pim_buf b = PIM_BUF_INIT;
	recorder r;

	assert_int_equal(pim_buf_adds(&b, prefix), 0);
	for (int i = 0; i < depth; i++)
		assert_int_equal(pim_buf_adds(&b, open), 0);
	for (int i = 0; close && i < depth; i++)
		assert_int_equal(pim_buf_adds(&b, close), 0);
	assert_int_equal(pim_buf_addc(&b, '\n'), 0);
	load_bad(&r, b.data);
	assert_non_null(find_diag(&r, "yaml"));
	pim_buf_free(&b);
}

static void test_deep_nesting_unclosed_fails_cleanly(void **state)
{
	(void)state;
	expect_deep_fails("", "[", NULL, 200);
}

static void test_deep_nesting_closed_fails_cleanly(void **state)
{
	(void)state;
	expect_deep_fails("pim: 1\nattributes:\n  sku: ", "[", "]", 200);
}

static void test_deep_nesting_maps_fails_cleanly(void **state)
{
	(void)state;
	expect_deep_fails("pim: 1\nx: ", "{a: ", "}", 200);
}

static void test_very_deep_nesting_fails_cleanly(void **state)
{
	(void)state;
	expect_deep_fails("", "[", NULL, 100000);
}

static void test_empty_file(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "");
	EXPECT_DIAG(&r, "missing", 1, 1);
	assert_int_equal(r.errors, 1);
}

static void test_comment_only_file(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "# nothing here\n\n");
	assert_non_null(find_diag(&r, "missing"));
	assert_int_equal(r.errors, 1);
}

static void test_missing_pim_version(void **state)
{
	recorder r;
	const rec_diag *d;

	(void)state;
	load_bad(&r, "name: x\n"
		     "attributes:\n"
		     "  sku: identifier\n");
	d = EXPECT_DIAG(&r, "missing", 1, 1);
	expect_msg(d, "pim: 1");
	assert_int_equal(r.errors, 1);
}

static void test_wrong_pim_version(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "pim: 2\n"
		     "attributes:\n"
		     "  sku: identifier\n");
	EXPECT_DIAG(&r, "bad-version", 1, 6);
	assert_int_equal(r.errors, 1);
}

static void test_root_not_a_map(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "- pim\n- 1\n");
	EXPECT_DIAG(&r, "bad-value", 1, 1);
}

static void test_min_greater_than_max(void **state)
{
	recorder r;
	const rec_diag *d;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "  qty:\n"
		     "    type: integer\n"
		     "    min: 10\n"
		     "    max: 5\n");
	d = EXPECT_DIAG(&r, "bad-value", 7, 10);
	expect_msg(d, "less than min");
	assert_int_equal(r.errors, 1);
}

static void test_min_length_greater_than_max_length(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "  name: { type: text, min_length: 9, max_length: 3 }\n");
	EXPECT_DIAG(&r, "bad-value", 4, 50);
	assert_int_equal(r.errors, 1);
}

static void test_integer_bound_not_whole(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "  qty: { type: integer, min: 1.5 }\n");
	EXPECT_DIAG(&r, "bad-value", 4, 30);
	assert_int_equal(r.errors, 1);
}

static void test_nan_bound_refused(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "  ratio: { type: number, min: nan }\n");
	EXPECT_DIAG(&r, "bad-value", 4, 31);
	assert_int_equal(r.errors, 1);
}

static void test_price_without_currency(void **state)
{
	recorder r;
	const rec_diag *d;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "  cost: { type: price, min: 0 }\n");
	d = EXPECT_DIAG(&r, "missing", 4, 3);
	expect_msg(d, "currency");
	assert_int_equal(r.errors, 1);
}

static void test_price_takes_first_schema_currency(void **state)
{
	pim_schema *s = NULL;
	recorder r;
	long i;

	(void)state;
	assert_int_equal(load(&s, &r,
			      "pim: 1\n"
			      "currencies: [SEK, NOK]\n"
			      "attributes:\n"
			      "  sku: identifier\n"
			      "  cost: price\n"),
			 0);
	i = pim_schema_attribute_find(s, "cost");
	assert_true(i >= 0);
	assert_string_equal(s->attrs[i].currency, "SEK");
	pim_schema_free(s);
}

static void test_price_currency_not_in_list(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "currencies: [NOK]\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "  cost: { type: price, currency: USD }\n");
	EXPECT_DIAG(&r, "unknown-currency", 5, 34);
	assert_int_equal(r.errors, 1);
}

static void test_two_identifiers(void **state)
{
	recorder r;
	const rec_diag *d;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "  name: text\n"
		     "  ean: { type: identifier }\n");
	d = EXPECT_DIAG(&r, "duplicate", 5, 3);
	expect_msg(d, "'sku'");
	assert_int_equal(r.errors, 1);
}

static void test_no_identifier(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  name: text\n");
	EXPECT_DIAG(&r, "missing", 3, 3);
	assert_int_equal(r.errors, 1);
}

static void test_empty_attributes_needs_identifier(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes: {}\n");
	assert_non_null(find_diag(&r, "missing"));
}

static void test_role_labels_unknown_locale(void **state)
{
	recorder r;
	const rec_diag *d;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "locales: [en_US]\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "roles:\n"
		     "  sales:\n"
		     "    attributes: [sku]\n"
		     "    labels:\n"
		     "      en_US: { sku: SKU }\n"
		     "      nb_NO: { sku: Varenr }\n");
	d = EXPECT_DIAG(&r, "unknown-locale", 10, 7);
	expect_msg(d, "nb_NO");
	assert_int_equal(r.errors, 1);
}

static void test_attribute_labels_unknown_locale(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "locales: [en_US]\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "  name:\n"
		     "    type: text\n"
		     "    labels: { en_US: Name, sv_SE: Namn }\n");
	EXPECT_DIAG(&r, "unknown-locale", 7, 28);
	assert_int_equal(r.errors, 1);
}

static void test_duplicate_top_level_key(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "name: a\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "name: b\n");
	EXPECT_DIAG(&r, "duplicate", 5, 1);
	assert_int_equal(r.errors, 1);
}

static void test_role_non_scalar_key_reported(void **state)
{
	recorder r;

	(void)state;
	/* a complex key must be reported, not dereferenced as text */
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "roles:\n"
		     "  sales:\n"
		     "    attributes: [sku]\n"
		     "    ? [x]\n"
		     "    : y\n");
	assert_true(r.errors >= 1);
}

static void test_role_labels_non_scalar_key_reported(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "roles:\n"
		     "  sales:\n"
		     "    attributes: [sku]\n"
		     "    labels:\n"
		     "      en_US: { ? [x] : y }\n");
	assert_true(r.errors >= 1);
}

static void test_family_non_scalar_key_reported(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "families:\n"
		     "  chairs:\n"
		     "    ? [x]\n"
		     "    : y\n");
	assert_true(r.errors >= 1);
}

static void test_check_non_scalar_key_reported(void **state)
{
	recorder r;

	(void)state;
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "  n: integer\n"
		     "checks:\n"
		     "  - check: n > 0\n"
		     "    ? [x]\n"
		     "    : y\n");
	assert_true(r.errors >= 1);
}

static void test_check_on_attribute_of_unknown_type(void **state)
{
	recorder r;

	(void)state;
	/* the check names an attribute whose type was refused; the
	 * message must not print a type name read past the table */
	load_bad(&r, "pim: 1\n"
		     "attributes:\n"
		     "  sku: identifier\n"
		     "  n: integr\n"
		     "checks:\n"
		     "  - n > 0\n");
	EXPECT_DIAG(&r, "unknown-type", 4, 6);
	for (size_t i = 0; i < r.n; i++)
		if (strcmp(r.d[i].code, "bad-check") == 0) {
			dump(&r);
			fail_msg("bad-check reported for an attribute whose "
				 "type is already an error: %s",
				 r.d[i].msg);
		}
}

static void test_diag_stop_ends_loading(void **state)
{
	pim_schema *s = (pim_schema *)1;
	recorder r;
	const char *text = "pim: 1\n"
			   "attributes:\n"
			   "  sku: identifier\n"
			   "  a: integr\n"
			   "  b: integr\n"
			   "  c: integr\n";

	(void)state;
	memset(&r, 0, sizeof r);
	r.stop = 1;
	assert_int_equal(pim_schema_load_buffer(&s, "t", text, strlen(text),
						record, &r),
			 PIM_EPARSE);
	assert_null(s);
	/* pim.h: a non-zero return stops the operation early */
	assert_int_equal(r.calls, 1);
}

static void test_null_diag_callback(void **state)
{
	pim_schema *s = (pim_schema *)1;
	const char *bad = "pim: 1\nattributes:\n  sku: nope\n";

	(void)state;
	assert_int_equal(pim_schema_load_buffer(&s, NULL, bad, strlen(bad),
						NULL, NULL),
			 PIM_EPARSE);
	assert_null(s);
	assert_int_equal(pim_schema_load_buffer(&s, NULL, minimal,
						strlen(minimal), NULL, NULL),
			 0);
	assert_non_null(s);
	pim_schema_free(s);
}

static void test_diag_carries_file_name(void **state)
{
	const char *bad = "pim: 1\nattributes:\n  sku: identifier\n"
			  "  x: nope\n";
	pim_schema *s = NULL;
	recorder r;

	(void)state;
	memset(&r, 0, sizeof r);
	assert_int_equal(pim_schema_load_buffer(&s, "my.yaml", bad,
						strlen(bad), record, &r),
			 PIM_EPARSE);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.d[0].file, "my.yaml");
	assert_int_equal(r.d[0].sev, PIM_SEV_ERROR);
}

/* ---- accessors ------------------------------------------------------- */

static void test_accessors(void **state)
{
	recorder r;
	pim_schema *s;

	(void)state;
	s = load_path_buffer("examples/schema.yaml", &r);
	assert_int_equal(pim_schema_attribute_count(s), 21);
	assert_string_equal(pim_schema_attribute_code(s, 0), "sku");
	assert_string_equal(pim_schema_attribute_code(s, 20), "availability");
	assert_null(pim_schema_attribute_code(s, 21));
	assert_int_equal(pim_schema_attribute_type(s, 1), PIM_TYPE_GTIN);
	assert_int_equal(pim_schema_attribute_type(s, 6), PIM_TYPE_PRICE);
	assert_int_equal(pim_schema_attribute_type(s, 8), PIM_TYPE_MEASURE);
	assert_int_equal(pim_schema_attribute_type(s, 21), PIM_TYPE__COUNT);
	assert_int_equal(pim_schema_attribute_find(s, "weight"), 8);
	assert_int_equal(pim_schema_attribute_find(s, "sku"), 0);
	assert_int_equal(pim_schema_attribute_find(s, "nope"), -1);
	assert_int_equal(pim_schema_attribute_find(s, "SKU"), -1);
	assert_int_equal(pim_schema_role_count(s), 3);
	assert_string_equal(pim_schema_role_name(s, 0), "purchasing");
	assert_string_equal(pim_schema_role_name(s, 1), "sales");
	assert_string_equal(pim_schema_role_name(s, 2), "warehouse");
	assert_null(pim_schema_role_name(s, 3));
	pim_schema_free(s);
}

static void test_example_role_model(void **state)
{
	recorder r;
	pim_schema *s;
	const pim_role *role;

	(void)state;
	s = load_path_buffer("examples/schema.yaml", &r);
	role = pim_schema_role(s, "warehouse");
	assert_non_null(role);
	assert_int_equal(role->n_attrs, 10);
	assert_int_equal(role->n_required, 6);
	assert_int_equal(role->n_edit, 8);
	/* labels[1] belongs to gtin, the second attribute of the view */
	assert_int_equal(role->attrs[1], pim_schema_attribute_find(s, "gtin"));
	assert_int_equal(role->n_labels[1], 2);
	assert_string_equal(role->labels[1][0].locale, "nb_NO");
	assert_string_equal(role->labels[1][0].text, "EAN");
	assert_null(pim_schema_role(s, "nobody"));
	pim_schema_free(s);
}

static void test_example_check_model(void **state)
{
	recorder r;
	pim_schema *s;

	(void)state;
	s = load_path_buffer("examples/schema.yaml", &r);
	assert_int_equal(s->n_checks, 1);
	assert_int_equal(s->checks[0].left,
			 pim_schema_attribute_find(s, "list_price"));
	assert_int_equal(s->checks[0].op, CMP_GE);
	assert_true(s->checks[0].right_is_attr);
	assert_int_equal(s->checks[0].right,
			 pim_schema_attribute_find(s, "cost_price"));
	assert_string_equal(s->checks[0].message,
			    "the list price is below the cost price");
	pim_schema_free(s);
}

static void test_identifier_is_key_and_required(void **state)
{
	pim_schema *s = NULL;
	recorder r;

	(void)state;
	assert_int_equal(load(&s, &r, with_name), 0);
	assert_int_equal(s->key, 0);
	assert_true(s->attrs[0].required);
	assert_false(s->attrs[1].required);
	pim_schema_free(s);
}

static void test_free_null_is_safe(void **state)
{
	(void)state;
	pim_schema_free(NULL);
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(pim_type_name(PIM_TYPE_IDENTIFIER), "identifier");
	assert_string_equal(pim_type_name(PIM_TYPE_GTIN), "gtin");
	assert_string_equal(pim_type_name(PIM_TYPE_CATEGORY), "category");
	assert_null(pim_type_name(PIM_TYPE__COUNT));
	assert_null(pim_type_name((pim_type)-1));
}

static void test_date_ymd(void **state)
{
	(void)state;
	assert_int_equal(pim_date_ymd("2026-11-23", 10), 20261123);
	assert_int_equal(pim_date_ymd("2024-02-29", 10), 20240229);
	assert_int_equal(pim_date_ymd("2023-02-29", 10), -1);
	assert_int_equal(pim_date_ymd("2000-02-29", 10), 20000229);
	assert_int_equal(pim_date_ymd("1900-02-29", 10), -1);
	assert_int_equal(pim_date_ymd("2026-13-01", 10), -1);
	assert_int_equal(pim_date_ymd("2026-04-31", 10), -1);
	assert_int_equal(pim_date_ymd("2026-4-1", 8), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_schema_loads),
		cmocka_unit_test(test_example_schema_loads_without_diagnostics),
		cmocka_unit_test(test_default_schema_loads_without_diagnostics),
		cmocka_unit_test(test_load_file_reads_example),
		cmocka_unit_test(test_load_file_missing_is_eio),
		cmocka_unit_test(test_source_is_kept_verbatim),
		cmocka_unit_test(test_yaml_syntax_error),
		cmocka_unit_test(test_unknown_top_level_key_hints),
		cmocka_unit_test(test_unknown_top_level_key_without_hint),
		cmocka_unit_test(test_unknown_attribute_key_hints),
		cmocka_unit_test(test_unknown_type_hints),
		cmocka_unit_test(test_unknown_type_shorthand),
		cmocka_unit_test(test_constraint_not_for_type),
		cmocka_unit_test(test_select_without_options),
		cmocka_unit_test(test_select_shorthand_without_options),
		cmocka_unit_test(test_multiselect_empty_options),
		cmocka_unit_test(test_duplicate_option),
		cmocka_unit_test(test_bad_pattern),
		cmocka_unit_test(test_unit_not_in_dimension),
		cmocka_unit_test(test_unknown_unit),
		cmocka_unit_test(test_unit_symbol_hints_code),
		cmocka_unit_test(test_unknown_unit_in_units_list),
		cmocka_unit_test(test_measure_without_unit),
		cmocka_unit_test(test_role_unknown_attribute),
		cmocka_unit_test(test_role_edit_unknown_attribute),
		cmocka_unit_test(test_family_unknown_attribute),
		cmocka_unit_test(test_check_unknown_attribute_left),
		cmocka_unit_test(test_check_unknown_attribute_right),
		cmocka_unit_test(test_duplicate_attribute_code),
		cmocka_unit_test(test_code_with_capital_is_bad),
		cmocka_unit_test(test_code_starting_with_digit_is_bad),
		cmocka_unit_test(test_code_with_quote_is_bad),
		cmocka_unit_test(test_code_with_hyphen_is_bad),
		cmocka_unit_test(test_code_of_64_chars_is_accepted),
		cmocka_unit_test(test_code_of_65_chars_is_bad),
		cmocka_unit_test(test_several_errors_all_reported),
		cmocka_unit_test(test_second_yaml_document_refused),
		cmocka_unit_test(test_yaml_alias_refused),
		cmocka_unit_test(test_alias_bomb_refused),
		cmocka_unit_test(test_deep_nesting_unclosed_fails_cleanly),
		cmocka_unit_test(test_deep_nesting_closed_fails_cleanly),
		cmocka_unit_test(test_deep_nesting_maps_fails_cleanly),
		cmocka_unit_test(test_very_deep_nesting_fails_cleanly),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_comment_only_file),
		cmocka_unit_test(test_missing_pim_version),
		cmocka_unit_test(test_wrong_pim_version),
		cmocka_unit_test(test_root_not_a_map),
		cmocka_unit_test(test_min_greater_than_max),
		cmocka_unit_test(test_min_length_greater_than_max_length),
		cmocka_unit_test(test_integer_bound_not_whole),
		cmocka_unit_test(test_nan_bound_refused),
		cmocka_unit_test(test_price_without_currency),
		cmocka_unit_test(test_price_takes_first_schema_currency),
		cmocka_unit_test(test_price_currency_not_in_list),
		cmocka_unit_test(test_two_identifiers),
		cmocka_unit_test(test_no_identifier),
		cmocka_unit_test(test_empty_attributes_needs_identifier),
		cmocka_unit_test(test_role_labels_unknown_locale),
		cmocka_unit_test(test_attribute_labels_unknown_locale),
		cmocka_unit_test(test_duplicate_top_level_key),
		cmocka_unit_test(test_role_non_scalar_key_reported),
		cmocka_unit_test(test_role_labels_non_scalar_key_reported),
		cmocka_unit_test(test_family_non_scalar_key_reported),
		cmocka_unit_test(test_check_non_scalar_key_reported),
		cmocka_unit_test(test_check_on_attribute_of_unknown_type),
		cmocka_unit_test(test_diag_stop_ends_loading),
		cmocka_unit_test(test_null_diag_callback),
		cmocka_unit_test(test_diag_carries_file_name),
		cmocka_unit_test(test_accessors),
		cmocka_unit_test(test_example_role_model),
		cmocka_unit_test(test_example_check_model),
		cmocka_unit_test(test_identifier_is_key_and_required),
		cmocka_unit_test(test_free_null_is_safe),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_date_ymd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
