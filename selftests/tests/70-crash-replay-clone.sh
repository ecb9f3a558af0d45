#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Crash-consistency replay, clone during hydration (replay-lib.sh): the
# workload reopens a clone whose hydration is rate-limited so that it runs
# all through the log, with two racing fio writers with fsyncs on the
# origin (copy-on-write of regions not hydrated yet), marked origin writes,
# marked view writes, commit_ms changes, suspend/resume of the origin,
# pause/resume of the hydration, removal and re-creation of the view.  At
# every replayed crash point both tables must load (metadata rw, health
# AA), the view must show the point in time (with its view writes, as in
# 70-crash-replay-snapshot), marked origin writes must be on the source;
# then hydration is let run to the end on the replayed state: the clone
# must be synchronized, the view must still show the point in time and the
# target must hold the same bytes as the view.
# timeout: 600
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"
. "$SELFTESTS_DIR/replay-lib.sh"
require_module dm-log-writes

rp_setup
otable() { echo "0 $RP_SECT replica clone sync $1 $2 $3 $RP_RS 0 4 commit_ms 500 copy_rate_max ${4:-256}"; }
vtable() { echo "0 $RP_SECT replica view clone $1 $2 $3 $RP_RS"; }
rp_pit_open 1
rp_race "$ORG" 4M 2M 60
for r in 100 101 102; do rp_put "$ORG" src $((r * RB + 4096)) 8192; done
for r in 110 111; do rp_put "$SNAP" view $((r * RB + 8192)) 8192; done
rp_put "$SNAP" view $((112 * RB)) "$RB"
msg org set commit_ms 200
dmsetup suspend org
dmsetup resume org
rp_put "$ORG" src $((110 * RB + 32768)) 4096
msg org pause
rp_put "$ORG" src $((103 * RB)) 4096
msg org resume
dmsetup suspend snap
rp_put "$ORG" src $((104 * RB)) 4096
dmsetup resume snap
dm_remove snap
rp_put "$ORG" src $((105 * RB)) 4096
dm_create snap "$(vtable $RP_META $RP_SRC $RP_TGT)"
rp_put "$SNAP" view $((113 * RB)) 4096
wait "$RP_RACE_PID" || fail "fio failed"
st org
log "at the end of the workload: ${ST[line]}"
dm_remove snap
dm_remove org
rp_log_stop
rp_sweep --pit "$PIT" --src-role src

rp_replay_begin
nhyd=0
while rp_next; do
	h=
	rp_create porg "$(otable $P_META $P_SRC $P_TGT)" || continue
	if rp_md_ok porg && rp_create pview "$(vtable $P_META $P_SRC $P_TGT)"; then
		h=$S_INSYNC
		rp_check_view /dev/mapper/pview "$PIT" view || true
		rp_check_data "$P_SRC" src || true
		msg porg set copy_rate_max 0
		[[ ${S_STATE} != suspended ]] || msg porg resume
		if rp_wait porg 90 synced; then
			nhyd=$((nhyd + 1))
			rp_check_view /dev/mapper/pview "$PIT" view || true
		fi
	fi
	rp_remove pview porg
	[[ -z $RP_POINT_OK ]] || log "$RP_POINT ok: $h regions hydrated at load, view regions total/PIT/with view data $RP_VIEW_RESULT after hydration [$((SECONDS - RP_T0))s]"
done
RP_EXTRA="$nhyd points hydrated to the end"
rp_done clone
