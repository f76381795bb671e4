/* SPDX-License-Identifier: GPL-2.0-or-later */
/* apply.c — the policy into the kernel as one atomic netlink batch that carries only the
 * difference, tied to the ruleset generation it was computed against; planned again when
 * another writer committed in between. A dry run has the kernel validate the batch and
 * discard it (as nft -c). */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "apply_internal.h"

#define ATTEMPTS 3

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

bool plan_refused(const struct nl_plan *plan)
{
	for (size_t i = 0; i < plan->delta.n_sets; i++)
		if (plan->delta.sets[i].refused)
			return true;
	return false;
}

static void commit_failed(struct job *j, const struct apply_attempt *a, int err)
{
	if (a->commit.n_errors) {
		say(j, (struct apply_event){ .kind = APPLY_EV_REJECTED, .attempt = a });
		j->r->rejected |= !j->rollback;
	} else {
		say(j, (struct apply_event){ .kind = APPLY_EV_COMMIT_FAILED, .err = err, .flag = a->commit.committed });
	}
}

/* Sends the plan's delta. Returns the outcome; *stale asks for another attempt. */
static enum apply_status commit(struct job *j, struct nl_session *s, struct apply_attempt *a, uint64_t source,
				bool *stale)
{
	const struct apply_test_hooks *t = j->o->test;
	struct nl_commit_opts co = { .check_only = a->dry_run, .genid = a->plan.live.genid,
				     .test_lose_acks = t && t->lose_acks };
	if (t && t->before_commit)
		t->before_commit(t->ctx, a->number);
	int sent = nl_delta_commit(s, &a->plan.delta, &co, &a->commit), err = errno;
	if (sent < 0 && !a->commit.committed) {
		*stale = a->commit.stale;
		if (!*stale)
			commit_failed(j, a, err);
		return APPLY_ERROR;
	}
	if (sent < 0)
		say(j, (struct apply_event){ .kind = APPLY_EV_ACK_LOST, .err = err });
	if (a->dry_run) {
		say(j, (struct apply_event){ .kind = APPLY_EV_CHECKED, .attempt = a });
		return APPLY_CHANGED;
	}
	a->plan.key.source = source;
	if (nl_plan_remember(s, &a->plan, a->want, &a->commit, j->o->state_dir) < 0)
		say(j, (struct apply_event){ .kind = APPLY_EV_STATE_NOT_SAVED, .text = j->o->state_dir, .err = errno });
	return APPLY_CHANGED;
}

/* One attempt: plan, then send what changes. */
static enum apply_status attempt(struct job *j, struct nl_session *s, const struct nk_ruleset *want, uint64_t source,
				 unsigned number, bool *stale)
{
	const struct apply_options *o = j->o;
	struct apply_attempt *a = attempt_new(j, number);
	char gens[4096];
	double t0 = now_ms();
	if (!a) {
		say(j, (struct apply_event){ .kind = APPLY_EV_NO_MEMORY });
		return APPLY_ERROR;
	}
	a->want = want;
	a->dry_run = !j->rollback && o->dry_run;
	j->r->last = j->rollback ? j->r->last : a;
	struct nl_plan_opts po = apply_plan_opts(o, j->rollback || o->use_cache, gens, sizeof(gens));
	if (nl_plan_make_opts(s, want, &po, &a->plan) < 0) {
		say(j, (struct apply_event){ .kind = APPLY_EV_PLAN_ERROR, .table = want->table, .err = errno });
		return APPLY_ERROR;
	}
	say(j, (struct apply_event){ .kind = APPLY_EV_PLAN, .attempt = a });
	if (plan_refused(&a->plan))
		return APPLY_ERROR;
	if (a->plan.delta.n_changes == 0) {
		/* read from the kernel after someone else's commit: remember it, or every
		 * later apply dumps the sets again */
		a->plan.key.source = source;
		if (!a->dry_run && nl_plan_refresh(&a->plan, want, o->state_dir) < 0)
			say(j, (struct apply_event){ .kind = APPLY_EV_STATE_NOT_SAVED, .text = o->state_dir, .err = errno });
		return APPLY_NO_CHANGE;
	}
	enum apply_status out = commit(j, s, a, source, stale);
	a->ms = now_ms() - t0;
	if (out == APPLY_CHANGED && !a->dry_run)
		say(j, (struct apply_event){ .kind = APPLY_EV_APPLIED, .attempt = a });
	return out;
}

/* Retries when the kernel refused the batch as stale, since nothing was changed then and
 * the next plan is made against what the other writer left. */
static enum apply_status apply_ruleset(struct job *j, struct nl_session *s, const struct nk_ruleset *want,
				       uint64_t source)
{
	for (unsigned i = 0; i < ATTEMPTS; i++) {
		bool stale = false;
		enum apply_status out = attempt(j, s, want, source, i, &stale);
		if (!stale)
			return out;
		say(j, (struct apply_event){ .kind = APPLY_EV_STALE });
	}
	say(j, (struct apply_event){ .kind = APPLY_EV_GAVE_UP });
	return APPLY_ERROR;
}

static void ruleset_free(void *p)
{
	nk_ruleset_free(p);
	free(p);
}

enum apply_status apply_compiled(struct job *j, struct nl_session *s, const struct policy *p, uint64_t source)
{
	if (p->mode == POLICY_MODE_SETS_ONLY && p->n_rules)
		say(j, (struct apply_event){ .kind = APPLY_EV_SETS_ONLY_RULES, .n = (long)p->n_rules });
	struct nk_ruleset *want = result_own(j->r, calloc(1, sizeof(*want)), ruleset_free);
	if (!want || nk_ruleset_from_policy(p, want) < 0) {
		say(j, (struct apply_event){ .kind = APPLY_EV_NO_MEMORY });
		return APPLY_ERROR;
	}
	return apply_ruleset(j, s, want, source);
}

/* A plain apply (or a dry run); also after "no changes" the source is kept: an edit that
 * moved lines is now what the kernel's sources are (show, diff --live) and what a
 * rollback returns to. */
static enum apply_status apply_plain(struct job *j, struct nl_session *s)
{
	const struct apply_options *o = j->o;
	uint64_t source = o->use_cache ? source_hash(o) : 0;
	enum apply_status out = apply_compiled(j, s, o->policy, source);
	if (out != APPLY_ERROR && !o->dry_run)
		snapshot_remember(j, "applied");
	return out;
}

enum apply_status apply_policy(const struct apply_options *o, struct apply_result *r)
{
	struct job j = { .o = o, .r = r };
	bool own;
	result_start(r);
	r->status = APPLY_ERROR;
	struct nl_session *s = job_session(&j, &own);
	if (!s) {
		say(&j, (struct apply_event){ .kind = APPLY_EV_SESSION_ERROR, .err = errno });
		return r->status;
	}
	/* a change during a confirmation window would be undone by its rollback */
	if (o->dry_run || pending_settle(&j, o->policy->table) == 0)
		r->status = o->confirm ? apply_confirmed(&j, s) : apply_plain(&j, s);
	if (own)
		nl_session_close(s);
	return r->status;
}
