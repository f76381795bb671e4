/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Compiled domain sets and the verdict table: DESIGN.md semantics, precedence, sources,
 * and a differential check against a brute-force reference on generated patterns. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domset.h"
#include "verdict.h"

static struct domset *set;

static void add(const char *text, unsigned line)
{
	struct loc loc = { "t.rules", line, 1 };
	enum name_kind kind = NAME_EXACT;
	if (!strncmp(text, "*.", 2)) {
		kind = NAME_WILDCARD;
		text += 2;
	}
	cr_assert_eq(domset_add_name(set, text, kind, loc), 0);
}

static const char *hit(const char *name)
{
	const struct domset_elem *e = domset_match(set, name, strlen(name));
	return e ? e->text : NULL;
}

static void setup(void)
{
	set = domset_new();
	cr_assert_not_null(set);
}

static void teardown(void)
{
	domset_free(set);
}

TestSuite(domset, .init = setup, .fini = teardown);

Test(domset, wildcard_strictly_below_any_depth_not_apex)
{
	add("*.marketo.com", 3);
	cr_assert_eq(domset_build(set), 0);
	cr_assert_str_eq(hit("ws.marketo.com"), "marketo.com");
	cr_assert_str_eq(hit("a.b.c.marketo.com"), "marketo.com");
	cr_assert_null(hit("marketo.com"));
	cr_assert_null(hit("xmarketo.com"));
	cr_assert_null(hit("marketo.com.evil.example"));
	cr_assert_null(hit("com"));
}

Test(domset, exact_only_itself)
{
	add("mkto-a0244.com", 7);
	cr_assert_eq(domset_build(set), 0);
	cr_assert_str_eq(hit("mkto-a0244.com"), "mkto-a0244.com");
	cr_assert_null(hit("x.mkto-a0244.com"));
	cr_assert_null(hit("mkto-a0244.co"));
}

Test(domset, case_and_trailing_dot)
{
	add("*.marketo.com", 3);
	add("exact.example", 4);
	cr_assert_eq(domset_build(set), 0);
	cr_assert_str_eq(hit("WS.MarKeto.COM."), "marketo.com");
	cr_assert_str_eq(hit("EXACT.example."), "exact.example");
	cr_assert_null(hit("exact.example.."));
	cr_assert_null(hit("."));
	cr_assert_null(hit(""));
}

Test(domset, empty_labels_never_match)
{
	add("*.marketo.com", 3);
	cr_assert_eq(domset_build(set), 0);
	cr_assert_null(hit(".marketo.com"));
	cr_assert_null(hit("a..marketo.com"));
	cr_assert_null(hit("x..deep.deeper.marketo.com"));
}

Test(domset, precedence_and_source)
{
	struct loc loc = { "t.rules", 9, 1 };
	const char *why;
	add("*.example.com", 1);
	add("*.b.example.com", 2);
	add("a.b.example.com", 3);
	cr_assert_eq(domset_add_regex(set, "a\\.b\\.example\\.com", loc, &why), 0);
	cr_assert_eq(domset_add_regex(set, "ws[0-9]+\\.other\\.org", loc, &why), 0);
	cr_assert_eq(domset_build(set), 0);
	const struct domset_elem *e = domset_match(set, "a.b.example.com", 15);
	cr_assert_eq(e->kind, DOMSET_EXACT);
	cr_assert_eq(e->loc.line, 3);
	e = domset_match(set, "x.b.example.com", 15);
	cr_assert_eq(e->loc.line, 2, "the longest wildcard base wins");
	e = domset_match(set, "b.example.com", 13);
	cr_assert_eq(e->loc.line, 1);
	e = domset_match(set, "WS42.other.org", 14);
	cr_assert_eq(e->kind, DOMSET_REGEX);
	cr_assert_eq(e->loc.line, 9);
	cr_assert_null(hit("ws.other.org"));
	cr_assert_null(hit("xws1.other.org"), "regexes are anchored at the start");
	cr_assert_null(hit("ws1.other.org.x"), "and at the end");
}

Test(domset, bad_regex_is_reported)
{
	struct loc loc = { "t.rules", 1, 1 };
	const char *why = NULL;
	cr_assert_eq(domset_add_regex(set, "(unclosed", loc, &why), -1);
	cr_assert_not_null(why);
}

Test(domset, name_length_limits)
{
	char name[300];
	memset(name, 'a', sizeof(name));
	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	add(name + 64, 1);
	add("*.example", 2);
	cr_assert_eq(domset_build(set), 0);
	cr_assert_str_eq(hit(name + 64), name + 64);
	char longer[400];
	snprintf(longer, sizeof(longer), "%s.x", name);
	cr_assert_null(hit(longer), "longer than 253 is not a name");
	memset(longer, 'a', 260);
	strcpy(longer + 251, ".example");
	cr_assert_null(hit(longer));
}

Test(domset, duplicates_and_build_twice)
{
	add("*.a.example", 1);
	add("*.a.example", 2);
	add("a.example", 3);
	cr_assert_eq(domset_build(set), 0);
	cr_assert_eq(domset_build(set), 0);
	cr_assert_eq(domset_match(set, "x.a.example", 11)->loc.line, 1, "the first of two repeats wins");
	cr_assert_eq(domset_match(set, "a.example", 9)->loc.line, 3);
	struct loc loc = { "t.rules", 1, 1 };
	cr_assert_eq(domset_add_name(set, "late.example", NAME_EXACT, loc), -1);
}

Test(domset, unbuilt_set_matches_nothing)
{
	add("x.example", 1);
	cr_assert_null(hit("x.example"));
}

/* The reference: DESIGN.md's words, one pattern at a time, with the precedence domset
 * promises (an exact name, else the longest wildcard; the first of repeats). Returns the
 * index of the pattern that must answer, or -1. */
static int reference(char **pats, bool *wild, size_t n, const char *name)
{
	char low[300];
	size_t len = strlen(name);
	for (size_t i = 0; i <= len; i++)
		low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
	if (len && low[len - 1] == '.')
		low[--len] = '\0';
	int best = -1;
	for (size_t i = 0; i < n; i++) {
		if (!wild[i] && !strcmp(low, pats[i]))
			return (int)i;
		if (wild[i] && name_is_below(low, pats[i]) && (best < 0 || strlen(pats[i]) > strlen(pats[best])))
			best = (int)i;
	}
	return best;
}

static void random_name(char *buf, unsigned *seed, int labels)
{
	static const char *const words[] = { "a", "b", "ws", "cdn", "marketo", "example", "com", "org", "x1" };
	buf[0] = '\0';
	for (int i = 0; i < labels; i++) {
		const char *w = words[rand_r(seed) % 9];
		strcat(buf, w);
		if (i + 1 < labels)
			strcat(buf, ".");
	}
	if (rand_r(seed) % 7 == 0)
		buf[0] = (char)(buf[0] - 32);	/* an upper-case letter */
	if (rand_r(seed) % 11 == 0)
		strcat(buf, ".");
}

Test(domset, agrees_with_the_reference)
{
	enum { PATTERNS = 300, QUERIES = 20000 };
	char *pats[PATTERNS];
	bool wild[PATTERNS];
	unsigned seed = 42;
	char buf[300];
	for (size_t i = 0; i < PATTERNS; i++) {
		do
			random_name(buf, &seed, 1 + rand_r(&seed) % 4);
		while (buf[0] < 'a' || buf[strlen(buf) - 1] == '.');
		pats[i] = strdup(buf);
		wild[i] = rand_r(&seed) % 2;
		/* The set borrows its names: each pattern's own copy, not buf. */
		struct loc loc = { "t.rules", (unsigned)i + 1, 1 };
		cr_assert_eq(domset_add_name(set, pats[i], wild[i] ? NAME_WILDCARD : NAME_EXACT, loc), 0);
	}
	cr_assert_eq(domset_build(set), 0);
	for (int q = 0; q < QUERIES; q++) {
		random_name(buf, &seed, 1 + rand_r(&seed) % 6);
		int want = reference(pats, wild, PATTERNS, buf);
		const struct domset_elem *e = domset_match(set, buf, strlen(buf));
		cr_assert_eq(e != NULL, want >= 0, "%s: want %d", buf, want);
		/* The element and its source, not only the verdict: line i + 1 wrote pattern i. */
		if (e)
			cr_assert_eq(e->loc.line, (unsigned)want + 1, "%s: got line %u, want %d", buf, e->loc.line, want + 1);
	}
	for (size_t i = 0; i < PATTERNS; i++)
		free(pats[i]);
}

/* verdict: rules, protocols and ports over the sets. */
static const char POLICY[] = "set web { *.marketo.com ws.other.example ~\"cdn[0-9]+\\.example\\.net\" }\n"
			     "set alt { alt.example }\n"
			     "set senders { 192.0.2.0/24 }\n"
			     "set names_in { inbound.example }\n"
			     "allow out to @web tcp port { 80, 443 }\n"
			     "allow out to @alt udp port 5000-5010\n"
			     "allow out to @web udp port 53\n"
			     "allow in from @senders tcp port 25\n";

static struct policy *compile(struct diags **d)
{
	*d = diags_new();
	struct compile_request req = { .file = "v.rules", .text = POLICY, .len = sizeof(POLICY) - 1 };
	struct policy *p = policy_compile(&req, *d);
	cr_assert_not_null(p, "the test policy compiles");
	return p;
}

Test(verdict, ports_protocols_and_sources)
{
	struct diags *d;
	struct policy *p = compile(&d);
	const char *why;
	struct verdict_table *t = verdict_table_new(p, &why);
	struct verdict_hit h;
	cr_assert_not_null(t);
	cr_assert(verdict_flow(t, "ws.marketo.com", 14, PROTO_TCP, 443, &h));
	cr_assert_eq(h.elem->loc.line, 1);
	cr_assert_eq(h.rule->loc.line, 5);
	cr_assert_not(verdict_flow(t, "ws.marketo.com", 14, PROTO_TCP, 8443, &h), "8443 is not allowed");
	cr_assert_null(h.elem);
	cr_assert(verdict_flow(t, "ws.marketo.com", 14, PROTO_UDP, 53, &h));
	cr_assert_eq(h.rule->loc.line, 7);
	cr_assert(verdict_flow(t, "alt.example", 11, PROTO_UDP, 5007, &h));
	cr_assert_not(verdict_flow(t, "alt.example", 11, PROTO_TCP, 5007, &h));
	cr_assert(verdict_name(t, "CDN7.example.net.", 17, &h));
	cr_assert_eq(h.elem->kind, DOMSET_REGEX);
	cr_assert_not(verdict_name(t, "inbound.example", 15, &h), "sets no out rule uses allow nothing");
	cr_assert_not(verdict_name(t, "marketo.com", 11, &h));
	verdict_table_free(t);
	policy_free(p);
	diags_free(d);
}
