// SPDX-License-Identifier: GPL-2.0
/* The journal: one segment being written per kind (samples, others), each through a buffer that is written
 * (write(2)) at once for an urgent record and at least once per loop turn otherwise, so an agent killed with
 * SIGKILL leaves everything but the samples of its last turn; fdatasync makes it survive the host too.
 *
 * Record: u32 length of payload, u32 crc32 of (type, payload), u8 type, payload; integers little-endian.
 *   'H' header     magic "CGPSPOOL", u32 version, u32 kind (0 samples, 1 others, 2 state), u64 segment number
 *   'I' instance   u32 index, the instance id: the E records after it name it by index
 *   'E' event      u32 instance index, u64 seq, u8 flags (1: a sample), the serialized Event
 *   'S' state      u8 flags (1: lost, 2: the owner, who wrote the file), u64 × 8 (cgp_journal_state), the id */
#include "events/spool_disk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "lib/bytebuf.h"
#include "lib/log.h"

#define HDR	      9 /* u32 length, u32 crc, u8 type */
#define MAGIC	      "CGPSPOOL"
#define VERSION	      1
#define WRITE_AT      (64u << 10) /* buffered samples are written past this, or at the turn's flush */
#define SYNC_EVERY_NS 1000000000ULL
#define IDS_MAX	      16 /* instances declared in one segment (only ours writes; room to spare) */

enum { K_SAMPLES, K_OTHERS, K_STATE };
static const char *const suffix[] = {"samples", "others"};

struct seg {
	uint64_t number;
	int kind;
	uint64_t bytes; /* its file's size, buffered records included */
	uint64_t live;	/* records the spool holds */
	bool pending;	/* not replayed yet: it must stay */
};

struct writer {
	uint64_t number; /* of the segment being written; 0: none yet */
	int fd;
	uint64_t good; /* bytes of the file known written */
	struct cgp_buf buf;
	char ids[IDS_MAX][CGP_JOURNAL_ID_MAX];
	size_t n_ids;
	bool unsynced, urgent;
};

struct cgp_journal {
	char dir[256];
	int dfd, lockfd;
	size_t seg_bytes;
	struct seg *segs; /* by number */
	size_t nsegs, cap;
	uint64_t next_number;
	struct writer w[2];
	bool dir_unsynced, failing;
	bool dead; /* a segment holds nothing and is not being written: reap it */
	uint64_t synced_ns, state_bytes;
	struct cgp_journal_stats st;
};

/* ---- records ----------------------------------------------------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Appends one record whose payload is head (hlen bytes) followed by tail. */
static int rec_append(struct cgp_buf *b, uint8_t type, const void *head, size_t hlen, const void *tail, size_t tlen)
{
	uint8_t *w = cgp_buf_reserve(b, HDR + hlen + tlen);
	uLong crc;

	if (!w)
		return -ENOMEM;
	w[8] = type;
	memcpy(w + HDR, head, hlen);
	if (tlen)
		memcpy(w + HDR + hlen, tail, tlen);
	crc = crc32(0L, w + 8, (uInt)(1 + hlen + tlen));
	put32(w, (uint32_t)(hlen + tlen));
	put32(w + 4, (uint32_t)crc);
	b->len += HDR + hlen + tlen;
	return 0;
}

static int header_append(struct cgp_buf *b, int kind, uint64_t number)
{
	uint8_t h[24];

	memcpy(h, MAGIC, 8);
	put32(h + 8, VERSION);
	put32(h + 12, (uint32_t)kind);
	put64(h + 16, number);
	return rec_append(b, 'H', h, sizeof(h), NULL, 0);
}

struct rec {
	uint8_t type;
	const uint8_t *p;
	size_t len;
};

/* 1: a record in *r and *off moved past it; 0: the end; -1: cut short or failing its checksum. */
static int rec_next(const uint8_t *data, size_t size, size_t *off, struct rec *r)
{
	size_t left = size - *off;
	uint32_t len;

	if (!left)
		return 0;
	if (left < HDR)
		return -1;
	len = get32(data + *off);
	if (len > left - HDR)
		return -1;
	if ((uint32_t)crc32(0L, data + *off + 8, len + 1) != get32(data + *off + 4))
		return -1;
	r->type = data[*off + 8];
	r->p = data + *off + HDR;
	r->len = len;
	*off += HDR + len;
	return 1;
}

size_t cgp_journal_record_bytes(size_t len)
{
	return HDR + 4 + 8 + 1 + len;
}

/* ---- segments ---------------------------------------------------------------------------------------------- */

static struct seg *seg_find(struct cgp_journal *j, uint64_t number)
{
	size_t lo = 0, hi = j->nsegs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (j->segs[mid].number < number)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < j->nsegs && j->segs[lo].number == number ? &j->segs[lo] : NULL;
}

static struct seg *seg_add(struct cgp_journal *j, uint64_t number, int kind, uint64_t bytes)
{
	size_t i = j->nsegs;

	if (j->nsegs == j->cap) {
		size_t cap = j->cap ? 2 * j->cap : 32;
		struct seg *s = realloc(j->segs, cap * sizeof(*s));

		if (!s)
			return NULL;
		j->segs = s;
		j->cap = cap;
	}
	while (i > 0 && j->segs[i - 1].number > number)
		i--;
	memmove(&j->segs[i + 1], &j->segs[i], (j->nsegs - i) * sizeof(*j->segs));
	j->segs[i] = (struct seg){.number = number, .kind = kind, .bytes = bytes};
	j->nsegs++;
	return &j->segs[i];
}

static void seg_name(char *buf, size_t len, uint64_t number, int kind)
{
	snprintf(buf, len, "%016" PRIx64 ".%s", number, suffix[kind]);
}

static bool active(const struct cgp_journal *j, const struct seg *s)
{
	return j->w[s->kind].number == s->number;
}

void cgp_journal_reap(struct cgp_journal *j)
{
	size_t keep = 0;
	char name[64];

	for (size_t i = 0; i < j->nsegs; i++) {
		struct seg *s = &j->segs[i];

		if (s->live || s->pending || active(j, s)) {
			j->segs[keep++] = *s;
			continue;
		}
		seg_name(name, sizeof(name), s->number, s->kind);
		if (unlinkat(j->dfd, name, 0) && errno != ENOENT)
			cgp_err("spool %s: removing %s: %s", j->dir, name, strerror(errno));
		j->dir_unsynced = true;
	}
	j->nsegs = keep;
	j->dead = false;
}

bool cgp_journal_has_dead(const struct cgp_journal *j)
{
	return j->dead;
}

void cgp_journal_hold(struct cgp_journal *j, uint32_t seg)
{
	struct seg *s = seg_find(j, seg);

	if (s)
		s->live++;
}

bool cgp_journal_release(struct cgp_journal *j, uint32_t seg)
{
	struct seg *s = seg_find(j, seg);

	if (!s || !s->live)
		return false;
	if (--s->live == 0 && !s->pending && !active(j, s))
		j->dead = true;
	return j->dead;
}

/* ---- writing ----------------------------------------------------------------------------------------------- */

static void write_failed(struct cgp_journal *j, const char *what, int err)
{
	j->st.write_errors++;
	if (!j->failing)
		cgp_err("spool %s: %s: %s; until it works again the events are kept in memory only", j->dir, what,
			strerror(err));
	j->failing = true;
}

/* Writes the writer's buffer. On a failed or short write the file is cut back to what was whole before, so
 * no torn record sits in front of the next ones. */
static int writer_flush(struct cgp_journal *j, struct writer *w)
{
	struct seg *s = seg_find(j, w->number);
	size_t n = cgp_buf_size(&w->buf);

	while (cgp_buf_size(&w->buf)) {
		ssize_t r = write(w->fd, cgp_buf_head(&w->buf), cgp_buf_size(&w->buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int err = r < 0 ? errno : ENOSPC;

			if (ftruncate(w->fd, (off_t)w->good))
				cgp_err("spool %s: cutting a failed write back: %s", j->dir, strerror(errno));
			if (s)
				s->bytes = w->good;
			cgp_buf_clear(&w->buf);
			write_failed(j, "writing a segment", err);
			return -err;
		}
		cgp_buf_consume(&w->buf, (size_t)r);
	}
	cgp_buf_clear(&w->buf);
	if (n) {
		w->good += n;
		w->unsynced = true;
		if (j->failing)
			cgp_info("spool %s: writing works again", j->dir);
		j->failing = false;
	}
	return 0;
}

/* Closes the segment being written (made durable first) and begins the next one. */
static int writer_roll(struct cgp_journal *j, int kind)
{
	struct writer *w = &j->w[kind];
	char name[64];
	struct seg *s;
	int fd, err;

	if (w->number) {
		struct seg *old = seg_find(j, w->number);

		writer_flush(j, w);
		if (w->unsynced && !fdatasync(w->fd))
			j->st.syncs++;
		close(w->fd);
		if (old && !old->live)
			j->dead = true; /* all released while it was written */
		w->number = 0;
		w->fd = -1;
		w->unsynced = w->urgent = false;
	}
	seg_name(name, sizeof(name), j->next_number, kind);
	fd = openat(j->dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		err = errno;
		write_failed(j, "creating a segment", err);
		return -err;
	}
	s = seg_add(j, j->next_number, kind, 0);
	if (!s) {
		close(fd);
		unlinkat(j->dfd, name, 0);
		return -ENOMEM;
	}
	w->number = j->next_number++;
	w->fd = fd;
	w->good = 0;
	w->n_ids = 0;
	cgp_buf_clear(&w->buf);
	j->dir_unsynced = true;
	j->st.segments++;
	if (header_append(&w->buf, kind, w->number))
		return -ENOMEM;
	s->bytes = cgp_buf_size(&w->buf);
	return 0;
}

static int flush_all(struct cgp_journal *j)
{
	int err = 0;

	/* samples first: the disk then always holds a prefix of what the agent published */
	for (int k = K_SAMPLES; k <= K_OTHERS; k++)
		if (j->w[k].number) {
			int e = writer_flush(j, &j->w[k]);

			if (e && !err)
				err = e;
		}
	return err;
}

uint32_t cgp_journal_append(struct cgp_journal *j, const char *instance_id, uint64_t seq, bool is_sample,
			    const void *data, size_t len, bool urgent)
{
	int kind = is_sample ? K_SAMPLES : K_OTHERS;
	struct writer *w = &j->w[kind];
	size_t id_len = strlen(instance_id), idx, before;
	uint8_t h[13];
	struct seg *s;

	if (id_len >= CGP_JOURNAL_ID_MAX || len > UINT32_MAX - sizeof(h))
		return 0;
	s = w->number ? seg_find(j, w->number) : NULL;
	/* a segment that holds more than its header is full at seg_bytes; a record larger than that gets one alone */
	if (!s || (s->bytes + cgp_journal_record_bytes(len) > j->seg_bytes && s->bytes > HDR + 24) ||
	    w->n_ids == IDS_MAX) {
		if (writer_roll(j, kind))
			return 0;
		s = seg_find(j, w->number);
	}
	before = cgp_buf_size(&w->buf);
	for (idx = 0; idx < w->n_ids && strcmp(w->ids[idx], instance_id); idx++)
		;
	if (idx == w->n_ids) {
		uint8_t ih[4];

		put32(ih, (uint32_t)idx);
		if (rec_append(&w->buf, 'I', ih, 4, instance_id, id_len))
			return 0;
		strcpy(w->ids[w->n_ids++], instance_id);
	}
	put32(h, (uint32_t)idx);
	put64(h + 4, seq);
	h[12] = is_sample ? 1 : 0;
	if (rec_append(&w->buf, 'E', h, sizeof(h), data, len)) {
		w->buf.len = w->buf.off + before;
		return 0;
	}
	s->bytes += cgp_buf_size(&w->buf) - before;
	s->live++;
	j->st.records++;
	if (urgent) {
		w->urgent = true;
		if (flush_all(j)) {
			s->live--;
			return 0;
		}
	} else if (cgp_buf_size(&w->buf) >= WRITE_AT && writer_flush(j, w)) {
		s->live--;
		return 0;
	}
	return (uint32_t)w->number;
}

int cgp_journal_flush(struct cgp_journal *j)
{
	return flush_all(j);
}

bool cgp_journal_has_urgent(const struct cgp_journal *j)
{
	return j->w[K_SAMPLES].urgent || j->w[K_OTHERS].urgent;
}

int cgp_journal_sync(struct cgp_journal *j, bool urgent, uint64_t now_ns)
{
	bool due = urgent || now_ns - j->synced_ns >= SYNC_EVERY_NS;
	int err = 0;

	if (!due)
		return 0;
	for (int k = K_SAMPLES; k <= K_OTHERS; k++) {
		struct writer *w = &j->w[k];

		if (!w->number || !w->unsynced)
			continue;
		if (fdatasync(w->fd)) {
			err = -errno;
			write_failed(j, "fdatasync", errno);
			continue;
		}
		j->st.syncs++;
		w->unsynced = w->urgent = false;
	}
	if (j->dir_unsynced && !fsync(j->dfd))
		j->dir_unsynced = false;
	j->synced_ns = now_ns;
	return err;
}

int cgp_journal_save_state(struct cgp_journal *j, const char *owner, const struct cgp_journal_state *st, size_t n)
{
	struct cgp_buf b = CGP_BUF_INIT;
	int fd, err = 0;

	err = header_append(&b, K_STATE, 0);
	for (size_t i = 0; i < n && !err; i++) {
		uint8_t h[1 + 8 * 8];
		const uint64_t v[8] = {st[i].last_seq,
				       st[i].acked_seq,
				       st[i].samples_dropped_upto,
				       st[i].others_dropped_upto,
				       st[i].unreported_samples,
				       st[i].unreported_others,
				       st[i].unreported_first,
				       st[i].unreported_last};

		h[0] = (st[i].lost ? 1 : 0) | (!strcmp(st[i].instance_id, owner) ? 2 : 0);
		for (int k = 0; k < 8; k++)
			put64(h + 1 + 8 * k, v[k]);
		err = rec_append(&b, 'S', h, sizeof(h), st[i].instance_id, strlen(st[i].instance_id));
	}
	if (err) {
		cgp_buf_free(&b);
		return err;
	}
	fd = openat(j->dfd, "state.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		err = -errno;
	} else {
		size_t off = 0;

		while (off < cgp_buf_size(&b)) {
			ssize_t r = write(fd, cgp_buf_head(&b) + off, cgp_buf_size(&b) - off);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				err = r < 0 ? -errno : -ENOSPC;
				break;
			}
			off += (size_t)r;
		}
		close(fd);
		/* rename replaces the old state whole, or not at all */
		if (!err && renameat(j->dfd, "state.tmp", j->dfd, "state"))
			err = -errno;
	}
	if (err) {
		unlinkat(j->dfd, "state.tmp", 0);
		write_failed(j, "saving the state", -err);
	} else {
		j->state_bytes = cgp_buf_size(&b);
		j->dir_unsynced = true;
	}
	cgp_buf_free(&b);
	return err;
}

/* ---- opening and replay ------------------------------------------------------------------------------------ */

int cgp_journal_open(struct cgp_journal **out, const char *dir, size_t seg_bytes, char *why, size_t whylen)
{
	struct cgp_journal *j = calloc(1, sizeof(*j));
	struct stat st;
	struct dirent *de;
	DIR *d = NULL;
	int err, fd;

	*out = NULL;
	if (!j)
		return -ENOMEM;
	snprintf(j->dir, sizeof(j->dir), "%s", dir);
	j->seg_bytes = seg_bytes;
	j->dfd = j->lockfd = -1;
	j->w[0].fd = j->w[1].fd = -1;
	if (mkdir(dir, 0700) && errno != EEXIST) {
		err = -errno;
		snprintf(why, whylen, "cannot create %s: %s", dir, strerror(errno));
		goto fail;
	}
	j->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (j->dfd < 0 || fstat(j->dfd, &st)) {
		err = -errno;
		snprintf(why, whylen, "cannot open %s: %s", dir, strerror(errno));
		goto fail;
	}
	/* events name containers and pods: nobody else reads them */
	if ((st.st_mode & 077) && fchmod(j->dfd, 0700)) {
		err = -errno;
		snprintf(why, whylen, "%s is open to others and cannot be made 0700: %s", dir, strerror(errno));
		goto fail;
	}
	j->lockfd = openat(j->dfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (j->lockfd < 0 || flock(j->lockfd, LOCK_EX | LOCK_NB)) {
		err = -errno;
		snprintf(why, whylen, "%s: %s", dir,
			 errno == EWOULDBLOCK ? "in use by another agent" : strerror(errno));
		goto fail;
	}
	fd = dup(j->dfd);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		snprintf(why, whylen, "cannot list %s: %s", dir, strerror(errno));
		goto fail;
	}
	j->next_number = 1;
	while ((de = readdir(d))) {
		char sfx[16];
		uint64_t number;
		int n = 0, kind;
		struct seg *s;

		if (!strcmp(de->d_name, "state.tmp")) {
			unlinkat(j->dfd, de->d_name, 0); /* a save cut short: the old state stands */
			continue;
		}
		if (sscanf(de->d_name, "%16" SCNx64 ".%15s%n", &number, sfx, &n) != 2 ||
		    (size_t)n != strlen(de->d_name))
			continue;
		kind = !strcmp(sfx, suffix[K_SAMPLES]) ? K_SAMPLES : !strcmp(sfx, suffix[K_OTHERS]) ? K_OTHERS : -1;
		if (kind < 0 || !number || fstatat(j->dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		s = seg_add(j, number, kind, (uint64_t)st.st_size);
		if (!s) {
			err = -ENOMEM;
			snprintf(why, whylen, "out of memory listing %s", dir);
			goto fail;
		}
		s->pending = true;
		if (number >= j->next_number)
			j->next_number = number + 1;
	}
	closedir(d);
	j->st.segments = j->nsegs;
	*out = j;
	return 0;
fail:
	if (d)
		closedir(d);
	cgp_journal_close(j);
	return err;
}

static int read_file(int dfd, const char *name, struct cgp_buf *b)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int err = 0;

	cgp_buf_clear(b);
	if (fd < 0)
		return -errno;
	for (;;) {
		uint8_t *w = cgp_buf_reserve(b, 1 << 16);
		ssize_t r;

		if (!w) {
			err = -ENOMEM;
			break;
		}
		r = read(fd, w, 1 << 16);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? -errno : 0;
			break;
		}
		b->len += (size_t)r;
	}
	close(fd);
	return err;
}

static void corrupt(struct cgp_journal *j, const char *name, size_t off, size_t size, const char *what)
{
	j->st.replay.corrupt_records++;
	j->st.replay.corrupt_bytes += size - off;
	cgp_err("spool %s: %s: %s at byte %zu; the last %zu bytes of it are skipped", j->dir, name, what, off,
		size - off);
}

static bool header_ok(const struct rec *r, int kind, uint64_t number)
{
	return r->type == 'H' && r->len == 24 && !memcmp(r->p, MAGIC, 8) && get32(r->p + 8) == VERSION &&
	       get32(r->p + 12) == (uint32_t)kind && get64(r->p + 16) == number;
}

static void replay_state(struct cgp_journal *j, const struct cgp_journal_visitor *v, struct cgp_buf *b)
{
	size_t off = 0, size;
	struct rec r;
	int ret;

	if (read_file(j->dfd, "state", b))
		return; /* a new directory, or one whose events were all acknowledged before any state */
	size = cgp_buf_size(b);
	j->state_bytes = size;
	if (rec_next(cgp_buf_head(b), size, &off, &r) != 1 || !header_ok(&r, K_STATE, 0)) {
		corrupt(j, "state", 0, size, "no valid header");
		return;
	}
	while ((ret = rec_next(cgp_buf_head(b), size, &off, &r)) == 1) {
		struct cgp_journal_state s = {0};
		size_t idl = r.len - 65;

		if (r.type != 'S' || r.len < 65 || idl >= CGP_JOURNAL_ID_MAX) {
			corrupt(j, "state", off - HDR - r.len, size, "an unknown record");
			return;
		}
		memcpy(s.instance_id, r.p + 65, idl);
		s.lost = r.p[0] & 1;
		uint64_t *f[8] = {
		    &s.last_seq,	   &s.acked_seq,	 &s.samples_dropped_upto, &s.others_dropped_upto,
		    &s.unreported_samples, &s.unreported_others, &s.unreported_first,	  &s.unreported_last};

		for (int k = 0; k < 8; k++)
			*f[k] = get64(r.p + 1 + 8 * k);
		if (r.p[0] & 2)
			memcpy(j->st.replay.owner, s.instance_id, idl + 1);
		v->state(v->ctx, &s);
	}
	if (ret < 0)
		corrupt(j, "state", off, size, "a record cut short or failing its checksum");
}

static void replay_segment(struct cgp_journal *j, const struct cgp_journal_visitor *v, size_t i, struct cgp_buf *b,
			   char *last_id)
{
	char ids[IDS_MAX][CGP_JOURNAL_ID_MAX], name[64];
	uint64_t number = j->segs[i].number;
	int kind = j->segs[i].kind, ret, err;
	size_t n_ids = 0, off = 0, size;
	struct rec r;

	seg_name(name, sizeof(name), number, kind);
	err = read_file(j->dfd, name, b);
	if (err) {
		cgp_err("spool %s: reading %s: %s; its events are not replayed", j->dir, name, strerror(-err));
		return;
	}
	size = cgp_buf_size(b);
	j->st.replay.segments++;
	if (rec_next(cgp_buf_head(b), size, &off, &r) != 1 || !header_ok(&r, kind, number)) {
		corrupt(j, name, 0, size, "no valid header");
		return;
	}
	while ((ret = rec_next(cgp_buf_head(b), size, &off, &r)) == 1) {
		size_t at = off - HDR - r.len;

		if (r.type == 'I' && r.len > 4 && r.len - 4 < CGP_JOURNAL_ID_MAX && get32(r.p) == n_ids &&
		    n_ids < IDS_MAX) {
			memcpy(ids[n_ids], r.p + 4, r.len - 4);
			ids[n_ids][r.len - 4] = '\0';
			strcpy(last_id, ids[n_ids++]);
		} else if (r.type == 'E' && r.len >= 13 && get32(r.p) < n_ids && get64(r.p + 4) &&
			   (r.p[12] == 1) == (kind == K_SAMPLES)) {
			j->st.replay.events++;
			if (v->event(v->ctx, ids[get32(r.p)], get64(r.p + 4), kind == K_SAMPLES, r.p + 13, r.len - 13,
				     (uint32_t)number))
				j->st.replay.kept++;
		} else {
			corrupt(j, name, at, size, "a record that does not belong there");
			return;
		}
	}
	if (ret < 0)
		corrupt(j, name, off, size, "a record cut short or failing its checksum");
}

void cgp_journal_replay(struct cgp_journal *j, const struct cgp_journal_visitor *v)
{
	struct cgp_buf b = CGP_BUF_INIT;
	char last_id[CGP_JOURNAL_ID_MAX] = "";

	replay_state(j, v, &b);
	/* by number, each instance's records of one kind come in seq order; the visitor may drop records and reap
	 * replayed segments meanwhile, so look for the next one afresh each time */
	for (;;) {
		size_t i;

		for (i = 0; i < j->nsegs && !j->segs[i].pending; i++)
			;
		if (i == j->nsegs)
			break;
		uint64_t number = j->segs[i].number;

		replay_segment(j, v, i, &b, last_id);
		seg_find(j, number)->pending = false;
	}
	if (!j->st.replay.owner[0])
		strcpy(j->st.replay.owner, last_id);
	cgp_buf_free(&b);
	if (j->st.replay.segments || j->st.replay.corrupt_records)
		cgp_info("spool %s: %" PRIu64 " segments hold %" PRIu64 " events, %" PRIu64
			 " of them not yet acknowledged; %" PRIu64 " torn or corrupt records skipped",
			 j->dir, j->st.replay.segments, j->st.replay.events, j->st.replay.kept,
			 j->st.replay.corrupt_records);
}

void cgp_journal_get_stats(const struct cgp_journal *j, struct cgp_journal_stats *st)
{
	*st = j->st;
	st->segments = j->nsegs;
	st->bytes = j->state_bytes;
	for (size_t i = 0; i < j->nsegs; i++)
		st->bytes += j->segs[i].bytes;
}

void cgp_journal_close(struct cgp_journal *j)
{
	if (!j)
		return;
	for (int k = K_SAMPLES; k <= K_OTHERS; k++) {
		struct writer *w = &j->w[k];

		if (w->fd >= 0) {
			writer_flush(j, w);
			if (w->unsynced)
				fdatasync(w->fd);
			close(w->fd);
		}
		w->fd = -1;
		w->number = 0; /* no longer being written: an empty one goes */
		cgp_buf_free(&w->buf);
	}
	if (j->dfd >= 0) {
		cgp_journal_reap(j);
		fsync(j->dfd);
		close(j->dfd);
	}
	if (j->lockfd >= 0)
		close(j->lockfd);
	free(j->segs);
	free(j);
}
