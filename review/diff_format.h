/* SPDX-License-Identifier: GPL-2.0-or-later */
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

/* What a change-request comment takes: GitHub and GitLab refuse more than 65,536 characters. */
#define DIFF_MARKDOWN_MAX_DEFAULT 65000

/* How diff_render writes. */
struct diff_style {
	/* ANSI colours in the text format (the caller decides: only on a terminal, never with
	 * NO_COLOR); the other formats ignore it. */
	bool color;
	/* The markdown format's limit in characters (Unicode code points), 0 for none. A longer
	 * diff is shortened at row, block and line boundaries and says so in a note: what is left
	 * out and how to see it. The header, the note and the option rows are always written,
	 * so a limit smaller than they are is exceeded. The other formats are never shortened. */
	size_t markdown_max;
};

/* Writes d to out as style says. An empty diff still writes its one-line summary ("no
 * changes"). Returns 0, or -1 on a write error or ENOMEM. */
int diff_render(const struct policy_diff *d, enum diff_format format, const struct diff_style *style, FILE *out);

/* The one-line summary alone, e.g. "WIDENING: marketo_senders +1,024 IPv4 addresses; 1 rule
 * changed", into buf of size max (truncated, always NUL-terminated). Returns the length that
 * the whole line needs, like snprintf. */
size_t diff_summary(const struct policy_diff *d, char *buf, size_t max);

#endif
