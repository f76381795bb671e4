/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nft_netlink_sock.c — the netlink socket: generation id, sending one batch, and reading
 * back what the kernel said about it. */
#include "nft_netlink_sock_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

struct nl_session *nl_session_open(void)
{
	struct nl_session *s = calloc(1, sizeof(*s));
	int one = 1;
	if (!s)
		return NULL;
	s->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!s->nl || mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;
		nl_session_close(s);
		errno = err;
		return NULL;
	}
	/* Extended acks name the bad attribute (the element) and say why; capped acks leave
	 * out the echo of the request, which for a 60 KiB element message is most of it. */
	mnl_socket_setsockopt(s->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(s->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	s->portid = mnl_socket_get_portid(s->nl);
	s->seq = (uint32_t)time(NULL);
	return s;
}

void nl_session_close(struct nl_session *s)
{
	if (!s)
		return;
	if (s->nl)
		mnl_socket_close(s->nl);
	free(s);
}

uint64_t nl_netns_cookie(struct nl_session *s)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	if (getsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0)
		return 0;
	return cookie;
}

/* Sends one request and runs cb over the answer until the kernel says done (a dump) or
 * acks it. Returns 0, or -1 with errno set (the kernel's error for the request). */
int nl_request(struct nl_session *s, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[NL_RECV_BUF];
	uint32_t seq = nlh->nlmsg_seq;
	if (mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	int ret;
	do {
		ssize_t n = mnl_socket_recvfrom(s->nl, buf, sizeof(buf));
		if (n < 0)
			return -1;
		ret = mnl_cb_run(buf, (size_t)n, seq, s->portid, cb, data);
	} while (ret > 0);
	return ret < 0 ? -1 : 0;
}

static int genid_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *a;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFTA_GEN_ID && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			*(uint32_t *)data = ntohl(mnl_attr_get_u32(a));
	return MNL_CB_OK;
}

int nl_genid(struct nl_session *s, uint32_t *genid)
{
	char buf[256];
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, ++s->seq);
	*genid = 0;
	return nl_request(s, nlh, genid_cb, genid);
}

/* ---- batches ---- */

/* The kernel takes a batch as one skb, so the send buffer must hold all of it; forcing
 * the size (CAP_NET_ADMIN, which we need anyway) gets past net.core.wmem_max. Errors come
 * back one small message each, but a socket buffer charges about a kilobyte per skb. */
static void size_buffers(struct nl_session *s, const struct nl_batch *b)
{
	int fd = mnl_socket_get_fd(s->nl);
	int snd = (int)(b->total + 65536), rcv = (int)(nl_batch_messages(b) * 2048 + 262144);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
}

static int batch_send(struct nl_session *s, struct nl_batch *b)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct msghdr msg = { .msg_name = &kernel, .msg_namelen = sizeof(kernel), .msg_iov = b->pages,
			      .msg_iovlen = b->n_pages };
	size_buffers(s, b);
	ssize_t n = sendmsg(mnl_socket_get_fd(s->nl), &msg, 0);
	if (n < 0)
		return -1;
	if ((size_t)n != b->total) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

static int error_push(struct nl_result *res, const struct nl_error *e)
{
	struct nl_error *v = realloc(res->errors, (res->n_errors + 1) * sizeof(*v));
	if (!v)
		return -1;
	res->errors = v;
	res->errors[res->n_errors++] = *e;
	return 0;
}

struct ack_state {
	const struct nl_batch *b;
	struct nl_result *res;
	uint32_t last_seq;
	bool last_acked;
	bool oom;
};

/* One NLMSG_ERROR: an ack (error 0) or an error, with the extended-ack TLVs after the
 * capped header: the kernel's message and the offset of the bad attribute. */
static void handle_ack(struct ack_state *st, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const char *ext_msg = NULL;
	uint32_t offset = 0;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return;
	if (e->error == 0) {
		st->last_acked |= nlh->nlmsg_seq == st->last_seq;
		return;
	}
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		const struct nlattr *a;
		size_t off = sizeof(*e) + ((nlh->nlmsg_flags & NLM_F_CAPPED) ? 0 : e->msg.nlmsg_len - sizeof(e->msg));
		mnl_attr_for_each(a, nlh, off) {
			if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
				ext_msg = mnl_attr_get_str(a);
			else if (mnl_attr_get_type(a) == NLMSGERR_ATTR_OFFS && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				offset = mnl_attr_get_u32(a);
		}
	}
	struct nl_error err = { 0 };
	if (-e->error == ERESTART && nlh->nlmsg_seq == st->b->origins[0].seq)
		st->res->stale = true;
	if (nl_error_describe(st->b, nlh->nlmsg_seq, -e->error, ext_msg, offset, &err) < 0 ||
	    error_push(st->res, &err) < 0)
		st->oom = true;
}

/* The kernel handles a batch inside sendmsg(), so everything it has to say is queued by
 * the time sendmsg returns: read without blocking until the queue is empty. */
static int read_acks(struct nl_session *s, struct ack_state *st)
{
	char buf[NL_RECV_BUF];
	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(s->nl), buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		for (int len = (int)n; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
			if (nlh->nlmsg_type == NLMSG_ERROR && nlh->nlmsg_pid == s->portid)
				handle_ack(st, nlh);
	}
}

/* The message the kernel acks when all went well: the last one before BATCH_END (with
 * BATCH_END it would never answer). */
static void flag_last(struct nl_batch *b, bool check_only, uint32_t *seq)
{
	size_t n = nl_batch_messages(b);
	size_t last = check_only ? n - 1 : n - 2;
	struct nlmsghdr *nlh = (struct nlmsghdr *)b->origins[last].msg;
	nlh->nlmsg_flags |= NLM_F_ACK;
	*seq = nlh->nlmsg_seq;
}

/* Throws away whatever the kernel queued for us. */
static void drain(struct nl_session *s)
{
	char buf[NL_RECV_BUF];
	while (recv(mnl_socket_get_fd(s->nl), buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

int nl_batch_send(struct nl_session *s, struct nl_batch *b, const struct nl_commit_opts *o, struct nl_result *res)
{
	struct ack_state st = { .b = b, .res = res };
	bool check_only = o->check_only;
	res->n_messages = nl_batch_messages(b);
	res->n_bytes = b->total;
	flag_last(b, check_only, &st.last_seq);
	if (batch_send(s, b) < 0)
		return -1;
	if (o->test_lose_acks) {
		drain(s);
		errno = ENOBUFS;
		return -1;
	}
	int rd = read_acks(s, &st);
	if (st.oom) {
		errno = ENOMEM;
		return -1;
	}
	if (rd < 0 || (!st.last_acked && res->n_errors == 0)) {
		/* ENOBUFS and friends: acks were lost, so the answer is unknown, not "failed" */
		if (errno != ENOBUFS && rd == 0)
			errno = EPROTO;
		return -1;
	}
	res->committed = !check_only && res->n_errors == 0;
	return res->n_errors ? -1 : 0;
}

void nl_result_free(struct nl_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_errors; i++) {
		free(r->errors[i].what);
		free(r->errors[i].message);
	}
	free(r->errors);
	memset(r, 0, sizeof(*r));
}
