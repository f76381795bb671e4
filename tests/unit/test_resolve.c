/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The compiler end to end on small texts: what the IR holds, and what is reported. */
#include <criterion/criterion.h>
#include <string.h>

#include "policy.h"

static struct policy *compile_defs(const char *text, struct diags *d, const struct define_override *defs, size_t n)
{
	struct compile_request req = { .file = "t.rules", .text = text, .len = strlen(text), .defines = defs,
				       .n_defines = n };
	return policy_compile(&req, d);
}

static struct policy *compile(const char *text, struct diags *d)
{
	return compile_defs(text, d, NULL, 0);
}

static const char *prefix_text(const struct ir_prefix *p, char *buf)
{
	cidr_format_prefix(buf, &p->prefix);
	return buf;
}

Test(resolve, aggregates_with_sources)
{
	struct diags *d = diags_new();
	struct policy *p = compile("set s {\n130.248.172.0/24\n130.248.173.0/24\n2001:db8::/33 2001:db8:8000::/33\n}\n", d);
	cr_assert_not_null(p);
	const struct ir_set *s = policy_find_set(p, "s");
	char buf[CIDR_TEXT_MAX];
	cr_assert_eq(s->n_v4, 1);
	cr_assert_str_eq(prefix_text(&s->v4[0], buf), "130.248.172.0/23");
	cr_assert_eq(s->v4[0].origin_count, 2);
	cr_assert_eq(s->origins[s->v4[0].origin_first].line, 2);
	cr_assert_eq(s->origins[s->v4[0].origin_first + 1].line, 3);
	cr_assert_eq(s->n_v6, 1);
	cr_assert_str_eq(prefix_text(&s->v6[0], buf), "2001:db8::/32");
	char src[128];
	ir_prefix_sources(s, &s->v4[0], src, sizeof(src));
	cr_assert_str_eq(src, "t.rules:2,3");
	policy_free(p);
	diags_free(d);
}

Test(resolve, names_normalized_sorted_and_redundant_dropped)
{
	struct diags *d = diags_new();
	struct policy *p = compile("set s { WS.Marketo.com *.marketo.com marketo.com a.example.org a.example.org. }\nallow out to @s", d);
	cr_assert_not_null(p);
	const struct ir_set *s = policy_find_set(p, "s");
	cr_assert_eq(s->n_names, 3);
	cr_assert_str_eq(s->names[0].name, "a.example.org");
	cr_assert_str_eq(s->names[1].name, "marketo.com");
	cr_assert_eq(s->names[1].kind, NAME_EXACT);
	cr_assert_str_eq(s->names[2].name, "marketo.com");
	cr_assert_eq(s->names[2].kind, NAME_WILDCARD);
	cr_assert_eq(diags_warnings(d), 2);	/* ws.marketo.com covered; a.example.org repeated */
	policy_free(p);
	diags_free(d);
}

Test(resolve, includes_and_defines)
{
	struct diags *d = diags_new();
	struct define_override o = { "x", "198.51.100.0/24" };
	struct policy *p = compile_defs("define x = 192.0.2.0/24\nset a { $x }\nset b { @a 203.0.113.0/24 }\n", d, &o, 1);
	cr_assert_not_null(p);
	const struct ir_set *b = policy_find_set(p, "b");
	char buf[CIDR_TEXT_MAX];
	cr_assert_eq(b->n_v4, 2);
	cr_assert_str_eq(prefix_text(&b->v4[0], buf), "198.51.100.0/24");
	cr_assert_str_eq(prefix_text(&b->v4[1], buf), "203.0.113.0/24");
	policy_free(p);
	diags_free(d);
}

Test(resolve, rules_ports_merged)
{
	struct diags *d = diags_new();
	struct policy *p = compile("set s { 192.0.2.1 }\nallow out to @s tcp port { 443, 80, 81, 82-90, 85 } comment \"x\"\n"
				   "allow in from @s\n", d);
	cr_assert_not_null(p);
	cr_assert_eq(p->n_rules, 2);
	const struct ir_rule *r = &p->rules[0];
	cr_assert_eq(r->dir, DIR_OUT);
	cr_assert_eq(r->proto, PROTO_TCP);
	cr_assert_eq(r->n_ports, 2);
	cr_assert_eq(r->ports[0].lo, 80);
	cr_assert_eq(r->ports[0].hi, 90);
	cr_assert_eq(r->ports[1].lo, 443);
	cr_assert_str_eq(r->comment, "x");
	cr_assert_eq(p->rules[1].dir, DIR_IN);
	cr_assert_eq(p->rules[1].proto, PROTO_ANY);
	cr_assert_eq(p->rules[1].n_ports, 0);
	policy_free(p);
	diags_free(d);
}

Test(resolve, errors_give_no_policy_and_every_error)
{
	struct diags *d = diags_new();
	struct policy *p = compile("set s {\n192.28.144.5/20\n*.com\n@nope\n}\nallow out to @s tcp port 99999\n", d);
	cr_assert_null(p);
	cr_assert_eq(diags_errors(d), 4);
	policy_free(p);
	diags_free(d);
}

Test(resolve, host_bits_hint)
{
	struct diags *d = diags_new();
	cr_assert_null(compile("set s { 192.28.144.5/20 }", d));
	const struct diag *g = diags_get(d, 0);
	cr_assert_str_eq(g->message, "host bits set in 192.28.144.5/20");
	cr_assert_str_eq(g->hint, "did you mean 192.28.144.0/20?");
	cr_assert_eq(g->loc.line, 1);
	cr_assert_eq(g->loc.col, 9);
	diags_free(d);
}

Test(resolve, unknown_define_override_is_an_error)
{
	struct diags *d = diags_new();
	struct define_override o = { "trackin", "x.example" };
	cr_assert_null(compile_defs("define tracking = a.example\nset s { $tracking }\n", d, &o, 1));
	cr_assert_eq(diags_errors(d), 1);
	cr_assert_str_eq(diags_get(d, 0)->hint, "did you mean define 'tracking'?");
	diags_free(d);
}

Test(resolve, options)
{
	struct diags *d = diags_new();
	struct policy *p = compile("option table = edge\noption priority -5\nset s { 192.0.2.1 }\n", d);
	cr_assert_not_null(p);
	cr_assert_str_eq(p->table, "edge");
	cr_assert_eq(p->priority, -5);
	policy_free(p);
	diags_free(d);
}

Test(resolve, deterministic_output_order)
{
	struct diags *d1 = diags_new(), *d2 = diags_new();
	struct policy *a = compile("set s { 198.51.100.0/24 192.0.2.0/24 b.example a.example }", d1);
	struct policy *b = compile("set s { a.example 192.0.2.0/24 b.example 198.51.100.0/24 }", d2);
	const struct ir_set *x = policy_find_set(a, "s"), *y = policy_find_set(b, "s");
	cr_assert_eq(x->n_v4, y->n_v4);
	for (size_t i = 0; i < x->n_v4; i++)
		cr_assert_eq(memcmp(&x->v4[i].prefix, &y->v4[i].prefix, sizeof(struct prefix)), 0);
	for (size_t i = 0; i < x->n_names; i++)
		cr_assert_str_eq(x->names[i].name, y->names[i].name);
	policy_free(a);
	policy_free(b);
	diags_free(d1);
	diags_free(d2);
}

/* Found by the rules fuzzer: a name repeated after a wildcard already covered it. */
Test(resolve, repeated_name_under_wildcard)
{
	struct diags *d = diags_new();
	struct policy *p = compile("set s { *.example.com a.example.com a.example.com }\nallow out to @s", d);
	cr_assert_not_null(p);
	const struct ir_set *s = policy_find_set(p, "s");
	cr_assert_eq(s->n_names, 1);
	cr_assert_eq(s->names[0].kind, NAME_WILDCARD);
	cr_assert_eq(diags_warnings(d), 2);	/* both copies are covered */
	policy_free(p);
	diags_free(d);
}
