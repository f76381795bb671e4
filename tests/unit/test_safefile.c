/* SPDX-License-Identifier: GPL-2.0-or-later */
/* safefile: directories that fail the checks are refused with a sentence that names them;
 * links and hard links are never opened; a replaced file gets its mode whatever the umask,
 * and a link in its place is replaced, not followed. (The attack as another user, with
 * setpriv, is tests/integration/netlink_safe_files.sh.) */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safefile.h"

static char base[] = "/tmp/pinhole-safefile-XXXXXX";

static void setup(void)
{
	cr_assert_not_null(mkdtemp(base));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(safefile, .init = setup, .fini = teardown);

static char *at(const char *name)
{
	static char path[4][256];
	static int i;
	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", base, name);
	return path[i];
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static void assert_text(const char *path, const char *want)
{
	char got[256] = "";
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	size_t n = fread(got, 1, sizeof(got) - 1, f);
	got[n] = '\0';
	fclose(f);
	cr_assert_str_eq(got, want, "%s", path);
}

Test(safefile, refuses_directories_others_can_write)
{
	char why[SAFEFILE_WHY];
	cr_assert_eq(mkdir(at("ww"), 0700), 0);
	chmod(at("ww"), 0777);
	cr_assert_eq(safefile_dir_open(at("ww"), false, why), -1);
	cr_assert_eq(errno, EPERM);
	cr_assert(strstr(why, "can be written by group or others (mode 0777)"), "%s", why);
	cr_assert(strstr(why, at("ww")), "%s", why);
	chmod(at("ww"), 0770);
	cr_assert_eq(safefile_dir_open(at("ww"), false, why), -1);
	chmod(at("ww"), 01777);
	cr_assert_eq(safefile_dir_open(at("ww"), false, why), -1);
	cr_assert(strstr(why, "(mode 1777)"), "%s", why);
	chmod(at("ww"), 0755);
	int fd = safefile_dir_open(at("ww"), false, why);
	cr_assert_geq(fd, 0, "%s", why);
	close(fd);
}

Test(safefile, refuses_a_directory_that_is_a_link_or_not_ours)
{
	char why[SAFEFILE_WHY];
	cr_assert_eq(mkdir(at("real"), 0700), 0);
	cr_assert_eq(symlink(at("real"), at("link")), 0);
	cr_assert_eq(safefile_dir_open(at("link"), true, why), -1);
	cr_assert_eq(errno, ELOOP);
	cr_assert(strstr(why, "is a symbolic link"), "%s", why);
	write_text(at("file"), "x");
	cr_assert_eq(safefile_dir_open(at("file"), false, why), -1);
	if (geteuid() == 0) {
		cr_assert_eq(chown(at("real"), 65534, 65534), 0);
		cr_assert_eq(safefile_dir_open(at("real"), false, why), -1);
		cr_assert(strstr(why, "belongs to uid 65534"), "%s", why);
	}
}

Test(safefile, creates_a_missing_directory_0700)
{
	char why[SAFEFILE_WHY];
	int fd = safefile_dir_open(at("new"), true, why);
	cr_assert_geq(fd, 0, "%s", why);
	close(fd);
	struct stat st;
	cr_assert_eq(stat(at("new"), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0700);
	cr_assert_eq(safefile_dir_open(at("missing"), false, why), -1);
	cr_assert_eq(errno, ENOENT);
}

Test(safefile, replaces_a_link_instead_of_following_it)
{
	struct safefile w;
	write_text(at("victim"), "victim");
	cr_assert_eq(symlink(at("victim"), at("state")), 0);
	mode_t old = umask(0);
	cr_assert_eq(safefile_begin(&w, at("state"), 0600, false), 0, "%s", w.why);
	fputs("new", w.f);
	cr_assert_eq(safefile_commit(&w, true, true), 0, "%s", w.why);
	umask(old);
	assert_text(at("victim"), "victim");
	assert_text(at("state"), "new");
	struct stat st;
	cr_assert_eq(lstat(at("state"), &st), 0);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0600);
}

Test(safefile, abandoned_write_leaves_the_old_file_and_no_temporary)
{
	struct safefile w;
	write_text(at("state"), "old");
	cr_assert_eq(safefile_begin(&w, at("state"), 0600, false), 0);
	fputs("half", w.f);
	cr_assert_eq(safefile_commit(&w, false, false), -1);
	assert_text(at("state"), "old");
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -eq 1", base);
	cr_assert_eq(system(cmd), 0, "a temporary was left behind");
}

Test(safefile, open_refuses_links_hard_links_and_fifos)
{
	char why[SAFEFILE_WHY];
	write_text(at("victim"), "victim");
	cr_assert_eq(symlink(at("victim"), at("log")), 0);
	cr_assert_eq(safefile_open(at("log"), O_WRONLY | O_CREAT | O_APPEND, 0600, false, why), -1);
	cr_assert(strstr(why, "is a symbolic link"), "%s", why);
	cr_assert_eq(link(at("victim"), at("hard")), 0);
	cr_assert_eq(safefile_open(at("hard"), O_RDONLY, 0, false, why), -1);
	cr_assert(strstr(why, "not a regular file with one name"), "%s", why);
	cr_assert_eq(mkfifo(at("fifo"), 0600), 0);
	cr_assert_eq(safefile_open(at("fifo"), O_RDONLY, 0, false, why), -1, "a FIFO must not hang or pass");
	assert_text(at("victim"), "victim");
	int fd = safefile_open(at("fresh"), O_WRONLY | O_CREAT | O_APPEND, 0600, false, why);
	cr_assert_geq(fd, 0, "%s", why);
	cr_assert_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	close(fd);
	cr_assert_eq(safefile_open(at("absent"), O_RDONLY, 0, false, why), -1);
	cr_assert_eq(errno, ENOENT);
}
