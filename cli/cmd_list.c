/*
 * cmd_list.c - `pim list`: products as rows of a role's view, filtered
 * with a --where expression that runs in SQL, streamed as a table, CSV or
 * JSON Lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
	"usage: pim list [--role R] [--where EXPR] [--columns A,B,...] "
	"[--locale L]\n"
	"                [--format table|csv|jsonl] [--limit N] [--archived] "
	"[--explain]\n";
static const char help[] =
	"\nList products, sorted by SKU, as rows of the role's view (every\n"
	"attribute without a role). EXPR filters them; see pim-where(7):\n"
	"  color = red and cost_price > 1000 NOK\n"
	"  name ~ \"eik bord\" or category under home/sofa\n"
	"  incomplete for sales and updated since 2026-11-01\n"
	"\noptions:\n"
	"  -w, --where EXPR     only products matching EXPR\n"
	"  -c, --columns LIST   these columns (code or code@locale), "
	"comma-separated\n"
	"  -l, --locale L       labels and localizable columns in this locale\n"
	"  -f, --format F       table (default), csv or jsonl (also --json)\n"
	"  -n, --limit N        at most N products\n"
	"  --archived           include archived products\n"
	"  --raw                CSV: do not neutralise spreadsheet formulas\n"
	"  --explain            print how the catalog runs the query, not the "
	"products\n"
	"\nA bad expression is exit 2 with the column of the mistake.\n";

enum { FMT_TABLE, FMT_CSV, FMT_JSONL };
enum { OPT_ARCHIVED = 0x2000, OPT_EXPLAIN, OPT_RAW };

#define TABLE_SAMPLE 200 /* rows read before the column widths are fixed */
#define TABLE_MAX_WIDTH 40

struct lopts {
	pim_cli *cli;
	pim_select sel;
	const char *columns;
	const char *locale;
	int format;
	int explain;
	int raw;
	const pim_view *view;
	size_t ncol;
	/* table: the first rows, kept to size the columns */
	char **held;
	size_t n_held;
	size_t *width;
	int header_done;
	unsigned long rows;
};

static int on_opt(int opt, const char *arg, void *ctx)
{
	struct lopts *o = ctx;
	unsigned long n;

	switch (opt) {
	case 'w':
		o->sel.where = arg;
		return 0;
	case 'c':
		o->columns = arg;
		return 0;
	case 'l':
		o->locale = arg;
		return 0;
	case 'f':
		if (!strcmp(arg, "table"))
			o->format = FMT_TABLE;
		else if (!strcmp(arg, "csv"))
			o->format = FMT_CSV;
		else if (!strcmp(arg, "jsonl"))
			o->format = FMT_JSONL;
		else
			return cli_usage_error(o->cli, "list", usage,
					       "list: unknown format '%s' "
					       "(table, csv, jsonl)",
					       arg);
		return 0;
	case 'n':
		if (cli_parse_ulong(arg, &n) || n == 0)
			return cli_usage_error(o->cli, "list", usage,
					       "list: bad number '%s'", arg);
		o->sel.limit = n;
		return 0;
	case OPT_ARCHIVED:
		o->sel.archived = 1;
		return 0;
	case OPT_EXPLAIN:
		o->explain = 1;
		return 0;
	case OPT_RAW:
		o->raw = 1;
		return 0;
	}
	return EXIT_USAGE;
}

/* ---- csv and jsonl: one row at a time ----------------------------------- */

static void csv_header(struct lopts *o)
{
	for (size_t i = 0; i < o->ncol; i++) {
		if (i)
			fputc(',', stdout);
		cli_csv_cell(stdout, pim_view_column_at(o->view, i)->name, ',',
			     o->raw);
	}
	fputs("\r\n", stdout);
}

static void csv_row(struct lopts *o, const pim_product_row *p)
{
	for (size_t i = 0; i < o->ncol; i++) {
		if (i)
			fputc(',', stdout);
		cli_csv_cell(stdout, p->value[i], ',', o->raw);
	}
	fputs("\r\n", stdout);
}

static void jsonl_row(struct lopts *o, const pim_product_row *p)
{
	int first = 1;

	fputc('{', stdout);
	for (size_t i = 0; i < o->ncol; i++) {
		const pim_view_column *c = pim_view_column_at(o->view, i);
		if (!p->value[i])
			continue;
		if (!first)
			fputc(',', stdout);
		first = 0;
		cli_json_string(stdout, c->name);
		fputc(':', stdout);
		cli_json_value(stdout, c->type, p->value[i]);
	}
	if (pim_view_role(o->view))
		printf("%s\"_completeness\":%d", first ? "" : ",",
		       p->completeness);
	fputs("}\n", stdout);
}

/* ---- table: widths from the first rows, then streamed --------------------- */

static size_t table_cols(const struct lopts *o)
{
	return o->ncol + (pim_view_role(o->view) ? 1 : 0);
}

static void table_cell(const char *s, size_t width, int last)
{
	size_t w = cli_text_width(s);

	if (w > width) {
		/* cut to width - 1 characters and mark the cut */
		size_t chars = 0, i = 0;
		while (s[i] && chars < width - 1) {
			i++;
			while (((unsigned char)s[i] & 0xC0) == 0x80)
				i++;
			chars++;
		}
		fwrite(s, 1, i, stdout);
		fputs("\xE2\x80\xA6", stdout);
	} else if (last) {
		fputs(s, stdout);
	} else {
		cli_pad(stdout, s, width);
	}
	if (!last)
		fputs("  ", stdout);
}

static void table_line(struct lopts *o, char **cells)
{
	size_t n = table_cols(o);

	for (size_t i = 0; i < n; i++)
		table_cell(cells[i] ? cells[i] : "", o->width[i], i + 1 == n);
	putchar('\n');
}

/* The cells of a row as display text, into freshly allocated strings. */
static int row_cells(struct lopts *o, const pim_product_row *p, char **cells)
{
	char buf[512];

	for (size_t i = 0; i < o->ncol; i++) {
		const pim_view_column *c = pim_view_column_at(o->view, i);
		const char *t = cli_value_text(buf, sizeof buf, c, p->value[i]);
		if (!(cells[i] = strdup(t ? t : "")))
			return -1;
	}
	if (pim_view_role(o->view)) {
		snprintf(buf, sizeof buf, "%d%%", p->completeness);
		if (!(cells[o->ncol] = strdup(buf)))
			return -1;
	}
	return 0;
}

static void free_cells(char **cells, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(cells[i]);
}

static void table_flush(struct lopts *o)
{
	size_t n = table_cols(o);
	char **head;

	if (o->header_done)
		return;
	o->header_done = 1;
	head = calloc(n + 1, sizeof *head);
	if (!head)
		return;
	for (size_t i = 0; i < o->ncol; i++) {
		const pim_view_column *c = pim_view_column_at(o->view, i);
		char label[256];
		/* every locale shown: say which column is which */
		if (c->locale && !o->locale)
			snprintf(label, sizeof label, "%s (%s)", c->label,
				 c->locale);
		else
			snprintf(label, sizeof label, "%s", c->label);
		head[i] = strdup(label);
	}
	if (n > o->ncol)
		head[o->ncol] = strdup("complete");
	for (size_t i = 0; i < n; i++) {
		size_t w = cli_text_width(head[i]);
		if (w > o->width[i])
			o->width[i] = w;
		if (o->width[i] > TABLE_MAX_WIDTH)
			o->width[i] = TABLE_MAX_WIDTH;
	}
	table_line(o, head);
	free_cells(head, n);
	free(head);
	for (size_t r = 0; r < o->n_held; r++) {
		table_line(o, o->held + r * n);
		free_cells(o->held + r * n, n);
	}
	free(o->held);
	o->held = NULL;
	o->n_held = 0;
}

static int table_row(struct lopts *o, const pim_product_row *p)
{
	size_t n = table_cols(o);
	char **cells;

	if (!o->header_done) {
		cells = o->held + o->n_held * n;
		if (row_cells(o, p, cells))
			return -1;
		o->n_held++;
		for (size_t i = 0; i < n; i++) {
			size_t w = cli_text_width(cells[i]);
			if (w > o->width[i])
				o->width[i] = w;
		}
		if (o->n_held == TABLE_SAMPLE)
			table_flush(o);
		return 0;
	}
	cells = calloc(n + 1, sizeof *cells);
	if (!cells || row_cells(o, p, cells)) {
		if (cells)
			free_cells(cells, n);
		free(cells);
		return -1;
	}
	table_line(o, cells);
	free_cells(cells, n);
	free(cells);
	return 0;
}

static int on_product(const pim_product_row *p, void *ctx)
{
	struct lopts *o = ctx;

	if (o->rows++ == 0 && o->format == FMT_CSV)
		csv_header(o);
	switch (o->format) {
	case FMT_CSV:
		csv_row(o, p);
		break;
	case FMT_JSONL:
		jsonl_row(o, p);
		break;
	default:
		if (table_row(o, p)) {
			cli_error(o->cli, "out of memory");
			return 1;
		}
	}
	return ferror(stdout) ? 1 : 0;
}

static int on_plan(const char *line, void *ctx)
{
	(void)ctx;
	puts(line);
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

int cmd_list(pim_cli *cli, int argc, char **argv)
{
	static const struct option own[] = {
		{ "where", required_argument, NULL, 'w' },
		{ "columns", required_argument, NULL, 'c' },
		{ "locale", required_argument, NULL, 'l' },
		{ "format", required_argument, NULL, 'f' },
		{ "limit", required_argument, NULL, 'n' },
		{ "archived", no_argument, NULL, OPT_ARCHIVED },
		{ "explain", no_argument, NULL, OPT_EXPLAIN },
		{ "raw", no_argument, NULL, OPT_RAW },
		{ NULL, 0, NULL, 0 }
	};
	pim_select sel0 = PIM_SELECT_INIT;
	pim_where_error werr;
	struct lopts o;
	pim_catalog *cat = NULL;
	pim_view *view = NULL;
	int rc, code;

	memset(&o, 0, sizeof o);
	o.cli = cli;
	o.sel = sel0;
	o.format = -1;
	code = cli_parse(cli, argc, argv, "list", usage, help, own,
			 "w:c:l:f:n:", on_opt, &o);
	if (code >= 0)
		return code;
	if (optind < argc)
		return cli_usage_error(cli, "list", usage,
				       "list: unexpected argument '%s'",
				       argv[optind]);
	if (o.format < 0)
		o.format = cli->json ? FMT_JSONL : FMT_TABLE;
	if ((rc = cli_open_catalog(cli, &cat, 1)))
		return cli_exit_code(rc);
	if ((rc = pim_view_new(&view, cat, cli->role, o.locale, o.columns))) {
		cli_error(cli, "%s", pim_errmsg(cat));
		pim_catalog_close(cat);
		return cli_exit_code(rc);
	}
	o.view = view;
	o.ncol = pim_view_column_count(view);
	o.width = calloc(o.ncol + 2, sizeof *o.width);
	o.held = calloc((o.ncol + 1) * TABLE_SAMPLE + 1, sizeof *o.held);
	if (!o.width || !o.held) {
		cli_error(cli, "out of memory");
		code = EXIT_RUNTIME;
		goto out;
	}
	if (o.explain) {
		rc = pim_catalog_explain(cat, view, &o.sel, on_plan, NULL, &werr);
	} else {
		rc = pim_catalog_select(cat, view, &o.sel, on_product, &o,
					&werr);
		if (rc == 0 && o.format == FMT_TABLE)
			table_flush(&o);
		if (rc == 0 && o.format == FMT_CSV && o.rows == 0)
			csv_header(&o);
	}
	if (rc == PIM_EPARSE) {
		cli_error(cli, "--where: column %lu: %s", werr.col, werr.message);
		point_at(o.sel.where, werr.col);
		code = EXIT_USAGE;
	} else if (rc) {
		cli_error(cli, "%s", pim_errmsg(cat));
		code = cli_exit_code(rc);
	} else {
		code = EXIT_OK;
	}
out:
	if (o.held)
		free_cells(o.held, o.n_held * table_cols(&o));
	free(o.held);
	free(o.width);
	pim_view_free(view);
	pim_catalog_close(cat);
	return cli_finish_output(cli, code);
}
