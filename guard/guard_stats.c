/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_stats.c — the stats file, written with jansson; and forgetting the guard's files. */
#include "guard_stats.h"
#include "safefile.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void lat_hist_add(struct lat_hist *h, uint64_t us)
{
	uint64_t i = us / GSTATS_LAT_STEP_US;
	h->bucket[i < GSTATS_LAT_BUCKETS - 1 ? i : GSTATS_LAT_BUCKETS - 1]++;
	h->n++;
}

uint64_t lat_hist_quantile(const struct lat_hist *h, double q)
{
	if (h->n == 0)
		return 0;
	uint64_t want = (uint64_t)(q * (double)h->n), seen = 0;
	for (size_t i = 0; i < GSTATS_LAT_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen > want)
			return (i + 1) * GSTATS_LAT_STEP_US;
	}
	return GSTATS_LAT_BUCKETS * GSTATS_LAT_STEP_US;
}

#define COUNTER(name) json_object_set_new(o, #name, json_integer((json_int_t)c->name))

static json_t *counters_json(const struct guard_counters *c)
{
	json_t *o = json_object();
	COUNTER(packets_dns);
	COUNTER(packets_tls);
	COUNTER(packets_undecodable);
	COUNTER(dns_responses);
	COUNTER(dns_malformed);
	COUNTER(dns_matched);
	COUNTER(dns_ignored);
	COUNTER(dns_tcp_out_of_order);
	COUNTER(dns_queries);
	COUNTER(dns_queries_evicted);
	COUNTER(dns_unsolicited);
	COUNTER(dns_mismatched);
	COUNTER(addrs_new);
	COUNTER(addrs_refreshed);
	COUNTER(addrs_fresh);
	COUNTER(tls_segments);
	COUNTER(tls_hellos);
	COUNTER(tls_allowed);
	COUNTER(tls_denied);
	COUNTER(tls_no_sni);
	COUNTER(tls_not_tls);
	COUNTER(tls_out_of_order);
	COUNTER(tls_table_full);
	COUNTER(set_batches);
	COUNTER(set_elements);
	COUNTER(set_errors);
	COUNTER(queue_overruns);
	COUNTER(queue_dropped);
	COUNTER(queue_user_dropped);
	COUNTER(reloads);
	COUNTER(reload_errors);
	COUNTER(steer_installs);
	return o;
}

static json_t *info_json(const struct guard_stats_info *i)
{
	json_t *o = json_object();
	json_object_set_new(o, "rules", json_string(i->rules));
	if (i->table)
		json_object_set_new(o, "table", json_string(i->table));
	json_object_set_new(o, "mode", json_string(i->mode));
	json_object_set_new(o, "queue", json_string(i->queue));
	json_object_set_new(o, "refresh", json_string(i->refresh));
	json_object_set_new(o, "fail_open", json_boolean(i->fail_open));
	json_object_set_new(o, "queue_drops_known", json_boolean(i->queue_drops_known));
	json_object_set_new(o, "pid", json_integer(i->pid));
	json_object_set_new(o, "started", json_integer((json_int_t)i->started));
	json_object_set_new(o, "updated", json_integer((json_int_t)i->updated));
	json_object_set_new(o, "sets", json_integer((json_int_t)i->sets));
	json_object_set_new(o, "learnt", json_integer((json_int_t)i->learnt));
	json_object_set_new(o, "aliases", json_integer((json_int_t)i->aliases));
	json_object_set_new(o, "connections", json_integer((json_int_t)i->conns));
	json_object_set_new(o, "queries", json_integer((json_int_t)i->queries));
	if (i->hold) {
		json_object_set_new(o, "dns_hold_p50_us", json_integer((json_int_t)lat_hist_quantile(i->hold, 0.50)));
		json_object_set_new(o, "dns_hold_p99_us", json_integer((json_int_t)lat_hist_quantile(i->hold, 0.99)));
	}
	return o;
}

int guard_stats_write(const char *path, const struct guard_counters *c, const struct guard_stats_info *i)
{
	struct safefile w;
	int err = ENOMEM;
	json_t *root = json_object();
	/* 0644: counters only, no learnt names; readable by a monitoring user where the
	 * directory lets it */
	if (root && safefile_begin(&w, path, 0644, false) == 0) {
		json_object_set_new(root, "guard", info_json(i));
		json_object_set_new(root, "counters", counters_json(c));
		bool ok = json_dumpf(root, w.f, JSON_INDENT(2) | JSON_SORT_KEYS) == 0;
		int ret = safefile_commit(&w, ok, false);
		err = ret < 0 ? (ok ? errno : EIO) : 0;
	} else if (root) {
		err = errno;
		safefile_commit(&w, false, false);
	}
	json_decref(root);
	errno = err;
	return err ? -1 : 0;
}

/* The table and pid the stats file at path names; false when it names none. */
static bool stats_owner(const char *path, char *table, size_t max, long *pid)
{
	json_t *root = json_load_file(path, 0, NULL);
	json_t *g = json_object_get(root, "guard");
	const char *t = json_string_value(json_object_get(g, "table"));
	bool ok = t && json_is_integer(json_object_get(g, "pid"));
	if (ok) {
		snprintf(table, max, "%s", t);
		*pid = (long)json_integer_value(json_object_get(g, "pid"));
	}
	json_decref(root);
	return ok;
}

int guard_files_forget(const char *dir, const char *table, long *pid)
{
	char stats[PATH_MAX], state[PATH_MAX], gens[PATH_MAX], owner[256];
	snprintf(stats, sizeof(stats), "%s/guard.stats", dir);
	snprintf(state, sizeof(state), "%s/guard.state", dir);
	snprintf(gens, sizeof(gens), "%s/guard.generations", dir);
	if (!stats_owner(stats, owner, sizeof(owner), pid) || strcmp(owner, table))
		return GUARD_FILES_NONE;
	/* EPERM: a process of another user has that pid, perhaps the guard itself. */
	if (*pid > 0 && (kill((pid_t)*pid, 0) == 0 || errno == EPERM))
		return GUARD_FILES_RUNNING;
	if ((unlink(state) < 0 && errno != ENOENT) || (unlink(gens) < 0 && errno != ENOENT) ||
	    (unlink(stats) < 0 && errno != ENOENT))
		return -1;
	return GUARD_FILES_REMOVED;
}
