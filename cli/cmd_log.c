/*
 * cmd_log.c - `pim log`: the batches (imports, undos, schema changes),
 * newest first.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] = "usage: pim log [--limit N] [--json]\n";
static const char help[] =
	"\nList the catalog's batches, newest first: id, kind, time, user, "
	"role,\nfiles and counts. An undone batch names the batch that undid "
	"it.\n\noptions:\n"
	"  -n, --limit N  show the last N batches only\n"
	"  --json         one JSON object per batch (JSON Lines)\n";

static int on_opt(int opt, const char *arg, void *ctx)
{
	if (opt == 'n' && cli_parse_ulong(arg, ctx) == 0)
		return 0;
	fprintf(stderr, "pim: log: --limit needs a number, not '%s'\n", arg);
	fputs(usage, stderr);
	return EXIT_USAGE;
}

static void json_field(const char *name, const char *v, int raw)
{
	printf(",\"%s\":", name);
	if (!v)
		fputs("null", stdout);
	else if (raw)
		fputs(v, stdout);
	else
		cli_json_string(stdout, v);
}

static int print_batch(const pim_batch_info *b, void *ctx)
{
	pim_cli *cli = ctx;

	if (cli->json) {
		printf("{\"batch\":%lld", b->id);
		json_field("kind", b->kind, 0);
		json_field("started_at", b->started_at, 0);
		json_field("finished_at", b->finished_at, 0);
		json_field("user", b->user, 0);
		json_field("role", b->role, 0);
		json_field("files", b->files ? b->files : "[]", 1);
		json_field("counts", b->counts ? b->counts : "{}", 1);
		if (b->undone_by)
			printf(",\"undone_by\":%lld", b->undone_by);
		else
			fputs(",\"undone_by\":null", stdout);
		fputs("}\n", stdout);
	} else {
		printf("%-6lld %-7s %s %-10s %-10s %s %s", b->id, b->kind,
		       b->started_at ? b->started_at : "-",
		       b->user ? b->user : "-", b->role ? b->role : "-",
		       b->files ? b->files : "[]", b->counts ? b->counts : "");
		if (b->undone_by)
			printf(" (undone by %lld)", b->undone_by);
		fputc('\n', stdout);
	}
	return ferror(stdout) ? 1 : 0;
}

int cmd_log(pim_cli *cli, int argc, char **argv)
{
	static const struct option own[] = {
		{ "limit", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned long limit = 0;
	pim_catalog *cat = NULL;
	int rc, code;

	code = cli_parse(cli, argc, argv, "log", usage, help, own, "n:", on_opt,
			 &limit);
	if (code >= 0)
		return code;
	if (optind < argc)
		return cli_usage_error(cli, "log", usage,
				       "log: unexpected argument '%s'",
				       argv[optind]);
	if ((rc = cli_open_catalog(cli, &cat, 1)))
		return cli_exit_code(rc);
	if (!cli->json)
		printf("%-6s %-7s %-20s %-10s %-10s %s\n", "BATCH", "KIND",
		       "STARTED", "USER", "ROLE", "FILES COUNTS");
	rc = pim_catalog_log(cat, limit, print_batch, cli);
	if (rc)
		cli_error(cli, "%s", pim_errmsg(cat));
	pim_catalog_close(cat);
	return cli_finish_output(cli, cli_exit_code(rc));
}
