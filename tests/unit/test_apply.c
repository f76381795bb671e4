/* SPDX-License-Identifier: GPL-2.0-or-later */
/* apply/ through its interface, against a real kernel: each test runs in a network
 * namespace of its own (Criterion forks every test; the test unshares), so nothing here
 * reads or touches the host's ruleset. The seams are the options' test hooks: a commit
 * that someone else's commit overtakes (before_commit), an answer the socket loses
 * (lose_acks), and the waiter's clock (now_ms, sleep_ms, wall), so that a deadline passes
 * without waiting for it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apply.h"
#include "source.h"

static char dir[64], state[96], run[96];
static struct policy *policies[8];
static char paths[8][160];
static size_t n_policies;

static void enter_namespace(void)
{
	if (unshare(CLONE_NEWNET) < 0)
		cr_skip_test("cannot make a network namespace (%s): run as root", strerror(errno));
	strcpy(dir, "/tmp/pinhole-apply-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(run, sizeof(run), "%s/run", dir);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void leave(void)
{
	for (size_t i = 0; i < n_policies; i++)
		policy_free(policies[i]);
	n_policies = 0;
	if (*dir)
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(apply, .init = enter_namespace, .fini = leave);

/* ---- rules, options, what the kernel holds ---- */

/* Writes dir/NAME and compiles it as pinhole apply would (the library reads it again for
 * its snapshot). The policy lives until the test ends. */
static struct policy *rules(const char *name, const char *text)
{
	cr_assert_lt(n_policies, 8);
	char *path = paths[n_policies];
	snprintf(path, sizeof(paths[0]), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	struct diags *d = diags_new();
	struct compile_request req = { .file = path, .text = text, .len = strlen(text),
				       .read_include = source_read };
	struct policy *p = policy_compile(&req, d);
	if (!p)
		diags_render(d, stderr, false);
	diags_free(d);
	cr_assert_not_null(p);
	return policies[n_policies++] = p;
}

#define ONE "option table t\nset peers { 192.0.2.0/24 }\nallow in from @peers tcp port 22\n"
#define TWO "option table t\nset peers { 198.51.100.0/24 }\nallow in from @peers tcp port 22\n"
#define THREE "option table t\nset peers { 203.0.113.0/24 }\nallow in from @peers tcp port 22\n"

static const char *path_of(const struct policy *p)
{
	for (size_t i = 0; i < n_policies; i++)
		if (policies[i] == p)
			return paths[i];
	return NULL;
}

static struct apply_options options_for(const struct policy *p)
{
	return (struct apply_options){ .state_dir = state, .run_dir = run, .policy = p, .rules = path_of(p),
				       .use_cache = true, .table = "t" };
}

static size_t count(const struct apply_result *r, enum apply_event_kind kind)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n_events; i++)
		n += r->events[i].kind == kind;
	return n;
}

static const struct apply_event *find(const struct apply_result *r, enum apply_event_kind kind)
{
	for (size_t i = 0; i < r->n_events; i++)
		if (r->events[i].kind == kind)
			return &r->events[i];
	return NULL;
}

/* The first event of kind that is not a rollback's. */
static const struct apply_event *find_own(const struct apply_result *r, enum apply_event_kind kind)
{
	for (size_t i = 0; i < r->n_events; i++)
		if (r->events[i].kind == kind && !r->events[i].rollback)
			return &r->events[i];
	return NULL;
}

/* The prefixes of pinhole's set peers_v4 in table t, as "a b c", or "absent". */
static const char *peers(void)
{
	static char out[256];
	struct nl_session *s = nl_session_open();
	struct nk_ruleset live = { 0 };
	cr_assert_not_null(s);
	cr_assert_eq(nl_ruleset_read(s, "t", NK_MODE_TABLE, NL_READ_ELEMENTS, &live), 0);
	const struct nk_set *set = nk_ruleset_find_set(&live, "peers_v4");
	strcpy(out, set ? "" : "absent");
	for (size_t i = 0; set && i < set->n_elems; i++) {
		char buf[64];
		cidr_format_prefix(buf, &set->elems[i].prefix);
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? " " : "", buf);
	}
	nk_ruleset_free(&live);
	nl_session_close(s);
	return out;
}

/* Applies p plainly and checks that it worked. */
static void applied(const struct policy *p)
{
	struct apply_options o = options_for(p);
	struct apply_result r = { 0 };
	cr_assert_neq(apply_policy(&o, &r), APPLY_ERROR);
	apply_result_free(&r);
}

/* A text an outsider (nft) feeds the kernel. */
static void nft(const char *script)
{
	FILE *f = popen("nft -f -", "w");
	cr_assert_not_null(f);
	fputs(script, f);
	cr_assert_eq(pclose(f), 0, "nft refused: %s", script);
}

/* ---- apply, dry run, the shortcut ---- */

Test(apply, applies_then_finds_nothing_to_do)
{
	struct policy *one = rules("one.rules", ONE);
	struct apply_options o = options_for(one);
	struct apply_result r = { 0 };
	cr_assert_eq(apply_policy(&o, &r), APPLY_CHANGED);
	cr_assert_eq(count(&r, APPLY_EV_APPLIED), 1);
	cr_assert_not_null(r.last);
	cr_assert_gt(r.last->commit.n_messages, 2);
	cr_assert_eq(r.last->commit.genid_after, r.last->plan.live.genid + 1);
	cr_assert_str_eq(peers(), "192.0.2.0/24");
	apply_result_free(&r);
	/* the same file again: the shortcut answers without compiling */
	cr_assert(apply_unchanged(&o, &r));
	const struct apply_event *ev = find(&r, APPLY_EV_UNCHANGED);
	cr_assert_not_null(ev);
	cr_assert_str_eq(ev->table, "t");
	apply_result_free(&r);
	/* and a full apply finds no changes */
	cr_assert_eq(apply_policy(&o, &r), APPLY_NO_CHANGE);
	cr_assert_eq(r.last->plan.delta.n_changes, 0);
	apply_result_free(&r);
}

Test(apply, dry_run_commits_nothing)
{
	struct policy *one = rules("one.rules", ONE), *two = rules("two.rules", TWO);
	applied(one);
	struct apply_options o = options_for(two);
	struct apply_result r = { 0 };
	o.dry_run = true;
	cr_assert_eq(apply_policy(&o, &r), APPLY_CHANGED);
	cr_assert_eq(count(&r, APPLY_EV_CHECKED), 1);
	cr_assert_eq(count(&r, APPLY_EV_APPLIED), 0);
	cr_assert_str_eq(peers(), "192.0.2.0/24");
	apply_result_free(&r);
}

/* A sets-only policy whose third prefix overflows the user's set (size 2): the kernel
 * refuses the batch, and nothing of it happens, not even the set made earlier in it. */
#define USER_TABLE "table inet filter {\n\tset small_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tsize 2\n\t}\n}\n"
#define OVERFLOW "option mode sets-only\noption table filter\nset other { 198.51.100.0/24 }\nset small {\n" \
		 "\t192.0.2.0/28\n\t192.0.2.64/28\n\t192.0.2.128/28\n}\n"

static size_t filter_sets(void)
{
	struct nl_session *s = nl_session_open();
	struct nk_ruleset live = { 0 };
	cr_assert_eq(nl_ruleset_read(s, "filter", NK_MODE_SETS_ONLY, NL_READ_ELEMENTS, &live), 0);
	size_t n = live.n_sets, elems = 0;
	for (size_t i = 0; i < live.n_sets; i++)
		elems += live.sets[i].n_elems;
	nk_ruleset_free(&live);
	nl_session_close(s);
	return n * 100 + elems;
}

Test(apply, refused_batch_changes_nothing_and_names_the_line)
{
	nft(USER_TABLE);
	struct policy *p = rules("p.rules", OVERFLOW);
	size_t before = filter_sets();
	struct apply_options o = options_for(p);
	struct apply_result r = { 0 };
	cr_assert_eq(apply_policy(&o, &r), APPLY_ERROR);
	cr_assert(r.rejected);
	const struct apply_event *ev = find(&r, APPLY_EV_REJECTED);
	cr_assert_not_null(ev);
	bool at_line = false;
	for (size_t i = 0; i < ev->attempt->commit.n_errors; i++) {
		const struct nl_error *e = &ev->attempt->commit.errors[i];
		at_line |= e->loc.line == 7 && strstr(e->loc.file, "p.rules") && strstr(e->what, "192.0.2.128/28");
	}
	cr_assert(at_line, "the kernel's error maps to p.rules:7, the prefix that overflowed");
	cr_assert_eq(filter_sets(), before, "nothing of the batch happened");
	apply_result_free(&r);
}

/* ---- another writer commits between the plan and the commit ---- */

struct intruder {
	unsigned every;			/* intrude on attempts below this */
	const struct policy *with[2];	/* applied in turn, with their own state */
	unsigned n;
};

static void intrude(void *ctx, unsigned attempt)
{
	struct intruder *in = ctx;
	if (attempt >= in->every)
		return;
	struct apply_options o = options_for(in->with[in->n++ % 2]);
	struct apply_result r = { 0 };
	char other[128];
	snprintf(other, sizeof(other), "%s/intruder", dir);
	o.state_dir = o.run_dir = other;
	cr_assert_neq(apply_policy(&o, &r), APPLY_ERROR);
	apply_result_free(&r);
}

/* one applied, then two with in committing between two's plans and commits. */
static enum apply_status overtaken(const struct policy *one, const struct policy *two, struct intruder *in,
				   struct apply_result *r)
{
	struct apply_test_hooks t = { .before_commit = intrude, .ctx = in };
	struct apply_options o = options_for(two);
	applied(one);
	o.test = &t;
	return apply_policy(&o, r);
}

Test(apply, stale_batch_is_planned_again_other_table)
{
	struct policy *one = rules("one.rules", ONE), *two = rules("two.rules", TWO);
	struct policy *x = rules("x.rules", "option table intruder\nset s { 192.0.2.1 }\nallow in from @s\n");
	struct intruder in = { .every = 1, .with = { x, x } };
	struct apply_result r = { 0 };
	cr_assert_eq(overtaken(one, two, &in, &r), APPLY_CHANGED);
	cr_assert_eq(count(&r, APPLY_EV_STALE), 1);
	cr_assert_eq(count(&r, APPLY_EV_PLAN), 2);
	cr_assert_eq(r.last->number, 1);
	cr_assert_str_eq(peers(), "198.51.100.0/24");
	apply_result_free(&r);
}

Test(apply, stale_batch_reads_the_kernel_again_own_set)
{
	struct policy *one = rules("one.rules", ONE), *two = rules("two.rules", TWO);
	struct policy *more = rules("more.rules", "option table t\nset peers { 192.0.2.0/24 203.0.113.0/24 }\n"
						  "allow in from @peers tcp port 22\n");
	struct intruder in = { .every = 1, .with = { more, more } };
	struct apply_result r = { 0 };
	cr_assert_eq(overtaken(one, two, &in, &r), APPLY_CHANGED);
	cr_assert_eq(count(&r, APPLY_EV_STALE), 1);
	const struct apply_attempt *first = r.events[0].attempt;
	cr_assert(first->plan.from_cache, "the first plan trusted the last-applied state");
	cr_assert_not(r.last->plan.from_cache, "the retry read the elements from the kernel");
	cr_assert_eq(r.last->plan.live.genid, first->plan.live.genid + 1);
	cr_assert_str_eq(peers(), "198.51.100.0/24", "the element slipped in is gone again");
	apply_result_free(&r);
}

Test(apply, gives_up_when_the_ruleset_keeps_changing)
{
	struct policy *one = rules("one.rules", ONE), *two = rules("two.rules", TWO);
	struct policy *x = rules("x.rules", "option table intruder\nset s { 192.0.2.1 }\nallow in from @s\n");
	struct policy *y = rules("y.rules", "option table intruder\nset s { 192.0.2.2 }\nallow in from @s\n");
	struct intruder in = { .every = 3, .with = { x, y } };
	struct apply_result r = { 0 };
	cr_assert_eq(overtaken(one, two, &in, &r), APPLY_ERROR);
	cr_assert_eq(count(&r, APPLY_EV_STALE), 3);
	cr_assert_eq(count(&r, APPLY_EV_GAVE_UP), 1);
	cr_assert_eq(count(&r, APPLY_EV_APPLIED), 0);
	cr_assert_str_eq(peers(), "192.0.2.0/24");
	apply_result_free(&r);
}

/* ---- the kernel's answer is lost: apply asks instead of guessing ---- */

Test(apply, lost_answer_to_a_committed_batch_is_settled_by_asking)
{
	struct policy *one = rules("one.rules", ONE);
	struct apply_test_hooks t = { .lose_acks = true };
	struct apply_options o = options_for(one);
	struct apply_result r = { 0 };
	o.test = &t;
	cr_assert_eq(apply_policy(&o, &r), APPLY_CHANGED);
	const struct apply_event *ev = find(&r, APPLY_EV_ACK_LOST);
	cr_assert_not_null(ev);
	cr_assert_eq(ev->err, ENOBUFS);
	cr_assert(r.last->commit.committed);
	cr_assert_str_eq(peers(), "192.0.2.0/24");
	apply_result_free(&r);
}

Test(apply, lost_answer_to_a_refused_batch_is_a_failure)
{
	nft(USER_TABLE);
	struct policy *p = rules("p.rules", OVERFLOW);
	size_t before = filter_sets();
	struct apply_test_hooks t = { .lose_acks = true };
	struct apply_options o = options_for(p);
	struct apply_result r = { 0 };
	o.test = &t;
	cr_assert_eq(apply_policy(&o, &r), APPLY_ERROR);
	const struct apply_event *ev = find(&r, APPLY_EV_COMMIT_FAILED);
	cr_assert_not_null(ev);
	cr_assert_not(ev->flag, "the kernel did not commit the batch");
	cr_assert_eq(count(&r, APPLY_EV_ACK_LOST), 0);
	cr_assert_eq(filter_sets(), before);
	apply_result_free(&r);
}

/* ---- commit confirmed ---- */

/* A clock that only moves when the waiter sleeps, and something to do at a moment. */
struct clock {
	long long ms;
	time_t wall;
	long long at;			/* when to act (ms), or -1 */
	void (*act)(struct clock *c);
	struct apply_result acted;
};

static long long clock_now(void *ctx)
{
	return ((struct clock *)ctx)->ms;
}

static void clock_sleep(void *ctx, long ms)
{
	struct clock *c = ctx;
	c->ms += ms;
	if (c->at >= 0 && c->ms >= c->at) {
		c->at = -1;
		c->act(c);
	}
}

static time_t clock_wall(void *ctx)
{
	return ((struct clock *)ctx)->wall;
}

static struct apply_test_hooks clock_hooks(struct clock *c)
{
	c->wall = time(NULL);
	return (struct apply_test_hooks){ .now_ms = clock_now, .sleep_ms = clock_sleep, .wall = clock_wall, .ctx = c };
}

/* apply --confirm of p (after one was applied), up to the waiter: r->waiter holds the claim
 * (this process is the waiter until apply_waiter_started or apply_result_free). */
static void confirm_apply(const struct policy *p, const struct apply_test_hooks *t, struct apply_result *r)
{
	struct apply_options o = options_for(p);
	o.confirm = 30;
	o.test = t;
	cr_assert_eq(apply_policy(&o, r), APPLY_CHANGED);
	cr_assert_geq(r->waiter.fd, 0);
	cr_assert_gt(r->confirm_deadline, 0);
}

static bool pending_file(const char *suffix)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/inet-t.%s", run, suffix);
	return access(path, F_OK) == 0;
}

Test(apply, rolls_back_at_the_deadline)
{
	struct policy *one = rules("one.rules", ONE), *two = rules("two.rules", TWO);
	struct clock c = { .at = -1 };
	struct apply_test_hooks t = clock_hooks(&c);
	struct apply_result r = { 0 }, w = { 0 };
	applied(one);
	confirm_apply(two, &t, &r);
	cr_assert_str_eq(peers(), "198.51.100.0/24");
	struct apply_options o = options_for(NULL);
	o.test = &t;
	apply_wait(&o, &r.waiter, &w);
	cr_assert_geq(c.ms, 30000, "the waiter waited for the deadline");
	cr_assert_eq(count(&w, APPLY_EV_NOT_CONFIRMED), 1);
	const struct apply_event *ev = find(&w, APPLY_EV_RESTORED);
	cr_assert_not_null(ev);
	cr_assert_not(ev->flag);
	cr_assert_str_eq(peers(), "192.0.2.0/24", "the previous rules are back");
	cr_assert_not(pending_file("pending") || pending_file("rolling-back") || pending_file("rollback"));
	apply_result_free(&w);
	apply_result_free(&r);
}

Test(apply, rolls_back_to_nothing)
{
	struct policy *one = rules("one.rules", ONE);
	struct clock c = { .at = -1 };
	struct apply_test_hooks t = clock_hooks(&c);
	struct apply_result r = { 0 }, w = { 0 };
	confirm_apply(one, &t, &r);
	struct apply_options o = options_for(NULL);
	o.test = &t;
	apply_wait(&o, &r.waiter, &w);
	const struct apply_event *ev = find(&w, APPLY_EV_RESTORED);
	cr_assert(ev && ev->flag, "pinhole owned nothing before: removed what it applied");
	cr_assert_str_eq(peers(), "absent");
	apply_result_free(&w);
	apply_result_free(&r);
}

static void confirm_now(struct clock *c)
{
	struct apply_options o = options_for(NULL);
	cr_assert_eq(apply_confirm(&o, &c->acted), 0);
}

Test(apply, confirmed_in_time_stays)
{
	struct policy *one = rules("one.rules", ONE), *two = rules("two.rules", TWO);
	struct clock c = { .at = 1000, .act = confirm_now };
	struct apply_test_hooks t = clock_hooks(&c);
	struct apply_result r = { 0 }, w = { 0 };
	applied(one);
	confirm_apply(two, &t, &r);
	struct apply_options o = options_for(NULL);
	o.test = &t;
	apply_wait(&o, &r.waiter, &w);
	cr_assert_lt(c.ms, 30000, "the waiter left when the confirmation took its file");
	cr_assert_eq(count(&c.acted, APPLY_EV_CONFIRMED), 1);
	cr_assert_eq(count(&c.acted, APPLY_EV_TIMER_HAD_DIED), 0, "the waiter was alive");
	cr_assert_eq(w.n_events, 0, "no rollback");
	cr_assert_str_eq(peers(), "198.51.100.0/24");
	apply_result_free(&c.acted);
	apply_result_free(&w);
	apply_result_free(&r);
}

Test(apply, pending_confirmation_refuses_changes)
{
	struct policy *one = rules("one.rules", ONE), *two = rules("two.rules", TWO), *three = rules("three.rules", THREE);
	struct apply_result r = { 0 }, other = { 0 };
	applied(one);
	confirm_apply(two, NULL, &r);
	/* a live waiter (this process holds the lock) */
	struct apply_options o = options_for(three);
	cr_assert_eq(apply_policy(&o, &other), APPLY_ERROR);
	const struct apply_event *ev = find(&other, APPLY_EV_PENDING);
	cr_assert(ev && !strcmp(ev->table, "t") && ev->n > 0 && ev->n <= 30);
	apply_result_free(&other);
	o.confirm = 5;
	cr_assert_eq(apply_policy(&o, &other), APPLY_ERROR);
	cr_assert_eq(count(&other, APPLY_EV_PENDING), 1);
	apply_result_free(&other);
	cr_assert_eq(apply_remove(&o, &other), -1);
	cr_assert_eq(count(&other, APPLY_EV_PENDING), 1);
	apply_result_free(&other);
	/* a dry run changes nothing: it answers */
	o.confirm = 0;
	o.dry_run = true;
	cr_assert_eq(apply_policy(&o, &other), APPLY_CHANGED);
	apply_result_free(&other);
	cr_assert_str_eq(peers(), "198.51.100.0/24");
	apply_result_free(&r);
}

/* While apply --confirm is still applying, its claim already stands. */
struct meanwhile {
	const struct policy *p;
	struct apply_result confirm, plain;
};

static void apply_meanwhile(void *ctx, unsigned attempt)
{
	struct meanwhile *m = ctx;
	struct apply_options o = options_for(m->p);
	o.confirm = 30;
	cr_assert_eq(apply_policy(&o, &m->confirm), APPLY_ERROR);
	o.confirm = 0;
	cr_assert_eq(apply_policy(&o, &m->plain), APPLY_ERROR);
}

Test(apply, claim_holds_while_applying)
{
	struct policy *one = rules("one.rules", ONE), *two = rules("two.rules", TWO), *three = rules("three.rules", THREE);
	struct meanwhile m = { .p = three };
	struct apply_test_hooks t = { .before_commit = apply_meanwhile, .ctx = &m };
	struct apply_result r = { 0 };
	applied(one);
	confirm_apply(two, &t, &r);
	cr_assert_eq(count(&m.confirm, APPLY_EV_PENDING), 1, "a second apply --confirm refuses");
	cr_assert_eq(count(&m.plain, APPLY_EV_PENDING), 1, "a plain apply refuses");
	cr_assert_str_eq(peers(), "198.51.100.0/24", "the first apply --confirm went through");
	apply_result_free(&m.confirm);
	apply_result_free(&m.plain);
	apply_result_free(&r);
}

/* The waiter dies (kill -9, the OOM killer): the lock goes with it. Here no waiter ever
 * takes the claim: handing it to a PID that is nobody's leaves the file unlocked. */
static void waiter_dies(const struct policy *p, struct apply_result *r)
{
	struct apply_options o = options_for(p);
	o.confirm = 30;
	apply_waiter_started(&o, r, 999999);
	cr_assert_eq(r->waiter.fd, -1);
	cr_assert_eq(count(r, APPLY_EV_CONFIRM_BY), 1);
}

/* ONE applied, then apply --confirm of TWO whose waiter died; the options for table t. */
static struct apply_options dead_waiter(void)
{
	struct policy *one = rules("one.rules", ONE), *two = rules("two.rules", TWO);
	struct apply_result r = { 0 };
	applied(one);
	confirm_apply(two, NULL, &r);
	waiter_dies(two, &r);
	apply_result_free(&r);
	return options_for(NULL);
}

Test(apply, dead_waiter_is_rolled_back_by_the_next_apply)
{
	struct apply_options o = dead_waiter();
	struct apply_result r = { 0 };
	o.policy = rules("three.rules", THREE);
	o.rules = path_of(o.policy);
	cr_assert_eq(apply_policy(&o, &r), APPLY_CHANGED);
	const struct apply_event *gone = find(&r, APPLY_EV_WAITER_GONE);
	cr_assert(gone && gone->n == 999999 && !gone->flag);
	const struct apply_event *back = find(&r, APPLY_EV_RESTORED);
	cr_assert(back && back->rollback && back > gone, "the rollback comes first");
	cr_assert(find(&r, APPLY_EV_APPLIED)->rollback, "the rollback's own apply is marked as such");
	cr_assert_gt(find_own(&r, APPLY_EV_APPLIED), back, "then the apply's own work");
	cr_assert_eq(r.last, find_own(&r, APPLY_EV_APPLIED)->attempt);
	cr_assert_str_eq(peers(), "203.0.113.0/24");
	cr_assert_not(pending_file("pending"));
	apply_result_free(&r);
}

Test(apply, dead_waiter_is_rolled_back_by_remove)
{
	struct apply_options o = dead_waiter();
	struct apply_result r = { 0 };
	cr_assert_eq(apply_remove(&o, &r), 0);
	cr_assert_lt(find(&r, APPLY_EV_RESTORED), find(&r, APPLY_EV_REMOVED));
	cr_assert_eq(r.status, APPLY_CHANGED);
	cr_assert_str_eq(peers(), "absent");
	apply_result_free(&r);
}

Test(apply, dead_waiter_confirmed_in_time)
{
	struct apply_options o = dead_waiter();
	struct apply_result r = { 0 };
	cr_assert_eq(apply_confirm(&o, &r), 0);
	cr_assert_eq(count(&r, APPLY_EV_CONFIRMED), 1);
	cr_assert_eq(find(&r, APPLY_EV_TIMER_HAD_DIED)->n, 999999);
	cr_assert_str_eq(peers(), "198.51.100.0/24");
	apply_result_free(&r);
	/* the confirmed rules are what the next --confirm restores */
	struct clock c = { .at = -1 };
	struct apply_test_hooks t = clock_hooks(&c);
	struct apply_result w = { 0 };
	confirm_apply(policies[0], &t, &r);	/* ONE, as dead_waiter compiled it */
	o.test = &t;
	apply_wait(&o, &r.waiter, &w);
	cr_assert_str_eq(peers(), "198.51.100.0/24");
	apply_result_free(&w);
	apply_result_free(&r);
}

Test(apply, dead_waiter_past_its_deadline_is_rolled_back_by_confirm)
{
	struct apply_options o = dead_waiter();
	struct clock c = { .at = -1 };
	struct apply_test_hooks t = clock_hooks(&c);
	struct apply_result r = { 0 };
	c.wall += 31;
	o.test = &t;
	cr_assert_eq(apply_confirm(&o, &r), -1, "too late");
	cr_assert_lt(find(&r, APPLY_EV_LATE_AND_DEAD), find(&r, APPLY_EV_RESTORED));
	cr_assert_str_eq(peers(), "192.0.2.0/24");
	apply_result_free(&r);
}

Test(apply, cancel_with_a_dead_waiter_rolls_back_now)
{
	struct apply_options o = dead_waiter();
	struct apply_result r = { 0 };
	o.cancel = true;
	cr_assert_eq(apply_confirm(&o, &r), 0);
	cr_assert_lt(find(&r, APPLY_EV_CANCELLED), find(&r, APPLY_EV_RESTORED));
	cr_assert_str_eq(peers(), "192.0.2.0/24");
	apply_result_free(&r);
	o.cancel = false;
	cr_assert_eq(apply_confirm(&o, &r), -1);
	cr_assert_eq(count(&r, APPLY_EV_NOTHING_PENDING), 1);
	apply_result_free(&r);
}

/* A real waiter, forked as the CLI forks it: cancel takes the file's name, waits for the
 * waiter to see that and leave, then rolls back. */
Test(apply, cancel_waits_for_a_live_waiter)
{
	struct policy *one = rules("one.rules", ONE), *two = rules("two.rules", TWO);
	struct apply_result r = { 0 }, w = { 0 };
	applied(one);
	confirm_apply(two, NULL, &r);
	struct apply_options o = options_for(two);
	o.confirm = 30;
	pid_t pid = fork();
	if (pid == 0) {
		apply_wait(&o, &r.waiter, &w);
		_exit(w.n_events == 0 ? 0 : 1);
	}
	apply_waiter_started(&o, &r, pid);
	apply_result_free(&r);
	o.cancel = true;
	cr_assert_eq(apply_confirm(&o, &r), 0);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the waiter left without rolling back itself");
	cr_assert_eq(count(&r, APPLY_EV_RESTORED), 1);
	cr_assert_str_eq(peers(), "192.0.2.0/24");
	apply_result_free(&r);
}

/* ---- remove ---- */

Test(apply, remove_takes_what_pinhole_owns)
{
	struct policy *one = rules("one.rules", ONE);
	struct apply_options o = options_for(one);
	struct apply_result r = { 0 };
	applied(one);
	o.dry_run = true;
	cr_assert_eq(apply_remove(&o, &r), 0);
	cr_assert(find(&r, APPLY_EV_REMOVED)->attempt->dry_run);
	cr_assert_str_eq(peers(), "192.0.2.0/24");
	apply_result_free(&r);
	struct apply_applied *list;
	size_t n = apply_applied_list(&o, &list);
	cr_assert(n == 1 && list[0].table && !strcmp(list[0].table, "t") && list[0].mode == NK_MODE_TABLE);
	apply_applied_free(list, n);
	o.dry_run = false;
	cr_assert_eq(apply_remove(&o, &r), 0);
	cr_assert_eq(r.status, APPLY_CHANGED);
	cr_assert_str_eq(peers(), "absent");
	cr_assert_eq(apply_applied_list(&o, &list), 0, "the snapshot is forgotten");
	apply_result_free(&r);
	cr_assert_eq(apply_remove(&o, &r), 0);
	cr_assert_eq(count(&r, APPLY_EV_NOTHING_OWNED), 1);
	cr_assert_eq(r.status, APPLY_NO_CHANGE);
	apply_result_free(&r);
}
