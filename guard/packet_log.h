/* SPDX-License-Identifier: GPL-2.0-or-later */
/* packet_log.h — NFLOG over nfnetlink (libmnl only): copies of packets that the kernel lets pass
 * anyway. The guard's passive mode learns from DNS answers this way, for sites that will
 * not put a daemon in the path of their traffic (the client may then race the update). */
#ifndef PINHOLE_PACKET_LOG_H
#define PINHOLE_PACKET_LOG_H

#include <stddef.h>
#include <stdint.h>

struct plog_packet {
	uint16_t group;		/* the log group it came from */
	uint16_t hw_protocol;	/* ETH_P_IP or ETH_P_IPV6, host order */
	uint8_t hook;		/* NF_INET_* */
	const uint8_t *data;	/* the IP packet, from its IP header */
	size_t len;
};

typedef void (*plog_packet_fn)(const struct plog_packet *p, void *arg);

struct plog;

/* Opens the socket with a receive buffer of rcvbuf bytes. Returns NULL with errno set. */
struct plog *plog_open(size_t rcvbuf);
/* Unbinds its groups and closes it. NULL-safe. */
void plog_close(struct plog *l);
int plog_fd(const struct plog *l);

/* Binds log group to this socket with whole packets (up to 64 KiB) sent one at a time, so
 * that passive learning lags the packet as little as it can. Returns 0, or -1 with errno
 * (EBUSY: another process listens to the group). */
int plog_bind(struct plog *l, uint16_t group);

/* Reads what waits, at most max packets, without blocking; fn gets each. Returns how many,
 * or -1 with errno on a socket error. ENOBUFS (copies lost) is counted in plog_overruns. */
int plog_receive(struct plog *l, size_t max, plog_packet_fn fn, void *arg);
uint64_t plog_overruns(const struct plog *l);

#endif
