/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_verify.c — pinhole verify: are the DNS records the rules declare published as the
 * vendor requires? A checklist per record; the checks are verify/verify.c's. */
#include <getopt.h>
#include <jansson.h>
#include <string.h>

#include "cmd.h"
#include "common.h"
#include "verify.h"

static void verify_usage(FILE *out)
{
	fprintf(out, "Usage: pinhole verify [--server ADDR[#PORT]] [--format text|json] [-D NAME=VALUE]... RULES\n"
		     "\n"
		     "Asks DNS for every record RULES declares (record cname/spf/dkim/mx) and prints a\n"
		     "checklist: what was found, the verdict and what to change. Exit status 0 when every\n"
		     "record is right, 1 when one is wrong or missing, 2 on an error (bad rules, a parameter\n"
		     "not set, DNS not answering).\n"
		     "\n"
		     "  -s, --server ADDR[#PORT]  ask this server (default: the system's resolvers)\n"
		     "  -f, --format FORMAT     text (default) or json\n"
		     "  -D, --define NAME=VALUE  set a parameter or override a define\n"
		     "  -h, --help              show this help\n");
}

static const char *verdict_name(enum verify_verdict v)
{
	return v == VERIFY_OK ? "ok" : v == VERIFY_WRONG ? "wrong" : "error";
}

static void print_list(const char *label, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("    %-9s %s\n", i ? "" : label, v[i]);
}

static void print_check(const struct verify_check *c)
{
	const struct ir_record *rec = c->record;
	printf("%s:%u: %s %s: %s\n", rec->loc.file, rec->loc.line, verify_record_kind(rec->kind), rec->name,
	       c->verdict == VERIFY_OK ? "ok" : c->verdict == VERIFY_WRONG ? "WRONG" : "ERROR");
	printf("    %-9s %s\n", "requires:", c->requirement);
	if (c->n_found == 0)
		printf("    %-9s nothing\n", "found:");
	print_list("found:", c->found, c->n_found);
	if (c->spf_lookups >= 0)
		printf("    %-9s %d DNS lookups of %d, %d void lookups of %d\n", "counted:", c->spf_lookups,
		       SPF_MAX_LOOKUPS, c->spf_voids, SPF_MAX_VOID);
	if (c->key_bits > 0)
		printf("    %-9s %s, %d bits\n", "key:", c->key_type, c->key_bits);
	print_list("problem:", c->problems, c->n_problems);
	if (c->change)
		printf("    %-9s %s\n", "change:", c->change);
	printf("    %-9s %s\n", "DNSSEC:", c->secure ? "validated (the resolver set AD)" : "not validated");
}

static void print_text(const struct verify_report *rep)
{
	for (size_t i = 0; i < rep->n_checks; i++)
		print_check(&rep->checks[i]);
	printf("verify: %zu record%s, %zu ok, %zu wrong, %zu not checked (%zu DNS questions)\n", rep->n_checks,
	       rep->n_checks == 1 ? "" : "s", rep->n_checks - rep->n_wrong - rep->n_error, rep->n_wrong, rep->n_error,
	       rep->queries);
}

static json_t *json_list(char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *json_check(const struct verify_check *c)
{
	const struct ir_record *rec = c->record;
	json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:o, s:o, s:b}", "file", rec->loc.file, "line",
			      (json_int_t)rec->loc.line, "type", verify_record_kind(rec->kind), "name", rec->name,
			      "requirement", c->requirement, "verdict", verdict_name(c->verdict), "found",
			      json_list(c->found, c->n_found), "problems", json_list(c->problems, c->n_problems),
			      "dnssec_validated", c->secure);
	if (o && c->change)
		json_object_set_new(o, "change", json_string(c->change));
	if (o && c->spf_lookups >= 0) {
		json_object_set_new(o, "spf_lookups", json_integer(c->spf_lookups));
		json_object_set_new(o, "spf_void_lookups", json_integer(c->spf_voids));
	}
	if (o && c->key_bits > 0) {
		json_object_set_new(o, "key_type", json_string(c->key_type));
		json_object_set_new(o, "key_bits", json_integer(c->key_bits));
	}
	return o;
}

static int print_json(const struct verify_report *rep, const char *rules)
{
	json_t *checks = json_array();
	for (size_t i = 0; checks && i < rep->n_checks; i++)
		json_array_append_new(checks, json_check(&rep->checks[i]));
	json_t *o = json_pack("{s:s, s:o, s:I, s:I, s:I}", "rules", rules, "checks", checks, "wrong",
			      (json_int_t)rep->n_wrong, "errors", (json_int_t)rep->n_error, "queries",
			      (json_int_t)rep->queries);
	int ret = o ? json_dumpf(o, stdout, JSON_INDENT(2)) : -1;
	putchar('\n');
	json_decref(o);
	return ret;
}

struct verify_args {
	const char *server;
	bool json;
	struct defines defs;
};

static int parse_args(int argc, char **argv, struct verify_args *a)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' }, { "format", required_argument, NULL, 'f' },
		{ "define", required_argument, NULL, 'D' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "s:f:D:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': a->server = optarg; break;
		case 'f':
			if (strcmp(optarg, "text") && strcmp(optarg, "json")) {
				fprintf(stderr, "pinhole verify: unknown format '%s'; valid: text, json\n", optarg);
				return -1;
			}
			a->json = !strcmp(optarg, "json");
			break;
		case 'D': if (cli_add_define(&a->defs, optarg) < 0) return -1; break;
		case 'h': verify_usage(stdout); return 1;
		default: verify_usage(stderr); return -1;
		}
	}
	if (optind != argc - 1) {
		verify_usage(stderr);
		return -1;
	}
	return 0;
}

int cmd_verify(int argc, char **argv)
{
	int ret = 2;
	struct verify_args a = { 0 };
	struct diags *d = diags_new();
	struct policy *p = NULL;
	struct vdns *r = NULL;
	struct verify_report rep = { 0 };
	char why[128];
	int parsed = d ? parse_args(argc, argv, &a) : -1;
	if (parsed != 0) {
		ret = parsed > 0 ? 0 : 2;
		goto out;
	}
	if (!(p = cli_compile(argv[optind], &a.defs, d)) || cli_require_params(p, "verify") < 0)
		goto out;
	if (!(r = vdns_new(a.server, why))) {
		fprintf(stderr, "pinhole verify: %s\n", why);
		goto out;
	}
	if (verify_policy(p, r, &rep) < 0) {
		fprintf(stderr, "pinhole verify: out of memory\n");
		goto out;
	}
	if (p->n_records == 0)
		fprintf(stderr, "pinhole verify: %s declares no DNS records (see pinhole.rules(5), RECORDS)\n", argv[optind]);
	if (a.json ? print_json(&rep, argv[optind]) < 0 : (print_text(&rep), 0))
		goto out;
	ret = rep.n_error ? 2 : rep.n_wrong ? 1 : 0;
out:
	if (d && diags_count(d))
		cli_render(d);
	verify_report_free(&rep);
	vdns_free(r);
	policy_free(p);
	diags_free(d);
	return ret;
}
