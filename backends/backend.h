/* SPDX-License-Identifier: GPL-2.0-or-later */
/* backend.h — the targets a policy compiles to. One file and one table row per target. */
#ifndef PINHOLE_BACKEND_H
#define PINHOLE_BACKEND_H

#include <stdbool.h>
#include <stdio.h>

#include "diag.h"
#include "policy.h"

struct backend_options {
	bool strict;	/* an approximation the target forces is an error, not a warning */
};

/* Where a backend that writes several files puts them. The caller owns the directory and
 * decides how files get there (pinhole compile writes each next to its place and renames
 * them all into place only when every backend succeeded; tests use memory streams). */
struct backend_dir {
	/* Returns a stream for the file called name (a plain file name, no '/') in the
	 * directory, or NULL with errno set. The stream belongs to the backend_dir: the backend
	 * writes to it and never closes it. */
	FILE *(*open)(struct backend_dir *dir, const char *name);
};

struct backend {
	const char *name;
	const char *summary;
	/* Writes the policy for this target to out. Approximations and limits are reported to
	 * d. Returns 0, or -1 after reporting an error (or on a write error, errno set).
	 * NULL for a backend whose output is a directory. */
	int (*emit)(const struct policy *p, const struct backend_options *o, FILE *out, struct diags *d);
	/* The same for a target that loads several files: each one opened through dir.
	 * NULL for a single-file backend. */
	int (*emit_dir)(const struct policy *p, const struct backend_options *o, struct backend_dir *dir,
			struct diags *d);
};

/* The backend called name, or NULL. */
const struct backend *backend_find(const char *name);
/* Backends in table order, for help texts; NULL past the end. */
const struct backend *backend_at(size_t i);

/* Kernel set names (kset_name, kset_present) are part of the IR: see policy.h. */

/* Renders a rule's source for comments: "COMMENT (file:line)" or "file:line", cut to max
 * bytes and with '"' replaced, since nft and iptables comments cannot escape it. */
size_t rule_comment(const struct ir_rule *r, char *buf, size_t max);

/* Reports that a target cannot express part of the policy exactly: a warning, or an error
 * under --strict ("BACKEND: MESSAGE"). Returns -1 when it was an error, 0 otherwise. */
int backend_approximation(struct diags *d, const struct backend_options *o, const char *backend, struct loc loc,
			  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Neither iptables nor pf can match names: says so once per rule that relies on them,
 * naming where the guard puts the learnt addresses ("ipsets %s, %s", "persist tables
 * <%s> and <%s>": a format with the two kernel set names). Returns -1 when --strict made
 * it an error. */
int backend_report_names(const struct policy *p, const struct backend_options *o, struct diags *d,
			 const char *backend, const char *holders_fmt);

/* Errors for kernel set names longer than the target allows (ipset 31, pf 31): what is
 * "iptables: ipset name" or "pf: table name"; static_suffix is added to the address sets'
 * names by the target (ipset's swap copies). One error per set, with the length to shorten
 * to. Returns -1 when there was one. */
int backend_check_kset_lengths(const struct policy *p, struct diags *d, const char *what, size_t max,
			       const char *static_suffix);

/* Replaces '"' and '\\' in s[0..len) with '\'': nft and iptables comments are quoted
 * strings without escapes, and file names and comments are user data. */
void comment_sanitize(char *s, size_t len);

extern const struct backend backend_nft;
extern const struct backend backend_json;
extern const struct backend backend_iptables;
extern const struct backend backend_pf;
extern const struct backend backend_squid;

#endif
