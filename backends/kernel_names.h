/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kernel_names.h — how pinhole names and marks the kernel objects it owns, in one place:
 * apply, show, remove and diff --live recognise by these what is pinhole's, and the guard
 * names its own chains by them. Kernel set names (NAME_v4, NAME_dns_v6, ...) are part of
 * the IR: kset_name in policy.h. */
#ifndef PINHOLE_KERNEL_NAMES_H
#define PINHOLE_KERNEL_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

/* The comment of a table pinhole owns (table mode), as nft_text writes it too. Apply and
 * remove refuse a table by that name without it, unless it is empty: the name alone does
 * not make a table pinhole's. */
#define NK_TABLE_COMMENT "managed by pinhole"

/* The longest comment nft keeps on a table, set, chain or rule, with its NUL. */
#define NK_COMMENT_MAX 128

/* The comment of a kernel set ("set NAME, FILE" with the rules file's base name, or the
 * learnt sets' text), sanitized, into buf of NK_COMMENT_MAX bytes; returns its length. */
size_t nk_set_comment(char *buf, const struct ir_set *s, enum kset_kind kind);

/* Whether a set with this name and comment is one pinhole made: its comment names the set
 * it came from (kset_name rules), as nk_set_comment writes it. */
bool nk_set_is_ours(const char *name, const char *comment);

/* pinhole guard's base chains in pinhole's table: guard_input, guard_forward,
 * guard_output, in the order of the hooks input, forward, output. Apply keeps them (they
 * are not stale chains of an older policy) and diff --live leaves them out. */
#define NK_GUARD_CHAINS 3
extern const char *const nk_guard_chain_names[NK_GUARD_CHAINS];
/* Whether name is one of nk_guard_chain_names. */
bool nk_is_guard_chain(const char *name);

#endif
