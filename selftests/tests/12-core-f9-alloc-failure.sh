#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Finding 9 (review C9): running out of memory for per-I/O objects never
# drops a bio, fails it or hangs the worker.  While failslab fails every
# allocation from the module's caches (region_entry, slot_map), a random
# write load at queue depth 128 (more regions in flight than the entry
# pool's reserve) runs on each mode; it must complete, its data verified
# (fio crc32c), and once failslab is off each relationship ends right:
# mirror legs equal, the snapshot view equal to the point in time, the
# clone's target equal to its view after hydration.
# Needs failslab (CONFIG_FAILSLAB, debugfs): the debug kernel of
# `make check DEBUG_KERNEL=1`; skipped on other kernels.
# timeout: 600
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"

FS=/sys/kernel/debug/failslab
[[ -d $FS ]] || skip "no $FS: needs CONFIG_FAILSLAB (make check DEBUG_KERNEL=1)"
# the caches are marked for failslab at creation: slub_debug=...A,region_entry,slot_map
# on the kernel command line (scripts/vm-run)
for c in region_entry slot_map; do
	[[ $(cat "/sys/kernel/slab/$c/failslab" 2>/dev/null) == 1 ]] ||
		skip "cache $c is not marked for failslab (slub_debug=A,$c on the kernel command line)"
done
BASE_TIMEOUT=$((300 * ${TEST_TIMEOUT_SCALE:-1}))	# the load without failslab
FS_TIMES=1000000000

failslab_on() {
	echo Y > "$FS/cache-filter"
	echo N > "$FS/ignore-gfp-wait"
	echo N > "$FS/task-filter"
	echo 0 > "$FS/space"
	echo 1 > "$FS/interval"
	# counts down once per failure (mempool allocations fail silently:
	# __GFP_NOWARN, so the kernel log shows nothing)
	echo "$FS_TIMES" > "$FS/times"
	echo 0 > "$FS/verbose"
	echo 100 > "$FS/probability"
}
failslab_off() { echo 0 > "$FS/probability"; }
defer failslab_off

# load DEV NAME SECS: 4 KiB random writes at queue depth 128 over 16 MiB
# (256 regions), then verified; killed after SECS
load() {
	timeout "$3" fio --name="$2" --filename="$1" --direct=1 \
		--ioengine=libaio --iodepth=128 --rw=randwrite --bs=4k --size=16M \
		--verify=crc32c --verify_fatal=1 --do_verify=1 --verify_state_save=0 \
		--randrepeat=0 --output="$TEST_TMP/$2.out"
}

# under_failslab DEV NAME: the load with every entry/slot allocation failing;
# it may take at most 4 times as long as the same load without (and 90 s
# more): slow is fine, stalled is not
under_failslab() {
	local rc=0 n t0=$SECONDS base limit
	load "$1" "$2-base" "$BASE_TIMEOUT" || fail "$2: the load failed without failslab"
	base=$((SECONDS - t0))
	limit=$((4 * base + 90))
	t0=$SECONDS
	failslab_on
	load "$1" "$2" "$limit" || rc=$?
	failslab_off
	n=$((FS_TIMES - $(cat "$FS/times")))
	log "$2: without failslab ${base}s; with it fio exit $rc after $((SECONDS - t0))s (limit ${limit}s), allocations failed: $n"
	((rc != 124)) || fail "$2: the load hung under failing allocations (killed after ${limit}s, 4 times the load without failslab + 90 s): $(dmsetup status | tr '\n' ';')"
	((rc == 0)) || fail "$2: the load failed under failing allocations: $(grep -m3 -iE 'err|verify' "$TEST_TMP/$2.out" | tr '\n' ' ')"
	((n > 0)) || fail "$2: failslab never failed an allocation (the test proves nothing)"
}

brd_setup 3 64M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
DEVS="$META $SRC $TGT 128"

for mode in sync async; do
	step "$mode mirror"
	dd if=/dev/zero of="$META" bs=4k count=2 oflag=direct status=none
	dm_create m1 "0 $SZ replica mirror $mode $DEVS 1 nosync"
	wait_synced m1 30
	under_failslab "$(dm_dev m1)" "mirror-$mode"
	wait_synced m1 60
	legs_equal "$SRC" "$TGT"
	dm_remove m1
done

step "snapshot: origin writes copy on write"
dd if=/dev/zero of="$META" bs=4k count=2 oflag=direct status=none
fill_random "$SRC"
PIT=$(sha256_dev "$SRC")
dm_create org "0 $SZ replica snapshot sync $DEVS"
dm_create view "0 $SZ replica view snapshot $DEVS"
under_failslab "$(dm_dev org)" snapshot-origin
assert_eq "$(stv org state)" synchronized "snapshot state after the load"
assert_eq "$(sha256_dev "$(dm_dev view)")" "$PIT" "snapshot view after the load (the point in time)"
dm_remove view
dm_remove org

step "clone: view writes during hydration"
dd if=/dev/zero of="$META" bs=4k count=2 oflag=direct status=none
fill_random "$SRC"
dm_create org "0 $SZ replica clone sync $DEVS 0 2 copy_rate_max 2048"
dm_create view "0 $SZ replica view clone $DEVS"
under_failslab "$(dm_dev view)" clone-view
msg org set copy_rate_max 0
wait_state 120 org synchronized completed
drop_caches
VIEW_SHA=$(sha256_dev "$(dm_dev view)")
assert_eq "$(sha256_dev "$TGT")" "$VIEW_SHA" "clone target after hydration (equal to its view)"
dm_remove view
dm_remove org
