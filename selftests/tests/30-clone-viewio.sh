#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Clone view I/O while hydration is paused: a view write covering whole
# regions replaces their copy (in_sync grows, regions_copied does not); a
# partial view write copies the region first; a view discard of whole
# regions marks them without a copy, a partial-region discard marks
# nothing.  pause/resume stop and restart the hydration.  At the end the
# target alone holds the expected view image.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"

brd_setup 1 64M
META=${RAMDISKS[0]}
# loop devices: they take discards (brd does not, and dm offers discards on
# the view only when every device under it does)
SRC0=$(ramdisk 64M)
TGT=$(ramdisk 64M)
SZ=$(sectors "$SRC0")
RS=128 R=65536
NR=$((SZ / RS))
# the source through dm-linear, so regions can be made unreadable
dm_create src "0 $SZ linear $SRC0 0"
SRC=$(dm_dev src)
# src_holes FIRST COUNT: reads (and writes) of regions FIRST.. fail
src_holes() {
	local a=$(($1 * RS)) n=$(($2 * RS))
	dmsetup suspend src
	printf '%s\n' "0 $a linear $SRC0 0" "$a $n error" \
		"$((a + n)) $((SZ - a - n)) linear $SRC0 $((a + n))" | dmsetup load src
	dmsetup resume src
}
src_whole() {
	dmsetup suspend src
	dmsetup load src --table "0 $SZ linear $SRC0 0"
	dmsetup resume src
}
DEVS="$META $SRC $TGT $RS"

fill_random "$SRC"
fill_random "$TGT"
IMG=$TEST_TMP/view.img
save_image "$SRC" "$IMG"

dm_create org "0 $SZ replica clone sync $DEVS 0 2 copy_rate_max 1024"
dm_create view "0 $SZ replica view clone $DEVS"
ORG=$(dm_dev org) VIEW=$(dm_dev view)
dmsetup message org 0 pause
st org
assert_eq "${ST[state]} ${ST[progress]}" "suspended dormant" "after pause"
expect_errno "Operation not permitted" dmsetup message org 0 pause
C=${ST[regions_copied]} I=${ST[in_sync]}
((C < NR / 2)) || fail "hydration too far before the pause: $C"
sleep 1.5
st org
assert_eq "${ST[regions_copied]} ${ST[in_sync]} ${ST[copying]}" "$C $I 0" "hydration stopped while paused"
check_image "$VIEW" "$IMG" "view while paused"

# whole-region view writes: no copy (their source regions are unreadable:
# a copy would fail and break the relationship)
src_holes 1000 4
put "$VIEW" "$IMG" $((1000 * R)) "$R"
put "$VIEW" "$IMG" $((1001 * R)) $((3 * R))
src_whole
st org
assert_eq "${ST[state]} ${ST[health]} ${ST[copy_errors]} ${ST[in_sync]}" "suspended AA 0 $((I + 4))" \
	"after whole-region view writes"
soft_eq "${ST[regions_copied]}" "$C" "regions_copied after whole-region view writes (no copy made)"
C=${ST[regions_copied]} I=$((I + 4))

# a partial view write: the region is copied first
put "$VIEW" "$IMG" $((990 * R + 8192)) 4096
st org
assert_eq "${ST[regions_copied]} ${ST[in_sync]}" "$((C + 1)) $((I + 1))" "after a partial view write"
C=$((C + 1)) I=$((I + 1))

# discard of whole regions: marked, not copied (the loop target reads zeros)
src_holes 1010 4
blkdiscard -o $((1010 * R)) -l $((4 * R)) "$VIEW"
dd if=/dev/zero of="$IMG" bs="$R" seek=1010 count=4 conv=notrunc status=none
wait_for 5 test "$(stv org in_sync)" -eq $((I + 4)) ||
	fail "whole-region discard: in_sync $(stv org in_sync), want $((I + 4))"
src_whole
st org
assert_eq "${ST[state]} ${ST[health]} ${ST[copy_errors]}" "suspended AA 0" "after a discard"
soft_eq "${ST[regions_copied]}" "$C" "regions_copied after a discard"
C=${ST[regions_copied]} I=$((I + 4))
# a discard of parts of two regions (1020, 1021) marks nothing
blkdiscard -o $((1020 * R + R / 2)) -l "$R" "$VIEW"
st org
assert_eq "${ST[regions_copied]} ${ST[in_sync]}" "$C $I" "after a partial-region discard"
drop_caches
check_image "$VIEW" "$IMG" "view after writes and discards"

# fio verify on the view, 4k writes only (every region touched is copied)
fio_verify "$VIEW" 2M --offset=$((500 * R)) --output=/dev/null
save_image "$VIEW" "$IMG"

st org
assert_eq "${ST[state]}" suspended "still paused"
dmsetup message org 0 resume
assert_eq "$(st_state org)" "unsynchronized synchronizing" "after resume"
expect_errno "Operation not permitted" dmsetup message org 0 resume
C=$(stv org regions_copied)
_copied_more() { (($(stv org regions_copied) > $1)); }
wait_for 10 _copied_more "$C" || fail "no hydration progress after resume: $(dmsetup status org)"
dmsetup message org 0 set copy_rate_max 0
wait_state 120 org synchronized completed
st org
log "done: ${ST[line]}"
assert_eq "${ST[in_sync]}/${ST[total]} ${ST[copy_errors]} ${ST[health]}" "$NR/$NR 0 AA" "hydrated"
# every region copied once, except the 4 overwritten and the 4 discarded
soft_eq "${ST[regions_copied]}" $((NR - 8)) "regions copied at the end"
drop_caches
check_image "$VIEW" "$IMG" "view after hydration"

dm_remove view
dm_remove org
check_image "$TGT" "$IMG" "target alone after teardown"
soft_done
