/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verify.c — pinhole verify's checks of CNAME and MX records, and the report (see verify.h);
 * SPF and DKIM are in verify_spf.c. */
#include "verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domset.h"

#define CNAME_MAX_HOPS 8	/* resolvers give up on longer chains too */

const char *verify_record_kind(enum record_kind kind)
{
	static const char *const names[] = { "cname", "spf", "dkim", "mx" };
	return names[kind];
}

int verify_add(char ***v, size_t *n, const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	int len = vasprintf(&s, fmt, ap);
	va_end(ap);
	char **grown = len < 0 ? NULL : realloc(*v, (*n + 1) * sizeof(**v));
	if (!grown) {
		if (len >= 0)
			free(s);
		return -1;
	}
	grown[(*n)++] = s;
	*v = grown;
	return 0;
}

/* The names a CNAME may lead to, as the matcher sees them: the target set's names and
 * regexes (not the customer's aliases in it: the chain must reach the vendor), or the one
 * name written. NULL on ENOMEM. */
static struct domset *target_domset(const struct ir_record *rec)
{
	struct domset *s = domset_new();
	const char *why;
	bool ok = s != NULL;
	if (ok && rec->target_set) {
		const struct ir_set *t = rec->target_set;
		for (size_t i = 0; ok && i < t->n_names; i++)
			if (!t->names[i].alias)
				ok = domset_add_name(s, t->names[i].name, t->names[i].kind, t->names[i].loc) == 0;
		for (size_t i = 0; ok && i < t->n_regexes; i++)
			ok = domset_add_regex(s, t->regexes[i].pattern, t->regexes[i].loc, &why) == 0;
	} else if (ok) {
		ok = domset_add_name(s, rec->target, rec->target_kind, rec->loc) == 0;
	}
	if (!ok || domset_build(s) < 0) {
		domset_free(s);
		return NULL;
	}
	return s;
}

static char *target_text(const struct ir_record *rec)
{
	char *s = NULL;
	if (rec->target_set)
		return asprintf(&s, "a name of set '%s'", rec->target_set->name) < 0 ? NULL : s;
	if (rec->target_kind == NAME_WILDCARD)
		return asprintf(&s, "a name under %s", rec->target) < 0 ? NULL : s;
	return strdup(rec->target);
}

/* No CNAME at the alias itself: missing, or (a common mistake) an address record. */
static int cname_absent(const struct ir_record *rec, struct vdns *r, struct verify_check *c,
			const struct vdns_answer *first, const char *target)
{
	const struct vdns_answer *a = vdns_lookup(r, rec->name, VDNS_A);
	if (!a)
		return -1;
	if (a->status == VDNS_DATA) {
		for (size_t i = 0; i < a->n; i++)
			if (verify_add(&c->found, &c->n_found, "%s A %s", rec->name, a->rrs[i]) < 0)
				return -1;
		if (verify_add(&c->problems, &c->n_problems, "%s has an A record, not a CNAME", rec->name) < 0)
			return -1;
		return asprintf(&c->change, "replace the A record of %s with: %s. IN CNAME %s", rec->name, rec->name,
				target) < 0 ? -1 : 0;
	}
	if (verify_add(&c->problems, &c->n_problems, "%s %s", rec->name,
		       first->status == VDNS_NXDOMAIN ? "does not exist" : "has no CNAME record") < 0)
		return -1;
	return asprintf(&c->change, "create: %s. IN CNAME %s", rec->name, target) < 0 ? -1 : 0;
}

/* Follows the chain from the alias, one CNAME question per link, until a link is a name
 * of the target. Returns -1 on ENOMEM. */
static int verify_cname(const struct ir_record *rec, struct vdns *r, struct verify_check *c)
{
	struct domset *want = target_domset(rec);
	char *target = target_text(rec);
	const struct vdns_answer *first = NULL, *a = NULL;
	const char *cur = rec->name;
	int ret = -1, hop;
	if (!want || !target || asprintf(&c->requirement, "CNAME to %s", target) < 0)
		goto out;
	for (hop = 0; hop < CNAME_MAX_HOPS; hop++) {
		if (!(a = vdns_lookup(r, cur, VDNS_CNAME)))
			goto out;
		first = first ? first : a;
		c->secure &= a->secure;
		if (a->status != VDNS_DATA)
			break;
		if (verify_add(&c->found, &c->n_found, "%s CNAME %s", cur, a->rrs[0]) < 0)
			goto out;
		cur = a->rrs[0];
		if (domset_match(want, cur, strlen(cur))) {
			ret = 0;
			goto out;
		}
	}
	if (a->status == VDNS_FAIL) {
		c->verdict = VERIFY_ERROR;
		ret = verify_add(&c->problems, &c->n_problems, "CNAME lookup of %s failed: %s", cur, a->why);
		goto out;
	}
	c->verdict = VERIFY_WRONG;
	if (hop == 0) {
		ret = cname_absent(rec, r, c, first, target);
		goto out;
	}
	if (verify_add(&c->problems, &c->n_problems, "the CNAME chain from %s ends at %s, which is not %s", rec->name,
		       cur, target) < 0)
		goto out;
	ret = asprintf(&c->change, "point the CNAME of %s at %s", rec->name, target) < 0 ? -1 : 0;
out:
	domset_free(want);
	free(target);
	return ret;
}

static int verify_mx(const struct ir_record *rec, struct vdns *r, struct verify_check *c)
{
	const struct vdns_answer *a = vdns_lookup(r, rec->name, VDNS_MX);
	if (!a || asprintf(&c->requirement, "MX records (to receive replies)") < 0)
		return -1;
	c->secure = a->secure;
	if (a->status == VDNS_FAIL) {
		c->verdict = VERIFY_ERROR;
		return verify_add(&c->problems, &c->n_problems, "MX lookup of %s failed: %s", rec->name, a->why);
	}
	bool null_mx = false;
	for (size_t i = 0; i < a->n; i++) {
		null_mx |= !strcmp(strchr(a->rrs[i], ' ') + 1, ".");
		if (verify_add(&c->found, &c->n_found, "%s MX %s", rec->name, a->rrs[i]) < 0)
			return -1;
	}
	if (a->status == VDNS_DATA && !null_mx)
		return 0;
	c->verdict = VERIFY_WRONG;
	if (verify_add(&c->problems, &c->n_problems, null_mx ? "%s has a null MX (RFC 7505): it accepts no mail"
							    : "%s has no MX record", rec->name) < 0)
		return -1;
	return asprintf(&c->change, "add: %s. IN MX 10 <your corporate mail server>", rec->name) < 0 ? -1 : 0;
}

static int verify_one(const struct ir_record *rec, struct vdns *r, struct verify_check *c)
{
	*c = (struct verify_check){ .record = rec, .verdict = VERIFY_OK, .secure = true, .spf_lookups = -1,
				    .spf_voids = -1, .key_bits = -1 };
	switch (rec->kind) {
	case RECORD_CNAME: return verify_cname(rec, r, c);
	case RECORD_MX: return verify_mx(rec, r, c);
	case RECORD_SPF: verify_spf(rec, r, c); break;
	case RECORD_DKIM: verify_dkim(rec, r, c); break;
	}
	return c->requirement ? 0 : -1;
}

int verify_policy(const struct policy *p, struct vdns *r, struct verify_report *out)
{
	*out = (struct verify_report){ 0 };
	out->checks = calloc(p->n_records ? p->n_records : 1, sizeof(*out->checks));
	if (!out->checks)
		return -1;
	for (size_t i = 0; i < p->n_records; i++) {
		struct verify_check *c = &out->checks[out->n_checks++];
		if (verify_one(&p->records[i], r, c) < 0) {
			verify_report_free(out);
			return -1;
		}
		out->n_wrong += c->verdict == VERIFY_WRONG;
		out->n_error += c->verdict == VERIFY_ERROR;
	}
	out->queries = vdns_queries(r);
	return 0;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void verify_report_free(struct verify_report *rep)
{
	for (size_t i = 0; i < rep->n_checks; i++) {
		struct verify_check *c = &rep->checks[i];
		free(c->requirement);
		free_list(c->found, c->n_found);
		free_list(c->problems, c->n_problems);
		free(c->change);
	}
	free(rep->checks);
	*rep = (struct verify_report){ 0 };
}
