/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diff_sets.c — what changes inside one set: coverage (as prefixes of the change itself,
 * not of the two lists), names and regexes. */
#include "diff_internal.h"

#include <stdlib.h>
#include <string.h>

#include "cidr_ops.h"

static const struct ir_set empty_set = { .name = "" };

/* ---- addresses ---------------------------------------------------------------------- */

/* The aggregated prefixes of one family as plain prefixes, for cidr_ops (malloc'd). */
static struct prefix *plain_prefixes(const struct ir_prefix *v, size_t n)
{
	struct prefix *out = malloc((n ? n : 1) * sizeof(*out));
	for (size_t i = 0; out && i < n; i++)
		out[i] = v[i].prefix;
	return out;
}

/* Cuts minus's prefixes of one family out of from's into list; tags are indices into from's
 * v4 list followed by its v6 list. */
static int subtract_family(const struct ir_prefix *from, size_t n_from, const struct ir_prefix *minus,
			   size_t n_minus, size_t tag_base, struct cidr_list *list)
{
	struct prefix *a = plain_prefixes(from, n_from), *b = plain_prefixes(minus, n_minus);
	size_t first = list->n;
	int ret = -1;
	if (!a || !b)
		goto out;
	if (cidr_prefixes_equal(a, n_from, b, n_minus)) {
		ret = 0;
		goto out;
	}
	if (cidr_prefixes_subtract(a, n_from, b, n_minus, list) < 0)
		goto out;
	for (size_t i = first; i < list->n; i++)
		list->v[i].tag += (uint32_t)tag_base;
	ret = 0;
out:
	free(a);
	free(b);
	return ret;
}

static const struct ir_prefix *prefix_of_tag(const struct ir_set *s, uint32_t tag)
{
	return tag < s->n_v4 ? &s->v4[tag] : &s->v6[tag - s->n_v4];
}

/* The sources of a piece of the change: the origins of every prefix of s it was cut from.
 * One prefix (the usual case) needs no copy. */
static int piece_sources(struct arena *ar, const struct ir_set *s, const uint32_t *tags, size_t n_tags,
			 struct diff_prefix *out)
{
	const struct ir_prefix *first = prefix_of_tag(s, tags[0]);
	if (n_tags == 1 && first->origin_count == 0)
		return 0;	/* no sources known, e.g. a set read from the kernel */
	if (n_tags == 1) {
		out->sources = s->origins + first->origin_first;
		out->n_sources = first->origin_count;
		return 0;
	}
	size_t total = 0;
	for (size_t t = 0; t < n_tags; t++)
		total += prefix_of_tag(s, tags[t])->origin_count;
	struct loc *locs = arena_alloc(ar, (total ? total : 1) * sizeof(*locs));
	if (!locs)
		return -1;
	for (size_t t = 0; t < n_tags; t++) {
		const struct ir_prefix *p = prefix_of_tag(s, tags[t]);
		for (uint32_t k = 0; k < p->origin_count; k++)
			locs[out->n_sources++] = s->origins[p->origin_first + k];
	}
	out->sources = locs;
	return 0;
}

static int pieces_to_diff(struct arena *ar, const struct ir_set *s, const struct cidr_agg *agg,
			  struct diff_prefix **out, size_t *n, struct addr_count *v4, struct addr_count *v6)
{
	*n = agg->n;
	*out = agg->n ? arena_alloc(ar, agg->n * sizeof(**out)) : NULL;
	if (agg->n && !*out)
		return -1;
	for (size_t i = 0; i < agg->n; i++) {
		struct diff_prefix *dp = &(*out)[i];
		dp->prefix = agg->prefixes[i];
		uint32_t t0 = agg->tag_start[i], t1 = agg->tag_start[i + 1];
		if (t1 > t0 && piece_sources(ar, s, agg->tags + t0, t1 - t0, dp) < 0)
			return -1;
		addr_count_add_pow2(dp->prefix.family == FAMILY_V4 ? v4 : v6, prefix_host_bits(&dp->prefix));
	}
	return 0;
}

/* from minus minus, as the minimal prefixes of the change with their sources in from. */
static int coverage_change(struct arena *ar, const struct ir_set *from, const struct ir_set *minus,
			   struct diff_prefix **out, size_t *n, struct addr_count *v4, struct addr_count *v6)
{
	struct cidr_list list = { 0 };
	struct cidr_agg agg = { 0 };
	int ret = -1;
	*out = NULL;
	*n = 0;
	if (subtract_family(from->v4, from->n_v4, minus->v4, minus->n_v4, 0, &list) < 0 ||
	    subtract_family(from->v6, from->n_v6, minus->v6, minus->n_v6, from->n_v4, &list) < 0)
		goto out;
	if (list.n == 0) {
		ret = 0;
		goto out;
	}
	if (cidr_aggregate(&list, true, &agg) < 0)
		goto out;
	ret = pieces_to_diff(ar, from, &agg, out, n, v4, v6);
out:
	cidr_list_free(&list);
	cidr_agg_free(&agg);
	return ret;
}

/* ---- names -------------------------------------------------------------------------- */

static int name_key_cmp(const char *a, enum name_kind ka, const char *b, enum name_kind kb)
{
	int c = strcmp(a, b);
	if (c)
		return c;
	return ka == kb ? 0 : ka == NAME_EXACT ? -1 : 1;
}

/* Index of (name, kind) in the sorted names of s, or -1. */
static long find_name(const struct ir_name *v, size_t n, const char *name, enum name_kind kind)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = name_key_cmp(v[mid].name, v[mid].kind, name, kind);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The base of the closest wildcard of s that matches the exact name, or NULL: "*.d" matches
 * every name strictly below d, so the candidates are the name's proper parents. */
static const char *wildcard_matching(const struct ir_set *s, const char *name)
{
	for (const char *dot = strchr(name, '.'); dot; dot = strchr(dot + 1, '.')) {
		long i = find_name(s->names, s->n_names, dot + 1, NAME_WILDCARD);
		if (i >= 0)
			return s->names[i].name;
	}
	return NULL;
}

static struct diff_name diff_name_of(const struct ir_name *n, const struct ir_set *covering)
{
	struct diff_name dn = { .name = n->name, .kind = n->kind, .loc = n->loc };
	if (n->kind == NAME_EXACT)
		dn.covered_by = wildcard_matching(covering, n->name);
	return dn;
}

/* Merge walk over the two sorted lists. */
static int split_names(const struct ir_set *old, const struct ir_set *new, struct vec *added, struct vec *removed)
{
	size_t i = 0, j = 0;
	while (i < old->n_names || j < new->n_names) {
		int c = i == old->n_names ? 1 : j == new->n_names ? -1 :
			name_key_cmp(old->names[i].name, old->names[i].kind, new->names[j].name, new->names[j].kind);
		struct vec *to = c < 0 ? removed : added;
		struct diff_name *slot = c ? vec_push(to, sizeof(*slot)) : NULL;
		if (c && !slot)
			return -1;
		if (c < 0)
			*slot = diff_name_of(&old->names[i], new);	/* still matched by a new wildcard? */
		else if (c > 0)
			*slot = diff_name_of(&new->names[j], new);	/* already matched by one? */
		i += c <= 0;
		j += c >= 0;
	}
	return 0;
}

/* The old set's exact names that the added wildcard w covers. A linear scan per added
 * wildcard: a change adds few of them. */
static int fill_covers(struct arena *ar, const struct ir_set *old, struct diff_name *w)
{
	if (w->kind != NAME_WILDCARD)
		return 0;
	for (size_t i = 0; i < old->n_names; i++)
		w->n_covers += old->names[i].kind == NAME_EXACT && name_is_below(old->names[i].name, w->name);
	if (!w->n_covers)
		return 0;
	w->covers = arena_alloc(ar, w->n_covers * sizeof(*w->covers));
	if (!w->covers)
		return -1;
	size_t m = 0;
	for (size_t i = 0; i < old->n_names; i++)
		if (old->names[i].kind == NAME_EXACT && name_is_below(old->names[i].name, w->name))
			w->covers[m++] = old->names[i].name;
	return 0;
}

static int names_change(struct arena *ar, const struct ir_set *old, const struct ir_set *new, struct diff_names *out)
{
	struct vec added = { 0 }, removed = { 0 };
	int ret = -1;
	if (split_names(old, new, &added, &removed) < 0 ||
	    diff_arena_copy(ar, &added, sizeof(struct diff_name), (void **)&out->added) < 0 ||
	    diff_arena_copy(ar, &removed, sizeof(struct diff_name), (void **)&out->removed) < 0)
		goto out;
	out->n_added = added.n;
	out->n_removed = removed.n;
	for (size_t i = 0; i < out->n_added; i++)
		if (fill_covers(ar, old, &out->added[i]) < 0)
			goto out;
	ret = 0;
out:
	vec_free(&added);
	vec_free(&removed);
	return ret;
}

/* ---- regexes ------------------------------------------------------------------------ */

static int regex_cmp(const void *a, const void *b)
{
	const struct ir_regex *x = a, *y = b;
	return strcmp(x->pattern, y->pattern);
}

/* The regexes of s sorted by pattern, duplicates dropped (malloc'd; *n updated). */
static struct ir_regex *sorted_regexes(const struct ir_set *s, size_t *n)
{
	struct ir_regex *v = malloc((s->n_regexes ? s->n_regexes : 1) * sizeof(*v));
	*n = 0;
	if (!v)
		return NULL;
	if (s->n_regexes)	/* an empty set has no array at all */
		memcpy(v, s->regexes, s->n_regexes * sizeof(*v));
	qsort(v, s->n_regexes, sizeof(*v), regex_cmp);
	for (size_t i = 0; i < s->n_regexes; i++)
		if (*n == 0 || strcmp(v[*n - 1].pattern, v[i].pattern))
			v[(*n)++] = v[i];
	return v;
}

static int split_regexes(const struct ir_regex *o, size_t no, const struct ir_regex *w, size_t nw,
			 struct vec *added, struct vec *removed)
{
	size_t i = 0, j = 0;
	while (i < no || j < nw) {
		int c = i == no ? 1 : j == nw ? -1 : strcmp(o[i].pattern, w[j].pattern);
		struct diff_regex *slot = c ? vec_push(c < 0 ? removed : added, sizeof(*slot)) : NULL;
		if (c && !slot)
			return -1;
		if (c)
			*slot = c < 0 ? (struct diff_regex){ o[i].pattern, o[i].loc } : (struct diff_regex){ w[j].pattern, w[j].loc };
		i += c <= 0;
		j += c >= 0;
	}
	return 0;
}

static int regexes_change(struct arena *ar, const struct ir_set *old, const struct ir_set *new, struct diff_regexes *out)
{
	size_t no, nw;
	struct ir_regex *o = sorted_regexes(old, &no), *w = sorted_regexes(new, &nw);
	struct vec added = { 0 }, removed = { 0 };
	int ret = -1;
	if (!o || !w || split_regexes(o, no, w, nw, &added, &removed) < 0 ||
	    diff_arena_copy(ar, &added, sizeof(struct diff_regex), (void **)&out->added) < 0 ||
	    diff_arena_copy(ar, &removed, sizeof(struct diff_regex), (void **)&out->removed) < 0)
		goto out;
	out->n_added = added.n;
	out->n_removed = removed.n;
	ret = 0;
out:
	free(o);
	free(w);
	vec_free(&added);
	vec_free(&removed);
	return ret;
}

/* ---- the set as a whole ------------------------------------------------------------- */

static bool opens_new_name(const struct diff_names *n)
{
	for (size_t i = 0; i < n->n_added; i++)
		if (!n->added[i].covered_by)
			return true;
	return false;
}

int diff_set_content(struct policy_diff *d, const struct ir_set *old, const struct ir_set *new, struct set_diff *out)
{
	struct diff_prefixes *a = &out->addresses;
	old = old ? old : &empty_set;
	new = new ? new : &empty_set;
	if (coverage_change(&d->arena, new, old, &a->added, &a->n_added, &a->added_v4, &a->added_v6) < 0 ||
	    coverage_change(&d->arena, old, new, &a->removed, &a->n_removed, &a->removed_v4, &a->removed_v6) < 0 ||
	    names_change(&d->arena, old, new, &out->names) < 0 || regexes_change(&d->arena, old, new, &out->regexes) < 0)
		return -1;
	out->widening = a->n_added || opens_new_name(&out->names) || out->regexes.n_added;
	return 0;
}

static bool names_equal(const struct ir_set *a, const struct ir_set *b)
{
	if (a->n_names != b->n_names)
		return false;
	for (size_t i = 0; i < a->n_names; i++)
		if (name_key_cmp(a->names[i].name, a->names[i].kind, b->names[i].name, b->names[i].kind))
			return false;
	return true;
}

static bool same_prefixes(const struct ir_prefix *a, size_t na, const struct ir_prefix *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!cidr_prefixes_equal(&a[i].prefix, 1, &b[i].prefix, 1))
			return false;
	return true;
}

bool diff_set_same_content(const struct ir_set *a, const struct ir_set *b)
{
	if (!same_prefixes(a->v4, a->n_v4, b->v4, b->n_v4) || !same_prefixes(a->v6, a->n_v6, b->v6, b->n_v6) ||
	    !names_equal(a, b))
		return false;
	size_t na, nb;
	struct ir_regex *ra = sorted_regexes(a, &na), *rb = sorted_regexes(b, &nb);
	bool same = ra && rb && na == nb;
	for (size_t i = 0; same && i < na; i++)
		same = !strcmp(ra[i].pattern, rb[i].pattern);
	free(ra);
	free(rb);
	return same;
}
