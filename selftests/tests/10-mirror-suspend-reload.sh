#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Mirror suspend/resume and table reloads under fio: a few cycles of
# suspend+resume, a reload of the same table, reloads switching the mode
# and a tunable, each bounded in time (no hang), while fio writes with
# crc32c verification; fio sees no error, the data verifies, the reloaded
# parameters are in force and the legs end up equal.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"

brd_setup 3 64M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
RS=128
NR=$((SZ / RS))
BASE="0 $SZ replica mirror sync $META $SRC $TGT $RS 1 nosync"
DEV=/dev/mapper/m1
dm_create m1 "$BASE"
wait_synced m1 10

# t_reload TABLE: reload within 30 s
t_reload() {
	timeout 30 dmsetup suspend m1 || fail "suspend hung or failed: $(dmsetup status m1)"
	printf '%s\n' "$1" | timeout 30 dmsetup load m1 || {
		dmsetup resume m1
		fail "load failed: $1"
	}
	timeout 30 dmsetup resume m1 || fail "resume hung or failed"
}

# fio write+verify passes, one after the other, until told to stop
(
	n=0
	while [[ ! -e $TEST_TMP/stop ]]; do
		n=$((n + 1))
		fio --name=verify --filename="$DEV" --direct=1 --ioengine=libaio --iodepth=16 \
			--rw=randwrite --bs=4k --size=8M --offset=$(( (n % 4) * 8 ))M \
			--verify=crc32c --verify_fatal=1 --verify_state_save=0 --do_verify=1 \
			--randrepeat=0 --output="$TEST_TMP/fio.$n.out" ||
			{ echo "fio pass $n failed" > "$TEST_TMP/fio.failed"; exit 1; }
	done
	echo "$n" > "$TEST_TMP/fio.passes"
) &
FIO=$!
defer kill "$FIO"
busy() { rstat m1; ((S_KV[entries] > 0 || S_DIRTY > 0)); }
wait_for 30 busy || fail "fio writes not seen"

cycles=0
for i in 1 2 3; do
	kill -0 "$FIO" 2>/dev/null || fail "fio stopped: $(cat "$TEST_TMP/fio.failed" 2>/dev/null)"
	timeout 30 dmsetup suspend m1 || fail "suspend $i hung or failed"
	rstat m1
	assert_eq "${S_KV[entries]} $S_COPYING" "0 0" "I/O in flight while suspended"
	timeout 30 dmsetup resume m1 || fail "resume $i hung or failed"
	t_reload "$BASE"
	t_reload "0 $SZ replica mirror async $META $SRC $TGT $RS 1 nosync 2 copy_inflight 4"
	rstat m1
	assert_eq "$S_MODE" async "mode after reloading an async table"
	assert_match "$(dm_table m1)" "^mirror async .* copy_inflight 4 " "TABLE after reload"
	t_reload "$BASE"
	assert_match "$(dm_table m1)" "^mirror sync .* copy_inflight 16 " "TABLE after reload back"
	cycles=$((cycles + 1))
done
touch "$TEST_TMP/stop"
wait "$FIO" || fail "$(cat "$TEST_TMP/fio.failed" 2>/dev/null): $(grep -hiE 'err|verify' "$TEST_TMP"/fio.*.out | head -n 5)"
log "$cycles suspend/reload cycles under $(cat "$TEST_TMP/fio.passes") fio write+verify passes"
rstat m1
assert_eq "$S_MODE $S_HEALTH $S_MDMODE" "sync AA rw" "after the cycles"
wait_synced m1 60
legs_equal "$SRC" "$TGT"

# suspend with no I/O, message while suspended, resume: state kept
dmsetup suspend m1
msg m1 fracture
dmsetup resume m1
assert_status m1 "^mirror sync fractured dormant $NR/$NR "
msg m1 resync
wait_synced m1 20
