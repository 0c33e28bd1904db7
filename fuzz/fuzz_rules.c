/*
 * fuzz_rules.c - libFuzzer target for enrichment rules files
 * (lib/rules.c, pim-rules(5)): the YAML tree, the rule checks, the
 * calculation, template and map parsers, the `when` conditions. The input
 * is the rules file. It is loaded against two catalogs made once per
 * process (see fuzz_cat.h): the example schema with
 * examples/data/products.jsonl, and the schema of the views tests with its
 * products. Rules that load are applied in memory (pim_rules_apply, as
 * `pim enrich` does) to every product of that catalog, and the results are
 * checked: only slots some rule may write change, a required value is
 * never cleared, and every value a rule wrote is canonical for its
 * attribute (it parses back to itself).
 */
#include "fuzz_cat.h"

#include "rules.h"
#include "value.h"

static fz_cat examples, views;
static fz_cat *cur;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_cat_make(&examples, fz_example_schema, fz_example_schema_len,
		    "products.jsonl", fz_example_jsonl, fz_example_jsonl_len,
		    "UPDATE product SET _family = 'furniture' "
		    "WHERE sku = 'SKU-00000000';");
	fz_cat_make(&views, fz_roles_schema, fz_roles_schema_len,
		    "products.csv", fz_views_csv, fz_views_csv_len,
		    "UPDATE product SET _family = 'kitchen' "
		    "WHERE sku LIKE 'A-%';");
	return 0;
}

/* Another product holding `value` in `slot` (as enrich asks the catalog);
 * ctx is the index of the product being enriched. */
static int unique(void *ctx, size_t slot, const char *value, char *sku,
		  size_t len)
{
	size_t self = *(const size_t *)ctx;

	FZ_CHECK(slot < cur->cat->n_slots);
	FZ_CHECK(value != NULL && len > 0);
	for (size_t i = 0; i < cur->n_prod; i++)
		if (i != self && cur->prod[i].value[slot] &&
		    !strcmp(cur->prod[i].value[slot], value)) {
			snprintf(sku, len, "%s",
				 cur->prod[i].value[cur->cat->key_slot]);
			return 1;
		}
	return 0;
}

static int same(const char *a, const char *b)
{
	return (!a || !b) ? a == b : strcmp(a, b) == 0;
}

static void one(fz_cat *fc, const uint8_t *data, size_t size)
{
	pim_catalog *cat = fc->cat;
	pim_rules *r = NULL;
	pim_rules_run *run = NULL;
	const unsigned char *targets;
	unsigned long errors = 0, skipped = 0, invalid = 0;
	pim_buf again = PIM_BUF_INIT;
	size_t srclen = 0, self = 0;
	int rc;

	cur = fc;
	rc = pim_rules_load_buffer(&r, cat, "rules.yaml", (const char *)data,
				   size, fz_diag, &errors);
	if (rc) {
		FZ_CHECK(r == NULL);
		FZ_CHECK(rc == PIM_EPARSE || rc == PIM_ENOMEM);
		FZ_CHECK(errors > 0 || rc == PIM_ENOMEM);
		return;
	}
	FZ_CHECK(errors == 0);
	FZ_CHECK(pim_rules_source(r, &srclen) != NULL && srclen == size);
	FZ_CHECK(pim_rules_catalog(r) == cat);
	for (size_t i = 0; i < pim_rules_count(r); i++)
		FZ_CHECK(fz_touch(pim_rules_name(r, i)) > 0);
	(void)pim_rules_hash(r);
	targets = pim_rules_targets(r);
	FZ_CHECK(targets != NULL);

	FZ_CHECK(pim_rules_run_new(&run, r) == 0);
	pim_rules_run_diag(run, fz_diag, NULL, PIM_SEV_ERROR);
	pim_rules_run_unique(run, unique, &self);
	for (self = 0; self < fc->n_prod; self++) {
		const fz_product *p = &fc->prod[self];
		const char *const *in = (const char *const *)p->value;
		const char *const *out = NULL;
		pim_rules_product rp;
		int changed = -1, differs = 0;

		memset(&rp, 0, sizeof rp);
		rp.key = p->value[cat->key_slot];
		rp.family = p->family;
		rp.updated_batch = p->updated_batch;
		rc = pim_rules_apply(run, &out, &changed, in, &rp, &skipped,
				     &invalid);
		FZ_CHECK(rc == 0 || rc == PIM_ENOMEM);
		if (rc)
			break;
		FZ_CHECK(out != NULL && (changed == 0 || changed == 1));
		for (size_t i = 0; i < cat->n_slots; i++) {
			const pim_attr *a = &cat->schema->attrs[cat->slots[i].attr];
			const char *w = pim_rules_writer(run, i);

			if (!same(out[i], in[i]))
				differs = 1;
			if (!targets[i] || !w) {
				FZ_CHECK(out[i] == in[i]);
				continue;
			}
			FZ_CHECK(fz_touch(w) > 0);
			FZ_CHECK(!a->required || out[i] || !in[i]);
			if (!out[i])
				continue;
			FZ_CHECK(out[i][0] != '\0');
			{
				pim_parse_opts o = PIM_PARSE_OPTS_INIT;
				pim_value_err e;
				size_t len = strlen(out[i]);
				o.utf8_ok = pim_utf8_valid(out[i], len) == len;
				rc = pim_value_parse(&again, &e, a, out[i], len,
						     &o);
				/* as in fuzz_value: an amount of about 60
				 * characters may not parse again */
				if (rc == 1 && strcspn(out[i], " ") > 60 &&
				    !strcmp(e.code, "not-a-number"))
					continue;
				if (rc != 0 || strcmp(again.data, out[i])) {
					fprintf(stderr,
						"slot %zu (%s), rule %s wrote "
						"'%s': %s\n",
						i, a->code, w, out[i],
						rc ? e.msg : again.data);
					abort();
				}
			}
		}
		FZ_CHECK(changed == differs);
	}
	pim_buf_free(&again);
	pim_rules_run_free(run);
	pim_rules_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(&examples, data, size);
	one(&views, data, size);
	return 0;
}
