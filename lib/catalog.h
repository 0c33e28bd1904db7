/*
 * catalog.h - the storage module's private interface. All SQL lives in
 * catalog*.c; the rest of the library talks to the catalog through these
 * functions, so another backend can replace SQLite behind them.
 */
#ifndef PIM_CATALOG_H
#define PIM_CATALOG_H

#include <sqlite3.h>

#include "buf.h"
#include "pim.h"
#include "schema.h"
#include "pipeline.h"

/* The on-disk format this pim writes; PRAGMA user_version. Format 2:
 * history rows may leave the key, user, role and time to the product and
 * the batch. A catalog of format 1 becomes format 2 in its first write
 * transaction. */
#define PIM_CATALOG_FORMAT 2
/* PRAGMA application_id: "PIM1" */
#define PIM_CATALOG_APP_ID 0x50494D31

struct pim_catalog {
	sqlite3 *db;
	pim_schema *schema;
	pim_slot *slots;      /* the schema's slots (pipeline.h) */
	size_t n_slots;
	char **col;           /* per slot: the product column, quoted */
	size_t key_slot;      /* the slot of the identifier attribute */
	sqlite3_stmt *hist;   /* INSERT INTO history, prepared once */
	char *path;
	char *user;
	char *role;
	int readonly;
	int key_dropped;      /* pim_cat_secondary_indexes dropped the key's
				 index inside the current transaction */
	int format;           /* PRAGMA user_version when opened */
	int busy_ms;          /* the busy timeout */
	char errmsg[512];
};

/* Sets the handle's message and returns `code`. */
int pim_cat_error(pim_catalog *cat, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Maps an SQLite failure to a PIM_E* code with the database's message. */
int pim_cat_sqlerr(pim_catalog *cat, int sqlrc, const char *what);

int pim_cat_begin(pim_catalog *cat);    /* BEGIN IMMEDIATE */
int pim_cat_commit(pim_catalog *cat);
void pim_cat_rollback(pim_catalog *cat);

/* Outside a transaction: rollback != 0 switches the catalog from WAL
 * mode to a rollback journal for a load into an empty catalog, whose
 * pages are then written once rather than twice; 1 when it switched (it
 * never waits: with another connection open it keeps WAL and returns 0).
 * rollback == 0 goes back to WAL mode (waiting up to the busy timeout);
 * 1 when the catalog is in WAL mode. */
int pim_cat_journal(pim_catalog *cat, int rollback);

/* Builds cat->slots and cat->col from cat->schema. */
int pim_cat_slots(pim_catalog *cat);

/* The column name of a slot: code, or code@locale; into buf. */
void pim_slot_column(char *buf, size_t len, const pim_schema *s,
		     const pim_slot *slot);

/* ---- batches and history (catalog_store.c) ---- */

/* Starts a batch inside the current transaction; *id gets its number. */
int pim_cat_batch_begin(pim_catalog *cat, long long *id, const char *kind,
			const char *files);
/* Finishes it with its counts (a JSON object). */
int pim_cat_batch_end(pim_catalog *cat, long long id, const char *counts);
/* Records one attribute change. The row leaves the product's key, the
 * user, the role and the time to the product and the batch (an empty
 * sku and at, a NULL user and role): pim_cat_history_keys writes the key
 * in before a product row goes. */
int pim_cat_history(pim_catalog *cat, long long batch, long long product,
		    const char *attribute, const char *old,
		    const char *new_value, const char *source);
/* Writes the key into the history rows of the products `where` (an SQL
 * condition on product, with ?1 bound to `arg`) selects, before they are
 * removed: a product number can be given again. */
int pim_cat_history_keys(pim_catalog *cat, const char *where, long long arg);

/*
 * Before a batch that may record about `expected` changes: when that is
 * more than the history holds so far, drops the history's indexes
 * (*dropped = 1) so that pim_cat_history_bulk_end builds them once, by
 * sorting, instead of row by row. Inside the caller's transaction, so a
 * rollback brings them back.
 */
int pim_cat_history_bulk_begin(pim_catalog *cat, long long expected,
			       int *dropped);
int pim_cat_history_bulk_end(pim_catalog *cat, int dropped);

/* ---- product reads and writes for bulk work (catalog_store.c) ---- */

typedef struct pim_cat_writer pim_cat_writer;

/* Prepares statements that write the slots marked in `write` (per slot). */
int pim_cat_writer_new(pim_cat_writer **out, pim_catalog *cat,
		       const unsigned char *write);
void pim_cat_writer_free(pim_cat_writer *w);

typedef struct pim_cat_row {
	long long id;
	int has_src;
	unsigned long long src;
	long long created_batch;
	long long updated_batch;
	int archived;
	const char **value; /* per slot; NULL = empty. Valid until the next
			       lookup. */
} pim_cat_row;

/* The stored fingerprint of product `key`: 1 when it has one, 0 when it
 * has none or does not exist. */
int pim_cat_lookup_src(pim_cat_writer *w, const char *key,
		       unsigned long long *src);
/* Sets the stored fingerprint of product `id` alone: its values already
 * are what the record with fingerprint `src` would write. */
int pim_cat_set_src(pim_cat_writer *w, long long id, unsigned long long src);
/* Looks a product up by key: 1 found (row filled), 0 not found. */
int pim_cat_lookup(pim_cat_writer *w, const char *key, pim_cat_row *row);
/* Inserts a product with `value` (per slot) for the written slots. */
int pim_cat_insert(pim_cat_writer *w, long long *id, const char *key,
		   const char *const *value, long long batch,
		   unsigned long long src, const char *now);
/* Writes `value` (per slot) into the written slots of product `id`. */
int pim_cat_update(pim_cat_writer *w, long long id,
		   const char *const *value, long long batch,
		   unsigned long long src, int has_src, const char *now);

/* Another product (not `exclude`) holding `value` in `slot`: 1 and its
 * key in sku, or 0; the statement is kept in cache[slot] (per slot, NULL
 * at first, finalized by the caller). */
int pim_cat_owner_of(pim_catalog *cat, sqlite3_stmt **cache, size_t slot,
		     const char *value, long long exclude, char *sku,
		     size_t len);
/* Another product (not `exclude`) holding `value` in `slot`: 1 and its
 * key in sku, or 0. */
int pim_cat_value_owner(pim_cat_writer *w, size_t slot, const char *value,
			long long exclude, char *sku, size_t len);

/* Drops (create = 0) or builds (create = 1) the indexes other than the
 * key's: a bulk load into an empty catalog builds them once at the end
 * instead of row by row. Inside the caller's transaction. */
int pim_cat_secondary_indexes(pim_catalog *cat, int create);

/* Drops (create = 0) or builds (create = 1) the index on _updated_batch
 * alone, which every product write also changes. */
int pim_cat_updated_index(pim_catalog *cat, int create);

/* Another product than `key` holding `value` in `slot`: 1 and its key
 * in sku, or 0. */
int pim_cat_value_other(pim_cat_writer *w, size_t slot, const char *value,
			const char *key, char *sku, size_t len);

/* Current UTC time as ISO 8601 with seconds, into buf (>= 21 bytes). */
void pim_cat_now(char *buf, size_t len);

#endif
