/* SPDX-License-Identifier: GPL-2.0-or-later */
/* packet_queue.h — NFQUEUE over nfnetlink (libmnl only): the kernel holds a packet until user space
 * says what to do with it. The guard uses it in strict mode, where a DNS answer must not
 * reach the client before its addresses are in the kernel's sets, and for TLS ClientHellos.
 *
 * Verdicts are collected in a buffer and sent together by pq_flush: nfnetlink reads every
 * message of one datagram, so a round of verdicts costs one sendmsg(). */
#ifndef PINHOLE_PACKET_QUEUE_H
#define PINHOLE_PACKET_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The verdicts the guard uses, as in <linux/netfilter.h>. NF_REPEAT runs the same hook
 * again (one base chain), which is how a packet mark set with the verdict reaches the
 * rules that copy it to the conntrack mark. */
enum pq_verdict { PQ_DROP = 0, PQ_ACCEPT = 1, PQ_REPEAT = 4 };

struct pq_packet {
	uint16_t queue;		/* the queue number it came from */
	uint32_t id;		/* for the verdict */
	uint16_t hw_protocol;	/* ETH_P_IP or ETH_P_IPV6, host order */
	uint8_t hook;		/* NF_INET_* */
	uint32_t mark;		/* the packet mark (0 when the kernel sent none) */
	const uint8_t *data;	/* the IP packet, starting at its IP header */
	size_t len;		/* bytes present (at most the copy range) */
};

/* Called for each queued packet; the packet is valid during the call only. */
typedef void (*pq_packet_fn)(const struct pq_packet *p, void *arg);

struct pq_opts {
	uint32_t maxlen;	/* packets the kernel holds for this queue before it drops */
	bool fail_open;		/* NFQA_CFG_F_FAIL_OPEN: accept instead of drop when full */
};

struct pq;

/* Opens the netlink socket with a receive buffer of rcvbuf bytes (forced past rmem_max
 * with CAP_NET_ADMIN). Returns NULL with errno set. Free with pq_close. */
struct pq *pq_open(size_t rcvbuf);
/* Unbinds every queue bound through it and closes the socket. NULL-safe. */
void pq_close(struct pq *q);
/* The socket, for poll(): readable when packets wait. */
int pq_fd(const struct pq *q);

/* Binds queue number num to this socket (copy mode packet, 64 KiB copy range, GSO packets
 * passed whole). Returns 0, or -1 with errno set (EBUSY: another process has it; EPERM:
 * no CAP_NET_ADMIN). */
int pq_bind(struct pq *q, uint16_t num, const struct pq_opts *o);

/* Reads the packets waiting, at most max of them, without blocking, and calls fn for each.
 * Returns how many were read (0: none waiting), or -1 with errno set on a socket error.
 * ENOBUFS (the kernel could not deliver) is not an error: it is counted in *overruns. */
int pq_receive(struct pq *q, size_t max, pq_packet_fn fn, void *arg);
/* How many times the socket overflowed since it was opened. */
uint64_t pq_overruns(const struct pq *q);

/* The kernel's drop counters for queue num in this network namespace, from
 * /proc/net/netfilter/nfnetlink_queue: queue_dropped (the queue was full) and user_dropped
 * (the socket could not take the packet). Returns 0, or -1 when not readable (a sandbox
 * with ProcSubset=pid) or the queue is not bound. */
int pq_proc_drops(uint16_t num, uint64_t *dropped, uint64_t *user_dropped);

/* Queues a verdict for packet id of queue. With set_mark the packet's mark becomes mark.
 * Returns 0, or -1 when the verdict buffer is full (flush first). */
int pq_verdict(struct pq *q, uint16_t queue, uint32_t id, enum pq_verdict v, bool set_mark, uint32_t mark);
/* Like pq_verdict with set_mark, and the packet replaced by packet[0..len) (a raw IP
 * packet of at most 256 bytes: headers, as packet_tcp_fin writes them). */
int pq_verdict_packet(struct pq *q, uint16_t queue, uint32_t id, enum pq_verdict v, uint32_t mark,
		       const uint8_t *packet, size_t len);
/* Queues one verdict for every packet of queue whose id is at most id and that is still
 * waiting: a whole round of held DNS answers in one message. Packets are numbered in the
 * order they were queued and read in that order, so every packet it covers has been read
 * (one the socket could not take was never queued). Returns 0 or -1 as pq_verdict. */
int pq_verdict_upto(struct pq *q, uint16_t queue, uint32_t id, enum pq_verdict v);
/* Sends every verdict queued so far. Returns 0, or -1 with errno set. */
int pq_flush(struct pq *q);

#endif
