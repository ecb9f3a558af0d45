#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# deactivate / activate (SMI-S Deactivate 7, Activate 4) for each type.
#  mirror:   deactivate -> inactive, the target is left alone while the
#            source changes; start -> unsynchronized -> synchronized with
#            only the changed regions copied; legs equal.
#  clone:    deactivate stops hydration, the view still shows the PIT under
#            source writes; start finishes the hydration.
#  snapshot: deactivate with devices resumed -> EBUSY; suspended -> inactive,
#            view I/O fails, source writes go straight through; start
#            (suspended) -> a new point in time the view then shows.
# Messages a state does not allow fail with EPERM and change nothing.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"

brd_setup 3 32M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
RS=128
NR=$((SZ / RS))
DEVS="$META $SRC $TGT $RS"
J=(--direct=1 --ioengine=libaio --iodepth=16 --randrepeat=0 --output=/dev/null)
wipe_meta() { dd if=/dev/zero of="$META" bs=1M count=4 oflag=direct status=none; }

step "mirror"
fill_random "$SRC"
wipe_meta
dm_create m "0 $SZ replica mirror async $DEVS"
M=$(dm_dev m)
wait_state 120 m synchronized
expect_errno "Operation not permitted" dmsetup message m 0 start
dmsetup message m 0 deactivate
assert_eq "$(st_state m)" "inactive dormant" "mirror state after deactivate"
expect_errno "Operation not permitted" dmsetup message m 0 deactivate
save_image "$TGT" "$TEST_TMP/tgt-before.img"
fio --name=w --filename="$M" --rw=randwrite --bs=4k --number_ios=64 "${J[@]}"
sleep 2
check_image "$TGT" "$TEST_TMP/tgt-before.img" "mirror target while inactive"
st m
((ST[in_sync] < NR)) || fail "no region recorded as changed while inactive: ${ST[line]}"
CHANGED=$((NR - ST[in_sync]))
COPIED=${ST[regions_copied]}
dmsetup message m 0 activate
wait_state 120 m synchronized
st m
assert_eq "$((ST[regions_copied] - COPIED))" "$CHANGED" "regions copied after activate"
dmsetup suspend m
drop_caches
cmp "$SRC" "$TGT" || fail "mirror legs differ after activate"
dmsetup resume m
dm_remove m

step "clone"
fill_random "$SRC"
save_image "$SRC" "$TEST_TMP/pit.img"
wipe_meta
dm_create c "0 $SZ replica clone sync $DEVS 0 2 copy_rate_max 2048"
dm_create cv "0 $SZ replica view clone $DEVS"
C=$(dm_dev c) CV=$(dm_dev cv)
dmsetup message c 0 deactivate
assert_eq "$(stv c state)" inactive "clone state after deactivate"
IN=$(stv c in_sync)
dmsetup message c 0 set copy_rate_max 0
fio --name=w --filename="$C" --rw=randwrite --bs=4k --number_ios=64 "${J[@]}"
sleep 2
check_image "$CV" "$TEST_TMP/pit.img" "clone view while inactive"
st c
((ST[in_sync] - IN <= 64)) ||
	fail "clone hydrated while inactive: $IN -> ${ST[in_sync]} (64 writes)"
dmsetup message cv 0 start
wait_state 180 c synchronized
check_image "$CV" "$TEST_TMP/pit.img" "clone view after activate"
dm_remove cv
dm_remove c

step "snapshot"
fill_random "$SRC"
save_image "$SRC" "$TEST_TMP/pit.img"
wipe_meta
dm_create s "0 $SZ replica snapshot sync $DEVS"
dm_create sv "0 $SZ replica view snapshot $DEVS"
S=$(dm_dev s) SV=$(dm_dev sv)
fio --name=w --filename="$S" --rw=randwrite --bs=4k --number_ios=64 "${J[@]}"
check_image "$SV" "$TEST_TMP/pit.img" "snapshot view before deactivate"
expect_errno "Device or resource busy" dmsetup message s 0 deactivate
assert_eq "$(stv s state)" synchronized "snapshot state after refused deactivate"
dmsetup suspend sv
dmsetup suspend s
dmsetup message s 0 deactivate
expect_errno "Operation not permitted" dmsetup message s 0 restore
dmsetup resume s
dmsetup resume sv
st s
assert_eq "${ST[state]} ${ST[in_sync]}" "inactive 0" "snapshot after deactivate"
expect_fail dd if="$SV" of=/dev/null bs=4k count=1 iflag=direct status=none
fio --name=w --filename="$S" --rw=randwrite --bs=4k --number_ios=64 "${J[@]}"
assert_eq "$(stv s in_sync)" 0 "regions preserved while inactive"
expect_errno "Device or resource busy" dmsetup message s 0 start
dmsetup suspend sv
dmsetup suspend s
save_image "$SRC" "$TEST_TMP/pit2.img"
dmsetup message sv 0 start
dmsetup resume s
dmsetup resume sv
assert_eq "$(stv s state)" synchronized "snapshot state after activate"
fio --name=w --filename="$S" --rw=randwrite --bs=4k --number_ios=64 "${J[@]}"
check_image "$SV" "$TEST_TMP/pit2.img" "snapshot view = the new point in time"
dm_remove sv
dm_remove s
step "done"
