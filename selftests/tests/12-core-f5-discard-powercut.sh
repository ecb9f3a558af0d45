#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Finding 5 (review C5): source-only discards mark regions without a commit
# gate.  A fractured mirror discards on the source only and marks the
# regions touched, but creates no entry and no mark_seq: the next write to
# such a region sees the in-core bit and goes to the source at once, before
# the mark is durable.  A power cut then leaves the region unmarked and the
# resync never copies it.
#
# Setup as 10-mirror-power-cut.sh: metadata, source and target each on
# dm-flakey (loop devices under source and target: they take discards);
# the metadata also goes through dm-delay, whose 2 s write delay makes the
# commit of the discard's mark slow.  Fractured mirror, region R: blkdiscard
# of R, then a 64 KiB O_DIRECT write to R; right after the write completes
# all three flakey devices drop writes at once (power cut).  After the
# devices come back, the same table is loaded again (reopen) and resynced.
# Expected: the write was held until its mark was durable, so R is in the
# marked set after the cut (dirty >= 1) and after the resync the legs are
# equal.  Today: dirty 0 after the reopen and the legs differ at region R.
# timeout: 150
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"
require_module dm-flakey dm-delay
require_cmd blkdiscard

brd_setup 1 16M
META0=${RAMDISKS[0]}
SRC0=$(ramdisk 16M)
TGT0=$(ramdisk 16M)
SZ=$(sectors "$SRC0")
MSZ=$(sectors "$META0")
RS=128
R=21
names=(fmeta fsrc ftgt)
lowers=("$META0" "$SRC0" "$TGT0")
sizes=("$MSZ" "$SZ" "$SZ")
for i in 0 1 2; do
	dm_create "${names[i]}" "0 ${sizes[i]} flakey ${lowers[i]} 0 180 0"
done
FMETA=$(dm_dev fmeta) SRC=$(dm_dev fsrc) TGT=$(dm_dev ftgt)
dm_create dmeta "0 $MSZ delay $FMETA 0 0"
META=$(dm_dev dmeta)
TABLE="0 $SZ replica mirror sync $META $SRC $TGT $RS 1 nosync"
DEV=$(dm_dev m1)

dm_create m1 "$TABLE"
wait_clean m1 20
msg m1 fracture
rstat m1
assert_eq "$S_STATE $S_DIRTY" "fractured 0" "fractured, nothing marked"
# metadata writes (the commits) take 2 s from now on
dm_swap dmeta "0 $MSZ delay $FMETA 0 0 $FMETA 0 2000"

blkdiscard -o $((R * 65536)) -l 65536 "$DEV"
t0=$SECONDS
write_at "$DEV" $((R * 64)) 64
log "discard + write to region $R took $((SECONDS - t0))s after the discard"
rstat m1
log "at the cut: $S_LINE"
# power cut: every device stops writing at the same instant
dmsetup suspend --nolockfs "${names[@]}"
for i in 0 1 2; do
	printf '%s\n' "0 ${sizes[i]} flakey ${lowers[i]} 0 0 180 1 drop_writes" | dmsetup load "${names[i]}"
done
dmsetup resume "${names[@]}"
# commits still queued in dm-delay reach the dropping flakey device
dm_swap dmeta "0 $MSZ delay $FMETA 0 0"
dm_remove m1
for i in 0 1 2; do
	dm_swap "${names[i]}" "0 ${sizes[i]} flakey ${lowers[i]} 0 180 0"
done

# back up: the same table over the "rebooted" devices
dm_create m1 "$TABLE"
rstat m1
log "after the cut: $S_LINE"
assert_eq "$S_STATE $S_MDMODE $S_HEALTH" "fractured rw AA" "reloaded relationship"
DIRTY=$S_DIRTY
msg m1 resync
wait_synced m1 30
rstat m1
log "after the resync: $S_LINE"
drop_caches
if ! cmp -s "$SRC" "$TGT"; then
	out=$(cmp "$SRC" "$TGT" 2>&1 | head -n1 || true)
	fail "legs differ after the power cut and resync (regions marked after the cut: $DIRTY): $out (region $R starts at byte $((R * 65536 + 1)))"
fi
((DIRTY >= 1)) || fail "region $R not marked after the cut, yet the legs are equal"
