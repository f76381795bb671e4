/* SPDX-License-Identifier: GPL-2.0-or-later */
/* names.h — DNS names as the rules language writes them: exact names and wildcards. */
#ifndef PINHOLE_NAMES_H
#define PINHOLE_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#define NAME_MAX_LEN 253	/* RFC 1035 §2.3.4, in text form without the trailing dot */
#define LABEL_MAX_LEN 63

enum name_kind {
	NAME_EXACT,	/* matches only itself */
	NAME_WILDCARD,	/* "*.d": every name strictly below d, at any depth */
};

struct name_error {
	const char *message;	/* static English text */
	size_t offset;		/* byte offset in the input of the problem */
};

struct psl_ctx_st;

/* Loads the public suffix list (the system's newest, else libpsl's built-in one).
 * Returns NULL when neither is available. Free with names_psl_free. */
struct psl_ctx_st *names_psl_load(void);
void names_psl_free(struct psl_ctx_st *psl);

/* Normalizes s[0..n): A-label (punycode) form for Unicode labels, lower case, trailing dot
 * dropped, label syntax and lengths checked. "*." as the whole leftmost label makes a
 * wildcard; out receives the base name without "*.". out needs NAME_MAX_LEN + 1 bytes.
 * Returns 0, or -1 with *err filled. */
int name_normalize(const char *s, size_t n, char *out, enum name_kind *kind, struct name_error *err);

/* True when base (normalized) is a public suffix, so "*.base" would open a whole TLD
 * or a shared-hosting domain. A NULL psl answers false. */
bool name_is_public_suffix(const struct psl_ctx_st *psl, const char *base);

/* True when base is on the public suffix list itself, not public only through the list's
 * default rule "*" (which makes every unlisted top-level name, like "lan", a suffix). */
bool name_is_listed_suffix(const struct psl_ctx_st *psl, const char *base);

/* True when a label of name (normalized A-label form) mixes the letters of scripts that
 * are not written together (Unicode script data; the combinations of UTS #39's "highly
 * restrictive" level are allowed), as look-alike names do ("mаrketo" with a Cyrillic
 * 'а'). Then unicode (ulen bytes) gets the name's Unicode form and scripts (slen bytes)
 * the scripts, e.g. "Latin and Cyrillic". */
bool name_mixed_script(const char *name, char *unicode, size_t ulen, char *scripts, size_t slen);

/* True when name (exact, normalized) is strictly below base: "a.b.c" is below "b.c". */
bool name_is_below(const char *name, const char *base);

#endif
