/* SPDX-License-Identifier: GPL-2.0-or-later */
/* apply_internal.h — what the files of apply/ share: the job they work for (options,
 * result, and whether this is a rollback), events, owned memory, file names, snapshots. */
#ifndef PINHOLE_APPLY_INTERNAL_H
#define PINHOLE_APPLY_INTERNAL_H

#include "apply.h"

/* One call of the interface, or a rollback inside one. */
struct job {
	const struct apply_options *o;
	struct apply_result *r;
	bool rollback;			/* events are marked as the rollback's */
	struct diags *diags;		/* rollback: the snapshot's diagnostics */
};

/* ---- result.c ---- */

/* Zeroes r for a new call (no claim: descriptors -1). */
void result_start(struct apply_result *r);

/* Appends ev (its strings copied into the result, marked with the job's rollback and
 * diags) and hands it to the report callback. An event that cannot be stored (ENOMEM) is
 * still reported. */
void say(struct job *j, struct apply_event ev);

/* Gives p to the result, freed with fn by apply_result_free. Returns p, or NULL (p freed
 * with fn) on ENOMEM. */
void *result_own(struct apply_result *r, void *p, void (*fn)(void *));

/* A new attempt owned by the result; NULL on ENOMEM. */
struct apply_attempt *attempt_new(struct job *j, unsigned number);

/* The caller's session, or a new one (*own set: close it). NULL with errno. */
struct nl_session *job_session(struct job *j, bool *own);

/* The test hooks' clocks, or the system's. */
time_t job_wall(const struct job *j);

/* ---- files.c: names in the state and run directories ---- */

/* The run directory's files of a table (apply.h): inet-TABLE.SUFFIX. */
#define SUFFIX_PENDING "pending"
#define SUFFIX_ROLLING "rolling-back"
#define SUFFIX_ROLLBACK "rollback"

/* "inet-TABLE.SUFFIX" and DIR/that; malloc'd, NULL on ENOMEM. */
char *file_name(const char *table, const char *suffix);
char *file_path(const char *dir, const char *table, const char *suffix);

/* ---- snapshot.c: the source of an applied policy, kept to restore it ---- */

/* Replaces path (0600, atomically through a temporary, not fsync'd; its directory checked
 * and made 0700 when missing) with head, then len bytes of text (may be NULL). Returns 0,
 * or -1 with why (SAFEFILE_WHY bytes) filled. */
int file_replace(const char *path, const char *head, const char *text, size_t len, char *why);

/* Writes the snapshot of rules (read again) with its name and defines, or "absent" (pinhole
 * owned nothing). Atomic, not fsync'd, 0600, in a checked directory (made 0700). -1: why
 * (SAFEFILE_WHY bytes) says what went wrong. */
int snapshot_write(const char *path, const char *rules, const struct define_override *defs, size_t n_defs,
		   bool absent, char *why);

/* Reads a snapshot and compiles it as the file it came from. Returns the policy; *absent
 * is set when the snapshot says pinhole owned nothing. NULL on error (diagnostics in d). */
struct policy *snapshot_compile(const char *path, bool *absent, struct diags *d);

/* Keeps the source of what was just applied as state_dir/inet-TABLE.SUFFIX, with the
 * parameters' values as defines (events say what could not be kept). */
void snapshot_remember(struct job *j, const char *suffix);

/* ---- apply.c ---- */

/* Applies p (a rollback: its snapshot's policy, owned by the result or the caller), up to
 * three attempts. source: the hash the cache records (0 none). */
enum apply_status apply_compiled(struct job *j, struct nl_session *s, const struct policy *p, uint64_t source);

/* Whether the plan refuses a set (sets-only: one by pinhole's name it cannot adopt). */
bool plan_refused(const struct nl_plan *plan);

/* ---- unchanged.c ---- */

/* What identifies an applied source: pinhole's version, the file's name and text (and
 * its includes'), and the -D defines. 0 (unknown) for standard input. */
uint64_t source_hash(const struct apply_options *o);

/* ---- confirm_start.c ---- */

/* apply --confirm after settling: claims, writes the snapshot, applies; leaves the claim
 * in j->r->waiter on success. */
enum apply_status apply_confirmed(struct job *j, struct nl_session *s);

/* ---- pending.c: the pending state of a table ---- */

/* apply_settle for j->o->table. */
int pending_settle(struct job *j, const char *table);
/* Whether table has a pending confirmation or a rollback under way, without judging it. */
bool pending_any(const struct apply_options *o, const char *table);
/* Claims the pending confirmation of table (after pending_settle): the pending file
 * exists, locked, from now on. Returns 0, or -1 with why (SAFEFILE_WHY bytes) filled. */
int pending_claim(struct job *j, struct apply_claim *c, const char *table, enum nk_mode mode, long seconds,
		  char *why);
/* Writes the waiter's PID and the deadline into the claim's pending file. */
void pending_record(const struct apply_claim *c, long pid, time_t deadline);
/* Lets go of c; abandon removes the pending file and the snapshot (nothing to wait for). */
void pending_release(struct apply_claim *c, bool abandon);
/* Takes the pending file's name for a rollback. 0: ours; -1 with errno ENOENT: confirm
 * (or another rollback) took it first. */
int pending_take(int dirfd, const char *table);
/* Whether fd's file still has name in dirfd: the waiter's way of seeing confirm or cancel. */
bool pending_still_named(int dirfd, const char *name, int fd);

/* The pending file's one line: "WAITER_PID DEADLINE(epoch s) MODE". For people and for
 * messages only: no decision rests on the PID. */
struct pending_record {
	long pid, deadline;
	enum nk_mode mode;
};
struct pending_record pending_record_read(int fd);

/* ---- rollback.c ---- */

/* With the file now named rolling-back locked by the caller: restores the snapshot and
 * forgets the unconfirmed rules; the rolling-back file goes last. Returns 0 when the
 * previous state is back. */
int rollback_run(struct job *j, int dirfd, const char *table, enum nk_mode mode);

/* ---- remove.c ---- */

/* Deletes what pinhole owns in table, retrying when the ruleset moves. Returns 0 (also
 * when there was nothing), -1. */
int remove_owned(struct job *j, struct nl_session *s, const char *table, enum nk_mode mode, bool dry_run);

#endif
