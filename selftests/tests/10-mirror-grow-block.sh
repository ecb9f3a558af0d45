#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Mirror grow across a bitmap block: a reload with a larger length whose
# new regions need a second metadata bitmap block (more than 32640
# regions) grows the mirror, copies the new regions and leaves the legs
# equal.  10-mirror-bad-input grows within one block only; this one
# allocates a new in-core bitmap block during the grow, which the debug
# kernel (make check DEBUG_KERNEL=1) checks for sleeping allocations in
# atomic context.
# timeout: 420
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"

brd_setup 3 132M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT=${RAMDISKS[2]}
RS=8				# 4 KiB regions
BITS=32640			# regions per bitmap block (REPLICA_BITS_PER_BLOCK)
N0=$((BITS - 640))		# 32000 regions: one bitmap block
N1=$((BITS + 360))		# 33000 regions: two
dd if=/dev/zero of="$META" bs=4k count=2 oflag=direct status=none
# random data beyond the initial length, on the source only
dd if=/dev/urandom of="$SRC" bs=4k seek="$N0" count=$((N1 - N0)) oflag=direct status=none

dm_create m1 "0 $((N0 * RS)) replica mirror sync $META $SRC $TGT $RS 1 nosync"
rstat m1
assert_eq "$S_INSYNC/$S_TOTAL $S_STATE" "$N0/$N0 synchronized" "mirror of $N0 regions"
write_at /dev/mapper/m1 0 1024
wait_synced m1 60
C0=$(rstat m1; echo "${S_KV[regions_copied]}")

dm_reload m1 "0 $((N1 * RS)) replica mirror sync $META $SRC $TGT $RS 1 nosync"
assert_eq "$(sectors /dev/mapper/m1)" "$((N1 * RS))" "size after growing"
rstat m1
assert_eq "$S_TOTAL" "$N1" "total regions after growing"
wait_synced m1 120
rstat m1
assert_eq "$((S_KV[regions_copied] - C0))" "$((N1 - N0))" "regions copied by the grow"
legs_equal "$SRC" "$TGT"

# writes to both bitmap blocks are tracked and mirrored
write_at /dev/mapper/m1 $(((BITS - 8) * 4)) 64
wait_synced m1 60
legs_equal "$SRC" "$TGT"

# the grown mirror loads again from its metadata (two bitmap blocks)
dm_remove m1
dm_create m1 "0 $((N1 * RS)) replica mirror sync $META $SRC $TGT $RS"
rstat m1
assert_eq "$S_INSYNC/$S_TOTAL" "$N1/$N1" "regions after reloading the grown mirror"
dm_remove m1
