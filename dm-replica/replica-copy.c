// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-replica background copier: which region to copy next (held bios
 * first, then the copy map), batching of neighbours into one kcopyd job,
 * the rate bucket, and the end of a copy.  What a copy means is the
 * policy's (rep->ops: where it goes, what its end records).
 *
 * A region is never written by the host while a mirror copies it, so a
 * copy always transfers a state the region really had.
 */
#include <linux/dm-kcopyd.h>
#include <linux/jiffies.h>
#include <linux/slab.h>

#include "replica.h"
#include "replica-core.h"

/* ---- Background copy ---- */
/* A copy finished: every region of its batch is done (or failed). */
static void copy_done(int read_err, unsigned long write_err, void *context)
{
	struct region_entry *lead = context, *e;
	struct replica *rep = lead->rep;
	u64 region = lead->region, end = region + lead->batch;
	unsigned long flags;

	spin_lock_irqsave(&rep->lock, flags);
	for (; region < end; region++) {
		e = __replica_find_entry(rep, region);
		if (WARN_ON_ONCE(!e || !e->copying))
			continue;
		e->batch = 0;
		e->copy_error = read_err ? -EIO : 0;
		e->copy_write_error = write_err ? -EIO : 0;
		WARN_ON_ONCE(!list_empty(&e->list));
		list_move_tail(&e->list, &rep->copy_done);
	}
	spin_unlock_irqrestore(&rep->lock, flags);
	replica_wake_worker(rep);
}

/* Background copies of neighbouring regions share one kcopyd job. */
#define REPLICA_COPY_BATCH_BYTES	(512U << 10)

/*
 * Extend a background copy starting at lead->region over the following
 * regions that need the same copy and are not in use, within the rate
 * budget and copy_inflight.  Returns the sectors the copy covers.
 */
static sector_t __extend_copy(struct replica *rep, struct region_entry *lead,
			      u64 budget)
{
	unsigned int max_batch = max(REPLICA_COPY_BATCH_BYTES >>
				     (rep->region_shift + SECTOR_SHIFT), 1U);
	sector_t start = region_to_sector(rep, lead->region);
	sector_t len = min_t(sector_t, rep->region_sectors, rep->len - start);
	u64 region = lead->region + 1;
	struct region_entry *e;

	lead->batch = 1;
	/* Store slots are not contiguous on the target. */
	if (rep->store_slots)
		return len;
	while (lead->batch < max_batch && region < rep->nr_regions &&
	       rep->copies_in_flight < max(rep->tun.copy_inflight, 1u) &&
	       test_bit(region, rep->nosync_map) &&
	       !__replica_find_entry(rep, region)) {
		sector_t more = min_t(sector_t, rep->region_sectors,
				      rep->len - region_to_sector(rep, region));

		if (budget != U64_MAX &&
		    ((u64)(len + more) << SECTOR_SHIFT) > budget)
			break;
		e = __replica_get_entry(rep, region, NULL);
		if (!e)
			break;
		e->rep = rep;
		e->copying = true;
		e->copy_to_source = rep->restoring;
		rep->copies_in_flight++;
		len += more;
		lead->batch++;
		region++;
	}
	if (region > lead->region + 1)
		rep->copy_cursor = region;
	return len;
}

/*
 * Bytes the rate limit allows now; 0 means wait.  A token bucket refilled
 * every HZ/10 and holding two windows' allowance, so a worker that runs
 * late does not lose budget (the copy_rate_min floor holds); a copy may
 * overdraw it by up to one region, and the debt is paid back by the
 * following windows, so the long-run rate is the limit even when a region
 * is larger than one window's allowance.
 */
static u64 copy_budget(struct replica *rep)
{
	unsigned int rate = READ_ONCE(rep->tun.copy_rate_max);
	unsigned int floor = READ_ONCE(rep->tun.copy_rate_min);
	unsigned long window = max(HZ / 10, 1);
	unsigned long windows;
	u64 allowance;

	/*
	 * Under foreground load, yield down to the guaranteed floor; an
	 * asynchronous mirror catching up with its lag does not yield.
	 */
	if (floor && time_before(jiffies, READ_ONCE(rep->last_user_io) + window) &&
	    (!rate || floor < rate) &&
	    !(rep->mode == REPLICA_MODE_ASYNC &&
	      rep->copy_state == REPLICA_CS_SYNCHRONIZED))
		rate = floor;
	if (!rate)
		return U64_MAX;
	allowance = div_u64((u64)rate * 1024 * window, HZ);
	windows = (jiffies - rep->rate_window) / window;
	if (windows > 100) {
		rep->rate_window = jiffies;
		rep->rate_window_bytes = 0;
	} else if (windows) {
		rep->rate_window += windows * window;
		if (rep->rate_window_bytes > windows * allowance)
			rep->rate_window_bytes -= windows * allowance;
		else
			rep->rate_window_bytes = 0;
	}
	if (rep->rate_window_bytes >= 2 * allowance)
		return 0;
	return 2 * allowance - rep->rate_window_bytes;
}

/* Can a region with an entry be copied now? */
static bool __entry_copyable(struct replica *rep, struct region_entry *e)
{
	if (e->copying || e->overwrite)
		return false;
	/* A mirror's writes in flight would race the copy. */
	return !rep->ops->copies_wait_for_io || !e->pending;
}

/*
 * Next region to copy, or U64_MAX; caller holds the lock.  Regions that
 * hold bios come first; then the background scan of nosync_map.
 */
static u64 __pick_copy_region(struct replica *rep, bool *priority)
{
	struct region_entry *e;
	unsigned int scanned = 0;
	u64 r;

	*priority = true;
	list_for_each_entry(e, &rep->priority_copies, list)
		if (__entry_copyable(rep, e))
			return e->region;

	*priority = false;
	if (!rep->nosync_count || !__replica_copy_allowed(rep) ||
	    !rep->ops->background_copies(rep))
		return U64_MAX;

	r = rep->copy_cursor;
	while (scanned++ < 256) {
		r = find_next_bit(rep->nosync_map, rep->nr_regions, r);
		if (r >= rep->nr_regions) {
			if (!rep->copy_cursor)
				return U64_MAX;
			rep->copy_cursor = 0;
			r = 0;
			continue;
		}
		e = __replica_find_entry(rep, r);
		if (!e || (__entry_copyable(rep, e) &&
			   bio_list_empty(&e->waiting))) {
			rep->copy_cursor = r + 1;
			return r;
		}
		r++;
	}
	rep->copy_cursor = r;
	return U64_MAX;
}

/*
 * A background pick that is not copied after all (no budget, no store
 * slot, no entry): scan from it again next time, so that a rate-limited
 * copy goes in order instead of skipping a region at every worker run.
 */
static void __unpick_copy_region(struct replica *rep, u64 region,
				 bool priority)
{
	if (!priority)
		rep->copy_cursor = region;
}

static bool __legs_can_copy(struct replica *rep)
{
	return __replica_copies_possible(rep) && !rep->async_discards &&
	       rep->copies_in_flight < max(rep->tun.copy_inflight, 1u);
}

void replica_start_copies(struct replica *rep)
{
	struct dm_io_region from, to;
	struct region_entry *e, *spare = NULL;
	struct slot_map *spare_slot = NULL;
	sector_t start, len, stored;
	bool priority;
	u64 region, budget;

	for (;;) {
		if (!spare)
			spare = replica_spare_entry(rep);
		if (!spare_slot && rep->store_slots)
			spare_slot = kmem_cache_alloc(replica_slot_cache,
						      GFP_NOIO);

		spin_lock_irq(&rep->lock);
		if (!__legs_can_copy(rep)) {
			spin_unlock_irq(&rep->lock);
			break;
		}
		region = __pick_copy_region(rep, &priority);
		/* Held bios wait on priority copies: no rate limit for them. */
		budget = priority || region == U64_MAX ? U64_MAX :
			 copy_budget(rep);
		if (region == U64_MAX) {
			spin_unlock_irq(&rep->lock);
			break;
		}
		e = NULL;
		if (budget && !rep->ops->copy_place(rep, region, &spare_slot))
			e = __replica_get_entry(rep, region, &spare);
		if (!e) {
			__unpick_copy_region(rep, region, priority);
			spin_unlock_irq(&rep->lock);
			break;
		}
		e->rep = rep;
		e->copying = true;
		/* The direction is the one at the start, whatever comes. */
		e->copy_to_source = rep->restoring;
		list_del_init(&e->list);
		rep->copies_in_flight++;
		start = region_to_sector(rep, region);
		stored = rep->ops->target_sector(rep, region, start);
		if (priority) {
			e->batch = 1;
			len = min_t(sector_t, rep->region_sectors,
				    rep->len - start);
		} else {
			len = __extend_copy(rep, e, budget);
		}
		/*
		 * Only background copies spend the budget: a burst of
		 * copy-on-write copies would otherwise stop hydration until
		 * its bytes were paid back at copy_rate_max.
		 */
		if (!priority)
			rep->rate_window_bytes += (u64)len << SECTOR_SHIFT;
		spin_unlock_irq(&rep->lock);

		from.count = len;
		to.count = len;
		if (rep->restoring) {
			from.bdev = rep->target_bdev;
			from.sector = stored;
			to.bdev = rep->source_bdev;
			to.sector = start;
		} else {
			from.bdev = rep->source_bdev;
			from.sector = start;
			to.bdev = rep->target_bdev;
			to.sector = stored;
		}
		dm_kcopyd_copy(rep->kcopyd, &from, 1, &to, 0, copy_done, e);
	}
	replica_put_spare(rep, spare);
	if (spare_slot)
		kmem_cache_free(replica_slot_cache, spare_slot);
}

void replica_finish_copies(struct replica *rep, struct bio_list *release,
			   struct bio_list *failed)
{
	struct region_entry *e, *tmp;
	LIST_HEAD(done);

	spin_lock_irq(&rep->lock);
	list_splice_init(&rep->copy_done, &done);
	list_for_each_entry_safe(e, tmp, &done, list) {
		list_del_init(&e->list);
		e->copying = false;
		rep->copies_in_flight--;
		if (!e->copy_error && !e->copy_write_error) {
			/* A whole-region view write replaced this copy. */
			if (!e->overwrite)
				rep->regions_copied++;
			/* Held bios may wait for the commit of a bit. */
			if (rep->ops->copied(rep, e))
				continue;
		} else {
			bool to_source = e->copy_to_source;

			rep->copy_errors++;
			if (e->copy_write_error && to_source)
				rep->source_health = HEALTH_WRITE_ERROR;
			else if (e->copy_write_error)
				__replica_target_failed(rep, HEALTH_WRITE_ERROR);
			if (e->copy_error && !to_source &&
			    rep->source_health == HEALTH_ALIVE)
				rep->source_health = HEALTH_READ_ERROR;
			else if (e->copy_error && to_source)
				__replica_target_failed(rep, HEALTH_READ_ERROR);
			DMERR_LIMIT("copy of region %llu failed: relationship broken",
				    e->region);
			__replica_set_state(rep, REPLICA_CS_BROKEN);
			if (e->overwrite) {
				bio_list_add(failed, e->overwrite);
				e->overwrite = NULL;
			}
		}
		bio_list_merge(release, &e->waiting);
		bio_list_init(&e->waiting);
		__replica_put_entry(rep, e);
	}
	if (!rep->nosync_count && !rep->copies_in_flight &&
	    !rep->fold_pending &&
	    rep->copy_state == REPLICA_CS_UNSYNCHRONIZED &&
	    rep->target_health == HEALTH_ALIVE) {
		rep->ops->all_copied(rep);
	}
	spin_unlock_irq(&rep->lock);
	wake_up_all(&rep->copy_wait);
}

