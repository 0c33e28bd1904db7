/*
 * catalog_admin.c - looking after the catalog file as a whole: online
 * backup to a self-contained copy, restore from such a copy (checked
 * first, then swapped in as one write transaction) and verify, which
 * checks the file, every stored value and the history against each other.
 */
#include "catalog.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "value.h"

#define TXT(st, i) ((const char *)sqlite3_column_text((st), (i)))

/* Pages copied per backup step: 4 MiB with the default page size. */
#define STEP_PAGES 1024
/* A step that found the catalog busy or locked is retried for this long
 * (ms), with a short wait in between. */
#define STEP_PATIENCE_MS 5000
#define STEP_WAIT_MS 10

/* ---- small helpers ------------------------------------------------------ */

static int exec_db(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* One integer from a one-row query; SQLite's code on failure. */
static int query_int(sqlite3 *db, const char *sql, long long *out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = 0;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* What a catalog holds, read on connection `db`. */
static int read_info(sqlite3 *db, pim_catalog_info *info)
{
	sqlite3_stmt *st = NULL;
	int rc;

	memset(info, 0, sizeof *info);
	rc = sqlite3_prepare_v2(db,
				"SELECT (SELECT count(*) FROM product WHERE "
				"_archived = 0), (SELECT count(*) FROM product "
				"WHERE _archived != 0), (SELECT count(*) FROM "
				"batch), (SELECT coalesce(max(id), 0) FROM batch)",
				-1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		info->products = sqlite3_column_int64(st, 0);
		info->archived = sqlite3_column_int64(st, 1);
		info->batches = sqlite3_column_int64(st, 2);
		info->last_batch = sqlite3_column_int64(st, 3);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A backup step, retried while another connection holds a lock the step
 * needs, for five seconds in all: a step waits in the busy handler of the
 * connection that needs the lock, but LOCKED does not use the handler,
 * and the backup API gives up BUSY without retrying by itself. */
static int step_retry(sqlite3_backup *b, int pages)
{
	long long until = now_ms() + STEP_PATIENCE_MS;
	int rc;

	for (;;) {
		rc = sqlite3_backup_step(b, pages);
		if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) ||
		    now_ms() >= until)
			return rc;
		sqlite3_sleep(STEP_WAIT_MS);
	}
}

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* ---- backup ------------------------------------------------------------ */

/* Removes what SQLite may keep beside `path`: a -wal file of another
 * database would be replayed into the copy when it is opened. */
static void remove_sidecars(const char *path)
{
	static const char *const ext[] = { "-wal", "-shm", "-journal" };
	char side[4096];

	for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
		if ((size_t)snprintf(side, sizeof side, "%s%s", path, ext[i]) <
		    sizeof side)
			unlink(side);
	}
}

/* Makes sure the new directory entry reaches the disk. */
static void sync_dir(const char *path)
{
	char *copy = pim_strdup(path);
	int fd;

	if (!copy)
		return;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	pim_free(copy);
}

/* Puts the finished copy `tmp` at `path`. Without force, a link keeps an
 * existing file (even one created since the first check) from being
 * overwritten; file systems without hard links get a check and rename. */
static int place_copy(pim_catalog *cat, const char *tmp, const char *path,
		      int force)
{
	struct stat st;

	if (!force) {
		if (link(tmp, path) == 0) {
			unlink(tmp);
			sync_dir(path);
			return 0;
		}
		if (errno == EEXIST)
			return pim_cat_error(cat, PIM_EEXISTS,
					     "%s: already exists (use --force "
					     "to overwrite it)",
					     path);
		if (errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP &&
		    errno != EMLINK)
			return pim_cat_error(cat, PIM_EIO, "%s: %s", path,
					     strerror(errno));
		if (lstat(path, &st) == 0)
			return pim_cat_error(cat, PIM_EEXISTS,
					     "%s: already exists (use --force "
					     "to overwrite it)",
					     path);
	}
	if (rename(tmp, path) != 0)
		return pim_cat_error(cat, PIM_EIO, "%s: %s", path,
				     strerror(errno));
	sync_dir(path);
	return 0;
}

static int check_target(pim_catalog *cat, const char *path, int force)
{
	struct stat st;

	if (!path || !*path)
		return pim_cat_error(cat, PIM_EINVALID, "no file to back up to");
	if (lstat(path, &st) != 0) {
		if (errno != ENOENT)
			return pim_cat_error(cat, PIM_EIO, "%s: %s", path,
					     strerror(errno));
		remove_sidecars(path); /* stale: their database is gone */
		return 0;
	}
	if (S_ISDIR(st.st_mode))
		return pim_cat_error(cat, PIM_EINVALID,
				     "%s: is a directory; give a file name",
				     path);
	if (same_file(path, cat->path))
		return pim_cat_error(cat, PIM_EINVALID,
				     "%s: is the catalog itself", path);
	if (!force)
		return pim_cat_error(cat, PIM_EEXISTS,
				     "%s: already exists (use --force to "
				     "overwrite it)",
				     path);
	return 0;
}

/* A new empty file beside `path`, with the catalog's permissions. */
static int make_temp(pim_catalog *cat, char **tmp, const char *path)
{
	struct stat st;
	size_t n = strlen(path) + 16;
	int fd;

	*tmp = pim_malloc(n);
	if (!*tmp)
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	snprintf(*tmp, n, "%s.tmp-XXXXXX", path);
	fd = mkstemp(*tmp);
	if (fd < 0) {
		int e = errno;
		pim_free(*tmp);
		*tmp = NULL;
		return pim_cat_error(cat, e == ENOENT || e == ENOTDIR
						  ? PIM_EINVALID
						  : PIM_EIO,
				     "%s: %s", path, strerror(e));
	}
	if (stat(cat->path, &st) == 0)
		fchmod(fd, st.st_mode & 0666);
	close(fd);
	return 0;
}

/* Copies the catalog into the open connection `dst`, page by page.
 *
 * In WAL mode (every catalog pim creates) a read transaction is held on
 * the catalog for the whole copy: every step reads the same snapshot, so
 * the copy is one consistent moment (a whole number of batches) and never
 * restarts, while writers go on committing to the WAL, since readers do
 * not block them. The steps are chunks only so that the copy does not
 * hold SQLite's mutexes for long. A catalog someone switched to a
 * rollback journal is copied without the held transaction: a reader would
 * block writers there, so each step takes its own short read lock, the
 * writers get in between (the short sleep), and a write restarts the
 * copy, which SQLite does by itself. */
static int copy_pages(pim_catalog *cat, sqlite3 *dst)
{
	sqlite3_backup *b;
	long long wal = 0;
	int rc, held = 0;

	rc = query_int(cat->db,
		       "SELECT journal_mode = 'wal' FROM pragma_journal_mode",
		       &wal);
	if (rc != SQLITE_OK)
		return pim_cat_sqlerr(cat, rc, "backing up");
	if (wal) {
		long long dummy;
		if ((rc = exec_db(cat->db, "BEGIN")) != SQLITE_OK ||
		    (rc = query_int(cat->db,
				    "SELECT count(*) FROM sqlite_schema",
				    &dummy)) != SQLITE_OK) {
			pim_cat_rollback(cat);
			return pim_cat_sqlerr(cat, rc, "backing up");
		}
		held = 1;
	}
	b = sqlite3_backup_init(dst, "main", cat->db, "main");
	if (!b) {
		rc = pim_cat_error(cat, PIM_EIO, "backing up: %s",
				   sqlite3_errmsg(dst));
		goto out;
	}
	do {
		rc = step_retry(b, STEP_PAGES);
		if (rc == SQLITE_OK && !held)
			sqlite3_sleep(2);
	} while (rc == SQLITE_OK);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		/* reading the catalog fails busy or corrupt; the rest is in
		 * writing the copy (a full disk, no permission) */
		switch (rc & 0xff) {
		case SQLITE_BUSY:
		case SQLITE_LOCKED:
		case SQLITE_CORRUPT:
		case SQLITE_NOTADB:
		case SQLITE_NOMEM:
			rc = pim_cat_sqlerr(cat, rc, "backing up");
			break;
		default:
			rc = pim_cat_error(cat, PIM_EIO, "writing the backup: %s",
					   sqlite3_errstr(rc));
		}
		goto out;
	}
	rc = 0;
out:
	if (held)
		pim_cat_rollback(cat);
	return rc;
}

int pim_catalog_backup(pim_catalog *cat, pim_catalog_info *info,
		       const char *path, int force)
{
	pim_catalog_info own;
	sqlite3 *dst = NULL;
	char *tmp = NULL;
	int rc, src;

	if (!info)
		info = &own;
	memset(info, 0, sizeof *info);
	if ((rc = check_target(cat, path, force)))
		return rc;
	if ((rc = make_temp(cat, &tmp, path)))
		return rc;
	src = sqlite3_open_v2(tmp, &dst,
			      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (src != SQLITE_OK) {
		rc = pim_cat_error(cat, PIM_EIO, "%s: %s", tmp,
				   dst ? sqlite3_errmsg(dst)
				       : sqlite3_errstr(src));
		goto out;
	}
	if ((rc = copy_pages(cat, dst)))
		goto out;
	/* The pages carry the catalog's WAL mark; switching the copy to a
	 * rollback journal clears it, so the copy is one file that opens
	 * without a -wal beside it and can be moved, mailed or archived
	 * alone. (VACUUM INTO would also do, but rewrites every page and
	 * needs the whole copy in one read; the backup API copies in steps.)
	 * Opening a catalog, pim does not need WAL mode; restoring puts the
	 * pages into a catalog that keeps its own WAL mode. */
	src = exec_db(dst, "PRAGMA journal_mode=DELETE");
	if (src == SQLITE_OK)
		src = read_info(dst, info);
	if (src != SQLITE_OK) {
		rc = pim_cat_error(cat, PIM_EIO, "writing the backup: %s",
				   sqlite3_errmsg(dst));
		goto out;
	}
	src = sqlite3_close(dst);
	dst = NULL;
	if (src != SQLITE_OK) {
		rc = pim_cat_error(cat, PIM_EIO, "%s: closing: %s", tmp,
				   sqlite3_errstr(src));
		goto out;
	}
	if (force)
		remove_sidecars(path); /* they belong to the file replaced */
	rc = place_copy(cat, tmp, path, force);
out:
	if (dst)
		sqlite3_close(dst);
	if (tmp) {
		if (rc) {
			unlink(tmp);
			remove_sidecars(tmp);
		}
		pim_free(tmp);
	}
	return rc;
}

/* ---- restore ------------------------------------------------------------ */

/* The file to restore from, checked and held in a read transaction so
 * that the pages copied are those checked. */
typedef struct source {
	sqlite3 *db;
	pim_schema *schema;
} source;

static void source_close(source *s)
{
	if (s->db) {
		exec_db(s->db, "ROLLBACK");
		sqlite3_close(s->db);
	}
	pim_schema_free(s->schema);
	memset(s, 0, sizeof *s);
}

/* The message for a failure on the source file. */
static int source_err(pim_catalog *cat, const char *from, int sqlrc)
{
	switch (sqlrc & 0xff) {
	case SQLITE_NOTADB:
		return pim_cat_error(cat, PIM_EDB,
				     "%s: not an SQLite database; nothing "
				     "restored",
				     from);
	case SQLITE_CORRUPT:
		return pim_cat_error(cat, PIM_EDB,
				     "%s: the file is damaged; nothing restored",
				     from);
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return pim_cat_error(cat, PIM_EBUSY,
				     "%s: busy (another process is writing it)",
				     from);
	case SQLITE_NOMEM:
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
		return pim_cat_error(cat, PIM_EIO, "%s: cannot read it",
				     from);
	default:
		return pim_cat_error(cat, PIM_EDB, "%s: %s; nothing restored",
				     from, sqlite3_errstr(sqlrc));
	}
}

/* PRAGMA integrity_check must say exactly "ok". */
static int source_integrity(pim_catalog *cat, source *s, const char *from)
{
	sqlite3_stmt *st = NULL;
	char first[200] = "";
	long bad = 0;
	int rc;

	rc = sqlite3_prepare_v2(s->db, "PRAGMA integrity_check(20)", -1, &st,
				NULL);
	if (rc != SQLITE_OK)
		return source_err(cat, from, rc);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *r = TXT(st, 0);
		if (r && !strcmp(r, "ok"))
			continue;
		if (!bad++)
			snprintf(first, sizeof first, "%s", r ? r : "?");
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return source_err(cat, from, rc);
	if (bad)
		return pim_cat_error(cat, PIM_EDB,
				     "%s: the file is damaged (integrity check: "
				     "%s%s); nothing restored",
				     from, first, bad > 1 ? ", ..." : "");
	return 0;
}

/* application_id, user_version and the stored schema. */
static int source_format(pim_catalog *cat, source *s, const char *from)
{
	sqlite3_stmt *st = NULL;
	long long app, ver;
	int rc;

	if ((rc = query_int(s->db, "PRAGMA application_id", &app)) ||
	    (rc = query_int(s->db, "PRAGMA user_version", &ver)))
		return source_err(cat, from, rc);
	if (app != PIM_CATALOG_APP_ID)
		return pim_cat_error(cat, PIM_EDB,
				     "%s: an SQLite database, but not a pim "
				     "catalog; nothing restored",
				     from);
	if (ver > PIM_CATALOG_FORMAT)
		return pim_cat_error(cat, PIM_EVERSION,
				     "%s: catalog format %lld was written by a "
				     "newer pim; this pim %s reads format %d; "
				     "nothing restored",
				     from, ver, PIM_VERSION_STRING,
				     PIM_CATALOG_FORMAT);
	if (ver < 1)
		return pim_cat_error(cat, PIM_EDB,
				     "%s: no catalog format (user_version 0); "
				     "not a pim catalog; nothing restored",
				     from);
	rc = sqlite3_prepare_v2(s->db,
				"SELECT source FROM schema_version ORDER BY id "
				"DESC LIMIT 1",
				-1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		rc = pim_schema_load_buffer(&s->schema, "(catalog schema)",
					    TXT(st, 0),
					    (size_t)sqlite3_column_bytes(st, 0),
					    NULL, NULL);
	else if (rc == SQLITE_DONE)
		rc = PIM_ENOTFOUND;
	else
		rc = PIM_EDB;
	sqlite3_finalize(st);
	if (rc == PIM_ENOMEM)
		return pim_cat_error(cat, rc, "out of memory");
	if (rc)
		return pim_cat_error(cat, PIM_EDB,
				     "%s: %s; nothing restored", from,
				     rc == PIM_ENOTFOUND
					     ? "the catalog has no schema"
					     : "the stored schema does not load");
	return 0;
}

static int source_open(pim_catalog *cat, source *s, const char *from)
{
	struct stat st;
	long long n;
	int rc;

	memset(s, 0, sizeof *s);
	if (stat(from, &st) != 0)
		return pim_cat_error(cat, errno == ENOENT ? PIM_ENOTFOUND
							  : PIM_EIO,
				     "%s: %s", from, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return pim_cat_error(cat, PIM_EINVALID,
				     "%s: not a regular file", from);
	if (same_file(from, cat->path))
		return pim_cat_error(cat, PIM_EINVALID,
				     "%s: is the catalog itself", from);
	rc = sqlite3_open_v2(from, &s->db,
			     SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return source_err(cat, from, rc);
	sqlite3_busy_timeout(s->db, 5000);
	/* one read transaction from the checks to the end of the copy */
	if ((rc = exec_db(s->db, "BEGIN")) != SQLITE_OK ||
	    (rc = query_int(s->db, "SELECT count(*) FROM sqlite_schema", &n)))
		return source_err(cat, from, rc);
	if ((rc = source_integrity(cat, s, from)) ||
	    (rc = source_format(cat, s, from)))
		return rc;
	if ((rc = query_int(s->db, "SELECT count(*) FROM product", &n)))
		return pim_cat_error(cat, PIM_EDB,
				     "%s: no product table; not a pim catalog; "
				     "nothing restored",
				     from);
	return 0;
}

/* What the catalog holds now, read through a second connection while the
 * restore holds the write lock: the last committed state, which no one
 * can change before the restore commits or gives up. */
static int peek_info(pim_catalog *cat, pim_catalog_info *info)
{
	sqlite3 *db = NULL;
	int rc;

	rc = sqlite3_open_v2(cat->path, &db,
			     SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		rc = read_info(db, info);
	}
	if (rc != SQLITE_OK)
		rc = pim_cat_error(cat, PIM_EDB, "%s: reading the catalog: %s",
				   cat->path,
				   db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	sqlite3_close(db);
	return rc;
}

static int page_sizes(pim_catalog *cat, source *s, const char *from)
{
	long long ps, pd, wal;

	if (query_int(s->db, "PRAGMA page_size", &ps) ||
	    query_int(cat->db, "PRAGMA page_size", &pd) ||
	    query_int(cat->db,
		      "SELECT journal_mode = 'wal' FROM pragma_journal_mode",
		      &wal))
		return pim_cat_sqlerr(cat, sqlite3_errcode(cat->db), "restoring");
	/* SQLite cannot copy pages of another size into a WAL database */
	if (wal && ps != pd)
		return pim_cat_error(cat, PIM_EINVALID,
				     "%s: its pages are %lld bytes, the "
				     "catalog's %lld; SQLite cannot copy "
				     "between them in WAL mode",
				     from, ps, pd);
	return 0;
}

/*
 * The copy goes through the backup API into the open catalog. Its first
 * step (of no pages) takes the catalog's write lock, which the copy then
 * holds to the end, and commits all pages as one transaction: readers see
 * the old catalog or the new one; the WAL mode of the catalog stays (SQLite
 * marks the copied pages so). The lock is taken before the products are
 * counted, so the check for --yes sees what is replaced.
 */
static int copy_in(pim_catalog *cat, source *s, pim_catalog_info *replaced,
		   int replace)
{
	sqlite3_backup *b;
	int rc;

	b = sqlite3_backup_init(cat->db, "main", s->db, "main");
	if (!b)
		return pim_cat_sqlerr(cat, sqlite3_errcode(cat->db), "restoring");
	rc = step_retry(b, 0);
	if (rc != SQLITE_OK && rc != SQLITE_DONE) {
		sqlite3_backup_finish(b);
		return pim_cat_sqlerr(cat, rc, "restoring");
	}
	if ((rc = peek_info(cat, replaced))) {
		sqlite3_backup_finish(b);
		return rc;
	}
	if ((replaced->products || replaced->archived) && !replace) {
		sqlite3_backup_finish(b);
		return pim_cat_error(cat, PIM_ECONFLICT,
				     "%s has %lld product%s; restoring replaces "
				     "them (use --yes)",
				     cat->path,
				     replaced->products + replaced->archived,
				     replaced->products + replaced->archived == 1
					     ? ""
					     : "s");
	}
	rc = step_retry(b, -1);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE)
		return pim_cat_sqlerr(cat, rc, "restoring");
	return 0;
}

int pim_catalog_restore(pim_catalog *cat, pim_catalog_info *replaced,
			pim_catalog_info *restored, const char *from,
			int replace)
{
	pim_catalog_info old, now;
	source s;
	int rc;

	if (!replaced)
		replaced = &old;
	if (!restored)
		restored = &now;
	memset(replaced, 0, sizeof *replaced);
	memset(restored, 0, sizeof *restored);
	if (!from || !*from)
		return pim_cat_error(cat, PIM_EINVALID, "no file to restore");
	if (cat->readonly)
		return pim_cat_error(cat, PIM_EIO, "%s: opened read-only",
				     cat->path);
	if ((rc = source_open(cat, &s, from)))
		goto out;
	if ((rc = page_sizes(cat, &s, from)))
		goto out;
	sqlite3_finalize(cat->hist); /* its table is replaced */
	cat->hist = NULL;
	if ((rc = copy_in(cat, &s, replaced, replace)))
		goto out;
	/* the handle now reads the restored catalog */
	pim_schema_free(cat->schema);
	cat->schema = s.schema;
	s.schema = NULL;
	if ((rc = pim_cat_slots(cat)))
		goto out;
	if ((rc = read_info(cat->db, restored)) != SQLITE_OK)
		rc = pim_cat_sqlerr(cat, rc, "reading the restored catalog");
out:
	source_close(&s);
	return rc;
}

/* ---- verify ------------------------------------------------------------- */

typedef struct vctx {
	pim_catalog *cat;
	pim_diag_fn diag;
	void *ctx;
	pim_verify_stats *st;
	unsigned char *has_col; /* per slot: the product table has it */
	int stop;               /* the callback asked to stop */
} vctx;

/* Reports one problem. Returns 1 when the callback asked to stop. */
static int problem(vctx *v, const char *sku, const char *attr,
		   const char *code, const char *value, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static int problem(vctx *v, const char *sku, const char *attr,
		   const char *code, const char *value, const char *fmt, ...)
{
	char msg[512];
	pim_diag d;
	va_list ap;

	v->st->problems++;
	if (!v->diag)
		return 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	memset(&d, 0, sizeof d);
	d.file = v->cat->path;
	d.key = sku;
	d.attribute = attr;
	d.code = code;
	d.severity = PIM_SEV_ERROR;
	d.message = msg;
	d.value = value;
	if (v->diag(&d, v->ctx))
		v->stop = 1;
	return v->stop;
}

/* Runs `sql` (with ?1 bound to `bind`, when given) and calls row() for
 * each row; stops when it returns non-zero. SQLite's failures become the
 * handle's error. */
typedef int (*row_fn)(vctx *v, sqlite3_stmt *st, void *arg);

static int each_row(vctx *v, const char *sql, const char *bind, row_fn row,
		    void *arg, const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(v->cat->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return pim_cat_sqlerr(v->cat, rc, what);
	if (bind)
		sqlite3_bind_text(st, 1, bind, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int r = row(v, st, arg);
		if (r < 0) {
			sqlite3_finalize(st);
			return r;
		}
		if (r > 0 || v->stop) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : pim_cat_sqlerr(v->cat, rc, what);
}

/* A row of PRAGMA integrity_check may hold several lines: one problem
 * each, without SQLite's "*** in database main ***" heading. */
static int integrity_row(vctx *v, sqlite3_stmt *st, void *arg)
{
	const char *r = TXT(st, 0);

	(void)arg;
	if (!r)
		return problem(v, NULL, NULL, "corrupt", NULL, "damaged");
	if (!strcmp(r, "ok"))
		return 0;
	while (*r) {
		size_t n = strcspn(r, "\n");
		if (n && strncmp(r, "*** ", 4) != 0 &&
		    problem(v, NULL, NULL, "corrupt", NULL, "damaged: %.*s",
			    (int)n, r))
			return 1;
		r += n;
		if (*r)
			r++;
	}
	return 0;
}

static int fk_row(vctx *v, sqlite3_stmt *st, void *arg)
{
	const char *table = TXT(st, 0), *parent = TXT(st, 2);
	long long rowid = sqlite3_column_int64(st, 1);
	sqlite3_stmt *q = NULL;
	char sql[300];
	int r = 0;

	(void)arg;
	/* a row without its key has its product's */
	snprintf(sql, sizeof sql,
		 "SELECT coalesce(nullif(h.sku, ''), p.%s), h.attribute, "
		 "h.batch FROM history h LEFT JOIN product p ON p._id = "
		 "h.product WHERE h.id = ?1",
		 v->cat->col[v->cat->key_slot]);
	if (table && !strcmp(table, "history") &&
	    sqlite3_prepare_v2(v->cat->db, sql, -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(q, 1, rowid);
		if (sqlite3_step(q) == SQLITE_ROW)
			r = problem(v, TXT(q, 0), TXT(q, 1), "history", NULL,
				    "history row %lld belongs to batch %lld, "
				    "which does not exist",
				    rowid, sqlite3_column_int64(q, 2));
		sqlite3_finalize(q);
		return r;
	}
	if (table && !strcmp(table, "batch") &&
	    sqlite3_prepare_v2(v->cat->db,
			       "SELECT undone_by FROM batch WHERE id = ?1", -1,
			       &q, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(q, 1, rowid);
		if (sqlite3_step(q) == SQLITE_ROW)
			r = problem(v, NULL, NULL, "history", NULL,
				    "batch %lld is marked undone by batch "
				    "%lld, which does not exist",
				    rowid, sqlite3_column_int64(q, 0));
		sqlite3_finalize(q);
		return r;
	}
	sqlite3_finalize(q);
	return problem(v, NULL, NULL, "foreign-key", NULL,
		       "%s row %lld refers to a missing row of %s",
		       table ? table : "?", rowid, parent ? parent : "?");
}

/* Every slot of the schema needs its column in the product table. */
static int check_columns(vctx *v)
{
	pim_catalog *cat = v->cat;
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(cat->db,
				"SELECT 1 FROM pragma_table_info('product') "
				"WHERE name = ?1",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return pim_cat_sqlerr(cat, rc, "reading the product table");
	for (size_t i = 0; i < cat->n_slots && !v->stop; i++) {
		char col[128];
		pim_slot_column(col, sizeof col, cat->schema, &cat->slots[i]);
		sqlite3_bind_text(st, 1, col, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc == SQLITE_ROW) {
			v->has_col[i] = 1;
			continue;
		}
		if (rc != SQLITE_DONE) {
			sqlite3_finalize(st);
			return pim_cat_sqlerr(cat, rc, "reading the product table");
		}
		problem(v, NULL, col, "column", NULL,
			"the schema has attribute %s, but the product table "
			"has no column for it",
			col);
	}
	sqlite3_finalize(st);
	return 0;
}

struct slot_arg {
	size_t slot;
	const char *col; /* the column's name, unquoted */
	pim_buf out;
};

/* A stored value must be one the schema accepts, in its canonical form:
 * the form an import, a set or a schema change stores. The parser is the
 * one imports use (value.c), so verify accepts exactly what they do. */
static int value_row(vctx *v, sqlite3_stmt *st, void *arg)
{
	struct slot_arg *a = arg;
	const pim_attr *attr = &v->cat->schema->attrs[v->cat->slots[a->slot].attr];
	const char *sku = TXT(st, 0), *val = TXT(st, 1);
	size_t len = (size_t)sqlite3_column_bytes(st, 1);
	pim_value_err err;
	int rc;

	v->st->values++;
	rc = pim_value_parse(&a->out, &err, attr, val, len, NULL);
	if (rc < 0)
		return pim_cat_error(v->cat, rc, "out of memory");
	if (rc == 1)
		return problem(v, sku, a->col, err.code, val, "%s", err.msg);
	if (a->out.len != len || memcmp(a->out.data, val, len) != 0)
		return problem(v, sku, a->col, "canonical", val,
			       "not stored in the canonical form '%s'",
			       a->out.data);
	return 0;
}

static int check_values(vctx *v)
{
	pim_catalog *cat = v->cat;
	struct slot_arg a = { 0, NULL, PIM_BUF_INIT };
	int rc = 0;

	for (size_t i = 0; i < cat->n_slots && rc == 0 && !v->stop; i++) {
		char col[128], sql[512];
		if (!v->has_col[i])
			continue;
		pim_slot_column(col, sizeof col, cat->schema, &cat->slots[i]);
		snprintf(sql, sizeof sql,
			 "SELECT %s, %s FROM product WHERE %s IS NOT NULL AND "
			 "%s != '' ORDER BY %s",
			 cat->col[cat->key_slot], cat->col[i], cat->col[i],
			 cat->col[i], cat->col[cat->key_slot]);
		a.slot = i;
		a.col = col;
		rc = each_row(v, sql, NULL, value_row, &a, "checking values");
	}
	pim_buf_free(&a.out);
	return rc;
}

static int unique_row(vctx *v, sqlite3_stmt *st, void *arg)
{
	struct slot_arg *a = arg;

	return problem(v, TXT(st, 0), a->col, "unique", TXT(st, 1),
		       "%s also has this value, but %s is unique", TXT(st, 2),
		       a->col);
}

/* Unique attributes: every product after the first (by key) holding a
 * value is a problem. Archived products count, as they do for imports. */
static int check_unique(vctx *v)
{
	pim_catalog *cat = v->cat;
	struct slot_arg a = { 0, NULL, PIM_BUF_INIT };
	int rc = 0;

	for (size_t i = 0; i < cat->n_slots && rc == 0 && !v->stop; i++) {
		const pim_attr *attr = &cat->schema->attrs[cat->slots[i].attr];
		const char *k = cat->col[cat->key_slot], *c = cat->col[i];
		char col[128], sql[700];
		if (!attr->unique || i == cat->key_slot || !v->has_col[i])
			continue;
		pim_slot_column(col, sizeof col, cat->schema, &cat->slots[i]);
		snprintf(sql, sizeof sql,
			 "SELECT _k, _v, _f FROM (SELECT %s AS _k, %s AS _v, "
			 "first_value(%s) OVER w AS _f, row_number() OVER w AS "
			 "_n FROM product WHERE %s IS NOT NULL AND %s != '' "
			 "WINDOW w AS (PARTITION BY %s ORDER BY %s)) WHERE _n > "
			 "1 ORDER BY _k",
			 k, c, k, c, c, c, k);
		a.slot = i;
		a.col = col;
		rc = each_row(v, sql, NULL, unique_row, &a,
			      "checking uniqueness");
	}
	return rc;
}

static int history_row(vctx *v, sqlite3_stmt *st, void *arg)
{
	struct slot_arg *a = arg;
	const char *stored = TXT(st, 1), *said = TXT(st, 2);

	return problem(v, TXT(st, 0), a->col, "history", stored ? stored : "",
		       "the stored value is not the one the last recorded "
		       "change set ('%s', batch %lld)",
		       said ? said : "", sqlite3_column_int64(st, 3));
}

/*
 * The stored value must be the one the product's last recorded change of
 * the attribute set. Only changes since the product was created count:
 * an undo may remove a product and a later import create one with the
 * same key and number, whose history starts afresh. A product without
 * changes of an attribute has its first value, which is not recorded.
 */
static int check_history(vctx *v)
{
	pim_catalog *cat = v->cat;
	struct slot_arg a = { 0, NULL, PIM_BUF_INIT };
	int rc = 0;

	for (size_t i = 0; i < cat->n_slots && rc == 0 && !v->stop; i++) {
		const char *k = cat->col[cat->key_slot], *c = cat->col[i];
		char col[128], sql[900];
		if (i == cat->key_slot || !v->has_col[i])
			continue;
		pim_slot_column(col, sizeof col, cat->schema, &cat->slots[i]);
		snprintf(sql, sizeof sql,
			 "SELECT p.%s, p.%s, h.new, h.batch FROM product p JOIN "
			 "history h ON h.id = (SELECT max(x.id) FROM history x "
			 "WHERE x.product = p._id AND x.attribute = ?1 AND "
			 "x.sku IN ('', p.%s) AND x.batch >= "
			 "coalesce(p._created_batch, "
			 "0)) WHERE coalesce(p.%s, '') != coalesce(h.new, '') "
			 "ORDER BY p.%s",
			 k, c, k, c, k);
		a.slot = i;
		a.col = col;
		rc = each_row(v, sql, col, history_row, &a, "checking history");
	}
	return rc;
}

static int batch_ref_row(vctx *v, sqlite3_stmt *st, void *arg)
{
	(void)arg;
	return problem(v, TXT(st, 0), NULL, "history", NULL,
		       "%s by batch %lld, which does not exist", TXT(st, 1),
		       sqlite3_column_int64(st, 2));
}

/* The batches a product names (created, last updated) must exist. */
static int check_batch_refs(vctx *v)
{
	const char *k = v->cat->col[v->cat->key_slot];
	char sql[600];

	snprintf(sql, sizeof sql,
		 "SELECT %s, 'created', _created_batch FROM product WHERE "
		 "_created_batch IS NOT NULL AND _created_batch NOT IN (SELECT "
		 "id FROM batch) UNION ALL SELECT %s, 'last changed', "
		 "_updated_batch "
		 "FROM product WHERE _updated_batch IS NOT NULL AND "
		 "_updated_batch NOT IN (SELECT id FROM batch) ORDER BY 1, 2",
		 k, k);
	return each_row(v, sql, NULL, batch_ref_row, NULL, "checking batches");
}

static int verify_counts(vctx *v)
{
	long long n[3];
	int rc;

	if ((rc = query_int(v->cat->db, "SELECT count(*) FROM product", &n[0])) ||
	    (rc = query_int(v->cat->db, "SELECT count(*) FROM history", &n[1])) ||
	    (rc = query_int(v->cat->db, "SELECT count(*) FROM batch", &n[2])))
		return pim_cat_sqlerr(v->cat, rc, "counting");
	v->st->products = (unsigned long)n[0];
	v->st->history = (unsigned long)n[1];
	v->st->batches = (unsigned long)n[2];
	return 0;
}

/* The checks of the data, once the file itself is sound. */
static int verify_data(vctx *v)
{
	int rc;

	if ((rc = verify_counts(v)))
		return rc;
	if ((rc = each_row(v, "PRAGMA foreign_key_check", NULL, fk_row, NULL,
			   "checking references")))
		return rc;
	if (!v->stop && (rc = check_columns(v)))
		return rc;
	if (!v->stop && v->has_col[v->cat->key_slot] == 0)
		return 0; /* nothing can be read by key */
	if (!v->stop && (rc = check_values(v)))
		return rc;
	if (!v->stop && (rc = check_unique(v)))
		return rc;
	if (!v->stop && (rc = check_history(v)))
		return rc;
	if (!v->stop && (rc = check_batch_refs(v)))
		return rc;
	return 0;
}

int pim_catalog_verify(pim_catalog *cat, pim_verify_stats *stats,
		       pim_diag_fn diag, void *ctx)
{
	pim_verify_stats own;
	vctx v;
	int rc;

	if (!stats)
		stats = &own;
	memset(stats, 0, sizeof *stats);
	memset(&v, 0, sizeof v);
	v.cat = cat;
	v.diag = diag;
	v.ctx = ctx;
	v.st = stats;
	v.has_col = pim_calloc(cat->n_slots + 1, 1);
	if (!v.has_col)
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	/* one read transaction: every check sees the same catalog */
	if ((rc = exec_db(cat->db, "BEGIN")) != SQLITE_OK) {
		rc = pim_cat_sqlerr(cat, rc, "verifying");
		goto out;
	}
	/* SQLite may list some damage and then fail on it */
	rc = each_row(&v, "PRAGMA integrity_check(100)", NULL, integrity_row,
		      NULL, "checking integrity");
	if (rc && (rc != PIM_EDB || !stats->problems))
		goto out;
	if (stats->problems) {
		/* the rest would read damaged pages */
		rc = pim_cat_error(cat, PIM_EDB,
				   "%s: the catalog is damaged (%lu problem%s "
				   "found by the integrity check); restore a "
				   "backup",
				   cat->path, stats->problems,
				   stats->problems == 1 ? "" : "s");
		goto out;
	}
	if ((rc = verify_data(&v)))
		goto out;
	if (stats->problems)
		rc = pim_cat_error(cat, PIM_EDATA, "%s: %lu problem%s found",
				   cat->path, stats->problems,
				   stats->problems == 1 ? "" : "s");
out:
	pim_cat_rollback(cat);
	pim_free(v.has_col);
	return rc;
}
