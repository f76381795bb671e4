/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nft_netlink_internal.h — the pieces of the netlink backend that its files share and that
 * unit tests reach without a kernel: the batch builder, the rule builder, error mapping. */
#ifndef PINHOLE_NFT_NETLINK_INTERNAL_H
#define PINHOLE_NFT_NETLINK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "nft_netlink.h"

/* A netlink attribute's length is 16 bits, so one NEWSETELEM message carries at most 64 KiB
 * of elements; stop a little short so the headers around the nest fit too. */
#define NL_ELEMS_PER_MSG_BYTES 60000u
/* Room reserved for one message: the biggest element message plus headers and slack. */
#define NL_MSG_MAX (64u * 1024u + 4096u)
/* Batch pages: one sendmsg() carries them all as an iovec (the kernel wants a batch in one
 * skb), and the kernel accepts at most UIO_MAXIOV (1024) of them. */
#define NL_PAGE_SIZE (1024u * 1024u)
#define NL_MAX_PAGES 1024u
/* Rule userdata TLV carrying pinhole's fingerprint of the rule. nft reads only the
 * comment TLV (type 0) and skips the others, so listings are unaffected. */
#define NK_UDATA_RULE_FINGERPRINT 0x70

/* What one message of a batch was about, to explain an error the kernel reports for it. */
struct nl_origin {
	uint32_t seq;
	uint16_t type;				/* NFT_MSG_*, or NFNL_MSG_BATCH_BEGIN */
	const struct nlmsghdr *msg;		/* the message in the batch */
	const char *table;
	const struct nk_set *set;		/* set and element messages */
	const struct nk_chain *chain;		/* chain and rule messages */
	const struct nk_rule *rule;
	const size_t *elem_index;		/* element messages: set->elems[elem_index[first + k]] */
	size_t elem_first, elem_count;		/* (elem_index NULL: set->elems[first + k]) */
};

/* A batch under construction. The caller owns it (nl_batch_init / nl_batch_free); the
 * builder functions write into its pages and never send anything. */
struct nl_batch {
	struct iovec pages[NL_MAX_PAGES];
	size_t n_pages;
	size_t total, max_total;		/* bytes written; refused past max_total */
	uint32_t seq_next;
	uint32_t set_id_next;			/* NFTA_SET_ID for sets made in this batch */
	struct nl_origin *origins;
	size_t n_origins, cap_origins;
	bool failed;				/* ENOMEM or max_total: the batch is unusable */
	int error;				/* errno of the failure */
};

/* max_total 0 means 1 GiB. seq is the first sequence number to use. */
void nl_batch_init(struct nl_batch *b, size_t max_total, uint32_t seq);
void nl_batch_free(struct nl_batch *b);

/* Starts a message of type (NFT_MSG_*) with flags; returns its header with room for
 * NL_MSG_MAX bytes, or NULL once the batch failed. Finish it with nl_batch_close. */
struct nlmsghdr *nl_batch_open(struct nl_batch *b, uint16_t type, uint16_t family, uint16_t flags);
/* Accounts the message (its nlmsg_len is final) and records what it was about. Returns the
 * origin record to fill in, or NULL when the batch failed. */
struct nl_origin *nl_batch_close(struct nl_batch *b, struct nlmsghdr *nlh);

/* Batch framing. begin carries genid (0: no check) so the kernel refuses a stale batch. */
void nl_batch_begin(struct nl_batch *b, uint32_t genid);
void nl_batch_end(struct nl_batch *b);

/* Object messages. Each records its origin. set_id: the NFTA_SET_ID given to a set made
 * in this batch (0 for an existing set). */
void nl_msg_table_add(struct nl_batch *b, const struct nk_ruleset *rs);
void nl_msg_table_del(struct nl_batch *b, const struct nk_ruleset *rs);
void nl_msg_chain_add(struct nl_batch *b, const struct nk_ruleset *rs, const struct nk_chain *c);
void nl_msg_chain_del(struct nl_batch *b, const struct nk_ruleset *rs, const struct nk_chain *c);
uint32_t nl_msg_set_add(struct nl_batch *b, const struct nk_ruleset *rs, const struct nk_set *s);
void nl_msg_set_del(struct nl_batch *b, const struct nk_ruleset *rs, const struct nk_set *s);
/* Elements set->elems[index[i]] (index NULL: i) for i < n, split across as many messages
 * as it takes; del deletes them instead. */
void nl_msg_elems(struct nl_batch *b, const struct nk_ruleset *rs, const struct nk_set *s, uint32_t set_id,
		  const size_t *index, size_t n, bool del);
/* A rule, built from its words; set_ids gives the NFTA_SET_ID of sets made in this batch
 * (looked up by name), NULL when none. */
struct nl_set_ids {
	const char **names;
	uint32_t *ids;
	size_t n;
};
void nl_msg_rule_add(struct nl_batch *b, const struct nk_ruleset *rs, const struct nk_chain *c,
		     const struct nk_rule *r, const struct nl_set_ids *ids);
void nl_msg_rule_del(struct nl_batch *b, const struct nk_ruleset *rs, const struct nk_chain *c,
		     const struct nk_rule *r);

/* Number of messages written so far. */
size_t nl_batch_messages(const struct nl_batch *b);
/* The origin of the message with sequence number seq, NULL if none. */
const struct nl_origin *nl_batch_origin(const struct nl_batch *b, uint32_t seq);

/* Turns the delta into a batch (begin/end included unless check_only leaves out the end).
 * Returns 0, or -1 when the batch failed (b->error). */
int nl_batch_from_delta(struct nl_batch *b, const struct nk_delta *d, uint32_t genid, bool check_only);

/* The wanted chains alone (no sets): what nft_text writes as base chains. Same contract
 * as nk_ruleset_from_policy. */
int nk_ruleset_chains(const struct policy *p, struct nk_ruleset *out);

/* A formatted string in the arena; NULL on ENOMEM. */
char *nk_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- live elements ---- */

/* One kernel element as dumped: its key (right-aligned in an addr: IPv4 and ports in lo),
 * whether it ends an interval, and its comment (in the ruleset's arena; NULL if none). */
struct nk_raw_elem {
	struct addr key;
	bool end;
	const char *comment;
};

struct nl_session;
/* Dumps the elements of set name in rs's table, keys of key_len bytes, sorted by key with
 * an interval's end before the next start at the same key. *out is malloc'd (caller
 * frees). Returns 0, or -1 with errno set. */
int nl_set_dump_raw(struct nl_session *s, struct nk_ruleset *rs, const char *name, uint32_t key_len,
		    struct nk_raw_elem **out, size_t *n);

/* ---- rules ---- */

/* The rule in nft syntax, as `nft list` prints it and nft_text writes it (no newline).
 * Returns the length (truncated to size - 1). */
size_t nk_rule_format(const struct nk_rule *r, char *buf, size_t size);
/* The fingerprint that goes into the rule's userdata: a hash of its nft text. */
uint64_t nk_rule_fingerprint(const struct nk_rule *r);
/* Fills an anonymous-set-free libnftnl rule's expressions; see nl_msg_rule_add. set_id:
 * the NFTA_SET_ID of the rule's set and of its scope's set when made in the same batch (0
 * otherwise). Returns 0, or -1 on ENOMEM. */
struct nftnl_rule;
int nk_rule_build(struct nftnl_rule *nr, const struct nk_rule *r, const char *port_set, uint32_t port_set_id,
		  const uint32_t set_id[2]);

/* ---- errors ---- */

/* Describes the kernel's error for seq into e, using the batch's origins. ext_msg is the
 * extended ack message (NULL if none), bad_offset the byte offset of the bad attribute in
 * the message (0 if none). Returns 0 or -1 on ENOMEM. */
int nl_error_describe(const struct nl_batch *b, uint32_t seq, int err, const char *ext_msg, uint32_t bad_offset,
		      struct nl_error *e);

/* The interval of an element: start and exclusive end keys of a prefix; returns false when
 * the end is past the top of the address space (the interval is open). */
bool nk_prefix_end(const struct prefix *p, struct addr *end);

#endif
