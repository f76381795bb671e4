/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "diag.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct source {
	char *file;
	char *text;
	size_t len;
};

/* Indexes into diag_warning_names: what -W made of each named warning. */
enum warning_state { WARN_ON, WARN_OFF, WARN_ERROR };

const char *const diag_warning_names[] = {
	"allow-all", "wide-prefix", "mapped-v4", "regex-all", "regex-tld", "mixed-script",
	"unused-set", "unused-define", "duplicate-rule", "shadowed-rule", "duplicate-element",
	"inbound-names", "no-public-suffix-list", NULL,
};
#define N_WARNING_NAMES (sizeof(diag_warning_names) / sizeof(*diag_warning_names) - 1)

struct diags {
	struct diag *v;
	size_t n, cap;
	size_t errors, warnings;
	bool last_dropped;	/* the newest diagnostic was not stored: its hint goes too */
	struct source *sources;
	size_t n_sources;
	bool all_errors;				/* -W error */
	unsigned char state[N_WARNING_NAMES];		/* enum warning_state, by name */
	bool explicit_state[N_WARNING_NAMES];		/* set by -W NAME options, beats -W error */
};

struct diags *diags_new(void)
{
	return calloc(1, sizeof(struct diags));
}

void diags_free(struct diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].message);
		free(d->v[i].hint);
	}
	for (size_t i = 0; i < d->n_sources; i++) {
		free(d->sources[i].file);
		free(d->sources[i].text);
	}
	free(d->sources);
	free(d->v);
	free(d);
}

static const char *find_source(const struct diags *d, const char *file)
{
	for (size_t i = 0; i < d->n_sources; i++)
		if (!strcmp(d->sources[i].file, file))
			return d->sources[i].file;
	return NULL;
}

const char *diags_adopt_source(struct diags *d, const char *file, char *text, size_t len)
{
	if (find_source(d, file))
		return NULL;
	struct source *grown = realloc(d->sources, (d->n_sources + 1) * sizeof(*grown));
	if (grown)
		d->sources = grown;
	char *name = grown ? strdup(file) : NULL;
	if (!name)
		return NULL;
	d->sources[d->n_sources++] = (struct source){ name, text, len };
	return name;
}

const char *diags_add_source(struct diags *d, const char *file, const char *text, size_t len)
{
	const char *known = find_source(d, file);
	if (known)
		return known;
	char *copy = malloc(len + 1);
	if (!copy)
		return NULL;
	memcpy(copy, text, len);
	copy[len] = '\0';
	const char *name = diags_adopt_source(d, file, copy, len);
	if (!name)
		free(copy);
	return name;
}

static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

static int warning_index(const char *name, size_t len)
{
	for (size_t i = 0; i < N_WARNING_NAMES; i++)
		if (strlen(diag_warning_names[i]) == len && !memcmp(diag_warning_names[i], name, len))
			return (int)i;
	return -1;
}

int diags_warning_option(struct diags *d, const char *opt)
{
	if (!strcmp(opt, "error")) {
		d->all_errors = true;
		return 0;
	}
	enum warning_state st = WARN_ON;
	const char *name = opt;
	if (!strncmp(opt, "error=", 6)) {
		st = WARN_ERROR;
		name = opt + 6;
	} else if (!strncmp(opt, "no-error=", 9)) {
		name = opt + 9;
	} else if (!strncmp(opt, "no-", 3)) {
		st = WARN_OFF;
		name = opt + 3;
	}
	int i = warning_index(name, strlen(name));
	if (i < 0)
		return -1;
	d->state[i] = (unsigned char)st;
	d->explicit_state[i] = true;
	return 0;
}

/* What a warning called name becomes under the -W options: false when it is dropped. */
static bool warning_severity(const struct diags *d, const char *name, enum severity *sev)
{
	int i = name ? warning_index(name, strlen(name)) : -1;
	if (i >= 0 && d->explicit_state[i]) {
		*sev = d->state[i] == WARN_ERROR ? SEV_ERROR : SEV_WARNING;
		return d->state[i] != WARN_OFF;
	}
	*sev = d->all_errors ? SEV_ERROR : SEV_WARNING;
	return true;
}

static void add(struct diags *d, enum severity sev, struct loc loc, const char *name, const char *fmt,
		va_list ap)
{
	if (sev == SEV_WARNING && !warning_severity(d, name, &sev)) {
		d->last_dropped = true;
		return;
	}
	if (sev == SEV_ERROR)
		d->errors++;
	else if (sev == SEV_WARNING)
		d->warnings++;
	/* Past the cap, count but do not store: the first errors are the useful ones. */
	d->last_dropped = true;
	if (sev == SEV_ERROR && d->errors > DIAG_MAX_ERRORS)
		return;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct diag *grown = realloc(d->v, cap * sizeof(*grown));
		if (!grown)
			return;
		d->v = grown;
		d->cap = cap;
	}
	char *msg = vformat(fmt, ap);
	if (!msg)
		return;
	/* Point at our own copy of the file name: the object the loc came from (a policy)
	 * may be freed before the diagnostics are rendered. */
	if (loc.file)
		loc.file = diags_add_source(d, loc.file, "", 0);
	d->v[d->n++] = (struct diag){ .severity = sev, .loc = loc, .message = msg, .name = name };
	d->last_dropped = false;
}

#define DEFINE_ADDER(fn, sev)                                                     \
	void fn(struct diags *d, struct loc loc, const char *fmt, ...)            \
	{                                                                         \
		va_list ap;                                                       \
		va_start(ap, fmt);                                                \
		add(d, sev, loc, NULL, fmt, ap);                                  \
		va_end(ap);                                                       \
	}
DEFINE_ADDER(diag_error, SEV_ERROR)
DEFINE_ADDER(diag_warning, SEV_WARNING)
DEFINE_ADDER(diag_note, SEV_NOTE)

void diag_warn(struct diags *d, const char *name, struct loc loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add(d, SEV_WARNING, loc, name, fmt, ap);
	va_end(ap);
}

void diag_hint(struct diags *d, const char *fmt, ...)
{
	if (d->n == 0 || d->last_dropped)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *hint = vformat(fmt, ap);
	va_end(ap);
	free(d->v[d->n - 1].hint);
	d->v[d->n - 1].hint = hint;
}

size_t diags_count(const struct diags *d) { return d->n; }
const struct diag *diags_get(const struct diags *d, size_t i) { return &d->v[i]; }
size_t diags_errors(const struct diags *d) { return d->errors; }
size_t diags_warnings(const struct diags *d) { return d->warnings; }
bool diags_full(const struct diags *d) { return d->errors >= DIAG_MAX_ERRORS; }

void diags_promote_warnings(struct diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].severity == SEV_WARNING)
			d->v[i].severity = SEV_ERROR;
	d->errors += d->warnings;
	d->warnings = 0;
}

/* Finds line `line` (1-based) of file's registered text; returns its start and length. */
static const char *source_line(const struct diags *d, const char *file, unsigned line, size_t *len)
{
	const struct source *s = NULL;
	for (size_t i = 0; i < d->n_sources && !s; i++)
		if (file && !strcmp(d->sources[i].file, file))
			s = &d->sources[i];
	if (!s || line == 0)
		return NULL;
	const char *p = s->text, *end = s->text + s->len;
	/* A UTF-8 byte-order mark is not part of the first line (the lexer skips it too). */
	if (s->len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	for (unsigned l = 1; l < line; l++) {
		p = memchr(p, '\n', (size_t)(end - p));
		if (!p)
			return NULL;
		p++;
	}
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	*len = (size_t)((nl ? nl : end) - p);
	if (*len && p[*len - 1] == '\r')
		(*len)--;
	return p;
}

size_t utf8_char(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xC2 && s[0] < 0xE0 ? 2 : s[0] >= 0xE0 && s[0] < 0xF0 ? 3
		   : s[0] >= 0xF0 && s[0] < 0xF5 ? 4 : 0;
	if (len == 0 || len > n)
		return 0;
	uint32_t v = len == 1 ? s[0] : s[0] & (0x7F >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3F);
	}
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	if (v < min[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return len;
}

/* Characters that hide or reorder text on a terminal: C0/C1 controls but tab, DEL, the
 * zero-width and bidirectional controls, the byte-order mark. */
static bool hides_text(uint32_t cp)
{
	return (cp < 0x20 && cp != '\t') || (cp >= 0x7F && cp < 0xA0) || (cp >= 0x200B && cp <= 0x200F) ||
	       (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2069) || cp == 0xFEFF;
}

/* How the character at s[0..n) is shown: as it is, or escaped (\xNN for a byte that is
 * not UTF-8, \u{NNNN} for a control). Writes the shown form to out (16 bytes), its width
 * in columns to *width; returns the bytes consumed. */
static size_t show_char(const unsigned char *s, size_t n, char out[16], unsigned *width)
{
	uint32_t cp = 0;
	size_t len = utf8_char(s, n, &cp);
	if (len == 0)
		snprintf(out, 16, "\\x%02x", s[0]);
	else if (hides_text(cp))
		snprintf(out, 16, cp < 0x80 ? "\\x%02x" : "\\u{%04x}", (unsigned)cp);
	else {
		memcpy(out, s, len);
		out[len] = '\0';
		*width = 1;
		return len;
	}
	*width = (unsigned)strlen(out);
	return len ? len : 1;
}

/* Writes user text with show_char's escapes: raw control bytes never reach the terminal. */
static void put_shown(FILE *out, const char *s, size_t n)
{
	char buf[16];
	unsigned w;
	for (size_t i = 0; i < n;) {
		i += show_char((const unsigned char *)s + i, n - i, buf, &w);
		fputs(buf, out);
	}
}

/* A long line (a megabyte name) is shown as a window around the caret. */
#define LINE_SHOWN_MAX 160
#define LINE_SHOWN_BEFORE 60

static size_t char_start(const char *line, size_t i)
{
	while (i > 0 && ((unsigned char)line[i] & 0xC0) == 0x80)
		i--;
	return i;
}

static void render_source(FILE *out, const char *line, size_t len, unsigned col, bool color)
{
	size_t at = col ? col - 1 : 0, from = 0, to = len;
	if (len > LINE_SHOWN_MAX) {
		from = char_start(line, at > LINE_SHOWN_BEFORE && at <= len ? at - LINE_SHOWN_BEFORE : 0);
		to = from + LINE_SHOWN_MAX < len ? char_start(line, from + LINE_SHOWN_MAX) : len;
	}
	fputs(from ? "..." : "", out);
	put_shown(out, line + from, to - from);
	fputs(to < len ? "...\n" : "\n", out);
	if (!col)
		return;
	fputs(from ? "   " : "", out);
	char buf[16];
	unsigned w = 0;
	/* Keep tabs so the caret lines up under tab-indented source. */
	for (size_t i = from; i < at && i < to;) {
		i += show_char((const unsigned char *)line + i, to - i, buf, &w);
		fprintf(out, "%*s", (int)w, buf[0] == '\t' ? "\t" : "");
	}
	fprintf(out, "%s^%s\n", color ? "\033[1;32m" : "", color ? "\033[0m" : "");
}

static void render_one(const struct diags *d, const struct diag *g, FILE *out, bool color)
{
	static const char *const names[] = { "error", "warning", "note" };
	static const char *const colors[] = { "\033[1;31m", "\033[1;35m", "\033[1;36m" };
	if (g->loc.file && g->loc.line && g->loc.col)
		fprintf(out, "%s%s:%u:%u:%s ", color ? "\033[1m" : "", g->loc.file, g->loc.line,
			g->loc.col, color ? "\033[0m" : "");
	else if (g->loc.file && g->loc.line)	/* a whole line, e.g. a prefix's source */
		fprintf(out, "%s%s:%u:%s ", color ? "\033[1m" : "", g->loc.file, g->loc.line,
			color ? "\033[0m" : "");
	else if (g->loc.file)
		fprintf(out, "%s: ", g->loc.file);
	fprintf(out, "%s%s:%s ", color ? colors[g->severity] : "", names[g->severity], color ? "\033[0m" : "");
	put_shown(out, g->message, strlen(g->message));
	fprintf(out, g->name ? " [%s]\n" : "\n", g->name);
	size_t len;
	const char *line = source_line(d, g->loc.file, g->loc.line, &len);
	if (line)
		render_source(out, line, len, g->loc.col, color);
	if (g->hint) {
		fprintf(out, "%shint:%s ", color ? "\033[1;36m" : "", color ? "\033[0m" : "");
		put_shown(out, g->hint, strlen(g->hint));
		fputc('\n', out);
	}
}

/* Orders by place in the file; diagnostics without a place first; otherwise as found. */
static int by_place(const void *a, const void *b)
{
	const struct diag *x = *(const struct diag *const *)a, *y = *(const struct diag *const *)b;
	if (x->loc.line != y->loc.line)
		return x->loc.line < y->loc.line ? -1 : 1;
	if (x->loc.col != y->loc.col)
		return x->loc.col < y->loc.col ? -1 : 1;
	return x < y ? -1 : (x > y);
}

void diags_render(const struct diags *d, FILE *out, bool color)
{
	const struct diag **order = malloc((d->n ? d->n : 1) * sizeof(*order));
	for (size_t i = 0; order && i < d->n; i++)
		order[i] = &d->v[i];
	if (order)
		qsort(order, d->n, sizeof(*order), by_place);
	for (size_t i = 0; i < d->n; i++)
		render_one(d, order ? order[i] : &d->v[i], out, color);
	free(order);
	if (d->errors > DIAG_MAX_ERRORS)
		fprintf(out, "pinhole: too many errors (%zu); only the first %d are shown\n", d->errors,
			DIAG_MAX_ERRORS);
}
