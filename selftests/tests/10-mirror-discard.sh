#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Mirror discards over legs that support them (loop devices on tmpfs
# files): a discard of a range with partial regions at both ends, and of
# the whole device, do not crash; the data around the range is intact, the
# discarded range reads back the same on both legs (passed down to both),
# the mirror stays synchronized.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"
require_cmd blkdiscard

META=$(ramdisk 64M)
SRC=$(ramdisk 64M)
TGT=$(ramdisk 64M)
SZ=$(sectors "$SRC")
RS=128
NR=$((SZ / RS))
DEV=/dev/mapper/m1
dm_create m1 "0 $SZ replica mirror sync $META $SRC $TGT $RS 1 nosync"
MINOR=$(dmsetup info -c --noheadings -o minor m1)
read -r DMAX < "/sys/block/dm-${MINOR// /}/queue/discard_max_bytes"
log "discard_max_bytes of the mirror: $DMAX"
((DMAX > 0)) || fail "the mirror over discard-capable loop devices does not advertise discard"

# 8 MiB of data, then a discard from 1 MiB + 4 KiB to 3 MiB - 4 KiB
head -c 8M /dev/urandom > "$TEST_TMP/data"
write_at "$DEV" 0 8192 "$TEST_TMP/data"
wait_synced m1 10
blkdiscard -o $((1024 * 1024 + 4096)) -l $((2 * 1024 * 1024 - 8192)) "$DEV"
rstat m1
log "after discard: $S_LINE"
assert_eq "$S_STATE $S_HEALTH $S_MDMODE" "synchronized AA rw" "state after discard"
# neighbours intact (through the device and on both legs)
BEFORE=$(range_md5 "$TEST_TMP/data" 0 1028)
AFTER=$(range_md5 "$TEST_TMP/data" 3068 5124)
for d in "$DEV" "$SRC" "$TGT"; do
	assert_eq "$(range_md5 "$d" 0 1028)" "$BEFORE" "data before the discarded range on $d"
	assert_eq "$(range_md5 "$d" 3068 5124)" "$AFTER" "data after the discarded range on $d"
done
wait_synced m1 20
legs_equal "$SRC" "$TGT"

# a discard in a fractured mirror, then resync: the device keeps working,
# the regions written meanwhile are copied
msg m1 fracture
write_at "$DEV" 6400 64				# region 100
blkdiscard -o $((10 * 1024 * 1024)) -l $((1024 * 1024)) "$DEV"
msg m1 resync
wait_synced m1 20
assert_eq "$(range_md5 "$TGT" 6400 64)" "$(range_md5 "$SRC" 6400 64)" "region 100 after resync"
# the regions discarded on the source alone were copied too
assert_eq "$(range_md5 "$TGT" 10240 1024)" "$(range_md5 "$SRC" 10240 1024)" \
	"range discarded while fractured, after resync"

# the whole device, then fio verify still works
blkdiscard "$DEV"
rstat m1
assert_eq "$S_HEALTH $S_MDMODE" "AA rw" "after a whole-device discard"
wait_synced m1 20
fio_verify "$DEV" 8M --iodepth=8 --verify_state_save=0
wait_synced m1 20
legs_equal "$SRC" "$TGT"

# async: discards reach the target too, after write-behinds in their range
msg m1 mode async
head -c 8M /dev/urandom > "$TEST_TMP/data2"
write_at "$DEV" 16384 8192 "$TEST_TMP/data2"
blkdiscard -o $((17 * 1024 * 1024 + 4096)) -l $((2 * 1024 * 1024)) "$DEV"
wait_synced m1 20
legs_equal "$SRC" "$TGT"
# discards racing writes to the same regions: legs equal once caught up
fio --name=w --filename="$DEV" --direct=1 --ioengine=libaio --iodepth=8 \
	--rw=randwrite --bs=4k --offset=16M --size=8M --time_based --runtime=4 \
	--randrepeat=0 --output=/dev/null &
FIO=$!
for i in 1 2 3 4 5 6 7 8; do
	blkdiscard -o $((16 * 1024 * 1024 + i * 512 * 1024 + 4096)) -l $((256 * 1024)) "$DEV"
	sleep 0.3
done
wait "$FIO" || fail "writes during async discards failed"
wait_synced m1 30
rstat m1
assert_eq "$S_HEALTH $S_MDMODE" "AA rw" "async mirror after discards"
legs_equal "$SRC" "$TGT"
