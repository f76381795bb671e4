/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diff_internal.h — what diff.c, diff_sets.c and diff_rules.c share; not for other modules. */
#ifndef PINHOLE_DIFF_INTERNAL_H
#define PINHOLE_DIFF_INTERNAL_H

#include "diff.h"

/* Fills out->addresses, ->names, ->regexes and ->widening with what changes from old to
 * new; either may be NULL (a set added or removed). Allocates from d->arena. Returns 0,
 * or -1 on ENOMEM. */
int diff_set_content(struct policy_diff *d, const struct ir_set *old, const struct ir_set *new,
		     struct set_diff *out);

/* True when a and b hold the same addresses, names and regexes (locations aside). */
bool diff_set_same_content(const struct ir_set *a, const struct ir_set *b);

/* Pairs the rules of old and new and appends what changed to d->rules. old_set_map[i] is
 * the name that old->sets[i] has in the new policy (its own name, or its new name after a
 * rename). Returns 0, or -1 on ENOMEM. */
int diff_rules(struct policy_diff *d, const struct policy *old, const struct policy *new,
	       const char *const *old_set_map);

/* Adds 2^k (k 0..128) to c, saturating. */
void addr_count_add_pow2(struct addr_count *c, unsigned k);

/* Copies n elements of size elem from a vec into the arena; *out is NULL when n is 0.
 * Returns 0, or -1 on ENOMEM. */
int diff_arena_copy(struct arena *a, const struct vec *v, size_t elem, void **out);

#endif
