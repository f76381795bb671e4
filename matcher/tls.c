/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tls.c — ClientHello parsing: a bounds-checked reader over one handshake message, and a
 * record-layer state machine that reassembles handshake messages from a byte stream. */
#include "tls.h"

#include <stdlib.h>
#include <string.h>

enum {
	REC_CHANGE_CIPHER_SPEC = 20,
	REC_ALERT = 21,
	REC_HANDSHAKE = 22,
	REC_APPLICATION_DATA = 23,
	HS_CLIENT_HELLO = 1,
	EXT_SERVER_NAME = 0,
	EXT_SUPPORTED_VERSIONS = 43,
	EXT_ECH = 0xfe0d,
	NAME_TYPE_HOST = 0,
	REC_HEADER = 5,
	REC_MAX = 16384 + 2048,		/* RFC 5246 §6.2.3: the largest TLSCiphertext */
	MAX_EXTENSIONS = 256,
};

/* A cursor over [p, end): every read checks what is left. */
struct reader {
	const uint8_t *p, *end;
	const char *why;	/* the first failure; reads after it fail too */
};

static bool need(struct reader *r, size_t n, const char *why)
{
	if (r->why)
		return false;
	if ((size_t)(r->end - r->p) < n) {
		r->why = why;
		return false;
	}
	return true;
}

static unsigned get_u8(struct reader *r, const char *why)
{
	return need(r, 1, why) ? *r->p++ : 0;
}

static unsigned get_u16(struct reader *r, const char *why)
{
	if (!need(r, 2, why))
		return 0;
	unsigned v = (unsigned)r->p[0] << 8 | r->p[1];
	r->p += 2;
	return v;
}

/* A sub-reader over the next n bytes, which the outer reader skips. */
static struct reader sub(struct reader *r, size_t n, const char *why)
{
	struct reader s = { r->p, r->p, NULL };
	if (need(r, n, why)) {
		s.end = r->p + n;
		r->p += n;
	} else {
		s.why = r->why;
	}
	return s;
}

static bool skip_vector8(struct reader *r, const char *why)
{
	size_t n = get_u8(r, why);
	sub(r, n, why);
	return !r->why;
}

/* RFC 6066 §3: HostName is ASCII; letters, digits, '-', '_' (seen in the wild) and dots.
 * Anything else cannot name a host a policy can allow. */
static bool store_host_name(const uint8_t *s, size_t n, struct tls_hello_info *info)
{
	if (n && s[n - 1] == '.')
		n--;
	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
			  (c >= 'A' && c <= 'Z');
		if (!ok)
			return false;
		info->name[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	info->name[n] = '\0';
	info->has_name = true;
	return true;
}

static void parse_server_name(struct reader *ext, struct tls_hello_info *info)
{
	size_t list_len = get_u16(ext, "server_name list truncated");
	if (!ext->why && (list_len != (size_t)(ext->end - ext->p) || list_len == 0)) {
		ext->why = "server_name list length does not match its extension";
		return;
	}
	while (!ext->why && ext->p < ext->end) {
		unsigned type = get_u8(ext, "server_name entry truncated");
		size_t n = get_u16(ext, "server_name entry truncated");
		struct reader name = sub(ext, n, "server_name entry runs past its list");
		if (ext->why || type != NAME_TYPE_HOST)
			continue;	/* RFC 6066: unknown name types are skipped */
		if (info->has_name)
			ext->why = "several host_name entries in server_name";
		else if (!store_host_name(name.p, n, info))
			ext->why = "server_name host_name is empty, too long or not a host name";
	}
}

static void parse_supported_versions(struct reader *ext, struct tls_hello_info *info)
{
	size_t n = get_u8(ext, "supported_versions truncated");
	if (!ext->why && (n != (size_t)(ext->end - ext->p) || n % 2)) {
		ext->why = "supported_versions length does not match its extension";
		return;
	}
	while (!ext->why && ext->p < ext->end)
		if (get_u16(ext, "supported_versions truncated") == 0x0304)
			info->offers_tls13 = true;
}

/* RFC 8446 §4.2: no extension type may appear twice. */
static bool seen_before(uint16_t *types, size_t n, uint16_t type)
{
	for (size_t i = 0; i < n; i++)
		if (types[i] == type)
			return true;
	return false;
}

static void parse_extensions(struct reader *r, struct tls_hello_info *info)
{
	uint16_t types[MAX_EXTENSIONS];
	size_t n_types = 0;
	while (!r->why && r->p < r->end) {
		unsigned type = get_u16(r, "extension header truncated");
		size_t len = get_u16(r, "extension header truncated");
		struct reader ext = sub(r, len, "extension runs past the extensions block");
		if (r->why)
			return;
		if (n_types == MAX_EXTENSIONS || seen_before(types, n_types, (uint16_t)type)) {
			r->why = n_types == MAX_EXTENSIONS ? "too many extensions" : "an extension appears twice";
			return;
		}
		types[n_types++] = (uint16_t)type;
		if (type == EXT_SERVER_NAME)
			parse_server_name(&ext, info);
		else if (type == EXT_SUPPORTED_VERSIONS)
			parse_supported_versions(&ext, info);
		else if (type == EXT_ECH)
			info->ech = true;
		r->why = ext.why;
	}
}

enum tls_status tls_hello_parse(const uint8_t *msg, size_t len, struct tls_hello_info *info, const char **why)
{
	struct reader r = { msg, msg + len, NULL };
	memset(info, 0, sizeof(*info));
	unsigned type = get_u8(&r, "empty handshake message");
	unsigned body_len = get_u8(&r, "handshake header truncated") << 16;
	body_len |= get_u16(&r, "handshake header truncated");
	if (!r.why && type != HS_CLIENT_HELLO)
		r.why = "not a ClientHello";
	if (!r.why && body_len != (size_t)(r.end - r.p))
		r.why = "ClientHello length does not match the message";
	info->legacy_version = (uint16_t)get_u16(&r, "ClientHello truncated in its version");
	if (!r.why && (info->legacy_version >> 8) != 3)
		r.why = "ClientHello version is not 3.x";
	sub(&r, 32, "ClientHello truncated in its random");
	size_t sid = get_u8(&r, "ClientHello truncated in its session id");
	if (!r.why && sid > 32)
		r.why = "session id longer than 32 bytes";
	sub(&r, sid, "ClientHello truncated in its session id");
	size_t suites = get_u16(&r, "ClientHello truncated in its cipher suites");
	if (!r.why && (suites == 0 || suites % 2))
		r.why = "cipher suite list empty or of odd length";
	sub(&r, suites, "cipher suites run past the ClientHello");
	skip_vector8(&r, "compression methods run past the ClientHello");
	if (!r.why && r.p < r.end) {	/* TLS 1.0/1.1 hellos may end here, without extensions */
		size_t ext_len = get_u16(&r, "extensions length truncated");
		if (!r.why && ext_len != (size_t)(r.end - r.p))
			r.why = "extensions length does not match the ClientHello";
		parse_extensions(&r, info);
	}
	if (why)
		*why = r.why;
	return r.why ? TLS_MALFORMED : TLS_FOUND;
}

struct tls_stream {
	uint8_t header[REC_HEADER];
	size_t header_have;
	size_t record_left;		/* payload bytes of the current record still to come */
	uint8_t record_type;
	bool in_record;
	uint8_t *msg;			/* the handshake message being reassembled */
	size_t msg_have, msg_cap;
	unsigned hellos;
	bool want_second;		/* the first hello offered TLS 1.3: a retry may follow */
	enum tls_status final;		/* TLS_NEED_MORE while still reading */
	const char *why;
};

struct tls_stream *tls_stream_new(void)
{
	return calloc(1, sizeof(struct tls_stream));
}

void tls_stream_free(struct tls_stream *t)
{
	if (t)
		free(t->msg);
	free(t);
}

const char *tls_stream_error(const struct tls_stream *t)
{
	return t->why;
}

static enum tls_status finish(struct tls_stream *t, enum tls_status st, const char *why)
{
	t->final = st;
	t->why = why;
	free(t->msg);
	t->msg = NULL;
	t->msg_have = t->msg_cap = 0;
	return st;
}

/* Checks a complete record header. Before the first hello, anything unexpected means the
 * stream is not TLS at all; later it means the handshake has moved on. */
static enum tls_status take_header(struct tls_stream *t)
{
	const uint8_t *h = t->header;
	size_t len = (size_t)h[3] << 8 | h[4];
	bool first = t->hellos == 0 && t->msg_have == 0;
	bool sane = h[1] == 3 && h[2] <= 4 && len > 0 && len <= REC_MAX;
	if (first && (h[0] != REC_HANDSHAKE || !sane))
		return finish(t, TLS_NOT_TLS, NULL);
	if (!sane)
		return finish(t, TLS_MALFORMED, "record header out of range");
	if (h[0] != REC_HANDSHAKE && t->msg_have)
		return finish(t, TLS_MALFORMED, "a ClientHello interrupted by another record type");
	if (h[0] == REC_ALERT || h[0] == REC_APPLICATION_DATA || (h[0] != REC_HANDSHAKE && h[0] != REC_CHANGE_CIPHER_SPEC))
		return finish(t, TLS_DONE, NULL);
	t->record_type = h[0];
	t->record_left = len;
	t->in_record = true;
	t->header_have = 0;
	return TLS_NEED_MORE;
}

static int grow_msg(struct tls_stream *t, size_t want)
{
	if (want <= t->msg_cap)
		return 0;
	size_t cap = t->msg_cap ? t->msg_cap : 512;
	while (cap < want)
		cap *= 2;
	if (cap > TLS_HELLO_MAX)
		cap = TLS_HELLO_MAX;
	uint8_t *bigger = realloc(t->msg, cap);
	if (!bigger)
		return -1;
	t->msg = bigger;
	t->msg_cap = cap;
	return 0;
}

/* The full length of the message in t->msg (header included), or 0 while unknown. */
static size_t msg_length(const struct tls_stream *t)
{
	if (t->msg_have < 4)
		return 0;
	return 4 + ((size_t)t->msg[1] << 16 | (size_t)t->msg[2] << 8 | t->msg[3]);
}

/* A whole handshake message is in t->msg: judge it and drop it from the buffer. */
static enum tls_status take_message(struct tls_stream *t, size_t len, struct tls_hello_info *info)
{
	const char *why;
	if (t->msg[0] != HS_CLIENT_HELLO)
		return finish(t, t->hellos ? TLS_DONE : TLS_NOT_TLS, NULL);
	if (tls_hello_parse(t->msg, len, info, &why) != TLS_FOUND)
		return finish(t, TLS_MALFORMED, why);
	t->hellos++;
	t->want_second = t->hellos == 1 && info->offers_tls13;
	memmove(t->msg, t->msg + len, t->msg_have - len);
	t->msg_have -= len;
	return TLS_FOUND;
}

/* Appends handshake record payload; returns TLS_FOUND when a ClientHello completed. */
static enum tls_status take_payload(struct tls_stream *t, const uint8_t *p, size_t n, struct tls_hello_info *info)
{
	if (t->hellos && !t->want_second && t->msg_have == 0)
		return finish(t, TLS_DONE, NULL);
	if (t->msg_have + n > TLS_HELLO_MAX)
		return finish(t, TLS_MALFORMED, "ClientHello larger than the parser's bound");
	if (grow_msg(t, t->msg_have + n) < 0)
		return finish(t, TLS_MALFORMED, "out of memory");
	memcpy(t->msg + t->msg_have, p, n);
	t->msg_have += n;
	size_t len = msg_length(t);
	if (len > TLS_HELLO_MAX)
		return finish(t, TLS_MALFORMED, "ClientHello larger than the parser's bound");
	if (len && t->msg_have >= len)
		return take_message(t, len, info);
	if (t->msg_have >= 1 && t->msg[0] != HS_CLIENT_HELLO)
		return finish(t, t->hellos ? TLS_DONE : TLS_NOT_TLS, NULL);
	return TLS_NEED_MORE;
}

/* One step: part of a header, or part of a record's payload. */
static enum tls_status step(struct tls_stream *t, const uint8_t *p, size_t n, size_t *took,
			    struct tls_hello_info *info)
{
	if (!t->in_record) {
		size_t k = REC_HEADER - t->header_have < n ? REC_HEADER - t->header_have : n;
		memcpy(t->header + t->header_have, p, k);
		t->header_have += k;
		*took = k;
		return t->header_have == REC_HEADER ? take_header(t) : TLS_NEED_MORE;
	}
	size_t k = t->record_left < n ? t->record_left : n;
	*took = k;
	t->record_left -= k;
	t->in_record = t->record_left > 0;
	if (t->record_type != REC_HANDSHAKE)
		return TLS_NEED_MORE;	/* a ChangeCipherSpec between two hellos */
	return take_payload(t, p, k, info);
}

enum tls_status tls_stream_feed(struct tls_stream *t, const uint8_t *data, size_t len, size_t *used,
				struct tls_hello_info *info)
{
	size_t off = 0;
	enum tls_status st = t->final;
	while (st == TLS_NEED_MORE && off < len) {
		size_t took = 0;
		st = step(t, data + off, len - off, &took, info);
		off += took;
	}
	*used = st == TLS_FOUND ? off : len;
	return st;
}
