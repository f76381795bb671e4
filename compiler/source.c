/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads fd to EOF, growing geometrically; a regular file's size is only a first guess
 * because it may change while we read. */
static int read_fd(int fd, size_t hint, char **text, size_t *len)
{
	if (hint > SOURCE_MAX_BYTES) {
		errno = EFBIG;
		return -1;
	}
	size_t cap = hint + 1 > 4096 ? hint + 1 : 4096, n = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return -1;
	for (;;) {
		if (n == cap) {
			/* One byte past the limit is enough to know the input is too large. */
			if (n > SOURCE_MAX_BYTES) {
				errno = EFBIG;
				goto fail;
			}
			size_t grown = cap * 2 < SOURCE_MAX_BYTES + 1 ? cap * 2 : SOURCE_MAX_BYTES + 1;
			char *bigger = realloc(buf, grown + 1);
			if (!bigger)
				goto fail;
			buf = bigger;
			cap = grown;
		}
		ssize_t got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			goto fail;
		if (got == 0)
			break;
		n += (size_t)got;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
fail:
	free(buf);
	return -1;
}

int source_read_fd(int fd, char **text, size_t *len)
{
	struct stat st;
	*text = NULL;
	*len = 0;
	return read_fd(fd, fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (size_t)st.st_size : 0, text, len);
}

int source_read(const char *path, char **text, size_t *len)
{
	*text = NULL;
	*len = 0;
	if (!strcmp(path, "-"))
		return read_fd(STDIN_FILENO, 0, text, len);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	size_t hint = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (size_t)st.st_size : 0;
	int ret = read_fd(fd, hint, text, len);
	int saved = errno;
	close(fd);
	errno = saved;
	return ret;
}

const char *source_strerror(int err)
{
	if (err == EFBIG)
		return "larger than the 128 MiB limit for an input file (pinhole.rules(5), LIMITS)";
	return strerror(err);
}
