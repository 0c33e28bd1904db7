/*
 * cmd_history.c - `pim history`: the attribute-level audit trail of a
 * product, an attribute or a batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
	"usage: pim history [SKU] [--attribute A] [--batch N] [--limit N] "
	"[--json]\n";
static const char help[] =
	"\nShow every recorded change: time, batch, SKU, attribute, old and new\n"
	"value, source (file:line, rule or command), user and role. With a SKU,\n"
	"the values the product was created with come first (source "
	"'created').\n\noptions:\n"
	"  -a, --attribute A  only this attribute (code or code@locale)\n"
	"  -b, --batch N      only this batch\n"
	"  -n, --limit N      at most N changes\n"
	"  --json             one JSON object per change (JSON Lines)\n";

struct hopts {
	pim_history_query q;
	int bad;
};

static int on_opt(int opt, const char *arg, void *ctx)
{
	struct hopts *o = ctx;
	unsigned long n;

	switch (opt) {
	case 'a':
		o->q.attribute = arg;
		return 0;
	case 'b':
		if (cli_parse_ulong(arg, &n) || n == 0)
			break;
		o->q.batch = (long long)n;
		return 0;
	case 'n':
		if (cli_parse_ulong(arg, &n))
			break;
		o->q.limit = n;
		return 0;
	}
	o->bad = 1;
	return EXIT_USAGE;
}

static void jfield(const char *name, const char *v)
{
	printf(",\"%s\":", name);
	if (v)
		cli_json_string(stdout, v);
	else
		fputs("null", stdout);
}

static int print_entry(const pim_history_entry *e, void *ctx)
{
	pim_cli *cli = ctx;

	if (cli->json) {
		printf("{\"batch\":%lld", e->batch);
		jfield("at", e->at);
		jfield("sku", e->sku);
		jfield("attribute", e->attribute);
		jfield("old", e->old);
		jfield("new", e->new_value);
		jfield("source", e->source);
		jfield("user", e->user);
		jfield("role", e->role);
		fputs("}\n", stdout);
	} else {
		printf("%s  batch %lld  %s %s: %s \xE2\x86\x92 %s  (%s, %s%s%s)\n",
		       e->at ? e->at : "-", e->batch, e->sku, e->attribute,
		       e->old ? e->old : "(empty)",
		       e->new_value ? e->new_value : "(empty)",
		       e->source ? e->source : "-", e->user ? e->user : "-",
		       e->role ? ", role " : "", e->role ? e->role : "");
	}
	return ferror(stdout) ? 1 : 0;
}

int cmd_history(pim_cli *cli, int argc, char **argv)
{
	static const struct option own[] = {
		{ "attribute", required_argument, NULL, 'a' },
		{ "batch", required_argument, NULL, 'b' },
		{ "limit", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	pim_history_query q0 = PIM_HISTORY_QUERY_INIT;
	struct hopts o;
	pim_catalog *cat = NULL;
	int rc, code;

	memset(&o, 0, sizeof o);
	o.q = q0;
	code = cli_parse(cli, argc, argv, "history", usage, help, own, "a:b:n:",
			 on_opt, &o);
	if (code == EXIT_USAGE && o.bad)
		return cli_usage_error(cli, "history", usage,
				       "history: bad number");
	if (code >= 0)
		return code;
	if (optind < argc)
		o.q.sku = argv[optind++];
	if (optind < argc)
		return cli_usage_error(cli, "history", usage,
				       "history: give at most one SKU");
	if ((rc = cli_open_catalog(cli, &cat, 1)))
		return cli_exit_code(rc);
	rc = pim_catalog_history(cat, &o.q, print_entry, cli);
	if (rc)
		cli_error(cli, "%s", pim_errmsg(cat));
	pim_catalog_close(cat);
	return cli_finish_output(cli, cli_exit_code(rc));
}
