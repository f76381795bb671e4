/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diff_json.c — a policy diff for bots, written with jansson. The schema ("format": 1) is
 * documented in pinhole(8), DIFF JSON; fields are only ever added. Address counts are
 * decimal strings because IPv6 counts do not fit a JSON number exactly. */
#include <jansson.h>

#include "diff_format.h"
#include "diff_text_internal.h"

/* "file:line", or null when the source is unknown (e.g. the kernel). */
static json_t *source_json(const struct loc *loc)
{
	return loc->file ? json_sprintf("%s:%u", loc->file, loc->line) : json_null();
}

static json_t *count_json(const struct addr_count *c)
{
	char text[ADDR_COUNT_TEXT_MAX];
	addr_count_decimal(text, c);
	return json_string(text);
}

static json_t *prefixes_json(const struct diff_prefix *v, size_t n)
{
	json_t *arr = json_array();
	char text[CIDR_TEXT_MAX];
	for (size_t i = 0; i < n; i++) {
		json_t *sources = json_array();
		for (size_t k = 0; k < v[i].n_sources; k++)
			if (v[i].sources[k].file)
				json_array_append_new(sources, source_json(&v[i].sources[k]));
		struct addr_count c = { 0 };
		addr_count_add_prefix(&c, &v[i].prefix);
		cidr_format_prefix(text, &v[i].prefix);
		json_array_append_new(arr, json_pack("{s:s, s:i, s:o, s:o}", "prefix", text, "family",
						     v[i].prefix.family, "addresses", count_json(&c), "sources", sources));
	}
	return arr;
}

static json_t *addresses_json(const struct diff_prefixes *a)
{
	return json_pack("{s:o, s:o, s:{s:o, s:o}, s:{s:o, s:o}}", "added", prefixes_json(a->added, a->n_added),
			 "removed", prefixes_json(a->removed, a->n_removed), "added_count", "v4",
			 count_json(&a->added_v4), "v6", count_json(&a->added_v6), "removed_count", "v4",
			 count_json(&a->removed_v4), "v6", count_json(&a->removed_v6));
}

static json_t *name_json(const struct diff_name *n)
{
	json_t *covers = json_array();
	for (size_t k = 0; k < n->n_covers; k++)
		json_array_append_new(covers, json_string(n->covers[k]));
	json_t *covered_by = n->covered_by ? json_sprintf("*.%s", n->covered_by) : json_null();
	return json_pack("{s:s, s:s, s:o, s:o, s:o}", "name", n->name, "kind",
			 n->kind == NAME_WILDCARD ? "wildcard" : "exact", "source", source_json(&n->loc), "covers",
			 covers, "covered_by", covered_by);
}

static json_t *names_json(const struct diff_names *n)
{
	json_t *added = json_array(), *removed = json_array();
	for (size_t i = 0; i < n->n_added; i++)
		json_array_append_new(added, name_json(&n->added[i]));
	for (size_t i = 0; i < n->n_removed; i++)
		json_array_append_new(removed, name_json(&n->removed[i]));
	return json_pack("{s:o, s:o}", "added", added, "removed", removed);
}

static json_t *regex_list_json(const struct diff_regex *v, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:o}", "regex", v[i].pattern, "source", source_json(&v[i].loc)));
	return arr;
}

static json_t *set_json(const struct set_diff *sd)
{
	return json_pack("{s:s, s:s?, s:s, s:b, s:b, s:o, s:o, s:o, s:o}", "name", sd->name, "old_name", sd->old_name,
			 "change", diff_set_change_word(sd->change), "widening", sd->widening, "used", sd->used,
			 "source", source_json(&sd->loc), "addresses", addresses_json(&sd->addresses), "names",
			 names_json(&sd->names), "regexes",
			 json_pack("{s:o, s:o}", "added", regex_list_json(sd->regexes.added, sd->regexes.n_added),
				   "removed", regex_list_json(sd->regexes.removed, sd->regexes.n_removed)));
}

static json_t *ports_json(const struct port_range *v, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:i, s:i}", "from", v[i].lo, "to", v[i].hi));
	return arr;
}

/* The same fields as a rule in "pinhole compile -b json". */
static json_t *rule_json(const struct ir_rule *r)
{
	if (!r)
		return json_null();
	const char *proto = r->proto == PROTO_TCP ? "tcp" : r->proto == PROTO_UDP ? "udp" : "any";
	return json_pack("{s:s, s:s, s:s*, s:s, s:o, s:s?, s:o}", "direction", r->dir == DIR_OUT ? "out" : "in", "set",
			 r->set->name, "scope", r->scope ? r->scope->name : NULL, "protocol", proto, "ports",
			 ports_json(r->ports, r->n_ports), "comment", r->comment, "source", source_json(&r->loc));
}

static json_t *rule_diff_json(const struct rule_diff *rd)
{
	static const char *const words[] = { "direction", "protocol", "ports", "scope" };
	json_t *changes = json_array();
	for (unsigned bit = 0; bit < 4; bit++)
		if (rd->what & 1u << bit)
			json_array_append_new(changes, json_string(words[bit]));
	return json_pack("{s:s, s:b, s:o, s:o, s:o, s:o, s:o}", "change", diff_rule_change_word(rd->change),
			 "widening", rd->widening, "changes", changes, "old", rule_json(rd->old_rule), "new",
			 rule_json(rd->new_rule), "ports_added", ports_json(rd->ports_added, rd->n_ports_added),
			 "ports_removed", ports_json(rd->ports_removed, rd->n_ports_removed));
}

static json_t *options_json(const struct policy_diff *d)
{
	json_t *table = d->old_table ? json_pack("{s:s, s:s}", "old", d->old_table, "new", d->new_table) : json_null();
	json_t *prio = d->priority_changed ? json_pack("{s:i, s:i}", "old", d->old_priority, "new", d->new_priority)
					   : json_null();
	json_t *mode = d->mode_changed ? json_pack("{s:s, s:s}", "old", policy_mode_name(d->old_mode), "new",
						   policy_mode_name(d->new_mode))
				       : json_null();
	json_t *added = json_array(), *removed = json_array();
	for (size_t i = 0; i < d->n_deny_added; i++)
		json_array_append_new(added, json_string(d->deny_added[i]));
	for (size_t i = 0; i < d->n_deny_removed; i++)
		json_array_append_new(removed, json_string(d->deny_removed[i]));
	json_t *how = json_array();
	for (size_t i = 0; i < d->n_deny_changed; i++)
		json_array_append_new(how, json_pack("{s:s, s:s, s:s}", "interface", d->deny_changed[i], "old",
						     d->deny_rejects[i] ? "drop" : "reject", "new",
						     d->deny_rejects[i] ? "reject" : "drop"));
	return json_pack("{s:o, s:o, s:o, s:{s:o, s:o, s:o}}", "table", table, "priority", prio, "mode", mode,
			 "default_deny", "added", added, "removed", removed, "changed", how);
}

int diff_render_json(const struct policy_diff *d, FILE *out)
{
	char summary[DIFF_LINE_MAX];
	json_t *sets = json_array(), *rules = json_array();
	for (size_t i = 0; i < d->n_sets; i++)
		json_array_append_new(sets, set_json(&d->sets[i]));
	for (size_t i = 0; i < d->n_rules; i++)
		json_array_append_new(rules, rule_diff_json(&d->rules[i]));
	diff_summary(d, summary, sizeof(summary));
	json_t *root = json_pack("{s:i, s:s, s:s, s:b, s:b, s:s, s:o, s:o, s:o}", "format", 1, "old", d->old_label,
				 "new", d->new_label, "changed", !policy_diff_empty(d), "widening", d->widening,
				 "summary", summary, "options", options_json(d), "sets", sets, "rules", rules);
	int ret = root ? json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : -1;
	json_decref(root);
	if (ret == 0)
		fputc('\n', out);
	return ret == 0 && !ferror(out) ? 0 : -1;
}
