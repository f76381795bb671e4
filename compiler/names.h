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

/* True when name (exact, normalized) is strictly below base: "a.b.c" is below "b.c". */
bool name_is_below(const char *name, const char *base);

#endif
