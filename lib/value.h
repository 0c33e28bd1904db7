/*
 * value.h - strict parsing of raw cell text into an attribute's canonical
 * form, applying the attribute's constraints. Shared by validation, import,
 * `set` and schema changes, so every path accepts exactly the same values.
 */
#ifndef PIM_VALUE_H
#define PIM_VALUE_H

#include "buf.h"
#include "schema.h"

typedef struct pim_parse_opts {
	char decimal;           /* '.' or ','; 0 means '.' */
	int dmy_dates;          /* also accept dd.mm.yyyy and dd/mm/yyyy */
	const char *currency;   /* price currency when the value names none */
	const pim_unit *unit;   /* measure unit when the value names none */
	int utf8_ok;            /* the text is known to be valid UTF-8 */
} pim_parse_opts;

#define PIM_PARSE_OPTS_INIT { '.', 1, NULL, NULL, 0 }

typedef struct pim_value_err {
	const char *code; /* stable diagnostic code */
	char msg[256];
} pim_value_err;

/*
 * Parses `len` bytes of `in` for attribute `a` (not empty: the caller
 * handles empty cells). On success returns 0 and puts the canonical text in
 * `out` (cleared first). Returns 1 with `err` filled when the value is not
 * acceptable, or a negative PIM_E* code.
 */
int pim_value_parse(pim_buf *out, pim_value_err *err, const pim_attr *a,
		    const char *in, size_t len, const pim_parse_opts *o);

/* The numeric part of a canonical value (prices, measures, dates as
 * yyyymmdd); returns 0 when it has none. */
int pim_value_number(double *out, const pim_attr *a, const char *canon);

/* Writes m / 10^d with d decimals (a '-' first when neg) into t, which
 * has room for 48 bytes; returns the length. */
int pim_fixed(char *t, unsigned long long m, int neg, int d);

/* GS1 mod-10 check digit over `n` digits (the body, without the check). */
int pim_gtin_check_digit(const char *digits, size_t n);

/* Evaluates a schema check on two canonical values; 1 holds, 0 fails,
 * -1 when a side is missing or not comparable. */
int pim_check_eval(const pim_schema *s, const pim_check *ck,
		   const char *left, const char *right);

#endif
