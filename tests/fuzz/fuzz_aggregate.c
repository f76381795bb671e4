/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: `pinhole aggregate` without the file: lines of addresses, prefixes and ranges
 * (compiler/cidr.c cidr_parse) aggregated with and without source tags. The empty input,
 * which libFuzzer runs first, once did NULL + 0 under clang's UBSan. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cidr.h"

static void aggregate(struct cidr_list *l, bool tags)
{
	struct cidr_agg agg;
	if (cidr_aggregate(l, tags, &agg) == 0)
		cidr_agg_free(&agg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cidr_list l = { 0 };
	const char *text = (const char *)data;
	uint32_t line = 0;
	for (size_t at = 0; at < size; line++) {
		const char *nl = memchr(text + at, '\n', size - at);
		size_t len = nl ? (size_t)(nl - (text + at)) : size - at;
		struct cidr_parsed p;
		if (cidr_parse(text + at, len, &p) == CIDR_OK && cidr_list_add(&l, &p.range, line) < 0)
			break;
		at += len + 1;
	}
	aggregate(&l, false);
	aggregate(&l, true);
	cidr_list_free(&l);
	return 0;
}
