/*
 * expr.h - the --where expression language (pim-where(7)), compiled to an
 * SQL condition over the product table (private). Values are parsed with
 * the attribute's type, so `weight > 2 kg` and `color = Red` mean what the
 * schema says; the values go to SQL as bound parameters, never as text.
 */
#ifndef PIM_EXPR_H
#define PIM_EXPR_H

#include "buf.h"
#include "catalog.h"

/* Texts bound to ?1, ?2, ... of the compiled condition, in order. */
typedef struct pim_binds {
	char **v;
	size_t n, cap;
} pim_binds;

void pim_binds_free(pim_binds *b);

/*
 * Appends to `sql` a condition equivalent to `expr` (which must not be
 * empty), numbering its parameters from ?first. `locale` picks the column
 * of localizable attributes named without one (NULL: the schema's first
 * locale). *ranged is set when the condition has a range an index serves
 * better than the key order ("updated since"). Returns 0, PIM_EPARSE with
 * *err filled, or PIM_ENOMEM.
 */
int pim_where_compile(pim_catalog *cat, const char *expr, const char *locale,
		      int first, pim_buf *sql, pim_binds *binds, int *ranged,
		      pim_where_error *err);

/* A parsed condition: turned into SQL for queries, or evaluated in C on
 * values in memory (rules, records being imported). */
typedef struct pim_cond pim_cond;

int pim_cond_parse(pim_cond **out, pim_catalog *cat, const char *expr,
		   const char *locale, pim_where_error *err);
void pim_cond_free(pim_cond *c);

/* Appends the condition as SQL; see pim_where_compile. */
int pim_cond_sql(const pim_cond *c, int first, pim_buf *sql,
		 pim_binds *binds, int *ranged);

/* A product's values for pim_cond_eval. */
typedef struct pim_cond_values {
	const char *const *value; /* per slot of the catalog; NULL = empty */
	const char *family;
	long long updated_batch;  /* 0: being written now */
} pim_cond_values;

/* 1 when the condition holds for the values, else 0: the same answer
 * the SQL form gives for the same product. */
int pim_cond_eval(const pim_cond *c, const pim_cond_values *x);

/* The condition "complete for `role`" over the role's required slots:
 * all filled (localizable ones in `locale`, or every locale when NULL). */
int pim_where_complete(pim_catalog *cat, const pim_role *role,
		       const char *locale, pim_buf *sql);

/* Case-insensitive "contains" for SQL: pim_icontains(haystack, needle).
 * Registered on every catalog connection. */
int pim_expr_register(sqlite3 *db);

#endif
