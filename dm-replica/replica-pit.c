// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-replica snapshot and clone: the point-in-time (PIT) paths.
 *
 * A set bit means the target holds the region's PIT data (preserved by a
 * copy-on-write, hydrated by the background copy, or written through the
 * view).  The rules:
 *  - a source write reaches the source only once the region's PIT data is
 *    on the target and its bit is committed (copy, flush, commit);
 *  - a view read of a region without its bit reads the source, and source
 *    writes to that region wait until such reads have finished;
 *  - a view write reaches the target only once the region's bit is
 *    committed, or replaces the copy when it covers the whole region and
 *    then completes only after the commit.
 * A clone is a snapshot whose regions are also copied in the background.
 */
#include <linux/blkdev.h>
#include <linux/hash.h>
#include <linux/ktime.h>
#include <linux/slab.h>

#include "replica.h"
#include "replica-core.h"

enum pit_decision {
	PIT_SOURCE,		/* remap to the source */
	PIT_TARGET,		/* remap to the target */
	PIT_OVERWRITE,		/* whole-region view write replacing a copy */
	PIT_QUEUED,		/* held on an entry */
	PIT_DEFER,		/* no entry: retry from the worker (a freed one wakes it) */
	PIT_ERROR,
};

/* ---- Snapshot store smaller than the source ---- */
static struct hlist_head *slot_bucket(struct replica *rep, u64 region)
{
	return &rep->slots[hash_64(region, REPLICA_HASH_BITS)];
}

static struct slot_map *__find_slot(struct replica *rep, u64 region)
{
	struct slot_map *m;

	hlist_for_each_entry(m, slot_bucket(rep, region), hash)
		if (m->region == region)
			return m;
	return NULL;
}

static void __insert_slot(struct replica *rep, struct slot_map *m, u64 region,
			  u64 slot)
{
	m->region = region;
	m->slot = slot;
	hlist_add_head(&m->hash, slot_bucket(rep, region));
}

/* Where a region's PIT data lives (or will live) on the target. */
static sector_t __target_sector(struct replica *rep, u64 region,
				sector_t sector)
{
	struct slot_map *m;

	if (!rep->store_slots)
		return sector;
	m = __find_slot(rep, region);
	if (WARN_ON_ONCE(!m))
		return sector;
	return ((sector_t)m->slot << rep->region_shift) +
	       (sector - region_to_sector(rep, region));
}

/*
 * Choose where a copy of `region` goes on the target, allocating a store
 * slot from *spare if needed.  -ENOSPC when the store is full: the point
 * in time is then lost, and the source goes on without it.
 */
static int pit_copy_place(struct replica *rep, u64 region,
			  struct slot_map **spare)
{
	lockdep_assert_held(&rep->lock);
	if (!rep->store_slots || rep->restoring || __find_slot(rep, region))
		return 0;
	if (rep->slots_used >= rep->store_slots) {
		if (!rep->overflow) {
			DMERR("snapshot store full (%llu regions): snapshot invalidated, source unaffected",
			      rep->store_slots);
			rep->overflow = true;
			__replica_set_state(rep, REPLICA_CS_BROKEN);
		}
		return -ENOSPC;
	}
	if (!*spare)
		return -ENOMEM;
	__insert_slot(rep, *spare, region, rep->slots_used++);
	*spare = NULL;
	return 0;
}

/* Record a preserved region's slot in the slot table (with its bit). */
static void __record_slot(struct replica *rep, u64 region)
{
	struct slot_map *m;

	if (!rep->store_slots)
		return;
	m = __find_slot(rep, region);
	if (!WARN_ON_ONCE(!m))
		replica_md_set_slot(&rep->md, m->slot, region);
}

/* Free the in-core slot map (the slot table is left as it is). */
void replica_pit_free_store(struct replica *rep)
{
	struct slot_map *m;
	struct hlist_node *tmp;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rep->slots); i++) {
		hlist_for_each_entry_safe(m, tmp, &rep->slots[i], hash) {
			hlist_del(&m->hash);
			kmem_cache_free(replica_slot_cache, m);
		}
	}
}

/*
 * A new point in time (or the end of a restore, whose copies cleared
 * every bit): no region preserved, every store slot free.
 */
static void __reset_pit(struct replica *rep)
{
	replica_pit_free_store(rep);
	replica_md_clear_all(&rep->md);
	rep->marked_count = 0;
	rep->slots_used = 0;
	rep->overflow = false;
}

/* Rebuild the slot map from the slot table at load. */
int replica_pit_load_store(struct replica *rep)
{
	struct replica_metadata *md = &rep->md;
	struct slot_map *m;
	u64 slot, region;

	rep->store_slots = md->store_slots;
	for (slot = 0; slot < rep->store_slots; slot++) {
		region = replica_md_get_slot(md, slot);
		if (region == U64_MAX)
			continue;
		rep->slots_used = slot + 1;
		if (region >= rep->nr_regions || !replica_md_test(md, region))
			continue;
		/* Slots are taken in order: a later one is newer. */
		m = __find_slot(rep, region);
		if (!m) {
			m = kmem_cache_alloc(replica_slot_cache, GFP_KERNEL);
			if (!m)
				return -ENOMEM;
			__insert_slot(rep, m, region, slot);
		}
		m->slot = slot;
	}
	return 0;
}

/* ---- Decisions ---- */
static bool __held(struct region_entry *e)
{
	return e && (e->copying || e->overwrite ||
		     !bio_list_empty(&e->waiting));
}

/* Is the region's bit (set) not durable yet? */
static bool __mark_pending(struct replica *rep, struct region_entry *e,
			   u64 region)
{
	return __replica_mark_seq(rep, e, region);
}

/* Hold a bio on an existing entry (copy, overwrite or readers). */
static enum pit_decision __queue(struct replica *rep, struct region_entry *e,
				 struct bio *bio)
{
	bio_list_add(&e->waiting, bio);
	return PIT_QUEUED;
}

/* Hold a bio until the commit that makes its region's bit durable. */
static enum pit_decision __wait_for_commit(struct replica *rep, u64 region,
					   struct bio *bio,
					   struct region_entry **spare)
{
	struct region_entry *e = __replica_get_entry(rep, region, spare);
	u64 seq;

	if (!e)
		return PIT_DEFER;
	seq = __replica_mark_seq(rep, e, region);
	e->mark_seq = max(e->mark_seq, seq);
	bio_list_add(&e->waiting, bio);
	if (list_empty(&e->list) && !e->copying && !e->overwrite)
		list_add_tail(&e->list, &rep->commit_wait);
	return PIT_QUEUED;
}

/* Hold a bio until its region has been copied (and the bit committed). */
static enum pit_decision __wait_for_copy(struct replica *rep, u64 region,
					 struct bio *bio,
					 struct region_entry **spare)
{
	struct region_entry *e = __replica_get_entry(rep, region, spare);

	if (!e)
		return PIT_DEFER;
	bio_list_add(&e->waiting, bio);
	if (list_empty(&e->list) && !e->copying)
		list_add_tail(&e->list, &rep->priority_copies);
	return PIT_QUEUED;
}

static bool __pit_lost(struct replica *rep)
{
	/* A deactivated snapshot has no point in time any more. */
	if (rep->sync_type == REPLICA_SYNC_SNAPSHOT &&
	    rep->copy_state == REPLICA_CS_INACTIVE)
		return true;
	return rep->copy_state == REPLICA_CS_BROKEN ||
	       rep->target_health != HEALTH_ALIVE || rep->md_mode != MD_RW;
}

static enum pit_decision __origin_write(struct replica *rep, struct bio *bio,
					u64 region, struct region_entry **spare)
{
	struct region_entry *e = __replica_find_entry(rep, region);

	if (__held(e))
		return __queue(rep, e, bio);
	/* The source never waits for a broken relationship. */
	if (__pit_lost(rep))
		return PIT_SOURCE;
	if (rep->restoring) {
		if (test_bit(region, rep->nosync_map))
			return __wait_for_copy(rep, region, bio, spare);
		/* "Restored" must be durable before the source changes. */
		if (__mark_pending(rep, e, region))
			return __wait_for_commit(rep, region, bio, spare);
		return PIT_SOURCE;
	}
	if (replica_md_test(&rep->md, region)) {
		if (__mark_pending(rep, e, region))
			return __wait_for_commit(rep, region, bio, spare);
		/* View reads of the old data running. */
		if (e && e->pending)
			return __queue(rep, e, bio);
		return PIT_SOURCE;
	}
	return __wait_for_copy(rep, region, bio, spare);
}

static bool covers_region(struct replica *rep, struct bio *bio, u64 region)
{
	sector_t start = region_to_sector(rep, region);
	sector_t len = min_t(sector_t, rep->region_sectors, rep->len - start);

	return bio->bi_iter.bi_sector == start && bio_sectors(bio) == len;
}

static enum pit_decision __view_io(struct replica *rep, struct bio *bio,
				   struct replica_io *io,
				   struct region_entry **spare)
{
	u64 region = io->region;
	struct region_entry *e = __replica_find_entry(rep, region);
	bool write = op_is_write(bio_op(bio));

	if (__pit_lost(rep))
		return PIT_ERROR;
	if (__held(e))
		return __queue(rep, e, bio);

	if (!write) {
		if (replica_md_test(&rep->md, region)) {
			io->target_sector =
				__target_sector(rep, region, bio->bi_iter.bi_sector);
			return PIT_TARGET;
		}
		/* Source writes to this region wait for this read. */
		e = __replica_get_entry(rep, region, spare);
		if (!e)
			return PIT_DEFER;
		e->pending++;
		io->tracked = true;
		return PIT_SOURCE;
	}

	/* The restore reads the target: no view writes meanwhile. */
	if (rep->restoring)
		return PIT_ERROR;
	if (replica_md_test(&rep->md, region)) {
		if (__mark_pending(rep, e, region))
			return __wait_for_commit(rep, region, bio, spare);
		io->target_sector =
			__target_sector(rep, region, bio->bi_iter.bi_sector);
		return PIT_TARGET;
	}
	/* (A store slot is only taken by a copy, so stores always copy.) */
	if (!rep->store_slots && covers_region(rep, bio, region)) {
		io->target_sector = bio->bi_iter.bi_sector;
		e = __replica_get_entry(rep, region, spare);
		if (!e)
			return PIT_DEFER;
		e->rep = rep;
		e->overwrite = bio;
		e->copying = true;
		e->copy_to_source = false;
		rep->copies_in_flight++;
		return PIT_OVERWRITE;
	}
	return __wait_for_copy(rep, region, bio, spare);
}

/* The whole-region view write finished: account it like a copy. */
static void overwrite_endio(struct bio *bio)
{
	struct replica_io *io = dm_per_bio_data(bio, sizeof(*io));
	struct replica *rep = io->rep;
	struct region_entry *e;
	unsigned long flags;

	spin_lock_irqsave(&rep->lock, flags);
	e = __replica_find_entry(rep, io->region);
	e->copy_error = 0;
	e->copy_write_error = bio->bi_status ? -EIO : 0;
	WARN_ON_ONCE(!list_empty(&e->list));
	list_move_tail(&e->list, &rep->copy_done);
	spin_unlock_irqrestore(&rep->lock, flags);
	replica_wake_worker(rep);
}

/*
 * Act on a decision.  From map() returns DM_MAPIO_*; from the worker it
 * submits the bio itself and returns DM_MAPIO_SUBMITTED.
 */
static int pit_route(struct replica *rep, struct bio *bio,
		     enum pit_decision d, bool from_map)
{
	struct replica_io *io = dm_per_bio_data(bio, sizeof(*io));

	switch (d) {
	case PIT_DEFER:
		/* the worker deferred for want of an entry: a freed one wakes it */
		if (!from_map)
			return DM_MAPIO_SUBMITTED;
		fallthrough;
	case PIT_QUEUED:
		replica_wake_worker(rep);
		return DM_MAPIO_SUBMITTED;
	case PIT_ERROR:
		bio_io_error(bio);
		return DM_MAPIO_SUBMITTED;
	case PIT_OVERWRITE:
		io->saved_end_io = bio->bi_end_io;
		io->saved_private = bio->bi_private;
		bio->bi_end_io = overwrite_endio;
		bio->bi_private = NULL;
		fallthrough;
	case PIT_TARGET:
		bio_set_dev(bio, rep->target_bdev);
		bio->bi_iter.bi_sector = io->target_sector;
		break;
	case PIT_SOURCE:
		bio_set_dev(bio, rep->source_bdev);
		break;
	}
	if (from_map)
		return DM_MAPIO_REMAPPED;
	dm_submit_bio_remap(bio, NULL);
	return DM_MAPIO_SUBMITTED;
}

static enum pit_decision __decide(struct replica *rep, struct bio *bio,
				  struct replica_io *io,
				  struct region_entry **spare)
{
	lockdep_assert_held(&rep->lock);
	if (io->view)
		return __view_io(rep, bio, io, spare);
	return __origin_write(rep, bio, io->region, spare);
}

static int pit_map(struct replica *rep, struct bio *bio, bool view)
{
	struct replica_io *io = dm_per_bio_data(bio, sizeof(*io));
	enum pit_decision d;
	unsigned long flags;

	io->rep = rep;
	io->view = view;
	io->tracked = false;
	io->region = sector_to_region(rep, bio->bi_iter.bi_sector);

	spin_lock_irqsave(&rep->lock, flags);
	rep->last_user_io = jiffies;
	d = __decide(rep, bio, io, NULL);
	if (d == PIT_DEFER)
		bio_list_add(&rep->deferred, bio);
	spin_unlock_irqrestore(&rep->lock, flags);
	return pit_route(rep, bio, d, true);
}

/*
 * Origin I/O: flushes and reads go to the source, except reads of regions
 * a restore has not brought back yet (they come from the target); writes
 * wait for the copy-on-write.
 */
static int pit_map_origin(struct replica *rep, struct bio *bio)
{
	u64 region = sector_to_region(rep, bio->bi_iter.bi_sector);
	sector_t sector = bio->bi_iter.bi_sector;
	unsigned long flags;

	if (bio->bi_opf & REQ_PREFLUSH && !bio_sectors(bio)) {
		bio_set_dev(bio, rep->source_bdev);
		return DM_MAPIO_REMAPPED;
	}
	if (bio_op(bio) != REQ_OP_READ)
		return pit_map(rep, bio, false);

	WRITE_ONCE(rep->last_user_io, jiffies);
	bio_set_dev(bio, rep->source_bdev);
	if (!READ_ONCE(rep->restoring))
		return DM_MAPIO_REMAPPED;
	spin_lock_irqsave(&rep->lock, flags);
	if (rep->restoring && test_bit(region, rep->nosync_map)) {
		bio_set_dev(bio, rep->target_bdev);
		bio->bi_iter.bi_sector = __target_sector(rep, region, sector);
	}
	spin_unlock_irqrestore(&rep->lock, flags);
	return DM_MAPIO_REMAPPED;
}

/* Regions a view discard handles per lock hold. */
#define REPLICA_VIEW_DISCARD_CHUNK	4096u

/*
 * View discards, from the worker: whole regions need no copy any more.
 * Their bits carry no data, but view writes to those regions wait for
 * the commit that records them (a gated mark), so a flushed view write
 * is never hidden behind a bit a crash forgot.
 */
static void view_discard(struct replica *rep, struct bio *bio)
{
	sector_t start = bio->bi_iter.bi_sector;
	u64 first = DIV_ROUND_UP_ULL(start, rep->region_sectors);
	u64 end = (start + bio_sectors(bio)) >> rep->region_shift;
	u64 r, to;

	for (r = first; r < end; r = to) {
		to = min_t(u64, end, r + REPLICA_VIEW_DISCARD_CHUNK);
		spin_lock_irq(&rep->lock);
		if (rep->restoring || rep->md_mode != MD_RW || __pit_lost(rep)) {
			spin_unlock_irq(&rep->lock);
			break;
		}
		for (; r < to; r++) {
			if (replica_md_test(&rep->md, r) ||
			    __replica_find_entry(rep, r))
				continue;
			__replica_mark_gated(rep, r);
			__replica_clear_nosync(rep, r);
		}
		spin_unlock_irq(&rep->lock);
		cond_resched();
	}

	/* The target's contents of a discarded range are undefined. */
	if (!bdev_max_discard_sectors(rep->target_bdev)) {
		bio_endio(bio);
		return;
	}
	bio_set_dev(bio, rep->target_bdev);
	dm_submit_bio_remap(bio, NULL);
}

int replica_pit_map_view(struct replica_dev *dev, struct bio *bio)
{
	struct replica *rep = dev->rep;

	if (bio->bi_opf & REQ_PREFLUSH && !bio_sectors(bio)) {
		bio_set_dev(bio, rep->target_bdev);
		return DM_MAPIO_REMAPPED;
	}
	if (op_is_write(bio_op(bio)) && dev->read_only) {
		bio_io_error(bio);
		return DM_MAPIO_SUBMITTED;
	}
	if (bio_op(bio) == REQ_OP_DISCARD) {
		/* Store slots are not at the view's offsets: keep them. */
		if (READ_ONCE(rep->store_slots)) {
			bio_endio(bio);
			return DM_MAPIO_SUBMITTED;
		}
		replica_defer_bio(rep, bio);
		return DM_MAPIO_SUBMITTED;
	}
	return pit_map(rep, bio, true);
}

/* From the worker: bios deferred or held, decided again. */
static void pit_process(struct replica *rep, struct bio *bio)
{
	struct replica_io *io = dm_per_bio_data(bio, sizeof(*io));
	struct region_entry *spare;
	enum pit_decision d;

	if (io->view && bio_op(bio) == REQ_OP_DISCARD) {
		view_discard(rep, bio);
		return;
	}
	spare = replica_spare_entry(rep);
	spin_lock_irq(&rep->lock);
	d = __decide(rep, bio, io, &spare);
	if (d == PIT_DEFER)
		bio_list_add(&rep->deferred, bio);
	spin_unlock_irq(&rep->lock);
	replica_put_spare(rep, spare);
	pit_route(rep, bio, d, false);
}

/* View reads of the source are done: release source writes they held. */
static int pit_end_io(struct replica *rep, struct bio *bio,
		      blk_status_t *error)
{
	struct replica_io *io = dm_per_bio_data(bio, sizeof(*io));
	struct region_entry *e;
	unsigned long flags;
	bool wake = false;

	if (!io->view || !io->tracked)
		return DM_ENDIO_DONE;
	io->tracked = false;

	spin_lock_irqsave(&rep->lock, flags);
	e = __replica_find_entry(rep, io->region);
	if (!WARN_ON_ONCE(!e)) {
		e->pending--;
		if (!e->pending && !bio_list_empty(&e->waiting) &&
		    list_empty(&e->list) && !e->copying && !e->overwrite) {
			list_add_tail(&e->list, &rep->release_ready);
			wake = true;
		} else {
			__replica_put_entry(rep, e);
		}
	}
	spin_unlock_irqrestore(&rep->lock, flags);
	if (wake)
		replica_wake_worker(rep);
	return DM_ENDIO_DONE;
}

/*
 * A copy (or overwrite) finished, in the direction it started with:
 * record it in the bitmap; its held bios wait for the commit.  The data
 * it vouches for is flushed by that commit before the bit is written.
 */
static bool pit_copied(struct replica *rep, struct region_entry *e)
{
	u64 region = e->region;

	lockdep_assert_held(&rep->lock);
	if (e->copy_to_source) {
		/* The source holds the PIT data again. */
		if (replica_md_test(&rep->md, region)) {
			replica_md_clear(&rep->md, region);
			rep->marked_count--;
		}
		rep->vouch_source = true;
		__replica_clear_nosync(rep, region);
	} else {
		if (__replica_mark(rep, region))
			__record_slot(rep, region);
		rep->vouch_target = true;
		/* A restore began meanwhile: it must bring this one back too. */
		if (rep->restoring)
			__replica_set_nosync(rep, region);
		else
			__replica_clear_nosync(rep, region);
	}
	e->mark_seq = replica_md_open_seq(&rep->md);
	rep->commit_requested = true;
	WARN_ON_ONCE(!list_empty(&e->list));
	list_move_tail(&e->list, &rep->commit_wait);
	return true;
}

/*
 * nosync_map lists the regions still to copy: those without their bit
 * (preserve/hydrate), or while restoring those with it (copy back).
 * Word by word, so the lock is held for O(regions / 64).
 */
void __replica_pit_rebuild_nosync(struct replica *rep)
{
	u64 marked = replica_md_weight(&rep->md);

	lockdep_assert_held(&rep->lock);
	replica_md_to_map(&rep->md, rep->nosync_map, !rep->restoring);
	rep->nosync_count = rep->restoring ? marked : rep->nr_regions - marked;
	__replica_lag_reset(rep);
}

/* Nothing left to copy: a restore is done, or a clone hydrated. */
static void pit_all_copied(struct replica *rep)
{
	lockdep_assert_held(&rep->lock);
	if (!rep->restoring) {
		rep->initial_sync = false;
		__replica_set_state(rep, REPLICA_CS_SYNCHRONIZED);
		return;
	}
	rep->restoring = false;
	__reset_pit(rep);
	__replica_pit_rebuild_nosync(rep);
	rep->pit_ns = ktime_get_real_ns();
	__replica_set_state(rep, rep->nosync_count &&
			    rep->sync_type == REPLICA_SYNC_CLONE ?
			    REPLICA_CS_UNSYNCHRONIZED : REPLICA_CS_SYNCHRONIZED);
	rep->commit_requested = true;
}

/* Snapshot "resync": drop every preserved region, the PIT is now. */
void __replica_pit_new_pit(struct replica *rep)
{
	lockdep_assert_held(&rep->lock);
	rep->restoring = false;
	__reset_pit(rep);
	__replica_pit_rebuild_nosync(rep);
	rep->pit_ns = ktime_get_real_ns();
	rep->commit_requested = true;
	__replica_set_state(rep, REPLICA_CS_SYNCHRONIZED);
}

/* A snapshot copies only for a write (or a restore); a clone hydrates. */
static bool pit_background_copies(struct replica *rep)
{
	return rep->sync_type == REPLICA_SYNC_CLONE || rep->restoring;
}

const struct replica_type_ops replica_pit_ops = {
	.map = pit_map_origin,
	.process = pit_process,
	.end_io = pit_end_io,
	.background_copies = pit_background_copies,
	.copies_wait_for_io = false,
	.copy_place = pit_copy_place,
	.target_sector = __target_sector,
	.copied = pit_copied,
	.all_copied = pit_all_copied,
};
