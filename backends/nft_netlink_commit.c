/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nft_netlink_commit.c — one batch from build to verdict, including the case where the
 * answer got lost: then the kernel is asked what happened instead of guessing. */
#include "nft_netlink_sock_internal.h"

#include <errno.h>
#include <string.h>

/* When the acks were lost (ENOBUFS) the batch may or may not have been committed. An
 * unchanged generation says it was not; a moved one is ours only if the kernel now holds
 * exactly what the batch wanted. */
static void settle_unknown(struct nl_session *s, const struct nl_commit_opts *o, const struct nk_ruleset *want,
			   struct nl_result *res)
{
	uint32_t now;
	struct nk_ruleset live = { 0 };
	struct nk_delta d = { 0 };
	if (o->check_only || nl_genid(s, &now) < 0 || now == o->genid)
		return;
	if (nl_ruleset_read(s, want->table, want->mode, NL_READ_ELEMENTS, &live) == 0 &&
	    nk_delta_compute(want, &live, &d) == 0 && d.n_changes == 0) {
		res->committed = true;
		res->genid_after = live.genid;
	}
	nk_delta_free(&d);
	nk_ruleset_free(&live);
}

static int finish(struct nl_session *s, struct nl_batch *b, const struct nl_commit_opts *o,
		  const struct nk_ruleset *want, struct nl_result *res)
{
	int ret = nl_batch_send(s, b, o, res);
	int err = errno;
	if (ret < 0 && res->n_errors == 0 && want)
		settle_unknown(s, o, want, res);
	if (ret == 0 && res->committed && nl_genid(s, &res->genid_after) < 0)
		res->genid_after = 0;
	errno = err;
	return ret;
}

int nl_delta_commit(struct nl_session *s, const struct nk_delta *d, const struct nl_commit_opts *o,
		    struct nl_result *res)
{
	struct nl_batch b;
	memset(res, 0, sizeof(*res));
	nl_batch_init(&b, o->max_batch_bytes, s->seq + 1);
	int ret = -1;
	if (nl_batch_from_delta(&b, d, o->genid, o->check_only) < 0) {
		errno = b.error;
		goto out;
	}
	ret = finish(s, &b, o, d->want, res);
out:
	s->seq = b.seq_next;
	nl_batch_free(&b);
	return ret;
}

int nl_remove_commit(struct nl_session *s, const struct nk_ruleset *have, const struct nl_commit_opts *o,
		     struct nl_result *res)
{
	struct nl_batch b;
	memset(res, 0, sizeof(*res));
	nl_batch_init(&b, o->max_batch_bytes, s->seq + 1);
	nl_batch_begin(&b, o->genid);
	if (have->mode == NK_MODE_TABLE) {
		nl_msg_table_del(&b, have);
	} else {
		for (size_t i = 0; i < have->n_sets; i++)
			if (!have->sets[i].foreign)
				nl_msg_set_del(&b, have, &have->sets[i]);
	}
	if (!o->check_only)
		nl_batch_end(&b);
	int ret = -1;
	if (b.failed)
		errno = b.error;
	else if (nl_batch_messages(&b) > (size_t)(1 + !o->check_only))
		ret = finish(s, &b, o, NULL, res);
	else
		ret = 0;	/* nothing to remove */
	s->seq = b.seq_next;
	nl_batch_free(&b);
	return ret;
}
