/* SPDX-License-Identifier: GPL-2.0-or-later */
/* squid.c — a squid.conf(5) fragment: ACLs for the sets, http_access lines for the rules
 * and the ssl_bump lines that allowlist TLS by its ServerName (SNI).
 *
 * Squid's ".d" matches d itself as well as every name below it, but pinhole's "*.d" means
 * strictly below d. So a wildcard becomes ".d" only when the set also holds the exact name
 * d (then the union is exactly that); otherwise it becomes the anchored regular expression
 * \.d\.?$, which cannot match d. Regex elements are PCRE2; Squid's regex ACLs are POSIX
 * extended regular expressions, so they are translated, and left out with a warning when
 * they use something POSIX lacks. Nothing is ever widened without a warning. */
#include "backend.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define SQUID_ACL_NAME_MAX 63	/* Squid 5: ACL_NAME_SZ is 64 with the NUL */
#define SQUID_REGEX_MAX 2048
#define SQUID_COMMENT_MAX 512

/* The ACLs one set can produce, and the Squid ACL type of each. */
enum squid_acl { ACL_DOM, ACL_RE, ACL_DST, ACL_SNI, ACL_SNI_RE, ACL_SRC, ACL_KINDS };
static const char *const acl_suffix[] = { "_dom", "_re", "_dst", "_sni", "_sni_re", "_src" };
static const char *const acl_type[] = { "dstdomain -n", "dstdom_regex -n -i", "dst", "ssl::server_name",
					"ssl::server_name_regex -i", "src" };
/* A rule without a scope is for the clients of Squid's stock "localnet" ACL (Debian's
 * squid.conf defines it before including conf.d), never for every client. */
#define SQUID_DEFAULT_CLIENTS "localnet"
#define SQUID_DEFAULT_TLS_PORT "3129"

static void acl_name(char *buf, size_t max, const struct policy *p, const struct ir_set *s, enum squid_acl k)
{
	snprintf(buf, max, "%s_%s%s", p->table, s->name, acl_suffix[k]);
}

/* ---- PCRE2 to POSIX ERE ------------------------------------------------------------- */

struct rx_out {
	char *buf;
	size_t len, max;
	bool overflow;
	bool upper;	/* a literal upper-case letter: Squid's -i would match more */
};

static void rx_put(struct rx_out *o, const char *s)
{
	size_t n = strlen(s);
	if (o->len + n >= o->max) {
		o->overflow = true;
		return;
	}
	memcpy(o->buf + o->len, s, n + 1);
	o->len += n;
}

static void rx_putc(struct rx_out *o, char c)
{
	char s[2] = { c, '\0' };
	if (isupper((unsigned char)c))
		o->upper = true;
	rx_put(o, s);
}

/* An escape outside brackets; returns NULL or why it has no POSIX form. */
static const char *rx_escape(struct rx_out *o, char c)
{
	switch (c) {
	case 'd': rx_put(o, "[0-9]"); return NULL;
	case 'D': rx_put(o, "[^0-9]"); return NULL;
	case 'w': rx_put(o, "[[:alnum:]_]"); return NULL;
	case 'W': rx_put(o, "[^[:alnum:]_]"); return NULL;
	case 's': rx_put(o, "[[:space:]]"); return NULL;
	case 'S': rx_put(o, "[^[:space:]]"); return NULL;
	case '-': case '/': case '_': rx_putc(o, c); return NULL;
	}
	if (c && strchr(".^$|()[]{}*+?\\", c)) {
		rx_putc(o, '\\');
		rx_putc(o, c);
		return NULL;
	}
	return "an escape sequence POSIX regular expressions lack";
}

/* An escape inside brackets, where POSIX takes a backslash literally. */
static const char *rx_bracket_escape(struct rx_out *o, char c, bool *dash)
{
	switch (c) {
	case 'd': rx_put(o, "0-9"); return NULL;
	case 'w': rx_put(o, "[:alnum:]_"); return NULL;
	case 's': rx_put(o, "[:space:]"); return NULL;
	case '-': *dash = true; return NULL;	/* POSIX: literal '-' goes last */
	case '.': case '_': case '/': case '^': case '$': case '*': case '+': case '?': case '(': case ')':
	case '{': case '}': case '|': rx_putc(o, c); return NULL;
	}
	return "an escape inside [...] that POSIX regular expressions lack";
}

/* Copies a bracket expression starting after '['; returns NULL or the reason. */
static const char *rx_bracket(struct rx_out *o, const char **pp)
{
	const char *p = *pp;
	bool dash = false;
	rx_put(o, "[");
	if (*p == '^')
		rx_putc(o, *p++);
	if (*p == ']')
		rx_putc(o, *p++);
	for (; *p && *p != ']'; p++) {
		const char *why = NULL;
		if (p[0] == '[' && p[1] == ':') {
			const char *end = strstr(p, ":]");
			if (!end)
				return "an unterminated character class";
			for (; p < end + 1; p++)
				rx_putc(o, *p);
			rx_putc(o, ']');
		} else if (*p == '\\') {
			why = rx_bracket_escape(o, *++p, &dash);
		} else {
			rx_putc(o, *p);
		}
		if (why)
			return why;
	}
	if (*p != ']')
		return "an unterminated [...]";
	if (dash)
		rx_put(o, "-");
	rx_put(o, "]");
	*pp = p + 1;
	return NULL;
}

/* After a quantifier: PCRE2's lazy form (x*?) matches the same names as the greedy one
 * when the whole name must match; the possessive form (x*+) can match fewer. */
static const char *rx_quantifier_suffix(const char **pp)
{
	if (**pp == '?')
		(*pp)++;
	else if (**pp == '+')
		return "a possessive quantifier";
	return NULL;
}

static const char *rx_translate_one(struct rx_out *o, const char **pp)
{
	const char *p = *pp;
	char c = *p++;
	const char *why = NULL;
	if (c == '\\') {
		why = rx_escape(o, *p ? *p++ : '\0');
	} else if (c == '[') {
		why = rx_bracket(o, &p);
	} else if (c == '(' && p[0] == '?' && p[1] == ':') {
		rx_put(o, "(");
		p += 2;
	} else if (c == '(' && p[0] == '?') {
		why = "a (?...) group";
	} else if (isspace((unsigned char)c) || c == '"' || iscntrl((unsigned char)c)) {
		why = "white space or a quote, which a squid.conf value cannot hold";
	} else {
		rx_putc(o, c);
		if (c == '*' || c == '+' || c == '?' || c == '}')
			why = rx_quantifier_suffix(&p);
	}
	*pp = p;
	return why;
}

/* Writes ^(ERE)$ for the PCRE2 pattern re into buf. Returns NULL, or why Squid cannot
 * take it; *upper tells that the pattern has a literal upper-case letter. */
static const char *regex_to_posix(const char *re, char *buf, size_t max, bool *upper)
{
	struct rx_out o = { buf, 0, max, false, false };
	buf[0] = '\0';
	rx_put(&o, "^(");
	for (const char *p = re; *p;) {
		const char *why = rx_translate_one(&o, &p);
		if (why)
			return why;
	}
	rx_put(&o, ")$");
	*upper = o.upper;
	return o.overflow ? "a pattern too long" : NULL;
}

/* ---- names ---------------------------------------------------------------------------- */

/* A wildcard whose apex is in the set too: ".d" is then exact. names is sorted by name with
 * the exact name right before the wildcard of the same name. */
static bool wildcard_has_apex(const struct ir_set *s, size_t i)
{
	return i > 0 && s->names[i - 1].kind == NAME_EXACT && !strcmp(s->names[i - 1].name, s->names[i].name);
}

static bool exact_is_apex(const struct ir_set *s, size_t i)
{
	return i + 1 < s->n_names && s->names[i + 1].kind == NAME_WILDCARD && !strcmp(s->names[i + 1].name, s->names[i].name);
}

/* \.d\.?$: strictly below d (the leading dot is required), trailing dot ignored. */
static void wildcard_regex(const char *base, char *buf, size_t max)
{
	size_t n = 0;
	buf[n++] = '\\';
	buf[n++] = '.';
	for (const char *c = base; *c && n + 8 < max; c++) {
		if (*c == '.')
			buf[n++] = '\\';
		buf[n++] = *c;
	}
	memcpy(buf + n, "\\.?$", 5);
}

/* What one set becomes, decided once so that each warning is given once. */
struct squid_set {
	bool has[ACL_KINDS];
	bool used;			/* some emitted rule refers to it */
	bool scope;			/* some emitted rule's clients (allow out from @it) */
	char **regex;			/* per regex element its POSIX form; NULL when left out */
	struct cidr_agg dst;		/* the prefixes as Squid sees them; tags index v4 then v6 */
};

struct squid {
	const struct policy *p;
	const struct backend_options *o;
	struct diags *d;
	struct squid_set *sets;		/* parallel to p->sets */
	bool failed;			/* an error was reported (--strict or a limit) */
	bool oom;
};

static void approximation(struct squid *sq, struct loc at, const char *message)
{
	if (backend_approximation(sq->d, sq->o, "squid", at, "%s", message) < 0)
		sq->failed = true;
}

/* ---- addresses -------------------------------------------------------------------------- */

/* Squid stores IPv4 addresses as IPv4-mapped IPv6 (::ffff:0:0/96) and cannot tell the two
 * apart: a mapped prefix is the IPv4 one to it, and a shorter IPv6 prefix around the mapped
 * block covers all of IPv4 as well. */
static const struct addr mapped_first = { 0, 0x0000ffff00000000u };
static const struct addr mapped_last = { 0, 0x0000ffffffffffffu };

static struct addr prefix_last(const struct prefix *pr)
{
	unsigned host = (pr->family == FAMILY_V4 ? 32u : 128u) - pr->len;
	struct addr a = pr->addr;
	if (host >= 64) {
		a.lo = ~0ull;
		a.hi |= host == 64 ? 0 : ~0ull >> (128 - host);
	} else if (host > 0) {
		a.lo |= ~0ull >> (64 - host);
	}
	return a;
}

static int add_range(struct cidr_list *l, uint8_t family, struct addr lo, struct addr hi, uint32_t tag)
{
	struct addr_range r = { lo, hi, family };
	return cidr_list_add(l, &r, tag);
}

static struct addr addr_plus(struct addr a, int delta)
{
	struct addr r = a;
	r.lo += (uint64_t)(int64_t)delta;
	if (delta > 0 && r.lo < a.lo)
		r.hi++;
	else if (delta < 0 && r.lo > a.lo)
		r.hi--;
	return r;
}

/* The IPv4 addresses lo..hi Squid sees in an IPv6 prefix through the mapped block (all of
 * IPv4 for a prefix around the block). Returns false when it has none. */
static bool mapped_v4(const struct prefix *pr, uint64_t *lo, uint64_t *hi)
{
	struct addr first = pr->addr, last = prefix_last(pr);
	if (pr->family == FAMILY_V4 || addr_cmp(last, mapped_first) < 0 || addr_cmp(mapped_last, first) < 0)
		return false;
	/* A prefix either lies inside the block or covers all of it. */
	bool inside = addr_cmp(mapped_first, first) <= 0;
	*lo = inside ? first.lo & 0xffffffffu : 0;
	*hi = inside ? last.lo & 0xffffffffu : 0xffffffffu;
	return true;
}

/* Adds one IR prefix as Squid sees it. Returns 0, or -1 on ENOMEM. */
static int add_squid_prefix(struct cidr_list *l, const struct prefix *pr, uint32_t tag)
{
	struct addr first = pr->addr, last = prefix_last(pr);
	uint64_t lo, hi;
	if (!mapped_v4(pr, &lo, &hi))
		return add_range(l, pr->family, first, last, tag);
	int ret = add_range(l, FAMILY_V4, (struct addr){ 0, lo }, (struct addr){ 0, hi }, tag);
	/* Around the block: what lies before and after it stays IPv6. */
	if (ret == 0 && addr_cmp(first, mapped_first) < 0)
		ret = add_range(l, FAMILY_V6, first, addr_plus(mapped_first, -1), tag);
	if (ret == 0 && addr_cmp(mapped_last, last) < 0)
		ret = add_range(l, FAMILY_V6, addr_plus(mapped_last, 1), last, tag);
	return ret;
}

/* True when the set's own IPv4 prefixes (ascending, disjoint) cover lo..hi. */
static bool v4_covers(const struct ir_set *s, uint64_t lo, uint64_t hi)
{
	uint64_t next = lo;
	for (size_t i = 0; i < s->n_v4 && next <= hi; i++) {
		uint64_t a = s->v4[i].prefix.addr.lo, b = prefix_last(&s->v4[i].prefix).lo;
		if (b < next)
			continue;
		if (a > next)
			return false;
		next = b + 1;
	}
	return next > hi;
}

/* A mapped IPv6 prefix widens the policy in Squid only where the set does not already
 * allow those IPv4 addresses. */
static void check_mapped(struct squid *sq, const struct ir_set *s, const struct ir_prefix *pr)
{
	uint64_t lo, hi;
	if (!mapped_v4(&pr->prefix, &lo, &hi) || v4_covers(s, lo, hi))
		return;
	char text[CIDR_TEXT_MAX], msg[CIDR_TEXT_MAX + 160];
	cidr_format_prefix(text, &pr->prefix);
	snprintf(msg, sizeof(msg), "Squid cannot tell IPv4-mapped IPv6 addresses from IPv4 ones: %s also allows "
		 "the IPv4 addresses it maps, which the set does not hold", text);
	approximation(sq, s->origins[pr->origin_first], msg);
}

static void plan_dst(struct squid *sq, const struct ir_set *s, struct squid_set *ss)
{
	struct cidr_list l = { 0 };
	int ret = 0;
	for (size_t i = 0; i < s->n_v4 && ret == 0; i++)
		ret = add_squid_prefix(&l, &s->v4[i].prefix, (uint32_t)i);
	for (size_t i = 0; i < s->n_v6 && ret == 0; i++) {
		ret = add_squid_prefix(&l, &s->v6[i].prefix, (uint32_t)(s->n_v4 + i));
		check_mapped(sq, s, &s->v6[i]);
	}
	if (ret < 0 || cidr_aggregate(&l, true, &ss->dst) < 0)
		sq->oom = true;
	cidr_list_free(&l);
	ss->has[ACL_DST] = ss->dst.n > 0;
}

/* ---- planning ------------------------------------------------------------------------ */

/* A forward proxy sees only connections its clients open: outgoing TCP. */
static bool rule_expressible(const struct ir_rule *r)
{
	return r->dir == DIR_OUT && r->proto != PROTO_UDP;
}

static void plan_regexes(struct squid *sq, const struct ir_set *s, struct squid_set *ss)
{
	if (!(ss->regex = calloc(s->n_regexes + 1, sizeof(*ss->regex)))) {
		sq->oom = true;
		return;
	}
	for (size_t i = 0; i < s->n_regexes; i++) {
		char buf[SQUID_REGEX_MAX];
		bool upper = false;
		const char *why = regex_to_posix(s->regexes[i].pattern, buf, sizeof(buf), &upper);
		if (why) {
			/* Leaving it out narrows the allowlist, which is safe but worth saying. */
			diag_warning(sq->d, s->regexes[i].loc, "squid: regex left out: it uses %s", why);
			continue;
		}
		if (upper)
			approximation(sq, s->regexes[i].loc,
				      "the regex has upper-case letters, which never match a (lower-case) name, "
				      "but Squid matches case-insensitively");
		if (!(ss->regex[i] = strdup(buf)))
			sq->oom = true;
		ss->has[ACL_RE] = ss->has[ACL_SNI_RE] = true;
	}
}

static void plan_names(const struct ir_set *s, struct squid_set *ss)
{
	for (size_t i = 0; i < s->n_names; i++) {
		bool regex = s->names[i].kind == NAME_WILDCARD && !wildcard_has_apex(s, i);
		ss->has[regex ? ACL_RE : ACL_DOM] = true;
		ss->has[regex ? ACL_SNI_RE : ACL_SNI] = true;
	}
}

static void check_acl_names(struct squid *sq, const struct ir_set *s, const struct squid_set *ss)
{
	char name[KSET_NAME_MAX * 3];
	for (enum squid_acl k = ACL_DOM; k < ACL_KINDS; k++) {
		acl_name(name, sizeof(name), sq->p, s, k);
		if (!ss->has[k] || strlen(name) <= SQUID_ACL_NAME_MAX)
			continue;
		diag_error(sq->d, s->loc, "squid: ACL name '%s' is longer than %d characters", name, SQUID_ACL_NAME_MAX);
		diag_hint(sq->d, "shorten the set's name or the table option");
		sq->failed = true;
		return;
	}
}

static int plan(struct squid *sq)
{
	const struct policy *p = sq->p;
	if (!(sq->sets = calloc(p->n_sets + 1, sizeof(*sq->sets))))
		return -1;
	for (size_t i = 0; i < p->n_rules; i++) {
		if (!rule_expressible(&p->rules[i]))
			continue;
		sq->sets[p->rules[i].set - p->sets].used = true;
		if (p->rules[i].scope)
			sq->sets[p->rules[i].scope - p->sets].scope = true;
	}
	for (size_t i = 0; i < p->n_sets && !sq->oom; i++) {
		struct squid_set *ss = &sq->sets[i];
		if (!ss->used && !ss->scope)
			continue;
		if (ss->used) {
			plan_names(&p->sets[i], ss);
			plan_regexes(sq, &p->sets[i], ss);
		}
		plan_dst(sq, &p->sets[i], ss);
		ss->has[ACL_SRC] = ss->scope && ss->has[ACL_DST];
		ss->has[ACL_DST] &= ss->used;
		/* No certificate: no ServerName check at all (squid_emit says so), so no SNI ACLs. */
		ss->has[ACL_SNI] &= p->squid_tls_cert != NULL;
		ss->has[ACL_SNI_RE] &= p->squid_tls_cert != NULL;
		check_acl_names(sq, &p->sets[i], ss);
	}
	return sq->oom ? -1 : 0;
}

static void plan_free(struct squid *sq)
{
	for (size_t i = 0; sq->sets && i < sq->p->n_sets; i++) {
		for (size_t k = 0; sq->sets[i].regex && k < sq->p->sets[i].n_regexes; k++)
			free(sq->sets[i].regex[k]);
		free(sq->sets[i].regex);
		cidr_agg_free(&sq->sets[i].dst);
	}
	free(sq->sets);
}

/* ---- output ----------------------------------------------------------------------------- */

static void emit_header(FILE *out)
{
	fprintf(out, "# Generated by pinhole %s. Do not edit: change the rules file and compile again.\n",
		PINHOLE_VERSION);
	fprintf(out, "# A squid.conf(5) fragment. Include it before your own final \"http_access deny all\"\n"
		     "# (Debian: save it as /etc/squid/conf.d/pinhole.conf). Rules without clients (allow out\n"
		     "# from @SET) are for the clients of your \"localnet\" ACL, which the fragment expects.\n"
		     "# With option squid_tls_cert it writes an ssl-bump port that checks the ServerName (SNI),\n"
		     "# which needs Squid built with OpenSSL (Debian: squid-openssl).\n"
		     "#\n"
		     "# \"*.d\" means names strictly below d, never d itself: it is written as the regular\n"
		     "# expression \\.d\\.?$, or as \".d\" when the set allows d as well.\n");
}

static void emit_acl_line(FILE *out, const char *acl, enum squid_acl k, const char *value, const char *from)
{
	/* Squid knows comments only as whole lines. */
	fprintf(out, "# %s\nacl %s %s %s\n", from, acl, acl_type[k], value);
}

static void loc_text(char *buf, size_t max, struct loc at)
{
	snprintf(buf, max, "%s:%u", at.file, at.line);
}

/* dstdomain and ssl::server_name take the same values: exact names, and ".d" for a
 * wildcard whose apex d is in the set too (the apex line itself is then left to ".d"). */
static void emit_domains(FILE *out, const char *acl, enum squid_acl k, const struct ir_set *s)
{
	char value[NAME_MAX_LEN + 2], from[SQUID_COMMENT_MAX];
	for (size_t i = 0; i < s->n_names; i++) {
		const struct ir_name *n = &s->names[i];
		bool wildcard = n->kind == NAME_WILDCARD;
		if (wildcard ? !wildcard_has_apex(s, i) : exact_is_apex(s, i))
			continue;
		snprintf(value, sizeof(value), "%s%s", wildcard ? "." : "", n->name);
		if (wildcard)
			snprintf(from, sizeof(from), "%s:%u, %s:%u", s->names[i - 1].loc.file, s->names[i - 1].loc.line,
				 n->loc.file, n->loc.line);
		else
			loc_text(from, sizeof(from), n->loc);
		emit_acl_line(out, acl, k, value, from);
	}
}

static void emit_regexes(FILE *out, const char *acl, enum squid_acl k, const struct ir_set *s,
			 const struct squid_set *ss)
{
	char value[NAME_MAX_LEN * 2 + 8], from[SQUID_COMMENT_MAX];
	for (size_t i = 0; i < s->n_names; i++) {
		if (s->names[i].kind != NAME_WILDCARD || wildcard_has_apex(s, i))
			continue;
		wildcard_regex(s->names[i].name, value, sizeof(value));
		loc_text(from, sizeof(from), s->names[i].loc);
		emit_acl_line(out, acl, k, value, from);
	}
	for (size_t i = 0; i < s->n_regexes; i++) {
		if (!ss->regex[i])
			continue;
		loc_text(from, sizeof(from), s->regexes[i].loc);
		emit_acl_line(out, acl, k, ss->regex[i], from);
	}
}

/* The set's addresses as a dst (destinations) or src (clients) ACL. */
static void emit_dst(FILE *out, const char *acl, enum squid_acl k, const struct ir_set *s, const struct squid_set *ss)
{
	char text[CIDR_TEXT_MAX], from[SQUID_COMMENT_MAX];
	for (size_t i = 0; i < ss->dst.n; i++) {
		uint32_t tag = ss->dst.tags[ss->dst.tag_start[i]];
		const struct ir_prefix *pr = tag < s->n_v4 ? &s->v4[tag] : &s->v6[tag - s->n_v4];
		const struct prefix *sp = &ss->dst.prefixes[i];
		ir_prefix_sources(s, pr, from, sizeof(from));
		if (sp->family == FAMILY_V4 && sp->len == 0) {
			/* Squid reads 0.0.0.0/0 as "all", IPv6 included: write IPv4 as its halves. */
			emit_acl_line(out, acl, k, "0.0.0.0/1", from);
			emit_acl_line(out, acl, k, "128.0.0.0/1", from);
			continue;
		}
		cidr_format_prefix(text, sp);
		emit_acl_line(out, acl, k, text, from);
	}
}

static void emit_set_acls(const struct squid *sq, size_t i, FILE *out)
{
	const struct ir_set *s = &sq->p->sets[i];
	const struct squid_set *ss = &sq->sets[i];
	char acl[KSET_NAME_MAX * 3];
	fprintf(out, "\n# set %s, %s:%u\n", s->name, s->loc.file, s->loc.line);
	for (enum squid_acl k = ACL_DOM; k < ACL_KINDS; k++) {
		if (!ss->has[k])
			continue;
		acl_name(acl, sizeof(acl), sq->p, s, k);
		if (k == ACL_DOM || k == ACL_SNI)
			emit_domains(out, acl, k, s);
		else if (k == ACL_RE || k == ACL_SNI_RE)
			emit_regexes(out, acl, k, s, ss);
		else
			emit_dst(out, acl, k, s, ss);
	}
}

static void ports_acl_name(char *buf, size_t max, const struct policy *p, size_t rule)
{
	snprintf(buf, max, "%s_rule%zu_ports", p->table, rule + 1);
}

/* Squid's port ACL matches the port of the requested URL, or of the CONNECT. */
static void emit_port_acls(const struct policy *p, FILE *out)
{
	char acl[KSET_NAME_MAX * 3];
	bool first = true;
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct ir_rule *r = &p->rules[i];
		if (!rule_expressible(r) || r->proto == PROTO_ANY || r->n_ports == 0)
			continue;
		if (first)
			fprintf(out, "\n# the ports of each rule\n");
		first = false;
		ports_acl_name(acl, sizeof(acl), p, i);
		fprintf(out, "acl %s port", acl);
		for (size_t k = 0; k < r->n_ports; k++) {
			fprintf(out, " %u", r->ports[k].lo);
			if (r->ports[k].hi != r->ports[k].lo)
				fprintf(out, "-%u", r->ports[k].hi);
		}
		fprintf(out, "\n");
	}
}

/* One "VERB [EXTRA] CLIENTS ACL [PORTS]" line per ACL of the rule's set among kinds;
 * CLIENTS is the rule's scope's src ACL, or localnet. */
static void emit_access(const struct squid *sq, size_t rule, const char *verb, const enum squid_acl *kinds,
			size_t n_kinds, FILE *out)
{
	const struct ir_rule *r = &sq->p->rules[rule];
	const struct squid_set *ss = &sq->sets[r->set - sq->p->sets];
	char acl[KSET_NAME_MAX * 3], ports[KSET_NAME_MAX * 3] = "", clients[KSET_NAME_MAX * 3] = SQUID_DEFAULT_CLIENTS;
	if (r->proto != PROTO_ANY && r->n_ports > 0) {
		ports[0] = ' ';
		ports_acl_name(ports + 1, sizeof(ports) - 1, sq->p, rule);
	}
	if (r->scope)
		acl_name(clients, sizeof(clients), sq->p, r->scope, ACL_SRC);
	for (size_t k = 0; k < n_kinds; k++) {
		if (!ss->has[kinds[k]])
			continue;
		acl_name(acl, sizeof(acl), sq->p, r->set, kinds[k]);
		fprintf(out, "%s %s %s%s\n", verb, clients, acl, ports);
	}
}

/* "http_access allow [!]TABLE_connect" and the like, into buf. */
static const char *tls_verb(char *buf, size_t max, const struct squid *sq, const char *verb, const char *suffix)
{
	snprintf(buf, max, "%s%s%s", verb, sq->p->table, suffix);
	return buf;
}

static void emit_http_access(struct squid *sq, FILE *out)
{
	static const enum squid_acl kinds[] = { ACL_DOM, ACL_RE, ACL_DST };
	char comment[SQUID_COMMENT_MAX], verb[KSET_NAME_MAX * 3];
	for (size_t i = 0; i < sq->p->n_rules; i++) {
		const struct ir_rule *r = &sq->p->rules[i];
		rule_comment(r, comment, sizeof(comment));
		if (!rule_expressible(r)) {
			const char *why = r->dir == DIR_IN ? "incoming traffic" : "UDP";
			fprintf(out, "\n# %s\n# left out: a forward proxy does not see %s\n", comment, why);
			diag_note(sq->d, r->loc, "squid: rule left out: a forward proxy does not see %s", why);
			continue;
		}
		fprintf(out, "\n# %s\n", comment);
		if (!sq->p->squid_tls_cert) {
			emit_access(sq, i, "http_access allow", kinds, 3, out);
			continue;
		}
		/* A CONNECT is allowed only on the ssl-bump port, where ssl_bump checks its SNI. */
		emit_access(sq, i, tls_verb(verb, sizeof(verb), sq, "http_access allow !", "_connect"), kinds, 3, out);
		emit_access(sq, i, tls_verb(verb, sizeof(verb), sq, "http_access allow ", "_tls_port"), kinds, 3, out);
	}
}

/* The ssl-bump port the ssl_bump lines act on, with the certificate the user named. Only
 * peek, splice and terminate are used, none of which makes a certificate for a server, so
 * generate-host-certificates=off and no sslcrtd_program (whose helpers crash without a CA
 * database: Squid would not start). */
static void emit_tls_port(const struct policy *p, FILE *out)
{
	fprintf(out, "\n# TLS (https, wss): clients send CONNECT to this port, where the ServerName (SNI)\n"
		     "# of the ClientHello is checked; a CONNECT on another port is not allowed below.\n");
	fprintf(out, "http_port %s name=%s_tls ssl-bump tls-cert=%s", p->squid_tls_port ? p->squid_tls_port
			: SQUID_DEFAULT_TLS_PORT, p->table, p->squid_tls_cert);
	if (p->squid_tls_key)
		fprintf(out, " tls-key=%s", p->squid_tls_key);
	fprintf(out, " generate-host-certificates=off\n");
	fprintf(out, "acl %s_tls_port myportname %s_tls\nacl %s_connect method CONNECT\n", p->table, p->table,
		p->table);
}

/* Peek at the ClientHello to learn the ServerName, splice (pass through unbumped) what the
 * rules allow, and terminate the rest: without the final line Squid would splice
 * everything it peeked at, which would open TLS to every name. A ClientHello without SNI
 * is judged by the CONNECT's host name, which Squid's ssl::server_name falls back to. */
static void emit_ssl_bump(const struct squid *sq, FILE *out)
{
	static const enum squid_acl kinds[] = { ACL_SNI, ACL_SNI_RE, ACL_DST };
	bool any = false;
	for (size_t i = 0; i < sq->p->n_rules; i++)
		any |= rule_expressible(&sq->p->rules[i]);
	if (!any || !sq->p->squid_tls_cert)
		return;
	fprintf(out, "\n# TLS by ServerName (SNI)\nacl %s_step1 at_step SslBump1\n", sq->p->table);
	fprintf(out, "ssl_bump peek %s_step1\n", sq->p->table);
	for (size_t i = 0; i < sq->p->n_rules; i++)
		if (rule_expressible(&sq->p->rules[i]))
			emit_access(sq, i, "ssl_bump splice", kinds, 3, out);
	fprintf(out, "ssl_bump terminate all\n");
}

/* Without a certificate Squid cannot peek at a ClientHello: say so rather than write
 * ssl_bump lines that parse and then check nothing (or stop Squid from starting). */
static void check_tls(struct squid *sq)
{
	bool any = false;
	for (size_t i = 0; i < sq->p->n_rules; i++)
		any |= rule_expressible(&sq->p->rules[i]) && sq->p->rules[i].proto != PROTO_UDP;
	if (!any || sq->p->squid_tls_cert)
		return;
	approximation(sq, sq->p->rules[0].loc,
		      "no option squid_tls_cert: the ServerName (SNI) of TLS connections is not checked, a CONNECT "
		      "is allowed by its host name alone");
}

static int squid_emit(const struct policy *p, const struct backend_options *o, FILE *out, struct diags *d)
{
	struct squid sq = { .p = p, .o = o, .d = d };
	int ret = -1;
	char acl[KSET_NAME_MAX * 3];
	if (plan(&sq) < 0) {
		diag_error(d, (struct loc){ p->n_sets ? p->sets[0].loc.file : NULL, 0, 0 }, "squid: out of memory");
		goto out;
	}
	ports_acl_name(acl, sizeof(acl), p, p->n_rules);
	if (strlen(acl) > SQUID_ACL_NAME_MAX && p->n_rules > 0) {
		diag_error(d, p->rules[0].loc, "squid: ACL name '%s' (from option table) is longer than %d characters",
			   acl, SQUID_ACL_NAME_MAX);
		sq.failed = true;
	}
	check_tls(&sq);
	if (sq.failed)
		goto out;
	emit_header(out);
	if (p->squid_tls_cert)
		emit_tls_port(p, out);
	for (size_t i = 0; i < p->n_sets; i++)
		if (sq.sets[i].used || sq.sets[i].scope)
			emit_set_acls(&sq, i, out);
	emit_port_acls(p, out);
	emit_http_access(&sq, out);
	emit_ssl_bump(&sq, out);
	ret = ferror(out) ? -1 : 0;
out:
	plan_free(&sq);
	return ret;
}

const struct backend backend_squid = {
	.name = "squid",
	.summary = "a squid.conf fragment: ACLs, http_access and ssl_bump (SNI) lines",
	.emit = squid_emit,
};
