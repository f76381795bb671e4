/* diff_format.h — a policy diff as a reviewer reads it (text, markdown) or as a bot reads
 * it (json). The JSON schema is documented in pinhole(8) under DIFF and is stable: fields
 * are only ever added, and "format" goes up if one ever has to change meaning. */
#ifndef PINHOLE_DIFF_FORMAT_H
#define PINHOLE_DIFF_FORMAT_H

#include <stdbool.h>
#include <stdio.h>

#include "diff.h"

enum diff_format { DIFF_TEXT, DIFF_MARKDOWN, DIFF_JSON };

/* Parses "text", "markdown" or "json"; returns 0, or -1 for anything else. */
int diff_format_parse(const char *s, enum diff_format *out);

/* Writes d to out. color adds ANSI colours to the text format (the caller decides: only on
 * a terminal, never with NO_COLOR); the other formats ignore it. An empty diff still
 * writes its one-line summary ("no changes"). Returns 0, or -1 on a write error or ENOMEM. */
int diff_render(const struct policy_diff *d, enum diff_format format, bool color, FILE *out);

/* The one-line summary alone, e.g. "WIDENING: marketo_senders +1,024 IPv4 addresses; 1 rule
 * changed", into buf of size max (truncated, always NUL-terminated). Returns the length that
 * the whole line needs, like snprintf. */
size_t diff_summary(const struct policy_diff *d, char *buf, size_t max);

#endif
