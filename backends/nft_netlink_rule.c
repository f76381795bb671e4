/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nft_netlink_rule.c — pinhole's rules as nf_tables expressions, encoded as nft 1.0 does so
 * that `nft list` prints them exactly as nft_text writes them; and the rules' text, whose
 * hash is the fingerprint the delta compares. */
#include "nft_netlink_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* nft datatype ids (nftables include/datatype.h), kept in set userdata and keys */
#define NFT_TYPE_INET_SERVICE 13
/* conntrack state bits: NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED) */
#define CT_STATE_ESTABLISHED_RELATED 0x6
#define IFNAME_SIZE 16

/* ---- text ---- */

static size_t append(char *buf, size_t size, size_t n, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static size_t append(char *buf, size_t size, size_t n, const char *fmt, ...)
{
	if (n >= size)
		return n;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(buf + n, size - n, fmt, ap);
	va_end(ap);
	return k < 0 ? n : n + (size_t)k;
}

static size_t format_l4(const struct ir_rule *r, char *buf, size_t size, size_t n)
{
	const char *proto = r->proto == PROTO_TCP ? "tcp" : "udp";
	if (r->proto == PROTO_ANY)
		return n;
	if (r->n_ports == 0)
		return append(buf, size, n, " meta l4proto %s", proto);
	n = append(buf, size, n, " %s dport %s", proto, r->n_ports > 1 ? "{ " : "");
	for (size_t i = 0; i < r->n_ports; i++) {
		n = append(buf, size, n, "%s%u", i ? ", " : "", r->ports[i].lo);
		if (r->ports[i].hi != r->ports[i].lo)
			n = append(buf, size, n, "-%u", r->ports[i].hi);
	}
	return append(buf, size, n, "%s", r->n_ports > 1 ? " }" : "");
}

static size_t format_allow(const struct nk_rule *r, char *buf, size_t size)
{
	char name[KSET_NAME_MAX];
	bool v4 = r->kset == KSET_V4 || r->kset == KSET_DNS_V4;
	kset_name(name, r->origin->set, r->kset);
	bool out = r->origin->dir == DIR_OUT;
	size_t n = append(buf, size, 0, "%s %s @%s", v4 ? "ip" : "ip6", out ? "daddr" : "saddr", name);
	if (r->origin->scope) {
		kset_name(name, r->origin->scope, rule_scope_kset(r->kset));
		n = append(buf, size, n, " %s %s @%s", v4 ? "ip" : "ip6", out ? "saddr" : "daddr", name);
	}
	n = format_l4(r->origin, buf, size, n);
	return append(buf, size, n, " counter accept");
}

static size_t format_deny(const struct nk_rule *r, char *buf, size_t size)
{
	static const char *const action[] = { [NK_DENY_DROP] = "counter drop",
					       [NK_DENY_TCP_RESET] = "meta l4proto tcp counter reject with tcp reset",
					       [NK_DENY_ICMPX] = "counter reject with icmpx admin-prohibited" };
	return append(buf, size, 0, "%s \"%s\" %s", r->what == NK_RULE_DENY_IIF ? "iifname" : "oifname", r->ifname,
		      action[r->deny]);
}

size_t nk_rule_format(const struct nk_rule *r, char *buf, size_t size)
{
	size_t n = 0;
	switch (r->what) {
	case NK_RULE_ALLOW: n = format_allow(r, buf, size); break;
	case NK_RULE_ESTABLISHED: n = append(buf, size, 0, "ct state established,related accept"); break;
	case NK_RULE_NEIGHBOUR: n = append(buf, size, 0, "meta l4proto ipv6-icmp accept"); break;
	case NK_RULE_DENY_IIF:
	case NK_RULE_DENY_OIF: n = format_deny(r, buf, size); break;
	}
	if (r->comment)
		n = append(buf, size, n, " comment \"%s\"", r->comment);
	if (size)
		buf[n < size ? n : size - 1] = '\0';
	return n < size ? n : size ? size - 1 : 0;
}

/* Bump when the encoding below changes, so rules written by an older pinhole are rewritten. */
#define RULE_ENCODING_VERSION 1

uint64_t nk_rule_fingerprint(const struct nk_rule *r)
{
	char text[1024];
	size_t n = nk_rule_format(r, text, sizeof(text));
	return nk_hash(text, n, RULE_ENCODING_VERSION);
}

/* ---- expressions ---- */

/* Each add_* appends one expression and returns 0, or -1 on ENOMEM. */
static int add_expr(struct nftnl_rule *nr, struct nftnl_expr *e)
{
	if (!e)
		return -1;
	nftnl_rule_add_expr(nr, e);
	return 0;
}

static int add_meta(struct nftnl_rule *nr, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	return add_expr(nr, e);
}

static int add_cmp(struct nftnl_rule *nr, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return add_expr(nr, e);
}

static int add_payload(struct nftnl_rule *nr, uint32_t base, uint32_t offset, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	}
	return add_expr(nr, e);
}

static int add_lookup(struct nftnl_rule *nr, const char *set, uint32_t set_id)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
		if (set_id)	/* a set made in the same batch has no handle yet */
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
	}
	return add_expr(nr, e);
}

static int add_counter_verdict(struct nftnl_rule *nr, bool counter, uint32_t verdict)
{
	if (counter && add_expr(nr, nftnl_expr_alloc("counter")) < 0)
		return -1;
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdict);
	}
	return add_expr(nr, e);
}

static int add_l4proto(struct nftnl_rule *nr, uint8_t proto)
{
	return add_meta(nr, NFT_META_L4PROTO) || add_cmp(nr, NFT_CMP_EQ, &proto, 1) ? -1 : 0;
}

/* tcp/udp dport: one port is a cmp, one range two cmps (as nft 1.0 encodes a range),
 * more an anonymous interval set that nl_msg_rule_add made before the rule. Expressions
 * run in order, so every chain of calls below is sequenced with ||. */
static int add_ports(struct nftnl_rule *nr, const struct ir_rule *r, const char *port_set, uint32_t port_set_id)
{
	if (add_l4proto(nr, r->proto == PROTO_TCP ? IPPROTO_TCP : IPPROTO_UDP))
		return -1;
	if (r->n_ports == 0)
		return 0;
	if (add_payload(nr, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2))
		return -1;
	uint16_t lo = htons(r->ports[0].lo), hi = htons(r->ports[0].hi);
	if (r->n_ports > 1)
		return add_lookup(nr, port_set, port_set_id);
	if (r->ports[0].lo == r->ports[0].hi)
		return add_cmp(nr, NFT_CMP_EQ, &lo, 2);
	return add_cmp(nr, NFT_CMP_GTE, &lo, 2) || add_cmp(nr, NFT_CMP_LTE, &hi, 2) ? -1 : 0;
}

static int build_allow(struct nftnl_rule *nr, const struct nk_rule *r, const char *port_set, uint32_t port_set_id,
		       const uint32_t set_id[2])
{
	bool v4 = r->kset == KSET_V4 || r->kset == KSET_DNS_V4;
	bool out = r->origin->dir == DIR_OUT;
	uint8_t nfproto = v4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
	char name[KSET_NAME_MAX];
	kset_name(name, r->origin->set, r->kset);
	/* saddr/daddr: IPv4 header bytes 12/16, IPv6 header bytes 8/24 */
	uint32_t offset = v4 ? (out ? 16 : 12) : (out ? 24 : 8);
	if (add_meta(nr, NFT_META_NFPROTO) || add_cmp(nr, NFT_CMP_EQ, &nfproto, 1) ||
	    add_payload(nr, NFT_PAYLOAD_NETWORK_HEADER, offset, v4 ? 4 : 16) || add_lookup(nr, name, set_id[0]))
		return -1;
	if (r->origin->scope) {	/* the other address of the header: the clients' or servers' set */
		kset_name(name, r->origin->scope, rule_scope_kset(r->kset));
		offset = v4 ? (out ? 12 : 16) : (out ? 8 : 24);
		if (add_payload(nr, NFT_PAYLOAD_NETWORK_HEADER, offset, v4 ? 4 : 16) || add_lookup(nr, name, set_id[1]))
			return -1;
	}
	if (r->origin->proto != PROTO_ANY && add_ports(nr, r->origin, port_set, port_set_id))
		return -1;
	return add_counter_verdict(nr, true, NF_ACCEPT);
}

static int build_established(struct nftnl_rule *nr)
{
	uint32_t mask = CT_STATE_ESTABLISHED_RELATED, zero = 0;
	struct nftnl_expr *ct = nftnl_expr_alloc("ct"), *bw = nftnl_expr_alloc("bitwise");
	if (ct) {
		nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
		nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	if (bw) {
		nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_LEN, sizeof(mask));
		nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof(mask));
		nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof(zero));
	}
	if (add_expr(nr, ct) || add_expr(nr, bw) || add_cmp(nr, NFT_CMP_NEQ, &zero, sizeof(zero)))
		return -1;
	return add_counter_verdict(nr, false, NF_ACCEPT);
}

/* reject with tcp reset / icmpx admin-prohibited: the inet family's reject, which answers
 * IPv4 with ICMP and IPv6 with ICMPv6 (code 13 and 1, RFC 1812 5.2.7.1, RFC 4443 3.1). */
static int add_reject(struct nftnl_rule *nr, enum nk_deny_action how)
{
	struct nftnl_expr *e = nftnl_expr_alloc("reject");
	if (e && how == NK_DENY_TCP_RESET) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_TCP_RST);
		nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, 0);
	} else if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMPX_UNREACH);
		nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, NFT_REJECT_ICMPX_ADMIN_PROHIBITED);
	}
	return add_expr(nr, e);
}

/* iifname/oifname: the kernel compares IFNAMSIZ bytes; "eth*" compares the prefix only. */
static int build_deny(struct nftnl_rule *nr, const struct nk_rule *r)
{
	char name[IFNAME_SIZE] = { 0 };
	size_t len = strnlen(r->ifname, IFNAME_SIZE - 1);
	memcpy(name, r->ifname, len);
	bool wildcard = len > 0 && name[len - 1] == '*';
	if (add_meta(nr, r->what == NK_RULE_DENY_IIF ? NFT_META_IIFNAME : NFT_META_OIFNAME) ||
	    add_cmp(nr, NFT_CMP_EQ, name, wildcard ? (uint32_t)len - 1 : IFNAME_SIZE))
		return -1;
	if (r->deny == NK_DENY_DROP)
		return add_counter_verdict(nr, true, NF_DROP);
	if (r->deny == NK_DENY_TCP_RESET && add_l4proto(nr, IPPROTO_TCP))
		return -1;
	return add_expr(nr, nftnl_expr_alloc("counter")) || add_reject(nr, r->deny) ? -1 : 0;
}

int nk_rule_build(struct nftnl_rule *nr, const struct nk_rule *r, const char *port_set, uint32_t port_set_id,
		  const uint32_t set_id[2])
{
	switch (r->what) {
	case NK_RULE_ALLOW: return build_allow(nr, r, port_set, port_set_id, set_id);
	case NK_RULE_ESTABLISHED: return build_established(nr);
	case NK_RULE_NEIGHBOUR:
		return add_l4proto(nr, IPPROTO_ICMPV6) || add_counter_verdict(nr, false, NF_ACCEPT) ? -1 : 0;
	case NK_RULE_DENY_IIF:
	case NK_RULE_DENY_OIF: return build_deny(nr, r);
	}
	return -1;
}

/* ---- messages ---- */

static uint32_t set_id_of(const struct nl_set_ids *ids, const char *name)
{
	for (size_t i = 0; ids && i < ids->n; i++)
		if (!strcmp(ids->names[i], name))
			return ids->ids[i];
	return 0;
}

static void put_port_elem(struct nlmsghdr *nlh, uint16_t port, bool end, bool open)
{
	uint16_t key = htons(port);
	struct nlattr *el = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	if (end)
		mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS, htonl(NFT_SET_ELEM_INTERVAL_END));
	struct nlattr *k = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, sizeof(key), &key);
	mnl_attr_nest_end(nlh, k);
	if (open) {	/* NFTNL_UDATA_SET_ELEM_FLAGS = INTERVAL_OPEN, as nft writes a range up to 65535 */
		uint32_t flags = NFTNL_SET_ELEM_F_INTERVAL_OPEN;
		unsigned char ud[2 + sizeof(flags)] = { 1, sizeof(flags) };
		memcpy(ud + 2, &flags, sizeof(flags));
		mnl_attr_put(nlh, NFTA_SET_ELEM_USERDATA, sizeof(ud), ud);
	}
	mnl_attr_nest_end(nlh, el);
}

/* The anonymous set of a port list, as nft makes it: flags anonymous|constant|interval, a
 * leading interval-end element at 0 when the first range does not start there, each range
 * as start and end+1 (open when it reaches 65535). A rule holds at most 64 Ki ports. */
static void port_set_elems(struct nl_batch *b, const struct nk_ruleset *rs, const struct ir_rule *r, uint32_t id)
{
	struct nlmsghdr *nlh = nl_batch_open(b, NFT_MSG_NEWSETELEM, rs->family, NLM_F_CREATE | NLM_F_EXCL);
	if (!nlh)
		return;
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, rs->table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, "__set%d");
	mnl_attr_put_u32(nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(id));
	struct nlattr *list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	if (r->ports[0].lo != 0)
		put_port_elem(nlh, 0, true, false);
	for (size_t i = 0; i < r->n_ports && i < 4096; i++) {
		bool open = r->ports[i].hi == 65535;
		put_port_elem(nlh, r->ports[i].lo, false, open);
		if (!open)
			put_port_elem(nlh, (uint16_t)(r->ports[i].hi + 1), true, false);
	}
	mnl_attr_nest_end(nlh, list);
	nl_batch_close(b, nlh);
}

static uint32_t port_set_add(struct nl_batch *b, const struct nk_ruleset *rs, const struct ir_rule *r)
{
	struct nftnl_set *ns = nftnl_set_alloc();
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(64);
	struct nlmsghdr *nlh = ns && ud ? nl_batch_open(b, NFT_MSG_NEWSET, rs->family, NLM_F_CREATE | NLM_F_EXCL) : NULL;
	uint32_t id = b->set_id_next++;
	if (nlh) {
		nftnl_set_set_str(ns, NFTNL_SET_TABLE, rs->table);
		nftnl_set_set_str(ns, NFTNL_SET_NAME, "__set%d");	/* the kernel numbers it */
		nftnl_set_set_u32(ns, NFTNL_SET_FLAGS, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_INTERVAL);
		nftnl_set_set_u32(ns, NFTNL_SET_KEY_TYPE, NFT_TYPE_INET_SERVICE);
		nftnl_set_set_u32(ns, NFTNL_SET_KEY_LEN, 2);
		nftnl_set_set_u32(ns, NFTNL_SET_ID, id);
		nftnl_set_set_u32(ns, NFTNL_SET_DESC_SIZE, (uint32_t)(1 + 2 * r->n_ports));
		nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, 2 /* big endian */);
		nftnl_set_set_data(ns, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
		nftnl_set_nlmsg_build_payload(nlh, ns);
		nl_batch_close(b, nlh);
		port_set_elems(b, rs, r, id);
	} else if (!b->failed) {
		b->failed = true;
		b->error = ENOMEM;
	}
	nftnl_udata_buf_free(ud);
	nftnl_set_free(ns);
	return id;
}

static int rule_udata(struct nftnl_rule *nr, const struct nk_rule *r)
{
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	uint64_t fp = nk_rule_fingerprint(r);
	if (!ud)
		return -1;
	bool ok = (!r->comment || nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, r->comment)) &&
		  nftnl_udata_put(ud, NK_UDATA_RULE_FINGERPRINT, sizeof(fp), &fp);
	if (ok)
		nftnl_rule_set_data(nr, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
	return ok ? 0 : -1;
}

static void record_rule(struct nl_origin *o, const struct nk_ruleset *rs, const struct nk_chain *c,
			const struct nk_rule *r)
{
	if (!o)
		return;
	o->table = rs->table;
	o->chain = c;
	o->rule = r;
}

void nl_msg_rule_add(struct nl_batch *b, const struct nk_ruleset *rs, const struct nk_chain *c,
		     const struct nk_rule *r, const struct nl_set_ids *ids)
{
	size_t first = b->n_origins;
	uint32_t port_set_id = 0, set_id[2] = { 0, 0 };
	if (r->what == NK_RULE_ALLOW && r->origin->n_ports > 1)
		port_set_id = port_set_add(b, rs, r->origin);
	if (r->what == NK_RULE_ALLOW) {
		char name[KSET_NAME_MAX];
		kset_name(name, r->origin->set, r->kset);
		set_id[0] = set_id_of(ids, name);
		if (r->origin->scope) {
			kset_name(name, r->origin->scope, rule_scope_kset(r->kset));
			set_id[1] = set_id_of(ids, name);
		}
	}
	struct nftnl_rule *nr = nftnl_rule_alloc();
	struct nlmsghdr *nlh = NULL;
	if (nr) {
		nftnl_rule_set_u32(nr, NFTNL_RULE_FAMILY, rs->family);
		nftnl_rule_set_str(nr, NFTNL_RULE_TABLE, rs->table);
		nftnl_rule_set_str(nr, NFTNL_RULE_CHAIN, c->name);
	}
	if (!nr || nk_rule_build(nr, r, "__set%d", port_set_id, set_id) < 0 || rule_udata(nr, r) < 0) {
		b->error = b->failed ? b->error : ENOMEM;
		b->failed = true;
	} else if ((nlh = nl_batch_open(b, NFT_MSG_NEWRULE, rs->family, NLM_F_CREATE | NLM_F_APPEND))) {
		nftnl_rule_nlmsg_build_payload(nlh, nr);
		nl_batch_close(b, nlh);
	}
	nftnl_rule_free(nr);
	for (size_t i = first; i < b->n_origins; i++)	/* the port set's messages too */
		record_rule(&b->origins[i], rs, c, r);
}

void nl_msg_rule_del(struct nl_batch *b, const struct nk_ruleset *rs, const struct nk_chain *c,
		     const struct nk_rule *r)
{
	struct nftnl_rule *nr = nftnl_rule_alloc();
	struct nlmsghdr *nlh = nr ? nl_batch_open(b, NFT_MSG_DELRULE, rs->family, 0) : NULL;
	if (!nr && !b->failed) {
		b->failed = true;
		b->error = ENOMEM;
	}
	if (nlh) {
		nftnl_rule_set_str(nr, NFTNL_RULE_TABLE, rs->table);
		nftnl_rule_set_str(nr, NFTNL_RULE_CHAIN, c->name);
		nftnl_rule_set_u64(nr, NFTNL_RULE_HANDLE, r->handle);
		nftnl_rule_nlmsg_build_payload(nlh, nr);
		record_rule(nl_batch_close(b, nlh), rs, c, r);
	}
	nftnl_rule_free(nr);
}
