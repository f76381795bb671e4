/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ast.h — the syntax tree of one rules file, as written (before resolution). Nodes refer
 * to tokens by index so the formatter can reproduce words, strings and comments exactly. */
#ifndef PINHOLE_AST_H
#define PINHOLE_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "arena.h"
#include "diag.h"
#include "lexer.h"

#define NO_TOKEN UINT32_MAX

/* Own-line comments before a node: tokens first .. first+n-1, all TOK_COMMENT. */
struct ast_comments {
	uint32_t first;
	uint32_t n;
};

enum elem_kind { ELEM_WORD, ELEM_SETREF, ELEM_VARREF, ELEM_REGEX };

/* One element of a set body, as ast_set_next reads it again from the text: a set may hold
 * millions, so the tree keeps none of them (nor their tokens), only where the body starts. */
struct ast_elem {
	enum elem_kind kind;
	struct token tok;		/* the word, @ref, $ref, or (ELEM_REGEX) the string after '~' */
	const struct token *lead;	/* own-line comments before it; valid until the next call */
	size_t n_lead;
	const struct token *trail;	/* comment on the same line after it, or NULL */
};

struct ast_port {
	uint16_t lo, hi;
	uint32_t tok;
};

enum ast_dir { DIR_IN, DIR_OUT };
enum ast_proto { PROTO_ANY = 0, PROTO_TCP = 6, PROTO_UDP = 17 };

enum stmt_kind { STMT_DEFINE, STMT_SET, STMT_ALLOW, STMT_OPTION, STMT_PARAM, STMT_INCLUDE, STMT_RECORD };

struct ast_define {
	uint32_t name_tok;
	uint32_t value_tok;
};

struct ast_set {
	uint32_t name_tok;
	struct lexer body;		/* the lexer where the elements start (after open_trail) */
	size_t n_elems;			/* how many ast_set_next yields */
	uint32_t open_trail;		/* comment after '{' */
	bool broken;			/* had a syntax error: don't judge it empty */
};

struct ast_rule {
	enum ast_dir dir;
	uint32_t set_tok;		/* TOK_SETREF */
	uint32_t scope_tok;		/* TOK_SETREF of the local end (out from @X / in ... to @X), or NO_TOKEN */
	enum ast_proto proto;
	struct ast_port *ports;
	size_t n_ports;
	uint32_t comment_tok;		/* TOK_STRING or NO_TOKEN */
};

struct ast_option {
	uint32_t key_tok;
	uint32_t value_tok;
	uint32_t mode_tok;		/* a second word on the line (default_deny IF reject), or NO_TOKEN */
};

/* param NAME "description" example VALUE: a value the customer must supply. */
struct ast_param {
	uint32_t name_tok;
	uint32_t desc_tok;		/* TOK_STRING */
	uint32_t example_tok;		/* TOK_WORD or TOK_STRING */
};

/* include "PATH" [optional]: a local file of defines that set parameters. */
struct ast_include {
	uint32_t path_tok;		/* TOK_STRING */
	bool optional;
};

enum record_kind { RECORD_CNAME, RECORD_SPF, RECORD_DKIM, RECORD_MX };

/* A DNS name in a record statement: a word, or $define with an optional suffix written
 * right after it ($account.mktoweb.com). */
struct ast_dnsname {
	uint32_t tok;			/* TOK_WORD, TOK_VARREF or (a CNAME target) TOK_SETREF */
	uint32_t suffix_tok;		/* TOK_WORD starting with '.', or NO_TOKEN */
};

/* record cname NAME to TARGET | spf NAME include NAME | dkim NAME value VALUE | mx NAME */
struct ast_record {
	enum record_kind kind;
	struct ast_dnsname name;
	struct ast_dnsname target;	/* cname target, spf include; tok NO_TOKEN for mx */
	uint32_t value_tok;		/* dkim: TOK_STRING or TOK_VARREF; else NO_TOKEN */
};

struct ast_stmt {
	enum stmt_kind kind;
	uint32_t tok;			/* the keyword */
	struct ast_comments lead;
	uint32_t trail;
	bool blank_before;
	union {
		struct ast_define define;
		struct ast_set set;
		struct ast_rule rule;
		struct ast_option option;
		struct ast_param param;
		struct ast_include include;
		struct ast_record record;
	};
};

/* The tokens of the statements (set bodies excepted), in blocks that never move: the
 * parser lexes as it goes, and a token it holds stays where it is. */
#define AST_TOKEN_BLOCK 1024
struct ast_tokens {
	struct token **blocks;
	size_t n, n_blocks;
};

struct ast_file {
	const char *file;		/* interned by the diags */
	struct ast_tokens toks;
	struct ast_stmt *stmts;
	size_t n_stmts;
	struct ast_comments tail;	/* comments after the last statement */
	struct arena arena;
};

/* Parses text (which must outlive the tree) into *out, reporting every syntax error to d;
 * the tree holds every statement that could be read. Returns 0, or -1 on ENOMEM. Free
 * with ast_free. */
int ast_parse(const char *file, const char *text, size_t len, struct diags *d, struct ast_file **out);
void ast_free(struct ast_file *f);

/* Token i of the statements (i < f->toks.n). */
static inline const struct token *ast_tok(const struct ast_file *f, uint32_t i)
{
	return &f->toks.blocks[i / AST_TOKEN_BLOCK][i % AST_TOKEN_BLOCK];
}

/* The location of token i. */
struct loc ast_loc(const struct ast_file *f, uint32_t tok);

/* Reads the elements of a set body again, in order, without a word to the diagnostics (the
 * parser said everything there is to say). */
struct ast_set_iter {
	struct lexer lx;
	struct token cur;		/* the token under the cursor */
	struct vec lead;		/* struct token: comments collected before an element */
	struct token trail;
	bool done;
	bool closed;			/* ended at its '}' (the cursor) */
	bool broken;			/* a syntax error in it (reported while parsing) */
	bool oom;			/* a comment could not be kept */
	size_t n_elems;
};
/* Starts reading s, a set of f. Call ast_set_iter_end afterwards. */
void ast_set_iter_begin(const struct ast_set *s, struct ast_set_iter *it);
/* Fills *e with the next element; false after the last one (then *tail and *n_tail are
 * the own-line comments before '}'), or on ENOMEM for the comments (it->oom). */
bool ast_set_next(struct ast_set_iter *it, struct ast_elem *e, const struct token **tail, size_t *n_tail);
void ast_set_iter_end(struct ast_set_iter *it);

/* Writes f in canonical form (pinhole fmt). Returns 0 or -1 on a write error. */
int ast_format(const struct ast_file *f, FILE *out);

#endif
