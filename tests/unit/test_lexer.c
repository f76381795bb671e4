/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <criterion/criterion.h>
#include <string.h>

#include "lexer.h"

static struct token_list lex_ok(const char *text, struct diags **d)
{
	struct token_list l;
	*d = diags_new();
	cr_assert_eq(lex("t.rules", text, strlen(text), *d, &l), 0);
	return l;
}

Test(lexer, kinds_and_positions)
{
	struct diags *d;
	struct token_list l = lex_ok("set s { 192.0.2.0/24, @x $y ~\"a\\\"b\" } # hi\n", &d);
	enum tok_kind want[] = { TOK_WORD, TOK_WORD, TOK_LBRACE, TOK_WORD, TOK_COMMA, TOK_SETREF,
				 TOK_VARREF, TOK_TILDE, TOK_STRING, TOK_RBRACE, TOK_COMMENT, TOK_EOF };
	cr_assert_eq(l.n, sizeof(want) / sizeof(*want));
	for (size_t i = 0; i < l.n; i++)
		cr_assert_eq(l.v[i].kind, want[i], "token %zu", i);
	cr_assert_eq(l.v[3].col, 9);
	cr_assert_eq(l.v[3].len, strlen("192.0.2.0/24"));
	cr_assert_eq(strncmp(l.v[5].text, "x", l.v[5].len), 0);
	cr_assert_eq(l.v[5].col, 23);
	cr_assert_eq(diags_errors(d), 0);
	char buf[16];
	token_string_decode(&l.v[8], buf);
	cr_assert_str_eq(buf, "a\"b");
	token_list_free(&l);
	diags_free(d);
}

Test(lexer, line_start_and_blank_lines)
{
	struct diags *d;
	struct token_list l = lex_ok("a\n\n  b c\n", &d);
	cr_assert(l.v[0].line_start);
	cr_assert(l.v[1].line_start);
	cr_assert(l.v[1].blank_before);
	cr_assert_eq(l.v[1].line, 3);
	cr_assert_eq(l.v[1].col, 3);
	cr_assert_not(l.v[2].line_start);
	token_list_free(&l);
	diags_free(d);
}

Test(lexer, regex_backslashes_are_kept)
{
	struct diags *d;
	struct token_list l = lex_ok("\"^ws\\.x\\\\y$\"", &d);
	char buf[32];
	token_string_decode(&l.v[0], buf);
	cr_assert_str_eq(buf, "^ws\\.x\\y$");
	/* offset 5 of the decoded text ('x') is column 7 in the source (quote + "^ws\\.") */
	cr_assert_eq(token_string_col(&l.v[0], 5), 7);
	token_list_free(&l);
	diags_free(d);
}

Test(lexer, reports_bad_characters_and_unterminated_strings)
{
	struct diags *d;
	struct token_list l = lex_ok("a ! b\n\"open\nc", &d);
	cr_assert_eq(diags_errors(d), 2);
	cr_assert_eq(diags_get(d, 0)->loc.line, 1);
	cr_assert_eq(diags_get(d, 0)->loc.col, 3);
	cr_assert_eq(diags_get(d, 1)->loc.line, 2);
	cr_assert_str_eq(diags_get(d, 1)->message, "unterminated string");
	token_list_free(&l);
	diags_free(d);
}
