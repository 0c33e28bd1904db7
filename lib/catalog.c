/*
 * catalog.c - the SQLite catalog: creating and opening the file, its
 * tables (documented in pim-catalog(5)), the stored schema and schema
 * changes that refuse to lose data.
 */
#include "catalog.h"
#include "expr.h"

#include <errno.h>
#include <fcntl.h>
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
	"CREATE INDEX history_batch ON history(batch);\n"
	"CREATE INDEX history_sku ON history(sku) WHERE sku != '';\n";

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
		/* the file itself may be writable: say what is not */
		return pim_cat_error(cat, PIM_EIO, "%s: catalog is read-only%s",
				     cat->path,
				     access(cat->path, W_OK) == 0
					     ? " (its directory, or its -wal or "
					       "-shm file, cannot be written)"
					     : "");
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
	char sql[64];
	int rc;

	cat->key_dropped = 0;
	if ((rc = exec(cat, "BEGIN IMMEDIATE")) ||
	    cat->format >= PIM_CATALOG_FORMAT)
		return rc;
	/* what this transaction writes is of this format: an earlier pim
	 * must refuse the catalog from now on, not misread it */
	snprintf(sql, sizeof sql, "PRAGMA user_version=%d", PIM_CATALOG_FORMAT);
	if ((rc = exec(cat, sql)))
		pim_cat_rollback(cat);
	return rc;
}

int pim_cat_commit(pim_catalog *cat)
{
	int rc = exec(cat, "COMMIT");
	if (rc == 0)
		cat->format = PIM_CATALOG_FORMAT;
	return rc;
}

void pim_cat_rollback(pim_catalog *cat)
{
	if (!sqlite3_get_autocommit(cat->db))
		sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
	cat->key_dropped = 0; /* the rollback brought the index back */
}

/*
 * A catalog lives in WAL mode: readers keep reading while a write runs.
 * But a load into an empty catalog writes every page twice in WAL mode,
 * into the WAL and then, at the checkpoint, into the catalog. A rollback
 * journal holds only the pages a transaction overwrites, and pages beyond
 * the end of the file need none, so in that mode the load's pages are
 * written once. Killed, the load leaves a hot journal, and the next
 * connection rolls it back, cutting the file to its size before the load.
 * Leaving WAL mode needs the catalog to itself; with another connection
 * open, the load keeps WAL. A catalog left out of WAL mode (killed after
 * the commit, before the switch back) is switched back when opened.
 */
static int set_journal(pim_catalog *cat, const char *mode, int wait)
{
	sqlite3_stmt *st = NULL;
	char sql[64];
	int ok = 0;

	if (!sqlite3_get_autocommit(cat->db))
		return 0;
	snprintf(sql, sizeof sql, "PRAGMA journal_mode=%s", mode);
	if (!wait)
		sqlite3_busy_timeout(cat->db, 0);
	if (sqlite3_prepare_v2(cat->db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(st, 0);
		ok = m && !strcmp(m, mode);
	}
	sqlite3_finalize(st);
	if (!wait)
		sqlite3_busy_timeout(cat->db, cat->busy_ms);
	return ok;
}

int pim_cat_journal(pim_catalog *cat, int rollback)
{
	int ok;

	if (!rollback) {
		ok = set_journal(cat, "wal", 1);
		sqlite3_exec(cat->db, "PRAGMA synchronous=NORMAL", NULL, NULL,
			     NULL);
		return ok;
	}
	ok = set_journal(cat, "delete", 0);
	/* NORMAL is safe from corruption on power loss in WAL mode only:
	 * with a rollback journal, FULL (a few more syncs per load) */
	if (ok)
		sqlite3_exec(cat->db, "PRAGMA synchronous=FULL", NULL, NULL,
			     NULL);
	return ok;
}

/* At open: back to WAL mode if a load was killed before it switched back;
 * not waiting, since a load may be running now. */
static void wal_again(pim_catalog *cat)
{
	sqlite3_stmt *st = NULL;
	int wal = 1;

	if (sqlite3_prepare_v2(cat->db, "PRAGMA journal_mode", -1, &st,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(st, 0);
		wal = !m || !strcmp(m, "wal");
	}
	sqlite3_finalize(st);
	if (!wal)
		set_journal(cat, "wal", 0);
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
					   "load; the catalog is damaged",
					   cat->path);
		if (rc == 0)
			rc = pim_cat_slots(cat);
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
	cat->format = ver;
	return 0;
}

void pim_slot_column(char *buf, size_t len, const pim_schema *s,
		     const pim_slot *slot)
{
	/* as snprintf "%s@%s" would, without its cost: this runs for every
	 * change that is recorded */
	const char *code = s->attrs[slot->attr].code;
	size_t n = 0;

	if (!len)
		return;
	for (; *code && n + 1 < len; code++)
		buf[n++] = *code;
	if (slot->locale && n + 1 < len) {
		buf[n++] = '@';
		for (const char *l = slot->locale; *l && n + 1 < len; l++)
			buf[n++] = *l;
	}
	buf[n] = '\0';
}

static void free_slots(pim_catalog *cat)
{
	for (size_t i = 0; cat->col && i < cat->n_slots; i++)
		pim_free(cat->col[i]);
	pim_free(cat->col);
	pim_free(cat->slots);
	cat->col = NULL;
	cat->slots = NULL;
	cat->n_slots = 0;
}

int pim_cat_slots(pim_catalog *cat)
{
	free_slots(cat);
	if (pim_slots_build(&cat->slots, &cat->n_slots, cat->schema))
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	cat->col = pim_calloc(cat->n_slots + 1, sizeof *cat->col);
	if (!cat->col)
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	for (size_t i = 0; i < cat->n_slots; i++) {
		char name[128], q[140];
		pim_slot_column(name, sizeof name, cat->schema, &cat->slots[i]);
		snprintf(q, sizeof q, "\"%s\"", name);
		if (!(cat->col[i] = pim_strdup(q)))
			return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
		if ((long)cat->slots[i].attr == cat->schema->key)
			cat->key_slot = i;
	}
	return 0;
}

/* Non-unique indexes on unique attributes make the uniqueness check of
 * imports an index lookup. (Uniqueness itself is checked by pim, so a
 * forced schema change can keep old duplicates.) */
static int unique_indexes(pim_catalog *cat, const pim_schema *s)
{
	pim_slot *slots = NULL;
	size_t n = 0;
	int rc = 0;

	if (pim_slots_build(&slots, &n, s))
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	for (size_t i = 0; i < n && rc == 0; i++) {
		const pim_attr *a = &s->attrs[slots[i].attr];
		char name[128], sql[400];
		if (!a->unique || (long)slots[i].attr == s->key)
			continue;
		pim_slot_column(name, sizeof name, s, &slots[i]);
		snprintf(sql, sizeof sql,
			 "CREATE INDEX IF NOT EXISTS \"product_u_%s\" ON "
			 "product(\"%s\")",
			 name, name);
		rc = exec(cat, sql);
	}
	pim_free(slots);
	return rc;
}

static int key_index(pim_catalog *cat, const char *code)
{
	char sql[200];
	snprintf(sql, sizeof sql,
		 "CREATE UNIQUE INDEX product_key ON product(\"%s\")", code);
	return exec(cat, sql);
}

/* Catalogs of format 1 made before the key had its own index have the
 * column's UNIQUE instead, which cannot be dropped: 1 when the catalog
 * has product_key. */
static int has_key_index(pim_catalog *cat)
{
	sqlite3_stmt *st = NULL;
	int has = 0;
	if (sqlite3_prepare_v2(cat->db,
			       "SELECT 1 FROM sqlite_schema WHERE type = 'index' "
			       "AND name = 'product_key'",
			       -1, &st, NULL) == SQLITE_OK)
		has = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return has;
}

int pim_cat_updated_index(pim_catalog *cat, int create)
{
	return exec(cat, create ? "CREATE INDEX IF NOT EXISTS product_updated "
				  "ON product(_updated_batch)"
				: "DROP INDEX IF EXISTS product_updated");
}

int pim_cat_secondary_indexes(pim_catalog *cat, int create)
{
	int rc;

	if (create) {
		rc = pim_cat_updated_index(cat, 1);
		if (rc == 0 && cat->key_dropped) {
			rc = key_index(cat,
				       cat->schema->attrs[cat->schema->key].code);
			if (rc == 0)
				cat->key_dropped = 0;
		}
		return rc ? rc : unique_indexes(cat, cat->schema);
	}
	if (has_key_index(cat)) {
		if ((rc = exec(cat, "DROP INDEX product_key")))
			return rc;
		cat->key_dropped = 1;
	}
	rc = pim_cat_updated_index(cat, 0);
	for (size_t i = 0; i < cat->n_slots && rc == 0; i++) {
		char name[128], sql[200];
		pim_slot_column(name, sizeof name, cat->schema, &cat->slots[i]);
		snprintf(sql, sizeof sql, "DROP INDEX IF EXISTS \"product_u_%s\"",
			 name);
		rc = exec(cat, sql);
	}
	return rc;
}

/* The product table: bookkeeping columns start with '_', which no
 * attribute code can; one TEXT column per attribute slot. */
static int create_product_table(pim_catalog *cat, const pim_schema *s)
{
	pim_buf b = PIM_BUF_INIT;
	pim_slot *slots = NULL;
	size_t n = 0;
	int rc;

	if (s->key < 0)
		return pim_cat_error(cat, PIM_EINVALID,
				     "the schema has no identifier attribute");
	if (pim_slots_build(&slots, &n, s))
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	pim_buf_printf(&b,
		       "CREATE TABLE product(\n"
		       "  _id INTEGER PRIMARY KEY,\n"
		       "  \"%s\" TEXT NOT NULL,\n"
		       "  _family TEXT,\n"
		       "  _archived INTEGER NOT NULL DEFAULT 0,\n"
		       "  _created_batch INTEGER,\n"
		       "  _updated_batch INTEGER,\n"
		       "  _updated_at TEXT,\n"
		       "  _src INTEGER",
		       s->attrs[s->key].code);
	for (size_t i = 0; i < n; i++) {
		char name[128];
		if ((long)slots[i].attr == s->key)
			continue;
		pim_slot_column(name, sizeof name, s, &slots[i]);
		pim_buf_printf(&b, ",\n  \"%s\" TEXT", name);
	}
	rc = pim_buf_adds(&b, ")");
	pim_free(slots);
	if (rc) {
		pim_buf_free(&b);
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	}
	rc = exec(cat, b.data);
	pim_buf_free(&b);
	/* the key's index is a named one, not the column's UNIQUE: a load
	 * into an empty catalog can then drop it and build it at the end */
	if (rc == 0)
		rc = key_index(cat, s->attrs[s->key].code);
	if (rc == 0)
		rc = pim_cat_updated_index(cat, 1);
	if (rc == 0)
		rc = unique_indexes(cat, s);
	return rc;
}

static int create_tables(pim_catalog *cat, const pim_schema *schema)
{
	char sql[256], now[32];
	int rc;

	/* 16 KiB pages: a quarter of the system calls and b-tree steps of
	 * the default 4 KiB in bulk loads and scans (set before the first
	 * table, and before WAL mode, which fixes the size) */
	if ((rc = exec(cat, "PRAGMA page_size=16384")))
		return rc;
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
	if ((rc = create_product_table(cat, schema)))
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
	int rc, flags, fd, created = 0;

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
		/* created exclusively: of two racing inits one wins, and
		 * the loser never touches the winner's file */
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0 && errno == EEXIST)
			return pim_cat_error(cat, PIM_EEXISTS,
					     "%s: already exists; pim init never "
					     "touches an existing catalog",
					     path);
		if (fd < 0)
			return pim_cat_error(cat,
					     errno == ENOENT || errno == EISDIR ||
							     errno == ENOTDIR
						     ? PIM_EINVALID
						     : PIM_EIO,
					     "%s: %s", path, strerror(errno));
		close(fd);
		created = 1;
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
			return pim_cat_error(cat, PIM_EINVALID,
					     "%s: is a directory, not a catalog",
					     path);
		/* a writer refuses a file it cannot write before SQLite
		 * creates -wal and -shm files with the file's read-only
		 * mode, which would keep the catalog read-only after a
		 * chmod */
		if (!opts->readonly && access(path, W_OK) != 0)
			return pim_cat_error(cat, PIM_EIO,
					     "%s: catalog is read-only (%s)",
					     path, strerror(errno));
		/* readers open read-write when they may, so that the last
		 * one out checkpoints and removes the -wal and -shm files;
		 * PRAGMA query_only keeps them from writing */
		flags = opts->readonly && access(path, W_OK) != 0
				? SQLITE_OPEN_READONLY
				: SQLITE_OPEN_READWRITE;
	}
	rc = sqlite3_open_v2(path, &cat->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = pim_cat_sqlerr(cat, rc, "opening");
		if (created)
			unlink(path);
		return rc;
	}
	cat->busy_ms = opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms
						 : 5000;
	sqlite3_busy_timeout(cat->db, cat->busy_ms);
	sqlite3_extended_result_codes(cat->db, 0);
	if ((rc = pim_expr_register(cat->db)) != SQLITE_OK)
		return pim_cat_sqlerr(cat, rc, "opening");

	if (opts->create) {
		rc = create_tables(cat, schema);
		cat->format = PIM_CATALOG_FORMAT;
		if (rc) {
			sqlite3_close(cat->db);
			cat->db = NULL;
			unlink(path);
			return rc;
		}
	} else if ((rc = check_format(cat))) {
		return rc;
	} else if (!(flags & SQLITE_OPEN_READONLY)) {
		wal_again(cat);
	}
	if ((rc = exec(cat, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL")))
		return rc;
	if (opts->readonly && (rc = exec(cat, "PRAGMA query_only=1")))
		return rc;
	return load_schema(cat);
}

void pim_catalog_close(pim_catalog *cat)
{
	if (!cat)
		return;
	sqlite3_finalize(cat->hist);
	if (cat->db) {
		pim_cat_rollback(cat);
		sqlite3_close(cat->db);
	}
	pim_schema_free(cat->schema);
	free_slots(cat);
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
	rc = sqlite3_prepare_v2(cat->db,
				"SELECT count(*) FROM product WHERE _archived = 0",
				-1,
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

/* Where each old slot goes in the new schema. */
typedef struct slot_move {
	long to;      /* new slot index, or -1: the values would be lost */
	int rename;   /* the column changes its name */
} slot_move;

static long new_slot_for(const pim_schema *os, const pim_slot *o,
			 const pim_schema *ns, const pim_slot *nslots,
			 size_t nn, int *rename)
{
	const pim_attr *oa = &os->attrs[o->attr];
	long na = pim_schema_attribute_find(ns, oa->code);
	const pim_attr *a;

	*rename = 0;
	if (na < 0)
		return -1;
	a = &ns->attrs[na];
	if (a->localizable && ns->n_locales) {
		const char *loc = o->locale;
		if (!loc) {
			*rename = 1; /* "name" becomes "name@first locale" */
			loc = ns->locales[0];
		}
		return pim_slot_find(nslots, nn, (size_t)na, loc);
	}
	if (!o->locale)
		return pim_slot_find(nslots, nn, (size_t)na, NULL);
	/* localized values become one: the first locale's survive */
	if (os->n_locales && !strcmp(o->locale, os->locales[0])) {
		*rename = 1;
		return pim_slot_find(nslots, nn, (size_t)na, NULL);
	}
	return -1;
}

static int apply_checks(pim_catalog *cat, const pim_schema *ns,
			const pim_slot *nslots, size_t nn,
			const slot_move *mv, apply_ctx *ac)
{
	const pim_schema *os = cat->schema;
	const char *key = cat->col[cat->key_slot];
	pim_buf out = PIM_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < cat->n_slots && rc == 0; i++) {
		const pim_slot *o = &cat->slots[i];
		sqlite3_stmt *st = NULL;
		char sql[512], colname[128];

		if ((long)o->attr == os->key)
			continue;
		pim_slot_column(colname, sizeof colname, os, o);
		snprintf(sql, sizeof sql,
			 "SELECT %s, %s FROM product WHERE %s IS NOT NULL AND "
			 "%s != '' ORDER BY %s",
			 key, cat->col[i], cat->col[i], cat->col[i], key);
		rc = sqlite3_prepare_v2(cat->db, sql, -1, &st, NULL);
		if (rc != SQLITE_OK) {
			rc = pim_cat_sqlerr(cat, rc, "reading products");
			break;
		}
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *sku = (const char *)sqlite3_column_text(st, 0);
			const char *val = (const char *)sqlite3_column_text(st, 1);
			pim_value_err err;
			const pim_attr *na;
			int prc;

			if (mv[i].to < 0) {
				apply_report(ac, sku, colname, "lost",
					     "the value would be lost", val);
				continue;
			}
			na = &ns->attrs[nslots[mv[i].to].attr];
			prc = pim_value_parse(&out, &err, na, val, strlen(val),
					      NULL);
			if (prc < 0) {
				rc = prc;
				break;
			}
			if (prc == 1)
				apply_report(ac, sku, colname, err.code, err.msg,
					     val);
		}
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE)
			rc = 0;
		else if (rc > 0)
			rc = pim_cat_sqlerr(cat, rc, "reading products");
	}
	/* slots that become unique must not hold duplicates already */
	for (size_t j = 0; j < nn && rc == 0; j++) {
		const pim_attr *a = &ns->attrs[nslots[j].attr];
		long oa = pim_schema_attribute_find(os, a->code);
		sqlite3_stmt *st = NULL;
		char sql[600];
		long from = -1;

		if (!a->unique || (long)nslots[j].attr == ns->key ||
		    (oa >= 0 && os->attrs[oa].unique))
			continue;
		for (size_t i = 0; i < cat->n_slots; i++)
			if (mv[i].to == (long)j)
				from = (long)i;
		if (from < 0)
			continue;
		snprintf(sql, sizeof sql,
			 "SELECT %s, group_concat(%s, ', ') FROM product WHERE "
			 "%s IS NOT NULL AND %s != '' GROUP BY %s HAVING "
			 "count(*) > 1 ORDER BY 1",
			 cat->col[from], key, cat->col[from], cat->col[from],
			 cat->col[from]);
		rc = sqlite3_prepare_v2(cat->db, sql, -1, &st, NULL);
		if (rc != SQLITE_OK)
			return pim_cat_sqlerr(cat, rc, "checking uniqueness");
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *skus = (const char *)sqlite3_column_text(st, 1);
			apply_report(ac, skus, a->code, "unique",
				     "becomes unique, but these products share "
				     "this value",
				     (const char *)sqlite3_column_text(st, 0));
		}
		sqlite3_finalize(st);
		rc = rc == SQLITE_DONE ? 0
				       : pim_cat_sqlerr(cat, rc, "checking uniqueness");
	}
	pim_buf_free(&out);
	return rc;
}

/* Records the values of a column that is about to be dropped. */
static int record_dropped(pim_catalog *cat, long long batch, size_t i)
{
	sqlite3_stmt *st = NULL;
	char sql[400], colname[128];
	int rc;

	pim_slot_column(colname, sizeof colname, cat->schema, &cat->slots[i]);
	snprintf(sql, sizeof sql,
		 "SELECT _id, %s, %s FROM product WHERE %s IS NOT NULL AND "
		 "%s != ''",
		 cat->col[cat->key_slot], cat->col[i], cat->col[i], cat->col[i]);
	rc = sqlite3_prepare_v2(cat->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return pim_cat_sqlerr(cat, rc, "reading products");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int hrc = pim_cat_history(
			cat, batch, sqlite3_column_int64(st, 0), colname,
			(const char *)sqlite3_column_text(st, 2), NULL,
			"schema apply");
		if (hrc) {
			sqlite3_finalize(st);
			return hrc;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : pim_cat_sqlerr(cat, rc, "reading products");
}

/* Rewrites values whose canonical form changes (a new unit, decimals). */
static int recanonicalize(pim_catalog *cat, long long batch,
			  const pim_schema *ns, const pim_slot *nslots,
			  size_t j, const char *newcol)
{
	const pim_attr *a = &ns->attrs[nslots[j].attr];
	sqlite3_stmt *st = NULL, *up = NULL;
	pim_buf out = PIM_BUF_INIT;
	char sql[400], colname[128];
	int rc;

	pim_slot_column(colname, sizeof colname, ns, &nslots[j]);
	snprintf(sql, sizeof sql,
		 "SELECT _id, %s, %s FROM product WHERE %s IS NOT NULL AND "
		 "%s != ''",
		 cat->col[cat->key_slot], newcol, newcol, newcol);
	rc = sqlite3_prepare_v2(cat->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		snprintf(sql, sizeof sql,
			 "UPDATE product SET %s = ?1 WHERE _id = ?2", newcol);
		rc = sqlite3_prepare_v2(cat->db, sql, -1, &up, NULL);
	}
	if (rc != SQLITE_OK) {
		rc = pim_cat_sqlerr(cat, rc, "rewriting values");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *val = (const char *)sqlite3_column_text(st, 2);
		pim_value_err err;
		int prc = pim_value_parse(&out, &err, a, val, strlen(val), NULL);
		if (prc < 0) {
			rc = pim_cat_error(cat, prc, "out of memory");
			goto out;
		}
		if (prc == 1 || strcmp(out.data, val) == 0)
			continue; /* invalid values stay as they are */
		sqlite3_bind_text(up, 1, out.data, (int)out.len, SQLITE_STATIC);
		sqlite3_bind_int64(up, 2, sqlite3_column_int64(st, 0));
		if (sqlite3_step(up) != SQLITE_DONE) {
			rc = pim_cat_sqlerr(cat, sqlite3_errcode(cat->db),
					    "rewriting values");
			goto out;
		}
		sqlite3_reset(up);
		if ((rc = pim_cat_history(cat, batch, sqlite3_column_int64(st, 0),
					  colname, val, out.data,
					  "schema apply")))
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : pim_cat_sqlerr(cat, rc, "rewriting values");
out:
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	pim_buf_free(&out);
	return rc;
}

static int apply_changes(pim_catalog *cat, const pim_schema *ns,
			 const pim_slot *nslots, size_t nn,
			 const slot_move *mv)
{
	char **newcol = NULL;
	long long batch;
	char sql[600];
	int rc;

	if ((rc = pim_cat_batch_begin(cat, &batch, "schema", NULL)))
		return rc;
	newcol = pim_calloc(nn + 1, sizeof *newcol);
	if (!newcol)
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	/* drop lost columns (their values go to history), rename moved */
	for (size_t i = 0; i < cat->n_slots; i++) {
		char oname[128], nname[128];
		pim_slot_column(oname, sizeof oname, cat->schema, &cat->slots[i]);
		if ((long)cat->slots[i].attr == cat->schema->key) {
			newcol[mv[i].to] = pim_strdup(cat->col[i]);
			continue;
		}
		snprintf(sql, sizeof sql, "DROP INDEX IF EXISTS \"product_u_%s\"",
			 oname);
		if ((rc = exec(cat, sql)))
			goto out;
		if (mv[i].to < 0) {
			if ((rc = record_dropped(cat, batch, i)))
				goto out;
			snprintf(sql, sizeof sql,
				 "ALTER TABLE product DROP COLUMN %s", cat->col[i]);
			if ((rc = exec(cat, sql)))
				goto out;
			continue;
		}
		pim_slot_column(nname, sizeof nname, ns, &nslots[mv[i].to]);
		if (mv[i].rename) {
			snprintf(sql, sizeof sql,
				 "ALTER TABLE product RENAME COLUMN %s TO \"%s\"",
				 cat->col[i], nname);
			if ((rc = exec(cat, sql)))
				goto out;
		}
		snprintf(sql, sizeof sql, "\"%s\"", nname);
		newcol[mv[i].to] = pim_strdup(sql);
	}
	for (size_t j = 0; j < nn; j++) {
		char nname[128];
		if (newcol[j]) {
			if ((rc = recanonicalize(cat, batch, ns, nslots, j,
						 newcol[j])))
				goto out;
			continue;
		}
		pim_slot_column(nname, sizeof nname, ns, &nslots[j]);
		snprintf(sql, sizeof sql,
			 "ALTER TABLE product ADD COLUMN \"%s\" TEXT", nname);
		if ((rc = exec(cat, sql)))
			goto out;
	}
	if ((rc = unique_indexes(cat, ns)))
		goto out;
	if ((rc = store_schema(cat, ns)))
		goto out;
	rc = pim_cat_batch_end(cat, batch, "{}");
out:
	for (size_t j = 0; j < nn; j++)
		pim_free(newcol[j]);
	pim_free(newcol);
	return rc;
}

int pim_catalog_apply_schema(pim_catalog *cat, int *changed,
			     const pim_schema *schema,
			     const pim_apply_options *opts, pim_diag_fn diag,
			     void *ctx)
{
	static const pim_apply_options defaults = PIM_APPLY_OPTIONS_INIT;
	apply_ctx ac = { diag, ctx, 0 };
	size_t oldlen, newlen, nn = 0;
	const char *oldsrc, *newsrc;
	pim_schema *copy = NULL, *old = NULL;
	pim_slot *nslots = NULL;
	slot_move *mv = NULL;
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
	if (schema->key < 0 ||
	    strcmp(schema->attrs[schema->key].code,
		   cat->schema->attrs[cat->schema->key].code) != 0)
		return pim_cat_error(cat, PIM_EINVALID,
				     "the identifier attribute (the product "
				     "key) cannot change: it is '%s'",
				     cat->schema->attrs[cat->schema->key].code);
	if (pim_slots_build(&nslots, &nn, schema))
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	mv = pim_calloc(cat->n_slots + 1, sizeof *mv);
	if (!mv) {
		rc = pim_cat_error(cat, PIM_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < cat->n_slots; i++)
		mv[i].to = new_slot_for(cat->schema, &cat->slots[i], schema,
					nslots, nn, &mv[i].rename);

	/* the check and the write happen in one transaction, so no other
	 * process can add a value the check did not see */
	if ((rc = pim_cat_begin(cat)))
		goto out;
	if ((rc = apply_checks(cat, schema, nslots, nn, mv, &ac)))
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
	if ((rc = apply_changes(cat, schema, nslots, nn, mv)))
		goto out;
	if ((rc = pim_schema_load_buffer(&copy, "(catalog schema)", newsrc,
					 newlen, NULL, NULL)))
		goto out;
	if ((rc = pim_cat_commit(cat)))
		goto out;
	old = cat->schema;
	cat->schema = copy;
	copy = NULL;
	rc = pim_cat_slots(cat);
out:
	if (rc || opts->dry_run)
		pim_cat_rollback(cat);
	pim_schema_free(copy);
	pim_schema_free(old);
	pim_free(nslots);
	pim_free(mv);
	return rc;
}
