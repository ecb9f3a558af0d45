#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Mirror bad input: every malformed table line is refused (dmsetup create
# fails) with its own "device-mapper: table: ... replica: <message>" kernel
# log line, including corrupt metadata (superblocks, active bitmap block);
# every bad message fails and changes neither the status nor the table;
# a reload with a smaller length is refused, one with a larger length grows
# the mirror (new regions copied, legs equal).
# timeout: 420
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"

brd_setup 3 64M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
RS=128
NR=$((SZ / RS))

# bad_table "ARGS after 'replica'" "kernel message" [LEN]: the table must be
# refused.  The kernel lines are checked in batches (klog_batch): every
# refused table logs exactly one "device-mapper: table: ...: replica: MSG"
# line, so the i-th such line must match the i-th expected message.  (One
# dmesg per batch: each exec costs a lot in a TCG guest.)
NBAD=0
WANT=()
bad_table() {
	local args=$1 want=$2 len=${3:-$SZ}
	if dmsetup create bad --table "0 $len replica $args" 2>/dev/null; then
		_register "dm bad"
		fail "table accepted: replica $args"
	fi
	WANT+=("$want")
	NBAD=$((NBAD + 1))
}
klog_batch() {
	local -a got
	local i line
	while IFS= read -r line; do
		[[ $line =~ device-mapper:\ table:\ [0-9]+:[0-9]+:\ replica:\ (.*)$ ]] &&
			got+=("${BASH_REMATCH[1]}")
	done < <(klog_since)
	for ((i = 0; i < ${#WANT[@]}; i++)); do
		[[ ${got[i]:-} =~ ^${WANT[i]} ]] ||
			fail "refused table $((i + 1)) of the batch: kernel said '${got[i]:-nothing}', want '${WANT[i]}'"
	done
	((${#got[@]} == ${#WANT[@]})) ||
		fail "${#got[@]} replica table errors logged for ${#WANT[@]} refused tables"
	log "${#WANT[@]} refused tables, each with its kernel message"
	WANT=()
	klog_mark
}

# good_table "ARGS" : must load; removed again (metadata zeroed afterwards)
good_table() {
	printf '0 %s replica %s\n' "${2:-$SZ}" "$1" | dmsetup create good ||
		fail "valid table refused: replica $1"
	_register "dm good"
	dm_remove good
	dd if=/dev/zero of="$META" bs=4k count=2 oflag=direct status=none
}

M=$META S=$SRC T=$TGT
klog_mark
COUNT='Invalid argument count: expected at least 6'
bad_table "" "$COUNT"
bad_table "mirror sync $M $S $T" "$COUNT"
bad_table "mirror" "$COUNT"
bad_table "foo sync $M $S $T $RS" 'Invalid sync type: expected mirror, snapshot or clone'
bad_table "9 sync $M $S $T $RS" 'Invalid sync type'
bad_table "mirror fast $M $S $T $RS" 'Invalid mode: expected sync or async'
bad_table "mirror 4 $M $S $T $RS" 'Invalid mode'
bad_table "snapshot async $M $S $T $RS" 'A snapshot has no asynchronous mode'
bad_table "view mirror $M $S $T $RS" 'A mirror has no view'
REGION='Invalid region size: a power of two from 8 to 2097152 sectors'
for r in 100 4 0 4194304 2097153 abc -128 ''; do
	[[ -n $r ]] || continue
	bad_table "mirror sync $M $S $T $r" "$REGION"
done
bad_table "mirror sync $M $S $S $RS" 'Metadata, source and target must be distinct devices'
bad_table "mirror sync $M $M $T $RS" 'Metadata, source and target must be distinct devices'
bad_table "mirror sync $T $S $T $RS" 'Metadata, source and target must be distinct devices'
bad_table "mirror sync /dev/nonexistent $S $T $RS" 'Cannot open metadata device'
bad_table "mirror sync $M /dev/nonexistent $T $RS" 'Cannot open source device'
bad_table "mirror sync $M $S /dev/nonexistent $RS" 'Cannot open target device'
bad_table "mirror sync $M $S $T $RS 1 bogus" 'Unknown feature argument'
bad_table "mirror sync $M $S $T $RS 1 ro" 'Unknown feature argument'
bad_table "mirror sync $M $S $T $RS 5 nosync nosync nosync nosync nosync" 'Invalid number of feature arguments'
bad_table "mirror sync $M $S $T $RS 2 nosync" 'Invalid number of feature arguments'
bad_table "mirror sync $M $S $T $RS x" 'Invalid number of feature arguments'
bad_table "mirror sync $M $S $T $RS 0 3 copy_rate_max 1 commit_ms" 'Core arguments must be key value pairs'
bad_table "mirror sync $M $S $T $RS 0 1 copy_rate_max" 'Core arguments must be key value pairs'
bad_table "mirror sync $M $S $T $RS 0 2 bogus 1" 'Unknown core argument'
bad_table "mirror sync $M $S $T $RS 0 16 copy_rate_max 1 copy_rate_min 1 copy_inflight 1 max_lag_regions 1 max_lag_ms 1 lag_policy throttle commit_ms 10 commit_ms 10" 'Invalid number of core arguments'
RANGE='Core argument value out of range'
bad_table "mirror sync $M $S $T $RS 0 2 copy_inflight 0" "$RANGE"
bad_table "mirror sync $M $S $T $RS 0 2 copy_inflight 1025" "$RANGE"
bad_table "mirror sync $M $S $T $RS 0 2 commit_ms 9" "$RANGE"
bad_table "mirror sync $M $S $T $RS 0 2 commit_ms 60001" "$RANGE"
bad_table "mirror sync $M $S $T $RS 0 2 max_lag_ms 3600001" "$RANGE"
bad_table "mirror sync $M $S $T $RS 0 2 copy_rate_max 4294967296" "$RANGE"
bad_table "mirror sync $M $S $T $RS 0 2 copy_rate_max -1" "$RANGE"
bad_table "mirror sync $M $S $T $RS 0 2 copy_rate_max 12abc" "$RANGE"
bad_table "mirror sync $M $S $T $RS 0 2 lag_policy sometimes" 'lag_policy must be throttle or fallbehind'
bad_table "mirror sync $M $S $T $RS 0 0 extra" 'Too many arguments'

# legs smaller than the table length
dm_create small "0 $((SZ - 8)) linear $TGT 0"
bad_table "mirror sync $M $S /dev/mapper/small $RS" 'Target device is smaller than the table length'
bad_table "mirror sync $M /dev/mapper/small $T $RS" 'Source device is smaller than the table length'
dm_remove small
# metadata device too small
dm_create msmall "0 24 linear $META 0"
bad_table "mirror sync /dev/mapper/msmall $S $T $RS" 'Metadata device is too small'
dm_remove msmall
# metadata too small for the number of regions: 1 GiB of 4 KiB regions
# (262144 regions, 9 bitmap blocks) with room for 1 block per area
dm_create zsrc "0 2097152 zero"
dm_create ztgt "0 2097152 zero"
dm_create msmall "0 40 linear $META 0"
bad_table "mirror sync /dev/mapper/msmall /dev/mapper/zsrc /dev/mapper/ztgt 8" \
	'Metadata device too small for this many regions' 2097152
dm_remove msmall
klog_batch
log "$NBAD malformed tables refused"

# boundary values that must load
good_table "mirror sync $M $S $T 8 1 nosync"
# (a 1 GiB region on 1 GiB legs: dm-zero devices)
good_table "mirror sync $M /dev/mapper/zsrc /dev/mapper/ztgt 2097152 1 nosync" 2097152
dm_remove zsrc
dm_remove ztgt
good_table "6 2 $M $S $T $RS 1 nosync 0"
good_table "mirror async $M $S $T $RS 4 nosync fail_host_on_target_error start_inactive no_discard_passdown 14 copy_rate_max 4294967295 copy_rate_min 0 copy_inflight 1024 max_lag_regions 0 max_lag_ms 3600000 lag_policy fallbehind commit_ms 60000"

# --- metadata that does not match or is corrupt --------------------------------
VALID="mirror sync $M $S $T $RS 1 nosync"
dm_create m1 "0 $SZ replica $VALID"
dm_remove m1
bad_table "mirror sync $M $S $T 256" 'Region size does not match the metadata'
bad_table "clone sync $M $S $T $RS" 'Metadata belongs to a relationship of another sync type'
bad_table "mirror sync $M $S $T $RS" 'Shrinking a replica is not supported' $((SZ - RS))
klog_batch

# superblock slots (LE): generation at byte 16, active_area at 88, capacity_blocks at 96
get_blk0() { dd if="$META" of="$TEST_TMP/sb" bs=4k count=2 iflag=direct status=none; }
sb_u64() { od -An -t u8 -j "$(($1 * 4096 + $2))" -N 8 "$TEST_TMP/sb" | tr -d ' '; }
sb_u32() { od -An -t u4 -j "$(($1 * 4096 + $2))" -N 4 "$TEST_TMP/sb" | tr -d ' '; }
get_blk0
g0=$(sb_u64 0 16) g1=$(sb_u64 1 16)
if ((g0 > g1)); then slot=0; else slot=1; fi
AREA=$(sb_u32 "$slot" 88)
CAP=$(sb_u64 "$slot" 96)
log "superblock: slot $slot, generations $g0/$g1, active area $AREA, capacity $CAP"
assert_eq "$CAP" "$(( ($(sectors "$META") / 8 - 2) / 2 ))" "capacity_blocks in the superblock"
# get_blk N FILE / put_blk N FILE: one 4 KiB metadata block, O_DIRECT
get_blk() { dd if="$META" of="$2" bs=4k skip="$1" count=1 iflag=direct status=none; }
put_blk() { dd if="$2" of="$META" bs=4k seek="$1" count=1 oflag=direct status=none; }
# scribble AREA: 16 bytes of garbage in bitmap block 0 of AREA (past its header)
scribble() {
	local blk=$((2 + $1 * CAP))
	get_blk "$blk" "$TEST_TMP/blk"
	printf 'CORRUPT!CORRUPT!' | dd of="$TEST_TMP/blk" bs=1 seek=64 conv=notrunc status=none
	put_blk "$blk" "$TEST_TMP/blk"
}
for b in 0 1 2 $((2 + CAP)); do get_blk "$b" "$TEST_TMP/saved.$b"; done
restore_meta() { for b in 0 1 2 $((2 + CAP)); do put_blk "$b" "$TEST_TMP/saved.$b"; done; }
# the inactive area is not read at load: still valid
scribble $((1 - AREA))
dm_create m1 "0 $SZ replica $VALID"
assert_status m1 "^mirror sync synchronized completed $NR/$NR "
dm_remove m1
restore_meta
# the active area: refused
scribble "$AREA"
bad_table "$VALID" 'Metadata bitmap is corrupt'
expect_klog 'replica[-a-z]*: bitmap block 0: '
klog_batch
restore_meta
# both superblocks overwritten with garbage
dd if=/dev/urandom of="$META" bs=4k count=2 oflag=direct status=none
bad_table "$VALID" 'Metadata superblock is invalid'
expect_klog 'replica[-a-z]*: superblock: '
klog_batch
restore_meta
# only the newer superblock slot damaged: the older one is still valid
dd if=/dev/urandom of="$META" bs=4k count=1 seek="$slot" oflag=direct status=none
dm_create m1 "0 $SZ replica $VALID"
rstat m1
assert_eq "$S_TOTAL" "$NR" "total with the older superblock"
dm_remove m1
dd if=/dev/zero of="$META" bs=4k count=2 oflag=direct status=none

# --- bad messages change nothing -------------------------------------------------
dm_create m1 "0 $SZ replica mirror sync $M $S $T $RS 1 nosync"
wait_clean m1 20
ST0=$(dmsetup status m1)
TB0=$(dmsetup table m1)
klog_mark
E=("Invalid argument")
expect_msg_fail m1 "$E" bogus
expect_msg_fail m1 "$E" fracture now
expect_msg_fail m1 "$E" resync 1 2
expect_msg_fail m1 "$E" mode
expect_msg_fail m1 "$E" mode foo
expect_msg_fail m1 "$E" mode sync extra
expect_msg_fail m1 "$E" set
expect_msg_fail m1 "$E" set copy_inflight
expect_msg_fail m1 "$E" set bogus 1
expect_msg_fail m1 "$E" set copy_inflight 0
expect_msg_fail m1 "$E" set commit_ms 5
expect_msg_fail m1 "$E" set lag_policy maybe
expect_msg_fail m1 "$E" set copy_rate_max 1 2
expect_msg_fail m1 "$E" FRACTURE
P="Operation not permitted"
expect_msg_fail m1 "$P" restore
expect_msg_fail m1 "$P" start
expect_msg_fail m1 "$P" resume
expect_msg_fail m1 "$P" abort
expect_msg_fail m1 "$P" resync
expect_klog 'replica[-a-z]*: unrecognised message for a mirror: bogus'
expect_klog 'replica[-a-z]*: set bogus: Unknown core argument'
expect_klog 'replica[-a-z]*: restore: not allowed in copy state synchronized'
assert_eq "$(dmsetup status m1)" "$ST0" "status after bad messages"
assert_eq "$(dmsetup table m1)" "$TB0" "table after bad messages"

# --- reload: smaller refused, larger grows --------------------------------------
dm_remove m1
dd if=/dev/zero of="$META" bs=4k count=2 oflag=direct status=none
HALF=$((SZ / 2 + 8))				# 513 regions, the last one partial
# random data beyond the initial length, on the source only
dd if=/dev/urandom of="$SRC" bs=4k seek=$((HALF / 8)) count=$(((SZ - HALF) / 8)) oflag=direct status=none
dm_create m1 "0 $HALF replica mirror sync $M $S $T $RS 1 nosync"
rstat m1
assert_eq "$S_INSYNC/$S_TOTAL $S_STATE" "513/513 synchronized" "half-size mirror"
write_at /dev/mapper/m1 0 1024
wait_synced m1 20
ST0=$(dmsetup status m1)
klog_mark
expect_fail dm_reload m1 "0 $((HALF - 8)) replica mirror sync $M $S $T $RS 1 nosync"
expect_klog 'replica[-a-z]*: Shrinking a replica is not supported'
assert_eq "$(sectors /dev/mapper/m1)" "$HALF" "size after a refused shrink"
rstat m1
assert_eq "$S_INSYNC/$S_TOTAL" "513/513" "regions after a refused shrink"
C0=${S_KV[regions_copied]}
dm_reload m1 "0 $SZ replica mirror sync $M $S $T $RS 1 nosync"
assert_eq "$(sectors /dev/mapper/m1)" "$SZ" "size after growing"
rstat m1
assert_eq "$S_TOTAL" "$NR" "total regions after growing"
wait_synced m1 60
rstat m1
# regions 513..1023 are new, region 512 was partial and is copied again
assert_eq "$((S_KV[regions_copied] - C0))" "$((NR - 512))" "regions copied by the grow"
legs_equal "$SRC" "$TGT"
