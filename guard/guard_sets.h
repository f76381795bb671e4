/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_sets.h — the guard's own small nf_tables netlink path: element batches with
 * timeouts for the NAME_dns_v4/_v6 sets, the generation id, and the batch framing that the
 * steering rules (guard_steer.h) use too.
 *
 * Why not backends/nft_netlink*: that builder turns whole-ruleset deltas of interval sets
 * into 1 MiB batch pages and maps errors back to rules-file lines; the guard sends a few
 * hundred bytes of timed elements thousands of times a second, on its hot path. The two
 * could share the framing later (nl_batch_open/close) once both have settled. */
#ifndef PINHOLE_GUARD_SETS_H
#define PINHOLE_GUARD_SETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"

struct nlmsghdr;

/* How to make the kernel extend the timeout of an element it already has. Kernels since
 * the 2024 element-timeout-update change (6.10 and later) take a re-add with a timeout as
 * an update; older ones ignore it, so the element has to be replaced. */
enum gset_refresh {
	GSET_REFRESH_AUTO,	/* probe the kernel at start (gset_probe_refresh) */
	GSET_REFRESH_UPDATE,	/* NEWSETELEM again: the kernel updates the timeout */
	GSET_REFRESH_REPLACE,	/* DESTROYSETELEM + NEWSETELEM in one batch (kernel 6.3+) */
	GSET_REFRESH_DELETE,	/* DELSETELEM + NEWSETELEM, for kernels without DESTROY:
				 * only for elements the guard knows are there */
};
const char *gset_refresh_name(enum gset_refresh r);

struct gnl;

/* Opens a netlink socket to nf_tables. Returns NULL with errno set. */
struct gnl *gnl_open(void);
void gnl_close(struct gnl *g);

/* ---- batches ---- */

/* Empties the batch and writes its begin message. */
void gnl_batch_start(struct gnl *g);
/* Starts a message of type NFT_MSG_* for family with flags (NLM_F_REQUEST added). Returns
 * its header with room for GNL_MSG_ROOM bytes of attributes, or NULL on ENOMEM (the batch
 * is then marked failed). Close it with gnl_batch_close. */
#define GNL_MSG_ROOM 65536u
struct nlmsghdr *gnl_batch_msg(struct gnl *g, uint16_t type, uint16_t family, uint16_t flags);
void gnl_batch_close(struct gnl *g, struct nlmsghdr *nlh);
/* Messages in the batch, begin and end not counted. */
size_t gnl_batch_count(const struct gnl *g);

/* What went wrong with a batch: the first error the kernel reported. */
struct gnl_error {
	int err;		/* positive errno; 0 when the batch committed */
	size_t index;		/* the message it was about, 0-based (begin not counted) */
	uint16_t type;		/* its NFT_MSG_* type */
};

/* Ends the batch and sends it. The kernel handles a batch while sendmsg() runs, so every
 * answer is waiting when it returns. Returns 0 when it committed, -1 with *e filled
 * (e->err ENOMEM for a batch that could not be built). An empty batch sends nothing. */
int gnl_batch_commit(struct gnl *g, struct gnl_error *e);

/* From now on records, at path, which generations the guard's commits made, so that
 * pinhole apply need not dump the static sets after them (nft_netlink_gens.c). Returns 0,
 * or -1 with errno set (then nothing is recorded). */
int gnl_record_generations(struct gnl *g, const char *path);

/* Sends the batch without its end message: the kernel checks every message and then
 * aborts the transaction, as `nft -c` does. Returns 0 when all were valid, else -1 + *e. */
int gnl_batch_check(struct gnl *g, struct gnl_error *e);

/* ---- set elements ---- */

struct gset_elem {
	uint8_t family;		/* FAMILY_V4 or FAMILY_V6: the set's key type must match */
	struct addr addr;
	uint32_t timeout_ms;	/* 0: the set's default (or none) */
	uint32_t expires_ms;	/* time left when added; 0: timeout_ms */
};

enum gset_op { GSET_ADD, GSET_DELETE, GSET_DESTROY };
/* An address as the kernel compares it (network byte order) into key; returns its length,
 * 4 or 16. */
size_t gset_addr_key(uint8_t family, struct addr a, uint8_t key[16]);

/* Appends messages for elements e[0..n) of set in table (family inet) to the batch, as
 * many as the 64 KiB attribute limit needs. Returns 0, or -1 on ENOMEM. */
int gset_batch_elems(struct gnl *g, const char *table, const char *set, const struct gset_elem *e, size_t n,
		     enum gset_op op);

/* ---- queries ---- */

/* The ruleset generation id. Returns 0, or -1 with errno. */
int gnl_genid(struct gnl *g, uint32_t *genid);
/* Whether set exists in table (family inet) and has timeouts. Returns 1 yes, 0 no (absent,
 * or a set without the timeout flag), -1 with errno on a socket error. */
int gset_exists(struct gnl *g, const char *table, const char *set);
/* Whether chain exists in table (family inet). Returns 1, 0, or -1 with errno. */
int gnl_chain_exists(struct gnl *g, const char *table, const char *chain);
/* The number of rules in chain of table (family inet; 0 when the chain is absent), or -1
 * with errno. */
long gnl_chain_rules(struct gnl *g, const char *table, const char *chain);
/* Reads the remaining time of element addr in set into *expires_ms. Returns 1 when found,
 * 0 when absent, -1 with errno. For tests and the probe: it dumps the whole set. */
int gset_elem_expires(struct gnl *g, const char *table, const char *set, uint8_t family, struct addr addr,
		      uint64_t *expires_ms);

/* Finds out which refresh works here with a scratch table (inet pinhole_probe_PID) that
 * it creates and deletes. Returns 0 with *out UPDATE, REPLACE or DELETE; -1 with errno. */
int gset_probe_refresh(struct gnl *g, enum gset_refresh *out);

#endif
