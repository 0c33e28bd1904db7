/*
 * cmd_schema.c - `pim schema check|show|apply`: check schema files, print
 * the catalog's schema, and change it without losing stored values.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
	"usage: pim schema check FILE...\n"
	"       pim schema show [--json]\n"
	"       pim schema apply [--force] [--dry-run] FILE\n";
static const char help[] =
	"\ncheck   check schema files; every problem is reported as\n"
	"        FILE:LINE:COL: error: message; exit 2 when there is one\n"
	"show    print the catalog's schema (YAML; --json for a summary)\n"
	"apply   replace the catalog's schema. Adding attributes, options or\n"
	"        roles is always fine; a change that would drop or invalidate\n"
	"        stored values is refused, listing them, unless --force.\n\n"
	"options:\n"
	"  -f, --force    apply even when stored values would be lost\n"
	"  -n, --dry-run  report what apply would do; write nothing\n"
	"  --json         machine-readable output\n";

struct opts {
	int force, dry_run;
};

static int on_opt(int opt, const char *arg, void *ctx)
{
	struct opts *o = ctx;
	(void)arg;
	if (opt == 'f')
		o->force = 1;
	else if (opt == 'n')
		o->dry_run = 1;
	else
		return EXIT_USAGE;
	return 0;
}

typedef struct diag_ctx {
	pim_cli *cli;
	long errors;
} diag_ctx;

static int json_diag(const pim_diag *d, void *ctx)
{
	diag_ctx *dc = ctx;
	dc->errors += d->severity == PIM_SEV_ERROR;
	fputs("{\"file\":", stdout);
	cli_json_string(stdout, d->file ? d->file : "");
	printf(",\"line\":%lu,\"column\":%lu,\"code\":", d->line, d->col);
	cli_json_string(stdout, d->code ? d->code : "");
	fputs(",\"severity\":", stdout);
	cli_json_string(stdout, d->severity == PIM_SEV_WARNING ? "warning"
							       : "error");
	fputs(",\"message\":", stdout);
	cli_json_string(stdout, d->message);
	fputs("}\n", stdout);
	return 0;
}

static int text_diag(const pim_diag *d, void *ctx)
{
	diag_ctx *dc = ctx;
	dc->errors += d->severity == PIM_SEV_ERROR;
	return cli_print_diag(d, dc->cli);
}

static int schema_check(pim_cli *cli, int argc, char **argv)
{
	int worst = EXIT_OK;

	if (argc < 1)
		return cli_usage_error(cli, "schema", usage,
				       "schema check: no file given");
	for (int i = 0; i < argc; i++) {
		diag_ctx dc = { cli, 0 };
		pim_schema *s = NULL;
		int rc = pim_schema_load_file(&s, argv[i],
					      cli->json ? json_diag : text_diag,
					      &dc);
		if (rc == 0) {
			if (!cli->quiet && !cli->json)
				printf("%s: ok: schema '%s', %zu attribute%s, "
				       "%zu role%s\n",
				       argv[i], pim_schema_name(s),
				       pim_schema_attribute_count(s),
				       pim_schema_attribute_count(s) == 1 ? "" : "s",
				       pim_schema_role_count(s),
				       pim_schema_role_count(s) == 1 ? "" : "s");
		} else if (rc == PIM_EPARSE || rc == PIM_EIO ||
			   rc == PIM_ENOTFOUND) {
			if (!cli->json && rc == PIM_EPARSE)
				fprintf(stderr, "%s: %ld error%s\n", argv[i],
					dc.errors, dc.errors == 1 ? "" : "s");
			if (worst < EXIT_USAGE)
				worst = EXIT_USAGE;
		} else {
			cli_error(cli, "%s: %s", argv[i], pim_strerror(rc));
			worst = EXIT_RUNTIME;
		}
		pim_schema_free(s);
	}
	return worst;
}

static int schema_show(pim_cli *cli, int argc, char **argv)
{
	pim_catalog *cat = NULL;
	const pim_schema *s;
	int rc;

	(void)argv;
	if (argc > 0)
		return cli_usage_error(cli, "schema", usage,
				       "schema show: unexpected argument");
	if ((rc = cli_open_catalog(cli, &cat, 1)))
		return cli_exit_code(rc);
	s = pim_catalog_schema(cat);
	if (cli->json) {
		fputs("{\"name\":", stdout);
		cli_json_string(stdout, pim_schema_name(s));
		fputs(",\"attributes\":[", stdout);
		for (size_t i = 0; i < pim_schema_attribute_count(s); i++) {
			fputs(i ? ",{\"code\":" : "{\"code\":", stdout);
			cli_json_string(stdout, pim_schema_attribute_code(s, i));
			fputs(",\"type\":", stdout);
			cli_json_string(stdout, pim_type_name(
					pim_schema_attribute_type(s, i)));
			fputc('}', stdout);
		}
		fputs("],\"roles\":[", stdout);
		for (size_t i = 0; i < pim_schema_role_count(s); i++) {
			if (i)
				fputc(',', stdout);
			cli_json_string(stdout, pim_schema_role_name(s, i));
		}
		fputs("]}\n", stdout);
	} else {
		size_t len;
		const char *src = pim_schema_source(s, &len);
		fwrite(src, 1, len, stdout);
		if (len && src[len - 1] != '\n')
			fputc('\n', stdout);
	}
	pim_catalog_close(cat);
	return cli_finish_output(cli, EXIT_OK);
}

static int apply_diag(const pim_diag *d, void *ctx)
{
	diag_ctx *dc = ctx;
	dc->errors++;
	if (dc->cli->json) {
		fputs("{\"sku\":", stdout);
		cli_json_string(stdout, d->key ? d->key : "");
		fputs(",\"attribute\":", stdout);
		cli_json_string(stdout, d->attribute ? d->attribute : "");
		fputs(",\"code\":", stdout);
		cli_json_string(stdout, d->code ? d->code : "");
		fputs(",\"message\":", stdout);
		cli_json_string(stdout, d->message);
		fputs(",\"value\":", stdout);
		cli_json_string(stdout, d->value ? d->value : "");
		fputs("}\n", stdout);
	} else if (dc->errors <= 100 || dc->cli->verbose) {
		fprintf(stderr, "pim: %s %s: %s: '%s' [%s]\n",
			d->key ? d->key : "-", d->attribute ? d->attribute : "-",
			d->message, d->value ? d->value : "", d->code);
	}
	return 0;
}

static int schema_apply(pim_cli *cli, int argc, char **argv, struct opts *o)
{
	pim_apply_options ao = PIM_APPLY_OPTIONS_INIT;
	pim_catalog *cat = NULL;
	pim_schema *s = NULL;
	diag_ctx dc = { cli, 0 };
	int rc, changed = 0, code;

	if (argc != 1)
		return cli_usage_error(cli, "schema", usage,
				       "schema apply: give one schema file");
	rc = pim_schema_load_file(&s, argv[0], cli_print_diag, cli);
	if (rc)
		return cli_load_failed(cli, argv[0], rc);
	if ((rc = cli_open_catalog(cli, &cat, 0))) {
		pim_schema_free(s);
		return cli_exit_code(rc);
	}
	ao.force = o->force;
	ao.dry_run = o->dry_run;
	rc = pim_catalog_apply_schema(cat, &changed, s, &ao, apply_diag, &dc);
	if (rc) {
		if (dc.errors > 100 && !cli->verbose && !cli->json)
			fprintf(stderr, "pim: ... and %ld more (-v lists all)\n",
				dc.errors - 100);
		cli_error(cli, "%s", pim_errmsg(cat));
		code = cli_exit_code(rc);
	} else {
		if (!cli->quiet && !cli->json)
			fprintf(stderr, "pim: %s%s\n",
				!changed ? "schema unchanged"
				: o->dry_run ? "schema change would be applied"
					     : "schema applied",
				dc.errors && changed ? " (--force: lost values are in the "
						       "history, invalid ones stay)"
						     : "");
		code = EXIT_OK;
	}
	pim_catalog_close(cat);
	pim_schema_free(s);
	return cli_finish_output(cli, code);
}

int cmd_schema(pim_cli *cli, int argc, char **argv)
{
	static const struct option own[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o = { 0, 0 };
	const char *sub;
	int code;

	code = cli_parse(cli, argc, argv, "schema", usage, help, own, "fn",
			 on_opt, &o);
	if (code >= 0)
		return code;
	if (optind >= argc)
		return cli_usage_error(cli, "schema", usage,
				       "schema: say check, show or apply");
	sub = argv[optind];
	argc -= optind + 1;
	argv += optind + 1;
	if (strcmp(sub, "check") == 0)
		return cli_finish_output(cli, schema_check(cli, argc, argv));
	if (strcmp(sub, "show") == 0)
		return schema_show(cli, argc, argv);
	if (strcmp(sub, "apply") == 0)
		return schema_apply(cli, argc, argv, &o);
	return cli_usage_error(cli, "schema", usage,
			       "schema: unknown subcommand '%s'", sub);
}
