// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host tests of replica-mdump, the crash-replay checker's metadata reader:
 * metadata images written with the shared encoder, read back by the real
 * binary (./replica-mdump, built by the test target).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "replica-format.h"

#define BS REPLICA_META_BLOCK_SIZE
#define META_BLOCKS 16u		/* capacity 7 blocks per area */
#define PAD 8192u		/* the image starts this far into the file */

static u8 image[PAD + META_BLOCKS * BS];

static u8 *blk(u64 n)
{
	return image + PAD + n * BS;
}

/* A mirror of 100 regions with regions 3 and 99 dirty, committed to area 1. */
static void make_image(struct replica_sb *sb)
{
	memset(image, 0x5a, sizeof(image));
	memset(image + PAD, 0, META_BLOCKS * BS);
	memset(sb, 0, sizeof(*sb));
	sb->generation = 7;
	sb->blocknr = 1;
	sb->source_sectors = 100 * 128;
	sb->target_sectors = 100 * 128;
	sb->nr_regions = 100;
	sb->region_sectors = 128;
	sb->sync_type = REPLICA_SYNC_MIRROR;
	sb->mode = REPLICA_MODE_SYNC;
	sb->copy_state = REPLICA_CS_SYNCHRONIZED;
	sb->active_area = 1;
	sb->capacity_blocks = replica_capacity_blocks(META_BLOCKS * REPLICA_META_BLOCK_SECTORS);
	sb->bits_set = 2;
	replica_sb_encode(sb, blk(1));
	replica_bitmap_seal(blk(replica_area_start(sb->capacity_blocks, 0)), 0);
	{
		u8 *b = blk(replica_area_start(sb->capacity_blocks, 1));
		u8 *bits = replica_bitmap_bits(b);

		bits[0] = 1u << 3;
		bits[12] = 1u << 3;	/* region 99 */
		bits[13] = 0xff;	/* past nr_regions: ignored */
		replica_bitmap_seal(b, 0);
	}
}

/*
 * Run replica-mdump on the image (extra: its arguments after the path; with
 * serve set, requests on stdin to --serve); its output in out, its exit
 * status returned.
 */
static int run_cmd(char *out, size_t n, const char *extra, const char *serve)
{
	char path[] = "/tmp/test-mdump.XXXXXX", cmd[256];
	size_t got;
	FILE *p;
	int fd, st;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, image, sizeof(image)), (ssize_t)sizeof(image));
	close(fd);
	if (serve)
		snprintf(cmd, sizeof(cmd), "printf '%s' | ./replica-mdump --serve %s 2>&1",
			 serve, path);
	else
		snprintf(cmd, sizeof(cmd), "./replica-mdump %s %s 2>&1", path, extra);
	p = popen(cmd, "r");
	assert_non_null(p);
	got = fread(out, 1, n - 1, p);
	out[got] = 0;
	st = pclose(p);
	unlink(path);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int run(char *out, size_t n, const char *extra)
{
	return run_cmd(out, n, extra, NULL);
}

static void test_serve(void **state)
{
	struct replica_sb sb;
	char out[4096], req[128];
	const char *second;

	(void)state;
	make_image(&sb);
	/* one good answer, one bad (no metadata at offset 0), each ends in "end" */
	snprintf(req, sizeof(req), "%u %u\\n0 %u\\n", PAD, META_BLOCKS * BS, BS * 2);
	assert_int_equal(run_cmd(out, sizeof(out), NULL, req), 0);
	assert_true(!strncmp(out, "ok slot 1 generation 7 ", 23));
	second = strstr(out, "\nend\n");
	assert_non_null(second);
	assert_string_equal(second + 5, "bad superblock: bad magic number\nend\n");
}

static void test_committed_state(void **state)
{
	struct replica_sb sb;
	char out[4096], want[512];

	(void)state;
	make_image(&sb);
	snprintf(want, sizeof(want), "%u %u", PAD, META_BLOCKS * BS);
	assert_int_equal(run(out, sizeof(out), want), 0);
	assert_non_null(strstr(out, "ok slot 1 generation 7 "));
	assert_non_null(strstr(out, " sync_type 6 mode 2 copy_state 4 region_sectors 128 nr_regions 100 bits_set 2 store_slots 0\n"));
	/* 13 bytes: region 3, region 99; the bits past 99 are masked */
	assert_non_null(strstr(out, "\nbits 08000000000000000000000008\n"));
}

static void test_newer_slot_wins_and_torn_slot_ignored(void **state)
{
	struct replica_sb sb;
	char out[4096], args[64];

	(void)state;
	make_image(&sb);
	sb.generation = 8;
	sb.blocknr = 0;
	sb.active_area = 0;
	sb.bits_set = 0;
	replica_sb_encode(&sb, blk(0));
	snprintf(args, sizeof(args), "%u %u", PAD, META_BLOCKS * BS);
	assert_int_equal(run(out, sizeof(out), args), 0);
	assert_non_null(strstr(out, "ok slot 0 generation 8 "));
	assert_non_null(strstr(out, "\nbits 00000000000000000000000000\n"));
	/* a torn write of the newer slot: the older one is in force */
	blk(0)[100] ^= 1;
	assert_int_equal(run(out, sizeof(out), args), 0);
	assert_non_null(strstr(out, "ok slot 1 generation 7 "));
}

static void test_corrupt_bitmap_is_bad(void **state)
{
	struct replica_sb sb;
	char out[4096], args[64];

	(void)state;
	make_image(&sb);
	blk(replica_area_start(sb.capacity_blocks, 1))[200] ^= 0x10;
	snprintf(args, sizeof(args), "%u %u", PAD, META_BLOCKS * BS);
	assert_int_equal(run(out, sizeof(out), args), 1);
	assert_non_null(strstr(out, "bad bitmap block 0: "));
}

static void test_unformatted_and_usage(void **state)
{
	struct replica_sb sb;
	char out[4096], args[64];

	(void)state;
	make_image(&sb);
	memset(image + PAD, 0, META_BLOCKS * BS);
	snprintf(args, sizeof(args), "%u %u", PAD, META_BLOCKS * BS);
	assert_int_equal(run(out, sizeof(out), args), 1);
	assert_string_equal(out, "unformatted\n");
	assert_int_equal(run(out, sizeof(out), "12x"), 2);
	assert_int_equal(run(out, sizeof(out), "99999999"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_committed_state),
		cmocka_unit_test(test_newer_slot_wins_and_torn_slot_ignored),
		cmocka_unit_test(test_corrupt_bitmap_is_bad),
		cmocka_unit_test(test_unformatted_and_usage),
		cmocka_unit_test(test_serve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
