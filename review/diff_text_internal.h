/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diff_text_internal.h — pieces the diff formatters share (diff_format.c, diff_markdown.c,
 * diff_json.c); not for other modules. */
#ifndef PINHOLE_DIFF_TEXT_H
#define PINHOLE_DIFF_TEXT_H

#include <stdbool.h>
#include <stdio.h>

#include "diff.h"

#define DIFF_LINE_MAX 1024

/* "file:12" or "file:12,14" (several lines of one file), "a:1, b:2" across files, "+N"
 * past max; locs without a file are left out (an empty string when none has one). */
size_t diff_sources_text(const struct loc *v, size_t n, char *buf, size_t max);

/* A rule as the rules language writes it: "allow in from @set tcp port { 25, 587 }". */
size_t diff_rule_text(const struct ir_rule *r, char *buf, size_t max);

/* Ports as written in a rule: "25", "{ 25, 587 }", "{ 1000-2000 }"; "any" for none. */
size_t diff_ports_text(const struct port_range *v, size_t n, char *buf, size_t max);

/* A name as written: "*.base" for a wildcard. */
size_t diff_name_text(const struct diff_name *n, char *buf, size_t max);

/* "changed", "added", "removed", "renamed". */
const char *diff_set_change_word(enum set_change c);
const char *diff_rule_change_word(enum rule_change c);

/* How a default_deny interface now refuses, reject being the new side's flag:
 * "drop -> reject (TCP reset, ICMP administratively prohibited)" or "reject -> drop (silent)". */
const char *diff_deny_how_text(bool reject);

/* "ports", "protocol and ports", "direction": what a changed rule changed. */
size_t diff_rule_what_text(unsigned what, char *buf, size_t max);

/* One set's change in counts: "+1,024 -256 IPv4 addresses, +1 name" (empty for a rename). */
size_t diff_set_counts_text(const struct set_diff *sd, char *buf, size_t max);

/* Writes the body lines of one set's change or of one rule's change, each starting with
 * indent then '+', '-' or ' ', aligned in columns. Used by the text format (with colour)
 * and by markdown (inside ```diff blocks, without). Returns 0 or -1 on ENOMEM. */
int diff_write_set_lines(const struct set_diff *sd, const char *indent, bool color, FILE *out);
int diff_write_rule_lines(const struct rule_diff *rd, const char *indent, bool color, FILE *out);

/* The markdown format, shortened to max characters (0: never), see diff_style. */
int diff_render_markdown(const struct policy_diff *d, size_t max, FILE *out);
/* The json format. */
int diff_render_json(const struct policy_diff *d, FILE *out);

#endif
