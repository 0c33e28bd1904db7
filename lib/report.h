/*
 * report.h - private helpers of the data-quality report (report.c) that
 * unit tests reach: the folding of product names used to find likely
 * duplicates, and the grade of a score.
 */
#ifndef PIM_REPORT_H
#define PIM_REPORT_H

#include "buf.h"

/*
 * Appends to `out` the folded form of `len` bytes of UTF-8 text: ASCII
 * letters lower-cased, the Latin letters of U+00C0..U+017F reduced to
 * their base letters ("Æ" -> "ae", "ß" -> "ss", "ø" -> "o"), digits kept,
 * spaces, punctuation and symbols dropped, other letters kept as they
 * are. Two names that fold alike are likely the same product.
 * Returns 0 or PIM_ENOMEM.
 */
int pim_report_fold(pim_buf *out, const char *s, size_t len);

#endif
