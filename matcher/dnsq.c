/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dnsq.c — outstanding DNS queries: a set-associative table of DNSQ_WAYS-entry buckets. */
#include "dnsq.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "guard_table.h"

/* Padding is zeroed: the key is hashed and compared bytewise. */
struct dnsq_key {
	uint8_t family, proto;
	uint16_t id;
	uint16_t client_port, server_port;
	/* Part of the key: a client may ask A and AAAA at once with one ID from one port. */
	uint16_t qtype;
	uint8_t pad[6];
	struct addr client, server;
};

struct dnsq_entry {
	struct dnsq_key key;
	uint64_t question;	/* seeded hash of the question's name (text form) */
	uint64_t expires_ms;	/* 0: empty */
};

/* dnsq_outstanding_step counts one part of the table a call. */
#define DNSQ_COUNT_PARTS 16

struct dnsq {
	struct dnsq_entry *slots;	/* n_buckets * DNSQ_WAYS */
	size_t n_buckets;		/* a power of two, at least DNSQ_COUNT_PARTS */
	size_t part_live[DNSQ_COUNT_PARTS];	/* live queries in each part when last counted */
	size_t next_part;
	uint32_t timeout_ms;
	uint64_t seed;
};

struct dnsq *dnsq_new(size_t capacity, uint32_t timeout_ms)
{
	struct dnsq *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	/* Room for twice capacity: hashing fills buckets unevenly, and a full bucket pushes a
	 * live query out while the table as a whole still has room. */
	q->n_buckets = DNSQ_COUNT_PARTS / DNSQ_WAYS;
	while (q->n_buckets * DNSQ_WAYS < 2 * capacity)
		q->n_buckets *= 2;
	q->timeout_ms = timeout_ms;
	/* The IDs and ports are the off-path forger's to guess; the seed keeps it from
	 * choosing queries that share a bucket to push a victim's query out. */
	if (getrandom(&q->seed, sizeof(q->seed), GRND_NONBLOCK) != sizeof(q->seed))
		q->seed = (uint64_t)(uintptr_t)q ^ 0x9e3779b97f4a7c15ull;
	if (!(q->slots = calloc(q->n_buckets * DNSQ_WAYS, sizeof(*q->slots)))) {
		free(q);
		return NULL;
	}
	return q;
}

void dnsq_free(struct dnsq *q)
{
	if (!q)
		return;
	free(q->slots);
	free(q);
}

/* The key of the exchange p belongs to: the client is p's source for a query, its
 * destination for an answer. */
static void make_key(struct dnsq_key *k, const struct packet *p, bool query, const struct dns_response *m)
{
	memset(k, 0, sizeof(*k));
	k->family = p->family;
	k->proto = p->proto;
	k->id = m->id;
	k->qtype = m->qtype;
	k->client = query ? p->src : p->dst;
	k->server = query ? p->dst : p->src;
	k->client_port = query ? p->sport : p->dport;
	k->server_port = query ? p->dport : p->sport;
}

static uint64_t question_hash(const struct dnsq *q, const struct dns_response *m)
{
	return gtab_hash(m->question, strlen(m->question), q->seed);
}

static struct dnsq_entry *bucket(const struct dnsq *q, const struct dnsq_key *k)
{
	size_t b = (size_t)gtab_hash(k, sizeof(*k), q->seed) & (q->n_buckets - 1);
	return q->slots + b * DNSQ_WAYS;
}

static bool live(const struct dnsq_entry *e, uint64_t now_ms)
{
	return e->expires_ms > now_ms;
}

/* The live entry with key k in its bucket b, or NULL. */
static struct dnsq_entry *find(struct dnsq_entry *b, const struct dnsq_key *k, uint64_t now_ms)
{
	for (size_t i = 0; i < DNSQ_WAYS; i++)
		if (live(&b[i], now_ms) && !memcmp(&b[i].key, k, sizeof(*k)))
			return &b[i];
	return NULL;
}

/* Where a new query goes in bucket b: a free or expired slot, else the one that expires
 * first. */
static struct dnsq_entry *victim(struct dnsq_entry *b, uint64_t now_ms)
{
	struct dnsq_entry *v = &b[0];
	for (size_t i = 0; i < DNSQ_WAYS; i++) {
		if (!live(&b[i], now_ms))
			return &b[i];
		if (b[i].expires_ms < v->expires_ms)
			v = &b[i];
	}
	return v;
}

enum dnsq_result dnsq_query(struct dnsq *q, uint64_t now_ms, const struct packet *p, const struct dns_response *m)
{
	struct dnsq_key k;
	make_key(&k, p, true, m);
	struct dnsq_entry *b = bucket(q, &k);
	/* A retransmission (same port and ID) takes the place of the query it repeats. */
	struct dnsq_entry *e = find(b, &k, now_ms);
	enum dnsq_result r = DNSQ_RECORDED;
	if (!e) {
		e = victim(b, now_ms);
		r = live(e, now_ms) ? DNSQ_EVICTED : DNSQ_RECORDED;
	}
	e->key = k;
	e->question = question_hash(q, m);
	e->expires_ms = now_ms + q->timeout_ms;
	/* now_ms 0 (a test's clock) must not make an entry look empty. */
	if (e->expires_ms == 0)
		e->expires_ms = 1;
	return r;
}

enum dnsq_result dnsq_answer(struct dnsq *q, uint64_t now_ms, const struct packet *p, const struct dns_response *m)
{
	struct dnsq_key k;
	make_key(&k, p, false, m);
	struct dnsq_entry *e = find(bucket(q, &k), &k, now_ms);
	if (!e)
		return DNSQ_UNSOLICITED;
	/* A mismatch leaves the query in place: the real answer may still come. */
	if (e->question != question_hash(q, m))
		return DNSQ_MISMATCHED;
	e->expires_ms = 0;
	return DNSQ_ANSWERED;
}

size_t dnsq_outstanding(const struct dnsq *q, uint64_t now_ms)
{
	size_t n = 0;
	for (size_t i = 0; i < q->n_buckets * DNSQ_WAYS; i++)
		n += live(&q->slots[i], now_ms);
	return n;
}

size_t dnsq_outstanding_step(struct dnsq *q, uint64_t now_ms)
{
	size_t per = q->n_buckets * DNSQ_WAYS / DNSQ_COUNT_PARTS, from = q->next_part * per, n = 0;
	for (size_t i = from; i < from + per; i++)
		n += live(&q->slots[i], now_ms);
	q->part_live[q->next_part] = n;
	q->next_part = (q->next_part + 1) % DNSQ_COUNT_PARTS;
	size_t sum = 0;
	for (size_t k = 0; k < DNSQ_COUNT_PARTS; k++)
		sum += q->part_live[k];
	return sum;
}
