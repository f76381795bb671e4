#include "names.h"

#include <idn2.h>
#include <libpsl.h>
#include <stdlib.h>
#include <string.h>

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
	return check_labels(out, skip, ascii, err);
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
