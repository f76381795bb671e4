/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_round.c — one round of packets, and the kernel updates they cause. */
#include "guard_run_internal.h"

#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t run_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- logging decisions ---- */

static void log_dns(struct runner *r, const struct packet *p, const struct guard_dns_decision *d)
{
	char client[CIDR_TEXT_MAX], addrs[512];
	if (d->what == GUARD_DNS_LEARN && glog_on(r->log, GLOG_INFO)) {
		size_t len = 0, i;
		addrs[0] = '\0';
		/* The line stays short; the count says how many more there were (all were learnt). */
		for (i = 0; i < d->resp->n_addrs && len + CIDR_TEXT_MAX + 32 < sizeof(addrs); i++) {
			if (i)
				addrs[len++] = ',';
			len += cidr_format_addr(addrs + len, d->resp->addrs[i].family, d->resp->addrs[i].addr);
		}
		if (i < d->resp->n_addrs)
			snprintf(addrs + len, sizeof(addrs) - len, ",+%zu more", d->resp->n_addrs - i);
		cidr_format_addr(client, p->family, p->dst);
		glog(r->log, GLOG_INFO, "dns learn name=%s%s%s set=%s%s addrs=%s ttl=%u new=%zu refresh=%zu client=%s",
		     d->resp->question, d->matched != d->resp->question ? " via=" : "",
		     d->matched != d->resp->question ? d->matched : "", d->set, d->n_sets > 1 ? ",..." : "", addrs,
		     d->resp->ttl, d->n_new, d->n_refresh, client);
	} else if (d->what == GUARD_DNS_UNSOLICITED && glog_on(r->log, GLOG_INFO)) {
		char server[CIDR_TEXT_MAX];
		cidr_format_addr(server, p->family, p->src);
		cidr_format_addr(client, p->family, p->dst);
		glog(r->log, GLOG_INFO, "dns unsolicited name=%s id=%u server=%s:%u client=%s:%u: %s, not read",
		     d->resp->question, d->resp->id, server, p->sport, client, p->dport, d->why);
	} else if (d->what == GUARD_DNS_QUERY && glog_on(r->log, GLOG_DEBUG)) {
		cidr_format_addr(client, p->family, p->src);
		glog(r->log, GLOG_DEBUG, "dns query name=%s type=%u id=%u client=%s:%u", d->resp->question,
		     d->resp->qtype, d->resp->id, client, p->sport);
	} else if (d->what == GUARD_DNS_IGNORE && glog_on(r->log, GLOG_DEBUG)) {
		glog(r->log, GLOG_DEBUG, "dns ignore name=%s answers=%zu", d->resp->question, d->resp->n_addrs);
	} else if (d->what == GUARD_DNS_MALFORMED && glog_on(r->log, GLOG_DEBUG)) {
		glog(r->log, GLOG_DEBUG, "dns malformed: %s", d->why ? d->why : "?");
	}
}

static void log_tls(struct runner *r, const struct packet *p, const struct guard_tls_decision *d)
{
	enum glog_level l = d->verdict == GUARD_TLS_ALLOW ? GLOG_INFO : GLOG_NOTICE;
	char src[CIDR_TEXT_MAX], dst[CIDR_TEXT_MAX], rule[64] = "";
	if (d->verdict == GUARD_TLS_HOLD)
		l = GLOG_DEBUG;
	if (d->verdict == GUARD_TLS_PASS || !glog_on(r->log, l))
		return;
	cidr_format_addr(src, p->family, p->src);
	cidr_format_addr(dst, p->family, p->dst);
	if (d->rule)
		snprintf(rule, sizeof(rule), " rule=%s:%u", d->rule->loc.file, d->rule->loc.line);
	if (d->verdict == GUARD_TLS_HOLD) {
		glog(r->log, l, "tls hold client=%s:%u server=%s:%u: segment after a gap", src, p->sport, dst, p->dport);
		return;
	}
	glog(r->log, l, "tls %s sni=%s%s%s%s client=%s:%u server=%s:%u reason=\"%s\"%s",
	     d->verdict == GUARD_TLS_ALLOW ? "allow" : "deny", d->hello.has_name ? d->hello.name : "-",
	     d->hello.ech ? " ech=outer" : "", d->via ? " via=" : "", d->via ? d->via : "", src, p->sport, dst,
	     p->dport, guard_tls_reason_text(d->reason), rule);
}

/* ---- packets ---- */

static void hold(struct runner *r, uint16_t queue, uint32_t id)
{
	if (r->n_held == r->cap_held) {
		size_t cap = r->cap_held ? 2 * r->cap_held : 1024;
		struct held *v = realloc(r->held, cap * sizeof(*v));
		if (!v) {	/* cannot remember it: release it now rather than never */
			pq_verdict(r->q, queue, id, PQ_ACCEPT, false, 0);
			return;
		}
		r->held = v;
		r->cap_held = cap;
	}
	r->held[r->n_held++] = (struct held){ queue, id, r->now_us };
}

struct dns_log {
	struct runner *r;
	const struct packet *p;
};

static void log_dns_cb(const struct guard_dns_decision *d, void *arg)
{
	struct dns_log *l = arg;
	log_dns(l->r, l->p, d);
}

/* A DNS message over UDP (an answer, or a query), or a segment of DNS over TCP. Returns
 * false when the segment must be dropped (it lies past a gap in the stream). */
static bool dns_packet(struct runner *r, const struct packet *p)
{
	struct guard_dns_decision d;
	guard_counters(r->g)->packets_dns++;
	if (p->proto == 17) {
		guard_dns(r->g, r->now_us / 1000, p, p->payload, p->len, &d);
		log_dns(r, p, &d);
		return true;
	}
	struct dns_log l = { r, p };
	return guard_dns_tcp(r->g, r->now_us / 1000, p, log_dns_cb, &l);
}

/* A denied ClientHello routed through the gateway goes on to the server as a FIN
 * (guard_steer.h, deny_reset), so the server's end closes too; the local hooks and
 * --deny drop keep the packet as it is. */
static void deny_verdict(struct runner *r, const struct pq_packet *qp, uint32_t mark)
{
	uint8_t fin[256];
	size_t n = r->o->deny_reset && qp->hook == NF_INET_FORWARD ? packet_tcp_fin(qp->data, qp->len, fin, sizeof(fin)) : 0;
	if (n == 0 || pq_verdict_packet(r->q, qp->queue, qp->id, PQ_REPEAT, mark, fin, n) < 0)
		pq_verdict(r->q, qp->queue, qp->id, PQ_REPEAT, true, mark);
}

static void tls_packet(struct runner *r, const struct pq_packet *qp, const struct packet *p)
{
	struct guard_tls_decision d;
	uint32_t mark = qp->mark & ~STEER_MARK_MASK;
	guard_counters(r->g)->packets_tls++;
	guard_tls(r->g, r->now_us / 1000, p, &d);
	log_tls(r, p, &d);
	switch (d.verdict) {
	case GUARD_TLS_PASS: pq_verdict(r->q, qp->queue, qp->id, PQ_ACCEPT, false, 0); break;
	case GUARD_TLS_HOLD: pq_verdict(r->q, qp->queue, qp->id, PQ_DROP, false, 0); break;
	/* The mark reaches the conntrack entry when the hook runs again (guard_steer.h). */
	case GUARD_TLS_ALLOW: pq_verdict(r->q, qp->queue, qp->id, PQ_REPEAT, true, mark | STEER_MARK_ALLOW); break;
	case GUARD_TLS_DENY: deny_verdict(r, qp, mark | STEER_MARK_DENY); break;
	}
}

static void on_queued(const struct pq_packet *qp, void *arg)
{
	struct runner *r = arg;
	struct packet p;
	bool dns = qp->queue == r->o->dns_queue;
	if (packet_decode(LINK_RAW, qp->data, qp->len, &p) != PACKET_OK) {
		/* Nothing to read: a DNS answer goes on (nothing is learnt from it, so what it
		 * names stays closed); a TLS segment is dropped, as its connection is unchecked. */
		guard_counters(r->g)->packets_undecodable++;
		pq_verdict(r->q, qp->queue, qp->id, dns ? PQ_ACCEPT : PQ_DROP, false, 0);
		return;
	}
	if (dns && p.sport == 53) {
		if (dns_packet(r, &p))
			hold(r, qp->queue, qp->id);
		else
			pq_verdict(r->q, qp->queue, qp->id, PQ_DROP, false, 0);
	} else if (!dns && p.proto == 6) {
		tls_packet(r, qp, &p);
	} else {
		pq_verdict(r->q, qp->queue, qp->id, PQ_ACCEPT, false, 0);
	}
}

static void on_logged(const struct plog_packet *lp, void *arg)
{
	struct runner *r = arg;
	struct packet p;
	if (packet_decode(LINK_RAW, lp->data, lp->len, &p) != PACKET_OK) {
		guard_counters(r->g)->packets_undecodable++;
		return;
	}
	/* A copy: a gap cannot be waited out, the message goes unread. */
	if (p.sport == 53 || p.dport == 53)
		dns_packet(r, &p);
}

void run_read_queries(struct runner *r)
{
	if (!r->lg)
		return;
	guard_queries_only(r->g, r->q != NULL);
	/* Bounded: a flood of queries must not starve the answers. */
	if (plog_receive(r->lg, 4096, on_logged, r) < 0)
		glog(r->log, GLOG_ERR, "cannot read logged DNS queries: %s", strerror(errno));
	guard_queries_only(r->g, false);
}

/* All held answers come from the DNS queue, read in id order: one batch verdict up to the
 * last of them releases the round (and the answers it already let through are gone). */
static void release_held(struct runner *r)
{
	uint64_t now = run_now_us();
	uint32_t last = 0;
	for (size_t i = 0; i < r->n_held; i++) {
		last = r->held[i].id;
		lat_hist_add(&r->hold, now - r->held[i].since_us);
	}
	if (r->n_held == 1)
		pq_verdict(r->q, r->held[0].queue, last, PQ_ACCEPT, false, 0);
	else if (r->n_held > 1)
		pq_verdict_upto(r->q, r->held[0].queue, last, PQ_ACCEPT);
	r->n_held = 0;
}

int run_round(struct runner *r)
{
	r->now_us = run_now_us();
	if (r->q)
		run_read_queries(r);
	int n = r->q ? pq_receive(r->q, 1024, on_queued, r) : plog_receive(r->lg, 1024, on_logged, r);
	run_commit(r);
	if (r->q) {
		release_held(r);
		if (pq_flush(r->q) < 0)
			glog(r->log, GLOG_ERR, "cannot send verdicts: %s", strerror(errno));
	}
	glog_flush(r->log);
	if (n < 0)
		glog(r->log, GLOG_ERR, "cannot read packets: %s", strerror(errno));
	return n < 0 ? -1 : 0;
}

/* ---- kernel updates ---- */

static struct gset_elem *scratch(struct runner *r, size_t n)
{
	if (n > r->cap_scratch) {
		struct gset_elem *v = realloc(r->scratch, n * sizeof(*v));
		if (!v)
			return NULL;
		r->scratch = v;
		r->cap_scratch = n;
	}
	return r->scratch;
}

/* Adds the pending elements of set i / family f to the batch, with the refresh the kernel
 * needs. Returns -1 on ENOMEM. */
static int batch_set(struct runner *r, const struct guard_update *u, size_t n, size_t i, int f, bool deletes)
{
	struct gset_elem *e = scratch(r, n);
	size_t k = 0, known = 0;
	if (!e)
		return -1;
	for (size_t j = 0; j < n; j++)
		if (u[j].set == i && (u[j].family == FAMILY_V6) == f)
			e[k++] = (struct gset_elem){ .family = u[j].family, .addr = u[j].addr, .timeout_ms = u[j].timeout_ms };
	if (k == 0)
		return 0;
	const char *set = guard_set_at(r->g, i)->kset[f];
	const char *table = r->policy->table;
	if (r->refresh == GSET_REFRESH_REPLACE && gset_batch_elems(r->nl, table, set, e, k, GSET_DESTROY) < 0)
		return -1;
	if (r->refresh == GSET_REFRESH_DELETE && deletes) {
		/* DELSETELEM fails on an absent element: only those the guard knows are there. */
		struct gset_elem *d = malloc(k * sizeof(*d));
		for (size_t j = 0; d && j < n; j++)
			if (u[j].set == i && (u[j].family == FAMILY_V6) == f && u[j].known)
				d[known++] = (struct gset_elem){ .family = u[j].family, .addr = u[j].addr };
		int rc = d && known ? gset_batch_elems(r->nl, table, set, d, known, GSET_DELETE) : 0;
		free(d);
		if (!d || rc < 0)
			return -1;
	}
	return gset_batch_elems(r->nl, table, set, e, k, GSET_ADD);
}

static int commit_once(struct runner *r, bool deletes, struct gnl_error *err)
{
	size_t n;
	const struct guard_update *u = guard_pending(r->g, &n);
	gnl_batch_start(r->nl);
	for (size_t i = 0; i < guard_n_sets(r->g); i++)
		for (int f = 0; f < 2; f++)
			if (batch_set(r, u, n, i, f, deletes) < 0) {
				err->err = ENOMEM;
				return -1;
			}
	if (gnl_batch_commit(r->nl, err) < 0)
		return -1;
	r->genid++;
	return 0;
}

void run_commit(struct runner *r)
{
	size_t n;
	struct gnl_error err;
	guard_pending(r->g, &n);
	if (n == 0)
		return;
	int rc = commit_once(r, true, &err);
	/* An element the guard believed there expired meanwhile: add without deleting. */
	if (rc < 0 && err.err == ENOENT && r->refresh == GSET_REFRESH_DELETE)
		rc = commit_once(r, false, &err);
	if (rc < 0)
		glog(r->log, GLOG_ERR, "cannot update the dynamic sets (%zu elements): %s", n, strerror(err.err));
	guard_pending_done(r->g, rc == 0, run_now_ms());
}

void run_removals(struct runner *r)
{
	size_t n;
	const struct guard_removal *rm = guard_removals(r->g, &n);
	struct gnl_error err;
	enum gset_op op = r->refresh == GSET_REFRESH_DELETE ? GSET_DELETE : GSET_DESTROY;
	size_t failed = 0;
	/* One batch with DESTROY (absent elements are no error); with DELETE (kernels before
	 * 6.3) one batch per element, since one expired element would abort them all. */
	for (size_t i = 0; i < n;) {
		size_t until = op == GSET_DESTROY ? n : i + 1;
		gnl_batch_start(r->nl);
		for (; i < until; i++) {
			struct gset_elem e = { .family = rm[i].family, .addr = rm[i].addr };
			gset_batch_elems(r->nl, r->policy->table, rm[i].kset, &e, 1, op);
		}
		if (gnl_batch_commit(r->nl, &err) == 0)
			r->genid++;
		else
			failed++;
	}
	if (n)
		glog(r->log, failed ? GLOG_WARNING : GLOG_NOTICE, "reload: %zu learnt addresses no longer allowed%s", n,
		     failed ? ", some could not be removed (already expired?)" : ", removed");
	guard_removals_clear(r->g);
}
