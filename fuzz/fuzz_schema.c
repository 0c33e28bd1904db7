/*
 * fuzz_schema.c - libFuzzer target for schema files: the YAML tree
 * (lib/yml.c) and the schema checks (lib/schema.c). A schema that loads is
 * walked through the public accessors, and a few values are parsed for each
 * of its attributes, so that whatever a schema may say (patterns, ranges,
 * units, decimals) meets the value parsers.
 */
#include "fuzz.h"

#include "buf.h"
#include "schema.h"
#include "value.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const values[] = {
		"12", "-3,5", "1 234.50", "2024-02-29", "ja", "red",
		"7035181909371", "1.5 kg", "100 NOK", "https://a.no/x",
		"a@b.no", "home/sofa", "A01-02", "x", "0.0001 t"
	};
	pim_schema *s = NULL;
	unsigned long errors = 0;
	size_t srclen = 0;
	pim_buf out = PIM_BUF_INIT;
	int rc;

	rc = pim_schema_load_buffer(&s, "fuzz.yaml", (const char *)data, size,
				    fz_diag, &errors);
	if (rc) {
		FZ_CHECK(s == NULL);
		FZ_CHECK(rc == PIM_EPARSE || rc == PIM_ENOMEM);
		FZ_CHECK(errors > 0 || rc == PIM_ENOMEM);
		return 0;
	}
	FZ_CHECK(errors == 0);
	FZ_CHECK(pim_schema_source(s, &srclen) != NULL && srclen == size);
	(void)fz_touch(pim_schema_name(s));
	for (size_t i = 0; i < pim_schema_attribute_count(s); i++) {
		const char *code = pim_schema_attribute_code(s, i);
		const pim_attr *a = &s->attrs[i];
		FZ_CHECK(code != NULL);
		FZ_CHECK(pim_schema_attribute_find(s, code) == (long)i);
		FZ_CHECK(pim_type_name(pim_schema_attribute_type(s, i)) != NULL);
		for (size_t k = 0; k < sizeof values / sizeof values[0]; k++) {
			pim_value_err err;
			rc = pim_value_parse(&out, &err, a, values[k],
					     strlen(values[k]), NULL);
			FZ_CHECK(rc == 0 || rc == 1);
		}
	}
	for (size_t i = 0; i < pim_schema_role_count(s); i++) {
		const char *name = pim_schema_role_name(s, i);
		FZ_CHECK(name != NULL);
		FZ_CHECK(pim_schema_role(s, name) != NULL);
	}
	for (size_t i = 0; i < s->n_checks; i++) {
		FZ_CHECK(s->checks[i].left < s->n_attrs);
		FZ_CHECK(!s->checks[i].right_is_attr ||
			 s->checks[i].right < s->n_attrs);
	}
	pim_buf_free(&out);
	pim_schema_free(s);
	return 0;
}
