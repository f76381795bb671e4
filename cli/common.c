/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source.h"

int cli_add_define(struct defines *defs, char *arg)
{
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg) {
		fprintf(stderr, "pinhole: -D wants NAME=VALUE, got '%s'\n", arg);
		return -1;
	}
	if (defs->n == MAX_DEFINES) {
		fprintf(stderr, "pinhole: at most %d -D options\n", MAX_DEFINES);
		return -1;
	}
	*eq = '\0';
	defs->v[defs->n++] = (struct define_override){ arg, eq + 1 };
	return 0;
}

int cli_parse_max_size(const char *cmd, const char *arg, size_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v > SIZE_MAX) {
		fprintf(stderr, "pinhole %s: --max-size wants a number of characters (0: no limit), got '%s'\n", cmd, arg);
		return -1;
	}
	*out = (size_t)v;
	return 0;
}

struct policy *cli_compile(const char *path, const struct defines *defs, struct diags *d)
{
	char *text;
	size_t len;
	const char *file = !strcmp(path, "-") ? "<stdin>" : path;
	if (source_read(path, &text, &len) < 0) {
		diag_error(d, (struct loc){ file, 0, 0 }, "cannot read: %s", source_strerror(errno));
		return NULL;
	}
	/* The diagnostics keep the text for quoting lines; the compiler then finds it there
	 * instead of copying it. */
	bool adopted = diags_adopt_source(d, file, text, len) != NULL;
	struct compile_request req = { .file = file, .text = text, .len = len,
				       .defines = defs ? defs->v : NULL, .n_defines = defs ? defs->n : 0,
				       .read_include = source_read };
	struct policy *p = policy_compile(&req, d);
	if (!adopted)
		free(text);
	return p;
}

int cli_require_params(const struct policy *p, const char *command)
{
	if (policy_unset_params(p) == 0)
		return 0;
	for (size_t i = 0; i < p->n_params; i++) {
		const struct ir_param *prm = &p->params[i];
		if (!prm->supplied)
			fprintf(stderr, "%s:%u: error: parameter '%s' (%s) is not set\n", prm->loc.file, prm->loc.line,
				prm->name, prm->description);
	}
	fprintf(stderr, "pinhole %s: refusing to run on the vendor document's example values; set each parameter "
			"with -D NAME=VALUE or with 'define NAME = VALUE' in a file the policy includes "
			"(e.g. /etc/pinhole/local.rules)\n", command);
	return -1;
}

void cli_render(const struct diags *d)
{
	const char *no_color = getenv("NO_COLOR");
	bool color = isatty(STDERR_FILENO) && !(no_color && *no_color);
	diags_render(d, stderr, color);
}

#define OUTPUT_BUFFER (1 << 20)

static int output_open_in_place(struct output *o, const char *path)
{
	int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
		fprintf(stderr, "pinhole: cannot write %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	o->path = strdup(path);
	return o->path ? 0 : -1;
}

int cli_output_open(struct output *o, const char *path)
{
	*o = (struct output){ 0 };
	if (!path || !strcmp(path, "-")) {
		o->f = stdout;
		/* Large outputs (an nft script of a million prefixes) in few writes. */
		setvbuf(stdout, NULL, _IOFBF, OUTPUT_BUFFER);
		return 0;
	}
	/* A device, FIFO or socket (-o /dev/null, a pipe) is written in place: the temporary and
	 * rename below would replace /dev/null itself with a regular file when run as root. */
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return output_open_in_place(o, path);
	if (asprintf(&o->tmp, "%s.XXXXXX", path) < 0) {
		o->tmp = NULL;
		return -1;
	}
	int fd = mkstemp(o->tmp);
	/* mkstemp makes 0600; give the file the mode a plain creat() would have. */
	mode_t mask = umask(0);
	umask(mask);
	if (fd >= 0)
		fchmod(fd, 0666 & ~mask);
	if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
		fprintf(stderr, "pinhole: cannot write next to %s: %s\n", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(o->tmp);
		}
		free(o->tmp);
		o->tmp = NULL;
		return -1;
	}
	setvbuf(o->f, NULL, _IOFBF, OUTPUT_BUFFER);
	o->path = strdup(path);
	return o->path ? 0 : -1;
}

int cli_output_close(struct output *o, bool ok)
{
	int ret = 0;
	if (!o->f)
		return -1;
	if (o->f == stdout) {
		/* A full disk or a closed pipe must not pass silently (compile > /dev/full). */
		bool written = fflush(stdout) == 0 && !ferror(stdout);
		if (ok && !written)
			fprintf(stderr, "pinhole: cannot write standard output: %s\n", strerror(errno ? errno : EIO));
		ret = written && ok ? 0 : -1;
	} else {
		/* Data first, then the name: a crash leaves the old file or the whole new one. */
		bool written = fflush(o->f) == 0 && (!o->tmp || fsync(fileno(o->f)) == 0);
		written = fclose(o->f) == 0 && written;
		if (!o->tmp) {
			ret = ok && written ? 0 : -1;
			if (ok && !written)
				fprintf(stderr, "pinhole: cannot write %s: %s\n", o->path, strerror(errno));
		} else if (ok && written && rename(o->tmp, o->path) == 0) {
			ret = 0;
		} else {
			if (ok)
				fprintf(stderr, "pinhole: cannot write %s: %s\n", o->path, strerror(errno));
			unlink(o->tmp);
			ret = -1;
		}
	}
	free(o->tmp);
	free(o->path);
	*o = (struct output){ 0 };
	return ret;
}

int cli_warning_option(struct diags *d, const char *arg)
{
	if (diags_warning_option(d, arg) == 0)
		return 0;
	fprintf(stderr, "pinhole: unknown -W '%s'; valid: error, error=NAME, no-NAME "
			"(names in pinhole.rules(5), WARNINGS)\n", arg);
	return -1;
}

int cli_format_json(const char *cmd, const char *arg, bool *json)
{
	if (strcmp(arg, "json") && strcmp(arg, "text")) {
		fprintf(stderr, "pinhole %s: unknown format '%s'; valid formats: text json\n", cmd, arg);
		return -1;
	}
	*json = !strcmp(arg, "json");
	return 0;
}
