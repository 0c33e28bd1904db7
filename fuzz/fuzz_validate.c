/*
 * fuzz_validate.c - libFuzzer target for the whole validation pipeline:
 * reader, dialect detection, mapping, value parsers, checks and duplicate
 * detection, over one input file against the example schema. Byte 0 picks
 * no mapping (headers are attribute codes), the Nordic or the standard
 * mapping, a --max-errors limit and a forced header setting; the rest is
 * the file.
 */
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
	static const int headers[4] = { -1, -1, 0, 1 };
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
	vo.header = headers[(data[0] >> 2) & 3];
	vo.max_errors = (data[0] & 16) ? 3 : 0;
	if (data[0] & 32)
		vo.max_field_size = 50;
	path = fz_file(0, data + 1, size - 1);
	rc = pim_validate(&st, schema, &path, 1, &vo, fz_diag, &errors);
	FZ_CHECK(rc == 0 || rc == PIM_EDATA || rc == PIM_EIO);
	/* not checked: invalid_rows <= rows; a duplicate found at the end
	 * counts its row again when it had other errors (validate.c says
	 * so), and rows are not remembered to avoid that */
	FZ_CHECK(rc != 0 || st.errors == 0);
	return 0;
}
