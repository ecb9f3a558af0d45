#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Mirror initial sync: a fresh synchronous mirror copies every region of
# the source to the target (status fields exact at the end, both legs hold
# the source's data); then a second relationship whose copy is throttled by
# copy_rate_max carries a fio crc32c verify run while the initial copy is
# still running, and the legs are equal once it finishes.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"

brd_setup 3 64M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
RS=128					# 64 KiB regions
NR=$((SZ / RS))				# 1024

# Source: random data; target: the same data shifted by 1 MiB, so every
# region differs and a copy to a wrong offset shows too.
dd if=/dev/urandom of="$SRC" bs=1M count=64 oflag=direct status=none
dd if="$SRC" of="$TGT" bs=1M seek=1 count=63 iflag=direct oflag=direct status=none
SUM=$(dev_md5 "$SRC")

dm_create m1 "0 $SZ replica mirror sync $META $SRC $TGT $RS"
rstat m1
log "right after create: $S_LINE"
assert_eq "$S_TOTAL" "$NR" "total regions"
assert_match "$S_STATE" '^(unsynchronized|synchronized)$' "copy state at start"
assert_eq "${S_KV[role]}" origin "role"
assert_eq "${S_KV[region_sectors]}" "$RS" "region_sectors"
assert_match "${S_KV[uuid]}" '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$' "uuid"

wait_synced m1 60
wait_clean m1 30
# the documented pairs in their order (later versions may append more)
assert_status m1 "^mirror sync synchronized completed $NR/$NR 0 0 0 0 AA rw [0-9]+ role=origin uuid=[-0-9a-f]+ region_sectors=$RS generation=[0-9]+ pit_ns=0 regions_copied=$NR copy_errors=0 entries=0( [a-z_]+=[^ ]*)*\$"
assert_match "$(dm_table m1)" "^mirror sync $(majmin $META) $(majmin $SRC) $(majmin $TGT) $RS 0 14 copy_rate_max 0 copy_rate_min 4096 copy_inflight 16 max_lag_regions 1024 max_lag_ms 5000 lag_policy throttle commit_ms 1000\$" "TABLE"
drop_caches
SUMS=$(md5sum "$SRC" "$TGT" "$(dm_dev m1)" | cut -d' ' -f1 | tr '\n' ' ')
assert_eq "$SUMS" "$SUM $SUM $SUM " "source, target, device after the initial sync"

# The relationship survives a remove + create unchanged: no copy at all.
dm_remove m1
dm_create m1 "0 $SZ replica mirror sync $META $SRC $TGT $RS"
rstat m1
assert_eq "$S_STATE $S_PROGRESS $S_INSYNC/$S_TOTAL ${S_KV[regions_copied]}" \
	"synchronized completed $NR/$NR 0" "reopened synchronized mirror"
dm_remove m1

# --- fio verify through the device during a throttled initial copy -----------
dd if=/dev/zero of="$META" bs=4k count=2 oflag=direct status=none	# reformat
dd if="$TGT" of="$SRC" bs=1M seek=2 count=62 iflag=direct oflag=direct status=none
dm_create m2 "0 $SZ replica mirror sync $META $SRC $TGT $RS 0 2 copy_rate_max 1024"
rstat m2
assert_eq "$S_STATE" unsynchronized "copy state of a throttled initial copy"
assert_eq "$S_PROGRESS" synchronizing "progress of the initial copy"
fio_verify "$(dm_dev m2)" 8M --offset=8M --iodepth=8 --verify_state_save=0
rstat m2
log "after fio: $S_LINE"
# the copy must still have been running while fio wrote and verified
assert_eq "$S_STATE" unsynchronized "copy state right after fio (copy_rate_max 1024)"
((S_INSYNC < S_TOTAL)) || fail "initial copy already finished: throttle not effective ($S_LINE)"
# copy_rate_max is a ceiling: 128 KiB/s is 2 regions of 64 KiB a second
msg m2 set copy_rate_max 128
rstat m2
c0=${S_KV[regions_copied]} t0=${EPOCHREALTIME/./}
while :; do	# sample the status for 4 s
	rstat m2
	c1=${S_KV[regions_copied]} t1=${EPOCHREALTIME/./}
	((t1 - t0 < 4000000)) || break
done
((S_INSYNC < S_TOTAL)) || fail "copy finished during the rate measurement"
rate=$(( (c1 - c0) * 64 * 1000000 / (t1 - t0) ))
log "copy rate with copy_rate_max 128: $((c1 - c0)) regions in $(( (t1 - t0) / 1000 )) ms = $rate KiB/s"
# (reported at the end, so the data checks below still run)
LATE=
((rate <= 128 * 3 / 2)) || LATE="copy rate $rate KiB/s above copy_rate_max 128 KiB/s"
msg m2 set copy_rate_max 0
wait_synced m2 60
legs_equal "$SRC" "$TGT"
rstat m2
assert_eq "${S_KV[copy_errors]} $S_HEALTH $S_MDMODE" "0 AA rw" "errors/health/metadata"
[[ -z $LATE ]] || fail "$LATE"
