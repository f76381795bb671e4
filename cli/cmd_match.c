/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_match.c — pinhole match: names, or the ClientHellos and DNS responses of a capture,
 * against a policy's `allow out` rules. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "cmd.h"
#include "common.h"
#include "verdict.h"

enum match_format { FORMAT_TEXT, FORMAT_JSONL };

/* Text verdicts for names are gathered here and written a block at a time: a million
 * names are a million lines, and stdio's per-call costs were a fifth of the run. */
#define MATCH_BLOCK (1 << 16)

struct match_run {
	struct verdict_table *table;
	enum match_format format;
	FILE *out;
	size_t allowed;
	bool write_error;
	char *block;		/* MATCH_BLOCK bytes, or NULL: write through run->out */
	size_t block_used;
};

static void match_usage(FILE *out)
{
	fprintf(out, "Usage: pinhole match --rules RULES [-D NAME=VALUE]... [--format text|jsonl] NAME...|-\n"
		     "       pinhole match --rules RULES [-D NAME=VALUE]... [--format text|jsonl] --pcap FILE\n"
		     "\n"
		     "Tells whether RULES' 'allow out' rules let names through: the names given, one per\n"
		     "line on standard input with '-', or the server names of the TLS ClientHellos and the\n"
		     "names of the DNS responses in a pcap or pcapng capture.\n"
		     "Exit status: 0 when something was allowed, 1 when nothing was, 2 on error.\n"
		     "\n"
		     "  -r, --rules RULES      the policy\n"
		     "  -D, --define NAME=VALUE  override 'define NAME' of the rules file\n"
		     "  -p, --pcap FILE        read a capture instead of names ('-' is standard input)\n"
		     "  -f, --format FORMAT    text (default): NAME<TAB>allow|deny<TAB>file:line|-\n"
		     "                         jsonl: one JSON object per line\n"
		     "  -h, --help             show this help\n");
}

/* "file:line" of where the element was written, into buf of size n. */
static const char *source_text(const struct verdict_hit *hit, char *buf, size_t n)
{
	if (!hit->elem)
		return NULL;
	snprintf(buf, n, "%s:%u", hit->elem->loc.file, hit->elem->loc.line);
	return buf;
}

/* A JSON string for bytes that may not be UTF-8 (a name typed or captured): other bytes are
 * written as \xHH text so the line stays valid JSON and the name stays recognisable. */
static json_t *json_bytes(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	if (j)
		return j;
	char *buf = malloc(4 * n + 1), *w = buf;
	for (size_t i = 0; buf && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		w += c < 0x80 ? sprintf(w, "%c", c) : sprintf(w, "\\x%02x", c);
	}
	j = buf ? json_stringn(buf, (size_t)(w - buf)) : NULL;
	free(buf);
	return j;
}

static void block_flush(struct match_run *run)
{
	if (run->block_used && fwrite(run->block, 1, run->block_used, run->out) != run->block_used)
		run->write_error = true;
	run->block_used = 0;
}

static void block_put(struct match_run *run, const char *s, size_t n)
{
	if (run->block_used + n > MATCH_BLOCK)
		block_flush(run);
	if (n > MATCH_BLOCK) {	/* a name longer than the block: straight through */
		if (fwrite(s, 1, n, run->out) != n)
			run->write_error = true;
		return;
	}
	memcpy(run->block + run->block_used, s, n);
	run->block_used += n;
}

/* NAME<TAB>allow<TAB>file:line or NAME<TAB>deny<TAB>-, formatted by hand. */
static void text_verdict(struct match_run *run, const char *name, size_t len, const struct verdict_hit *hit)
{
	block_put(run, name, len);
	if (!hit->elem) {
		block_put(run, "\tdeny\t-\n", 8);
		return;
	}
	char digits[16], *d = digits + sizeof(digits);
	*--d = '\n';
	unsigned line = hit->elem->loc.line;
	do
		*--d = (char)('0' + line % 10);
	while (line /= 10);
	*--d = ':';
	block_put(run, "\tallow\t", 7);
	block_put(run, hit->elem->loc.file, strlen(hit->elem->loc.file));
	block_put(run, d, (size_t)(digits + sizeof(digits) - d));
}

static void write_json(struct match_run *run, json_t *obj)
{
	if (!obj || json_dumpf(obj, run->out, JSON_COMPACT) < 0 || fputc('\n', run->out) == EOF)
		run->write_error = true;
	json_decref(obj);
}

/* Whether s[0..n) has a byte past ASCII: eight at a time, since every name asks. */
static bool has_non_ascii(const char *s, size_t n)
{
	uint64_t any = 0, w;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, sizeof(w));
		any |= w;
	}
	for (; i < n; i++)
		any |= (unsigned char)s[i];
	return (any & 0x8080808080808080ULL) != 0;
}

/* One name given on the command line or stdin. */
static void match_one_name(struct match_run *run, const char *name, size_t len)
{
	char normal[NAME_MAX_LEN + 1], src[512];
	const char *key = name;
	size_t key_len = len;
	enum name_kind kind;
	struct name_error nerr;
	struct verdict_hit hit = { 0 };
	/* Unicode as typed becomes the A-label that DNS and TLS carry. */
	if (has_non_ascii(name, len)) {
		key_len = 0;
		if (name_normalize(name, len, normal, &kind, &nerr) == 0 && kind == NAME_EXACT) {
			key = normal;
			key_len = strlen(normal);
		}
	}
	bool allow = key_len && verdict_name(run->table, key, key_len, &hit);
	run->allowed += allow;
	if (run->format == FORMAT_JSONL) {
		write_json(run, json_pack("{s:o, s:s, s:s?}", "name", json_bytes(name, len), "verdict",
					  allow ? "allow" : "deny", "rule", source_text(&hit, src, sizeof(src))));
		return;
	}
	text_verdict(run, name, len, &hit);
}

/* The names on the complete lines of text[0..len) (and, at_eof, the last one without a
 * newline); returns how many bytes it used. Blank lines are skipped, surrounding blanks
 * and a CR dropped. */
static size_t match_lines(struct match_run *run, char *text, size_t len, bool at_eof)
{
	char *line = text, *end = text + len;
	while (line < end && !run->write_error) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl && !at_eof)
			break;
		char *stop = nl ? nl : end, *start = line;
		line = nl ? nl + 1 : end;
		while (start < stop && (*start == ' ' || *start == '\t'))
			start++;
		while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t' || stop[-1] == '\r'))
			stop--;
		if (stop > start)
			match_one_name(run, start, (size_t)(stop - start));
	}
	return (size_t)(line - text);
}

/* Names from standard input, read a block at a time so a list of millions is never held
 * whole; a line longer than the block grows it. */
static int match_stdin(struct match_run *run)
{
	size_t cap = 1 << 20, have = 0;
	char *buf = malloc(cap);
	int ret = -1;
	for (bool eof = false; buf && !eof && !run->write_error;) {
		ssize_t got = read(STDIN_FILENO, buf + have, cap - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			goto out;
		eof = got == 0;
		have += (size_t)got;
		size_t used = match_lines(run, buf, have, eof);
		memmove(buf, buf + used, have - used);
		have -= used;
		char *bigger = have == cap ? realloc(buf, cap *= 2) : buf;
		if (!bigger)
			goto out;
		buf = bigger;
	}
	ret = buf ? 0 : -1;
out:
	if (ret < 0)
		fprintf(stderr, "pinhole: cannot read standard input: %s\n", strerror(errno));
	free(buf);
	return ret;
}

static int match_names(struct match_run *run, int argc, char **argv)
{
	static char block[MATCH_BLOCK];
	run->block = block;
	for (int i = 0; i < argc && !run->write_error; i++) {
		if (!strcmp(argv[i], "-")) {
			if (match_stdin(run) < 0) {
				block_flush(run);
				return -1;
			}
		} else {
			match_one_name(run, argv[i], strlen(argv[i]));
		}
	}
	block_flush(run);
	return 0;
}

static void endpoint_text(const struct capture_endpoint *ep, char *buf)
{
	char addr[CIDR_TEXT_MAX];
	cidr_format_addr(addr, ep->family, ep->addr);
	sprintf(buf, ep->family == FAMILY_V6 ? "[%s]:%u" : "%s:%u", addr, ep->port);
}

/* The verdict of one record of a capture. */
static bool record_verdict(struct match_run *run, const struct capture_record *rec, struct verdict_hit *hit)
{
	if (rec->kind == CAPTURE_SNI)
		return rec->tls.has_name && verdict_flow(run->table, rec->tls.name, strlen(rec->tls.name), rec->proto,
							  rec->dst.port, hit);
	if (verdict_name(run->table, rec->dns.question, strlen(rec->dns.question), hit))
		return true;
	for (size_t i = 0; i < rec->dns.n_cnames; i++)
		if (verdict_name(run->table, rec->dns.cnames[i].name, strlen(rec->dns.cnames[i].name), hit))
			return true;
	return false;
}

static json_t *dns_answers_json(const struct dns_response *r)
{
	json_t *arr = json_array();
	char text[CIDR_TEXT_MAX];
	for (size_t i = 0; i < r->n_addrs; i++) {
		cidr_format_addr(text, r->addrs[i].family, r->addrs[i].addr);
		json_array_append_new(arr, json_string(text));
	}
	return arr;
}

static json_t *dns_cnames_json(const struct dns_response *r)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < r->n_cnames; i++)
		json_array_append_new(arr, json_bytes(r->cnames[i].name, strlen(r->cnames[i].name)));
	return arr;
}

static void record_json(struct match_run *run, const struct capture_record *rec, const char *src, const char *dst,
			bool allow, const char *source)
{
	const char *verdict = allow ? "allow" : "deny";
	json_t *obj;
	if (rec->kind == CAPTURE_SNI) {
		obj = json_pack("{s:s, s:o, s:s, s:s, s:s, s:s?}", "kind", "sni", "name",
				json_bytes(rec->tls.name, strlen(rec->tls.name)), "src", src, "dst", dst, "verdict",
				verdict, "rule", source);
		if (obj && rec->tls.ech)
			json_object_set_new(obj, "ech", json_true());
	} else {
		obj = json_pack("{s:s, s:o, s:s, s:s, s:o, s:o, s:I, s:s, s:s?}", "kind", "dns", "name",
				json_bytes(rec->dns.question, strlen(rec->dns.question)), "src", src, "dst", dst,
				"answers", dns_answers_json(&rec->dns), "cnames", dns_cnames_json(&rec->dns), "ttl",
				(json_int_t)rec->dns.ttl, "verdict", verdict, "rule", source);
	}
	write_json(run, obj);
}

/* Text: KIND NAME SRC DST VERDICT SOURCE, tab-separated; DNS adds TTL, the CNAME chain and
 * the answers, comma-separated ('-' when empty). */
static void record_text(struct match_run *run, const struct capture_record *rec, const char *src, const char *dst,
			bool allow, const char *source)
{
	FILE *o = run->out;
	const char *name = rec->kind == CAPTURE_SNI ? rec->tls.name : rec->dns.question;
	fprintf(o, "%s%s\t%s\t%s\t%s\t%s\t%s", rec->kind == CAPTURE_SNI ? "sni" : "dns",
		rec->kind == CAPTURE_SNI && rec->tls.ech ? "-ech" : "", *name ? name : "-", src, dst,
		allow ? "allow" : "deny", source ? source : "-");
	if (rec->kind == CAPTURE_DNS) {
		char text[CIDR_TEXT_MAX];
		fprintf(o, "\t%u\t", rec->dns.ttl);
		for (size_t i = 0; i < rec->dns.n_cnames; i++)
			fprintf(o, "%s%s", i ? "," : "", rec->dns.cnames[i].name);
		fprintf(o, "%s\t", rec->dns.n_cnames ? "" : "-");
		for (size_t i = 0; i < rec->dns.n_addrs; i++) {
			cidr_format_addr(text, rec->dns.addrs[i].family, rec->dns.addrs[i].addr);
			fprintf(o, "%s%s", i ? "," : "", text);
		}
		fprintf(o, "%s", rec->dns.n_addrs ? "" : "-");
	}
	fputc('\n', o);
}

static int on_record(const struct capture_record *rec, void *arg)
{
	struct match_run *run = arg;
	struct verdict_hit hit = { 0 };
	char src[CIDR_TEXT_MAX + 16], dst[CIDR_TEXT_MAX + 16], where[512];
	bool allow = record_verdict(run, rec, &hit);
	run->allowed += allow;
	endpoint_text(&rec->src, src);
	endpoint_text(&rec->dst, dst);
	const char *source = source_text(&hit, where, sizeof(where));
	if (run->format == FORMAT_JSONL)
		record_json(run, rec, src, dst, allow, source);
	else
		record_text(run, rec, src, dst, allow, source);
	return run->write_error ? -1 : 0;
}

static int match_pcap(struct match_run *run, const char *path)
{
	char err[256];
	if (capture_read_file(path, on_record, run, err, sizeof(err)) < 0) {
		if (!run->write_error)
			fprintf(stderr, "pinhole: %s\n", err);
		return -1;
	}
	return 0;
}

static int parse_format(const char *s, enum match_format *f)
{
	if (!strcmp(s, "text"))
		*f = FORMAT_TEXT;
	else if (!strcmp(s, "jsonl"))
		*f = FORMAT_JSONL;
	else {
		fprintf(stderr, "pinhole: unknown format '%s'; valid formats: text jsonl\n", s);
		return -1;
	}
	return 0;
}

int cmd_match(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },  { "define", required_argument, NULL, 'D' },
		{ "pcap", required_argument, NULL, 'p' },   { "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },	    { 0 },
	};
	int ret = 2, c;
	const char *rules = NULL, *pcap = NULL, *why;
	struct match_run run = { .out = stdout };
	struct defines defs = { 0 };
	struct diags *d = diags_new();
	struct policy *p = NULL;
	optind = 0;
	while (d && (c = getopt_long(argc, argv, "r:D:p:f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': rules = optarg; break;
		case 'D': if (cli_add_define(&defs, optarg) < 0) goto out; break;
		case 'p': pcap = optarg; break;
		case 'f': if (parse_format(optarg, &run.format) < 0) goto out; break;
		case 'h': match_usage(stdout); ret = 0; goto out;
		default: match_usage(stderr); goto out;
		}
	}
	if (!d || !rules || (pcap ? optind != argc : optind == argc)) {
		match_usage(stderr);
		goto out;
	}
	if (!(p = cli_compile(rules, &defs, d)))
		goto out;
	if (!(run.table = verdict_table_new(p, &why))) {
		fprintf(stderr, "pinhole: %s\n", why);
		goto out;
	}
	static char obuf[1 << 16];
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	if ((pcap ? match_pcap(&run, pcap) : match_names(&run, argc - optind, argv + optind)) < 0)
		goto out;
	if (fflush(stdout) != 0 || run.write_error) {
		fprintf(stderr, "pinhole: cannot write output: %s\n", strerror(errno));
		goto out;
	}
	ret = run.allowed ? 0 : 1;
out:
	fflush(stdout);
	if (d)
		cli_render(d);
	verdict_table_free(run.table);
	policy_free(p);
	diags_free(d);
	return ret;
}
