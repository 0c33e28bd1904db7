/*
 * cmd_show.c - `pim show`: one product as a role sees it, labelled in a
 * locale, with the role's completeness and its missing values marked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
	"usage: pim show SKU [--role R] [--locale L] [--json]\n";
static const char help[] =
	"\nShow one product: the role's attributes in the role's order, "
	"labelled\nin the locale, with measures in their units and prices in "
	"their\ncurrencies. Required values the product lacks are marked, and "
	"the\nrole's completeness is floor(100 x filled required / required).\n"
	"Without a role, every attribute (and no completeness).\n\noptions:\n"
	"  --role R        the role's view (default $PIM_ROLE)\n"
	"  -l, --locale L  labels and localizable values in this locale\n"
	"  --json          one JSON object, values typed\n"
	"\nexit status: 0 shown, 1 no such product, 2 unknown role or "
	"locale.\n";

struct sopts {
	pim_cli *cli;
	const char *locale;
	const pim_view *view;
	int found;
};

static int on_opt(int opt, const char *arg, void *ctx)
{
	struct sopts *o = ctx;

	switch (opt) {
	case 'l':
		o->locale = arg;
		return 0;
	}
	return EXIT_USAGE;
}

static void show_json(const struct sopts *o, const pim_product_row *p)
{
	const pim_view *v = o->view;
	size_t n = pim_view_column_count(v);
	const char *role = pim_view_role(v);
	int first = 1;

	fputs("{\"sku\":", stdout);
	cli_json_string(stdout, p->key);
	fputs(",\"family\":", stdout);
	cli_json_value(stdout, PIM_TYPE_TEXT, p->family);
	printf(",\"archived\":%s,\"updated_at\":", p->archived ? "true" : "false");
	cli_json_value(stdout, PIM_TYPE_TEXT, p->updated_at);
	fputs(",\"role\":", stdout);
	cli_json_value(stdout, PIM_TYPE_TEXT, role);
	fputs(",\"locale\":", stdout);
	cli_json_value(stdout, PIM_TYPE_TEXT, o->locale);
	if (role)
		printf(",\"completeness\":%d,\"required\":%zu,\"missing\":%zu",
		       p->completeness, p->required, p->missing);
	fputs(",\"attributes\":[", stdout);
	for (size_t i = 0; i < n; i++) {
		const pim_view_column *c = pim_view_column_at(v, i);
		printf("%s{\"attribute\":", first ? "" : ",");
		first = 0;
		cli_json_string(stdout, c->code);
		if (c->locale) {
			fputs(",\"locale\":", stdout);
			cli_json_string(stdout, c->locale);
		}
		fputs(",\"label\":", stdout);
		cli_json_string(stdout, c->label);
		fprintf(stdout, ",\"type\":\"%s\",\"value\":",
			pim_type_name(c->type));
		cli_json_value(stdout, c->type, p->value[i]);
		if (role)
			printf(",\"required\":%s,\"editable\":%s",
			       c->required ? "true" : "false",
			       c->editable ? "true" : "false");
		if (c->required && !p->value[i])
			fputs(",\"missing\":true", stdout);
		fputc('}', stdout);
	}
	fputs("]}\n", stdout);
}

static void show_text(const struct sopts *o, const pim_product_row *p)
{
	const pim_view *v = o->view;
	size_t n = pim_view_column_count(v), width = 0;
	const char *role = pim_view_role(v);
	char buf[512], label[256];

	printf("%s", p->key);
	if (p->family)
		printf("  (family %s)", p->family);
	if (p->archived)
		fputs("  [archived]", stdout);
	putchar('\n');
	if (role) {
		printf("view: %s%s%s; complete: %d%%", role,
		       o->locale ? ", " : "", o->locale ? o->locale : "",
		       p->completeness);
		if (p->missing)
			printf(" (%zu of %zu required values missing)",
			       p->missing, p->required);
		putchar('\n');
	} else {
		printf("view: all attributes%s%s\n", o->locale ? ", " : "",
		       o->locale ? o->locale : "");
	}
	for (size_t i = 0; i < n; i++) {
		const pim_view_column *c = pim_view_column_at(v, i);
		size_t w = cli_text_width(c->label) +
			   (c->locale && !o->locale ? strlen(c->locale) + 3 : 0);
		if (w > width)
			width = w;
	}
	for (size_t i = 0; i < n; i++) {
		const pim_view_column *c = pim_view_column_at(v, i);
		const char *t = cli_value_text(buf, sizeof buf, c, p->value[i]);
		if (c->locale && !o->locale)
			snprintf(label, sizeof label, "%s (%s)", c->label,
				 c->locale);
		else
			snprintf(label, sizeof label, "%s", c->label);
		fputs("  ", stdout);
		cli_pad(stdout, label, width + 2);
		if (t)
			fputs(t, stdout);
		else if (c->required)
			fputs("(missing, required)", stdout);
		else
			fputs("-", stdout);
		putchar('\n');
	}
}

static int on_product(const pim_product_row *p, void *ctx)
{
	struct sopts *o = ctx;

	o->found = 1;
	if (o->cli->json)
		show_json(o, p);
	else
		show_text(o, p);
	return 1;
}

int cmd_show(pim_cli *cli, int argc, char **argv)
{
	static const struct option own[] = {
		{ "locale", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 }
	};
	pim_select sel = PIM_SELECT_INIT;
	struct sopts o;
	pim_catalog *cat = NULL;
	pim_view *view = NULL;
	int rc, code;

	memset(&o, 0, sizeof o);
	o.cli = cli;
	code = cli_parse(cli, argc, argv, "show", usage, help, own, "l:",
			 on_opt, &o);
	if (code >= 0)
		return code;
	if (optind + 1 != argc)
		return cli_usage_error(cli, "show", usage,
				       "show: give exactly one SKU");
	if ((rc = cli_open_catalog(cli, &cat, 1)))
		return cli_exit_code(rc);
	if ((rc = pim_view_new(&view, cat, cli->role, o.locale, NULL))) {
		cli_error(cli, "%s", pim_errmsg(cat));
		pim_catalog_close(cat);
		return cli_exit_code(rc);
	}
	o.view = view;
	sel.key = argv[optind];
	sel.archived = 1;
	rc = pim_catalog_select(cat, view, &sel, on_product, &o, NULL);
	if (rc) {
		cli_error(cli, "%s", pim_errmsg(cat));
		code = cli_exit_code(rc);
	} else if (!o.found) {
		cli_error(cli, "no product '%s' in %s", argv[optind], cli->db);
		code = EXIT_DATA;
	} else {
		code = EXIT_OK;
	}
	pim_view_free(view);
	pim_catalog_close(cat);
	return cli_finish_output(cli, code);
}
