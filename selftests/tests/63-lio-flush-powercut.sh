#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# LIO: a SYNCHRONIZE CACHE from the initiator reaches dm-replica and the
# data and metadata it covers survive a power cut right after it.
# Metadata, source and target sit on dm-flakey over loop devices (which
# count the flushes they receive); the replica is exported through
# tcm_loop.  Writes go through the SCSI disk, then SYNCHRONIZE CACHE(10)
# (SG_IO), which must reach the source (a host flush reaches the target
# only where it takes host writes synchronously: not a fractured mirror,
# not a snapshot, whose copies the module flushes itself before their bits
# are committed, dm-replica.rst); then every flakey device drops all
# writes at the same instant (the power cut), the export and the tables are
# torn down, the devices come back and the same tables are loaded again.
#  - mirror, fractured (writes only tracked in the bitmap): the flushed data
#    is on the source, the metadata generation seen after the flush is
#    durable, and the resync its bitmap asks for makes the legs equal;
#  - snapshot: the flushed data is on the source and the view still equals
#    the point-in-time image (every region overwritten was preserved and
#    its bit committed).
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"
. "$SELFTESTS_DIR/lio-lib.sh"

require_module dm-flakey
require_cmd python3
lio_require tcm_loop

RS=128
# no periodic commits (nor the flushes before clearing bits) in between
CORE="2 commit_ms 60000"
FL=(fmeta fsrc ftgt)
declare -A LOWER

# flushes DEV: flush requests the (request-based) device has completed
flushes() { local s; read -ra s < "/sys/block/${1#/dev/}/stat"; echo "${s[15]:-0}"; }
gen() { rstat "$1"; echo "${S_KV[generation]}"; }
flakey_up() {	# flakey_up NAME DEV
	echo "0 $(sectors "$2") flakey $2 0 180 0"
}
power_cut() {
	local i
	dmsetup suspend --nolockfs "${FL[@]}"
	for i in 0 1 2; do
		dmsetup load "${FL[i]}" --table \
			"0 $(sectors "${LOWER[${FL[i]}]}") flakey ${LOWER[${FL[i]}]} 0 0 180 1 drop_writes"
	done
	dmsetup resume "${FL[@]}"
}
power_back() {
	local f
	for f in "${FL[@]}"; do dm_swap "$f" "$(flakey_up "$f" "${LOWER[$f]}")"; done
	drop_caches
}
# setup: three loop devices under three flakey devices
setup() {
	local f
	LOWER[fmeta]=$(ramdisk 8M)
	LOWER[fsrc]=$(ramdisk 16M)
	LOWER[ftgt]=$(ramdisk 16M)
	for f in "${FL[@]}"; do dm_create "$f" "$(flakey_up "$f" "${LOWER[$f]}")"; done
	META=/dev/mapper/fmeta SRC=/dev/mapper/fsrc TGT=/dev/mapper/ftgt
	SZ=$(sectors "$SRC")
}
# export DEV: a tcm_loop LUN over DEV; sets SD
export_loop() {
	local bs
	bs=$(lio_iblock 92 "$2" "$1")
	SD=$(lio_loop_lun "$bs")
	assert_eq "$(scsi_wc "$SD")" "write back" "write cache of $SD"
}
# write_sd OFF_KIB LEN_KIB: random data through the SCSI disk (the three
# calls below touch 16 + 1 + 4 = 21 regions of 64 KiB), kept in
# $TEST_TMP/w.OFF for the checks
WRITTEN=()
write_sd() {
	head -c "$(($2 * 1024))" /dev/urandom > "$TEST_TMP/w.$1"
	write_at "$SD" "$1" "$2" "$TEST_TMP/w.$1"
	WRITTEN+=("$1:$2")
}
check_written() {	# check_written DEV WHAT
	local w
	for w in "${WRITTEN[@]}"; do
		assert_eq "$(range_md5 "$1" "${w%:*}" "${w#*:}")" "$(dev_md5 "$TEST_TMP/w.${w%:*}")" \
			"$2: ${w#*:} KiB at ${w%:*} KiB"
	done
}
# sync_cache: SYNCHRONIZE CACHE through the SCSI disk; the source sees a flush
sync_cache() {
	local s0 t0 s1 t1 out
	s0=$(flushes "${LOWER[fsrc]}") t0=$(flushes "${LOWER[ftgt]}")
	out=$(scsi_sync_cache "$SD") || fail "SYNCHRONIZE CACHE failed: $out"
	s1=$(flushes "${LOWER[fsrc]}") t1=$(flushes "${LOWER[ftgt]}")
	log "$out; leg flushes: source $s0 -> $s1, target $t0 -> $t1"
	((s1 > s0)) || fail "SYNCHRONIZE CACHE did not reach the source leg"
}
teardown() {	# teardown DM...: LIO export first, then the tables
	local d
	lio_cleanup
	for d; do dm_remove "$d"; done
}

# --- mirror, fractured ------------------------------------------------------
setup
MTABLE="0 $SZ replica mirror sync $META $SRC $TGT $RS 1 nosync $CORE"
dm_create m1 "$MTABLE"
defer lio_cleanup	# before the tables go
wait_synced m1 30
msg m1 fracture
assert_status m1 '^mirror sync fractured '
export_loop /dev/mapper/m1 m1
G0=$(gen m1)
write_sd 1024 1024
write_sd 8196 4
write_sd 12288 256
sync_cache
G1=$(gen m1)
rstat m1
log "before the cut: $S_LINE"
((S_DIRTY >= 21)) || fail "$S_DIRTY regions marked after writes to 21 regions"
((G1 > G0)) || fail "no metadata commit for the writes (generation $G0 -> $G1)"
power_cut
# writes after the cut go nowhere
dd if=/dev/urandom of="$SD" bs=64k count=16 seek=40 oflag=direct status=none
teardown m1
power_back

dm_create m1 "$MTABLE"
rstat m1
log "after the cut: $S_LINE"
assert_eq "$S_HEALTH $S_MDMODE" "AA rw" "mirror after the cut"
((${S_KV[generation]} >= G1)) ||
	fail "generation ${S_KV[generation]} after the cut, $G1 was seen after the flush"
check_written "$SRC" "mirror source after the cut"
((S_INSYNC <= S_TOTAL - 21)) || fail "$S_INSYNC/$S_TOTAL regions in sync: the 21 written regions are not all marked"
[[ $S_STATE == fractured ]] && msg m1 resync
wait_synced m1 60
legs_equal "$SRC" "$TGT"
dm_remove m1
for f in "${FL[@]}"; do dm_remove "$f"; done

# --- snapshot ------------------------------------------------------------------
WRITTEN=()
setup
dd if=/dev/urandom of="$SRC" bs=1M count=16 oflag=direct status=none
dd if="$SRC" of="$TEST_TMP/pit.img" bs=1M iflag=direct status=none
DEVS="$META $SRC $TGT $RS"
dm_create org "0 $SZ replica snapshot sync $DEVS 0 $CORE"
dm_create snap "0 $SZ replica view snapshot $DEVS"
defer lio_cleanup
export_loop /dev/mapper/org org
G0=$(gen org)
write_sd 1024 1024
write_sd 8196 4
write_sd 12288 256
sync_cache
G1=$(gen org)
rstat org
log "before the cut: $S_LINE"
((G1 > G0)) || fail "no metadata commit for the copies (generation $G0 -> $G1)"
power_cut
dd if=/dev/urandom of="$SD" bs=64k count=16 seek=60 oflag=direct status=none
teardown snap org
power_back

dm_create org "0 $SZ replica snapshot sync $DEVS 0 $CORE"
dm_create snap "0 $SZ replica view snapshot $DEVS"
rstat org
log "after the cut: $S_LINE"
assert_eq "$S_STATE $S_HEALTH $S_MDMODE" "synchronized AA rw" "snapshot after the cut"
((${S_KV[generation]} >= G1)) ||
	fail "generation ${S_KV[generation]} after the cut, $G1 was seen after the flush"
((S_INSYNC >= 21)) || fail "$S_INSYNC regions preserved after the cut, 21 were overwritten"
check_written "$SRC" "snapshot source after the cut"
legs_equal /dev/mapper/snap "$TEST_TMP/pit.img"
dm_remove snap
dm_remove org
