/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cidr_ops.h — set operations on aggregated prefix lists (what cidr.h's aggregation
 * produces): the difference of two coverages, and the size of a prefix in 128 bits. */
#ifndef PINHOLE_CIDR_OPS_H
#define PINHOLE_CIDR_OPS_H

#include <stdbool.h>
#include <stddef.h>

#include "cidr.h"

/* The addresses covered by a[0..na) and not by b[0..nb), appended to out as ranges; each
 * range is tagged with the index in a of the prefix it was cut from. a and b must each be
 * ascending and disjoint, of one family (cidr_aggregate output of that family). Aggregate
 * out to get the minimal prefixes of the change. Returns 0, or -1 on ENOMEM (out may hold
 * part of the result; free it as usual). */
int cidr_prefixes_subtract(const struct prefix *a, size_t na, const struct prefix *b, size_t nb,
			   struct cidr_list *out);

/* True when the two lists hold the same prefixes (the same coverage, since aggregated
 * lists are canonical). */
bool cidr_prefixes_equal(const struct prefix *a, size_t na, const struct prefix *b, size_t nb);

/* The last address of a prefix. */
struct addr prefix_last_addr(const struct prefix *p);

/* log2 of the number of addresses in p: 32 - len for IPv4, 128 - len for IPv6. */
unsigned prefix_host_bits(const struct prefix *p);

#endif
