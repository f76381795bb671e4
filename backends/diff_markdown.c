/* diff_markdown.c — a policy diff ready to paste into a change-request comment: the
 * verdict, a summary table, then each change in a ```diff block (which renders + and -
 * lines in colour on GitHub and GitLab). */
#include <string.h>

#include "diff_format.h"
#include "diff_text.h"

static void md_header(const struct policy_diff *d, FILE *out)
{
	char summary[DIFF_LINE_MAX];
	diff_summary(d, summary, sizeof(summary));
	fprintf(out, "### pinhole diff: `%s` → `%s`\n\n", d->old_label, d->new_label);
	if (policy_diff_empty(d))
		fprintf(out, "No changes: both allow the same traffic.\n");
	else if (d->widening)
		fprintf(out, "**WIDENING**: this change lets more traffic through.\n\n`%s`\n", summary);
	else
		fprintf(out, "Not widening: this change lets no new traffic through.\n\n`%s`\n", summary);
}

static const char *yes_no(bool widening)
{
	return widening ? "**yes**" : "no";
}

static void md_set_row(const struct set_diff *sd, FILE *out)
{
	char counts[DIFF_LINE_MAX];
	diff_set_counts_text(sd, counts, sizeof(counts));
	fprintf(out, "| set `%s` | %s", sd->name, diff_set_change_word(sd->change));
	if (sd->change == SET_RENAMED)
		fprintf(out, " from `%s`", sd->old_name);
	fprintf(out, " | %s | %s%s |\n", yes_no(sd->widening), counts, sd->used ? "" : " (no rule uses it)");
}

static void md_rule_row(const struct rule_diff *rd, FILE *out)
{
	char text[DIFF_LINE_MAX], what[64] = "", ports[DIFF_LINE_MAX];
	diff_rule_text(rd->new_rule ? rd->new_rule : rd->old_rule, text, sizeof(text));
	if (rd->change == RULE_CHANGED)
		diff_rule_what_text(rd->what, what, sizeof(what));
	fprintf(out, "| rule `%s` | %s%s%s | %s | ", text, diff_rule_change_word(rd->change), *what ? ": " : "", what,
		yes_no(rd->widening));
	if (rd->n_ports_added) {
		diff_ports_text(rd->ports_added, rd->n_ports_added, ports, sizeof(ports));
		fprintf(out, "opens port %s%s", ports, rd->n_ports_removed ? ", " : "");
	}
	if (rd->n_ports_removed) {
		diff_ports_text(rd->ports_removed, rd->n_ports_removed, ports, sizeof(ports));
		fprintf(out, "closes port %s", ports);
	}
	fprintf(out, " |\n");
}

static void md_table(const struct policy_diff *d, FILE *out)
{
	fprintf(out, "\n| what | change | widens | details |\n| --- | --- | --- | --- |\n");
	for (size_t i = 0; i < d->n_sets; i++)
		md_set_row(&d->sets[i], out);
	for (size_t i = 0; i < d->n_rules; i++)
		md_rule_row(&d->rules[i], out);
	if (d->old_table)
		fprintf(out, "| table | `%s` → `%s` | no | |\n", d->old_table, d->new_table);
	if (d->priority_changed)
		fprintf(out, "| priority | %d → %d | no | |\n", d->old_priority, d->new_priority);
	if (d->mode_changed)
		fprintf(out, "| mode | %s → %s | no | |\n", policy_mode_name(d->old_mode), policy_mode_name(d->new_mode));
	if (!d->n_deny_added && !d->n_deny_removed)
		return;
	fprintf(out, "| default_deny | changed | %s |", yes_no(d->n_deny_removed > 0));
	for (size_t i = 0; i < d->n_deny_added; i++)
		fprintf(out, " +`%s`", d->deny_added[i]);
	for (size_t i = 0; i < d->n_deny_removed; i++)
		fprintf(out, " -`%s`", d->deny_removed[i]);
	fprintf(out, " |\n");
}

static void md_details(const struct policy_diff *d, FILE *out)
{
	char where[DIFF_LINE_MAX];
	for (size_t i = 0; i < d->n_sets; i++) {
		const struct set_diff *sd = &d->sets[i];
		if (sd->change == SET_RENAMED)
			continue;	/* the table says all there is */
		diff_sources_text(&sd->loc, 1, where, sizeof(where));
		fprintf(out, "\n#### set `%s` %s%s%s%s\n\n```diff\n", sd->name, diff_set_change_word(sd->change),
			*where ? " (" : "", where, *where ? ")" : "");
		diff_write_set_lines(sd, "", false, out);
		fprintf(out, "```\n");
	}
	for (size_t i = 0; i < d->n_rules; i++) {
		fprintf(out, "\n#### rule %s\n\n```diff\n", diff_rule_change_word(d->rules[i].change));
		diff_write_rule_lines(&d->rules[i], "", false, out);
		fprintf(out, "```\n");
	}
}

int diff_render_markdown(const struct policy_diff *d, FILE *out)
{
	md_header(d, out);
	if (!policy_diff_empty(d)) {
		md_table(d, out);
		md_details(d, out);
	}
	return ferror(out) ? -1 : 0;
}
