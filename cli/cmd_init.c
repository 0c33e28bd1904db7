/*
 * cmd_init.c - `pim init`: create a new catalog from a schema. Never
 * touches an existing file.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* schemas/default.yaml, embedded at build time (build/gen). */
extern const char pim_default_schema[];
extern const unsigned long pim_default_schema_len;

static const char usage[] = "usage: pim init [--schema FILE] [--db PATH]\n";
static const char help[] =
	"\nCreate a new, empty catalog (an SQLite file) and store the schema "
	"in it.\nThe catalog is --db PATH, else $PIM_DB, else ./catalog.db. "
	"An existing file\nis never touched.\n\n"
	"options:\n"
	"  -s, --schema FILE  the schema (default: the built-in default "
	"schema)\n"
	"  --json             print the result as JSON on stdout\n"
	"  -q, --quiet        print nothing but errors\n";

static int on_opt(int opt, const char *arg, void *ctx)
{
	if (opt == 's') {
		*(const char **)ctx = arg;
		return 0;
	}
	return EXIT_USAGE;
}

int cmd_init(pim_cli *cli, int argc, char **argv)
{
	static const struct option own[] = {
		{ "schema", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	const char *schema_path = NULL;
	pim_catalog_options o = PIM_CATALOG_OPTIONS_INIT;
	pim_schema *schema = NULL;
	pim_catalog *cat = NULL;
	int rc, code;

	code = cli_parse(cli, argc, argv, "init", usage, help, own, "s:",
			 on_opt, &schema_path);
	if (code >= 0)
		return code;
	if (optind < argc)
		return cli_usage_error(cli, "init", usage,
				       "init: unexpected argument '%s'",
				       argv[optind]);
	if (schema_path)
		rc = pim_schema_load_file(&schema, schema_path, cli_print_diag,
					  cli);
	else
		rc = pim_schema_load_buffer(&schema, "(default schema)",
					    pim_default_schema,
					    pim_default_schema_len,
					    cli_print_diag, cli);
	if (rc) {
		if (rc == PIM_EPARSE)
			cli_error(cli, "%s: schema has errors; nothing created",
				  schema_path ? schema_path : "default schema");
		return cli_load_failed(cli, schema_path ? schema_path
							: "default schema",
				       rc);
	}
	o.create = 1;
	o.user = cli->user;
	o.role = cli->role;
	rc = pim_catalog_open(&cat, cli->db, &o, schema);
	if (rc) {
		cli_error(cli, "%s", cat ? pim_errmsg(cat) : pim_strerror(rc));
		code = cli_exit_code(rc);
		goto out;
	}
	if (cli->json) {
		fputs("{\"catalog\":", stdout);
		cli_json_string(stdout, cli->db);
		fputs(",\"schema\":", stdout);
		cli_json_string(stdout, pim_schema_name(schema));
		printf(",\"attributes\":%zu,\"roles\":%zu}\n",
		       pim_schema_attribute_count(schema),
		       pim_schema_role_count(schema));
	} else if (!cli->quiet)
		fprintf(stderr,
			"pim: created %s (schema '%s': %zu attribute%s, %zu "
			"role%s)\n",
			cli->db, pim_schema_name(schema),
			pim_schema_attribute_count(schema),
			pim_schema_attribute_count(schema) == 1 ? "" : "s",
			pim_schema_role_count(schema),
			pim_schema_role_count(schema) == 1 ? "" : "s");
	code = EXIT_OK;
out:
	pim_catalog_close(cat);
	pim_schema_free(schema);
	return cli_finish_output(cli, code);
}
