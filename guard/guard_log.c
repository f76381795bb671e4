/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_log.c — buffered, levelled lines for the guard daemon. */
#include "guard_log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const level_names[] = { [GLOG_ERR] = "err", [GLOG_WARNING] = "warning",
					   [GLOG_NOTICE] = "notice", [GLOG_INFO] = "info",
					   [GLOG_DEBUG] = "debug" };

void glog_init(struct glog *log, int fd, enum glog_level level)
{
	log->fd = fd;
	log->level = level;
	log->journal = getenv("JOURNAL_STREAM") != NULL;
	log->len = 0;
	log->lost = 0;
}

int glog_level_parse(const char *name, enum glog_level *out)
{
	for (int l = GLOG_ERR; l <= GLOG_DEBUG; l++)
		if (!strcmp(name, level_names[l])) {
			*out = (enum glog_level)l;
			return 0;
		}
	return -1;
}

void glog_flush(struct glog *log)
{
	size_t off = 0;
	while (off < log->len) {
		ssize_t n = write(log->fd, log->buf + off, log->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log->lost++;
			break;
		}
		off += (size_t)n;
	}
	log->len = 0;
}

void glog(struct glog *log, enum glog_level l, const char *fmt, ...)
{
	/* A line is at most 1 KiB; longer ones are cut. */
	if (!glog_on(log, l))
		return;
	if (GLOG_BUF - log->len < 1024)
		glog_flush(log);
	char *p = log->buf + log->len;
	int n = log->journal ? snprintf(p, 1024, "<%d>", l) : snprintf(p, 1024, "pinhole guard: %s: ", level_names[l]);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(p + n, (size_t)(1023 - n), fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m < (size_t)(1023 - n) ? (size_t)m : (size_t)(1022 - n));
	p[len++] = '\n';
	log->len += len;
	if (l <= GLOG_WARNING)
		glog_flush(log);
}
