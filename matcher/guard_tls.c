/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_tls.c — one decision per TLS connection towards a learnt address.
 *
 * Only the client's bytes in stream order reach the parser. A segment past a gap is
 * dropped rather than buffered: the client resends it, and by then the bytes before it
 * have come, so the guard never holds more than one ClientHello's worth per connection.
 * Segments that only repeat bytes already read are let through. */
#include "guard_internal.h"

#include <string.h>

const char *guard_tls_reason_text(enum guard_tls_reason r)
{
	static const char *const text[] = {
		"name allowed", "CNAME of an allowed name", "name not allowed", "no server name",
		"not TLS", "malformed ClientHello", "too many connections", "",
	};
	return r <= GUARD_TLS_NONE ? text[r] : "?";
}

static void conn_key(struct conn_key *k, const struct packet *p)
{
	memset(k, 0, sizeof(*k));
	k->family = p->family;
	k->sport = p->sport;
	k->dport = p->dport;
	k->src = p->src;
	k->dst = p->dst;
}

static void conn_drop(struct guard *g, struct conn *c)
{
	tls_stream_free(c->tls);
	gtab_remove(&g->conns, c);
}

/* The connection of p, made on its SYN or first data. NULL: not worth tracking (a bare
 * ACK, FIN or RST of a connection never seen), or no room (*full set). */
static struct conn *conn_for(struct guard *g, const struct packet *p, bool *full)
{
	struct conn_key k;
	bool created;
	*full = false;
	conn_key(&k, p);
	struct conn *c = gtab_find(&g->conns, &k);
	if (c || (p->len == 0 && !(p->tcp_flags & TCP_SYN)) || (p->tcp_flags & TCP_RST))
		return c;
	if (!(c = gtab_insert(&g->conns, &k, &created)) || !(c->tls = tls_stream_new())) {
		if (c)
			gtab_remove(&g->conns, c);
		*full = true;
		return NULL;
	}
	/* Without the SYN (the guard started mid-connection) the stream starts here. */
	c->next_seq = p->seq;
	return c;
}

static void allow_or_deny(struct guard *g, const struct packet *p, struct guard_tls_decision *d)
{
	const char *name = d->hello.name;
	size_t len = strlen(name);
	struct verdict_hit hit;
	g->counters.tls_hellos++;
	d->verdict = GUARD_TLS_DENY;
	d->reason = GUARD_TLS_NO_NAME;
	if (!d->hello.has_name || len == 0) {
		g->counters.tls_no_sni++;
		return;
	}
	d->reason = GUARD_TLS_NAME_DENIED;
	if (verdict_flow(g->view.vt, name, len, PROTO_TCP, p->dport, &hit)) {
		d->verdict = GUARD_TLS_ALLOW;
		d->reason = GUARD_TLS_NAME_ALLOWED;
		d->rule = hit.rule;
		return;
	}
	struct alias_key k;
	memset(&k, 0, sizeof(k));
	memcpy(k.name, name, len < NAME_MAX_LEN ? len : NAME_MAX_LEN);
	const struct alias *a = gtab_find(&g->aliases, &k);
	if (a && verdict_flow(g->view.vt, a->target, strlen(a->target), PROTO_TCP, p->dport, &hit)) {
		d->verdict = GUARD_TLS_ALLOW;
		d->reason = GUARD_TLS_ALIAS_ALLOWED;
		d->via = a->target;
		d->rule = hit.rule;
	}
}

/* Feeds the new bytes of p to the connection's parser and decides when it can. */
static void feed(struct guard *g, struct conn *c, const struct packet *p, struct guard_tls_decision *d)
{
	uint32_t seq = p->seq + ((p->tcp_flags & TCP_SYN) ? 1 : 0);
	int32_t ahead = (int32_t)(seq - c->next_seq);
	if (ahead > 0) {
		d->verdict = GUARD_TLS_HOLD;
		g->counters.tls_out_of_order++;
		return;
	}
	size_t skip = (size_t)-(int64_t)ahead;
	if (skip >= p->len)
		return;		/* a retransmission of bytes already read */
	size_t used;
	g->counters.tls_segments++;
	enum tls_status st = tls_stream_feed(c->tls, p->payload + skip, p->len - skip, &used, &d->hello);
	c->next_seq = seq + (uint32_t)p->len;
	switch (st) {
	case TLS_NEED_MORE: return;
	case TLS_FOUND: allow_or_deny(g, p, d); break;
	case TLS_MALFORMED: d->verdict = GUARD_TLS_DENY; d->reason = GUARD_TLS_MALFORMED; break;
	default: d->verdict = GUARD_TLS_DENY; d->reason = GUARD_TLS_NOT_TLS; g->counters.tls_not_tls++; break;
	}
}

void guard_tls(struct guard *g, uint64_t now_ms, const struct packet *p, struct guard_tls_decision *d)
{
	bool full;
	*d = (struct guard_tls_decision){ .verdict = GUARD_TLS_PASS, .reason = GUARD_TLS_NONE };
	struct conn *c = conn_for(g, p, &full);
	if (full) {
		d->verdict = GUARD_TLS_DENY;
		d->reason = GUARD_TLS_TOO_MANY;
		g->counters.tls_table_full++;
		g->counters.tls_denied++;
		return;
	}
	if (!c)
		return;
	c->last_ms = now_ms;
	if (p->tcp_flags & TCP_SYN)
		c->next_seq = p->seq + 1;
	if (p->len > 0)
		feed(g, c, p, d);
	if (d->verdict == GUARD_TLS_ALLOW || d->verdict == GUARD_TLS_DENY || (p->tcp_flags & (TCP_RST | TCP_FIN)))
		conn_drop(g, c);
	if (d->verdict == GUARD_TLS_ALLOW)
		g->counters.tls_allowed++;
	else if (d->verdict == GUARD_TLS_DENY)
		g->counters.tls_denied++;
}
