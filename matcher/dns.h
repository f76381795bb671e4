/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dns.h — DNS responses: the question, the CNAME chain from it, and the addresses it ends in.
 *
 * RFC 1035 §4 (message format, §4.1.4 compression), RFC 2181 §8 (TTLs), RFC 6891 (EDNS0), RFC
 * 7766 (DNS over TCP: each message prefixed with its 16-bit length). */
#ifndef PINHOLE_DNS_H
#define PINHOLE_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"

/* A name in text form: lower case, no trailing dot, bytes other than letters, digits, '-'
 * and '_' written as \DDD (as dig does), so it is plain ASCII. 255 wire bytes at most. */
#define DNS_NAME_TEXT_MAX 1024
#define DNS_MAX_CNAMES 16	/* a longer chain is cut there */
/* The longest message: DNS over TCP frames each message with a 16-bit length (RFC 7766 §8)
 * and a UDP payload is shorter still; a longer buffer is malformed. */
#define DNS_MESSAGE_MAX 65535
/* The most address records a message can hold: a 12-octet header, the shortest question (the
 * root: 5 octets) and 15 octets per A record owned by the root (1 + 10 + 4). addrs has room for
 * that many, so every A and AAAA of an answer is kept, whatever its size. */
#define DNS_MAX_ADDRS ((DNS_MESSAGE_MAX - 12 - 5) / 15)

struct dns_cname {
	char name[DNS_NAME_TEXT_MAX];	/* the target */
	uint32_t ttl;
};

struct dns_addr {
	uint8_t family;		/* FAMILY_V4 or FAMILY_V6 */
	struct addr addr;
	uint32_t ttl;
};

struct dns_response {
	uint16_t id;
	uint8_t rcode;
	bool truncated;		/* TC: the client retries over TCP */
	bool edns;		/* an OPT record was present */
	uint16_t edns_udp_size;
	uint16_t qtype;
	char question[DNS_NAME_TEXT_MAX];
	struct dns_cname cnames[DNS_MAX_CNAMES];	/* the chain in order, from the question */
	size_t n_cnames;
	struct dns_addr addrs[DNS_MAX_ADDRS];	/* every A/AAAA owned by the question or the
						 * chain, in answer-section order */
	size_t n_addrs;
	uint32_t ttl;		/* the smallest TTL of the chain and the addresses; 0 if none */
};

enum dns_status {
	DNS_OK,
	DNS_NOT_RESPONSE,	/* a well-formed query (QR clear) */
	DNS_MALFORMED,
};

/* Parses the message msg[0..len) (no TCP length prefix) into *out (about 140 KB: allocate it
 * once and reuse it). Returns DNS_OK, or another status with a static reason in *why (why may
 * be NULL); len over DNS_MESSAGE_MAX is malformed. Records of other owners are skipped; every
 * section is still checked. Never reads outside msg. */
enum dns_status dns_parse_response(const uint8_t *msg, size_t len, struct dns_response *out, const char **why);

#endif
