/*
 * fuzz_mapping.c - libFuzzer target for mapping files (lib/mapping.c and
 * the YAML tree under it), checked against the example schema. A mapping
 * that loads is then used to validate the head of both example supplier
 * files, so that whatever a mapping may say meets the validator.
 */
#include "fuzz.h"

static pim_schema *schema;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (pim_schema_load_buffer(&schema, "schema.yaml", fz_example_schema,
				   fz_example_schema_len, NULL, NULL) != 0)
		abort();
	/* two files: the example data, one in each layout */
	(void)fz_file(0, fz_nordic_csv, fz_nordic_csv_len);
	(void)fz_file(1, fz_standard_csv, fz_standard_csv_len);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pim_validate_options vo = PIM_VALIDATE_OPTIONS_INIT;
	pim_validate_stats st;
	pim_mapping *m = NULL;
	unsigned long errors = 0;
	const char *paths[2];
	int rc;

	rc = pim_mapping_load_buffer(&m, "fuzz.yaml", (const char *)data, size,
				     schema, fz_diag, &errors);
	if (rc) {
		FZ_CHECK(m == NULL);
		FZ_CHECK(rc == PIM_EPARSE || rc == PIM_ENOMEM);
		FZ_CHECK(errors > 0 || rc == PIM_ENOMEM);
		return 0;
	}
	/* the files were written in LLVMFuzzerInitialize and not changed */
	paths[0] = fz_file(0, fz_nordic_csv, fz_nordic_csv_len);
	paths[1] = fz_file(1, fz_standard_csv, fz_standard_csv_len);
	vo.mapping = m;
	errors = 0;
	rc = pim_validate(&st, schema, paths, 2, &vo, fz_diag, &errors);
	FZ_CHECK(rc == 0 || rc == PIM_EDATA || rc == PIM_EIO ||
		 rc == PIM_EINVALID);
	FZ_CHECK(st.rows <= 40);
	pim_mapping_free(m);
	return 0;
}
