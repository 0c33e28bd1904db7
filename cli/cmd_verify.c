/*
 * cmd_verify.c - `pim verify`: check the catalog file, every stored value
 * against the schema, unique attributes and the history; one line per
 * problem.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] = "usage: pim verify [--json]\n";
static const char help[] =
	"\nCheck the catalog: the SQLite file (integrity and references), "
	"every\nstored value against the schema, unique attributes, and the "
	"history\n(every change in an existing batch; each value the one its "
	"last recorded\nchange set). Each problem is one line on stdout:\n\n"
	"  SKU ATTRIBUTE: problem: 'value'\n\n"
	"Exit 0 when all is well, 1 when problems were found, 3 when the file "
	"is\ndamaged or cannot be read.\n\noptions:\n"
	"  --json       one JSON object with the problems and the counts\n"
	"  -q, --quiet  no summary line\n";

struct vctx {
	pim_cli *cli;
	unsigned long n;
};

static void json_field(const char *name, const char *v)
{
	printf("\"%s\":", name);
	if (v)
		cli_json_string(stdout, v);
	else
		fputs("null", stdout);
}

static int print_problem(const pim_diag *d, void *ctx)
{
	struct vctx *v = ctx;

	if (v->cli->json) {
		fputs(v->n++ ? ",\n{" : "\n{", stdout);
		json_field("sku", d->key);
		fputc(',', stdout);
		json_field("attribute", d->attribute);
		fputc(',', stdout);
		json_field("code", d->code);
		fputc(',', stdout);
		json_field("message", d->message);
		fputc(',', stdout);
		json_field("value", d->value);
		fputc('}', stdout);
	} else {
		v->n++;
		if (d->key && d->attribute)
			printf("%s %s: %s", d->key, d->attribute, d->message);
		else if (d->key)
			printf("%s: %s", d->key, d->message);
		else if (d->attribute)
			printf("%s: %s: %s", d->file, d->attribute, d->message);
		else
			printf("%s: %s", d->file, d->message);
		if (d->value)
			printf(": '%s'", d->value);
		fputc('\n', stdout);
	}
	return ferror(stdout) ? 1 : 0;
}

static const char *plural(unsigned long n, const char *one,
			  const char *more)
{
	return n == 1 ? one : more;
}

static void print_summary(pim_cli *cli, const pim_verify_stats *s, int rc)
{
	char counts[200];

	if (cli->json) {
		printf("%s],\"products\":%lu,\"values\":%lu,\"history\":%lu,"
		       "\"batches\":%lu,\"ok\":%s}\n",
		       s->problems ? "\n" : "", s->products, s->values,
		       s->history, s->batches,
		       rc == 0 ? "true" : "false");
		return;
	}
	if (cli->quiet)
		return;
	snprintf(counts, sizeof counts, "%lu %s, %lu %s, %lu history %s, %lu %s",
		 s->products, plural(s->products, "product", "products"),
		 s->values, plural(s->values, "value", "values"), s->history,
		 plural(s->history, "row", "rows"), s->batches,
		 plural(s->batches, "batch", "batches"));
	fflush(stdout);
	if (rc == 0)
		fprintf(stderr, "pim: %s: ok: %s\n", cli->db, counts);
	else if (rc == PIM_EDATA)
		fprintf(stderr, "pim: %s: %lu %s in %s\n", cli->db, s->problems,
			plural(s->problems, "problem", "problems"), counts);
}

int cmd_verify(pim_cli *cli, int argc, char **argv)
{
	pim_catalog *cat = NULL;
	pim_verify_stats st;
	struct vctx v = { cli, 0 };
	int rc, code;

	code = cli_parse(cli, argc, argv, "verify", usage, help, NULL, NULL,
			 NULL, NULL);
	if (code >= 0)
		return code;
	if (optind < argc)
		return cli_usage_error(cli, "verify", usage,
				       "verify: unexpected argument '%s'",
				       argv[optind]);
	if ((rc = cli_open_catalog(cli, &cat, 1)))
		return cli_exit_code(rc);
	if (cli->json) {
		fputs("{\"catalog\":", stdout);
		cli_json_string(stdout, cli->db);
		fputs(",\"problems\":[", stdout);
	}
	rc = pim_catalog_verify(cat, &st, print_problem, &v);
	print_summary(cli, &st, rc);
	if (rc && rc != PIM_EDATA)
		cli_error(cli, "%s", pim_errmsg(cat));
	pim_catalog_close(cat);
	return cli_finish_output(cli, cli_exit_code(rc));
}
