#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The metadata device fails at run time (its table swapped to `error`).
#  mirror:   the next commit fails, the metadata goes read-only (status
#            `ro`); writes to regions already marked go on to both legs,
#            writes that would need a new mark fail with EIO (nothing is
#            written that the bitmap could not vouch for); suspend and
#            remove do not hang; the relationship loads again from the
#            last good commit once the device is back, and resyncs.
#  snapshot: the point in time cannot be recorded: broken, view EIO,
#            origin writes go on and verify.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"

brd_setup 3 64M
META0=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
RS=128
GOODMETA="0 $SZ linear $META0 0"
dm_create meta "$GOODMETA"
META=/dev/mapper/meta
DEV=/dev/mapper/m1
TABLE="0 $SZ replica mirror sync $META $SRC $TGT $RS 1 nosync 2 commit_ms 60000"
cd "$TEST_TMP"

dm_create m1 "$TABLE"
wait_synced m1 10
# mark regions 0-15 (1 MiB) and keep them marked (commit_ms: no clearing)
write_at "$DEV" 0 1024
rstat m1
((S_DIRTY >= 16)) || fail "regions 0-15 not marked: $S_LINE"

dm_swap meta "0 $SZ error"
log "metadata device is now an error device"
# a write that needs a new mark: the commit fails, the write fails
expect_fail dd if=/dev/urandom of="$DEV" bs=4k count=1 seek=4096 oflag=direct status=none
rstat m1
assert_eq "$S_MDMODE" ro "metadata mode after a failed commit"
# marked regions still take writes, on both legs
head -c 1M /dev/urandom > "$TEST_TMP/w"
write_at "$DEV" 0 1024 "$TEST_TMP/w"
assert_eq "$(range_md5 "$SRC" 0 1024)" "$(dev_md5 "$TEST_TMP/w")" "source after a write to marked regions"
assert_eq "$(range_md5 "$TGT" 0 1024)" "$(dev_md5 "$TEST_TMP/w")" "target after a write to marked regions"
# other writes keep failing, reads work
expect_fail dd if=/dev/urandom of="$DEV" bs=64k count=1 seek=700 oflag=direct status=none
dd if="$DEV" of=/dev/null bs=1M count=8 iflag=direct status=none || fail "reads failed"
# a state change that cannot be recorded is refused and not made
expect_msg_fail m1 "Input/output error" fracture
rstat m1
assert_eq "$S_STATE $S_MDMODE" "synchronized ro" "state after a refused fracture"
dmsetup suspend m1
dmsetup resume m1
dm_remove m1

# the device comes back: the last good commit loads, marked regions resync
dm_swap meta "$GOODMETA"
dm_create m1 "$TABLE"
rstat m1
assert_eq "$S_MDMODE $S_HEALTH" "rw AA" "relationship after the metadata is back"
((S_DIRTY >= 16)) || fail "marks of the last good commit lost: $S_LINE"
wait_synced m1 60
legs_equal "$SRC" "$TGT"
dm_remove m1

log "snapshot"
dd if=/dev/zero of="$META" bs=1M count=1 oflag=direct status=none
fill_random() {
	fio --name=fill --filename="$1" --direct=1 --ioengine=libaio --iodepth=8 \
		--rw=write --bs=1M --size=64M --refill_buffers=1 --output=/dev/null
}
fill_random "$SRC"
dm_create org "0 $SZ replica snapshot sync $META $SRC $TGT $RS"
dm_create snap "0 $SZ replica view snapshot $META $SRC $TGT $RS"
write_at /dev/mapper/org 0 256
dm_swap meta "0 $SZ error"
fio --name=v --filename=/dev/mapper/org --direct=1 --ioengine=libaio --iodepth=16 \
	--rw=randwrite --bs=4k --size=16M --verify=crc32c --verify_fatal=1 --do_verify=1 \
	--verify_state_save=0 --randrepeat=0 --output="$TEST_TMP/fio.out" ||
	fail "origin writes failed with the metadata device gone: $(tail -n 5 "$TEST_TMP/fio.out")"
rstat org
assert_eq "$S_STATE $S_MDMODE" "broken ro" "snapshot after the metadata failed"
expect_fail dd if=/dev/mapper/snap of=/dev/null bs=4k count=1 iflag=direct status=none
dm_remove snap
dm_remove org
dm_swap meta "$GOODMETA"
