/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard_load.c — load for bench/guard.sh: DNS answers from the server namespace to the
 * client namespace through the gateway where the guard holds them, and raw ClientHellos from
 * the client to a learnt address. One process opens a socket in each namespace (setns).
 *
 *   guard_load dns-load CLIENT_NS GATEWAY_NS SERVER_NS RATE SECONDS unique|same FIRST [BURST]
 *   guard_load tls-rate CLIENT_NS SERVER_NS COUNT [RATE [FIRST_PORT]]
 *
 * dns-load measures each answer's time in the gateway from outside the guard: two packet
 * sockets in the gateway namespace, one on gws0 (the answer comes in from the resolver)
 * and one on gwc0 (it leaves towards the client), give the kernel's timestamps of the
 * answer entering and leaving; the answer's DNS ID pairs them. The client asks first (the
 * guard believes only answers to queries it saw go out), and the resolver's address
 * answers one tick later. unique: every answer carries a new AAAA address
 * (2001:db8:4000::/48 from FIRST on), so every answer costs the guard a set update; same:
 * 16 names and addresses in turn with TTLs counting down (a cache's answers: they seldom
 * ask for an update). The sender sleeps between ticks
 * (clock_nanosleep to absolute times), so it uses one CPU only as much as sending takes;
 * bench/guard.sh pins it to one core and the guard to the other.
 * Only documentation addresses; the namespaces are bench/guard.sh's. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
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
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CLIENT_PORT 5300

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

/* Message number k: hK.marketo.com AAAA, a query or its answer 2001:db8:4000::K with ttl. */
static size_t dns_message(uint8_t *p, uint16_t id, uint32_t k, bool answer, uint16_t ttl)
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
	uint8_t rr[12] = { 0xc0, 12, 0, 28, 0, 1, 0, 0, (uint8_t)(ttl >> 8), (uint8_t)ttl, 0, 16 };
	memcpy(p + n, rr, sizeof(rr));
	n += sizeof(rr);
	uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x40, 0, 0, 0, 0, 0, 0, 0,
			  (uint8_t)(k >> 24), (uint8_t)(k >> 16), (uint8_t)(k >> 8), (uint8_t)k };
	memcpy(p + n, a, 16);
	return n + 16;
}

/* ---- the gateway's two veths, tapped ---- */

/* What a tap keeps of a packet: the IP and UDP headers and the DNS ID (at most 60 bytes
 * of IP options before them). */
#define TAP_SNAP 96
#define TAP_BATCH 64

/* Classic BPF: IPv4 UDP from port 53, the first TAP_SNAP bytes; nothing else is copied
 * (the queries, ARP, IPv6 neighbour discovery stay in the kernel). A SOCK_DGRAM packet
 * socket's filter sees the packet from its IP header. */
static void tap_filter(int fd)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PROTOCOL)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 6),
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 4),
		BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
		BPF_STMT(BPF_LD | BPF_H | BPF_IND, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 53, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, TAP_SNAP),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { sizeof(code) / sizeof(*code), code };
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		die("SO_ATTACH_FILTER");
}

/* A packet socket on interface dev of namespace ns that sees the DNS answers crossing it,
 * each with the kernel's timestamp: on the way in, taken when the veth hands the packet
 * to the stack; on the way out (outgoing), when the gateway transmits it. */
static int tap_open(const char *ns, const char *dev, bool outgoing)
{
	int fd = socket_in(ns, AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL)), one = 1, big = 16 << 20;
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)	/* resolved in the socket's namespace */
		die(dev);
	tap_filter(fd);
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = ifr.ifr_ifindex };
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		die("bind tap");
	if (!outgoing)
		setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	return fd;
}

/* ---- DNS load through the gateway ---- */

struct dns_load {
	int tx, rx;			/* the resolver's socket (server), the client's */
	int tap_in, tap_out;		/* gws0 in, gwc0 out */
	struct sockaddr_in to, resolver;
	bool unique;
	uint32_t first;			/* the first message's number (addresses stay new across runs) */
	uint64_t t0;			/* when the run began (the cache's TTL counts from it) */
	uint64_t in_ns[65536];		/* by DNS ID: when the answer entered the gateway, 0 none */
	uint32_t *lat;			/* gateway latencies, ns */
	FILE *dump;			/* $GUARD_LOAD_DUMP: "entered_ns latency_ns" a line */
	uint64_t n_lat, cap_lat;
	uint64_t entered, left, at_client, unmatched, overtaken;
	uint32_t *late;			/* how late each wake-up of the sender was, ns */
	uint64_t n_late;
	uint64_t sending_ns;		/* time spent in sendmmsg */
};

/* Message number k: hK.marketo.com AAAA with ID k, a query or its answer. unique: every
 * number its own name and address, TTL 3600; same: 16 names in turn, as a cache answers
 * them: the TTL counts down from 3600 by the second since the run began, so that an answer
 * seldom asks for more time than the element has. */
static size_t load_message(const struct dns_load *b, uint8_t *p, uint64_t k, bool answer)
{
	uint32_t i = b->first + (uint32_t)k;
	uint16_t ttl = (uint16_t)(b->unique ? 3600 : 3600 - (now_ns() - b->t0) / 1000000000u);
	return dns_message(p, (uint16_t)i, b->unique ? i : i % 16, answer, ttl);
}

static void load_sockets(struct dns_load *b, const char *client, const char *gateway, const char *server)
{
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(53) };
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(CLIENT_PORT) };
	int big = 8 << 20;
	inet_pton(AF_INET, "198.51.100.2", &src.sin_addr);
	inet_pton(AF_INET, "192.0.2.2", &dst.sin_addr);
	b->tx = socket_in(server, AF_INET, SOCK_DGRAM, 0);
	b->rx = socket_in(client, AF_INET, SOCK_DGRAM, 0);
	/* Answers held in the gateway's queue are still charged to the resolver's socket. */
	setsockopt(b->rx, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setsockopt(b->tx, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	setsockopt(b->rx, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	if (bind(b->tx, (struct sockaddr *)&src, sizeof(src)) < 0 || bind(b->rx, (struct sockaddr *)&dst, sizeof(dst)) < 0)
		die("bind");
	b->to = dst;
	b->resolver = src;
	b->tap_in = tap_open(gateway, "gws0", false);
	b->tap_out = tap_open(gateway, "gwc0", true);
}

/* The DNS ID of a tapped answer (IP header first); -1 when too short. */
static int tapped_id(const uint8_t *p, size_t n)
{
	size_t ihl = (size_t)(p[0] & 15) * 4;
	return n >= ihl + 10 ? (p[ihl + 8] << 8 | p[ihl + 9]) : -1;
}

static uint64_t cmsg_time_ns(struct msghdr *h)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		}
	return 0;
}

/* One answer seen by a tap at time t: entering, it is remembered by its ID; leaving, its
 * time in the gateway is a sample. */
static void on_tapped(struct dns_load *b, bool out, int id, uint64_t t)
{
	if (id < 0 || t == 0)
		return;
	if (!out) {
		b->overtaken += b->in_ns[id] != 0;	/* an answer of this ID 65,536 earlier never left */
		b->in_ns[id] = t;
		b->entered++;
		return;
	}
	b->left++;
	if (b->in_ns[id] == 0 || t < b->in_ns[id]) {
		b->unmatched++;
		return;
	}
	if (b->n_lat < b->cap_lat)
		b->lat[b->n_lat++] = (uint32_t)(t - b->in_ns[id] > UINT32_MAX ? UINT32_MAX : t - b->in_ns[id]);
	if (b->dump)
		fprintf(b->dump, "%lu %lu\n", (unsigned long)b->in_ns[id], (unsigned long)(t - b->in_ns[id]));
	b->in_ns[id] = 0;
}

/* Reads what waits on one socket without blocking. Returns how many. */
static int drain(struct dns_load *b, int fd)
{
	static uint8_t buf[TAP_BATCH][TAP_SNAP];
	static char ctl[TAP_BATCH][CMSG_SPACE(sizeof(struct timespec)) + 64];
	struct mmsghdr m[TAP_BATCH];
	struct iovec v[TAP_BATCH];
	for (int i = 0; i < TAP_BATCH; i++) {
		v[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
		m[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &v[i], .msg_iovlen = 1, .msg_control = ctl[i],
						      .msg_controllen = sizeof(ctl[i]) } };
	}
	int n = recvmmsg(fd, m, TAP_BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; fd != b->rx && i < n; i++)
		on_tapped(b, fd == b->tap_out, tapped_id(buf[i], m[i].msg_len), cmsg_time_ns(&m[i].msg_hdr));
	if (n > 0 && fd == b->rx)
		b->at_client += (uint64_t)n;
	return n;
}

static void drain_all(struct dns_load *b)
{
	while (drain(b, b->tap_in) == TAP_BATCH)
		;
	while (drain(b, b->tap_out) == TAP_BATCH)
		;
	while (drain(b, b->rx) == TAP_BATCH)
		;
}

/* count messages from number first on, queries (client to resolver) or their answers
 * (resolver to client), in one sendmmsg. */
static void load_send(struct dns_load *b, uint64_t first, int count, bool answers)
{
	uint8_t buf[TAP_BATCH][256];
	struct mmsghdr m[TAP_BATCH];
	struct iovec v[TAP_BATCH];
	for (int k = 0; k < count; k++) {
		v[k] = (struct iovec){ buf[k], load_message(b, buf[k], first + (uint64_t)k, answers) };
		m[k] = (struct mmsghdr){ .msg_hdr = { .msg_name = answers ? &b->to : &b->resolver,
						      .msg_namelen = sizeof(b->to), .msg_iov = &v[k], .msg_iovlen = 1 } };
	}
	uint64_t t = now_ns();
	for (int sent = 0; sent < count;) {
		int n = sendmmsg(answers ? b->tx : b->rx, m + sent, (unsigned)(count - sent), 0);
		if (n < 0 && errno != ENOBUFS && errno != EAGAIN)
			die("sendmmsg");
		sent += n > 0 ? n : 0;
	}
	b->sending_ns += now_ns() - t;
}

static void sleep_until(struct dns_load *b, uint64_t due)
{
	struct timespec ts = { (time_t)(due / 1000000000u), (long)(due % 1000000000u) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
	uint64_t late = now_ns() - due;
	b->late[b->n_late++] = (uint32_t)(late > UINT32_MAX ? UINT32_MAX : late);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The q-quantile of v[0..n), sorted, in microseconds. */
static double quantile_us(const uint32_t *v, uint64_t n, double q)
{
	uint64_t i = (uint64_t)(q * (double)n);
	return n ? v[i < n ? i : n - 1] / 1e3 : 0;
}

static void load_report(struct dns_load *b, uint64_t sent, double secs)
{
	uint64_t n = b->n_lat;
	qsort(b->lat, n, sizeof(*b->lat), cmp_u32);
	qsort(b->late, b->n_late, sizeof(*b->late), cmp_u32);
	printf("sent %lu answers in %.2f s (%.0f/s, each after its query); entered the gateway %lu, left %lu, "
	       "reached the client %lu, lost %lu\n",
	       (unsigned long)sent, secs, (double)sent / secs, (unsigned long)b->entered, (unsigned long)b->left,
	       (unsigned long)b->at_client, (unsigned long)(sent - b->left));
	printf("gateway latency p50 %.1f us, p90 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us (%lu answers)\n",
	       quantile_us(b->lat, n, 0.50), quantile_us(b->lat, n, 0.90), quantile_us(b->lat, n, 0.99),
	       quantile_us(b->lat, n, 0.999), quantile_us(b->lat, n, 1.0), (unsigned long)n);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("generator CPU %.2f s (sendmmsg %.2f s of wall time); wake-ups late p50 %.1f us, p99 %.1f us, max %.1f us\n",
	       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
	       (double)b->sending_ns / 1e9, quantile_us(b->late, b->n_late, 0.5), quantile_us(b->late, b->n_late, 0.99),
	       quantile_us(b->late, b->n_late, 1.0));
	if (b->unmatched || b->overtaken)
		printf("unmatched %lu, overtaken %lu\n", (unsigned long)b->unmatched, (unsigned long)b->overtaken);
}

/* Answers at rate/s for seconds, in ticks of burst: each tick sends burst queries from the
 * client to the resolver and the answers to the previous tick's queries (a resolver that
 * answers one tick later; the queries it receives are left unread). The sender sleeps to
 * each tick's absolute time (clock_nanosleep: it leaves the CPU between ticks; after a
 * stall it catches up at twice the rate) and reads the taps and the client's socket after
 * sending. Then waits up to 2 s for the last. */
static int dns_load(const char *client, const char *gateway, const char *server, double rate, double seconds,
		    bool unique, uint32_t first, int burst)
{
	static struct dns_load b;
	uint64_t ticks = (uint64_t)(rate * seconds / burst), period = (uint64_t)(1e9 * burst / rate);
	b.unique = unique;
	b.first = first;
	b.cap_lat = ticks * (uint64_t)burst;
	if (!(b.lat = calloc(b.cap_lat, sizeof(*b.lat))) || !(b.late = calloc(ticks + 1, sizeof(*b.late))))
		die("calloc");
	if (getenv("GUARD_LOAD_DUMP") && !(b.dump = fopen(getenv("GUARD_LOAD_DUMP"), "w")))
		die(getenv("GUARD_LOAD_DUMP"));
	prctl(PR_SET_TIMERSLACK, 1UL);	/* wake at the tick, not up to 50 us later */
	load_sockets(&b, client, gateway, server);
	uint64_t t0 = now_ns() + 1000000u, due = t0;
	b.t0 = t0;
	for (uint64_t t = 0; t <= ticks; t++) {
		sleep_until(&b, due);
		/* Behind (the sender had no CPU for a while): catch up at twice the rate, not
		 * in one burst of everything overdue. */
		uint64_t on_time = t0 + (t + 1) * period, soonest = now_ns() + period / 2;
		due = on_time > soonest ? on_time : soonest;
		if (t < ticks)
			load_send(&b, t * (uint64_t)burst, burst, false);
		if (t > 0)
			load_send(&b, (t - 1) * (uint64_t)burst, burst, true);
		/* The timestamps are the kernel's: reading them late costs nothing but room. */
		if (t % 8 == 0)
			drain_all(&b);
	}
	double secs = (double)(now_ns() - t0) / 1e9;
	uint64_t sent = ticks * (uint64_t)burst;
	for (int i = 0; i < 200 && b.left < sent; i++) {
		usleep(10000);
		drain_all(&b);
	}
	load_report(&b, sent, secs);
	if (b.dump)
		fclose(b.dump);
	return b.n_lat ? 0 : 1;
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
		/* Paced by sleeping to each tenth packet's time, not by spinning. */
		if (rate > 0 && (i + 1) % 10 == 0) {
			uint64_t due = t0 + (uint64_t)((double)(i + 1) * 1e9 / rate);
			struct timespec ts = { (time_t)(due / 1000000000u), (long)(due % 1000000000u) };
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		}
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
	if (argc >= 9 && !strcmp(argv[1], "dns-load"))
		return dns_load(argv[2], argv[3], argv[4], atof(argv[5]), atof(argv[6]), !strcmp(argv[7], "unique"),
				(uint32_t)strtoul(argv[8], NULL, 0), argc >= 10 ? atoi(argv[9]) : 5);
	if (argc >= 5 && !strcmp(argv[1], "tls-rate"))
		return tls_rate(argv[2], argv[3], atoi(argv[4]), argc >= 6 ? atof(argv[5]) : 0,
				argc >= 7 ? atoi(argv[6]) : 1024);
	fprintf(stderr, "usage: guard_load dns-load CLIENT_NS GATEWAY_NS SERVER_NS RATE SECONDS unique|same FIRST [BURST]\n"
			"       guard_load tls-rate CLIENT_NS SERVER_NS COUNT [RATE [FIRST_PORT]]\n");
	return 2;
}
