// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-replica: mirror, snapshot and clone replication target.
 * (Skeleton: pass-through to the source device.)
 */
#include <linux/module.h>
#include <linux/device-mapper.h>

#include "replica-format.h"

#define DM_MSG_PREFIX "replica"

struct replica {
	struct dm_dev *source;
};

static int replica_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct replica *rep;
	int r;

	if (argc < 1) {
		ti->error = "Invalid argument count";
		return -EINVAL;
	}
	rep = kzalloc(sizeof(*rep), GFP_KERNEL);
	if (!rep) {
		ti->error = "Cannot allocate context";
		return -ENOMEM;
	}
	r = dm_get_device(ti, argv[0], dm_table_get_mode(ti->table), &rep->source);
	if (r) {
		ti->error = "Error opening source device";
		kfree(rep);
		return r;
	}
	ti->private = rep;
	return 0;
}

static void replica_dtr(struct dm_target *ti)
{
	struct replica *rep = ti->private;

	dm_put_device(ti, rep->source);
	kfree(rep);
}

static int replica_map(struct dm_target *ti, struct bio *bio)
{
	struct replica *rep = ti->private;

	bio_set_dev(bio, rep->source->bdev);
	bio->bi_iter.bi_sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	return DM_MAPIO_REMAPPED;
}

static void replica_status(struct dm_target *ti, status_type_t type,
			   unsigned int status_flags, char *result,
			   unsigned int maxlen)
{
	struct replica *rep = ti->private;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		DMEMIT("passthrough");
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s", rep->source->name);
		break;
	case STATUSTYPE_IMA:
		break;
	}
}

static int replica_iterate_devices(struct dm_target *ti,
				   iterate_devices_callout_fn fn, void *data)
{
	struct replica *rep = ti->private;

	return fn(ti, rep->source, 0, ti->len, data);
}

static struct target_type replica_target = {
	.name = "replica",
	.version = {0, 1, 0},
	.module = THIS_MODULE,
	.ctr = replica_ctr,
	.dtr = replica_dtr,
	.map = replica_map,
	.status = replica_status,
	.iterate_devices = replica_iterate_devices,
};

static int __init dm_replica_init(void)
{
	return dm_register_target(&replica_target);
}

static void __exit dm_replica_exit(void)
{
	dm_unregister_target(&replica_target);
}

module_init(dm_replica_init);
module_exit(dm_replica_exit);

MODULE_DESCRIPTION(DM_NAME " replica target: mirror, snapshot and clone");
MODULE_AUTHOR("dm-replica developers");
MODULE_LICENSE("GPL");
