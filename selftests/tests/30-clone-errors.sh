#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Clone errors and bad input:
#  - mirror-only messages (fracture, split, mode) fail on a clone and change
#    nothing; pause/resume follow the copy state (EPERM otherwise);
#  - a larger clone origin table is refused at resume;
#  - the target leg turns into an `error` device during hydration and origin
#    writes: the relationship goes to broken (health AD), hydration stops,
#    origin writes go on and verify, view I/O fails with EIO.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"

brd_setup 3 64M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT0=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
HALF=$((SZ / 2))
RS=128
dm_create tgt "0 $SZ linear $TGT0 0"
TGT=$(dm_dev tgt)
DEVS="$META $SRC $TGT $RS"
ORG_T="0 $HALF replica clone sync $DEVS 0 2 copy_rate_max 512"

step "fill"
fill_random "$SRC" 32
dm_create org "$ORG_T"
dm_create view "0 $HALF replica view clone $DEVS"
ORG=$(dm_dev org) VIEW=$(dm_dev view)

# --- messages ---------------------------------------------------------------------
step "messages"
st org
assert_eq "${ST[state]} ${ST[progress]}" "unsynchronized synchronizing" "clone state"
TABLE=$(dm_table org)
for m in fracture split "mode async" "mode sync" start nonsense "set copy_rate_max -1" \
	"set nokey 1" "pause now"; do
	# shellcheck disable=SC2086
	expect_fail dmsetup message org 0 $m
	# shellcheck disable=SC2086
	expect_fail dmsetup message view 0 $m
done
expect_errno "Operation not permitted" dmsetup message org 0 resume
st org
assert_eq "${ST[state]} ${ST[progress]} ${ST[mode]} ${ST[health]}" \
	"unsynchronized synchronizing sync AA" "status after refused messages"
assert_eq "$(dm_table org)" "$TABLE" "table after refused messages"
# pause and resume through the view's messages too
dmsetup message view 0 pause
assert_eq "$(st_state org)" "suspended dormant" "paused through the view"
expect_errno "Operation not permitted" dmsetup message org 0 pause
dmsetup message view 0 resume
assert_eq "$(st_state org)" "unsynchronized synchronizing" "resumed through the view"

# --- resize refused ------------------------------------------------------------------
step "resize"
klog_mark
expect_fail dm_reload org "0 $SZ replica clone sync $DEVS 0 2 copy_rate_max 512"
klog_since | grep -q "resizing a snapshot or clone is not supported" ||
	fail "no resize message in the kernel log: $(klog_since | tail -n 3)"
printf '%s\n' "$ORG_T" | dmsetup load org
dmsetup resume org
assert_eq "$(sectors "$ORG")" "$HALF" "origin size after the refused resize"
st org
assert_eq "${ST[state]} ${ST[total]} ${ST[health]}" "unsynchronized $((HALF / RS)) AA" \
	"status after the refused resize"

# --- target write errors during hydration ----------------------------------------------
step "target errors"
_copied_over() { (($(stv org regions_copied) > $1)); }
fio_load "$ORG" 10 --numjobs=2 &
FIO=$!
wait_for 20 _copied_over 20 || fail "no progress: $(dmsetup status org)"
dmsetup suspend tgt
dmsetup load tgt --table "0 $SZ error"
dmsetup resume tgt
wait_state 20 org broken
wait "$FIO" || fail "origin writes failed after the target failed"
st org
log "broken: ${ST[line]}"
assert_eq "${ST[state]} ${ST[health]} ${ST[md]}" "broken AD rw" "status after a target error"
((ST[copy_errors] > 0)) || fail "copy_errors not counted: ${ST[line]}"
C=${ST[regions_copied]}
sleep 1
assert_eq "$(stv org regions_copied)" "$C" "hydration stopped when broken"
fio_verify "$ORG" 4M --offset=8M --output=/dev/null
for off in 0 100 511; do
	expect_errno "Input/output error" dd if="$VIEW" of=/dev/null bs=64k skip="$off" count=1 iflag=direct
	expect_errno "Input/output error" dd if=/dev/zero of="$VIEW" bs=4k seek=$((off * 16)) count=1 oflag=direct
done
expect_fail dmsetup message org 0 resume
assert_eq "$(stv org state)" broken "state after a refused resume"
step "done"
dm_remove view
dm_remove org
