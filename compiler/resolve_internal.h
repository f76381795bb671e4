/* SPDX-License-Identifier: GPL-2.0-or-later */
/* resolve_internal.h — internal to the compiler: AST → IR. policy.h is the public face. */
#ifndef PINHOLE_RESOLVE_H
#define PINHOLE_RESOLVE_H

#include "policy.h"

enum flat_kind { FLAT_NAME, FLAT_REGEX };

/* A name or regex element after includes and defines are expanded. Addresses go
 * straight into the set's packed lists instead: a set may hold millions of them. */
struct flat_elem {
	enum flat_kind kind;
	bool included;	/* came through an @include: the included set reports its problems */
	uint32_t line, col;	/* where it was written, in the resolver's file */
	union {
		struct {
			const char *name;
			enum name_kind name_kind;
		};
		const char *pattern;
	};
};

enum visit { UNVISITED, VISITING, DONE };

struct set_work {
	const struct ast_set *ast;
	struct loc loc;
	const char *name;
	enum visit state;
	struct vec flat;	/* struct flat_elem: names and regexes */
	struct cidr_v4_list v4;		/* IPv4 addresses, packed; a tag is the line that wrote it */
	struct cidr_list ranges;	/* IPv6 addresses, tagged the same way */
	size_t n_elements;	/* everything expanded, for "set is empty" */
	bool failed;		/* had an element error: silence follow-on errors */
	bool used;		/* a rule or another set refers to it */
};

struct define_work {
	const char *name;
	struct loc loc;
	const char *value;	/* as written (or from -D) */
	uint32_t value_tok;
	bool from_command_line;	/* or an included file: judged where it is used */
	bool used;
	bool is_param;		/* a 'param': value starts as the example */
	bool supplied;		/* a param's value came from -D or an included file */
	const char *description;	/* a param's */
};

#define RESOLVE_MAX_PRIVATE_SUFFIXES 16

struct resolver {
	const struct ast_file *ast;
	struct diags *d;
	struct policy *p;
	const char *file;	/* the policy's copy, for IR locs */
	struct set_work *sets;
	size_t n_sets;
	struct define_work *defines;
	size_t n_defines;
	const struct compile_request *req;
	struct arena scratch;	/* what lives only while resolving: the names as written */
	struct psl_ctx_st *psl;	/* loaded on the first wildcard */
	bool psl_tried;
	bool value_from_cli;	/* judging a -D value: its problems point at the $NAME as a whole */
	const char *private_suffixes[RESOLVE_MAX_PRIVATE_SUFFIXES];	/* option private_suffix */
	size_t n_private_suffixes;
	bool oom;
};

struct loc resolver_loc(const struct resolver *r, uint32_t tok);
struct set_work *resolver_find_set(struct resolver *r, const char *name, size_t len);
struct define_work *resolver_find_define(struct resolver *r, const char *name, size_t len);
/* A new define (or param) named by name_tok, pushed on defs; NULL after reporting a second
 * definition of the name ("<what>'NAME' is defined twice") or on ENOMEM (r->oom). */
struct define_work *resolver_new_define(struct resolver *r, uint32_t name_tok, const char *what, struct vec *defs);
/* Adds "did you mean 'x'?" when a known name is close to the unknown one; returns whether
 * it did. */
bool resolver_hint_similar(struct resolver *r, const char *unknown, size_t len, bool sets);

/* An address element wider than this prefix length (more addresses than a /8 of IPv4, a
 * /16 of IPv6) draws the wide-prefix warning; documented in pinhole.rules(5), WARNINGS. */
#define WIDE_PREFIX_V4 8
#define WIDE_PREFIX_V6 16

/* resolve_check.c. Reports a word that is a likely mistake for a name or address (a URL,
 * host:port, Squid's ".example.com") with the fix; true when it did. */
bool resolve_check_element_form(struct resolver *r, const char *s, size_t n, struct loc loc);
/* Explains why the address starting at s[from] (up to a '/' or '-') is not one, pointing
 * at the bad octet, group or "::". loc is where s starts. */
void resolve_explain_bad_address(struct resolver *r, const char *s, size_t n, size_t from, struct loc loc);
/* Warns about an address element that is (nearly) every address or IPv4-mapped IPv6. */
void resolve_check_range(struct resolver *r, const char *s, size_t n, const struct addr_range *rg, struct loc loc);
/* Warns when the compiled regex (a pcre2_code) matches every name or any name under a
 * top-level or public suffix, found by matching probe names no one registers. */
void resolve_check_regex(struct resolver *r, const void *code, const char *pattern, struct loc loc);
/* The offset of the '(' left open in regex p[0..n), or fallback when none is found. */
size_t regex_unclosed_paren(const char *p, size_t n, size_t fallback);

/* Expands set w's elements (recursively through @includes) into w->flat and w->ranges. */
void resolve_set_elements(struct resolver *r, struct set_work *w);
/* Builds the IR set from w->flat, w->v4 and w->ranges: aggregation, name normalization,
 * redundancy. Consumes w->v4 (freed) and w->ranges (reordered by the aggregation). */
int resolve_set_build(struct resolver *r, struct set_work *w, struct ir_set *out);

/* resolve_record.c: parameters, includes and DNS records. */
/* Collects a 'param' statement as a define whose value is the example. */
void resolve_param_collect(struct resolver *r, const struct ast_stmt *s, struct vec *defs);
/* Follows the include statements: their defines set parameters and defines. */
void resolve_includes(struct resolver *r);
/* Builds p->params and p->records, and adds each CNAME alias to the sets that hold its
 * target. Needs the sets built. */
void resolve_records(struct resolver *r);
/* Warns about each parameter that runs on its example. */
void resolve_params_warn(struct resolver *r);

#endif
