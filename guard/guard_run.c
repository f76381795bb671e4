/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_run.c — start, the poll loop, signals, the once-a-second chores, reload, stop. */
#include "guard_run_internal.h"
#include "guard_sandbox.h"
#include "safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define RUN_RCVBUF (16u << 20)		/* 16 MiB: a burst of answers while a batch commits */
#define RUN_SAVE_EVERY_MS 30000u	/* the state file, so that a crash loses little */

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the kernel's sets and the steering rules ---- */

/* Asks the kernel which dynamic sets exist. Returns how many do. */
static size_t check_sets(struct runner *r)
{
	size_t found = 0;
	for (size_t i = 0; i < guard_n_sets(r->g); i++)
		for (int f = 0; f < 2; f++) {
			const char *name = guard_set_at(r->g, i)->kset[f];
			int has = gset_exists(r->nl, r->policy->table, name);
			if (has == 0 && guard_set_at(r->g, i)->present[f])
				glog(r->log, GLOG_WARNING, "set %s is not in table inet %s: its addresses are not "
					     "learnt (run pinhole apply)", name, r->policy->table);
			guard_set_present(r->g, i, f ? FAMILY_V6 : FAMILY_V4, has == 1);
			found += has == 1;
		}
	return found;
}

static int install_steering(struct runner *r)
{
	const char *sets[2 * 256];
	size_t n = 0;
	for (size_t i = 0; i < guard_n_sets(r->g) && n + 2 <= sizeof(sets) / sizeof(*sets); i++)
		for (int f = 0; f < 2; f++)
			if (guard_set_at(r->g, i)->tls && guard_set_at(r->g, i)->present[f])
				sets[n++] = guard_set_at(r->g, i)->kset[f];
	struct steer_config c = {
		.table = r->policy->table, .priority = r->policy->priority - 1, .passive = r->o->passive,
		.queue = r->queue, .dns_queue = r->o->dns_queue, .tls_queue = r->o->tls_queue,
		.log_group = r->o->log_group, .bypass = r->o->fail_open, .deny_reset = r->o->deny_reset,
		.tls_sets = sets, .n_tls_sets = n, .resolvers = r->resolvers.remote,
		.n_resolvers = r->resolvers.n_remote, .local_resolver = r->resolvers.local,
	};
	struct gnl_error err;
	if (steer_install(r->nl, &c, &err) < 0) {
		bool no_queue = err.err == ENOENT && c.queue == STEER_QUEUE_NFT;
		glog(r->log, GLOG_ERR, "cannot install the steering rules in table inet %s: %s%s", r->policy->table,
		     strerror(err.err),
		     no_queue ? " (this kernel has no nft queue expression, CONFIG_NFT_QUEUE: use --steer auto or xt)"
			      : "");
		return -1;
	}
	r->queue = c.queue;
	for (size_t i = 0; i < 3; i++)
		r->steer_rules[i] = steer_rule_count(&c, i);
	r->genid++;	/* one commit of its own, not someone else's change */
	guard_counters(r->g)->steer_installs++;
	glog(r->log, GLOG_NOTICE, "steering rules installed in table inet %s (%s, %s, %zu checked sets, fail-%s)",
	     r->policy->table, r->o->passive ? "log group" : "queue",
	     r->o->passive ? "nflog" : steer_queue_name(r->queue), n, r->o->fail_open ? "open" : "closed");
	return 0;
}

/* The resolvers whose answers are believed: --resolver, else resolv.conf. Returns -1
 * (logged) when there are none. */
static int find_resolvers(struct runner *r)
{
	const char *why = NULL;
	char text[1024];
	for (size_t i = 0; i < r->o->n_resolvers; i++)
		if (guard_resolvers_add(&r->resolvers, r->o->resolvers[i], &why) < 0) {
			glog(r->log, GLOG_ERR, "--resolver %s: %s", r->o->resolvers[i], why);
			return -1;
		}
	FILE *f = r->o->n_resolvers == 0 && r->o->resolv_conf ? fopen(r->o->resolv_conf, "re") : NULL;
	if (f) {
		guard_resolvers_read_conf(&r->resolvers, f);
		fclose(f);
	}
	if (guard_resolvers_find_local(&r->resolvers) < 0)
		glog(r->log, GLOG_WARNING, "cannot list this host's addresses: %s", strerror(errno));
	if (r->resolvers.n_remote == 0 && !r->resolvers.local) {
		glog(r->log, GLOG_ERR, "no resolver to believe: %s names none; give --resolver ADDRESS",
		     r->o->n_resolvers ? "--resolver" : r->o->resolv_conf ? r->o->resolv_conf : "nothing");
		return -1;
	}
	guard_resolvers_text(&r->resolvers, text, sizeof(text));
	glog(r->log, GLOG_NOTICE, "DNS answers are believed from %s%s, for queries seen", text,
	     r->o->n_resolvers ? "" : " (the nameservers of resolv.conf)");
	return 0;
}

/* Whether the guard puts its chains in the policy's table. In sets-only mode the table is
 * the user's, whose own rules steer packets (pinhole(8), GUARD), unless --steer names a
 * queue form explicitly. */
static bool steering(const struct runner *r)
{
	return r->o->steer && (r->policy->mode != POLICY_MODE_SETS_ONLY || r->o->queue != STEER_QUEUE_AUTO);
}

/* ---- the stats and state files ---- */

static void write_stats(struct runner *r)
{
	struct guard_counters *c = guard_counters(r->g);
	uint64_t d = 0, u = 0, total_d = 0, total_u = 0;
	int known = 0;
	/* Not readable under systemd's ProcSubset=pid: then the file says so. */
	for (int i = 0; r->q && i < 2; i++)
		if (pq_proc_drops(i ? r->o->tls_queue : r->o->dns_queue, &d, &u) == 0)
			total_d += d, total_u += u, known++;
	c->queue_dropped = total_d;
	c->queue_user_dropped = total_u;
	/* Both sockets: in strict mode a lost query copy means its answer is not believed. */
	c->queue_overruns = (r->q ? pq_overruns(r->q) : 0) + (r->lg ? plog_overruns(r->lg) : 0);
	if (!r->o->stats_path)
		return;
	struct guard_stats_info i = {
		.rules = r->o->rules, .mode = r->o->passive ? "passive" : "strict",
		.queue = r->o->passive ? "none" : steer_queue_name(r->queue), .refresh = gset_refresh_name(r->refresh),
		.fail_open = r->o->fail_open, .queue_drops_known = known == 2, .pid = (long)getpid(), .started = r->started_wall / 1000,
		.updated = wall_ms() / 1000, .learnt = guard_n_learnt(r->g), .aliases = guard_n_aliases(r->g),
		.conns = guard_n_conns(r->g), .sets = guard_n_sets(r->g), .queries = guard_n_queries(r->g, run_now_ms()),
		.hold = r->o->passive ? NULL : &r->hold,
		.table = r->policy ? r->policy->table : NULL,
	};
	if (guard_stats_write(r->o->stats_path, c, &i) < 0)
		glog(r->log, GLOG_DEBUG, "cannot write %s: %s", r->o->stats_path, strerror(errno));
}

/* 0600: the learnt names and addresses are nobody else's business (the directory is 0700
 * when the guard makes it). */
static void save_state(struct runner *r)
{
	struct safefile w;
	if (!r->o->state_path)
		return;
	bool ok = safefile_begin(&w, r->o->state_path, 0600, false) == 0 &&
		  guard_save(r->g, run_now_ms(), wall_ms(), w.f) == 0;
	if (safefile_commit(&w, ok, false) < 0)
		glog(r->log, GLOG_WARNING, "cannot save %s: %s", r->o->state_path, *w.why ? w.why : strerror(errno));
	r->last_save_ms = run_now_ms();
}

static void load_state(struct runner *r)
{
	char why[SAFEFILE_WHY];
	int fd = r->o->state_path ? safefile_open(r->o->state_path, O_RDONLY, 0, false, why) : -1;
	FILE *f = fd >= 0 ? fdopen(fd, "re") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		else if (r->o->state_path && errno != ENOENT)
			glog(r->log, GLOG_WARNING, "not taking learnt entries back: %s", why);
		return;
	}
	size_t n = guard_load(r->g, run_now_ms(), wall_ms(), f);
	fclose(f);
	size_t replay = guard_replay(r->g, run_now_ms());
	glog(r->log, GLOG_NOTICE, "took %zu entries back from %s; %zu addresses sent to the kernel again", n,
	     r->o->state_path, replay);
	run_commit(r);
}

/* ---- once a second ---- */

/* Someone else committed to the ruleset (a re-apply): the sets may have been made anew and
 * the steering chains deleted. Put back what the guard knows. */
static void foreign_change(struct runner *r)
{
	glog(r->log, GLOG_NOTICE, "the ruleset changed under the guard: checking its sets and rules");
	check_sets(r);
	guard_forget_kernel(r->g);
	size_t n = guard_replay(r->g, run_now_ms());
	run_commit(r);
	if (n)
		glog(r->log, GLOG_NOTICE, "%zu learnt addresses sent to the kernel again", n);
	if (steering(r) && steer_present(r->nl, r->policy->table, r->steer_rules) != 1) {
		glog(r->log, GLOG_WARNING, "the steering rules were removed; installing them again");
		install_steering(r);
	}
}

static void every_second(struct runner *r)
{
	uint64_t expirations;
	uint32_t gen;
	if (read(r->tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return;
	uint64_t now = run_now_ms();
	guard_expire(r->g, now);
	if (gnl_genid(r->nl, &gen) == 0 && gen != r->genid) {
		foreign_change(r);
		if (gnl_genid(r->nl, &gen) == 0)
			r->genid = gen;
	}
	write_stats(r);
	if (now - r->last_save_ms >= RUN_SAVE_EVERY_MS)
		save_state(r);
	glog_flush(r->log);
}

/* ---- SIGHUP ---- */

static void reload(struct runner *r)
{
	const char *why = NULL;
	glog(r->log, GLOG_NOTICE, "reloading %s", r->o->rules);
	glog_flush(r->log);
	struct policy *p = r->o->load(r->o->load_arg);
	if (!p || guard_reload(r->g, p, &why) < 0) {
		guard_counters(r->g)->reload_errors++;
		glog(r->log, GLOG_ERR, "reload failed%s%s: the previous rules stay in force", why ? ": " : "",
		     why ? why : "");
		policy_free(p);
		return;
	}
	policy_free(r->policy);
	r->policy = p;
	guard_counters(r->g)->reloads++;
	run_removals(r);
	check_sets(r);
	if (steering(r))
		install_steering(r);
	glog(r->log, GLOG_NOTICE, "reloaded: %zu name sets, %zu learnt addresses kept", guard_n_sets(r->g),
	     guard_n_learnt(r->g));
}

static void on_signal(struct runner *r)
{
	struct signalfd_siginfo si;
	while (read(r->sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			reload(r);
		else
			r->stop = true;
	}
}

/* ---- start and stop ---- */

static int open_fds(struct runner *r)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 || (r->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		return -1;
	struct itimerspec it = { { 1, 0 }, { 1, 0 } };
	if ((r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0 ||
	    timerfd_settime(r->tfd, 0, &it, NULL) < 0)
		return -1;
	return 0;
}

static void read_queries(void *arg)
{
	run_read_queries(arg);
}

static int open_packets(struct runner *r)
{
	const struct guard_run_opts *o = r->o;
	struct pq_opts qo = { .maxlen = o->queue_maxlen, .fail_open = o->fail_open };
	if (!o->passive && (!(r->q = pq_open(RUN_RCVBUF)) || pq_bind(r->q, o->dns_queue, &qo) < 0 ||
			    pq_bind(r->q, o->tls_queue, &qo) < 0)) {
		/* The kernel answers EPERM both without CAP_NET_ADMIN and when another socket
		 * holds the queue. */
		glog(r->log, GLOG_ERR, "cannot bind queues %u and %u: %s%s", o->dns_queue, o->tls_queue,
		     strerror(errno),
		     errno == EPERM || errno == EBUSY ? " (another guard runs, or no CAP_NET_ADMIN?)" : "");
		return -1;
	}
	/* Both modes: the log group carries DNS queries (and in passive mode the answers). */
	if (!(r->lg = plog_open(RUN_RCVBUF)) || plog_bind(r->lg, o->log_group) < 0) {
		glog(r->log, GLOG_ERR, "cannot listen to log group %u: %s%s", o->log_group, strerror(errno),
		     errno == EPERM || errno == EBUSY ? " (another guard runs, or no CAP_NET_ADMIN?)" : "");
		return -1;
	}
	if (!o->passive)
		guard_set_query_source(r->g, read_queries, r);
	return 0;
}

static int open_kernel(struct runner *r)
{
	if (!(r->nl = gnl_open())) {
		glog(r->log, GLOG_ERR, "cannot open nf_tables netlink: %s", strerror(errno));
		return -1;
	}
	r->refresh = r->o->refresh;
	if (r->o->generations_path && gnl_record_generations(r->nl, r->o->generations_path) < 0)
		glog(r->log, GLOG_WARNING, "cannot record generations in %s: %s (pinhole apply will dump after "
		     "the guard's commits)", r->o->generations_path, strerror(errno));
	if (r->refresh == GSET_REFRESH_AUTO && gset_probe_refresh(r->nl, &r->refresh) < 0) {
		glog(r->log, GLOG_ERR, "cannot probe set element refresh: %s%s", strerror(errno),
		     errno == EPERM ? " (the guard needs CAP_NET_ADMIN)" : "");
		return -1;
	}
	if (guard_n_sets(r->g) == 0) {
		glog(r->log, GLOG_ERR, "%s has no set with names: nothing to guard", r->o->rules);
		return -1;
	}
	if (check_sets(r) == 0) {
		glog(r->log, GLOG_ERR, "no dynamic set of %s is in table inet %s: run pinhole apply first", r->o->rules,
		     r->policy->table);
		return -1;
	}
	return 0;
}

/* Every socket is open: give up what the guard does not need (guard_sandbox.h). */
static int enter_sandbox(struct runner *r)
{
	struct guard_sandbox s;
	const char *why = NULL;
	if (guard_sandbox_enter(&s, &why) < 0) {
		glog(r->log, GLOG_ERR, "%s: %s", why, strerror(errno));
		return -1;
	}
	if (s.bounding_kept)
		glog(r->log, GLOG_WARNING, "the capability bounding set keeps more than CAP_NET_ADMIN (no CAP_SETPCAP "
					   "to narrow it); no-new-privileges and the seccomp filter stop their use");
	glog(r->log, GLOG_INFO, "sandbox: CAP_NET_ADMIN only, no-new-privileges, seccomp allowlist");
	return 0;
}

static int start(struct runner *r)
{
	const char *why = NULL;
	if (open_fds(r) < 0) {
		glog(r->log, GLOG_ERR, "cannot set up signals and timer: %s", strerror(errno));
		return -1;
	}
	if (!(r->policy = r->o->load(r->o->load_arg)))
		return -1;
	if (!(r->g = guard_new(r->policy, &r->o->cfg, &why))) {
		glog(r->log, GLOG_ERR, "%s", why);
		return -1;
	}
	/* Queues before rules: a rule steering to a queue nobody holds would drop. */
	if (open_kernel(r) < 0 || open_packets(r) < 0 || (steering(r) && find_resolvers(r) < 0))
		return -1;
	load_state(r);
	if (steering(r) && install_steering(r) < 0)
		return -1;
	if (!steering(r))
		glog(r->log, GLOG_NOTICE, "no steering rules installed (%s): queue DNS answers to %u and TLS to %u "
					  "yourself, see pinhole(8), GUARD", r->o->steer ? "sets-only mode" : "--no-steer",
		     r->o->dns_queue, r->o->tls_queue);
	if (gnl_genid(r->nl, &r->genid) < 0)
		return -1;
	if (enter_sandbox(r) < 0)
		return -1;
	glog(r->log, GLOG_NOTICE, "started: %s mode, %zu name sets, refresh by %s, ttl %u..%u s, fail-%s",
	     r->o->passive ? "passive" : "strict", guard_n_sets(r->g), gset_refresh_name(r->refresh),
	     r->o->cfg.ttl_min, r->o->cfg.ttl_max, r->o->fail_open ? "open" : "closed");
	return 0;
}

static void finish(struct runner *r)
{
	if (r->g) {
		save_state(r);
		write_stats(r);
	}
	/* The steering rules stay: with the guard gone their queues drop (fail-closed) or
	 * let through (fail-open). `pinhole guard --uninstall` removes them. */
	pq_close(r->q);
	plog_close(r->lg);
	gnl_close(r->nl);
	guard_free(r->g);
	policy_free(r->policy);
	free(r->held);
	free(r->scratch);
	if (r->sfd >= 0)
		close(r->sfd);
	if (r->tfd >= 0)
		close(r->tfd);
	glog_flush(r->log);
}

static int loop(struct runner *r)
{
	while (!r->stop) {
		struct pollfd fds[4] = {
			{ r->q ? pq_fd(r->q) : plog_fd(r->lg), POLLIN, 0 },
			{ r->sfd, POLLIN, 0 },
			{ r->tfd, POLLIN, 0 },
			{ r->q ? plog_fd(r->lg) : -1, POLLIN, 0 },
		};
		if (poll(fds, 4, -1) < 0 && errno != EINTR) {
			glog(r->log, GLOG_ERR, "poll: %s", strerror(errno));
			return -1;
		}
		if ((fds[0].revents & POLLIN) && run_round(r) < 0)
			return -1;
		if (fds[3].revents & POLLIN) {
			r->now_us = run_now_us();
			run_read_queries(r);
		}
		if (fds[1].revents & POLLIN)
			on_signal(r);
		if (fds[2].revents & POLLIN)
			every_second(r);
	}
	return 0;
}

int guard_run(const struct guard_run_opts *o)
{
	struct runner r = { .o = o, .log = o->log, .sfd = -1, .tfd = -1, .started_wall = wall_ms(), .queue = o->queue };
	int ret = -1;
	if (start(&r) < 0)
		goto out;
	ret = loop(&r);
	glog(r.log, GLOG_NOTICE, "stopping (%s)", ret == 0 ? "signal" : "error");
out:
	finish(&r);
	return ret;
}
