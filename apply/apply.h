/* SPDX-License-Identifier: GPL-2.0-or-later */
/* apply.h — the policy into the kernel, and the commit-confirmed state machine around it:
 * the library behind `pinhole apply`, `confirm` and `remove` (pinhole(8), APPLY).
 *
 * One options struct says what to do and where (the state and run directories, the rules,
 * the table); one result struct says what happened, as data: an ordered list of events
 * (each a kind and its fields, never text), the plan and the batch of each attempt, and
 * the kernel's errors at the rules-file lines they map to. Nothing here prints, reads the
 * environment or exits; the caller renders the events (the CLI as it always has, or as
 * JSON) and owns the fork that starts the confirm waiter.
 *
 * The commit-confirmed files, in the run directory (see pending.c for why each step is
 * safe against a waiter that dies):
 *   inet-TABLE.pending       the pending confirmation; its waiter holds an flock on it
 *   inet-TABLE.rolling-back  the same file, renamed by whoever rolls back
 *   inet-TABLE.rollback      the snapshot a rollback restores
 *   inet-TABLE.log           the waiter's output
 * and in the state directory the last-applied cache (inet-TABLE.state), the applied source
 * (inet-TABLE.applied) and, while a confirmation is pending, inet-TABLE.applied.new. */
#ifndef PINHOLE_APPLY_H
#define PINHOLE_APPLY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "diag.h"
#include "nft_netlink.h"
#include "policy.h"

/* Seams for the unit tests (tests/unit/test_apply.c); NULL in the CLI. */
struct apply_test_hooks {
	/* Called in each apply attempt (0, 1, 2) between reading the ruleset and sending the
	 * batch: a test changes the ruleset here to make the batch stale. */
	void (*before_commit)(void *ctx, unsigned attempt);
	/* Throws the kernel's answer to every batch away, as a full socket buffer would. */
	bool lose_acks;
	/* The waiter's clock and sleep (milliseconds, monotonic) and the wall clock of the
	 * deadlines in the pending file. NULL: the system's. */
	long long (*now_ms)(void *ctx);
	void (*sleep_ms)(void *ctx, long ms);
	time_t (*wall)(void *ctx);
	void *ctx;
};

struct apply_event;

struct apply_options {
	const char *state_dir;		/* the last-applied state (pinhole(8): /var/lib/pinhole) */
	const char *run_dir;		/* pending confirmations, pinhole guard's generations
					 * (/run/pinhole) */
	struct nl_session *session;	/* the caller's, or NULL: each call opens its own (a
					 * rollback always does: the waiter has none) */

	/* apply */
	const struct policy *policy;	/* the compiled rules (apply_policy) */
	const char *rules;		/* the file they came from ("-" or NULL: standard input,
					 * which is never read again) */
	const struct define_override *defines;	/* the -D given */
	size_t n_defines;
	bool dry_run;			/* the kernel checks the batch and commits nothing
					 * (apply and remove) */
	bool use_cache;			/* trust the last-applied state when it holds */
	long confirm;			/* seconds: apply --confirm; 0 a plain apply */

	/* confirm, remove, settle */
	const char *table;		/* family inet; NULL for confirm: every pending table */
	enum nk_mode mode;		/* remove */
	bool cancel;			/* confirm: roll back now instead of keeping */

	/* Called with each event as it happens (the waiter's log is written as it goes), or
	 * NULL; the events are in the result either way. */
	void (*report)(void *ctx, const struct apply_event *ev);
	void *report_ctx;

	const struct apply_test_hooks *test;
};

/* One try of an apply (up to three: a stale batch is planned again) or of a removal. */
struct apply_attempt {
	unsigned number;		/* 0, 1, 2 */
	const struct nk_ruleset *want;	/* apply: what the rules want; NULL: a removal */
	struct nl_plan plan;		/* apply: the live state and the delta; removal: what
					 * goes is plan.live */
	struct nl_result commit;	/* the batch: messages, bytes, the generation after,
					 * the kernel's errors at their rules-file lines */
	bool dry_run;
	double ms;			/* from reading the ruleset to the saved state */
};

/* What happened, in order. Each kind says which fields it fills; text is the caller's to
 * write (cli/apply_report.c). rollback: the event belongs to a rollback (the waiter's,
 * a cancel's, or one for a dead waiter): a snapshot's apply or removal. */
enum apply_event_kind {
	/* files and the kernel */
	APPLY_EV_ERROR,			/* text: what is wrong, a whole sentence (an unsafe
					 * directory, a claim another apply holds) */
	APPLY_EV_SESSION_ERROR,		/* err: nf_tables cannot be talked to */
	APPLY_EV_NO_MEMORY,
	/* apply */
	APPLY_EV_UNCHANGED,		/* table, n: the generation, text: the rules file, flag:
					 * only pinhole guard's learnt sets changed since */
	APPLY_EV_SETS_ONLY_RULES,	/* n: allow rules that sets-only mode leaves to the user */
	APPLY_EV_PLAN_ERROR,		/* table, err: ENOENT (sets-only, no table), ENOTEMPTY
					 * (not pinhole's table), else the ruleset was unreadable */
	APPLY_EV_PLAN,			/* attempt: the plan (with the sets it refuses, if any) */
	APPLY_EV_STATE_NOT_SAVED,	/* text: the state directory, err */
	APPLY_EV_REJECTED,		/* attempt: the kernel refused the batch
					 * (attempt->commit.errors); nothing of it happened.
					 * Also remove's (attempt->want NULL) */
	APPLY_EV_COMMIT_FAILED,		/* err, flag: whether the kernel committed */
	APPLY_EV_ACK_LOST,		/* err: the answer was lost; asked, the kernel had committed */
	APPLY_EV_CHECKED,		/* attempt: dry run, the kernel accepts the batch */
	APPLY_EV_APPLIED,		/* attempt: committed */
	APPLY_EV_STALE,			/* the ruleset changed before the commit: planned again */
	APPLY_EV_GAVE_UP,		/* stale three times */
	APPLY_EV_SOURCE_STDIN,		/* rules from standard input: no snapshot of them */
	APPLY_EV_SOURCE_NOT_KEPT,	/* text: why the applied source could not be kept */
	/* apply --confirm */
	APPLY_EV_SNAPSHOT_STALE,	/* text: the applied snapshot the kernel no longer holds */
	APPLY_EV_SNAPSHOT_FAILED,	/* text: why the rollback snapshot could not be written */
	APPLY_EV_WAITER_FAILED,		/* err: the waiter did not start; the new rules stay */
	APPLY_EV_CONFIRM_BY,		/* n: seconds to confirm in */
	/* the pending state of a table */
	APPLY_EV_PENDING,		/* table, n: seconds left: refused, a confirmation waits */
	APPLY_EV_ROLLING_BACK,		/* table: refused, a rollback is under way */
	APPLY_EV_TAKEOVER_FAILED,	/* err */
	APPLY_EV_WAITER_GONE,		/* table, n: its PID, flag: it died rolling back */
	/* rollback */
	APPLY_EV_NOT_CONFIRMED,		/* table: the deadline passed */
	APPLY_EV_NOTHING_TO_UNDO,	/* table: the apply --confirm ended before any change */
	APPLY_EV_RESTORED,		/* flag: by removing (pinhole owned nothing before);
					 * diags: the snapshot's */
	APPLY_EV_RESTORE_FAILED,	/* table, flag: no session (err says why; else the events
					 * before do), diags */
	/* confirm */
	APPLY_EV_CONFIRMED,		/* table */
	APPLY_EV_PROMOTE_FAILED,	/* text: why (err 0), or the path that could not be
					 * renamed (err) */
	APPLY_EV_TIMER_HAD_DIED,	/* n: its PID */
	APPLY_EV_TOO_LATE,		/* table */
	APPLY_EV_LATE_AND_DEAD,		/* table: past the deadline, the waiter dead: rolled back */
	APPLY_EV_WAIT_FAILED,		/* err: could not wait for the waiter to leave */
	APPLY_EV_CANCELLED,		/* table */
	APPLY_EV_NOTHING_PENDING,	/* table (NULL: no run directory), flag: a rollback is
					 * under way */
	APPLY_EV_NONE_WAITING,		/* text: the run directory */
	/* remove */
	APPLY_EV_NOTHING_OWNED,		/* table, attempt: what was read (attempt->plan.live) */
	APPLY_EV_REMOVED,		/* attempt: what went (attempt->plan.live) */
	APPLY_EV_REMOVE_FAILED,		/* err, attempt */
	APPLY_EV_REMOVE_STALE,
};

struct apply_event {
	enum apply_event_kind kind;
	bool rollback;
	const char *table, *text;	/* owned by the result */
	long n;
	int err;			/* an errno */
	bool flag;
	const struct apply_attempt *attempt;
	struct diags *diags;		/* rollback: where the kernel's errors at rules lines
					 * belong (the snapshot's), rendered with the
					 * RESTORED or RESTORE_FAILED event that ends it */
};

/* apply --confirm, between the apply and the waiter: the run directory and the pending
 * file, locked. The waiter is whoever holds the lock; apply_waiter_started hands it on. */
struct apply_claim {
	int dirfd, fd;			/* -1 when there is no claim */
	const char *table;		/* owned by the result; NULL: no claim was made */
	enum nk_mode mode;
	long seconds;
};

enum apply_status { APPLY_ERROR, APPLY_NO_CHANGE, APPLY_CHANGED };

struct apply_result {
	enum apply_status status;
	bool rejected;			/* the kernel refused the batch: nothing was applied */
	const struct apply_attempt *last;	/* the last attempt (not a rollback's), or NULL */
	uint32_t generation;		/* APPLY_NO_CHANGE by the shortcut: the kernel's */
	time_t confirm_deadline;	/* apply --confirm: when the waiter rolls back */
	struct apply_claim waiter;	/* apply --confirm succeeded: start the waiter */
	struct diags *diags;		/* what the library compiled itself (an old snapshot)
					 * had to say; render after the caller's own */
	struct apply_event *events;
	size_t n_events;
	/* private */
	size_t cap_events;
	struct apply_owned *owned;	/* what the events and attempts point to */
};

/* Frees everything the result owns (events, attempts, their plans) and lets go of a claim
 * no waiter took (the next command then rolls it back); the result is zeroed. NULL-safe.
 * A zeroed result is an empty one. Every call below but apply_waiter_started (which goes
 * on with apply_policy's) starts r afresh: free it before using it again. */
void apply_result_free(struct apply_result *r);

/* Checks the state directory (safefile.h), creating it (0700) when create is set; a
 * missing one is fine otherwise. Returns 0, or -1 with why (SAFEFILE_WHY bytes) filled. */
int apply_state_check(const struct apply_options *o, bool create, char *why);

/* The shortcut before compiling: o->rules (with o->defines) is what pinhole applied last
 * and the generation is still the one that apply left (or only pinhole guard committed
 * since), and no confirmation is pending. Only with o->use_cache and without o->confirm;
 * asks the kernel through o->session (or a session of its own). Returns true with an
 * APPLY_EV_UNCHANGED event (r->generation set); false (nothing in r) otherwise. */
bool apply_unchanged(const struct apply_options *o, struct apply_result *r);

/* Applies o->policy: settles the table's pending state (not for a dry run), plans,
 * commits, plans again when the batch was stale (three tries), saves the last-applied
 * state and keeps the source (inet-TABLE.applied). With o->confirm, first claims the
 * pending confirmation and writes the snapshot to roll back to; on success r->waiter is
 * the claim, for apply_waiter_started. Returns r->status. */
enum apply_status apply_policy(const struct apply_options *o, struct apply_result *r);

/* After apply_policy with o->confirm: pid is the waiter the caller forked (it inherited
 * r->waiter), or -1 with errno when it could not: then the pending confirmation is
 * abandoned (the new rules stay) and r->status becomes APPLY_ERROR. Releases the claim;
 * adds APPLY_EV_CONFIRM_BY and keeps the source as inet-TABLE.applied.new. */
void apply_waiter_started(const struct apply_options *o, struct apply_result *r, pid_t pid);

/* The waiter's log (inet-TABLE.log, appended, 0600), opened in the claim's directory.
 * Returns a descriptor or -1 (errno). */
int apply_waiter_log(const struct apply_options *o, const struct apply_claim *c);

/* The waiter itself, in the process that holds c's lock: until the deadline, looks twice
 * a second whether the pending file still has its name (confirm or cancel took it); at the
 * deadline, unless they did, rolls back. Returns when there is nothing left to wait for. */
void apply_wait(const struct apply_options *o, struct apply_claim *c, struct apply_result *r);

/* Before a change to o->table: 0 when no confirmation is pending for it, after rolling
 * back at once one whose waiter died; -1 when the change must not go on (one is pending,
 * a rollback is under way, or the run directory is unsafe), said by the events. */
int apply_settle(const struct apply_options *o, struct apply_result *r);

/* pinhole confirm [--cancel]: keeps the pending rules of o->table (NULL: of every table
 * with a pending confirmation), or with o->cancel restores the snapshot now. Returns 0,
 * or -1 when nothing was pending, it was too late or the rollback failed. */
int apply_confirm(const struct apply_options *o, struct apply_result *r);

/* pinhole remove: settles o->table (not for a dry run), deletes what pinhole owns there in
 * o->mode (the table, or its sets) in one batch, retrying while the ruleset moves, and
 * forgets the table's last-applied state, snapshot and old waiter log. Returns 0 (also
 * when pinhole owned nothing there), or -1. */
int apply_remove(const struct apply_options *o, struct apply_result *r);

/* A policy applied before, as its snapshot in the state directory says. */
struct apply_applied {
	char *table;
	enum nk_mode mode;
	struct diags *diags;		/* the snapshot did not compile: why (table NULL) */
};

/* Every snapshot of the state directory, in directory order. Returns how many (*out
 * malloc'd, NULL when none); free with apply_applied_free. */
size_t apply_applied_list(const struct apply_options *o, struct apply_applied **out);
void apply_applied_free(struct apply_applied *list, size_t n);

/* Where nl_plan_make_opts finds the last-applied state and pinhole guard's generations
 * (run_dir/guard.generations, written into gens of size bytes). */
struct nl_plan_opts apply_plan_opts(const struct apply_options *o, bool use_cache, char *gens, size_t size);

/* Gives the elements of live the sources that the last applied snapshot has for them
 * (nk_ruleset_attribute); leaves them unknown when there is no usable snapshot. */
void apply_attribute(const struct apply_options *o, struct nk_ruleset *live);

#endif
