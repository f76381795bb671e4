/* SPDX-License-Identifier: GPL-2.0-or-later */
/* result.c — the result of a call: its events in order, and everything they point to,
 * owned by the result and freed with it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply_internal.h"

struct apply_owned {
	void *p;
	void (*fn)(void *);
	struct apply_owned *next;
};

void result_start(struct apply_result *r)
{
	memset(r, 0, sizeof(*r));
	r->waiter.dirfd = r->waiter.fd = -1;
}

void *result_own(struct apply_result *r, void *p, void (*fn)(void *))
{
	struct apply_owned *o = p ? malloc(sizeof(*o)) : NULL;
	if (!o) {
		if (p)
			fn(p);
		return NULL;
	}
	*o = (struct apply_owned){ p, fn, r->owned };
	r->owned = o;
	return p;
}

static const char *own_string(struct apply_result *r, const char *s)
{
	return s ? result_own(r, strdup(s), free) : NULL;
}

void say(struct job *j, struct apply_event ev)
{
	struct apply_result *r = j->r;
	ev.rollback = j->rollback;
	ev.diags = ev.diags ? ev.diags : j->diags;
	ev.table = own_string(r, ev.table);
	ev.text = own_string(r, ev.text);
	if (r->n_events == r->cap_events) {
		size_t cap = r->cap_events ? 2 * r->cap_events : 16;
		struct apply_event *grown = realloc(r->events, cap * sizeof(*grown));
		if (grown) {
			r->events = grown;
			r->cap_events = cap;
		}
	}
	if (r->n_events < r->cap_events)
		r->events[r->n_events++] = ev;
	if (j->o->report)
		j->o->report(j->o->report_ctx, &ev);
}

static void attempt_free(void *p)
{
	struct apply_attempt *a = p;
	nl_plan_free(&a->plan);
	nl_result_free(&a->commit);
	free(a);
}

struct apply_attempt *attempt_new(struct job *j, unsigned number)
{
	struct apply_attempt *a = calloc(1, sizeof(*a));
	if (a)
		a->number = number;
	return result_own(j->r, a, attempt_free);
}

void apply_result_free(struct apply_result *r)
{
	if (!r)
		return;
	/* a claim nobody started a waiter for: its lock goes, so the next command finds a
	 * dead waiter and rolls back, the safe side of a confirmation never given */
	if (r->waiter.table)
		pending_release(&r->waiter, false);
	for (struct apply_owned *o = r->owned, *next; o; o = next) {
		next = o->next;
		o->fn(o->p);
		free(o);
	}
	diags_free(r->diags);
	free(r->events);
	result_start(r);
}

struct nl_session *job_session(struct job *j, bool *own)
{
	*own = !j->o->session;
	return j->o->session ? j->o->session : nl_session_open();
}

time_t job_wall(const struct job *j)
{
	const struct apply_test_hooks *t = j->o->test;
	return t && t->wall ? t->wall(t->ctx) : time(NULL);
}
