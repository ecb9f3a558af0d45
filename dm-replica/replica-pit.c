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
#include <linux/ktime.h>

#include "replica.h"
#include "replica-io.h"

enum pit_decision {
	PIT_SOURCE,		/* remap to the source */
	PIT_TARGET,		/* remap to the target */
	PIT_OVERWRITE,		/* whole-region view write replacing a copy */
	PIT_QUEUED,		/* held on an entry */
	PIT_DEFER,		/* no memory in map(): retry from the worker */
	PIT_ERROR,
};

static bool __held(struct region_entry *e)
{
	return e && (e->copying || e->overwrite ||
		     !bio_list_empty(&e->waiting));
}

static bool __mark_pending(struct replica *rep, struct region_entry *e)
{
	return e && e->mark_seq > rep->committed_seq;
}

static enum pit_decision __queue(struct replica *rep, struct region_entry *e,
				 struct bio *bio)
{
	bio_list_add(&e->waiting, bio);
	if (__mark_pending(rep, e) && list_empty(&e->list))
		list_add_tail(&e->list, &rep->commit_wait);
	return PIT_QUEUED;
}

/* Hold a bio until its region has been copied (and the bit committed). */
static enum pit_decision __wait_for_copy(struct replica *rep, u64 region,
					 struct bio *bio, gfp_t gfp)
{
	struct region_entry *e = __replica_get_entry(rep, region, gfp);

	if (!e)
		return PIT_DEFER;
	bio_list_add(&e->waiting, bio);
	if (list_empty(&e->list) && !e->copying)
		list_add_tail(&e->list, &rep->priority_copies);
	return PIT_QUEUED;
}

static bool __pit_lost(struct replica *rep)
{
	return rep->copy_state == REPLICA_CS_BROKEN ||
	       rep->target_health != HEALTH_ALIVE || rep->md_mode != MD_RW;
}

static enum pit_decision __origin_write(struct replica *rep, struct bio *bio,
					u64 region, gfp_t gfp)
{
	struct region_entry *e = __replica_find_entry(rep, region);

	if (__held(e))
		return __queue(rep, e, bio);
	/* The source never waits for a broken relationship. */
	if (__pit_lost(rep))
		return PIT_SOURCE;
	if (rep->restoring) {
		if (test_bit(region, rep->nosync_map))
			return __wait_for_copy(rep, region, bio, gfp);
		if (__mark_pending(rep, e))
			return __queue(rep, e, bio);
		return PIT_SOURCE;
	}
	if (replica_md_test(&rep->md, region)) {
		/* Bit not durable yet, or view reads of the old data running. */
		if (__mark_pending(rep, e) || (e && e->pending))
			return __queue(rep, e, bio);
		return PIT_SOURCE;
	}
	return __wait_for_copy(rep, region, bio, gfp);
}

static bool covers_region(struct replica *rep, struct bio *bio, u64 region)
{
	sector_t start = region_to_sector(rep, region);
	sector_t len = min_t(sector_t, rep->region_sectors, rep->len - start);

	return bio->bi_iter.bi_sector == start && bio_sectors(bio) == len;
}

static enum pit_decision __view_io(struct replica *rep, struct bio *bio,
				   struct replica_io *io, gfp_t gfp)
{
	u64 region = io->region;
	struct region_entry *e = __replica_find_entry(rep, region);
	bool write = op_is_write(bio_op(bio));

	if (__pit_lost(rep) || rep->md_mode == MD_FAIL)
		return PIT_ERROR;
	if (__held(e))
		return __queue(rep, e, bio);

	if (!write) {
		if (replica_md_test(&rep->md, region))
			return PIT_TARGET;
		/* Source writes to this region wait for this read. */
		e = __replica_get_entry(rep, region, gfp);
		if (!e)
			return PIT_DEFER;
		e->pending++;
		io->tracked = true;
		return PIT_SOURCE;
	}

	/* The restore reads the target: no view writes meanwhile. */
	if (rep->restoring || rep->md_mode != MD_RW)
		return PIT_ERROR;
	if (replica_md_test(&rep->md, region)) {
		if (__mark_pending(rep, e))
			return __queue(rep, e, bio);
		return PIT_TARGET;
	}
	if (covers_region(rep, bio, region)) {
		e = __replica_get_entry(rep, region, gfp);
		if (!e)
			return PIT_DEFER;
		e->rep = rep;
		e->overwrite = bio;
		e->copying = true;
		rep->copies_in_flight++;
		return PIT_OVERWRITE;
	}
	return __wait_for_copy(rep, region, bio, gfp);
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
	list_add_tail(&e->list, &rep->copy_done);
	spin_unlock_irqrestore(&rep->lock, flags);
	replica_wake_worker(rep);
}

void replica_pit_end_overwrite(struct bio *bio, blk_status_t status)
{
	struct replica_io *io = dm_per_bio_data(bio, sizeof(*io));

	bio->bi_end_io = io->saved_end_io;
	bio->bi_private = io->saved_private;
	bio->bi_status = status;
	bio_endio(bio);
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
	case PIT_QUEUED:
	case PIT_DEFER:
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
				  struct replica_io *io, gfp_t gfp)
{
	if (io->view)
		return __view_io(rep, bio, io, gfp);
	return __origin_write(rep, bio, io->region, gfp);
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
	if (!view)
		rep->last_user_io = jiffies;
	d = __decide(rep, bio, io, GFP_NOWAIT);
	if (d == PIT_DEFER)
		bio_list_add(&rep->deferred, bio);
	spin_unlock_irqrestore(&rep->lock, flags);
	return pit_route(rep, bio, d, true);
}

int replica_pit_map_origin(struct replica *rep, struct bio *bio)
{
	return pit_map(rep, bio, false);
}

/* View discards: whole regions need no copy any more. */
static void view_discard(struct replica *rep, struct bio *bio)
{
	sector_t start = bio->bi_iter.bi_sector;
	u64 first = DIV_ROUND_UP_ULL(start, rep->region_sectors);
	u64 end = (start + bio_sectors(bio)) >> rep->region_shift;
	unsigned long flags;
	u64 r;

	spin_lock_irqsave(&rep->lock, flags);
	if (rep->restoring || rep->md_mode != MD_RW || __pit_lost(rep)) {
		spin_unlock_irqrestore(&rep->lock, flags);
		return;
	}
	for (r = first; r < end; r++) {
		if (replica_md_test(&rep->md, r) ||
		    __replica_find_entry(rep, r))
			continue;
		replica_md_set(&rep->md, r);
		rep->marked_count++;
		__replica_clear_nosync(rep, r);
		rep->commit_requested = true;
	}
	spin_unlock_irqrestore(&rep->lock, flags);
	replica_wake_worker(rep);
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
		view_discard(rep, bio);
		bio_set_dev(bio, rep->target_bdev);
		return DM_MAPIO_REMAPPED;
	}
	return pit_map(rep, bio, true);
}

/* From the worker: bios deferred or held, decided again. */
void replica_pit_process(struct replica *rep, struct bio *bio)
{
	struct replica_io *io = dm_per_bio_data(bio, sizeof(*io));
	enum pit_decision d;

	spin_lock_irq(&rep->lock);
	d = __decide(rep, bio, io, GFP_NOIO);
	spin_unlock_irq(&rep->lock);
	pit_route(rep, bio, d, false);
}

/* View reads of the source are done: release source writes they held. */
int replica_pit_end_io(struct dm_target *ti, struct bio *bio,
		       blk_status_t *error)
{
	struct replica_io *io = dm_per_bio_data(bio, sizeof(*io));
	struct replica *rep = io->rep;
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

/* A copy (or overwrite) finished: record it in the bitmap. */
void __replica_pit_copied(struct replica *rep, struct region_entry *e)
{
	if (rep->restoring) {
		/* The source holds the PIT data again. */
		if (replica_md_test(&rep->md, e->region)) {
			replica_md_clear(&rep->md, e->region);
			rep->marked_count--;
		}
	} else if (!replica_md_test(&rep->md, e->region)) {
		replica_md_set(&rep->md, e->region);
		rep->marked_count++;
	}
	__replica_clear_nosync(rep, e->region);
	e->mark_seq = rep->open_seq;
	rep->commit_requested = true;
	list_add_tail(&e->list, &rep->commit_wait);
}

/*
 * nosync_map lists the regions still to copy: those without their bit
 * (preserve/hydrate), or while restoring those with it (copy back).
 */
void __replica_pit_rebuild_nosync(struct replica *rep)
{
	u64 region;

	rep->nosync_count = 0;
	for (region = 0; region < rep->nr_regions; region++) {
		if (replica_md_test(&rep->md, region) == rep->restoring) {
			__set_bit(region, rep->nosync_map);
			rep->nosync_count++;
		} else {
			__clear_bit(region, rep->nosync_map);
		}
	}
	rep->lag_since_ns = 0;
}

void __replica_pit_restore_done(struct replica *rep)
{
	rep->restoring = false;
	__replica_pit_rebuild_nosync(rep);
	rep->pit_ns = ktime_get_real_ns();
	__replica_set_state(rep, rep->nosync_count &&
			    rep->sync_type == REPLICA_SYNC_CLONE ?
			    REPLICA_CS_UNSYNCHRONIZED : REPLICA_CS_SYNCHRONIZED);
	rep->commit_requested = true;
}
