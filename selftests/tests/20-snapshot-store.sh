#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A snapshot whose target is smaller than its source keeps preserved
# regions in store slots: the view equals the PIT, the slot table survives
# a teardown and re-creation, and a full store invalidates the snapshot
# (broken, view I/O fails) while source writes go on and verify.  A new
# point in time empties the store.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"

brd_setup 3 64M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
RS=128
SLOTS=64
# the store: 64 regions of 64 KiB at the start of the target ramdisk
dm_create store "0 $((SLOTS * RS)) linear $TGT 0"
STORE=$(dm_dev store)
DEVS="$META $SRC $STORE $RS"

step "fill and create"
fill_random "$SRC"
save_image "$SRC" "$TEST_TMP/pit.img"
dm_create org "0 $SZ replica snapshot sync $DEVS"
dm_create snap "0 $SZ replica view snapshot $DEVS"
ORG=$(dm_dev org) SNAP=$(dm_dev snap)
st org
assert_eq "${ST[store_slots]}" "$SLOTS" "store slots"
assert_eq "${ST[store_used]}" 0 "store used at the PIT"

step "preserve 40 regions"
for ((r = 0; r < 40; r++)); do
	# one 4 KiB write in every third region, not region aligned
	dd if=/dev/urandom of="$ORG" bs=4k count=1 seek=$((r * 3 * 16 + 5)) \
		oflag=direct status=none
done
st org
assert_eq "${ST[store_used]}" 40 "store used"
assert_eq "${ST[in_sync]}" 40 "preserved regions"
assert_eq "${ST[state]}" synchronized "state"
check_image "$SNAP" "$TEST_TMP/pit.img" "view with 40 slots used"

step "teardown and re-create"
dm_remove snap
dm_remove org
dm_create org "0 $SZ replica snapshot sync $DEVS"
dm_create snap "0 $SZ replica view snapshot $DEVS"
st org
assert_eq "${ST[store_used]}" 40 "store used after re-creation"
check_image "$SNAP" "$TEST_TMP/pit.img" "view after re-creation"

step "overflow"
fio --name=w --filename="$ORG" --direct=1 --ioengine=libaio --iodepth=8 \
	--rw=write --bs=64k --size=64M --verify=crc32c --verify_fatal=1 \
	--verify_state_save=0 --output=/dev/null || fail "origin writes failed after overflow"
st org
assert_eq "${ST[state]}" broken "state after overflow"
assert_eq "${ST[store_used]}" "$SLOTS" "store used after overflow"
expect_fail dd if="$SNAP" of=/dev/null bs=4k count=1 iflag=direct status=none

step "new point in time"
dmsetup suspend snap
dmsetup suspend org
dmsetup message org 0 resync
dmsetup resume org
dmsetup resume snap
st org
assert_eq "${ST[state]}" synchronized "state after resync"
assert_eq "${ST[store_used]}" 0 "store used after resync"
save_image "$ORG" "$TEST_TMP/pit2.img"
dd if=/dev/urandom of="$ORG" bs=4k count=1 seek=100 oflag=direct status=none
check_image "$SNAP" "$TEST_TMP/pit2.img" "view of the new point in time"
