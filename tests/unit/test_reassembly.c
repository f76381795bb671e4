/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TCP out of order, overlapping and retransmitted, for ClientHellos and DNS over TCP: the
 * matcher's reassembly (matcher/flow.c, what `pinhole match` reads captures with) and the
 * guard's in-order reading (matcher/guard_tls.c, guard_dnstcp.c). The rule both follow:
 * the first copy of a stream byte is the one read; a later copy that disagrees changes
 * nothing (a sender retransmits the same bytes; different ones are an evasion attempt). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "guard.h"

/* ---- builders ---- */

/* A TLS 1.2 ClientHello record for sni, padded (RFC 7685) by pad bytes. */
static size_t client_hello(uint8_t *out, const char *sni, size_t pad)
{
	size_t len = strlen(sni), e = 9 + len + 4 + pad, body = 2 + 32 + 1 + 4 + 2 + 2 + e, n = 0;
	uint8_t head[] = { 0x16, 3, 1, (uint8_t)((body + 4) >> 8), (uint8_t)(body + 4), 1, 0, (uint8_t)(body >> 8),
			   (uint8_t)body, 3, 3 };
	memcpy(out, head, sizeof(head));
	n = sizeof(head);
	memset(out + n, 0x42, 32);
	n += 32;
	uint8_t mid[] = { 0, 0, 2, 0x13, 0x01, 1, 0, (uint8_t)(e >> 8), (uint8_t)e };
	memcpy(out + n, mid, sizeof(mid));
	n += sizeof(mid);
	uint8_t sni_head[9] = { 0, 0, 0, (uint8_t)(len + 5), 0, (uint8_t)(len + 3), 0, 0, (uint8_t)len };
	memcpy(out + n, sni_head, 9);
	memcpy(out + n + 9, sni, len);
	n += 9 + len;
	uint8_t pad_head[4] = { 0, 21, (uint8_t)(pad >> 8), (uint8_t)pad };
	memcpy(out + n, pad_head, 4);
	memset(out + n + 4, 0, pad);
	return n + 4 + pad;
}

/* A DNS-over-TCP stream: one answer (A 203.0.113.last, TTL 300) behind its length. */
static size_t dns_stream(uint8_t *out, const char *name, uint8_t last)
{
	uint8_t *m = out + 2;
	static const uint8_t head[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0 };
	size_t n = sizeof(head);
	memcpy(m, head, n);
	for (const char *p = name; *p;) {
		size_t len = strcspn(p, ".");
		m[n++] = (uint8_t)len;
		memcpy(m + n, p, len);
		n += len;
		p += len + (p[len] == '.');
	}
	static const uint8_t tail[] = { 0, 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4, 203, 0, 113 };
	memcpy(m + n, tail, sizeof(tail));
	n += sizeof(tail);
	m[n++] = last;
	out[0] = (uint8_t)(n >> 8);
	out[1] = (uint8_t)n;
	return n + 2;
}

/* Client 192.0.2.2:sport to 203.0.113.10:443, or server 198.51.100.2:53 to the client. */
static struct packet seg(bool dns, uint32_t seq, uint8_t flags, const uint8_t *data, size_t len)
{
	struct packet p = { .family = FAMILY_V4, .proto = 6, .sport = dns ? 53 : 40000, .dport = dns ? 40000 : 443,
			    .seq = seq, .tcp_flags = flags, .payload = data, .len = len };
	p.src.lo = dns ? 0xc6336402 : 0xc0000202;
	p.dst.lo = dns ? 0xc0000202 : 0xcb00710a;
	return p;
}

/* ---- the matcher (flow.c) ---- */

struct seen {
	int sni, dns, malformed;
	char name[1100];
	uint8_t last;	/* of the DNS answer's address */
};

static int collect(const struct capture_record *rec, void *arg)
{
	struct seen *s = arg;
	if (rec->kind == CAPTURE_SNI) {
		s->sni++;
		s->malformed += rec->malformed;
		snprintf(s->name, sizeof(s->name), "%s", rec->tls.has_name ? rec->tls.name : "");
	} else {
		s->dns++;
		snprintf(s->name, sizeof(s->name), "%s", rec->dns.question);
		s->last = rec->dns.n_addrs ? (uint8_t)rec->dns.addrs[0].addr.lo : 0;
	}
	return 0;
}

/* Feeds the pieces [cuts[i], cuts[i+1]) of stream in the order given, after a SYN. */
struct piece {
	size_t lo, hi;
	const uint8_t *from;	/* NULL: the stream itself */
};

static struct seen run_flow(bool dns, uint32_t isn, const uint8_t *stream, const struct piece *pieces, size_t n)
{
	struct seen s = { 0 };
	struct flow_table *ft = flow_table_new(collect, &s);
	cr_assert_not_null(ft);
	struct packet syn = seg(dns, isn, TCP_SYN, NULL, 0);
	flow_table_packet(ft, &syn);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *from = pieces[i].from ? pieces[i].from : stream;
		struct packet p = seg(dns, isn + 1 + (uint32_t)pieces[i].lo, TCP_ACK, from + pieces[i].lo,
				      pieces[i].hi - pieces[i].lo);
		flow_table_packet(ft, &p);
	}
	flow_table_free(ft);
	return s;
}

Test(reassembly, matcher_reads_a_hello_whatever_the_order_of_its_segments)
{
	uint8_t hello[4096];
	size_t n = client_hello(hello, "ws.marketo.com", 1500);
	struct piece orders[][4] = {
		{ { 0, 500, NULL }, { 500, 1000, NULL }, { 1000, n, NULL }, { 0, 500, NULL } },		/* in order, a resend */
		{ { 1000, n, NULL }, { 500, 1000, NULL }, { 0, 500, NULL }, { 0, 0, NULL } },		/* reversed */
		{ { 500, 1000, NULL }, { 1000, n, NULL }, { 500, 1000, NULL }, { 0, 500, NULL } },	/* gap first, duplicated */
		{ { 0, 700, NULL }, { 300, 1200, NULL }, { 1100, n, NULL }, { 0, n, NULL } },		/* overlapping */
	};
	for (size_t i = 0; i < sizeof(orders) / sizeof(*orders); i++) {
		size_t k = orders[i][3].hi ? 4 : 3;
		struct seen s = run_flow(false, 1000, hello, orders[i], k);
		cr_assert_eq(s.sni, 1, "order %zu: %d records", i, s.sni);
		cr_assert_str_eq(s.name, "ws.marketo.com", "order %zu", i);
	}
	/* Sequence numbers wrapping past 2^32 inside the hello. */
	struct piece wrap[] = { { 300, n, NULL }, { 0, 300, NULL } };
	struct seen s = run_flow(false, 0xffffff00u, hello, wrap, 2);
	cr_assert_eq(s.sni, 1);
	cr_assert_str_eq(s.name, "ws.marketo.com");
}

Test(reassembly, matcher_keeps_the_first_copy_of_overlapping_bytes)
{
	uint8_t hello[4096], evil[4096];
	size_t n = client_hello(hello, "ws.marketo.com", 600);
	cr_assert_eq(client_hello(evil, "ev.example.net", 600), n, "same length, other name");
	size_t name_at = (size_t)((uint8_t *)memmem(hello, n, "ws.marketo", 10) - hello);
	/* The allowed name comes first, out of order; an overlapping copy with another name
	 * after it: the first stays. */
	struct piece late_evil[] = { { 20, n, NULL }, { 10, n, evil }, { 0, 20, NULL } };
	struct seen s = run_flow(false, 7, hello, late_evil, 3);
	cr_assert_eq(s.sni, 1);
	cr_assert_str_eq(s.name, "ws.marketo.com");
	/* The other way round: the other name first, then the allowed one over it. */
	struct piece late_good[] = { { name_at - 5, n, evil }, { 20, n, NULL }, { 0, 20, NULL } };
	s = run_flow(false, 7, hello, late_good, 3);
	cr_assert_eq(s.sni, 1);
	cr_assert_str_eq(s.name, "ev.example.net");
	/* In order up to the name's fourth byte, then a resend of everything with the other
	 * name: the server keeps "ws.m" and takes the rest from the resend, so does the matcher. */
	struct piece resend[] = { { 0, name_at + 4, NULL }, { 0, n, evil } };
	s = run_flow(false, 7, hello, resend, 2);
	cr_assert_str_eq(s.name, "ws.mxample.net");
}

Test(reassembly, matcher_reads_dns_over_tcp_out_of_order_and_overlapping)
{
	uint8_t stream[1024], other[1024];
	size_t a = dns_stream(stream, "ws.marketo.com", 10);
	size_t b = dns_stream(stream + a, "app.marketo.com", 11), n = a + b;
	memcpy(other, stream, n);
	other[a - 1] = 66;	/* the first answer's address, changed */
	struct piece orders[][3] = {
		{ { a, n, NULL }, { 0, a, NULL }, { 0, 0, NULL } },
		{ { 10, n, NULL }, { 1, 30, NULL }, { 0, 5, NULL } },
		{ { 0, a - 3, NULL }, { a - 10, a + 5, NULL }, { a + 2, n, NULL } },
	};
	for (size_t i = 0; i < sizeof(orders) / sizeof(*orders); i++) {
		struct seen s = run_flow(true, 5000, stream, orders[i], orders[i][2].hi ? 3 : 2);
		cr_assert_eq(s.dns, 2, "order %zu: %d answers", i, s.dns);
		cr_assert_str_eq(s.name, "app.marketo.com");
	}
	/* The changed copy after the first one: the first address stays. */
	struct piece overlap[] = { { a - 4, n, NULL }, { a - 8, a, other }, { 0, a - 4, NULL } };
	struct seen s = run_flow(true, 5000, stream, overlap, 3);
	cr_assert_eq(s.dns, 2);
	struct piece first_only[] = { { a - 4, a, NULL }, { a - 8, a, other }, { 0, a - 4, NULL } };
	s = run_flow(true, 5000, stream, first_only, 3);
	cr_assert_eq(s.dns, 1);
	cr_assert_eq(s.last, 10, "the address of the first copy, not %u", s.last);
}

/* ---- the guard ---- */

static struct policy *compile(void)
{
	static const char rules[] = "set web { *.marketo.com }\nallow out to @web tcp port 443\n";
	struct diags *d = diags_new();
	struct compile_request req = { .file = "t.rules", .text = rules, .len = strlen(rules) };
	struct policy *p = policy_compile(&req, d);
	diags_free(d);
	cr_assert_not_null(p);
	return p;
}

static struct guard *make(const struct policy *p)
{
	struct guard_config c;
	const char *why = NULL;
	guard_config_defaults(&c);
	struct guard *g = guard_new(p, &c, &why);
	cr_assert_not_null(g);
	guard_set_present(g, 0, FAMILY_V4, true);
	return g;
}

static enum guard_tls_verdict tls(struct guard *g, uint32_t seq, const uint8_t *data, size_t len)
{
	struct guard_tls_decision d;
	struct packet p = seg(false, seq, TCP_ACK, data, len);
	guard_tls(g, 0, &p, &d);
	return d.verdict;
}

Test(reassembly, guard_decides_on_the_bytes_in_stream_order_only)
{
	struct policy *p = compile();
	uint8_t hello[4096], evil[4096];
	size_t n = client_hello(hello, "ws.marketo.com", 1500);
	client_hello(evil, "ev.example.net", 1500);
	for (int wrap = 0; wrap < 2; wrap++) {
		uint32_t isn = wrap ? 0xfffffe00u : 1000;	/* wrap: 2^32 passes inside the hello */
		struct guard *g = make(p);
		struct guard_tls_decision d;
		struct packet syn = seg(false, isn, TCP_SYN, NULL, 0);
		guard_tls(g, 0, &syn, &d);
		uint32_t s0 = isn + 1;
		cr_assert_eq(tls(g, s0 + 1000, hello + 1000, n - 1000), GUARD_TLS_HOLD, "past a gap");
		cr_assert_eq(tls(g, s0 + 500, hello + 500, 500), GUARD_TLS_HOLD, "past a gap");
		cr_assert_eq(tls(g, s0, hello, 700), GUARD_TLS_PASS);
		/* An overlapping copy that says something else: the bytes already read stand. */
		cr_assert_eq(tls(g, s0 + 300, evil + 300, 900), GUARD_TLS_PASS);
		cr_assert_eq(tls(g, s0, evil, 700), GUARD_TLS_PASS, "a resend of read bytes");
		cr_assert_eq(tls(g, s0 + 1200, hello + 1200, n - 1200), GUARD_TLS_ALLOW, "wrap %d", wrap);
		cr_assert_eq(guard_counters(g)->tls_out_of_order, 2);
		guard_free(g);
	}
	/* The other name read first, out of order: the allowed name resent over it is too late. */
	struct guard *g = make(p);
	cr_assert_eq(tls(g, 1, evil, 700), GUARD_TLS_PASS);
	cr_assert_eq(tls(g, 1, hello, n), GUARD_TLS_DENY);
	guard_free(g);
	policy_free(p);
}

static void count_learn(const struct guard_dns_decision *d, void *arg)
{
	*(int *)arg += d->what == GUARD_DNS_LEARN;
}

/* The client's queries for the answers in stream (as dns_stream writes them), sent on the
 * same connection first: the guard believes only answers to queries it saw. */
static void ask(struct guard *g, const uint8_t *stream, size_t n, int *learnt)
{
	uint8_t q[1024];
	size_t nq = 0;
	for (size_t at = 0; at + 2 <= n;) {
		size_t len = (size_t)stream[at] << 8 | stream[at + 1], qlen = len - 16;	/* less the A record */
		q[nq] = (uint8_t)(qlen >> 8), q[nq + 1] = (uint8_t)qlen;
		memcpy(q + nq + 2, stream + at + 2, qlen);
		q[nq + 4] = 0x01, q[nq + 5] = 0, q[nq + 8] = q[nq + 9] = 0;	/* a query: RD, no answer */
		nq += 2 + qlen;
		at += 2 + len;
	}
	struct packet syn = seg(true, 99, TCP_SYN, NULL, 0), c = seg(true, 100, TCP_ACK, q, nq);
	for (struct packet *p = &syn; p; p = p == &syn ? &c : NULL) {
		struct packet r = *p;	/* the client's direction of the connection */
		r.src = p->dst, r.dst = p->src, r.sport = p->dport, r.dport = p->sport;
		cr_assert(guard_dns_tcp(g, 0, &r, count_learn, learnt));
	}
}

Test(reassembly, guard_reads_dns_over_tcp_in_stream_order_only)
{
	struct policy *p = compile();
	uint8_t stream[1024], other[1024];
	size_t a = dns_stream(stream, "ws.marketo.com", 10);
	size_t n = a + dns_stream(stream + a, "app.marketo.com", 11);
	stream[a + 3] = 0x35;	/* RFC 7766 §6.2.1.1: queries on one connection have IDs of their own */
	memcpy(other, stream, n);
	other[a - 1] = 66;
	struct guard *g = make(p);
	int learnt = 0;
	ask(g, stream, n, &learnt);
	struct packet syn = seg(true, 0xfffffff0u, TCP_SYN | TCP_ACK, NULL, 0), q;
	cr_assert(guard_dns_tcp(g, 0, &syn, count_learn, &learnt));
	uint32_t s0 = 0xfffffff1u;	/* the stream wraps 2^32 after 15 bytes */
	q = seg(true, s0 + 20, TCP_ACK, stream + 20, n - 20);
	cr_assert_not(guard_dns_tcp(g, 0, &q, count_learn, &learnt), "past a gap: dropped");
	q = seg(true, s0, TCP_ACK, stream, a - 4);
	cr_assert(guard_dns_tcp(g, 0, &q, count_learn, &learnt));
	q = seg(true, s0 + (uint32_t)a - 8, TCP_ACK, other + a - 8, 8);	/* overlaps, changes the address */
	cr_assert(guard_dns_tcp(g, 0, &q, count_learn, &learnt));
	cr_assert_eq(learnt, 1);
	size_t k;
	const struct guard_update *u = guard_pending(g, &k);
	cr_assert_eq(k, 1);
	cr_assert_eq(u[0].addr.lo & 0xff, 66, "the first copy of the last byte was the changed one");
	q = seg(true, s0, TCP_ACK, stream, n);	/* everything again: only the second answer is new */
	cr_assert(guard_dns_tcp(g, 0, &q, count_learn, &learnt));
	cr_assert_eq(learnt, 2);
	guard_pending_done(g, true, 0);
	guard_free(g);
	policy_free(p);
}
