/* SPDX-License-Identifier: GPL-2.0-or-later */
/* explain.c — which sets hold a target and which rules over them let it through. Names are
 * matched by the matcher's domain sets (matcher/domset.h), so explain answers exactly what
 * the guard would. */
#include "explain.h"

#include <stdlib.h>
#include <string.h>

#include "cidr_ops.h"
#include "domset.h"

/* ---- parsing the target --------------------------------------------------------------- */

/* "443", "443/tcp", "53/udp" */
static int parse_port(const char *s, struct explain_target *t, const char **why)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (end == s || v < 1 || v > 65535 || (*s < '0' || *s > '9')) {
		*why = "the port must be a number from 1 to 65535";
		return -1;
	}
	t->has_port = true;
	t->port = (uint16_t)v;
	if (*end == '\0')
		return 0;
	if (!strcmp(end, "/tcp") || !strcmp(end, "/udp")) {
		t->proto = end[1] == 't' ? PROTO_TCP : PROTO_UDP;
		return 0;
	}
	*why = "after the port comes nothing, /tcp or /udp";
	return -1;
}

/* Splits "host:port..." into host and the text after the ':' (NULL when there is no port).
 * An IPv6 address with a port needs brackets: "[2001:db8::1]:443/tcp". */
static int split_port(const char *s, char *host, size_t max, const char **port, const char **why)
{
	const char *colon = strrchr(s, ':'), *end = s + strlen(s);
	*port = NULL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || (close[1] && close[1] != ':')) {
			*why = "write an IPv6 address with a port as [ADDRESS]:PORT/PROTO";
			return -1;
		}
		s++;
		end = close;
		*port = close[1] ? close + 2 : NULL;
	} else if (colon && strchr(s, ':') == colon) {
		end = colon;
		*port = colon + 1;
	}
	if ((size_t)(end - s) >= max || end == s) {
		*why = end == s ? "nothing to explain" : "the address or name is too long";
		return -1;
	}
	memcpy(host, s, (size_t)(end - s));
	host[end - s] = '\0';
	return 0;
}

static int parse_host(const char *host, struct explain_target *t, const char **why)
{
	struct cidr_parsed parsed;
	if (cidr_parse(host, strlen(host), &parsed) == CIDR_OK) {
		if (!parsed.is_prefix || addr_cmp(parsed.range.lo, parsed.range.hi)) {
			*why = "explain takes one address, not a prefix or range";
			return -1;
		}
		t->kind = EXPLAIN_ADDRESS;
		t->addr = parsed.range.lo;
		t->family = parsed.range.family;
		return 0;
	}
	enum name_kind kind;
	struct name_error err;
	if (name_normalize(host, strlen(host), t->name, &kind, &err) < 0 || kind != NAME_EXACT) {
		*why = kind == NAME_WILDCARD ? "explain takes one name, not a wildcard"
					     : "not an address, an address:port/proto or a valid name";
		return -1;
	}
	t->kind = EXPLAIN_NAME;
	return 0;
}

int explain_local_parse(const char *s, struct explain_target *t, const char **why)
{
	struct cidr_parsed parsed;
	if (cidr_parse(s, strlen(s), &parsed) != CIDR_OK || !parsed.is_prefix ||
	    addr_cmp(parsed.range.lo, parsed.range.hi)) {
		*why = "the local end is one address (the client of an out rule, the server of an in rule)";
		return -1;
	}
	if (t->kind == EXPLAIN_ADDRESS && t->family != parsed.range.family) {
		*why = "the local end and the target are not of one family (IPv4 and IPv6)";
		return -1;
	}
	t->has_local = true;
	t->local_family = parsed.range.family;
	t->local_addr = parsed.range.lo;
	return 0;
}

int explain_target_parse(const char *s, struct explain_target *t, const char **why)
{
	char host[NAME_MAX_LEN + 3];
	const char *port;
	*t = (struct explain_target){ .proto = PROTO_ANY };
	if (split_port(s, host, sizeof(host), &port, why) < 0 || parse_host(host, t, why) < 0)
		return -1;
	return port ? parse_port(port, t, why) : 0;
}

/* ---- matching ----------------------------------------------------------------------- */

/* The aggregated prefix of v (ascending, disjoint) that holds a, or NULL. */
static const struct ir_prefix *prefix_holding(const struct ir_prefix *v, size_t n, struct addr a)
{
	size_t lo = 0, hi = n;	/* first prefix starting after a */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (addr_cmp(v[mid].prefix.addr, a) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr_cmp(prefix_last_addr(&v[lo - 1].prefix), a) < 0)
		return NULL;
	return &v[lo - 1];
}

static bool match_address(const struct ir_set *s, const struct explain_target *t, struct explain_element *e)
{
	const struct ir_prefix *p = t->family == FAMILY_V4 ? prefix_holding(s->v4, s->n_v4, t->addr)
							    : prefix_holding(s->v6, s->n_v6, t->addr);
	if (!p)
		return false;
	*e = (struct explain_element){ .kind = EXPLAIN_PREFIX, .prefix = p->prefix, .n_sources = p->origin_count };
	if (p->origin_count)	/* a set without sources may have no origins array at all */
		e->sources = s->origins + p->origin_first;
	return true;
}

/* The set's names and regexes as a compiled domain set; -1 on ENOMEM or a bad regex. */
static int build_domset(const struct ir_set *s, struct domset **out, const char **why)
{
	struct domset *ds = domset_new();
	*out = ds;
	*why = "out of memory";
	if (!ds)
		return -1;
	for (size_t i = 0; i < s->n_names; i++)
		if (domset_add_name(ds, s->names[i].name, s->names[i].kind, s->names[i].loc) < 0)
			return -1;
	for (size_t i = 0; i < s->n_regexes; i++)
		if (domset_add_regex(ds, s->regexes[i].pattern, s->regexes[i].loc, why) < 0)
			return -1;
	return domset_build(ds);
}

/* The record cname that put the exact name into s, or NULL. */
static const struct ir_record *alias_record(const struct ir_set *s, const char *name)
{
	for (size_t i = 0; i < s->n_names; i++)
		if (s->names[i].alias && !strcmp(s->names[i].name, name))
			return s->names[i].alias;
	return NULL;
}

/* 1 when the set holds the name (e filled), 0 when not, -1 on failure (*why). */
static int match_name(struct arena *ar, const struct ir_set *s, const struct explain_target *t,
		      struct explain_element *e, const char **why)
{
	static const int kinds[] = { [DOMSET_EXACT] = EXPLAIN_EXACT, [DOMSET_WILDCARD] = EXPLAIN_WILDCARD,
				     [DOMSET_REGEX] = EXPLAIN_REGEX };
	if (!s->n_names && !s->n_regexes)
		return 0;
	struct domset *ds;
	int ret = build_domset(s, &ds, why);
	const struct domset_elem *m = ret == 0 ? domset_match(ds, t->name, strlen(t->name)) : NULL;
	if (m) {
		struct loc *loc = arena_alloc(ar, sizeof(*loc));
		char *text = arena_strdup(ar, m->text);
		ret = loc && text ? 1 : -1;
		if (loc && text) {
			*loc = m->loc;
			*e = (struct explain_element){ .kind = kinds[m->kind], .text = text, .sources = loc, .n_sources = 1,
						       .alias = m->kind == DOMSET_EXACT ? alias_record(s, text) : NULL };
		}
	}
	domset_free(ds);
	return ret;
}

static bool rule_fits(const struct ir_rule *r, const struct explain_target *t)
{
	if (!t->has_port)
		return true;
	if (r->proto != PROTO_ANY && t->proto != PROTO_ANY && r->proto != t->proto)
		return false;
	if (r->n_ports == 0)
		return true;
	for (size_t i = 0; i < r->n_ports; i++)
		if (t->port >= r->ports[i].lo && t->port <= r->ports[i].hi)
			return true;
	return false;
}

static enum explain_scope scope_of(const struct ir_rule *r, const struct explain_target *t)
{
	if (!r->scope)
		return EXPLAIN_SCOPE_NONE;
	if (!t->has_local)
		return EXPLAIN_SCOPE_UNASKED;
	const struct ir_set *s = r->scope;
	bool in = t->local_family == FAMILY_V4 ? prefix_holding(s->v4, s->n_v4, t->local_addr) != NULL
					       : prefix_holding(s->v6, s->n_v6, t->local_addr) != NULL;
	return in ? EXPLAIN_SCOPE_IN : EXPLAIN_SCOPE_OUT;
}

static int add_rules(struct explanation *e, const struct policy *p, struct explain_hit *hit)
{
	for (size_t i = 0; i < p->n_rules; i++)
		hit->n_rules += p->rules[i].set == hit->set;
	if (!hit->n_rules)
		return 0;
	hit->rules = arena_alloc(&e->arena, hit->n_rules * sizeof(*hit->rules));
	if (!hit->rules)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < p->n_rules; i++) {
		if (p->rules[i].set != hit->set)
			continue;
		struct explain_rule *er = &hit->rules[k++];
		er->rule = &p->rules[i];
		er->ports_fit = rule_fits(er->rule, &e->target);
		er->scope = scope_of(er->rule, &e->target);
		er->allows = er->ports_fit && er->scope != EXPLAIN_SCOPE_OUT;
		e->allowed |= er->allows;
	}
	return 0;
}

/* 1 when s holds the target (*element filled), 0 when not, -1 on failure. */
static int set_holds(struct explanation *e, const struct ir_set *s, struct explain_element *element, const char **why)
{
	if (e->target.kind == EXPLAIN_ADDRESS)
		return match_address(s, &e->target, element);
	return match_name(&e->arena, s, &e->target, element, why);
}

static void find_base_wildcard(struct explanation *e, const struct policy *p)
{
	for (size_t i = 0; i < p->n_sets && !e->base_wildcard; i++) {
		const struct ir_set *s = &p->sets[i];
		for (size_t k = 0; k < s->n_names && !e->base_wildcard; k++)
			if (s->names[k].kind == NAME_WILDCARD && !strcmp(s->names[k].name, e->target.name)) {
				e->base_set = s;
				e->base_wildcard = &s->names[k];
			}
	}
}

struct explanation *policy_explain(const struct policy *p, const struct explain_target *t, const char **why)
{
	struct explanation *e = calloc(1, sizeof(*e));
	*why = "out of memory";
	if (!e)
		return NULL;
	e->target = *t;
	e->hits = arena_alloc(&e->arena, (p->n_sets ? p->n_sets : 1) * sizeof(*e->hits));
	for (size_t i = 0; e->hits && i < p->n_sets; i++) {
		struct explain_hit *hit = &e->hits[e->n_hits];
		int held = set_holds(e, &p->sets[i], &hit->element, why);
		if (held < 0)
			goto fail;
		if (!held)
			continue;
		hit->set = &p->sets[i];
		if (add_rules(e, p, hit) < 0)
			goto fail;
		e->n_hits++;
	}
	if (e->hits && t->kind == EXPLAIN_NAME)
		find_base_wildcard(e, p);
	if (e->hits)
		return e;
fail:
	explanation_free(e);
	return NULL;
}

void explanation_free(struct explanation *e)
{
	if (!e)
		return;
	arena_free(&e->arena);
	free(e);
}
