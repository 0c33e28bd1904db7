/*
 * fuzz_xml.c - libFuzzer target for pim's XML exchange format (pim-xml(5),
 * lib/xmlin.c on libxml2's reader): the whole validation pipeline
 * (pim_validate with PIM_FORMAT_XML) on one file against the example
 * schema. Byte 0 is read as by fuzz_validate: bits 0-1 no mapping, the
 * Nordic or the standard mapping (whose key column names <product sku>);
 * bit 4 a --max-errors of 3; bit 5 a 50-byte field limit. The rest is the
 * file.
 */

/* fuzz_bmecat.c includes this file with FUZZ_FORMAT set to BMEcat */
#ifndef FUZZ_FORMAT
#define FUZZ_FORMAT PIM_FORMAT_XML
#endif
#include "fuzz.h"

static pim_schema *schema;
static pim_mapping *nordic, *standard;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (pim_schema_load_buffer(&schema, "schema.yaml", fz_example_schema,
				   fz_example_schema_len, NULL, NULL) != 0 ||
	    pim_mapping_load_buffer(&nordic, "nordic-pricelist.yaml",
				    fz_nordic_mapping, fz_nordic_mapping_len,
				    schema, NULL, NULL) != 0 ||
	    pim_mapping_load_buffer(&standard, "standard-pricelist.yaml",
				    fz_standard_mapping,
				    fz_standard_mapping_len, schema, NULL,
				    NULL) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pim_validate_options vo = PIM_VALIDATE_OPTIONS_INIT;
	pim_validate_stats st;
	unsigned long errors = 0;
	const char *path;
	int rc;

	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 1: vo.mapping = nordic; break;
	case 2: vo.mapping = standard; break;
	default: break;
	}
	vo.max_errors = (data[0] & 16) ? 3 : 0;
	if (data[0] & 32)
		vo.max_field_size = 50;
	vo.format = FUZZ_FORMAT;
	path = fz_file(0, data + 1, size - 1);
	rc = pim_validate(&st, schema, &path, 1, &vo, fz_diag, &errors);
	FZ_CHECK(rc == 0 || rc == PIM_EDATA || rc == PIM_EIO);
	FZ_CHECK(rc != 0 || st.errors == 0);
	FZ_CHECK(st.files <= 1);
	return 0;
}
