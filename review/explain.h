/* SPDX-License-Identifier: GPL-2.0-or-later */
/* explain.h — "why is this allowed?": which rules, through which set elements, let an
 * address, an address and port, or a name through (pinhole explain). */
#ifndef PINHOLE_EXPLAIN_H
#define PINHOLE_EXPLAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

enum explain_kind { EXPLAIN_ADDRESS, EXPLAIN_NAME };

/* What is asked about: an address or a name, optionally with a port and a protocol. */
struct explain_target {
	enum explain_kind kind;
	struct addr addr;		/* EXPLAIN_ADDRESS */
	uint8_t family;
	char name[NAME_MAX_LEN + 1];	/* EXPLAIN_NAME: normalized (A-label, lower case) */
	bool has_port;
	uint16_t port;
	enum ast_proto proto;		/* PROTO_ANY when not given */
	/* The local end of the connection, when asked about (explain --local): the client of
	 * an out rule, the server of an in rule. Rules scoped to other hosts then do not
	 * allow. */
	bool has_local;
	uint8_t local_family;
	struct addr local_addr;
};

/* Parses "192.0.2.1", "192.0.2.1:25/tcp", "2001:db8::1", "[2001:db8::1]:443/tcp",
 * "ws1.marketo.com" or "ws1.marketo.com:443/tcp" (the protocol may be left out:
 * "host:443" then means tcp or udp). Returns 0, or -1 with a static English reason in *why. */
int explain_target_parse(const char *s, struct explain_target *t, const char **why);
/* Parses the local end ("10.0.0.9", "2001:db8::9") into t, which explain_target_parse
 * filled first. An address target and the local end must be of one family. Returns 0, or
 * -1 with a static English reason in *why. */
int explain_local_parse(const char *s, struct explain_target *t, const char **why);

/* The element of a set that holds the target. */
struct explain_element {
	enum { EXPLAIN_PREFIX, EXPLAIN_EXACT, EXPLAIN_WILDCARD, EXPLAIN_REGEX } kind;
	struct prefix prefix;		/* EXPLAIN_PREFIX: the aggregated prefix */
	const char *text;		/* names: the name (a wildcard's base); regex: the pattern */
	const struct loc *sources;	/* where the element(s) were written */
	size_t n_sources;
	const struct ir_record *alias;	/* EXPLAIN_EXACT: the record cname that made it a member */
};

/* How a rule's scope (allow out from @clients, allow in to @servers) bears on the answer. */
enum explain_scope {
	EXPLAIN_SCOPE_NONE,	/* the rule has none: any local host */
	EXPLAIN_SCOPE_UNASKED,	/* it has one and no local end was given: it allows only those hosts */
	EXPLAIN_SCOPE_IN,	/* the local end given is in it */
	EXPLAIN_SCOPE_OUT,	/* the local end given is not in it: the rule does not allow */
};

/* A set that holds the target, and the rules over it. */
struct explain_rule {
	const struct ir_rule *rule;
	/* The rule lets the target through: its protocol and ports fit (always true when the
	 * target has no port) and the local end, when given, is in its scope. Otherwise it is
	 * a near miss worth showing. */
	bool allows;
	bool ports_fit;
	enum explain_scope scope;
};

struct explain_hit {
	const struct ir_set *set;
	struct explain_element element;
	struct explain_rule *rules;	/* in the order written; none: no rule uses the set */
	size_t n_rules;
};

struct explanation {
	struct explain_target target;
	struct explain_hit *hits;	/* sets holding the target, in the order written */
	size_t n_hits;
	bool allowed;			/* some rule allows it */
	/* For a name: the first wildcard whose base is that very name, since "*.d" does not
	 * match d, which surprises people. NULL otherwise. */
	const struct ir_set *base_set;
	const struct ir_name *base_wildcard;
	struct arena arena;
};

/* Works out which sets hold t and which rules over them let it through. Returns the
 * explanation (free with explanation_free) or NULL on ENOMEM; *why then says so. */
struct explanation *policy_explain(const struct policy *p, const struct explain_target *t, const char **why);
void explanation_free(struct explanation *e);

#endif
