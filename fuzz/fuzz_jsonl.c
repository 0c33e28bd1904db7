/*
 * fuzz_jsonl.c - libFuzzer target for JSON Lines input: the strict JSON
 * parser (lib/jsonin.c, pim_json_parse) on its own, and the JSON Lines
 * reader through the whole validation pipeline (pim_validate with
 * PIM_FORMAT_JSONL) against the example schema.
 *
 * Byte 0 is read as by fuzz_validate: bits 0-1 no mapping (keys are
 * attribute codes), the Nordic or the standard mapping; bit 4 a
 * --max-errors of 3; bit 5 a 50-byte field limit (which also limits a
 * line to 16 times that). The rest is the file. The parser is fed the
 * whole rest and its first line; a tree it returns is walked and checked
 * (links, offsets, decoded text valid UTF-8 and NUL-terminated, numbers
 * kept as written).
 */
#include "fuzz.h"

#include "buf.h"
#include "recin.h"

static pim_schema *schema;
static pim_mapping *nordic, *standard;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (pim_schema_load_buffer(&schema, "schema.yaml", fz_example_schema,
				   fz_example_schema_len, NULL, NULL) != 0 ||
	    pim_mapping_load_buffer(&nordic, "nordic-pricelist.yaml",
				    fz_nordic_mapping, fz_nordic_mapping_len,
				    schema, NULL, NULL) != 0 ||
	    pim_mapping_load_buffer(&standard, "standard-pricelist.yaml",
				    fz_standard_mapping,
				    fz_standard_mapping_len, schema, NULL,
				    NULL) != 0)
		abort();
	return 0;
}

static void check_text(const pim_json_doc *d, size_t off, size_t len)
{
	FZ_CHECK(off <= d->text.len && len <= d->text.len - off);
	FZ_CHECK(d->text.data[off + len] == '\0');
	FZ_CHECK(pim_utf8_valid(d->text.data + off, len) == len);
}

/* Walks node i; returns the number of nodes in its subtree. */
static size_t walk(const pim_json_doc *d, const char *src, size_t len,
		   size_t i, int in_object, unsigned depth)
{
	const pim_json_node *n = &d->node[i];
	size_t count = 1, kids = 0;

	FZ_CHECK(i < d->n);
	FZ_CHECK(depth <= PIM_JSON_MAX_DEPTH + 1);
	FZ_CHECK(n->pos < n->end && n->end <= len);
	if (in_object) {
		check_text(d, n->key, n->key_len);
		FZ_CHECK(n->key_pos < n->pos && src[n->key_pos] == '"');
		(void)fz_touch(pim_json_keytext(d, n));
	}
	switch (n->type) {
	case PIM_JSON_NULL:
		FZ_CHECK(n->end - n->pos == 4 && !memcmp(src + n->pos, "null", 4));
		break;
	case PIM_JSON_FALSE:
		FZ_CHECK(n->end - n->pos == 5 && !memcmp(src + n->pos, "false", 5));
		break;
	case PIM_JSON_TRUE:
		FZ_CHECK(n->end - n->pos == 4 && !memcmp(src + n->pos, "true", 4));
		break;
	case PIM_JSON_NUMBER:
		check_text(d, n->str, n->len);
		FZ_CHECK(n->len == n->end - n->pos);
		FZ_CHECK(!memcmp(pim_json_text(d, n), src + n->pos, n->len));
		break;
	case PIM_JSON_STRING:
		check_text(d, n->str, n->len);
		FZ_CHECK(src[n->pos] == '"' && src[n->end - 1] == '"');
		break;
	case PIM_JSON_ARRAY:
	case PIM_JSON_OBJECT:
		FZ_CHECK(src[n->pos] == (n->type == PIM_JSON_ARRAY ? '[' : '{'));
		FZ_CHECK(src[n->end - 1] == (n->type == PIM_JSON_ARRAY ? ']' : '}'));
		for (size_t k = n->first; k; k = d->node[k].next) {
			FZ_CHECK(k > i && k < d->n);
			FZ_CHECK(d->node[k].pos > n->pos &&
				 d->node[k].end < n->end);
			count += walk(d, src, len, k,
				      n->type == PIM_JSON_OBJECT, depth + 1);
			kids++;
		}
		FZ_CHECK(kids == n->n);
		break;
	default:
		FZ_CHECK(!"a node of no type");
	}
	return count;
}

static void parse(const char *s, size_t len)
{
	pim_json_doc d;
	pim_json_err err;
	int rc;

	pim_json_init(&d);
	memset(&err, 0x55, sizeof err);
	rc = pim_json_parse(&d, &err, s, len);
	if (rc == 0) {
		FZ_CHECK(d.n >= 1 && walk(&d, s, len, 0, 0, 0) == d.n);
		FZ_CHECK(pim_json_is_object(s, len) ==
			 (d.node[0].type == PIM_JSON_OBJECT));
	} else {
		FZ_CHECK(rc == PIM_EPARSE || rc == PIM_ENOMEM);
		if (rc == PIM_EPARSE) {
			FZ_CHECK(memchr(err.msg, 0, sizeof err.msg) != NULL);
			FZ_CHECK(err.msg[0] != '\0');
			FZ_CHECK(err.pos <= len);
		}
		FZ_CHECK(!pim_json_is_object(s, len));
	}
	pim_json_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pim_validate_options vo = PIM_VALIDATE_OPTIONS_INIT;
	pim_validate_stats st;
	unsigned long errors = 0;
	const char *path, *s = (const char *)data + 1, *nl;
	int rc;

	if (size < 1)
		return 0;
	parse(s, size - 1);
	if ((nl = memchr(s, '\n', size - 1)))
		parse(s, (size_t)(nl - s));

	switch (data[0] & 3) {
	case 1: vo.mapping = nordic; break;
	case 2: vo.mapping = standard; break;
	default: break;
	}
	vo.max_errors = (data[0] & 16) ? 3 : 0;
	if (data[0] & 32)
		vo.max_field_size = 50;
	vo.format = PIM_FORMAT_JSONL;
	path = fz_file(0, s, size - 1);
	rc = pim_validate(&st, schema, &path, 1, &vo, fz_diag, &errors);
	FZ_CHECK(rc == 0 || rc == PIM_EDATA || rc == PIM_EIO);
	FZ_CHECK(rc != 0 || st.errors == 0);
	FZ_CHECK(st.files <= 1);
	return 0;
}
