/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "arena.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>

#define BLOCK_MIN (64 * 1024)

struct arena_block {
	struct arena_block *next;
	size_t used, size;
	alignas(max_align_t) unsigned char data[];
};

/* A large object gets a block of its own, from calloc: fresh pages come zeroed from the
 * kernel, so it is not written twice, and the current block keeps serving small ones. */
static void *alloc_own_block(struct arena *a, size_t size)
{
	struct arena_block *b = calloc(1, sizeof(*b) + size);
	if (!b)
		return NULL;
	b->used = b->size = size;
	if (a->head) {
		b->next = a->head->next;
		a->head->next = b;
	} else {
		a->head = b;
	}
	return b->data;
}

void *arena_alloc(struct arena *a, size_t size)
{
	size = (size + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
	if (size >= BLOCK_MIN / 4)
		return alloc_own_block(a, size);
	struct arena_block *b = a->head;
	if (!b || b->size - b->used < size) {
		b = malloc(sizeof(*b) + BLOCK_MIN);
		if (!b)
			return NULL;
		b->next = a->head;
		b->used = 0;
		b->size = BLOCK_MIN;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += size;
	memset(p, 0, size);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

void arena_free(struct arena *a)
{
	while (a->head) {
		struct arena_block *next = a->head->next;
		free(a->head);
		a->head = next;
	}
}

void *vec_push(struct vec *vec, size_t elem)
{
	if (vec->n == vec->cap) {
		size_t cap = vec->cap ? vec->cap * 2 : 8;
		void *grown = realloc(vec->v, cap * elem);
		if (!grown)
			return NULL;
		vec->v = grown;
		vec->cap = cap;
	}
	void *slot = (char *)vec->v + vec->n++ * elem;
	memset(slot, 0, elem);
	return slot;
}

int vec_reserve(struct vec *vec, size_t n, size_t elem)
{
	if (n <= vec->cap)
		return 0;
	void *grown = realloc(vec->v, n * elem);
	if (!grown)
		return -1;
	mem_advise_huge(grown, n * elem);
	vec->v = grown;
	vec->cap = n;
	return 0;
}

void vec_free(struct vec *vec)
{
	free(vec->v);
	*vec = (struct vec){ 0 };
}

void mem_advise_huge(void *p, size_t len)
{
	const uintptr_t huge = (uintptr_t)2 << 20;
	if (len < 2 * huge)
		return;
	uintptr_t start = ((uintptr_t)p + huge - 1) & ~(huge - 1);
	uintptr_t end = ((uintptr_t)p + len) & ~(huge - 1);
	if (end > start)
		madvise((void *)start, end - start, MADV_HUGEPAGE);
}
