/* SPDX-License-Identifier: GPL-2.0-or-later */
/* testutil.h — helpers shared by the Criterion tests. */
#ifndef PINHOLE_TESTUTIL_H
#define PINHOLE_TESTUTIL_H

#include <stddef.h>

/* Reads a whole file relative to the source tree; returns a NUL-terminated malloc'd
 * buffer (caller frees) or NULL. *len gets its length when len is not NULL. */
char *test_read_file(const char *relpath, size_t *len);

#endif
