// SPDX-License-Identifier: GPL-2.0
/* The bump allocator under a received Batch's events: aligned pieces that never overlap, pieces larger than a
 * chunk, and every piece let go at once (ASan and the leak checker see the rest). */
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/arena.h"

static void test_pieces_aligned_and_apart(void **state)
{
	struct cgp_arena a;
	unsigned char *p[2000];
	size_t n[2000];

	(void)state;
	cgp_arena_init(&a, 4096);
	for (int round = 0; round < 2; round++) { /* the arena is used again after a free */
		for (size_t i = 0; i < 2000; i++) {
			n[i] = i % 7 == 0 ? 9000 : 1 + i % 61; /* some larger than a chunk */
			p[i] = cgp_arena_alloc(&a, n[i]);
			assert_non_null(p[i]);
			assert_int_equal((uintptr_t)p[i] % alignof(max_align_t), 0);
			memset(p[i], (int)(i & 0xff), n[i]);
		}
		for (size_t i = 0; i < 2000; i++) /* each piece still holds what was written to it: none overlap */
			for (size_t k = 0; k < n[i]; k++)
				assert_int_equal(p[i][k], i & 0xff);
		cgp_arena_free(&a);
	}
	assert_null(a.head);
}

/* A piece larger than a chunk does not give up the head chunk's room: the next small piece comes from it. */
static void test_large_piece_keeps_head(void **state)
{
	struct cgp_arena a;
	unsigned char *small, *big, *next;

	(void)state;
	cgp_arena_init(&a, 4096);
	small = cgp_arena_alloc(&a, 16);
	big = cgp_arena_alloc(&a, 100000);
	next = cgp_arena_alloc(&a, 16);
	assert_non_null(small);
	assert_non_null(big);
	assert_ptr_equal(next, small + 16);
	assert_null(cgp_arena_alloc(&a, SIZE_MAX - 8)); /* refused, not wrapped round */
	cgp_arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pieces_aligned_and_apart),
	    cmocka_unit_test(test_large_piece_keeps_head),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
