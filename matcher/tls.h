/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tls.h — the server name of TLS 1.0–1.3 ClientHellos, read from the client's byte stream.
 *
 * A ClientHello may arrive in any number of TCP segments and TLS records (a post-quantum key
 * share makes it ~1.8 KB: two segments). The stream parser takes bytes as they come and keeps
 * at most TLS_HELLO_MAX bytes of one handshake message. After a ClientHello that offers TLS 1.3
 * it keeps reading, since a HelloRetryRequest makes the client send a second one; it stops at
 * the first sign the handshake went on (application data, an alert, any other handshake
 * message). RFC 8446 §4.1.2, RFC 6066 §3, draft-ietf-tls-esni (extension 0xfe0d). */
#ifndef PINHOLE_TLS_H
#define PINHOLE_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "names.h"

#define TLS_HELLO_MAX 16384	/* the largest ClientHello accepted, header included */

enum tls_status {
	TLS_NEED_MORE,	/* everything so far is a plausible start; feed more */
	TLS_FOUND,	/* a whole ClientHello was read: see the info */
	TLS_DONE,	/* no further ClientHello can follow on this stream */
	TLS_NOT_TLS,	/* the stream does not start with a TLS handshake record */
	TLS_MALFORMED,	/* a TLS stream whose ClientHello breaks the format (or is too big) */
};

/* What a ClientHello says. */
struct tls_hello_info {
	char name[NAME_MAX_LEN + 1];	/* host_name, lower case, no trailing dot; "" if none */
	bool has_name;
	bool ech;			/* carries encrypted_client_hello: name is the outer one */
	bool offers_tls13;		/* supported_versions lists 0x0304 */
	uint16_t legacy_version;
};

/* Parses one complete handshake message msg[0..len) (type, 24-bit length, body), which must
 * be a ClientHello. Returns TLS_FOUND with *info filled, or TLS_MALFORMED with a static
 * reason in *why (why may be NULL). Never reads outside msg. */
enum tls_status tls_hello_parse(const uint8_t *msg, size_t len, struct tls_hello_info *info, const char **why);

struct tls_stream;

/* Returns a parser for one direction of one connection (client to server), NULL on ENOMEM.
 * Free with tls_stream_free (NULL-safe). */
struct tls_stream *tls_stream_new(void);
void tls_stream_free(struct tls_stream *t);

/* Feeds data[0..len). *used gets the bytes consumed: all of them except after TLS_FOUND,
 * where the rest belongs to later calls. On TLS_FOUND *info describes the ClientHello. Once
 * TLS_DONE, TLS_NOT_TLS or TLS_MALFORMED is returned, every later call returns it again. */
enum tls_status tls_stream_feed(struct tls_stream *t, const uint8_t *data, size_t len, size_t *used,
				struct tls_hello_info *info);

/* Why the stream was judged malformed: a static string, or NULL. */
const char *tls_stream_error(const struct tls_stream *t);

#endif
