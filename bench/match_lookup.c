/* SPDX-License-Identifier: GPL-2.0-or-later */
/* match_lookup.c — domain lookups per second: pinhole's domset against a PCRE2-JIT alternation
 * and Hyperscan, on the same fixed-seed patterns and queries; ClientHellos parsed and matched
 * per second; and the data files for the whole-process benchmark. Built and run by
 * bench/match.sh.
 *   match_lookup lookup N [hyperscan]   one row of the lookup table for N patterns
 *   match_lookup hello N                ClientHellos parsed + matched per second
 *   match_lookup gen N RULES NAMES Q    a rules file of N patterns and Q query names */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <hs/hs.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domset.h"
#include "tls.h"

#define QUERIES 1000000

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

static unsigned next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng >> 11);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *const TLDS[] = { "com", "net", "org", "io", "de", "co.uk" };

static void random_label(char *out, int min, int span)
{
	int n = min + (int)(next_rand() % (unsigned)span);
	for (int i = 0; i < n; i++)
		out[i] = (char)("abcdefghijklmnopqrstuvwxyz0123456789"[next_rand() % 36]);
	out[n] = '\0';
}

struct pattern {
	char base[128];
	int wildcard;
};

/* Patterns: "vendorNNN.tld" bases, some with a sub-label; half wildcards. */
static struct pattern *make_patterns(size_t n)
{
	struct pattern *p = calloc(n, sizeof(*p));
	for (size_t i = 0; i < n; i++) {
		char a[32], b[32];
		random_label(a, 5, 8);
		random_label(b, 2, 4);
		if (next_rand() % 3 == 0)
			snprintf(p[i].base, sizeof(p[i].base), "%s.%s%zu.%s", b, a, i, TLDS[next_rand() % 6]);
		else
			snprintf(p[i].base, sizeof(p[i].base), "%s%zu.%s", a, i, TLDS[next_rand() % 6]);
		p[i].wildcard = next_rand() % 2;
	}
	return p;
}

/* ~10% of the queries match: a name under a wildcard or an exact name; the rest are names
 * of the same shape that match nothing. */
static char **make_queries(const struct pattern *p, size_t n, size_t q)
{
	char **v = malloc(q * sizeof(*v));
	for (size_t i = 0; i < q; i++) {
		char buf[256], a[32], b[32];
		random_label(a, 2, 6);
		random_label(b, 5, 8);
		const struct pattern *t = &p[next_rand() % n];
		if (next_rand() % 10 == 0)
			snprintf(buf, sizeof(buf), t->wildcard ? "%s.%s" : "%.0s%s", a, t->base);
		else if (next_rand() % 2)
			snprintf(buf, sizeof(buf), "%s.%s.%s", a, b, TLDS[next_rand() % 6]);
		else
			snprintf(buf, sizeof(buf), "%s.x%s", a, t->base);	/* a near miss */
		v[i] = strdup(buf);
	}
	return v;
}

static void report(const char *what, size_t n, double rate, double build, size_t hits)
{
	printf("%-10s %7zu patterns: %12.0f lookups/s  build %9.1f ms  (%zu matched)\n", what, n, rate, build * 1e3,
	       hits);
	fflush(stdout);
}

static void bench_domset(const struct pattern *p, size_t n, char **q, size_t nq)
{
	double t0 = now();
	struct domset *s = domset_new();
	struct loc loc = { "bench.rules", 1, 1 };
	for (size_t i = 0; i < n; i++)
		domset_add_name(s, p[i].base, p[i].wildcard ? NAME_WILDCARD : NAME_EXACT, loc);
	domset_build(s);
	double build = now() - t0;
	size_t hits = 0;
	size_t *len = malloc(nq * sizeof(*len));
	for (size_t i = 0; i < nq; i++)
		len[i] = strlen(q[i]);
	t0 = now();
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < nq; i++)
			hits += domset_match(s, q[i], len[i]) != NULL;
	report("domset", n, 3 * nq / (now() - t0), build, hits / 3);
	free(len);
	domset_free(s);
}

/* One alternation; split into the fewest pieces PCRE2 accepts (it refuses past ~64 KB). */
static size_t pcre_compile_parts(const struct pattern *p, size_t n, pcre2_code ***out)
{
	size_t parts = 1;
	for (;;) {
		pcre2_code **codes = calloc(parts, sizeof(*codes));
		size_t per = (n + parts - 1) / parts, ok = 1;
		for (size_t k = 0; k < parts && ok; k++) {
			size_t cap = per * 160 + 64, len = 0;
			char *re = malloc(cap);
			len += (size_t)sprintf(re, "^(?:");
			for (size_t i = k * per; i < n && i < (k + 1) * per; i++) {
				len += (size_t)sprintf(re + len, "%s", i > k * per ? "|" : "");
				if (p[i].wildcard)
					len += (size_t)sprintf(re + len, "(?:[^.]+\\.)+");
				for (const char *c = p[i].base; *c; c++)
					len += (size_t)sprintf(re + len, *c == '.' ? "\\." : "%c", *c);
			}
			strcpy(re + len, ")$");
			int err;
			PCRE2_SIZE off;
			codes[k] = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PCRE2_CASELESS, &err, &off, NULL);
			free(re);
			if (!codes[k])
				ok = 0;
			else
				pcre2_jit_compile(codes[k], PCRE2_JIT_COMPLETE);
		}
		if (ok) {
			*out = codes;
			return parts;
		}
		for (size_t k = 0; k < parts; k++)
			pcre2_code_free(codes[k]);
		free(codes);
		parts *= 2;
	}
}

/* The slow approaches run until 2 s have passed: the rate is what matters. */
static void bench_pcre(const struct pattern *p, size_t n, char **q, size_t nq)
{
	double t0 = now();
	pcre2_code **codes;
	size_t parts = pcre_compile_parts(p, n, &codes);
	double build = now() - t0;
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	size_t hits = 0, done = 0;
	t0 = now();
	while (done < nq && (done % 256 || now() - t0 < 2.0)) {
		for (size_t k = 0; k < parts; k++)
			if (pcre2_jit_match(codes[k], (PCRE2_SPTR)q[done], strlen(q[done]), 0, 0, md, NULL) >= 0) {
				hits++;
				break;
			}
		done++;
	}
	char what[32];
	snprintf(what, sizeof(what), "pcre2x%zu", parts);
	report(what, n, done / (now() - t0), build, hits * nq / done);
	for (size_t k = 0; k < parts; k++)
		pcre2_code_free(codes[k]);
	free(codes);
	pcre2_match_data_free(md);
}

static int on_hs_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *ctx)
{
	*(int *)ctx = 1;
	return 1;	/* stop at the first match */
}

static void bench_hyperscan(const struct pattern *p, size_t n, char **q, size_t nq)
{
	char **exprs = malloc(n * sizeof(*exprs));
	unsigned *flags = malloc(n * sizeof(*flags)), *ids = malloc(n * sizeof(*ids));
	for (size_t i = 0; i < n; i++) {
		char re[400];
		size_t len = (size_t)sprintf(re, "^%s", p[i].wildcard ? "(?:[^.]+\\.)+" : "");
		for (const char *c = p[i].base; *c; c++)
			len += (size_t)sprintf(re + len, *c == '.' ? "\\." : "%c", *c);
		strcpy(re + len, "$");
		exprs[i] = strdup(re);
		flags[i] = HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH;
		ids[i] = (unsigned)i;
	}
	hs_database_t *db;
	hs_compile_error_t *err;
	double t0 = now();
	if (hs_compile_multi((const char *const *)exprs, flags, ids, (unsigned)n, HS_MODE_BLOCK, NULL, &db, &err) !=
	    HS_SUCCESS) {
		printf("hyperscan  %7zu patterns: cannot compile: %s\n", n, err->message);
		hs_free_compile_error(err);
		return;
	}
	double build = now() - t0;
	hs_scratch_t *scratch = NULL;
	hs_alloc_scratch(db, &scratch);
	size_t hits = 0, done = 0;
	t0 = now();
	while (done < nq && (done % 256 || now() - t0 < 2.0)) {
		int matched = 0;
		hs_scan(db, q[done], (unsigned)strlen(q[done]), 0, scratch, on_hs_match, &matched);
		hits += matched;
		done++;
	}
	report("hyperscan", n, done / (now() - t0), build, hits * nq / done);
	hs_free_scratch(scratch);
	hs_free_database(db);
	for (size_t i = 0; i < n; i++)
		free(exprs[i]);
	free(exprs);
	free(flags);
	free(ids);
}

/* A TLS 1.3-style ClientHello record around name, ~600 bytes like a real one. */
static size_t make_hello(uint8_t *out, const char *name)
{
	uint8_t body[2048];
	size_t n = 0, nl = strlen(name);
	body[n++] = 3, body[n++] = 3;
	memset(body + n, 7, 32), n += 32;
	body[n++] = 32, memset(body + n, 9, 32), n += 32;
	body[n++] = 0, body[n++] = 8, memset(body + n, 0x13, 8), n += 8;
	body[n++] = 1, body[n++] = 0;
	size_t ext_at = n;
	n += 2;
	body[n++] = 0, body[n++] = 0, body[n++] = (uint8_t)((nl + 5) >> 8), body[n++] = (uint8_t)(nl + 5);
	body[n++] = (uint8_t)((nl + 3) >> 8), body[n++] = (uint8_t)(nl + 3), body[n++] = 0;
	body[n++] = (uint8_t)(nl >> 8), body[n++] = (uint8_t)nl;
	memcpy(body + n, name, nl), n += nl;
	body[n++] = 0, body[n++] = 43, body[n++] = 0, body[n++] = 3, body[n++] = 2, body[n++] = 3, body[n++] = 4;
	body[n++] = 0x00, body[n++] = 0x15, body[n++] = 0x01, body[n++] = 0xc0;	/* padding, 448 */
	memset(body + n, 0, 448), n += 448;
	size_t ext_len = n - ext_at - 2;
	body[ext_at] = (uint8_t)(ext_len >> 8), body[ext_at + 1] = (uint8_t)ext_len;
	out[0] = 1, out[1] = 0, out[2] = (uint8_t)(n >> 8), out[3] = (uint8_t)n;
	memcpy(out + 4, body, n);
	return n + 4;
}

static void bench_hello(const struct pattern *p, size_t n, char **q, size_t nq)
{
	struct domset *s = domset_new();
	struct loc loc = { "bench.rules", 1, 1 };
	for (size_t i = 0; i < n; i++)
		domset_add_name(s, p[i].base, p[i].wildcard ? NAME_WILDCARD : NAME_EXACT, loc);
	domset_build(s);
	enum { HELLOS = 4096 };
	static uint8_t msgs[HELLOS][2100];
	static size_t lens[HELLOS];
	for (size_t i = 0; i < HELLOS; i++)
		lens[i] = make_hello(msgs[i], q[i % nq]);
	struct tls_hello_info info;
	size_t hits = 0, total = 0;
	double t0 = now();
	for (int round = 0; round < 250; round++)
		for (size_t i = 0; i < HELLOS; i++, total++)
			if (tls_hello_parse(msgs[i], lens[i], &info, NULL) == TLS_FOUND)
				hits += domset_match(s, info.name, strlen(info.name)) != NULL;
	printf("hellos     %7zu patterns: %12.0f ClientHellos parsed+matched/s (%zu bytes each, %zu matched)\n", n,
	       total / (now() - t0), lens[0], hits / 250);
	domset_free(s);
}

static int generate(size_t n, const char *rules, const char *names, size_t nq)
{
	struct pattern *p = make_patterns(n);
	char **q = make_queries(p, n, nq);
	FILE *r = fopen(rules, "w"), *f = fopen(names, "w");
	if (!r || !f)
		return 1;
	fprintf(r, "set bench {\n");
	for (size_t i = 0; i < n; i++)
		fprintf(r, "\t%s%s\n", p[i].wildcard ? "*." : "", p[i].base);
	fprintf(r, "}\nallow out to @bench tcp port 443\n");
	for (size_t i = 0; i < nq; i++)
		fprintf(f, "%s\n", q[i]);
	return fclose(r) | fclose(f);
}

int main(int argc, char **argv)
{
	if (argc >= 6 && !strcmp(argv[1], "gen"))
		return generate(strtoul(argv[2], NULL, 10), argv[3], argv[4], strtoul(argv[5], NULL, 10));
	if (argc < 3)
		return fprintf(stderr, "usage: match_lookup lookup|hello N [hyperscan|pcre|all]\n"), 2;
	size_t n = strtoul(argv[2], NULL, 10);
	const char *which = argc > 3 ? argv[3] : "all";
	struct pattern *p = make_patterns(n);
	char **q = make_queries(p, n, QUERIES);
	if (!strcmp(argv[1], "hello")) {
		bench_hello(p, n, q, QUERIES);
		return 0;
	}
	bench_domset(p, n, q, QUERIES);
	if (!strcmp(which, "all") || !strcmp(which, "pcre"))
		bench_pcre(p, n, q, QUERIES);
	if (!strcmp(which, "all") || !strcmp(which, "hyperscan"))
		bench_hyperscan(p, n, q, QUERIES);
	return 0;
}
