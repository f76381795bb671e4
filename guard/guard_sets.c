/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_sets.c — timed set elements, generation id and batch framing over libmnl. Why this
 * is not backends/nft_netlink*: see guard_sets.h. Attribute layouts follow
 * include/uapi/linux/netfilter/nf_tables.h; integers in attributes are big endian. */
#include "guard_sets.h"
#include "nft_netlink.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Newer than the 6.1 uapi headers this builds against (kernel 6.3, "destroy" commands:
 * delete without failing when the object is absent). */
#ifndef NFT_MSG_DESTROYSETELEM
#define NFT_MSG_DESTROYTABLE 26
#define NFT_MSG_DESTROYSETELEM 30
#endif

/* A netlink attribute's length is 16 bits: stop a set's element list well before it. */
#define GNL_ELEMS_BYTES 60000u
#define GNL_RECV_BUF 65536u
#define NFT_TYPE_IPV4_ADDR 7	/* nft datatype ids, as nft writes them for sets */
#define NFT_TYPE_IPV6_ADDR 8

struct gnl {
	struct mnl_socket *nl;
	uint32_t portid, seq;
	uint8_t *buf;		/* the batch */
	size_t len, cap;
	uint32_t begin_seq;
	size_t count;
	bool failed;
	uint8_t *rbuf;
	struct nk_guard_gens gens;	/* fd -1: not recording */
};

const char *gset_refresh_name(enum gset_refresh r)
{
	static const char *const names[] = { "auto", "update", "replace", "delete" };
	return r <= GSET_REFRESH_DELETE ? names[r] : "?";
}

struct gnl *gnl_open(void)
{
	struct gnl *g = calloc(1, sizeof(*g));
	int one = 1, size = 1 << 20;
	if (g)
		g->gens.fd = -1;
	if (!g || !(g->rbuf = malloc(GNL_RECV_BUF)))
		goto fail;
	if (!(g->nl = mnl_socket_open(NETLINK_NETFILTER)) || mnl_socket_bind(g->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	int fd = mnl_socket_get_fd(g->nl);
	/* Errors of a big batch must all fit, or the one that says why is lost. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	g->portid = mnl_socket_get_portid(g->nl);
	g->seq = (uint32_t)time(NULL);
	return g;
fail:
	gnl_close(g);
	return NULL;
}

void gnl_close(struct gnl *g)
{
	if (!g)
		return;
	if (g->nl)
		mnl_socket_close(g->nl);
	nk_guard_gens_close(&g->gens);
	free(g->buf);
	free(g->rbuf);
	free(g);
}

/* ---- batches ---- */

static bool reserve(struct gnl *g, size_t more)
{
	if (g->len + more <= g->cap)
		return true;
	size_t cap = g->cap ? g->cap : 4 * GNL_MSG_ROOM;
	while (cap < g->len + more)
		cap *= 2;
	uint8_t *b = realloc(g->buf, cap);
	if (!b)
		return false;
	g->buf = b;
	g->cap = cap;
	return true;
}

static struct nlmsghdr *put_frame(struct gnl *g, uint16_t type)
{
	if (!reserve(g, 64)) {
		g->failed = true;
		return NULL;
	}
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(g->buf + g->len);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = ++g->seq;
	struct nfgenmsg *m = mnl_nlmsg_put_extra_header(nlh, sizeof(*m));
	m->nfgen_family = AF_UNSPEC;
	m->version = NFNETLINK_V0;
	m->res_id = htons(NFNL_SUBSYS_NFTABLES);
	g->len += NLMSG_ALIGN(nlh->nlmsg_len);
	return nlh;
}

void gnl_batch_start(struct gnl *g)
{
	g->len = 0;
	g->count = 0;
	g->failed = false;
	struct nlmsghdr *nlh = put_frame(g, NFNL_MSG_BATCH_BEGIN);
	g->begin_seq = nlh ? nlh->nlmsg_seq : 0;
}

struct nlmsghdr *gnl_batch_msg(struct gnl *g, uint16_t type, uint16_t family, uint16_t flags)
{
	if (g->failed || !reserve(g, GNL_MSG_ROOM + 256)) {
		g->failed = true;
		return NULL;
	}
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(g->buf + g->len);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++g->seq;
	struct nfgenmsg *m = mnl_nlmsg_put_extra_header(nlh, sizeof(*m));
	m->nfgen_family = (uint8_t)family;
	m->version = NFNETLINK_V0;
	m->res_id = 0;
	return nlh;
}

void gnl_batch_close(struct gnl *g, struct nlmsghdr *nlh)
{
	g->len += NLMSG_ALIGN(nlh->nlmsg_len);
	g->count++;
}

size_t gnl_batch_count(const struct gnl *g)
{
	return g->count;
}

/* Reads every answer waiting (the kernel answered while sendmsg ran) and keeps the first
 * error. Returns 0, or -1 when the socket failed. */
static int drain_errors(struct gnl *g, struct gnl_error *e)
{
	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(g->nl), g->rbuf, GNL_RECV_BUF, MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		int left = (int)n;
		for (struct nlmsghdr *m = (struct nlmsghdr *)g->rbuf; mnl_nlmsg_ok(m, left);
		     m = mnl_nlmsg_next(m, &left)) {
			if (m->nlmsg_type != NLMSG_ERROR || e->err)
				continue;
			const struct nlmsgerr *err = mnl_nlmsg_get_payload(m);
			if (err->error == 0)
				continue;
			e->err = -err->error;
			e->type = err->msg.nlmsg_type & 0xff;
			e->index = err->msg.nlmsg_seq > g->begin_seq ? err->msg.nlmsg_seq - g->begin_seq - 1 : 0;
		}
	}
}

static int batch_send(struct gnl *g, bool commit, struct gnl_error *e)
{
	*e = (struct gnl_error){ 0 };
	if (g->failed) {
		e->err = ENOMEM;
		return -1;
	}
	if (g->count == 0)
		return 0;
	if (commit && !put_frame(g, NFNL_MSG_BATCH_END)) {
		e->err = ENOMEM;
		return -1;
	}
	if (mnl_socket_sendto(g->nl, g->buf, g->len) < 0 || drain_errors(g, e) < 0) {
		/* ENOBUFS on our own socket loses answers: whether it committed is unknown,
		 * and the caller must not believe it did. */
		e->err = errno ? errno : EIO;
		return -1;
	}
	return e->err ? -1 : 0;
}

int gnl_genid(struct gnl *g, uint32_t *genid);

/* With a generations record, the generation is read just before and just after the batch:
 * one more means the commit was the guard's alone (nft_netlink_gens.c). */
int gnl_batch_commit(struct gnl *g, struct gnl_error *e)
{
	uint32_t before = 0, after = 0;
	bool track = g->gens.fd >= 0 && g->count && !g->failed && gnl_genid(g, &before) == 0;
	int ret = batch_send(g, true, e);
	if (track && ret == 0 && gnl_genid(g, &after) == 0)
		nk_guard_gens_note(&g->gens, before, after);
	return ret;
}

int gnl_record_generations(struct gnl *g, const char *path)
{
	return nk_guard_gens_open(&g->gens, path, mnl_socket_get_fd(g->nl));
}

int gnl_batch_check(struct gnl *g, struct gnl_error *e)
{
	return batch_send(g, false, e);
}

/* ---- set elements ---- */

size_t gset_addr_key(uint8_t family, struct addr a, uint8_t key[16])
{
	if (family == FAMILY_V4) {
		uint32_t v = htonl((uint32_t)a.lo);
		memcpy(key, &v, 4);
		return 4;
	}
	uint64_t hi = htobe64(a.hi), lo = htobe64(a.lo);
	memcpy(key, &hi, 8);
	memcpy(key + 8, &lo, 8);
	return 16;
}

static void put_elem(struct nlmsghdr *nlh, const struct gset_elem *e, enum gset_op op)
{
	uint8_t key[16];
	size_t klen = gset_addr_key(e->family, e->addr, key);
	struct nlattr *elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	struct nlattr *k = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, klen, key);
	mnl_attr_nest_end(nlh, k);
	/* The expiration too: a kernel that updates elements changes an existing element's
	 * expiry only when the timeout differs or an expiration is given, and a DNS answer
	 * with the same TTL as the last one must still push the expiry out. */
	if (op == GSET_ADD && e->timeout_ms) {
		mnl_attr_put_u64(nlh, NFTA_SET_ELEM_TIMEOUT, htobe64(e->timeout_ms));
		mnl_attr_put_u64(nlh, NFTA_SET_ELEM_EXPIRATION, htobe64(e->expires_ms ? e->expires_ms : e->timeout_ms));
	}
	mnl_attr_nest_end(nlh, elem);
}

int gset_batch_elems(struct gnl *g, const char *table, const char *set, const struct gset_elem *e, size_t n,
		     enum gset_op op)
{
	static const uint16_t type[] = { NFT_MSG_NEWSETELEM, NFT_MSG_DELSETELEM, NFT_MSG_DESTROYSETELEM };
	size_t i = 0;
	while (i < n) {
		/* Without NLM_F_EXCL an element that exists is no error: on a new kernel its
		 * timeout is updated, on an old one nothing happens. */
		struct nlmsghdr *nlh = gnl_batch_msg(g, type[op], NFPROTO_INET, op == GSET_ADD ? NLM_F_CREATE : 0);
		if (!nlh)
			return -1;
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
		struct nlattr *list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
		size_t start = nlh->nlmsg_len;
		for (; i < n && nlh->nlmsg_len - start < GNL_ELEMS_BYTES; i++)
			put_elem(nlh, &e[i], op);
		mnl_attr_nest_end(nlh, list);
		gnl_batch_close(g, nlh);
	}
	return 0;
}

/* ---- queries ---- */

/* Sends one request and runs cb on every answer until the ack or the end of a dump.
 * Returns 0, or -1 with errno (the kernel's error included). */
static int request(struct gnl *g, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	uint32_t seq = nlh->nlmsg_seq;
	if (mnl_socket_sendto(g->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	int rc;
	do {
		ssize_t n = mnl_socket_recvfrom(g->nl, g->rbuf, GNL_RECV_BUF);
		if (n < 0)
			return -1;
		rc = mnl_cb_run(g->rbuf, (size_t)n, seq, g->portid, cb, arg);
	} while (rc > 0);
	return rc < 0 ? -1 : 0;
}

static struct nlmsghdr *query_header(struct gnl *g, void *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++g->seq;
	struct nfgenmsg *m = mnl_nlmsg_put_extra_header(nlh, sizeof(*m));
	m->nfgen_family = NFPROTO_INET;
	m->version = NFNETLINK_V0;
	return nlh;
}

static int genid_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *a;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFTA_GEN_ID && mnl_attr_get_payload_len(a) >= 4)
			*(uint32_t *)arg = ntohl(mnl_attr_get_u32(a));
	return MNL_CB_OK;
}

int gnl_genid(struct gnl *g, uint32_t *genid)
{
	uint8_t buf[256];
	struct nlmsghdr *nlh = query_header(g, buf, NFT_MSG_GETGEN, NLM_F_ACK);
	return request(g, nlh, genid_cb, genid);
}

static int set_flags_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *a;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFTA_SET_FLAGS && mnl_attr_get_payload_len(a) >= 4)
			*(uint32_t *)arg = ntohl(mnl_attr_get_u32(a)) | 0x80000000u;
	return MNL_CB_OK;
}

int gset_exists(struct gnl *g, const char *table, const char *set)
{
	uint8_t buf[1024];
	uint32_t flags = 0;	/* bit 31: the answer carried flags */
	struct nlmsghdr *nlh = query_header(g, buf, NFT_MSG_GETSET, NLM_F_ACK);
	mnl_attr_put_strz(nlh, NFTA_SET_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_SET_NAME, set);
	if (request(g, nlh, set_flags_cb, &flags) < 0)
		return errno == ENOENT ? 0 : -1;
	return (flags & 0x80000000u) && (flags & NFT_SET_TIMEOUT);
}

static int ignore_cb(const struct nlmsghdr *nlh, void *arg)
{
	return MNL_CB_OK;
}

int gnl_chain_exists(struct gnl *g, const char *table, const char *chain)
{
	uint8_t buf[1024];
	struct nlmsghdr *nlh = query_header(g, buf, NFT_MSG_GETCHAIN, NLM_F_ACK);
	mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, chain);
	if (request(g, nlh, ignore_cb, NULL) < 0)
		return errno == ENOENT ? 0 : -1;
	return 1;
}

static int count_cb(const struct nlmsghdr *nlh, void *arg)
{
	(*(long *)arg)++;
	return MNL_CB_OK;
}

long gnl_chain_rules(struct gnl *g, const char *table, const char *chain)
{
	uint8_t buf[1024];
	long n = 0;
	struct nlmsghdr *nlh = query_header(g, buf, NFT_MSG_GETRULE, NLM_F_DUMP);
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, chain);
	if (request(g, nlh, count_cb, &n) < 0)
		return errno == ENOENT ? 0 : -1;
	return n;
}

struct elem_search {
	uint8_t key[16];
	size_t klen;
	bool found;
	uint64_t expires;
};

/* One element of a dump: its key and expiration. */
static void match_elem(const struct nlattr *elem, struct elem_search *s)
{
	const struct nlattr *a, *v;
	bool hit = false;
	uint64_t expires = 0;
	mnl_attr_for_each_nested(a, elem) {
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_KEY) {
			mnl_attr_for_each_nested(v, a)
				hit |= mnl_attr_get_type(v) == NFTA_DATA_VALUE &&
				       mnl_attr_get_payload_len(v) == s->klen &&
				       !memcmp(mnl_attr_get_payload(v), s->key, s->klen);
		} else if (mnl_attr_get_type(a) == NFTA_SET_ELEM_EXPIRATION && mnl_attr_get_payload_len(a) >= 8) {
			expires = be64toh(mnl_attr_get_u64(a));
		}
	}
	if (hit) {
		s->found = true;
		s->expires = expires;
	}
}

static int elems_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *a, *e;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(e, a)
			match_elem(e, arg);
	}
	return MNL_CB_OK;
}

int gset_elem_expires(struct gnl *g, const char *table, const char *set, uint8_t family, struct addr addr,
		      uint64_t *expires_ms)
{
	uint8_t buf[1024];
	struct elem_search s = { .found = false };
	s.klen = gset_addr_key(family, addr, s.key);
	struct nlmsghdr *nlh = query_header(g, buf, NFT_MSG_GETSETELEM, NLM_F_DUMP);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
	if (request(g, nlh, elems_cb, &s) < 0)
		return -1;
	*expires_ms = s.expires;
	return s.found;
}

/* ---- the refresh probe ---- */

#define PROBE_SHORT_MS 60000u
#define PROBE_LONG_MS 3600000u

static void probe_table(struct gnl *g, const char *table, bool add)
{
	struct nlmsghdr *nlh = gnl_batch_msg(g, add ? NFT_MSG_NEWTABLE : NFT_MSG_DELTABLE, NFPROTO_INET,
					     add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	if (!nlh)
		return;
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, table);
	gnl_batch_close(g, nlh);
}

static void probe_set(struct gnl *g, const char *table)
{
	struct nlmsghdr *nlh = gnl_batch_msg(g, NFT_MSG_NEWSET, NFPROTO_INET, NLM_F_CREATE | NLM_F_EXCL);
	if (!nlh)
		return;
	mnl_attr_put_strz(nlh, NFTA_SET_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_SET_NAME, "probe");
	mnl_attr_put_u32(nlh, NFTA_SET_FLAGS, htonl(NFT_SET_TIMEOUT));
	mnl_attr_put_u32(nlh, NFTA_SET_KEY_TYPE, htonl(NFT_TYPE_IPV4_ADDR));
	mnl_attr_put_u32(nlh, NFTA_SET_KEY_LEN, htonl(4));
	mnl_attr_put_u32(nlh, NFTA_SET_ID, htonl(1));
	gnl_batch_close(g, nlh);
}

/* Adds the probe element (timeout PROBE_LONG_MS) to expire in ms, after removing it first
 * with op pre (ADD: no). */
static int probe_refresh_with(struct gnl *g, const char *table, enum gset_op pre, uint32_t ms)
{
	struct gset_elem e = { FAMILY_V4, { 0, 0xc0000201u }, PROBE_LONG_MS, ms };	/* 192.0.2.1 */
	struct gnl_error err;
	gnl_batch_start(g);
	if (pre != GSET_ADD)
		gset_batch_elems(g, table, "probe", &e, 1, pre);
	gset_batch_elems(g, table, "probe", &e, 1, GSET_ADD);
	return gnl_batch_commit(g, &err);
}

static int probe_expires(struct gnl *g, const char *table, uint64_t *ms)
{
	struct addr a = { 0, 0xc0000201u };
	return gset_elem_expires(g, table, "probe", FAMILY_V4, a, ms) == 1 ? 0 : -1;
}

int gset_probe_refresh(struct gnl *g, enum gset_refresh *out)
{
	char table[64];
	struct gnl_error err;
	uint64_t ms = 0;
	int ret = -1;
	snprintf(table, sizeof(table), "pinhole_probe_%ld", (long)getpid());
	gnl_batch_start(g);
	probe_table(g, table, true);
	probe_set(g, table);
	if (gnl_batch_commit(g, &err) < 0) {
		errno = err.err;
		return -1;
	}
	if (probe_refresh_with(g, table, GSET_ADD, PROBE_SHORT_MS) < 0 ||
	    probe_refresh_with(g, table, GSET_ADD, PROBE_LONG_MS) < 0 || probe_expires(g, table, &ms) < 0)
		goto out;
	*out = GSET_REFRESH_UPDATE;
	if (ms <= PROBE_SHORT_MS) {
		/* The re-add was ignored: an older kernel. DESTROY exists since 6.3. */
		*out = probe_refresh_with(g, table, GSET_DESTROY, PROBE_LONG_MS) == 0 ? GSET_REFRESH_REPLACE
										       : GSET_REFRESH_DELETE;
	}
	ret = 0;
out:
	gnl_batch_start(g);
	probe_table(g, table, false);
	gnl_batch_commit(g, &err);
	return ret;
}
