/* cmd_compile.c — pinhole compile: a rules file to one backend's text. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cmd.h"
#include "common.h"

static void compile_usage(FILE *out)
{
	fprintf(out, "Usage: pinhole compile [-b BACKEND] [-D NAME=VALUE]... [-o FILE] [--strict] RULES\n"
		     "\n"
		     "Compiles RULES and writes the result to FILE (default: standard output).\n"
		     "Nothing is written when RULES has an error.\n"
		     "\n"
		     "  -b, --backend BACKEND  target, one of:");
	for (size_t i = 0; backend_at(i); i++)
		fprintf(out, " %s", backend_at(i)->name);
	fprintf(out, " (default nft)\n"
		     "  -D, --define NAME=VALUE  override 'define NAME' of the rules file\n"
		     "  -o, --output FILE      write to FILE atomically instead of standard output\n"
		     "      --strict           fail where the backend would approximate the policy\n"
		     "  -h, --help             show this help\n");
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
	while (d && (c = getopt_long(argc, argv, "b:D:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': backend_name = optarg; break;
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
	const struct backend *b = backend_find(backend_name);
	if (!b) {
		fprintf(stderr, "pinhole: unknown backend '%s'; valid backends:", backend_name);
		for (size_t i = 0; backend_at(i); i++)
			fprintf(stderr, " %s", backend_at(i)->name);
		fprintf(stderr, "\n");
		goto out;
	}
	p = cli_compile(argv[optind], &defs, d);
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
