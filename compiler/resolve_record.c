/* SPDX-License-Identifier: GPL-2.0-or-later */
/* resolve_record.c — what a vendor policy asks of the customer's own DNS: parameters the
 * customer must supply, the local files that supply them, and the records to publish
 * (pinhole.rules(5), PARAMETERS, INCLUDE and RECORDS). A CNAME alias joins every set that
 * holds its target, so each backend allows the names users actually click. */
#include "resolve_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LOCAL_RULES_EXAMPLE "/etc/pinhole/local.rules"

static char *arena_tok(struct resolver *r, uint32_t tok, bool decode)
{
	const struct token *t = ast_tok(r->ast, tok);
	char *s = arena_alloc(&r->p->arena, t->len + 1);
	if (!s) {
		r->oom = true;
		return NULL;
	}
	if (decode && t->kind == TOK_STRING) {
		token_string_decode(t, s);
	} else {
		memcpy(s, t->text, t->len);
		s[t->len] = '\0';
	}
	return s;
}

void resolve_param_collect(struct resolver *r, const struct ast_stmt *s, struct vec *defs)
{
	struct define_work *w = resolver_new_define(r, s->param.name_tok, "", defs);
	if (!w)
		return;
	*w = (struct define_work){ .name = arena_tok(r, s->param.name_tok, false),
				   .loc = resolver_loc(r, s->param.name_tok),
				   .value = arena_tok(r, s->param.example_tok, true),
				   .value_tok = s->param.example_tok,
				   .is_param = true,
				   .description = arena_tok(r, s->param.desc_tok, true) };
	r->defines = defs->v;
	r->n_defines = defs->n;
}

/* ---- include ---- */

char *policy_include_path(const char *including, const char *path)
{
	const char *slash = strrchr(including, '/');
	size_t dir = path[0] == '/' || !slash ? 0 : (size_t)(slash - including) + 1;
	char *s = malloc(dir + strlen(path) + 1);
	if (s) {
		memcpy(s, including, dir);
		strcpy(s + dir, path);
	}
	return s;
}

static char *include_path(struct resolver *r, const char *path)
{
	char *full = policy_include_path(r->file, path);
	char *s = full ? arena_strdup(&r->p->arena, full) : NULL;
	free(full);
	return s;
}

/* One define of an included file: it sets the parameter or define of that name. */
static void include_define(struct resolver *r, const struct ast_file *inc, const struct ast_stmt *s)
{
	const struct token *name = ast_tok(inc, s->define.name_tok);
	const struct token *val = ast_tok(inc, s->define.value_tok);
	struct define_work *w = resolver_find_define(r, name->text, name->len);
	if (!w) {
		diag_error(r->d, ast_loc(inc, s->define.name_tok), "'%.*s' is not a parameter or define of %s",
			   (int)name->len, name->text, r->file);
		resolver_hint_similar(r, name->text, name->len, false);
		return;
	}
	char *v = arena_alloc(&r->p->arena, val->len + 1);
	if (!v) {
		r->oom = true;
		return;
	}
	if (val->kind == TOK_STRING) {
		token_string_decode(val, v);
	} else {
		memcpy(v, val->text, val->len);
		v[val->len] = '\0';
	}
	w->value = v;
	w->from_command_line = true;	/* judged where it is used: its token is not ours */
	w->supplied = true;
}

static void include_parse(struct resolver *r, const struct ast_stmt *at, const char *path, char *text, size_t len)
{
	/* the diags keep the text, to quote its lines */
	const char *file = diags_adopt_source(r->d, path, text, len);
	struct ast_file *inc = NULL;
	if (!file) {
		free(text);
		diag_error(r->d, resolver_loc(r, at->include.path_tok), "%s is included twice", path);
		return;
	}
	if (ast_parse(file, text, len, r->d, &inc) < 0) {
		r->oom = true;
		return;
	}
	for (size_t i = 0; i < inc->n_stmts; i++) {
		const struct ast_stmt *s = &inc->stmts[i];
		if (s->kind == STMT_DEFINE) {
			include_define(r, inc, s);
		} else {
			diag_error(r->d, ast_loc(inc, s->tok), "an included file may hold only 'define' statements");
			diag_hint(r->d, "it supplies the values of the including policy's parameters");
		}
	}
	ast_free(inc);
}

static void include_one(struct resolver *r, const struct ast_stmt *s)
{
	char *raw = arena_tok(r, s->include.path_tok, true);
	char *path = raw ? include_path(r, raw) : NULL;
	char *text = NULL;
	size_t len = 0;
	if (!path) {
		r->oom = true;
		return;
	}
	if (!r->req || !r->req->read_include)
		return;
	if (r->req->read_include(path, &text, &len) < 0) {
		if (errno == ENOENT && s->include.optional)
			return;
		diag_error(r->d, resolver_loc(r, s->include.path_tok), "cannot read included file %s: %s", path,
			   strerror(errno));
		if (errno == ENOENT)
			diag_hint(r->d, "create it, or write 'include \"%s\" optional'", raw);
		return;
	}
	include_parse(r, s, path, text, len);
}

void resolve_includes(struct resolver *r)
{
	for (size_t i = 0; i < r->ast->n_stmts && !r->oom; i++)
		if (r->ast->stmts[i].kind == STMT_INCLUDE)
			include_one(r, &r->ast->stmts[i]);
}

/* ---- parameters ---- */

void resolve_params_warn(struct resolver *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n_defines; i++)
		n += r->defines[i].is_param;
	r->p->params = arena_alloc(&r->p->arena, (n ? n : 1) * sizeof(*r->p->params));
	if (!r->p->params) {
		r->oom = true;
		return;
	}
	for (size_t i = 0; i < r->n_defines; i++) {
		const struct define_work *w = &r->defines[i];
		if (!w->is_param)
			continue;
		struct ir_param *prm = &r->p->params[r->p->n_params++];
		*prm = (struct ir_param){ w->name, w->description, NULL, w->value, w->supplied, w->loc };
		prm->example = arena_tok(r, w->value_tok, true);
		if (w->supplied)
			continue;
		diag_warning(r->d, w->loc, "parameter '%s' (%s) is not set: using the vendor document's example '%s'",
			     w->name, w->description, w->value);
		diag_hint(r->d, "set it with -D %s=VALUE, or with 'define %s = VALUE' in a file the policy includes "
			  "(e.g. " LOCAL_RULES_EXAMPLE ")", w->name, w->name);
	}
}

size_t policy_unset_params(const struct policy *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_params; i++)
		n += !p->params[i].supplied;
	return n;
}

/* ---- records ---- */

/* The text of a record's name: the word as written, or a define's value and the suffix
 * written right after it. Returns false after reporting an undefined define. */
static bool dnsname_text(struct resolver *r, const struct ast_dnsname *n, char *buf, size_t size)
{
	const struct token *t = ast_tok(r->ast, n->tok);
	if (t->kind != TOK_VARREF) {
		snprintf(buf, size, "%.*s", (int)t->len, t->text);
		return true;
	}
	struct define_work *def = resolver_find_define(r, t->text, t->len);
	if (!def) {
		diag_error(r->d, resolver_loc(r, n->tok), "undefined define '$%.*s'", (int)t->len, t->text);
		resolver_hint_similar(r, t->text, t->len, false);
		return false;
	}
	def->used = true;
	const struct token *sfx = n->suffix_tok != NO_TOKEN ? ast_tok(r->ast, n->suffix_tok) : NULL;
	snprintf(buf, size, "%s%.*s", def->value, sfx ? (int)sfx->len : 0, sfx ? sfx->text : "");
	return true;
}

/* A record's name, normalized into the policy's arena; NULL after reporting a problem. */
static const char *record_name(struct resolver *r, const struct ast_dnsname *n, bool wildcard_ok, enum name_kind *kind)
{
	char text[2 * NAME_MAX_LEN + 2], norm[NAME_MAX_LEN + 1];
	struct name_error err;
	if (!dnsname_text(r, n, text, sizeof(text)))
		return NULL;
	if (name_normalize(text, strlen(text), norm, kind, &err) < 0) {
		diag_error(r->d, resolver_loc(r, n->tok), "invalid name '%s': %s", text, err.message);
		return NULL;
	}
	if (*kind == NAME_WILDCARD && !wildcard_ok) {
		diag_error(r->d, resolver_loc(r, n->tok), "a record's name cannot be a wildcard: '%s'", text);
		return NULL;
	}
	const char *s = arena_strdup(&r->p->arena, norm);
	if (!s)
		r->oom = true;
	return s;
}

static const char *dkim_value(struct resolver *r, uint32_t tok)
{
	const struct token *t = ast_tok(r->ast, tok);
	if (t->kind == TOK_STRING)
		return arena_tok(r, tok, true);
	struct define_work *def = resolver_find_define(r, t->text, t->len);
	if (!def) {
		diag_error(r->d, resolver_loc(r, tok), "undefined define '$%.*s'", (int)t->len, t->text);
		resolver_hint_similar(r, t->text, t->len, false);
		return NULL;
	}
	def->used = true;
	return def->value;
}

static bool resolve_cname_target(struct resolver *r, const struct ast_record *a, struct ir_record *out)
{
	const struct token *t = ast_tok(r->ast, a->target.tok);
	if (t->kind != TOK_SETREF)
		return (out->target = record_name(r, &a->target, true, &out->target_kind)) != NULL;
	struct set_work *w = resolver_find_set(r, t->text, t->len);
	if (!w) {
		diag_error(r->d, resolver_loc(r, a->target.tok), "undefined set '%.*s'", (int)t->len, t->text);
		resolver_hint_similar(r, t->text, t->len, true);
		return false;
	}
	out->target_set = &r->p->sets[w - r->sets];
	return true;
}

static bool resolve_record(struct resolver *r, const struct ast_stmt *s, struct ir_record *out)
{
	const struct ast_record *a = &s->record;
	enum name_kind kind;
	*out = (struct ir_record){ .kind = a->kind, .loc = resolver_loc(r, s->tok) };
	if (!(out->name = record_name(r, &a->name, false, &kind)))
		return false;
	switch (a->kind) {
	case RECORD_CNAME: return resolve_cname_target(r, a, out);
	case RECORD_SPF: return (out->target = record_name(r, &a->target, false, &out->target_kind)) != NULL;
	case RECORD_DKIM: return (out->value = dkim_value(r, a->value_tok)) != NULL;
	case RECORD_MX: return true;
	}
	return false;
}

/* Whether set s allows name (or, for a wildcard, every name below it) by its names. */
static bool set_covers(const struct ir_set *s, const char *name, enum name_kind kind)
{
	for (size_t i = 0; i < s->n_names; i++) {
		const struct ir_name *n = &s->names[i];
		if (n->kind == NAME_EXACT ? kind == NAME_EXACT && !strcmp(n->name, name)
					  : name_is_below(name, n->name) || (kind == NAME_WILDCARD && !strcmp(n->name, name)))
			return true;
	}
	return false;
}

/* Adds rec's alias to s, keeping the names sorted (exact before wildcard on a tie). */
static void insert_alias(struct resolver *r, struct ir_set *s, const struct ir_record *rec)
{
	if (set_covers(s, rec->name, NAME_EXACT))
		return;
	struct ir_name *v = arena_alloc(&r->p->arena, (s->n_names + 1) * sizeof(*v));
	if (!v) {
		r->oom = true;
		return;
	}
	size_t at = 0;
	while (at < s->n_names && strcmp(s->names[at].name, rec->name) <= 0)
		at++;
	if (at)
		memcpy(v, s->names, at * sizeof(*v));
	v[at] = (struct ir_name){ .name = rec->name, .kind = NAME_EXACT, .loc = rec->loc, .alias = rec };
	if (s->n_names > at)
		memcpy(v + at + 1, s->names + at, (s->n_names - at) * sizeof(*v));
	s->names = v;
	s->n_names++;
}

static void add_alias(struct resolver *r, const struct ir_record *rec)
{
	bool placed = false;
	for (size_t i = 0; i < r->p->n_sets; i++) {
		struct ir_set *s = &r->p->sets[i];
		if (rec->target_set == s || (!rec->target_set && set_covers(s, rec->target, rec->target_kind))) {
			insert_alias(r, s, rec);
			placed = true;
		}
	}
	if (!placed) {
		diag_warning(r->d, rec->loc, "no set holds the CNAME target '%s%s': nothing allows '%s'",
			     rec->target_kind == NAME_WILDCARD ? "*." : "", rec->target, rec->name);
		diag_hint(r->d, "add the target to the set of an 'allow out' rule, or write 'to @SET'");
	}
}

void resolve_records(struct resolver *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->ast->n_stmts; i++)
		n += r->ast->stmts[i].kind == STMT_RECORD;
	r->p->records = arena_alloc(&r->p->arena, (n ? n : 1) * sizeof(*r->p->records));
	if (!r->p->records) {
		r->oom = true;
		return;
	}
	for (size_t i = 0; i < r->ast->n_stmts && !r->oom; i++)
		if (r->ast->stmts[i].kind == STMT_RECORD &&
		    resolve_record(r, &r->ast->stmts[i], &r->p->records[r->p->n_records]))
			r->p->n_records++;
	/* a set with errors was not built: its aliases would only add noise */
	for (size_t i = 0; i < r->p->n_records && !r->oom && !diags_errors(r->d); i++)
		if (r->p->records[i].kind == RECORD_CNAME)
			add_alias(r, &r->p->records[i]);
}
