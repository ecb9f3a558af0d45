// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-replica region state: entries of regions with I/O, copies or held
 * bios (from a mempool), bitmap marks and the commit each waits for, the
 * copy map (nosync) with the age of its lag, and the relationship's state
 * predicates.  Every policy builds on these; they call nothing above.
 */
#include <linux/hash.h>
#include <linux/ktime.h>
#include <linux/mempool.h>
#include <linux/slab.h>

#include "replica.h"
#include "replica-core.h"

struct kmem_cache *replica_entry_cache;
struct kmem_cache *replica_slot_cache;	/* snapshot store slots */

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
		if (!e) {
			/* the caller defers; a freed entry wakes the worker */
			rep->entries_short = true;
			return NULL;
		}
	}
	return __insert_entry(rep, region, e);
}

/*
 * A spare entry for a decision made by the worker: it may reclaim but
 * never waits for the pool, whose entries may be pinned by marks that only
 * this worker can commit.  NULL when there is none: the decision defers.
 */
struct region_entry *replica_spare_entry(struct replica *rep)
{
	struct region_entry *e = mempool_alloc(&rep->entry_pool, GFP_NOWAIT);

	if (!e)
		e = kmem_cache_alloc(replica_entry_cache,
				     GFP_NOIO | __GFP_NORETRY | __GFP_NOWARN);
	return e;
}

void replica_put_spare(struct replica *rep, struct region_entry *spare)
{
	if (spare)
		mempool_free(spare, &rep->entry_pool);
}

void __replica_flag_clear_candidate(struct replica *rep, u64 region)
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
	__replica_flag_clear_candidate(rep, e->region);
	mempool_free(e, &rep->entry_pool);
	if (rep->entries_short) {
		rep->entries_short = false;
		replica_wake_worker(rep);
	}
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

void replica_defer_bio(struct replica *rep, struct bio *bio)
{
	unsigned long flags;

	spin_lock_irqsave(&rep->lock, flags);
	bio_list_add(&rep->deferred, bio);
	spin_unlock_irqrestore(&rep->lock, flags);
	replica_wake_worker(rep);
}

/* Complete a bio whose end_io was taken over, with its own again. */
void replica_complete_bio(struct bio *bio, blk_status_t status)
{
	struct replica_io *io = dm_per_bio_data(bio, sizeof(*io));

	bio->bi_end_io = io->saved_end_io;
	bio->bi_private = io->saved_private;
	bio->bi_status = status;
	bio_endio(bio);
}
