/* SPDX-License-Identifier: GPL-2.0-or-later */
/* parser.c — recursive descent over the token list; see pinhole.rules(5) for the grammar.
 * Statements start with a keyword, so after an error the parser skips to the next keyword
 * at the start of a line and goes on: one run reports every syntax error. */
#include "ast.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct parser {
	struct ast_file *f;	/* f->toks: the tokens lexed so far, comments included */
	struct lexer lx;	/* lexes on demand: set bodies never become tokens */
	struct lexer lx_prev;	/* before the last token lexed, to give it back */
	uint32_t pos;
	struct diags *d;
	bool oom;
};

static const struct {
	const char *word;
	uint32_t len;
} statement_keywords[] = { { "define", 6 }, { "set", 3 }, { "allow", 5 }, { "option", 6 },
			     { "param", 5 }, { "include", 7 }, { "record", 6 } };

/* Appends t to l; 0 or -1 on ENOMEM. */
static int tokens_push(struct ast_tokens *l, struct token t)
{
	if (l->n == l->n_blocks * AST_TOKEN_BLOCK) {
		struct token **grown = realloc(l->blocks, (l->n_blocks + 1) * sizeof(*grown));
		if (!grown)
			return -1;
		l->blocks = grown;
		if (!(l->blocks[l->n_blocks] = malloc(AST_TOKEN_BLOCK * sizeof(struct token))))
			return -1;
		l->n_blocks++;
	}
	l->blocks[l->n / AST_TOKEN_BLOCK][l->n % AST_TOKEN_BLOCK] = t;
	l->n++;
	return 0;
}

/* Token i, lexed when first asked for. Tokens never move, so a pointer stays good. */
static const struct token *at(struct parser *p, uint32_t i)
{
	static const struct token eof = { .text = "", .kind = TOK_EOF };
	while (p->f->toks.n <= i) {
		p->lx_prev = p->lx;
		if (tokens_push(&p->f->toks, lexer_next(&p->lx)) < 0) {
			p->oom = true;
			return &eof;
		}
	}
	return ast_tok(p->f, i);
}

static const struct token *peek(struct parser *p) { return at(p, p->pos); }

/* Called for every line of a set body, so it avoids strlen: a million-element set is a
 * million calls. */
static bool is_statement_start(const struct token *t)
{
	if (t->kind != TOK_WORD || t->len < 3 || t->len > 7)
		return false;
	for (size_t i = 0; i < sizeof(statement_keywords) / sizeof(*statement_keywords); i++)
		if (t->len == statement_keywords[i].len && !memcmp(t->text, statement_keywords[i].word, t->len))
			return true;
	return false;
}

static struct loc loc_of(struct parser *p, uint32_t tok)
{
	const struct token *t = at(p, tok);
	return (struct loc){ p->f->file, t->line, t->col };
}

static const char *describe(const struct token *t)
{
	switch (t->kind) {
	case TOK_EOF: return "end of file";
	case TOK_STRING: return "a string";
	case TOK_LBRACE: return "'{'";
	case TOK_RBRACE: return "'}'";
	case TOK_COMMA: return "','";
	case TOK_EQUALS: return "'='";
	case TOK_SETREF: return "a set reference";
	case TOK_VARREF: return "a variable";
	case TOK_TILDE: return "'~'";
	default: return "a word";
	}
}

/* Reports t, found instead of what was expected, quoting words; nothing when d is NULL. */
static void expected_at(struct diags *d, const char *file, const struct token *t, const char *what)
{
	struct loc loc = { file, t->line, t->col };
	if (!d)
		return;
	if (t->kind == TOK_WORD)
		diag_error(d, loc, "expected %s, found '%.*s'", what, (int)t->len, t->text);
	else
		diag_error(d, loc, "expected %s, found %s", what, describe(t));
}

static void expected(struct parser *p, const char *what)
{
	expected_at(p->d, p->f->file, peek(p), what);
}

/* Collects own-line comments at the cursor. */
static struct ast_comments take_lead(struct parser *p)
{
	struct ast_comments c = { p->pos, 0 };
	while (peek(p)->kind == TOK_COMMENT && peek(p)->line_start) {
		p->pos++;
		c.n++;
	}
	return c;
}

/* A comment on the same line as token `after` attaches to it. */
static uint32_t take_trail(struct parser *p, uint32_t after)
{
	const struct token *t = peek(p);
	if (t->kind == TOK_COMMENT && !t->line_start && t->line == at(p, after)->line)
		return p->pos++;
	return NO_TOKEN;
}

/* Next token that is not a comment; comments in odd places (mid-rule) are dropped by the
 * formatter, which is why statements keep theirs in lead/trail. */
static void skip_comments(struct parser *p)
{
	while (peek(p)->kind == TOK_COMMENT)
		p->pos++;
}

/* After an error: a set body may span lines, so skip to the next statement keyword at the
 * start of a line; other statements fit on one line, so the next line is a fresh start.
 * A statement that stopped right at such a point has nothing to skip. */
static void recover(struct parser *p, uint32_t start, bool in_set)
{
	if (peek(p)->kind == TOK_EOF)
		return;
	if (p->pos > start && peek(p)->line_start && (!in_set || is_statement_start(peek(p))))
		return;
	p->pos++;
	while (peek(p)->kind != TOK_EOF &&
	       !(peek(p)->line_start && (!in_set || is_statement_start(peek(p)))))
		p->pos++;
}

/* The next token that is not a comment, without consuming anything: a comment at the end
 * of a statement must stay for take_trail. */
static uint32_t significant(struct parser *p)
{
	uint32_t i = p->pos;
	while (at(p, i)->kind == TOK_COMMENT)
		i++;
	return i;
}

static bool accept_word(struct parser *p, const char *w)
{
	uint32_t i = significant(p);
	if (!token_is(at(p, i), w))
		return false;
	p->pos = i + 1;
	return true;
}

static bool expect_kind(struct parser *p, enum tok_kind kind, const char *what, uint32_t *tok)
{
	skip_comments(p);
	if (peek(p)->kind != kind) {
		expected(p, what);
		return false;
	}
	*tok = p->pos++;
	return true;
}

static bool is_identifier(const struct token *t)
{
	if (t->kind != TOK_WORD || t->len == 0 || t->len > 64)
		return false;
	if (!((t->text[0] >= 'a' && t->text[0] <= 'z') || (t->text[0] >= 'A' && t->text[0] <= 'Z')))
		return false;
	for (uint32_t i = 1; i < t->len; i++) {
		char c = t->text[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

static bool expect_identifier(struct parser *p, const char *what, uint32_t *tok)
{
	skip_comments(p);
	if (!is_identifier(peek(p))) {
		expected(p, what);
		diag_hint(p->d, "names start with a letter and hold letters, digits and '_' (at most 64)");
		return false;
	}
	*tok = p->pos++;
	return true;
}

static bool parse_define(struct parser *p, struct ast_stmt *s)
{
	uint32_t eq;
	if (!expect_identifier(p, "a define name", &s->define.name_tok) ||
	    !expect_kind(p, TOK_EQUALS, "'='", &eq))
		return false;
	skip_comments(p);
	/* a string for values with spaces, such as a DKIM record set from a local file */
	if ((peek(p)->kind != TOK_WORD && peek(p)->kind != TOK_STRING) || is_statement_start(peek(p))) {
		expected(p, "a value (a name or an address)");
		return false;
	}
	s->define.value_tok = p->pos++;
	return true;
}

/* ---- set bodies: read once here, with diagnostics, and again by ast_set_next ---------- */

static void body_advance(struct ast_set_iter *it) { it->cur = lexer_next(&it->lx); }

/* The own-line comments at the cursor, into it->lead. */
static void body_take_lead(struct ast_set_iter *it)
{
	it->lead.n = 0;
	while (it->cur.kind == TOK_COMMENT && it->cur.line_start) {
		struct token *slot = vec_push(&it->lead, sizeof(*slot));
		if (slot)
			*slot = it->cur;
		it->oom |= !slot;
		body_advance(it);
	}
}

/* One element at the cursor into e, or false after reporting a token that cannot be one. */
static bool body_elem(struct ast_set_iter *it, struct ast_elem *e)
{
	switch (it->cur.kind) {
	case TOK_WORD: e->kind = ELEM_WORD; break;
	case TOK_SETREF: e->kind = ELEM_SETREF; break;
	case TOK_VARREF: e->kind = ELEM_VARREF; break;
	case TOK_TILDE:
		body_advance(it);
		if (it->cur.kind != TOK_STRING) {
			expected_at(it->lx.d, it->lx.file, &it->cur, "a quoted regular expression after '~'");
			return false;
		}
		e->kind = ELEM_REGEX;
		break;
	default:
		expected_at(it->lx.d, it->lx.file, &it->cur,
			    "a set element (address, prefix, range, name, @set, $define or ~\"regex\")");
		body_advance(it);
		return false;
	}
	e->tok = it->cur;
	body_advance(it);
	return true;
}

/* The next element of the body into e; false at its end: its '}' (it->closed, the
 * cursor on it) or where a statement or the file starts instead (reported; the cursor on
 * that token). */
static bool body_next(struct ast_set_iter *it, struct ast_elem *e)
{
	while (!it->done) {
		body_take_lead(it);
		while (it->cur.kind == TOK_COMMA || it->cur.kind == TOK_COMMENT)
			body_advance(it);	/* stray commas and mid-line comments between elements */
		if (it->cur.kind == TOK_RBRACE) {
			it->done = it->closed = true;
			break;
		}
		if (it->cur.kind == TOK_EOF || (it->cur.line_start && is_statement_start(&it->cur))) {
			expected_at(it->lx.d, it->lx.file, &it->cur, "'}' to close the set");
			it->done = it->broken = true;
			break;
		}
		*e = (struct ast_elem){ .lead = it->lead.v, .n_lead = it->lead.n };
		if (!body_elem(it, e)) {
			it->broken = true;
			continue;
		}
		if (it->cur.kind == TOK_COMMA)
			body_advance(it);
		if (it->cur.kind == TOK_COMMENT && !it->cur.line_start && it->cur.line == e->tok.line) {
			it->trail = it->cur;
			e->trail = &it->trail;
			body_advance(it);
		}
		it->n_elems++;
		return true;
	}
	return false;
}

void ast_set_iter_begin(const struct ast_set *s, struct ast_set_iter *it)
{
	*it = (struct ast_set_iter){ .lx = s->body };
	body_advance(it);
}

bool ast_set_next(struct ast_set_iter *it, struct ast_elem *e, const struct token **tail, size_t *n_tail)
{
	if (body_next(it, e))
		return true;
	*tail = it->closed ? it->lead.v : NULL;
	*n_tail = it->closed ? it->lead.n : 0;
	return false;
}

void ast_set_iter_end(struct ast_set_iter *it)
{
	vec_free(&it->lead);
}

/* The body is read here only to report its errors and count its elements; the lexer goes
 * on after it with the token that ended it ('}' consumed, or the statement that follows). */
static bool parse_set_body(struct parser *p, struct ast_set *set, uint32_t open)
{
	set->open_trail = take_trail(p, open);
	struct ast_set_iter it = { .lx = p->lx };
	struct ast_elem e;
	if (p->f->toks.n > p->pos) {	/* take_trail looked at the first element: take it back */
		set->body = p->lx_prev;
		it.cur = *ast_tok(p->f, p->pos);
		p->f->toks.n = p->pos;
	} else {
		set->body = p->lx;
		body_advance(&it);
	}
	set->body.d = NULL;
	while (body_next(&it, &e))
		;
	set->n_elems = it.n_elems;
	set->broken = it.broken;
	p->oom |= it.oom;
	ast_set_iter_end(&it);
	p->lx = it.lx;
	if (tokens_push(&p->f->toks, it.cur) < 0)
		p->oom = true;
	else if (it.closed)
		p->pos++;
	return !set->broken;
}

static bool parse_set(struct parser *p, struct ast_stmt *s)
{
	uint32_t open;
	s->set.open_trail = NO_TOKEN;
	if (!expect_identifier(p, "a set name", &s->set.name_tok))
		return false;
	if (!expect_kind(p, TOK_LBRACE, "'{' to open the set", &open)) {
		s->set.broken = true;
		return false;
	}
	return parse_set_body(p, &s->set, open);
}

/* "80", "8000-8080": fills *port or reports the problem at the word. */
static bool parse_port_word(struct parser *p, struct ast_port *port)
{
	const struct token *t = peek(p);
	unsigned long v[2] = { 0, 0 };
	int which = 0;
	bool ok = t->kind == TOK_WORD && t->len > 0;
	for (uint32_t i = 0; ok && i < t->len; i++) {
		char c = t->text[i];
		if (c == '-' && which == 0 && i > 0)
			which = 1;
		else if (c >= '0' && c <= '9' && v[which] <= 65535)
			v[which] = v[which] * 10 + (unsigned long)(c - '0');
		else
			ok = false;
	}
	if (ok && which == 1 && t->text[t->len - 1] == '-')
		ok = false;
	if (!ok) {
		expected(p, "a port number or range (1-65535)");
		return false;
	}
	if (which == 0)
		v[1] = v[0];
	if (v[0] < 1 || v[0] > 65535 || v[1] < 1 || v[1] > 65535) {
		diag_error(p->d, loc_of(p, p->pos), "port out of range: '%.*s' (ports are 1-65535)", (int)t->len, t->text);
		return false;
	}
	if (v[0] > v[1]) {
		diag_error(p->d, loc_of(p, p->pos), "port range '%.*s' is reversed", (int)t->len, t->text);
		diag_hint(p->d, "did you mean %lu-%lu?", v[1], v[0]);
		return false;
	}
	*port = (struct ast_port){ (uint16_t)v[0], (uint16_t)v[1], p->pos++ };
	return true;
}

static bool parse_ports(struct parser *p, struct ast_rule *r)
{
	struct vec ports = { 0 };
	bool ok = true;
	skip_comments(p);
	bool braced = peek(p)->kind == TOK_LBRACE;
	if (braced)
		p->pos++;
	do {
		skip_comments(p);
		struct ast_port port;
		if (!parse_port_word(p, &port)) {
			ok = false;
			break;
		}
		struct ast_port *slot = vec_push(&ports, sizeof(port));
		if (!slot) {
			p->oom = true;
			break;
		}
		*slot = port;
		skip_comments(p);
		if (braced && peek(p)->kind == TOK_COMMA)
			p->pos++;
		skip_comments(p);
	} while (braced && peek(p)->kind != TOK_RBRACE && peek(p)->kind != TOK_EOF);
	uint32_t close;
	if (ok && braced && !expect_kind(p, TOK_RBRACE, "'}' to close the port list", &close))
		ok = false;
	r->ports = ports.v;
	r->n_ports = ports.n;
	return ok;
}

/* allow out [from @SCOPE] to @SET | allow in from @SET [to @SCOPE]: the scope names the
 * local end (the clients an outbound rule is for, the servers an inbound one reaches). */
static bool parse_direction(struct parser *p, struct ast_rule *r)
{
	skip_comments(p);
	if (accept_word(p, "out")) {
		r->dir = DIR_OUT;
		if (accept_word(p, "from") &&
		    !expect_kind(p, TOK_SETREF, "a set reference for the clients (allow out from @clients to @SET)",
				 &r->scope_tok))
			return false;
		if (accept_word(p, "to"))
			return expect_kind(p, TOK_SETREF, "a set reference such as @marketo_web", &r->set_tok);
		if (r->scope_tok != NO_TOKEN && at(p, significant(p))->line_start)
			diag_error(p->d, loc_of(p, r->scope_tok), "expected 'to @SET' after the clients");
		else
			expected(p, r->scope_tok == NO_TOKEN ? "'from' or 'to' (allow out to @SET)"
							     : "'to' (allow out from @clients to @SET)");
		return false;
	}
	if (accept_word(p, "in")) {
		r->dir = DIR_IN;
		if (!accept_word(p, "from")) {
			expected(p, "'from' (allow in from @SET)");
			return false;
		}
		if (!expect_kind(p, TOK_SETREF, "a set reference such as @marketo_senders", &r->set_tok))
			return false;
		return !accept_word(p, "to") ||
		       expect_kind(p, TOK_SETREF, "a set reference for the servers (allow in from @SET to @servers)",
				   &r->scope_tok);
	}
	expected(p, "'in' or 'out'");
	return false;
}

/* A rule word in the wrong case ("TCP"), or a port list without braces ("port 80,443"). */
static void hint_rule_word(struct parser *p, const struct token *t)
{
	static const char *const words[] = { "tcp", "udp", "port", "comment" };
	for (size_t i = 0; t->kind == TOK_WORD && i < sizeof(words) / sizeof(*words); i++)
		if (t->len == strlen(words[i]) && !strncasecmp(t->text, words[i], t->len)) {
			diag_hint(p->d, "keywords are lower case: '%s'", words[i]);
			return;
		}
	if (t->kind == TOK_COMMA || (t->kind == TOK_WORD && t->text[0] >= '0' && t->text[0] <= '9'))
		diag_hint(p->d, "several ports go in braces: port { 80, 443 }");
}

static bool parse_allow(struct parser *p, struct ast_stmt *s)
{
	struct ast_rule *r = &s->rule;
	r->comment_tok = NO_TOKEN;
	r->scope_tok = NO_TOKEN;
	if (!parse_direction(p, r))
		return false;
	if (accept_word(p, "tcp"))
		r->proto = PROTO_TCP;
	else if (accept_word(p, "udp"))
		r->proto = PROTO_UDP;
	uint32_t port_tok = significant(p);
	if (accept_word(p, "port")) {
		if (r->proto == PROTO_ANY) {
			diag_error(p->d, loc_of(p, port_tok), "'port' needs a protocol");
			diag_hint(p->d, "write 'tcp port ...' or 'udp port ...'");
			return false;
		}
		if (!parse_ports(p, r))
			return false;
	}
	if (accept_word(p, "comment") && !expect_kind(p, TOK_STRING, "a quoted comment", &r->comment_tok))
		return false;
	const struct token *t = at(p, significant(p));
	if (t->kind != TOK_EOF && !t->line_start) {
		p->pos = significant(p);
		expected(p, "the end of the rule ('tcp', 'udp', 'port' or 'comment' may come before it)");
		hint_rule_word(p, t);
		return false;
	}
	return true;
}

static bool parse_option(struct parser *p, struct ast_stmt *s)
{
	s->option.mode_tok = NO_TOKEN;
	if (!expect_identifier(p, "an option name", &s->option.key_tok))
		return false;
	skip_comments(p);
	if (peek(p)->kind == TOK_EQUALS)
		p->pos++;
	skip_comments(p);
	if (peek(p)->kind != TOK_WORD && peek(p)->kind != TOK_STRING) {
		expected(p, "an option value");
		return false;
	}
	s->option.value_tok = p->pos++;
	/* A second word on the same line qualifies the value; the resolver says which options
	 * take one (option default_deny IFNAME reject). */
	const struct token *t = at(p, significant(p));
	if (t->kind == TOK_WORD && !t->line_start) {
		p->pos = significant(p);
		s->option.mode_tok = p->pos++;
	}
	return true;
}

/* param NAME "description" example VALUE */
static bool parse_param(struct parser *p, struct ast_stmt *s)
{
	if (!expect_identifier(p, "a parameter name", &s->param.name_tok) ||
	    !expect_kind(p, TOK_STRING, "a quoted description of the parameter", &s->param.desc_tok))
		return false;
	if (!accept_word(p, "example")) {
		expected(p, "'example' and the vendor document's example value");
		return false;
	}
	skip_comments(p);
	if ((peek(p)->kind != TOK_WORD && peek(p)->kind != TOK_STRING) || is_statement_start(peek(p))) {
		expected(p, "an example value");
		return false;
	}
	s->param.example_tok = p->pos++;
	return true;
}

/* include "PATH" [optional] */
static bool parse_include(struct parser *p, struct ast_stmt *s)
{
	if (!expect_kind(p, TOK_STRING, "a quoted file name", &s->include.path_tok))
		return false;
	s->include.optional = accept_word(p, "optional");
	return true;
}

/* A word, or $define directly followed (no space) by an optional ".suffix" word; with
 * setref, a @set too (a CNAME target). */
static bool parse_dnsname(struct parser *p, struct ast_dnsname *n, bool setref)
{
	skip_comments(p);
	const struct token *t = peek(p);
	n->suffix_tok = NO_TOKEN;
	if ((t->kind != TOK_WORD && t->kind != TOK_VARREF && !(setref && t->kind == TOK_SETREF)) ||
	    (t->kind == TOK_WORD && is_statement_start(t))) {
		expected(p, setref ? "a DNS name, $define or @set" : "a DNS name or $define");
		return false;
	}
	n->tok = p->pos++;
	const struct token *next = peek(p);
	if (t->kind == TOK_VARREF && next->kind == TOK_WORD && next->line == t->line &&
	    next->col == t->col + 1 + t->len && next->len > 1 && next->text[0] == '.')
		n->suffix_tok = p->pos++;
	return true;
}

static bool parse_record_kind(struct parser *p, struct ast_record *r)
{
	static const char *const kinds[] = { "cname", "spf", "dkim", "mx" };
	skip_comments(p);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++)
		if (accept_word(p, kinds[i])) {
			r->kind = (enum record_kind)i;
			return true;
		}
	expected(p, "a record type: cname, spf, dkim or mx");
	return false;
}

/* The part after the name: what the vendor requires of the record. */
static bool parse_record_requirement(struct parser *p, struct ast_record *r)
{
	switch (r->kind) {
	case RECORD_CNAME:
		if (accept_word(p, "to"))
			return parse_dnsname(p, &r->target, true);
		expected(p, "'to' and the CNAME target (a name, $define or @set)");
		return false;
	case RECORD_SPF:
		if (accept_word(p, "include"))
			return parse_dnsname(p, &r->target, false);
		expected(p, "'include' and the domain the SPF record must include");
		return false;
	case RECORD_DKIM:
		if (!accept_word(p, "value")) {
			expected(p, "'value' and the TXT value the vendor gave");
			return false;
		}
		skip_comments(p);
		if (peek(p)->kind != TOK_STRING && peek(p)->kind != TOK_VARREF) {
			expected(p, "a quoted TXT value or $define");
			return false;
		}
		r->value_tok = p->pos++;
		return true;
	case RECORD_MX:
		return true;
	}
	return false;
}

/* record cname|spf|dkim|mx NAME ...: a DNS record the customer must publish. */
static bool parse_record(struct parser *p, struct ast_stmt *s)
{
	struct ast_record *r = &s->record;
	r->target = (struct ast_dnsname){ NO_TOKEN, NO_TOKEN };
	r->value_tok = NO_TOKEN;
	if (!parse_record_kind(p, r) || !parse_dnsname(p, &r->name, false) || !parse_record_requirement(p, r))
		return false;
	const struct token *t = at(p, significant(p));
	if (t->kind != TOK_EOF && !t->line_start) {
		p->pos = significant(p);
		expected(p, "the end of the record");
		return false;
	}
	return true;
}

static bool parse_statement_body(struct parser *p, struct ast_stmt *s)
{
	const struct token *kw = at(p, s->tok);
	if (token_is(kw, "define")) {
		s->kind = STMT_DEFINE;
		return parse_define(p, s);
	}
	if (token_is(kw, "set")) {
		s->kind = STMT_SET;
		return parse_set(p, s);
	}
	if (token_is(kw, "allow")) {
		s->kind = STMT_ALLOW;
		return parse_allow(p, s);
	}
	if (token_is(kw, "param")) {
		s->kind = STMT_PARAM;
		return parse_param(p, s);
	}
	if (token_is(kw, "include")) {
		s->kind = STMT_INCLUDE;
		return parse_include(p, s);
	}
	if (token_is(kw, "record")) {
		s->kind = STMT_RECORD;
		return parse_record(p, s);
	}
	s->kind = STMT_OPTION;
	return parse_option(p, s);
}

/* Levenshtein distance up to 2 between short words; 3 means "further". */
static unsigned near_distance(const char *a, size_t la, const char *b, size_t lb)
{
	if (la > 16 || lb > 16 || (la > lb ? la - lb : lb - la) > 2)
		return 3;
	unsigned row[17];
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0];
		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j], sub = diag + (a[i - 1] != b[j - 1]);
			unsigned best = (up < row[j - 1] ? up : row[j - 1]) + 1;
			row[j] = sub < best ? sub : best;
			diag = up;
		}
	}
	return row[lb] < 3 ? row[lb] : 3;
}

/* A word where a statement should start: a typo of a keyword, or a firewall habit. */
static void hint_statement(struct parser *p, const struct token *t)
{
	static const char *const denials[] = { "deny", "block", "drop", "reject" };
	for (size_t i = 0; i < sizeof(denials) / sizeof(*denials); i++)
		if (token_is(t, denials[i])) {
			diag_hint(p->d, "rules files are allowlists: there is no '%s'; what no rule allows is dropped "
					"where 'option default_deny IFACE' is set", denials[i]);
			return;
		}
	char lower[17];
	for (uint32_t i = 0; i < t->len && i < 16; i++)
		lower[i] = (char)(t->text[i] >= 'A' && t->text[i] <= 'Z' ? t->text[i] + 32 : t->text[i]);
	for (size_t i = 0; t->kind == TOK_WORD && i < sizeof(statement_keywords) / sizeof(*statement_keywords); i++)
		if (near_distance(lower, t->len, statement_keywords[i].word, statement_keywords[i].len) <= 2) {
			diag_hint(p->d, "did you mean '%s'?", statement_keywords[i].word);
			return;
		}
}

/* Reads one statement; false when it had an error (already reported). */
static bool parse_statement(struct parser *p, struct ast_stmt *s)
{
	s->lead = take_lead(p);
	const struct token *t = peek(p);
	s->blank_before = s->lead.n ? at(p, s->lead.first)->blank_before : t->blank_before;
	s->trail = NO_TOKEN;
	if (!is_statement_start(t)) {
		expected(p, "a statement (define, set, allow or option)");
		hint_statement(p, t);
		return false;
	}
	s->tok = p->pos++;
	if (!parse_statement_body(p, s))
		return false;
	s->trail = take_trail(p, p->pos - 1);
	return true;
}

static int parse_file(struct parser *p)
{
	struct vec stmts = { 0 };
	for (;;) {
		struct ast_stmt s = { 0 };
		uint32_t start = p->pos;
		s.lead = take_lead(p);
		if (peek(p)->kind == TOK_EOF) {
			p->f->tail = s.lead;
			break;
		}
		p->pos = start;
		bool ok = parse_statement(p, &s);
		/* A set with errors is kept so later references to it don't cascade. */
		if (ok || (s.kind == STMT_SET && s.set.name_tok)) {
			struct ast_stmt *slot = vec_push(&stmts, sizeof(s));
			if (!slot) {
				p->oom = true;
				break;
			}
			*slot = s;
		} else if (s.kind == STMT_ALLOW) {
			free(s.rule.ports);
		}
		if (!ok)
			recover(p, start, s.kind == STMT_SET);
		if (diags_full(p->d) || p->oom)
			break;
	}
	p->f->stmts = stmts.v;
	p->f->n_stmts = stmts.n;
	return p->oom ? -1 : 0;
}

int ast_parse(const char *file, const char *text, size_t len, struct diags *d, struct ast_file **out)
{
	struct ast_file *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->file = file;
	struct parser p = { .f = f, .d = d };
	lexer_init(&p.lx, file, text, len, d);
	if (parse_file(&p) < 0) {
		ast_free(f);
		return -1;
	}
	*out = f;
	return 0;
}

void ast_free(struct ast_file *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_stmts; i++)
		if (f->stmts[i].kind == STMT_ALLOW)
			free(f->stmts[i].rule.ports);
	free(f->stmts);
	for (size_t i = 0; i < f->toks.n_blocks; i++)
		free(f->toks.blocks[i]);
	free(f->toks.blocks);
	arena_free(&f->arena);
	free(f);
}

struct loc ast_loc(const struct ast_file *f, uint32_t tok)
{
	const struct token *t = ast_tok(f, tok);
	return (struct loc){ f->file, t->line, t->col };
}
