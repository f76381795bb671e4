/* SPDX-License-Identifier: GPL-2.0-or-later */
/* waiter.c — the rollback timer of apply --confirm. The caller forks it and lets go of its
 * terminal; this is what it does then: watch its pending file until the deadline, and
 * roll back unless confirm or cancel took the file's name first. */
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>

#include "apply_internal.h"
#include "safefile.h"

int apply_waiter_log(const struct apply_options *o, const struct apply_claim *c)
{
	char *name = file_name(c->table, "log"), why[SAFEFILE_WHY];
	int fd = name ? safefile_openat(c->dirfd, o->run_dir, name, O_WRONLY | O_CREAT | O_APPEND, 0600, why) : -1;
	free(name);
	return fd;
}

static long long now_ms(const struct job *j)
{
	const struct apply_test_hooks *t = j->o->test;
	struct timespec ts;
	if (t && t->now_ms)
		return t->now_ms(t->ctx);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(const struct job *j, long ms)
{
	const struct apply_test_hooks *t = j->o->test;
	if (t && t->sleep_ms)
		t->sleep_ms(t->ctx, ms);
	else
		nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000 }, NULL);
}

/* Looks twice a second (cheap, and it needs no signal from confirm). */
void apply_wait(const struct apply_options *o, struct apply_claim *c, struct apply_result *r)
{
	struct job j = { .o = o, .r = r };
	char *pending = file_name(c->table, SUFFIX_PENDING);
	result_start(r);
	long long end = now_ms(&j) + (long long)c->seconds * 1000;
	for (;;) {
		if (!pending || !pending_still_named(c->dirfd, pending, c->fd))
			goto out;
		long long left = end - now_ms(&j);
		if (left <= 0)
			break;
		sleep_ms(&j, left < 500 ? (long)left : 500);
	}
	if (pending_still_named(c->dirfd, pending, c->fd) && pending_take(c->dirfd, c->table) == 0) {
		say(&j, (struct apply_event){ .kind = APPLY_EV_NOT_CONFIRMED, .table = c->table });
		rollback_run(&j, c->dirfd, c->table, c->mode);
	}
out:
	free(pending);
}
