/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the guard's state file (guard.state) through its loader (matcher/guard_state.c),
 * then what a start does with it: the entries sent to the kernel again, and expiry. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "guard.h"

#define NOW_WALL 1700000000000ull	/* the seeds' expiries lie just after it */

static struct policy *policy(void)
{
	static struct policy *p;
	static const char rules[] = "set web { *.marketo.com ~\"^ws[0-9]+\\\\.mktoweb\\\\.com$\" }\n"
				    "set mail { mkto-a0244.com }\n"
				    "allow out to @web tcp port 443\n"
				    "allow out to @mail tcp port 80\n";
	if (!p) {
		struct diags *d = diags_new();
		struct compile_request req = { .file = "fuzz.rules", .text = rules, .len = strlen(rules) };
		p = policy_compile(&req, d);
		diags_free(d);
	}
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guard_config c;
	const char *why;
	guard_config_defaults(&c);
	c.ttl_max = 3600;
	struct guard *g = policy() ? guard_new(policy(), &c, &why) : NULL;
	if (!g)
		return 0;
	for (size_t i = 0; i < guard_n_sets(g); i++) {
		guard_set_present(g, i, FAMILY_V4, true);
		guard_set_present(g, i, FAMILY_V6, true);
	}
	FILE *f = size ? fmemopen((void *)data, size, "r") : NULL;
	if (f) {
		guard_load(g, 1000, NOW_WALL, f);
		fclose(f);
	}
	size_t n;
	guard_replay(g, 1000);
	const struct guard_update *u = guard_pending(g, &n);
	for (size_t i = 0; i < n; i++)
		if (u[i].timeout_ms > c.ttl_max * 1000u)
			__builtin_trap();	/* a lifetime past --ttl-max came back */
	guard_pending_done(g, true, 1000);
	guard_expire(g, 1000 + c.ttl_max * 1000ull + 1);
	if (guard_n_learnt(g) || guard_n_aliases(g))
		__builtin_trap();	/* something outlived --ttl-max */
	guard_free(g);
	return 0;
}
