/* SPDX-License-Identifier: GPL-2.0-or-later */
/* packet_log.c — NFLOG over libmnl. Message layout: include/uapi/linux/netfilter/nfnetlink_log.h;
 * attribute values are big endian. */
#include "packet_log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define NFLOG_RECV_BUF (131072u)
#define NFLOG_MAX_GROUPS 8
#define NFLOG_COPY_RANGE 0xffffu

struct plog {
	struct mnl_socket *nl;
	uint32_t seq;
	uint16_t groups[NFLOG_MAX_GROUPS];
	size_t n_groups;
	uint64_t overruns;
	uint8_t *rbuf;
};

struct plog *plog_open(size_t rcvbuf)
{
	struct plog *l = calloc(1, sizeof(*l));
	int size = rcvbuf > 0x7fffffff ? 0x7fffffff : (int)rcvbuf;
	if (!l || !(l->rbuf = malloc(NFLOG_RECV_BUF)))
		goto fail;
	if (!(l->nl = mnl_socket_open(NETLINK_NETFILTER)) || mnl_socket_bind(l->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	int fd = mnl_socket_get_fd(l->nl);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	l->seq = (uint32_t)time(NULL);
	return l;
fail:
	plog_close(l);
	return NULL;
}

static struct nlmsghdr *put_config(void *buf, uint16_t group, uint16_t flags, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(group);
	return nlh;
}

/* Sends a config message and waits for its ack; log copies that arrive first are
 * dropped: they are copies, the packets themselves went on. */
static int config_send(struct plog *l, struct nlmsghdr *nlh)
{
	uint32_t seq = nlh->nlmsg_seq;
	if (mnl_socket_sendto(l->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(l->nl, l->rbuf, NFLOG_RECV_BUF);
		if (n < 0 && errno == ENOBUFS)
			continue;
		if (n < 0)
			return -1;
		int left = (int)n;
		for (struct nlmsghdr *m = (struct nlmsghdr *)l->rbuf; mnl_nlmsg_ok(m, left);
		     m = mnl_nlmsg_next(m, &left)) {
			if (m->nlmsg_type != NLMSG_ERROR || m->nlmsg_seq != seq)
				continue;
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);
			errno = -e->error;
			return e->error ? -1 : 0;
		}
	}
}

int plog_bind(struct plog *l, uint16_t group)
{
	uint8_t buf[512];
	if (l->n_groups == NFLOG_MAX_GROUPS) {
		errno = ENOSPC;
		return -1;
	}
	struct nlmsghdr *nlh = put_config(buf, group, NLM_F_ACK, ++l->seq);
	struct nfulnl_msg_config_cmd cmd = { NFULNL_CFG_CMD_BIND };
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	if (config_send(l, nlh) < 0)
		return -1;
	l->groups[l->n_groups++] = group;
	nlh = put_config(buf, group, NLM_F_ACK, ++l->seq);
	struct nfulnl_msg_config_mode mode = { htonl(NFLOG_COPY_RANGE), NFULNL_COPY_PACKET, 0 };
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	/* One packet per message: the kernel otherwise waits for qthresh packets or the
	 * flush timeout (1 s by default) before it sends anything. */
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
	mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(1));
	mnl_attr_put_u32(nlh, NFULA_CFG_NLBUFSIZ, htonl(NFLOG_COPY_RANGE + 4096));
	return config_send(l, nlh);
}

void plog_close(struct plog *l)
{
	if (!l)
		return;
	for (size_t i = 0; l->nl && i < l->n_groups; i++) {
		uint8_t buf[256];
		struct nlmsghdr *nlh = put_config(buf, l->groups[i], 0, ++l->seq);
		struct nfulnl_msg_config_cmd cmd = { NFULNL_CFG_CMD_UNBIND };
		mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
		mnl_socket_sendto(l->nl, nlh, nlh->nlmsg_len);
	}
	if (l->nl)
		mnl_socket_close(l->nl);
	free(l->rbuf);
	free(l);
}

int plog_fd(const struct plog *l)
{
	return mnl_socket_get_fd(l->nl);
}

uint64_t plog_overruns(const struct plog *l)
{
	return l->overruns;
}

static bool parse_packet(const struct nlmsghdr *m, struct plog_packet *p)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(m);
	const struct nlattr *a;
	bool hdr = false;
	*p = (struct plog_packet){ .group = ntohs(g->res_id) };
	mnl_attr_for_each(a, m, sizeof(*g)) {
		if (mnl_attr_get_type(a) == NFULA_PACKET_HDR &&
		    mnl_attr_get_payload_len(a) >= sizeof(struct nfulnl_msg_packet_hdr)) {
			const struct nfulnl_msg_packet_hdr *h = mnl_attr_get_payload(a);
			p->hw_protocol = ntohs(h->hw_protocol);
			p->hook = h->hook;
			hdr = true;
		} else if (mnl_attr_get_type(a) == NFULA_PAYLOAD) {
			p->data = mnl_attr_get_payload(a);
			p->len = mnl_attr_get_payload_len(a);
		}
	}
	return hdr && p->data;
}

int plog_receive(struct plog *l, size_t max, plog_packet_fn fn, void *arg)
{
	int total = 0;
	while ((size_t)total < max) {
		ssize_t n = recv(mnl_socket_get_fd(l->nl), l->rbuf, NFLOG_RECV_BUF, MSG_DONTWAIT);
		if (n < 0 && errno == ENOBUFS) {
			l->overruns++;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n < 0)
			return -1;
		int left = (int)n;
		for (struct nlmsghdr *m = (struct nlmsghdr *)l->rbuf; mnl_nlmsg_ok(m, left);
		     m = mnl_nlmsg_next(m, &left)) {
			struct plog_packet p;
			if (m->nlmsg_type == ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET) && parse_packet(m, &p)) {
				fn(&p, arg);
				total++;
			}
		}
	}
	return total;
}
