#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Crash-consistency replay, mirror: every write and flush that the mirror
# sends to its metadata, source and target is logged in one order
# (replay-lib.sh); the workload reopens the mirror, runs two racing fio
# writers with frequent fsyncs and marked O_DIRECT writes (each fsync'd,
# then a dm-log-writes mark), changes commit_ms, suspends and resumes,
# fractures, writes, resyncs.  At every replayed crash point the table must
# load (metadata rw, health AA), the resync after the load must copy at most
# the regions the workload touched (a cleared bit for a written region would
# show as unequal legs, a lost clean state as a full resync), the legs must
# end equal and every marked write must be on the source.
# timeout: 600
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"
. "$SELFTESTS_DIR/replay-lib.sh"
require_module dm-log-writes
MODE=${MIRROR_MODE:-sync}

rp_setup
mtable() {	# mtable META SRC TGT [nosync]
	local f=0
	[[ -z ${4:-} ]] || f="1 nosync"
	echo "0 $RP_SECT replica mirror $MODE $1 $2 $3 $RP_RS $f 2 commit_ms 500"
}
# format over the unlogged linears: two zeroed legs
dm_create m1 "$(mtable $RP_META $RP_SRC $RP_TGT nosync)"
wait_clean m1 30
dm_remove m1

rp_log_start
DEV=$(dm_dev m1)
dm_create m1 "$(mtable $RP_META $RP_SRC $RP_TGT)"
# regions 32..63: two racing writers, an fsync every 4 writes each
fio --name=race --filename="$DEV" --direct=1 --ioengine=psync --numjobs=2 \
	--rw=randwrite --bs=4k --offset=2M --size=2M --number_ios=60 --fsync=4 \
	--randrepeat=0 --output=/dev/null &
FIO=$!
defer stop_bg "$FIO"
RB=$REGION_BYTES
for r in 0 1 2 3 4 5; do rp_put "$DEV" src $((r * RB + (r % 8) * 4096)) 8192; done
msg m1 set commit_ms 200
dmsetup suspend m1
dmsetup resume m1
for r in 6 7 8 9; do rp_put "$DEV" src $((r * RB + (r % 8) * 4096)) 8192; done
msg m1 fracture
for r in 10 11 12 13; do rp_put "$DEV" src $((r * RB)) 16384; done
msg m1 resync
for r in 14 15; do rp_put "$DEV" src $((r * RB + 8192)) 4096; done
wait "$FIO" || fail "fio failed"
wait_synced m1 60
for r in 16 17; do rp_put "$DEV" src $((r * RB)) 4096; done
dm_remove m1
rp_log_stop
rp_sweep --src-role src
TOUCHED=$((18 + 32))	# regions 0..17 and 32..63

rp_replay_begin
cmin=999999 cmax=0 csum=0 nfrac=0
while rp_next; do
	c= at_load=
	rp_create pm "$(mtable $P_META $P_SRC $P_TGT)" || continue
	if rp_md_ok pm; then
		at_load=$S_LINE
		case $S_STATE in
		fractured|split|suspended|aborted) nfrac=$((nfrac + 1)); msg pm resync ;;
		esac
		if rp_wait pm 60 synced; then
			c=${S_KV[regions_copied]}
			((c < cmin)) && cmin=$c
			((c > cmax)) && cmax=$c
			csum=$((csum + c))
			((c <= TOUCHED)) ||
				rp_fail "resync copied $c regions, the workload touched only $TOUCHED (at load: $at_load)"
		fi
	fi
	rp_remove pm
	rp_equal "$P_SRC" "$P_TGT" "legs after the resync (at load: $at_load)" || true
	rp_check_data "$P_SRC" src || true
	[[ -z $RP_POINT_OK ]] || log "$RP_POINT ok: copied ${c:-?} regions, $RP_DATA_CHECKED marked writes checked [$((SECONDS - RP_T0))s]"
done
RP_EXTRA="resync copied min $cmin max $cmax total $csum regions (bound $TOUCHED of $((RP_SECT / RP_RS))); $nfrac points loaded fractured"
rp_done "mirror-$MODE"
