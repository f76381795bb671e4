/* SPDX-License-Identifier: GPL-2.0-or-later */
/* flow.h — per-connection state: the first bytes of each TCP direction reassembled in
 * sequence order (out-of-order segments and retransmissions included) and handed to the TLS
 * or DNS-over-TCP parser; UDP DNS responses parsed as they come. */
#ifndef PINHOLE_FLOW_H
#define PINHOLE_FLOW_H

#include "capture.h"
#include "packet.h"

/* Bytes of each direction looked at: enough for the largest ClientHello in several records,
 * and for the first DNS-over-TCP responses. Later bytes are ignored. */
#define FLOW_TLS_WINDOW (TLS_HELLO_MAX + 1024)
#define FLOW_DNS_WINDOW (65535 + 2)
#define FLOW_MAX 1000000	/* connections tracked at once; later ones are ignored */

struct flow_table;

/* Returns a table that reports records to fn(rec, arg); NULL on ENOMEM. */
struct flow_table *flow_table_new(capture_fn fn, void *arg);
void flow_table_free(struct flow_table *ft);

/* Takes one decoded packet. Returns 0, or the negative value fn returned to stop. */
int flow_table_packet(struct flow_table *ft, const struct packet *p);

#endif
