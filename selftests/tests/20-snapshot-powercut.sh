#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Snapshot power cut: metadata, source and target sit on dm-flakey; during
# origin writes all three switch to drop_writes at once (nothing written
# from then on reaches the disks), the tables are torn down and, with the
# disks back, re-created.  The metadata loads and the view still shows the
# point in time.  Twice, the second time over the reloaded metadata.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"

brd_setup 3 64M
SZ=$(sectors "${RAMDISKS[1]}")
RS=128
FL=(fmeta fsrc ftgt)
for i in 0 1 2; do
	dm_create "${FL[i]}" "0 $SZ flakey ${RAMDISKS[i]} 0 180 0"
done
META=$(dm_dev fmeta) SRC=$(dm_dev fsrc) TGT=$(dm_dev ftgt)
DEVS="$META $SRC $TGT $RS"

# power_cut: every write from now on is dropped (and reported done)
power_cut() {
	local d
	for d in "${FL[@]}"; do dmsetup suspend --nolockfs "$d"; done
	for i in 0 1 2; do
		dmsetup load "${FL[i]}" --table "0 $SZ flakey ${RAMDISKS[i]} 0 0 180 1 drop_writes"
	done
	for d in "${FL[@]}"; do dmsetup resume "$d"; done
}
power_back() {
	for i in 0 1 2; do
		dmsetup suspend --nolockfs "${FL[i]}"
		dmsetup load "${FL[i]}" --table "0 $SZ flakey ${RAMDISKS[i]} 0 180 0"
		dmsetup resume "${FL[i]}"
	done
}
_preserved_over() { (($(stv org in_sync) > $1)); }

fill_random "$SRC"
PIT_IMG=$TEST_TMP/pit.img
save_image "$SRC" "$PIT_IMG"
dm_create org "0 $SZ replica snapshot sync $DEVS"
dm_create snap "0 $SZ replica view snapshot $DEVS"
ORG=$(dm_dev org) SNAP=$(dm_dev snap)
UUID=$(stv org uuid)

for round in 1 2; do
	# each round writes its own 16 MiB (256 regions), so that some regions
	# are still to preserve when the power goes
	fio_load "$ORG" 60 --bs=4k --blockalign=512 --offset=$(((round - 1) * 16))M --size=16M &
	FIO=$!
	wait_for 30 _preserved_over $((round * 100)) || fail "round $round: too few regions preserved"
	power_cut
	# writes go on for a moment after the cut, into the void
	I=$(stv org in_sync)
	wait_for 10 _preserved_over $((I + 20)) || log "round $round: few writes after the cut"
	kill -0 "$FIO" 2>/dev/null || fail "round $round: the writer stopped before the cut was over"
	stop_bg "$FIO"
	log "round $round: cut at $I regions preserved; $(dmsetup status org)"
	dm_remove snap
	dm_remove org
	power_back
	drop_caches

	dm_create org "0 $SZ replica snapshot sync $DEVS"
	dm_create snap "0 $SZ replica view snapshot $DEVS"
	st org
	log "round $round: re-created: ${ST[line]}"
	assert_eq "${ST[uuid]} ${ST[state]} ${ST[health]} ${ST[md]}" "$UUID synchronized AA rw" \
		"round $round: relationship after the cut"
	check_image "$SNAP" "$PIT_IMG" "round $round: view after the power cut"
done

fio_verify "$ORG" 8M --offset=8M --output=/dev/null
check_image "$SNAP" "$PIT_IMG" "view after origin writes following the power cuts"
dm_remove snap
dm_remove org
