/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-replica metadata: the superblock and the persistent region bitmap,
 * behind a small API: test/mark/clear a region's bit, pre-commit, commit.
 *
 * The in-core bitmap is kept in on-disk format, one page per 4 KiB bitmap
 * block, so a commit only seals and writes the blocks that changed.  Bits
 * change under md->lock (the relationship's lock, given at open and
 * asserted by every accessor); commits are serialised by commit_lock.
 *
 * A commit is two steps, so that the caller can flush the data legs in
 * between:
 *   seq = replica_md_pre_commit(md)    under md->lock: takes the exact
 *                                      set of blocks changed so far;
 *   (caller flushes the legs the changes vouch for)
 *   replica_md_commit(md, seq, next)   writes them and the superblock;
 *                                      then replica_md_committed(md, seq).
 * A change made at sequence replica_md_open_seq() is durable once
 * replica_md_committed_seq() has reached it.
 */
#ifndef DM_REPLICA_METADATA_H
#define DM_REPLICA_METADATA_H

#include <linux/blkdev.h>
#include <linux/dm-io.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>

#include "replica-format.h"

/* Per-block tracking, sized from the blocks in use (resized by grow). */
struct replica_md_tracking {
	u64 nr_blocks;
	unsigned long *dirty;		/* changed since the last pre-commit */
	unsigned long *changed;		/* taken by the pending pre-commit */
	unsigned long *stale;		/* the inactive area lacks these */
	unsigned long *writeset;	/* scratch: blocks one commit writes */
	/* per block: commit that makes marks with no waiter durable */
	u64 *gate_seq;
};

struct replica_metadata {
	struct block_device *bdev;
	struct dm_io_client *io_client;
	spinlock_t *lock;		/* guards the bits and the tracking */
	struct mutex commit_lock;	/* serialises commits and grow */

	struct replica_sb sb;		/* as last committed */
	u64 nr_blocks;			/* blocks in use: bitmap + slot table */
	u64 bitmap_blocks;
	u64 store_slots;		/* snapshot store slots, 0 = full size */
	void **blocks;			/* in-core bitmap blocks (pages) */
	struct replica_md_tracking t;

	u64 open_seq;			/* commit that will carry changes made now */
	u64 committed_seq;		/* last commit that reached the disk */
	void *bounce;			/* one block, for sealing copies */
	bool formatted;			/* true if this open formatted it */
	bool clean_shutdown;		/* the last commit was a clean stop */
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
		    spinlock_t *lock, const struct replica_md_geometry *geo,
		    char **error);
void replica_md_close(struct replica_metadata *md);

/*
 * Growing to source_sectors: prepare allocates (may sleep; takes
 * commit_lock, so no commit runs until release), apply switches under
 * md->lock (new regions get their bit when set_new), release frees what
 * is left over and drops commit_lock.
 */
struct replica_md_growth {
	struct replica_md_tracking t;
	u64 source_sectors;
	u64 target_sectors;
};

int replica_md_grow_prepare(struct replica_metadata *md, u64 source_sectors,
			    u64 target_sectors, struct replica_md_growth *g,
			    char **error);
void replica_md_grow_apply(struct replica_metadata *md,
			   struct replica_md_growth *g, bool set_new);
void replica_md_grow_release(struct replica_metadata *md,
			     struct replica_md_growth *g);

static inline void replica_md_assert_locked(struct replica_metadata *md)
{
	lockdep_assert_held(md->lock);
}

static inline u8 *replica_md_bits(struct replica_metadata *md, u64 region,
				  u32 *bit)
{
	u64 index;

	replica_region_to_bit(region, &index, bit);
	return replica_bitmap_bits(md->blocks[index]);
}

/* Read without the lock by map(): a racing change is decided again later. */
static inline bool replica_md_test(struct replica_metadata *md, u64 region)
{
	u32 bit;
	u8 *bits = replica_md_bits(md, region, &bit);

	return READ_ONCE(bits[bit >> 3]) & (1u << (bit & 7));
}

void replica_md_set(struct replica_metadata *md, u64 region);
void replica_md_clear(struct replica_metadata *md, u64 region);

/*
 * Set a region's bit for a change that has no waiter to hold (a discard,
 * a grow): writes to any region of its block wait for the commit that
 * carries it (replica_md_gate_seq).
 */
void replica_md_set_gated(struct replica_metadata *md, u64 region);
u64 replica_md_gate_seq(struct replica_metadata *md, u64 region);

/* Regions of the bitmap, block-wise (bounded work per block). */
u64 replica_md_weight(struct replica_metadata *md);
/* map = bits (or their complement) of regions [0, nr_regions). */
void replica_md_to_map(struct replica_metadata *md, unsigned long *map,
		       bool invert);
/* Clear every bit and every store slot. */
void replica_md_clear_all(struct replica_metadata *md);

static inline u64 replica_md_open_seq(struct replica_metadata *md)
{
	replica_md_assert_locked(md);
	return md->open_seq;
}

static inline bool replica_md_durable(struct replica_metadata *md, u64 seq)
{
	return seq <= READ_ONCE(md->committed_seq);
}

static inline bool replica_md_dirty(struct replica_metadata *md)
{
	replica_md_assert_locked(md);
	return !bitmap_empty(md->t.dirty, md->t.nr_blocks);
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

/* Record (or with U64_MAX free) a slot. */
void replica_md_set_slot(struct replica_metadata *md, u64 slot, u64 region);

/*
 * Take the exact set of changes the next commit makes durable; returns
 * its sequence.  Changes made after it go to the commit after.
 */
u64 replica_md_pre_commit(struct replica_metadata *md);

/*
 * Write what the pre-commit took (to the inactive area) and then the
 * superblock (PREFLUSH|FUA), with copy_state, mode, flags, bits_set and
 * pit_ns from *next.  The caller has flushed the data legs the changes
 * vouch for.  On failure the changes stay pending (the in-core bits are
 * not rolled back) and committed_seq does not move.
 */
int replica_md_commit(struct replica_metadata *md, u64 seq,
		      const struct replica_sb *next);

/* Synchronous flush of a data leg. */
int replica_flush_bdev(struct block_device *bdev);

#endif /* DM_REPLICA_METADATA_H */
