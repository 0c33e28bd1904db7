/*
 * cli.h - what the pim command's files share: global options, the
 * dispatch table entry type, exit codes and output helpers.
 * Includes only the public library header.
 */
#ifndef PIM_CLI_H
#define PIM_CLI_H

#include <getopt.h>
#include <stdio.h>
#include <time.h>

#include "pim.h"

/* Exit codes: the same for every command (pim(1)). */
enum {
	EXIT_OK = 0,
	EXIT_DATA = 1,    /* the data has problems */
	EXIT_USAGE = 2,   /* usage or configuration error */
	EXIT_RUNTIME = 3  /* I/O, catalog busy or corrupt, out of memory */
};

typedef struct pim_cli {
	const char *prog;
	const char *db;    /* --db, $PIM_DB, ./catalog.db */
	const char *role;  /* --role, $PIM_ROLE */
	const char *user;  /* --user, $PIM_USER, login name */
	int quiet;
	int verbose;
	int json;
} pim_cli;

typedef struct pim_command {
	const char *name;
	int (*run)(pim_cli *cli, int argc, char **argv);
	const char *summary;
} pim_command;

/* Long options every command accepts; values >= 0x1000. */
enum {
	OPT_DB = 0x1000,
	OPT_ROLE,
	OPT_USER,
	OPT_JSON,
	OPT_HELP,
	OPT_QUIET,
	OPT_VERBOSE,
	OPT_GLOBAL_END
};

#define CLI_GLOBAL_LONGOPTS                                        \
	{ "db", required_argument, NULL, OPT_DB },                 \
	{ "role", required_argument, NULL, OPT_ROLE },             \
	{ "user", required_argument, NULL, OPT_USER },             \
	{ "json", no_argument, NULL, OPT_JSON },                   \
	{ "help", no_argument, NULL, 'h' },                        \
	{ "quiet", no_argument, NULL, 'q' },                       \
	{ "verbose", no_argument, NULL, 'v' }

/* Short options every command accepts. */
#define CLI_GLOBAL_SHORTOPTS "hqv"

/*
 * Handles a global option returned by getopt_long. Returns 1 when it was
 * one (and consumed), 0 when it is the command's own.
 */
int cli_global_option(pim_cli *cli, int opt, const char *arg);

/*
 * Parses a command's options: its own (`own`, `own_short`, handled by
 * `handle`, which returns 0 or an exit code) plus the global ones.
 * --help prints `help` to stdout. Returns -1 to go on (optind is then the
 * first operand), or the exit code to return.
 */
typedef int (*cli_opt_fn)(int opt, const char *arg, void *ctx);
int cli_parse(pim_cli *cli, int argc, char **argv, const char *cmd,
	      const char *usage, const char *help, const struct option *own,
	      const char *own_short, cli_opt_fn handle, void *ctx);

/* After a schema or mapping load failed: problems were reported through
 * the diagnostics callback; anything else gets a line here. Returns the
 * exit code. */
int cli_load_failed(pim_cli *cli, const char *what, int rc);

/* Maps a library return code to the exit code. */
int cli_exit_code(int rc);

/* "pim: message" on stderr. */
void cli_error(pim_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cli_warn(pim_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Short usage on stderr and EXIT_USAGE. */
int cli_usage_error(pim_cli *cli, const char *cmd, const char *usage,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Opens the catalog named by the global options; prints the error. */
int cli_open_catalog(pim_cli *cli, pim_catalog **cat, int readonly);

/* Prints a YAML-file diagnostic as FILE:LINE:COL: error: message. */
int cli_print_diag(const pim_diag *d, void *ctx);

/* Flushes stdout; a write error (full disk, closed pipe) is exit 3. */
int cli_finish_output(pim_cli *cli, int code);
/* Keeps errno as the reason stdout failed, for cli_finish_output. */
void cli_note_output_error(void);

/* Writes s as a JSON string literal. */
void cli_json_string(FILE *out, const char *s);

/* A data-file diagnostic as FILE:LINE:COL: error[CODE]: message: 'value'. */
void cli_diag_line(FILE *out, const char *value, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cli_diag_text(FILE *out, const pim_diag *d);

/* ---- product values (output.c) ---- */

/* A CSV cell quoted as needed for `delim`; unless `raw`, a value that a
 * spreadsheet would run as a formula (= + - @ tab CR first) gets a
 * leading apostrophe. */
void cli_csv_cell(FILE *out, const char *s, char delim, int raw);

/* A value for people: measures with the unit's symbol. NULL stays NULL. */
const char *cli_value_text(char *buf, size_t len, const pim_view_column *c,
			   const char *v);

/* A value as typed JSON: numbers, booleans, {amount, currency|unit},
 * arrays for multiselect, else a string; null when NULL. */
void cli_json_value(FILE *out, pim_type type, const char *v);

/* Opens a temporary file beside `path` (with the permissions a plain
 * create would give) that cli_outfile_close renames to `path`, so that
 * readers never see half a file; an interrupt removes it. One at a time.
 * NULL after an error message. */
FILE *cli_outfile_open(pim_cli *cli, const char *path);

/* Completes (ok: flushed, synced, renamed into place) or discards the
 * file of cli_outfile_open. Returns 0, or -1 after an error message. */
int cli_outfile_close(pim_cli *cli, FILE *f, const char *path, int ok);

/* A diagnostic about a stored product (no file, no line):
 * "pim: SKU attr: error[code]: message: 'value'". */
void cli_key_diag_text(FILE *out, const pim_diag *d);

/* A progress line on stderr for long runs (import, enrich), drawn only on
 * a terminal and cleared before anything else is printed there. */
typedef struct cli_progress {
	pim_cli *cli;
	const char *unit;   /* what is counted: "rows", "products" */
	time_t started;
	int drew;           /* the line is on the screen */
	int key_diags;      /* diagnostics are about stored products */
} cli_progress;

/* Starts it when stderr is a terminal and -q is not given: 1, else 0
 * (then the callbacks stay unset and nothing is drawn). */
int cli_progress_start(cli_progress *p, pim_cli *cli, const char *unit,
		       int key_diags);
/* The pim progress callback: "N unit, R unit/s, P%, ETA Ss". */
void cli_progress_show(unsigned long n, unsigned long long done,
		       unsigned long long total, void *ctx);
/* The pim_diag_fn that goes with it: warnings only without -q, the line
 * cleared first; text as cli_diag_text or cli_key_diag_text. */
int cli_progress_diag(const pim_diag *d, void *ctx);
/* Clears the line at the end. */
void cli_progress_end(cli_progress *p);

/* A change as "SKU attr: old → new" on stdout (a pim_change_fn). */
int cli_print_change(const char *sku, const char *attr, const char *old,
		     const char *new_value, void *ctx);

/* Characters (not bytes) of UTF-8 text, and s padded to a width. */
size_t cli_text_width(const char *s);
void cli_pad(FILE *out, const char *s, size_t width);

/* An input format name (auto, csv, jsonl, ndjson, xml, bmecat) into
 * *out: 0, or -1 when unknown. */
int cli_input_format(const char *arg, pim_format *out);

/* Options that force the CSV dialect, shared by validate and import. */
enum {
	OPT_DELIM = 0x3000,
	OPT_QUOTE,
	OPT_DECIMAL,
	OPT_ENCODING,
	OPT_HEADER,
	OPT_MAX_FIELD
};

#define CLI_DIALECT_LONGOPTS                                               \
	{ "delimiter", required_argument, NULL, OPT_DELIM },               \
	{ "quote", required_argument, NULL, OPT_QUOTE },                   \
	{ "decimal", required_argument, NULL, OPT_DECIMAL },               \
	{ "encoding", required_argument, NULL, OPT_ENCODING },             \
	{ "header", required_argument, NULL, OPT_HEADER },                 \
	{ "max-field-size", required_argument, NULL, OPT_MAX_FIELD }

#define CLI_DIALECT_HELP                                                    \
	"  --delimiter C        force the delimiter (, ; | tab)\n"            \
	"  --quote C            force the quote character\n"                  \
	"  --decimal C          force the decimal separator (. or ,)\n"       \
	"  --encoding E         utf-8, windows-1252, iso-8859-1, utf-16le, "   \
	"utf-16be\n"                                                          \
	"  --header yes|no      whether the first row is a header\n"          \
	"  --max-field-size N   largest field in bytes (default 1048576)\n"

/* Handles a dialect option: 0 done, 1 not one, -1 bad value. */
int cli_dialect_option(pim_validate_options *vo, int opt, const char *arg);

/* Parses a whole non-negative number. */
int cli_parse_ulong(const char *arg, unsigned long *out);

/* The command table (main.c). */
extern const pim_command pim_commands[];

/* Command entry points. */
int cmd_init(pim_cli *cli, int argc, char **argv);
int cmd_schema(pim_cli *cli, int argc, char **argv);
int cmd_validate(pim_cli *cli, int argc, char **argv);
int cmd_import(pim_cli *cli, int argc, char **argv);
int cmd_enrich(pim_cli *cli, int argc, char **argv);
int cmd_rules(pim_cli *cli, int argc, char **argv);
int cmd_log(pim_cli *cli, int argc, char **argv);
int cmd_history(pim_cli *cli, int argc, char **argv);
int cmd_undo(pim_cli *cli, int argc, char **argv);
int cmd_show(pim_cli *cli, int argc, char **argv);
int cmd_list(pim_cli *cli, int argc, char **argv);
int cmd_export(pim_cli *cli, int argc, char **argv);
int cmd_set(pim_cli *cli, int argc, char **argv);
int cmd_delete(pim_cli *cli, int argc, char **argv);
int cmd_backup(pim_cli *cli, int argc, char **argv);
int cmd_restore(pim_cli *cli, int argc, char **argv);
int cmd_verify(pim_cli *cli, int argc, char **argv);
int cmd_report(pim_cli *cli, int argc, char **argv);
int cmd_help(pim_cli *cli, int argc, char **argv);
int cmd_version(pim_cli *cli, int argc, char **argv);

#endif
