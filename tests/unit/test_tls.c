/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ClientHello parser: well-formed hellos, every malformed case, and the stream parser's
 * reassembly over records and arbitrary byte splits. Hellos are built here field by field. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "tls.h"

struct buf {
	uint8_t b[40000];
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	cr_assert_leq(b->n + n, sizeof(b->b));
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void u8(struct buf *b, unsigned v) { uint8_t x = (uint8_t)v; put(b, &x, 1); }
static void u16(struct buf *b, unsigned v) { u8(b, v >> 8); u8(b, v); }
static void u24(struct buf *b, unsigned v) { u8(b, v >> 16); u16(b, v & 0xffff); }

/* Extensions: each is (type, data). */
static void ext(struct buf *e, unsigned type, const void *data, size_t n)
{
	u16(e, type);
	u16(e, (unsigned)n);
	put(e, data, n);
}

static void sni_ext(struct buf *e, const char *name)
{
	struct buf d = { .n = 0 };
	size_t n = strlen(name);
	u16(&d, (unsigned)(n + 3));
	u8(&d, 0);
	u16(&d, (unsigned)n);
	put(&d, name, n);
	ext(e, 0, d.b, d.n);
}

static void tls13_ext(struct buf *e)
{
	static const uint8_t v[] = { 4, 0x03, 0x04, 0x03, 0x03 };
	ext(e, 43, v, sizeof(v));
}

/* A handshake message: ClientHello with the given extensions block (NULL: none at all). */
static void hello(struct buf *m, const struct buf *exts)
{
	struct buf body = { .n = 0 };
	u16(&body, 0x0303);
	for (int i = 0; i < 32; i++)
		u8(&body, (unsigned)i);
	u8(&body, 0);			/* session id */
	u16(&body, 4);
	u16(&body, 0x1301);
	u16(&body, 0xc02f);
	u8(&body, 1);
	u8(&body, 0);			/* null compression */
	if (exts) {
		u16(&body, (unsigned)exts->n);
		put(&body, exts->b, exts->n);
	}
	m->n = 0;
	u8(m, 1);
	u24(m, (unsigned)body.n);
	put(m, body.b, body.n);
}

/* Wraps a handshake byte string in records of at most frag bytes. */
static void records(struct buf *out, uint8_t type, const uint8_t *p, size_t n, size_t frag)
{
	for (size_t off = 0; off < n; off += frag) {
		size_t k = n - off < frag ? n - off : frag;
		u8(out, type);
		u16(out, 0x0301);
		u16(out, (unsigned)k);
		put(out, p + off, k);
	}
}

static enum tls_status parse(const struct buf *m, struct tls_hello_info *info)
{
	return tls_hello_parse(m->b, m->n, info, NULL);
}

static struct buf e, m;
static struct tls_hello_info info;

static void reset(void)
{
	e.n = m.n = 0;
	memset(&info, 0, sizeof(info));
}

TestSuite(tls, .init = reset);

Test(tls, server_name_lower_case_without_dot)
{
	sni_ext(&e, "WS.Marketo.COM.");
	tls13_ext(&e);
	hello(&m, &e);
	cr_assert_eq(parse(&m, &info), TLS_FOUND);
	cr_assert(info.has_name);
	cr_assert_str_eq(info.name, "ws.marketo.com");
	cr_assert(info.offers_tls13);
	cr_assert_not(info.ech);
}

Test(tls, no_extensions_at_all)
{
	hello(&m, NULL);
	cr_assert_eq(parse(&m, &info), TLS_FOUND);
	cr_assert_not(info.has_name);
	cr_assert_str_eq(info.name, "");
}

Test(tls, ech_outer_name)
{
	static const uint8_t ech[] = { 0, 0, 1, 0, 1, 7, 0, 0, 0, 0 };
	sni_ext(&e, "public.example.net");
	ext(&e, 0xfe0d, ech, sizeof(ech));
	hello(&m, &e);
	cr_assert_eq(parse(&m, &info), TLS_FOUND);
	cr_assert(info.ech);
	cr_assert_str_eq(info.name, "public.example.net");
}

Test(tls, every_truncation_is_malformed)
{
	sni_ext(&e, "ws.marketo.com");
	tls13_ext(&e);
	hello(&m, &e);
	for (size_t n = 0; n < m.n; n++) {
		uint8_t *copy = malloc(n ? n : 1);	/* exact size: ASan sees any overread */
		memcpy(copy, m.b, n);
		cr_assert_eq(tls_hello_parse(copy, n, &info, NULL), TLS_MALFORMED, "length %zu", n);
		free(copy);
	}
}

static void expect_malformed(const char *why_part)
{
	const char *why = NULL;
	cr_assert_eq(tls_hello_parse(m.b, m.n, &info, &why), TLS_MALFORMED);
	cr_assert_not_null(why);
	cr_assert(strstr(why, why_part), "reason '%s' lacks '%s'", why, why_part);
}

Test(tls, zero_length_name)
{
	sni_ext(&e, "");
	hello(&m, &e);
	expect_malformed("empty");
}

Test(tls, several_host_names)
{
	struct buf d = { .n = 0 };
	u16(&d, 2 * (3 + 5));
	for (int i = 0; i < 2; i++) {
		u8(&d, 0);
		u16(&d, 5);
		put(&d, i ? "b.com" : "a.com", 5);
	}
	ext(&e, 0, d.b, d.n);
	hello(&m, &e);
	expect_malformed("several");
}

Test(tls, unknown_name_type_is_skipped)
{
	struct buf d = { .n = 0 };
	u16(&d, 3 + 2 + 3 + 5);
	u8(&d, 7);
	u16(&d, 2);
	put(&d, "zz", 2);
	u8(&d, 0);
	u16(&d, 5);
	put(&d, "a.com", 5);
	ext(&e, 0, d.b, d.n);
	hello(&m, &e);
	cr_assert_eq(parse(&m, &info), TLS_FOUND);
	cr_assert_str_eq(info.name, "a.com");
}

Test(tls, name_with_bad_bytes)
{
	sni_ext(&e, "a b.com");
	hello(&m, &e);
	expect_malformed("host name");
	reset();
	sni_ext(&e, "a\xc3\xa9.com");
	hello(&m, &e);
	expect_malformed("host name");
}

Test(tls, name_too_long)
{
	char name[300];
	memset(name, 'a', 254);
	name[254] = '\0';
	sni_ext(&e, name);
	hello(&m, &e);
	expect_malformed("too long");
}

Test(tls, lengths_past_the_end)
{
	sni_ext(&e, "a.com");
	hello(&m, &e);
	m.b[m.n - 9] = 0xff;	/* the server_name list length */
	expect_malformed("server_name");
	reset();
	sni_ext(&e, "a.com");
	hello(&m, &e);
	m.b[4 + 2 + 32 + 1 + 2 + 4 + 2 + 1] = 0x7f;	/* the extensions length */
	expect_malformed("extensions length");
	reset();
	hello(&m, NULL);
	m.b[3] += 1;	/* the handshake length */
	expect_malformed("length");
}

Test(tls, duplicate_extension)
{
	tls13_ext(&e);
	tls13_ext(&e);
	hello(&m, &e);
	expect_malformed("twice");
}

Test(tls, wrong_fields)
{
	hello(&m, NULL);
	m.b[0] = 2;
	expect_malformed("not a ClientHello");
	hello(&m, NULL);
	m.b[4] = 2;
	expect_malformed("version");
	hello(&m, NULL);
	m.b[4 + 2 + 32] = 33;
	expect_malformed("session id");
}

static enum tls_status feed_all(struct tls_stream *t, const uint8_t *p, size_t n, size_t chunk, int *found)
{
	enum tls_status st = TLS_NEED_MORE;
	*found = 0;
	for (size_t off = 0; off < n;) {
		size_t k = n - off < chunk ? n - off : chunk, used;
		st = tls_stream_feed(t, p + off, k, &used, &info);
		cr_assert_leq(used, k);
		off += used;
		if (st == TLS_FOUND)
			(*found)++;
		else if (st != TLS_NEED_MORE)
			break;
	}
	return st;
}

Test(tls, stream_any_split_any_record_size)
{
	sni_ext(&e, "ws.marketo.com");
	for (int i = 0; i < 60; i++)	/* ~1.8 KB, like a post-quantum key share */
		ext(&e, 0x7000 + i, "0123456789012345678901234", 25);
	hello(&m, &e);
	size_t frags[] = { 16384, 1000, 512, 7, 1 };
	size_t chunks[] = { 1, 3, 1460, 100000 };
	for (size_t f = 0; f < 5; f++)
		for (size_t c = 0; c < 4; c++) {
			struct buf s = { .n = 0 };
			records(&s, 22, m.b, m.n, frags[f]);
			struct tls_stream *t = tls_stream_new();
			int found;
			feed_all(t, s.b, s.n, chunks[c], &found);
			cr_assert_eq(found, 1, "record size %zu, chunk %zu", frags[f], chunks[c]);
			cr_assert_str_eq(info.name, "ws.marketo.com");
			tls_stream_free(t);
		}
}

Test(tls, stream_not_tls)
{
	struct tls_stream *t = tls_stream_new();
	size_t used;
	const char *http = "GET / HTTP/1.1\r\nHost: ws.marketo.com\r\n\r\n";
	cr_assert_eq(tls_stream_feed(t, (const uint8_t *)http, strlen(http), &used, &info), TLS_NOT_TLS);
	cr_assert_eq(tls_stream_feed(t, (const uint8_t *)"x", 1, &used, &info), TLS_NOT_TLS, "it stays decided");
	tls_stream_free(t);
	/* A handshake record whose message is not a ClientHello (a server's stream). */
	t = tls_stream_new();
	static const uint8_t server_hello[] = { 22, 3, 3, 0, 4, 2, 0, 0, 0 };
	cr_assert_eq(tls_stream_feed(t, server_hello, sizeof(server_hello), &used, &info), TLS_NOT_TLS);
	tls_stream_free(t);
}

Test(tls, stream_hello_retry_gives_two)
{
	sni_ext(&e, "retry.marketo.com");
	tls13_ext(&e);
	hello(&m, &e);
	struct buf s = { .n = 0 };
	static const uint8_t ccs[] = { 1 };
	records(&s, 22, m.b, m.n, 16384);
	records(&s, 20, ccs, 1, 1);
	records(&s, 22, m.b, m.n, 16384);
	records(&s, 23, (const uint8_t *)"encrypted", 9, 100);
	struct tls_stream *t = tls_stream_new();
	int found;
	cr_assert_eq(feed_all(t, s.b, s.n, 100000, &found), TLS_DONE);
	cr_assert_eq(found, 2);
	tls_stream_free(t);
}

Test(tls, stream_tls12_stops_after_the_hello)
{
	sni_ext(&e, "old.marketo.com");
	hello(&m, &e);
	struct buf s = { .n = 0 };
	records(&s, 22, m.b, m.n, 16384);
	records(&s, 22, m.b, m.n, 16384);	/* in TLS 1.2 this could only be encrypted bytes */
	struct tls_stream *t = tls_stream_new();
	int found;
	cr_assert_eq(feed_all(t, s.b, s.n, 100000, &found), TLS_DONE);
	cr_assert_eq(found, 1);
	tls_stream_free(t);
}

Test(tls, stream_bounds)
{
	struct buf s = { .n = 0 };
	uint8_t big[8] = { 1, 0x01, 0x00, 0x00 };	/* claims 64 KB */
	records(&s, 22, big, 4, 16384);
	struct tls_stream *t = tls_stream_new();
	size_t used;
	cr_assert_eq(tls_stream_feed(t, s.b, s.n, &used, &info), TLS_MALFORMED);
	cr_assert_not_null(tls_stream_error(t));
	tls_stream_free(t);
	/* A record header out of range after a good start. */
	t = tls_stream_new();
	static const uint8_t bad[] = { 22, 3, 1, 0, 2, 1, 0, 22, 9, 9, 0, 1 };
	cr_assert_eq(tls_stream_feed(t, bad, sizeof(bad), &used, &info), TLS_MALFORMED);
	tls_stream_free(t);
	/* Another record type in the middle of a hello. */
	t = tls_stream_new();
	static const uint8_t interrupted[] = { 22, 3, 1, 0, 2, 1, 0, 23, 3, 3, 0, 1, 0 };
	cr_assert_eq(tls_stream_feed(t, interrupted, sizeof(interrupted), &used, &info), TLS_MALFORMED);
	tls_stream_free(t);
}
