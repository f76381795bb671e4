/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nft_netlink_policy.c — the kernel's ruleset read back as a policy (struct policy), so that
 * the review diff engine can say what apply would change in the words of a rules file:
 * sets with their prefixes (element comments give the sources back), rules decoded from
 * the expressions pinhole writes (nft_netlink_rule.c is the other half of this). */
#include "nft_netlink_sock_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PORT_RANGES 4096

/* A kernel rule in the words of an IR rule, when it has a shape pinhole writes. */
struct live_rule {
	enum ast_dir dir;
	char kset[NFT_SET_MAXNAMELEN];
	char scope[NFT_SET_MAXNAMELEN];	/* the other address's set (allow out from @X) */
	enum ast_proto proto;
	uint16_t port_lo, port_hi;	/* one port or range, when no anon set */
	bool has_port;
	char port_set[NFT_SET_MAXNAMELEN];	/* an anonymous set of ports */
	bool accept;
	char ifname[17];		/* iifname/oifname drop: a default_deny interface */
	bool reject;			/* ... that rejects (default_deny IFNAME reject) */
	bool unknown;			/* an expression pinhole does not write */
	const char *comment;
};

struct decode {
	enum { D_NONE, D_META_NFPROTO, D_META_L4, D_META_IFNAME, D_PAYLOAD_PORT, D_PAYLOAD_SCOPE } pending;
	bool v4;
	struct live_rule *r;
};

static void decode_meta(struct decode *d, struct nftnl_expr *e)
{
	uint32_t key = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY);
	d->pending = key == NFT_META_NFPROTO ? D_META_NFPROTO : key == NFT_META_L4PROTO ? D_META_L4 : D_NONE;
	if (key == NFT_META_IIFNAME || key == NFT_META_OIFNAME)
		d->pending = D_META_IFNAME;
	if (d->pending == D_NONE)
		d->r->unknown = true;
}

static void decode_cmp(struct decode *d, struct nftnl_expr *e)
{
	uint32_t len = 0, op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP);
	const uint8_t *data = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);
	if (d->pending == D_META_NFPROTO && op == NFT_CMP_EQ && len == 1) {
		d->v4 = data[0] == NFPROTO_IPV4;
	} else if (d->pending == D_META_L4 && op == NFT_CMP_EQ && len == 1 &&
		   (data[0] == IPPROTO_TCP || data[0] == IPPROTO_UDP)) {
		d->r->proto = data[0] == IPPROTO_TCP ? PROTO_TCP : PROTO_UDP;
	} else if (d->pending == D_META_IFNAME && op == NFT_CMP_EQ && len > 0 && len <= 16) {
		/* IFNAMSIZ bytes for a name, fewer for a "prefix*" wildcard */
		snprintf(d->r->ifname, sizeof(d->r->ifname), "%.*s%s", (int)strnlen((const char *)data, len), data,
			 len < 16 ? "*" : "");
	} else if (d->pending == D_PAYLOAD_PORT && len == 2) {
		uint16_t port = (uint16_t)(data[0] << 8 | data[1]);
		if (op == NFT_CMP_EQ || op == NFT_CMP_GTE)
			d->r->port_lo = d->r->port_hi = port;
		else if (op == NFT_CMP_LTE)
			d->r->port_hi = port;
		else
			d->r->unknown = true;
		d->r->has_port = true;
		return;	/* a range is two cmps in a row */
	} else {
		d->r->unknown = true;
	}
	d->pending = D_NONE;
}

static void decode_payload(struct decode *d, struct nftnl_expr *e)
{
	uint32_t base = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE);
	uint32_t off = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
	bool addr = base == NFT_PAYLOAD_NETWORK_HEADER && (d->v4 ? off == 12 || off == 16 : off == 8 || off == 24);
	if (addr && d->r->kset[0])	/* the second address: the scope, after the set's lookup */
		d->pending = D_PAYLOAD_SCOPE;
	else if (addr)
		d->r->dir = (off == 12 || off == 8) ? DIR_IN : DIR_OUT;
	else if (base == NFT_PAYLOAD_TRANSPORT_HEADER && off == 2)
		d->pending = D_PAYLOAD_PORT;
	else
		d->r->unknown = true;
}

static int decode_expr(struct nftnl_expr *e, void *data)
{
	struct decode *d = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	if (!strcmp(name, "meta")) {
		decode_meta(d, e);
	} else if (!strcmp(name, "cmp")) {
		decode_cmp(d, e);
	} else if (!strcmp(name, "payload")) {
		decode_payload(d, e);
	} else if (!strcmp(name, "lookup")) {
		const char *set = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
		snprintf(d->pending == D_PAYLOAD_PORT ? d->r->port_set : d->pending == D_PAYLOAD_SCOPE ? d->r->scope : d->r->kset,
			 NFT_SET_MAXNAMELEN, "%s", set);
		d->pending = D_NONE;
	} else if (!strcmp(name, "immediate")) {
		d->r->accept = nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT) == NF_ACCEPT;
	} else if (!strcmp(name, "reject")) {
		d->r->reject = true;
	} else if (strcmp(name, "counter")) {
		d->r->unknown = true;	/* ct, bitwise: the default_deny rules, not IR rules */
	}
	return 0;
}

struct rules_ctx {
	struct nk_ruleset *rs;
	struct live_rule *v;
	size_t n, cap;
	int err;
};

static const char *rule_comment_of(struct nk_ruleset *rs, const struct nftnl_rule *nr)
{
	uint32_t len = 0;
	const unsigned char *ud = nftnl_rule_get_data(nr, NFTNL_RULE_USERDATA, &len);
	for (uint32_t i = 0; ud && i + 2 <= len && i + 2 + ud[i + 1] <= len; i += 2 + ud[i + 1])
		if (ud[i] == NFTNL_UDATA_RULE_COMMENT && ud[i + 1] && ud[i + 2 + ud[i + 1] - 1] == '\0')
			return arena_strdup(&rs->arena, (const char *)ud + i + 2);
	return NULL;
}

static int rules_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rules_ctx *c = data;
	struct nftnl_rule *nr = nftnl_rule_alloc();
	if (!nr || nftnl_rule_nlmsg_parse(nlh, nr) < 0) {
		nftnl_rule_free(nr);
		return MNL_CB_ERROR;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct live_rule *v = realloc(c->v, cap * sizeof(*v));
		if (!v) {
			c->err = ENOMEM;
			nftnl_rule_free(nr);
			return MNL_CB_ERROR;
		}
		c->v = v;
		c->cap = cap;
	}
	struct live_rule *r = &c->v[c->n++];
	struct decode d = { .v4 = true, .r = r };
	memset(r, 0, sizeof(*r));
	nftnl_expr_foreach(nr, decode_expr, &d);
	r->comment = rule_comment_of(c->rs, nr);
	r->unknown |= !r->accept || !r->kset[0];
	nftnl_rule_free(nr);
	return MNL_CB_OK;
}

static int read_rules(struct nl_session *s, struct nk_ruleset *rs, struct rules_ctx *c)
{
	char buf[512];
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, rs->family, NLM_F_DUMP, ++s->seq);
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, rs->table);
	c->rs = rs;
	int ret = nl_request(s, nlh, rules_cb, c);
	if (ret == 0 && c->err) {
		errno = c->err;
		ret = -1;
	}
	return ret;
}

/* ---- building the policy ---- */

struct build {
	struct policy *p;
	const struct nk_ruleset *live;
	const struct policy *want;
	bool oom;
};

static void *alloc(struct build *b, size_t n)
{
	void *m = arena_alloc(&b->p->arena, n ? n : 1);
	b->oom |= !m;
	return m;
}

/* "file:line,line,file2:line" → locs; the file names go into the policy's arena. */
static size_t parse_sources(struct build *b, const char *c, struct loc *out, size_t max)
{
	const char *file = NULL;
	size_t n = 0;
	while (c && *c && n < max) {
		size_t len = strcspn(c, ",");
		const char *colon = NULL;
		for (size_t i = 0; i < len; i++)
			if (c[i] == ':')
				colon = c + i;
		if (colon && colon > c) {
			file = arena_strndup(&b->p->arena, c, (size_t)(colon - c));
			b->oom |= !file;
		}
		const char *num = colon ? colon + 1 : c;
		if (file && *num >= '0' && *num <= '9')
			out[n++] = (struct loc){ file, (unsigned)strtoul(num, NULL, 10), 0 };
		c += len + (c[len] == ',');
	}
	return n;
}

static size_t count_sources(const char *c)
{
	size_t n = 1;
	for (; c && *c; c++)
		n += *c == ',';
	return n;
}

/* The base name of a kernel set pinhole made, and which of its kinds it is. */
static bool kset_base(const char *kname, char *base, enum kset_kind *kind)
{
	static const char *const suffix[] = { "_dns_v4", "_dns_v6", "_v4", "_v6" };
	static const enum kset_kind kinds[] = { KSET_DNS_V4, KSET_DNS_V6, KSET_V4, KSET_V6 };
	size_t len = strlen(kname);
	for (int i = 0; i < 4; i++) {
		size_t sl = strlen(suffix[i]);
		if (len > sl && !strcmp(kname + len - sl, suffix[i])) {
			snprintf(base, NFT_SET_MAXNAMELEN, "%.*s", (int)(len - sl), kname);
			*kind = kinds[i];
			return true;
		}
	}
	return false;
}

static void fill_prefixes(struct build *b, struct ir_set *s, const struct nk_set *k, size_t *n_origins)
{
	struct ir_prefix *v = alloc(b, k->n_elems * sizeof(*v));
	for (size_t i = 0; v && i < k->n_elems; i++) {
		const char *c = k->elems[i].comment;
		size_t max = count_sources(c);
		struct loc *locs = alloc(b, max * sizeof(*locs));
		size_t n = locs ? parse_sources(b, c, locs, max) : 0;
		if (n == 0 && locs)
			locs[n++] = (struct loc){ 0 };	/* unknown source (cache, or someone else's element) */
		for (size_t j = 0; j < n; j++)
			s->origins[*n_origins + j] = locs ? locs[j] : (struct loc){ 0 };
		v[i] = (struct ir_prefix){ k->elems[i].prefix, (uint32_t)*n_origins, (uint32_t)n };
		*n_origins += n;
	}
	if (k->kind == KSET_V4) {
		s->v4 = v;
		s->n_v4 = v ? k->n_elems : 0;
	} else {
		s->v6 = v;
		s->n_v6 = v ? k->n_elems : 0;
	}
}

static size_t origins_needed(const struct nk_ruleset *live, const char *base)
{
	size_t n = 0;
	char b[NFT_SET_MAXNAMELEN];
	enum kset_kind kind;
	for (size_t i = 0; i < live->n_sets; i++)
		if (!live->sets[i].foreign && kset_base(live->sets[i].name, b, &kind) && !strcmp(b, base) &&
		    kind <= KSET_V6)
			for (size_t e = 0; e < live->sets[i].n_elems; e++)
				n += count_sources(live->sets[i].elems[e].comment);
	return n;
}

/* The kernel has no names: a set whose learnt sets exist holds, as far as the kernel can
 * tell, the names the policy gives it (the guard's business); see pinhole(8). */
static void copy_names(struct ir_set *s, const struct policy *want)
{
	const struct ir_set *w = want ? policy_find_set(want, s->name) : NULL;
	if (!w)
		return;
	s->names = w->names;
	s->n_names = w->n_names;
	s->regexes = w->regexes;
	s->n_regexes = w->n_regexes;
}

static struct ir_set *set_for(struct build *b, const char *base)
{
	for (size_t i = 0; i < b->p->n_sets; i++)
		if (!strcmp(b->p->sets[i].name, base))
			return &b->p->sets[i];
	struct ir_set *s = &b->p->sets[b->p->n_sets++];
	memset(s, 0, sizeof(*s));
	s->name = arena_strdup(&b->p->arena, base);
	s->origins = alloc(b, origins_needed(b->live, base) * sizeof(*s->origins));
	b->oom |= !s->name;
	return s;
}

static void set_loc(struct build *b, struct ir_set *s, const char *comment)
{
	/* "set NAME, FILE:LINE" */
	const char *comma = comment ? strstr(comment, ", ") : NULL;
	struct loc l;
	if (comma && !s->loc.file && parse_sources(b, comma + 2, &l, 1) == 1)
		s->loc = l;
}

static void build_sets(struct build *b)
{
	b->p->sets = alloc(b, b->live->n_sets * sizeof(*b->p->sets));
	size_t *n_origins = calloc(b->live->n_sets + 1, sizeof(*n_origins));
	b->oom |= !n_origins;
	for (size_t i = 0; b->p->sets && n_origins && i < b->live->n_sets && !b->oom; i++) {
		const struct nk_set *k = &b->live->sets[i];
		char base[NFT_SET_MAXNAMELEN];
		enum kset_kind kind;
		if (k->foreign || !kset_base(k->name, base, &kind))
			continue;
		struct ir_set *s = set_for(b, base);
		if (kind <= KSET_V6) {
			fill_prefixes(b, s, k, &n_origins[s - b->p->sets]);
			set_loc(b, s, k->comment);
		} else {
			copy_names(s, b->want);
		}
	}
	for (size_t i = 0; n_origins && b->p->sets && i < b->p->n_sets; i++)
		b->p->sets[i].n_origins = n_origins[i];
	free(n_origins);
}

/* ---- rules ---- */

static int port_ranges(struct nl_session *s, struct nk_ruleset *rs, const char *set, struct port_range *out,
		       size_t *n)
{
	struct nk_raw_elem *v = NULL;
	size_t nv = 0;
	*n = 0;
	if (nl_set_dump_raw(s, rs, set, 2, &v, &nv) < 0)
		return -1;
	for (size_t i = 0; i < nv && *n < MAX_PORT_RANGES; i++) {
		if (v[i].end)
			continue;
		bool closed = i + 1 < nv && v[i + 1].end;
		out[(*n)++] = (struct port_range){ (uint16_t)v[i].key.lo, closed ? (uint16_t)(v[i + 1].key.lo - 1) : 65535 };
		i += closed;
	}
	free(v);
	return 0;
}

/* "COMMENT (file:line)" or "file:line" → the comment and the loc. */
static void split_comment(struct build *b, const char *c, struct ir_rule *r)
{
	const char *open = c ? strrchr(c, '(') : NULL;
	size_t len = c ? strlen(c) : 0;
	struct loc l = { 0 };
	if (open && len && c[len - 1] == ')' && open > c && open[-1] == ' ') {
		char *src = arena_strndup(&b->p->arena, open + 1, (size_t)(c + len - 1 - open - 1));
		if (src && parse_sources(b, src, &l, 1) == 1)
			r->loc = l;
		r->comment = arena_strndup(&b->p->arena, c, (size_t)(open - 1 - c));
	} else if (c && parse_sources(b, c, &l, 1) == 1) {
		r->loc = l;
	} else {
		r->comment = c;
	}
}

static bool same_rule(const struct ir_rule *a, const struct ir_rule *x)
{
	if (a->dir != x->dir || a->set != x->set || a->scope != x->scope || a->proto != x->proto ||
	    a->n_ports != x->n_ports)
		return false;
	if (a->loc.line != x->loc.line || (a->comment == NULL) != (x->comment == NULL) ||
	    (a->comment && strcmp(a->comment, x->comment)))
		return false;
	return a->n_ports == 0 || !memcmp(a->ports, x->ports, a->n_ports * sizeof(*a->ports));
}

/* One IR rule per distinct (direction, set, protocol, ports, comment): the kernel holds it
 * once per kernel set and chain. */
static int add_rule(struct build *b, struct nl_session *s, struct nk_ruleset *rs, const struct live_rule *lr)
{
	char base[NFT_SET_MAXNAMELEN];
	enum kset_kind kind;
	struct port_range ports[MAX_PORT_RANGES];
	size_t n_ports = 0;
	if (lr->unknown || !kset_base(lr->kset, base, &kind))
		return 0;
	const struct ir_set *set = policy_find_set(b->p, base), *scope = NULL;
	if (!set)
		return 0;
	if (lr->scope[0] && (!kset_base(lr->scope, base, &kind) || !(scope = policy_find_set(b->p, base))))
		return 0;
	if (lr->port_set[0] && port_ranges(s, rs, lr->port_set, ports, &n_ports) < 0)
		return -1;
	if (lr->has_port)
		ports[n_ports++] = (struct port_range){ lr->port_lo, lr->port_hi };
	struct ir_rule r = { .dir = lr->dir, .set = set, .scope = scope, .proto = lr->proto, .n_ports = n_ports };
	r.ports = alloc(b, n_ports * sizeof(*r.ports));
	if (r.ports)
		memcpy(r.ports, ports, n_ports * sizeof(*ports));
	split_comment(b, lr->comment, &r);
	for (size_t i = 0; i < b->p->n_rules; i++)
		if (same_rule(&b->p->rules[i], &r))
			return 0;
	b->p->rules[b->p->n_rules++] = r;
	return 0;
}

/* iifname/oifname NAME drop: the interface is in default_deny's scope. */
static void add_deny_iface(struct build *b, const struct live_rule *lr)
{
	struct policy *p = b->p;
	for (size_t i = 0; i < p->n_deny_ifaces; i++)
		if (!strcmp(p->deny_ifaces[i], lr->ifname)) {
			p->deny_reject[i] |= lr->reject;
			return;
		}
	if (p->n_deny_ifaces < POLICY_MAX_DENY_IFACES && (p->deny_ifaces[p->n_deny_ifaces] =
								  arena_strdup(&p->arena, lr->ifname))) {
		p->deny_reject[p->n_deny_ifaces] = lr->reject;
		p->n_deny_ifaces++;
	}
}

static int build_rules(struct build *b, struct nl_session *s, struct nk_ruleset *rs, size_t *n_unknown)
{
	struct rules_ctx c = { 0 };
	int ret = rs->mode == NK_MODE_TABLE && rs->table_exists ? read_rules(s, rs, &c) : 0;
	b->p->rules = alloc(b, c.n * sizeof(*b->p->rules));
	for (size_t i = 0; ret == 0 && b->p->rules && i < c.n; i++) {
		*n_unknown += c.v[i].unknown && c.v[i].kset[0];
		if (c.v[i].ifname[0] && !c.v[i].accept && !c.v[i].kset[0])
			add_deny_iface(b, &c.v[i]);
		ret = add_rule(b, s, rs, &c.v[i]);
	}
	free(c.v);
	return ret;
}

struct policy *nl_ruleset_policy(struct nl_session *s, struct nk_ruleset *live, const struct policy *want,
				 size_t *n_unknown)
{
	struct policy *p = calloc(1, sizeof(*p));
	struct build b = { .p = p, .live = live, .want = want };
	*n_unknown = 0;
	if (!p)
		return NULL;
	p->table = arena_strdup(&p->arena, live->table);
	p->mode = live->mode == NK_MODE_SETS_ONLY ? POLICY_MODE_SETS_ONLY : POLICY_MODE_TABLE;
	/* The guard's steering chains sit one step before pinhole's on purpose; they are not
	 * the policy's priority. */
	for (size_t i = 0; i < live->n_chains; i++)
		if (live->chains[i].base && !nk_is_guard_chain(live->chains[i].name))
			p->priority = live->chains[i].priority;
	if (live->table_exists)
		build_sets(&b);
	if (b.oom || !p->table || (live->table_exists && build_rules(&b, s, live, n_unknown) < 0) || b.oom) {
		int err = b.oom ? ENOMEM : errno;
		policy_free(p);
		errno = err;
		return NULL;
	}
	return p;
}
