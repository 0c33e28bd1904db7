/*
 * cmd_export.c - `pim export`: the catalog's products, filtered, in one of
 * the export formats (CSV, JSON Lines, JSON, YAML, pim's XML, a Google
 * Merchant feed, BMEcat), to standard output or to a file that appears
 * only when it is complete.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
	"usage: pim export [--format F] [--role R] [--where EXPR] "
	"[--complete-for ROLE]\n"
	"                  [--family F] [--since BATCH|DATE] [--locale L]\n"
	"                  [--header codes|labels] [--excel] [--raw] "
	"[--profile FILE]\n"
	"                  [-o FILE]\n";
static const char help[] =
	"\nWrite the catalog's products, sorted by SKU, in one format:\n"
	"  csv       the role's view (every attribute without a role)\n"
	"  jsonl     one typed JSON object per line\n"
	"  json      a JSON array of the same objects\n"
	"  yaml      a YAML sequence of the same mappings\n"
	"  xml       pim's XML exchange format (pim-xml(5))\n"
	"  merchant  a Google Merchant Center feed (RSS 2.0)\n"
	"  bmecat    a BMEcat 2005 catalog (T_NEW_CATALOG)\n"
	"\noptions:\n"
	"  -f, --format F        the format (default csv)\n"
	"  -w, --where EXPR      only products matching EXPR (pim-where(7))\n"
	"  --complete-for ROLE   only products complete for ROLE\n"
	"  --family F            only products of family F\n"
	"  --since BATCH|DATE    only products changed since (incremental feeds)\n"
	"  -l, --locale L        only this locale's columns; labels and feed "
	"texts in L\n"
	"  --header codes|labels csv header: attribute codes (default) or "
	"labels\n"
	"  --excel               csv for spreadsheets: ';', decimal comma, BOM, "
	"CRLF\n"
	"  --raw                 csv: do not neutralise spreadsheet formulas\n"
	"  --profile FILE        merchant: the feed profile (default: built in)\n"
	"  -o, --output FILE     write FILE, renamed into place when complete "
	"(- = stdout)\n"
	"  --json                with -o: print the summary as JSON\n"
	"\nProducts left out of a merchant or BMEcat file are reported on stderr;\n"
	"the file is still complete, and the exit status is then 1.\n";

enum {
	OPT_COMPLETE_FOR = 0x2000,
	OPT_FAMILY,
	OPT_SINCE,
	OPT_XHEADER,
	OPT_EXCEL,
	OPT_RAW,
	OPT_PROFILE
};

struct eopts {
	pim_cli *cli;
	pim_export_options ex;
	const char *output;
	int have_format;
};

static int on_opt(int opt, const char *arg, void *ctx)
{
	struct eopts *o = ctx;

	switch (opt) {
	case 'f':
		if (pim_export_format_find(&o->ex.format, arg))
			return cli_usage_error(o->cli, "export", usage,
					       "export: unknown format '%s' (csv, "
					       "jsonl, json, yaml, xml, merchant, "
					       "bmecat)",
					       arg);
		o->have_format = 1;
		return 0;
	case 'w':
		o->ex.where = arg;
		return 0;
	case 'l':
		o->ex.locale = arg;
		return 0;
	case 'o':
		o->output = arg;
		return 0;
	case OPT_COMPLETE_FOR:
		o->ex.complete_for = arg;
		return 0;
	case OPT_FAMILY:
		o->ex.family = arg;
		return 0;
	case OPT_SINCE:
		o->ex.since = arg;
		return 0;
	case OPT_XHEADER:
		if (!strcmp(arg, "codes"))
			o->ex.header_labels = 0;
		else if (!strcmp(arg, "labels"))
			o->ex.header_labels = 1;
		else
			return cli_usage_error(o->cli, "export", usage,
					       "export: --header takes codes or "
					       "labels, not '%s'",
					       arg);
		return 0;
	case OPT_EXCEL:
		o->ex.excel = 1;
		return 0;
	case OPT_RAW:
		o->ex.raw = 1;
		return 0;
	case OPT_PROFILE:
		o->ex.profile = arg;
		return 0;
	}
	return EXIT_USAGE;
}

/* Products left out: one line each on stderr. */
struct dctx {
	pim_cli *cli;
};

static int on_diag(const pim_diag *d, void *ctx)
{
	struct dctx *c = ctx;

	if (d->file) /* the profile */
		return cli_print_diag(d, NULL);
	if (!c->cli->quiet)
		fprintf(stderr, "pim: %s: left out: %s\n", d->key ? d->key : "-",
			d->message);
	return 0;
}

/* Prints the expression with a caret under column `col`. */
static void point_at(const char *expr, unsigned long col)
{
	fprintf(stderr, "  %s\n  ", expr);
	for (unsigned long i = 1; i < col; i++)
		fputc(' ', stderr);
	fputs("^\n", stderr);
}

int cmd_export(pim_cli *cli, int argc, char **argv)
{
	static const struct option own[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "where", required_argument, NULL, 'w' },
		{ "locale", required_argument, NULL, 'l' },
		{ "output", required_argument, NULL, 'o' },
		{ "complete-for", required_argument, NULL, OPT_COMPLETE_FOR },
		{ "family", required_argument, NULL, OPT_FAMILY },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "header", required_argument, NULL, OPT_XHEADER },
		{ "excel", no_argument, NULL, OPT_EXCEL },
		{ "raw", no_argument, NULL, OPT_RAW },
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ NULL, 0, NULL, 0 }
	};
	pim_export_options ex0 = PIM_EXPORT_OPTIONS_INIT;
	pim_export_stats st;
	pim_where_error werr;
	struct eopts o;
	struct dctx dc;
	pim_catalog *cat = NULL;
	FILE *out = stdout;
	int to_file, rc, code;
	static char obuf[1 << 16];

	memset(&o, 0, sizeof o);
	o.cli = cli;
	o.ex = ex0;
	code = cli_parse(cli, argc, argv, "export", usage, help, own, "f:w:l:o:",
			 on_opt, &o);
	if (code >= 0)
		return code;
	if (optind < argc)
		return cli_usage_error(cli, "export", usage,
				       "export: unexpected argument '%s'",
				       argv[optind]);
	if ((o.ex.excel || o.ex.header_labels) && o.ex.format != PIM_EXPORT_CSV)
		return cli_usage_error(cli, "export", usage,
				       "export: --excel and --header labels are "
				       "for --format csv");
	if (o.ex.raw && o.ex.format != PIM_EXPORT_CSV)
		return cli_usage_error(cli, "export", usage,
				       "export: --raw is for --format csv");
	if (o.ex.profile && o.ex.format != PIM_EXPORT_MERCHANT)
		return cli_usage_error(cli, "export", usage,
				       "export: --profile is for --format "
				       "merchant");
	to_file = o.output && strcmp(o.output, "-");
	if (cli->json && !to_file)
		return cli_usage_error(cli, "export", usage,
				       "export: --json prints a summary, which "
				       "needs -o FILE");
	o.ex.role = cli->role;
	if ((rc = cli_open_catalog(cli, &cat, 1)))
		return cli_exit_code(rc);
	if (to_file) {
		if (!(out = cli_outfile_open(cli, o.output))) {
			pim_catalog_close(cat);
			return EXIT_RUNTIME;
		}
		setvbuf(out, NULL, _IOFBF, 1 << 16);
	} else {
		setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	}
	dc.cli = cli;
	rc = pim_export(cat, &o.ex, out, &st, on_diag, &dc, &werr);
	if (rc == PIM_EPARSE && werr.col) {
		cli_error(cli, "%s", pim_errmsg(cat));
		point_at(o.ex.where, werr.col);
	} else if (rc == PIM_EPARSE && werr.message[0]) {
		cli_error(cli, "%s", pim_errmsg(cat));
	} else if (rc == PIM_EPARSE) {
		/* a bad profile: reported line by line */
	} else if (rc) {
		cli_error(cli, "%s", pim_errmsg(cat));
	}
	code = cli_exit_code(rc);
	if (to_file && cli_outfile_close(cli, out, o.output, rc == 0) && code == 0)
		code = EXIT_RUNTIME;
	if (code == EXIT_OK && st.skipped)
		code = EXIT_DATA;
	if (rc == 0 && cli->json) {
		printf("{\"products\":%lu,\"written\":%lu,\"skipped\":%lu,"
		       "\"output\":",
		       st.products, st.written, st.skipped);
		cli_json_string(stdout, o.output);
		puts("}");
	} else if (rc == 0 && !cli->quiet && (to_file || st.skipped)) {
		fprintf(stderr, "pim: %lu product%s: %lu written, %lu left out\n",
			st.products, st.products == 1 ? "" : "s", st.written,
			st.skipped);
	}
	pim_catalog_close(cat);
	return cli_finish_output(cli, code);
}
