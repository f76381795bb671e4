/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the ClientHello parser, whole and as a stream cut into pieces. The first
 * byte picks the piece size, so the fuzzer explores record and segment boundaries too. */
#include <stddef.h>
#include <stdint.h>

#include "tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_hello_info info;
	if (size < 1)
		return 0;
	size_t piece = data[0] ? data[0] : 4096;
	data++;
	size--;
	/* As one handshake message, skipping a record header when there is one. */
	tls_hello_parse(data, size, &info, NULL);
	if (size > 5)
		tls_hello_parse(data + 5, size - 5, &info, NULL);
	struct tls_stream *t = tls_stream_new();
	for (size_t off = 0; t && off < size;) {
		size_t k = size - off < piece ? size - off : piece, used;
		enum tls_status st = tls_stream_feed(t, data + off, k, &used, &info);
		off += used;
		if (st != TLS_NEED_MORE && st != TLS_FOUND)
			break;
	}
	tls_stream_free(t);
	return 0;
}
