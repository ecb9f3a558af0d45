#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Clone hydration survives suspend/resume, a reload of the origin table and
# the removal and re-creation of both tables: it continues where it was
# (in_sync never goes back, the point in time stays), and the target ends
# equal to the point-in-time image.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"

brd_setup 3 64M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
RS=128
NR=$((SZ / RS))
DEVS="$META $SRC $TGT $RS"
ORG_T="0 $SZ replica clone sync $DEVS 0 2 copy_rate_max 256"
VIEW_T="0 $SZ replica view clone $DEVS"

fill_random "$SRC"
PIT_IMG=$TEST_TMP/pit.img
save_image "$SRC" "$PIT_IMG"
dm_create org "$ORG_T"
dm_create view "$VIEW_T"
ORG=$(dm_dev org) VIEW=$(dm_dev view)
J=(--direct=1 --ioengine=libaio --iodepth=16 --randrepeat=0 --output=/dev/null)

st org
PIT_NS=${ST[pit_ns]} UUID=${ST[uuid]}
_copied_over() { (($(stv org in_sync) > $1)); }
# progress: in_sync goes past $1 within a few seconds
progress() {
	local before
	wait_for 15 _copied_over "$1" && return 0
	# stalled or only slow? look again a little later
	before=$(dmsetup status org)
	sleep 10
	fail "no hydration progress past $1 in 15 s: $before; 10 s later: $(dmsetup status org); table: $(dmsetup table org)"
}
# in_sync must not go back; status must be the same relationship
check_kept() {	# check_kept WHAT MIN_IN_SYNC
	st org
	log "$1: ${ST[line]}"
	assert_eq "${ST[uuid]} ${ST[pit_ns]} ${ST[health]} ${ST[md]}" "$UUID $PIT_NS AA rw" "$1: relationship"
	((ST[in_sync] >= $2)) || fail "$1: in_sync went back from $2 to ${ST[in_sync]}"
	[[ ${3:-} == any || ${ST[state]} == unsynchronized ]] ||
		fail "$1: already ${ST[state]} (copy_rate_max ignored?)"
	[[ ${3:-} == any ]] ||
		soft_eq "${ST[progress]}" synchronizing "$1: progress (hydration is the initial copy)"
}

progress 20
fio --name=w --filename="$ORG" --rw=randwrite --bs=4k --size=4M --io_size=2M "${J[@]}" &
FIO=$!
# suspend/resume with I/O in flight
dmsetup suspend org
I=$(stv org in_sync)
dmsetup resume org
check_kept "suspend/resume" "$I"
wait "$FIO" || fail "origin writes failed across suspend/resume"
progress $((I + 10))

# reload of the origin table (same line, then a new rate)
dmsetup suspend view
I=$(stv org in_sync)
dm_reload org "$ORG_T"
dmsetup resume view
check_kept "reload" "$I"
progress $((I + 10))
dm_reload org "0 $SZ replica clone sync $DEVS 0 2 copy_rate_max 768"
assert_match "$(dm_table org)" " copy_rate_max 768 " "reloaded table"
check_kept "reload with a new rate" "$I"
check_image "$VIEW" "$PIT_IMG" "view after reloads"

# remove both tables, create them again: the metadata has the progress
progress $((I + 20))
dm_remove view
I=$(stv org in_sync)
dm_remove org
dm_create org "$ORG_T"
check_kept "re-created (origin only)" "$I"
dm_create view "$VIEW_T"
check_kept "re-created" "$I"
check_image "$VIEW" "$PIT_IMG" "view after re-creation"
progress $((I + 10))

# in the other order: the view table first
dm_remove org
dm_remove view
dm_create view "$VIEW_T"
dm_create org "$ORG_T"
# (while only the view is loaded, the origin's copy_rate_max does not apply:
# hydration may have finished)
check_kept "re-created view first" "$I" any

fio --name=w --filename="$ORG" --rw=randwrite --bs=64k --io_size=8M "${J[@]}"
dmsetup message org 0 set copy_rate_max 0
wait_state 120 org synchronized completed
st org
assert_eq "${ST[in_sync]}/${ST[total]} ${ST[copy_errors]}" "$NR/$NR 0" "hydrated"
((ST[regions_copied] <= NR)) || fail "regions_copied ${ST[regions_copied]} > $NR"
drop_caches
check_image "$VIEW" "$PIT_IMG" "view after hydration"
dm_remove view
dm_remove org
check_image "$TGT" "$PIT_IMG" "target alone"

# a synchronized clone re-created stays synchronized with nothing to copy
dm_create org "$ORG_T"
st org
assert_eq "${ST[state]} ${ST[in_sync]}/${ST[total]} ${ST[pit_ns]}" "synchronized $NR/$NR $PIT_NS" \
	"re-created hydrated clone"
soft_done
