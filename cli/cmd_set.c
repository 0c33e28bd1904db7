/*
 * cmd_set.c - `pim set`: change values of one product by hand, checked
 * like an import and held to the role's rights, as one batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
	"usage: pim set SKU ATTRIBUTE=VALUE... [--role R] [--locale L]\n";
static const char help[] =
	"\nSet values of one product. Each value is parsed and checked as an\n"
	"import checks it (type, constraints, uniqueness, the schema's "
	"checks);\nif any is wrong nothing is written. An empty value "
	"(ATTRIBUTE=) clears\none that is not required. Localizable "
	"attributes take a locale as\nname@nb_NO=...; without one, --locale "
	"or the schema's first locale.\nWith a role (--role or $PIM_ROLE), "
	"attributes outside the role's edit\nlist are refused. The change is "
	"one batch in pim log; pim undo reverts it.\n\noptions:\n"
	"  -l, --locale L  the locale of localizable attributes given without "
	"one\n"
	"\nexit status: 0 set (or nothing to change), 1 a value is wrong, the "
	"role\nmay not edit it, or no such product; 2 usage; 3 runtime.\n";

struct setopts {
	pim_cli *cli;
	const char *locale;
	const char *sku;
};

static int on_opt(int opt, const char *arg, void *ctx)
{
	struct setopts *o = ctx;

	if (opt == 'l') {
		o->locale = arg;
		return 0;
	}
	return EXIT_USAGE;
}

static int on_diag(const pim_diag *d, void *ctx)
{
	(void)ctx;
	fflush(stdout);
	cli_key_diag_text(stderr, d);
	return 0;
}

int cmd_set(pim_cli *cli, int argc, char **argv)
{
	static const struct option own[] = {
		{ "locale", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 }
	};
	struct setopts o;
	pim_catalog *cat = NULL;
	pim_view *check = NULL;
	long long batch = 0;
	int rc, code;

	memset(&o, 0, sizeof o);
	o.cli = cli;
	code = cli_parse(cli, argc, argv, "set", usage, help, own, "l:",
			 on_opt, &o);
	if (code >= 0)
		return code;
	if (argc - optind < 2)
		return cli_usage_error(cli, "set", usage,
				       "set: give a SKU and at least one "
				       "ATTRIBUTE=VALUE");
	o.sku = argv[optind];
	if ((rc = cli_open_catalog(cli, &cat, 0)))
		return cli_exit_code(rc);
	/* an unknown role or locale is a usage error, found before anything
	 * else */
	if ((rc = pim_view_new(&check, cat, cli->role, o.locale, NULL))) {
		cli_error(cli, "%s", pim_errmsg(cat));
		pim_catalog_close(cat);
		return EXIT_USAGE;
	}
	pim_view_free(check);
	rc = pim_catalog_set(cat, &batch, o.sku,
			     (const char *const *)argv + optind + 1,
			     (size_t)(argc - optind - 1), o.locale, on_diag, &o);
	if (rc == PIM_ENOTFOUND) {
		cli_error(cli, "%s", pim_errmsg(cat));
		code = EXIT_DATA;
	} else if (rc) {
		cli_error(cli, "%s", pim_errmsg(cat));
		code = cli_exit_code(rc);
	} else {
		code = EXIT_OK;
		if (cli->json) {
			fputs("{\"sku\":", stdout);
			cli_json_string(stdout, o.sku);
			if (batch)
				printf(",\"batch\":%lld}\n", batch);
			else
				fputs(",\"batch\":null}\n", stdout);
		}
		else if (!cli->quiet && batch)
			fprintf(stderr, "pim: %s: changed (batch %lld; pim undo "
					"%lld reverts it)\n",
				o.sku, batch, batch);
		else if (!cli->quiet)
			fprintf(stderr, "pim: %s: nothing to change\n", o.sku);
	}
	pim_catalog_close(cat);
	return cli_finish_output(cli, code);
}
