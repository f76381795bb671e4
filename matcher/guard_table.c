/* SPDX-License-Identifier: GPL-2.0-or-later */
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
	return t->slots + i * t->esize;
}

int gtab_init(struct gtab *t, size_t esize, size_t ksize, size_t max)
{
	*t = (struct gtab){ .cap = GTAB_MIN_CAP, .esize = esize, .ksize = ksize, .max = max };
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t ^ 0x9e3779b97f4a7c15ull;
	t->slots = calloc(t->cap, esize);
	t->used = calloc(t->cap, 1);
	if (t->slots && t->used)
		return 0;
	gtab_free(t);
	return -1;
}

void gtab_free(struct gtab *t)
{
	free(t->slots);
	free(t->used);
	t->slots = t->used = NULL;
	t->cap = t->n = 0;
}

static size_t home(const struct gtab *t, const void *key)
{
	return (size_t)gtab_hash(key, t->ksize, t->seed) & (t->cap - 1);
}

void *gtab_find(const struct gtab *t, const void *key)
{
	for (size_t i = home(t, key);; i = (i + 1) & (t->cap - 1)) {
		if (!t->used[i])
			return NULL;
		if (!memcmp(slot(t, i), key, t->ksize))
			return slot(t, i);
	}
}

static int grow(struct gtab *t)
{
	struct gtab bigger = *t;
	bigger.cap = t->cap * 2;
	bigger.n = 0;
	bigger.slots = calloc(bigger.cap, t->esize);
	bigger.used = calloc(bigger.cap, 1);
	if (!bigger.slots || !bigger.used) {
		gtab_free(&bigger);
		return -1;
	}
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->used[i])
			continue;
		size_t j = home(&bigger, slot(t, i));
		while (bigger.used[j])
			j = (j + 1) & (bigger.cap - 1);
		memcpy(slot(&bigger, j), slot(t, i), t->esize);
		bigger.used[j] = 1;
		bigger.n++;
	}
	free(t->slots);
	free(t->used);
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
	while (t->used[i])
		i = (i + 1) & (t->cap - 1);
	uint8_t *s = slot(t, i);
	t->used[i] = 1;
	memcpy(s, key, t->ksize);
	memset(s + t->ksize, 0, t->esize - t->ksize);
	t->n++;
	*created = true;
	return s;
}

/* Whether home position h lies cyclically in (from, to]. */
static bool between(size_t from, size_t h, size_t to)
{
	return from <= to ? (from < h && h <= to) : (from < h || h <= to);
}

void gtab_remove(struct gtab *t, void *entry)
{
	size_t hole = (size_t)((uint8_t *)entry - t->slots) / t->esize;
	t->used[hole] = 0;
	t->n--;
	/* Backward shift: pull later entries of the run into the hole when their home allows
	 * it, so that no lookup meets an empty slot before its entry. */
	for (size_t j = (hole + 1) & (t->cap - 1); t->used[j]; j = (j + 1) & (t->cap - 1)) {
		size_t h = home(t, slot(t, j));
		if (between(hole, h, j))
			continue;
		memcpy(slot(t, hole), slot(t, j), t->esize);
		t->used[hole] = 1;
		t->used[j] = 0;
		hole = j;
	}
}

void *gtab_next(const struct gtab *t, size_t *pos)
{
	for (; *pos < t->cap; (*pos)++)
		if (t->used[*pos])
			return slot(t, (*pos)++);
	return NULL;
}

void gtab_next_after_remove(size_t *pos)
{
	(*pos)--;
}

void gtab_clear(struct gtab *t)
{
	memset(t->used, 0, t->cap);
	t->n = 0;
}
