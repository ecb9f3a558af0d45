# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# selftests/lib.sh: helpers for dm-replica selftests.  Source it first thing:
#
#	. "$(dirname "$0")/../lib.sh"
#
# It turns on `set -eEuo pipefail`: any failing command fails the test, and
# the failing command and line become the FAIL reason.  Everything a test
# creates through these helpers (dm devices, loop devices, brd, temp files,
# `defer` commands) is torn down in reverse order when the test exits.
#
# Results: exit 0 = PASS, exit 4 (skip) = SKIP, anything else = FAIL.  The
# reason is written to $RESULT_REASON_FILE (set by selftests/run).
#
# Helpers (see each function):
#   log MSG                       print a comment line to the test log
#   fail MSG / skip MSG           end the test as FAIL / SKIP with a reason
#   require_cmd CMD... / require_module MOD...   skip when unavailable
#   defer CMD...                  run CMD at exit (LIFO)
#   replica_load                  insmod $REPLICA_KO with its dependencies
#   ramdisk SIZE                  loop device on a tmpfs file, prints /dev/loopN
#   brd_setup COUNT SIZE          (re)load brd, devices in RAMDISKS[@]
#   dm_create NAME TABLE          dmsetup create (removed at exit)
#   dm_reload NAME TABLE          suspend, load, resume
#   dm_remove NAME                dmsetup remove (retries while busy)
#   dm_dev NAME                   prints /dev/mapper/NAME
#   dm_status NAME / dm_table NAME  the target lines (no "start len type")
#   sectors DEV                   size in 512-byte sectors
#   sha256_dev DEV [SECTORS]      sha256 of the device (or its first SECTORS)
#   expect_fail CMD...            FAIL when CMD succeeds
#   assert_eq GOT WANT [MSG] / assert_match STR REGEX [MSG]
#   fio_verify DEV [SIZE] [FIO-ARGS...]   write + crc32c verify with fio
#   wait_for SECONDS CMD...       poll CMD until it succeeds
# Multi-boot tests (selftests/boot/*.sh, see selftests/README section in the
# top-level README):
#   BOOT_PHASE, BOOT_STATE        current phase; a dir that survives reboots
#   boot_disk N                   /dev/vd? of persistent disk N (0-based)
#   next_phase PHASE              ask the host to boot again and run PHASE
#   crash_now                     sysrq-b: reboot at once, no sync

set -eEuo pipefail

KSFT_SKIP=4
# (few forks here: every exec costs ~0.1-0.3 s in a TCG guest over 9p)
SELFTESTS_DIR=${BASH_SOURCE[0]%/*}
[[ $SELFTESTS_DIR == /* ]] || SELFTESTS_DIR=$PWD/$SELFTESTS_DIR
REPO=${REPO:-${SELFTESTS_DIR%/*}}
_t=${0##*/}
TEST_NAME=${TEST_NAME:-${_t%.sh}}
TEST_TMP=/tmp/selftest-$TEST_NAME.$$.$RANDOM
mkdir -m 0700 "$TEST_TMP"
RESULT_REASON_FILE=${RESULT_REASON_FILE:-$TEST_TMP/reason}
read -r KERNEL_RELEASE < /proc/sys/kernel/osrelease
REPLICA_KO=${REPLICA_KO:-$REPO/build/$KERNEL_RELEASE/dm-replica.ko}
export DM_DISABLE_UDEV=1
_CLEANUP=$TEST_TMP/.cleanup
: > "$_CLEANUP"

log() { echo "# $*"; }

_reason() {	# first reason wins
	[[ -s $RESULT_REASON_FILE ]] || echo "$*" > "$RESULT_REASON_FILE"
}

fail() {
	_reason "$*"
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	_reason "$*"
	echo "SKIP: $*" >&2
	exit "$KSFT_SKIP"
}

_on_err() {
	local rc=$1 line=$2 cmd=$3
	_reason "line $line: '$cmd' exited $rc"
}
trap '_on_err $? $LINENO "$BASH_COMMAND"' ERR

# --- cleanup registry (a file, so helpers work inside $(...) too) -----------
_register() { printf '%s\n' "$*" >> "$_CLEANUP"; }
_unregister() {
	local tmp=$_CLEANUP.new
	grep -vxF -- "$*" "$_CLEANUP" > "$tmp" || true
	mv "$tmp" "$_CLEANUP"
}

defer() { _register "cmd $(printf '%q ' "$@")"; }

_cleanup() {
	local rc=$? kind arg
	trap - ERR
	set +eE
	if [[ -f $_CLEANUP ]]; then
		tac "$_CLEANUP" | while read -r kind arg; do
			case $kind in
			dm) _dm_remove_retry "$arg" || echo "cleanup: cannot remove dm device $arg" >&2 ;;
			loop) losetup -d "$arg" 2>/dev/null ;;
			brd) modprobe -r brd 2>/dev/null ;;
			cmd) eval "$arg" ;;
			esac
		done
	fi
	rm -rf "$TEST_TMP"
	exit "$rc"
}
trap _cleanup EXIT

# --- requirements -----------------------------------------------------------
require_cmd() {
	local c
	for c; do command -v "$c" >/dev/null 2>&1 || skip "command $c not available"; done
}

require_module() {
	local m
	for m; do modprobe -q "$m" 2>/dev/null || skip "kernel module $m not available"; done
}

# replica_load: load dm-replica.ko and the modules it depends on (insmod
# does not resolve dependencies); no-op when it is loaded already.
replica_load() {
	local d deps
	[[ -d /sys/module/dm_replica ]] && return 0
	deps=$(modinfo -F depends "$REPLICA_KO")
	for d in ${deps//,/ }; do modprobe "$d"; done
	insmod "$REPLICA_KO"
}

# --- block devices -----------------------------------------------------------
# ramdisk SIZE: a loop device backed by a sparse file on /tmp (tmpfs); any size
# (suffixes K M G), supports discard.  Prints the device path.
ramdisk() {
	local size=${1:?ramdisk SIZE} f dev
	f=$(mktemp "$TEST_TMP/ramdisk.XXXXXX")
	truncate -s "$size" "$f"
	dev=$(losetup --find --show "$f")
	_register "loop $dev"
	echo "$dev"
}

# brd_setup COUNT SIZE: (re)load brd with COUNT RAM disks of SIZE each (brd
# gives every disk the same size; no discard).  Sets RAMDISKS=(/dev/ram0 ...).
# Call it directly, not inside $(...).
brd_setup() {
	local count=${1:?brd_setup COUNT SIZE} size=${2:?brd_setup COUNT SIZE} kb i
	kb=$(( $(numfmt --from=iec "$size") / 1024 ))
	modprobe -r brd 2>/dev/null || true
	[[ ! -d /sys/module/brd ]] || fail "brd is in use, cannot reload it"
	modprobe brd rd_nr="$count" rd_size="$kb" max_part=0 || skip "brd not available"
	_register "brd"
	RAMDISKS=()
	for ((i = 0; i < count; i++)); do RAMDISKS+=("/dev/ram$i"); done
	wait_for 5 test -b "/dev/ram$((count - 1))"
}

sectors() { blockdev --getsz "${1:?sectors DEV}"; }

# sha256_dev DEV [SECTORS]: hex sha256 of DEV (O_DIRECT reads).
sha256_dev() {
	local dev=${1:?sha256_dev DEV [SECTORS]} n=${2:-}
	[[ -n $n ]] || n=$(sectors "$dev")
	dd if="$dev" bs=1M count="$((n * 512))" iflag=direct,count_bytes status=none |
		sha256sum | cut -d' ' -f1
}

# --- device-mapper -------------------------------------------------------------
dm_dev() { echo "/dev/mapper/${1:?dm_dev NAME}"; }

dm_create() {
	local name=${1:?dm_create NAME TABLE} table=${2:?dm_create NAME TABLE}
	printf '%s\n' "$table" | dmsetup create "$name"
	_register "dm $name"
	wait_for 5 test -b "/dev/mapper/$name"
}

dm_reload() {
	local name=${1:?dm_reload NAME TABLE} table=${2:?dm_reload NAME TABLE}
	dmsetup suspend "$name"
	if ! printf '%s\n' "$table" | dmsetup load "$name"; then
		dmsetup resume "$name"
		return 1
	fi
	dmsetup resume "$name"
}

_dm_remove_retry() {
	local name=$1 i
	dmsetup info "$name" >/dev/null 2>&1 || return 0
	for ((i = 0; i < 25; i++)); do
		dmsetup remove "$name" 2>/dev/null && return 0
		sleep 0.2
	done
	dmsetup remove "$name"
}

dm_remove() {
	local name=${1:?dm_remove NAME}
	_dm_remove_retry "$name"
	_unregister "dm $name"
}

dm_status() { dmsetup status "${1:?}" | cut -d' ' -f4-; }
dm_table() { dmsetup table "${1:?}" | cut -d' ' -f4-; }

# --- assertions ------------------------------------------------------------------
expect_fail() {
	if "$@" >"$TEST_TMP/expect_fail.out" 2>&1; then
		cat "$TEST_TMP/expect_fail.out"
		fail "expected failure but succeeded: $*"
	fi
	log "failed as expected: $* ($(head -n1 "$TEST_TMP/expect_fail.out"))"
}

assert_eq() {
	[[ $1 == "$2" ]] || fail "${3:-value}: got '$1', want '$2'"
}

assert_match() {
	[[ $1 =~ $2 ]] || fail "${3:-value}: '$1' does not match /$2/"
}

# (SECONDS stretch by TEST_TIMEOUT_SCALE, like the test's timeout: the debug
# kernel is several times slower)
wait_for() {
	local secs=${1:?wait_for SECONDS CMD...} end
	shift
	end=$((SECONDS + secs * ${TEST_TIMEOUT_SCALE:-1}))
	until "$@" 2>/dev/null; do
		((SECONDS < end)) || { echo "wait_for: timed out: $*" >&2; return 1; }
		sleep 0.1
	done
}

# fio_verify DEV [SIZE] [FIO-ARGS...]: random 4k writes over SIZE (default
# the whole device) with crc32c checksums, then reads everything back and
# verifies; any mismatch or I/O error fails.
fio_verify() {
	local dev=${1:?fio_verify DEV [SIZE] [FIO-ARGS...]} size=${2:-}
	shift $(($# > 1 ? 2 : 1))
	[[ -n $size ]] || size=$(( $(sectors "$dev") * 512 ))
	fio --name=verify --filename="$dev" --direct=1 --ioengine=libaio --iodepth=16 \
		--rw=randwrite --bs=4k --size="$size" --verify=crc32c --verify_fatal=1 \
		--do_verify=1 --randrepeat=0 --group_reporting \
		--output-format=normal "$@" ||
		fail "fio verify failed on $dev"
}

# --- multi-boot tests --------------------------------------------------------------
BOOT_PHASE=${BOOT_PHASE:-${1:-}}
BOOT_STATE=${BOOT_STATE:-$TEST_TMP/state}
mkdir -p "$BOOT_STATE"

boot_disk() {
	local n=${1:?boot_disk N}
	local dev=/dev/vd$(printf "\\x$(printf %x $((97 + n)))")
	[[ -b $dev ]] || fail "persistent disk $n ($dev) missing"
	echo "$dev"
}

next_phase() {
	[[ -n ${VM_RESULTS:-} ]] || fail "next_phase needs the VM harness"
	echo "${1:?next_phase PHASE}" > "$VM_RESULTS/next-phase"
	sync
}

crash_now() {
	log "crashing now (sysrq b)"
	echo 1 > /proc/sys/kernel/sysrq
	echo b > /proc/sysrq-trigger
	sleep 60
	fail "still alive after sysrq b"
}
