/*
 * yml.c - builds a yml_node tree from libyaml's event stream.
 * Anchors/aliases are refused (an alias bomb needs them) and depth and node
 * counts are capped, so memory stays proportional to the input size.
 */
#include "yml.h"
#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#define YML_MAX_DEPTH 64
#define YML_MAX_NODES 1000000

static void node_free(yml_node *n)
{
	if (!n)
		return;
	if (n->kind == YML_SEQ || n->kind == YML_MAP) {
		size_t count = n->kind == YML_MAP ? 2 * n->n : n->n;
		for (size_t i = 0; i < count; i++)
			node_free(n->items[i]);
		pim_free(n->items);
	}
	pim_free(n->str);
	pim_free(n);
}

void yml_free(yml_doc *doc)
{
	if (!doc)
		return;
	node_free(doc->root);
	pim_free(doc->name);
	pim_free(doc->text);
	doc->root = NULL;
	doc->name = NULL;
	doc->text = NULL;
}

static int report(pim_diag_fn diag, void *ctx, const char *name,
		  unsigned long line, unsigned long col, const char *msg)
{
	pim_diag d;

	if (!diag)
		return 0;
	memset(&d, 0, sizeof d);
	d.file = name;
	d.line = line;
	d.col = col;
	d.code = "yaml";
	d.severity = PIM_SEV_ERROR;
	d.message = msg;
	return diag(&d, ctx);
}

static int push_child(yml_node *parent, yml_node *child)
{
	size_t count = parent->kind == YML_MAP ? parent->n * 2 : parent->n;
	/* MAP children arrive one at a time: key, value, key, value ... */
	static const size_t grow = 8;
	size_t have = count + (parent->kind == YML_MAP && parent->pending);
	yml_node **items;

	if (have % grow == 0) {
		size_t bytes;
		if (pim_size_mul(&bytes, have + grow, sizeof *items))
			return PIM_ELIMIT;
		items = pim_realloc(parent->items, bytes);
		if (!items)
			return PIM_ENOMEM;
		parent->items = items;
	}
	parent->items[have] = child;
	if (parent->kind == YML_SEQ) {
		parent->n++;
	} else if (parent->pending) {
		parent->pending = 0; /* this is the pending key's value */
		parent->n++;
	} else {
		parent->pending = 1;
	}
	return 0;
}

int yml_parse(yml_doc *doc, const char *name, const char *data, size_t len,
	      pim_diag_fn diag, void *ctx)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	yml_node *stack[YML_MAX_DEPTH + 1];
	size_t depth = 0, nodes = 0;
	int rc = 0, done = 0, have_event = 0;
	char msg[256];

	memset(doc, 0, sizeof *doc);
	doc->name = pim_strdup(name ? name : "-");
	doc->text = pim_strndup(data, len);
	doc->text_len = len;
	if (!doc->name || !doc->text)
		return PIM_ENOMEM;
	if (!yaml_parser_initialize(&parser))
		return PIM_ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)doc->text,
				     len);

	while (!done) {
		yml_node *n = NULL;

		if (!yaml_parser_parse(&parser, &ev)) {
			unsigned long line = parser.problem_mark.line + 1;
			unsigned long col = parser.problem_mark.column + 1;
			/* a reader error (bad byte) gives only an offset */
			if (parser.error == YAML_READER_ERROR) {
				line = col = 1;
				for (size_t i = 0;
				     i < parser.problem_offset && i < len; i++) {
					if (doc->text[i] == '\n') {
						line++;
						col = 1;
					} else if (((unsigned char)doc->text[i] &
						    0xC0) != 0x80) {
						col++;
					}
				}
			}
			snprintf(msg, sizeof msg, "YAML syntax: %s%s%s",
				 parser.problem ? parser.problem : "error",
				 parser.context ? " " : "",
				 parser.context ? parser.context : "");
			report(diag, ctx, doc->name, line, col, msg);
			rc = PIM_EPARSE;
			break;
		}
		have_event = 1;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (doc->root) {
				report(diag, ctx, doc->name,
				       ev.start_mark.line + 1,
				       ev.start_mark.column + 1,
				       "only one YAML document is allowed");
				rc = PIM_EPARSE;
				done = 1;
			}
			break;
		case YAML_ALIAS_EVENT:
			report(diag, ctx, doc->name, ev.start_mark.line + 1,
			       ev.start_mark.column + 1,
			       "YAML aliases (*name) are not supported");
			rc = PIM_EPARSE;
			done = 1;
			break;
		case YAML_SCALAR_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++nodes > YML_MAX_NODES) {
				report(diag, ctx, doc->name,
				       ev.start_mark.line + 1,
				       ev.start_mark.column + 1,
				       "too many YAML nodes");
				rc = PIM_ELIMIT;
				done = 1;
				break;
			}
			n = pim_calloc(1, sizeof *n);
			if (!n) {
				rc = PIM_ENOMEM;
				done = 1;
				break;
			}
			n->line = ev.start_mark.line + 1;
			n->col = ev.start_mark.column + 1;
			if (ev.type == YAML_SCALAR_EVENT) {
				n->kind = YML_SCALAR;
				n->len = ev.data.scalar.length;
				n->str = pim_strndup(
					(const char *)ev.data.scalar.value, n->len);
				n->quoted = ev.data.scalar.style !=
					    YAML_PLAIN_SCALAR_STYLE;
				if (!n->str) {
					pim_free(n);
					rc = PIM_ENOMEM;
					done = 1;
					break;
				}
			} else {
				n->kind = ev.type == YAML_SEQUENCE_START_EVENT
						  ? YML_SEQ
						  : YML_MAP;
			}
			if (depth == 0) {
				if (!doc->root)
					doc->root = n;
				else
					node_free(n);
			} else if ((rc = push_child(stack[depth - 1], n))) {
				node_free(n);
				done = 1;
				break;
			}
			if (n->kind != YML_SCALAR) {
				if (depth >= YML_MAX_DEPTH) {
					report(diag, ctx, doc->name, n->line,
					       n->col, "YAML nested too deeply");
					rc = PIM_ELIMIT;
					done = 1;
					break;
				}
				stack[depth++] = n;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		have_event = 0;
	}
	if (have_event)
		yaml_event_delete(&ev);
	/* a key left without value by an aborted parse is freed too */
	while (depth > 0) {
		yml_node *m = stack[--depth];
		if (m->kind == YML_MAP && m->pending) {
			node_free(m->items[2 * m->n]);
			m->pending = 0;
		}
	}
	yaml_parser_delete(&parser);
	return rc;
}

int yml_read_file(char **out, size_t *len, const char *path, size_t max,
		  char *err, size_t errlen)
{
	pim_buf b = PIM_BUF_INIT;
	char chunk[65536];
	struct stat st;
	int fd, rc = 0;

	*out = NULL;
	*len = 0;
	fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return errno == ENOENT ? PIM_ENOTFOUND : PIM_EIO;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "is a directory");
		if (fd)
			close(fd);
		return PIM_EIO;
	}
	pim_buf_init(&b, max);
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof chunk);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s", strerror(errno));
			rc = PIM_EIO;
			break;
		}
		if (r == 0)
			break;
		if ((rc = pim_buf_add(&b, chunk, (size_t)r))) {
			snprintf(err, errlen, "%s",
				 rc == PIM_ELIMIT ? "file too large"
						  : "out of memory");
			break;
		}
	}
	if (fd)
		close(fd);
	if (rc) {
		pim_buf_free(&b);
		return rc;
	}
	*len = b.len;
	*out = pim_buf_detach(&b);
	return *out ? 0 : PIM_ENOMEM;
}

int yml_read_file_diag(char **out, size_t *len, const char *path, size_t max,
		       pim_diag_fn diag, void *ctx)
{
	char err[512];
	int rc = yml_read_file(out, len, path, max, err, sizeof err);

	if (!rc)
		return 0;
	if (diag) {
		pim_diag d;
		memset(&d, 0, sizeof d);
		d.file = path;
		d.code = "io";
		d.message = err;
		diag(&d, ctx);
	}
	return rc == PIM_ENOMEM ? rc : PIM_EIO;
}

yml_node *yml_get(const yml_node *map, const char *key)
{
	if (!map || map->kind != YML_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++) {
		yml_node *k = map->items[2 * i];
		if (k->kind == YML_SCALAR && strcmp(k->str, key) == 0)
			return map->items[2 * i + 1];
	}
	return NULL;
}

int yml_is_null(const yml_node *n)
{
	return n && n->kind == YML_SCALAR && !n->quoted &&
	       (n->len == 0 || strcmp(n->str, "~") == 0 ||
		strcmp(n->str, "null") == 0);
}

int yml_bool(const yml_node *n, int *out)
{
	if (!n || n->kind != YML_SCALAR || n->quoted)
		return -1;
	if (!strcmp(n->str, "true") || !strcmp(n->str, "yes")) {
		*out = 1;
		return 0;
	}
	if (!strcmp(n->str, "false") || !strcmp(n->str, "no")) {
		*out = 0;
		return 0;
	}
	return -1;
}

int yml_number(const yml_node *n, double *out)
{
	char *end;
	double v;

	if (!n || n->kind != YML_SCALAR || n->quoted || n->len == 0)
		return -1;
	errno = 0;
	v = strtod(n->str, &end);
	if (*end || errno || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}
