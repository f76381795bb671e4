/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dns_parse.c — DNS responses parsed per second from memory (matcher/dns.c), for answers of
 * 2, 20, 100 and 1,000 A records behind one CNAME, as a resolver sends them (owners
 * compressed to the CNAME target, an EDNS0 OPT record at the end).
 *
 *   dns_parse [ITERATIONS]      built and run by bench/match.sh
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns.h"

static uint8_t msg[DNS_MESSAGE_MAX];
static size_t len;

static void u8(unsigned v)
{
	msg[len++] = (uint8_t)v;
}

static void u16(unsigned v)
{
	u8(v >> 8);
	u8(v & 0xff);
}

static void name(const char *s)
{
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);
		u8((unsigned)n);
		memcpy(msg + len, s, n);
		len += n;
		s += n + (dot ? 1 : 0);
	}
	u8(0);
}

/* pages.example.com CNAME abc123.mktoweb.com, which has n A records (198.51.100.0/24 and up). */
static void answer(unsigned n)
{
	len = 0;
	u16(0x1234), u16(0x8180), u16(1), u16(1 + n), u16(0), u16(1);
	name("pages.example.com");
	u16(1), u16(1);
	u16(0xc00c), u16(5), u16(1), u16(0), u16(600), u16(20);
	size_t target = len;
	name("abc123.mktoweb.com");
	for (unsigned i = 0; i < n; i++) {
		u16(0xc000 | (unsigned)target), u16(1), u16(1), u16(0), u16(300), u16(4);
		u8(198), u8(51), u8(100 + i / 256), u8(i % 256);
	}
	u8(0), u16(41), u16(1232), u16(0), u16(0), u16(0);
}

int main(int argc, char **argv)
{
	static const unsigned sizes[] = { 2, 20, 100, 1000 };
	long base = argc > 1 ? atol(argv[1]) : 2000000;
	static struct dns_response r;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		answer(sizes[k]);
		long iterations = base / (1 + sizes[k] / 10);
		size_t seen = 0;
		struct timespec a, z;
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (long i = 0; i < iterations; i++) {
			if (dns_parse_response(msg, len, &r, NULL) != DNS_OK)
				return 1;
			seen += r.n_addrs;
		}
		clock_gettime(CLOCK_MONOTONIC, &z);
		double ns = ((double)(z.tv_sec - a.tv_sec) * 1e9 + (double)(z.tv_nsec - a.tv_nsec)) / (double)iterations;
		printf("%5u addresses (%5zu octets): %8.0f ns per answer, %6.2f M answers/s, %zu addresses each\n",
		       sizes[k], len, ns, 1e3 / ns, seen / (size_t)iterations);
	}
	return 0;
}
