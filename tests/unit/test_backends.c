/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_backends.c — the iptables, pf and squid backends on small policies: what they write,
 * what they warn about, and that the regexes given to Squid match the names PCRE2 matches. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <criterion/criterion.h>
#include <pcre2.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

struct run {
	struct diags *d;
	struct policy *p;
	char *text;
	size_t len;
	int rc;
};

static void run_backend(struct run *r, const char *backend, const char *rules, bool strict)
{
	r->d = diags_new();
	struct compile_request req = { .file = "t.rules", .text = rules, .len = strlen(rules) };
	r->p = policy_compile(&req, r->d);
	cr_assert_not_null(r->p, "policy must compile");
	FILE *out = open_memstream(&r->text, &r->len);
	struct backend_options o = { .strict = strict };
	r->rc = backend_find(backend)->emit(r->p, &o, out, r->d);
	fclose(out);
}

static void run_free(struct run *r)
{
	free(r->text);
	policy_free(r->p);
	diags_free(r->d);
}

static bool has_diag(const struct diags *d, enum severity sev, const char *part)
{
	for (size_t i = 0; i < diags_count(d); i++)
		if (diags_get(d, i)->severity == sev && strstr(diags_get(d, i)->message, part))
			return true;
	return false;
}

Test(squid, wildcard_without_apex_is_a_regex_that_excludes_the_apex)
{
	struct run r;
	run_backend(&r, "squid", "option squid_tls_cert /x.pem\nset w { *.example.com }\nallow out to @w tcp port 443\n",
		    false);
	cr_assert_eq(r.rc, 0);
	cr_assert_not_null(strstr(r.text, "acl pinhole_w_re dstdom_regex -n -i \\.example\\.com\\.?$\n"), "%s", r.text);
	cr_assert_null(strstr(r.text, " .example.com"), "%s", r.text);
	cr_assert_not_null(strstr(r.text, "ssl_bump splice localnet pinhole_w_sni_re pinhole_rule1_ports\n"));
	cr_assert_eq(diags_warnings(r.d), 0);
	run_free(&r);
}

Test(squid, no_certificate_no_sni_rules_and_a_warning)
{
	struct run r;
	run_backend(&r, "squid", "set w { *.example.com }\nallow out to @w tcp port 443\n", false);
	cr_assert_eq(r.rc, 0);
	cr_assert_null(strstr(r.text, "ssl_bump"), "%s", r.text);
	cr_assert_null(strstr(r.text, "server_name_regex"), "%s", r.text);
	cr_assert(has_diag(r.d, SEV_WARNING, "squid: no option squid_tls_cert"));
	run_free(&r);
	run_backend(&r, "squid", "set w { *.example.com }\nallow out to @w tcp port 443\n", true);
	cr_assert_eq(r.rc, -1);
	run_free(&r);
}

Test(squid, wildcard_with_apex_is_one_dot_entry)
{
	struct run r;
	run_backend(&r, "squid", "set w { example.com *.example.com }\nallow out to @w tcp\n", false);
	cr_assert_not_null(strstr(r.text, "acl pinhole_w_dom dstdomain -n .example.com\n"), "%s", r.text);
	cr_assert_null(strstr(r.text, "dstdomain -n example.com"), "Squid refuses both: %s", r.text);
	cr_assert_null(strstr(r.text, "_re "), "%s", r.text);
	cr_assert_not_null(strstr(r.text, "http_access allow localnet pinhole_w_dom\n"), "no port ACL for tcp without ports");
	run_free(&r);
}

Test(squid, inbound_and_udp_rules_are_left_out_with_a_note)
{
	struct run r;
	run_backend(&r, "squid", "set a { 192.0.2.0/24 }\nallow in from @a tcp port 25\nallow out to @a udp\n", true);
	cr_assert_eq(r.rc, 0, "narrowing is not an approximation, even with --strict");
	cr_assert(has_diag(r.d, SEV_NOTE, "does not see incoming traffic"));
	cr_assert(has_diag(r.d, SEV_NOTE, "does not see UDP"));
	cr_assert_null(strstr(r.text, "http_access allow"), "%s", r.text);
	cr_assert_null(strstr(r.text, "ssl_bump peek"), "%s", r.text);
	run_free(&r);
}

Test(squid, mapped_ipv6_widening_warns_and_strict_fails)
{
	struct run r;
	run_backend(&r, "squid", "set a { ::ffff:203.0.113.0/120 }\nallow out to @a tcp\n", false);
	cr_assert_eq(r.rc, 0);
	cr_assert_not_null(strstr(r.text, "acl pinhole_a_dst dst 203.0.113.0/24\n"), "%s", r.text);
	cr_assert(has_diag(r.d, SEV_WARNING, "IPv4-mapped"));
	run_free(&r);
	run_backend(&r, "squid", "option squid_tls_cert /x.pem\nset a { ::ffff:203.0.113.0/120 }\nallow out to @a tcp\n", true);
	cr_assert_eq(r.rc, -1);
	cr_assert(has_diag(r.d, SEV_ERROR, "squid: Squid cannot tell IPv4-mapped"));
	run_free(&r);
	/* Covered by the set's own IPv4 prefix: Squid allows nothing more. */
	run_backend(&r, "squid", "option squid_tls_cert /x.pem\nset a { ::ffff:203.0.113.1 203.0.113.0/24 }\nallow out to @a tcp\n", true);
	cr_assert_eq(r.rc, 0);
	/* Only the compiler's own mapped-v4 warning (nft, iptables and pf never match it). */
	cr_assert_eq(diags_warnings(r.d) + diags_errors(r.d), 1);
	cr_assert(has_diag(r.d, SEV_WARNING, "is IPv4-mapped IPv6"));
	run_free(&r);
}

/* The POSIX form of one regex element, as the squid backend writes it, or NULL. */
static char *squid_regex(const char *pcre, struct diags **d)
{
	char rules[512], *found = NULL;
	snprintf(rules, sizeof(rules), "option squid_tls_cert /x.pem\nset r { ~\"%s\" }\nallow out to @r tcp\n", pcre);
	struct run r;
	run_backend(&r, "squid", rules, false);
	const char *key = "dstdom_regex -n -i ";
	char *at = strstr(r.text, key);
	if (at) {
		at += strlen(key);
		found = strndup(at, strcspn(at, "\n"));
	}
	*d = r.d;
	r.d = NULL;
	run_free(&r);
	return found;
}

static bool pcre_full_match(const char *pattern, const char *name)
{
	int err;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_ANCHORED | PCRE2_ENDANCHORED,
				       &err, &off, NULL);
	cr_assert_not_null(re);
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	bool m = pcre2_match(re, (PCRE2_SPTR)name, strlen(name), 0, 0, md, NULL) >= 0;
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	return m;
}

/* Squid compiles with REG_EXTENDED | REG_NOSUB, and REG_ICASE for -i. */
static bool posix_match(const char *ere, const char *name)
{
	regex_t rx;
	cr_assert_eq(regcomp(&rx, ere, REG_EXTENDED | REG_NOSUB | REG_ICASE), 0, "regcomp(%s)", ere);
	bool m = regexec(&rx, name, 0, NULL, 0) == 0;
	regfree(&rx);
	return m;
}

Test(squid, translated_regexes_match_the_same_names_as_pcre2)
{
	static const char *const patterns[] = {
		"^ws\\d+\\.example\\.org$", "(?:cdn|img)-[a-z]{2,}?\\.example\\.org", "[\\d\\-.]+\\.example\\.net",
		"a.c", "ws[0-9]*\\.x\\.com|api\\.x\\.com", "[^.]+\\.example\\.com", "\\w+\\.x\\.com",
	};
	static const char *const names[] = {
		"ws1.example.org", "ws.example.org", "ws12.example.org.evil", "xws1.example.org", "cdn-ab.example.org",
		"img-a.example.org", "cdn-abc.example.org", "1-2.3.example.net", "a-.example.net", "abc", "xabc",
		"abcd", "ws.x.com", "api.x.com", "ws9.x.com", "a.b.example.com", "www.example.com", "a_b.x.com", "a.b.x.com",
	};
	for (size_t i = 0; i < sizeof(patterns) / sizeof(*patterns); i++) {
		struct diags *d;
		char *ere = squid_regex(patterns[i], &d);
		cr_assert_not_null(ere, "pattern %s was left out", patterns[i]);
		cr_assert_eq(diags_warnings(d), 0, "pattern %s", patterns[i]);
		for (size_t k = 0; k < sizeof(names) / sizeof(*names); k++)
			cr_expect_eq(pcre_full_match(patterns[i], names[k]), posix_match(ere, names[k]),
				     "%s (as %s) on %s", patterns[i], ere, names[k]);
		free(ere);
		diags_free(d);
	}
}

Test(squid, regexes_posix_lacks_are_left_out_with_a_warning)
{
	static const char *const patterns[] = { "^a\\bb$", "a++b", "(?i)abc", "a\\x41", "(?=a)a" };
	for (size_t i = 0; i < sizeof(patterns) / sizeof(*patterns); i++) {
		struct diags *d;
		char *ere = squid_regex(patterns[i], &d);
		cr_expect_null(ere, "%s became %s", patterns[i], ere);
		cr_expect(has_diag(d, SEV_WARNING, "regex left out"), "%s", patterns[i]);
		free(ere);
		diags_free(d);
	}
}

Test(squid, upper_case_regex_is_an_approximation)
{
	struct run r;
	run_backend(&r, "squid", "option squid_tls_cert /x.pem\nset r { ~\"^WWW\\.x\\.com$\" }\nallow out to @r tcp\n", true);
	cr_assert_eq(r.rc, -1);
	cr_assert(has_diag(r.d, SEV_ERROR, "upper-case"));
	run_free(&r);
}

Test(pf, tables_ranges_and_directions)
{
	struct run r;
	run_backend(&r, "pf", "set a { 192.0.2.0/24 2001:db8::/32 }\nallow out to @a tcp port { 80, 8000-8090 }\n"
			      "allow in from @a udp port 53\n", false);
	cr_assert_eq(r.rc, 0);
	cr_assert_not_null(strstr(r.text, "table <a_v4> const {\n\t192.0.2.0/24\t# t.rules:1\n}\n"), "%s", r.text);
	cr_assert_not_null(strstr(r.text, "pass out quick inet proto tcp from any to <a_v4> port { 80, 8000:8090 }\n"));
	cr_assert_not_null(strstr(r.text, "pass in quick inet6 proto udp from <a_v6> to any port 53\n"));
	cr_assert_eq(diags_warnings(r.d), 0);
	run_free(&r);
}

Test(pf, names_need_persist_tables_and_a_warning)
{
	struct run r;
	run_backend(&r, "pf", "set n { *.example.com }\nallow out to @n tcp port 443\n", false);
	cr_assert_not_null(strstr(r.text, "table <n_dns_v4> persist\n"), "%s", r.text);
	cr_assert(has_diag(r.d, SEV_WARNING, "pf: cannot match names"));
	run_free(&r);
	run_backend(&r, "pf", "set n { *.example.com }\nallow out to @n tcp port 443\n", true);
	cr_assert_eq(r.rc, -1);
	cr_assert(has_diag(r.d, SEV_ERROR, "pf: cannot match names"));
	run_free(&r);
}

/* A backend_dir that keeps every file in memory. */
struct mem_dir {
	struct backend_dir base;
	char *text[4];
	size_t len[4];
	FILE *f[4];
	const char *names[4];
	size_t n;
};

static FILE *mem_open(struct backend_dir *bd, const char *name)
{
	struct mem_dir *m = (struct mem_dir *)bd;
	m->names[m->n] = name;
	m->f[m->n] = open_memstream(&m->text[m->n], &m->len[m->n]);
	return m->f[m->n++];
}

static const char *mem_file(struct mem_dir *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->names[i], name)) {
			fflush(m->f[i]);
			return m->text[i];
		}
	return NULL;
}

static void mem_free(struct mem_dir *m)
{
	for (size_t i = 0; i < m->n; i++) {
		fclose(m->f[i]);
		free(m->text[i]);
	}
}

Test(iptables, files_multiport_chunks_and_zero_prefix)
{
	const char *rules = "set a { 0.0.0.0/0 }\n"
			    "allow out to @a tcp port { 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29-30, 40 }\n";
	struct diags *d = diags_new();
	struct compile_request req = { .file = "t.rules", .text = rules, .len = strlen(rules) };
	struct policy *p = policy_compile(&req, d);
	struct mem_dir m = { .base = { mem_open } };
	struct backend_options o = { 0 };
	cr_assert_eq(backend_find("iptables")->emit_dir(p, &o, &m.base, d), 0);
	cr_assert_eq(m.n, 3);
	const char *sets = mem_file(&m, "ipsets"), *v4 = mem_file(&m, "rules.v4");
	cr_assert_not_null(strstr(sets, "add a_v4-new 0.0.0.0/1 comment \"t.rules:1\"\nadd a_v4-new 128.0.0.0/1"), "%s", sets);
	/* 14 single ports and a range (2 slots) fill 16 > 15 slots: two rules. */
	cr_assert_not_null(strstr(v4, "--dports 1,3,5,7,9,11,13,15,17,19,21,23,25,27 -m comment"), "%s", v4);
	cr_assert_not_null(strstr(v4, "--dports 29:30,40 -m comment"), "%s", v4);
	cr_assert_not_null(strstr(v4, "-A OUTPUT -j pinhole-output\n"));
	cr_assert_null(strstr(v4, "pinhole-input"), "no in rules: no input chain");
	cr_assert_not_null(strstr(mem_file(&m, "rules.v6"), "*filter\n"));
	mem_free(&m);
	policy_free(p);
	diags_free(d);
}

Test(pf, default_deny_blocks_after_the_pass_rules)
{
	struct run r;
	run_backend(&r, "pf", "option default_deny = eth0\noption default_deny lan* reject\n"
			      "set a { 192.0.2.0/24 }\nallow out to @a tcp\n", false);
	cr_assert_eq(r.rc, 0);
	const char *pass = strstr(r.text, "pass out quick inet proto tcp"), *block = strstr(r.text, "block drop in quick on eth0\n");
	cr_assert(pass && block && pass < block, "%s", r.text);
	cr_assert_not_null(strstr(r.text, "block return-rst out quick on lan proto tcp\n"), "%s", r.text);
	cr_assert_not_null(strstr(r.text, "block return-icmp6 (admin-unr) in quick on lan inet6\n"), "%s", r.text);
	cr_assert(has_diag(r.d, SEV_WARNING, "pf: default_deny lan* is written as interface group 'lan'"));
	run_free(&r);
	run_backend(&r, "pf", "option default_deny lan*\nset a { 192.0.2.0/24 }\nallow out to @a tcp\n", true);
	cr_assert_eq(r.rc, -1, "an interface wildcard is an approximation in pf");
	run_free(&r);
}

Test(squid, clients_scope_and_localnet)
{
	struct run r;
	run_backend(&r, "squid", "option squid_tls_cert /x.pem\nset c { 192.0.2.0/24 }\nset w { www.example.com }\n"
				 "allow out from @c to @w tcp port 443\nallow out to @w tcp port 80\n", true);
	cr_assert_eq(r.rc, 0);
	cr_assert_not_null(strstr(r.text, "acl pinhole_c_src src 192.0.2.0/24\n"), "%s", r.text);
	cr_assert_not_null(strstr(r.text, "http_access allow pinhole_tls_port pinhole_c_src pinhole_w_dom pinhole_rule1_ports\n"),
			   "%s", r.text);
	cr_assert_not_null(strstr(r.text, "http_access allow !pinhole_connect localnet pinhole_w_dom pinhole_rule2_ports\n"),
			   "%s", r.text);
	cr_assert_not_null(strstr(r.text, "ssl_bump splice pinhole_c_src pinhole_w_sni pinhole_rule1_ports\n"), "%s", r.text);
	cr_assert_null(strstr(r.text, "_c_dst"), "a scope is no destination: %s", r.text);
	run_free(&r);
}
