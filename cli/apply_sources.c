/* SPDX-License-Identifier: GPL-2.0-or-later */
/* apply_sources.c — where the kernel's prefixes came from, for people: the kernel holds no
 * file:line (pinhole(8), KERNEL OBJECTS), so show and diff --live take the sources from
 * the snapshot of the rules pinhole applied last. */
#include <stdlib.h>
#include <unistd.h>

#include "cmd.h"
#include "cmd_apply.h"

void apply_attribute(struct nk_ruleset *live)
{
	char *path = apply_snapshot_path(apply_state_dir(), live->table, "applied");
	struct diags *d = diags_new();
	bool absent = false;
	struct policy *applied = NULL;
	/* best effort: without a snapshot (or with one that no longer compiles) the sources
	 * are unknown, and say so */
	if (path && d && access(path, R_OK) == 0 && (applied = apply_snapshot_compile(path, &absent, d)))
		nk_ruleset_attribute(live, applied);
	policy_free(applied);
	diags_free(d);
	free(path);
}

struct nl_plan_opts apply_plan_opts(bool use_cache)
{
	static char gens[4096];
	snprintf(gens, sizeof(gens), "%s/guard.generations", apply_run_dir());
	return (struct nl_plan_opts){ .dir = apply_state_dir(), .guard_generations = gens, .use_cache = use_cache };
}
