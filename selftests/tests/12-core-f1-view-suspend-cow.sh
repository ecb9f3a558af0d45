#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Finding 1 (review C1): a commit with no release list strands held bios
# forever.  The view's postsuspend commits with release == NULL; entries of
# copy-on-write copies that the worker had just put on commit_wait are then
# unlinked without their bios being released, and those origin writes (and
# every later write to their regions) never complete.
#
# A snapshot, then a clone (hydration paused, so every origin write still
# needs a copy-on-write), on a fresh point in time with 4 KiB regions: fio
# random 4 KiB writes on the origin while the view is suspended and resumed
# again and again (bursts of DM_DEV_SUSPEND ioctls, 6 s each, then the
# view is removed and created again).
# Expected: every origin write completes: fio ends within 30 s of its
# runtime, and a `dmsetup suspend` of the origin then completes (20 s
# bound).  Today fio never ends (its writes are held on an entry on no
# list): the test fails naming the stranded writes.
#
# A stranded write cannot be completed or aborted, so on failure fio is
# left running (waiting interruptibly for its I/O: no hung-task report) and
# the devices stay open (loop devices on tmpfs, not brd, so later tests can
# still reload brd).  rmmod at the end of the run then fails too.
# timeout: 200
# cpus: 2
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"
require_cmd fio timeout

META=$(ramdisk 16M)
SRC=$(ramdisk 64M)
TGT=$(ramdisk 64M)
SZ=$(sectors "$SRC")
RS=8
DEVS="$META $SRC $TGT $RS"
RUNTIME=30

run_case() {
	local type=$1 i n c t_end fio_pid waited done_ios
	step "$type"
	dd if=/dev/zero of="$META" bs=4k count=2 oflag=direct status=none
	dm_create f1org "0 $SZ replica $type sync $DEVS"
	dm_create f1view "0 $SZ replica view $type $DEVS"
	[[ $type == snapshot ]] || dmsetup message f1org 0 pause
	fio --name=cow --filename="$(dm_dev f1org)" --direct=1 --ioengine=libaio \
		--iodepth=16 --rw=randwrite --bs=4k --time_based=1 --runtime="$RUNTIME" \
		--randrepeat=0 --output="$TEST_TMP/fio-$type.out" &
	fio_pid=$!
	_copying() { st f1org; ((ST[in_sync] > 0)); }
	wait_for 60 _copying || fail "$type: no copy-on-write seen: ${ST[line]}"
	t_end=$((SECONDS + RUNTIME - 6))
	i=0 n=0
	while ((SECONDS < t_end)); do
		i=$((i + 1))
		# a burst of suspend/resume cycles of the view, then a removal
		c=$(suspend_burst f1view 6) || fail "$type: view suspend/resume burst $i failed"
		n=$((n + c))
		timeout 20 dmsetup remove f1view || fail "$type: view removal $i did not complete"
		_unregister "dm f1view"
		dm_create f1view "0 $SZ replica view $type $DEVS"
	done
	st f1org
	log "$type: $n view suspend/resume cycles, $i removals; ${ST[line]}"
	waited=0
	while kill -0 "$fio_pid" 2>/dev/null && ((waited < RUNTIME + 30)); do
		sleep 1
		waited=$((waited + 1))
	done
	if kill -0 "$fio_pid" 2>/dev/null; then
		st f1org
		# leave fio and the devices alone: the writes can never end
		: > "$_CLEANUP"
		fail "$type: origin writes stranded: fio still waiting for its I/O $((RUNTIME + 30))s after its ${RUNTIME}s runtime (status: entries=${ST[entries]} copying=${ST[copying]} dirty=${ST[dirty]})"
	fi
	wait "$fio_pid" || fail "$type: fio failed: $(tail -n 3 "$TEST_TMP/fio-$type.out")"
	done_ios=$(sed -n 's/.*issued rwts: total=[0-9]*,\([0-9]*\).*/\1/p' "$TEST_TMP/fio-$type.out")
	log "$type: fio wrote ${done_ios:-?} blocks"
	timeout 20 dmsetup suspend f1org || fail "$type: origin suspend did not complete within 20s"
	dmsetup resume f1org
	st f1org
	assert_eq "${ST[health]} ${ST[md]} ${ST[copy_errors]}" "AA rw 0" "$type: health after the rounds"
	dm_remove f1view
	dm_remove f1org
}

run_case snapshot
run_case clone
