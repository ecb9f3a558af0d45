/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-replica I/O path, called by the target methods.
 */
#ifndef DM_REPLICA_IO_H
#define DM_REPLICA_IO_H

#include "replica.h"

extern struct kmem_cache *replica_entry_cache;

int replica_map(struct dm_target *ti, struct bio *bio);
void replica_defer_bio(struct replica *rep, struct bio *bio);
void replica_do_worker(struct work_struct *ws);
void replica_do_waker(struct work_struct *ws);
void replica_release_throttled(struct replica *rep);
int replica_commit(struct replica *rep, bool clear, bool clean_shutdown,
		   struct bio_list *release);
void __replica_set_state(struct replica *rep, u32 state);
u64 replica_lag_ms(struct replica *rep);

#endif /* DM_REPLICA_IO_H */
