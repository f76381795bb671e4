/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_cidr.c — parsing, RFC 5952 formatting and aggregation of addresses and prefixes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

/* ---- helpers ---------------------------------------------------------------------- */

static enum cidr_status parse(const char *text, struct cidr_parsed *out)
{
	return cidr_parse(text, strlen(text), out);
}

/* Parses text that must be good and returns its range. */
static struct addr_range range_of(const char *text)
{
	struct cidr_parsed p;
	enum cidr_status st = parse(text, &p);
	cr_assert_eq(st, CIDR_OK, "'%s': %s", text, cidr_status_str(st));
	return p.range;
}

static struct addr addr_of(const char *text)
{
	return range_of(text).lo;
}

/* The canonical text of a parsed address or prefix. */
static const char *canonical(const char *text, char *buf)
{
	struct cidr_parsed p;
	enum cidr_status st = parse(text, &p);
	cr_assert_eq(st, CIDR_OK, "'%s': %s", text, cidr_status_str(st));
	if (p.prefix.len == (p.prefix.family == FAMILY_V4 ? 32 : 128))
		cidr_format_addr(buf, p.prefix.family, p.prefix.addr);
	else
		cidr_format_prefix(buf, &p.prefix);
	return buf;
}

/* Aggregates the texts (tag i for texts[i]) into one space-separated line of prefixes. */
static char *aggregate_line(const char *const *texts, size_t n, bool tags, struct cidr_agg *agg)
{
	struct cidr_list list = { 0 };
	for (size_t i = 0; i < n; i++) {
		struct addr_range r = range_of(texts[i]);
		cr_assert_eq(cidr_list_add(&list, &r, (uint32_t)i), 0);
	}
	cr_assert_eq(cidr_aggregate(&list, tags, agg), 0);
	cidr_list_free(&list);
	char *line = calloc(agg->n + 1, CIDR_TEXT_MAX);
	size_t len = 0;
	for (size_t i = 0; i < agg->n; i++) {
		if (i)
			line[len++] = ' ';
		len += cidr_format_prefix(line + len, &agg->prefixes[i]);
	}
	return line;
}

#define AGGREGATES_TO(expected, ...)                                                  \
	do {                                                                          \
		const char *const in_[] = { __VA_ARGS__ };                            \
		size_t n_ = sizeof(in_) / sizeof(in_[0]);                             \
		for (int tags_ = 0; tags_ < 2; tags_++) {                             \
			struct cidr_agg agg_;                                         \
			char *got_ = aggregate_line(in_, n_, tags_, &agg_);           \
			cr_expect_str_eq(got_, expected, "tags=%d", tags_);          \
			free(got_);                                                   \
			cidr_agg_free(&agg_);                                         \
		}                                                                     \
	} while (0)

/* ---- parsing: good input ------------------------------------------------------------ */

Test(cidr_parse, ipv4_address)
{
	struct cidr_parsed p;
	cr_assert_eq(parse("192.0.2.1", &p), CIDR_OK);
	cr_expect(p.is_prefix);
	cr_expect_eq(p.prefix.family, FAMILY_V4);
	cr_expect_eq(p.prefix.len, 32);
	cr_expect_eq(p.range.lo.lo, 0xc0000201u);
	cr_expect_eq(p.range.hi.lo, 0xc0000201u);
	cr_expect_eq(p.range.lo.hi, 0);
	cr_expect_eq(p.range.family, FAMILY_V4);
}

Test(cidr_parse, ipv4_prefix)
{
	struct cidr_parsed p;
	cr_assert_eq(parse("192.28.144.0/20", &p), CIDR_OK);
	cr_expect_eq(p.prefix.len, 20);
	cr_expect_eq(p.range.lo.lo, 0xc01c9000u);
	cr_expect_eq(p.range.hi.lo, 0xc01c9fffu);
	cr_assert_eq(parse("0.0.0.0/0", &p), CIDR_OK);
	cr_expect_eq(p.range.hi.lo, 0xffffffffu);
	cr_expect_eq(p.range.hi.hi, 0);
	cr_assert_eq(parse("255.255.255.255/32", &p), CIDR_OK);
	cr_assert_eq(parse("10.0.0.0/008", &p), CIDR_OK, "leading zeros in a length are harmless");
	cr_expect_eq(p.prefix.len, 8);
}

Test(cidr_parse, ipv6_forms)
{
	static const char *const good[] = {
		"::", "::1", "1::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8",
		"1::8", "2001:DB8::1", "2001:db8:0:0:0:0:2:1", "::ffff:192.0.2.1",
		"1:2:3:4:5:6:1.2.3.4", "::1.2.3.4", "fe80::/10", "::/0", "2001:db8::/32",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "0:0:0:0:0:0:0:0",
	};
	struct cidr_parsed p;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cr_expect_eq(parse(good[i], &p), CIDR_OK, "%s", good[i]);
		cr_expect_eq(p.range.family, FAMILY_V6, "%s", good[i]);
	}
	cr_assert_eq(parse("2001:db8::2:1", &p), CIDR_OK);
	cr_expect_eq(p.range.lo.hi, 0x20010db800000000ull);
	cr_expect_eq(p.range.lo.lo, 0x0000000000020001ull);
	cr_assert_eq(parse("::ffff:192.0.2.1", &p), CIDR_OK);
	cr_expect_eq(p.range.lo.lo, 0x0000ffffc0000201ull);
	cr_assert_eq(parse("2001:db8::/32", &p), CIDR_OK);
	cr_expect_eq(p.range.hi.hi, 0x20010db8ffffffffull);
	cr_expect_eq(p.range.hi.lo, UINT64_MAX);
}

Test(cidr_parse, ranges)
{
	struct cidr_parsed p;
	cr_assert_eq(parse("1.2.3.4-1.2.3.200", &p), CIDR_OK);
	cr_expect_not(p.is_prefix);
	cr_expect_eq(p.range.lo.lo, 0x01020304u);
	cr_expect_eq(p.range.hi.lo, 0x010203c8u);
	cr_expect_eq(parse("1.2.3.4-1.2.3.4", &p), CIDR_OK);
	cr_expect_eq(parse("::1-::2", &p), CIDR_OK);
	cr_expect_eq(p.range.family, FAMILY_V6);
	cr_expect_eq(parse("0.0.0.0-255.255.255.255", &p), CIDR_OK);
}

Test(cidr_parse, not_nul_terminated)
{
	struct cidr_parsed p;
	const char buf[] = { '1', '0', '.', '0', '.', '0', '.', '0', '/', '8', '9', '9' };
	cr_assert_eq(cidr_parse(buf, 10, &p), CIDR_OK);
	cr_expect_eq(p.prefix.len, 8);
	cr_assert_eq(cidr_parse("::1x", 3, &p), CIDR_OK);
	cr_assert_eq(cidr_parse("1.2.3.4-1.2.3.5", 7, &p), CIDR_OK);
	cr_expect(p.is_prefix);
}

/* ---- parsing: every bad status and where it points ------------------------------------ */

struct bad_case {
	const char *text;
	enum cidr_status status;
	size_t offset;
};

static void expect_bad(const struct bad_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct cidr_parsed p;
		enum cidr_status st = parse(c[i].text, &p);
		cr_expect_eq(st, c[i].status, "'%s': got %s", c[i].text, cidr_status_str(st));
		cr_expect_eq(p.err_offset, c[i].offset, "'%s': offset %zu", c[i].text, p.err_offset);
	}
}

Test(cidr_parse, bad_addresses)
{
	static const struct bad_case cases[] = {
		{ "", CIDR_BAD_ADDRESS, 0 },		{ "1.2.3", CIDR_BAD_ADDRESS, 0 },
		{ "1.2.3.4.5", CIDR_BAD_ADDRESS, 0 },	{ "256.1.1.1", CIDR_BAD_ADDRESS, 0 },
		{ "010.1.1.1", CIDR_BAD_ADDRESS, 0 },	{ "1.2.3.04", CIDR_BAD_ADDRESS, 0 },
		{ "+1.2.3.4", CIDR_BAD_ADDRESS, 0 },	{ "1..2.3", CIDR_BAD_ADDRESS, 0 },
		{ "1.2.3.4 ", CIDR_BAD_ADDRESS, 0 },	{ " 1.2.3.4", CIDR_BAD_ADDRESS, 0 },
		{ "1234", CIDR_BAD_ADDRESS, 0 },	{ "0x1.2.3.4", CIDR_BAD_ADDRESS, 0 },
		{ "1.2.3.", CIDR_BAD_ADDRESS, 0 },	{ "1.2.3.1000", CIDR_BAD_ADDRESS, 0 },
		{ "abc", CIDR_BAD_ADDRESS, 0 },	{ "1:2:3:4:5:6:7:8:9", CIDR_BAD_ADDRESS, 0 },
		{ ":::", CIDR_BAD_ADDRESS, 0 },	{ "1::2::3", CIDR_BAD_ADDRESS, 0 },
		{ "1:2", CIDR_BAD_ADDRESS, 0 },	{ ":1::", CIDR_BAD_ADDRESS, 0 },
		{ "1::2:", CIDR_BAD_ADDRESS, 0 },	{ "12345::", CIDR_BAD_ADDRESS, 0 },
		{ "g::", CIDR_BAD_ADDRESS, 0 },	{ "fe80::1%eth0", CIDR_BAD_ADDRESS, 0 },
		{ "::1.2.3", CIDR_BAD_ADDRESS, 0 },	{ "1.2.3.4::", CIDR_BAD_ADDRESS, 0 },
		{ "1:2:3:4:5:6:7:1.2.3.4", CIDR_BAD_ADDRESS, 0 },
		{ "1:2:3:4:5:6:7:8::", CIDR_BAD_ADDRESS, 0 },
		{ "::1:2:3:4:5:6:7:8", CIDR_BAD_ADDRESS, 0 },
		{ "1::1.2.3.4:5", CIDR_BAD_ADDRESS, 0 }, { "1:2:3:4:5:6:7", CIDR_BAD_ADDRESS, 0 },
		{ "/24", CIDR_BAD_ADDRESS, 0 },	{ "-1.2.3.4", CIDR_BAD_ADDRESS, 0 },
		{ "1.2.3.0/24-1.2.3.255", CIDR_BAD_ADDRESS, 0 },
		{ "1.2.3.4-1.2.3.x", CIDR_BAD_ADDRESS, 8 },
		{ "1.2.3.4-", CIDR_BAD_ADDRESS, 8 },	{ "::1-::g", CIDR_BAD_ADDRESS, 4 },
		{ "1.2.3.4-1.2.3.5-1.2.3.6", CIDR_BAD_ADDRESS, 8 },
	};
	expect_bad(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(cidr_parse, bad_lengths)
{
	static const struct bad_case cases[] = {
		{ "1.2.3.0/33", CIDR_BAD_LENGTH, 8 },	{ "1.2.3.0/", CIDR_BAD_LENGTH, 8 },
		{ "1.2.3.0/a", CIDR_BAD_LENGTH, 8 },	{ "1.2.3.0/+8", CIDR_BAD_LENGTH, 8 },
		{ "1.2.3.0/24/1", CIDR_BAD_LENGTH, 8 },	{ "::/129", CIDR_BAD_LENGTH, 3 },
		{ "::/99999999999999999999", CIDR_BAD_LENGTH, 3 },
		{ "2001:db8::/ 32", CIDR_BAD_LENGTH, 11 },
	};
	expect_bad(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(cidr_parse, host_bits_suggest_the_network)
{
	struct cidr_parsed p;
	char buf[CIDR_TEXT_MAX];
	cr_assert_eq(parse("192.28.144.5/20", &p), CIDR_HOST_BITS);
	cr_expect_eq(p.err_offset, 0);
	cidr_format_prefix(buf, &p.prefix);
	cr_expect_str_eq(buf, "192.28.144.0/20");
	cr_assert_eq(parse("2001:db8::1/32", &p), CIDR_HOST_BITS);
	cidr_format_prefix(buf, &p.prefix);
	cr_expect_str_eq(buf, "2001:db8::/32");
	cr_assert_eq(parse("1.2.3.4/0", &p), CIDR_HOST_BITS);
	cidr_format_prefix(buf, &p.prefix);
	cr_expect_str_eq(buf, "0.0.0.0/0");
	cr_assert_eq(parse("::1/127", &p), CIDR_HOST_BITS);
	cidr_format_prefix(buf, &p.prefix);
	cr_expect_str_eq(buf, "::/127");
}

Test(cidr_parse, reversed_and_mixed_point_at_second_address)
{
	static const struct bad_case cases[] = {
		{ "1.2.3.9-1.2.3.1", CIDR_REVERSED, 8 },
		{ "::2-::1", CIDR_REVERSED, 4 },
		{ "255.255.255.255-0.0.0.0", CIDR_REVERSED, 16 },
		{ "1.2.3.4-::1", CIDR_MIXED_FAMILY, 8 },
		{ "::1-1.2.3.4", CIDR_MIXED_FAMILY, 4 },
	};
	expect_bad(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(cidr_parse, every_status_has_words)
{
	for (int st = CIDR_OK; st <= CIDR_MIXED_FAMILY; st++) {
		const char *s = cidr_status_str((enum cidr_status)st);
		cr_assert_not_null(s);
		cr_expect_str_neq(s, "unknown error");
	}
}

/* ---- formatting ----------------------------------------------------------------------- */

Test(cidr_format, rfc5952)
{
	static const char *const cases[][2] = {
		/* §4.2.1: the longest run is compressed... */
		{ "2001:db8:0:0:0:0:2:1", "2001:db8::2:1" },
		/* §4.2.2: ...but never a single zero group */
		{ "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" },
		/* §4.2.3: the longest run, and the first one on a tie */
		{ "2001:0:0:1:0:0:0:1", "2001:0:0:1::1" },
		{ "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1" },
		/* §4.1 leading zeros dropped, §4.3 lower case */
		{ "2001:0DB8:00AA::0001", "2001:db8:aa::1" },
		{ "0:0:0:0:0:0:0:0", "::" },
		{ "0:0:0:0:0:0:0:1", "::1" },
		{ "1:0:0:0:0:0:0:0", "1::" },
		{ "1:0:0:0:0:0:0:1", "1::1" },
		{ "0:1:0:1:0:1:0:1", "0:1:0:1:0:1:0:1" },
		{ "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
		/* §5: IPv4-mapped addresses keep the dotted tail */
		{ "::ffff:c000:201", "::ffff:192.0.2.1" },
		{ "::ffff:0.0.0.0", "::ffff:0.0.0.0" },
		{ "::1.2.3.4", "::102:304" },
		{ "0.0.0.0", "0.0.0.0" },
		{ "255.255.255.255", "255.255.255.255" },
		{ "10.0.0.1", "10.0.0.1" },
		{ "2001:db8::/32", "2001:db8::/32" },
		{ "0.0.0.0/0", "0.0.0.0/0" },
		{ "::/0", "::/0" },
		{ "fe80:0::/10", "fe80::/10" },
	};
	char buf[CIDR_TEXT_MAX];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_str_eq(canonical(cases[i][0], buf), cases[i][1]);
}

Test(cidr_format, lengths_returned_and_terminated)
{
	char buf[CIDR_TEXT_MAX];
	struct prefix p = { addr_of("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), FAMILY_V6, 128 };
	cr_expect_eq(cidr_format_prefix(buf, &p), 43);
	cr_expect_eq(strlen(buf), 43);
	cr_expect_eq(cidr_format_addr(buf, FAMILY_V4, addr_of("255.255.255.255")), 15);
	cr_expect_str_eq(buf, "255.255.255.255");
}

/* splitmix64: a fixed-seed generator so every run tests the same inputs. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* An address with runs of zero groups, to exercise "::" placement. */
static struct addr random_sparse_v6(uint64_t *state)
{
	struct addr a = { 0, 0 };
	for (int g = 0; g < 8; g++) {
		uint64_t r = next_random(state);
		uint64_t group = r % 3 == 0 ? r >> 48 : 0;
		if (g < 4)
			a.hi |= group << (48 - 16 * g);
		else
			a.lo |= group << (48 - 16 * (g - 4));
	}
	return a;
}

Test(cidr_format, round_trips)
{
	uint64_t state = 42;
	char buf[CIDR_TEXT_MAX];
	for (int i = 0; i < 20000; i++) {
		struct addr a = i % 2 ? random_sparse_v6(&state)
				      : (struct addr){ 0, next_random(&state) & 0xffffffff };
		uint8_t family = i % 2 ? FAMILY_V6 : FAMILY_V4;
		size_t len = cidr_format_addr(buf, family, a);
		struct cidr_parsed p;
		cr_assert_eq(cidr_parse(buf, len, &p), CIDR_OK, "%s", buf);
		cr_assert_eq(addr_cmp(p.range.lo, a), 0, "%s", buf);
		cr_assert_eq(p.range.family, family, "%s", buf);
	}
}

/* ---- small helpers -------------------------------------------------------------------- */

Test(cidr_misc, addr_cmp_orders_high_half_first)
{
	cr_expect_lt(addr_cmp((struct addr){ 0, UINT64_MAX }, (struct addr){ 1, 0 }), 0);
	cr_expect_gt(addr_cmp((struct addr){ 1, 1 }, (struct addr){ 1, 0 }), 0);
	cr_expect_eq(addr_cmp((struct addr){ 7, 9 }, (struct addr){ 7, 9 }), 0);
}

Test(cidr_misc, prefix_size_saturates)
{
	struct prefix p = { { 0, 0 }, FAMILY_V4, 0 };
	cr_expect_eq(prefix_size(&p), 1ull << 32);
	p.len = 32;
	cr_expect_eq(prefix_size(&p), 1);
	p.family = FAMILY_V6;
	p.len = 64;
	cr_expect_eq(prefix_size(&p), UINT64_MAX);
	p.len = 0;
	cr_expect_eq(prefix_size(&p), UINT64_MAX);
	p.len = 65;
	cr_expect_eq(prefix_size(&p), 1ull << 63);
	p.len = 128;
	cr_expect_eq(prefix_size(&p), 1);
}

Test(cidr_misc, list_grows_and_frees)
{
	struct cidr_list list = { 0 };
	struct addr_range r = range_of("10.0.0.0/8");
	for (uint32_t i = 0; i < 1000; i++)
		cr_assert_eq(cidr_list_add(&list, &r, i), 0);
	cr_expect_eq(list.n, 1000);
	cr_expect_eq(list.v[999].tag, 999);
	cidr_list_free(&list);
	cr_expect_null(list.v);
	cr_expect_eq(list.n, 0);
	cidr_list_free(&list);
}

/* ---- aggregation ---------------------------------------------------------------------- */

Test(cidr_aggregate, siblings_merge)
{
	AGGREGATES_TO("130.248.172.0/23", "130.248.172.0/24", "130.248.173.0/24");
	AGGREGATES_TO("2001:db8::/31", "2001:db9::/32", "2001:db8::/32");
}

Test(cidr_aggregate, overlap_and_duplicates)
{
	AGGREGATES_TO("10.0.0.0/8", "10.1.0.0/16", "10.0.0.0/8", "10.255.255.255", "10.0.0.0/8");
	AGGREGATES_TO("192.0.2.0/24", "192.0.2.0/25", "192.0.2.64-192.0.2.255");
}

Test(cidr_aggregate, adjacent_but_unaligned)
{
	AGGREGATES_TO("10.0.1.0/24 10.0.2.0/24", "10.0.2.0/24", "10.0.1.0/24");
	AGGREGATES_TO("10.0.0.0/23 10.0.2.0/24", "10.0.2.0/24", "10.0.0.0/24", "10.0.1.0/24");
}

Test(cidr_aggregate, families_stay_apart_ipv4_first)
{
	AGGREGATES_TO("255.255.255.255/32 ::/128", "::", "255.255.255.255");
	AGGREGATES_TO("192.0.2.0/24 ::ffff:192.0.2.0/120", "::ffff:192.0.2.0/120", "192.0.2.0/24");
	AGGREGATES_TO("0.0.0.0/0 ::/0", "::/0", "0.0.0.0/0", "2001:db8::/32", "192.0.2.1");
}

Test(cidr_aggregate, ranges_decompose)
{
	AGGREGATES_TO("1.2.3.4/30 1.2.3.8/29 1.2.3.16/28 1.2.3.32/27 1.2.3.64/26 1.2.3.128/26 "
		      "1.2.3.192/29 1.2.3.200/32",
		      "1.2.3.4-1.2.3.200");
	AGGREGATES_TO("0.0.0.0/0", "0.0.0.0-255.255.255.255");
	AGGREGATES_TO("::/0", "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	AGGREGATES_TO("2001:db8::/127 2001:db8::2/128", "2001:db8::-2001:db8::2");
}

Test(cidr_aggregate, top_of_the_address_space)
{
	AGGREGATES_TO("255.255.255.255/32", "255.255.255.255");
	AGGREGATES_TO("255.255.255.254/31", "255.255.255.255", "255.255.255.254");
	AGGREGATES_TO("128.0.0.0/1", "128.0.0.0-255.255.255.255");
	AGGREGATES_TO("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127",
		      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128");
	AGGREGATES_TO("8000::/1", "8000::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		      "ffff::/16");
}

Test(cidr_aggregate, everything_but_the_first_address)
{
	const char *const v4[] = { "0.0.0.1-255.255.255.255" };
	const char *const v6[] = { "::1-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" };
	struct cidr_agg agg;
	free(aggregate_line(v4, 1, false, &agg));
	cr_expect_eq(agg.n, 32);
	cr_expect_eq(agg.prefixes[0].len, 32);
	cr_expect_eq(agg.prefixes[31].len, 1);
	cidr_agg_free(&agg);
	free(aggregate_line(v6, 1, true, &agg));
	cr_expect_eq(agg.n, 128);
	cr_expect_eq(agg.prefixes[127].len, 1);
	cr_expect_eq(agg.tag_start[128], 128);
	cidr_agg_free(&agg);
}

Test(cidr_aggregate, empty_input)
{
	struct cidr_list list = { 0 };
	struct cidr_agg agg;
	cr_assert_eq(cidr_aggregate(&list, false, &agg), 0);
	cr_expect_eq(agg.n, 0);
	cr_expect_null(agg.tag_start);
	cidr_agg_free(&agg);
	cr_assert_eq(cidr_aggregate(&list, true, &agg), 0);
	cr_expect_eq(agg.n, 0);
	cr_assert_not_null(agg.tag_start);
	cr_expect_eq(agg.tag_start[0], 0);
	cidr_agg_free(&agg);
}

/* The tags of prefix i as text "a,b,c". */
static char *tags_text(const struct cidr_agg *agg, size_t i, char *buf)
{
	size_t len = 0;
	buf[0] = '\0';
	for (uint32_t k = agg->tag_start[i]; k < agg->tag_start[i + 1]; k++)
		len += (size_t)sprintf(buf + len, "%s%u", len ? "," : "", agg->tags[k]);
	return buf;
}

Test(cidr_aggregate, tags_name_every_overlapping_input)
{
	const char *const in[] = {
		"10.0.0.0/23",		/* 0 */
		"10.0.0.0/24",		/* 1 */
		"10.0.1.0/24",		/* 2 */
		"10.0.2.0/24",		/* 3 */
		"2001:db8::/32",	/* 4 */
		"10.0.0.5",		/* 5 */
		"10.0.0.0/23",		/* 6: a duplicate */
	};
	struct cidr_agg agg;
	char buf[256];
	char *line = aggregate_line(in, 7, true, &agg);
	cr_expect_str_eq(line, "10.0.0.0/23 10.0.2.0/24 2001:db8::/32");
	cr_expect_str_eq(tags_text(&agg, 0, buf), "0,1,2,5,6");
	cr_expect_str_eq(tags_text(&agg, 1, buf), "3");
	cr_expect_str_eq(tags_text(&agg, 2, buf), "4");
	free(line);
	cidr_agg_free(&agg);
}

Test(cidr_aggregate, a_range_tags_each_piece)
{
	const char *const in[] = { "1.2.3.4-1.2.3.200", "1.2.3.100", "1.2.3.200" };
	struct cidr_agg agg;
	char buf[256];
	free(aggregate_line(in, 3, true, &agg));
	cr_assert_eq(agg.n, 8);
	cr_expect_str_eq(tags_text(&agg, 0, buf), "0");
	cr_expect_str_eq(tags_text(&agg, 4, buf), "0,1", "1.2.3.64/26 holds .100");
	cr_expect_str_eq(tags_text(&agg, 7, buf), "0,2", "1.2.3.200/32");
	cidr_agg_free(&agg);
}

/* ---- property test against a bitmap --------------------------------------------------- */

#define SPACE_BITS 10
#define SPACE (1u << SPACE_BITS)
#define MAX_INPUTS 48

/* A small window of 1024 addresses of one family, at some base (aligned to the window). */
struct space {
	uint8_t family;
	struct addr base;
};

static struct addr at(const struct space *s, uint32_t offset)
{
	struct addr a = s->base;
	a.lo += offset;
	return a;
}

static uint32_t offset_of(const struct space *s, struct addr a)
{
	return (uint32_t)(a.lo - s->base.lo);
}

/* A random prefix or range inside the window; marks it in covered[]. */
static struct addr_range random_input(const struct space *s, uint64_t *state, bool *covered)
{
	uint32_t lo, hi;
	if (next_random(state) % 2) {
		unsigned host = (unsigned)(next_random(state) % (SPACE_BITS + 1));
		lo = (uint32_t)next_random(state) % SPACE & ~((1u << host) - 1);
		hi = lo + (1u << host) - 1;
	} else {
		lo = (uint32_t)next_random(state) % SPACE;
		/* a quarter short ranges (a few addresses), the rest anywhere up to the end */
		uint32_t room = SPACE - lo, span = (uint32_t)next_random(state) % room;
		hi = lo + (next_random(state) % 4 == 0 ? span % 8 : span);
	}
	for (uint32_t a = lo; a <= hi; a++)
		covered[a] = true;
	return (struct addr_range){ at(s, lo), at(s, hi), s->family };
}

/* The minimal cover by brute force: from each first uncovered address, the largest aligned
 * block that is all covered. */
static size_t expected_cover(const bool *covered, uint32_t *start, unsigned *size_bits)
{
	size_t n = 0;
	for (uint32_t a = 0; a < SPACE;) {
		if (!covered[a]) {
			a++;
			continue;
		}
		unsigned k = 0;
		for (unsigned t = 1; t <= SPACE_BITS && a % (1u << t) == 0; t++) {
			bool all = true;
			for (uint32_t b = a; b < a + (1u << t) && all; b++)
				all = covered[b];
			if (!all)
				break;
			k = t;
		}
		start[n] = a;
		size_bits[n++] = k;
		a += 1u << k;
	}
	return n;
}

static bool overlaps(const struct addr_range *r, uint32_t lo, uint32_t hi, const struct space *s)
{
	return offset_of(s, r->lo) <= hi && offset_of(s, r->hi) >= lo;
}

static void check_tags(const struct cidr_agg *agg, size_t i, const struct addr_range *in,
		       size_t n, const struct space *s, uint32_t lo, uint32_t hi)
{
	uint32_t k = agg->tag_start[i];
	for (uint32_t tag = 0; tag < n; tag++) {
		if (!overlaps(&in[tag], lo, hi, s))
			continue;
		cr_assert_lt(k, agg->tag_start[i + 1], "prefix %zu misses tag %u", i, tag);
		cr_assert_eq(agg->tags[k], tag, "prefix %zu tag order", i);
		k++;
	}
	cr_assert_eq(k, agg->tag_start[i + 1], "prefix %zu has extra tags", i);
}

static void check_one_round(const struct space *s, uint64_t *state, bool want_tags)
{
	bool covered[SPACE] = { false };
	struct addr_range in[MAX_INPUTS];
	uint32_t start[SPACE];
	unsigned size_bits[SPACE];
	struct cidr_list list = { 0 };
	struct cidr_agg agg;
	size_t n = 1 + next_random(state) % MAX_INPUTS;
	for (size_t i = 0; i < n; i++) {
		in[i] = random_input(s, state, covered);
		cr_assert_eq(cidr_list_add(&list, &in[i], (uint32_t)i), 0);
	}
	/* The compiler's entry point (IPv4 as packed keys) gives the same cover and tags. */
	struct cidr_v4_list keys = { 0 };
	struct cidr_list rest = { 0 };
	struct cidr_agg from_keys;
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(in[i].family == FAMILY_V4 ? cidr_v4_list_add(&keys, &in[i], (uint32_t)i)
						       : cidr_list_add(&rest, &in[i], (uint32_t)i), 0);
	cr_assert_eq(cidr_aggregate_keys(&keys, &rest, want_tags, &from_keys), 0);
	cr_assert_eq(keys.n, 0, "the keys are consumed");
	cr_assert_eq(cidr_aggregate(&list, want_tags, &agg), 0);
	cr_assert_eq(from_keys.n, agg.n);
	for (size_t i = 0; i < agg.n; i++)
		cr_assert(!addr_cmp(from_keys.prefixes[i].addr, agg.prefixes[i].addr) &&
			  from_keys.prefixes[i].len == agg.prefixes[i].len &&
			  from_keys.prefixes[i].family == agg.prefixes[i].family, "prefix %zu", i);
	if (want_tags) {
		cr_assert_eq(memcmp(from_keys.tag_start, agg.tag_start, (agg.n + 1) * sizeof(*agg.tag_start)), 0);
		cr_assert_eq(memcmp(from_keys.tags, agg.tags, agg.tag_start[agg.n] * sizeof(*agg.tags)), 0);
	}
	cidr_agg_free(&from_keys);
	cidr_list_free(&rest);
	size_t want = expected_cover(covered, start, size_bits);
	unsigned bits = s->family == FAMILY_V4 ? 32 : 128;
	cr_assert_eq(agg.n, want, "cover size");
	for (size_t i = 0; i < want; i++) {
		cr_assert_eq(agg.prefixes[i].family, s->family);
		cr_assert_eq(addr_cmp(agg.prefixes[i].addr, at(s, start[i])), 0, "prefix %zu", i);
		cr_assert_eq(agg.prefixes[i].len, bits - size_bits[i], "prefix %zu length", i);
		if (want_tags)
			check_tags(&agg, i, in, n, s, start[i], start[i] + (1u << size_bits[i]) - 1);
	}
	cidr_agg_free(&agg);
	cidr_list_free(&list);
}

Test(cidr_aggregate, matches_a_bitmap)
{
	const struct space spaces[] = {
		{ FAMILY_V4, { 0, 0 } },
		{ FAMILY_V4, { 0, 0xc0000000u } },
		{ FAMILY_V4, { 0, 0xfffffc00u } },	/* ends at 255.255.255.255 */
		{ FAMILY_V6, { 0, 0 } },
		{ FAMILY_V6, { 0x20010db800000000ull, 0 } },
		{ FAMILY_V6, { UINT64_MAX, UINT64_MAX - (SPACE - 1) } },	/* ends at ffff:...:ffff */
	};
	uint64_t state = 20240601;
	for (size_t k = 0; k < sizeof(spaces) / sizeof(spaces[0]); k++)
		for (int round = 0; round < 300; round++)
			check_one_round(&spaces[k], &state, round % 2);
}

/* Many random inputs: the fast IPv4 path and the tagged path agree, the output is sorted
 * and disjoint with no mergeable siblings, and aggregating it again changes nothing. */
static void aggregate_random(uint64_t seed, size_t n, bool tags, struct cidr_agg *agg)
{
	struct cidr_list list = { 0 };
	uint64_t state = seed;
	for (size_t i = 0; i < n; i++) {
		unsigned len = 8 + (unsigned)(next_random(&state) % 25);
		uint32_t a = (uint32_t)next_random(&state) & (uint32_t)(UINT64_C(0xffffffff) << (32 - len));
		struct addr_range r = { { 0, a }, { 0, a | (uint32_t)((UINT64_C(1) << (32 - len)) - 1) }, FAMILY_V4 };
		if (i % 7 == 0) {
			r.family = FAMILY_V6;
			r.lo.hi = r.hi.hi = 0x20010db800000000ull | a;
			r.hi.lo = UINT64_MAX;
			r.lo.lo = 0;
		}
		cr_assert_eq(cidr_list_add(&list, &r, (uint32_t)i), 0);
	}
	cr_assert_eq(cidr_aggregate(&list, tags, agg), 0);
	cidr_list_free(&list);
}

/* The last address of a prefix (tests keep their own arithmetic, independent of cidr.c). */
static struct addr prefix_end(const struct prefix *p)
{
	unsigned host = (p->family == FAMILY_V4 ? 32u : 128u) - p->len;
	struct addr end = p->addr;
	if (host >= 64) {
		end.lo = UINT64_MAX;
		end.hi |= host == 128 ? UINT64_MAX : host == 64 ? 0 : (UINT64_C(1) << (host - 64)) - 1;
	} else {
		end.lo |= (UINT64_C(1) << host) - 1;
	}
	return end;
}

/* Sorted, disjoint, and no two prefixes are buddies (the halves of one larger prefix):
 * together with exact coverage that is the unique minimal cover. */
static void expect_canonical(const struct cidr_agg *agg)
{
	for (size_t i = 1; i < agg->n; i++) {
		const struct prefix *a = &agg->prefixes[i - 1], *b = &agg->prefixes[i];
		if (a->family != b->family) {
			cr_assert_eq(a->family, FAMILY_V4, "IPv4 first");
			continue;
		}
		cr_assert_lt(addr_cmp(prefix_end(a), b->addr), 0, "sorted and disjoint at %zu", i);
		if (a->len != b->len || a->len == 0)
			continue;
		struct prefix parent = { a->addr, a->family, (uint8_t)(a->len - 1) };
		/* a as the left half of parent: parent ends where b ends only if b is the right. */
		bool buddies = addr_cmp(prefix_end(&parent), prefix_end(b)) == 0;
		cr_assert_not(buddies, "prefixes %zu and %zu should have merged", i - 1, i);
	}
}

Test(cidr_aggregate, bulk_paths_agree_and_are_fixed_points)
{
	struct cidr_agg fast, tagged, again;
	aggregate_random(7, 200000, false, &fast);
	aggregate_random(7, 200000, true, &tagged);
	cr_assert_eq(fast.n, tagged.n);
	cr_assert_null(fast.tags);
	for (size_t i = 0; i < fast.n; i++) {
		cr_assert_eq(addr_cmp(fast.prefixes[i].addr, tagged.prefixes[i].addr), 0);
		cr_assert_eq(fast.prefixes[i].len, tagged.prefixes[i].len);
		cr_assert_lt(tagged.tag_start[i], tagged.tag_start[i + 1], "every prefix has a tag");
	}
	expect_canonical(&fast);
	struct cidr_list list = { 0 };
	for (size_t i = 0; i < fast.n; i++) {
		char buf[CIDR_TEXT_MAX];
		size_t len = cidr_format_prefix(buf, &fast.prefixes[i]);
		struct cidr_parsed p;
		cr_assert_eq(cidr_parse(buf, len, &p), CIDR_OK, "%s", buf);
		cr_assert_eq(cidr_list_add(&list, &p.range, 0), 0);
	}
	cr_assert_eq(cidr_aggregate(&list, false, &again), 0);
	cr_assert_eq(again.n, fast.n, "aggregating the output again changes nothing");
	for (size_t i = 0; i < fast.n; i++)
		cr_assert_eq(memcmp(&again.prefixes[i].addr, &fast.prefixes[i].addr,
				    sizeof(struct addr)), 0);
	cidr_list_free(&list);
	cidr_agg_free(&fast);
	cidr_agg_free(&tagged);
	cidr_agg_free(&again);
}
