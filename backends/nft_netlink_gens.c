/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nft_netlink_gens.c — which ruleset generations pinhole guard made. The guard commits
 * learnt addresses into the NAME_dns sets all the time, and every commit moves the
 * generation id that tells apply whether its last-applied state still describes the
 * kernel. The guard only ever touches its learnt sets, its steering chains and its probe
 * table, never a static set's elements; so when every generation since the cache was
 * written is one of the guard's, the cached elements still hold (pinhole(8), Last-applied
 * state).
 *
 * The guard knows a generation is its own only when it read G just before its batch and
 * G + 1 just after, with the kernel handling the batch inside sendmsg(): then nobody else
 * committed in between. It keeps the latest run [lo, hi] of consecutive generations that
 * are all its own, in one fixed-size record that it rewrites in place:
 *   "PHGENS01" | boot_id[40] | netns cookie u64 | lo u32 | hi u32 | nk_hash of the rest u64
 * A torn or foreign record fails the hash, the boot id or the cookie, and apply dumps. */
#include "nft_netlink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define GENS_MAGIC "PHGENS01"

struct gens_record {
	char magic[8];
	char boot_id[40];
	uint64_t cookie;
	uint32_t lo, hi;
	uint64_t sum;
};

static uint64_t record_sum(const struct gens_record *r)
{
	return nk_hash(r, offsetof(struct gens_record, sum), 0);
}

int nk_boot_id(char *buf, size_t size)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	bool ok = f && fgets(buf, (int)size, f);
	if (f)
		fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int nk_guard_gens_open(struct nk_guard_gens *g, const char *path, int netlink_fd)
{
	socklen_t len = sizeof(g->cookie);
	memset(g, 0, sizeof(*g));
	g->fd = -1;
#ifdef SO_NETNS_COOKIE
	if (getsockopt(netlink_fd, SOL_SOCKET, SO_NETNS_COOKIE, &g->cookie, &len) < 0)
		g->cookie = 0;
#endif
	if (!g->cookie || nk_boot_id(g->boot_id, sizeof(g->boot_id)) < 0) {
		errno = ENOTSUP;
		return -1;
	}
	g->fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	return g->fd < 0 ? -1 : 0;
}

void nk_guard_gens_close(struct nk_guard_gens *g)
{
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
}

static uint32_t next_gen(uint32_t g)
{
	return g + 1 ? g + 1 : 1;	/* the kernel skips 0 on wrap */
}

void nk_guard_gens_note(struct nk_guard_gens *g, uint32_t before, uint32_t after)
{
	if (g->fd < 0)
		return;
	if (after != next_gen(before))
		g->lo = g->hi = 0;	/* someone else committed too: the run is broken */
	else if (g->hi && g->hi == before)
		g->hi = after;
	else
		g->lo = g->hi = after;
	struct gens_record r = { .cookie = g->cookie, .lo = g->lo, .hi = g->hi };
	memcpy(r.magic, GENS_MAGIC, sizeof(r.magic));
	memcpy(r.boot_id, g->boot_id, sizeof(r.boot_id));
	r.sum = record_sum(&r);
	/* one small pwrite: a reader that catches it half done fails the hash and dumps */
	if (pwrite(g->fd, &r, sizeof(r), 0) != (ssize_t)sizeof(r))
		g->lo = g->hi = 0;
}

uint32_t nk_guard_gens_since(const char *path, const struct nk_cache_key *key, uint32_t genid)
{
	struct gens_record r;
	struct stat st;
	int fd = path ? open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
	/* only a record that nobody but us (root, as the guard) could have written */
	bool ok = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
		  !(st.st_mode & 022) && read(fd, &r, sizeof(r)) == (ssize_t)sizeof(r);
	if (fd >= 0)
		close(fd);
	if (!ok || memcmp(r.magic, GENS_MAGIC, sizeof(r.magic)) || r.sum != record_sum(&r) ||
	    r.cookie != key->netns_cookie || strncmp(r.boot_id, key->boot_id, sizeof(r.boot_id)))
		return genid;
	/* the run must reach the current generation, and not wrap */
	if (!r.lo || r.lo > r.hi || genid < r.lo || genid > r.hi)
		return genid;
	return r.lo - 1;
}
