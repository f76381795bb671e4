/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nft_netlink_delta.c — what turns the kernel's ruleset into the wanted one, and the batch
 * that does it. Elements are compared prefix by prefix, rules by the fingerprint they
 * carry, chains and sets by their properties: nothing that names a rules-file line, so an
 * edit that moves lines sends only what it changed (pinhole(8), KERNEL OBJECTS). */
#include "nft_netlink_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int nk_prefix_cmp(const struct prefix *a, const struct prefix *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	int c = addr_cmp(a->addr, b->addr);
	return c ? c : (a->len > b->len) - (a->len < b->len);
}

static bool index_push(size_t **v, size_t *n, size_t *cap, size_t i)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 64;
		size_t *nv = realloc(*v, c * sizeof(**v));
		if (!nv)
			return false;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = i;
	return true;
}

/* A merge walk over two ascending element lists: a prefix in both stays as it is, whatever
 * comment an older pinhole or another writer gave it. */
static int elems_delta(struct nk_set_delta *sd)
{
	const struct nk_set *w = sd->want, *h = sd->have;
	size_t i = 0, j = 0, cap_add = 0, cap_del = 0;
	bool ok = true;
	while (ok && (i < w->n_elems || j < h->n_elems)) {
		int c = i == w->n_elems ? 1 : j == h->n_elems ? -1 : nk_prefix_cmp(&w->elems[i].prefix, &h->elems[j].prefix);
		if (c < 0) {
			ok = index_push(&sd->add, &sd->n_add, &cap_add, i++);
		} else if (c > 0) {
			ok = index_push(&sd->del, &sd->n_del, &cap_del, j++);
		} else {
			i++;
			j++;
		}
	}
	return ok ? 0 : -1;
}

static bool set_compatible(const struct nk_set *w, const struct nk_set *h)
{
	return w->flags == h->flags && w->key_type == h->key_type && w->key_len == h->key_len;
}

static bool same_comment(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static int set_delta(const struct nk_set *w, const struct nk_set *h, struct nk_set_delta *sd)
{
	*sd = (struct nk_set_delta){ .want = w, .have = h, .action = NK_KEEP };
	bool dynamic = w->kind >= KSET_DNS_V4;
	if (!h) {
		sd->action = NK_CREATE;
	} else if (h->foreign) {
		sd->refused = true;	/* sets-only: the user's set, and not one pinhole may fill */
		return 0;
	} else if (!set_compatible(w, h)) {
		sd->action = NK_RECREATE;
	} else if (!same_comment(w->comment, h->comment) && !h->adopted) {
		/* Set userdata cannot change in place, and a comment is not what the set
		 * matches: recreating 100,000 elements to rename a file in it would be absurd. */
		sd->stale_comment = true;
	}
	if (sd->action == NK_KEEP && !dynamic)
		return elems_delta(sd);
	return 0;
}

static bool chain_compatible(const struct nk_chain *w, const struct nk_chain *h)
{
	return w->base == h->base && w->hooknum == h->hooknum && w->priority == h->priority &&
	       w->policy == h->policy && !strcmp(w->type ? w->type : "", h->type ? h->type : "");
}

static bool same_rules(const struct nk_chain *w, const struct nk_chain *h)
{
	if (w->n_rules != h->n_rules)
		return false;
	for (size_t i = 0; i < w->n_rules; i++)
		if (w->rules[i].fingerprint != h->rules[i].fingerprint)
			return false;
	return true;
}

static const struct nk_chain *find_chain(const struct nk_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->n_chains; i++)
		if (!strcmp(rs->chains[i].name, name))
			return &rs->chains[i];
	return NULL;
}

/* pinhole guard's steering chains (nk_is_guard_chain) live in pinhole's table but are
 * the guard's: apply leaves them, unless a learnt set their rules use has to be made again
 * (the guard installs them again within a second). */

static void chains_delta(const struct nk_ruleset *want, const struct nk_ruleset *have, bool sets_rebuilt,
			 bool learnt_rebuilt, struct nk_delta *d)
{
	for (size_t i = 0; i < want->n_chains; i++) {
		const struct nk_chain *w = &want->chains[i], *h = have->table_exists ? find_chain(have, w->name) : NULL;
		enum nk_action a = NK_KEEP;
		if (!h)
			a = NK_CREATE;
		else if (!chain_compatible(w, h))
			a = NK_RECREATE;
		/* a set is deleted only once no rule references it: rules go first, come back after */
		else if (!same_rules(w, h) || (sets_rebuilt && h->n_rules))
			a = NK_REWRITE;
		d->chains[d->n_chains++] = (struct nk_chain_delta){ w, h, a };
	}
	for (size_t i = 0; have->table_exists && i < have->n_chains; i++) {
		const char *name = have->chains[i].name;
		if (!find_chain(want, name) && (!nk_is_guard_chain(name) || learnt_rebuilt))
			d->chains[d->n_chains++] = (struct nk_chain_delta){ NULL, &have->chains[i], NK_DELETE };
	}
}

static int empty_set(const struct nk_set *h, struct nk_set_delta *sd)
{
	size_t cap = 0;
	*sd = (struct nk_set_delta){ .have = h, .action = NK_KEEP };
	for (size_t i = 0; i < h->n_elems; i++)
		if (!index_push(&sd->del, &sd->n_del, &cap, i))
			return -1;
	return 0;
}

static int sets_delta(const struct nk_ruleset *want, const struct nk_ruleset *have, struct nk_delta *d)
{
	for (size_t i = 0; i < want->n_sets; i++) {
		const struct nk_set *h = have->table_exists ? nk_ruleset_find_set(have, want->sets[i].name) : NULL;
		if (set_delta(&want->sets[i], h, &d->sets[d->n_sets++]) < 0)
			return -1;
	}
	for (size_t i = 0; have->table_exists && i < have->n_sets; i++) {
		const struct nk_set *h = &have->sets[i];
		/* sets-only mode: other sets of the user's table are none of pinhole's business */
		if (nk_ruleset_find_set(want, h->name) || (want->mode == NK_MODE_SETS_ONLY && h->foreign))
			continue;
		if (h->adopted) {
			/* the user's set: pinhole takes back only the elements it put there */
			if (h->kind <= KSET_V6 && empty_set(h, &d->sets[d->n_sets++]) < 0)
				return -1;
			continue;
		}
		d->sets[d->n_sets++] = (struct nk_set_delta){ .have = h, .action = NK_DELETE };
	}
	return 0;
}

static void count_changes(struct nk_delta *d)
{
	d->n_changes = d->create_table + d->remake_table;
	for (size_t i = 0; i < d->n_sets; i++)
		d->n_changes += (d->sets[i].action != NK_KEEP) + d->sets[i].n_add + d->sets[i].n_del + d->sets[i].refused;
	for (size_t i = 0; i < d->n_chains; i++)
		d->n_changes += d->chains[i].action != NK_KEEP;
}

int nk_delta_compute(const struct nk_ruleset *want, const struct nk_ruleset *have, struct nk_delta *out)
{
	memset(out, 0, sizeof(*out));
	out->want = want;
	out->have = have;
	/* an empty table by pinhole's name, without its mark, is made again with it */
	out->remake_table = want->mode == NK_MODE_TABLE && have->table_exists && !have->table_marked && have->table_empty;
	out->create_table = want->mode == NK_MODE_TABLE && (!have->table_exists || out->remake_table);
	out->sets = calloc(want->n_sets + have->n_sets + 1, sizeof(*out->sets));
	out->chains = calloc(want->n_chains + have->n_chains + 1, sizeof(*out->chains));
	if (!out->sets || !out->chains || sets_delta(want, have, out) < 0) {
		nk_delta_free(out);
		errno = ENOMEM;
		return -1;
	}
	bool rebuilt = false, learnt = false;
	for (size_t i = 0; i < out->n_sets; i++) {
		const struct nk_set_delta *sd = &out->sets[i];
		bool gone = sd->action == NK_DELETE || sd->action == NK_RECREATE;
		const struct nk_set *set = sd->want ? sd->want : sd->have;
		rebuilt |= gone;
		learnt |= gone && set->kind >= KSET_DNS_V4;
	}
	if (want->mode == NK_MODE_TABLE)
		chains_delta(want, have, rebuilt, learnt, out);
	count_changes(out);
	return 0;
}

void nk_delta_free(struct nk_delta *d)
{
	if (!d)
		return;
	for (size_t i = 0; d->sets && i < d->n_sets; i++) {
		free(d->sets[i].add);
		free(d->sets[i].del);
	}
	free(d->sets);
	free(d->chains);
	memset(d, 0, sizeof(*d));
}

size_t nk_delta_elems_added(const struct nk_delta *d)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n_sets; i++) {
		const struct nk_set_delta *s = &d->sets[i];
		bool all = s->action == NK_CREATE || s->action == NK_RECREATE;
		n += all ? s->want->n_elems : s->n_add;
	}
	return n;
}

size_t nk_delta_elems_deleted(const struct nk_delta *d)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n_sets; i++)
		n += d->sets[i].n_del;
	return n;
}

/* ---- the batch ---- */

static bool drops_rules(enum nk_action a)
{
	return a == NK_DELETE || a == NK_RECREATE || a == NK_REWRITE;
}

static bool makes_rules(enum nk_action a)
{
	return a == NK_CREATE || a == NK_RECREATE || a == NK_REWRITE;
}

static void batch_removals(struct nl_batch *b, const struct nk_delta *d)
{
	const struct nk_ruleset *have = d->have;
	for (size_t i = 0; i < d->n_chains; i++) {
		const struct nk_chain_delta *c = &d->chains[i];
		for (size_t k = 0; c->have && drops_rules(c->action) && k < c->have->n_rules; k++)
			nl_msg_rule_del(b, have, c->have, &c->have->rules[k]);
	}
	for (size_t i = 0; i < d->n_chains; i++)
		if (d->chains[i].action == NK_DELETE || d->chains[i].action == NK_RECREATE)
			nl_msg_chain_del(b, have, d->chains[i].have);
	for (size_t i = 0; i < d->n_sets; i++)
		if (d->sets[i].action == NK_DELETE || d->sets[i].action == NK_RECREATE)
			nl_msg_set_del(b, have, d->sets[i].have);
}

static void batch_sets(struct nl_batch *b, const struct nk_delta *d, struct nl_set_ids *ids)
{
	for (size_t i = 0; i < d->n_sets; i++) {
		const struct nk_set_delta *s = &d->sets[i];
		if (s->action == NK_CREATE || s->action == NK_RECREATE) {
			uint32_t id = nl_msg_set_add(b, d->want, s->want);
			ids->names[ids->n] = s->want->name;
			ids->ids[ids->n++] = id;
			if (s->want->kind < KSET_DNS_V4)
				nl_msg_elems(b, d->want, s->want, id, NULL, s->want->n_elems, false);
		} else if (s->action == NK_KEEP) {
			/* deletions first: a prefix split in two must leave room for its halves */
			nl_msg_elems(b, d->have, s->have, 0, s->del, s->n_del, true);
			nl_msg_elems(b, d->want, s->want, 0, s->add, s->n_add, false);
		}
	}
}

static void batch_chains(struct nl_batch *b, const struct nk_delta *d, const struct nl_set_ids *ids)
{
	for (size_t i = 0; i < d->n_chains; i++)
		if (d->chains[i].action == NK_CREATE || d->chains[i].action == NK_RECREATE)
			nl_msg_chain_add(b, d->want, d->chains[i].want);
	for (size_t i = 0; i < d->n_chains; i++) {
		const struct nk_chain_delta *c = &d->chains[i];
		for (size_t k = 0; c->want && makes_rules(c->action) && k < c->want->n_rules; k++)
			nl_msg_rule_add(b, d->want, c->want, &c->want->rules[k], ids);
	}
}

int nl_batch_from_delta(struct nl_batch *b, const struct nk_delta *d, uint32_t genid, bool check_only)
{
	struct nl_set_ids ids = { .names = calloc(d->n_sets + 1, sizeof(char *)),
				  .ids = calloc(d->n_sets + 1, sizeof(uint32_t)) };
	if (!ids.names || !ids.ids) {
		b->failed = true;
		b->error = ENOMEM;
	}
	nl_batch_begin(b, genid);
	if (d->remake_table)
		nl_msg_table_del(b, d->have);
	if (d->create_table)
		nl_msg_table_add(b, d->want);
	batch_removals(b, d);
	if (ids.names && ids.ids)
		batch_sets(b, d, &ids);
	batch_chains(b, d, &ids);
	/* Without BATCH_END the kernel runs every message, validates, and aborts: nft -c. */
	if (!check_only)
		nl_batch_end(b);
	free(ids.names);
	free(ids.ids);
	return b->failed ? -1 : 0;
}
