# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# selftests/mirror-lib.sh: helpers for the mirror-mode selftests
# (tests/10-mirror-*.sh, boot/mirror-*.sh).  Source it after lib.sh.
#
#   rstat NAME            parse `dmsetup status NAME` into S_* variables:
#                         S_TYPE S_MODE S_STATE S_PROGRESS S_INSYNC S_TOTAL
#                         S_COPYING S_DIRTY S_LAG S_LAGMS S_HEALTH S_MDMODE and
#                         S_NPAIRS, the key=value pairs in S_KV[key] (checks
#                         their count); S_LINE = the line
#   synced NAME           true when the mirror is synchronized, completed,
#                         every region in sync, nothing copying, lag 0
#   wait_synced NAME SECS wait_for synced, fail with the last status otherwise
#   wait_clean NAME SECS  wait until synced and no region is marked (dirty 0)
#   assert_status NAME REGEX   the status line (after "start len replica")
#   legs_equal A B        fail unless A and B (devices/files) have the same
#                         contents (md5sum, reports the first difference)
#   dev_md5 DEV / range_md5 DEV OFF_KIB LEN_KIB   md5 of a device / a range
#   drop_caches           drop the page cache (before buffered reads)
#   write_at DEV OFF_KIB LEN_KIB [SRC]   O_DIRECT write of LEN_KIB KiB at
#                         OFF_KIB KiB (data from SRC, default /dev/urandom)
#   dm_swap NAME TABLE    suspend, load, resume (no retry, fails on error)
#   msg NAME ARGS...      dmsetup message NAME 0 ARGS...
#   expect_msg_fail NAME ERRNO-TEXT ARGS...   the message must fail with
#                         that error text ("Invalid argument", ...)
#   majmin DEV            "major:minor" as TABLE lines show devices
#   klog_mark / klog_since   kernel log line count / lines after the mark
#   expect_klog REGEX     fail unless a kernel log line since klog_mark matches

declare -A S_KV=()
S_LINE=

rstat() {
	local name=${1:?rstat NAME} line kv
	local -a f
	line=$(dmsetup status "$name") || fail "dmsetup status $name failed"
	S_LINE=${line#* * * }
	read -r -a f <<<"$S_LINE"
	[[ ${f[0]} == mirror || ${f[0]} == snapshot || ${f[0]} == clone ]] ||
		fail "unexpected status line: $line"
	S_TYPE=${f[0]} S_MODE=${f[1]} S_STATE=${f[2]} S_PROGRESS=${f[3]}
	S_INSYNC=${f[4]%/*} S_TOTAL=${f[4]#*/}
	S_COPYING=${f[5]} S_DIRTY=${f[6]} S_LAG=${f[7]} S_LAGMS=${f[8]}
	S_HEALTH=${f[9]} S_MDMODE=${f[10]}
	S_NPAIRS=${f[11]}
	((${#f[@]} == 12 + S_NPAIRS)) ||
		fail "status: $S_NPAIRS pairs announced, $((${#f[@]} - 12)) present: $S_LINE"
	S_KV=()
	for kv in "${f[@]:12}"; do
		S_KV[${kv%%=*}]=${kv#*=}
	done
}

synced() {
	rstat "$1"
	[[ $S_STATE == synchronized && $S_PROGRESS == completed &&
		$S_INSYNC == "$S_TOTAL" && $S_COPYING == 0 && $S_LAG == 0 ]]
}

wait_synced() {
	local name=${1:?} secs=${2:-60}
	wait_for "$secs" synced "$name" ||
		fail "$name not synchronized after ${secs}s: $(dmsetup status "$name")"
}

_clean() { synced "$1" && [[ $S_DIRTY == 0 ]]; }

wait_clean() {
	local name=${1:?} secs=${2:-60}
	wait_for "$secs" _clean "$name" ||
		fail "$name not synchronized and clean after ${secs}s: $(dmsetup status "$name")"
}

assert_status() {
	local name=${1:?} re=${2:?}
	rstat "$name"
	[[ $S_LINE =~ $re ]] || fail "status of $name: '$S_LINE' does not match /$re/"
}

# (Byte work is slow in a TCG guest and pipes slower still: md5sum reads
# the devices itself, after the page cache is dropped since the legs are
# written underneath it.)
drop_caches() { echo 3 > /proc/sys/vm/drop_caches; }

# dev_md5 DEV: md5 of a whole device (or file)
dev_md5() {
	local out
	drop_caches
	out=$(md5sum "${1:?}") || fail "md5sum $1 failed"
	echo "${out%% *}"
}

# range_md5 DEV OFF_KIB LEN_KIB: md5 of a range (O_DIRECT, through a file)
range_md5() {
	local out flags=skip_bytes,count_bytes
	[[ ! -b ${1:?} ]] || flags+=,direct	# (tmpfs files: no O_DIRECT)
	dd if="$1" of="$TEST_TMP/range" bs=1M skip="$((${2:?} * 1024))" \
		count="$((${3:?} * 1024))" iflag="$flags" status=none
	out=$(md5sum "$TEST_TMP/range")
	echo "${out%% *}"
}

legs_equal() {
	local a=${1:?} b=${2:?} sums first
	drop_caches
	sums=$(md5sum "$a" "$b") || fail "md5sum $a $b failed"
	first=${sums%% *}
	sums=${sums#*$'\n'}
	[[ $first == "${sums%% *}" ]] && return 0
	first=$(cmp "$a" "$b" 2>&1 | head -n1)
	fail "legs differ: $first"
}

write_at() {
	local dev=${1:?} off=${2:?} len=${3:?} src=${4:-/dev/urandom}
	dd if="$src" of="$dev" bs="${len}K" count=1 seek="$((off * 1024))" \
		oflag=direct,seek_bytes iflag=fullblock status=none
}

dm_swap() {
	local name=${1:?} table=${2:?}
	dmsetup suspend "$name"
	printf '%s\n' "$table" | dmsetup load "$name"
	dmsetup resume "$name"
}

msg() {
	local name=${1:?}
	shift
	dmsetup message "$name" 0 "$@"
}

expect_msg_fail() {
	local name=${1:?} err=${2:?} out
	shift 2
	if out=$(dmsetup message "$name" 0 "$@" 2>&1); then
		fail "message '$*' to $name succeeded"
	fi
	[[ $out == *"$err"* ]] || fail "message '$*' to $name: want '$err', got: $out"
	log "message '$*' refused: $err"
}

KLOG_MARK=0
klog_mark() { KLOG_MARK=$(dmesg | wc -l); }
klog_since() { dmesg | tail -n +"$((KLOG_MARK + 1))"; }
expect_klog() {
	local re=${1:?} lines
	lines=$(klog_since)
	grep -qE -- "$re" <<<"$lines" ||
		fail "no kernel log line matching /$re/ (new lines: $(tail -n 3 <<<"$lines" | tr '\n' '|'))"
}

# majmin DEV: "major:minor" of a block device, as TABLE lines print it
majmin() {
	local t
	t=$(stat -L -c '%t %T' "${1:?majmin DEV}")
	printf '%d:%d' "0x${t% *}" "0x${t#* }"
}
