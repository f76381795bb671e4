/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verify_spf.c — the TXT records of pinhole verify: SPF (RFC 7208) and DKIM keys (RFC 6376). */
#include "verify.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SPF_MAX_DEPTH 12	/* a nesting past the lookup limit proves nothing more */

struct spf_walk {
	struct vdns *r;
	struct verify_check *c;
	const char *want;		/* the include the vendor requires */
	const char *stack[SPF_MAX_DEPTH];	/* the domains being evaluated, to spot loops */
	int depth;
	bool reached;			/* want was included and has an SPF record */
	bool failed;			/* a lookup gave no usable answer */
	bool oom;
	const char *bad_all;		/* "+all" or "?all" in the top-level record or its redirect */
};

static bool is_spf(const char *txt)
{
	return !strncasecmp(txt, "v=spf1", 6) && (txt[6] == '\0' || txt[6] == ' ');
}

#define add_problem(w, ...)                                                         \
	do {                                                                        \
		if (verify_add(&(w)->c->problems, &(w)->c->n_problems, __VA_ARGS__) < 0) \
			(w)->oom = true;                                            \
	} while (0)

/* The one SPF record of domain, or NULL (a void lookup, none, several or a failure,
 * reported here). */
static const char *spf_lookup(struct spf_walk *w, const char *domain, const char *via)
{
	const struct vdns_answer *a = vdns_lookup(w->r, domain, VDNS_TXT);
	const char *rec = NULL;
	size_t n = 0;
	if (!a) {
		w->oom = true;
		return NULL;
	}
	w->c->secure &= a->secure;
	if (a->status == VDNS_FAIL) {
		w->failed = true;
		add_problem(w, "TXT lookup of %s failed: %s", domain, a->why);
		return NULL;
	}
	if (a->status != VDNS_DATA && via)
		w->c->spf_voids++;	/* RFC 7208 §4.6.4 counts the lookups of terms, not the first query */
	for (size_t i = 0; i < a->n; i++)
		if (is_spf(a->rrs[i])) {
			rec = a->rrs[i];
			n++;
			if (verify_add(&w->c->found, &w->c->n_found, "%s TXT \"%s\"%s%s", domain, rec, via ? "  via " : "",
				       via ? via : "") < 0)
				w->oom = true;
		}
	if (n == 0 && via)
		add_problem(w, "%s has no SPF record (%s: a permanent error)", domain, via);
	if (n > 1)
		add_problem(w, "%s has %s SPF records: RFC 7208 §3.2 makes that a permanent error", domain,
			    n == 2 ? "two" : "several");
	return n == 1 ? rec : NULL;
}

static void spf_walk_record(struct spf_walk *w, const char *domain, const char *record, bool top);

/* include:D or redirect=D: one DNS lookup, then D's own record is evaluated. */
static void spf_follow(struct spf_walk *w, const char *target, const char *via, bool top)
{
	w->c->spf_lookups++;
	if (strchr(target, '%'))
		return;	/* a macro: known only when a message is checked */
	for (int i = 0; i < w->depth; i++)
		if (!strcasecmp(w->stack[i], target)) {
			add_problem(w, "%s includes itself (%s): a loop", target, via);
			return;
		}
	if (w->depth >= SPF_MAX_DEPTH || w->c->spf_lookups > 2 * SPF_MAX_LOOKUPS)
		return;
	const char *rec = spf_lookup(w, target, via);
	if (rec && !strcasecmp(target, w->want))
		w->reached = true;
	if (rec)
		spf_walk_record(w, target, rec, top);
}

/* a, mx, exists: one DNS lookup each, void when the name has no such record. */
static void spf_lookup_term(struct spf_walk *w, const char *domain, const char *arg, enum vdns_type type)
{
	w->c->spf_lookups++;
	const char *name = arg && *arg ? arg : domain;
	if (strchr(name, '%'))
		return;
	const struct vdns_answer *a = vdns_lookup(w->r, name, type);
	if (!a)
		w->oom = true;
	else if (a->status == VDNS_NXDOMAIN || a->status == VDNS_NODATA)
		w->c->spf_voids++;
}

/* One term: [qualifier] mechanism [":" domain-spec] ["/" cidr], or name=value. */
static void spf_term(struct spf_walk *w, const char *domain, char *term, bool top, char **redirect)
{
	char q = strchr("+-~?", term[0]) ? term[0] : '+';
	char *mech = term + (strchr("+-~?", term[0]) ? 1 : 0);
	char *arg = strpbrk(mech, ":=/");
	char sep = arg ? *arg : '\0';
	if (arg)
		*arg++ = '\0';
	if (sep == '=') {
		if (!strcasecmp(mech, "redirect"))
			*redirect = arg;
		return;	/* exp= and unknown modifiers: no lookup at evaluation */
	}
	if (sep == '/')
		arg = NULL;
	else if (arg && strchr(arg, '/'))
		*strchr(arg, '/') = '\0';
	char via[300];
	snprintf(via, sizeof(via), "include:%s in %s", arg ? arg : "", domain);
	if (!strcasecmp(mech, "include") && arg)
		spf_follow(w, arg, via, false);
	else if (!strcasecmp(mech, "a"))
		spf_lookup_term(w, domain, arg, VDNS_A);
	else if (!strcasecmp(mech, "mx"))
		spf_lookup_term(w, domain, arg, VDNS_MX);
	else if (!strcasecmp(mech, "exists") && arg)
		spf_lookup_term(w, domain, arg, VDNS_A);
	else if (!strcasecmp(mech, "ptr"))
		w->c->spf_lookups++;
	else if (!strcasecmp(mech, "all") && top && (q == '+' || q == '?'))
		w->bad_all = q == '+' ? "+all" : "?all";
	else if (strcasecmp(mech, "all") && strcasecmp(mech, "ip4") && strcasecmp(mech, "ip6"))
		add_problem(w, "%s: unknown SPF term '%s' (a permanent error)", domain, mech);
}

static void spf_walk_record(struct spf_walk *w, const char *domain, const char *record, bool top)
{
	char *copy = strdup(record), *save = NULL, *redirect = NULL;
	bool has_all = false;
	if (!copy) {
		w->oom = true;
		return;
	}
	w->stack[w->depth++] = domain;
	for (char *t = strtok_r(copy + 6, " ", &save); t && !w->oom; t = strtok_r(NULL, " ", &save)) {
		has_all |= !strcasecmp(t + (strchr("+-~?", t[0]) ? 1 : 0), "all");
		spf_term(w, domain, t, top, &redirect);
	}
	/* RFC 7208 §6.1: redirect is ignored when the record has an all */
	if (redirect && !has_all && !w->oom) {
		char via[300];
		snprintf(via, sizeof(via), "redirect=%s in %s", redirect, domain);
		spf_follow(w, redirect, via, top);
	}
	w->depth--;
	free(copy);
}

/* The change that fixes the first problem found, in the order a receiver would fail. */
static int spf_change(const struct spf_walk *w, int n_records, const char *d, const char *inc, char **out)
{
	if (n_records > 1)
		return asprintf(out, "merge the SPF records of %s into one that has include:%s", d, inc);
	if (n_records == 0)
		return asprintf(out, "add: %s. IN TXT \"v=spf1 mx include:%s ~all\"", d, inc);
	if (!w->reached)
		return asprintf(out, "add include:%s to the SPF record of %s", inc, d);
	if (w->c->spf_lookups > SPF_MAX_LOOKUPS)
		return asprintf(out, "bring the SPF tree of %s under 10 lookups: replace the includes it does not need "
				"by ip4:/ip6: ranges (keep include:%s)", d, inc);
	if (w->c->spf_voids > SPF_MAX_VOID)
		return asprintf(out, "remove from the SPF tree of %s the mechanisms that name domains without records "
				"(keep include:%s)", d, inc);
	return asprintf(out, "end the SPF record of %s with ~all or -all (keep include:%s)", d, inc);
}

static int count_spf(const struct vdns_answer *a)
{
	int n = 0;
	for (size_t i = 0; a && i < a->n; i++)
		n += is_spf(a->rrs[i]);
	return n;
}

void verify_spf(const struct ir_record *rec, struct vdns *r, struct verify_check *c)
{
	struct spf_walk w = { .r = r, .c = c, .want = rec->target };
	c->spf_lookups = c->spf_voids = 0;
	if (asprintf(&c->requirement, "one SPF record that includes %s", rec->target) < 0) {
		c->requirement = NULL;
		return;
	}
	const char *top = spf_lookup(&w, rec->name, NULL);
	int n_records = count_spf(vdns_lookup(r, rec->name, VDNS_TXT));
	if (n_records == 0 && !w.failed)
		add_problem(&w, "%s has no SPF record", rec->name);
	if (top)
		spf_walk_record(&w, rec->name, top, true);
	if (top && !w.reached && !w.failed)
		add_problem(&w, "the SPF record of %s does not include %s", rec->name, rec->target);
	char count[16];
	snprintf(count, sizeof(count), "%d", c->spf_lookups);
	if (c->spf_lookups > SPF_MAX_LOOKUPS)
		add_problem(&w, "%s DNS lookups through includes and redirects, over RFC 7208's limit of 10 (§4.6.4)",
			    count);
	snprintf(count, sizeof(count), "%d", c->spf_voids);
	if (c->spf_voids > SPF_MAX_VOID)
		add_problem(&w, "%s void lookups (names without records), over RFC 7208's limit of 2 (§4.6.4)", count);
	if (w.bad_all)
		add_problem(&w, "'%s' in the SPF record of %s lets any host send mail as it", w.bad_all, rec->name);
	if (w.oom) {
		free(c->requirement);
		c->requirement = NULL;
		return;
	}
	if (c->n_problems == 0)
		return;
	c->verdict = w.failed ? VERIFY_ERROR : VERIFY_WRONG;
	if (!w.failed && spf_change(&w, n_records, rec->name, rec->target, &c->change) < 0)
		c->change = NULL;
}

/* ---- DKIM ---- */

/* The value without white space, quotes and a final ';': how the vendor's text and the
 * published record are compared (a value split into several strings is joined first). */
static char *dkim_normalize(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;
	if (!out)
		return NULL;
	for (; *s; s++)
		if (!isspace((unsigned char)*s) && *s != '"')
			*o++ = *s;
	while (o > out && o[-1] == ';')
		o--;
	*o = '\0';
	return out;
}

static int b64_value(int ch)
{
	const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = ch ? strchr(alphabet, ch) : NULL;
	return p ? (int)(p - alphabet) : -1;
}

/* Decodes base64 (already without white space) up to '=' or ';'; returns the length. */
static size_t b64_decode(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;
	unsigned acc = 0;
	int bits = 0;
	for (; *s && *s != '=' && *s != ';' && n < max; s++) {
		int v = b64_value(*s);
		if (v < 0)
			return 0;
		acc = (acc << 6) | (unsigned)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n;
}

/* One DER tag and length; advances *p past them. */
static bool der_next(const unsigned char **p, const unsigned char *end, unsigned char tag, size_t *len)
{
	if (end - *p < 2 || **p != tag)
		return false;
	(*p)++;
	size_t l = *(*p)++;
	if (l & 0x80) {
		int k = (int)(l & 0x7f);
		if (k < 1 || k > 3 || end - *p < k)
			return false;
		for (l = 0; k--;)
			l = (l << 8) | *(*p)++;
	}
	*len = l;
	return l <= (size_t)(end - *p);
}

/* The modulus size of an RSA key as DKIM publishes it (SubjectPublicKeyInfo, or a bare
 * RSAPublicKey); 0 when it cannot be read. */
static int rsa_bits(const unsigned char *der, size_t n)
{
	const unsigned char *p = der, *end = der + n, *q;
	size_t l, al;
	if (!der_next(&p, end, 0x30, &l))
		return 0;
	end = p + l;
	q = p;
	if (der_next(&q, end, 0x30, &al)) {	/* SPKI: algorithm, then the key in a BIT STRING */
		p = q + al;
		if (!der_next(&p, end, 0x03, &l) || l < 1)
			return 0;
		p++;	/* the BIT STRING's count of unused bits */
		if (!der_next(&p, end, 0x30, &l))
			return 0;
	}
	if (!der_next(&p, end, 0x02, &l))
		return 0;
	while (l > 0 && *p == 0) {
		p++;
		l--;
	}
	if (l == 0)
		return 0;
	int bits = (int)l * 8;
	for (unsigned char top = *p; !(top & 0x80); top <<= 1)
		bits--;
	return bits;
}

static void dkim_key(const char *norm, struct verify_check *c)
{
	const char *k = strstr(norm, "k=");
	const char *p = norm;
	while ((p = strstr(p, "p=")) && p != norm && p[-1] != ';')
		p += 2;
	unsigned char der[2048];
	size_t n = p ? b64_decode(p + 2, der, sizeof(der)) : 0;
	c->key_bits = 0;
	if (k && !strncasecmp(k + 2, "ed25519", 7)) {
		c->key_type = "ed25519";
		c->key_bits = n == 32 ? 256 : 0;
	} else {
		c->key_type = "rsa";
		c->key_bits = n ? rsa_bits(der, n) : 0;
	}
}

static bool dkim_check_value(const struct ir_record *rec, const struct vdns_answer *a, struct verify_check *c,
			     bool *oom)
{
	char *want = dkim_normalize(rec->value), *got = NULL;
	bool same = false;
	for (size_t i = 0; want && i < a->n; i++) {
		if (verify_add(&c->found, &c->n_found, "%s TXT \"%s\"", rec->name, a->rrs[i]) < 0)
			break;
		free(got);
		if (!(got = dkim_normalize(a->rrs[i])))
			break;
		same |= !strcmp(got, want);
		dkim_key(got, c);
	}
	*oom = !want || (a->n && !got);
	free(want);
	free(got);
	return same;
}

void verify_dkim(const struct ir_record *rec, struct vdns *r, struct verify_check *c)
{
	const struct vdns_answer *a = vdns_lookup(r, rec->name, VDNS_TXT);
	bool oom = false;
	c->key_bits = 0;
	if (!a || asprintf(&c->requirement, "TXT record with the DKIM key marketing sent") < 0) {
		c->requirement = NULL;
		return;
	}
	c->secure = a->secure;
	if (a->status == VDNS_FAIL) {
		c->verdict = VERIFY_ERROR;
		verify_add(&c->problems, &c->n_problems, "TXT lookup of %s failed: %s", rec->name, a->why);
		return;
	}
	bool same = dkim_check_value(rec, a, c, &oom);
	if (oom) {
		free(c->requirement);
		c->requirement = NULL;
		return;
	}
	if (same && a->n == 1)
		return;
	c->verdict = VERIFY_WRONG;
	if (a->n == 0)
		verify_add(&c->problems, &c->n_problems, "%s has no TXT record", rec->name);
	else if (same)
		verify_add(&c->problems, &c->n_problems, "%s has %zu TXT records: verifiers may read any of them", rec->name,
			   a->n);
	else
		verify_add(&c->problems, &c->n_problems, "the TXT record of %s is not the value marketing sent", rec->name);
	if (asprintf(&c->change, "%s: %s. IN TXT \"%s\"", a->n ? "make it the one record" : "create", rec->name,
		     rec->value) < 0)
		c->change = NULL;
}
