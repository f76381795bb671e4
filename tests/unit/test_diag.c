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
