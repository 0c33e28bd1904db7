/*
 * fuzz_where.c - libFuzzer target for the --where expression language
 * (lib/expr.c, pim-where(7)). The input is the expression. It is parsed
 * against two catalogs made once per process: the example schema with
 * examples/data/products.jsonl (no locale given: the schema's first), and
 * the schema of the views tests (tests/data/schemas/roles.yaml, with
 * multiselect, boolean and date attributes) with its products, in locale
 * en_US. An expression that parses is turned into SQL, which must prepare
 * as the condition of "SELECT 1 FROM product WHERE ..."; then, for every
 * product of the catalog, the SQL condition must give 0 or 1 (never NULL)
 * and the same answer as pim_cond_eval on the product's values in memory,
 * as expr.h promises.
 */
#include "fuzz_cat.h"

#include "expr.h"

static fz_cat examples, views;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_cat_make(&examples, fz_example_schema, fz_example_schema_len,
		    "products.jsonl", fz_example_jsonl, fz_example_jsonl_len,
		    "UPDATE product SET _family = 'furniture' "
		    "WHERE sku = 'SKU-00000000';"
		    "UPDATE product SET _family = 'accessories' "
		    "WHERE sku = 'SKU-00000001';");
	fz_cat_make(&views, fz_roles_schema, fz_roles_schema_len,
		    "products.csv", fz_views_csv, fz_views_csv_len,
		    "UPDATE product SET _family = 'kitchen' "
		    "WHERE sku LIKE 'A-%' OR sku = 'Z-999';"
		    "UPDATE product SET _family = 'tools' WHERE sku LIKE 'B-%';"
		    "UPDATE product SET _archived = 1 WHERE sku = 'Z-999';");
	return 0;
}

static void bind_all(sqlite3_stmt *st, const pim_binds *b)
{
	for (size_t i = 0; i < b->n; i++)
		FZ_CHECK(sqlite3_bind_text(st, (int)i + 1, b->v[i], -1,
					   SQLITE_STATIC) == SQLITE_OK);
}

static void one(fz_cat *fc, const char *expr, const char *locale)
{
	pim_cond *c = NULL;
	pim_where_error err;
	pim_buf sql = PIM_BUF_INIT, q = PIM_BUF_INIT;
	pim_binds binds = { 0 };
	sqlite3_stmt *st = NULL;
	int rc, ranged = -1;
	size_t i;

	memset(&err, 0x55, sizeof err);
	rc = pim_cond_parse(&c, fc->cat, expr, locale, &err);
	if (rc) {
		FZ_CHECK(c == NULL);
		FZ_CHECK(rc == PIM_EPARSE || rc == PIM_ENOMEM);
		if (rc == PIM_EPARSE) {
			FZ_CHECK(memchr(err.message, 0, sizeof err.message));
			FZ_CHECK(err.message[0] != '\0');
			FZ_CHECK(err.col >= 1 && err.col <= strlen(expr) + 1);
		}
		return;
	}
	FZ_CHECK(c != NULL);
	FZ_CHECK(pim_cond_sql(c, 1, &sql, &binds, &ranged) == 0);
	FZ_CHECK(sql.data != NULL && sql.len > 0);
	FZ_CHECK(ranged == 0 || ranged == 1);

	/* the condition is valid SQL with as many parameters as binds */
	pim_buf_printf(&q, "SELECT 1 FROM product WHERE %s", sql.data);
	FZ_CHECK(q.data != NULL);
	if (sqlite3_prepare_v2(fc->cat->db, q.data, -1, &st, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "expression: %s\nSQL: %s\nerror: %s\n", expr,
			q.data, sqlite3_errmsg(fc->cat->db));
		abort();
	}
	FZ_CHECK(sqlite3_bind_parameter_count(st) == (int)binds.n);
	bind_all(st, &binds);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	FZ_CHECK(rc == SQLITE_DONE);
	sqlite3_finalize(st);

	/* SQL and C give the same answer for each product */
	pim_buf_clear(&q);
	pim_buf_printf(&q, "SELECT (%s) FROM product WHERE _archived = 0 "
			   "ORDER BY _id",
		       sql.data);
	FZ_CHECK(q.data != NULL);
	FZ_CHECK(sqlite3_prepare_v2(fc->cat->db, q.data, -1, &st, NULL) ==
		 SQLITE_OK);
	bind_all(st, &binds);
	for (i = 0; (rc = sqlite3_step(st)) == SQLITE_ROW; i++) {
		const fz_product *p = &fc->prod[i];
		pim_cond_values cv;
		int in_c, in_sql;

		FZ_CHECK(i < fc->n_prod);
		cv.value = (const char *const *)p->value;
		cv.family = p->family;
		cv.updated_batch = p->updated_batch;
		in_c = pim_cond_eval(c, &cv);
		FZ_CHECK(in_c == 0 || in_c == 1);
		if (sqlite3_column_type(st, 0) != SQLITE_INTEGER) {
			fprintf(stderr, "expression: %s\nSQL: %s\nproduct %zu: "
					"the condition is not 0 or 1\n",
				expr, sql.data, i);
			abort();
		}
		in_sql = sqlite3_column_int(st, 0);
		if (in_sql != in_c) {
			fprintf(stderr, "expression: %s\nSQL: %s\nproduct %zu "
					"(%s): SQL says %d, pim_cond_eval %d\n",
				expr, sql.data, i,
				p->value[fc->cat->key_slot], in_sql, in_c);
			abort();
		}
	}
	FZ_CHECK(rc == SQLITE_DONE);
	FZ_CHECK(i == fc->n_prod);
	sqlite3_finalize(st);

	pim_buf_free(&q);
	pim_buf_free(&sql);
	pim_binds_free(&binds);
	pim_cond_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *expr = malloc(size + 1);

	FZ_CHECK(expr != NULL);
	if (size)
		memcpy(expr, data, size);
	expr[size] = '\0';
	one(&examples, expr, NULL);
	one(&views, expr, "en_US");
	free(expr);
	return 0;
}
