/* domset.c — exact names and wildcards in one open-addressing table of label suffixes.
 *
 * Every label suffix of every pattern is a node ("com", "marketo.com" for *.marketo.com),
 * keyed by a 64-bit hash of its text. A lookup hashes the name from the right, one byte at a
 * time, and probes at each label boundary: the shortest suffix first. A missing suffix means
 * no pattern ends in it, so no longer suffix can match either and the walk stops; a name that
 * matches nothing usually costs two probes, the first of them (its TLD) always in cache.
 * Terminal nodes name the exact and wildcard elements; the matched text is compared once at
 * the end, so a hash collision can cost a probe but never give a wrong answer. */
#include "domset.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define NONE UINT32_MAX
#define MAX_LABELS (NAME_MAX_LEN / 2 + 1)

struct slot {
	uint64_t key;		/* 0: empty */
	uint32_t exact;		/* element index or NONE */
	uint32_t wild;
};

struct regex {
	pcre2_code *code;
	uint32_t elem;
};

struct domset {
	struct arena arena;		/* element texts */
	struct vec elems;		/* struct domset_elem */
	struct vec regexes;		/* struct regex */
	struct slot *slots;
	size_t mask;			/* slots - 1; slots is a power of two */
	size_t used;
	uint64_t seed;
	pcre2_match_data *md;
	bool built;
};

static const uint64_t FNV_PRIME = 0x100000001b3ULL;

static inline uint64_t hash_start(uint64_t seed)
{
	return 0xcbf29ce484222325ULL ^ (seed * 0x9e3779b97f4a7c15ULL);
}

static inline uint64_t hash_byte(uint64_t h, unsigned char c)
{
	return (h ^ c) * FNV_PRIME;
}

/* FNV alone leaves the low bits (the table index) poorly mixed; this is a 64-bit finalizer
 * (xor-shift-multiply). 0 marks an empty slot, so it is never a key. */
static inline uint64_t hash_finish(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h ? h : 1;
}

static const unsigned char *lower_table(void)
{
	static unsigned char t[256];
	static bool ready;
	if (!ready) {
		for (int i = 0; i < 256; i++)
			t[i] = (unsigned char)(i >= 'A' && i <= 'Z' ? i + 32 : i);
		ready = true;
	}
	return t;
}

struct domset *domset_new(void)
{
	lower_table();	/* filled before any lookup, so lookups only read it */
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
	free(s->slots);
	vec_free(&s->regexes);
	vec_free(&s->elems);
	arena_free(&s->arena);
	free(s);
}

size_t domset_count(const struct domset *s)
{
	return s->elems.n;
}

static struct domset_elem *push_elem(struct domset *s, const char *text, enum domset_kind kind, struct loc loc)
{
	char *copy = arena_strdup(&s->arena, text);
	struct domset_elem *e = copy ? vec_push(&s->elems, sizeof(*e)) : NULL;
	if (e)
		*e = (struct domset_elem){ copy, kind, loc };
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
	if (!slot || !push_elem(s, pattern, DOMSET_REGEX, loc)) {
		pcre2_code_free(re);
		if (slot)
			s->regexes.n--;
		return -1;
	}
	*slot = (struct regex){ re, (uint32_t)(s->elems.n - 1) };
	return 0;
}

static struct slot *probe(const struct domset *s, uint64_t key)
{
	size_t i = key & s->mask;
	while (s->slots[i].key) {
		if (s->slots[i].key == key)
			return &s->slots[i];
		i = (i + 1) & s->mask;
	}
	return NULL;
}

static struct slot *probe_insert(struct domset *s, uint64_t key)
{
	size_t i = key & s->mask;
	while (s->slots[i].key && s->slots[i].key != key)
		i = (i + 1) & s->mask;
	if (!s->slots[i].key) {
		s->slots[i] = (struct slot){ key, NONE, NONE };
		s->used++;
	}
	return &s->slots[i];
}

static int table_resize(struct domset *s, size_t cap)
{
	struct slot *old = s->slots;
	size_t old_cap = old ? s->mask + 1 : 0;
	s->slots = calloc(cap, sizeof(*s->slots));
	if (!s->slots) {
		s->slots = old;
		return -1;
	}
	s->mask = cap - 1;
	s->used = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].key)
			*probe_insert(s, old[i].key) = old[i];
	free(old);
	return 0;
}

/* Records element idx at its terminal node. Returns 0, 1 when a different text already holds
 * that node (a 64-bit hash collision: the caller reseeds), -1 on ENOMEM. */
static int insert_name(struct domset *s, uint32_t idx)
{
	const struct domset_elem *elems = s->elems.v, *e = &elems[idx];
	size_t len = strlen(e->text);
	uint64_t h = hash_start(s->seed);
	for (size_t i = len; i-- > 0;) {
		h = hash_byte(h, (unsigned char)e->text[i]);
		if (i && e->text[i - 1] != '.')
			continue;
		if ((s->used + 1) * 10 > (s->mask + 1) * 6 && table_resize(s, (s->mask + 1) * 2) < 0)
			return -1;
		struct slot *sl = probe_insert(s, hash_finish(h));
		if (i)
			continue;
		uint32_t *field = e->kind == DOMSET_WILDCARD ? &sl->wild : &sl->exact;
		if (*field == NONE)
			*field = idx;
		else if (strcmp(elems[*field].text, e->text))
			return 1;
	}
	return 0;
}

static int build_table(struct domset *s)
{
	const struct domset_elem *elems = s->elems.v;
	for (int attempt = 0; attempt < 8; attempt++, s->seed++) {
		free(s->slots);
		s->slots = NULL;
		if (table_resize(s, 64) < 0)
			return -1;
		int rc = 0;
		for (uint32_t i = 0; i < s->elems.n && rc == 0; i++)
			if (elems[i].kind != DOMSET_REGEX)
				rc = insert_name(s, i);
		if (rc <= 0)
			return rc;
	}
	return -1;	/* eight 64-bit collisions in a row: not a real input */
}

int domset_build(struct domset *s)
{
	if (s->built)
		return 0;
	if (build_table(s) < 0)
		return -1;
	if (s->regexes.n && !(s->md = pcre2_match_data_create(1, NULL)))
		return -1;
	s->built = true;
	return 0;
}

/* A wildcard that may match: its element and where the matched suffix starts. */
struct wild_cand {
	uint32_t elem;
	uint32_t at;
};

static bool text_equals(const struct domset_elem *e, const char *s, size_t n)
{
	return strlen(e->text) == n && !memcmp(e->text, s, n);
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

/* Checks the candidates the walk collected, best first. */
static const struct domset_elem *confirm(const struct domset *s, const char *lower, size_t len, uint32_t exact,
					 const struct wild_cand *wc, size_t n_wc)
{
	const struct domset_elem *elems = s->elems.v;
	if (exact != NONE && text_equals(&elems[exact], lower, len))
		return &elems[exact];
	while (n_wc-- > 0)
		if (text_equals(&elems[wc[n_wc].elem], lower + wc[n_wc].at, len - wc[n_wc].at))
			return &elems[wc[n_wc].elem];
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
	const unsigned char *lt = lower_table();
	char lower[NAME_MAX_LEN];
	struct wild_cand wc[MAX_LABELS];
	size_t n_wc = 0;
	uint32_t exact = NONE;
	bool probing = true;
	uint64_t h = hash_start(s->seed);
	for (size_t i = len; i-- > 0;) {
		unsigned char c = lt[(unsigned char)name[i]];
		lower[i] = (char)c;
		h = hash_byte(h, c);
		if (i && name[i - 1] != '.')
			continue;
		if (c == '.')
			return NULL;	/* an empty label: not a name any pattern can match */
		const struct slot *sl = probing ? probe(s, hash_finish(h)) : NULL;
		/* Keep walking without probing: the rest must still be checked and lowered. */
		if (!sl) {
			probing = false;
			continue;
		}
		if (i == 0)
			exact = sl->exact;
		else if (sl->wild != NONE && n_wc < MAX_LABELS)
			wc[n_wc++] = (struct wild_cand){ sl->wild, (uint32_t)i };
	}
	const struct domset_elem *e = confirm(s, lower, len, exact, wc, n_wc);
	if (!e && s->regexes.n)
		e = match_regex(s, lower, len);
	return e;
}
