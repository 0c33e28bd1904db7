/*
 * yml.h - a small read-only YAML document tree over libyaml, keeping the
 * line and column of every node so that schema, mapping and rules errors
 * can say FILE:LINE:COL. Aliases are refused and nesting is capped, so a
 * hostile file cannot make the tree explode.
 */
#ifndef PIM_YML_H
#define PIM_YML_H

#include <stddef.h>

#include "pim.h"

typedef enum { YML_SCALAR, YML_SEQ, YML_MAP } yml_kind;

typedef struct yml_node yml_node;
struct yml_node {
	yml_kind kind;
	unsigned long line, col; /* 1-based */
	char *str;               /* scalar text (NUL-terminated) */
	size_t len;              /* scalar length */
	int quoted;              /* scalar was written in quotes */
	int pending;             /* MAP under construction: key seen */
	size_t n;                /* SEQ: items; MAP: pairs */
	yml_node **items;        /* SEQ: n nodes; MAP: 2n nodes key,value */
};

typedef struct yml_doc {
	yml_node *root; /* NULL for an empty document */
	char *name;     /* file name for diagnostics */
	char *text;     /* the source text */
	size_t text_len;
} yml_doc;

/*
 * Parse `len` bytes. On a syntax error reports it to diag (code "yaml") and
 * returns PIM_EPARSE. Returns PIM_ENOMEM or PIM_ELIMIT too.
 */
int yml_parse(yml_doc *doc, const char *name, const char *data, size_t len,
	      pim_diag_fn diag, void *ctx);
void yml_free(yml_doc *doc);

/* Read a whole file into memory (caller frees), capped at `max` bytes. */
int yml_read_file(char **out, size_t *len, const char *path, size_t max,
		  char *err, size_t errlen);

/* yml_read_file for the loaders: a failure goes to diag (code "io") and
 * comes back as PIM_EIO (or PIM_ENOMEM). */
int yml_read_file_diag(char **out, size_t *len, const char *path, size_t max,
		       pim_diag_fn diag, void *ctx);

/* Map lookup: the value for key `key`, or NULL. */
yml_node *yml_get(const yml_node *map, const char *key);

/* Scalar helpers: 0 on success, -1 if not such a scalar. */
int yml_bool(const yml_node *n, int *out);
int yml_number(const yml_node *n, double *out);
int yml_is_null(const yml_node *n);

#endif
