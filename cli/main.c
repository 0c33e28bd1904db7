/*
 * main.c - the pim command: global options, the dispatch table of
 * commands (one cmd_<name>.c each) and the helpers they share.
 */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"

const pim_command pim_commands[] = {
	{ "init", cmd_init, "create a catalog from a schema" },
	{ "schema", cmd_schema, "check, show or change the catalog's schema" },
	{ "validate", cmd_validate, "check supplier files against the schema" },
	{ "import", cmd_import, "load supplier files into the catalog" },
	{ "enrich", cmd_enrich, "apply enrichment rules to the catalog" },
	{ "rules", cmd_rules, "check, store or show enrichment rules" },
	{ "log", cmd_log, "list the batches: imports, edits, undos, ..." },
	{ "history", cmd_history, "show the attribute-level audit trail" },
	{ "undo", cmd_undo, "revert a whole batch" },
	{ "show", cmd_show, "show one product as a role sees it" },
	{ "list", cmd_list, "list products, filtered with --where" },
	{ "export", cmd_export, "write products as CSV, JSON, XML, a feed or BMEcat" },
	{ "set", cmd_set, "change values of a product" },
	{ "delete", cmd_delete, "archive (or purge) products" },
	{ "backup", cmd_backup, "copy the catalog while others write" },
	{ "restore", cmd_restore, "replace the catalog by a backup" },
	{ "verify", cmd_verify, "check the catalog file, values and history" },
	{ "report", cmd_report, "data-quality report; --fail-under for cron" },
	{ "help", cmd_help, "show help for pim or a command" },
	{ "version", cmd_version, "print the version" },
	{ NULL, NULL, NULL }
};

static const char main_usage[] =
	"usage: pim [--db PATH] [--role R] [--user U] [-q] [-v] COMMAND [ARGS]\n"
	"       pim --help | --version\n";

static void print_help(FILE *out)
{
	fputs(main_usage, out);
	fputs("\npim keeps a catalog of product records in one SQLite file,\n"
	      "checks every value against a schema, and reports on data "
	      "quality.\n\ncommands:\n",
	      out);
	for (const pim_command *c = pim_commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fputs("\nglobal options:\n"
	      "  --db PATH    the catalog (default $PIM_DB, else ./catalog.db)\n"
	      "  --role R     act as role R (default $PIM_ROLE)\n"
	      "  --user U     record changes as U (default $PIM_USER, else "
	      "the login name)\n"
	      "  -q, --quiet  print nothing but errors\n"
	      "  -v, --verbose\n"
	      "  --json       machine-readable output where output is data\n"
	      "  -h, --help   help; 'pim COMMAND --help' for a command\n"
	      "  --version    print the version\n"
	      "\nexit codes: 0 success, 1 the data has problems, 2 usage or "
	      "configuration error,\n3 runtime failure (I/O, catalog busy or "
	      "corrupt, out of memory). See pim(1).\n",
	      out);
}

static void cli_vmsg(pim_cli *cli, const char *level, const char *fmt,
		     va_list ap)
{
	(void)cli;
	fflush(stdout);
	fputs("pim: ", stderr);
	if (level)
		fputs(level, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_error(pim_cli *cli, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cli_vmsg(cli, NULL, fmt, ap);
	va_end(ap);
}

void cli_warn(pim_cli *cli, const char *fmt, ...)
{
	va_list ap;
	if (cli->quiet)
		return;
	va_start(ap, fmt);
	cli_vmsg(cli, "warning: ", fmt, ap);
	va_end(ap);
}

int cli_usage_error(pim_cli *cli, const char *cmd, const char *usage,
		    const char *fmt, ...)
{
	va_list ap;
	if (fmt) {
		va_start(ap, fmt);
		cli_vmsg(cli, NULL, fmt, ap);
		va_end(ap);
	}
	fputs(usage, stderr);
	fprintf(stderr, "Try 'pim %s%s--help' for more.\n", cmd ? cmd : "",
		cmd ? " " : "");
	return EXIT_USAGE;
}

int cli_load_failed(pim_cli *cli, const char *what, int rc)
{
	if (rc == PIM_EPARSE || rc == PIM_EIO)
		return EXIT_USAGE; /* already reported, FILE:LINE:COL */
	cli_error(cli, "%s: %s", what, pim_strerror(rc));
	return cli_exit_code(rc);
}

int cli_exit_code(int rc)
{
	switch (rc) {
	case PIM_OK:
		return EXIT_OK;
	case PIM_EDATA:
	case PIM_ECONFLICT:
	case PIM_EDENIED:
		return EXIT_DATA;
	case PIM_EINVALID:
	case PIM_EPARSE:
	case PIM_ENOTFOUND:
	case PIM_EEXISTS:
	case PIM_ELIMIT:
		return EXIT_USAGE;
	default:
		return EXIT_RUNTIME;
	}
}

int cli_global_option(pim_cli *cli, int opt, const char *arg)
{
	switch (opt) {
	case OPT_DB:
		cli->db = arg;
		return 1;
	case OPT_ROLE:
		cli->role = arg;
		return 1;
	case OPT_USER:
		cli->user = arg;
		return 1;
	case OPT_JSON:
		cli->json = 1;
		return 1;
	case 'q':
		cli->quiet = 1;
		return 1;
	case 'v':
		cli->verbose++;
		return 1;
	default:
		return 0;
	}
}

int cli_open_catalog(pim_cli *cli, pim_catalog **cat, int readonly)
{
	pim_catalog_options o = PIM_CATALOG_OPTIONS_INIT;
	int rc;

	o.readonly = readonly;
	o.user = cli->user;
	o.role = cli->role;
	rc = pim_catalog_open(cat, cli->db, &o, NULL);
	if (rc) {
		cli_error(cli, "%s", *cat ? pim_errmsg(*cat) : pim_strerror(rc));
		pim_catalog_close(*cat);
		*cat = NULL;
	}
	return rc;
}

int cli_print_diag(const pim_diag *d, void *ctx)
{
	(void)ctx;
	fflush(stdout);
	if (d->line)
		fprintf(stderr, "%s:%lu:%lu: %s: %s\n", d->file ? d->file : "-",
			d->line, d->col,
			d->severity == PIM_SEV_WARNING ? "warning" : "error",
			d->message);
	else if (d->file)
		fprintf(stderr, "%s: %s: %s\n", d->file,
			d->severity == PIM_SEV_WARNING ? "warning" : "error",
			d->message);
	else
		fprintf(stderr, "pim: %s: %s\n",
			d->severity == PIM_SEV_WARNING ? "warning" : "error",
			d->message);
	return 0;
}

/* The errno of the first failed write to stdout, kept where it happened:
 * by the end, other calls may have changed errno. */
static int stdout_errno;

void cli_note_output_error(void)
{
	if (!stdout_errno)
		stdout_errno = errno;
}

int cli_finish_output(pim_cli *cli, int code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_note_output_error();
		cli_error(cli, "writing output: %s", strerror(stdout_errno));
		return EXIT_RUNTIME;
	}
	return code;
}

void cli_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c == '\r')
			fputs("\\r", out);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* Writes a diagnostic line, "HEAD[: 'VALUE']", in one piece: standard
 * error is unbuffered, so a line written in parts costs a system call a
 * part (three for most diagnostics, which counts when a file has ten
 * thousand of them) and can interleave with another process's lines. A
 * line longer than the buffer goes out in parts. `fmt` is the format of
 * the part before the value. */
void cli_diag_line(FILE *out, const char *value, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n, m;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof buf) {
		m = value ? snprintf(buf + n, sizeof buf - (size_t)n, ": '%s'\n",
				     value)
			  : snprintf(buf + n, sizeof buf - (size_t)n, "\n");
		if (m >= 0 && (size_t)m < sizeof buf - (size_t)n) {
			fwrite(buf, 1, (size_t)(n + m), out);
			return;
		}
	}
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	if (value)
		fprintf(out, ": '%s'", value);
	fputc('\n', out);
}

void cli_diag_text(FILE *out, const pim_diag *d)
{
	const char *sev = d->severity == PIM_SEV_WARNING ? "warning" : "error";

	if (d->line)
		cli_diag_line(out, d->value, "%s:%lu:%lu: %s[%s]: %s",
			      d->file ? d->file : "-", d->line, d->col, sev,
			      d->code ? d->code : "", d->message);
	else
		cli_diag_line(out, d->value, "%s: %s[%s]: %s",
			      d->file ? d->file : "-", sev,
			      d->code ? d->code : "", d->message);
}

int cli_parse_ulong(const char *arg, unsigned long *out)
{
	char *end;
	unsigned long v;
	if (!arg[0] || arg[0] == '-' || arg[0] == '+' || arg[0] == ' ')
		return -1;
	errno = 0;
	v = strtoul(arg, &end, 10);
	if (*end || errno)
		return -1;
	*out = v;
	return 0;
}

static int char_arg(const char *arg, char *out)
{
	if (!strcmp(arg, "tab") || !strcmp(arg, "\\t")) {
		*out = '\t';
		return 0;
	}
	if (strlen(arg) != 1)
		return -1;
	*out = arg[0];
	return 0;
}

int cli_input_format(const char *arg, pim_format *out)
{
	static const struct {
		const char *name;
		pim_format format;
	} names[] = { { "auto", PIM_FORMAT_AUTO },   { "csv", PIM_FORMAT_CSV },
		      { "jsonl", PIM_FORMAT_JSONL }, { "ndjson", PIM_FORMAT_JSONL },
		      { "xml", PIM_FORMAT_XML },     { "bmecat", PIM_FORMAT_BMECAT } };

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(arg, names[i].name)) {
			*out = names[i].format;
			return 0;
		}
	return -1;
}

int cli_dialect_option(pim_validate_options *vo, int opt, const char *arg)
{
	static const char *const encodings[] = {
		"auto", "utf-8", "utf8", "windows-1252", "cp1252", "iso-8859-1",
		"latin1", "latin-1", "utf-16le", "utf-16be", NULL
	};
	unsigned long n;
	int ok = 0;

	switch (opt) {
	case OPT_DELIM:
		return char_arg(arg, &vo->delimiter) ||
				       !strchr(",;|\t:", vo->delimiter)
			       ? -1
			       : 0;
	case OPT_QUOTE:
		return char_arg(arg, &vo->quote) ? -1 : 0;
	case OPT_DECIMAL:
		return char_arg(arg, &vo->decimal) ||
				       (vo->decimal != '.' && vo->decimal != ',')
			       ? -1
			       : 0;
	case OPT_ENCODING:
		for (size_t i = 0; encodings[i]; i++)
			if (!strcasecmp(arg, encodings[i]))
				ok = 1;
		vo->encoding = arg;
		return ok ? 0 : -1;
	case OPT_HEADER:
		if (!strcmp(arg, "yes") || !strcmp(arg, "true"))
			vo->header = 1;
		else if (!strcmp(arg, "no") || !strcmp(arg, "false"))
			vo->header = 0;
		else if (!strcmp(arg, "auto"))
			vo->header = -1;
		else
			return -1;
		return 0;
	case OPT_MAX_FIELD:
		if (cli_parse_ulong(arg, &n) || n == 0)
			return -1;
		vo->max_field_size = n;
		return 0;
	default:
		return 1;
	}
}

int cmd_version(pim_cli *cli, int argc, char **argv)
{
	static const char usage[] = "usage: pim version\n";
	static const char help[] =
		"\nPrint the version of pim and of the libpim it uses.\n";
	int code;

	if (argv) {
		code = cli_parse(cli, argc, argv, "version", usage, help, NULL,
				 NULL, NULL, NULL);
		if (code >= 0)
			return code;
		if (optind < argc)
			return cli_usage_error(cli, "version", usage,
					       "version: unexpected argument '%s'",
					       argv[optind]);
	}
	printf("pim %s (libpim %s)\n", PIM_VERSION_STRING, pim_version());
	return cli_finish_output(cli, EXIT_OK);
}

int cli_parse(pim_cli *cli, int argc, char **argv, const char *cmd,
	      const char *usage, const char *help, const struct option *own,
	      const char *own_short, cli_opt_fn handle, void *ctx)
{
	static const struct option globals[] = { CLI_GLOBAL_LONGOPTS };
	struct option all[64];
	char shortopts[64];
	size_t n = 0;
	int opt;

	for (size_t i = 0; own && own[i].name && n < 48; i++)
		all[n++] = own[i];
	for (size_t i = 0; i < sizeof globals / sizeof globals[0]; i++)
		all[n++] = globals[i];
	memset(&all[n], 0, sizeof all[n]);
	snprintf(shortopts, sizeof shortopts, ":%s%s", own_short ? own_short : "",
		 CLI_GLOBAL_SHORTOPTS);
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, shortopts, all, NULL)) != -1) {
		int rc;
		if (opt == 'h') {
			fputs(usage, stdout);
			fputs(help, stdout);
			return cli_finish_output(cli, EXIT_OK);
		}
		if (opt == '?') {
			if (optopt && optopt < 0x1000)
				return cli_usage_error(cli, cmd, usage,
						       "%s: unknown option '-%c'",
						       cmd, optopt);
			return cli_usage_error(cli, cmd, usage,
					       "%s: unknown option '%s'", cmd,
					       argv[optind - 1]);
		}
		if (opt == ':')
			return cli_usage_error(cli, cmd, usage,
					       "%s: option '%s' needs a value",
					       cmd, argv[optind - 1]);
		if (cli_global_option(cli, opt, optarg))
			continue;
		if (!handle)
			continue;
		if ((rc = handle(opt, optarg, ctx)) != 0)
			return rc;
	}
	return -1;
}

static const pim_command *find_command(const char *name)
{
	for (const pim_command *c = pim_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int cmd_help(pim_cli *cli, int argc, char **argv)
{
	const pim_command *c;
	char *sub[3];

	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		print_help(stdout);
		return cli_finish_output(cli, EXIT_OK);
	}
	if (argc > 2)
		return cli_usage_error(cli, NULL, main_usage,
				       "help: give one command");
	c = find_command(argv[1]);
	if (!c)
		return cli_usage_error(cli, NULL, main_usage,
				       "unknown command '%s'", argv[1]);
	sub[0] = argv[1];
	sub[1] = (char *)"--help";
	sub[2] = NULL;
	optind = 0;
	return c->run(cli, 2, sub);
}

static const char *login_name(void)
{
	struct passwd *pw = getpwuid(getuid());
	const char *e = getenv("LOGNAME");
	if (pw && pw->pw_name)
		return pw->pw_name;
	return e && *e ? e : "unknown";
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	pim_cli cli;
	const pim_command *c;
	const char *e;
	int opt;

	/* past a file size limit (ulimit -f) a write fails with EFBIG and is
	 * reported like a full disk, instead of the signal killing pim */
	signal(SIGXFSZ, SIG_IGN);
	memset(&cli, 0, sizeof cli);
	cli.prog = "pim";
	cli.db = (e = getenv("PIM_DB")) && *e ? e : "catalog.db";
	cli.role = (e = getenv("PIM_ROLE")) && *e ? e : NULL;
	cli.user = (e = getenv("PIM_USER")) && *e ? e : login_name();

	/* global options stop at the command name */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:" CLI_GLOBAL_SHORTOPTS,
				  longopts, NULL)) != -1) {
		if (opt == 'h') {
			print_help(stdout);
			return cli_finish_output(&cli, EXIT_OK);
		}
		if (opt == 'V')
			return cmd_version(&cli, 0, NULL);
		if (opt == '?') {
			if (optopt && optopt < 0x100)
				return cli_usage_error(&cli, NULL, main_usage,
						       "unknown option '-%c'",
						       optopt);
			return cli_usage_error(&cli, NULL, main_usage,
					       "unknown option '%s'",
					       argv[optind - 1]);
		}
		if (opt == ':')
			return cli_usage_error(&cli, NULL, main_usage,
					       "option '%s' needs a value",
					       argv[optind - 1]);
		cli_global_option(&cli, opt, optarg);
	}
	if (optind >= argc)
		return cli_usage_error(&cli, NULL, main_usage, "no command given");
	c = find_command(argv[optind]);
	if (!c)
		return cli_usage_error(&cli, NULL, main_usage,
				       "unknown command '%s'", argv[optind]);
	argc -= optind;
	argv += optind;
	optind = 0; /* reset getopt for the command */
	opterr = 0;
	return c->run(&cli, argc, argv);
}
