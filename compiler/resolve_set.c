/* SPDX-License-Identifier: GPL-2.0-or-later */
/* resolve_set.c — a set's elements: expansion of @includes and $defines, validation of
 * every address, name and regex, then the normalized IR set. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "resolve_internal.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

/* Room for every element written as IPv4 (the common case), so a million-prefix set is
 * not copied while doubling; a list of names leaves the pages untouched. */
static int reserve_ranges(struct cidr_v4_list *l, size_t n)
{
	if (cidr_v4_list_reserve(l, n) < 0)
		return -1;
	mem_advise_huge(l->v, n * sizeof(*l->v));
	return 0;
}

static void push_flat(struct resolver *r, struct set_work *w, const struct flat_elem *e)
{
	struct flat_elem *slot = vec_push(&w->flat, sizeof(*e));
	if (!slot) {
		r->oom = true;
		return;
	}
	*slot = *e;
	w->n_elements++;
}

/* Addresses are words made of digits, dots, '/' and '-' only, or anything with a ':' or
 * a '/' (no name has either). Everything else is a name, which name_normalize judges. */
static bool looks_like_address(const char *s, size_t n)
{
	bool digits_only = true;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ':' || s[i] == '/')
			return true;
		if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '/' || s[i] == '-'))
			digits_only = false;
	}
	return digits_only;
}

/* A place inside an element; a -D value is not in the file, so it has only the $NAME. */
static struct loc at_offset(const struct resolver *r, struct loc loc, size_t offset)
{
	if (!r->value_from_cli)
		loc.col += (unsigned)offset;
	return loc;
}

static void add_address(struct resolver *r, struct set_work *w, const char *s, size_t n, struct loc loc)
{
	struct cidr_parsed parsed;
	enum cidr_status st = cidr_parse(s, n, &parsed);
	if (st == CIDR_HOST_BITS) {
		char net[CIDR_TEXT_MAX];
		cidr_format_prefix(net, &parsed.prefix);
		diag_error(r->d, loc, "host bits set in %.*s", (int)n, s);
		diag_hint(r->d, "did you mean %s?", net);
		w->failed = true;
		return;
	}
	if (st == CIDR_BAD_ADDRESS) {
		resolve_explain_bad_address(r, s, n, parsed.err_offset, loc);
		w->failed = true;
		return;
	}
	if (st != CIDR_OK) {
		diag_error(r->d, at_offset(r, loc, parsed.err_offset), "%s: '%.*s'", cidr_status_str(st), (int)n, s);
		if (st == CIDR_REVERSED) {
			const char *dash = memchr(s, '-', n);
			diag_hint(r->d, "did you mean %.*s-%.*s?", (int)(n - (size_t)(dash - s) - 1), dash + 1,
				  (int)(dash - s), s);
		}
		w->failed = true;
		return;
	}
	resolve_check_range(r, s, n, &parsed.range, loc);
	/* The tag is the line: all a prefix's sources need, and cheaper to map back than a
	 * token when a million prefixes come out of the aggregation in address order. */
	if ((parsed.range.family == FAMILY_V4 ? cidr_v4_list_add(&w->v4, &parsed.range, loc.line)
					       : cidr_list_add(&w->ranges, &parsed.range, loc.line)) < 0)
		r->oom = true;
	w->n_elements++;
}

static bool is_private_suffix(const struct resolver *r, const char *base)
{
	for (size_t i = 0; i < r->n_private_suffixes; i++)
		if (!strcmp(r->private_suffixes[i], base))
			return true;
	return false;
}

/* A wildcard over a public suffix opens a whole TLD or hosting domain. Reports it and
 * returns true; an unlisted suffix declared with option private_suffix is let through. */
static bool wildcard_refused(struct resolver *r, struct set_work *w, const char *s, size_t n, const char *base,
			     struct loc loc)
{
	/* The list is loaded on the first wildcard: most sets have none, and loading costs. */
	if (!r->psl && !r->psl_tried) {
		r->psl = names_psl_load();
		r->psl_tried = true;
		if (!r->psl)
			diag_warn(r->d, "no-public-suffix-list", loc,
				  "no public suffix list found: wildcards are not checked against it");
	}
	if (is_private_suffix(r, base) || !name_is_public_suffix(r->psl, base))
		return false;
	diag_error(r->d, loc, "wildcard '%.*s' covers the public suffix '%s'", (int)n, s, base);
	if (name_is_listed_suffix(r->psl, base))
		diag_hint(r->d, "a wildcard must sit below a registered domain, e.g. *.example.%s", base);
	else
		diag_hint(r->d, "for an internal domain not on the public suffix list, declare it: option private_suffix %s",
			  base);
	w->failed = true;
	return true;
}

static void add_name(struct resolver *r, struct set_work *w, const char *s, size_t n, struct loc loc)
{
	char norm[NAME_MAX_LEN + 1];
	enum name_kind kind;
	struct name_error err;
	if (name_normalize(s, n, norm, &kind, &err) < 0) {
		diag_error(r->d, at_offset(r, loc, err.offset), "invalid name '%.*s': %s", (int)n, s, err.message);
		w->failed = true;
		return;
	}
	if (kind == NAME_WILDCARD && wildcard_refused(r, w, s, n, norm, loc))
		return;
	char unicode[4 * NAME_MAX_LEN + 1], scripts[128];
	if (name_mixed_script(norm, unicode, sizeof(unicode), scripts, sizeof(scripts))) {
		bool punycode = memmem(s, n, "xn--", 4) || memmem(s, n, "XN--", 4);
		diag_warn(r->d, "mixed-script", loc, "'%.*s'%s%s%s mixes %s letters in one label: a look-alike name?",
			  (int)n, s, punycode ? " (" : "", punycode ? unicode : "", punycode ? ")" : "", scripts);
		diag_hint(r->d, "type the vendor's name again; it is '%s' in DNS", norm);
	}
	const char *name = arena_strdup(&r->scratch, norm);	/* the set's build copies it in order */
	if (!name) {
		r->oom = true;
		return;
	}
	struct flat_elem e = { .kind = FLAT_NAME, .line = loc.line, .col = loc.col, .name = name, .name_kind = kind };
	push_flat(r, w, &e);
}

/* A word element (or a define's value) written at loc; broken: the lexer reported it. */
static void add_word(struct resolver *r, struct set_work *w, const char *s, size_t n, struct loc loc, bool broken)
{
	if (broken) {
		w->failed = true;	/* the lexer said what is wrong with it */
		return;
	}
	if (resolve_check_element_form(r, s, n, loc)) {
		w->failed = true;
		return;
	}
	if (looks_like_address(s, n))
		add_address(r, w, s, n, loc);
	else
		add_name(r, w, s, n, loc);
}

static void add_regex(struct resolver *r, struct set_work *w, const struct token *t, struct loc at)
{
	if (t->broken) {
		w->failed = true;
		return;
	}
	char *pattern = arena_alloc(&r->p->arena, t->len + 1);
	if (!pattern) {
		r->oom = true;
		return;
	}
	size_t len = token_string_decode(t, pattern);
	int code;
	PCRE2_SIZE offset;
	/* Anchored at both ends and caseless: the regex is matched against the whole name. */
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, len,
				       PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_CASELESS, &code, &offset, NULL);
	if (!re) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(code, msg, sizeof(msg));
		struct loc loc = at;
		/* PCRE2 reports a missing ')' at the end of the pattern; the '(' is the mistake. */
		if (code == PCRE2_ERROR_MISSING_CLOSING_PARENTHESIS)
			offset = regex_unclosed_paren(pattern, len, offset);
		loc.col = token_string_col(t, offset);
		diag_error(r->d, loc, "invalid regular expression: %s", (const char *)msg);
		w->failed = true;
		return;
	}
	resolve_check_regex(r, re, pattern, at);
	pcre2_code_free(re);
	struct flat_elem e = { .kind = FLAT_REGEX, .line = at.line, .col = at.col, .pattern = pattern };
	push_flat(r, w, &e);
}

static void add_include(struct resolver *r, struct set_work *w, const struct token *t, struct loc at)
{
	struct set_work *inc = resolver_find_set(r, t->text, t->len);
	if (!inc) {
		diag_error(r->d, at, "undefined set '%.*s'", (int)t->len, t->text);
		resolver_hint_similar(r, t->text, t->len, true);
		w->failed = true;
		return;
	}
	if (inc->state == VISITING) {
		diag_error(r->d, at, "set '%s' includes itself through @%s", inc->name, w->name);
		w->failed = true;
		return;
	}
	inc->used = true;
	resolve_set_elements(r, inc);
	w->failed |= inc->failed;
	const struct flat_elem *v = inc->flat.v;
	for (size_t i = 0; i < inc->flat.n && !r->oom; i++) {
		struct flat_elem e = v[i];
		e.included = true;
		push_flat(r, w, &e);
	}
	if (cidr_v4_list_reserve(&w->v4, w->v4.n + inc->v4.n) < 0)
		r->oom = true;
	for (size_t i = 0; i < inc->v4.n && !r->oom; i++)
		w->v4.v[w->v4.n++] = inc->v4.v[i];
	for (size_t i = 0; i < inc->ranges.n && !r->oom; i++)
		if (cidr_list_add(&w->ranges, &inc->ranges.v[i].range, inc->ranges.v[i].tag) < 0)
			r->oom = true;
	w->n_elements += inc->v4.n + inc->ranges.n;
}

static void add_define_ref(struct resolver *r, struct set_work *w, const struct token *t, struct loc at)
{
	struct define_work *def = resolver_find_define(r, t->text, t->len);
	if (!def) {
		diag_error(r->d, at, "undefined define '$%.*s'", (int)t->len, t->text);
		if (!resolver_hint_similar(r, t->text, t->len, false))
			diag_hint(r->d, "define it first: define %.*s = VALUE (-D %.*s=... then overrides it)", (int)t->len,
				  t->text, (int)t->len, t->text);
		w->failed = true;
		return;
	}
	def->used = true;
	/* A value from the file is judged where it was written; one from -D where it is used. */
	struct loc where = def->from_command_line ? at : resolver_loc(r, def->value_tok);
	bool broken = def->from_command_line ? t->broken : ast_tok(r->ast, def->value_tok)->broken;
	size_t before = diags_errors(r->d);
	r->value_from_cli = def->from_command_line;
	add_word(r, w, def->value, strlen(def->value), where, broken);
	r->value_from_cli = false;
	if (def->from_command_line && diags_errors(r->d) > before)
		diag_hint(r->d, "the value '%s' of '%s' comes from -D %s=...", def->value, def->name, def->name);
}

void resolve_set_elements(struct resolver *r, struct set_work *w)
{
	if (w->state != UNVISITED)
		return;
	w->state = VISITING;
	if (reserve_ranges(&w->v4, w->ast->n_elems) < 0)
		r->oom = true;
	struct ast_set_iter it;
	struct ast_elem e;
	const struct token *tail;
	size_t n_tail;
	ast_set_iter_begin(w->ast, &it);
	while (!r->oom && !diags_full(r->d) && ast_set_next(&it, &e, &tail, &n_tail)) {
		struct loc at = { r->file, e.tok.line, e.tok.col };
		switch (e.kind) {
		case ELEM_WORD: add_word(r, w, e.tok.text, e.tok.len, at, e.tok.broken); break;
		case ELEM_SETREF: add_include(r, w, &e.tok, at); break;
		case ELEM_VARREF: add_define_ref(r, w, &e.tok, at); break;
		case ELEM_REGEX: add_regex(r, w, &e.tok, at); break;
		}
	}
	r->oom |= it.oom;
	ast_set_iter_end(&it);
	w->state = DONE;
}
