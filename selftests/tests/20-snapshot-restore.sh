#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Snapshot restore: after source and view writes, "restore" copies the view
# content back over the source (copy state unsynchronized, progress
# restoring, then synchronized/completed with a new point in time).  The
# origin stays usable during the restore (slowed down with copy_rate_max):
# its reads show the view content, writes there verify, and at the end the
# origin equals the view image plus those writes.  View writes are refused
# while the restore runs.
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
IMG=$TEST_TMP/view.img
save_image "$SRC" "$IMG"
dm_create org "0 $SZ replica snapshot sync $DEVS"
dm_create snap "0 $SZ replica view snapshot $DEVS"
ORG=$(dm_dev org) SNAP=$(dm_dev snap)

J=(--direct=1 --ioengine=libaio --iodepth=16 --randrepeat=0 --output=/dev/null)
fio --name=w --filename="$ORG" --rw=randwrite --bs=64k --io_size=8M "${J[@]}"
fio --name=w --filename="$ORG" --rw=randwrite --bs=4k --blockalign=512 --number_ios=200 "${J[@]}"

# view writes: the restore brings back the view content, not the PIT
put "$SNAP" "$IMG" $((2 * R + 1024)) 3072
put "$SNAP" "$IMG" $((600 * R)) "$R"
put "$SNAP" "$IMG" $((900 * R)) $((4 * R))
step "check view"
check_image "$SNAP" "$IMG" "view before the restore"

st org
PRESERVED=${ST[in_sync]} PIT_NS=${ST[pit_ns]}
((PRESERVED > 50)) || fail "only $PRESERVED regions preserved"
log "regions to restore: $PRESERVED"

# 256 KiB/s = 4 regions/s: the restore takes far longer than the checks below
step "restore"
dmsetup message org 0 set copy_rate_max 256
dmsetup message org 0 restore
st org
assert_eq "${ST[state]} ${ST[progress]}" "unsynchronized restoring" "state right after restore"
# while restoring, in_sync counts the regions where the source already
# holds the view's data: all but the preserved ones, growing to the total
R0=${ST[in_sync]}
((R0 >= NR - PRESERVED && R0 < NR)) || fail "in_sync at the start of the restore: ${ST[line]}"
assert_eq "$(st_state snap)" "unsynchronized restoring" "view status during the restore"
expect_fail dmsetup message org 0 pause

# view writes are refused during the restore
expect_errno "Input/output error" dd if=/dev/zero of="$SNAP" bs=4k count=1 seek=10 oflag=direct
# origin writes during the restore, in the first 2 MiB (sequential, so they
# can be verified again later with --verify_only); they wait for their
# regions' copies
V=(--name=v --filename="$ORG" --rw=write --bs=4k --size=2M --verify=crc32c
   --verify_fatal=1 --randrepeat=1 "${J[@]}")
fio "${V[@]}" --do_verify=1 || fail "origin fio verify during the restore"
dd if="$ORG" of="$IMG" bs=1M count=2 iflag=direct conv=notrunc status=none
# origin reads during the restore: regions not yet restored come from the target
step "origin read during the restore"
check_image "$ORG" "$IMG" "origin read during the restore"
st org
log "during the restore: ${ST[line]}"
assert_eq "${ST[state]} ${ST[progress]}" "unsynchronized restoring" \
	"restore still running after the origin checks (copy_rate_max ignored?)"
((ST[in_sync] > R0)) || fail "restore made no progress: ${ST[line]}"

step "finish"
dmsetup message org 0 set copy_rate_max 0
wait_state 120 org synchronized completed
st org
assert_eq "${ST[in_sync]} ${ST[health]} ${ST[md]} ${ST[copy_errors]}" "0 AA rw 0" "after the restore"
((ST[pit_ns] > PIT_NS)) || fail "restore did not take a new point in time: ${ST[line]}"

# the origin is the view image, with the 2 MiB written during the restore
check_image "$ORG" "$IMG" "origin after the restore"
check_image "$SRC" "$IMG" "source after the restore"
fio "${V[@]}" --verify_only=1 || fail "origin writes made during the restore lost"
check_image "$SNAP" "$IMG" "view = new point in time"

# the new point in time holds
step "new PIT"
fio --name=w --filename="$ORG" --rw=randwrite --bs=4k --io_size=1M "${J[@]}"
fio --name=w --filename="$ORG" --rw=randwrite --bs=64k --io_size=2M "${J[@]}"
check_image "$SNAP" "$IMG" "view after writes following the restore"
step "done"
dm_remove snap
dm_remove org
