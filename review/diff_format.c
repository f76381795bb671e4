/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diff_format.c — a policy diff for reviewers: the text format, the one-line summary and
 * the line pieces markdown shares. What a line says is decided here once. */
#include "diff_format.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "diff_text_internal.h"

#define GREEN "\033[32m"
#define RED "\033[31m"
#define BOLD "\033[1m"
#define BOLD_RED "\033[1;31m"
#define RESET "\033[0m"

/* ---- small pieces ------------------------------------------------------------------- */

/* snprintf that appends at *n and never runs past max (keeps *n <= max - 1). */
static void append(char *buf, size_t max, size_t *n, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t max, size_t *n, const char *fmt, ...)
{
	if (*n + 1 >= max)
		return;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(buf + *n, max - *n, fmt, ap);
	va_end(ap);
	if (k > 0)
		*n = *n + (size_t)k < max ? *n + (size_t)k : max - 1;
}

size_t diff_sources_text(const struct loc *v, size_t n, char *buf, size_t max)
{
	size_t len = 0, shown = 0;
	const struct loc *last = NULL;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!v[i].file)
			continue;
		bool same_file = last && !strcmp(last->file, v[i].file);
		if (same_file && last->line == v[i].line)
			continue;	/* two elements on one line */
		if (len + 24 > max) {	/* keep room to say how much is left out */
			append(buf, max, &len, " +%zu", n - i);
			break;
		}
		if (same_file)
			append(buf, max, &len, ",%u", v[i].line);
		else
			append(buf, max, &len, "%s%s:%u", shown ? ", " : "", v[i].file, v[i].line);
		last = &v[i];
		shown++;
	}
	return len;
}

size_t diff_ports_text(const struct port_range *v, size_t n, char *buf, size_t max)
{
	size_t len = 0;
	buf[0] = '\0';
	if (n == 0) {
		append(buf, max, &len, "any");
		return len;
	}
	append(buf, max, &len, "%s", n > 1 ? "{ " : "");
	for (size_t i = 0; i < n; i++) {
		append(buf, max, &len, "%s%u", i ? ", " : "", v[i].lo);
		if (v[i].hi != v[i].lo)
			append(buf, max, &len, "-%u", v[i].hi);
	}
	append(buf, max, &len, "%s", n > 1 ? " }" : "");
	return len;
}

size_t diff_rule_text(const struct ir_rule *r, char *buf, size_t max)
{
	size_t len = 0;
	if (r->dir == DIR_OUT && r->scope)
		append(buf, max, &len, "allow out from @%s to @%s", r->scope->name, r->set->name);
	else
		append(buf, max, &len, "allow %s @%s", r->dir == DIR_OUT ? "out to" : "in from", r->set->name);
	if (r->dir == DIR_IN && r->scope)
		append(buf, max, &len, " to @%s", r->scope->name);
	if (r->proto != PROTO_ANY)
		append(buf, max, &len, " %s", r->proto == PROTO_TCP ? "tcp" : "udp");
	if (r->n_ports) {
		char ports[DIFF_LINE_MAX];
		diff_ports_text(r->ports, r->n_ports, ports, sizeof(ports));
		append(buf, max, &len, " port %s", ports);
	}
	return len;
}

size_t diff_name_text(const struct diff_name *n, char *buf, size_t max)
{
	int k = snprintf(buf, max, "%s%s", n->kind == NAME_WILDCARD ? "*." : "", n->name);
	return k < 0 ? 0 : (size_t)k < max ? (size_t)k : max - 1;
}

const char *diff_set_change_word(enum set_change c)
{
	static const char *const words[] = { "changed", "added", "removed", "renamed" };
	return words[c];
}

const char *diff_rule_change_word(enum rule_change c)
{
	static const char *const words[] = { "added", "removed", "changed" };
	return words[c];
}

const char *diff_deny_how_text(bool reject)
{
	return reject ? "drop -> reject (TCP reset, ICMP administratively prohibited)" : "reject -> drop (silent)";
}

size_t diff_rule_what_text(unsigned what, char *buf, size_t max)
{
	static const char *const words[] = { "direction", "protocol", "ports", "scope" };
	size_t len = 0, shown = 0, total = (size_t)__builtin_popcount(what);
	buf[0] = '\0';
	for (unsigned bit = 0; bit < 4; bit++) {
		if (!(what & 1u << bit))
			continue;
		shown++;
		append(buf, max, &len, "%s%s", shown == 1 ? "" : shown == total ? " and " : ", ", words[bit]);
	}
	return len;
}

static const char *paint(bool color, const char *code)
{
	return color ? code : "";
}

/* ---- body lines --------------------------------------------------------------------- */

static int prefix_width(const struct diff_prefix *v, size_t n, int width)
{
	char text[CIDR_TEXT_MAX];
	for (size_t i = 0; i < n; i++) {
		int k = (int)cidr_format_prefix(text, &v[i].prefix);
		width = k > width ? k : width;
	}
	return width;
}

static int count_width(const struct diff_prefix *v, size_t n, int width)
{
	char text[ADDR_COUNT_TEXT_MAX];
	for (size_t i = 0; i < n; i++) {
		struct addr_count c = { 0 };
		addr_count_add_prefix(&c, &v[i].prefix);
		int k = (int)addr_count_format(text, &c);
		width = k > width ? k : width;
	}
	return width;
}

static void write_prefixes(const struct diff_prefix *v, size_t n, char sign, int pw, int cw, const char *indent,
			   bool color, FILE *out)
{
	char text[CIDR_TEXT_MAX], count[ADDR_COUNT_TEXT_MAX], sources[DIFF_LINE_MAX];
	for (size_t i = 0; i < n; i++) {
		struct addr_count c = { 0 };
		addr_count_add_prefix(&c, &v[i].prefix);
		cidr_format_prefix(text, &v[i].prefix);
		addr_count_format(count, &c);
		diff_sources_text(v[i].sources, v[i].n_sources, sources, sizeof(sources));
		fprintf(out, "%s%s%c %-*s  %*s %s  %s%s\n", indent, paint(color, sign == '+' ? GREEN : RED), sign, pw,
			text, cw, count, c.hi == 0 && c.lo == 1 ? "address  " : "addresses", sources,
			paint(color, RESET));
	}
}

static void write_name(const struct diff_name *dn, char sign, const char *indent, bool color, FILE *out)
{
	char name[NAME_MAX_LEN + 3], where[DIFF_LINE_MAX];
	diff_name_text(dn, name, sizeof(name));
	diff_sources_text(&dn->loc, 1, where, sizeof(where));
	fprintf(out, "%s%s%c %s", indent, paint(color, sign == '+' ? GREEN : RED), sign, name);
	if (dn->covered_by)
		fprintf(out, "  (%s matched by *.%s)", sign == '+' ? "already" : "still", dn->covered_by);
	if (dn->n_covers) {
		fprintf(out, "  (covers");
		for (size_t k = 0; k < dn->n_covers; k++)
			fprintf(out, "%s %s", k ? "," : "", dn->covers[k]);
		fprintf(out, ")");
	}
	fprintf(out, "%s%s%s\n", *where ? "  " : "", where, paint(color, RESET));
}

static void write_regexes(const struct diff_regex *v, size_t n, char sign, const char *indent, bool color, FILE *out)
{
	char where[DIFF_LINE_MAX];
	for (size_t i = 0; i < n; i++) {
		diff_sources_text(&v[i].loc, 1, where, sizeof(where));
		fprintf(out, "%s%s%c ~\"%s\"%s%s%s\n", indent, paint(color, sign == '+' ? GREEN : RED), sign,
			v[i].pattern, *where ? "  " : "", where, paint(color, RESET));
	}
}

int diff_write_set_lines(const struct set_diff *sd, const char *indent, bool color, FILE *out)
{
	const struct diff_prefixes *a = &sd->addresses;
	int pw = prefix_width(a->removed, a->n_removed, prefix_width(a->added, a->n_added, 0));
	int cw = count_width(a->removed, a->n_removed, count_width(a->added, a->n_added, 0));
	write_prefixes(a->added, a->n_added, '+', pw, cw, indent, color, out);
	write_prefixes(a->removed, a->n_removed, '-', pw, cw, indent, color, out);
	for (size_t i = 0; i < sd->names.n_added; i++)
		write_name(&sd->names.added[i], '+', indent, color, out);
	for (size_t i = 0; i < sd->names.n_removed; i++)
		write_name(&sd->names.removed[i], '-', indent, color, out);
	write_regexes(sd->regexes.added, sd->regexes.n_added, '+', indent, color, out);
	write_regexes(sd->regexes.removed, sd->regexes.n_removed, '-', indent, color, out);
	return ferror(out) ? -1 : 0;
}

static void write_rule_line(const struct ir_rule *r, char sign, int width, const char *indent, bool color, FILE *out)
{
	char text[DIFF_LINE_MAX], where[DIFF_LINE_MAX];
	diff_rule_text(r, text, sizeof(text));
	diff_sources_text(&r->loc, 1, where, sizeof(where));
	fprintf(out, "%s%s%c %-*s  %s%s\n", indent, paint(color, sign == '+' ? GREEN : RED), sign, width, text, where,
		paint(color, RESET));
}

int diff_write_rule_lines(const struct rule_diff *rd, const char *indent, bool color, FILE *out)
{
	char text[DIFF_LINE_MAX];
	int width = 0;
	if (rd->old_rule)
		width = (int)diff_rule_text(rd->old_rule, text, sizeof(text));
	if (rd->new_rule && (int)diff_rule_text(rd->new_rule, text, sizeof(text)) > width)
		width = (int)strlen(text);
	if (rd->old_rule)
		write_rule_line(rd->old_rule, '-', width, indent, color, out);
	if (rd->new_rule)
		write_rule_line(rd->new_rule, '+', width, indent, color, out);
	if (rd->n_ports_added) {
		diff_ports_text(rd->ports_added, rd->n_ports_added, text, sizeof(text));
		fprintf(out, "%s  ports opened: %s\n", indent, text);
	}
	if (rd->n_ports_removed) {
		diff_ports_text(rd->ports_removed, rd->n_ports_removed, text, sizeof(text));
		fprintf(out, "%s  ports closed: %s\n", indent, text);
	}
	return ferror(out) ? -1 : 0;
}

/* ---- the one-line summary ----------------------------------------------------------- */

struct totals {
	struct addr_count added_v4, removed_v4, added_v6, removed_v6;
	size_t names_added, names_removed, regexes_added, regexes_removed;
	size_t sets[4];		/* by enum set_change */
	size_t rules[3];	/* by enum rule_change */
};

static void add_prefixes(struct addr_count *v4, struct addr_count *v6, const struct diff_prefix *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		addr_count_add_prefix(v[i].prefix.family == FAMILY_V4 ? v4 : v6, &v[i].prefix);
}

static void count_set(const struct set_diff *sd, struct totals *t)
{
	t->sets[sd->change]++;
	add_prefixes(&t->added_v4, &t->added_v6, sd->addresses.added, sd->addresses.n_added);
	add_prefixes(&t->removed_v4, &t->removed_v6, sd->addresses.removed, sd->addresses.n_removed);
	t->names_added += sd->names.n_added;
	t->names_removed += sd->names.n_removed;
	t->regexes_added += sd->regexes.n_added;
	t->regexes_removed += sd->regexes.n_removed;
}

static void count_totals(const struct policy_diff *d, struct totals *t)
{
	*t = (struct totals){ 0 };
	for (size_t i = 0; i < d->n_sets; i++)
		count_set(&d->sets[i], t);
	for (size_t i = 0; i < d->n_rules; i++)
		t->rules[d->rules[i].change]++;
}

static bool count_zero(const struct addr_count *c)
{
	return !c->hi && !c->lo && !c->saturated;
}

/* "+1,024 -256 IPv4 addresses" */
static void append_addresses(char *buf, size_t max, size_t *n, const struct addr_count *added,
			     const struct addr_count *removed, const char *family, const char **sep)
{
	char a[ADDR_COUNT_TEXT_MAX], r[ADDR_COUNT_TEXT_MAX];
	if (count_zero(added) && count_zero(removed))
		return;
	addr_count_format(a, added);
	addr_count_format(r, removed);
	append(buf, max, n, "%s", *sep);
	if (!count_zero(added))
		append(buf, max, n, "+%s%s", a, count_zero(removed) ? "" : " ");
	if (!count_zero(removed))
		append(buf, max, n, "-%s", r);
	append(buf, max, n, " %s addresses", family);
	*sep = ", ";
}

static void append_plus_minus(char *buf, size_t max, size_t *n, size_t added, size_t removed, const char *one,
			      const char *many, const char **sep)
{
	if (!added && !removed)
		return;
	append(buf, max, n, "%s", *sep);
	if (added)
		append(buf, max, n, "+%zu%s", added, removed ? " " : "");
	if (removed)
		append(buf, max, n, "-%zu", removed);
	append(buf, max, n, " %s", added + removed == 1 ? one : many);
	*sep = ", ";
}

static void append_counts(char *buf, size_t max, size_t *n, const struct totals *t, const char *sep)
{
	append_addresses(buf, max, n, &t->added_v4, &t->removed_v4, "IPv4", &sep);
	append_addresses(buf, max, n, &t->added_v6, &t->removed_v6, "IPv6", &sep);
	append_plus_minus(buf, max, n, t->names_added, t->names_removed, "name", "names", &sep);
	append_plus_minus(buf, max, n, t->regexes_added, t->regexes_removed, "regex", "regexes", &sep);
}

size_t diff_set_counts_text(const struct set_diff *sd, char *buf, size_t max)
{
	struct totals t = { 0 };
	size_t n = 0;
	buf[0] = '\0';
	count_set(sd, &t);
	append_counts(buf, max, &n, &t, "");
	return n;
}

static void append_sets(char *buf, size_t max, size_t *n, const struct policy_diff *d, const struct totals *t)
{
	if (d->n_sets == 1) {
		const struct set_diff *sd = &d->sets[0];
		append(buf, max, n, "set %s", sd->name);
		if (sd->change == SET_RENAMED)
			append(buf, max, n, " renamed from %s", sd->old_name);
		else if (sd->change != SET_CHANGED)
			append(buf, max, n, " %s", diff_set_change_word(sd->change));
	} else {
		/* "2 sets changed", or "3 sets (2 changed, 1 added)" */
		const char *sep = " (";
		append(buf, max, n, "%zu sets", d->n_sets);
		for (int c = SET_CHANGED; c <= SET_RENAMED; c++) {
			if (t->sets[c] == d->n_sets) {
				append(buf, max, n, " %s", diff_set_change_word(c));
			} else if (t->sets[c]) {
				append(buf, max, n, "%s%zu %s", sep, t->sets[c], diff_set_change_word(c));
				sep = ", ";
			}
		}
		if (*sep == ',')
			append(buf, max, n, ")");
	}
	append_counts(buf, max, n, t, ": ");
}

/* "1 rule changed", or "3 rules: 1 added, 2 removed" */
static void append_rules(char *buf, size_t max, size_t *n, const struct totals *t)
{
	static const enum rule_change order[] = { RULE_ADDED, RULE_CHANGED, RULE_REMOVED };
	size_t total = t->rules[0] + t->rules[1] + t->rules[2];
	const char *sep = ": ";
	append(buf, max, n, "%zu %s", total, total == 1 ? "rule" : "rules");
	for (size_t i = 0; i < 3; i++) {
		if (t->rules[order[i]] == total) {
			append(buf, max, n, " %s", diff_rule_change_word(order[i]));
			return;
		}
	}
	for (size_t i = 0; i < 3; i++)
		if (t->rules[order[i]]) {
			append(buf, max, n, "%s%zu %s", sep, t->rules[order[i]], diff_rule_change_word(order[i]));
			sep = ", ";
		}
}

/* "table a -> b; priority 0 -> 10; mode table -> sets-only; default_deny +1 interface" */
static void append_options(char *buf, size_t max, size_t *n, const struct policy_diff *d, const char *sep)
{
	if (d->old_table) {
		append(buf, max, n, "%stable %s -> %s", sep, d->old_table, d->new_table);
		sep = "; ";
	}
	if (d->priority_changed) {
		append(buf, max, n, "%spriority %d -> %d", sep, d->old_priority, d->new_priority);
		sep = "; ";
	}
	if (d->mode_changed) {
		append(buf, max, n, "%smode %s -> %s", sep, policy_mode_name(d->old_mode), policy_mode_name(d->new_mode));
		sep = "; ";
	}
	if (d->n_deny_added || d->n_deny_removed || d->n_deny_changed) {
		const char *inner = "";
		append(buf, max, n, "%sdefault_deny ", sep);
		append_plus_minus(buf, max, n, d->n_deny_added, d->n_deny_removed, "interface", "interfaces", &inner);
		if (d->n_deny_changed == 1)
			append(buf, max, n, "%s%s %s", *inner ? " " : "", d->deny_changed[0],
			       d->deny_rejects[0] ? "drop -> reject" : "reject -> drop");
		else if (d->n_deny_changed)
			append(buf, max, n, "%s%zu interfaces refuse another way", *inner ? " " : "", d->n_deny_changed);
	}
}

size_t diff_summary(const struct policy_diff *d, char *buf, size_t max)
{
	struct totals t;
	size_t n = 0;
	const char *sep = ": ";
	if (policy_diff_empty(d)) {
		append(buf, max, &n, "no changes");
		return n;
	}
	count_totals(d, &t);
	append(buf, max, &n, "%s", d->widening ? "WIDENING" : "not widening");
	if (d->n_sets) {
		append(buf, max, &n, "%s", sep);
		append_sets(buf, max, &n, d, &t);
		sep = "; ";
	}
	if (d->n_rules) {
		append(buf, max, &n, "%s", sep);
		append_rules(buf, max, &n, &t);
		sep = "; ";
	}
	append_options(buf, max, &n, d, sep);
	return n;
}

/* ---- the text format ---------------------------------------------------------------- */

static const char *widens_tag(bool widening, bool color)
{
	if (!widening)
		return "";
	return color ? " " BOLD_RED "[widens]" RESET : " [widens]";
}

static void text_set(const struct set_diff *sd, bool color, FILE *out)
{
	char where[DIFF_LINE_MAX];
	diff_sources_text(&sd->loc, 1, where, sizeof(where));
	fprintf(out, "%sset %s%s %s", paint(color, BOLD), sd->name, paint(color, RESET), diff_set_change_word(sd->change));
	if (sd->change == SET_RENAMED)
		fprintf(out, " from %s, same content", sd->old_name);
	if (!sd->used)
		fprintf(out, ", no rule uses it");
	fprintf(out, "%s%s%s\n", widens_tag(sd->widening, color), *where ? "  " : "", where);
	diff_write_set_lines(sd, "  ", color, out);
}

static void text_rule(const struct rule_diff *rd, bool color, FILE *out)
{
	char what[64];
	fprintf(out, "%srule%s %s", paint(color, BOLD), paint(color, RESET), diff_rule_change_word(rd->change));
	if (rd->change == RULE_CHANGED) {
		diff_rule_what_text(rd->what, what, sizeof(what));
		fprintf(out, ": %s", what);
	}
	fprintf(out, "%s\n", widens_tag(rd->widening, color));
	diff_write_rule_lines(rd, "  ", color, out);
}

static void text_options(const struct policy_diff *d, bool color, FILE *out)
{
	const char *b = paint(color, BOLD), *r = paint(color, RESET);
	if (d->old_table)
		fprintf(out, "%soption table%s %s -> %s\n", b, r, d->old_table, d->new_table);
	if (d->priority_changed)
		fprintf(out, "%soption priority%s %d -> %d\n", b, r, d->old_priority, d->new_priority);
	if (d->mode_changed)
		fprintf(out, "%soption mode%s %s -> %s\n", b, r, policy_mode_name(d->old_mode), policy_mode_name(d->new_mode));
	if (!d->n_deny_added && !d->n_deny_removed && !d->n_deny_changed)
		return;
	fprintf(out, "%soption default_deny%s%s\n", b, r, widens_tag(d->n_deny_removed > 0, color));
	for (size_t i = 0; i < d->n_deny_changed; i++)
		fprintf(out, "  ~ %s: %s\n", d->deny_changed[i], diff_deny_how_text(d->deny_rejects[i]));
	for (size_t i = 0; i < d->n_deny_added; i++)
		fprintf(out, "  %s+ %s%s\n", paint(color, GREEN), d->deny_added[i], r);
	for (size_t i = 0; i < d->n_deny_removed; i++)
		fprintf(out, "  %s- %s  (traffic there that no rule allows is no longer dropped)%s\n", paint(color, RED),
			d->deny_removed[i], r);
}

static int render_text(const struct policy_diff *d, bool color, FILE *out)
{
	char summary[DIFF_LINE_MAX];
	diff_summary(d, summary, sizeof(summary));
	if (!policy_diff_empty(d))
		fprintf(out, "%s--- %s\n+++ %s%s\n", paint(color, BOLD), d->old_label, d->new_label, paint(color, RESET));
	for (size_t i = 0; i < d->n_sets; i++)
		text_set(&d->sets[i], color, out);
	for (size_t i = 0; i < d->n_rules; i++)
		text_rule(&d->rules[i], color, out);
	text_options(d, color, out);
	fprintf(out, "%s%s%s\n", paint(color && d->widening, BOLD_RED), summary, paint(color && d->widening, RESET));
	return ferror(out) ? -1 : 0;
}

int diff_format_parse(const char *s, enum diff_format *out)
{
	static const char *const names[] = { "text", "markdown", "json" };
	for (int i = DIFF_TEXT; i <= DIFF_JSON; i++)
		if (!strcmp(s, names[i])) {
			*out = (enum diff_format)i;
			return 0;
		}
	return -1;
}

int diff_render(const struct policy_diff *d, enum diff_format format, const struct diff_style *style, FILE *out)
{
	switch (format) {
	case DIFF_TEXT: return render_text(d, style->color, out);
	case DIFF_MARKDOWN: return diff_render_markdown(d, style->markdown_max, out);
	case DIFF_JSON: return diff_render_json(d, out);
	}
	return -1;
}
