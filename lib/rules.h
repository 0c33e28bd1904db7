/*
 * rules.h - enrichment rules (pim-rules(5)), private side: a rule set
 * applied in memory to one product's per-slot values at a time, shared by
 * `pim enrich` (rules.c) and `pim import --rules` (import.c).
 */
#ifndef PIM_RULES_H
#define PIM_RULES_H

#include <stdint.h>

#include "catalog.h"

/* The working state of one run: per-slot value buffers, reused for every
 * product, so applying rules allocates nothing once warmed up. */
typedef struct pim_rules_run pim_rules_run;

/* Another product (not the current one) holding `value` in `slot`: return
 * 1 and its key in sku, 0 when free, or a negative PIM_E* code. */
typedef int (*pim_rules_unique_fn)(void *ctx, size_t slot, const char *value,
				   char *sku, size_t len);

int pim_rules_run_new(pim_rules_run **out, const pim_rules *rules);
void pim_rules_run_free(pim_rules_run *run);

/* Where the run's diagnostics go; `file` and `line` locate the record
 * (import), or are NULL and 0 (enrich). `severity` is that of invalid
 * results (skips are always warnings). */
void pim_rules_run_diag(pim_rules_run *run, pim_diag_fn diag, void *ctx,
			pim_severity severity);
void pim_rules_run_unique(pim_rules_run *run, pim_rules_unique_fn fn,
			  void *ctx);

typedef struct pim_rules_product {
	const char *key;
	const char *family;
	long long updated_batch;  /* 0: being written now */
	const char *file;         /* for diagnostics, or NULL */
	unsigned long line;
} pim_rules_product;

/*
 * Applies every rule in order to the values `in` (per slot; NULL empty).
 * *out gets the values after the rules (per slot, borrowed from the run
 * or from `in`, valid until the next call). *changed is set when any
 * differs from `in`. Counts skipped and refused rule applications.
 * Returns 0, or a negative PIM_E* code (out of memory, a failed lookup).
 */
int pim_rules_apply(pim_rules_run *run, const char *const **out, int *changed,
		    const char *const *in, const pim_rules_product *p,
		    unsigned long *skipped, unsigned long *invalid);

/* The rule that wrote slot `slot` last in the last apply, or NULL. */
const char *pim_rules_writer(const pim_rules_run *run, size_t slot);

/* Per slot: 1 when some rule may write it. */
const unsigned char *pim_rules_targets(const pim_rules *rules);

/* A hash of the rules' text: records written with rules fingerprint it. */
uint64_t pim_rules_hash(const pim_rules *rules);

/* PIM_EDENIED (message on the catalog) when the catalog's role may not
 * edit an attribute some rule writes. */
int pim_rules_check_rights(pim_catalog *cat, const pim_rules *rules);

/* The catalog the rules were checked against. */
pim_catalog *pim_rules_catalog(const pim_rules *rules);

#endif
