/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dns_forge.c — one hand-made DNS datagram for guard_forge.sh: a query or an answer with
 * any source address and port (a raw socket), so that the tests can play a forger and a
 * quiet resolver. Run inside a test namespace; documentation addresses only.
 *
 *   dns_forge query  SRC SPORT DST DPORT ID NAME [TYPE]
 *   dns_forge answer SRC SPORT DST DPORT ID NAME ADDR [via IFNAME MAC]
 *
 * answer: NAME A ADDR (or AAAA for an IPv6 ADDR), TTL 300; the question is NAME A/AAAA.
 * via: sent on IFNAME to the link-layer address MAC whatever the route says (a LAN client
 * handing the gateway a datagram addressed to another host of its own LAN). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static uint8_t pkt[1024];

static size_t put_name(uint8_t *o, const char *name)
{
	size_t n = 0;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t len = dot ? (size_t)(dot - name) : strlen(name);
		o[n++] = (uint8_t)len;
		memcpy(o + n, name, len);
		n += len;
		name += len + (dot ? 1 : 0);
	}
	o[n++] = 0;
	return n;
}

/* The DNS message at o; addr/alen: the answer's address (alen 0: a query of type qtype). */
static size_t dns_msg(uint8_t *o, unsigned id, const char *name, unsigned qtype, const uint8_t *addr, size_t alen)
{
	bool answer = alen > 0;
	uint8_t head[12] = { (uint8_t)(id >> 8), (uint8_t)id, answer ? 0x81 : 0x01, answer ? 0x80 : 0, 0, 1, 0, answer, 0, 0, 0, 0 };
	size_t n = 12;
	memcpy(o, head, 12);
	n += put_name(o + n, name);
	if (answer)
		qtype = alen == 4 ? 1 : 28;
	uint8_t q[4] = { (uint8_t)(qtype >> 8), (uint8_t)qtype, 0, 1 };
	memcpy(o + n, q, 4);
	n += 4;
	if (answer) {
		uint8_t rr[12] = { 0xc0, 12, 0, (uint8_t)qtype, 0, 1, 0, 0, 1, 0x2c, 0, (uint8_t)alen };
		memcpy(o + n, rr, 12);
		memcpy(o + n + 12, addr, alen);
		n += 12 + alen;
	}
	return n;
}

static uint32_t sum(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* IP header + UDP header around the payload already at pkt + ip + 8. */
static size_t frame(bool v6, const uint8_t *src, const uint8_t *dst, unsigned sport, unsigned dport, size_t dlen)
{
	size_t ip = v6 ? 40 : 20, alen = v6 ? 16 : 4, ulen = 8 + dlen;
	uint8_t *u = pkt + ip;
	u[0] = (uint8_t)(sport >> 8), u[1] = (uint8_t)sport, u[2] = (uint8_t)(dport >> 8), u[3] = (uint8_t)dport;
	u[4] = (uint8_t)(ulen >> 8), u[5] = (uint8_t)ulen, u[6] = u[7] = 0;
	uint8_t pseudo[40] = { 0 };
	memcpy(pseudo, src, alen);
	memcpy(pseudo + alen, dst, alen);
	uint32_t s = sum(0, pseudo, 2 * alen) + 17 + (uint32_t)ulen;
	uint16_t c = fold(sum(s, u, ulen));
	u[6] = (uint8_t)(c >> 8), u[7] = (uint8_t)c;
	memset(pkt, 0, ip);
	if (v6) {
		pkt[0] = 0x60, pkt[4] = (uint8_t)(ulen >> 8), pkt[5] = (uint8_t)ulen, pkt[6] = 17, pkt[7] = 64;
		memcpy(pkt + 8, src, 16);
		memcpy(pkt + 24, dst, 16);
	} else {
		pkt[0] = 0x45, pkt[2] = (uint8_t)((20 + ulen) >> 8), pkt[3] = (uint8_t)(20 + ulen), pkt[8] = 64, pkt[9] = 17;
		memcpy(pkt + 12, src, 4);
		memcpy(pkt + 16, dst, 4);
		pkt[10] = pkt[11] = 0;
		uint16_t h = fold(sum(0, pkt, 20));
		pkt[10] = (uint8_t)(h >> 8), pkt[11] = (uint8_t)h;
	}
	return ip + ulen;
}

static int send_via(const char *ifname, const char *mac, bool v6, size_t len)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(v6 ? ETH_P_IPV6 : ETH_P_IP),
				  .sll_ifindex = (int)if_nametoindex(ifname), .sll_halen = 6 };
	unsigned m[6];
	if (sscanf(mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6 || !ll.sll_ifindex)
		return -1;
	for (int i = 0; i < 6; i++)
		ll.sll_addr[i] = (uint8_t)m[i];
	int fd = socket(AF_PACKET, SOCK_DGRAM, 0);
	return fd < 0 ? -1 : (int)sendto(fd, pkt, len, 0, (struct sockaddr *)&ll, sizeof(ll));
}

static int send_raw(bool v6, const uint8_t *dst, size_t len)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0)
		return -1;
	memcpy(v6 ? (void *)&in6.sin6_addr : (void *)&in.sin_addr, dst, v6 ? 16 : 4);
	return (int)(v6 ? sendto(fd, pkt, len, 0, (struct sockaddr *)&in6, sizeof(in6))
			: sendto(fd, pkt, len, 0, (struct sockaddr *)&in, sizeof(in)));
}

int main(int argc, char **argv)
{
	uint8_t src[16], dst[16], addr[16];
	bool answer = argc >= 9 && !strcmp(argv[1], "answer"), query = argc >= 8 && !strcmp(argv[1], "query");
	if (!answer && !query) {
		fprintf(stderr, "usage: dns_forge query SRC SPORT DST DPORT ID NAME [TYPE]\n"
				"       dns_forge answer SRC SPORT DST DPORT ID NAME ADDR [via IFNAME MAC]\n");
		return 2;
	}
	bool v6 = strchr(argv[2], ':');
	int af = v6 ? AF_INET6 : AF_INET;
	size_t alen = 0;
	if (inet_pton(af, argv[2], src) != 1 || inet_pton(af, argv[4], dst) != 1)
		return fprintf(stderr, "dns_forge: bad address\n"), 2;
	if (answer) {
		bool av6 = strchr(argv[8], ':');
		if (inet_pton(av6 ? AF_INET6 : AF_INET, argv[8], addr) != 1)
			return fprintf(stderr, "dns_forge: bad answer address\n"), 2;
		alen = av6 ? 16 : 4;
	}
	unsigned qtype = query && argc >= 9 ? (unsigned)atoi(argv[8]) : 1;
	size_t dlen = dns_msg(pkt + (v6 ? 48 : 28), (unsigned)strtoul(argv[6], NULL, 0), argv[7], qtype, addr, alen);
	size_t len = frame(v6, src, dst, (unsigned)atoi(argv[3]), (unsigned)atoi(argv[5]), dlen);
	int rc = answer && argc >= 12 && !strcmp(argv[9], "via") ? send_via(argv[10], argv[11], v6, len)
								   : send_raw(v6, dst, len);
	if (rc < 0) {
		perror("dns_forge: send");
		return 1;
	}
	return 0;
}
