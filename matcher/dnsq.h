/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dnsq.h — the DNS queries the guard saw go to a resolver and not yet answered, so that it
 * believes only answers to them. Without I/O: the caller hands it decoded packets and
 * parsed messages (dns.h), a test does the same from bytes.
 *
 * A query is remembered by its 5-tuple (protocol, client address and port, server address
 * and port), its ID and its question (type and name). An answer is believed when it comes
 * from the server to the client of a remembered query, with the same ID and the same
 * question; the query is then forgotten (a resolver's client takes one answer). Anything
 * else is unsolicited (no such query: a wrong ID, port, address or type, never asked,
 * already answered, or asked too long ago) or mismatched (the name differs).
 *
 * The table is fixed-size and set-associative: a query's slot is one of DNSQ_WAYS in the
 * bucket its seeded hash picks, an expired or empty one, else the one that expires first.
 * A flood of queries therefore costs no memory and no time beyond the table: it pushes out
 * older queries (counted), whose answers are then not believed, and nothing is learnt. */
#ifndef PINHOLE_DNSQ_H
#define PINHOLE_DNSQ_H

#include <stddef.h>
#include <stdint.h>

#include "dns.h"
#include "packet.h"

#define DNSQ_WAYS 8

enum dnsq_result {
	DNSQ_RECORDED,		/* query: remembered (or a retransmission refreshed) */
	DNSQ_EVICTED,		/* query: remembered in place of an unanswered live query */
	DNSQ_ANSWERED,		/* answer: to a remembered query, which is now forgotten */
	DNSQ_UNSOLICITED,	/* answer: no remembered query of this 5-tuple, ID and type */
	DNSQ_MISMATCHED,	/* answer: the query of this 5-tuple, ID and type asked another name */
};

struct dnsq;

/* A table for capacity queries (twice that many slots, a power of two, so that an uneven
 * bucket seldom pushes a query out early), each remembered for timeout_ms. Returns NULL on
 * ENOMEM. */
struct dnsq *dnsq_new(size_t capacity, uint32_t timeout_ms);
void dnsq_free(struct dnsq *q);

/* Remembers the query m (parsed by dns_parse_response, which returns DNS_NOT_RESPONSE for
 * one) that packet p carries from the client (p's source) to the server, at now_ms.
 * Returns DNSQ_RECORDED or DNSQ_EVICTED. */
enum dnsq_result dnsq_query(struct dnsq *q, uint64_t now_ms, const struct packet *p, const struct dns_response *m);

/* Whether the response m that packet p carries from a server to a client answers a
 * remembered query, at now_ms. Returns DNSQ_ANSWERED (and forgets the query),
 * DNSQ_UNSOLICITED or DNSQ_MISMATCHED. */
enum dnsq_result dnsq_answer(struct dnsq *q, uint64_t now_ms, const struct packet *p, const struct dns_response *m);

/* Queries remembered and not expired at now_ms (walks the table: for stats, not per packet). */
size_t dnsq_outstanding(const struct dnsq *q, uint64_t now_ms);
/* The same counted in steps, for a once-a-second statistic that must not walk a table of
 * megabytes while answers wait: each call counts one sixteenth of the table afresh and
 * returns the sum of the latest counts of every sixteenth. */
size_t dnsq_outstanding_step(struct dnsq *q, uint64_t now_ms);

#endif
