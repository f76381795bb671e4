/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_apply.c — pinhole apply: the policy into the kernel as one atomic netlink batch that
 * carries only the difference, tied to the ruleset generation it was computed against.
 * --dry-run has the kernel validate the batch and discard it (as nft -c); --confirm keeps
 * a snapshot and restores it unless `pinhole confirm` comes in time. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "cmd_apply.h"
#include "safefile.h"
#include "source.h"

static void apply_usage(FILE *out)
{
	fprintf(out, "Usage: pinhole apply [--dry-run] [--confirm SECONDS] [-D NAME=VALUE]... [--no-cache]\n"
		     "                     [--format text|json] RULES\n"
		     "\n"
		     "Makes the kernel's nftables ruleset hold what RULES wants, in one atomic transaction\n"
		     "that carries only the difference. Table mode (default): pinhole owns table inet TABLE\n"
		     "(option table); sets-only mode (option mode sets-only): pinhole fills its sets in a\n"
		     "table you made. Nothing else in the ruleset is read for changing or touched.\n"
		     "\n"
		     "  -n, --dry-run          print the plan and have the kernel check the batch without\n"
		     "                         committing it (exit 0 no changes, 1 changes, 2 error)\n"
		     "      --confirm SECONDS  restore the previous state after SECONDS unless\n"
		     "                         'pinhole confirm' is run in time\n"
		     "  -D, --define NAME=VALUE  override 'define NAME' of the rules file\n"
		     "      --no-cache         read the elements from the kernel even when the last-applied\n"
		     "                         state says nobody changed them\n"
		     "  -q, --quiet            print only errors (and --confirm's reminder)\n"
		     "  -f, --format FORMAT    text (default) or json: one document with the plan, the\n"
		     "                         counts and the kernel's answer, for programs\n"
		     "  -h, --help             show this help\n"
		     "\n"
		     "State: $PINHOLE_STATE_DIR (default /var/lib/pinhole); pending confirmations:\n"
		     "$PINHOLE_RUN_DIR (default /run/pinhole). See pinhole(8), APPLY.\n");
}

/* ---- shared with show, remove, confirm, diff --live ---- */

struct nl_session *apply_session_open(const char *cmd)
{
	struct nl_session *s = nl_session_open();
	if (!s)
		fprintf(stderr, "pinhole %s: cannot talk to nf_tables: %s%s\n", cmd, strerror(errno),
			errno == EPERM ? " (needs CAP_NET_ADMIN: run as root)" : "");
	return s;
}

void apply_report(const char *cmd, const struct nl_result *res, struct diags *d)
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

void apply_plan_error(const char *cmd, const char *table, int err)
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

const char *apply_state_dir(void)
{
	const char *d = getenv("PINHOLE_STATE_DIR");
	return d && *d ? d : "/var/lib/pinhole";
}

const char *apply_run_dir(void)
{
	const char *d = getenv("PINHOLE_RUN_DIR");
	return d && *d ? d : "/run/pinhole";
}

int apply_state_dir_check(const char *cmd, bool create)
{
	char why[SAFEFILE_WHY];
	int fd = safefile_dir_open(apply_state_dir(), create, why);
	if (fd < 0 && (create || errno != ENOENT)) {
		fprintf(stderr, "pinhole %s: %s\n", cmd, why);
		return -1;
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

char *apply_snapshot_path(const char *dir, const char *table, const char *suffix)
{
	char *p = NULL;
	return asprintf(&p, "%s/inet-%s.%s", dir, table, suffix) < 0 ? NULL : p;
}

/* ---- the plan ---- */

bool apply_plan_refused(const char *cmd, const struct nl_plan *plan)
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

void apply_print_plan(FILE *out, const struct nl_plan *plan, const struct nk_ruleset *want)
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

/* ---- snapshots of the applied source ---- */

#define SNAPSHOT_HEADER "# pinhole applied snapshot v1\n"
#define SNAPSHOT_BODY "----\n"

/* Written next to its place and renamed, without fsync: the snapshot only matters while
 * the kernel holds what it describes, and a reboot empties the kernel. */
int apply_snapshot_write(const char *path, const char *rules, const struct defines *defs, bool absent, char *why)
{
	char *text = NULL;
	size_t len = 0;
	struct safefile w;
	if (!absent && source_read(rules, &text, &len) < 0) {
		snprintf(why, SAFEFILE_WHY, "cannot read %s again: %s", rules, strerror(errno));
		return -1;
	}
	if (safefile_begin(&w, path, 0600, true) == 0) {
		fputs(SNAPSHOT_HEADER, w.f);
		fprintf(w.f, "file %s\n", rules);
		for (size_t i = 0; defs && i < defs->n; i++)
			fprintf(w.f, "define %s=%s\n", defs->v[i].name, defs->v[i].value);
		fputs(absent ? "absent\n" : "", w.f);
		fputs(SNAPSHOT_BODY, w.f);
		if (text)
			fwrite(text, 1, len, w.f);
	}
	int ret = safefile_commit(&w, true, false);
	if (ret < 0)
		snprintf(why, SAFEFILE_WHY, "%s", w.why);
	free(text);
	return ret;
}

/* Parses the header lines in place; returns the body or NULL when malformed. */
static char *snapshot_parse(char *text, const char **file, struct defines *defs, bool *absent)
{
	if (strncmp(text, SNAPSHOT_HEADER, strlen(SNAPSHOT_HEADER)))
		return NULL;
	char *line = text + strlen(SNAPSHOT_HEADER);
	while (line && strncmp(line, SNAPSHOT_BODY, strlen(SNAPSHOT_BODY))) {
		char *nl = strchr(line, '\n');
		if (!nl)
			return NULL;
		*nl = '\0';
		if (!strncmp(line, "file ", 5))
			*file = line + 5;
		else if (!strncmp(line, "define ", 7) && cli_add_define(defs, line + 7) < 0)
			return NULL;
		else if (!strcmp(line, "absent"))
			*absent = true;
		line = nl + 1;
	}
	return line ? line + strlen(SNAPSHOT_BODY) : NULL;
}

struct policy *apply_snapshot_compile(const char *path, bool *absent, struct diags *d)
{
	char *text = NULL, *body;
	size_t len;
	const char *file = NULL;
	struct defines defs = { 0 };
	struct policy *p = NULL;
	char why[SAFEFILE_WHY];
	*absent = false;
	/* only from a checked directory: a planted snapshot would be applied as rules */
	int fd = safefile_open(path, O_RDONLY, 0, false, why);
	if (fd < 0 || source_read_fd(fd, &text, &len) < 0) {
		diag_error(d, (struct loc){ path, 0, 0 }, "cannot read the snapshot: %s", fd < 0 ? why : strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	close(fd);
	body = snapshot_parse(text, &file, &defs, absent);
	if (!body || !file) {
		diag_error(d, (struct loc){ path, 0, 0 }, "not a pinhole snapshot");
	} else if (!*absent) {
		struct compile_request req = { .file = file, .text = body, .len = len - (size_t)(body - text),
					       .defines = defs.v, .n_defines = defs.n };
		p = policy_compile(&req, d);
	}
	/* the policy copied what it keeps; the defines point into text, used up by now */
	free(text);
	return p;
}

/* ---- applying ---- */

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Test hook: with PINHOLE_TEST_SYNC=FIFO, apply stops between reading the ruleset and
 * committing until a line arrives on FIFO, so a test can change the ruleset in between. */
static void test_sync(void)
{
	const char *fifo = getenv("PINHOLE_TEST_SYNC");
	char line[16];
	if (!fifo || !*fifo)
		return;
	FILE *f = fopen(fifo, "r");
	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
	}
}

static void report_failure(const char *cmd, const struct nl_result *res, struct apply_args *a, struct diags *d)
{
	if (res->n_errors) {
		apply_report(cmd, res, d);
		a->rejected = true;
	} else {
		fprintf(stderr, "pinhole %s: %s; the kernel %s the batch\n", cmd, strerror(errno),
			res->committed ? "did commit" : "did not commit");
	}
}

/* One attempt: plan, print it, send it. *stale asks for another attempt. */
static enum apply_outcome attempt(const char *cmd, struct nl_session *s, const struct nk_ruleset *want,
			    struct apply_args *a, struct diags *d, bool first, bool *stale)
{
	struct nl_plan plan;
	struct nl_result res = { 0 };
	const char *dir = apply_state_dir();
	double t0 = now_ms();
	enum apply_outcome out = APPLY_ERROR;
	struct nl_plan_opts po = apply_plan_opts(a->use_cache);
	if (nl_plan_make_opts(s, want, &po, &plan) < 0) {
		apply_plan_error(cmd, want->table, errno);
		return APPLY_ERROR;
	}
	if (!a->quiet)
		apply_print_plan(stdout, &plan, want);
	if (a->record)
		apply_record_plan(a->record, &plan, want);
	if (apply_plan_refused(cmd, &plan))
		goto done;
	if (plan.delta.n_changes == 0) {
		out = APPLY_NO_CHANGE;
		/* read from the kernel after someone else's commit: remember it, or every
		 * later apply dumps the sets again */
		plan.key.source = a->source;
		if (!a->dry_run && nl_plan_refresh(&plan, want, dir) < 0)
			fprintf(stderr, "pinhole %s: warning: cannot save the last-applied state in %s: %s\n", cmd, dir,
				strerror(errno));
		goto done;
	}
	if (first)
		test_sync();
	/* PINHOLE_TEST_LOSE_ACKS: tests make the answer go missing to see apply find out */
	const char *lose = getenv("PINHOLE_TEST_LOSE_ACKS");
	struct nl_commit_opts o = { .check_only = a->dry_run, .genid = plan.live.genid, .test_lose_acks = lose && *lose };
	int sent = nl_delta_commit(s, &plan.delta, &o, &res);
	if (sent < 0 && !res.committed) {
		*stale = res.stale;
		if (!res.stale)
			report_failure(cmd, &res, a, d);
		goto done;
	}
	if (sent < 0)
		fprintf(stderr, "pinhole %s: the kernel's answer was lost (%s); asked again, it had committed the "
				"batch\n", cmd, strerror(errno));
	out = APPLY_CHANGED;
	if (a->dry_run) {
		if (!a->quiet)
			printf("the kernel accepts this batch (%zu messages, %zu bytes); nothing was committed\n",
			       res.n_messages, res.n_bytes);
		goto done;
	}
	plan.key.source = a->source;
	if (nl_plan_remember(s, &plan, want, &res, dir) < 0)
		fprintf(stderr, "pinhole %s: warning: cannot save the last-applied state in %s: %s\n", cmd, dir,
			strerror(errno));
	if (!a->quiet)
		printf("applied in one transaction: %zu messages, %zu bytes, %.0f ms (generation %u)\n",
		       res.n_messages, res.n_bytes, now_ms() - t0, res.genid_after);
done:
	if (a->record)
		apply_record_result(a->record, &res);
	nl_result_free(&res);
	nl_plan_free(&plan);
	return out;
}

/* The whole apply; retries when the kernel refused the batch as stale, since nothing was
 * changed then and the next plan is made against what the other writer left. */
static enum apply_outcome apply_want(const char *cmd, struct nl_session *s, const struct nk_ruleset *want,
			       struct apply_args *a, struct diags *d)
{
	for (int i = 0; i < 3; i++) {
		bool stale = false;
		enum apply_outcome out = attempt(cmd, s, want, a, d, i == 0, &stale);
		if (!stale)
			return out;
		fprintf(stderr, "pinhole %s: the ruleset changed between reading it and committing; nothing was "
				"applied; reading it again\n", cmd);
	}
	fprintf(stderr, "pinhole %s: the ruleset keeps changing under us; giving up\n", cmd);
	return APPLY_ERROR;
}

enum apply_outcome apply_policy(const char *cmd, struct nl_session *s, const struct policy *p,
				 struct apply_args *a, struct diags *d)
{
	struct nk_ruleset want;
	if (p->mode == POLICY_MODE_SETS_ONLY && p->n_rules && !a->quiet)
		fprintf(stderr, "pinhole %s: note: sets-only mode applies sets only; the %zu allow rules are for "
				"your own chains to express (pinhole(8), APPLY)\n", cmd, p->n_rules);
	if (nk_ruleset_from_policy(p, &want) < 0) {
		fprintf(stderr, "pinhole %s: out of memory\n", cmd);
		return APPLY_ERROR;
	}
	enum apply_outcome out = apply_want(cmd, s, &want, a, d);
	nk_ruleset_free(&want);
	return out;
}

/* Remembers what was applied, for a later --confirm's snapshot: as "applied", or as
 * "applied.new" until `pinhole confirm` makes it "applied". */
/* The parameters' values as -D defines, so that a snapshot (compiled without following
 * its includes) gives the policy that was applied. */
static void params_as_defines(const struct policy *p, const struct defines *given, struct defines *out)
{
	*out = *given;
	for (size_t i = 0; i < p->n_params && out->n < MAX_DEFINES; i++) {
		bool known = false;
		for (size_t j = 0; j < given->n; j++)
			known |= !strcmp(given->v[j].name, p->params[i].name);
		if (!known && p->params[i].supplied)
			out->v[out->n++] = (struct define_override){ p->params[i].name, p->params[i].value };
	}
}

static void remember_source(const struct policy *p, struct apply_args *a, const char *suffix)
{
	struct defines defs;
	params_as_defines(p, &a->defs, &defs);
	char *path = apply_snapshot_path(apply_state_dir(), p->table, suffix);
	char why[SAFEFILE_WHY] = "out of memory";
	if (path && !strcmp(a->rules, "-")) {
		/* standard input cannot be read again: no snapshot, and none that is out of date */
		unlink(path);
		fprintf(stderr, "pinhole apply: note: rules from standard input are not kept; a later --confirm "
				"needs this policy applied from a file\n");
	} else if (!path || apply_snapshot_write(path, a->rules, &defs, false, why) < 0) {
		fprintf(stderr, "pinhole apply: warning: cannot keep a copy of the applied rules: %s\n", why);
	}
	free(path);
}

/* ---- unchanged since the last apply ---- */

/* An included file is part of the source: its text (or its absence) joins the hash of each
 * 'include "PATH"' that starts a line, so editing /etc/pinhole/local.rules is a change. */
static uint64_t hash_includes(const char *path, const char *text, size_t len, uint64_t h)
{
	const char *end = text + len;
	for (const char *line = text; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line)), *eol = nl ? nl : end;
		const char *p = line;
		while (p < eol && (*p == ' ' || *p == '\t'))
			p++;
		const char *q = eol - p > 9 && !strncmp(p, "include", 7) ? memchr(p, '"', (size_t)(eol - p)) : NULL;
		const char *close = q ? memchr(q + 1, '"', (size_t)(eol - q - 1)) : NULL;
		if (close) {
			char *written = strndup(q + 1, (size_t)(close - q - 1)), *full = NULL, *inc = NULL;
			size_t n = 0;
			if (written && (full = policy_include_path(path, written)) && source_read(full, &inc, &n) == 0)
				h = nk_hash(inc, n, h);
			else
				h = nk_hash("\0absent", 7, h);
			free(written);
			free(full);
			free(inc);
		}
		line = eol + 1;
	}
	return h;
}

/* What identifies an applied source: pinhole's version, the file's name and text, and the
 * -D defines. 0 (unknown) for standard input, which cannot be read twice. */
static uint64_t source_hash(const char *path, const struct defines *defs)
{
	char *text;
	size_t len;
	if (!strcmp(path, "-") || source_read(path, &text, &len) < 0)
		return 0;

	uint64_t h = nk_hash(PINHOLE_VERSION, strlen(PINHOLE_VERSION), 0);
	h = nk_hash(path, strlen(path) + 1, h);
	for (size_t i = 0; i < defs->n; i++) {
		h = nk_hash(defs->v[i].name, strlen(defs->v[i].name) + 1, h);
		h = nk_hash(defs->v[i].value, strlen(defs->v[i].value) + 1, h);
	}
	h = nk_hash(text, len, h);
	h = hash_includes(path, text, len, h);
	free(text);
	return h;
}

/* For --format json: the shortcut compiles nothing, so the mode comes from the kernel: only
 * a table that pinhole owns whole carries its mark. */
static void record_unchanged(struct nl_session *s, struct apply_record *r, char *table, uint32_t genid)
{
	struct nk_ruleset live;
	enum nk_mode mode = NK_MODE_TABLE;
	if (nl_ruleset_read(s, table, NK_MODE_TABLE, NL_READ_OBJECTS, &live) == 0) {
		mode = live.table_marked ? NK_MODE_TABLE : NK_MODE_SETS_ONLY;
		nk_ruleset_free(&live);
	}
	apply_record_unchanged(r, table, mode, genid);
}

/* The same source as the last apply, and the ruleset's generation still the one that apply
 * left: the kernel holds what the rules want, so there is nothing to compile or compare. */
static bool unchanged(struct nl_session *s, const struct apply_args *a)
{
	struct nk_cache_key key;
	char table[256];
	struct nl_plan_opts po = apply_plan_opts(true);
	if (!a->source || nk_cache_key_now(s, &key) < 0 || nl_genid(s, &key.genid) < 0)
		return false;
	key.source = a->source;
	/* pinhole guard's commits since leave the applied sets as they were */
	uint32_t since = nk_guard_gens_since(po.guard_generations, &key, key.genid);
	key.genid_min = since != key.genid ? since : 0;
	/* a pending confirmation is for apply proper to refuse, with its message */
	if (!nk_cache_find_source(apply_state_dir(), &key, table, sizeof(table)) || pending_any(table))
		return false;
	if (!a->quiet)
		printf("table inet %s, generation %u: no changes: %s is what pinhole applied last, and %s since\n",
		       table, key.genid, a->rules,
		       key.genid_min ? "only pinhole guard's learnt sets have changed" : "the ruleset has not changed");
	if (a->record)
		record_unchanged(s, a->record, table, key.genid);
	return true;
}

/* ---- the command ---- */

static int parse_args(int argc, char **argv, struct apply_args *a)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },	{ "confirm", required_argument, NULL, 'C' },
		{ "define", required_argument, NULL, 'D' }, { "no-cache", no_argument, NULL, 'N' },
		{ "quiet", no_argument, NULL, 'q' },	{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },	{ 0 },
	};
	int c;
	char *end;
	optind = 0;
	while ((c = getopt_long(argc, argv, "nD:qf:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': a->dry_run = true; break;
		case 'C':
			a->confirm = strtol(optarg, &end, 10);
			if (*end || a->confirm < 1 || a->confirm > 86400) {
				fprintf(stderr, "pinhole apply: --confirm wants seconds from 1 to 86400, got '%s'\n", optarg);
				return -1;
			}
			break;
		case 'D': if (cli_add_define(&a->defs, optarg) < 0) return -1; break;
		case 'N': a->use_cache = false; break;
		case 'q': a->quiet = true; break;
		case 'f':
			if (cli_format_json("apply", optarg, &a->json) < 0)
				return -1;
			break;
		case 'h': apply_usage(stdout); return 1;
		default: apply_usage(stderr); return -1;
		}
	}
	if (optind != argc - 1 || (a->dry_run && a->confirm)) {
		apply_usage(stderr);
		return -1;
	}
	a->rules = argv[optind];
	return 0;
}

int cmd_apply(int argc, char **argv)
{
	struct apply_args a = { .use_cache = true };
	struct apply_record rec;
	struct diags *d = diags_new();
	struct policy *p = NULL;
	struct nl_session *s = NULL;
	int parsed = d ? parse_args(argc, argv, &a) : -1;
	int ret = 1, error_status = 1;
	enum apply_outcome out = APPLY_ERROR;
	apply_record_init(&rec);
	if (parsed != 0) {
		ret = parsed > 0 ? 0 : 1;
		goto out;
	}
	if (a.json) {
		a.record = &rec;
		a.quiet = true;	/* stdout is the document's */
	}
	error_status = a.dry_run ? 2 : 1;
	ret = error_status;
	/* before anything is read from it (the cache decides what apply believes) */
	if (apply_state_dir_check("apply", !a.dry_run) < 0)
		goto out;
	a.source = a.use_cache && !a.confirm ? source_hash(a.rules, &a.defs) : 0;
	if (a.source && (s = nl_session_open()) && unchanged(s, &a)) {
		ret = 0;
		goto out;
	}
	if (!(p = cli_compile(a.rules, &a.defs, d)) || cli_require_params(p, "apply") < 0 ||
	    (!s && !(s = apply_session_open("apply"))))
		goto out;
	/* a plain apply during a confirmation window would be undone by its rollback */
	if (!a.confirm && !a.dry_run && pending_settle("apply", p->table) < 0)
		goto out;
	out = a.confirm ? apply_confirmed(s, p, &a, d) : apply_policy("apply", s, p, &a, d);
	/* also after "no changes": an edit that moved lines is now what the kernel's sources
	 * are (show, diff --live) and what a rollback returns to */
	if ((out == APPLY_CHANGED || out == APPLY_NO_CHANGE) && !a.dry_run)
		remember_source(p, &a, a.confirm ? "applied.new" : "applied");
	if (a.dry_run)
		ret = out == APPLY_ERROR ? 2 : out == APPLY_CHANGED ? 1 : 0;
	else
		ret = out == APPLY_ERROR ? 1 : 0;
out:
	if (d)
		cli_render(d);
	if (a.rejected)
		fprintf(stderr, "pinhole apply: %s: the kernel takes a batch whole or not at all\n",
			a.dry_run ? "the kernel rejects this batch" : "nothing was applied");
	if (a.record && apply_record_print(&rec, a.dry_run, d, stdout) < 0) {
		fprintf(stderr, "pinhole apply: cannot write the JSON document: %s\n", strerror(errno));
		ret = error_status;
	}
	apply_record_free(&rec);
	nl_session_close(s);
	policy_free(p);
	diags_free(d);
	return ret;
}
