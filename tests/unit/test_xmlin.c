/*
 * test_xmlin.c - unit tests of the XML record reader: the header (the key
 * first, then attributes in order of first appearance), values with
 * currency, unit, locale and repeated options, XSD violations reported on
 * the right product, documents refused whole (not well-formed, DOCTYPE,
 * external entities, entity bombs, not UTF-8), and libxml2 never writing
 * to standard error. Inputs are written to a temporary directory.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "pim.h"
#include "recin.h"

static char tmpdir[512];

static int make_tmpdir(void **state)
{
	const char *base = getenv("TMPDIR");
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "%s/pim-test-xmlin-XXXXXX",
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

/* Diagnostics as "LINE:COL code: message" lines. */
static char diags[8192];

static int collect(const pim_diag *d, void *ctx)
{
	size_t n = strlen(diags);
	(void)ctx;
	snprintf(diags + n, sizeof diags - n, "%lu:%lu %s: %s\n", d->line,
		 d->col, d->code, d->message);
	return 0;
}

/* Opens `text` as XML; returns the code, *out the reader (or NULL). Any
 * byte libxml2 would write to standard error fails the test. */
static int open_xml(pim_recin **out, const char *name, const char *text)
{
	pim_recin_opts o;
	char err[256], spill[1024];
	int rc, saved, fd;
	struct stat sb;

	memset(&o, 0, sizeof o);
	o.format = PIM_FORMAT_XML;
	o.key_name = "sku";
	o.schema_name = "home-goods";
	diags[0] = '\0';
	snprintf(spill, sizeof spill, "%s/stderr", tmpdir);
	fflush(stderr);
	saved = dup(2);
	fd = open(spill, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	rc = pim_recin_open(out, write_file(name, text, strlen(text)), &o,
			    collect, NULL, err, sizeof err);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	assert_int_equal(stat(spill, &sb), 0);
	if (sb.st_size != 0)
		fail_msg("libxml2 wrote %ld bytes to stderr", (long)sb.st_size);
	return rc;
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

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define ROOT "<products xmlns=\"urn:pim:products:1\" schema=\"home-goods\">\n"

static void test_header_and_values(void **state)
{
	static const char text[] =
		HEAD ROOT
		"  <product sku=\"A-1\" family=\"furniture\">\n"
		"    <value attribute=\"name\" locale=\"nb_NO\">Hylle</value>\n"
		"    <value attribute=\"cost_price\" currency=\"NOK\">12.50</value>\n"
		"    <value attribute=\"weight\" unit=\"KGM\">2.5</value>\n"
		"    <value attribute=\"tags\">red</value>\n"
		"    <value attribute=\"tags\">blue</value>\n"
		"    <value attribute=\"note\"><![CDATA[a & <b>]]></value>\n"
		"  </product>\n"
		"  <product sku=\"A-2\">\n"
		"    <value attribute=\"gtin\">7083016613184</value>\n"
		"    <value attribute=\"note\"/>\n"
		"  </product>\n"
		"</products>\n";
	pim_recin *rd = NULL;
	const pim_csv_row *h;
	pim_csv_row *row;
	const pim_fpos *pos;
	unsigned char lists[16] = { 0 };
	int broken;
	(void)state;
	assert_int_equal(open_xml(&rd, "ok.xml", text), 0);
	h = pim_recin_header(rd);
	assert_int_equal(h->n, 7);
	assert_string_equal(h->field[0], "sku");
	assert_string_equal(h->field[1], "name@nb_NO");
	assert_string_equal(h->field[2], "cost_price");
	assert_string_equal(h->field[6], "gtin");
	assert_int_equal(pim_recin_raw_col(rd), -1);
	assert_int_equal(pim_recin_records(rd), 2);
	assert_int_equal(pim_recin_header_pos(rd)[6].line, 12);
	lists[col_of(rd, "tags")] = 1;
	pim_recin_set_lists(rd, lists);

	assert_int_equal(pim_recin_next(rd, &row, &pos, &broken), 1);
	assert_false(broken);
	assert_int_equal(row->line, 3);
	assert_string_equal(row->field[0], "A-1");
	assert_string_equal(row->field[col_of(rd, "name@nb_NO")], "Hylle");
	assert_string_equal(row->field[col_of(rd, "cost_price")], "12.50 NOK");
	assert_string_equal(row->field[col_of(rd, "weight")], "2.5 KGM");
	assert_string_equal(row->field[col_of(rd, "tags")], "red,blue");
	assert_string_equal(row->field[col_of(rd, "note")], "a & <b>");
	assert_ptr_equal(row->field[col_of(rd, "gtin")], pim_recin_absent);

	assert_int_equal(pim_recin_next(rd, &row, &pos, &broken), 1);
	assert_false(broken);
	assert_int_equal(row->line, 11);
	assert_string_equal(row->field[0], "A-2");
	assert_string_equal(row->field[col_of(rd, "gtin")], "7083016613184");
	assert_string_equal(row->field[col_of(rd, "note")], "");
	assert_true(row->field[col_of(rd, "note")] != pim_recin_absent);
	assert_int_equal(pim_recin_next(rd, &row, &pos, &broken), 0);
	assert_string_equal(diags, "");
	pim_recin_close(rd);
}

static void test_xsd_errors_on_their_product(void **state)
{
	static const char text[] =
		HEAD ROOT
		"  <product sku=\"A-1\">\n"
		"    <value attribute=\"name\">ok</value>\n"
		"  </product>\n"
		"  <product>\n"
		"    <value attribute=\"name\">no sku</value>\n"
		"  </product>\n"
		"  <product sku=\"A-3\">\n"
		"    <colour>red</colour>\n"
		"  </product>\n"
		"  <product sku=\"A-4\">\n"
		"    <value attribute=\"price\" currency=\"nok\">1</value>\n"
		"  </product>\n"
		"  <product sku=\"A-5\"/>\n"
		"</products>\n";
	pim_recin *rd = NULL;
	pim_csv_row *row;
	const pim_fpos *pos;
	int broken, expect[] = { 0, 1, 1, 1, 0 };
	unsigned long lines[] = { 3, 6, 9, 12, 15 };
	(void)state;
	assert_int_equal(open_xml(&rd, "xsd.xml", text), 0);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(pim_recin_next(rd, &row, &pos, &broken), 1);
		assert_int_equal(row->line, lines[i]);
		if (broken != expect[i])
			fail_msg("product %d: broken %d; %s", i, broken, diags);
	}
	assert_int_equal(pim_recin_next(rd, &row, &pos, &broken), 0);
	assert_non_null(strstr(diags, "6:0 xsd: Element 'product': The "
				      "attribute 'sku' is required"));
	assert_non_null(strstr(diags, "9:0 xsd: line 10: Element 'colour'"));
	assert_non_null(strstr(diags, "12:0 xsd: line 13: Element 'value', "
				      "attribute 'currency'"));
	pim_recin_close(rd);
}

static void test_schema_name_warning(void **state)
{
	pim_recin *rd = NULL;
	(void)state;
	assert_int_equal(
		open_xml(&rd, "other.xml",
			 HEAD "<products xmlns=\"urn:pim:products:1\" "
			      "schema=\"garden\"/>\n"),
		0);
	assert_string_equal(diags, "2:0 schema-name: the file was written for "
				   "schema 'garden', this is 'home-goods'\n");
	assert_int_equal(pim_recin_records(rd), 0);
	pim_recin_close(rd);
}

static void test_not_well_formed_refused(void **state)
{
	pim_recin *rd = NULL;
	(void)state;
	assert_int_equal(open_xml(&rd, "nwf.xml",
				  HEAD ROOT "  <product sku=\"A\">\n"
					    "    <value attribute=\"x\">1</product>\n"
					    "</products>\n"),
			 PIM_EDATA);
	assert_null(rd);
	assert_non_null(strstr(diags, "4:37 xml: Opening and ending tag "
				      "mismatch: value line 4 and product"));
}

static void test_wrong_root_refused(void **state)
{
	pim_recin *rd = NULL;
	(void)state;
	assert_int_equal(open_xml(&rd, "root.xml",
				  HEAD "<products><product sku=\"A\"/></products>\n"),
			 PIM_EDATA);
	assert_non_null(strstr(diags, "2:0 xml: the root element is <products> "
				      "without a namespace"));
}

static void test_doctype_refused(void **state)
{
	pim_recin *rd = NULL;
	(void)state;
	assert_int_equal(
		open_xml(&rd, "xxe.xml",
			 HEAD "<!-- a comment -->\n<?pi x?>\n"
			      "<!DOCTYPE products [<!ENTITY e SYSTEM "
			      "\"file:///etc/passwd\">]>\n" ROOT
			      "<product sku=\"A\"><value attribute=\"n\">&e;"
			      "</value></product></products>\n"),
		PIM_EDATA);
	assert_null(rd);
	assert_string_equal(diags, "4:1 doctype: the document has a DOCTYPE; "
				   "pim's XML format has none, and entities "
				   "are not read (refused)\n");
}

static void test_billion_laughs_refused_at_once(void **state)
{
	pim_buf b = PIM_BUF_INIT;
	pim_recin *rd = NULL;
	clock_t t0 = clock();
	(void)state;
	pim_buf_adds(&b, HEAD "<!DOCTYPE lolz [\n <!ENTITY lol0 \"lol\">\n");
	for (int i = 1; i < 10; i++) {
		pim_buf_printf(&b, " <!ENTITY lol%d \"", i);
		for (int k = 0; k < 10; k++)
			pim_buf_printf(&b, "&lol%d;", i - 1);
		pim_buf_adds(&b, "\">\n");
	}
	pim_buf_adds(&b, "]>\n" ROOT "<product sku=\"&lol9;\"/></products>\n");
	assert_int_equal(open_xml(&rd, "lol.xml", b.data), PIM_EDATA);
	assert_non_null(strstr(diags, "2:1 doctype:"));
	/* refused before anything is expanded: well under a second */
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 1.0);
	pim_buf_free(&b);
}

static void test_undeclared_entity_refused(void **state)
{
	pim_recin *rd = NULL;
	(void)state;
	assert_int_equal(open_xml(&rd, "ent.xml",
				  HEAD ROOT "<product sku=\"&x;\"/></products>\n"),
			 PIM_EDATA);
	assert_non_null(strstr(diags, "xml: Entity 'x' not defined"));
}

static void test_not_utf8_refused(void **state)
{
	pim_recin *rd = NULL;
	(void)state;
	assert_int_equal(open_xml(&rd, "u16.xml", "\xFF\xFE<\0p\0/\0>\0"),
			 PIM_EDATA);
	assert_non_null(strstr(diags, "1:1 encoding:"));
	/* a declared encoding is not followed: the bytes must be UTF-8 */
	assert_int_equal(
		open_xml(&rd, "latin1.xml",
			 "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n" ROOT
			 "<product sku=\"Gr\xE5\"/></products>\n"),
		PIM_EDATA);
	assert_non_null(strstr(diags, "Input is not proper UTF-8"));
}

static void test_empty_file(void **state)
{
	pim_recin *rd = NULL;
	(void)state;
	assert_int_equal(open_xml(&rd, "empty.xml", ""), PIM_EDATA);
	assert_string_equal(diags, "1:0 empty-file: the file is empty: no "
				   "<products> element\n");
}

static void test_value_too_long(void **state)
{
	pim_recin_opts o;
	pim_recin *rd = NULL;
	pim_csv_row *row;
	const pim_fpos *pos;
	char err[256];
	int broken;
	static const char text[] =
		HEAD ROOT "<product sku=\"A\">\n"
			  "<value attribute=\"n\">0123456789abcdef!</value>\n"
			  "</product>\n<product sku=\"B\"><value attribute=\"n\">"
			  "short</value></product></products>\n";
	(void)state;
	memset(&o, 0, sizeof o);
	o.format = PIM_FORMAT_XML;
	o.max_field = 16;
	diags[0] = '\0';
	assert_int_equal(pim_recin_open(&rd, write_file("long.xml", text,
							 strlen(text)),
					&o, collect, NULL, err, sizeof err),
			 0);
	assert_int_equal(pim_recin_next(rd, &row, &pos, &broken), 1);
	assert_true(broken);
	assert_int_equal(pim_recin_next(rd, &row, &pos, &broken), 1);
	assert_false(broken);
	assert_string_equal(row->field[1], "short");
	assert_string_equal(diags, "3:0 field-too-long: line 4: the value of 'n' "
				   "is longer than 16 bytes (--max-field-size)\n");
	pim_recin_close(rd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_and_values),
		cmocka_unit_test(test_xsd_errors_on_their_product),
		cmocka_unit_test(test_schema_name_warning),
		cmocka_unit_test(test_not_well_formed_refused),
		cmocka_unit_test(test_wrong_root_refused),
		cmocka_unit_test(test_doctype_refused),
		cmocka_unit_test(test_billion_laughs_refused_at_once),
		cmocka_unit_test(test_undeclared_entity_refused),
		cmocka_unit_test(test_not_utf8_refused),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_value_too_long),
	};
	return cmocka_run_group_tests_name("xml reader", tests, make_tmpdir,
					   remove_tmpdir);
}
