// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-replica committer and worker.
 *
 * Only the worker commits.  Anyone else who needs the state durable
 * (postsuspend, messages) asks for a commit and waits for the worker to
 * have run (replica_commit_sync).  One commit is, in this order:
 *   1. under rep->lock: take the exact set of changed bitmap blocks
 *      (replica_md_pre_commit -> seq), which data legs the changes vouch
 *      for, and the superblock fields;
 *   2. flush those legs: every copy a new bit vouches for completed
 *      before step 1, so the flush makes its data durable first;
 *   3. write the changed blocks to the inactive area, then the
 *      superblock with PREFLUSH|FUA (replica_md_commit);
 *   4. release exactly the waiters whose marks are at or below seq.
 * A commit that fails makes the metadata read-only; its waiters are failed
 * (mirror) or decided again (snapshot, clone: the point in time is lost),
 * never released as if their marks were durable.
 *
 * Bits that vouch for data (a snapshot's or clone's "copied") only change
 * in the worker (finish_copies), never during a commit, so a block written
 * in step 3 carries no such bit that step 2 did not cover.  Bits set
 * elsewhere (mirror write intent, discards) are conservative: durable
 * early is harmless.
 */
#include <linux/blkdev.h>
#include <linux/jiffies.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "replica.h"
#include "replica-io.h"

/* ---- Clearing a mirror's idle marks ---- */

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
	int r;

	/* Snapshot and clone bits record copied data, not write intent. */
	if (rep->sync_type != REPLICA_SYNC_MIRROR)
		return;

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
	if (!r)
		r = replica_flush_bdev(rep->target_bdev);
	if (r) {
		/* Keep the marks; try again next period. */
		spin_lock_irq(&rep->lock);
		bitmap_or(rep->clear_aged, rep->clear_aged, eligible, nblocks);
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

/* ---- Commit ---- */
static void __fail_metadata(struct replica *rep, int r)
{
	lockdep_assert_held(&rep->lock);
	if (rep->md_mode != MD_RW)
		return;
	DMERR("metadata commit failed (%d): metadata is now read-only", r);
	rep->md_mode = MD_RO;
	rep->state_changed = true;
	/* A point in time that cannot be recorded is lost. */
	if (rep->sync_type != REPLICA_SYNC_MIRROR)
		rep->copy_state = REPLICA_CS_BROKEN;
}

/*
 * The metadata cannot be written: a mirror fails every write held for a
 * mark (their entries keep the mark's sequence, so later writes to those
 * regions fail too); a snapshot or clone has lost its point in time, and
 * its held bios are decided again (source writes go on, view I/O fails).
 */
static void fail_mark_waiters(struct replica *rep, struct bio_list *release)
{
	struct bio_list failed = BIO_EMPTY_LIST, overwrites = BIO_EMPTY_LIST;
	struct region_entry *e, *tmp;
	bool mirror = rep->sync_type == REPLICA_SYNC_MIRROR;
	struct bio *bio;

	spin_lock_irq(&rep->lock);
	list_for_each_entry_safe(e, tmp, &rep->commit_wait, list) {
		list_del_init(&e->list);
		if (e->overwrite) {
			bio_list_add(&overwrites, e->overwrite);
			e->overwrite = NULL;
		}
		bio_list_merge(mirror ? &failed : release, &e->waiting);
		bio_list_init(&e->waiting);
		__replica_put_entry(rep, e);
	}
	/* Discards held for their marks: nothing could record them. */
	bio_list_merge(mirror ? &failed : release, &rep->gated);
	bio_list_init(&rep->gated);
	spin_unlock_irq(&rep->lock);
	while ((bio = bio_list_pop(&failed)))
		bio_io_error(bio);
	while ((bio = bio_list_pop(&overwrites)))
		replica_pit_end_overwrite(bio, BLK_STS_IOERR);
}

/* Release what waited for commit `seq`; called with the lock held. */
static void __release_committed(struct replica *rep, u64 seq,
				struct bio_list *release,
				struct bio_list *overwrites)
{
	struct bio_list still = BIO_EMPTY_LIST;
	struct region_entry *e, *tmp;
	struct bio *bio;

	lockdep_assert_held(&rep->lock);
	list_for_each_entry_safe(e, tmp, &rep->commit_wait, list) {
		if (e->mark_seq > seq)
			continue;
		list_del_init(&e->list);
		if (e->overwrite) {
			bio_list_add(overwrites, e->overwrite);
			e->overwrite = NULL;
		}
		bio_list_merge(release, &e->waiting);
		bio_list_init(&e->waiting);
		__replica_put_entry(rep, e);
	}
	while ((bio = bio_list_pop(&rep->gated))) {
		struct replica_io *io = dm_per_bio_data(bio, sizeof(*io));

		bio_list_add(io->commit_seq <= seq ? release : &still, bio);
	}
	bio_list_merge(&rep->gated, &still);
}

/* A data leg's flush for a commit failed: that leg has failed. */
static void __commit_flush_failed(struct replica *rep, char *health, int r)
{
	lockdep_assert_held(&rep->lock);
	DMERR_LIMIT("flush of a %s leg failed (%d): point in time lost",
		    health == &rep->target_health ? "target" : "source", r);
	if (*health == HEALTH_ALIVE)
		*health = HEALTH_FLUSH_ERROR;
	__replica_set_state(rep, REPLICA_CS_BROKEN);
}

/*
 * Commit the in-core state (see the top of this file); released bios go
 * to *release.  clean_stop: nothing is resumed and every idle mark was
 * cleared.
 */
static int commit(struct replica *rep, bool clean_stop,
		  struct bio_list *release)
{
	struct bio_list overwrites = BIO_EMPTY_LIST;
	bool flush_target, flush_source;
	struct replica_sb next;
	struct bio *bio;
	u64 seq;
	int r = 0;

	spin_lock_irq(&rep->lock);
	if (rep->md_mode != MD_RW) {
		spin_unlock_irq(&rep->lock);
		return -EIO;
	}
	seq = replica_md_pre_commit(&rep->md);
	flush_target = rep->vouch_target;
	flush_source = rep->vouch_source;
	rep->vouch_target = false;
	rep->vouch_source = false;
	rep->commit_requested = false;
	spin_unlock_irq(&rep->lock);

	if (flush_target)
		r = replica_flush_bdev(rep->target_bdev);
	spin_lock_irq(&rep->lock);
	if (r)
		__commit_flush_failed(rep, &rep->target_health, r);
	spin_unlock_irq(&rep->lock);
	if (flush_source) {
		r = replica_flush_bdev(rep->source_bdev);
		spin_lock_irq(&rep->lock);
		if (r)
			__commit_flush_failed(rep, &rep->source_health, r);
		spin_unlock_irq(&rep->lock);
	}

	/* After the flushes: a failed one is recorded as broken. */
	spin_lock_irq(&rep->lock);
	next = rep->md.sb;
	next.copy_state = rep->copy_state;
	next.mode = rep->mode;
	next.flags = rep->restoring ? REPLICA_SB_RESTORING : 0;
	if (rep->initial_sync)
		next.flags |= REPLICA_SB_INITIAL_COPY;
	if (clean_stop)
		next.flags |= REPLICA_SB_CLEAN_SHUTDOWN;
	next.bits_set = rep->marked_count;
	next.pit_ns = rep->pit_ns;
	spin_unlock_irq(&rep->lock);

	r = replica_md_commit(&rep->md, seq, &next);
	if (r) {
		spin_lock_irq(&rep->lock);
		__fail_metadata(rep, r);
		spin_unlock_irq(&rep->lock);
		fail_mark_waiters(rep, release);
		return r;
	}

	spin_lock_irq(&rep->lock);
	__release_committed(rep, seq, release, &overwrites);
	spin_unlock_irq(&rep->lock);
	while ((bio = bio_list_pop(&overwrites)))
		replica_pit_end_overwrite(bio, BLK_STS_OK);
	return 0;
}

/*
 * Ask the worker for a commit and wait until it has run.  clean_stop:
 * the last device suspended; idle marks are all cleared first.
 */
int replica_commit_sync(struct replica *rep, bool clean_stop)
{
	spin_lock_irq(&rep->lock);
	rep->commit_requested = true;
	if (clean_stop)
		rep->clean_stop_requested = true;
	spin_unlock_irq(&rep->lock);
	queue_work(rep->wq, &rep->worker);
	flush_work(&rep->worker);
	return READ_ONCE(rep->md_mode) == MD_RW ? 0 : -EIO;
}

/* ---- Worker ---- */
static bool commit_due(struct replica *rep)
{
	return time_after_eq(jiffies, rep->last_clear +
			     msecs_to_jiffies(max(rep->tun.commit_ms, 10u)));
}

/*
 * Entries whose readers drained: their held bios may go now.  When no
 * copy can run (a leg or the metadata failed), bios held for a priority
 * copy are decided again too: they fail or go on without the copy.
 */
static void release_ready(struct replica *rep, struct bio_list *release)
{
	struct region_entry *e, *tmp;

	spin_lock_irq(&rep->lock);
	list_for_each_entry_safe(e, tmp, &rep->release_ready, list) {
		list_del_init(&e->list);
		bio_list_merge(release, &e->waiting);
		bio_list_init(&e->waiting);
		__replica_put_entry(rep, e);
	}
	if (!__replica_copies_possible(rep)) {
		list_for_each_entry_safe(e, tmp, &rep->priority_copies, list) {
			list_del_init(&e->list);
			bio_list_merge(release, &e->waiting);
			bio_list_init(&e->waiting);
			__replica_put_entry(rep, e);
		}
	}
	spin_unlock_irq(&rep->lock);
}

void replica_do_worker(struct work_struct *ws)
{
	struct replica *rep = container_of(ws, struct replica, worker);
	struct bio_list bios = BIO_EMPTY_LIST, failed = BIO_EMPTY_LIST;
	bool want_commit, clean_stop, event;
	struct bio *bio;

	/* New and retried writes. */
	spin_lock_irq(&rep->lock);
	bio_list_merge(&bios, &rep->deferred);
	bio_list_init(&rep->deferred);
	bio_list_merge(&bios, &rep->held_discards);
	bio_list_init(&rep->held_discards);
	if (!__replica_lag_bound_reached(rep)) {
		bio_list_merge(&bios, &rep->throttled);
		bio_list_init(&rep->throttled);
	}
	spin_unlock_irq(&rep->lock);
	replica_process_bios(rep, &bios);

	/* Copies that finished release the writes they held. */
	replica_finish_copies(rep, &bios, &failed);
	while ((bio = bio_list_pop(&failed)))
		replica_pit_end_overwrite(bio, BLK_STS_IOERR);
	release_ready(rep, &bios);
	replica_process_bios(rep, &bios);

	/* Keep copies running while the commit below waits for its I/O. */
	replica_start_copies(rep);

	fold_marks(rep);
	spin_lock_irq(&rep->lock);
	clean_stop = rep->clean_stop_requested && rep->suspended;
	rep->clean_stop_requested = false;
	spin_unlock_irq(&rep->lock);
	if (clean_stop || commit_due(rep)) {
		clear_idle_marks(rep, clean_stop);
		rep->last_clear = jiffies;
	}

	spin_lock_irq(&rep->lock);
	want_commit = rep->md_mode == MD_RW &&
		      (rep->commit_requested || clean_stop ||
		       replica_md_dirty(&rep->md));
	spin_unlock_irq(&rep->lock);
	if (want_commit) {
		commit(rep, clean_stop, &bios);
		replica_process_bios(rep, &bios);
	}

	replica_start_copies(rep);

	spin_lock_irq(&rep->lock);
	event = rep->state_changed;
	rep->state_changed = false;
	spin_unlock_irq(&rep->lock);
	if (event)
		replica_raise_event(rep);
}

void replica_raise_event(struct replica *rep)
{
	struct replica_dev *dev;

	mutex_lock(&rep->devs_lock);
	list_for_each_entry(dev, &rep->devs, list)
		dm_table_event(dev->ti->table);
	mutex_unlock(&rep->devs_lock);
}

void replica_do_waker(struct work_struct *ws)
{
	struct replica *rep = container_of(to_delayed_work(ws), struct replica,
					   waker);

	replica_wake_worker(rep);
	queue_delayed_work(rep->wq, &rep->waker, HZ / 10);
}
