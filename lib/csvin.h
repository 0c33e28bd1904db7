/*
 * csvin.h - the CSV reader (private): detects the dialect from the whole
 * file (delimiter, quote, line ends, encoding, decimal separator), converts
 * to UTF-8 with iconv, and streams rows parsed by libcsv, each with the line
 * of its first byte. Structural problems become diagnostics, never crashes.
 */
#ifndef PIM_CSVIN_H
#define PIM_CSVIN_H

#include <stddef.h>

#include "pim.h"

typedef enum {
	PIM_ENC_AUTO = 0,
	PIM_ENC_UTF8,
	PIM_ENC_CP1252,
	PIM_ENC_LATIN1,
	PIM_ENC_UTF16LE,
	PIM_ENC_UTF16BE
} pim_encoding;

typedef enum { PIM_EOL_LF = 0, PIM_EOL_CRLF, PIM_EOL_CR } pim_eol;

typedef struct pim_dialect {
	char delimiter;       /* 0 = detect */
	char quote;           /* 0 = '"' */
	char decimal;         /* 0 = detect */
	int header;           /* -1 detect, 0 no, 1 yes */
	pim_encoding encoding;
	pim_eol eol;          /* detected */
	int bom;              /* detected: the file starts with a BOM */
	int utf8_valid;       /* detected: rows come out as valid UTF-8 */
} pim_dialect;

#define PIM_DIALECT_INIT { 0, 0, 0, -1, PIM_ENC_AUTO, PIM_EOL_LF, 0, 0 }

const char *pim_encoding_name(pim_encoding e);
/* Parses "utf-8", "windows-1252", "cp1252", "iso-8859-1", "latin1",
 * "utf-16le", "utf-16be", "auto"; returns -1 when unknown. */
int pim_encoding_parse(const char *s);

typedef struct pim_csv_row {
	unsigned long line;   /* 1-based line of the record's first byte */
	size_t n;             /* fields */
	char **field;         /* UTF-8, NUL-terminated */
	size_t *len;
} pim_csv_row;

typedef struct pim_csv pim_csv;

#define PIM_CSV_MAX_FIELD (1u << 20)  /* default: 1 MiB per field */
#define PIM_CSV_MAX_COLUMNS 4096
#define PIM_CSV_SPLIT_MIN (8u << 20)  /* files this big are cut */
#define PIM_CSV_PIECE_SIZE (1u << 20) /* into pieces this big or more */
#define PIM_CSV_PIECES_MAX 64         /* and this many at most */

/*
 * Opens `path` ("-" is stdin, spooled to a temporary file) and runs the
 * detection pass. Settings in `forced` that are not "detect" win.
 * Problems found (encoding) go to diag. Returns 0, PIM_EIO (the reason,
 * without the file name, is in errbuf), PIM_EDATA (the file cannot be read as text),
 * or PIM_ENOMEM.
 */
int pim_csv_open(pim_csv **out, const char *path, const pim_dialect *forced,
		 size_t max_field, pim_diag_fn diag, void *ctx, char *errbuf,
		 size_t errlen);

/* The dialect in use after detection. */
const pim_dialect *pim_csv_dialect(const pim_csv *csv);

/* Records (header included) the detection pass counted. */
unsigned long pim_csv_records(const pim_csv *csv);

/* Bytes of input read so far, and the input's size (0 if unknown). */
void pim_csv_progress(const pim_csv *csv, unsigned long long *done,
		      unsigned long long *total);

/*
 * The next row. Returns 1 with *row set (valid until the next call), 0 at
 * the end, or a negative code (PIM_EIO, PIM_ENOMEM). Rows that cannot be
 * read (a field over the size limit, an unterminated quote) are reported
 * to diag and skipped.
 */
int pim_csv_next(pim_csv *csv, pim_csv_row **row);

/*
 * A large file whose quotes are unambiguous is cut at record boundaries
 * into pieces (of 1 MiB or more) that several readers can share out.
 * pim_csv_pieces, called on the first reader once it has read the header,
 * makes that reader stop at the end of piece 0 and returns the number of
 * pieces (1: the file is not cut). pim_csv_reader makes another reader of
 * the same file (its diagnostics to diag), which reads nothing until
 * pim_csv_seek_piece puts it at the start of piece i (1 <= i < pieces);
 * it then reads to the end of that piece. Returns 0 or a PIM_E* code.
 */
size_t pim_csv_pieces(pim_csv *csv);
int pim_csv_reader(pim_csv *csv, pim_csv **out, pim_diag_fn diag, void *ctx);
int pim_csv_seek_piece(pim_csv *csv, size_t i);

void pim_csv_close(pim_csv *csv);

#endif
