/*
 * test_validate.c - unit tests of pim_validate: the structural diagnostics
 * (field count, header problems, missing key, blank rows, empty files),
 * unique values and duplicate keys within and across files, cross-field
 * checks and stopping at max_errors, over CSV files written at test time.
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

#include "pim.h"

/* ---- the temporary directory and the schema -------------------------- */

static char tmpdir[512];

static const char schema_text[] =
	"pim: 1\n"
	"name: validate-test\n"
	"attributes:\n"
	"  sku:   { type: identifier }\n"
	"  name:  { type: text, required: true }\n"
	"  gtin:  { type: gtin, unique: true }\n"
	"  cost:  { type: number, min: 0 }\n"
	"  list:  { type: number, min: 0 }\n"
	"  notes: { type: textarea }\n"
	"checks:\n"
	"  - check: list >= cost\n"
	"    message: the list price is below the cost\n";

static int setup(void **state)
{
	const char *base = getenv("TMPDIR");
	pim_schema *s = NULL;

	snprintf(tmpdir, sizeof tmpdir, "%s/pim-test-validate-XXXXXX",
		 base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	if (pim_schema_load_buffer(&s, "schema.yaml", schema_text,
				   strlen(schema_text), NULL, NULL))
		return -1;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[1024];

	pim_schema_free(*state);
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

/* Writes `text` to `name` in the temporary directory. The path is in one
 * of a few static buffers, so that two files can be named at once. */
static const char *write_file(const char *name, const char *text)
{
	static char paths[4][1024];
	static int next;
	char *path = paths[next++ % 4];
	FILE *f;
	size_t len = strlen(text);

	snprintf(path, sizeof paths[0], "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	if (len)
		assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* ---- recording diagnostics ------------------------------------------ */

#define MAX_DIAGS 64

typedef struct rec_diag {
	unsigned long line, col;
	char file[1024];
	char code[40];
	char column[64];
	char attribute[64];
	char value[256];
	char msg[512];
	pim_severity sev;
} rec_diag;

typedef struct recorder {
	rec_diag d[MAX_DIAGS];
	size_t n;
	size_t calls, errors;
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
		snprintf(x->file, sizeof x->file, "%s", d->file ? d->file : "");
		snprintf(x->code, sizeof x->code, "%s", d->code ? d->code : "");
		snprintf(x->column, sizeof x->column, "%s",
			 d->column ? d->column : "");
		snprintf(x->attribute, sizeof x->attribute, "%s",
			 d->attribute ? d->attribute : "");
		snprintf(x->value, sizeof x->value, "%s",
			 d->value ? d->value : "");
		snprintf(x->msg, sizeof x->msg, "%s",
			 d->message ? d->message : "");
	}
	return 0;
}

static void dump(const recorder *r)
{
	for (size_t i = 0; i < r->n; i++)
		print_message("  diag %zu: %s:%lu:%lu [%s] %s %s: %s\n", i,
			      r->d[i].file, r->d[i].line, r->d[i].col,
			      r->d[i].column,
			      r->d[i].sev == PIM_SEV_ERROR ? "error" : "warning",
			      r->d[i].code, r->d[i].msg);
}

static const rec_diag *expect_at(const char *file, int fline,
				 const recorder *r, const char *code,
				 unsigned long line, unsigned long col,
				 pim_severity sev)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->d[i].code, code) == 0 && r->d[i].line == line &&
		    r->d[i].col == col && r->d[i].sev == sev)
			return &r->d[i];
	dump(r);
	fail_msg("%s:%d: no '%s' %s at %lu:%lu", file, fline, code,
		 sev == PIM_SEV_ERROR ? "error" : "warning", line, col);
	return NULL;
}

#define EXPECT_ERROR(r, code, line, col)                                 \
	expect_at(__FILE__, __LINE__, (r), (code), (line), (col),          \
		  PIM_SEV_ERROR)
#define EXPECT_WARNING(r, code, line, col)                               \
	expect_at(__FILE__, __LINE__, (r), (code), (line), (col),          \
		  PIM_SEV_WARNING)

static size_t count_code(const recorder *r, const char *code)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->d[i].code, code))
			n++;
	return n;
}

static void expect_msg(const rec_diag *d, const char *needle)
{
	if (!strstr(d->msg, needle))
		fail_msg("message '%s' lacks '%s'", d->msg, needle);
}

/* Validates the given files with `o` (NULL: defaults). */
static int run(void **state, pim_validate_stats *st, recorder *r,
	       const pim_validate_options *o, const char *const *paths,
	       size_t n)
{
	pim_validate_options def = PIM_VALIDATE_OPTIONS_INIT;

	memset(r, 0, sizeof *r);
	return pim_validate(st, *state, paths, n, o ? o : &def, record, r);
}

/* Validates one file holding `text`. */
static int run_text(void **state, pim_validate_stats *st, recorder *r,
		    const char *name, const char *text)
{
	const char *path = write_file(name, text);
	return run(state, st, r, NULL, &path, 1);
}

static pim_mapping *load_mapping(void **state, const char *text)
{
	pim_mapping *m = NULL;
	recorder r;

	memset(&r, 0, sizeof r);
	if (pim_mapping_load_buffer(&m, "map.yaml", text, strlen(text), *state,
				    record, &r)) {
		dump(&r);
		fail_msg("the test mapping does not load");
	}
	return m;
}

/* Valid GTIN-13s. */
#define GTIN_A "4006381333931"
#define GTIN_B "5901234123457"
#define GTIN_C "9780306406157"

/* ---- a clean file ----------------------------------------------------- */

static void test_valid_file(void **state)
{
	pim_validate_stats st;
	recorder r;

	assert_int_equal(run_text(state, &st, &r, "valid.csv",
				  "sku,name,gtin,cost,list\n"
				  "A1,Chair," GTIN_A ",10,15\n"
				  "A2,Table," GTIN_B ",20,20\n"
				  "A3,Desk,,5,\n"),
			 0);
	if (r.n)
		dump(&r);
	assert_int_equal(r.calls, 0);
	assert_int_equal(st.files, 1);
	assert_int_equal(st.rows, 3);
	assert_int_equal(st.invalid_rows, 0);
	assert_int_equal(st.errors, 0);
	assert_int_equal(st.warnings, 0);
	assert_false(st.stopped);
	assert_int_equal(st.delimiter, ',');
	assert_int_equal(st.decimal, '.');
	assert_string_equal(st.encoding, "utf-8");
}

static void test_dialect_in_stats(void **state)
{
	pim_validate_stats st;
	recorder r;

	assert_int_equal(run_text(state, &st, &r, "semi.csv",
				  "sku;name;cost;list\n"
				  "A1;Chair;10,50;12,75\n"
				  "A2;Table;3,25;4,5\n"),
			 0);
	assert_int_equal(r.calls, 0);
	assert_int_equal(st.delimiter, ';');
	assert_int_equal(st.decimal, ',');
}

/* ---- structural diagnostics ------------------------------------------- */

static void test_field_count(void **state)
{
	pim_validate_stats st;
	recorder r;
	const rec_diag *d;

	assert_int_equal(run_text(state, &st, &r, "fieldcount.csv",
				  "sku,name,cost\n"
				  "A1,Chair,1\n"
				  "A2,Table\n"
				  "A3,Desk,2,extra\n"
				  "A4,Bed,3\n"),
			 PIM_EDATA);
	/* too few: the last field there is; too many: the first extra */
	d = EXPECT_ERROR(&r, "field-count", 3, 2);
	expect_msg(d, "2 fields, the header has 3");
	d = EXPECT_ERROR(&r, "field-count", 4, 4);
	expect_msg(d, "4 fields, the header has 3");
	assert_int_equal(r.n, 2);
	assert_int_equal(st.rows, 4);
	assert_int_equal(st.invalid_rows, 2);
	assert_int_equal(st.errors, 2);
}

/* Without a mapping, a first row with an empty field is taken for data
 * (pim-validate(1), Header); the header is then given as an option. */
static void test_empty_header(void **state)
{
	pim_validate_options o = PIM_VALIDATE_OPTIONS_INIT;
	pim_validate_stats st;
	recorder r;
	const char *path = write_file("emptyheader.csv",
				      "sku,,name\nA1,x,Chair\n");

	o.header = 1;
	assert_int_equal(run(state, &st, &r, &o, &path, 1), PIM_EDATA);
	EXPECT_ERROR(&r, "empty-header", 1, 2);
	assert_int_equal(r.n, 1);
	assert_int_equal(st.rows, 1);
}

static void test_empty_header_with_mapping(void **state)
{
	pim_mapping *m = load_mapping(state, "pim: 1\n"
					     "key: SKU\n"
					     "columns:\n"
					     "  SKU: sku\n"
					     "  Navn: name\n");
	pim_validate_options o = PIM_VALIDATE_OPTIONS_INIT;
	pim_validate_stats st;
	recorder r;
	const char *path = write_file("emptyheader-map.csv",
				      "SKU,Navn,\nA1,Chair,x\n");

	o.mapping = m;
	assert_int_equal(run(state, &st, &r, &o, &path, 1), PIM_EDATA);
	EXPECT_ERROR(&r, "empty-header", 1, 3);
	assert_int_equal(r.n, 1);
	pim_mapping_free(m);
}

static void test_first_row_with_empty_field_is_data(void **state)
{
	pim_validate_stats st;
	recorder r;

	assert_int_equal(run_text(state, &st, &r, "emptyheader-auto.csv",
				  "sku,,name\nA1,x,Chair\n"),
			 PIM_EDATA);
	assert_int_equal(count_code(&r, "empty-header"), 0);
	EXPECT_ERROR(&r, "missing-key", 1, 0);
}

static void test_duplicate_header(void **state)
{
	pim_validate_stats st;
	recorder r;
	const rec_diag *d;

	assert_int_equal(run_text(state, &st, &r, "dupheader.csv",
				  "sku,name,cost,name\n"
				  "A1,Chair,1,Chair\n"),
			 PIM_EDATA);
	d = EXPECT_ERROR(&r, "duplicate-header", 1, 4);
	expect_msg(d, "'name'");
	expect_msg(d, "also column 2");
}

static void test_unknown_column_warns(void **state)
{
	pim_validate_stats st;
	recorder r;
	const rec_diag *d;

	assert_int_equal(run_text(state, &st, &r, "unknowncol.csv",
				  "sku,name,colour\n"
				  "A1,Chair,red\n"),
			 0);
	d = EXPECT_WARNING(&r, "unknown-column", 1, 3);
	expect_msg(d, "'colour'");
	/* the diagnostic is about one field: its header name is given */
	assert_string_equal(d->column, "colour");
	assert_int_equal(r.n, 1);
	assert_int_equal(st.warnings, 1);
	assert_int_equal(st.errors, 0);
}

static void test_unknown_column_error_by_mapping(void **state)
{
	pim_mapping *m = load_mapping(state, "pim: 1\n"
					     "key: SKU\n"
					     "unknown_columns: error\n"
					     "columns:\n"
					     "  SKU: sku\n"
					     "  Navn: name\n");
	pim_validate_options o = PIM_VALIDATE_OPTIONS_INIT;
	pim_validate_stats st;
	recorder r;
	const char *path = write_file("unknowncol-map.csv",
				      "SKU,Navn,Farge\nA1,Chair,red\n");

	o.mapping = m;
	assert_int_equal(run(state, &st, &r, &o, &path, 1), PIM_EDATA);
	EXPECT_ERROR(&r, "unknown-column", 1, 3);
	pim_mapping_free(m);
}

static void test_missing_column_of_mapping(void **state)
{
	pim_mapping *m = load_mapping(state, "pim: 1\n"
					     "key: SKU\n"
					     "columns:\n"
					     "  SKU: sku\n"
					     "  Navn: name\n"
					     "  EAN: gtin\n");
	pim_validate_options o = PIM_VALIDATE_OPTIONS_INIT;
	pim_validate_stats st;
	recorder r;
	const rec_diag *d;
	const char *path = write_file("missingcol.csv",
				      "SKU,Navn\nA1,Chair\n");

	o.mapping = m;
	assert_int_equal(run(state, &st, &r, &o, &path, 1), 0);
	d = EXPECT_WARNING(&r, "missing-column", 1, 0);
	expect_msg(d, "'EAN'");
	assert_int_equal(r.n, 1);
	assert_int_equal(st.rows, 1);
	pim_mapping_free(m);
}

static void test_missing_key_column_of_mapping(void **state)
{
	pim_mapping *m = load_mapping(state, "pim: 1\n"
					     "key: SKU\n"
					     "columns:\n"
					     "  SKU: sku\n"
					     "  Navn: name\n");
	pim_validate_options o = PIM_VALIDATE_OPTIONS_INIT;
	pim_validate_stats st;
	recorder r;
	const char *path = write_file("missingkeycol.csv",
				      "Varenr,Navn\nA1,Chair\n");

	o.mapping = m;
	assert_int_equal(run(state, &st, &r, &o, &path, 1), PIM_EDATA);
	expect_msg(EXPECT_ERROR(&r, "missing-column", 1, 0), "'SKU'");
	EXPECT_ERROR(&r, "missing-key", 1, 0);
	assert_int_equal(st.rows, 0);
	pim_mapping_free(m);
}

static void test_missing_key(void **state)
{
	pim_validate_stats st;
	recorder r;
	const rec_diag *d;

	assert_int_equal(run_text(state, &st, &r, "missingkey.csv",
				  "name,gtin\n"
				  "Chair," GTIN_A "\n"
				  "Table," GTIN_B "\n"),
			 PIM_EDATA);
	d = EXPECT_ERROR(&r, "missing-key", 1, 0);
	expect_msg(d, "'sku'");
	assert_int_equal(r.n, 1);
	/* rows that cannot be matched are not read */
	assert_int_equal(st.rows, 0);
}

static void test_blank_row_and_blank_line(void **state)
{
	pim_validate_stats st;
	recorder r;

	assert_int_equal(run_text(state, &st, &r, "blank.csv",
				  "sku,name,notes\n"
				  "A1,Chair,\n"
				  ",,\n"
				  "A2,Table,\n"
				  "\n"
				  "A3,Desk,\"notes on\ntwo lines\"\n"
				  " , ,\n"
				  "A4,Bed,\n"),
			 0);
	EXPECT_WARNING(&r, "blank-row", 3, 0);
	EXPECT_WARNING(&r, "blank-line", 5, 0);
	EXPECT_WARNING(&r, "blank-row", 8, 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(st.rows, 4);
	assert_int_equal(st.warnings, 3);
}

static void test_lines_after_blank_line(void **state)
{
	pim_validate_stats st;
	recorder r;
	const rec_diag *d;

	assert_int_equal(run_text(state, &st, &r, "blank-then-error.csv",
				  "sku,name,gtin\n"
				  "\n"
				  "\n"
				  "A1,Chair,123\n"),
			 PIM_EDATA);
	d = EXPECT_ERROR(&r, "gtin-length", 4, 3);
	assert_string_equal(d->column, "gtin");
}

static void test_empty_file(void **state)
{
	pim_validate_stats st;
	recorder r;

	assert_int_equal(run_text(state, &st, &r, "empty.csv", ""), PIM_EDATA);
	EXPECT_ERROR(&r, "empty-file", 1, 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(st.rows, 0);
	assert_int_equal(st.errors, 1);
}

static void test_header_only_file(void **state)
{
	pim_validate_stats st;
	recorder r;

	assert_int_equal(run_text(state, &st, &r, "headeronly.csv",
				  "sku,name,gtin\n"),
			 0);
	EXPECT_WARNING(&r, "no-rows", 1, 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(st.files, 1);
	assert_int_equal(st.rows, 0);
	assert_int_equal(st.errors, 0);
	assert_int_equal(st.warnings, 1);
}

static void test_unreadable_file_is_eio(void **state)
{
	pim_validate_stats st;
	recorder r;
	char path[1024];
	const char *p = path;

	snprintf(path, sizeof path, "%s/no-such.csv", tmpdir);
	assert_int_equal(run(state, &st, &r, NULL, &p, 1), PIM_EIO);
	assert_int_equal(count_code(&r, "io"), 1);
	assert_int_equal(st.files, 0);
}

static void test_encoding_problem_reported(void **state)
{
	pim_validate_stats st;
	recorder r;

	assert_int_equal(run_text(state, &st, &r, "badenc.csv",
				  "sku,name\nA1,Chair\nA2,x\x81y\x8D\n"),
			 PIM_EDATA);
	EXPECT_ERROR(&r, "encoding", 3, 0);
	assert_int_equal(r.n, 1);
}

/* ---- values, unique values and duplicate keys ------------------------- */

static void test_value_error_names_column(void **state)
{
	pim_validate_stats st;
	recorder r;
	const rec_diag *d;

	assert_int_equal(run_text(state, &st, &r, "badvalue.csv",
				  "sku,gtin,name\n"
				  "A1," GTIN_A ",Chair\n"
				  "A2,4006381333932,Table\n"),
			 PIM_EDATA);
	d = EXPECT_ERROR(&r, "gtin-check-digit", 3, 2);
	assert_string_equal(d->column, "gtin");
	assert_string_equal(d->attribute, "gtin");
	assert_string_equal(d->value, "4006381333932");
	assert_int_equal(st.invalid_rows, 1);
}

static void test_required_value(void **state)
{
	pim_validate_stats st;
	recorder r;
	const rec_diag *d;

	assert_int_equal(run_text(state, &st, &r, "required.csv",
				  "sku,name\nA1,Chair\nA2,\n"),
			 PIM_EDATA);
	d = EXPECT_ERROR(&r, "required", 3, 2);
	assert_string_equal(d->column, "name");
}

static void test_duplicate_key(void **state)
{
	pim_validate_stats st;
	recorder r;
	const rec_diag *d;

	assert_int_equal(run_text(state, &st, &r, "dupkey.csv",
				  "name,sku\n"
				  "Chair,A1\n"
				  "Table,A2\n"
				  "Desk,A1\n"
				  "Bed,A3\n"),
			 PIM_EDATA);
	d = EXPECT_ERROR(&r, "duplicate-key", 4, 2);
	expect_msg(d, "line 2");
	assert_string_equal(d->attribute, "sku");
	assert_int_equal(count_code(&r, "duplicate-key"), 1);
	assert_int_equal(r.n, 1);
}

static void test_unique_value(void **state)
{
	pim_validate_stats st;
	recorder r;
	const rec_diag *d;

	assert_int_equal(run_text(state, &st, &r, "unique.csv",
				  "sku,name,gtin\n"
				  "A1,Chair," GTIN_A "\n"
				  "A2,Table," GTIN_B "\n"
				  "A3,Desk," GTIN_C "\n"
				  "A4,Bed," GTIN_B "\n"
				  "A5,Lamp,\n"
				  "A6,Sofa,\n"),
			 PIM_EDATA);
	d = EXPECT_ERROR(&r, "unique", 5, 3);
	expect_msg(d, "line 3");
	assert_string_equal(d->attribute, "gtin");
	/* empty values are not duplicates of each other */
	assert_int_equal(r.n, 1);
}

static void test_duplicates_across_files(void **state)
{
	pim_validate_stats st;
	recorder r;
	const rec_diag *d;
	const char *paths[2];
	char first[1024];

	paths[0] = write_file("first.csv", "sku,name,gtin\n"
					   "A1,Chair," GTIN_A "\n"
					   "A2,Table," GTIN_B "\n");
	snprintf(first, sizeof first, "%s", paths[0]);
	paths[1] = write_file("second.csv", "sku,name,gtin\n"
					    "B1,Desk," GTIN_C "\n"
					    "B2,Bed," GTIN_B "\n"
					    "A1,Chair again,\n");
	assert_int_equal(run(state, &st, &r, NULL, paths, 2), PIM_EDATA);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.rows, 5);
	d = EXPECT_ERROR(&r, "unique", 3, 3);
	assert_string_equal(d->file, paths[1]);
	expect_msg(d, first);
	expect_msg(d, "line 3");
	d = EXPECT_ERROR(&r, "duplicate-key", 4, 1);
	assert_string_equal(d->file, paths[1]);
	expect_msg(d, first);
	expect_msg(d, "line 2");
	assert_int_equal(r.n, 2);
}

/* ---- cross-field checks ------------------------------------------------ */

static void test_check_fails(void **state)
{
	pim_validate_stats st;
	recorder r;
	const rec_diag *d;

	assert_int_equal(run_text(state, &st, &r, "check.csv",
				  "sku,name,cost,list\n"
				  "A1,Chair,10,15\n"
				  "A2,Table,20,12.5\n"
				  "A3,Desk,7,\n"),
			 PIM_EDATA);
	d = EXPECT_ERROR(&r, "check", 3, 4);
	assert_string_equal(d->column, "list");
	assert_string_equal(d->attribute, "list");
	expect_msg(d, "the list price is below the cost");
	/* a check with a side missing is not evaluated */
	assert_int_equal(r.n, 1);
	assert_int_equal(st.invalid_rows, 1);
}

/* A check of an attribute against a number, where the value comes from a
 * mapping constant: no field of the row holds it. */
static void test_check_on_constant_value(void **state)
{
	static const char text[] = "pim: 1\n"
				   "attributes:\n"
				   "  sku: identifier\n"
				   "  qty: integer\n"
				   "checks:\n"
				   "  - qty <= 100\n";
	pim_schema *s = NULL;
	pim_mapping *m = NULL;
	pim_validate_options o = PIM_VALIDATE_OPTIONS_INIT;
	pim_validate_stats st;
	recorder r;
	const rec_diag *d;
	const char *path = write_file("check-constant.csv", "SKU\nA1\nA2\n");
	static const char map[] = "pim: 1\n"
				  "columns: { SKU: sku }\n"
				  "constants: { qty: 500 }\n";

	(void)state;
	assert_int_equal(pim_schema_load_buffer(&s, "s.yaml", text,
						strlen(text), NULL, NULL),
			 0);
	assert_int_equal(pim_mapping_load_buffer(&m, "m.yaml", map, strlen(map),
						 s, NULL, NULL),
			 0);
	o.mapping = m;
	memset(&r, 0, sizeof r);
	assert_int_equal(pim_validate(&st, s, &path, 1, &o, record, &r),
			 PIM_EDATA);
	d = EXPECT_ERROR(&r, "check", 2, 0);
	assert_string_equal(d->column, "");
	assert_string_equal(d->attribute, "qty");
	EXPECT_ERROR(&r, "check", 3, 0);
	assert_int_equal(r.n, 2);
	pim_mapping_free(m);
	pim_schema_free(s);
}

/* ---- header: false and mapped positions -------------------------------- */

static void test_columns_by_position(void **state)
{
	pim_mapping *m = load_mapping(state, "pim: 1\n"
					     "dialect: { header: false }\n"
					     "columns:\n"
					     "  \"#2\": sku\n"
					     "  \"#1\": name\n");
	pim_validate_options o = PIM_VALIDATE_OPTIONS_INIT;
	pim_validate_stats st;
	recorder r;
	const rec_diag *d;
	const char *path = write_file("positions.csv",
				      "Chair;A1\nTable;A2\nDesk;A1\n");

	o.mapping = m;
	assert_int_equal(run(state, &st, &r, &o, &path, 1), PIM_EDATA);
	assert_int_equal(st.rows, 3);
	d = EXPECT_ERROR(&r, "duplicate-key", 3, 2);
	expect_msg(d, "line 1");
	assert_int_equal(r.n, 1);
	pim_mapping_free(m);
}

/* ---- max_errors --------------------------------------------------------- */

static void test_max_errors_stops_early(void **state)
{
	pim_validate_options o = PIM_VALIDATE_OPTIONS_INIT;
	pim_validate_stats st;
	recorder r;
	const char *path = write_file("manyerrors.csv",
				      "sku,name\n"
				      "A1,\nA2,\nA3,\nA4,\nA5,\n"
				      "A6,\nA7,\nA8,\nA9,\nA10,\n");

	o.max_errors = 3;
	assert_int_equal(run(state, &st, &r, &o, &path, 1), PIM_EDATA);
	assert_true(st.stopped);
	assert_int_equal(r.errors, 3);
	assert_int_equal(st.errors, 3);
	EXPECT_ERROR(&r, "required", 2, 2);
	EXPECT_ERROR(&r, "required", 4, 2);
	assert_true(st.rows < 10);
}

static void test_max_errors_not_reached(void **state)
{
	pim_validate_options o = PIM_VALIDATE_OPTIONS_INIT;
	pim_validate_stats st;
	recorder r;
	const char *path = write_file("fewerrors.csv",
				      "sku,name\nA1,\nA2,x\nA3,\n");

	o.max_errors = 3;
	assert_int_equal(run(state, &st, &r, &o, &path, 1), PIM_EDATA);
	assert_false(st.stopped);
	assert_int_equal(st.errors, 2);
	assert_int_equal(st.rows, 3);
}

static void test_bad_options(void **state)
{
	pim_validate_options o = PIM_VALIDATE_OPTIONS_INIT;
	pim_validate_stats st;
	recorder r;
	const char *path = write_file("opts.csv", "sku\nA1\n");

	o.encoding = "ebcdic";
	assert_int_equal(run(state, &st, &r, &o, &path, 1), PIM_EINVALID);
	o.encoding = NULL;
	o.version = 99;
	assert_int_equal(run(state, &st, &r, &o, &path, 1), PIM_EINVALID);
}

/* ---- a big file read by two threads -------------------------------------- */

/*
 * Writes a file of about 9 MB, big enough to be read by two threads: rows
 * S0000001... with a two-line note every thousandth row, a bad cost on
 * row 3, then after the middle a bad cost (*bad_line) and the key of row 5
 * again (*dup_line). Returns the number of rows.
 */
static unsigned long write_big(char *path, size_t cap, unsigned long *bad_line,
			       unsigned long *dup_line)
{
	FILE *f;
	unsigned long i = 0;
	size_t total = 0;

	snprintf(path, cap, "%s/big.csv", tmpdir);
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs("sku,name,cost,list,notes\n", f);
	while (total < 9u * 1024 * 1024) {
		int n;
		i++;
		if (i == 3)
			n = fprintf(f, "S%07lu,Stool,x1,2,\n", i);
		else if (i % 1000 == 0)
			n = fprintf(f, "S%07lu,Shelf,1,2,\"note\n%lu\"\n", i,
				    i);
		else
			n = fprintf(f, "S%07lu,Chair %lu,%lu,%lu,\n", i, i,
				    i % 50, i % 50 + 5);
		assert_true(n > 0);
		total += (size_t)n;
	}
	/* the header, the rows, and one more line per thousand rows */
	*bad_line = 1 + i + i / 1000 + 1;
	*dup_line = *bad_line + 1;
	fprintf(f, "S9999998,Bad,abc,1,\n");
	fprintf(f, "S0000005,Again,1,2,\n");
	assert_int_equal(fclose(f), 0);
	return i + 2;
}

static void test_big_file_in_pieces(void **state)
{
	pim_validate_stats st;
	recorder r;
	char path[1024];
	const char *p = path;
	unsigned long bad_line, dup_line, rows;
	const rec_diag *d;

	rows = write_big(path, sizeof path, &bad_line, &dup_line);
	assert_int_equal(run(state, &st, &r, NULL, &p, 1), PIM_EDATA);
	assert_int_equal(st.rows, rows);
	assert_int_equal(st.invalid_rows, 3);
	if (r.n != 3)
		dump(&r);
	assert_int_equal(r.n, 3);
	/* in line order, duplicates last */
	d = EXPECT_ERROR(&r, "not-a-number", 4, 3);
	assert_ptr_equal(d, &r.d[0]);
	d = EXPECT_ERROR(&r, "not-a-number", bad_line, 3);
	assert_ptr_equal(d, &r.d[1]);
	assert_string_equal(d->column, "cost");
	d = EXPECT_ERROR(&r, "duplicate-key", dup_line, 1);
	assert_ptr_equal(d, &r.d[2]);
	expect_msg(d, "line 6");
	assert_int_equal(st.errors, 3);
}

static int stop_at_first(const pim_diag *d, void *ctx)
{
	record(d, ctx);
	return 1;
}

/* A callback that asks to stop is not called again, even when the
 * second half of the file was read by another thread. */
static void test_big_file_stop_from_callback(void **state)
{
	pim_validate_options o = PIM_VALIDATE_OPTIONS_INIT;
	pim_validate_stats st;
	recorder r;
	char path[1024];
	const char *p = path;
	unsigned long bad_line, dup_line;

	write_big(path, sizeof path, &bad_line, &dup_line);
	memset(&r, 0, sizeof r);
	assert_int_equal(pim_validate(&st, *state, &p, 1, &o, stop_at_first,
				      &r),
			 PIM_EDATA);
	if (r.calls != 1)
		dump(&r);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.d[0].line, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_file),
		cmocka_unit_test(test_dialect_in_stats),
		cmocka_unit_test(test_field_count),
		cmocka_unit_test(test_empty_header),
		cmocka_unit_test(test_empty_header_with_mapping),
		cmocka_unit_test(test_first_row_with_empty_field_is_data),
		cmocka_unit_test(test_duplicate_header),
		cmocka_unit_test(test_unknown_column_warns),
		cmocka_unit_test(test_unknown_column_error_by_mapping),
		cmocka_unit_test(test_missing_column_of_mapping),
		cmocka_unit_test(test_missing_key_column_of_mapping),
		cmocka_unit_test(test_missing_key),
		cmocka_unit_test(test_blank_row_and_blank_line),
		cmocka_unit_test(test_lines_after_blank_line),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_header_only_file),
		cmocka_unit_test(test_unreadable_file_is_eio),
		cmocka_unit_test(test_encoding_problem_reported),
		cmocka_unit_test(test_value_error_names_column),
		cmocka_unit_test(test_required_value),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_unique_value),
		cmocka_unit_test(test_duplicates_across_files),
		cmocka_unit_test(test_check_fails),
		cmocka_unit_test(test_check_on_constant_value),
		cmocka_unit_test(test_columns_by_position),
		cmocka_unit_test(test_max_errors_stops_early),
		cmocka_unit_test(test_max_errors_not_reached),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_big_file_in_pieces),
		cmocka_unit_test(test_big_file_stop_from_callback),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
