/*
 * edit.c - changes made by hand: `pim set` (values checked exactly as an
 * import checks them, the role's rights enforced) and `pim delete`
 * (archive, undoable; or purge). Each call is one transaction and one
 * batch, every change a history row.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "value.h"

#define TXT(st, i) ((const char *)sqlite3_column_text((st), (i)))

static void report(pim_diag_fn diag, void *ctx, const char *key,
		   const char *attr, const char *code, const char *value,
		   const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static void report(pim_diag_fn diag, void *ctx, const char *key,
		   const char *attr, const char *code, const char *value,
		   const char *fmt, ...)
{
	pim_diag d;
	char msg[512];
	va_list ap;

	if (!diag)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	memset(&d, 0, sizeof d);
	d.key = key;
	d.attribute = attr;
	d.code = code;
	d.severity = PIM_SEV_ERROR;
	d.message = msg;
	d.value = value;
	diag(&d, ctx);
}

/* The catalog's role, or NULL when none is set; PIM_ENOTFOUND when it
 * names no role of the schema. */
static int current_role(pim_catalog *cat, const pim_role **out)
{
	*out = NULL;
	if (!cat->role)
		return 0;
	*out = pim_schema_role(cat->schema, cat->role);
	if (!*out)
		return pim_cat_error(cat, PIM_ENOTFOUND,
				     "unknown role '%s' (see pim schema show)",
				     cat->role);
	return 0;
}

static int may_edit(const pim_role *role, size_t attr)
{
	if (!role)
		return 1;
	for (size_t i = 0; i < role->n_edit; i++)
		if (role->edit[i] == attr)
			return 1;
	return 0;
}

/* One "code[@locale]=value": its slot and value, or a diagnostic. */
typedef struct assignment {
	long slot;
	const char *value; /* points into the argument */
	size_t len;
	char name[128];
} assignment;

static int parse_assignment(pim_catalog *cat, const char *arg,
			    const char *locale, assignment *a,
			    const char *key, pim_diag_fn diag, void *ctx)
{
	const pim_schema *s = cat->schema;
	const char *eq = strchr(arg, '=');
	char code[128], *at;
	const char *loc = NULL;
	long ai;

	memset(a, 0, sizeof *a);
	a->slot = -1;
	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof code) {
		report(diag, ctx, key, NULL, "usage", NULL,
		       "'%s' is not ATTRIBUTE=VALUE", arg);
		return 1;
	}
	memcpy(code, arg, (size_t)(eq - arg));
	code[eq - arg] = '\0';
	a->value = eq + 1;
	a->len = strlen(eq + 1);
	if ((at = strchr(code, '@'))) {
		*at = '\0';
		if (!(loc = pim_schema_locale(s, at + 1))) {
			report(diag, ctx, key, code, "locale", NULL,
			       "'%s' is not one of the schema's locales",
			       at + 1);
			return 1;
		}
	}
	ai = pim_schema_attribute_find(s, code);
	if (ai < 0) {
		report(diag, ctx, key, code, "unknown-attribute", NULL,
		       "unknown attribute '%s'", code);
		return 1;
	}
	if (s->attrs[ai].localizable) {
		if (!loc)
			loc = locale ? locale
				     : (s->n_locales ? s->locales[0] : NULL);
	} else if (loc) {
		report(diag, ctx, key, code, "locale", NULL,
		       "'%s' is not localizable", code);
		return 1;
	}
	a->slot = pim_slot_find(cat->slots, cat->n_slots, (size_t)ai, loc);
	if (a->slot < 0) {
		report(diag, ctx, key, code, "locale", NULL,
		       "'%s' has no value in locale %s", code,
		       loc ? loc : "(none)");
		return 1;
	}
	pim_slot_column(a->name, sizeof a->name, s, &cat->slots[a->slot]);
	if ((long)a->slot == (long)cat->key_slot) {
		report(diag, ctx, key, a->name, "key", NULL,
		       "%s is the product's key; it cannot be changed", a->name);
		return 1;
	}
	return 0;
}

/* Loads product `key`: *id, *archived and per slot its value (owned). */
static int load_product(pim_catalog *cat, const char *key, long long *id,
			int *archived, char **vals)
{
	pim_buf q = PIM_BUF_INIT;
	sqlite3_stmt *st = NULL;
	int rc;

	pim_buf_adds(&q, "SELECT _id, _archived");
	for (size_t i = 0; i < cat->n_slots; i++)
		pim_buf_printf(&q, ", %s", cat->col[i]);
	pim_buf_printf(&q, " FROM product WHERE %s = ?1",
		       cat->col[cat->key_slot]);
	if (!q.data)
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	rc = sqlite3_prepare_v2(cat->db, q.data, -1, &st, NULL);
	pim_buf_free(&q);
	if (rc != SQLITE_OK)
		return pim_cat_sqlerr(cat, rc, "reading the product");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		return pim_cat_error(cat, PIM_ENOTFOUND, "no product '%s'", key);
	}
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return pim_cat_sqlerr(cat, rc, "reading the product");
	}
	*id = sqlite3_column_int64(st, 0);
	*archived = sqlite3_column_int(st, 1);
	for (size_t i = 0; i < cat->n_slots; i++) {
		const char *v = TXT(st, (int)i + 2);
		vals[i] = v && *v ? pim_strdup(v) : NULL;
		if (v && *v && !vals[i]) {
			sqlite3_finalize(st);
			return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
		}
	}
	sqlite3_finalize(st);
	return 0;
}

/* Another product holding `value` in slot `slot`: 1 (its key in sku). */
static int value_taken(pim_catalog *cat, size_t slot, const char *value,
		       long long id, char *sku, size_t len)
{
	sqlite3_stmt *st = NULL;
	char sql[300];
	int rc, found = 0;

	snprintf(sql, sizeof sql,
		 "SELECT %s FROM product WHERE %s = ?1 AND _id <> ?2 LIMIT 1",
		 cat->col[cat->key_slot], cat->col[slot]);
	rc = sqlite3_prepare_v2(cat->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return pim_cat_sqlerr(cat, rc, "checking uniqueness");
	sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(sku, len, "%s", TXT(st, 0));
		found = 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return pim_cat_sqlerr(cat, rc, "checking uniqueness");
	return found;
}

static int assigns(const assignment *as, size_t n, const pim_catalog *cat,
		   size_t attr)
{
	for (size_t i = 0; i < n; i++)
		if (cat->slots[as[i].slot].attr == attr)
			return 1;
	return 0;
}

/* The schema's cross-field checks that involve a changed attribute, over
 * the product's new values (a check the product already failed does not
 * block changes to other attributes). */
static long run_checks(pim_catalog *cat, char **nv, const assignment *as,
		       size_t n, const char *key, pim_diag_fn diag, void *ctx)
{
	const pim_schema *s = cat->schema;
	long bad = 0;

	for (size_t i = 0; i < s->n_checks; i++) {
		const pim_check *ck = &s->checks[i];
		if (!assigns(as, n, cat, ck->left) &&
		    !(ck->right_is_attr && assigns(as, n, cat, ck->right)))
			continue;
		long ls = pim_slot_find(cat->slots, cat->n_slots, ck->left,
					NULL);
		long rs = ck->right_is_attr
				  ? pim_slot_find(cat->slots, cat->n_slots,
						  ck->right, NULL)
				  : -1;
		if (ls < 0 || (ck->right_is_attr && rs < 0))
			continue;
		if (pim_check_eval(s, ck, nv[ls], rs >= 0 ? nv[rs] : NULL) != 0)
			continue;
		report(diag, ctx, key, s->attrs[ck->left].code, "check", NULL,
		       "%s (check: %s)",
		       ck->message ? ck->message : "a check fails", ck->text);
		bad++;
	}
	return bad;
}

/* Checks every assignment and fills nv (the product's values after the
 * change). Returns the number of problems, or a negative code. */
static long check_values(pim_catalog *cat, const assignment *as, size_t n,
			 char **nv, long long id, const char *key,
			 pim_diag_fn diag, void *ctx)
{
	const pim_schema *s = cat->schema;
	pim_buf b = PIM_BUF_INIT;
	long bad = 0;

	for (size_t i = 0; i < n; i++) {
		const assignment *a = &as[i];
		const pim_attr *at = &s->attrs[cat->slots[a->slot].attr];
		pim_parse_opts o = PIM_PARSE_OPTS_INIT;
		pim_value_err e;
		char owner[256];
		int rc;

		pim_free(nv[a->slot]);
		nv[a->slot] = NULL;
		if (a->len == 0) {
			if (at->required) {
				report(diag, ctx, key, a->name, "required", NULL,
				       "%s is required; it cannot be emptied",
				       a->name);
				bad++;
			}
			continue;
		}
		o.utf8_ok = pim_utf8_valid(a->value, a->len) == a->len;
		rc = pim_value_parse(&b, &e, at, a->value, a->len, &o);
		if (rc < 0) {
			pim_buf_free(&b);
			return rc;
		}
		if (rc > 0) {
			report(diag, ctx, key, a->name, e.code, a->value, "%s",
			       e.msg);
			bad++;
			continue;
		}
		if (!(nv[a->slot] = pim_strdup(b.data))) {
			pim_buf_free(&b);
			return PIM_ENOMEM;
		}
		if (at->unique) {
			rc = value_taken(cat, (size_t)a->slot, b.data, id, owner,
					 sizeof owner);
			if (rc < 0) {
				pim_buf_free(&b);
				return rc;
			}
			if (rc) {
				report(diag, ctx, key, a->name, "unique", NULL,
				       "%s '%s' is already used by %s", a->name,
				       b.data, owner);
				bad++;
			}
		}
	}
	pim_buf_free(&b);
	return bad + run_checks(cat, nv, as, n, key, diag, ctx);
}

static int same(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Writes the changed slots and their history, as batch `batch`. */
static int write_changes(pim_catalog *cat, long long batch, long long id,
			 char **old, char **nv, long *changes)
{
	pim_buf q = PIM_BUF_INIT;
	sqlite3_stmt *st = NULL;
	char now[32];
	int rc, k = 3;

	pim_cat_now(now, sizeof now);
	*changes = 0;
	pim_buf_adds(&q, "UPDATE product SET _updated_batch = ?1, "
			 "_updated_at = ?2, _src = NULL");
	for (size_t i = 0; i < cat->n_slots; i++) {
		char name[128];
		if (same(old[i], nv[i]))
			continue;
		pim_slot_column(name, sizeof name, cat->schema, &cat->slots[i]);
		if ((rc = pim_cat_history(cat, batch, id, name, old[i],
					  nv[i], "set"))) {
			pim_buf_free(&q);
			return rc;
		}
		pim_buf_printf(&q, ", %s = ?%d", cat->col[i], k++);
		(*changes)++;
	}
	pim_buf_printf(&q, " WHERE _id = ?%d", k);
	if (!q.data)
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	rc = sqlite3_prepare_v2(cat->db, q.data, -1, &st, NULL);
	pim_buf_free(&q);
	if (rc != SQLITE_OK)
		return pim_cat_sqlerr(cat, rc, "writing the product");
	sqlite3_bind_int64(st, 1, batch);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_TRANSIENT);
	k = 3;
	for (size_t i = 0; i < cat->n_slots; i++)
		if (!same(old[i], nv[i]))
			sqlite3_bind_text(st, k++, nv[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, k, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : pim_cat_sqlerr(cat, rc, "writing the product");
}

static void free_values(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		pim_free(v[i]);
	pim_free(v);
}

int pim_catalog_set(pim_catalog *cat, long long *batch, const char *key,
		    const char *const *assign, size_t n, const char *locale,
		    pim_diag_fn diag, void *ctx)
{
	const pim_role *role;
	assignment *as = NULL;
	char **old = NULL, **nv = NULL;
	long long id = 0, b = 0;
	long bad = 0, changes = 0;
	int archived = 0, rc, began = 0;
	char counts[96];

	*batch = 0;
	if (cat->readonly)
		return pim_cat_error(cat, PIM_EIO, "%s: opened read-only",
				     cat->path);
	if ((rc = current_role(cat, &role)))
		return rc;
	if (locale && !(locale = pim_schema_locale(cat->schema, locale)))
		return pim_cat_error(cat, PIM_ENOTFOUND,
				     "unknown locale (see pim schema show)");
	as = pim_calloc(n + 1, sizeof *as);
	old = pim_calloc(cat->n_slots + 1, sizeof *old);
	nv = pim_calloc(cat->n_slots + 1, sizeof *nv);
	if (!as || !old || !nv) {
		rc = pim_cat_error(cat, PIM_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		int twice = 0;
		if (parse_assignment(cat, assign[i], locale, &as[i], key, diag,
				     ctx)) {
			bad++;
			continue;
		}
		for (size_t j = 0; j < i && !twice; j++)
			twice = as[j].slot == as[i].slot;
		if (twice) {
			report(diag, ctx, key, as[i].name, "usage", NULL,
			       "%s is given twice", as[i].name);
			bad++;
		}
	}
	if (bad) {
		rc = pim_cat_error(cat, PIM_EINVALID,
				   "nothing changed: %ld bad assignment%s", bad,
				   bad == 1 ? "" : "s");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (!may_edit(role, cat->slots[as[i].slot].attr)) {
			report(diag, ctx, key, as[i].name, "denied", NULL,
			       "role %s may not edit %s", role->name,
			       as[i].name);
			bad++;
		}
	if (bad) {
		rc = pim_cat_error(cat, PIM_EDENIED,
				   "nothing changed: role %s may not edit %ld "
				   "of the attributes given",
				   role->name, bad);
		goto out;
	}
	if ((rc = pim_cat_begin(cat)))
		goto out;
	began = 1;
	if ((rc = load_product(cat, key, &id, &archived, old)))
		goto out;
	if (archived) {
		rc = pim_cat_error(cat, PIM_EDATA,
				   "%s is archived; undo its deletion first "
				   "(pim log, pim undo)",
				   key);
		goto out;
	}
	for (size_t i = 0; i < cat->n_slots; i++)
		if (old[i] && !(nv[i] = pim_strdup(old[i]))) {
			rc = pim_cat_error(cat, PIM_ENOMEM, "out of memory");
			goto out;
		}
	bad = check_values(cat, as, n, nv, id, key, diag, ctx);
	if (bad < 0) {
		rc = bad == PIM_ENOMEM ? pim_cat_error(cat, PIM_ENOMEM,
						       "out of memory")
				       : (int)bad;
		goto out;
	}
	if (bad) {
		rc = pim_cat_error(cat, PIM_EDATA, "nothing changed: %ld "
						   "problem%s",
				   bad, bad == 1 ? "" : "s");
		goto out;
	}
	for (size_t i = 0; i < cat->n_slots; i++)
		if (!same(old[i], nv[i]))
			changes++;
	if (!changes)
		goto out; /* nothing to write: no batch */
	if ((rc = pim_cat_batch_begin(cat, &b, "set", NULL)) ||
	    (rc = write_changes(cat, b, id, old, nv, &changes)))
		goto out;
	snprintf(counts, sizeof counts, "{\"updated\":1,\"changes\":%ld}",
		 changes);
	if ((rc = pim_cat_batch_end(cat, b, counts)))
		goto out;
	rc = pim_cat_commit(cat);
	began = 0;
	if (rc == 0)
		*batch = b;
out:
	if (began)
		pim_cat_rollback(cat);
	free_values(old, cat->n_slots);
	free_values(nv, cat->n_slots);
	pim_free(as);
	return rc;
}

/* ---- delete ------------------------------------------------------------ */

static int archive_one(pim_catalog *cat, long long batch, long long id,
		       const char *now)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = pim_cat_history(cat, batch, id, "_archived", "0", "1",
				  "delete")))
		return rc;
	rc = sqlite3_prepare_v2(cat->db,
				"UPDATE product SET _archived = 1, "
				"_updated_batch = ?1, _updated_at = ?2, _src = "
				"NULL WHERE _id = ?3",
				-1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, batch);
		sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, id);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : pim_cat_sqlerr(cat, rc, "archiving");
}

/* Records every value of the product as going away, then removes it. */
static int purge_one(pim_catalog *cat, long long batch, long long id,
		     char **vals)
{
	sqlite3_stmt *st = NULL;
	int rc;

	for (size_t i = 0; i < cat->n_slots; i++) {
		char name[128];
		/* the key stays with the history (pim_cat_history_keys) */
		if (!vals[i] || i == cat->key_slot)
			continue;
		pim_slot_column(name, sizeof name, cat->schema, &cat->slots[i]);
		if ((rc = pim_cat_history(cat, batch, id, name, vals[i],
					  NULL, "purge")))
			return rc;
	}
	/* its history keeps its key: the number may be given again */
	if ((rc = pim_cat_history_keys(cat, "_id = ?1", id)))
		return rc;
	rc = sqlite3_prepare_v2(cat->db, "DELETE FROM product WHERE _id = ?1",
				-1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : pim_cat_sqlerr(cat, rc, "purging");
}

int pim_catalog_delete(pim_catalog *cat, long long *batch,
		       const char *const *keys, size_t n, int purge,
		       pim_diag_fn diag, void *ctx)
{
	const pim_role *role;
	char **vals = NULL;
	long long b = 0;
	long done = 0, missing = 0, skipped = 0;
	int rc, began = 0;
	char now[32], counts[96];

	*batch = 0;
	if (cat->readonly)
		return pim_cat_error(cat, PIM_EIO, "%s: opened read-only",
				     cat->path);
	if ((rc = current_role(cat, &role)))
		return rc;
	/* removing a product touches every role's values: only a role that
	 * may edit the key may do it */
	if (role && !may_edit(role, cat->slots[cat->key_slot].attr))
		return pim_cat_error(cat, PIM_EDENIED,
				     "role %s may not delete products (its "
				     "edit list lacks %s)",
				     role->name,
				     cat->schema->attrs[cat->schema->key].code);
	if (!(vals = pim_calloc(cat->n_slots + 1, sizeof *vals)))
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	if ((rc = pim_cat_begin(cat)))
		goto out;
	began = 1;
	pim_cat_now(now, sizeof now);
	if ((rc = pim_cat_batch_begin(cat, &b, purge ? "purge" : "delete",
				      NULL)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		long long id;
		int archived, again = 0;
		for (size_t j = 0; j < i && !again; j++)
			again = !strcmp(keys[j], keys[i]);
		if (again)
			continue; /* named twice: once is enough */
		rc = load_product(cat, keys[i], &id, &archived, vals);
		if (rc == PIM_ENOTFOUND) {
			report(diag, ctx, keys[i], NULL, "not-found", NULL,
			       "no product '%s'", keys[i]);
			missing++;
			rc = 0;
			continue;
		}
		if (rc)
			goto out;
		if (archived && !purge) {
			skipped++; /* already archived: nothing to do */
		} else if (purge) {
			rc = purge_one(cat, b, id, vals);
			done++;
		} else {
			rc = archive_one(cat, b, id, now);
			done++;
		}
		for (size_t k = 0; k < cat->n_slots; k++) {
			pim_free(vals[k]);
			vals[k] = NULL;
		}
		if (rc)
			goto out;
	}
	if (missing) {
		rc = pim_cat_error(cat, PIM_ENOTFOUND,
				   "nothing deleted: %ld unknown SKU%s", missing,
				   missing == 1 ? "" : "s");
		goto out;
	}
	if (!done)
		goto out; /* all were archived already: no batch */
	snprintf(counts, sizeof counts, "{\"%s\":%ld,\"unchanged\":%ld}",
		 purge ? "purged" : "archived", done, skipped);
	if ((rc = pim_cat_batch_end(cat, b, counts)))
		goto out;
	rc = pim_cat_commit(cat);
	began = 0;
	if (rc == 0)
		*batch = b;
out:
	if (began)
		pim_cat_rollback(cat);
	free_values(vals, cat->n_slots);
	return rc;
}
