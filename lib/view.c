/*
 * view.c - role views and product selection: which columns a role sees,
 * in its order and labels, and a streaming SELECT over the product table
 * with a --where condition compiled to SQL (expr.c) and the role's
 * completeness computed per product.
 */
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "expr.h"

struct pim_view {
	pim_catalog *cat;
	const pim_role *role;
	const char *locale;      /* borrowed from the schema */
	pim_view_column *cols;
	size_t *slot;            /* per column */
	char **names;            /* per column, owned */
	size_t n, cap;
	size_t *req;             /* the role's required slots, grouped by
				    attribute */
	size_t n_req;
	size_t n_req_attrs;      /* the attributes they belong to */
};

void pim_view_free(pim_view *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++)
		pim_free(v->names[i]);
	pim_free(v->names);
	pim_free(v->cols);
	pim_free(v->slot);
	pim_free(v->req);
	pim_free(v);
}

size_t pim_view_column_count(const pim_view *v)
{
	return v->n;
}

const pim_view_column *pim_view_column_at(const pim_view *v, size_t i)
{
	return i < v->n ? &v->cols[i] : NULL;
}

const char *pim_view_role(const pim_view *v)
{
	return v->role ? v->role->name : NULL;
}

static const char *find_label(const pim_label *l, size_t n, const char *loc)
{
	if (!loc)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(l[i].locale, loc))
			return l[i].text;
	return NULL;
}

static int in_list(const size_t *list, size_t n, size_t x)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == x)
			return 1;
	return 0;
}

/* The label of attribute `ai` in the view: the role's, else the
 * attribute's own, else its code. */
static const char *label_of(const pim_view *v, size_t ai)
{
	const pim_schema *s = v->cat->schema;
	const char *l = NULL;

	if (v->role)
		for (size_t i = 0; i < v->role->n_attrs && !l; i++)
			if (v->role->attrs[i] == ai)
				l = find_label(v->role->labels[i],
					       v->role->n_labels[i], v->locale);
	if (!l)
		l = find_label(s->attrs[ai].labels, s->attrs[ai].n_labels,
			       v->locale);
	return l ? l : s->attrs[ai].code;
}

static int add_slot(pim_view *v, size_t slot)
{
	pim_catalog *cat = v->cat;
	const pim_slot *sl = &cat->slots[slot];
	const pim_attr *a = &cat->schema->attrs[sl->attr];
	pim_view_column *c;
	char name[128];

	for (size_t i = 0; i < v->n; i++)
		if (v->slot[i] == slot)
			return 0; /* listed twice: once is enough */
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		pim_view_column *nc = pim_realloc(v->cols, cap * sizeof *nc);
		size_t *ns;
		char **nn;
		if (!nc)
			return PIM_ENOMEM;
		v->cols = nc;
		if (!(ns = pim_realloc(v->slot, cap * sizeof *ns)))
			return PIM_ENOMEM;
		v->slot = ns;
		if (!(nn = pim_realloc(v->names, cap * sizeof *nn)))
			return PIM_ENOMEM;
		v->names = nn;
		v->cap = cap;
	}
	pim_slot_column(name, sizeof name, cat->schema, sl);
	if (!(v->names[v->n] = pim_strdup(name)))
		return PIM_ENOMEM;
	c = &v->cols[v->n];
	memset(c, 0, sizeof *c);
	c->name = v->names[v->n];
	c->code = a->code;
	c->locale = sl->locale;
	c->label = label_of(v, sl->attr);
	c->type = a->type;
	c->required = v->role ? in_list(v->role->required,
					v->role->n_required, sl->attr)
			      : 0;
	c->editable = v->role ? in_list(v->role->edit, v->role->n_edit,
					sl->attr)
			      : 1;
	if (a->type == PIM_TYPE_MEASURE && a->unit) {
		c->unit = a->unit->code;
		c->unit_symbol = a->unit->symbol;
	}
	v->slot[v->n++] = slot;
	return 0;
}

/* Adds the slots of attribute ai: the view's locale, or every locale. */
static int add_attr(pim_view *v, size_t ai, const char *locale)
{
	pim_catalog *cat = v->cat;
	int rc = 0;

	for (size_t i = 0; i < cat->n_slots && rc == 0; i++) {
		const pim_slot *sl = &cat->slots[i];
		if (sl->attr != ai)
			continue;
		if (locale && sl->locale && strcmp(sl->locale, locale))
			continue;
		rc = add_slot(v, i);
	}
	return rc;
}

static int add_columns(pim_view *v, const char *list)
{
	pim_catalog *cat = v->cat;
	const char *p = list;

	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		char name[128], *at;
		const char *loc = v->locale;
		long ai;
		int rc;

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0 || len >= sizeof name)
			return pim_cat_error(cat, PIM_ENOTFOUND,
					     "--columns: an empty or too long "
					     "column name");
		memcpy(name, p, len);
		name[len] = '\0';
		if ((at = strchr(name, '@'))) {
			*at = '\0';
			loc = pim_schema_locale(cat->schema, at + 1);
			if (!loc)
				return pim_cat_error(cat, PIM_ENOTFOUND,
						     "--columns: '%s' is not "
						     "one of the schema's "
						     "locales",
						     at + 1);
		}
		ai = pim_schema_attribute_find(cat->schema, name);
		if (ai < 0)
			return pim_cat_error(cat, PIM_ENOTFOUND,
					     "--columns: unknown attribute "
					     "'%s'",
					     name);
		if (at && !cat->schema->attrs[ai].localizable)
			return pim_cat_error(cat, PIM_ENOTFOUND,
					     "--columns: '%s' is not "
					     "localizable",
					     name);
		if ((rc = add_attr(v, (size_t)ai, loc)))
			return pim_cat_error(cat, rc, "out of memory");
		p += len;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int required_slots(pim_view *v)
{
	pim_catalog *cat = v->cat;

	if (!v->role)
		return 0;
	v->req = pim_calloc(cat->n_slots + 1, sizeof *v->req);
	if (!v->req)
		return PIM_ENOMEM;
	/* slots come attribute by attribute, so one attribute's locales
	 * stay together */
	for (size_t i = 0; i < cat->n_slots; i++) {
		const pim_slot *sl = &cat->slots[i];
		if (!in_list(v->role->required, v->role->n_required, sl->attr))
			continue;
		if (v->locale && sl->locale && strcmp(sl->locale, v->locale))
			continue;
		if (!v->n_req || cat->slots[v->req[v->n_req - 1]].attr != sl->attr)
			v->n_req_attrs++;
		v->req[v->n_req++] = i;
	}
	return 0;
}

int pim_view_new(pim_view **out, pim_catalog *cat, const char *role,
		 const char *locale, const char *columns)
{
	const pim_schema *s = cat->schema;
	pim_view *v;
	int rc = 0;

	*out = NULL;
	if (!(v = pim_calloc(1, sizeof *v)))
		return pim_cat_error(cat, PIM_ENOMEM, "out of memory");
	v->cat = cat;
	if (role && !(v->role = pim_schema_role(s, role))) {
		pim_buf list = PIM_BUF_INIT;
		for (size_t i = 0; i < s->n_roles; i++)
			pim_buf_printf(&list, "%s%s", i ? ", " : "",
				       s->roles[i].name);
		rc = pim_cat_error(cat, PIM_ENOTFOUND,
				   "unknown role '%s' (the schema's roles: %s)",
				   role, list.data ? list.data : "none");
		pim_buf_free(&list);
		goto fail;
	}
	if (locale && !(v->locale = pim_schema_locale(s, locale))) {
		rc = pim_cat_error(cat, PIM_ENOTFOUND,
				   "unknown locale '%s' (the schema's locales: "
				   "%s%s%s)",
				   locale, s->n_locales ? s->locales[0] : "none",
				   s->n_locales > 1 ? ", " : "",
				   s->n_locales > 1 ? s->locales[1] : "");
		goto fail;
	}
	if (columns) {
		if ((rc = add_columns(v, columns)))
			goto fail;
	} else if (v->role) {
		for (size_t i = 0; i < v->role->n_attrs && rc == 0; i++)
			rc = add_attr(v, v->role->attrs[i], v->locale);
	} else {
		for (size_t i = 0; i < s->n_attrs && rc == 0; i++)
			rc = add_attr(v, i, v->locale);
	}
	if (rc == 0)
		rc = required_slots(v);
	if (rc) {
		rc = pim_cat_error(cat, rc, "out of memory");
		goto fail;
	}
	*out = v;
	return 0;
fail:
	pim_view_free(v);
	return rc;
}

/* ---- selection ------------------------------------------------------------ */

/* Builds the SELECT for a view and selection; binds go to `binds`. */
static int build_select(pim_catalog *cat, const pim_view *v,
			const pim_select *sel, pim_buf *sql, pim_binds *binds,
			pim_where_error *err)
{
	const char *key = cat->col[cat->key_slot];
	int param = 1, ranged = 0, rc;

	if (!sel || sel->version != PIM_SELECT_VERSION)
		return pim_cat_error(cat, PIM_EINVALID, "bad select options");
	pim_buf_printf(sql, "SELECT _id, %s, _family, _archived, _updated_at",
		       key);
	for (size_t i = 0; i < v->n; i++)
		pim_buf_printf(sql, ", %s", cat->col[v->slot[i]]);
	for (size_t i = 0; i < v->n_req; i++)
		pim_buf_printf(sql, ", %s", cat->col[v->req[i]]);
	pim_buf_adds(sql, " FROM product WHERE ");
	pim_buf_adds(sql, sel->archived ? "1" : "_archived = 0");
	if (sel->key) {
		pim_buf_printf(sql, " AND %s = ?1", key);
		param = 2;
	}
	if (sel->where) {
		pim_buf_adds(sql, " AND ");
		rc = pim_where_compile(cat, sel->where, v->locale, param, sql,
				       binds, &ranged, err);
		if (rc == PIM_EPARSE)
			return pim_cat_error(cat, rc, "--where: column %lu: %s",
					     err ? err->col : 0,
					     err ? err->message : "bad expression");
		if (rc)
			return pim_cat_error(cat, rc, "out of memory");
	}
	/* "+key" keeps the key's index from serving the order, so that the
	 * planner takes the range's index and sorts what it finds */
	pim_buf_printf(sql, " ORDER BY %s%s", ranged ? "+" : "", key);
	if (sel->limit)
		pim_buf_printf(sql, " LIMIT %lu", sel->limit);
	return sql->data ? 0 : pim_cat_error(cat, PIM_ENOMEM, "out of memory");
}

static int prepare(pim_catalog *cat, const char *sql, const pim_select *sel,
		   const pim_binds *binds, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(cat->db, sql, -1, st, NULL);
	int k = 1;

	if (rc != SQLITE_OK)
		return pim_cat_sqlerr(cat, rc, "selecting products");
	if (sel->key)
		sqlite3_bind_text(*st, k++, sel->key, -1, SQLITE_STATIC);
	for (size_t i = 0; i < binds->n; i++)
		sqlite3_bind_text(*st, k++, binds->v[i], -1, SQLITE_STATIC);
	return 0;
}

int pim_catalog_select(pim_catalog *cat, const pim_view *v,
		       const pim_select *sel, pim_product_fn fn, void *ctx,
		       pim_where_error *err)
{
	pim_buf sql = PIM_BUF_INIT;
	pim_binds binds = { NULL, 0, 0 };
	sqlite3_stmt *st = NULL;
	const char **val = NULL;
	pim_product_row row;
	int rc;

	if ((rc = build_select(cat, v, sel, &sql, &binds, err)))
		goto out;
	if ((rc = prepare(cat, sql.data, sel, &binds, &st)))
		goto out;
	if (!(val = pim_calloc(v->n + 1, sizeof *val))) {
		rc = pim_cat_error(cat, PIM_ENOMEM, "out of memory");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t filled = 0;
		memset(&row, 0, sizeof row);
		row.id = sqlite3_column_int64(st, 0);
		row.key = (const char *)sqlite3_column_text(st, 1);
		row.family = (const char *)sqlite3_column_text(st, 2);
		row.archived = sqlite3_column_int(st, 3);
		row.updated_at = (const char *)sqlite3_column_text(st, 4);
		for (size_t i = 0; i < v->n; i++) {
			const char *t =
				(const char *)sqlite3_column_text(st, (int)i + 5);
			val[i] = t && *t ? t : NULL;
		}
		/* a required attribute is filled when each of its slots is:
		 * in the view's locale, or in every locale */
		for (size_t i = 0; i < v->n_req;) {
			size_t attr = cat->slots[v->req[i]].attr;
			int all = 1;
			for (; i < v->n_req && cat->slots[v->req[i]].attr == attr;
			     i++) {
				const unsigned char *t = sqlite3_column_text(
					st, (int)(v->n + i) + 5);
				if (!t || !*t)
					all = 0;
			}
			filled += all;
		}
		row.value = val;
		row.required = v->n_req_attrs;
		row.missing = v->n_req_attrs - filled;
		row.completeness = v->n_req_attrs
					   ? (int)(100 * filled / v->n_req_attrs)
					   : 100;
		if (fn(&row, ctx)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : pim_cat_sqlerr(cat, rc, "reading products");
out:
	sqlite3_finalize(st);
	pim_free(val);
	pim_binds_free(&binds);
	pim_buf_free(&sql);
	return rc;
}

int pim_catalog_explain(pim_catalog *cat, const pim_view *v,
			const pim_select *sel,
			int (*fn)(const char *line, void *ctx), void *ctx,
			pim_where_error *err)
{
	pim_buf sql = PIM_BUF_INIT;
	pim_binds binds = { NULL, 0, 0 };
	sqlite3_stmt *st = NULL;
	int rc;

	pim_buf_adds(&sql, "EXPLAIN QUERY PLAN ");
	if ((rc = build_select(cat, v, sel, &sql, &binds, err)))
		goto out;
	if ((rc = prepare(cat, sql.data, sel, &binds, &st)))
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 3);
		if (fn(d ? d : "", ctx)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : pim_cat_sqlerr(cat, rc, "explaining");
out:
	sqlite3_finalize(st);
	pim_binds_free(&binds);
	pim_buf_free(&sql);
	return rc;
}
