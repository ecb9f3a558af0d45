#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# scripts/bench-vm.sh: the in-VM half of `make bench` (scripts/bench boots
# the VM with scripts/vm-run and runs this once).  Everything runs in this
# one boot so that ratios between targets are taken under the same
# conditions.
#
# Environment (set by scripts/bench through vm-run --env):
#   BENCH_RUNTIME   seconds per fio workload (3 for QUICK=1, 10 otherwise)
#   BENCH_WS_MB     size of the tested area of every device (MiB)
#   BENCH_PERF      1: profile every fio batch with perf (perf/<id>.txt)
#   BENCH_GROUPS    which groups to run (default: all of
#                   "memory mirror-ram mirror-vd snapshot clone lag")
#   DMCLONE_KO      out-of-tree dm-clone.ko, or "skip:<reason>"
#   REPLICA_KO      dm-replica.ko (default build/<kver>/dm-replica.ko)
#   BASELINE_KO     optional: another dm-replica.ko (scripts/bench
#                   --baseline REV); every dm-replica configuration then
#                   also runs on it, as "<config>@base", right after
#   BASELINE_REV    the revision it was built from (for the log)
#   BENCH_ROUNDS    with a baseline: rounds of each this-tree/baseline
#                   pair of the mirror and snapshot groups (default 3; the
#                   order swaps every round; the report takes medians)
#
# Devices: brd /dev/ram0..2 (RAM) and virtio disks /dev/vda..c (files on
# the host), used as source, target and metadata (log, COW, pool metadata).
# Every configuration covers the first BENCH_WS_MB of them.
#
# Output in $VM_RESULTS: bench.tsv (one measurement a line, see rec()),
# fio/<class>.<config>.<workload>.json, status.log (dm status and
# /proc/diskstats before and after each run, for profiling), meminfo.log.
set -uo pipefail

RT=${BENCH_RUNTIME:-10}
WS_MB=${BENCH_WS_MB:-128}
GROUPS_RUN=" ${BENCH_GROUPS:-memory mirror-ram mirror-vd snapshot snapshot-vd clone lag} "
OUT=${VM_RESULTS:-/tmp/bench}
REPO=${REPO:-$(cd "$(dirname "$0")/.." && pwd)}
read -r KREL < /proc/sys/kernel/osrelease
REPLICA_KO=${REPLICA_KO:-$REPO/build/$KREL/dm-replica.ko}
DMCLONE_KO=${DMCLONE_KO:-skip:not built}
BASELINE_KO=${BASELINE_KO:-}
# the dm-replica builds measured: "" (this tree), "@base" (BASELINE_KO)
VARIANTS=("")
[[ -n $BASELINE_KO ]] && VARIANTS+=("@base")
ROUNDS=1
[[ -n $BASELINE_KO ]] && ROUNDS=${BENCH_ROUNDS:-3}
ROUND_TAG=		# fio/status ids of rounds after the first: ".r<N>"
# variants_of CONFIG ROUND: CONFIG in each build, swapped in even rounds
variants_of() {
	if (($2 % 2)); then
		printf '%s\n' "${VARIANTS[@]/#/$1}"
	else
		printf '%s\n' "${VARIANTS[@]/#/$1}" | tac
	fi
}
REGION=128			# sectors: 64 KiB region / chunk / block size
WS=$((WS_MB * 2048))		# sectors
CWS=$((WS * 2))			# clone size: hydration needs seconds to be timed
TSV=$OUT/bench.tsv
STATUS_LOG=$OUT/status.log
SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/bench-vm.sh

say() { printf '[bench %s] %s\n' "$(date +%T)" "$*"; }
now() { echo "$EPOCHREALTIME"; }
# rec GROUP CLASS CONFIG WORKLOAD KEY VALUE [NOTE]
rec() {
	local IFS=$'\t'
	echo "$*" >> "$TSV"
}
skip_rec() {	# skip_rec GROUP CLASS CONFIG REASON
	rec "$1" "$2" "$3" - skip 0 "$4"
	say "SKIP $2/$3: $4"
}

# --- devices and dm helpers ---------------------------------------------------
declare -A SRC TGT META
SRC[ram]=/dev/ram0 TGT[ram]=/dev/ram1 META[ram]=/dev/ram2
SRC[vd]=/dev/vda TGT[vd]=/dev/vdb META[vd]=/dev/vdc

dmc() {		# dmc NAME TABLE: create, quietly
	printf '%s\n' "$2" | dmsetup create "$1" 2>>"$OUT/dm-errors.log"
}
dmrm() {
	local n
	for n; do
		dmsetup info "$n" >/dev/null 2>&1 || continue
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			dmsetup remove "$n" 2>/dev/null && break
			sleep 0.3
		done
	done
}
# zero DEV KIB [OFFSET_KIB]
zero() {
	dd if=/dev/zero of="$1" bs=4k count=$(($2 / 4)) seek=$((${3:-0} / 4)) \
		oflag=direct status=none conv=notrunc
}
# /proc/diskstats lines of the legs (bash builtins only: every exec costs
# 0.1-0.3 s in a TCG guest)
diskstats() {
	local line
	while read -r line; do
		[[ $line =~ \ (ram[0-2]|vd[a-c]|dm-[0-9]+)\  ]] && echo "$line"
	done < /proc/diskstats
}
# reads_of DM-NAME: completed reads of a block device (e.g. dm-3)
reads_of() {
	local a b name rd rest
	while read -r a b name rd rest; do
		[[ $name == "$1" ]] && { echo "$rd"; return; }
	done < /proc/diskstats
	echo 0
}
snap_status() {	# snap_status TAG DEV...: dm status of DEVs + diskstats
	local d
	{
		echo "== $1 $(now)"
		shift
		for d; do echo "status $d: $(dmsetup status "$d" 2>&1)"; done
		diskstats
	} >> "$STATUS_LOG"
}

# --- fio ------------------------------------------------------------------------
WORKLOADS=(w4k_qd1 w4k_qd16 w64k_seq r4k_qd16 fsync_mix)
wl_args() {
	local base=(--direct=1 --size=$((WS * 512)) --time_based --runtime="$RT"
		    --norandommap --randrepeat=1 --group_reporting)
	case $1 in
	w4k_qd1) echo "${base[@]} --rw=randwrite --bs=4k --ioengine=libaio --iodepth=1" ;;
	w4k_qd16) echo "${base[@]} --rw=randwrite --bs=4k --ioengine=libaio --iodepth=16" ;;
	w64k_seq) echo "${base[@]} --rw=write --bs=64k --ioengine=libaio --iodepth=8" ;;
	r4k_qd16|r4k_view) echo "${base[@]} --rw=randread --bs=4k --ioengine=libaio --iodepth=16" ;;
	fsync_mix) echo "${base[@]} --rw=randrw --rwmixread=50 --bs=4k --ioengine=psync --fsync=1" ;;
	# one 4 KiB write at the start of every 64 KiB region, once: every
	# write is the first one to its region after the point in time
	first_write) echo "--direct=1 --size=$((WS * 512)) --runtime=$((RT * 6))" \
			  "--number_ios=$((WS / REGION)) --rw=write:$((REGION / 2 - 4))k" \
			  "--bs=4k --ioengine=libaio --iodepth=16" ;;
	steady) echo "${base[@]} --rw=randwrite --bs=4k --ioengine=libaio --iodepth=16" ;;
	*) echo "unknown workload $1" >&2; return 1 ;;
	esac
}
# BENCH_PERF=1: each fio batch runs under `perf record -a -g` (cpu-clock
# samples of both vCPUs, kernel and fio); perf/<id>.txt gets the hottest
# symbols, self and with children.  Profiling slows the runs: the ratios of
# such a run are not comparable with an unprofiled one.
perf_prefix() {
	[[ -n ${BENCH_PERF:-} ]] && command -v perf >/dev/null || return 0
	mkdir -p "$OUT/perf"
	echo "perf record -a -g -q -o $OUT/perf/$1.data --"
}
perf_report() {
	local data=$OUT/perf/$1.data
	[[ -s $data ]] || return 0
	{
		echo "== $1: self"
		perf report -i "$data" --no-children --sort sym --stdio -g none 2>/dev/null |
			grep '%' | head -n 40
		echo "== $1: with children"
		perf report -i "$data" --children --sort sym --stdio -g none 2>/dev/null |
			grep '%' | head -n 60
	} > "$OUT/perf/$1.txt"
	rm -f "$data"
}
# fio_batch GROUP CLASS CONFIG "STATUSDEVS" WORKLOAD:DEV...: one fio process
# for the workloads of a configuration, one job each, run one after the
# other (stonewall); fio's start-up costs seconds in a TCG guest, once per
# configuration this way.  With STATUSDEVS, each job snapshots the dm status
# of those devices and /proc/diskstats before and after it runs.
fio_batch() {
	local g=$1 c=$2 cfg=$3 sdevs=$4 id=$2.$3$ROUND_TAG job w dev a
	shift 4
	job=/tmp/bench-$id.fio
	: > "$job"
	for a; do
		w=${a%%:*} dev=${a#*:}
		{
			echo "[$w]"
			echo "filename=$dev"
			echo "stonewall"
			wl_args "$w" | tr ' ' '\n' | sed -n 's/^--//p'
			if [[ -n $sdevs ]]; then
				echo "exec_prerun=$SELF --snap before $id.$w $sdevs"
				echo "exec_postrun=$SELF --snap after $id.$w $sdevs"
			fi
		} >> "$job"
	done
	cp "$job" "$OUT/fio/$id.fio"
	# (fio writes <job>.prerun.txt into its cwd: run it in a writable one)
	if (cd /tmp && $(perf_prefix "$id") fio --output-format=json --output="$OUT/fio/$id.json" "$job") \
		>"$OUT/fio/$id.err" 2>&1; then
		perf_report "$id"
		for a; do rec "$g" "$c" "$cfg" "${a%%:*}" fio "fio/$id.json#${a%%:*}"; done
	else
		rec "$g" "$c" "$cfg" all error 0 "fio failed: $(grep -v '^$' "$OUT/fio/$id.err" | tail -n 1)"
		for a; do [[ -s $OUT/fio/$id.json ]] && rec "$g" "$c" "$cfg" "${a%%:*}" fio "fio/$id.json#${a%%:*}"; done
	fi
}

# fields of `dmsetup status` (after "start len type")
st() { dmsetup status "$1" 2>/dev/null | cut -d' ' -f4-; }

# --- module loading -----------------------------------------------------------
load_modules() {
	local deps d
	modprobe -a -q dm-mod dm-bufio dm-persistent-data dm-bio-prison dm-log \
		dm-region-hash dm-mirror dm-snapshot dm-delay dm-zero dm-thin-pool \
		dm-raid raid1 libcrc32c 2>/dev/null
	modprobe brd rd_nr=3 rd_size=$(((WS_MB * 5 / 2) * 1024)) max_part=0 ||
		say "brd not available"
	deps=$(modinfo -F depends "$REPLICA_KO")
	for d in ${deps//,/ }; do modprobe -q "$d"; done
	use_replica "" || exit 1
	DMCLONE_SKIP=
	if [[ $DMCLONE_KO == skip:* ]]; then
		DMCLONE_SKIP=${DMCLONE_KO#skip:}
	elif ! insmod "$DMCLONE_KO" 2>"$OUT/dm-clone-insmod.err"; then
		DMCLONE_SKIP="insmod failed: $(head -n 1 "$OUT/dm-clone-insmod.err")"
	fi
	say "modules: $(lsmod | awk 'NR > 1 && /^(dm_|brd|raid1)/ {printf "%s ", $1}')"
	{ echo "kernel $KREL"; echo "cmdline $(cat /proc/cmdline)"; nproc
	  grep -E 'MemTotal' /proc/meminfo; } > "$OUT/env.txt"
}

# use_replica CONFIG: make the dm-replica build CONFIG names the loaded one
# (a name ending in @base: BASELINE_KO, else REPLICA_KO).  Every device of
# the other must be gone; the callers remove theirs after each run.
REPLICA_LOADED=
use_replica() {
	local want=new ko=$REPLICA_KO
	[[ $1 == *@base ]] && want=base ko=$BASELINE_KO
	[[ $REPLICA_LOADED == "$want" ]] && return 0
	if [[ -d /sys/module/dm_replica ]] && ! rmmod dm_replica; then
		say "cannot unload dm_replica to load the $want build"
		return 1
	fi
	insmod "$ko" || { say "cannot load $ko"; return 1; }
	REPLICA_LOADED=$want
}

# --- memory: slab/vmalloc of a large sparse replica -----------------------------
meminfo() { awk -v k="$1" '$1 == k":" {print $2}' /proc/meminfo; }
mem_snapshot() {	# sets MEM_SLAB MEM_VMALLOC MEM_FREE (KiB)
	sync
	echo 3 > /proc/sys/vm/drop_caches
	sleep 0.5
	MEM_SLAB=$(meminfo Slab) MEM_VMALLOC=$(meminfo VmallocUsed) MEM_FREE=$(meminfo MemFree)
}
group_memory() {
	local tib sectors s0 v0 f0
	say "memory: replica over dm-zero, 1 and 2 TiB, region $REGION sectors"
	dmrm mrep mzs mzt mmeta
	dmc mmeta "0 32768 linear ${META[ram]} 0" || { skip_rec memory ram replica "cannot create meta"; return; }
	for tib in 1 2; do
		sectors=$((tib << 31))
		zero /dev/mapper/mmeta 64
		dmc mzs "0 $sectors zero" && dmc mzt "0 $sectors zero" || {
			skip_rec memory ram replica "dm-zero not available"; dmrm mzs mzt mmeta; return; }
		mem_snapshot; s0=$MEM_SLAB v0=$MEM_VMALLOC f0=$MEM_FREE
		if dmc mrep "0 $sectors replica mirror sync /dev/mapper/mmeta /dev/mapper/mzs /dev/mapper/mzt $REGION 1 nosync"; then
			mem_snapshot
			rec memory ram replica "${tib}TiB" slab_kib $((MEM_SLAB - s0))
			rec memory ram replica "${tib}TiB" vmalloc_kib $((MEM_VMALLOC - v0))
			rec memory ram replica "${tib}TiB" memfree_drop_kib $((f0 - MEM_FREE))
			echo "$tib TiB: slab $s0 -> $MEM_SLAB, vmalloc $v0 -> $MEM_VMALLOC, free $f0 -> $MEM_FREE" >> "$OUT/meminfo.log"
			st mrep >> "$OUT/meminfo.log"
		else
			skip_rec memory ram replica "cannot create a ${tib} TiB replica: $(tail -n 1 "$OUT/dm-errors.log")"
		fi
		dmrm mrep mzs mzt
	done
	dmrm mmeta
}

# --- mirror group: linear, dm-replica sync/async, dm-mirror, dm-raid raid1 -------
MIRROR_CONFIGS=(linear "${VARIANTS[@]/#/rep-sync}" "${VARIANTS[@]/#/rep-async}"
		mirror-core mirror-disk raid1)
# "CONFIG ROUND" lines: every configuration once, then the later rounds of
# the this-tree/baseline pairs
mirror_runs() {
	local cfg r
	for cfg in "${MIRROR_CONFIGS[@]}"; do echo "$cfg 1"; done
	for ((r = 2; r <= ROUNDS; r++)); do
		for cfg in rep-sync rep-async; do
			variants_of "$cfg" "$r" | sed "s/\$/ $r/"
		done
	done
}
mirror_setup() {	# mirror_setup CLASS CONFIG -> DEV (name "bm")
	local c=$1 s=${SRC[$1]} t=${TGT[$1]} m=${META[$1]} cfg=${2%@base}
	case $cfg in
	linear) dmc bm "0 $WS linear $s 0" ;;
	rep-sync|rep-async)
		zero "$m" 64
		use_replica "$2" &&
		dmc bm "0 $WS replica mirror ${cfg#rep-} $m $s $t $REGION 1 nosync" ;;
	mirror-core)
		dmc bm "0 $WS mirror core 2 $REGION nosync 2 $s 0 $t 0 1 handle_errors" ;;
	mirror-disk)
		zero "$m" 64
		dmc bm "0 $WS mirror disk 3 $m $REGION nosync 2 $s 0 $t 0 1 handle_errors" ;;
	raid1)
		zero "$m" 1024; zero "$m" 1024 8192
		dmc bmm0 "0 16384 linear $m 0" && dmc bmm1 "0 16384 linear $m 16384" &&
		dmc bm "0 $WS raid raid1 4 0 region_size $REGION nosync 2 /dev/mapper/bmm0 $s /dev/mapper/bmm1 $t" ;;
	esac
}
group_mirror() {
	local c=$1 cfg w
	[[ -b ${SRC[$c]} && -b ${TGT[$c]} && -b ${META[$c]} ]] ||
		{ skip_rec mirror "$c" all "devices ${SRC[$c]} ${TGT[$c]} ${META[$c]} missing"; return; }
	local round
	while read -r cfg round; do
		ROUND_TAG=
		((round == 1)) || ROUND_TAG=.r$round
		say "mirror $c/$cfg${ROUND_TAG/./ round }"
		dmrm bm bmm0 bmm1
		if ! mirror_setup "$c" "$cfg"; then
			skip_rec mirror "$c" "$cfg" "table refused: $(tail -n 1 "$OUT/dm-errors.log")"
			dmrm bm bmm0 bmm1
			continue
		fi
		if [[ $cfg == raid1 ]]; then	# wait for any initial resync to end
			local f i
			for ((i = 0; i < 120; i++)); do
				read -ra f <<<"$(st bm)"
				[[ ${f[4]:-} == idle ]] && break
				sleep 0.5
			done
			echo "raid1 $c after ${i} polls: ${f[*]}" >> "$STATUS_LOG"
		fi
		fio_batch mirror "$c" "$cfg" "$([[ $cfg == rep-* ]] && echo bm)" \
			"${WORKLOADS[@]/%/:/dev/mapper/bm}"
		dmrm bm bmm0 bmm1
	done < <(mirror_runs)
	ROUND_TAG=
}

# --- snapshot group: first write after the PIT and steady state -----------------
prefill() {	# prefill DEV [SECTORS]
	fio --name=prefill --filename="$1" --direct=1 --size=$((${2:-$WS} * 512)) --rw=write \
		--bs=1M --ioengine=libaio --iodepth=4 --output=/dev/null >/dev/null 2>&1
}
snap_workloads() {	# snap_workloads CLASS CONFIG ORIGIN VIEW [STATUSDEV...]
	local c=$1 cfg=$2 o=$3 v=$4
	shift 4
	fio_batch snapshot "$c" "$cfg" "$*" first_write:"$o" steady:"$o" \
		r4k_qd16:"$o" r4k_view:"$v"
}
group_snapshot() {	# group_snapshot CLASS
	local c=$1 s=${SRC[$1]} t=${TGT[$1]} m=${META[$1]}
	[[ -b $s && -b $t && -b $m ]] ||
		{ skip_rec snapshot "$c" all "devices $s $t $m missing"; return; }
	say "snapshot $c: prefill the source"
	prefill "$s"

	local cfg round
	for ((round = 1; round <= ROUNDS; round++)); do
		ROUND_TAG=
		((round == 1)) || ROUND_TAG=.r$round
		for cfg in $(variants_of rep-snap "$round"); do
			say "snapshot $c/$cfg${ROUND_TAG/./ round }"
			zero "$m" 64
			dmrm so sv
			if use_replica "$cfg" &&
			   dmc so "0 $WS replica snapshot sync $m $s $t $REGION" &&
			   dmc sv "0 $WS replica view snapshot $m $s $t $REGION"; then
				snap_workloads "$c" "$cfg" /dev/mapper/so /dev/mapper/sv so
			else
				skip_rec snapshot "$c" "$cfg" "table refused: $(tail -n 1 "$OUT/dm-errors.log")"
			fi
			dmrm sv so
		done
	done
	ROUND_TAG=

	say "snapshot $c/dm-snapshot"
	zero "$t" 64
	if dmc sv "0 $WS snapshot $s $t P $REGION" && dmc so "0 $WS snapshot-origin $s"; then
		snap_workloads "$c" dm-snapshot /dev/mapper/so /dev/mapper/sv
	else
		skip_rec snapshot "$c" dm-snapshot "table refused: $(tail -n 1 "$OUT/dm-errors.log")"
	fi
	dmrm so sv

	say "snapshot $c/thin-snap"
	zero "$m" 64
	if dmc pool "0 $(blockdev --getsz "$t") thin-pool $m $t $REGION 0 1 skip_block_zeroing" &&
	   dmsetup message pool 0 "create_thin 0" && dmc so "0 $WS thin /dev/mapper/pool 0"; then
		prefill /dev/mapper/so
		dmsetup suspend so
		dmsetup message pool 0 "create_snap 1 0"
		dmsetup resume so
		if dmc sv "0 $WS thin /dev/mapper/pool 1"; then
			snap_workloads "$c" thin-snap /dev/mapper/so /dev/mapper/sv
		else
			skip_rec snapshot "$c" thin-snap "cannot activate the thin snapshot"
		fi
	else
		skip_rec snapshot "$c" thin-snap "table refused: $(tail -n 1 "$OUT/dm-errors.log")"
	fi
	dmrm sv so pool
}

# --- clone group: hydration idle and under full foreground load ------------------
# hydrated DEV KIND: regions copied so far ("replica" or "clone" status)
hydrated() {
	local f
	read -ra f <<<"$(st "$1")"
	if [[ $2 == replica ]]; then f=${f[4]}; else f=${f[3]}; fi
	echo "${f%/*}"
}
total_regions() { echo $(((CWS + REGION - 1) / REGION)); }
# hydrate_idle NAME KIND START-CMD...: run until done or the time cap
# (HYD_FIRST_N: regions at the first poll that saw any copied; HYD_SAMPLES:
# "time regions" of that poll and every later one).
hydrate_idle() {
	local dev=$1 kind=$2 t0 t1 n=0 total cap
	shift 2
	total=$(total_regions)
	cap=$((RT * 4))
	HYD_FIRST_N= HYD_SAMPLES=
	t0=$(now)
	"$@" || return 1
	while :; do
		n=$(hydrated "$dev" "$kind")
		t1=$(now)
		echo "hyd $dev $t1 $n" >> "$STATUS_LOG"
		[[ -z $HYD_FIRST_N && $n -gt 0 ]] && HYD_FIRST_N=$n
		[[ -n $HYD_FIRST_N ]] && HYD_SAMPLES+="$t1 $n"$'\n'
		((n >= total)) && break
		awk -v a="$t0" -v b="$t1" -v c="$cap" 'BEGIN {exit !(b - a > c)}' && break
		sleep 0.2
	done
	HYD_REGIONS=$n
	HYD_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')
}
# hydrate_loaded NAME KIND LOADDEV START-CMD...: as hydrate_idle, while fio
# reads LOADDEV at QD16 all along.  Execs take seconds in a busy TCG guest,
# so fio runs until it is stopped, and hydration starts once its reads are
# seen completing on LOADDEV.  The rate is the steady one, counted from the
# first poll that saw regions copied (the start message's own exec time, a
# second or so in a loaded guest, is not the target's); LOAD_SECS is the
# time the least-squares slope over those polls gives for LOAD_REGIONS.
hydrate_loaded() {
	local dev=$1 kind=$2 load=$3 fpid blk r0 r1 r2 i
	shift 3
	blk=$(dmsetup info -c --noheadings -o blkdevname "${load##*/}")
	blk=${blk//[[:space:]]/}
	r0=$(reads_of "$blk")
	fio --name=load --filename="$load" $(wl_args r4k_qd16 | sed "s/--runtime=$RT/--runtime=600/") \
		--output-format=json --output="$OUT/fio/load.$dev.json" >/dev/null 2>&1 &
	fpid=$!
	for ((i = 0; i < 600; i++)); do
		(( $(reads_of "$blk") > r0 + 1000 )) && break
		sleep 0.1
	done
	r1=$(reads_of "$blk")
	hydrate_idle "$dev" "$kind" "$@" || { kill -INT "$fpid"; wait "$fpid"; return 1; }
	r2=$(reads_of "$blk")
	kill -INT "$fpid" 2>/dev/null
	wait "$fpid"
	LOAD_REGIONS=$HYD_REGIONS LOAD_SECS=$HYD_SECS LOAD_NOTE_FIT=
	# The token bucket's initial burst and the copies in flight at either
	# end do not tilt a slope (two end points alone read ~0.25% low).
	if [[ -n $HYD_FIRST_N ]] && ((HYD_REGIONS > HYD_FIRST_N)); then
		LOAD_REGIONS=$((HYD_REGIONS - HYD_FIRST_N))
		LOAD_SECS=$(awk -v r="$LOAD_REGIONS" 'NF == 2 {
				if (!n) t0 = $1
				x = $1 - t0
				n++; sx += x; sy += $2; sxx += x * x; sxy += x * $2 }
			END {
				d = n * sxx - sx * sx
				if (n < 3 || d <= 0 || n * sxy - sx * sy <= 0) { print "0"; exit }
				printf "%.3f", r / ((n * sxy - sx * sy) / d) }' <<<"$HYD_SAMPLES")
		[[ $LOAD_SECS != 0 ]] || LOAD_REGIONS=$HYD_REGIONS LOAD_SECS=$HYD_SECS
		LOAD_NOTE_FIT="rate: least-squares slope over $(grep -c . <<<"$HYD_SAMPLES") polls; "
	fi
	LOAD_NOTE="${LOAD_NOTE_FIT:-}foreground $(awk -v r=$((r2 - r1)) -v s="$HYD_SECS" 'BEGIN {printf "%.0f", r / s}') reads/s meanwhile"
	((r2 > r1)) || LOAD_NOTE="no foreground reads completed meanwhile"
}
# Idle hydration is repeated (BENCH_HYD_REPS, default 3) and the best run
# kept, for dm-replica and each dm-clone setting alike: a single run of a
# few seconds swings by a third with the host's load.
HYD_REPS=${BENCH_HYD_REPS:-3}
declare -A HB_R HB_S HB_ALL
kib_s() {	# kib_s REGIONS SECS: copy rate in KiB/s
	awk -v r="$1" -v s="$2" -v z="$REGION" 'BEGIN {printf "%.0f", r * z / 2 / s}'
}
hyd_keep() {	# hyd_keep CONFIG REGIONS SECS
	local kibs
	kibs=$(kib_s "$2" "$3")
	HB_ALL[$1]+="${HB_ALL[$1]:+, }$kibs"
	if [[ -z ${HB_R[$1]:-} ]] || awk -v r="$2" -v s="$3" -v br="${HB_R[$1]}" -v bs="${HB_S[$1]}" \
		'BEGIN {exit !(r / s > br / bs)}'; then
		HB_R[$1]=$2 HB_S[$1]=$3
	fi
}
hyd_rec_best() {	# hyd_rec_best CONFIG
	[[ -n ${HB_R[$1]:-} ]] || return 0
	rec_hyd "$1" hydrate_idle "${HB_R[$1]}" "${HB_S[$1]}" "best of runs at ${HB_ALL[$1]} KiB/s"
}
rec_hyd() {	# rec_hyd CONFIG WORKLOAD REGIONS SECS [NOTE]
	local kibs
	kibs=$(kib_s "$3" "$4")
	rec clone ram "$1" "$2" kib_s "$kibs" "$3 regions in $4 s${5:+; $5}"
	say "clone $1 $2: $kibs KiB/s ($3 regions in $4 s)"
}
group_clone() {
	local c=ram s=${SRC[ram]} t=${TGT[ram]} m=${META[ram]} thr bat cfg
	say "clone: prefill the source"
	prefill "$s" "$CWS"

	# dm-replica: defaults (copy_inflight 16, copy_rate_min 4096 KiB/s).
	# loaded: the foreground reads go to the view (the clone, as with
	# dm-clone); loaded_origin: to the origin, whose I/O is what makes
	# dm-replica yield down to copy_rate_min.
	# With a baseline the two builds alternate run by run.
	local runs=() i v cfg mode
	local -A idle_left
	for ((i = 1; i <= HYD_REPS; i++)); do
		for v in "${VARIANTS[@]}"; do runs+=("idle$v"); done
	done
	for v in "${VARIANTS[@]}"; do
		runs+=("loaded$v" "loaded_origin$v")
		idle_left[rep-clone$v]=$HYD_REPS
	done
	for run in "${runs[@]}"; do
		mode=${run%@base} cfg=rep-clone${run#"$mode"}
		say "clone $cfg $mode"
		zero "$m" 64
		dmrm co cv
		if ! { use_replica "$cfg" &&
		       dmc co "0 $CWS replica clone sync $m $s $t $REGION 1 start_inactive" &&
		       dmc cv "0 $CWS replica view clone $m $s $t $REGION"; }; then
			skip_rec clone "$c" "$cfg" "table refused: $(tail -n 1 "$OUT/dm-errors.log")"
			dmrm cv co
			continue
		fi
		snap_status "before $cfg $mode" co
		if [[ $mode == idle ]]; then
			hydrate_idle co replica dmsetup message co 0 start &&
				hyd_keep "$cfg" "$HYD_REGIONS" "$HYD_SECS"
			snap_status "after $cfg $mode" co
			# after the last idle run of a build: its best, and view reads
			if ((--idle_left[$cfg] == 0)); then
				hyd_rec_best "$cfg"
				[[ $(hydrated co replica) -ge $(total_regions) ]] &&
					fio_batch clone "$c" "$cfg" co r4k_view:/dev/mapper/cv
			fi
		else
			local ldev=/dev/mapper/cv lname=load_fio
			[[ $mode == loaded_origin ]] && ldev=/dev/mapper/co lname=load_fio_origin
			hydrate_loaded co replica "$ldev" dmsetup message co 0 start &&
				rec_hyd "$cfg" "hydrate_$mode" "$LOAD_REGIONS" "$LOAD_SECS" "$LOAD_NOTE"
			mv "$OUT/fio/load.co.json" "$OUT/fio/load.co.$run.json"
			rec clone "$c" "$cfg" "$lname" fio "fio/load.co.$run.json"
			snap_status "after $cfg $mode" co
		fi
		dmrm cv co
	done

	# dm-clone: defaults, then a few settings to find its best
	if [[ -n $DMCLONE_SKIP ]]; then
		skip_rec clone "$c" dm-clone "$DMCLONE_SKIP"
		return
	fi
	# name:hydration_threshold:hydration_batch_size
	local idle_sets=(default:1:1 t64b1:64:1 t64b16:64:16 t256b128:256:128) sets=()
	for ((i = 1; i <= HYD_REPS; i++)); do sets+=("${idle_sets[@]}"); done
	for set in "${sets[@]}" loaded:1:1; do
		cfg=${set%%:*}; thr=${set#*:}; bat=${thr#*:}; thr=${thr%%:*}
		say "clone dm-clone $cfg (threshold $thr, batch $bat)"
		zero "$m" 64
		dmrm cl
		if ! dmc cl "0 $CWS clone $m $t $s $REGION 1 no_hydration 4 hydration_threshold $thr hydration_batch_size $bat"; then
			skip_rec clone "$c" "dm-clone-$cfg" "table refused: $(tail -n 1 "$OUT/dm-errors.log")"
			continue
		fi
		if [[ $cfg == loaded ]]; then
			hydrate_loaded cl clone /dev/mapper/cl dmsetup message cl 0 enable_hydration &&
				rec_hyd dm-clone hydrate_loaded "$LOAD_REGIONS" "$LOAD_SECS" "$LOAD_NOTE"
			rec clone "$c" dm-clone load_fio fio "fio/load.cl.json"
		else
			hydrate_idle cl clone dmsetup message cl 0 enable_hydration &&
				hyd_keep "dm-clone-$cfg" "$HYD_REGIONS" "$HYD_SECS"
			[[ $cfg == default && -z ${HB_VIEW:-} && $(hydrated cl clone) -ge $(total_regions) ]] &&
				fio_batch clone "$c" dm-clone "" r4k_view:/dev/mapper/cl && HB_VIEW=1
		fi
		dmrm cl
	done
	for set in "${idle_sets[@]}"; do hyd_rec_best "dm-clone-${set%%:*}"; done
}

# --- async mirror lag with the target slowed by dm-delay --------------------------
group_lag() {
	local c=ram s=${SRC[ram]} t=${TGT[ram]} m=${META[ram]} delay=${BENCH_DELAY_MS:-5}
	local fpid f maxr=0 maxms=0 t0 drain i LAG_BOUND_R=? LAG_BOUND_MS=?
	say "lag: async mirror, target writes delayed ${delay} ms"
	zero "$m" 64
	dmrm lr ld
	if ! { dmc ld "0 $WS delay $t 0 0 $t 0 $delay" &&
	       dmc lr "0 $WS replica mirror async $m $s /dev/mapper/ld $REGION 1 nosync"; }; then
		skip_rec lag "$c" rep-async-delay "table refused: $(tail -n 1 "$OUT/dm-errors.log")"
		dmrm lr ld
		return
	fi
	# the table line spells out every core argument: "... max_lag_regions N ..."
	read -ra f <<<"$(dmsetup table lr)"
	for ((i = 0; i < ${#f[@]} - 1; i++)); do
		[[ ${f[i]} == max_lag_regions ]] && LAG_BOUND_R=${f[i + 1]}
		[[ ${f[i]} == max_lag_ms ]] && LAG_BOUND_MS=${f[i + 1]}
	done
	snap_status "before lag" lr
	fio --name=lag --filename=/dev/mapper/lr $(wl_args w4k_qd16) --output-format=json \
		--output="$OUT/fio/ram.rep-async-delay.w4k_qd16.json" >/dev/null 2>&1 &
	fpid=$!
	while kill -0 "$fpid" 2>/dev/null; do
		read -ra f <<<"$(st lr)"
		((f[7] > maxr)) && maxr=${f[7]}
		((f[8] > maxms)) && maxms=${f[8]}
		echo "lag $(now) ${f[*]:0:12}" >> "$STATUS_LOG"
		sleep 0.3
	done
	wait "$fpid" && rec lag "$c" rep-async-delay w4k_qd16 fio "fio/ram.rep-async-delay.w4k_qd16.json"
	snap_status "after lag" lr
	t0=$(now)
	for _ in $(seq 1 $((RT * 10))); do
		read -ra f <<<"$(st lr)"
		((f[7] == 0)) && break
		sleep 0.2
	done
	drain=$(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}')
	rec lag "$c" rep-async-delay lag max_lag_regions "$maxr" "bound $LAG_BOUND_R"
	rec lag "$c" rep-async-delay lag max_lag_ms "$maxms" "bound $LAG_BOUND_MS"
	rec lag "$c" rep-async-delay lag drain_s "$drain" "lag left ${f[7]}"
	rec lag "$c" rep-async-delay lag delay_ms "$delay"
	say "lag: max $maxr regions (bound $LAG_BOUND_R), max $maxms ms (bound $LAG_BOUND_MS), drained in $drain s"
	dmrm lr ld
}

# Write every block the runs use once (brd allocates its pages and the host
# its tmpfs/file pages on first write), so the first configuration measured
# does not pay for that.
precondition() {
	local c
	for c; do
		[[ -b ${SRC[$c]} ]] || continue
		say "precondition $c"
		prefill "${SRC[$c]}"
		prefill "${TGT[$c]}"
		fio --name=prefill --filename="${META[$c]}" --direct=1 --size=32M --rw=write \
			--bs=1M --ioengine=libaio --iodepth=4 --output=/dev/null >/dev/null 2>&1
	done
}

# --- main -------------------------------------------------------------------------
if [[ ${1:-} == --snap ]]; then		# from fio's exec_prerun/exec_postrun
	snap_status "$2 $3" "${@:4}"
	exit 0
fi
mkdir -p "$OUT/fio"
: > "$TSV"
: > "$STATUS_LOG"
say "runtime ${RT}s per workload, ${WS_MB} MiB per device, groups:$GROUPS_RUN"
load_modules
t_start=$SECONDS
[[ $GROUPS_RUN == *" memory "* ]] && group_memory
precondition ram $([[ $GROUPS_RUN == *" mirror-vd "* || $GROUPS_RUN == *" snapshot-vd "* ]] && echo vd)
[[ $GROUPS_RUN == *" mirror-ram "* ]] && group_mirror ram
[[ $GROUPS_RUN == *" mirror-vd "* ]] && group_mirror vd
[[ $GROUPS_RUN == *" snapshot "* ]] && group_snapshot ram
[[ $GROUPS_RUN == *" snapshot-vd "* ]] && group_snapshot vd
[[ $GROUPS_RUN == *" clone "* ]] && group_clone
[[ $GROUPS_RUN == *" lag "* ]] && group_lag
dmesg > "$OUT/dmesg.txt"
grep -E 'Oops|BUG|WARNING|blocked for more than' "$OUT/dmesg.txt" | head -n 5 |
	sed 's/^/[bench] kernel log: /'
say "done in $((SECONDS - t_start)) s"
touch "$OUT/done"
