/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_resolv.c — the resolver list: parsing, resolv.conf, this host's own addresses. */
#include "guard_resolv.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

static bool loopback(const struct steer_resolver *s)
{
	if (s->family == FAMILY_V4)
		return (s->addr.lo >> 24) == 127;
	return s->addr.hi == 0 && s->addr.lo == 1;
}

static bool same(const struct steer_resolver *a, const struct steer_resolver *b)
{
	return a->family == b->family && addr_cmp(a->addr, b->addr) == 0;
}

static int take(struct guard_resolvers *r, const struct steer_resolver *s, const char **why)
{
	if (loopback(s)) {
		r->local = true;
		return 0;
	}
	for (size_t i = 0; i < r->n_remote; i++)
		if (same(&r->remote[i], s))
			return 0;
	if (r->n_remote == GUARD_MAX_RESOLVERS) {
		*why = "more than 16 resolvers";
		return -1;
	}
	r->remote[r->n_remote++] = *s;
	return 0;
}

int guard_resolvers_add(struct guard_resolvers *r, const char *text, const char **why)
{
	struct cidr_parsed p;
	size_t n = strcspn(text, "%");
	if (n == 0 || cidr_parse(text, n, &p) != CIDR_OK || !p.is_prefix ||
	    p.prefix.len != (p.prefix.family == FAMILY_V4 ? 32 : 128)) {
		*why = "not an IPv4 or IPv6 address";
		return -1;
	}
	struct steer_resolver s = { p.prefix.family, p.prefix.addr };
	return take(r, &s, why);
}

size_t guard_resolvers_read_conf(struct guard_resolvers *r, FILE *f)
{
	char line[512], word[16], addr[128];
	const char *why;
	size_t n = 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %15s %127s", word, addr) == 2 && !strcmp(word, "nameserver") &&
		    guard_resolvers_add(r, addr, &why) == 0)
			n++;
	return n;
}

/* The address of a (AF_INET or AF_INET6) sockaddr, as a resolver. */
static bool from_sockaddr(const struct sockaddr *sa, struct steer_resolver *s)
{
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		*s = (struct steer_resolver){ FAMILY_V4, { 0, ntohl(in->sin_addr.s_addr) } };
		return true;
	}
	if (sa && sa->sa_family == AF_INET6) {
		const uint8_t *b = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		uint64_t hi = 0, lo = 0;
		for (int i = 0; i < 8; i++) {
			hi = hi << 8 | b[i];
			lo = lo << 8 | b[8 + i];
		}
		*s = (struct steer_resolver){ FAMILY_V6, { hi, lo } };
		return true;
	}
	return false;
}

int guard_resolvers_find_local(struct guard_resolvers *r)
{
	struct ifaddrs *list, *i;
	struct steer_resolver s;
	if (getifaddrs(&list) < 0)
		return -1;
	for (i = list; i; i = i->ifa_next) {
		if (!from_sockaddr(i->ifa_addr, &s))
			continue;
		for (size_t k = 0; k < r->n_remote; k++)
			if (same(&r->remote[k], &s)) {
				r->remote[k] = r->remote[--r->n_remote];
				r->local = true;
				break;
			}
	}
	freeifaddrs(list);
	return 0;
}

void guard_resolvers_text(const struct guard_resolvers *r, char *buf, size_t size)
{
	size_t len = 0;
	char a[CIDR_TEXT_MAX];
	buf[0] = '\0';
	for (size_t i = 0; i < r->n_remote && len < size; i++) {
		cidr_format_addr(a, r->remote[i].family, r->remote[i].addr);
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", a);
	}
	if (r->local && len < size)
		snprintf(buf + len, size - len, "%sthis host", len ? ", " : "");
}
