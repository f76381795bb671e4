/* source.h — reading input files whole. */
#ifndef PINHOLE_SOURCE_H
#define PINHOLE_SOURCE_H

#include <stddef.h>

/* Reads path ("-" is stdin) into a NUL-terminated malloc'd buffer owned by the caller.
 * Returns 0, or -1 with errno set (the buffer is then NULL). */
int source_read(const char *path, char **text, size_t *len);

/* Reads the open descriptor fd to its end, as source_read; fd stays open. */
int source_read_fd(int fd, char **text, size_t *len);

#endif
