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
static int build_prefixes(struct resolver *r, struct set_work *w, struct ir_set *out)
{
	struct cidr_agg agg = { 0 };
	if (w->v4.n == 0 && w->ranges.n == 0)
		return 0;
	if (cidr_aggregate_keys(&w->v4, &w->ranges, true, &agg) < 0)
		return -1;
	int ret = -1;
	size_t n_tags = agg.tag_start[agg.n];
	/* The origins first, and the tags they are made of freed, before the prefixes: a
	 * million-line set's peak is then one of the two copies, not both. */
	out->origins = arena_alloc(&r->p->arena, (n_tags ? n_tags : 1) * sizeof(struct loc));
	if (!out->origins)
		goto out;
	for (size_t k = 0; k < n_tags; k++)
		out->origins[k] = (struct loc){ r->file, agg.tags[k], 0 };
	out->n_origins = n_tags;
	free(agg.tags);
	agg.tags = NULL;
	struct ir_prefix *all = arena_alloc(&r->p->arena, (agg.n ? agg.n : 1) * sizeof(*all));
	if (!all)
		goto out;
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

/* A name's first eight bytes, big-endian and zero-padded: comparing two heads orders as
 * strcmp does, so most comparisons of a large sort never reach the strings. */
struct name_key {
	uint64_t head;
	size_t index;
};

static int name_key_cmp(const void *a, const void *b, void *names)
{
	const struct name_key *x = a, *y = b;
	if (x->head != y->head)
		return x->head < y->head ? -1 : 1;
	int c = name_cmp((const struct ir_name *)names + x->index, (const struct ir_name *)names + y->index);
	return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* Stable LSD radix sort of keys[0..n) by head, a byte at a time (tmp holds n keys); a byte
 * that every head shares is skipped. A comparison sort of 100,000 names was a tenth of a
 * `pinhole match` run. */
static void radix_sort_heads(struct name_key *keys, struct name_key *tmp, size_t n)
{
	size_t count[8][256] = { { 0 } };
	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		for (unsigned b = 0; b < 8; b++)
			count[b][(keys[i].head >> (8 * b)) & 0xff]++;
	struct name_key *src = keys, *dst = tmp;
	for (unsigned b = 0; b < 8; b++) {
		size_t sum = 0;
		if (count[b][(keys[0].head >> (8 * b)) & 0xff] == n)
			continue;
		for (int d = 0; d < 256; d++) {
			size_t c = count[b][d];
			count[b][d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[b][(src[i].head >> (8 * b)) & 0xff]++] = src[i];
		struct name_key *t = src;
		src = dst;
		dst = t;
	}
	if (src != keys)
		memcpy(keys, src, n * sizeof(*keys));
}

/* Sorts names[0..n) by name_cmp, stably, and flag[] along with them. Returns 0, or -1 on
 * ENOMEM (nothing moved). */
static int sort_names(struct ir_name *names, bool *flag, size_t n)
{
	struct name_key *keys = malloc(n * sizeof(*keys)), *tmp = malloc(n * sizeof(*tmp));
	if (!keys || !tmp) {
		free(keys);
		free(tmp);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t head = 0;
		const unsigned char *c = (const unsigned char *)names[i].name;
		for (int k = 0; k < 8; k++, c += *c != 0)
			head = head << 8 | *c;
		keys[i] = (struct name_key){ head, i };
	}
	radix_sort_heads(keys, tmp, n);
	/* Equal heads (names that share their first eight bytes) are ordered in full. */
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && keys[j].head == keys[i].head; j++)
			;
		if (j - i > 1)
			qsort_r(keys + i, j - i, sizeof(*keys), name_key_cmp, names);
	}
	/* names[i] = old names[keys[i].index], in place, one permutation cycle at a time. */
	for (size_t i = 0; i < n; i++) {
		struct ir_name first = names[i];
		bool first_flag = flag[i];
		for (size_t j = i, from; keys[j].index != j; j = from) {
			from = keys[j].index;
			keys[j].index = j;
			names[j] = from == i ? first : names[from];
			flag[j] = from == i ? first_flag : flag[from];
		}
	}
	free(keys);
	free(tmp);
	return 0;
}

/* Gives the sorted names texts of the policy's own, laid out in their order: whatever
 * reads them next (redundancy, the matcher, the backends) reads memory in sequence. The
 * texts they had are the resolver's scratch. */
static int intern_names(struct resolver *r, struct ir_name *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!(names[i].name = arena_strdup(&r->p->arena, names[i].name)))
			return -1;
	return 0;
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

/* The wildcard bases of a sorted name list, hashed: whether a name is covered is then one
 * probe per label, and the binary search (which picks the keeper the warning names) runs
 * only for the few names that are. */
struct base_slot {
	uint64_t hash;		/* compared first: a probe reads a string only when it matches */
	const char *base;	/* NULL: an empty slot */
};

struct base_set {
	struct base_slot *v;	/* open addressing */
	size_t mask;
};

static uint64_t base_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* The slot of base: where it is, or the empty one where it would go. */
static struct base_slot *base_slot(const struct base_set *b, const char *base, uint64_t h)
{
	size_t i = (size_t)h & b->mask;
	while (b->v[i].base && (b->v[i].hash != h || strcmp(b->v[i].base, base)))
		i = (i + 1) & b->mask;
	return &b->v[i];
}

static bool base_set_has(const struct base_set *b, const char *base)
{
	return base_slot(b, base, base_hash(base))->base != NULL;
}

static int base_set_init(struct base_set *b, const struct ir_name *names, size_t n)
{
	size_t wildcards = 0, cap = 16;
	for (size_t i = 0; i < n; i++)
		wildcards += names[i].kind == NAME_WILDCARD;
	while (cap < 2 * wildcards)
		cap *= 2;
	b->mask = cap - 1;
	if (!(b->v = calloc(cap, sizeof(*b->v))))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (names[i].kind == NAME_WILDCARD) {
			uint64_t h = base_hash(names[i].name);
			*base_slot(b, names[i].name, h) = (struct base_slot){ h, names[i].name };
		}
	return 0;
}

/* Whether a wildcard's base is a proper suffix of name. */
static bool below_a_base(const struct base_set *b, const char *name)
{
	for (const char *dot = strchr(name, '.'); dot; dot = strchr(dot + 1, '.'))
		if (base_set_has(b, dot + 1))
			return true;
	return false;
}

/* A wildcard that covers n: one whose base is a proper suffix of n's name. */
static const struct ir_name *covering_wildcard(const struct base_set *b, const struct ir_name *names, size_t count,
					       const struct ir_name *n)
{
	for (const char *dot = strchr(n->name, '.'); dot; dot = strchr(dot + 1, '.'))
		if (base_set_has(b, dot + 1))
			return find_wildcard(names, count, dot + 1);
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

static struct loc flat_loc(const struct resolver *r, const struct flat_elem *e)
{
	return (struct loc){ r->file, e->line, e->col };
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
			names[n++] = (struct ir_name){ v[i].name, v[i].name_kind, flat_loc(r, &v[i]), v[i].included, NULL };
	struct base_set bases = { 0 };
	bool *covered = calloc(n, sizeof(*covered)), *drop = calloc(n, sizeof(*drop));
	int ret = -1;
	if (!covered || !drop || base_set_init(&bases, names, n) < 0)
		goto out;
	/* Asked in file order, while the texts are read in the order they were written. */
	for (size_t i = 0; i < n; i++)
		covered[i] = below_a_base(&bases, names[i].name);
	if (sort_names(names, covered, n) < 0 || intern_names(r, names, n) < 0)
		goto out;
	/* Mark, then compact: covering_wildcard must search the complete sorted list. */
	/* Copies of one name are adjacent and share their fate: all covered by a wildcard,
	 * or the first kept and the others repeats of it. */
	for (size_t i = 0; i < n; i++) {
		const struct ir_name *w = covered[i] ? covering_wildcard(&bases, names, n, &names[i]) : NULL;
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
	out->names = names;
	out->n_names = kept;
	ret = 0;
out:
	free(covered);
	free(drop);
	free(bases.v);
	return ret;
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
			diag_warn(r->d, "duplicate-element", flat_loc(r, &v[i]), "regex ~\"%s\" in set '%s' repeats the one at %s:%u",
				     v[i].pattern, out->name, res[j].loc.file, res[j].loc.line);
		}
		if (j < n)
			continue;
		res[n++] = (struct ir_regex){ v[i].pattern, flat_loc(r, &v[i]), included };
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
	if (build_prefixes(r, w, out) < 0 || build_names(r, &w->flat, out) < 0 ||
	    build_regexes(r, &w->flat, out) < 0) {
		r->oom = true;
		return -1;
	}
	return 0;
}
