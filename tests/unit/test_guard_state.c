/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guard's state file loader (matcher/guard_state.c) against a hand-edited or planted
 * guard.state: lifetimes cut to --ttl-max (no 32-bit millisecond wrap of the kernel
 * timeout), addresses that are not one host's refused, lines not in guard_save's exact form
 * skipped. And the same address rule for DNS answers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"

#define NOW_WALL 1700000000000ull	/* ms, CLOCK_REALTIME at load */
#define TTL_MAX 3600u

static struct policy *policy;
static struct guard *g;

static void setup(void)
{
	static const char rules[] = "set web { *.marketo.com }\n"
				    "allow out to @web tcp port 443\n";
	struct diags *d = diags_new();
	struct compile_request req = { .file = "t.rules", .text = rules, .len = strlen(rules) };
	policy = policy_compile(&req, d);
	diags_free(d);
	cr_assert_not_null(policy);
	struct guard_config c;
	const char *why = NULL;
	guard_config_defaults(&c);
	c.ttl_min = 1;
	c.ttl_max = TTL_MAX;
	cr_assert_not_null(g = guard_new(policy, &c, &why));
	guard_set_present(g, 0, FAMILY_V4, true);
	guard_set_present(g, 0, FAMILY_V6, true);
}

static void teardown(void)
{
	guard_free(g);
	policy_free(policy);
}

TestSuite(guard_state, .init = setup, .fini = teardown);

/* Loads text at monotonic time 0; returns the entries taken. */
static size_t load(const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	cr_assert_not_null(f);
	size_t n = guard_load(g, 0, NOW_WALL, f);
	fclose(f);
	return n;
}

Test(guard_state, a_line_as_guard_save_writes_it_is_taken_back)
{
	cr_assert_eq(load("# comment\nlearnt web 203.0.113.5 1700000060000 ws.marketo.com\n"
			  "learnt web 2001:db8::5 1700000060000 ws.marketo.com\n"
			  "alias go.example ws.marketo.com 1700000060000\n"), 3);
	cr_assert_eq(guard_n_learnt(g), 2);
	cr_assert_eq(guard_n_aliases(g), 1);
	cr_assert_eq(guard_replay(g, 0), 2);
	size_t n;
	const struct guard_update *u = guard_pending(g, &n);
	cr_assert_eq(u[0].timeout_ms, 60000);
}

Test(guard_state, lifetimes_are_cut_to_ttl_max)
{
	/* 36 days ahead: past 2^32 ms, which once wrapped into a random kernel timeout. */
	cr_assert_eq(load("learnt web 203.0.113.5 1703110400000 ws.marketo.com\n"), 1);
	cr_assert_eq(guard_replay(g, 0), 1);
	size_t n;
	const struct guard_update *u = guard_pending(g, &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(u[0].timeout_ms, TTL_MAX * 1000u);
	guard_pending_done(g, true, 0);
	guard_expire(g, TTL_MAX * 1000ull + 1);
	cr_assert_eq(guard_n_learnt(g), 0);
}

Test(guard_state, an_alias_expiring_at_the_end_of_time_lives_ttl_max)
{
	cr_assert_eq(load("alias go.example ws.marketo.com 18446744073709551615\n"), 1);
	guard_expire(g, TTL_MAX * 1000ull - 1);
	cr_assert_eq(guard_n_aliases(g), 1);
	guard_expire(g, TTL_MAX * 1000ull + 1);
	cr_assert_eq(guard_n_aliases(g), 0, "taken as-is it would never expire");
}

Test(guard_state, expiry_numbers_are_digits_without_overflow)
{
	static const char *const bad[] = {
		"alias a.example ws.marketo.com 18446744073709551616\n",	/* 2^64 */
		"alias a.example ws.marketo.com -1\n",				/* strtoull would wrap it */
		"alias a.example ws.marketo.com +1700000060000\n",
		"alias a.example ws.marketo.com 1700000060000x\n",
		"alias a.example ws.marketo.com 0x1900000000000\n",
		"learnt web 203.0.113.5 1e13 ws.marketo.com\n",
		"learnt web 203.0.113.5 1700000000000 ws.marketo.com\n",	/* expired now */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		cr_assert_eq(load(bad[i]), 0, "%s", bad[i]);
	cr_assert_eq(guard_n_aliases(g) + guard_n_learnt(g), 0);
}

Test(guard_state, only_unicast_host_addresses_are_learnt)
{
	static const char *const refused[] = {
		"0.0.0.0", "0.1.2.3", "255.255.255.255", "224.0.0.1", "239.255.255.250", "240.0.0.1",
		"127.0.0.1", "::", "::1", "ff02::1", "ff0e::1", "::ffff:203.0.113.5",
	};
	char line[256];
	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
		snprintf(line, sizeof(line), "learnt web %s 1700000060000 ws.marketo.com\n", refused[i]);
		cr_assert_eq(load(line), 0, "%s", refused[i]);
	}
	cr_assert_eq(load("learnt web 198.51.100.1 1700000060000 ws.marketo.com\n"
			  "learnt web 1.0.0.1 1700000060000 ws.marketo.com\n"
			  "learnt web 223.255.255.254 1700000060000 ws.marketo.com\n"
			  "learnt web fe80::1 1700000060000 ws.marketo.com\n"
			  "learnt web 2001:db8::ffff:1 1700000060000 ws.marketo.com\n"), 5);
}

Test(guard_state, lines_not_in_the_saved_form_are_skipped)
{
	char longline[4096];
	memset(longline, 'x', 2500);
	/* A line longer than the reader's buffer: its tail must not be read as a line. */
	memcpy(longline + 2500, " learnt web 203.0.113.9 1700000060000 ws.marketo.com\n", 54);
	longline[2554] = '\0';
	static const char *const bad[] = {
		"learnt web 203.0.113.5 1700000060000 ws.marketo.com extra\n",
		"learnt web 203.0.113.5 1700000060000\n",
		"learnt other 203.0.113.5 1700000060000 ws.marketo.com\n",	/* no such set */
		"learnt web 203.0.113.5 1700000060000 evil.example.net\n",	/* not the set's name */
		"learnt web 203.0.113.500 1700000060000 ws.marketo.com\n",
		"learnt web 203.0.113.5/32 1700000060000 ws.marketo.com\n",
		"learntweb 203.0.113.5 1700000060000 ws.marketo.com\n",
		"alias a.example ws.marketo.com\n",
		"alias a.example ws.marketo.com 1700000060000 more\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		cr_assert_eq(load(bad[i]), 0, "%s", bad[i]);
	cr_assert_eq(load(longline), 0);
	cr_assert_eq(guard_n_aliases(g) + guard_n_learnt(g), 0);
}

/* A DNS answer for name with one A record a.b.c.d (RFC 1035 §4.1, no compression). */
static size_t answer(uint8_t *m, const char *name, const uint8_t addr[4])
{
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
	m[n++] = 0;
	static const uint8_t qtail[] = { 0, 1, 0, 1 };
	memcpy(m + n, qtail, 4);
	n += 4;
	static const uint8_t rr[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4 };
	memcpy(m + n, rr, sizeof(rr));
	n += sizeof(rr);
	memcpy(m + n, addr, 4);
	return n + 4;
}

/* The answer m (length n) to a query that went out first: the guard believes only answers to
 * queries it saw (from the client 192.0.2.2:40000 to the resolver 198.51.100.2:53). */
static void asked(uint8_t *m, size_t n, struct guard_dns_decision *d)
{
	struct packet out = { .family = FAMILY_V4, .proto = 17, .sport = 40000, .dport = 53 };
	struct packet in = { .family = FAMILY_V4, .proto = 17, .sport = 53, .dport = 40000 };
	out.src.lo = in.dst.lo = 0xc0000202;
	out.dst.lo = in.src.lo = 0xc6336402;
	uint8_t q[512];
	size_t qn = n - 16;	/* the header and question: the one answer record is 16 bytes */
	memcpy(q, m, qn);
	q[2] = 0x01, q[3] = 0, q[6] = q[7] = 0;
	guard_dns(g, 0, &out, q, qn, d);
	cr_assert_eq(d->what, GUARD_DNS_QUERY);
	guard_dns(g, 0, &in, m, n, d);
}

Test(guard_state, dns_answers_teach_no_address_that_is_not_a_host)
{
	uint8_t m[512];
	struct guard_dns_decision d;
	static const uint8_t refused[][4] = { { 0, 0, 0, 0 }, { 255, 255, 255, 255 }, { 127, 0, 0, 1 }, { 224, 0, 0, 1 } };
	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
		asked(m, answer(m, "ws.marketo.com", refused[i]), &d);
		cr_assert_neq(d.what, GUARD_DNS_MALFORMED);
	}
	size_t n;
	guard_pending(g, &n);
	cr_assert_eq(n, 0);
	asked(m, answer(m, "ws.marketo.com", (const uint8_t[]){ 203, 0, 113, 5 }), &d);
	guard_pending(g, &n);
	cr_assert_eq(n, 1, "a host address next to them is learnt");
}

/* What guard_save writes of the guard as it is now. */
static char *saved(size_t budget)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct guard_save_walk w = { 0 };
	int rc, steps = 0;
	while ((rc = guard_save_step(g, &w, 0, NOW_WALL, f, budget)) == 0)
		steps++;
	cr_assert_eq(rc, 1);
	cr_assert(budget == 0 || steps > 0, "a small budget takes several steps");
	fclose(f);
	return text;
}

Test(guard_state, a_save_in_steps_writes_what_one_save_writes)
{
	char line[128];
	for (int i = 1; i <= 200; i++) {
		snprintf(line, sizeof(line), "learnt web 203.0.113.%d 1700000060000 h%d.marketo.com\n", i, i);
		cr_assert_eq(load(line), 1);
	}
	cr_assert_eq(load("alias go.example ws.marketo.com 1700000060000\n"), 1);
	char *whole = saved(0), *stepped = saved(7);
	cr_assert_str_eq(stepped, whole);
	cr_assert_not_null(strstr(whole, "learnt web 203.0.113.200 1700000060000 h200.marketo.com\n"));
	cr_assert_not_null(strstr(whole, "alias go.example ws.marketo.com 1700000060000\n"));
	free(whole);
	free(stepped);
}
