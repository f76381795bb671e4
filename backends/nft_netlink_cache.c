/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nft_netlink_cache.c — the last-applied state: the elements of pinhole's static sets as
 * the last apply left them, stamped with the boot, the network namespace and the ruleset
 * generation that apply produced. While the kernel's generation is still that one, nobody
 * changed anything since, and the elements need not be dumped (a dump of a big interval
 * set costs the kernel seconds to minutes).
 *
 * Trust (pinhole(8), LAST-APPLIED STATE): a file that says "nothing changed" lets apply
 * skip the kernel, so it must not be forgeable by someone who can only write files: it
 * carries a MAC (SipHash-2-4) under a 128-bit key that pinhole made at random in
 * DIR/cache.key (0600, owned by root, never followed through a link). A copied, grafted
 * or hand-edited file fails the MAC and apply dumps the kernel instead; a stale one fails
 * the generation, boot, namespace or set-handle checks. Whoever can read the key is root
 * and could change the kernel directly.
 *
 * File: DIR/inet-TABLE.state, binary, host byte order (it never leaves the machine):
 *   header: "PHSTATE3" | boot_id[40] | netns cookie u64 | genid u32 | source u64 |
 *           table handle u64 | n_sets u32 | body_len u64 | MAC(body) u64 |
 *           MAC(header so far) u64
 *   body:   per set: name_len u16, name, handle u64, n u64,
 *           n x {hi u64, lo u64, family u8, len u8, pad[6]}
 * The header has its own MAC so that apply's "same source, same generation" check reads
 * 100 bytes, not the body. */
#include "nft_netlink_sock_internal.h"
#include "safefile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "PHSTATE3"
#define MAX_NAME 256
#define HEADER_LEN (8 + 40 + 8 + 4 + 8 + 8 + 4 + 8 + 8)	/* before the header's own MAC */
#define KEY_FILE "cache.key"

struct rec {
	uint64_t hi, lo;
	uint8_t family, len, pad[6];
};

/* ---- the MAC ---- */

static uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl(v[1], 13) ^ v[0];
	v[0] = rotl(v[0], 32);
	v[2] += v[3];
	v[3] = rotl(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = rotl(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = rotl(v[1], 17) ^ v[2];
	v[2] = rotl(v[2], 32);
}

static uint64_t load_le64(const unsigned char *p, size_t n)
{
	uint64_t w = 0;
	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)p[i] << (8 * i);
	return w;
}

static void sip_block(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sip_round(v);
	sip_round(v);
	v[0] ^= m;
}

uint64_t nk_siphash(const uint64_t key[2], const void *data, size_t n)
{
	const unsigned char *p = data;
	uint64_t v[4] = { key[0] ^ 0x736f6d6570736575ull, key[1] ^ 0x646f72616e646f6dull,
			  key[0] ^ 0x6c7967656e657261ull, key[1] ^ 0x7465646279746573ull };
	size_t i = 0;
	for (; i + 8 <= n; i += 8)
		sip_block(v, load_le64(p + i, 8));
	sip_block(v, load_le64(p + i, n - i) | (uint64_t)n << 56);
	v[2] ^= 0xff;
	for (int r = 0; r < 4; r++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* The key file must be root's own secret: a regular file of 16 bytes, owned by us, that
 * nobody else can read or write. Anything else and the cache is not trusted. */
static int key_read(int fd, uint64_t key[2])
{
	struct stat st;
	unsigned char k[16];
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) ||
	    st.st_size != sizeof(k) || read(fd, k, sizeof(k)) != (ssize_t)sizeof(k)) {
		errno = EPERM;
		return -1;
	}
	key[0] = load_le64(k, 8);
	key[1] = load_le64(k + 8, 8);
	return 0;
}

/* Made once, with O_EXCL: two applies racing both read the one that won. */
static int key_create(const char *path)
{
	unsigned char k[16];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? 0 : -1;
	bool ok = getrandom(k, sizeof(k), 0) == (ssize_t)sizeof(k) && write(fd, k, sizeof(k)) == (ssize_t)sizeof(k);
	ok = close(fd) == 0 && ok;
	if (!ok)
		unlink(path);
	return ok ? 0 : -1;
}

/* The cache key of dir, made when create and absent. Returns 0, or -1 (errno) when there
 * is none that can be trusted. */
static int key_get(const char *dir, bool create, uint64_t key[2])
{
	char *path = NULL;
	if (asprintf(&path, "%s/%s", dir, KEY_FILE) < 0)
		return -1;
	int ret = -1, fd;
	if (!create || key_create(path) == 0) {
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		ret = fd < 0 ? -1 : key_read(fd, key);
		if (fd >= 0)
			close(fd);
	}
	free(path);
	return ret;
}

int nk_cache_key_now(struct nl_session *s, struct nk_cache_key *key)
{
	memset(key, 0, sizeof(*key));
	key->netns_cookie = nl_netns_cookie(s);
	bool ok = nk_boot_id(key->boot_id, sizeof(key->boot_id)) == 0;
	/* without a netns cookie a namespace made after ours was destroyed could look the same */
	return ok && key->netns_cookie ? 0 : -1;
}

static char *cache_path(const char *dir, const char *table, const char *suffix)
{
	char *p = NULL;
	return asprintf(&p, "%s/inet-%s.state%s", dir, table, suffix) < 0 ? NULL : p;
}

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
		struct rec r = { e->prefix.addr.hi, e->prefix.addr.lo, e->prefix.family, e->prefix.len, { 0 } };
		put(w, &r, sizeof(r));
	}
}

static bool is_static(const struct nk_set *s)
{
	return s->kind == KSET_V4 || s->kind == KSET_V6;
}

static size_t cache_size(const struct nk_ruleset *want)
{
	size_t n = HEADER_LEN + 8;
	for (size_t i = 0; i < want->n_sets; i++)
		n += 2 + strlen(want->sets[i].name) + 8 + 8 + want->sets[i].n_elems * sizeof(struct rec);
	return n;
}

/* The body goes after room for the header, which is written last: it carries the body's
 * length and MAC. */
static int build(struct writer *w, const struct nk_ruleset *want, const struct nk_ruleset *live,
		 const struct nk_cache_key *key, const uint64_t mac_key[2])
{
	uint32_t n = 0;
	for (size_t i = 0; i < want->n_sets; i++)
		n += is_static(&want->sets[i]);
	w->len = HEADER_LEN + 8;
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
	size_t end = w->len;
	uint64_t body_len = end - HEADER_LEN - 8, body_mac = nk_siphash(mac_key, w->buf + HEADER_LEN + 8, body_len);
	w->len = 0;
	put(w, MAGIC, 8);
	put(w, key->boot_id, sizeof(key->boot_id));
	put(w, &key->netns_cookie, sizeof(key->netns_cookie));
	put(w, &key->genid, sizeof(key->genid));
	put(w, &key->source, sizeof(key->source));
	put(w, &live->table_handle, sizeof(live->table_handle));
	put(w, &n, sizeof(n));
	put(w, &body_len, sizeof(body_len));
	put(w, &body_mac, sizeof(body_mac));
	uint64_t head_mac = nk_siphash(mac_key, w->buf, HEADER_LEN);
	put(w, &head_mac, sizeof(head_mac));
	w->len = end;
	return 0;
}

/* Through safefile (a checked directory, O_NOFOLLOW, an O_EXCL temporary renamed into
 * place). No fsync: a cache lost in a crash is only a cache, and after a reboot its boot id
 * does not match anyway; the rename keeps readers from seeing half a file and the MAC
 * catches what a crash could tear. */
int nk_cache_save(const char *dir, const struct nk_ruleset *want, const struct nk_ruleset *live,
		  const struct nk_cache_key *key)
{
	char *path = cache_path(dir, want->table, "");
	struct writer w = { .cap = cache_size(want) };
	struct safefile out;
	uint64_t mac_key[2];
	int ret = -1, err = ENOMEM;
	w.buf = malloc(w.cap);
	if (!path || !w.buf)
		goto out;
	/* the key is made in the directory only once it passed the check */
	int dirfd = safefile_dir_open(dir, true, out.why);
	if (dirfd < 0 || close(dirfd) < 0 || key_get(dir, true, mac_key) < 0 || build(&w, want, live, key, mac_key) < 0) {
		err = errno;
		goto out;
	}
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
		s->elems[i] = (struct nk_elem){ .prefix = { { rec.hi, rec.lo }, rec.family, rec.len } };
	}
	s->n_elems = n;
	s->elems_known = true;
	*used = true;
	return true;
}

struct header {
	uint64_t source, table_handle, body_len, body_mac;
	uint32_t n_sets, genid;
};

/* The header's MAC first, then its boot and netns against key; the generation is the
 * caller's to judge (header_matches). */
static bool header_read(struct reader *r, const struct nk_cache_key *key, const uint64_t mac_key[2],
			struct header *h)
{
	char magic[8], boot_id[40];	/* fields as written by build() */
	uint64_t cookie, mac;
	if (r->left < HEADER_LEN + 8)
		return false;
	memcpy(&mac, r->p + HEADER_LEN, sizeof(mac));
	if (nk_siphash(mac_key, r->p, HEADER_LEN) != mac)
		return false;
	return get(r, magic, 8) && !memcmp(magic, MAGIC, 8) && get(r, boot_id, sizeof(boot_id)) &&
	       !strncmp(boot_id, key->boot_id, sizeof(boot_id)) && get(r, &cookie, sizeof(cookie)) &&
	       cookie == key->netns_cookie && get(r, &h->genid, sizeof(h->genid)) &&
	       get(r, &h->source, sizeof(h->source)) && get(r, &h->table_handle, sizeof(h->table_handle)) &&
	       get(r, &h->n_sets, sizeof(h->n_sets)) && get(r, &h->body_len, sizeof(h->body_len)) &&
	       get(r, &h->body_mac, sizeof(h->body_mac)) && get(r, &mac, sizeof(mac));
}

/* And the generation: key's, or one that only pinhole guard's commits followed. */
static bool header_matches(struct reader *r, const struct nk_cache_key *key, const uint64_t mac_key[2],
			   struct header *h)
{
	return header_read(r, key, mac_key, h) && h->genid <= key->genid &&
	       h->genid >= (key->genid_min ? key->genid_min : key->genid);
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

static int load_buffer(const unsigned char *buf, size_t len, struct nk_ruleset *live, const struct nk_cache_key *key,
		       const uint64_t mac_key[2])
{
	struct header h;
	struct reader r = { buf, len };
	if (!header_matches(&r, key, mac_key, &h) || h.table_handle != live->table_handle || h.body_len != r.left ||
	    nk_siphash(mac_key, r.p, r.left) != h.body_mac)
		return 0;
	bool used = false, ok = true;
	for (uint32_t i = 0; i < h.n_sets && ok; i++)
		ok = load_set(&r, live, &used);
	if (!ok || !all_known(live)) {
		forget_elems(live);
		return 0;
	}
	return 1;
}

/* The whole cache file of table and the MAC key. Returns 1 (*buf malloc'd), 0 when there
 * is none or no key, -1 on ENOMEM. */
static int read_cache(const char *dir, const char *table, uint64_t mac_key[2], unsigned char **buf, size_t *len)
{
	char *path = cache_path(dir, table, "");
	int ret = 0;
	FILE *f = path && key_get(dir, false, mac_key) == 0 ? fopen(path, "re") : NULL;
	struct stat st;
	*buf = NULL;
	if (!path) {
		ret = -1;
	} else if (f && fstat(fileno(f), &st) == 0 && st.st_size > 0) {
		*buf = malloc((size_t)st.st_size);
		*len = (size_t)st.st_size;
		ret = !*buf ? -1 : fread(*buf, 1, *len, f) == *len ? 1 : 0;
	}
	if (f)
		fclose(f);
	free(path);
	return ret;
}

int nk_cache_load(const char *dir, struct nk_ruleset *live, const struct nk_cache_key *key)
{
	unsigned char *buf;
	size_t len;
	uint64_t mac_key[2];
	int ret = read_cache(dir, live->table, mac_key, &buf, &len);
	if (ret == 1)
		ret = load_buffer(buf, len, live, key, mac_key);
	free(buf);
	return ret;
}

static size_t adopt_listed(struct reader *r, uint32_t n_sets, struct nk_ruleset *live)
{
	size_t n_adopted = 0;
	for (uint32_t i = 0; i < n_sets; i++) {
		uint16_t len;
		uint64_t handle, n;
		char name[MAX_NAME + 1];
		if (!get(r, &len, sizeof(len)) || len > MAX_NAME || !get(r, name, len) || !get(r, &handle, sizeof(handle)) ||
		    !get(r, &n, sizeof(n)) || n > r->left / sizeof(struct rec))
			break;
		name[len] = '\0';
		r->p += n * sizeof(struct rec);
		r->left -= n * sizeof(struct rec);
		struct nk_set *s = (struct nk_set *)nk_ruleset_find_set(live, name);
		if (s && s->foreign && s->handle == handle && is_static(s)) {
			s->foreign = false;
			s->adopted = true;
			n_adopted++;
		}
	}
	return n_adopted;
}

size_t nk_cache_adopt(const char *dir, struct nk_ruleset *live, const struct nk_cache_key *key)
{
	unsigned char *buf;
	size_t len, n = 0;
	uint64_t mac_key[2];
	struct header h;
	if (read_cache(dir, live->table, mac_key, &buf, &len) == 1) {
		struct reader r = { buf, len };
		if (header_read(&r, key, mac_key, &h) && h.table_handle == live->table_handle && h.body_len == r.left &&
		    nk_siphash(mac_key, r.p, r.left) == h.body_mac)
			n = adopt_listed(&r, h.n_sets, live);
	}
	free(buf);
	return n;
}

/* Reads just the header, whose own MAC covers every field used here. */
static bool source_matches(const char *path, const struct nk_cache_key *key, const uint64_t mac_key[2])
{
	unsigned char head[HEADER_LEN + 8];
	struct header h;
	FILE *f = fopen(path, "re");
	bool ok = f && fread(head, 1, sizeof(head), f) == sizeof(head);
	if (f)
		fclose(f);
	struct reader r = { head, sizeof(head) };
	return ok && header_matches(&r, key, mac_key, &h) && key->source && h.source == key->source;
}

int nk_cache_find_source(const char *dir, const struct nk_cache_key *key, char *table, size_t size)
{
	uint64_t mac_key[2];
	DIR *d = key_get(dir, false, mac_key) == 0 ? opendir(dir) : NULL;
	struct dirent *de;
	int found = 0;
	while (d && !found && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (strncmp(de->d_name, "inet-", 5) || len <= 11 || strcmp(de->d_name + len - 6, ".state"))
			continue;
		char *path = NULL;
		if (asprintf(&path, "%s/%s", dir, de->d_name) >= 0 && source_matches(path, key, mac_key)) {
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
