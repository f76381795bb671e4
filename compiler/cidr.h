/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cidr.h — IPv4/IPv6 addresses, prefixes and ranges; parsing, formatting, aggregation. */
#ifndef PINHOLE_CIDR_H
#define PINHOLE_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { FAMILY_V4 = 4, FAMILY_V6 = 6 };

/* A 128-bit address, most significant half first. IPv4 lives in lo (hi == 0). */
struct addr {
	uint64_t hi;
	uint64_t lo;
};

struct prefix {
	struct addr addr;	/* network address: no host bits set */
	uint8_t family;		/* FAMILY_V4 or FAMILY_V6 */
	uint8_t len;		/* 0..32 or 0..128 */
};

/* An inclusive range of addresses of one family. */
struct addr_range {
	struct addr lo;
	struct addr hi;
	uint8_t family;
};

enum cidr_status {
	CIDR_OK = 0,
	CIDR_BAD_ADDRESS,	/* not an IPv4 or IPv6 address */
	CIDR_BAD_LENGTH,	/* prefix length missing, not a number, or too long */
	CIDR_HOST_BITS,		/* addr/len with bits set past len */
	CIDR_REVERSED,		/* a-b with a > b */
	CIDR_MIXED_FAMILY,	/* a-b with a and b of different families */
};

struct cidr_parsed {
	struct addr_range range;	/* the addresses written */
	struct prefix prefix;		/* for CIDR_OK/CIDR_HOST_BITS of an a/len: the masked network */
	bool is_prefix;			/* written as addr or addr/len (not a-b) */
	size_t err_offset;		/* on error: byte offset in the text of the bad part */
};

/* Parses "addr", "addr/len" or "lo-hi" from s[0..n) (no NUL needed). Returns CIDR_OK and
 * fills *out, or an error status with out->err_offset set; on CIDR_HOST_BITS out->prefix is
 * the network the user probably meant. */
enum cidr_status cidr_parse(const char *s, size_t n, struct cidr_parsed *out);

/* A one-line English description of a status, for diagnostics. */
const char *cidr_status_str(enum cidr_status st);

/* Canonical text forms (dotted quad; RFC 5952 for IPv6). Return the length written;
 * buf needs CIDR_TEXT_MAX bytes. */
#define CIDR_TEXT_MAX 64
size_t cidr_format_addr(char *buf, uint8_t family, struct addr a);
size_t cidr_format_prefix(char *buf, const struct prefix *p);

/* Orders addresses; returns <0, 0, >0. */
int addr_cmp(struct addr a, struct addr b);
/* Whether a can be one host's address: false for the unspecified, loopback, multicast,
 * broadcast and reserved (240/4) addresses and IPv4-mapped IPv6 ones. */
bool addr_is_unicast(uint8_t family, struct addr a);

/* Input to aggregation: ranges with a caller's tag each (e.g. the index of the element
 * that wrote it). */
struct cidr_input {
	struct addr_range range;
	uint32_t tag;
};

struct cidr_list {
	struct cidr_input *v;
	size_t n;
	size_t cap;
};

/* Appends a range; returns 0, or -1 on ENOMEM (list unchanged). */
int cidr_list_add(struct cidr_list *l, const struct addr_range *r, uint32_t tag);
void cidr_list_free(struct cidr_list *l);

/* IPv4 ranges packed for aggregation: first << 32 | last and the caller's tag, 16 bytes
 * where a cidr_input takes 48, so a million-prefix set is 16 MB. */
struct cidr_v4_key {
	uint64_t span;
	uint32_t tag;
};

struct cidr_v4_list {
	struct cidr_v4_key *v;
	size_t n, cap;
};

/* Makes room for n ranges in all, at once (a list sized from its source is not copied
 * while doubling). Returns 0, or -1 on ENOMEM. */
int cidr_v4_list_reserve(struct cidr_v4_list *l, size_t n);
/* Appends r, which must be IPv4; returns 0, or -1 on ENOMEM (list unchanged). */
int cidr_v4_list_add(struct cidr_v4_list *l, const struct addr_range *r, uint32_t tag);
void cidr_v4_list_free(struct cidr_v4_list *l);

/* The minimal sorted list of prefixes covering exactly the union of the inputs. */
struct cidr_agg {
	struct prefix *prefixes;
	size_t n;
	/* With tags requested: the tags of prefix i are tags[tag_start[i] .. tag_start[i+1]),
	 * ascending and unique: every input that overlaps prefix i. NULL otherwise. */
	uint32_t *tag_start;
	uint32_t *tags;
};

/* Aggregates l (reordering it) into *out, IPv4 prefixes first, then IPv6, each ascending.
 * want_tags fills the tag arrays. Returns 0, or -1 on ENOMEM (*out empty). Free with
 * cidr_agg_free. */
int cidr_aggregate(struct cidr_list *l, bool want_tags, struct cidr_agg *out);
/* The same over v4's ranges and l's together, freeing v4 as soon as it is merged (it is
 * empty afterwards, whatever the result): the peak is the sort of v4's keys, not a copy. */
int cidr_aggregate_keys(struct cidr_v4_list *v4, struct cidr_list *l, bool want_tags, struct cidr_agg *out);
void cidr_agg_free(struct cidr_agg *a);

/* Number of addresses in a prefix, saturated at UINT64_MAX (for summaries). */
uint64_t prefix_size(const struct prefix *p);

#endif
