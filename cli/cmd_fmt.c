/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_fmt.c — pinhole fmt: a rules file in canonical form. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "cmd.h"
#include "common.h"
#include "source.h"

static void fmt_usage(FILE *out)
{
	fprintf(out, "Usage: pinhole fmt [-w] RULES\n"
		     "\n"
		     "Prints RULES in canonical form. Formatting twice changes nothing.\n"
		     "A file with a syntax error is not formatted.\n"
		     "\n"
		     "  -w, --write            rewrite RULES in place (atomically) instead of printing\n"
		     "  -h, --help             show this help\n");
}

int cmd_fmt(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "write", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int ret = 1, c;
	bool write = false;
	char *text = NULL;
	size_t len;
	struct diags *d = diags_new();
	struct ast_file *ast = NULL;
	struct output out = { 0 };
	optind = 0;
	while (d && (c = getopt_long(argc, argv, "wh", longopts, NULL)) != -1) {
		switch (c) {
		case 'w': write = true; break;
		case 'h': fmt_usage(stdout); ret = 0; goto out;
		default: fmt_usage(stderr); goto out;
		}
	}
	if (!d || optind != argc - 1 || (write && !strcmp(argv[optind], "-"))) {
		fmt_usage(stderr);
		goto out;
	}
	const char *path = argv[optind];
	if (source_read(path, &text, &len) < 0) {
		fprintf(stderr, "pinhole: %s: %s\n", path, strerror(errno));
		goto out;
	}
	const char *file = diags_add_source(d, path, text, len);
	if (!file || ast_parse(file, text, len, d, &ast) < 0 || diags_errors(d))
		goto out;
	if (cli_output_open(&out, write ? path : NULL) < 0)
		goto out;
	if (cli_output_close(&out, ast_format(ast, out.f) == 0) < 0)
		goto out;
	ret = 0;
out:
	if (out.f)
		cli_output_close(&out, false);
	if (d)
		cli_render(d);
	ast_free(ast);
	free(text);
	diags_free(d);
	return ret;
}
