#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Crash-consistency replay of restores in progress (replay-lib.sh), three
# logs: a snapshot restore, a clone restore (mid-hydration) and the restore
# of a fractured mirror.  Each workload writes the origin, then (rate
# limited, so that the restore spans the log) sends `restore` and marks the
# log once the message returned.  At every replayed crash point the tables
# must load (metadata rw, health AA); a restore in progress at the load, or
# a restore whose mark is in the prefix, must complete and leave the source
# equal to the restored image (the PIT, or the target as it was at the
# fracture; a snapshot/clone restore in progress shows as progress
# "restoring" or, once the load finished it, as a new pit_ns); before it,
# the PIT view must show the PIT (snapshot, clone)
# and a fractured mirror's target must still be the fracture image.
# Points loaded: at most RP_CAP_FLUSH=6 flush/FUA points and 1 sample per log,
# all after the mark logged just before the restore message (a replay
# before it is the 70-crash-replay-snapshot/clone/mirror ground), plus the
# start and the end of the log.
# timeout: 900
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"
RP_CAP_FLUSH=${RP_CAP_FLUSH_RESTORE:-6} RP_SAMPLES=1 RP_AFTER_MARK=pre-restore
. "$SELFTESTS_DIR/replay-lib.sh"
require_module dm-log-writes
RB=$REGION_BYTES
BASE_DIR=$RP_DIR

# --- snapshot and clone ------------------------------------------------------
pit_restore() {
	local type=$1 ot vt
	RP_DIR=$BASE_DIR/$type RP_MAN=$BASE_DIR/$type/manifest
	rp_setup
	ot="0 $RP_SECT replica $type sync %s %s %s $RP_RS 0 4 commit_ms 500 copy_rate_max %s"
	vt="0 $RP_SECT replica view $type %s %s %s $RP_RS"
	rp_pit_image
	# shellcheck disable=SC2059
	dm_create org "$(printf "$ot" $RP_META $RP_SRC $RP_TGT 1)"
	dm_remove org
	rp_log_start
	ORG=$(dm_dev org)
	# shellcheck disable=SC2059
	dm_create org "$(printf "$ot" $RP_META $RP_SRC $RP_TGT 0)"
	fio --name=w --filename="$ORG" --direct=1 --ioengine=psync --numjobs=2 \
		--rw=randwrite --bs=4k --offset=1M --size=3M --number_ios=40 --fsync=4 \
		--randrepeat=0 --output=/dev/null
	for r in 1 2 70 71; do rp_put "$ORG" src $((r * RB)) 8192; done
	msg org set copy_rate_max 256
	dmsetup suspend org
	dmsetup resume org
	st org
	PIT_NS=${ST[pit_ns]}	# a finished restore takes a new point in time
	rp_mark pre-restore
	if ! msg org restore; then
		RP_SUMMARY+="$type: restore refused ($(dmesg | tail -n 1)); "
		dm_remove org
		rp_log_stop
		return 0
	fi
	rp_mark restore
	# shellcheck disable=SC2059
	dm_create snap "$(printf "$vt" $RP_META $RP_SRC $RP_TGT)"
	wait_for 120 _notrestoring org || fail "$type: restore did not end: $(dmsetup status org)"
	rp_mark restored
	dm_remove snap
	dm_remove org
	rp_log_stop
	rp_sweep --pit "$PIT" --view-role none
	check_restore_points "$type" "$ot" "$vt"
}

check_restore_points() {
	local type=$1 ot=$2 vt=$3 inprog=0 done_=0 before=0 ld
	rp_replay_begin
	while rp_next; do
		# shellcheck disable=SC2059
		rp_create porg "$(printf "$ot" $P_META $P_SRC $P_TGT 0)" || continue
		if rp_md_ok porg; then
			ld=$S_LINE
			# restoring, or a restore the load finished (new PIT), or
			# one acknowledged before the point
			if [[ $S_PROGRESS == restoring || ${S_KV[pit_ns]} != "$PIT_NS" ]] ||
				rp_has_mark restore; then
				[[ $S_PROGRESS == restoring || ${S_KV[pit_ns]} != "$PIT_NS" ]] &&
					inprog=$((inprog + 1))
				if rp_wait porg 90 _restored; then
					rp_equal "$P_SRC" "$PIT" "$type: source after the restore (at load: $ld)" &&
						done_=$((done_ + 1))
				fi
			else
				before=$((before + 1))
				# shellcheck disable=SC2059
				rp_create pview "$(printf "$vt" $P_META $P_SRC $P_TGT)" &&
					rp_check_view /dev/mapper/pview "$PIT" none
			fi
		fi
		rp_remove pview porg
		[[ -z $RP_POINT_OK ]] || log "$type $RP_POINT ok (at load: ${ld:-?}) [$((SECONDS - RP_T0))s]"
	done
	rp_quit
	RP_SUMMARY+="$type: $RP_POINTS_DONE points ($inprog restoring at load or finished by the load, $done_ restored and checked, $before before the restore); "
	RP_TOTAL_POINTS=$((RP_TOTAL_POINTS + RP_POINTS_DONE))
	rp_remove pmeta psrc ptgt
}
_notrestoring() { rstat "$1"; [[ $S_PROGRESS != restoring ]]; }
_restored() { rstat "$1"; [[ $S_STATE == synchronized && $S_PROGRESS == completed && $S_COPYING == 0 ]]; }

RP_SUMMARY= RP_TOTAL_POINTS=0
pit_restore snapshot
pit_restore clone

# --- fractured mirror -----------------------------------------------------------
RP_DIR=$BASE_DIR/mirror RP_MAN=$BASE_DIR/mirror/manifest
rp_setup
mt="0 $RP_SECT replica mirror sync %s %s %s $RP_RS %s 4 commit_ms 500 copy_rate_max %s"
# shellcheck disable=SC2059
dm_create m1 "$(printf "$mt" $RP_META $RP_SRC $RP_TGT "1 nosync" 0)"
wait_clean m1 30
dm_remove m1
rp_log_start
DEV=$(dm_dev m1)
# shellcheck disable=SC2059
dm_create m1 "$(printf "$mt" $RP_META $RP_SRC $RP_TGT 0 0)"
for r in 1 2 3 4 5 6; do rp_put "$DEV" src $((r * RB)) 16384; done
wait_synced m1 60
msg m1 fracture
rp_mark fractured
FRAC=$RP_DIR/fracture.img
save_image "$RP_TGT" "$FRAC"
for r in 3 4 7 8 9; do rp_put "$DEV" after $((r * RB + 4096)) 8192; done
msg m1 set copy_rate_max 256
rp_mark pre-restore
msg m1 restore
rp_mark restore
wait_synced m1 120
rp_mark restored
dm_remove m1
rp_log_stop
rp_sweep

rp_replay_begin
inprog=0 done_=0 frac=0
while rp_next; do
	ld=
	# shellcheck disable=SC2059
	rp_create pm "$(printf "$mt" $P_META $P_SRC $P_TGT 0 0)" || continue
	if rp_md_ok pm; then
		ld=$S_LINE
		if [[ $S_PROGRESS == restoring ]] || rp_has_mark restore; then
			[[ $S_PROGRESS == restoring ]] && inprog=$((inprog + 1))
			if rp_wait pm 90 synced; then
				rp_remove pm
				rp_equal "$P_SRC" "$FRAC" "mirror: source after the restore (at load: $ld)" &&
					rp_equal "$P_TGT" "$FRAC" "mirror: target after the restore (at load: $ld)" &&
					done_=$((done_ + 1))
			fi
		elif rp_has_mark fractured; then
			# fractured, or a restore committed before the point that
			# the load resumed (and may have finished already): the
			# target must still be the fracture image, and after a
			# restore the source too
			frac=$((frac + 1))
			if [[ $S_STATE == fractured ]]; then
				rp_remove pm
				rp_equal "$P_TGT" "$FRAC" "mirror: fractured target (at load: $ld)" || true
			elif rp_wait pm 90 synced; then
				rp_remove pm
				rp_equal "$P_TGT" "$FRAC" "mirror: target after a restore resumed by the load (at load: $ld)" &&
					rp_equal "$P_SRC" "$FRAC" "mirror: source after a restore resumed by the load (at load: $ld)" || true
			fi
		else
			[[ $S_STATE == fractured ]] || rp_wait pm 60 synced
			rp_remove pm
			[[ $S_STATE == fractured ]] || rp_equal "$P_SRC" "$P_TGT" "mirror: legs before the fracture" || true
		fi
	fi
	rp_remove pm
	[[ -z $RP_POINT_OK ]] || log "mirror $RP_POINT ok (at load: ${ld:-?}) [$((SECONDS - RP_T0))s]"
done
RP_SUMMARY+="mirror: $RP_POINTS_DONE points ($inprog restoring at load, $done_ restored and checked, $frac fractured)"
RP_POINTS_DONE=$((RP_TOTAL_POINTS + RP_POINTS_DONE))
RP_EXTRA=$RP_SUMMARY
rp_done restore
