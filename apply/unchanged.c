/* SPDX-License-Identifier: GPL-2.0-or-later */
/* unchanged.c — the shortcut of an apply that has nothing to do: the same source as the
 * last apply, and the ruleset's generation still the one that apply left. */
#include <stdlib.h>
#include <string.h>

#include "apply_internal.h"
#include "source.h"

/* An included file is part of the source: its text (or its absence) joins the hash of each
 * 'include "PATH"' that starts a line, so editing /etc/pinhole/local.rules is a change. */
static uint64_t hash_includes(const char *path, const char *text, size_t len, uint64_t h)
{
	const char *end = text + len;
	for (const char *line = text; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line)), *eol = nl ? nl : end;
		const char *p = line;
		while (p < eol && (*p == ' ' || *p == '\t'))
			p++;
		const char *q = eol - p > 9 && !strncmp(p, "include", 7) ? memchr(p, '"', (size_t)(eol - p)) : NULL;
		const char *close = q ? memchr(q + 1, '"', (size_t)(eol - q - 1)) : NULL;
		if (close) {
			char *written = strndup(q + 1, (size_t)(close - q - 1)), *full = NULL, *inc = NULL;
			size_t n = 0;
			if (written && (full = policy_include_path(path, written)) && source_read(full, &inc, &n) == 0)
				h = nk_hash(inc, n, h);
			else
				h = nk_hash("\0absent", 7, h);
			free(written);
			free(full);
			free(inc);
		}
		line = eol + 1;
	}
	return h;
}

uint64_t source_hash(const struct apply_options *o)
{
	char *text;
	size_t len;
	if (!o->rules || !strcmp(o->rules, "-") || source_read(o->rules, &text, &len) < 0)
		return 0;

	uint64_t h = nk_hash(PINHOLE_VERSION, strlen(PINHOLE_VERSION), 0);
	h = nk_hash(o->rules, strlen(o->rules) + 1, h);
	for (size_t i = 0; i < o->n_defines; i++) {
		h = nk_hash(o->defines[i].name, strlen(o->defines[i].name) + 1, h);
		h = nk_hash(o->defines[i].value, strlen(o->defines[i].value) + 1, h);
	}
	h = nk_hash(text, len, h);
	h = hash_includes(o->rules, text, len, h);
	free(text);
	return h;
}

/* The kernel holds what the rules want, so there is nothing to compile or compare. */
static bool unchanged_in(struct job *j, struct nl_session *s, uint64_t source)
{
	const struct apply_options *o = j->o;
	struct nk_cache_key key;
	char table[256], gens[4096];
	struct nl_plan_opts po = apply_plan_opts(o, true, gens, sizeof(gens));
	if (nk_cache_key_now(s, &key) < 0 || nl_genid(s, &key.genid) < 0)
		return false;
	key.source = source;
	/* pinhole guard's commits since leave the applied sets as they were */
	uint32_t since = nk_guard_gens_since(po.guard_generations, &key, key.genid);
	key.genid_min = since != key.genid ? since : 0;
	/* a pending confirmation is for apply proper to refuse, with its message */
	if (!nk_cache_find_source(o->state_dir, &key, table, sizeof(table)) || pending_any(o, table))
		return false;
	j->r->status = APPLY_NO_CHANGE;
	j->r->generation = key.genid;
	say(j, (struct apply_event){ .kind = APPLY_EV_UNCHANGED, .table = table, .n = (long)key.genid, .text = o->rules,
				     .flag = key.genid_min != 0 });
	return true;
}

bool apply_unchanged(const struct apply_options *o, struct apply_result *r)
{
	struct job j = { .o = o, .r = r };
	bool own, found = false;
	result_start(r);
	uint64_t source = o->use_cache && !o->confirm ? source_hash(o) : 0;
	struct nl_session *s = source ? job_session(&j, &own) : NULL;
	if (s)
		found = unchanged_in(&j, s, source);
	if (s && own)
		nl_session_close(s);
	return found;
}
