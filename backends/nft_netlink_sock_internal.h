/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nft_netlink_sock_internal.h — the session's socket, shared by the files that talk to the kernel. */
#ifndef PINHOLE_NFT_NETLINK_SOCK_H
#define PINHOLE_NFT_NETLINK_SOCK_H

#include <libmnl/libmnl.h>

#include "nft_netlink_internal.h"

/* Receive buffer for one read: the kernel fills dump messages up to 32 KiB
 * (netlink_recvmsg caps max_recvmsg_len there), so twice that never truncates. */
#define NL_RECV_BUF (64u * 1024u)

struct nl_session {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
};

/* Sends one request (a get or a dump) and runs cb over every answer until the kernel is
 * done. Returns 0, or -1 with errno set to the kernel's error. */
int nl_request(struct nl_session *s, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

/* Sends a built batch and collects the kernel's errors into res (mapped to origins).
 * Returns 0 when the kernel took it, -1 when it reported errors (res->errors) or when
 * the outcome is unknown (errno: ENOBUFS, EPROTO, socket errors; res->n_errors 0). */
int nl_batch_send(struct nl_session *s, struct nl_batch *b, const struct nl_commit_opts *o, struct nl_result *res);

#endif
