/* SPDX-License-Identifier: GPL-2.0-or-later */
/* apply_json.c — the JSON documents of apply and remove --format json (apply_json.h). */
#include <stdio.h>
#include <string.h>

#include "apply_json.h"

static const char *mode_word(enum nk_mode m)
{
	return m == NK_MODE_TABLE ? "table" : "sets-only";
}

static const char *action_name(enum nk_action a)
{
	switch (a) {
	case NK_CREATE: return "create";
	case NK_DELETE: return "delete";
	case NK_RECREATE: return "recreate";
	case NK_REWRITE: return "rewrite";
	default: return "keep";
	}
}

/* null for 0 / NULL, so that a document says "not known" rather than a made-up value */
static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *line_or_null(unsigned line)
{
	return line ? json_integer(line) : json_null();
}

void apply_record_init(struct apply_record *r)
{
	memset(r, 0, sizeof(*r));
}

void apply_record_free(struct apply_record *r)
{
	json_decref(r->plan);
	json_decref(r->counts);
	json_decref(r->errors);
	apply_record_init(r);
}

/* ---- the plan ---- */

static json_t *set_entry(const struct nk_set_delta *sd)
{
	const struct nk_set *set = sd->want ? sd->want : sd->have;
	bool all = sd->action == NK_CREATE || sd->action == NK_RECREATE;
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:b}", "name", set->name, "action", action_name(sd->action),
			 "elements_added", (json_int_t)(all ? set->n_elems : sd->n_add), "elements_removed",
			 (json_int_t)sd->n_del, "elements", (json_int_t)set->n_elems, "learnt", set->kind >= KSET_DNS_V4);
}

static json_t *chain_entry(const struct nk_chain_delta *cd)
{
	const struct nk_chain *ch = cd->want ? cd->want : cd->have;
	return json_pack("{s:s, s:s, s:I, s:I}", "name", ch->name, "action", action_name(cd->action), "rules",
			 (json_int_t)(cd->want ? cd->want->n_rules : 0), "rules_before",
			 (json_int_t)(cd->have ? cd->have->n_rules : 0));
}

/* The objects that change; sets and chains with nothing to do are left out. */
static json_t *plan_json(const struct nk_delta *d)
{
	json_t *sets = json_array(), *chains = json_array();
	for (size_t i = 0; i < d->n_sets; i++) {
		const struct nk_set_delta *sd = &d->sets[i];
		if (sd->action != NK_KEEP || sd->n_add || sd->n_del || sd->refused)
			json_array_append_new(sets, set_entry(sd));
	}
	for (size_t i = 0; i < d->n_chains; i++)
		if (d->chains[i].action != NK_KEEP)
			json_array_append_new(chains, chain_entry(&d->chains[i]));
	const char *table = d->remake_table ? "remake" : d->create_table ? "create" : "keep";
	return json_pack("{s:s, s:o, s:o}", "table", table, "sets", sets, "chains", chains);
}

struct counts {
	size_t sets_created, sets_deleted, sets_recreated;
	size_t chains_created, chains_deleted, chains_rewritten, rules_added, rules_removed;
};

/* A rewritten or recreated chain has all its rules replaced, as the batch does it. */
static void count_chain(struct counts *c, const struct nk_chain_delta *cd)
{
	size_t want = cd->want ? cd->want->n_rules : 0, have = cd->have ? cd->have->n_rules : 0;
	switch (cd->action) {
	case NK_CREATE: c->chains_created++; c->rules_added += want; break;
	case NK_DELETE: c->chains_deleted++; c->rules_removed += have; break;
	case NK_REWRITE:
	case NK_RECREATE: c->chains_rewritten++; c->rules_added += want; c->rules_removed += have; break;
	default: break;
	}
}

static json_t *counts_json(const struct nk_delta *d)
{
	struct counts c = { 0 };
	for (size_t i = 0; i < d->n_sets; i++) {
		enum nk_action a = d->sets[i].action;
		c.sets_created += a == NK_CREATE;
		c.sets_deleted += a == NK_DELETE;
		c.sets_recreated += a == NK_RECREATE;
	}
	for (size_t i = 0; i < d->n_chains; i++)
		count_chain(&c, &d->chains[i]);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "elements_added",
			 (json_int_t)nk_delta_elems_added(d), "elements_removed", (json_int_t)nk_delta_elems_deleted(d),
			 "sets_created", (json_int_t)c.sets_created, "sets_deleted", (json_int_t)c.sets_deleted,
			 "sets_recreated", (json_int_t)c.sets_recreated, "chains_created", (json_int_t)c.chains_created,
			 "chains_deleted", (json_int_t)c.chains_deleted, "chains_rewritten",
			 (json_int_t)c.chains_rewritten, "rules_added", (json_int_t)c.rules_added, "rules_removed",
			 (json_int_t)c.rules_removed);
}

void apply_record_plan(struct apply_record *r, const struct nl_plan *plan, const struct nk_ruleset *want)
{
	json_decref(r->plan);
	json_decref(r->counts);
	snprintf(r->table, sizeof(r->table), "%s", want->table);
	r->mode = want->mode;
	r->generation = plan->live.genid;
	r->from_cache = plan->from_cache;
	r->changed = plan->delta.n_changes > 0;
	r->plan = plan_json(&plan->delta);
	r->counts = counts_json(&plan->delta);
}

/* ---- the kernel's answer ---- */

static json_t *error_json(const char *what, const char *reason, const char *message, struct loc loc)
{
	return json_pack("{s:s, s:s, s:o, s:o, s:o}", "what", what, "reason", reason, "message",
			 string_or_null(message), "file", string_or_null(loc.line ? loc.file : NULL), "line",
			 line_or_null(loc.line));
}

static json_t *kernel_errors_json(const struct nl_result *res)
{
	json_t *errors = json_array();
	for (size_t i = 0; i < res->n_errors; i++) {
		const struct nl_error *e = &res->errors[i];
		json_array_append_new(errors, error_json(e->what, e->reason ? e->reason : strerror(e->err),
							 e->message, e->loc));
	}
	return errors;
}

void apply_record_result(struct apply_record *r, const struct nl_result *res)
{
	json_decref(r->errors);
	r->errors = kernel_errors_json(res);
	r->committed = res->committed;
	r->generation_after = res->committed ? res->genid_after : 0;
	r->sent = res->n_messages > 0;
	r->messages = res->n_messages;
	r->bytes = res->n_bytes;
}

void apply_record_unchanged(struct apply_record *r, const char *table, enum nk_mode mode, uint32_t generation)
{
	snprintf(r->table, sizeof(r->table), "%s", table);
	r->mode = mode;
	r->generation = generation;
	r->unchanged_source = true;
	r->from_cache = true;
}

void apply_record_confirm(struct apply_record *r, long seconds, time_t deadline)
{
	r->confirm_seconds = seconds;
	r->confirm_deadline = deadline;
}

/* The shortcut compiles nothing, so the mode comes from the kernel: only a table that
 * pinhole owns whole carries its mark. */
static void record_unchanged(struct apply_record *r, struct nl_session *s, const char *table, uint32_t genid)
{
	struct nk_ruleset live;
	enum nk_mode mode = NK_MODE_TABLE;
	if (s && nl_ruleset_read(s, table, NK_MODE_TABLE, NL_READ_OBJECTS, &live) == 0) {
		mode = live.table_marked ? NK_MODE_TABLE : NK_MODE_SETS_ONLY;
		nk_ruleset_free(&live);
	}
	apply_record_unchanged(r, table, mode, genid);
}

void apply_record_from(struct apply_record *rec, const struct apply_result *r, struct nl_session *s)
{
	for (size_t i = 0; i < r->n_events; i++) {
		const struct apply_event *ev = &r->events[i];
		if (ev->rollback)
			continue;
		if (ev->kind == APPLY_EV_PLAN) {
			apply_record_plan(rec, &ev->attempt->plan, ev->attempt->want);
			apply_record_result(rec, &ev->attempt->commit);
		} else if (ev->kind == APPLY_EV_UNCHANGED) {
			record_unchanged(rec, s, ev->table, (uint32_t)ev->n);
		} else if (ev->kind == APPLY_EV_CONFIRM_BY) {
			apply_record_confirm(rec, ev->n, r->confirm_deadline);
		}
	}
}

/* ---- the documents ---- */

/* The errors of the run: the kernel's, else the rules file's (compiling, parameters). */
static json_t *errors_json(const struct apply_record *r, const struct diags *d)
{
	if (r->errors && json_array_size(r->errors))
		return json_incref(r->errors);
	json_t *errors = json_array();
	for (size_t i = 0; d && i < diags_count(d); i++) {
		const struct diag *g = diags_get(d, i);
		if (g->severity == SEV_ERROR)
			json_array_append_new(errors, error_json("rules file", g->message, NULL, g->loc));
	}
	return errors;
}

static json_t *confirm_json(const struct apply_record *r)
{
	char deadline[32];
	struct tm tm;
	if (!r->confirm_seconds || !gmtime_r(&r->confirm_deadline, &tm))
		return json_null();
	strftime(deadline, sizeof(deadline), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_pack("{s:I, s:s}", "seconds", (json_int_t)r->confirm_seconds, "deadline", deadline);
}

static int print_doc(json_t *doc, FILE *out)
{
	int ret = doc && json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 && fputc('\n', out) != EOF
			  ? 0
			  : -1;
	json_decref(doc);
	return ret;
}

int apply_record_print(const struct apply_record *r, bool dry_run, const struct diags *d, FILE *out)
{
	json_t *batch = r->sent ? json_pack("{s:I, s:I}", "messages", (json_int_t)r->messages, "bytes",
					    (json_int_t)r->bytes)
				: json_null();
	json_t *plan = r->plan ? json_incref(r->plan) : json_null();
	json_t *counts = r->counts ? json_incref(r->counts) : counts_json(&(struct nk_delta){ 0 });
	json_t *doc = json_pack("{s:s, s:b, s:o, s:o, s:o, s:b, s:b, s:o, s:o, s:b, s:b, s:o, s:o, s:o, s:o, s:o}",
				"command", "apply", "dry_run", dry_run, "table", string_or_null(*r->table ? r->table : NULL), "family",
				json_string("inet"), "mode", string_or_null(*r->table ? mode_word(r->mode) : NULL), "changed",
				r->changed, "committed", r->committed, "generation",
				*r->table ? json_integer(r->generation) : json_null(), "generation_after",
				r->committed ? json_integer(r->generation_after) : json_null(), "from_cache",
				r->from_cache, "unchanged_source", r->unchanged_source, "counts", counts, "plan", plan,
				"batch", batch, "confirm", confirm_json(r), "errors", errors_json(r, d));
	return print_doc(doc, out);
}

/* ---- remove ---- */

static json_t *removal_counts(const struct nk_ruleset *live, bool owned)
{
	size_t tables = 0, sets = 0, chains = 0, rules = 0;
	if (owned && live->mode == NK_MODE_TABLE) {
		tables = 1;
		sets = live->n_sets;
		chains = live->n_chains;
		for (size_t i = 0; i < live->n_chains; i++)
			rules += live->chains[i].n_rules;
	}
	for (size_t i = 0; owned && live->mode == NK_MODE_SETS_ONLY && i < live->n_sets; i++)
		sets += !live->sets[i].foreign;
	return json_pack("{s:I, s:I, s:I, s:I}", "tables_deleted", (json_int_t)tables, "sets_deleted", (json_int_t)sets,
			 "chains_deleted", (json_int_t)chains, "rules_removed", (json_int_t)rules);
}

void remove_record_table(struct remove_record *r, const struct nk_ruleset *live, bool owned,
			 const struct nl_result *res, bool done)
{
	if (!r->tables)
		r->tables = json_array();
	json_t *counts = done ? removal_counts(live, owned) : removal_counts(live, false);
	json_t *errors = res ? kernel_errors_json(res) : json_array();
	json_array_append_new(r->tables,
			      json_pack("{s:s, s:s, s:b, s:b, s:o, s:o}", "table", live->table, "mode",
					mode_word(live->mode), "changed", owned, "committed",
					done && owned && res && res->committed, "counts", counts, "errors", errors));
}

void remove_record_from(struct remove_record *rec, const struct apply_result *r)
{
	for (size_t i = 0; i < r->n_events; i++) {
		const struct apply_event *ev = &r->events[i];
		const struct apply_attempt *a = ev->attempt;
		if (ev->rollback || !a || a->want)
			continue;
		if (ev->kind == APPLY_EV_NOTHING_OWNED)
			remove_record_table(rec, &a->plan.live, false, NULL, true);
		else if (ev->kind == APPLY_EV_REMOVED)
			remove_record_table(rec, &a->plan.live, true, &a->commit, true);
		else if (ev->kind == APPLY_EV_REJECTED || ev->kind == APPLY_EV_REMOVE_FAILED)
			remove_record_table(rec, &a->plan.live, true, &a->commit, false);
	}
}

/* Adds the integer members of from to those of sum. */
static void add_counts(json_t *sum, json_t *from)
{
	const char *key;
	json_t *v;
	json_object_foreach(from, key, v) {
		json_int_t n = json_integer_value(json_object_get(sum, key));
		json_object_set_new(sum, key, json_integer(n + json_integer_value(v)));
	}
}

int remove_record_print(struct remove_record *r, bool dry_run, FILE *out)
{
	json_t *tables = r->tables ? r->tables : json_array(), *counts = json_object(), *errors = json_array(), *t;
	bool changed = false, committed = false;
	size_t i, n = json_array_size(tables);
	json_array_foreach(tables, i, t) {
		changed |= json_is_true(json_object_get(t, "changed"));
		committed |= json_is_true(json_object_get(t, "committed"));
		add_counts(counts, json_object_get(t, "counts"));
		json_array_extend(errors, json_object_get(t, "errors"));
	}
	json_t *one = n == 1 ? json_array_get(tables, 0) : NULL;
	json_t *doc = json_pack("{s:s, s:b, s:O, s:O, s:b, s:b, s:o, s:o, s:o}", "command", "remove", "dry_run",
				dry_run, "table", one ? json_object_get(one, "table") : json_null(), "mode",
				one ? json_object_get(one, "mode") : json_null(), "changed", changed, "committed",
				committed, "counts", counts, "errors", errors, "tables", tables);
	r->tables = NULL;
	return print_doc(doc, out);
}
