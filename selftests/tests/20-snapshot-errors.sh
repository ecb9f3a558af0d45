#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Snapshot errors and bad input:
#  - the target leg turns into an `error` device during origin writes: the
#    relationship goes to broken (health AD), origin writes go on and
#    verify, view I/O fails with EIO;
#  - a view on a zeroed metadata device is refused ("load the origin table
#    first"); a view naming another source, target, region size or sync type
#    than the origin is refused with EBUSY; a mirror has no view; a snapshot
#    has no async mode;
#  - the snapshot origin takes no discards (the source's data is PIT data);
#    the view takes them, also over legs that cannot discard (brd);
#  - messages that do not apply to a snapshot fail and change nothing;
#  - a larger snapshot origin table is refused at resume, the old one works.
# timeout: 480
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"

brd_setup 3 64M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT0=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
RS=128

# --- target write errors ---------------------------------------------------------
step "target errors"
dm_create tgt "0 $SZ linear $TGT0 0"
TGT=$(dm_dev tgt)
DEVS="$META $SRC $TGT $RS"
fill_random "$SRC"
PIT=$(sha256_dev "$SRC")
dm_create org "0 $SZ replica snapshot sync $DEVS"
dm_create snap "0 $SZ replica view snapshot $DEVS"
ORG=$(dm_dev org) SNAP=$(dm_dev snap)
_preserved_over() { (($(stv org in_sync) > $1)); }

fio_load "$ORG" 15 --numjobs=2 &
FIO=$!
wait_for 20 _preserved_over 30 || fail "no region preserved: $(dmsetup status org)"
dmsetup suspend tgt
dmsetup load tgt --table "0 $SZ error"
dmsetup resume tgt
wait_state 20 org broken
wait "$FIO" || fail "origin writes failed after the target failed"
st org
log "broken: ${ST[line]}"
assert_eq "${ST[state]} ${ST[health]} ${ST[md]}" "broken AD rw" "status after a target error"
((ST[copy_errors] > 0)) || fail "copy_errors not counted: ${ST[line]}"
assert_eq "$(stv snap state)" broken "view state"

fio_verify "$ORG" 8M --offset=16M --output=/dev/null
fio_verify "$ORG" 4M --bs=64k --output=/dev/null
for off in 0 100 1023; do	# regions preserved or not: the PIT is gone
	expect_errno "Input/output error" dd if="$SNAP" of=/dev/null bs=64k skip="$off" count=1 iflag=direct
	expect_errno "Input/output error" dd if=/dev/zero of="$SNAP" bs=4k seek=$((off * 16)) count=1 oflag=direct
done
expect_fail dmsetup message org 0 restore
expect_fail dmsetup message org 0 resume
assert_eq "$(st_state org)" "broken dormant" "after refused messages"
dm_remove snap
dm_remove org
dm_remove tgt

# --- bad tables --------------------------------------------------------------------
step "bad tables"
M2=$(ramdisk 4M) S2=$(ramdisk 64M) T2=$(ramdisk 64M)
TGT=$TGT0 DEVS="$META $SRC $TGT0 $RS"
dd if=/dev/zero of="$META" bs=1M count=1 oflag=direct status=none
klog_mark
expect_fail dmsetup create v0 --table "0 $SZ replica view snapshot $DEVS"
expect_fail dmsetup create v0 --table "0 $SZ replica view clone $DEVS"
klog_since | grep -q "load the origin table first" ||
	fail "no 'load the origin table first' in the kernel log: $(klog_since | tail -n 3)"
expect_errno "Invalid argument" dmsetup create v0 --table "0 $SZ replica view mirror $DEVS"
expect_errno "Invalid argument" dmsetup create o0 --table "0 $SZ replica snapshot async $DEVS"
expect_errno "Invalid argument" dmsetup create o0 --table "0 $SZ replica 7 3 $DEVS"
expect_fail dmsetup info v0
expect_fail dmsetup info o0
# ... and the metadata device was not formatted by any of them
assert_eq "$(sha256_dev "$META" 8)" "$(head -c 4096 /dev/zero | sha256sum | cut -d' ' -f1)" \
	"metadata after refused tables"

dm_create org "0 $SZ replica snapshot sync $DEVS"
ORG=$(dm_dev org)
expect_errno "Device or resource busy" dmsetup create v0 --table "0 $SZ replica view snapshot $META $S2 $TGT $RS"
expect_errno "Device or resource busy" dmsetup create v0 --table "0 $SZ replica view snapshot $META $SRC $T2 $RS"
expect_errno "Device or resource busy" dmsetup create v0 --table "0 $SZ replica view snapshot $META $SRC $TGT 256"
expect_errno "Device or resource busy" dmsetup create v0 --table "0 $SZ replica view clone $DEVS"
expect_errno "Device or resource busy" dmsetup create o2 --table "0 $SZ replica snapshot sync $META $S2 $T2 $RS"
expect_errno "Device or resource busy" dmsetup create o2 --table "0 $SZ replica mirror sync $DEVS"
expect_errno "Invalid argument" dmsetup create v0 --table "0 $((SZ / 2)) replica view snapshot $DEVS"
expect_errno "Invalid argument" dmsetup create v0 --table "0 $SZ replica view snapshot $DEVS 1 rw"
expect_fail dmsetup info v0
expect_fail dmsetup info o2
dm_create snap "0 $SZ replica view snapshot $DEVS"
SNAP=$(dm_dev snap)
PIT=$(sha256_dev "$SRC")
assert_eq "$(sha256_dev "$SNAP")" "$PIT" "view after refused tables"

# --- messages that do not apply --------------------------------------------------------
step "messages"
fio --name=w --filename="$ORG" --rw=randwrite --bs=64k --io_size=4M --direct=1 --output=/dev/null
st org
BEFORE="${ST[state]} ${ST[progress]} ${ST[in_sync]} ${ST[pit_ns]} ${ST[mode]} ${ST[health]}"
TABLE=$(dm_table org)
for m in fracture split pause abort "mode async" "mode sync" start nonsense "set copy_rate_max x" \
	"set nokey 1" "restore now"; do
	# shellcheck disable=SC2086
	expect_fail dmsetup message org 0 $m
	# shellcheck disable=SC2086
	expect_fail dmsetup message snap 0 $m
done
expect_errno "Operation not permitted" dmsetup message org 0 resume
st org
assert_eq "${ST[state]} ${ST[progress]} ${ST[in_sync]} ${ST[pit_ns]} ${ST[mode]} ${ST[health]}" \
	"$BEFORE" "status after refused messages"
assert_eq "$(dm_table org)" "$TABLE" "table after refused messages"
assert_eq "$(sha256_dev "$SNAP")" "$PIT" "view after refused messages"

# --- no discards on the origin ------------------------------------------------------------
step "discard"
dm_remove snap
dm_remove org
dd if=/dev/zero of="$M2" bs=1M count=1 oflag=direct status=none
fill_random "$S2"
PIT2=$(sha256_dev "$S2")
dm_create org "0 $SZ replica snapshot sync $M2 $S2 $T2 $RS"
dm_create snap "0 $SZ replica view snapshot $M2 $S2 $T2 $RS"
ORG=$(dm_dev org) SNAP=$(dm_dev snap)
DMN=dm-$(dmsetup info -c --noheadings -o minor org)
assert_eq "$(cat /sys/block/"$DMN"/queue/discard_max_bytes)" 0 "origin discard_max_bytes"
SN=dm-$(dmsetup info -c --noheadings -o minor snap)
(($(cat /sys/block/"$SN"/queue/discard_max_bytes) > 0)) || fail "the view takes no discards"
expect_fail blkdiscard -o 0 -l 1048576 "$ORG"
expect_fail blkdiscard "$ORG"
assert_eq "$(sha256_dev "$ORG")" "$PIT2" "origin after refused discards"
assert_eq "$(sha256_dev "$SNAP")" "$PIT2" "view after refused discards"

# a view takes discards even when neither leg can (brd): whole regions
# covered are marked as needing no copy; other regions keep the PIT
step "view discard, legs without discard"
dm_remove snap
dm_remove org
dd if=/dev/zero of="$META" bs=1M count=1 oflag=direct status=none
fill_random "$SRC"
save_image "$SRC" "$TEST_TMP/pit3.img"
dm_create org "0 $SZ replica snapshot sync $META $SRC $TGT0 $RS"
dm_create snap "0 $SZ replica view snapshot $META $SRC $TGT0 $RS"
ORG=$(dm_dev org) SNAP=$(dm_dev snap)
SN=dm-$(dmsetup info -c --noheadings -o minor snap)
(($(cat /sys/block/"$SN"/queue/discard_max_bytes) > 0)) ||
	fail "the view takes no discards over brd legs"
blkdiscard -o $((8 * 65536)) -l $((4 * 65536)) "$SNAP"
assert_eq "$(stv org in_sync)" 4 "regions marked by a 4-region view discard"
blkdiscard -o $((16 * 65536 + 4096)) -l 65536 "$SNAP"
assert_eq "$(stv org in_sync)" 4 "regions marked by a partial-region discard"
dd if="$TEST_TMP/pit3.img" of="$TEST_TMP/pit3.part" bs=64k count=8 status=none
dd if="$SNAP" of="$TEST_TMP/view.part" bs=64k count=8 iflag=direct status=none
cmp "$TEST_TMP/view.part" "$TEST_TMP/pit3.part" || fail "view regions 0-7 changed by discards"
cmp <(dd if="$SNAP" bs=64k skip=12 iflag=direct status=none) \
	<(dd if="$TEST_TMP/pit3.img" bs=64k skip=12 status=none) ||
	fail "view after region 12 changed by discards"
fio --name=w --filename="$ORG" --direct=1 --ioengine=libaio --iodepth=16 \
	--rw=randwrite --bs=4k --number_ios=128 --randrepeat=0 --output=/dev/null
cmp <(dd if="$SNAP" bs=64k skip=12 iflag=direct status=none) \
	<(dd if="$TEST_TMP/pit3.img" bs=64k skip=12 status=none) ||
	fail "view after region 12 changed by origin writes after discards"

# --- resize refused ---------------------------------------------------------------------------
step "resize"
dm_remove snap
dm_remove org
dd if=/dev/zero of="$M2" bs=1M count=1 oflag=direct status=none
HALF=$((SZ / 2))
HALF_SUM=$(sha256_dev "$S2" "$HALF")
ORG_T="0 $HALF replica snapshot sync $M2 $S2 $T2 $RS"
dm_create org "$ORG_T"
dm_create snap "0 $HALF replica view snapshot $M2 $S2 $T2 $RS"
klog_mark
expect_fail dm_reload org "0 $SZ replica snapshot sync $M2 $S2 $T2 $RS"
klog_since | grep -q "resizing a snapshot or clone is not supported" ||
	fail "no resize message in the kernel log: $(klog_since | tail -n 3)"
# back to the old table
dmsetup info org | grep -q SUSPENDED || log "origin not left suspended"
printf '%s\n' "$ORG_T" | dmsetup load org
dmsetup resume org
assert_eq "$(sectors "$ORG")" "$HALF" "origin size after the refused resize"
assert_eq "$(stv org state)" synchronized "state after the refused resize"
fio --name=w --filename="$ORG" --rw=randwrite --bs=4k --io_size=2M --direct=1 --output=/dev/null
assert_eq "$(sha256_dev "$SNAP")" "$HALF_SUM" "view after the refused resize"
step "done"
