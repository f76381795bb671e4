/* SPDX-License-Identifier: GPL-2.0-or-later */
/* common.h — what several subcommands share: compiling a rules file with -D overrides,
 * rendering diagnostics, and writing output files atomically. */
#ifndef PINHOLE_CLI_COMMON_H
#define PINHOLE_CLI_COMMON_H

#include <stdbool.h>
#include <stdio.h>

#include "diag.h"
#include "policy.h"

#define MAX_DEFINES 64

struct defines {
	struct define_override v[MAX_DEFINES];
	size_t n;
};

/* Records "-D NAME=VALUE"; prints the problem and returns -1 when malformed. */
int cli_add_define(struct defines *defs, char *arg);

/* Reads the N of "--max-size N" for cmd ("diff"): characters, 0 for no limit. Prints the
 * problem and returns -1 when N is not a whole number. */
int cli_parse_max_size(const char *cmd, const char *arg, size_t *out);

/* Reads and compiles path. Returns the policy or NULL; diagnostics are in d, except a
 * file that cannot be read, which is reported there as an error too. */
struct policy *cli_compile(const char *path, const struct defines *defs, struct diags *d);

/* apply, guard and verify act on the customer's real values: prints every parameter that
 * is not set (file:line, name, description) and returns -1; 0 when all are set. */
int cli_require_params(const struct policy *p, const char *command);

/* Prints d to stderr; colour only on a terminal and when NO_COLOR is unset. */
void cli_render(const struct diags *d);

/* An output file written next to its destination and renamed into place on success, so
 * nobody ever sees a half-written file. path "-" or NULL is stdout. */
struct output {
	FILE *f;
	char *path;
	char *tmp;
};
int cli_output_open(struct output *o, const char *path);
/* Renames into place when ok (returns 0), removes the temporary file otherwise. */
int cli_output_close(struct output *o, bool ok);

/* -W ARG of check and compile (error, error=NAME, no-NAME, NAME) into d. Returns 0, or -1
 * after saying on stderr that ARG is not one. */
int cli_warning_option(struct diags *d, const char *arg);

/* --format text|json of cmd: sets *json. Returns 0, or -1 after saying on stderr that arg
 * is neither. */
int cli_format_json(const char *cmd, const char *arg, bool *json);

#endif
