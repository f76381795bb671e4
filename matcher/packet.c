/* SPDX-License-Identifier: GPL-2.0-or-later */
/* packet.c — link, network and transport headers, each checked against what was captured. */
#include "packet.h"

#include <stdbool.h>
#include <string.h>

enum {
	ETH_IPV4 = 0x0800,
	ETH_IPV6 = 0x86dd,
	ETH_VLAN = 0x8100,
	ETH_QINQ = 0x88a8,
	IPPROTO_TCP_ = 6,
	IPPROTO_UDP_ = 17,
};

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

int packet_link_known(int link)
{
	switch (link) {
	case LINK_NULL: case LINK_ETHERNET: case LINK_RAW: case LINK_LOOP:
	case LINK_LINUX_SLL: case LINK_LINUX_SLL2: case LINK_IPV4: case LINK_IPV6:
		return 1;
	default:
		return 0;
	}
}

static enum packet_status transport(const uint8_t *p, size_t n, uint8_t proto, struct packet *out)
{
	out->proto = proto;
	if (proto == IPPROTO_UDP_) {
		if (n < 8)
			return PACKET_TRUNCATED;
		size_t ulen = be16(p + 4);
		if (ulen < 8 || ulen > n)
			return PACKET_TRUNCATED;
		out->sport = (uint16_t)be16(p);
		out->dport = (uint16_t)be16(p + 2);
		out->payload = p + 8;
		out->len = ulen - 8;
		return PACKET_OK;
	}
	if (proto != IPPROTO_TCP_)
		return PACKET_SKIP;
	if (n < 20)
		return PACKET_TRUNCATED;
	size_t hlen = (size_t)(p[12] >> 4) * 4;
	if (hlen < 20 || hlen > n)
		return PACKET_TRUNCATED;
	out->sport = (uint16_t)be16(p);
	out->dport = (uint16_t)be16(p + 2);
	out->seq = be32(p + 4);
	out->tcp_flags = p[13];
	out->payload = p + hlen;
	out->len = n - hlen;
	return PACKET_OK;
}

static enum packet_status ipv4(const uint8_t *p, size_t n, struct packet *out)
{
	if (n < 20 || (p[0] >> 4) != 4)
		return PACKET_TRUNCATED;
	size_t hlen = (size_t)(p[0] & 0x0f) * 4, total = be16(p + 2);
	if (hlen < 20 || total < hlen || total > n)
		return PACKET_TRUNCATED;
	/* Fragments cannot be reassembled from the first bytes alone; the MF bit or an offset
	 * means this is one. */
	if (be16(p + 6) & 0x3fff)
		return PACKET_SKIP;
	out->family = FAMILY_V4;
	out->src = (struct addr){ 0, be32(p + 12) };
	out->dst = (struct addr){ 0, be32(p + 16) };
	return transport(p + hlen, total - hlen, p[9], out);
}

/* Walks the IPv6 extension headers (RFC 8200 §4) to the transport header. */
static enum packet_status ipv6(const uint8_t *p, size_t n, struct packet *out)
{
	if (n < 40 || (p[0] >> 4) != 6)
		return PACKET_TRUNCATED;
	size_t plen = be16(p + 4);
	if (plen == 0 || 40 + plen > n)
		return plen == 0 ? PACKET_SKIP : PACKET_TRUNCATED;	/* 0: a jumbogram */
	out->family = FAMILY_V6;
	out->src = (struct addr){ be64(p + 8), be64(p + 16) };
	out->dst = (struct addr){ be64(p + 24), be64(p + 32) };
	uint8_t next = p[6];
	const uint8_t *h = p + 40;
	size_t left = plen;
	for (int i = 0; i < 8; i++) {
		if (next == IPPROTO_TCP_ || next == IPPROTO_UDP_)
			return transport(h, left, next, out);
		if (next != 0 && next != 43 && next != 60 && next != 44)
			return PACKET_SKIP;
		if (left < 8)
			return PACKET_TRUNCATED;
		/* A fragment header: only an atomic fragment (offset 0, no M bit) is whole. */
		if (next == 44 && (be16(h + 2) & 0xfff9))
			return PACKET_SKIP;
		size_t hl = next == 44 ? 8 : ((size_t)h[1] + 1) * 8;
		if (hl > left)
			return PACKET_TRUNCATED;
		next = h[0];
		h += hl;
		left -= hl;
	}
	return PACKET_SKIP;
}

static enum packet_status ip_any(const uint8_t *p, size_t n, struct packet *out)
{
	if (n < 1)
		return PACKET_TRUNCATED;
	return (p[0] >> 4) == 6 ? ipv6(p, n, out) : ipv4(p, n, out);
}

static enum packet_status by_ethertype(unsigned type, const uint8_t *p, size_t n, struct packet *out)
{
	if (type == ETH_IPV4)
		return ipv4(p, n, out);
	if (type == ETH_IPV6)
		return ipv6(p, n, out);
	return PACKET_SKIP;
}

static enum packet_status ethernet(const uint8_t *p, size_t n, struct packet *out)
{
	if (n < 14)
		return PACKET_TRUNCATED;
	unsigned type = be16(p + 12);
	size_t off = 14;
	for (int tags = 0; (type == ETH_VLAN || type == ETH_QINQ) && tags < 2; tags++) {
		if (n < off + 4)
			return PACKET_TRUNCATED;
		type = be16(p + off + 2);
		off += 4;
	}
	return by_ethertype(type, p + off, n - off, out);
}

/* BSD address families for IPv6 differ by system (24, 28, 30); IPv4 is 2 everywhere. */
static enum packet_status bsd_loopback(const uint8_t *p, size_t n, bool big_endian_only, struct packet *out)
{
	if (n < 4)
		return PACKET_TRUNCATED;
	uint32_t be = be32(p), le = (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
	uint32_t af = big_endian_only || be < 256 ? be : le;
	if (af == 2)
		return ipv4(p + 4, n - 4, out);
	if (af == 24 || af == 28 || af == 30)
		return ipv6(p + 4, n - 4, out);
	return PACKET_SKIP;
}

enum packet_status packet_decode(enum packet_link link, const uint8_t *frame, size_t caplen, struct packet *out)
{
	switch (link) {
	case LINK_ETHERNET:
		return ethernet(frame, caplen, out);
	case LINK_RAW:
		return ip_any(frame, caplen, out);
	case LINK_IPV4:
		return ipv4(frame, caplen, out);
	case LINK_IPV6:
		return ipv6(frame, caplen, out);
	case LINK_NULL:
		return bsd_loopback(frame, caplen, false, out);
	case LINK_LOOP:
		return bsd_loopback(frame, caplen, true, out);
	case LINK_LINUX_SLL:
		return caplen < 16 ? PACKET_TRUNCATED : by_ethertype(be16(frame + 14), frame + 16, caplen - 16, out);
	case LINK_LINUX_SLL2:
		return caplen < 20 ? PACKET_TRUNCATED : by_ethertype(be16(frame), frame + 20, caplen - 20, out);
	}
	return PACKET_SKIP;
}

/* ---- the FIN that replaces a denied ClientHello ---- */

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)(p[n - 1] << 8);
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The TCP checksum over the pseudo header (RFC 793 3.1, RFC 8200 8.1) and the segment. */
static void tcp_checksum(uint8_t *tcp, size_t tcp_len, const uint8_t *src, const uint8_t *dst, size_t alen)
{
	uint8_t pseudo[4] = { 0, 0, 0, 6 };
	uint32_t sum = csum_add(csum_add(0, src, alen), dst, alen);
	if (alen == 16) {
		sum += (uint32_t)(tcp_len >> 16) + (uint32_t)(tcp_len & 0xffff);
		sum = csum_add(sum, pseudo, 4);
	} else {
		sum += 6 + (uint32_t)tcp_len;
	}
	put16(tcp + 16, 0);
	put16(tcp + 16, csum_fold(csum_add(sum, tcp, tcp_len)));
}

size_t packet_tcp_fin(const uint8_t *in, size_t len, uint8_t *out, size_t max)
{
	size_t ip_len, thl;
	bool v4 = len >= 20 && in[0] >> 4 == 4;
	if (v4)
		ip_len = (size_t)(in[0] & 0x0f) * 4;
	else if (len >= 40 && in[0] >> 4 == 6 && in[6] == 6)
		ip_len = 40;	/* extension headers: none (packet_decode found TCP right after) */
	else
		return 0;
	if (ip_len < 20 || len < ip_len + 20 || (v4 && in[9] != 6))
		return 0;
	thl = (size_t)(in[ip_len + 12] >> 4) * 4;
	if (thl < 20 || len < ip_len + thl || ip_len + thl > max)
		return 0;
	memcpy(out, in, ip_len + thl);
	uint8_t *tcp = out + ip_len;
	tcp[13] = TCP_FIN | TCP_ACK;
	if (v4) {
		put16(out + 2, (uint16_t)(ip_len + thl));
		put16(out + 10, 0);
		put16(out + 10, csum_fold(csum_add(0, out, ip_len)));
		tcp_checksum(tcp, thl, out + 12, out + 16, 4);
	} else {
		put16(out + 4, (uint16_t)thl);
		tcp_checksum(tcp, thl, out + 8, out + 24, 16);
	}
	return ip_len + thl;
}
