/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diag.h — compiler diagnostics: collected by every stage, rendered once by the CLI. */
#ifndef PINHOLE_DIAG_H
#define PINHOLE_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Where something was written. file points to a string owned by whoever owns the
 * object carrying the loc (the diags, the policy); line and col are 1-based, col in bytes. */
struct loc {
	const char *file;
	unsigned line;
	unsigned col;
};

enum severity { SEV_ERROR, SEV_WARNING, SEV_NOTE };

struct diag {
	enum severity severity;
	struct loc loc;
	char *message;
	char *hint;	/* "did you mean ...?"; NULL when there is no likely fix */
	const char *name;	/* a warning's stable name (-W no-NAME), static; NULL if unnamed */
};

/* Errors past this many stop being recorded; one run still shows the first ones. */
#define DIAG_MAX_ERRORS 50

struct diags;

/* Returns a new empty list (owned by the caller, free with diags_free), NULL on ENOMEM. */
struct diags *diags_new(void);
void diags_free(struct diags *d);

/* Registers a source text so diagnostics can quote its lines. Returns the interned file
 * name to use in locs (owned by d), NULL on ENOMEM. The text is copied. */
const char *diags_add_source(struct diags *d, const char *file, const char *text, size_t len);

/* The same, taking ownership of text (malloc'd, NUL-terminated at len) instead of copying
 * it, so a large input is held once. Returns NULL, leaving text the caller's, when file is
 * already registered or on ENOMEM. */
const char *diags_adopt_source(struct diags *d, const char *file, char *text, size_t len);

/* Records a diagnostic at loc. Never fails visibly: on ENOMEM it is counted, not stored. */
void diag_error(struct diags *d, struct loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void diag_warning(struct diags *d, struct loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void diag_note(struct diags *d, struct loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Records a named warning (one of diag_warning_names; -W NAME options apply). */
void diag_warn(struct diags *d, const char *name, struct loc loc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Attaches a hint to the most recent diagnostic. */
void diag_hint(struct diags *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

size_t diags_count(const struct diags *d);
const struct diag *diags_get(const struct diags *d, size_t i);
size_t diags_errors(const struct diags *d);
size_t diags_warnings(const struct diags *d);
/* True when the error cap was reached and parsing should stop. */
bool diags_full(const struct diags *d);
/* Turns every warning into an error (check -W error). */
void diags_promote_warnings(struct diags *d);

/* The stable warning names, NULL-terminated, for help texts and pinhole.rules(5). */
extern const char *const diag_warning_names[];

/* Applies one -W option before anything is recorded: "error" (every warning is an error),
 * "error=NAME", "no-error=NAME", "no-NAME" (not reported) or "NAME" (reported again).
 * Returns 0, or -1 for an unknown option or name. */
int diags_warning_option(struct diags *d, const char *opt);

/* Length of the valid UTF-8 sequence at s[0..n) and its code point in *cp, or 0 when the
 * first byte does not start one (overlong forms, surrogates, values past U+10FFFF). */
size_t utf8_char(const unsigned char *s, size_t n, uint32_t *cp);

/* Writes every diagnostic compiler-style: "file:line:col: error: msg", the source line,
 * a caret under the column and the hint. color adds ANSI colours. */
void diags_render(const struct diags *d, FILE *out, bool color);

#endif
