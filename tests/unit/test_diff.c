/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_diff.c — the semantic diff engine, its formatters and explain. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr_ops.h"
#include "diff.h"
#include "diff_internal.h"
#include "diff_format.h"
#include "explain.h"

static struct policy *compile(const char *file, const char *text)
{
	struct diags *d = diags_new();
	struct compile_request req = { .file = file, .text = text, .len = strlen(text) };
	struct policy *p = policy_compile(&req, d);
	if (!p) {
		diags_render(d, stderr, false);
		cr_assert_fail("%s does not compile", file);
	}
	diags_free(d);
	return p;
}

/* A diff between two rule texts; the policies are freed by diff_done. */
struct fixture {
	struct policy *old, *new;
	struct policy_diff *diff;
};

static struct fixture diff_of(const char *old_text, const char *new_text)
{
	struct fixture f = { compile("old.rules", old_text), compile("new.rules", new_text), NULL };
	f.diff = policy_diff_compute(f.old, f.new);
	cr_assert_not_null(f.diff);
	return f;
}

static void diff_done(struct fixture *f)
{
	policy_diff_free(f->diff);
	policy_free(f->old);
	policy_free(f->new);
}

static char *render(const struct policy_diff *d, enum diff_format format, bool color)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct diff_style style = { color, 0 };
	cr_assert_eq(diff_render(d, format, &style, out), 0);
	fclose(out);
	return buf;
}

static const char *prefix_text(const struct diff_prefix *p)
{
	static char buf[CIDR_TEXT_MAX];
	cidr_format_prefix(buf, &p->prefix);
	return buf;
}

#define SENDERS(body) "set s { " body " }\nallow in from @s tcp port 25\n"

/* ---- addresses ---------------------------------------------------------------------- */

Test(diff, widening_a_prefix_adds_only_the_new_part)
{
	struct fixture f = diff_of(SENDERS("185.28.196.0/22"), SENDERS("\n185.28.192.0/21"));
	cr_assert_eq(f.diff->n_sets, 1);
	const struct diff_prefixes *a = &f.diff->sets[0].addresses;
	cr_assert_eq(a->n_added, 1);
	cr_assert_eq(a->n_removed, 0);
	cr_assert_str_eq(prefix_text(&a->added[0]), "185.28.192.0/22");
	cr_assert_eq(a->added_v4.lo, 1024);
	cr_assert_eq(a->added[0].n_sources, 1);
	cr_assert_str_eq(a->added[0].sources[0].file, "new.rules");
	cr_assert_eq(a->added[0].sources[0].line, 2);
	cr_assert(f.diff->sets[0].widening);
	cr_assert(policy_diff_widens(f.diff));
	diff_done(&f);
}

Test(diff, narrowing_removes_the_cut_part_with_old_sources)
{
	struct fixture f = diff_of(SENDERS("10.0.0.0/16"), SENDERS("10.0.0.0/17"));
	const struct diff_prefixes *a = &f.diff->sets[0].addresses;
	cr_assert_eq(a->n_added, 0);
	cr_assert_eq(a->n_removed, 1);
	cr_assert_str_eq(prefix_text(&a->removed[0]), "10.0.128.0/17");
	cr_assert_str_eq(a->removed[0].sources[0].file, "old.rules");
	cr_assert_eq(a->removed_v4.lo, 32768);
	cr_assert_not(policy_diff_widens(f.diff));
	cr_assert_not(policy_diff_empty(f.diff));
	diff_done(&f);
}

Test(diff, a_hole_in_the_middle_is_the_minimal_cover_of_the_change)
{
	/* 10.0.0.0/24 minus 10.0.0.64/26 is .0/26 and .128/25 */
	struct fixture f = diff_of(SENDERS("10.0.0.0/24"), SENDERS("10.0.0.0/26 10.0.0.128/25"));
	const struct diff_prefixes *a = &f.diff->sets[0].addresses;
	cr_assert_eq(a->n_removed, 1);
	cr_assert_str_eq(prefix_text(&a->removed[0]), "10.0.0.64/26");
	diff_done(&f);
}

Test(diff, both_directions_at_once)
{
	struct fixture f = diff_of(SENDERS("192.0.2.0/24 198.51.100.0/24"), SENDERS("192.0.2.0/25 203.0.113.0/24"));
	const struct diff_prefixes *a = &f.diff->sets[0].addresses;
	cr_assert_eq(a->n_added, 1);
	cr_assert_str_eq(prefix_text(&a->added[0]), "203.0.113.0/24");
	cr_assert_eq(a->n_removed, 2);
	cr_assert_str_eq(prefix_text(&a->removed[0]), "192.0.2.128/25");
	cr_assert_str_eq(prefix_text(&a->removed[1]), "198.51.100.0/24");
	diff_done(&f);
}

Test(diff, same_addresses_written_differently_is_no_change)
{
	struct fixture f = diff_of(SENDERS("10.0.0.0/25 10.0.0.128/25 192.0.2.7"),
				   SENDERS("192.0.2.7/32, 10.0.0.0-10.0.0.255, 10.0.0.3"));
	cr_assert(policy_diff_empty(f.diff));
	cr_assert_not(policy_diff_widens(f.diff));
	diff_done(&f);
}

Test(diff, ipv6_counts_do_not_overflow)
{
	struct fixture f = diff_of(SENDERS("192.0.2.0/24"), SENDERS("192.0.2.0/24 2001:db8::/32 ::/0"));
	const struct diff_prefixes *a = &f.diff->sets[0].addresses;
	cr_assert_eq(a->n_added, 1);
	cr_assert_str_eq(prefix_text(&a->added[0]), "::/0");
	cr_assert(a->added_v6.saturated);
	char text[ADDR_COUNT_TEXT_MAX];
	addr_count_format(text, &a->added_v6);
	cr_assert_str_eq(text, "2^128");
	diff_done(&f);
}

Test(diff, address_counts_format_for_reviewers_and_machines)
{
	char text[ADDR_COUNT_TEXT_MAX];
	struct addr_count c = { 0 };
	addr_count_format(text, &c);
	cr_assert_str_eq(text, "0");
	addr_count_add_pow2(&c, 10);
	addr_count_add_pow2(&c, 20);
	addr_count_format(text, &c);
	cr_assert_str_eq(text, "1,049,600");
	c = (struct addr_count){ 0 };
	addr_count_add_pow2(&c, 96);
	addr_count_format(text, &c);
	cr_assert_str_eq(text, "2^96");
	addr_count_decimal(text, &c);
	cr_assert_str_eq(text, "79228162514264337593543950336");
	addr_count_add_pow2(&c, 64);
	addr_count_format(text, &c);
	cr_assert_str_eq(text, "more than 2^96");
	c = (struct addr_count){ 0 };
	addr_count_add_pow2(&c, 63);
	addr_count_add_pow2(&c, 63);	/* carries into the high half */
	cr_assert_eq(c.hi, 1);
	cr_assert_eq(c.lo, 0);
	addr_count_decimal(text, &c);
	cr_assert_str_eq(text, "18446744073709551616");
}

Test(diff, subtract_keeps_tags_of_the_minuend)
{
	struct cidr_parsed a1, a2, b1;
	cidr_parse("10.0.0.0/24", 11, &a1);
	cidr_parse("10.0.2.0/24", 11, &a2);
	cidr_parse("10.0.0.0/23", 11, &b1);
	struct prefix a[] = { a1.prefix, a2.prefix }, b[] = { b1.prefix };
	struct cidr_list out = { 0 };
	cr_assert_eq(cidr_prefixes_subtract(a, 2, b, 1, &out), 0);
	cr_assert_eq(out.n, 1);
	cr_assert_eq(out.v[0].tag, 1);
	cr_assert_eq(out.v[0].range.lo.lo, a2.prefix.addr.lo);
	cidr_list_free(&out);
	cr_assert_eq(cidr_prefixes_subtract(b, 1, a, 2, &out), 0);
	cr_assert_eq(out.n, 1);	/* 10.0.1.0/24 */
	cr_assert_eq(out.v[0].range.lo.lo, a1.prefix.addr.lo + 256);
	cidr_list_free(&out);
}

/* ---- names and regexes -------------------------------------------------------------- */

#define WEB(body) "set w { " body " }\nallow out to @w tcp port 443\n"

Test(diff, added_wildcard_says_which_exact_names_it_covers)
{
	struct fixture f = diff_of(WEB("a.example.com b.example.com example.com"), WEB("example.com *.example.com"));
	const struct diff_names *n = &f.diff->sets[0].names;
	cr_assert_eq(n->n_added, 1);
	cr_assert_str_eq(n->added[0].name, "example.com");
	cr_assert_eq(n->added[0].kind, NAME_WILDCARD);
	cr_assert_eq(n->added[0].n_covers, 2);
	cr_assert_str_eq(n->added[0].covers[0], "a.example.com");
	cr_assert_str_eq(n->added[0].covers[1], "b.example.com");
	/* The new file drops the covered names: removed, but still matched. */
	cr_assert_eq(n->n_removed, 2);
	cr_assert_str_eq(n->removed[0].covered_by, "example.com");
	cr_assert(f.diff->sets[0].widening);
	char *text = render(f.diff, DIFF_TEXT, false);
	cr_assert(strstr(text, "+ *.example.com  (covers a.example.com, b.example.com)  new.rules:1"), "%s", text);
	cr_assert(strstr(text, "- a.example.com  (still matched by *.example.com)  old.rules:1"), "%s", text);
	free(text);
	diff_done(&f);
}

Test(diff, removing_a_name_narrows)
{
	struct fixture f = diff_of(WEB("a.example.com b.example.com"), WEB("a.example.com"));
	const struct diff_names *n = &f.diff->sets[0].names;
	cr_assert_eq(n->n_added, 0);
	cr_assert_eq(n->n_removed, 1);
	cr_assert_str_eq(n->removed[0].name, "b.example.com");
	cr_assert_null(n->removed[0].covered_by);
	cr_assert_not(policy_diff_widens(f.diff));
	diff_done(&f);
}

Test(diff, regexes_added_and_removed)
{
	struct fixture f = diff_of(WEB("~\"^a[0-9]+\\.example\\.com$\""), WEB("~\"^b[0-9]+\\.example\\.com$\""));
	const struct diff_regexes *r = &f.diff->sets[0].regexes;
	cr_assert_eq(r->n_added, 1);
	cr_assert_eq(r->n_removed, 1);
	cr_assert_str_eq(r->added[0].pattern, "^b[0-9]+\\.example\\.com$");
	cr_assert(policy_diff_widens(f.diff));
	diff_done(&f);
}

/* ---- sets --------------------------------------------------------------------------- */

Test(diff, renamed_set_with_same_content_is_a_rename_only)
{
	struct fixture f = diff_of("set a { 192.0.2.0/24 }\nallow in from @a tcp port 25\n",
				   "# renamed\nset b { 192.0.2.0/25 192.0.2.128/25 }\nallow in from @b tcp port 25\n");
	cr_assert_eq(f.diff->n_sets, 1);
	cr_assert_eq(f.diff->sets[0].change, SET_RENAMED);
	cr_assert_str_eq(f.diff->sets[0].name, "b");
	cr_assert_str_eq(f.diff->sets[0].old_name, "a");
	cr_assert_eq(f.diff->n_rules, 0, "the rule follows the rename");
	cr_assert_not(policy_diff_widens(f.diff));
	cr_assert_not(policy_diff_empty(f.diff), "kernel set names change");
	diff_done(&f);
}

Test(diff, added_and_removed_sets)
{
	struct fixture f = diff_of("set a { 192.0.2.0/24 }\nallow in from @a tcp port 25\n",
				   "set a { 192.0.2.0/24 }\nset b { example.com }\nallow in from @a tcp port 25\n");
	cr_assert_eq(f.diff->n_sets, 1);
	cr_assert_eq(f.diff->sets[0].change, SET_ADDED);
	cr_assert_not(f.diff->sets[0].used);
	cr_assert_eq(f.diff->sets[0].names.n_added, 1);
	policy_diff_free(f.diff);
	f.diff = policy_diff_compute(f.new, f.old);
	cr_assert_eq(f.diff->n_sets, 1);
	cr_assert_eq(f.diff->sets[0].change, SET_REMOVED);
	cr_assert_eq(f.diff->sets[0].names.n_removed, 1);
	cr_assert_not(policy_diff_widens(f.diff));
	diff_done(&f);
}

/* ---- rules -------------------------------------------------------------------------- */

#define RULES(rules) "set w { example.com }\nset m { 192.0.2.0/24 }\n" rules

Test(diff, ports_changed_lists_ports_opened_and_closed)
{
	struct fixture f = diff_of(RULES("allow out to @w tcp port { 80, 443 }\n"),
				   RULES("allow out to @w tcp port { 443, 8000-8080 }\n"));
	cr_assert_eq(f.diff->n_rules, 1);
	const struct rule_diff *r = &f.diff->rules[0];
	cr_assert_eq(r->change, RULE_CHANGED);
	cr_assert_eq(r->what, RULE_DIFF_PORTS);
	cr_assert_eq(r->n_ports_added, 1);
	cr_assert_eq(r->ports_added[0].lo, 8000);
	cr_assert_eq(r->ports_added[0].hi, 8080);
	cr_assert_eq(r->n_ports_removed, 1);
	cr_assert_eq(r->ports_removed[0].lo, 80);
	cr_assert(r->widening);
	diff_done(&f);
}

Test(diff, fewer_ports_is_not_widening)
{
	struct fixture f = diff_of(RULES("allow out to @w tcp port { 80, 443 }\n"), RULES("allow out to @w tcp port 443\n"));
	cr_assert_eq(f.diff->n_rules, 1);
	cr_assert_not(f.diff->rules[0].widening);
	diff_done(&f);
}

Test(diff, protocol_and_direction_changes)
{
	struct fixture f = diff_of(RULES("allow out to @w tcp port 53\nallow in from @m tcp port 25\n"),
				   RULES("allow out to @w udp port 53\nallow out to @m tcp port 25\n"));
	cr_assert_eq(f.diff->n_rules, 2);
	cr_assert_eq(f.diff->rules[0].what, RULE_DIFF_PROTOCOL);
	cr_assert(f.diff->rules[0].widening);
	cr_assert_eq(f.diff->rules[1].what, RULE_DIFF_DIRECTION);
	cr_assert(f.diff->rules[1].widening);
	diff_done(&f);
}

Test(diff, split_merged_or_repeated_rules_are_no_change)
{
	struct fixture f = diff_of(RULES("allow out to @w tcp port { 80, 443 }\n"),
				   RULES("allow out to @w tcp port 443 comment \"tls\"\nallow out to @w tcp port 80\n"
					 "allow out to @w tcp port 80\n"));
	cr_assert(policy_diff_empty(f.diff));
	diff_done(&f);
}

Test(diff, added_and_removed_rules)
{
	struct fixture f = diff_of(RULES("allow out to @w tcp port 443\n"), RULES("allow in from @m tcp port 25\n"));
	cr_assert_eq(f.diff->n_rules, 2);
	cr_assert_eq(f.diff->rules[0].change, RULE_ADDED);
	cr_assert(f.diff->rules[0].widening);
	cr_assert_eq(f.diff->rules[1].change, RULE_REMOVED);
	cr_assert_not(f.diff->rules[1].widening);
	diff_done(&f);
}

Test(diff, a_rule_inside_an_any_protocol_rule_does_not_widen)
{
	struct fixture f = diff_of(RULES("allow out to @w\n"), RULES("allow out to @w\nallow out to @w tcp port 443\n"));
	cr_assert_eq(f.diff->n_rules, 1);
	cr_assert_eq(f.diff->rules[0].change, RULE_ADDED);
	cr_assert_not(f.diff->rules[0].widening);
	diff_done(&f);
}

Test(diff, table_and_priority_changes)
{
	struct fixture f = diff_of(RULES("allow out to @w tcp port 443\n"),
				   "option table = other\noption priority = 10\n" RULES("allow out to @w tcp port 443\n"));
	cr_assert_not(policy_diff_empty(f.diff));
	cr_assert_str_eq(f.diff->new_table, "other");
	cr_assert(f.diff->priority_changed);
	cr_assert_eq(f.diff->new_priority, 10);
	diff_done(&f);
}

/* drop -> reject on the same interface refuses the same traffic another way: a change the
 * reviewer must see (clients get an error at once instead of a timeout), never widening;
 * the interface removed next to it still widens. */
Test(diff, default_deny_drop_to_reject_is_a_change_that_does_not_widen)
{
	struct fixture f = diff_of("option default_deny lan0\noption default_deny lan1 reject\n" RULES("allow out to @w tcp port 443\n"),
				   "option default_deny lan0 reject\noption default_deny lan1\n" RULES("allow out to @w tcp port 443\n"));
	cr_assert_not(policy_diff_empty(f.diff));
	cr_assert_not(policy_diff_widens(f.diff));
	cr_assert_eq(f.diff->n_deny_changed, 2);
	cr_assert_str_eq(f.diff->deny_changed[0], "lan0");
	cr_assert(f.diff->deny_rejects[0]);
	cr_assert_str_eq(f.diff->deny_changed[1], "lan1");
	cr_assert_not(f.diff->deny_rejects[1]);
	char *text = render(f.diff, DIFF_TEXT, false);
	cr_assert(strstr(text, "  ~ lan0: drop -> reject (TCP reset, ICMP administratively prohibited)\n"), "%s", text);
	cr_assert(strstr(text, "  ~ lan1: reject -> drop (silent)\n"), "%s", text);
	cr_assert(strstr(text, "not widening: default_deny 2 interfaces refuse another way\n"), "%s", text);
	free(text);
	char *json = render(f.diff, DIFF_JSON, false);
	cr_assert(strstr(json, "\"interface\": \"lan0\",\n          \"old\": \"drop\",\n          \"new\": \"reject\""), "%s", json);
	free(json);
	diff_done(&f);

	f = diff_of("option default_deny lan0\n" RULES("allow out to @w tcp port 443\n"),
		    "option default_deny lan1 reject\n" RULES("allow out to @w tcp port 443\n"));
	cr_assert(policy_diff_widens(f.diff));
	cr_assert_eq(f.diff->n_deny_changed, 0);
	diff_done(&f);
}

/* ---- a policy that came from the kernel: no sources --------------------------------- */

static void forget_sources(struct policy *p)
{
	for (size_t i = 0; i < p->n_sets; i++) {
		struct ir_set *s = &p->sets[i];
		s->loc.file = NULL;
		for (size_t k = 0; k < s->n_origins; k++)
			s->origins[k].file = NULL;
		for (size_t k = 0; k < s->n_names; k++)
			s->names[k].loc.file = NULL;
	}
	for (size_t i = 0; i < p->n_rules; i++)
		p->rules[i].loc.file = NULL;
}

Test(diff, kernel_side_without_sources_renders)
{
	struct policy *old = compile("old.rules", SENDERS("192.0.2.0/24") "set w { example.com }\n");
	struct policy *new = compile("new.rules", SENDERS("192.0.2.0/23") "set w { example.org }\n");
	forget_sources(old);
	struct policy_diff *d = policy_diff_compute(old, new);
	policy_diff_free(d);
	d = policy_diff_compute(new, old);	/* removed items carry the unknown sources */
	cr_assert_not_null(d);
	cr_assert(policy_diff_label(d, "rules", "kernel") == 0);
	for (int fmt = DIFF_TEXT; fmt <= DIFF_JSON; fmt++) {
		char *text = render(d, fmt, false);
		cr_assert(strstr(text, "192.0.3.0/24"), "%s", text);
		cr_assert_null(strstr(text, "(null)"), "%s", text);
		free(text);
	}
	char *text = render(d, DIFF_TEXT, false);
	cr_assert(strstr(text, "+ example.com\n"), "no source, no trailing blanks: %s", text);
	free(text);
	policy_diff_free(d);
	policy_free(old);
	policy_free(new);
}

/* ---- formats ------------------------------------------------------------------------ */

Test(diff_format, summary_line)
{
	struct fixture f = diff_of(SENDERS("10.0.0.0/16") "set w { a.example.com }\nallow out to @w tcp port 443\n",
				   SENDERS("10.0.0.0/17 10.1.0.0/24") "set w { *.example.com }\nallow out to @w tcp port 443\n"
								       "allow out to @w udp port 443\n");
	char line[512];
	diff_summary(f.diff, line, sizeof(line));
	cr_assert_str_eq(line, "WIDENING: 2 sets changed: +256 -32,768 IPv4 addresses, +1 -1 names; 1 rule added");
	diff_done(&f);
}

Test(diff_format, colour_only_when_asked)
{
	struct fixture f = diff_of(SENDERS("10.0.0.0/16"), SENDERS("10.0.0.0/15"));
	char *plain = render(f.diff, DIFF_TEXT, false), *color = render(f.diff, DIFF_TEXT, true);
	cr_assert_null(strchr(plain, '\033'));
	cr_assert_not_null(strstr(color, "\033[32m+ 10.1.0.0/16"), "%s", color);
	char *md = render(f.diff, DIFF_MARKDOWN, true);
	cr_assert_null(strchr(md, '\033'), "markdown never has colour");
	free(plain);
	free(color);
	free(md);
	diff_done(&f);
}

Test(diff_format, empty_diff_in_every_format)
{
	struct fixture f = diff_of(SENDERS("10.0.0.0/16"), SENDERS("10.0.0.0/16"));
	char *text = render(f.diff, DIFF_TEXT, false), *json = render(f.diff, DIFF_JSON, false);
	cr_assert_str_eq(text, "no changes\n");
	cr_assert(strstr(json, "\"changed\": false"), "%s", json);
	cr_assert(strstr(json, "\"sets\": []"), "%s", json);
	free(text);
	free(json);
	diff_done(&f);
}

/* ---- the markdown size limit ----------------------------------------------------------- */

static char *render_max(const struct policy_diff *d, size_t max)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct diff_style style = { false, max };
	cr_assert_eq(diff_render(d, DIFF_MARKDOWN, &style, out), 0);
	fclose(out);
	return buf;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* 40 sets of different sizes: set s<i> gains 3 * i + 1 single addresses, and every third
 * rule opens another port; the set retired, 60 addresses, goes (it widens nothing). */
static struct fixture many_changes(void)
{
	static char old_text[16384], new_text[262144];
	size_t o = 0, n = 0;
	o += (size_t)snprintf(old_text, sizeof(old_text), "set retired {");
	for (int j = 0; j < 60; j++)
		o += (size_t)snprintf(old_text + o, sizeof(old_text) - o, " 192.0.2.%d/32", 2 * j);
	o += (size_t)snprintf(old_text + o, sizeof(old_text) - o, " }\n");
	for (int i = 0; i < 40; i++) {
		o += (size_t)snprintf(old_text + o, sizeof(old_text) - o,
				      "set s%d { 10.%d.0.0/16 }\nallow out to @s%d tcp port 443\n", i, i, i);
		n += (size_t)snprintf(new_text + n, sizeof(new_text) - n, "set s%d { 10.%d.0.0/16", i, i);
		for (int j = 0; j < 3 * i + 1; j++)
			n += (size_t)snprintf(new_text + n, sizeof(new_text) - n, " 172.16.%d.%d/32", i, 2 * j);
		n += (size_t)snprintf(new_text + n, sizeof(new_text) - n, " }\nallow out to @s%d tcp port %s\n", i,
				      i % 3 ? "443" : "{ 443, 8443 }");
	}
	return diff_of(old_text, new_text);
}

/* Whether line (up to its newline) is a whole line of text. */
static bool has_line(const char *text, const char *line)
{
	size_t len = strcspn(line, "\n") + 1;
	for (const char *p = text; (p = strstr(p, "\n")); p++)
		if (!strncmp(p + 1, line, len))
			return true;
	return false;
}

/* The table is one run of whole rows, each a row of the whole diff's table; every ```diff
 * block is closed. */
static void expect_well_formed(const char *md, const char *full, size_t max)
{
	const char *table = strstr(md, "\n| what | change | widens | details |\n");
	size_t opened = 0, closed = 0;
	bool table_over = false;
	for (const char *line = md; *line; line += strcspn(line, "\n") + 1) {
		bool row = line[0] == '|';
		cr_assert(!row || (table && !table_over), "a row outside the table at max %zu: %.60s", max, line);
		cr_assert(!row || has_line(full, line), "a row that is not whole at max %zu: %.60s", max, line);
		table_over |= table && line > table + 1 && !row;
		opened += !strncmp(line, "```diff\n", 8);
		closed += !strncmp(line, "```\n", 4);
		if (!line[strcspn(line, "\n")])
			break;
	}
	cr_assert_eq(opened, closed, "unclosed block at max %zu", max);
}

Test(diff_format, markdown_is_shortened_within_the_limit_at_boundaries)
{
	struct fixture f = many_changes();
	char *full = render_max(f.diff, 0);
	size_t full_chars = utf8_chars(full);
	cr_assert_gt(full_chars, 20000);
	static const size_t maxes[] = { 2500, 3000, 4000, 6000, 9000, 14000, 20000 };
	for (size_t i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++) {
		char *md = render_max(f.diff, maxes[i]);
		cr_assert_leq(utf8_chars(md), maxes[i], "%zu characters at max %zu", utf8_chars(md), maxes[i]);
		cr_assert(strstr(md, "**Shortened** to fit "), "no note at max %zu", maxes[i]);
		cr_assert(strstr(md, "- Largest changes: set `s39` changed (118 lines), set `s38` changed (115 lines)"),
			  "%s", md);
		expect_well_formed(md, full, maxes[i]);
		free(md);
	}
	char *small = render_max(f.diff, 2500);
	cr_assert(strstr(small, "| set `s39` | changed |"), "the largest change's row first: %s", small);
	cr_assert_null(strstr(small, "| set `s0` | changed |"), "a table cut at rows: %s", small);
	cr_assert_null(strstr(small, "| set `retired` |"), "what widens goes first: %s", small);
	cr_assert(strstr(full, "| set `retired` | removed |"), "%s", full);
	free(small);
	char *fits = render_max(f.diff, full_chars);
	cr_assert_str_eq(fits, full, "a diff within the limit is whole");
	free(fits);
	free(full);
	diff_done(&f);
}

Test(diff_format, parse_names)
{
	enum diff_format f;
	cr_assert_eq(diff_format_parse("markdown", &f), 0);
	cr_assert_eq(f, DIFF_MARKDOWN);
	cr_assert_eq(diff_format_parse("yaml", &f), -1);
}

/* ---- explain ------------------------------------------------------------------------ */

Test(explain, target_forms)
{
	struct explain_target t;
	const char *why;
	cr_assert_eq(explain_target_parse("192.0.2.1:25/tcp", &t, &why), 0);
	cr_assert_eq(t.kind, EXPLAIN_ADDRESS);
	cr_assert_eq(t.port, 25);
	cr_assert_eq(t.proto, PROTO_TCP);
	cr_assert_eq(explain_target_parse("2001:db8::1", &t, &why), 0);
	cr_assert_eq(t.family, FAMILY_V6);
	cr_assert_not(t.has_port);
	cr_assert_eq(explain_target_parse("[2001:db8::1]:53/udp", &t, &why), 0);
	cr_assert_eq(t.proto, PROTO_UDP);
	cr_assert_eq(explain_target_parse("WS1.Marketo.COM.:443", &t, &why), 0);
	cr_assert_eq(t.kind, EXPLAIN_NAME);
	cr_assert_str_eq(t.name, "ws1.marketo.com");
	cr_assert_eq(t.proto, PROTO_ANY);
	cr_assert_eq(explain_target_parse("192.0.2.0/24", &t, &why), -1);
	cr_assert_eq(explain_target_parse("*.marketo.com", &t, &why), -1);
	cr_assert_eq(explain_target_parse("192.0.2.1:70000", &t, &why), -1);
	cr_assert_eq(explain_target_parse("192.0.2.1:25/sctp", &t, &why), -1);
	cr_assert_eq(explain_target_parse("", &t, &why), -1);
}

static struct explanation *explain_from(const struct policy *p, const char *target, const char *local)
{
	struct explain_target t;
	const char *why;
	cr_assert_eq(explain_target_parse(target, &t, &why), 0, "%s", target);
	if (local)
		cr_assert_eq(explain_local_parse(local, &t, &why), 0, "%s", local);
	struct explanation *e = policy_explain(p, &t, &why);
	cr_assert_not_null(e);
	return e;
}

static struct explanation *explain(const struct policy *p, const char *target)
{
	return explain_from(p, target, NULL);
}

Test(explain, addresses_ports_and_names)
{
	struct policy *p = compile("x.rules", "set m { 192.0.2.0/25\n 2001:db8::/32 }\n"
					      "set w { *.example.com ~\"^ws[0-9]+\\.example\\.org$\" }\nset spare { 198.51.100.0/24 }\n"
					      "allow in from @m tcp port 25\nallow out to @w tcp port { 80, 443 }\n");
	struct explanation *e = explain(p, "192.0.2.100:25/tcp");
	cr_assert(e->allowed);
	cr_assert_eq(e->n_hits, 1);
	cr_assert_eq(e->hits[0].element.kind, EXPLAIN_PREFIX);
	cr_assert_eq(e->hits[0].element.sources[0].line, 1);
	explanation_free(e);
	e = explain(p, "192.0.2.100:587/tcp");
	cr_assert_not(e->allowed);
	cr_assert_eq(e->n_hits, 1, "a near miss is still shown");
	cr_assert_not(e->hits[0].rules[0].allows);
	explanation_free(e);
	e = explain(p, "192.0.2.200");
	cr_assert_not(e->allowed);
	cr_assert_eq(e->n_hits, 0);
	explanation_free(e);
	e = explain(p, "[2001:db8:ffff::1]:25/tcp");
	cr_assert(e->allowed);
	cr_assert_eq(e->hits[0].element.sources[0].line, 2);
	explanation_free(e);
	e = explain(p, "a.b.example.com:443/tcp");
	cr_assert(e->allowed);
	cr_assert_eq(e->hits[0].element.kind, EXPLAIN_WILDCARD);
	explanation_free(e);
	e = explain(p, "example.com");
	cr_assert_not(e->allowed, "*.d does not match d");
	explanation_free(e);
	e = explain(p, "WS12.example.org");
	cr_assert(e->allowed);
	cr_assert_eq(e->hits[0].element.kind, EXPLAIN_REGEX);
	explanation_free(e);
	e = explain(p, "198.51.100.1");
	cr_assert_not(e->allowed);
	cr_assert_eq(e->hits[0].n_rules, 0, "the set holds it, no rule uses the set");
	explanation_free(e);
	policy_free(p);
}

/* ---- property: the change is exactly the symmetric difference ----------------------- */

static uint64_t lcg(uint64_t *state)
{
	*state = *state * 6364136223846793005ull + 1442695040888963407ull;
	return *state >> 33;
}

/* Random prefixes inside 10.0.0.0/16, lengths /18../32, as a rules file. */
static char *random_policy(uint64_t *state, int count)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	fprintf(f, "set s {\n");
	for (int i = 0; i < count; i++) {
		unsigned plen = 18 + (unsigned)(lcg(state) % 15), host = (unsigned)lcg(state) & 0xffff;
		host &= plen >= 16 ? ~((1u << (32 - plen)) - 1) : 0;
		fprintf(f, "10.0.%u.%u/%u\n", host >> 8, host & 0xff, plen);
	}
	fprintf(f, "}\nallow in from @s tcp port 25\n");
	fclose(f);
	return buf;
}

static bool in_prefixes(const struct diff_prefix *v, size_t n, uint64_t a)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t first = v[i].prefix.addr.lo, last = prefix_last_addr(&v[i].prefix).lo;
		if (a >= first && a <= last)
			return true;
	}
	return false;
}

static bool in_set(const struct ir_set *s, uint64_t a)
{
	for (size_t i = 0; i < s->n_v4; i++)
		if (a >= s->v4[i].prefix.addr.lo && a <= prefix_last_addr(&s->v4[i].prefix).lo)
			return true;
	return false;
}

Test(diff, added_and_removed_are_exactly_the_symmetric_difference)
{
	uint64_t state = 42;
	for (int round = 0; round < 8; round++) {
		char *a = random_policy(&state, 40), *b = random_policy(&state, 40);
		struct fixture f = diff_of(a, b);
		const struct diff_prefixes *pd = f.diff->n_sets ? &f.diff->sets[0].addresses : NULL;
		const struct ir_set *o = &f.old->sets[0], *n = &f.new->sets[0];
		for (uint64_t addr = 0x0a000000; addr <= 0x0a00ffff; addr++) {
			bool was = in_set(o, addr), is = in_set(n, addr);
			cr_assert_eq(pd && in_prefixes(pd->added, pd->n_added, addr), is && !was, "round %d %#lx", round,
				     (unsigned long)addr);
			cr_assert_eq(pd && in_prefixes(pd->removed, pd->n_removed, addr), was && !is, "round %d %#lx",
				     round, (unsigned long)addr);
		}
		free(a);
		free(b);
		diff_done(&f);
	}
}

Test(diff, mode_and_default_deny)
{
	struct fixture f = diff_of("option default_deny = eth0\noption default_deny = eth1\n" RULES("allow out to @w\n"),
				   "option default_deny = eth1\noption default_deny = wg0\n" RULES("allow out to @w\n"));
	cr_assert_eq(f.diff->n_deny_added, 1);
	cr_assert_str_eq(f.diff->deny_added[0], "wg0");
	cr_assert_eq(f.diff->n_deny_removed, 1);
	cr_assert_str_eq(f.diff->deny_removed[0], "eth0");
	cr_assert(policy_diff_widens(f.diff), "eth0 no longer drops what no rule allows");
	char line[256];
	diff_summary(f.diff, line, sizeof(line));
	cr_assert_str_eq(line, "WIDENING: default_deny +1 -1 interfaces");
	diff_done(&f);
	f = diff_of(RULES("allow out to @w\n"), "option mode = sets-only\n" RULES("allow out to @w\n"));
	cr_assert(f.diff->mode_changed);
	cr_assert_not(policy_diff_widens(f.diff));
	diff_summary(f.diff, line, sizeof(line));
	cr_assert_str_eq(line, "not widening: mode table -> sets-only");
	diff_done(&f);
}

/* What the netlink side builds from the live kernel: prefixes without origins, no file
 * names, no names or regexes arrays at all. */
Test(diff, kernel_policy_without_origins)
{
	struct policy *new = compile("new.rules", SENDERS("192.0.2.0/24 198.51.100.0/24"));
	struct cidr_parsed a;
	cidr_parse("192.0.2.0/25", 12, &a);
	struct ir_prefix v4[] = { { a.prefix, 0, 0 } };
	struct ir_set set = { .name = "s", .v4 = v4, .n_v4 = 1 };
	struct ir_rule rule = { .dir = DIR_IN, .set = &set, .proto = PROTO_TCP,
				.ports = (struct port_range[]){ { 25, 25 } }, .n_ports = 1 };
	struct policy kernel = { .table = new->table, .priority = new->priority, .sets = &set, .n_sets = 1,
				 .rules = &rule, .n_rules = 1 };
	struct policy_diff *d = policy_diff_compute(&kernel, new);
	cr_assert_not_null(d);
	cr_assert_eq(d->n_rules, 0);
	cr_assert_eq(d->n_sets, 1);
	cr_assert_eq(d->sets[0].addresses.n_added, 2);	/* 192.0.2.128/25, 198.51.100.0/24 */
	cr_assert_eq(d->sets[0].addresses.n_removed, 0);
	policy_diff_free(d);
	d = policy_diff_compute(new, &kernel);
	cr_assert_eq(d->sets[0].addresses.n_removed, 2);
	cr_assert_eq(d->sets[0].addresses.removed[0].n_sources, 1, "the rules file side keeps its sources");
	policy_diff_free(d);
	d = policy_diff_compute(&kernel, &kernel);
	cr_assert(policy_diff_empty(d));
	for (int fmt = DIFF_TEXT; fmt <= DIFF_JSON; fmt++) {
		policy_diff_free(d);
		d = policy_diff_compute(&kernel, new);
		char *text = render(d, fmt, false);
		cr_assert(strstr(text, "198.51.100.0/24"), "%s", text);
		free(text);
	}
	struct explain_target t;
	const char *why;
	explain_target_parse("192.0.2.1:25/tcp", &t, &why);
	struct explanation *e = policy_explain(&kernel, &t, &why);
	cr_assert(e->allowed);
	cr_assert_eq(e->hits[0].element.n_sources, 0);
	explanation_free(e);
	policy_diff_free(d);
	policy_free(new);
}

/* A scoped rule allows only its local hosts: without --local it allows and says for whom;
 * with a local end outside the scope it is a near miss (the attack: a LAN host outside
 * @clients must not read "allowed"), inside it allows; inbound scopes are the servers. */

Test(explain, scoped_rules_allow_only_their_local_hosts)
{
	struct policy *p = compile("x.rules", "set clients { 10.0.0.0/24 2001:db8:a::/48 }\nset web { 192.0.2.0/24 *.example.com }\n"
					      "set servers { 198.51.100.10 }\nset senders { 203.0.113.0/24 }\n"
					      "allow out from @clients to @web tcp port 443\n"
					      "allow in from @senders to @servers tcp port 25\n");
	struct explanation *e = explain_from(p, "192.0.2.5:443/tcp", NULL);
	cr_assert(e->allowed);
	cr_assert_eq(e->hits[0].rules[0].scope, EXPLAIN_SCOPE_UNASKED);
	explanation_free(e);
	e = explain_from(p, "192.0.2.5:443/tcp", "10.0.0.9");
	cr_assert(e->allowed);
	cr_assert_eq(e->hits[0].rules[0].scope, EXPLAIN_SCOPE_IN);
	explanation_free(e);
	e = explain_from(p, "192.0.2.5:443/tcp", "10.0.1.9");
	cr_assert_not(e->allowed, "a client outside @clients is not allowed");
	cr_assert_eq(e->hits[0].rules[0].scope, EXPLAIN_SCOPE_OUT);
	cr_assert(e->hits[0].rules[0].ports_fit);
	explanation_free(e);
	e = explain_from(p, "ws.example.com:443/tcp", "2001:db8:a::9");
	cr_assert(e->allowed, "a name target takes a local end of either family");
	explanation_free(e);
	e = explain_from(p, "ws.example.com:443/tcp", "2001:db8:b::9");
	cr_assert_not(e->allowed);
	explanation_free(e);
	e = explain_from(p, "203.0.113.7:25/tcp", "198.51.100.10");
	cr_assert(e->allowed, "inbound: the local end is the server");
	explanation_free(e);
	e = explain_from(p, "203.0.113.7:25/tcp", "198.51.100.11");
	cr_assert_not(e->allowed);
	explanation_free(e);

	struct explain_target t;
	const char *why;
	cr_assert_eq(explain_target_parse("192.0.2.5:443/tcp", &t, &why), 0);
	cr_assert_eq(explain_local_parse("2001:db8:a::9", &t, &why), -1, "families differ");
	cr_assert_eq(explain_local_parse("10.0.0.0/24", &t, &why), -1, "one address, not a prefix");
	cr_assert_eq(explain_local_parse("host.example.com", &t, &why), -1);
	policy_free(p);
}
