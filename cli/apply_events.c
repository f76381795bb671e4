/* SPDX-License-Identifier: GPL-2.0-or-later */
/* apply_events.c — the words for what apply/ reports (apply.h, enum apply_event_kind):
 * what was done on stdout (unless apply -q), everything else on stderr, under the
 * command's name, or under `confirm` and in full for a rollback's own apply. */
#include <errno.h>
#include <string.h>

#include "cmd_apply.h"

/* The context of one event. */
struct said {
	const char *cmd;
	bool quiet;			/* no plans, no "applied" lines */
	bool out;			/* stdout may be written (not under --format json) */
	struct diags *d;		/* for the kernel's errors at rules lines */
};

static bool say_apply(const struct said *w, const struct apply_event *ev)
{
	const struct apply_attempt *a = ev->attempt;
	switch (ev->kind) {
	case APPLY_EV_ERROR:
		fprintf(stderr, "pinhole %s: %s\n", w->cmd, ev->text);
		break;
	case APPLY_EV_SESSION_ERROR:
		fprintf(stderr, "pinhole %s: cannot talk to nf_tables: %s%s\n", w->cmd, strerror(ev->err),
			ev->err == EPERM ? " (needs CAP_NET_ADMIN: run as root)" : "");
		break;
	case APPLY_EV_NO_MEMORY: fprintf(stderr, "pinhole %s: out of memory\n", w->cmd); break;
	case APPLY_EV_UNCHANGED:
		if (!w->quiet)
			printf("table inet %s, generation %ld: no changes: %s is what pinhole applied last, and %s since\n",
			       ev->table, ev->n, ev->text,
			       ev->flag ? "only pinhole guard's learnt sets have changed" : "the ruleset has not changed");
		break;
	case APPLY_EV_SETS_ONLY_RULES:
		if (!w->quiet)
			fprintf(stderr, "pinhole %s: note: sets-only mode applies sets only; the %ld allow rules are for "
					"your own chains to express (pinhole(8), APPLY)\n", w->cmd, ev->n);
		break;
	case APPLY_EV_PLAN_ERROR: report_plan_error(w->cmd, ev->table, ev->err); break;
	case APPLY_EV_PLAN:
		if (!w->quiet)
			report_plan(stdout, &a->plan, a->want);
		report_plan_refused(w->cmd, &a->plan);
		break;
	case APPLY_EV_STATE_NOT_SAVED:
		fprintf(stderr, "pinhole %s: warning: cannot save the last-applied state in %s: %s\n", w->cmd, ev->text,
			strerror(ev->err));
		break;
	case APPLY_EV_REJECTED: report_kernel_errors(w->cmd, &a->commit, a->want ? w->d : NULL); break;
	default: return false;
	}
	return true;
}

static bool say_commit(const struct said *w, const struct apply_event *ev)
{
	const struct apply_attempt *a = ev->attempt;
	switch (ev->kind) {
	case APPLY_EV_COMMIT_FAILED:
		fprintf(stderr, "pinhole %s: %s; the kernel %s the batch\n", w->cmd, strerror(ev->err),
			ev->flag ? "did commit" : "did not commit");
		break;
	case APPLY_EV_ACK_LOST:
		fprintf(stderr, "pinhole %s: the kernel's answer was lost (%s); asked again, it had committed the "
				"batch\n", w->cmd, strerror(ev->err));
		break;
	case APPLY_EV_CHECKED:
		if (!w->quiet)
			printf("the kernel accepts this batch (%zu messages, %zu bytes); nothing was committed\n",
			       a->commit.n_messages, a->commit.n_bytes);
		break;
	case APPLY_EV_APPLIED:
		if (!w->quiet)
			printf("applied in one transaction: %zu messages, %zu bytes, %.0f ms (generation %u)\n",
			       a->commit.n_messages, a->commit.n_bytes, a->ms, a->commit.genid_after);
		break;
	case APPLY_EV_STALE:
		fprintf(stderr, "pinhole %s: the ruleset changed between reading it and committing; nothing was "
				"applied; reading it again\n", w->cmd);
		break;
	case APPLY_EV_GAVE_UP:
		fprintf(stderr, "pinhole %s: the ruleset keeps changing under us; giving up\n", w->cmd);
		break;
	case APPLY_EV_SOURCE_STDIN:
		fprintf(stderr, "pinhole %s: note: rules from standard input are not kept; a later --confirm "
				"needs this policy applied from a file\n", w->cmd);
		break;
	case APPLY_EV_SOURCE_NOT_KEPT:
		fprintf(stderr, "pinhole %s: warning: cannot keep a copy of the applied rules: %s\n", w->cmd, ev->text);
		break;
	default: return false;
	}
	return true;
}

/* apply --confirm, and what the next command finds pending. */
static bool say_pending(const struct said *w, const struct apply_event *ev)
{
	switch (ev->kind) {
	case APPLY_EV_SNAPSHOT_STALE:
		fprintf(stderr, "pinhole %s: --confirm needs a snapshot of what the kernel holds now, and it does "
				"not hold what pinhole last applied (%s); apply once without --confirm\n", w->cmd, ev->text);
		break;
	case APPLY_EV_SNAPSHOT_FAILED:
		fprintf(stderr, "pinhole %s: cannot keep a snapshot to roll back to: %s\n", w->cmd, ev->text);
		break;
	case APPLY_EV_WAITER_FAILED:
		fprintf(stderr, "pinhole %s: cannot start the rollback timer: %s; the new rules stay\n", w->cmd,
			strerror(ev->err));
		break;
	case APPLY_EV_CONFIRM_BY:
		if (w->out)
			printf("run 'pinhole confirm' within %ld seconds, or the previous state comes back\n", ev->n);
		break;
	case APPLY_EV_PENDING:
		fprintf(stderr,
			"pinhole %s: table inet %s has a pending confirmation (apply --confirm, rolled back in %ld s unless "
			"confirmed): what %s does now would be undone by that rollback. Run 'pinhole confirm -t %s' to "
			"keep the pending rules, or 'pinhole confirm --cancel -t %s' to restore the previous ones now; "
			"then run this again\n",
			w->cmd, ev->table, ev->n, w->cmd, ev->table, ev->table);
		break;
	case APPLY_EV_ROLLING_BACK:
		fprintf(stderr, "pinhole %s: the rules of table inet %s are being rolled back to what they were "
				"before an apply --confirm; try again in a moment\n", w->cmd, ev->table);
		break;
	case APPLY_EV_TAKEOVER_FAILED:
		fprintf(stderr, "pinhole %s: cannot take over the pending confirmation: %s\n", w->cmd, strerror(ev->err));
		break;
	case APPLY_EV_WAITER_GONE:
		fprintf(stderr, "pinhole %s: the rollback timer of table inet %s (pid %ld) is gone without %s: rolling "
				"back now, as it would have\n", w->cmd, ev->table, ev->n,
			ev->flag ? "finishing its rollback" : "a confirmation");
		break;
	default: return false;
	}
	return true;
}

/* The rollback's end brings the snapshot's diagnostics (and the kernel's errors for it). */
static void say_rollback_diags(const struct apply_event *ev)
{
	if (ev->diags)
		diags_render(ev->diags, stderr, false);
	fflush(NULL);
}

static bool say_rollback(const struct said *w, const struct apply_event *ev)
{
	switch (ev->kind) {
	case APPLY_EV_NOT_CONFIRMED:
		fprintf(stderr, "pinhole: not confirmed in time: restoring the rules of table inet %s\n", ev->table);
		break;
	case APPLY_EV_NOTHING_TO_UNDO:
		fprintf(stderr, "pinhole: the apply --confirm for table inet %s ended before it changed anything\n",
			ev->table);
		break;
	case APPLY_EV_RESTORED:
		fprintf(stderr, ev->flag ? "pinhole: pinhole owned nothing before: removed what it applied\n"
					 : "pinhole: the previous rules are back\n");
		say_rollback_diags(ev);
		break;
	case APPLY_EV_RESTORE_FAILED:
		fprintf(stderr, "pinhole: could not restore the previous rules of table inet %s%s%s\n", ev->table,
			ev->flag ? ": " : "", ev->flag ? strerror(ev->err) : "");
		say_rollback_diags(ev);
		break;
	default: return false;
	}
	return true;
}

static bool say_confirm(const struct said *w, const struct apply_event *ev)
{
	switch (ev->kind) {
	case APPLY_EV_CONFIRMED:
		if (w->out)
			printf("confirmed: table inet %s keeps the rules applied last\n", ev->table);
		break;
	case APPLY_EV_PROMOTE_FAILED:
		if (ev->err)
			fprintf(stderr, "pinhole %s: warning: cannot keep the applied rules in %s: %s\n", w->cmd, ev->text,
				strerror(ev->err));
		else
			fprintf(stderr, "pinhole %s: warning: cannot keep the applied rules: %s\n", w->cmd, ev->text);
		break;
	case APPLY_EV_TIMER_HAD_DIED:
		fprintf(stderr, "pinhole %s: note: its rollback timer (pid %ld) had died before the deadline\n", w->cmd,
			ev->n);
		break;
	case APPLY_EV_TOO_LATE:
		fprintf(stderr, "pinhole %s: too late for table inet %s: the rollback has begun\n", w->cmd, ev->table);
		break;
	case APPLY_EV_LATE_AND_DEAD:
		fprintf(stderr, "pinhole %s: too late for table inet %s, and its rollback timer died:\n", w->cmd,
			ev->table);
		break;
	case APPLY_EV_WAIT_FAILED:
		fprintf(stderr, "pinhole %s: cannot wait for the rollback timer: %s\n", w->cmd, strerror(ev->err));
		break;
	case APPLY_EV_CANCELLED:
		fprintf(stderr, "pinhole %s: cancelled: restoring the previous rules of table inet %s\n", w->cmd,
			ev->table);
		break;
	case APPLY_EV_NOTHING_PENDING:
		if (!ev->table)
			fprintf(stderr, "pinhole %s: nothing pending\n", w->cmd);
		else
			fprintf(stderr, "pinhole %s: %s for table inet %s\n", w->cmd,
				ev->flag ? "too late: the rollback is under way"
					 : "nothing pending (no apply --confirm, or it was rolled back)", ev->table);
		break;
	case APPLY_EV_NONE_WAITING:
		fprintf(stderr, "pinhole %s: nothing is waiting for a confirmation (%s)\n", w->cmd, ev->text);
		break;
	default: return false;
	}
	return true;
}

static bool say_remove(const struct said *w, const struct apply_event *ev)
{
	switch (ev->kind) {
	case APPLY_EV_NOTHING_OWNED:
		if (w->out)
			printf("nothing of pinhole's in table inet %s\n", ev->table);
		break;
	case APPLY_EV_REMOVED:
		if (w->out)
			report_removal(&ev->attempt->plan.live, ev->attempt->dry_run);
		break;
	case APPLY_EV_REMOVE_FAILED: fprintf(stderr, "pinhole %s: %s\n", w->cmd, strerror(ev->err)); break;
	case APPLY_EV_REMOVE_STALE:
		fprintf(stderr, "pinhole %s: the ruleset changed while reading it; reading it again\n", w->cmd);
		break;
	default: return false;
	}
	return true;
}

void report_event(void *ctx, const struct apply_event *ev)
{
	const struct report *rp = ctx;
	struct said w = { .cmd = ev->rollback ? "confirm" : rp->cmd, .quiet = (rp->quiet && !ev->rollback) || rp->json,
			  .out = !rp->json, .d = ev->diags ? ev->diags : rp->d };
	(void)(say_apply(&w, ev) || say_commit(&w, ev) || say_pending(&w, ev) || say_rollback(&w, ev) ||
	       say_confirm(&w, ev) || say_remove(&w, ev));
}
