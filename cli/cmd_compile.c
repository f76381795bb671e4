/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_compile.c — pinhole compile: a rules file to one backend's text, to a backend's
 * directory (iptables), or to every backend at once (-b all). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "cmd.h"
#include "common.h"

static void compile_usage(FILE *out)
{
	fprintf(out, "Usage: pinhole compile [-b BACKEND] [-D NAME=VALUE]... [-o FILE] [--strict] [-W OPTION] RULES\n"
		     "\n"
		     "Compiles RULES and writes the result to FILE (default: standard output).\n"
		     "Nothing is written when RULES has an error.\n"
		     "\n"
		     "  -b, --backend BACKEND  target, one of:");
	for (size_t i = 0; backend_at(i); i++)
		fprintf(out, " %s", backend_at(i)->name);
	fprintf(out, " all (default nft)\n"
		     "  -D, --define NAME=VALUE  override 'define NAME' of the rules file\n"
		     "  -o, --output FILE      write to FILE atomically instead of standard output;\n"
		     "                         a directory for iptables (ipsets, rules.v4, rules.v6)\n"
		     "                         and for all (DIR/BACKEND for each, DIR/iptables/ a directory)\n"
		     "      --strict           fail where the backend would approximate the policy\n"
		     "  -W error               treat warnings as errors (error=NAME: only warning NAME;\n"
		     "                         no-NAME: do not report NAME; names: pinhole.rules(5))\n"
		     "  -h, --help             show this help\n");
}

/* Every file of one run: none is renamed into place unless all were written. */
#define MAX_OUTPUTS 32
struct outputs {
	struct output v[MAX_OUTPUTS];
	size_t n;
	char *made_dirs[MAX_OUTPUTS];	/* directories this run created, removed again on failure */
	size_t n_dirs;
};

/* A backend_dir whose files become outputs of the run. */
struct dir_sink {
	struct backend_dir base;
	struct outputs *outs;
	const char *dir;
};

static FILE *dir_sink_open(struct backend_dir *bd, const char *name)
{
	struct dir_sink *sink = (struct dir_sink *)bd;
	struct outputs *outs = sink->outs;
	char *path = NULL;
	if (outs->n == MAX_OUTPUTS) {
		errno = EMFILE;
		return NULL;
	}
	if (asprintf(&path, "%s/%s", sink->dir, name) < 0)
		return NULL;
	int rc = cli_output_open(&outs->v[outs->n], path);
	free(path);
	return rc < 0 ? NULL : outs->v[outs->n++].f;
}

/* Creates dir unless it exists; remembers it so a failed run leaves nothing behind. */
static int make_dir(struct outputs *outs, const char *dir)
{
	struct stat st;
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	if (mkdir(dir, 0777) < 0 || outs->n_dirs == MAX_OUTPUTS) {
		fprintf(stderr, "pinhole: cannot create directory %s: %s\n", dir, strerror(errno));
		return -1;
	}
	outs->made_dirs[outs->n_dirs++] = strdup(dir);
	return 0;
}

/* Renames every file into place when ok, removes them all otherwise. Returns 0 when every
 * file is in place. */
static int outputs_close(struct outputs *outs, bool ok)
{
	for (size_t i = 0; i < outs->n; i++)
		ok = outs->v[i].f && !ferror(outs->v[i].f) && ok;
	for (size_t i = 0; i < outs->n; i++)
		if (outs->v[i].f && cli_output_close(&outs->v[i], ok) < 0)
			ok = false;
	for (size_t i = outs->n_dirs; i-- > 0;) {
		if (!ok)
			rmdir(outs->made_dirs[i]);
		free(outs->made_dirs[i]);
	}
	*outs = (struct outputs){ 0 };
	return ok ? 0 : -1;
}

/* Runs one backend into dir: a directory backend into dir itself (or dir/NAME with
 * in_subdir), a file backend into dir/NAME. */
static int emit_into_dir(const struct backend *b, const struct policy *p, const struct backend_options *o,
			 const char *dir, bool in_subdir, struct outputs *outs, struct diags *d)
{
	int ret = -1;
	char *sub = NULL;
	if (b->emit_dir) {
		if (in_subdir && asprintf(&sub, "%s/%s", dir, b->name) < 0)
			return -1;
		struct dir_sink sink = { { dir_sink_open }, outs, sub ? sub : dir };
		if (make_dir(outs, sink.dir) == 0)
			ret = b->emit_dir(p, o, &sink.base, d);
	} else if (b->emit) {
		struct dir_sink sink = { { dir_sink_open }, outs, dir };
		FILE *f = dir_sink_open(&sink.base, b->name);
		ret = f ? b->emit(p, o, f, d) : -1;
	} else {
		ret = 0;	/* not a text backend */
	}
	free(sub);
	return ret;
}

/* -b all, or a directory backend: everything goes below dir. */
static int compile_to_dir(const struct backend *only, const struct policy *p, const struct backend_options *o,
			  const char *dir, struct diags *d)
{
	struct outputs outs = { 0 };
	if (make_dir(&outs, dir) < 0)
		return outputs_close(&outs, false);
	/* Every backend runs even after one failed, so one run reports all the problems. */
	bool ok = true;
	for (size_t i = 0; only ? i == 0 : backend_at(i) != NULL; i++)
		ok = emit_into_dir(only ? only : backend_at(i), p, o, dir, !only, &outs, d) == 0 && ok;
	ok = ok && diags_errors(d) == 0;
	return outputs_close(&outs, ok);
}

static void unknown_backend(const char *name)
{
	fprintf(stderr, "pinhole: unknown backend '%s'; valid backends:", name);
	for (size_t i = 0; backend_at(i); i++)
		fprintf(stderr, " %s", backend_at(i)->name);
	fprintf(stderr, " all\n");
}

int cmd_compile(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "backend", required_argument, NULL, 'b' }, { "define", required_argument, NULL, 'D' },
		{ "output", required_argument, NULL, 'o' },  { "strict", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },	     { 0 },
	};
	int ret = 1, c;
	const char *backend_name = "nft", *output = NULL;
	struct defines defs = { 0 };
	struct backend_options bopts = { 0 };
	struct diags *d = diags_new();
	struct policy *p = NULL;
	struct output out = { 0 };
	optind = 0;
	while (d && (c = getopt_long(argc, argv, "b:D:o:W:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': backend_name = optarg; break;
		case 'W': if (cli_warning_option(d, optarg) < 0) goto out; break;
		case 'D': if (cli_add_define(&defs, optarg) < 0) goto out; break;
		case 'o': output = optarg; break;
		case 'S': bopts.strict = true; break;
		case 'h': compile_usage(stdout); ret = 0; goto out;
		default: compile_usage(stderr); goto out;
		}
	}
	if (!d || optind != argc - 1) {
		compile_usage(stderr);
		goto out;
	}
	bool all = !strcmp(backend_name, "all");
	const struct backend *b = all ? NULL : backend_find(backend_name);
	if (!all && !b) {
		unknown_backend(backend_name);
		goto out;
	}
	if ((all || !b->emit) && (!output || !strcmp(output, "-"))) {
		fprintf(stderr, "pinhole: -b %s writes several files: give a directory with -o DIR\n", backend_name);
		goto out;
	}
	p = cli_compile(argv[optind], &defs, d);
	if (p && (all || !b->emit)) {
		ret = compile_to_dir(b, p, &bopts, output, d) == 0 ? 0 : 1;
		goto out;
	}
	if (!p || cli_output_open(&out, output) < 0)
		goto out;
	bool ok = b->emit(p, &bopts, out.f, d) == 0 && diags_errors(d) == 0;
	if (cli_output_close(&out, ok) < 0 || !ok)
		goto out;
	ret = 0;
out:
	if (out.f)
		cli_output_close(&out, false);
	if (d)
		cli_render(d);
	policy_free(p);
	diags_free(d);
	return ret;
}
