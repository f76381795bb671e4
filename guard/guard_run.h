/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_run.h — the guard daemon: packets from NFQUEUE (strict) or NFLOG (passive), the
 * guard's decisions carried to the kernel, signals, counters. Runs in the foreground until
 * SIGTERM or SIGINT; SIGHUP reloads the rules.
 *
 * Strict mode, one round: read the logged DNS queries; read up to 1024 queued packets; DNS
 * answers are read and held,
 * TLS packets get their verdict; the elements the answers teach go to the kernel in one
 * batch; once it committed, the held answers are released; every verdict leaves in one
 * sendmsg(). A client therefore never holds an answer whose addresses are not yet in the
 * kernel set, and a burst of answers costs one set update.
 *
 * Everything the daemon says goes through guard_log. */
#ifndef PINHOLE_GUARD_RUN_H
#define PINHOLE_GUARD_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "guard.h"
#include "guard_log.h"
#include "guard_sets.h"
#include "guard_steer.h"
#include "policy.h"

struct guard_run_opts {
	const char *rules;			/* the rules file, for logs and the stats file */
	/* Compiles the rules (at start and on SIGHUP): a policy the runner then owns, or NULL
	 * after the callback reported why. */
	struct policy *(*load)(void *arg);
	void *load_arg;
	bool passive;				/* NFLOG copies instead of NFQUEUE; no TLS checks */
	bool fail_open;				/* queues let packets through while nobody listens */
	bool steer;				/* install the steering chains (guard_steer.h) */
	bool deny_reset;			/* denied TLS connections get a reset (else a drop) */
	enum steer_queue queue;
	uint16_t dns_queue, tls_queue, log_group;
	/* Resolvers whose answers are believed (guard_resolv.h): these addresses, else the
	 * nameservers of resolv_conf. */
	const char *const *resolvers;
	size_t n_resolvers;
	const char *resolv_conf;
	uint32_t queue_maxlen;
	enum gset_refresh refresh;
	struct guard_config cfg;
	const char *stats_path;			/* NULL: no stats file */
	const char *state_path;			/* NULL: nothing kept across restarts */
	const char *generations_path;		/* NULL: the guard's generations not recorded */
	struct glog *log;
};

/* Runs the guard. Returns 0 after a clean stop, -1 when it could not start (logged). */
int guard_run(const struct guard_run_opts *o);

#endif
