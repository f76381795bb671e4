/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Outstanding DNS queries (matcher/dnsq.c), from the bytes of IPv4 and IPv6 datagrams: an
 * answer is believed only for the query it answers (5-tuple, ID, question), once, in time;
 * the table stays bounded under a flood; and the resolver list the guard steers by. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"
#include "dnsq.h"
#include "guard_resolv.h"
#include "packet.h"

/* ---- datagrams: IPv4 or IPv6 + UDP + a DNS message with one question ---- */

struct dgram {
	uint8_t b[512];
	size_t n;
	struct packet p;
	struct dns_response m;
};

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

/* The DNS message: a query, or an answer with one A record 203.0.113.66. */
static size_t dns_msg(uint8_t *o, uint16_t id, bool answer, const char *qname, uint16_t qtype)
{
	uint8_t head[12] = { (uint8_t)(id >> 8), (uint8_t)id, answer ? 0x81 : 0x01, answer ? 0x80 : 0, 0, 1, 0,
			     answer ? 1 : 0, 0, 0, 0, 0 };
	size_t n = 12;
	memcpy(o, head, 12);
	n += put_name(o + n, qname);
	uint8_t q[4] = { (uint8_t)(qtype >> 8), (uint8_t)qtype, 0, 1 };
	memcpy(o + n, q, 4);
	n += 4;
	if (answer) {
		uint8_t rr[16] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4, 203, 0, 113, 66 };
		memcpy(o + n, rr, 16);
		n += 16;
	}
	return n;
}

/* src and dst as text ("192.0.2.2" or "2001:db8:1::2"); decoded and parsed as the guard
 * does. */
static void make(struct dgram *d, const char *src, uint16_t sport, const char *dst, uint16_t dport, uint16_t id,
		 bool answer, const char *qname, uint16_t qtype)
{
	bool v6 = strchr(src, ':');
	size_t ip = v6 ? 40 : 20;
	memset(d, 0, sizeof(*d));
	uint8_t *u = d->b + ip;
	size_t dlen = dns_msg(u + 8, id, answer, qname, qtype), ulen = 8 + dlen;
	u[0] = (uint8_t)(sport >> 8), u[1] = (uint8_t)sport, u[2] = (uint8_t)(dport >> 8), u[3] = (uint8_t)dport;
	u[4] = (uint8_t)(ulen >> 8), u[5] = (uint8_t)ulen;
	if (v6) {
		d->b[0] = 0x60;
		d->b[4] = (uint8_t)(ulen >> 8), d->b[5] = (uint8_t)ulen;
		d->b[6] = 17;
		d->b[7] = 64;
		cr_assert_eq(inet_pton(AF_INET6, src, d->b + 8), 1);
		cr_assert_eq(inet_pton(AF_INET6, dst, d->b + 24), 1);
	} else {
		d->b[0] = 0x45;
		d->b[2] = (uint8_t)((ip + ulen) >> 8), d->b[3] = (uint8_t)(ip + ulen);
		d->b[8] = 64;
		d->b[9] = 17;
		cr_assert_eq(inet_pton(AF_INET, src, d->b + 12), 1);
		cr_assert_eq(inet_pton(AF_INET, dst, d->b + 16), 1);
	}
	d->n = ip + ulen;
	cr_assert_eq(packet_decode(LINK_RAW, d->b, d->n, &d->p), PACKET_OK);
	enum dns_status st = dns_parse_response(d->p.payload, d->p.len, &d->m, NULL);
	cr_assert_eq(st, answer ? DNS_OK : DNS_NOT_RESPONSE);
}

static struct dgram q, a;

#define C4 "192.0.2.2"
#define R4 "198.51.100.2"
#define C6 "2001:db8:1::2"
#define R6 "2001:db8:2::2"

static void exchange(struct dnsq *t, const char *c, const char *r)
{
	make(&q, c, 40000, r, 53, 0x4242, false, "ws.marketo.com", 1);
	cr_assert_eq(dnsq_query(t, 100, &q.p, &q.m), DNSQ_RECORDED);
	make(&a, r, 53, c, 40000, 0x4242, true, "ws.marketo.com", 1);
	cr_assert_eq(dnsq_answer(t, 200, &a.p, &a.m), DNSQ_ANSWERED);
	cr_assert_eq(dnsq_answer(t, 201, &a.p, &a.m), DNSQ_UNSOLICITED, "one answer per query");
}

Test(dnsq, an_answer_to_a_query_is_believed_once_over_ipv4_and_ipv6)
{
	struct dnsq *t = dnsq_new(1024, 10000);
	exchange(t, C4, R4);
	exchange(t, C6, R6);
	cr_assert_eq(dnsq_outstanding(t, 300), 0);
	dnsq_free(t);
}

Test(dnsq, the_question_is_compared_without_case)
{
	struct dnsq *t = dnsq_new(1024, 10000);
	/* 0x20 randomisation: the resolver echoes the client's mixed case. */
	make(&q, C4, 40000, R4, 53, 7, false, "Ws.MarKeTo.COM", 1);
	dnsq_query(t, 0, &q.p, &q.m);
	make(&a, R4, 53, C4, 40000, 7, true, "wS.mArKeTo.com", 1);
	cr_assert_eq(dnsq_answer(t, 1, &a.p, &a.m), DNSQ_ANSWERED);
	dnsq_free(t);
}

Test(dnsq, forgeries_of_every_field_are_not_believed)
{
	struct dnsq *t = dnsq_new(1024, 10000);
	make(&q, C4, 40000, R4, 53, 0x4242, false, "ws.marketo.com", 1);
	dnsq_query(t, 0, &q.p, &q.m);
	struct {
		const char *src, *dst;
		uint16_t sport, dport, id;
		const char *name;
		uint16_t type;
		enum dnsq_result want;
		const char *what;
	} cases[] = {
		{ C4, R4, 40000, 53, 0x4242, "ws.marketo.com", 1, DNSQ_UNSOLICITED, "the client's own packet back" },
		{ "192.0.2.3", C4, 53, 40000, 0x4242, "ws.marketo.com", 1, DNSQ_UNSOLICITED, "from a LAN host" },
		{ "198.51.100.3", C4, 53, 40000, 0x4242, "ws.marketo.com", 1, DNSQ_UNSOLICITED, "from another server" },
		{ R4, "192.0.2.1", 53, 40000, 0x4242, "ws.marketo.com", 1, DNSQ_UNSOLICITED, "to the gateway" },
		{ R4, C4, 5353, 40000, 0x4242, "ws.marketo.com", 1, DNSQ_UNSOLICITED, "from another port" },
		{ R4, C4, 53, 40001, 0x4242, "ws.marketo.com", 1, DNSQ_UNSOLICITED, "to another port" },
		{ R4, C4, 53, 40000, 0x4243, "ws.marketo.com", 1, DNSQ_UNSOLICITED, "another ID" },
		{ R4, C4, 53, 40000, 0x4242, "app.marketo.com", 1, DNSQ_MISMATCHED, "another name" },
		{ R4, C4, 53, 40000, 0x4242, "ws.marketo.com", 28, DNSQ_UNSOLICITED, "another type" },
		{ R6, C6, 53, 40000, 0x4242, "ws.marketo.com", 1, DNSQ_UNSOLICITED, "over IPv6" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		make(&a, cases[i].src, cases[i].sport, cases[i].dst, cases[i].dport, cases[i].id, true, cases[i].name,
		     cases[i].type);
		cr_assert_eq(dnsq_answer(t, 1, &a.p, &a.m), cases[i].want, "%s", cases[i].what);
	}
	/* None of them used the query up. */
	make(&a, R4, 53, C4, 40000, 0x4242, true, "ws.marketo.com", 1);
	cr_assert_eq(dnsq_answer(t, 2, &a.p, &a.m), DNSQ_ANSWERED);
	dnsq_free(t);
}

Test(dnsq, a_and_aaaa_asked_at_once_with_one_id_are_two_queries)
{
	struct dnsq *t = dnsq_new(1024, 10000);
	struct dgram aaaa;
	make(&q, C4, 40000, R4, 53, 5, false, "ws.marketo.com", 1);
	cr_assert_eq(dnsq_query(t, 0, &q.p, &q.m), DNSQ_RECORDED);
	make(&q, C4, 40000, R4, 53, 5, false, "ws.marketo.com", 28);
	cr_assert_eq(dnsq_query(t, 0, &q.p, &q.m), DNSQ_RECORDED);
	cr_assert_eq(dnsq_outstanding(t, 0), 2);
	make(&a, R4, 53, C4, 40000, 5, true, "ws.marketo.com", 1);
	make(&aaaa, R4, 53, C4, 40000, 5, true, "ws.marketo.com", 28);
	cr_assert_eq(dnsq_answer(t, 1, &aaaa.p, &aaaa.m), DNSQ_ANSWERED);
	cr_assert_eq(dnsq_answer(t, 1, &a.p, &a.m), DNSQ_ANSWERED);
	dnsq_free(t);
}

Test(dnsq, queries_expire_and_retransmissions_take_one_slot)
{
	struct dnsq *t = dnsq_new(1024, 10000);
	make(&q, C4, 40000, R4, 53, 9, false, "ws.marketo.com", 1);
	cr_assert_eq(dnsq_query(t, 0, &q.p, &q.m), DNSQ_RECORDED);
	cr_assert_eq(dnsq_query(t, 5000, &q.p, &q.m), DNSQ_RECORDED, "a retransmission");
	cr_assert_eq(dnsq_outstanding(t, 5000), 1);
	make(&a, R4, 53, C4, 40000, 9, true, "ws.marketo.com", 1);
	cr_assert_eq(dnsq_answer(t, 15000, &a.p, &a.m), DNSQ_UNSOLICITED, "10 s after the retransmission");
	cr_assert_eq(dnsq_outstanding(t, 15000), 0);
	dnsq_free(t);
}

Test(dnsq, counting_in_steps_comes_to_the_whole_count)
{
	struct dnsq *t = dnsq_new(1024, 10000);
	for (uint16_t id = 0; id < 300; id++) {
		make(&q, C4, 40000, R4, 53, id, false, "ws.marketo.com", 1);
		cr_assert_eq(dnsq_query(t, 0, &q.p, &q.m), DNSQ_RECORDED);
	}
	size_t n = 0;
	for (int i = 0; i < 16; i++)
		n = dnsq_outstanding_step(t, 0);
	cr_assert_eq(n, 300);
	cr_assert_eq(n, dnsq_outstanding(t, 0));
	for (int i = 0; i < 16; i++)	/* 10 s later every one has expired */
		n = dnsq_outstanding_step(t, 10001);
	cr_assert_eq(n, 0);
	dnsq_free(t);
}

Test(dnsq, a_flood_of_queries_stays_within_the_table)
{
	struct dnsq *t = dnsq_new(64, 10000);
	size_t evicted = 0;
	make(&q, C4, 40000, R4, 53, 0, false, "flood.example", 1);
	for (uint32_t i = 0; i < 200000; i++) {
		q.m.id = (uint16_t)i;
		q.p.sport = (uint16_t)(1024 + i / 65536);
		evicted += dnsq_query(t, i / 100, &q.p, &q.m) == DNSQ_EVICTED;
	}
	cr_assert_leq(dnsq_outstanding(t, 2000), 128);
	cr_assert_geq(evicted, 200000 - 128);
	/* The newest query of its bucket is never the one pushed out. */
	make(&q, C4, 40000, R4, 53, 77, false, "ws.marketo.com", 1);
	dnsq_query(t, 2000, &q.p, &q.m);
	make(&a, R4, 53, C4, 40000, 77, true, "ws.marketo.com", 1);
	cr_assert_eq(dnsq_answer(t, 2001, &a.p, &a.m), DNSQ_ANSWERED);
	dnsq_free(t);
}

/* ---- the resolver list ---- */

Test(guard_resolv, resolv_conf_loopback_stubs_and_bad_addresses)
{
	char text[] = "# a comment\n"
		      "search example.org\n"
		      "nameserver 198.51.100.2\n"
		      "nameserver 2001:db8:2::2\n"
		      "nameserver fe80::1%eth0\n"
		      "nameserver 198.51.100.2\n"
		      "nameserver not-an-address\n"
		      "options edns0\n";
	FILE *f = fmemopen(text, strlen(text), "r");
	struct guard_resolvers r = { 0 };
	char list[256];
	cr_assert_eq(guard_resolvers_read_conf(&r, f), 4, "the duplicate counts, the bad line not");
	fclose(f);
	cr_assert_eq(r.n_remote, 3);
	cr_assert_not(r.local);
	guard_resolvers_text(&r, list, sizeof(list));
	cr_assert_str_eq(list, "198.51.100.2, 2001:db8:2::2, fe80::1");

	/* systemd-resolved's stub, dnsmasq on ::1: a resolver on this host. */
	struct guard_resolvers s = { 0 };
	const char *why = NULL;
	cr_assert_eq(guard_resolvers_add(&s, "127.0.0.53", &why), 0);
	cr_assert_eq(guard_resolvers_add(&s, "::1", &why), 0);
	cr_assert(s.local);
	cr_assert_eq(s.n_remote, 0);
	guard_resolvers_text(&s, list, sizeof(list));
	cr_assert_str_eq(list, "this host");
	cr_assert_eq(guard_resolvers_add(&s, "198.51.100.0/24", &why), -1, "a prefix is not a resolver");
	cr_assert_eq(guard_resolvers_add(&s, "resolver.example", &why), -1);
	cr_assert_str_eq(why, "not an IPv4 or IPv6 address");
}

/* A non-loopback IPv4 address of this host into buf, or false. */
static bool host_address(char *buf, size_t size)
{
	struct ifaddrs *list, *i;
	bool found = false;
	if (getifaddrs(&list) < 0)
		return false;
	for (i = list; i && !found; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		const struct sockaddr_in *in = (const void *)i->ifa_addr;
		found = (ntohl(in->sin_addr.s_addr) >> 24) != 127 && inet_ntop(AF_INET, &in->sin_addr, buf, (socklen_t)size);
	}
	freeifaddrs(list);
	return found;
}

Test(guard_resolv, an_address_of_this_host_is_a_local_resolver)
{
	struct guard_resolvers r = { 0 };
	const char *why = NULL;
	char mine[INET_ADDRSTRLEN];
	if (!host_address(mine, sizeof(mine)))
		cr_skip_test("this host has no IPv4 address besides loopback");
	cr_assert_eq(guard_resolvers_add(&r, "198.51.100.2", &why), 0);
	cr_assert_eq(guard_resolvers_add(&r, mine, &why), 0);
	cr_assert_eq(r.n_remote, 2);
	cr_assert_eq(guard_resolvers_find_local(&r), 0);
	cr_assert_eq(r.n_remote, 1, "%s is this host's, 198.51.100.2 is not", mine);
	cr_assert(r.local);
}
