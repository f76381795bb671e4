/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The netlink backend without a kernel: the ruleset a policy wants, the delta between two
 * rulesets, the batch it becomes (framing, genid, element messages under the 64 KiB
 * attribute limit), and kernel errors mapped back to elements and lines. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nft_netlink_internal.h"

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

static int prefix_cmp_test(const struct prefix *a, const struct prefix *b)
{
	return a->family != b->family || a->len != b->len || addr_cmp(a->addr, b->addr);
}

static struct prefix pfx(const char *text)
{
	struct cidr_parsed c;
	cr_assert_eq(cidr_parse(text, strlen(text), &c), CIDR_OK, "%s", text);
	return c.prefix;
}

/* A live ruleset that holds exactly what want holds (as if read back from the kernel). */
static void copy_as_live(const struct nk_ruleset *want, struct nk_ruleset *live)
{
	*live = *want;
	live->arena = (struct arena){ 0 };
	live->sets = calloc(want->n_sets + 1, sizeof(*live->sets));
	live->chains = calloc(want->n_chains + 1, sizeof(*live->chains));
	for (size_t i = 0; i < want->n_sets; i++) {
		live->sets[i] = want->sets[i];
		live->sets[i].handle = i + 1;
		live->sets[i].elems = malloc((want->sets[i].n_elems + 1) * sizeof(struct nk_elem));
		if (want->sets[i].n_elems)
			memcpy(live->sets[i].elems, want->sets[i].elems, want->sets[i].n_elems * sizeof(struct nk_elem));
	}
	for (size_t i = 0; i < want->n_chains; i++) {
		live->chains[i] = want->chains[i];
		live->chains[i].handle = 100 + i;
		live->chains[i].rules = malloc((want->chains[i].n_rules + 1) * sizeof(struct nk_rule));
		if (want->chains[i].n_rules)
			memcpy(live->chains[i].rules, want->chains[i].rules, want->chains[i].n_rules * sizeof(struct nk_rule));
	}
}

Test(netlink, prefix_end)
{
	struct addr end;
	struct prefix p = pfx("192.0.2.0/24");
	cr_assert(nk_prefix_end(&p, &end));
	cr_assert_eq(end.lo, 0xC0000300u);
	p = pfx("255.255.255.0/24");
	cr_assert_not(nk_prefix_end(&p, &end), "runs to the top of IPv4: an open interval");
	p = pfx("0.0.0.0/0");
	cr_assert_not(nk_prefix_end(&p, &end));
	p = pfx("2001:db8::/32");
	cr_assert(nk_prefix_end(&p, &end));
	cr_assert_eq(end.hi, 0x20010db900000000ull);
	cr_assert_eq(end.lo, 0);
	p = pfx("2001:db8::ffff:ffff:ffff:ffff/128");
	cr_assert(nk_prefix_end(&p, &end), "carry into the upper half");
	cr_assert_eq(end.hi, 0x20010db800000001ull);
	cr_assert_eq(end.lo, 0);
	p = pfx("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120");
	cr_assert_not(nk_prefix_end(&p, &end));
}

Test(netlink, sets_are_recognised_by_comment)
{
	cr_assert(nk_set_is_ours("peers_v4", "set peers, t.rules:3"));
	cr_assert(nk_set_is_ours("web_dns_v6", "learnt by pinhole guard for the names of set web"));
	cr_assert_not(nk_set_is_ours("peers_v4", "set other, t.rules:3"));
	cr_assert_not(nk_set_is_ours("blocklist", "set blocklist, x:1"));
	cr_assert_not(nk_set_is_ours("peers_v4", NULL));
	cr_assert_not(nk_set_is_ours("web_dns_v4", "learnt by pinhole guard for the names of set web_dns"));
}

Test(netlink, wanted_ruleset)
{
	struct policy *p = compile("option default_deny eth1\n"
				   "set a { 192.0.2.0/25 192.0.2.128/25 2001:db8::/32 }\n"
				   "set n { *.example.com }\n"
				   "allow in from @a tcp port 25\n"
				   "allow out to @n tcp port { 80, 443 } comment \"web\"\n");
	struct nk_ruleset rs;
	cr_assert_eq(nk_ruleset_from_policy(p, &rs), 0);
	cr_assert_eq(rs.n_sets, 4);
	const struct nk_set *a4 = nk_ruleset_find_set(&rs, "a_v4");
	cr_assert_not_null(a4);
	cr_assert_eq(a4->n_elems, 1, "aggregated to 192.0.2.0/24");
	cr_assert_str_eq(a4->comment, "set a, t.rules", "the file, no line: an edit must not change it");
	cr_assert_eq(a4->flags, NFT_SET_INTERVAL);
	cr_assert_eq(nk_ruleset_find_set(&rs, "n_dns_v4")->flags, NFT_SET_TIMEOUT);
	cr_assert_eq(rs.n_chains, 3, "default_deny needs all three hooks");
	char text[512];
	const struct nk_chain *in = &rs.chains[0];
	cr_assert_str_eq(in->name, "input");
	cr_assert_eq(in->rules[0].what, NK_RULE_ESTABLISHED);
	nk_rule_format(&in->rules[2], text, sizeof(text));
	cr_assert_str_eq(text, "ip saddr @a_v4 tcp dport 25 counter accept");
	nk_rule_format(&in->rules[in->n_rules - 1], text, sizeof(text));
	cr_assert_str_eq(text, "iifname \"eth1\" counter drop comment \"default-deny eth1\"");
	const struct nk_chain *out = &rs.chains[2];
	nk_rule_format(&out->rules[2], text, sizeof(text));
	cr_assert_str_eq(text, "ip daddr @n_dns_v4 tcp dport { 80, 443 } counter accept comment \"web\"");
	cr_assert_neq(out->rules[2].fingerprint, out->rules[3].fingerprint, "v4 and v6 rules differ");
	nk_ruleset_free(&rs);
	policy_free(p);
}

Test(netlink, no_delta_for_the_same_ruleset)
{
	struct policy *p = compile("set a { 192.0.2.0/24 198.51.100.7 }\nallow in from @a\n");
	struct nk_ruleset want, live;
	struct nk_delta d;
	cr_assert_eq(nk_ruleset_from_policy(p, &want), 0);
	copy_as_live(&want, &live);
	cr_assert_eq(nk_delta_compute(&want, &live, &d), 0);
	cr_assert_eq(d.n_changes, 0);
	nk_delta_free(&d);
	nk_ruleset_free(&live);
	nk_ruleset_free(&want);
	policy_free(p);
}

Test(netlink, element_delta)
{
	struct policy *old = compile("set a { 192.0.2.0/24\n198.51.100.0/24 203.0.113.0/24 }\nallow in from @a\n");
	struct policy *new = compile("set a {\n192.0.2.0/24 203.0.113.0/25 }\nallow in from @a\n");
	struct nk_ruleset was, want, live;
	struct nk_delta d;
	cr_assert_eq(nk_ruleset_from_policy(old, &was), 0);
	cr_assert_eq(nk_ruleset_from_policy(new, &want), 0);
	copy_as_live(&was, &live);
	/* 192.0.2.0/24 moved from line 1 to line 2: it stays where it is in the kernel */
	cr_assert_eq(nk_delta_compute(&want, &live, &d), 0);
	const struct nk_set_delta *sd = &d.sets[0];
	cr_assert_eq(sd->action, NK_KEEP);
	cr_assert_eq(sd->n_add, 1, "203.0.113.0/25 only");
	cr_assert_eq(sd->n_del, 2);
	cr_assert_eq(nk_delta_elems_added(&d), 1);
	char text[CIDR_TEXT_MAX];
	cidr_format_prefix(text, &want.sets[0].elems[sd->add[0]].prefix);
	cr_assert_str_eq(text, "203.0.113.0/25");
	for (size_t i = 0; i < d.n_chains; i++)
		cr_assert_eq(d.chains[i].action, NK_KEEP, "same rules: chains stay");
	nk_delta_free(&d);
	nk_ruleset_free(&live);
	nk_ruleset_free(&want);
	nk_ruleset_free(&was);
	policy_free(old);
	policy_free(new);
}

Test(netlink, changed_rules_rewrite_the_chain)
{
	struct policy *old = compile("set a { 192.0.2.0/24 }\nallow in from @a tcp port 25\n");
	struct policy *new = compile("set a { 192.0.2.0/24 }\nallow in from @a tcp port 587\n");
	struct nk_ruleset was, want, live;
	struct nk_delta d;
	nk_ruleset_from_policy(old, &was);
	nk_ruleset_from_policy(new, &want);
	copy_as_live(&was, &live);
	cr_assert_eq(nk_delta_compute(&want, &live, &d), 0);
	cr_assert_eq(d.sets[0].action, NK_KEEP);
	cr_assert_eq(d.sets[0].n_add + d.sets[0].n_del, 0);
	cr_assert_eq(d.n_chains, 2);
	cr_assert_eq(d.chains[0].action, NK_REWRITE);
	cr_assert_eq(d.chains[1].action, NK_REWRITE);
	nk_delta_free(&d);
	/* a rule pinhole did not write (no fingerprint) is replaced too */
	live.chains[0].rules[0].fingerprint = 0;
	nk_ruleset_free(&want);
	nk_ruleset_from_policy(old, &want);
	cr_assert_eq(nk_delta_compute(&want, &live, &d), 0);
	cr_assert_eq(d.chains[0].action, NK_REWRITE);
	cr_assert_eq(d.chains[1].action, NK_KEEP);
	nk_delta_free(&d);
	nk_ruleset_free(&live);
	nk_ruleset_free(&want);
	nk_ruleset_free(&was);
	policy_free(old);
	policy_free(new);
}

Test(netlink, sets_only_leaves_foreign_sets)
{
	struct policy *p = compile("option mode sets-only\noption table filter\nset a { 192.0.2.0/24 }\n");
	struct nk_ruleset want, live;
	struct nk_delta d;
	nk_ruleset_from_policy(p, &want);
	copy_as_live(&want, &live);
	struct nk_set *more = realloc(live.sets, 3 * sizeof(*more));
	live.sets = more;
	live.sets[1] = (struct nk_set){ .name = "blocklist", .kind = KSET_V4, .foreign = true, .handle = 7 };
	live.sets[2] = (struct nk_set){ .name = "old_v4", .kind = KSET_V4, .comment = "set old, t.rules:1", .handle = 8 };
	live.n_sets = 3;
	cr_assert_eq(nk_delta_compute(&want, &live, &d), 0);
	cr_assert_eq(d.n_chains, 0, "sets-only mode has no chains");
	cr_assert_eq(d.n_sets, 2, "a, and old_v4 to delete; never blocklist");
	cr_assert_eq(d.sets[1].action, NK_DELETE);
	cr_assert_str_eq(d.sets[1].have->name, "old_v4");
	nk_delta_free(&d);
	nk_ruleset_free(&live);
	nk_ruleset_free(&want);
	policy_free(p);
}

/* Walks the batch: every message fits, element lists stay under the attribute limit. */
struct batch_stats {
	size_t messages, elem_messages, elements, max_nest;
	bool begin_has_genid, has_end;
	uint32_t genid;
};

static void walk_batch(const struct nl_batch *b, struct batch_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < b->n_origins; i++) {
		const struct nlmsghdr *nlh = b->origins[i].msg;
		const struct nlattr *a, *e;
		st->messages++;
		cr_assert_leq(nlh->nlmsg_len, NL_MSG_MAX);
		if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN) {
			mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
				if (mnl_attr_get_type(a) == NFNL_BATCH_GENID) {
					st->begin_has_genid = true;
					st->genid = ntohl(mnl_attr_get_u32(a));
				}
		}
		st->has_end |= nlh->nlmsg_type == NFNL_MSG_BATCH_END;
		if ((nlh->nlmsg_type & 0xff) != NFT_MSG_NEWSETELEM)
			continue;
		st->elem_messages++;
		mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
			if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
				continue;
			if (a->nla_len > st->max_nest)
				st->max_nest = a->nla_len;
			mnl_attr_for_each_nested(e, a)
				st->elements++;
		}
	}
}

static char *big_policy(size_t n)
{
	size_t cap = 32 + n * 24;
	char *text = malloc(cap), *p = text;
	p += sprintf(p, "set big {\n");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "10.%zu.%zu.0/24\n", (2 * i) / 256, (2 * i) % 256);
	sprintf(p, "}\nallow in from @big\n");
	return text;
}

Test(netlink, big_sets_split_across_messages)
{
	char *text = big_policy(20000);
	struct policy *p = compile(text);
	struct nk_ruleset want, empty = { .table = "pinhole", .family = 1 };
	struct nk_delta d;
	struct nl_batch b;
	struct batch_stats st;
	nk_ruleset_from_policy(p, &want);
	cr_assert_eq(nk_delta_compute(&want, &empty, &d), 0);
	cr_assert(d.create_table);
	nl_batch_init(&b, 0, 1000);
	cr_assert_eq(nl_batch_from_delta(&b, &d, 42, false), 0);
	walk_batch(&b, &st);
	cr_assert(st.begin_has_genid);
	cr_assert_eq(st.genid, 42);
	cr_assert(st.has_end);
	cr_assert_eq(st.elements, 2 * 20000, "a start and an end element per /24");
	cr_assert_gt(st.elem_messages, 10, "split across messages");
	cr_assert_lt(st.max_nest, 65536, "an element list fits a 16-bit attribute length");
	cr_assert_eq(nl_batch_origin(&b, 1000)->type, NFNL_MSG_BATCH_BEGIN);
	nl_batch_free(&b);
	/* check_only leaves out BATCH_END, as nft -c does */
	nl_batch_init(&b, 0, 1);
	nl_batch_from_delta(&b, &d, 42, true);
	walk_batch(&b, &st);
	cr_assert_not(st.has_end);
	nl_batch_free(&b);
	/* a caller's limit on the batch size is enforced */
	nl_batch_init(&b, 100000, 1);
	cr_assert_eq(nl_batch_from_delta(&b, &d, 42, false), -1);
	cr_assert_eq(b.error, EFBIG);
	nl_batch_free(&b);
	nk_delta_free(&d);
	nk_ruleset_free(&want);
	policy_free(p);
	free(text);
}

Test(netlink, errors_name_the_element_and_line)
{
	struct policy *p = compile("set a {\n192.0.2.0/28\n192.0.2.64/28\n192.0.2.128/28\n}\n");
	struct nk_ruleset want, empty = { .table = "pinhole", .family = 1 };
	struct nk_delta d;
	struct nl_batch b;
	struct nl_error e;
	nk_ruleset_from_policy(p, &want);
	nk_delta_compute(&want, &empty, &d);
	nl_batch_init(&b, 0, 1);
	nl_batch_from_delta(&b, &d, 0, false);
	const struct nl_origin *o = NULL;
	for (size_t i = 0; i < b.n_origins; i++)
		if (b.origins[i].type == NFT_MSG_NEWSETELEM)
			o = &b.origins[i];
	cr_assert_not_null(o);
	/* the kernel points at the fifth element: the start of the third prefix */
	const struct nlattr *a, *el;
	uint32_t offset = 0;
	int k = 0;
	mnl_attr_for_each(a, o->msg, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
			mnl_attr_for_each_nested(el, a)
				if (k++ == 4)
					offset = (uint32_t)((const char *)el - (const char *)o->msg) + 4;
	cr_assert_neq(offset, 0);
	cr_assert_eq(nl_error_describe(&b, o->seq, ENFILE, NULL, offset, &e), 0);
	cr_assert_str_eq(e.what, "adding element 192.0.2.128/28 of set a_v4");
	cr_assert_eq(e.loc.line, 4);
	cr_assert_str_eq(e.reason, "the set is full (its size limit)");
	free(e.what);
	free(e.message);
	/* no offset: the message as a whole, at its first element's line */
	cr_assert_eq(nl_error_describe(&b, o->seq, EEXIST, "exists", 0, &e), 0);
	cr_assert_str_eq(e.what, "adding 3 elements of set a_v4");
	cr_assert_eq(e.loc.line, 2);
	cr_assert_str_eq(e.message, "exists");
	free(e.what);
	free(e.message);
	nl_batch_free(&b);
	nk_delta_free(&d);
	nk_ruleset_free(&want);
	policy_free(p);
}

Test(netlink, cache_round_trip)
{
	char dir[] = "/tmp/pinhole-cache-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	struct policy *p = compile("set a { 192.0.2.0/24 198.51.100.7 2001:db8::/32 }\nset n { *.example.com }\n");
	struct nk_ruleset want, live;
	struct nk_cache_key key = { .boot_id = "boot", .netns_cookie = 7, .genid = 12 };
	nk_ruleset_from_policy(p, &want);
	copy_as_live(&want, &live);
	cr_assert_eq(nk_cache_save(dir, &want, &live, &key), 0);
	for (size_t i = 0; i < live.n_sets; i++) {	/* as read with NL_READ_OBJECTS */
		free(live.sets[i].elems);
		live.sets[i].elems = NULL;
		live.sets[i].n_elems = 0;
		live.sets[i].elems_known = false;
	}
	struct nk_cache_key other = key;
	other.genid = 13;
	cr_assert_eq(nk_cache_load(dir, &live, &other), 0, "another generation: someone changed the ruleset");
	other = key;
	other.netns_cookie = 8;
	cr_assert_eq(nk_cache_load(dir, &live, &other), 0, "another network namespace");
	live.sets[0].handle = 99;
	cr_assert_eq(nk_cache_load(dir, &live, &key), 0, "the set was made again");
	cr_assert_not(live.sets[0].elems_known);
	live.sets[0].handle = 1;
	cr_assert_eq(nk_cache_load(dir, &live, &key), 1);
	const struct nk_set *a4 = nk_ruleset_find_set(&live, "a_v4");
	cr_assert_eq(a4->n_elems, 2);
	cr_assert_eq(prefix_cmp_test(&a4->elems[1].prefix, &nk_ruleset_find_set(&want, "a_v4")->elems[1].prefix), 0);
	/* a torn file is not trusted */
	char path[128];
	snprintf(path, sizeof(path), "%s/inet-pinhole.state", dir);
	FILE *f = fopen(path, "r+");
	fseek(f, 70, SEEK_SET);
	fputc('X', f);
	fclose(f);
	cr_assert_eq(nk_cache_load(dir, &live, &key), 0);
	nk_cache_drop(dir, "pinhole");
	rmdir(dir);
	nk_ruleset_free(&live);
	nk_ruleset_free(&want);
	policy_free(p);
}

/* A cache naming one set twice is corrupt: not trusted, and the first copy's elements are
 * not leaked under the second (AddressSanitizer's leak check in build-asan). */
Test(netlink, cache_with_a_set_twice_is_not_trusted)
{
	char dir[] = "/tmp/pinhole-cache-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	struct policy *p = compile("set a { 192.0.2.0/24 }\nset b { 198.51.100.0/24 }\n");
	struct nk_ruleset want, live;
	struct nk_cache_key key = { .boot_id = "boot", .netns_cookie = 7, .genid = 12 };
	nk_ruleset_from_policy(p, &want);
	copy_as_live(&want, &live);
	struct nk_set *b = (struct nk_set *)nk_ruleset_find_set(&want, "b_v4");
	cr_assert_not_null(b);
	const char *b_name = b->name;
	b->name = nk_ruleset_find_set(&want, "a_v4")->name;	/* written as a_v4 a second time */
	cr_assert_eq(nk_cache_save(dir, &want, &live, &key), 0);
	b->name = b_name;
	for (size_t i = 0; i < live.n_sets; i++) {
		free(live.sets[i].elems);
		live.sets[i].elems = NULL;
		live.sets[i].n_elems = 0;
		live.sets[i].elems_known = false;
		/* b_v4 not pinhole's: a_v4 alone would make the cache complete */
		live.sets[i].foreign = !strcmp(live.sets[i].name, "b_v4");
	}
	cr_assert_eq(nk_cache_load(dir, &live, &key), 0);
	cr_assert_not(nk_ruleset_find_set(&live, "a_v4")->elems_known);
	nk_cache_drop(dir, "pinhole");
	char keypath[160];
	snprintf(keypath, sizeof(keypath), "%s/cache.key", dir);
	unlink(keypath);
	rmdir(dir);
	nk_ruleset_free(&live);
	nk_ruleset_free(&want);
	policy_free(p);
}

/* What someone without the key can do to the cache: copy one made under another key (a
 * graft from another machine or directory), or loosen the key file. Neither is believed. */
Test(netlink, cache_needs_its_key)
{
	char dir[] = "/tmp/pinhole-cache-XXXXXX", other[] = "/tmp/pinhole-cache-XXXXXX", path[160], opath[160];
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_not_null(mkdtemp(other));
	struct policy *p = compile("set a { 192.0.2.0/24 198.51.100.7 }\n");
	struct nk_ruleset want, live;
	struct nk_cache_key key = { .boot_id = "boot", .netns_cookie = 7, .genid = 12, .source = 5 };
	nk_ruleset_from_policy(p, &want);
	copy_as_live(&want, &live);
	cr_assert_eq(nk_cache_save(dir, &want, &live, &key), 0);
	cr_assert_eq(nk_cache_save(other, &want, &live, &key), 0);
	free(live.sets[0].elems);
	live.sets[0].elems = NULL;
	live.sets[0].elems_known = false;
	snprintf(path, sizeof(path), "%s/inet-pinhole.state", dir);
	snprintf(opath, sizeof(opath), "%s/inet-pinhole.state", other);
	cr_assert_eq(rename(opath, path), 0);
	char table[64];
	cr_assert_eq(nk_cache_load(dir, &live, &key), 0, "a cache made under another key");
	cr_assert_eq(nk_cache_find_source(dir, &key, table, sizeof(table)), 0);
	cr_assert_eq(nk_cache_save(dir, &want, &live, &key), 0);
	cr_assert_eq(nk_cache_find_source(dir, &key, table, sizeof(table)), 1);
	cr_assert_str_eq(table, "pinhole");
	snprintf(path, sizeof(path), "%s/cache.key", dir);
	cr_assert_eq(chmod(path, 0640), 0);
	cr_assert_eq(nk_cache_load(dir, &live, &key), 0, "a key others can read is no key");
	cr_assert_eq(nk_cache_find_source(dir, &key, table, sizeof(table)), 0);
	cr_assert_eq(nk_cache_save(dir, &want, &live, &key), -1);
	cr_assert_eq(errno, EPERM);
	unlink(path);
	nk_cache_drop(dir, "pinhole");
	snprintf(path, sizeof(path), "%s/cache.key", other);
	unlink(path);
	rmdir(dir);
	rmdir(other);
	nk_ruleset_free(&live);
	nk_ruleset_free(&want);
	policy_free(p);
}

/* SipHash-2-4's reference vector (Aumasson and Bernstein, appendix A): key 00..0f, message
 * 00..0e. */
Test(netlink, siphash_vector)
{
	uint64_t key[2] = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };
	unsigned char msg[15];
	for (int i = 0; i < 15; i++)
		msg[i] = (unsigned char)i;
	cr_assert_eq(nk_siphash(key, msg, sizeof(msg)), 0xa129ca6149be45e5ull);
}

/* The edits people make: lines inserted and deleted above, a comment at the top, the file
 * under another name. None of them moves an element or a rule in the kernel. */
static struct policy *compile_as(const char *file, const char *text)
{
	struct diags *d = diags_new();
	struct compile_request req = { .file = file, .text = text, .len = strlen(text) };
	struct policy *p = policy_compile(&req, d);
	diags_free(d);
	cr_assert_not_null(p);
	return p;
}

Test(netlink, edits_that_move_lines_change_nothing)
{
	struct policy *old = compile_as("/etc/pinhole/a.rules",
					"set a { 192.0.2.0/24 198.51.100.0/24 }\nallow in from @a tcp port 25 comment \"mail\"\n");
	struct policy *moved = compile_as("./a.rules", "# a comment\n\n# another\nset a {\n 198.51.100.0/24\n"
						      " 192.0.2.0/24\n}\n\nallow in from @a tcp port 25 comment \"mail\"\n");
	struct policy *renamed = compile_as("b.rules", "set a { 192.0.2.0/24 198.51.100.0/24 }\n"
						       "allow in from @a tcp port 25 comment \"mail\"\n");
	struct nk_ruleset was, want, live;
	struct nk_delta d;
	nk_ruleset_from_policy(old, &was);
	copy_as_live(&was, &live);
	cr_assert_str_eq(was.sets[0].comment, "set a, a.rules");
	cr_assert_str_eq(was.chains[0].rules[0].comment, "mail", "no file or line in a rule's comment");
	nk_ruleset_from_policy(moved, &want);
	cr_assert_eq(nk_delta_compute(&want, &live, &d), 0);
	cr_assert_eq(d.n_changes, 0, "lines moved, another path: nothing to send");
	cr_assert_not(d.sets[0].stale_comment);
	nk_delta_free(&d);
	nk_ruleset_free(&want);
	nk_ruleset_from_policy(renamed, &want);
	cr_assert_eq(nk_delta_compute(&want, &live, &d), 0);
	cr_assert_eq(d.n_changes, 0, "another file name: the set keeps its elements");
	cr_assert(d.sets[0].stale_comment, "and the plan says its comment names the old file");
	nk_delta_free(&d);
	nk_ruleset_free(&want);
	nk_ruleset_free(&live);
	nk_ruleset_free(&was);
	policy_free(old);
	policy_free(moved);
	policy_free(renamed);
}

/* The guard's record of its own generations: a run of consecutive commits that were its
 * alone; anything else breaks it, and apply then trusts only the current generation. */
Test(netlink, guard_generations)
{
	char dir[] = "/tmp/pinhole-gens-XXXXXX", path[160];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/guard.generations", dir);
	int sock = socket(AF_INET, SOCK_DGRAM, 0);	/* any socket names the netns */
	struct nk_guard_gens g;
	struct nk_cache_key key = { 0 };
	if (nk_guard_gens_open(&g, path, sock) < 0)
		cr_skip_test("no SO_NETNS_COOKIE here");
	strcpy(key.boot_id, g.boot_id);
	key.netns_cookie = g.cookie;
	cr_assert_eq(nk_guard_gens_since(path, &key, 10), 10, "an empty record says nothing");
	nk_guard_gens_note(&g, 10, 11);
	nk_guard_gens_note(&g, 11, 12);
	nk_guard_gens_note(&g, 12, 13);
	cr_assert_eq(nk_guard_gens_since(path, &key, 13), 10, "11..13 were the guard's: a cache of 10 holds");
	cr_assert_eq(nk_guard_gens_since(path, &key, 12), 10);
	cr_assert_eq(nk_guard_gens_since(path, &key, 14), 14, "14 is someone else's");
	nk_guard_gens_note(&g, 14, 15);
	cr_assert_eq(nk_guard_gens_since(path, &key, 15), 14, "a new run after someone else's commit");
	nk_guard_gens_note(&g, 15, 17);
	cr_assert_eq(nk_guard_gens_since(path, &key, 17), 17, "two commits in one step: not provably ours");
	nk_guard_gens_note(&g, 17, 18);
	struct nk_cache_key other = key;
	other.netns_cookie++;
	cr_assert_eq(nk_guard_gens_since(path, &other, 18), 18, "another namespace's record");
	strcpy(other.boot_id, "another boot");
	other.netns_cookie = key.netns_cookie;
	cr_assert_eq(nk_guard_gens_since(path, &other, 18), 18, "another boot's record");
	cr_assert_eq(chmod(path, 0622), 0);
	cr_assert_eq(nk_guard_gens_since(path, &key, 18), 18, "a record others could write");
	cr_assert_eq(chmod(path, 0600), 0);
	cr_assert_eq(nk_guard_gens_since(path, &key, 18), 17);
	FILE *f = fopen(path, "r+");
	fseek(f, 60, SEEK_SET);
	fputc(0x7f, f);
	fclose(f);
	cr_assert_eq(nk_guard_gens_since(path, &key, 18), 18, "a torn record");
	nk_guard_gens_close(&g);
	close(sock);
	unlink(path);
	rmdir(dir);
}

/* A cache written at generation 10 holds at 13 only when key says 11..13 were the guard's. */
Test(netlink, cache_after_guard_commits)
{
	char dir[] = "/tmp/pinhole-cache-XXXXXX", path[160];
	cr_assert_not_null(mkdtemp(dir));
	struct policy *p = compile("set a { 192.0.2.0/24 }\n");
	struct nk_ruleset want, live;
	struct nk_cache_key key = { .boot_id = "boot", .netns_cookie = 7, .genid = 10 };
	nk_ruleset_from_policy(p, &want);
	copy_as_live(&want, &live);
	cr_assert_eq(nk_cache_save(dir, &want, &live, &key), 0);
	free(live.sets[0].elems);
	live.sets[0].elems = NULL;
	live.sets[0].elems_known = false;
	key.genid = 13;
	cr_assert_eq(nk_cache_load(dir, &live, &key), 0);
	key.genid_min = 11;
	cr_assert_eq(nk_cache_load(dir, &live, &key), 0, "10 itself must be covered: 11..13 only is not enough");
	key.genid_min = 10;
	cr_assert_eq(nk_cache_load(dir, &live, &key), 1);
	nk_cache_drop(dir, "pinhole");
	snprintf(path, sizeof(path), "%s/cache.key", dir);
	unlink(path);
	rmdir(dir);
	nk_ruleset_free(&live);
	nk_ruleset_free(&want);
	policy_free(p);
}

Test(netlink, guard_chains_stay)
{
	struct policy *p = compile("set a { 192.0.2.0/24 }\nset n { *.example.com }\nallow out to @n tcp port 443\n");
	struct nk_ruleset want, live;
	struct nk_delta d;
	nk_ruleset_from_policy(p, &want);
	copy_as_live(&want, &live);
	struct nk_chain *more = realloc(live.chains, (live.n_chains + 2) * sizeof(*more));
	live.chains = more;
	live.chains[live.n_chains++] = (struct nk_chain){ .name = "guard_output", .base = true, .handle = 50 };
	live.chains[live.n_chains++] = (struct nk_chain){ .name = "mine", .handle = 51 };
	cr_assert_eq(nk_delta_compute(&want, &live, &d), 0);
	cr_assert_eq(d.n_changes, 1, "only the chain nobody wants goes");
	cr_assert_str_eq(d.chains[d.n_chains - 1].have->name, "mine");
	nk_delta_free(&d);
	/* a learnt set made again takes the guard's chains (their rules use it) with it */
	((struct nk_set *)nk_ruleset_find_set(&live, "n_dns_v4"))->flags = 0;
	cr_assert_eq(nk_delta_compute(&want, &live, &d), 0);
	bool guard_deleted = false;
	for (size_t i = 0; i < d.n_chains; i++)
		guard_deleted |= d.chains[i].have && !strcmp(d.chains[i].have->name, "guard_output") &&
				 d.chains[i].action == NK_DELETE;
	cr_assert(guard_deleted);
	nk_delta_free(&d);
	nk_ruleset_free(&live);
	nk_ruleset_free(&want);
	policy_free(p);
}
