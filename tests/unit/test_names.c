#include <criterion/criterion.h>
#include <string.h>

#include "names.h"

static int norm(const char *in, char *out, enum name_kind *kind, struct name_error *err)
{
	return name_normalize(in, strlen(in), out, kind, err);
}

Test(names, lower_cases_and_drops_trailing_dot)
{
	char out[NAME_MAX_LEN + 1];
	enum name_kind kind;
	struct name_error err;
	cr_assert_eq(norm("WWW.Marketo.COM.", out, &kind, &err), 0);
	cr_assert_str_eq(out, "www.marketo.com");
	cr_assert_eq(kind, NAME_EXACT);
}

Test(names, wildcard_keeps_base_only)
{
	char out[NAME_MAX_LEN + 1];
	enum name_kind kind;
	struct name_error err;
	cr_assert_eq(norm("*.MktoWeb.com", out, &kind, &err), 0);
	cr_assert_str_eq(out, "mktoweb.com");
	cr_assert_eq(kind, NAME_WILDCARD);
}

Test(names, unicode_becomes_a_label)
{
	char out[NAME_MAX_LEN + 1];
	enum name_kind kind;
	struct name_error err;
	cr_assert_eq(norm("Bücher.example", out, &kind, &err), 0);
	cr_assert_str_eq(out, "xn--bcher-kva.example");
	cr_assert_eq(norm("*.münchen.example", out, &kind, &err), 0);
	cr_assert_str_eq(out, "xn--mnchen-3ya.example");
	cr_assert_eq(kind, NAME_WILDCARD);
}

Test(names, rejects_bad_labels_with_offsets)
{
	char out[NAME_MAX_LEN + 1];
	enum name_kind kind;
	struct name_error err;
	cr_assert_eq(norm("a..b.com", out, &kind, &err), -1);
	cr_assert_eq(err.offset, 2);
	cr_assert_eq(norm("foo.*.com", out, &kind, &err), -1);
	cr_assert_eq(err.offset, 4);
	cr_assert_eq(norm("-a.com", out, &kind, &err), -1);
	cr_assert_eq(norm("a-.com", out, &kind, &err), -1);
	cr_assert_eq(norm("a_b.com", out, &kind, &err), -1);
	cr_assert_eq(err.offset, 1);
	cr_assert_eq(norm("*", out, &kind, &err), -1);
	cr_assert_eq(norm("", out, &kind, &err), -1);
	cr_assert_eq(norm("_dmarc.example.com", out, &kind, &err), 0);
}

Test(names, length_limits)
{
	char out[NAME_MAX_LEN + 1], in[400];
	enum name_kind kind;
	struct name_error err;
	memset(in, 'a', 63);
	strcpy(in + 63, ".com");
	cr_assert_eq(norm(in, out, &kind, &err), 0);
	memset(in, 'a', 64);
	strcpy(in + 64, ".com");
	cr_assert_eq(norm(in, out, &kind, &err), -1);
	/* 4 labels of 62 + 3 dots + ".com" = 255 > 253 */
	for (int i = 0; i < 4; i++) {
		memset(in + i * 63, 'b', 62);
		in[i * 63 + 62] = '.';
	}
	strcpy(in + 4 * 63, "com");
	cr_assert_eq(norm(in, out, &kind, &err), -1);
	cr_assert_str_eq(err.message, "name longer than 253 characters");
}

Test(names, public_suffixes)
{
	struct psl_ctx_st *psl = names_psl_load();
	cr_assert_not_null(psl, "the public suffix list (Debian package publicsuffix) is needed");
	cr_assert(name_is_public_suffix(psl, "com"));
	cr_assert(name_is_public_suffix(psl, "co.uk"));
	cr_assert(name_is_public_suffix(psl, "github.io"));
	cr_assert_not(name_is_public_suffix(psl, "marketo.com"));
	cr_assert_not(name_is_public_suffix(psl, "example.co.uk"));
	names_psl_free(psl);
}

Test(names, below)
{
	cr_assert(name_is_below("ws.marketo.com", "marketo.com"));
	cr_assert(name_is_below("a.b.marketo.com", "marketo.com"));
	cr_assert_not(name_is_below("marketo.com", "marketo.com"));
	cr_assert_not(name_is_below("notmarketo.com", "marketo.com"));
}
