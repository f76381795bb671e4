/* SPDX-License-Identifier: GPL-2.0-or-later */
/* domset.h — compiled domain sets: exact names, wildcards and regexes, looked up by name.
 *
 * Semantics (DESIGN.md): "*.d" matches every name with one or more labels before d, at any
 * depth, never d itself; a bare d matches only d; matching is case-insensitive and ignores a
 * trailing dot; a regex matches when it matches the whole lower-case name.
 *
 * Exact names and wildcards live in one hash table keyed by label suffixes, so a lookup costs
 * at most one probe per label of the name, whatever the number of patterns. Regexes (PCRE2
 * with JIT) are tried only when no name matched, in the order they were added. */
#ifndef PINHOLE_DOMSET_H
#define PINHOLE_DOMSET_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "names.h"

enum domset_kind { DOMSET_EXACT, DOMSET_WILDCARD, DOMSET_REGEX };

/* One pattern of the set and where it was written. */
struct domset_elem {
	const char *text;	/* the name (a wildcard's base; borrowed) or the regex (the set's copy) */
	enum domset_kind kind;
	struct loc loc;		/* loc.file is borrowed: it must outlive the set */
};

struct domset;

/* Returns a new empty set (free with domset_free), NULL on ENOMEM. */
struct domset *domset_new(void);
void domset_free(struct domset *s);

/* Adds a normalized name (lower case, A-label, no trailing dot; a wildcard's base without
 * "*.") as pinhole's compiler produces it. The name is borrowed like loc.file (an IR's
 * names outlive the sets made of them; a copy of 100,000 was a tenth of a match run): it
 * must outlive the set. A repeat of a name of the same kind is ignored. Returns 0, or -1
 * on ENOMEM or when the set is already built. */
int domset_add_name(struct domset *s, const char *name, enum name_kind kind, struct loc loc);

/* Adds a PCRE2 pattern, anchored at both ends and caseless. Returns 0, or -1 with a static
 * or set-owned message in *why (a bad pattern, ENOMEM, or the set is already built). */
int domset_add_regex(struct domset *s, const char *pattern, struct loc loc, const char **why);

/* Freezes the set and builds its lookup tables. Returns 0, or -1 on ENOMEM. Lookups before
 * a successful build match nothing. */
int domset_build(struct domset *s);

/* Looks name[0..len) up (any case, trailing dot allowed, no NUL needed). Returns the element
 * that matched, owned by the set, or NULL. When several match, the exact name wins, then the
 * longest wildcard base, then the first regex added. Not safe to call from two threads at
 * once on a set with regexes (they share PCRE2 match data). */
const struct domset_elem *domset_match(struct domset *s, const char *name, size_t len);

/* The number of patterns added (names and regexes). */
size_t domset_count(const struct domset *s);

#endif
