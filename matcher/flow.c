/* SPDX-License-Identifier: GPL-2.0-or-later */
/* flow.c — connection tracking for the first bytes of each TCP direction.
 *
 * Each direction keeps a window of the stream's first bytes, indexed by offset from the first
 * payload byte (the SYN's sequence number + 1, or the first data seen when the capture began
 * mid-connection). Segments land at their offset whatever order they come in; the bytes
 * contiguous from offset 0 go to the parser as soon as they are, so retransmissions and
 * reordering are invisible to it. A direction's window is freed once its parser has decided. */
#include "flow.h"

#include <stdlib.h>
#include <string.h>

#define MAX_HOLES 16	/* out-of-order ranges remembered past the contiguous prefix */

struct range {
	uint32_t lo, hi;	/* stream offsets, [lo, hi) */
};

enum half_role { ROLE_TLS, ROLE_DNS, ROLE_NONE };

struct half {
	bool have_base, finished;
	uint32_t base;			/* sequence number of stream offset 0 */
	uint8_t *buf;			/* window bytes, allocated on the first payload */
	uint32_t window;
	uint32_t contiguous;		/* [0, contiguous) received */
	uint32_t fed;			/* [0, fed) handed to the parser */
	struct range ooo[MAX_HOLES];
	size_t n_ooo;
	enum half_role role;
	struct tls_stream *tls;
};

struct flow_key {
	uint8_t family;
	struct capture_endpoint a, b;	/* a is the endpoint that sorts first */
};

struct flow {
	struct flow_key key;
	struct half half[2];		/* [0]: sent by key.a, [1]: sent by key.b */
	struct flow *next;
};

struct flow_table {
	struct flow **buckets;
	size_t n_buckets, n_flows;
	capture_fn fn;
	void *arg;
	struct capture_record rec;	/* reused: a DNS response is ~20 KB */
};

struct flow_table *flow_table_new(capture_fn fn, void *arg)
{
	struct flow_table *ft = calloc(1, sizeof(*ft));
	if (ft && !(ft->buckets = calloc(ft->n_buckets = 1024, sizeof(*ft->buckets)))) {
		free(ft);
		return NULL;
	}
	if (ft) {
		ft->fn = fn;
		ft->arg = arg;
	}
	return ft;
}

static void half_release(struct half *h)
{
	free(h->buf);
	tls_stream_free(h->tls);
	h->buf = NULL;
	h->tls = NULL;
}

void flow_table_free(struct flow_table *ft)
{
	if (!ft)
		return;
	for (size_t i = 0; i < ft->n_buckets; i++)
		for (struct flow *f = ft->buckets[i], *next; f; f = next) {
			next = f->next;
			half_release(&f->half[0]);
			half_release(&f->half[1]);
			free(f);
		}
	free(ft->buckets);
	free(ft);
}

static int endpoint_cmp(const struct capture_endpoint *x, const struct capture_endpoint *y)
{
	int c = addr_cmp(x->addr, y->addr);
	return c ? c : (int)x->port - (int)y->port;
}

static uint64_t key_hash(const struct flow_key *k)
{
	uint64_t h = k->a.addr.hi ^ (k->a.addr.lo * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)k->a.port << 48);
	h ^= (k->b.addr.hi * 0xc2b2ae3d27d4eb4fULL) ^ k->b.addr.lo ^ ((uint64_t)k->b.port << 16);
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 32);
}

static bool key_equal(const struct flow_key *x, const struct flow_key *y)
{
	return x->family == y->family && !endpoint_cmp(&x->a, &y->a) && !endpoint_cmp(&x->b, &y->b);
}

static void grow_buckets(struct flow_table *ft)
{
	size_t n = ft->n_buckets * 2;
	struct flow **b = calloc(n, sizeof(*b));
	if (!b)
		return;	/* longer chains, still correct */
	for (size_t i = 0; i < ft->n_buckets; i++)
		for (struct flow *f = ft->buckets[i], *next; f; f = next) {
			next = f->next;
			size_t j = key_hash(&f->key) & (n - 1);
			f->next = b[j];
			b[j] = f;
		}
	free(ft->buckets);
	ft->buckets = b;
	ft->n_buckets = n;
}

/* The flow of p, created when new; *dir gets the half p's sender writes. NULL when the
 * table is full or on ENOMEM. */
static struct flow *flow_lookup(struct flow_table *ft, const struct packet *p, int *dir)
{
	struct capture_endpoint s = { p->family, p->src, p->sport }, d = { p->family, p->dst, p->dport };
	*dir = endpoint_cmp(&s, &d) <= 0 ? 0 : 1;
	struct flow_key key = { p->family, *dir ? d : s, *dir ? s : d };
	size_t i = key_hash(&key) & (ft->n_buckets - 1);
	for (struct flow *f = ft->buckets[i]; f; f = f->next)
		if (key_equal(&f->key, &key))
			return f;
	if (ft->n_flows >= FLOW_MAX)
		return NULL;
	struct flow *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->key = key;
	f->next = ft->buckets[i];
	ft->buckets[i] = f;
	if (++ft->n_flows > ft->n_buckets)
		grow_buckets(ft);
	return f;
}

static void fill_endpoints(struct capture_record *rec, const struct packet *p)
{
	rec->src = (struct capture_endpoint){ p->family, p->src, p->sport };
	rec->dst = (struct capture_endpoint){ p->family, p->dst, p->dport };
	rec->proto = p->proto == 6 ? PROTO_TCP : PROTO_UDP;
}

static int emit_dns(struct flow_table *ft, const struct packet *p, const uint8_t *msg, size_t len)
{
	struct capture_record *rec = &ft->rec;
	if (dns_parse_response(msg, len, &rec->dns, NULL) != DNS_OK)
		return 0;
	rec->kind = CAPTURE_DNS;
	fill_endpoints(rec, p);
	return ft->fn(rec, ft->arg);
}

static int emit_sni(struct flow_table *ft, const struct packet *p, const struct tls_hello_info *info,
		    bool malformed)
{
	struct capture_record *rec = &ft->rec;
	rec->kind = CAPTURE_SNI;
	rec->tls = *info;
	rec->malformed = malformed;
	fill_endpoints(rec, p);
	return ft->fn(rec, ft->arg);
}

/* Hands the newly contiguous bytes to the TLS parser. */
static int feed_tls(struct flow_table *ft, struct half *h, const struct packet *p)
{
	struct tls_hello_info info;
	while (h->fed < h->contiguous && !h->finished) {
		size_t used;
		enum tls_status st = tls_stream_feed(h->tls, h->buf + h->fed, h->contiguous - h->fed, &used, &info);
		h->fed += (uint32_t)used;
		if (st == TLS_NEED_MORE)
			continue;
		int rc = 0;
		if (st == TLS_FOUND || st == TLS_MALFORMED) {
			if (st == TLS_MALFORMED)
				info = (struct tls_hello_info){ 0 };
			rc = emit_sni(ft, p, &info, st == TLS_MALFORMED);
		}
		h->finished = st != TLS_FOUND;
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* RFC 7766 §8: each message behind a two-byte length; h->fed is the next message's start. */
static int feed_dns(struct flow_table *ft, struct half *h, const struct packet *p)
{
	while (h->contiguous - h->fed >= 2) {
		size_t len = (size_t)h->buf[h->fed] << 8 | h->buf[h->fed + 1];
		if (h->fed + 2 + len > h->window) {
			h->finished = true;
			return 0;
		}
		if (h->contiguous - h->fed - 2 < len)
			return 0;
		int rc = emit_dns(ft, p, h->buf + h->fed + 2, len);
		h->fed += (uint32_t)(2 + len);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The first stream offset at or after at that no received range covers, and in *end where
 * the next received range starts (or limit). */
static uint32_t next_unreceived(const struct half *h, uint32_t at, uint32_t limit, uint32_t *end)
{
	if (at < h->contiguous)
		at = h->contiguous;
	for (bool moved = true; moved;) {
		moved = false;
		for (size_t i = 0; i < h->n_ooo; i++)
			if (h->ooo[i].lo <= at && at < h->ooo[i].hi) {
				at = h->ooo[i].hi;
				moved = true;
			}
	}
	*end = limit;
	for (size_t i = 0; i < h->n_ooo; i++)
		if (h->ooo[i].lo > at && h->ooo[i].lo < *end)
			*end = h->ooo[i].lo;
	return at;
}

/* Copies the bytes of data at stream offset off that no earlier segment brought: the first
 * copy of a byte is the one read, as the receiver's in-order queue keeps it. A resend
 * that disagrees with it cannot change what was or will be parsed. */
static void copy_new_bytes(struct half *h, uint32_t off, const uint8_t *data, uint32_t len)
{
	uint32_t end, at = off;
	while ((at = next_unreceived(h, at, off + len, &end)) < off + len) {
		memcpy(h->buf + at, data + (at - off), end - at);
		at = end;
	}
}

/* Copies a segment into the window; returns false when nothing of it is new. */
static bool place_segment(struct half *h, const struct packet *p)
{
	uint32_t off = p->seq - h->base, len = (uint32_t)p->len;
	if ((int32_t)off < 0) {	/* starts before offset 0: a retransmission overlapping it */
		uint32_t cut = (uint32_t)-(int32_t)off;
		if (cut >= len)
			return false;
		off = 0;
		len -= cut;
	}
	const uint8_t *data = p->payload + (p->len - len);
	if (off >= h->window)
		return false;
	if (len > h->window - off)
		len = h->window - off;
	copy_new_bytes(h, off, data, len);
	if (off <= h->contiguous) {
		if (off + len > h->contiguous)
			h->contiguous = off + len;
	} else if (h->n_ooo < MAX_HOLES) {
		h->ooo[h->n_ooo++] = (struct range){ off, off + len };
	}
	return true;
}

/* Absorbs remembered out-of-order ranges that now touch the contiguous prefix. */
static void close_holes(struct half *h)
{
	for (bool grew = true; grew;) {
		grew = false;
		for (size_t i = 0; i < h->n_ooo; i++) {
			if (h->ooo[i].lo > h->contiguous)
				continue;
			if (h->ooo[i].hi > h->contiguous) {
				h->contiguous = h->ooo[i].hi;
				grew = true;
			}
			h->ooo[i--] = h->ooo[--h->n_ooo];
		}
	}
}

static bool half_start(struct half *h, const struct packet *p)
{
	h->role = p->sport == 53 ? ROLE_DNS : p->dport == 53 ? ROLE_NONE : ROLE_TLS;
	h->window = h->role == ROLE_DNS ? FLOW_DNS_WINDOW : FLOW_TLS_WINDOW;
	if (h->role == ROLE_NONE) {
		h->finished = true;
		return false;
	}
	h->buf = malloc(h->window);
	h->tls = h->role == ROLE_TLS ? tls_stream_new() : NULL;
	if (!h->buf || (h->role == ROLE_TLS && !h->tls)) {
		half_release(h);
		h->finished = true;
		return false;
	}
	return true;
}

static int tcp_segment(struct flow_table *ft, struct half *h, const struct packet *p)
{
	if (p->tcp_flags & TCP_SYN) {
		if (h->have_base && h->base == p->seq + 1)
			return 0;	/* a retransmitted SYN */
		half_release(h);	/* a new connection on the same ports */
		*h = (struct half){ .have_base = true, .base = p->seq + 1 };
	}
	if (p->len == 0 || h->finished)
		return 0;
	if (!h->have_base)
		*h = (struct half){ .have_base = true, .base = p->seq };
	if (!h->buf && !half_start(h, p))
		return 0;
	if (place_segment(h, p))
		close_holes(h);
	int rc = h->role == ROLE_DNS ? feed_dns(ft, h, p) : feed_tls(ft, h, p);
	if (h->finished)
		half_release(h);
	return rc;
}

int flow_table_packet(struct flow_table *ft, const struct packet *p)
{
	if (p->proto == 17)
		return p->sport == 53 ? emit_dns(ft, p, p->payload, p->len) : 0;
	int dir;
	struct flow *f = flow_lookup(ft, p, &dir);
	return f ? tcp_segment(ft, &f->half[dir], p) : 0;
}
