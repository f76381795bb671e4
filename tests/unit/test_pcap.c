/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Packet input: the committed captures rewritten with libpcap into other link types (raw IP,
 * BSD loopback in both byte orders, OpenBSD loop) and with their TCP segments reordered and
 * retransmitted must give the same records as the originals. */
#include <criterion/criterion.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "packet.h"

struct summary {
	char lines[64][1200];
	size_t n;
};

static int collect(const struct capture_record *rec, void *arg)
{
	struct summary *s = arg;
	cr_assert_lt(s->n, 64);
	if (rec->kind == CAPTURE_SNI)
		snprintf(s->lines[s->n++], sizeof(s->lines[0]), "sni %s %u>%u", rec->tls.name, rec->src.port, rec->dst.port);
	else
		snprintf(s->lines[s->n++], sizeof(s->lines[0]), "dns %s %u>%u %zu %zu", rec->dns.question, rec->src.port,
			 rec->dst.port, rec->dns.n_cnames, rec->dns.n_addrs);
	return 0;
}

static int line_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void read_summary(const char *path, struct summary *s, bool sorted)
{
	char err[256];
	s->n = 0;
	cr_assert_eq(capture_read_file(path, collect, s, err, sizeof(err)), 0, "%s: %s", path, err);
	if (sorted)
		qsort(s->lines, s->n, sizeof(s->lines[0]), line_cmp);
}

static void assert_same(const struct summary *a, const struct summary *b, const char *what)
{
	cr_assert_gt(a->n, 0);
	cr_assert_eq(a->n, b->n, "%s: %zu records, want %zu", what, b->n, a->n);
	for (size_t i = 0; i < a->n; i++)
		cr_assert_str_eq(a->lines[i], b->lines[i], "%s", what);
}

/* A frame's IP packet behind its Ethernet header (the captures on lo are Ethernet). */
typedef size_t (*rewrite_fn)(const u_char *ip, size_t n, u_char *out);

static size_t to_raw(const u_char *ip, size_t n, u_char *out)
{
	memcpy(out, ip, n);
	return n;
}

static size_t to_af(const u_char *ip, size_t n, u_char *out, bool big_endian)
{
	uint32_t af = (ip[0] >> 4) == 6 ? 30 : 2;
	for (int i = 0; i < 4; i++)
		out[i] = (u_char)(big_endian ? af >> (24 - 8 * i) : af >> (8 * i));
	memcpy(out + 4, ip, n);
	return n + 4;
}

static size_t to_null_le(const u_char *ip, size_t n, u_char *out) { return to_af(ip, n, out, false); }
static size_t to_loop(const u_char *ip, size_t n, u_char *out) { return to_af(ip, n, out, true); }

static void rewrite(const char *in, const char *out, int dlt, rewrite_fn fn)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *src = pcap_open_offline(in, err);
	cr_assert_not_null(src, "%s", err);
	cr_assert_eq(pcap_datalink(src), DLT_EN10MB);
	pcap_t *dead = pcap_open_dead(dlt, 65535);
	pcap_dumper_t *d = pcap_dump_open(dead, out);
	cr_assert_not_null(d);
	struct pcap_pkthdr *h;
	const u_char *data;
	static u_char frame[70000];
	while (pcap_next_ex(src, &h, &data) == 1) {
		struct pcap_pkthdr nh = *h;
		nh.caplen = nh.len = (bpf_u_int32)fn(data + 14, h->caplen - 14, frame);
		pcap_dump((u_char *)d, &nh, frame);
	}
	pcap_dump_close(d);
	pcap_close(dead);
	pcap_close(src);
}

static const char *const CAPTURES[] = { "tests/captures/tls.pcap", "tests/captures/dns.pcapng" };

Test(pcap, link_types_give_the_same_records)
{
	static const struct {
		int dlt;
		rewrite_fn fn;
	} kinds[] = { { DLT_RAW, to_raw }, { DLT_NULL, to_null_le }, { DLT_LOOP, to_loop } };
	char tmp[] = "/tmp/pinhole-pcap-XXXXXX";
	int fd = mkstemp(tmp);
	cr_assert_geq(fd, 0);
	close(fd);
	for (size_t c = 0; c < 2; c++) {
		struct summary want, got;
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", SOURCE_DIR, CAPTURES[c]);
		read_summary(path, &want, false);
		for (size_t k = 0; k < 3; k++) {
			rewrite(path, tmp, kinds[k].dlt, kinds[k].fn);
			read_summary(tmp, &got, false);
			assert_same(&want, &got, pcap_datalink_val_to_name(kinds[k].dlt));
		}
	}
	unlink(tmp);
}

/* Writes every TCP packet with payload twice and swaps each pair of neighbours. */
static void shuffle(const char *in, const char *out)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *src = pcap_open_offline(in, err);
	pcap_dumper_t *d = pcap_dump_open(src, out);
	struct pcap_pkthdr *h, held_h;
	const u_char *data;
	static u_char held[70000];
	bool holding = false;
	while (pcap_next_ex(src, &h, &data) == 1) {
		struct packet p;
		bool tcp_data = packet_decode(LINK_ETHERNET, data, h->caplen, &p) == PACKET_OK && p.proto == 6 &&
				p.len > 0;
		if (!tcp_data) {
			pcap_dump((u_char *)d, h, data);
			continue;
		}
		if (!holding) {
			held_h = *h;
			memcpy(held, data, h->caplen);
			holding = true;
			continue;
		}
		pcap_dump((u_char *)d, h, data);	/* the later segment first */
		pcap_dump((u_char *)d, &held_h, held);
		pcap_dump((u_char *)d, h, data);	/* and a retransmission */
		holding = false;
	}
	if (holding)
		pcap_dump((u_char *)d, &held_h, held);
	pcap_dump_close(d);
	pcap_close(src);
}

Test(pcap, reordering_and_retransmission)
{
	char path[512], tmp[] = "/tmp/pinhole-pcap-XXXXXX";
	int fd = mkstemp(tmp);
	close(fd);
	snprintf(path, sizeof(path), "%s/tests/captures/tls.pcap", SOURCE_DIR);
	struct summary want, got;
	read_summary(path, &want, true);
	shuffle(path, tmp);
	read_summary(tmp, &got, true);
	assert_same(&want, &got, "shuffled");
	unlink(tmp);
}

Test(pcap, not_a_capture)
{
	char err[256], path[512];
	snprintf(path, sizeof(path), "%s/rules/marketo.rules", SOURCE_DIR);
	struct summary s = { .n = 0 };
	cr_assert_eq(capture_read_file(path, collect, &s, err, sizeof(err)), -1);
	cr_assert(strstr(err, "marketo.rules"));
}

Test(pcap, truncated_headers_are_skipped)
{
	static const uint8_t v4[] = { 0x45, 0, 0, 60, 0, 0, 0x20, 0, 64, 6, 0, 0, 192, 0, 2, 1, 198, 51, 100, 5 };
	struct packet p;
	cr_assert_eq(packet_decode(LINK_RAW, v4, sizeof(v4), &p), PACKET_TRUNCATED, "total length past the frame");
	uint8_t frag[60] = { 0x45, 0, 0, 60, 0, 0, 0x20, 0, 64, 6 };
	cr_assert_eq(packet_decode(LINK_RAW, frag, sizeof(frag), &p), PACKET_SKIP, "a first fragment");
	for (size_t n = 0; n < 20; n++)
		cr_assert_neq(packet_decode(LINK_ETHERNET, v4, n, &p), PACKET_OK);
}

/* The one's-complement sum of a checksummed area folds to 0xffff when the checksum is right. */
static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint32_t sum16(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	return s;
}

Test(pcap, denied_clienthello_becomes_a_fin_with_valid_checksums)
{
	/* IPv4 192.0.2.2:40000 -> 203.0.113.10:443, seq 1000, ack 2000, ACK|PSH, 4 payload bytes */
	uint8_t in[44] = { 0x45, 0, 0, 44, 0, 1, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 2, 203, 0, 113, 10,
			   0x9c, 0x40, 0x01, 0xbb, 0, 0, 0x03, 0xe8, 0, 0, 0x07, 0xd0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0,
			   0x16, 0x03, 0x01, 0x00 };
	uint8_t out[256];
	size_t n = packet_tcp_fin(in, sizeof(in), out, sizeof(out));
	cr_assert_eq(n, 40);
	cr_assert_eq(out[2] << 8 | out[3], 40, "IP total length");
	cr_assert_eq(fold(sum16(out, 20)), 0xffff, "IPv4 header checksum");
	cr_assert_eq(out[20 + 13], TCP_FIN | TCP_ACK);
	cr_assert(!memcmp(out + 24, in + 24, 8), "sequence and acknowledgement numbers kept");
	uint32_t pseudo = sum16(out + 12, 8) + 6 + 20;
	cr_assert_eq(fold(pseudo + sum16(out + 20, 20)), 0xffff, "TCP checksum");
	struct packet p;
	cr_assert_eq(packet_decode(LINK_RAW, out, n, &p), PACKET_OK);
	cr_assert_eq(p.len, 0);
	cr_assert_eq(packet_tcp_fin(in, 30, out, sizeof(out)), 0, "a truncated segment is refused");
	in[9] = 17;
	cr_assert_eq(packet_tcp_fin(in, sizeof(in), out, sizeof(out)), 0, "UDP is refused");
}
