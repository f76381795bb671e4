/* SPDX-License-Identifier: GPL-2.0-or-later */
/* explain_format.c — the answer of pinhole explain as text and as JSON. */
#include "explain_format.h"

#include <jansson.h>
#include <string.h>

#include "diff_text_internal.h"

static void element_text(const struct explain_element *el, char *buf, size_t max)
{
	switch (el->kind) {
	case EXPLAIN_PREFIX: {
		char text[CIDR_TEXT_MAX];
		cidr_format_prefix(text, &el->prefix);
		snprintf(buf, max, "%s", text);
		break;
	}
	case EXPLAIN_EXACT:
		if (el->alias && el->alias->target_set)
			snprintf(buf, max, "%s (your CNAME alias into set %s)", el->text, el->alias->target_set->name);
		else if (el->alias)
			snprintf(buf, max, "%s (your CNAME alias of %s%s)", el->text,
				 el->alias->target_kind == NAME_WILDCARD ? "*." : "", el->alias->target);
		else
			snprintf(buf, max, "%s", el->text);
		break;
	case EXPLAIN_WILDCARD: snprintf(buf, max, "*.%s", el->text); break;
	case EXPLAIN_REGEX: snprintf(buf, max, "~\"%s\"", el->text); break;
	}
}

static void target_fit(const struct explain_target *t, char *buf, size_t max)
{
	const char *proto = t->proto == PROTO_TCP ? "/tcp" : t->proto == PROTO_UDP ? "/udp" : "";
	snprintf(buf, max, "port %u%s", t->port, proto);
}

/* Why a near miss does not allow: "port 80/tcp does not fit; 10.1.0.9 is not in set clients". */
static void miss_text(const struct explain_rule *er, const struct explain_target *t, FILE *out)
{
	char fit[64], local[CIDR_TEXT_MAX];
	fputs(" (", out);
	if (!er->ports_fit) {
		target_fit(t, fit, sizeof(fit));
		fprintf(out, "%s does not fit%s", fit, er->scope == EXPLAIN_SCOPE_OUT ? "; " : "");
	}
	if (er->scope == EXPLAIN_SCOPE_OUT) {
		cidr_format_addr(local, t->local_family, t->local_addr);
		fprintf(out, "%s is not in set %s", local, er->rule->scope->name);
	}
	fputc(')', out);
}

/* Under an allowing rule with a scope: for whom it allows. */
static void text_scope(const struct explain_rule *er, const struct explain_target *t, FILE *out)
{
	char local[CIDR_TEXT_MAX];
	const char *end = er->rule->dir == DIR_OUT ? "clients" : "servers";
	if (er->scope == EXPLAIN_SCOPE_UNASKED)
		fprintf(out, "    only for the %s in set %s (--local ADDRESS asks for one)\n", end, er->rule->scope->name);
	else if (er->scope == EXPLAIN_SCOPE_IN) {
		cidr_format_addr(local, t->local_family, t->local_addr);
		fprintf(out, "    for %s, one of the %s in set %s\n", local, end, er->rule->scope->name);
	}
}

static void text_rule(const struct explain_rule *er, const struct explain_target *t, FILE *out)
{
	char rule[DIFF_LINE_MAX], where[DIFF_LINE_MAX];
	diff_rule_text(er->rule, rule, sizeof(rule));
	diff_sources_text(&er->rule->loc, 1, where, sizeof(where));
	fprintf(out, "  %s%s", er->allows ? "" : "not by ", rule);
	if (!er->allows)
		miss_text(er, t, out);
	fprintf(out, "%s%s", *where ? "  " : "", where);
	if (er->rule->comment)
		fprintf(out, "  \"%s\"", er->rule->comment);
	fputc('\n', out);
}

/* "    LEAD192.28.144.0/20 in set marketo_senders  rules/marketo.rules:24" */
static void text_element(const struct explain_hit *h, const char *lead, FILE *out)
{
	char el[NAME_MAX_LEN + CIDR_TEXT_MAX + 8], where[DIFF_LINE_MAX];
	element_text(&h->element, el, sizeof(el));
	diff_sources_text(h->element.sources, h->element.n_sources, where, sizeof(where));
	fprintf(out, "    %s%s in set %s%s%s\n", lead, el, h->set->name, *where ? "  " : "", where);
}

static void text_hit(const struct explain_hit *h, const struct explain_target *t, bool allowing, FILE *out)
{
	if (!h->n_rules) {
		if (allowing)
			return;
		fprintf(out, "  set %s holds it, but no rule uses that set\n", h->set->name);
		text_element(h, "", out);
		return;
	}
	for (size_t k = 0; k < h->n_rules; k++) {
		if (h->rules[k].allows != allowing)
			continue;
		text_rule(&h->rules[k], t, out);
		if (allowing) {
			text_element(h, h->rules[k].rule->dir == DIR_OUT ? "outbound to it, via " : "inbound from it, via ", out);
			text_scope(&h->rules[k], t, out);
		} else
			text_element(h, "", out);
	}
}

static int render_text(const struct explanation *e, const char *target_text, const char *label, FILE *out)
{
	fprintf(out, "%s is %s by %s\n", target_text, e->allowed ? "allowed" : "NOT allowed", label);
	/* Allowing rules first: the answer; then near misses and unused sets: the explanation. */
	for (size_t i = 0; i < e->n_hits; i++)
		text_hit(&e->hits[i], &e->target, true, out);
	for (size_t i = 0; i < e->n_hits; i++)
		text_hit(&e->hits[i], &e->target, false, out);
	if (!e->n_hits)
		fprintf(out, "  no set holds it\n");
	if (e->base_wildcard) {
		char where[DIFF_LINE_MAX];
		diff_sources_text(&e->base_wildcard->loc, 1, where, sizeof(where));
		fprintf(out, "  note: *.%s in set %s%s%s matches only names below %s, not %s itself\n",
			e->base_wildcard->name, e->base_set->name, *where ? " at " : "", where, e->base_wildcard->name,
			e->base_wildcard->name);
	}
	return ferror(out) ? -1 : 0;
}

static json_t *sources_json(const struct loc *v, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		if (v[i].file)
			json_array_append_new(arr, json_sprintf("%s:%u", v[i].file, v[i].line));
	return arr;
}

/* null without a scope, else { "set", "local": "unasked"|"in"|"out" } */
static json_t *scope_json(const struct explain_rule *er)
{
	static const char *const words[] = { [EXPLAIN_SCOPE_UNASKED] = "unasked", [EXPLAIN_SCOPE_IN] = "in",
					     [EXPLAIN_SCOPE_OUT] = "out" };
	if (er->scope == EXPLAIN_SCOPE_NONE)
		return json_null();
	return json_pack("{s:s, s:s}", "set", er->rule->scope->name, "local", words[er->scope]);
}

static json_t *hit_json(const struct explain_hit *h)
{
	static const char *const kinds[] = { "prefix", "exact", "wildcard", "regex" };
	char el[NAME_MAX_LEN + CIDR_TEXT_MAX + 8], rule[DIFF_LINE_MAX];
	json_t *rules = json_array();
	for (size_t k = 0; k < h->n_rules; k++) {
		diff_rule_text(h->rules[k].rule, rule, sizeof(rule));
		json_array_append_new(rules, json_pack("{s:s, s:b, s:o, s:o}", "rule", rule, "allows", h->rules[k].allows,
						       "scope", scope_json(&h->rules[k]), "sources",
						       sources_json(&h->rules[k].rule->loc, 1)));
	}
	element_text(&h->element, el, sizeof(el));
	return json_pack("{s:s, s:{s:s, s:s, s:o}, s:o}", "set", h->set->name, "element", "kind",
			 kinds[h->element.kind], "text", el, "sources",
			 sources_json(h->element.sources, h->element.n_sources), "rules", rules);
}

static int render_json(const struct explanation *e, const char *target_text, const char *label, FILE *out)
{
	json_t *hits = json_array();
	for (size_t i = 0; i < e->n_hits; i++)
		json_array_append_new(hits, hit_json(&e->hits[i]));
	json_t *root = json_pack("{s:i, s:s, s:s, s:b, s:o}", "format", 1, "target", target_text, "rules_file", label,
				 "allowed", e->allowed, "sets", hits);
	int ret = root ? json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : -1;
	json_decref(root);
	if (ret == 0)
		fputc('\n', out);
	return ret == 0 && !ferror(out) ? 0 : -1;
}

int explanation_render(const struct explanation *e, const char *target_text, const char *label, bool json, FILE *out)
{
	return json ? render_json(e, target_text, label, out) : render_text(e, target_text, label, out);
}
