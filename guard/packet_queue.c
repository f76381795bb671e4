/* SPDX-License-Identifier: GPL-2.0-or-later */
/* packet_queue.c — NFQUEUE over libmnl. Message layout: include/uapi/linux/netfilter/nfnetlink_queue.h;
 * every attribute value is big endian. */
#include "packet_queue.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* A queued packet is at most 64 KiB (the copy range) plus its attributes. */
#define PQ_RECV_BUF (65536u + 8192u)
#define PQ_VERDICT_BUF 65536u
#define PQ_MAX_QUEUES 8
/* The largest copy range the kernel takes (it is clamped to 0xffff anyway). */
#define PQ_COPY_RANGE 0xffffu

struct pq {
	struct mnl_socket *nl;
	uint32_t portid, seq;
	uint16_t queues[PQ_MAX_QUEUES];
	size_t n_queues;
	uint64_t overruns;
	uint8_t *rbuf;
	uint8_t *vbuf;		/* verdicts waiting for pq_flush */
	size_t vlen;
};

struct pq *pq_open(size_t rcvbuf)
{
	struct pq *q = calloc(1, sizeof(*q));
	int size = rcvbuf > 0x7fffffff ? 0x7fffffff : (int)rcvbuf, one = 1;
	if (!q || !(q->rbuf = malloc(PQ_RECV_BUF)) || !(q->vbuf = malloc(PQ_VERDICT_BUF)))
		goto fail;
	if (!(q->nl = mnl_socket_open(NETLINK_NETFILTER)) || mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	int fd = mnl_socket_get_fd(q->nl);
	/* rmem_max is often 208 KiB, a few dozen queued packets of full size: force it. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	/* Ask for errors without the echoed request (NETLINK_CAP_ACK): verdict errors would
	 * otherwise carry a copy of each verdict. */
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	q->portid = mnl_socket_get_portid(q->nl);
	q->seq = (uint32_t)time(NULL);
	return q;
fail:
	pq_close(q);
	return NULL;
}

static struct nlmsghdr *put_header(void *buf, uint16_t type, uint16_t flags, uint16_t res_id, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(res_id);
	return nlh;
}

/* Sends one config message and waits for its ack. Packets that arrive meanwhile (a queue
 * that already had steering rules) are not lost: they are handed to nobody, so they get
 * NF_REPEAT, which runs the hook again and queues them anew, now to a bound socket. */
static int config_send(struct pq *q, struct nlmsghdr *nlh)
{
	uint32_t seq = nlh->nlmsg_seq;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(q->nl, q->rbuf, PQ_RECV_BUF);
		if (n < 0)
			return errno == ENOBUFS ? (q->overruns++, 0) : -1;
		int left = (int)n;
		for (struct nlmsghdr *m = (struct nlmsghdr *)q->rbuf; mnl_nlmsg_ok(m, left);
		     m = mnl_nlmsg_next(m, &left)) {
			if (m->nlmsg_type == NLMSG_ERROR && m->nlmsg_seq == seq) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);
				errno = -e->error;
				return e->error ? -1 : 0;
			}
			if (m->nlmsg_type == ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET)) {
				const struct nfgenmsg *g = mnl_nlmsg_get_payload(m);
				struct nlattr *a = mnl_nlmsg_get_payload_offset(m, sizeof(*g));
				if (mnl_attr_get_type(a) == NFQA_PACKET_HDR) {
					const struct nfqnl_msg_packet_hdr *h = mnl_attr_get_payload(a);
					pq_verdict(q, ntohs(g->res_id), ntohl(h->packet_id), PQ_REPEAT, false, 0);
				}
			}
		}
		pq_flush(q);
	}
}

int pq_bind(struct pq *q, uint16_t num, const struct pq_opts *o)
{
	uint8_t buf[512];
	if (q->n_queues == PQ_MAX_QUEUES) {
		errno = ENOSPC;
		return -1;
	}
	struct nlmsghdr *nlh = put_header(buf, NFQNL_MSG_CONFIG, NLM_F_ACK, num, ++q->seq);
	struct nfqnl_msg_config_cmd cmd = { .command = NFQNL_CFG_CMD_BIND };
	mnl_attr_put(nlh, NFQA_CFG_CMD, sizeof(cmd), &cmd);
	if (config_send(q, nlh) < 0)
		return -1;
	q->queues[q->n_queues++] = num;
	nlh = put_header(buf, NFQNL_MSG_CONFIG, NLM_F_ACK, num, ++q->seq);
	struct nfqnl_msg_config_params params = { htonl(PQ_COPY_RANGE), NFQNL_COPY_PACKET };
	mnl_attr_put(nlh, NFQA_CFG_PARAMS, sizeof(params), &params);
	mnl_attr_put_u32(nlh, NFQA_CFG_QUEUE_MAXLEN, htonl(o->maxlen));
	/* GSO: take a GSO packet whole instead of having the kernel segment it first; the
	 * guard never rewrites packets, so their partial checksums don't matter. */
	uint32_t flags = NFQA_CFG_F_GSO | (o->fail_open ? NFQA_CFG_F_FAIL_OPEN : 0);
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	return config_send(q, nlh);
}

static void unbind(struct pq *q, uint16_t num)
{
	uint8_t buf[256];
	struct nlmsghdr *nlh = put_header(buf, NFQNL_MSG_CONFIG, 0, num, ++q->seq);
	struct nfqnl_msg_config_cmd cmd = { .command = NFQNL_CFG_CMD_UNBIND };
	mnl_attr_put(nlh, NFQA_CFG_CMD, sizeof(cmd), &cmd);
	mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len);
}

void pq_close(struct pq *q)
{
	if (!q)
		return;
	if (q->nl) {
		pq_flush(q);
		/* Closing the socket unbinds too, and the kernel then drops (or, with bypass,
		 * accepts) what is still queued; unbinding first says it explicitly. */
		for (size_t i = 0; i < q->n_queues; i++)
			unbind(q, q->queues[i]);
		mnl_socket_close(q->nl);
	}
	free(q->rbuf);
	free(q->vbuf);
	free(q);
}

int pq_fd(const struct pq *q)
{
	return mnl_socket_get_fd(q->nl);
}

uint64_t pq_overruns(const struct pq *q)
{
	return q->overruns;
}

/* One NFQNL_MSG_PACKET into *p; false when it lacks the header or the payload. */
static bool parse_packet(const struct nlmsghdr *m, struct pq_packet *p)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(m);
	const struct nlattr *a;
	bool hdr = false;
	*p = (struct pq_packet){ .queue = ntohs(g->res_id) };
	mnl_attr_for_each(a, m, sizeof(*g)) {
		switch (mnl_attr_get_type(a)) {
		case NFQA_PACKET_HDR:
			if (mnl_attr_get_payload_len(a) >= sizeof(struct nfqnl_msg_packet_hdr)) {
				const struct nfqnl_msg_packet_hdr *h = mnl_attr_get_payload(a);
				p->id = ntohl(h->packet_id);
				p->hw_protocol = ntohs(h->hw_protocol);
				p->hook = h->hook;
				hdr = true;
			}
			break;
		case NFQA_MARK:
			if (mnl_attr_get_payload_len(a) >= 4)
				p->mark = ntohl(mnl_attr_get_u32(a));
			break;
		case NFQA_PAYLOAD:
			p->data = mnl_attr_get_payload(a);
			p->len = mnl_attr_get_payload_len(a);
			break;
		}
	}
	return hdr;
}

/* Handles one datagram: packets go to fn; a packet without payload is accepted unseen
 * (the kernel sends none only with a zero copy range, which pq_bind never sets). */
static int handle_datagram(struct pq *q, size_t n, pq_packet_fn fn, void *arg)
{
	int count = 0, left = (int)n;
	for (struct nlmsghdr *m = (struct nlmsghdr *)q->rbuf; mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left)) {
		struct pq_packet p;
		if (m->nlmsg_type != ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET) || !parse_packet(m, &p))
			continue;
		count++;
		if (p.data)
			fn(&p, arg);
		else
			pq_verdict(q, p.queue, p.id, PQ_ACCEPT, false, 0);
	}
	return count;
}

int pq_receive(struct pq *q, size_t max, pq_packet_fn fn, void *arg)
{
	int total = 0;
	while ((size_t)total < max) {
		ssize_t n = recv(mnl_socket_get_fd(q->nl), q->rbuf, PQ_RECV_BUF, MSG_DONTWAIT);
		if (n < 0 && errno == ENOBUFS) {
			q->overruns++;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n < 0)
			return -1;
		total += handle_datagram(q, (size_t)n, fn, arg);
	}
	return total;
}

int pq_verdict(struct pq *q, uint16_t queue, uint32_t id, enum pq_verdict v, bool set_mark, uint32_t mark)
{
	/* header 16 + nfgenmsg 4 + verdict 12 + mark 8 */
	if (q->vlen + 64 > PQ_VERDICT_BUF && pq_flush(q) < 0)
		return -1;
	struct nlmsghdr *nlh = put_header(q->vbuf + q->vlen, NFQNL_MSG_VERDICT, 0, queue, ++q->seq);
	struct nfqnl_msg_verdict_hdr vh = { htonl((uint32_t)v), htonl(id) };
	mnl_attr_put(nlh, NFQA_VERDICT_HDR, sizeof(vh), &vh);
	if (set_mark)
		mnl_attr_put_u32(nlh, NFQA_MARK, htonl(mark));
	q->vlen += NLMSG_ALIGN(nlh->nlmsg_len);
	return 0;
}

int pq_verdict_packet(struct pq *q, uint16_t queue, uint32_t id, enum pq_verdict v, uint32_t mark,
		       const uint8_t *packet, size_t len)
{
	if (len > 256)
		return -1;
	if (q->vlen + 64 + NLMSG_ALIGN(len) + 4 > PQ_VERDICT_BUF && pq_flush(q) < 0)
		return -1;
	struct nlmsghdr *nlh = put_header(q->vbuf + q->vlen, NFQNL_MSG_VERDICT, 0, queue, ++q->seq);
	struct nfqnl_msg_verdict_hdr vh = { htonl((uint32_t)v), htonl(id) };
	mnl_attr_put(nlh, NFQA_VERDICT_HDR, sizeof(vh), &vh);
	mnl_attr_put_u32(nlh, NFQA_MARK, htonl(mark));
	mnl_attr_put(nlh, NFQA_PAYLOAD, (uint16_t)len, packet);
	q->vlen += NLMSG_ALIGN(nlh->nlmsg_len);
	return 0;
}

int pq_verdict_upto(struct pq *q, uint16_t queue, uint32_t id, enum pq_verdict v)
{
	if (q->vlen + 64 > PQ_VERDICT_BUF && pq_flush(q) < 0)
		return -1;
	struct nlmsghdr *nlh = put_header(q->vbuf + q->vlen, NFQNL_MSG_VERDICT_BATCH, 0, queue, ++q->seq);
	struct nfqnl_msg_verdict_hdr vh = { htonl((uint32_t)v), htonl(id) };
	mnl_attr_put(nlh, NFQA_VERDICT_HDR, sizeof(vh), &vh);
	q->vlen += NLMSG_ALIGN(nlh->nlmsg_len);
	return 0;
}

int pq_flush(struct pq *q)
{
	if (q->vlen == 0)
		return 0;
	ssize_t n = mnl_socket_sendto(q->nl, q->vbuf, q->vlen);
	q->vlen = 0;
	return n < 0 ? -1 : 0;
}

int pq_proc_drops(uint16_t num, uint64_t *dropped, uint64_t *user_dropped)
{
	FILE *f = fopen("/proc/net/netfilter/nfnetlink_queue", "re");
	unsigned queue;
	uint64_t d, u;
	int ret = -1;
	if (!f)
		return -1;
	/* queue_number peer_portid queue_total copy_mode copy_range queue_dropped user_dropped
	 * id_sequence 1 */
	while (fscanf(f, "%u %*u %*u %*u %*u %" SCNu64 " %" SCNu64 " %*u %*u", &queue, &d, &u) == 3)
		if (queue == num) {
			*dropped = d;
			*user_dropped = u;
			ret = 0;
		}
	fclose(f);
	return ret;
}
