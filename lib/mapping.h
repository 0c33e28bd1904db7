/*
 * mapping.h - the mapping model (private): how one supplier's file layout
 * maps onto the schema (pim-mapping(5)): dialect, key column, columns to
 * attribute slots with locale, unit, currency, value maps and transforms,
 * constants and ignored columns.
 */
#ifndef PIM_MAPPING_H
#define PIM_MAPPING_H

#include "buf.h"
#include "csvin.h"
#include "schema.h"

enum {
	TR_TRIM = 1,
	TR_COLLAPSE = 2,
	TR_UPPER = 4,
	TR_LOWER = 8,
	TR_TITLE = 16
};

enum { MAPDEF_KEEP = 0, MAPDEF_EMPTY, MAPDEF_VALUE };

typedef struct pim_mapval {
	char *from;
	char *to;
} pim_mapval;

/* A slot: one attribute in one locale (NULL for non-localizable). */
typedef struct pim_slot {
	size_t attr;
	const char *locale; /* borrowed from the schema */
} pim_slot;

typedef struct pim_colmap {
	char *column;          /* header as written */
	long index;            /* 1-based column number when given as #N */
	long attr;             /* attribute index; -1 = ignored */
	const char *locale;    /* borrowed from the schema's locales */
	const pim_unit *unit;
	char currency[4];
	char *currency_column;
	pim_mapval *map;
	size_t n_map;
	int map_default;       /* MAPDEF_* */
	char *map_default_value;
	unsigned transforms;
	unsigned long line, col;
} pim_colmap;

typedef struct pim_constant {
	long attr;
	const char *locale;
	char *value;           /* canonical */
} pim_constant;

struct pim_mapping {
	char *name;
	pim_dialect dialect;
	int dmy;               /* day-first dates */
	char *key_column;
	pim_colmap *cols;
	size_t n_cols;
	pim_constant *constants;
	size_t n_constants;
	char **ignore;
	size_t n_ignore;
	unsigned transforms;   /* applied to every column */
	int unknown;           /* 0 warn, 1 ignore, 2 error */
};

/* Locale code as stored in the schema, or NULL when not one of its
 * locales. */
const char *pim_schema_locale(const pim_schema *s, const char *loc);

/* Applies transforms to `in`, into out. */
int pim_transform(pim_buf *out, const char *in, size_t len, unsigned tr);

/* Parses a transform name; 0 when unknown. */
unsigned pim_transform_parse(const char *name);

#endif
