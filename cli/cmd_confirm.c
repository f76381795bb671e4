/* cmd_confirm.c — pinhole confirm: keep what `pinhole apply --confirm` applied. The pending
 * file names the waiter that would restore the snapshot; removing the file first is what
 * confirms (the waiter renames it at its deadline, so exactly one of the two wins). */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "cmd_apply.h"

static void confirm_usage(FILE *out)
{
	fprintf(out, "Usage: pinhole confirm [-t TABLE]\n"
		     "\n"
		     "Keeps the rules that 'pinhole apply --confirm SECONDS' applied, for TABLE or every\n"
		     "table with a pending confirmation, and stops their rollback timer.\n"
		     "Exit status: 0 confirmed, 1 nothing was pending (or it was too late).\n"
		     "\n"
		     "  -t, --table TABLE      only this table (family inet)\n"
		     "  -h, --help             show this help\n");
}

static void stop_waiter(const char *pending_text)
{
	long pid = strtol(pending_text, NULL, 10);
	if (pid > 1)
		kill((pid_t)pid, SIGTERM);
}

/* Makes the confirmed source the one a later --confirm restores. */
static void promote_source(const char *table)
{
	char *next = apply_snapshot_path(nk_state_dir(), table, "applied.new");
	char *cur = apply_snapshot_path(nk_state_dir(), table, "applied");
	if (next && cur && rename(next, cur) < 0 && errno != ENOENT)
		fprintf(stderr, "pinhole confirm: warning: cannot keep the applied rules in %s: %s\n", cur,
			strerror(errno));
	free(next);
	free(cur);
}

static int confirm_table(const char *table)
{
	char *pending = apply_snapshot_path(apply_run_dir(), table, "pending");
	char *snap = apply_snapshot_path(apply_run_dir(), table, "rollback");
	char text[64] = "";
	int ret = -1;
	FILE *f = pending ? fopen(pending, "r") : NULL;
	if (f) {
		if (!fgets(text, sizeof(text), f))
			text[0] = '\0';
		fclose(f);
	}
	if (!pending || !snap) {
		errno = ENOMEM;
	} else if (unlink(pending) == 0) {
		stop_waiter(text);
		unlink(snap);
		promote_source(table);
		printf("confirmed: table inet %s keeps the rules applied last\n", table);
		ret = 0;
	} else {
		fprintf(stderr, "pinhole confirm: nothing pending for table inet %s%s\n", table,
			errno == ENOENT ? " (no apply --confirm, or the rollback has already begun)" : "");
	}
	free(pending);
	free(snap);
	return ret;
}

static int confirm_all(void)
{
	DIR *dir = opendir(apply_run_dir());
	struct dirent *de;
	int found = 0, failed = 0;
	while (dir && (de = readdir(dir))) {
		size_t len = strlen(de->d_name);
		if (strncmp(de->d_name, "inet-", 5) || len <= 13 || strcmp(de->d_name + len - 8, ".pending"))
			continue;
		char table[256];
		snprintf(table, sizeof(table), "%.*s", (int)(len - 13), de->d_name + 5);
		found++;
		failed += confirm_table(table) < 0;
	}
	if (dir)
		closedir(dir);
	if (!found)
		fprintf(stderr, "pinhole confirm: nothing is waiting for a confirmation (%s)\n", apply_run_dir());
	return found && !failed ? 0 : -1;
}

int cmd_confirm(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "table", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	int ret = 1, c;
	const char *table = NULL;
	optind = 0;
	while ((c = getopt_long(argc, argv, "t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 't': table = optarg; break;
		case 'h': confirm_usage(stdout); ret = 0; goto out;
		default: confirm_usage(stderr); goto out;
		}
	}
	if (optind != argc) {
		confirm_usage(stderr);
		goto out;
	}
	ret = (table ? confirm_table(table) : confirm_all()) < 0 ? 1 : 0;
out:
	return ret;
}
