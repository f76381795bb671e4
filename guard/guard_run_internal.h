/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_run_internal.h — the runner's state, shared by guard_run.c (start, loop, signals,
 * reload) and guard_round.c (packets and kernel updates). */
#ifndef PINHOLE_GUARD_RUN_INTERNAL_H
#define PINHOLE_GUARD_RUN_INTERNAL_H

#include "guard_resolv.h"
#include "guard_run.h"
#include "guard_stats.h"
#include "packet_log.h"
#include "packet_queue.h"

/* A DNS answer held in the queue until its addresses are committed. */
struct held {
	uint16_t queue;
	uint32_t id;
	uint64_t since_us;
};

struct runner {
	const struct guard_run_opts *o;
	struct glog *log;
	struct policy *policy;
	struct guard *g;
	struct gnl *nl;
	struct pq *q;
	struct plog *lg;		/* passive: DNS answers and queries; strict: queries */
	struct guard_resolvers resolvers;
	int sfd, tfd;
	enum gset_refresh refresh;
	enum steer_queue queue;		/* resolved at the first install */
	size_t steer_rules[3];		/* rules per guard chain at the last install */
	uint32_t genid;			/* the generation the guard's own commits produced */
	struct held *held;
	size_t n_held, cap_held;
	struct gset_elem *scratch;
	size_t cap_scratch;
	struct lat_hist hold;
	uint64_t now_us;		/* of the current round */
	uint64_t started_wall;
	uint64_t last_save_ms;
	bool stop;
};

uint64_t run_now_us(void);
static inline uint64_t run_now_ms(void)
{
	return run_now_us() / 1000;
}

/* One round of packets; returns -1 when a packet socket failed. */
int run_round(struct runner *r);
/* Reads the DNS queries waiting in the log socket (strict mode). */
void run_read_queries(struct runner *r);
/* Sends what the guard has pending; a failure is logged and counted. */
void run_commit(struct runner *r);
/* Deletes the guard's removal list from the kernel (after a reload). */
void run_removals(struct runner *r);

#endif
