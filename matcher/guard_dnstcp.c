/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_dnstcp.c — DNS over TCP: each direction's bytes in stream order (the client's
 * queries, the server's answers), cut into messages at their two-byte lengths (RFC 7766 §8). A segment past a gap is dropped, as for
 * ClientHellos, so at most one message is buffered per connection. The runner holds every
 * segment until the round's set update is committed, so the segment that completes an
 * answer reaches the client only after the answer's addresses are in the kernel. */
#include "guard_internal.h"

#include <stdlib.h>
#include <string.h>

void guard_dnsconns_free(struct gtab *t)
{
	size_t pos = 0;
	struct dnsconn *c;
	while (t->slots && (c = gtab_next(t, &pos)))
		free(c->buf);
	gtab_free(t);
}

void guard_dnsconns_expire(struct guard *g, uint64_t now_ms)
{
	size_t pos = 0;
	struct dnsconn *c;
	while ((c = gtab_next(&g->dnsconns, &pos))) {
		if (c->last_ms + g->cfg.conn_idle_ms > now_ms)
			continue;
		free(c->buf);
		gtab_remove(&g->dnsconns, c);
		gtab_next_after_remove(&pos);
	}
}

static void drop(struct guard *g, struct dnsconn *c)
{
	free(c->buf);
	gtab_remove(&g->dnsconns, c);
}

static struct dnsconn *conn_for(struct guard *g, const struct packet *p)
{
	struct conn_key k;
	bool created;
	memset(&k, 0, sizeof(k));
	k.family = p->family;
	k.sport = p->sport;
	k.dport = p->dport;
	k.src = p->src;
	k.dst = p->dst;
	struct dnsconn *c = gtab_find(&g->dnsconns, &k);
	if (c || (p->len == 0 && !(p->tcp_flags & TCP_SYN)) || (p->tcp_flags & TCP_RST))
		return c;
	if (!(c = gtab_insert(&g->dnsconns, &k, &created)))
		return NULL;	/* full: this connection's answers are not read */
	c->next_seq = p->seq;
	return c;
}

/* Reads every whole message at the start of c's buffer. */
static void read_messages(struct guard *g, struct dnsconn *c, const struct packet *p, uint64_t now_ms, guard_dns_fn fn,
			  void *arg)
{
	size_t off = 0;
	struct guard_dns_decision d;
	while (c->len - off >= 2) {
		size_t len = (size_t)c->buf[off] << 8 | c->buf[off + 1];
		if (c->len - off - 2 < len)
			break;
		guard_dns(g, now_ms, p, c->buf + off + 2, len, &d);
		fn(&d, arg);
		off += 2 + len;
	}
	if (off) {
		memmove(c->buf, c->buf + off, c->len - off);
		c->len -= off;
	}
}

/* Appends the bytes of p that are new; false when p lies past a gap. */
static bool append(struct dnsconn *c, const struct packet *p)
{
	uint32_t seq = p->seq + ((p->tcp_flags & TCP_SYN) ? 1 : 0);
	int32_t ahead = (int32_t)(seq - c->next_seq);
	if (ahead > 0)
		return false;
	size_t skip = (size_t)-(int64_t)ahead;
	if (skip >= p->len)
		return true;
	size_t n = p->len - skip;
	if (!c->buf && !(c->buf = malloc(GUARD_DNS_TCP_MAX)))
		return true;
	if (n > GUARD_DNS_TCP_MAX - c->len)
		n = GUARD_DNS_TCP_MAX - c->len;	/* cannot be a valid message: stop reading */
	memcpy(c->buf + c->len, p->payload + skip, n);
	c->len += n;
	c->next_seq = seq + (uint32_t)p->len;
	return true;
}

bool guard_dns_tcp(struct guard *g, uint64_t now_ms, const struct packet *p, guard_dns_fn fn, void *arg)
{
	struct dnsconn *c = conn_for(g, p);
	if (!c)
		return true;
	c->last_ms = now_ms;
	if (p->tcp_flags & TCP_SYN)
		c->next_seq = p->seq + 1;
	if (p->len > 0 && !append(c, p)) {
		g->counters.dns_tcp_out_of_order++;
		return false;
	}
	read_messages(g, c, p, now_ms, fn, arg);
	if (p->tcp_flags & (TCP_FIN | TCP_RST))
		drop(g, c);
	return true;
}
