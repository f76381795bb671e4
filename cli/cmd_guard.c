/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_guard.c — pinhole guard: the daemon that keeps domain allowlists enforced (DNS
 * snooping into the dynamic sets, TLS server name checks), --stats to read its counters,
 * --uninstall to remove its steering rules. The work is in matcher/guard_run.c. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "common.h"
#include "guard_resolv.h"
#include "guard_run.h"
#include "safefile.h"

#define GUARD_DEFAULT_QUEUE 2000

static void guard_usage(FILE *out)
{
	fprintf(out,
		"Usage: pinhole guard --rules RULES [OPTIONS]\n"
		"       pinhole guard --stats [--stats-file FILE] [--format text|json]\n"
		"       pinhole guard --uninstall --rules RULES\n"
		"\n"
		"Keeps the names of RULES enforced on this host: learns the addresses of DNS answers\n"
		"for them into the NAME_dns_v4/_v6 sets that `pinhole apply` made, and checks the\n"
		"server name of TLS connections towards those addresses. Runs in the foreground;\n"
		"SIGHUP reloads RULES, SIGTERM stops. Needs CAP_NET_ADMIN only. See pinhole(8), GUARD.\n"
		"\n"
		"  -r, --rules FILE        the rules file (the same one pinhole apply loaded)\n"
		"  -D, --define NAME=VALUE override 'define NAME' of the rules file\n"
		"      --passive           learn from NFLOG copies; nothing waits for the guard and\n"
		"                          TLS is not checked (default: strict, through NFQUEUE)\n"
		"      --fail-open         while no guard runs, let queued packets through\n"
		"                          (default: fail closed, they are dropped)\n"
		"      --queue N           DNS answers on queue N, TLS on N+1 (default %d)\n"
		"      --log-group N       NFLOG group of DNS queries, and of answers in passive\n"
		"                          mode (default %d)\n"
		"      --resolver ADDRESS  believe DNS answers from this resolver (repeatable;\n"
		"                          default: the nameservers of /etc/resolv.conf)\n"
		"      --queue-maxlen N    packets the kernel holds per queue (default 16384)\n"
		"      --steer auto|nft|xt how rules reach the queue: nft 'queue' or the xtables\n"
		"                          NFQUEUE target (default auto: what the kernel has)\n"
		"      --no-steer          install no steering rules (your own rules queue)\n"
		"      --deny reset|drop   what a denied TLS connection gets (default reset)\n"
		"      --ttl-min SECONDS   shortest life of a learnt address (default 60)\n"
		"      --ttl-max SECONDS   longest life of a learnt address (default 86400)\n"
		"      --refresh auto|update|replace|delete\n"
		"                          how a known element's timeout is extended (default auto)\n"
		"      --log-level LEVEL   err, warning, notice, info (one line per decision), debug\n"
		"                          (default info)\n"
		"      --stats-file FILE   counters file (default $RUNTIME_DIRECTORY/guard.stats,\n"
		"                          else /run/pinhole/guard.stats)\n"
		"      --state-file FILE   learnt entries kept across restarts (default guard.state\n"
		"                          next to the stats file)\n"
		"      --stats             print the counters of the running guard and exit\n"
		"      --format text|json  with --stats\n"
		"      --uninstall         remove the steering rules from the table and exit\n"
		"  -h, --help              show this help\n",
		GUARD_DEFAULT_QUEUE, GUARD_DEFAULT_QUEUE);
}

struct guard_cli {
	const char *rules, *stats_path, *state_path, *format;
	struct defines defs;
	bool stats, uninstall;
	enum glog_level level;
	struct guard_run_opts run;
	char stats_buf[PATH_MAX], state_buf[PATH_MAX], gens_buf[PATH_MAX];
	const char *resolvers[16];	/* GUARD_MAX_RESOLVERS */
};

static struct policy *load_rules(void *arg)
{
	struct guard_cli *c = arg;
	struct diags *d = diags_new();
	struct policy *p = d ? cli_compile(c->rules, &c->defs, d) : NULL;
	glog_flush(c->run.log);
	if (d)
		cli_render(d);
	if (p && cli_require_params(p, "guard") < 0) {
		policy_free(p);
		p = NULL;
	}
	diags_free(d);
	return p;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max || s[0] == '-') {
		fprintf(stderr, "pinhole: '%s' is not a number up to %lu\n", s, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_word(const char *s, const char *const *words, int n, const char *what, int *out)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, words[i])) {
			*out = i;
			return 0;
		}
	fprintf(stderr, "pinhole: unknown %s '%s'; valid:", what, s);
	for (int i = 0; i < n; i++)
		fprintf(stderr, " %s", words[i]);
	fprintf(stderr, "\n");
	return -1;
}

enum {
	OPT_PASSIVE = 256, OPT_FAIL_OPEN, OPT_QUEUE, OPT_LOG_GROUP, OPT_MAXLEN, OPT_STEER, OPT_NO_STEER, OPT_DENY,
	OPT_TTL_MIN, OPT_TTL_MAX, OPT_REFRESH, OPT_LOG_LEVEL, OPT_STATS_FILE, OPT_STATE_FILE, OPT_STATS,
	OPT_FORMAT, OPT_UNINSTALL, OPT_RESOLVER,
};

static const struct option guard_options[] = {
	{ "rules", required_argument, NULL, 'r' },
	{ "define", required_argument, NULL, 'D' },
	{ "passive", no_argument, NULL, OPT_PASSIVE },
	{ "fail-open", no_argument, NULL, OPT_FAIL_OPEN },
	{ "queue", required_argument, NULL, OPT_QUEUE },
	{ "log-group", required_argument, NULL, OPT_LOG_GROUP },
	{ "queue-maxlen", required_argument, NULL, OPT_MAXLEN },
	{ "steer", required_argument, NULL, OPT_STEER },
	{ "no-steer", no_argument, NULL, OPT_NO_STEER },
	{ "deny", required_argument, NULL, OPT_DENY },
	{ "ttl-min", required_argument, NULL, OPT_TTL_MIN },
	{ "ttl-max", required_argument, NULL, OPT_TTL_MAX },
	{ "refresh", required_argument, NULL, OPT_REFRESH },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "stats-file", required_argument, NULL, OPT_STATS_FILE },
	{ "state-file", required_argument, NULL, OPT_STATE_FILE },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "uninstall", no_argument, NULL, OPT_UNINSTALL },
	{ "resolver", required_argument, NULL, OPT_RESOLVER },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* Applies one option to c. Returns 0, or -1 after saying what is wrong. */
static int guard_option(struct guard_cli *c, int opt, char *arg)
{
	static const char *const steer[] = { "auto", "nft", "xt" };
	static const char *const deny[] = { "reset", "drop" };
	static const char *const refresh[] = { "auto", "update", "replace", "delete" };
	struct guard_run_opts *o = &c->run;
	unsigned long v = 0;
	int w = 0;
	const char *why = NULL;
	switch (opt) {
	case 'r': c->rules = arg; return 0;
	case 'D': return cli_add_define(&c->defs, arg);
	case OPT_PASSIVE: o->passive = true; return 0;
	case OPT_FAIL_OPEN: o->fail_open = true; return 0;
	case OPT_QUEUE: if (parse_uint(arg, 65534, &v) < 0) return -1; o->dns_queue = (uint16_t)v; o->tls_queue = (uint16_t)(v + 1); return 0;
	case OPT_LOG_GROUP: if (parse_uint(arg, 65535, &v) < 0) return -1; o->log_group = (uint16_t)v; return 0;
	case OPT_MAXLEN: if (parse_uint(arg, 1u << 20, &v) < 0) return -1; o->queue_maxlen = (uint32_t)v; return 0;
	case OPT_STEER: if (parse_word(arg, steer, 3, "steering", &w) < 0) return -1; o->queue = (enum steer_queue)w; return 0;
	case OPT_NO_STEER: o->steer = false; return 0;
	case OPT_DENY: if (parse_word(arg, deny, 2, "deny action", &w) < 0) return -1; o->deny_reset = w == 0; return 0;
	case OPT_TTL_MIN: if (parse_uint(arg, 4000000, &v) < 0) return -1; o->cfg.ttl_min = (uint32_t)v; return 0;
	case OPT_TTL_MAX: if (parse_uint(arg, 4000000, &v) < 0) return -1; o->cfg.ttl_max = (uint32_t)v; return 0;
	case OPT_REFRESH: if (parse_word(arg, refresh, 4, "refresh", &w) < 0) return -1; o->refresh = (enum gset_refresh)w; return 0;
	case OPT_LOG_LEVEL:
		if (glog_level_parse(arg, &c->level) == 0)
			return 0;
		fprintf(stderr, "pinhole: unknown log level '%s'; valid: err warning notice info debug\n", arg);
		return -1;
	case OPT_STATS_FILE: c->stats_path = arg; return 0;
	case OPT_STATE_FILE: c->state_path = arg; return 0;
	case OPT_STATS: c->stats = true; return 0;
	case OPT_FORMAT: if (parse_word(arg, (const char *const[]){ "text", "json" }, 2, "format", &w) < 0) return -1; c->format = arg; return 0;
	case OPT_UNINSTALL: c->uninstall = true; return 0;
	case OPT_RESOLVER:
		if (guard_resolvers_add(&(struct guard_resolvers){ 0 }, arg, &why) < 0) {
			fprintf(stderr, "pinhole: --resolver %s: %s\n", arg, why);
			return -1;
		}
		if (o->n_resolvers < sizeof(c->resolvers) / sizeof(*c->resolvers)) {
			c->resolvers[o->n_resolvers++] = arg;
			return 0;
		}
		fprintf(stderr, "pinhole: more than 16 --resolver\n");
		return -1;
	default: return -1;
	}
}

/* The stats file: --stats-file, else $RUNTIME_DIRECTORY (systemd's RuntimeDirectory=),
 * else /run/pinhole. The state file goes next to it unless named. */
static void default_paths(struct guard_cli *c)
{
	const char *dir = getenv("RUNTIME_DIRECTORY");
	if (!c->stats_path) {
		/* RUNTIME_DIRECTORY may list several directories, separated by ':'. */
		size_t len = dir && *dir ? strcspn(dir, ":") : 0;
		snprintf(c->stats_buf, sizeof(c->stats_buf), "%.*s/guard.stats", (int)(len ? len : 12),
			 len ? dir : "/run/pinhole");
		c->stats_path = c->stats_buf;
	}
	if (!c->state_path) {
		const char *slash = strrchr(c->stats_path, '/');
		int dlen = slash ? (int)(slash - c->stats_path) : 1;
		snprintf(c->state_buf, sizeof(c->state_buf), "%.*s/guard.state", dlen, slash ? c->stats_path : ".");
		c->state_path = c->state_buf;
	}
	/* next to the stats: where pinhole apply looks ($PINHOLE_RUN_DIR, /run/pinhole) */
	const char *slash = strrchr(c->stats_path, '/');
	snprintf(c->gens_buf, sizeof(c->gens_buf), "%.*s/guard.generations", slash ? (int)(slash - c->stats_path) : 1,
		 slash ? c->stats_path : ".");
}

static void guard_cli_init(struct guard_cli *c, struct glog *log)
{
	memset(c, 0, sizeof(*c));
	c->level = GLOG_INFO;
	c->format = "text";
	c->run = (struct guard_run_opts){
		.load = load_rules, .load_arg = c, .steer = true, .deny_reset = true,
		.dns_queue = GUARD_DEFAULT_QUEUE, .tls_queue = GUARD_DEFAULT_QUEUE + 1,
		.log_group = GUARD_DEFAULT_QUEUE, .queue_maxlen = 16384, .log = log,
		.resolvers = c->resolvers, .resolv_conf = "/etc/resolv.conf",
	};
	guard_config_defaults(&c->run.cfg);
}

static void print_section(json_t *obj)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		if (json_is_string(v))
			printf("  %-22s %s\n", key, json_string_value(v));
		else if (json_is_integer(v))
			printf("  %-22s %lld\n", key, (long long)json_integer_value(v));
		else if (json_is_boolean(v))
			printf("  %-22s %s\n", key, json_is_true(v) ? "yes" : "no");
	}
}

static int print_stats(const struct guard_cli *c)
{
	json_error_t jerr;
	json_t *root = json_load_file(c->stats_path, 0, &jerr);
	if (!root) {
		fprintf(stderr, "pinhole: cannot read %s: %s (is the guard running? see --stats-file)\n", c->stats_path,
			jerr.text);
		return 1;
	}
	if (!strcmp(c->format, "json")) {
		json_dumpf(root, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
	} else {
		json_t *g = json_object_get(root, "guard");
		long long updated = (long long)json_integer_value(json_object_get(g, "updated"));
		long long age = (long long)time(NULL) - updated;
		printf("guard:%s\n", age > 5 ? "  (not updated for a while: the guard may not be running)" : "");
		print_section(g);
		printf("counters:\n");
		print_section(json_object_get(root, "counters"));
	}
	json_decref(root);
	return 0;
}

static int uninstall(struct guard_cli *c)
{
	int ret = 1;
	struct policy *p = load_rules(c);
	struct gnl *nl = p ? gnl_open() : NULL;
	struct gnl_error err;
	if (p && !nl)
		fprintf(stderr, "pinhole: cannot open nf_tables netlink: %s\n", strerror(errno));
	if (!nl)
		goto out;
	if (steer_remove(nl, p->table, &err) < 0) {
		fprintf(stderr, "pinhole: cannot remove the guard chains from table inet %s: %s\n", p->table,
			strerror(err.err));
		goto out;
	}
	printf("guard chains removed from table inet %s\n", p->table);
	ret = 0;
out:
	gnl_close(nl);
	policy_free(p);
	return ret;
}

/* The directory of path (made 0700 when missing: /run/pinhole outside systemd) must pass
 * safefile's checks before the guard writes learnt names into it. */
static int check_dir_of(const char *path)
{
	char dir[PATH_MAX], why[SAFEFILE_WHY];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash)
		slash == dir ? (void)(dir[1] = '\0') : (void)(*slash = '\0');
	int fd = safefile_dir_open(slash ? dir : ".", true, why);
	if (fd < 0) {
		fprintf(stderr, "pinhole guard: %s\n", why);
		return -1;
	}
	close(fd);
	return 0;
}

static int run_guard(struct guard_cli *c, struct glog *log)
{
	if (check_dir_of(c->stats_path) < 0 || check_dir_of(c->state_path) < 0)
		return 1;
	glog_init(log, STDERR_FILENO, c->level);
	c->run.rules = c->rules;
	c->run.stats_path = c->stats_path;
	c->run.state_path = c->state_path;
	c->run.generations_path = c->gens_buf;
	return guard_run(&c->run) == 0 ? 0 : 1;
}

int cmd_guard(int argc, char **argv)
{
	int ret = 1, opt;
	struct glog *log = malloc(sizeof(*log));
	struct guard_cli *c = malloc(sizeof(*c));
	if (!log || !c)
		goto out;
	guard_cli_init(c, log);
	glog_init(log, STDERR_FILENO, GLOG_INFO);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "r:D:h", guard_options, NULL)) != -1) {
		if (opt == 'h') {
			guard_usage(stdout);
			ret = 0;
			goto out;
		}
		if (guard_option(c, opt, optarg) < 0) {
			if (opt == '?')
				guard_usage(stderr);
			goto out;
		}
	}
	default_paths(c);
	if (optind != argc || (!c->stats && !c->rules)) {
		fprintf(stderr, "pinhole: guard needs --rules RULES (or --stats)\n");
		goto out;
	}
	if (c->run.cfg.ttl_min > c->run.cfg.ttl_max) {
		fprintf(stderr, "pinhole: --ttl-min is above --ttl-max\n");
		goto out;
	}
	ret = c->stats ? print_stats(c) : c->uninstall ? uninstall(c) : run_guard(c, log);
out:
	free(c);
	free(log);
	return ret;
}
