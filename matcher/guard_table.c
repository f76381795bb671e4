/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_table.c — open addressing, linear probing, backward-shift deletion. */
#include "guard_table.h"

#include <stdint.h>
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

/* Slots of the old table looked at per insert while the table grows: the old table is
 * empty before the new one is three quarters full (it holds half as many slots). */
#define GTAB_MOVE_STEP 8

static uint8_t *slot(const struct gtab *t, size_t i)
{
	return t->slots + i * t->esize;
}

static uint8_t *old_slot(const struct gtab *t, size_t i)
{
	return t->old.slots + i * t->esize;
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

static void old_free(struct gtab *t)
{
	free(t->old.slots);
	free(t->old.used);
	t->old = (struct gtab_part){ 0 };
	t->moved = 0;
}

void gtab_free(struct gtab *t)
{
	free(t->slots);
	free(t->used);
	old_free(t);
	t->slots = t->used = NULL;
	t->cap = t->n = 0;
}

static size_t home_in(const struct gtab *t, size_t cap, const void *key)
{
	return (size_t)gtab_hash(key, t->ksize, t->seed) & (cap - 1);
}

static size_t home(const struct gtab *t, const void *key)
{
	return home_in(t, t->cap, key);
}

static void *find_new(const struct gtab *t, const void *key)
{
	for (size_t i = home(t, key);; i = (i + 1) & (t->cap - 1)) {
		if (!t->used[i])
			return NULL;
		if (!memcmp(slot(t, i), key, t->ksize))
			return slot(t, i);
	}
}

/* Moved slots do not end a probe run there: the entries after them are still found. */
static void *find_old(const struct gtab *t, const void *key)
{
	if (!t->old.n)
		return NULL;
	for (size_t i = home_in(t, t->old.cap, key);; i = (i + 1) & (t->old.cap - 1)) {
		if (!t->old.used[i])
			return NULL;
		if (t->old.used[i] == 1 && !memcmp(old_slot(t, i), key, t->ksize))
			return old_slot(t, i);
	}
}

void *gtab_find(const struct gtab *t, const void *key)
{
	void *e = find_new(t, key);
	return e ? e : find_old(t, key);
}

/* Puts a copy of entry e (its key absent) into the new table; returns its place. */
static uint8_t *place(struct gtab *t, const void *e)
{
	size_t i = home(t, e);
	while (t->used[i])
		i = (i + 1) & (t->cap - 1);
	t->used[i] = 1;
	memcpy(slot(t, i), e, t->esize);
	return slot(t, i);
}

/* Moves the entries of up to step more slots of the old table; frees it when done. */
static void move_some(struct gtab *t, size_t step)
{
	for (; t->old.slots && step && t->moved < t->old.cap; step--, t->moved++) {
		if (t->old.used[t->moved] != 1)
			continue;
		place(t, old_slot(t, t->moved));
		t->old.used[t->moved] = 2;
		t->old.n--;
	}
	if (t->old.slots && (t->moved == t->old.cap || t->old.n == 0))
		old_free(t);
}

/* Starts growing: the table becomes the old one, a new one of twice the size takes its
 * place. A previous growth still going on is finished first. */
static int grow(struct gtab *t)
{
	uint8_t *slots = calloc(t->cap * 2, t->esize), *used = calloc(t->cap * 2, 1);
	if (!slots || !used) {
		free(slots);
		free(used);
		return -1;
	}
	move_some(t, SIZE_MAX);
	t->old = (struct gtab_part){ .used = t->used, .slots = t->slots, .cap = t->cap, .n = t->n };
	t->moved = 0;
	t->slots = slots;
	t->used = used;
	t->cap *= 2;
	return 0;
}

void *gtab_insert(struct gtab *t, const void *key, bool *created)
{
	*created = false;
	move_some(t, GTAB_MOVE_STEP);
	void *e = gtab_find(t, key);
	if (e)
		return e;
	if (t->max && t->n >= t->max)
		return NULL;
	/* Load factor at most 3/4, the old table's entries counted: probe runs stay short. */
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
	if (t->old.slots && (uint8_t *)entry >= t->old.slots && (uint8_t *)entry < t->old.slots + t->old.cap * t->esize) {
		t->old.used[(size_t)((uint8_t *)entry - t->old.slots) / t->esize] = 2;
		t->old.n--;
		t->n--;
		return;
	}
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
	/* Then what the old table still holds, at positions cap.. */
	for (; t->old.slots && *pos - t->cap < t->old.cap; (*pos)++)
		if (t->old.used[*pos - t->cap] == 1)
			return old_slot(t, (*pos)++ - t->cap);
	return NULL;
}

void gtab_next_after_remove(size_t *pos)
{
	(*pos)--;
}

void gtab_clear(struct gtab *t)
{
	memset(t->used, 0, t->cap);
	old_free(t);
	t->n = 0;
}
