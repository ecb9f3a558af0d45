/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-replica metadata: the superblock and the persistent region bitmap.
 *
 * The in-core bitmap is kept in on-disk format, one page per 4 KiB bitmap
 * block, so a commit only seals and writes the blocks that changed.  Bit
 * updates are made by the caller under its own lock; the metadata layer
 * only records which blocks are dirty and performs commits.
 */
#ifndef DM_REPLICA_METADATA_H
#define DM_REPLICA_METADATA_H

#include <linux/blkdev.h>
#include <linux/dm-io.h>
#include <linux/mutex.h>

#include "replica-format.h"

struct replica_metadata {
	struct block_device *bdev;
	struct dm_io_client *io_client;
	struct mutex commit_lock;	/* serialises commits */

	struct replica_sb sb;		/* as last committed */
	u64 nr_blocks;			/* blocks in use: bitmap + slot table */
	u64 bitmap_blocks;
	u64 store_slots;		/* snapshot store slots, 0 = full size */
	void **blocks;			/* in-core bitmap blocks (pages) */

	/*
	 * Dirty-block tracking for the two-area commit: the inactive area
	 * lags the active one by one commit, so a commit writes the blocks
	 * dirtied since the last commit plus those the last commit wrote.
	 */
	unsigned long *dirty_now;	/* dirtied since the last commit */
	unsigned long *dirty_prev;	/* written by the last commit */
	void *bounce;			/* one block, for sealing copies */
	bool formatted;			/* true if this open formatted it */
};

struct replica_md_geometry {
	u32 sync_type;
	u32 mode;
	u32 region_sectors;
	u64 source_sectors;
	u64 target_sectors;
	bool all_set;			/* format with every bit set */
	bool may_format;		/* format a zeroed device */
};

int replica_md_open(struct replica_metadata *md, struct block_device *bdev,
		    const struct replica_md_geometry *geo, char **error);
void replica_md_close(struct replica_metadata *md);

/* Grow to geo->source_sectors; new regions get their bit set if set_new. */
int replica_md_grow(struct replica_metadata *md, u64 source_sectors,
		    u64 target_sectors, bool set_new, char **error);

static inline u8 *replica_md_bits(struct replica_metadata *md, u64 region,
				  u32 *bit)
{
	u64 index;

	replica_region_to_bit(region, &index, bit);
	return replica_bitmap_bits(md->blocks[index]);
}

static inline bool replica_md_test(struct replica_metadata *md, u64 region)
{
	u32 bit;
	u8 *bits = replica_md_bits(md, region, &bit);

	return bits[bit >> 3] & (1u << (bit & 7));
}

static inline __le64 *replica_md_slot_ptr(struct replica_metadata *md,
					   u64 slot, u64 *index)
{
	u32 off;

	*index = md->bitmap_blocks +
		 div_u64_rem(slot, REPLICA_SLOTS_PER_BLOCK, &off);
	return (__le64 *)replica_bitmap_bits(md->blocks[*index]) + off;
}

/* Region stored in a snapshot store slot, or U64_MAX if free. */
static inline u64 replica_md_get_slot(struct replica_metadata *md, u64 slot)
{
	u64 index, v = le64_to_cpu(*replica_md_slot_ptr(md, slot, &index));

	return v ? v - 1 : U64_MAX;
}

/* Record (or with U64_MAX free) a slot; caller holds the bitmap lock. */
void replica_md_set_slot(struct replica_metadata *md, u64 slot, u64 region);

/* Caller holds the lock that guards bitmap updates. */
void replica_md_set(struct replica_metadata *md, u64 region);
void replica_md_clear(struct replica_metadata *md, u64 region);

/*
 * Commit the in-core state.  snapshot_lock is the caller's spinlock that
 * guards bitmap updates: each block is copied under it, so updates may go
 * on while the commit runs.  The caller has already flushed the data legs
 * if the new bits vouch for data.  Fills sb fields from *next before
 * writing (copy_state, mode, flags, bits_set are the caller's).
 */
int replica_md_commit(struct replica_metadata *md, spinlock_t *snapshot_lock,
		      const struct replica_sb *next);

/* Synchronous flush of any block device; used for the data legs. */
int replica_flush_bdev(struct dm_io_client *client, struct block_device *bdev);

#endif /* DM_REPLICA_METADATA_H */
