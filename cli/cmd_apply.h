/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_apply.h — what the kernel-facing commands (apply, show, remove, confirm, diff --live)
 * share: opening the session with a useful message, reporting kernel errors in the rules
 * file's terms, and where the last-applied snapshot and pending confirmations live. */
#ifndef PINHOLE_CMD_APPLY_H
#define PINHOLE_CMD_APPLY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "apply_json.h"
#include "common.h"
#include "nft_netlink.h"
#include "safefile.h"

enum apply_outcome { APPLY_ERROR, APPLY_NO_CHANGE, APPLY_CHANGED };

struct apply_args {
	bool dry_run, use_cache, quiet, json;
	bool rejected;			/* out: the kernel rejected the batch (said after the errors) */
	uint64_t source;		/* hash of what is applied (nk_cache_key.source), 0 unknown */
	long confirm;			/* seconds; 0: no commit-confirmed */
	struct defines defs;
	const char *rules;
	struct apply_record *record;	/* --format json: what to render at the end; NULL: text */
};

/* Applies p (plans, prints the plan unless quiet, commits; retries a stale batch). */
enum apply_outcome apply_policy(const char *cmd, struct nl_session *s, const struct policy *p,
				struct apply_args *a, struct diags *d);

/* apply --confirm (cli/cmd_confirm.c): snapshot, apply, and a waiter that restores the
 * snapshot unless `pinhole confirm` comes first. */
enum apply_outcome apply_confirmed(struct nl_session *s, const struct policy *p, struct apply_args *a,
				   struct diags *d);

/* Writes the snapshot of an applied source: rules (read again) with its name and defines,
 * or "absent" (pinhole owned nothing). Atomic (renamed into place), not fsync'd, 0600, in a
 * checked directory (made 0700 when missing, see safefile.h). -1: why (SAFEFILE_WHY bytes)
 * says what went wrong. */
int apply_snapshot_write(const char *path, const char *rules, const struct defines *defs, bool absent, char *why);

/* Opens the netlink session; on failure prints why ("needs CAP_NET_ADMIN") under the
 * command's name and returns NULL. */
struct nl_session *apply_session_open(const char *cmd);

/* Says why nl_plan_make failed (errno err), for table. */
void apply_plan_error(const char *cmd, const char *table, int err);

/* Prints what the kernel refused, at the rules-file line when known (through d, which
 * quotes the line), plainly otherwise. */
void apply_report(const char *cmd, const struct nl_result *res, struct diags *d);

/* Prints the plan: one line per object that changes, with element counts. */
void apply_print_plan(FILE *out, const struct nl_plan *plan, const struct nk_ruleset *want);

/* Where the last-applied state lives: $PINHOLE_STATE_DIR, else /var/lib/pinhole. */
const char *apply_state_dir(void);

/* Checks the state directory (safefile.h), creating it (0700) when create is set; a
 * missing one is fine otherwise. Returns 0, or -1 after printing why under cmd's name. */
int apply_state_dir_check(const char *cmd, bool create);

/* Where pending confirmations and their rollback snapshots live: $PINHOLE_RUN_DIR, else
 * /run/pinhole (a tmpfs: a reboot forgets them, see pinhole(8) APPLY). */
const char *apply_run_dir(void);

/* The last applied policy's source, kept next to the state cache so that a commit-confirmed
 * apply can restore it: DIR/inet-TABLE.applied. */
char *apply_snapshot_path(const char *dir, const char *table, const char *suffix);

/* Reads a snapshot written by apply and compiles it as the file it came from. Returns the
 * policy; *absent is set when the snapshot says pinhole owned nothing. NULL on error
 * (diagnostics in d). */
struct policy *apply_snapshot_compile(const char *path, bool *absent, struct diags *d);

/* Prints an error for each set the plan refuses (sets-only mode: a set by one of pinhole's
 * names that it cannot adopt). Returns whether there was one: then nothing may be sent. */
bool apply_plan_refused(const char *cmd, const struct nl_plan *plan);

/* Where the last-applied state and pinhole guard's record of its generations are
 * ($PINHOLE_STATE_DIR, $PINHOLE_RUN_DIR/guard.generations), for nl_plan_make_opts. The
 * strings stay valid until the next call. */
struct nl_plan_opts apply_plan_opts(bool use_cache);

/* Gives the elements of live the sources the last applied snapshot has for them
 * (nk_ruleset_attribute); leaves them unknown when there is no usable snapshot. */
void apply_attribute(struct nk_ruleset *live);

/* Deletes what pinhole owns in table (the table, or its sets in sets-only mode), retrying
 * when the ruleset moves under it; prints what went, or records it in rec (--format json)
 * when rec is not NULL. Returns 0 (also when there was nothing), -1 after printing why not. */
int remove_owned(const char *cmd, struct nl_session *s, const char *table, enum nk_mode mode, bool dry_run,
		 struct remove_record *rec);

/* ---- the pending confirmation (cli/pending.c) ---- */

/* Before cmd changes table: 0 when no confirmation is pending for it, after rolling back at once,
 * and saying so, one whose waiter died; -1 after printing why cmd must not go on (one is
 * pending, and how to confirm or cancel it; a rollback under way; an unsafe run directory). */
int pending_settle(const char *cmd, const char *table);

/* Whether table has a pending confirmation or a rollback under way, without judging it. */
bool pending_any(const char *table);

/* What apply --confirm holds between claiming the confirmation and starting its waiter. */
struct pending_claim {
	int dirfd, fd;		/* the checked run directory; the pending file, locked */
	const char *table;	/* the caller's */
};

/* Claims the pending confirmation of table (after pending_settle): the pending file exists,
 * locked, from now on. Returns 0, or -1 with why (SAFEFILE_WHY bytes) filled. */
int pending_claim(struct pending_claim *c, const char *table, enum nk_mode mode, long seconds, char *why);

/* Starts the waiter, which inherits the lock and rolls back after seconds unless confirmed;
 * releases c. Returns 0, or -1 (errno) with c still held. */
int pending_start(struct pending_claim *c, enum nk_mode mode, long seconds);

/* Lets go of c; abandon removes the pending file and the snapshot (nothing to wait for). */
void pending_release(struct pending_claim *c, bool abandon);

/* pinhole confirm [--cancel] -t table: keeps the pending rules, or restores the snapshot
 * now. Prints what it did; 0, or -1 when nothing was pending, it was too late or failed. */
int pending_confirm(const char *table, bool cancel);

#endif
