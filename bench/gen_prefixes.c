/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gen_prefixes.c — fixed-seed random prefix lists for the aggregation benchmark.
 *
 *   gen_prefixes v4 COUNT SEED    IPv4 prefixes, every line ADDR/LEN (hosts as /32)
 *   gen_prefixes v6 COUNT SEED    IPv6 prefixes inside 2000::/3, every line ADDR/LEN
 *
 * Every line has /LEN and no host bits, because the Debian `aggregate` tool refuses
 * anything else and all tools must read the same file. The generator has its own PRNG
 * (splitmix64) so the same seed gives the same file on every libc. Addresses are printed
 * with inet_ntop(), independently of pinhole's formatter.
 *
 * Built by bench/aggregate.sh with plain `cc -O2`; not part of the CMake build.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64 (Steele, Lea, Flood 2014): small, fast, and good enough for test data. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A length drawn from cumulative weights per million: roughly a BGP table's shape,
 * mostly /24 and /21../23, few short prefixes (they would swallow everything), plus
 * host addresses as /32. */
struct length_weight {
	unsigned lo, hi;	/* lengths drawn uniformly in [lo, hi] */
	unsigned per_million;
};

static const struct length_weight v4_lengths[] = {
	{ 8, 8, 10 },      { 9, 12, 200 },     { 13, 15, 3000 },  { 16, 16, 15000 },
	{ 17, 20, 80000 }, { 21, 23, 200000 }, { 24, 24, 500000 }, { 25, 31, 51790 },
	{ 32, 32, 150000 },
};

static const struct length_weight v6_lengths[] = {
	{ 19, 28, 5000 },   { 29, 32, 150000 }, { 33, 40, 100000 }, { 41, 47, 100000 },
	{ 48, 48, 400000 }, { 49, 63, 45000 },  { 64, 64, 100000 }, { 128, 128, 100000 },
};

static unsigned draw_length(const struct length_weight *w, size_t n, uint64_t *state)
{
	unsigned pick = (unsigned)(next_random(state) % 1000000);
	for (size_t i = 0; i < n; i++) {
		if (pick < w[i].per_million)
			return w[i].lo + (unsigned)(next_random(state) % (w[i].hi - w[i].lo + 1));
		pick -= w[i].per_million;
	}
	return w[n - 1].hi;
}

static void print_v4(uint64_t *state)
{
	unsigned len = draw_length(v4_lengths, sizeof(v4_lengths) / sizeof(v4_lengths[0]), state);
	uint32_t a = (uint32_t)next_random(state);
	a &= len ? ~(uint32_t)0 << (32 - len) : 0;
	printf("%u.%u.%u.%u/%u\n", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff, len);
}

static void print_v6(uint64_t *state)
{
	unsigned len = draw_length(v6_lengths, sizeof(v6_lengths) / sizeof(v6_lengths[0]), state);
	unsigned char bytes[16];
	char text[INET6_ADDRSTRLEN];
	uint64_t hi = next_random(state), lo = next_random(state);
	hi = (hi >> 3) | 0x2000000000000000ull;	/* inside 2000::/3, global unicast */
	for (int i = 0; i < 8; i++) {
		bytes[i] = (unsigned char)(hi >> (56 - 8 * i));
		bytes[8 + i] = (unsigned char)(lo >> (56 - 8 * i));
	}
	for (unsigned bit = len; bit < 128; bit++)
		bytes[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
	inet_ntop(AF_INET6, bytes, text, sizeof(text));
	printf("%s/%u\n", text, len);
}

int main(int argc, char **argv)
{
	if (argc != 4 || (strcmp(argv[1], "v4") && strcmp(argv[1], "v6"))) {
		fprintf(stderr, "usage: gen_prefixes v4|v6 COUNT SEED\n");
		return 1;
	}
	bool v4 = !strcmp(argv[1], "v4");
	unsigned long count = strtoul(argv[2], NULL, 10);
	uint64_t state = strtoull(argv[3], NULL, 10);
	for (unsigned long i = 0; i < count; i++) {
		if (v4)
			print_v4(&state);
		else
			print_v6(&state);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
