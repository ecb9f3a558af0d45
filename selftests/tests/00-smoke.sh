#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Smoke test: a replica device over RAM disks carries data intact, reports
# its table and status, and goes away cleanly.
. "$(dirname "$0")/../lib.sh"

brd_setup 3 64M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT=${RAMDISKS[2]}
SZ=$(sectors "$SRC")

# The table line under test.  Update this one line when the target's table
# format changes (or override it: REPLICA_TABLE=... in the environment).
REPLICA_TABLE=${REPLICA_TABLE:-"0 $SZ replica mirror sync $META $SRC $TGT 1024"}

dm_create rep0 "$REPLICA_TABLE"
DEV=$(dm_dev rep0)

assert_eq "$(sectors "$DEV")" "$SZ" "device size"
dmsetup table rep0
dmsetup status rep0
assert_match "$(dmsetup table rep0)" "^0 $SZ replica " "dmsetup table"
assert_match "$(dmsetup status rep0)" "^0 $SZ replica" "dmsetup status"

fio_verify "$DEV" 32M
dmsetup status rep0

dm_remove rep0
expect_fail dmsetup info rep0
