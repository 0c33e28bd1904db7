/*
 * cmd_restore.c - `pim restore FILE`: replace the catalog by a backup,
 * after checking that FILE is a sound catalog this pim can read.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] = "usage: pim restore [--yes] [--json] FILE\n";
static const char help[] =
	"\nReplace the whole catalog (products, history, batches, schema) by "
	"the\ncatalog in FILE, a file written by 'pim backup'. FILE is checked "
	"first:\nan SQLite file that passes an integrity check, a pim catalog "
	"of a format\nthis pim reads, with a schema that loads; otherwise "
	"nothing is changed.\nThe catalog is replaced in one transaction. A "
	"catalog that holds products\nis replaced only with --yes.\n\n"
	"options:\n"
	"  -y, --yes    replace a catalog that holds products\n"
	"  --json       print what was replaced and restored as JSON\n"
	"  -q, --quiet  print nothing on success\n";

static int on_opt(int opt, const char *arg, void *ctx)
{
	(void)arg;
	if (opt == 'y') {
		*(int *)ctx = 1;
		return 0;
	}
	return EXIT_USAGE;
}

static void json_info(const char *name, const pim_catalog_info *in)
{
	printf("\"%s\":{\"products\":%lld,\"archived\":%lld,\"batches\":%lld,"
	       "\"last_batch\":%lld}",
	       name, in->products, in->archived, in->batches, in->last_batch);
}

static void print_done(pim_cli *cli, const char *file,
		       const pim_catalog_info *old, const pim_catalog_info *now)
{
	if (cli->json) {
		fputs("{\"restored\":", stdout);
		cli_json_string(stdout, file);
		fputc(',', stdout);
		json_info("replaced", old);
		fputc(',', stdout);
		json_info("catalog", now);
		fputs("}\n", stdout);
		return;
	}
	if (cli->quiet)
		return;
	fprintf(stderr,
		"pim: restored %s from %s: %lld product%s, %lld batch%s; it "
		"replaced %lld product%s, %lld batch%s\n",
		cli->db, file, now->products, now->products == 1 ? "" : "s",
		now->batches, now->batches == 1 ? "" : "es",
		old->products + old->archived,
		old->products + old->archived == 1 ? "" : "s", old->batches,
		old->batches == 1 ? "" : "es");
}

int cmd_restore(pim_cli *cli, int argc, char **argv)
{
	static const struct option own[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ NULL, 0, NULL, 0 }
	};
	pim_catalog *cat = NULL;
	pim_catalog_info old, now;
	int yes = 0, rc, code;

	code = cli_parse(cli, argc, argv, "restore", usage, help, own, "y",
			 on_opt, &yes);
	if (code >= 0)
		return code;
	if (optind + 1 != argc)
		return cli_usage_error(cli, "restore", usage,
				       "restore: give one backup file");
	if (!strcmp(argv[optind], "-"))
		return cli_usage_error(cli, "restore", usage,
				       "restore: cannot read standard input; "
				       "give a file name");
	if ((rc = cli_open_catalog(cli, &cat, 0)))
		return cli_exit_code(rc);
	rc = pim_catalog_restore(cat, &old, &now, argv[optind], yes);
	if (rc) {
		cli_error(cli, "%s", pim_errmsg(cat));
		code = cli_exit_code(rc);
	} else {
		print_done(cli, argv[optind], &old, &now);
		code = EXIT_OK;
	}
	pim_catalog_close(cat);
	return cli_finish_output(cli, code);
}
