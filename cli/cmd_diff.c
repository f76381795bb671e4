/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_diff.c — pinhole diff OLD NEW: what changes, semantically, between two rules files
 * (or a file as it was at a git revision). Exit status as diff(1): 0 same, 1 changed,
 * 2 trouble. `diff --live` (the kernel as OLD) lives in cmd_diff_live.c. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "common.h"
#include "diff.h"
#include "diff_format.h"

#define GIT_PREFIX "git:"

/* Until the netlink side of `pinhole diff --live` is linked in, say so. */
__attribute__((weak)) int cmd_diff_live(int argc, char **argv)
{
	fprintf(stderr, "pinhole diff --live: not available in this build\n");
	return 2;
}

static void diff_usage(FILE *out)
{
	fprintf(out, "Usage: pinhole diff [--format text|markdown|json] [--max-size N] [--exit-zero] [-D NAME=VALUE]...\n"
		     "                    OLD NEW\n"
		     "       pinhole diff --live [OPTIONS] RULES\n"
		     "\n"
		     "Shows what changes, semantically, when the policy OLD is replaced by NEW: addresses\n"
		     "(as prefixes of the change itself), names, regexes, rules, renamed sets, and whether\n"
		     "the change lets more traffic through (WIDENING). Reordering, reformatting and\n"
		     "comments make no difference. OLD and NEW are rules files, or git:REV:PATH for PATH as\n"
		     "it was at git revision REV (read with 'git show REV:PATH' in this directory).\n"
		     "\n"
		     "  -f, --format FORMAT    text (default; colour on a terminal unless NO_COLOR is set),\n"
		     "                         markdown (for a change request), json (schema in pinhole(8))\n"
		     "      --max-size N       markdown: at most N characters (default %d, what a GitHub or\n"
		     "                         GitLab comment takes), shortened with a note; 0: no limit\n"
		     "      --exit-zero        exit 0 when there are changes too (errors still exit 2)\n"
		     "  -D, --define NAME=VALUE  override 'define NAME' in both files\n"
		     "      --live             compare the kernel's ruleset with RULES (see pinhole(8))\n"
		     "  -h, --help             show this help\n"
		     "\n"
		     "Exit status: 0 no changes, 1 changes, 2 error.\n",
		DIFF_MARKDOWN_MAX_DEFAULT);
}

/* Collects all of fd into a malloc'd NUL-terminated buffer. Returns 0 or -1 (errno). */
static int read_all(int fd, char **text, size_t *len)
{
	size_t cap = 8192, n = 0;
	char *buf = malloc(cap);
	ssize_t got;
	while (buf && (got = read(fd, buf + n, cap - n - 1)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			break;
		n += (size_t)got;
		char *bigger = n + 1 == cap ? realloc(buf, cap *= 2) : buf;
		if (!bigger)
			break;
		buf = bigger;
	}
	if (!buf || got != 0) {
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

/* The child: stdout and stderr into the pipes, then git. No shell: REV and PATH are
 * arguments, whatever characters they hold. */
static void git_child(int out_fd, int err_fd, const char *object)
{
	if (dup2(out_fd, STDOUT_FILENO) < 0 || dup2(err_fd, STDERR_FILENO) < 0)
		_exit(127);
	execlp("git", "git", "--no-pager", "show", object, (char *)NULL);
	/* Only async-signal-safe calls here: the parent may have another thread. */
	static const char msg[] = "cannot run git (is it installed?)\n";
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(127);
	_exit(127);
}

/* The first line of what git said, for the error message. */
static void first_line(char *text)
{
	char *nl = strchr(text, '\n');
	if (nl)
		*nl = '\0';
}

static void close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* Starts `git show OBJECT` with its stdout and stderr on two new pipes; *out_fd and *err_fd
 * get the read ends. Returns the child's pid, or -1 with errno set. */
static pid_t spawn_git(const char *object, int *out_fd, int *err_fd)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 };
	pid_t pid = -1;
	/* Close-on-exec: when both sides come from git, the other thread's git must not hold
	 * these pipes open (dup2 clears the flag on the child's own stdout and stderr). */
	if (pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0 && (pid = fork()) == 0)
		git_child(out[1], err[1], object);
	int saved = errno;
	/* The parent keeps the read ends only, and nothing when git did not start. */
	close_fd(out[1]);
	close_fd(err[1]);
	if (pid < 0) {
		close_fd(out[0]);
		close_fd(err[0]);
	}
	*out_fd = pid < 0 ? -1 : out[0];
	*err_fd = pid < 0 ? -1 : err[0];
	errno = saved;
	return pid;
}

/* Runs `git show OBJECT` and returns its output in *text. On failure reports why to d
 * and returns -1. */
static int git_show(const char *object, const char *label, struct diags *d, char **text, size_t *len)
{
	int out_fd, err_fd, status = 0;
	char *message = NULL;
	size_t mlen;
	*text = NULL;
	pid_t pid = spawn_git(object, &out_fd, &err_fd);
	if (pid < 0) {
		diag_error(d, (struct loc){ label, 0, 0 }, "cannot run git: %s", strerror(errno));
		return -1;
	}
	/* git's error output is a line or two, far below a pipe's capacity: read stdout first. */
	int read_failed = read_all(out_fd, text, len);
	if (read_all(err_fd, &message, &mlen) < 0)
		message = NULL;
	close(out_fd);
	close(err_fd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	bool ok = !read_failed && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (!ok) {
		if (message)
			first_line(message);
		diag_error(d, (struct loc){ label, 0, 0 }, "cannot read: 'git show %s' failed%s%s", object,
			   message && *message ? ": " : "", message ? message : "");
		free(*text);
		*text = NULL;
	}
	free(message);
	return ok ? 0 : -1;
}

/* Compiles git:REV:PATH: the file label in diagnostics and diffs is the whole spec. */
static struct policy *compile_git(const char *spec, const struct defines *defs, struct diags *d)
{
	const char *object = spec + strlen(GIT_PREFIX);
	if (!strchr(object, ':')) {
		diag_error(d, (struct loc){ spec, 0, 0 }, "a git source is git:REV:PATH, e.g. git:HEAD:rules/marketo.rules");
		return NULL;
	}
	char *text;
	size_t len;
	if (git_show(object, spec, d, &text, &len) < 0)
		return NULL;
	struct compile_request req = { .file = spec, .text = text, .len = len, .defines = defs->v, .n_defines = defs->n };
	struct policy *p = policy_compile(&req, d);
	free(text);
	return p;
}

static struct policy *load_policy(const char *spec, const struct defines *defs, struct diags *d)
{
	if (!strncmp(spec, GIT_PREFIX, strlen(GIT_PREFIX)))
		return compile_git(spec, defs, d);
	return cli_compile(spec, defs, d);
}

struct load_job {
	const char *spec;
	const struct defines *defs;
	struct diags *d;		/* one per side: the threads share nothing */
	struct policy *p;
};

static void *load_job_run(void *arg)
{
	struct load_job *job = arg;
	job->p = load_policy(job->spec, job->defs, job->d);
	return NULL;
}

/* Compiles both sides at once on two threads: they share no state, and diffing two big
 * policies is mostly compiling them (bench/diff.sh). Without a second thread, in turn. */
static void load_both(struct load_job *old, struct load_job *new)
{
	pthread_t thread;
	bool threaded = pthread_create(&thread, NULL, load_job_run, old) == 0;
	if (!threaded)
		load_job_run(old);
	load_job_run(new);
	if (threaded)
		pthread_join(thread, NULL);
}

static bool wants_live(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--live"))
			return true;
	return false;
}

static bool stdout_color(enum diff_format format)
{
	const char *no_color = getenv("NO_COLOR");
	return format == DIFF_TEXT && isatty(STDOUT_FILENO) && !(no_color && *no_color);
}

struct diff_args {
	enum diff_format format;
	size_t markdown_max;
	bool exit_zero;
	struct defines defs;
};

/* Returns 0 to go on, 1 after --help, -1 on a usage error (already reported). */
static int parse_args(int argc, char **argv, struct diff_args *a)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' }, { "exit-zero", no_argument, NULL, 'z' },
		{ "define", required_argument, NULL, 'D' }, { "help", no_argument, NULL, 'h' },
		{ "max-size", required_argument, NULL, 'M' }, { 0 },
	};
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "f:D:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (diff_format_parse(optarg, &a->format) == 0)
				break;
			fprintf(stderr, "pinhole diff: unknown format '%s'; valid formats: text markdown json\n", optarg);
			return -1;
		case 'z': a->exit_zero = true; break;
		case 'D': if (cli_add_define(&a->defs, optarg) < 0) return -1; break;
		case 'M': if (cli_parse_max_size("diff", optarg, &a->markdown_max) < 0) return -1; break;
		case 'h': diff_usage(stdout); return 1;
		default: diff_usage(stderr); return -1;
		}
	}
	if (optind != argc - 2) {
		diff_usage(stderr);
		return -1;
	}
	return 0;
}

int cmd_diff(int argc, char **argv)
{
	if (wants_live(argc, argv))
		return cmd_diff_live(argc, argv);
	int ret = 2;
	struct diff_args a = { .format = DIFF_TEXT, .markdown_max = DIFF_MARKDOWN_MAX_DEFAULT };
	struct load_job old = { 0 }, new = { 0 };
	struct policy_diff *diff = NULL;
	old.d = diags_new();
	new.d = diags_new();
	int parsed = old.d && new.d ? parse_args(argc, argv, &a) : -1;
	if (parsed != 0) {
		ret = parsed > 0 ? 0 : 2;
		goto out;
	}
	if (!strcmp(argv[optind], "-") && !strcmp(argv[optind + 1], "-")) {
		fprintf(stderr, "pinhole diff: only one side can be standard input\n");
		goto out;
	}
	old.spec = argv[optind];
	new.spec = argv[optind + 1];
	old.defs = new.defs = &a.defs;
	/* Both sides are compiled before either is judged, so one run shows every error. */
	load_both(&old, &new);
	if (!old.p || !new.p)
		goto out;
	diff = policy_diff_compute(old.p, new.p);
	if (!diff || policy_diff_label(diff, old.spec, new.spec) < 0) {
		fprintf(stderr, "pinhole diff: out of memory\n");
		goto out;
	}
	struct diff_style style = { stdout_color(a.format), a.markdown_max };
	if (diff_render(diff, a.format, &style, stdout) < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "pinhole diff: cannot write the diff: %s\n", strerror(errno));
		goto out;
	}
	ret = policy_diff_empty(diff) || a.exit_zero ? 0 : 1;
out:
	if (old.d)
		cli_render(old.d);
	if (new.d)
		cli_render(new.d);
	policy_diff_free(diff);
	policy_free(old.p);
	policy_free(new.p);
	diags_free(old.d);
	diags_free(new.d);
	return ret;
}
