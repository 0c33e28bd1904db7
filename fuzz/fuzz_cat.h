/*
 * fuzz_cat.h - a catalog for the targets that need one (fuzz_rules,
 * fuzz_where): created once per process in a temporary directory from an
 * embedded schema, loaded with an embedded products file, and read back
 * into memory as per-slot values, so that a target can evaluate conditions
 * and apply rules to the same products the catalog's SQL sees. The
 * directory is removed at exit.
 */
#ifndef PIM_FUZZ_CAT_H
#define PIM_FUZZ_CAT_H

#include <dirent.h>

#include "fuzz.h"

#include "catalog.h"

/* more of fuzz_data.c (see the Makefile's FUZZ_EMBED) */
extern const char fz_example_jsonl[], fz_roles_schema[], fz_views_csv[];
extern const size_t fz_example_jsonl_len, fz_roles_schema_len;
extern const size_t fz_views_csv_len;

typedef struct fz_product {
	char **value;        /* per slot; NULL = empty */
	char *family;
	long long updated_batch;
} fz_product;

typedef struct fz_cat {
	pim_catalog *cat;
	fz_product *prod;    /* the products not archived, in key order */
	size_t n_prod;
	char dir[256];
} fz_cat;

static fz_cat *fz_cats[4];
static size_t fz_n_cats;

static void fz_cat_cleanup(void)
{
	for (size_t c = 0; c < fz_n_cats; c++) {
		fz_cat *fc = fz_cats[c];
		DIR *d;
		struct dirent *e;
		char p[512];

		pim_catalog_close(fc->cat);
		fc->cat = NULL;
		if (!(d = opendir(fc->dir)))
			continue;
		while ((e = readdir(d)))
			if (e->d_name[0] != '.') {
				snprintf(p, sizeof p, "%s/%s", fc->dir,
					 e->d_name);
				unlink(p);
			}
		closedir(d);
		rmdir(fc->dir);
	}
}

static char *fz_strdup(const char *s)
{
	char *d = s ? strdup(s) : NULL;
	FZ_CHECK(!s || d);
	return d;
}

/*
 * Creates the catalog from `schema` and imports `data` (a file named
 * `name`, its extension giving the format); `sql` (may be NULL) then runs
 * on it, to set what an import cannot (families, archived products).
 * Aborts on any failure: the embedded files are the project's own.
 */
static void fz_cat_make(fz_cat *fc, const char *schema, size_t schema_len,
			const char *name, const char *data, size_t len,
			const char *sql)
{
	pim_catalog_options co = PIM_CATALOG_OPTIONS_INIT;
	pim_import_options io = PIM_IMPORT_OPTIONS_INIT;
	pim_import_stats ist;
	pim_schema *s = NULL;
	const char *tmp = getenv("TMPDIR");
	char path[512], dbpath[512];
	const char *paths[1];
	sqlite3_stmt *st = NULL;
	FILE *f;

	memset(fc, 0, sizeof *fc);
	snprintf(fc->dir, sizeof fc->dir, "%s/pim-fuzz-cat.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	FZ_CHECK(mkdtemp(fc->dir) != NULL);
	FZ_CHECK(fz_n_cats < sizeof fz_cats / sizeof fz_cats[0]);
	if (fz_n_cats == 0)
		atexit(fz_cat_cleanup);
	fz_cats[fz_n_cats++] = fc;

	FZ_CHECK(pim_schema_load_buffer(&s, "schema.yaml", schema, schema_len,
					NULL, NULL) == 0);
	snprintf(dbpath, sizeof dbpath, "%s/catalog.db", fc->dir);
	co.create = 1;
	co.user = "fuzz";
	if (pim_catalog_open(&fc->cat, dbpath, &co, s) != 0) {
		fprintf(stderr, "fuzz: cannot create %s: %s\n", dbpath,
			pim_errmsg(fc->cat));
		abort();
	}
	pim_schema_free(s);

	snprintf(path, sizeof path, "%s/%s", fc->dir, name);
	FZ_CHECK((f = fopen(path, "wb")) != NULL);
	FZ_CHECK(fwrite(data, 1, len, f) == len);
	FZ_CHECK(fclose(f) == 0);
	paths[0] = path;
	if (pim_import(&ist, fc->cat, paths, 1, &io, NULL, NULL) != 0 ||
	    ist.created == 0) {
		fprintf(stderr, "fuzz: cannot import %s: %s\n", name,
			pim_errmsg(fc->cat));
		abort();
	}
	unlink(path);
	if (sql)
		FZ_CHECK(sqlite3_exec(fc->cat->db, sql, NULL, NULL, NULL) ==
			 SQLITE_OK);

	/* the products, as the SQL conditions see them */
	{
		pim_buf q = PIM_BUF_INIT;
		pim_buf_adds(&q, "SELECT _family, _updated_batch");
		for (size_t i = 0; i < fc->cat->n_slots; i++)
			pim_buf_printf(&q, ", %s", fc->cat->col[i]);
		pim_buf_printf(&q, " FROM product WHERE _archived = 0 "
				   "ORDER BY _id");
		FZ_CHECK(q.data != NULL);
		FZ_CHECK(sqlite3_prepare_v2(fc->cat->db, q.data, -1, &st,
					    NULL) == SQLITE_OK);
		pim_buf_free(&q);
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		fz_product *p;
		fc->prod = realloc(fc->prod, (fc->n_prod + 1) * sizeof *p);
		FZ_CHECK(fc->prod != NULL);
		p = &fc->prod[fc->n_prod++];
		p->family = fz_strdup((const char *)sqlite3_column_text(st, 0));
		p->updated_batch = sqlite3_column_int64(st, 1);
		p->value = calloc(fc->cat->n_slots + 1, sizeof *p->value);
		FZ_CHECK(p->value != NULL);
		for (size_t i = 0; i < fc->cat->n_slots; i++)
			p->value[i] = fz_strdup(
				(const char *)sqlite3_column_text(st, (int)i + 2));
	}
	FZ_CHECK(sqlite3_finalize(st) == SQLITE_OK);
	FZ_CHECK(fc->n_prod > 0);
}

#endif
