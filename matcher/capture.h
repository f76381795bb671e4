/* SPDX-License-Identifier: GPL-2.0-or-later */
/* capture.h — what the matcher sees on the wire: one record per TLS ClientHello and per DNS
 * response, from a pcap/pcapng file or (through flow.h) from any packet source. */
#ifndef PINHOLE_CAPTURE_H
#define PINHOLE_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ast.h"
#include "cidr.h"
#include "dns.h"
#include "tls.h"

struct capture_endpoint {
	uint8_t family;		/* FAMILY_V4 or FAMILY_V6 */
	struct addr addr;
	uint16_t port;
};

enum capture_kind { CAPTURE_SNI, CAPTURE_DNS };

struct capture_record {
	enum capture_kind kind;
	struct capture_endpoint src, dst;	/* of the packet that completed the message */
	enum ast_proto proto;			/* PROTO_TCP or PROTO_UDP */
	struct tls_hello_info tls;		/* CAPTURE_SNI; a malformed hello has no name */
	bool malformed;				/* CAPTURE_SNI: the hello broke the format */
	struct dns_response dns;		/* CAPTURE_DNS */
};

/* Called once per record, in the order the completing packets appear. The record is only
 * valid during the call. A negative return stops the reading. */
typedef int (*capture_fn)(const struct capture_record *rec, void *arg);

/* Reads the pcap or pcapng file at path ("-" is stdin) and calls fn for every record.
 * Returns 0, or -1 with a message in err (size errlen): an unreadable file, an unsupported
 * link type, or fn asked to stop. */
int capture_read_file(const char *path, capture_fn fn, void *arg, char *err, size_t errlen);

#endif
