// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host unit tests of the dm-replica on-disk format (replica-format.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "replica-format.h"

#define BS REPLICA_META_BLOCK_SIZE
#define BITS REPLICA_BITS_PER_BLOCK
#define U64_MAX_ UINT64_MAX
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ----------------------------------------------------------- */

/* Independent bit-at-a-time crc32c, no final inversion (kernel semantics). */
static uint32_t ref_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ ((crc & 1) ? 0x82f63b78u : 0);
	}
	return crc;
}

static void put_le32(uint8_t *blk, size_t off, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		blk[off + i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *blk, size_t off, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		blk[off + i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *blk, size_t off)
{
	uint32_t v = 0;
	int i;

	for (i = 3; i >= 0; i--)
		v = (v << 8) | blk[off + i];
	return v;
}

static uint64_t get_le64(const uint8_t *blk, size_t off)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | blk[off + i];
	return v;
}

/* Recompute the crc of a block after editing it by hand. */
static void reseal(uint8_t *blk)
{
	put_le32(blk, 4, 0);
	put_le32(blk, 4, ref_crc32c(~0u, blk, BS));
}

/* A valid, canonical superblock (1 GiB mirror, 64 KiB regions). */
static struct replica_sb good_sb(uint64_t slot)
{
	struct replica_sb sb;
	int i;

	memset(&sb, 0, sizeof(sb));
	sb.version = REPLICA_FORMAT_VERSION;
	sb.flags = REPLICA_SB_CLEAN_SHUTDOWN;
	sb.generation = 5;
	sb.blocknr = slot;
	for (i = 0; i < 16; i++)
		sb.uuid[i] = (uint8_t)(0x10 + i);
	sb.source_sectors = 2097152;
	sb.target_sectors = 4194304;
	sb.region_sectors = 128;
	sb.nr_regions = 16384;
	sb.sync_type = REPLICA_SYNC_MIRROR;
	sb.mode = REPLICA_MODE_SYNC;
	sb.copy_state = REPLICA_CS_SYNCHRONIZED;
	sb.active_area = 1;
	sb.capacity_blocks = 1;
	sb.bits_set = 10;
	sb.created_ns = 1700000000123456789ull;
	sb.pit_ns = 0;
	return sb;
}

static void encode_sb(const struct replica_sb *sb, uint8_t *blk)
{
	memset(blk, 0xee, BS);	/* encode must not depend on a zeroed buffer */
	replica_sb_encode(sb, blk);
}

static void assert_sb_equal(const struct replica_sb *a,
			    const struct replica_sb *b)
{
	assert_int_equal(a->version, b->version);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->generation, b->generation);
	assert_int_equal(a->blocknr, b->blocknr);
	assert_memory_equal(a->uuid, b->uuid, 16);
	assert_int_equal(a->source_sectors, b->source_sectors);
	assert_int_equal(a->target_sectors, b->target_sectors);
	assert_int_equal(a->nr_regions, b->nr_regions);
	assert_int_equal(a->region_sectors, b->region_sectors);
	assert_int_equal(a->sync_type, b->sync_type);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->copy_state, b->copy_state);
	assert_int_equal(a->active_area, b->active_area);
	assert_int_equal(a->capacity_blocks, b->capacity_blocks);
	assert_int_equal(a->bits_set, b->bits_set);
	assert_int_equal(a->created_ns, b->created_ns);
	assert_int_equal(a->pit_ns, b->pit_ns);
}

/* Decode, expecting `want`; on success also check the re-encode. */
static void expect_decode(const uint8_t *blk, uint64_t slot, int want)
{
	struct replica_sb sb;
	uint8_t again[BS];
	int r;

	r = replica_sb_decode(blk, slot, &sb);
	if (r != want)
		fail_msg("decode: got %d (%s), want %d (%s)", r,
			 replica_format_strerror(r), want,
			 replica_format_strerror(want));
	if (r == REPLICA_FMT_OK) {
		encode_sb(&sb, again);
		assert_memory_equal(blk, again, BS);
	}
}

/* ---- crc32c ------------------------------------------------------------ */

static void test_crc_vectors(void **state)
{
	uint8_t buf[32];
	int i;

	(void)state;
	assert_int_equal(replica_crc32c(~0u, "123456789", 9) ^ ~0u,
			 0xe3069283u);
	assert_int_equal(replica_crc32c(~0u, "", 0), ~0u);
	assert_int_equal(replica_crc32c(0x12345678u, NULL, 0), 0x12345678u);

	/* RFC 3720 (iSCSI) appendix B.4 vectors. */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(replica_crc32c(~0u, buf, 32) ^ ~0u, 0x8a9136aau);
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(replica_crc32c(~0u, buf, 32) ^ ~0u, 0x62a8ab43u);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(replica_crc32c(~0u, buf, 32) ^ ~0u, 0x46dd794eu);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	assert_int_equal(replica_crc32c(~0u, buf, 32) ^ ~0u, 0x113fdb5cu);
}

static void test_crc_chaining_and_reference(void **state)
{
	static uint8_t buf[3 * BS + 7];
	uint32_t seed, whole, part;
	size_t len, cut;
	unsigned int x = 12345;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (len = 0; len < sizeof(buf); len = len * 3 + 1) {
		seed = (uint32_t)(len * 0x9e3779b9u);
		whole = replica_crc32c(seed, buf, len);
		assert_int_equal(whole, ref_crc32c(seed, buf, len));
		for (cut = 0; cut <= len; cut += len / 3 + 1) {
			part = replica_crc32c(seed, buf, cut);
			part = replica_crc32c(part, buf + cut, len - cut);
			assert_int_equal(part, whole);
		}
	}
}

/* ---- region math ------------------------------------------------------- */

static void test_region_size_valid(void **state)
{
	static const uint32_t good[] = { 8, 16, 32, 128, 2048, 1u << 20,
					 1u << 21 };
	static const uint32_t bad[] = { 0, 1, 2, 4, 7, 9, 12, 24, 100,
					(1u << 21) + 8, 1u << 22, 1u << 31,
					0xffffffffu, 0xfffffff8u };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(good); i++)
		assert_true(replica_region_size_valid(good[i]));
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		assert_false(replica_region_size_valid(bad[i]));
	assert_int_equal(REPLICA_MIN_REGION_SECTORS, 8);
	assert_int_equal(REPLICA_MAX_REGION_SECTORS, 2097152);
}

static void test_nr_regions(void **state)
{
	(void)state;
	/* 4 KiB regions */
	assert_int_equal(replica_nr_regions(0, 8), 0);
	assert_int_equal(replica_nr_regions(1, 8), 1);
	assert_int_equal(replica_nr_regions(8, 8), 1);
	assert_int_equal(replica_nr_regions(9, 8), 2);
	assert_int_equal(replica_nr_regions(1ull << 34, 8), 1ull << 31);
	assert_int_equal(replica_nr_regions((1ull << 34) + 1, 8),
			 (1ull << 31) + 1);
	assert_int_equal(replica_nr_regions(1ull << 35, 8), 1ull << 32);
	assert_int_equal(replica_nr_regions(U64_MAX_, 8), 1ull << 61);
	/* 1 GiB regions */
	assert_int_equal(replica_nr_regions(1, 1u << 21), 1);
	assert_int_equal(replica_nr_regions(1ull << 21, 1u << 21), 1);
	assert_int_equal(replica_nr_regions((1ull << 21) + 1, 1u << 21), 2);
	assert_int_equal(replica_nr_regions(1ull << 31, 1u << 21), 1024);
	assert_int_equal(replica_nr_regions((1ull << 31) - 1, 1u << 21), 1024);
	assert_int_equal(replica_nr_regions(U64_MAX_, 1u << 21), 1ull << 43);
	/* odd sizes */
	assert_int_equal(replica_nr_regions(1000, 128), 8);
	assert_int_equal(replica_nr_regions(1024, 128), 8);
	assert_int_equal(replica_nr_regions(1025, 128), 9);
	/* defined for a zero region size */
	assert_int_equal(replica_nr_regions(1000, 0), 0);
}

static void test_bitmap_blocks(void **state)
{
	(void)state;
	assert_int_equal(BITS, 32640);
	assert_int_equal(replica_bitmap_blocks(0), 0);
	assert_int_equal(replica_bitmap_blocks(1), 1);
	assert_int_equal(replica_bitmap_blocks(BITS - 1), 1);
	assert_int_equal(replica_bitmap_blocks(BITS), 1);
	assert_int_equal(replica_bitmap_blocks(BITS + 1), 2);
	assert_int_equal(replica_bitmap_blocks(1ull << 31), 65794);
	assert_int_equal(replica_bitmap_blocks(65793ull * BITS), 65793);
	assert_int_equal(replica_bitmap_blocks(U64_MAX_),
			 U64_MAX_ / BITS + 1);
	assert_int_equal(replica_bitmap_blocks(U64_MAX_ / BITS * BITS),
			 U64_MAX_ / BITS);
}

static void test_capacity_blocks(void **state)
{
	(void)state;
	assert_int_equal(replica_capacity_blocks(0), 0);
	assert_int_equal(replica_capacity_blocks(15), 0);
	assert_int_equal(replica_capacity_blocks(16), 0);	/* sbs only */
	assert_int_equal(replica_capacity_blocks(24), 0);	/* odd block */
	assert_int_equal(replica_capacity_blocks(31), 0);
	assert_int_equal(replica_capacity_blocks(32), 1);
	assert_int_equal(replica_capacity_blocks(39), 1);
	assert_int_equal(replica_capacity_blocks(40), 1);
	assert_int_equal(replica_capacity_blocks(47), 1);
	assert_int_equal(replica_capacity_blocks(48), 2);
	/* 1 GiB metadata device: 262144 blocks */
	assert_int_equal(replica_capacity_blocks(2097152), (262144 - 2) / 2);
	assert_int_equal(replica_capacity_blocks(U64_MAX_),
			 ((U64_MAX_ >> 3) - 2) / 2);
}

static void test_min_meta_sectors(void **state)
{
	static const uint64_t n[] = {
		0, 1, 2, BITS - 1, BITS, BITS + 1, 16384, 1ull << 31,
		(1ull << 31) + 1, (1ull << 32) + 12345, 1ull << 43,
		1ull << 61, U64_MAX_ / BITS * BITS, U64_MAX_ - 1, U64_MAX_,
	};
	uint64_t need, meta;
	size_t i;

	(void)state;
	assert_int_equal(replica_min_meta_sectors(0), 32);
	assert_int_equal(replica_min_meta_sectors(1), 32);
	assert_int_equal(replica_min_meta_sectors(BITS), 32);
	assert_int_equal(replica_min_meta_sectors(BITS + 1), 48);
	assert_int_equal(replica_min_meta_sectors(1ull << 31),
			 (2 + 2 * 65794ull) * 8);

	for (i = 0; i < ARRAY_SIZE(n); i++) {
		need = replica_bitmap_blocks(n[i]);
		if (!need)
			need = 1;
		meta = replica_min_meta_sectors(n[i]);
		assert_true(meta > 0);
		assert_int_equal(meta % REPLICA_META_BLOCK_SECTORS, 0);
		assert_int_equal(replica_capacity_blocks(meta), need);
		/* One sector less is not enough. */
		assert_true(replica_capacity_blocks(meta - 1) < need);
		/* And capacity really covers n regions. */
		assert_true(replica_capacity_blocks(meta) >= n[i] / BITS);
	}
}

static void test_area_start(void **state)
{
	(void)state;
	assert_int_equal(replica_area_start(1, 0), 2);
	assert_int_equal(replica_area_start(1, 1), 3);
	assert_int_equal(replica_area_start(10, 0), 2);
	assert_int_equal(replica_area_start(10, 1), 12);
	assert_int_equal(replica_area_start(65794, 1), 65796);
	/* Both areas fit into the device min_meta_sectors describes. */
	assert_int_equal(replica_area_start(65794, 1) + 65794,
			 replica_min_meta_sectors(1ull << 31) /
			 REPLICA_META_BLOCK_SECTORS);
}

static void check_bit(uint64_t region, uint64_t want_blk, uint32_t want_bit)
{
	uint64_t blk = ~0ull;
	uint32_t bit = ~0u;

	replica_region_to_bit(region, &blk, &bit);
	assert_int_equal(blk, want_blk);
	assert_int_equal(bit, want_bit);
	assert_true(bit < BITS);
}

static void test_region_to_bit(void **state)
{
	uint8_t blk[BS];
	uint64_t bi;
	uint32_t bit;
	uint8_t *bits;

	(void)state;
	check_bit(0, 0, 0);
	check_bit(1, 0, 1);
	check_bit(BITS - 1, 0, BITS - 1);
	check_bit(BITS, 1, 0);
	check_bit(BITS + 7, 1, 7);
	check_bit(1ull << 31, (1ull << 31) / BITS, (1ull << 31) % BITS);
	check_bit((1ull << 32) + 3, ((1ull << 32) + 3) / BITS,
		  ((1ull << 32) + 3) % BITS);
	check_bit(U64_MAX_, U64_MAX_ / BITS, U64_MAX_ % BITS);

	/* Bit addressing inside the block: LE bytes, bit i = byte i/8 bit i%8 */
	memset(blk, 0, BS);
	bits = replica_bitmap_bits(blk);
	assert_ptr_equal(bits, blk + REPLICA_BITMAP_HDR_SIZE);
	replica_region_to_bit(BITS + 11, &bi, &bit);
	assert_int_equal(bi, 1);
	bits[bit / 8] |= (uint8_t)(1u << (bit % 8));
	assert_int_equal(blk[16 + 1], 1u << 3);
	replica_region_to_bit(2 * BITS - 1, &bi, &bit);
	bits[bit / 8] |= (uint8_t)(1u << (bit % 8));
	assert_int_equal(blk[BS - 1], 0x80);
}

/* ---- superblock -------------------------------------------------------- */

static void test_sb_layout_golden(void **state)
{
	struct replica_sb sb = good_sb(1);
	uint8_t blk[BS];
	size_t i;

	(void)state;
	encode_sb(&sb, blk);
	assert_memory_equal(blk, "CLPR", 4);
	/* crc computed by an independent implementation of the layout */
	assert_int_equal(get_le32(blk, 4), 0xd7f2f736u);
	assert_int_equal(get_le32(blk, 8), 1);
	assert_int_equal(get_le32(blk, 12), 1);
	assert_int_equal(get_le64(blk, 16), 5);
	assert_int_equal(get_le64(blk, 24), 1);
	assert_int_equal(blk[32], 0x10);
	assert_int_equal(blk[47], 0x1f);
	assert_int_equal(get_le64(blk, 48), 2097152);
	assert_int_equal(get_le64(blk, 56), 4194304);
	assert_int_equal(get_le64(blk, 64), 16384);
	assert_int_equal(get_le32(blk, 72), 128);
	assert_int_equal(get_le32(blk, 76), 6);
	assert_int_equal(get_le32(blk, 80), 2);
	assert_int_equal(get_le32(blk, 84), 4);
	assert_int_equal(get_le32(blk, 88), 1);
	assert_int_equal(get_le32(blk, 92), 0);
	assert_int_equal(get_le64(blk, 96), 1);
	assert_int_equal(get_le64(blk, 104), 10);
	assert_int_equal(get_le64(blk, 112), 1700000000123456789ull);
	assert_int_equal(get_le64(blk, 120), 0);
	for (i = 128; i < BS; i++)
		assert_int_equal(blk[i], 0);
	assert_int_equal(sizeof(struct replica_sb_disk), 128);
}

static void test_sb_round_trip(void **state)
{
	struct replica_sb in = good_sb(0), out;
	uint8_t blk[BS], again[BS];
	uint32_t cs;

	(void)state;
	encode_sb(&in, blk);
	assert_int_equal(replica_sb_decode(blk, 0, &out), REPLICA_FMT_OK);
	assert_sb_equal(&in, &out);
	encode_sb(&out, again);
	assert_memory_equal(blk, again, BS);
	assert_int_equal(replica_sb_decode(blk, 0, NULL), REPLICA_FMT_OK);

	/* Extreme but legal values */
	in = good_sb(1);
	in.flags = REPLICA_SB_KNOWN_FLAGS;
	in.generation = U64_MAX_;
	in.region_sectors = 8;
	in.source_sectors = (1ull << 34) + 5;		/* > 2^31 regions */
	in.nr_regions = (1ull << 31) + 1;
	in.target_sectors = U64_MAX_;
	in.capacity_blocks = replica_bitmap_blocks(in.nr_regions);
	in.bits_set = in.nr_regions;
	in.active_area = 0;
	in.sync_type = REPLICA_SYNC_CLONE;
	in.mode = REPLICA_MODE_ASYNC;
	in.pit_ns = U64_MAX_;
	encode_sb(&in, blk);
	assert_int_equal(replica_sb_decode(blk, 1, &out), REPLICA_FMT_OK);
	assert_sb_equal(&in, &out);

	/* 1 GiB regions over the largest source */
	in.region_sectors = 1u << 21;
	in.source_sectors = U64_MAX_;
	in.nr_regions = 1ull << 43;
	in.capacity_blocks = replica_bitmap_blocks(in.nr_regions);
	in.bits_set = 0;
	in.sync_type = REPLICA_SYNC_SNAPSHOT;
	encode_sb(&in, blk);
	expect_decode(blk, 1, REPLICA_FMT_OK);

	/* Empty source: zero regions, still one bitmap block per area */
	in.source_sectors = 0;
	in.nr_regions = 0;
	in.capacity_blocks = 1;
	in.target_sectors = 0;
	encode_sb(&in, blk);
	expect_decode(blk, 1, REPLICA_FMT_OK);

	/* Every valid copy state */
	for (cs = 0; cs < 32; cs++) {
		in = good_sb(0);
		in.copy_state = cs;
		encode_sb(&in, blk);
		switch (cs) {
		case 2: case 3: case 4: case 5: case 6: case 7: case 8:
		case 9: case 12: case 13: case 18:
			expect_decode(blk, 0, REPLICA_FMT_OK);
			break;
		default:
			expect_decode(blk, 0, REPLICA_FMT_BAD_FIELD);
		}
	}
}

static void test_sb_encode_ignores_version(void **state)
{
	struct replica_sb in = good_sb(0), out;
	uint8_t blk[BS];

	(void)state;
	in.version = 0;
	encode_sb(&in, blk);
	assert_int_equal(replica_sb_decode(blk, 0, &out), REPLICA_FMT_OK);
	assert_int_equal(out.version, REPLICA_FORMAT_VERSION);
}

struct corruption {
	const char *name;
	size_t off;
	int size;		/* 4 or 8 bytes, 1 for a single byte */
	uint64_t value;
	int want;
};

#define SB_OFF(f) offsetof(struct replica_sb_disk, f)

static const struct corruption corruptions[] = {
	{ "magic", SB_OFF(magic), 4, 0x52504d42u, REPLICA_FMT_BAD_MAGIC },
	{ "magic byte", 0, 1, 'c', REPLICA_FMT_BAD_MAGIC },
	{ "version 0", SB_OFF(version), 4, 0, REPLICA_FMT_BAD_VERSION },
	{ "version 2", SB_OFF(version), 4, 2, REPLICA_FMT_BAD_VERSION },
	{ "version max", SB_OFF(version), 4, 0xffffffffu,
	  REPLICA_FMT_BAD_VERSION },
	{ "flags bit 4", SB_OFF(flags), 4, 0x10, REPLICA_FMT_BAD_FIELD },
	{ "flags bit 31", SB_OFF(flags), 4, 0x80000001u, REPLICA_FMT_BAD_FIELD },
	{ "blocknr 1", SB_OFF(blocknr), 8, 1, REPLICA_FMT_BAD_LOCATION },
	{ "blocknr 2", SB_OFF(blocknr), 8, 2, REPLICA_FMT_BAD_LOCATION },
	{ "blocknr high", SB_OFF(blocknr), 8, 1ull << 32,
	  REPLICA_FMT_BAD_LOCATION },
	{ "region 0", SB_OFF(region_sectors), 4, 0, REPLICA_FMT_BAD_FIELD },
	{ "region 4", SB_OFF(region_sectors), 4, 4, REPLICA_FMT_BAD_FIELD },
	{ "region 96", SB_OFF(region_sectors), 4, 96, REPLICA_FMT_BAD_FIELD },
	{ "region 2^22", SB_OFF(region_sectors), 4, 1u << 22,
	  REPLICA_FMT_BAD_FIELD },
	/* valid size, but nr_regions no longer matches */
	{ "region 256", SB_OFF(region_sectors), 4, 256, REPLICA_FMT_BAD_FIELD },
	{ "sync_type 0", SB_OFF(sync_type), 4, 0, REPLICA_FMT_BAD_FIELD },
	{ "sync_type 5", SB_OFF(sync_type), 4, 5, REPLICA_FMT_BAD_FIELD },
	{ "sync_type 9", SB_OFF(sync_type), 4, 9, REPLICA_FMT_BAD_FIELD },
	{ "mode 0", SB_OFF(mode), 4, 0, REPLICA_FMT_BAD_FIELD },
	{ "mode 1", SB_OFF(mode), 4, 1, REPLICA_FMT_BAD_FIELD },
	{ "mode 4", SB_OFF(mode), 4, 4, REPLICA_FMT_BAD_FIELD },
	{ "copy_state 0", SB_OFF(copy_state), 4, 0, REPLICA_FMT_BAD_FIELD },
	{ "copy_state 10", SB_OFF(copy_state), 4, 10, REPLICA_FMT_BAD_FIELD },
	{ "copy_state 19", SB_OFF(copy_state), 4, 19, REPLICA_FMT_BAD_FIELD },
	{ "active_area 2", SB_OFF(active_area), 4, 2, REPLICA_FMT_BAD_FIELD },
	{ "active_area -1", SB_OFF(active_area), 4, 0xffffffffu,
	  REPLICA_FMT_BAD_FIELD },
	{ "reserved0", SB_OFF(reserved0), 4, 1, REPLICA_FMT_BAD_FIELD },
	{ "capacity 0", SB_OFF(capacity_blocks), 8, 0, REPLICA_FMT_BAD_FIELD },
	{ "capacity huge", SB_OFF(capacity_blocks), 8, 1ull << 62,
	  REPLICA_FMT_BAD_FIELD },
	{ "capacity max", SB_OFF(capacity_blocks), 8, ~0ull,
	  REPLICA_FMT_BAD_FIELD },
	{ "nr_regions +1", SB_OFF(nr_regions), 8, 16385, REPLICA_FMT_BAD_FIELD },
	{ "nr_regions -1", SB_OFF(nr_regions), 8, 16383, REPLICA_FMT_BAD_FIELD },
	{ "nr_regions 0", SB_OFF(nr_regions), 8, 0, REPLICA_FMT_BAD_FIELD },
	{ "source +1", SB_OFF(source_sectors), 8, 2097153,
	  REPLICA_FMT_BAD_FIELD },
	{ "source 0", SB_OFF(source_sectors), 8, 0, REPLICA_FMT_BAD_FIELD },
	{ "bits_set > nr", SB_OFF(bits_set), 8, 16385, REPLICA_FMT_BAD_FIELD },
	{ "bits_set max", SB_OFF(bits_set), 8, ~0ull, REPLICA_FMT_BAD_FIELD },
	{ "target < source", SB_OFF(target_sectors), 8, 2097151,
	  REPLICA_FMT_BAD_FIELD },
	{ "target 0", SB_OFF(target_sectors), 8, 0, REPLICA_FMT_BAD_FIELD },
	{ "pad first", sizeof(struct replica_sb_disk), 1, 1,
	  REPLICA_FMT_BAD_FIELD },
	{ "pad last", BS - 1, 1, 0x80, REPLICA_FMT_BAD_FIELD },
	/* fields that may hold anything */
	{ "generation 0", SB_OFF(generation), 8, 0, REPLICA_FMT_OK },
	{ "uuid", SB_OFF(uuid), 8, ~0ull, REPLICA_FMT_OK },
	{ "created", SB_OFF(created_ns), 8, 0, REPLICA_FMT_OK },
	{ "pit", SB_OFF(pit_ns), 8, 42, REPLICA_FMT_OK },
	{ "target = source", SB_OFF(target_sectors), 8, 2097152,
	  REPLICA_FMT_OK },
	{ "bits_set = nr", SB_OFF(bits_set), 8, 16384, REPLICA_FMT_OK },
	{ "flags all known", SB_OFF(flags), 4, REPLICA_SB_KNOWN_FLAGS,
	  REPLICA_FMT_OK },
	{ "active_area 0", SB_OFF(active_area), 4, 0, REPLICA_FMT_OK },
	{ "capacity bigger", SB_OFF(capacity_blocks), 8, 1000000,
	  REPLICA_FMT_OK },
	{ "snapshot", SB_OFF(sync_type), 4, REPLICA_SYNC_SNAPSHOT,
	  REPLICA_FMT_OK },
};

static void apply(uint8_t *blk, const struct corruption *c)
{
	if (c->size == 8)
		put_le64(blk, c->off, c->value);
	else if (c->size == 4)
		put_le32(blk, c->off, (uint32_t)c->value);
	else
		blk[c->off] = (uint8_t)c->value;
}

static void test_sb_each_corruption(void **state)
{
	struct replica_sb sb = good_sb(0);
	uint8_t blk[BS];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(corruptions); i++) {
		const struct corruption *c = &corruptions[i];

		/* With a fresh crc: the exact field error. */
		encode_sb(&sb, blk);
		apply(blk, c);
		reseal(blk);
		r = replica_sb_decode(blk, 0, NULL);
		if (r != c->want)
			fail_msg("%s: got %s, want %s", c->name,
				 replica_format_strerror(r),
				 replica_format_strerror(c->want));
		expect_decode(blk, 0, c->want);

		/* Without it: the crc catches it (the magic comes first). */
		encode_sb(&sb, blk);
		apply(blk, c);
		r = replica_sb_decode(blk, 0, NULL);
		if (c->off < 4)
			assert_int_equal(r, REPLICA_FMT_BAD_MAGIC);
		else if (r != REPLICA_FMT_BAD_CSUM)
			fail_msg("%s unsealed: got %s", c->name,
				 replica_format_strerror(r));
	}
}

static void test_sb_crc_field(void **state)
{
	struct replica_sb sb = good_sb(0);
	uint8_t blk[BS];
	int bit;

	(void)state;
	for (bit = 0; bit < 32; bit++) {
		encode_sb(&sb, blk);
		blk[4 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(replica_sb_decode(blk, 0, NULL),
				 REPLICA_FMT_BAD_CSUM);
	}
}

static void test_sb_every_bit_flip(void **state)
{
	struct replica_sb sb = good_sb(1);
	uint8_t blk[BS];
	size_t bit;
	int r;

	(void)state;
	for (bit = 0; bit < BS * 8; bit++) {
		encode_sb(&sb, blk);
		blk[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		r = replica_sb_decode(blk, 1, NULL);
		assert_int_equal(r, bit < 32 ? REPLICA_FMT_BAD_MAGIC :
					       REPLICA_FMT_BAD_CSUM);
	}
}

static void test_sb_location(void **state)
{
	struct replica_sb sb = good_sb(0), out;
	uint8_t blk[BS];

	(void)state;
	encode_sb(&sb, blk);
	expect_decode(blk, 0, REPLICA_FMT_OK);
	expect_decode(blk, 1, REPLICA_FMT_BAD_LOCATION);
	expect_decode(blk, 2, REPLICA_FMT_BAD_LOCATION);

	/* A slot claiming block 2 is invalid wherever it is read. */
	sb.blocknr = 2;
	encode_sb(&sb, blk);
	expect_decode(blk, 0, REPLICA_FMT_BAD_LOCATION);
	expect_decode(blk, 2, REPLICA_FMT_BAD_LOCATION);

	/* Authentic but misplaced blocks still show their fields. */
	sb = good_sb(1);
	encode_sb(&sb, blk);
	memset(&out, 0, sizeof(out));
	assert_int_equal(replica_sb_decode(blk, 0, &out),
			 REPLICA_FMT_BAD_LOCATION);
	assert_int_equal(out.blocknr, 1);
	assert_int_equal(out.generation, 5);
}

static void test_sb_capacity_limit(void **state)
{
	struct replica_sb sb = good_sb(0);
	uint8_t blk[BS];

	(void)state;
	/* exactly one block's worth of regions fits capacity 1 */
	sb.region_sectors = 8;
	sb.source_sectors = BITS * 8ull;
	sb.nr_regions = BITS;
	sb.target_sectors = sb.source_sectors;
	sb.bits_set = 0;
	sb.capacity_blocks = 1;
	encode_sb(&sb, blk);
	expect_decode(blk, 0, REPLICA_FMT_OK);

	/* one sector more needs a second block */
	sb.source_sectors++;
	sb.target_sectors++;
	sb.nr_regions++;
	encode_sb(&sb, blk);
	expect_decode(blk, 0, REPLICA_FMT_BAD_FIELD);
	sb.capacity_blocks = 2;
	encode_sb(&sb, blk);
	expect_decode(blk, 0, REPLICA_FMT_OK);

	/* > 2^31 regions against the exact capacity, and one block short */
	sb.source_sectors = (1ull << 34) + 8;
	sb.target_sectors = sb.source_sectors;
	sb.nr_regions = (1ull << 31) + 1;
	sb.capacity_blocks = replica_bitmap_blocks(sb.nr_regions);
	encode_sb(&sb, blk);
	expect_decode(blk, 0, REPLICA_FMT_OK);
	sb.capacity_blocks--;
	encode_sb(&sb, blk);
	expect_decode(blk, 0, REPLICA_FMT_BAD_FIELD);

	/* the largest capacity whose device size fits in 64 bits */
	sb.capacity_blocks = ((U64_MAX_ >> 3) - 2) / 2;
	encode_sb(&sb, blk);
	expect_decode(blk, 0, REPLICA_FMT_OK);
	assert_int_equal(replica_capacity_blocks(U64_MAX_),
			 sb.capacity_blocks);
	sb.capacity_blocks++;
	encode_sb(&sb, blk);
	expect_decode(blk, 0, REPLICA_FMT_BAD_FIELD);
}

static void test_sb_zero_and_garbage(void **state)
{
	struct replica_sb sb = good_sb(0), out;
	uint8_t blk[BS], newer[BS], torn[BS];
	unsigned int x = 777;
	size_t i;

	(void)state;
	memset(blk, 0, BS);
	expect_decode(blk, 0, REPLICA_FMT_ZERO);
	expect_decode(blk, 1, REPLICA_FMT_ZERO);

	/* one stray byte anywhere makes it garbage, not "unformatted" */
	blk[BS / 2] = 1;
	expect_decode(blk, 0, REPLICA_FMT_BAD_MAGIC);
	memset(blk, 0, BS);
	blk[4] = 1;		/* only the crc field */
	expect_decode(blk, 0, REPLICA_FMT_BAD_MAGIC);

	memset(blk, 0xff, BS);
	expect_decode(blk, 0, REPLICA_FMT_BAD_MAGIC);

	for (i = 0; i < BS; i++) {
		x = x * 1103515245u + 12345u;
		blk[i] = (uint8_t)(x >> 16);
	}
	expect_decode(blk, 0, REPLICA_FMT_BAD_MAGIC);
	put_le32(blk, 0, REPLICA_SB_MAGIC);
	expect_decode(blk, 0, REPLICA_FMT_BAD_CSUM);
	/* random but sealed: authentic, yet its fields are nonsense */
	reseal(blk);
	expect_decode(blk, 0, REPLICA_FMT_BAD_VERSION);
	put_le32(blk, 8, REPLICA_FORMAT_VERSION);
	reseal(blk);
	assert_int_not_equal(replica_sb_decode(blk, 0, &out), REPLICA_FMT_OK);

	/* a bitmap block is not a superblock */
	memset(blk, 0, BS);
	replica_bitmap_seal(blk, 0);
	expect_decode(blk, 0, REPLICA_FMT_BAD_MAGIC);

	/*
	 * Torn write of a newer superblock over an older one, cut at every
	 * 8-byte boundary inside the used part: never accepted unless the
	 * result is byte-identical to one of the two.
	 */
	encode_sb(&sb, blk);
	sb.generation++;
	sb.bits_set = 11;
	sb.flags = 0;
	encode_sb(&sb, newer);
	for (i = 0; i <= sizeof(struct replica_sb_disk); i += 8) {
		memcpy(torn, newer, i);
		memcpy(torn + i, blk + i, BS - i);
		if (!memcmp(torn, blk, BS) || !memcmp(torn, newer, BS))
			expect_decode(torn, 0, REPLICA_FMT_OK);
		else
			expect_decode(torn, 0, REPLICA_FMT_BAD_CSUM);
	}
	/* torn into an unwritten (zero) slot */
	memset(blk, 0, BS);
	for (i = 1; i < BS; i *= 2) {
		memcpy(torn, newer, i);
		memset(torn + i, 0, BS - i);
		if (i >= sizeof(struct replica_sb_disk))
			expect_decode(torn, 0, REPLICA_FMT_OK);
		else if (i < 4)
			expect_decode(torn, 0, REPLICA_FMT_BAD_MAGIC);
		else
			expect_decode(torn, 0, REPLICA_FMT_BAD_CSUM);
	}
}

/* ---- pick -------------------------------------------------------------- */

static void make_slot(uint8_t *blk, uint64_t slot, uint64_t gen)
{
	struct replica_sb sb = good_sb(slot);

	sb.generation = gen;
	sb.active_area = (uint32_t)(gen & 1);
	encode_sb(&sb, blk);
}

static void expect_pick(const uint8_t *s0, const uint8_t *s1, int want,
			uint32_t want_which, uint64_t want_gen)
{
	struct replica_sb sb;
	uint32_t which = 77;
	int r;

	memset(&sb, 0x5a, sizeof(sb));
	r = replica_sb_pick(s0, s1, &sb, &which);
	if (r != want)
		fail_msg("pick: got %s, want %s", replica_format_strerror(r),
			 replica_format_strerror(want));
	if (r == REPLICA_FMT_OK) {
		assert_int_equal(which, want_which);
		assert_int_equal(sb.generation, want_gen);
		assert_int_equal(sb.blocknr, want_which);
		assert_int_equal(replica_sb_decode(which ? s1 : s0, which,
						   NULL), REPLICA_FMT_OK);
	} else {
		/* untouched on error */
		assert_int_equal(which, 77);
		assert_int_equal(sb.generation, 0x5a5a5a5a5a5a5a5aull);
	}
}

static void test_pick_generations(void **state)
{
	uint8_t s0[BS], s1[BS];

	(void)state;
	make_slot(s0, 0, 4);
	make_slot(s1, 1, 5);
	expect_pick(s0, s1, REPLICA_FMT_OK, 1, 5);
	make_slot(s0, 0, 6);
	expect_pick(s0, s1, REPLICA_FMT_OK, 0, 6);
	/* tie: slot 0 */
	make_slot(s0, 0, 5);
	expect_pick(s0, s1, REPLICA_FMT_OK, 0, 5);
	/* full 64-bit comparison */
	make_slot(s0, 0, 1ull << 32);
	make_slot(s1, 1, (1ull << 32) + 1);
	expect_pick(s0, s1, REPLICA_FMT_OK, 1, (1ull << 32) + 1);
	make_slot(s0, 0, U64_MAX_);
	make_slot(s1, 1, U64_MAX_ - 1);
	expect_pick(s0, s1, REPLICA_FMT_OK, 0, U64_MAX_);
	make_slot(s0, 0, 0);
	make_slot(s1, 1, 1);
	expect_pick(s0, s1, REPLICA_FMT_OK, 1, 1);
}

static void test_pick_one_bad(void **state)
{
	uint8_t s0[BS], s1[BS];

	(void)state;
	/* newer slot torn: the older one stays in force */
	make_slot(s0, 0, 10);
	make_slot(s1, 1, 11);
	s1[100] ^= 1;
	expect_pick(s0, s1, REPLICA_FMT_OK, 0, 10);
	make_slot(s1, 1, 9);
	s0[50] ^= 0x40;
	expect_pick(s0, s1, REPLICA_FMT_OK, 1, 9);

	/* one slot never written */
	make_slot(s0, 0, 1);
	memset(s1, 0, BS);
	expect_pick(s0, s1, REPLICA_FMT_OK, 0, 1);
	expect_pick(s1, s0, REPLICA_FMT_BAD_LOCATION, 0, 0);
	make_slot(s1, 1, 2);
	memset(s0, 0, BS);
	expect_pick(s0, s1, REPLICA_FMT_OK, 1, 2);

	/* a higher generation in the wrong slot is not believed */
	make_slot(s0, 0, 3);
	make_slot(s1, 0, 100);
	expect_pick(s0, s1, REPLICA_FMT_OK, 0, 3);

	/* a higher generation with a bad field is not believed */
	make_slot(s1, 1, 100);
	put_le32(s1, SB_OFF(mode), 99);
	reseal(s1);
	expect_pick(s0, s1, REPLICA_FMT_OK, 0, 3);

	/* garbage */
	memset(s1, 0xa5, BS);
	expect_pick(s0, s1, REPLICA_FMT_OK, 0, 3);
}

static void test_pick_none_valid(void **state)
{
	uint8_t s0[BS], s1[BS];

	(void)state;
	memset(s0, 0, BS);
	memset(s1, 0, BS);
	expect_pick(s0, s1, REPLICA_FMT_ZERO, 0, 0);

	/* both corrupt: slot 0's error */
	make_slot(s0, 0, 1);
	s0[200] ^= 1;
	memset(s1, 0xff, BS);
	expect_pick(s0, s1, REPLICA_FMT_BAD_CSUM, 0, 0);
	expect_pick(s1, s0, REPLICA_FMT_BAD_MAGIC, 0, 0);

	/* zero + corrupt, either way round: the corruption, never ZERO */
	memset(s0, 0, BS);
	make_slot(s1, 1, 1);
	s1[300] ^= 1;
	expect_pick(s0, s1, REPLICA_FMT_BAD_CSUM, 0, 0);
	expect_pick(s1, s0, REPLICA_FMT_BAD_CSUM, 0, 0);
	make_slot(s1, 1, 1);
	put_le32(s1, SB_OFF(version), 2);
	reseal(s1);
	expect_pick(s0, s1, REPLICA_FMT_BAD_VERSION, 0, 0);

	/* both valid-looking but swapped */
	make_slot(s0, 1, 1);
	make_slot(s1, 0, 2);
	expect_pick(s0, s1, REPLICA_FMT_BAD_LOCATION, 0, 0);
}

/* ---- bitmap blocks ----------------------------------------------------- */

static void fill_bits(uint8_t *blk, unsigned int seed)
{
	size_t i;

	memset(blk, 0x33, REPLICA_BITMAP_HDR_SIZE);	/* header garbage */
	for (i = REPLICA_BITMAP_HDR_SIZE; i < BS; i++) {
		seed = seed * 1103515245u + 12345u;
		blk[i] = (uint8_t)(seed >> 16);
	}
}

static void test_bitmap_golden(void **state)
{
	uint8_t blk[BS];

	(void)state;
	memset(blk, 0, BS);
	blk[16] = 0xa5;
	replica_bitmap_seal(blk, 7);
	assert_int_equal(get_le32(blk, 0), REPLICA_BITMAP_MAGIC);
	assert_int_equal(get_le32(blk, 4), 0xbabc259bu);
	assert_int_equal(get_le64(blk, 8), 7);
	assert_int_equal(blk[16], 0xa5);
	assert_int_equal(replica_bitmap_check(blk, 7), REPLICA_FMT_OK);
}

static void test_bitmap_seal_check(void **state)
{
	static const uint64_t idx[] = { 0, 1, 2, 65793, 1ull << 32,
					(1ull << 48) + 3, U64_MAX_ };
	uint8_t blk[BS], copy[BS];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(idx); i++) {
		fill_bits(blk, (unsigned int)i);
		memcpy(copy, blk, BS);
		replica_bitmap_seal(blk, idx[i]);
		/* the bits are not touched */
		assert_memory_equal(blk + 16, copy + 16, BS - 16);
		assert_int_equal(replica_bitmap_check(blk, idx[i]),
				 REPLICA_FMT_OK);
		assert_int_equal(replica_bitmap_check(blk, idx[i] + 1),
				 REPLICA_FMT_BAD_LOCATION);
		assert_int_equal(replica_bitmap_check(blk, idx[i] - 1),
				 REPLICA_FMT_BAD_LOCATION);
		assert_int_equal(replica_bitmap_check(blk,
						      idx[i] ^ (1ull << 40)),
				 REPLICA_FMT_BAD_LOCATION);
		/* resealing is idempotent */
		memcpy(copy, blk, BS);
		replica_bitmap_seal(blk, idx[i]);
		assert_memory_equal(blk, copy, BS);
	}

	/* an all-zero bitmap is still sealed fine */
	memset(blk, 0, BS);
	replica_bitmap_seal(blk, 3);
	assert_int_equal(replica_bitmap_check(blk, 3), REPLICA_FMT_OK);

	/* a sealed block with the index rewritten but the crc stale */
	put_le64(blk, 8, 4);
	assert_int_equal(replica_bitmap_check(blk, 4), REPLICA_FMT_BAD_CSUM);
	assert_int_equal(replica_bitmap_check(blk, 3), REPLICA_FMT_BAD_CSUM);
}

static void test_bitmap_bit_flips(void **state)
{
	uint8_t blk[BS], good[BS];
	size_t bit;
	int r;

	(void)state;
	fill_bits(good, 99);
	replica_bitmap_seal(good, 12);
	for (bit = 0; bit < BS * 8; bit++) {
		memcpy(blk, good, BS);
		blk[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		r = replica_bitmap_check(blk, 12);
		assert_int_equal(r, bit < 32 ? REPLICA_FMT_BAD_MAGIC :
					       REPLICA_FMT_BAD_CSUM);
	}
	/* two flips in the bits */
	memcpy(blk, good, BS);
	blk[100] ^= 0x01;
	blk[4000] ^= 0x80;
	assert_int_equal(replica_bitmap_check(blk, 12), REPLICA_FMT_BAD_CSUM);
}

static void test_bitmap_zero_and_garbage(void **state)
{
	struct replica_sb sb = good_sb(0);
	uint8_t blk[BS];

	(void)state;
	memset(blk, 0, BS);
	assert_int_equal(replica_bitmap_check(blk, 0), REPLICA_FMT_ZERO);
	assert_int_equal(replica_bitmap_check(blk, 5), REPLICA_FMT_ZERO);
	blk[BS - 1] = 1;
	assert_int_equal(replica_bitmap_check(blk, 0), REPLICA_FMT_BAD_MAGIC);
	memset(blk, 0xff, BS);
	assert_int_equal(replica_bitmap_check(blk, 0), REPLICA_FMT_BAD_MAGIC);
	/* a superblock is not a bitmap block */
	encode_sb(&sb, blk);
	assert_int_equal(replica_bitmap_check(blk, 0), REPLICA_FMT_BAD_MAGIC);
}

/* ---- strerror ---------------------------------------------------------- */

/* A snapshot store smaller than its source decodes; others do not. */
static void test_sb_snapshot_store(void **state)
{
	struct replica_sb in, out;
	uint8_t block[BS];

	(void)state;
	in = good_sb(1);
	in.sync_type = REPLICA_SYNC_SNAPSHOT;
	in.target_sectors = 128 * 100;		/* 100 slots */
	in.capacity_blocks = replica_area_blocks(in.nr_regions, 100);
	memset(block, 0, sizeof(block));
	replica_sb_encode(&in, block);
	assert_int_equal(replica_sb_decode(block, 1, &out), REPLICA_FMT_OK);
	assert_int_equal(replica_store_slots(out.sync_type, out.source_sectors,
					     out.target_sectors,
					     out.region_sectors), 100);

	/* The slot table must fit the area. */
	in.capacity_blocks = replica_bitmap_blocks(in.nr_regions);
	memset(block, 0, sizeof(block));
	replica_sb_encode(&in, block);
	assert_int_equal(replica_sb_decode(block, 1, &out),
			 REPLICA_FMT_BAD_FIELD);

	/* Less than one region of store is no store. */
	in.capacity_blocks = 1000;
	in.target_sectors = 127;
	memset(block, 0, sizeof(block));
	replica_sb_encode(&in, block);
	assert_int_equal(replica_sb_decode(block, 1, &out),
			 REPLICA_FMT_BAD_FIELD);

	/* A clone or mirror target may not be smaller. */
	in.target_sectors = 128 * 100;
	in.sync_type = REPLICA_SYNC_CLONE;
	memset(block, 0, sizeof(block));
	replica_sb_encode(&in, block);
	assert_int_equal(replica_sb_decode(block, 1, &out),
			 REPLICA_FMT_BAD_FIELD);

	assert_int_equal(replica_store_blocks(0), 0);
	assert_int_equal(replica_store_blocks(1), 1);
	assert_int_equal(replica_store_blocks(REPLICA_SLOTS_PER_BLOCK), 1);
	assert_int_equal(replica_store_blocks(REPLICA_SLOTS_PER_BLOCK + 1), 2);
	assert_int_equal(replica_store_slots(REPLICA_SYNC_SNAPSHOT, 1000,
					     1000, 8), 0);
}

static void test_strerror(void **state)
{
	const char *s[8];
	int i, j;

	(void)state;
	for (i = REPLICA_FMT_OK; i <= REPLICA_FMT_BAD_LOCATION; i++) {
		s[i] = replica_format_strerror(i);
		assert_non_null(s[i]);
		assert_true(strlen(s[i]) > 0);
		assert_string_not_equal(s[i], "unknown error");
		for (j = 0; j < i; j++)
			assert_string_not_equal(s[i], s[j]);
	}
	assert_string_equal(replica_format_strerror(-1), "unknown error");
	assert_string_equal(replica_format_strerror(7), "unknown error");
	assert_string_equal(replica_format_strerror(1 << 30), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc_vectors),
		cmocka_unit_test(test_crc_chaining_and_reference),
		cmocka_unit_test(test_region_size_valid),
		cmocka_unit_test(test_nr_regions),
		cmocka_unit_test(test_bitmap_blocks),
		cmocka_unit_test(test_capacity_blocks),
		cmocka_unit_test(test_min_meta_sectors),
		cmocka_unit_test(test_area_start),
		cmocka_unit_test(test_region_to_bit),
		cmocka_unit_test(test_sb_layout_golden),
		cmocka_unit_test(test_sb_round_trip),
		cmocka_unit_test(test_sb_encode_ignores_version),
		cmocka_unit_test(test_sb_each_corruption),
		cmocka_unit_test(test_sb_crc_field),
		cmocka_unit_test(test_sb_every_bit_flip),
		cmocka_unit_test(test_sb_location),
		cmocka_unit_test(test_sb_capacity_limit),
		cmocka_unit_test(test_sb_zero_and_garbage),
		cmocka_unit_test(test_pick_generations),
		cmocka_unit_test(test_pick_one_bad),
		cmocka_unit_test(test_pick_none_valid),
		cmocka_unit_test(test_bitmap_golden),
		cmocka_unit_test(test_bitmap_seal_check),
		cmocka_unit_test(test_bitmap_bit_flips),
		cmocka_unit_test(test_bitmap_zero_and_garbage),
		cmocka_unit_test(test_sb_snapshot_store),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL) ? EXIT_FAILURE : 0;
}
