/*
 * validate.c - the pipeline: each CSV row is mapped onto attribute slots,
 * every cell parsed with the value parsers, cross-field checks evaluated,
 * and unique values tracked across all files. Nothing is allocated per cell
 * on this path; buffers are reused row after row. JSON Lines and XML files
 * come in through the record readers (recin.h) as rows of the same shape.
 */
#include "pipeline.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "catalog.h"
#include "recin.h"
#include "uniq.h"
#include "value.h"

#define SHOW_VALUE_MAX 200

int pim_slots_build(pim_slot **out, size_t *n, const pim_schema *s)
{
	size_t count = 0, k = 0;
	pim_slot *v;

	for (size_t i = 0; i < s->n_attrs; i++)
		count += s->attrs[i].localizable && s->n_locales ? s->n_locales
								 : 1;
	v = pim_calloc(count + 1, sizeof *v);
	if (!v)
		return PIM_ENOMEM;
	for (size_t i = 0; i < s->n_attrs; i++) {
		if (s->attrs[i].localizable && s->n_locales) {
			for (size_t l = 0; l < s->n_locales; l++) {
				v[k].attr = i;
				v[k].locale = s->locales[l];
				k++;
			}
		} else {
			v[k].attr = i;
			v[k].locale = NULL;
			k++;
		}
	}
	*out = v;
	*n = count;
	return 0;
}

long pim_slot_find(const pim_slot *slots, size_t n, size_t attr,
		   const char *locale)
{
	for (size_t i = 0; i < n; i++)
		if (slots[i].attr == attr &&
		    (slots[i].locale == locale ||
		     (slots[i].locale && locale &&
		      !strcmp(slots[i].locale, locale))))
			return (long)i;
	return -1;
}

/* What one column of the current file does. */
typedef struct colplan {
	const pim_colmap *cm; /* NULL when mapped by header = code */
	long slot;            /* -1: ignored */
	long currency_field;  /* column holding the currency, or -1 */
	unsigned transforms;
	const pim_unit *unit;
	const char *currency;
} colplan;

typedef struct run {
	const pim_schema *s;
	const pim_validate_options *o;
	const pim_mapping *m;
	pim_diag_fn diag;
	void *dctx;
	pim_validate_stats *st;
	pim_record_fn rec;
	void *rctx;

	pim_slot *slots;
	size_t n_slots;
	pim_buf *vals;        /* per slot */
	const char **value;   /* per slot, NULL when not given */
	long *slot_field;     /* per slot: column that set it, -1 */
	unsigned char *given; /* per slot: a column or constant gives it */
	pim_buf tmp, tmp2;
	pim_uniq *uniq;
	int *slot_unique;     /* per slot */

	pim_cat_writer *cw;      /* unique values against the catalog */
	long *check_l, *check_r; /* per schema check: the slots compared */
	long *const_slot;        /* per mapping constant */

	const char *const *paths;
	size_t n_paths;
	const char *file;     /* current file name */
	size_t file_index;
	colplan *plan;
	size_t n_cols;
	char **header;        /* copies of the header names */
	int has_header;
	pim_csv *csv;         /* the current file */
	int stop;
	int row_errors;

	/* JSON Lines and XML files */
	pim_recin *rin;       /* the current file's reader, or NULL */
	const pim_fpos *fpos; /* where the fields of the current row are:
				 diagnostics on field j point there */
	size_t n_fpos;
	long raw_col;         /* the column with the record as read, or -1 */
	unsigned char *file_csv; /* per file: read as CSV */
} run;

static void emit(run *r, unsigned long line, unsigned long col,
		 const char *column, const char *attr, const char *code,
		 pim_severity sev, const char *msg, const char *value,
		 size_t vlen)
{
	pim_diag d;
	char shown[SHOW_VALUE_MAX + 4];

	if (r->fpos && col >= 1 && col <= r->n_fpos) {
		/* a record reader's field: its own line and byte column */
		line = r->fpos[col - 1].line;
		col = r->fpos[col - 1].col;
	}
	if (sev == PIM_SEV_ERROR) {
		r->st->errors++;
		r->row_errors++;
	} else {
		r->st->warnings++;
	}
	if (r->diag && !r->stop) {
		memset(&d, 0, sizeof d);
		d.file = r->file;
		d.line = line;
		d.col = col;
		d.column = column;
		d.attribute = attr;
		d.code = code;
		d.severity = sev;
		d.message = msg;
		if (value) {
			if (vlen > SHOW_VALUE_MAX) {
				/* cut on a UTF-8 boundary */
				size_t k = SHOW_VALUE_MAX;
				while (k > 0 && ((unsigned char)value[k] & 0xC0) ==
							0x80)
					k--;
				memcpy(shown, value, k);
				memcpy(shown + k, "...", 4);
				d.value = shown;
			} else {
				d.value = value;
			}
		}
		if (r->diag(&d, r->dctx))
			r->stop = 1;
	}
	if (r->o->max_errors && r->st->errors >= r->o->max_errors &&
	    sev == PIM_SEV_ERROR)
		r->stop = r->st->stopped = 1;
}

static void emitf(run *r, unsigned long line, unsigned long col,
		  const char *code, pim_severity sev, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void emitf(run *r, unsigned long line, unsigned long col,
		  const char *code, pim_severity sev, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	emit(r, line, col, NULL, NULL, code, sev, msg, NULL, 0);
}

/* Reader diagnostics pass through, counted. */
static int reader_diag(const pim_diag *d, void *ctx)
{
	run *r = ctx;
	emit(r, d->line, d->col, NULL, NULL, d->code, d->severity, d->message,
	     NULL, 0);
	return r->stop;
}

static void free_header(run *r)
{
	for (size_t i = 0; r->header && i < r->n_cols; i++)
		pim_free(r->header[i]);
	pim_free(r->header);
	pim_free(r->plan);
	r->header = NULL;
	r->plan = NULL;
	r->n_cols = 0;
}

static int looks_numeric(const char *s, size_t len)
{
	size_t digits = 0;
	if (!len)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else if (!strchr(" .,-+", s[i]))
			return 0;
	}
	return digits > 0;
}

/* Matches a header to an attribute slot when there is no mapping:
 * "code", "code-locale" or "code@locale". */
static long header_slot(run *r, const char *h)
{
	char code[80];
	const char *sep = strpbrk(h, "@-");
	long attr;

	if (strlen(h) >= sizeof code)
		return -1;
	attr = pim_schema_attribute_find(r->s, h);
	if (attr >= 0) {
		const pim_attr *a = &r->s->attrs[attr];
		return pim_slot_find(r->slots, r->n_slots, (size_t)attr,
				     a->localizable && r->s->n_locales
					     ? r->s->locales[0]
					     : NULL);
	}
	if (!sep)
		return -1;
	snprintf(code, sizeof code, "%.*s", (int)(sep - h), h);
	attr = pim_schema_attribute_find(r->s, code);
	if (attr < 0 || !r->s->attrs[attr].localizable)
		return -1;
	return pim_slot_find(r->slots, r->n_slots, (size_t)attr, sep + 1);
}

static int is_ignored(const pim_mapping *m, const char *h)
{
	for (size_t i = 0; m && i < m->n_ignore; i++)
		if (!strcmp(m->ignore[i], h))
			return 1;
	return 0;
}

/* Builds the column plan from the header row (or from positions). */
static int plan_columns(run *r, const pim_csv_row *row, int has_header)
{
	const pim_mapping *m = r->m;
	int key_found = 0;

	r->n_cols = row->n;
	r->plan = pim_calloc(row->n + 1, sizeof *r->plan);
	r->header = pim_calloc(row->n + 1, sizeof *r->header);
	if (!r->plan || !r->header)
		return PIM_ENOMEM;
	for (size_t j = 0; j < row->n; j++) {
		char num[24];
		snprintf(num, sizeof num, "#%zu", j + 1);
		r->header[j] = pim_strdup(has_header ? row->field[j] : num);
		if (!r->header[j])
			return PIM_ENOMEM;
		r->plan[j].slot = -1;
		r->plan[j].currency_field = -1;
	}
	if (has_header) {
		for (size_t j = 0; j < row->n; j++) {
			if (row->len[j] == 0 && (long)j != r->raw_col) {
				emitf(r, row->line, j + 1, "empty-header",
				      PIM_SEV_ERROR,
				      "column %zu has no name in the header", j + 1);
				continue;
			}
			for (size_t k = 0; k < j; k++)
				if (!strcmp(r->header[k], r->header[j])) {
					emitf(r, row->line, j + 1,
					      "duplicate-header", PIM_SEV_ERROR,
					      "column '%s' appears twice in the "
					      "header (also column %zu)",
					      r->header[j], k + 1);
					break;
				}
		}
	}
	for (size_t j = 0; j < row->n; j++) {
		colplan *p = &r->plan[j];
		const char *h = r->header[j];
		if ((long)j == r->raw_col)
			continue;
		if (m) {
			const pim_colmap *cm = NULL;
			for (size_t i = 0; i < m->n_cols; i++) {
				const pim_colmap *c = &m->cols[i];
				if ((c->index && (size_t)c->index == j + 1) ||
				    (!c->index && has_header &&
				     !strcmp(c->column, h))) {
					cm = c;
					break;
				}
			}
			if (!cm) {
				if (!is_ignored(m, h) && m->unknown != 1 &&
				    row->len[j] > 0)
					emitf(r, row->line, j + 1,
					      m->unknown == 2 ? "unknown-column"
							      : "unknown-column",
					      m->unknown == 2 ? PIM_SEV_ERROR
							      : PIM_SEV_WARNING,
					      "column '%s' is not in the mapping; "
					      "ignored (add it under ignore: to "
					      "silence this)",
					      h);
				continue;
			}
			p->cm = cm;
			if (cm->attr < 0)
				continue;
			p->slot = pim_slot_find(r->slots, r->n_slots,
						(size_t)cm->attr, cm->locale);
			p->transforms = m->transforms | cm->transforms;
			p->unit = cm->unit;
			p->currency = cm->currency[0] ? cm->currency : NULL;
			if (m->key_column && !strcmp(cm->column, m->key_column))
				key_found = 1;
			if (cm->currency_column) {
				for (size_t k = 0; k < row->n; k++)
					if (!strcmp(r->header[k],
						    cm->currency_column))
						p->currency_field = (long)k;
				if (p->currency_field < 0)
					emitf(r, row->line, j + 1,
					      "missing-column", PIM_SEV_ERROR,
					      "currency column '%s' for '%s' is "
					      "not in the file",
					      cm->currency_column, h);
			}
		} else {
			p->slot = header_slot(r, h);
			if (p->slot < 0 && row->len[j] > 0)
			{
				char msg[512];
				snprintf(msg, sizeof msg,
					 "column '%s' is not an attribute; ignored",
					 h);
				emit(r, row->line, j + 1, h, NULL,
				     "unknown-column", PIM_SEV_WARNING, msg,
				     NULL, 0);
			}
		}
		if (p->slot >= 0 && r->s->key >= 0 &&
		    r->slots[p->slot].attr == (size_t)r->s->key)
			key_found = 1;
	}
	/* mapped columns the file lacks */
	if (m && has_header) {
		for (size_t i = 0; i < m->n_cols; i++) {
			const pim_colmap *c = &m->cols[i];
			int found = 0;
			for (size_t j = 0; j < row->n; j++)
				if (r->plan[j].cm == c)
					found = 1;
			if (found || c->attr < 0)
				continue;
			emitf(r, row->line, 0, "missing-column",
			      m->key_column && !strcmp(c->column, m->key_column)
				      ? PIM_SEV_ERROR
				      : PIM_SEV_WARNING,
			      "column '%s' of the mapping is not in the file",
			      c->column);
		}
	}
	memset(r->given, 0, r->n_slots);
	for (size_t j = 0; j < row->n; j++)
		if (r->plan[j].slot >= 0)
			r->given[r->plan[j].slot] = 1;
	for (size_t i = 0; m && i < m->n_constants; i++) {
		long sl = pim_slot_find(r->slots, r->n_slots,
					(size_t)m->constants[i].attr,
					m->constants[i].locale);
		if (sl >= 0)
			r->given[sl] = 1;
	}
	if (!key_found && r->s->key >= 0) {
		emitf(r, row->line, 0, "missing-key", PIM_SEV_ERROR,
		      "no column holds the key '%s'; rows cannot be matched",
		      r->s->attrs[r->s->key].code);
		return PIM_EDATA;
	}
	return 0;
}

static const char *map_value(const pim_colmap *cm, const char *v, size_t len,
			     size_t *outlen)
{
	for (size_t i = 0; i < cm->n_map; i++) {
		const char *f = cm->map[i].from;
		if (strlen(f) == len) {
			size_t k;
			for (k = 0; k < len; k++) {
				unsigned char a = (unsigned char)f[k];
				unsigned char b = (unsigned char)v[k];
				if (a >= 'A' && a <= 'Z')
					a = (unsigned char)(a + 32);
				if (b >= 'A' && b <= 'Z')
					b = (unsigned char)(b + 32);
				if (a != b)
					break;
			}
			if (k == len) {
				*outlen = strlen(cm->map[i].to);
				return cm->map[i].to;
			}
		}
	}
	if (cm->n_map && len) {
		if (cm->map_default == MAPDEF_EMPTY) {
			*outlen = 0;
			return "";
		}
		if (cm->map_default == MAPDEF_VALUE) {
			*outlen = strlen(cm->map_default_value);
			return cm->map_default_value;
		}
	}
	*outlen = len;
	return v;
}

static int has_constant(const run *r, long slot)
{
	for (size_t i = 0; r->m && i < r->m->n_constants; i++)
		if (r->const_slot[i] == slot)
			return 1;
	return 0;
}

static int row_blank(const pim_csv_row *row)
{
	for (size_t j = 0; j < row->n; j++)
		for (size_t k = 0; k < row->len[j]; k++)
			if (row->field[j][k] != ' ' && row->field[j][k] != '\t')
				return 0;
	return 1;
}

static void deliver(run *r, const pim_csv_row *row, const pim_dialect *dia)
{
	pim_record rec = { 0 };

	if (!r->rec || r->stop)
		return;
	rec.file = r->file;
	rec.file_index = r->file_index;
	rec.line = row->line;
	rec.n_slots = r->n_slots;
	rec.slots = r->slots;
	rec.value = r->value;
	rec.given = r->given;
	rec.errors = r->row_errors;
	rec.raw = row;
	rec.header = (const char *const *)r->header;
	rec.n_header = r->n_cols;
	rec.has_header = r->has_header;
	rec.dialect = dia;
	if (r->csv) {
		pim_csv_progress(r->csv, &rec.bytes_done, &rec.bytes_total);
		rec.records_hint = pim_csv_records(r->csv);
	} else {
		pim_recin_progress(r->rin, &rec.bytes_done, &rec.bytes_total);
		rec.records_hint = pim_recin_records(r->rin);
	}
	if (r->rec(&rec, r->rctx))
		r->stop = 1;
}

static int process_row(run *r, const pim_csv_row *row,
		       const pim_dialect *dia)
{
	const pim_schema *s = r->s;
	pim_parse_opts po = PIM_PARSE_OPTS_INIT;
	int rc;

	r->row_errors = 0;
	r->st->rows++;
	if (row->n != r->n_cols) {
		emitf(r, row->line, row->n > r->n_cols ? r->n_cols + 1 : row->n,
		      "field-count", PIM_SEV_ERROR,
		      "the row has %zu field%s, the header has %zu", row->n,
		      row->n == 1 ? "" : "s", r->n_cols);
		r->st->invalid_rows++;
		for (size_t i = 0; i < r->n_slots; i++)
			r->value[i] = NULL;
		deliver(r, row, dia);
		return 0;
	}
	for (size_t i = 0; i < r->n_slots; i++) {
		r->value[i] = NULL;
		r->slot_field[i] = -1;
	}
	po.decimal = dia->decimal;
	po.dmy_dates = r->m ? r->m->dmy : 1;
	po.utf8_ok = dia->utf8_valid;

	for (size_t j = 0; j < r->n_cols; j++) {
		const colplan *p = &r->plan[j];
		const pim_attr *a;
		const char *v = row->field[j];
		size_t len = row->len[j];
		pim_value_err err;
		char cur[4];

		if (p->slot < 0)
			continue;
		a = &s->attrs[r->slots[p->slot].attr];
		if (p->transforms == TR_TRIM) {
			/* the common case needs no copy */
			while (len && (*v == ' ' || *v == '\t')) {
				v++;
				len--;
			}
			while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
				len--;
		} else if (p->transforms) {
			if (pim_transform(&r->tmp, v, len, p->transforms))
				return PIM_ENOMEM;
			v = r->tmp.data;
			len = r->tmp.len;
		}
		if (p->cm && p->cm->n_map)
			v = map_value(p->cm, v, len, &len);
		if (len == 0 || (a->type != PIM_TYPE_TEXT &&
				 a->type != PIM_TYPE_TEXTAREA &&
				 (*v == ' ' || *v == '\t') &&
				 strspn(v, " \t") == len)) {
			/* a JSON Lines or XML record without the attribute
			 * says nothing about it (null or <value/> is empty);
			 * without the key it cannot be matched */
			if (row->field[j] == pim_recin_absent &&
			    (long)r->slots[p->slot].attr != s->key)
				continue;
			if (a->required && has_constant(r, p->slot))
				continue;
			if (a->required && (a->type == PIM_TYPE_IDENTIFIER))
				emit(r, row->line, j + 1, r->header[j], a->code,
				     "required", PIM_SEV_ERROR,
				     "the key is empty", NULL, 0);
			else if (a->required)
				emit(r, row->line, j + 1, r->header[j], a->code,
				     "required", PIM_SEV_ERROR,
				     "a value is required", NULL, 0);
			continue;
		}
		po.unit = p->unit;
		po.currency = p->currency;
		if (p->currency_field >= 0) {
			const char *c = row->field[p->currency_field];
			size_t cl = row->len[p->currency_field];
			while (cl && (*c == ' ')) {
				c++;
				cl--;
			}
			while (cl && c[cl - 1] == ' ')
				cl--;
			if (cl == 3) {
				for (int k = 0; k < 3; k++)
					cur[k] = (char)(c[k] >= 'a' && c[k] <= 'z'
								? c[k] - 32
								: c[k]);
				cur[3] = '\0';
				po.currency = cur;
			} else if (cl) {
				emit(r, row->line,
				     (unsigned long)p->currency_field + 1,
				     r->header[p->currency_field], a->code,
				     "currency", PIM_SEV_ERROR,
				     "not a currency code like NOK", c, cl);
				continue;
			}
		}
		rc = pim_value_parse(&r->vals[p->slot], &err, a, v, len, &po);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			char msg[400];
			snprintf(msg, sizeof msg, "%s", err.msg);
			emit(r, row->line, j + 1, r->header[j], a->code, err.code,
			     PIM_SEV_ERROR, msg, row->field[j], row->len[j]);
			continue;
		}
		r->value[p->slot] = r->vals[p->slot].data;
		r->slot_field[p->slot] = (long)j;
	}
	/* constants fill what the file did not give */
	for (size_t i = 0; r->m && i < r->m->n_constants; i++) {
		long sl = r->const_slot[i];
		if (sl >= 0 && !r->value[sl])
			r->value[sl] = r->m->constants[i].value;
	}
	/* cross-field checks */
	for (size_t i = 0; i < s->n_checks; i++) {
		const pim_check *ck = &s->checks[i];
		long ls = r->check_l[i], rs = r->check_r[i];
		int ok;
		if (ls < 0 || !r->value[ls] || (ck->right_is_attr &&
						(rs < 0 || !r->value[rs])))
			continue;
		ok = pim_check_eval(s, ck, r->value[ls],
				    rs >= 0 ? r->value[rs] : NULL);
		if (ok == 0) {
			char msg[400];
			long f = r->slot_field[ls] >= 0 ? r->slot_field[ls]
				 : rs >= 0		 ? r->slot_field[rs]
							 : -1;
			snprintf(msg, sizeof msg, "check '%s' fails%s%s: %s %s %s",
				 ck->text, ck->message ? ": " : "",
				 ck->message ? ck->message : "", r->value[ls],
				 pim_cmp_text(ck->op),
				 rs >= 0 ? r->value[rs] : "the limit");
			emit(r, row->line, f >= 0 ? (unsigned long)f + 1 : 0,
			     f >= 0 ? r->header[f] : NULL,
			     s->attrs[ck->left].code, "check", PIM_SEV_ERROR,
			     msg, NULL, 0);
		}
	}
	/* unique values against the catalog: another product may not hold
	 * them (the product with this key may) */
	for (size_t i = 0; r->cw && i < r->n_slots; i++) {
		const char *key = s->key >= 0 ? r->value[r->o->catalog->key_slot]
					      : NULL;
		char owner[256], msg[400];
		if (!r->slot_unique[i] || (long)r->slots[i].attr == s->key ||
		    !r->value[i] || r->slot_field[i] < 0)
			continue;
		rc = pim_cat_value_other(r->cw, i, r->value[i], key, owner,
					 sizeof owner);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			snprintf(msg, sizeof msg,
				 "duplicate %s: %s in the catalog already has "
				 "this value",
				 s->attrs[r->slots[i].attr].code, owner);
			emit(r, row->line, (unsigned long)r->slot_field[i] + 1,
			     r->header[r->slot_field[i]],
			     s->attrs[r->slots[i].attr].code, "unique",
			     PIM_SEV_ERROR, msg, r->value[i],
			     strlen(r->value[i]));
		}
	}
	/* unique values, resolved at the end */
	for (size_t i = 0; i < r->n_slots && !r->rec; i++) {
		if (!r->slot_unique[i] || !r->value[i] || r->slot_field[i] < 0)
			continue;
		rc = pim_uniq_add(r->uniq, (uint16_t)i, r->value[i],
				  strlen(r->value[i]), (uint16_t)r->file_index,
				  (uint32_t)row->line,
				  (uint32_t)r->slot_field[i]);
		if (rc)
			return rc;
	}
	if (r->row_errors)
		r->st->invalid_rows++;
	deliver(r, row, dia);
	return 0;
}

static int dup_hit(const pim_uniq_hit *h, void *ctx)
{
	run *r = ctx;
	const pim_slot *sl = &r->slots[h->slot];
	const pim_attr *a = &r->s->attrs[sl->attr];
	int is_key = r->s->key >= 0 && sl->attr == (size_t)r->s->key;
	char msg[400];

	r->file = r->paths[h->file];
	if (h->first_file == h->file)
		snprintf(msg, sizeof msg, "duplicate %s%s: the same value is on "
			 "line %u", is_key ? "key " : "", a->code, h->first_line);
	else
		snprintf(msg, sizeof msg, "duplicate %s%s: the same value is in "
			 "%s line %u", is_key ? "key " : "", a->code,
			 r->paths[h->first_file], h->first_line);
	/* a field index means nothing in a JSON Lines or XML file */
	emit(r, h->line, r->file_csv[h->file] ? h->field + 1 : 0, NULL, a->code,
	     is_key ? "duplicate-key" : "unique", PIM_SEV_ERROR, msg, NULL, 0);
	r->st->invalid_rows++; /* may count a row that had other errors */
	return r->stop;
}

/* ---- the pieces of a big file, shared by two threads ------------------- */

/*
 * A big file is cut into pieces (pim_csv_pieces). The calling thread reads
 * piece 0 and reports as it goes; then it and a helper thread take the
 * other pieces one at a time, in order, whichever is free first, so that a
 * slower core gets less of the file. The diagnostics of those pieces wait
 * in the piece until every piece before it has been reported: the caller
 * reports them in file order whenever it is between pieces, and at the
 * end. Each thread has its own copy of the run (values, uniqueness
 * entries, counts), merged at the end.
 */

typedef struct dent {
	unsigned long line, col;
	pim_severity sev;
	const char *code, *column, *attribute; /* static or outlive the file */
	size_t msg, val;                       /* offsets in the arena */
	int has_val;
} dent;

typedef struct piece {
	dent *ents;
	size_t n, cap;
	pim_buf arena;
	FILE *spill;     /* earlier batches, when there were many */
	int done;        /* read to its end (under pool.mu) */
} piece;

typedef struct pool pool;

typedef struct worker {
	run r;                 /* the thread's own copy of the run */
	pim_validate_stats st;
	pim_csv *csv;          /* its reader, moved from piece to piece */
	pool *p;
	piece *cur;            /* the piece being read */
	int rc;
} worker;

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	piece *pieces;
	size_t n_pieces;
	size_t next;           /* the first piece nobody has taken */
	size_t reported;       /* pieces [0, reported) are reported */
	int abort;             /* stop taking pieces (atomic) */
	worker helper;         /* the thread's */
	worker own;            /* the caller's reader for later pieces */
	pthread_t tid;
	pim_diag_fn real_diag;
	void *real_ctx;
	const char *file;
};

/* Diagnostics beyond this go to a temporary file in batches, so that
 * memory does not grow with the number of errors in the file. */
#define PIECE_BATCH (256u << 10)

static void piece_emit(pool *p, const dent *ents, size_t n, const char *arena)
{
	for (size_t i = 0; i < n; i++) {
		pim_diag d;
		if (__atomic_load_n(&p->abort, __ATOMIC_RELAXED))
			return; /* the caller asked to stop */
		memset(&d, 0, sizeof d);
		d.file = p->file;
		d.line = ents[i].line;
		d.col = ents[i].col;
		d.severity = ents[i].sev;
		d.code = ents[i].code;
		d.column = ents[i].column;
		d.attribute = ents[i].attribute;
		d.message = arena + ents[i].msg;
		d.value = ents[i].has_val ? arena + ents[i].val : NULL;
		if (p->real_diag && p->real_diag(&d, p->real_ctx))
			__atomic_store_n(&p->abort, 1, __ATOMIC_RELAXED);
	}
}

/* Writes the batch in memory to the piece's spill file: its counts, its
 * entries (the strings they point to outlive the run) and its arena.
 * Returns 0, or -1 when there is no file to write to (the batch stays). */
static int piece_spill(piece *pc)
{
	size_t head[2] = { pc->n, pc->arena.len };

	if (!pc->spill && !(pc->spill = tmpfile()))
		return -1;
	if (fwrite(head, sizeof head, 1, pc->spill) != 1 ||
	    fwrite(pc->ents, sizeof *pc->ents, pc->n, pc->spill) != pc->n ||
	    fwrite(pc->arena.data, 1, pc->arena.len, pc->spill) !=
		    pc->arena.len)
		return -1;
	pc->n = 0;
	pim_buf_clear(&pc->arena);
	return 0;
}

/* Reports a piece: its spilled batches, then the one in memory; frees it. */
static void piece_report(pool *p, piece *pc)
{
	if (pc->spill && fflush(pc->spill) == 0 &&
	    fseek(pc->spill, 0, SEEK_SET) == 0) {
		size_t head[2];
		dent *ents = NULL;
		char *arena = NULL;
		while (fread(head, sizeof head, 1, pc->spill) == 1) {
			dent *ne = pim_realloc(ents, (head[0] + 1) * sizeof *ne);
			char *na = ne ? pim_realloc(arena, head[1] + 1) : NULL;
			if (ne)
				ents = ne;
			if (na)
				arena = na;
			if (!ne || !na ||
			    fread(ents, sizeof *ents, head[0], pc->spill) !=
				    head[0] ||
			    fread(arena, 1, head[1], pc->spill) != head[1])
				break; /* the rest is lost, not the run */
			piece_emit(p, ents, head[0], arena);
		}
		pim_free(ents);
		pim_free(arena);
	}
	piece_emit(p, pc->ents, pc->n, pc->arena.data);
	if (pc->spill)
		fclose(pc->spill);
	pc->spill = NULL;
	pim_free(pc->ents);
	pc->ents = NULL;
	pc->n = pc->cap = 0;
	pim_buf_free(&pc->arena);
}

/* The diagnostics callback of a worker's run: into the current piece. */
static int piece_diag(const pim_diag *d, void *ctx)
{
	worker *w = ctx;
	piece *pc = w->cur;
	dent *e;

	if (pc->arena.len > PIECE_BATCH)
		(void)piece_spill(pc); /* else it stays in memory */
	if (pc->n == pc->cap) {
		size_t ncap = pc->cap ? pc->cap * 2 : 256;
		dent *nv = pim_realloc(pc->ents, ncap * sizeof *nv);
		if (!nv)
			return 0; /* the diagnostic is lost, not the run */
		pc->ents = nv;
		pc->cap = ncap;
	}
	e = &pc->ents[pc->n];
	memset(e, 0, sizeof *e); /* no stray padding bytes in the spill file */
	e->line = d->line;
	e->col = d->col;
	e->sev = d->severity;
	e->code = d->code;
	e->column = d->column;
	e->attribute = d->attribute;
	e->msg = pc->arena.len;
	if (pim_buf_adds(&pc->arena, d->message) || pim_buf_addc(&pc->arena, 0))
		return 0;
	e->has_val = d->value != NULL;
	e->val = pc->arena.len;
	if (d->value &&
	    (pim_buf_adds(&pc->arena, d->value) || pim_buf_addc(&pc->arena, 0)))
		return 0;
	pc->n++;
	return __atomic_load_n(&w->p->abort, __ATOMIC_RELAXED);
}

/* Reports, in order, the pieces done since the last call. Caller only. */
static void pool_report(pool *p)
{
	pthread_mutex_lock(&p->mu);
	while (p->reported < p->n_pieces && p->pieces[p->reported].done &&
	       !__atomic_load_n(&p->abort, __ATOMIC_RELAXED)) {
		piece *pc = &p->pieces[p->reported++];
		pthread_mutex_unlock(&p->mu);
		piece_report(p, pc);
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
}

/* Takes pieces until none is left; reads each with w's run. `caller`
 * reports what is ready between pieces. */
static int pool_work(pool *p, worker *w, int caller)
{
	run *r = &w->r;
	pim_csv_row *row;
	int rc = 0;

	for (;;) {
		size_t i;
		if (caller)
			pool_report(p);
		pthread_mutex_lock(&p->mu);
		i = __atomic_load_n(&p->abort, __ATOMIC_RELAXED) ? p->n_pieces
								 : p->next;
		if (i < p->n_pieces)
			p->next++;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->n_pieces)
			break;
		w->cur = &p->pieces[i];
		r->stop = 0;
		if ((rc = pim_csv_seek_piece(w->csv, i)))
			break;
		while ((rc = pim_csv_next(w->csv, &row)) == 1 && !r->stop) {
			if (row_blank(row)) {
				emitf(r, row->line, 0, "blank-row",
				      PIM_SEV_WARNING,
				      "row with only empty fields skipped");
				continue;
			}
			if ((rc = process_row(r, row, pim_csv_dialect(w->csv))))
				break;
		}
		if (rc < 0)
			break;
		rc = 0;
		if (r->stop)
			__atomic_store_n(&p->abort, 1, __ATOMIC_RELAXED);
		pthread_mutex_lock(&p->mu);
		p->pieces[i].done = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	if (rc < 0) {
		/* the others stop too; the pieces left are not reported */
		__atomic_store_n(&p->abort, 1, __ATOMIC_RELAXED);
		pthread_mutex_lock(&p->mu);
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	return rc;
}

static void *helper_main(void *arg)
{
	pool *p = arg;
	p->helper.rc = pool_work(p, &p->helper, 0);
	return NULL;
}

static void worker_free(worker *w)
{
	for (size_t i = 0; w->r.vals && i < w->r.n_slots; i++)
		pim_buf_free(&w->r.vals[i]);
	pim_free(w->r.vals);
	pim_free(w->r.value);
	pim_free(w->r.slot_field);
	pim_buf_free(&w->r.tmp);
	pim_buf_free(&w->r.tmp2);
	pim_uniq_free(w->r.uniq);
	pim_csv_close(w->csv);
}

/* A worker: a copy of the run with its own buffers, and a reader. `own`
 * (the caller's) shares the run's buffers, counts and uniqueness entries:
 * pool_finish copies the run into it again when piece 0 is read (the
 * caller's buffers may have moved meanwhile) and hands back afterwards
 * the buffers the run holds by value. */
static int worker_init(worker *w, pool *p, run *r, pim_csv *csv, int own)
{
	w->p = p;
	w->r = *r;
	w->r.diag = piece_diag;
	w->r.dctx = w;
	w->r.stop = 0;
	if (!own) {
		/* what each thread writes for every row is on cache lines of
		 * its own: sharing a line with what the other thread reads
		 * costs more than the work itself */
		w->r.st = &w->st;
		w->r.vals = pim_calloc_lines(r->n_slots + 1, sizeof *w->r.vals);
		w->r.value = pim_calloc_lines(r->n_slots + 1,
					      sizeof *w->r.value);
		w->r.slot_field = pim_calloc_lines(r->n_slots + 1,
						   sizeof *w->r.slot_field);
		pim_buf_init(&w->r.tmp, 0);
		pim_buf_init(&w->r.tmp2, 0);
		w->r.uniq = NULL;
		if (!w->r.vals || !w->r.value || !w->r.slot_field ||
		    pim_uniq_new(&w->r.uniq))
			return PIM_ENOMEM;
	}
	if (pim_csv_reader(csv, &w->csv, reader_diag, &w->r))
		return PIM_ENOMEM;
	w->r.csv = w->csv;
	return 0;
}

static void pool_free(pool *p)
{
	for (size_t i = 0; p->pieces && i < p->n_pieces; i++) {
		if (p->pieces[i].spill)
			fclose(p->pieces[i].spill);
		pim_free(p->pieces[i].ents);
		pim_buf_free(&p->pieces[i].arena);
	}
	pim_free(p->pieces);
	worker_free(&p->helper);
	pim_csv_close(p->own.csv); /* the rest of own is the caller's */
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	pim_free(p);
}

/* Cuts a big file into pieces and starts the helper; *out NULL when the
 * file is read by the caller alone. */
static int pool_start(pool **out, run *r, pim_csv *csv)
{
	pool *p;
	size_t n;

	*out = NULL;
	/* one ordered stream of records (import), or an exact stop after
	 * --max-errors, need a single reader */
	if (r->rec || r->o->max_errors || r->cw ||
	    (getenv("PIM_THREADS") && !strcmp(getenv("PIM_THREADS"), "1")))
		return 0;
	n = pim_csv_pieces(csv);
	if (n < 2)
		return 0;
	p = pim_calloc_lines(1, sizeof *p);
	if (!p)
		return PIM_ENOMEM;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->n_pieces = n;
	p->next = 1;     /* piece 0 is the caller's reader's */
	p->reported = 1;
	p->real_diag = r->diag;
	p->real_ctx = r->dctx;
	p->file = r->file;
	p->pieces = pim_calloc(n, sizeof *p->pieces);
	if (!p->pieces || worker_init(&p->helper, p, r, csv, 0) ||
	    worker_init(&p->own, p, r, csv, 1)) {
		pool_free(p);
		return PIM_ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		pim_buf_init(&p->pieces[i].arena, 0);
	if (pthread_create(&p->tid, NULL, helper_main, p) != 0) {
		/* no thread: the caller reads every piece after all */
		p->helper.csv = NULL;
		p->tid = 0;
	}
	*out = p;
	return 0;
}

/* After piece 0: the caller takes pieces too, reports them all in order,
 * and folds the helper's counts and entries into the run. */
static int pool_finish(run *r, pool *p)
{
	int rc, hrc = 0;

	/* the run as piece 0 left it */
	p->own.r = *r;
	p->own.r.diag = piece_diag;
	p->own.r.dctx = &p->own;
	p->own.r.csv = p->own.csv;
	if (r->stop)
		__atomic_store_n(&p->abort, 1, __ATOMIC_RELAXED);
	rc = pool_work(p, &p->own, 1);
	r->tmp = p->own.r.tmp; /* may have moved */
	r->tmp2 = p->own.r.tmp2;
	/* wait for the helper's pieces, reporting them as they end; after a
	 * stop nothing more is reported (pieces not taken never end) */
	pthread_mutex_lock(&p->mu);
	while (p->reported < p->n_pieces &&
	       !__atomic_load_n(&p->abort, __ATOMIC_RELAXED)) {
		if (!p->pieces[p->reported].done) {
			pthread_cond_wait(&p->cv, &p->mu);
			continue;
		}
		pthread_mutex_unlock(&p->mu);
		pool_report(p);
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	if (p->tid) {
		pthread_join(p->tid, NULL);
		hrc = p->helper.rc;
	}
	if (__atomic_load_n(&p->abort, __ATOMIC_RELAXED))
		r->stop = 1;
	r->st->rows += p->helper.st.rows;
	r->st->invalid_rows += p->helper.st.invalid_rows;
	r->st->errors += p->helper.st.errors;
	r->st->warnings += p->helper.st.warnings;
	if (!rc)
		rc = hrc;
	if (!rc && p->helper.r.uniq)
		rc = pim_uniq_merge(r->uniq, p->helper.r.uniq);
	pool_free(p);
	return rc;
}

/* The file cannot be read: one diagnostic, and the run goes on. */
static int io_failed(run *r, const char *path, const char *err)
{
	pim_diag dg;
	memset(&dg, 0, sizeof dg);
	dg.file = path;
	dg.code = "io";
	dg.message = err;
	dg.severity = PIM_SEV_ERROR;
	r->st->errors++;
	if (r->diag)
		r->diag(&dg, r->dctx);
	return PIM_EIO;
}

/* A record the reader could not read: reported by it, rejected whole. */
static void deliver_broken(run *r, const pim_csv_row *row,
			   const pim_dialect *dia)
{
	r->st->rows++;
	r->st->invalid_rows++;
	r->row_errors = 1;
	for (size_t i = 0; i < r->n_slots; i++)
		r->value[i] = NULL;
	deliver(r, row, dia);
}

/* A JSON Lines or XML file: rows from a record reader, one thread. */
static int run_records(run *r, const char *path, pim_format fmt)
{
	pim_recin_opts ro;
	pim_recin *rd = NULL;
	const pim_csv_row *hdr;
	const pim_dialect *dia;
	pim_csv_row *row;
	const pim_fpos *pos;
	unsigned char *lists = NULL;
	char err[512];
	int rc, broken, planned = 0;

	memset(&ro, 0, sizeof ro);
	ro.format = fmt;
	ro.max_field = r->o->max_field_size;
	ro.key_name = r->m && r->m->key_column ? r->m->key_column
		      : r->s->key >= 0	     ? r->s->attrs[r->s->key].code
					     : NULL;
	ro.schema_name = pim_schema_name(r->s);
	err[0] = '\0';
	rc = pim_recin_open(&rd, path, &ro, reader_diag, r, err, sizeof err);
	if (rc == PIM_EIO)
		return io_failed(r, path, err);
	if (rc == PIM_EDATA)
		return 0; /* reported: the file is refused as a whole */
	if (rc)
		return rc;
	r->st->files++;
	r->st->delimiter = 0; /* no CSV dialect */
	r->st->decimal = '.';
	r->st->encoding = pim_encoding_name(PIM_ENC_UTF8);
	r->rin = rd;
	r->raw_col = pim_recin_raw_col(rd);
	hdr = pim_recin_header(rd);
	dia = pim_recin_dialect(rd);
	if (pim_recin_records(rd) == 0) {
		if (fmt == PIM_FORMAT_JSONL)
			emitf(r, 1, 0, "empty-file", PIM_SEV_ERROR,
			      "the file is empty: no records");
		else
			emitf(r, 1, 0, "no-rows", PIM_SEV_WARNING,
			      "the file has no products");
		rc = 0;
		goto out;
	}
	r->fpos = pim_recin_header_pos(rd);
	r->n_fpos = hdr->n;
	rc = plan_columns(r, hdr, 1);
	r->fpos = NULL;
	planned = rc == 0;
	if (rc && rc != PIM_EDATA)
		goto out;
	/* 2: the reject file writes JSON Lines records as they were */
	r->has_header = r->raw_col >= 0 ? 2 : 1;
	if (planned) {
		lists = pim_calloc(hdr->n + 1, 1);
		if (!lists) {
			rc = PIM_ENOMEM;
			goto out;
		}
		for (size_t j = 0; j < hdr->n; j++)
			lists[j] = r->plan[j].slot < 0 ||
				   r->s->attrs[r->slots[r->plan[j].slot].attr]
						   .type == PIM_TYPE_MULTISELECT;
		pim_recin_set_lists(rd, lists);
	}
	rc = 0;
	while (!r->stop && (rc = pim_recin_next(rd, &row, &pos, &broken)) == 1) {
		rc = 0;
		if (!planned)
			continue; /* the reader still reports what it finds */
		r->fpos = pos;
		r->n_fpos = row->n;
		if (broken)
			deliver_broken(r, row, dia);
		else
			rc = process_row(r, row, dia);
		r->fpos = NULL;
		if (rc)
			break;
	}
out:
	r->fpos = NULL;
	r->rin = NULL;
	r->raw_col = -1;
	pim_recin_close(rd);
	pim_free(lists);
	free_header(r);
	return rc < 0 ? rc : 0;
}

static pim_format file_format(const pim_validate_options *o,
			      const char *path)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');

	if (o->format != PIM_FORMAT_AUTO)
		return o->format;
	if (!dot || (slash && dot < slash))
		return PIM_FORMAT_CSV;
	if (!strcasecmp(dot, ".jsonl") || !strcasecmp(dot, ".ndjson"))
		return PIM_FORMAT_JSONL;
	if (!strcasecmp(dot, ".xml"))
		return PIM_FORMAT_XML;
	return PIM_FORMAT_CSV;
}

static int run_file(run *r, const char *path)
{
	pim_dialect d = PIM_DIALECT_INIT;
	pim_csv *csv = NULL;
	pim_csv_row *row;
	pool *pl = NULL;
	char err[512];
	int rc, first = 1, has_header = 1, planned = 0;
	unsigned long rows_before = r->st->rows;
	unsigned long errors_before = r->st->errors;

	if (r->m)
		d = r->m->dialect;
	if (r->o->delimiter)
		d.delimiter = r->o->delimiter;
	if (r->o->quote)
		d.quote = r->o->quote;
	if (r->o->decimal)
		d.decimal = r->o->decimal;
	if (r->o->header >= 0)
		d.header = r->o->header;
	if (r->o->encoding) {
		int e = pim_encoding_parse(r->o->encoding);
		if (e < 0)
			return PIM_EINVALID;
		d.encoding = (pim_encoding)e;
	}
	if (!r->file_csv[r->file_index])
		return run_records(r, path, file_format(r->o, path));
	rc = pim_csv_open(&csv, path, &d, r->o->max_field_size, reader_diag, r,
			  err, sizeof err);
	if (rc == PIM_EIO)
		return io_failed(r, path, err);
	if (rc == PIM_EDATA)
		return 0; /* reported: the file cannot be read as text */
	if (rc)
		return rc;
	r->st->files++;
	r->csv = csv;
	{
		const pim_dialect *dd = pim_csv_dialect(csv);
		r->st->delimiter = dd->delimiter;
		r->st->decimal = dd->decimal;
		r->st->encoding = pim_encoding_name(dd->encoding);
	}
	while (!r->stop && (rc = pim_csv_next(csv, &row)) == 1) {
		if (first) {
			first = 0;
			if (d.header == 0 || (d.header < 0 && !r->m &&
					      row->n > 0)) {
				/* detect: a header has names, not values */
				if (d.header < 0) {
					for (size_t j = 0; j < row->n; j++)
						if (row->len[j] == 0 ||
						    looks_numeric(row->field[j],
								  row->len[j]))
							has_header = 0;
				} else {
					has_header = 0;
				}
			}
			r->has_header = has_header;
			rc = plan_columns(r, row, has_header);
			planned = rc == 0;
			if (rc == PIM_EDATA) {
				rc = 0;
				break;
			}
			if (rc)
				break;
			/* the header is known: a big file's pieces can be
			 * shared out now */
			if ((rc = pool_start(&pl, r, csv)))
				break;
			if (has_header)
				continue;
		}
		if (row_blank(row)) {
			emitf(r, row->line, 0, "blank-row", PIM_SEV_WARNING,
			      "row with only empty fields skipped");
			continue;
		}
		if ((rc = process_row(r, row, pim_csv_dialect(csv))))
			break;
	}
	if (pl) {
		int prc = pool_finish(r, pl);
		if (!rc)
			rc = prc;
	}
	if (rc == 0 && first && r->st->errors == errors_before)
		emitf(r, 1, 0, "empty-file", PIM_SEV_ERROR,
		      "the file is empty: no header, no rows");
	else if (rc == 0 && planned && r->st->rows == rows_before &&
		 r->st->errors == errors_before && has_header && !r->stop)
		emitf(r, 1, 0, "no-rows", PIM_SEV_WARNING,
		      "the file has a header but no rows");
	pim_csv_close(csv);
	r->csv = NULL;
	free_header(r);
	return rc < 0 ? rc : 0;
}

int pim_pipeline_run(pim_validate_stats *st, const pim_schema *s,
		     const char *const *paths, size_t n,
		     const pim_validate_options *o, pim_diag_fn diag,
		     void *dctx, pim_record_fn rec, void *rctx)
{
	run r;
	int rc = 0, io_failed = 0;

	memset(st, 0, sizeof *st);
	st->encoding = "";
	if (!o || o->version != PIM_VALIDATE_OPTIONS_VERSION || !s)
		return PIM_EINVALID;
	if (o->encoding && pim_encoding_parse(o->encoding) < 0)
		return PIM_EINVALID;
	if ((unsigned)o->format > PIM_FORMAT_BMECAT)
		return PIM_EINVALID;
	if (n > 65535)
		return PIM_ELIMIT;
	memset(&r, 0, sizeof r);
	r.s = s;
	r.o = o;
	r.m = o->mapping;
	r.diag = diag;
	r.dctx = dctx;
	r.st = st;
	r.rec = rec;
	r.rctx = rctx;
	r.paths = paths;
	r.n_paths = n;
	r.raw_col = -1;
	pim_buf_init(&r.tmp, 0);
	pim_buf_init(&r.tmp2, 0);
	if ((rc = pim_slots_build(&r.slots, &r.n_slots, s)))
		return rc;
	r.vals = pim_calloc_lines(r.n_slots + 1, sizeof *r.vals);
	r.value = pim_calloc_lines(r.n_slots + 1, sizeof *r.value);
	r.slot_field = pim_calloc_lines(r.n_slots + 1, sizeof *r.slot_field);
	r.slot_unique = pim_calloc(r.n_slots + 1, sizeof *r.slot_unique);
	r.given = pim_calloc(r.n_slots + 1, 1);
	r.file_csv = pim_calloc(n + 1, 1);
	if (!r.vals || !r.value || !r.slot_field || !r.slot_unique ||
	    !r.given || !r.file_csv) {
		rc = PIM_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		r.file_csv[i] = file_format(o, paths[i]) == PIM_FORMAT_CSV;
	for (size_t i = 0; i < r.n_slots; i++)
		r.slot_unique[i] = s->attrs[r.slots[i].attr].unique ||
				   (long)r.slots[i].attr == s->key;
	r.check_l = pim_calloc(s->n_checks + 1, sizeof *r.check_l);
	r.check_r = pim_calloc(s->n_checks + 1, sizeof *r.check_r);
	r.const_slot = pim_calloc((r.m ? r.m->n_constants : 0) + 1,
				  sizeof *r.const_slot);
	if (!r.check_l || !r.check_r || !r.const_slot) {
		rc = PIM_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < s->n_checks; i++) {
		r.check_l[i] = pim_slot_find(r.slots, r.n_slots,
					     s->checks[i].left, NULL);
		r.check_r[i] = s->checks[i].right_is_attr
				       ? pim_slot_find(r.slots, r.n_slots,
						       s->checks[i].right, NULL)
				       : -1;
	}
	for (size_t i = 0; r.m && i < r.m->n_constants; i++)
		r.const_slot[i] = pim_slot_find(r.slots, r.n_slots,
						(size_t)r.m->constants[i].attr,
						r.m->constants[i].locale);
	if ((rc = pim_uniq_new(&r.uniq)))
		goto out;
	/* the catalog must have this very schema for its columns to fit */
	if (o->catalog && !r.rec && pim_catalog_schema(o->catalog) == s) {
		unsigned char *none = pim_calloc(r.n_slots + 1, 1);
		if (!none) {
			rc = PIM_ENOMEM;
			goto out;
		}
		rc = pim_cat_writer_new(&r.cw, o->catalog, none);
		pim_free(none);
		if (rc)
			goto out;
	}
	for (size_t i = 0; i < n && !r.stop; i++) {
		r.file = paths[i];
		r.file_index = i;
		rc = run_file(&r, paths[i]);
		if (rc == PIM_EIO) {
			io_failed = 1;
			rc = 0;
			continue;
		}
		if (rc)
			goto out;
	}
	if (!r.stop && (rc = pim_uniq_finish(r.uniq, dup_hit, &r)))
		goto out;
	rc = io_failed ? PIM_EIO : st->errors ? PIM_EDATA : 0;
out:
	for (size_t i = 0; r.vals && i < r.n_slots; i++)
		pim_buf_free(&r.vals[i]);
	pim_free(r.vals);
	pim_free(r.value);
	pim_free(r.slot_field);
	pim_free(r.slot_unique);
	pim_free(r.given);
	pim_free(r.file_csv);
	pim_free(r.check_l);
	pim_free(r.check_r);
	pim_free(r.const_slot);
	pim_free(r.slots);
	pim_buf_free(&r.tmp);
	pim_buf_free(&r.tmp2);
	pim_uniq_free(r.uniq);
	pim_cat_writer_free(r.cw);
	free_header(&r);
	return rc;
}

int pim_validate(pim_validate_stats *st, const pim_schema *s,
		 const char *const *paths, size_t n,
		 const pim_validate_options *o, pim_diag_fn diag, void *ctx)
{
	return pim_pipeline_run(st, s, paths, n, o, diag, ctx, NULL, NULL);
}
