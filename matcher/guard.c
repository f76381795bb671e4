/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard.c — the guard's policy view, DNS learning and pending kernel updates. TLS checks
 * live in guard_tls.c, reload and persistence in guard_state.c. */
#include "guard_internal.h"

#include <stdlib.h>
#include <string.h>

void guard_config_defaults(struct guard_config *c)
{
	*c = (struct guard_config){
		.ttl_min = 60,
		.ttl_max = 86400,
		.max_learnt = 1000000,
		.max_conns = 65536,
		.conn_idle_ms = 10000,
		.max_queries = 65536,
		/* Longer than stub resolvers wait (glibc 5 s, dig 5 s) for a recursive answer. */
		.query_timeout_ms = 10000,
	};
}

/* ---- the policy view ---- */

static bool rule_allows_443(const struct ir_rule *r)
{
	if (r->dir != DIR_OUT || (r->proto != PROTO_ANY && r->proto != PROTO_TCP))
		return false;
	if (r->n_ports == 0)
		return true;
	for (size_t i = 0; i < r->n_ports; i++)
		if (r->ports[i].lo <= 443 && 443 <= r->ports[i].hi)
			return true;
	return false;
}

void guard_view_free(struct guard_view *v)
{
	for (size_t i = 0; i < v->n_sets; i++)
		domset_free(v->names[i]);
	free(v->names);
	free(v->sets);
	verdict_table_free(v->vt);
	*v = (struct guard_view){ 0 };
}

int guard_view_build(struct guard_view *v, const struct policy *p, const char **why)
{
	*v = (struct guard_view){ .policy = p };
	*why = "out of memory";
	if (!(v->sets = calloc(p->n_sets + 1, sizeof(*v->sets))) || !(v->names = calloc(p->n_sets + 1, sizeof(*v->names))))
		goto fail;
	for (size_t i = 0; i < p->n_sets; i++) {
		const struct ir_set *s = &p->sets[i];
		if (!kset_present(s, KSET_DNS_V4))
			continue;
		struct guard_set *gs = &v->sets[v->n_sets];
		*gs = (struct guard_set){ .set = s, .present = { true, true } };
		kset_name(gs->kset[0], s, KSET_DNS_V4);
		kset_name(gs->kset[1], s, KSET_DNS_V6);
		for (size_t r = 0; r < p->n_rules; r++)
			gs->tls |= p->rules[r].set == s && rule_allows_443(&p->rules[r]);
		if (!(v->names[v->n_sets] = verdict_compile_set(s, why)))
			goto fail;
		v->n_sets++;
	}
	if (!(v->vt = verdict_table_new(p, why)))
		goto fail;
	return 0;
fail:
	guard_view_free(v);
	return -1;
}

/* ---- the guard ---- */

static void learnt_free_all(struct gtab *t)
{
	size_t pos = 0;
	struct learnt *e;
	while ((e = gtab_next(t, &pos)))
		free(e->name);
	gtab_free(t);
}

static void conns_free_all(struct gtab *t)
{
	size_t pos = 0;
	struct conn *c;
	while ((c = gtab_next(t, &pos)))
		tls_stream_free(c->tls);
	gtab_free(t);
}

struct guard *guard_new(const struct policy *p, const struct guard_config *c, const char **why)
{
	struct guard *g = calloc(1, sizeof(*g));
	*why = "out of memory";
	if (!g)
		return NULL;
	g->cfg = *c;
	if (gtab_init(&g->learnt, sizeof(struct learnt), sizeof(struct learnt_key), c->max_learnt) < 0 ||
	    gtab_init(&g->aliases, sizeof(struct alias), sizeof(struct alias_key), GUARD_MAX_ALIASES) < 0 ||
	    gtab_init(&g->conns, sizeof(struct conn), sizeof(struct conn_key), c->max_conns) < 0 ||
	    gtab_init(&g->dnsconns, sizeof(struct dnsconn), sizeof(struct conn_key), GUARD_MAX_DNS_CONNS) < 0 ||
	    !(g->queries = dnsq_new(c->max_queries, c->query_timeout_ms)) ||
	    guard_view_build(&g->view, p, why) < 0) {
		guard_free(g);
		return NULL;
	}
	return g;
}

void guard_free(struct guard *g)
{
	if (!g)
		return;
	guard_view_free(&g->view);
	learnt_free_all(&g->learnt);
	gtab_free(&g->aliases);
	conns_free_all(&g->conns);
	guard_dnsconns_free(&g->dnsconns);
	dnsq_free(g->queries);
	free(g->pending);
	free(g->removals);
	free(g);
}

size_t guard_n_sets(const struct guard *g)
{
	return g->view.n_sets;
}

const struct guard_set *guard_set_at(const struct guard *g, size_t i)
{
	return &g->view.sets[i];
}

void guard_set_present(struct guard *g, size_t i, uint8_t family, bool present)
{
	g->view.sets[i].present[family == FAMILY_V6] = present;
}

struct guard_counters *guard_counters(struct guard *g)
{
	return &g->counters;
}

size_t guard_n_learnt(const struct guard *g)
{
	return g->learnt.n;
}

size_t guard_n_aliases(const struct guard *g)
{
	return g->aliases.n;
}

size_t guard_n_conns(const struct guard *g)
{
	return g->conns.n;
}

size_t guard_n_queries(struct guard *g, uint64_t now_ms)
{
	return dnsq_outstanding_step(g->queries, now_ms);
}

/* ---- DNS ---- */

uint32_t guard_clamp_ttl(const struct guard_config *c, uint32_t ttl)
{
	return ttl < c->ttl_min ? c->ttl_min : ttl > c->ttl_max ? c->ttl_max : ttl;
}

/* The first name of the response's chain (question, then each CNAME target) that set i
 * matches, or NULL. */
static const char *chain_match(struct guard *g, size_t i, const struct dns_response *r)
{
	struct domset *d = g->view.names[i];
	if (domset_match(d, r->question, strlen(r->question)))
		return r->question;
	for (size_t k = 0; k < r->n_cnames; k++)
		if (domset_match(d, r->cnames[k].name, strlen(r->cnames[k].name)))
			return r->cnames[k].name;
	return NULL;
}

static struct guard_update *pending_push(struct guard *g)
{
	if (g->n_pending == g->cap_pending) {
		size_t cap = g->cap_pending ? 2 * g->cap_pending : 256;
		struct guard_update *v = realloc(g->pending, cap * sizeof(*v));
		if (!v)
			return NULL;
		g->pending = v;
		g->cap_pending = cap;
	}
	return &g->pending[g->n_pending++];
}

void guard_learnt_key(struct learnt_key *k, uint32_t set, uint8_t family, struct addr a)
{
	memset(k, 0, sizeof(*k));
	k->family = family;
	k->set = set;
	k->addr = a;
}

/* Remembers name as what taught e (kept for reload: does the set still match it?). */
static void learnt_name(struct learnt *e, const char *name)
{
	if (e->name && !strcmp(e->name, name))
		return;
	char *copy = strdup(name);
	if (copy) {
		free(e->name);
		e->name = copy;
	}
}

/* One address for set i: sent unless the kernel already keeps it long enough. */
static void learn_addr(struct guard *g, uint32_t i, uint64_t now, const struct dns_addr *a, const char *name,
		       struct guard_dns_decision *d)
{
	uint32_t timeout_ms = guard_clamp_ttl(&g->cfg, a->ttl) * 1000u;
	uint64_t needed = now + timeout_ms;
	struct learnt_key k;
	bool created;
	guard_learnt_key(&k, i, a->family, a->addr);
	struct learnt *e = gtab_insert(&g->learnt, &k, &created);
	if (e) {
		learnt_name(e, name);
		if (e->pending_slot) {	/* already going out in this round: take the longer */
			struct guard_update *u = &g->pending[e->pending_slot - 1];
			u->timeout_ms = u->timeout_ms > timeout_ms ? u->timeout_ms : timeout_ms;
			e->pending_ms = e->pending_ms > needed ? e->pending_ms : needed;
			g->counters.addrs_fresh++;
			d->n_waiting++;
			return;
		}
		if (e->trusted && e->expires_ms >= needed) {
			g->counters.addrs_fresh++;
			return;
		}
	}
	struct guard_update *u = pending_push(g);
	if (!u)
		return;
	bool known = e && e->trusted && e->expires_ms > now + 1000;
	*u = (struct guard_update){ i, a->family, a->addr, timeout_ms, known };
	if (e) {
		e->pending_ms = needed;
		e->pending_slot = (uint32_t)g->n_pending;
	}
	if (known || (e && !created && e->expires_ms > now))
		d->n_refresh++, g->counters.addrs_refreshed++;
	else
		d->n_new++, g->counters.addrs_new++;
	d->n_waiting++;
}

void guard_alias_add(struct guard *g, const char *name, const char *target, uint64_t expires_ms)
{
	struct alias_key k;
	bool created;
	if (strlen(name) > NAME_MAX_LEN || strlen(target) > NAME_MAX_LEN)
		return;
	memset(&k, 0, sizeof(k));
	strcpy(k.name, name);
	struct alias *a = gtab_insert(&g->aliases, &k, &created);
	if (!a)
		return;
	if (created || strcmp(a->target, target)) {
		strcpy(a->target, target);
		a->expires_ms = expires_ms;
	} else if (a->expires_ms < expires_ms) {
		a->expires_ms = expires_ms;
	}
}

static void learn_set(struct guard *g, uint32_t i, uint64_t now, const char *matched, struct guard_dns_decision *d)
{
	const struct dns_response *r = &g->resp;
	const struct guard_set *gs = &g->view.sets[i];
	if (d->n_sets++ == 0) {
		d->matched = matched;
		d->set = gs->set->name;
	}
	for (size_t k = 0; k < r->n_addrs; k++)
		/* 0.0.0.0 (a sinkholing resolver's "no"), loopback, multicast: never a host to open. */
		if (gs->present[r->addrs[k].family == FAMILY_V6] && addr_is_unicast(r->addrs[k].family, r->addrs[k].addr))
			learn_addr(g, i, now, &r->addrs[k], matched, d);
	/* The client will name the question in its ClientHello, not the CNAME target. */
	if (gs->tls && matched != r->question)
		guard_alias_add(g, r->question, matched, now + guard_clamp_ttl(&g->cfg, r->ttl) * 1000ull);
}

void guard_set_query_source(struct guard *g, void (*read_queries)(void *arg), void *arg)
{
	g->read_queries = read_queries;
	g->read_queries_arg = arg;
}

void guard_queries_only(struct guard *g, bool on)
{
	g->queries_only = on;
}

static void dns_query(struct guard *g, uint64_t now_ms, const struct packet *p, struct guard_dns_decision *d)
{
	d->what = GUARD_DNS_QUERY;
	g->counters.dns_queries++;
	if (dnsq_query(g->queries, now_ms, p, &g->query) == DNSQ_EVICTED)
		g->counters.dns_queries_evicted++;
}

/* Whether the answer in g->resp answers a remembered query; if not, d says why. */
static bool dns_solicited(struct guard *g, uint64_t now_ms, const struct packet *p, struct guard_dns_decision *d)
{
	enum dnsq_result r = DNSQ_UNSOLICITED;
	if (!g->queries_only) {
		r = dnsq_answer(g->queries, now_ms, p, &g->resp);
		if (r != DNSQ_ANSWERED && g->read_queries) {
			g->read_queries(g->read_queries_arg);
			r = dnsq_answer(g->queries, now_ms, p, &g->resp);
		}
	}
	if (r == DNSQ_ANSWERED)
		return true;
	d->what = GUARD_DNS_UNSOLICITED;
	if (r == DNSQ_MISMATCHED) {
		d->why = "its question is not the query's";
		g->counters.dns_mismatched++;
	} else {
		d->why = g->queries_only ? "an answer on the query path" : "no query from this address and port with this ID";
		g->counters.dns_unsolicited++;
	}
	return false;
}

void guard_dns(struct guard *g, uint64_t now_ms, const struct packet *p, const uint8_t *msg, size_t len,
	       struct guard_dns_decision *d)
{
	/* Queries parse into their own buffer: one may be read while an answer is judged. */
	bool query = len > 2 && !(msg[2] & 0x80);
	struct dns_response *parsed = query ? &g->query : &g->resp;
	*d = (struct guard_dns_decision){ .what = GUARD_DNS_IGNORE, .resp = parsed };
	enum dns_status st = dns_parse_response(msg, len, parsed, &d->why);
	if (!query)
		g->counters.dns_responses++;
	if (st == DNS_MALFORMED) {
		d->what = GUARD_DNS_MALFORMED;
		g->counters.dns_malformed++;
		return;
	}
	if (query) {
		dns_query(g, now_ms, p, d);
		return;
	}
	if (!dns_solicited(g, now_ms, p, d))
		return;
	for (uint32_t i = 0; g->resp.rcode == 0 && g->resp.n_addrs > 0 && i < g->view.n_sets; i++) {
		const char *m = chain_match(g, i, &g->resp);
		if (m)
			learn_set(g, i, now_ms, m, d);
	}
	d->what = d->n_sets ? GUARD_DNS_LEARN : GUARD_DNS_IGNORE;
	if (d->n_sets)
		g->counters.dns_matched++;
	else
		g->counters.dns_ignored++;
}

const struct guard_update *guard_pending(const struct guard *g, size_t *n)
{
	*n = g->n_pending;
	return g->pending;
}

void guard_pending_done(struct guard *g, bool ok, uint64_t now_ms)
{
	for (size_t i = 0; i < g->n_pending; i++) {
		const struct guard_update *u = &g->pending[i];
		struct learnt_key k;
		guard_learnt_key(&k, u->set, u->family, u->addr);
		struct learnt *e = gtab_find(&g->learnt, &k);
		if (!e)
			continue;
		if (ok) {
			e->expires_ms = e->expires_ms > e->pending_ms ? e->expires_ms : e->pending_ms;
			e->trusted = true;
		}
		e->pending_ms = 0;
		e->pending_slot = 0;
		if (!ok && e->expires_ms <= now_ms) {
			free(e->name);
			gtab_remove(&g->learnt, e);
		}
	}
	if (ok) {
		g->counters.set_elements += g->n_pending;
		g->counters.set_batches++;
	} else if (g->n_pending) {
		g->counters.set_errors++;
	}
	g->n_pending = 0;
}

void guard_forget_kernel(struct guard *g)
{
	size_t pos = 0;
	struct learnt *e;
	while ((e = gtab_next(&g->learnt, &pos)))
		e->trusted = false;
}

size_t guard_replay(struct guard *g, uint64_t now_ms)
{
	size_t pos = 0, n = 0;
	struct learnt *e;
	while ((e = gtab_next(&g->learnt, &pos))) {
		/* Less than a second left: not worth a kernel element that dies at once. */
		if (e->trusted || e->pending_slot || e->expires_ms < now_ms + 1000 ||
		    !g->view.sets[e->key.set].present[e->key.family == FAMILY_V6])
			continue;
		struct guard_update *u = pending_push(g);
		if (!u)
			break;
		*u = (struct guard_update){ e->key.set, e->key.family, e->key.addr, (uint32_t)(e->expires_ms - now_ms),
					    false };
		e->pending_ms = e->expires_ms;
		e->pending_slot = (uint32_t)g->n_pending;
		n++;
	}
	return n;
}

static bool learnt_expired(void *entry, uint64_t now_ms, const struct guard *g)
{
	struct learnt *e = entry;
	(void)g;
	if (e->expires_ms > now_ms || e->pending_slot)
		return false;
	free(e->name);
	return true;
}

static bool alias_expired(void *entry, uint64_t now_ms, const struct guard *g)
{
	(void)g;
	return ((struct alias *)entry)->expires_ms <= now_ms;
}

static bool conn_expired(void *entry, uint64_t now_ms, const struct guard *g)
{
	struct conn *c = entry;
	if (c->last_ms + g->cfg.conn_idle_ms > now_ms)
		return false;
	tls_stream_free(c->tls);
	return true;
}

/* Removes the entries of t that gone() says are over (it frees what they own), looking at
 * up to budget entries (0: all) from *pos on; *pos goes back to 0 at the end of the table. */
static void sweep(struct guard *g, struct gtab *t, size_t *pos, size_t budget, uint64_t now_ms,
		  bool (*gone)(void *entry, uint64_t now_ms, const struct guard *g))
{
	for (size_t seen = 0; budget == 0 || seen < budget; seen++) {
		void *e = gtab_next(t, pos);
		if (!e) {
			*pos = 0;
			return;
		}
		if (gone(e, now_ms, g)) {
			gtab_remove(t, e);
			gtab_next_after_remove(pos);
		}
	}
}

void guard_expire_step(struct guard *g, uint64_t now_ms, size_t budget)
{
	sweep(g, &g->learnt, &g->sweep[0], budget, now_ms, learnt_expired);
	sweep(g, &g->aliases, &g->sweep[1], budget, now_ms, alias_expired);
	sweep(g, &g->conns, &g->sweep[2], budget, now_ms, conn_expired);
	guard_dnsconns_expire(g, now_ms);
}

void guard_expire(struct guard *g, uint64_t now_ms)
{
	for (int i = 0; i < 3; i++)
		g->sweep[i] = 0;
	guard_expire_step(g, now_ms, 0);
}
