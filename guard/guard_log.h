/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_log.h — the daemon's one way to say something: one line per event, with a syslog
 * level. Under systemd (JOURNAL_STREAM set) lines start with "<N>", which journald turns
 * into the entry's priority; elsewhere with "pinhole guard: LEVEL: ".
 *
 * Lines are collected in a buffer and written with one write(2) per round of packets
 * (glog_flush), or at once for warnings and errors: a busy gateway logging every decision
 * costs a few syscalls a round, not one per line. */
#ifndef PINHOLE_GUARD_LOG_H
#define PINHOLE_GUARD_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* syslog(3) numbers. */
enum glog_level { GLOG_ERR = 3, GLOG_WARNING = 4, GLOG_NOTICE = 5, GLOG_INFO = 6, GLOG_DEBUG = 7 };

#define GLOG_BUF 65536

struct glog {
	int fd;
	enum glog_level level;	/* lines above it are not written */
	bool journal;
	char buf[GLOG_BUF];
	size_t len;
	unsigned long lost;	/* lines the fd did not take */
};

/* Sets log up to write to fd at level; journal-style prefixes when JOURNAL_STREAM is set. */
void glog_init(struct glog *log, int fd, enum glog_level level);
/* "err", "warning", "notice", "info", "debug" into *out; -1 when unknown. */
int glog_level_parse(const char *name, enum glog_level *out);

static inline bool glog_on(const struct glog *log, enum glog_level l)
{
	return l <= log->level;
}

/* One line (the newline is added). Lines at GLOG_WARNING and above are written at once. */
void glog(struct glog *log, enum glog_level l, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Writes what the buffer holds. */
void glog_flush(struct glog *log);

#endif
