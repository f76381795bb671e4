#include "common.h"

#include <errno.h>
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

struct policy *cli_compile(const char *path, const struct defines *defs, struct diags *d)
{
	char *text;
	size_t len;
	if (source_read(path, &text, &len) < 0) {
		diag_error(d, (struct loc){ path, 0, 0 }, "cannot read: %s", strerror(errno));
		return NULL;
	}
	const char *file = !strcmp(path, "-") ? "<stdin>" : path;
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

int cli_output_open(struct output *o, const char *path)
{
	*o = (struct output){ 0 };
	if (!path || !strcmp(path, "-")) {
		o->f = stdout;
		/* Large outputs (an nft script of a million prefixes) in few writes. */
		setvbuf(stdout, NULL, _IOFBF, OUTPUT_BUFFER);
		return 0;
	}
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
		ret = fflush(stdout) == 0 && ok ? 0 : -1;
	} else {
		/* Data first, then the name: a crash leaves the old file or the whole new one. */
		bool written = fflush(o->f) == 0 && fsync(fileno(o->f)) == 0;
		written = fclose(o->f) == 0 && written;
		if (ok && written && rename(o->tmp, o->path) == 0) {
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
