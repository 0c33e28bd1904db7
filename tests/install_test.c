/*
 * install_test.c - a program built against the installed libpim with
 * pkg-config: it must find the header and the shared library.
 */
#include <pim.h>
#include <stdio.h>

int main(void)
{
	pim_schema *s = NULL;
	static const char yaml[] = "pim: 1\nattributes:\n  sku: identifier\n";
	int rc = pim_schema_load_buffer(&s, "inline", yaml, sizeof yaml - 1,
					NULL, NULL);
	if (rc != 0) {
		fprintf(stderr, "load: %s\n", pim_strerror(rc));
		return 1;
	}
	pim_schema_free(s);
	printf("libpim %s\n", pim_version());
	return 0;
}
