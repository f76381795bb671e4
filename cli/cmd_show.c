/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_show.c — pinhole show: what pinhole owns in the kernel now, read back over netlink:
 * tables, sets with their element counts and the rules-file sources of their prefixes (from
 * the applied snapshot: the kernel holds none), base chains and rules. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_apply.h"

static void show_usage(FILE *out)
{
	fprintf(out, "Usage: pinhole show [--format text|json] [-t TABLE [--sets-only]] [-D NAME=VALUE]... [RULES]\n"
		     "\n"
		     "Shows what pinhole owns in the kernel: the table (or, in sets-only mode, its sets),\n"
		     "every set with its number of prefixes and the rules files they came from (as pinhole\n"
		     "applied them last), and the base chains with their rules. The table and mode come from RULES or -t\n"
		     "(default table inet pinhole). Reading a set's elements costs the kernel time: about\n"
		     "2 s per 100,000 prefixes.\n"
		     "\n"
		     "  -f, --format FORMAT    text (default) or json (every element with its sources)\n"
		     "  -t, --table TABLE      the table (family inet)\n"
		     "      --sets-only        only pinhole's sets in TABLE\n"
		     "  -D, --define NAME=VALUE  override 'define NAME' of RULES\n"
		     "  -h, --help             show this help\n");
}

static const char *hook_name(uint32_t hook)
{
	static const char *const names[] = { "prerouting", "input", "forward", "output", "postrouting" };
	return hook < 5 ? names[hook] : "?";
}

static const char *set_kind_text(const struct nk_set *s)
{
	if (s->foreign)
		return "not pinhole's";
	return s->kind >= KSET_DNS_V4 ? "learnt by the guard" : "prefixes from the rules";
}

/* The files an element's sources name ("f:1,2,g:3" names f and g), each once per set. */
static void count_sources(const struct nk_set *s, json_t *files)
{
	for (size_t i = 0; i < s->n_elems; i++) {
		const char *c = s->elems[i].comment;
		json_t *seen = json_object();
		while (c && *c) {
			size_t len = strcspn(c, ",");
			const char *colon = memchr(c, ':', len);
			if (colon && colon != c) {
				char file[512];
				snprintf(file, sizeof(file), "%.*s", (int)(colon - c), c);
				if (!json_object_get(seen, file)) {
					json_object_set_new(seen, file, json_true());
					json_int_t n = json_integer_value(json_object_get(files, file));
					json_object_set_new(files, file, json_integer(n + 1));
				}
			}
			c += len + (c[len] == ',');
		}
		json_decref(seen);
	}
}

static json_t *set_json(const struct nk_set *s)
{
	json_t *files = json_object(), *elems = json_array();
	char text[CIDR_TEXT_MAX];
	count_sources(s, files);
	for (size_t i = 0; i < s->n_elems; i++) {
		cidr_format_prefix(text, &s->elems[i].prefix);
		json_array_append_new(elems, json_pack("{s:s, s:s?}", "prefix", text, "comment", s->elems[i].comment));
	}
	return json_pack("{s:s, s:s, s:s?, s:I, s:I, s:b, s:o, s:o}", "name", s->name, "kind", set_kind_text(s),
			 "comment", s->comment, "handle", (json_int_t)s->handle, "prefixes", (json_int_t)s->n_elems,
			 "pinhole", !s->foreign, "sources", files, "elements", elems);
}

static json_t *chain_json(const struct nk_chain *c)
{
	json_t *rules = json_array();
	for (size_t i = 0; i < c->n_rules; i++)
		json_array_append_new(rules, json_pack("{s:I, s:s?, s:b}", "handle", (json_int_t)c->rules[i].handle,
						       "comment", c->rules[i].comment, "pinhole",
						       c->rules[i].fingerprint != 0));
	return json_pack("{s:s, s:s, s:i, s:s, s:I, s:o}", "name", c->name, "hook", c->base ? hook_name(c->hooknum) : "",
			 "priority", c->priority, "policy", c->policy ? "accept" : "drop", "handle",
			 (json_int_t)c->handle, "rules", rules);
}

static json_t *ruleset_json(const struct nk_ruleset *rs)
{
	json_t *sets = json_array(), *chains = json_array();
	for (size_t i = 0; i < rs->n_sets; i++)
		if (!rs->sets[i].foreign)
			json_array_append_new(sets, set_json(&rs->sets[i]));
	for (size_t i = 0; i < rs->n_chains; i++)
		json_array_append_new(chains, chain_json(&rs->chains[i]));
	return json_pack("{s:s, s:s, s:s, s:b, s:I, s:o, s:o}", "family", "inet", "table", rs->table, "mode",
			 rs->mode == NK_MODE_TABLE ? "table" : "sets-only", "exists", rs->table_exists, "generation",
			 (json_int_t)rs->genid, "sets", sets, "chains", chains);
}

static void print_set(const struct nk_set *s)
{
	json_t *files = json_object();
	const char *file;
	json_t *n;
	printf("  set %s: %zu %s", s->name, s->n_elems, s->kind >= KSET_DNS_V4 ? "addresses learnt by the guard" : "prefixes");
	count_sources(s, files);
	const char *sep = ", from ";
	json_object_foreach(files, file, n) {
		printf("%s%s (%lld)", sep, file, (long long)json_integer_value(n));
		sep = ", ";
	}
	printf("\n");
	json_decref(files);
}

static void print_text(const struct nk_ruleset *rs)
{
	if (!rs->table_exists) {
		printf("table inet %s does not exist (generation %u)\n", rs->table, rs->genid);
		return;
	}
	printf("table inet %s (%s mode, generation %u)\n", rs->table, rs->mode == NK_MODE_TABLE ? "table" : "sets-only",
	       rs->genid);
	for (size_t i = 0; i < rs->n_sets; i++)
		if (!rs->sets[i].foreign)
			print_set(&rs->sets[i]);
	for (size_t i = 0; i < rs->n_chains; i++) {
		const struct nk_chain *c = &rs->chains[i];
		printf("  chain %s: hook %s priority %d policy %s, %zu rules\n", c->name, c->base ? hook_name(c->hooknum) : "-",
		       c->priority, c->policy ? "accept" : "drop", c->n_rules);
		for (size_t k = 0; k < c->n_rules; k++)
			printf("    %s%s\n", c->rules[k].comment ? c->rules[k].comment : "(no comment)",
			       c->rules[k].fingerprint ? "" : " [not written by pinhole]");
	}
}

/* Dynamic sets are read too (their element count is what the guard has learnt), and
 * static sets the last-applied state could not vouch for. */
static int read_all_elems(struct nl_session *s, struct nk_ruleset *rs)
{
	for (size_t i = 0; i < rs->n_sets; i++)
		if (!rs->sets[i].foreign && !rs->sets[i].elems_known && nl_set_read_elems(s, rs, &rs->sets[i]) < 0)
			return -1;
	return 0;
}

/* Sets-only mode with RULES: the sets the user declared that apply fills are listed too. */
static int adopt(struct nl_session *s, const struct policy *p, struct nk_ruleset *live)
{
	struct nk_ruleset want;
	if (!p || live->mode != NK_MODE_SETS_ONLY || !live->table_exists)
		return 0;
	if (nk_ruleset_from_policy(p, &want) < 0)
		return -1;
	int ret = nl_ruleset_adopt(s, &want, live);
	nk_ruleset_free(&want);
	return ret;
}

struct show_args {
	bool json, sets_only;
	const char *table;
	struct defines defs;
	const char *rules;		/* NULL: the table from -t */
};

/* Returns 0, 1 for --help (done), -1 after printing the problem. */
static int parse_args(int argc, char **argv, struct show_args *a)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' }, { "table", required_argument, NULL, 't' },
		{ "sets-only", no_argument, NULL, 'S' },	   { "define", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },	   { 0 },
	};
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "f:t:D:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (cli_format_json("show", optarg, &a->json) < 0)
				return -1;
			break;
		case 't': a->table = optarg; break;
		case 'S': a->sets_only = true; break;
		case 'D': if (cli_add_define(&a->defs, optarg) < 0) return -1; break;
		case 'h': show_usage(stdout); return 1;
		default: show_usage(stderr); return -1;
		}
	}
	if (optind < argc - 1) {
		show_usage(stderr);
		return -1;
	}
	a->rules = optind == argc - 1 ? argv[optind] : NULL;
	return 0;
}

static int print_json(const struct nk_ruleset *live)
{
	json_t *doc = ruleset_json(live);
	int ret = doc && json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 ? 0 : -1;
	json_decref(doc);
	printf("\n");
	return ret;
}

int cmd_show(int argc, char **argv)
{
	struct show_args a = { .table = "pinhole" };
	struct diags *d = diags_new();
	struct policy *p = NULL;
	struct nl_session *s = NULL;
	struct nl_plan read = { 0 };
	struct nk_ruleset *live = &read.live;
	int parsed = d ? parse_args(argc, argv, &a) : -1, ret = parsed > 0 ? 0 : 1;
	if (parsed != 0)
		goto out;
	if (a.rules) {
		if (!(p = cli_compile(a.rules, &a.defs, d)))
			goto out;
		a.table = p->table;
		a.sets_only = p->mode == POLICY_MODE_SETS_ONLY;
	}
	if (!(s = cli_session_open("show")))
		goto out;
	/* the static sets from the last-applied state when it holds (a dump costs seconds) */
	struct apply_options ao;
	char gens[4096];
	cli_apply_options(&ao);
	struct nl_plan_opts po = apply_plan_opts(&ao, true, gens, sizeof(gens));
	if (nl_live_read(s, a.table, a.sets_only ? NK_MODE_SETS_ONLY : NK_MODE_TABLE, &po, &read) < 0 ||
	    adopt(s, p, live) < 0 || read_all_elems(s, live) < 0) {
		fprintf(stderr, "pinhole show: cannot read the ruleset: %s\n", strerror(errno));
		goto out;
	}
	apply_attribute(&ao, live);
	if (!a.json)
		print_text(live);
	else if (print_json(live) < 0)
		goto out;
	ret = fflush(stdout) == 0 ? 0 : 1;
out:
	if (d)
		cli_render(d);
	nl_plan_free(&read);
	nl_session_close(s);
	policy_free(p);
	diags_free(d);
	return ret;
}
