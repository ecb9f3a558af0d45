#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Crash-consistency replay, snapshot (replay-lib.sh): the workload reopens
# a snapshot, runs two racing fio writers with fsyncs on the origin (first
# writes are copy-on-write), marked origin writes, marked view writes (part
# of a region, a whole region, and regions the origin then writes), changes
# commit_ms, suspends and resumes the origin and the view while COW writes
# run, removes and re-creates the view.  At every replayed crash point both
# tables must load (metadata rw, health AA) and the view must show the
# point in time: every region untouched through the view equals the PIT
# image (sha256 per region in log-replay.py), a view-written region holds
# the PIT data or the PIT data with its view writes, the latter once the
# mark after the write's fsync is in the prefix; marked origin writes are on
# the source.
# timeout: 600
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"
. "$SELFTESTS_DIR/replay-lib.sh"
require_module dm-log-writes

rp_setup
otable() { echo "0 $RP_SECT replica snapshot sync $1 $2 $3 $RP_RS 0 2 commit_ms 500"; }
vtable() { echo "0 $RP_SECT replica view snapshot $1 $2 $3 $RP_RS"; }
rp_pit_open
# regions 64..127: two racing writers on the origin, copy-on-write
rp_race "$ORG" 4M 4M 60
for r in 0 1 2; do rp_put "$ORG" src $((r * RB + 4096)) 8192; done
for r in 8 9 10; do rp_put "$SNAP" view $((r * RB + 8192)) 8192; done
rp_put "$SNAP" view $((11 * RB)) "$RB"		# a whole region
msg org set commit_ms 200
dmsetup suspend org
dmsetup resume org
rp_put "$ORG" src $((9 * RB + 32768)) 4096	# the origin writes view-written regions
rp_put "$ORG" src $((11 * RB)) 4096
dmsetup suspend snap
rp_put "$ORG" src $((3 * RB)) 4096		# COW while the view is suspended
dmsetup resume snap
dm_remove snap
rp_put "$ORG" src $((4 * RB)) 4096
dm_create snap "$(vtable $RP_META $RP_SRC $RP_TGT)"
rp_put "$SNAP" view $((12 * RB)) 4096
rp_put "$SNAP" view $((9 * RB + 49152)) 4096	# a second view write to a region
wait "$RP_RACE_PID" || fail "fio failed"
for r in 5 6; do rp_put "$ORG" src $((r * RB)) 4096; done
dm_remove snap
dm_remove org
rp_log_stop
rp_sweep --pit "$PIT" --src-role src

rp_replay_begin
npv=0
while rp_next; do
	rp_create porg "$(otable $P_META $P_SRC $P_TGT)" || continue
	if rp_md_ok porg && rp_create pview "$(vtable $P_META $P_SRC $P_TGT)"; then
		[[ $S_STATE == synchronized ]] || rp_fail "origin loaded as $S_STATE: $S_LINE"
		rp_check_view /dev/mapper/pview "$PIT" view && npv=$((npv + ${RP_VIEW_RESULT##* }))
		rp_check_data "$P_SRC" src || true
	fi
	rp_remove pview porg
	[[ -z $RP_POINT_OK ]] || log "$RP_POINT ok: view regions total/PIT/with view data $RP_VIEW_RESULT, $RP_DATA_CHECKED marked origin writes checked [$((SECONDS - RP_T0))s]"
done
RP_EXTRA="view-written regions seen with their view data: $npv"
rp_done snapshot
