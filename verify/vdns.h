/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vdns.h — the DNS questions pinhole verify asks, through ldns: one resolver (the system's
 * or one server), answers reduced to text and cached for the run, so an SPF tree that
 * names a domain twice asks once. */
#ifndef PINHOLE_VDNS_H
#define PINHOLE_VDNS_H

#include <stdbool.h>
#include <stddef.h>

enum vdns_type { VDNS_A, VDNS_AAAA, VDNS_CNAME, VDNS_TXT, VDNS_MX };

enum vdns_status {
	VDNS_DATA,	/* NOERROR with records of the type asked */
	VDNS_NODATA,	/* NOERROR, none of that type (RFC 7208 counts it as a void lookup) */
	VDNS_NXDOMAIN,	/* the name does not exist */
	VDNS_FAIL,	/* no usable answer: SERVFAIL, REFUSED, timeout; why says which */
};

/* One answer. Each record as text: A/AAAA the address; CNAME the target (lower case, no
 * trailing dot), only CNAMEs owned by the name asked; TXT its character-strings joined as
 * RFC 7208 §3.3 and RFC 6376 §3.6.2.2 say; MX "PREFERENCE EXCHANGE". */
struct vdns_answer {
	enum vdns_status status;
	bool secure;		/* the resolver set AD: it validated the answer with DNSSEC */
	char **rrs;
	size_t n;
	char why[64];		/* VDNS_FAIL: the rcode or the transport error */
};

struct vdns;

/* A resolver: server NULL reads the system's (/etc/resolv.conf); else "ADDR" or "ADDR#PORT"
 * (IPv4 or IPv6). Asks with RD and the DO bit, so a validating resolver sets AD. Returns
 * NULL with a message in why (size 128) on a bad server or configuration. Free with
 * vdns_free, which frees every answer it handed out. */
struct vdns *vdns_new(const char *server, char *why);
void vdns_free(struct vdns *r);

/* Asks name (no trailing dot needed) for type. Returns the answer, owned by r and cached
 * for its lifetime; NULL only on ENOMEM. */
const struct vdns_answer *vdns_lookup(struct vdns *r, const char *name, enum vdns_type type);

/* The number of questions that went to the network (cache misses). */
size_t vdns_queries(const struct vdns *r);

/* "A", "CNAME", ... */
const char *vdns_type_name(enum vdns_type type);

#endif
