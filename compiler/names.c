/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "names.h"

#include <idn2.h>
#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unictype.h>
#include <unistr.h>

struct psl_ctx_st *names_psl_load(void)
{
	psl_ctx_t *latest = psl_latest(NULL);
	if (latest)
		return latest;
	/* The built-in list is static; hand out a private copy's equivalent by loading it
	 * from its file when possible, else refuse rather than return a non-freeable ctx. */
	return psl_load_file(psl_builtin_filename());
}

void names_psl_free(struct psl_ctx_st *psl)
{
	psl_free(psl);
}

static bool is_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static int fail(struct name_error *err, const char *msg, size_t offset)
{
	err->message = msg;
	err->offset = offset;
	return -1;
}

/* Checks LDH label rules on an ASCII, lower-case name (RFC 1123 §2.1, RFC 5891 for the
 * hyphens). base_offset maps offsets back to the user's text when it was not converted. */
static int check_labels(const char *name, size_t base_offset, bool mapped, struct name_error *err)
{
	size_t len = strlen(name);
	if (len == 0)
		return fail(err, "empty name", base_offset);
	if (len > NAME_MAX_LEN)
		return fail(err, "name longer than 253 characters", base_offset);
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && name[i] != '.') {
			if (!is_ldh((unsigned char)name[i]) && !(name[i] == '_' && i == start))
				return fail(err, name[i] == '*' ? "'*' is only allowed as the whole leftmost label"
								 : "invalid character in name (letters, digits and '-' only)",
					    base_offset + (mapped ? i : 0));
			continue;
		}
		size_t l = i - start;
		size_t at = base_offset + (mapped ? start : 0);
		if (l == 0)
			return fail(err, "empty label in name", at);
		if (l > LABEL_MAX_LEN)
			return fail(err, "label longer than 63 characters", at);
		if (name[start] == '-' || name[i - 1] == '-')
			return fail(err, "label starts or ends with '-'", at);
		start = i + 1;
	}
	return 0;
}

/* An A-label ("xn--...") must decode to a valid U-label: "xn--zz" is not punycode at all,
 * and a name that cannot be converted is an error (pinhole.rules(5)). */
static int check_alabels(const char *name, size_t base_offset, struct name_error *err)
{
	for (const char *label = name; label; label = strchr(label, '.'), label = label ? label + 1 : NULL) {
		if (strncmp(label, "xn--", 4))
			continue;
		const char *end = strchr(label, '.');
		size_t len = end ? (size_t)(end - label) : strlen(label);
		char one[LABEL_MAX_LEN + 1];
		memcpy(one, label, len);
		one[len] = '\0';
		char *ascii = NULL;
		int rc = idn2_to_ascii_8z(one, &ascii, IDN2_NONTRANSITIONAL);
		idn2_free(ascii);
		if (rc != IDN2_OK)
			return fail(err, rc == IDN2_PUNYCODE_BAD_INPUT ? "invalid punycode label (xn--...)" : idn2_strerror(rc),
				    base_offset + (size_t)(label - name));
	}
	return 0;
}

static bool is_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/* Converts a Unicode name to its A-label form with IDNA2008 + UTS #46 mapping, the rules
 * browsers use, so the name matches what appears in DNS and in a ClientHello. */
static int to_alabel(const char *in, char *out, struct name_error *err, size_t offset)
{
	char *ascii = NULL;
	int rc = idn2_to_ascii_8z(in, &ascii, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
	if (rc != IDN2_OK)
		return fail(err, idn2_strerror(rc), offset);
	if (strlen(ascii) > NAME_MAX_LEN) {
		idn2_free(ascii);
		return fail(err, "name longer than 253 characters", offset);
	}
	strcpy(out, ascii);
	idn2_free(ascii);
	return 0;
}

/* The common case in one pass: an ASCII name whose labels are all valid and none an A-label
 * ("xn--"), lowered into out. Returns false for anything else, which the full checks then
 * judge (and explain) from the start. */
static bool normalize_plain(const char *s, size_t n, char *out)
{
	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = i < n ? (unsigned char)s[i] : '.';
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + 32);
		if (c != '.') {
			if (!is_ldh(c) && !(c == '_' && i == start))
				return false;
			out[i] = (char)c;
			continue;
		}
		size_t l = i - start;
		if (l == 0 || l > LABEL_MAX_LEN || out[start] == '-' || out[i - 1] == '-' ||
		    (l >= 4 && !memcmp(out + start, "xn--", 4)))
			return false;
		if (i < n)
			out[i] = '.';
		start = i + 1;
	}
	out[n] = '\0';
	return true;
}

int name_normalize(const char *s, size_t n, char *out, enum name_kind *kind, struct name_error *err)
{
	size_t skip = 0;
	*kind = NAME_EXACT;
	if (n >= 2 && s[0] == '*' && s[1] == '.') {
		*kind = NAME_WILDCARD;
		skip = 2;
	} else if (n == 1 && s[0] == '*') {
		return fail(err, "a bare '*' matches every name; write the domain: *.example.com", 0);
	}
	const char *body = s + skip;
	size_t len = n - skip;
	if (len && body[len - 1] == '.')
		len--;	/* fully qualified form: the root is implied */
	if (normalize_plain(body, len, out))
		return 0;
	if (len > 4 * NAME_MAX_LEN)
		return fail(err, "name longer than 253 characters", skip);
	char buf[4 * NAME_MAX_LEN + 1];
	memcpy(buf, body, len);
	buf[len] = '\0';
	bool ascii = is_ascii(buf, len);
	if (ascii) {
		if (len > NAME_MAX_LEN)
			return fail(err, "name longer than 253 characters", skip);
		for (size_t i = 0; i < len; i++)
			out[i] = (buf[i] >= 'A' && buf[i] <= 'Z') ? (char)(buf[i] + 32) : buf[i];
		out[len] = '\0';
	} else if (to_alabel(buf, out, err, skip) < 0) {
		return -1;
	}
	if (check_labels(out, skip, ascii, err) < 0)
		return -1;
	return ascii ? check_alabels(out, skip, err) : 0;
}

bool name_is_public_suffix(const struct psl_ctx_st *psl, const char *base)
{
	if (!psl)
		return false;
	return psl_is_public_suffix2(psl, base, PSL_TYPE_ANY) != 0;
}

bool name_is_below(const char *name, const char *base)
{
	size_t n = strlen(name), b = strlen(base);
	return n > b + 1 && name[n - b - 1] == '.' && !memcmp(name + n - b, base, b);
}

bool name_is_listed_suffix(const struct psl_ctx_st *psl, const char *base)
{
	return psl && psl_is_public_suffix2(psl, base, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0;
}

/* Scripts that UTS #39 ("Highly Restrictive") lets one label combine: Latin with Han and
 * the Japanese kana, with Han and Bopomofo, or with Han and Hangul. */
static bool scripts_combine(const char *const *v, size_t n)
{
	static const char *const groups[3][4] = {
		{ "Latin", "Han", "Hiragana", "Katakana" },
		{ "Latin", "Han", "Bopomofo", NULL },
		{ "Latin", "Han", "Hangul", NULL },
	};
	for (size_t g = 0; g < 3; g++) {
		size_t in = 0;
		for (size_t i = 0; i < n; i++)
			for (size_t k = 0; k < 4; k++)
				in += groups[g][k] && !strcmp(v[i], groups[g][k]);
		if (in == n)
			return true;
	}
	return n <= 1;
}

/* The distinct scripts of the letters of label[0..n) (Common and Inherited characters,
 * digits and '-', belong to every script), at most max. */
static size_t label_scripts(const char *label, size_t n, const char **v, size_t max)
{
	size_t count = 0;
	for (size_t i = 0; i < n;) {
		ucs4_t uc;
		int len = u8_mbtouc(&uc, (const uint8_t *)label + i, n - i);
		i += len > 0 ? (size_t)len : 1;
		const uc_script_t *sc = uc_script(uc);
		if (!sc || !strcmp(sc->name, "Common") || !strcmp(sc->name, "Inherited"))
			continue;
		size_t k = 0;
		while (k < count && strcmp(v[k], sc->name))
			k++;
		if (k == count && count < max)
			v[count++] = sc->name;
	}
	return count;
}

bool name_mixed_script(const char *name, char *unicode, size_t ulen, char *scripts, size_t slen)
{
	if (!strstr(name, "xn--"))
		return false;
	char *u = NULL;
	if (idn2_to_unicode_8z8z(name, &u, 0) != IDN2_OK) {
		idn2_free(u);
		return false;
	}
	bool mixed = false;
	for (const char *label = u; label && !mixed;) {
		const char *end = strchr(label, '.');
		size_t n = end ? (size_t)(end - label) : strlen(label);
		const char *v[8];
		size_t count = label_scripts(label, n, v, 8);
		if (!scripts_combine(v, count)) {
			mixed = true;
			size_t at = (size_t)snprintf(scripts, slen, "%s", v[0]);
			for (size_t i = 1; i < count && at < slen; i++)
				at += (size_t)snprintf(scripts + at, slen - at, i + 1 == count ? " and %s" : ", %s", v[i]);
		}
		label = end ? end + 1 : NULL;
	}
	snprintf(unicode, ulen, "%s", u);
	idn2_free(u);
	return mixed;
}
