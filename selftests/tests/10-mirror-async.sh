#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Asynchronous mirror with a slow target (dm-delay, 20 ms per write): under
# a fio write load the lag fields are non-zero and, with lag_policy
# throttle, never above max_lag_regions; once the load stops the lag drains
# to 0 and the legs are equal.  `mode sync|async` switches the mode (status
# and TABLE), `set` changes tunables (TABLE), lag_policy fallbehind lets the
# lag pass the bound.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"
require_module dm-delay

brd_setup 3 64M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT0=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
RS=128
NR=$((SZ / RS))
MAXLAG=24
dm_create slowtgt "0 $SZ delay $TGT0 0 0 $TGT0 0 20"
TGT=/dev/mapper/slowtgt
DEV=/dev/mapper/m1

dm_create m1 "0 $SZ replica mirror async $META $SRC $TGT $RS 1 nosync 4 max_lag_regions $MAXLAG lag_policy throttle"
rstat m1
assert_eq "$S_MODE $S_STATE $S_LAG $S_LAGMS" "async synchronized 0 0" "fresh async mirror"
assert_match "$(dm_table m1)" "^mirror async $(majmin $META) $(majmin $SRC) $(majmin $TGT) $RS 1 nosync 14 .* max_lag_regions $MAXLAG .* lag_policy throttle " "TABLE"

# poll_lag PID: sample the status until PID exits; sets MAX_LAG, MAX_LAGMS
poll_lag() {
	local pid=$1
	MAX_LAG=0 MAX_LAGMS=0 SAMPLES=0
	while kill -0 "$pid" 2>/dev/null; do
		rstat m1
		SAMPLES=$((SAMPLES + 1))
		((S_LAG > MAX_LAG)) && MAX_LAG=$S_LAG
		((S_LAGMS > MAX_LAGMS)) && MAX_LAGMS=$S_LAGMS
		[[ $S_MODE == async ]] || fail "mode changed under load: $S_LINE"
	done
}

fio --name=load --filename="$DEV" --direct=1 --ioengine=libaio --iodepth=16 \
	--rw=randwrite --bs=4k --size=64M --time_based --runtime=8 \
	--output="$TEST_TMP/fio1.out" &
FIO=$!
poll_lag "$FIO"
wait "$FIO" || fail "fio load failed: $(tail -n 5 "$TEST_TMP/fio1.out")"
log "throttle: $SAMPLES samples, max lag $MAX_LAG regions, $MAX_LAGMS ms"
((SAMPLES >= 3)) || fail "too few status samples ($SAMPLES)"
((MAX_LAG > 0)) || fail "lag never above 0 under load"
((MAX_LAGMS > 0)) || fail "lag ms never above 0 under load"
((MAX_LAG <= MAXLAG)) || fail "lag $MAX_LAG above max_lag_regions $MAXLAG with lag_policy throttle"
wait_synced m1 60
rstat m1
assert_eq "$S_LAG $S_LAGMS $S_HEALTH" "0 0 AA" "after the load"
legs_equal "$SRC" "$TGT"

# --- set: tunables, visible in TABLE --------------------------------------------
msg m1 set max_lag_regions 64
msg m1 set lag_policy fallbehind
msg m1 set copy_inflight 4
msg m1 set commit_ms 500
msg m1 set max_lag_ms 60000
T=$(dm_table m1)
assert_match "$T" " copy_inflight 4 max_lag_regions 64 max_lag_ms 60000 lag_policy fallbehind commit_ms 500\$" "TABLE after set"

# fallbehind: the lag is allowed past the bound.  Write-behind keeps up
# with a target that is only slow to answer (20 ms), so the target is made
# slower than the load for this part: each write waits a whole second.
dm_reload slowtgt "0 $SZ delay $TGT0 0 0 $TGT0 0 1000"
fio --name=load --filename="$DEV" --direct=1 --ioengine=libaio --iodepth=16 \
	--rw=randwrite --bs=4k --size=64M --time_based --runtime=5 \
	--output="$TEST_TMP/fio2.out" &
FIO=$!
poll_lag "$FIO"
wait "$FIO" || fail "fio load failed: $(tail -n 5 "$TEST_TMP/fio2.out")"
log "fallbehind: $SAMPLES samples, max lag $MAX_LAG regions, $MAX_LAGMS ms"
((MAX_LAG > 64)) || fail "lag $MAX_LAG never passed max_lag_regions 64 with fallbehind"
dm_reload slowtgt "0 $SZ delay $TGT0 0 0 $TGT0 0 20"
msg m1 set copy_inflight 16
wait_synced m1 90
legs_equal "$SRC" "$TGT"

# --- mode switches --------------------------------------------------------------
msg m1 mode sync
rstat m1
assert_eq "$S_MODE $S_LAG" "sync 0" "status after mode sync"
assert_match "$(dm_table m1)" "^mirror sync " "TABLE after mode sync"
# a synchronous write is on the target when it completes
head -c 65536 /dev/urandom > "$TEST_TMP/w"
write_at "$DEV" 640 64 "$TEST_TMP/w"
assert_eq "$(range_md5 "$TGT" 640 64)" "$(dev_md5 "$TEST_TMP/w")" "sync-mode write on the target at completion"
rstat m1
assert_eq "$S_INSYNC/$S_TOTAL $S_LAG" "$NR/$NR 0" "sync mode after a write"
msg m1 mode async
rstat m1
assert_eq "$S_MODE" async "status after mode async"
assert_match "$(dm_table m1)" "^mirror async " "TABLE after mode async"
expect_msg_fail m1 "Invalid argument" mode foo
expect_msg_fail m1 "Invalid argument" mode
rstat m1
assert_eq "$S_MODE" async "mode after refused messages"

# data verifies through the async mirror; the lag drains, legs equal
fio_verify "$DEV" 8M --iodepth=8 --verify_state_save=0
wait_synced m1 60
legs_equal "$SRC" "$TGT"
