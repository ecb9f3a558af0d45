# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# selftests/replay-lib.sh: crash-consistency replay for the
# tests/70-crash-replay-*.sh tests.  Source it after lib.sh and
# mirror-lib.sh (and pit-lib.sh when needed).
#
# One tmpfs-backed disk sits under ONE dm-log-writes device (lw), carved by
# dm-linear into meta (1 MiB), source and target (RP_LEG_MIB each); the
# replica tables sit on those three linears, so the log holds the writes of
# all three in one order, with their FLUSH/FUA flags.  A write counts as
# durable only once its own device was flushed (or it was FUA): see
# log-replay.py; so the durable state changes only at flush/FUA entries.
# Afterwards selftests/log-replay.py replays the log onto a copy of the disk
# as it was when logging started, twice: rp_sweep checks every flush/FUA
# point in one process against the committed metadata (no tables loaded);
# rp_replay_begin/rp_next stop at a sample (at most RP_CAP_FLUSH flush/FUA
# entries, evenly chosen, RP_SAMPLES plain writes at random, the start and
# the end of the log), write each such state to a second tmpfs disk under a
# loop device, carved the same way (pmeta, psrc, ptgt), and the test loads
# its tables on it and checks its invariants.
#
#   rp_setup                 the disk, the log and the linears rmeta rsrc
#                            rtgt straight on the disk (no logging yet);
#                            sets RP_META RP_SRC RP_TGT, RP_SECT (leg sectors)
#   rp_log_start             copy the disk (the replay base), then put lw
#                            under the three linears: logging starts
#   rp_mark NAME             log a mark (after a flush of a known write)
#   rp_put DEV ROLE BYTE_OFF BYTES [MARK]   O_DIRECT write of random data,
#                            fsync (a flush), then mark MARK (default a new
#                            name): recorded in the manifest under ROLE
#   rp_log_stop              remove the linears and lw: the log is complete
#   rp_sweep [--pit FILE] [--src-role ROLE] [--view-role ROLE]
#                            every durable state of the log (every flush/FUA
#                            entry), checked in-process against the committed
#                            metadata (log-replay.py sweep): cheap, so no
#                            point is left out; failures count as points
#   rp_replay_begin          check the replayer on a synthetic log (its
#                            selftest), start it; the point disk and its
#                            linears; sets P_META P_SRC P_TGT
#   rp_next                  next point: RP_I RP_N RP_ENTRY RP_KIND
#                            RP_MARKS (comma list); false after the last
#   rp_has_mark NAME         the mark is in the current prefix
#   rp_ask CMD...            one command to the replayer, prints its answer
#   rp_check_data DEV ROLE   marked writes of ROLE on DEV, else FAIL
#   rp_check_view DEV PIT ROLE   region check of a view (log-replay.py view)
#   rp_fail MSG              record a point failure (the test goes on with
#                            the next point and fails at rp_done)
#   rp_done                  the summary line; FAIL if any point failed

RP_META_SECT=2048
RP_LEG_MIB=${RP_LEG_MIB:-8}
RP_SECT=$((RP_LEG_MIB * 2048))
RP_RS=${RP_RS:-128}
# the loaded sample (rp_sweep checks every flush/FUA point offline)
RP_CAP_FLUSH=${RP_CAP_FLUSH:-10}
RP_SAMPLES=${RP_SAMPLES:-2}
RP_LOG_MIB=${RP_LOG_MIB:-512}
RP_PY=${RP_PY:-/usr/bin/python3}
[[ -x $RP_PY ]] || RP_PY=python3
RP_TOTAL=$((RP_META_SECT + 2 * RP_SECT))
RP_OFF=(0 "$RP_META_SECT" "$((RP_META_SECT + RP_SECT))")
RP_LEN=("$RP_META_SECT" "$RP_SECT" "$RP_SECT")
RP_DIR=$TEST_TMP/replay
RP_MAN=$RP_DIR/manifest
RP_NPUT=0
RP_FAILS=()
RP_DATA_CHECKED=0 RP_VIEW_RESULT='' RP_SWEPT=0 RP_POINTS_DONE=0 RP_SWEEP_FAILS=0
RP_MDUMP=${RP_MDUMP:-$REPO/userspace/replica-mdump}
REGION_BYTES=$((RP_RS * 512))

_rp_loop() {	# _rp_loop FILE SIZE: loop device on a new sparse file
	truncate -s "$2" "$1"
	losetup --find --show "$1"
}

_rp_linears() {	# _rp_linears PREFIX DEV
	local p=$1 dev=$2 n spec=
	for n in 0 1 2; do
		spec+="$p${RP_NAMES[n]},,,rw,0 ${RP_LEN[n]} linear $dev ${RP_OFF[n]};"
	done
	dmsetup create --concise "${spec%;}"
	for n in 0 1 2; do _register "dm $p${RP_NAMES[n]}"; done
}
RP_NAMES=(meta src tgt)

rp_setup() {
	[[ -x $RP_MDUMP ]] || skip "userspace/replica-mdump is not built (make -C userspace)"
	mkdir -p "$RP_DIR"
	: > "$RP_MAN"
	RP_DISK=$(_rp_loop "$RP_DIR/disk.img" $((RP_TOTAL * 512)))
	_register "loop $RP_DISK"
	RP_LOGDEV=$(_rp_loop "$RP_DIR/log.img" $((RP_LOG_MIB << 20)))
	_register "loop $RP_LOGDEV"
	_rp_linears r "$RP_DISK"
	RP_META=/dev/mapper/rmeta RP_SRC=/dev/mapper/rsrc RP_TGT=/dev/mapper/rtgt
}

rp_log_start() {
	local n
	cp --sparse=always "$RP_DIR/disk.img" "$RP_DIR/base.img"
	dm_create lw "0 $RP_TOTAL log-writes $RP_DISK $RP_LOGDEV"
	dmsetup suspend rmeta rsrc rtgt
	for n in 0 1 2; do
		dmsetup load "r${RP_NAMES[n]}" --table "0 ${RP_LEN[n]} linear /dev/mapper/lw ${RP_OFF[n]}"
	done
	dmsetup resume rmeta rsrc rtgt
	step "logging started"
}

# rp_pit_image: a random source and its image, $PIT: the point in time of
# a snapshot or clone taken next (pit-lib.sh's fill_random and save_image)
rp_pit_image() {
	fill_random "$RP_SRC"
	PIT=$RP_DIR/pit.img
	save_image "$RP_SRC" "$PIT"
}

# rp_pit_open [ARG]: for a snapshot or clone replay whose tables the test
# prints with `otable META SRC TGT [ARG]` and `vtable META SRC TGT`: the
# point in time taken outside the log (otable gets ARG), then the log
# started and both loaded again as org and snap ($ORG, $SNAP); RB is the
# region size in bytes.
rp_pit_open() {
	rp_pit_image
	dm_create org "$(otable $RP_META $RP_SRC $RP_TGT "$@")"
	dm_create snap "$(vtable $RP_META $RP_SRC $RP_TGT)"
	dm_remove snap
	dm_remove org
	rp_log_start
	ORG=$(dm_dev org) SNAP=$(dm_dev snap) RB=$REGION_BYTES
	dm_create org "$(otable $RP_META $RP_SRC $RP_TGT)"
	dm_create snap "$(vtable $RP_META $RP_SRC $RP_TGT)"
}

# rp_race DEV OFFSET SIZE IOS: two racing fio writers of 4 KiB blocks with
# an fsync every 4 writes, IOS writes each, over OFFSET/SIZE of DEV, in the
# background ($RP_RACE_PID; `wait` on it)
rp_race() {
	fio --name=race --filename="$1" --direct=1 --ioengine=psync --numjobs=2 \
		--rw=randwrite --bs=4k --offset="$2" --size="$3" --number_ios="$4" --fsync=4 \
		--randrepeat=0 --output=/dev/null &
	RP_RACE_PID=$!
	defer stop_bg "$RP_RACE_PID"
}

rp_mark() { dmsetup message lw 0 mark "${1:?rp_mark NAME}"; }

rp_put() {
	local dev=${1:?} role=${2:?} off=${3:?} len=${4:?} name=${5:-}
	RP_NPUT=$((RP_NPUT + 1))
	[[ -n $name ]] || name=w$RP_NPUT
	local f=$RP_DIR/chunk.$RP_NPUT
	head -c "$len" /dev/urandom > "$f"
	dd if="$f" of="$dev" bs="$len" seek="$off" oflag=direct,seek_bytes \
		conv=notrunc,fsync status=none
	rp_mark "$name"
	echo "$name $role $off $len $f" >> "$RP_MAN"
}

rp_log_stop() {
	dm_remove rmeta
	dm_remove rsrc
	dm_remove rtgt
	dm_remove lw
	losetup -d "$RP_DISK"
	_unregister "loop $RP_DISK"
	rm -f "$RP_DIR/disk.img"
	step "logging stopped: $(du -m "$RP_DIR/log.img" | cut -f1) MiB of log"
}

rp_sweep() {
	local out rc=0 line p k m c
	out=$("$RP_PY" "$SELFTESTS_DIR/log-replay.py" sweep "$RP_DIR/log.img" "$RP_DIR/base.img" \
		--devs "0:$RP_META_SECT,${RP_OFF[1]}:$RP_SECT,${RP_OFF[2]}:$RP_SECT" \
		--manifest "$RP_MAN" --region "$REGION_BYTES" --mdump "$RP_MDUMP" "$@" 2>&1) || rc=$?
	case $out in
	"SWEEP OK "*)
		read -r _ _ p k m c <<<"$out"
		RP_SWEPT=$((RP_SWEPT + p))
		step "sweep: every durable state checked: all $p flush/FUA points (and $k marks), $m metadata states, $c region checks"
		;;
	*)
		while read -r line; do
			[[ $line == "SWEEP BAD "* ]] || { log "$line"; continue; }
			RP_FAILS+=("sweep: ${line#SWEEP BAD }")
			RP_SWEEP_FAILS=$((RP_SWEEP_FAILS + 1))
			log "SWEEP FAILED: ${line#SWEEP BAD }"
		done <<<"$out"
		((RP_SWEEP_FAILS)) || {
			RP_FAILS+=("sweep: log-replay.py sweep exited $rc: $(tail -n 1 <<<"$out")")
			RP_SWEEP_FAILS=1
		}
		;;
	esac
}

rp_replay_begin() {
	local devs=
	"$RP_PY" "$SELFTESTS_DIR/log-replay.py" selftest >/dev/null ||
		fail "log-replay.py selftest failed"
	RP_PT=$(_rp_loop "$RP_DIR/point.img" $((RP_TOTAL * 512)))
	_register "loop $RP_PT"
	_rp_linears p "$RP_PT"
	P_META=/dev/mapper/pmeta P_SRC=/dev/mapper/psrc P_TGT=/dev/mapper/ptgt
	devs="0:$RP_META_SECT,${RP_OFF[1]}:$RP_SECT,${RP_OFF[2]}:$RP_SECT"
	coproc RP { exec "$RP_PY" "$SELFTESTS_DIR/log-replay.py" serve \
		"$RP_DIR/log.img" "$RP_DIR/base.img" "$RP_DIR/point.img" \
		--devs "$devs" --cap-flush "$RP_CAP_FLUSH" --samples "$RP_SAMPLES" \
		--manifest "$RP_MAN" --region "$REGION_BYTES" ${RP_GLOBAL:+--global} \
		${RP_AFTER_MARK:+--after-mark "$RP_AFTER_MARK"}; }
	RP_IN=${RP[1]} RP_OUT=${RP[0]}
	defer rp_quit
	RP_POINTS_DONE=0
}

rp_quit() {
	{ echo quit >&"$RP_IN"; } 2>/dev/null || true
	[[ -z ${RP_PID:-} ]] || wait "$RP_PID" 2>/dev/null || true
}

rp_ask() {
	local ans
	echo "$*" >&"$RP_IN"
	read -r ans <&"$RP_OUT" || fail "log-replay.py died"
	echo "$ans"
}

rp_next() {
	local a
	local -a f
	a=$(rp_ask next)
	[[ $a == END ]] && return 1
	read -r -a f <<<"$a"
	[[ ${f[0]} == POINT ]] || fail "log-replay.py: $a"
	RP_I=${f[1]} RP_N=${f[2]} RP_ENTRY=${f[3]} RP_KIND=${f[4]} RP_MARKS=${f[5]}
	RP_LAST_MARK=${RP_MARKS##*,}
	RP_UNFLUSHED=${f[6]}
	RP_POINT="point $RP_I/$RP_N (entry $RP_ENTRY $RP_KIND, last mark $RP_LAST_MARK)"
	RP_POINT_OK=1
	RP_POINTS_DONE=$((RP_POINTS_DONE + 1))
	RP_T0=$SECONDS
	return 0
}

rp_has_mark() { [[ ,$RP_MARKS, == *",${1:?},"* ]]; }

rp_fail() {
	RP_FAILS+=("$RP_POINT: $*")
	RP_POINT_OK=
	log "POINT FAILED: $RP_POINT: $*; writes not yet durable (device 0 meta, 1 source, 2 target: count(regions)): $RP_UNFLUSHED"
}

rp_check_data() {
	local a
	a=$(rp_ask data "${1:?}" "${2:?}")
	[[ $a == OK* ]] || { rp_fail "$a"; return 1; }
	RP_DATA_CHECKED=${a#OK }
}

rp_check_view() {
	local a
	a=$(rp_ask view "${1:?}" "${2:?}" "${3:?}")
	[[ $a == OK* ]] || { rp_fail "$a"; return 1; }
	RP_VIEW_RESULT=${a#OK }
}

# rp_md_ok NAME: the metadata opened: status not fail/ro, health AA
rp_md_ok() {
	rstat "${1:?}"
	[[ $S_MDMODE == rw ]] || { rp_fail "metadata mode $S_MDMODE: $S_LINE"; return 1; }
	[[ $S_HEALTH == AA ]] || { rp_fail "health $S_HEALTH: $S_LINE"; return 1; }
}

# rp_create NAME TABLE: dmsetup create that records a point failure (few
# execs per point: every one costs much under TCG)
declare -A RP_REG=()
rp_create() {
	local out
	[[ -n ${RP_REG[$1]:-} ]] || { _register "dm $1"; RP_REG[$1]=1; }
	if ! out=$(dmsetup create "$1" --table "$2" 2>&1); then
		rp_fail "table did not load: $1: $out ($(dmesg | tail -n 2 | tr '\n' '|'))"
		return 1
	fi
}
# rp_remove NAME...: dmsetup remove (retried while busy)
rp_remove() {
	local n
	dmsetup remove "$@" 2>/dev/null && return 0
	for n; do _dm_remove_retry "$n"; done
}
# rp_equal A B: two devices or files hold the same bytes (O_DIRECT reads)
rp_equal() {
	local a
	a=$(rp_ask equal "${1:?}" "${2:?}")
	[[ $a == OK* ]] && return 0
	rp_fail "${3:-contents}: $a"
	return 1
}

# rp_wait NAME SECS COND: wait_for COND NAME, rp_fail otherwise
rp_wait() {
	local name=$1 secs=$2 cond=$3 end=$((SECONDS + $2 * ${TEST_TIMEOUT_SCALE:-1}))
	while :; do
		"$cond" "$name" && return 0
		((SECONDS < end)) || break
		sleep 0.3
	done
	rp_fail "$name: not $cond after ${secs}s: $(dmsetup status "$name")"
	return 1
}

# rp_fsck DEV WHAT [replay]: e2fsck -fn must find DEV clean; with
# "replay", the journal is replayed first (what a mount would do)
rp_fsck() {
	local dev=${1:?} what=${2:?} out rc
	if [[ ${3:-} == replay ]]; then
		out=$(e2fsck -E journal_only -y "$dev" 2>&1) || rc=$?
		((${rc:-0} <= 1)) || { rp_fail "$what: journal replay failed (e2fsck rc $rc): $(tail -n 3 <<<"$out" | tr '\n' '|')"; return 1; }
	fi
	rc=0
	out=$(e2fsck -fn "$dev" 2>&1) || rc=$?
	((rc == 0)) && return 0
	rp_fail "$what: e2fsck -fn exit $rc: $(grep -v '^Pass\|^e2fsck [0-9]' <<<"$out" | head -n 4 | tr '\n' '|')"
	return 1
}

rp_done() {
	local mode=${1:-$TEST_NAME}
	local nload=$((${#RP_FAILS[@]} - RP_SWEEP_FAILS))
	log "REPLAY SUMMARY $mode: $RP_SWEPT flush/FUA points swept (every one, checked offline; $RP_SWEEP_FAILS failures), $RP_POINTS_DONE replay points loaded and checked ($nload failed); ${RP_EXTRA:-}"
	if ((${#RP_FAILS[@]})); then
		fail "$RP_SWEEP_FAILS sweep failures, $nload of $RP_POINTS_DONE loaded replay points failed; first: ${RP_FAILS[0]}"
	fi
}
