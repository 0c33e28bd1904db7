/*
 * cmd_enrich.c - `pim enrich`: apply enrichment rules (pim-rules(5)) to
 * the catalog in one transaction and one batch, from a rules file or the
 * rules stored in the catalog, with a dry run, a diff and a summary.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
	"usage: pim enrich [--rules FILE] [--where EXPR] [--dry-run] [--diff] "
	"[--json]\n";
static const char help[] =
	"\nApply enrichment rules to the catalog's products: defaults, computed\n"
	"prices, titles from templates, normalised text and units, mapped\n"
	"values, completed GTINs (pim-rules(5)). Rules apply in order, each\n"
	"seeing what the earlier ones wrote. Every result is checked against\n"
	"the schema; a rule whose result is invalid for a product is reported\n"
	"and writes nothing for it. One transaction, one batch of kind\n"
	"\"enrich\" (pim log); pim undo reverts it. Without --rules, the rules\n"
	"stored in the catalog (pim rules apply) are used.\n\n"
	"options:\n"
	"  -r, --rules FILE  the rules file (default: the stored rules)\n"
	"  -w, --where EXPR  only products matching EXPR (pim-where(7))\n"
	"  -n, --dry-run     do everything but write; print the counts\n"
	"  --diff            print each change: SKU attribute: old \xE2\x86\x92 new\n"
	"  --json            print the summary as JSON on stdout\n"
	"  -q, --quiet       print nothing but errors\n"
	"\nExit 0 when done (calculations skipped for empty input are "
	"warnings),\n1 when some rule results were invalid (the valid changes "
	"are kept),\n2 for a bad rules file, option or --where, or no rules, "
	"3 when the\ncatalog is busy or cannot be written.\n";

enum { OPT_DIFF = 0x2200 };

struct eopts {
	pim_cli *cli;
	const char *rules;
	int diff;
	pim_enrich_options eo;
	cli_progress pr;
};

static int on_opt(int opt, const char *arg, void *ctx)
{
	struct eopts *o = ctx;

	switch (opt) {
	case 'r':
		o->rules = arg;
		return 0;
	case 'w':
		o->eo.where = arg;
		return 0;
	case 'n':
		o->eo.dry_run = 1;
		return 0;
	case OPT_DIFF:
		o->diff = 1;
		return 0;
	}
	return EXIT_USAGE;
}

static void summary(pim_cli *cli, const pim_enrich_stats *st, int dry_run)
{
	if (cli->json) {
		printf("{\"batch\":%lld,\"dry_run\":%s,\"products\":%lu,"
		       "\"updated\":%lu,\"unchanged\":%lu,\"changes\":%lu,"
		       "\"skipped\":%lu,\"invalid\":%lu}\n",
		       st->batch, dry_run ? "true" : "false", st->products,
		       st->changed, st->unchanged, st->changes, st->skipped,
		       st->invalid);
		return;
	}
	if (cli->quiet)
		return;
	fflush(stdout);
	fprintf(stderr,
		"pim: %s%lu product%s: %lu updated, %lu unchanged, %lu "
		"change%s",
		dry_run ? "dry run, nothing written: " : "", st->products,
		st->products == 1 ? "" : "s", st->changed, st->unchanged,
		st->changes, st->changes == 1 ? "" : "s");
	if (st->skipped)
		fprintf(stderr, ", %lu skipped", st->skipped);
	if (st->invalid)
		fprintf(stderr, ", %lu invalid", st->invalid);
	if (st->batch)
		fprintf(stderr, " (batch %lld)", st->batch);
	fputc('\n', stderr);
}

int cmd_enrich(pim_cli *cli, int argc, char **argv)
{
	static const struct option own[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "where", required_argument, NULL, 'w' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "diff", no_argument, NULL, OPT_DIFF },
		{ NULL, 0, NULL, 0 }
	};
	pim_enrich_options eo0 = PIM_ENRICH_OPTIONS_INIT;
	struct eopts o;
	pim_catalog *cat = NULL;
	pim_rules *rules = NULL;
	pim_enrich_stats st;
	int rc, code;

	memset(&o, 0, sizeof o);
	o.cli = cli;
	o.eo = eo0;
	code = cli_parse(cli, argc, argv, "enrich", usage, help, own, "r:w:n",
			 on_opt, &o);
	if (code >= 0)
		return code;
	if (optind < argc)
		return cli_usage_error(cli, "enrich", usage,
				       "enrich: unexpected argument '%s'",
				       argv[optind]);
	if ((rc = cli_open_catalog(cli, &cat, 0)))
		return cli_exit_code(rc);
	if (o.rules) {
		rc = pim_rules_load_file(&rules, cat, o.rules, cli_print_diag,
					 cli);
		if (rc) {
			code = cli_load_failed(cli, o.rules, rc);
			goto out;
		}
	} else {
		rc = pim_rules_load_stored(&rules, cat, cli_print_diag, cli);
		if (rc == PIM_ENOTFOUND) {
			cli_error(cli, "enrich: no rules: give --rules FILE, or "
				       "store rules with 'pim rules apply "
				       "FILE'");
			code = EXIT_USAGE;
			goto out;
		}
		if (rc) {
			cli_error(cli, "%s", pim_errmsg(cat));
			code = rc == PIM_EPARSE ? EXIT_USAGE : cli_exit_code(rc);
			goto out;
		}
	}
	if (o.diff) {
		o.eo.on_change = cli_print_change;
		o.eo.change_ctx = &o;
	}
	if (cli_progress_start(&o.pr, cli, "products", 1)) {
		o.eo.progress = cli_progress_show;
		o.eo.progress_ctx = &o.pr;
	}
	rc = pim_catalog_enrich(&st, cat, rules, &o.eo, cli_progress_diag,
				&o.pr);
	cli_progress_end(&o.pr);
	if (rc && rc != PIM_EDATA) {
		cli_error(cli, "%s", pim_errmsg(cat));
		code = rc == PIM_EDENIED || rc == PIM_EPARSE ? EXIT_USAGE
							     : cli_exit_code(rc);
		goto out;
	}
	summary(cli, &st, o.eo.dry_run);
	code = rc == PIM_EDATA ? EXIT_DATA : EXIT_OK;
out:
	pim_rules_free(rules);
	pim_catalog_close(cat);
	return cli_finish_output(cli, code);
}
