/*
 * header_test.c - compiles lib/pim.h on its own (make header-test, with
 * -std=c99 and -std=c11 -pedantic -Werror): the installed header must need
 * no other include and no compiler extension.
 */
#include "pim.h"

int pim_header_test(pim_schema **schema, const pim_diag *diag,
		    pim_diag_fn fn, void *ctx);

int pim_header_test(pim_schema **schema, const pim_diag *diag,
		    pim_diag_fn fn, void *ctx)
{
	pim_catalog_options copts = PIM_CATALOG_OPTIONS_INIT;
	pim_apply_options aopts = PIM_APPLY_OPTIONS_INIT;
	pim_type type = PIM_TYPE_GTIN;
	pim_severity sev = PIM_SEV_WARNING;
	size_t n = 0;

	*schema = NULL;
	if (diag && fn)
		return fn(diag, ctx);
	return (int)copts.version + (int)aopts.version + (int)type +
	       (int)sev + (int)n + PIM_VERSION_MAJOR + PIM_OK;
}
