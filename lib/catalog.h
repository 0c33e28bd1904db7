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

/* The on-disk format this pim writes; PRAGMA user_version. */
#define PIM_CATALOG_FORMAT 1
/* PRAGMA application_id: "PIM1" */
#define PIM_CATALOG_APP_ID 0x50494D31

struct pim_catalog {
	sqlite3 *db;
	pim_schema *schema;
	char *path;
	char *user;
	char *role;
	int readonly;
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

/* Current UTC time as ISO 8601 with seconds, into buf (>= 21 bytes). */
void pim_cat_now(char *buf, size_t len);

#endif
