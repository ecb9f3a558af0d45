// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-replica: mirror, snapshot and clone replication target.
 *
 * This file holds the target methods: table parsing, suspend/resume,
 * status and messages.  The I/O path is in replica-io.c, the metadata in
 * replica-metadata.c, the on-disk format in replica-format.c.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "replica.h"
#include "replica-io.h"

static const struct replica_tunables default_tunables = {
	.copy_rate_max = 0,
	.copy_rate_min = 4096,
	.copy_inflight = 16,
	.max_lag_regions = 1024,
	.max_lag_ms = 5000,
	.lag_policy = LAG_THROTTLE,
	.commit_ms = 1000,
};

/*----------------------------------------------------------------
 * Names
 *--------------------------------------------------------------*/
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

/*----------------------------------------------------------------
 * Tunables (core arguments and the "set" message)
 *--------------------------------------------------------------*/
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

static int set_tunable(struct replica_tunables *tun, const char *key,
		       const char *value, char **error)
{
	unsigned int i, v;

	for (i = 0; i < ARRAY_SIZE(tunable_descs); i++) {
		const struct tunable_desc *d = &tunable_descs[i];

		if (strcmp(key, d->name))
			continue;
		if (d->offset == offsetof(struct replica_tunables, lag_policy)) {
			if (!strcmp(value, "throttle"))
				v = LAG_THROTTLE;
			else if (!strcmp(value, "fallbehind"))
				v = LAG_FALLBEHIND;
			else {
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

/*----------------------------------------------------------------
 * Constructor helpers
 *--------------------------------------------------------------*/
static int parse_features(struct replica *rep, struct dm_arg_set *as,
			  char **error)
{
	static const struct dm_arg feature_count = {
		0, 4, "Invalid number of feature arguments"
	};
	unsigned int argc;
	const char *arg;
	int r;

	if (!as->argc)
		return 0;
	r = dm_read_arg_group(&feature_count, as, &argc, error);
	if (r)
		return r;
	while (argc--) {
		arg = dm_shift_arg(as);
		if (!strcmp(arg, "nosync"))
			rep->nosync = true;
		else if (!strcmp(arg, "fail_host_on_target_error"))
			rep->fail_host_on_target_error = true;
		else if (!strcmp(arg, "start_inactive"))
			rep->start_inactive = true;
		else if (!strcmp(arg, "no_discard_passdown"))
			rep->no_discard_passdown = true;
		else {
			*error = "Unknown feature argument";
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_core_args(struct replica *rep, struct dm_arg_set *as,
			   char **error)
{
	static const struct dm_arg core_count = {
		0, 2 * ARRAY_SIZE(tunable_descs),
		"Invalid number of core arguments"
	};
	unsigned int argc;
	int r;

	if (!as->argc)
		return 0;
	r = dm_read_arg_group(&core_count, as, &argc, error);
	if (r)
		return r;
	if (argc % 2) {
		*error = "Core arguments must be key value pairs";
		return -EINVAL;
	}
	while (argc) {
		const char *key = dm_shift_arg(as);
		const char *value = dm_shift_arg(as);

		r = set_tunable(&rep->tun, key, value, error);
		if (r)
			return r;
		argc -= 2;
	}
	if (as->argc) {
		*error = "Too many arguments";
		return -EINVAL;
	}
	return 0;
}

static int get_leg(struct dm_target *ti, const char *path,
		   struct dm_dev **dev, char **error, char *what)
{
	int r = dm_get_device(ti, path, dm_table_get_mode(ti->table), dev);

	if (r)
		*error = what;
	return r;
}

static bool region_fits_block_size(struct replica *rep, struct dm_dev *dev)
{
	return !((rep->region_sectors << SECTOR_SHIFT) %
		 bdev_logical_block_size(dev->bdev));
}

static void free_state(struct replica *rep)
{
	kvfree(rep->nosync_map);
	bitmap_free(rep->clear_candidates);
	bitmap_free(rep->clear_aged);
	rep->nosync_map = NULL;
	rep->clear_candidates = NULL;
	rep->clear_aged = NULL;
}

/*
 * (Re)build the in-core state from freshly opened metadata.  Every marked
 * region may differ between the legs, so it is copied again.
 */
static int load_state(struct replica *rep)
{
	struct replica_metadata *md = &rep->md;
	u64 region, cap = md->sb.capacity_blocks;

	free_state(rep);
	rep->nr_regions = md->sb.nr_regions;
	rep->nosync_map = kvcalloc(BITS_TO_LONGS(rep->nr_regions),
				   sizeof(unsigned long), GFP_KERNEL);
	rep->clear_candidates = bitmap_zalloc(cap, GFP_KERNEL);
	rep->clear_aged = bitmap_zalloc(cap, GFP_KERNEL);
	if (!rep->nosync_map || !rep->clear_candidates || !rep->clear_aged) {
		free_state(rep);
		return -ENOMEM;
	}

	rep->nosync_count = 0;
	rep->marked_count = 0;
	for (region = 0; region < rep->nr_regions; region++) {
		if (replica_md_test(md, region)) {
			__set_bit(region, rep->nosync_map);
			rep->nosync_count++;
		}
	}
	rep->marked_count = rep->nosync_count;
	rep->lag_since_ns = rep->nosync_count ? ktime_get_ns() : 0;

	rep->copy_state = md->sb.copy_state;
	rep->restoring = md->sb.flags & REPLICA_SB_RESTORING;
	rep->pit_ns = md->sb.pit_ns;
	rep->source_health = HEALTH_ALIVE;
	rep->target_health = HEALTH_ALIVE;
	rep->md_mode = MD_RW;
	rep->open_seq = 1;
	rep->committed_seq = 0;
	rep->copy_cursor = 0;
	rep->commit_requested = true;

	if (rep->copy_state == REPLICA_CS_INITIALIZED && !rep->start_inactive) {
		rep->copy_state = REPLICA_CS_UNSYNCHRONIZED;
		rep->initial_sync = true;
	}
	/* After a crash or a reload with marks left: resync them. */
	if (rep->copy_state == REPLICA_CS_SYNCHRONIZED && rep->nosync_count)
		rep->copy_state = REPLICA_CS_UNSYNCHRONIZED;
	return 0;
}

static int open_metadata(struct replica *rep, char **error)
{
	struct dm_target *ti = rep->ti;
	struct replica_md_geometry geo = {
		.sync_type = rep->sync_type,
		.mode = rep->mode,
		.region_sectors = rep->region_sectors,
		.source_sectors = ti->len,
		.target_sectors = bdev_nr_sectors(rep->target_dev->bdev),
		.all_set = !rep->nosync,
	};
	int r;

	r = replica_md_open(&rep->md, rep->meta_dev->bdev, &geo, error);
	if (r)
		return r;
	if (ti->len > rep->md.sb.source_sectors) {
		r = replica_md_grow(&rep->md, ti->len, geo.target_sectors,
				    true, error);
		if (r) {
			replica_md_close(&rep->md);
			return r;
		}
	}
	return 0;
}

static int save_ctr_args(struct replica *rep, unsigned int argc, char **argv)
{
	unsigned int i;

	rep->ctr_args = kcalloc(argc, sizeof(char *), GFP_KERNEL);
	if (!rep->ctr_args)
		return -ENOMEM;
	for (i = 0; i < argc; i++) {
		rep->ctr_args[i] = kstrdup(argv[i], GFP_KERNEL);
		if (!rep->ctr_args[i])
			return -ENOMEM;
		rep->nr_ctr_args++;
	}
	return 0;
}

static void free_ctr_args(struct replica *rep)
{
	unsigned int i;

	for (i = 0; i < rep->nr_ctr_args; i++)
		kfree(rep->ctr_args[i]);
	kfree(rep->ctr_args);
}

static void replica_free(struct replica *rep)
{
	struct dm_target *ti = rep->ti;

	if (rep->wq)
		destroy_workqueue(rep->wq);
	if (rep->kcopyd)
		dm_kcopyd_client_destroy(rep->kcopyd);
	if (rep->md.blocks)
		replica_md_close(&rep->md);
	free_state(rep);
	bioset_exit(&rep->bs);
	if (rep->target_dev)
		dm_put_device(ti, rep->target_dev);
	if (rep->source_dev)
		dm_put_device(ti, rep->source_dev);
	if (rep->meta_dev)
		dm_put_device(ti, rep->meta_dev);
	free_ctr_args(rep);
	kfree(rep);
}

/*----------------------------------------------------------------
 * Target methods
 *--------------------------------------------------------------*/

/*
 * replica <sync type> <mode> <metadata dev> <source dev> <target dev>
 *         <region size> [<#features> <feature>*] [<#core> <key> <value>*]
 */
static int replica_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct dm_arg_set as = { .argc = argc, .argv = argv };
	struct replica *rep;
	unsigned int i;
	int r;

	if (argc < 6) {
		ti->error = "Invalid argument count: expected at least 6";
		return -EINVAL;
	}
	rep = kzalloc(sizeof(*rep), GFP_KERNEL);
	if (!rep) {
		ti->error = "Cannot allocate replica context";
		return -ENOMEM;
	}
	rep->ti = ti;
	rep->tun = default_tunables;
	spin_lock_init(&rep->lock);
	for (i = 0; i < ARRAY_SIZE(rep->hash); i++)
		INIT_HLIST_HEAD(&rep->hash[i]);
	INIT_LIST_HEAD(&rep->commit_wait);
	INIT_LIST_HEAD(&rep->copy_done);
	INIT_LIST_HEAD(&rep->priority_copies);
	bio_list_init(&rep->deferred);
	bio_list_init(&rep->throttled);
	init_waitqueue_head(&rep->copy_wait);
	INIT_WORK(&rep->worker, replica_do_worker);
	INIT_DELAYED_WORK(&rep->waker, replica_do_waker);
	rep->suspended = true;

	r = save_ctr_args(rep, argc, argv);
	if (r) {
		ti->error = "Cannot save table arguments";
		goto bad;
	}

	r = -EINVAL;
	if (parse_sync_type(dm_shift_arg(&as), &rep->sync_type)) {
		ti->error = "Invalid sync type: expected mirror, snapshot or clone";
		goto bad;
	}
	if (rep->sync_type != REPLICA_SYNC_MIRROR) {
		ti->error = "Sync type not supported by this module version";
		r = -EOPNOTSUPP;
		goto bad;
	}
	if (parse_mode(dm_shift_arg(&as), &rep->mode)) {
		ti->error = "Invalid mode: expected sync or async";
		goto bad;
	}

	r = get_leg(ti, dm_shift_arg(&as), &rep->meta_dev, &ti->error,
		    "Cannot open metadata device");
	if (r)
		goto bad;
	r = get_leg(ti, dm_shift_arg(&as), &rep->source_dev, &ti->error,
		    "Cannot open source device");
	if (r)
		goto bad;
	r = get_leg(ti, dm_shift_arg(&as), &rep->target_dev, &ti->error,
		    "Cannot open target device");
	if (r)
		goto bad;
	r = -EINVAL;
	if (rep->meta_dev->bdev == rep->source_dev->bdev ||
	    rep->meta_dev->bdev == rep->target_dev->bdev ||
	    rep->source_dev->bdev == rep->target_dev->bdev) {
		ti->error = "Metadata, source and target must be distinct devices";
		goto bad;
	}

	if (kstrtouint(dm_shift_arg(&as), 10, &rep->region_sectors) ||
	    !replica_region_size_valid(rep->region_sectors)) {
		ti->error = "Invalid region size: a power of two from 8 to 2097152 sectors";
		goto bad;
	}
	rep->region_shift = __ffs(rep->region_sectors);
	if (!region_fits_block_size(rep, rep->source_dev) ||
	    !region_fits_block_size(rep, rep->target_dev)) {
		ti->error = "Region size is not a multiple of the logical block size";
		goto bad;
	}
	if (bdev_nr_sectors(rep->source_dev->bdev) < ti->len) {
		ti->error = "Source device is smaller than the table length";
		goto bad;
	}
	if (bdev_nr_sectors(rep->target_dev->bdev) < ti->len) {
		ti->error = "Target device is smaller than the table length";
		goto bad;
	}

	r = parse_features(rep, &as, &ti->error);
	if (r)
		goto bad;
	r = parse_core_args(rep, &as, &ti->error);
	if (r)
		goto bad;
	if (as.argc) {
		ti->error = "Too many arguments";
		r = -EINVAL;
		goto bad;
	}

	r = bioset_init(&rep->bs, BIO_POOL_SIZE, 0, 0);
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

	/* Validates (or formats) the metadata now; reloaded at preresume. */
	r = open_metadata(rep, &ti->error);
	if (r)
		goto bad;
	r = load_state(rep);
	if (r) {
		ti->error = "Cannot allocate region state";
		goto bad;
	}

	r = dm_set_target_max_io_len(ti, rep->region_sectors);
	if (r) {
		ti->error = "Cannot set max io length";
		goto bad;
	}
	ti->num_flush_bios = 2;
	ti->flush_supported = true;
	ti->num_discard_bios = 1;
	ti->per_io_data_size = sizeof(struct replica_io);
	ti->private = rep;
	return 0;

bad:
	replica_free(rep);
	return r;
}

static void replica_dtr(struct dm_target *ti)
{
	struct replica *rep = ti->private;

	/* No metadata I/O here: a newer table may own the metadata now. */
	cancel_delayed_work_sync(&rep->waker);
	flush_workqueue(rep->wq);
	replica_free(rep);
}

static void replica_presuspend(struct dm_target *ti)
{
	struct replica *rep = ti->private;

	spin_lock_irq(&rep->lock);
	rep->suspended = true;
	spin_unlock_irq(&rep->lock);
	replica_release_throttled(rep);
	/* Copies end by themselves, with an error on a failed device. */
	wait_event(rep->copy_wait, !READ_ONCE(rep->copies_in_flight));
}

static void replica_postsuspend(struct dm_target *ti)
{
	struct replica *rep = ti->private;

	cancel_delayed_work_sync(&rep->waker);
	flush_workqueue(rep->wq);
	replica_commit(rep, true, true, NULL);
}

static int replica_preresume(struct dm_target *ti)
{
	struct replica *rep = ti->private;
	char *error = NULL;
	int r;

	/* An older table may have committed since our ctr: reload. */
	replica_md_close(&rep->md);
	r = open_metadata(rep, &error);
	if (!r)
		r = load_state(rep);
	if (r)
		DMERR("cannot reload metadata: %s", error ? error : "no memory");
	return r;
}

static void replica_resume(struct dm_target *ti)
{
	struct replica *rep = ti->private;

	spin_lock_irq(&rep->lock);
	rep->suspended = false;
	rep->state_changed = true;
	spin_unlock_irq(&rep->lock);
	queue_delayed_work(rep->wq, &rep->waker, 0);
}

static const char *progress_name(struct replica *rep)
{
	switch (rep->copy_state) {
	case REPLICA_CS_INITIALIZED:
		return "pending";
	case REPLICA_CS_UNSYNCHRONIZED:
		if (rep->copy_paused)
			return "dormant";
		if (rep->restoring)
			return "restoring";
		return rep->initial_sync ? "synchronizing" : "resyncing";
	case REPLICA_CS_SYNCHRONIZED:
		return rep->nosync_count ? "synchronizing" : "completed";
	}
	return "dormant";
}

static const char *md_mode_name(int mode)
{
	return mode == MD_RW ? "rw" : mode == MD_RO ? "ro" : "fail";
}

static void emit_table(struct replica *rep, char *result, unsigned int maxlen,
		       unsigned int *size)
{
	unsigned int sz = *size, i, nr_features;

	DMEMIT("%s %s %s %s %s %u", sync_type_name(rep->sync_type),
	       mode_name(rep->mode), rep->meta_dev->name,
	       rep->source_dev->name, rep->target_dev->name,
	       rep->region_sectors);
	nr_features = rep->nosync + rep->fail_host_on_target_error +
		      rep->start_inactive + rep->no_discard_passdown;
	DMEMIT(" %u", nr_features);
	if (rep->nosync)
		DMEMIT(" nosync");
	if (rep->fail_host_on_target_error)
		DMEMIT(" fail_host_on_target_error");
	if (rep->start_inactive)
		DMEMIT(" start_inactive");
	if (rep->no_discard_passdown)
		DMEMIT(" no_discard_passdown");
	DMEMIT(" %zu", 2 * ARRAY_SIZE(tunable_descs));
	for (i = 0; i < ARRAY_SIZE(tunable_descs); i++) {
		const struct tunable_desc *d = &tunable_descs[i];
		unsigned int v = READ_ONCE(*tunable_ptr(&rep->tun, d));

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
	struct replica *rep = ti->private;
	unsigned int sz = 0;
	u64 in_sync, copying, marked, lag;
	u32 state;
	char src, tgt;
	int md_mode;
	const char *progress;

	switch (type) {
	case STATUSTYPE_INFO:
		spin_lock_irq(&rep->lock);
		in_sync = rep->nr_regions - rep->nosync_count;
		copying = rep->copies_in_flight;
		marked = rep->marked_count;
		lag = rep->mode == REPLICA_MODE_ASYNC ? rep->nosync_count : 0;
		state = rep->copy_state;
		src = rep->source_health;
		tgt = rep->target_health;
		md_mode = rep->md_mode;
		progress = progress_name(rep);
		spin_unlock_irq(&rep->lock);

		DMEMIT("%s %s %s %s %llu/%llu %llu %llu %llu %llu %c%c %s",
		       sync_type_name(rep->sync_type), mode_name(rep->mode),
		       replica_copy_state_name(state), progress, in_sync,
		       rep->nr_regions, copying, marked, lag,
		       replica_lag_ms(rep), src, tgt, md_mode_name(md_mode));
		DMEMIT(" 6 uuid=%pUb region_sectors=%u generation=%llu",
		       rep->md.sb.uuid, rep->region_sectors,
		       rep->md.sb.generation);
		DMEMIT(" regions_copied=%llu copy_errors=%llu entries=%u",
		       rep->regions_copied, rep->copy_errors, rep->entries);
		break;
	case STATUSTYPE_TABLE:
		emit_table(rep, result, maxlen, &sz);
		break;
	case STATUSTYPE_IMA:
		*result = '\0';
		break;
	}
}

/*----------------------------------------------------------------
 * Messages
 *--------------------------------------------------------------*/
static bool state_in(u32 state, const u32 *states, unsigned int n)
{
	while (n--)
		if (states[n] == state)
			return true;
	return false;
}

/* Change state if the current one allows it; caller holds the lock. */
static int __transition(struct replica *rep, const u32 *from,
			unsigned int nr_from, u32 to)
{
	if (!state_in(rep->copy_state, from, nr_from)) {
		DMWARN("operation not allowed in copy state %s",
		       replica_copy_state_name(rep->copy_state));
		return -EPERM;
	}
	__replica_set_state(rep, to);
	return 0;
}

static int message_locked(struct replica *rep, unsigned int argc, char **argv)
{
	static const u32 flowing[] = {
		REPLICA_CS_UNSYNCHRONIZED, REPLICA_CS_SYNCHRONIZED,
		REPLICA_CS_SUSPENDED,
	};
	static const u32 stopped[] = {
		REPLICA_CS_FRACTURED, REPLICA_CS_SPLIT, REPLICA_CS_BROKEN,
		REPLICA_CS_ABORTED, REPLICA_CS_SUSPENDED,
	};
	static const u32 detached[] = {
		REPLICA_CS_FRACTURED, REPLICA_CS_SPLIT,
	};
	static const u32 synced[] = { REPLICA_CS_SYNCHRONIZED };
	static const u32 copying[] = { REPLICA_CS_UNSYNCHRONIZED };
	static const u32 running[] = {
		REPLICA_CS_UNSYNCHRONIZED, REPLICA_CS_SYNCHRONIZED,
	};
	static const u32 initial[] = { REPLICA_CS_INITIALIZED };
	const char *cmd = argv[0];
	int r;

	if (!strcmp(cmd, "fracture") && argc == 1)
		return __transition(rep, flowing, ARRAY_SIZE(flowing),
				    REPLICA_CS_FRACTURED);
	if (!strcmp(cmd, "split") && argc == 1) {
		if (rep->nosync_count) {
			DMWARN("split needs a synchronized relationship");
			return -EPERM;
		}
		return __transition(rep, synced, ARRAY_SIZE(synced),
				    REPLICA_CS_SPLIT);
	}
	if (!strcmp(cmd, "abort") && argc == 1)
		return __transition(rep, copying, ARRAY_SIZE(copying),
				    REPLICA_CS_ABORTED);
	if (!strcmp(cmd, "start") && argc == 1)
		return __transition(rep, initial, ARRAY_SIZE(initial),
				    REPLICA_CS_UNSYNCHRONIZED);
	if (!strcmp(cmd, "resync") && argc == 1) {
		if (rep->target_health != HEALTH_ALIVE) {
			DMWARN("resync: the target has failed; clear_errors first");
			return -EIO;
		}
		r = __transition(rep, stopped, ARRAY_SIZE(stopped),
				 REPLICA_CS_UNSYNCHRONIZED);
		if (!r) {
			rep->restoring = false;
			rep->copy_paused = false;
		}
		return r;
	}
	if (!strcmp(cmd, "restore") && argc == 1) {
		if (rep->target_health != HEALTH_ALIVE ||
		    rep->source_health != HEALTH_ALIVE) {
			DMWARN("restore: a leg has failed");
			return -EIO;
		}
		r = __transition(rep, detached, ARRAY_SIZE(detached),
				 REPLICA_CS_UNSYNCHRONIZED);
		if (!r) {
			rep->restoring = true;
			rep->copy_paused = false;
		}
		return r;
	}
	if (!strcmp(cmd, "pause") && argc == 1) {
		r = __transition(rep, running, ARRAY_SIZE(running),
				 REPLICA_CS_SUSPENDED);
		return r;
	}
	if (!strcmp(cmd, "resume") && argc == 1) {
		static const u32 paused[] = { REPLICA_CS_SUSPENDED };

		return __transition(rep, paused, ARRAY_SIZE(paused),
				    REPLICA_CS_UNSYNCHRONIZED);
	}
	if (!strcmp(cmd, "mode") && argc == 2) {
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
	if (!strcmp(cmd, "clear_errors") && argc == 1) {
		rep->source_health = HEALTH_ALIVE;
		rep->target_health = HEALTH_ALIVE;
		rep->state_changed = true;
		if (rep->copy_state == REPLICA_CS_BROKEN)
			__replica_set_state(rep, REPLICA_CS_UNSYNCHRONIZED);
		return 0;
	}
	DMWARN("unrecognised message: %s (with %u arguments)", cmd, argc - 1);
	return -EINVAL;
}

static int replica_message(struct dm_target *ti, unsigned int argc,
			   char **argv, char *result, unsigned int maxlen)
{
	struct replica *rep = ti->private;
	char *error = NULL;
	int r;

	if (!argc)
		return -EINVAL;
	if (!strcmp(argv[0], "set")) {
		if (argc != 3) {
			DMWARN("set: expected <key> <value>");
			return -EINVAL;
		}
		r = set_tunable(&rep->tun, argv[1], argv[2], &error);
		if (r)
			DMWARN("set %s: %s", argv[1], error);
		else
			queue_work(rep->wq, &rep->worker);
		return r;
	}

	spin_lock_irq(&rep->lock);
	r = message_locked(rep, argc, argv);
	spin_unlock_irq(&rep->lock);
	if (r)
		return r;

	/* Make the new state durable before answering. */
	if (!rep->suspended) {
		queue_work(rep->wq, &rep->worker);
		flush_work(&rep->worker);
	} else {
		replica_commit(rep, false, false, NULL);
	}
	return READ_ONCE(rep->md_mode) == MD_RW ? 0 : -EIO;
}

static int replica_iterate_devices(struct dm_target *ti,
				   iterate_devices_callout_fn fn, void *data)
{
	struct replica *rep = ti->private;
	int r;

	r = fn(ti, rep->source_dev, 0, ti->len, data);
	if (!r)
		r = fn(ti, rep->target_dev, 0, ti->len, data);
	return r;
}

static struct target_type replica_target = {
	.name = "replica",
	.version = {1, 0, 0},
	.module = THIS_MODULE,
	.ctr = replica_ctr,
	.dtr = replica_dtr,
	.map = replica_map,
	.presuspend = replica_presuspend,
	.postsuspend = replica_postsuspend,
	.preresume = replica_preresume,
	.resume = replica_resume,
	.status = replica_status,
	.message = replica_message,
	.iterate_devices = replica_iterate_devices,
};

static int __init dm_replica_init(void)
{
	int r;

	replica_entry_cache = KMEM_CACHE(region_entry, 0);
	if (!replica_entry_cache)
		return -ENOMEM;
	r = dm_register_target(&replica_target);
	if (r)
		kmem_cache_destroy(replica_entry_cache);
	return r;
}

static void __exit dm_replica_exit(void)
{
	dm_unregister_target(&replica_target);
	kmem_cache_destroy(replica_entry_cache);
}

module_init(dm_replica_init);
module_exit(dm_replica_exit);

MODULE_DESCRIPTION(DM_NAME " replica target: mirror, snapshot and clone");
MODULE_AUTHOR("dm-replica developers");
MODULE_LICENSE("GPL");
