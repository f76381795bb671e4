/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guard's sandbox (matcher/guard_sandbox.c): in a child process, since it cannot be
 * undone. What the guard does at run time still works; a call outside the allowlist kills
 * the process with SIGSYS; capabilities, no-new-privileges and the filter show in
 * /proc/self/status. tests/integration/guard_sandbox.sh checks the running guard. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard_sandbox.h"

/* Runs fn in a sandboxed child; returns its wait status. */
static int in_sandbox(int (*fn)(void))
{
	fflush(NULL);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct guard_sandbox s;
		const char *why = NULL;
		if (guard_sandbox_enter(&s, &why) < 0)
			_exit(100);
		_exit(fn());	/* _exit: no atexit handlers, which may do more than the guard does */
	}
	int status = 0;
	cr_assert(waitpid(pid, &status, 0) == pid);
	return status;
}

/* What the guard does between packets: files, memory, time, its log. */
static int guard_like_work(void)
{
	char path[] = "/tmp/pinhole-sandbox-XXXXXX";
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	char buf[256];
	if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0 || close(fd) < 0)
		return 1;
	void *big = malloc(64u << 20);	/* mmap, munmap */
	if (!big)
		return 2;
	memset(big, 1, 4096);
	free(big);
	fd = mkstemp(path);
	if (fd < 0 || write(fd, "x\n", 2) != 2 || close(fd) < 0)
		return 3;
	char renamed[sizeof(path) + 4];
	snprintf(renamed, sizeof(renamed), "%s.new", path);
	if (rename(path, renamed) < 0 || unlink(renamed) < 0)
		return 4;
	return getpid() > 0 ? 0 : 5;
}

static int open_a_socket(void)
{
	socket(AF_INET, SOCK_DGRAM, 0);
	return 0;	/* not reached */
}

static int exec_a_shell(void)
{
	execl("/bin/sh", "sh", "-c", "true", (char *)NULL);
	return 0;
}

static int fork_a_child(void)
{
	fork();
	return 0;
}

/* Exits 0 when /proc/self/status shows what the sandbox promises. */
static int check_status(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	int seen = 0;
	while (f && fgets(line, sizeof(line), f)) {
		seen += !strcmp(line, "NoNewPrivs:\t1\n");
		seen += !strcmp(line, "Seccomp:\t2\n");
		seen += !strcmp(line, "CapInh:\t0000000000000000\n");
		seen += !strcmp(line, "CapAmb:\t0000000000000000\n");
		/* CAP_NET_ADMIN (bit 12) when the test runs as root, nothing otherwise. */
		seen += !strcmp(line, geteuid() ? "CapEff:\t0000000000000000\n" : "CapEff:\t0000000000001000\n");
		seen += geteuid() == 0 && !strcmp(line, "CapBnd:\t0000000000001000\n");
	}
	return seen == (geteuid() ? 5 : 6) ? 0 : 1;
}

Test(guard_sandbox, what_the_guard_does_still_works)
{
	int status = in_sandbox(guard_like_work);
	cr_assert(WIFEXITED(status), "killed by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	cr_assert_eq(WEXITSTATUS(status), 0);
}

Test(guard_sandbox, status_shows_net_admin_only_no_new_privs_and_a_filter)
{
	int status = in_sandbox(check_status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
}

Test(guard_sandbox, a_call_outside_the_allowlist_kills_the_process)
{
	/* Sanitizer builds let LeakSanitizer clone (guard_sandbox.c): fork is not an attack there. */
#if defined(__SANITIZE_ADDRESS__)
	int (*const attacks[])(void) = { open_a_socket, exec_a_shell };
	(void)fork_a_child;
#else
	int (*const attacks[])(void) = { open_a_socket, exec_a_shell, fork_a_child };
#endif
	for (size_t i = 0; i < sizeof(attacks) / sizeof(*attacks); i++) {
		int status = in_sandbox(attacks[i]);
		cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS, "attack %zu: status %d", i, status);
	}
}
