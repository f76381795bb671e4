/* SPDX-License-Identifier: GPL-2.0-or-later */
/* resolve.c — AST → IR: defines, sets, options and rules. Every problem is reported; the
 * policy is handed out only when there was none. */
#include "resolve_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TABLE "pinhole"

struct loc resolver_loc(const struct resolver *r, uint32_t tok)
{
	struct loc loc = ast_loc(r->ast, tok);
	loc.file = r->file;
	return loc;
}

static bool token_eq(const char *name, const char *s, size_t len)
{
	return strlen(name) == len && !memcmp(name, s, len);
}

struct set_work *resolver_find_set(struct resolver *r, const char *name, size_t len)
{
	for (size_t i = 0; i < r->n_sets; i++)
		if (token_eq(r->sets[i].name, name, len))
			return &r->sets[i];
	return NULL;
}

struct define_work *resolver_find_define(struct resolver *r, const char *name, size_t len)
{
	for (size_t i = 0; i < r->n_defines; i++)
		if (token_eq(r->defines[i].name, name, len))
			return &r->defines[i];
	return NULL;
}

/* Levenshtein distance, bounded to short identifiers. */
static size_t edit_distance(const char *a, size_t la, const char *b)
{
	size_t lb = strlen(b);
	if (la > 64 || lb > 64)
		return SIZE_MAX;
	size_t row[65];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t sub = diag + (a[i - 1] != b[j - 1]);
			size_t best = up + 1 < row[j - 1] + 1 ? up + 1 : row[j - 1] + 1;
			row[j] = sub < best ? sub : best;
			diag = up;
		}
	}
	return row[lb];
}

bool resolver_hint_similar(struct resolver *r, const char *unknown, size_t len, bool sets)
{
	const char *best = NULL;
	size_t best_d = len / 3 + 1;	/* close enough to be a typo */
	size_t n = sets ? r->n_sets : r->n_defines;
	for (size_t i = 0; i < n; i++) {
		const char *cand = sets ? r->sets[i].name : r->defines[i].name;
		size_t dist = edit_distance(unknown, len, cand);
		if (dist <= best_d) {
			best = cand;
			best_d = dist;
		}
	}
	if (best)
		diag_hint(r->d, "did you mean %s '%s'?", sets ? "set" : "define", best);
	return best != NULL;
}

static char *tok_dup(struct resolver *r, uint32_t tok)
{
	const struct token *t = ast_tok(r->ast, tok);
	char *s = arena_strndup(&r->p->arena, t->text, t->len);
	if (!s)
		r->oom = true;
	return s;
}

static char *decode_string(struct resolver *r, uint32_t tok);

struct define_work *resolver_new_define(struct resolver *r, uint32_t name_tok, const char *what, struct vec *defs)
{
	const struct token *name = ast_tok(r->ast, name_tok);
	struct define_work *prev = resolver_find_define(r, name->text, name->len);
	if (prev) {
		diag_error(r->d, resolver_loc(r, name_tok), "%s'%s' is defined twice", what, prev->name);
		diag_hint(r->d, "the first definition is at line %u", prev->loc.line);
		return NULL;
	}
	struct define_work *w = vec_push(defs, sizeof(*w));
	if (!w)
		r->oom = true;
	return w;
}

static void collect_define(struct resolver *r, const struct ast_stmt *s, struct vec *defs)
{
	struct define_work *w = resolver_new_define(r, s->define.name_tok, "define ", defs);
	if (!w)
		return;
	*w = (struct define_work){ .name = tok_dup(r, s->define.name_tok),
				   .loc = resolver_loc(r, s->define.name_tok),
				   .value = tok_dup(r, s->define.value_tok),
				   .value_tok = s->define.value_tok };
	if (ast_tok(r->ast, s->define.value_tok)->kind == TOK_STRING)
		w->value = decode_string(r, s->define.value_tok);	/* e.g. a DKIM value */
	r->defines = defs->v;
	r->n_defines = defs->n;
}

static void collect_set(struct resolver *r, const struct ast_stmt *s, struct vec *sets)
{
	const struct token *name = ast_tok(r->ast, s->set.name_tok);
	struct set_work *prev = resolver_find_set(r, name->text, name->len);
	if (prev) {
		diag_error(r->d, resolver_loc(r, s->set.name_tok), "set '%s' is defined twice", prev->name);
		diag_hint(r->d, "the first definition is at line %u; merge them or rename one", prev->loc.line);
		return;
	}
	struct set_work *w = vec_push(sets, sizeof(*w));
	if (!w) {
		r->oom = true;
		return;
	}
	*w = (struct set_work){ .ast = &s->set, .loc = resolver_loc(r, s->set.name_tok),
				.name = tok_dup(r, s->set.name_tok) };
	r->sets = sets->v;
	r->n_sets = sets->n;
}

static void apply_overrides(struct resolver *r, const struct compile_request *req)
{
	for (size_t i = 0; i < req->n_defines; i++) {
		const struct define_override *o = &req->defines[i];
		struct define_work *w = resolver_find_define(r, o->name, strlen(o->name));
		if (!w) {
			diag_error(r->d, (struct loc){ r->file, 0, 0 }, "-D %s: the file has no 'define %s'", o->name, o->name);
			resolver_hint_similar(r, o->name, strlen(o->name), false);
			continue;
		}
		if (strlen(o->value) > TOKEN_WORD_MAX) {
			diag_error(r->d, (struct loc){ r->file, 0, 0 }, "-D %s: a value of %zu bytes (at most %d)", o->name,
				   strlen(o->value), TOKEN_WORD_MAX);
			continue;
		}
		w->value = arena_strdup(&r->p->arena, o->value);
		w->from_command_line = true;
		w->supplied = true;
		if (!w->value)
			r->oom = true;
	}
}

static void set_option_mode(struct resolver *r, const struct token *val, struct loc at);
static void set_option_default_deny(struct resolver *r, const struct ast_option *o, struct loc at);
static void set_option_private_suffix(struct resolver *r, uint32_t tok, struct loc at);
static void set_option_squid(struct resolver *r, const struct token *key, uint32_t tok, struct loc at);
static char *decode_string(struct resolver *r, uint32_t tok);

/* option warn no-NAME: the file's own -W, for a warning its author has weighed (a set
 * kept for the JSON output that no rule uses). Every named warning comes from the
 * resolver, after the options, so it applies to the whole file. */
static void set_option_warn(struct resolver *r, const struct token *val, struct loc at)
{
	char buf[64] = "";
	if (val->len < sizeof(buf))
		memcpy(buf, val->text, val->len);
	if (val->broken || !*buf || diags_warning_option(r->d, buf) < 0) {
		diag_error(r->d, at, "invalid warning option '%.*s'", (int)val->len, val->text);
		diag_hint(r->d, "error, error=NAME, no-NAME or NAME; the names are in pinhole.rules(5), WARNINGS");
	}
}

static void set_option(struct resolver *r, const struct ast_stmt *s)
{
	const struct token *key = ast_tok(r->ast, s->option.key_tok);
	const struct token *val = ast_tok(r->ast, s->option.value_tok);
	struct loc at = resolver_loc(r, s->option.value_tok);
	if (s->option.mode_tok != NO_TOKEN && !token_is(key, "default_deny")) {
		diag_error(r->d, resolver_loc(r, s->option.mode_tok), "option '%.*s' takes one value", (int)key->len,
			   key->text);
	} else if (token_is(key, "table")) {
		bool ok = val->kind == TOK_WORD && val->len > 0 && val->len <= 64;
		for (uint32_t i = 0; ok && i < val->len; i++)
			ok = (val->text[i] >= 'a' && val->text[i] <= 'z') || (val->text[i] >= 'A' && val->text[i] <= 'Z') ||
			     (i > 0 && ((val->text[i] >= '0' && val->text[i] <= '9') || val->text[i] == '_'));
		if (!ok)
			diag_error(r->d, at, "invalid table name '%.*s' (letters, digits and '_', starting with a letter)",
				   (int)val->len, val->text);
		else
			r->p->table = tok_dup(r, s->option.value_tok);
	} else if (token_is(key, "priority")) {
		char buf[16] = "";
		char *end = NULL;
		if (val->len < sizeof(buf))
			memcpy(buf, val->text, val->len);
		errno = 0;
		long v = strtol(buf, &end, 10);
		if (val->kind != TOK_WORD || !*buf || *end || errno || v < -400 || v > 400)
			diag_error(r->d, at, "invalid priority '%.*s' (an integer from -400 to 400)", (int)val->len, val->text);
		else
			r->p->priority = (int)v;
	} else if (token_is(key, "mode")) {
		set_option_mode(r, val, at);
	} else if (token_is(key, "default_deny")) {
		set_option_default_deny(r, &s->option, at);
	} else if (token_is(key, "private_suffix")) {
		set_option_private_suffix(r, s->option.value_tok, at);
	} else if (token_is(key, "warn")) {
		set_option_warn(r, val, at);
	} else if (token_is(key, "squid_tls_cert") || token_is(key, "squid_tls_key") ||
		   token_is(key, "squid_tls_port")) {
		set_option_squid(r, key, s->option.value_tok, at);
	} else {
		diag_error(r->d, resolver_loc(r, s->option.key_tok), "unknown option '%.*s'", (int)key->len, key->text);
		diag_hint(r->d, "valid options: table, priority, mode, default_deny, private_suffix, warn, squid_tls_cert, "
				"squid_tls_key, squid_tls_port");
	}
}

static void set_option_mode(struct resolver *r, const struct token *val, struct loc at)
{
	if (token_is(val, "table")) {
		r->p->mode = POLICY_MODE_TABLE;
	} else if (token_is(val, "sets-only")) {
		r->p->mode = POLICY_MODE_SETS_ONLY;
	} else {
		diag_error(r->d, at, "invalid mode '%.*s'", (int)val->len, val->text);
		diag_hint(r->d, "valid modes: table (pinhole owns the table), sets-only (pinhole fills its sets in your table)");
	}
}

/* squid.conf(5) reads a port option's value up to white space and has no quoting, so a
 * path or port with white space or '"' cannot be written there. */
static void set_option_squid(struct resolver *r, const struct token *key, uint32_t tok, struct loc at)
{
	const struct token *val = ast_tok(r->ast, tok);
	const char *v = val->kind == TOK_STRING ? decode_string(r, tok) : tok_dup(r, tok);
	bool ok = v && *v;
	for (const char *c = v; ok && *c; c++)
		ok = (unsigned char)*c > ' ' && *c != '"';
	if (!v)
		return;
	if (!ok) {
		diag_error(r->d, at, "invalid value for option '%.*s': Squid takes no white space or '\"' there",
			   (int)key->len, key->text);
	} else if (token_is(key, "squid_tls_cert")) {
		r->p->squid_tls_cert = v;
	} else if (token_is(key, "squid_tls_key")) {
		r->p->squid_tls_key = v;
	} else {
		r->p->squid_tls_port = v;
	}
}

/* Linux interface names (dev_valid_name): 1-15 bytes, no '/', ':' or white space; nft
 * reads a trailing '*' as a wildcard. */
static bool valid_ifname(const char *s, size_t n)
{
	if (n == 0 || n > 15 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || s[i] == '"' || (unsigned char)s[i] <= ' ' ||
		    (s[i] == '*' && (i + 1 < n || n == 1)))
			return false;
	return true;
}

/* option default_deny IFNAME [drop|reject]: drop unless the second word says reject. */
static void set_option_default_deny(struct resolver *r, const struct ast_option *o, struct loc at)
{
	uint32_t tok = o->value_tok;
	const struct token *val = ast_tok(r->ast, tok);
	const struct token *how = o->mode_tok == NO_TOKEN ? NULL : ast_tok(r->ast, o->mode_tok);
	if (how && !token_is(how, "drop") && !token_is(how, "reject")) {
		diag_error(r->d, resolver_loc(r, o->mode_tok), "invalid default_deny action '%.*s'", (int)how->len,
			   how->text);
		diag_hint(r->d, "valid actions: drop (the default), reject (TCP reset, ICMP administratively prohibited)");
	} else if ((val->kind != TOK_WORD && val->kind != TOK_STRING) || !valid_ifname(val->text, val->len)) {
		diag_error(r->d, at, "invalid interface name '%.*s'", (int)val->len, val->text);
		diag_hint(r->d, "1 to 15 characters without '/', ':' or spaces; 'eth*' matches every eth interface");
	} else if (r->p->n_deny_ifaces == POLICY_MAX_DENY_IFACES) {
		diag_error(r->d, at, "at most %d default_deny interfaces", POLICY_MAX_DENY_IFACES);
	} else {
		r->p->deny_reject[r->p->n_deny_ifaces] = how && token_is(how, "reject");
		r->p->deny_ifaces[r->p->n_deny_ifaces++] = tok_dup(r, tok);
	}
}

/* An internal domain (lan, corp, home.arpa's kin) that the public suffix list does not
 * know, so its default rule "*" makes it public: *.SUFFIX is then allowed. A suffix that is
 * on the list stays public; declaring it is an error, not a way around the check. */
static void set_option_private_suffix(struct resolver *r, uint32_t tok, struct loc at)
{
	const struct token *val = ast_tok(r->ast, tok);
	char norm[NAME_MAX_LEN + 1];
	enum name_kind kind;
	struct name_error err;
	if (val->broken)
		return;
	if (name_normalize(val->text, val->len, norm, &kind, &err) < 0 || kind != NAME_EXACT) {
		diag_error(r->d, at, "invalid private suffix '%.*s': %s", (int)val->len, val->text,
			   kind == NAME_EXACT ? err.message : "write the suffix alone, without '*.'");
		return;
	}
	if (!r->psl && !r->psl_tried) {
		r->psl = names_psl_load();
		r->psl_tried = true;
	}
	if (name_is_listed_suffix(r->psl, norm)) {
		diag_error(r->d, at, "'%s' is on the public suffix list: it cannot be a private suffix", norm);
		diag_hint(r->d, "private_suffix is for internal names the list does not know, such as lan or corp");
	} else if (r->n_private_suffixes == RESOLVE_MAX_PRIVATE_SUFFIXES) {
		diag_error(r->d, at, "at most %d private suffixes", RESOLVE_MAX_PRIVATE_SUFFIXES);
	} else if ((r->private_suffixes[r->n_private_suffixes] = arena_strdup(&r->p->arena, norm)) != NULL) {
		r->n_private_suffixes++;
	} else {
		r->oom = true;
	}
}

/* default_deny adds drop rules to pinhole's base chains, which sets-only mode does not have. */
static void check_mode(struct resolver *r)
{
	if (r->p->mode != POLICY_MODE_SETS_ONLY || r->p->n_deny_ifaces == 0)
		return;
	for (size_t i = 0; i < r->ast->n_stmts; i++) {
		const struct ast_stmt *s = &r->ast->stmts[i];
		if (s->kind == STMT_OPTION && token_is(ast_tok(r->ast, s->option.key_tok), "default_deny")) {
			diag_error(r->d, resolver_loc(r, s->option.key_tok),
				   "default_deny needs table mode: in sets-only mode your own chains decide what is dropped");
			return;
		}
	}
}

static void collect(struct resolver *r, struct vec *sets, struct vec *defs)
{
	for (size_t i = 0; i < r->ast->n_stmts; i++) {
		const struct ast_stmt *s = &r->ast->stmts[i];
		if (s->kind == STMT_DEFINE)
			collect_define(r, s, defs);
		else if (s->kind == STMT_SET)
			collect_set(r, s, sets);
		else if (s->kind == STMT_OPTION)
			set_option(r, s);
		else if (s->kind == STMT_PARAM)
			resolve_param_collect(r, s, defs);
	}
	check_mode(r);
}

static int port_cmp(const void *a, const void *b)
{
	const struct port_range *x = a, *y = b;
	return x->lo != y->lo ? (x->lo < y->lo ? -1 : 1) : (x->hi < y->hi ? -1 : x->hi > y->hi);
}

/* Sorts and merges overlapping or adjacent port ranges. */
static size_t merge_ports(struct port_range *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), port_cmp);
	size_t k = 0;
	for (size_t i = 1; i < n; i++) {
		if ((unsigned)v[i].lo <= (unsigned)v[k].hi + 1) {
			if (v[i].hi > v[k].hi)
				v[k].hi = v[i].hi;
		} else {
			v[++k] = v[i];
		}
	}
	return k + 1;
}

static char *decode_string(struct resolver *r, uint32_t tok)
{
	const struct token *t = ast_tok(r->ast, tok);
	char *s = arena_alloc(&r->p->arena, t->len + 1);
	if (!s) {
		r->oom = true;
		return NULL;
	}
	token_string_decode(t, s);
	return s;
}

static void warn_inbound_names(struct resolver *r, const struct ir_rule *rule)
{
	if (rule->dir != DIR_IN || (rule->set->n_names == 0 && rule->set->n_regexes == 0))
		return;
	diag_warn(r->d, "inbound-names", rule->loc,
		     "inbound rule from set '%s', which holds names: only addresses the guard learns from DNS answers "
		     "will match", rule->set->name);
}

/* The set a rule's @reference names, or NULL after reporting it undefined. */
static const struct ir_set *rule_set(struct resolver *r, uint32_t tok)
{
	const struct token *t = ast_tok(r->ast, tok);
	struct set_work *w = resolver_find_set(r, t->text, t->len);
	if (!w) {
		diag_error(r->d, resolver_loc(r, tok), "undefined set '%.*s'", (int)t->len, t->text);
		resolver_hint_similar(r, t->text, t->len, true);
		return NULL;
	}
	w->used = true;
	return &r->p->sets[w - r->sets];
}

/* A scope is matched by address in every backend (nft and ipset lookups, pf tables, Squid
 * src ACLs); no enforcement point learns a client's name. */
static const struct ir_set *rule_scope(struct resolver *r, const struct ast_rule *a, bool *ok)
{
	if (a->scope_tok == NO_TOKEN)
		return NULL;
	const struct ir_set *s = rule_set(r, a->scope_tok);
	if (!s) {
		*ok = false;
	} else if (s->n_names || s->n_regexes) {
		diag_error(r->d, resolver_loc(r, a->scope_tok), "set '%s' holds names: a rule's %s must be addresses",
			   s->name, a->dir == DIR_OUT ? "clients (out from @SET)" : "servers (in ... to @SET)");
		*ok = false;
	} else if (s->n_v4 == 0 && s->n_v6 == 0) {
		diag_error(r->d, resolver_loc(r, a->scope_tok), "set '%s' is empty: the rule would match nothing", s->name);
		*ok = false;
	}
	return s;
}

static void resolve_rule(struct resolver *r, const struct ast_stmt *s, struct ir_rule *out, bool *ok)
{
	const struct ast_rule *a = &s->rule;
	*ok = false;
	bool scope_ok = true;
	out->set = rule_set(r, a->set_tok);
	out->scope = rule_scope(r, a, &scope_ok);
	if (!out->set || !scope_ok)
		return;
	out->dir = a->dir;
	out->proto = a->proto;
	out->loc = resolver_loc(r, s->tok);
	out->comment = a->comment_tok != NO_TOKEN ? decode_string(r, a->comment_tok) : NULL;
	out->ports = arena_alloc(&r->p->arena, (a->n_ports ? a->n_ports : 1) * sizeof(*out->ports));
	if (!out->ports) {
		r->oom = true;
		return;
	}
	for (size_t i = 0; i < a->n_ports; i++)
		out->ports[i] = (struct port_range){ a->ports[i].lo, a->ports[i].hi };
	out->n_ports = merge_ports(out->ports, a->n_ports);
	warn_inbound_names(r, out);
	*ok = true;
}

static void resolve_rules(struct resolver *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->ast->n_stmts; i++)
		n += r->ast->stmts[i].kind == STMT_ALLOW;
	r->p->rules = arena_alloc(&r->p->arena, (n ? n : 1) * sizeof(struct ir_rule));
	if (!r->p->rules) {
		r->oom = true;
		return;
	}
	for (size_t i = 0; i < r->ast->n_stmts && !r->oom; i++) {
		bool ok;
		if (r->ast->stmts[i].kind != STMT_ALLOW)
			continue;
		resolve_rule(r, &r->ast->stmts[i], &r->p->rules[r->p->n_rules], &ok);
		r->p->n_rules += ok;
	}
}

static void resolve_sets(struct resolver *r)
{
	r->p->sets = arena_alloc(&r->p->arena, (r->n_sets ? r->n_sets : 1) * sizeof(struct ir_set));
	if (!r->p->sets) {
		r->oom = true;
		return;
	}
	r->p->n_sets = r->n_sets;
	for (size_t i = 0; i < r->n_sets && !r->oom && !diags_full(r->d); i++)
		resolve_set_elements(r, &r->sets[i]);
	for (size_t i = 0; i < r->n_sets && !r->oom && !diags_full(r->d); i++)
		resolve_set_build(r, &r->sets[i], &r->p->sets[i]);
}

struct kset_owner {
	char name[KSET_NAME_MAX];
	size_t set;
};

static int kset_owner_cmp(const void *a, const void *b)
{
	const struct kset_owner *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->set > y->set) - (x->set < y->set);
}

/* Kernel set names are derived (NAME_v4, NAME_dns_v4, ...), so two sets can ask for the
 * same one: a set "web_dns" with addresses and a set "web" with names both need
 * web_dns_v4. Caught here, before any backend silently merges them. */
static void check_kernel_set_names(struct resolver *r)
{
	struct kset_owner *v = malloc((r->p->n_sets * 4 + 1) * sizeof(*v));
	size_t n = 0;
	if (!v) {
		r->oom = true;
		return;
	}
	for (size_t i = 0; i < r->p->n_sets; i++)
		for (enum kset_kind k = KSET_V4; k <= KSET_DNS_V6; k++)
			if (kset_present(&r->p->sets[i], k)) {
				kset_name(v[n].name, &r->p->sets[i], k);
				v[n++].set = i;
			}
	qsort(v, n, sizeof(*v), kset_owner_cmp);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(v[i].name, v[i - 1].name)) {
			const struct ir_set *a = &r->p->sets[v[i - 1].set], *b = &r->p->sets[v[i].set];
			diag_error(r->d, b->loc, "sets '%s' and '%s' would both be the kernel set '%s'", a->name,
				   b->name, v[i].name);
			diag_hint(r->d, "rename one of them (kernel set names: pinhole.rules(5), KERNEL SET NAMES)");
		}
	free(v);
}

static bool ports_cover(const struct ir_rule *a, const struct ir_rule *b)
{
	if (a->n_ports == 0)
		return true;
	if (b->n_ports == 0)
		return false;
	for (size_t i = 0; i < b->n_ports; i++) {
		size_t k = 0;
		while (k < a->n_ports && !(a->ports[k].lo <= b->ports[i].lo && b->ports[i].hi <= a->ports[k].hi))
			k++;
		if (k == a->n_ports)
			return false;
	}
	return true;
}

/* Whether every packet rule b allows is allowed by rule a (same direction and set). */
static bool rule_covers(const struct ir_rule *a, const struct ir_rule *b)
{
	return a->dir == b->dir && a->set == b->set &&
	       (a->proto == PROTO_ANY || (a->proto == b->proto && ports_cover(a, b)));
}

static bool rule_equal(const struct ir_rule *a, const struct ir_rule *b)
{
	return rule_covers(a, b) && rule_covers(b, a) && a->proto == b->proto;
}

/* Rules of one set are compared pairwise with at most this many others on each side, so
 * a generated file of a million rules on one set stays linear. */
#define RULE_COMPARE_WINDOW 256

/* Rule indices grouped by set (counting sort, file order within a set). Returns NULL on
 * ENOMEM; *starts (n_sets + 1 entries) delimits the groups. */
static size_t *rules_by_set(const struct policy *p, size_t **starts)
{
	size_t *order = malloc((p->n_rules ? p->n_rules : 1) * sizeof(*order));
	*starts = calloc(p->n_sets + 2, sizeof(**starts));
	if (!order || !*starts) {
		free(order);
		free(*starts);
		return NULL;
	}
	for (size_t i = 0; i < p->n_rules; i++)
		(*starts)[(size_t)(p->rules[i].set - p->sets) + 2]++;
	for (size_t k = 2; k < p->n_sets + 2; k++)
		(*starts)[k] += (*starts)[k - 1];
	for (size_t i = 0; i < p->n_rules; i++)
		order[(*starts)[(size_t)(p->rules[i].set - p->sets) + 1]++] = i;
	return order;
}

/* Warns about rule g[j] of a group (rules of one set, in file order) when an earlier one
 * equals it or another one covers it. */
static void check_rule_in_group(struct resolver *r, const size_t *g, size_t n, size_t j)
{
	const struct ir_rule *v = r->p->rules, *rule = &v[g[j]];
	size_t from = j > RULE_COMPARE_WINDOW ? j - RULE_COMPARE_WINDOW : 0;
	size_t to = n - j > RULE_COMPARE_WINDOW ? j + RULE_COMPARE_WINDOW : n;
	for (size_t i = from; i < j; i++)
		if (rule_equal(&v[g[i]], rule)) {
			diag_warn(r->d, "duplicate-rule", rule->loc, "rule repeats the one at %s:%u", v[g[i]].loc.file,
				  v[g[i]].loc.line);
			return;
		}
	for (size_t i = from; i < to; i++)
		if (i != j && rule_covers(&v[g[i]], rule) && !rule_equal(&v[g[i]], rule)) {
			diag_warn(r->d, "shadowed-rule", rule->loc,
				  "rule allows nothing that the rule at %s:%u does not already allow", v[g[i]].loc.file,
				  v[g[i]].loc.line);
			return;
		}
}

/* An allowlist's order does not matter, so a rule that allows nothing another one does
 * not already allow is dead weight, usually a copy-paste leftover. Only rules of the same
 * set can cover each other. */
static void warn_redundant_rules(struct resolver *r)
{
	size_t *starts = NULL;
	size_t *order = rules_by_set(r->p, &starts);
	if (!order) {
		r->oom = true;
		return;
	}
	for (size_t k = 0; k < r->p->n_sets; k++)
		for (size_t j = 0; j < starts[k + 1] - starts[k]; j++)
			check_rule_in_group(r, order + starts[k], starts[k + 1] - starts[k], j);
	free(order);
	free(starts);
}

/* parse_errors: the lexer or parser reported one, so a rule may be missing and a set only
 * look unused. */
static void warn_unused_sets(struct resolver *r, bool parse_errors)
{
	size_t allows = 0;
	for (size_t i = 0; i < r->ast->n_stmts; i++)
		allows += r->ast->stmts[i].kind == STMT_ALLOW;
	if (parse_errors || allows != r->p->n_rules)
		return;
	/* A set with an error has its message already; "unused" on top of it is noise. */
	for (size_t i = 0; i < r->n_sets; i++)
		if (!r->sets[i].used && !r->sets[i].failed && !r->sets[i].ast->broken && r->sets[i].n_elements) {
			diag_warn(r->d, "unused-set", r->sets[i].loc, "set '%s' is never used", r->sets[i].name);
			diag_hint(r->d, "use it in a rule (allow out to @%s ...) or in another set, or remove it",
				  r->sets[i].name);
		}
}

static void warn_unused_defines(struct resolver *r)
{
	for (size_t i = 0; i < r->n_defines; i++)
		if (!r->defines[i].used)
			diag_warn(r->d, "unused-define", r->defines[i].loc, "define '%s' is never used", r->defines[i].name);
}

static void resolve_all(struct resolver *r, const struct compile_request *req)
{
	struct vec sets = { 0 }, defs = { 0 };
	bool parse_errors = diags_errors(r->d) > 0;	/* only the lexer and parser have spoken */
	collect(r, &sets, &defs);
	resolve_includes(r);
	apply_overrides(r, req);
	resolve_sets(r);
	if (!r->oom && !diags_full(r->d))
		resolve_records(r);
	if (!r->oom && !diags_errors(r->d))
		check_kernel_set_names(r);
	resolve_rules(r);
	warn_redundant_rules(r);
	warn_unused_sets(r, parse_errors);
	warn_unused_defines(r);
	resolve_params_warn(r);
	for (size_t i = 0; i < r->n_sets; i++) {
		vec_free(&r->sets[i].flat);
		cidr_v4_list_free(&r->sets[i].v4);
		cidr_list_free(&r->sets[i].ranges);
	}
	arena_free(&r->scratch);
	vec_free(&sets);
	vec_free(&defs);
}

struct policy *policy_compile(const struct compile_request *req, struct diags *d)
{
	const char *file = diags_add_source(d, req->file, req->text, req->len);
	struct policy *p = calloc(1, sizeof(*p));
	struct ast_file *ast = NULL;
	if (!file || !p || ast_parse(file, req->text, req->len, d, &ast) < 0)
		goto oom;
	struct resolver r = { .ast = ast, .d = d, .p = p, .req = req };
	r.file = arena_strdup(&p->arena, req->file);
	p->table = arena_strdup(&p->arena, DEFAULT_TABLE);
	if (!r.file || !p->table) {
		names_psl_free(r.psl);
		goto oom;
	}
	resolve_all(&r, req);
	names_psl_free(r.psl);
	ast_free(ast);
	if (r.oom)
		goto oom_freed;
	if (diags_errors(d)) {
		policy_free(p);
		return NULL;
	}
	return p;
oom:
	ast_free(ast);
oom_freed:
	policy_free(p);
	diag_error(d, (struct loc){ req->file, 0, 0 }, "out of memory");
	return NULL;
}
