#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Finding 11 (review C11): a metadata commit allocates nothing sized from
# the metadata device, so memory pressure cannot fail it, and no failed
# allocation makes the metadata read-only for good.  The metadata device is
# a 4 GiB sparse file (a bitmap of its blocks per area is 64 KiB, order 4);
# fail_page_alloc fails every allocation of order >= 4 made by a kernel
# worker (make-it-fail on the kworkers: the commit runs on one) while
# writes to clean regions need commits.  The writes must succeed and the
# metadata stay rw, for a sync mirror and a snapshot origin.
# Needs fail_page_alloc (CONFIG_FAIL_PAGE_ALLOC, debugfs): the debug kernel
# of `make check DEBUG_KERNEL=1`; skipped on other kernels.
# timeout: 240
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"

FP=/sys/kernel/debug/fail_page_alloc
[[ -d $FP ]] || skip "no $FP: needs CONFIG_FAIL_PAGE_ALLOC (make check DEBUG_KERNEL=1)"

# every kernel worker that exists now fails order >= 4 page allocations
fail_workers_on() {
	local p
	echo 4 > "$FP/min-order"
	echo N > "$FP/ignore-gfp-wait"
	echo Y > "$FP/task-filter"
	echo 0 > "$FP/space"
	echo 1 > "$FP/interval"
	echo -1 > "$FP/times"
	echo 1 > "$FP/verbose"
	for p in $(pgrep '^(kworker|dm-replica)'); do
		echo 1 > "/proc/$p/make-it-fail" 2>/dev/null || true
	done
	echo 100 > "$FP/probability"
}
fail_workers_off() {
	local p
	echo 0 > "$FP/probability"
	for p in $(pgrep '^(kworker|dm-replica)'); do
		echo 0 > "/proc/$p/make-it-fail" 2>/dev/null || true
	done
}
defer fail_workers_off

brd_setup 2 16M
SRC=${RAMDISKS[0]} TGT=${RAMDISKS[1]}
SZ=$(sectors "$SRC")
META=$(ramdisk 4G)

# writes_under_pressure DEV NAME: regions 3, 10 and 20 written while order
# >= 4 allocations fail, with time for the idle clear to commit too
writes_under_pressure() {
	local dev=$1 name=$2 r
	fail_workers_on
	for r in 3 10 20; do
		write_at "$dev" $((r * 64)) 64 || { fail_workers_off; fail "$name: write to region $r failed under memory pressure"; }
		sleep 0.3
	done
	sleep 1
	fail_workers_off
}

step "sync mirror"
dm_create m1 "0 $SZ replica mirror sync $META $SRC $TGT 128 1 nosync 2 commit_ms 100"
wait_synced m1 30
writes_under_pressure "$(dm_dev m1)" mirror
rstat m1
log "after: $S_LINE"
assert_eq "$S_MDMODE" rw "mirror: metadata mode after commits under memory pressure"
write_at "$(dm_dev m1)" $((30 * 64)) 64 || fail "mirror: write to a clean region failed afterwards"
wait_clean m1 30
legs_equal "$SRC" "$TGT"
dm_remove m1

step "snapshot origin"
dd if=/dev/zero of="$META" bs=4k count=2 oflag=direct status=none
fill_random "$SRC"
PIT=$(sha256_dev "$SRC")
dm_create org "0 $SZ replica snapshot sync $META $SRC $TGT 128"
dm_create view "0 $SZ replica view snapshot $META $SRC $TGT 128"
writes_under_pressure "$(dm_dev org)" snapshot
assert_eq "$(stv org md)" rw "snapshot: metadata mode after commits under memory pressure"
assert_eq "$(stv org state)" synchronized "snapshot: state"
assert_eq "$(sha256_dev "$(dm_dev view)")" "$PIT" "snapshot: the view (point in time)"
dm_remove view
dm_remove org
