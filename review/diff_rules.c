/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diff_rules.c — rules added, removed and changed. Rules are compared as what they allow:
 * the rules of one (direction, set, protocol) are merged first (ports united, duplicates
 * gone), so splitting "tcp port { 80, 443 }" into two rules, or repeating one, is no change. */
#include "diff_internal.h"

#include <stdlib.h>
#include <string.h>

/* One (direction, set, protocol) of a policy and everything its rules allow. */
struct rule_group {
	const struct ir_rule *rule;	/* the first rule, or a merged copy in the diff's arena */
	const char *set;		/* the set's name in the new policy */
	bool paired;
};

static bool ports_all(const struct ir_rule *r)
{
	return r->n_ports == 0;
}

static int port_cmp(const void *a, const void *b)
{
	const struct port_range *x = a, *y = b;
	return x->lo != y->lo ? (x->lo < y->lo ? -1 : 1) : (x->hi > y->hi) - (x->hi < y->hi);
}

/* Sorts and merges overlapping and adjacent ranges in place; returns the new count. */
static size_t ports_normalize(struct port_range *v, size_t n)
{
	size_t m = 0;
	qsort(v, n, sizeof(*v), port_cmp);
	for (size_t i = 0; i < n; i++) {
		if (m && (unsigned)v[i].lo <= (unsigned)v[m - 1].hi + 1) {
			if (v[i].hi > v[m - 1].hi)
				v[m - 1].hi = v[i].hi;
			continue;
		}
		v[m++] = v[i];
	}
	return m;
}

/* Unites r's ports into the group's rule, copying it into the arena on the first merge. */
static int group_merge(struct arena *ar, struct rule_group *g, const struct ir_rule *r)
{
	const struct ir_rule *first = g->rule;
	struct ir_rule *merged = arena_alloc(ar, sizeof(*merged));
	size_t n = ports_all(first) || ports_all(r) ? 0 : first->n_ports + r->n_ports;
	struct port_range *ports = arena_alloc(ar, (n ? n : 1) * sizeof(*ports));
	if (!merged || !ports)
		return -1;
	*merged = *first;
	if (n) {
		memcpy(ports, first->ports, first->n_ports * sizeof(*ports));
		memcpy(ports + first->n_ports, r->ports, r->n_ports * sizeof(*ports));
		n = ports_normalize(ports, n);
	}
	merged->ports = n ? ports : NULL;
	merged->n_ports = n;
	g->rule = merged;
	return 0;
}

/* Rules for different clients (allow out from @X) are different rules: a scope is compared
 * by name; none means every client. */
static bool same_scope(const struct ir_rule *a, const struct ir_rule *b)
{
	return a->scope == NULL ? b->scope == NULL : b->scope && !strcmp(a->scope->name, b->scope->name);
}

static int build_groups(struct arena *ar, const struct policy *p, const char *const *set_name, struct vec *groups)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct ir_rule *r = &p->rules[i];
		const char *set = set_name ? set_name[r->set - p->sets] : r->set->name;
		struct rule_group *g = groups->v;
		size_t k = 0;
		while (k < groups->n && !(g[k].rule->dir == r->dir && g[k].rule->proto == r->proto &&
					  same_scope(g[k].rule, r) && !strcmp(g[k].set, set)))
			k++;
		if (k < groups->n) {
			if (group_merge(ar, &g[k], r) < 0)
				return -1;
			continue;
		}
		struct rule_group *slot = vec_push(groups, sizeof(*slot));
		if (!slot)
			return -1;
		*slot = (struct rule_group){ r, set, false };
	}
	return 0;
}

static bool ports_equal(const struct ir_rule *a, const struct ir_rule *b)
{
	if (a->n_ports != b->n_ports)
		return false;
	for (size_t i = 0; i < a->n_ports; i++)
		if (a->ports[i].lo != b->ports[i].lo || a->ports[i].hi != b->ports[i].hi)
			return false;
	return true;
}

/* The pairing passes, strictest first: identical; same direction, set and protocol (ports
 * changed); same direction and set; same set, protocol and ports (direction changed); set. */
enum { PAIR_SAME, PAIR_DIR_SET_PROTO, PAIR_DIR_SET, PAIR_SET_PROTO_PORTS, PAIR_SET, PAIR_LEVELS };

static bool pairs_at(int level, const struct rule_group *o, const struct rule_group *n)
{
	const struct ir_rule *a = o->rule, *b = n->rule;
	bool dir = a->dir == b->dir, proto = a->proto == b->proto, ports = ports_equal(a, b);
	if (strcmp(o->set, n->set))
		return false;
	switch (level) {
	case PAIR_SAME: return dir && proto && ports && same_scope(a, b);
	case PAIR_DIR_SET_PROTO: return dir && proto;
	case PAIR_DIR_SET: return dir;
	case PAIR_SET_PROTO_PORTS: return proto && ports;
	default: return true;
	}
}

/* Every port of a within the ports of b (both normalized; none means every port). */
static bool ports_within(const struct ir_rule *a, const struct ir_rule *b)
{
	if (ports_all(b))
		return true;
	if (ports_all(a))
		return false;
	size_t j = 0;
	for (size_t i = 0; i < a->n_ports; i++) {
		while (j < b->n_ports && b->ports[j].hi < a->ports[i].lo)
			j++;
		if (j == b->n_ports || b->ports[j].lo > a->ports[i].lo || b->ports[j].hi < a->ports[i].hi)
			return false;
	}
	return true;
}

/* Whether the old rules already allowed everything that new group g allows. */
static bool covered_by_old(const struct rule_group *g, const struct rule_group *old, size_t n_old)
{
	for (size_t i = 0; i < n_old; i++) {
		const struct ir_rule *o = old[i].rule;
		if (o->dir != g->rule->dir || strcmp(old[i].set, g->set) || (o->scope && !same_scope(o, g->rule)))
			continue;
		if (o->proto == PROTO_ANY || (o->proto == g->rule->proto && ports_within(g->rule, o)))
			return true;
	}
	return false;
}

/* a minus b as port ranges, into the arena (both normalized and explicit). */
static int ports_subtract(struct arena *ar, const struct ir_rule *a, const struct ir_rule *b,
			  struct port_range **out, size_t *n)
{
	struct port_range *v = arena_alloc(ar, (a->n_ports + b->n_ports + 1) * sizeof(*v));
	if (!v)
		return -1;
	*n = 0;
	for (size_t i = 0; i < a->n_ports; i++) {
		unsigned cur = a->ports[i].lo, hi = a->ports[i].hi;
		for (size_t j = 0; j < b->n_ports && cur <= hi; j++) {
			if (b->ports[j].hi < cur || b->ports[j].lo > hi)
				continue;
			if (b->ports[j].lo > cur)
				v[(*n)++] = (struct port_range){ (uint16_t)cur, (uint16_t)(b->ports[j].lo - 1) };
			cur = (unsigned)b->ports[j].hi + 1;
		}
		if (cur <= hi)
			v[(*n)++] = (struct port_range){ (uint16_t)cur, (uint16_t)hi };
	}
	*out = *n ? v : NULL;
	return 0;
}

static int changed_rule(struct arena *ar, const struct ir_rule *o, const struct ir_rule *n, struct rule_diff *rd)
{
	rd->change = RULE_CHANGED;
	rd->old_rule = o;
	rd->new_rule = n;
	rd->what = (o->dir != n->dir ? RULE_DIFF_DIRECTION : 0) | (o->proto != n->proto ? RULE_DIFF_PROTOCOL : 0) |
		   (!ports_equal(o, n) ? RULE_DIFF_PORTS : 0) | (!same_scope(o, n) ? RULE_DIFF_SCOPE : 0);
	if (!(rd->what & RULE_DIFF_PORTS) || ports_all(o) || ports_all(n))
		return 0;
	if (ports_subtract(ar, n, o, &rd->ports_added, &rd->n_ports_added) < 0)
		return -1;
	return ports_subtract(ar, o, n, &rd->ports_removed, &rd->n_ports_removed);
}

static long find_pair(struct rule_group *old, size_t n_old, const struct rule_group *g, int level)
{
	for (size_t j = 0; j < n_old; j++)
		if (!old[j].paired && pairs_at(level, &old[j], g))
			return (long)j;
	return -1;
}

/* pair[i]: the old group new group i pairs with, or -1; identical pairs are marked -2. */
static void pair_groups(struct rule_group *old, size_t n_old, struct rule_group *new, size_t n_new, long *pair)
{
	for (size_t i = 0; i < n_new; i++)
		pair[i] = -1;
	for (int level = PAIR_SAME; level < PAIR_LEVELS; level++) {
		for (size_t i = 0; i < n_new; i++) {
			long j = new[i].paired ? -1 : find_pair(old, n_old, &new[i], level);
			if (j < 0)
				continue;
			old[j].paired = new[i].paired = true;
			pair[i] = level == PAIR_SAME ? -2 : j;
		}
	}
}

static struct rule_diff *push_rule(struct vec *out)
{
	return vec_push(out, sizeof(struct rule_diff));
}

static int collect(struct policy_diff *d, struct rule_group *old, size_t n_old, struct rule_group *new,
		   size_t n_new, const long *pair, struct vec *out)
{
	for (size_t i = 0; i < n_new; i++) {
		if (pair[i] == -2)
			continue;
		struct rule_diff *rd = push_rule(out);
		if (!rd)
			return -1;
		if (pair[i] >= 0 && changed_rule(&d->arena, old[pair[i]].rule, new[i].rule, rd) < 0)
			return -1;
		if (pair[i] < 0)
			*rd = (struct rule_diff){ .change = RULE_ADDED, .new_rule = new[i].rule };
		rd->widening = !covered_by_old(&new[i], old, n_old);
	}
	for (size_t j = 0; j < n_old; j++) {
		struct rule_diff *rd = old[j].paired ? NULL : push_rule(out);
		if (!old[j].paired && !rd)
			return -1;
		if (rd)
			*rd = (struct rule_diff){ .change = RULE_REMOVED, .old_rule = old[j].rule };
	}
	return 0;
}

int diff_rules(struct policy_diff *d, const struct policy *old, const struct policy *new, const char *const *old_set_map)
{
	struct vec og = { 0 }, ng = { 0 }, out = { 0 };
	long *pair = NULL;
	int ret = -1;
	if (build_groups(&d->arena, old, old_set_map, &og) < 0 || build_groups(&d->arena, new, NULL, &ng) < 0)
		goto out;
	pair = malloc((ng.n ? ng.n : 1) * sizeof(*pair));
	if (!pair)
		goto out;
	pair_groups(og.v, og.n, ng.v, ng.n, pair);
	if (collect(d, og.v, og.n, ng.v, ng.n, pair, &out) < 0 ||
	    diff_arena_copy(&d->arena, &out, sizeof(struct rule_diff), (void **)&d->rules) < 0)
		goto out;
	d->n_rules = out.n;
	ret = 0;
out:
	free(pair);
	vec_free(&og);
	vec_free(&ng);
	vec_free(&out);
	return ret;
}
