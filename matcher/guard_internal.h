/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_internal.h — what guard.c, guard_tls.c and guard_state.c share: the policy view and
 * the three tables (learnt addresses, CNAME aliases, TLS connections being read). */
#ifndef PINHOLE_GUARD_INTERNAL_H
#define PINHOLE_GUARD_INTERNAL_H

#include "dnsq.h"
#include "guard.h"
#include "guard_table.h"

#define GUARD_MAX_ALIASES 262144

/* What the guard reads from a policy; rebuilt on reload. */
struct guard_view {
	const struct policy *policy;
	struct guard_set *sets;
	struct domset **names;		/* parallel to sets: each set's names and regexes */
	size_t n_sets;
	struct verdict_table *vt;	/* allow-out rules, for TLS server names */
};

/* A learnt address of one guard set. Padding is zeroed: the key is compared bytewise. */
struct learnt_key {
	uint8_t family;
	uint8_t pad[3];
	uint32_t set;
	struct addr addr;
};

struct learnt {
	struct learnt_key key;
	uint64_t expires_ms;	/* when the kernel element is believed to expire */
	uint64_t pending_ms;	/* the expiry an update being sent would give */
	uint32_t pending_slot;	/* 1 + its index in the pending list; 0: none */
	bool trusted;		/* the guard committed it and nobody changed the ruleset since */
	char *name;		/* the name that taught it, for reload */
};

/* A name whose CNAME chain led into a set whose names may use tcp/443. */
struct alias_key {
	char name[NAME_MAX_LEN + 1];
};

struct alias {
	struct alias_key key;
	char target[NAME_MAX_LEN + 1];
	uint64_t expires_ms;
};

/* One direction (client to server) of a TCP connection whose ClientHello is being read. */
struct conn_key {
	uint8_t family;
	uint8_t pad[3];
	uint16_t sport, dport;
	struct addr src, dst;
};

struct conn {
	struct conn_key key;
	struct tls_stream *tls;
	uint32_t next_seq;	/* the next stream byte expected */
	uint64_t last_ms;
};

/* A DNS-over-TCP connection's server-to-client bytes since the last whole message. */
struct dnsconn {
	struct conn_key key;
	uint32_t next_seq;
	uint8_t *buf;		/* up to GUARD_DNS_TCP_MAX bytes */
	size_t len;
	uint64_t last_ms;
};
#define GUARD_DNS_TCP_MAX (2 + 65535)
#define GUARD_MAX_DNS_CONNS 4096

struct guard {
	struct guard_config cfg;
	struct guard_view view;
	struct gtab learnt, aliases, conns, dnsconns;
	size_t sweep[3];		/* where guard_expire_step goes on in learnt, aliases, conns */
	struct dnsq *queries;		/* outstanding DNS queries */
	struct guard_update *pending;
	size_t n_pending, cap_pending;
	struct guard_removal *removals;
	size_t n_removals, cap_removals;
	struct guard_counters counters;
	struct dns_response resp;	/* reused: about 20 KB */
	struct dns_response query;	/* the same for queries, read while an answer is judged */
	void (*read_queries)(void *arg);
	void *read_queries_arg;
	bool queries_only;
};

int guard_view_build(struct guard_view *v, const struct policy *p, const char **why);
void guard_view_free(struct guard_view *v);
uint32_t guard_clamp_ttl(const struct guard_config *c, uint32_t ttl);
void guard_learnt_key(struct learnt_key *k, uint32_t set, uint8_t family, struct addr a);
void guard_dnsconns_free(struct gtab *t);
void guard_dnsconns_expire(struct guard *g, uint64_t now_ms);
void guard_alias_add(struct guard *g, const char *name, const char *target, uint64_t expires_ms);

#endif
