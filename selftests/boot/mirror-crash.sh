#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Mirror crash (reboot, no sync): metadata, source and target on persistent
# disks.  phase1 writes and syncs a marker range, then crashes (sysrq b)
# while fio writes to the first 16 MiB.  phase2 loads the same table: the
# metadata loads, at most the regions fio could touch are resynced (not a
# full resync), the marker verifies, and after the resync the legs are
# equal.
# vm-disks: 16M 64M 64M
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"

META=$(boot_disk 0) SRC=$(boot_disk 1) TGT=$(boot_disk 2)
SZ=$(sectors "$SRC")
RS=128
NR=$((SZ / RS))
FIO_KIB=16384
FIO_REGIONS=$((FIO_KIB / 64))
TABLE="0 $SZ replica mirror sync $META $SRC $TGT $RS 1 nosync"
DEV=/dev/mapper/m1

case $BOOT_PHASE in
phase1)
	# fresh sparse disks read zero: nosync is truthful
	dm_create m1 "$TABLE"
	wait_synced m1 20
	head -c 4M /dev/urandom > "$TEST_TMP/marker"
	dd if="$TEST_TMP/marker" of="$DEV" bs=1M seek=40 oflag=direct,sync status=none
	dev_md5 "$TEST_TMP/marker" > "$BOOT_STATE/marker"
	wait_clean m1 30
	rstat m1
	log "before the load: $S_LINE"
	fio --name=load --filename="$DEV" --direct=1 --ioengine=libaio --iodepth=16 \
		--rw=randwrite --bs=4k --size="${FIO_KIB}k" --time_based --runtime=120 \
		--output=/dev/null &
	busy() { rstat m1; ((S_DIRTY >= 16 && S_KV[entries] > 0)); }
	wait_for 30 busy || fail "fio writes not seen"
	rstat m1
	log "at the crash: $S_LINE"
	next_phase phase2
	crash_now
	;;
phase2)
	[[ -s $BOOT_STATE/marker ]] || fail "no marker checksum from phase1"
	dm_create m1 "$TABLE"
	rstat m1
	log "after the crash: $S_LINE"
	assert_eq "$S_TOTAL $S_MDMODE $S_HEALTH" "$NR rw AA" "reloaded relationship"
	((S_DIRTY <= FIO_REGIONS)) || fail "$S_DIRTY regions marked, fio could touch only $FIO_REGIONS"
	((S_INSYNC >= NR - FIO_REGIONS)) || fail "in_sync $S_INSYNC: a resync of more than the $FIO_REGIONS regions fio touched"
	assert_eq "$(range_md5 "$DEV" 40960 4096)" \
		"$(cat "$BOOT_STATE/marker")" "marker written before the crash"
	wait_synced m1 60
	rstat m1
	COPIED=${S_KV[regions_copied]}	# since the table was created
	log "resync after the crash copied $COPIED regions"
	((COPIED > 0)) || fail "nothing resynced after a cut during writes"
	((COPIED <= FIO_REGIONS)) || fail "resync copied $COPIED regions (fio touched at most $FIO_REGIONS)"
	legs_equal "$SRC" "$TGT"
	dm_remove m1
	# and once more, cleanly: nothing to copy
	dm_create m1 "$TABLE"
	rstat m1
	assert_eq "$S_STATE $S_INSYNC/$S_TOTAL $S_DIRTY" "synchronized $NR/$NR 0" "after a clean stop"
	;;
*)
	fail "unknown phase '$BOOT_PHASE'"
	;;
esac
