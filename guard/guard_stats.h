/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_stats.h — the guard's counters as a JSON file that `pinhole guard --stats` (or any
 * monitoring agent) reads: written every second and at exit, atomically (a temporary file
 * renamed over the old one), so a reader never sees half of it. */
#ifndef PINHOLE_GUARD_STATS_H
#define PINHOLE_GUARD_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "guard.h"

/* How long DNS answers were held in strict mode, in 10 µs steps up to 10 ms. */
#define GSTATS_LAT_STEP_US 10
#define GSTATS_LAT_BUCKETS 1001
struct lat_hist {
	uint64_t bucket[GSTATS_LAT_BUCKETS];	/* the last one: 10 ms or more */
	uint64_t n;
};
void lat_hist_add(struct lat_hist *h, uint64_t us);
/* The q-quantile (0 < q < 1) in microseconds, the upper edge of its bucket; 0 when empty. */
uint64_t lat_hist_quantile(const struct lat_hist *h, double q);

struct guard_stats_info {
	const char *rules;		/* the rules file */
	const char *table;		/* its table (family inet), for pinhole remove */
	const char *mode;		/* "strict" or "passive" */
	const char *queue;		/* "nft", "xt" or "none" */
	const char *refresh;		/* "update", "replace", "delete" */
	int fail_open;
	int queue_drops_known;		/* /proc/net/netfilter/nfnetlink_queue was readable */
	long pid;
	uint64_t started;		/* wall clock, seconds since the epoch */
	uint64_t updated;
	size_t learnt, aliases, conns, sets;
	size_t queries;			/* outstanding DNS queries */
	const struct lat_hist *hold;	/* NULL in passive mode */
};

/* Writes the counters and info to path atomically (mode 0644, in a directory checked as
 * safefile.h says). Returns 0, or -1 with errno. */
int guard_stats_write(const char *path, const struct guard_counters *c, const struct guard_stats_info *i);

enum guard_files_forgotten {
	GUARD_FILES_NONE,	/* no stats file in dir, or one of another table's guard */
	GUARD_FILES_REMOVED,
	GUARD_FILES_RUNNING,	/* that guard still runs and would write them again: kept */
};

/* For `pinhole remove` of table: deletes dir/guard.stats, dir/guard.state and
 * dir/guard.generations (the guard's defaults) when the stats file names table and its guard
 * (its "pid") no longer runs.
 * Returns one of the above (*pid set for GUARD_FILES_RUNNING), or -1 with errno when a
 * file could not be deleted. */
int guard_files_forget(const char *dir, const char *table, long *pid);

#endif
