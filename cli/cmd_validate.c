/*
 * cmd_validate.c - `pim validate`: check supplier files against the schema
 * (and a mapping) and report every problem with file, line and column.
 * Writes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
	"usage: pim validate [--mapping M] [--schema FILE] [--format F] "
	"FILE...\n";
static const char help[] =
	"\nCheck supplier files against the schema without writing anything.\n"
	"Uses the catalog's schema (--db), or --schema FILE without a "
	"catalog.\nFILE may be - for standard input.\n\n"
	"options:\n"
	"  -m, --mapping M      the supplier's mapping file (pim-mapping(5));\n"
	"                       without it, headers must be attribute codes\n"
	"  -s, --schema FILE    validate against FILE instead of the catalog\n"
	"  -f, --format F       text (default), json (JSON Lines) or csv\n"
	"  --max-errors N       stop after N errors\n"
	"  --input-format I     csv, jsonl (JSON Lines), xml (pim-xml(5)) or\n"
	"                       bmecat (BMEcat 2005 or 1.2);\n"
	"                       default: by the extension (.jsonl, .ndjson,\n"
	"                       .xml), else csv\n"
	CLI_DIALECT_HELP
	"  -q, --quiet          no summary line\n\n"
	"Diagnostics: FILE:LINE:COL: error[CODE]: message: 'value' (COL is "
	"the\nfield number). Exit 0 when clean (warnings allowed), 1 when "
	"errors were\nfound, 2 for a bad schema, mapping or option, 3 when "
	"a file cannot be read.\nThe codes are listed in pim-validate(1).\n";

enum { FMT_TEXT, FMT_JSON, FMT_CSV };

enum { OPT_MAX_ERRORS = 0x2000, OPT_INPUT_FORMAT };

struct vopts {
	pim_cli *cli;
	const char *mapping;
	const char *schema;
	int format;
	pim_validate_options vo;
	const char *bad;
};

static int on_opt(int opt, const char *arg, void *ctx)
{
	struct vopts *o = ctx;
	unsigned long n;

	switch (opt) {
	case 'm':
		o->mapping = arg;
		return 0;
	case 's':
		o->schema = arg;
		return 0;
	case 'f':
		if (!strcmp(arg, "text"))
			o->format = FMT_TEXT;
		else if (!strcmp(arg, "json") || !strcmp(arg, "jsonl"))
			o->format = FMT_JSON;
		else if (!strcmp(arg, "csv"))
			o->format = FMT_CSV;
		else
			goto bad;
		return 0;
	case OPT_MAX_ERRORS:
		if (cli_parse_ulong(arg, &n) || n == 0)
			goto bad;
		o->vo.max_errors = n;
		return 0;
	case OPT_INPUT_FORMAT:
		if (cli_input_format(arg, &o->vo.format))
			goto bad;
		return 0;
	default:
		switch (cli_dialect_option(&o->vo, opt, arg)) {
		case 0:
			return 0;
		case -1:
			goto bad;
		}
		return EXIT_USAGE;
	}
bad:
	o->bad = arg;
	return cli_usage_error(o->cli, "validate", usage,
			       "validate: bad value '%s' for an option", arg);
}
/* A CSV cell, with spreadsheet formulas neutralised. */
static void csv_cell(FILE *out, const char *s)
{
	int quote = 0;
	if (!s)
		s = "";
	if (strpbrk(s, ",\"\n\r") || (s[0] && strchr("=+-@\t\r", s[0])))
		quote = 1;
	if (quote)
		fputc('"', out);
	if (s[0] && strchr("=+-@\t\r", s[0]))
		fputc('\'', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	if (quote)
		fputc('"', out);
}

static int print_diag(const pim_diag *d, void *ctx)
{
	struct vopts *o = ctx;
	const char *sev = d->severity == PIM_SEV_WARNING ? "warning" : "error";

	if (o->cli->quiet && d->severity == PIM_SEV_WARNING)
		return 0;
	switch (o->format) {
	case FMT_JSON:
		fputs("{\"file\":", stdout);
		cli_json_string(stdout, d->file ? d->file : "");
		printf(",\"line\":%lu,\"field\":%lu,\"column\":", d->line, d->col);
		if (d->column)
			cli_json_string(stdout, d->column);
		else
			fputs("null", stdout);
		fputs(",\"attribute\":", stdout);
		if (d->attribute)
			cli_json_string(stdout, d->attribute);
		else
			fputs("null", stdout);
		fputs(",\"code\":", stdout);
		cli_json_string(stdout, d->code ? d->code : "");
		printf(",\"severity\":\"%s\",\"message\":", sev);
		cli_json_string(stdout, d->message);
		fputs(",\"value\":", stdout);
		if (d->value)
			cli_json_string(stdout, d->value);
		else
			fputs("null", stdout);
		fputs("}\n", stdout);
		break;
	case FMT_CSV:
		csv_cell(stdout, d->file);
		printf(",%lu,%lu,", d->line, d->col);
		csv_cell(stdout, d->column);
		fputc(',', stdout);
		csv_cell(stdout, d->attribute);
		fputc(',', stdout);
		csv_cell(stdout, d->code);
		printf(",%s,", sev);
		csv_cell(stdout, d->message);
		fputc(',', stdout);
		csv_cell(stdout, d->value);
		fputc('\n', stdout);
		break;
	default:
		cli_diag_text(stdout, d);
	}
	return ferror(stdout) ? 1 : 0;
}

static const char *delim_name(char c)
{
	switch (c) {
	case ',': return "','";
	case ';': return "';'";
	case '\t': return "tab";
	case '|': return "'|'";
	case ':': return "':'";
	default: return "?";
	}
}

int cmd_validate(pim_cli *cli, int argc, char **argv)
{
	static const struct option own[] = {
		{ "mapping", required_argument, NULL, 'm' },
		{ "schema", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "max-errors", required_argument, NULL, OPT_MAX_ERRORS },
		{ "input-format", required_argument, NULL, OPT_INPUT_FORMAT },
		CLI_DIALECT_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	pim_validate_options vo0 = PIM_VALIDATE_OPTIONS_INIT;
	struct vopts o;
	pim_schema *own_schema = NULL;
	const pim_schema *schema;
	pim_catalog *cat = NULL;
	pim_mapping *mapping = NULL;
	pim_validate_stats st;
	int rc, code;

	memset(&o, 0, sizeof o);
	o.cli = cli;
	o.vo = vo0;
	code = cli_parse(cli, argc, argv, "validate", usage, help, own, "m:s:f:",
			 on_opt, &o);
	if (code >= 0)
		return code;
	if (cli->json)
		o.format = FMT_JSON;
	if (optind >= argc)
		return cli_usage_error(cli, "validate", usage,
				       "validate: no file given");
	if (o.schema) {
		rc = pim_schema_load_file(&own_schema, o.schema, cli_print_diag,
					  cli);
		if (rc)
			return cli_load_failed(cli, o.schema, rc);
		schema = own_schema;
	} else {
		if ((rc = cli_open_catalog(cli, &cat, 1)))
			return cli_exit_code(rc);
		schema = pim_catalog_schema(cat);
	}
	if (o.mapping) {
		rc = pim_mapping_load_file(&mapping, o.mapping, schema,
					   cli_print_diag, cli);
		if (rc) {
			code = cli_load_failed(cli, o.mapping, rc);
			goto out;
		}
		o.vo.mapping = mapping;
	}
	o.vo.catalog = cat; /* NULL with --schema */
	if (o.format == FMT_CSV)
		puts("file,line,field,column,attribute,code,severity,message,"
		     "value");
	rc = pim_validate(&st, schema, (const char *const *)argv + optind,
			  (size_t)(argc - optind), &o.vo, print_diag, &o);
	if (rc == PIM_ENOMEM || rc == PIM_EINVALID || rc == PIM_ELIMIT) {
		cli_error(cli, "validate: %s", pim_strerror(rc));
		code = cli_exit_code(rc);
		goto out;
	}
	if (!cli->quiet) {
		fflush(stdout);
		fprintf(stderr,
			"pim: %lu file%s, %lu row%s: %lu error%s in %lu row%s, "
			"%lu warning%s",
			st.files, st.files == 1 ? "" : "s", st.rows,
			st.rows == 1 ? "" : "s", st.errors,
			st.errors == 1 ? "" : "s", st.invalid_rows,
			st.invalid_rows == 1 ? "" : "s", st.warnings,
			st.warnings == 1 ? "" : "s");
		if (st.files && st.delimiter) /* none: JSON Lines, XML */
			fprintf(stderr, " (delimiter %s, decimal '%c', %s)",
				delim_name(st.delimiter), st.decimal,
				st.encoding);
		fputc('\n', stderr);
		if (st.stopped)
			fprintf(stderr,
				"pim: stopped after %lu error%s (--max-errors); "
				"there may be more\n",
				st.errors, st.errors == 1 ? "" : "s");
	}
	code = rc == PIM_EIO ? EXIT_RUNTIME : rc == PIM_EDATA ? EXIT_DATA
							     : EXIT_OK;
out:
	pim_mapping_free(mapping);
	pim_schema_free(own_schema);
	pim_catalog_close(cat);
	return cli_finish_output(cli, code);
}
