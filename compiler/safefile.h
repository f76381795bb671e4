/* SPDX-License-Identifier: GPL-2.0-or-later */
/* safefile.h — the files pinhole writes as root in its own directories (last-applied state,
 * snapshots, pending confirmations, logs, the guard's stats and learnt state) without ever
 * following a link that someone else planted there.
 *
 * Every file is opened relative to a directory descriptor whose directory was checked first:
 * a real directory (not a symbolic link), owned by root or the effective user, writable by
 * nobody else. Files are opened with O_NOFOLLOW and must be regular files with one link;
 * temporaries are made with O_EXCL under a random name and renamed into place.
 *
 * Errors: every function that can fail fills why (SAFEFILE_WHY bytes, the caller's) with a
 * whole sentence naming the path and what is wrong, and sets errno. Nothing prints. */
#ifndef PINHOLE_SAFEFILE_H
#define PINHOLE_SAFEFILE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#define SAFEFILE_WHY 320

/* Opens directory dir after checking it (see above), creating it with mode 0700 first when
 * create is set and it is missing (its parent must exist). Returns a close-on-exec
 * descriptor, or -1 (errno EPERM for a directory that fails the check, ELOOP for a symbolic
 * link, else the system's). */
int safefile_dir_open(const char *dir, bool create, char *why);

/* Opens path (DIR/NAME) in its checked directory with flags (O_RDONLY, O_RDWR, O_WRONLY,
 * O_CREAT, O_APPEND, O_TRUNC; O_NOFOLLOW and O_CLOEXEC are added) and mode for a new file.
 * The result must be a regular file with one link. create_dir creates a missing directory
 * (0700). Returns the descriptor, or -1 (errno ENOENT when the file is missing and O_CREAT
 * was not given; why is filled then too). */
int safefile_open(const char *path, int flags, mode_t mode, bool create_dir, char *why);

/* As safefile_open, relative to a descriptor from safefile_dir_open; name has no slash. */
int safefile_openat(int dirfd, const char *dir, const char *name, int flags, mode_t mode, char *why);

/* A file replaced atomically: written as a new temporary next to it, renamed over it. */
struct safefile {
	FILE *f;		/* write the contents here */
	int dirfd;
	char *name, *tmp;	/* in dirfd */
	const char *path;	/* the caller's, for messages */
	char why[SAFEFILE_WHY];	/* after a failure: what went wrong */
};

/* Starts replacing path with a new file of mode (the directory is checked, and created with
 * 0700 when create_dir is set). Returns 0 with w->f open, or -1 with w->why filled; w needs
 * safefile_commit either way. */
int safefile_begin(struct safefile *w, const char *path, mode_t mode, bool create_dir);

/* Ends what safefile_begin started: when ok and everything was written, (fsyncs when sync
 * and) renames the temporary over path and returns 0; otherwise removes the temporary and
 * returns -1 with w->why filled (unless !ok: the caller's own failure). Frees w. */
int safefile_commit(struct safefile *w, bool ok, bool sync);

#endif
