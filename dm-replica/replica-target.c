// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-replica: mirror, snapshot and clone replication target.
 *
 * This file holds the target methods: table parsing, the registry of
 * relationships, suspend/resume, status and messages.  replica-core.h
 * lists the other files and what each is for.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "replica.h"
#include "replica-core.h"

static const struct replica_tunables default_tunables = {
	.copy_rate_max = 0,
	.copy_rate_min = 4096,
	.copy_inflight = 16,
	.max_lag_regions = 1024,
	.max_lag_ms = 5000,
	.lag_policy = LAG_THROTTLE,
	.commit_ms = 1000,
};

/* ---- Names ---- */
const char *replica_copy_state_name(u32 state)
{
	switch (state) {
	case REPLICA_CS_INITIALIZED:	return "initialized";
	case REPLICA_CS_UNSYNCHRONIZED:	return "unsynchronized";
	case REPLICA_CS_SYNCHRONIZED:	return "synchronized";
	case REPLICA_CS_BROKEN:		return "broken";
	case REPLICA_CS_FRACTURED:	return "fractured";
	case REPLICA_CS_SPLIT:		return "split";
	case REPLICA_CS_INACTIVE:	return "inactive";
	case REPLICA_CS_SUSPENDED:	return "suspended";
	case REPLICA_CS_ABORTED:	return "aborted";
	case REPLICA_CS_SKEWED:		return "skewed";
	case REPLICA_CS_RESTORED:	return "restored";
	}
	return "unknown";
}

static const char *sync_type_name(u32 sync_type)
{
	switch (sync_type) {
	case REPLICA_SYNC_MIRROR:	return "mirror";
	case REPLICA_SYNC_SNAPSHOT:	return "snapshot";
	case REPLICA_SYNC_CLONE:	return "clone";
	}
	return "unknown";
}

static const char *mode_name(u32 mode)
{
	return mode == REPLICA_MODE_ASYNC ? "async" : "sync";
}

static int parse_sync_type(const char *arg, u32 *sync_type)
{
	if (!strcmp(arg, "mirror") || !strcmp(arg, "6"))
		*sync_type = REPLICA_SYNC_MIRROR;
	else if (!strcmp(arg, "snapshot") || !strcmp(arg, "7"))
		*sync_type = REPLICA_SYNC_SNAPSHOT;
	else if (!strcmp(arg, "clone") || !strcmp(arg, "8"))
		*sync_type = REPLICA_SYNC_CLONE;
	else
		return -EINVAL;
	return 0;
}

static int parse_mode(const char *arg, u32 *mode)
{
	if (!strcmp(arg, "sync") || !strcmp(arg, "2"))
		*mode = REPLICA_MODE_SYNC;
	else if (!strcmp(arg, "async") || !strcmp(arg, "3"))
		*mode = REPLICA_MODE_ASYNC;
	else
		return -EINVAL;
	return 0;
}

/* ---- Tunables (core arguments and the "set" message) ---- */
struct tunable_desc {
	const char *name;
	size_t offset;
	unsigned int min, max;
};

#define TUNABLE(n, lo, hi) \
	{ #n, offsetof(struct replica_tunables, n), lo, hi }

static const struct tunable_desc tunable_descs[] = {
	TUNABLE(copy_rate_max, 0, UINT_MAX),
	TUNABLE(copy_rate_min, 0, UINT_MAX),
	TUNABLE(copy_inflight, 1, 1024),
	TUNABLE(max_lag_regions, 0, UINT_MAX),
	TUNABLE(max_lag_ms, 0, 3600000),
	TUNABLE(lag_policy, 0, 1),
	TUNABLE(commit_ms, 10, 60000),
};

static unsigned int *tunable_ptr(struct replica_tunables *tun,
				 const struct tunable_desc *d)
{
	return (unsigned int *)((char *)tun + d->offset);
}

static int find_tunable(const char *key)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(tunable_descs); i++)
		if (!strcmp(key, tunable_descs[i].name))
			return i;
	return -1;
}

static int set_tunable(struct replica_tunables *tun, const char *key,
		       const char *value, char **error)
{
	unsigned int i, v;

	for (i = 0; i < ARRAY_SIZE(tunable_descs); i++) {
		const struct tunable_desc *d = &tunable_descs[i];

		if (strcmp(key, d->name))
			continue;
		if (d->offset == offsetof(struct replica_tunables, lag_policy)) {
			if (!strcmp(value, "throttle")) {
				v = LAG_THROTTLE;
			} else if (!strcmp(value, "fallbehind")) {
				v = LAG_FALLBEHIND;
			} else {
				*error = "lag_policy must be throttle or fallbehind";
				return -EINVAL;
			}
		} else if (kstrtouint(value, 10, &v) || v < d->min || v > d->max) {
			*error = "Core argument value out of range";
			return -EINVAL;
		}
		WRITE_ONCE(*tunable_ptr(tun, d), v);
		return 0;
	}
	*error = "Unknown core argument";
	return -EINVAL;
}

/* ---- Table parsing ---- */

/*
 * The count of an argument group, 0..max, with that many arguments
 * following.  (dm_read_arg_group's sscanf("%u") wraps 4294967297 to 1.)
 */
static int read_group_count(struct dm_arg_set *as, unsigned int max,
			    unsigned int *count, char *what, char **error)
{
	const char *arg = dm_shift_arg(as);

	/* Out of range, or more than the arguments that follow. */
	if (!arg || kstrtouint(arg, 10, count) || *count > max ||
	    *count > as->argc) {
		*error = what;
		return -EINVAL;
	}
	return 0;
}

/* A flag set twice is refused: one line, one meaning. */
static int set_flag(bool *flag, char **error)
{
	if (*flag) {
		*error = "Feature argument given twice";
		return -EINVAL;
	}
	*flag = true;
	return 0;
}

static int parse_features(struct replica_dev *dev, u32 sync_type,
			  struct dm_arg_set *as, char **error)
{
	unsigned int argc;
	const char *arg;
	int r;

	if (!as->argc)
		return 0;
	r = read_group_count(as, 4, &argc,
			     "Invalid number of feature arguments", error);
	if (r)
		return r;
	while (argc--) {
		arg = dm_shift_arg(as);
		if (dev->view && (!strcmp(arg, "ro") || !strcmp(arg, "read_only")))
			r = set_flag(&dev->read_only, error);
		else if (dev->view)
			goto unknown;
		else if (!strcmp(arg, "nosync"))
			r = set_flag(&dev->nosync, error);
		else if (!strcmp(arg, "fail_host_on_target_error"))
			r = set_flag(&dev->fail_host_on_target_error, error);
		else if (!strcmp(arg, "start_inactive"))
			r = set_flag(&dev->start_inactive, error);
		else if (!strcmp(arg, "no_discard_passdown"))
			r = set_flag(&dev->no_discard_passdown, error);
		else
			goto unknown;
		if (r)
			return r;
	}
	if (dev->nosync && sync_type != REPLICA_SYNC_MIRROR) {
		*error = "nosync is for a mirror: a snapshot or clone copies what it needs";
		return -EINVAL;
	}
	return 0;
unknown:
	*error = "Unknown feature argument";
	return -EINVAL;
}

static int parse_core_args(struct replica_dev *dev, struct dm_arg_set *as,
			   char **error)
{
	unsigned long seen = 0;
	unsigned int argc;
	int r, i;

	BUILD_BUG_ON(ARRAY_SIZE(tunable_descs) > BITS_PER_LONG);
	if (!as->argc)
		return 0;
	if (dev->view) {
		*error = "A view takes no core arguments";
		return -EINVAL;
	}
	r = read_group_count(as, 2 * ARRAY_SIZE(tunable_descs), &argc,
			     "Invalid number of core arguments", error);
	if (r)
		return r;
	if (argc % 2) {
		*error = "Core arguments must be key value pairs";
		return -EINVAL;
	}
	for (; argc; argc -= 2) {
		const char *key = dm_shift_arg(as);
		const char *value = dm_shift_arg(as);

		i = find_tunable(key);
		if (i >= 0 && __test_and_set_bit(i, &seen)) {
			*error = "Core argument given twice";
			return -EINVAL;
		}
		r = set_tunable(&dev->tun, key, value, error);
		if (r)
			return r;
	}
	return 0;
}

static int get_dev(struct dm_target *ti, const char *path,
		   struct dm_dev **dev, char **error, char *what)
{
	int r = dm_get_device(ti, path, dm_table_get_mode(ti->table), dev);

	if (r)
		*error = what;
	return r;
}

static bool region_fits_block_size(u32 region_sectors, struct dm_dev *dev)
{
	return !((region_sectors << SECTOR_SHIFT) %
		 bdev_logical_block_size(dev->bdev));
}

/*
 * replica <sync type> <mode> <meta> <source> <target> <region> [...]
 * replica view <sync type> <meta> <source> <target> <region> [1 ro]
 */
static int parse_table(struct replica_dev *dev, unsigned int argc,
		       char **argv, u32 *sync_type, u32 *region_sectors)
{
	struct dm_target *ti = dev->ti;
	struct dm_arg_set as = { .argc = argc, .argv = argv };
	char **error = &ti->error;
	int r;

	if (argc < 6) {
		*error = "Invalid argument count: expected at least 6";
		return -EINVAL;
	}
	if (!strcmp(argv[0], "view")) {
		dev->view = true;
		dm_shift_arg(&as);
	}
	if (parse_sync_type(dm_shift_arg(&as), sync_type)) {
		*error = "Invalid sync type: expected mirror, snapshot or clone";
		return -EINVAL;
	}
	if (dev->view && *sync_type == REPLICA_SYNC_MIRROR) {
		*error = "A mirror has no view: use the target device itself";
		return -EINVAL;
	}
	if (!dev->view && parse_mode(dm_shift_arg(&as), &dev->mode)) {
		*error = "Invalid mode: expected sync or async";
		return -EINVAL;
	}
	if (!dev->view && *sync_type == REPLICA_SYNC_SNAPSHOT &&
	    dev->mode != REPLICA_MODE_SYNC) {
		*error = "A snapshot has no asynchronous mode";
		return -EINVAL;
	}
	if (as.argc < 4) {
		*error = "Invalid argument count: devices and region size expected";
		return -EINVAL;
	}

	r = get_dev(ti, dm_shift_arg(&as), &dev->meta_dev, error,
		    "Cannot open metadata device");
	if (!r)
		r = get_dev(ti, dm_shift_arg(&as), &dev->source_dev, error,
			    "Cannot open source device");
	if (!r)
		r = get_dev(ti, dm_shift_arg(&as), &dev->target_dev, error,
			    "Cannot open target device");
	if (r)
		return r;
	if (dev->meta_dev->bdev == dev->source_dev->bdev ||
	    dev->meta_dev->bdev == dev->target_dev->bdev ||
	    dev->source_dev->bdev == dev->target_dev->bdev) {
		*error = "Metadata, source and target must be distinct devices";
		return -EINVAL;
	}

	if (kstrtouint(dm_shift_arg(&as), 10, region_sectors) ||
	    !replica_region_size_valid(*region_sectors)) {
		*error = "Invalid region size: a power of two from 8 to 2097152 sectors";
		return -EINVAL;
	}
	if (!region_fits_block_size(*region_sectors, dev->source_dev) ||
	    !region_fits_block_size(*region_sectors, dev->target_dev)) {
		*error = "Region size is not a multiple of the logical block size";
		return -EINVAL;
	}
	if (bdev_nr_sectors(dev->source_dev->bdev) < ti->len) {
		*error = "Source device is smaller than the table length";
		return -EINVAL;
	}
	/* Only a snapshot may keep its regions in a smaller store. */
	if (bdev_nr_sectors(dev->target_dev->bdev) < ti->len &&
	    *sync_type != REPLICA_SYNC_SNAPSHOT) {
		*error = "Target device is smaller than the table length";
		return -EINVAL;
	}
	if (bdev_nr_sectors(dev->target_dev->bdev) < *region_sectors) {
		*error = "Target device is smaller than one region";
		return -EINVAL;
	}

	r = parse_features(dev, *sync_type, &as, error);
	if (!r)
		r = parse_core_args(dev, &as, error);
	if (!r && as.argc) {
		*error = "Too many arguments";
		r = -EINVAL;
	}
	return r;
}

/* ---- Relationship state ---- */
static void free_state(struct replica *rep)
{
	kvfree(rep->nosync_map);
	kvfree(rep->lag_gen_map);
	bitmap_free(rep->clear_candidates);
	bitmap_free(rep->clear_aged);
	rep->nosync_map = NULL;
	rep->lag_gen_map = NULL;
	bitmap_free(rep->clear_eligible);
	rep->clear_candidates = NULL;
	rep->clear_aged = NULL;
	rep->clear_eligible = NULL;
}

static unsigned long *alloc_region_map(u64 nr_regions)
{
	return kvcalloc(BITS_TO_LONGS(nr_regions), sizeof(unsigned long),
			GFP_KERNEL);
}

/* Build the in-core state from freshly opened metadata. */
static int load_state(struct replica *rep, bool start_inactive)
{
	struct replica_metadata *md = &rep->md;
	u64 cap = md->sb.capacity_blocks;

	rep->nr_regions = md->sb.nr_regions;
	rep->nosync_map = alloc_region_map(rep->nr_regions);
	rep->clear_candidates = bitmap_zalloc(cap, GFP_KERNEL);
	rep->clear_aged = bitmap_zalloc(cap, GFP_KERNEL);
	rep->clear_eligible = bitmap_zalloc(cap, GFP_KERNEL);
	if (!rep->nosync_map || !rep->clear_candidates || !rep->clear_aged ||
	    !rep->clear_eligible)
		return -ENOMEM;
	/* Only a mirror has a lag (its mode may change on reload). */
	if (rep->sync_type == REPLICA_SYNC_MIRROR) {
		rep->lag_gen_map = alloc_region_map(rep->nr_regions);
		if (!rep->lag_gen_map)
			return -ENOMEM;
	}

	rep->marked_count = replica_md_weight(md);
	if (!md->formatted && !md->clean_shutdown && rep->marked_count)
		DMINFO("%pUb: not stopped cleanly: %llu marked regions",
		       md->sb.uuid, rep->marked_count);

	rep->copy_state = md->sb.copy_state;
	rep->restoring = md->sb.flags & REPLICA_SB_RESTORING;
	rep->pit_ns = md->sb.pit_ns;
	rep->source_health = HEALTH_ALIVE;
	rep->target_health = HEALTH_ALIVE;
	rep->md_mode = MD_RW;
	rep->commit_requested = true;
	rep->suspended = true;

	spin_lock_irq(&rep->lock);
	if (rep->sync_type == REPLICA_SYNC_MIRROR) {
		/* Every marked region may differ: copy it again. */
		replica_md_to_map(md, rep->nosync_map, false);
		rep->nosync_count = rep->marked_count;
		__replica_lag_reset(rep);
		if (rep->copy_state == REPLICA_CS_SYNCHRONIZED &&
		    rep->nosync_count)
			rep->copy_state = REPLICA_CS_UNSYNCHRONIZED;
	} else {
		__replica_pit_rebuild_nosync(rep);
	}
	spin_unlock_irq(&rep->lock);
	if (rep->sync_type != REPLICA_SYNC_MIRROR) {
		if (!rep->pit_ns)
			rep->pit_ns = ktime_get_real_ns();
		if (replica_pit_load_store(rep))
			return -ENOMEM;
	}

	rep->initial_sync = md->sb.flags & REPLICA_SB_INITIAL_COPY;
	if (rep->copy_state == REPLICA_CS_INITIALIZED && !start_inactive) {
		/* With nosync there is no initial copy to report. */
		rep->initial_sync = rep->nosync_count > 0;
		if (rep->sync_type == REPLICA_SYNC_SNAPSHOT || !rep->nosync_count)
			rep->copy_state = REPLICA_CS_SYNCHRONIZED;
		else
			rep->copy_state = REPLICA_CS_UNSYNCHRONIZED;
	}
	return 0;
}

/* Origin table parameters take effect when its table is resumed. */
static void apply_origin_params(struct replica *rep, struct replica_dev *dev)
{
	spin_lock_irq(&rep->lock);
	if (rep->mode != dev->mode) {
		rep->mode = dev->mode;
		rep->commit_requested = true;
	}
	rep->fail_host_on_target_error = dev->fail_host_on_target_error;
	rep->no_discard_passdown = dev->no_discard_passdown;
	rep->start_inactive = dev->start_inactive;
	rep->nosync = dev->nosync;
	rep->tun = dev->tun;
	spin_unlock_irq(&rep->lock);
}

/* Set bits [start, start + n) of a region map (any size, word by word). */
static void set_region_range(unsigned long *map, u64 start, u64 n)
{
	while (n) {
		unsigned int chunk = min_t(u64, n, 1U << 30);

		bitmap_set(map + BIT_WORD(start), start % BITS_PER_LONG, chunk);
		start += chunk;
		n -= chunk;
	}
}

/*
 * A larger origin table grows a mirror: the new regions are marked and
 * copied.  Everything that may sleep happens before the lock; under it
 * the work is O(regions / 64).
 */
static int grow(struct replica *rep, sector_t len)
{
	u64 regions = replica_nr_regions(len, rep->region_sectors);
	unsigned long *map, *old, *gen_map, *old_gen_map;
	struct replica_md_growth growth;
	char *error = NULL;
	u64 old_regions;
	int ret;

	if (len <= rep->len)
		return 0;
	if (rep->sync_type != REPLICA_SYNC_MIRROR) {
		DMERR("resizing a snapshot or clone is not supported");
		return -EINVAL;
	}
	map = alloc_region_map(regions);
	gen_map = alloc_region_map(regions);
	if (!map || !gen_map) {
		kvfree(map);
		kvfree(gen_map);
		return -ENOMEM;
	}
	ret = replica_md_grow_prepare(&rep->md, len,
				      bdev_nr_sectors(rep->target_bdev),
				      &growth, &error);
	if (ret) {
		kvfree(map);
		kvfree(gen_map);
		DMERR("%s: %s", __func__, error);
		return ret;
	}

	spin_lock_irq(&rep->lock);
	old_regions = rep->nr_regions;
	replica_md_grow_apply(&rep->md, &growth, true);
	memcpy(map, rep->nosync_map,
	       BITS_TO_LONGS(old_regions) * sizeof(long));
	old = rep->nosync_map;
	rep->nosync_map = map;
	memcpy(gen_map, rep->lag_gen_map,
	       BITS_TO_LONGS(old_regions) * sizeof(long));
	old_gen_map = rep->lag_gen_map;
	rep->lag_gen_map = gen_map;
	/* A partial last region that grows is copied again too. */
	if (rep->len % rep->region_sectors && old_regions)
		__replica_set_nosync(rep, old_regions - 1);
	rep->nr_regions = regions;
	rep->len = len;
	/* The new regions: one generation of lag, all to copy. */
	set_region_range(rep->nosync_map, old_regions, regions - old_regions);
	rep->nosync_count += regions - old_regions;
	__replica_lag_reset(rep);
	rep->marked_count = replica_md_weight(&rep->md);
	if (rep->copy_state == REPLICA_CS_SYNCHRONIZED)
		__replica_set_state(rep, REPLICA_CS_UNSYNCHRONIZED);
	rep->commit_requested = true;
	spin_unlock_irq(&rep->lock);
	replica_md_grow_release(&rep->md, &growth);
	kvfree(old);
	kvfree(old_gen_map);
	return 0;
}

static void replica_free(struct replica *rep)
{
	/* kcopyd first: its last callbacks still queue the worker. */
	if (rep->kcopyd)
		dm_kcopyd_client_destroy(rep->kcopyd);
	if (rep->wq)
		destroy_workqueue(rep->wq);
	replica_pit_free_store(rep);
	replica_behind_pool_drain(rep);
	replica_free_entries(rep);
	replica_md_close(&rep->md);
	free_state(rep);
	mempool_exit(&rep->entry_pool);
	bioset_exit(&rep->bs);
	bioset_exit(&rep->behind_bs);
	kfree(rep);
}

static struct replica *replica_create(struct replica_dev *dev, u32 sync_type,
				      u32 region_sectors)
{
	struct dm_target *ti = dev->ti;
	struct replica_md_geometry geo = {
		.sync_type = sync_type,
		.mode = dev->view ? REPLICA_MODE_SYNC : dev->mode,
		.region_sectors = region_sectors,
		.source_sectors = ti->len,
		.target_sectors = bdev_nr_sectors(dev->target_dev->bdev),
		.all_set = sync_type == REPLICA_SYNC_MIRROR && !dev->nosync,
		.may_format = !dev->view,
	};
	struct replica *rep;
	unsigned int i;
	int r;

	rep = kzalloc(sizeof(*rep), GFP_KERNEL);
	if (!rep) {
		ti->error = "Cannot allocate replica context";
		return ERR_PTR(-ENOMEM);
	}
	refcount_set(&rep->ref, 1);
	INIT_LIST_HEAD(&rep->devs);
	mutex_init(&rep->devs_lock);
	spin_lock_init(&rep->lock);
	for (i = 0; i < ARRAY_SIZE(rep->hash); i++)
		INIT_HLIST_HEAD(&rep->hash[i]);
	for (i = 0; i < ARRAY_SIZE(rep->slots); i++)
		INIT_HLIST_HEAD(&rep->slots[i]);
	INIT_LIST_HEAD(&rep->commit_wait);
	INIT_LIST_HEAD(&rep->copy_done);
	INIT_LIST_HEAD(&rep->priority_copies);
	INIT_LIST_HEAD(&rep->release_ready);
	INIT_LIST_HEAD(&rep->behind_list);
	INIT_LIST_HEAD(&rep->behind_pool);
	bio_list_init(&rep->gated);
	bio_list_init(&rep->deferred);
	bio_list_init(&rep->held_discards);
	bio_list_init(&rep->throttled);
	init_waitqueue_head(&rep->copy_wait);
	INIT_WORK(&rep->worker, replica_do_worker);
	INIT_DELAYED_WORK(&rep->waker, replica_do_waker);

	rep->sync_type = sync_type;
	rep->ops = sync_type == REPLICA_SYNC_MIRROR ? &replica_mirror_ops :
						      &replica_pit_ops;
	rep->mode = geo.mode;
	rep->region_sectors = region_sectors;
	rep->region_shift = __ffs(region_sectors);
	rep->meta_devt = dev->meta_dev->bdev->bd_dev;
	rep->meta_bdev = dev->meta_dev->bdev;
	rep->source_bdev = dev->source_dev->bdev;
	rep->target_bdev = dev->target_dev->bdev;
	rep->tun = dev->view ? default_tunables : dev->tun;

	r = mempool_init_slab_pool(&rep->entry_pool, REPLICA_MIN_ENTRIES,
				   replica_entry_cache);
	if (r) {
		ti->error = "Cannot create region entry pool";
		goto bad;
	}
	r = bioset_init(&rep->bs, BIO_POOL_SIZE, 0, 0);
	if (!r)
		r = bioset_init(&rep->behind_bs, BIO_POOL_SIZE,
				replica_behind_front_pad(), BIOSET_NEED_BVECS);
	if (r) {
		ti->error = "Cannot create bioset";
		goto bad;
	}
	rep->wq = alloc_workqueue("dm-" DM_MSG_PREFIX, WQ_MEM_RECLAIM, 0);
	if (!rep->wq) {
		ti->error = "Cannot create workqueue";
		r = -ENOMEM;
		goto bad;
	}
	rep->kcopyd = dm_kcopyd_client_create(NULL);
	if (IS_ERR(rep->kcopyd)) {
		r = PTR_ERR(rep->kcopyd);
		rep->kcopyd = NULL;
		ti->error = "Cannot create kcopyd client";
		goto bad;
	}

	r = replica_md_open(&rep->md, rep->meta_bdev, &rep->lock, &geo,
			    &ti->error);
	if (r)
		goto bad;
	rep->len = rep->md.sb.source_sectors;
	if (dev->view && ti->len != rep->len) {
		ti->error = "View length does not match the relationship";
		r = -EINVAL;
		goto bad;
	}
	r = load_state(rep, dev->start_inactive);
	if (r) {
		ti->error = "Cannot allocate region state";
		goto bad;
	}
	return rep;
bad:
	replica_free(rep);
	return ERR_PTR(r);
}

/* ---- Registry: relationships by metadata device, shared by their tables ---- */
static LIST_HEAD(replica_registry);
static DEFINE_MUTEX(replica_registry_lock);

static struct replica *find_replica(dev_t meta)
{
	struct replica *rep;

	list_for_each_entry(rep, &replica_registry, registry)
		if (rep->meta_devt == meta)
			return rep;
	return NULL;
}

static int attach(struct replica_dev *dev, u32 sync_type, u32 region_sectors)
{
	struct dm_target *ti = dev->ti;
	struct replica *rep;

	mutex_lock(&replica_registry_lock);
	rep = find_replica(dev->meta_dev->bdev->bd_dev);
	if (rep) {
		if (rep->sync_type != sync_type ||
		    rep->region_sectors != region_sectors ||
		    rep->source_bdev != dev->source_dev->bdev ||
		    rep->target_bdev != dev->target_dev->bdev) {
			mutex_unlock(&replica_registry_lock);
			ti->error = "Metadata device is in use by a relationship with other devices or geometry";
			return -EBUSY;
		}
		if (dev->view && ti->len != rep->len) {
			mutex_unlock(&replica_registry_lock);
			ti->error = "View length does not match the relationship";
			return -EINVAL;
		}
		if (ti->len < rep->len && !dev->view) {
			mutex_unlock(&replica_registry_lock);
			ti->error = "Shrinking a replica is not supported";
			return -EINVAL;
		}
		refcount_inc(&rep->ref);
	} else {
		rep = replica_create(dev, sync_type, region_sectors);
		if (IS_ERR(rep)) {
			mutex_unlock(&replica_registry_lock);
			return PTR_ERR(rep);
		}
		list_add(&rep->registry, &replica_registry);
	}
	mutex_unlock(&replica_registry_lock);

	dev->rep = rep;
	mutex_lock(&rep->devs_lock);
	list_add_tail(&dev->list, &rep->devs);
	mutex_unlock(&rep->devs_lock);
	return 0;
}

static void detach(struct replica_dev *dev)
{
	struct replica *rep = dev->rep;

	mutex_lock(&rep->devs_lock);
	list_del(&dev->list);
	mutex_unlock(&rep->devs_lock);
	/* The worker may be raising an event on this table: let it finish. */
	flush_work(&rep->worker);

	mutex_lock(&replica_registry_lock);
	if (refcount_dec_and_test(&rep->ref)) {
		list_del(&rep->registry);
		mutex_unlock(&replica_registry_lock);
		cancel_delayed_work_sync(&rep->waker);
		flush_workqueue(rep->wq);
		replica_free(rep);
		return;
	}
	mutex_unlock(&replica_registry_lock);
}

/* ---- Target methods ---- */
static void put_devs(struct replica_dev *dev)
{
	struct dm_target *ti = dev->ti;

	if (dev->target_dev)
		dm_put_device(ti, dev->target_dev);
	if (dev->source_dev)
		dm_put_device(ti, dev->source_dev);
	if (dev->meta_dev)
		dm_put_device(ti, dev->meta_dev);
	kfree(dev);
}

static int replica_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct replica_dev *dev;
	u32 sync_type, region_sectors;
	int r;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev) {
		ti->error = "Cannot allocate replica device";
		return -ENOMEM;
	}
	dev->ti = ti;
	dev->tun = default_tunables;
	INIT_LIST_HEAD(&dev->list);

	r = parse_table(dev, argc, argv, &sync_type, &region_sectors);
	if (r)
		goto bad;
	r = dm_set_target_max_io_len(ti, region_sectors);
	if (r) {
		ti->error = "Cannot set max io length";
		goto bad;
	}
	r = attach(dev, sync_type, region_sectors);
	if (r)
		goto bad;

	ti->flush_supported = true;
	ti->per_io_data_size = sizeof(struct replica_io);
	if (dev->view) {
		ti->num_flush_bios = 1;
		ti->num_discard_bios = 1;
		/*
		 * View discards mark whole regions as needing no copy even
		 * when no leg can discard (the source never sees them).
		 */
		ti->discards_supported = true;
	} else {
		/* The target gets host flushes only as a mirror's leg. */
		ti->num_flush_bios = sync_type == REPLICA_SYNC_MIRROR ? 2 : 1;
		/* A source discard would change PIT data: mirror only. */
		ti->num_discard_bios = sync_type == REPLICA_SYNC_MIRROR;
	}
	ti->private = dev;
	return 0;
bad:
	put_devs(dev);
	return r;
}

static void replica_dtr(struct dm_target *ti)
{
	struct replica_dev *dev = ti->private;

	/* No metadata I/O here: postsuspend committed it. */
	detach(dev);
	put_devs(dev);
}

static void replica_presuspend(struct dm_target *ti)
{
	struct replica_dev *dev = ti->private;
	struct replica *rep = dev->rep;
	bool last;

	spin_lock_irq(&rep->lock);
	if (dev->resumed) {
		dev->resumed = false;
		rep->active_devs--;
		if (!dev->view)
			rep->active_origins--;
	}
	last = !rep->active_devs;
	if (last)
		rep->suspended = true;
	spin_unlock_irq(&rep->lock);
	replica_release_throttled(rep);
	/* Background copies end by themselves, with an error if a leg fails. */
	if (last)
		wait_event(rep->copy_wait, !READ_ONCE(rep->copies_in_flight));
}

static void replica_postsuspend(struct dm_target *ti)
{
	struct replica_dev *dev = ti->private;
	struct replica *rep = dev->rep;
	bool last;

	spin_lock_irq(&rep->lock);
	last = !rep->active_devs;
	spin_unlock_irq(&rep->lock);
	/* Stop the waker, drain, then commit (the worker commits). */
	if (last)
		cancel_delayed_work_sync(&rep->waker);
	/* Write-behinds hold their regions' marks; let them land first. */
	wait_event(rep->copy_wait, replica_behind_drained(rep));
	if (last)
		replica_behind_pool_drain(rep);
	/* With nothing resumed, every idle mark can go: a clean stop. */
	replica_commit_sync(rep, last);
}

static int replica_preresume(struct dm_target *ti)
{
	struct replica_dev *dev = ti->private;
	struct replica *rep = dev->rep;

	if (dev->view)
		return 0;
	apply_origin_params(rep, dev);
	return grow(rep, ti->len);
}

static void replica_resume(struct dm_target *ti)
{
	struct replica_dev *dev = ti->private;
	struct replica *rep = dev->rep;

	spin_lock_irq(&rep->lock);
	dev->live = true;
	if (!dev->resumed) {
		dev->resumed = true;
		rep->active_devs++;
		if (!dev->view)
			rep->active_origins++;
	}
	rep->suspended = false;
	rep->state_changed = true;
	spin_unlock_irq(&rep->lock);
	queue_delayed_work(rep->wq, &rep->waker, 0);
}

/* ---- Status ---- */
static const char *progress_name(struct replica *rep)
{
	switch (rep->copy_state) {
	case REPLICA_CS_INITIALIZED:
		return "pending";
	case REPLICA_CS_UNSYNCHRONIZED:
		if (rep->restoring)
			return "restoring";
		/* Hydrating a clone is always its first full copy. */
		if (rep->initial_sync || rep->sync_type == REPLICA_SYNC_CLONE)
			return "synchronizing";
		return "resyncing";
	case REPLICA_CS_SYNCHRONIZED:
		if (rep->sync_type == REPLICA_SYNC_MIRROR &&
		    __replica_lag_regions(rep))
			return "synchronizing";
		return "completed";
	}
	return "dormant";
}

static const char *md_mode_name(int mode)
{
	return mode == MD_RW ? "rw" : "ro";
}

static void emit_table(struct replica_dev *dev, char *result,
		       unsigned int maxlen, unsigned int *size)
{
	struct replica *rep = dev->rep;
	unsigned int sz = *size, i, nr_features;

	if (dev->view) {
		DMEMIT("view %s %s %s %s %u", sync_type_name(rep->sync_type),
		       dev->meta_dev->name, dev->source_dev->name,
		       dev->target_dev->name, rep->region_sectors);
		if (dev->read_only)
			DMEMIT(" 1 ro");
		*size = sz;
		return;
	}
	DMEMIT("%s %s %s %s %s %u", sync_type_name(rep->sync_type),
	       mode_name(dev->resumed ? rep->mode : dev->mode),
	       dev->meta_dev->name, dev->source_dev->name,
	       dev->target_dev->name, rep->region_sectors);
	nr_features = dev->nosync + dev->fail_host_on_target_error +
		      dev->start_inactive + dev->no_discard_passdown;
	DMEMIT(" %u", nr_features);
	if (dev->nosync)
		DMEMIT(" nosync");
	if (dev->fail_host_on_target_error)
		DMEMIT(" fail_host_on_target_error");
	if (dev->start_inactive)
		DMEMIT(" start_inactive");
	if (dev->no_discard_passdown)
		DMEMIT(" no_discard_passdown");
	DMEMIT(" %zu", 2 * ARRAY_SIZE(tunable_descs));
	for (i = 0; i < ARRAY_SIZE(tunable_descs); i++) {
		const struct tunable_desc *d = &tunable_descs[i];
		struct replica_tunables *tun = dev->resumed ? &rep->tun : &dev->tun;
		unsigned int v = READ_ONCE(*tunable_ptr(tun, d));

		if (d->offset == offsetof(struct replica_tunables, lag_policy))
			DMEMIT(" %s %s", d->name,
			       v == LAG_FALLBEHIND ? "fallbehind" : "throttle");
		else
			DMEMIT(" %s %u", d->name, v);
	}
	*size = sz;
}

static void replica_status(struct dm_target *ti, status_type_t type,
			   unsigned int status_flags, char *result,
			   unsigned int maxlen)
{
	struct replica_dev *dev = ti->private;
	struct replica *rep = dev->rep;
	unsigned int sz = 0;
	u64 in_sync, copying, marked, lag, nr, store_used, store_slots;
	u32 state, mode;
	char src, tgt;
	int md_mode;
	const char *progress;

	switch (type) {
	case STATUSTYPE_INFO:
		spin_lock_irq(&rep->lock);
		nr = rep->nr_regions;
		/* Snapshot: preserved regions; otherwise copied or restored. */
		if (rep->sync_type == REPLICA_SYNC_SNAPSHOT && !rep->restoring)
			in_sync = rep->marked_count;
		else
			in_sync = nr - rep->nosync_count;
		copying = rep->copies_in_flight;
		store_used = rep->slots_used;
		store_slots = rep->store_slots;
		marked = rep->marked_count;
		mode = rep->mode;
		lag = mode == REPLICA_MODE_ASYNC &&
		      rep->sync_type == REPLICA_SYNC_MIRROR ?
		      __replica_lag_regions(rep) : 0;
		state = rep->copy_state;
		src = rep->source_health;
		tgt = rep->target_health;
		md_mode = rep->md_mode;
		progress = progress_name(rep);
		spin_unlock_irq(&rep->lock);

		DMEMIT("%s %s %s %s %llu/%llu %llu %llu %llu %llu %c%c %s",
		       sync_type_name(rep->sync_type), mode_name(mode),
		       replica_copy_state_name(state), progress, in_sync, nr,
		       copying, marked, lag,
		       lag ? replica_lag_ms(rep) : 0, src, tgt,
		       md_mode_name(md_mode));
		DMEMIT(" 10 role=%s uuid=%pUb region_sectors=%u generation=%llu",
		       dev->view ? "view" : "origin", rep->md.sb.uuid,
		       rep->region_sectors, rep->md.sb.generation);
		DMEMIT(" pit_ns=%llu regions_copied=%llu copy_errors=%llu entries=%u",
		       rep->pit_ns, rep->regions_copied, rep->copy_errors,
		       rep->entries);
		DMEMIT(" store_used=%llu store_slots=%llu", store_used,
		       store_slots);
		break;
	case STATUSTYPE_TABLE:
		emit_table(dev, result, maxlen, &sz);
		break;
	case STATUSTYPE_IMA:
		*result = '\0';
		break;
	}
}

/* ---- Messages ---- */
static bool state_in(u32 state, const u32 *states, unsigned int n)
{
	while (n--)
		if (states[n] == state)
			return true;
	return false;
}

/* Change state if the current one allows it; caller holds the lock. */
static int __transition(struct replica *rep, const u32 *from,
			unsigned int nr_from, u32 to, const char *op)
{
	if (!state_in(rep->copy_state, from, nr_from)) {
		DMWARN("%s: not allowed in copy state %s", op,
		       replica_copy_state_name(rep->copy_state));
		return -EPERM;
	}
	__replica_set_state(rep, to);
	return 0;
}

#define TRANSITION(rep, from, to, op) \
	__transition(rep, from, ARRAY_SIZE(from), to, op)

static const u32 flowing[] = {
	REPLICA_CS_UNSYNCHRONIZED, REPLICA_CS_SYNCHRONIZED,
	REPLICA_CS_SUSPENDED,
};
static const u32 stopped[] = {
	REPLICA_CS_FRACTURED, REPLICA_CS_SPLIT, REPLICA_CS_BROKEN,
	REPLICA_CS_ABORTED, REPLICA_CS_SUSPENDED,
};
static const u32 detached[] = { REPLICA_CS_FRACTURED, REPLICA_CS_SPLIT };
static const u32 synced[] = { REPLICA_CS_SYNCHRONIZED };
static const u32 copying[] = { REPLICA_CS_UNSYNCHRONIZED };
static const u32 running[] = {
	REPLICA_CS_UNSYNCHRONIZED, REPLICA_CS_SYNCHRONIZED,
};
static const u32 activatable[] = {
	REPLICA_CS_INITIALIZED, REPLICA_CS_INACTIVE,
};
static const u32 active[] = {
	REPLICA_CS_UNSYNCHRONIZED, REPLICA_CS_SYNCHRONIZED,
	REPLICA_CS_SUSPENDED, REPLICA_CS_FRACTURED, REPLICA_CS_SPLIT,
	REPLICA_CS_BROKEN,
};
static const u32 paused[] = { REPLICA_CS_SUSPENDED };

static bool legs_alive(struct replica *rep, const char *op)
{
	if (rep->target_health == HEALTH_ALIVE &&
	    rep->source_health == HEALTH_ALIVE)
		return true;
	DMWARN("%s: a leg has failed; clear_errors first", op);
	return false;
}

/* Snapshot "resync": take a new point in time. */
static int __new_pit(struct replica *rep)
{
	/* The source is half restored: finish (or stop) the restore first. */
	if (rep->restoring) {
		DMWARN("resync of a snapshot: a restore is running");
		return -EPERM;
	}
	if (rep->entries || rep->copies_in_flight || rep->active_devs) {
		DMWARN("resync of a snapshot needs its devices suspended");
		return -EBUSY;
	}
	__replica_pit_new_pit(rep);
	return 0;
}

/*
 * "deactivate": stop the data flow.  A mirror or clone stops copying and
 * keeps tracking writes; a snapshot drops its point in time (the view
 * then fails all I/O), which needs every device suspended like a new PIT.
 */
static int __deactivate(struct replica *rep)
{
	if (rep->restoring) {
		DMWARN("deactivate: a restore is running");
		return -EPERM;
	}
	if (!state_in(rep->copy_state, active, ARRAY_SIZE(active))) {
		DMWARN("deactivate: not allowed in copy state %s",
		       replica_copy_state_name(rep->copy_state));
		return -EPERM;
	}
	if (rep->sync_type == REPLICA_SYNC_SNAPSHOT) {
		if (rep->entries || rep->copies_in_flight || rep->active_devs) {
			DMWARN("deactivate of a snapshot needs its devices suspended");
			return -EBUSY;
		}
		__replica_pit_new_pit(rep);
	}
	__replica_set_state(rep, REPLICA_CS_INACTIVE);
	return 0;
}

/* "start" (activate): begin or resume the data flow. */
static int __activate(struct replica *rep)
{
	int r;

	if (rep->sync_type == REPLICA_SYNC_SNAPSHOT &&
	    rep->copy_state == REPLICA_CS_INACTIVE) {
		r = __new_pit(rep);
		if (r)
			DMWARN("activate of an inactive snapshot takes a new point in time");
		return r;
	}
	return TRANSITION(rep, activatable,
			  rep->sync_type == REPLICA_SYNC_SNAPSHOT ?
			  REPLICA_CS_SYNCHRONIZED : REPLICA_CS_UNSYNCHRONIZED,
			  "start");
}

static int __restore(struct replica *rep)
{
	int r;

	if (!legs_alive(rep, "restore"))
		return -EIO;
	if (rep->sync_type == REPLICA_SYNC_MIRROR) {
		/* The target never held a whole image of the source. */
		if (rep->initial_sync) {
			DMWARN("restore: the mirror was never synchronized");
			return -EPERM;
		}
		/* Writes still landing on the target would be restored half. */
		if (rep->behind_inflight) {
			DMWARN("restore: write-behinds still in flight");
			return -EBUSY;
		}
		r = TRANSITION(rep, detached, REPLICA_CS_UNSYNCHRONIZED,
			       "restore");
		if (!r)
			rep->restoring = true;
		return r;
	}
	r = TRANSITION(rep, flowing, REPLICA_CS_UNSYNCHRONIZED, "restore");
	if (r)
		return r;
	rep->restoring = true;
	__replica_pit_rebuild_nosync(rep);
	rep->copy_cursor = 0;
	return 0;
}

static int message_locked(struct replica *rep, unsigned int argc, char **argv)
{
	bool mirror = rep->sync_type == REPLICA_SYNC_MIRROR;
	const char *cmd = argv[0];
	int r;

	if (argc == 1) {
		if (!strcmp(cmd, "fracture") && mirror)
			return TRANSITION(rep, flowing, REPLICA_CS_FRACTURED,
					  cmd);
		if (!strcmp(cmd, "split") && mirror) {
			/* (write-behinds in flight count as lag too) */
			if (__replica_lag_regions(rep)) {
				DMWARN("split: the mirror is not synchronized");
				return -EPERM;
			}
			return TRANSITION(rep, synced, REPLICA_CS_SPLIT, cmd);
		}
		if (!strcmp(cmd, "abort") && rep->sync_type != REPLICA_SYNC_SNAPSHOT)
			return TRANSITION(rep, copying, REPLICA_CS_ABORTED, cmd);
		if (!strcmp(cmd, "start") || !strcmp(cmd, "activate"))
			return __activate(rep);
		if (!strcmp(cmd, "deactivate"))
			return __deactivate(rep);
		if (!strcmp(cmd, "resync")) {
			if (rep->sync_type == REPLICA_SYNC_SNAPSHOT)
				return __new_pit(rep);
			if (!legs_alive(rep, cmd))
				return -EIO;
			/* Refused: nothing changes, not even the direction. */
			r = TRANSITION(rep, stopped, REPLICA_CS_UNSYNCHRONIZED,
				       cmd);
			if (r || !rep->restoring)
				return r;
			/* The copy goes source -> target again. */
			rep->restoring = false;
			if (!mirror)
				__replica_pit_rebuild_nosync(rep);
			return 0;
		}
		if (!strcmp(cmd, "restore"))
			return __restore(rep);
		if (!strcmp(cmd, "pause") && rep->sync_type != REPLICA_SYNC_SNAPSHOT)
			return TRANSITION(rep, running, REPLICA_CS_SUSPENDED,
					  cmd);
		if (!strcmp(cmd, "resume"))
			return TRANSITION(rep, paused,
					  REPLICA_CS_UNSYNCHRONIZED, cmd);
		if (!strcmp(cmd, "clear_errors")) {
			rep->source_health = HEALTH_ALIVE;
			rep->target_health = HEALTH_ALIVE;
			rep->state_changed = true;
			if (rep->copy_state == REPLICA_CS_BROKEN && mirror)
				__replica_set_state(rep,
						    REPLICA_CS_UNSYNCHRONIZED);
			return 0;
		}
	}
	if (argc == 2 && !strcmp(cmd, "mode") && mirror) {
		u32 mode;

		if (parse_mode(argv[1], &mode)) {
			DMWARN("mode: expected sync or async");
			return -EINVAL;
		}
		rep->mode = mode;
		rep->commit_requested = true;
		rep->state_changed = true;
		return 0;
	}
	DMWARN("unrecognised message for a %s: %s (with %u arguments)",
	       sync_type_name(rep->sync_type), cmd, argc - 1);
	return -EINVAL;
}

/*
 * "set" and "mode" change the live origin table's parameters too, so the
 * next resume of that table (which applies them) keeps them; a newly
 * loaded table brings its own.
 */
static void update_live_origins(struct replica *rep)
{
	struct replica_tunables tun;
	struct replica_dev *dev;
	u32 mode;

	spin_lock_irq(&rep->lock);
	tun = rep->tun;
	mode = rep->mode;
	spin_unlock_irq(&rep->lock);
	mutex_lock(&rep->devs_lock);
	list_for_each_entry(dev, &rep->devs, list) {
		if (dev->view || !dev->live)
			continue;
		dev->tun = tun;
		dev->mode = mode;
	}
	mutex_unlock(&rep->devs_lock);
}

static int replica_message(struct dm_target *ti, unsigned int argc,
			   char **argv, char *result, unsigned int maxlen)
{
	struct replica_dev *dev = ti->private;
	struct replica *rep = dev->rep;
	struct replica_tunables tun;
	char *error = NULL;
	int r;

	if (!argc)
		return -EINVAL;
	if (!strcmp(argv[0], "set")) {
		if (argc != 3) {
			DMWARN("set: expected <key> <value>");
			return -EINVAL;
		}
		spin_lock_irq(&rep->lock);
		tun = rep->tun;
		spin_unlock_irq(&rep->lock);
		r = set_tunable(&tun, argv[1], argv[2], &error);
		if (r) {
			DMWARN("set %s: %s", argv[1], error);
			return r;
		}
		spin_lock_irq(&rep->lock);
		rep->tun = tun;
		spin_unlock_irq(&rep->lock);
		update_live_origins(rep);
		replica_wake_worker(rep);
		return 0;
	}

	spin_lock_irq(&rep->lock);
	/* A state change that cannot be recorded is not made. */
	if (rep->md_mode != MD_RW) {
		spin_unlock_irq(&rep->lock);
		DMWARN("%s: the metadata is read-only after an error; reload the table",
		       argv[0]);
		return -EIO;
	}
	r = message_locked(rep, argc, argv);
	spin_unlock_irq(&rep->lock);
	if (r)
		return r;
	if (!strcmp(argv[0], "mode"))
		update_live_origins(rep);

	/* Make the new state durable before answering (the worker commits). */
	return replica_commit_sync(rep, false);
}

static int replica_map(struct dm_target *ti, struct bio *bio)
{
	struct replica_dev *dev = ti->private;
	struct replica *rep = dev->rep;
	struct replica_io *io = dm_per_bio_data(bio, sizeof(*io));

	bio->bi_iter.bi_sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	io->rep = rep;
	io->view = dev->view;
	io->tracked = false;
	io->flush_target = false;
	if (dev->view)
		return replica_pit_map_view(dev, bio);
	return rep->ops->map(rep, bio);
}

static int replica_end_io(struct dm_target *ti, struct bio *bio,
			  blk_status_t *error)
{
	struct replica_dev *dev = ti->private;

	return dev->rep->ops->end_io(dev->rep, bio, error);
}

static int replica_iterate_devices(struct dm_target *ti,
				   iterate_devices_callout_fn fn, void *data)
{
	struct replica_dev *dev = ti->private;
	int r;

	r = fn(ti, dev->source_dev, 0, ti->len, data);
	/* A snapshot store may be smaller than the source. */
	if (!r)
		r = fn(ti, dev->target_dev, 0,
		       min_t(sector_t, ti->len,
			     bdev_nr_sectors(dev->target_dev->bdev)), data);
	return r;
}

static void replica_io_hints(struct dm_target *ti, struct queue_limits *limits)
{
	struct replica_dev *dev = ti->private;
	struct replica *rep = dev->rep;
	unsigned int region_bytes = rep->region_sectors << SECTOR_SHIFT;

	/* Partial-region writes cost a copy for snapshot and clone. */
	if (rep->sync_type != REPLICA_SYNC_MIRROR &&
	    (!limits->io_opt || limits->io_opt % region_bytes))
		limits->io_opt = region_bytes;
	/* Legs without discard: the view still takes whole regions. */
	if (dev->view && !limits->max_discard_sectors) {
		limits->max_hw_discard_sectors = rep->region_sectors;
		limits->max_discard_sectors = rep->region_sectors;
		limits->discard_granularity = region_bytes;
	}
}

static struct target_type replica_target = {
	.name = "replica",
	.version = {1, 0, 0},
	.module = THIS_MODULE,
	.ctr = replica_ctr,
	.dtr = replica_dtr,
	.map = replica_map,
	.end_io = replica_end_io,
	.presuspend = replica_presuspend,
	.postsuspend = replica_postsuspend,
	.preresume = replica_preresume,
	.resume = replica_resume,
	.status = replica_status,
	.message = replica_message,
	.iterate_devices = replica_iterate_devices,
	.io_hints = replica_io_hints,
};

static int __init dm_replica_init(void)
{
	int r;

	replica_entry_cache = KMEM_CACHE(region_entry, 0);
	replica_slot_cache = KMEM_CACHE(slot_map, 0);
	r = -ENOMEM;
	if (replica_entry_cache && replica_slot_cache)
		r = dm_register_target(&replica_target);
	if (r) {
		kmem_cache_destroy(replica_slot_cache);
		kmem_cache_destroy(replica_entry_cache);
	}
	return r;
}

static void __exit dm_replica_exit(void)
{
	dm_unregister_target(&replica_target);
	kmem_cache_destroy(replica_slot_cache);
	kmem_cache_destroy(replica_entry_cache);
}

module_init(dm_replica_init);
module_exit(dm_replica_exit);

MODULE_DESCRIPTION(DM_NAME " replica target: mirror, snapshot and clone");
MODULE_AUTHOR("dm-replica developers");
MODULE_LICENSE("GPL");
