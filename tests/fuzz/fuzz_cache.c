/* libFuzzer: the last-applied state cache through its reader (backends/nft_netlink_cache.c,
 * nk_cache_load). The harness writes the header a matching cache starts with (magic, boot,
 * namespace, generation), the input is the rest (source, sets, elements), and the harness
 * appends the checksum, so that the fuzzer reaches the sets rather than the checksum test.
 * Both follow build() in that file: a change of the format changes this harness too. The
 * live ruleset has static sets a_v4, a_v6 and b_v4 with handles 1, 2, 3. */
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

/* The cache's checksum, as fnv_update() in nft_netlink_cache.c computes it. */
static uint64_t checksum(const unsigned char *c, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, c + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 32;
	}
	for (; i < n; i++)
		h = (h ^ c[i]) * 0x100000001b3ull;
	return h;
}

static int write_cache(const char *d, const uint8_t *data, size_t size)
{
	char path[256];
	size_t head = 8 + sizeof(key.boot_id) + sizeof(key.netns_cookie) + sizeof(key.genid), n = head + size;
	unsigned char *buf = malloc(n + 8);
	if (!buf)
		return -1;
	memcpy(buf, "PHSTATE2", 8);
	memcpy(buf + 8, key.boot_id, sizeof(key.boot_id));
	memcpy(buf + 48, &key.netns_cookie, sizeof(key.netns_cookie));
	memcpy(buf + 56, &key.genid, sizeof(key.genid));
	if (size)
		memcpy(buf + head, data, size);
	uint64_t sum = checksum(buf, n);
	memcpy(buf + n, &sum, 8);
	snprintf(path, sizeof(path), "%s/inet-pinhole.state", d);
	FILE *f = fopen(path, "w");
	size_t put = f ? fwrite(buf, 1, n + 8, f) : 0;
	free(buf);
	return f && fclose(f) == 0 && put == n + 8 ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nk_ruleset live;
	const char *d = dir();
	if (!d || !policy() || write_cache(d, data, size) < 0 || nk_ruleset_from_policy(policy(), &live) < 0)
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
