/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nft_netlink.h — the policy in the kernel, over netlink (libnftnl + libmnl, no nft binary).
 *
 * The backend thinks in "kernel rulesets": what pinhole owns in one nf_tables table, as
 * the policy wants it (nk_ruleset_from_policy), as the kernel has it (nl_ruleset_read), or
 * as the last apply left it (the state cache). A delta between two of them becomes one
 * netlink batch that the kernel commits atomically, tied to the generation id it was
 * computed against.
 *
 * Modes (pinhole.rules(5), pinhole(8) APPLY):
 *   table mode (default)  pinhole owns the whole table: its sets, base chains and rules;
 *   sets-only mode        pinhole owns only its sets inside a table the user made.
 */
#ifndef PINHOLE_NFT_NETLINK_H
#define PINHOLE_NFT_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "backend.h"
#include "kernel_names.h"
#include "policy.h"

/* One interval of a kernel address set. The prefix is its whole identity: pinhole writes
 * no element comment (pinhole(8), KERNEL OBJECTS), so moving a line changes nothing. */
struct nk_elem {
	struct prefix prefix;
	const char *comment;		/* live: the sources, from the applied snapshot
					 * (nk_ruleset_attribute) or an element comment another
					 * writer left; NULL when not known */
	const struct ir_prefix *origin;	/* wanted elements: the IR prefix that made it */
};

struct nk_set {
	const char *name;
	enum kset_kind kind;		/* address family and static/dynamic follow from it */
	uint32_t flags;			/* NFT_SET_* */
	uint32_t key_type, key_len;	/* nft datatype id (7 ipv4_addr, 8 ipv6_addr), bytes */
	const char *comment;		/* NULL when none */
	uint64_t handle;		/* live sets only */
	struct nk_elem *elems;		/* ascending; malloc'd, owned by the ruleset */
	size_t n_elems;
	bool elems_known;		/* false: elements not read (dynamic sets, or not yet) */
	bool foreign;			/* live, sets-only mode: not one of pinhole's sets */
	bool adopted;			/* live, sets-only mode: the user declared it (another
					 * comment), pinhole fills it (nl_plan_make_opts) */
	const struct ir_set *origin;	/* wanted sets: the IR set */
};

/* What a rule matches, in words; the rule builder turns it into expressions. */
enum nk_rule_kind {
	NK_RULE_ALLOW,		/* an allow rule of the policy for one kernel set */
	NK_RULE_ESTABLISHED,	/* default-deny: ct state established,related accept */
	NK_RULE_NEIGHBOUR,	/* default-deny: IPv6 neighbour discovery accept */
	NK_RULE_DENY_IIF,	/* default-deny: iifname SCOPE drop */
	NK_RULE_DENY_OIF,	/* default-deny: oifname SCOPE drop */
};

/* How a default-deny rule refuses: option default_deny IFNAME [drop|reject]. reject is two
 * rules, a TCP reset for TCP and ICMP(v6) administratively prohibited for the rest. */
enum nk_deny_action { NK_DENY_DROP, NK_DENY_TCP_RESET, NK_DENY_ICMPX };

struct nk_rule {
	enum nk_rule_kind what;
	uint64_t handle;		/* live rules only */
	uint64_t fingerprint;		/* what the rule does; 0 when it carries none */
	const char *comment;
	const struct ir_rule *origin;	/* NK_RULE_ALLOW: the IR rule */
	enum kset_kind kset;		/* NK_RULE_ALLOW: which of the set's kernel sets */
	const char *ifname;		/* NK_RULE_DENY_*: the interface (nft wildcard allowed) */
	enum nk_deny_action deny;	/* NK_RULE_DENY_*: drop or which reject */
};

struct nk_chain {
	const char *name;
	const char *type;		/* "filter" */
	uint32_t hooknum;		/* NF_INET_* */
	int32_t priority;
	uint32_t policy;		/* NF_ACCEPT / NF_DROP */
	bool base;
	uint64_t handle;
	struct nk_rule *rules;		/* in order; malloc'd, owned by the ruleset */
	size_t n_rules;
};

enum nk_mode { NK_MODE_TABLE, NK_MODE_SETS_ONLY };

struct nk_ruleset;

/* Whether table mode may use the live table: absent, marked as pinhole's, or empty. */
bool nk_table_is_ours(const struct nk_ruleset *live);

struct nk_ruleset {
	uint16_t family;		/* NFPROTO_INET */
	const char *table;
	enum nk_mode mode;
	bool table_exists;		/* live: the table is there */
	bool table_marked;		/* live: it carries pinhole's comment (NK_TABLE_COMMENT) */
	bool table_empty;		/* live: no sets and no chains */
	uint64_t table_handle;
	struct nk_set *sets;		/* malloc'd */
	size_t n_sets;
	struct nk_chain *chains;	/* malloc'd; none in sets-only mode */
	size_t n_chains;
	uint32_t genid;			/* live: the generation this was read at */
	struct arena arena;		/* names and comments */
};

/* 64-bit FNV-1a of s[0..n): element comment and rule fingerprints. Never 0 for n > 0. */
uint64_t nk_hash(const void *s, size_t n, uint64_t seed);

/* Orders prefixes as the sets hold them: family, address, length. */
int nk_prefix_cmp(const struct prefix *a, const struct prefix *b);

/* Gives the elements of live's static sets (read from the kernel or the cache) the sources
 * ("file:line,...") that applied, the policy pinhole applied last, has for the same prefix
 * in the same set; others keep what they have. This is where show and diff --live get
 * file:line from, since the kernel holds none (pinhole(8), KERNEL OBJECTS). Returns 0, or
 * -1 on ENOMEM. */
int nk_ruleset_attribute(struct nk_ruleset *live, const struct policy *applied);

/* The ruleset the policy wants. Returns 0, or -1 on ENOMEM. Free with nk_ruleset_free;
 * it points into p, which must outlive it. */
int nk_ruleset_from_policy(const struct policy *p, struct nk_ruleset *out);
/* Frees everything the ruleset owns and zeroes it. NULL-safe. */
void nk_ruleset_free(struct nk_ruleset *rs);
const struct nk_set *nk_ruleset_find_set(const struct nk_ruleset *rs, const char *name);
/* Total number of prefixes in the static sets. */
size_t nk_ruleset_prefixes(const struct nk_ruleset *rs);

/* ---- the delta between what the kernel has and what the policy wants ---- */

enum nk_action { NK_KEEP, NK_CREATE, NK_DELETE, NK_RECREATE, NK_REWRITE };

struct nk_set_delta {
	const struct nk_set *want, *have;	/* want NULL: delete; have NULL: create */
	enum nk_action action;			/* KEEP (maybe with elements), CREATE, DELETE, RECREATE */
	size_t *add, n_add;			/* KEEP: indices into want->elems */
	size_t *del, n_del;			/* KEEP: indices into have->elems */
	bool refused;				/* sets-only: a set by this name that is not
						 * pinhole's and cannot be adopted (another
						 * type, or elements pinhole did not put there) */
	bool stale_comment;			/* the set comment differs (a renamed rules file,
						 * an older pinhole): left alone, a set's
						 * comment cannot change in place */
};

struct nk_chain_delta {
	const struct nk_chain *want, *have;
	enum nk_action action;			/* KEEP, CREATE, DELETE, RECREATE, REWRITE (rules) */
};

struct nk_delta {
	const struct nk_ruleset *want, *have;
	bool create_table;
	bool remake_table;		/* an empty table without pinhole's mark: delete, create */
	struct nk_set_delta *sets;
	size_t n_sets;
	struct nk_chain_delta *chains;
	size_t n_chains;
	size_t n_changes;			/* 0: the kernel already has what the policy wants */
};

/* Computes what turns have into want (same table and mode). Returns 0, or -1 on ENOMEM.
 * Free with nk_delta_free; it points into both rulesets. */
int nk_delta_compute(const struct nk_ruleset *want, const struct nk_ruleset *have, struct nk_delta *out);
void nk_delta_free(struct nk_delta *d);
/* Elements the delta adds / deletes in all sets. */
size_t nk_delta_elems_added(const struct nk_delta *d);
size_t nk_delta_elems_deleted(const struct nk_delta *d);

/* ---- the kernel ---- */

struct nl_session;

/* Opens a netlink socket to nf_tables in the caller's network namespace. Returns NULL
 * with errno set (EPERM without CAP_NET_ADMIN). Close with nl_session_close. */
struct nl_session *nl_session_open(void);
void nl_session_close(struct nl_session *s);

/* The ruleset generation id now. Returns 0, or -1 with errno set. */
int nl_genid(struct nl_session *s, uint32_t *genid);
/* The network namespace's cookie (unique for the boot, never reused), 0 if unsupported. */
uint64_t nl_netns_cookie(struct nl_session *s);

/* How much of the live state to read. */
enum nl_read_depth {
	NL_READ_OBJECTS,	/* table, chains, rules, sets: cheap */
	NL_READ_ELEMENTS,	/* and every static set's elements: costly for big sets */
};

/* Reads what pinhole owns in table (family inet) into out, at one generation: retries
 * while the generation moves during the read. For sets-only mode, sets that are not
 * pinhole's (by their comment, see nk_set_is_ours) come back with foreign set.
 * Returns 0 (table absent: out->table_exists false), or -1 with errno set. */
int nl_ruleset_read(struct nl_session *s, const char *table, enum nk_mode mode, enum nl_read_depth depth,
		    struct nk_ruleset *out);
/* Reads the elements of one live set of rs into it. Returns 0 or -1 (errno). */
int nl_set_read_elems(struct nl_session *s, struct nk_ruleset *rs, struct nk_set *set);

/* A kernel error for one message of a batch, mapped back to what caused it. */
struct nl_error {
	int err;			/* positive errno */
	char *what;			/* "set marketo_senders_v4", "element 192.0.2.0/24 of set ..." */
	char *message;			/* the kernel's extended ack message, or NULL */
	const char *reason;		/* what the errno means for that message, in words */
	struct loc loc;			/* the rules-file line, line 0 when none */
};

struct nl_result {
	bool committed;			/* the kernel committed the batch */
	bool stale;			/* refused: the ruleset changed since it was read (ERESTART) */
	uint32_t genid_after;		/* committed: the generation the commit produced */
	size_t n_messages;		/* in the batch, begin and end included */
	size_t n_bytes;
	struct nl_error *errors;
	size_t n_errors;
};
void nl_result_free(struct nl_result *r);

struct nl_commit_opts {
	bool check_only;		/* validate in the kernel and abort, as nft -c (no BATCH_END) */
	uint32_t genid;			/* carried in the batch begin; the kernel refuses it if stale */
	size_t max_batch_bytes;		/* refuse to build a bigger batch (0: 1 GiB) */
	bool test_lose_acks;		/* tests: drop the kernel's answer, as a full socket would */
};

/* Sends the delta as one batch. Returns 0 when the kernel took it (committed, or valid
 * with check_only), -1 otherwise with the result telling why (errors, stale) or errno set
 * (ENOMEM, socket trouble: then the result says whether the kernel committed, asked after
 * the fact with the generation id and a re-read). */
int nl_delta_commit(struct nl_session *s, const struct nk_delta *d, const struct nl_commit_opts *o,
		    struct nl_result *res);

/* Deletes what pinhole owns: the table (table mode) or its sets (sets-only mode), as
 * found in have. Same contract as nl_delta_commit. */
int nl_remove_commit(struct nl_session *s, const struct nk_ruleset *have, const struct nl_commit_opts *o,
		     struct nl_result *res);

/* ---- the last-applied state cache ---- */

struct nk_cache_key {
	char boot_id[40];		/* /proc/sys/kernel/random/boot_id */
	uint64_t netns_cookie;
	uint32_t genid;
	uint32_t genid_min;		/* a cache written at any generation from genid_min to
					 * genid holds: only pinhole guard committed since
					 * (nk_guard_gens_since); 0: genid alone */
	uint64_t source;		/* what was applied: a hash of the rules file, its name, the
					 * -D defines and pinhole's version; 0 when not known */
};

/* ---- generations pinhole guard made (nft_netlink_gens.c) ---- */

/* The guard's side: where it records the run of consecutive generations that are all its
 * own commits. */
struct nk_guard_gens {
	int fd;
	char boot_id[40];
	uint64_t cookie;
	uint32_t lo, hi;
};
/* Reads /proc/sys/kernel/random/boot_id into buf. Returns 0 or -1. */
int nk_boot_id(char *buf, size_t size);
/* Opens (creates, 0600, never through a link) the record at path for the network
 * namespace of netlink_fd. Returns 0, or -1 with errno set (g is then inert). */
int nk_guard_gens_open(struct nk_guard_gens *g, const char *path, int netlink_fd);
void nk_guard_gens_close(struct nk_guard_gens *g);
/* After a batch that committed: before is the generation read just before it was sent,
 * after the one read just after. Only after == before + 1 proves the commit was the only
 * one; anything else breaks the run. Rewrites the record; failures only break the run. */
void nk_guard_gens_note(struct nk_guard_gens *g, uint32_t before, uint32_t after);
/* Apply's side: the oldest generation g such that every generation after g up to genid
 * (the kernel's now) was made by pinhole guard, by the record at path for key's boot and
 * namespace; genid itself when the record is absent, foreign, torn or does not reach
 * genid. */
uint32_t nk_guard_gens_since(const char *path, const struct nk_cache_key *key, uint32_t genid);

/* SipHash-2-4 of data[0..n) under key: the cache's MAC (nft_netlink_cache.c). */
uint64_t nk_siphash(const uint64_t key[2], const void *data, size_t n);

/* Reads the current boot id and the session's netns cookie into key (genid 0). Returns 0,
 * or -1 when the cache cannot be trusted here (no cookie support, unreadable boot id). */
int nk_cache_key_now(struct nl_session *s, struct nk_cache_key *key);

/* Saves the static sets of want (as just applied, with the handles live has for them)
 * and key, atomically, to DIR/FAMILY-TABLE.state under the MAC key DIR/cache.key (made
 * when absent). Returns 0 or -1 (errno; EPERM: the key file is not root's own secret). */
int nk_cache_save(const char *dir, const struct nk_ruleset *want, const struct nk_ruleset *live,
		  const struct nk_cache_key *key);
/* Fills the elements of the static sets of live (read with NL_READ_OBJECTS) from the
 * cache when its MAC verifies under DIR/cache.key, it was written for key (same boot,
 * netns and generation) and each set's handle matches. Returns 1 when used, 0 when
 * absent, stale, forged or the key is missing or not private (live unchanged), -1 on
 * ENOMEM. */
int nk_cache_load(const char *dir, struct nk_ruleset *live, const struct nk_cache_key *key);
/* Whether a cache in dir says that the source whose hash key->source gives was applied
 * last and nothing changed since (same boot, netns and generation). Returns 1 and the
 * table's name (table, of size bytes), or 0. Apply answers "no changes" from this without
 * compiling: the same source compiles to the same policy. */
int nk_cache_find_source(const char *dir, const struct nk_cache_key *key, char *table, size_t size);
/* Sets-only mode: a set the user declared under one of want's names (their nft file must
 * declare the sets its rules use) is adopted (foreign false, adopted true) when it has the
 * type and flags pinhole would give it and is empty (a learnt set: whatever it holds; those
 * are the guard's): pinhole fills it. One with elements pinhole did not put there (and not
 * adopted already, nk_cache_adopt) or of another type stays foreign, and the delta refuses
 * it. Reads the candidates' elements. Returns 0, or -1 with errno set. */
int nl_ruleset_adopt(struct nl_session *s, const struct nk_ruleset *want, struct nk_ruleset *live);
/* Sets-only mode: marks as adopted (foreign false, adopted true) the sets of live that the
 * cache in dir says pinhole filled — listed there by name and handle, in this boot, netns
 * and table (handles are unique per table, table handles per netns), at any generation:
 * the user declared them, pinhole owns their elements. Returns how many. */
size_t nk_cache_adopt(const char *dir, struct nk_ruleset *live, const struct nk_cache_key *key);
/* Removes the cache of table (after remove, or when it can no longer be trusted). */
void nk_cache_drop(const char *dir, const char *table);

/* The policy the kernel's ruleset amounts to, for the review diff (compiler/diff.h): sets
 * from the live sets (elements must have been read; their comments give the sources, and
 * without comments — elements from the cache — the sources are unknown: loc.file NULL),
 * rules decoded from the expressions pinhole writes, and the names of sets whose learnt
 * sets exist taken from want (the kernel holds no names; may be NULL). Rules of another
 * shape are left out and counted in *n_unknown. Returns the policy (policy_free) or NULL
 * with errno set. */
struct policy *nl_ruleset_policy(struct nl_session *s, struct nk_ruleset *live, const struct policy *want,
				 size_t *n_unknown);

/* ---- a plan: the live state (through the cache when it can be trusted) and the delta ---- */

struct nl_plan {
	struct nk_ruleset live;
	struct nk_delta delta;
	bool from_cache;		/* the elements came from the last-applied state */
	bool cache_ok;			/* the cache can be trusted in this namespace at all */
	struct nk_cache_key key;
};

struct nl_plan_opts {
	const char *dir;		/* the state directory (the cache) */
	const char *guard_generations;	/* pinhole guard's record (nk_guard_gens_since), or NULL */
	bool use_cache;
};

/* Reads what the kernel has for table and mode into plan->live — the static sets'
 * elements from the cache when it holds (same generation, or only pinhole guard's commits
 * since), dumped otherwise; learnt sets' elements are not read — without a delta. Returns
 * 0, or -1 with errno set. Free with nl_plan_free. */
int nl_live_read(struct nl_session *s, const char *table, enum nk_mode mode, const struct nl_plan_opts *o,
		 struct nl_plan *plan);

/* nl_plan_make with options: the same, and the cache also holds after pinhole guard's
 * commits when o->guard_generations says so. */
int nl_plan_make_opts(struct nl_session *s, const struct nk_ruleset *want, const struct nl_plan_opts *o,
		      struct nl_plan *plan);

/* Reads what the kernel has for want's table and mode — elements from the cache in dir
 * when it matches the current generation (use_cache), from the kernel otherwise — and
 * computes the delta. Returns 0, or -1 with errno set (ENOENT: sets-only mode and the
 * table does not exist; ENOTEMPTY: table mode and a table by that name that is not
 * pinhole's, see nk_table_is_ours). Free with nl_plan_free. */
int nl_plan_make(struct nl_session *s, const struct nk_ruleset *want, const char *dir, bool use_cache,
		 struct nl_plan *plan);
void nl_plan_free(struct nl_plan *plan);

/* After a commit of the plan's delta: saves the cache when the commit was the only change
 * since the plan was read (generation +1), drops it otherwise. Returns 0, -1 (errno) when
 * the cache could not be written (the apply itself stands). */
int nl_plan_remember(struct nl_session *s, const struct nl_plan *plan, const struct nk_ruleset *want,
		     const struct nl_result *res, const char *dir);

/* After a plan with no changes whose elements were read from the kernel (or from a cache
 * pinhole guard's commits left behind): saves the cache for the generation the plan read (the kernel holds exactly want then), so that the next
 * apply does not dump again. Returns 0 (also when there is nothing to save), -1 (errno). */
int nl_plan_refresh(const struct nl_plan *plan, const struct nk_ruleset *want, const char *dir);

#endif
