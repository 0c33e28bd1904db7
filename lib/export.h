/*
 * export.h - what export.c shares inside the library (private): the typed
 * JSON writer into a buffer, the canonical-number test, and the built-in
 * merchant feed profile (schemas/merchant-profile.yaml).
 */
#ifndef PIM_EXPORT_H
#define PIM_EXPORT_H

#include <stdarg.h>
#include <stddef.h>

#include "buf.h"
#include "pim.h"

/* Appends s as a JSON string literal; a value as typed JSON (see
 * pim_json_write_value). Return 0 or the buffer's error. */
int pim_ex_json_string(pim_buf *b, const char *s);
int pim_ex_json_value(pim_buf *b, pim_type type, const char *v);

/* 1 when s[0..n) is a canonical decimal: [-]digits[.digits]. */
int pim_ex_is_number(const char *s, size_t n);

/* The default merchant profile, built in from
 * schemas/merchant-profile.yaml. */
extern const char pim_merchant_profile[];
extern const unsigned long pim_merchant_profile_len;

/* The BMEcat reader (bmecatin.c): plugs into the record readers of
 * recin.h like pim_xml_start. */
struct pim_recin;
struct pim_recin_opts;
int pim_bmecat_start(struct pim_recin *rd, const struct pim_recin_opts *o);

#endif
