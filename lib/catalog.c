/*
 * catalog.c - the SQLite catalog: creating and opening the file, its
 * tables (documented in pim-catalog(5)), the stored schema and schema
 * changes that refuse to lose data.
 */
#include "catalog.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "value.h"

static const char *const create_sql =
	"CREATE TABLE meta(\n"
	"  key   TEXT PRIMARY KEY,\n"
	"  value TEXT NOT NULL);\n"
	"CREATE TABLE schema_version(\n"
	"  id         INTEGER PRIMARY KEY,\n"
	"  applied_at TEXT NOT NULL,\n"
	"  user       TEXT,\n"
	"  name       TEXT,\n"
	"  source     TEXT NOT NULL);\n"
	"CREATE TABLE batch(\n"
	"  id          INTEGER PRIMARY KEY,\n"
	"  kind        TEXT NOT NULL,\n"
	"  started_at  TEXT NOT NULL,\n"
	"  finished_at TEXT,\n"
	"  user        TEXT,\n"
	"  role        TEXT,\n"
	"  files       TEXT,\n"
	"  counts      TEXT,\n"
	"  undone_by   INTEGER REFERENCES batch(id));\n"
	"CREATE TABLE product(\n"
	"  id            INTEGER PRIMARY KEY,\n"
	"  sku           TEXT NOT NULL UNIQUE,\n"
	"  family        TEXT,\n"
	"  doc           TEXT NOT NULL DEFAULT '{}',\n"
	"  hash          INTEGER NOT NULL DEFAULT 0,\n"
	"  archived      INTEGER NOT NULL DEFAULT 0,\n"
	"  created_batch INTEGER REFERENCES batch(id),\n"
	"  updated_batch INTEGER REFERENCES batch(id),\n"
	"  updated_at    TEXT);\n"
	"CREATE TABLE history(\n"
	"  id        INTEGER PRIMARY KEY,\n"
	"  batch     INTEGER NOT NULL REFERENCES batch(id),\n"
	"  product   INTEGER NOT NULL,\n"
	"  sku       TEXT NOT NULL,\n"
	"  attribute TEXT NOT NULL,\n"
	"  old       TEXT,\n"
	"  new       TEXT,\n"
	"  source    TEXT,\n"
	"  user      TEXT,\n"
	"  role      TEXT,\n"
	"  at        TEXT NOT NULL);\n"
	"CREATE INDEX history_product ON history(product, attribute);\n"
	"CREATE INDEX history_batch ON history(batch);\n";

int pim_cat_error(pim_catalog *cat, int code, const char *fmt, ...)
{
	va_list ap;
	if (!cat)
		return code;
	va_start(ap, fmt);
	vsnprintf(cat->errmsg, sizeof cat->errmsg, fmt, ap);
	va_end(ap);
	return code;
}

int pim_cat_sqlerr(pim_catalog *cat, int sqlrc, const char *what)
{
	int prim = sqlrc & 0xff;
	const char *msg = cat->db ? sqlite3_errmsg(cat->db) : sqlite3_errstr(sqlrc);

	switch (prim) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return pim_cat_error(cat, PIM_EBUSY,
				     "%s: catalog busy (another pim is writing; "
				     "try again later)",
				     cat->path);
	case SQLITE_NOMEM:
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	case SQLITE_FULL:
		return pim_cat_error(cat, PIM_EIO, "%s: disk full", cat->path);
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
		return pim_cat_error(cat, PIM_EIO, "%s: %s: %s", cat->path, what,
				     msg);
	case SQLITE_READONLY:
		return pim_cat_error(cat, PIM_EIO, "%s: catalog is read-only",
				     cat->path);
	case SQLITE_NOTADB:
		return pim_cat_error(cat, PIM_EDB,
				     "%s: not a pim catalog (not an SQLite "
				     "database)",
				     cat->path);
	case SQLITE_CORRUPT:
		return pim_cat_error(cat, PIM_EDB, "%s: catalog is corrupt",
				     cat->path);
	default:
		return pim_cat_error(cat, PIM_EDB, "%s: %s: %s", cat->path, what,
				     msg);
	}
}

void pim_cat_now(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;
	const char *fixed = getenv("PIM_NOW"); /* for reproducible tests */

	if (fixed && *fixed) {
		snprintf(buf, len, "%s", fixed);
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int exec(pim_catalog *cat, const char *sql)
{
	int rc = sqlite3_exec(cat->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : pim_cat_sqlerr(cat, rc, "query");
}

int pim_cat_begin(pim_catalog *cat)
{
	return exec(cat, "BEGIN IMMEDIATE");
}

int pim_cat_commit(pim_catalog *cat)
{
	return exec(cat, "COMMIT");
}

void pim_cat_rollback(pim_catalog *cat)
{
	if (!sqlite3_get_autocommit(cat->db))
		sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
}

const char *pim_errmsg(const pim_catalog *cat)
{
	return cat && cat->errmsg[0] ? cat->errmsg : "no error";
}

const pim_schema *pim_catalog_schema(const pim_catalog *cat)
{
	return cat->schema;
}

static int load_schema(pim_catalog *cat)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(cat->db,
				"SELECT source FROM schema_version ORDER BY id "
				"DESC LIMIT 1",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return pim_cat_sqlerr(cat, rc, "reading the schema");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *src = (const char *)sqlite3_column_text(st, 0);
		int n = sqlite3_column_bytes(st, 0);
		rc = pim_schema_load_buffer(&cat->schema, "(catalog schema)", src,
					    (size_t)n, NULL, NULL);
		if (rc == PIM_ENOMEM)
			rc = pim_cat_error(cat, rc, "out of memory");
		else if (rc)
			rc = pim_cat_error(cat, PIM_EDB,
					   "%s: the stored schema does not "
					   "load; run 'pim verify'",
					   cat->path);
	} else if (rc == SQLITE_DONE) {
		rc = pim_cat_error(cat, PIM_EDB, "%s: catalog has no schema",
				   cat->path);
	} else {
		rc = pim_cat_sqlerr(cat, rc, "reading the schema");
	}
	sqlite3_finalize(st);
	return rc;
}

static int store_schema(pim_catalog *cat, const pim_schema *schema)
{
	sqlite3_stmt *st = NULL;
	char now[32];
	size_t len;
	const char *src = pim_schema_source(schema, &len);
	int rc;

	pim_cat_now(now, sizeof now);
	rc = sqlite3_prepare_v2(cat->db,
				"INSERT INTO schema_version(applied_at, user, "
				"name, source) VALUES(?1, ?2, ?3, ?4)",
				-1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, cat->user, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, pim_schema_name(schema), -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(st, 4, src, (int)len, SQLITE_STATIC);
		rc = sqlite3_step(st);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : pim_cat_sqlerr(cat, rc, "storing the schema");
}

static int check_format(pim_catalog *cat)
{
	sqlite3_stmt *st = NULL;
	int rc, app = 0, ver = 0;

	rc = sqlite3_prepare_v2(cat->db, "PRAGMA application_id", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		app = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return pim_cat_sqlerr(cat, rc, "opening");
	rc = sqlite3_prepare_v2(cat->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		ver = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return pim_cat_sqlerr(cat, rc, "opening");
	if (app != PIM_CATALOG_APP_ID)
		return pim_cat_error(cat, PIM_EDB,
				     "%s: not a pim catalog (create one with "
				     "'pim init')",
				     cat->path);
	if (ver > PIM_CATALOG_FORMAT)
		return pim_cat_error(cat, PIM_EVERSION,
				     "%s: catalog format %d was written by a "
				     "newer pim; this pim %s reads format %d",
				     cat->path, ver, PIM_VERSION_STRING,
				     PIM_CATALOG_FORMAT);
	return 0;
}

static int create_tables(pim_catalog *cat, const pim_schema *schema)
{
	char sql[256], now[32];
	int rc;

	if ((rc = exec(cat, "PRAGMA journal_mode=WAL")))
		return rc;
	if ((rc = pim_cat_begin(cat)))
		return rc;
	if ((rc = exec(cat, create_sql)))
		goto out;
	snprintf(sql, sizeof sql,
		 "PRAGMA application_id=%d; PRAGMA user_version=%d;",
		 PIM_CATALOG_APP_ID, PIM_CATALOG_FORMAT);
	if ((rc = exec(cat, sql)))
		goto out;
	pim_cat_now(now, sizeof now);
	snprintf(sql, sizeof sql,
		 "INSERT INTO meta VALUES('pim_version', '%s'),"
		 "('created_at', '%s')",
		 PIM_VERSION_STRING, now);
	if ((rc = exec(cat, sql)))
		goto out;
	if ((rc = store_schema(cat, schema)))
		goto out;
	rc = pim_cat_commit(cat);
out:
	if (rc)
		pim_cat_rollback(cat);
	return rc;
}

int pim_catalog_open(pim_catalog **out, const char *path,
		     const pim_catalog_options *opts, const pim_schema *schema)
{
	static const pim_catalog_options defaults = PIM_CATALOG_OPTIONS_INIT;
	pim_catalog *cat;
	struct stat st;
	int rc, flags;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (opts->version != PIM_CATALOG_OPTIONS_VERSION || !path)
		return PIM_EINVALID;
	cat = pim_calloc(1, sizeof *cat);
	if (!cat)
		return PIM_ENOMEM;
	*out = cat;
	cat->path = pim_strdup(path);
	cat->user = pim_strdup(opts->user ? opts->user : "unknown");
	cat->role = opts->role ? pim_strdup(opts->role) : NULL;
	cat->readonly = opts->readonly;
	if (!cat->path || !cat->user || (opts->role && !cat->role))
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");

	if (opts->create) {
		if (!schema)
			return pim_cat_error(cat, PIM_EINVALID,
					     "no schema for the new catalog");
		if (lstat(path, &st) == 0)
			return pim_cat_error(cat, PIM_EEXISTS,
					     "%s: already exists; pim init never "
					     "touches an existing catalog",
					     path);
		flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	} else {
		if (stat(path, &st) != 0)
			return pim_cat_error(cat, errno == ENOENT ? PIM_ENOTFOUND
								  : PIM_EIO,
					     "%s: %s%s", path, strerror(errno),
					     errno == ENOENT
						     ? " (create a catalog with "
						       "'pim init')"
						     : "");
		if (S_ISDIR(st.st_mode))
			return pim_cat_error(cat, PIM_EIO,
					     "%s: is a directory", path);
		flags = opts->readonly ? SQLITE_OPEN_READONLY
				       : SQLITE_OPEN_READWRITE;
	}
	rc = sqlite3_open_v2(path, &cat->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return pim_cat_sqlerr(cat, rc, "opening");
	sqlite3_busy_timeout(cat->db, opts->busy_timeout_ms > 0
					      ? opts->busy_timeout_ms
					      : 5000);
	sqlite3_extended_result_codes(cat->db, 0);

	if (opts->create) {
		rc = create_tables(cat, schema);
		if (rc) {
			sqlite3_close(cat->db);
			cat->db = NULL;
			unlink(path);
			return rc;
		}
	} else if ((rc = check_format(cat))) {
		return rc;
	}
	if ((rc = exec(cat, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL")))
		return rc;
	return load_schema(cat);
}

void pim_catalog_close(pim_catalog *cat)
{
	if (!cat)
		return;
	if (cat->db) {
		pim_cat_rollback(cat);
		sqlite3_close(cat->db);
	}
	pim_schema_free(cat->schema);
	pim_free(cat->path);
	pim_free(cat->user);
	pim_free(cat->role);
	pim_free(cat);
}

int pim_catalog_product_count(pim_catalog *cat, long long *out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = 0;
	rc = sqlite3_prepare_v2(cat->db, "SELECT count(*) FROM product", -1,
				&st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : pim_cat_sqlerr(cat, rc, "counting");
}

/* ---- schema changes ---------------------------------------------------- */

typedef struct apply_ctx {
	pim_diag_fn diag;
	void *ctx;
	long problems;
} apply_ctx;

static void apply_report(apply_ctx *ac, const char *sku, const char *attr,
			 const char *code, const char *msg, const char *value)
{
	pim_diag d;

	ac->problems++;
	if (!ac->diag)
		return;
	memset(&d, 0, sizeof d);
	d.key = sku;
	d.attribute = attr;
	d.code = code;
	d.severity = PIM_SEV_ERROR;
	d.message = msg;
	d.value = value;
	ac->diag(&d, ac->ctx);
}

/*
 * Walks every stored value (json_tree over product.doc) and checks it
 * against the new schema: attributes that disappear, values the new type
 * or constraints refuse, localized values that lose their locale.
 */
static int check_stored_values(pim_catalog *cat, const pim_schema *ns,
			       apply_ctx *ac)
{
	sqlite3_stmt *st = NULL;
	pim_buf out = PIM_BUF_INIT;
	int rc;

	rc = sqlite3_prepare_v2(
		cat->db,
		"SELECT p.sku, j.fullkey, j.atom FROM product p, "
		"json_tree(p.doc) j WHERE j.type NOT IN ('object','array') "
		"ORDER BY p.sku, j.fullkey",
		-1, &st, NULL);
	if (rc != SQLITE_OK)
		return pim_cat_sqlerr(cat, rc, "reading products");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *sku = (const char *)sqlite3_column_text(st, 0);
		const char *key = (const char *)sqlite3_column_text(st, 1);
		const char *val = (const char *)sqlite3_column_text(st, 2);
		char attr[80], locale[16] = "";
		const char *dot;
		long idx;
		const pim_attr *a;
		pim_value_err err;
		char msg[400];
		int prc;

		if (!sku || !key || strncmp(key, "$.", 2) != 0)
			continue;
		key += 2;
		dot = strchr(key, '.');
		snprintf(attr, sizeof attr, "%.*s",
			 (int)(dot ? (size_t)(dot - key) : strlen(key)), key);
		if (dot)
			snprintf(locale, sizeof locale, "%s", dot + 1);
		idx = pim_schema_attribute_find(ns, attr);
		if (idx < 0) {
			snprintf(msg, sizeof msg,
				 "attribute '%s' is removed but %s has a value",
				 attr, sku);
			apply_report(ac, sku, attr, "lost", msg, val);
			continue;
		}
		a = &ns->attrs[idx];
		if (locale[0] && !a->localizable) {
			snprintf(msg, sizeof msg,
				 "'%s' is no longer localizable; the %s value "
				 "of %s would be lost",
				 attr, locale, sku);
			apply_report(ac, sku, attr, "lost", msg, val);
			continue;
		}
		if (!val || !*val)
			continue;
		prc = pim_value_parse(&out, &err, a, val, strlen(val), NULL);
		if (prc < 0) {
			rc = pim_cat_error(cat, prc, "out of memory");
			goto out;
		}
		if (prc == 1) {
			snprintf(msg, sizeof msg, "%s: %s", sku, err.msg);
			apply_report(ac, sku, attr, err.code, msg, val);
		}
	}
	rc = rc == SQLITE_DONE ? 0 : pim_cat_sqlerr(cat, rc, "reading products");
out:
	sqlite3_finalize(st);
	pim_buf_free(&out);
	return rc;
}

/* Attributes that become unique must not already hold duplicates. */
static int check_new_unique(pim_catalog *cat, const pim_schema *ns,
			    apply_ctx *ac)
{
	const pim_schema *os = cat->schema;

	for (size_t i = 0; i < ns->n_attrs; i++) {
		const pim_attr *a = &ns->attrs[i];
		long old = pim_schema_attribute_find(os, a->code);
		sqlite3_stmt *st = NULL;
		char path[96];
		int rc;

		if (!a->unique || (old >= 0 && os->attrs[old].unique) ||
		    a->type == PIM_TYPE_IDENTIFIER)
			continue;
		snprintf(path, sizeof path, "$.%s", a->code);
		rc = sqlite3_prepare_v2(
			cat->db,
			"SELECT json_extract(doc, ?1) v, group_concat(sku, ', ') "
			"FROM product WHERE v IS NOT NULL AND v != '' "
			"GROUP BY v HAVING count(*) > 1 ORDER BY v",
			-1, &st, NULL);
		if (rc != SQLITE_OK)
			return pim_cat_sqlerr(cat, rc, "checking uniqueness");
		sqlite3_bind_text(st, 1, path, -1, SQLITE_TRANSIENT);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			char msg[400];
			snprintf(msg, sizeof msg,
				 "'%s' becomes unique but these products share "
				 "a value: %s",
				 a->code, (const char *)sqlite3_column_text(st, 1));
			apply_report(ac, (const char *)sqlite3_column_text(st, 1),
				     a->code, "unique", msg,
				     (const char *)sqlite3_column_text(st, 0));
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return pim_cat_sqlerr(cat, rc, "checking uniqueness");
	}
	return 0;
}

int pim_catalog_apply_schema(pim_catalog *cat, int *changed,
			     const pim_schema *schema,
			     const pim_apply_options *opts, pim_diag_fn diag,
			     void *ctx)
{
	static const pim_apply_options defaults = PIM_APPLY_OPTIONS_INIT;
	apply_ctx ac = { diag, ctx, 0 };
	size_t oldlen, newlen;
	const char *oldsrc, *newsrc;
	pim_schema *copy = NULL;
	int rc;

	*changed = 0;
	if (!opts)
		opts = &defaults;
	if (opts->version != PIM_APPLY_OPTIONS_VERSION)
		return pim_cat_error(cat, PIM_EINVALID, "bad options version");
	if (cat->readonly)
		return pim_cat_error(cat, PIM_EIO, "%s: opened read-only",
				     cat->path);
	oldsrc = pim_schema_source(cat->schema, &oldlen);
	newsrc = pim_schema_source(schema, &newlen);
	if (oldlen == newlen && memcmp(oldsrc, newsrc, oldlen) == 0)
		return 0;
	*changed = 1;

	/* the check and the write happen in one transaction, so no other
	 * process can add a value the check did not see */
	if ((rc = pim_cat_begin(cat)))
		return rc;
	if ((rc = check_stored_values(cat, schema, &ac)) ||
	    (rc = check_new_unique(cat, schema, &ac)))
		goto out;
	if (ac.problems && !opts->force) {
		rc = pim_cat_error(cat, PIM_ECONFLICT,
				   "schema change refused: %ld stored value%s "
				   "would be lost or invalid (use --force to "
				   "apply anyway)",
				   ac.problems, ac.problems == 1 ? "" : "s");
		goto out;
	}
	if (opts->dry_run)
		goto out;
	if ((rc = store_schema(cat, schema)))
		goto out;
	if ((rc = pim_schema_load_buffer(&copy, "(catalog schema)", newsrc,
					 newlen, NULL, NULL)))
		goto out;
	if ((rc = pim_cat_commit(cat)))
		goto out;
	pim_schema_free(cat->schema);
	cat->schema = copy;
	copy = NULL;
out:
	if (rc || opts->dry_run)
		pim_cat_rollback(cat);
	pim_schema_free(copy);
	return rc;
}
