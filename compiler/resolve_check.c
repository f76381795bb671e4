/* SPDX-License-Identifier: GPL-2.0-or-later */
/* resolve_check.c — the questions the resolver asks of an element beyond "is it valid":
 * words that are a likely mistake (a URL, host:port, Squid's ".example.com"), where
 * exactly an address is malformed, addresses that open (nearly) everything or never
 * match, and regexes that match every name or a whole top-level domain. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "resolve_internal.h"

#include <ctype.h>
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

/* A place inside the element at loc; a -D value is not in the file: only its $NAME is. */
static struct loc at(const struct resolver *r, struct loc loc, size_t offset)
{
	if (!r->value_from_cli)
		loc.col += (unsigned)offset;
	return loc;
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

/* "host:port" with one ':' and a port after it: an IPv6 address has two or more. */
static const char *port_colon(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	if (!colon || memchr(colon + 1, ':', n - (size_t)(colon - s) - 1) || colon == s)
		return NULL;
	return all_digits(colon + 1, n - (size_t)(colon - s) - 1) ? colon : NULL;
}

bool resolve_check_element_form(struct resolver *r, const char *s, size_t n, struct loc loc)
{
	/* A URL and host:port both have a ':'; most elements have none (an IPv6 address
	 * costs the two searches below, a million IPv4 prefixes one memchr each). */
	bool colon_in = memchr(s, ':', n) != NULL;
	const char *scheme = colon_in ? memmem(s, n, "://", 3) : NULL;	/* s is a token: not NUL-terminated */
	if (scheme) {
		const char *host = scheme + 3, *end = host;
		while (end < s + n && *end != '/' && *end != ':')
			end++;
		diag_error(r->d, loc, "'%.*s' is a URL, not a name", (int)n, s);
		diag_hint(r->d, "write the host name alone: %.*s (ports go in the rule: tcp port 443)",
			  (int)(end - host), host);
		return true;
	}
	const char *colon = colon_in ? port_colon(s, n) : NULL;
	if (colon) {
		diag_error(r->d, at(r, loc, (size_t)(colon - s)), "'%.*s' is a host and a port", (int)n, s);
		diag_hint(r->d, "write %.*s in the set and the port in the rule: allow out to @SET tcp port %.*s",
			  (int)(colon - s), s, (int)(n - (size_t)(colon - s) - 1), colon + 1);
		return true;
	}
	if (n > 1 && s[0] == '.' && s[1] != '.') {
		diag_error(r->d, loc, "'%.*s' is Squid's form for a domain and everything below it", (int)n, s);
		diag_hint(r->d, "write *.%.*s for the names below it and %.*s for the name itself", (int)(n - 1), s + 1,
			  (int)(n - 1), s + 1);
		return true;
	}
	return false;
}

/* The IPv4 address s[0..n): which octet is wrong and why. */
static void explain_v4(struct resolver *r, const char *s, size_t n, struct loc loc)
{
	size_t parts = 0, start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		const char *o = s + start;
		size_t len = i - start;
		unsigned v = 0;
		for (size_t k = 0; k < len && k < 4 && all_digits(o, len); k++)
			v = v * 10 + (unsigned)(o[k] - '0');
		const char *why = !all_digits(o, len) ? "is not a decimal number"
				  : len > 3 || v > 255 ? "is out of range (0-255)"
				  : len > 1 && o[0] == '0' ? "has a leading zero (some tools read it as octal)"
				  : NULL;
		if (len == 0) {
			diag_error(r->d, at(r, loc, start), "invalid IPv4 address '%.*s': empty octet", (int)n, s);
			return;
		}
		if (why) {
			diag_error(r->d, at(r, loc, start), "invalid IPv4 address '%.*s': octet '%.*s' %s", (int)n, s,
				   (int)(len > 16 ? 16 : len), o, why);
			return;
		}
		parts++;
		start = i + 1;
	}
	diag_error(r->d, loc, "invalid IPv4 address '%.*s': %zu octets, an IPv4 address has 4", (int)n, s, parts);
}

/* The IPv6 address s[0..n): the group or "::" that is wrong. */
static void explain_v6(struct resolver *r, const char *s, size_t n, struct loc loc)
{
	size_t groups = 0, start = 0;
	bool gap = false;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != ':')
			continue;
		size_t len = i - start;
		const char *g = s + start;
		if (len == 0 && i < n && i + 1 < n && s[i + 1] == ':' && start > 0) {
			diag_error(r->d, at(r, loc, start - 1), "invalid IPv6 address '%.*s': ':::'", (int)n, s);
			return;
		}
		if (len == 0 && i < n && start > 0 && s[start - 1] == ':' && gap) {
			diag_error(r->d, at(r, loc, start - 1), "invalid IPv6 address '%.*s': '::' may appear only once",
				   (int)n, s);
			return;
		}
		gap |= len == 0 && start > 0;
		if (i == n && memchr(g, '.', len)) {
			struct cidr_parsed p;
			if (cidr_parse(g, len, &p) != CIDR_OK || p.range.family != FAMILY_V4)
				explain_v4(r, g, len, at(r, loc, start));
			return;
		}
		size_t hex = 0;
		while (hex < len && isxdigit((unsigned char)g[hex]))
			hex++;
		if (len > 4 || hex < len) {
			diag_error(r->d, at(r, loc, start), "invalid IPv6 address '%.*s': group '%.*s' %s", (int)n, s,
				   (int)(len > 16 ? 16 : len), g,
				   hex < len ? "is not hexadecimal" : "has more than 4 hex digits");
			return;
		}
		groups += len > 0;
		start = i + 1;
	}
	diag_error(r->d, loc, "invalid IPv6 address '%.*s': %zu groups%s", (int)n, s, groups,
		   gap ? " and '::' (at most 7 with '::')" : " (8 without '::')");
}

void resolve_explain_bad_address(struct resolver *r, const char *s, size_t n, size_t from, struct loc loc)
{
	size_t end = from;
	while (end < n && s[end] != '/' && s[end] != '-')
		end++;
	if (memchr(s + from, ':', end - from))
		explain_v6(r, s + from, end - from, at(r, loc, from));
	else
		explain_v4(r, s + from, end - from, at(r, loc, from));
}

/* The number of addresses in rg minus one, compared with 2^bits: true when rg holds more
 * than 2^bits addresses. */
static bool range_wider_than(const struct addr_range *rg, unsigned bits)
{
	uint64_t lo_diff = rg->hi.lo - rg->lo.lo;
	uint64_t hi_diff = rg->hi.hi - rg->lo.hi - (rg->hi.lo < rg->lo.lo);
	if (bits >= 64)
		return hi_diff >> (bits - 64) != 0;
	return hi_diff != 0 || lo_diff >> bits != 0;
}

static const struct addr mapped_first = { 0, 0x0000ffff00000000u };
static const struct addr mapped_last = { 0, 0x0000ffffffffffffu };

void resolve_check_range(struct resolver *r, const char *s, size_t n, const struct addr_range *rg, struct loc loc)
{
	bool v4 = rg->family == FAMILY_V4;
	unsigned bits = v4 ? 32 : 128;
	unsigned shortest = v4 ? WIDE_PREFIX_V4 : WIDE_PREFIX_V6;
	struct addr all_lo = { 0, 0 }, all_hi = { v4 ? 0 : UINT64_MAX, v4 ? 0xffffffffu : UINT64_MAX };
	if (!addr_cmp(rg->lo, all_lo) && !addr_cmp(rg->hi, all_hi)) {
		diag_warn(r->d, "allow-all", loc, "'%.*s' is every %s address", (int)n, s, v4 ? "IPv4" : "IPv6");
		diag_hint(r->d, "list the vendor's own prefixes instead");
	} else if (range_wider_than(rg, bits - shortest)) {
		diag_warn(r->d, "wide-prefix", loc, "'%.*s' covers more addresses than a /%u", (int)n, s, shortest);
		diag_hint(r->d, "a vendor's ranges are much narrower; check the prefix length");
	} else if (!v4 && addr_cmp(rg->lo, mapped_last) <= 0 && addr_cmp(rg->hi, mapped_first) >= 0) {
		diag_warn(r->d, "mapped-v4", loc,
			  "'%.*s' is IPv4-mapped IPv6 (::ffff:0:0/96): nft, iptables and pf never match IPv4 traffic "
			  "against it", (int)n, s);
		if (addr_cmp(rg->lo, mapped_first) >= 0 && addr_cmp(rg->hi, mapped_last) <= 0) {
			char a[CIDR_TEXT_MAX], b[CIDR_TEXT_MAX];
			cidr_format_addr(a, FAMILY_V4, (struct addr){ 0, rg->lo.lo & 0xffffffffu });
			cidr_format_addr(b, FAMILY_V4, (struct addr){ 0, rg->hi.lo & 0xffffffffu });
			diag_hint(r->d, strcmp(a, b) ? "write the IPv4 range %s-%s" : "write the IPv4 address %s", a, b);
		}
	}
}

size_t regex_unclosed_paren(const char *p, size_t n, size_t fallback)
{
	size_t stack[64], depth = 0, lost = 0;
	bool in_class = false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\\') {
			i++;
		} else if (in_class) {
			in_class = p[i] != ']';
		} else if (p[i] == '[') {
			in_class = true;
			if (i + 1 < n && p[i + 1] == ']')
				i++;	/* "[]...]": a leading ']' is a member */
		} else if (p[i] == '(') {
			if (depth < 64)
				stack[depth] = i;
			else
				lost++;
			depth++;
		} else if (p[i] == ')' && depth > 0) {
			depth--;
		}
	}
	return depth > 0 && depth <= 64 && !lost ? stack[depth - 1] : fallback;
}

/* Probe labels nobody registers: a regex matching them matches names it cannot have meant. */
static const char *const probe_labels[] = { "pinhole-probe-q7zx", "zz9-k3v.pinhole-probe-w2" };
/* A few top-level and public suffixes of different shapes (plain, two-label, IDN). */
static const char *const probe_suffixes[] = { "com", "net", "org", "io", "de", "co.uk", "xn--p1ai" };
/* Names in unrelated places for "matches every name". */
static const char *const probe_any[] = { "example", "a.b.c.d.example.org", "pinhole-probe-q7zx.xn--p1ai",
					 "x1.pinhole-probe.invalid", "localhost" };

static bool regex_matches(const pcre2_code *re, pcre2_match_data *md, const char *name)
{
	return pcre2_match(re, (PCRE2_SPTR)name, strlen(name), 0, 0, md, NULL) >= 0;
}

void resolve_check_regex(struct resolver *r, const void *code, const char *pattern, struct loc loc)
{
	const pcre2_code *re = code;
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	if (!md)
		return;
	size_t hits = 0;
	for (size_t i = 0; i < sizeof(probe_any) / sizeof(*probe_any); i++)
		hits += regex_matches(re, md, probe_any[i]);
	if (hits == sizeof(probe_any) / sizeof(*probe_any)) {
		diag_warn(r->d, "regex-all", loc, "regex ~\"%s\" matches every name", pattern);
		diag_hint(r->d, "anchor it to the vendor's domain, e.g. ~\"^ws[0-9]+\\.example\\.com$\"");
		goto out;
	}
	for (size_t i = 0; i < sizeof(probe_suffixes) / sizeof(*probe_suffixes); i++) {
		char name[128];
		bool matched = false;
		for (size_t k = 0; k < sizeof(probe_labels) / sizeof(*probe_labels) && !matched; k++) {
			snprintf(name, sizeof(name), "%s.%s", probe_labels[k], probe_suffixes[i]);
			matched = regex_matches(re, md, name);
		}
		if (matched) {
			diag_warn(r->d, "regex-tld", loc, "regex ~\"%s\" matches names anywhere under '%s' (%s, for one)",
				  pattern, probe_suffixes[i], name);
			diag_hint(r->d, "a wildcard *.%s would be refused; anchor the regex to a registered domain",
				  probe_suffixes[i]);
			break;
		}
	}
out:
	pcre2_match_data_free(md);
}
