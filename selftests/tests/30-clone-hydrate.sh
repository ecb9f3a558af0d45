#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Clone: the view is usable at once and equals the point in time while the
# background hydration runs (slowed down with copy_rate_max); hydration goes
# on at copy_rate_min under a full foreground load on the origin; it reaches
# synchronized; then, with the tables removed, the target alone holds the
# point-in-time image.
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
fill_random "$TGT"
PIT_IMG=$TEST_TMP/pit.img
save_image "$SRC" "$PIT_IMG"

# 512 KiB/s (8 regions/s): far from done for a while
step "create"
dm_create org "0 $SZ replica clone sync $DEVS 0 4 copy_rate_max 512 copy_rate_min 512"
dm_create view "0 $SZ replica view clone $DEVS"
ORG=$(dm_dev org) VIEW=$(dm_dev view)
assert_match "$(dm_table org)" "^clone sync [^ ]+ [^ ]+ [^ ]+ $RS 0 [0-9]+ copy_rate_max 512 copy_rate_min 512 " \
	"origin table"
st org
log "start: ${ST[line]}"
assert_eq "${ST[type]} ${ST[state]} ${ST[progress]}" "clone unsynchronized synchronizing" "clone status"
assert_eq "${ST[total]} ${ST[health]} ${ST[md]}" "$NR AA rw" "clone status"
check_image "$VIEW" "$PIT_IMG" "view while hydrating"
C0=$(stv org regions_copied)
((C0 < NR)) || fail "hydration already complete: copy_rate_max ignored"

# source writes: the view keeps the PIT (hydration paused meanwhile, so
# that it is not finished before the load test below, however slow the VM)
step "source writes"
dmsetup message org 0 pause
J=(--direct=1 --ioengine=libaio --iodepth=16 --randrepeat=0 --output=/dev/null)
# (in the first 4 MiB only: copy-on-write must not hydrate everything)
J+=(--size=4M)
fio --name=w --filename="$ORG" --rw=randwrite --bs=4k --io_size=1M "${J[@]}"
fio --name=w --filename="$ORG" --rw=randwrite --bs=512 --number_ios=200 "${J[@]}"
fio --name=w --filename="$ORG" --rw=randwrite --bs=4k --blockalign=512 --number_ios=200 "${J[@]}"
check_image "$VIEW" "$PIT_IMG" "view after source writes"
dmsetup message org 0 resume
_copied_over() { (($(stv org regions_copied) > $1)); }
wait_for 10 _copied_over "$(stv org regions_copied)" || fail "regions_copied did not grow: $(dmsetup status org)"
st org
assert_eq "${ST[state]} ${ST[progress]}" "unsynchronized synchronizing" "still hydrating"
# the ceiling: 512 KiB/s = 8 regions/s, over 5 s (+ copy_inflight 16 + 8)
I0=${ST[in_sync]} T0=$SECONDS
sleep 5
I1=$(stv org in_sync) T1=$SECONDS
log "idle hydration: $I0 -> $I1 in $((T1 - T0)) s"
((I1 - I0 <= (T1 - T0) * 8 + 24)) ||
	fail "copy_rate_max 512 exceeded: $((I1 - I0)) regions in $((T1 - T0)) s"

# full load on the last 2 MiB of the origin for 6 s: hydration keeps going
# at copy_rate_min (1 MiB/s = 16 regions/s, ~96 regions); the load itself
# can add at most the 32 regions it covers
step "load"
# (not copy_rate_max 0: without foreground I/O that means full speed)
dmsetup message org 0 set copy_rate_max 1024
dmsetup message org 0 set copy_rate_min 1024
I0=$(stv org in_sync)
fio_load "$ORG" 6 --offset=62M --size=2M --numjobs=2
I1=$(stv org in_sync)
log "in_sync under load: $I0 -> $I1"
((I1 - I0 >= 32 + 32)) || fail "hydration starved under load: in_sync $I0 -> $I1 in 6 s"

# origin data verifies while hydrating
fio_verify "$ORG" 2M --offset=8M --output=/dev/null

step "finish"
dmsetup message org 0 set copy_rate_max 0
dmsetup message org 0 set copy_rate_min 0
wait_state 120 org synchronized completed
st org
log "done: ${ST[line]}"
assert_eq "${ST[in_sync]}/${ST[total]} ${ST[health]} ${ST[copy_errors]} ${ST[copying]}" \
	"$NR/$NR AA 0 0" "hydrated clone"
((ST[regions_copied] <= NR)) || fail "regions copied more than once: ${ST[regions_copied]} > $NR"
assert_eq "$(stv view state)" synchronized "view state"
check_image "$VIEW" "$PIT_IMG" "view after hydration"

dm_remove view
dm_remove org
check_image "$TGT" "$PIT_IMG" "target alone after teardown"
step "done"
