// SPDX-License-Identifier: GPL-2.0
/* The collector's store: one append-only file (or stdout), written through our own buffer and write(2), made
 * durable with fdatasync. `committed` is the file's length at the last sync: a failed group is cut back to it. */
#include "collector/event_log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/bytebuf.h"
#include "events/event_json.h"
#include "events/frame.h"

#define FLUSH_AT (256u << 10)

struct cgp_event_log {
	int fd;
	bool pb, own_fd;
	bool regular; /* a regular file: fdatasync and ftruncate work */
	struct cgp_buf out;
	uint64_t written, committed; /* file offsets: end of what write(2) took, end of what was synced */
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

static int read_all(int fd, struct cgp_buf *b)
{
	for (;;) {
		uint8_t *w = cgp_buf_reserve(b, 1 << 20);
		ssize_t n;

		if (!w)
			return -ENOMEM;
		n = read(fd, w, 1 << 20);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		b->len += (size_t)n;
	}
}

static void remember(struct cgp_dedup *d, const char *instance, uint64_t seq)
{
	struct cgp_dedup_instance *in = cgp_dedup_get(d, instance);

	/* a stored record far past the window cannot be tracked; it only costs a possible duplicate line */
	if (in)
		cgp_dedup_add(in, seq);
}

/* A stored line as JSON. A number past int64 (a uint64 figure from an agent, or from anyone) is valid JSON that
 * jansson refuses as an integer: such a line is read again with its numbers as reals, which keeps instance_id
 * and a seq up to 2^53 exact. */
static json_t *load_line(const char *p, size_t n)
{
	json_t *j = json_loadb(p, n, 0, NULL);

	return j ? j : json_loadb(p, n, JSON_DECODE_INT_AS_REAL, NULL);
}

static bool seq_of(const json_t *v, uint64_t *seq)
{
	double d;

	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*seq = (uint64_t)json_integer_value(v);
		return true;
	}
	if (!json_is_real(v))
		return false;
	d = json_real_value(v);
	if (!(d >= 0 && d <= 9007199254740992.0) || d != (double)(uint64_t)d) /* 2^53 */
		return false;
	*seq = (uint64_t)d;
	return true;
}

/* Returns the length of the valid prefix. */
static size_t replay_jsonl(const struct cgp_buf *b, struct cgp_dedup *d, struct cgp_event_log_replay *r)
{
	const char *p = (const char *)cgp_buf_head(b), *end = p + cgp_buf_size(b);

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			break; /* the last line was cut short */
		json_t *j = load_line(p, (size_t)(nl - p));
		json_t *id = json_object_get(j, "instance_id");
		uint64_t seq;

		if (json_is_string(id) && seq_of(json_object_get(j, "seq"), &seq)) {
			remember(d, json_string_value(id), seq);
			r->records++;
		} else {
			r->skipped++;
		}
		json_decref(j);
		p = nl + 1;
	}
	return (size_t)(p - (const char *)cgp_buf_head(b));
}

static size_t replay_pb(const struct cgp_buf *b, struct cgp_dedup *d, struct cgp_event_log_replay *r)
{
	const uint8_t *p = cgp_buf_head(b), *end = p + cgp_buf_size(b);

	while (p < end) {
		uint64_t n;
		int h = cgp_varint_get(p, (size_t)(end - p), &n);

		if (h <= 0 || n > (uint64_t)(end - p - h))
			break;
		Cgpulse__V1__Event *ev = cgpulse__v1__event__unpack(NULL, (size_t)n, p + h);

		if (!ev)
			break; /* framing is lost after a bad record: keep what came before */
		remember(d, ev->instance_id, ev->seq);
		r->records++;
		cgpulse__v1__event__free_unpacked(ev, NULL);
		p += h + n;
	}
	return (size_t)(p - cgp_buf_head(b));
}

int cgp_event_log_open(struct cgp_event_log **out, const char *path, struct cgp_dedup *d,
		       struct cgp_event_log_replay *replay, char *why, size_t whylen)
{
	struct cgp_event_log *l = calloc(1, sizeof(*l));
	struct cgp_buf old = CGP_BUF_INIT;
	int err;

	memset(replay, 0, sizeof(*replay));
	if (!l)
		return -ENOMEM;
	if (!path || !strcmp(path, "-")) {
		struct stat st;

		l->fd = STDOUT_FILENO;
		l->regular = !fstat(l->fd, &st) && S_ISREG(st.st_mode);
		if (l->regular) /* stdout redirected to a file: appended to where it stands */
			l->written = l->committed = (uint64_t)lseek(l->fd, 0, SEEK_CUR);
		*out = l;
		return 0;
	}
	l->pb = ends_with(path, ".pb");
	l->own_fd = true;
	l->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (l->fd < 0) {
		err = -errno;
		snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
		goto fail;
	}
	/* a FIFO or a device (/dev/null) has nothing to read back, cut or sync: written is all it can be */
	struct stat st;

	l->regular = !fstat(l->fd, &st) && S_ISREG(st.st_mode);
	if (!l->regular) {
		*out = l;
		return 0;
	}
	err = read_all(l->fd, &old);
	if (err) {
		snprintf(why, whylen, "cannot read %s: %s", path, strerror(-err));
		goto fail;
	}
	size_t keep = l->pb ? replay_pb(&old, d, replay) : replay_jsonl(&old, d, replay);

	replay->trimmed = cgp_buf_size(&old) - keep;
	/* appending after half a record would corrupt the next one too */
	if (replay->trimmed && ftruncate(l->fd, (off_t)keep)) {
		err = -errno;
		snprintf(why, whylen, "cannot trim %s: %s", path, strerror(errno));
		goto fail;
	}
	if (lseek(l->fd, (off_t)keep, SEEK_SET) < 0) {
		err = -errno;
		snprintf(why, whylen, "cannot seek %s: %s", path, strerror(errno));
		goto fail;
	}
	/* what a crashed collector wrote but had not synced is read back as stored, and acknowledged when resent:
	 * make it durable first */
	if (keep && fdatasync(l->fd)) {
		err = -errno;
		snprintf(why, whylen, "cannot sync %s: %s", path, strerror(errno));
		goto fail;
	}
	l->written = l->committed = keep;
	cgp_buf_free(&old);
	*out = l;
	return 0;
fail:
	cgp_buf_free(&old);
	if (l->fd >= 0)
		close(l->fd);
	free(l);
	return err;
}

static int flush_out(struct cgp_event_log *l)
{
	while (cgp_buf_size(&l->out)) {
		ssize_t n = write(l->fd, cgp_buf_head(&l->out), cgp_buf_size(&l->out));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENOSPC;
		l->written += (uint64_t)n;
		cgp_buf_consume(&l->out, (size_t)n);
	}
	return 0;
}

int cgp_event_log_write(struct cgp_event_log *l, const Cgpulse__V1__Event *ev, const uint8_t *raw, size_t rawlen)
{
	int err;

	if (l->pb) {
		err = cgp_frame_append(&l->out, raw, rawlen);
	} else {
		err = cgp_event_json_append(ev, CGP_JSON_ENVELOPE, &l->out);
		if (!err)
			err = cgp_buf_append(&l->out, "\n", 1);
	}
	if (!err && cgp_buf_size(&l->out) >= FLUSH_AT)
		err = flush_out(l);
	return err;
}

int cgp_event_log_sync(struct cgp_event_log *l)
{
	int err = flush_out(l);

	if (err)
		return err;
	if (l->regular && l->written != l->committed && fdatasync(l->fd))
		return -errno;
	l->committed = l->written;
	return 0;
}

int cgp_event_log_rollback(struct cgp_event_log *l)
{
	cgp_buf_clear(&l->out);
	if (l->written == l->committed)
		return 0;
	if (!l->regular)
		return -ESPIPE; /* a pipe keeps what it took */
	if (ftruncate(l->fd, (off_t)l->committed) || lseek(l->fd, (off_t)l->committed, SEEK_SET) < 0)
		return -errno;
	l->written = l->committed;
	return 0;
}

uint64_t cgp_event_log_pending(const struct cgp_event_log *l)
{
	return l->written - l->committed + cgp_buf_size(&l->out);
}

bool cgp_event_log_durable(const struct cgp_event_log *l)
{
	return l->regular;
}

void cgp_event_log_close(struct cgp_event_log *l)
{
	if (!l)
		return;
	cgp_event_log_sync(l);
	if (l->own_fd)
		close(l->fd);
	cgp_buf_free(&l->out);
	free(l);
}
