/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-replica I/O path, shared by the target methods (replica-target.c),
 * the committer and worker (replica-commit.c), the mirror path and copier
 * (replica-io.c) and the snapshot/clone path (replica-pit.c).  Functions
 * named __* expect rep->lock held (and assert it).
 */
#ifndef DM_REPLICA_IO_H
#define DM_REPLICA_IO_H

#include "replica.h"

extern struct kmem_cache *replica_entry_cache;

/* replica-commit.c: the only committer */
void replica_do_worker(struct work_struct *ws);
void replica_do_waker(struct work_struct *ws);
int replica_commit_sync(struct replica *rep, bool clean_stop);
void replica_raise_event(struct replica *rep);

/* replica-io.c */
int replica_map(struct dm_target *ti, struct bio *bio);
int replica_end_io(struct dm_target *ti, struct bio *bio,
		   blk_status_t *error);
void replica_defer_bio(struct replica *rep, struct bio *bio);
void replica_process_bios(struct replica *rep, struct bio_list *bios);
void replica_start_copies(struct replica *rep);
void replica_finish_copies(struct replica *rep, struct bio_list *release,
			   struct bio_list *failed);
void replica_release_throttled(struct replica *rep);
unsigned int replica_behind_front_pad(void);
bool replica_behind_drained(struct replica *rep);
void replica_behind_pool_drain(struct replica *rep);
void __replica_lag_reset(struct replica *rep);
u64 replica_lag_ms(struct replica *rep);
bool __replica_lag_bound_reached(struct replica *rep);

void __replica_set_state(struct replica *rep, u32 state);
bool __replica_copy_allowed(struct replica *rep);
bool __replica_copies_possible(struct replica *rep);
bool __replica_target_failed(struct replica *rep, char code);
struct region_entry *__replica_find_entry(struct replica *rep, u64 region);
struct region_entry *__replica_get_entry(struct replica *rep, u64 region,
					 struct region_entry **spare);
struct region_entry *replica_spare_entry(struct replica *rep);
void replica_put_spare(struct replica *rep, struct region_entry *spare);
void __replica_put_entry(struct replica *rep, struct region_entry *e);
void replica_free_entries(struct replica *rep);
bool __replica_mark(struct replica *rep, u64 region);
bool __replica_mark_gated(struct replica *rep, u64 region);
u64 __replica_mark_seq(struct replica *rep, struct region_entry *e,
		       u64 region);
void __replica_set_nosync(struct replica *rep, u64 region);
void __replica_clear_nosync(struct replica *rep, u64 region);

/* replica-pit.c: snapshot and clone */
int replica_pit_map_origin(struct replica *rep, struct bio *bio);
int replica_pit_map_view(struct replica_dev *dev, struct bio *bio);
int replica_pit_end_io(struct dm_target *ti, struct bio *bio,
		       blk_status_t *error);
void replica_pit_process(struct replica *rep, struct bio *bio);
void replica_pit_end_overwrite(struct bio *bio, blk_status_t status);
void __replica_pit_copied(struct replica *rep, struct region_entry *e);
void __replica_pit_restore_done(struct replica *rep);
void __replica_pit_rebuild_nosync(struct replica *rep);
void __replica_pit_new_pit(struct replica *rep);
sector_t __replica_target_sector(struct replica *rep, u64 region,
				 sector_t sector);
int __replica_pit_copy_place(struct replica *rep, u64 region,
			     struct slot_map **spare);
int replica_pit_load_store(struct replica *rep);
void replica_pit_free_store(struct replica *rep);
extern struct kmem_cache *replica_slot_cache;

#endif /* DM_REPLICA_IO_H */
