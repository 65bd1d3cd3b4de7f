// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/http_conns.h"

int cgp_conns_init(struct cgp_conns *s, const struct cgp_conns_cfg *cfg)
{
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	if (cgp_idmap_init(&s->per_client, 64) || cgp_idmap_init(&s->by_fd, 128)) {
		cgp_conns_free(s);
		return -ENOMEM;
	}
	return 0;
}

void cgp_conns_free(struct cgp_conns *s)
{
	struct cgp_conn *c = s->head, *next;

	for (; c; c = next) {
		next = c->next;
		free(c);
	}
	s->head = s->tail = NULL;
	cgp_idmap_free(&s->per_client);
	cgp_idmap_free(&s->by_fd);
}

/* A client's connections: in the main pool (low half) and in the reserve (high half). */
static uint64_t held(const struct cgp_conns *s, uint64_t client)
{
	return (uint64_t)(uintptr_t)cgp_idmap_get(&s->per_client, client);
}

static unsigned held_main(const struct cgp_conns *s, uint64_t client)
{
	return (unsigned)(held(s, client) & 0xffffffff);
}

static unsigned held_all(const struct cgp_conns *s, uint64_t client)
{
	uint64_t h = held(s, client);

	return (unsigned)(h & 0xffffffff) + (unsigned)(h >> 32);
}

static int add_held(struct cgp_conns *s, uint64_t client, bool reserve, int d)
{
	uint64_t h = held(s, client) + (uint64_t)(int64_t)d * (reserve ? 1ULL << 32 : 1);

	if (!h) {
		cgp_idmap_del(&s->per_client, client);
		return 0;
	}
	return cgp_idmap_put(&s->per_client, client, (void *)(uintptr_t)h);
}

/* A reserve connection to close for a newcomer from client, or NULL. Never one that is being answered, nor one
 * admitted at this same moment (it is read before the next admissions). First choice: the one whose client
 * holds the most connections, when that is more than the newcomer's client holds (a probe from a quiet address
 * always gets in, whatever a busy one keeps opening); else the oldest that had time to send its request. */
static struct cgp_conn *evictable(const struct cgp_conns *s, uint64_t client, uint64_t now)
{
	struct cgp_conn *busiest = NULL, *oldest = NULL;
	unsigned most = held_all(s, client);

	for (struct cgp_conn *c = s->head; c; c = c->next) {
		unsigned n;

		if (!c->reserve || c->closing || c->in_request || c->wait_since_ns >= now)
			continue;
		n = held_all(s, c->client);
		if (n > most) {
			most = n;
			busiest = c;
		}
		if (!oldest && now - c->wait_since_ns >= s->cfg.reserve_min_age_ns)
			oldest = c;
	}
	return busiest ? busiest : oldest;
}

static unsigned reserve_open(const struct cgp_conns *s)
{
	unsigned n = 0;

	for (struct cgp_conn *c = s->head; c; c = c->next)
		n += c->reserve && !c->closing;
	return n;
}

struct cgp_conn *cgp_conns_admit(struct cgp_conns *s, int fd, uint64_t client, uint64_t now, struct cgp_conn **evict,
				 bool *oom)
{
	bool reserve = false;
	struct cgp_conn *c;

	*evict = NULL;
	*oom = false;
	if (s->n_main >= s->cfg.max_main || held_main(s, client) >= s->cfg.max_per_client) {
		s->refused[s->n_main >= s->cfg.max_main ? CGP_REFUSED_CONNECTION_LIMIT : CGP_REFUSED_CLIENT_LIMIT]++;
		if (reserve_open(s) >= s->cfg.reserve) {
			*evict = evictable(s, client, now);
			if (!*evict) {
				s->refused[CGP_REFUSED_RESERVE_FULL]++;
				return NULL;
			}
		}
		reserve = true;
	}
	c = calloc(1, sizeof(*c));
	if (!c || cgp_idmap_put(&s->by_fd, (uint64_t)fd + 1, c) || add_held(s, client, reserve, 1)) {
		if (c)
			cgp_idmap_del(&s->by_fd, (uint64_t)fd + 1);
		free(c);
		*evict = NULL;
		*oom = true;
		return NULL;
	}
	if (*evict) {
		(*evict)->closing = true;
		s->refused[CGP_REFUSED_RESERVE_EVICTED]++;
	}
	c->fd = fd;
	c->client = client;
	c->wait_since_ns = now;
	c->reserve = reserve;
	c->prev = s->tail;
	if (s->tail)
		s->tail->next = c;
	else
		s->head = c;
	s->tail = c;
	if (reserve)
		s->n_reserve++;
	else
		s->n_main++;
	return c;
}

struct cgp_conn *cgp_conns_by_fd(const struct cgp_conns *s, int fd)
{
	return fd < 0 ? NULL : cgp_idmap_get(&s->by_fd, (uint64_t)fd + 1);
}

void cgp_conns_closed(struct cgp_conns *s, struct cgp_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->tail = c->prev;
	if (cgp_idmap_get(&s->by_fd, (uint64_t)c->fd + 1) == c)
		cgp_idmap_del(&s->by_fd, (uint64_t)c->fd + 1);
	if (c->reserve)
		s->n_reserve--;
	else
		s->n_main--;
	add_held(s, c->client, c->reserve, -1); /* a decrease never allocates */
	free(c);
}

void cgp_conns_request_started(struct cgp_conn *c)
{
	c->in_request = true;
}

void cgp_conns_request_done(struct cgp_conn *c, uint64_t now)
{
	c->in_request = false;
	c->wait_since_ns = now; /* a kept-alive connection gets the same deadline for its next request */
}

static uint64_t deadline_of(const struct cgp_conns *s, const struct cgp_conn *c)
{
	return c->wait_since_ns + (c->reserve ? s->cfg.reserve_header_ns : s->cfg.header_ns);
}

struct cgp_conn *cgp_conns_next_expired(struct cgp_conns *s, uint64_t now)
{
	for (struct cgp_conn *c = s->head; c; c = c->next) {
		if (c->in_request || c->closing || now < deadline_of(s, c))
			continue;
		c->closing = true;
		s->refused[CGP_REFUSED_HEADER_DEADLINE]++;
		return c;
	}
	return NULL;
}

uint64_t cgp_conns_next_deadline_ns(const struct cgp_conns *s, uint64_t now)
{
	uint64_t best = UINT64_MAX;

	for (const struct cgp_conn *c = s->head; c; c = c->next) {
		uint64_t d;

		if (c->in_request || c->closing)
			continue;
		d = deadline_of(s, c);
		if (d <= now)
			return 0;
		if (d - now < best)
			best = d - now;
	}
	return best;
}
