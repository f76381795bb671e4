/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "backend.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const struct backend *const backends[] = {
	&backend_nft,
	&backend_json,
	&backend_iptables,
	&backend_pf,
	&backend_squid,
};

const struct backend *backend_find(const char *name)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(*backends); i++)
		if (!strcmp(backends[i]->name, name))
			return backends[i];
	return NULL;
}

const struct backend *backend_at(size_t i)
{
	return i < sizeof(backends) / sizeof(*backends) ? backends[i] : NULL;
}

/* Cuts s to at most max bytes without leaving half a UTF-8 sequence (the whole last
 * character may go too; that is fine). Returns the new length. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	len = max;
	while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
		len--;
	return len;
}

size_t rule_comment(const struct ir_rule *r, char *buf, size_t max)
{
	char place[320];
	int pn = snprintf(place, sizeof(place), "%s:%u", r->loc.file, r->loc.line);
	size_t plen = utf8_cut(place, pn < 0 ? 0 : (size_t)pn, max - 1);
	size_t len = plen;
	if (!r->comment) {
		memcpy(buf, place, plen);
	} else {
		/* The place is what the man page promises: a long comment is cut, never the
		 * "(file:line)" after it. */
		size_t room = max - 1 > plen + 3 ? max - 1 - plen - 3 : 0;
		size_t clen = strlen(r->comment);
		size_t keep = utf8_cut(r->comment, clen, clen > room ? (room > 3 ? room - 3 : 0) : room);
		len = (size_t)snprintf(buf, max, "%.*s%s (%.*s)", (int)keep, r->comment, keep < clen ? "..." : "",
				       (int)plen, place);
		len = len < max ? len : max - 1;
	}
	buf[len] = '\0';
	comment_sanitize(buf, len);
	return len;
}

void comment_sanitize(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '"' || s[i] == '\\')
			s[i] = '\'';
}

int backend_approximation(struct diags *d, const struct backend_options *o, const char *backend, struct loc loc,
			  const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	const char *text = n < 0 ? "cannot express the policy exactly" : msg;
	if (o->strict) {
		diag_error(d, loc, "%s: %s", backend, text);
		diag_hint(d, "without --strict this is a warning and the output approximates");
	} else {
		diag_warning(d, loc, "%s: %s", backend, text);
	}
	if (n >= 0)
		free(msg);
	return o->strict ? -1 : 0;
}

int backend_report_names(const struct policy *p, const struct backend_options *o, struct diags *d,
			 const char *backend, const char *holders_fmt)
{
	int ret = 0;
	char v4[KSET_NAME_MAX], v6[KSET_NAME_MAX], holders[3 * KSET_NAME_MAX];
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct ir_rule *r = &p->rules[i];
		if (!kset_present(r->set, KSET_DNS_V4))
			continue;
		kset_name(v4, r->set, KSET_DNS_V4);
		kset_name(v6, r->set, KSET_DNS_V6);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(holders, sizeof(holders), holders_fmt, v4, v6);
#pragma GCC diagnostic pop
		if (backend_approximation(d, o, backend, r->loc,
					  "cannot match names: the names of set '%s' are matched by the addresses "
					  "pinhole guard learns for them at run time (%s)", r->set->name, holders) < 0)
			ret = -1;
	}
	return ret;
}

int backend_check_kset_lengths(const struct policy *p, struct diags *d, const char *what, size_t max,
			       const char *static_suffix)
{
	int ret = 0;
	char name[KSET_NAME_MAX];
	for (size_t i = 0; i < p->n_sets; i++) {
		const struct ir_set *s = &p->sets[i];
		for (enum kset_kind k = KSET_V4; k <= KSET_DNS_V6; k++) {
			const char *suffix = k <= KSET_V6 ? static_suffix : "";
			kset_name(name, s, k);
			size_t len = strlen(name) + strlen(suffix);
			if (!kset_present(s, k) || len <= max)
				continue;
			diag_error(d, s->loc, "%s '%s%s' is longer than %zu characters", what, name, suffix, max);
			diag_hint(d, "shorten the set's name to at most %zu characters", strlen(s->name) - (len - max));
			ret = -1;
			break;
		}
	}
	return ret;
}
