/* iptables.c — the three files iptables-persistent and ipset-persistent load: DIR/ipsets
 * (ipset restore), DIR/rules.v4 (iptables-restore) and DIR/rules.v6 (ip6tables-restore).
 *
 * Prefixes go into hash:net sets; names cannot be matched by iptables at all, so a rule on a
 * set with names matches the hash:ip sets (with timeout support) that pinhole guard fills
 * with the addresses it learns for them, and says so in a warning. The set names are the
 * nft backend's (kset_name), so the guard finds them under the same names. */
#include "backend.h"

#include <string.h>

#define IPSET_NAME_MAX 31	/* IPSET_MAXNAMELEN is 32 with the NUL */
#define IPSET_COMMENT_MAX 256	/* IPSET_MAX_COMMENT_SIZE is 255 plus the NUL */
#define XT_CHAIN_MAX 28		/* XT_EXTENSION_MAXNAMELEN is 29 with the NUL */
#define XT_COMMENT_MAX 256	/* XT_MAX_COMMENT_LEN */
#define MULTIPORT_SLOTS 15	/* XT_MULTI_PORTS; a range takes two */
#define NEW_SUFFIX "-new"	/* '-' never occurs in a set name, so no clash */

static const char *const hooks[] = { "INPUT", "FORWARD", "OUTPUT" };
static const char *const chain_suffix[] = { "-input", "-forward", "-output" };
/* iptables-save lists user chains by name; the same order makes a saved table read like
 * this file, so a reviewer can diff the two. */
static const size_t saved_order[] = { 1, 0, 2 };

/* Which chain sees which rule: as in the nft backend, "out" rules meet locally sent traffic
 * (OUTPUT) and routed traffic (FORWARD), "in" rules locally received (INPUT) and routed. */
static bool rule_in_hook(const struct ir_rule *r, size_t hook)
{
	return hook == 1 || hook == (r->dir == DIR_OUT ? 2u : 0u);
}

static void chain_name(char *buf, size_t max, const struct policy *p, size_t hook)
{
	snprintf(buf, max, "%s%s", p->table, chain_suffix[hook]);
}

/* ipset and iptables take quoted strings without any escape: keep quotes and backslashes out. */
static void sanitize_quoted(char *s)
{
	for (; *s; s++)
		if (*s == '"' || *s == '\\')
			*s = '\'';
}

/* Errors for names the kernel would refuse; they depend only on the policy's names. */
static int check_lengths(const struct policy *p, struct diags *d)
{
	int ret = 0;
	char name[KSET_NAME_MAX];
	for (size_t i = 0; i < p->n_sets; i++) {
		const struct ir_set *s = &p->sets[i];
		for (enum kset_kind k = KSET_V4; k <= KSET_DNS_V6; k++) {
			kset_name(name, s, k);
			size_t len = strlen(name) + (k <= KSET_V6 ? strlen(NEW_SUFFIX) : 0);
			if (!kset_present(s, k) || len <= IPSET_NAME_MAX)
				continue;
			diag_error(d, s->loc, "iptables: ipset name '%s%s' is longer than %d characters", name,
				   k <= KSET_V6 ? NEW_SUFFIX : "", IPSET_NAME_MAX);
			diag_hint(d, "shorten the set's name to at most %zu characters",
				  strlen(s->name) - (len - IPSET_NAME_MAX));
			ret = -1;
			break;
		}
	}
	char chain[KSET_NAME_MAX + 16];
	chain_name(chain, sizeof(chain), p, 1);
	if (p->n_rules > 0 && strlen(chain) > XT_CHAIN_MAX) {
		diag_error(d, p->rules[0].loc, "iptables: chain name '%s' (from option table) is longer than %d characters",
			   chain, XT_CHAIN_MAX);
		ret = -1;
	}
	return ret;
}

/* hash:net cannot hold a /0, so the whole address space is stored as its two halves. */
static void emit_member(FILE *out, const char *set, const struct prefix *pr, const char *src)
{
	char text[CIDR_TEXT_MAX];
	if (pr->len > 0) {
		cidr_format_prefix(text, pr);
		fprintf(out, "add %s%s %s comment \"%s\"\n", set, NEW_SUFFIX, text, src);
		return;
	}
	struct prefix half = { .family = pr->family, .len = 1 };
	for (int i = 0; i < 2; i++) {
		if (i == 1 && pr->family == FAMILY_V4)
			half.addr.lo = 0x80000000u;
		else if (i == 1)
			half.addr.hi = 0x8000000000000000u;
		cidr_format_prefix(text, &half);
		fprintf(out, "add %s%s %s comment \"%s\"\n", set, NEW_SUFFIX, text, src);
	}
}

/* Fills a fresh copy and swaps it in, so a reload replaces the members in one step and a
 * set that iptables rules reference never has to be destroyed. -exist makes the creates
 * succeed when the sets are already there (ipset refuses it only if their type changed). */
static void emit_static_ipset(const struct ir_set *s, enum kset_kind k, FILE *out)
{
	const char *family = k == KSET_V4 ? "inet" : "inet6";
	const struct ir_prefix *v = k == KSET_V4 ? s->v4 : s->v6;
	size_t n = k == KSET_V4 ? s->n_v4 : s->n_v6;
	char name[KSET_NAME_MAX], src[IPSET_COMMENT_MAX];
	kset_name(name, s, k);
	fprintf(out, "# set %s, %s:%u\n", s->name, s->loc.file, s->loc.line);
	fprintf(out, "create %s hash:net family %s comment -exist\n", name, family);
	fprintf(out, "create %s%s hash:net family %s comment -exist\n", name, NEW_SUFFIX, family);
	fprintf(out, "flush %s%s\n", name, NEW_SUFFIX);
	for (size_t i = 0; i < n; i++) {
		ir_prefix_sources(s, &v[i], src, sizeof(src));
		sanitize_quoted(src);
		emit_member(out, name, &v[i].prefix, src);
	}
	fprintf(out, "swap %s%s %s\ndestroy %s%s\n", name, NEW_SUFFIX, name, name, NEW_SUFFIX);
}

/* timeout 0 gives the set timeout support with permanent entries by default, like the nft
 * set's "flags timeout": the guard sets each address's own timeout from the DNS TTL.
 * Reloading only re-creates it (-exist), so the addresses already learnt stay. */
static void emit_dynamic_ipset(const struct ir_set *s, enum kset_kind k, FILE *out)
{
	char name[KSET_NAME_MAX];
	kset_name(name, s, k);
	fprintf(out, "# learnt by pinhole guard for the names of set %s\n", s->name);
	fprintf(out, "create %s hash:ip family %s timeout 0 -exist\n", name, k == KSET_DNS_V4 ? "inet" : "inet6");
}

static int emit_ipsets(const struct policy *p, FILE *out)
{
	fprintf(out, "# Generated by pinhole %s. Do not edit: change the rules file and compile again.\n",
		PINHOLE_VERSION);
	fprintf(out, "# Load with 'ipset restore -file ipsets' before rules.v4 and rules.v6. Loading again\n"
		     "# replaces the prefix sets' members atomically and keeps the addresses learnt at run time.\n");
	for (size_t i = 0; i < p->n_sets; i++)
		for (enum kset_kind k = KSET_V4; k <= KSET_DNS_V6; k++) {
			if (!kset_present(&p->sets[i], k))
				continue;
			if (k <= KSET_V6)
				emit_static_ipset(&p->sets[i], k, out);
			else
				emit_dynamic_ipset(&p->sets[i], k, out);
		}
	return ferror(out) ? -1 : 0;
}

/* Writes ports [*next ..) that fit one multiport match and advances *next. */
static void emit_ports(const struct ir_rule *r, size_t *next, FILE *out)
{
	const char *proto = r->proto == PROTO_TCP ? "tcp" : "udp";
	const struct port_range *pr = &r->ports[*next];
	if (r->n_ports == 1) {
		fprintf(out, " -m %s --dport %u", proto, pr->lo);
		if (pr->hi != pr->lo)
			fprintf(out, ":%u", pr->hi);
		*next = 1;
		return;
	}
	fprintf(out, " -m multiport --dports ");
	for (int slots = 0; *next < r->n_ports; (*next)++, pr++) {
		int need = pr->hi != pr->lo ? 2 : 1;
		if (slots + need > MULTIPORT_SLOTS)
			break;
		fprintf(out, "%s%u", slots ? "," : "", pr->lo);
		if (pr->hi != pr->lo)
			fprintf(out, ":%u", pr->hi);
		slots += need;
	}
}

/* One line per kernel set and per multiport chunk, in iptables-save's own order of
 * options so that a saved ruleset reads the same as this file. */
static void emit_rule(const struct policy *p, const struct ir_rule *r, size_t hook, enum kset_kind k, FILE *out)
{
	char chain[KSET_NAME_MAX + 16], set[KSET_NAME_MAX], comment[XT_COMMENT_MAX];
	chain_name(chain, sizeof(chain), p, hook);
	kset_name(set, r->set, k);
	rule_comment(r, comment, sizeof(comment));
	size_t next = 0;
	do {
		fprintf(out, "-A %s", chain);
		if (r->proto != PROTO_ANY)
			fprintf(out, " -p %s", r->proto == PROTO_TCP ? "tcp" : "udp");
		fprintf(out, " -m set --match-set %s %s", set, r->dir == DIR_OUT ? "dst" : "src");
		if (r->proto != PROTO_ANY && r->n_ports > 0)
			emit_ports(r, &next, out);
		fprintf(out, " -m comment --comment \"%s\" -j ACCEPT\n", comment);
	} while (r->proto != PROTO_ANY && next < r->n_ports);
}

static bool hook_used(const struct policy *p, size_t hook)
{
	for (size_t i = 0; i < p->n_rules; i++)
		if (rule_in_hook(&p->rules[i], hook))
			return true;
	return false;
}

/* A whole filter table, as iptables-persistent expects: iptables-restore replaces the table
 * in one commit, so loading the file twice leaves exactly one copy of everything. The
 * built-in chains keep policy ACCEPT, like the nft backend's "policy accept". */
static int emit_rules(const struct policy *p, int family, FILE *out)
{
	const enum kset_kind kinds[2] = { family == FAMILY_V4 ? KSET_V4 : KSET_V6,
					  family == FAMILY_V4 ? KSET_DNS_V4 : KSET_DNS_V6 };
	char chain[KSET_NAME_MAX + 16];
	fprintf(out, "# Generated by pinhole %s. Do not edit: change the rules file and compile again.\n",
		PINHOLE_VERSION);
	fprintf(out, "# Load with '%s rules.v%d' after 'ipset restore -file ipsets'. It replaces the whole\n"
		     "# filter table, as every iptables-persistent file does.\n",
		family == FAMILY_V4 ? "iptables-restore" : "ip6tables-restore", family);
	fprintf(out, "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n");
	for (size_t j = 0; j < 3; j++) {
		chain_name(chain, sizeof(chain), p, saved_order[j]);
		if (hook_used(p, saved_order[j]))
			fprintf(out, ":%s - [0:0]\n", chain);
	}
	for (size_t h = 0; h < 3; h++) {
		chain_name(chain, sizeof(chain), p, h);
		if (hook_used(p, h))
			fprintf(out, "-A %s -j %s\n", hooks[h], chain);
	}
	for (size_t j = 0; j < 3; j++)
		for (size_t i = 0; i < p->n_rules; i++)
			for (int k = 0; k < 2 && rule_in_hook(&p->rules[i], saved_order[j]); k++)
				if (kset_present(p->rules[i].set, kinds[k]))
					emit_rule(p, &p->rules[i], saved_order[j], kinds[k], out);
	fprintf(out, "COMMIT\n");
	return ferror(out) ? -1 : 0;
}

static int iptables_emit_dir(const struct policy *p, const struct backend_options *o, struct backend_dir *dir,
			     struct diags *d)
{
	int names = backend_report_names(p, o, d, "iptables", "ipsets %s, %s");
	int deny = backend_deny_unsupported(p, o, "iptables", d);
	if (check_lengths(p, d) < 0 || names < 0 || deny < 0)
		return -1;
	FILE *f = dir->open(dir, "ipsets");
	if (!f || emit_ipsets(p, f) < 0)
		return -1;
	if (!(f = dir->open(dir, "rules.v4")) || emit_rules(p, FAMILY_V4, f) < 0)
		return -1;
	if (!(f = dir->open(dir, "rules.v6")) || emit_rules(p, FAMILY_V6, f) < 0)
		return -1;
	return 0;
}

const struct backend backend_iptables = {
	.name = "iptables",
	.summary = "a directory for iptables-persistent: ipsets, rules.v4, rules.v6",
	.emit_dir = iptables_emit_dir,
};
