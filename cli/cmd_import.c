/*
 * cmd_import.c - `pim import`: load supplier files into the catalog in one
 * transaction, with a reject file, a dry run with a diff, a summary and a
 * progress bar on a terminal.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
	"usage: pim import [--mapping M] [--mode merge|replace] [--dry-run "
	"[--diff]]\n"
	"                  [--reject FILE] [--on-error skip|abort] FILE...\n";
static const char help[] =
	"\nValidate supplier files and load them into the catalog: create new\n"
	"products, update changed ones, skip unchanged ones. One import is one\n"
	"transaction and one batch: it lands whole or not at all, and every\n"
	"change is recorded (pim history, pim undo). FILE may be - (stdin).\n\n"
	"options:\n"
	"  -m, --mapping M        the supplier's mapping file "
	"(pim-mapping(5))\n"
	"  --mode merge|replace   merge (default) changes mapped attributes "
	"only;\n"
	"                         replace also clears the unmapped ones\n"
	"  --empty keep|clear     an empty cell keeps (default) or clears the "
	"value\n"
	"  --on-error skip|abort  skip (default) loads the valid rows; abort "
	"loads\n"
	"                         nothing when any row is invalid\n"
	"  --reject FILE          write rejected rows there, in the file's own\n"
	"                         layout, with _line and _errors columns\n"
	"  --rules FILE           apply these enrichment rules (pim-rules(5)) "
	"to\n"
	"                         each record before it is written\n"
	"  -n, --dry-run          do everything but write; print the counts\n"
	"  --diff                 print each change: SKU attribute: old \xE2\x86\x92 new\n"
	"  --json                 print the summary as JSON on stdout\n"
	"  -q, --quiet            print nothing but errors\n"
	"  --format F             the files' format: csv, jsonl (JSON Lines) "
	"or\n"
	"                         xml (pim-xml(5)); default: by the extension\n"
	"                         (.jsonl, .ndjson, .xml), else csv; also\n"
	"                         --input-format F; bmecat (BMEcat 2005 or "
	"1.2)\n"
	"                         only when given\n"
	CLI_DIALECT_HELP
	"\nExit 0 when every row was loaded, 1 when rows were rejected, 2 for "
	"a bad\nmapping or option, 3 when the catalog is busy or a file cannot "
	"be read.\n";

enum {
	OPT_MODE = 0x2100,
	OPT_EMPTY,
	OPT_ON_ERROR,
	OPT_REJECT,
	OPT_DIFF,
	OPT_INPUT_FORMAT,
	OPT_RULES
};

struct iopts {
	pim_cli *cli;
	const char *mapping;
	const char *rules;
	int diff;
	pim_import_options io;
	cli_progress pr;
};

static int on_opt(int opt, const char *arg, void *ctx)
{
	struct iopts *o = ctx;

	switch (opt) {
	case 'm':
		o->mapping = arg;
		return 0;
	case 'n':
		o->io.dry_run = 1;
		return 0;
	case OPT_DIFF:
		o->diff = 1;
		return 0;
	case OPT_INPUT_FORMAT:
		if (cli_input_format(arg, &o->io.validate.format))
			break;
		return 0;
	case OPT_REJECT:
		o->io.reject_path = arg;
		return 0;
	case OPT_RULES:
		o->rules = arg;
		return 0;
	case OPT_MODE:
		if (!strcmp(arg, "merge"))
			o->io.mode = PIM_MODE_MERGE;
		else if (!strcmp(arg, "replace"))
			o->io.mode = PIM_MODE_REPLACE;
		else
			break;
		return 0;
	case OPT_EMPTY:
		if (!strcmp(arg, "keep"))
			o->io.empty_clear = 0;
		else if (!strcmp(arg, "clear"))
			o->io.empty_clear = 1;
		else
			break;
		return 0;
	case OPT_ON_ERROR:
		if (!strcmp(arg, "skip"))
			o->io.abort_on_error = 0;
		else if (!strcmp(arg, "abort"))
			o->io.abort_on_error = 1;
		else
			break;
		return 0;
	default:
		switch (cli_dialect_option(&o->io.validate, opt, arg)) {
		case 0:
			return 0;
		case -1:
			break;
		default:
			return EXIT_USAGE;
		}
	}
	return cli_usage_error(o->cli, "import", usage,
			       "import: bad value '%s' for an option", arg);
}

static void summary(pim_cli *cli, const pim_import_stats *st, int dry_run)
{
	if (cli->json) {
		printf("{\"batch\":%lld,\"dry_run\":%s,\"rows\":%lu,"
		       "\"created\":%lu,\"updated\":%lu,\"unchanged\":%lu,"
		       "\"rejected\":%lu,\"changes\":%lu,\"errors\":%lu,"
		       "\"warnings\":%lu}\n",
		       st->batch, dry_run ? "true" : "false", st->rows,
		       st->created, st->updated, st->unchanged, st->rejected,
		       st->changes, st->validate.errors, st->validate.warnings);
		return;
	}
	if (cli->quiet)
		return;
	fflush(stdout);
	fprintf(stderr,
		"pim: %s%lu row%s: %lu created, %lu updated, %lu unchanged, "
		"%lu rejected",
		dry_run ? "dry run, nothing written: " : "", st->rows,
		st->rows == 1 ? "" : "s",
		st->created, st->updated, st->unchanged, st->rejected);
	if (st->batch)
		fprintf(stderr, " (batch %lld)", st->batch);
	fputc('\n', stderr);
}

int cmd_import(pim_cli *cli, int argc, char **argv)
{
	static const struct option own[] = {
		{ "mapping", required_argument, NULL, 'm' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "diff", no_argument, NULL, OPT_DIFF },
		{ "format", required_argument, NULL, OPT_INPUT_FORMAT },
		{ "input-format", required_argument, NULL, OPT_INPUT_FORMAT },
		{ "reject", required_argument, NULL, OPT_REJECT },
		{ "rules", required_argument, NULL, OPT_RULES },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "empty", required_argument, NULL, OPT_EMPTY },
		{ "on-error", required_argument, NULL, OPT_ON_ERROR },
		CLI_DIALECT_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	pim_import_options io0 = PIM_IMPORT_OPTIONS_INIT;
	struct iopts o;
	pim_catalog *cat = NULL;
	pim_mapping *mapping = NULL;
	pim_rules *rules = NULL;
	pim_import_stats st = { 0 };
	int rc, code;

	memset(&o, 0, sizeof o);
	o.cli = cli;
	o.io = io0;
	code = cli_parse(cli, argc, argv, "import", usage, help, own, "m:n",
			 on_opt, &o);
	if (code >= 0)
		return code;
	if (optind >= argc)
		return cli_usage_error(cli, "import", usage,
				       "import: no file given");
	if (o.diff && !o.io.dry_run)
		return cli_usage_error(cli, "import", usage,
				       "import: --diff goes with --dry-run");
	if ((rc = cli_open_catalog(cli, &cat, 0)))
		return cli_exit_code(rc);
	if (o.mapping) {
		rc = pim_mapping_load_file(&mapping, o.mapping,
					   pim_catalog_schema(cat),
					   cli_print_diag, cli);
		if (rc) {
			code = cli_load_failed(cli, o.mapping, rc);
			goto out;
		}
		o.io.validate.mapping = mapping;
	}
	if (o.rules) {
		rc = pim_rules_load_file(&rules, cat, o.rules, cli_print_diag,
					 cli);
		if (rc) {
			code = cli_load_failed(cli, o.rules, rc);
			goto out;
		}
		o.io.rules = rules;
	}
	if (o.diff) {
		o.io.on_change = cli_print_change;
		o.io.change_ctx = &o;
	}
	if (cli_progress_start(&o.pr, cli, "rows", 0)) {
		o.io.progress = cli_progress_show;
		o.io.progress_ctx = &o.pr;
	}
	rc = pim_import(&st, cat, (const char *const *)argv + optind,
			(size_t)(argc - optind), &o.io, cli_progress_diag,
			&o.pr);
	cli_progress_end(&o.pr);
	if (rc && rc != PIM_EDATA) {
		cli_error(cli, "%s", pim_errmsg(cat));
		/* a mapping or file that writes outside the role's rights is
		 * a configuration error, refused before anything is written */
		code = rc == PIM_EDENIED ? EXIT_USAGE : cli_exit_code(rc);
		goto out;
	}
	summary(cli, &st, o.io.dry_run);
	if (rc == PIM_EDATA && !st.batch && !o.io.dry_run)
		cli_error(cli, "%s", pim_errmsg(cat));
	code = rc == PIM_EDATA ? EXIT_DATA : EXIT_OK;
out:
	pim_rules_free(rules);
	pim_mapping_free(mapping);
	pim_catalog_close(cat);
	code = cli_finish_output(cli, code);
	/* the summary is written after the commit: say so when it is lost */
	if (code == EXIT_RUNTIME && st.batch && !o.io.dry_run)
		cli_error(cli, "the import was committed as batch %lld; only "
			       "its summary could not be written",
			  st.batch);
	return code;
}
