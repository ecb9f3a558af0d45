// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-replica on-disk format: crc32c, region arithmetic, superblock and
 * bitmap block encoding and validation.
 *
 * Shared by the kernel module and the userspace helper and tests; see
 * replica-format.h for the layout and the contract of every function.
 */
#include "replica-format.h"

#ifdef __KERNEL__
#include <linux/crc32c.h>
#endif

/* The on-disk structures must not change size or shape by accident. */
_Static_assert(sizeof(struct replica_sb_disk) == 128,
	       "replica_sb_disk must be 128 bytes");
_Static_assert(sizeof(struct replica_bitmap_hdr_disk) ==
	       REPLICA_BITMAP_HDR_SIZE,
	       "bitmap header size mismatch");
_Static_assert(offsetof(struct replica_sb_disk, crc) == 4 &&
	       offsetof(struct replica_bitmap_hdr_disk, crc) == 4,
	       "crc must sit at byte 4 of every metadata block");
_Static_assert(offsetof(struct replica_sb_disk, capacity_blocks) == 96,
	       "replica_sb_disk layout changed");

#define REPLICA_CRC_OFFSET	4u
#define REPLICA_CRC_SIZE	4u

/*
 * Largest capacity (blocks per bitmap area) whose whole metadata device,
 * 2 superblock blocks + 2 areas, still has a size in sectors that fits
 * in 64 bits.  Anything larger cannot be a real device.
 */
#define REPLICA_MAX_CAPACITY_BLOCKS \
	((~0ull / REPLICA_META_BLOCK_SECTORS - REPLICA_FIRST_BITMAP_BLOCK) / 2)

const char *replica_format_strerror(int err)
{
	switch (err) {
	case REPLICA_FMT_OK:
		return "ok";
	case REPLICA_FMT_ZERO:
		return "block is all zeroes (not formatted)";
	case REPLICA_FMT_BAD_MAGIC:
		return "bad magic number";
	case REPLICA_FMT_BAD_CSUM:
		return "checksum mismatch";
	case REPLICA_FMT_BAD_VERSION:
		return "unsupported format version";
	case REPLICA_FMT_BAD_FIELD:
		return "field out of range or inconsistent";
	case REPLICA_FMT_BAD_LOCATION:
		return "block found at the wrong location";
	default:
		return "unknown error";
	}
}

#ifdef __KERNEL__

u32 replica_crc32c(u32 seed, const void *buf, size_t len)
{
	const u8 *p = buf;

	/* The kernel's crc32c() takes an unsigned int length. */
	while (len) {
		unsigned int n = len > (1u << 30) ? (1u << 30) : (unsigned int)len;

		seed = crc32c(seed, p, n);
		p += n;
		len -= n;
	}
	return seed;
}

#else /* !__KERNEL__ */

/* Reflected Castagnoli polynomial 0x82f63b78, one byte at a time. */
static const u32 replica_crc32c_table[256] = {
	0x00000000u, 0xf26b8303u, 0xe13b70f7u, 0x1350f3f4u,
	0xc79a971fu, 0x35f1141cu, 0x26a1e7e8u, 0xd4ca64ebu,
	0x8ad958cfu, 0x78b2dbccu, 0x6be22838u, 0x9989ab3bu,
	0x4d43cfd0u, 0xbf284cd3u, 0xac78bf27u, 0x5e133c24u,
	0x105ec76fu, 0xe235446cu, 0xf165b798u, 0x030e349bu,
	0xd7c45070u, 0x25afd373u, 0x36ff2087u, 0xc494a384u,
	0x9a879fa0u, 0x68ec1ca3u, 0x7bbcef57u, 0x89d76c54u,
	0x5d1d08bfu, 0xaf768bbcu, 0xbc267848u, 0x4e4dfb4bu,
	0x20bd8edeu, 0xd2d60dddu, 0xc186fe29u, 0x33ed7d2au,
	0xe72719c1u, 0x154c9ac2u, 0x061c6936u, 0xf477ea35u,
	0xaa64d611u, 0x580f5512u, 0x4b5fa6e6u, 0xb93425e5u,
	0x6dfe410eu, 0x9f95c20du, 0x8cc531f9u, 0x7eaeb2fau,
	0x30e349b1u, 0xc288cab2u, 0xd1d83946u, 0x23b3ba45u,
	0xf779deaeu, 0x05125dadu, 0x1642ae59u, 0xe4292d5au,
	0xba3a117eu, 0x4851927du, 0x5b016189u, 0xa96ae28au,
	0x7da08661u, 0x8fcb0562u, 0x9c9bf696u, 0x6ef07595u,
	0x417b1dbcu, 0xb3109ebfu, 0xa0406d4bu, 0x522bee48u,
	0x86e18aa3u, 0x748a09a0u, 0x67dafa54u, 0x95b17957u,
	0xcba24573u, 0x39c9c670u, 0x2a993584u, 0xd8f2b687u,
	0x0c38d26cu, 0xfe53516fu, 0xed03a29bu, 0x1f682198u,
	0x5125dad3u, 0xa34e59d0u, 0xb01eaa24u, 0x42752927u,
	0x96bf4dccu, 0x64d4cecfu, 0x77843d3bu, 0x85efbe38u,
	0xdbfc821cu, 0x2997011fu, 0x3ac7f2ebu, 0xc8ac71e8u,
	0x1c661503u, 0xee0d9600u, 0xfd5d65f4u, 0x0f36e6f7u,
	0x61c69362u, 0x93ad1061u, 0x80fde395u, 0x72966096u,
	0xa65c047du, 0x5437877eu, 0x4767748au, 0xb50cf789u,
	0xeb1fcbadu, 0x197448aeu, 0x0a24bb5au, 0xf84f3859u,
	0x2c855cb2u, 0xdeeedfb1u, 0xcdbe2c45u, 0x3fd5af46u,
	0x7198540du, 0x83f3d70eu, 0x90a324fau, 0x62c8a7f9u,
	0xb602c312u, 0x44694011u, 0x5739b3e5u, 0xa55230e6u,
	0xfb410cc2u, 0x092a8fc1u, 0x1a7a7c35u, 0xe811ff36u,
	0x3cdb9bddu, 0xceb018deu, 0xdde0eb2au, 0x2f8b6829u,
	0x82f63b78u, 0x709db87bu, 0x63cd4b8fu, 0x91a6c88cu,
	0x456cac67u, 0xb7072f64u, 0xa457dc90u, 0x563c5f93u,
	0x082f63b7u, 0xfa44e0b4u, 0xe9141340u, 0x1b7f9043u,
	0xcfb5f4a8u, 0x3dde77abu, 0x2e8e845fu, 0xdce5075cu,
	0x92a8fc17u, 0x60c37f14u, 0x73938ce0u, 0x81f80fe3u,
	0x55326b08u, 0xa759e80bu, 0xb4091bffu, 0x466298fcu,
	0x1871a4d8u, 0xea1a27dbu, 0xf94ad42fu, 0x0b21572cu,
	0xdfeb33c7u, 0x2d80b0c4u, 0x3ed04330u, 0xccbbc033u,
	0xa24bb5a6u, 0x502036a5u, 0x4370c551u, 0xb11b4652u,
	0x65d122b9u, 0x97baa1bau, 0x84ea524eu, 0x7681d14du,
	0x2892ed69u, 0xdaf96e6au, 0xc9a99d9eu, 0x3bc21e9du,
	0xef087a76u, 0x1d63f975u, 0x0e330a81u, 0xfc588982u,
	0xb21572c9u, 0x407ef1cau, 0x532e023eu, 0xa145813du,
	0x758fe5d6u, 0x87e466d5u, 0x94b49521u, 0x66df1622u,
	0x38cc2a06u, 0xcaa7a905u, 0xd9f75af1u, 0x2b9cd9f2u,
	0xff56bd19u, 0x0d3d3e1au, 0x1e6dcdeeu, 0xec064eedu,
	0xc38d26c4u, 0x31e6a5c7u, 0x22b65633u, 0xd0ddd530u,
	0x0417b1dbu, 0xf67c32d8u, 0xe52cc12cu, 0x1747422fu,
	0x49547e0bu, 0xbb3ffd08u, 0xa86f0efcu, 0x5a048dffu,
	0x8ecee914u, 0x7ca56a17u, 0x6ff599e3u, 0x9d9e1ae0u,
	0xd3d3e1abu, 0x21b862a8u, 0x32e8915cu, 0xc083125fu,
	0x144976b4u, 0xe622f5b7u, 0xf5720643u, 0x07198540u,
	0x590ab964u, 0xab613a67u, 0xb831c993u, 0x4a5a4a90u,
	0x9e902e7bu, 0x6cfbad78u, 0x7fab5e8cu, 0x8dc0dd8fu,
	0xe330a81au, 0x115b2b19u, 0x020bd8edu, 0xf0605beeu,
	0x24aa3f05u, 0xd6c1bc06u, 0xc5914ff2u, 0x37faccf1u,
	0x69e9f0d5u, 0x9b8273d6u, 0x88d28022u, 0x7ab90321u,
	0xae7367cau, 0x5c18e4c9u, 0x4f48173du, 0xbd23943eu,
	0xf36e6f75u, 0x0105ec76u, 0x12551f82u, 0xe03e9c81u,
	0x34f4f86au, 0xc69f7b69u, 0xd5cf889du, 0x27a40b9eu,
	0x79b737bau, 0x8bdcb4b9u, 0x988c474du, 0x6ae7c44eu,
	0xbe2da0a5u, 0x4c4623a6u, 0x5f16d052u, 0xad7d5351u,
};

u32 replica_crc32c(u32 seed, const void *buf, size_t len)
{
	const u8 *p = buf;
	u32 crc = seed;

	while (len--)
		crc = (crc >> 8) ^ replica_crc32c_table[(crc ^ *p++) & 0xffu];
	return crc;
}

#endif /* !__KERNEL__ */

/* crc32c of a metadata block, with its crc field taken as zero. */
static u32 replica_block_crc(const void *block)
{
	static const u8 zero_crc[REPLICA_CRC_SIZE];
	const u8 *p = block;
	u32 crc = ~0u;

	crc = replica_crc32c(crc, p, REPLICA_CRC_OFFSET);
	crc = replica_crc32c(crc, zero_crc, REPLICA_CRC_SIZE);
	crc = replica_crc32c(crc, p + REPLICA_CRC_OFFSET + REPLICA_CRC_SIZE,
			     REPLICA_META_BLOCK_SIZE - REPLICA_CRC_OFFSET -
			     REPLICA_CRC_SIZE);
	return crc;
}

static bool replica_mem_is_zero(const void *buf, size_t len)
{
	const u8 *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* Common first steps of every block check: zero, magic, crc. */
static int replica_check_magic_crc(const void *block, u32 magic)
{
	const struct replica_bitmap_hdr_disk *h = block;

	if (le32_to_cpu(h->magic) != magic) {
		if (replica_mem_is_zero(block, REPLICA_META_BLOCK_SIZE))
			return REPLICA_FMT_ZERO;
		return REPLICA_FMT_BAD_MAGIC;
	}
	if (le32_to_cpu(h->crc) != replica_block_crc(block))
		return REPLICA_FMT_BAD_CSUM;
	return REPLICA_FMT_OK;
}

bool replica_region_size_valid(u32 region_sectors)
{
	return region_sectors >= REPLICA_MIN_REGION_SECTORS &&
	       region_sectors <= REPLICA_MAX_REGION_SECTORS &&
	       !(region_sectors & (region_sectors - 1));
}

u64 replica_nr_regions(u64 sectors, u32 region_sectors)
{
	u32 rem;
	u64 n;

	if (!region_sectors)
		return 0;
	n = div_u64_rem(sectors, region_sectors, &rem);
	return rem ? n + 1 : n;
}

u64 replica_bitmap_blocks(u64 nr_regions)
{
	u32 rem;
	u64 n;

	n = div_u64_rem(nr_regions, REPLICA_BITS_PER_BLOCK, &rem);
	return rem ? n + 1 : n;
}

u64 replica_capacity_blocks(u64 meta_sectors)
{
	u64 blocks = meta_sectors / REPLICA_META_BLOCK_SECTORS;

	if (blocks < REPLICA_FIRST_BITMAP_BLOCK)
		return 0;
	return (blocks - REPLICA_FIRST_BITMAP_BLOCK) / 2;
}

u64 replica_min_meta_sectors(u64 nr_regions)
{
	u64 cap = replica_bitmap_blocks(nr_regions);

	/* An area always has at least one block (capacity_blocks > 0). */
	if (!cap)
		cap = 1;
	/* cap <= 2^64 / 32640, so none of this can overflow. */
	return (REPLICA_FIRST_BITMAP_BLOCK + 2 * cap) *
	       REPLICA_META_BLOCK_SECTORS;
}

u64 replica_store_slots(u32 sync_type, u64 source_sectors,
			u64 target_sectors, u32 region_sectors)
{
	if (sync_type != REPLICA_SYNC_SNAPSHOT ||
	    target_sectors >= source_sectors || !region_sectors)
		return 0;
	return div_u64(target_sectors, region_sectors);
}

u64 replica_store_blocks(u64 slots)
{
	return div_u64(slots, REPLICA_SLOTS_PER_BLOCK) +
	       (slots % REPLICA_SLOTS_PER_BLOCK ? 1 : 0);
}

u64 replica_area_blocks(u64 nr_regions, u64 store_slots)
{
	return replica_bitmap_blocks(nr_regions) +
	       replica_store_blocks(store_slots);
}

u64 replica_area_start(u64 capacity_blocks, u32 area)
{
	return REPLICA_FIRST_BITMAP_BLOCK + (u64)area * capacity_blocks;
}

void replica_region_to_bit(u64 region, u64 *block_index, u32 *bit)
{
	*block_index = div_u64_rem(region, REPLICA_BITS_PER_BLOCK, bit);
}

void replica_sb_encode(const struct replica_sb *sb, void *block)
{
	struct replica_sb_disk *d = block;

	memset(block, 0, REPLICA_META_BLOCK_SIZE);
	d->magic = cpu_to_le32(REPLICA_SB_MAGIC);
	d->version = cpu_to_le32(REPLICA_FORMAT_VERSION);
	d->flags = cpu_to_le32(sb->flags);
	d->generation = cpu_to_le64(sb->generation);
	d->blocknr = cpu_to_le64(sb->blocknr);
	memcpy(d->uuid, sb->uuid, sizeof(d->uuid));
	d->source_sectors = cpu_to_le64(sb->source_sectors);
	d->target_sectors = cpu_to_le64(sb->target_sectors);
	d->nr_regions = cpu_to_le64(sb->nr_regions);
	d->region_sectors = cpu_to_le32(sb->region_sectors);
	d->sync_type = cpu_to_le32(sb->sync_type);
	d->mode = cpu_to_le32(sb->mode);
	d->copy_state = cpu_to_le32(sb->copy_state);
	d->active_area = cpu_to_le32(sb->active_area);
	d->capacity_blocks = cpu_to_le64(sb->capacity_blocks);
	d->bits_set = cpu_to_le64(sb->bits_set);
	d->created_ns = cpu_to_le64(sb->created_ns);
	d->pit_ns = cpu_to_le64(sb->pit_ns);
	d->crc = cpu_to_le32(replica_block_crc(block));
}

static bool replica_sync_type_valid(u32 v)
{
	return v == REPLICA_SYNC_MIRROR || v == REPLICA_SYNC_SNAPSHOT ||
	       v == REPLICA_SYNC_CLONE;
}

static bool replica_mode_valid(u32 v)
{
	return v == REPLICA_MODE_SYNC || v == REPLICA_MODE_ASYNC;
}

static bool replica_copy_state_valid(u32 v)
{
	switch (v) {
	case REPLICA_CS_INITIALIZED:
	case REPLICA_CS_UNSYNCHRONIZED:
	case REPLICA_CS_SYNCHRONIZED:
	case REPLICA_CS_BROKEN:
	case REPLICA_CS_FRACTURED:
	case REPLICA_CS_SPLIT:
	case REPLICA_CS_INACTIVE:
	case REPLICA_CS_SUSPENDED:
	case REPLICA_CS_ABORTED:
	case REPLICA_CS_SKEWED:
	case REPLICA_CS_RESTORED:
		return true;
	default:
		return false;
	}
}

/* Range and consistency checks of an authentic superblock. */
static bool replica_sb_fields_valid(const struct replica_sb *s,
				    const struct replica_sb_disk *d)
{
	if (s->flags & ~REPLICA_SB_KNOWN_FLAGS)
		return false;
	if (!replica_region_size_valid(s->region_sectors))
		return false;
	if (!replica_sync_type_valid(s->sync_type) ||
	    !replica_mode_valid(s->mode) ||
	    !replica_copy_state_valid(s->copy_state))
		return false;
	if (s->active_area > 1)
		return false;
	if (s->capacity_blocks == 0 ||
	    s->capacity_blocks > REPLICA_MAX_CAPACITY_BLOCKS)
		return false;
	if (s->nr_regions != replica_nr_regions(s->source_sectors,
						s->region_sectors))
		return false;
	/* nr_regions <= capacity_blocks * bits per block, without overflow */
	if (replica_bitmap_blocks(s->nr_regions) > s->capacity_blocks)
		return false;
	if (s->bits_set > s->nr_regions)
		return false;
	/* Only a snapshot store may be smaller, and it holds a region. */
	if (s->target_sectors < s->source_sectors) {
		u64 slots = replica_store_slots(s->sync_type, s->source_sectors,
						s->target_sectors,
						s->region_sectors);

		if (!slots ||
		    replica_area_blocks(s->nr_regions, slots) >
		    s->capacity_blocks)
			return false;
	}
	/* Reserved space must be zero so that it can be given meaning later. */
	if (d->reserved0)
		return false;
	if (!replica_mem_is_zero(d + 1, REPLICA_META_BLOCK_SIZE - sizeof(*d)))
		return false;
	return true;
}

int replica_sb_decode(const void *block, u64 blocknr, struct replica_sb *sb)
{
	const struct replica_sb_disk *d = block;
	struct replica_sb s;
	int r;

	r = replica_check_magic_crc(block, REPLICA_SB_MAGIC);
	if (r)
		return r;
	if (le32_to_cpu(d->version) != REPLICA_FORMAT_VERSION)
		return REPLICA_FMT_BAD_VERSION;

	s.version = le32_to_cpu(d->version);
	s.flags = le32_to_cpu(d->flags);
	s.generation = le64_to_cpu(d->generation);
	s.blocknr = le64_to_cpu(d->blocknr);
	memcpy(s.uuid, d->uuid, sizeof(s.uuid));
	s.source_sectors = le64_to_cpu(d->source_sectors);
	s.target_sectors = le64_to_cpu(d->target_sectors);
	s.nr_regions = le64_to_cpu(d->nr_regions);
	s.region_sectors = le32_to_cpu(d->region_sectors);
	s.sync_type = le32_to_cpu(d->sync_type);
	s.mode = le32_to_cpu(d->mode);
	s.copy_state = le32_to_cpu(d->copy_state);
	s.active_area = le32_to_cpu(d->active_area);
	s.capacity_blocks = le64_to_cpu(d->capacity_blocks);
	s.bits_set = le64_to_cpu(d->bits_set);
	s.created_ns = le64_to_cpu(d->created_ns);
	s.pit_ns = le64_to_cpu(d->pit_ns);

	if (blocknr >= REPLICA_SB_SLOTS || s.blocknr != blocknr)
		r = REPLICA_FMT_BAD_LOCATION;
	else if (!replica_sb_fields_valid(&s, d))
		r = REPLICA_FMT_BAD_FIELD;

	/* Authentic (magic, crc, version): hand the fields out for diagnosis. */
	if (sb)
		*sb = s;
	return r;
}

int replica_sb_pick(const void *slot0, const void *slot1,
		    struct replica_sb *sb, u32 *which)
{
	struct replica_sb s[REPLICA_SB_SLOTS];
	int r0, r1;
	u32 w;

	r0 = replica_sb_decode(slot0, 0, &s[0]);
	r1 = replica_sb_decode(slot1, 1, &s[1]);

	if (r0 == REPLICA_FMT_OK && r1 == REPLICA_FMT_OK)
		w = s[1].generation > s[0].generation ? 1 : 0;
	else if (r0 == REPLICA_FMT_OK)
		w = 0;
	else if (r1 == REPLICA_FMT_OK)
		w = 1;
	else if (r0 == REPLICA_FMT_ZERO)
		return r1;	/* ZERO only if both are; else slot 1's error */
	else
		return r0;

	*sb = s[w];
	*which = w;
	return REPLICA_FMT_OK;
}

void replica_bitmap_seal(void *block, u64 index)
{
	struct replica_bitmap_hdr_disk *h = block;

	h->magic = cpu_to_le32(REPLICA_BITMAP_MAGIC);
	h->crc = 0;
	h->index = cpu_to_le64(index);
	h->crc = cpu_to_le32(replica_block_crc(block));
}

int replica_bitmap_check(const void *block, u64 index)
{
	const struct replica_bitmap_hdr_disk *h = block;
	int r;

	r = replica_check_magic_crc(block, REPLICA_BITMAP_MAGIC);
	if (r)
		return r;
	if (le64_to_cpu(h->index) != index)
		return REPLICA_FMT_BAD_LOCATION;
	return REPLICA_FMT_OK;
}
