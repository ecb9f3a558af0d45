// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the dm-replica on-disk format (replica-format.c).
 *
 * Input: one control byte, then up to three 4 KiB blocks (zero padded):
 * superblock slot 0, superblock slot 1, one bitmap block.  Control bits
 * 0..2 ask for the crc of slot 0 / slot 1 / the bitmap block to be
 * recomputed first, so that mutations get past the checksum and reach the
 * field validation.  Bits 3..7 are unused.
 *
 * Invariants checked (abort() on violation):
 *  - every result is a known error code with a non-"unknown" name;
 *  - decode OK => all documented field constraints hold and re-encoding
 *    the decoded superblock gives identical bytes;
 *  - pick agrees with decoding each slot on its own: OK only with a slot
 *    that decodes OK and has the highest valid generation (slot 0 on a
 *    tie); ZERO iff both slots are all-zero; else slot 0's error, or slot
 *    1's when slot 0 is all-zero; nothing is written on error;
 *  - bitmap check OK for index i => resealing for i is a no-op and any
 *    other index gives BAD_LOCATION; sealing always yields a valid block;
 *  - region arithmetic on numbers taken from the input is consistent.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replica-format.h"

typedef unsigned __int128 u128;

#define BS REPLICA_META_BLOCK_SIZE

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

static uint32_t ref_crc32c(uint32_t crc, const uint8_t *p, size_t len)
{
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ ((crc & 1) ? 0x82f63b78u : 0);
	}
	return crc;
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void reseal(uint8_t *blk)
{
	uint32_t crc;
	int i;

	memset(blk + 4, 0, 4);
	crc = replica_crc32c(~0u, blk, BS);
	for (i = 0; i < 4; i++)
		blk[4 + i] = (uint8_t)(crc >> (8 * i));
}

static int is_zero(const uint8_t *blk)
{
	size_t i;

	for (i = 0; i < BS; i++)
		if (blk[i])
			return 0;
	return 1;
}

static void check_code(int r)
{
	CHECK(r >= REPLICA_FMT_OK && r <= REPLICA_FMT_BAD_LOCATION);
	CHECK(strcmp(replica_format_strerror(r), "unknown error") != 0);
}

static int valid_copy_state(uint32_t v)
{
	return (v >= 2 && v <= 9) || v == 12 || v == 13 || v == 18;
}

/* Decode one slot and check everything that follows from the result. */
static int check_decode(const uint8_t *blk, uint64_t slot,
			struct replica_sb *out)
{
	uint8_t again[BS];
	struct replica_sb sb;
	uint64_t meta_blocks;
	int r;

	memset(&sb, 0, sizeof(sb));
	r = replica_sb_decode(blk, slot, &sb);
	check_code(r);
	CHECK((r == REPLICA_FMT_ZERO) == is_zero(blk));
	/* deterministic, and independent of the output pointer */
	CHECK(replica_sb_decode(blk, slot, NULL) == r);
	if (r != REPLICA_FMT_OK)
		return r;

	CHECK(sb.version == REPLICA_FORMAT_VERSION);
	CHECK(sb.blocknr == slot && slot < REPLICA_SB_SLOTS);
	CHECK(!(sb.flags & ~REPLICA_SB_KNOWN_FLAGS));
	CHECK(replica_region_size_valid(sb.region_sectors));
	CHECK(sb.sync_type >= REPLICA_SYNC_MIRROR &&
	      sb.sync_type <= REPLICA_SYNC_CLONE);
	CHECK(sb.mode == REPLICA_MODE_SYNC || sb.mode == REPLICA_MODE_ASYNC);
	CHECK(valid_copy_state(sb.copy_state));
	CHECK(sb.active_area <= 1);
	CHECK(sb.capacity_blocks > 0);
	CHECK(sb.nr_regions ==
	      replica_nr_regions(sb.source_sectors, sb.region_sectors));
	CHECK((u128)sb.nr_regions <=
	      (u128)sb.capacity_blocks * REPLICA_BITS_PER_BLOCK);
	CHECK(sb.bits_set <= sb.nr_regions);
	CHECK(sb.target_sectors >= sb.source_sectors);
	/* the whole metadata device is addressable in 64-bit sectors */
	meta_blocks = replica_area_start(sb.capacity_blocks, 1) +
		      sb.capacity_blocks;
	CHECK(meta_blocks > sb.capacity_blocks);
	CHECK((u128)meta_blocks * REPLICA_META_BLOCK_SECTORS <=
	      UINT64_MAX);
	CHECK(replica_capacity_blocks(meta_blocks *
				      REPLICA_META_BLOCK_SECTORS) ==
	      sb.capacity_blocks);
	CHECK(replica_min_meta_sectors(sb.nr_regions) <=
	      meta_blocks * REPLICA_META_BLOCK_SECTORS);

	memset(again, 0xa5, BS);
	replica_sb_encode(&sb, again);
	CHECK(memcmp(blk, again, BS) == 0);
	if (out)
		*out = sb;
	return r;
}

/* Field by field: struct replica_sb has padding holes. */
static int sb_equal(const struct replica_sb *a, const struct replica_sb *b)
{
	return a->version == b->version && a->flags == b->flags &&
	       a->generation == b->generation && a->blocknr == b->blocknr &&
	       !memcmp(a->uuid, b->uuid, sizeof(a->uuid)) &&
	       a->source_sectors == b->source_sectors &&
	       a->target_sectors == b->target_sectors &&
	       a->nr_regions == b->nr_regions &&
	       a->region_sectors == b->region_sectors &&
	       a->sync_type == b->sync_type && a->mode == b->mode &&
	       a->copy_state == b->copy_state &&
	       a->active_area == b->active_area &&
	       a->capacity_blocks == b->capacity_blocks &&
	       a->bits_set == b->bits_set && a->created_ns == b->created_ns &&
	       a->pit_ns == b->pit_ns;
}

static void check_pick(const uint8_t *s0, const uint8_t *s1)
{
	struct replica_sb d0, d1, got, poison;
	uint32_t which = 0xdead;
	int r0, r1, r;

	r0 = check_decode(s0, 0, &d0);
	r1 = check_decode(s1, 1, &d1);
	/* a block is valid at one location at most */
	if (r0 == REPLICA_FMT_OK)
		CHECK(replica_sb_decode(s0, 1, NULL) ==
		      REPLICA_FMT_BAD_LOCATION);
	if (r1 == REPLICA_FMT_OK)
		CHECK(replica_sb_decode(s1, 0, NULL) ==
		      REPLICA_FMT_BAD_LOCATION);
	CHECK(replica_sb_decode(s0, 2, NULL) != REPLICA_FMT_OK);

	memset(&got, 0x5a, sizeof(got));
	memset(&poison, 0x5a, sizeof(poison));
	r = replica_sb_pick(s0, s1, &got, &which);
	check_code(r);
	if (r == REPLICA_FMT_OK) {
		CHECK(which <= 1);
		CHECK((which ? r1 : r0) == REPLICA_FMT_OK);
		CHECK(sb_equal(&got, which ? &d1 : &d0));
		if (which == 0 && r1 == REPLICA_FMT_OK)
			CHECK(d0.generation >= d1.generation);
		if (which == 1 && r0 == REPLICA_FMT_OK)
			CHECK(d1.generation > d0.generation);
	} else {
		CHECK(r0 != REPLICA_FMT_OK && r1 != REPLICA_FMT_OK);
		CHECK(r == (r0 == REPLICA_FMT_ZERO ? r1 : r0));
		CHECK((r == REPLICA_FMT_ZERO) ==
		      (r0 == REPLICA_FMT_ZERO && r1 == REPLICA_FMT_ZERO));
		CHECK(which == 0xdead);
		CHECK(sb_equal(&got, &poison));
	}
}

static void check_bitmap(const uint8_t *blk)
{
	uint8_t copy[BS];
	uint64_t idx = get_le64(blk + 8);
	int r;

	r = replica_bitmap_check(blk, idx);
	check_code(r);
	CHECK((r == REPLICA_FMT_ZERO) == is_zero(blk));
	if (r == REPLICA_FMT_OK) {
		CHECK(replica_bitmap_check(blk, idx + 1) ==
		      REPLICA_FMT_BAD_LOCATION);
		CHECK(replica_bitmap_check(blk, ~idx) ==
		      REPLICA_FMT_BAD_LOCATION);
		memcpy(copy, blk, BS);
		replica_bitmap_seal(copy, idx);
		CHECK(memcmp(copy, blk, BS) == 0);
		/* a bitmap block never passes as a superblock */
		CHECK(replica_sb_decode(blk, 0, NULL) ==
		      REPLICA_FMT_BAD_MAGIC);
	} else {
		/* whatever the index, a failing block fails the same way */
		CHECK(r == REPLICA_FMT_BAD_LOCATION ||
		      replica_bitmap_check(blk, idx + 1) == r);
	}

	/* sealing anything gives a valid block, for that index only */
	memcpy(copy, blk, BS);
	replica_bitmap_seal(copy, idx ^ 1);
	CHECK(replica_bitmap_check(copy, idx ^ 1) == REPLICA_FMT_OK);
	CHECK(replica_bitmap_check(copy, idx) == REPLICA_FMT_BAD_LOCATION);
	CHECK(memcmp(copy + REPLICA_BITMAP_HDR_SIZE,
		     blk + REPLICA_BITMAP_HDR_SIZE,
		     BS - REPLICA_BITMAP_HDR_SIZE) == 0);
}

static void check_math(const uint8_t *p)
{
	uint64_t sectors = get_le64(p);
	uint64_t region = get_le64(p + 8);
	uint32_t rs = 1u << (p[16] % 32);
	uint64_t n, blk, need, meta;
	uint32_t bit;

	CHECK(replica_region_size_valid(rs) ==
	      (rs >= REPLICA_MIN_REGION_SECTORS &&
	       rs <= REPLICA_MAX_REGION_SECTORS));
	n = replica_nr_regions(sectors, rs);
	CHECK((u128)n * rs >= sectors);
	CHECK(n == 0 || (u128)(n - 1) * rs < sectors);

	replica_region_to_bit(region, &blk, &bit);
	CHECK(bit < REPLICA_BITS_PER_BLOCK);
	CHECK((u128)blk * REPLICA_BITS_PER_BLOCK + bit == region);
	need = replica_bitmap_blocks(region);
	CHECK(need == blk + (bit ? 1 : 0));

	meta = replica_min_meta_sectors(region);
	if (!need)
		need = 1;
	CHECK(replica_capacity_blocks(meta) == need);
	CHECK(replica_capacity_blocks(meta - 1) < need);
	CHECK(replica_capacity_blocks(sectors) <= sectors / 16);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t blk[3][BS];
	uint8_t ctl = 0;
	size_t n;
	int i;

	if (size) {
		ctl = data[0];
		data++;
		size--;
	}
	for (i = 0; i < 3; i++) {
		n = size > BS ? BS : size;
		memset(blk[i], 0, BS);
		memcpy(blk[i], data, n);
		data += n;
		size -= n;
	}
	for (i = 0; i < 3; i++)
		if (ctl & (1u << i))
			reseal(blk[i]);

	CHECK(replica_crc32c(~0u, blk[0], 256) ==
	      ref_crc32c(~0u, blk[0], 256));
	check_pick(blk[0], blk[1]);
	check_pick(blk[1], blk[0]);
	check_bitmap(blk[2]);
	check_math(blk[2] + REPLICA_BITMAP_HDR_SIZE);
	return 0;
}
