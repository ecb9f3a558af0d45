#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Snapshot resync takes a new point in time.  With the origin or the view
# resumed it fails with EBUSY and changes nothing; with both suspended it
# succeeds and, once resumed, the view shows the current source, and keeps
# showing it while the source changes again.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"

brd_setup 3 64M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
RS=128
NR=$((SZ / RS))
DEVS="$META $SRC $TGT $RS"

step "fill"
fill_random "$SRC"
save_image "$SRC" "$TEST_TMP/pit.img"
dm_create org "0 $SZ replica snapshot sync $DEVS"
dm_create snap "0 $SZ replica view snapshot $DEVS"
ORG=$(dm_dev org) SNAP=$(dm_dev snap)

J=(--direct=1 --ioengine=libaio --iodepth=16 --randrepeat=0 --output=/dev/null)
fio --name=w --filename="$ORG" --rw=randwrite --bs=64k --io_size=8M "${J[@]}"
fio --name=w --filename="$ORG" --rw=randwrite --bs=4k --blockalign=512 --number_ios=200 "${J[@]}"
st org
BEFORE="${ST[state]} ${ST[progress]} ${ST[in_sync]}/${ST[total]} ${ST[pit_ns]}"
PIT_NS=${ST[pit_ns]}
((ST[in_sync] > 0)) || fail "nothing preserved: ${ST[line]}"

# devices resumed: EBUSY, nothing changes
step "refused resyncs"
expect_errno "Device or resource busy" dmsetup message org 0 resync
expect_errno "Device or resource busy" dmsetup message snap 0 resync
dmsetup suspend snap
expect_errno "Device or resource busy" dmsetup message snap 0 resync
dmsetup resume snap
dmsetup suspend org
expect_errno "Device or resource busy" dmsetup message org 0 resync
dmsetup resume org
st org
assert_eq "${ST[state]} ${ST[progress]} ${ST[in_sync]}/${ST[total]} ${ST[pit_ns]}" "$BEFORE" \
	"status after refused resyncs"
check_image "$SNAP" "$TEST_TMP/pit.img" "view after refused resyncs"

# both suspended: new point in time
step "resync"
save_image "$ORG" "$TEST_TMP/now.img"
dmsetup suspend snap
dmsetup suspend org
dmsetup message org 0 resync
dmsetup resume org
dmsetup resume snap
st org
assert_eq "${ST[state]} ${ST[progress]} ${ST[in_sync]}/${ST[total]}" \
	"synchronized completed 0/$NR" "status after resync"
((ST[pit_ns] > PIT_NS)) || fail "pit_ns did not move forward: ${ST[pit_ns]} <= $PIT_NS"
assert_eq "$(stv snap pit_ns)" "${ST[pit_ns]}" "view pit_ns"
check_image "$SNAP" "$TEST_TMP/now.img" "view = source at the new point in time"

# the new point in time holds
step "writes after resync"
fio --name=w --filename="$ORG" --rw=randwrite --bs=4k --io_size=2M "${J[@]}"
fio --name=w --filename="$ORG" --rw=randwrite --bs=512 --number_ios=200 "${J[@]}"
check_image "$SNAP" "$TEST_TMP/now.img" "view after writes following the resync"
st org
((ST[in_sync] > 0)) || fail "no region preserved after the resync: ${ST[line]}"

# resync through the view's message, the view suspended last
step "second resync"
dmsetup suspend org
dmsetup suspend snap
save_image "$SRC" "$TEST_TMP/now.img"
dmsetup message snap 0 resync
dmsetup resume snap
dmsetup resume org
assert_eq "$(stv org in_sync)" 0 "regions preserved after the second resync"
fio --name=w --filename="$ORG" --rw=randwrite --bs=64k --io_size=2M "${J[@]}"
check_image "$SNAP" "$TEST_TMP/now.img" "view after the second resync"
step "done"
dm_remove snap
dm_remove org
