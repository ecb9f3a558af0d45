#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Clone power cut: metadata, source and target sit on dm-flakey; during
# hydration and origin writes all three switch to drop_writes at once, the
# tables are torn down and, with the disks back, re-created.  The metadata
# loads, the view still shows the point in time, hydration resumes and the
# target ends equal to the point-in-time image.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"

brd_setup 3 64M
SZ=$(sectors "${RAMDISKS[1]}")
RS=128
NR=$((SZ / RS))
FL=(fmeta fsrc ftgt)
for i in 0 1 2; do
	dm_create "${FL[i]}" "0 $SZ flakey ${RAMDISKS[i]} 0 180 0"
done
META=$(dm_dev fmeta) SRC=$(dm_dev fsrc) TGT=$(dm_dev ftgt)
DEVS="$META $SRC $TGT $RS"
ORG_T="0 $SZ replica clone sync $DEVS 0 4 copy_rate_max 1024 copy_rate_min 1024"

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
_in_sync_over() { (($(stv org in_sync) > $1)); }

fill_random "$SRC"
fill_random "$TGT"
PIT_IMG=$TEST_TMP/pit.img
save_image "$SRC" "$PIT_IMG"
dm_create org "$ORG_T"
dm_create view "0 $SZ replica view clone $DEVS"
ORG=$(dm_dev org) VIEW=$(dm_dev view)
UUID=$(stv org uuid)

for round in 1 2; do
	fio_load "$ORG" 30 --bs=4k --blockalign=512 --size=16M --offset=$(((round - 1) * 16))M &
	FIO=$!
	wait_for 30 _in_sync_over $((round * 150)) || fail "round $round: too little progress"
	power_cut
	# hydration and writes go on for a moment after the cut, into the void
	I=$(stv org in_sync)
	wait_for 10 _in_sync_over $((I + 30)) || log "round $round: little progress after the cut"
	stop_bg "$FIO"
	log "round $round: cut at $I; $(dmsetup status org)"
	dm_remove view
	dm_remove org
	power_back
	drop_caches

	dm_create org "$ORG_T"
	dm_create view "0 $SZ replica view clone $DEVS"
	st org
	log "round $round: re-created: ${ST[line]}"
	assert_eq "${ST[uuid]} ${ST[state]} ${ST[health]} ${ST[md]}" "$UUID unsynchronized AA rw" \
		"round $round: relationship after the cut"
	check_image "$VIEW" "$PIT_IMG" "round $round: view after the power cut"
done

dmsetup message org 0 set copy_rate_max 0
wait_state 120 org synchronized completed
assert_eq "$(stv org in_sync)/$NR" "$NR/$NR" "hydrated"
check_image "$VIEW" "$PIT_IMG" "view after hydration"
dm_remove view
dm_remove org
drop_caches
check_image "${RAMDISKS[2]}" "$PIT_IMG" "target alone after hydration"
