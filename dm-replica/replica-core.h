/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-replica: what each file offers the others.  Layers, each calling only
 * down (and up only through rep->ops):
 *
 *   replica-target.c   target glue: tables, registry, suspend/resume,
 *                      status, messages
 *   replica-mirror.c   mirror policy        replica-pit.c  snapshot/clone
 *   replica-commit.c   the worker and the only committer
 *   replica-copy.c     the background copier
 *   replica-state.c    region entries, marks, copy map, state predicates
 *   replica-metadata.c superblock, bitmap, pre-commit/commit
 *
 * Functions named __* expect rep->lock held (and assert it).
 */
#ifndef DM_REPLICA_CORE_H
#define DM_REPLICA_CORE_H

#include "replica.h"

/* replica-state.c */
extern struct kmem_cache *replica_entry_cache;
extern struct kmem_cache *replica_slot_cache;
struct region_entry *__replica_find_entry(struct replica *rep, u64 region);
struct region_entry *__replica_get_entry(struct replica *rep, u64 region,
					 struct region_entry **spare);
struct region_entry *replica_spare_entry(struct replica *rep);
void replica_put_spare(struct replica *rep, struct region_entry *spare);
void __replica_put_entry(struct replica *rep, struct region_entry *e);
void replica_free_entries(struct replica *rep);
void __replica_flag_clear_candidate(struct replica *rep, u64 region);
bool __replica_mark(struct replica *rep, u64 region);
bool __replica_mark_gated(struct replica *rep, u64 region);
u64 __replica_mark_seq(struct replica *rep, struct region_entry *e,
		       u64 region);
void __replica_set_nosync(struct replica *rep, u64 region);
void __replica_clear_nosync(struct replica *rep, u64 region);
void __replica_lag_reset(struct replica *rep);
u64 replica_lag_ms(struct replica *rep);
void __replica_set_state(struct replica *rep, u32 state);
bool __replica_copy_allowed(struct replica *rep);
bool __replica_copies_possible(struct replica *rep);
bool __replica_target_failed(struct replica *rep, char code);
void replica_defer_bio(struct replica *rep, struct bio *bio);
void replica_complete_bio(struct bio *bio, blk_status_t status);

/* replica-copy.c */
void replica_start_copies(struct replica *rep);
void replica_finish_copies(struct replica *rep, struct bio_list *release,
			   struct bio_list *failed);

/* replica-commit.c */
void replica_do_worker(struct work_struct *ws);
void replica_do_waker(struct work_struct *ws);
int replica_commit_sync(struct replica *rep, bool clean_stop);
void replica_raise_event(struct replica *rep);

/* replica-mirror.c */
extern const struct replica_type_ops replica_mirror_ops;
void replica_release_throttled(struct replica *rep);
unsigned int replica_behind_front_pad(void);
bool replica_behind_drained(struct replica *rep);
void replica_behind_pool_drain(struct replica *rep);

/* replica-pit.c */
extern const struct replica_type_ops replica_pit_ops;
int replica_pit_map_view(struct replica_dev *dev, struct bio *bio);
void __replica_pit_rebuild_nosync(struct replica *rep);
void __replica_pit_new_pit(struct replica *rep);
int replica_pit_load_store(struct replica *rep);
void replica_pit_free_store(struct replica *rep);

#endif /* DM_REPLICA_CORE_H */
