/* nft_netlink_cache.c — the last-applied state: the elements of pinhole's static sets as
 * the last apply left them, stamped with the boot, the network namespace and the ruleset
 * generation that apply produced. While the kernel's generation is still that one, nobody
 * changed anything since, and the elements need not be dumped (a dump of a big interval
 * set costs the kernel seconds to minutes).
 *
 * File: DIR/inet-TABLE.state, binary, host byte order (it never leaves the machine):
 *   "PHSTATE2" | boot_id[40] | netns cookie u64 | genid u32 | source u64 | n_sets u32
 *   per set: name_len u16, name, handle u64, n u64, n x {hi u64, lo u64, family u8, len u8,
 *            pad[6], hash u64}
 *   FNV-1a of everything before, u64 */
#include "nft_netlink_sock.h"
#include "safefile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "PHSTATE2"
#define MAX_NAME 256

struct rec {
	uint64_t hi, lo;
	uint8_t family, len, pad[6];
	uint64_t hash;
};

int nk_cache_key_now(struct nl_session *s, struct nk_cache_key *key)
{
	memset(key, 0, sizeof(*key));
	key->netns_cookie = nl_netns_cookie(s);
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
	bool ok = f && fgets(key->boot_id, sizeof(key->boot_id), f);
	if (f)
		fclose(f);
	key->boot_id[strcspn(key->boot_id, "\n")] = '\0';
	/* without a netns cookie a namespace made after ours was destroyed could look the same */
	return ok && key->netns_cookie ? 0 : -1;
}

static char *cache_path(const char *dir, const char *table, const char *suffix)
{
	char *p = NULL;
	return asprintf(&p, "%s/inet-%s.state%s", dir, table, suffix) < 0 ? NULL : p;
}

/* The file's checksum: FNV-1a's multiply over 8-byte words (a byte at a time is the
 * slowest part of reading a million-prefix cache), bytes for the tail. It only has to
 * catch a torn or truncated file, not an adversary: the directory is root's. */
static uint64_t fnv_update(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
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

#define FNV_OFFSET 0xcbf29ce484222325ull

/* The file is built in memory and written with one write(2): a big set's cache is a few
 * MiB, and apply is waiting. */
struct writer {
	unsigned char *buf;
	size_t len, cap;
};

static void put(struct writer *w, const void *p, size_t n)
{
	if (w->len + n <= w->cap) {
		memcpy(w->buf + w->len, p, n);
		w->len += n;
	}
}

static void put_set(struct writer *w, const struct nk_set *s, uint64_t handle)
{
	uint16_t len = (uint16_t)strlen(s->name);
	uint64_t n = s->n_elems;
	put(w, &len, sizeof(len));
	put(w, s->name, len);
	put(w, &handle, sizeof(handle));
	put(w, &n, sizeof(n));
	for (size_t i = 0; i < s->n_elems; i++) {
		const struct nk_elem *e = &s->elems[i];
		struct rec r = { e->prefix.addr.hi, e->prefix.addr.lo, e->prefix.family, e->prefix.len, { 0 }, e->hash };
		put(w, &r, sizeof(r));
	}
}

static bool is_static(const struct nk_set *s)
{
	return s->kind == KSET_V4 || s->kind == KSET_V6;
}

static size_t cache_size(const struct nk_ruleset *want)
{
	size_t n = 8 + 40 + 8 + 4 + 8 + 4 + 8;
	for (size_t i = 0; i < want->n_sets; i++)
		n += 2 + strlen(want->sets[i].name) + 8 + 8 + want->sets[i].n_elems * sizeof(struct rec);
	return n;
}

static int build(struct writer *w, const struct nk_ruleset *want, const struct nk_ruleset *live,
		 const struct nk_cache_key *key)
{
	uint32_t n = 0;
	for (size_t i = 0; i < want->n_sets; i++)
		n += is_static(&want->sets[i]);
	put(w, MAGIC, 8);
	put(w, key->boot_id, sizeof(key->boot_id));
	put(w, &key->netns_cookie, sizeof(key->netns_cookie));
	put(w, &key->genid, sizeof(key->genid));
	put(w, &key->source, sizeof(key->source));
	put(w, &n, sizeof(n));
	for (size_t i = 0; i < want->n_sets; i++) {
		const struct nk_set *s = &want->sets[i], *l = nk_ruleset_find_set(live, s->name);
		if (!is_static(s))
			continue;
		if (!l) {
			errno = ESTALE;
			return -1;
		}
		put_set(w, s, l->handle);
	}
	uint64_t sum = fnv_update(FNV_OFFSET, w->buf, w->len);
	put(w, &sum, sizeof(sum));
	return 0;
}

int nk_cache_save(const char *dir, const struct nk_ruleset *want, const struct nk_ruleset *live,
		  const struct nk_cache_key *key)
{
	char *path = cache_path(dir, want->table, "");
	struct writer w = { .cap = cache_size(want) };
	struct safefile out;
	int ret = -1, err = ENOMEM;
	w.buf = malloc(w.cap);
	if (!path || !w.buf)
		goto out;
	if (build(&w, want, live, key) < 0) {
		err = errno;
		goto out;
	}
	/* No fsync: a cache lost in a crash is only a cache, and after a reboot its boot id
	 * does not match anyway; the rename keeps readers from seeing half a file and the
	 * checksum catches what a crash could tear. */
	if (safefile_begin(&out, path, 0600, true) == 0)
		fwrite(w.buf, 1, w.len, out.f);
	ret = safefile_commit(&out, true, false);
	err = errno;
out:
	free(w.buf);
	free(path);
	errno = err;
	return ret;
}
/* ---- reading ---- */

struct reader {
	const unsigned char *p;
	size_t left;
};

static bool get(struct reader *r, void *out, size_t n)
{
	if (r->left < n)
		return false;
	memcpy(out, r->p, n);
	r->p += n;
	r->left -= n;
	return true;
}

/* One cached set into its live twin; false when it does not fit (stale or corrupt). */
static bool load_set(struct reader *r, struct nk_ruleset *live, bool *used)
{
	uint16_t len;
	uint64_t handle, n;
	char name[MAX_NAME + 1];
	if (!get(r, &len, sizeof(len)) || len > MAX_NAME || !get(r, name, len))
		return false;
	name[len] = '\0';
	struct nk_set *s = (struct nk_set *)nk_ruleset_find_set(live, name);
	/* A set named twice: corrupt, and its first elements must not be overwritten (leaked). */
	if (!get(r, &handle, sizeof(handle)) || !get(r, &n, sizeof(n)) || !s || s->handle != handle ||
	    s->foreign || !is_static(s) || s->elems_known || n > r->left / sizeof(struct rec))
		return false;
	s->elems = malloc((n ? n : 1) * sizeof(*s->elems));
	if (!s->elems)
		return false;
	for (uint64_t i = 0; i < n; i++) {
		struct rec rec;
		get(r, &rec, sizeof(rec));
		s->elems[i] = (struct nk_elem){ .prefix = { { rec.hi, rec.lo }, rec.family, rec.len }, .hash = rec.hash };
	}
	s->n_elems = n;
	s->elems_known = true;
	*used = true;
	return true;
}

static bool header_matches(struct reader *r, const struct nk_cache_key *key, uint64_t *source, uint32_t *n_sets)
{
	char magic[8], boot_id[40];	/* fields as written by build() */
	uint64_t cookie;
	uint32_t genid;
	return get(r, magic, 8) && !memcmp(magic, MAGIC, 8) && get(r, boot_id, sizeof(boot_id)) &&
	       !strncmp(boot_id, key->boot_id, sizeof(boot_id)) && get(r, &cookie, sizeof(cookie)) &&
	       cookie == key->netns_cookie && get(r, &genid, sizeof(genid)) && genid == key->genid &&
	       get(r, source, sizeof(*source)) && get(r, n_sets, sizeof(*n_sets));
}

static void forget_elems(struct nk_ruleset *live)
{
	for (size_t i = 0; i < live->n_sets; i++) {
		free(live->sets[i].elems);
		live->sets[i].elems = NULL;
		live->sets[i].n_elems = 0;
		live->sets[i].elems_known = false;
	}
}

/* Every live static set must have come from the cache, or the cache does not describe
 * this kernel. */
static bool all_known(const struct nk_ruleset *live)
{
	for (size_t i = 0; i < live->n_sets; i++)
		if (!live->sets[i].foreign && is_static(&live->sets[i]) && !live->sets[i].elems_known)
			return false;
	return true;
}

static int load_buffer(const unsigned char *buf, size_t len, struct nk_ruleset *live, const struct nk_cache_key *key)
{
	uint64_t sum, source;
	uint32_t n_sets;
	if (len < sizeof(sum))
		return 0;
	memcpy(&sum, buf + len - sizeof(sum), sizeof(sum));
	struct reader r = { buf, len - sizeof(sum) };
	if (fnv_update(FNV_OFFSET, buf, len - sizeof(sum)) != sum || !header_matches(&r, key, &source, &n_sets))
		return 0;
	bool used = false, ok = true;
	for (uint32_t i = 0; i < n_sets && ok; i++)
		ok = load_set(&r, live, &used);
	if (!ok || !all_known(live)) {
		forget_elems(live);
		return 0;
	}
	return 1;
}

int nk_cache_load(const char *dir, struct nk_ruleset *live, const struct nk_cache_key *key)
{
	char *path = cache_path(dir, live->table, "");
	unsigned char *buf = NULL;
	int ret = 0;
	FILE *f = path ? fopen(path, "r") : NULL;
	struct stat st;
	if (!path) {
		ret = -1;
	} else if (f && fstat(fileno(f), &st) == 0 && st.st_size > 0) {
		buf = malloc((size_t)st.st_size);
		if (!buf)
			ret = -1;
		else if (fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size)
			ret = load_buffer(buf, (size_t)st.st_size, live, key);
	}
	if (f)
		fclose(f);
	free(buf);
	free(path);
	return ret;
}

/* Reads just the header: the file's checksum is not verified, but every field it uses is
 * compared, and a false "no changes" would need a torn header that still names this boot,
 * namespace, generation and source. */
static bool source_matches(const char *path, const struct nk_cache_key *key)
{
	unsigned char head[8 + 40 + 8 + 4 + 8 + 4];
	uint64_t source;
	uint32_t n_sets;
	FILE *f = fopen(path, "r");
	bool ok = f && fread(head, 1, sizeof(head), f) == sizeof(head);
	if (f)
		fclose(f);
	struct reader r = { head, sizeof(head) };
	return ok && header_matches(&r, key, &source, &n_sets) && key->source && source == key->source;
}

int nk_cache_find_source(const char *dir, const struct nk_cache_key *key, char *table, size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int found = 0;
	while (d && !found && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (strncmp(de->d_name, "inet-", 5) || len <= 11 || strcmp(de->d_name + len - 6, ".state"))
			continue;
		char *path = NULL;
		if (asprintf(&path, "%s/%s", dir, de->d_name) >= 0 && source_matches(path, key)) {
			snprintf(table, size, "%.*s", (int)(len - 11), de->d_name + 5);
			found = 1;
		}
		free(path);
	}
	if (d)
		closedir(d);
	return found;
}

void nk_cache_drop(const char *dir, const char *table)
{
	char *path = cache_path(dir, table, "");
	if (path)
		unlink(path);
	free(path);
}
