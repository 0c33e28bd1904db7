/*
 * recin.h - record readers for JSON Lines and pim's XML exchange format
 * (private). Each reads its file twice: the first pass collects the keys
 * (attribute columns) in order of first appearance, which become the
 * header; the second turns every record into a row with one field per
 * header entry, so the CSV pipeline maps and checks it unchanged.
 * Also the strict JSON parser of one line (RFC 8259) used by the reader.
 */
#ifndef PIM_RECIN_H
#define PIM_RECIN_H

#include <stdio.h>

#include "buf.h"
#include "csvin.h"
#include "pim.h"

/* ---- JSON ---------------------------------------------------------------- */

typedef enum {
	PIM_JSON_NULL = 0,
	PIM_JSON_FALSE,
	PIM_JSON_TRUE,
	PIM_JSON_NUMBER,
	PIM_JSON_STRING,
	PIM_JSON_ARRAY,
	PIM_JSON_OBJECT
} pim_json_type;

#define PIM_JSON_MAX_DEPTH 64
#define PIM_JSON_MAX_NODES 65536

/* One value. Strings and keys are decoded into the document's text buffer
 * (NUL-terminated, may hold NUL bytes: use the lengths); a number keeps
 * its text exactly as written. Children are linked by index; 0 = none
 * (node 0 is the root and never a child). */
typedef struct pim_json_node {
	pim_json_type type;
	size_t pos, end;     /* the value's bytes [pos, end) in the input */
	size_t str, len;     /* STRING, NUMBER: text offset and length */
	size_t key, key_len; /* a member's key: text offset and length */
	size_t key_pos;      /* a member's key: its opening quote */
	size_t n;            /* ARRAY, OBJECT: number of children */
	size_t first, next;  /* first child; next sibling */
} pim_json_node;

typedef struct pim_json_doc {
	pim_json_node *node;   /* node[0] is the root after a parse */
	size_t n, cap;
	pim_buf text;          /* decoded strings and numbers */
	unsigned max_depth;    /* 0 = PIM_JSON_MAX_DEPTH */
	size_t max_nodes;      /* 0 = PIM_JSON_MAX_NODES */
} pim_json_doc;

typedef struct pim_json_err {
	size_t pos;      /* 0-based byte offset of the problem */
	char msg[160];
} pim_json_err;

void pim_json_init(pim_json_doc *d);
void pim_json_free(pim_json_doc *d);

/*
 * Parses exactly one JSON text of `len` bytes (surrounding white space
 * allowed). Returns 0 with the tree in *d, PIM_EPARSE with *err filled
 * (syntax, invalid UTF-8, depth or node limit), or PIM_ENOMEM.
 */
int pim_json_parse(pim_json_doc *d, pim_json_err *err, const char *s,
		   size_t len);

/* A node's string or number text, and a member's key. Borrowed from d. */
const char *pim_json_text(const pim_json_doc *d, const pim_json_node *n);
const char *pim_json_keytext(const pim_json_doc *d, const pim_json_node *n);

/* ---- record readers -------------------------------------------------------- */

/* Where a field's value is: line and 1-based byte column (0: unknown). */
typedef struct pim_fpos {
	unsigned long line, col;
} pim_fpos;

typedef struct pim_recin_opts {
	pim_format format;       /* PIM_FORMAT_JSONL or PIM_FORMAT_XML */
	size_t max_field;        /* bytes per value; 0 = PIM_CSV_MAX_FIELD */
	const char *key_name;    /* XML: the column <product sku> fills */
	const char *schema_name; /* XML: warn when the file names another */
} pim_recin_opts;

/* A JSON Lines line may be this many times the largest field. */
#define PIM_JSONL_LINE_FACTOR 16

typedef struct pim_recin pim_recin;

/*
 * Opens `path` ("-" is standard input, spooled to a temporary file) and
 * runs the first pass. Problems go to diag. Returns 0; PIM_EIO (the reason
 * in errbuf); PIM_EDATA when the file as a whole is refused (reported: XML
 * that is not well-formed, a DOCTYPE, too many keys); or PIM_ENOMEM.
 */
int pim_recin_open(pim_recin **out, const char *path,
		   const pim_recin_opts *o, pim_diag_fn diag, void *ctx,
		   char *errbuf, size_t errlen);

/* The header: column names, with the line of the first record. For JSON
 * Lines the last column is the line as read (see pim_recin_raw_col). */
const pim_csv_row *pim_recin_header(const pim_recin *rd);
/* Where each column first appeared. */
const pim_fpos *pim_recin_header_pos(const pim_recin *rd);
/* The column holding each record's text as read, or -1. */
long pim_recin_raw_col(const pim_recin *rd);

/* Per column: 1 when the column takes a list (multiselect, or ignored).
 * A list given to another column makes the record invalid. Borrowed. */
void pim_recin_set_lists(pim_recin *rd, const unsigned char *ok);

/*
 * The next record. Returns 1 with *row (valid until the next call; one
 * field per header column, "" when absent) and *pos (per field), 0 at the
 * end, or a negative code. *broken is set when the record could not be
 * read (reported to diag with its line and column): its fields are then
 * empty except the raw column, and it must be rejected as a whole.
 */
int pim_recin_next(pim_recin *rd, pim_csv_row **row, const pim_fpos **pos,
		   int *broken);

/* The field of a column the record does not have (compare pointers):
 * unlike an empty value, it is not checked as required. */
extern char pim_recin_absent[];

unsigned long pim_recin_records(const pim_recin *rd);
void pim_recin_progress(const pim_recin *rd, unsigned long long *done,
			unsigned long long *total);
const pim_dialect *pim_recin_dialect(const pim_recin *rd);
void pim_recin_close(pim_recin *rd);

/* Whether `s` is one JSON object (used by the reject file). */
int pim_json_is_object(const char *s, size_t len);

/* The XSD of the exchange format, built in from schemas/pim-products.xsd. */
extern const char pim_products_xsd[];
extern const unsigned long pim_products_xsd_len;

/* ---- shared by the readers (recin.c) --------------------------------------- */

typedef struct recin_ent {
	size_t col;
	size_t off, len;  /* in vals */
	size_t next;      /* next entry of the same column + 1; 0 = none */
	int list;         /* given as a list */
} recin_ent;

struct pim_recin {
	pim_format format;
	size_t max_field;
	pim_diag_fn diag;
	void *dctx;
	const char *path;       /* for diagnostics */
	FILE *f;
	unsigned long long size, done;

	/* header */
	char **names;
	size_t *name_len;
	pim_fpos *name_pos;
	size_t n_cols, cap_cols;
	size_t *hash;           /* column + 1; 0 = empty */
	size_t hash_cap;
	pim_csv_row header;
	long raw_col;
	const unsigned char *lists;
	unsigned long records;
	unsigned long first_line;

	/* the record being built */
	pim_buf vals;
	recin_ent *ents;
	size_t n_ents, cap_ents;
	unsigned long *gen;     /* per column: record number that set it */
	size_t *first_ent;      /* per column: entry + 1 */
	size_t *last_ent;
	unsigned long cur_gen;
	char **field;
	size_t *flen;
	pim_fpos *fpos;
	pim_csv_row row;
	pim_dialect dialect;

	void *impl;             /* the format's own state */
	void (*close_impl)(pim_recin *rd);
	int (*next_impl)(pim_recin *rd, int *broken);
};

/* Finds (or with create, adds) the column `name`; returns its index, -1
 * when absent, or a negative PIM_E* - 1 code... see recin.c. */
long pim_recin_col(pim_recin *rd, const char *name, size_t len,
		   unsigned long line, unsigned long col, int create);
void pim_recin_row_begin(pim_recin *rd, unsigned long line);
/* Adds a value to column `col`. Returns 0, 1 when the column already has
 * a value and join is 0, or PIM_ENOMEM. */
int pim_recin_put(pim_recin *rd, size_t col, const char *s, size_t len,
		  unsigned long line, unsigned long vcol, int list, int join);
/* Builds the row. Returns 0, or column + 1 of a list given to a column
 * that takes none, or PIM_ENOMEM. */
long pim_recin_row_end(pim_recin *rd);
/* Emits a diagnostic of the reader. */
void pim_recin_diag(pim_recin *rd, unsigned long line, unsigned long col,
		    const char *code, pim_severity sev, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

int pim_jsonl_start(pim_recin *rd);
int pim_xml_start(pim_recin *rd, const pim_recin_opts *o);

#endif
