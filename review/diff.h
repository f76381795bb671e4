/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diff.h — the semantic difference between two compiled policies (pinhole diff, diff --live,
 * apply --dry-run). A pure function of two IRs: text layout, element order, comments and
 * duplicates never show; what shows is what a packet would see differently.
 *
 * Either policy may come from the kernel instead of a rules file: locs whose file is NULL
 * are "unknown source" and are carried through as such (formatters omit them).
 *
 * The result is plain data, read by the formatters (backends/diff_format.h) and by anyone
 * who wants to look at it; it is owned by the diff object and freed with policy_diff_free.
 * Pointers into the two policies (names, patterns, file names, rules) stay valid only as
 * long as both policies do: free the diff first, or together with them. */
#ifndef PINHOLE_DIFF_H
#define PINHOLE_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/* A number of addresses, exact up to 2^128 - 1; saturated sets it to 2^128 - 1 and means
 * "at least that" (only reachable by adding ::/0 to a count). */
struct addr_count {
	uint64_t hi, lo;
	bool saturated;
};

/* One prefix of a change in coverage: added prefixes are in the new policy and not in the
 * old one, removed ones the other way round. sources are the elements (of the new policy
 * for added prefixes, of the old one for removed) that wrote the aggregated prefix it was
 * cut from; a loc with a NULL file means the source is unknown (e.g. the kernel). */
struct diff_prefix {
	struct prefix prefix;
	const struct loc *sources;
	size_t n_sources;
};

/* A name added or removed: exact or wildcard, as in struct ir_name. */
struct diff_name {
	const char *name;		/* normalized; a wildcard's base domain */
	enum name_kind kind;
	struct loc loc;
	/* For an added wildcard: the exact names of the old set it covers (now redundant).
	 * For a removed exact name: nothing. */
	const char **covers;
	size_t n_covers;
	/* For an added exact name: a wildcard of the new set that already matched it, so it
	 * opens nothing new; for a removed exact name: a wildcard that still matches it. NULL
	 * otherwise. Base domain, without "*.". */
	const char *covered_by;
};

struct diff_regex {
	const char *pattern;
	struct loc loc;
};

/* Both directions of a change of one kind: added[0..n_added), removed[0..n_removed). */
struct diff_prefixes {
	struct diff_prefix *added, *removed;	/* IPv4 first, then IPv6, each ascending */
	size_t n_added, n_removed;
	struct addr_count added_v4, added_v6, removed_v4, removed_v6;
};

struct diff_names {
	struct diff_name *added, *removed;	/* sorted by name, exact before wildcard */
	size_t n_added, n_removed;
};

struct diff_regexes {
	struct diff_regex *added, *removed;	/* sorted by pattern */
	size_t n_added, n_removed;
};

enum set_change {
	SET_CHANGED,	/* same name, different content */
	SET_ADDED,	/* only in the new policy: everything in it is "added" */
	SET_REMOVED,	/* only in the old policy: everything in it is "removed" */
	SET_RENAMED,	/* same content under a new name; nothing else changed */
};

struct set_diff {
	enum set_change change;
	const char *name;		/* the new name; the old one for SET_REMOVED */
	const char *old_name;		/* for SET_RENAMED: the name it had; else NULL */
	struct loc loc;			/* where the set is written (new policy; old for removed) */
	struct loc old_loc;		/* where it was written in the old policy (file NULL if added) */
	bool used;			/* some rule of the policy it lives in refers to it */
	bool widening;			/* it now holds an address, name or regex it did not */
	struct diff_prefixes addresses;
	struct diff_names names;
	struct diff_regexes regexes;
};

enum rule_change {
	RULE_ADDED,
	RULE_REMOVED,
	RULE_CHANGED,	/* paired up by set (renames followed), see policy_diff_compute */
};

/* What differs in a changed rule. */
enum {
	RULE_DIFF_DIRECTION = 1 << 0,
	RULE_DIFF_PROTOCOL = 1 << 1,
	RULE_DIFF_PORTS = 1 << 2,
	RULE_DIFF_SCOPE = 1 << 3,	/* the clients (out from @X) or servers (in ... to @X) */
};

struct rule_diff {
	enum rule_change change;
	const struct ir_rule *old_rule;	/* NULL for RULE_ADDED */
	const struct ir_rule *new_rule;	/* NULL for RULE_REMOVED */
	unsigned what;			/* RULE_DIFF_* bits, for RULE_CHANGED */
	/* The change lets traffic through that the old rule did not: a new rule, a new
	 * direction, a protocol or port it did not allow. */
	bool widening;
	/* For RULE_CHANGED with RULE_DIFF_PORTS: ports allowed now and not before, and the
	 * other way round (same-protocol view; empty when either side allows every port). */
	struct port_range *ports_added, *ports_removed;
	size_t n_ports_added, n_ports_removed;
};

struct policy_diff {
	/* Labels for the two sides, for headers ("rules/x.rules", "git:HEAD:rules/x.rules",
	 * "kernel"); "old" and "new" until policy_diff_label sets them. */
	const char *old_label, *new_label;
	/* Non-NULL when the table name changed (both set) or the priority changed. */
	const char *old_table, *new_table;
	bool priority_changed;
	int old_priority, new_priority;
	bool mode_changed;		/* option mode: table / sets-only */
	enum policy_mode old_mode, new_mode;
	/* option default_deny interfaces added and removed. Removing one widens: traffic there
	 * that no rule allows is no longer dropped. */
	const char **deny_added, **deny_removed;
	size_t n_deny_added, n_deny_removed;
	/* Interfaces on both sides whose refusal changed (option default_deny IFNAME reject):
	 * deny_rejects[i] is the new side's (true: reset / ICMP prohibited; false: silent
	 * drop). Never widening: what is refused stays refused, only how changes. */
	const char **deny_changed;
	bool *deny_rejects;
	size_t n_deny_changed;
	struct set_diff *sets;		/* in the new policy's order, then removed sets in old order */
	size_t n_sets;
	struct rule_diff *rules;	/* changed and added in new order, then removed in old order */
	size_t n_rules;
	bool widening;			/* any set or rule diff widens, or a default_deny went */
	struct arena arena;		/* owns everything above that does not point into a policy */
};

/* Computes what changes when old is replaced by new. Sets are matched by name; a set that
 * disappears while a set with exactly the same content appears is a rename. Rules are
 * paired first when identical, then by (direction, set, protocol), (direction, set),
 * (set, protocol, ports), and last by set alone; what stays unpaired is added or removed.
 * Returns the diff (free with policy_diff_free) or NULL on ENOMEM. */
struct policy_diff *policy_diff_compute(const struct policy *old, const struct policy *new);

/* Sets the labels shown in headers; both strings are copied. Returns 0, -1 on ENOMEM. */
int policy_diff_label(struct policy_diff *d, const char *old_label, const char *new_label);

/* "table" or "sets-only", as the rules language writes the mode. */
const char *policy_mode_name(enum policy_mode m);

/* True when nothing a packet could see differs (exit status 0 of pinhole diff). */
bool policy_diff_empty(const struct policy_diff *d);

/* True when the new policy lets through something the old one did not. */
bool policy_diff_widens(const struct policy_diff *d);

/* NULL-safe. */
void policy_diff_free(struct policy_diff *d);

/* Adds the number of addresses in p to c, saturating. */
void addr_count_add_prefix(struct addr_count *c, const struct prefix *p);

/* Formats a count as a reviewer reads it: "1,024" up to 2^64 - 1, "2^N" for a larger power
 * of two, "~2^N.N" otherwise. buf needs ADDR_COUNT_TEXT_MAX bytes; returns the length. */
#define ADDR_COUNT_TEXT_MAX 48
size_t addr_count_format(char *buf, const struct addr_count *c);

/* The exact decimal value (up to 39 digits), for machines. Same buffer size. */
size_t addr_count_decimal(char *buf, const struct addr_count *c);

#endif
