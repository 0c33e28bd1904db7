/*
 * pim.h - the public interface of libpim, a product information manager.
 *
 * This is the only installed header. Everything here is stable API; the
 * private modules behind it live in lib/ and are never included by callers.
 */
#ifndef PIM_H
#define PIM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The one source of the version: the Makefile reads these three lines. */
#define PIM_VERSION_MAJOR 0
#define PIM_VERSION_MINOR 1
#define PIM_VERSION_PATCH 0
#define PIM_VERSION_STRING "0.1.0"

#if defined(PIM_BUILDING) && defined(__GNUC__)
#define PIM_API __attribute__((visibility("default")))
#else
#define PIM_API
#endif

/* Return codes: 0 for success, a negative PIM_E* code otherwise. */
enum {
	PIM_OK = 0,
	PIM_EINVALID = -1,  /* bad argument, bad option, bad configuration */
	PIM_ENOTFOUND = -2, /* no such product, attribute, file or role */
	PIM_EPARSE = -3,    /* a file the user wrote cannot be parsed */
	PIM_EIO = -4,       /* reading or writing a file failed */
	PIM_EBUSY = -5,     /* the catalog is locked by another process */
	PIM_ENOMEM = -6,    /* out of memory */
	PIM_EDB = -7,       /* the catalog is corrupt or SQLite failed */
	PIM_EEXISTS = -8,   /* the thing to be created already exists */
	PIM_EDATA = -9,     /* the data has problems (invalid rows) */
	PIM_ELIMIT = -10,   /* a size limit was exceeded */
	PIM_EVERSION = -11, /* the catalog was written by a newer pim */
	PIM_EDENIED = -12,  /* the role may not do this */
	PIM_ECONFLICT = -13 /* a change would lose data; needs force */
};

/* Static English text for a return code. Never NULL. */
PIM_API const char *pim_strerror(int code);

/* The library's version string, PIM_VERSION_STRING of the built library. */
PIM_API const char *pim_version(void);

/* ---- diagnostics --------------------------------------------------- */

typedef enum {
	PIM_SEV_ERROR = 0,
	PIM_SEV_WARNING = 1
} pim_severity;

/*
 * One finding about an input file. Every pointer is borrowed and valid only
 * during the callback; copy what you keep. Unknown parts are NULL or 0.
 */
typedef struct pim_diag {
	const char *file;      /* the file as named by the caller */
	unsigned long line;    /* 1-based line (of the record's first byte) */
	unsigned long col;     /* 1-based column: a character in YAML files,
				  a field index in CSV files */
	const char *column;    /* CSV: the header of the field, in UTF-8 */
	const char *attribute; /* the attribute code concerned */
	const char *code;      /* stable diagnostic code, e.g. "type" */
	pim_severity severity;
	const char *message;   /* one line of English */
	const char *value;     /* the offending value, UTF-8, may be cut */
	const char *key;       /* the product's key (SKU), when known */
} pim_diag;

/*
 * Called for each diagnostic. Return 0 to go on, non-zero to stop the
 * operation early (it then returns PIM_EDATA or its own error).
 */
typedef int (*pim_diag_fn)(const pim_diag *diag, void *ctx);

/* ---- schema -------------------------------------------------------- */

/* A loaded schema. Immutable after loading; free with pim_schema_free. */
typedef struct pim_schema pim_schema;

/* Attribute types. The numbering is stable. */
typedef enum {
	PIM_TYPE_IDENTIFIER = 0,
	PIM_TYPE_TEXT,
	PIM_TYPE_TEXTAREA,
	PIM_TYPE_INTEGER,
	PIM_TYPE_NUMBER,
	PIM_TYPE_BOOLEAN,
	PIM_TYPE_DATE,
	PIM_TYPE_SELECT,
	PIM_TYPE_MULTISELECT,
	PIM_TYPE_PRICE,
	PIM_TYPE_MEASURE,
	PIM_TYPE_GTIN,
	PIM_TYPE_URL,
	PIM_TYPE_EMAIL,
	PIM_TYPE_CATEGORY,
	PIM_TYPE__COUNT
} pim_type;

/* The type's name as written in schema files ("gtin"), or NULL. */
PIM_API const char *pim_type_name(pim_type type);

/*
 * Load a schema from a YAML file and check it. Every problem found goes to
 * `diag` (which may be NULL); the return is 0 only when there were no
 * errors, and then *out holds the schema, owned by the caller. On failure
 * *out is NULL and the code is PIM_EPARSE (problems reported), PIM_EIO
 * (cannot read) or PIM_ENOMEM.
 */
PIM_API int pim_schema_load_file(pim_schema **out, const char *path,
				 pim_diag_fn diag, void *ctx);

/* As pim_schema_load_file, from memory. `name` is used in diagnostics. */
PIM_API int pim_schema_load_buffer(pim_schema **out, const char *name,
				   const char *data, size_t len,
				   pim_diag_fn diag, void *ctx);

/* Frees a schema. Accepts NULL. */
PIM_API void pim_schema_free(pim_schema *schema);

/* The schema's `name:`. Borrowed from the schema. */
PIM_API const char *pim_schema_name(const pim_schema *schema);

/* The YAML text the schema was loaded from. Borrowed; *len gets its size. */
PIM_API const char *pim_schema_source(const pim_schema *schema, size_t *len);

/* Number of attributes, and the code and type of the i-th (file order). */
PIM_API size_t pim_schema_attribute_count(const pim_schema *schema);
PIM_API const char *pim_schema_attribute_code(const pim_schema *schema,
					      size_t i);
PIM_API pim_type pim_schema_attribute_type(const pim_schema *schema,
					   size_t i);

/* Index of the attribute `code`, or -1. */
PIM_API long pim_schema_attribute_find(const pim_schema *schema,
				       const char *code);

/* Number of roles and the name of the i-th. Borrowed. */
PIM_API size_t pim_schema_role_count(const pim_schema *schema);
PIM_API const char *pim_schema_role_name(const pim_schema *schema, size_t i);

/* ---- catalog ------------------------------------------------------- */

/* An open catalog: one SQLite file. Free with pim_catalog_close. */
typedef struct pim_catalog pim_catalog;

#define PIM_CATALOG_OPTIONS_VERSION 1

typedef struct pim_catalog_options {
	unsigned int version;     /* PIM_CATALOG_OPTIONS_VERSION */
	int create;               /* create a new catalog; refuse an existing
				     file (PIM_EEXISTS) */
	int readonly;             /* open for reading only */
	int busy_timeout_ms;      /* wait this long for a lock; 0 = 5000 */
	const char *user;         /* recorded with changes; NULL = "unknown" */
	const char *role;         /* recorded with changes; may be NULL */
} pim_catalog_options;

#define PIM_CATALOG_OPTIONS_INIT { PIM_CATALOG_OPTIONS_VERSION, 0, 0, 0, NULL, NULL }

/*
 * Open (or with opts->create, create) the catalog at `path`. On success
 * *out holds the handle. On failure *out may still hold a handle whose
 * pim_errmsg explains the failure; close it either way. `schema` is used
 * only when creating: it is stored in the new catalog (borrowed).
 */
PIM_API int pim_catalog_open(pim_catalog **out, const char *path,
			     const pim_catalog_options *opts,
			     const pim_schema *schema);

/* Closes the catalog. Accepts NULL. */
PIM_API void pim_catalog_close(pim_catalog *cat);

/* The message for the last failure on this handle. Never NULL. */
PIM_API const char *pim_errmsg(const pim_catalog *cat);

/* The catalog's current schema. Borrowed; valid until the next apply. */
PIM_API const pim_schema *pim_catalog_schema(const pim_catalog *cat);

/* Number of products (archived ones not counted) in *out. */
PIM_API int pim_catalog_product_count(pim_catalog *cat, long long *out);

#define PIM_APPLY_OPTIONS_VERSION 1

typedef struct pim_apply_options {
	unsigned int version; /* PIM_APPLY_OPTIONS_VERSION */
	int force;            /* apply even when stored values are lost */
	int dry_run;          /* report, write nothing */
} pim_apply_options;

#define PIM_APPLY_OPTIONS_INIT { PIM_APPLY_OPTIONS_VERSION, 0, 0 }

/*
 * Replace the catalog's schema by `schema` (borrowed). Each stored value
 * the new schema would drop or no longer accept is reported to `diag`
 * (key = SKU, attribute, code "lost" or the validation code). Without
 * opts->force such a change is refused with PIM_ECONFLICT and nothing is
 * written. *changed is set to 1 when the stored schema differs.
 */
PIM_API int pim_catalog_apply_schema(pim_catalog *cat, int *changed,
				     const pim_schema *schema,
				     const pim_apply_options *opts,
				     pim_diag_fn diag, void *ctx);

/* ---- mappings ------------------------------------------------------- */

/* How one supplier's file layout maps onto the schema (pim-mapping(5)). */
typedef struct pim_mapping pim_mapping;

/*
 * Load a mapping from a YAML file and check it against `schema` (borrowed;
 * it must outlive the mapping). Problems go to `diag` as FILE:LINE:COL.
 * Returns 0 with *out owned by the caller, or PIM_EPARSE, PIM_EIO,
 * PIM_ENOMEM with *out NULL.
 */
PIM_API int pim_mapping_load_file(pim_mapping **out, const char *path,
				  const pim_schema *schema, pim_diag_fn diag,
				  void *ctx);
PIM_API int pim_mapping_load_buffer(pim_mapping **out, const char *name,
				    const char *data, size_t len,
				    const pim_schema *schema, pim_diag_fn diag,
				    void *ctx);

/* Frees a mapping. Accepts NULL. */
PIM_API void pim_mapping_free(pim_mapping *mapping);

/* ---- validation ------------------------------------------------------ */

#define PIM_VALIDATE_OPTIONS_VERSION 1

typedef struct pim_validate_options {
	unsigned int version;       /* PIM_VALIDATE_OPTIONS_VERSION */
	const pim_mapping *mapping; /* NULL: headers are attribute codes */
	char delimiter;             /* 0: from the mapping, else detected */
	char quote;                 /* 0: from the mapping, else '"' */
	char decimal;               /* 0: from the mapping, else detected */
	int header;                 /* -1: from the mapping, else detected */
	const char *encoding;       /* NULL: from the mapping, else detected */
	unsigned long max_errors;   /* stop after this many errors; 0 = all */
	size_t max_field_size;      /* bytes; 0 = 1 MiB */
	pim_catalog *catalog;       /* unique values are also checked against
				       this catalog's products (borrowed);
				       NULL: within the files only */
} pim_validate_options;

#define PIM_VALIDATE_OPTIONS_INIT \
	{ PIM_VALIDATE_OPTIONS_VERSION, NULL, 0, 0, 0, -1, NULL, 0, 0, NULL }

typedef struct pim_validate_stats {
	unsigned long files;        /* files read */
	unsigned long rows;         /* data rows read */
	unsigned long invalid_rows; /* rows with at least one error */
	unsigned long errors;       /* error diagnostics */
	unsigned long warnings;     /* warning diagnostics */
	int stopped;                /* max_errors was reached */
	char delimiter;             /* the dialect of the last file */
	char decimal;
	const char *encoding;       /* static text */
} pim_validate_stats;

/*
 * Validate `n` files (a path of "-" is standard input) against `schema`
 * without writing anything. Every diagnostic goes to `diag`. Returns 0
 * when there were no errors (warnings allowed), PIM_EDATA when there were,
 * PIM_EIO when a file cannot be read (the diagnostic says which),
 * PIM_EINVALID for bad options, or PIM_ENOMEM. *stats is always filled.
 */
PIM_API int pim_validate(pim_validate_stats *stats, const pim_schema *schema,
			 const char *const *paths, size_t n,
			 const pim_validate_options *opts, pim_diag_fn diag,
			 void *ctx);

/* ---- import ---------------------------------------------------------- */

/* Called for each attribute change an import makes (or would make, in a
 * dry run). old or new_value is NULL when empty. Return non-zero to stop. */
typedef int (*pim_change_fn)(const char *sku, const char *attribute,
			     const char *old, const char *new_value,
			     void *ctx);

/* Called now and then with rows read, bytes read and the total bytes. */
typedef void (*pim_progress_fn)(unsigned long rows, unsigned long long done,
				unsigned long long total, void *ctx);

typedef enum { PIM_MODE_MERGE = 0, PIM_MODE_REPLACE = 1 } pim_import_mode;

#define PIM_IMPORT_OPTIONS_VERSION 1

typedef struct pim_import_options {
	unsigned int version;          /* PIM_IMPORT_OPTIONS_VERSION */
	pim_validate_options validate; /* mapping and dialect */
	pim_import_mode mode;          /* replace also clears unmapped slots */
	int empty_clear;               /* an empty cell clears the value */
	int abort_on_error;            /* any invalid row: load nothing */
	int dry_run;                   /* everything but the commit */
	const char *reject_path;       /* rejected rows go here (or NULL) */
	pim_change_fn on_change;
	void *change_ctx;
	pim_progress_fn progress;
	void *progress_ctx;
} pim_import_options;

#define PIM_IMPORT_OPTIONS_INIT                                             \
	{ PIM_IMPORT_OPTIONS_VERSION, PIM_VALIDATE_OPTIONS_INIT,            \
	  PIM_MODE_MERGE, 0, 0, 0, NULL, NULL, NULL, NULL, NULL }

typedef struct pim_import_stats {
	unsigned long rows;       /* data rows read */
	unsigned long created;    /* new products */
	unsigned long updated;    /* products with at least one change */
	unsigned long unchanged;  /* products the file did not change */
	unsigned long rejected;   /* rows not loaded */
	unsigned long changes;    /* attribute values changed */
	long long batch;          /* the batch id; 0 when nothing was kept */
	pim_validate_stats validate;
} pim_import_stats;

/*
 * Import `n` files into the catalog in one transaction and one batch:
 * upsert by key, record every change in the history, write rejected rows
 * to opts->reject_path. Returns 0 when every row was loaded; PIM_EDATA when
 * rows were rejected (with abort_on_error nothing was written); PIM_EBUSY,
 * PIM_EIO, PIM_EDB, PIM_ENOMEM with nothing written (pim_errmsg says why).
 */
PIM_API int pim_import(pim_import_stats *stats, pim_catalog *cat,
		       const char *const *paths, size_t n,
		       const pim_import_options *opts, pim_diag_fn diag,
		       void *ctx);

/* ---- batches, history, undo ----------------------------------------- */

/* One batch: an import, an undo, a schema change, an edit. Borrowed
 * strings, valid during the callback; NULL when unknown. */
typedef struct pim_batch_info {
	long long id;
	const char *kind;        /* "import", "undo", "schema", ... */
	const char *started_at;  /* ISO 8601, UTC */
	const char *finished_at;
	const char *user;
	const char *role;
	const char *files;       /* JSON array of file names */
	const char *counts;      /* JSON object */
	long long undone_by;     /* the undo batch, or 0 */
} pim_batch_info;

typedef int (*pim_batch_fn)(const pim_batch_info *b, void *ctx);

/* Calls fn for each batch, newest first; limit 0 = all. */
PIM_API int pim_catalog_log(pim_catalog *cat, unsigned long limit,
			    pim_batch_fn fn, void *ctx);

/* One attribute change. Borrowed strings, valid during the callback. */
typedef struct pim_history_entry {
	long long id;            /* 0 for a product's creation values */
	long long batch;
	const char *sku;
	const char *attribute;   /* column: code or code@locale */
	const char *old;         /* NULL when it was empty */
	const char *new_value;   /* NULL when it became empty */
	const char *source;      /* file:line, rule, command */
	const char *user;
	const char *role;
	const char *at;
} pim_history_entry;

typedef int (*pim_history_fn)(const pim_history_entry *e, void *ctx);

#define PIM_HISTORY_QUERY_VERSION 1

typedef struct pim_history_query {
	unsigned int version;   /* PIM_HISTORY_QUERY_VERSION */
	const char *sku;        /* NULL: every product */
	const char *attribute;  /* NULL: every attribute */
	long long batch;        /* 0: every batch */
	unsigned long limit;    /* 0: all */
} pim_history_query;

#define PIM_HISTORY_QUERY_INIT { PIM_HISTORY_QUERY_VERSION, NULL, NULL, 0, 0 }

/*
 * Calls fn for each change, oldest first. With a SKU, the values the
 * product was created with come first (id 0, source "created").
 */
PIM_API int pim_catalog_history(pim_catalog *cat, const pim_history_query *q,
				pim_history_fn fn, void *ctx);

/*
 * Reverts batch `batch`: restores every value it changed and removes the
 * products it created, as a new batch (*undo_batch). A value changed again
 * since, or a created product changed since, is a conflict, reported to
 * diag (key = SKU, attribute, message); without `force` any conflict
 * refuses the undo (PIM_ECONFLICT) and nothing is written.
 */
PIM_API int pim_catalog_undo(pim_catalog *cat, long long *undo_batch,
			     long long batch, int force, pim_diag_fn diag,
			     void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* PIM_H */
