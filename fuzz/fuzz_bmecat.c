/*
 * fuzz_bmecat.c - libFuzzer target for BMEcat input (BMEcat 2005 PRODUCT
 * or 1.2 ARTICLE, lib/bmecatin.c): the whole validation pipeline
 * (pim_validate with PIM_FORMAT_BMECAT) on one file against the example
 * schema; `pim import --format bmecat` reads the same way. The same target
 * as fuzz_xml.c (which see for how byte 0 is read) with another format.
 */
#define FUZZ_FORMAT PIM_FORMAT_BMECAT
#include "fuzz_xml.c"
