/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dns.c — one DNS message: header, question, answers; the other sections are walked for
 * bounds and for the EDNS0 OPT record. Names are first decoded into wire form (length-
 * prefixed labels, lower case) so comparing owners is a memcmp. The answer section is read
 * twice: once to check it and keep its CNAMEs, once more, when the chain is known, to take
 * the addresses of the names on it, all of them, without a copy of each record. */
#include "dns.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum {
	TYPE_A = 1,
	TYPE_CNAME = 5,
	TYPE_AAAA = 28,
	TYPE_OPT = 41,
	CLASS_IN = 1,
	HEADER_LEN = 12,
	MAX_POINTERS = 64,
	MAX_KEPT = 64,		/* CNAME records of the answer section kept for the chain */
};

struct wname {
	uint8_t len;		/* bytes of b in use, the final 0 included */
	uint8_t b[255];		/* RFC 1035 §3.1: at most 255 octets in wire form */
};

struct kept_cname {
	struct wname owner;
	uint32_t ttl;
	struct wname target;
};

struct msg {
	const uint8_t *p;
	size_t len;
	size_t off;
	const char *why;
};

static bool fail(struct msg *m, const char *why)
{
	if (!m->why)
		m->why = why;
	return false;
}

static unsigned u16_at(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t u32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Copies one label at pos into out, lower-cased. */
static bool take_label(struct msg *m, size_t pos, struct wname *out)
{
	size_t n = m->p[pos];
	if (pos + 1 + n > m->len)
		return fail(m, "label runs past the message");
	if (out->len + 1 + n + 1 > sizeof(out->b))
		return fail(m, "name longer than 255 octets");
	out->b[out->len++] = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = m->p[pos + 1 + i];
		out->b[out->len++] = (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	return true;
}

/* Reads the name at *pos into out and moves *pos past it. A compression pointer must point
 * before the start of the labels it continues, so every jump goes strictly backwards and
 * no loop can form (RFC 1035 §4.1.4 only ever points to earlier names). */
static bool read_name(struct msg *m, size_t *pos, struct wname *out)
{
	size_t at = *pos, floor = *pos;
	bool jumped = false;
	out->len = 0;
	for (int hops = 0;;) {
		if (at >= m->len)
			return fail(m, "name runs past the message");
		uint8_t b = m->p[at];
		if (b == 0) {
			out->b[out->len++] = 0;
			*pos = jumped ? *pos : at + 1;
			return true;
		}
		if ((b & 0xc0) == 0xc0) {
			if (at + 1 >= m->len)
				return fail(m, "compression pointer runs past the message");
			size_t target = (size_t)(b & 0x3f) << 8 | m->p[at + 1];
			if (target >= floor || ++hops > MAX_POINTERS)
				return fail(m, "compression pointer does not point backwards (a loop)");
			if (!jumped)
				*pos = at + 2;
			jumped = true;
			at = floor = target;
			continue;
		}
		if (b & 0xc0)
			return fail(m, "unknown label type");
		if (!take_label(m, at, out))
			return false;
		at += 1 + b;
	}
}

static bool wname_equal(const struct wname *a, const struct wname *b)
{
	return a->len == b->len && !memcmp(a->b, b->b, a->len);
}

static bool text_byte_plain(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
	       (c >= 'A' && c <= 'Z');
}

/* Text form for output; buf has DNS_NAME_TEXT_MAX bytes, enough for 255 octets escaped. */
static void wname_text(const struct wname *w, char *buf)
{
	char *o = buf;
	for (size_t i = 0; w->b[i];) {
		size_t n = w->b[i++];
		if (o != buf)
			*o++ = '.';
		for (size_t k = 0; k < n; k++, i++) {
			uint8_t c = w->b[i];
			if (text_byte_plain(c)) {
				*o++ = (char)c;	/* the common case, on the guard's hot path */
				continue;
			}
			*o++ = '\\';
			*o++ = (char)('0' + c / 100);
			*o++ = (char)('0' + c / 10 % 10);
			*o++ = (char)('0' + c % 10);
		}
	}
	*o = '\0';
}

/* RFC 2181 §8: a TTL with the top bit set is treated as zero. */
static uint32_t ttl_of(uint32_t raw)
{
	return raw & 0x80000000u ? 0 : raw;
}

struct rr_header {
	struct wname owner;
	uint16_t type, class;
	uint32_t ttl;
	size_t rdata, rdlen;	/* offset and length of the RDATA */
};

/* The fields after the owner name, from m->off; moves m->off past the record. */
static bool read_rr_fields(struct msg *m, struct rr_header *rr)
{
	if (m->off + 10 > m->len)
		return fail(m, "resource record header runs past the message");
	const uint8_t *h = m->p + m->off;
	rr->type = (uint16_t)u16_at(h);
	rr->class = (uint16_t)u16_at(h + 2);
	rr->ttl = ttl_of(u32_at(h + 4));
	rr->rdlen = u16_at(h + 8);
	rr->rdata = m->off + 10;
	if (rr->rdata + rr->rdlen > m->len)
		return fail(m, "resource record data runs past the message");
	m->off = rr->rdata + rr->rdlen;
	return true;
}

static bool read_rr(struct msg *m, struct rr_header *rr)
{
	return read_name(m, &m->off, &rr->owner) && read_rr_fields(m, rr);
}

/* Moves *pos past the checked name there without decoding it. */
static void skip_name(const struct msg *m, size_t *pos)
{
	size_t at = *pos;
	while (m->p[at] && (m->p[at] & 0xc0) != 0xc0)
		at += 1u + m->p[at];
	*pos = at + (m->p[at] ? 2 : 1);
}

/* Where the name at pos is spelled: a compression pointer's target, else pos. Two owners
 * with the same key are the same name (most answers point all owners at one name). */
static size_t name_key(const struct msg *m, size_t pos)
{
	return (m->p[pos] & 0xc0) == 0xc0 ? (size_t)(m->p[pos] & 0x3f) << 8 | m->p[pos + 1] : pos;
}

static bool is_addr_rr(const struct rr_header *rr)
{
	return rr->class == CLASS_IN && (rr->type == TYPE_A || rr->type == TYPE_AAAA);
}

/* Checks an answer record and keeps it if it is a CNAME the chain may need. */
static bool check_answer(struct msg *m, const struct rr_header *rr, struct kept_cname *kept, size_t *n_kept)
{
	if (is_addr_rr(rr) && rr->rdlen != (rr->type == TYPE_A ? 4u : 16u))
		return fail(m, "address record of the wrong length");
	if (rr->type != TYPE_CNAME || *n_kept == MAX_KEPT)
		return true;
	struct kept_cname *k = &kept[(*n_kept)++];
	k->owner = rr->owner;
	k->ttl = rr->ttl;
	size_t pos = rr->rdata;
	return read_name(m, &pos, &k->target) &&
	       (pos == rr->rdata + rr->rdlen || fail(m, "CNAME data longer than its name"));
}

static struct dns_addr addr_of(const struct msg *m, const struct rr_header *rr)
{
	const uint8_t *d = m->p + rr->rdata;
	struct dns_addr a = { .family = rr->type == TYPE_A ? FAMILY_V4 : FAMILY_V6, .ttl = rr->ttl };
	if (rr->type == TYPE_A)
		a.addr = (struct addr){ 0, u32_at(d) };
	else
		a.addr = (struct addr){ (uint64_t)u32_at(d) << 32 | u32_at(d + 4),
					(uint64_t)u32_at(d + 8) << 32 | u32_at(d + 12) };
	return a;
}

/* RFC 6891 §6.1.1: one OPT at most, owned by the root. */
static bool check_opt(struct msg *m, const struct rr_header *rr, struct dns_response *out)
{
	if (out->edns)
		return fail(m, "more than one OPT record");
	if (rr->owner.len != 1)
		return fail(m, "OPT record not owned by the root");
	out->edns = true;
	out->edns_udp_size = rr->class;
	return true;
}

static uint32_t min_ttl(uint32_t a, uint32_t b, bool first)
{
	return first || b < a ? b : a;
}

static bool on_chain(const struct wname *const *chain, size_t n, const struct wname *name)
{
	for (size_t i = 0; i < n; i++)
		if (wname_equal(chain[i], name))
			return true;
	return false;
}

/* Follows the chain from the question through the kept CNAMEs into chain[] (the question
 * first) and out->cnames; returns the length of chain. */
static size_t build_chain(const struct wname *question, const struct kept_cname *kept, size_t n_kept,
			  const struct wname *chain[DNS_MAX_CNAMES + 1], struct dns_response *out)
{
	size_t n_chain = 1;
	chain[0] = question;
	for (bool more = true; more && n_chain <= DNS_MAX_CNAMES;) {
		more = false;
		for (size_t i = 0; i < n_kept && !more; i++)
			if (wname_equal(&kept[i].owner, chain[n_chain - 1]) &&
			    !on_chain(chain, n_chain, &kept[i].target)) {
				struct dns_cname *c = &out->cnames[out->n_cnames++];
				wname_text(&kept[i].target, c->name);
				c->ttl = kept[i].ttl;
				out->ttl = min_ttl(out->ttl, c->ttl, out->n_cnames == 1);
				more = true;
				chain[n_chain++] = &kept[i].target;
			}
	}
	return n_chain;
}

/* Reads the answer section again from m->off and takes the address of every A and AAAA owned
 * by a name on the chain, in answer-section order. The message was checked: nothing fails.
 * The records fit in the message, so they fit in out->addrs (DNS_MAX_ADDRS). An owner is
 * decoded only when its key differs from the last one's. */
static void collect_addrs(struct msg *m, unsigned count, const struct wname *const *chain, size_t n_chain,
			  struct dns_response *out)
{
	struct rr_header rr;
	size_t last_key = SIZE_MAX;
	bool last_on_chain = false;
	for (unsigned i = 0; i < count && m->off < m->len; i++) {
		size_t owner = m->off, key = name_key(m, owner);
		skip_name(m, &m->off);
		if (!read_rr_fields(m, &rr))
			return;
		if (!is_addr_rr(&rr))
			continue;
		if (key != last_key) {
			last_key = key;
			last_on_chain = read_name(m, &owner, &rr.owner) && on_chain(chain, n_chain, &rr.owner);
		}
		if (!last_on_chain)
			continue;
		out->addrs[out->n_addrs++] = addr_of(m, &rr);
		out->ttl = min_ttl(out->ttl, rr.ttl, out->n_addrs == 1 && out->n_cnames == 0);
	}
}

static bool read_question(struct msg *m, struct wname *q, struct dns_response *out)
{
	if (!read_name(m, &m->off, q))
		return false;
	if (m->off + 4 > m->len)
		return fail(m, "question runs past the message");
	out->qtype = (uint16_t)u16_at(m->p + m->off);
	m->off += 4;
	wname_text(q, out->question);
	return true;
}

static bool read_sections(struct msg *m, const unsigned counts[3], struct kept_cname *kept, size_t *n_kept,
			  struct dns_response *out)
{
	struct rr_header rr;
	for (int section = 0; section < 3; section++)
		for (unsigned i = 0; i < counts[section]; i++) {
			/* A truncated (TC) response may stop at a record boundary short of its counts. */
			if (out->truncated && m->off == m->len)
				return true;
			if (!read_rr(m, &rr))
				return false;
			if (section == 0 && !check_answer(m, &rr, kept, n_kept))
				return false;
			if (rr.type == TYPE_OPT && (section != 2 || !check_opt(m, &rr, out)))
				return fail(m, "OPT record outside the additional section");
		}
	return true;
}

/* Checks everything after the header; *answers is where the answer section starts. */
static bool read_body(struct msg *m, const unsigned counts[3], struct wname *question, size_t *answers,
		      struct kept_cname *kept, size_t *n_kept, struct dns_response *out)
{
	if (!read_question(m, question, out))
		return false;
	*answers = m->off;
	return read_sections(m, counts, kept, n_kept, out) &&
	       (m->off == m->len || fail(m, "bytes after the last record"));
}

static void response_reset(struct dns_response *out)
{
	/* Not a memset: the struct is ~140 KB and most of it is the room for addresses. */
	out->edns = false;
	out->edns_udp_size = out->qtype = 0;
	out->question[0] = '\0';
	out->n_cnames = out->n_addrs = 0;
	out->ttl = 0;
}

enum dns_status dns_parse_response(const uint8_t *msg, size_t len, struct dns_response *out, const char **why)
{
	struct msg m = { msg, len, HEADER_LEN, NULL };
	struct kept_cname kept[MAX_KEPT];
	size_t n_kept = 0, answers = 0;
	struct wname question;
	response_reset(out);
	if (why)
		*why = NULL;
	if (len < HEADER_LEN || len > DNS_MESSAGE_MAX) {
		const char *reason = len < HEADER_LEN ? "shorter than a DNS header" : "longer than a DNS message";
		return why ? (*why = reason, DNS_MALFORMED) : DNS_MALFORMED;
	}
	unsigned flags = u16_at(msg + 2), qdcount = u16_at(msg + 4);
	unsigned counts[3] = { u16_at(msg + 6), u16_at(msg + 8), u16_at(msg + 10) };
	out->id = (uint16_t)u16_at(msg);
	out->truncated = flags & 0x0200;
	out->rcode = flags & 0x000f;
	if (qdcount != 1)
		fail(&m, qdcount ? "more than one question" : "no question");
	else
		read_body(&m, counts, &question, &answers, kept, &n_kept, out);
	if (why)
		*why = m.why;
	if (m.why)
		return DNS_MALFORMED;
	if (!(flags & 0x8000))
		return DNS_NOT_RESPONSE;
	const struct wname *chain[DNS_MAX_CNAMES + 1];
	size_t n_chain = build_chain(&question, kept, n_kept, chain, out);
	m.off = answers;
	collect_addrs(&m, counts[0], chain, n_chain, out);
	return DNS_OK;
}
