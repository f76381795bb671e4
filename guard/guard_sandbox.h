/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_sandbox.h — what the guard gives up once its sockets are open: every capability but
 * CAP_NET_ADMIN (which nfnetlink checks on every queue verdict and nf_tables set update, so
 * it cannot go), the bounding and ambient sets, the right to gain privileges through exec
 * (PR_SET_NO_NEW_PRIVS), and every system call outside a short allowlist (seccomp).
 *
 * The same whether the guard was started by systemd (whose unit narrows it already) or by
 * hand as root. A system call outside the list kills the process (SCMP_ACT_KILL_PROCESS):
 * the queues then fail closed (or open, with --fail-open), the kernel logs the call, and a
 * parser bug turned into code execution gets one wrong call, not a way to probe. */
#ifndef PINHOLE_GUARD_SANDBOX_H
#define PINHOLE_GUARD_SANDBOX_H

#include <stdbool.h>

struct guard_sandbox {
	bool bounding_kept;	/* the bounding set had more than CAP_NET_ADMIN and no CAP_SETPCAP to
				 * narrow it: harmless under no-new-privs and without execve, but said */
};

/* Drops the privileges and installs the filter, in that order, for the calling process
 * (which must be single-threaded: seccomp and capabilities are per thread here). Returns 0
 * with *s filled, or -1 with *why naming the step that failed and errno set; after a
 * failure the process may hold fewer privileges than before and should stop. */
int guard_sandbox_enter(struct guard_sandbox *s, const char **why);

#endif
