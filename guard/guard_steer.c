/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_steer.c — the guard chains, built with libnftnl into guard_sets' batches. The rule
 * shapes are listed in guard_steer.h. */
#include "guard_steer.h"
#include "kernel_names.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const uint32_t chain_hooks[NK_GUARD_CHAINS] = { NF_INET_LOCAL_IN, NF_INET_FORWARD, NF_INET_LOCAL_OUT };

const char *steer_queue_name(enum steer_queue q)
{
	static const char *const names[] = { "auto", "nft", "xt" };
	return q <= STEER_QUEUE_XT ? names[q] : "?";
}

/* ---- expressions ---- */

static void add(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (e)
		nftnl_rule_add_expr(r, e);
}

static void cmp_eq(struct nftnl_rule *r, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	add(r, e);
}

static void meta_load(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	add(r, e);
}

static void match_nfproto(struct nftnl_rule *r, uint8_t nfproto)
{
	meta_load(r, NFT_META_NFPROTO);
	cmp_eq(r, &nfproto, 1);
}

static void match_l4proto(struct nftnl_rule *r, uint8_t proto)
{
	meta_load(r, NFT_META_L4PROTO);
	cmp_eq(r, &proto, 1);
}

static void payload_load(struct nftnl_rule *r, uint32_t base, uint32_t offset, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	add(r, e);
}

/* l4proto proto and the source (sport) or destination port. */
static void match_port(struct nftnl_rule *r, uint8_t proto, bool sport, uint16_t port)
{
	uint16_t be = htons(port);
	match_l4proto(r, proto);
	payload_load(r, NFT_PAYLOAD_TRANSPORT_HEADER, sport ? 0 : 2, 2);
	cmp_eq(r, &be, 2);
}

/* ip daddr @set or ip6 daddr @set. */
static void match_daddr_in(struct nftnl_rule *r, bool v6, const char *set)
{
	match_nfproto(r, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
	payload_load(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 24 : 16, v6 ? 16 : 4);
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	add(r, e);
}

/* ip saddr/daddr R or ip6 saddr/daddr R. */
static void match_resolver(struct nftnl_rule *r, const struct steer_resolver *res, bool source)
{
	uint8_t key[16];
	bool v6 = res->family == FAMILY_V6;
	uint32_t len = (uint32_t)gset_addr_key(res->family, res->addr, key);
	match_nfproto(r, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
	payload_load(r, NFT_PAYLOAD_NETWORK_HEADER, (v6 ? 8 : 12) + (source ? 0 : len), len);
	cmp_eq(r, key, len);
}

/* fib saddr . iif oif != 0: the packet came in on the interface the route back to its
 * source leaves by (strict reverse path). Input and forward only. */
static void match_reverse_path(struct nftnl_rule *r)
{
	uint32_t zero = 0;
	struct nftnl_expr *e = nftnl_expr_alloc("fib");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_SADDR | NFTA_FIB_F_IIF);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_OIF);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	add(r, e);
	if (!(e = nftnl_expr_alloc("cmp")))
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_NEQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &zero, 4);
	add(r, e);
}

/* reg1 = (reg1 & mask) ^ xor, 4 bytes. */
static void bitwise(struct nftnl_rule *r, uint32_t mask, uint32_t xor)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &xor, 4);
	add(r, e);
}

/* Marks are host-endian 32-bit values in registers. */
static void ct_mark_load(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	add(r, e);
}

static void match_ct_mark(struct nftnl_rule *r, uint32_t value)
{
	ct_mark_load(r);
	bitwise(r, STEER_MARK_MASK, 0);
	cmp_eq(r, &value, 4);
}

static void match_meta_mark(struct nftnl_rule *r, uint32_t value)
{
	meta_load(r, NFT_META_MARK);
	bitwise(r, STEER_MARK_MASK, 0);
	cmp_eq(r, &value, 4);
}

/* ct mark set ct mark & ~MASK | value; meta mark set meta mark & ~MASK. */
static void mark_to_conntrack(struct nftnl_rule *r, uint32_t value)
{
	ct_mark_load(r);
	bitwise(r, ~STEER_MARK_MASK, value);
	struct nftnl_expr *e = nftnl_expr_alloc("ct");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, NFT_REG_1);
		add(r, e);
	}
	meta_load(r, NFT_META_MARK);
	bitwise(r, ~STEER_MARK_MASK, 0);
	if ((e = nftnl_expr_alloc("meta"))) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_MARK);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
		add(r, e);
	}
}

static void counter(struct nftnl_rule *r)
{
	add(r, nftnl_expr_alloc("counter"));
}

static void verdict(struct nftnl_rule *r, int v)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)v);
	add(r, e);
}

static void reject(struct nftnl_rule *r, bool tcp_reset)
{
	struct nftnl_expr *e = nftnl_expr_alloc("reject");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, tcp_reset ? NFT_REJECT_TCP_RST : NFT_REJECT_ICMPX_UNREACH);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, tcp_reset ? 0 : NFT_REJECT_ICMPX_PORT_UNREACH);
	add(r, e);
}

/* tcp flags & rst == rst */
static void match_tcp_rst(struct nftnl_rule *r)
{
	uint8_t rst = 0x04;
	match_l4proto(r, IPPROTO_TCP);
	payload_load(r, NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1);
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
	if (e) {
		uint8_t zero = 0;
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 1);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &rst, 1);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, 1);
		add(r, e);
	}
	cmp_eq(r, &rst, 1);
}

/* ct direction reply */
static void match_reply(struct nftnl_rule *r)
{
	uint8_t reply = 1;	/* IP_CT_DIR_REPLY */
	struct nftnl_expr *e = nftnl_expr_alloc("ct");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_DIRECTION);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	add(r, e);
	cmp_eq(r, &reply, 1);
}

/* tcp flags set rst,ack: bytes 12-13 of the TCP header (data offset kept), the checksum
 * at byte 16 updated, as nft encodes it. */
static void set_tcp_rst(struct nftnl_rule *r)
{
	uint8_t mask[2] = { 0xff, 0x00 }, xor[2] = { 0x00, 0x14 };
	payload_load(r, NFT_PAYLOAD_TRANSPORT_HEADER, 12, 2);
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 2);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, 2);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor, 2);
		add(r, e);
	}
	if (!(e = nftnl_expr_alloc("payload")))
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 12);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_CSUM_TYPE, NFT_PAYLOAD_CSUM_INET);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_CSUM_OFFSET, 16);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_FLAGS, 0);
	add(r, e);
}

static void deny(struct nftnl_rule *r, const struct steer_config *c)
{
	if (c->deny_reset) {
		match_l4proto(r, IPPROTO_TCP);
		reject(r, true);
	} else {
		verdict(r, NF_DROP);
	}
}

static void queue(struct nftnl_rule *r, const struct steer_config *c, uint16_t num)
{
	struct nftnl_expr *e;
	if (c->queue == STEER_QUEUE_NFT) {
		if (!(e = nftnl_expr_alloc("queue")))
			return;
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_NUM, num);
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_TOTAL, 1);
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS, c->bypass ? NFT_QUEUE_FLAG_BYPASS : 0);
		add(r, e);
		return;
	}
	/* xt_NFQUEUE revision 3, through nft_compat: the target's own info struct. libnftnl
	 * takes the info buffer over (it frees it with the expression). */
	struct xt_NFQ_info_v3 *info = calloc(1, sizeof(*info));
	if (!info || !(e = nftnl_expr_alloc("target"))) {
		free(info);
		return;
	}
	*info = (struct xt_NFQ_info_v3){ .queuenum = num, .queues_total = 1, .flags = c->bypass ? NFQ_FLAG_BYPASS : 0 };
	nftnl_expr_set_str(e, NFTNL_EXPR_TG_NAME, "NFQUEUE");
	nftnl_expr_set_u32(e, NFTNL_EXPR_TG_REV, 3);
	nftnl_expr_set(e, NFTNL_EXPR_TG_INFO, info, sizeof(*info));
	add(r, e);
}

static void log_group(struct nftnl_rule *r, uint16_t group)
{
	struct nftnl_expr *e = nftnl_expr_alloc("log");
	if (!e)
		return;
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, group);
	add(r, e);
}

/* ---- rules and chains ---- */

enum rule_shape {
	RULE_CT_RST,		/* ct mark DENY tcp flags rst accept: the resets the deny sends */
	RULE_CT_REPLY_RST,	/* ct mark DENY ct direction reply: becomes a reset to the client */
	RULE_CT_ALLOW,		/* ct mark ALLOW accept */
	RULE_CT_DENY,		/* ct mark DENY reject/drop */
	RULE_VERDICT_ALLOW,	/* meta mark ALLOW: to conntrack, accept */
	RULE_VERDICT_DENY,	/* meta mark DENY: to conntrack, reject/drop */
	RULE_VERDICT_DENY_FIN,	/* meta mark DENY: to conntrack, accept the FIN the guard made */
	RULE_DNS_UDP,		/* [ip saddr R, reverse path] udp sport 53 queue/log */
	RULE_DNS_TCP,		/* [ip saddr R, reverse path] tcp sport 53 queue/log */
	RULE_TLS,		/* daddr @set tcp dport 443 queue */
	RULE_QUIC,		/* daddr @set udp dport 443 reject */
	RULE_QUERY_UDP,		/* [ip daddr R] udp dport 53 log */
	RULE_QUERY_TCP,		/* [ip daddr R] tcp dport 53 log */
};

static const char *const rule_comments[] = {
	"pinhole guard: resets of denied connections pass",
	"pinhole guard: the server's answer to the FIN of a denied connection resets the client",
	"pinhole guard: TLS server name allowed",
	"pinhole guard: TLS server name denied",
	"pinhole guard: verdict allow, remembered in the conntrack mark",
	"pinhole guard: verdict deny, remembered in the conntrack mark",
	"pinhole guard: verdict deny, the server gets a FIN in place of the ClientHello",
	"pinhole guard: DNS answers from the resolvers (udp)",
	"pinhole guard: DNS answers from the resolvers (tcp)",
	"pinhole guard: TLS ClientHello towards learnt addresses",
	"pinhole guard: QUIC towards learnt addresses (browsers fall back to TCP)",
	"pinhole guard: DNS queries to the resolvers (udp)",
	"pinhole guard: DNS queries to the resolvers (tcp)",
};

/* A DNS answer (from res, or from this host when res is NULL): queued, or logged in passive
 * mode; a DNS query (to res, or to this host): logged. */
static void dns_rule(struct nftnl_rule *r, enum rule_shape shape, const struct steer_config *c,
		     const struct steer_resolver *res)
{
	bool answer = shape == RULE_DNS_UDP || shape == RULE_DNS_TCP;
	bool udp = shape == RULE_DNS_UDP || shape == RULE_QUERY_UDP;
	if (res)
		match_resolver(r, res, answer);
	if (res && answer)
		match_reverse_path(r);
	match_port(r, udp ? IPPROTO_UDP : IPPROTO_TCP, answer, 53);
	counter(r);
	if (answer && !c->passive)
		queue(r, c, c->dns_queue);
	else
		log_group(r, c->log_group);
}

static void rule_exprs(struct nftnl_rule *r, enum rule_shape shape, const struct steer_config *c, const char *set,
		       const struct steer_resolver *res)
{
	bool v6 = set && strstr(set, "_dns_v6");
	switch (shape) {
	/* The reset that the deny rules' reject sends to the client carries the denied
	 * connection (conntrack attaches it), so it meets guard_output's deny rule on its way
	 * out: without this rule that drop would eat it and the client would wait for a
	 * timeout. Letting resets of a denied connection pass opens nothing: a reset ends it. */
	case RULE_CT_RST: match_ct_mark(r, STEER_MARK_DENY); match_tcp_rst(r); counter(r); verdict(r, NF_ACCEPT); break;
	/* A denied connection through the gateway: the guard sent the server a FIN in place of
	 * the ClientHello (so the server's end closes); the server's answer becomes the
	 * client's reset, so both ends learn within a round trip (pinhole(8), GUARD). */
	case RULE_CT_REPLY_RST:
		match_ct_mark(r, STEER_MARK_DENY);
		match_reply(r);
		match_l4proto(r, IPPROTO_TCP);
		set_tcp_rst(r);
		counter(r);
		verdict(r, NF_ACCEPT);
		break;
	case RULE_CT_ALLOW: match_ct_mark(r, STEER_MARK_ALLOW); counter(r); verdict(r, NF_ACCEPT); break;
	case RULE_CT_DENY: match_ct_mark(r, STEER_MARK_DENY); counter(r); deny(r, c); break;
	case RULE_VERDICT_ALLOW:
		match_meta_mark(r, STEER_MARK_ALLOW);
		mark_to_conntrack(r, STEER_MARK_ALLOW);
		counter(r);
		verdict(r, NF_ACCEPT);
		break;
	case RULE_VERDICT_DENY:
		match_meta_mark(r, STEER_MARK_DENY);
		mark_to_conntrack(r, STEER_MARK_DENY);
		counter(r);
		deny(r, c);
		break;
	case RULE_VERDICT_DENY_FIN:
		match_meta_mark(r, STEER_MARK_DENY);
		mark_to_conntrack(r, STEER_MARK_DENY);
		counter(r);
		verdict(r, NF_ACCEPT);
		break;
	case RULE_DNS_UDP:
	case RULE_DNS_TCP:
	case RULE_QUERY_UDP:
	case RULE_QUERY_TCP:
		dns_rule(r, shape, c, res);
		break;
	case RULE_TLS:
	case RULE_QUIC:
		match_daddr_in(r, v6, set);
		match_port(r, shape == RULE_TLS ? IPPROTO_TCP : IPPROTO_UDP, false, 443);
		counter(r);
		if (shape == RULE_TLS)
			queue(r, c, c->tls_queue);
		else
			reject(r, false);
		break;
	}
}

static void rule_comment(struct nftnl_rule *r, const char *text)
{
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	if (!ud)
		return;
	if (nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, text))
		nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
}

static void put_rule(struct gnl *g, const struct steer_config *c, const char *chain, enum rule_shape shape,
		     const char *set, const struct steer_resolver *res)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh = gnl_batch_msg(g, NFT_MSG_NEWRULE, NFPROTO_INET, NLM_F_CREATE | NLM_F_APPEND);
	if (r && nlh) {
		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, c->table);
		nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
		rule_exprs(r, shape, c, set, res);
		rule_comment(r, rule_comments[shape]);
		nftnl_rule_nlmsg_build_payload(nlh, r);
		gnl_batch_close(g, nlh);
	}
	nftnl_rule_free(r);
}

static void put_chain(struct gnl *g, const char *table, size_t i, int32_t priority, bool add)
{
	struct nftnl_chain *ch = nftnl_chain_alloc();
	struct nlmsghdr *nlh = gnl_batch_msg(g, add ? NFT_MSG_NEWCHAIN : NFT_MSG_DELCHAIN, NFPROTO_INET,
					     add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	if (ch && nlh) {
		nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, table);
		nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, nk_guard_chain_names[i]);
		if (add) {
			nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, chain_hooks[i]);
			nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, priority);
			nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, "filter");
			nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, NF_ACCEPT);
		}
		nftnl_chain_nlmsg_build_payload(nlh, ch);
		gnl_batch_close(g, nlh);
	}
	nftnl_chain_free(ch);
}

/* Which DNS rules chain i holds (guard_steer.h): answers from each resolver into input and
 * forward, queries to it from forward and output; for a resolver on this host, queries
 * into input and answers from output. */
static bool dns_answers_in(size_t i)
{
	return i != 2;
}

static bool dns_queries_out(size_t i)
{
	return i != 0;
}

static bool dns_local(const struct steer_config *c, size_t i)
{
	return c->local_resolver && i != 1;
}

static void put_dns_rules(struct gnl *g, const struct steer_config *c, size_t i)
{
	const char *chain = nk_guard_chain_names[i];
	for (size_t k = 0; k < c->n_resolvers; k++) {
		for (enum rule_shape s = RULE_DNS_UDP; dns_answers_in(i) && s <= RULE_DNS_TCP; s++)
			put_rule(g, c, chain, s, NULL, &c->resolvers[k]);
		for (enum rule_shape s = RULE_QUERY_UDP; dns_queries_out(i) && s <= RULE_QUERY_TCP; s++)
			put_rule(g, c, chain, s, NULL, &c->resolvers[k]);
	}
	if (!dns_local(c, i))
		return;
	put_rule(g, c, chain, i == 0 ? RULE_QUERY_UDP : RULE_DNS_UDP, NULL, NULL);
	put_rule(g, c, chain, i == 0 ? RULE_QUERY_TCP : RULE_DNS_TCP, NULL, NULL);
}

size_t steer_rule_count(const struct steer_config *c, size_t chain)
{
	bool tls = chain != 0 && !c->passive;
	size_t n = c->n_resolvers * (2 * dns_answers_in(chain) + 2 * dns_queries_out(chain)) + 2 * dns_local(c, chain);
	if (tls)
		n += 5 + (chain == 1 && c->deny_reset) + c->n_tls_sets;
	if (chain != 0)
		n += c->n_tls_sets;	/* QUIC */
	return n;
}

/* The rules of chain i (input: DNS only); steer_rule_count counts them. */
static void put_chain_rules(struct gnl *g, const struct steer_config *c, size_t i)
{
	const char *chain = nk_guard_chain_names[i];
	bool tls = i != 0 && !c->passive;
	/* forward, with resets: the guard replaces a denied ClientHello with a FIN (guard_round.c) */
	bool fin = i == 1 && c->deny_reset;
	for (enum rule_shape s = RULE_CT_RST; tls && s <= RULE_VERDICT_DENY; s++)
		if (s != RULE_CT_REPLY_RST || fin)
			put_rule(g, c, chain, s == RULE_VERDICT_DENY && fin ? RULE_VERDICT_DENY_FIN : s, NULL, NULL);
	put_dns_rules(g, c, i);
	for (size_t k = 0; i != 0 && k < c->n_tls_sets; k++) {
		if (tls)
			put_rule(g, c, chain, RULE_TLS, c->tls_sets[k], NULL);
		put_rule(g, c, chain, RULE_QUIC, c->tls_sets[k], NULL);
	}
}

/* Deletes the guard chains that exist (DELCHAIN takes their rules with them). Returns -1
 * when the kernel could not be asked. */
static int put_deletes(struct gnl *g, const char *table)
{
	for (size_t i = 0; i < NK_GUARD_CHAINS; i++) {
		int has = gnl_chain_exists(g, table, nk_guard_chain_names[i]);
		if (has < 0)
			return -1;
		if (has)
			put_chain(g, table, i, 0, false);
	}
	return 0;
}

int steer_probe_queue(struct gnl *g, enum steer_queue *out)
{
	char table[64];
	struct gnl_error e;
	struct steer_config c = { .table = table, .queue = STEER_QUEUE_NFT };
	snprintf(table, sizeof(table), "pinhole_probe_%ld", (long)getpid());
	for (int q = STEER_QUEUE_NFT; q <= STEER_QUEUE_XT; q++) {
		c.queue = (enum steer_queue)q;
		gnl_batch_start(g);
		struct nlmsghdr *nlh = gnl_batch_msg(g, NFT_MSG_NEWTABLE, NFPROTO_INET, NLM_F_CREATE);
		if (nlh) {
			mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, table);
			gnl_batch_close(g, nlh);
		}
		put_chain(g, table, 0, 0, true);
		put_rule(g, &c, nk_guard_chain_names[0], RULE_DNS_UDP, NULL, NULL);
		if (gnl_batch_check(g, &e) == 0) {
			*out = c.queue;
			return 0;
		}
	}
	errno = e.err;
	return -1;
}

int steer_install(struct gnl *g, struct steer_config *c, struct gnl_error *e)
{
	*e = (struct gnl_error){ 0 };
	if (c->queue == STEER_QUEUE_AUTO && !c->passive && steer_probe_queue(g, &c->queue) < 0) {
		e->err = errno;
		return -1;
	}
	gnl_batch_start(g);
	if (put_deletes(g, c->table) < 0) {
		e->err = errno;
		return -1;
	}
	for (size_t i = 0; i < NK_GUARD_CHAINS; i++) {
		put_chain(g, c->table, i, c->priority, true);
		put_chain_rules(g, c, i);
	}
	return gnl_batch_commit(g, e);
}

int steer_remove(struct gnl *g, const char *table, struct gnl_error *e)
{
	*e = (struct gnl_error){ 0 };
	gnl_batch_start(g);
	if (put_deletes(g, table) < 0) {
		e->err = errno;
		return -1;
	}
	return gnl_batch_commit(g, e);
}

int steer_present(struct gnl *g, const char *table, const size_t want[3])
{
	for (size_t i = 0; i < NK_GUARD_CHAINS; i++) {
		int has = gnl_chain_exists(g, table, nk_guard_chain_names[i]);
		if (has <= 0)
			return has;
		/* A rule deleted by hand leaves the chain with fewer rules than were installed. */
		long n = gnl_chain_rules(g, table, nk_guard_chain_names[i]);
		if (n < 0)
			return -1;
		if (want && (size_t)n != want[i])
			return 0;
	}
	return 1;
}
