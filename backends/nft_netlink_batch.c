/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nft_netlink_batch.c — building one nf_tables batch in caller-owned pages: framing,
 * tables, chains, sets and their elements. Nothing here talks to the kernel. */
#include "nft_netlink_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_BATCH (1024u * 1024u * 1024u)

void nl_batch_init(struct nl_batch *b, size_t max_total, uint32_t seq)
{
	memset(b, 0, sizeof(*b));
	b->max_total = max_total ? max_total : DEFAULT_MAX_BATCH;
	b->seq_next = seq;
	b->set_id_next = 1;
}

void nl_batch_free(struct nl_batch *b)
{
	for (size_t i = 0; i < b->n_pages; i++)
		free(b->pages[i].iov_base);
	free(b->origins);
	memset(b, 0, sizeof(*b));
}

static void batch_fail(struct nl_batch *b, int err)
{
	if (!b->failed)
		b->error = err;
	b->failed = true;
}

/* A new page when the current one cannot hold a whole message: a message never spans two
 * pages, so every message is contiguous for the kernel and for error mapping. */
static char *batch_room(struct nl_batch *b)
{
	struct iovec *cur = b->n_pages ? &b->pages[b->n_pages - 1] : NULL;
	if (cur && NL_PAGE_SIZE - cur->iov_len >= NL_MSG_MAX)
		return (char *)cur->iov_base + cur->iov_len;
	if (b->n_pages == NL_MAX_PAGES) {
		batch_fail(b, EMSGSIZE);
		return NULL;
	}
	void *page = malloc(NL_PAGE_SIZE);
	if (!page) {
		batch_fail(b, ENOMEM);
		return NULL;
	}
	b->pages[b->n_pages++] = (struct iovec){ page, 0 };
	return page;
}

struct nlmsghdr *nl_batch_open(struct nl_batch *b, uint16_t type, uint16_t family, uint16_t flags)
{
	char *room = b->failed ? NULL : batch_room(b);
	if (!room)
		return NULL;
	memset(room, 0, MNL_NLMSG_HDRLEN + sizeof(struct nfgenmsg));
	return nftnl_nlmsg_build_hdr(room, type, family, flags, b->seq_next);
}

static struct nl_origin *origin_push(struct nl_batch *b)
{
	if (b->n_origins == b->cap_origins) {
		size_t cap = b->cap_origins ? 2 * b->cap_origins : 64;
		struct nl_origin *v = realloc(b->origins, cap * sizeof(*v));
		if (!v) {
			batch_fail(b, ENOMEM);
			return NULL;
		}
		b->origins = v;
		b->cap_origins = cap;
	}
	struct nl_origin *o = &b->origins[b->n_origins++];
	memset(o, 0, sizeof(*o));
	return o;
}

struct nl_origin *nl_batch_close(struct nl_batch *b, struct nlmsghdr *nlh)
{
	if (b->failed || !nlh)
		return NULL;
	struct iovec *cur = &b->pages[b->n_pages - 1];
	if (nlh->nlmsg_len > NL_MSG_MAX) {	/* a builder overran its room: a bug, not the user's */
		batch_fail(b, EMSGSIZE);
		return NULL;
	}
	if (b->total + nlh->nlmsg_len > b->max_total) {
		batch_fail(b, EFBIG);
		return NULL;
	}
	cur->iov_len += MNL_ALIGN(nlh->nlmsg_len);
	b->total += MNL_ALIGN(nlh->nlmsg_len);
	struct nl_origin *o = origin_push(b);
	if (o) {
		o->seq = b->seq_next;
		o->type = nlh->nlmsg_type & 0xff;
		o->msg = nlh;
	}
	b->seq_next++;
	return o;
}

size_t nl_batch_messages(const struct nl_batch *b)
{
	return b->n_origins;
}

const struct nl_origin *nl_batch_origin(const struct nl_batch *b, uint32_t seq)
{
	if (b->n_origins == 0 || seq < b->origins[0].seq)
		return NULL;
	size_t i = seq - b->origins[0].seq;	/* one sequence number per message, in order */
	return i < b->n_origins ? &b->origins[i] : NULL;
}

static void batch_frame(struct nl_batch *b, uint16_t type, uint32_t genid)
{
	char *room = b->failed ? NULL : batch_room(b);
	if (!room)
		return;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(room);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = b->seq_next;
	struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(NFNL_SUBSYS_NFTABLES);
	/* The kernel compares this with its generation under the commit mutex and refuses
	 * the whole batch with ERESTART when they differ (nfnetlink, since Linux 4.19). */
	if (genid)
		mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
	struct nl_origin *o = nl_batch_close(b, nlh);
	if (o)
		o->type = type;
}

void nl_batch_begin(struct nl_batch *b, uint32_t genid)
{
	batch_frame(b, NFNL_MSG_BATCH_BEGIN, genid);
}

void nl_batch_end(struct nl_batch *b)
{
	batch_frame(b, NFNL_MSG_BATCH_END, 0);
}

/* ---- tables and chains ---- */

/* pinhole's mark: the table comment, as nft writes a comment (nft list shows it). */
static int table_udata(struct nftnl_table *t)
{
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(64);
	bool ok = ud && nftnl_udata_put_strz(ud, NFTNL_UDATA_TABLE_COMMENT, NK_TABLE_COMMENT);
	if (ok)
		nftnl_table_set_data(t, NFTNL_TABLE_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
	return ok ? 0 : -1;
}

static void table_msg(struct nl_batch *b, const struct nk_ruleset *rs, uint16_t type, uint16_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh = t ? nl_batch_open(b, type, rs->family, flags) : NULL;
	if (!t)
		batch_fail(b, ENOMEM);
	if (nlh) {
		nftnl_table_set_str(t, NFTNL_TABLE_NAME, rs->table);
		if (type == NFT_MSG_NEWTABLE) {
			nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, 0);
			if (table_udata(t) < 0)
				batch_fail(b, ENOMEM);
		} else if (rs->table_handle) {	/* delete exactly the table that was read */
			nftnl_table_set_u64(t, NFTNL_TABLE_HANDLE, rs->table_handle);
		}
		nftnl_table_nlmsg_build_payload(nlh, t);
		struct nl_origin *o = nl_batch_close(b, nlh);
		if (o)
			o->table = rs->table;
	}
	nftnl_table_free(t);
}

void nl_msg_table_add(struct nl_batch *b, const struct nk_ruleset *rs)
{
	table_msg(b, rs, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL);
}

void nl_msg_table_del(struct nl_batch *b, const struct nk_ruleset *rs)
{
	table_msg(b, rs, NFT_MSG_DELTABLE, 0);
}

static void chain_fill(struct nftnl_chain *nc, const struct nk_ruleset *rs, const struct nk_chain *c)
{
	nftnl_chain_set_str(nc, NFTNL_CHAIN_TABLE, rs->table);
	nftnl_chain_set_str(nc, NFTNL_CHAIN_NAME, c->name);
	if (!c->base)
		return;
	nftnl_chain_set_str(nc, NFTNL_CHAIN_TYPE, c->type);
	nftnl_chain_set_u32(nc, NFTNL_CHAIN_HOOKNUM, c->hooknum);
	nftnl_chain_set_s32(nc, NFTNL_CHAIN_PRIO, c->priority);
	nftnl_chain_set_u32(nc, NFTNL_CHAIN_POLICY, c->policy);
}

static void chain_msg(struct nl_batch *b, const struct nk_ruleset *rs, const struct nk_chain *c, bool add)
{
	struct nftnl_chain *nc = nftnl_chain_alloc();
	struct nlmsghdr *nlh = nc ? nl_batch_open(b, add ? NFT_MSG_NEWCHAIN : NFT_MSG_DELCHAIN, rs->family,
						  add ? NLM_F_CREATE | NLM_F_EXCL : 0)
				  : NULL;
	if (!nc)
		batch_fail(b, ENOMEM);
	if (nlh) {
		if (add) {
			chain_fill(nc, rs, c);
		} else {
			nftnl_chain_set_str(nc, NFTNL_CHAIN_TABLE, rs->table);
			nftnl_chain_set_u64(nc, NFTNL_CHAIN_HANDLE, c->handle);
		}
		nftnl_chain_nlmsg_build_payload(nlh, nc);
		struct nl_origin *o = nl_batch_close(b, nlh);
		if (o) {
			o->table = rs->table;
			o->chain = c;
		}
	}
	nftnl_chain_free(nc);
}

void nl_msg_chain_add(struct nl_batch *b, const struct nk_ruleset *rs, const struct nk_chain *c)
{
	chain_msg(b, rs, c, true);
}

void nl_msg_chain_del(struct nl_batch *b, const struct nk_ruleset *rs, const struct nk_chain *c)
{
	chain_msg(b, rs, c, false);
}

/* ---- sets ---- */

/* Set userdata as nft writes it: the key's byte order (so nft prints addresses, not
 * integers) and the comment. */
static int set_udata(struct nftnl_set *ns, const struct nk_set *s)
{
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	if (!ud)
		return -1;
	bool ok = nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, 2 /* BYTEORDER_BIG_ENDIAN */);
	if (s->comment)
		ok = ok && nftnl_udata_put_strz(ud, NFTNL_UDATA_SET_COMMENT, s->comment);
	if (ok)
		nftnl_set_set_data(ns, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
	return ok ? 0 : -1;
}

uint32_t nl_msg_set_add(struct nl_batch *b, const struct nk_ruleset *rs, const struct nk_set *s)
{
	struct nftnl_set *ns = nftnl_set_alloc();
	struct nlmsghdr *nlh = ns ? nl_batch_open(b, NFT_MSG_NEWSET, rs->family, NLM_F_CREATE | NLM_F_EXCL) : NULL;
	uint32_t id = b->set_id_next;
	if (!ns)
		batch_fail(b, ENOMEM);
	if (nlh) {
		nftnl_set_set_str(ns, NFTNL_SET_TABLE, rs->table);
		nftnl_set_set_str(ns, NFTNL_SET_NAME, s->name);
		nftnl_set_set_u32(ns, NFTNL_SET_FLAGS, s->flags);
		nftnl_set_set_u32(ns, NFTNL_SET_KEY_TYPE, s->key_type);
		nftnl_set_set_u32(ns, NFTNL_SET_KEY_LEN, s->key_len);
		nftnl_set_set_u32(ns, NFTNL_SET_ID, id);
		if (set_udata(ns, s) < 0)
			batch_fail(b, ENOMEM);
		nftnl_set_nlmsg_build_payload(nlh, ns);
		struct nl_origin *o = nl_batch_close(b, nlh);
		if (o) {
			o->table = rs->table;
			o->set = s;
		}
		b->set_id_next++;
	}
	nftnl_set_free(ns);
	return id;
}

void nl_msg_set_del(struct nl_batch *b, const struct nk_ruleset *rs, const struct nk_set *s)
{
	struct nftnl_set *ns = nftnl_set_alloc();
	struct nlmsghdr *nlh = ns ? nl_batch_open(b, NFT_MSG_DELSET, rs->family, 0) : NULL;
	if (!ns)
		batch_fail(b, ENOMEM);
	if (nlh) {
		nftnl_set_set_str(ns, NFTNL_SET_TABLE, rs->table);
		if (s->handle)
			nftnl_set_set_u64(ns, NFTNL_SET_HANDLE, s->handle);
		else
			nftnl_set_set_str(ns, NFTNL_SET_NAME, s->name);
		nftnl_set_nlmsg_build_payload(nlh, ns);
		struct nl_origin *o = nl_batch_close(b, nlh);
		if (o) {
			o->table = rs->table;
			o->set = s;
		}
	}
	nftnl_set_free(ns);
}

/* ---- elements ----
 * Written with libmnl directly: libnftnl's element objects cost an allocation or three
 * each, which at a million prefixes is most of the memory and time of an apply. */

bool nk_prefix_end(const struct prefix *p, struct addr *end)
{
	unsigned bits = p->family == FAMILY_V4 ? 32 : 128;
	unsigned host = bits - p->len;	/* host bits: the interval is 2^host addresses */
	struct addr a = p->addr;
	if (host == bits)
		return false;
	/* add 2^host to the 128-bit address; a carry out of the family's width means the
	 * prefix reaches the top of the address space */
	if (host >= 64) {
		uint64_t inc = 1ull << (host - 64);
		a.hi += inc;
		if (a.hi < inc)
			return false;
	} else {
		uint64_t inc = 1ull << host;
		uint64_t lo = a.lo + inc;
		if (lo < a.lo && ++a.hi == 0)
			return false;
		a.lo = lo;
	}
	if (p->family == FAMILY_V4 && (a.lo >> 32) != 0)
		return false;
	*end = a;
	return true;
}

static void put_key(struct nlmsghdr *nlh, uint16_t type, uint8_t family, struct addr a)
{
	unsigned char key[16];
	size_t len = family == FAMILY_V4 ? 4 : 16;
	for (size_t i = 0; i < len; i++) {
		unsigned bit = (unsigned)(len - 1 - i) * 8;	/* network byte order */
		key[i] = (unsigned char)(bit >= 64 ? a.hi >> (bit - 64) : a.lo >> bit);
	}
	struct nlattr *k = mnl_attr_nest_start(nlh, type);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, len, key);
	mnl_attr_nest_end(nlh, k);
}

/* Element flags as nft writes them: INTERVAL_OPEN for an interval that runs to the top of
 * the address space (it has no end element). No comment: see nk_elem. */
static void put_elem_open(struct nlmsghdr *nlh)
{
	unsigned char ud[2 + sizeof(uint32_t)];
	uint32_t flags = NFTNL_SET_ELEM_F_INTERVAL_OPEN;
	ud[0] = 1;	/* NFTNL_UDATA_SET_ELEM_FLAGS */
	ud[1] = sizeof(flags);
	memcpy(ud + 2, &flags, sizeof(flags));	/* host order, as libnftnl puts it */
	mnl_attr_put(nlh, NFTA_SET_ELEM_USERDATA, sizeof(ud), ud);
}

/* An interval set holds a prefix as two elements: its first address, and the first
 * address past it flagged INTERVAL_END. Deleting needs only the keys and flags. */
static void put_interval(struct nlmsghdr *nlh, const struct nk_elem *e, bool del)
{
	struct addr end;
	bool closed = nk_prefix_end(&e->prefix, &end);
	struct nlattr *el = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	put_key(nlh, NFTA_SET_ELEM_KEY, e->prefix.family, e->prefix.addr);
	if (!del && !closed)
		put_elem_open(nlh);
	mnl_attr_nest_end(nlh, el);
	if (!closed)
		return;
	el = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS, htonl(NFT_SET_ELEM_INTERVAL_END));
	put_key(nlh, NFTA_SET_ELEM_KEY, e->prefix.family, end);
	mnl_attr_nest_end(nlh, el);
}

/* Writes elements from *i on until the message is full; returns how many went in. */
static size_t fill_elems(struct nlmsghdr *nlh, const struct nk_set *s, const size_t *index, size_t i, size_t n,
			 bool del)
{
	struct nlattr *list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	size_t first = i;
	/* the worst case of one prefix: two v6 elements with their flags */
	while (i < n && (char *)mnl_nlmsg_get_payload_tail(nlh) - (char *)list < NL_ELEMS_PER_MSG_BYTES - 200) {
		put_interval(nlh, &s->elems[index ? index[i] : i], del);
		i++;
	}
	mnl_attr_nest_end(nlh, list);
	return i - first;
}

void nl_msg_elems(struct nl_batch *b, const struct nk_ruleset *rs, const struct nk_set *s, uint32_t set_id,
		  const size_t *index, size_t n, bool del)
{
	size_t i = 0;
	while (i < n && !b->failed) {
		/* NLM_F_EXCL: an element we believe absent that is there means our picture of
		 * the kernel is wrong; better an error than a silent merge. */
		struct nlmsghdr *nlh = nl_batch_open(b, del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM, rs->family,
						     del ? 0 : NLM_F_CREATE | NLM_F_EXCL);
		if (!nlh)
			return;
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, rs->table);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, s->name);
		if (set_id)
			mnl_attr_put_u32(nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(set_id));
		size_t k = fill_elems(nlh, s, index, i, n, del);
		struct nl_origin *o = nl_batch_close(b, nlh);
		if (o) {
			o->table = rs->table;
			o->set = s;
			o->elem_index = index;
			o->elem_first = i;
			o->elem_count = k;
		}
		i += k;
	}
}
