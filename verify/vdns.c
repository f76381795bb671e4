/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vdns.c — ldns underneath pinhole verify (see vdns.h). */
#include "vdns.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cached {
	char *name;
	enum vdns_type type;
	struct vdns_answer answer;
	struct cached *next;
};

struct vdns {
	ldns_resolver *res;
	struct cached *cache;
	size_t queries;
};

static const ldns_rr_type rr_types[] = { LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_CNAME, LDNS_RR_TYPE_TXT,
					 LDNS_RR_TYPE_MX };

const char *vdns_type_name(enum vdns_type type)
{
	static const char *const names[] = { "A", "AAAA", "CNAME", "TXT", "MX" };
	return names[type];
}

/* "ADDR" or "ADDR#PORT" into the resolver's one nameserver. */
static int set_server(ldns_resolver *res, const char *server, char *why)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *hash = strchr(server, '#');
	size_t n = hash ? (size_t)(hash - server) : strlen(server);
	unsigned long port = 53;
	char *end = NULL;
	if (hash && ((port = strtoul(hash + 1, &end, 10)) == 0 || port > 65535 || *end)) {
		snprintf(why, 128, "bad port in server '%s' (ADDR or ADDR#PORT)", server);
		return -1;
	}
	if (n >= sizeof(addr)) {
		snprintf(why, 128, "bad server address '%s'", server);
		return -1;
	}
	memcpy(addr, server, n);
	addr[n] = '\0';
	struct in6_addr a6;
	ldns_rdf *rdf = inet_pton(AF_INET6, addr, &a6) == 1 ? ldns_rdf_new_frm_str(LDNS_RDF_TYPE_AAAA, addr)
							   : ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, addr);
	if (!rdf || ldns_resolver_push_nameserver(res, rdf) != LDNS_STATUS_OK) {
		snprintf(why, 128, "bad server address '%s' (an IPv4 or IPv6 address, optionally #PORT)", server);
		ldns_rdf_deep_free(rdf);
		return -1;
	}
	ldns_rdf_deep_free(rdf);
	ldns_resolver_set_port(res, (uint16_t)port);
	return 0;
}

struct vdns *vdns_new(const char *server, char *why)
{
	struct vdns *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(why, 128, "out of memory");
		return NULL;
	}
	if (!server) {
		ldns_status st = ldns_resolver_new_frm_file(&r->res, NULL);
		if (st != LDNS_STATUS_OK) {
			snprintf(why, 128, "cannot read the system resolver configuration: %s", ldns_get_errorstr_by_id(st));
			free(r);
			return NULL;
		}
	} else if (!(r->res = ldns_resolver_new()) || set_server(r->res, server, why) < 0) {
		if (!r->res)
			snprintf(why, 128, "out of memory");
		ldns_resolver_deep_free(r->res);
		free(r);
		return NULL;
	}
	ldns_resolver_set_recursive(r->res, true);
	ldns_resolver_set_dnssec(r->res, true);	/* DO: a validating resolver then sets AD */
	ldns_resolver_set_timeout(r->res, (struct timeval){ 2, 0 });
	ldns_resolver_set_retry(r->res, 2);
	return r;
}

static void answer_clear(struct vdns_answer *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->rrs[i]);
	free(a->rrs);
}

void vdns_free(struct vdns *r)
{
	if (!r)
		return;
	for (struct cached *c = r->cache, *next; c; c = next) {
		next = c->next;
		answer_clear(&c->answer);
		free(c->name);
		free(c);
	}
	ldns_resolver_deep_free(r->res);
	free(r);
}

size_t vdns_queries(const struct vdns *r) { return r->queries; }

/* A domain name rdf as text: lower case, no trailing dot. */
static char *dname_text(const ldns_rdf *rdf)
{
	char *s = ldns_rdf2str(rdf);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	if (n > 1 && s[n - 1] == '.')
		s[n - 1] = '\0';
	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

/* The character-strings of a TXT record, joined without separators. */
static char *txt_text(const ldns_rr *rr)
{
	size_t total = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++)
		total += ldns_rdf_size(ldns_rr_rdf(rr, i));
	char *s = malloc(total + 1), *p = s;
	if (!s)
		return NULL;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *rdf = ldns_rr_rdf(rr, i);
		const uint8_t *d = ldns_rdf_data(rdf);
		size_t len = ldns_rdf_size(rdf) ? d[0] : 0;
		if (len + 1 > ldns_rdf_size(rdf))
			len = ldns_rdf_size(rdf) ? ldns_rdf_size(rdf) - 1 : 0;
		memcpy(p, d + 1, len);
		p += len;
	}
	*p = '\0';
	return s;
}

static char *rr_text(const ldns_rr *rr, enum vdns_type type)
{
	switch (type) {
	case VDNS_CNAME: return dname_text(ldns_rr_rdf(rr, 0));
	case VDNS_TXT: return txt_text(rr);
	case VDNS_MX: {
		char *host = dname_text(ldns_rr_rdf(rr, 1)), *s = NULL;
		if (host && asprintf(&s, "%u %s", ldns_rdf2native_int16(ldns_rr_rdf(rr, 0)), host) < 0)
			s = NULL;
		free(host);
		return s;
	}
	default: return ldns_rdf2str(ldns_rr_rdf(rr, 0));
	}
}

/* Keeps the answer's records of the type asked; a CNAME only when the name asked owns it
 * (a chain's later links are asked for one by one). */
static int collect(struct vdns_answer *a, const ldns_pkt *pkt, const ldns_rdf *qname, enum vdns_type type)
{
	const ldns_rr_list *list = ldns_pkt_answer(pkt);
	size_t n = list ? ldns_rr_list_rr_count(list) : 0;
	a->rrs = calloc(n ? n : 1, sizeof(*a->rrs));
	if (!a->rrs)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(list, i);
		if (ldns_rr_get_type(rr) != rr_types[type] || ldns_rr_rd_count(rr) == 0)
			continue;
		if (type == VDNS_CNAME && ldns_dname_compare(ldns_rr_owner(rr), qname) != 0)
			continue;
		if (type == VDNS_MX && ldns_rr_rd_count(rr) < 2)
			continue;
		if (!(a->rrs[a->n] = rr_text(rr, type)))
			return -1;
		a->n++;
	}
	return 0;
}

static int ask(struct vdns *r, const char *name, enum vdns_type type, struct vdns_answer *a)
{
	char fqdn[300];
	snprintf(fqdn, sizeof(fqdn), "%s.", name);
	ldns_rdf *qname = ldns_dname_new_frm_str(fqdn);
	ldns_pkt *pkt = NULL;
	int ret = 0;
	if (!qname) {
		a->status = VDNS_FAIL;
		snprintf(a->why, sizeof(a->why), "not a DNS name");
		return 0;
	}
	r->queries++;
	ldns_status st = ldns_resolver_query_status(&pkt, r->res, qname, rr_types[type], LDNS_RR_CLASS_IN, LDNS_RD);
	if (st != LDNS_STATUS_OK || !pkt) {
		a->status = VDNS_FAIL;
		snprintf(a->why, sizeof(a->why), "%s", ldns_get_errorstr_by_id(st));
	} else if (ldns_pkt_get_rcode(pkt) == LDNS_RCODE_NXDOMAIN) {
		a->status = VDNS_NXDOMAIN;
	} else if (ldns_pkt_get_rcode(pkt) != LDNS_RCODE_NOERROR) {
		a->status = VDNS_FAIL;
		snprintf(a->why, sizeof(a->why), "rcode %d", (int)ldns_pkt_get_rcode(pkt));
	} else {
		ret = collect(a, pkt, qname, type);
		a->status = a->n ? VDNS_DATA : VDNS_NODATA;
	}
	if (pkt)
		a->secure = ldns_pkt_ad(pkt);
	ldns_pkt_free(pkt);
	ldns_rdf_deep_free(qname);
	return ret;
}

const struct vdns_answer *vdns_lookup(struct vdns *r, const char *name, enum vdns_type type)
{
	for (struct cached *c = r->cache; c; c = c->next)
		if (c->type == type && !strcasecmp(c->name, name))
			return &c->answer;
	struct cached *c = calloc(1, sizeof(*c));
	if (!c || !(c->name = strdup(name))) {
		free(c);
		return NULL;
	}
	c->type = type;
	if (ask(r, name, type, &c->answer) < 0) {
		answer_clear(&c->answer);
		free(c->name);
		free(c);
		return NULL;
	}
	c->next = r->cache;
	r->cache = c;
	return &c->answer;
}
