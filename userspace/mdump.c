// SPDX-License-Identifier: GPL-2.0-only
/*
 * replica-mdump: print the committed state of a dm-replica metadata device
 * (or of a byte range of an image file) the way the module would load it:
 * the newer valid superblock slot, then every block of its active area,
 * each checked like the module checks it.  The crash-replay checker
 * (selftests/log-replay.py) runs it at every replayed flush point; it reads
 * with the shared format code, so the format lives in one place.
 *
 *   replica-mdump FILE [OFFSET_BYTES [LENGTH_BYTES]]
 *   replica-mdump --serve FILE   reads "OFFSET_BYTES LENGTH_BYTES" lines on
 *                                stdin and answers each as below, then a
 *                                line "end" (one process for a whole replay)
 *
 * Output on success (exit 0), two lines:
 *   ok slot S generation G flags F sync_type T mode M copy_state C
 *      region_sectors R nr_regions N bits_set B store_slots K
 *   bits HEX        the active bitmap, nr_regions bits, byte i bit j = region
 *                   8i+j, as hex ("-" when there are no regions)
 * A snapshot store (store_slots > 0) adds a third line "slots" with the
 * slot table's entries (region + 1, 0 = free), space separated.
 * When the metadata would not load: one line "bad REASON", exit 1;
 * unformatted (both slots zero): "unformatted", exit 1.  Usage or I/O
 * errors: exit 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replica-format.h"

struct image {
	int fd;
	uint64_t offset;
	uint64_t length;
};

static int read_block(const struct image *img, uint64_t blocknr, void *buf)
{
	uint64_t at = blocknr * REPLICA_META_BLOCK_SIZE;
	ssize_t n;

	if (at + REPLICA_META_BLOCK_SIZE > img->length)
		return -ERANGE;
	n = pread(img->fd, buf, REPLICA_META_BLOCK_SIZE, img->offset + at);
	if (n != REPLICA_META_BLOCK_SIZE)
		return n < 0 ? -errno : -EIO;
	return 0;
}

static void print_hex(const u8 *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static int dump(const struct image *img)
{
	static u8 slot[REPLICA_SB_SLOTS][REPLICA_META_BLOCK_SIZE];
	u8 block[REPLICA_META_BLOCK_SIZE];
	struct replica_sb sb;
	u64 start, nbits_blocks, slots, i, nbytes, done = 0;
	u8 *bits;
	u32 which;
	int r;

	for (i = 0; i < REPLICA_SB_SLOTS; i++)
		if (read_block(img, i, slot[i])) {
			printf("bad cannot read superblock slot %" PRIu64 "\n", (uint64_t)i);
			return 1;
		}
	r = replica_sb_pick(slot[0], slot[1], &sb, &which);
	if (r == REPLICA_FMT_ZERO) {
		printf("unformatted\n");
		return 1;
	}
	if (r) {
		printf("bad superblock: %s\n", replica_format_strerror(r));
		return 1;
	}
	if (REPLICA_FIRST_BITMAP_BLOCK + 2 * sb.capacity_blocks >
	    img->length / REPLICA_META_BLOCK_SIZE) {
		printf("bad superblock capacity %" PRIu64 " blocks beyond the device\n",
		       (uint64_t)sb.capacity_blocks);
		return 1;
	}
	slots = replica_store_slots(sb.sync_type, sb.source_sectors,
				    sb.target_sectors, sb.region_sectors);
	nbits_blocks = replica_bitmap_blocks(sb.nr_regions);
	start = replica_area_start(sb.capacity_blocks, sb.active_area);
	nbytes = (sb.nr_regions + 7) / 8;
	bits = calloc(1, nbytes ? nbytes : 1);
	if (!bits) {
		fprintf(stderr, "replica-mdump: out of memory\n");
		return 2;
	}
	for (i = 0; i < nbits_blocks; i++) {
		u64 k = nbytes - done;

		if (read_block(img, start + i, block)) {
			printf("bad cannot read bitmap block %" PRIu64 "\n", (uint64_t)i);
			free(bits);
			return 1;
		}
		r = replica_bitmap_check(block, i);
		if (r) {
			printf("bad bitmap block %" PRIu64 ": %s\n", (uint64_t)i,
			       replica_format_strerror(r));
			free(bits);
			return 1;
		}
		if (k > REPLICA_BITS_PER_BLOCK / 8)
			k = REPLICA_BITS_PER_BLOCK / 8;
		memcpy(bits + done, replica_bitmap_bits(block), k);
		done += k;
	}
	/* bits past nr_regions in the last byte are not the module's business */
	if (sb.nr_regions % 8)
		bits[nbytes - 1] &= (u8)((1u << (sb.nr_regions % 8)) - 1);
	printf("ok slot %u generation %" PRIu64 " flags %#x sync_type %u mode %u copy_state %u region_sectors %u nr_regions %" PRIu64 " bits_set %" PRIu64 " store_slots %" PRIu64 "\n",
	       which, (uint64_t)sb.generation, sb.flags, sb.sync_type, sb.mode,
	       sb.copy_state, sb.region_sectors, (uint64_t)sb.nr_regions,
	       (uint64_t)sb.bits_set, (uint64_t)slots);
	printf("bits ");
	if (nbytes)
		print_hex(bits, nbytes);
	else
		printf("-");
	printf("\n");
	free(bits);
	if (!slots)
		return 0;
	printf("slots");
	for (i = 0; i < replica_store_blocks(slots); i++) {
		const u8 *e = block + REPLICA_BITMAP_HDR_SIZE;
		u64 j, n = slots - i * REPLICA_SLOTS_PER_BLOCK;

		if (read_block(img, start + nbits_blocks + i, block) ||
		    (r = replica_bitmap_check(block, nbits_blocks + i))) {
			printf("\nbad slot table block %" PRIu64 "\n", (uint64_t)i);
			return 1;
		}
		if (n > REPLICA_SLOTS_PER_BLOCK)
			n = REPLICA_SLOTS_PER_BLOCK;
		for (j = 0; j < n; j++) {
			u64 v;

			memcpy(&v, e + 8 * j, 8);
			printf(" %" PRIu64, (uint64_t)le64_to_cpu((__le64)v));
		}
	}
	printf("\n");
	return 0;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end || *s == '-' ? -EINVAL : 0;
}

/* open_image: FILE from offset for length (clamped to the file); 0 or exit code */
static int open_image(struct image *img, const char *path, uint64_t offset,
		      uint64_t length)
{
	off_t size;

	img->fd = open(path, O_RDONLY);
	if (img->fd < 0) {
		fprintf(stderr, "replica-mdump: %s: %s\n", path, strerror(errno));
		return 2;
	}
	size = lseek(img->fd, 0, SEEK_END);
	if (size < 0 || (uint64_t)size < offset) {
		fprintf(stderr, "replica-mdump: %s: offset beyond the end\n", path);
		close(img->fd);
		return 2;
	}
	img->offset = offset;
	img->length = length;
	if (!length || length > (uint64_t)size - offset)
		img->length = (uint64_t)size - offset;
	return 0;
}

static int serve(const char *path)
{
	char line[128], extra;
	unsigned long long off, len;
	struct image img;
	int r;

	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "%llu %llu %c", &off, &len, &extra) != 2) {
			fprintf(stderr, "replica-mdump: bad request: %s", line);
			return 2;
		}
		r = open_image(&img, path, off, len);
		if (r)
			return r;
		r = dump(&img);
		close(img.fd);
		if (r == 2)
			return r;
		printf("end\n");
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t offset = 0, length = 0;
	struct image img;
	int r;

	if (argc == 3 && !strcmp(argv[1], "--serve"))
		return serve(argv[2]);
	if (argc < 2 || argc > 4 || argv[1][0] == '-') {
		fprintf(stderr, "usage: replica-mdump FILE [OFFSET_BYTES [LENGTH_BYTES]]\n"
			"       replica-mdump --serve FILE\n");
		return 2;
	}
	if ((argc > 2 && parse_u64(argv[2], &offset)) ||
	    (argc > 3 && parse_u64(argv[3], &length))) {
		fprintf(stderr, "replica-mdump: bad number\n");
		return 2;
	}
	r = open_image(&img, argv[1], offset, length);
	if (r)
		return r;
	r = dump(&img);
	close(img.fd);
	return r;
}
