/*
 * cmd_delete.c - `pim delete`: archive products (recorded, undoable), or
 * with --purge --yes remove them and their values for good.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
	"usage: pim delete SKU... [--purge --yes]\n";
static const char help[] =
	"\nArchive products: they leave lists and counts (pim show still shows\n"
	"them, marked archived), keep their values and history, and come back\n"
	"with pim undo BATCH.\n"
	"With --purge (and --yes to confirm) the products and their values are\n"
	"removed from the catalog; their last values stay in pim history, and\n"
	"a purge cannot be undone. Deleting needs a role that may edit the\n"
	"key attribute, or no role.\n\noptions:\n"
	"  --purge   remove instead of archiving\n"
	"  --yes     confirm a purge\n"
	"\nexit status: 0 done, 1 an unknown SKU (nothing deleted) or the role "
	"may\nnot delete, 2 usage, 3 runtime.\n";

enum { OPT_PURGE = 0x2000, OPT_YES };

struct delopts {
	int purge, yes;
};

static int on_opt(int opt, const char *arg, void *ctx)
{
	struct delopts *o = ctx;

	(void)arg;
	if (opt == OPT_PURGE)
		o->purge = 1;
	else if (opt == OPT_YES)
		o->yes = 1;
	else
		return EXIT_USAGE;
	return 0;
}

static int on_diag(const pim_diag *d, void *ctx)
{
	(void)ctx;
	fflush(stdout);
	fprintf(stderr, "pim: %s\n", d->message);
	return 0;
}

int cmd_delete(pim_cli *cli, int argc, char **argv)
{
	static const struct option own[] = {
		{ "purge", no_argument, NULL, OPT_PURGE },
		{ "yes", no_argument, NULL, OPT_YES },
		{ NULL, 0, NULL, 0 }
	};
	struct delopts o;
	pim_catalog *cat = NULL;
	long long batch = 0;
	int rc, code;
	size_t n;

	memset(&o, 0, sizeof o);
	code = cli_parse(cli, argc, argv, "delete", usage, help, own, "",
			 on_opt, &o);
	if (code >= 0)
		return code;
	if (optind >= argc)
		return cli_usage_error(cli, "delete", usage,
				       "delete: give at least one SKU");
	if (o.purge && !o.yes)
		return cli_usage_error(cli, "delete", usage,
				       "delete: --purge removes the products "
				       "and their values for good; add --yes "
				       "to confirm");
	n = (size_t)(argc - optind);
	if ((rc = cli_open_catalog(cli, &cat, 0)))
		return cli_exit_code(rc);
	/* an unknown role is a usage error, found before anything else */
	if (cli->role) {
		pim_view *check = NULL;
		if ((rc = pim_view_new(&check, cat, cli->role, NULL, NULL))) {
			cli_error(cli, "%s", pim_errmsg(cat));
			pim_catalog_close(cat);
			return EXIT_USAGE;
		}
		pim_view_free(check);
	}
	rc = pim_catalog_delete(cat, &batch, (const char *const *)argv + optind,
				n, o.purge, on_diag, NULL);
	if (rc) {
		cli_error(cli, "%s", pim_errmsg(cat));
		code = rc == PIM_ENOTFOUND ? EXIT_DATA : cli_exit_code(rc);
	} else {
		code = EXIT_OK;
		if (cli->json && batch)
			printf("{\"batch\":%lld}\n", batch);
		else if (cli->json)
			fputs("{\"batch\":null}\n", stdout);
		else if (!cli->quiet && !batch)
			fprintf(stderr, "pim: nothing to do: already archived\n");
		else if (!cli->quiet && o.purge)
			fprintf(stderr, "pim: purged (batch %lld)\n", batch);
		else if (!cli->quiet)
			fprintf(stderr, "pim: archived (batch %lld; pim undo "
					"%lld brings the products back)\n",
				batch, batch);
	}
	pim_catalog_close(cat);
	return cli_finish_output(cli, code);
}
