/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kernel_names.c — the names and comments that mark pinhole's kernel objects
 * (kernel_names.h). */
#include "kernel_names.h"

#include <stdio.h>
#include <string.h>

#include "backend.h"

const char *const nk_guard_chain_names[NK_GUARD_CHAINS] = { "guard_input", "guard_forward", "guard_output" };

bool nk_is_guard_chain(const char *name)
{
	for (size_t i = 0; i < NK_GUARD_CHAINS; i++)
		if (!strcmp(name, nk_guard_chain_names[i]))
			return true;
	return false;
}

/* The rules file's base name: where a set came from, said without a directory or a line
 * that an edit or a move of the file would change (pinhole(8), KERNEL OBJECTS). */
static const char *file_base(const char *file)
{
	const char *slash = file ? strrchr(file, '/') : NULL;
	return slash && slash[1] ? slash + 1 : file ? file : "-";
}

size_t nk_set_comment(char *buf, const struct ir_set *s, enum kset_kind kind)
{
	int n = kind >= KSET_DNS_V4 ? snprintf(buf, NK_COMMENT_MAX, "learnt by pinhole guard for the names of set %s", s->name)
				    : snprintf(buf, NK_COMMENT_MAX, "set %s, %s", s->name, file_base(s->loc.file));
	size_t len = n < 0 ? 0 : (size_t)n < NK_COMMENT_MAX ? (size_t)n : NK_COMMENT_MAX - 1;
	buf[len] = '\0';
	comment_sanitize(buf, len);
	return len;
}

bool nk_set_is_ours(const char *name, const char *comment)
{
	static const char *const suffix[] = { "_v4", "_v6", "_dns_v4", "_dns_v6" };
	static const char *const prefix[] = { "set ", "set ", "learnt by pinhole guard for the names of set ",
					      "learnt by pinhole guard for the names of set " };
	size_t len = strlen(name);
	if (!comment)
		return false;
	for (int k = 3; k >= 0; k--) {	/* the longest suffix first: x_dns_v4 also ends in _v4 */
		size_t sl = strlen(suffix[k]), pl = strlen(prefix[k]);
		if (len <= sl || strcmp(name + len - sl, suffix[k]) || strncmp(comment, prefix[k], pl))
			continue;
		const char *base = comment + pl;
		size_t bl = len - sl;
		return !strncmp(base, name, bl) && (k >= 2 ? base[bl] == '\0' : base[bl] == ',');
	}
	return false;
}
