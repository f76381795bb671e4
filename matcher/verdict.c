/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verdict.c — `allow out` rules over compiled domain sets. */
#include "verdict.h"

#include <stdlib.h>

struct verdict_rule {
	const struct ir_rule *rule;
	struct domset *names;	/* shared with other rules on the same set; owned by the table */
};

struct verdict_table {
	struct verdict_rule *rules;	/* the allow-out rules whose set holds names, in file order */
	size_t n_rules;
	struct domset **sets;		/* one per distinct set, for freeing */
	size_t n_sets;
};

void verdict_table_free(struct verdict_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_sets; i++)
		domset_free(t->sets[i]);
	free(t->sets);
	free(t->rules);
	free(t);
}

struct domset *verdict_compile_set(const struct ir_set *set, const char **why)
{
	struct domset *d = domset_new();
	*why = "out of memory";
	for (size_t i = 0; d && i < set->n_names; i++)
		if (domset_add_name(d, set->names[i].name, set->names[i].kind, set->names[i].loc) < 0)
			goto fail;
	for (size_t i = 0; d && i < set->n_regexes; i++)
		if (domset_add_regex(d, set->regexes[i].pattern, set->regexes[i].loc, why) < 0)
			goto fail;
	if (d && domset_build(d) == 0)
		return d;
fail:
	domset_free(d);
	return NULL;
}

/* The domain set already built for set, or a new one. */
static struct domset *set_for(struct verdict_table *t, const struct policy *p, const struct ir_set *set,
			      const char **why)
{
	for (size_t i = 0; i < t->n_rules; i++)
		if (t->rules[i].rule->set == set)
			return t->rules[i].names;
	struct domset *d = verdict_compile_set(set, why);
	if (d)
		t->sets[t->n_sets++] = d;
	return d;
}

struct verdict_table *verdict_table_new(const struct policy *p, const char **why)
{
	struct verdict_table *t = calloc(1, sizeof(*t));
	*why = "out of memory";
	if (!t || !(t->rules = calloc(p->n_rules + 1, sizeof(*t->rules))) ||
	    !(t->sets = calloc(p->n_rules + 1, sizeof(*t->sets))))
		goto fail;
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct ir_rule *r = &p->rules[i];
		if (r->dir != DIR_OUT || (r->set->n_names == 0 && r->set->n_regexes == 0))
			continue;
		struct domset *d = set_for(t, p, r->set, why);
		if (!d)
			goto fail;
		t->rules[t->n_rules++] = (struct verdict_rule){ r, d };
	}
	return t;
fail:
	verdict_table_free(t);
	return NULL;
}

static bool port_allowed(const struct ir_rule *r, uint16_t port)
{
	if (r->n_ports == 0)
		return true;
	for (size_t i = 0; i < r->n_ports; i++)
		if (port >= r->ports[i].lo && port <= r->ports[i].hi)
			return true;
	return false;
}

/* any_flow: ignore protocol and port (a name asked about on its own, or a DNS answer). */
static bool lookup(struct verdict_table *t, const char *name, size_t len, bool any_flow, enum ast_proto proto,
		   uint16_t port, struct verdict_hit *hit)
{
	struct domset *last = NULL;
	const struct domset_elem *e = NULL;
	*hit = (struct verdict_hit){ 0 };
	for (size_t i = 0; i < t->n_rules; i++) {
		const struct verdict_rule *vr = &t->rules[i];
		if (!any_flow && ((vr->rule->proto != PROTO_ANY && vr->rule->proto != proto) ||
				  !port_allowed(vr->rule, port)))
			continue;
		if (vr->names != last)	/* consecutive rules on one set: one lookup */
			e = domset_match(vr->names, name, len);
		last = vr->names;
		if (e) {
			*hit = (struct verdict_hit){ vr->rule, e };
			return true;
		}
	}
	return false;
}

bool verdict_name(struct verdict_table *t, const char *name, size_t len, struct verdict_hit *hit)
{
	return lookup(t, name, len, true, PROTO_ANY, 0, hit);
}

bool verdict_flow(struct verdict_table *t, const char *name, size_t len, enum ast_proto proto, uint16_t port,
		  struct verdict_hit *hit)
{
	return lookup(t, name, len, false, proto, port, hit);
}
