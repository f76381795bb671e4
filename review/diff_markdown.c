/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diff_markdown.c — a policy diff ready to paste into a change-request comment: the
 * verdict, a summary table, then each change in a ```diff block (which renders + and -
 * lines in colour on GitHub and GitLab).
 *
 * A comment has a size limit (GitHub and GitLab take 65,536 characters), so the document is
 * built in pieces first (the header, one table row and one details block per change) and,
 * when the whole does not fit, shortened at piece and line boundaries: a note says what was
 * left out and how to see it, the table keeps whole rows (what widens, then the largest
 * changes first, shown in their usual order), and the details keep whole blocks in order,
 * then as many lines of the first block left out as still fit. Nothing is ever cut inside a
 * row or a line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diff_format.h"
#include "diff_text_internal.h"

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

/* The rows of the options: few and small, always shown. */
static void md_option_rows(const struct policy_diff *d, FILE *out)
{
	if (d->old_table)
		fprintf(out, "| table | `%s` → `%s` | no | |\n", d->old_table, d->new_table);
	if (d->priority_changed)
		fprintf(out, "| priority | %d → %d | no | |\n", d->old_priority, d->new_priority);
	if (d->mode_changed)
		fprintf(out, "| mode | %s → %s | no | |\n", policy_mode_name(d->old_mode), policy_mode_name(d->new_mode));
	if (!d->n_deny_added && !d->n_deny_removed && !d->n_deny_changed)
		return;
	fprintf(out, "| default_deny | changed | %s |", yes_no(d->n_deny_removed > 0));
	for (size_t i = 0; i < d->n_deny_added; i++)
		fprintf(out, " +`%s`", d->deny_added[i]);
	for (size_t i = 0; i < d->n_deny_removed; i++)
		fprintf(out, " -`%s`", d->deny_removed[i]);
	for (size_t i = 0; i < d->n_deny_changed; i++)
		fprintf(out, " `%s`: %s", d->deny_changed[i], diff_deny_how_text(d->deny_rejects[i]));
	fprintf(out, " |\n");
}

static const char TABLE_HEAD[] = "\n| what | change | widens | details |\n| --- | --- | --- | --- |\n";
static const char FENCE_END[] = "```\n";

/* ---- the document in pieces ----------------------------------------------------------- */

/* One set or rule change: its table row and its details block (head, then body lines,
 * then FENCE_END); a renamed set has no block (head NULL). */
struct md_change {
	char *row, *head, *body, *label;
	size_t row_chars, head_chars, body_chars, body_lines;
	bool row_shown, block_shown;
	size_t lines_shown;	/* of body; body_lines when the block is whole */
	bool widening;
};

struct md_doc {
	char *header, *options;
	size_t header_chars, options_chars;
	struct md_change *changes;
	size_t n_changes;
};

/* Characters as a comment box counts them: code points, not bytes. */
static size_t md_chars(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

struct md_stream {
	char *buf;
	size_t len;
	FILE *f;
};

static FILE *stream_open(struct md_stream *s)
{
	s->buf = NULL;
	s->len = 0;
	return s->f = open_memstream(&s->buf, &s->len);
}

/* Closes s and returns its text (the caller frees it), *chars its length in characters;
 * NULL on ENOMEM. */
static char *stream_close(struct md_stream *s, size_t *chars)
{
	if (!s->f)
		return NULL;
	bool failed = ferror(s->f) != 0;
	if (fclose(s->f) != 0 || failed) {
		free(s->buf);
		return NULL;
	}
	*chars = md_chars(s->buf, s->len);
	return s->buf;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The table row and the label (for the note) of set i (i < n_sets) or rule i - n_sets. */
static int change_row(const struct policy_diff *d, size_t i, struct md_change *c)
{
	struct md_stream row, label;
	char text[DIFF_LINE_MAX];
	size_t label_chars;
	stream_open(&row);
	stream_open(&label);
	if (row.f && label.f && i < d->n_sets) {
		md_set_row(&d->sets[i], row.f);
		fprintf(label.f, "set `%s` %s", d->sets[i].name, diff_set_change_word(d->sets[i].change));
	} else if (row.f && label.f) {
		const struct rule_diff *rd = &d->rules[i - d->n_sets];
		md_rule_row(rd, row.f);
		diff_rule_text(rd->new_rule ? rd->new_rule : rd->old_rule, text, sizeof(text));
		fprintf(label.f, "rule `%s` %s", text, diff_rule_change_word(rd->change));
	}
	c->row = stream_close(&row, &c->row_chars);
	c->label = stream_close(&label, &label_chars);
	return c->row && c->label ? 0 : -1;
}

/* The details block of change i: its head (up to the opening fence) and its body lines. */
static int change_block(const struct policy_diff *d, size_t i, struct md_change *c)
{
	struct md_stream head, body;
	char where[DIFF_LINE_MAX];
	const struct set_diff *sd = i < d->n_sets ? &d->sets[i] : NULL;
	if (sd && sd->change == SET_RENAMED)
		return 0;	/* the table says all there is */
	stream_open(&head);
	stream_open(&body);
	if (head.f && body.f && sd) {
		diff_sources_text(&sd->loc, 1, where, sizeof(where));
		fprintf(head.f, "\n#### set `%s` %s%s%s%s\n\n```diff\n", sd->name, diff_set_change_word(sd->change),
			*where ? " (" : "", where, *where ? ")" : "");
		diff_write_set_lines(sd, "", false, body.f);
	} else if (head.f && body.f) {
		const struct rule_diff *rd = &d->rules[i - d->n_sets];
		fprintf(head.f, "\n#### rule %s\n\n```diff\n", diff_rule_change_word(rd->change));
		diff_write_rule_lines(rd, "", false, body.f);
	}
	c->head = stream_close(&head, &c->head_chars);
	c->body = stream_close(&body, &c->body_chars);
	if (!c->head || !c->body)
		return -1;
	c->body_lines = count_lines(c->body);
	return 0;
}

static int change_build(const struct policy_diff *d, size_t i, struct md_change *c)
{
	c->widening = i < d->n_sets ? d->sets[i].widening : d->rules[i - d->n_sets].widening;
	return change_row(d, i, c) < 0 || change_block(d, i, c) < 0 ? -1 : 0;
}

static void doc_free(struct md_doc *doc)
{
	for (size_t i = 0; doc->changes && i < doc->n_changes; i++) {
		free(doc->changes[i].row);
		free(doc->changes[i].head);
		free(doc->changes[i].body);
		free(doc->changes[i].label);
	}
	free(doc->changes);
	free(doc->header);
	free(doc->options);
}

static int doc_build(const struct policy_diff *d, struct md_doc *doc)
{
	struct md_stream header, options;
	*doc = (struct md_doc){ 0 };
	stream_open(&header);
	stream_open(&options);
	if (header.f && options.f) {
		md_header(d, header.f);
		md_option_rows(d, options.f);
	}
	doc->header = stream_close(&header, &doc->header_chars);
	doc->options = stream_close(&options, &doc->options_chars);
	doc->n_changes = d->n_sets + d->n_rules;
	doc->changes = calloc(doc->n_changes ? doc->n_changes : 1, sizeof(*doc->changes));
	if (!doc->header || !doc->options || !doc->changes)
		return -1;
	for (size_t i = 0; i < doc->n_changes; i++)
		if (change_build(d, i, &doc->changes[i]) < 0)
			return -1;
	return 0;
}

static size_t block_chars(const struct md_change *c)
{
	return c->head ? c->head_chars + c->body_chars + sizeof(FENCE_END) - 1 : 0;
}

/* The whole document's length in characters. */
static size_t doc_chars(const struct md_doc *doc, bool empty)
{
	if (empty)
		return doc->header_chars;
	size_t n = doc->header_chars + sizeof(TABLE_HEAD) - 1 + doc->options_chars;
	for (size_t i = 0; i < doc->n_changes; i++)
		n += doc->changes[i].row_chars + block_chars(&doc->changes[i]);
	return n;
}

static void doc_show_all(struct md_doc *doc)
{
	for (size_t i = 0; i < doc->n_changes; i++) {
		doc->changes[i].row_shown = doc->changes[i].block_shown = true;
		doc->changes[i].lines_shown = doc->changes[i].body_lines;
	}
}

/* A count as the rest of the diff writes it: "3,000". */
struct count_buf {
	char s[ADDR_COUNT_TEXT_MAX];
};

static struct count_buf count_text(size_t n)
{
	struct count_buf b;
	addr_count_format(b.s, &(struct addr_count){ 0, n, false });
	return b;
}

/* After a block cut short; MORE_LINES_RESERVE characters hold it with any count. */
#define MORE_LINES "\n*… %s more lines of this change are not shown.*\n"
#define MORE_LINES_RESERVE 80

/* ---- output ------------------------------------------------------------------------- */

/* Writes the first n lines of body. */
static void write_lines(const char *body, size_t n, FILE *out)
{
	const char *end = body, *nl;
	for (size_t i = 0; i < n && (nl = strchr(end, '\n')); i++)
		end = nl + 1;
	fwrite(body, 1, (size_t)(end - body), out);
}

static void doc_write(const struct md_doc *doc, const char *note, FILE *out)
{
	fputs(doc->header, out);
	if (note)
		fputs(note, out);
	size_t rows = 0;
	for (size_t i = 0; i < doc->n_changes; i++)
		rows += doc->changes[i].row_shown;
	if (rows || *doc->options)
		fputs(TABLE_HEAD, out);
	for (size_t i = 0; i < doc->n_changes; i++)
		if (doc->changes[i].row_shown)
			fputs(doc->changes[i].row, out);
	fputs(doc->options, out);
	for (size_t i = 0; i < doc->n_changes; i++) {
		const struct md_change *c = &doc->changes[i];
		if (!c->head || !c->block_shown)
			continue;
		fputs(c->head, out);
		write_lines(c->body, c->lines_shown, out);
		fputs(FENCE_END, out);
		if (c->lines_shown < c->body_lines)
			fprintf(out, MORE_LINES, count_text(c->body_lines - c->lines_shown).s);
	}
}

/* ---- shortening ----------------------------------------------------------------------- */

#define N_LARGEST 3

struct md_fit {
	size_t max, total;		/* the limit and the whole document, in characters */
	size_t rows_shown, lines_shown, lines_total;
	size_t largest[N_LARGEST];	/* the changes with the most lines, most first */
	size_t n_largest;
};

struct md_rank {
	bool widening;		/* counts only for the table's order */
	size_t lines, index;
};

/* The largest changes first (most lines), then in document order. */
static int size_cmp(const void *a, const void *b)
{
	const struct md_rank *x = a, *y = b;
	if (x->lines != y->lines)
		return x->lines > y->lines ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* The table's order: what widens first, a reviewer's first question; then the largest. */
static int row_cmp(const void *a, const void *b)
{
	const struct md_rank *x = a, *y = b;
	return x->widening != y->widening ? (x->widening ? -1 : 1) : size_cmp(a, b);
}

/* The changes' indexes sorted by cmp; NULL on ENOMEM. */
static struct md_rank *ranked(const struct md_doc *doc, int (*cmp)(const void *, const void *))
{
	struct md_rank *v = malloc((doc->n_changes ? doc->n_changes : 1) * sizeof(*v));
	for (size_t i = 0; v && i < doc->n_changes; i++)
		v[i] = (struct md_rank){ doc->changes[i].widening, doc->changes[i].body_lines, i };
	if (v)
		qsort(v, doc->n_changes, sizeof(*v), cmp);
	return v;
}

static void note_write(const struct md_doc *doc, const struct md_fit *f, FILE *out)
{
	fprintf(out, "\n**Shortened** to fit %s characters; the whole diff has %s.\n\n", count_text(f->max).s,
		count_text(f->total).s);
	fprintf(out, "- The table lists %s of %s changes; the details show %s of %s lines.\n",
		count_text(f->rows_shown).s, count_text(doc->n_changes).s, count_text(f->lines_shown).s,
		count_text(f->lines_total).s);
	for (size_t i = 0; i < f->n_largest; i++) {
		const struct md_change *c = &doc->changes[f->largest[i]];
		fprintf(out, "%s%s (%s lines)", i ? ", " : "- Largest changes: ", c->label, count_text(c->body_lines).s);
	}
	fprintf(out, "%s- All of it: `pinhole diff` with `--format text` or `--format json` (never shortened), "
		     "or with `--max-size 0`.\n", f->n_largest ? ".\n" : "");
}

/* Renders the note into a new string; NULL on ENOMEM. */
static char *note_text(const struct md_doc *doc, const struct md_fit *f, size_t *chars)
{
	struct md_stream s;
	if (!stream_open(&s))
		return NULL;
	note_write(doc, f, s.f);
	return stream_close(&s, chars);
}

/* Table rows in the order of v while they fit in *budget. */
static void fit_rows(struct md_doc *doc, const struct md_rank *v, struct md_fit *f, size_t *budget)
{
	for (size_t i = 0; i < doc->n_changes; i++) {
		struct md_change *c = &doc->changes[v[i].index];
		if (c->row_chars <= *budget) {
			*budget -= c->row_chars;
			c->row_shown = true;
			f->rows_shown++;
		}
	}
}

/* As many lines of c as fit in budget after its head, its fence and the MORE_LINES note. */
static size_t lines_that_fit(const struct md_change *c, size_t budget)
{
	size_t fixed = c->head_chars + sizeof(FENCE_END) - 1 + MORE_LINES_RESERVE, n = 0;
	if (fixed >= budget)
		return 0;
	budget -= fixed;
	for (const char *line = c->body, *nl; (nl = strchr(line, '\n')); line = nl + 1, n++) {
		size_t len = md_chars(line, (size_t)(nl - line) + 1);
		if (len > budget)
			break;
		budget -= len;
	}
	return n;
}

/* Whole blocks in document order while they fit, then part of the first one left out. */
static void fit_blocks(struct md_doc *doc, struct md_fit *f, size_t budget)
{
	size_t first_out = SIZE_MAX;
	for (size_t i = 0; i < doc->n_changes; i++) {
		struct md_change *c = &doc->changes[i];
		if (!c->head)
			continue;
		if (block_chars(c) <= budget) {
			budget -= block_chars(c);
			c->lines_shown = c->body_lines;
			c->block_shown = true;
		} else if (first_out == SIZE_MAX) {
			first_out = i;
		}
	}
	if (first_out != SIZE_MAX) {
		struct md_change *c = &doc->changes[first_out];
		c->lines_shown = lines_that_fit(c, budget);
		c->block_shown = c->lines_shown > 0;
	}
	for (size_t i = 0; i < doc->n_changes; i++)
		f->lines_shown += doc->changes[i].lines_shown;
}

/* Chooses what to show within f->max. The note is reserved at its longest: counts of
 * everything (what is shown has no more digits), so the real note fits in its place. */
static int fit(struct md_doc *doc, struct md_fit *f)
{
	struct md_rank *v = ranked(doc, size_cmp);
	if (!v)
		return -1;
	for (size_t i = 0; i < doc->n_changes; i++)
		f->lines_total += doc->changes[i].body_lines;
	for (f->n_largest = 0; f->n_largest < N_LARGEST && f->n_largest < doc->n_changes && v[f->n_largest].lines;
	     f->n_largest++)
		f->largest[f->n_largest] = v[f->n_largest].index;
	free(v);
	if (!(v = ranked(doc, row_cmp)))
		return -1;
	f->rows_shown = doc->n_changes;
	f->lines_shown = f->lines_total;
	size_t reserve;
	char *longest = note_text(doc, f, &reserve);
	bool ok = longest != NULL;
	free(longest);
	if (ok) {
		size_t fixed = doc->header_chars + reserve + sizeof(TABLE_HEAD) - 1 + doc->options_chars;
		size_t budget = f->max > fixed ? f->max - fixed : 0;
		f->rows_shown = f->lines_shown = 0;
		fit_rows(doc, v, f, &budget);
		fit_blocks(doc, f, budget);
	}
	free(v);
	return ok ? 0 : -1;
}

int diff_render_markdown(const struct policy_diff *d, size_t max, FILE *out)
{
	struct md_doc doc;
	struct md_fit f = { .max = max };
	char *note = NULL;
	size_t note_chars;
	int ret = -1;
	if (doc_build(d, &doc) < 0)
		goto out;
	f.total = doc_chars(&doc, policy_diff_empty(d));
	if (max == 0 || f.total <= max)
		doc_show_all(&doc);
	else if (fit(&doc, &f) < 0 || !(note = note_text(&doc, &f, &note_chars)))
		goto out;
	doc_write(&doc, note, out);
	ret = ferror(out) ? -1 : 0;
out:
	free(note);
	doc_free(&doc);
	return ret;
}
