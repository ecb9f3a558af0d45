#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Async mirror write-behind: the host data of a write goes to the target
# while the source write runs, and the host write completes with the source.
#  - ordering: fio verify with mixed, unaligned sizes on a small working set
#    (many writes to one region at once) over a target slowed by dm-delay;
#    after the lag drains the legs are equal;
#  - the lag's age (lag ms) is that of the oldest write in flight, so a
#    steady load over a fast target does not make it grow;
#  - a suspend waits for write-behinds in flight (no entry is left);
#  - target failure under write-behind: the host sees no error, the status
#    says broken/AD, and after the leg is back the resync makes legs equal.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"
require_module dm-delay

brd_setup 3 64M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT0=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
RS=128
SLOW="0 $SZ delay $TGT0 0 0 $TGT0 0 5"
dm_create tleg "$SLOW"
TGT=/dev/mapper/tleg
DEV=/dev/mapper/m1
cd "$TEST_TMP"

dm_create m1 "0 $SZ replica mirror async $META $SRC $TGT $RS 1 nosync"
wait_synced m1 10

log "ordering: mixed sizes on 2 MiB (32 regions)"
fio --name=mix --filename="$DEV" --direct=1 --ioengine=libaio --iodepth=32 \
	--rw=randwrite --bsrange=512-64k --blockalign=512 --size=2M \
	--io_size=24M --verify=crc32c --verify_fatal=1 --do_verify=1 \
	--verify_state_save=0 --randrepeat=0 --output="$TEST_TMP/mix.out" ||
	fail "fio verify through the async mirror failed: $(tail -n 5 "$TEST_TMP/mix.out")"
rstat m1
log "after the load: $S_LINE"
wait_synced m1 60
legs_equal "$SRC" "$TGT"
((S_KV[regions_copied] < 32 * 24)) ||
	log "note: ${S_KV[regions_copied]} region copies (write-behind fell back often)"

log "lag age under a steady load: the oldest write in flight, not the load's age"
fio --name=steady --filename="$DEV" --direct=1 --ioengine=libaio --iodepth=16 \
	--rw=randwrite --bs=4k --time_based --runtime=8 --randrepeat=0 \
	--output=/dev/null &
FIO=$!
MAX_LAGMS=0
while kill -0 "$FIO" 2>/dev/null; do
	rstat m1
	((S_LAGMS > MAX_LAGMS)) && MAX_LAGMS=$S_LAGMS
	sleep 0.5
done
wait "$FIO" || fail "steady load failed"
log "max lag ms over 8 s of load (target +5 ms): $MAX_LAGMS"
((MAX_LAGMS < 3000)) || fail "lag ms $MAX_LAGMS: grows with the load's age"
wait_synced m1 30

log "a suspend lets write-behinds land"
dm_swap tleg "0 $SZ delay $TGT0 0 0 $TGT0 0 300"
fio --name=burst --filename="$DEV" --direct=1 --ioengine=libaio --iodepth=16 \
	--rw=randwrite --bs=4k --offset=8M --size=8M --number_ios=256 \
	--randrepeat=0 --output=/dev/null
rstat m1
((S_LAG > 0)) || log "note: no lag right after the burst: $S_LINE"
dmsetup suspend m1
rstat m1
dm_swap tleg "$SLOW"	# nothing of m1 is in flight any more
assert_eq "${S_KV[entries]}" "0" "entries (write-behinds) left after suspend"
# regions that fell back to a copy wait for the resume; the rest is there
if ((S_LAG == 0)); then legs_equal "$SRC" "$TGT0"; fi
dmsetup resume m1
wait_synced m1 30

log "target failure under write-behind"
fio --name=verify --filename="$DEV" --direct=1 --ioengine=libaio --iodepth=16 \
	--rw=randwrite --bs=4k --size=16M --io_size=64M --verify=crc32c --verify_fatal=1 \
	--verify_state_save=0 --do_verify=1 --randseed=77 --output="$TEST_TMP/fio.out" &
FIO=$!
_lagging() { rstat "$1"; ((S_LAG > 0)); }
wait_for 20 _lagging m1 || log "no write-behind seen in flight before the failure"
sleep 1
# the target must fail under the load, not after it
kill -0 "$FIO" 2>/dev/null || fail "fio ended before the target failed (make its load longer)"
dm_swap tleg "0 $SZ error"
wait "$FIO" || fail "host saw errors with a failed target leg: $(grep -iE 'err|verify' "$TEST_TMP/fio.out" | head -n 5)"
rstat m1
assert_eq "$S_STATE $S_HEALTH" "broken AD" "after target failure"
dm_swap tleg "$SLOW"
msg m1 clear_errors
[[ $(dmsetup status m1) == *" unsynchronized "* || $(dmsetup status m1) == *" synchronized "* ]] ||
	msg m1 resync
wait_synced m1 60
legs_equal "$SRC" "$TGT"
dm_remove m1
