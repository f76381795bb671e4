/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_state.c — what survives a reload (SIGHUP) and a restart: learnt addresses whose
 * name the new policy still allows into the same set, and CNAME aliases. */
#include "guard_internal.h"

#include <arpa/inet.h>
#include <endian.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* The guard set called name in view v, or -1. */
static long view_find(const struct guard_view *v, const char *name)
{
	for (size_t i = 0; i < v->n_sets; i++)
		if (!strcmp(v->sets[i].set->name, name))
			return (long)i;
	return -1;
}

static int removal_push(struct guard *g, const char *kset, uint8_t family, struct addr a)
{
	if (g->n_removals == g->cap_removals) {
		size_t cap = g->cap_removals ? 2 * g->cap_removals : 64;
		struct guard_removal *v = realloc(g->removals, cap * sizeof(*v));
		if (!v)
			return -1;
		g->removals = v;
		g->cap_removals = cap;
	}
	struct guard_removal *r = &g->removals[g->n_removals++];
	snprintf(r->kset, sizeof(r->kset), "%s", kset);
	r->family = family;
	r->addr = a;
	return 0;
}

/* Moves e into table t under the new set index j. */
static int rekey(struct gtab *t, const struct learnt *e, uint32_t j)
{
	struct learnt_key k;
	bool created;
	guard_learnt_key(&k, j, e->key.family, e->key.addr);
	struct learnt *n = gtab_insert(t, &k, &created);
	if (!n)
		return -1;
	struct learnt_key keep = n->key;
	*n = *e;
	n->key = keep;
	n->pending_slot = 0;
	n->pending_ms = 0;
	return 0;
}

/* Sorts the learnt addresses into those the new view keeps (moved to t) and removals. */
static int sort_learnt(struct guard *g, const struct guard_view *nv, struct gtab *t)
{
	size_t pos = 0;
	struct learnt *e;
	while ((e = gtab_next(&g->learnt, &pos))) {
		const struct guard_set *old = &g->view.sets[e->key.set];
		long j = view_find(nv, old->set->name);
		bool keep = j >= 0 && e->name && domset_match(nv->names[j], e->name, strlen(e->name));
		if (keep && rekey(t, e, (uint32_t)j) == 0) {
			e->name = NULL;	/* moved */
			continue;
		}
		if (removal_push(g, old->kset[e->key.family == FAMILY_V6], e->key.family, e->key.addr) < 0)
			return -1;
	}
	return 0;
}

int guard_reload(struct guard *g, const struct policy *p, const char **why)
{
	struct guard_view nv;
	struct gtab t;
	if (guard_view_build(&nv, p, why) < 0)
		return -1;
	if (gtab_init(&t, sizeof(struct learnt), sizeof(struct learnt_key), g->cfg.max_learnt) < 0 ||
	    sort_learnt(g, &nv, &t) < 0) {
		/* Nothing moved for good: names still in g->learnt were not handed over. */
		*why = "out of memory";
		size_t pos = 0;
		struct learnt *e;
		while (t.slots && (e = gtab_next(&t, &pos)))
			free(e->name);
		gtab_free(&t);
		guard_view_free(&nv);
		return -1;
	}
	for (size_t i = 0; i < nv.n_sets; i++) {
		long j = view_find(&g->view, nv.sets[i].set->name);
		if (j >= 0)
			memcpy(nv.sets[i].present, g->view.sets[j].present, sizeof(nv.sets[i].present));
	}
	size_t pos = 0;
	struct learnt *e;
	while ((e = gtab_next(&g->learnt, &pos)))
		free(e->name);
	gtab_free(&g->learnt);
	g->learnt = t;
	guard_view_free(&g->view);
	g->view = nv;
	g->n_pending = 0;
	return 0;
}

const struct guard_removal *guard_removals(const struct guard *g, size_t *n)
{
	*n = g->n_removals;
	return g->removals;
}

void guard_removals_clear(struct guard *g)
{
	g->n_removals = 0;
}

/* ---- persistence ---- */

static void format_addr(char *buf, size_t size, uint8_t family, struct addr a)
{
	if (family == FAMILY_V4) {
		uint32_t v = htonl((uint32_t)a.lo);
		inet_ntop(AF_INET, &v, buf, (socklen_t)size);
	} else {
		uint64_t w[2] = { htobe64(a.hi), htobe64(a.lo) };
		inet_ntop(AF_INET6, w, buf, (socklen_t)size);
	}
}

static bool parse_addr(const char *s, uint8_t *family, struct addr *a)
{
	uint32_t v;
	uint64_t w[2];
	if (inet_pton(AF_INET, s, &v) == 1) {
		*family = FAMILY_V4;
		*a = (struct addr){ 0, ntohl(v) };
		return true;
	}
	if (inet_pton(AF_INET6, s, w) == 1) {
		*family = FAMILY_V6;
		*a = (struct addr){ be64toh(w[0]), be64toh(w[1]) };
		return true;
	}
	return false;
}

static uint64_t to_wall(uint64_t ms, uint64_t now_ms, uint64_t now_wall_ms)
{
	return ms > now_ms ? now_wall_ms + (ms - now_ms) : now_wall_ms;
}

/* A line is built by hand, not with fprintf: a million of them are written every 30 s
 * while answers wait, and formatting was most of the cost. */
struct line {
	char text[2 * NAME_MAX_LEN + INET6_ADDRSTRLEN + 64];
	size_t len;
};

static void put_word(struct line *l, const char *w)
{
	size_t n = strlen(w);
	if (l->len + n + 1 >= sizeof(l->text))
		n = 0;	/* cannot happen for the names a set or the guard keeps; a short line is skipped at load */
	memcpy(l->text + l->len, w, n);
	l->len += n;
	l->text[l->len++] = ' ';
}

static void put_number(struct line *l, uint64_t v)
{
	char digits[20];
	int n = 0;
	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < 20);
	while (n)
		l->text[l->len++] = digits[--n];
	l->text[l->len++] = ' ';
}

static void put_line(struct line *l, FILE *f)
{
	l->text[l->len - 1] = '\n';	/* the last word's space */
	fwrite(l->text, 1, l->len, f);
}

static void save_learnt(const struct guard *g, const struct learnt *e, uint64_t now_ms, uint64_t now_wall_ms, FILE *f)
{
	char text[INET6_ADDRSTRLEN];
	struct line l = { .len = 0 };
	if (!e->name || e->expires_ms <= now_ms)
		return;
	format_addr(text, sizeof(text), e->key.family, e->key.addr);
	put_word(&l, "learnt");
	put_word(&l, g->view.sets[e->key.set].set->name);
	put_word(&l, text);
	put_number(&l, to_wall(e->expires_ms, now_ms, now_wall_ms));
	put_word(&l, e->name);
	put_line(&l, f);
}

static void save_alias(const struct alias *a, uint64_t now_ms, uint64_t now_wall_ms, FILE *f)
{
	if (a->expires_ms > now_ms)
		fprintf(f, "alias %s %s %" PRIu64 "\n", a->key.name, a->target, to_wall(a->expires_ms, now_ms, now_wall_ms));
}

int guard_save_step(const struct guard *g, struct guard_save_walk *w, uint64_t now_ms, uint64_t now_wall_ms,
		    FILE *f, size_t budget)
{
	const void *e = NULL;
	if (w->part == 0) {
		fprintf(f, "# pinhole guard state: learnt SET ADDRESS EXPIRES_MS NAME | alias NAME TARGET EXPIRES_MS\n");
		*w = (struct guard_save_walk){ .part = 1 };
	}
	for (size_t seen = 0; w->part < 3 && (budget == 0 || seen < budget); seen++) {
		const struct gtab *t = w->part == 1 ? &g->learnt : &g->aliases;
		if (!(e = gtab_next(t, &w->pos))) {
			*w = (struct guard_save_walk){ .part = w->part + 1 };
			continue;
		}
		if (w->part == 1)
			save_learnt(g, e, now_ms, now_wall_ms, f);
		else
			save_alias(e, now_ms, now_wall_ms, f);
	}
	if (ferror(f))
		return -1;
	return w->part == 3;
}

int guard_save(const struct guard *g, uint64_t now_ms, uint64_t now_wall_ms, FILE *f)
{
	struct guard_save_walk w = { 0 };
	return guard_save_step(g, &w, now_ms, now_wall_ms, f, 0) < 0 ? -1 : 0;
}

/* Splits line at single spaces into at most max words, the newline cut off. Returns how
 * many, or max + 1 when there are more. */
static size_t split_words(char *line, char **w, size_t max)
{
	size_t n = 0;
	line[strcspn(line, "\n")] = '\0';
	for (char *save = NULL, *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (n == max)
			return max + 1;
		w[n++] = t;
	}
	return n;
}

/* A wall-clock expiry in milliseconds: digits only, no sign, no overflow. */
static bool parse_wall(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!*s)
		return false;
	for (; *s; s++) {
		uint64_t digit = (uint64_t)(*s - '0');
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - digit) / 10)
			return false;
		v = v * 10 + digit;
	}
	*out = v;
	return true;
}

/* The monotonic expiry of an entry saved with wall-clock expiry wall, or 0 when it has
 * expired. Never more than --ttl-max from now: the file may be old, edited or planted, and
 * a lifetime past it would also overflow the 32-bit milliseconds of a kernel timeout. */
static uint64_t load_expiry(const struct guard *g, uint64_t wall, uint64_t now_ms, uint64_t now_wall_ms)
{
	if (wall <= now_wall_ms)
		return 0;
	uint64_t left = wall - now_wall_ms, max = (uint64_t)g->cfg.ttl_max * 1000u;
	return now_ms + (left < max ? left : max);
}

/* "learnt SET ADDRESS EXPIRES NAME": kept when the set still matches the name and the
 * address is one host's. The kernel may have lost the element meanwhile (a re-apply), so it
 * is not trusted. */
static bool load_learnt(struct guard *g, char **w, uint64_t now_ms, uint64_t now_wall_ms)
{
	uint64_t wall, expires;
	uint8_t family;
	struct addr a;
	struct learnt_key k;
	bool created;
	if (!parse_wall(w[3], &wall) || !(expires = load_expiry(g, wall, now_ms, now_wall_ms)) ||
	    !parse_addr(w[2], &family, &a) || !addr_is_unicast(family, a))
		return false;
	long i = view_find(&g->view, w[1]);
	if (i < 0 || !domset_match(g->view.names[i], w[4], strlen(w[4])))
		return false;
	guard_learnt_key(&k, (uint32_t)i, family, a);
	struct learnt *e = gtab_insert(&g->learnt, &k, &created);
	if (!e || !created || !(e->name = strdup(w[4]))) {
		if (e && created)
			gtab_remove(&g->learnt, e);
		return false;
	}
	e->expires_ms = expires;
	return true;
}

/* "alias NAME TARGET EXPIRES" */
static bool load_alias(struct guard *g, char **w, uint64_t now_ms, uint64_t now_wall_ms)
{
	uint64_t wall, expires;
	if (!parse_wall(w[3], &wall) || !(expires = load_expiry(g, wall, now_ms, now_wall_ms)))
		return false;
	size_t before = g->aliases.n;
	guard_alias_add(g, w[1], w[2], expires);
	return g->aliases.n > before;
}

size_t guard_load(struct guard *g, uint64_t now_ms, uint64_t now_wall_ms, FILE *f)
{
	char line[2200], *w[6];
	size_t n = 0;
	while (fgets(line, sizeof(line), f)) {
		bool whole = strchr(line, '\n') || feof(f);
		size_t words = split_words(line, w, 5);
		if (!whole) {	/* longer than any line guard_save writes: skip all of it */
			int c;
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		if (words == 5 && !strcmp(w[0], "learnt"))
			n += load_learnt(g, w, now_ms, now_wall_ms);
		else if (words == 4 && !strcmp(w[0], "alias"))
			n += load_alias(g, w, now_ms, now_wall_ms);
	}
	return n;
}
