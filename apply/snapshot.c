/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snapshot.c — the source of an applied policy (its file's text, name and defines), kept
 * so that a commit-confirmed apply can restore it and show and diff --live can name the
 * rules-file lines of the kernel's prefixes (the kernel holds none, pinhole(8) KERNEL
 * OBJECTS). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply_internal.h"
#include "safefile.h"
#include "source.h"

#define SNAPSHOT_HEADER "# pinhole applied snapshot v1\n"
#define SNAPSHOT_BODY "----\n"
#define MAX_DEFINES 64

/* Written next to its place and renamed, without fsync: the snapshot only matters while
 * the kernel holds what it describes, and a reboot empties the kernel. */
int file_replace(const char *path, const char *head, const char *text, size_t len, char *why)
{
	struct safefile w;
	if (safefile_begin(&w, path, 0600, true) == 0) {
		fputs(head, w.f);
		if (text)
			fwrite(text, 1, len, w.f);
	}
	int ret = safefile_commit(&w, true, false);
	if (ret < 0)
		snprintf(why, SAFEFILE_WHY, "%s", w.why);
	return ret;
}

/* The lines before the rules' text: the file's name, the defines, whether it is absent. */
static char *snapshot_head(const char *rules, const struct define_override *defs, size_t n_defs, bool absent)
{
	char *head = NULL;
	size_t size;
	FILE *m = open_memstream(&head, &size);
	if (!m)
		return NULL;
	fputs(SNAPSHOT_HEADER, m);
	fprintf(m, "file %s\n", rules);
	for (size_t i = 0; i < n_defs; i++)
		fprintf(m, "define %s=%s\n", defs[i].name, defs[i].value);
	fputs(absent ? "absent\n" : "", m);
	fputs(SNAPSHOT_BODY, m);
	if (fclose(m) != 0) {
		free(head);
		return NULL;
	}
	return head;
}

int snapshot_write(const char *path, const char *rules, const struct define_override *defs, size_t n_defs,
		   bool absent, char *why)
{
	char *text = NULL, *head = NULL;
	size_t len = 0;
	int ret = -1;
	if (!absent && source_read(rules, &text, &len) < 0)
		snprintf(why, SAFEFILE_WHY, "cannot read %s again: %s", rules, strerror(errno));
	else if (!(head = snapshot_head(rules, defs, n_defs, absent)))
		snprintf(why, SAFEFILE_WHY, "out of memory");
	else
		ret = file_replace(path, head, text, len, why);
	free(head);
	free(text);
	return ret;
}

/* "NAME=VALUE" (in place) as the next define. */
static int add_define(char *arg, struct define_override *defs, size_t *n)
{
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg || *n == MAX_DEFINES)
		return -1;
	*eq = '\0';
	defs[(*n)++] = (struct define_override){ arg, eq + 1 };
	return 0;
}

/* Parses the header lines in place; returns the body or NULL when malformed. */
static char *snapshot_parse(char *text, const char **file, struct define_override *defs, size_t *n_defs,
			    bool *absent)
{
	if (strncmp(text, SNAPSHOT_HEADER, strlen(SNAPSHOT_HEADER)))
		return NULL;
	char *line = text + strlen(SNAPSHOT_HEADER);
	while (line && strncmp(line, SNAPSHOT_BODY, strlen(SNAPSHOT_BODY))) {
		char *nl = strchr(line, '\n');
		if (!nl)
			return NULL;
		*nl = '\0';
		if (!strncmp(line, "file ", 5))
			*file = line + 5;
		else if (!strncmp(line, "define ", 7) && add_define(line + 7, defs, n_defs) < 0)
			return NULL;
		else if (!strcmp(line, "absent"))
			*absent = true;
		line = nl + 1;
	}
	return line ? line + strlen(SNAPSHOT_BODY) : NULL;
}

struct policy *snapshot_compile(const char *path, bool *absent, struct diags *d)
{
	char *text = NULL, *body;
	size_t len, n_defs = 0;
	const char *file = NULL;
	struct define_override defs[MAX_DEFINES];
	struct policy *p = NULL;
	char why[SAFEFILE_WHY];
	*absent = false;
	/* only from a checked directory: a planted snapshot would be applied as rules */
	int fd = safefile_open(path, O_RDONLY, 0, false, why);
	if (fd < 0 || source_read_fd(fd, &text, &len) < 0) {
		diag_error(d, (struct loc){ path, 0, 0 }, "cannot read the snapshot: %s", fd < 0 ? why : strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	close(fd);
	body = snapshot_parse(text, &file, defs, &n_defs, absent);
	if (!body || !file) {
		diag_error(d, (struct loc){ path, 0, 0 }, "not a pinhole snapshot");
	} else if (!*absent) {
		struct compile_request req = { .file = file, .text = body, .len = len - (size_t)(body - text),
					       .defines = defs, .n_defines = n_defs };
		p = policy_compile(&req, d);
	}
	/* the policy copied what it keeps; the defines point into text, used up by now */
	free(text);
	return p;
}

/* The parameters' values as -D defines, so that a snapshot (compiled without following
 * its includes) gives the policy that was applied. Returns how many. */
static size_t params_as_defines(const struct apply_options *o, struct define_override *out)
{
	const struct policy *p = o->policy;
	size_t n = o->n_defines < MAX_DEFINES ? o->n_defines : MAX_DEFINES;
	if (n)
		memcpy(out, o->defines, n * sizeof(*out));
	for (size_t i = 0; i < p->n_params && n < MAX_DEFINES; i++) {
		bool known = false;
		for (size_t k = 0; k < o->n_defines; k++)
			known |= !strcmp(o->defines[k].name, p->params[i].name);
		if (!known && p->params[i].supplied)
			out[n++] = (struct define_override){ p->params[i].name, p->params[i].value };
	}
	return n;
}

/* Remembers what was applied, for a later --confirm's snapshot: as "applied", or as
 * "applied.new" until `pinhole confirm` makes it "applied". */
void snapshot_remember(struct job *j, const char *suffix)
{
	const struct apply_options *o = j->o;
	struct define_override defs[MAX_DEFINES];
	size_t n = params_as_defines(o, defs);
	char *path = file_path(o->state_dir, o->policy->table, suffix);
	char why[SAFEFILE_WHY] = "out of memory";
	if (path && (!o->rules || !strcmp(o->rules, "-"))) {
		/* standard input cannot be read again: no snapshot, and none that is out of date */
		unlink(path);
		say(j, (struct apply_event){ .kind = APPLY_EV_SOURCE_STDIN });
	} else if (!path || snapshot_write(path, o->rules, defs, n, false, why) < 0) {
		say(j, (struct apply_event){ .kind = APPLY_EV_SOURCE_NOT_KEPT, .text = why });
	}
	free(path);
}

void apply_attribute(const struct apply_options *o, struct nk_ruleset *live)
{
	char *path = file_path(o->state_dir, live->table, "applied");
	struct diags *d = diags_new();
	bool absent = false;
	struct policy *applied = NULL;
	/* best effort: without a snapshot (or with one that no longer compiles) the sources
	 * are unknown, and say so */
	if (path && d && access(path, R_OK) == 0 && (applied = snapshot_compile(path, &absent, d)))
		nk_ruleset_attribute(live, applied);
	policy_free(applied);
	diags_free(d);
	free(path);
}
