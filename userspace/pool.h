/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * replicactl: block devices (resolution, sizes, exclusivity) and
 * TargetPool allocation: a directory (sparse files on loop devices) or an
 * LVM volume group (the lvm2 tools lvcreate/lvremove/lvchange/vgs are run,
 * no shell; Not Supported when lvm2 is missing).
 */
#ifndef REPLICACTL_POOL_H
#define REPLICACTL_POOL_H

#include <stdbool.h>
#include <stdint.h>

struct blkdev {
	char path[256];
	uint32_t major, minor;
	uint64_t sectors;
	bool is_dm;
	char dm_name[128];
	char dm_uuid[129];
};

/*
 * Resolve a path, dm name, dm uuid or "major:minor".  0, or 5 naming
 * `param` when it is not a block device.
 */
int blkdev_resolve(const char *param, const char *s, struct blkdev *bd);
int blkdev_from_devno(uint32_t major, uint32_t minor, struct blkdev *bd);
/* 0 if an O_EXCL open succeeds, 6 (In Use) if the device is claimed. */
int blkdev_check_unclaimed(const char *param, const struct blkdev *bd);
/* Read the first two metadata blocks (8 KiB) with O_DIRECT. */
int blkdev_read_head(const char *path, void *buf8k);
/* Zero the first two metadata blocks so the kernel formats afresh. */
int blkdev_zero_head(const char *path);

enum pool_kind { POOL_DIR = 1, POOL_LVM = 2 };

struct pool {
	enum pool_kind kind;
	char where[240];	/* directory, or VG name */
};

/* "dir:/path", "lvm:VG", an existing absolute directory, or a VG name.
 * Syntax only (and lvm2 present): 0, 1 or 5. */
int pool_parse(const char *s, struct pool *p);
/* The pool exists (a VG: `vgs VG` succeeds): 0 or 5. */
int pool_check(const struct pool *p);
/* Can `name` (e.g. "<ElementName>-target") name an allocation: 0 or 5. */
int pool_name_ok(const struct pool *p, const char *name);
/* lvm(8) VALID NAMES for an LV or VG name. */
int lvm_name_valid(const char *s);
/* Allocate `bytes` named `name`; fills the device path and an allocation
 * descriptor ("dir:<file>" / "lvm:<vg>/<lv>") for pool_free/pool_attach. */
int pool_alloc(const struct pool *p, const char *name, uint64_t bytes, bool thick,
	       char *dev, unsigned int devsz, char *alloc, unsigned int allocsz);
/* Release: detach the loop device and delete the file, or lvremove. */
int pool_free(const char *alloc, const char *dev);
/* After a reboot: make the allocation a block device again. */
int pool_attach(const char *alloc, char *dev, unsigned int devsz);

/* Loop devices on a file. */
int loop_attach(const char *file, char *dev, unsigned int devsz);
int loop_detach(const char *dev);
int loop_find(const char *file, char *dev, unsigned int devsz);

#endif
