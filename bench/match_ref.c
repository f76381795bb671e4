/* SPDX-License-Identifier: GPL-2.0-or-later */
/* match_ref.c — the plain-hash reference for the whole-process `pinhole match` benchmark
 * (bench/match.sh): what one would write by hand for the one-set rules file that
 * `match_lookup gen` makes, with no compiler behind it.
 *   match_ref RULES <NAMES >VERDICTS
 * RULES holds one pattern a line ("*.base" or an exact name) between "set NAME {" and "}";
 * the rest of the file is ignored. The patterns go into one open-addressing hash table
 * (FNV-1a, strdup'd keys); each name read with getline is lower-cased and looked up as a
 * whole and then at every label suffix, and its verdict printed with printf in pinhole's
 * text format, NAME<TAB>allow<TAB>RULES:LINE or NAME<TAB>deny<TAB>-, so the two outputs
 * can be compared with cmp. Which pattern is named follows what `pinhole match` reports
 * after its compiler dropped the redundant ones: a wildcard covering the name (the
 * outermost one: an inner wildcard or exact name below another wildcard is dropped as
 * already covered), else the exact name, the first line written when a pattern repeats. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	char *key;		/* NULL: empty slot */
	unsigned line[2];	/* 0 when absent: [0] exact name, [1] wildcard base */
};

struct table {
	struct entry *slots;
	size_t mask, used;
};

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

static struct entry *slot_for(struct table *t, const char *s, size_t n)
{
	for (size_t i = fnv1a(s, n) & t->mask;; i = (i + 1) & t->mask) {
		struct entry *e = &t->slots[i];
		if (!e->key || (strlen(e->key) == n && !memcmp(e->key, s, n)))
			return e;
	}
}

static void grow(struct table *t)
{
	struct table bigger = { calloc(2 * (t->mask + 1), sizeof(struct entry)), 2 * t->mask + 1, t->used };
	for (size_t i = 0; i <= t->mask; i++)
		if (t->slots[i].key)
			*slot_for(&bigger, t->slots[i].key, strlen(t->slots[i].key)) = t->slots[i];
	free(t->slots);
	*t = bigger;
}

static void add(struct table *t, const char *s, size_t n, int wildcard, unsigned line)
{
	if (2 * (t->used + 1) > t->mask + 1)
		grow(t);
	struct entry *e = slot_for(t, s, n);
	if (!e->key) {
		e->key = strndup(s, n);
		t->used++;
	}
	if (!e->line[wildcard])
		e->line[wildcard] = line;
}

static unsigned find(struct table *t, const char *s, size_t n, int wildcard)
{
	struct entry *e = slot_for(t, s, n);
	return e->key ? e->line[wildcard] : 0;
}

static int load(struct table *t, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	unsigned no = 0;
	int in_set = 0;
	if (!f)
		return -1;
	for (ssize_t len; (len = getline(&line, &cap, f)) >= 0;) {
		char *s = line, *e = line + len;
		no++;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (e == s)
			continue;
		if (!in_set) {
			in_set = e[-1] == '{';
			continue;
		}
		if (*s == '}')
			break;
		int wildcard = e - s > 2 && s[0] == '*' && s[1] == '.';
		add(t, s + 2 * wildcard, (size_t)(e - s) - 2 * (size_t)wildcard, wildcard, no);
	}
	free(line);
	fclose(f);
	return 0;
}

/* The line of the pattern that allows name[0..n) (lower case), 0 for none. */
static unsigned verdict(struct table *t, const char *name, size_t n)
{
	unsigned hit = 0;
	for (size_t i = 0; i < n; i++)	/* every proper suffix after a dot; the last found is outermost */
		if (name[i] == '.') {
			unsigned w = find(t, name + i + 1, n - i - 1, 1);
			hit = w ? w : hit;
		}
	return hit ? hit : find(t, name, n, 0);
}

int main(int argc, char **argv)
{
	struct table t = { calloc(1024, sizeof(struct entry)), 1023, 0 };
	if (argc != 2 || load(&t, argv[1]) < 0) {
		fprintf(stderr, "usage: match_ref RULES <NAMES\n");
		return 2;
	}
	char *line = NULL, lower[256];
	size_t cap = 0;
	for (ssize_t len; (len = getline(&line, &cap, stdin)) >= 0;) {
		while (len > 0 && isspace((unsigned char)line[len - 1]))
			line[--len] = '\0';
		if (len == 0 || len >= (ssize_t)sizeof(lower))
			continue;
		for (ssize_t i = 0; i <= len; i++)
			lower[i] = (char)tolower((unsigned char)line[i]);
		size_t n = (size_t)len - (lower[len - 1] == '.');
		unsigned hit = verdict(&t, lower, n);
		if (hit)
			printf("%s\tallow\t%s:%u\n", line, argv[1], hit);
		else
			printf("%s\tdeny\t-\n", line);
	}
	free(line);
	return 0;
}
