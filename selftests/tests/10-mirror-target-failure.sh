#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Mirror target leg failure: the target leg's table is swapped to `error`
# while fio writes through the mirror.  The host sees no error, the status
# shows target health D and copy state broken, the data verifies; after the
# leg is back, clear_errors (and resync if needed) brings the legs equal.
# With fail_host_on_target_error the host write fails instead.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"

brd_setup 3 64M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT0=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
RS=128
NR=$((SZ / RS))
GOOD="0 $SZ linear $TGT0 0"
LATE=	# a failure reported at the end, after the data checks
BAD="0 $SZ error"
dm_create tleg "$GOOD"
TGT=/dev/mapper/tleg
DEV=/dev/mapper/m1

dm_create m1 "0 $SZ replica mirror sync $META $SRC $TGT $RS 1 nosync"
wait_synced m1 10

has_entries() { rstat m1; ((S_KV[entries] > 0 || S_DIRTY > 0)); }

fio --name=verify --filename="$DEV" --direct=1 --ioengine=libaio --iodepth=16 \
	--rw=randwrite --bs=4k --size=16M --verify=crc32c --verify_fatal=1 --verify_state_save=0 \
	--do_verify=1 --randseed=4242 --output="$TEST_TMP/fio.out" &
FIO=$!
wait_for 30 has_entries || fail "no writes seen in flight"
dm_swap tleg "$BAD"
log "target leg is now an error device"
wait "$FIO" || fail "host saw errors with a failed target leg: $(grep -iE 'err|verify' "$TEST_TMP/fio.out" | head -n 5)"
rstat m1
log "after fio: $S_LINE"
assert_eq "$S_STATE" broken "copy state after target failure"
assert_eq "$S_HEALTH" AD "health after target failure"
assert_eq "$S_MDMODE" rw "metadata mode"
((S_INSYNC < NR)) || fail "no region out of sync after writes to a broken mirror"
# the source side verifies on its own too (fio already verified through dm)
fio --name=verify --filename="$DEV" --direct=1 --ioengine=libaio --iodepth=16 \
	--rw=randwrite --bs=4k --size=16M --verify=crc32c --verify_only=1 --verify_state_load=0 \
	--randseed=4242 --output="$TEST_TMP/fio-vo.out" ||
	fail "verify_only through the broken mirror failed: $(tail -n 5 "$TEST_TMP/fio-vo.out")"
# a message that needs both legs is refused while a leg is failed
expect_msg_fail m1 "Input/output error" resync

dm_swap tleg "$GOOD"
msg m1 set copy_rate_max 64		# keep the resync running for the checks below
msg m1 clear_errors
rstat m1
log "after clear_errors: $S_LINE"
assert_eq "$S_HEALTH" AA "health after clear_errors"
# this is a resync of a relationship that was synchronized, not an initial copy
[[ $S_PROGRESS == resyncing || $S_PROGRESS == completed ]] ||
	LATE="progress '$S_PROGRESS' for the resync after clear_errors (want resyncing)"
if [[ $S_STATE != unsynchronized && $S_STATE != synchronized ]]; then
	msg m1 resync
fi
msg m1 set copy_rate_max 0
wait_synced m1 60
rstat m1
assert_eq "$S_HEALTH ${S_KV[copy_errors]}" "AA 0" "health/copy errors after recovery"
legs_equal "$SRC" "$TGT"
fio --name=verify --filename="$TGT" --direct=1 --ioengine=libaio --iodepth=16 \
	--rw=randwrite --bs=4k --size=16M --verify=crc32c --verify_only=1 --verify_state_load=0 \
	--randseed=4242 --output="$TEST_TMP/fio-vt.out" ||
	fail "verify_only on the recovered target leg failed"
dm_remove m1

# --- fail_host_on_target_error ------------------------------------------------
dd if=/dev/zero of="$META" bs=4k count=2 oflag=direct status=none
dd if=/dev/zero of="$SRC" bs=1M count=64 oflag=direct status=none
dd if=/dev/zero of="$TGT" bs=1M count=64 oflag=direct status=none
dm_create m2 "0 $SZ replica mirror sync $META $SRC $TGT $RS 2 nosync fail_host_on_target_error"
assert_match "$(dm_table m2)" " $RS 2 nosync fail_host_on_target_error 14 " "TABLE features"
wait_synced m2 10
write_at /dev/mapper/m2 0 64			# fine while the leg works
dm_swap tleg "$BAD"
expect_fail write_at /dev/mapper/m2 640 64	# region 10
rstat m2
log "after a failed host write: $S_LINE"
assert_eq "$S_STATE $S_HEALTH" "broken AD" "state/health with fail_host_on_target_error"
dm_swap tleg "$GOOD"
msg m2 clear_errors
rstat m2
[[ $S_STATE == unsynchronized || $S_STATE == synchronized ]] || msg m2 resync
wait_synced m2 60
legs_equal "$SRC" "$TGT"
[[ -z $LATE ]] || fail "$LATE"
