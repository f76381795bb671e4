/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_apply.h — what the kernel-facing commands (apply, show, remove, confirm, diff --live)
 * share on the command line: where the state and run directories are, opening the session
 * with a useful message, and the words for what apply/ reports (cli/apply_report.c). */
#ifndef PINHOLE_CMD_APPLY_H
#define PINHOLE_CMD_APPLY_H

#include <stdbool.h>
#include <stdio.h>

#include "apply.h"
#include "common.h"
#include "nft_netlink.h"

/* The state and run directories: $PINHOLE_STATE_DIR, else /var/lib/pinhole;
 * $PINHOLE_RUN_DIR, else /run/pinhole (a tmpfs: a reboot forgets pending confirmations,
 * see pinhole(8) APPLY). Everything else of o is zeroed. */
void cli_apply_options(struct apply_options *o);

/* Checks the state directory (apply_state_check), creating it when create is set.
 * Returns 0, or -1 after printing why under cmd's name. */
int cli_state_check(const char *cmd, const struct apply_options *o, bool create);

/* Opens the netlink session; on failure prints why ("needs CAP_NET_ADMIN") under the
 * command's name and returns NULL. */
struct nl_session *cli_session_open(const char *cmd);

/* How events are said: under which command, how much (apply -q prints only errors and
 * --confirm's reminder; --format json nothing on stdout, which is the document's), and
 * where the kernel's errors at rules-file lines go (the diagnostics of the rules the
 * command compiled; NULL: printed plainly). */
struct report {
	const char *cmd;
	bool quiet, json;
	struct diags *d;
};

/* Prints ev as pinhole always has (stdout for what was done, stderr for the rest); ctx is
 * a struct report. Events of a rollback are said under `confirm`, in full. For
 * apply_options.report. */
void report_event(void *ctx, const struct apply_event *ev);

/* Says why nl_plan_make failed (errno err), for table. */
void report_plan_error(const char *cmd, const char *table, int err);

/* Prints an error for each set the plan refuses (sets-only mode: a set by one of pinhole's
 * names that it cannot adopt). Returns whether there was one: then nothing may be sent. */
bool report_plan_refused(const char *cmd, const struct nl_plan *plan);

/* Prints the plan: one line per object that changes, with element counts. */
void report_plan(FILE *out, const struct nl_plan *plan, const struct nk_ruleset *want);

/* Prints what the kernel refused, at the rules-file line when known (through d, which
 * quotes the line), plainly otherwise. */
void report_kernel_errors(const char *cmd, const struct nl_result *res, struct diags *d);

/* Prints what remove took out of the kernel (or would, dry_run): live is what went. */
void report_removal(const struct nk_ruleset *live, bool dry_run);

/* apply --confirm after apply_policy: forks the waiter (cli/cmd_confirm.c), which lets go
 * of the terminal and runs apply_wait, and hands it the claim (apply_waiter_started). */
void confirm_start_waiter(const struct apply_options *o, struct apply_result *r);

#endif
