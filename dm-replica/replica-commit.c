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
 * in the worker (the copier's finish, through rep->ops->copied), never
 * during a commit, so a block written in step 3 carries no such bit that
 * step 2 did not cover.  Bits set
 * elsewhere (mirror write intent, discards) are conservative: durable
 * early is harmless.
 */
#include <linux/blkdev.h>
#include <linux/jiffies.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "replica.h"
#include "replica-core.h"

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
		replica_complete_bio(bio, BLK_STS_IOERR);
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

/*
 * A data leg's flush for a commit failed: that leg has failed, and the
 * copies this commit records are not known durable: the relationship is
 * broken in the same commit (a snapshot's or clone's point in time is
 * lost; its waiters then go on without it).
 */
static void __commit_flush_failed(struct replica *rep, char *health, int r)
{
	lockdep_assert_held(&rep->lock);
	DMERR_LIMIT("flush of the %s leg failed (%d): relationship broken",
		    health == &rep->target_health ? "target" : "source", r);
	if (health == &rep->target_health)
		__replica_target_failed(rep, HEALTH_FLUSH_ERROR);
	else if (*health == HEALTH_ALIVE)
		*health = HEALTH_FLUSH_ERROR;
	__replica_set_state(rep, REPLICA_CS_BROKEN);
}

static void commit_flush(struct replica *rep, struct block_device *bdev,
			 char *health)
{
	int r = replica_flush_bdev(bdev);

	if (!r)
		return;
	spin_lock_irq(&rep->lock);
	__commit_flush_failed(rep, health, r);
	spin_unlock_irq(&rep->lock);
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
	int r;

	spin_lock_irq(&rep->lock);
	if (rep->md_mode != MD_RW) {
		/* What joined the waiters since the failure fails the same way. */
		spin_unlock_irq(&rep->lock);
		fail_mark_waiters(rep, release);
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
		commit_flush(rep, rep->target_bdev, &rep->target_health);
	if (flush_source)
		commit_flush(rep, rep->source_bdev, &rep->source_health);

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
		replica_complete_bio(bio, BLK_STS_OK);
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

/* Bios decided again by their policy, which now may sleep. */
static void process_bios(struct replica *rep, struct bio_list *bios)
{
	struct blk_plug plug;
	struct bio *bio;

	blk_start_plug(&plug);
	while ((bio = bio_list_pop(bios)))
		rep->ops->process(rep, bio);
	blk_finish_plug(&plug);
}

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
	bool want_commit, clean_stop, due, event;
	struct bio *bio;

	/* New and retried bios. */
	spin_lock_irq(&rep->lock);
	bio_list_merge(&bios, &rep->deferred);
	bio_list_init(&rep->deferred);
	spin_unlock_irq(&rep->lock);
	if (rep->ops->collect)
		rep->ops->collect(rep, &bios);
	process_bios(rep, &bios);

	/* Copies that finished release the writes they held. */
	replica_finish_copies(rep, &bios, &failed);
	while ((bio = bio_list_pop(&failed)))
		replica_complete_bio(bio, BLK_STS_IOERR);
	release_ready(rep, &bios);
	process_bios(rep, &bios);

	/* Keep copies running while the commit below waits for its I/O. */
	replica_start_copies(rep);

	spin_lock_irq(&rep->lock);
	clean_stop = rep->clean_stop_requested && rep->suspended;
	rep->clean_stop_requested = false;
	spin_unlock_irq(&rep->lock);
	due = commit_due(rep);
	if (rep->ops->tidy)
		rep->ops->tidy(rep, clean_stop, due);
	if (clean_stop || due)
		rep->last_clear = jiffies;

	spin_lock_irq(&rep->lock);
	/*
	 * Read-only metadata: no commit, but a copy that ended since may
	 * have put new waiters on commit_wait; they are failed or decided
	 * again, never left waiting for a commit that cannot come.
	 */
	if (rep->md_mode == MD_RW)
		want_commit = rep->commit_requested || clean_stop ||
			      replica_md_dirty(&rep->md);
	else
		want_commit = !list_empty(&rep->commit_wait) ||
			      !bio_list_empty(&rep->gated);
	spin_unlock_irq(&rep->lock);
	if (want_commit) {
		commit(rep, clean_stop, &bios);
		process_bios(rep, &bios);
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
