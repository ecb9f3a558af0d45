#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A rate-limited background copy goes in region order.  The copier's scan
# cursor used to move past the region it had picked even when that region
# was then not copied (the rate budget empty): under copy_rate_max every
# worker run skipped one region, so hydration ran 0, 2, 4, ... and came
# back for the skipped ones only after the cursor wrapped.
#
# A clone hydrating at 256 KiB/s (4 regions of 64 KiB a second) for some
# seconds, then suspended (which commits); the committed bitmap, read with
# replica-mdump, must hold exactly the regions 0 .. N-1.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"
MDUMP=$REPO/userspace/replica-mdump
[[ -x $MDUMP ]] || skip "userspace/replica-mdump is not built (make -C userspace)"

brd_setup 3 64M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
RS=128
DEVS="$META $SRC $TGT $RS"
fill_random "$SRC"
dm_create org "0 $SZ replica clone sync $DEVS 0 2 copy_rate_max 256"

_hydrated_over() { (($(stv org in_sync) > $1)); }
wait_for 60 _hydrated_over 16 || fail "no hydration: $(dmsetup status org)"
dmsetup suspend org
st org
log "suspended: ${ST[line]}"
blockdev --flushbufs "$META"
"$MDUMP" "$META" > "$TEST_TMP/mdump.out" || fail "metadata does not load: $(head -n 1 "$TEST_TMP/mdump.out")"
# the set bits as region numbers, ascending
bits=$(sed -n 's/^bits //p' "$TEST_TMP/mdump.out")
[[ -n $bits ]] || fail "no bitmap in replica-mdump's output: $(cat "$TEST_TMP/mdump.out")"
copied=$(python3 -c '
import sys
b = bytes.fromhex(sys.argv[1])
print(" ".join(str(i) for i in range(len(b) * 8) if b[i // 8] >> (i % 8) & 1))' "$bits")
n=$(wc -w <<<"$copied")
log "committed copied regions ($n): $(cut -d' ' -f1-40 <<<"$copied")"
((n >= 16)) || fail "only $n regions committed as copied (status: ${ST[line]})"
expect=$(seq -s' ' 0 $((n - 1)))
[[ $copied == "$expect" ]] ||
	fail "hydration out of order: copied regions are not 0..$((n - 1)): $(cut -d' ' -f1-24 <<<"$copied") ..."
dmsetup resume org
dm_remove org
