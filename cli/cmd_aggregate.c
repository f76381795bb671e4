/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_aggregate.c — `pinhole aggregate`: the minimal CIDR cover of address lists. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cidr.h"
#include "cmd.h"
#include "diag.h"
#include "source.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: pinhole aggregate [FILE...]\n"
		"\n"
		"Reads IPv4 and IPv6 addresses, prefixes (ADDR/LEN) and ranges (FIRST-LAST), one\n"
		"per line, from each FILE or from standard input (no FILE, or '-'). Blank lines and\n"
		"'#' comments are ignored. Prints the fewest CIDR prefixes that cover exactly the\n"
		"same addresses, sorted, IPv4 first, one per line.\n"
		"\n"
		"Every bad line is reported as FILE:LINE:COL; then nothing is printed and the\n"
		"exit status is 1.\n");
}

/* The input side of one run: what was read so far and what was wrong with it. */
struct aggregate_run {
	struct cidr_list ranges;
	struct diags *diags;
};

/* One line's element after comment stripping and trimming. */
struct element {
	const char *text;
	size_t len;
	struct loc loc;	/* where text starts */
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Cuts a '#' comment and surrounding whitespace off line[0..*len); returns the start. */
static const char *trim_line(const char *line, size_t *len)
{
	const char *hash = memchr(line, '#', *len);
	const char *end = hash ? hash : line + *len;
	while (line < end && is_space(*line))
		line++;
	while (end > line && is_space(end[-1]))
		end--;
	*len = (size_t)(end - line);
	return line;
}

/* The written part that err_offset points into: up to the '-' or '/' the parser split at
 * when it is the first part, else the rest of the element. */
static size_t part_len(const struct element *e, size_t off)
{
	if (off > 0)
		return e->len - off;
	const char *cut = memchr(e->text, '-', e->len);
	if (!cut)
		cut = memchr(e->text, '/', e->len);
	return cut ? (size_t)(cut - e->text) : e->len;
}

/* Whether a dotted-quad-looking text has an octet with a leading zero ("010"). */
static bool has_octal_looking_octet(const char *s, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (s[i] == '0' && (i == 0 || s[i - 1] == '.') && s[i + 1] >= '0' && s[i + 1] <= '9')
			return !memchr(s, ':', n);
	return false;
}

static void report_bad_address(struct diags *d, const struct element *e, size_t off)
{
	const char *part = e->text + off;
	size_t n = part_len(e, off);
	diag_error(d, e->loc, "not an IPv4 or IPv6 address: %.*s", (int)n, part);
	if (diags_errors(d) > DIAG_MAX_ERRORS)
		return;	/* not stored: a hint would land on an earlier error */
	if (has_octal_looking_octet(part, n))
		diag_hint(d, "leading zeros are ambiguous (some tools read them as octal); "
			  "write each octet without them");
	else if (off == 0 && memchr(part, '/', n) && memchr(e->text, '-', e->len))
		diag_hint(d, "write a range as FIRST-LAST with plain addresses, or one prefix");
}

static void report_bad_length(struct diags *d, const struct element *e, size_t off,
			      const struct cidr_parsed *p)
{
	const char *max = p->range.family == FAMILY_V6 ? "128" : "32";
	const char *family = p->range.family == FAMILY_V6 ? "IPv6" : "IPv4";
	if (off == e->len)
		diag_error(d, e->loc, "missing prefix length after '/' in %.*s", (int)e->len, e->text);
	else
		diag_error(d, e->loc, "bad prefix length '%.*s' in %.*s: %s allows 0 to %s",
			   (int)(e->len - off), e->text + off, (int)e->len, e->text, family, max);
}

static void report_host_bits(struct diags *d, const struct element *e, const struct cidr_parsed *p)
{
	char net[CIDR_TEXT_MAX];
	cidr_format_prefix(net, &p->prefix);
	diag_error(d, e->loc, "host bits set in %.*s", (int)e->len, e->text);
	if (diags_errors(d) <= DIAG_MAX_ERRORS)
		diag_hint(d, "did you mean %s?", net);
}

static void report_reversed(struct diags *d, const struct element *e, size_t off)
{
	int first = (int)(off - 1), last = (int)(e->len - off);
	diag_error(d, e->loc, "range %.*s runs backwards: %.*s comes after %.*s", (int)e->len,
		   e->text, first, e->text, last, e->text + off);
	if (diags_errors(d) <= DIAG_MAX_ERRORS)
		diag_hint(d, "did you mean %.*s-%.*s?", last, e->text + off, first, e->text);
}

/* Records a diagnostic for an element cidr_parse refused, at the part it points to. */
static void report(struct diags *d, struct element e, enum cidr_status st,
		   const struct cidr_parsed *p)
{
	size_t off = p->err_offset;
	e.loc.col += (unsigned)off;
	switch (st) {
	case CIDR_OK:
		break;
	case CIDR_BAD_ADDRESS:
		report_bad_address(d, &e, off);
		break;
	case CIDR_BAD_LENGTH:
		report_bad_length(d, &e, off, p);
		break;
	case CIDR_HOST_BITS:
		report_host_bits(d, &e, p);
		break;
	case CIDR_REVERSED:
		report_reversed(d, &e, off);
		break;
	case CIDR_MIXED_FAMILY:
		diag_error(d, e.loc, "range %.*s mixes IPv4 and IPv6", (int)e.len, e.text);
		break;
	}
}

/* Parses one trimmed element into run->ranges, or records why not. The source text is
 * registered with the diagnostics only at a file's first error, so a clean million-line
 * input is never copied. Returns -1 only on ENOMEM. */
static int add_element(struct aggregate_run *run, struct element e, const char *text, size_t len)
{
	struct cidr_parsed parsed;
	enum cidr_status st = cidr_parse(e.text, e.len, &parsed);
	if (st == CIDR_OK)
		return cidr_list_add(&run->ranges, &parsed.range, 0);
	if (!diags_add_source(run->diags, e.loc.file, text, len))
		return -1;
	report(run->diags, e, st, &parsed);
	return 0;
}

static int add_lines(struct aggregate_run *run, const char *name, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	unsigned line = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		const char *start = trim_line(p, &n);
		line++;
		if (n > 0) {
			struct element e = { start, n, { name, line, (unsigned)(start - p) + 1 } };
			if (add_element(run, e, text, len))
				return -1;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

static int add_file(struct aggregate_run *run, const char *path)
{
	const char *name = strcmp(path, "-") ? path : "<stdin>";
	char *text;
	size_t len;
	if (source_read(path, &text, &len)) {
		fprintf(stderr, "pinhole aggregate: cannot read %s: %s\n", name, strerror(errno));
		return -1;
	}
	int ret = add_lines(run, name, text, len);
	if (ret)
		fprintf(stderr, "pinhole aggregate: %s: out of memory\n", name);
	free(text);
	return ret;
}

/* Formats every prefix into one buffer and writes it with a single fwrite: per-line stdio
 * calls cost more than the aggregation itself on a million prefixes. */
static int write_cover(const struct cidr_agg *agg)
{
	/* Longest lines: "255.255.255.255/32\n" and eight full IPv6 groups + "/128\n". */
	size_t cap = CIDR_TEXT_MAX, n = 0;
	for (size_t i = 0; i < agg->n; i++)
		cap += agg->prefixes[i].family == FAMILY_V4 ? 19 : 44;
	char *buf = malloc(cap);
	int ret = -1;
	if (!buf) {
		fprintf(stderr, "pinhole aggregate: out of memory\n");
		return -1;
	}
	for (size_t i = 0; i < agg->n; i++) {
		n += cidr_format_prefix(buf + n, &agg->prefixes[i]);
		buf[n++] = '\n';
	}
	if (fwrite(buf, 1, n, stdout) != n || fflush(stdout) != 0)
		fprintf(stderr, "pinhole aggregate: cannot write output: %s\n", strerror(errno));
	else
		ret = 0;
	free(buf);
	return ret;
}

/* Splits argv into files; returns 1 for --help, -1 for a bad option, 0 to go on. */
static int parse_args(int argc, char **argv, int *first_file)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
		fprintf(stderr, "pinhole aggregate: unknown option '%s'; try 'pinhole aggregate --help'\n",
			argv[i]);
		return -1;
	}
	*first_file = i;
	return 0;
}

static int read_inputs(struct aggregate_run *run, int argc, char **argv, int first)
{
	if (first == argc)
		return add_file(run, "-");
	for (int i = first; i < argc; i++)
		if (add_file(run, argv[i]))
			return -1;
	return 0;
}

int cmd_aggregate(int argc, char **argv)
{
	int ret = 1, first;
	struct aggregate_run run = { { 0 }, diags_new() };
	struct cidr_agg agg = { 0 };
	int args = parse_args(argc, argv, &first);
	if (args > 0) {
		usage(stdout);
		ret = 0;
		goto out;
	}
	if (args < 0)
		goto out;
	if (!run.diags) {
		fprintf(stderr, "pinhole aggregate: out of memory\n");
		goto out;
	}
	if (read_inputs(&run, argc, argv, first))
		goto out;
	if (diags_errors(run.diags) > 0) {
		diags_render(run.diags, stderr, isatty(STDERR_FILENO) && !getenv("NO_COLOR"));
		goto out;
	}
	if (cidr_aggregate(&run.ranges, false, &agg)) {
		fprintf(stderr, "pinhole aggregate: out of memory\n");
		goto out;
	}
	if (write_cover(&agg))
		goto out;
	ret = 0;
out:
	cidr_agg_free(&agg);
	cidr_list_free(&run.ranges);
	diags_free(run.diags);
	return ret;
}
