/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy.h — the IR: a resolved, validated, normalized policy that every backend reads. */
#ifndef PINHOLE_POLICY_H
#define PINHOLE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "ast.h"
#include "cidr.h"
#include "diag.h"
#include "names.h"

/* An aggregated prefix and the elements that wrote it: set->origins[first .. first+count). */
struct ir_prefix {
	struct prefix prefix;
	uint32_t origin_first;
	uint32_t origin_count;
};

struct ir_record;

struct ir_name {
	const char *name;	/* A-label, lower case, no trailing dot; a wildcard's base domain */
	enum name_kind kind;
	struct loc loc;
	bool included;		/* came into this set through an @include */
	/* Set when the name is the customer's CNAME alias declared by a 'record cname'
	 * statement (loc is then the record's): allowed wherever its target is. */
	const struct ir_record *alias;
};

struct ir_regex {
	const char *pattern;	/* as written, matched against the whole lower-case name */
	struct loc loc;
	bool included;
};

struct ir_set {
	const char *name;
	struct loc loc;
	struct ir_prefix *v4, *v6;	/* aggregated, ascending */
	size_t n_v4, n_v6;
	struct loc *origins;		/* element locations referenced by the prefixes */
	size_t n_origins;
	struct ir_name *names;		/* sorted by name, then exact before wildcard */
	size_t n_names;
	struct ir_regex *regexes;	/* in order written */
	size_t n_regexes;
};

struct port_range {
	uint16_t lo, hi;
};

struct ir_rule {
	enum ast_dir dir;
	const struct ir_set *set;
	/* The local end's addresses: the clients of an "out" rule (source), the servers of an
	 * "in" rule (destination). NULL: any. Addresses only (the resolver refuses names). */
	const struct ir_set *scope;
	enum ast_proto proto;
	struct port_range *ports;	/* ascending, merged; none means every port */
	size_t n_ports;
	const char *comment;		/* NULL when none */
	struct loc loc;
};

/* param NAME "description" example VALUE: a value the customer must supply. */
struct ir_param {
	const char *name;
	const char *description;
	const char *example;	/* the vendor document's example */
	const char *value;	/* in use: the supplied value, else the example */
	bool supplied;		/* by -D or by a define in an included file */
	struct loc loc;
};

/* A DNS record the customer must publish, with the vendor's requirement (pinhole.rules(5),
 * RECORDS); pinhole verify checks it. */
struct ir_record {
	enum record_kind kind;
	const char *name;		/* normalized owner name */
	/* cname: the target (a wildcard's base when target_kind is NAME_WILDCARD), or NULL
	 * when the target is target_set; spf: the domain the record must include */
	const char *target;
	enum name_kind target_kind;
	const struct ir_set *target_set;	/* cname ... to @SET */
	const char *value;		/* dkim: the expected TXT value */
	struct loc loc;
};

enum policy_mode {
	POLICY_MODE_TABLE,	/* pinhole owns the whole table: sets, base chains, rules */
	POLICY_MODE_SETS_ONLY,	/* pinhole maintains only its sets, in a table the user made */
};
#define POLICY_MAX_DENY_IFACES 16

struct policy {
	const char *table;		/* nft table name (family inet) */
	int priority;			/* base chain priority */
	enum policy_mode mode;		/* option mode: who owns the table (pinhole(8) APPLY) */
	/* option default_deny IFNAME (repeatable): traffic through these interfaces that no
	 * rule allows is dropped; nft wildcards ("eth*") allowed. Table mode only. */
	const char *deny_ifaces[POLICY_MAX_DENY_IFACES];
	/* option default_deny IFNAME reject: refuse with a TCP reset (TCP) or ICMP/ICMPv6
	 * administratively prohibited (the rest) instead of dropping silently. */
	bool deny_reject[POLICY_MAX_DENY_IFACES];
	size_t n_deny_ifaces;
	/* option squid_tls_cert / squid_tls_key / squid_tls_port: the certificate (and key, when
	 * not in the same file) of the ssl-bump port the Squid backend writes, and that port
	 * ("3129", "192.0.2.1:3129"). No certificate: Squid checks no ServerName (SNI). */
	const char *squid_tls_cert, *squid_tls_key, *squid_tls_port;
	struct ir_set *sets;		/* in the order written */
	size_t n_sets;
	struct ir_rule *rules;		/* in the order written */
	size_t n_rules;
	struct ir_param *params;	/* in the order written */
	size_t n_params;
	struct ir_record *records;	/* in the order written */
	size_t n_records;
	struct arena arena;		/* owns everything above, file names included */
};

/* A -D NAME=VALUE override. */
struct define_override {
	const char *name;
	const char *value;
};

struct compile_request {
	const char *file;		/* for locs and messages */
	const char *text;
	size_t len;
	const struct define_override *defines;
	size_t n_defines;
	/* Reads an 'include'd file into a malloc'd NUL-terminated buffer the compiler then
	 * owns; returns 0, or -1 with errno set. NULL: include statements are not followed
	 * (a stored snapshot is compiled with its values as defines). */
	int (*read_include)(const char *path, char **text, size_t *len);
};

/* Parses and resolves one rules file. Every error and warning goes to d (the source is
 * registered there). Returns the policy (caller frees with policy_free) only when there
 * was no error; NULL otherwise, also on ENOMEM (reported as an error). */
struct policy *policy_compile(const struct compile_request *req, struct diags *d);
void policy_free(struct policy *p);

/* Kernel set names, documented in pinhole.rules(5): NAME_v4 / NAME_v6 hold the addresses
 * written in set NAME; NAME_dns_v4 / NAME_dns_v6 the addresses the guard learns for its
 * names. buf needs KSET_NAME_MAX bytes. */
enum kset_kind { KSET_V4, KSET_V6, KSET_DNS_V4, KSET_DNS_V6 };
#define KSET_NAME_MAX 80
void kset_name(char *buf, const struct ir_set *s, enum kset_kind kind);
/* Whether the set produces that kernel set at all. */
bool kset_present(const struct ir_set *s, enum kset_kind kind);

/* Whether a rule is written for its set's kernel set `kind`: the set has it, and the rule's
 * scope (if any) has addresses of the same family (a v6 destination with only v4 clients
 * can never match). */
bool rule_kset_used(const struct ir_rule *r, enum kset_kind kind);
/* The scope's kernel set that goes with the rule's kernel set `kind` (KSET_V4 or KSET_V6). */
enum kset_kind rule_scope_kset(enum kset_kind kind);

/* Where 'include "path"' in the file including points: path itself when absolute, else
 * relative to that file's directory, as a C compiler does. Returns a malloc'd string (NULL
 * on ENOMEM). */
char *policy_include_path(const char *including, const char *path);

/* The number of parameters that were not supplied (the example is in use): apply, guard
 * and verify refuse such a policy. */
size_t policy_unset_params(const struct policy *p);

/* Finds a set by name; NULL if absent. */
const struct ir_set *policy_find_set(const struct policy *p, const char *name);

/* The element comment for a prefix: "file:line" or "file:line,line,..." (truncated with
 * "+N" past max). Returns the length written into buf (of size max). */
size_t ir_prefix_sources(const struct ir_set *s, const struct ir_prefix *pr, char *buf, size_t max);

#endif
