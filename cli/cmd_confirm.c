/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_confirm.c — commit confirmed on the command line: the waiter that `pinhole apply
 * --confirm` forks and detaches (its work is apply_wait), and `pinhole confirm [--cancel]`
 * (apply_confirm). */
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd.h"
#include "cmd_apply.h"

/* ---- apply --confirm: the waiter ---- */

/* The waiter lets go of everything apply's caller might wait on: the terminal, an ssh
 * session's pipes (ssh waits for every holder of them to close), the netlink socket. It
 * keeps its run directory (3) and its locked pending file (4); its output goes to the log. */
static void detach(const struct apply_options *o, struct apply_claim *c)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int log = apply_waiter_log(o, c);
	setsid();
	dup2(null >= 0 ? null : STDIN_FILENO, STDIN_FILENO);
	dup2(log >= 0 ? log : null, STDOUT_FILENO);
	dup2(log >= 0 ? log : null, STDERR_FILENO);
	/* the plan (stdout) and the messages (stderr) in the order they happen; stdout was
	 * flushed before the fork */
	setvbuf(stdout, NULL, _IOLBF, BUFSIZ);
	/* fds 0-2 are taken, so dup's results are above them; move them to 3 and 4 */
	int dirfd = fcntl(c->dirfd, F_DUPFD_CLOEXEC, 10), fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 10);
	c->dirfd = dup3(dirfd, 3, O_CLOEXEC);
	c->fd = dup3(fd, 4, O_CLOEXEC);
	close_range(5, ~0u, 0);
}

/* The forked child: detached, it waits for the deadline and rolls back unless confirmed,
 * writing what happens to its log as it happens. */
static void waiter(const struct apply_options *parent, struct apply_claim *c)
{
	struct report rep = { .cmd = "confirm" };
	struct apply_options o = *parent;
	struct apply_result r = { 0 };
	o.session = NULL;	/* the parent's socket is closed below: a rollback opens its own */
	o.report = report_event;
	o.report_ctx = &rep;
	detach(&o, c);
	apply_wait(&o, c, &r);
	fflush(NULL);
	_exit(0);
}

void confirm_start_waiter(const struct apply_options *o, struct apply_result *r)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		waiter(o, &r->waiter);
	apply_waiter_started(o, r, pid);
}

/* ---- pinhole confirm ---- */

static void confirm_usage(FILE *out)
{
	fprintf(out, "Usage: pinhole confirm [--cancel] [-t TABLE]\n"
		     "\n"
		     "Keeps the rules that 'pinhole apply --confirm SECONDS' applied, for TABLE or every\n"
		     "table with a pending confirmation, and stops their rollback timer; with --cancel,\n"
		     "restores the previous rules now instead of at the deadline.\n"
		     "Exit status: 0 done, 1 nothing was pending (or it was too late).\n"
		     "\n"
		     "  -t, --table TABLE      only this table (family inet)\n"
		     "      --cancel           roll back now\n"
		     "  -h, --help             show this help\n");
}

int cmd_confirm(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "table", required_argument, NULL, 't' }, { "cancel", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },	   { 0 },
	};
	struct report rep = { .cmd = "confirm" };
	struct apply_options o;
	struct apply_result r = { 0 };
	int ret = 1, c;
	cli_apply_options(&o);
	o.report = report_event;
	o.report_ctx = &rep;
	optind = 0;
	while ((c = getopt_long(argc, argv, "t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 't': o.table = optarg; break;
		case 'c': o.cancel = true; break;
		case 'h': confirm_usage(stdout); ret = 0; goto out;
		default: confirm_usage(stderr); goto out;
		}
	}
	if (optind != argc) {
		confirm_usage(stderr);
		goto out;
	}
	ret = apply_confirm(&o, &r) < 0 ? 1 : 0;
out:
	apply_result_free(&r);
	return ret;
}
