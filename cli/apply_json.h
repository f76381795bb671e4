/* SPDX-License-Identifier: GPL-2.0-or-later */
/* apply_json.h — `pinhole apply --format json` and `pinhole remove --format json`: what a
 * run planned, sent and got back, as one JSON document on stdout for programs (the Ansible
 * module), made from the result of apply/ (apply.h): everything about the document's shape
 * is here (pinhole(8), APPLY, JSON output). */
#ifndef PINHOLE_APPLY_JSON_H
#define PINHOLE_APPLY_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "apply.h"
#include "diag.h"
#include "nft_netlink.h"

/* What one apply did, filled as it goes; rendered once at its end. */
struct apply_record {
	char table[256];		/* a copy (nf_tables names are < 256 bytes); "" until known */
	enum nk_mode mode;
	bool changed;			/* the plan has changes */
	bool committed, from_cache, unchanged_source, sent;
	uint32_t generation, generation_after;
	size_t messages, bytes;		/* the batch, when sent */
	long confirm_seconds;		/* 0: no pending confirmation was started */
	time_t confirm_deadline;
	json_t *plan, *counts, *errors;	/* owned */
};

/* Zeroes r. */
void apply_record_init(struct apply_record *r);
/* Frees what r owns. */
void apply_record_free(struct apply_record *r);

/* Records the plan of one attempt (a later attempt replaces it): table, mode, generation,
 * where the elements came from, the counts and the objects that change. want is what the
 * policy wants (plan points into it). */
void apply_record_plan(struct apply_record *r, const struct nl_plan *plan, const struct nk_ruleset *want);

/* Records what the kernel said to the batch of the last attempt: committed, the
 * generation after, the batch's size, and the errors it mapped to objects and lines. */
void apply_record_result(struct apply_record *r, const struct nl_result *res);

/* Records the unchanged-file shortcut: table at generation, answered without compiling. */
void apply_record_unchanged(struct apply_record *r, const char *table, enum nk_mode mode, uint32_t generation);

/* Records that a rollback timer of seconds was started, to roll back at deadline. */
void apply_record_confirm(struct apply_record *r, long seconds, time_t deadline);

/* Records what an apply's result says (its own events, not a rollback's): the plan and the
 * kernel's answer of its last attempt that got a plan (a later attempt replaces an earlier
 * one), the unchanged-file shortcut (its table's mode read through s: only a table pinhole
 * owns whole carries its mark), the confirmation's deadline. */
void apply_record_from(struct apply_record *rec, const struct apply_result *r, struct nl_session *s);

/* Writes the apply document to out, with the rules-file errors of d when the kernel
 * reported none (they are rendered on stderr as well). Returns 0, or -1 on ENOMEM or a
 * write error. */
int apply_record_print(const struct apply_record *r, bool dry_run, const struct diags *d, FILE *out);

/* What one remove did, table by table. */
struct remove_record {
	json_t *tables;			/* owned: one object per table considered */
};

/* Records one table: live as read (owned says whether pinhole had anything in it), and the
 * kernel's answer res (NULL when nothing was sent). done: the removal went through (or
 * was valid, for a dry run). */
void remove_record_table(struct remove_record *r, const struct nk_ruleset *live, bool owned,
			 const struct nl_result *res, bool done);

/* Records every table a removal's result considered (its own events, not a rollback's). */
void remove_record_from(struct remove_record *rec, const struct apply_result *r);

/* Writes the remove document to out: the one table's fields at the top (or, with several,
 * their sums, and null table and mode), and every table under "tables". Frees r's tables.
 * Returns 0, or -1 on ENOMEM or a write error. */
int remove_record_print(struct remove_record *r, bool dry_run, FILE *out);

#endif
