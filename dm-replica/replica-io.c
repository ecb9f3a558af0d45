// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-replica I/O path: region entries, mirror write intent, leg writes,
 * write-behind, discards and the background copier.  Commits are made by
 * the worker in replica-commit.c.
 *
 * Ordering rules this file keeps:
 *  - a write never reaches a leg before the commit that marks its region
 *    in the bitmap is durable (write intent);
 *  - a mark is cleared only after a flush of both legs that follows the
 *    last write or copy into the region (never "in sync" before durable);
 *  - a region is never written by the host while it is being copied, so
 *    a copy always transfers a state the region really had.
 */
#include <linux/blkdev.h>
#include <linux/hash.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/mempool.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "replica.h"
#include "replica-io.h"

struct kmem_cache *replica_entry_cache;

/* ---- Region entries ---- */
static struct hlist_head *entry_bucket(struct replica *rep, u64 region)
{
	return &rep->hash[hash_64(region, REPLICA_HASH_BITS)];
}

struct region_entry *__replica_find_entry(struct replica *rep, u64 region)
{
	struct region_entry *e;

	hlist_for_each_entry(e, entry_bucket(rep, region), hash)
		if (e->region == region)
			return e;
	return NULL;
}

static struct region_entry *__insert_entry(struct replica *rep, u64 region,
					   struct region_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->region = region;
	INIT_LIST_HEAD(&e->list);
	bio_list_init(&e->waiting);
	hlist_add_head(&e->hash, entry_bucket(rep, region));
	rep->entries++;
	return e;
}

/*
 * The region's entry, made if needed from *spare (taken) or, without one,
 * from the pool without sleeping; NULL when there is no memory.
 */
struct region_entry *__replica_get_entry(struct replica *rep, u64 region,
					 struct region_entry **spare)
{
	struct region_entry *e = __replica_find_entry(rep, region);

	lockdep_assert_held(&rep->lock);
	if (e)
		return e;
	if (spare && *spare) {
		e = *spare;
		*spare = NULL;
	} else {
		e = mempool_alloc(&rep->entry_pool, GFP_NOWAIT);
		if (!e)
			return NULL;
	}
	return __insert_entry(rep, region, e);
}

/* A spare entry for a decision made by the worker (may sleep). */
struct region_entry *replica_spare_entry(struct replica *rep)
{
	return mempool_alloc(&rep->entry_pool, GFP_NOIO);
}

void replica_put_spare(struct replica *rep, struct region_entry *spare)
{
	if (spare)
		mempool_free(spare, &rep->entry_pool);
}

static void __flag_clear_candidate(struct replica *rep, u64 region)
{
	u64 index;
	u32 bit;

	replica_region_to_bit(region, &index, &bit);
	__set_bit(index, rep->clear_candidates);
}

/* Free an entry nobody needs any more. */
void __replica_put_entry(struct replica *rep, struct region_entry *e)
{
	lockdep_assert_held(&rep->lock);
	if (e->pending || e->copying || e->overwrite ||
	    !bio_list_empty(&e->waiting) || !list_empty(&e->list))
		return;
	if (!replica_md_durable(&rep->md, e->mark_seq))
		return;
	hlist_del(&e->hash);
	rep->entries--;
	__flag_clear_candidate(rep, e->region);
	mempool_free(e, &rep->entry_pool);
}

/* Teardown: entries pinned by marks that never became durable. */
void replica_free_entries(struct replica *rep)
{
	struct region_entry *e;
	struct hlist_node *tmp;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rep->hash); i++) {
		hlist_for_each_entry_safe(e, tmp, &rep->hash[i], hash) {
			hlist_del(&e->hash);
			mempool_free(e, &rep->entry_pool);
		}
	}
	rep->entries = 0;
}

/* ---- State helpers ---- */
void __replica_set_state(struct replica *rep, u32 state)
{
	if (rep->copy_state == state)
		return;
	rep->copy_state = state;
	rep->state_changed = true;
	rep->commit_requested = true;
}

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

/* May the background copy run? */
bool __replica_copy_allowed(struct replica *rep)
{
	/* Background copies follow the origin's table (its rate limits). */
	if (rep->suspended || !rep->active_origins || rep->md_mode != MD_RW)
		return false;
	if (rep->target_health != HEALTH_ALIVE ||
	    rep->source_health == HEALTH_WRITE_ERROR)
		return false;
	return rep->copy_state == REPLICA_CS_SYNCHRONIZED ||
	       rep->copy_state == REPLICA_CS_UNSYNCHRONIZED;
}

/*
 * The age of marked (nosync) regions is that of their older generation
 * (see struct replica); write-behinds carry their own start time.  Lag is
 * kept in milliseconds, so the tick-based clock is enough and costs no
 * clock source read per write.
 */
static void __lag_changed(struct replica *rep)
{
	unsigned int old = rep->lag_gen_old;

	rep->lag_since_ns = rep->lag_gen_map && rep->lag_gen_count[old] ?
			    rep->lag_gen_start_ns[old] : 0;
}

/* A region just marked nosync joins the newer generation. */
static void __lag_gen_add(struct replica *rep, u64 region)
{
	unsigned int gen = rep->lag_gen_old;

	if (!rep->lag_gen_map)
		return;
	/* An empty older generation takes it (nothing else is marked). */
	if (rep->lag_gen_count[gen])
		gen ^= 1;
	if (!rep->lag_gen_count[gen]++)
		rep->lag_gen_start_ns[gen] = ktime_get_coarse_ns();
	__assign_bit(region, rep->lag_gen_map, gen);
}

static void __lag_gen_remove(struct replica *rep, u64 region)
{
	unsigned int gen;

	if (!rep->lag_gen_map)
		return;
	gen = test_bit(region, rep->lag_gen_map);
	if (!WARN_ON_ONCE(!rep->lag_gen_count[gen]))
		rep->lag_gen_count[gen]--;
	/* The older generation is copied: the newer one becomes it. */
	if (!rep->lag_gen_count[rep->lag_gen_old])
		rep->lag_gen_old ^= 1;
}

/* After the nosync map was rebuilt: every marked region in one generation. */
void __replica_lag_reset(struct replica *rep)
{
	rep->lag_gen_old = 0;
	rep->lag_gen_count[0] = rep->nosync_count;
	rep->lag_gen_count[1] = 0;
	rep->lag_gen_start_ns[0] = ktime_get_coarse_ns();
	/* (bitmap_zero takes an unsigned int: not enough past 2^32 regions) */
	if (rep->lag_gen_map)
		memset(rep->lag_gen_map, 0,
		       BITS_TO_LONGS(rep->nr_regions) * sizeof(long));
	__lag_changed(rep);
}

/* Set a region's bit in the in-core bitmap; the next commit records it. */
bool __replica_mark(struct replica *rep, u64 region)
{
	if (replica_md_test(&rep->md, region))
		return false;
	replica_md_set(&rep->md, region);
	rep->marked_count++;
	rep->commit_requested = true;
	return true;
}

/*
 * The same for a change no entry waits for (a discard): writes to the
 * region's block wait for the commit that carries it.
 */
bool __replica_mark_gated(struct replica *rep, u64 region)
{
	if (replica_md_test(&rep->md, region))
		return false;
	replica_md_set_gated(&rep->md, region);
	rep->marked_count++;
	rep->commit_requested = true;
	return true;
}

/*
 * The commit that makes region's bit durable for a write: the entry's own
 * mark, or a gated mark of its block.  0 when it is durable already.
 */
u64 __replica_mark_seq(struct replica *rep, struct region_entry *e,
		       u64 region)
{
	u64 seq = max(e ? e->mark_seq : 0,
		      replica_md_gate_seq(&rep->md, region));

	return replica_md_durable(&rep->md, seq) ? 0 : seq;
}

void __replica_set_nosync(struct replica *rep, u64 region)
{
	if (__test_and_set_bit(region, rep->nosync_map))
		return;
	rep->nosync_count++;
	__lag_gen_add(rep, region);
	__lag_changed(rep);
}

void __replica_clear_nosync(struct replica *rep, u64 region)
{
	if (!__test_and_clear_bit(region, rep->nosync_map))
		return;
	rep->nosync_count--;
	__lag_gen_remove(rep, region);
	__lag_changed(rep);
}

/* Age of the oldest write the target may not hold yet (async). */
u64 replica_lag_ms(struct replica *rep)
{
	u64 since = READ_ONCE(rep->lag_since_ns);
	u64 behind = READ_ONCE(rep->behind_oldest_ns);
	u64 now = ktime_get_coarse_ns();

	if (rep->mode != REPLICA_MODE_ASYNC)
		return 0;
	if (!since || (behind && behind < since))
		since = behind;
	if (!since || since > now)
		return 0;
	return div_u64(now - since, NSEC_PER_MSEC);
}

bool __replica_lag_bound_reached(struct replica *rep)
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

/*
 * The target leg failed (code: D write, F flush, R read): the
 * relationship is broken.  A mirror's marked regions may hold writes the
 * target acknowledged but lost: the worker turns them into regions to
 * copy (fold_marks).  True when this is news.
 */
bool __replica_target_failed(struct replica *rep, char code)
{
	lockdep_assert_held(&rep->lock);
	if (rep->target_health != HEALTH_ALIVE)
		return false;
	rep->target_health = code;
	__replica_set_state(rep, REPLICA_CS_BROKEN);
	if (rep->sync_type == REPLICA_SYNC_MIRROR) {
		rep->fold_pending = true;
		rep->fold_cursor = 0;
	}
	return true;
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
	bio->bi_end_io = io->saved_end_io;
	bio->bi_private = io->saved_private;
	bio->bi_status = status;
	bio_endio(bio);
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
	WRITE_DEFER,		/* retry from the worker (no memory) */
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
	    __replica_lag_bound_reached(rep) &&
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
	/* (The worker always has a spare: it never defers.) */
	if (d == WRITE_DEFER)
		bio_list_add(&rep->deferred, bio);
	spin_unlock_irqrestore(&rep->lock, flags);
	replica_put_spare(rep, spare);

	switch (d) {
	case WRITE_QUEUED:
	case WRITE_DEFER:
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
				__flag_clear_candidate(rep, r);
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
	r = rep->sync_type == REPLICA_SYNC_MIRROR &&
	    __target_receives_writes(rep);
	spin_unlock_irqrestore(&rep->lock, flags);
	return r;
}

int replica_map(struct dm_target *ti, struct bio *bio)
{
	struct replica_dev *dev = ti->private;
	struct replica *rep = dev->rep;
	struct replica_io *io = dm_per_bio_data(bio, sizeof(*io));
	u64 region;

	bio->bi_iter.bi_sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	io->rep = rep;
	io->view = dev->view;
	io->tracked = false;
	io->flush_target = false;

	if (dev->view)
		return replica_pit_map_view(dev, bio);

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
		if (rep->sync_type != REPLICA_SYNC_MIRROR)
			return replica_pit_map_origin(rep, bio);
		return process_write(rep, bio, false);
	}
}

/*
 * A failed target flush fails the target leg, not the host's flush
 * (unless fail_host_on_target_error): source I/O goes on.
 */
int replica_end_io(struct dm_target *ti, struct bio *bio,
		   blk_status_t *error)
{
	struct replica_dev *dev = ti->private;
	struct replica_io *io = dm_per_bio_data(bio, sizeof(*io));
	struct replica *rep = dev->rep;
	unsigned long flags;
	bool news;

	if (!io->flush_target || !*error)
		return dev->view ? replica_pit_end_io(ti, bio, error) :
				   DM_ENDIO_DONE;
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

void replica_defer_bio(struct replica *rep, struct bio *bio)
{
	unsigned long flags;

	spin_lock_irqsave(&rep->lock, flags);
	bio_list_add(&rep->deferred, bio);
	spin_unlock_irqrestore(&rep->lock, flags);
	replica_wake_worker(rep);
}

void replica_process_bios(struct replica *rep, struct bio_list *bios)
{
	struct blk_plug plug;
	struct bio *bio;

	blk_start_plug(&plug);
	while ((bio = bio_list_pop(bios))) {
		struct replica_io *io = dm_per_bio_data(bio, sizeof(*io));

		if (io->view || rep->sync_type != REPLICA_SYNC_MIRROR)
			replica_pit_process(rep, bio);
		else if (bio_op(bio) == REQ_OP_DISCARD)
			process_discard(rep, bio);
		else
			process_write(rep, bio, true);
	}
	blk_finish_plug(&plug);
}

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
	/* Mirror: writes in flight would race the copy. */
	return rep->sync_type != REPLICA_SYNC_MIRROR || !e->pending;
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
	    (rep->sync_type == REPLICA_SYNC_SNAPSHOT && !rep->restoring))
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
 * Can any copy run at all (legs and metadata)?  When not, bios held for a
 * copy are decided again: they fail or go on without it.
 */
bool __replica_copies_possible(struct replica *rep)
{
	lockdep_assert_held(&rep->lock);
	if (rep->md_mode != MD_RW || rep->target_health != HEALTH_ALIVE ||
	    rep->source_health == HEALTH_WRITE_ERROR ||
	    rep->source_health == HEALTH_FLUSH_ERROR)
		return false;
	/* A snapshot or clone that lost its point in time copies nothing. */
	return rep->sync_type == REPLICA_SYNC_MIRROR ||
	       rep->copy_state != REPLICA_CS_BROKEN;
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
		if (region == U64_MAX || !budget ||
		    __replica_pit_copy_place(rep, region, &spare_slot)) {
			spin_unlock_irq(&rep->lock);
			break;
		}
		e = __replica_get_entry(rep, region, &spare);
		if (!e) {
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
		stored = __replica_target_sector(rep, region, start);
		if (priority) {
			e->batch = 1;
			len = min_t(sector_t, rep->region_sectors,
				    rep->len - start);
		} else {
			len = __extend_copy(rep, e, budget);
		}
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
			if (rep->sync_type == REPLICA_SYNC_MIRROR) {
				__replica_clear_nosync(rep, e->region);
			} else {
				/* Held bios wait for the commit of the bit. */
				__replica_pit_copied(rep, e);
				continue;
			}
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
		if (rep->restoring && rep->sync_type != REPLICA_SYNC_MIRROR) {
			__replica_pit_restore_done(rep);
		} else {
			rep->restoring = false;
			rep->initial_sync = false;
			__replica_set_state(rep, REPLICA_CS_SYNCHRONIZED);
		}
	}
	spin_unlock_irq(&rep->lock);
	wake_up_all(&rep->copy_wait);
}

/* Release writes held at the lag bound, e.g. before a suspend. */
void replica_release_throttled(struct replica *rep)
{
	struct bio_list bios = BIO_EMPTY_LIST;

	spin_lock_irq(&rep->lock);
	bio_list_merge(&bios, &rep->throttled);
	bio_list_init(&rep->throttled);
	spin_unlock_irq(&rep->lock);
	replica_process_bios(rep, &bios);
}
