/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nft_netlink_plan.c — from "what the policy wants" to "what to send": read the live
 * objects (cheap), take the elements from the last-applied state when the generation says
 * nobody touched the ruleset since, dump them otherwise, and compute the delta. */
#include "nft_netlink_sock_internal.h"

#include <errno.h>
#include <string.h>

static int read_missing_elems(struct nl_session *s, struct nk_ruleset *live)
{
	for (size_t i = 0; i < live->n_sets; i++) {
		struct nk_set *set = &live->sets[i];
		if (set->foreign || set->elems_known || (set->kind != KSET_V4 && set->kind != KSET_V6))
			continue;
		if (nl_set_read_elems(s, live, set) < 0)
			return -1;
	}
	return 0;
}

/* The dump of elements must be of the same generation as the objects: if someone commits
 * in between, read everything again. */
static int read_live(struct nl_session *s, const char *table, enum nk_mode mode, const struct nl_plan_opts *o,
		     struct nl_plan *plan)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		uint32_t after;
		if (nl_ruleset_read(s, table, mode, NL_READ_OBJECTS, &plan->live) < 0)
			return -1;
		plan->key.genid = plan->live.genid;
		plan->key.genid_min = 0;
		plan->from_cache = false;
		/* sets the user declared and pinhole filled before: pinhole's elements (item of
		 * pinhole(8), Table mode and sets-only mode) */
		if (mode == NK_MODE_SETS_ONLY && plan->cache_ok && plan->live.table_exists)
			nk_cache_adopt(o->dir, &plan->live, &plan->key);
		if (o->use_cache && plan->cache_ok && plan->live.table_exists) {
			/* pinhole guard's commits since the cache was written leave it valid */
			uint32_t since = nk_guard_gens_since(o->guard_generations, &plan->key, plan->live.genid);
			plan->key.genid_min = since != plan->live.genid ? since : 0;
			int used = nk_cache_load(o->dir, &plan->live, &plan->key);
			if (used < 0)
				return -1;
			plan->from_cache = used == 1;
		}
		if (read_missing_elems(s, &plan->live) < 0 || nl_genid(s, &after) < 0)
			return -1;
		if (after == plan->live.genid)
			return 0;
		nk_ruleset_free(&plan->live);
	}
	errno = EAGAIN;
	return -1;
}

/* Sets-only mode (nft_netlink.h): the user's declared sets that pinhole may fill. */
int nl_ruleset_adopt(struct nl_session *s, const struct nk_ruleset *want, struct nk_ruleset *live)
{
	for (size_t i = 0; i < live->n_sets; i++) {
		struct nk_set *set = &live->sets[i];
		const struct nk_set *w = nk_ruleset_find_set(want, set->name);
		if (!set->foreign || !w || set->flags != w->flags || set->key_len != w->key_len ||
		    set->key_type != w->key_type)
			continue;
		if (w->kind > KSET_V6) {	/* learnt sets: their elements are the guard's */
			set->foreign = false;
			set->adopted = true;
			continue;
		}
		if (nl_set_read_elems(s, live, set) < 0)
			return -1;
		set->foreign = set->n_elems != 0;
		set->adopted = !set->foreign;
	}
	return 0;
}

int nl_live_read(struct nl_session *s, const char *table, enum nk_mode mode, const struct nl_plan_opts *o,
		 struct nl_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	plan->cache_ok = nk_cache_key_now(s, &plan->key) == 0;
	if (read_live(s, table, mode, o, plan) == 0)
		return 0;
	int err = errno;
	nl_plan_free(plan);
	errno = err;
	return -1;
}

int nl_plan_make(struct nl_session *s, const struct nk_ruleset *want, const char *dir, bool use_cache,
		 struct nl_plan *plan)
{
	struct nl_plan_opts o = { .dir = dir, .use_cache = use_cache };
	return nl_plan_make_opts(s, want, &o, plan);
}

int nl_plan_make_opts(struct nl_session *s, const struct nk_ruleset *want, const struct nl_plan_opts *o,
		      struct nl_plan *plan)
{
	if (nl_live_read(s, want->table, want->mode, o, plan) < 0)
		return -1;
	if (want->mode == NK_MODE_SETS_ONLY && !plan->live.table_exists) {
		errno = ENOENT;
		goto fail;
	}
	if (want->mode == NK_MODE_TABLE && !nk_table_is_ours(&plan->live)) {
		errno = ENOTEMPTY;	/* someone's table by that name: table mode would replace it */
		goto fail;
	}
	if (want->mode == NK_MODE_SETS_ONLY && nl_ruleset_adopt(s, want, &plan->live) < 0)
		goto fail;
	if (nk_delta_compute(want, &plan->live, &plan->delta) < 0)
		goto fail;
	return 0;
fail:;
	int err = errno;
	nl_plan_free(plan);
	errno = err;
	return -1;
}

void nl_plan_free(struct nl_plan *plan)
{
	if (!plan)
		return;
	nk_delta_free(&plan->delta);
	nk_ruleset_free(&plan->live);
	memset(plan, 0, sizeof(*plan));
}

int nl_plan_remember(struct nl_session *s, const struct nl_plan *plan, const struct nk_ruleset *want,
		     const struct nl_result *res, const char *dir)
{
	struct nk_ruleset now = { 0 };
	struct nk_cache_key key = plan->key;
	int ret = -1;
	/* Only our commit since the read: generation + 1 (the kernel skips 0 on wrap). */
	uint32_t expect = plan->live.genid + 1 ? plan->live.genid + 1 : 1;
	if (!plan->cache_ok || !res->committed || res->genid_after != expect ||
	    nl_ruleset_read(s, want->table, want->mode, NL_READ_OBJECTS, &now) < 0 || now.genid != expect) {
		nk_cache_drop(dir, want->table);
		nk_ruleset_free(&now);
		return 0;
	}
	key.genid = now.genid;
	ret = nk_cache_save(dir, want, &now, &key);
	if (ret < 0) {
		int err = errno;
		nk_cache_drop(dir, want->table);
		errno = err;
	}
	nk_ruleset_free(&now);
	return ret;
}

int nl_plan_refresh(const struct nl_plan *plan, const struct nk_ruleset *want, const char *dir)
{
	/* from the cache at this very generation: nothing new to say */
	bool current = plan->from_cache && !plan->key.genid_min;
	if (!plan->cache_ok || current || plan->delta.n_changes || !plan->live.table_exists)
		return 0;
	return nk_cache_save(dir, want, &plan->live, &plan->key);
}
