/*
 * catalog_store.c - batches and the attribute-level history: every change
 * to a stored value is a history row (product, attribute, old, new, batch,
 * source, user, role, time), so history and undo are exact.
 */
#include "catalog.h"

#include <stdio.h>
#include <string.h>

int pim_cat_batch_begin(pim_catalog *cat, long long *id, const char *kind,
			const char *files)
{
	sqlite3_stmt *st = NULL;
	char now[32];
	int rc;

	pim_cat_now(now, sizeof now);
	rc = sqlite3_prepare_v2(cat->db,
				"INSERT INTO batch(kind, started_at, user, role, "
				"files) VALUES(?1, ?2, ?3, ?4, ?5)",
				-1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, now, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, cat->user, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, cat->role, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, files, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return pim_cat_sqlerr(cat, rc, "starting a batch");
	*id = sqlite3_last_insert_rowid(cat->db);
	return 0;
}

int pim_cat_batch_end(pim_catalog *cat, long long id, const char *counts)
{
	sqlite3_stmt *st = NULL;
	char now[32];
	int rc;

	pim_cat_now(now, sizeof now);
	rc = sqlite3_prepare_v2(cat->db,
				"UPDATE batch SET finished_at = ?1, counts = ?2 "
				"WHERE id = ?3",
				-1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, counts, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, id);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : pim_cat_sqlerr(cat, rc, "ending a batch");
}

int pim_cat_history(pim_catalog *cat, long long batch, long long product,
		    const char *attribute, const char *old,
		    const char *new_value, const char *source)
{
	/* the key, user, role and time are the product's and the batch's:
	 * a third less to write per change, and no index on the key of
	 * every row (history_sku holds only keys written in by
	 * pim_cat_history_keys and those of catalogs from before) */
	static const char sql[] =
		"INSERT INTO history(batch, product, sku, attribute, old, new, "
		"source, at) VALUES(?1, ?2, '', ?3, ?4, ?5, ?6, '')";
	sqlite3_stmt *st = cat->hist;
	int rc;

	/* prepared once per connection: history rows come in bulk */
	if (!st) {
		rc = sqlite3_prepare_v3(cat->db, sql, -1,
					SQLITE_PREPARE_PERSISTENT, &st, NULL);
		if (rc != SQLITE_OK)
			return pim_cat_sqlerr(cat, rc, "recording history");
		cat->hist = st;
	}
	sqlite3_bind_int64(st, 1, batch);
	sqlite3_bind_int64(st, 2, product);
	sqlite3_bind_text(st, 3, attribute, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, old, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, new_value, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, source, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : pim_cat_sqlerr(cat, rc, "recording history");
}

int pim_cat_history_keys(pim_catalog *cat, const char *where, long long arg)
{
	pim_buf q = PIM_BUF_INIT;
	sqlite3_stmt *st = NULL;
	const char *k = cat->col[cat->key_slot];
	int rc;

	pim_buf_printf(&q,
		       "UPDATE history SET sku = (SELECT p.%s FROM product p "
		       "WHERE p._id = history.product) WHERE product IN "
		       "(SELECT _id FROM product WHERE %s) AND sku = ''",
		       k, where);
	if (!q.data)
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	rc = sqlite3_prepare_v2(cat->db, q.data, -1, &st, NULL);
	pim_buf_free(&q);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, arg);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0
				 : pim_cat_sqlerr(cat, rc, "recording history");
}

static const char history_indexes[] =
	"CREATE INDEX history_product ON history(product, attribute);"
	"CREATE INDEX history_batch ON history(batch);"
	"CREATE INDEX history_sku ON history(sku) WHERE sku != '';";

int pim_cat_history_bulk_begin(pim_catalog *cat, long long expected,
			       int *dropped)
{
	sqlite3_stmt *st = NULL;
	long long rows = 0;
	int rc;

	*dropped = 0;
	/* the largest id: as good as a count here, and no scan */
	rc = sqlite3_prepare_v2(cat->db, "SELECT IFNULL(max(id), 0) FROM history",
				-1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		rows = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return pim_cat_sqlerr(cat, rc, "reading history");
	if (expected < 10000 || expected < rows)
		return 0;
	rc = sqlite3_exec(cat->db,
			  "DROP INDEX IF EXISTS history_product;"
			  "DROP INDEX IF EXISTS history_batch;"
			  "DROP INDEX IF EXISTS history_sku;",
			  NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return pim_cat_sqlerr(cat, rc, "preparing the history");
	*dropped = 1;
	return 0;
}

int pim_cat_history_bulk_end(pim_catalog *cat, int dropped)
{
	int rc;

	if (!dropped)
		return 0;
	rc = sqlite3_exec(cat->db, history_indexes, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0
			       : pim_cat_sqlerr(cat, rc, "indexing the history");
}

/* ---- bulk product access --------------------------------------------- */

struct pim_cat_writer {
	pim_catalog *cat;
	unsigned char *write;    /* per slot */
	size_t n_write;
	sqlite3_stmt *lookup;
	sqlite3_stmt *insert;
	sqlite3_stmt *update;
	const char **value;      /* lookup results, per slot */
	sqlite3_stmt **owner;    /* per slot, prepared on first use */
	sqlite3_stmt *src;       /* the fingerprint alone */
	sqlite3_stmt *set_src;   /* ... and its update */
	int in_read;             /* a read transaction of value_other's */
	unsigned reads;          /* lookups in it */
};

/* pim_cat_value_other runs outside any transaction (validation against
 * the catalog): alone, each lookup would be a read transaction of its
 * own, with its locks, its checks of the files and its read of the first
 * page (five system calls a value). Lookups share one read transaction
 * of this many, short enough not to keep a writer waiting. */
#define READS_PER_TXN 4096

static void read_end(pim_cat_writer *w)
{
	if (w->in_read && !sqlite3_get_autocommit(w->cat->db))
		sqlite3_exec(w->cat->db, "COMMIT", NULL, NULL, NULL);
	w->in_read = 0;
}

void pim_cat_writer_free(pim_cat_writer *w)
{
	if (!w)
		return;
	read_end(w);
	sqlite3_finalize(w->lookup);
	sqlite3_finalize(w->insert);
	sqlite3_finalize(w->update);
	sqlite3_finalize(w->src);
	sqlite3_finalize(w->set_src);
	for (size_t i = 0; w->owner && i < w->cat->n_slots; i++)
		sqlite3_finalize(w->owner[i]);
	pim_free(w->owner);
	pim_free(w->write);
	pim_free(w->value);
	pim_free(w);
}

int pim_cat_writer_new(pim_cat_writer **out, pim_catalog *cat,
		       const unsigned char *write)
{
	pim_cat_writer *w;
	pim_buf q = PIM_BUF_INIT;
	int rc = 0, k;

	*out = NULL;
	w = pim_calloc(1, sizeof *w);
	if (!w)
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	w->cat = cat;
	w->write = pim_calloc(cat->n_slots + 1, 1);
	w->value = pim_calloc(cat->n_slots + 1, sizeof *w->value);
	w->owner = pim_calloc(cat->n_slots + 1, sizeof *w->owner);
	if (!w->write || !w->value || !w->owner) {
		pim_cat_writer_free(w);
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < cat->n_slots; i++)
		if (write[i] && i != cat->key_slot) {
			w->write[i] = 1;
			w->n_write++;
		}

	/* lookup: every slot, so merges and diffs see the whole product */
	pim_buf_adds(&q, "SELECT _id, _src, _created_batch, _updated_batch, "
			 "_archived");
	for (size_t i = 0; i < cat->n_slots; i++)
		pim_buf_printf(&q, ", %s", cat->col[i]);
	pim_buf_printf(&q, " FROM product WHERE %s = ?1", cat->col[cat->key_slot]);
	if (!q.data)
		goto nomem;
	rc = sqlite3_prepare_v3(cat->db, q.data, -1, SQLITE_PREPARE_PERSISTENT,
				&w->lookup, NULL);
	if (rc != SQLITE_OK)
		goto sqlfail;

	pim_buf_clear(&q);
	pim_buf_printf(&q, "INSERT INTO product(%s, _created_batch, "
			   "_updated_batch, _updated_at, _src",
		       cat->col[cat->key_slot]);
	for (size_t i = 0; i < cat->n_slots; i++)
		if (w->write[i])
			pim_buf_printf(&q, ", %s", cat->col[i]);
	pim_buf_adds(&q, ") VALUES(?1, ?2, ?2, ?3, ?4");
	k = 5;
	for (size_t i = 0; i < cat->n_slots; i++)
		if (w->write[i])
			pim_buf_printf(&q, ", ?%d", k++);
	pim_buf_adds(&q, ")");
	if (!q.data)
		goto nomem;
	rc = sqlite3_prepare_v3(cat->db, q.data, -1, SQLITE_PREPARE_PERSISTENT,
				&w->insert, NULL);
	if (rc != SQLITE_OK)
		goto sqlfail;

	pim_buf_clear(&q);
	pim_buf_adds(&q, "UPDATE product SET _updated_batch = ?2, "
			 "_updated_at = ?3, _src = ?4");
	k = 5;
	for (size_t i = 0; i < cat->n_slots; i++)
		if (w->write[i])
			pim_buf_printf(&q, ", %s = ?%d", cat->col[i], k++);
	pim_buf_adds(&q, " WHERE _id = ?1");
	if (!q.data)
		goto nomem;
	rc = sqlite3_prepare_v3(cat->db, q.data, -1, SQLITE_PREPARE_PERSISTENT,
				&w->update, NULL);
	if (rc != SQLITE_OK)
		goto sqlfail;
	pim_buf_free(&q);
	*out = w;
	return 0;
nomem:
	pim_buf_free(&q);
	pim_cat_writer_free(w);
	return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
sqlfail:
	pim_buf_free(&q);
	rc = pim_cat_sqlerr(cat, rc, "preparing statements");
	pim_cat_writer_free(w);
	return rc;
}

int pim_cat_lookup_src(pim_cat_writer *w, const char *key,
		       unsigned long long *src)
{
	pim_catalog *cat = w->cat;
	int rc;

	if (!w->src) {
		char sql[300];
		snprintf(sql, sizeof sql,
			 "SELECT _src FROM product WHERE %s = ?1",
			 cat->col[cat->key_slot]);
		rc = sqlite3_prepare_v3(cat->db, sql, -1,
					SQLITE_PREPARE_PERSISTENT, &w->src, NULL);
		if (rc != SQLITE_OK)
			return pim_cat_sqlerr(cat, rc, "preparing statements");
	}
	sqlite3_bind_text(w->src, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(w->src);
	if (rc == SQLITE_ROW) {
		int has = sqlite3_column_type(w->src, 0) != SQLITE_NULL;
		*src = (unsigned long long)sqlite3_column_int64(w->src, 0);
		sqlite3_reset(w->src);
		return has ? 1 : 0;
	}
	sqlite3_reset(w->src);
	return rc == SQLITE_DONE ? 0 : pim_cat_sqlerr(cat, rc, "reading a product");
}

int pim_cat_set_src(pim_cat_writer *w, long long id, unsigned long long src)
{
	pim_catalog *cat = w->cat;
	int rc;

	if (!w->set_src) {
		rc = sqlite3_prepare_v3(cat->db,
					"UPDATE product SET _src = ?2 WHERE _id = ?1",
					-1, SQLITE_PREPARE_PERSISTENT, &w->set_src,
					NULL);
		if (rc != SQLITE_OK)
			return pim_cat_sqlerr(cat, rc, "preparing statements");
	}
	sqlite3_reset(w->lookup); /* the lookup's values are no longer used */
	sqlite3_bind_int64(w->set_src, 1, id);
	sqlite3_bind_int64(w->set_src, 2, (sqlite3_int64)src);
	rc = sqlite3_step(w->set_src);
	sqlite3_reset(w->set_src);
	return rc == SQLITE_DONE ? 0
				 : pim_cat_sqlerr(cat, rc, "writing a product");
}

int pim_cat_lookup(pim_cat_writer *w, const char *key, pim_cat_row *row)
{
	pim_catalog *cat = w->cat;
	sqlite3_stmt *st = w->lookup;
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return pim_cat_sqlerr(cat, rc, "reading a product");
	row->id = sqlite3_column_int64(st, 0);
	row->has_src = sqlite3_column_type(st, 1) != SQLITE_NULL;
	row->src = (unsigned long long)sqlite3_column_int64(st, 1);
	row->created_batch = sqlite3_column_int64(st, 2);
	row->updated_batch = sqlite3_column_int64(st, 3);
	row->archived = sqlite3_column_int(st, 4);
	for (size_t i = 0; i < cat->n_slots; i++) {
		const char *v = (const char *)sqlite3_column_text(st, 5 + (int)i);
		w->value[i] = v && *v ? v : NULL;
	}
	row->value = w->value;
	return 1;
}

static int bind_values(pim_cat_writer *w, sqlite3_stmt *st,
		       const char *const *value)
{
	int k = 5;
	for (size_t i = 0; i < w->cat->n_slots; i++) {
		if (!w->write[i])
			continue;
		if (value[i])
			sqlite3_bind_text(st, k, value[i], -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, k);
		k++;
	}
	return 0;
}

int pim_cat_insert(pim_cat_writer *w, long long *id, const char *key,
		   const char *const *value, long long batch,
		   unsigned long long src, const char *now)
{
	sqlite3_stmt *st = w->insert;
	int rc;

	sqlite3_reset(w->lookup); /* the lookup's values are no longer used */
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, batch);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)src);
	bind_values(w, st, value);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return pim_cat_sqlerr(w->cat, rc, "writing a product");
	*id = sqlite3_last_insert_rowid(w->cat->db);
	return 0;
}

int pim_cat_update(pim_cat_writer *w, long long id,
		   const char *const *value, long long batch,
		   unsigned long long src, int has_src, const char *now)
{
	sqlite3_stmt *st = w->update;
	int rc;

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, batch);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
	if (has_src)
		sqlite3_bind_int64(st, 4, (sqlite3_int64)src);
	else
		sqlite3_bind_null(st, 4);
	bind_values(w, st, value);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return pim_cat_sqlerr(w->cat, rc, "writing a product");
	return 0;
}

int pim_cat_owner_of(pim_catalog *cat, sqlite3_stmt **cache, size_t slot,
		     const char *value, long long exclude, char *sku,
		     size_t len)
{
	sqlite3_stmt *st = cache[slot];
	int rc;

	if (!st) {
		char sql[400];
		snprintf(sql, sizeof sql,
			 "SELECT %s FROM product WHERE %s = ?1 AND _id != ?2 "
			 "LIMIT 1",
			 cat->col[cat->key_slot], cat->col[slot]);
		rc = sqlite3_prepare_v3(cat->db, sql, -1,
					SQLITE_PREPARE_PERSISTENT, &st, NULL);
		if (rc != SQLITE_OK)
			return pim_cat_sqlerr(cat, rc, "checking uniqueness");
		cache[slot] = st;
	}
	sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, exclude);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(sku, len, "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_reset(st);
		return 1;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0
				 : pim_cat_sqlerr(cat, rc, "checking uniqueness");
}

int pim_cat_value_owner(pim_cat_writer *w, size_t slot, const char *value,
			long long exclude, char *sku, size_t len)
{
	return pim_cat_owner_of(w->cat, w->owner, slot, value, exclude, sku,
				len);
}

int pim_cat_value_other(pim_cat_writer *w, size_t slot, const char *value,
			const char *key, char *sku, size_t len)
{
	pim_catalog *cat = w->cat;
	sqlite3_stmt *st = w->owner[slot];
	int rc;

	if (!st) {
		char sql[600];
		/* the product with the key by its id, which the value's
		 * index holds: the row of a value found on its own product
		 * (the common case) is then never read, only the index */
		snprintf(sql, sizeof sql,
			 "SELECT %s FROM product WHERE %s = ?1 AND _id != "
			 "IFNULL((SELECT _id FROM product WHERE %s = ?2), 0) "
			 "LIMIT 1",
			 cat->col[cat->key_slot], cat->col[slot],
			 cat->col[cat->key_slot]);
		rc = sqlite3_prepare_v3(cat->db, sql, -1,
					SQLITE_PREPARE_PERSISTENT, &st, NULL);
		if (rc != SQLITE_OK)
			return pim_cat_sqlerr(cat, rc, "checking uniqueness");
		w->owner[slot] = st;
	}
	if (!w->in_read && sqlite3_get_autocommit(cat->db) &&
	    sqlite3_exec(cat->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK) {
		w->in_read = 1;
		w->reads = 0;
	}
	sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key ? key : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(sku, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	if (w->in_read && ++w->reads >= READS_PER_TXN)
		read_end(w);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0
				 : pim_cat_sqlerr(cat, rc, "checking uniqueness");
}
