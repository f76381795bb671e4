/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nft_netlink_elems.c — the elements of a live interval set, back into prefixes with their
 * comments. The kernel holds an interval as a start element and an end element (the first
 * address past it, flagged INTERVAL_END); an interval up to the top of the address space
 * has no end element. */
#include "nft_netlink_sock_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libnftnl/common.h>
#include <libnftnl/udata.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>

#define raw_elem nk_raw_elem

struct elem_ctx {
	struct nk_ruleset *rs;
	uint32_t key_len;
	struct raw_elem *v;
	size_t n, cap;
	int err;
};

static struct addr key_to_addr(const unsigned char *key, size_t len)
{
	struct addr a = { 0, 0 };
	for (size_t i = 0; i < len; i++) {
		a.hi = (a.hi << 8) | (a.lo >> 56);
		a.lo = (a.lo << 8) | key[i];
	}
	return a;
}

static const struct nlattr *nested_value(const struct nlattr *key)
{
	const struct nlattr *a;
	mnl_attr_for_each_nested(a, key)
		if (mnl_attr_get_type(a) == NFTA_DATA_VALUE)
			return a;
	return NULL;
}

static const char *udata_comment(struct elem_ctx *c, const struct nlattr *ud)
{
	const unsigned char *p = mnl_attr_get_payload(ud);
	size_t len = mnl_attr_get_payload_len(ud);
	for (size_t i = 0; i + 2 <= len && i + 2 + p[i + 1] <= len; i += 2 + p[i + 1]) {
		if (p[i] != 0 /* NFTNL_UDATA_SET_ELEM_COMMENT */ || p[i + 1] == 0 || p[i + 2 + p[i + 1] - 1] != '\0')
			continue;
		char *s = arena_strdup(&c->rs->arena, (const char *)p + i + 2);
		if (!s)
			c->err = ENOMEM;
		return s;
	}
	return NULL;
}

static int parse_elem(struct elem_ctx *c, const struct nlattr *e, struct raw_elem *out)
{
	const struct nlattr *a, *val = NULL;
	size_t klen = c->key_len;
	*out = (struct raw_elem){ 0 };
	mnl_attr_for_each_nested(a, e) {
		switch (mnl_attr_get_type(a)) {
		case NFTA_SET_ELEM_KEY: val = nested_value(a); break;
		case NFTA_SET_ELEM_FLAGS:
			if (mnl_attr_get_payload_len(a) == 4)
				out->end = ntohl(mnl_attr_get_u32(a)) & NFT_SET_ELEM_INTERVAL_END;
			break;
		case NFTA_SET_ELEM_USERDATA: out->comment = udata_comment(c, a); break;
		}
	}
	if (!val || mnl_attr_get_payload_len(val) != klen)
		return -1;
	out->key = key_to_addr(mnl_attr_get_payload(val), klen);
	return 0;
}

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	struct elem_ctx *c = data;
	const struct nlattr *a, *e;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(e, a) {
			if (c->n == c->cap) {
				size_t cap = c->cap ? 2 * c->cap : 1024;
				struct raw_elem *v = realloc(c->v, cap * sizeof(*v));
				if (!v) {
					c->err = ENOMEM;
					return MNL_CB_ERROR;
				}
				c->v = v;
				c->cap = cap;
			}
			if (parse_elem(c, e, &c->v[c->n]) == 0)
				c->n++;
		}
	}
	return c->err ? MNL_CB_ERROR : MNL_CB_OK;
}

/* Ascending keys; at one key the end of an interval before the start of the next. */
static int raw_cmp(const void *x, const void *y)
{
	const struct raw_elem *a = x, *b = y;
	int c = addr_cmp(a->key, b->key);
	return c ? c : (int)b->end - (int)a->end;
}

static bool elems_push(struct nk_set *s, size_t *cap, const struct nk_elem *e)
{
	if (s->n_elems == *cap) {
		size_t c = *cap ? 2 * *cap : 256;
		struct nk_elem *v = realloc(s->elems, c * sizeof(*v));
		if (!v)
			return false;
		s->elems = v;
		*cap = c;
	}
	s->elems[s->n_elems++] = *e;
	return true;
}

/* 2^host - 1 for host 0..128: the offset of the last address of an aligned block. */
static unsigned __int128 block_mask(unsigned host)
{
	return host >= 128 ? ~(unsigned __int128)0 : ((unsigned __int128)1 << host) - 1;
}

/* [lo, end) — or [lo, top] when open — as the prefixes that cover exactly it. One prefix
 * when pinhole wrote it; someone else's range may take several. */
static bool push_interval(struct nk_set *s, size_t *cap, struct addr lo, const struct addr *end, const char *comment)
{
	uint8_t family = s->key_len == 4 ? FAMILY_V4 : FAMILY_V6;
	unsigned bits = family == FAMILY_V4 ? 32 : 128;
	unsigned __int128 a = ((unsigned __int128)lo.hi << 64) | lo.lo;
	unsigned __int128 top = bits == 128 ? ~(unsigned __int128)0 : (((unsigned __int128)1 << bits) - 1);
	unsigned __int128 last = end ? (((unsigned __int128)end->hi << 64) | end->lo) - 1 : top;
	while (a <= last) {
		unsigned host = 0;	/* the biggest aligned block at a that stays within last */
		while (host < bits && (a & block_mask(host + 1)) == 0 && a + block_mask(host + 1) <= last)
			host++;
		struct nk_elem e = { .prefix = { .addr = { (uint64_t)(a >> 64), (uint64_t)a }, .family = family,
						 .len = (uint8_t)(bits - host) },
				     .comment = comment };
		if (!elems_push(s, cap, &e))
			return false;
		if (host == 128)
			break;	/* ::/0 */
		unsigned __int128 next = a + block_mask(host);
		if (next >= last)
			break;
		a = next + 1;
	}
	return true;
}

/* Pairs each start element with the end element that follows it. A lone end element
 * (nft -f writes one at 0 before the first interval) starts nothing and is skipped. */
static int raw_to_prefixes(struct nk_set *s, struct raw_elem *v, size_t n)
{
	size_t cap = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i].end)
			continue;
		bool closed = i + 1 < n && v[i + 1].end;
		if (!push_interval(s, &cap, v[i].key, closed ? &v[i + 1].key : NULL, v[i].comment))
			return -1;
		i += closed;
	}
	return 0;
}

/* A set without the interval flag (the guard's) holds single addresses. */
static int hosts_to_prefixes(struct nk_set *s, struct raw_elem *v, size_t n)
{
	size_t cap = 0;
	uint8_t family = s->key_len == 4 ? FAMILY_V4 : FAMILY_V6;
	for (size_t i = 0; i < n; i++) {
		struct nk_elem e = { .prefix = { v[i].key, family, family == FAMILY_V4 ? 32 : 128 },
				     .comment = v[i].comment };
		if (!elems_push(s, &cap, &e))
			return -1;
	}
	return 0;
}

int nl_set_dump_raw(struct nl_session *s, struct nk_ruleset *rs, const char *name, uint32_t key_len,
		    struct nk_raw_elem **out, size_t *n)
{
	char buf[512];
	struct elem_ctx c = { .rs = rs, .key_len = key_len };
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, rs->family, NLM_F_DUMP, ++s->seq);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, rs->table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, name);
	int ret = nl_request(s, nlh, elems_cb, &c);
	if (ret == 0 && c.err) {
		errno = c.err;
		ret = -1;
	}
	if (ret < 0) {
		free(c.v);
		return -1;
	}
	if (c.n)
		qsort(c.v, c.n, sizeof(*c.v), raw_cmp);
	*out = c.v;
	*n = c.n;
	return 0;
}

int nl_set_read_elems(struct nl_session *s, struct nk_ruleset *rs, struct nk_set *set)
{
	struct raw_elem *v = NULL;
	size_t n = 0;
	free(set->elems);
	set->elems = NULL;
	set->n_elems = 0;
	int ret = nl_set_dump_raw(s, rs, set->name, set->key_len, &v, &n);
	if (ret == 0 && ((set->flags & NFT_SET_INTERVAL) ? raw_to_prefixes(set, v, n) : hosts_to_prefixes(set, v, n)) < 0) {
		errno = ENOMEM;
		ret = -1;
	}
	set->elems_known = ret == 0;
	free(v);
	return ret;
}
