#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Snapshot: the view keeps the point-in-time image while the source takes
# heavy random writes (4k, 64k, 512-byte writes at odd sectors, 4k writes
# straddling region boundaries); origin data verifies (fio crc32c) while the
# snapshot exists; view writes (partial and whole-region) read back and never
# reach the origin; a read-only view refuses writes.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"

brd_setup 3 64M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
RS=128 R=65536
NR=$((SZ / RS))
DEVS="$META $SRC $TGT $RS"

step "fill"
fill_random "$SRC"
fill_random "$TGT"		# stale target data must never show through
PIT_IMG=$TEST_TMP/pit.img
save_image "$SRC" "$PIT_IMG"

dm_create org "0 $SZ replica snapshot sync $DEVS"
dm_create snap "0 $SZ replica view snapshot $DEVS"
ORG=$(dm_dev org) SNAP=$(dm_dev snap)

st org
assert_eq "${ST[type]} ${ST[mode]} ${ST[state]} ${ST[progress]}" \
	"snapshot sync synchronized completed" "origin status"
assert_eq "${ST[in_sync]}/${ST[total]} ${ST[copying]} ${ST[dirty]}" "0/$NR 0 0" "regions preserved at the PIT"
assert_eq "${ST[health]} ${ST[md]} ${ST[role]} ${ST[region_sectors]}" "AA rw origin $RS" "origin health"
assert_match "${ST[pit_ns]}" '^[1-9][0-9]*$' "pit_ns"
PIT_NS=${ST[pit_ns]}
st snap
assert_eq "${ST[role]} ${ST[state]} ${ST[pit_ns]}" "view synchronized $PIT_NS" "view status"
assert_match "$(dm_table snap)" "^view snapshot [^ ]+ [^ ]+ [^ ]+ $RS\$" "view table"

# --- heavy source writes ---------------------------------------------------
step "source writes"
J=(--direct=1 --ioengine=libaio --iodepth=16 --randrepeat=0 --output=/dev/null)
fio --name=r4k --filename="$ORG" --rw=randwrite --bs=4k --io_size=2M "${J[@]}"
fio --name=r64k --filename="$ORG" --rw=randwrite --bs=64k --io_size=16M "${J[@]}"
# 512-byte writes at any (mostly odd) sector, 4k writes at 512-byte alignment
# (some straddle a region boundary and are split)
fio --name=r512 --filename="$ORG" --rw=randwrite --bs=512 --number_ios=300 "${J[@]}"
fio --name=r4kua --filename="$ORG" --rw=randwrite --bs=4k --blockalign=512 --number_ios=300 "${J[@]}"
for s in 1 127 255 12345 $((SZ - 1)); do
	dd if=/dev/urandom of="$ORG" bs=512 seek="$s" count=1 oflag=direct status=none
done
# a write straddling regions 0 and 1
dd if=/dev/urandom of="$ORG" bs=512 seek=$((RS - 3)) count=6 oflag=direct status=none

step "compare"
check_image "$SNAP" "$PIT_IMG" "view after source writes"
cmp -s "$ORG" "$PIT_IMG" && fail "origin did not change"
st org
log "after writes: ${ST[line]}"
assert_eq "${ST[state]} ${ST[health]} ${ST[md]} ${ST[copy_errors]}" "synchronized AA rw 0" \
	"origin state after writes"
((ST[in_sync] > NR / 2)) || fail "only ${ST[in_sync]} regions preserved after heavy writes"
assert_eq "${ST[pit_ns]}" "$PIT_NS" "pit_ns unchanged by writes"

# --- origin I/O verifies while the snapshot exists --------------------------
step "origin verify"
fio_verify "$ORG" 2M --offset=32M --output=/dev/null
fio_verify "$ORG" 2M --bs=64k --offset=8M --output=/dev/null

# --- writable view -----------------------------------------------------------
step "view writes"
IMG=$TEST_TMP/view.img
cp "$PIT_IMG" "$IMG"
ORG_IMG=$TEST_TMP/org.img
save_image "$ORG" "$ORG_IMG"
put "$SNAP" "$IMG" $((3 * R + 4096)) 4096		# partial
put "$SNAP" "$IMG" $((5 * R + 512)) 1536		# partial, unaligned
put "$SNAP" "$IMG" $((7 * R)) "$R"			# whole region
put "$SNAP" "$IMG" $((9 * R)) $((3 * R))		# three whole regions
put "$SNAP" "$IMG" $((20 * R - 2048)) 4096		# straddles 19/20
put "$SNAP" "$IMG" $((SZ * 512 - 4096)) 4096		# last block
# fio verify on the view (regions both copied and not yet copied)
fio_verify "$SNAP" 1M --offset=16M --output=/dev/null
fio_verify "$SNAP" 1M --bs=64k --offset=48M --output=/dev/null
dd if="$SNAP" of="$IMG" bs=1M skip=16 seek=16 count=1 iflag=direct conv=notrunc status=none
dd if="$SNAP" of="$IMG" bs=1M skip=48 seek=48 count=1 iflag=direct conv=notrunc status=none
check_image "$SNAP" "$IMG" "view reads back its writes"
check_image "$ORG" "$ORG_IMG" "origin after view writes"
st org
assert_eq "${ST[state]} ${ST[health]} ${ST[copy_errors]}" "synchronized AA 0" "after view I/O"

# --- read-only view -----------------------------------------------------------
step "ro view"
dm_create snapro "0 $SZ replica view snapshot $DEVS 1 ro"
assert_match "$(dm_table snapro)" " 1 ro\$" "ro view table"
expect_fail dd if=/dev/zero of="$(dm_dev snapro)" bs=4k count=1 seek=100 oflag=direct status=none
expect_fail dd if=/dev/zero of="$(dm_dev snapro)" bs=64k count=1 seek=200 oflag=direct status=none
check_image "$(dm_dev snapro)" "$IMG" "ro view content"
check_image "$ORG" "$ORG_IMG" "origin after refused ro writes"
step "done"
dm_remove snapro
dm_remove snap
dm_remove org
