/*
 * cmd_rules.c - `pim rules`: check a rules file against the catalog's
 * schema, store it in the catalog (so that `pim enrich` and cron jobs need
 * no path), and print the stored rules.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
	"usage: pim rules check FILE\n"
	"       pim rules apply FILE\n"
	"       pim rules show\n";
static const char help[] =
	"\nEnrichment rules (pim-rules(5)) and the catalog:\n\n"
	"  check FILE  check FILE against the catalog's schema; every problem\n"
	"              as FILE:LINE:COL; writes nothing\n"
	"  apply FILE  check FILE and store it in the catalog, replacing the\n"
	"              rules stored before; pim enrich uses them by default\n"
	"  show        print the stored rules file\n"
	"\nExit 0 when done, 2 for a bad rules file or no stored rules, 3 when\n"
	"the catalog cannot be read or written.\n";

static int on_opt(int opt, const char *arg, void *ctx)
{
	(void)opt;
	(void)arg;
	(void)ctx;
	return EXIT_USAGE;
}

int cmd_rules(pim_cli *cli, int argc, char **argv)
{
	static const struct option own[] = { { NULL, 0, NULL, 0 } };
	pim_catalog *cat = NULL;
	pim_rules *rules = NULL;
	const char *sub, *file = NULL;
	int rc, code, show;

	code = cli_parse(cli, argc, argv, "rules", usage, help, own, "", on_opt,
			 NULL);
	if (code >= 0)
		return code;
	if (optind >= argc)
		return cli_usage_error(cli, "rules", usage,
				       "rules: give check, apply or show");
	sub = argv[optind];
	show = !strcmp(sub, "show");
	if (!show && strcmp(sub, "check") && strcmp(sub, "apply"))
		return cli_usage_error(cli, "rules", usage,
				       "rules: unknown subcommand '%s'", sub);
	if (show && argc - optind != 1)
		return cli_usage_error(cli, "rules", usage,
				       "rules show: takes no argument");
	if (!show) {
		if (argc - optind != 2)
			return cli_usage_error(cli, "rules", usage,
					       "rules %s: give one FILE", sub);
		file = argv[optind + 1];
	}
	if ((rc = cli_open_catalog(cli, &cat, !strcmp(sub, "apply") ? 0 : 1)))
		return cli_exit_code(rc);
	if (show) {
		size_t len;
		const char *src;
		rc = pim_rules_load_stored(&rules, cat, NULL, NULL);
		if (rc == PIM_ENOTFOUND || rc == PIM_EPARSE) {
			/* stored text that no longer loads is still shown */
			cli_error(cli, "%s", pim_errmsg(cat));
			code = EXIT_USAGE;
			goto out;
		}
		if (rc) {
			cli_error(cli, "%s", pim_errmsg(cat));
			code = cli_exit_code(rc);
			goto out;
		}
		src = pim_rules_source(rules, &len);
		fwrite(src, 1, len, stdout);
		if (len && src[len - 1] != '\n')
			fputc('\n', stdout);
		code = EXIT_OK;
		goto out;
	}
	rc = pim_rules_load_file(&rules, cat, file, cli_print_diag, cli);
	if (rc) {
		code = cli_load_failed(cli, file, rc);
		goto out;
	}
	if (!strcmp(sub, "apply")) {
		if ((rc = pim_rules_store(cat, rules))) {
			cli_error(cli, "%s", pim_errmsg(cat));
			code = cli_exit_code(rc);
			goto out;
		}
		if (!cli->quiet)
			fprintf(stderr, "pim: %s: %zu rule%s stored in the "
					"catalog\n",
				file, pim_rules_count(rules),
				pim_rules_count(rules) == 1 ? "" : "s");
	} else if (!cli->quiet) {
		fprintf(stderr, "pim: %s: %zu rule%s, ok\n", file,
			pim_rules_count(rules),
			pim_rules_count(rules) == 1 ? "" : "s");
	}
	code = EXIT_OK;
out:
	pim_rules_free(rules);
	pim_catalog_close(cat);
	return cli_finish_output(cli, code);
}
