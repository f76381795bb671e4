/* The DNS response parser: chains, compression, EDNS0, TTLs, and every malformed case. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

struct msg {
	uint8_t b[4096];
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

Test(dns, many_answers_are_bounded)
{
	header(&m, 0x8180, 100, 0, 0);
	question(&m, "x.example");
	for (int i = 0; i < 100; i++)
		a_rr(&m, 12, 5, IP1);
	cr_assert_eq(dns_parse_response(m.b, m.n, r, NULL), DNS_OK);
	cr_assert_eq(r->n_addrs, DNS_MAX_ADDRS);
	cr_assert_eq(r->addrs_dropped, 100 - DNS_MAX_ADDRS);
}
