/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-replica on-disk metadata format and region arithmetic.
 *
 * This file and replica-format.c are compiled both into the kernel module
 * and into the userspace helper and host tests, so they use only the small
 * type/endian vocabulary provided by replica-types.h.
 *
 * Layout of the metadata device, in 4 KiB metadata blocks:
 *
 *   block 0            superblock slot 0
 *   block 1            superblock slot 1
 *   block 2 ..         bitmap area 0 (capacity_blocks blocks)
 *   block 2 + cap ..   bitmap area 1 (capacity_blocks blocks)
 *
 * Commit protocol (crash-safe at any instant, no reliance on atomic sector
 * writes):
 *   1. flush the data device(s) whose contents the new bits vouch for;
 *   2. write every bitmap block that differs between the inactive area and
 *      the new in-core state into the inactive area;
 *   3. flush the metadata device;
 *   4. write the superblock, with generation + 1 and active_area pointing
 *      at the area just written, into slot (generation + 1) % 2, with FUA.
 * On load, the valid slot (magic, version, crc, blocknr) with the higher
 * generation wins; a torn superblock write leaves the previous one in force.
 *
 * One bit per region.  Its meaning depends on the sync type:
 *   mirror:   1 = region may differ between source and target (needs copy)
 *   clone:    1 = region copied (hydrated) to the target
 *   snapshot: 1 = region's point-in-time data preserved in the target
 */
#ifndef REPLICA_FORMAT_H
#define REPLICA_FORMAT_H

#include "replica-types.h"

#define REPLICA_META_BLOCK_SIZE		4096u
#define REPLICA_META_BLOCK_SECTORS	(REPLICA_META_BLOCK_SIZE >> 9)
#define REPLICA_SB_MAGIC		0x52504c43u	/* "CLPR" on disk, LE */
#define REPLICA_BITMAP_MAGIC		0x52504d42u
#define REPLICA_FORMAT_VERSION		1u
#define REPLICA_SB_SLOTS		2u
#define REPLICA_FIRST_BITMAP_BLOCK	2u

/* Region size limits, in 512-byte sectors: 4 KiB .. 1 GiB, power of two. */
#define REPLICA_MIN_REGION_SECTORS	8u
#define REPLICA_MAX_REGION_SECTORS	(1u << 21)

/* Bitmap block: 16-byte header, then bits. */
#define REPLICA_BITMAP_HDR_SIZE		16u
#define REPLICA_BITS_PER_BLOCK \
	((REPLICA_META_BLOCK_SIZE - REPLICA_BITMAP_HDR_SIZE) * 8u)

/* CIM values, stored as such. */
enum replica_sync_type {
	REPLICA_SYNC_MIRROR = 6,
	REPLICA_SYNC_SNAPSHOT = 7,
	REPLICA_SYNC_CLONE = 8,
};

enum replica_mode {
	REPLICA_MODE_SYNC = 2,
	REPLICA_MODE_ASYNC = 3,
};

/* CIM CopyState values (CIM_Synchronized.CopyState). */
enum replica_copy_state {
	REPLICA_CS_INITIALIZED = 2,
	REPLICA_CS_UNSYNCHRONIZED = 3,
	REPLICA_CS_SYNCHRONIZED = 4,
	REPLICA_CS_BROKEN = 5,
	REPLICA_CS_FRACTURED = 6,
	REPLICA_CS_SPLIT = 7,
	REPLICA_CS_INACTIVE = 8,
	REPLICA_CS_SUSPENDED = 9,
	REPLICA_CS_ABORTED = 12,
	REPLICA_CS_SKEWED = 13,
	REPLICA_CS_RESTORED = 18,
};

/* Superblock flags. */
#define REPLICA_SB_CLEAN_SHUTDOWN	(1u << 0)	/* set only by a clean dtr */
#define REPLICA_SB_NEEDS_CHECK		(1u << 1)	/* metadata error seen */
#define REPLICA_SB_RESTORING		(1u << 2)	/* copy direction target->source */
#define REPLICA_SB_INITIAL_COPY		(1u << 3)	/* first full copy running */
#define REPLICA_SB_KNOWN_FLAGS		0xfu

/* On-disk superblock: little endian, one 4 KiB block, zero padded. */
struct replica_sb_disk {
	__le32 magic;
	__le32 crc;		/* crc32c of the whole block with crc = 0 */
	__le32 version;
	__le32 flags;
	__le64 generation;	/* bumped by every commit */
	__le64 blocknr;		/* the slot's own block number (0 or 1) */
	__u8 uuid[16];		/* relationship UUID, set at format */
	__le64 source_sectors;
	__le64 target_sectors;
	__le64 nr_regions;
	__le32 region_sectors;
	__le32 sync_type;	/* enum replica_sync_type */
	__le32 mode;		/* enum replica_mode */
	__le32 copy_state;	/* enum replica_copy_state */
	__le32 active_area;	/* 0 or 1: the bitmap area this sb vouches for */
	__le32 reserved0;
	__le64 capacity_blocks;	/* blocks per bitmap area */
	__le64 bits_set;	/* population count of the active bitmap */
	__le64 created_ns;	/* wall clock at format (real time, ns) */
	__le64 pit_ns;		/* wall clock of the point in time, 0 if none */
} __packed;

/* On-disk bitmap block header, followed by REPLICA_BITS_PER_BLOCK bits. */
struct replica_bitmap_hdr_disk {
	__le32 magic;
	__le32 crc;		/* crc32c of the whole block with crc = 0 */
	__le64 index;		/* block index within its area */
} __packed;

/* Decoded, CPU-endian superblock. */
struct replica_sb {
	u32 version;
	u32 flags;
	u64 generation;
	u64 blocknr;
	u8 uuid[16];
	u64 source_sectors;
	u64 target_sectors;
	u64 nr_regions;
	u32 region_sectors;
	u32 sync_type;
	u32 mode;
	u32 copy_state;
	u32 active_area;
	u64 capacity_blocks;
	u64 bits_set;
	u64 created_ns;
	u64 pit_ns;
};

/* Result codes of the decoders; replica_format_strerror() names them. */
enum replica_format_err {
	REPLICA_FMT_OK = 0,
	REPLICA_FMT_ZERO,	/* block is all zeroes (unformatted) */
	REPLICA_FMT_BAD_MAGIC,
	REPLICA_FMT_BAD_CSUM,
	REPLICA_FMT_BAD_VERSION,
	REPLICA_FMT_BAD_FIELD,	/* a field is out of range or inconsistent */
	REPLICA_FMT_BAD_LOCATION,	/* blocknr/index does not match */
};

const char *replica_format_strerror(int err);

/* crc32c (Castagnoli), seed ~0, no final inversion: same as kernel crc32c(). */
u32 replica_crc32c(u32 seed, const void *buf, size_t len);

/* Region arithmetic; sectors are 512 bytes, region_sectors a power of two. */
bool replica_region_size_valid(u32 region_sectors);
/* ceil(sectors / region_sectors); 0 if region_sectors is 0. */
u64 replica_nr_regions(u64 sectors, u32 region_sectors);
/* ceil(nr_regions / REPLICA_BITS_PER_BLOCK) */
u64 replica_bitmap_blocks(u64 nr_regions);
/* Capacity (blocks per area) a metadata device of meta_sectors can hold. */
u64 replica_capacity_blocks(u64 meta_sectors);
/*
 * Smallest metadata device, in sectors, for nr_regions: 2 superblock blocks
 * plus 2 areas of max(1, replica_bitmap_blocks(nr_regions)) blocks, so that
 * replica_capacity_blocks() of the result is never 0.
 */
u64 replica_min_meta_sectors(u64 nr_regions);
/* First block of bitmap area 0 or 1. */
u64 replica_area_start(u64 capacity_blocks, u32 area);
/* Where region r lives: bitmap block index and bit within that block. */
void replica_region_to_bit(u64 region, u64 *block_index, u32 *bit);

/*
 * Encode a superblock into a REPLICA_META_BLOCK_SIZE buffer (the whole
 * buffer is overwritten; padding is zeroed).  Magic and version are always
 * REPLICA_SB_MAGIC and REPLICA_FORMAT_VERSION: sb->version is ignored.
 */
void replica_sb_encode(const struct replica_sb *sb, void *block);
/*
 * Decode and validate one superblock slot read from block `blocknr`.
 * Checks, in this order, with the result of the first that fails:
 *   all zero                                  -> REPLICA_FMT_ZERO
 *   magic                                     -> REPLICA_FMT_BAD_MAGIC
 *   crc                                       -> REPLICA_FMT_BAD_CSUM
 *   version                                   -> REPLICA_FMT_BAD_VERSION
 *   blocknr < REPLICA_SB_SLOTS, matches field -> REPLICA_FMT_BAD_LOCATION
 *   known flags, region size, enum values, active_area 0/1,
 *   0 < capacity_blocks (and the whole device size fits in 64 bits),
 *   nr_regions == ceil(source_sectors / region_sectors),
 *   nr_regions <= capacity_blocks * REPLICA_BITS_PER_BLOCK,
 *   bits_set <= nr_regions, target_sectors >= source_sectors,
 *   reserved0 and padding zero                -> REPLICA_FMT_BAD_FIELD
 * *sb (may be NULL) is filled in on REPLICA_FMT_OK, and also on
 * BAD_LOCATION / BAD_FIELD (the block is authentic; for diagnostics only).
 * A block that decodes OK re-encodes to identical bytes.
 */
int replica_sb_decode(const void *block, u64 blocknr, struct replica_sb *sb);
/*
 * Pick the newer valid slot (higher generation; slot 0 on a tie).  Returns
 * REPLICA_FMT_OK with *sb and *which (0 or 1) set; REPLICA_FMT_ZERO if
 * both slots are all-zero; if neither is valid, the error of slot 0, or
 * that of slot 1 when slot 0 is all-zero (so ZERO never hides a damaged
 * slot).  *sb and *which are left alone on error.
 */
int replica_sb_pick(const void *slot0, const void *slot1,
		    struct replica_sb *sb, u32 *which);

/*
 * Snapshot store.  A snapshot whose target is smaller than its source
 * keeps preserved regions in slots allocated in order; each area then
 * holds, after its bitmap blocks, a slot table of little-endian u64
 * entries (region + 1; 0 = free) in blocks sealed like bitmap blocks.
 * A full-size target has no store: region i lives at region i.
 */
#define REPLICA_SLOTS_PER_BLOCK \
	((REPLICA_META_BLOCK_SIZE - REPLICA_BITMAP_HDR_SIZE) / 8u)

/* Slots of the store, or 0 when the target holds every region in place. */
u64 replica_store_slots(u32 sync_type, u64 source_sectors,
			u64 target_sectors, u32 region_sectors);
/* Blocks of the slot table for `slots` slots. */
u64 replica_store_blocks(u64 slots);
/* Blocks of one area in use: the bitmap, then the slot table. */
u64 replica_area_blocks(u64 nr_regions, u64 store_slots);

/* Seal a bitmap block in place: fill header for `index` and its crc. */
void replica_bitmap_seal(void *block, u64 index);
/*
 * Validate a bitmap block read for `index`: REPLICA_FMT_ZERO if all zero,
 * else BAD_MAGIC, BAD_CSUM, or BAD_LOCATION if the index does not match.
 */
int replica_bitmap_check(const void *block, u64 index);
/* Bits of a bitmap block (little-endian byte order, bit i = byte i/8 bit i%8). */
static inline u8 *replica_bitmap_bits(void *block)
{
	return (u8 *)block + REPLICA_BITMAP_HDR_SIZE;
}

#endif /* REPLICA_FORMAT_H */
