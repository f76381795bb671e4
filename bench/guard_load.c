/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_load.c — load for bench/guard.sh: DNS answers from the server namespace to the
 * client namespace through the gateway where the guard holds them, and raw ClientHellos from
 * the client to a learnt address. One process opens a socket in each namespace (setns), so
 * send and receive times come from one clock.
 *
 *   guard_load dns-rate    CLIENT_NS SERVER_NS RATE SECONDS unique|same
 *   guard_load dns-latency CLIENT_NS SERVER_NS COUNT unique|same
 *   guard_load tls-rate    CLIENT_NS SERVER_NS COUNT [RATE [FIRST_PORT]]
 *
 * The client asks and the server namespace answers as the resolver (the guard believes only
 * answers to queries it saw go out; in dns-rate the queries the resolver's socket receives
 * are left unread). unique: every answer carries a new AAAA address
 * (2001:db8:4000::/48), so every answer costs the guard a set update; same: 16 names and
 * addresses in turn (a cache's answers).
 * Only documentation addresses; the namespaces are bench/guard.sh's. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CLIENT_PORT 5300
#define BURST 32

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(2);
}

/* A socket of type in network namespace ns (a name under /run/netns). */
static int socket_in(const char *ns, int domain, int type, int proto)
{
	char path[256];
	int self = open("/proc/self/ns/net", O_RDONLY), fd;
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	int target = open(path, O_RDONLY);
	if (self < 0 || target < 0 || setns(target, CLONE_NEWNET) < 0)
		die(path);
	if ((fd = socket(domain, type, proto)) < 0)
		die("socket");
	if (setns(self, CLONE_NEWNET) < 0)
		die("setns back");
	close(self);
	close(target);
	return fd;
}

/* ---- DNS answers ---- */

static size_t put_name(uint8_t *p, const char *name)
{
	size_t n = 0;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t len = dot ? (size_t)(dot - name) : strlen(name);
		p[n++] = (uint8_t)len;
		memcpy(p + n, name, len);
		n += len;
		name += len + (dot ? 1 : 0);
	}
	p[n++] = 0;
	return n;
}

/* Message number k: hK.marketo.com AAAA, a query or its answer 2001:db8:4000::K. */
static size_t dns_message(uint8_t *p, uint16_t id, uint32_t k, bool answer)
{
	char name[64];
	snprintf(name, sizeof(name), "h%u.marketo.com", k);
	uint8_t head[12] = { (uint8_t)(id >> 8), (uint8_t)id, answer ? 0x81 : 0x01, answer ? 0x80 : 0, 0, 1, 0, answer, 0, 0, 0, 0 };
	size_t n = sizeof(head);
	memcpy(p, head, n);
	n += put_name(p + n, name);
	uint8_t q[4] = { 0, 28, 0, 1 };
	memcpy(p + n, q, 4);
	n += 4;
	if (!answer)
		return n;
	uint8_t rr[12] = { 0xc0, 12, 0, 28, 0, 1, 0, 0, 0x0e, 0x10, 0, 16 };	/* TTL 3600 */
	memcpy(p + n, rr, sizeof(rr));
	n += sizeof(rr);
	uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x40, 0, 0, 0, 0, 0, 0, 0,
			  (uint8_t)(k >> 24), (uint8_t)(k >> 16), (uint8_t)(k >> 8), (uint8_t)k };
	memcpy(p + n, a, 16);
	return n + 16;
}

/* Query number i: hI.marketo.com (unique) or one of 16 names (same), ID i. */
static size_t dns_query(uint8_t *p, uint32_t i, bool unique)
{
	return dns_message(p, (uint16_t)i, unique ? i : i % 16, false);
}

/* The answer to the query q[0..n): its ID and name back, with the name's address; 0 when
 * q is not one of ours. The guard believes only answers to queries it saw go out. */
static size_t dns_answer_to(uint8_t *p, const uint8_t *q, size_t n)
{
	unsigned k;
	if (n < 16 || q[12] < 2 || q[13] != 'h' || sscanf((const char *)q + 14, "%u", &k) != 1)
		return 0;
	return dns_message(p, (uint16_t)(q[0] << 8 | q[1]), k, true);
}

struct dns_bench {
	int tx, rx;			/* the resolver's socket, the client's */
	struct sockaddr_in to, resolver;
	bool unique;
	atomic_uint_fast64_t received;
	atomic_uint_fast64_t last_ns;
	atomic_bool done;
};

static void dns_sockets(struct dns_bench *b, const char *client, const char *server)
{
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(53) };
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(CLIENT_PORT) };
	int big = 8 << 20;
	inet_pton(AF_INET, "198.51.100.2", &src.sin_addr);
	inet_pton(AF_INET, "192.0.2.2", &dst.sin_addr);
	b->tx = socket_in(server, AF_INET, SOCK_DGRAM, 0);
	b->rx = socket_in(client, AF_INET, SOCK_DGRAM, 0);
	setsockopt(b->rx, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	if (bind(b->tx, (struct sockaddr *)&src, sizeof(src)) < 0 || bind(b->rx, (struct sockaddr *)&dst, sizeof(dst)) < 0)
		die("bind");
	b->to = dst;
	b->resolver = src;
}

static void *dns_receiver(void *arg)
{
	struct dns_bench *b = arg;
	uint8_t buf[BURST][512];
	struct mmsghdr m[BURST];
	struct iovec v[BURST];
	for (int i = 0; i < BURST; i++) {
		v[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
		m[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &v[i], .msg_iovlen = 1 } };
	}
	while (!atomic_load(&b->done)) {
		struct pollfd pfd = { b->rx, POLLIN, 0 };
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		int n = recvmmsg(b->rx, m, BURST, MSG_DONTWAIT, NULL);
		if (n > 0) {
			atomic_fetch_add(&b->received, (uint64_t)n);
			atomic_store(&b->last_ns, now_ns());
		}
	}
	return NULL;
}

/* count messages from number first on: queries (client to resolver) or their answers
 * (resolver to client) into m/v/buf. */
static int dns_burst(struct dns_bench *b, struct mmsghdr *m, struct iovec *v, uint8_t (*buf)[256], uint64_t first,
		     int count, bool answers)
{
	for (int k = 0; k < count; k++) {
		uint32_t i = (uint32_t)(first + (uint64_t)k);
		size_t len = answers ? dns_message(buf[k], (uint16_t)i, b->unique ? i : i % 16, true)
				     : dns_query(buf[k], i, b->unique);
		v[k] = (struct iovec){ buf[k], len };
		m[k] = (struct mmsghdr){ .msg_hdr = { .msg_name = answers ? &b->to : &b->resolver,
						      .msg_namelen = sizeof(b->to), .msg_iov = &v[k], .msg_iovlen = 1 } };
	}
	int sent = 0;
	while (sent < count) {
		int n = sendmmsg(answers ? b->tx : b->rx, m + sent, (unsigned)(count - sent), 0);
		if (n < 0 && errno != ENOBUFS && errno != EAGAIN)
			die("sendmmsg");
		sent += n > 0 ? n : 0;
	}
	return sent;
}

/* Queries at rate/s for seconds, in bursts; each burst's answers follow one burst later
 * (a resolver answering at once, without a thread of its own competing for the CPUs).
 * Then waits up to 2 s for the stragglers. */
static int dns_rate(const char *client, const char *server, double rate, double seconds, bool unique)
{
	static struct dns_bench b;
	pthread_t th;
	uint8_t buf[BURST][256];
	struct mmsghdr m[BURST];
	struct iovec v[BURST];
	dns_sockets(&b, client, server);
	b.unique = unique;
	pthread_create(&th, NULL, dns_receiver, &b);
	uint64_t total = (uint64_t)(rate * seconds), sent = 0, t0 = now_ns();
	int last = 0;
	while (sent < total) {
		int k = total - sent < BURST ? (int)(total - sent) : BURST;
		dns_burst(&b, m, v, buf, sent, k, false);
		if (last)
			dns_burst(&b, m, v, buf, sent - (uint64_t)last, last, true);
		sent += (uint64_t)k;
		last = k;
		/* Pace: the n-th answer leaves at t0 + n / rate. */
		uint64_t due = t0 + (uint64_t)((double)sent * 1e9 / rate);
		while (now_ns() < due)
			;
	}
	dns_burst(&b, m, v, buf, sent - (uint64_t)last, last, true);
	uint64_t t1 = now_ns();
	for (int i = 0; i < 200 && atomic_load(&b.received) < sent; i++)
		usleep(10000);
	atomic_store(&b.done, true);
	pthread_join(th, NULL);
	uint64_t got = atomic_load(&b.received), t2 = atomic_load(&b.last_ns);
	/* The rate the client got them at: from the first send to the last arrival. */
	printf("offered %.0f/s for %.2f s: sent %lu, received %lu (%.0f/s, last %.2f s after the first send), lost %lu\n",
	       (double)sent / ((double)(t1 - t0) / 1e9), (double)(t1 - t0) / 1e9, (unsigned long)sent, (unsigned long)got,
	       got ? (double)got / ((double)(t2 - t0) / 1e9) : 0.0, got ? (double)(t2 - t0) / 1e9 : 0.0,
	       (unsigned long)(sent - got));
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* One exchange at a time: the client's query goes out and reaches the resolver, then the
 * time from the answer's sendto() in the server namespace to recv() in the client
 * namespace (the answer's path only, as without the guard). */
static int dns_latency(const char *client, const char *server, int count, bool unique)
{
	static struct dns_bench b;
	uint64_t *lat = calloc((size_t)count, sizeof(*lat));
	uint8_t buf[256], q[512], in[512];
	int n = 0, lost = 0;
	dns_sockets(&b, client, server);
	for (int i = 0; i < count; i++) {
		size_t len = dns_query(buf, (uint32_t)i + 100000u * unique, unique);
		struct pollfd pq = { b.tx, POLLIN, 0 }, pa = { b.rx, POLLIN, 0 };
		sendto(b.rx, buf, len, 0, (struct sockaddr *)&b.resolver, sizeof(b.resolver));
		ssize_t ql = poll(&pq, 1, 200) > 0 ? recv(b.tx, q, sizeof(q), 0) : -1;
		if (ql <= 0 || !(len = dns_answer_to(buf, q, (size_t)ql))) {
			lost++;
			continue;
		}
		uint64_t t0 = now_ns();
		sendto(b.tx, buf, len, 0, (struct sockaddr *)&b.to, sizeof(b.to));
		if (poll(&pa, 1, 200) <= 0 || recv(b.rx, in, sizeof(in), 0) < 0) {
			lost++;
			continue;
		}
		lat[n++] = now_ns() - t0;
	}
	qsort(lat, (size_t)n, sizeof(*lat), cmp_u64);
	if (n)
		printf("answers %d, lost %d: p50 %.1f us, p90 %.1f us, p99 %.1f us, max %.1f us\n", n, lost,
		       lat[n / 2] / 1e3, lat[n * 9 / 10] / 1e3, lat[n * 99 / 100] / 1e3, lat[n - 1] / 1e3);
	free(lat);
	return n ? 0 : 1;
}

/* ---- ClientHellos ---- */

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t csum_add(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

/* A TLS 1.2 ClientHello naming ws.marketo.com, as the payload of one TCP segment. */
static size_t hello(uint8_t *p)
{
	static const char sni[] = "ws.marketo.com";
	size_t len = sizeof(sni) - 1, e = 9 + len, body = 2 + 32 + 1 + 4 + 2 + 2 + e, n = 0;
	uint8_t head[] = { 0x16, 3, 1, (uint8_t)((body + 4) >> 8), (uint8_t)(body + 4), 1, 0, (uint8_t)(body >> 8),
			   (uint8_t)body, 3, 3 };
	memcpy(p, head, sizeof(head));
	n = sizeof(head);
	memset(p + n, 0x42, 32);
	n += 32;
	uint8_t mid[] = { 0, 0, 2, 0x13, 0x01, 1, 0, 0, (uint8_t)e, 0, 0, 0, (uint8_t)(len + 5), 0, (uint8_t)(len + 3),
			  0, 0, (uint8_t)len };
	memcpy(p + n, mid, sizeof(mid));
	n += sizeof(mid);
	memcpy(p + n, sni, len);
	return n + len;
}

/* IPv4 + TCP (ACK|PSH, from port sport) + ClientHello to 203.0.113.10:443. */
static size_t tls_packet(uint8_t *p, uint16_t sport)
{
	uint8_t *ip = p, *tcp = p + 20, *data = p + 40;
	size_t dlen = hello(data), tlen = 20 + dlen;
	memset(p, 0, 40);
	ip[0] = 0x45;
	ip[8] = 64;
	ip[9] = 6;
	inet_pton(AF_INET, "192.0.2.2", ip + 12);
	inet_pton(AF_INET, "203.0.113.10", ip + 16);
	tcp[0] = (uint8_t)(sport >> 8);
	tcp[1] = (uint8_t)sport;
	tcp[2] = 443 >> 8;
	tcp[3] = 443 & 0xff;
	tcp[7] = 1;		/* seq 1 */
	tcp[11] = 1;		/* ack 1 */
	tcp[12] = 5 << 4;
	tcp[13] = 0x18;		/* PSH ACK */
	tcp[14] = 0xff;
	tcp[15] = 0xff;
	uint8_t pseudo[12] = { 0 };
	memcpy(pseudo, ip + 12, 8);
	pseudo[9] = 6;
	pseudo[10] = (uint8_t)(tlen >> 8);
	pseudo[11] = (uint8_t)tlen;
	uint16_t sum = csum_fold(csum_add(csum_add(0, pseudo, 12), tcp, tlen));
	tcp[16] = (uint8_t)(sum >> 8);
	tcp[17] = (uint8_t)sum;
	ip[2] = (uint8_t)((20 + tlen) >> 8);
	ip[3] = (uint8_t)(20 + tlen);
	return 20 + tlen;
}

struct tls_bench {
	int rx;
	atomic_uint_fast64_t received;
	atomic_uint_fast64_t last_ns;
	atomic_bool done;
};

/* Counts ClientHello segments arriving in the server namespace (a raw socket sees a copy
 * of every TCP packet for the host). */
static void *tls_receiver(void *arg)
{
	struct tls_bench *b = arg;
	uint8_t buf[2048];
	while (!atomic_load(&b->done)) {
		struct pollfd pfd = { b->rx, POLLIN, 0 };
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		ssize_t n;
		while ((n = recv(b->rx, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			size_t ihl = (size_t)(buf[0] & 15) * 4;
			if ((size_t)n > ihl + 20 && buf[ihl + 2] == 1 && buf[ihl + 3] == 0xbb && (size_t)n > ihl + 40) {
				atomic_fetch_add(&b->received, 1);
				atomic_store(&b->last_ns, now_ns());
			}
		}
	}
	return NULL;
}

/* Sends count ClientHellos from ports first_port.. (at rate per second; 0: as fast as the
 * socket takes them). Each port is a new connection: reuse none within one gateway. */
static int tls_rate(const char *client, const char *server, int count, double rate, int first_port)
{
	static struct tls_bench b;
	pthread_t th;
	int big = 16 << 20, tx = socket_in(client, AF_INET, SOCK_RAW, IPPROTO_RAW);
	struct sockaddr_in to = { .sin_family = AF_INET };
	inet_pton(AF_INET, "203.0.113.10", &to.sin_addr);
	b.rx = socket_in(server, AF_INET, SOCK_RAW, IPPROTO_TCP);
	setsockopt(b.rx, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	pthread_create(&th, NULL, tls_receiver, &b);
	uint8_t pkt[256];
	uint64_t t0 = now_ns();
	for (int i = 0; i < count; i++) {
		size_t len = tls_packet(pkt, (uint16_t)(first_port + i));
		while (sendto(tx, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
			if (errno != ENOBUFS)
				die("sendto");
		while (rate > 0 && now_ns() < t0 + (uint64_t)((double)(i + 1) * 1e9 / rate))
			;
	}
	uint64_t t1 = now_ns();
	for (int i = 0; i < 500 && atomic_load(&b.received) < (uint64_t)count; i++)
		usleep(10000);
	atomic_store(&b.done, true);
	pthread_join(th, NULL);
	uint64_t got = atomic_load(&b.received), last = atomic_load(&b.last_ns);
	double secs = (double)(last - t0) / 1e9;
	printf("ClientHellos sent %d in %.3f s (%.0f/s), allowed through %lu in %.3f s: %.0f verdicts/s, lost %lu\n",
	       count, (double)(t1 - t0) / 1e9, count / ((double)(t1 - t0) / 1e9), (unsigned long)got, secs,
	       got ? (double)got / secs : 0.0, (unsigned long)(count - (int)got));
	return got ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 7 && !strcmp(argv[1], "dns-rate"))
		return dns_rate(argv[2], argv[3], atof(argv[4]), atof(argv[5]), !strcmp(argv[6], "unique"));
	if (argc >= 6 && !strcmp(argv[1], "dns-latency"))
		return dns_latency(argv[2], argv[3], atoi(argv[4]), !strcmp(argv[5], "unique"));
	if (argc >= 5 && !strcmp(argv[1], "tls-rate"))
		return tls_rate(argv[2], argv[3], atoi(argv[4]), argc >= 6 ? atof(argv[5]) : 0,
				argc >= 7 ? atoi(argv[6]) : 1024);
	fprintf(stderr, "usage: guard_load dns-rate CLIENT_NS SERVER_NS RATE SECONDS unique|same\n"
			"       guard_load dns-latency CLIENT_NS SERVER_NS COUNT unique|same\n"
			"       guard_load tls-rate CLIENT_NS SERVER_NS COUNT [RATE [FIRST_PORT]]\n");
	return 2;
}
