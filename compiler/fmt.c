/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fmt.c — the canonical form of a rules file (pinhole fmt). Words, strings and comments
 * are reproduced as written; layout is not: one statement per line, tab-indented set
 * bodies with one element per line, one blank line at most between statements and between
 * blocks of comments. */
#include "ast.h"

#include <string.h>

#define ONE_LINE_MAX 80

static void put_token(const struct token *t, FILE *out)
{
	switch (t->kind) {
	case TOK_STRING: fprintf(out, "\"%.*s\"", (int)t->len, t->text); break;
	case TOK_SETREF: fprintf(out, "@%.*s", (int)t->len, t->text); break;
	case TOK_VARREF: fprintf(out, "$%.*s", (int)t->len, t->text); break;
	case TOK_COMMENT: fprintf(out, "#%.*s", (int)t->len, t->text); break;
	default: fprintf(out, "%.*s", (int)t->len, t->text); break;
	}
}

static void put_tok(const struct ast_file *f, uint32_t tok, FILE *out)
{
	put_token(ast_tok(f, tok), out);
}

/* The comments one per line; a blank line between two of them stays (as one), so
 * paragraphs of comments (a file header, then a statement's own) keep apart. */
static void put_comment_tokens(const struct token *v, size_t n, const char *indent, FILE *out)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && v[i].blank_before)
			fputc('\n', out);
		fputs(indent, out);
		put_token(&v[i], out);
		fputc('\n', out);
	}
}

static void put_comments(const struct ast_file *f, struct ast_comments c, const char *indent, FILE *out)
{
	for (uint32_t i = 0; i < c.n; i++) {
		if (i > 0 && ast_tok(f, c.first + i)->blank_before)
			fputc('\n', out);
		fputs(indent, out);
		put_tok(f, c.first + i, out);
		fputc('\n', out);
	}
}

static void put_trail(const struct ast_file *f, uint32_t tok, FILE *out)
{
	if (tok == NO_TOKEN)
		return;
	fputs("  ", out);
	put_tok(f, tok, out);
}

static void put_elem(const struct ast_elem *e, FILE *out)
{
	if (e->kind == ELEM_REGEX)
		fputc('~', out);
	put_token(&e->tok, out);
}

/* A set with no comments whose elements fit on one line is written on one line, unless
 * its author put the first element on a line of its own: then it stays one per line. */
static bool set_fits_one_line(const struct ast_file *f, const struct ast_stmt *s)
{
	const struct ast_set *set = &s->set;
	if (set->open_trail != NO_TOKEN || set->n_elems > 4)
		return false;
	struct ast_set_iter it;
	struct ast_elem e;
	const struct token *tail;
	size_t n_tail, width = 8 + ast_tok(f, set->name_tok)->len, i = 0;
	bool fits = true;
	ast_set_iter_begin(set, &it);
	for (; fits && ast_set_next(&it, &e, &tail, &n_tail); i++) {
		fits = !e.n_lead && !e.trail && (i > 0 || e.tok.line == ast_tok(f, set->name_tok)->line);
		width += e.tok.len + 4;
	}
	fits = fits && !n_tail && !it.oom && width <= ONE_LINE_MAX;
	ast_set_iter_end(&it);
	return fits;
}

static void put_set(const struct ast_file *f, const struct ast_stmt *s, FILE *out)
{
	const struct ast_set *set = &s->set;
	struct ast_set_iter it;
	struct ast_elem e;
	const struct token *tail = NULL;
	size_t n_tail = 0;
	bool one_line = set_fits_one_line(f, s);
	fputs("set ", out);
	put_tok(f, set->name_tok, out);
	fputs(" {", out);
	if (!one_line) {
		put_trail(f, set->open_trail, out);
		fputc('\n', out);
	}
	ast_set_iter_begin(set, &it);
	for (size_t i = 0; ast_set_next(&it, &e, &tail, &n_tail); i++) {
		if (one_line) {
			fputs(i ? ", " : " ", out);
			put_elem(&e, out);
			continue;
		}
		put_comment_tokens(e.lead, e.n_lead, "\t", out);
		fputc('\t', out);
		put_elem(&e, out);
		if (e.trail) {
			fputs("  ", out);
			put_token(e.trail, out);
		}
		fputc('\n', out);
	}
	if (one_line)
		fputs(" }", out);
	else {
		put_comment_tokens(tail, n_tail, "\t", out);
		fputc('}', out);
	}
	ast_set_iter_end(&it);
}

static void put_ports(const struct ast_file *f, const struct ast_rule *r, FILE *out)
{
	fputs(" port ", out);
	if (r->n_ports > 1)
		fputs("{ ", out);
	for (size_t i = 0; i < r->n_ports; i++) {
		if (i)
			fputs(", ", out);
		fprintf(out, "%u", r->ports[i].lo);
		if (r->ports[i].hi != r->ports[i].lo)
			fprintf(out, "-%u", r->ports[i].hi);
	}
	if (r->n_ports > 1)
		fputs(" }", out);
}

static void put_rule(const struct ast_file *f, const struct ast_rule *r, FILE *out)
{
	if (r->dir == DIR_OUT && r->scope_tok != NO_TOKEN) {
		fputs("allow out from ", out);
		put_tok(f, r->scope_tok, out);
		fputs(" to ", out);
		put_tok(f, r->set_tok, out);
	} else {
		fputs(r->dir == DIR_OUT ? "allow out to " : "allow in from ", out);
		put_tok(f, r->set_tok, out);
		if (r->scope_tok != NO_TOKEN) {
			fputs(" to ", out);
			put_tok(f, r->scope_tok, out);
		}
	}
	if (r->proto != PROTO_ANY)
		fputs(r->proto == PROTO_TCP ? " tcp" : " udp", out);
	if (r->n_ports)
		put_ports(f, r, out);
	if (r->comment_tok != NO_TOKEN) {
		fputs(" comment ", out);
		put_tok(f, r->comment_tok, out);
	}
}

static void put_dnsname(const struct ast_file *f, const struct ast_dnsname *n, FILE *out)
{
	put_tok(f, n->tok, out);
	if (n->suffix_tok != NO_TOKEN)
		put_tok(f, n->suffix_tok, out);
}

static void put_record(const struct ast_file *f, const struct ast_record *r, FILE *out)
{
	static const char *const kinds[] = { "cname", "spf", "dkim", "mx" };
	fprintf(out, "record %s ", kinds[r->kind]);
	put_dnsname(f, &r->name, out);
	if (r->kind == RECORD_CNAME || r->kind == RECORD_SPF) {
		fputs(r->kind == RECORD_CNAME ? " to " : " include ", out);
		put_dnsname(f, &r->target, out);
	} else if (r->kind == RECORD_DKIM) {
		fputs(" value ", out);
		put_tok(f, r->value_tok, out);
	}
}

static void put_statement(const struct ast_file *f, const struct ast_stmt *s, FILE *out)
{
	put_comments(f, s->lead, "", out);
	if (s->lead.n && ast_tok(f, s->tok)->blank_before)
		fputc('\n', out);	/* a comment block apart from the statement, e.g. a file header */
	switch (s->kind) {
	case STMT_DEFINE:
		fputs("define ", out);
		put_tok(f, s->define.name_tok, out);
		fputs(" = ", out);
		put_tok(f, s->define.value_tok, out);
		break;
	case STMT_SET: put_set(f, s, out); break;
	case STMT_ALLOW: put_rule(f, &s->rule, out); break;
	case STMT_OPTION:
		fputs("option ", out);
		put_tok(f, s->option.key_tok, out);
		fputc(' ', out);
		put_tok(f, s->option.value_tok, out);
		if (s->option.mode_tok != NO_TOKEN) {
			fputc(' ', out);
			put_tok(f, s->option.mode_tok, out);
		}
		break;
	case STMT_PARAM:
		fputs("param ", out);
		put_tok(f, s->param.name_tok, out);
		fputc(' ', out);
		put_tok(f, s->param.desc_tok, out);
		fputs(" example ", out);
		put_tok(f, s->param.example_tok, out);
		break;
	case STMT_INCLUDE:
		fputs("include ", out);
		put_tok(f, s->include.path_tok, out);
		if (s->include.optional)
			fputs(" optional", out);
		break;
	case STMT_RECORD: put_record(f, &s->record, out); break;
	}
	put_trail(f, s->trail, out);
	fputc('\n', out);
}

/* Statements of one kind written back to back stay together; a blank line separates a
 * set from its neighbours and keeps the author's blank lines elsewhere. */
static bool blank_between(const struct ast_stmt *prev, const struct ast_stmt *s)
{
	if (s->blank_before)
		return true;
	return prev->kind != s->kind || s->kind == STMT_SET;
}

int ast_format(const struct ast_file *f, FILE *out)
{
	for (size_t i = 0; i < f->n_stmts; i++) {
		if (i > 0 && blank_between(&f->stmts[i - 1], &f->stmts[i]))
			fputc('\n', out);
		put_statement(f, &f->stmts[i], out);
	}
	if (f->tail.n) {
		if (f->n_stmts)
			fputc('\n', out);
		put_comments(f, f->tail, "", out);
	}
	return ferror(out) ? -1 : 0;
}
