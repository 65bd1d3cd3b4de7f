// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "collect/ringbuf.h"

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

int cgp_ringbuf_open(struct cgp_ringbuf *rb, int map_fd, cgp_ringbuf_fn fn, void *ctx)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	size_t pg = page_size();
	void *p;

	memset(rb, 0, sizeof(*rb));
	rb->map_fd = -1;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_RINGBUF || !info.max_entries || (info.max_entries & (info.max_entries - 1)))
		return -EINVAL;
	rb->size = info.max_entries;
	rb->mask = info.max_entries - 1;
	p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	rb->consumer_pos = p;
	/* the producer's page and the data, once: libbpf asks for the data twice over (page + 2 * size) */
	p = mmap(NULL, pg + rb->size, PROT_READ, MAP_SHARED, map_fd, (off_t)pg);
	if (p == MAP_FAILED) {
		int err = -errno;

		munmap(rb->consumer_pos, pg);
		rb->consumer_pos = NULL;
		return err;
	}
	rb->producer_pos = p;
	rb->data = (const uint8_t *)p + pg;
	rb->map_fd = map_fd;
	rb->fn = fn;
	rb->ctx = ctx;
	return 0;
}

/* A record's whole footprint in the ring: header, data, padding to 8 bytes (the kernel's layout). */
static uint64_t footprint(uint32_t len)
{
	len &= ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
	return ((uint64_t)len + BPF_RINGBUF_HDR_SZ + 7) / 8 * 8;
}

/* The record at off (its header's place), len bytes: in place, or put together when it wraps. */
static const void *record(struct cgp_ringbuf *rb, uint64_t off, uint32_t len)
{
	uint64_t start = (off + BPF_RINGBUF_HDR_SZ) & rb->mask;
	size_t first = rb->size - start;

	if (len <= first)
		return rb->data + start;
	if (rb->wrap_cap < len) {
		uint8_t *w = realloc(rb->wrap, len);

		if (!w)
			return NULL;
		rb->wrap = w;
		rb->wrap_cap = len;
	}
	memcpy(rb->wrap, rb->data + start, first);
	memcpy(rb->wrap + first, rb->data, len - first);
	rb->wrapped++;
	return rb->wrap;
}

int64_t cgp_ringbuf_consume(struct cgp_ringbuf *rb)
{
	uint64_t cons, prod;
	int64_t n = 0;
	bool more;

	if (!rb->data)
		return 0;
	cons = __atomic_load_n(rb->consumer_pos, __ATOMIC_ACQUIRE);
	do {
		more = false;
		prod = __atomic_load_n(rb->producer_pos, __ATOMIC_ACQUIRE);
		while (cons < prod) {
			const uint32_t *hdr = (const uint32_t *)(rb->data + (cons & rb->mask));
			uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
			uint64_t at = cons;

			if (len & BPF_RINGBUF_BUSY_BIT) /* being written: the next read takes it */
				return n;
			more = true;
			cons += footprint(len);
			if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
				const void *d = record(rb, at, len);
				int err = d ? rb->fn(rb->ctx, d, len) : -ENOMEM;

				if (err < 0) {
					if (d) /* taken: not handed out again */
						__atomic_store_n(rb->consumer_pos, cons, __ATOMIC_RELEASE);
					return err;
				}
				n++;
			}
			__atomic_store_n(rb->consumer_pos, cons, __ATOMIC_RELEASE);
		}
	} while (more);
	return n;
}

void cgp_ringbuf_close(struct cgp_ringbuf *rb)
{
	size_t pg = page_size();

	if (rb->consumer_pos)
		munmap(rb->consumer_pos, pg);
	if (rb->producer_pos)
		munmap((void *)rb->producer_pos, pg + rb->size);
	free(rb->wrap);
	memset(rb, 0, sizeof(*rb));
	rb->map_fd = -1;
}

size_t cgp_ringbuf_mapped_bytes(const struct cgp_ringbuf *rb)
{
	return rb->data ? 2 * page_size() + rb->size : 0;
}
