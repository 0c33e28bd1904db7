/*
 * pim.h - the public interface of libpim, a product information manager.
 *
 * This is the only installed header. Everything here is stable API; the
 * private modules behind it live in lib/ and are never included by callers.
 */
#ifndef PIM_H
#define PIM_H

#include <stddef.h>
#include <stdio.h>

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
				  a field index in CSV files, a byte in
				  JSON Lines and XML files; 0 unknown */
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

/* Input file formats (pim-validate(1), pim-xml(5)). The numbering is
 * stable. */
typedef enum {
	PIM_FORMAT_AUTO = 0, /* by the file name's extension; CSV otherwise */
	PIM_FORMAT_CSV = 1,
	PIM_FORMAT_JSONL = 2, /* JSON Lines: one product object a line */
	PIM_FORMAT_XML = 3,   /* pim's XML exchange format, pim-xml(5) */
	PIM_FORMAT_BMECAT = 4 /* BMEcat 2005 (PRODUCT) or 1.2 (ARTICLE), as
				 pim-export(1) writes it; never by extension */
} pim_format;

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
	pim_format format;          /* PIM_FORMAT_AUTO: by the file's
				       extension (.jsonl, .ndjson, .xml),
				       else CSV */
} pim_validate_options;

#define PIM_VALIDATE_OPTIONS_INIT                                           \
	{ PIM_VALIDATE_OPTIONS_VERSION, NULL, 0, 0, 0, -1, NULL, 0, 0, NULL, \
	  PIM_FORMAT_AUTO }

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
	const struct pim_rules *rules; /* enrichment rules applied to each
					  record before it is compared and
					  written (pim-rules(5)); NULL: none.
					  Borrowed. */
} pim_import_options;

#define PIM_IMPORT_OPTIONS_INIT                                             \
	{ PIM_IMPORT_OPTIONS_VERSION, PIM_VALIDATE_OPTIONS_INIT,            \
	  PIM_MODE_MERGE, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL }

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
 * refuses the undo (PIM_ECONFLICT) and nothing is written. With the
 * catalog's role set, a batch that changed attributes outside the role's
 * `edit` list (or created or archived products, unless the role may edit
 * the key) is refused (PIM_EDENIED). An undo, a schema change or a purge
 * cannot be undone (PIM_EINVALID); an unknown batch is PIM_ENOTFOUND.
 */
PIM_API int pim_catalog_undo(pim_catalog *cat, long long *undo_batch,
			     long long batch, int force, pim_diag_fn diag,
			     void *ctx);

/* ---- views, queries, edits ------------------------------------------- */

/*
 * A view: the columns a role sees, in the role's order, labelled in a
 * locale. Localizable attributes give one column per locale (only the
 * chosen locale's when a locale is given). Free with pim_view_free.
 */
typedef struct pim_view pim_view;

typedef struct pim_view_column {
	const char *name;     /* the catalog column: code or code@locale */
	const char *code;     /* the attribute code */
	const char *locale;   /* NULL unless localizable */
	const char *label;    /* in the view's locale; the code when none */
	pim_type type;
	int required;         /* required by the view's role */
	int editable;         /* the role may edit it (1 without a role) */
	const char *unit;     /* measures: the stored unit's code ("KGM") */
	const char *unit_symbol; /* and its symbol ("kg"); else NULL */
} pim_view_column;

/*
 * Builds the view of `role` (NULL: every attribute) in `locale` (NULL:
 * every locale, labels by code). `columns`, when not NULL, is a
 * comma-separated list of columns (code or code@locale) that replaces the
 * role's list. PIM_ENOTFOUND for an unknown role, locale or column
 * (pim_errmsg says which).
 */
PIM_API int pim_view_new(pim_view **out, pim_catalog *cat, const char *role,
			 const char *locale, const char *columns);
PIM_API void pim_view_free(pim_view *view);
PIM_API size_t pim_view_column_count(const pim_view *view);
PIM_API const pim_view_column *pim_view_column_at(const pim_view *view,
						  size_t i);
/* The view's role, or NULL. */
PIM_API const char *pim_view_role(const pim_view *view);

/* Where a --where expression went wrong. */
typedef struct pim_where_error {
	unsigned long col;  /* 1-based character column in the expression */
	char message[256];
} pim_where_error;

/* One product as a view sees it. Borrowed; valid during the callback. */
typedef struct pim_product_row {
	long long id;
	const char *key;          /* the identifier (SKU) */
	const char *family;       /* NULL when none */
	const char *updated_at;   /* ISO 8601 */
	int archived;
	const char *const *value; /* per view column; NULL = empty */
	int completeness;         /* 0-100 for the view's role; 100 when it
				     requires nothing or there is no role */
	size_t required;          /* attributes the role requires */
	size_t missing;           /* of which empty (a localizable one: in
				     the view's locale, else in any locale) */
} pim_product_row;

typedef int (*pim_product_fn)(const pim_product_row *p, void *ctx);

#define PIM_SELECT_VERSION 1

typedef struct pim_select {
	unsigned int version;  /* PIM_SELECT_VERSION */
	const char *where;     /* an expression (pim-where(7)), or NULL */
	const char *key;       /* only this product, or NULL */
	unsigned long limit;   /* 0: no limit */
	int archived;          /* include archived products */
} pim_select;

#define PIM_SELECT_INIT { PIM_SELECT_VERSION, NULL, NULL, 0, 0 }

/*
 * Calls fn for each product the selection matches, sorted by key,
 * streaming from the catalog. A bad expression returns PIM_EPARSE with
 * *err filled (err may be NULL).
 */
PIM_API int pim_catalog_select(pim_catalog *cat, const pim_view *view,
			       const pim_select *sel, pim_product_fn fn,
			       void *ctx, pim_where_error *err);

/*
 * The plan SQLite would use for the selection: one line per step, as
 * EXPLAIN QUERY PLAN gives them, each passed to fn.
 */
PIM_API int pim_catalog_explain(pim_catalog *cat, const pim_view *view,
				const pim_select *sel,
				int (*fn)(const char *line, void *ctx),
				void *ctx, pim_where_error *err);

/*
 * Sets values of one product: each assignment is "code=value" or
 * "code@locale=value" (an empty value clears). Values are parsed and
 * checked as an import checks them; every problem with an assignment or a
 * value goes to diag, and nothing is written unless all are good.
 * Returns 0; PIM_EINVALID for a bad assignment (syntax, unknown attribute
 * or locale, the key, an attribute twice); PIM_EDENIED when the catalog's
 * role may not edit an attribute; PIM_EDATA for a bad value or an
 * archived product; PIM_ENOTFOUND for an unknown product or `locale`
 * (pim_errmsg says which); PIM_EIO for a read-only handle; PIM_EBUSY,
 * PIM_EDB, PIM_ENOMEM. One transaction, one batch of kind "set" (*batch;
 * 0 when no value changed). `locale` is used for localizable codes given
 * without one.
 */
PIM_API int pim_catalog_set(pim_catalog *cat, long long *batch,
			    const char *key, const char *const *assign,
			    size_t n, const char *locale, pim_diag_fn diag,
			    void *ctx);

/*
 * Archives the products (purge = 0: recorded, undoable, hidden from views)
 * or removes them and their values (purge = 1: their last values stay in
 * the history; cannot be undone). Unknown keys are reported to diag and
 * refuse the whole call (PIM_ENOTFOUND). *batch gets the batch, or 0 when
 * there was nothing to do (every product already archived). With the
 * catalog's role set, only a role that may edit the key may delete
 * (PIM_EDENIED).
 */
PIM_API int pim_catalog_delete(pim_catalog *cat, long long *batch,
			       const char *const *keys, size_t n, int purge,
			       pim_diag_fn diag, void *ctx);

/* ---- export ---- */

/* Export formats (pim-export(1)). The numbering is stable. */
typedef enum {
	PIM_EXPORT_CSV = 0,      /* the view as CSV */
	PIM_EXPORT_JSONL = 1,    /* one typed JSON object a line */
	PIM_EXPORT_JSON = 2,     /* an array of the same objects */
	PIM_EXPORT_YAML = 3,     /* a sequence of the same mappings */
	PIM_EXPORT_XML = 4,      /* pim's exchange format, pim-xml(5) */
	PIM_EXPORT_MERCHANT = 5, /* Google Merchant Center RSS 2.0 feed */
	PIM_EXPORT_BMECAT = 6    /* BMEcat 2005 T_NEW_CATALOG */
} pim_export_format;

/* The format named `name` ("csv", "merchant", ...): 0, or PIM_ENOTFOUND. */
PIM_API int pim_export_format_find(pim_export_format *out, const char *name);

#define PIM_EXPORT_OPTIONS_VERSION 1

typedef struct pim_export_options {
	unsigned int version;     /* PIM_EXPORT_OPTIONS_VERSION */
	pim_export_format format;
	const char *role;         /* the view's role (csv, jsonl, json, yaml,
				     xml); NULL: every attribute */
	const char *locale;       /* only this locale's columns and labels;
				     merchant, bmecat: the texts' locale
				     (NULL: the profile's, else the schema's
				     first) */
	const char *where;        /* an expression (pim-where(7)), or NULL */
	const char *complete_for; /* only products complete for this role */
	const char *family;       /* only products of this family */
	const char *since;        /* only products changed since this batch
				     number or date/time (UTC) */
	int header_labels;        /* csv: the view's labels, not codes */
	int excel;                /* csv: ';', decimal comma, BOM, CRLF */
	int raw;                  /* csv: do not neutralise formulas */
	const char *profile;      /* merchant: a feed profile (YAML) file;
				     NULL: the built-in default */
} pim_export_options;

#define PIM_EXPORT_OPTIONS_INIT                                              \
	{ PIM_EXPORT_OPTIONS_VERSION, PIM_EXPORT_CSV, NULL, NULL, NULL, NULL, \
	  NULL, NULL, 0, 0, 0, NULL }

typedef struct pim_export_stats {
	unsigned long products; /* selected */
	unsigned long written;
	unsigned long skipped;  /* left out (merchant: invalid for the feed) */
} pim_export_stats;

/*
 * Writes the selected products (opts->where, complete_for, family, since;
 * not archived), sorted by key, to `out` in opts->format, streaming: the
 * memory used does not grow with the catalog, and the same catalog always
 * gives the same bytes. With out NULL nothing is written, only checked and
 * counted. A product that cannot be valid in a merchant or BMEcat file is
 * left out and reported to diag (key = SKU, attribute = the missing or bad
 * field, code = "feed", message = the reason); non-zero from diag stops
 * the export (PIM_EDATA). *stats (may be NULL) is always filled. opts
 * must not be NULL. Returns 0 (also when products were left out: see
 * stats->skipped); PIM_EPARSE for a bad expression (*err filled; err may
 * be NULL) or a bad profile (reported to diag with its FILE:LINE:COL);
 * PIM_ENOTFOUND for an unknown role, locale or family, or a profile file
 * that cannot be found; PIM_EINVALID for bad options; PIM_EIO when
 * writing fails; PIM_EDB, PIM_EBUSY, PIM_ENOMEM. pim_errmsg(cat) says why.
 */
PIM_API int pim_export(pim_catalog *cat, const pim_export_options *opts,
		       FILE *out, pim_export_stats *stats, pim_diag_fn diag,
		       void *ctx, pim_where_error *err);

/*
 * A product value as typed JSON: integers and numbers as numbers, booleans
 * as true/false, prices and measures as {"amount": N, "currency"|"unit":
 * "X"}, multiselect values as arrays of strings, anything else (and a value
 * that does not read as its type) as a string; null when value is NULL.
 * Returns 0, PIM_EIO or PIM_ENOMEM.
 */
PIM_API int pim_json_write_value(FILE *out, pim_type type, const char *value);
/* s (not NULL) as a JSON string literal (quotes included). Returns 0,
 * PIM_EIO or PIM_ENOMEM. */
PIM_API int pim_json_write_string(FILE *out, const char *s);

/* ---- enrichment rules ------------------------------------------------- */

/*
 * A rules file (pim-rules(5)) checked against a catalog's schema: ordered
 * rules, each with an optional `when` condition (pim-where(7)) and actions.
 * Bound to the catalog it was loaded for, which must outlive it. Free with
 * pim_rules_free.
 */
typedef struct pim_rules pim_rules;

/*
 * Load rules from a YAML file and check them against the catalog's
 * schema. Every problem goes to `diag` as FILE:LINE:COL; the return is 0
 * only when there were none, with *out owned by the caller. Otherwise
 * *out is NULL and the code PIM_EPARSE, PIM_EIO or PIM_ENOMEM.
 */
PIM_API int pim_rules_load_file(pim_rules **out, pim_catalog *cat,
				const char *path, pim_diag_fn diag, void *ctx);
/* As pim_rules_load_file, from memory. `name` is used in diagnostics. */
PIM_API int pim_rules_load_buffer(pim_rules **out, pim_catalog *cat,
				  const char *name, const char *data,
				  size_t len, pim_diag_fn diag, void *ctx);
/* The rules stored in the catalog (pim_rules_store): PIM_ENOTFOUND when
 * none are, PIM_EPARSE when they no longer fit the schema. */
PIM_API int pim_rules_load_stored(pim_rules **out, pim_catalog *cat,
				  pim_diag_fn diag, void *ctx);
/* Frees rules. Accepts NULL. */
PIM_API void pim_rules_free(pim_rules *rules);

/* Number of rules and the name of the i-th (file order). Borrowed. */
PIM_API size_t pim_rules_count(const pim_rules *rules);
PIM_API const char *pim_rules_name(const pim_rules *rules, size_t i);
/* The YAML text the rules were loaded from. Borrowed; *len its size. */
PIM_API const char *pim_rules_source(const pim_rules *rules, size_t *len);

/* Stores the rules' text in the catalog (table `rules`, pim-catalog(5)),
 * replacing rules stored before; `pim enrich` uses them by default. */
PIM_API int pim_rules_store(pim_catalog *cat, const pim_rules *rules);

#define PIM_ENRICH_OPTIONS_VERSION 1

typedef struct pim_enrich_options {
	unsigned int version;     /* PIM_ENRICH_OPTIONS_VERSION */
	const char *where;        /* only products matching (pim-where(7)) */
	int dry_run;              /* everything but the commit */
	pim_change_fn on_change;  /* each change made (or that would be) */
	void *change_ctx;
	pim_progress_fn progress; /* rows = products, done/total likewise */
	void *progress_ctx;
} pim_enrich_options;

#define PIM_ENRICH_OPTIONS_INIT \
	{ PIM_ENRICH_OPTIONS_VERSION, NULL, 0, NULL, NULL, NULL, NULL }

typedef struct pim_enrich_stats {
	unsigned long products;  /* products the rules were applied to */
	unsigned long changed;   /* products with at least one change */
	unsigned long unchanged;
	unsigned long changes;   /* values changed */
	unsigned long skipped;   /* calculations skipped (empty input,
				    division by zero), warnings */
	unsigned long invalid;   /* rule applications refused because the
				    result was invalid, errors */
	long long batch;         /* the batch; 0 when nothing was written */
} pim_enrich_stats;

/*
 * Applies the rules, in order, to every product (not archived) matching
 * opts->where, in one transaction and one batch of kind "enrich"; every
 * change is recorded with the rule's name as its source, so pim_catalog_undo
 * reverts it. A rule whose result is invalid for a product (type,
 * constraints, unique, the schema's checks) is reported to diag (key, the
 * column, code, a message naming the rule, the value) and writes nothing
 * for that product. opts must not be NULL. Returns 0; PIM_EDATA when
 * results were refused (the valid changes are kept), or when on_change
 * asked to stop (then nothing is written); PIM_EPARSE for a bad
 * opts->where; PIM_EDENIED when the catalog's role may not edit what the
 * rules write; PIM_ENOTFOUND when that role is not in the schema;
 * PIM_EINVALID for bad options or rules loaded for another handle;
 * PIM_EIO for a read-only handle; PIM_EBUSY, PIM_EDB, PIM_ENOMEM with
 * nothing written. *stats is always filled.
 */
PIM_API int pim_catalog_enrich(pim_enrich_stats *stats, pim_catalog *cat,
			       const pim_rules *rules,
			       const pim_enrich_options *opts,
			       pim_diag_fn diag, void *ctx);

/* ---- backup, restore, verify ---- */

/* What a catalog holds, as backup and restore report it. */
typedef struct pim_catalog_info {
	long long products;   /* products, archived ones not counted */
	long long archived;   /* archived products */
	long long batches;    /* batches */
	long long last_batch; /* the highest batch number; 0 when none */
} pim_catalog_info;

/*
 * Copies the catalog to `path` while other processes go on writing: the
 * copy is the catalog as of one moment (a whole number of batches), a
 * self-contained file that needs no -wal file beside it. It is written to
 * a temporary file beside `path` and renamed into place only when
 * complete. An existing `path` is refused (PIM_EEXISTS) unless `force`.
 * *info (may be NULL) gets what the copy holds. Returns 0, PIM_EEXISTS,
 * PIM_EINVALID (path is a directory or the catalog itself), PIM_EIO,
 * PIM_EBUSY, PIM_EDB or PIM_ENOMEM; on failure `path` is not touched.
 */
PIM_API int pim_catalog_backup(pim_catalog *cat, pim_catalog_info *info,
			       const char *path, int force);

/*
 * Replaces the catalog's whole content (products, history, batches,
 * schema) by that of the catalog file `from`, after checking it: an SQLite
 * file that passes PRAGMA integrity_check, with pim's application_id, a
 * format this pim reads and a stored schema that loads. The copy is one
 * write transaction on the catalog: other processes see the old catalog
 * or the restored one. When the catalog holds products and `replace` is
 * 0, nothing is written: PIM_ECONFLICT. *replaced and *restored (either
 * may be NULL) get what the catalog held before and holds after. After a
 * restore the handle reads the restored catalog, schema included.
 * A bad `from` leaves the catalog as it was: PIM_ENOTFOUND (no such
 * file), PIM_EINVALID (not a regular file, the catalog itself), PIM_EDB
 * (not SQLite, damaged, not a pim catalog), PIM_EVERSION (a newer format);
 * also PIM_EIO, PIM_EBUSY, PIM_ENOMEM.
 */
PIM_API int pim_catalog_restore(pim_catalog *cat, pim_catalog_info *replaced,
				pim_catalog_info *restored, const char *from,
				int replace);

typedef struct pim_verify_stats {
	unsigned long products; /* products in the catalog */
	unsigned long values;   /* stored values checked against the schema */
	unsigned long history;  /* history rows */
	unsigned long batches;  /* batches */
	unsigned long problems; /* problems reported */
} pim_verify_stats;

/*
 * Checks the catalog: the SQLite file (PRAGMA integrity_check,
 * foreign_key_check), every stored value against the current schema (as
 * an import would accept it, in canonical form), unique attributes, and
 * the history (every change in an existing batch, each product's stored
 * value the one its last recorded change set). Each problem goes to
 * `diag` (file = the catalog, key = SKU or NULL, attribute, code, message,
 * value); non-zero from diag stops. Returns 0 when all is well, PIM_EDATA
 * when problems were found, PIM_EDB when the file is damaged (the damage
 * is reported, the other checks are skipped), or PIM_EBUSY, PIM_EIO,
 * PIM_ENOMEM. *stats (may be NULL) is always filled.
 */
PIM_API int pim_catalog_verify(pim_catalog *cat, pim_verify_stats *stats,
			       pim_diag_fn diag, void *ctx);

/* ---- data-quality report ---- */

/*
 * A data-quality report (pim-report(1)): a list of figures, each named by
 * section, role, subject and metric, with the products behind it. The
 * sections and metrics are listed in pim-report(1); new ones may be
 * added, none is renamed. Free with pim_report_free.
 */
typedef struct pim_report pim_report;

/* opts->details for "every product" */
#define PIM_REPORT_ALL ((unsigned long)-1)

#define PIM_REPORT_OPTIONS_VERSION 1

typedef struct pim_report_options {
	unsigned int version;    /* PIM_REPORT_OPTIONS_VERSION */
	const char *role;        /* only this role; NULL: every role */
	const char *where;       /* only products matching (pim-where(7));
				    NULL: every product not archived */
	unsigned int stale_days; /* not changed for this many days is
				    stale; 0: 180 */
	unsigned long details;   /* keys named per figure (the first by
				    key); 0: none; PIM_REPORT_ALL: all */
	int channel;             /* also measure channel readiness (a
				    merchant feed); 0: no */
} pim_report_options;

#define PIM_REPORT_OPTIONS_INIT \
	{ PIM_REPORT_OPTIONS_VERSION, NULL, NULL, 0, 0, 0 }

/* One figure. Borrowed from the report; valid until pim_report_free. */
typedef struct pim_report_figure {
	const char *section;  /* "score", "completeness", "locale", "family",
				 "attribute", "validity", "uniqueness",
				 "consistency", "freshness", "shelves",
				 "channel" */
	const char *role;     /* the role, or NULL */
	const char *subject;  /* family, attribute, locale, code, check,
				 category...; NULL */
	const char *metric;   /* "complete", "complete_pct", "mean", ... */
	double value;
	unsigned long long products; /* products behind the figure (0 when
					it counts none) */
	size_t n_keys;        /* of which named in keys (opts->details) */
	const char *const *keys;
} pim_report_figure;

/*
 * Computes the report over the catalog's products (archived ones not
 * counted) in a few streaming passes; memory grows with the number of
 * families, categories and named keys, not with the products. A bad
 * opts->where returns PIM_EPARSE with *err filled (err may be NULL); an
 * unknown opts->role PIM_ENOTFOUND. On success *out is owned by the
 * caller. "Now" is the time of the call ($PIM_NOW when set).
 */
PIM_API int pim_report_run(pim_report **out, pim_catalog *cat,
			   const pim_report_options *opts,
			   pim_where_error *err);
/* Frees a report. Accepts NULL. */
PIM_API void pim_report_free(pim_report *report);

PIM_API size_t pim_report_figure_count(const pim_report *report);
PIM_API const pim_report_figure *pim_report_figure_at(
	const pim_report *report, size_t i);
/* The figure (role and subject NULL for none), or NULL. */
PIM_API const pim_report_figure *pim_report_find(const pim_report *report,
						 const char *section,
						 const char *role,
						 const char *subject,
						 const char *metric);
/* When the report was made (ISO 8601, UTC) and over how many products. */
PIM_API const char *pim_report_time(const pim_report *report);
PIM_API unsigned long long pim_report_products(const pim_report *report);

/* The grade of a score: 'A' >= 90, 'B' >= 80, 'C' >= 70, 'D' >= 60,
 * else 'E'. */
PIM_API char pim_report_grade(double score);

/*
 * Stores the report's figures (not the keys) in the catalog's table
 * report_run (pim-catalog(5)), created on first use; *id gets the run's
 * number. `scope` (the --where text, or NULL) is stored with it.
 */
PIM_API int pim_report_save(pim_catalog *cat, long long *id,
			    const pim_report *report, const char *scope);

/* One saved run, as pim_report_trend gives it. Borrowed; valid during
 * the callback. Roles the run did not measure have NaN figures. */
typedef struct pim_report_run_info {
	long long id;
	const char *at;         /* ISO 8601, UTC */
	const char *role;       /* the run's role option, or NULL */
	const char *scope;      /* the run's --where, or NULL */
	unsigned long long products;
	double score;           /* overall */
	size_t n_roles;         /* the roles of the current schema */
	const char *const *roles;
	const double *role_score;   /* per role */
	const double *complete_pct; /* per role: share of complete products */
	const double *mean;         /* per role: mean completeness */
} pim_report_run_info;

typedef int (*pim_report_run_fn)(const pim_report_run_info *run, void *ctx);

/* Calls fn for each saved run, oldest first (the last `limit`; 0: all).
 * No saved run is not an error. */
PIM_API int pim_report_trend(pim_catalog *cat, unsigned long limit,
			     pim_report_run_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* PIM_H */
