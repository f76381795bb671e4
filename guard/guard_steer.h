/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_steer.h — the rules that steer packets to the guard, in pinhole's own table.
 *
 * The guard installs them when it starts (one batch that replaces its chains atomically),
 * installs them again when something else removed them (`pinhole apply` keeps chains named
 * guard_* unless it recreates a set they use; `nft -f` of the compiled script does not),
 * and leaves them in place when it stops: that is what makes it fail closed, since a queue
 * nobody listens to drops what reaches it (unless the rules carry `bypass`: fail open).
 * `pinhole guard --uninstall` removes them; `pinhole remove` removes them with the table.
 *
 * Three base chains, guard_input / guard_forward / guard_output, at the policy's priority
 * minus one so that they run before pinhole's own chains; in nftables a drop in any base
 * chain is final, an accept only ends that chain. For forward and output (input: DNS only):
 *
 *   ct mark & MASK == DENY tcp flags & rst == rst accept   # resets of denied connections
 *   ct mark & MASK == DENY ct direction reply tcp flags set rst,ack accept  # forward, reset:
 *                                                    # the server's answer to the FIN
 *   ct mark & MASK == ALLOW accept                  # TLS decided: allowed
 *   ct mark & MASK == DENY reject with tcp reset     # TLS decided: denied (or drop)
 *   meta mark & MASK == ALLOW ct mark set ..., meta mark set ... accept   # a verdict with
 *   meta mark & MASK == DENY ct mark set ..., meta mark set ... reject    # NF_REPEAT
 *                                  (forward, reset: accept the FIN that replaced the hello)
 *   DNS answers and queries (below)
 *   ip daddr @S_dns_v4 tcp dport 443 queue num TLS  # per set whose names may use 443
 *   ip daddr @S_dns_v4 udp dport 443 reject          # QUIC: browsers fall back to TCP
 *   (and the same for ip6 / S_dns_v6)
 *
 * DNS: only answers from the resolvers, in the direction an answer travels, reach the
 * guard, and the queries to them are logged so that it believes only answers to queries
 * it saw (dnsq.h). Per resolver address R (udp and tcp each):
 *
 *   input, forward: ip saddr R fib saddr . iif oif != 0 udp sport 53 queue num DNS
 *   forward, output: ip daddr R udp dport 53 log group G
 *
 * The fib match is a strict reverse-path check: the answer came in on the interface this
 * host's route to R leaves by, so a client on another interface cannot pass its own
 * datagram off as R's. A resolver on this host (loopback, or one of its addresses) answers
 * from here:
 *
 *   output: udp sport 53 queue num DNS               # answers this host sends
 *   input:  udp dport 53 log group G                 # queries it receives
 *
 * Queries are logged, not queued: they do not wait for the guard. An answer cannot reach
 * the guard's queue before the copy of its query is in the log socket, and the guard
 * reads the log first (guard_round.c). In passive mode answers go to the log group too. *
 * The guard's verdict cannot set the conntrack mark itself on kernels without
 * CONFIG_NETFILTER_NETLINK_GLUE_CT (like this one), so it sets the packet mark and answers
 * NF_REPEAT: the hook runs again and the two mark rules copy the decision into the
 * conntrack mark, so the connection's later packets never leave the kernel.
 *
 * Queueing: the nft `queue` expression needs CONFIG_NFT_QUEUE, which some kernels lack;
 * then the same rule ends in the xtables NFQUEUE target (nft_compat, CONFIG_NFT_COMPAT and
 * CONFIG_NETFILTER_XT_TARGET_NFQUEUE), still inside pinhole's table. `nft list` prints both
 * as `queue num N`; with the xt form it also warns that the table is "managed by
 * iptables-nft", which here only means it holds an xt expression. */
#ifndef PINHOLE_GUARD_STEER_H
#define PINHOLE_GUARD_STEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guard_sets.h"

enum steer_queue {
	STEER_QUEUE_AUTO,	/* nft queue when the kernel has it, else xt NFQUEUE */
	STEER_QUEUE_NFT,
	STEER_QUEUE_XT,
};
const char *steer_queue_name(enum steer_queue q);

/* The conntrack / packet mark bits the guard owns; other bits are left as they are. */
#define STEER_MARK_MASK 0x60000000u
#define STEER_MARK_ALLOW 0x20000000u
#define STEER_MARK_DENY 0x40000000u

/* A resolver whose answers are believed (not one on this host: steer_config.local). */
struct steer_resolver {
	uint8_t family;
	struct addr addr;
};

struct steer_config {
	const char *table;		/* family inet */
	int32_t priority;		/* of the guard chains */
	bool passive;			/* NFLOG copies of DNS answers; no TLS checks */
	enum steer_queue queue;		/* AUTO is resolved by steer_install */
	uint16_t dns_queue, tls_queue;	/* strict mode */
	uint16_t log_group;		/* DNS queries; passive mode: answers too */
	const struct steer_resolver *resolvers;	/* remote resolvers */
	size_t n_resolvers;
	bool local_resolver;		/* a resolver on this host answers from here */
	bool bypass;			/* fail open: a queue without listener accepts */
	/* A denied TLS connection gets a TCP reset, else a drop. With resets, a denied
	 * ClientHello routed through the gateway goes on as a FIN (the guard's
	 * verdict replaces it) and the server's answer becomes the client's reset. */
	bool deny_reset;
	const char *const *tls_sets;	/* dynamic sets (NAME_dns_v4/_v6) whose tcp/443 is checked */
	size_t n_tls_sets;
};

/* Which queue form this kernel takes: validates a queue rule in a batch that is never
 * committed. Returns 0 with *out NFT or XT, -1 with errno when neither works. */
int steer_probe_queue(struct gnl *g, enum steer_queue *out);

/* Replaces the guard chains in c->table with the rules for c, in one batch. c->queue AUTO
 * is probed first and replaced with the answer. Returns 0, or -1 with *e (ENOENT: the
 * table or a set is missing). */
int steer_install(struct gnl *g, struct steer_config *c, struct gnl_error *e);

/* Deletes the guard chains of table. Returns 0 (also when there were none), or -1. */
int steer_remove(struct gnl *g, const char *table, struct gnl_error *e);

/* How many rules steer_install puts in guard chain `chain` (0 input, 1 forward, 2 output). */
size_t steer_rule_count(const struct steer_config *c, size_t chain);

/* Whether all three guard chains are in table with want[i] rules each (want NULL: any
 * number), so that a rule deleted by hand is noticed too. Returns 1, 0, or -1 with errno. */
int steer_present(struct gnl *g, const char *table, const size_t want[3]);

#endif
