/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_RULE "pinhole writes only in a directory owned by root (or the user running it) that " \
		 "nobody else can write to, see pinhole(8) FILES"

static int fail(char *why, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, SAFEFILE_WHY, fmt, ap);
	va_end(ap);
	errno = err;
	return -1;
}

/* The directory's owner and mode: the checks that make the names in it trustworthy. */
static int dir_check(int fd, const char *dir, char *why)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return fail(why, errno, "cannot check %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail(why, ENOTDIR, "%s is not a directory", dir);
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return fail(why, EPERM, "%s belongs to uid %u: %s", dir, (unsigned)st.st_uid, DIR_RULE);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return fail(why, EPERM, "%s can be written by group or others (mode %04o): %s", dir,
			    (unsigned)(st.st_mode & 07777), DIR_RULE);
	return 0;
}

int safefile_dir_open(const char *dir, bool create, char *why)
{
	struct stat st;
	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST)
		return fail(why, errno, "cannot create %s: %s", dir, strerror(errno));
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		if (lstat(dir, &st) == 0 && S_ISLNK(st.st_mode))
			return fail(why, ELOOP, "%s is a symbolic link: %s", dir, DIR_RULE);
		return fail(why, err, "cannot open %s: %s", dir, strerror(err));
	}
	if (dir_check(fd, dir, why) < 0) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

int safefile_openat(int dirfd, const char *dir, const char *name, int flags, mode_t mode, char *why)
{
	struct stat st;
	/* O_NONBLOCK: a FIFO in its place must not hang us before fstat refuses it */
	int fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, mode);
	if (fd < 0) {
		int err = errno;
		if (err == ELOOP)
			return fail(why, ELOOP, "%s/%s is a symbolic link; pinhole does not follow it", dir, name);
		return fail(why, err, "cannot open %s/%s: %s", dir, name, strerror(err));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		close(fd);
		return fail(why, EPERM, "%s/%s is not a regular file with one name; pinhole does not use it", dir,
			    name);
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		close(fd);
		return fail(why, errno, "cannot open %s/%s: %s", dir, name, strerror(errno));
	}
	return fd;
}

/* Splits path into its directory (malloc'd) and its last component (inside path). */
static char *split(const char *path, const char **name)
{
	const char *slash = strrchr(path, '/');
	*name = slash ? slash + 1 : path;
	if (!slash)
		return strdup(".");
	return slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
}

int safefile_open(const char *path, int flags, mode_t mode, bool create_dir, char *why)
{
	const char *name;
	char *dir = split(path, &name);
	int fd = -1;
	if (!dir || !*name) {
		fail(why, dir ? EINVAL : ENOMEM, "cannot use %s: %s", path, strerror(dir ? EINVAL : ENOMEM));
	} else {
		int dirfd = safefile_dir_open(dir, create_dir, why);
		if (dirfd >= 0) {
			fd = safefile_openat(dirfd, dir, name, flags, mode, why);
			int err = errno;
			close(dirfd);
			errno = err;
		}
	}
	free(dir);
	return fd;
}

/* A new temporary NAME.XXXXXX.tmp in dirfd, made with O_EXCL so that nothing already there
 * (a planted link, another writer's temporary) is ever opened. */
static int make_tmp(struct safefile *w, const char *dir, mode_t mode)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
	for (int attempt = 0; attempt < 16; attempt++) {
		unsigned char r[6];
		char suffix[7];
		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			return fail(w->why, errno, "cannot make a temporary name: %s", strerror(errno));
		for (size_t i = 0; i < sizeof(r); i++)
			suffix[i] = digits[r[i] & 31];
		suffix[6] = '\0';
		free(w->tmp);
		if (asprintf(&w->tmp, "%s.%s.tmp", w->name, suffix) < 0) {
			w->tmp = NULL;
			return fail(w->why, ENOMEM, "out of memory");
		}
		int fd = safefile_openat(w->dirfd, dir, w->tmp, O_WRONLY | O_CREAT | O_EXCL, mode, w->why);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

int safefile_begin(struct safefile *w, const char *path, mode_t mode, bool create_dir)
{
	const char *name;
	char *dir = split(path, &name);
	*w = (struct safefile){ .dirfd = -1, .path = path };
	int fd = -1;
	if (!dir || !*name || !(w->name = strdup(name))) {
		fail(w->why, ENOMEM, "cannot use %s: %s", path, strerror(dir && !*name ? EINVAL : ENOMEM));
	} else if ((w->dirfd = safefile_dir_open(dir, create_dir, w->why)) >= 0 && (fd = make_tmp(w, dir, mode)) >= 0) {
		/* the mode asked for, whatever the umask */
		if (fchmod(fd, mode) < 0 || !(w->f = fdopen(fd, "w"))) {
			fail(w->why, errno, "cannot write %s: %s", path, strerror(errno));
			close(fd);
			unlinkat(w->dirfd, w->tmp, 0);
		}
	}
	free(dir);
	return w->f ? 0 : -1;
}

int safefile_commit(struct safefile *w, bool ok, bool sync)
{
	bool written = w->f != NULL;
	int err = 0;
	errno = 0;
	if (w->f) {
		written = fflush(w->f) == 0 && !ferror(w->f) && (!sync || fsync(fileno(w->f)) == 0);
		err = errno;
		written = fclose(w->f) == 0 && written;
		err = err ? err : errno;
	}
	int ret = -1;
	if (ok && written && renameat(w->dirfd, w->tmp, w->dirfd, w->name) == 0)
		ret = 0;
	else if (ok && written)
		fail(w->why, errno, "cannot rename into %s: %s", w->path, strerror(errno));
	else if (ok && w->f)
		fail(w->why, err ? err : EIO, "cannot write %s: %s", w->path, strerror(err ? err : EIO));
	if (ret < 0 && w->f && w->tmp)
		unlinkat(w->dirfd, w->tmp, 0);
	err = errno;
	if (w->dirfd >= 0)
		close(w->dirfd);
	free(w->name);
	free(w->tmp);
	w->f = NULL;
	w->name = w->tmp = NULL;
	w->dirfd = -1;
	errno = err;
	return ret;
}
