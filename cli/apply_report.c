/* SPDX-License-Identifier: GPL-2.0-or-later */
/* apply_report.c — the words of the kernel-facing commands: the plan, the kernel's
 * refusals, and where the state lives. What apply/ reports as events is said in
 * cli/apply_events.c, with these. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_apply.h"
#include "safefile.h"

void cli_apply_options(struct apply_options *o)
{
	const char *state = getenv("PINHOLE_STATE_DIR"), *run = getenv("PINHOLE_RUN_DIR");
	*o = (struct apply_options){ .state_dir = state && *state ? state : "/var/lib/pinhole",
				     .run_dir = run && *run ? run : "/run/pinhole" };
}

int cli_state_check(const char *cmd, const struct apply_options *o, bool create)
{
	char why[SAFEFILE_WHY];
	if (apply_state_check(o, create, why) == 0)
		return 0;
	fprintf(stderr, "pinhole %s: %s\n", cmd, why);
	return -1;
}

struct nl_session *cli_session_open(const char *cmd)
{
	struct nl_session *s = nl_session_open();
	if (!s)
		fprintf(stderr, "pinhole %s: cannot talk to nf_tables: %s%s\n", cmd, strerror(errno),
			errno == EPERM ? " (needs CAP_NET_ADMIN: run as root)" : "");
	return s;
}

void report_kernel_errors(const char *cmd, const struct nl_result *res, struct diags *d)
{
	for (size_t i = 0; i < res->n_errors; i++) {
		const struct nl_error *e = &res->errors[i];
		const char *why = e->reason ? e->reason : strerror(e->err);
		if (d && e->loc.file && e->loc.line) {
			struct loc at = e->loc;
			at.col = at.col ? at.col : 1;
			diag_error(d, at, "the kernel refused %s: %s%s%s%s", e->what, why, e->message ? " (" : "",
				   e->message ? e->message : "", e->message ? ")" : "");
		} else {
			fprintf(stderr, "pinhole %s: the kernel refused %s: %s%s%s%s\n", cmd, e->what, why,
				e->message ? " (" : "", e->message ? e->message : "", e->message ? ")" : "");
		}
	}
}

void report_plan_error(const char *cmd, const char *table, int err)
{
	if (err == ENOENT)
		fprintf(stderr, "pinhole %s: sets-only mode needs table inet %s to exist (create it, with your chains, "
				"first)\n", cmd, table);
	else if (err == ENOTEMPTY)
		fprintf(stderr, "pinhole %s: table inet %s exists and is not pinhole's (it lacks the comment \"%s\"); "
				"table mode would replace its sets and chains. Use option mode sets-only to keep pinhole's "
				"sets in it, or another option table\n", cmd, table, NK_TABLE_COMMENT);
	else
		fprintf(stderr, "pinhole %s: cannot read the ruleset: %s\n", cmd, strerror(err));
}

/* ---- the plan ---- */

bool report_plan_refused(const char *cmd, const struct nl_plan *plan)
{
	bool refused = false;
	for (size_t i = 0; i < plan->delta.n_sets; i++) {
		const struct nk_set_delta *sd = &plan->delta.sets[i];
		if (!sd->refused)
			continue;
		refused = true;
		fprintf(stderr, "pinhole %s: set %s in table inet %s is not pinhole's and cannot be adopted: %s. Nothing "
				"was changed (pinhole(8), Table mode and sets-only mode)\n", cmd, sd->want->name,
			plan->live.table, sd->have->flags != sd->want->flags || sd->have->key_len != sd->want->key_len ||
						  sd->have->key_type != sd->want->key_type
					  ? "it has another type or flags than pinhole gives it"
					  : "it holds elements pinhole did not put there (empty it to let pinhole fill it)");
	}
	return refused;
}

static const char *action_word(enum nk_action a)
{
	switch (a) {
	case NK_CREATE: return "+";
	case NK_DELETE: return "-";
	case NK_RECREATE: return "±";
	default: return "~";
	}
}

static void print_set_delta(FILE *out, const struct nk_set_delta *s)
{
	const struct nk_set *set = s->want ? s->want : s->have;
	bool dynamic = set->kind >= KSET_DNS_V4;
	if (s->refused) {
		fprintf(out, "  ! set %s: not pinhole's, cannot be adopted\n", set->name);
		return;
	}
	if (s->action == NK_KEEP && s->n_add == 0 && s->n_del == 0) {
		if (s->stale_comment)
			fprintf(out, "  ! set %s: its comment is \"%s\", not \"%s\"; left as it is (a set's comment "
				     "cannot change without making the set anew)\n", set->name,
				s->have->comment ? s->have->comment : "", s->want->comment ? s->want->comment : "");
		return;
	}
	fprintf(out, "  %s set %s", action_word(s->action), set->name);
	if (s->action == NK_CREATE || s->action == NK_RECREATE)
		fprintf(out, dynamic ? " (learnt by the guard)" : " (%zu prefixes)", s->want->n_elems);
	else if (s->action == NK_KEEP)
		fprintf(out, ": +%zu -%zu prefixes", s->n_add, s->n_del);
	fputc('\n', out);
}

static void print_chain_delta(FILE *out, const struct nk_chain_delta *c)
{
	const struct nk_chain *ch = c->want ? c->want : c->have;
	if (c->action == NK_KEEP)
		return;
	fprintf(out, "  %s chain %s", action_word(c->action), ch->name);
	if (c->action == NK_REWRITE)
		fprintf(out, ": %zu rules replace %zu", c->want->n_rules, c->have->n_rules);
	else if (c->want)
		fprintf(out, " (%zu rules)", c->want->n_rules);
	fputc('\n', out);
}

void report_plan(FILE *out, const struct nl_plan *plan, const struct nk_ruleset *want)
{
	const struct nk_delta *d = &plan->delta;
	size_t adopted = 0;
	for (size_t i = 0; i < plan->live.n_sets; i++)
		adopted += plan->live.sets[i].adopted;
	fprintf(out, "table inet %s (%s mode), generation %u, elements %s", want->table,
		want->mode == NK_MODE_TABLE ? "table" : "sets-only", plan->live.genid,
		plan->from_cache ? "from the last-applied state" : "read from the kernel");
	if (adopted)
		fprintf(out, "; %zu sets declared by you, filled by pinhole", adopted);
	fputc('\n', out);
	if (d->remake_table)
		fprintf(out, "  ± table inet %s (empty and not marked as pinhole's: made again with the mark)\n",
			want->table);
	else if (d->create_table)
		fprintf(out, "  + table inet %s\n", want->table);
	for (size_t i = 0; i < d->n_sets; i++)
		print_set_delta(out, &d->sets[i]);
	for (size_t i = 0; i < d->n_chains; i++)
		print_chain_delta(out, &d->chains[i]);
	if (d->n_changes == 0)
		fprintf(out, "no changes: the kernel already has what the rules want\n");
	else
		fprintf(out, "%zu changes: %zu elements to add, %zu to delete\n", d->n_changes, nk_delta_elems_added(d),
			nk_delta_elems_deleted(d));
}

/* ---- remove ---- */

void report_removal(const struct nk_ruleset *live, bool dry_run)
{
	const char *verb = dry_run ? "would remove" : "removed";
	if (live->mode == NK_MODE_TABLE) {
		printf("%s table inet %s (%zu sets, %zu chains)\n", verb, live->table, live->n_sets, live->n_chains);
		return;
	}
	for (size_t i = 0; i < live->n_sets; i++)
		if (!live->sets[i].foreign)
			printf("%s set %s from table inet %s\n", verb, live->sets[i].name, live->table);
}
