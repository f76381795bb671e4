/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guard's decisions without a kernel: what DNS answers teach which sets for how long,
 * when an answer costs a kernel update, TLS verdicts (two segments, out of order, CNAME
 * aliases), reload and restart, and the hash table under churn. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "guard_table.h"

static const char *const RULES =
	"set marketo_web {\n"
	"\t*.marketo.com\n"
	"\t*.marketodesigner.com\n"
	"\t*.mktoweb.com\n"
	"}\n"
	"set tracking { mkto-a0244.com }\n"
	"set everything { @marketo_web 192.0.2.0/24 }\n"
	"set mail { *.mktomail.com }\n"
	"allow out to @marketo_web tcp port { 80, 443 }\n"
	"allow out to @tracking tcp port 80\n";

static struct policy *compile(const char *text)
{
	struct diags *d = diags_new();
	struct compile_request req = { .file = "t.rules", .text = text, .len = strlen(text) };
	struct policy *p = policy_compile(&req, d);
	if (!p)
		diags_render(d, stderr, false);
	diags_free(d);
	cr_assert_not_null(p);
	return p;
}

static struct guard *make(const struct policy *p, uint32_t ttl_min, uint32_t ttl_max)
{
	struct guard_config c;
	const char *why = NULL;
	guard_config_defaults(&c);
	c.ttl_min = ttl_min;
	c.ttl_max = ttl_max;
	struct guard *g = guard_new(p, &c, &why);
	cr_assert_not_null(g, "%s", why ? why : "");
	return g;
}

/* ---- a DNS response builder (RFC 1035 §4.1, no compression) ---- */

struct msg {
	uint8_t b[4096];
	size_t n;
	uint16_t ancount;
};

static void put16(struct msg *m, unsigned v)
{
	m->b[m->n++] = (uint8_t)(v >> 8);
	m->b[m->n++] = (uint8_t)v;
}

static void put32(struct msg *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xffff);
}

static void put_name(struct msg *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t len = dot ? (size_t)(dot - name) : strlen(name);
		m->b[m->n++] = (uint8_t)len;
		memcpy(m->b + m->n, name, len);
		m->n += len;
		name += len + (dot ? 1 : 0);
	}
	m->b[m->n++] = 0;
}

static void dns_start(struct msg *m, const char *question, unsigned qtype)
{
	memset(m, 0, sizeof(*m));
	put16(m, 0x1234);
	put16(m, 0x8180);	/* response, RD, RA, NOERROR */
	put16(m, 1);
	put16(m, 0);		/* ancount: patched by dns_rr */
	put16(m, 0);
	put16(m, 0);
	put_name(m, question);
	put16(m, qtype);
	put16(m, 1);
}

static void dns_rr(struct msg *m, const char *owner, unsigned type, uint32_t ttl, const void *rdata, size_t len)
{
	put_name(m, owner);
	put16(m, type);
	put16(m, 1);
	put32(m, ttl);
	put16(m, (unsigned)len);
	memcpy(m->b + m->n, rdata, len);
	m->n += len;
	m->ancount++;
	m->b[6] = (uint8_t)(m->ancount >> 8);
	m->b[7] = (uint8_t)m->ancount;
}

static void dns_a(struct msg *m, const char *owner, uint32_t ttl, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	uint8_t r[4] = { a, b, c, d };
	dns_rr(m, owner, 1, ttl, r, 4);
}

static void dns_cname(struct msg *m, const char *owner, uint32_t ttl, const char *target)
{
	struct msg t = { .n = 0 };
	put_name(&t, target);
	dns_rr(m, owner, 5, ttl, t.b, t.n);
}

static struct msg answer_a(const char *name, uint32_t ttl, uint8_t last)
{
	struct msg m;
	dns_start(&m, name, 1);
	dns_a(&m, name, ttl, 203, 0, 113, last);
	return m;
}

/* The query an answer built here answers: its header (QR clear, no answers) and question. */
static struct msg query_of(const struct msg *answer)
{
	struct msg q = { .n = 12 };
	memcpy(q.b, answer->b, 12);
	q.b[2] = 0x01;	/* RD */
	q.b[3] = 0;
	memset(q.b + 6, 0, 6);	/* no answer, authority or additional (an answer's EDNS0 OPT) records */
	size_t at = 12;
	while (answer->b[at])
		at += 1u + answer->b[at];
	at += 1 + 4;
	memcpy(q.b + 12, answer->b + 12, at - 12);
	q.n = at;
	return q;
}

/* A UDP packet from the client 192.0.2.2:40000 to the resolver 198.51.100.2:53, or back. */
static struct packet udp_packet(bool to_resolver)
{
	struct packet p = { .family = FAMILY_V4, .proto = 17, .sport = to_resolver ? 40000 : 53,
			    .dport = to_resolver ? 53 : 40000 };
	p.src.lo = to_resolver ? 0xc0000202 : 0xc6336402;
	p.dst.lo = to_resolver ? 0xc6336402 : 0xc0000202;
	return p;
}

/* The answer m, after its query went out. */
static void dns(struct guard *g, uint64_t now, const struct msg *m, struct guard_dns_decision *d)
{
	struct msg q = query_of(m);
	struct packet out = udp_packet(true), in = udp_packet(false);
	guard_dns(g, now, &out, q.b, q.n, d);
	cr_assert_eq(d->what, GUARD_DNS_QUERY);
	guard_dns(g, now, &in, m->b, m->n, d);
}

/* The answer m alone, from packet p. */
static void dns_alone(struct guard *g, uint64_t now, const struct packet *p, const struct msg *m,
		      struct guard_dns_decision *d)
{
	guard_dns(g, now, p, m->b, m->n, d);
}

static const char *pending_set(struct guard *g, const struct guard_update *u)
{
	return guard_set_at(g, u->set)->kset[u->family == FAMILY_V6];
}

Test(guard, learns_answer_into_every_matching_set_with_clamped_ttl)
{
	struct policy *p = compile(RULES);
	struct guard *g = make(p, 60, 3600);
	struct guard_dns_decision d;
	struct msg m = answer_a("ws.marketo.com", 300, 10);
	dns(g, 1000, &m, &d);
	cr_assert_eq(d.what, GUARD_DNS_LEARN);
	cr_assert_str_eq(d.matched, "ws.marketo.com");
	cr_assert_str_eq(d.set, "marketo_web");
	cr_assert_eq(d.n_sets, 2, "marketo_web and everything (which includes it)");
	size_t n;
	const struct guard_update *u = guard_pending(g, &n);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(pending_set(g, &u[0]), "marketo_web_dns_v4");
	cr_assert_str_eq(pending_set(g, &u[1]), "everything_dns_v4");
	cr_assert_eq(u[0].timeout_ms, 300000);
	cr_assert_eq(u[0].addr.lo, 0xcb00710a);
	cr_assert_not(u[0].known);
	guard_pending_done(g, true, 1000);

	m = answer_a("a.marketo.com", 5, 11);	/* below the minimum */
	dns(g, 2000, &m, &d);
	u = guard_pending(g, &n);
	cr_assert_eq(u[0].timeout_ms, 60000);
	guard_pending_done(g, true, 2000);
	m = answer_a("b.marketo.com", 90000, 12);	/* above the maximum */
	dns(g, 3000, &m, &d);
	u = guard_pending(g, &n);
	cr_assert_eq(u[0].timeout_ms, 3600000);
	guard_pending_done(g, true, 3000);
	cr_assert_eq(guard_n_learnt(g), 6);
	guard_free(g);
	policy_free(p);
}

Test(guard, every_response_counts_but_costs_nothing_when_the_kernel_keeps_it_long_enough)
{
	struct policy *p = compile(RULES);
	struct guard *g = make(p, 1, 3600);
	struct guard_dns_decision d;
	size_t n;
	struct msg m = answer_a("ws.marketo.com", 300, 10);
	dns(g, 0, &m, &d);
	guard_pending_done(g, true, 0);
	/* A cache answering 100 s later with 200 s left: the element lives exactly that long. */
	m = answer_a("ws.marketo.com", 200, 10);
	dns(g, 100000, &m, &d);
	guard_pending(g, &n);
	cr_assert_eq(n, 0);
	cr_assert_eq(d.what, GUARD_DNS_LEARN);
	cr_assert_eq(d.n_waiting, 0, "nothing to wait for: the answer may go on at once");
	/* A fresh upstream answer 200 s in would outlive the element: refresh it. */
	m = answer_a("ws.marketo.com", 300, 10);
	dns(g, 200000, &m, &d);
	const struct guard_update *u = guard_pending(g, &n);
	cr_assert_eq(n, 2);
	cr_assert(u[0].known, "the guard committed it and it has not expired");
	cr_assert_eq(d.n_refresh, 2);
	cr_assert_eq(d.n_new, 0);
	cr_assert_eq(d.n_waiting, 2);
	/* Two answers in one round: one element per set, with the longer timeout. The second
	 * waits for the update the first is sending, though it adds nothing to it. */
	m = answer_a("ws.marketo.com", 900, 10);
	dns(g, 200000, &m, &d);
	u = guard_pending(g, &n);
	cr_assert_eq(n, 2);
	cr_assert_eq(d.n_new + d.n_refresh, 0);
	cr_assert_eq(d.n_waiting, 2, "the addresses are not in the kernel before that commit");
	cr_assert_eq(u[0].timeout_ms, 900000);
	cr_assert_eq(guard_counters(g)->addrs_fresh, 4);
	guard_pending_done(g, true, 200000);
	guard_free(g);
	policy_free(p);
}

Test(guard, a_failed_commit_is_not_believed)
{
	struct policy *p = compile(RULES);
	struct guard *g = make(p, 1, 3600);
	struct guard_dns_decision d;
	size_t n;
	struct msg m = answer_a("ws.marketo.com", 300, 10);
	dns(g, 0, &m, &d);
	guard_pending_done(g, false, 0);
	cr_assert_eq(guard_counters(g)->set_errors, 1);
	dns(g, 10, &m, &d);
	guard_pending(g, &n);
	cr_assert_eq(n, 2, "sent again");
	guard_pending_done(g, true, 10);
	guard_forget_kernel(g);	/* someone else changed the ruleset */
	dns(g, 20, &m, &d);
	guard_pending(g, &n);
	cr_assert_eq(n, 2, "sent again after the ruleset changed under the guard");
	guard_pending_done(g, true, 20);
	guard_free(g);
	policy_free(p);
}

Test(guard, names_outside_every_set_and_missing_kernel_sets_teach_nothing)
{
	struct policy *p = compile(RULES);
	struct guard *g = make(p, 1, 3600);
	struct guard_dns_decision d;
	size_t n;
	struct msg m = answer_a("evil.example.net", 300, 66);
	dns(g, 0, &m, &d);
	cr_assert_eq(d.what, GUARD_DNS_IGNORE);
	guard_pending(g, &n);
	cr_assert_eq(n, 0);
	for (size_t i = 0; i < guard_n_sets(g); i++)
		guard_set_present(g, i, FAMILY_V4, false);
	m = answer_a("ws.marketo.com", 300, 10);
	dns(g, 0, &m, &d);
	guard_pending(g, &n);
	cr_assert_eq(n, 0);
	uint8_t junk[5] = { 1, 2, 0x83, 4, 5 };
	struct packet in = udp_packet(false);
	guard_dns(g, 0, &in, junk, sizeof(junk), &d);
	cr_assert_eq(d.what, GUARD_DNS_MALFORMED);
	cr_assert_not_null(d.why);
	cr_assert_eq(guard_counters(g)->dns_malformed, 1);
	guard_free(g);
	policy_free(p);
}

Test(guard, answers_to_no_query_seen_teach_nothing)
{
	struct policy *p = compile(RULES);
	struct guard *g = make(p, 1, 3600);
	struct guard_dns_decision d;
	size_t n;
	struct msg m = answer_a("ws.marketo.com", 300, 66), q = query_of(&m);
	struct packet in = udp_packet(false), out = udp_packet(true);
	/* Unsolicited: no query at all. */
	dns_alone(g, 0, &in, &m, &d);
	cr_assert_eq(d.what, GUARD_DNS_UNSOLICITED);
	/* The query goes out; answers from another port, another server, to another client,
	 * with another ID, for another question: none is read. */
	guard_dns(g, 0, &out, q.b, q.n, &d);
	struct packet other = in;
	other.sport = 5353;
	dns_alone(g, 1, &other, &m, &d);
	cr_assert_eq(d.what, GUARD_DNS_UNSOLICITED, "another server port");
	other = in;
	other.src.lo = 0xc0000203;
	dns_alone(g, 1, &other, &m, &d);
	cr_assert_eq(d.what, GUARD_DNS_UNSOLICITED, "another server");
	other = in;
	other.dport = 40001;
	dns_alone(g, 1, &other, &m, &d);
	cr_assert_eq(d.what, GUARD_DNS_UNSOLICITED, "another client port");
	other = in;
	other.proto = 6;
	dns_alone(g, 1, &other, &m, &d);
	cr_assert_eq(d.what, GUARD_DNS_UNSOLICITED, "over TCP for a UDP query");
	struct msg wrong_id = m;
	wrong_id.b[1] ^= 1;
	dns_alone(g, 1, &in, &wrong_id, &d);
	cr_assert_eq(d.what, GUARD_DNS_UNSOLICITED, "another ID");
	struct msg other_name = answer_a("app.marketo.com", 300, 66);
	dns_alone(g, 1, &in, &other_name, &d);
	cr_assert_eq(d.what, GUARD_DNS_UNSOLICITED, "another question");
	cr_assert_eq(guard_counters(g)->dns_mismatched, 1);
	struct msg other_type = m;
	other_type.b[12 + strlen("ws.marketo.com") + 2 + 1] = 28;	/* AAAA */
	dns_alone(g, 1, &in, &other_type, &d);
	cr_assert_eq(d.what, GUARD_DNS_UNSOLICITED, "another type");
	guard_pending(g, &n);
	cr_assert_eq(n, 0);
	cr_assert_eq(guard_counters(g)->dns_unsolicited, 7);
	/* The real answer still works (a forgery does not use the query up), once. */
	dns_alone(g, 2, &in, &m, &d);
	cr_assert_eq(d.what, GUARD_DNS_LEARN);
	guard_pending_done(g, true, 2);
	dns_alone(g, 3, &in, &m, &d);
	cr_assert_eq(d.what, GUARD_DNS_UNSOLICITED, "answered already");
	/* A query is believed for query_timeout_ms only. */
	guard_dns(g, 10, &out, q.b, q.n, &d);
	dns_alone(g, 10 + 10000, &in, &m, &d);
	cr_assert_eq(d.what, GUARD_DNS_UNSOLICITED, "too late");
	cr_assert_eq(guard_counters(g)->dns_queries, 2);
	guard_free(g);
	policy_free(p);
}

static int queries_read;
static struct guard *hook_guard;

/* The runner's log socket, as the hook sees it: the query arrives while the answer waits. */
static void late_query(void *arg)
{
	const struct msg *m = arg;
	struct msg q = query_of(m);
	struct packet out = udp_packet(true), in = udp_packet(false);
	struct guard_dns_decision d;
	queries_read++;
	guard_queries_only(hook_guard, true);
	guard_dns(hook_guard, 0, &out, q.b, q.n, &d);
	cr_assert_eq(d.what, GUARD_DNS_QUERY);
	/* An answer on the query path is not read (and does not call the hook again). */
	guard_dns(hook_guard, 0, &in, m->b, m->n, &d);
	cr_assert_eq(d.what, GUARD_DNS_UNSOLICITED);
	guard_queries_only(hook_guard, false);
}

Test(guard, an_answer_read_before_its_logged_query_is_looked_up_again)
{
	struct policy *p = compile(RULES);
	struct guard *g = make(p, 1, 3600);
	struct guard_dns_decision d;
	struct msg m = answer_a("ws.marketo.com", 300, 10);
	struct packet in = udp_packet(false);
	hook_guard = g;
	guard_set_query_source(g, late_query, &m);
	dns_alone(g, 0, &in, &m, &d);
	cr_assert_eq(d.what, GUARD_DNS_LEARN);
	cr_assert_eq(queries_read, 1);
	cr_assert_str_eq(d.resp->question, "ws.marketo.com", "the query did not overwrite the answer");
	guard_free(g);
	policy_free(p);
}

Test(guard, sets_without_names_are_not_guard_sets_and_tls_follows_port_443)
{
	struct policy *p = compile(RULES);
	struct guard *g = make(p, 1, 3600);
	cr_assert_eq(guard_n_sets(g), 4);
	cr_assert_str_eq(guard_set_at(g, 0)->set->name, "marketo_web");
	cr_assert(guard_set_at(g, 0)->tls);
	cr_assert_str_eq(guard_set_at(g, 1)->set->name, "tracking");
	cr_assert_not(guard_set_at(g, 1)->tls, "port 80 only");
	cr_assert_not(guard_set_at(g, 2)->tls, "no rule");
	cr_assert_not(guard_set_at(g, 3)->tls);
	guard_free(g);
	policy_free(p);
}

/* ---- TLS ---- */

/* A TLS 1.2 ClientHello record with server name sni (none when NULL), padded with a
 * padding extension (RFC 7685) to about pad bytes. */
static size_t client_hello(uint8_t *out, const char *sni, size_t pad)
{
	uint8_t ext[4096];
	size_t e = 0, n = 0;
	if (sni) {
		size_t len = strlen(sni);
		uint8_t h[9] = { 0, 0, 0, (uint8_t)(len + 5), 0, (uint8_t)(len + 3), 0, 0, (uint8_t)len };
		memcpy(ext, h, 9);
		memcpy(ext + 9, sni, len);
		e = 9 + len;
	}
	if (pad) {
		ext[e++] = 0;
		ext[e++] = 21;
		ext[e++] = (uint8_t)(pad >> 8);
		ext[e++] = (uint8_t)pad;
		memset(ext + e, 0, pad);
		e += pad;
	}
	size_t body = 2 + 32 + 1 + 4 + 2 + 2 + e;
	uint8_t head[] = { 0x16, 3, 1, (uint8_t)((body + 4) >> 8), (uint8_t)(body + 4), 1, 0, (uint8_t)(body >> 8),
			   (uint8_t)body, 3, 3 };
	memcpy(out, head, sizeof(head));
	n = sizeof(head);
	memset(out + n, 0x42, 32);	/* random */
	n += 32;
	uint8_t mid[] = { 0, 0, 2, 0x13, 0x01, 1, 0, (uint8_t)(e >> 8), (uint8_t)e };
	memcpy(out + n, mid, sizeof(mid));
	n += sizeof(mid);
	memcpy(out + n, ext, e);
	return n + e;
}

static struct packet segment(uint16_t sport, uint32_t seq, uint8_t flags, const uint8_t *data, size_t len)
{
	struct packet p = { .family = FAMILY_V4, .proto = 6, .sport = sport, .dport = 443, .seq = seq,
			    .tcp_flags = flags, .payload = data, .len = len };
	p.src.lo = 0xc0000202;	/* 192.0.2.2 */
	p.dst.lo = 0xcb00710a;	/* 203.0.113.10 */
	return p;
}

static enum guard_tls_verdict tls(struct guard *g, struct packet p, struct guard_tls_decision *d)
{
	guard_tls(g, 0, &p, d);
	return d->verdict;
}

Test(guard, tls_allows_names_of_the_allowlist_and_denies_the_rest)
{
	struct policy *p = compile(RULES);
	struct guard *g = make(p, 1, 3600);
	struct guard_tls_decision d;
	uint8_t hello[2048];
	size_t n = client_hello(hello, "ws.marketo.com", 0);
	cr_assert_eq(tls(g, segment(40000, 100, TCP_SYN, NULL, 0), &d), GUARD_TLS_PASS);
	cr_assert_eq(tls(g, segment(40000, 101, TCP_ACK, NULL, 0), &d), GUARD_TLS_PASS);
	cr_assert_eq(tls(g, segment(40000, 101, TCP_ACK, hello, n), &d), GUARD_TLS_ALLOW);
	cr_assert_eq(d.reason, GUARD_TLS_NAME_ALLOWED);
	cr_assert_str_eq(d.hello.name, "ws.marketo.com");
	cr_assert_not_null(d.rule);
	cr_assert_eq(d.rule->loc.line, 9);
	cr_assert_eq(guard_n_conns(g), 0, "decided: forgotten");

	n = client_hello(hello, "evil.example.net", 0);
	cr_assert_eq(tls(g, segment(40001, 500, TCP_ACK, hello, n), &d), GUARD_TLS_DENY);
	cr_assert_eq(d.reason, GUARD_TLS_NAME_DENIED);
	n = client_hello(hello, "mkto-a0244.com", 0);	/* allowed, but on port 80 only */
	cr_assert_eq(tls(g, segment(40002, 500, TCP_ACK, hello, n), &d), GUARD_TLS_DENY);
	n = client_hello(hello, NULL, 16);
	cr_assert_eq(tls(g, segment(40003, 500, TCP_ACK, hello, n), &d), GUARD_TLS_DENY);
	cr_assert_eq(d.reason, GUARD_TLS_NO_NAME);
	const char *http = "GET / HTTP/1.1\r\nHost: ws.marketo.com\r\n\r\n";
	cr_assert_eq(tls(g, segment(40004, 500, TCP_ACK, (const uint8_t *)http, strlen(http)), &d), GUARD_TLS_DENY);
	cr_assert_eq(d.reason, GUARD_TLS_NOT_TLS);
	struct guard_counters *c = guard_counters(g);
	cr_assert_eq(c->tls_allowed, 1);
	cr_assert_eq(c->tls_denied, 4);
	guard_free(g);
	policy_free(p);
}

Test(guard, tls_hello_in_two_segments_in_order_out_of_order_and_retransmitted)
{
	struct policy *p = compile(RULES);
	struct guard *g = make(p, 1, 3600);
	struct guard_tls_decision d;
	uint8_t hello[4096];
	size_t n = client_hello(hello, "app.marketodesigner.com", 1800), half = 1000;
	cr_assert_gt(n, 1800);
	/* In order: the first part passes, the second decides. */
	tls(g, segment(41000, 99, TCP_SYN, NULL, 0), &d);
	cr_assert_eq(tls(g, segment(41000, 100, TCP_ACK, hello, half), &d), GUARD_TLS_PASS);
	cr_assert_eq(guard_n_conns(g), 1);
	cr_assert_eq(tls(g, segment(41000, 100 + (uint32_t)half, TCP_ACK, hello + half, n - half), &d),
		     GUARD_TLS_ALLOW);
	/* The second part first: held (dropped) until the first came. */
	tls(g, segment(41001, 99, TCP_SYN, NULL, 0), &d);
	cr_assert_eq(tls(g, segment(41001, 100 + (uint32_t)half, TCP_ACK, hello + half, n - half), &d),
		     GUARD_TLS_HOLD);
	cr_assert_eq(tls(g, segment(41001, 100, TCP_ACK, hello, half), &d), GUARD_TLS_PASS);
	cr_assert_eq(tls(g, segment(41001, 100, TCP_ACK, hello, half), &d), GUARD_TLS_PASS, "a retransmission");
	/* A resend overlapping what was read: only the new bytes count. */
	cr_assert_eq(tls(g, segment(41001, 100 + 500, TCP_ACK, hello + 500, n - 500), &d), GUARD_TLS_ALLOW);
	cr_assert_eq(guard_counters(g)->tls_out_of_order, 1);
	/* A denied name split the same way. */
	n = client_hello(hello, "evil.example.net", 1800);
	tls(g, segment(41002, 99, TCP_SYN, NULL, 0), &d);
	cr_assert_eq(tls(g, segment(41002, 100, TCP_ACK, hello, half), &d), GUARD_TLS_PASS);
	cr_assert_eq(tls(g, segment(41002, 100 + (uint32_t)half, TCP_ACK, hello + half, n - half), &d),
		     GUARD_TLS_DENY);
	guard_free(g);
	policy_free(p);
}

Test(guard, a_cname_into_an_allowed_set_allows_the_question_name_in_tls)
{
	struct policy *p = compile(RULES);
	struct guard *g = make(p, 1, 3600);
	struct guard_dns_decision dd;
	struct guard_tls_decision d;
	uint8_t hello[2048];
	size_t n = client_hello(hello, "go.customer.example", 0);
	cr_assert_eq(tls(g, segment(42000, 1, TCP_ACK, hello, n), &d), GUARD_TLS_DENY, "not learnt yet");
	struct msg m;
	dns_start(&m, "go.customer.example", 1);
	dns_cname(&m, "go.customer.example", 300, "acct.mktoweb.com");
	dns_a(&m, "acct.mktoweb.com", 60, 203, 0, 113, 20);
	dns(g, 0, &m, &dd);
	cr_assert_eq(dd.what, GUARD_DNS_LEARN);
	cr_assert_str_eq(dd.matched, "acct.mktoweb.com");
	cr_assert_eq(guard_n_aliases(g), 1);
	guard_pending_done(g, true, 0);
	cr_assert_eq(tls(g, segment(42001, 1, TCP_ACK, hello, n), &d), GUARD_TLS_ALLOW);
	cr_assert_eq(d.reason, GUARD_TLS_ALIAS_ALLOWED);
	cr_assert_str_eq(d.via, "acct.mktoweb.com");
	/* The alias expires with the chain's TTL (the smallest: 60 s). */
	guard_expire(g, 61000);
	cr_assert_eq(guard_n_aliases(g), 0);
	cr_assert_eq(tls(g, segment(42002, 1, TCP_ACK, hello, n), &d), GUARD_TLS_DENY);
	guard_free(g);
	policy_free(p);
}

Test(guard, connections_are_bounded_and_idle_ones_forgotten)
{
	struct policy *p = compile(RULES);
	struct guard_config c;
	const char *why;
	guard_config_defaults(&c);
	c.max_conns = 2;
	struct guard *g = guard_new(p, &c, &why);
	struct guard_tls_decision d;
	cr_assert_eq(tls(g, segment(1, 1, TCP_SYN, NULL, 0), &d), GUARD_TLS_PASS);
	cr_assert_eq(tls(g, segment(2, 1, TCP_SYN, NULL, 0), &d), GUARD_TLS_PASS);
	cr_assert_eq(tls(g, segment(3, 1, TCP_SYN, NULL, 0), &d), GUARD_TLS_DENY);
	cr_assert_eq(d.reason, GUARD_TLS_TOO_MANY);
	guard_expire(g, c.conn_idle_ms + 1);
	cr_assert_eq(guard_n_conns(g), 0);
	cr_assert_eq(tls(g, segment(3, 1, TCP_SYN, NULL, 0), &d), GUARD_TLS_PASS);
	guard_free(g);
	policy_free(p);
}

static void count_learn(const struct guard_dns_decision *d, void *arg)
{
	*(int *)arg += d->what == GUARD_DNS_LEARN;
}

static struct packet dns_segment(uint32_t seq, uint8_t flags, const uint8_t *data, size_t len)
{
	struct packet p = { .family = FAMILY_V4, .proto = 6, .sport = 53, .dport = 40000, .seq = seq,
			    .tcp_flags = flags, .payload = data, .len = len };
	p.src.lo = 0xc6336402;	/* 198.51.100.2 */
	p.dst.lo = 0xc0000202;
	return p;
}

/* The same connection's client-to-server direction. */
static struct packet client_segment(uint32_t seq, uint8_t flags, const uint8_t *data, size_t len)
{
	struct packet s = dns_segment(seq, flags, data, len), p = s;
	p.src = s.dst;
	p.dst = s.src;
	p.sport = s.dport;
	p.dport = s.sport;
	return p;
}

Test(guard, dns_over_tcp_is_read_across_segments_in_order)
{
	struct policy *p = compile(RULES);
	struct guard *g = make(p, 1, 3600);
	uint8_t stream[4096];
	size_t n = 0;
	struct msg a = answer_a("ws.marketo.com", 300, 10), b = answer_a("app.marketo.com", 300, 11);
	b.b[1] = 0x35;	/* RFC 7766 §6.2.1.1: queries on one connection have IDs of their own */
	stream[n++] = (uint8_t)(a.n >> 8);
	stream[n++] = (uint8_t)a.n;
	memcpy(stream + n, a.b, a.n);
	n += a.n;
	stream[n++] = (uint8_t)(b.n >> 8);
	stream[n++] = (uint8_t)b.n;
	memcpy(stream + n, b.b, b.n);
	n += b.n;
	int learnt = 0;
	size_t cut = a.n / 2, k;
	/* The client's two queries, in one segment after its SYN. */
	uint8_t queries[1024];
	size_t nq = 0;
	struct msg qa = query_of(&a), qb = query_of(&b);
	for (const struct msg *q = &qa; q; q = q == &qa ? &qb : NULL) {
		queries[nq++] = (uint8_t)(q->n >> 8);
		queries[nq++] = (uint8_t)q->n;
		memcpy(queries + nq, q->b, q->n);
		nq += q->n;
	}
	struct packet csyn = client_segment(499, TCP_SYN, NULL, 0), cq = client_segment(500, TCP_ACK, queries, nq);
	cr_assert(guard_dns_tcp(g, 0, &csyn, count_learn, &learnt));
	cr_assert(guard_dns_tcp(g, 0, &cq, count_learn, &learnt));
	cr_assert_eq(guard_counters(g)->dns_queries, 2);
	struct packet syn = dns_segment(999, TCP_SYN | TCP_ACK, NULL, 0);
	cr_assert(guard_dns_tcp(g, 0, &syn, count_learn, &learnt));
	/* The second part first: dropped, nothing read. */
	struct packet late = dns_segment(1000 + (uint32_t)cut, TCP_ACK, stream + cut, n - cut);
	cr_assert_not(guard_dns_tcp(g, 0, &late, count_learn, &learnt));
	struct packet first = dns_segment(1000, TCP_ACK, stream, cut);
	cr_assert(guard_dns_tcp(g, 0, &first, count_learn, &learnt));
	cr_assert_eq(learnt, 0, "half a message");
	cr_assert(guard_dns_tcp(g, 0, &late, count_learn, &learnt));
	cr_assert_eq(learnt, 2, "both messages, the second whole in the same segment");
	guard_pending(g, &k);
	cr_assert_eq(k, 4);
	cr_assert(guard_dns_tcp(g, 0, &first, count_learn, &learnt), "a retransmission");
	cr_assert_eq(learnt, 2);
	guard_pending_done(g, true, 0);
	guard_free(g);
	policy_free(p);
}

/* 100 addresses for big.marketo.com (203.0.113.100-199) and an EDNS0 OPT of 4096 octets. */
static struct msg answer_hundred(void)
{
	struct msg m;
	dns_start(&m, "big.marketo.com", 1);
	for (unsigned i = 0; i < 100; i++)
		dns_a(&m, "big.marketo.com", 300, 203, 0, 113, (uint8_t)(100 + i));
	static const uint8_t opt[11] = { 0, 0, 41, 0x10, 0x00 };
	memcpy(m.b + m.n, opt, sizeof(opt));
	m.n += sizeof(opt);
	m.b[11] = 1;	/* arcount */
	return m;
}

/* Every address of the answer is one pending update per matching set: the answer in order
 * for one set, then for the other. */
static void expect_hundred_learnt(struct guard *g)
{
	size_t k;
	const struct guard_update *u = guard_pending(g, &k);
	cr_assert_eq(k, 200, "100 addresses into marketo_web and everything, not %zu updates", k);
	for (size_t i = 0; i < k; i++)
		cr_assert_eq(u[i].addr.lo, 0xcb007100u + 100 + i % 100, "update %zu", i);
	guard_pending_done(g, true, 0);
}

Test(guard, a_hundred_address_answer_is_learnt_whole_over_udp_and_tcp)
{
	struct policy *p = compile(RULES);
	struct guard *g = make(p, 1, 3600);
	struct msg a = answer_hundred();
	cr_assert_gt(a.n, 1232, "an answer that needs EDNS0 over UDP: %zu octets", a.n);
	struct guard_dns_decision d;
	dns(g, 0, &a, &d);
	cr_assert_eq(d.what, GUARD_DNS_LEARN);
	cr_assert_eq(d.n_new, 200);
	expect_hundred_learnt(g);
	guard_free(g);

	g = make(p, 1, 3600);
	uint8_t stream[2 + sizeof(a.b)];
	stream[0] = (uint8_t)(a.n >> 8);
	stream[1] = (uint8_t)a.n;
	memcpy(stream + 2, a.b, a.n);
	int learnt = 0;
	/* the client's query first: the guard believes only answers to queries it saw */
	struct msg q = query_of(&a);
	uint8_t qstream[2 + sizeof(q.b)] = { (uint8_t)(q.n >> 8), (uint8_t)q.n };
	memcpy(qstream + 2, q.b, q.n);
	struct packet csyn = client_segment(499, TCP_SYN, NULL, 0), cq = client_segment(500, TCP_ACK, qstream, q.n + 2);
	cr_assert(guard_dns_tcp(g, 0, &csyn, count_learn, &learnt));
	cr_assert(guard_dns_tcp(g, 0, &cq, count_learn, &learnt));
	struct packet syn = dns_segment(999, TCP_SYN | TCP_ACK, NULL, 0);
	cr_assert(guard_dns_tcp(g, 0, &syn, count_learn, &learnt));
	for (size_t off = 0; off < a.n + 2; off += 1400) {	/* segments of an Ethernet MSS */
		size_t len = a.n + 2 - off < 1400 ? a.n + 2 - off : 1400;
		struct packet seg = dns_segment(1000 + (uint32_t)off, TCP_ACK, stream + off, len);
		cr_assert_eq(learnt, 0);
		cr_assert(guard_dns_tcp(g, 0, &seg, count_learn, &learnt));
	}
	cr_assert_eq(learnt, 1);
	expect_hundred_learnt(g);
	guard_free(g);
	policy_free(p);
}

/* ---- reload and restart ---- */

Test(guard, reload_keeps_what_still_matches_and_removes_the_rest)
{
	struct policy *p = compile(RULES);
	struct guard *g = make(p, 1, 3600);
	struct guard_dns_decision d;
	size_t n;
	struct msg m = answer_a("ws.marketo.com", 300, 10);
	dns(g, 0, &m, &d);
	m = answer_a("x.marketodesigner.com", 300, 11);
	dns(g, 0, &m, &d);
	guard_pending_done(g, true, 0);
	cr_assert_eq(guard_n_learnt(g), 4);
	struct policy *q = compile("set marketo_web { *.marketo.com }\n"
				   "allow out to @marketo_web tcp port 443\n");
	const char *why;
	cr_assert_eq(guard_reload(g, q, &why), 0);
	policy_free(p);
	const struct guard_removal *r = guard_removals(g, &n);
	cr_assert_eq(n, 3, "the designer address from both sets, ws from 'everything'");
	int designer = 0;
	for (size_t i = 0; i < n; i++)
		designer += r[i].addr.lo == 0xcb00710b;
	cr_assert_eq(designer, 2);
	guard_removals_clear(g);
	cr_assert_eq(guard_n_learnt(g), 1);
	m = answer_a("ws.marketo.com", 299, 10);
	dns(g, 1000, &m, &d);
	guard_pending(g, &n);
	cr_assert_eq(n, 0, "kept and still fresh: nothing to send");
	guard_free(g);
	policy_free(q);
}

Test(guard, state_survives_a_restart_but_is_checked_again)
{
	struct policy *p = compile(RULES);
	struct guard *g = make(p, 1, 3600);
	struct guard_dns_decision d;
	struct msg m;
	dns_start(&m, "go.customer.example", 1);
	dns_cname(&m, "go.customer.example", 300, "acct.mktoweb.com");
	dns_a(&m, "acct.mktoweb.com", 300, 203, 0, 113, 20);
	dns(g, 5000, &m, &d);
	guard_pending_done(g, true, 5000);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cr_assert_eq(guard_save(g, 10000, 1700000000000ull, f), 0);
	fclose(f);
	guard_free(g);
	cr_assert(strstr(text, "alias go.customer.example acct.mktoweb.com 1700000295000"), "%s", text);
	cr_assert(strstr(text, "learnt marketo_web 203.0.113.20 1700000295000 acct.mktoweb.com"), "%s", text);

	g = make(p, 1, 3600);
	f = fmemopen(text, len, "r");
	cr_assert_eq(guard_load(g, 0, 1700000100000ull, f), 3, "two sets and one alias");
	fclose(f);
	cr_assert_eq(guard_n_aliases(g), 1);
	struct guard_tls_decision td;
	uint8_t hello[2048];
	size_t n = client_hello(hello, "go.customer.example", 0);
	cr_assert_eq(tls(g, segment(1, 1, TCP_ACK, hello, n), &td), GUARD_TLS_ALLOW);
	dns(g, 1000, &m, &d);
	guard_pending(g, &n);
	cr_assert_eq(n, 2, "loaded entries are not trusted: the kernel may have lost them");
	guard_pending_done(g, true, 1000);
	f = fmemopen(text, len, "r");
	struct guard *late = make(p, 1, 3600);
	cr_assert_eq(guard_load(late, 0, 1700000300000ull, f), 0, "everything expired");
	fclose(f);
	guard_free(late);
	guard_free(g);
	free(text);
	policy_free(p);
}

/* ---- the table ---- */

Test(guard, table_agrees_with_a_reference_under_churn)
{
	struct gtab t;
	enum { N = 4096 };
	static bool ref[N];
	cr_assert_eq(gtab_init(&t, 16, 8, 0), 0);
	srand(7);
	for (int round = 0; round < 200000; round++) {
		uint64_t k = (uint64_t)(rand() % N);
		bool created;
		if (rand() % 3) {
			uint64_t *e = gtab_insert(&t, &k, &created);
			cr_assert_not_null(e);
			cr_assert_eq(created, !ref[k]);
			e[1] = k * 3;
			ref[k] = true;
		} else {
			uint64_t *e = gtab_find(&t, &k);
			cr_assert_eq(e != NULL, ref[k]);
			if (e) {
				cr_assert_eq(e[1], k * 3);
				gtab_remove(&t, e);
				ref[k] = false;
			}
		}
	}
	size_t count = 0, pos = 0;
	uint64_t *e;
	while ((e = gtab_next(&t, &pos))) {
		cr_assert(ref[e[0]]);
		count++;
		if (e[0] % 2) {	/* removing during a walk misses nothing */
			ref[e[0]] = false;
			gtab_remove(&t, e);
			gtab_next_after_remove(&pos);
		}
	}
	size_t left = 0;
	for (int k = 0; k < N; k++) {
		left += ref[k];
		uint64_t key = (uint64_t)k;
		cr_assert_eq(gtab_find(&t, &key) != NULL, ref[k]);
		cr_assert(!(k % 2) || !ref[k], "the walk skipped %d", k);
	}
	cr_assert_eq(t.n, left);
	gtab_free(&t);
}

/* While the table grows its entries are in two parts: every lookup, removal and walk must
 * see each entry once, whichever part holds it. */
Test(guard, a_table_growing_in_steps_loses_nothing)
{
	struct gtab t;
	enum { N = 50000 };
	static bool ref[N];
	cr_assert_eq(gtab_init(&t, 16, 8, 0), 0);
	for (uint64_t k = 0; k < N; k++) {
		bool created;
		uint64_t *e = gtab_insert(&t, &k, &created);
		cr_assert(created);
		e[1] = k;
		ref[k] = true;
		if (k % 7 == 3) {	/* remove an early one: it may be in the old part */
			uint64_t gone = k / 2;
			uint64_t *x = gtab_find(&t, &gone);
			cr_assert_eq(x != NULL, ref[gone]);
			if (x) {
				cr_assert_eq(x[1], gone);
				gtab_remove(&t, x);
				ref[gone] = false;
			}
		}
		if (k % 4999 == 0 || k == N - 1) {
			static uint8_t seen[N];
			size_t pos = 0, count = 0, left = 0;
			memset(seen, 0, sizeof(seen));
			while ((e = gtab_next(&t, &pos))) {
				cr_assert(ref[e[0]] && !seen[e[0]], "entry %lu", (unsigned long)e[0]);
				seen[e[0]] = 1;
				count++;
			}
			for (uint64_t j = 0; j <= k; j++) {
				left += ref[j];
				cr_assert_eq(gtab_find(&t, &j) != NULL, ref[j], "key %lu after %lu", (unsigned long)j,
					     (unsigned long)k);
			}
			cr_assert_eq(count, left);
			cr_assert_eq(t.n, left);
		}
	}
	gtab_free(&t);
}

Test(guard, expiry_in_steps_walks_part_of_the_table_at_a_time)
{
	struct policy *p = compile(RULES);
	struct guard *g = make(p, 1, 3600);
	struct guard_dns_decision d;
	for (int i = 0; i < 200; i++) {
		struct msg m = answer_a("ws.marketo.com", 10, (uint8_t)i);
		dns(g, 0, &m, &d);
		guard_pending_done(g, true, 0);
	}
	cr_assert_eq(guard_n_learnt(g), 400, "two sets each");
	/* A step looks at 50 entries: it cannot have removed more. */
	guard_expire_step(g, 11000, 50);
	cr_assert_geq(guard_n_learnt(g), 350);
	cr_assert_lt(guard_n_learnt(g), 400);
	/* Steps go on where the last stopped, and come round to every entry. */
	for (int i = 0; i < 40 && guard_n_learnt(g); i++)
		guard_expire_step(g, 11000, 50);
	cr_assert_eq(guard_n_learnt(g), 0);
	guard_free(g);
	policy_free(p);
}
