/* SPDX-License-Identifier: GPL-2.0-or-later */
/* json.c — the IR as JSON, for tools and reviewers' bots. Schema in pinhole.rules(5). */
#include "backend.h"

#include <jansson.h>

#define SOURCE_MAX 512

static json_t *source_of(struct loc loc)
{
	return json_sprintf("%s:%u", loc.file, loc.line);
}

static json_t *prefixes_json(const struct ir_set *s, const struct ir_prefix *v, size_t n)
{
	json_t *arr = json_array();
	char text[CIDR_TEXT_MAX];
	for (size_t i = 0; i < n; i++) {
		json_t *sources = json_array();
		for (uint32_t k = 0; k < v[i].origin_count; k++)
			json_array_append_new(sources, source_of(s->origins[v[i].origin_first + k]));
		cidr_format_prefix(text, &v[i].prefix);
		json_array_append_new(arr, json_pack("{s:s, s:o}", "prefix", text, "sources", sources));
	}
	return arr;
}

static json_t *names_json(const struct ir_set *s)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < s->n_names; i++) {
		const struct ir_name *n = &s->names[i];
		json_array_append_new(arr, json_pack("{s:s, s:s, s:o}", "name", n->name, "kind",
						     n->kind == NAME_WILDCARD ? "wildcard" : "exact", "source",
						     source_of(n->loc)));
	}
	return arr;
}

static json_t *regexes_json(const struct ir_set *s)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < s->n_regexes; i++)
		json_array_append_new(arr, json_pack("{s:s, s:o}", "regex", s->regexes[i].pattern, "source",
						     source_of(s->regexes[i].loc)));
	return arr;
}

static json_t *ksets_json(const struct ir_set *s)
{
	static const char *const keys[] = { "v4", "v6", "dns_v4", "dns_v6" };
	json_t *obj = json_object();
	char name[KSET_NAME_MAX];
	for (enum kset_kind k = KSET_V4; k <= KSET_DNS_V6; k++) {
		if (!kset_present(s, k))
			continue;
		kset_name(name, s, k);
		json_object_set_new(obj, keys[k], json_string(name));
	}
	return obj;
}

static json_t *set_json(const struct ir_set *s)
{
	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "name", s->name, "source", source_of(s->loc),
			 "v4", prefixes_json(s, s->v4, s->n_v4), "v6", prefixes_json(s, s->v6, s->n_v6), "names",
			 names_json(s), "regexes", regexes_json(s), "kernel_sets", ksets_json(s));
}

static json_t *rule_json(const struct ir_rule *r)
{
	json_t *ports = json_array();
	for (size_t i = 0; i < r->n_ports; i++)
		json_array_append_new(ports, json_pack("{s:i, s:i}", "from", r->ports[i].lo, "to", r->ports[i].hi));
	const char *proto = r->proto == PROTO_TCP ? "tcp" : r->proto == PROTO_UDP ? "udp" : "any";
	/* "scope" (the clients of out, the servers of in) only when the rule has one */
	return json_pack("{s:s, s:s, s:s*, s:s, s:o, s:s?, s:o}", "direction", r->dir == DIR_OUT ? "out" : "in", "set",
			 r->set->name, "scope", r->scope ? r->scope->name : NULL, "protocol", proto, "ports", ports,
			 "comment", r->comment, "source", source_of(r->loc));
}

static int json_emit(const struct policy *p, const struct backend_options *o, FILE *out, struct diags *d)
{
	json_t *sets = json_array(), *rules = json_array();
	for (size_t i = 0; i < p->n_sets; i++)
		json_array_append_new(sets, set_json(&p->sets[i]));
	for (size_t i = 0; i < p->n_rules; i++)
		json_array_append_new(rules, rule_json(&p->rules[i]));
	json_t *root = json_pack("{s:i, s:s, s:i, s:o, s:o}", "format", 1, "table", p->table, "priority",
				 p->priority, "sets", sets, "rules", rules);
	int ret = root ? json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : -1;
	json_decref(root);
	if (ret == 0)
		fputc('\n', out);
	return ret == 0 && !ferror(out) ? 0 : -1;
}

const struct backend backend_json = {
	.name = "json",
	.summary = "the compiled policy (IR) as JSON",
	.emit = json_emit,
};
