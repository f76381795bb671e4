/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: one DNS message, as a UDP payload would carry it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_response r;
	/* An exact-size copy so AddressSanitizer sees the first byte read past the end. */
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	for (size_t i = 0; i < size; i++)
		copy[i] = data[i];
	dns_parse_response(copy, size, &r, NULL);
	free(copy);
	return 0;
}
