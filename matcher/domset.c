/* SPDX-License-Identifier: GPL-2.0-or-later */
/* domset.c — exact names and wildcards: a Bloom filter of label suffixes in front of an
 * open-addressing table of the names themselves.
 *
 * Every label suffix of a name ("com", "marketo.com" for *.marketo.com) has a 64-bit key,
 * chained from the right: a label's key mixes its bytes, a word at a time, into the key of the
 * suffix after it. A lookup lowers the name eight bytes at a time, finds its dots, and so gets
 * the keys of all its suffixes in one pass, without hashing any label twice.
 *
 * Once the table outgrows the caches (100,000 names), memory, not arithmetic, is what a lookup
 * costs: a probe is a trip to DRAM. So the filter (about 16 bits per suffix, small enough to
 * stay in L2) answers first, with one 64-bit word per suffix, from the shortest: may a name
 * end at or below this suffix (if not, no longer suffix can match and the walk stops), may a
 * wildcard base end at it, may the exact name? Only a yes to one of the last two costs a
 * probe, so a name that matches nothing (most names) rarely leaves L2, and one that matches
 * waits for memory about once: the nodes of its candidates are prefetched together before the
 * first probe, and a node (one cache line) holds the text it stands for, compared in place.
 * That compare is what makes a hash collision cost a probe but never a wrong answer.
 *
 * Regexes (PCRE2 with JIT) are tried only when no name matched, in the order they were added. */
#include "domset.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "arena.h"

#define NONE UINT32_MAX
#define MAX_LABELS (NAME_MAX_LEN / 2 + 1)
#define NAME_BUF (NAME_MAX_LEN + 19)	/* a name and the zero words stored after it */
#define FILTER_BITS_PER_SUFFIX 16
#define TEXT_INLINE 47
#define BUILD_AHEAD 8

/* One pattern text, shared by the exact name and the wildcard base that are that text. Its
 * first 47 bytes are inline, so checking a match reads the line the probe brought in. */
struct node {
	uint64_t key;			/* 0: empty */
	uint32_t exact;			/* element index or NONE */
	uint32_t wild;
	uint8_t len;			/* of the text */
	char text[TEXT_INLINE];
};
_Static_assert(sizeof(struct node) == 64, "a node is one cache line");

struct regex {
	pcre2_code *code;
	uint32_t elem;
};

struct domset {
	struct arena arena;		/* element texts */
	struct vec elems;		/* struct domset_elem */
	struct vec regexes;		/* struct regex */
	struct node *nodes;		/* one per distinct name, at most 60% full */
	size_t mask;			/* nodes - 1; a power of two */
	uint64_t *filter;		/* over every suffix of every name */
	size_t filter_mask;		/* filter words - 1; a power of two */
	uint64_t seed;
	pcre2_match_data *md;
	bool built;
};

/* The label suffixes of one name, shortest first. */
struct suffixes {
	size_t n;
	uint64_t key[MAX_LABELS];	/* key[0]: the last label (the TLD); key[n-1]: the whole name */
	uint8_t start[MAX_LABELS];	/* where suffix i starts in the name */
};

static const uint64_t ONES = 0x0101010101010101ULL;
static const uint64_t LOW7 = 0x7f7f7f7f7f7f7f7fULL;
static const uint64_t HIGH = 0x8080808080808080ULL;

/* Eight bytes, the first at the least significant end whatever the host's byte order, so
 * find_dots and the label mask agree on which byte is which. */
static inline uint64_t load64(const char *p)
{
	uint64_t w;
	memcpy(&w, p, sizeof(w));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

/* ASCII A-Z to a-z in every byte of w; every other byte (non-ASCII included) unchanged. */
static inline uint64_t lower8(uint64_t w)
{
	uint64_t ge_a = (w & LOW7) + ONES * (0x80 - 'A');
	uint64_t gt_z = (w & LOW7) + ONES * (0x80 - 'Z' - 1);
	return w | (((ge_a ^ gt_z) & ~w & HIGH) >> 2);
}

/* The r (0..7) bytes at p, as they lie in memory, followed by zeros, read without touching
 * memory past p + r: when p is at least 8 bytes into the name (at >= 8), by loading the 8
 * bytes that end at p + r and shifting out the ones before p. */
static inline uint64_t load_tail(const char *p, size_t r, size_t at)
{
	uint64_t w = 0;
	if (r == 0)
		return 0;
	if (at >= 8) {
		memcpy(&w, p + r - 8, sizeof(w));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		return w << (8 * (8 - r));
#else
		return w >> (8 * (8 - r));
#endif
	}
	memcpy(&w, p, r);	/* a name shorter than 8 bytes */
	return w;
}

/* Copies name[0..len) into buf, lowered when lower is set, then at least 8 zero bytes, a word
 * at a time: the word loads that follow read word stores back directly (after byte stores,
 * as a plain memcpy makes, each would wait for them to reach the cache). */
static void copy_words(char *buf, const char *name, size_t len, bool lower)
{
	size_t i = 0;
	uint64_t w;
	for (; i + 8 <= len; i += 8) {
		memcpy(&w, name + i, sizeof(w));
		w = lower ? lower8(w) : w;
		memcpy(buf + i, &w, sizeof(w));
	}
	w = load_tail(name + i, len - i, i);
	w = lower ? lower8(w) : w;
	memcpy(buf + i, &w, sizeof(w));
	w = 0;
	memcpy(buf + i + 8, &w, sizeof(w));
}

/* The positions of the dots in buf[0..len), ascending; the bytes after len must be zero.
 * The zero-byte test is the exact one (no false hits after a real one). */
static size_t find_dots(const char *buf, size_t len, uint8_t *dot)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = load64(buf + i) ^ (ONES * '.');
		uint64_t z = ~(((v & LOW7) + LOW7) | v | LOW7);
		for (; z; z &= z - 1)
			dot[n++] = (uint8_t)(i + ((unsigned)__builtin_ctzll(z) >> 3));
	}
	return n;
}

static inline uint64_t hash_start(uint64_t seed)
{
	return 0xcbf29ce484222325ULL ^ (seed * 0x9e3779b97f4a7c15ULL);
}

/* Multiplication only carries upwards, so each step folds the high half back down. */
static inline uint64_t hash_word(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x9fb21c651e98df25ULL;
	return h ^ (h >> 32);
}

/* A 64-bit finalizer (xor-shift-multiply): the low bits index the table, the high half the
 * filter. 0 marks an empty node, so it is never a key. */
static inline uint64_t hash_finish(uint64_t h)
{
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return h ? h : 1;
}

/* The key of the suffix made of label[0..n) (n >= 1), a dot, and the suffix keyed parent.
 * The label is read a word at a time; the last word is masked to the label's bytes. */
static inline uint64_t suffix_key(uint64_t parent, const char *label, size_t n)
{
	uint64_t h = parent ^ n;
	for (; n > 8; n -= 8, label += 8)
		h = hash_word(h, load64(label));
	return hash_finish(hash_word(h, load64(label) & (~0ULL >> (64 - 8 * n))));
}

/* The filter's three questions about a suffix: may a name end at or below it (the walk goes
 * on), may a wildcard base end at it, may an exact name? Only the last two cost a probe, so a
 * suffix that only leads to names (the "example.com" of "*.www.example.com") costs none. */
enum filter_question { FILTER_BELOW, FILTER_WILD, FILTER_EXACT };

/* Bit i (0..7) of a suffix's bits in its word: six bits of a remix of its key (the word is
 * picked by the key's high half, so the two do not use the same bits). */
static inline uint64_t filter_bit(uint64_t remix, unsigned i)
{
	return 1ULL << ((remix >> (58 - 6 * i)) & 63);
}

/* Two bits answer FILTER_BELOW (a false yes costs a look at one more word), three each of
 * the others (a false yes costs a probe). */
static inline uint64_t filter_bits(uint64_t key, enum filter_question q)
{
	uint64_t remix = key * 0x9e3779b97f4a7c15ULL;
	switch (q) {
	case FILTER_BELOW:
		return filter_bit(remix, 0) | filter_bit(remix, 1);
	case FILTER_WILD:
		return filter_bit(remix, 2) | filter_bit(remix, 3) | filter_bit(remix, 4);
	case FILTER_EXACT:
		return filter_bit(remix, 5) | filter_bit(remix, 6) | filter_bit(remix, 7);
	}
	return 0;
}

static inline uint64_t *filter_word(const struct domset *s, uint64_t key)
{
	return &s->filter[(key >> 32) & s->filter_mask];
}

static inline bool filter_says(uint64_t word, uint64_t key, enum filter_question q)
{
	uint64_t bits = filter_bits(key, q);
	return (word & bits) == bits;
}

/* Fills sx with the keys of buf[0..len)'s suffixes (zero bytes after len). Returns false
 * when a label is empty: no name matches such a name. In a lookup, each suffix's filter word
 * is fetched while the labels before it are hashed. */
static bool suffixes_hash(const struct domset *s, const char *buf, size_t len, struct suffixes *sx)
{
	uint8_t dot[NAME_MAX_LEN];
	size_t n_dot = find_dots(buf, len, dot), end = len;
	uint64_t key = hash_start(s->seed);
	sx->n = 0;
	for (size_t j = n_dot + 1; j-- > 0;) {
		size_t start = j ? dot[j - 1] + 1u : 0;
		if (start == end)
			return false;
		key = suffix_key(key, buf + start, end - start);
		if (s->built)
			__builtin_prefetch(filter_word(s, key));
		sx->key[sx->n] = key;
		sx->start[sx->n++] = (uint8_t)start;
		end = start - 1;
	}
	return true;
}

static void table_free(void *p, size_t size);

struct domset *domset_new(void)
{
	return calloc(1, sizeof(struct domset));
}

void domset_free(struct domset *s)
{
	if (!s)
		return;
	struct regex *re = s->regexes.v;
	for (size_t i = 0; i < s->regexes.n; i++)
		pcre2_code_free(re[i].code);
	pcre2_match_data_free(s->md);
	table_free(s->nodes, (s->mask + 1) * sizeof(*s->nodes));
	table_free(s->filter, (s->filter_mask + 1) * sizeof(*s->filter));
	vec_free(&s->regexes);
	vec_free(&s->elems);
	arena_free(&s->arena);
	free(s);
}

size_t domset_count(const struct domset *s)
{
	return s->elems.n;
}

/* text is the set's own (a regex's copy) or borrowed (a name, which outlives the set). */
static struct domset_elem *push_elem(struct domset *s, const char *text, enum domset_kind kind, struct loc loc)
{
	struct domset_elem *e = text ? vec_push(&s->elems, sizeof(*e)) : NULL;
	if (e)
		*e = (struct domset_elem){ text, kind, loc };
	return e;
}

int domset_add_name(struct domset *s, const char *name, enum name_kind kind, struct loc loc)
{
	if (s->built)
		return -1;
	return push_elem(s, name, kind == NAME_WILDCARD ? DOMSET_WILDCARD : DOMSET_EXACT, loc) ? 0 : -1;
}

int domset_add_regex(struct domset *s, const char *pattern, struct loc loc, const char **why)
{
	static char message[256];
	int code;
	PCRE2_SIZE offset;
	*why = "out of memory";
	if (s->built) {
		*why = "the set is already built";
		return -1;
	}
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
				       PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_CASELESS, &code, &offset, NULL);
	if (!re) {
		pcre2_get_error_message(code, (PCRE2_UCHAR *)message, sizeof(message));
		*why = message;
		return -1;
	}
	/* Without JIT (an exotic CPU) the interpreter gives the same answers, only slower. */
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	struct regex *slot = vec_push(&s->regexes, sizeof(*slot));
	if (!slot || !push_elem(s, arena_strdup(&s->arena, pattern), DOMSET_REGEX, loc)) {
		pcre2_code_free(re);
		if (slot)
			s->regexes.n--;
		return -1;
	}
	*slot = (struct regex){ re, (uint32_t)(s->elems.n - 1) };
	return 0;
}

static inline const struct node *probe(const struct domset *s, uint64_t key)
{
	size_t i = key & s->mask;
	while (s->nodes[i].key) {
		if (s->nodes[i].key == key)
			return &s->nodes[i];
		i = (i + 1) & s->mask;
	}
	return NULL;
}

/* The node of key, made (empty) if there is none yet; the table has room for every name. */
static struct node *probe_insert(struct domset *s, uint64_t key)
{
	size_t i = key & s->mask;
	while (s->nodes[i].key && s->nodes[i].key != key)
		i = (i + 1) & s->mask;
	if (!s->nodes[i].key)
		s->nodes[i] = (struct node){ .key = key, .exact = NONE, .wild = NONE };
	return &s->nodes[i];
}

/* Whether the text of nd is text[0..n). Past the inline bytes, the rest is read from the
 * element's own copy (names that long are rare). */
static bool node_text_is(const struct domset *s, const struct node *nd, const char *text, size_t n)
{
	if (nd->len != n)
		return false;
	if (n <= TEXT_INLINE)
		return !memcmp(nd->text, text, n);
	const struct domset_elem *elems = s->elems.v;
	const char *full = elems[nd->exact != NONE ? nd->exact : nd->wild].text;
	return !memcmp(nd->text, text, TEXT_INLINE) && !memcmp(full + TEXT_INLINE, text + TEXT_INLINE, n - TEXT_INLINE);
}

/* Records element idx (its text is text[0..n), n >= 1) at nd. Returns 0, or 1 when another
 * text has the same key (a 64-bit hash collision: the caller reseeds). */
static int node_add_elem(struct domset *s, struct node *nd, uint32_t idx, const char *text, size_t n,
			 enum domset_kind kind)
{
	if (nd->len && !node_text_is(s, nd, text, n))
		return 1;
	if (!nd->len) {
		nd->len = (uint8_t)n;
		memcpy(nd->text, text, n < TEXT_INLINE ? n : TEXT_INLINE);
	}
	uint32_t *field = kind == DOMSET_WILDCARD ? &nd->wild : &nd->exact;
	if (*field == NONE)
		*field = idx;	/* a repeat keeps the first */
	return 0;
}

/* The suffixes of element idx's text. Returns false for a regex, and for a text that is not a
 * name a lookup accepts (empty, too long, an empty label): it could never match. */
static bool elem_suffixes(const struct domset *s, uint32_t idx, struct suffixes *sx)
{
	const struct domset_elem *e = (const struct domset_elem *)s->elems.v + idx;
	char buf[NAME_BUF];
	size_t len = e->kind == DOMSET_REGEX ? 0 : strlen(e->text);
	if (len == 0 || len > NAME_MAX_LEN)
		return false;
	copy_words(buf, e->text, len, false);	/* names come lower-cased; one that is not never matches */
	return suffixes_hash(s, buf, len, sx);
}

/* Adds element idx, whose suffixes are sx (NULL: it can never match): each suffix to the
 * filter, the element to the node of its text. Returns 0, or 1 on a hash collision. */
static int insert_name(struct domset *s, uint32_t idx, const struct suffixes *sx)
{
	const struct domset_elem *e = (const struct domset_elem *)s->elems.v + idx;
	if (!sx)
		return 0;
	for (size_t i = 0; i < sx->n; i++)
		*filter_word(s, sx->key[i]) |= filter_bits(sx->key[i], FILTER_BELOW);
	uint64_t key = sx->key[sx->n - 1];
	*filter_word(s, key) |= filter_bits(key, e->kind == DOMSET_WILDCARD ? FILTER_WILD : FILTER_EXACT);
	return node_add_elem(s, probe_insert(s, key), idx, e->text, strlen(e->text), e->kind);
}

/* Inserts land at random in a table larger than the caches, each a wait for memory; hashing
 * a name BUILD_AHEAD places ahead and prefetching its node makes those waits overlap. The
 * suffixes are kept until the name's turn comes, not hashed again. Returns whether idx has
 * any. */
static bool hash_ahead(const struct domset *s, uint32_t idx, struct suffixes *sx)
{
	if (!elem_suffixes(s, idx, sx))
		return false;
	__builtin_prefetch(&s->nodes[sx->key[sx->n - 1] & s->mask], 1);
	return true;
}

/* One pass over the names; 0, or 1 on a hash collision. */
static int insert_all(struct domset *s)
{
	struct suffixes ring[BUILD_AHEAD];	/* about 9 KB */
	bool have[BUILD_AHEAD];
	uint32_t n = (uint32_t)s->elems.n;
	for (uint32_t i = 0; i < BUILD_AHEAD && i < n; i++)
		have[i] = hash_ahead(s, i, &ring[i]);
	for (uint32_t i = 0; i < n; i++) {
		struct suffixes *sx = &ring[i % BUILD_AHEAD];
		if (insert_name(s, i, have[i % BUILD_AHEAD] ? sx : NULL))
			return 1;
		if (i + BUILD_AHEAD < n)
			have[i % BUILD_AHEAD] = hash_ahead(s, i + BUILD_AHEAD, sx);
	}
	return 0;
}

/* Zeroed memory for a table, aligned to cache lines, and one of megabytes to 2 MB pages for
 * mem_advise_huge: lookups touch it at random, and a TLB miss per probe (a long page walk
 * under a hypervisor) would cost as much again as the cache miss. Free with free(). */
enum { HUGE_PAGE = 2 << 20 };

/* A zeroed table, 64-byte aligned; from 2 MiB on, mapped on a huge-page boundary. Fresh
 * anonymous pages are zero already, so a large table is not written before it is used (the
 * 16 MiB table of 100,000 names was a memset of its own). Free with table_free. */
static void *table_alloc(size_t size)
{
	void *p;
	if (size < HUGE_PAGE) {
		size = (size + 63) & ~(size_t)63;
		return posix_memalign(&p, 64, size) ? NULL : memset(p, 0, size);
	}
	size = (size + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	char *map = mmap(NULL, size + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return NULL;
	char *start = (char *)(((uintptr_t)map + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
	if (start > map)
		munmap(map, (size_t)(start - map));
	munmap(start + size, (size_t)(map + HUGE_PAGE - start));
	mem_advise_huge(start, size);
	return start;
}

static void table_free(void *p, size_t size)
{
	if (!p)
		return;
	if (size < HUGE_PAGE)
		free(p);
	else
		munmap(p, (size + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1));
}

/* Sizes and allocates the tables: a node per name, at most 60% full; 16 filter bits per label
 * suffix of each name, rounded down to a power of two words, at least 1 KB (so 8 to 16 bits for
 * each distinct suffix, more for those many names share, like TLDs). Returns 0 or -1 on
 * ENOMEM. */
static int tables_alloc(struct domset *s)
{
	const struct domset_elem *elems = s->elems.v;
	size_t names = 0, suffixes = 0, cap = 64, words = 128;
	for (size_t i = 0; i < s->elems.n; i++) {
		if (elems[i].kind == DOMSET_REGEX)
			continue;
		names++;
		for (const char *c = elems[i].text; *c; c++)
			suffixes += *c == '.';
		suffixes++;
	}
	while (cap * 6 < names * 10)
		cap *= 2;
	while (words * 128 <= suffixes * FILTER_BITS_PER_SUFFIX)
		words *= 2;
	free(s->nodes);
	free(s->filter);
	s->nodes = table_alloc(cap * sizeof(*s->nodes));
	s->filter = table_alloc(words * sizeof(*s->filter));
	s->mask = cap - 1;
	s->filter_mask = words - 1;
	return s->nodes && s->filter ? 0 : -1;
}

static int build_names(struct domset *s)
{
	if (tables_alloc(s) < 0)
		return -1;
	for (int attempt = 0; attempt < 8; attempt++) {
		if (insert_all(s) == 0)
			return 0;
		s->seed++;
		memset(s->nodes, 0, (s->mask + 1) * sizeof(*s->nodes));
		memset(s->filter, 0, (s->filter_mask + 1) * sizeof(*s->filter));
	}
	return -1;	/* eight 64-bit collisions in a row: not a real input */
}

int domset_build(struct domset *s)
{
	if (s->built)
		return 0;
	if (build_names(s) < 0)
		return -1;
	if (s->regexes.n && !(s->md = pcre2_match_data_create(1, NULL)))
		return -1;
	s->built = true;
	return 0;
}

static const struct domset_elem *match_regex(struct domset *s, const char *lower, size_t len)
{
	const struct regex *re = s->regexes.v;
	const struct domset_elem *elems = s->elems.v;
	for (size_t i = 0; i < s->regexes.n; i++)
		if (pcre2_match(re[i].code, (PCRE2_SPTR)lower, len, 0, 0, s->md, NULL) >= 0)
			return &elems[re[i].elem];
	return NULL;
}

/* The suffixes, shortest first, at which the filter says a name may end, into at; the walk
 * stops at the first suffix no name ends at or below. Their nodes are prefetched as they are
 * found (and the next line, where a run of keys goes on), so the probes wait for memory once.
 * Returns how many went to at. */
static size_t filter_walk(const struct domset *s, const struct suffixes *sx, size_t *at)
{
	size_t n_at = 0;
	for (size_t i = 0; i < sx->n; i++) {
		uint64_t word = *filter_word(s, sx->key[i]);
		if (!filter_says(word, sx->key[i], FILTER_BELOW))
			break;
		if (filter_says(word, sx->key[i], i + 1 == sx->n ? FILTER_EXACT : FILTER_WILD)) {
			__builtin_prefetch(&s->nodes[sx->key[i] & s->mask]);
			__builtin_prefetch(&s->nodes[(sx->key[i] + 1) & s->mask]);
			at[n_at++] = i;
		}
	}
	return n_at;
}

/* Probes the suffixes the filter picked, longest first: the exact name (the whole name can
 * only be that, a wildcard is strictly below its base), then the wildcards, longest base
 * first. */
static const struct domset_elem *match_names(const struct domset *s, const char *lower, size_t len,
					     const struct suffixes *sx)
{
	const struct domset_elem *elems = s->elems.v;
	size_t at[MAX_LABELS], n_at = filter_walk(s, sx, at);
	while (n_at-- > 0) {
		size_t i = at[n_at], start = sx->start[i];
		const struct node *nd = probe(s, sx->key[i]);
		uint32_t elem = !nd ? NONE : i + 1 == sx->n ? nd->exact : nd->wild;
		if (elem != NONE && node_text_is(s, nd, lower + start, len - start))
			return &elems[elem];
	}
	return NULL;
}

const struct domset_elem *domset_match(struct domset *s, const char *name, size_t len)
{
	if (!s->built)
		return NULL;
	if (len && name[len - 1] == '.')
		len--;
	if (len == 0 || len > NAME_MAX_LEN || name[len - 1] == '.')
		return NULL;
	char lower[NAME_BUF];
	struct suffixes sx;
	copy_words(lower, name, len, true);
	if (!suffixes_hash(s, lower, len, &sx))
		return NULL;	/* an empty label: not a name any pattern (or regex) may match */
	const struct domset_elem *e = match_names(s, lower, len, &sx);
	if (!e && s->regexes.n)
		e = match_regex(s, lower, len);
	return e;
}
