/*
 * cmd_undo.c - `pim undo BATCH`: revert a whole batch, refusing when later
 * changes touched the same values unless --force.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] = "usage: pim undo [--force] BATCH\n";
static const char help[] =
	"\nRestore exactly the values batch BATCH changed and remove the "
	"products it\ncreated. Where a later change touched the same value "
	"(or a created\nproduct), the undo is refused and the conflicts are "
	"listed; --force undoes\nanyway. The undo is itself a batch (pim log); "
	"undo batches and schema\nchanges cannot be undone.\n\noptions:\n"
	"  -f, --force  undo even over later changes\n"
	"  --json       print the result as JSON on stdout\n";

static int on_opt(int opt, const char *arg, void *ctx)
{
	(void)arg;
	if (opt == 'f') {
		*(int *)ctx = 1;
		return 0;
	}
	return EXIT_USAGE;
}

struct uctx {
	pim_cli *cli;
	long shown;
};

static int print_conflict(const pim_diag *d, void *ctx)
{
	struct uctx *u = ctx;
	if (++u->shown > 20 && !u->cli->verbose)
		return 0;
	fprintf(stderr, "pim: conflict: %s\n", d->message);
	return 0;
}

int cmd_undo(pim_cli *cli, int argc, char **argv)
{
	static const struct option own[] = {
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	pim_catalog *cat = NULL;
	unsigned long batch;
	long long ub = 0;
	int force = 0, rc, code;
	struct uctx u = { cli, 0 };

	code = cli_parse(cli, argc, argv, "undo", usage, help, own, "f", on_opt,
			 &force);
	if (code >= 0)
		return code;
	if (optind + 1 != argc)
		return cli_usage_error(cli, "undo", usage,
				       "undo: give one batch number");
	if (cli_parse_ulong(argv[optind], &batch) || batch == 0)
		return cli_usage_error(cli, "undo", usage,
				       "undo: '%s' is not a batch number",
				       argv[optind]);
	if ((rc = cli_open_catalog(cli, &cat, 0)))
		return cli_exit_code(rc);
	rc = pim_catalog_undo(cat, &ub, (long long)batch, force, print_conflict,
			      &u);
	if (u.shown > 20 && !cli->verbose)
		fprintf(stderr, "pim: ... and %ld more conflicts (-v lists all)\n",
			u.shown - 20);
	if (rc) {
		cli_error(cli, "%s", pim_errmsg(cat));
		code = cli_exit_code(rc);
	} else {
		if (cli->json)
			printf("{\"undone\":%lu,\"batch\":%lld}\n", batch, ub);
		else if (!cli->quiet)
			fprintf(stderr, "pim: batch %lu undone (batch %lld)\n",
				batch, ub);
		code = EXIT_OK;
	}
	pim_catalog_close(cat);
	return cli_finish_output(cli, code);
}
