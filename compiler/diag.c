#include "diag.h"

#include <stdlib.h>
#include <string.h>

struct source {
	char *file;
	char *text;
	size_t len;
};

struct diags {
	struct diag *v;
	size_t n, cap;
	size_t errors, warnings;
	bool last_dropped;	/* the newest diagnostic was not stored: its hint goes too */
	struct source *sources;
	size_t n_sources;
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

static void add(struct diags *d, enum severity sev, struct loc loc, const char *fmt, va_list ap)
{
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
	d->v[d->n++] = (struct diag){ .severity = sev, .loc = loc, .message = msg };
	d->last_dropped = false;
}

#define DEFINE_ADDER(fn, sev)                                                     \
	void fn(struct diags *d, struct loc loc, const char *fmt, ...)            \
	{                                                                         \
		va_list ap;                                                       \
		va_start(ap, fmt);                                                \
		add(d, sev, loc, fmt, ap);                                        \
		va_end(ap);                                                       \
	}
DEFINE_ADDER(diag_error, SEV_ERROR)
DEFINE_ADDER(diag_warning, SEV_WARNING)
DEFINE_ADDER(diag_note, SEV_NOTE)

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

static void render_caret(FILE *out, const char *line, size_t len, unsigned col, bool color)
{
	fprintf(out, "%.*s\n", (int)len, line);
	/* Keep tabs so the caret lines up under tab-indented source. */
	for (unsigned i = 1; i < col && i <= len; i++) {
		unsigned char c = (unsigned char)line[i - 1];
		if ((c & 0xC0) == 0x80)
			continue;	/* a UTF-8 continuation byte takes no column of its own */
		fputc(c == '\t' ? '\t' : ' ', out);
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
	fprintf(out, "%s%s:%s %s\n", color ? colors[g->severity] : "", names[g->severity],
		color ? "\033[0m" : "", g->message);
	size_t len;
	const char *line = source_line(d, g->loc.file, g->loc.line, &len);
	if (line && g->loc.col)
		render_caret(out, line, len, g->loc.col, color);
	else if (line)
		fprintf(out, "%.*s\n", (int)len, line);
	if (g->hint)
		fprintf(out, "%shint:%s %s\n", color ? "\033[1;36m" : "", color ? "\033[0m" : "", g->hint);
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
