// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-replica mirror policy: write intent, leg writes, async write-behind,
 * the lag bound, discards, host flushes, and clearing idle marks.
 *
 * Ordering rules this file keeps:
 *  - a write never reaches a leg before the commit that marks its region
 *    in the bitmap is durable (write intent);
 *  - a mark is cleared only after a flush of both legs that follows the
 *    last write or copy into the region (never "in sync" before durable),
 *    and never while a leg or the metadata has failed;
 *  - a region is never written by the host while it is being copied.
 */
#include <linux/blkdev.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "replica.h"
#include "replica-core.h"

/* Does the target leg receive host writes right now (sync mirror)? */
static bool __target_receives_writes(struct replica *rep)
{
	if (rep->target_health != HEALTH_ALIVE)
		return false;
	/* While restoring, both legs get every write, whatever the mode. */
	if (rep->restoring)
		return true;
	if (rep->mode != REPLICA_MODE_SYNC)
		return false;
	return rep->copy_state == REPLICA_CS_SYNCHRONIZED ||
	       rep->copy_state == REPLICA_CS_UNSYNCHRONIZED;
}

static bool lag_bound_reached(struct replica *rep)
{
	if (rep->mode != REPLICA_MODE_ASYNC ||
	    rep->tun.lag_policy != LAG_THROTTLE || rep->suspended ||
	    !__replica_copy_allowed(rep))
		return false;
	if (rep->tun.max_lag_regions &&
	    __replica_lag_regions(rep) >= rep->tun.max_lag_regions)
		return true;
	return rep->tun.max_lag_ms && replica_lag_ms(rep) >= rep->tun.max_lag_ms;
}

static bool __target_write_failed(struct replica *rep, blk_status_t status)
{
	if (rep->target_health == HEALTH_ALIVE)
		DMERR_LIMIT("target write error %d: relationship broken",
			    blk_status_to_errno(status));
	return __replica_target_failed(rep, HEALTH_WRITE_ERROR);
}

/* ---- Async write-behind ---- */

/*
 * An async mirror copies the host data of a write to a region that is in
 * sync and sends it to the target while the source write runs; the host
 * write completes with the source.  The region's entry stays (pending)
 * until the target has the data, so its mark cannot be cleared and no
 * background copy can race it; a second write to the region meanwhile is
 * not written behind (the two could land out of order) but marks the
 * region for a background copy, as does any write beyond the memory cap.
 */
struct behind_io {
	struct replica *rep;
	struct list_head list;		/* rep->behind_list */
	u64 start_ns;
	u64 region;
	unsigned int bytes;
	struct bio bio;
};

unsigned int replica_behind_front_pad(void)
{
	return offsetof(struct behind_io, bio);
}

/* Checked under the lock: the last write-behind's endio has let go. */
bool replica_behind_drained(struct replica *rep)
{
	bool drained;

	spin_lock_irq(&rep->lock);
	drained = !rep->behind_inflight;
	spin_unlock_irq(&rep->lock);
	return drained;
}

static bool __may_write_behind(struct replica *rep, struct region_entry *e,
			       struct bio *bio)
{
	unsigned int size = bio->bi_iter.bi_size;

	return rep->mode == REPLICA_MODE_ASYNC && !rep->restoring &&
	       bio_op(bio) == REQ_OP_WRITE && size &&
	       size <= BIO_MAX_VECS * PAGE_SIZE && !e->behind &&
	       !test_bit(e->region, rep->nosync_map) &&
	       rep->behind_bytes + size <= REPLICA_BEHIND_MAX_BYTES &&
	       __replica_copy_allowed(rep);
}

/* The oldest write-behind in flight sets the lag's age. */
static void __behind_started(struct replica *rep, struct behind_io *b)
{
	b->start_ns = ktime_get_coarse_ns();
	if (list_empty(&rep->behind_list))
		WRITE_ONCE(rep->behind_oldest_ns, b->start_ns);
	list_add_tail(&b->list, &rep->behind_list);
}

static void __behind_ended(struct replica *rep, struct behind_io *b)
{
	bool oldest = rep->behind_list.next == &b->list;

	list_del(&b->list);
	if (!oldest)
		return;
	WRITE_ONCE(rep->behind_oldest_ns, list_empty(&rep->behind_list) ? 0 :
		   list_first_entry(&rep->behind_list, struct behind_io,
				    list)->start_ns);
}

static void __account_behind(struct replica *rep, struct region_entry *e,
			     unsigned int bytes, bool start)
{
	if (start) {
		e->pending++;
		if (!e->behind++)
			rep->behind_regions++;
		rep->behind_inflight++;
		rep->behind_bytes += bytes;
		return;
	}
	e->pending--;
	if (!--e->behind)
		rep->behind_regions--;
	rep->behind_inflight--;
	rep->behind_bytes -= bytes;
	__replica_put_entry(rep, e);
	if (!rep->behind_inflight)
		wake_up_all(&rep->copy_wait);
}

/* Keep a landed write-behind's page for the next one, or free it. */
static void __behind_page_put(struct replica *rep, struct page *page)
{
	if (rep->behind_pool_pages >= REPLICA_BEHIND_POOL_PAGES) {
		__free_page(page);
		return;
	}
	list_add(&page->lru, &rep->behind_pool);
	rep->behind_pool_pages++;
}

static void __behind_bio_free(struct replica *rep, struct bio *bio)
{
	struct bvec_iter_all iter;
	struct bio_vec *bv;

	bio_for_each_segment_all(bv, bio, iter)
		__behind_page_put(rep, bv->bv_page);
	bio_put(bio);
}

/* Called with nothing in flight (suspended) or at teardown. */
void replica_behind_pool_drain(struct replica *rep)
{
	struct page *page, *tmp;
	LIST_HEAD(pages);

	spin_lock_irq(&rep->lock);
	list_splice_init(&rep->behind_pool, &pages);
	rep->behind_pool_pages = 0;
	spin_unlock_irq(&rep->lock);
	list_for_each_entry_safe(page, tmp, &pages, lru)
		__free_page(page);
}

static void behind_endio(struct bio *bio)
{
	struct behind_io *b = container_of(bio, struct behind_io, bio);
	struct replica *rep = b->rep;
	blk_status_t status = bio->bi_status;
	u64 region = b->region;
	unsigned int bytes = b->bytes;
	struct region_entry *e;
	unsigned long flags;

	spin_lock_irqsave(&rep->lock, flags);
	__behind_ended(rep, b);
	/* Before the accounting below: a suspend may free rep right after. */
	__behind_bio_free(rep, bio);
	if (status) {
		__replica_set_nosync(rep, region);
		if (__target_write_failed(rep, status))
			replica_wake_worker(rep);
	}
	e = __replica_find_entry(rep, region);
	if (!WARN_ON_ONCE(!e))
		__account_behind(rep, e, bytes, false);
	spin_unlock_irqrestore(&rep->lock, flags);
}

/*
 * A target bio carrying a copy of the host bio's data, already counted
 * in flight, or NULL.  Pages come from the relationship's pool first.
 */
static struct bio *alloc_behind(struct replica *rep, struct bio *bio,
				u64 region, gfp_t gfp)
{
	unsigned int size = bio->bi_iter.bi_size;
	unsigned int nr = DIV_ROUND_UP(size, PAGE_SIZE), i;
	struct behind_io *b;
	struct bio *clone;
	unsigned long flags;
	LIST_HEAD(pages);

	clone = bio_alloc_bioset(rep->target_bdev, nr, REQ_OP_WRITE, gfp,
				 &rep->behind_bs);
	if (!clone)
		return NULL;
	b = container_of(clone, struct behind_io, bio);
	b->rep = rep;
	b->region = region;
	b->bytes = size;

	spin_lock_irqsave(&rep->lock, flags);
	for (i = 0; i < nr && !list_empty(&rep->behind_pool); i++) {
		list_move(rep->behind_pool.next, &pages);
		rep->behind_pool_pages--;
	}
	__behind_started(rep, b);
	spin_unlock_irqrestore(&rep->lock, flags);

	for (i = 0; i < nr; i++) {
		unsigned int len = min_t(unsigned int, size - i * PAGE_SIZE,
					 PAGE_SIZE);
		struct page *page;

		page = list_first_entry_or_null(&pages, struct page, lru);
		if (page)
			list_del(&page->lru);
		else
			page = alloc_page(gfp | __GFP_NOWARN);
		if (!page)
			break;
		/* nr pages always fit: the bio was sized for them. */
		__bio_add_page(clone, page, len, 0);
	}
	if (i < nr) {
		struct page *page, *tmp;

		spin_lock_irqsave(&rep->lock, flags);
		__behind_ended(rep, b);
		list_for_each_entry_safe(page, tmp, &pages, lru)
			__behind_page_put(rep, page);
		__behind_bio_free(rep, clone);
		spin_unlock_irqrestore(&rep->lock, flags);
		return NULL;
	}
	clone->bi_iter.bi_sector = bio->bi_iter.bi_sector;
	bio_copy_data(clone, bio);
	clone->bi_end_io = behind_endio;
	return clone;
}

/* ---- Write path ---- */
static void complete_write(struct replica_io *io, struct bio *bio)
{
	struct replica *rep = io->rep;
	blk_status_t status = io->source_status;
	struct region_entry *e;
	unsigned long flags;
	bool wake = false;

	spin_lock_irqsave(&rep->lock, flags);
	if (io->target_status) {
		wake = __target_write_failed(rep, io->target_status);
		if (rep->fail_host_on_target_error && !status)
			status = io->target_status;
	}
	if (io->tracked) {
		/* The legs may now differ in this region. */
		if (io->target_status ||
		    (io->source_status && (io->to_target || io->behind)))
			__replica_set_nosync(rep, io->region);
		e = __replica_find_entry(rep, io->region);
		if (!WARN_ON_ONCE(!e)) {
			e->pending--;
			__replica_put_entry(rep, e);
		}
	}
	if (io->source_status && rep->source_health == HEALTH_ALIVE) {
		rep->source_health = HEALTH_WRITE_ERROR;
		rep->state_changed = true;
		wake = true;
	}
	if (io->async_discard) {
		/* Copies waited for this discard to reach both legs. */
		rep->async_discards--;
		wake = true;
	}
	spin_unlock_irqrestore(&rep->lock, flags);

	if (wake)
		replica_wake_worker(rep);
	replica_complete_bio(bio, status);
}

static void dec_pending(struct replica_io *io, struct bio *bio)
{
	if (atomic_dec_and_test(&io->pending))
		complete_write(io, bio);
}

static void source_endio(struct bio *bio)
{
	struct replica_io *io = dm_per_bio_data(bio, sizeof(struct replica_io));

	io->source_status = bio->bi_status;
	dec_pending(io, bio);
}

static void target_endio(struct bio *clone)
{
	struct bio *bio = clone->bi_private;
	struct replica_io *io = dm_per_bio_data(bio, sizeof(struct replica_io));

	io->target_status = clone->bi_status;
	bio_put(clone);
	dec_pending(io, bio);
}

/*
 * Send a write (or discard) to the source, and to the target when
 * io->to_target.  The target clone was allocated by the caller.
 */
static void issue_to_legs(struct replica *rep, struct bio *bio,
			  struct bio *clone, bool from_map)
{
	struct replica_io *io = dm_per_bio_data(bio, sizeof(*io));

	atomic_set(&io->pending, 1 + (clone ? 1 : 0));
	io->source_status = BLK_STS_OK;
	io->target_status = BLK_STS_OK;
	io->saved_end_io = bio->bi_end_io;
	io->saved_private = bio->bi_private;
	bio->bi_end_io = source_endio;
	bio->bi_private = NULL;

	if (clone) {
		clone->bi_end_io = target_endio;
		clone->bi_private = bio;
		clone->bi_iter.bi_sector = bio->bi_iter.bi_sector;
		submit_bio_noacct(clone);
	}
	bio_set_dev(bio, rep->source_bdev);
	if (!from_map)
		dm_submit_bio_remap(bio, NULL);
}

enum write_decision {
	WRITE_ISSUE,		/* go to the legs now */
	WRITE_QUEUED,		/* held on an entry or list */
	WRITE_DEFER,		/* no entry: retry from the worker (a freed one wakes it) */
	WRITE_ERROR,		/* cannot record intent */
};

/* Hold a bio on its region's entry until the commit of its mark. */
static void __wait_for_commit(struct replica *rep, struct region_entry *e,
			      u64 seq, struct bio *bio)
{
	e->mark_seq = max(e->mark_seq, seq);
	bio_list_add(&e->waiting, bio);
	if (list_empty(&e->list))
		list_add_tail(&e->list, &rep->commit_wait);
}

/*
 * A write goes to the legs only once its region's mark is durable.  With
 * the metadata read-only, only regions whose mark is durable take writes:
 * a mark that never reached the disk (its commit failed) or a region
 * without one fails the write.
 */
static enum write_decision __decide_write(struct replica *rep, struct bio *bio,
					  struct replica_io *io,
					  struct region_entry **spare)
{
	u64 region = io->region, seq;
	struct region_entry *e = __replica_find_entry(rep, region);
	bool marked = replica_md_test(&rep->md, region);

	lockdep_assert_held(&rep->lock);
	if (e && (e->copying || !bio_list_empty(&e->waiting))) {
		bio_list_add(&e->waiting, bio);
		return WRITE_QUEUED;
	}
	if (rep->md_mode != MD_RW &&
	    (!marked || __replica_mark_seq(rep, e, region)))
		return WRITE_ERROR;
	if (rep->restoring && test_bit(region, rep->nosync_map)) {
		/* The region cannot be brought back: its source data is stale. */
		if (!__replica_copies_possible(rep))
			return WRITE_ERROR;
		/* Bring the source region back before writing into it. */
		e = __replica_get_entry(rep, region, spare);
		if (!e)
			return WRITE_DEFER;
		bio_list_add(&e->waiting, bio);
		if (list_empty(&e->list))
			list_add_tail(&e->list, &rep->priority_copies);
		return WRITE_QUEUED;
	}
	if (!test_bit(region, rep->nosync_map) &&
	    lag_bound_reached(rep) &&
	    !__target_receives_writes(rep)) {
		bio_list_add(&rep->throttled, bio);
		return WRITE_QUEUED;
	}
	e = __replica_get_entry(rep, region, spare);
	if (!e)
		return WRITE_DEFER;
	if (!marked) {
		__replica_mark(rep, region);
		e->mark_seq = replica_md_open_seq(&rep->md);
	}
	seq = __replica_mark_seq(rep, e, region);
	if (seq) {
		__wait_for_commit(rep, e, seq, bio);
		return WRITE_QUEUED;
	}

	/*
	 * A write-behind still in flight to this region could land after
	 * this write on the target (after a switch to sync): copy instead.
	 */
	io->to_target = __target_receives_writes(rep) &&
			!test_bit(region, rep->nosync_map) && !e->behind;
	io->behind = !io->to_target && __may_write_behind(rep, e, bio);
	if (!io->to_target && !io->behind)
		__replica_set_nosync(rep, region);
	io->tracked = true;
	e->pending++;
	if (io->behind)
		__account_behind(rep, e, bio->bi_iter.bi_size, true);
	return WRITE_ISSUE;
}

/*
 * Route one write.  Returns DM_MAPIO_* when called from map(); from the
 * worker (can_sleep) it always submits or queues the bio itself.
 */
static int process_write(struct replica *rep, struct bio *bio, bool can_sleep)
{
	struct replica_io *io = dm_per_bio_data(bio, sizeof(*io));
	gfp_t gfp = can_sleep ? GFP_NOIO : GFP_NOWAIT;
	struct region_entry *spare = can_sleep ? replica_spare_entry(rep) : NULL;
	struct bio *clone = NULL;
	enum write_decision d;
	unsigned long flags;

	io->rep = rep;
	io->region = sector_to_region(rep, bio->bi_iter.bi_sector);
	io->tracked = false;
	io->to_target = false;
	io->behind = false;
	io->async_discard = false;

	spin_lock_irqsave(&rep->lock, flags);
	rep->last_user_io = jiffies;
	d = __decide_write(rep, bio, io, &spare);
	if (d == WRITE_DEFER)
		bio_list_add(&rep->deferred, bio);
	spin_unlock_irqrestore(&rep->lock, flags);
	replica_put_spare(rep, spare);

	switch (d) {
	case WRITE_DEFER:
		/* the worker deferred for want of an entry: a freed one wakes it */
		if (can_sleep)
			return DM_MAPIO_SUBMITTED;
		fallthrough;
	case WRITE_QUEUED:
		replica_wake_worker(rep);
		return DM_MAPIO_SUBMITTED;
	case WRITE_ERROR:
		DMERR_LIMIT("metadata is not writable: failing write");
		bio_io_error(bio);
		return DM_MAPIO_SUBMITTED;
	case WRITE_ISSUE:
		break;
	}

	if (io->to_target) {
		clone = bio_alloc_clone(rep->target_bdev, bio, gfp, &rep->bs);
		if (!clone) {
			/* Undo the accounting and let the worker retry. */
			spin_lock_irqsave(&rep->lock, flags);
			__replica_find_entry(rep, io->region)->pending--;
			bio_list_add(&rep->deferred, bio);
			spin_unlock_irqrestore(&rep->lock, flags);
			replica_wake_worker(rep);
			return DM_MAPIO_SUBMITTED;
		}
	}
	if (io->behind) {
		clone = alloc_behind(rep, bio, io->region, gfp);
		if (!clone) {
			/* No memory: the background copy brings it over. */
			spin_lock_irqsave(&rep->lock, flags);
			__replica_set_nosync(rep, io->region);
			__account_behind(rep, __replica_find_entry(rep, io->region),
					 bio->bi_iter.bi_size, false);
			spin_unlock_irqrestore(&rep->lock, flags);
		} else {
			submit_bio_noacct(clone);
			clone = NULL;
		}
	}
	issue_to_legs(rep, bio, clone, !can_sleep);
	return can_sleep ? DM_MAPIO_SUBMITTED : DM_MAPIO_REMAPPED;
}

/* Any region of [first, last] with I/O, a copy or a write-behind? */
static bool __range_busy(struct replica *rep, u64 first, u64 last)
{
	struct region_entry *e;
	unsigned int i;
	u64 r;

	lockdep_assert_held(&rep->lock);
	/* Bounded by the entries, not by the range. */
	if (last - first >= rep->entries) {
		for (i = 0; i < ARRAY_SIZE(rep->hash); i++)
			hlist_for_each_entry(e, &rep->hash[i], hash)
				if (e->region >= first && e->region <= last)
					return true;
		return false;
	}
	for (r = first; r <= last; r++)
		if (__replica_find_entry(rep, r))
			return true;
	return false;
}

/* Regions a discard handles per lock hold. */
#define REPLICA_DISCARD_CHUNK	4096u

/*
 * One chunk [from, to) of a discard's regions, under the lock.  Returns
 * false when the discard must fail (read-only metadata and a region
 * whose change could not be recorded).
 */
static bool __discard_chunk(struct replica *rep, struct replica_io *io,
			    u64 from, u64 to, u64 first, u64 end, bool to_target)
{
	u64 r;

	lockdep_assert_held(&rep->lock);
	for (r = from; r < to; r++) {
		bool whole = r >= first && r < end;

		if (to_target || rep->no_discard_passdown) {
			/*
			 * A write in flight could land on either side of the
			 * discard on each leg: copy the region afterwards.
			 */
			if (__replica_find_entry(rep, r)) {
				__replica_set_nosync(rep, r);
				continue;
			}
			/* Whole regions: their contents are now undefined. */
			if (!whole)
				continue;
			__replica_clear_nosync(rep, r);
			if (replica_md_test(&rep->md, r))
				__replica_flag_clear_candidate(rep, r);
			continue;
		}
		/* The target keeps the old contents: copy these regions. */
		if (rep->md_mode != MD_RW) {
			if (!replica_md_test(&rep->md, r) ||
			    __replica_mark_seq(rep, __replica_find_entry(rep, r), r))
				return false;
		} else {
			struct region_entry *e;

			__replica_mark_gated(rep, r);
			e = __replica_find_entry(rep, r);
			io->commit_seq = max(io->commit_seq,
					     __replica_mark_seq(rep, e, r));
		}
		__replica_set_nosync(rep, r);
	}
	return true;
}

/*
 * Discards carry no data.  They reach both legs when the target gets the
 * host's writes; then the regions they cover entirely need no copy, and
 * partly covered ones keep their state.  An async mirror sends them to
 * both legs too, once nothing else is in flight in their range (a
 * write-behind there must not land after the discard) and with background
 * copies held until they are done.  A discard that only reaches the
 * source (fractured, inactive, broken, or an async range busy for a
 * second) marks every region it touches for the next copy, and waits for
 * the commit of those marks like a write.  Runs in the worker, a bounded
 * number of regions per lock hold.
 */
static void process_discard(struct replica *rep, struct bio *bio)
{
	struct replica_io *io = dm_per_bio_data(bio, sizeof(*io));
	sector_t start = bio->bi_iter.bi_sector;
	sector_t len = bio_sectors(bio);
	u64 first = DIV_ROUND_UP_ULL(start, rep->region_sectors);
	u64 end = (start + len) >> rep->region_shift;
	u64 touched_first = start >> rep->region_shift;
	u64 touched_last = (start + len - 1) >> rep->region_shift;
	bool to_target, async, ok = true;
	struct bio *clone = NULL;
	u64 r, to;

	spin_lock_irq(&rep->lock);
	to_target = !rep->no_discard_passdown && __target_receives_writes(rep);
	async = !rep->no_discard_passdown && !to_target &&
		rep->mode == REPLICA_MODE_ASYNC && !rep->restoring &&
		__replica_copy_allowed(rep);
	if (async && __range_busy(rep, touched_first, touched_last)) {
		if (!io->held_since)
			io->held_since = jiffies | 1;
		if (time_before(jiffies, io->held_since + HZ)) {
			bio_list_add(&rep->held_discards, bio);
			spin_unlock_irq(&rep->lock);
			return;
		}
		async = false;	/* busy too long: source only */
	}
	if (async) {
		to_target = true;
		io->async_discard = true;
		rep->async_discards++;
	}
	io->commit_seq = 0;
	for (r = touched_first; ok && r <= touched_last; r = to) {
		to = min_t(u64, touched_last + 1, r + REPLICA_DISCARD_CHUNK);
		ok = __discard_chunk(rep, io, r, to, first, end, to_target);
		if (to <= touched_last) {
			spin_unlock_irq(&rep->lock);
			cond_resched();
			spin_lock_irq(&rep->lock);
		}
	}
	/* (Only a source-only discard marks regions or fails.) */
	if (ok && io->commit_seq) {
		/* Decided again once the marks are durable. */
		bio_list_add(&rep->gated, bio);
		spin_unlock_irq(&rep->lock);
		return;
	}
	spin_unlock_irq(&rep->lock);

	if (!ok) {
		DMERR_LIMIT("metadata is not writable: failing discard");
		bio_io_error(bio);
		return;
	}
	if (rep->no_discard_passdown) {
		bio_endio(bio);
		return;
	}
	io->rep = rep;
	io->tracked = false;
	io->to_target = to_target;
	if (to_target)
		clone = bio_alloc_clone(rep->target_bdev, bio, GFP_NOIO,
					&rep->bs);
	issue_to_legs(rep, bio, clone, false);
}

/* ---- map ---- */

/*
 * A host flush reaches the target only where the target takes host
 * writes synchronously (a sync mirror): an async mirror's target data and
 * a snapshot's or clone's copies are made durable by the worker (before
 * marks are cleared, before bits are committed), not by the host's flush.
 */
static bool flush_reaches_target(struct replica *rep)
{
	unsigned long flags;
	bool r;

	spin_lock_irqsave(&rep->lock, flags);
	r = __target_receives_writes(rep);
	spin_unlock_irqrestore(&rep->lock, flags);
	return r;
}

static int mirror_map(struct replica *rep, struct bio *bio)
{
	struct replica_io *io = dm_per_bio_data(bio, sizeof(*io));
	u64 region;

	if (bio->bi_opf & REQ_PREFLUSH && !bio_sectors(bio)) {
		/* num_flush_bios = 2: bio 0 for the source, 1 for the target. */
		if (dm_bio_get_target_bio_nr(bio) == 0) {
			bio_set_dev(bio, rep->source_bdev);
			return DM_MAPIO_REMAPPED;
		}
		if (!flush_reaches_target(rep)) {
			bio_endio(bio);
			return DM_MAPIO_SUBMITTED;
		}
		io->flush_target = true;
		bio_set_dev(bio, rep->target_bdev);
		return DM_MAPIO_REMAPPED;
	}

	switch (bio_op(bio)) {
	case REQ_OP_READ:
		/* Reads are foreground load too (copy_rate_min). */
		WRITE_ONCE(rep->last_user_io, jiffies);
		region = sector_to_region(rep, bio->bi_iter.bi_sector);
		if (READ_ONCE(rep->restoring) &&
		    test_bit(region, rep->nosync_map))
			bio_set_dev(bio, rep->target_bdev);
		else
			bio_set_dev(bio, rep->source_bdev);
		return DM_MAPIO_REMAPPED;
	case REQ_OP_DISCARD:
		io->async_discard = false;
		io->held_since = 0;
		replica_defer_bio(rep, bio);
		return DM_MAPIO_SUBMITTED;
	default:
		return process_write(rep, bio, false);
	}
}

/*
 * A failed target flush fails the target leg, not the host's flush
 * (unless fail_host_on_target_error): source I/O goes on.
 */
static int mirror_end_io(struct replica *rep, struct bio *bio,
			 blk_status_t *error)
{
	struct replica_io *io = dm_per_bio_data(bio, sizeof(*io));
	unsigned long flags;
	bool news;

	if (!io->flush_target || !*error)
		return DM_ENDIO_DONE;
	spin_lock_irqsave(&rep->lock, flags);
	news = __replica_target_failed(rep, HEALTH_FLUSH_ERROR);
	spin_unlock_irqrestore(&rep->lock, flags);
	if (news) {
		DMERR_LIMIT("target flush error %d: relationship broken",
			    blk_status_to_errno(*error));
		replica_wake_worker(rep);
	}
	if (!READ_ONCE(rep->fail_host_on_target_error))
		*error = BLK_STS_OK;
	return DM_ENDIO_DONE;
}

/* From the worker: bios deferred or held, decided again. */
static void mirror_process(struct replica *rep, struct bio *bio)
{
	if (bio_op(bio) == REQ_OP_DISCARD)
		process_discard(rep, bio);
	else
		process_write(rep, bio, true);
}

/* Bios to decide again: held discards, and writes below the lag bound. */
static void mirror_collect(struct replica *rep, struct bio_list *bios)
{
	spin_lock_irq(&rep->lock);
	bio_list_merge(bios, &rep->held_discards);
	bio_list_init(&rep->held_discards);
	if (!lag_bound_reached(rep)) {
		bio_list_merge(bios, &rep->throttled);
		bio_list_init(&rep->throttled);
	}
	spin_unlock_irq(&rep->lock);
}

/* ---- Idle marks ---- */

/* Regions of one bitmap block whose mark may go, under the lock. */
static void __clear_block_marks(struct replica *rep, u64 index)
{
	u64 first = index * REPLICA_BITS_PER_BLOCK;
	u64 last = min_t(u64, first + REPLICA_BITS_PER_BLOCK, rep->nr_regions);
	u64 region;

	lockdep_assert_held(&rep->lock);
	for (region = first; region < last; region++) {
		if (!replica_md_test(&rep->md, region) ||
		    test_bit(region, rep->nosync_map) ||
		    __replica_find_entry(rep, region))
			continue;
		replica_md_clear(&rep->md, region);
		rep->marked_count--;
	}
}

/*
 * Clear the marks of regions that have been idle and in sync for a full
 * commit period.  The flush of both legs between choosing and clearing
 * makes every write and copy that completed before the choice durable.
 * Nothing is cleared while a leg or the metadata has failed: the marks
 * are what a resync copies later.
 */
static void clear_idle_marks(struct replica *rep, bool everything)
{
	u64 nblocks, index;
	unsigned long *eligible = rep->clear_eligible;
	int r, target_r = 0;

	spin_lock_irq(&rep->lock);
	nblocks = rep->md.nr_blocks;
	if (rep->md_mode != MD_RW || rep->target_health != HEALTH_ALIVE ||
	    rep->source_health != HEALTH_ALIVE || rep->fold_pending) {
		spin_unlock_irq(&rep->lock);
		return;
	}
	if (everything)
		bitmap_or(eligible, rep->clear_aged, rep->clear_candidates,
			  nblocks);
	else
		bitmap_andnot(eligible, rep->clear_aged, rep->clear_candidates,
			      nblocks);
	bitmap_or(rep->clear_aged, rep->clear_aged, rep->clear_candidates,
		  nblocks);
	bitmap_andnot(rep->clear_aged, rep->clear_aged, eligible, nblocks);
	bitmap_zero(rep->clear_candidates, nblocks);
	spin_unlock_irq(&rep->lock);

	if (bitmap_empty(eligible, nblocks))
		return;

	r = replica_flush_bdev(rep->source_bdev);
	if (!r) {
		target_r = replica_flush_bdev(rep->target_bdev);
		r = target_r;
	}
	if (r) {
		/* Keep the marks; try again next period. */
		spin_lock_irq(&rep->lock);
		bitmap_or(rep->clear_aged, rep->clear_aged, eligible, nblocks);
		/*
		 * A target that cannot flush has failed (an async mirror's
		 * host flushes never reach it, so this is where it shows).
		 */
		if (target_r && __replica_target_failed(rep, HEALTH_FLUSH_ERROR))
			DMERR_LIMIT("target flush error %d: relationship broken",
				    target_r);
		spin_unlock_irq(&rep->lock);
		return;
	}

	/* One lock hold per bitmap block: bounded work with irqs off. */
	for_each_set_bit(index, eligible, nblocks) {
		spin_lock_irq(&rep->lock);
		/* A write completed since the choice: wait another period. */
		if ((everything || !test_bit(index, rep->clear_candidates)) &&
		    rep->md_mode == MD_RW && rep->target_health == HEALTH_ALIVE)
			__clear_block_marks(rep, index);
		spin_unlock_irq(&rep->lock);
		cond_resched();
	}
}

/*
 * The target leg failed: writes it acknowledged since its last flush may
 * be lost, and every such region still has its mark.  Turn the marks into
 * regions to copy (nosync), one bitmap block per lock hold.
 */
static void fold_marks(struct replica *rep)
{
	u64 first, last, region;

	for (;;) {
		spin_lock_irq(&rep->lock);
		if (!rep->fold_pending) {
			spin_unlock_irq(&rep->lock);
			return;
		}
		first = rep->fold_cursor;
		last = min_t(u64, first + REPLICA_BITS_PER_BLOCK,
			     rep->nr_regions);
		for (region = first; region < last; region++)
			if (replica_md_test(&rep->md, region))
				__replica_set_nosync(rep, region);
		rep->fold_cursor = last;
		if (last >= rep->nr_regions)
			rep->fold_pending = false;
		spin_unlock_irq(&rep->lock);
		cond_resched();
	}
}

/* Before a commit: what failed becomes copies, what is idle is cleared. */
static void mirror_tidy(struct replica *rep, bool clean_stop, bool due)
{
	fold_marks(rep);
	if (clean_stop || due)
		clear_idle_marks(rep, clean_stop);
}

/* ---- Copies ---- */
static bool mirror_background_copies(struct replica *rep)
{
	return true;
}

static int mirror_copy_place(struct replica *rep, u64 region,
			     struct slot_map **spare)
{
	return 0;
}

static sector_t mirror_target_sector(struct replica *rep, u64 region,
				     sector_t sector)
{
	return sector;
}

/*
 * The legs hold the same data: its writes may go on at once.  A restore's
 * copy vouches for the source: the commit that records the restore's end
 * flushes it first, or a crash would resync the old source back over the
 * restored image.
 */
static bool mirror_copied(struct replica *rep, struct region_entry *e)
{
	if (e->copy_to_source)
		rep->vouch_source = true;
	__replica_clear_nosync(rep, e->region);
	return false;
}

static void mirror_all_copied(struct replica *rep)
{
	rep->restoring = false;
	rep->initial_sync = false;
	__replica_set_state(rep, REPLICA_CS_SYNCHRONIZED);
}

const struct replica_type_ops replica_mirror_ops = {
	.map = mirror_map,
	.process = mirror_process,
	.end_io = mirror_end_io,
	.collect = mirror_collect,
	.tidy = mirror_tidy,
	.background_copies = mirror_background_copies,
	.copies_wait_for_io = true,
	.copy_place = mirror_copy_place,
	.target_sector = mirror_target_sector,
	.copied = mirror_copied,
	.all_copied = mirror_all_copied,
};

/* Release writes held at the lag bound, e.g. before a suspend. */
void replica_release_throttled(struct replica *rep)
{
	struct bio_list bios = BIO_EMPTY_LIST;
	struct bio *bio;

	spin_lock_irq(&rep->lock);
	bio_list_merge(&bios, &rep->throttled);
	bio_list_init(&rep->throttled);
	spin_unlock_irq(&rep->lock);
	while ((bio = bio_list_pop(&bios)))
		process_write(rep, bio, true);
}

