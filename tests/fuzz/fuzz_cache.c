/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the last-applied state cache through its reader (backends/nft_netlink_cache.c,
 * nk_cache_load). The harness writes the header a matching cache starts with (magic, boot,
 * namespace, generation, the MACs under a key it placed), the input is the number of sets
 * and the body (sets, elements), so that the fuzzer reaches the sets rather than the MAC.
 * Both follow build() in that file: a change of the format changes this harness too. The
 * live ruleset has static sets a_v4, a_v6 and b_v4 with handles 1, 2, 3. */
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nft_netlink.h"

static const struct nk_cache_key key = { .boot_id = "fuzz-boot", .netns_cookie = 7, .genid = 12 };

static struct policy *policy(void)
{
	static struct policy *p;
	static const char rules[] = "set a { 192.0.2.0/24 2001:db8::/32 }\nset b { 198.51.100.0/24 }\n"
				    "allow out to @a tcp port 443\nallow in from @b tcp port 25\n";
	if (!p) {
		struct diags *d = diags_new();
		struct compile_request req = { .file = "fuzz.rules", .text = rules, .len = strlen(rules) };
		p = policy_compile(&req, d);
		diags_free(d);
	}
	return p;
}

static const char *made;

static void remove_dir(void)
{
	nk_cache_drop(made, "pinhole");
	rmdir(made);
}

/* A directory for the one cache file, in memory when /dev/shm is there (a file per input),
 * removed when the fuzzer exits. */
static const char *dir(void)
{
	static char shm[] = "/dev/shm/pinhole-fuzz-cache-XXXXXX", tmp[] = "/tmp/pinhole-fuzz-cache-XXXXXX";
	if (!made && (made = mkdtemp(shm) ? shm : mkdtemp(tmp)))
		atexit(remove_dir);
	return made;
}

/* A fixed MAC key in DIR/cache.key (0600, as pinhole makes it), so that the fuzzer reaches
 * the sets rather than the MAC test. */
static const uint64_t mac_key[2] = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };

static int write_key(const char *d)
{
	char path[256];
	unsigned char k[16];
	memcpy(k, &mac_key[0], 8);
	memcpy(k + 8, &mac_key[1], 8);
	snprintf(path, sizeof(path), "%s/cache.key", d);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && write(fd, k, sizeof(k)) == (ssize_t)sizeof(k);
	return fd >= 0 && close(fd) == 0 && ok ? 0 : -1;
}

/* The header build() writes (PHSTATE3): the input's first byte is the number of sets, the
 * rest the body; both MACs are made under mac_key. */
static int write_cache(const char *d, const uint8_t *data, size_t size)
{
	enum { HEADER_LEN = 8 + 40 + 8 + 4 + 8 + 8 + 4 + 8 + 8 };
	char path[256];
	uint32_t n_sets = size ? data[0] : 0;
	const uint8_t *body = size ? data + 1 : data;
	uint64_t body_len = size ? size - 1 : 0, source = 0, table_handle = 0;
	uint64_t body_mac = nk_siphash(mac_key, body, body_len);
	unsigned char *buf = malloc(HEADER_LEN + 8 + body_len);
	if (!buf)
		return -1;
	unsigned char *p = buf;
	memcpy(p, "PHSTATE3", 8), p += 8;
	memcpy(p, key.boot_id, sizeof(key.boot_id)), p += sizeof(key.boot_id);
	memcpy(p, &key.netns_cookie, 8), p += 8;
	memcpy(p, &key.genid, 4), p += 4;
	memcpy(p, &source, 8), p += 8;
	memcpy(p, &table_handle, 8), p += 8;
	memcpy(p, &n_sets, 4), p += 4;
	memcpy(p, &body_len, 8), p += 8;
	memcpy(p, &body_mac, 8), p += 8;
	uint64_t head_mac = nk_siphash(mac_key, buf, HEADER_LEN);
	memcpy(p, &head_mac, 8), p += 8;
	if (body_len)
		memcpy(p, body, body_len);
	snprintf(path, sizeof(path), "%s/inet-pinhole.state", d);
	FILE *f = fopen(path, "w");
	size_t n = HEADER_LEN + 8 + body_len, put = f ? fwrite(buf, 1, n, f) : 0;
	free(buf);
	return f && fclose(f) == 0 && put == n ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nk_ruleset live;
	const char *d = dir();
	static bool keyed;
	if (d && !keyed)
		keyed = write_key(d) == 0;
	if (!d || !keyed || !policy() || write_cache(d, data, size) < 0 || nk_ruleset_from_policy(policy(), &live) < 0)
		return 0;
	/* As a dump without elements (NL_READ_OBJECTS) leaves it. */
	for (size_t i = 0; i < live.n_sets; i++) {
		free(live.sets[i].elems);
		live.sets[i].elems = NULL;
		live.sets[i].n_elems = 0;
		live.sets[i].elems_known = false;
		live.sets[i].handle = i + 1;
	}
	nk_cache_load(d, &live, &key);
	nk_ruleset_free(&live);
	return 0;
}
