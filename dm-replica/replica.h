/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-replica: shared definitions of the target.
 */
#ifndef DM_REPLICA_H
#define DM_REPLICA_H

#include <linux/bio.h>
#include <linux/device-mapper.h>
#include <linux/dm-kcopyd.h>
#include <linux/list.h>
#include <linux/mempool.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "replica-metadata.h"

#define DM_MSG_PREFIX "replica"

#define REPLICA_HASH_BITS	10

/* Region entries kept in reserve, so the worker always makes progress. */
#define REPLICA_MIN_ENTRIES	64

/*
 * Async mirror: host data copied for the target (write-behind) at most,
 * per relationship.  Beyond it, writes fall back to marking the region
 * for a background copy.
 */
#define REPLICA_BEHIND_MAX_BYTES	(8U << 20)

/*
 * Pages a relationship keeps for write-behind copies once they land, so
 * the next ones skip the page allocator (and its zeroing).  Returned to
 * the system when the last device suspends.
 */
#define REPLICA_BEHIND_POOL_PAGES	256

/* Leg health, shown as one character each in the status. */
enum replica_health {
	HEALTH_ALIVE = 'A',
	HEALTH_WRITE_ERROR = 'D',
	HEALTH_READ_ERROR = 'R',
	HEALTH_FLUSH_ERROR = 'F',
};

enum replica_md_mode {
	MD_RW,
	MD_RO,		/* a commit failed: nothing more is written */
};

enum replica_lag_policy {
	LAG_THROTTLE,
	LAG_FALLBEHIND,
};

/* Tunables: table core arguments, changeable by the "set" message. */
struct replica_tunables {
	unsigned int copy_rate_max;	/* KiB/s, 0 = unlimited */
	unsigned int copy_rate_min;	/* KiB/s under foreground load */
	unsigned int copy_inflight;	/* regions */
	unsigned int max_lag_regions;
	unsigned int max_lag_ms;
	unsigned int lag_policy;	/* enum replica_lag_policy */
	unsigned int commit_ms;
};

/*
 * A region with I/O in flight, a copy running or bios waiting on it.
 * Only such regions have an entry, so memory is bounded by what is in
 * flight.
 */
struct region_entry {
	struct hlist_node hash;
	struct list_head list;		/* on copy/commit waiting lists */
	u64 region;
	unsigned int pending;		/* writes in flight */
	unsigned int behind;		/* of which write-behinds (async) */
	u64 mark_seq;			/* commit that makes its mark durable */
	struct replica *rep;		/* for the kcopyd callback */
	bool copying;
	bool copy_to_source;		/* the running copy restores */
	unsigned int batch;		/* regions in the copy this one leads */
	struct bio *overwrite;		/* view bio replacing the copy */
	int copy_error;			/* read side of the copy failed */
	int copy_write_error;		/* write side of the copy failed */
	struct bio_list waiting;	/* bios held until copy/commit */
};

/*
 * One relationship, shared by every table that names its metadata device:
 * the origin (stacked over the source) and, for snapshot and clone, the
 * view of the point-in-time image; during a reload the old and the new
 * table of a device share it too.
 */
/* A preserved region's place in a snapshot store smaller than the source. */
struct slot_map {
	struct hlist_node hash;
	u64 region;
	u64 slot;
};

struct replica {
	struct list_head registry;	/* all relationships, by metadata dev */
	const struct replica_type_ops *ops;
	refcount_t ref;
	dev_t meta_devt;
	struct block_device *meta_bdev;
	struct block_device *source_bdev;
	struct block_device *target_bdev;
	sector_t len;			/* source sectors covered */
	struct list_head devs;		/* struct replica_dev, under lock */
	unsigned int active_devs;	/* resumed devices */
	unsigned int active_origins;	/* resumed origin devices */

	u32 sync_type;			/* enum replica_sync_type */
	u32 mode;			/* enum replica_mode */
	u32 region_sectors;
	unsigned int region_shift;
	u64 nr_regions;

	/* Feature arguments. */
	bool nosync;
	bool fail_host_on_target_error;
	bool start_inactive;
	bool no_discard_passdown;

	struct replica_tunables tun;

	/*
	 * lock guards: the metadata bitmap, nosync, counters, the entry
	 * hash, the bio lists and the state below.  Taken from bio endio
	 * (irq) context, so always irq-safe.
	 */
	spinlock_t lock;
	struct replica_metadata md;
	unsigned long *nosync_map;	/* 1 = region contents may differ */
	u64 nosync_count;
	u64 marked_count;		/* bits set in the metadata bitmap */
	struct hlist_head hash[1 << REPLICA_HASH_BITS];
	unsigned int entries;
	bool entries_short;		/* a decision deferred for want of one */

	u32 copy_state;			/* enum replica_copy_state */
	bool restoring;			/* copy direction target -> source */
	bool initial_sync;		/* first full copy after format */
	bool suspended;			/* no device resumed */
	char source_health;
	char target_health;
	int md_mode;			/* enum replica_md_mode */
	bool state_changed;		/* raise a dm event from the worker */
	u64 pit_ns;

	/* Commits (replica-commit.c); sequences live in md. */
	bool commit_requested;
	bool clean_stop_requested;	/* next commit: the last device stopped */
	bool vouch_target;		/* changes since the last pre-commit */
	bool vouch_source;		/* vouch for data on these legs */
	bool fold_pending;		/* target failed: marks -> nosync */
	u64 fold_cursor;
	struct bio_list gated;		/* discards waiting for their marks */
	unsigned long last_clear;	/* jiffies of the last idle-mark pass */
	unsigned long *clear_candidates;	/* bitmap blocks with idle marks */
	unsigned long *clear_aged;	/* candidates that aged a full period */
	unsigned long *clear_eligible;	/* scratch of one idle-mark pass */

	struct bio_list deferred;	/* writes map() could not issue */
	struct bio_list held_discards;	/* async: wait for a quiet range */
	unsigned int async_discards;	/* async: on both legs, in flight */
	struct bio_list throttled;	/* async writes held at the lag bound */
	struct list_head commit_wait;	/* entries waiting for their mark */
	struct list_head copy_done;	/* entries whose copy finished */
	struct list_head priority_copies;
	struct list_head release_ready;	/* entries whose held bios may go */
	struct mutex devs_lock;		/* devs list, for events */

	/* Background copy. */
	struct dm_kcopyd_client *kcopyd;
	unsigned int copies_in_flight;
	u64 copy_cursor;
	unsigned long rate_window;	/* jiffies at window start */
	u64 rate_window_bytes;
	unsigned long last_user_io;	/* jiffies */
	u64 lag_since_ns;		/* 0 when no region is marked nosync */
	/*
	 * Age of the marked regions (mirror): they are counted in the newer
	 * of two generations; when the older one has been copied entirely,
	 * the newer becomes the older and the next mark starts a new one.
	 * The lag's age is the older generation's start, so it follows how
	 * long marks wait for their copy, not how long a load has run.
	 */
	unsigned long *lag_gen_map;	/* a marked region's generation */
	u64 lag_gen_count[2];
	u64 lag_gen_start_ns[2];
	unsigned int lag_gen_old;	/* index of the older generation */
	u64 regions_copied;		/* since load, for status */

	/* Snapshot store smaller than the source (store_slots != 0). */
	u64 store_slots;
	u64 slots_used;
	bool overflow;			/* the store is full: PIT lost */
	struct hlist_head slots[1 << REPLICA_HASH_BITS];
	u64 copy_errors;

	/* Async write-behind: copies of host data in flight to the target. */
	unsigned int behind_inflight;
	unsigned int behind_bytes;
	u64 behind_regions;		/* regions with one in flight */
	struct list_head behind_list;	/* in flight, oldest first */
	u64 behind_oldest_ns;		/* start of the oldest, 0 if none */
	struct list_head behind_pool;	/* free pages, linked by lru */
	unsigned int behind_pool_pages;

	mempool_t entry_pool;
	struct bio_set bs;
	struct bio_set behind_bs;	/* write-behind bios with their pages */
	struct workqueue_struct *wq;
	struct work_struct worker;
	struct delayed_work waker;
	wait_queue_head_t copy_wait;

};

/*
 * What a sync type does with the shared machinery (mirror in
 * replica-mirror.c, snapshot and clone in replica-pit.c).  Called with
 * rep->lock held where the name of the caller says so (copy_place,
 * target_sector, copied, all_copied).
 */
struct replica_type_ops {
	/* Origin bios from map(), and decided again by the worker. */
	int (*map)(struct replica *rep, struct bio *bio);
	void (*process)(struct replica *rep, struct bio *bio);
	int (*end_io)(struct replica *rep, struct bio *bio,
		      blk_status_t *error);
	/* Worker: bios to decide again now; marks to tidy before a commit. */
	void (*collect)(struct replica *rep, struct bio_list *bios);
	void (*tidy)(struct replica *rep, bool clean_stop, bool due);
	/* Copier: what runs in the background, where a copy goes. */
	bool (*background_copies)(struct replica *rep);
	bool copies_wait_for_io;	/* host writes in flight race a copy */
	int (*copy_place)(struct replica *rep, u64 region,
			  struct slot_map **spare);
	sector_t (*target_sector)(struct replica *rep, u64 region,
				  sector_t sector);
	/* A copy ended well; true when its bios wait for a commit. */
	bool (*copied)(struct replica *rep, struct region_entry *e);
	/* Nothing left to copy. */
	void (*all_copied)(struct replica *rep);
};

/* One table (target instance) of a relationship. */
struct replica_dev {
	struct list_head list;		/* in replica->devs */
	struct dm_target *ti;
	struct replica *rep;
	struct dm_dev *meta_dev;
	struct dm_dev *source_dev;
	struct dm_dev *target_dev;
	bool view;			/* the point-in-time view */
	bool read_only;			/* view only: refuse writes */
	bool resumed;
	bool live;			/* resumed once: messages update it */

	/* Origin table parameters, applied to the relationship at resume. */
	u32 mode;
	bool nosync;
	bool fail_host_on_target_error;
	bool start_inactive;
	bool no_discard_passdown;
	struct replica_tunables tun;
};

/* Per-bio data. */
struct replica_io {
	struct replica *rep;
	u64 region;
	atomic_t pending;
	blk_status_t source_status;
	blk_status_t target_status;
	bio_end_io_t *saved_end_io;
	void *saved_private;
	bool to_target;
	bool tracked;			/* counted in an entry's pending */
	bool behind;			/* async: data also written behind */
	bool async_discard;		/* counted in async_discards */
	bool flush_target;		/* the host flush's target bio */
	u64 commit_seq;			/* gated discard: commit it waits for */
	unsigned long held_since;	/* jiffies: async discard first held */
	sector_t target_sector;		/* view: where the region is stored */
	bool view;			/* issued by the view device */
};

static inline sector_t region_to_sector(struct replica *rep, u64 region)
{
	return (sector_t)region << rep->region_shift;
}

static inline u64 sector_to_region(struct replica *rep, sector_t sector)
{
	return sector >> rep->region_shift;
}

/* Regions whose latest data the target may not hold yet (async lag). */
static inline u64 __replica_lag_regions(struct replica *rep)
{
	return rep->nosync_count + rep->behind_regions;
}

const char *replica_copy_state_name(u32 state);

static inline void replica_wake_worker(struct replica *rep)
{
	queue_work(rep->wq, &rep->worker);
}

#endif /* DM_REPLICA_H */
