/*
 * reject.h - the reject file: rejected rows in the input's own layout and
 * encoding, with `_line` and `_errors` columns saying why (private). JSON
 * Lines records come back as JSON Lines; XML products as CSV rows.
 */
#ifndef PIM_REJECT_H
#define PIM_REJECT_H

#include "csvin.h"

typedef struct pim_reject pim_reject;

int pim_reject_open(pim_reject **out, const char *path, char *err,
		    size_t errlen);
/* Writes one row; the header is written before the first row.
 * has_header 2 means JSON Lines records: the last field is the line as
 * read, written back as it was with "_line" and "_errors" members. */
int pim_reject_row(pim_reject *rj, const pim_dialect *d,
		   const char *const *header, size_t n_header, int has_header,
		   const char *const *field, size_t n_field, const char *file,
		   int with_file, unsigned long line, const char *errors);
/* Flushes and closes; returns PIM_EIO when writing failed. */
int pim_reject_close(pim_reject *rj);

#endif
