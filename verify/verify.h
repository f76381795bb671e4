/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verify.h — pinhole verify: are the DNS records a policy declares (record cname/spf/dkim/mx,
 * pinhole.rules(5) RECORDS) published as the vendor requires? One check per record, with
 * what was found, a verdict and what to change. Library code: nothing is printed. */
#ifndef PINHOLE_VERIFY_H
#define PINHOLE_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"
#include "vdns.h"

enum verify_verdict {
	VERIFY_OK,
	VERIFY_WRONG,	/* the record is missing or not what the vendor requires */
	VERIFY_ERROR,	/* DNS gave no usable answer: nothing could be judged */
};

/* RFC 7208 §4.6.4: at most 10 terms that cause DNS lookups, at most 2 void lookups. */
#define SPF_MAX_LOOKUPS 10
#define SPF_MAX_VOID 2

struct verify_check {
	const struct ir_record *record;	/* borrowed from the policy */
	enum verify_verdict verdict;
	char *requirement;	/* "CNAME into *.mktoweb.com", "SPF includes mktomail.com", ... */
	char **found;		/* the records found, as "NAME TYPE DATA" */
	size_t n_found;
	char **problems;	/* why it is wrong (or the DNS error); none when ok */
	size_t n_problems;
	char *change;		/* what to change in DNS; NULL when ok */
	bool secure;		/* every answer used was DNSSEC-validated (AD) */
	int spf_lookups, spf_voids;	/* spf: counted through includes and redirects; else -1 */
	int key_bits;		/* dkim: the public key's size; 0 unknown, -1 not dkim */
	const char *key_type;	/* dkim: "rsa", "ed25519" */
};

struct verify_report {
	struct verify_check *checks;	/* one per record, in the policy's order */
	size_t n_checks;
	size_t n_wrong, n_error;
	size_t queries;		/* DNS questions asked */
};

/* Checks every record of p through r. A CNAME chain must reach a name of its target (a
 * @set's names and regexes, or the one name or wildcard written), matched with the
 * matcher's domain sets as match and the guard do. Returns 0 with *out filled (free with
 * verify_report_free), or -1 on ENOMEM. */
int verify_policy(const struct policy *p, struct vdns *r, struct verify_report *out);
void verify_report_free(struct verify_report *rep);

/* "cname", "spf", "dkim", "mx" */
const char *verify_record_kind(enum record_kind kind);

/* internal, between verify*.c: */
int verify_add(char ***v, size_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void verify_spf(const struct ir_record *rec, struct vdns *r, struct verify_check *c);
void verify_dkim(const struct ir_record *rec, struct vdns *r, struct verify_check *c);

#endif
