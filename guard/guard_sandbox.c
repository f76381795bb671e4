/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_sandbox.c — capabilities, no-new-privileges and the seccomp allowlist of the guard. */
#include "guard_sandbox.h"

#include <errno.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* What the guard calls once it runs, found with `strace -f` over tests/integration/guard_*.sh
 * (packets, verdicts, set updates, the timer and signal descriptors, the stats and state
 * files, SIGHUP reloading the rules through the compiler, libpsl and PCRE2) and libc's
 * variants of the same calls on other architectures. Names this architecture does not have
 * are skipped. Not here: socket, connect, execve, ptrace, clone, mount, kill, prctl,
 * capset, keyring, bpf: none is needed after start. */
static const char *const allowed[] = {
	/* the sockets opened before the sandbox: packets, verdicts, set updates */
	"recvmsg", "recvfrom", "sendmsg", "sendto", "getsockopt", "setsockopt", "getsockname",
	/* the loop: poll, the timerfd and signalfd, the log */
	"poll", "ppoll", "read", "readv", "write", "writev", "timerfd_settime", "timerfd_gettime",
	"rt_sigprocmask", "rt_sigreturn", "clock_gettime", "clock_nanosleep", "gettimeofday", "nanosleep",
	"getpid", "gettid", "getrandom", "getuid", "geteuid", "getgid", "getegid",
	/* files: the rules on SIGHUP, /proc/net/netfilter, the stats and state files, the record
	 * of its own generations (pwrite64, nft_netlink_gens.c) */
	"openat", "open", "close", "lseek", "pread64", "pwrite64", "fstat", "newfstatat", "stat", "lstat", "statx",
	"fcntl", "rename", "renameat", "renameat2", "unlink", "unlinkat", "fchmod", "fsync", "fdatasync",
	"getdents64", "readlink", "readlinkat", "access", "faccessat", "faccessat2", "umask", "mkdir",
	"mkdirat", "flock",
	/* memory: malloc, the PCRE2 JIT (executable pages) */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "futex",
	"exit", "exit_group",
};

/* Sanitizer builds (the test suite's build-asan): LeakSanitizer checks at exit from a
 * thread it clones and that ptraces the process, and the reports need a few more. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define SANDBOX_SANITIZERS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SANDBOX_SANITIZERS 1
#endif
#endif
#ifdef SANDBOX_SANITIZERS
static const char *const allowed_sanitizers[] = {
	"clone", "clone3", "ptrace", "wait4", "waitid", "prctl", "sched_yield", "sigaltstack",
	"rt_sigaction", "tgkill", "getppid", "sched_getaffinity", "prlimit64", "getrlimit", "setrlimit",
	"process_vm_readv", "msync", "mincore", "kill", "getdents",
};
#endif

static int allow_names(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;
		int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (rc < 0) {
			errno = -rc;
			return -1;
		}
	}
	return 0;
}

static int install_filter(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx) {
		errno = ENOMEM;
		return -1;
	}
	/* A binary search over the call numbers, not a list: every call of the packet path
	 * passes the filter. Older libseccomp without it still filters, in a list. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	int rc = allow_names(ctx, allowed, sizeof(allowed) / sizeof(*allowed));
#ifdef SANDBOX_SANITIZERS
	if (rc == 0)
		rc = allow_names(ctx, allowed_sanitizers, sizeof(allowed_sanitizers) / sizeof(*allowed_sanitizers));
#endif
	/* stdio asks whether the log is a terminal (TCGETS); no other ioctl. */
	struct scmp_arg_cmp tcgets = { .arg = 1, .op = SCMP_CMP_EQ, .datum_a = TCGETS, .datum_b = 0 };
	if (rc == 0 && (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, tcgets)) < 0)
		errno = -rc;
	if (rc == 0 && (rc = seccomp_load(ctx)) < 0)
		errno = -rc;
	seccomp_release(ctx);
	return rc < 0 ? -1 : 0;
}

/* Narrows the bounding set to CAP_NET_ADMIN, which needs CAP_SETPCAP. Returns 0, 1 when
 * something else stays in it for lack of CAP_SETPCAP, or -1. */
static int narrow_bounding(void)
{
	int kept = 0;
	for (int cap = 0; cap < 64; cap++) {
		int has = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (has < 0)
			break;	/* EINVAL: past the last capability this kernel knows */
		if (!has || cap == CAP_NET_ADMIN)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		if (errno != EPERM)
			return -1;
		kept = 1;
	}
	return kept;
}

/* Effective and permitted: CAP_NET_ADMIN if the process has it, else nothing; inheritable
 * and ambient: nothing. The raw system calls: libcap is not worth a dependency for this. */
static int keep_net_admin(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { { 0 } };
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -1;
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -1;
	uint32_t keep = data[0].permitted & (1u << CAP_NET_ADMIN);
	for (size_t i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		data[i] = (struct __user_cap_data_struct){ 0 };
	data[0].effective = data[0].permitted = keep;
	return (int)syscall(SYS_capset, &hdr, data);
}

int guard_sandbox_enter(struct guard_sandbox *s, const char **why)
{
	int kept = narrow_bounding();
	s->bounding_kept = kept == 1;
	if (kept < 0) {
		*why = "cannot narrow the capability bounding set";
		return -1;
	}
	if (keep_net_admin() < 0) {
		*why = "cannot drop capabilities";
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		*why = "cannot set no-new-privileges";
		return -1;
	}
	if (install_filter() < 0) {
		*why = "cannot install the seccomp filter";
		return -1;
	}
	return 0;
}
