/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lexer.h"

#include <stdlib.h>
#include <string.h>

static bool is_word_char(unsigned char c)
{
	/* Bit per byte value: letters, digits, the five marks . _ - : / and the star, every non-ASCII byte (UTF-8
	 * names). A table because the lexer asks once per byte of a large file. */
	static const uint32_t table[8] = {
		0x00000000, 0x07ffe400 | (1u << ('*' - 32)), 0x87fffffe, 0x07fffffe,
		0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
	};
	return table[c >> 5] & (1u << (c & 31));
}

static bool is_ident_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static struct loc here(const struct lexer *lx)
{
	return (struct loc){ lx->file, lx->line, (unsigned)(lx->p - lx->line_begin) + 1 };
}

/* Makes the token the lexer returns next. */
static int push(struct lexer *lx, enum tok_kind kind, const char *start, const char *text, size_t len)
{
	lx->tok = (struct token){
		.kind = kind, .text = text, .len = (uint32_t)len, .line = lx->line,
		.col = (uint32_t)(start - lx->line_begin) + 1, .line_start = lx->at_line_start,
		.blank_before = lx->newlines >= 2,
	};
	lx->have = true;
	lx->at_line_start = false;
	lx->newlines = 0;
	return 0;
}

static void newline(struct lexer *lx)
{
	lx->p++;
	lx->line++;
	lx->line_begin = lx->p;
	lx->at_line_start = true;
	lx->newlines++;
}

static struct loc at_byte(const struct lexer *lx, const char *p)
{
	return (struct loc){ lx->file, lx->line, (unsigned)(p - lx->line_begin) + 1 };
}

/* Reports each byte of s[0..n) that is not UTF-8 (and, in a string, each control byte)
 * once, at its own column. Returns true when there was one. */
static bool check_bytes(struct lexer *lx, const char *s, size_t n, bool in_string)
{
	bool bad = false;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		size_t len = c < 0x80 ? 1 : utf8_char((const unsigned char *)s + i, n - i, &cp);
		if (len == 0) {
			if (lx->d) {
				diag_error(lx->d, at_byte(lx, s + i), "invalid UTF-8 byte 0x%02x", c);
				diag_hint(lx->d, "rules files are UTF-8 text");
			}
		} else if (in_string && (c < 0x20 || c == 0x7f) && c != '\t') {
			if (lx->d)
				diag_error(lx->d, at_byte(lx, s + i), "control character 0x%02x in a string", c);
		} else {
			i += len;
			continue;
		}
		bad = true;
		i++;
	}
	return bad;
}

/* The non-ASCII and control bytes of a token need a closer look; most tokens have none. */
static bool needs_check(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80 || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

static void mark_broken(struct lexer *lx)
{
	lx->tok.broken = true;
}

static int lex_string(struct lexer *lx)
{
	const char *start = lx->p++;
	while (lx->p < lx->end && *lx->p != '"' && *lx->p != '\n') {
		if (*lx->p == '\\' && lx->p + 1 < lx->end && lx->p[1] != '\n')
			lx->p++;
		lx->p++;
	}
	if (lx->p >= lx->end || *lx->p != '"') {
		struct loc at = { lx->file, lx->line, (unsigned)(start - lx->line_begin) + 1 };
		if (lx->d) {
			diag_error(lx->d, at, "unterminated string");
			diag_hint(lx->d, "strings end with '\"' on the same line");
		}
		return push(lx, TOK_STRING, start, start + 1, (size_t)(lx->p - start - 1));
	}
	lx->p++;
	size_t n = (size_t)(lx->p - start - 2);
	bool bad = needs_check(start + 1, n) && check_bytes(lx, start + 1, n, true);
	if (push(lx, TOK_STRING, start, start + 1, n) < 0)
		return -1;
	if (bad)
		mark_broken(lx);
	return 0;
}

/* "// text": a C or nft-JSON habit. Reported once, and the rest of the line is skipped as
 * the comment it was meant to be. */
static void lex_slash_comment(struct lexer *lx)
{
	if (lx->d) {
		diag_error(lx->d, here(lx), "'//' does not start a comment");
		diag_hint(lx->d, "comments start with '#'");
	}
	while (lx->p < lx->end && *lx->p != '\n')
		lx->p++;
}

static int lex_word(struct lexer *lx)
{
	const char *start = lx->p;
	if (lx->end - lx->p >= 2 && lx->p[0] == '/' && lx->p[1] == '/') {
		lex_slash_comment(lx);
		return 0;
	}
	/* No control byte is a word byte, so only a non-ASCII one needs a closer look. */
	unsigned char any = 0;
	while (lx->p < lx->end && is_word_char((unsigned char)*lx->p))
		any |= (unsigned char)*lx->p++;
	size_t n = (size_t)(lx->p - start);
	bool bad = false;
	if (n > TOKEN_WORD_MAX) {
		if (lx->d)
			diag_error(lx->d, at_byte(lx, start),
				   "a word of %zu bytes (at most %d: a name has at most 253 characters)", n, TOKEN_WORD_MAX);
		bad = true;
	} else if (any & 0x80) {
		bad = check_bytes(lx, start, n, false);
	}
	if (push(lx, TOK_WORD, start, start, n) < 0)
		return -1;
	if (bad)
		mark_broken(lx);
	return 0;
}

static int lex_sigil(struct lexer *lx, enum tok_kind kind)
{
	const char *start = lx->p++;
	const char *name = lx->p;
	while (lx->p < lx->end && is_ident_char((unsigned char)*lx->p))
		lx->p++;
	if (lx->p == name && lx->d)
		diag_error(lx->d, here(lx), "expected a name after '%c'", *start);
	return push(lx, kind, start, name, (size_t)(lx->p - name));
}

static int lex_comment(struct lexer *lx)
{
	const char *start = lx->p++;
	while (lx->p < lx->end && *lx->p != '\n')
		lx->p++;
	const char *e = lx->p;
	while (e > start + 1 && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
		e--;
	return push(lx, TOK_COMMENT, start, start + 1, (size_t)(e - start - 1));
}

static int lex_one(struct lexer *lx)
{
	unsigned char c = (unsigned char)*lx->p;
	const char *start = lx->p;
	switch (c) {
	case '\n': newline(lx); return 0;
	case ' ': case '\t': case '\r': case ';': lx->p++; return 0;
	case '#': return lex_comment(lx);
	case '"': return lex_string(lx);
	case '@': return lex_sigil(lx, TOK_SETREF);
	case '$': return lex_sigil(lx, TOK_VARREF);
	case '{': lx->p++; return push(lx, TOK_LBRACE, start, start, 1);
	case '}': lx->p++; return push(lx, TOK_RBRACE, start, start, 1);
	case ',': lx->p++; return push(lx, TOK_COMMA, start, start, 1);
	case '=': lx->p++; return push(lx, TOK_EQUALS, start, start, 1);
	case '~': lx->p++; return push(lx, TOK_TILDE, start, start, 1);
	}
	if (is_word_char(c))
		return lex_word(lx);
	if (lx->d) {
		diag_error(lx->d, here(lx), (c >= 0x20 && c < 0x7f) ? "unexpected character '%c'" : "unexpected byte 0x%02x",
			   c);
		if (c == '\'' || c == '`')
			diag_hint(lx->d, "strings are written in double quotes: \"...\"");
	}
	lx->p++;
	return 0;
}

void lexer_init(struct lexer *lx, const char *file, const char *text, size_t len, struct diags *d)
{
	*lx = (struct lexer){ .file = file, .p = text, .end = text + len, .line_begin = text,
			      .line = 1, .at_line_start = true, .d = d };
	/* A UTF-8 byte-order mark (some Windows editors write one) is not text; columns on the
	 * first line count from after it, as the diagnostics quote the line without it. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		lx->p = lx->line_begin = text + 3;
}

struct token lexer_next(struct lexer *lx)
{
	/* ';' is accepted as a separator (nft habit) and otherwise ignored. */
	lx->have = false;
	while (!lx->have && lx->p < lx->end) {
		while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t'))
			lx->p++;	/* the indentation of every line of a long set: not a call per byte */
		if (lx->p < lx->end)
			lex_one(lx);
	}
	if (!lx->have)
		push(lx, TOK_EOF, lx->p, lx->p, 0);
	return lx->tok;
}

int lex(const char *file, const char *text, size_t len, struct diags *d, struct token_list *out)
{
	struct lexer lx;
	size_t cap = 64;
	struct token *v = malloc(cap * sizeof(*v));
	out->n = 0;
	lexer_init(&lx, file, text, len, d);
	for (struct token t = { .kind = TOK_WORD }; v && t.kind != TOK_EOF;) {
		t = lexer_next(&lx);
		if (out->n == cap) {
			struct token *grown = realloc(v, (cap *= 2) * sizeof(*v));
			if (!grown)
				free(v);
			v = grown;
		}
		if (v)
			v[out->n++] = t;
	}
	out->v = v;
	return v ? 0 : -1;
}

void token_list_free(struct token_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

size_t token_string_decode(const struct token *t, char *out)
{
	size_t n = 0;
	for (uint32_t i = 0; i < t->len; i++) {
		if (t->text[i] == '\\' && i + 1 < t->len && (t->text[i + 1] == '"' || t->text[i + 1] == '\\'))
			i++;
		out[n++] = t->text[i];
	}
	out[n] = '\0';
	return n;
}

uint32_t token_string_col(const struct token *t, size_t decoded_offset)
{
	size_t n = 0;
	uint32_t i = 0;
	for (; i < t->len && n < decoded_offset; i++, n++)
		if (t->text[i] == '\\' && i + 1 < t->len && (t->text[i + 1] == '"' || t->text[i + 1] == '\\'))
			i++;
	return t->col + 1 + i;	/* +1 for the opening quote */
}

bool token_is(const struct token *t, const char *w)
{
	size_t n = strlen(w);
	return t->kind == TOK_WORD && t->len == n && !memcmp(t->text, w, n);
}
