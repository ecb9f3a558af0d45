#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Mirror power cut: metadata, source and target sit on dm-flakey pass-through
# devices; during fio writes (to the first 8 MiB = 128 regions only) all
# three switch to drop_writes at once.  After the replica device is removed
# (its last commits are dropped) and the flakey devices pass writes again,
# the same table loads (metadata valid), only regions fio could have
# touched are resynced (no full resync), data written before fio is
# intact, and the legs end up equal.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"
require_module dm-flakey

brd_setup 3 64M
SZ=$(sectors "${RAMDISKS[1]}")
RS=128
NR=$((SZ / RS))
FIO_KIB=8192
FIO_REGIONS=$((FIO_KIB / 64))
names=(fmeta fsrc ftgt)
for i in 0 1 2; do
	dm_create "${names[i]}" "0 $SZ flakey ${RAMDISKS[i]} 0 180 0"
done
META=/dev/mapper/fmeta SRC=/dev/mapper/fsrc TGT=/dev/mapper/ftgt
TABLE="0 $SZ replica mirror ${MIRROR_MODE:-sync} $META $SRC $TGT $RS 1 nosync"
DEV=/dev/mapper/m1

dm_create m1 "$TABLE"
wait_synced m1 10
# data outside fio's range, written and completed before the cut
head -c 4M /dev/urandom > "$TEST_TMP/keep"
write_at "$DEV" 32768 4096 "$TEST_TMP/keep"
KEEP=$(dev_md5 "$TEST_TMP/keep")
wait_clean m1 30

fio --name=load --filename="$DEV" --direct=1 --ioengine=libaio --iodepth=16 \
	--rw=randwrite --bs=4k --size="${FIO_KIB}k" --time_based --runtime=60 \
	--output="$TEST_TMP/fio.out" &
FIO=$!
defer kill "$FIO"
busy() { rstat m1; ((S_DIRTY >= 16 && S_KV[entries] > 0)); }
wait_for 30 busy || fail "fio writes not seen: $S_LINE"
rstat m1
log "at the cut: $S_LINE"

# power cut: every device stops writing at the same instant
dmsetup suspend --nolockfs "${names[@]}"
for i in 0 1 2; do
	printf '%s\n' "0 $SZ flakey ${RAMDISKS[i]} 0 0 180 1 drop_writes" | dmsetup load "${names[i]}"
done
dmsetup resume "${names[@]}"
kill "$FIO"
wait "$FIO" 2>/dev/null || true
dm_remove m1
for i in 0 1 2; do
	dm_swap "${names[i]}" "0 $SZ flakey ${RAMDISKS[i]} 0 180 0"
done

# back up: the same table over the "rebooted" devices
dm_create m1 "$TABLE"
rstat m1
log "after the cut: $S_LINE"
assert_eq "$S_TOTAL $S_MDMODE $S_HEALTH" "$NR rw AA" "reloaded relationship"
((S_DIRTY <= FIO_REGIONS)) || fail "$S_DIRTY regions marked, fio could touch only $FIO_REGIONS"
((S_INSYNC >= NR - FIO_REGIONS)) || fail "in_sync $S_INSYNC: more than the $FIO_REGIONS regions fio touched are resynced"
wait_synced m1 60
rstat m1
COPIED=${S_KV[regions_copied]}	# since the table was created
log "resync copied $COPIED regions"
((COPIED > 0)) || fail "nothing resynced after a cut during writes"
((COPIED <= FIO_REGIONS)) || fail "resync copied $COPIED regions (fio touched at most $FIO_REGIONS)"
legs_equal "$SRC" "$TGT"
assert_eq "$(range_md5 "$DEV" 32768 4096)" \
	"$KEEP" "data written before the cut"
