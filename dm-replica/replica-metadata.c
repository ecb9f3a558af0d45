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
		.bi_opf = opf | REQ_META | REQ_SYNC,
		.mem.type = DM_IO_KMEM,
		.mem.ptr.addr = buf,
		.client = md->io_client,
	};

	return dm_io(&req, 1, &where, NULL, IOPRIO_DEFAULT);
}

int replica_flush_bdev(struct block_device *bdev)
{
	return blkdev_issue_flush(bdev);
}

/* ---- Bits ---- */
static void flip_bit(struct replica_metadata *md, u64 region, bool set)
{
	u64 index;
	u32 bit;
	u8 *bits;

	replica_region_to_bit(region, &index, &bit);
	bits = replica_bitmap_bits(md->blocks[index]);
	if (set)
		bits[bit >> 3] |= 1u << (bit & 7);
	else
		bits[bit >> 3] &= ~(1u << (bit & 7));
	__set_bit(index, md->t.dirty);
}

void replica_md_set(struct replica_metadata *md, u64 region)
{
	replica_md_assert_locked(md);
	flip_bit(md, region, true);
}

void replica_md_clear(struct replica_metadata *md, u64 region)
{
	replica_md_assert_locked(md);
	flip_bit(md, region, false);
}

void replica_md_set_gated(struct replica_metadata *md, u64 region)
{
	u64 index;
	u32 bit;

	replica_md_assert_locked(md);
	flip_bit(md, region, true);
	replica_region_to_bit(region, &index, &bit);
	md->t.gate_seq[index] = md->open_seq;
}

u64 replica_md_gate_seq(struct replica_metadata *md, u64 region)
{
	u64 index;
	u32 bit;

	replica_md_assert_locked(md);
	replica_region_to_bit(region, &index, &bit);
	return md->t.gate_seq[index];
}

void replica_md_set_slot(struct replica_metadata *md, u64 slot, u64 region)
{
	u64 index;
	__le64 *p = replica_md_slot_ptr(md, slot, &index);

	replica_md_assert_locked(md);
	*p = cpu_to_le64(region == U64_MAX ? 0 : region + 1);
	__set_bit(index, md->t.dirty);
}

/* Bits of bitmap block `index` that are regions (the last one is partial). */
static u32 block_regions(struct replica_metadata *md, u64 index)
{
	u64 first = index * REPLICA_BITS_PER_BLOCK;

	return min_t(u64, REPLICA_BITS_PER_BLOCK, md->sb.nr_regions - first);
}

/* The bits of a block as little-endian 64-bit words (the block is aligned). */
static __le64 *block_words(struct replica_metadata *md, u64 index)
{
	return (__le64 *)replica_bitmap_bits(md->blocks[index]);
}

/* Set bits [lo, lo + n) of a block (on-disk order: byte i/8, bit i%8). */
static void set_block_bits(void *block, u32 lo, u32 n)
{
	u8 *bits = replica_bitmap_bits(block);
#ifdef __LITTLE_ENDIAN
	bitmap_set((unsigned long *)bits, lo, n);
#else
	u32 b;

	for (b = lo; b < lo + n; b++)
		__set_bit_le(b, bits);
#endif
}

static u64 word_mask(u32 nbits, u32 word)
{
	u32 n = nbits - word * 64;

	return n >= 64 ? ~0ULL : (1ULL << n) - 1;
}

u64 replica_md_weight(struct replica_metadata *md)
{
	u64 index, weight = 0;
	u32 w, nbits;

	for (index = 0; index < md->bitmap_blocks; index++) {
		__le64 *words = block_words(md, index);

		nbits = block_regions(md, index);
		for (w = 0; w < DIV_ROUND_UP(nbits, 64); w++)
			weight += hweight64(le64_to_cpu(words[w]) &
					    word_mask(nbits, w));
	}
	return weight;
}

void replica_md_to_map(struct replica_metadata *md, unsigned long *map,
		       bool invert)
{
	u64 index, word = 0;
	u32 w, nbits;

	/* A block's bits start on a word boundary of the map. */
	BUILD_BUG_ON(REPLICA_BITS_PER_BLOCK % 64);

	for (index = 0; index < md->bitmap_blocks; index++) {
		__le64 *words = block_words(md, index);

		nbits = block_regions(md, index);
		for (w = 0; w < DIV_ROUND_UP(nbits, 64); w++, word++) {
			u64 v = le64_to_cpu(words[w]);

			v = (invert ? ~v : v) & word_mask(nbits, w);
#if BITS_PER_LONG == 64
			map[word] = v;
#else
			map[2 * word] = (u32)v;
			if (nbits - w * 64 > 32)
				map[2 * word + 1] = v >> 32;
#endif
		}
	}
}

void replica_md_clear_all(struct replica_metadata *md)
{
	u64 index;

	replica_md_assert_locked(md);
	for (index = 0; index < md->nr_blocks; index++) {
		memset(replica_bitmap_bits(md->blocks[index]), 0,
		       REPLICA_META_BLOCK_SIZE - REPLICA_BITMAP_HDR_SIZE);
		__set_bit(index, md->t.dirty);
	}
}

/* ---- Allocation ---- */

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

static void free_tracking(struct replica_md_tracking *t)
{
	bitmap_free(t->dirty);
	bitmap_free(t->changed);
	bitmap_free(t->stale);
	bitmap_free(t->writeset);
	kvfree(t->gate_seq);
	memset(t, 0, sizeof(*t));
}

/* Allocated once per size, so a commit never allocates. */
static int alloc_tracking(struct replica_md_tracking *t, u64 nr_blocks)
{
	unsigned int n = max_t(u64, nr_blocks, 1);

	/* Bitmap blocks are bounded by the metadata device: < 2^32. */
	if (nr_blocks > UINT_MAX)
		return -EINVAL;
	t->nr_blocks = nr_blocks;
	t->dirty = bitmap_zalloc(n, GFP_KERNEL);
	t->changed = bitmap_zalloc(n, GFP_KERNEL);
	t->stale = bitmap_zalloc(n, GFP_KERNEL);
	t->writeset = bitmap_zalloc(n, GFP_KERNEL);
	t->gate_seq = kvcalloc(n, sizeof(u64), GFP_KERNEL);
	if (!t->dirty || !t->changed || !t->stale || !t->writeset ||
	    !t->gate_seq) {
		free_tracking(t);
		return -ENOMEM;
	}
	return 0;
}

/* ---- Format and open ---- */
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
		for (i = 0; i < md->bitmap_blocks; i++)
			set_block_bits(md->blocks[i], 0, block_regions(md, i));
		sb->bits_set = sb->nr_regions;
	}

	/* Both areas identical, so either can be the next commit's base. */
	for (area = 0; area < 2; area++) {
		for (i = 0; i < md->nr_blocks; i++) {
			memcpy(md->bounce, md->blocks[i], REPLICA_META_BLOCK_SIZE);
			r = write_bounce_to_area(md, area, i);
			if (r)
				goto io_error;
		}
	}
	r = write_sb(md, sb);
	if (r)
		goto io_error;
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
	/* A store's slots are laid out from the target's size. */
	if (geo->target_sectors < sb->target_sectors ||
	    (geo->target_sectors != sb->target_sectors &&
	     replica_store_slots(sb->sync_type, sb->source_sectors,
				 sb->target_sectors, sb->region_sectors))) {
		*error = "Target device size does not match the metadata";
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
	md->clean_shutdown = sb->flags & REPLICA_SB_CLEAN_SHUTDOWN;
	return 0;
}

int replica_md_open(struct replica_metadata *md, struct block_device *bdev,
		    spinlock_t *lock, const struct replica_md_geometry *geo,
		    char **error)
{
	u64 meta_sectors = bdev_nr_sectors(bdev);
	u64 meta_blocks = meta_sectors / REPLICA_META_BLOCK_SECTORS;
	u64 capacity = replica_capacity_blocks(meta_sectors);
	void *slot0 = NULL, *slot1 = NULL;
	u32 which;
	int r;

	memset(md, 0, sizeof(*md));
	md->bdev = bdev;
	md->lock = lock;
	md->open_seq = 1;
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
	md->bounce = kmalloc(REPLICA_META_BLOCK_SIZE, GFP_KERNEL);
	if (!slot0 || !slot1 || !md->bounce) {
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
		goto out;
	} else if (r == REPLICA_FMT_ZERO) {
		u64 regions = replica_nr_regions(geo->source_sectors,
						 geo->region_sectors);

		if (replica_bitmap_blocks(regions) > capacity) {
			r = -ENOSPC;
			*error = "Metadata device too small for this many regions";
			goto out;
		}
		md->blocks = kvcalloc(capacity, sizeof(void *), GFP_KERNEL);
		r = md->blocks ? format(md, geo, capacity, error) : -ENOMEM;
	} else if (r == REPLICA_FMT_OK) {
		md->blocks = kvcalloc(md->sb.capacity_blocks, sizeof(void *),
				      GFP_KERNEL);
		r = md->blocks ? reopen(md, geo, meta_blocks, error) : -ENOMEM;
	} else {
		DMERR("superblock: %s", replica_format_strerror(r));
		*error = "Metadata superblock is invalid";
		r = -EILSEQ;
		goto out;
	}
	if (r == -ENOMEM)
		*error = "Cannot allocate metadata bitmap";
	if (!r) {
		r = alloc_tracking(&md->t, md->nr_blocks);
		if (r)
			*error = "Cannot allocate metadata tracking";
	}
	/*
	 * The inactive area may be one commit behind (or, just formatted,
	 * equal): rewrite it all with the next commit.
	 */
	if (!r && !md->formatted)
		bitmap_fill(md->t.stale, md->nr_blocks);
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
	free_tracking(&md->t);
	kfree(md->bounce);
	md->bounce = NULL;
	if (md->io_client)
		dm_io_client_destroy(md->io_client);
	md->io_client = NULL;
}

/* ---- Grow ---- */
int replica_md_grow_prepare(struct replica_metadata *md, u64 source_sectors,
			    u64 target_sectors, struct replica_md_growth *g,
			    char **error)
{
	u64 regions = replica_nr_regions(source_sectors, md->sb.region_sectors);
	u64 blocks = replica_bitmap_blocks(regions);
	int r;

	memset(g, 0, sizeof(*g));
	g->source_sectors = source_sectors;
	g->target_sectors = target_sectors;
	if (blocks > md->sb.capacity_blocks) {
		*error = "Metadata device too small to grow to this size";
		return -ENOSPC;
	}
	mutex_lock(&md->commit_lock);
	/* Blocks past the ones in use are touched by nobody else. */
	r = alloc_blocks(md, blocks);
	if (!r)
		r = alloc_tracking(&g->t, blocks);
	if (r) {
		mutex_unlock(&md->commit_lock);
		*error = "Cannot allocate metadata bitmap";
		return r;
	}
	return 0;
}

static void copy_tracking(struct replica_md_tracking *to,
			  const struct replica_md_tracking *from)
{
	unsigned int n = from->nr_blocks;

	bitmap_copy(to->dirty, from->dirty, n);
	bitmap_copy(to->changed, from->changed, n);
	bitmap_copy(to->stale, from->stale, n);
	memcpy(to->gate_seq, from->gate_seq, n * sizeof(u64));
}

void replica_md_grow_apply(struct replica_metadata *md,
			   struct replica_md_growth *g, bool set_new)
{
	struct replica_md_tracking old = md->t;
	u64 old_regions = md->sb.nr_regions, index, from;
	u64 regions = replica_nr_regions(g->source_sectors,
					 md->sb.region_sectors);

	replica_md_assert_locked(md);
	copy_tracking(&g->t, &old);
	md->t = g->t;
	g->t = old;		/* freed by release */

	md->sb.nr_regions = regions;
	md->sb.source_sectors = g->source_sectors;
	md->sb.target_sectors = g->target_sectors;
	set_block_counts(md);
	/* A partial last region that grows must be copied again. */
	from = old_regions;
	if (set_new && from && md->sb.source_sectors % md->sb.region_sectors)
		from--;
	if (set_new && from < regions) {
		for (index = from / REPLICA_BITS_PER_BLOCK;
		     index < md->bitmap_blocks; index++) {
			u64 first = index * REPLICA_BITS_PER_BLOCK;
			u64 lo = max(first, from) - first;

			set_block_bits(md->blocks[index], lo,
				       block_regions(md, index) - lo);
			md->t.gate_seq[index] = md->open_seq;
		}
	}
	/* New blocks exist in neither area: both must be written. */
	bitmap_set(md->t.dirty, 0, md->nr_blocks);
	bitmap_set(md->t.stale, 0, md->nr_blocks);
}

void replica_md_grow_release(struct replica_metadata *md,
			     struct replica_md_growth *g)
{
	free_tracking(&g->t);
	mutex_unlock(&md->commit_lock);
}

/* ---- Commit ---- */
u64 replica_md_pre_commit(struct replica_metadata *md)
{
	struct replica_md_tracking *t = &md->t;

	replica_md_assert_locked(md);
	/* A failed commit left its changes in dirty: they are retaken. */
	bitmap_or(t->changed, t->changed, t->dirty, t->nr_blocks);
	bitmap_zero(t->dirty, t->nr_blocks);
	return md->open_seq++;
}

/* Write an in-core block into `area`, copied under the lock. */
static int write_area_block(struct replica_metadata *md, u32 area, u64 index)
{
	spin_lock_irq(md->lock);
	memcpy(md->bounce, md->blocks[index], REPLICA_META_BLOCK_SIZE);
	spin_unlock_irq(md->lock);
	return write_bounce_to_area(md, area, index);
}

int replica_md_commit(struct replica_metadata *md, u64 seq,
		      const struct replica_sb *next)
{
	struct replica_md_tracking *t;
	struct replica_sb sb;
	u64 i;
	u32 area;
	int r = 0;

	mutex_lock(&md->commit_lock);
	t = &md->t;
	/* The inactive area lacks the last commit's changes and these. */
	bitmap_or(t->writeset, t->changed, t->stale, t->nr_blocks);

	area = md->sb.active_area ^ 1;
	for_each_set_bit(i, t->writeset, t->nr_blocks) {
		r = write_area_block(md, area, i);
		if (r)
			goto out;
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
		goto out;
	md->sb = sb;
	/* The area just left behind lacks exactly this commit's changes. */
	spin_lock_irq(md->lock);
	bitmap_copy(t->stale, t->changed, t->nr_blocks);
	bitmap_zero(t->changed, t->nr_blocks);
	WRITE_ONCE(md->committed_seq, max(md->committed_seq, seq));
	spin_unlock_irq(md->lock);
out:
	mutex_unlock(&md->commit_lock);
	return r;
}
