/* guard_table.c — open addressing, linear probing, backward-shift deletion. */
#include "guard_table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define GTAB_MIN_CAP 64

uint64_t gtab_hash(const void *key, size_t n, uint64_t seed)
{
	/* 64-bit FNV-1a over the bytes, then a murmur3 finalizer so that linear probing sees
	 * well-spread low bits; the seed makes collisions unpredictable from outside. */
	const uint8_t *p = key;
	uint64_t h = 0xcbf29ce484222325ull ^ seed;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

static uint8_t *slot(const struct gtab *t, size_t i)
{
	return t->slots + i * (1 + t->esize);
}

int gtab_init(struct gtab *t, size_t esize, size_t ksize, size_t max)
{
	*t = (struct gtab){ .cap = GTAB_MIN_CAP, .esize = esize, .ksize = ksize, .max = max };
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t ^ 0x9e3779b97f4a7c15ull;
	t->slots = calloc(t->cap, 1 + esize);
	return t->slots ? 0 : -1;
}

void gtab_free(struct gtab *t)
{
	free(t->slots);
	t->slots = NULL;
	t->cap = t->n = 0;
}

static size_t home(const struct gtab *t, const void *key)
{
	return (size_t)gtab_hash(key, t->ksize, t->seed) & (t->cap - 1);
}

void *gtab_find(const struct gtab *t, const void *key)
{
	for (size_t i = home(t, key);; i = (i + 1) & (t->cap - 1)) {
		uint8_t *s = slot(t, i);
		if (!s[0])
			return NULL;
		if (!memcmp(s + 1, key, t->ksize))
			return s + 1;
	}
}

static int grow(struct gtab *t)
{
	struct gtab bigger = *t;
	bigger.cap = t->cap * 2;
	bigger.n = 0;
	if (!(bigger.slots = calloc(bigger.cap, 1 + t->esize)))
		return -1;
	for (size_t i = 0; i < t->cap; i++) {
		uint8_t *s = slot(t, i);
		if (!s[0])
			continue;
		size_t j = home(&bigger, s + 1);
		while (slot(&bigger, j)[0])
			j = (j + 1) & (bigger.cap - 1);
		memcpy(slot(&bigger, j), s, 1 + t->esize);
		bigger.n++;
	}
	free(t->slots);
	*t = bigger;
	return 0;
}

void *gtab_insert(struct gtab *t, const void *key, bool *created)
{
	*created = false;
	void *e = gtab_find(t, key);
	if (e)
		return e;
	if (t->max && t->n >= t->max)
		return NULL;
	/* Load factor at most 3/4: probe runs stay short. */
	if ((t->n + 1) * 4 > t->cap * 3 && grow(t) < 0)
		return NULL;
	size_t i = home(t, key);
	while (slot(t, i)[0])
		i = (i + 1) & (t->cap - 1);
	uint8_t *s = slot(t, i);
	s[0] = 1;
	memcpy(s + 1, key, t->ksize);
	memset(s + 1 + t->ksize, 0, t->esize - t->ksize);
	t->n++;
	*created = true;
	return s + 1;
}

/* Whether home position h lies cyclically in (from, to]. */
static bool between(size_t from, size_t h, size_t to)
{
	return from <= to ? (from < h && h <= to) : (from < h || h <= to);
}

void gtab_remove(struct gtab *t, void *entry)
{
	size_t hole = (size_t)((uint8_t *)entry - 1 - t->slots) / (1 + t->esize);
	slot(t, hole)[0] = 0;
	t->n--;
	/* Backward shift: pull later entries of the run into the hole when their home allows
	 * it, so that no lookup meets an empty slot before its entry. */
	for (size_t j = (hole + 1) & (t->cap - 1); slot(t, j)[0]; j = (j + 1) & (t->cap - 1)) {
		size_t h = home(t, slot(t, j) + 1);
		if (between(hole, h, j))
			continue;
		memcpy(slot(t, hole), slot(t, j), 1 + t->esize);
		slot(t, j)[0] = 0;
		hole = j;
	}
}

void *gtab_next(const struct gtab *t, size_t *pos)
{
	for (; *pos < t->cap; (*pos)++)
		if (slot(t, *pos)[0])
			return slot(t, (*pos)++) + 1;
	return NULL;
}

void gtab_next_after_remove(size_t *pos)
{
	(*pos)--;
}

void gtab_clear(struct gtab *t)
{
	memset(t->slots, 0, t->cap * (1 + t->esize));
	t->n = 0;
}
