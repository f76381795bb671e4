/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nft_netlink_dump.c — reading what pinhole owns back from the kernel: the table, its base
 * chains and rules, its sets and (when asked, because it is the costly part) their
 * elements, all at one ruleset generation. */
#include "nft_netlink_sock_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>

#define READ_ATTEMPTS 5

struct read_ctx {
	struct nk_ruleset *rs;
	struct vec sets, chains;
	int err;		/* ENOMEM while parsing */
};

static char *dup_str(struct read_ctx *c, const char *s)
{
	char *d = s ? arena_strdup(&c->rs->arena, s) : NULL;
	if (s && !d)
		c->err = ENOMEM;
	return d;
}

/* ---- table ---- */

static int table_udata_cb(const struct nftnl_udata *attr, void *data)
{
	if (nftnl_udata_type(attr) == NFTNL_UDATA_TABLE_COMMENT)
		*(const struct nftnl_udata **)data = attr;
	return 0;
}

static bool table_marked(const struct nftnl_table *t)
{
	uint32_t len = 0;
	const void *ud = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);
	const struct nftnl_udata *cm = NULL;
	if (!ud || nftnl_udata_parse(ud, len, table_udata_cb, &cm) < 0 || !cm)
		return false;
	return nftnl_udata_len(cm) == sizeof(NK_TABLE_COMMENT) && !memcmp(nftnl_udata_get(cm), NK_TABLE_COMMENT,
									     sizeof(NK_TABLE_COMMENT));
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *c = data;
	struct nftnl_table *t = nftnl_table_alloc();
	if (!t || nftnl_table_nlmsg_parse(nlh, t) < 0) {
		nftnl_table_free(t);
		return MNL_CB_ERROR;
	}
	c->rs->table_exists = true;
	c->rs->table_handle = nftnl_table_get_u64(t, NFTNL_TABLE_HANDLE);
	c->rs->table_marked = table_marked(t);
	nftnl_table_free(t);
	return MNL_CB_OK;
}

static int read_table(struct nl_session *s, struct read_ctx *c)
{
	char buf[512];
	struct nftnl_table *t = nftnl_table_alloc();
	if (!t)
		return -1;
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, c->rs->family, NLM_F_ACK, ++s->seq);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, c->rs->table);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	int ret = nl_request(s, nlh, table_cb, c);
	if (ret < 0 && errno == ENOENT) {
		c->rs->table_exists = false;
		return 0;
	}
	return ret;
}

/* ---- chains and rules ---- */

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *c = data;
	struct nftnl_chain *nc = nftnl_chain_alloc();
	if (!nc || nftnl_chain_nlmsg_parse(nlh, nc) < 0) {
		nftnl_chain_free(nc);
		return MNL_CB_ERROR;
	}
	const char *table = nftnl_chain_get_str(nc, NFTNL_CHAIN_TABLE);
	struct nk_chain *ch = table && !strcmp(table, c->rs->table) ? vec_push(&c->chains, sizeof(*ch)) : NULL;
	if (ch) {
		ch->name = dup_str(c, nftnl_chain_get_str(nc, NFTNL_CHAIN_NAME));
		ch->handle = nftnl_chain_get_u64(nc, NFTNL_CHAIN_HANDLE);
		ch->base = nftnl_chain_is_set(nc, NFTNL_CHAIN_HOOKNUM);
		ch->hooknum = nftnl_chain_get_u32(nc, NFTNL_CHAIN_HOOKNUM);
		ch->priority = nftnl_chain_get_s32(nc, NFTNL_CHAIN_PRIO);
		ch->policy = nftnl_chain_is_set(nc, NFTNL_CHAIN_POLICY) ? nftnl_chain_get_u32(nc, NFTNL_CHAIN_POLICY)
									  : NF_ACCEPT;
		ch->type = dup_str(c, nftnl_chain_get_str(nc, NFTNL_CHAIN_TYPE));
	} else if (table && !strcmp(table, c->rs->table)) {
		c->err = ENOMEM;
	}
	nftnl_chain_free(nc);
	return MNL_CB_OK;
}

static int dump_request(struct nl_session *s, uint16_t type, struct read_ctx *c, mnl_cb_t cb,
			void (*payload)(struct nlmsghdr *, const char *table))
{
	char buf[512];
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, type, c->rs->family, NLM_F_DUMP, ++s->seq);
	payload(nlh, c->rs->table);
	int ret = nl_request(s, nlh, cb, c);
	if (ret == 0 && c->err) {
		errno = c->err;
		return -1;
	}
	return ret;
}

/* Dumps filtered by table name: the kernel answers only for that table. */
static void chain_filter(struct nlmsghdr *nlh, const char *table)
{
	mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, table);
}

static void rule_filter(struct nlmsghdr *nlh, const char *table)
{
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, table);
}

static void set_filter(struct nlmsghdr *nlh, const char *table)
{
	mnl_attr_put_strz(nlh, NFTA_SET_TABLE, table);
}

static struct nk_chain *chain_named(struct nk_ruleset *rs, const char *name)
{
	for (size_t i = 0; name && i < rs->n_chains; i++)
		if (!strcmp(rs->chains[i].name, name))
			return &rs->chains[i];
	return NULL;
}

static int rule_udata_cb(const struct nftnl_udata *attr, void *data)
{
	const struct nftnl_udata **tb = data;
	uint8_t type = nftnl_udata_type(attr);
	if (type == NFTNL_UDATA_RULE_COMMENT)
		tb[0] = attr;
	else if (type == NK_UDATA_RULE_FINGERPRINT && nftnl_udata_len(attr) == sizeof(uint64_t))
		tb[1] = attr;
	return 0;
}

static void rule_udata(struct read_ctx *c, struct nk_rule *r, const struct nftnl_rule *nr)
{
	uint32_t len = 0;
	const void *ud = nftnl_rule_get_data(nr, NFTNL_RULE_USERDATA, &len);
	const struct nftnl_udata *tb[2] = { 0 };
	if (!ud || nftnl_udata_parse(ud, len, rule_udata_cb, tb) < 0)
		return;
	if (tb[0] && nftnl_udata_len(tb[0]) > 0 && ((char *)nftnl_udata_get(tb[0]))[nftnl_udata_len(tb[0]) - 1] == '\0')
		r->comment = dup_str(c, nftnl_udata_get(tb[0]));
	if (tb[1])
		memcpy(&r->fingerprint, nftnl_udata_get(tb[1]), sizeof(r->fingerprint));
}

static bool rule_push(struct nk_chain *ch, struct nk_rule **out)
{
	/* rules arrive in chain order; grow by doubling (the capacity is not stored) */
	size_t n = ch->n_rules;
	if ((n & (n - 1)) == 0) {
		struct nk_rule *v = realloc(ch->rules, (n ? 2 * n : 1) * sizeof(*v));
		if (!v)
			return false;
		ch->rules = v;
	}
	*out = &ch->rules[ch->n_rules++];
	memset(*out, 0, sizeof(**out));
	return true;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *c = data;
	struct nftnl_rule *nr = nftnl_rule_alloc();
	if (!nr || nftnl_rule_nlmsg_parse(nlh, nr) < 0) {
		nftnl_rule_free(nr);
		return MNL_CB_ERROR;
	}
	const char *table = nftnl_rule_get_str(nr, NFTNL_RULE_TABLE);
	struct nk_chain *ch = table && !strcmp(table, c->rs->table)
				      ? chain_named(c->rs, nftnl_rule_get_str(nr, NFTNL_RULE_CHAIN))
				      : NULL;
	struct nk_rule *r;
	if (ch && !rule_push(ch, &r))
		c->err = ENOMEM;
	else if (ch) {
		r->handle = nftnl_rule_get_u64(nr, NFTNL_RULE_HANDLE);
		rule_udata(c, r, nr);
	}
	nftnl_rule_free(nr);
	return MNL_CB_OK;
}

/* ---- sets ---- */

static int set_udata_cb(const struct nftnl_udata *attr, void *data)
{
	if (nftnl_udata_type(attr) == NFTNL_UDATA_SET_COMMENT)
		*(const struct nftnl_udata **)data = attr;
	return 0;
}

static const char *set_comment(struct read_ctx *c, const struct nftnl_set *ns)
{
	uint32_t len = 0;
	const void *ud = nftnl_set_get_data(ns, NFTNL_SET_USERDATA, &len);
	const struct nftnl_udata *cm = NULL;
	if (!ud || nftnl_udata_parse(ud, len, set_udata_cb, &cm) < 0 || !cm || nftnl_udata_len(cm) == 0)
		return NULL;
	const char *s = nftnl_udata_get(cm);
	return s[nftnl_udata_len(cm) - 1] == '\0' ? dup_str(c, s) : NULL;
}

/* The kernel set's kind, as pinhole would have made it: interval sets hold the written
 * prefixes, timeout sets what the guard learns. */
static enum kset_kind set_kind(uint32_t flags, uint32_t key_len)
{
	bool v4 = key_len == 4;
	if (flags & NFT_SET_INTERVAL)
		return v4 ? KSET_V4 : KSET_V6;
	return v4 ? KSET_DNS_V4 : KSET_DNS_V6;
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *c = data;
	struct nftnl_set *ns = nftnl_set_alloc();
	if (!ns || nftnl_set_nlmsg_parse(nlh, ns) < 0) {
		nftnl_set_free(ns);
		return MNL_CB_ERROR;
	}
	const char *table = nftnl_set_get_str(ns, NFTNL_SET_TABLE);
	uint32_t flags = nftnl_set_get_u32(ns, NFTNL_SET_FLAGS);
	struct nk_set *s = NULL;
	/* anonymous sets belong to the rules that use them */
	if (table && !strcmp(table, c->rs->table) && !(flags & NFT_SET_ANONYMOUS) &&
	    !(s = vec_push(&c->sets, sizeof(*s))))
		c->err = ENOMEM;
	if (s) {
		s->name = dup_str(c, nftnl_set_get_str(ns, NFTNL_SET_NAME));
		s->handle = nftnl_set_get_u64(ns, NFTNL_SET_HANDLE);
		s->flags = flags;
		s->key_type = nftnl_set_get_u32(ns, NFTNL_SET_KEY_TYPE);
		s->key_len = nftnl_set_get_u32(ns, NFTNL_SET_KEY_LEN);
		s->kind = set_kind(flags, s->key_len);
		s->comment = set_comment(c, ns);
		s->foreign = c->rs->mode == NK_MODE_SETS_ONLY && s->name && !nk_set_is_ours(s->name, s->comment);
	}
	nftnl_set_free(ns);
	return MNL_CB_OK;
}

/* ---- one consistent read ---- */

static int read_objects(struct nl_session *s, struct read_ctx *c)
{
	if (read_table(s, c) < 0 || !c->rs->table_exists)
		return c->rs->table_exists ? -1 : 0;
	if (dump_request(s, NFT_MSG_GETSET, c, set_cb, set_filter) < 0)
		return -1;
	c->rs->sets = c->sets.v;
	c->rs->n_sets = c->sets.n;
	c->sets = (struct vec){ 0 };
	/* chains are read in sets-only mode too, only to know whether the table is empty;
	 * rules are pinhole's business in table mode only */
	if (dump_request(s, NFT_MSG_GETCHAIN, c, chain_cb, chain_filter) < 0)
		return -1;
	c->rs->chains = c->chains.v;
	c->rs->n_chains = c->chains.n;
	c->chains = (struct vec){ 0 };
	c->rs->table_empty = c->rs->n_sets == 0 && c->rs->n_chains == 0;
	if (c->rs->mode == NK_MODE_SETS_ONLY) {
		free(c->rs->chains);	/* the user's */
		c->rs->chains = NULL;
		c->rs->n_chains = 0;
		return 0;
	}
	return dump_request(s, NFT_MSG_GETRULE, c, rule_cb, rule_filter);
}

static int read_elements(struct nl_session *s, struct nk_ruleset *rs)
{
	for (size_t i = 0; i < rs->n_sets; i++) {
		struct nk_set *set = &rs->sets[i];
		if (set->foreign || !(set->flags & NFT_SET_INTERVAL) || (set->key_len != 4 && set->key_len != 16))
			continue;
		if (nl_set_read_elems(s, rs, set) < 0)
			return -1;
	}
	return 0;
}

static int read_once(struct nl_session *s, const char *table, enum nk_mode mode, enum nl_read_depth depth,
		     struct nk_ruleset *out, bool *stable)
{
	uint32_t before, after;
	struct read_ctx c = { .rs = out };
	memset(out, 0, sizeof(*out));
	out->family = NFPROTO_INET;
	out->mode = mode;
	out->table = arena_strdup(&out->arena, table);
	int ret = -1;
	if (!out->table) {
		errno = ENOMEM;
		goto out;
	}
	if (nl_genid(s, &before) < 0 || read_objects(s, &c) < 0)
		goto out;
	if (depth == NL_READ_ELEMENTS && out->table_exists && read_elements(s, out) < 0)
		goto out;
	if (nl_genid(s, &after) < 0)
		goto out;
	*stable = before == after;
	out->genid = before;
	ret = 0;
out:
	vec_free(&c.sets);
	vec_free(&c.chains);
	return ret;
}

int nl_ruleset_read(struct nl_session *s, const char *table, enum nk_mode mode, enum nl_read_depth depth,
		    struct nk_ruleset *out)
{
	for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
		bool stable = false;
		if (read_once(s, table, mode, depth, out, &stable) < 0) {
			int err = errno;
			nk_ruleset_free(out);
			errno = err;
			return -1;
		}
		if (stable)
			return 0;
		nk_ruleset_free(out);	/* someone committed while we read: read again */
	}
	errno = EAGAIN;
	return -1;
}
