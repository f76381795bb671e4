/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nft_netlink_error.c — a kernel error for one message of a batch, told in the policy's
 * words: which object or element, and the rules-file line that produced it. */
#include "nft_netlink_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Which kernel element of the message the bad attribute offset points into; -1 if none. */
static long elem_at_offset(const struct nlmsghdr *nlh, uint32_t offset)
{
	const struct nlattr *a, *e;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		long k = 0;
		mnl_attr_for_each_nested(e, a) {
			uint32_t start = (uint32_t)((const char *)e - (const char *)nlh);
			if (offset >= start && offset < start + e->nla_len)
				return k;
			k++;
		}
	}
	return -1;
}

static bool elem_is_end(const struct nlattr *e)
{
	const struct nlattr *a;
	mnl_attr_for_each_nested(a, e)
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_FLAGS && mnl_attr_get_payload_len(a) == 4)
			return ntohl(mnl_attr_get_u32(a)) & NFT_SET_ELEM_INTERVAL_END;
	return false;
}

/* Kernel element k of the message belongs to the prefix whose start element came last
 * at or before it: each prefix is a start element and maybe an end element. */
static long prefix_of_elem(const struct nlmsghdr *nlh, long k)
{
	const struct nlattr *a, *e;
	long prefix = -1, i = 0;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(e, a) {
			if (!elem_is_end(e))
				prefix++;
			if (i++ == k)
				return prefix;
		}
	}
	return -1;
}

static struct loc elem_loc(const struct nk_set *s, const struct nk_elem *e)
{
	if (!s->origin || !e->origin || e->origin->origin_count == 0)
		return (struct loc){ 0 };
	return s->origin->origins[e->origin->origin_first];
}

static char *describe_elems(const struct nl_origin *o, uint32_t offset, struct loc *loc)
{
	long k = offset ? elem_at_offset(o->msg, offset) : -1;
	long p = k >= 0 ? prefix_of_elem(o->msg, k) : -1;
	const char *verb = o->type == NFT_MSG_DELSETELEM ? "deleting" : "adding";
	char *what = NULL, text[CIDR_TEXT_MAX];
	if (p >= 0 && (size_t)p < o->elem_count) {
		size_t i = o->elem_first + (size_t)p;
		const struct nk_elem *e = &o->set->elems[o->elem_index ? o->elem_index[i] : i];
		cidr_format_prefix(text, &e->prefix);
		*loc = elem_loc(o->set, e);
		return asprintf(&what, "%s element %s of set %s", verb, text, o->set->name) < 0 ? NULL : what;
	}
	if (o->elem_count) {
		size_t i = o->elem_first;
		*loc = elem_loc(o->set, &o->set->elems[o->elem_index ? o->elem_index[i] : i]);
	}
	return asprintf(&what, "%s %zu elements of set %s", verb, o->elem_count, o->set->name) < 0 ? NULL : what;
}

static const char *verb_of(uint16_t type)
{
	switch (type) {
	case NFT_MSG_NEWTABLE: case NFT_MSG_NEWCHAIN: case NFT_MSG_NEWSET: case NFT_MSG_NEWRULE: return "creating";
	default: return "deleting";
	}
}

static char *describe(const struct nl_origin *o, uint32_t offset, struct loc *loc)
{
	char *what = NULL, text[512];
	bool elems = o->type == NFT_MSG_NEWSETELEM || o->type == NFT_MSG_DELSETELEM;
	int n = -1;
	if (o->type == NFNL_MSG_BATCH_BEGIN)
		return strdup("the batch");
	if (elems && !o->rule)	/* with a rule: the anonymous set of its port list */
		return describe_elems(o, offset, loc);
	if (o->rule) {
		nk_rule_format(o->rule, text, sizeof(text));
		if (o->rule->origin)
			*loc = o->rule->origin->loc;
		n = asprintf(&what, "%s rule '%s' in chain %s", o->type == NFT_MSG_DELRULE ? "deleting" : "creating",
			     text, o->chain->name);
	} else if (o->chain) {
		n = asprintf(&what, "%s chain %s", verb_of(o->type), o->chain->name);
	} else if (o->set) {
		if (o->set->origin)
			*loc = o->set->origin->loc;
		n = asprintf(&what, "%s set %s", verb_of(o->type), o->set->name);
	} else {
		n = asprintf(&what, "%s table inet %s", verb_of(o->type), o->table);
	}
	return n < 0 ? NULL : what;
}

/* What an errno means for the message that got it: the kernel's codes are terse and
 * reused (ENFILE is "set full", not "too many open files"). */
static const char *reason_of(const struct nl_origin *o, int err)
{
	bool elems = o && (o->type == NFT_MSG_NEWSETELEM || o->type == NFT_MSG_DELSETELEM);
	switch (err) {
	case ENFILE: return elems ? "the set is full (its size limit)" : "a kernel limit is reached";
	case EEXIST: return elems ? "the element, or one overlapping it, is there already" : "it exists already";
	case ENOENT: return o && o->type == NFT_MSG_DELSETELEM ? "the element is not there" : "it does not exist";
	case EBUSY: return "it is in use (a rule refers to it)";
	case ERESTART: return "the ruleset changed since pinhole read it";
	case EOPNOTSUPP: return "this kernel does not support it";
	case ENOMEM: return "the kernel is out of memory";
	default: return strerror(err);
	}
}

int nl_error_describe(const struct nl_batch *b, uint32_t seq, int err, const char *ext_msg, uint32_t bad_offset,
		      struct nl_error *e)
{
	const struct nl_origin *o = nl_batch_origin(b, seq);
	memset(e, 0, sizeof(*e));
	e->err = err;
	e->reason = reason_of(o, err);
	e->what = o ? describe(o, bad_offset, &e->loc) : strdup("a message pinhole did not send");
	e->message = ext_msg ? strdup(ext_msg) : NULL;
	if (!e->what || (ext_msg && !e->message)) {
		free(e->what);
		free(e->message);
		return -1;
	}
	return 0;
}
