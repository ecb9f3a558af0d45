// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-replica metadata: superblock slots, the two bitmap areas and the
 * commit protocol described in replica-format.h.
 */
#include <linux/blkdev.h>
#include <linux/device-mapper.h>
#include <linux/ktime.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "replica-metadata.h"

#define DM_MSG_PREFIX "replica-metadata"

/* Synchronous I/O of one metadata block to or from a kmalloc'ed buffer. */
static int md_block_io(struct replica_metadata *md, blk_opf_t opf,
		       u64 block, void *buf)
{
	struct dm_io_region where = {
		.bdev = md->bdev,
		.sector = block * REPLICA_META_BLOCK_SECTORS,
		.count = REPLICA_META_BLOCK_SECTORS,
	};
	struct dm_io_request req = {
		.bi_opf = opf,
		.mem.type = DM_IO_KMEM,
		.mem.ptr.addr = buf,
		.client = md->io_client,
	};

	return dm_io(&req, 1, &where, NULL, IOPRIO_DEFAULT);
}

int replica_flush_bdev(struct dm_io_client *client, struct block_device *bdev)
{
	return blkdev_issue_flush(bdev);
}

void replica_md_set(struct replica_metadata *md, u64 region)
{
	u64 index;
	u32 bit;
	u8 *bits;

	replica_region_to_bit(region, &index, &bit);
	bits = replica_bitmap_bits(md->blocks[index]);
	bits[bit >> 3] |= 1u << (bit & 7);
	__set_bit(index, md->dirty_now);
}

void replica_md_clear(struct replica_metadata *md, u64 region)
{
	u64 index;
	u32 bit;
	u8 *bits;

	replica_region_to_bit(region, &index, &bit);
	bits = replica_bitmap_bits(md->blocks[index]);
	bits[bit >> 3] &= ~(1u << (bit & 7));
	__set_bit(index, md->dirty_now);
}

void replica_md_set_slot(struct replica_metadata *md, u64 slot, u64 region)
{
	u64 index;
	__le64 *p = replica_md_slot_ptr(md, slot, &index);

	*p = cpu_to_le64(region == U64_MAX ? 0 : region + 1);
	__set_bit(index, md->dirty_now);
}

/* Blocks in use for the geometry in md->sb. */
static void set_block_counts(struct replica_metadata *md)
{
	md->store_slots = replica_store_slots(md->sb.sync_type,
					      md->sb.source_sectors,
					      md->sb.target_sectors,
					      md->sb.region_sectors);
	md->bitmap_blocks = replica_bitmap_blocks(md->sb.nr_regions);
	md->nr_blocks = md->bitmap_blocks +
			replica_store_blocks(md->store_slots);
}

static void free_blocks(struct replica_metadata *md)
{
	u64 i;

	if (!md->blocks)
		return;
	for (i = 0; i < md->sb.capacity_blocks; i++)
		kfree(md->blocks[i]);
	kvfree(md->blocks);
	md->blocks = NULL;
}

/* Allocate in-core blocks 0..nr-1 (zeroed) that are not there yet. */
static int alloc_blocks(struct replica_metadata *md, u64 nr)
{
	u64 i;

	for (i = 0; i < nr; i++) {
		if (md->blocks[i])
			continue;
		md->blocks[i] = kzalloc(REPLICA_META_BLOCK_SIZE, GFP_KERNEL);
		if (!md->blocks[i])
			return -ENOMEM;
	}
	return 0;
}

static int alloc_tracking(struct replica_metadata *md, u64 capacity)
{
	md->blocks = kvcalloc(capacity, sizeof(void *), GFP_KERNEL);
	md->dirty_now = bitmap_zalloc(capacity, GFP_KERNEL);
	md->dirty_prev = bitmap_zalloc(capacity, GFP_KERNEL);
	md->bounce = kmalloc(REPLICA_META_BLOCK_SIZE, GFP_KERNEL);
	if (!md->blocks || !md->dirty_now || !md->dirty_prev || !md->bounce)
		return -ENOMEM;
	return 0;
}

/* Set bits [from, to) of the in-core bitmap. */
static void set_bit_range(struct replica_metadata *md, u64 from, u64 to)
{
	u64 r;

	for (r = from; r < to; r++)
		replica_md_set(md, r);
}

static int write_sb(struct replica_metadata *md, const struct replica_sb *sb)
{
	memset(md->bounce, 0, REPLICA_META_BLOCK_SIZE);
	replica_sb_encode(sb, md->bounce);
	return md_block_io(md, REQ_OP_WRITE | REQ_PREFLUSH | REQ_FUA,
			   sb->blocknr, md->bounce);
}

/* Seal md->bounce as bitmap block `index` and write it into `area`. */
static int write_bounce_to_area(struct replica_metadata *md, u32 area,
				u64 index)
{
	replica_bitmap_seal(md->bounce, index);
	return md_block_io(md, REQ_OP_WRITE,
			   replica_area_start(md->sb.capacity_blocks, area) + index,
			   md->bounce);
}

/* Write an in-core block nobody else can be changing (format time). */
static int write_area_block(struct replica_metadata *md, u32 area, u64 index)
{
	memcpy(md->bounce, md->blocks[index], REPLICA_META_BLOCK_SIZE);
	return write_bounce_to_area(md, area, index);
}

/* Write an in-core block, copied under the lock that guards its bits. */
static int write_area_block_locked(struct replica_metadata *md, u32 area,
				   u64 index, spinlock_t *lock)
{
	spin_lock_irq(lock);
	memcpy(md->bounce, md->blocks[index], REPLICA_META_BLOCK_SIZE);
	spin_unlock_irq(lock);
	return write_bounce_to_area(md, area, index);
}

static int format(struct replica_metadata *md,
		  const struct replica_md_geometry *geo, u64 capacity,
		  char **error)
{
	struct replica_sb *sb = &md->sb;
	u64 i;
	u32 area;
	int r;

	memset(sb, 0, sizeof(*sb));
	sb->version = REPLICA_FORMAT_VERSION;
	sb->generation = 1;
	sb->blocknr = 1;
	get_random_bytes(sb->uuid, sizeof(sb->uuid));
	sb->source_sectors = geo->source_sectors;
	sb->target_sectors = geo->target_sectors;
	sb->nr_regions = replica_nr_regions(geo->source_sectors,
					    geo->region_sectors);
	sb->region_sectors = geo->region_sectors;
	sb->sync_type = geo->sync_type;
	sb->mode = geo->mode;
	sb->copy_state = REPLICA_CS_INITIALIZED;
	sb->active_area = 1;
	sb->capacity_blocks = capacity;
	sb->created_ns = ktime_get_real_ns();

	set_block_counts(md);
	if (md->nr_blocks > capacity) {
		*error = "Metadata device too small for this relationship";
		return -ENOSPC;
	}
	r = alloc_blocks(md, md->nr_blocks);
	if (r) {
		*error = "Cannot allocate metadata bitmap";
		return r;
	}
	if (geo->all_set) {
		set_bit_range(md, 0, sb->nr_regions);
		sb->bits_set = sb->nr_regions;
	}

	/* Both areas identical, so either can be the next commit's base. */
	for (area = 0; area < 2; area++) {
		for (i = 0; i < md->nr_blocks; i++) {
			r = write_area_block(md, area, i);
			if (r)
				goto io_error;
		}
	}
	r = write_sb(md, sb);
	if (r)
		goto io_error;
	bitmap_zero(md->dirty_now, capacity);
	md->formatted = true;
	return 0;

io_error:
	*error = "Cannot write metadata while formatting";
	return r;
}

static int reopen(struct replica_metadata *md,
		  const struct replica_md_geometry *geo, u64 meta_blocks,
		  char **error)
{
	struct replica_sb *sb = &md->sb;
	u64 i, start;
	int r;

	if (sb->sync_type != geo->sync_type) {
		*error = "Metadata belongs to a relationship of another sync type";
		return -EINVAL;
	}
	if (sb->region_sectors != geo->region_sectors) {
		*error = "Region size does not match the metadata";
		return -EINVAL;
	}
	if (REPLICA_FIRST_BITMAP_BLOCK + 2 * sb->capacity_blocks > meta_blocks) {
		*error = "Metadata device is smaller than its metadata";
		return -EINVAL;
	}
	if (geo->source_sectors < sb->source_sectors) {
		*error = "Shrinking a replica is not supported";
		return -EINVAL;
	}

	set_block_counts(md);
	r = alloc_blocks(md, md->nr_blocks);
	if (r) {
		*error = "Cannot allocate metadata bitmap";
		return r;
	}
	start = replica_area_start(sb->capacity_blocks, sb->active_area);
	for (i = 0; i < md->nr_blocks; i++) {
		r = md_block_io(md, REQ_OP_READ, start + i, md->blocks[i]);
		if (r) {
			*error = "Cannot read metadata bitmap";
			return r;
		}
		r = replica_bitmap_check(md->blocks[i], i);
		if (r) {
			DMERR("bitmap block %llu: %s", i,
			      replica_format_strerror(r));
			*error = "Metadata bitmap is corrupt";
			return -EILSEQ;
		}
	}
	/* The inactive area is one commit behind: rewrite it all next. */
	bitmap_fill(md->dirty_prev, md->nr_blocks);
	return 0;
}

int replica_md_open(struct replica_metadata *md, struct block_device *bdev,
		    const struct replica_md_geometry *geo, char **error)
{
	u64 meta_sectors = bdev_nr_sectors(bdev);
	u64 meta_blocks = meta_sectors / REPLICA_META_BLOCK_SECTORS;
	u64 capacity = replica_capacity_blocks(meta_sectors);
	void *slot0 = NULL, *slot1 = NULL;
	u32 which;
	int r;

	memset(md, 0, sizeof(*md));
	md->bdev = bdev;
	mutex_init(&md->commit_lock);
	md->io_client = dm_io_client_create();
	if (IS_ERR(md->io_client)) {
		r = PTR_ERR(md->io_client);
		md->io_client = NULL;
		*error = "Cannot create metadata dm-io client";
		return r;
	}

	slot0 = kmalloc(REPLICA_META_BLOCK_SIZE, GFP_KERNEL);
	slot1 = kmalloc(REPLICA_META_BLOCK_SIZE, GFP_KERNEL);
	if (!slot0 || !slot1) {
		r = -ENOMEM;
		*error = "Cannot allocate superblock buffers";
		goto out;
	}
	if (meta_blocks < REPLICA_FIRST_BITMAP_BLOCK + 2) {
		r = -EINVAL;
		*error = "Metadata device is too small";
		goto out;
	}
	r = md_block_io(md, REQ_OP_READ, 0, slot0);
	if (!r)
		r = md_block_io(md, REQ_OP_READ, 1, slot1);
	if (r) {
		*error = "Cannot read metadata superblocks";
		goto out;
	}

	r = replica_sb_pick(slot0, slot1, &md->sb, &which);
	if (r == REPLICA_FMT_ZERO && !geo->may_format) {
		r = -ENOENT;
		*error = "No relationship on this metadata device: load the origin table first";
	} else if (r == REPLICA_FMT_ZERO) {
		u64 regions = replica_nr_regions(geo->source_sectors,
						 geo->region_sectors);

		if (replica_bitmap_blocks(regions) > capacity) {
			r = -ENOSPC;
			*error = "Metadata device too small for this many regions";
			goto out;
		}
		r = alloc_tracking(md, capacity);
		if (r) {
			*error = "Cannot allocate metadata tracking";
			goto out;
		}
		r = format(md, geo, capacity, error);
	} else if (r == REPLICA_FMT_OK) {
		r = alloc_tracking(md, md->sb.capacity_blocks);
		if (r) {
			*error = "Cannot allocate metadata tracking";
			goto out;
		}
		r = reopen(md, geo, meta_blocks, error);
	} else {
		DMERR("superblock: %s", replica_format_strerror(r));
		*error = "Metadata superblock is invalid";
		r = -EILSEQ;
	}
out:
	kfree(slot0);
	kfree(slot1);
	if (r)
		replica_md_close(md);
	return r;
}

void replica_md_close(struct replica_metadata *md)
{
	free_blocks(md);
	bitmap_free(md->dirty_now);
	bitmap_free(md->dirty_prev);
	kfree(md->bounce);
	md->dirty_now = NULL;
	md->dirty_prev = NULL;
	md->bounce = NULL;
	if (md->io_client)
		dm_io_client_destroy(md->io_client);
	md->io_client = NULL;
}

int replica_md_grow(struct replica_metadata *md, u64 source_sectors,
		    u64 target_sectors, bool set_new, char **error)
{
	u64 old_regions = md->sb.nr_regions;
	u64 regions = replica_nr_regions(source_sectors, md->sb.region_sectors);
	u64 blocks = replica_bitmap_blocks(regions);
	int r;

	if (replica_bitmap_blocks(regions) > md->sb.capacity_blocks) {
		*error = "Metadata device too small to grow to this size";
		return -ENOSPC;
	}
	r = alloc_blocks(md, blocks);
	if (r) {
		*error = "Cannot allocate metadata bitmap";
		return r;
	}
	/* A partial last region that grows must be copied again. */
	if (set_new && old_regions && source_sectors > md->sb.source_sectors &&
	    md->sb.source_sectors % md->sb.region_sectors)
		replica_md_set(md, old_regions - 1);
	if (set_new)
		set_bit_range(md, old_regions, regions);
	md->sb.nr_regions = regions;
	md->sb.source_sectors = source_sectors;
	md->sb.target_sectors = target_sectors;
	set_block_counts(md);
	/* New blocks exist in neither area: both must be written. */
	bitmap_set(md->dirty_now, 0, blocks);
	return 0;
}

int replica_md_commit(struct replica_metadata *md, spinlock_t *snapshot_lock,
		      const struct replica_sb *next)
{
	struct replica_sb sb;
	unsigned long *writeset, *changed;
	u64 cap = md->sb.capacity_blocks, i;
	u32 area;
	int r = 0;

	writeset = bitmap_zalloc(cap, GFP_NOIO);
	changed = bitmap_zalloc(cap, GFP_NOIO);
	if (!writeset || !changed) {
		bitmap_free(writeset);
		bitmap_free(changed);
		return -ENOMEM;
	}

	mutex_lock(&md->commit_lock);
	spin_lock_irq(snapshot_lock);
	bitmap_copy(changed, md->dirty_now, cap);
	bitmap_zero(md->dirty_now, cap);
	spin_unlock_irq(snapshot_lock);
	bitmap_or(writeset, changed, md->dirty_prev, cap);

	area = md->sb.active_area ^ 1;
	for_each_set_bit(i, writeset, cap) {
		if (i >= md->nr_blocks)
			break;
		r = write_area_block_locked(md, area, i, snapshot_lock);
		if (r)
			goto fail;
	}

	sb = md->sb;
	sb.generation++;
	sb.blocknr = sb.generation % REPLICA_SB_SLOTS;
	sb.active_area = area;
	sb.copy_state = next->copy_state;
	sb.mode = next->mode;
	sb.flags = next->flags;
	sb.bits_set = next->bits_set;
	sb.pit_ns = next->pit_ns;
	/* PREFLUSH orders the bitmap blocks before the superblock. */
	r = write_sb(md, &sb);
	if (r)
		goto fail;
	md->sb = sb;
	/* The area just left behind lacks exactly this commit's changes. */
	bitmap_copy(md->dirty_prev, changed, cap);
	mutex_unlock(&md->commit_lock);
	bitmap_free(writeset);
	bitmap_free(changed);
	return 0;

fail:
	/* Retry every block next time. */
	spin_lock_irq(snapshot_lock);
	bitmap_or(md->dirty_now, md->dirty_now, changed, cap);
	spin_unlock_irq(snapshot_lock);
	mutex_unlock(&md->commit_lock);
	bitmap_free(writeset);
	bitmap_free(changed);
	return r;
}
