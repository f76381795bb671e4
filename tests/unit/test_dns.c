/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The DNS response parser: chains, compression, EDNS0, TTLs, and every malformed case. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "flow.h"

struct msg {
	uint8_t b[DNS_MESSAGE_MAX + 1];
	size_t n;
};

static void put(struct msg *m, const void *p, size_t n)
{
	memcpy(m->b + m->n, p, n);
	m->n += n;
}
static void u8(struct msg *m, unsigned v) { m->b[m->n++] = (uint8_t)v; }
static void u16(struct msg *m, unsigned v) { u8(m, v >> 8); u8(m, v); }
static void u32(struct msg *m, uint32_t v) { u16(m, v >> 16); u16(m, v & 0xffff); }

/* Writes "a.b.c" as labels and the root. */
static void name(struct msg *m, const char *s)
{
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);
		u8(m, (unsigned)n);
		put(m, s, n);
		s += n + (dot ? 1 : 0);
	}
	u8(m, 0);
}

static void pointer(struct msg *m, unsigned off)
{
	u16(m, 0xc000 | off);
}

static void header(struct msg *m, unsigned flags, unsigned an, unsigned ns, unsigned ar)
{
	m->n = 0;
	u16(m, 0x1234);
	u16(m, flags);
	u16(m, 1);
	u16(m, an);
	u16(m, ns);
	u16(m, ar);
}

static void question(struct msg *m, const char *q)
{
	name(m, q);
	u16(m, 1);
	u16(m, 1);
}

static void rr_head(struct msg *m, unsigned type, uint32_t ttl, unsigned rdlen)
{
	u16(m, type);
	u16(m, 1);
	u32(m, ttl);
	u16(m, rdlen);
}

static void a_rr(struct msg *m, unsigned owner_off, uint32_t ttl, const uint8_t ip[4])
{
	pointer(m, owner_off);
	rr_head(m, 1, ttl, 4);
	put(m, ip, 4);
}

static struct msg m;
static struct dns_response *r;

static void setup(void)
{
	r = malloc(sizeof(*r));
	m.n = 0;
}

static void teardown(void)
{
	free(r);
}

TestSuite(dns, .init = setup, .fini = teardown);

static const uint8_t IP1[4] = { 192, 0, 2, 10 }, IP2[4] = { 198, 51, 100, 5 };

/* pages.example.com CNAME abc123.mktoweb.com; abc123 A 192.0.2.10; an unrelated A too. */
static void landing_page(void)
{
	header(&m, 0x8180, 3, 0, 0);
	question(&m, "Pages.Example.COM");
	pointer(&m, 12);
	rr_head(&m, 5, 600, 20);
	size_t target = m.n;
	name(&m, "abc123.mktoweb.com");
	a_rr(&m, (unsigned)target, 300, IP1);
	u8(&m, 5);
	put(&m, "other", 5);
	pointer(&m, (unsigned)target + 7);	/* other.mktoweb.com */
	rr_head(&m, 1, 30, 4);
	put(&m, IP2, 4);
}

Test(dns, cname_chain_and_addresses)
{
	landing_page();
	cr_assert_eq(dns_parse_response(m.b, m.n, r, NULL), DNS_OK);
	cr_assert_str_eq(r->question, "pages.example.com");
	cr_assert_eq(r->n_cnames, 1);
	cr_assert_str_eq(r->cnames[0].name, "abc123.mktoweb.com");
	cr_assert_eq(r->n_addrs, 1, "other.mktoweb.com is not on the chain");
	cr_assert_eq(r->addrs[0].addr.lo, 0xc000020a);
	cr_assert_eq(r->ttl, 300, "the smallest TTL on the chain");
	cr_assert_not(r->truncated);
}

Test(dns, every_truncation_is_malformed)
{
	landing_page();
	for (size_t n = 0; n < m.n; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, m.b, n);
		cr_assert_eq(dns_parse_response(copy, n, r, NULL), DNS_MALFORMED, "length %zu", n);
		free(copy);
	}
}

static void expect_malformed(const char *part)
{
	const char *why = NULL;
	cr_assert_eq(dns_parse_response(m.b, m.n, r, &why), DNS_MALFORMED);
	cr_assert(why && strstr(why, part), "reason '%s' lacks '%s'", why ? why : "(null)", part);
}

Test(dns, compression_loops)
{
	header(&m, 0x8180, 0, 0, 0);
	pointer(&m, 12);	/* the question name points at itself */
	u16(&m, 1);
	u16(&m, 1);
	expect_malformed("loop");
	header(&m, 0x8180, 0, 0, 0);
	u8(&m, 1);
	put(&m, "a", 1);
	pointer(&m, 12);	/* back to its own first label */
	u16(&m, 1);
	u16(&m, 1);
	expect_malformed("loop");
	header(&m, 0x8180, 0, 0, 0);
	pointer(&m, 40);	/* forwards */
	expect_malformed("loop");
}

Test(dns, long_names_and_labels)
{
	header(&m, 0x8180, 0, 0, 0);
	for (int i = 0; i < 5; i++) {
		u8(&m, 63);
		for (int k = 0; k < 63; k++)
			u8(&m, 'a');
	}
	u8(&m, 0);
	u16(&m, 1);
	u16(&m, 1);
	expect_malformed("255");
	header(&m, 0x8180, 0, 0, 0);
	u8(&m, 0x40);	/* extended label type */
	expect_malformed("label type");
}

Test(dns, wrong_counts_and_lengths)
{
	landing_page();
	m.b[7] = 4;	/* one answer more than there is */
	expect_malformed("past the message");
	landing_page();
	m.b[5] = 2;
	expect_malformed("more than one question");
	landing_page();
	m.b[5] = 0;
	expect_malformed("no question");
	landing_page();
	u8(&m, 0);
	expect_malformed("after the last record");
	header(&m, 0x8180, 1, 0, 0);
	question(&m, "x.example");
	pointer(&m, 12);
	rr_head(&m, 1, 1, 5);
	put(&m, "12345", 5);
	expect_malformed("wrong length");
}

Test(dns, query_is_not_a_response)
{
	header(&m, 0x0100, 0, 0, 0);
	question(&m, "x.example");
	cr_assert_eq(dns_parse_response(m.b, m.n, r, NULL), DNS_NOT_RESPONSE);
}

static void opt(struct msg *mm)
{
	u8(mm, 0);
	u16(mm, 41);
	u16(mm, 1232);
	u32(mm, 0);
	u16(mm, 0);
}

Test(dns, edns0)
{
	header(&m, 0x8180, 1, 0, 1);
	question(&m, "x.example");
	a_rr(&m, 12, 60, IP1);
	opt(&m);
	cr_assert_eq(dns_parse_response(m.b, m.n, r, NULL), DNS_OK);
	cr_assert(r->edns);
	cr_assert_eq(r->edns_udp_size, 1232);
	header(&m, 0x8180, 1, 0, 2);
	question(&m, "x.example");
	a_rr(&m, 12, 60, IP1);
	opt(&m);
	opt(&m);
	expect_malformed("more than one OPT");
	header(&m, 0x8180, 1, 0, 0);
	question(&m, "x.example");
	opt(&m);
	expect_malformed("OPT");
}

Test(dns, ttl_top_bit_aaaa_and_tc)
{
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 };
	header(&m, 0x8380, 2, 0, 0);
	question(&m, "x.example");
	a_rr(&m, 12, 0x80000001u, IP1);
	pointer(&m, 12);
	rr_head(&m, 28, 90, 16);
	put(&m, v6, 16);
	cr_assert_eq(dns_parse_response(m.b, m.n, r, NULL), DNS_OK);
	cr_assert(r->truncated);
	cr_assert_eq(r->addrs[0].ttl, 0, "RFC 2181: the top bit set means 0");
	cr_assert_eq(r->addrs[1].family, FAMILY_V6);
	cr_assert_eq(r->addrs[1].addr.hi, 0x20010db800000000ULL);
	cr_assert_eq(r->ttl, 0);
	/* A TC response may stop at a record boundary short of its counts. */
	m.b[7] = 5;
	cr_assert_eq(dns_parse_response(m.b, m.n, r, NULL), DNS_OK);
	cr_assert_eq(r->n_addrs, 2);
}

Test(dns, cname_loop_and_odd_bytes)
{
	header(&m, 0x8180, 2, 0, 0);
	question(&m, "a.example");
	pointer(&m, 12);
	rr_head(&m, 5, 10, 11);
	size_t b = m.n;
	name(&m, "b.example");
	pointer(&m, (unsigned)b);
	rr_head(&m, 5, 10, 2);
	pointer(&m, 12);	/* b CNAME a: a loop */
	cr_assert_eq(dns_parse_response(m.b, m.n, r, NULL), DNS_OK);
	cr_assert_eq(r->n_cnames, 1);
	header(&m, 0x8180, 0, 0, 0);
	u8(&m, 3);
	put(&m, "a.\x01", 3);
	u8(&m, 0);
	u16(&m, 1);
	u16(&m, 1);
	cr_assert_eq(dns_parse_response(m.b, m.n, r, NULL), DNS_OK);
	cr_assert_str_eq(r->question, "a\\046\\001");
}

/* big.example CNAME cdn.example; cdn.example owns 60 A and 40 AAAA records, with records of
 * an unrelated owner between them; an EDNS0 OPT of 4096 octets, as a UDP answer of ~2.3 KB
 * needs. The addresses are 198.51.100.i and 2001:db8::i for i = 0..99. */
static void hundred_addresses(void)
{
	header(&m, 0x8180, 1 + 100 + 10, 0, 1);
	question(&m, "big.example");
	pointer(&m, 12);
	rr_head(&m, 5, 600, 6);
	size_t cdn = m.n;
	u8(&m, 3);
	put(&m, "cdn", 3);
	pointer(&m, 16);	/* "example" in the question */
	for (unsigned i = 0; i < 100; i++) {
		pointer(&m, (unsigned)cdn);
		if (i < 60) {
			rr_head(&m, 1, 300 - i, 4);
			put(&m, (uint8_t[4]){ 198, 51, 100, (uint8_t)i }, 4);
		} else {
			rr_head(&m, 28, 300 - i, 16);
			put(&m, (uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8, [15] = (uint8_t)i }, 16);
		}
		if (i % 10 == 5)
			a_rr(&m, 16, 5, IP1);	/* example: not on the chain */
	}
	u8(&m, 0);
	u16(&m, 41);
	u16(&m, 4096);
	u32(&m, 0);
	u16(&m, 0);
}

static void expect_hundred(const struct dns_response *resp)
{
	cr_assert_eq(resp->n_cnames, 1);
	cr_assert_str_eq(resp->cnames[0].name, "cdn.example");
	cr_assert_eq(resp->n_addrs, 100, "every address, not %zu", resp->n_addrs);
	for (unsigned i = 0; i < 100; i++) {
		const struct dns_addr *a = &resp->addrs[i];
		cr_assert_eq(a->family, i < 60 ? FAMILY_V4 : FAMILY_V6, "address %u", i);
		cr_assert_eq(a->addr.lo, i < 60 ? 0xc6336400u + i : i, "address %u", i);
		cr_assert_eq(a->addr.hi, i < 60 ? 0 : 0x20010db800000000u, "address %u", i);
		cr_assert_eq(a->ttl, 300 - i);
	}
	cr_assert_eq(resp->ttl, 201, "the smallest TTL, of the last address");
}

Test(dns, every_address_of_a_large_answer_is_kept)
{
	hundred_addresses();
	cr_assert_gt(m.n, 1232, "larger than the usual EDNS0 size: %zu", m.n);
	cr_assert_eq(dns_parse_response(m.b, m.n, r, NULL), DNS_OK);
	cr_assert(r->edns);
	cr_assert_eq(r->edns_udp_size, 4096);
	expect_hundred(r);
}

/* The bound DNS_MAX_ADDRS stands for: the largest message packed with the shortest address
 * records (the root as question and owner) fills addrs exactly, and one record more would
 * not fit in 65,535 octets. */
Test(dns, the_largest_message_fills_dns_max_addrs)
{
	cr_assert_gt(12 + 5 + 15 * (DNS_MAX_ADDRS + 1), DNS_MESSAGE_MAX);
	header(&m, 0x8180, DNS_MAX_ADDRS, 0, 0);
	question(&m, "");
	for (unsigned i = 0; i < DNS_MAX_ADDRS; i++) {
		u8(&m, 0);
		rr_head(&m, 1, 60, 4);
		put(&m, (uint8_t[4]){ 192, 0, 2, (uint8_t)i }, 4);
	}
	cr_assert_leq(m.n, DNS_MESSAGE_MAX);
	cr_assert_eq(dns_parse_response(m.b, m.n, r, NULL), DNS_OK);
	cr_assert_eq(r->n_addrs, DNS_MAX_ADDRS);
	cr_assert_eq(r->addrs[DNS_MAX_ADDRS - 1].addr.lo, 0xc0000200u + ((DNS_MAX_ADDRS - 1) & 0xff));
	/* Padding it past 65,535 octets (an OPT with option data) makes it malformed. */
	m.b[11] = 1;
	u8(&m, 0);
	u16(&m, 41);
	u16(&m, 4096);
	u32(&m, 0);
	size_t pad = DNS_MESSAGE_MAX + 1 - m.n - 2;
	u16(&m, (unsigned)pad);
	memset(m.b + m.n, 0, pad);
	m.n += pad;
	cr_assert_eq(m.n, DNS_MESSAGE_MAX + 1);
	expect_malformed("longer than a DNS message");
}

/* What pinhole match sees: the same answer as one UDP datagram, and over TCP (RFC 7766: a
 * two-byte length first) in three segments, the last two swapped. */
struct seen {
	int records;
};

static int on_record(const struct capture_record *rec, void *arg)
{
	struct seen *s = arg;
	cr_assert_eq(rec->kind, CAPTURE_DNS);
	s->records++;
	expect_hundred(&rec->dns);
	return 0;
}

static struct packet from_resolver(uint8_t proto, uint32_t seq, uint8_t flags, const uint8_t *data, size_t len)
{
	struct packet p = { .family = FAMILY_V4, .proto = proto, .sport = 53, .dport = 40000, .seq = seq,
			    .tcp_flags = flags, .payload = data, .len = len };
	p.src.lo = 0xc6336402;	/* 198.51.100.2 */
	p.dst.lo = 0xc0000202;	/* 192.0.2.2 */
	return p;
}

Test(dns, match_reads_a_large_answer_over_udp_and_tcp)
{
	hundred_addresses();
	struct seen udp = { 0 }, tcp = { 0 };
	struct flow_table *ft = flow_table_new(on_record, &udp);
	cr_assert_not_null(ft);
	struct packet p = from_resolver(17, 0, 0, m.b, m.n);
	cr_assert_eq(flow_table_packet(ft, &p), 0);
	cr_assert_eq(udp.records, 1);
	flow_table_free(ft);

	static uint8_t stream[2 + sizeof(m.b)];
	stream[0] = (uint8_t)(m.n >> 8);
	stream[1] = (uint8_t)m.n;
	memcpy(stream + 2, m.b, m.n);
	size_t n = m.n + 2, cut1 = 700, cut2 = 1500;
	cr_assert_gt(n, cut2);
	ft = flow_table_new(on_record, &tcp);
	cr_assert_not_null(ft);
	struct packet syn = from_resolver(6, 999, TCP_SYN | TCP_ACK, NULL, 0),
		      first = from_resolver(6, 1000, TCP_ACK, stream, cut1),
		      third = from_resolver(6, 1000 + (uint32_t)cut2, TCP_ACK, stream + cut2, n - cut2),
		      second = from_resolver(6, 1000 + (uint32_t)cut1, TCP_ACK, stream + cut1, cut2 - cut1);
	cr_assert_eq(flow_table_packet(ft, &syn), 0);
	cr_assert_eq(flow_table_packet(ft, &first), 0);
	cr_assert_eq(flow_table_packet(ft, &third), 0);
	cr_assert_eq(tcp.records, 0, "not before the gap is filled");
	cr_assert_eq(flow_table_packet(ft, &second), 0);
	cr_assert_eq(tcp.records, 1);
	flow_table_free(ft);
}
