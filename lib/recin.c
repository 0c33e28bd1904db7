/*
 * recin.c - what the JSON Lines and XML readers share: opening (standard
 * input is spooled so that it can be read twice), the header of columns in
 * order of first appearance, and the row built from one record's values.
 */
#include "recin.h"
#include "export.h" /* pim_bmecat_start */

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

/* The field of a column the record does not have. */
char pim_recin_absent[1];

void pim_recin_diag(pim_recin *rd, unsigned long line, unsigned long col,
		    const char *code, pim_severity sev, const char *fmt, ...)
{
	char msg[600];
	pim_diag d;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	memset(&d, 0, sizeof d);
	d.file = rd->path;
	d.line = line;
	d.col = col;
	d.code = code;
	d.severity = sev;
	d.message = msg;
	if (rd->diag)
		rd->diag(&d, rd->dctx);
}

static size_t name_hash(const char *s, size_t len)
{
	size_t h = 1469598103934665603ULL & (size_t)-1;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * (size_t)1099511628211ULL;
	return h;
}

static int rehash(pim_recin *rd, size_t cap)
{
	size_t *h = pim_calloc(cap, sizeof *h);
	if (!h)
		return PIM_ENOMEM;
	for (size_t i = 0; i < rd->n_cols; i++) {
		size_t j = name_hash(rd->names[i], rd->name_len[i]) & (cap - 1);
		while (h[j])
			j = (j + 1) & (cap - 1);
		h[j] = i + 1;
	}
	pim_free(rd->hash);
	rd->hash = h;
	rd->hash_cap = cap;
	return 0;
}

/* Returns the column, -1 when absent (and not created), PIM_ELIMIT - 1
 * when there would be too many, PIM_ENOMEM - 1 when out of memory. */
long pim_recin_col(pim_recin *rd, const char *name, size_t len,
		   unsigned long line, unsigned long col, int create)
{
	size_t j;

	if (rd->hash_cap) {
		j = name_hash(name, len) & (rd->hash_cap - 1);
		while (rd->hash[j]) {
			size_t c = rd->hash[j] - 1;
			if (rd->name_len[c] == len &&
			    !memcmp(rd->names[c], name, len))
				return (long)c;
			j = (j + 1) & (rd->hash_cap - 1);
		}
	}
	if (!create)
		return -1;
	if (rd->n_cols >= PIM_CSV_MAX_COLUMNS)
		return PIM_ELIMIT - 1;
	if (rd->n_cols == rd->cap_cols) {
		size_t cap = rd->cap_cols ? rd->cap_cols * 2 : 32;
		char **nn = pim_realloc(rd->names, cap * sizeof *nn);
		size_t *nl;
		pim_fpos *np;
		if (!nn)
			return PIM_ENOMEM - 1;
		rd->names = nn;
		nl = pim_realloc(rd->name_len, cap * sizeof *nl);
		if (!nl)
			return PIM_ENOMEM - 1;
		rd->name_len = nl;
		np = pim_realloc(rd->name_pos, cap * sizeof *np);
		if (!np)
			return PIM_ENOMEM - 1;
		rd->name_pos = np;
		rd->cap_cols = cap;
	}
	if (!(rd->names[rd->n_cols] = pim_strndup(name, len)))
		return PIM_ENOMEM - 1;
	rd->name_len[rd->n_cols] = len;
	rd->name_pos[rd->n_cols].line = line;
	rd->name_pos[rd->n_cols].col = col;
	rd->n_cols++;
	if (rd->n_cols * 2 > rd->hash_cap) {
		if (rehash(rd, rd->hash_cap ? rd->hash_cap * 2 : 64)) {
			rd->n_cols--;
			pim_free(rd->names[rd->n_cols]);
			return PIM_ENOMEM - 1;
		}
	} else {
		size_t h = name_hash(name, len) & (rd->hash_cap - 1);
		while (rd->hash[h])
			h = (h + 1) & (rd->hash_cap - 1);
		rd->hash[h] = rd->n_cols;
	}
	return (long)(rd->n_cols - 1);
}

/* After the first pass: the header row and the per-column arrays. */
static int finish_header(pim_recin *rd)
{
	size_t n = rd->n_cols;

	if (rd->format == PIM_FORMAT_JSONL) {
		/* the line as read travels in a last, unnamed column */
		long c = pim_recin_col(rd, "", 0, rd->first_line, 0, 1);
		if (c < -1)
			return (int)c + 1;
		rd->raw_col = c;
		n = rd->n_cols;
	}
	rd->header.n = n;
	rd->header.line = rd->first_line ? rd->first_line : 1;
	rd->header.field = rd->names;
	rd->header.len = rd->name_len;
	rd->gen = pim_calloc(n + 1, sizeof *rd->gen);
	rd->first_ent = pim_calloc(n + 1, sizeof *rd->first_ent);
	rd->last_ent = pim_calloc(n + 1, sizeof *rd->last_ent);
	rd->field = pim_calloc(n + 1, sizeof *rd->field);
	rd->flen = pim_calloc(n + 1, sizeof *rd->flen);
	rd->fpos = pim_calloc(n + 1, sizeof *rd->fpos);
	if (!rd->gen || !rd->first_ent || !rd->last_ent || !rd->field ||
	    !rd->flen || !rd->fpos)
		return PIM_ENOMEM;
	rd->row.n = n;
	rd->row.field = rd->field;
	rd->row.len = rd->flen;
	return 0;
}

void pim_recin_row_begin(pim_recin *rd, unsigned long line)
{
	rd->cur_gen++;
	rd->n_ents = 0;
	pim_buf_clear(&rd->vals);
	rd->row.line = line;
	for (size_t j = 0; j < rd->row.n; j++) {
		rd->fpos[j].line = line;
		rd->fpos[j].col = 0;
	}
}

int pim_recin_put(pim_recin *rd, size_t col, const char *s, size_t len,
		  unsigned long line, unsigned long vcol, int list, int join)
{
	recin_ent *e;

	if (rd->gen[col] == rd->cur_gen && !join)
		return 1;
	if (rd->n_ents == rd->cap_ents) {
		size_t cap = rd->cap_ents ? rd->cap_ents * 2 : 64;
		recin_ent *ne = pim_realloc(rd->ents, cap * sizeof *ne);
		if (!ne)
			return PIM_ENOMEM;
		rd->ents = ne;
		rd->cap_ents = cap;
	}
	e = &rd->ents[rd->n_ents];
	e->col = col;
	e->off = rd->vals.len;
	e->len = len;
	e->next = 0;
	e->list = list;
	if (pim_buf_add(&rd->vals, s, len) || pim_buf_addc(&rd->vals, '\0'))
		return PIM_ENOMEM;
	if (rd->gen[col] == rd->cur_gen) {
		rd->ents[rd->last_ent[col] - 1].next = rd->n_ents + 1;
	} else {
		rd->gen[col] = rd->cur_gen;
		rd->first_ent[col] = rd->n_ents + 1;
		rd->fpos[col].line = line;
		rd->fpos[col].col = vcol;
	}
	rd->last_ent[col] = rd->n_ents + 1;
	rd->n_ents++;
	return 0;
}

long pim_recin_row_end(pim_recin *rd)
{
	long bad = 0;
	size_t n_ents = rd->n_ents;

	/* values given more than once are joined with commas, the way a
	 * multiselect cell is written */
	for (size_t i = 0; i < n_ents; i++) {
		recin_ent *e = &rd->ents[i];
		size_t off;
		if (rd->first_ent[e->col] != i + 1)
			continue;
		if (e->list || e->next) {
			if (rd->lists && !rd->lists[e->col] && !bad)
				bad = (long)e->col + 1;
		}
		if (!e->next)
			continue;
		{
			/* room first: the parts are copied from the buffer */
			size_t total = 0;
			for (size_t k = i + 1; k; k = rd->ents[k - 1].next)
				total += rd->ents[k - 1].len + 1;
			if (pim_buf_reserve(&rd->vals, total + 1))
				return PIM_ENOMEM;
		}
		off = rd->vals.len;
		for (size_t k = i + 1; k; k = rd->ents[k - 1].next) {
			const recin_ent *p = &rd->ents[k - 1];
			if ((k != i + 1 && pim_buf_addc(&rd->vals, ',')) ||
			    pim_buf_add(&rd->vals, rd->vals.data + p->off, p->len))
				return PIM_ENOMEM;
		}
		if (pim_buf_addc(&rd->vals, '\0'))
			return PIM_ENOMEM;
		/* the joined value replaces the first entry */
		rd->ents[i].off = off;
		rd->ents[i].len = rd->vals.len - 1 - off;
	}
	for (size_t j = 0; j < rd->row.n; j++) {
		rd->field[j] = pim_recin_absent;
		rd->flen[j] = 0;
	}
	for (size_t i = 0; i < n_ents; i++) {
		const recin_ent *e = &rd->ents[i];
		if (rd->first_ent[e->col] != i + 1)
			continue;
		rd->field[e->col] = rd->vals.data + e->off;
		rd->flen[e->col] = e->len;
	}
	return bad;
}

/* Standard input goes to a temporary file, read twice. */
static int spool_stdin(FILE **out, char *errbuf, size_t errlen)
{
	FILE *t = tmpfile();
	char buf[65536];
	size_t n;

	if (!t) {
		snprintf(errbuf, errlen, "cannot create a temporary file: %s",
			 strerror(errno));
		return PIM_EIO;
	}
	while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
		if (fwrite(buf, 1, n, t) != n) {
			snprintf(errbuf, errlen,
				 "writing a temporary file: %s",
				 strerror(errno));
			fclose(t);
			return PIM_EIO;
		}
	if (ferror(stdin)) {
		snprintf(errbuf, errlen, "%s", strerror(errno));
		fclose(t);
		return PIM_EIO;
	}
	rewind(t);
	*out = t;
	return 0;
}

int pim_recin_open(pim_recin **out, const char *path,
		   const pim_recin_opts *o, pim_diag_fn diag, void *ctx,
		   char *errbuf, size_t errlen)
{
	pim_recin *rd;
	struct stat sb;
	int rc;

	*out = NULL;
	rd = pim_calloc(1, sizeof *rd);
	if (!rd)
		return PIM_ENOMEM;
	rd->format = o->format;
	rd->max_field = o->max_field ? o->max_field : PIM_CSV_MAX_FIELD;
	rd->diag = diag;
	rd->dctx = ctx;
	rd->path = path;
	rd->raw_col = -1;
	pim_buf_init(&rd->vals, 0);
	rd->dialect.delimiter = ',';
	rd->dialect.quote = '"';
	rd->dialect.decimal = '.';
	rd->dialect.header = 1;
	rd->dialect.encoding = PIM_ENC_UTF8;
	rd->dialect.eol = PIM_EOL_LF;
	rd->dialect.utf8_valid = 1;
	if (!strcmp(path, "-")) {
		if ((rc = spool_stdin(&rd->f, errbuf, errlen)))
			goto fail;
	} else if (!(rd->f = fopen(path, "rb"))) {
		snprintf(errbuf, errlen, "%s", strerror(errno));
		rc = PIM_EIO;
		goto fail;
	}
	if (fstat(fileno(rd->f), &sb) == 0) {
		if (S_ISDIR(sb.st_mode)) {
			snprintf(errbuf, errlen, "%s", strerror(EISDIR));
			rc = PIM_EIO;
			goto fail;
		}
		if (S_ISREG(sb.st_mode))
			rd->size = (unsigned long long)sb.st_size;
	}
	rc = o->format == PIM_FORMAT_XML      ? pim_xml_start(rd, o)
	     : o->format == PIM_FORMAT_BMECAT ? pim_bmecat_start(rd, o)
					      : pim_jsonl_start(rd);
	if (rc == PIM_EIO)
		snprintf(errbuf, errlen, "%s", strerror(errno ? errno : EIO));
	if (rc)
		goto fail;
	if ((rc = finish_header(rd)))
		goto fail;
	*out = rd;
	return 0;
fail:
	pim_recin_close(rd);
	return rc;
}

const pim_csv_row *pim_recin_header(const pim_recin *rd)
{
	return &rd->header;
}

const pim_fpos *pim_recin_header_pos(const pim_recin *rd)
{
	return rd->name_pos;
}

long pim_recin_raw_col(const pim_recin *rd)
{
	return rd->raw_col;
}

void pim_recin_set_lists(pim_recin *rd, const unsigned char *ok)
{
	rd->lists = ok;
}

int pim_recin_next(pim_recin *rd, pim_csv_row **row, const pim_fpos **pos,
		   int *broken)
{
	int rc;

	*broken = 0;
	rc = rd->next_impl(rd, broken);
	if (rc == 1) {
		*row = &rd->row;
		*pos = rd->fpos;
	}
	return rc;
}

unsigned long pim_recin_records(const pim_recin *rd)
{
	return rd->records;
}

void pim_recin_progress(const pim_recin *rd, unsigned long long *done,
			unsigned long long *total)
{
	*done = rd->done;
	*total = rd->size;
}

const pim_dialect *pim_recin_dialect(const pim_recin *rd)
{
	return &rd->dialect;
}

void pim_recin_close(pim_recin *rd)
{
	if (!rd)
		return;
	if (rd->close_impl)
		rd->close_impl(rd);
	if (rd->f)
		fclose(rd->f);
	for (size_t i = 0; i < rd->n_cols; i++)
		pim_free(rd->names[i]);
	pim_free(rd->names);
	pim_free(rd->name_len);
	pim_free(rd->name_pos);
	pim_free(rd->hash);
	pim_free(rd->ents);
	pim_free(rd->gen);
	pim_free(rd->first_ent);
	pim_free(rd->last_ent);
	pim_free(rd->field);
	pim_free(rd->flen);
	pim_free(rd->fpos);
	pim_buf_free(&rd->vals);
	pim_free(rd);
}
