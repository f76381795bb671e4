/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_table.h — the guard's hash tables: fixed-size entries that start with a fixed-size
 * key, open addressing with linear probing and backward-shift deletion (no tombstones, so
 * a table that sees millions of inserts and deletes does not slow down). Keys are hashed
 * with a per-table random seed: the addresses, names and ports in them come off the wire.
 *
 * A full table grows in steps: the entries move to one twice its size a few at each
 * insert, not all at once (copying a million entries would hold up the answers waiting in
 * the guard for tens of milliseconds). Meanwhile lookups look in both; the old table marks
 * the slots it gave up as moved, so that its probe runs stay whole. */
#ifndef PINHOLE_GUARD_TABLE_H
#define PINHOLE_GUARD_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gtab_part {
	uint8_t *used;		/* cap flags: 0 free, 1 in use, 2 moved (the old table only) */
	uint8_t *slots;		/* cap entries of esize bytes (a struct size: aligned) */
	size_t cap, n;
};

struct gtab {
	uint8_t *used;		/* the table: as in gtab_part */
	uint8_t *slots;
	size_t cap, n;		/* n: entries in all, the old table's too */
	struct gtab_part old;	/* while growing, what is left of the previous table */
	size_t moved;		/* the old table's slots looked at so far */
	size_t esize, ksize;	/* entry size; its first ksize bytes are the key */
	size_t max;		/* entries allowed (0: no limit) */
	uint64_t seed;
};

/* Sets t up for entries of esize bytes whose first ksize bytes are the key (padding inside
 * keys must be zeroed by the caller). Returns 0, or -1 on ENOMEM. */
int gtab_init(struct gtab *t, size_t esize, size_t ksize, size_t max);
void gtab_free(struct gtab *t);

/* The entry with key, or NULL. */
void *gtab_find(const struct gtab *t, const void *key);
/* The entry with key; a new one (zeroed past the key, *created true) when absent. NULL on
 * ENOMEM or when the table holds max entries already. It may move other entries: pointers
 * from earlier calls are stale after it (and after gtab_remove). */
void *gtab_insert(struct gtab *t, const void *key, bool *created);
/* Removes entry (a pointer gtab_find/insert/next returned). Entries after it in the same
 * probe run may move: during a walk, revisit the same slot (see gtab_next). */
void gtab_remove(struct gtab *t, void *entry);
/* Walks the table (both parts while it grows): *pos starts at 0; returns the next entry
 * or NULL at the end. After removing the entry just returned, call gtab_next_after_remove
 * to look at its slot again. An insert during a walk may move entries past or behind it. */
void *gtab_next(const struct gtab *t, size_t *pos);
void gtab_next_after_remove(size_t *pos);
/* Removes everything (keeps the capacity). */
void gtab_clear(struct gtab *t);

/* 64-bit hash of key[0..n) with seed: for the tables and for anyone needing one. */
uint64_t gtab_hash(const void *key, size_t n, uint64_t seed);

#endif
