// SPDX-License-Identifier: GPL-2.0-only
/*
 * Write a seed corpus for fuzz-format into the directory argv[1].
 * Input layout (see fuzz-format.c): control byte, slot 0, slot 1, bitmap.
 * The output is committed as fuzz/corpus/fuzz-format/; to regenerate:
 *   cc -I../dm-replica -o /tmp/seeds fuzz/seeds-format.c \
 *      ../dm-replica/replica-format.c && /tmp/seeds fuzz/corpus/fuzz-format
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replica-format.h"

#define BS REPLICA_META_BLOCK_SIZE
#define SEED_SIZE (1 + 3 * BS)

static const char *dir;
static int nr_seeds;

static void emit(const uint8_t *seed, size_t len)
{
	char path[4096];
	FILE *f;

	/* the fuzzer zero-pads its input, so trailing zeroes are implied */
	while (len > 1 && !seed[len - 1])
		len--;
	snprintf(path, sizeof(path), "%s/seed-%02d", dir, nr_seeds++);
	f = fopen(path, "wb");
	if (!f || fwrite(seed, 1, len, f) != len || fclose(f)) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		exit(1);
	}
}

static struct replica_sb base_sb(uint64_t slot, uint64_t gen)
{
	struct replica_sb sb;
	int i;

	memset(&sb, 0, sizeof(sb));
	sb.version = REPLICA_FORMAT_VERSION;
	sb.generation = gen;
	sb.blocknr = slot;
	for (i = 0; i < 16; i++)
		sb.uuid[i] = (uint8_t)(i * 17 + 3);
	sb.region_sectors = 128;
	sb.source_sectors = 2097152 + 5;
	sb.target_sectors = 2097152 + 5;
	sb.nr_regions = replica_nr_regions(sb.source_sectors,
					   sb.region_sectors);
	sb.sync_type = REPLICA_SYNC_MIRROR;
	sb.mode = REPLICA_MODE_ASYNC;
	sb.copy_state = REPLICA_CS_SYNCHRONIZED;
	sb.active_area = (uint32_t)(gen & 1);
	sb.capacity_blocks = replica_bitmap_blocks(sb.nr_regions);
	sb.bits_set = 3;
	sb.created_ns = 1700000000000000000ull;
	return sb;
}

static void bitmap(uint8_t *blk, uint64_t index, uint8_t fill)
{
	memset(blk, fill, BS);
	replica_bitmap_seal(blk, index);
}

int main(int argc, char **argv)
{
	static uint8_t seed[SEED_SIZE];
	struct replica_sb sb;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];

	/* two valid slots, slot 1 newer; a sealed bitmap block */
	memset(seed, 0, sizeof(seed));
	sb = base_sb(0, 4);
	replica_sb_encode(&sb, seed + 1);
	sb = base_sb(1, 5);
	replica_sb_encode(&sb, seed + 1 + BS);
	bitmap(seed + 1 + 2 * BS, 0, 0x00);
	emit(seed, sizeof(seed));

	/* same, with every reseal bit set (a no-op on valid blocks) */
	seed[0] = 0x07;
	emit(seed, sizeof(seed));

	/* freshly formatted the way the kernel does it: slot 1 only */
	memset(seed, 0, sizeof(seed));
	sb = base_sb(1, 1);
	sb.copy_state = REPLICA_CS_INITIALIZED;
	sb.bits_set = sb.nr_regions;
	sb.target_sectors *= 2;
	replica_sb_encode(&sb, seed + 1 + BS);
	bitmap(seed + 1 + 2 * BS, 1, 0xff);
	emit(seed, sizeof(seed));

	/* > 2^31 4 KiB regions, clone, every flag, slot 0 newer */
	memset(seed, 0, sizeof(seed));
	sb = base_sb(0, 1ull << 33);
	sb.flags = REPLICA_SB_KNOWN_FLAGS;
	sb.sync_type = REPLICA_SYNC_CLONE;
	sb.region_sectors = 8;
	sb.source_sectors = (1ull << 34) + 1;
	sb.target_sectors = sb.source_sectors;
	sb.nr_regions = replica_nr_regions(sb.source_sectors, 8);
	sb.capacity_blocks = replica_bitmap_blocks(sb.nr_regions) + 9;
	sb.bits_set = sb.nr_regions;
	sb.pit_ns = 1700000000000000001ull;
	replica_sb_encode(&sb, seed + 1);
	sb.generation--;
	sb.blocknr = 1;
	replica_sb_encode(&sb, seed + 1 + BS);
	bitmap(seed + 1 + 2 * BS, 65793, 0xa5);
	emit(seed, sizeof(seed));

	/* 1 GiB regions, snapshot; slot 1 torn (reseal bit 1 fixes it) */
	memset(seed, 0, sizeof(seed));
	sb = base_sb(0, 2);
	sb.sync_type = REPLICA_SYNC_SNAPSHOT;
	sb.region_sectors = 1u << 21;
	sb.source_sectors = ~0ull;
	sb.target_sectors = ~0ull;
	sb.nr_regions = replica_nr_regions(sb.source_sectors,
					   sb.region_sectors);
	sb.capacity_blocks = replica_bitmap_blocks(sb.nr_regions);
	replica_sb_encode(&sb, seed + 1);
	sb.generation = 3;
	sb.blocknr = 1;
	replica_sb_encode(&sb, seed + 1 + BS);
	seed[1 + BS + 20] ^= 0x10;
	emit(seed, sizeof(seed));
	seed[0] = 0x02;
	emit(seed, sizeof(seed));

	/* short inputs: only a slot 0 superblock's used part, or nothing */
	memset(seed, 0, sizeof(seed));
	sb = base_sb(0, 7);
	replica_sb_encode(&sb, seed + 1);
	emit(seed, 1 + sizeof(struct replica_sb_disk));
	emit(seed, 1);

	printf("%d seeds written to %s\n", nr_seeds, dir);
	return 0;
}
