/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_commits.c — commits the way pinhole guard does: one batch per learnt address with
 * a timeout into a NAME_dns_v4 set, through the guard's own netlink path (guard_sets.c),
 * recording its generations as the guard does when given a record path. For bench/apply.sh
 * ("re-apply after guard commits") and tests/integration/netlink_guard_gens.sh.
 *
 *   guard_commits TABLE SET N [RECORD]     N commits of 198.51.100.x / 203.0.113.x, 1 h
 */
#include <stdio.h>
#include <stdlib.h>

#include "guard_sets.h"

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: guard_commits TABLE SET N [RECORD]\n");
		return 2;
	}
	struct gnl *g = gnl_open();
	int n = atoi(argv[3]);
	if (!g || (argc > 4 && gnl_record_generations(g, argv[4]) < 0)) {
		perror("guard_commits");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		struct gnl_error err;
		/* 198.51.100.0/24 then 203.0.113.0/24: documentation addresses only */
		uint32_t a = (i < 256 ? 0xc6336400u : 0xcb007100u) | (uint32_t)(i % 256);
		struct gset_elem e = { .family = FAMILY_V4, .addr = { 0, a }, .timeout_ms = 3600000 };
		gnl_batch_start(g);
		if (gset_batch_elems(g, argv[1], argv[2], &e, 1, GSET_ADD) < 0 || gnl_batch_commit(g, &err) < 0) {
			fprintf(stderr, "guard_commits: commit %d failed: error %d\n", i, err.err);
			gnl_close(g);
			return 1;
		}
	}
	gnl_close(g);
	return 0;
}
