#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Snapshot and clone across crashes (sysrq b, no clean shutdown) on
# persistent disks.
#  phase1: a snapshot and a clone (hydrating slowly) of two random sources;
#          heavy origin writes on both; crash in the middle.
#  phase2: re-create the four tables: the snapshot view and the clone view
#          equal their points in time (checksums from phase1); the clone
#          goes on hydrating; more origin writes; crash again.
#  phase3: re-create; views still equal the points in time; the clone
#          finishes and its target alone equals the point in time.
# vm-disks: 8M 64M 64M 8M 64M 64M
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"

SM=$(boot_disk 0) SS=$(boot_disk 1) ST_=$(boot_disk 2)
CM=$(boot_disk 3) CS=$(boot_disk 4) CT=$(boot_disk 5)
SZ=$(sectors "$SS")
RS=128
NR=$((SZ / RS))
SNAP_DEVS="$SM $SS $ST_ $RS"
CLONE_DEVS="$CM $CS $CT $RS"
CLONE_T="0 $SZ replica clone sync $CLONE_DEVS 0 4 copy_rate_max 1024 copy_rate_min 1024"

create_all() {
	dm_create sorg "0 $SZ replica snapshot sync $SNAP_DEVS"
	dm_create snap "0 $SZ replica view snapshot $SNAP_DEVS"
	dm_create corg "$CLONE_T"
	dm_create cview "0 $SZ replica view clone $CLONE_DEVS"
}
_over() { (($(stv "$1" in_sync) > $2)); }

# load_and_crash MIN_SNAP MIN_CLONE: heavy writes on both origins, crash
# once both relationships have gone past the given in_sync counts
load_and_crash() {
	fio --direct=1 --ioengine=libaio --iodepth=16 --time_based=1 --runtime=120 \
		--rw=randwrite --bs=4k --blockalign=512 --randrepeat=0 --output=/dev/null \
		--name=s --filename="$(dm_dev sorg)" \
		--name=c --filename="$(dm_dev corg)" --bs=16k --size=16M &
	wait_for 60 _over sorg "$1" || fail "snapshot: too few regions preserved: $(dmsetup status sorg)"
	wait_for 60 _over corg "$2" || fail "clone: too little progress: $(dmsetup status corg)"
	log "crash with: $(dmsetup status sorg)"
	log "crash with: $(dmsetup status corg)"
	stv corg in_sync > "$BOOT_STATE/clone_in_sync"
	next_phase "$3"
	crash_now
}

check_views() {
	st sorg
	log "snapshot: ${ST[line]}"
	assert_eq "${ST[uuid]} ${ST[state]} ${ST[health]} ${ST[md]}" \
		"$(cat "$BOOT_STATE/snap_uuid") synchronized AA rw" "snapshot after the crash"
	st corg
	log "clone: ${ST[line]}"
	assert_eq "${ST[uuid]} ${ST[health]} ${ST[md]}" \
		"$(cat "$BOOT_STATE/clone_uuid") AA rw" "clone after the crash"
	assert_eq "$(sha256_dev "$(dm_dev snap)")" "$(cat "$BOOT_STATE/snap_pit")" "snapshot view after the crash"
	assert_eq "$(sha256_dev "$(dm_dev cview)")" "$(cat "$BOOT_STATE/clone_pit")" "clone view after the crash"
}

case $BOOT_PHASE in
phase1)
	dd if=/dev/zero of="$SM" bs=1M count=1 oflag=direct status=none
	dd if=/dev/zero of="$CM" bs=1M count=1 oflag=direct status=none
	fill_random "$SS"
	fill_random "$CS"
	sha256_dev "$SS" > "$BOOT_STATE/snap_pit"
	sha256_dev "$CS" > "$BOOT_STATE/clone_pit"
	create_all
	stv sorg uuid > "$BOOT_STATE/snap_uuid"
	stv corg uuid > "$BOOT_STATE/clone_uuid"
	load_and_crash 200 100 phase2
	;;
phase2)
	create_all
	check_views
	load_and_crash 400 "$(cat "$BOOT_STATE/clone_in_sync")" phase3
	;;
phase3)
	create_all
	check_views
	dmsetup message corg 0 set copy_rate_max 0
	dmsetup message corg 0 set copy_rate_min 0
	wait_state 120 corg synchronized completed
	assert_eq "$(stv corg in_sync)/$NR" "$NR/$NR" "clone hydrated"
	fio_verify "$(dm_dev sorg)" 2M --output=/dev/null
	assert_eq "$(sha256_dev "$(dm_dev snap)")" "$(cat "$BOOT_STATE/snap_pit")" "snapshot view at the end"
	dm_remove cview
	dm_remove corg
	assert_eq "$(sha256_dev "$CT")" "$(cat "$BOOT_STATE/clone_pit")" "clone target alone"
	;;
*)
	fail "unknown phase '$BOOT_PHASE'"
	;;
esac
