/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nft_netlink_model.c — the kernel ruleset a policy wants: which sets with which elements,
 * which base chains with which rules. nft_text writes the same objects as text. */
#include "nft_netlink_internal.h"

#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* nft datatype ids (nftables include/datatype.h) */
#define NFT_TYPE_IPV4_ADDR 7
#define NFT_TYPE_IPV6_ADDR 8
/* nft refuses longer comments (the parser stops at 128 bytes) */

uint64_t nk_hash(const void *s, size_t n, uint64_t seed)
{
	const unsigned char *p = s;
	uint64_t h = 0xcbf29ce484222325ull ^ seed;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return n && h == 0 ? 1 : h;
}

char *nk_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *s = n < 0 ? NULL : arena_alloc(a, (size_t)n + 1);
	if (s) {
		va_start(ap, fmt);
		vsnprintf(s, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	return s;
}

void nk_ruleset_free(struct nk_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n_sets; i++)
		free(rs->sets[i].elems);
	for (size_t i = 0; i < rs->n_chains; i++)
		free(rs->chains[i].rules);
	free(rs->sets);
	free(rs->chains);
	arena_free(&rs->arena);
	memset(rs, 0, sizeof(*rs));
}

const struct nk_set *nk_ruleset_find_set(const struct nk_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->n_sets; i++)
		if (!strcmp(rs->sets[i].name, name))
			return &rs->sets[i];
	return NULL;
}

size_t nk_ruleset_prefixes(const struct nk_ruleset *rs)
{
	size_t n = 0;
	for (size_t i = 0; i < rs->n_sets; i++)
		n += rs->sets[i].n_elems;
	return n;
}

bool nk_table_is_ours(const struct nk_ruleset *live)
{
	return !live->table_exists || live->table_marked || live->table_empty;
}

/* ---- the wanted ruleset ---- */

/* Elements carry no comment: a prefix is the element's whole identity, so an edit that
 * moves lines sends nothing for the prefixes it did not change. Their sources come from
 * the applied snapshot when someone asks (nk_ruleset_attribute). */
static int want_elems(struct nk_set *ks, const struct ir_prefix *v, size_t n)
{
	ks->elems = calloc(n ? n : 1, sizeof(*ks->elems));
	if (!ks->elems)
		return -1;
	for (size_t i = 0; i < n; i++)
		ks->elems[i] = (struct nk_elem){ .prefix = v[i].prefix, .origin = &v[i] };
	ks->n_elems = n;
	ks->elems_known = true;
	return 0;
}

static int want_set(struct nk_ruleset *rs, struct nk_set *ks, const struct ir_set *s, enum kset_kind kind)
{
	char name[KSET_NAME_MAX];
	bool v4 = kind == KSET_V4 || kind == KSET_DNS_V4, dynamic = kind >= KSET_DNS_V4;
	kset_name(name, s, kind);
	*ks = (struct nk_set){ .kind = kind, .origin = s, .flags = dynamic ? NFT_SET_TIMEOUT : NFT_SET_INTERVAL,
			       .key_type = v4 ? NFT_TYPE_IPV4_ADDR : NFT_TYPE_IPV6_ADDR, .key_len = v4 ? 4 : 16 };
	char comment[NK_COMMENT_MAX];
	nk_set_comment(comment, s, kind);
	ks->name = arena_strdup(&rs->arena, name);
	ks->comment = arena_strdup(&rs->arena, comment);
	if (!ks->name || !ks->comment)
		return -1;
	if (dynamic) {
		ks->elems_known = true;	/* the guard's business: never compared */
		return 0;
	}
	return kind == KSET_V4 ? want_elems(ks, s->v4, s->n_v4) : want_elems(ks, s->v6, s->n_v6);
}

static int want_sets(const struct policy *p, struct nk_ruleset *rs)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_sets; i++)
		for (enum kset_kind k = KSET_V4; k <= KSET_DNS_V6; k++)
			n += kset_present(&p->sets[i], k);
	rs->sets = calloc(n ? n : 1, sizeof(*rs->sets));
	if (!rs->sets)
		return -1;
	for (size_t i = 0; i < p->n_sets; i++)
		for (enum kset_kind k = KSET_V4; k <= KSET_DNS_V6; k++)
			if (kset_present(&p->sets[i], k) && want_set(rs, &rs->sets[rs->n_sets++], &p->sets[i], k) < 0)
				return -1;
	return 0;
}

/* Traffic to or from the gateway itself meets input/output; traffic it routes meets
 * forward. An "out" rule lives in output and forward, an "in" rule in input and forward. */
static bool rule_in_hook(const struct ir_rule *r, unsigned hook)
{
	return hook == NF_INET_FORWARD || hook == (r->dir == DIR_OUT ? NF_INET_LOCAL_OUT : NF_INET_LOCAL_IN);
}

struct rule_list {
	struct nk_ruleset *rs;
	struct nk_rule *v;
	size_t n, cap;
};

static struct nk_rule *rule_push(struct rule_list *l, enum nk_rule_kind what, const char *comment)
{
	if (l->n == l->cap)
		return NULL;	/* sized beforehand by chain_capacity */
	struct nk_rule *r = &l->v[l->n++];
	*r = (struct nk_rule){ .what = what, .comment = comment };
	return r;
}

/* An allow rule's kernel comment is the rule's own `comment "..."` and nothing else (none
 * without one): its rules-file line would make every rule below an inserted line look
 * changed. The comment is the user's words for the kernel listing, so changing it does
 * replace the rule. */
static const char *allow_comment(struct rule_list *l, const struct ir_rule *ir, bool *oom)
{
	char comment[NK_COMMENT_MAX];
	if (!ir->comment)
		return NULL;
	size_t len = strnlen(ir->comment, NK_COMMENT_MAX - 1);
	bool cut = ir->comment[len] != '\0';
	while (cut && len > 0 && ((unsigned char)ir->comment[len] & 0xC0) == 0x80)
		len--;	/* cut on a character boundary: back to the lead byte, which goes too */
	memcpy(comment, ir->comment, len);
	comment[len] = '\0';
	comment_sanitize(comment, len);
	const char *c = arena_strdup(&l->rs->arena, comment);
	*oom = !c;
	return c;
}

static int push_allow(struct rule_list *l, const struct ir_rule *ir)
{
	bool oom = false;
	const char *c = allow_comment(l, ir, &oom);
	for (enum kset_kind k = KSET_V4; k <= KSET_DNS_V6; k++) {
		if (!rule_kset_used(ir, k))
			continue;
		struct nk_rule *r = rule_push(l, NK_RULE_ALLOW, c);
		if (!r || oom)
			return -1;
		r->origin = ir;
		r->kset = k;
	}
	return 0;
}

static int push_deny_iface(struct rule_list *l, const struct policy *p, size_t i, bool iif)
{
	static const enum nk_deny_action drop[] = { NK_DENY_DROP }, reject[] = { NK_DENY_TCP_RESET, NK_DENY_ICMPX };
	const enum nk_deny_action *how = p->deny_reject[i] ? reject : drop;
	const char *c = nk_printf(&l->rs->arena, "default-deny %s", p->deny_ifaces[i]);
	for (size_t k = 0; k < (p->deny_reject[i] ? 2u : 1u); k++) {
		struct nk_rule *r = rule_push(l, iif ? NK_RULE_DENY_IIF : NK_RULE_DENY_OIF, c);
		if (!r || !c)
			return -1;
		r->ifname = p->deny_ifaces[i];
		r->deny = how[k];
	}
	return 0;
}

/* default-deny SCOPE: replies to allowed connections and ICMPv6 (neighbour discovery,
 * path MTU: RFC 4890 4.3) first, the allow rules, then a drop (or the two rejects) per
 * interface and direction. */
static int push_deny(struct rule_list *l, const struct policy *p, unsigned hook, bool head)
{
	if (p->n_deny_ifaces == 0)
		return 0;
	if (head)
		return rule_push(l, NK_RULE_ESTABLISHED, "default-deny: replies to allowed connections") &&
				       rule_push(l, NK_RULE_NEIGHBOUR, "default-deny: ICMPv6 (RFC 4890)")
			       ? 0
			       : -1;
	for (int dir = 0; dir < 2; dir++) {
		bool iif = dir == 0;
		if ((iif && hook == NF_INET_LOCAL_OUT) || (!iif && hook == NF_INET_LOCAL_IN))
			continue;
		for (size_t i = 0; i < p->n_deny_ifaces; i++)
			if (push_deny_iface(l, p, i, iif) < 0)
				return -1;
	}
	return 0;
}

static size_t chain_capacity(const struct policy *p)
{
	size_t n = 2 + 4 * p->n_deny_ifaces;
	for (size_t i = 0; i < p->n_rules; i++)
		n += 4;	/* at most one rule per kernel set of the rule's set */
	return n;
}

static int want_chain(const struct policy *p, struct nk_ruleset *rs, const char *name, unsigned hook)
{
	struct rule_list l = { .rs = rs, .cap = chain_capacity(p) };
	size_t n_allow = 0;
	for (size_t i = 0; i < p->n_rules; i++)
		n_allow += rule_in_hook(&p->rules[i], hook);
	if (n_allow == 0 && p->n_deny_ifaces == 0)
		return 0;	/* no chain: nothing to say at this hook */
	if (!(l.v = calloc(l.cap, sizeof(*l.v))))
		return -1;
	struct nk_chain *c = &rs->chains[rs->n_chains++];
	*c = (struct nk_chain){ .name = name, .type = "filter", .hooknum = hook, .priority = p->priority,
				.policy = NF_ACCEPT, .base = true, .rules = l.v };
	int err = push_deny(&l, p, hook, true);
	for (size_t i = 0; i < p->n_rules && !err; i++)
		if (rule_in_hook(&p->rules[i], hook))
			err = push_allow(&l, &p->rules[i]);
	err = err ? err : push_deny(&l, p, hook, false);
	c->n_rules = l.n;
	for (size_t i = 0; i < l.n; i++)
		l.v[i].fingerprint = nk_rule_fingerprint(&l.v[i]);
	return err;
}

static int from_policy(const struct policy *p, struct nk_ruleset *out, bool sets)
{
	memset(out, 0, sizeof(*out));
	out->family = NFPROTO_INET;
	out->table = p->table;
	out->mode = p->mode == POLICY_MODE_SETS_ONLY ? NK_MODE_SETS_ONLY : NK_MODE_TABLE;
	out->table_exists = true;
	int err = sets ? want_sets(p, out) : 0;
	if (!err && out->mode == NK_MODE_TABLE) {
		out->chains = calloc(3, sizeof(*out->chains));
		err = !out->chains || want_chain(p, out, "input", NF_INET_LOCAL_IN) ||
		      want_chain(p, out, "forward", NF_INET_FORWARD) || want_chain(p, out, "output", NF_INET_LOCAL_OUT);
	}
	if (err) {
		nk_ruleset_free(out);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int nk_ruleset_from_policy(const struct policy *p, struct nk_ruleset *out)
{
	return from_policy(p, out, true);
}

int nk_ruleset_chains(const struct policy *p, struct nk_ruleset *out)
{
	return from_policy(p, out, false);
}

/* ---- sources for people ---- */

static int attribute_set(struct nk_ruleset *live, struct nk_set *set, const struct nk_set *was)
{
	char buf[NK_COMMENT_MAX];
	size_t i = 0, j = 0;
	while (i < was->n_elems && j < set->n_elems) {
		int c = nk_prefix_cmp(&was->elems[i].prefix, &set->elems[j].prefix);
		if (c == 0) {
			ir_prefix_sources(was->origin, was->elems[i].origin, buf, sizeof(buf));
			if (!(set->elems[j].comment = arena_strdup(&live->arena, buf)))
				return -1;
		}
		i += c <= 0;
		j += c >= 0;
	}
	return 0;
}

int nk_ruleset_attribute(struct nk_ruleset *live, const struct policy *applied)
{
	struct nk_ruleset was;
	int ret = 0;
	if (nk_ruleset_from_policy(applied, &was) < 0)
		return -1;
	for (size_t i = 0; i < live->n_sets && ret == 0; i++) {
		struct nk_set *set = &live->sets[i];
		const struct nk_set *w = nk_ruleset_find_set(&was, set->name);
		if (w && !set->foreign && set->elems_known && w->kind <= KSET_V6)
			ret = attribute_set(live, set, w);
	}
	nk_ruleset_free(&was);
	if (ret < 0)
		errno = ENOMEM;
	return ret;
}
