/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard.h — what the guard decides, without any I/O: which DNS answers teach which kernel
 * sets what, for how long; which TLS connections may go on. The runner (guard_run.h) feeds
 * it packets and carries its decisions to the kernel; tests feed it bytes.
 *
 * Believing (DNS): a response is read only when it answers a query the guard saw (same
 * 5-tuple, ID and question, dnsq.h); the steering rules let through only answers from the
 * resolvers and queries to them (guard_steer.h).
 *
 * Learning (DNS): a response whose question or CNAME chain matches a set's names teaches
 * that set's NAME_dns_v4 / NAME_dns_v6 every A / AAAA address of the chain, each for its
 * own TTL clamped to [ttl_min, ttl_max]. Every response counts: one that would make an
 * address live longer than the kernel element does refreshes it (a cache answering with a
 * smaller remaining TTL changes nothing). The guard remembers what it committed, so a
 * response that brings nothing new costs no kernel round trip.
 *
 * Checking (TLS): a connection towards a learnt address on tcp/443 is allowed when its
 * ClientHello's server name is allowed by an `allow out` rule for tcp and that port, or is
 * a name whose CNAME chain led into such a set (a landing-page CNAME). Anything else is
 * denied: another name, no name, not TLS, a broken ClientHello. ECH hides the real name;
 * the outer (public) name is what is checked. */
#ifndef PINHOLE_GUARD_H
#define PINHOLE_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dns.h"
#include "packet.h"
#include "policy.h"
#include "tls.h"
#include "verdict.h"

struct guard_config {
	uint32_t ttl_min, ttl_max;	/* seconds: the kernel timeout of a learnt address */
	size_t max_learnt;		/* addresses remembered; past it, learning goes on unremembered */
	size_t max_conns;		/* TLS connections being read at once; past it, new ones are denied */
	uint32_t conn_idle_ms;		/* an undecided connection idle this long is forgotten */
	size_t max_queries;		/* outstanding DNS queries remembered (dnsq.h) */
	uint32_t query_timeout_ms;	/* an answer later than this after its query is not believed */
};

/* Defaults: 60 s .. 1 day, 1,000,000 addresses, 65,536 connections, 10 s, 65,536 queries
 * for 10 s. */
void guard_config_defaults(struct guard_config *c);

/* Counters since start; the runner adds its own (batches, queue drops) to the same struct
 * and writes them to the stats file. */
struct guard_counters {
	uint64_t packets_dns, packets_tls, packets_undecodable;
	uint64_t dns_responses, dns_malformed, dns_matched, dns_ignored, dns_tcp_out_of_order;
	uint64_t dns_queries, dns_queries_evicted, dns_unsolicited, dns_mismatched;
	uint64_t addrs_new, addrs_refreshed, addrs_fresh;	/* fresh: nothing to send */
	uint64_t tls_segments, tls_hellos, tls_allowed, tls_denied, tls_no_sni, tls_not_tls, tls_out_of_order, tls_table_full;
	uint64_t set_batches, set_elements, set_errors;
	uint64_t dns_dropped_uncommitted;	/* answers dropped: the update they waited for failed */
	uint64_t queue_overruns, queue_dropped, queue_user_dropped;
	uint64_t reloads, reload_errors, steer_installs;
};

/* A policy set with names, as the guard sees it. */
struct guard_set {
	const struct ir_set *set;
	char kset[2][KSET_NAME_MAX];	/* [0] NAME_dns_v4, [1] NAME_dns_v6 */
	bool present[2];		/* the kernel has it (guard_set_present) */
	bool tls;			/* an allow-out rule lets its names use tcp/443 */
};

/* One element to add (or to delete: reload) in a set's kernel set. */
struct guard_update {
	uint32_t set;			/* index of the guard set */
	uint8_t family;
	struct addr addr;
	uint32_t timeout_ms;
	bool known;			/* the guard committed it before and believes it is there */
};

struct guard;

/* Builds the guard for policy p (which must outlive it, or be swapped by guard_reload).
 * Returns NULL with *why set (ENOMEM, or a regex that does not compile). */
struct guard *guard_new(const struct policy *p, const struct guard_config *c, const char **why);
void guard_free(struct guard *g);

size_t guard_n_sets(const struct guard *g);
const struct guard_set *guard_set_at(const struct guard *g, size_t i);
/* Tells the guard whether the kernel has set i's set of family (FAMILY_V4/V6); addresses
 * of a family whose set is missing are not learnt. */
void guard_set_present(struct guard *g, size_t i, uint8_t family, bool present);
struct guard_counters *guard_counters(struct guard *g);

/* ---- DNS ---- */

/* What one message did, for the log. */
struct guard_dns_decision {
	enum {
		GUARD_DNS_LEARN,	/* an answer to a query that was seen, matching a set */
		GUARD_DNS_IGNORE,	/* an answer to a query that was seen, matching no set */
		GUARD_DNS_MALFORMED,
		GUARD_DNS_QUERY,	/* a query: remembered */
		GUARD_DNS_UNSOLICITED,	/* an answer to no query seen (why says how): not read */
	} what;
	const char *why;		/* MALFORMED: the parser's reason; UNSOLICITED: which check */
	const struct dns_response *resp;
	const char *matched;		/* LEARN: the name of the chain that matched, first set */
	const char *set;		/* LEARN: the first set it matched */
	size_t n_sets;			/* sets it matched */
	size_t n_new, n_refresh;	/* elements to send */
	size_t n_waiting;		/* elements the answer waits for before it may go on: its
					 * own to send, and those an earlier answer is sending */
};

/* Reads the DNS message msg[0..len) (no TCP length prefix) that packet p carries (its
 * addresses and ports; msg may be p's payload or a message reassembled from TCP) at time
 * now_ms (monotonic). A query is remembered (dnsq.h); an answer is read only when it
 * answers a remembered query, and the elements it teaches join the pending list
 * (guard_pending). The caller sees to it that only queries to the resolvers and answers
 * coming from them get here (guard_steer.h). */
void guard_dns(struct guard *g, uint64_t now_ms, const struct packet *p, const uint8_t *msg, size_t len,
	       struct guard_dns_decision *d);

/* Where queries come from when they do not come with the answers (strict mode: answers
 * are queued, queries logged on another socket): when an answer matches no remembered
 * query, read_queries(arg) is called once to read the queries waiting there, and the
 * answer is looked up again. An answer's query was logged before the answer was queued,
 * so it is in that socket by the time the answer is read. */
void guard_set_query_source(struct guard *g, void (*read_queries)(void *arg), void *arg);
/* While on, responses are not read (counted unsolicited): the query path carries queries
 * only, and an answer there did not pass the resolver checks of the answer path. */
void guard_queries_only(struct guard *g, bool on);

/* The elements waiting to be sent, in no particular order; n is their number. */
const struct guard_update *guard_pending(const struct guard *g, size_t *n);
/* After the runner sent the pending elements: ok when the kernel committed them. Either
 * way the pending list is emptied; on failure nothing is believed to be in the kernel. */
void guard_pending_done(struct guard *g, bool ok, uint64_t now_ms);

/* Forget what the kernel is believed to hold (someone else changed the ruleset): the next
 * response for each address is sent again. */
void guard_forget_kernel(struct guard *g);

/* Queues every remembered address whose kernel element is not trusted (guard_load, or
 * guard_forget_kernel) again, with the time it has left: after a re-apply recreated the
 * sets, or at start, clients that hold cached answers must not find them gone. Returns
 * how many were queued. */
size_t guard_replay(struct guard *g, uint64_t now_ms);

/* DNS over TCP (RFC 7766: each message behind a two-byte length), one segment p at a time
 * (queries from the client, answers from the server), reassembled in stream order per
 * direction. Every message the segment completes is
 * read as guard_dns reads one, and fn gets its decision. Returns false when the segment
 * lies past a gap and must be dropped (the server sends it again), true otherwise. */
typedef void (*guard_dns_fn)(const struct guard_dns_decision *d, void *arg);
bool guard_dns_tcp(struct guard *g, uint64_t now_ms, const struct packet *p, guard_dns_fn fn, void *arg);

/* ---- TLS ---- */

enum guard_tls_verdict {
	GUARD_TLS_PASS,		/* no decision yet: let this segment through */
	GUARD_TLS_HOLD,		/* a segment past a gap: drop it, the sender will resend it */
	GUARD_TLS_ALLOW,	/* decided: the connection may go on */
	GUARD_TLS_DENY,		/* decided: the connection is cut */
};

enum guard_tls_reason {
	GUARD_TLS_NAME_ALLOWED,		/* ALLOW: the server name is allowed */
	GUARD_TLS_ALIAS_ALLOWED,	/* ALLOW: a name whose CNAME chain led to an allowed name */
	GUARD_TLS_NAME_DENIED,		/* DENY: no rule allows the name */
	GUARD_TLS_NO_NAME,		/* DENY: a ClientHello without server name */
	GUARD_TLS_NOT_TLS,		/* DENY: the stream is not TLS */
	GUARD_TLS_MALFORMED,		/* DENY: a broken ClientHello */
	GUARD_TLS_TOO_MANY,		/* DENY: the connection table is full */
	GUARD_TLS_NONE,			/* PASS / HOLD */
};
const char *guard_tls_reason_text(enum guard_tls_reason r);

struct guard_tls_decision {
	enum guard_tls_verdict verdict;
	enum guard_tls_reason reason;
	struct tls_hello_info hello;	/* ALLOW / DENY after a ClientHello */
	const char *via;		/* ALIAS_ALLOWED: the name the CNAME chain led to */
	const struct ir_rule *rule;	/* ALLOW: the rule that allows it */
};

/* Takes one client-to-server TCP packet p (decoded from its IP header) of a connection
 * that has no decision yet, at now_ms. */
void guard_tls(struct guard *g, uint64_t now_ms, const struct packet *p, struct guard_tls_decision *d);

/* Drops idle undecided connections and expired memories. Call now and then (every second). */
void guard_expire(struct guard *g, uint64_t now_ms);
/* The same in steps: looks at no more than budget entries of each of the learnt, alias
 * and connection tables, going on where the previous step stopped, so that a table of a
 * million addresses is not walked while answers wait. */
void guard_expire_step(struct guard *g, uint64_t now_ms, size_t budget);
/* Learnt addresses, aliases and connections being read now. */
size_t guard_n_learnt(const struct guard *g);
size_t guard_n_aliases(const struct guard *g);
size_t guard_n_conns(const struct guard *g);
/* Outstanding DNS queries, counted in steps (dnsq_outstanding_step): after 16 calls, as
 * many as there were, each part counted at its own call. */
size_t guard_n_queries(struct guard *g, uint64_t now_ms);

/* ---- reload ---- */

/* Switches to policy p. Learnt addresses whose set still exists and whose name the set
 * still matches are kept; the others become the removal list (guard_removals), for the
 * runner to delete from the kernel. Returns 0, or -1 with *why and the old policy kept. */
int guard_reload(struct guard *g, const struct policy *p, const char **why);
/* Elements to delete after a reload (set names of the old policy) and their number. */
struct guard_removal {
	char kset[KSET_NAME_MAX];
	uint8_t family;
	struct addr addr;
};
const struct guard_removal *guard_removals(const struct guard *g, size_t *n);
void guard_removals_clear(struct guard *g);

/* ---- persistence across restarts ---- */

/* Writes what the guard remembers (learnt addresses with their kernel expiry, CNAME
 * aliases) to f, one line each, with wall-clock expiry times (now_wall_ms, CLOCK_REALTIME)
 * so that a restart can take it back. Returns 0 or -1 (write error). */
int guard_save(const struct guard *g, uint64_t now_ms, uint64_t now_wall_ms, FILE *f);
/* guard_save in steps, so that a million addresses are not written while answers wait:
 * each call writes what up to budget more entries hold (0: all the rest), going on where w
 * (all zero at first) stopped. Entries that move between steps (the table grew, one was
 * removed) may be missed or written twice: a restart learns a missed one again from its
 * next answer, and takes a repeated one once. Returns 1 when all is written, 0 when more
 * remains, -1 on a write error. */
struct guard_save_walk {
	int part;		/* 0 not begun, 1 learnt, 2 aliases, 3 done */
	size_t pos;
};
int guard_save_step(const struct guard *g, struct guard_save_walk *w, uint64_t now_ms, uint64_t now_wall_ms,
		    FILE *f, size_t budget);
/* Reads what guard_save wrote; entries that expired or no longer match are skipped, and
 * so are lines not exactly in guard_save's form and addresses that are not one host's
 * (addr_is_unicast). Lifetimes are cut to ttl_max from now. Returns the number of entries
 * taken. */
size_t guard_load(struct guard *g, uint64_t now_ms, uint64_t now_wall_ms, FILE *f);

#endif
