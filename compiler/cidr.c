/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cidr.c — IPv4/IPv6 parsing, canonical formatting and prefix aggregation.
 *
 * Every address is held as 128 bits (struct addr); an IPv4 address sits in the low 32 bits
 * of lo. Aggregation sorts with LSD radix sorts (linear time, no comparison callbacks),
 * merges overlapping and adjacent ranges, then splits each merged block into the fewest
 * aligned prefixes. IPv4 without tags has its own path on packed 64-bit keys because it
 * is the bulk case (a million prefixes from a feed).
 */
#include "cidr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- 128-bit arithmetic on struct addr ---------------------------------------------- */

int addr_cmp(struct addr a, struct addr b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

bool addr_is_unicast(uint8_t family, struct addr a)
{
	if (family == FAMILY_V4) {
		uint32_t v = (uint32_t)a.lo, top = v >> 24;
		/* 0/8 "this network", 127/8 loopback, 224/4 multicast, 240/4 reserved and broadcast */
		return top != 0 && top != 127 && top < 224;
	}
	if (a.hi == 0 && (a.lo <= 1 || a.lo >> 32 == 0xffff))
		return false;	/* ::, ::1, ::ffff:0:0/96 (IPv4-mapped) */
	return a.hi >> 56 != 0xff;	/* ff00::/8 multicast */
}

static bool addr_eq(struct addr a, struct addr b)
{
	return a.hi == b.hi && a.lo == b.lo;
}

static bool addr_is_max(struct addr a)
{
	return a.hi == UINT64_MAX && a.lo == UINT64_MAX;
}

static struct addr addr_inc(struct addr a)
{
	a.lo++;
	if (a.lo == 0)
		a.hi++;
	return a;
}

static struct addr addr_sub(struct addr a, struct addr b)
{
	struct addr d = { a.hi - b.hi - (a.lo < b.lo), a.lo - b.lo };
	return d;
}

/* Trailing zero bits; 128 for zero. */
static unsigned addr_ctz(struct addr a)
{
	if (a.lo)
		return (unsigned)__builtin_ctzll(a.lo);
	if (a.hi)
		return 64 + (unsigned)__builtin_ctzll(a.hi);
	return 128;
}

/* The mask of the top len bits of the 128-bit space (len 0..128). */
static struct addr net_mask(unsigned len)
{
	struct addr m;
	m.hi = len >= 64 ? UINT64_MAX : len == 0 ? 0 : UINT64_MAX << (64 - len);
	m.lo = len <= 64 ? 0 : len >= 128 ? UINT64_MAX : UINT64_MAX << (128 - len);
	return m;
}

/* 2^k - 1 (k 0..128): the host part of a block of 2^k addresses. */
static struct addr low_ones(unsigned k)
{
	struct addr m = net_mask(128 - k);
	m.hi = ~m.hi;
	m.lo = ~m.lo;
	return m;
}

static struct addr addr_or(struct addr a, struct addr b)
{
	a.hi |= b.hi;
	a.lo |= b.lo;
	return a;
}

static struct addr addr_and(struct addr a, struct addr b)
{
	a.hi &= b.hi;
	a.lo &= b.lo;
	return a;
}

/* The largest k with 2^k - 1 <= d, i.e. floor(log2(d + 1)) without overflowing at d = max. */
static unsigned log2_span(struct addr d)
{
	if (addr_is_max(d))
		return 128;
	struct addr s = addr_inc(d);
	return s.hi ? 127 - (unsigned)__builtin_clzll(s.hi) : 63 - (unsigned)__builtin_clzll(s.lo);
}

static unsigned family_bits(uint8_t family)
{
	return family == FAMILY_V4 ? 32 : 128;
}

/* The last address of a prefix. IPv4 lengths count from bit 96 of the 128-bit space. */
static struct addr prefix_last(const struct prefix *p)
{
	return addr_or(p->addr, low_ones(family_bits(p->family) - p->len));
}

uint64_t prefix_size(const struct prefix *p)
{
	unsigned host = family_bits(p->family) - p->len;
	return host >= 64 ? UINT64_MAX : (uint64_t)1 << host;
}

/* ---- parsing ------------------------------------------------------------------------ */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One decimal octet of a dotted quad at s[*i]. A leading zero ("010") is refused because
 * inet_aton() and friends read it as octal: the user's intent is unknowable. */
static bool parse_octet(const char *s, size_t n, size_t *i, uint32_t *octet)
{
	size_t start = *i;
	uint32_t v = 0;
	while (*i < n && *i - start < 3 && is_digit(s[*i]))
		v = v * 10 + (uint32_t)(s[(*i)++] - '0');
	size_t len = *i - start;
	if (len == 0 || v > 255 || (len > 1 && s[start] == '0'))
		return false;
	*octet = v;
	return true;
}

/* Exactly four dotted decimal octets and nothing else. */
static bool parse_v4(const char *s, size_t n, uint32_t *out)
{
	uint32_t v = 0, octet;
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0 && (i >= n || s[i++] != '.'))
			return false;
		if (!parse_octet(s, n, &i, &octet))
			return false;
		v = v << 8 | octet;
	}
	if (i != n)
		return false;
	*out = v;
	return true;
}

/* 1..4 hex digits exactly filling s[0..n). */
static bool parse_hex_group(const char *s, size_t n, uint16_t *out)
{
	if (n == 0 || n > 4)
		return false;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		int h = hex_value(s[i]);
		if (h < 0)
			return false;
		v = v << 4 | (unsigned)h;
	}
	*out = (uint16_t)v;
	return true;
}

/* Places the groups written before and after "::" (gap) into eight and packs them. */
static struct addr expand_v6(const uint16_t *g, int ng, int gap)
{
	uint16_t full[8] = { 0 };
	int head = gap < 0 ? ng : gap;
	for (int k = 0; k < head; k++)
		full[k] = g[k];
	for (int k = head; k < ng; k++)
		full[8 - ng + k] = g[k];
	struct addr a = { 0, 0 };
	for (int k = 0; k < 4; k++) {
		a.hi = a.hi << 16 | full[k];
		a.lo = a.lo << 16 | full[k + 4];
	}
	return a;
}

/* Steps over the ':' or "::" at s[*i] after a group, noting where a "::" stands. Refuses
 * a second "::" and a single ':' that ends the text. */
static bool skip_separator(const char *s, size_t n, size_t *i, int ng, int *gap)
{
	if (*i + 1 < n && s[*i + 1] == ':') {
		if (*gap >= 0)
			return false;
		*gap = ng;
		*i += 2;
		return true;
	}
	return ++*i < n;
}

/* A dotted-quad tail (::ffff:192.0.2.1): worth the last two groups. */
static bool parse_v4_tail(const char *s, size_t n, uint16_t *g, int *ng)
{
	uint32_t v4;
	if (*ng > 6 || !parse_v4(s, n, &v4))
		return false;
	g[(*ng)++] = (uint16_t)(v4 >> 16);
	g[(*ng)++] = (uint16_t)v4;
	return true;
}

/* RFC 4291 §2.2: eight hex groups, one "::" standing for one or more zero groups, and an
 * optional dotted-quad tail. Zone ids ("%eth0") are not addresses. */
static bool parse_v6(const char *s, size_t n, struct addr *out)
{
	uint16_t g[8];
	int ng = 0, gap = -1;
	size_t i = 0;
	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 0;
		i = 2;
	}
	while (i < n) {
		const char *colon = memchr(s + i, ':', n - i);
		size_t end = colon ? (size_t)(colon - s) : n;
		if (ng == 8)
			return false;
		if (memchr(s + i, '.', end - i)) {
			if (end != n || !parse_v4_tail(s + i, n - i, g, &ng))
				return false;
			break;
		}
		if (!parse_hex_group(s + i, end - i, &g[ng++]))
			return false;
		i = end;
		if (i < n && !skip_separator(s, n, &i, ng, &gap))
			return false;
	}
	if (gap < 0 ? ng != 8 : ng > 7)
		return false;
	*out = expand_v6(g, ng, gap);
	return true;
}

/* An IPv4 or IPv6 address filling s[0..n). A dotted quad is tried first: it is the common
 * case and fails within a few bytes on IPv6 text. */
static bool parse_addr(const char *s, size_t n, struct addr *a, uint8_t *family)
{
	uint32_t v4;
	if (parse_v4(s, n, &v4)) {
		*family = FAMILY_V4;
		a->hi = 0;
		a->lo = v4;
		return true;
	}
	*family = FAMILY_V6;
	return parse_v6(s, n, a);
}

/* A decimal prefix length up to max; leading zeros are harmless here, unlike in octets. */
static bool parse_length(const char *s, size_t n, unsigned max, unsigned *len)
{
	unsigned v = 0;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > max)
			return false;
	}
	*len = v;
	return true;
}

static void set_prefix(struct cidr_parsed *out, struct addr net, uint8_t family, unsigned len)
{
	out->prefix.addr = net;
	out->prefix.family = family;
	out->prefix.len = (uint8_t)len;
	out->range.lo = net;
	out->range.hi = prefix_last(&out->prefix);
	out->range.family = family;
	out->is_prefix = true;
}

/* "addr" or "addr/len"; slash is the offset of '/' or n. */
static enum cidr_status parse_prefix_text(const char *s, size_t n, size_t slash,
					  struct cidr_parsed *out)
{
	struct addr a;
	uint8_t family;
	unsigned bits, len;
	if (!parse_addr(s, slash, &a, &family))
		return CIDR_BAD_ADDRESS;
	bits = family_bits(family);
	len = bits;
	if (slash < n && !parse_length(s + slash + 1, n - slash - 1, bits, &len)) {
		out->range.family = family;
		out->err_offset = slash + 1;
		return CIDR_BAD_LENGTH;
	}
	struct addr net = addr_and(a, net_mask(128 - bits + len));
	set_prefix(out, net, family, len);
	return addr_eq(net, a) ? CIDR_OK : CIDR_HOST_BITS;
}

/* "lo-hi"; dash is the offset of '-'. Errors in the second address point at it. */
static enum cidr_status parse_range_text(const char *s, size_t n, size_t dash,
					 struct cidr_parsed *out)
{
	struct addr lo, hi;
	uint8_t flo, fhi;
	if (!parse_addr(s, dash, &lo, &flo))
		return CIDR_BAD_ADDRESS;
	out->err_offset = dash + 1;
	if (!parse_addr(s + dash + 1, n - dash - 1, &hi, &fhi))
		return CIDR_BAD_ADDRESS;
	if (flo != fhi)
		return CIDR_MIXED_FAMILY;
	out->range.lo = lo;
	out->range.hi = hi;
	out->range.family = flo;
	if (addr_cmp(lo, hi) > 0)
		return CIDR_REVERSED;
	out->err_offset = 0;
	return CIDR_OK;
}

enum cidr_status cidr_parse(const char *s, size_t n, struct cidr_parsed *out)
{
	size_t slash = n;
	memset(out, 0, sizeof(*out));
	/* One pass over the (short) text finds both separators; a '-' makes it a range. */
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '-')
			return parse_range_text(s, n, i, out);
		if (s[i] == '/' && slash == n)
			slash = i;
	}
	return parse_prefix_text(s, n, slash, out);
}

const char *cidr_status_str(enum cidr_status st)
{
	switch (st) {
	case CIDR_OK:
		return "ok";
	case CIDR_BAD_ADDRESS:
		return "not an IPv4 or IPv6 address";
	case CIDR_BAD_LENGTH:
		return "bad prefix length (IPv4 allows /0 to /32, IPv6 /0 to /128)";
	case CIDR_HOST_BITS:
		return "host bits set past the prefix length";
	case CIDR_REVERSED:
		return "range runs backwards: the first address is after the last";
	case CIDR_MIXED_FAMILY:
		return "range mixes IPv4 and IPv6";
	}
	return "unknown error";
}

/* ---- formatting --------------------------------------------------------------------- */

static size_t format_decimal(char *buf, unsigned v)
{
	char tmp[4];
	size_t n = 0, len;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	len = n;
	while (n)
		*buf++ = tmp[--n];
	return len;
}

static size_t format_v4(char *buf, uint32_t v)
{
	size_t n = 0;
	for (int shift = 24; shift >= 0; shift -= 8) {
		n += format_decimal(buf + n, (v >> shift) & 0xff);
		buf[n++] = shift ? '.' : '\0';
	}
	return n - 1;
}

static size_t format_hex_group(char *buf, unsigned v)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = 0;
	for (int shift = 12; shift >= 0; shift -= 4)
		if (v >> shift || shift == 0 || n)
			buf[n++] = digits[(v >> shift) & 0xf];
	return n;
}

/* RFC 5952 §4.2: the longest run of two or more zero groups, the first one on a tie. */
static void longest_zero_run(const uint16_t *g, int *start, int *len)
{
	*start = -1;
	*len = 1;
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > *len) {
			*start = i;
			*len = j - i;
		}
		i = j > i ? j : i + 1;
	}
}

static size_t format_v6(char *buf, struct addr a)
{
	/* RFC 5952 §5: IPv4-mapped addresses keep their dotted tail. */
	if (a.hi == 0 && a.lo >> 32 == 0xffff) {
		memcpy(buf, "::ffff:", 7);
		return 7 + format_v4(buf + 7, (uint32_t)a.lo);
	}
	uint16_t g[8];
	for (int k = 0; k < 4; k++) {
		g[k] = (uint16_t)(a.hi >> (48 - 16 * k));
		g[k + 4] = (uint16_t)(a.lo >> (48 - 16 * k));
	}
	int run, run_len;
	longest_zero_run(g, &run, &run_len);
	size_t n = 0;
	bool need_colon = false;
	for (int i = 0; i < 8;) {
		if (i == run) {
			buf[n++] = ':';
			buf[n++] = ':';
			need_colon = false;
			i += run_len;
			continue;
		}
		if (need_colon)
			buf[n++] = ':';
		n += format_hex_group(buf + n, g[i++]);
		need_colon = true;
	}
	buf[n] = '\0';
	return n;
}

size_t cidr_format_addr(char *buf, uint8_t family, struct addr a)
{
	if (family == FAMILY_V4)
		return format_v4(buf, (uint32_t)a.lo);
	return format_v6(buf, a);
}

size_t cidr_format_prefix(char *buf, const struct prefix *p)
{
	size_t n = cidr_format_addr(buf, p->family, p->addr);
	buf[n++] = '/';
	n += format_decimal(buf + n, p->len);
	buf[n] = '\0';
	return n;
}

/* ---- lists -------------------------------------------------------------------------- */

int cidr_list_add(struct cidr_list *l, const struct addr_range *r, uint32_t tag)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct cidr_input *v = cap > SIZE_MAX / sizeof(*v) ? NULL
				       : realloc(l->v, cap * sizeof(*v));
		if (!v) {
			errno = ENOMEM;
			return -1;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].range = *r;
	l->v[l->n].tag = tag;
	l->n++;
	return 0;
}

void cidr_list_free(struct cidr_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

int cidr_v4_list_reserve(struct cidr_v4_list *l, size_t n)
{
	if (n <= l->cap)
		return 0;
	struct cidr_v4_key *v = n > SIZE_MAX / sizeof(*v) ? NULL : realloc(l->v, n * sizeof(*v));
	if (!v) {
		errno = ENOMEM;
		return -1;
	}
	l->v = v;
	l->cap = n;
	return 0;
}

int cidr_v4_list_add(struct cidr_v4_list *l, const struct addr_range *r, uint32_t tag)
{
	if (l->n == l->cap && cidr_v4_list_reserve(l, l->cap ? l->cap * 2 : 64) < 0)
		return -1;
	l->v[l->n++] = (struct cidr_v4_key){ r->lo.lo << 32 | (r->hi.lo & 0xffffffff), tag };
	return 0;
}

void cidr_v4_list_free(struct cidr_v4_list *l)
{
	free(l->v);
	*l = (struct cidr_v4_list){ 0 };
}

void cidr_agg_free(struct cidr_agg *a)
{
	free(a->prefixes);
	free(a->tag_start);
	free(a->tags);
	memset(a, 0, sizeof(*a));
}

/* Growable arrays used while aggregating. */
struct prefix_vec {
	struct prefix *v;
	size_t n, cap;
};

struct u64_vec {
	uint64_t *v;
	size_t n, cap;
};

static int grow(void **v, size_t *cap, size_t elem)
{
	size_t c = *cap ? *cap * 2 : 256;
	void *bigger = c > SIZE_MAX / elem ? NULL : realloc(*v, c * elem);
	if (!bigger)
		return -1;
	*v = bigger;
	*cap = c;
	return 0;
}

static int prefix_push(struct prefix_vec *pv, uint8_t family, struct addr a, unsigned len)
{
	if (pv->n == pv->cap && grow((void **)&pv->v, &pv->cap, sizeof(*pv->v)))
		return -1;
	struct prefix *p = &pv->v[pv->n++];
	p->addr = a;
	p->family = family;
	p->len = (uint8_t)len;
	return 0;
}

static int u64_push(struct u64_vec *uv, uint64_t x)
{
	if (uv->n == uv->cap && grow((void **)&uv->v, &uv->cap, sizeof(*uv->v)))
		return -1;
	uv->v[uv->n++] = x;
	return 0;
}

/* ---- radix sorts -------------------------------------------------------------------- */

/* Turns a digit histogram into scatter offsets. Returns false when every key has the same
 * digit: that pass would not move anything and is skipped (typical for the zero low bytes
 * of real IPv6 prefixes, or the unused high bytes of small indexes). */
static bool digit_offsets(size_t *count, size_t n)
{
	size_t sum = 0;
	for (int d = 0; d < 256; d++) {
		if (count[d] == n)
			return false;
		size_t c = count[d];
		count[d] = sum;
		sum += c;
	}
	return true;
}

/* Stable LSD radix sort of a[0..n) on bytes first_byte..7 (0 is least significant). tmp
 * holds n keys. Bytes below first_byte ride along unsorted, as a payload. */
static void radix_sort_u64(uint64_t *a, uint64_t *tmp, size_t n, unsigned first_byte)
{
	size_t count[8][256] = { { 0 } };
	for (size_t i = 0; i < n; i++)
		for (unsigned b = first_byte; b < 8; b++)
			count[b][(a[i] >> (8 * b)) & 0xff]++;
	uint64_t *src = a, *dst = tmp;
	for (unsigned b = first_byte; b < 8; b++) {
		if (!digit_offsets(count[b], n))
			continue;
		for (size_t i = 0; i < n; i++)
			dst[count[b][(src[i] >> (8 * b)) & 0xff]++] = src[i];
		uint64_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, n * sizeof(*a));
}

/* An IPv6 sort key: the range's first address and the input's position. */
struct v6_key {
	struct addr lo;
	uint32_t index;
};

static unsigned v6_digit(const struct v6_key *k, unsigned b)
{
	return (unsigned)((b < 8 ? k->lo.lo >> (8 * b) : k->lo.hi >> (8 * (b - 8))) & 0xff);
}

/* The same sort for 128-bit keys: 16 byte digits, constant ones skipped. The histograms
 * (32 KiB) live on the stack. */
static void radix_sort_v6(struct v6_key *a, struct v6_key *tmp, size_t n)
{
	size_t count[16][256] = { { 0 } };
	for (size_t i = 0; i < n; i++)
		for (unsigned b = 0; b < 16; b++)
			count[b][v6_digit(&a[i], b)]++;
	struct v6_key *src = a, *dst = tmp;
	for (unsigned b = 0; b < 16; b++) {
		if (!digit_offsets(count[b], n))
			continue;
		for (size_t i = 0; i < n; i++)
			dst[count[b][v6_digit(&src[i], b)]++] = src[i];
		struct v6_key *t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, n * sizeof(*a));
}

/* Rearranges in[0..n) so in[j] = old in[order(j)]. */
static int apply_order(struct cidr_input *in, size_t n, const void *keys, bool v4)
{
	struct cidr_input *tmp = malloc(n * sizeof(*tmp));
	if (!tmp)
		return -1;
	for (size_t j = 0; j < n; j++) {
		size_t from = v4 ? (uint32_t)((const uint64_t *)keys)[j]
				 : ((const struct v6_key *)keys)[j].index;
		tmp[j] = in[from];
	}
	memcpy(in, tmp, n * sizeof(*in));
	free(tmp);
	return 0;
}

/* Sorts in[0..n) by first address. IPv4 packs (first address, position) into one 64-bit
 * key and sorts its top half; IPv6 sorts 128-bit keys with the position alongside. */
static int sort_inputs(struct cidr_input *in, size_t n, uint8_t family)
{
	bool v4 = family == FAMILY_V4;
	size_t size = v4 ? sizeof(uint64_t) : sizeof(struct v6_key);
	void *keys = malloc(n * size), *tmp = malloc(n * size);
	int ret = -1;
	if (!keys || !tmp)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (v4)
			((uint64_t *)keys)[i] = in[i].range.lo.lo << 32 | i;
		else
			((struct v6_key *)keys)[i] = (struct v6_key){ in[i].range.lo, (uint32_t)i };
	}
	if (v4)
		radix_sort_u64(keys, tmp, n, 4);
	else
		radix_sort_v6(keys, tmp, n);
	ret = apply_order(in, n, keys, v4);
out:
	free(keys);
	free(tmp);
	return ret;
}

/* ---- merging and splitting into prefixes ------------------------------------------- */

/* Splits [lo, hi] into the fewest prefixes: at each step the largest block that is aligned
 * at lo and does not pass hi. At most 2 * bits prefixes per range. */
static int split_range(struct prefix_vec *pv, uint8_t family, struct addr lo, struct addr hi)
{
	unsigned bits = family_bits(family);
	for (;;) {
		unsigned k = addr_ctz(lo), fit = log2_span(addr_sub(hi, lo));
		if (k > bits)
			k = bits;
		if (fit < k)
			k = fit;
		if (prefix_push(pv, family, lo, bits - k))
			return -1;
		struct addr last = addr_or(lo, low_ones(k));
		if (addr_cmp(last, hi) >= 0)
			return 0;
		lo = addr_inc(last);
	}
}

/* The same split for IPv4 in plain 64-bit arithmetic (hi - lo + 1 <= 2^32 cannot wrap). */
static int split_range_v4(struct prefix_vec *pv, uint64_t lo, uint64_t hi)
{
	for (;;) {
		unsigned k = lo ? (unsigned)__builtin_ctzll(lo) : 32;
		unsigned fit = 63 - (unsigned)__builtin_clzll(hi - lo + 1);
		if (k > 32)
			k = 32;
		if (fit < k)
			k = fit;
		if (prefix_push(pv, FAMILY_V4, (struct addr){ 0, lo }, 32 - k))
			return -1;
		lo += (uint64_t)1 << k;
		if (lo > hi)
			return 0;
	}
}

/* The bulk path: IPv4 without tags. Keys pack first << 32 | last, sorted on the top half. */
static int aggregate_v4_fast(const struct cidr_input *in, size_t n, struct prefix_vec *pv)
{
	uint64_t *keys = malloc(n * sizeof(*keys)), *tmp = malloc(n * sizeof(*tmp));
	int ret = -1;
	if (!keys || !tmp)
		goto out;
	for (size_t i = 0; i < n; i++)
		keys[i] = in[i].range.lo.lo << 32 | (in[i].range.hi.lo & 0xffffffff);
	radix_sort_u64(keys, tmp, n, 4);
	uint64_t lo = keys[0] >> 32, hi = keys[0] & 0xffffffff;
	for (size_t i = 1; i < n; i++) {
		uint64_t next_lo = keys[i] >> 32, next_hi = keys[i] & 0xffffffff;
		if (next_lo <= hi + 1) {	/* overlapping or adjacent */
			if (next_hi > hi)
				hi = next_hi;
			continue;
		}
		if (split_range_v4(pv, lo, hi))
			goto out;
		lo = next_lo;
		hi = next_hi;
	}
	ret = split_range_v4(pv, lo, hi);
out:
	free(keys);
	free(tmp);
	return ret;
}

/* Stable LSD radix sort of a[0..n) on the first address (bytes 4..7 of span). */
static void radix_sort_v4(struct cidr_v4_key *a, struct cidr_v4_key *tmp, size_t n)
{
	size_t count[8][256] = { { 0 } };
	for (size_t i = 0; i < n; i++)
		for (unsigned b = 4; b < 8; b++)
			count[b][(a[i].span >> (8 * b)) & 0xff]++;
	struct cidr_v4_key *src = a, *dst = tmp;
	for (unsigned b = 4; b < 8; b++) {
		if (!digit_offsets(count[b], n))
			continue;
		for (size_t i = 0; i < n; i++)
			dst[count[b][(src[i].span >> (8 * b)) & 0xff]++] = src[i];
		struct cidr_v4_key *t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, n * sizeof(*a));
}

/* Records (prefix index << 32 | tag) for each prefix of pv->v[first..] that the inputs
 * k[0..n) of one block overlap; the IPv4 twin of collect_tags. */
static int collect_tags_v4(const struct cidr_v4_key *k, size_t n, const struct prefix_vec *pv, size_t first,
			   struct u64_vec *pairs)
{
	size_t p = first;
	for (size_t j = 0; j < n; j++) {
		uint64_t lo = k[j].span >> 32, hi = k[j].span & 0xffffffff;
		while (pv->v[p].addr.lo + ((uint64_t)1 << (32 - pv->v[p].len)) - 1 < lo)
			p++;
		for (size_t q = p; q < pv->n && pv->v[q].addr.lo <= hi; q++)
			if (u64_push(pairs, (uint64_t)q << 32 | k[j].tag))
				return -1;
	}
	return 0;
}

/* The tags of the prefixes, laid out block by block as the merge makes them: the pairs of
 * one block (prefix index << 32 | tag) are sorted and appended, so no array of every pair
 * of the whole input is ever held. */
struct tag_builder {
	struct u64_vec pairs;		/* the current block's */
	uint64_t *tmp;			/* for sorting a large block's pairs */
	size_t cap_tmp;
	uint32_t *tags, *start;		/* the cidr_agg arrays being built */
	size_t n_tags, cap_tags, n_start, cap_start;
};

static int u32_push(uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
	if (*n == *cap && grow((void **)v, cap, sizeof(**v)))
		return -1;
	(*v)[(*n)++] = x;
	return 0;
}

static void sort_pairs(struct tag_builder *tb)
{
	uint64_t *v = tb->pairs.v;
	size_t n = tb->pairs.n;
	if (n > 32) {
		radix_sort_u64(v, tb->tmp, n, 0);
		return;
	}
	for (size_t i = 1; i < n; i++)	/* blocks are small: most hold one or two inputs */
		for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

/* Appends the tags of prefixes first..end-1 from the block's pairs. */
static int tags_flush(struct tag_builder *tb, size_t first, size_t end)
{
	if (tb->pairs.n > 32 && tb->cap_tmp < tb->pairs.n) {
		free(tb->tmp);
		tb->tmp = malloc(tb->pairs.n * sizeof(*tb->tmp));
		tb->cap_tmp = tb->tmp ? tb->pairs.n : 0;
		if (!tb->tmp)
			return -1;
	}
	sort_pairs(tb);
	const uint64_t *v = tb->pairs.v;
	size_t i = 0;
	for (size_t p = first; p < end; p++) {
		if (tb->n_tags > UINT32_MAX || u32_push(&tb->start, &tb->n_start, &tb->cap_start, (uint32_t)tb->n_tags))
			return -1;
		for (; i < tb->pairs.n && (v[i] >> 32) == p; i++)
			if ((i == 0 || v[i] != v[i - 1]) && u32_push(&tb->tags, &tb->n_tags, &tb->cap_tags, (uint32_t)v[i]))
				return -1;
	}
	tb->pairs.n = 0;
	return 0;
}

/* IPv4 from packed keys (sorted here, in place): the cover into pv and, with tb, the tags
 * of each prefix. The sort's scratch is freed before the merge. */
static int aggregate_v4_keys(struct cidr_v4_key *keys, size_t n, struct prefix_vec *pv, struct tag_builder *tb)
{
	struct cidr_v4_key *tmp = malloc(n * sizeof(*tmp));
	if (!tmp)
		return -1;
	radix_sort_v4(keys, tmp, n);
	free(tmp);
	for (size_t i = 0; i < n;) {
		uint64_t lo = keys[i].span >> 32, hi = keys[i].span & 0xffffffff;
		size_t j = i + 1;
		for (; j < n && keys[j].span >> 32 <= hi + 1; j++)	/* overlapping or adjacent */
			if ((keys[j].span & 0xffffffff) > hi)
				hi = keys[j].span & 0xffffffff;
		size_t first = pv->n;
		if (split_range_v4(pv, lo, hi))
			return -1;
		if (tb && (collect_tags_v4(keys + i, j - i, pv, first, &tb->pairs) || tags_flush(tb, first, pv->n)))
			return -1;
		i = j;
	}
	return 0;
}

/* IPv4 with tags from cidr_inputs: packed into keys first. */
static int aggregate_v4_tagged(const struct cidr_input *in, size_t n, struct prefix_vec *pv, struct tag_builder *tb)
{
	struct cidr_v4_key *keys = malloc(n * sizeof(*keys));
	if (!keys)
		return -1;
	for (size_t i = 0; i < n; i++)
		keys[i] = (struct cidr_v4_key){ in[i].range.lo.lo << 32 | (in[i].range.hi.lo & 0xffffffff), in[i].tag };
	int ret = aggregate_v4_keys(keys, n, pv, tb);
	free(keys);
	return ret;
}

/* Whether a range starting at lo joins a block ending at hi: overlapping or adjacent. */
static bool joins_block(struct addr lo, struct addr hi)
{
	return addr_is_max(hi) || addr_cmp(lo, addr_inc(hi)) <= 0;
}

/* Records (prefix index << 32 | tag) for every prefix in pv->v[first..] that each input of
 * one block overlaps. Inputs are sorted by first address, so the first prefix an input can
 * touch only moves forward. */
static int collect_tags(const struct cidr_input *in, size_t n, const struct prefix_vec *pv,
			size_t first, struct u64_vec *pairs)
{
	size_t p = first;
	for (size_t j = 0; j < n; j++) {
		while (addr_cmp(prefix_last(&pv->v[p]), in[j].range.lo) < 0)
			p++;
		for (size_t q = p; q < pv->n && addr_cmp(pv->v[q].addr, in[j].range.hi) <= 0; q++)
			if (u64_push(pairs, (uint64_t)q << 32 | in[j].tag))
				return -1;
	}
	return 0;
}

/* Sorts in[0..n) (one family) and appends its cover to pv; with pairs, also the tags. */
static int aggregate_sorted(struct cidr_input *in, size_t n, uint8_t family,
			    struct prefix_vec *pv, struct tag_builder *tb)
{
	if (n == 0)
		return 0;
	if (sort_inputs(in, n, family))
		return -1;
	for (size_t i = 0; i < n;) {
		struct addr lo = in[i].range.lo, hi = in[i].range.hi;
		size_t j = i + 1;
		for (; j < n && joins_block(in[j].range.lo, hi); j++)
			if (addr_cmp(in[j].range.hi, hi) > 0)
				hi = in[j].range.hi;
		size_t first = pv->n;
		if (split_range(pv, family, lo, hi))
			return -1;
		if (tb && (collect_tags(in + i, j - i, pv, first, &tb->pairs) || tags_flush(tb, first, pv->n)))
			return -1;
		i = j;
	}
	return 0;
}

/* Moves IPv4 inputs before IPv6 ones; returns how many are IPv4. */
static size_t partition_families(struct cidr_input *in, size_t n)
{
	size_t i = 0, j = n;
	while (i < j) {
		if (in[i].range.family == FAMILY_V4) {
			i++;
			continue;
		}
		struct cidr_input t = in[--j];
		in[j] = in[i];
		in[i] = t;
	}
	return i;
}

static void tag_builder_free(struct tag_builder *tb)
{
	free(tb->pairs.v);
	free(tb->tmp);
	free(tb->tags);
	free(tb->start);
}

/* Sized for one prefix and one tag per input, what a real list makes (more grow). */
static int aggregate_begin(struct prefix_vec *pv, struct tag_builder *tb, size_t n)
{
	pv->cap = n ? n : 1;
	if (!(pv->v = malloc(pv->cap * sizeof(*pv->v))))
		return -1;
	if (!tb)
		return 0;
	tb->cap_tags = tb->cap_start = n ? n : 1;
	tb->tags = malloc(tb->cap_tags * sizeof(*tb->tags));
	tb->start = malloc(tb->cap_start * sizeof(*tb->start));
	return tb->tags && tb->start ? 0 : -1;
}

/* The tail shared by both entry points: IPv6 (and any IPv4 left in l[n4..)) after the
 * IPv4 cover, then the result. */
static int aggregate_finish(struct cidr_list *l, size_t n4, struct prefix_vec *pv, struct tag_builder *tb,
			    struct cidr_agg *out)
{
	/* An empty list has no array: NULL + 0 is undefined behaviour in C. */
	if (l->n > n4 && aggregate_sorted(l->v + n4, l->n - n4, FAMILY_V6, pv, tb))
		return -1;
	if (tb && (pv->n > UINT32_MAX || tb->n_tags > UINT32_MAX ||
		   u32_push(&tb->start, &tb->n_start, &tb->cap_start, (uint32_t)tb->n_tags)))
		return -1;
	out->prefixes = pv->v;
	out->n = pv->n;
	pv->v = NULL;
	if (tb) {
		out->tags = tb->tags;
		out->tag_start = tb->start;
		tb->tags = tb->start = NULL;
	}
	return 0;
}

int cidr_aggregate(struct cidr_list *l, bool want_tags, struct cidr_agg *out)
{
	struct prefix_vec pv = { 0 };
	struct tag_builder builder = { 0 }, *tb = want_tags ? &builder : NULL;
	int ret = -1;
	memset(out, 0, sizeof(*out));
	/* Sort keys carry input positions, and tag pairs prefix indexes, in 32 bits: more
	 * would need over 200 GB of input anyway, and is reported like running out of it. */
	if (l->n > UINT32_MAX)
		goto out;
	size_t n4 = partition_families(l->v, l->n);
	if (!want_tags && n4 > 0 && aggregate_v4_fast(l->v, n4, &pv))
		goto out;
	if (want_tags && (aggregate_begin(&pv, tb, l->n) || (n4 > 0 && aggregate_v4_tagged(l->v, n4, &pv, tb))))
		goto out;
	ret = aggregate_finish(l, n4, &pv, tb, out);
out:
	if (ret)
		cidr_agg_free(out);
	free(pv.v);
	tag_builder_free(&builder);
	if (ret)
		errno = ENOMEM;
	return ret;
}

int cidr_aggregate_keys(struct cidr_v4_list *v4, struct cidr_list *l, bool want_tags, struct cidr_agg *out)
{
	struct prefix_vec pv = { 0 };
	struct tag_builder builder = { 0 }, *tb = want_tags ? &builder : NULL;
	int ret = -1;
	memset(out, 0, sizeof(*out));
	size_t n4 = partition_families(l->v, l->n);
	for (size_t i = 0; i < n4; i++)
		if (cidr_v4_list_add(v4, &l->v[i].range, l->v[i].tag) < 0)
			goto out;
	if (v4->n + l->n > UINT32_MAX || aggregate_begin(&pv, tb, v4->n + l->n - n4) ||
	    (v4->n && aggregate_v4_keys(v4->v, v4->n, &pv, tb)))
		goto out;
	cidr_v4_list_free(v4);
	ret = aggregate_finish(l, n4, &pv, tb, out);
out:
	if (ret)
		cidr_agg_free(out);
	cidr_v4_list_free(v4);
	free(pv.v);
	tag_builder_free(&builder);
	if (ret)
		errno = ENOMEM;
	return ret;
}
