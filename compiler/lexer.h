/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lexer.h — tokens of the rules language (pinhole.rules(5)). */
#ifndef PINHOLE_LEXER_H
#define PINHOLE_LEXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

enum tok_kind {
	TOK_EOF,
	TOK_WORD,	/* keyword, identifier, number, address, prefix, range or name */
	TOK_STRING,	/* "..." — text holds the raw body, escapes not yet decoded */
	TOK_LBRACE,
	TOK_RBRACE,
	TOK_COMMA,
	TOK_EQUALS,
	TOK_SETREF,	/* @name — text holds the name */
	TOK_VARREF,	/* $name — text holds the name */
	TOK_TILDE,	/* ~ before a regex string */
	TOK_COMMENT,	/* # to end of line — text holds what follows '#' */
};

/* 24 bytes: a large address list is a million of these. */
struct token {
	const char *text;	/* points into the source buffer */
	uint32_t len;
	uint32_t line, col;
	uint8_t kind;		/* enum tok_kind */
	bool line_start;	/* first token on its line */
	bool blank_before;	/* an empty line separates it from the previous token */
	bool broken;		/* the lexer reported a problem in it (bad bytes, too long):
				 * later stages skip it without a second message */
};

/* Words longer than this are refused: no name or address comes close (a name has at most
 * 253 characters), and quoting a megabyte word in every message helps nobody. */
#define TOKEN_WORD_MAX 1024

struct token_list {
	struct token *v;
	size_t n;
};

/* A lexer between two tokens. A plain value: a copy taken between tokens resumes from
 * there, which is how a set body is read again without its tokens having been kept. */
struct lexer {
	const char *file;
	const char *p, *end, *line_begin;
	uint32_t line;
	bool at_line_start;
	unsigned newlines;	/* since the last token: 2+ means a blank line */
	struct diags *d;	/* NULL: the text was read once already, say nothing */
	struct token tok;	/* the one being made */
	bool have;
};

/* Starts lexing text[0..len) (which must outlive the tokens; file is the interned name for
 * locs). Problems go to d, or nowhere when d is NULL. */
void lexer_init(struct lexer *lx, const char *file, const char *text, size_t len, struct diags *d);
/* The next token; TOK_EOF at the end, and again on every call after it. Bad characters
 * and unterminated strings are reported and skipped; a token with a problem of its own is
 * marked broken. Cannot fail. */
struct token lexer_next(struct lexer *lx);

/* Splits text[0..len) into tokens ending with TOK_EOF. Bad characters and unterminated
 * strings are reported to d (file is the interned name for locs) and skipped. Returns 0,
 * or -1 on ENOMEM. The tokens point into text, which must outlive them. Free with
 * token_list_free. */
int lex(const char *file, const char *text, size_t len, struct diags *d, struct token_list *out);
void token_list_free(struct token_list *l);

/* Decodes a TOK_STRING body: \" and \\ become " and \; any other backslash is kept as
 * written (so regexes read naturally). Writes at most t->len + 1 bytes into out. */
size_t token_string_decode(const struct token *t, char *out);
/* Maps a byte offset in the decoded string back to the source column. */
uint32_t token_string_col(const struct token *t, size_t decoded_offset);

/* True when t is the word w. */
bool token_is(const struct token *t, const char *w);

#endif
