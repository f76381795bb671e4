/* SPDX-License-Identifier: GPL-2.0-or-later */
/* resolve_build.c — from a set's expanded elements to its IR: prefixes aggregated with
 * their sources, names sorted, duplicates and redundant names reported and dropped. */
#include "resolve_internal.h"

#include <stdlib.h>
#include <string.h>

static int loc_cmp(const void *a, const void *b)
{
	const struct loc *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->col < y->col ? -1 : (x->col > y->col);
}

/* Origins of prefix i come out of the aggregation in element order; sort them into file
 * order only when an include or define put them out of it. */
static void sort_origins(struct loc *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (loc_cmp(&v[i - 1], &v[i]) > 0) {
			qsort(v, n, sizeof(*v), loc_cmp);
			return;
		}
}

/* The set's addresses, aggregated; a tag is the line that wrote the address, so the
 * sources of a prefix have no column. */
static int build_prefixes(struct resolver *r, struct cidr_list *list, struct ir_set *out)
{
	struct cidr_agg agg = { 0 };
	if (list->n == 0)
		return 0;
	if (cidr_aggregate(list, true, &agg) < 0)
		return -1;
	int ret = -1;
	size_t n_tags = agg.tag_start[agg.n];
	struct ir_prefix *all = arena_alloc(&r->p->arena, agg.n * sizeof(*all));
	out->origins = arena_alloc(&r->p->arena, (n_tags ? n_tags : 1) * sizeof(struct loc));
	if (!all || !out->origins)
		goto out;
	for (size_t k = 0; k < n_tags; k++)
		out->origins[k] = (struct loc){ r->file, agg.tags[k], 0 };
	out->n_origins = n_tags;
	size_t n_v4 = 0;
	for (size_t i = 0; i < agg.n; i++) {
		all[i] = (struct ir_prefix){ agg.prefixes[i], agg.tag_start[i], agg.tag_start[i + 1] - agg.tag_start[i] };
		sort_origins(&out->origins[all[i].origin_first], all[i].origin_count);
		n_v4 += agg.prefixes[i].family == FAMILY_V4;
	}
	out->v4 = all;
	out->n_v4 = n_v4;
	out->v6 = all + n_v4;
	out->n_v6 = agg.n - n_v4;
	ret = 0;
out:
	cidr_agg_free(&agg);
	return ret;
}

static int name_cmp(const void *a, const void *b)
{
	const struct ir_name *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	if (x->kind != y->kind)
		return x->kind == NAME_EXACT ? -1 : 1;
	/* Stable on the first occurrence so the kept duplicate is the first written. */
	if (x->loc.line != y->loc.line)
		return x->loc.line < y->loc.line ? -1 : 1;
	return x->loc.col < y->loc.col ? -1 : (x->loc.col > y->loc.col);
}

static void format_name(const struct ir_name *n, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s", n->kind == NAME_WILDCARD ? "*." : "", n->name);
}

/* The wildcard among names[0..n) whose base equals base, or NULL. names is sorted. */
static const struct ir_name *find_wildcard(const struct ir_name *names, size_t n, const char *base)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(names[mid].name, base);
		if (c == 0 && names[mid].kind == NAME_WILDCARD)
			return &names[mid];
		if (c < 0 || (c == 0 && names[mid].kind == NAME_EXACT))
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* A wildcard that covers n: one whose base is a proper suffix of n's name. */
static const struct ir_name *covering_wildcard(const struct ir_name *names, size_t count, const struct ir_name *n)
{
	for (const char *dot = strchr(n->name, '.'); dot; dot = strchr(dot + 1, '.')) {
		const struct ir_name *w = find_wildcard(names, count, dot + 1);
		if (w)
			return w;
	}
	return NULL;
}

static void warn_dropped(struct resolver *r, const struct ir_set *s, const struct ir_name *dropped,
			 const struct ir_name *keeper, const char *why)
{
	if (dropped->included && keeper->included)
		return;	/* reported where both were written */
	char a[NAME_MAX_LEN + 3], b[NAME_MAX_LEN + 3];
	format_name(dropped, a, sizeof(a));
	format_name(keeper, b, sizeof(b));
	diag_warn(r->d, "duplicate-element", dropped->loc, "'%s' in set '%s' %s '%s' (%s:%u)", a, s->name, why, b,
		     keeper->loc.file, keeper->loc.line);
}

static int build_names(struct resolver *r, const struct vec *flat, struct ir_set *out)
{
	const struct flat_elem *v = flat->v;
	size_t n = 0;
	for (size_t i = 0; i < flat->n; i++)
		n += v[i].kind == FLAT_NAME;
	if (n == 0)
		return 0;
	struct ir_name *names = arena_alloc(&r->p->arena, n * sizeof(*names));
	if (!names)
		return -1;
	n = 0;
	for (size_t i = 0; i < flat->n; i++)
		if (v[i].kind == FLAT_NAME)
			names[n++] = (struct ir_name){ v[i].name, v[i].name_kind, resolver_loc(r, v[i].tok), v[i].included, NULL };
	qsort(names, n, sizeof(*names), name_cmp);
	/* Mark, then compact: covering_wildcard must search the complete sorted list. */
	bool *drop = calloc(n, sizeof(*drop));
	if (!drop)
		return -1;
	/* Copies of one name are adjacent and share their fate: all covered by a wildcard,
	 * or the first kept and the others repeats of it. */
	for (size_t i = 0; i < n; i++) {
		const struct ir_name *w = covering_wildcard(names, n, &names[i]);
		if (w) {
			warn_dropped(r, out, &names[i], w, "is already covered by");
			drop[i] = true;
		} else if (i > 0 && !strcmp(names[i].name, names[i - 1].name) && names[i].kind == names[i - 1].kind) {
			size_t first = i - 1;
			while (first > 0 && drop[first])
				first--;
			warn_dropped(r, out, &names[i], &names[first], "repeats");
			drop[i] = true;
		}
	}
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		if (!drop[i])
			names[kept++] = names[i];
	free(drop);
	out->names = names;
	out->n_names = kept;
	return 0;
}

static int build_regexes(struct resolver *r, const struct vec *flat, struct ir_set *out)
{
	const struct flat_elem *v = flat->v;
	struct ir_regex *res = arena_alloc(&r->p->arena, (flat->n ? flat->n : 1) * sizeof(*res));
	if (!res)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < flat->n; i++) {
		if (v[i].kind != FLAT_REGEX)
			continue;
		bool included = v[i].included;
		size_t j = 0;
		while (j < n && strcmp(res[j].pattern, v[i].pattern))
			j++;
		if (j < n && !(included && res[j].included)) {
			diag_warn(r->d, "duplicate-element", resolver_loc(r, v[i].tok), "regex ~\"%s\" in set '%s' repeats the one at %s:%u",
				     v[i].pattern, out->name, res[j].loc.file, res[j].loc.line);
		}
		if (j < n)
			continue;
		res[n++] = (struct ir_regex){ v[i].pattern, resolver_loc(r, v[i].tok), included };
	}
	out->regexes = res;
	out->n_regexes = n;
	return 0;
}

int resolve_set_build(struct resolver *r, struct set_work *w, struct ir_set *out)
{
	out->name = w->name;
	out->loc = w->loc;
	if (w->n_elements == 0 && !w->failed && !w->ast->broken) {
		diag_error(r->d, w->loc, "set '%s' is empty", w->name);
		diag_hint(r->d, "add elements, or remove the set and the rules that use it");
		return 0;
	}
	if (build_prefixes(r, &w->ranges, out) < 0 || build_names(r, &w->flat, out) < 0 ||
	    build_regexes(r, &w->flat, out) < 0) {
		r->oom = true;
		return -1;
	}
	return 0;
}
