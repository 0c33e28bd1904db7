/*
 * catalog_history.c - the batch log, the attribute history (with the
 * values a product was created with, derived exactly from later changes)
 * and undo of a whole batch with conflict detection.
 */
#include "catalog.h"

#include <stdio.h>
#include <string.h>

#define TXT(st, i) ((const char *)sqlite3_column_text((st), (i)))

int pim_catalog_log(pim_catalog *cat, unsigned long limit, pim_batch_fn fn,
		    void *ctx)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(cat->db,
				"SELECT id, kind, started_at, finished_at, user, "
				"role, files, counts, undone_by FROM batch "
				"WHERE finished_at IS NOT NULL ORDER BY id DESC "
				"LIMIT ?1",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return pim_cat_sqlerr(cat, rc, "reading the log");
	sqlite3_bind_int64(st, 1, limit ? (sqlite3_int64)limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		pim_batch_info b;
		b.id = sqlite3_column_int64(st, 0);
		b.kind = TXT(st, 1);
		b.started_at = TXT(st, 2);
		b.finished_at = TXT(st, 3);
		b.user = TXT(st, 4);
		b.role = TXT(st, 5);
		b.files = TXT(st, 6);
		b.counts = TXT(st, 7);
		b.undone_by = sqlite3_column_int64(st, 8);
		if (fn(&b, ctx)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : pim_cat_sqlerr(cat, rc, "reading the log");
}

/* The values product `sku` was created with: for each attribute, the old
 * value of its first later change, else its value now. */
static int creation_entries(pim_catalog *cat, const char *sku,
			    const char *attribute, pim_history_fn fn, void *ctx)
{
	pim_buf q = PIM_BUF_INIT;
	sqlite3_stmt *st = NULL, *first = NULL;
	long long id, created;
	int rc;

	pim_buf_adds(&q, "SELECT p._id, p._created_batch, b.started_at, b.user, "
			 "b.role");
	for (size_t i = 0; i < cat->n_slots; i++)
		pim_buf_printf(&q, ", p.%s", cat->col[i]);
	pim_buf_printf(&q, " FROM product p LEFT JOIN batch b ON b.id = "
			   "p._created_batch WHERE p.%s = ?1",
		       cat->col[cat->key_slot]);
	if (!q.data)
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	rc = sqlite3_prepare_v2(cat->db, q.data, -1, &st, NULL);
	pim_buf_free(&q);
	if (rc != SQLITE_OK)
		return pim_cat_sqlerr(cat, rc, "reading history");
	sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW || sqlite3_column_type(st, 1) == SQLITE_NULL) {
		sqlite3_finalize(st);
		return rc == SQLITE_ROW || rc == SQLITE_DONE
			       ? 0
			       : pim_cat_sqlerr(cat, rc, "reading history");
	}
	id = sqlite3_column_int64(st, 0);
	created = sqlite3_column_int64(st, 1);
	rc = sqlite3_prepare_v2(cat->db,
				"SELECT old FROM history WHERE product = ?1 AND "
				"attribute = ?2 AND batch > ?3 ORDER BY id LIMIT 1",
				-1, &first, NULL);
	if (rc != SQLITE_OK) {
		/* the message first: finalizing st clears the db's error */
		rc = pim_cat_sqlerr(cat, rc, "reading history");
		sqlite3_finalize(st);
		return rc;
	}
	for (size_t i = 0; i < cat->n_slots; i++) {
		char col[128];
		const char *v = TXT(st, 5 + (int)i);
		pim_history_entry e;
		if (i == cat->key_slot)
			continue;
		pim_slot_column(col, sizeof col, cat->schema, &cat->slots[i]);
		if (attribute && strcmp(attribute, col))
			continue;
		sqlite3_bind_int64(first, 1, id);
		sqlite3_bind_text(first, 2, col, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(first, 3, created);
		if (sqlite3_step(first) == SQLITE_ROW)
			v = TXT(first, 0);
		if (v && *v) {
			memset(&e, 0, sizeof e);
			e.batch = created;
			e.sku = sku;
			e.attribute = col;
			e.new_value = v;
			e.source = "created";
			e.at = TXT(st, 2);
			e.user = TXT(st, 3);
			e.role = TXT(st, 4);
			if (fn(&e, ctx)) {
				sqlite3_reset(first);
				break;
			}
		}
		sqlite3_reset(first);
	}
	sqlite3_finalize(first);
	sqlite3_finalize(st);
	return 0;
}

int pim_catalog_history(pim_catalog *cat, const pim_history_query *q,
			pim_history_fn fn, void *ctx)
{
	sqlite3_stmt *st = NULL;
	pim_buf sql = PIM_BUF_INIT;
	const char *k;
	int rc;

	if (!q || q->version != PIM_HISTORY_QUERY_VERSION)
		return pim_cat_error(cat, PIM_EINVALID, "bad history query");
	if (q->sku && !q->batch &&
	    (rc = creation_entries(cat, q->sku, q->attribute, fn, ctx)))
		return rc;
	/* a row without its key, user, role or time has those of its
	 * product and batch */
	k = cat->col[cat->key_slot];
	pim_buf_printf(&sql,
		       "SELECT h.id, h.batch, coalesce(nullif(h.sku, ''), p.%s, "
		       "''), h.attribute, h.old, h.new, h.source, "
		       "coalesce(h.user, b.user), coalesce(h.role, b.role), "
		       "coalesce(nullif(h.at, ''), b.started_at) FROM history h "
		       "LEFT JOIN product p ON p._id = h.product LEFT JOIN batch "
		       "b ON b.id = h.batch WHERE (?2 IS NULL OR h.attribute = "
		       "?2) AND (?3 = 0 OR h.batch = ?3)",
		       k);
	/* by key: the rows of the product that has it now, and those that
	 * hold it (of products removed since, or written before) */
	if (q->sku)
		pim_buf_printf(&sql,
			       " AND h.id IN (SELECT x.id FROM product y JOIN "
			       "history x ON x.product = y._id WHERE y.%s = ?1 "
			       "AND x.sku = '' UNION ALL SELECT id FROM history "
			       "WHERE sku = ?1 AND sku != '')",
			       k);
	pim_buf_adds(&sql, " ORDER BY h.id LIMIT ?4");
	if (!sql.data)
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	rc = sqlite3_prepare_v2(cat->db, sql.data, -1, &st, NULL);
	pim_buf_free(&sql);
	if (rc != SQLITE_OK)
		return pim_cat_sqlerr(cat, rc, "reading history");
	sqlite3_bind_text(st, 1, q->sku, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, q->attribute, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, q->batch);
	sqlite3_bind_int64(st, 4, q->limit ? (sqlite3_int64)q->limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		pim_history_entry e;
		e.id = sqlite3_column_int64(st, 0);
		e.batch = sqlite3_column_int64(st, 1);
		e.sku = TXT(st, 2);
		e.attribute = TXT(st, 3);
		e.old = TXT(st, 4);
		e.new_value = TXT(st, 5);
		e.source = TXT(st, 6);
		e.user = TXT(st, 7);
		e.role = TXT(st, 8);
		e.at = TXT(st, 9);
		if (fn(&e, ctx)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : pim_cat_sqlerr(cat, rc, "reading history");
}

/* ---- undo ---------------------------------------------------------------- */

static long slot_by_column(pim_catalog *cat, const char *col)
{
	for (size_t i = 0; i < cat->n_slots; i++) {
		char name[128];
		pim_slot_column(name, sizeof name, cat->schema, &cat->slots[i]);
		if (!strcmp(name, col))
			return (long)i;
	}
	return -1;
}

static void conflict(pim_diag_fn diag, void *ctx, const char *sku,
		     const char *attr, const char *msg, long *n)
{
	pim_diag d;
	(*n)++;
	if (!diag)
		return;
	memset(&d, 0, sizeof d);
	d.key = sku;
	d.attribute = attr;
	d.code = "conflict";
	d.severity = PIM_SEV_ERROR;
	d.message = msg;
	diag(&d, ctx);
}

static int same_text(const char *a, const char *b)
{
	if (!a || !*a)
		return !b || !*b;
	return b && strcmp(a, b) == 0;
}

/* Pass 1 (check) or 2 (write) over the value changes of the batch. */
static int undo_values(pim_catalog *cat, long long batch, long long ub,
		       int write, int force, pim_diag_fn diag, void *ctx,
		       long *conflicts, long *restored)
{
	sqlite3_stmt *st = NULL;
	char src[64], now[32], q[400];
	long long gone = 0;
	int rc;

	snprintf(src, sizeof src, "undo %lld", batch);
	pim_cat_now(now, sizeof now);
	/* a row without its key belongs to the product of its number */
	snprintf(q, sizeof q,
		 "SELECT h.product, coalesce(nullif(h.sku, ''), p.%s, ''), "
		 "h.attribute, h.old, h.new FROM history h LEFT JOIN product p "
		 "ON p._id = h.product WHERE h.batch = ?1 AND (h.attribute NOT "
		 "LIKE '\\_%%' ESCAPE '\\' OR h.attribute = '_archived') "
		 "ORDER BY h.id DESC",
		 cat->col[cat->key_slot]);
	rc = sqlite3_prepare_v2(cat->db, q, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return pim_cat_sqlerr(cat, rc, "reading the batch");
	sqlite3_bind_int64(st, 1, batch);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long pid = sqlite3_column_int64(st, 0);
		const char *sku = TXT(st, 1), *attr = TXT(st, 2);
		const char *old = TXT(st, 3), *nv = TXT(st, 4);
		long slot = slot_by_column(cat, attr);
		sqlite3_stmt *cur = NULL;
		char sql[400], msg[400];
		const char *now_v, *col;
		int crc;

		/* an archiving (pim delete) is undone like a value */
		col = slot >= 0 ? cat->col[slot]
				: !strcmp(attr, "_archived") ? "_archived" : NULL;
		if (!col) {
			if (!write) {
				snprintf(msg, sizeof msg,
					 "%s: attribute %s no longer exists", sku,
					 attr);
				conflict(diag, ctx, sku, attr, msg, conflicts);
			}
			continue;
		}
		/* the key too: a removed product's id may be reused */
		snprintf(sql, sizeof sql,
			 "SELECT %s FROM product WHERE _id = ?1 AND %s = ?2",
			 col, cat->col[cat->key_slot]);
		crc = sqlite3_prepare_v2(cat->db, sql, -1, &cur, NULL);
		if (crc != SQLITE_OK) {
			crc = pim_cat_sqlerr(cat, crc, "reading a product");
			sqlite3_finalize(st);
			return crc;
		}
		sqlite3_bind_int64(cur, 1, pid);
		sqlite3_bind_text(cur, 2, sku, -1, SQLITE_STATIC);
		crc = sqlite3_step(cur);
		if (crc != SQLITE_ROW) {
			sqlite3_finalize(cur);
			if (!write && pid != gone) {
				snprintf(msg, sizeof msg,
					 "%s no longer exists", sku);
				conflict(diag, ctx, sku, attr, msg, conflicts);
			}
			gone = pid; /* one conflict per product */
			continue;
		}
		now_v = TXT(cur, 0);
		if (!write) {
			if (!same_text(now_v, nv)) {
				snprintf(msg, sizeof msg,
					 "%s %s was changed since: it is now "
					 "'%s', the batch set '%s'",
					 sku, attr, now_v ? now_v : "",
					 nv ? nv : "");
				conflict(diag, ctx, sku, attr, msg, conflicts);
			}
			sqlite3_finalize(cur);
			continue;
		}
		if (!same_text(now_v, nv) && !force) {
			sqlite3_finalize(cur);
			continue;
		}
		crc = pim_cat_history(cat, ub, pid, attr, now_v, old, src);
		sqlite3_finalize(cur);
		if (crc) {
			sqlite3_finalize(st);
			return crc;
		}
		snprintf(sql, sizeof sql,
			 "UPDATE product SET %s = ?1, _updated_batch = ?2, "
			 "_updated_at = ?3, _src = NULL WHERE _id = ?4",
			 col);
		crc = sqlite3_prepare_v2(cat->db, sql, -1, &cur, NULL);
		if (crc == SQLITE_OK) {
			sqlite3_bind_text(cur, 1, old, -1, SQLITE_STATIC);
			sqlite3_bind_int64(cur, 2, ub);
			sqlite3_bind_text(cur, 3, now, -1, SQLITE_STATIC);
			sqlite3_bind_int64(cur, 4, pid);
			crc = sqlite3_step(cur);
		}
		sqlite3_finalize(cur);
		if (crc != SQLITE_DONE) {
			crc = pim_cat_sqlerr(cat, crc, "restoring a value");
			sqlite3_finalize(st);
			return crc;
		}
		(*restored)++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : pim_cat_sqlerr(cat, rc, "reading the batch");
}

/* A created product conflicts when a later change left a value different
 * from the one it was created with (a change and its undo cancel out). */
static int created_changed(pim_catalog *cat, long long pid, long long batch,
			   char *attr, size_t alen)
{
	sqlite3_stmt *h = NULL, *cur = NULL;
	int rc, changed = 0;

	rc = sqlite3_prepare_v2(cat->db,
				"SELECT attribute, old FROM history WHERE "
				"product = ?1 AND batch > ?2 AND attribute NOT "
				"LIKE '\\_%' ESCAPE '\\' AND id IN (SELECT "
				"min(id) FROM history WHERE product = ?1 AND "
				"batch > ?2 GROUP BY attribute)",
				-1, &h, NULL);
	if (rc != SQLITE_OK)
		return pim_cat_sqlerr(cat, rc, "reading history");
	sqlite3_bind_int64(h, 1, pid);
	sqlite3_bind_int64(h, 2, batch);
	while (!changed && (rc = sqlite3_step(h)) == SQLITE_ROW) {
		long slot = slot_by_column(cat, TXT(h, 0));
		char sql[300];
		if (slot < 0) {
			changed = 1;
		} else {
			snprintf(sql, sizeof sql,
				 "SELECT %s FROM product WHERE _id = ?1",
				 cat->col[slot]);
			if (sqlite3_prepare_v2(cat->db, sql, -1, &cur, NULL) ==
				    SQLITE_OK) {
				sqlite3_bind_int64(cur, 1, pid);
				if (sqlite3_step(cur) == SQLITE_ROW &&
				    !same_text(TXT(cur, 0), TXT(h, 1)))
					changed = 1;
			}
			sqlite3_finalize(cur);
			cur = NULL;
		}
		if (changed)
			snprintf(attr, alen, "%s", TXT(h, 0));
	}
	sqlite3_finalize(h);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return pim_cat_sqlerr(cat, rc, "reading history");
	return changed;
}

static int undo_check_created(pim_catalog *cat, long long batch,
			      pim_diag_fn diag, void *ctx, long *conflicts)
{
	sqlite3_stmt *st = NULL;
	char sql[400];
	int rc;

	snprintf(sql, sizeof sql,
		 "SELECT _id, %s FROM product p WHERE _created_batch = ?1 AND "
		 "EXISTS(SELECT 1 FROM history h WHERE h.product = p._id AND "
		 "h.batch > ?1)",
		 cat->col[cat->key_slot]);
	rc = sqlite3_prepare_v2(cat->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return pim_cat_sqlerr(cat, rc, "reading the batch");
	sqlite3_bind_int64(st, 1, batch);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char msg[300], attr[128];
		int ch = created_changed(cat, sqlite3_column_int64(st, 0), batch,
					 attr, sizeof attr);
		if (ch < 0) {
			sqlite3_finalize(st);
			return ch;
		}
		if (!ch)
			continue;
		snprintf(msg, sizeof msg,
			 "%s was created by batch %lld and its %s changed "
			 "since; removing it would lose that change",
			 TXT(st, 1), batch, attr);
		conflict(diag, ctx, TXT(st, 1), attr, msg, conflicts);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : pim_cat_sqlerr(cat, rc, "reading the batch");
}

/* Removes the products the batch created, each recorded in the history
 * as one "_product" row holding its values as JSON. */
static int undo_delete_created(pim_catalog *cat, long long batch,
			       long long ub, long *deleted)
{
	pim_buf q = PIM_BUF_INIT;
	sqlite3_stmt *st = NULL;
	char src[64];
	int rc;

	/* the key stays in the row (the product goes); the user, role and
	 * time are the batch's, as in every change row */
	snprintf(src, sizeof src, "undo %lld", batch);
	pim_buf_printf(&q,
		       "INSERT INTO history(batch, product, sku, attribute, old, "
		       "new, source, at) SELECT ?1, _id, %s, '_product', "
		       "json_object(",
		       cat->col[cat->key_slot]);
	for (size_t i = 0, k = 0; i < cat->n_slots; i++) {
		char name[128];
		pim_slot_column(name, sizeof name, cat->schema, &cat->slots[i]);
		pim_buf_printf(&q, "%s'%s', %s", k++ ? ", " : "", name,
			       cat->col[i]);
	}
	pim_buf_adds(&q, "), NULL, ?2, '' FROM product WHERE "
			 "_created_batch = ?3");
	if (!q.data)
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	rc = sqlite3_prepare_v2(cat->db, q.data, -1, &st, NULL);
	pim_buf_free(&q);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, ub);
		sqlite3_bind_text(st, 2, src, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, batch);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return pim_cat_sqlerr(cat, rc, "recording removed products");
	if ((rc = pim_cat_history_keys(cat, "_created_batch = ?1", batch)))
		return rc;
	rc = sqlite3_prepare_v2(cat->db,
				"DELETE FROM product WHERE _created_batch = ?1",
				-1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, batch);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return pim_cat_sqlerr(cat, rc, "removing created products");
	*deleted = (long)sqlite3_changes(cat->db);
	return 0;
}

static int role_edits(const pim_role *role, size_t attr)
{
	for (size_t i = 0; i < role->n_edit; i++)
		if (role->edit[i] == attr)
			return 1;
	return 0;
}

/* With a role, an undo may only change what the role may edit; removing
 * the products a batch created, or bringing back archived ones, needs
 * the right to edit the key, as pim delete does. */
static int undo_rights(pim_catalog *cat, long long batch)
{
	const pim_role *role;
	sqlite3_stmt *st = NULL;
	pim_buf names = PIM_BUF_INIT;
	size_t key_attr = cat->slots[cat->key_slot].attr;
	int rc, bad = 0;

	if (!cat->role)
		return 0;
	if (!(role = pim_schema_role(cat->schema, cat->role)))
		return pim_cat_error(cat, PIM_ENOTFOUND,
				     "unknown role '%s' (see pim schema show)",
				     cat->role);
	rc = sqlite3_prepare_v2(cat->db,
				"SELECT DISTINCT attribute FROM history WHERE "
				"batch = ?1 UNION SELECT '_archived' FROM "
				"product WHERE _created_batch = ?1",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return pim_cat_sqlerr(cat, rc, "reading the batch");
	sqlite3_bind_int64(st, 1, batch);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *attr = TXT(st, 0);
		long slot = slot_by_column(cat, attr);
		size_t ai = slot >= 0 ? cat->slots[slot].attr : key_attr;
		if (slot < 0 && strcmp(attr, "_archived"))
			continue; /* bookkeeping rows */
		if (role_edits(role, ai))
			continue;
		pim_buf_printf(&names, "%s%s", bad++ ? ", " : "",
			       slot >= 0 ? attr : "products (created or "
						  "archived)");
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		pim_buf_free(&names);
		return pim_cat_sqlerr(cat, rc, "reading the batch");
	}
	if (bad)
		rc = pim_cat_error(cat, PIM_EDENIED,
				   "undo refused: role %s may not change %s",
				   role->name, names.data ? names.data : "");
	else
		rc = 0;
	pim_buf_free(&names);
	return rc;
}

int pim_catalog_undo(pim_catalog *cat, long long *undo_batch,
		     long long batch, int force, pim_diag_fn diag, void *ctx)
{
	sqlite3_stmt *st = NULL;
	long conflicts = 0, restored = 0, deleted = 0;
	long long ub = 0;
	char files[64], counts[128], kind[32] = "";
	long long undone = 0;
	int rc;

	*undo_batch = 0;
	if (cat->readonly)
		return pim_cat_error(cat, PIM_EIO, "%s: opened read-only",
				     cat->path);
	if ((rc = pim_cat_begin(cat)))
		return rc;
	rc = sqlite3_prepare_v2(cat->db,
				"SELECT kind, undone_by FROM batch WHERE id = ?1 "
				"AND finished_at IS NOT NULL",
				-1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, batch);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			snprintf(kind, sizeof kind, "%s", TXT(st, 0));
			undone = sqlite3_column_int64(st, 1);
		}
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE) {
		rc = pim_cat_error(cat, PIM_ENOTFOUND, "no batch %lld (see pim log)",
				   batch);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rc = pim_cat_sqlerr(cat, rc, "reading the batch");
		goto out;
	}
	if (undone) {
		rc = pim_cat_error(cat, PIM_EINVALID,
				   "batch %lld was already undone by batch %lld",
				   batch, undone);
		goto out;
	}
	if (!strcmp(kind, "purge")) {
		rc = pim_cat_error(cat, PIM_EINVALID,
				   "batch %lld is a purge: the products and "
				   "their values are gone (their last values "
				   "are in pim history; restore a backup to "
				   "get them back)",
				   batch);
		goto out;
	}
	if (!strcmp(kind, "undo") || !strcmp(kind, "schema")) {
		rc = pim_cat_error(cat, PIM_EINVALID,
				   "batch %lld is a%s %s; it cannot be undone%s",
				   batch, kind[0] == 'u' ? "n" : "", kind,
				   kind[0] == 's' ? " (apply the old schema)"
						  : " (import the data again)");
		goto out;
	}
	if ((rc = undo_rights(cat, batch)))
		goto out;
	/* pass 1: conflicts */
	if ((rc = undo_values(cat, batch, 0, 0, force, diag, ctx, &conflicts,
			      &restored)) ||
	    (rc = undo_check_created(cat, batch, diag, ctx, &conflicts)))
		goto out;
	if (conflicts && !force) {
		rc = pim_cat_error(cat, PIM_ECONFLICT,
				   "undo refused: %ld conflict%s with later "
				   "changes (use --force to undo anyway)",
				   conflicts, conflicts == 1 ? "" : "s");
		goto out;
	}
	snprintf(files, sizeof files, "[\"batch %lld\"]", batch);
	if ((rc = pim_cat_batch_begin(cat, &ub, "undo", files)))
		goto out;
	if ((rc = undo_values(cat, batch, ub, 1, force, NULL, NULL, &conflicts,
			      &restored)) ||
	    (rc = undo_delete_created(cat, batch, ub, &deleted)))
		goto out;
	rc = sqlite3_prepare_v2(cat->db,
				"UPDATE batch SET undone_by = ?1 WHERE id = ?2",
				-1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, ub);
		sqlite3_bind_int64(st, 2, batch);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		rc = pim_cat_sqlerr(cat, rc, "marking the batch");
		goto out;
	}
	snprintf(counts, sizeof counts,
		 "{\"restored\":%ld,\"deleted\":%ld,\"conflicts\":%ld}",
		 restored, deleted, conflicts);
	if ((rc = pim_cat_batch_end(cat, ub, counts)))
		goto out;
	rc = pim_cat_commit(cat);
	if (rc == 0)
		*undo_batch = ub;
out:
	if (rc)
		pim_cat_rollback(cat);
	return rc;
}
