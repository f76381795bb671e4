/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: a rules file through the whole front end (lexer, parser, resolver), then the
 * compiled domain sets of what compiled, with a few lookups. */
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "verdict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diags *d = diags_new();
	struct compile_request req = { .file = "fuzz.rules", .text = (const char *)data, .len = size };
	struct policy *p = d ? policy_compile(&req, d) : NULL;
	const char *why;
	struct verdict_table *t = p ? verdict_table_new(p, &why) : NULL;
	struct verdict_hit hit;
	if (t) {
		verdict_name(t, "ws.marketo.com", 14, &hit);
		verdict_flow(t, "a.b.example.com.", 16, PROTO_TCP, 443, &hit);
	}
	verdict_table_free(t);
	policy_free(p);
	diags_free(d);
	return 0;
}
