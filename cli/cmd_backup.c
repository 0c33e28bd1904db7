/*
 * cmd_backup.c - `pim backup FILE`: a consistent copy of the catalog,
 * taken while other processes write, as one self-contained file.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] = "usage: pim backup [--force] [--json] FILE\n";
static const char help[] =
	"\nCopy the catalog to FILE while other processes go on writing. The "
	"copy\nholds the catalog as of one moment (whole batches only) and is "
	"one\nself-contained file; restore it with 'pim restore'. It is "
	"written beside\nFILE and renamed into place when complete. An "
	"existing FILE is refused\nunless --force.\n\noptions:\n"
	"  -f, --force  overwrite an existing FILE\n"
	"  --json       print what the copy holds as JSON on stdout\n"
	"  -q, --quiet  print nothing on success\n";

static int on_opt(int opt, const char *arg, void *ctx)
{
	(void)arg;
	if (opt == 'f') {
		*(int *)ctx = 1;
		return 0;
	}
	return EXIT_USAGE;
}

static void print_done(pim_cli *cli, const char *file,
		       const pim_catalog_info *in)
{
	if (cli->json) {
		fputs("{\"backup\":", stdout);
		cli_json_string(stdout, file);
		printf(",\"products\":%lld,\"archived\":%lld,\"batches\":%lld,"
		       "\"last_batch\":%lld}\n",
		       in->products, in->archived, in->batches, in->last_batch);
	} else if (!cli->quiet) {
		fprintf(stderr,
			"pim: backed up %s to %s: %lld product%s, %lld "
			"batch%s (last %lld)\n",
			cli->db, file, in->products, in->products == 1 ? "" : "s",
			in->batches, in->batches == 1 ? "" : "es",
			in->last_batch);
	}
}

int cmd_backup(pim_cli *cli, int argc, char **argv)
{
	static const struct option own[] = {
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	pim_catalog *cat = NULL;
	pim_catalog_info info;
	int force = 0, rc, code;

	code = cli_parse(cli, argc, argv, "backup", usage, help, own, "f",
			 on_opt, &force);
	if (code >= 0)
		return code;
	if (optind + 1 != argc)
		return cli_usage_error(cli, "backup", usage,
				       "backup: give one file to write");
	if (!strcmp(argv[optind], "-"))
		return cli_usage_error(cli, "backup", usage,
				       "backup: cannot write to standard output; "
				       "give a file name");
	if ((rc = cli_open_catalog(cli, &cat, 1)))
		return cli_exit_code(rc);
	rc = pim_catalog_backup(cat, &info, argv[optind], force);
	if (rc) {
		cli_error(cli, "%s", pim_errmsg(cat));
		code = cli_exit_code(rc);
	} else {
		print_done(cli, argv[optind], &info);
		code = EXIT_OK;
	}
	pim_catalog_close(cat);
	return cli_finish_output(cli, code);
}
