/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_resolv.h — which resolvers the guard believes: the addresses given with --resolver,
 * else the nameservers of /etc/resolv.conf (what the gateway itself uses). A resolver on
 * this host (a loopback address such as systemd-resolved's 127.0.0.53 or dnsmasq's
 * 127.0.0.1, or one of the host's own addresses) is not matched by address: its answers
 * are those this host sends (guard_steer.h). */
#ifndef PINHOLE_GUARD_RESOLV_H
#define PINHOLE_GUARD_RESOLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "guard_steer.h"

#define GUARD_MAX_RESOLVERS 16

struct guard_resolvers {
	struct steer_resolver remote[GUARD_MAX_RESOLVERS];
	size_t n_remote;
	bool local;		/* a resolver on this host */
};

/* Adds the resolver address text (IPv4 or IPv6; an IPv6 zone, "%eth0", is dropped); a
 * loopback address sets r->local. Duplicates are taken once. Returns 0, or -1 with a
 * static reason in *why (not an address, too many). */
int guard_resolvers_add(struct guard_resolvers *r, const char *text, const char **why);

/* Adds the "nameserver" lines of resolv.conf(5) text f. Returns how many lines named a
 * resolver that was taken; lines that are not addresses are skipped. */
size_t guard_resolvers_read_conf(struct guard_resolvers *r, FILE *f);

/* Moves the resolvers that are addresses of this host (getifaddrs) to r->local. Returns 0,
 * or -1 with errno when the host's addresses cannot be read (then nothing changes). */
int guard_resolvers_find_local(struct guard_resolvers *r);

/* The list for a log line ("198.51.100.2, 2001:db8:2::2, this host") into buf[0..size). */
void guard_resolvers_text(const struct guard_resolvers *r, char *buf, size_t size);

#endif
