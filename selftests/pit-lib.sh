# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# selftests/pit-lib.sh: helpers for the snapshot and clone (point-in-time)
# selftests.  Source it after lib.sh:
#
#	. "$(dirname "$0")/../lib.sh"
#	. "$SELFTESTS_DIR/pit-lib.sh"
#
#   st NAME                  reads `dmsetup status NAME` into ST[] (fields
#                            by name: type mode state progress in_sync total
#                            copying dirty lag lag_ms health md, and every
#                            key=value pair: role uuid pit_ns regions_copied..)
#   stv NAME FIELD           prints one status field
#   st_state NAME            prints "<state> <progress>"
#   wait_state SECS NAME STATE [PROGRESS]   poll until the copy state matches
#   fill_random DEV [MiB]    random data over DEV (or its first MiB)
#   save_image DEV FILE      copy DEV to FILE (an "expected content" image)
#   put DEV FILE BYTE_OFF BYTES [SRC]   O_DIRECT write of BYTES random (or
#                            SRC) bytes at BYTE_OFF to DEV and the same bytes
#                            into the image FILE
#   sha_file FILE            sha256 of a file
#   check_image DEV FILE WHAT  DEV must equal FILE (cmp), else fail naming the
#                            first differing byte and region (REGION_BYTES)
#   fio_load DEV SECONDS [FIO-ARGS...]  time-based random writes (no verify)
#   soft_eq GOT WANT MSG / soft_done   assert_eq that fails only at soft_done
#   step MSG                 log line with the elapsed seconds
#   klog_mark / klog_since   kernel log lines since the mark
#   suspend_burst NAME SECS  suspend/resume NAME as fast as ioctls go for
#                            SECS; prints the number of cycles
#   expect_errno ERRNO CMD...  CMD must fail and its output mention ERRNO's text

declare -gA ST

# fio writes verify state files to the working directory: not the
# (read-only) repository
cd "$TEST_TMP"

st() {
	local line f i kv
	line=$(dmsetup status "${1:?st NAME}")
	read -ra f <<< "$line"
	# 0 len replica <type> <mode> <state> <progress> <in>/<total> <copying>
	# <dirty> <lag> <lag ms> <health> <md> <#pairs> <k=v>...
	[[ ${f[2]} == replica ]] || fail "status of $1 is not a replica line: $line"
	ST=()
	ST[line]=$line
	ST[type]=${f[3]} ST[mode]=${f[4]} ST[state]=${f[5]} ST[progress]=${f[6]}
	ST[in_sync]=${f[7]%/*} ST[total]=${f[7]#*/}
	ST[copying]=${f[8]} ST[dirty]=${f[9]} ST[lag]=${f[10]} ST[lag_ms]=${f[11]}
	ST[health]=${f[12]} ST[md]=${f[13]} ST[npairs]=${f[14]}
	for ((i = 15; i < ${#f[@]}; i++)); do
		kv=${f[i]}
		ST[${kv%%=*}]=${kv#*=}
	done
}

stv() { st "$1"; echo "${ST[${2:?stv NAME FIELD}]}"; }
st_state() { st "$1"; echo "${ST[state]} ${ST[progress]}"; }

_state_is() {	# _state_is NAME STATE [PROGRESS]
	st "$1"
	[[ ${ST[state]} == "$2" ]] && [[ -z ${3:-} || ${ST[progress]} == "$3" ]]
}

wait_state() {
	local secs=$1 name=$2
	shift 2
	wait_for "$secs" _state_is "$name" "$@" ||
		fail "$name: copy state did not become '$*' within ${secs}s: $(dmsetup status "$name")"
}

fill_random() {
	local dev=${1:?fill_random DEV [MiB]} mib=${2:-}
	[[ -n $mib ]] || mib=$(( $(sectors "$dev") / 2048 ))
	# fio's buffer generator is much cheaper than /dev/urandom under TCG
	fio --name=fill --filename="$dev" --direct=1 --ioengine=libaio --iodepth=8 \
		--rw=write --bs=1M --size="${mib}M" --refill_buffers=1 --randrepeat=0 \
		--output=/dev/null || fail "cannot fill $dev"
}

save_image() {
	dd if="${1:?}" of="${2:?}" bs=1M iflag=direct status=none
}

sha_file() { sha256sum < "${1:?}" | cut -d' ' -f1; }

# check_image DEV FILE WHAT: DEV must hold exactly FILE (cmp: cheaper than
# hashing under TCG, and a mismatch names its first byte and region)
check_image() {
	local dev=${1:?} img=${2:?} what=${3:-content} out n
	drop_caches
	if ! out=$(cmp "$dev" "$img" 2>&1); then
		n=$(sed -n 's/.* byte \([0-9]*\),.*/\1/p' <<< "$out")
		fail "$what: $dev differs from the expected image${n:+ at byte $((n - 1)) (region $(((n - 1) / ${REGION_BYTES:-65536})))}: $out"
	fi
}

put() {
	local dev=${1:?} img=${2:?} off=${3:?} len=${4:?} src=${5:-} chunk
	chunk=$TEST_TMP/put.$RANDOM
	if [[ -n $src ]]; then
		dd if="$src" of="$chunk" bs="$len" count=1 iflag=count_bytes status=none
	else
		head -c "$len" /dev/urandom > "$chunk"
	fi
	dd if="$chunk" of="$dev" bs="$len" seek="$off" oflag=direct,seek_bytes \
		conv=notrunc status=none
	dd if="$chunk" of="$img" bs="$len" seek="$off" oflag=seek_bytes \
		conv=notrunc status=none
	rm -f "$chunk"
}

fio_load() {
	local dev=${1:?fio_load DEV SECONDS [ARGS]} secs=${2:?}
	shift 2
	fio --name=load --filename="$dev" --direct=1 --ioengine=libaio --iodepth=16 \
		--rw=randwrite --bs=4k --time_based=1 --runtime="$secs" --randrepeat=0 \
		--output=/dev/null "$@"
}

# soft_eq GOT WANT MSG: like assert_eq, but the test goes on and fails at
# the end (soft_done) -- for counters, so one wrong number does not hide
# what the rest of the test would find
SOFT_FAILS=()
soft_eq() {
	[[ $1 == "$2" ]] && return 0
	SOFT_FAILS+=("${3:-value}: got '$1', want '$2'")
	log "CHECK FAILED (continuing): ${3:-value}: got '$1', want '$2'"
}
soft_done() {
	((${#SOFT_FAILS[@]} == 0)) || fail "${SOFT_FAILS[*]}"
}

# step MSG: a log line with the seconds since the test started
step() { log "[${SECONDS}s] $*"; }

klog_mark() { KLOG_MARK=$(dmesg | wc -l); }
klog_since() { dmesg | tail -n +"$((KLOG_MARK + 1))"; }

expect_errno() {
	local want=${1:?expect_errno TEXT CMD...} out
	shift
	if out=$("$@" 2>&1); then
		fail "expected failure ($want) but succeeded: $*"
	fi
	[[ $out == *"$want"* ]] || fail "$*: expected '$want', got: $out"
	log "failed as expected ($want): $*"
}

# drop_caches: make sure nothing is read from the page cache.
drop_caches() { echo 3 > /proc/sys/vm/drop_caches; }

# stop_bg PID: stop a background job started as "func ... &" -- the
# function's subshell and the fio it runs (killing only the subshell leaves
# fio holding the device open)
stop_bg() {
	pkill -P "${1:?stop_bg PID}" 2>/dev/null || true
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# suspend_burst NAME SECONDS: suspend and resume NAME as often as possible
# for SECONDS (DM_DEV_SUSPEND ioctls from one process: dmsetup costs
# seconds per call in a loaded TCG guest); prints the number of cycles.
# Each ioctl is bounded (SIGALRM interrupts a suspend that waits).
suspend_burst() {
	python3 - "$1" "$2" <<'PY'
import fcntl, os, signal, struct, sys, time
name, secs = sys.argv[1].encode(), float(sys.argv[2])
DM_DEV_SUSPEND = (3 << 30) | (312 << 16) | (0xfd << 8) | 6
DM_SUSPEND_FLAG = 1 << 1
fd = os.open("/dev/mapper/control", os.O_RDWR)
def suspend(flags):
    buf = bytearray(312)
    struct.pack_into("=10I", buf, 0, 4, 0, 0, 312, 312, 0, 0, flags, 0, 0)
    buf[48:48 + len(name)] = name
    signal.alarm(20)
    fcntl.ioctl(fd, DM_DEV_SUSPEND, buf)
    signal.alarm(0)
n, end = 0, time.monotonic() + secs
while time.monotonic() < end:
    suspend(DM_SUSPEND_FLAG)
    suspend(0)
    n += 1
print(n)
PY
}
