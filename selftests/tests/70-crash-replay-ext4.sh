#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Crash-consistency replay with ext4 on the origin (replay-lib.sh), two
# logs: a synchronous mirror and a snapshot, each with ext4 mounted on the
# origin device under an fsync-heavy load (a loop writing and fsyncing small
# files, a mark after every few fsyncs).  At every replayed crash point:
# mirror: the table loads, the resync ends with equal legs, and e2fsck -fn
# (after the journal replay a mount would do) finds the target and the
# source clean; snapshot: both tables load, e2fsck -fn finds the view (the
# PIT: a cleanly unmounted ext4) clean as it is, and the source clean after
# its journal replay.  Points loaded: at most RP_CAP_FLUSH=6 flush/FUA
# points and 1 sample per log; every flush/FUA point is swept (rp_sweep).
# timeout: 900
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"
RP_CAP_FLUSH=${RP_CAP_FLUSH_EXT4:-6} RP_SAMPLES=1
. "$SELFTESTS_DIR/replay-lib.sh"
require_module dm-log-writes ext4
require_cmd mkfs.ext4 e2fsck
BASE_DIR=$RP_DIR
MNT=$TEST_TMP/mnt
mkdir -p "$MNT"

# fsync_load DIR N: N small files, each written and fsync'd (dd conv=fsync),
# every 4th followed by a mark; a rename and an unlink now and then
fsync_load() {
	local d=$1 n=$2 i
	for ((i = 1; i <= n; i++)); do
		dd if=/dev/urandom of="$d/f$i" bs=4k count=$((1 + i % 3)) conv=fsync status=none
		((i % 5)) || mv "$d/f$((i - 1))" "$d/g$i"
		((i % 7)) || rm -f "$d/f$((i - 3))"
		((i % 4)) || { sync "$d"; rp_mark "fs$i"; }
	done
}

mkfs_src() {
	mkfs.ext4 -q -F -b 4096 -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 "$RP_SRC" >/dev/null
	e2fsck -fn "$RP_SRC" >/dev/null || fail "fresh ext4 not clean"
}

# --- mirror --------------------------------------------------------------------
RP_DIR=$BASE_DIR/mirror RP_MAN=$BASE_DIR/mirror/manifest
rp_setup
mkfs_src
dd if="$RP_SRC" of="$RP_TGT" bs=1M iflag=direct oflag=direct status=none
mt="0 $RP_SECT replica mirror sync %s %s %s $RP_RS %s 2 commit_ms 500"
# shellcheck disable=SC2059
dm_create m1 "$(printf "$mt" $RP_META $RP_SRC $RP_TGT "1 nosync")"
dm_remove m1
rp_log_start
# shellcheck disable=SC2059
dm_create m1 "$(printf "$mt" $RP_META $RP_SRC $RP_TGT 0)"
mount -t ext4 -o noatime "$(dm_dev m1)" "$MNT"
defer umount -l "$MNT"
fsync_load "$MNT" 12
msg m1 set commit_ms 200
dmsetup suspend m1
dmsetup resume m1
fsync_load "$MNT" 8
umount "$MNT"
dm_remove m1
rp_log_stop
rp_sweep

rp_replay_begin
mp=0
while rp_next; do
	# shellcheck disable=SC2059
	rp_create pm "$(printf "$mt" $P_META $P_SRC $P_TGT 0)" || continue
	ok=
	if rp_md_ok pm && rp_wait pm 60 synced; then ok=1; fi
	rp_remove pm
	if [[ -n $ok ]] && rp_equal "$P_SRC" "$P_TGT" "legs after the resync"; then
		rp_fsck "$P_TGT" "mirror target after its resync" replay || true
		rp_fsck "$P_SRC" "mirror source" replay || true
	fi
	[[ -z $RP_POINT_OK ]] || log "mirror $RP_POINT ok: e2fsck clean on target and source [$((SECONDS - RP_T0))s]"
done
rp_quit
mp=$RP_POINTS_DONE
rp_remove pmeta psrc ptgt

# --- snapshot -------------------------------------------------------------------
RP_DIR=$BASE_DIR/snap RP_MAN=$BASE_DIR/snap/manifest
rp_setup
mkfs_src
ot="0 $RP_SECT replica snapshot sync %s %s %s $RP_RS 0 2 commit_ms 500"
vt="0 $RP_SECT replica view snapshot %s %s %s $RP_RS"
# shellcheck disable=SC2059
dm_create org "$(printf "$ot" $RP_META $RP_SRC $RP_TGT)"
dm_remove org
rp_log_start
# shellcheck disable=SC2059
dm_create org "$(printf "$ot" $RP_META $RP_SRC $RP_TGT)"
# shellcheck disable=SC2059
dm_create snap "$(printf "$vt" $RP_META $RP_SRC $RP_TGT)"
mount -t ext4 -o noatime "$(dm_dev org)" "$MNT"
fsync_load "$MNT" 12
dm_remove snap
msg org set commit_ms 200
fsync_load "$MNT" 8
umount "$MNT"
dm_remove org
rp_log_stop
rp_sweep

RP_POINTS_MIRROR=$mp
rp_replay_begin
while rp_next; do
	# shellcheck disable=SC2059
	rp_create porg "$(printf "$ot" $P_META $P_SRC $P_TGT)" || continue
	# shellcheck disable=SC2059
	if rp_md_ok porg && rp_create pview "$(printf "$vt" $P_META $P_SRC $P_TGT)"; then
		rp_fsck /dev/mapper/pview "snapshot view" || true
	fi
	rp_remove pview porg
	rp_fsck "$P_SRC" "snapshot source" replay || true
	[[ -z $RP_POINT_OK ]] || log "snapshot $RP_POINT ok: e2fsck clean on view and source [$((SECONDS - RP_T0))s]"
done
RP_EXTRA="mirror: $mp points, snapshot: $RP_POINTS_DONE points"
RP_POINTS_DONE=$((mp + RP_POINTS_DONE))
rp_done ext4
