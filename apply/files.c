/* SPDX-License-Identifier: GPL-2.0-or-later */
/* files.c — where apply keeps things: the state directory (the last-applied cache and
 * sources), the run directory (pending confirmations, pinhole guard's generations). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "apply_internal.h"
#include "safefile.h"

char *file_name(const char *table, const char *suffix)
{
	char *n = NULL;
	return asprintf(&n, "inet-%s.%s", table, suffix) < 0 ? NULL : n;
}

char *file_path(const char *dir, const char *table, const char *suffix)
{
	char *p = NULL;
	return asprintf(&p, "%s/inet-%s.%s", dir, table, suffix) < 0 ? NULL : p;
}

int apply_state_check(const struct apply_options *o, bool create, char *why)
{
	int fd = safefile_dir_open(o->state_dir, create, why);
	if (fd < 0 && (create || errno != ENOENT))
		return -1;
	if (fd >= 0)
		close(fd);
	return 0;
}

struct nl_plan_opts apply_plan_opts(const struct apply_options *o, bool use_cache, char *gens, size_t size)
{
	snprintf(gens, size, "%s/guard.generations", o->run_dir);
	return (struct nl_plan_opts){ .dir = o->state_dir, .guard_generations = gens, .use_cache = use_cache };
}
