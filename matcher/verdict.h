/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verdict.h — a policy's answer for names seen on the wire: which `allow out` rule lets a
 * name (and a flow's protocol and port) through, and the set element that matched.
 *
 * Only `allow out` rules count: a name is a destination. One compiled domain set is built per
 * set that such a rule uses, however many rules use it. */
#ifndef PINHOLE_VERDICT_H
#define PINHOLE_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domset.h"
#include "policy.h"

struct verdict_table;

/* What allowed a name; both NULL on deny. */
struct verdict_hit {
	const struct ir_rule *rule;		/* the first allowing rule in file order */
	const struct domset_elem *elem;		/* the element of its set that matched */
};

/* Builds the table for p, which must outlive it. Returns NULL on ENOMEM, or when a regex of
 * p does not compile (then *why says why; it cannot happen for a policy policy_compile
 * accepted). */
struct verdict_table *verdict_table_new(const struct policy *p, const char **why);
/* The names and regexes of one IR set as a built domain set (caller frees with
 * domset_free), or NULL with *why set. */
struct domset *verdict_compile_set(const struct ir_set *set, const char **why);
void verdict_table_free(struct verdict_table *t);

/* Is name[0..len) allowed out by any rule, whatever the protocol and port? Fills *hit and
 * returns true when allowed. */
bool verdict_name(struct verdict_table *t, const char *name, size_t len, struct verdict_hit *hit);

/* Is a flow to name[0..len) with protocol proto (PROTO_TCP or PROTO_UDP) and destination
 * port allowed out? Fills *hit and returns true when allowed. */
bool verdict_flow(struct verdict_table *t, const char *name, size_t len, enum ast_proto proto, uint16_t port,
		  struct verdict_hit *hit);

#endif
