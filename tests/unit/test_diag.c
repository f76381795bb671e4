/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

static char *render(struct diags *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	diags_render(d, f, false);
	fclose(f);
	return buf;
}

Test(diag, renders_line_caret_and_hint_in_file_order)
{
	struct diags *d = diags_new();
	const char *file = diags_add_source(d, "x.rules", "line one\n\tbad thing here\n", 24);
	diag_error(d, (struct loc){ file, 2, 6 }, "second");
	diag_hint(d, "try %s", "this");
	diag_warning(d, (struct loc){ file, 1, 1 }, "first");
	char *out = render(d);
	cr_assert_str_eq(out, "x.rules:1:1: warning: first\nline one\n^\n"
			      "x.rules:2:6: error: second\n\tbad thing here\n\t    ^\nhint: try this\n");
	free(out);
	diags_free(d);
}

Test(diag, caret_counts_characters_not_bytes)
{
	struct diags *d = diags_new();
	const char *text = "bücher x\n";
	const char *file = diags_add_source(d, "u.rules", text, strlen(text));
	diag_error(d, (struct loc){ file, 1, 9 }, "here");	/* byte column of x */
	char *out = render(d);
	cr_assert(strstr(out, "\n       ^\n"), "got: %s", out);
	free(out);
	diags_free(d);
}

Test(diag, cap_and_promotion)
{
	struct diags *d = diags_new();
	for (int i = 0; i < DIAG_MAX_ERRORS + 5; i++)
		diag_error(d, (struct loc){ "f", 1, 1 }, "e%d", i);
	diag_hint(d, "belongs to a dropped error");
	cr_assert_null(diags_get(d, DIAG_MAX_ERRORS - 1)->hint, "a dropped error's hint must not land elsewhere");
	cr_assert(diags_full(d));
	cr_assert_eq(diags_count(d), DIAG_MAX_ERRORS);
	cr_assert_eq(diags_errors(d), DIAG_MAX_ERRORS + 5);
	diags_free(d);
	d = diags_new();
	diag_warning(d, (struct loc){ "f", 1, 1 }, "w");
	diags_promote_warnings(d);
	cr_assert_eq(diags_errors(d), 1);
	cr_assert_eq(diags_get(d, 0)->severity, SEV_ERROR);
	diags_free(d);
}

Test(diag, named_warnings_follow_w_options)
{
	struct diags *d = diags_new();
	cr_assert_eq(diags_warning_option(d, "no-unused-set"), 0);
	cr_assert_eq(diags_warning_option(d, "error=allow-all"), 0);
	cr_assert_eq(diags_warning_option(d, "no-such-thing"), -1);
	cr_assert_eq(diags_warning_option(d, "error=unused"), -1, "names match whole, not by prefix");
	diag_warn(d, "unused-set", (struct loc){ "f", 1, 1 }, "silenced");
	diag_hint(d, "and its hint with it");
	diag_warn(d, "allow-all", (struct loc){ "f", 2, 1 }, "promoted");
	diag_warn(d, "wide-prefix", (struct loc){ "f", 3, 1 }, "kept");
	cr_assert_eq(diags_count(d), 2);
	cr_assert_eq(diags_errors(d), 1);
	cr_assert_eq(diags_warnings(d), 1);
	cr_assert_null(diags_get(d, 0)->hint);
	cr_assert_str_eq(diags_get(d, 0)->name, "allow-all");
	diags_free(d);
	/* -W error makes every warning an error, except one explicitly put back. */
	d = diags_new();
	diags_warning_option(d, "error");
	diags_warning_option(d, "no-error=wide-prefix");
	diag_warn(d, "wide-prefix", (struct loc){ "f", 1, 1 }, "w");
	diag_warning(d, (struct loc){ "f", 1, 1 }, "unnamed");
	cr_assert_eq(diags_warnings(d), 1);
	cr_assert_eq(diags_errors(d), 1);
	diags_free(d);
}

Test(diag, user_text_is_escaped_once)
{
	struct diags *d = diags_new();
	const char *text = "set s { a\033[31mb \xff x\xe2\x80\xae y }\n";
	const char *file = diags_add_source(d, "e.rules", text, strlen(text));
	diag_error(d, (struct loc){ file, 1, 24 }, "bad '%s'", "\033[31m\xff\\x41");
	diag_hint(d, "bidi \xe2\x80\xae here");
	char *out = render(d);
	cr_assert_str_eq(out, "e.rules:1:24: error: bad '\\x1b[31m\\xff\\x41'\n"
			      "set s { a\\x1b[31mb \\xff x\\u{202e} y }\n"
			      "                                  ^\n"	/* under the y */
			      "hint: bidi \\u{202e} here\n", "got: %s", out);
	free(out);
	diags_free(d);
}

Test(diag, long_line_shown_as_a_window_and_bom_skipped)
{
	struct diags *d = diags_new();
	char text[5000] = "\xef\xbb\xbf";
	memset(text + 3, 'a', 4000);
	strcpy(text + 4003, " x\n");
	const char *file = diags_add_source(d, "l.rules", text, strlen(text));
	diag_error(d, (struct loc){ file, 1, 4002 }, "x");
	char *out = render(d);
	cr_assert_lt(strlen(out), 400, "got %zu bytes", strlen(out));
	cr_assert(strstr(out, "\n...aaaa"), "%s", out);
	cr_assert(strstr(out, "a x\n"), "%s", out);
	cr_assert_null(strstr(out, "\xef\xbb\xbf"));
	free(out);
	diags_free(d);
}
