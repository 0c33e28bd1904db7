/*
 * schema.h - the in-memory schema model (private): attributes with their
 * constraints, families, roles and cross-field checks, plus the UN/ECE
 * Rec 20 unit table used by measures.
 */
#ifndef PIM_SCHEMA_H
#define PIM_SCHEMA_H

#include <stddef.h>

#include "pim.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

typedef enum {
	DIM_NONE = 0,
	DIM_MASS,
	DIM_LENGTH,
	DIM_AREA,
	DIM_VOLUME,
	DIM_TIME,
	DIM_COUNT,
	DIM__COUNT
} pim_dimension;

typedef struct pim_unit {
	const char *code;    /* UN/ECE Rec 20 common code, e.g. "KGM" */
	pim_dimension dim;
	double factor;       /* to the dimension's base unit */
	const char *symbol;  /* what people write: "kg" */
	const char *name;
} pim_unit;

const pim_unit *pim_unit_find(const char *code_or_symbol);
const char *pim_dimension_name(pim_dimension d);
pim_dimension pim_dimension_find(const char *name);

typedef struct pim_label {
	char *locale;
	char *text;
} pim_label;

typedef struct pim_attr {
	char *code;
	pim_type type;
	int required, unique, localizable;
	int has_min, has_max;
	double min, max;          /* numbers, prices, measures; dates as
				     yyyymmdd */
	char *min_text, *max_text; /* as written, for messages */
	long min_length, max_length; /* -1: none */
	char *pattern;
	pcre2_code *re;
	char **options;
	size_t n_options;
	char currency[4];         /* price: the default currency */
	char *const *currencies;  /* the schema's currencies (borrowed) */
	size_t n_currencies;
	const pim_unit *unit;     /* measure: the stored unit */
	pim_dimension dimension;
	int decimals;             /* -1: as given */
	pim_label *labels;
	size_t n_labels;
	unsigned long line, col;
} pim_attr;

typedef struct pim_role {
	char *name;
	size_t *attrs, n_attrs;       /* the view, in order */
	size_t *required, n_required; /* completeness */
	size_t *edit, n_edit;         /* write rights */
	/* labels[i] belongs to attrs[i]; one pim_label list per view slot */
	pim_label **labels;
	size_t *n_labels;
} pim_role;

typedef struct pim_family {
	char *name;
	size_t *attrs, n_attrs;
	size_t *required, n_required;
} pim_family;

typedef enum { CMP_LT, CMP_LE, CMP_GT, CMP_GE, CMP_EQ, CMP_NE } pim_cmp;

typedef struct pim_check {
	char *text;      /* as written */
	char *message;   /* optional */
	size_t left;     /* attribute index */
	pim_cmp op;
	int right_is_attr;
	size_t right;    /* attribute index */
	double factor;   /* right side is right * factor (1 by default) */
	double constant; /* when !right_is_attr */
} pim_check;

struct pim_schema {
	char *name;
	char *source;
	size_t source_len;
	char **locales;
	size_t n_locales;
	char **currencies;
	size_t n_currencies;
	pim_attr *attrs;
	size_t n_attrs;
	pim_family *families;
	size_t n_families;
	pim_role *roles;
	size_t n_roles;
	pim_check *checks;
	size_t n_checks;
	long key;          /* the identifier attribute, -1 if none */
};

const pim_role *pim_schema_role(const pim_schema *s, const char *name);
const char *pim_cmp_text(pim_cmp op);

/* Parse "YYYY-MM-DD" into yyyymmdd; -1 when not a valid date. */
long pim_date_ymd(const char *s, size_t len);

#endif
