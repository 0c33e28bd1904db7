/*
 * output.c - how the pim command writes product values: for people (units
 * as symbols), as CSV cells (spreadsheet formulas neutralised) and as
 * typed JSON (numbers as numbers, prices and measures as objects); and
 * output files that appear only when complete.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

void cli_csv_cell(FILE *out, const char *s, char delim, int raw)
{
	int formula, quote;

	if (!s)
		s = "";
	formula = !raw && s[0] && strchr("=+-@\t\r", s[0]);
	quote = formula || strchr(s, delim) || strpbrk(s, "\"\n\r");
	if (!quote) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	if (formula)
		fputc('\'', out);
	/* the text between quotes in one piece, each quote doubled */
	for (const char *q; (q = strchr(s, '"')); s = q + 1) {
		fwrite(s, 1, (size_t)(q - s) + 1, out);
		fputc('"', out);
	}
	fputs(s, out);
	fputc('"', out);
}

const char *cli_value_text(char *buf, size_t len, const pim_view_column *c,
			   const char *v)
{
	size_t n;

	if (!v)
		return NULL;
	n = strlen(v);
	/* "33.99 KGM" reads "33.99 kg" */
	if (c->unit && c->unit_symbol && n > strlen(c->unit) + 1 &&
	    !strcmp(v + n - strlen(c->unit), c->unit) &&
	    v[n - strlen(c->unit) - 1] == ' ') {
		snprintf(buf, len, "%.*s %s", (int)(n - strlen(c->unit)) - 1, v,
			 c->unit_symbol);
		return buf;
	}
	return v;
}

/* The typed JSON writer is the library's, so that `pim export` and the
 * other commands write values the same way. */
void cli_json_value(FILE *out, pim_type type, const char *v)
{
	pim_json_write_value(out, type, v);
}

size_t cli_text_width(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

void cli_pad(FILE *out, const char *s, size_t width)
{
	size_t w = cli_text_width(s);

	fputs(s, out);
	for (; w < width; w++)
		fputc(' ', out);
}

void cli_key_diag_text(FILE *out, const pim_diag *d)
{
	cli_diag_line(out, d->value, "pim: %s%s%s: %s[%s]: %s",
		      d->key ? d->key : "", d->attribute ? " " : "",
		      d->attribute ? d->attribute : "",
		      d->severity == PIM_SEV_WARNING ? "warning" : "error",
		      d->code ? d->code : "error", d->message);
}

int cli_print_change(const char *sku, const char *attr, const char *old,
		     const char *new_value, void *ctx)
{
	(void)ctx;
	printf("%s %s: %s \xE2\x86\x92 %s\n", sku, attr, old ? old : "(empty)",
	       new_value ? new_value : "(empty)");
	if (ferror(stdout)) {
		cli_note_output_error();
		return 1;
	}
	return 0;
}

/* ---- the progress line of long runs ------------------------------------ */

int cli_progress_start(cli_progress *p, pim_cli *cli, const char *unit,
		       int key_diags)
{
	memset(p, 0, sizeof *p);
	p->cli = cli;
	p->unit = unit;
	p->key_diags = key_diags;
	p->started = time(NULL);
	return !cli->quiet && isatty(2);
}

static void progress_clear(cli_progress *p)
{
	if (p->drew) {
		fputs("\r\033[K", stderr);
		p->drew = 0;
	}
}

void cli_progress_show(unsigned long n, unsigned long long done,
		       unsigned long long total, void *ctx)
{
	cli_progress *p = ctx;
	double secs = difftime(time(NULL), p->started);

	if (secs < 1)
		return;
	fprintf(stderr, "\r\033[Kpim: %lu %s, %.0f %s/s", n, p->unit, n / secs,
		p->unit);
	if (total && done && done < total) {
		double eta = secs * ((double)total / (double)done - 1.0);
		fprintf(stderr, ", %3.0f%%, ETA %.0fs",
			100.0 * (double)done / (double)total, eta);
	}
	p->drew = 1;
}

int cli_progress_diag(const pim_diag *d, void *ctx)
{
	cli_progress *p = ctx;

	if (p->cli->quiet && d->severity == PIM_SEV_WARNING)
		return 0;
	progress_clear(p);
	fflush(stdout);
	if (p->key_diags)
		cli_key_diag_text(stderr, d);
	else
		cli_diag_text(stderr, d);
	return 0;
}

void cli_progress_end(cli_progress *p)
{
	progress_clear(p);
}

/* ---- output files: a temporary file renamed into place ----------------- */

static char tmp_path[4096];

static void on_signal(int sig)
{
	if (tmp_path[0])
		unlink(tmp_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

FILE *cli_outfile_open(pim_cli *cli, const char *path)
{
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path) + 1 : 0;
	mode_t mask;
	FILE *f;
	int fd, n;

	n = snprintf(tmp_path, sizeof tmp_path, "%.*s.%s.XXXXXX", dirlen, path,
		     slash ? slash + 1 : path);
	if (n < 0 || (size_t)n >= sizeof tmp_path) {
		cli_error(cli, "%s: the name is too long", path);
		tmp_path[0] = '\0';
		return NULL;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	if ((fd = mkstemp(tmp_path)) < 0) {
		cli_error(cli, "%s: %s", path, strerror(errno));
		tmp_path[0] = '\0';
		return NULL;
	}
	/* the permissions a plain create would give */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) != 0 || !(f = fdopen(fd, "wb"))) {
		cli_error(cli, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp_path);
		tmp_path[0] = '\0';
		return NULL;
	}
	return f;
}

int cli_outfile_close(pim_cli *cli, FILE *f, const char *path, int ok)
{
	int rc = 0;

	if (ok && (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0)) {
		cli_error(cli, "%s: %s", path, strerror(errno));
		ok = 0;
		rc = -1;
	}
	if (fclose(f) != 0 && ok) {
		cli_error(cli, "%s: %s", path, strerror(errno));
		ok = 0;
		rc = -1;
	}
	if (ok && rename(tmp_path, path) != 0) {
		cli_error(cli, "%s: %s", path, strerror(errno));
		rc = -1;
		ok = 0;
	}
	if (!ok)
		unlink(tmp_path);
	tmp_path[0] = '\0';
	return rc;
}
