/* SPDX-License-Identifier: GPL-2.0-or-later */
/* source.h — reading input files whole. */
#ifndef PINHOLE_SOURCE_H
#define PINHOLE_SOURCE_H

#include <stddef.h>

/* The largest input read (128 MiB, documented in pinhole.rules(5), LIMITS): six times a
 * million-prefix list, and a bound on what a mistaken /dev/zero or a log file costs. */
#define SOURCE_MAX_BYTES ((size_t)128 << 20)

/* Reads path ("-" is stdin) into a NUL-terminated malloc'd buffer owned by the caller.
 * Returns 0, or -1 with errno set (the buffer is then NULL); EFBIG when the input is
 * larger than SOURCE_MAX_BYTES. */
int source_read(const char *path, char **text, size_t *len);

/* Reads the open descriptor fd to its end, as source_read; fd stays open. */
int source_read_fd(int fd, char **text, size_t *len);

/* strerror(err), except that EFBIG names the limit: the message for a source_read failure. */
const char *source_strerror(int err);

#endif
