/* SPDX-License-Identifier: GPL-2.0-or-later */
/* arena.h — bump allocation for objects that live and die together (an AST, a policy). */
#ifndef PINHOLE_ARENA_H
#define PINHOLE_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head;
};

/* Returns zeroed memory aligned for any object, owned by the arena; NULL on ENOMEM. */
void *arena_alloc(struct arena *a, size_t size);
/* Copies s[0..n) and a NUL into the arena; NULL on ENOMEM. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
/* Frees every block; the arena is then empty and reusable. */
void arena_free(struct arena *a);

/* Asks the kernel to back a large buffer with huge pages (transparent huge pages in
 * "madvise" mode, the Debian default): a million-element array then costs a few hundred
 * page faults instead of tens of thousands. A hint only; small buffers are left alone. */
void mem_advise_huge(void *p, size_t len);

/* A growable array whose storage is malloc'd (not arena) because it is resized. */
struct vec {
	void *v;
	size_t n, cap;
};
/* Appends one element of size elem; returns a pointer to it (zeroed) or NULL on ENOMEM. */
void *vec_push(struct vec *vec, size_t elem);
/* Makes room for at least n elements in total; returns 0 or -1 on ENOMEM. */
int vec_reserve(struct vec *vec, size_t n, size_t elem);
void vec_free(struct vec *vec);

#endif
