/*
 * cmd_report.c - `pim report`: the data-quality report (pim_report_run) as
 * terminal tables, JSON, CSV (one figure a row) or one self-contained HTML
 * page with inline SVG charts; thresholds for cron (--fail-under), saved
 * runs (--save) and their trend (--trend).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
	"usage: pim report [--role R] [--where EXPR] [--format text|json|csv|html]\n"
	"                  [-o FILE] [--fail-under N] [--fail-under ROLE=N]...\n"
	"                  [--stale-days N] [--save] [--trend] [--details [N]]\n"
	"                  [--no-channel]\n";
static const char help[] =
	"\nMeasure the catalog's data quality: completeness per role, locale,\n"
	"family and attribute; values the current schema no longer accepts;\n"
	"duplicates; the schema's checks and sellable products that are not\n"
	"ready; stale products; categories with nothing to sell; a score per\n"
	"role and overall, graded A (>= 90) to E (< 60). See pim-report(1).\n"
	"\noptions:\n"
	"  -w, --where EXPR      only products matching EXPR (pim-where(7))\n"
	"  -f, --format F        text (default), json (also --json), csv, html\n"
	"  -o, --output FILE     write to FILE (replaced whole), not stdout\n"
	"  --fail-under N        exit 1 when the overall score is under N\n"
	"  --fail-under ROLE=N   exit 1 when ROLE's score is under N "
	"(repeatable)\n"
	"  --stale-days N        not changed for N days is stale (default 180)\n"
	"  --save                store the figures in the catalog for --trend\n"
	"  --trend               show how the score and completeness moved\n"
	"  --details [N]         name the first N products behind each figure\n"
	"                        (default 10; every one with --format csv)\n"
	"  --no-channel          leave out channel readiness (the merchant "
	"feed check)\n";

enum { FMT_TEXT, FMT_JSON, FMT_CSV, FMT_HTML };
enum {
	OPT_FAIL = 0x2000,
	OPT_STALE,
	OPT_SAVE,
	OPT_TREND,
	OPT_DETAILS,
	OPT_NO_CHANNEL
};

#define MAX_FAIL 32
#define DEFAULT_DETAILS 10

typedef struct threshold {
	const char *role; /* NULL: overall */
	double min;
} threshold;

/* A saved run, kept for the trend. */
typedef struct run {
	long long id;
	char at[32];
	unsigned long long products;
	double score;
	double *score_r, *complete_r; /* per role of the schema */
} run;

struct ropts {
	pim_cli *cli;
	pim_report_options ro;
	int format;
	const char *output;
	threshold fail[MAX_FAIL];
	size_t n_fail;
	int save, trend, details_set;
	unsigned long details;
	/* the trend */
	run *runs;
	size_t n_runs;
	size_t n_roles;
	const char **roles;
	int oom;
};

static int on_opt(int opt, const char *arg, void *ctx)
{
	struct ropts *o = ctx;
	unsigned long n;
	const char *eq;
	char *end;
	double d;

	switch (opt) {
	case 'w':
		o->ro.where = arg;
		return 0;
	case 'o':
		o->output = arg;
		return 0;
	case 'f':
		if (!strcmp(arg, "text"))
			o->format = FMT_TEXT;
		else if (!strcmp(arg, "json"))
			o->format = FMT_JSON;
		else if (!strcmp(arg, "csv"))
			o->format = FMT_CSV;
		else if (!strcmp(arg, "html"))
			o->format = FMT_HTML;
		else
			return cli_usage_error(o->cli, "report", usage,
					       "report: unknown format '%s' "
					       "(text, json, csv, html)",
					       arg);
		return 0;
	case OPT_FAIL:
		if (o->n_fail == MAX_FAIL)
			return cli_usage_error(o->cli, "report", usage,
					       "report: too many --fail-under");
		eq = strchr(arg, '=');
		errno = 0;
		d = strtod(eq ? eq + 1 : arg, &end);
		if (*end || errno || end == (eq ? eq + 1 : arg) || d < 0 ||
		    d > 100 || (eq && eq == arg))
			return cli_usage_error(o->cli, "report", usage,
					       "report: --fail-under: expected N "
					       "or ROLE=N with N from 0 to 100, "
					       "not '%s'",
					       arg);
		o->fail[o->n_fail].role = NULL;
		if (eq) {
			char *r = strdup(arg);
			if (!r)
				return EXIT_RUNTIME;
			r[eq - arg] = '\0';
			o->fail[o->n_fail].role = r;
		}
		o->fail[o->n_fail++].min = d;
		return 0;
	case OPT_STALE:
		if (cli_parse_ulong(arg, &n) || n == 0 || n > 100000)
			return cli_usage_error(o->cli, "report", usage,
					       "report: --stale-days: bad number "
					       "'%s'",
					       arg);
		o->ro.stale_days = (unsigned int)n;
		return 0;
	case OPT_SAVE:
		o->save = 1;
		return 0;
	case OPT_TREND:
		o->trend = 1;
		return 0;
	case OPT_NO_CHANNEL:
		o->ro.channel = 0;
		return 0;
	case OPT_DETAILS:
		o->details_set = 1;
		o->details = 0;
		if (arg && (cli_parse_ulong(arg, &n) || n == 0))
			return cli_usage_error(o->cli, "report", usage,
					       "report: --details: bad number "
					       "'%s'",
					       arg);
		if (arg)
			o->details = n;
		return 0;
	}
	return EXIT_USAGE;
}

/* ---- shared helpers -------------------------------------------------------- */

static int is_int(double v)
{
	return v == floor(v) && fabs(v) < 1e15;
}

/* A value for people: whole numbers as such, else one decimal. */
static const char *num(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (is_int(v))
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.1f", v);
	return buf;
}

static void json_num(FILE *out, double v)
{
	if (isnan(v))
		fputs("null", out);
	else if (is_int(v))
		fprintf(out, "%.0f", v);
	else
		fprintf(out, "%.4g", v);
}

static void json_str(FILE *out, const char *s)
{
	if (s)
		cli_json_string(out, s);
	else
		fputs("null", out);
}

static double fig_value(const pim_report *r, const char *section,
			const char *role, const char *subject,
			const char *metric)
{
	const pim_report_figure *f =
		pim_report_find(r, section, role, subject, metric);
	return f ? f->value : NAN;
}

static const char *section_title(const char *s)
{
	static const char *const t[][2] = {
		{ "score", "Scores" },
		{ "completeness", "Completeness by role" },
		{ "locale", "Completeness by locale" },
		{ "family", "Completeness by family" },
		{ "attribute", "Attributes: fill rate, and missing for a role" },
		{ "validity", "Validity: stored values the current schema "
			      "refuses" },
		{ "uniqueness", "Uniqueness: duplicates" },
		{ "consistency", "Consistency: checks and sellable products" },
		{ "freshness", "Freshness" },
		{ "shelves", "Empty shelves: categories with nothing to sell" },
		{ "channel", "Channel readiness" },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (!strcmp(t[i][0], s))
			return t[i][1];
	return s;
}

static const char *subject_name(const char *s)
{
	static const char *const t[][2] = {
		{ "locale", "locale" },       { "family", "family" },
		{ "attribute", "attribute" }, { "validity", "code/attribute" },
		{ "uniqueness", "kind" },     { "consistency", "check" },
		{ "shelves", "category" },    { "channel", "reason" },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (!strcmp(t[i][0], s))
			return t[i][1];
	return "subject";
}

/* ---- trend ---------------------------------------------------------------- */

static int on_run(const pim_report_run_info *ri, void *ctx)
{
	struct ropts *o = ctx;
	run *n = realloc(o->runs, (o->n_runs + 1) * sizeof *n);
	run *r;

	if (!n) {
		o->oom = 1;
		return 1;
	}
	o->runs = n;
	r = &n[o->n_runs];
	memset(r, 0, sizeof *r);
	r->id = ri->id;
	snprintf(r->at, sizeof r->at, "%s", ri->at ? ri->at : "");
	r->products = ri->products;
	r->score = ri->score;
	r->score_r = calloc(ri->n_roles + 1, sizeof *r->score_r);
	r->complete_r = calloc(ri->n_roles + 1, sizeof *r->complete_r);
	o->n_runs++;
	if (!r->score_r || !r->complete_r) {
		o->oom = 1;
		return 1;
	}
	if (!o->roles) {
		o->n_roles = ri->n_roles;
		o->roles = calloc(ri->n_roles + 1, sizeof *o->roles);
		for (size_t i = 0; o->roles && i < ri->n_roles; i++)
			o->roles[i] = strdup(ri->roles[i]);
	}
	for (size_t i = 0; i < ri->n_roles; i++) {
		r->score_r[i] = ri->role_score[i];
		r->complete_r[i] = ri->complete_pct[i];
	}
	return 0;
}

static void free_runs(struct ropts *o)
{
	for (size_t i = 0; i < o->n_runs; i++) {
		free(o->runs[i].score_r);
		free(o->runs[i].complete_r);
	}
	free(o->runs);
	for (size_t i = 0; o->roles && i < o->n_roles; i++)
		free((char *)o->roles[i]);
	free(o->roles);
}

/* ---- text ------------------------------------------------------------------- */

/* A table: the figures of one section, one row per (subject, role), one
 * column per metric, in the order they come. */
typedef struct table {
	const pim_report_figure **rowf; /* first figure of each row */
	size_t n_rows;
	const char *metric[24];
	size_t n_metrics;
	int has_role, has_subject;
} table;

static size_t row_of(table *t, const pim_report_figure *f)
{
	for (size_t i = 0; i < t->n_rows; i++) {
		const pim_report_figure *g = t->rowf[i];
		int sr = (!g->role && !f->role) ||
			 (g->role && f->role && !strcmp(g->role, f->role));
		int ss = (!g->subject && !f->subject) ||
			 (g->subject && f->subject &&
			  !strcmp(g->subject, f->subject));
		if (sr && ss)
			return i;
	}
	t->rowf[t->n_rows] = f;
	return t->n_rows++;
}

static size_t col_of(table *t, const char *metric)
{
	for (size_t i = 0; i < t->n_metrics; i++)
		if (!strcmp(t->metric[i], metric))
			return i;
	if (t->n_metrics == sizeof t->metric / sizeof t->metric[0])
		return t->n_metrics - 1;
	t->metric[t->n_metrics] = metric;
	return t->n_metrics++;
}

static void text_pad(FILE *out, const char *s, size_t w, int right)
{
	size_t n = cli_text_width(s);
	if (right)
		for (; n < w; n++)
			fputc(' ', out);
	fputs(s, out);
	if (!right)
		for (; n < w; n++)
			fputc(' ', out);
}

static void text_section(FILE *out, const pim_report *r, const char *section,
			 size_t from, size_t to)
{
	table t;
	const char ***cell;
	size_t w[26], nc;
	char buf[64];

	memset(&t, 0, sizeof t);
	t.rowf = calloc(to - from + 1, sizeof *t.rowf);
	cell = calloc(to - from + 1, sizeof *cell);
	if (!t.rowf || !cell)
		goto out;
	for (size_t i = from; i < to; i++) {
		const pim_report_figure *f = pim_report_figure_at(r, i);
		size_t row = row_of(&t, f), col = col_of(&t, f->metric);
		if (!cell[row] && !(cell[row] = calloc(24, sizeof **cell)))
			goto out;
		free((char *)cell[row][col]);
		if (!strcmp(f->metric, "score"))
			snprintf(buf, sizeof buf, "%.1f %c", f->value,
				 pim_report_grade(f->value));
		else
			num(buf, sizeof buf, f->value);
		cell[row][col] = strdup(buf);
		if (f->role)
			t.has_role = 1;
		if (f->subject)
			t.has_subject = 1;
	}
	nc = t.n_metrics;
	/* widths: subject, role, then the metrics */
	w[0] = cli_text_width(subject_name(section));
	w[1] = 4;
	for (size_t i = 0; i < t.n_rows; i++) {
		const pim_report_figure *f = t.rowf[i];
		size_t a = cli_text_width(f->subject ? f->subject : "");
		size_t b = cli_text_width(f->role ? f->role : "(family)");
		if (a > w[0])
			w[0] = a > 40 ? 40 : a;
		if (b > w[1])
			w[1] = b;
	}
	for (size_t c = 0; c < nc; c++) {
		w[c + 2] = cli_text_width(t.metric[c]);
		for (size_t i = 0; i < t.n_rows; i++) {
			const char *s = cell[i][c] ? cell[i][c] : "";
			if (cli_text_width(s) > w[c + 2])
				w[c + 2] = cli_text_width(s);
		}
	}
	fprintf(out, "\n%s\n", section_title(section));
	fputs("  ", out);
	if (t.has_subject) {
		text_pad(out, subject_name(section), w[0], 0);
		fputs("  ", out);
	}
	if (t.has_role) {
		text_pad(out, "role", w[1], 0);
		fputs("  ", out);
	}
	for (size_t c = 0; c < nc; c++) {
		text_pad(out, t.metric[c], w[c + 2], 1);
		fputs(c + 1 < nc ? "  " : "\n", out);
	}
	for (size_t i = 0; i < t.n_rows; i++) {
		const pim_report_figure *f = t.rowf[i];
		fputs("  ", out);
		if (t.has_subject) {
			char sub[164];
			const char *s = f->subject ? f->subject : "";
			if (cli_text_width(s) > 40)
				snprintf(sub, sizeof sub, "%.38s..", s);
			else
				snprintf(sub, sizeof sub, "%s", s);
			text_pad(out, sub, w[0], 0);
			fputs("  ", out);
		}
		if (t.has_role) {
			text_pad(out,
				 f->role ? f->role
				 : !strcmp(section, "family") ? "(family)"
							      : "overall",
				 w[1], 0);
			fputs("  ", out);
		}
		for (size_t c = 0; c < nc; c++) {
			text_pad(out, cell[i][c] ? cell[i][c] : "", w[c + 2], 1);
			fputs(c + 1 < nc ? "  " : "\n", out);
		}
	}
out:
	for (size_t i = 0; cell && i < t.n_rows; i++) {
		for (size_t c = 0; cell[i] && c < 24; c++)
			free((char *)cell[i][c]);
		free(cell[i]);
	}
	free(cell);
	free(t.rowf);
}

static void text_details(FILE *out, const pim_report *r, size_t from,
			 size_t to)
{
	for (size_t i = from; i < to; i++) {
		const pim_report_figure *f = pim_report_figure_at(r, i);
		if (!f->n_keys)
			continue;
		fprintf(out, "  %s%s%s%s%s: ", f->role ? f->role : "",
			f->role ? " " : "", f->subject ? f->subject : "",
			f->subject ? " " : "", f->metric);
		for (size_t k = 0; k < f->n_keys; k++)
			fprintf(out, "%s%s", k ? ", " : "", f->keys[k]);
		if (f->products > f->n_keys)
			fprintf(out, " (and %llu more)",
				f->products - f->n_keys);
		fputc('\n', out);
	}
}

static void text_trend(FILE *out, const struct ropts *o)
{
	char b[64], c[64];

	fputs("\nTrend (saved runs; complete = share of complete products)\n",
	      out);
	if (!o->n_runs) {
		fputs("  no saved runs: pim report --save stores one\n", out);
		return;
	}
	fprintf(out, "  %4s  %-20s  %8s  %7s", "run", "at", "products",
		"score");
	for (size_t i = 0; i < o->n_roles; i++) {
		snprintf(c, sizeof c, "%s complete", o->roles[i]);
		fprintf(out, "  %s", c);
	}
	fputc('\n', out);
	for (size_t k = 0; k < o->n_runs; k++) {
		const run *r = &o->runs[k];
		snprintf(c, sizeof c, "%s %c", num(b, sizeof b, r->score),
			 isnan(r->score) ? '-' : pim_report_grade(r->score));
		fprintf(out, "  %4lld  %-20s  %8llu  %7s", r->id, r->at,
			r->products, c);
		for (size_t i = 0; i < o->n_roles; i++) {
			snprintf(c, sizeof c, "%s%%",
				 num(b, sizeof b, r->complete_r[i]));
			fprintf(out, "  %*s", (int)strlen(o->roles[i]) + 9, c);
		}
		fputc('\n', out);
	}
}

static void write_text(FILE *out, const pim_report *r, const struct ropts *o)
{
	size_t n = pim_report_figure_count(r);
	char b[64];
	double sc = fig_value(r, "score", NULL, NULL, "score");

	fprintf(out, "Data-quality report: %llu products, %s\n",
		pim_report_products(r), pim_report_time(r));
	if (o->ro.role)
		fprintf(out, "role: %s\n", o->ro.role);
	if (o->ro.where)
		fprintf(out, "where: %s\n", o->ro.where);
	fprintf(out, "score: %s (%c)\n", num(b, sizeof b, sc),
		pim_report_grade(sc));
	for (size_t i = 0; i < n;) {
		const char *sec = pim_report_figure_at(r, i)->section;
		size_t j = i;
		while (j < n && !strcmp(pim_report_figure_at(r, j)->section, sec))
			j++;
		text_section(out, r, sec, i, j);
		if (o->details_set)
			text_details(out, r, i, j);
		i = j;
	}
	if (o->trend)
		text_trend(out, o);
}

/* ---- json ------------------------------------------------------------------- */

static void write_json(FILE *out, const pim_report *r, const struct ropts *o)
{
	size_t n = pim_report_figure_count(r);
	double sc = fig_value(r, "score", NULL, NULL, "score");
	int first = 1;

	fputs("{\"report\":1,\"generated_at\":", out);
	json_str(out, pim_report_time(r));
	fprintf(out, ",\"products\":%llu,\"role\":", pim_report_products(r));
	json_str(out, o->ro.role);
	fputs(",\"where\":", out);
	json_str(out, o->ro.where);
	fprintf(out, ",\"stale_days\":%u,\"score\":{\"score\":",
		o->ro.stale_days ? o->ro.stale_days : 180);
	json_num(out, sc);
	fprintf(out, ",\"grade\":\"%c\",\"roles\":{", pim_report_grade(sc));
	for (size_t i = 0; i < n; i++) {
		const pim_report_figure *f = pim_report_figure_at(r, i);
		if (strcmp(f->section, "score") || strcmp(f->metric, "score") ||
		    !f->role)
			continue;
		if (!first)
			fputc(',', out);
		first = 0;
		json_str(out, f->role);
		fputs(":{\"score\":", out);
		json_num(out, f->value);
		fprintf(out, ",\"grade\":\"%c\"}", pim_report_grade(f->value));
	}
	fputs("}},\n\"figures\":[", out);
	for (size_t i = 0; i < n; i++) {
		const pim_report_figure *f = pim_report_figure_at(r, i);
		fputs(i ? ",\n" : "\n", out);
		fputs("{\"section\":", out);
		json_str(out, f->section);
		fputs(",\"role\":", out);
		json_str(out, f->role);
		fputs(",\"subject\":", out);
		json_str(out, f->subject);
		fputs(",\"metric\":", out);
		json_str(out, f->metric);
		fputs(",\"value\":", out);
		json_num(out, f->value);
		if (o->details_set && f->products) {
			fprintf(out, ",\"count\":%llu,\"products\":[",
				f->products);
			for (size_t k = 0; k < f->n_keys; k++) {
				if (k)
					fputc(',', out);
				json_str(out, f->keys[k]);
			}
			fputc(']', out);
		}
		fputc('}', out);
	}
	fputs("]", out);
	if (o->trend) {
		fputs(",\n\"trend\":[", out);
		for (size_t k = 0; k < o->n_runs; k++) {
			const run *ru = &o->runs[k];
			fprintf(out, "%s{\"id\":%lld,\"at\":", k ? ",\n" : "\n",
				ru->id);
			json_str(out, ru->at);
			fprintf(out, ",\"products\":%llu,\"score\":", ru->products);
			json_num(out, ru->score);
			fputs(",\"roles\":{", out);
			for (size_t i = 0; i < o->n_roles; i++) {
				fputs(i ? "," : "", out);
				json_str(out, o->roles[i]);
				fputs(":{\"score\":", out);
				json_num(out, ru->score_r[i]);
				fputs(",\"complete_pct\":", out);
				json_num(out, ru->complete_r[i]);
				fputc('}', out);
			}
			fputs("}}", out);
		}
		fputs("]", out);
	}
	fputs("}\n", out);
}

/* ---- csv ------------------------------------------------------------------- */

static void csv_row(FILE *out, const char *sec, const char *role,
		    const char *subject, const char *metric, const char *value,
		    const char *product)
{
	cli_csv_cell(out, sec, ',', 0);
	fputc(',', out);
	cli_csv_cell(out, role, ',', 0);
	fputc(',', out);
	cli_csv_cell(out, subject, ',', 0);
	fputc(',', out);
	cli_csv_cell(out, metric, ',', 0);
	fputc(',', out);
	cli_csv_cell(out, value, ',', 0);
	fputc(',', out);
	cli_csv_cell(out, product, ',', 0);
	fputs("\r\n", out);
}

static void write_csv(FILE *out, const pim_report *r, const struct ropts *o)
{
	size_t n = pim_report_figure_count(r);
	char b[64];

	csv_row(out, "section", "role", "subject", "metric", "value", "product");
	for (size_t i = 0; i < n; i++) {
		const pim_report_figure *f = pim_report_figure_at(r, i);
		if (is_int(f->value))
			snprintf(b, sizeof b, "%.0f", f->value);
		else
			snprintf(b, sizeof b, "%.4g", f->value);
		csv_row(out, f->section, f->role, f->subject, f->metric, b, NULL);
		for (size_t k = 0; k < f->n_keys; k++)
			csv_row(out, f->section, f->role, f->subject, f->metric,
				NULL, f->keys[k]);
	}
	for (size_t k = 0; o->trend && k < o->n_runs; k++) {
		const run *ru = &o->runs[k];
		csv_row(out, "trend", NULL, ru->at, "score",
			num(b, sizeof b, ru->score), NULL);
		for (size_t i = 0; i < o->n_roles; i++) {
			csv_row(out, "trend", o->roles[i], ru->at, "score",
				num(b, sizeof b, ru->score_r[i]), NULL);
			csv_row(out, "trend", o->roles[i], ru->at,
				"complete_pct",
				num(b, sizeof b, ru->complete_r[i]), NULL);
		}
	}
}

/* ---- html ------------------------------------------------------------------- */

static void h(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(*s, out);
		}
	}
}

static const char *colour(double pct)
{
	if (pct >= 90)
		return "#2e7d32";
	if (pct >= 70)
		return "#f9a825";
	return "#c62828";
}

/* One bar chart: labelled horizontal bars, values 0..max. */
typedef struct bar {
	const char *label;
	const char *note; /* after the bar, or NULL: the value */
	double value;
	const char *fill; /* NULL: by value (percent) */
} bar;

static void svg_bars(FILE *out, const char *title, const bar *b, size_t n,
		     double max, const char *unit)
{
	const int lw = 220, bw = 360, nw = 300, rh = 26, top = 8;
	int height = top * 2 + (int)n * rh;
	char v[64];

	fputs("<figure><figcaption>", out);
	h(out, title);
	fputs("</figcaption>\n", out);
	if (!n) {
		fputs("<p class=\"none\">nothing to show</p></figure>\n", out);
		return;
	}
	fprintf(out,
		"<svg role=\"img\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d "
		"%d\" xmlns=\"http://www.w3.org/2000/svg\">\n<title>",
		lw + bw + nw, height, lw + bw + nw, height);
	h(out, title);
	fputs("</title>\n", out);
	for (size_t i = 0; i < n; i++) {
		double x = max > 0 ? b[i].value / max : 0;
		int y = top + (int)i * rh;
		if (x < 0 || isnan(x))
			x = 0;
		if (x > 1)
			x = 1;
		fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">",
			lw - 8, y + 17);
		h(out, b[i].label);
		fprintf(out,
			"</text><rect x=\"%d\" y=\"%d\" width=\"%d\" "
			"height=\"18\" fill=\"#eceff1\"/><rect x=\"%d\" "
			"y=\"%d\" width=\"%.1f\" height=\"18\" fill=\"%s\"/>",
			lw, y + 3, bw, lw, y + 3, x * bw,
			b[i].fill ? b[i].fill : colour(b[i].value));
		fprintf(out, "<text x=\"%d\" y=\"%d\">", lw + bw + 6, y + 17);
		if (b[i].note)
			h(out, b[i].note);
		else {
			h(out, num(v, sizeof v, b[i].value));
			h(out, unit);
		}
		fputs("</text>\n", out);
	}
	fputs("</svg></figure>\n", out);
}

static void html_table(FILE *out, const pim_report *r, const char *section,
		       const char *const *metrics, size_t nm, int details)
{
	size_t n = pim_report_figure_count(r);
	char v[64];
	int any = 0;

	for (size_t i = 0; i < n && !any; i++)
		any = !strcmp(pim_report_figure_at(r, i)->section, section);
	if (!any)
		return;
	fputs("<table><thead><tr><th>", out);
	h(out, subject_name(section));
	fputs("</th><th>role</th>", out);
	for (size_t m = 0; m < nm; m++) {
		fputs("<th>", out);
		h(out, metrics[m]);
		fputs("</th>", out);
	}
	if (details)
		fputs("<th>products</th>", out);
	fputs("</tr></thead><tbody>\n", out);
	for (size_t i = 0; i < n; i++) {
		const pim_report_figure *f = pim_report_figure_at(r, i);
		size_t m;
		if (strcmp(f->section, section))
			continue;
		for (m = 0; m < nm && strcmp(f->metric, metrics[m]); m++)
			;
		if (m == nm)
			continue;
		fputs("<tr><td>", out);
		h(out, f->subject ? f->subject : "all");
		fputs("</td><td>", out);
		h(out, f->role ? f->role : "");
		fputs("</td>", out);
		for (size_t k = 0; k < nm; k++) {
			fputs("<td class=\"n\">", out);
			if (k == m)
				h(out, num(v, sizeof v, f->value));
			fputs("</td>", out);
		}
		if (details) {
			fputs("<td>", out);
			for (size_t k = 0; k < f->n_keys; k++) {
				fputs(k ? ", " : "", out);
				h(out, f->keys[k]);
			}
			if (f->products > f->n_keys)
				fprintf(out, " (and %llu more)",
					f->products - f->n_keys);
			fputs("</td>", out);
		}
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table>\n", out);
}

static const char css[] =
	"body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,"
	"sans-serif;margin:2rem auto;max-width:980px;color:#212121;"
	"padding:0 1rem}"
	"h1{margin-bottom:.2rem}h2{border-bottom:2px solid #e0e0e0;"
	"padding-bottom:.2rem;margin-top:2.2rem}"
	".sub{color:#616161}.cards{display:flex;flex-wrap:wrap;gap:1rem;"
	"margin:1rem 0}.card{border:1px solid #e0e0e0;border-radius:8px;"
	"padding:.8rem 1.2rem;min-width:140px}.card .g{font-size:2.4rem;"
	"font-weight:700}.card .l{color:#616161}"
	".gA{color:#2e7d32}.gB{color:#558b2f}.gC{color:#f9a825}"
	".gD{color:#ef6c00}.gE{color:#c62828}"
	"figure{margin:1rem 0}figcaption{font-weight:600;margin-bottom:.3rem}"
	"svg text{font-size:13px;fill:#212121}"
	"table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}"
	"th,td{border-bottom:1px solid #e0e0e0;padding:.25rem .6rem;"
	"text-align:left;vertical-align:top}td.n{text-align:right}"
	".none{color:#616161;font-style:italic}"
	".explain{color:#424242;font-size:.9rem}";

static void html_card(FILE *out, const char *label, double score)
{
	char v[64];
	char g = pim_report_grade(score);

	fprintf(out, "<div class=\"card\"><div class=\"g g%c\">%c</div>", g, g);
	fputs("<div>", out);
	h(out, num(v, sizeof v, score));
	fputs(" / 100</div><div class=\"l\">", out);
	h(out, label);
	fputs("</div></div>\n", out);
}

static int cmp_bar(const void *a, const void *b)
{
	const bar *x = a, *y = b;
	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return strcmp(x->label, y->label);
}

static void svg_trend(FILE *out, const struct ropts *o)
{
	const int w = 700, hgt = 260, l = 50, rgt = 20, t = 20, b = 40;
	static const char *const pal[] = { "#1565c0", "#6a1b9a", "#00838f",
					   "#ef6c00", "#2e7d32" };
	size_t n = o->n_runs;

	fputs("<figure><figcaption>Score and completeness over saved "
	      "runs</figcaption>\n",
	      out);
	if (n == 0) {
		fputs("<p class=\"none\">no saved runs yet: run pim report "
		      "--save to keep one</p></figure>\n",
		      out);
		return;
	}
	fprintf(out,
		"<svg role=\"img\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d "
		"%d\" xmlns=\"http://www.w3.org/2000/svg\"><title>Trend of the "
		"score</title>\n",
		w, hgt, w, hgt);
	for (int g = 0; g <= 100; g += 25) {
		double y = t + (hgt - t - b) * (1 - g / 100.0);
		fprintf(out,
			"<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" "
			"stroke=\"#e0e0e0\"/><text x=\"%d\" y=\"%.1f\" "
			"text-anchor=\"end\">%d</text>\n",
			l, w - rgt, y, y, l - 6, y + 4, g);
	}
	for (size_t s = 0; s <= o->n_roles; s++) {
		const char *col = s == 0 ? "#212121" : pal[(s - 1) % 5];
		fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" "
			     "stroke-width=\"%s\" points=\"",
			col, s == 0 ? "3" : "1.5");
		for (size_t k = 0; k < n; k++) {
			double v = s == 0 ? o->runs[k].score
					  : o->runs[k].complete_r[s - 1];
			double x = n > 1 ? l + (double)(w - l - rgt) * (double)k /
						       (double)(n - 1)
					 : l + (w - l - rgt) / 2.0;
			if (isnan(v))
				continue;
			fprintf(out, "%.1f,%.1f ", x,
				t + (hgt - t - b) * (1 - v / 100.0));
		}
		fputs("\"/>\n", out);
		for (size_t k = 0; k < n && s == 0; k++) {
			double x = n > 1 ? l + (double)(w - l - rgt) * (double)k /
						       (double)(n - 1)
					 : l + (w - l - rgt) / 2.0;
			double v = o->runs[k].score;
			if (isnan(v))
				continue;
			fprintf(out,
				"<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" "
				"fill=\"#212121\"/>",
				x, t + (hgt - t - b) * (1 - v / 100.0));
			fprintf(out,
				"<text x=\"%.1f\" y=\"%d\" "
				"text-anchor=\"middle\">%.10s</text>\n",
				x, hgt - b + 18, o->runs[k].at);
		}
	}
	fputs("</svg>\n<p class=\"explain\"><b style=\"color:#212121\">"
	      "&#9644; overall score</b>",
	      out);
	for (size_t s = 0; s < o->n_roles; s++) {
		fprintf(out, " &#160; <span style=\"color:%s\">&#9644; ",
			pal[s % 5]);
		h(out, o->roles[s]);
		fputs(": complete products %</span>", out);
	}
	fputs("</p></figure>\n", out);
}

static void write_html(FILE *out, const pim_report *r, const struct ropts *o)
{
	size_t n = pim_report_figure_count(r);
	double sc = fig_value(r, "score", NULL, NULL, "score");
	bar *b = calloc(n + 1, sizeof *b);
	char (*notes)[64] = calloc(n + 1, sizeof *notes);
	size_t k;
	char v[64];

	if (!b || !notes) {
		free(b);
		free(notes);
		return;
	}
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
	      "charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" "
	      "content=\"default-src 'none'; style-src 'unsafe-inline'; "
	      "img-src data:\">\n<meta name=\"viewport\" "
	      "content=\"width=device-width, initial-scale=1\">\n"
	      "<title>Data-quality report</title>\n<style>",
	      out);
	fputs(css, out);
	fputs("</style></head><body>\n<h1>Data-quality report</h1>\n"
	      "<p class=\"sub\">",
	      out);
	fprintf(out, "%llu products &#183; ", pim_report_products(r));
	h(out, pim_report_time(r));
	if (o->ro.role) {
		fputs(" &#183; role ", out);
		h(out, o->ro.role);
	}
	if (o->ro.where) {
		fputs(" &#183; only products where ", out);
		h(out, o->ro.where);
	}
	fputs("</p>\n<div class=\"cards\">\n", out);
	html_card(out, "overall score", sc);
	for (size_t i = 0; i < n; i++) {
		const pim_report_figure *f = pim_report_figure_at(r, i);
		if (!strcmp(f->section, "score") && !strcmp(f->metric, "score") &&
		    f->role)
			html_card(out, f->role, f->value);
	}
	fputs("</div>\n<p class=\"explain\">The score is 40% completeness, "
	      "20% validity, 15% uniqueness, 15% consistency and 10% "
	      "freshness. A is 90 or more, B 80, C 70, D 60; below that, "
	      "E.</p>\n",
	      out);

	fputs("<h2>Completeness</h2>\n", out);
	k = 0;
	for (size_t i = 0; i < n; i++) {
		const pim_report_figure *f = pim_report_figure_at(r, i);
		if (!strcmp(f->section, "completeness") &&
		    !strcmp(f->metric, "complete_pct")) {
			double mean = fig_value(r, "completeness", f->role,
						NULL, "mean");
			snprintf(notes[k], sizeof notes[k],
				 "%.1f%% complete, mean %.1f%%", f->value, mean);
			b[k].label = f->role;
			b[k].note = notes[k];
			b[k++].value = f->value;
		}
	}
	svg_bars(out, "Share of products complete, per role", b, k, 100, "%");
	k = 0;
	for (size_t i = 0; i < n; i++) {
		const pim_report_figure *f = pim_report_figure_at(r, i);
		if (!strcmp(f->section, "family") && !strcmp(f->metric, "mean") &&
		    f->role) {
			snprintf(notes[k], sizeof notes[k], "%s, %s",
				 f->subject, f->role);
			b[k].label = notes[k];
			b[k].note = NULL;
			b[k++].value = f->value;
		}
	}
	svg_bars(out, "Mean completeness per family and role", b, k, 100, "%");
	/* the worst attributes: the lowest fill rates */
	k = 0;
	for (size_t i = 0; i < n; i++) {
		const pim_report_figure *f = pim_report_figure_at(r, i);
		if (!strcmp(f->section, "attribute") &&
		    !strcmp(f->metric, "fill_pct")) {
			b[k].label = f->subject;
			b[k].note = NULL;
			b[k++].value = f->value;
		}
	}
	qsort(b, k, sizeof *b, cmp_bar);
	svg_bars(out, "The least filled attributes", b, k > 10 ? 10 : k, 100,
		 "% filled");
	{
		static const char *const m[] = { "missing" };
		fputs("<p class=\"explain\">Required attributes missing, by "
		      "role:</p>\n",
		      out);
		html_table(out, r, "attribute", m, 1, o->details_set);
	}
	{
		static const char *const m[] = { "complete_pct", "mean" };
		html_table(out, r, "locale", m, 2, 0);
	}

	fputs("<h2>Duplicates</h2>\n", out);
	k = 0;
	for (size_t i = 0; i < n; i++) {
		const pim_report_figure *f = pim_report_figure_at(r, i);
		if (!strcmp(f->section, "uniqueness") && f->subject &&
		    !strcmp(f->metric, "products")) {
			snprintf(notes[k], sizeof notes[k],
				 "%.0f products in %.0f groups", f->value,
				 fig_value(r, "uniqueness", NULL, f->subject,
					   "groups"));
			b[k].label = f->subject;
			b[k].note = notes[k];
			b[k].fill = f->value > 0 ? "#c62828" : "#2e7d32";
			b[k++].value = f->value;
		}
	}
	{
		double max = 1;
		for (size_t i = 0; i < k; i++)
			if (b[i].value > max)
				max = b[i].value;
		svg_bars(out, "Products sharing a value that should be unique",
			 b, k, max, "");
	}
	if (o->details_set) {
		static const char *const m[] = { "products" };
		html_table(out, r, "uniqueness", m, 1, 1);
	}
	for (size_t i = 0; i < k; i++)
		b[i].fill = NULL;

	fputs("<h2>Empty shelves</h2>\n", out);
	k = 0;
	for (size_t i = 0; i < n; i++) {
		const pim_report_figure *f = pim_report_figure_at(r, i);
		if (!strcmp(f->section, "shelves") && f->subject) {
			snprintf(notes[k], sizeof notes[k],
				 "%.0f products, none ready to sell", f->value);
			b[k].label = f->subject;
			b[k].note = notes[k];
			b[k].fill = "#c62828";
			b[k++].value = f->value;
		}
	}
	if (k) {
		double max = 1;
		for (size_t i = 0; i < k; i++)
			if (b[i].value > max)
				max = b[i].value;
		svg_bars(out, "Categories with no active product complete for "
			      "sales",
			 b, k, max, "");
	} else {
		fputs("<p>Every category has at least one active product "
		      "complete for sales.</p>\n",
		      out);
	}
	for (size_t i = 0; i < k; i++)
		b[i].fill = NULL;

	fputs("<h2>Validity, consistency, freshness</h2>\n", out);
	{
		static const char *const m[] = { "values", "invalid",
						 "invalid_products",
						 "valid_pct" };
		html_table(out, r, "validity", m, 4, o->details_set);
	}
	{
		static const char *const m[] = { "failed", "sellable",
						 "sellable_incomplete",
						 "consistent_pct" };
		html_table(out, r, "consistency", m, 4, o->details_set);
	}
	{
		static const char *const m[] = { "stale", "stale_incomplete",
						 "fresh_pct" };
		fprintf(out, "<p class=\"explain\">Stale: not changed for %u "
			     "days.</p>\n",
			o->ro.stale_days ? o->ro.stale_days : 180);
		html_table(out, r, "freshness", m, 3, o->details_set);
	}
	{
		static const char *const m[] = { "included", "excluded",
						 "ready_pct", "products" };
		if (pim_report_find(r, "channel", NULL, NULL, "ready_pct")) {
			fputs("<h2>Channel readiness</h2>\n", out);
			html_table(out, r, "channel", m, 4, o->details_set);
		}
	}
	if (o->trend) {
		fputs("<h2>Trend</h2>\n", out);
		svg_trend(out, o);
	}
	fputs("<h2>All figures</h2>\n<table><thead><tr><th>section</th>"
	      "<th>role</th><th>subject</th><th>metric</th><th>value</th>"
	      "</tr></thead><tbody>\n",
	      out);
	for (size_t i = 0; i < n; i++) {
		const pim_report_figure *f = pim_report_figure_at(r, i);
		fputs("<tr><td>", out);
		h(out, f->section);
		fputs("</td><td>", out);
		h(out, f->role ? f->role : "");
		fputs("</td><td>", out);
		h(out, f->subject ? f->subject : "");
		fputs("</td><td>", out);
		h(out, f->metric);
		fputs("</td><td class=\"n\">", out);
		h(out, num(v, sizeof v, f->value));
		fputs("</td></tr>\n", out);
	}
	fputs("</tbody></table>\n</body></html>\n", out);
	free(b);
	free(notes);
}

/* ---- main ----------------------------------------------------------------- */

/* "--details N" becomes "--details=N": getopt takes an optional value
 * only in that form. */
static char **join_details(int argc, char **argv, int *nargc)
{
	char **nv = calloc((size_t)argc + 1, sizeof *nv);
	int k = 0;

	if (!nv)
		return NULL;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--details") && i + 1 < argc &&
		    argv[i + 1][0] >= '0' && argv[i + 1][0] <= '9' &&
		    strspn(argv[i + 1], "0123456789") == strlen(argv[i + 1])) {
			size_t len = strlen(argv[i + 1]) + 11;
			char *j = malloc(len);
			if (!j)
				return nv; /* leaks nothing more; best effort */
			snprintf(j, len, "--details=%s", argv[i + 1]);
			nv[k++] = j;
			i++;
			continue;
		}
		nv[k++] = argv[i];
	}
	*nargc = k;
	return nv;
}

static int check_thresholds(pim_cli *cli, const pim_report *r,
			    const struct ropts *o)
{
	int code = EXIT_OK;

	for (size_t i = 0; i < o->n_fail; i++) {
		const threshold *t = &o->fail[i];
		const pim_report_figure *f =
			pim_report_find(r, "score", t->role, NULL, "score");
		if (!f)
			continue; /* checked before */
		if (f->value < t->min) {
			cli_error(cli,
				  "%s%s%s score %.1f (%c) is under %g "
				  "(--fail-under %s%s%g)",
				  t->role ? "role " : "overall",
				  t->role ? t->role : "", t->role ? "" : "",
				  f->value, pim_report_grade(f->value), t->min,
				  t->role ? t->role : "", t->role ? "=" : "",
				  t->min);
			code = EXIT_DATA;
		}
	}
	return code;
}

int cmd_report(pim_cli *cli, int argc, char **argv)
{
	static const struct option own[] = {
		{ "where", required_argument, NULL, 'w' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "fail-under", required_argument, NULL, OPT_FAIL },
		{ "stale-days", required_argument, NULL, OPT_STALE },
		{ "save", no_argument, NULL, OPT_SAVE },
		{ "trend", no_argument, NULL, OPT_TREND },
		{ "details", optional_argument, NULL, OPT_DETAILS },
		{ "no-channel", no_argument, NULL, OPT_NO_CHANNEL },
		{ NULL, 0, NULL, 0 }
	};
	pim_report_options ro0 = PIM_REPORT_OPTIONS_INIT;
	struct ropts o;
	pim_where_error werr;
	pim_catalog *cat = NULL;
	pim_report *rep = NULL;
	char **av = NULL;
	FILE *out = stdout;
	int ac = argc, rc, code, to_file = 0;
	long long id = 0;

	memset(&o, 0, sizeof o);
	memset(&werr, 0, sizeof werr);
	o.cli = cli;
	o.ro = ro0;
	o.ro.channel = 1;
	o.format = -1;
	if (!(av = join_details(argc, argv, &ac))) {
		cli_error(cli, "out of memory");
		return EXIT_RUNTIME;
	}
	code = cli_parse(cli, ac, av, "report", usage, help, own, "w:f:o:",
			 on_opt, &o);
	if (code >= 0)
		goto out;
	if (optind < ac) {
		code = cli_usage_error(cli, "report", usage,
				       "report: unexpected argument '%s'",
				       av[optind]);
		goto out;
	}
	if (o.format < 0)
		o.format = cli->json ? FMT_JSON : FMT_TEXT;
	o.ro.role = cli->role;
	if (o.details_set)
		o.ro.details = o.details ? o.details
			       : o.format == FMT_CSV ? PIM_REPORT_ALL
						     : DEFAULT_DETAILS;
	if ((rc = cli_open_catalog(cli, &cat, !o.save))) {
		code = cli_exit_code(rc);
		goto out;
	}
	for (size_t i = 0; i < o.n_fail; i++) {
		const char *role = o.fail[i].role;
		if (!role)
			continue;
		if (o.ro.role && strcmp(role, o.ro.role)) {
			code = cli_usage_error(cli, "report", usage,
					       "report: --fail-under %s=...: the "
					       "report is for role %s only",
					       role, o.ro.role);
			goto out;
		}
	}
	rc = pim_report_run(&rep, cat, &o.ro, &werr);
	if (rc == PIM_EPARSE) {
		cli_error(cli, "--where: column %lu: %s", werr.col, werr.message);
		code = EXIT_USAGE;
		goto out;
	}
	if (rc) {
		cli_error(cli, "%s", pim_errmsg(cat));
		code = cli_exit_code(rc);
		goto out;
	}
	for (size_t i = 0; i < o.n_fail; i++)
		if (o.fail[i].role && !pim_report_find(rep, "score",
						       o.fail[i].role, NULL,
						       "score")) {
			code = cli_usage_error(cli, "report", usage,
					       "report: --fail-under: unknown "
					       "role '%s'",
					       o.fail[i].role);
			goto out;
		}
	if (o.save && (rc = pim_report_save(cat, &id, rep, o.ro.where))) {
		cli_error(cli, "%s", pim_errmsg(cat));
		code = cli_exit_code(rc);
		goto out;
	}
	if (o.trend && (rc = pim_report_trend(cat, 0, on_run, &o))) {
		cli_error(cli, "%s", pim_errmsg(cat));
		code = cli_exit_code(rc);
		goto out;
	}
	if (o.oom) {
		cli_error(cli, "out of memory");
		code = EXIT_RUNTIME;
		goto out;
	}
	if (o.output && strcmp(o.output, "-")) {
		if (!(out = cli_outfile_open(cli, o.output))) {
			out = stdout;
			code = EXIT_RUNTIME;
			goto out;
		}
		to_file = 1;
	}
	switch (o.format) {
	case FMT_JSON:
		write_json(out, rep, &o);
		break;
	case FMT_CSV:
		write_csv(out, rep, &o);
		break;
	case FMT_HTML:
		write_html(out, rep, &o);
		break;
	default:
		write_text(out, rep, &o);
	}
	if (to_file) {
		int bad = cli_outfile_close(cli, out, o.output, !ferror(out));
		out = stdout;
		to_file = 0;
		if (bad) {
			code = EXIT_RUNTIME;
			goto out;
		}
	}
	if (o.save && !cli->quiet)
		fprintf(stderr, "pim: report saved as run %lld\n", id);
	code = check_thresholds(cli, rep, &o);
out:
	if (to_file) /* not completed: the file is not written */
		cli_outfile_close(cli, out, o.output, 0);
	for (size_t i = 0; i < o.n_fail; i++)
		free((char *)o.fail[i].role);
	if (av) {
		for (int i = 0; i < ac; i++) {
			int ours = 1;
			for (int k = 0; k < argc; k++)
				if (av[i] == argv[k])
					ours = 0;
			if (ours)
				free(av[i]);
		}
	}
	free(av);
	free_runs(&o);
	pim_report_free(rep);
	pim_catalog_close(cat);
	return cli_finish_output(cli, code);
}
