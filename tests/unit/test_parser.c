/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"

static char *format(const char *text, size_t *errors)
{
	struct diags *d = diags_new();
	struct ast_file *f;
	cr_assert_eq(ast_parse("t.rules", text, strlen(text), d, &f), 0);
	*errors = diags_errors(d);
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	ast_format(f, out);
	fclose(out);
	ast_free(f);
	diags_free(d);
	return buf;
}

Test(parser, formats_canonically_and_keeps_comments)
{
	size_t errors;
	char *out = format("# head\nset a {   # open\n 192.0.2.1,192.0.2.2 # two\n# tail\n}\n"
			   "allow out to @a tcp port {443,80} comment \"c\" # rule\n", &errors);
	cr_assert_eq(errors, 0);
	cr_assert_str_eq(out, "# head\nset a {  # open\n\t192.0.2.1\n\t192.0.2.2  # two\n\t# tail\n}\n\n"
			      "allow out to @a tcp port { 443, 80 } comment \"c\"  # rule\n");
	size_t again_errors;
	char *again = format(out, &again_errors);
	cr_assert_str_eq(again, out, "fmt is a fixed point");
	free(out);
	free(again);
}

/* A short set without comments stays on one line when its first element is on the line of
 * its name, and one element per line when the author put it on a line of its own (as the
 * shipped marketo.rules does): both are fixed points. */
Test(parser, short_sets_keep_their_layout)
{
	size_t errors;
	char *out = format("set t {  $tracking ,\n  x.example }\n", &errors);
	cr_assert_str_eq(out, "set t { $tracking, x.example }\n");
	free(out);
	out = format("set t {\n  $tracking\n}\n", &errors);
	cr_assert_str_eq(out, "set t {\n\t$tracking\n}\n");
	free(out);
}

Test(parser, blank_lines_between_comment_blocks_stay)
{
	size_t errors;
	char *out = format("# header\n\n\n# about s\n# more\n\nset s { 192.0.2.1 }\n# a\n\n# b\n", &errors);
	cr_assert_str_eq(out, "# header\n\n# about s\n# more\n\nset s { 192.0.2.1 }\n\n# a\n\n# b\n");
	char *again = format(out, &errors);
	cr_assert_str_eq(again, out, "fmt is a fixed point");
	free(again);
	free(out);
}

Test(parser, reports_every_syntax_error)
{
	size_t errors;
	char *out = format("set a { 192.0.2.1\nallow up to @a\nallow out to @a tcp port 0\nbogus\nset b { = }\n", &errors);
	/* unclosed set, bad direction, port 0, unknown statement, bad element */
	cr_assert_eq(errors, 5);
	free(out);
}
