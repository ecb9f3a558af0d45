#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# copy_rate_max limits background copies only: the copy-on-write copies
# that origin writes wait for are not rate limited, and they must not be
# charged to the background budget either.  They were: after a burst of
# first writes the hydration stood still until the burst's bytes were
# "paid back" at copy_rate_max (8 MiB of copy-on-write at 256 KiB/s: half a
# minute; 30-clone-persist saw it as a 15 s stall now and then).
#
# A clone hydrating at 256 KiB/s (4 regions of 64 KiB a second); fio
# writes 4 KiB blocks at random over regions 512-639, far ahead of the
# hydration, so nearly every write is a first write (a region copy).  Then
# the hydration must go on at its rate: at least 12 regions in the next
# 8 s (32 at the limit); and the view is still the point in time.
# timeout: 240
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"
require_cmd fio

brd_setup 3 64M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
RS=128
DEVS="$META $SRC $TGT $RS"
fill_random "$SRC"
PIT_IMG=$TEST_TMP/pit.img
save_image "$SRC" "$PIT_IMG"
dm_create org "0 $SZ replica clone sync $DEVS 0 2 copy_rate_max 256"
dm_create view "0 $SZ replica view clone $DEVS"
ORG=$(dm_dev org)

_hydrated_over() { (($(stv org in_sync) > $1)); }
wait_for 20 _hydrated_over 4 || fail "no hydration: $(dmsetup status org)"
st org
((ST[in_sync] < 400)) || fail "hydration ran past the rate limit: ${ST[line]}"

step "copy-on-write burst over regions 512-639"
fio --name=cow --filename="$ORG" --direct=1 --ioengine=libaio --iodepth=16 \
	--rw=randwrite --bs=4k --offset=32M --size=8M --io_size=4M --randrepeat=0 \
	--output="$TEST_TMP/fio.out" || fail "origin writes failed: $(tail -n 3 "$TEST_TMP/fio.out")"
st org
A=${ST[in_sync]}
log "after the burst: ${ST[line]}"
sleep 8
st org
B=${ST[in_sync]}
log "8 s later: ${ST[line]}"
((B - A >= 12)) ||
	fail "hydration stood still after the copy-on-write burst: $((B - A)) regions in 8 s at copy_rate_max 256 (4 a second)"
check_image "$(dm_dev view)" "$PIT_IMG" "view after the burst"
dm_remove view
dm_remove org
