/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cidr_ops.c — set operations on aggregated prefix lists. The 128-bit helpers here are
 * small on purpose; cidr.c keeps its own for parsing and aggregation. */
#include "cidr_ops.h"

unsigned prefix_host_bits(const struct prefix *p)
{
	return (p->family == FAMILY_V4 ? 32u : 128u) - p->len;
}

struct addr prefix_last_addr(const struct prefix *p)
{
	unsigned k = prefix_host_bits(p);	/* 2^k - 1 is the host part */
	struct addr a = p->addr;
	if (k >= 64) {
		a.lo = UINT64_MAX;
		a.hi |= k >= 128 ? UINT64_MAX : ((uint64_t)1 << (k - 64)) - 1;
	} else {
		a.lo |= ((uint64_t)1 << k) - 1;
	}
	return a;
}

static struct addr addr_next(struct addr a)
{
	if (++a.lo == 0)
		a.hi++;
	return a;
}

static struct addr addr_prev(struct addr a)
{
	if (a.lo-- == 0)
		a.hi--;
	return a;
}

static int emit(struct cidr_list *out, uint8_t family, struct addr lo, struct addr hi, size_t tag)
{
	struct addr_range r = { lo, hi, family };
	return cidr_list_add(out, &r, (uint32_t)tag);
}

/* Cuts b[*j..] out of the prefix a[i]. *j only moves forward: both lists ascend, and a
 * prefix of b that reaches past the end of a[i] may still cover a[i + 1]. */
static int subtract_one(const struct prefix *a, size_t i, const struct prefix *b, size_t nb, size_t *j,
			struct cidr_list *out)
{
	struct addr cur = a[i].addr, hi = prefix_last_addr(&a[i]);
	while (*j < nb && addr_cmp(prefix_last_addr(&b[*j]), cur) < 0)
		(*j)++;
	for (; *j < nb && addr_cmp(b[*j].addr, hi) <= 0; (*j)++) {
		struct addr b_last = prefix_last_addr(&b[*j]);
		if (addr_cmp(b[*j].addr, cur) > 0 && emit(out, a[i].family, cur, addr_prev(b[*j].addr), i) < 0)
			return -1;
		if (addr_cmp(b_last, hi) >= 0)
			return 0;	/* the rest of a[i] is covered */
		cur = addr_next(b_last);
	}
	return emit(out, a[i].family, cur, hi, i);
}

int cidr_prefixes_subtract(const struct prefix *a, size_t na, const struct prefix *b, size_t nb,
			   struct cidr_list *out)
{
	size_t j = 0;
	for (size_t i = 0; i < na; i++)
		if (subtract_one(a, i, b, nb, &j, out) < 0)
			return -1;
	return 0;
}

bool cidr_prefixes_equal(const struct prefix *a, size_t na, const struct prefix *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (a[i].family != b[i].family || a[i].len != b[i].len || addr_cmp(a[i].addr, b[i].addr))
			return false;
	return true;
}
