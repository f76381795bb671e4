/* SPDX-License-Identifier: GPL-2.0-or-later */
/* packet.h — from a captured frame to its TCP or UDP payload: link layer, IPv4/IPv6, ports. */
#ifndef PINHOLE_PACKET_H
#define PINHOLE_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "cidr.h"

/* Link types, numbered as the pcap file format's LINKTYPE_ values. */
enum packet_link {
	LINK_NULL = 0,		/* BSD loopback: 4-byte address family in the capturer's byte order */
	LINK_ETHERNET = 1,
	LINK_RAW = 101,		/* IPv4 or IPv6, no link header */
	LINK_LOOP = 108,	/* OpenBSD loopback: 4-byte address family, big endian */
	LINK_LINUX_SLL = 113,
	LINK_LINUX_SLL2 = 276,
	LINK_IPV4 = 228,
	LINK_IPV6 = 229,
};

enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_ACK = 0x10 };

struct packet {
	uint8_t family;			/* FAMILY_V4 or FAMILY_V6 */
	struct addr src, dst;
	uint8_t proto;			/* 6 (TCP) or 17 (UDP) */
	uint16_t sport, dport;
	uint32_t seq;			/* TCP only */
	uint8_t tcp_flags;		/* TCP only */
	const uint8_t *payload;		/* points into the frame */
	size_t len;
};

enum packet_status {
	PACKET_OK,
	PACKET_SKIP,		/* well formed but not for us: ARP, ICMP, a non-first fragment, ... */
	PACKET_TRUNCATED,	/* the capture cut the headers short, or lengths disagree */
};

/* Decodes frame[0..caplen) of link type link into *out. Returns PACKET_OK for a TCP or UDP
 * packet of an unfragmented IPv4/IPv6 datagram. Never reads outside the frame. */
enum packet_status packet_decode(enum packet_link link, const uint8_t *frame, size_t caplen, struct packet *out);

/* Writes into out (max bytes) the TCP segment in[0..len) (a raw IPv4/IPv6 packet, TCP
 * right after the IP header) as a FIN|ACK with the same addresses, ports, sequence and
 * acknowledgement numbers and no payload, checksums recomputed: what the guard sends on in
 * place of a denied ClientHello, so the server's end closes. Returns its length, or 0 when
 * in is not such a segment or out is too small. */
size_t packet_tcp_fin(const uint8_t *in, size_t len, uint8_t *out, size_t max);

/* Whether link is one packet_decode understands. */
int packet_link_known(int link);

#endif
