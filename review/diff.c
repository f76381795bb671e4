/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diff.c — the semantic diff of two policies: sets matched by name (renames found by
 * content), each set's change computed in diff_sets.c, rules paired in diff_rules.c. */
#include "diff_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int diff_arena_copy(struct arena *a, const struct vec *v, size_t elem, void **out)
{
	*out = NULL;
	if (v->n == 0)
		return 0;
	*out = arena_alloc(a, v->n * elem);
	if (!*out)
		return -1;
	memcpy(*out, v->v, v->n * elem);
	return 0;
}

void addr_count_add_pow2(struct addr_count *c, unsigned k)
{
	uint64_t hi = k >= 64 && k < 128 ? (uint64_t)1 << (k - 64) : 0, lo = k < 64 ? (uint64_t)1 << k : 0;
	uint64_t sum_lo = c->lo + lo;
	uint64_t carry = sum_lo < c->lo;
	uint64_t sum_hi = c->hi + hi + carry;
	/* 2^128 itself (::/0) or a wrap past it cannot be held: saturate. */
	if (k >= 128 || c->saturated || sum_hi < c->hi || (carry && sum_hi == c->hi)) {
		*c = (struct addr_count){ UINT64_MAX, UINT64_MAX, true };
		return;
	}
	c->hi = sum_hi;
	c->lo = sum_lo;
}

void addr_count_add_prefix(struct addr_count *c, const struct prefix *p)
{
	addr_count_add_pow2(c, (p->family == FAMILY_V4 ? 32u : 128u) - p->len);
}

static bool rule_uses(const struct policy *p, const struct ir_set *s)
{
	for (size_t i = 0; i < p->n_rules; i++)
		if (p->rules[i].set == s)
			return true;
	return false;
}

static bool set_diff_empty(const struct set_diff *sd)
{
	return !sd->addresses.n_added && !sd->addresses.n_removed && !sd->names.n_added && !sd->names.n_removed &&
	       !sd->regexes.n_added && !sd->regexes.n_removed;
}

/* The old set a new set is the same as under another name: unmatched by name on both
 * sides, same content. Index into old->sets, or -1. */
static long find_rename(const struct policy *old, const struct policy *new, const struct ir_set *s, const bool *taken)
{
	if (policy_find_set(old, s->name))
		return -1;
	for (size_t j = 0; j < old->n_sets; j++)
		if (!taken[j] && !policy_find_set(new, old->sets[j].name) && diff_set_same_content(&old->sets[j], s))
			return (long)j;
	return -1;
}

/* Diffs new set s against its old counterpart (by name or rename) and appends the result
 * when anything changed. taken marks old sets that found a counterpart. */
static int diff_one_set(struct policy_diff *d, const struct policy *old, const struct policy *new,
			const struct ir_set *s, bool *taken, const char **old_set_map, struct vec *out)
{
	const struct ir_set *o = policy_find_set(old, s->name);
	long r = o ? o - old->sets : find_rename(old, new, s, taken);
	struct set_diff sd = { .change = SET_CHANGED, .name = s->name, .loc = s->loc, .used = rule_uses(new, s) };
	if (r >= 0) {
		o = &old->sets[r];
		taken[r] = true;
		old_set_map[r] = s->name;
		sd.old_loc = o->loc;
	} else {
		sd.change = SET_ADDED;
	}
	if (o && o != policy_find_set(old, s->name)) {
		sd.change = SET_RENAMED;
		sd.old_name = o->name;
	} else if (diff_set_content(d, o, s, &sd) < 0) {
		return -1;
	}
	if (sd.change == SET_CHANGED && set_diff_empty(&sd))
		return 0;
	struct set_diff *slot = vec_push(out, sizeof(sd));
	if (!slot)
		return -1;
	*slot = sd;
	return 0;
}

static int diff_removed_set(struct policy_diff *d, const struct policy *old, const struct ir_set *o, struct vec *out)
{
	struct set_diff sd = { .change = SET_REMOVED, .name = o->name, .loc = o->loc, .old_loc = o->loc,
			       .used = rule_uses(old, o) };
	if (diff_set_content(d, o, NULL, &sd) < 0)
		return -1;
	struct set_diff *slot = vec_push(out, sizeof(sd));
	if (!slot)
		return -1;
	*slot = sd;
	return 0;
}

static int diff_sets(struct policy_diff *d, const struct policy *old, const struct policy *new, const char **old_set_map)
{
	struct vec out = { 0 };
	bool *taken = calloc(old->n_sets + 1, sizeof(*taken));
	int ret = -1;
	if (!taken)
		goto out;
	for (size_t j = 0; j < old->n_sets; j++)
		old_set_map[j] = old->sets[j].name;
	for (size_t i = 0; i < new->n_sets; i++)
		if (diff_one_set(d, old, new, &new->sets[i], taken, old_set_map, &out) < 0)
			goto out;
	for (size_t j = 0; j < old->n_sets; j++)
		if (!taken[j] && diff_removed_set(d, old, &old->sets[j], &out) < 0)
			goto out;
	if (diff_arena_copy(&d->arena, &out, sizeof(struct set_diff), (void **)&d->sets) < 0)
		goto out;
	d->n_sets = out.n;
	ret = 0;
out:
	free(taken);
	vec_free(&out);
	return ret;
}

static bool str_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b));
}

/* The interfaces of a that b lacks, into the arena. */
static int deny_minus(struct arena *ar, const struct policy *a, const struct policy *b, const char ***out, size_t *n)
{
	*n = 0;
	*out = arena_alloc(ar, (a->n_deny_ifaces + 1) * sizeof(**out));
	if (!*out)
		return -1;
	for (size_t i = 0; i < a->n_deny_ifaces; i++) {
		size_t k = 0;
		while (k < b->n_deny_ifaces && strcmp(a->deny_ifaces[i], b->deny_ifaces[k]))
			k++;
		if (k == b->n_deny_ifaces)
			(*out)[(*n)++] = a->deny_ifaces[i];
	}
	return 0;
}

/* The interfaces on both sides whose reject flag differs, with the new flag. */
static int deny_how_changed(struct policy_diff *d, const struct policy *old, const struct policy *new)
{
	d->n_deny_changed = 0;
	d->deny_changed = arena_alloc(&d->arena, (new->n_deny_ifaces + 1) * sizeof(*d->deny_changed));
	d->deny_rejects = arena_alloc(&d->arena, (new->n_deny_ifaces + 1) * sizeof(*d->deny_rejects));
	if (!d->deny_changed || !d->deny_rejects)
		return -1;
	for (size_t i = 0; i < new->n_deny_ifaces; i++)
		for (size_t k = 0; k < old->n_deny_ifaces; k++)
			if (!strcmp(new->deny_ifaces[i], old->deny_ifaces[k]) && new->deny_reject[i] != old->deny_reject[k]) {
				d->deny_changed[d->n_deny_changed] = new->deny_ifaces[i];
				d->deny_rejects[d->n_deny_changed++] = new->deny_reject[i];
			}
	return 0;
}

static int diff_options(struct policy_diff *d, const struct policy *old, const struct policy *new)
{
	if (str_differs(old->table, new->table)) {
		d->old_table = old->table ? old->table : "";
		d->new_table = new->table ? new->table : "";
	}
	d->priority_changed = old->priority != new->priority;
	d->old_priority = old->priority;
	d->new_priority = new->priority;
	d->mode_changed = old->mode != new->mode;
	d->old_mode = old->mode;
	d->new_mode = new->mode;
	if (deny_minus(&d->arena, new, old, &d->deny_added, &d->n_deny_added) < 0 ||
	    deny_how_changed(d, old, new) < 0)
		return -1;
	return deny_minus(&d->arena, old, new, &d->deny_removed, &d->n_deny_removed);
}

static void diff_widening(struct policy_diff *d)
{
	for (size_t i = 0; i < d->n_sets; i++)
		d->widening |= d->sets[i].widening;
	for (size_t i = 0; i < d->n_rules; i++)
		d->widening |= d->rules[i].widening;
	d->widening |= d->n_deny_removed > 0;
}

struct policy_diff *policy_diff_compute(const struct policy *old, const struct policy *new)
{
	struct policy_diff *d = calloc(1, sizeof(*d));
	const char **old_set_map = calloc(old->n_sets + 1, sizeof(*old_set_map));
	if (!d || !old_set_map || policy_diff_label(d, "old", "new") < 0 || diff_sets(d, old, new, old_set_map) < 0 ||
	    diff_rules(d, old, new, old_set_map) < 0 || diff_options(d, old, new) < 0) {
		policy_diff_free(d);
		d = NULL;
		goto out;
	}
	diff_widening(d);
out:
	free(old_set_map);
	return d;
}

int policy_diff_label(struct policy_diff *d, const char *old_label, const char *new_label)
{
	const char *o = arena_strdup(&d->arena, old_label), *n = arena_strdup(&d->arena, new_label);
	if (!o || !n)
		return -1;
	d->old_label = o;
	d->new_label = n;
	return 0;
}

const char *policy_mode_name(enum policy_mode m)
{
	return m == POLICY_MODE_SETS_ONLY ? "sets-only" : "table";
}

bool policy_diff_empty(const struct policy_diff *d)
{
	return d->n_sets == 0 && d->n_rules == 0 && !d->old_table && !d->priority_changed && !d->mode_changed &&
	       !d->n_deny_added && !d->n_deny_removed && !d->n_deny_changed;
}

bool policy_diff_widens(const struct policy_diff *d)
{
	return d->widening;
}

void policy_diff_free(struct policy_diff *d)
{
	if (!d)
		return;
	arena_free(&d->arena);
	free(d);
}

/* Divides the 128-bit value in 32-bit limbs (most significant first) by 10 in place;
 * returns the remainder. */
static unsigned limbs_div10(uint32_t limb[4])
{
	uint64_t rem = 0;
	for (int i = 0; i < 4; i++) {
		uint64_t cur = rem << 32 | limb[i];
		limb[i] = (uint32_t)(cur / 10);
		rem = cur % 10;
	}
	return (unsigned)rem;
}

size_t addr_count_decimal(char *buf, const struct addr_count *c)
{
	uint32_t limb[4] = { (uint32_t)(c->hi >> 32), (uint32_t)c->hi, (uint32_t)(c->lo >> 32), (uint32_t)c->lo };
	char rev[40];
	size_t n = 0;
	do
		rev[n++] = (char)('0' + limbs_div10(limb));
	while (limb[0] | limb[1] | limb[2] | limb[3]);
	for (size_t i = 0; i < n; i++)
		buf[i] = rev[n - 1 - i];
	buf[n] = '\0';
	return n;
}

/* floor(log2(c)) for c > 0. */
static unsigned count_log2(const struct addr_count *c)
{
	return c->hi ? 127 - (unsigned)__builtin_clzll(c->hi) : 63 - (unsigned)__builtin_clzll(c->lo);
}

size_t addr_count_format(char *buf, const struct addr_count *c)
{
	if (c->saturated)
		return (size_t)snprintf(buf, ADDR_COUNT_TEXT_MAX, "2^128");
	if (c->hi == 0) {
		char digits[ADDR_COUNT_TEXT_MAX];
		size_t n = addr_count_decimal(digits, c), out = 0;
		for (size_t i = 0; i < n; i++) {
			if (i && (n - i) % 3 == 0)
				buf[out++] = ',';
			buf[out++] = digits[i];
		}
		buf[out] = '\0';
		return out;
	}
	unsigned k = count_log2(c);
	bool power = k >= 64 ? c->lo == 0 && (c->hi & (c->hi - 1)) == 0 : false;
	/* IPv6 counts are sums of powers of two; "more than 2^k" is what a reviewer can use. */
	return (size_t)snprintf(buf, ADDR_COUNT_TEXT_MAX, "%s2^%u", power ? "" : "more than ", k);
}
