/*
 * pipeline.h - reader -> mapper -> validator over supplier files (private).
 * `pim validate` runs it with no writer; import gives it a record callback.
 */
#ifndef PIM_PIPELINE_H
#define PIM_PIPELINE_H

#include "csvin.h"
#include "mapping.h"
#include "pim.h"
#include "schema.h"

/* One mapped, checked record. Pointers are valid during the callback. */
typedef struct pim_record {
	const char *file;
	size_t file_index;
	unsigned long line;
	size_t n_slots;
	const pim_slot *slots;   /* the schema's slots, see pim_slots_build */
	const char *const *value; /* canonical per slot; NULL = not given
				     or empty */
	const unsigned char *given; /* per slot: the file has a column (or a
				       constant) for it */
	int errors;               /* errors found in this record */
	const pim_csv_row *raw;   /* the row as read (UTF-8) */
	const char *const *header; /* column names of the file (UTF-8) */
	size_t n_header;
	int has_header;
	unsigned long long bytes_done, bytes_total; /* of the current file */
	unsigned long records_hint; /* records in the current file, about */
	const pim_dialect *dialect;
	/* Filled by pim_pipeline_relay, NULL otherwise: per slot, for the
	 * key and the unique attributes, the value's pim_record_hash (0 when
	 * NULL; 0 in the other slots); and the same for the record that
	 * follows, when the relay already holds it, so that a consumer can
	 * start loading what it will look up next. */
	const uint64_t *hash;
	const uint64_t *next_hash;
	int has_fp;
	uint64_t fp;              /* with has_fp: pim_record_fingerprint */
} pim_record;

/* The hash of a value in slot `slot`: pim_hash64 seeded with the slot,
 * with bit 0 set so that it is never 0. */
uint64_t pim_record_hash(const char *value, size_t slot);

/* A hash of what the record says about every slot: given or not, and the
 * value. `tmp` is scratch space; 0 when it cannot grow. */
uint64_t pim_record_fingerprint(const pim_record *r, pim_buf *tmp);

typedef int (*pim_record_fn)(const pim_record *r, void *ctx);

/* Slots: every attribute once, localizable ones once per locale. */
int pim_slots_build(pim_slot **out, size_t *n, const pim_schema *s);
long pim_slot_find(const pim_slot *slots, size_t n, size_t attr,
		   const char *locale);

int pim_pipeline_run(pim_validate_stats *st, const pim_schema *s,
		     const char *const *paths, size_t n,
		     const pim_validate_options *o, pim_diag_fn diag,
		     void *dctx, pim_record_fn rec, void *rctx);

/* As pim_pipeline_run, with reading and checking in a second thread; diag
 * and rec are called in the calling thread, in order. Without `raw`, a
 * record's raw row comes without its fields (raw->n 0): they cross
 * between the threads only when the caller writes them out. */
int pim_pipeline_relay(pim_validate_stats *st, const pim_schema *s,
		       const char *const *paths, size_t n,
		       const pim_validate_options *o, int raw,
		       pim_diag_fn diag, void *dctx, pim_record_fn rec,
		       void *rctx);

#endif
