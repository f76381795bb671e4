/* SPDX-License-Identifier: GPL-2.0-or-later */
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

Test(names, invalid_punycode_is_an_error)
{
	char out[NAME_MAX_LEN + 1];
	enum name_kind kind;
	struct name_error err;
	cr_assert_eq(name_normalize("www.xn--zz.example", 18, out, &kind, &err), -1);
	cr_assert_eq(err.offset, 4, "the offset is the bad label's");
	cr_assert_eq(name_normalize("XN--ZZ.example", 14, out, &kind, &err), -1);
	cr_assert_eq(name_normalize("xn--bcher-kva.example", 21, out, &kind, &err), 0);
	cr_assert_str_eq(out, "xn--bcher-kva.example");
}

Test(names, mixed_scripts)
{
	char u[4 * NAME_MAX_LEN + 1], scripts[128];
	cr_assert(name_mixed_script("xn--mrketo-3nf.com", u, sizeof(u), scripts, sizeof(scripts)));
	cr_assert_str_eq(scripts, "Latin and Cyrillic");
	cr_assert_str_eq(u, "m\xd0\xb0rketo.com");
	const char *fine[] = { "marketo.com", "xn--bcher-kva.example", "xn--e1afmkfd.example",
			       "xn--abc-269er78f.example" /* abc漢字 */, "xn--5ck2eqb538s34z.example" /* 東京タワー */ };
	for (size_t i = 0; i < sizeof(fine) / sizeof(*fine); i++)
		cr_expect_not(name_mixed_script(fine[i], u, sizeof(u), scripts, sizeof(scripts)), "%s: %s", fine[i],
			      scripts);
}
