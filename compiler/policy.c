/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy.c — the IR's own functions (policy.h): freeing a policy, kernel set names, lookups
 * and the provenance text of a prefix. resolve.c builds the IR; everything that reads it
 * calls these. */
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

void policy_free(struct policy *p)
{
	if (!p)
		return;
	arena_free(&p->arena);
	free(p);
}

void kset_name(char *buf, const struct ir_set *s, enum kset_kind kind)
{
	static const char *const suffix[] = { "_v4", "_v6", "_dns_v4", "_dns_v6" };
	snprintf(buf, KSET_NAME_MAX, "%s%s", s->name, suffix[kind]);
}

bool kset_present(const struct ir_set *s, enum kset_kind kind)
{
	switch (kind) {
	case KSET_V4: return s->n_v4 > 0;
	case KSET_V6: return s->n_v6 > 0;
	default: return s->n_names > 0 || s->n_regexes > 0;
	}
}

enum kset_kind rule_scope_kset(enum kset_kind kind)
{
	return kind == KSET_V4 || kind == KSET_DNS_V4 ? KSET_V4 : KSET_V6;
}

bool rule_kset_used(const struct ir_rule *r, enum kset_kind kind)
{
	return kset_present(r->set, kind) && (!r->scope || kset_present(r->scope, rule_scope_kset(kind)));
}

const struct ir_set *policy_find_set(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->n_sets; i++)
		if (!strcmp(p->sets[i].name, name))
			return &p->sets[i];
	return NULL;
}

/* Appends the decimal form of v; returns the length. */
static size_t put_uint(char *buf, unsigned v)
{
	char tmp[12];
	size_t n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

/* Hand-formatted: the nft backend calls this once per prefix, up to millions of times. */
size_t ir_prefix_sources(const struct ir_set *s, const struct ir_prefix *pr, char *buf, size_t max)
{
	size_t n = 0;
	const char *last_file = NULL;
	for (uint32_t i = 0; i < pr->origin_count; i++) {
		const struct loc *l = &s->origins[pr->origin_first + i];
		if (i > 0 && l->line == l[-1].line && l->file == last_file)
			continue;	/* two elements on one line */
		bool same_file = last_file && l->file && !strcmp(last_file, l->file);
		size_t flen = same_file || !l->file ? 0 : strlen(l->file);
		/* Keep room for "+NNNNNNNNNN" so a cut list still says how much is missing. */
		if (n + flen + 2 + 10 + 12 > max) {
			buf[n++] = '+';
			n += put_uint(buf + n, pr->origin_count - i);
			break;
		}
		if (i > 0)
			buf[n++] = ',';
		if (flen) {
			memcpy(buf + n, l->file, flen);
			n += flen;
			buf[n++] = ':';
		}
		n += put_uint(buf + n, l->line);
		last_file = l->file;
	}
	buf[n] = '\0';
	return n;
}
