#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Several snapshots of one source by stacking: the second origin uses the
# first origin device as its source.  Each view keeps its own point in time
# while writes go through the top origin.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"

brd_setup 5 64M
SRC=${RAMDISKS[0]}
META1=${RAMDISKS[1]} TGT1=${RAMDISKS[2]}
META2=${RAMDISKS[3]} TGT2=${RAMDISKS[4]}
SZ=$(sectors "$SRC")
RS=128

step "fill"
fill_random "$SRC"
save_image "$SRC" "$TEST_TMP/pit1.img"
dm_create org1 "0 $SZ replica snapshot sync $META1 $SRC $TGT1 $RS"
dm_create snap1 "0 $SZ replica view snapshot $META1 $SRC $TGT1 $RS"
ORG1=$(dm_dev org1)

J=(--direct=1 --ioengine=libaio --iodepth=16 --randrepeat=0 --output=/dev/null)
fio --name=w1 --filename="$ORG1" --rw=randwrite --bs=64k --io_size=4M "${J[@]}"
save_image "$ORG1" "$TEST_TMP/pit2.img"
cmp -s "$TEST_TMP/pit1.img" "$TEST_TMP/pit2.img" && fail "first origin did not change"

step "second snapshot"
dm_create org2 "0 $SZ replica snapshot sync $META2 $ORG1 $TGT2 $RS"
dm_create snap2 "0 $SZ replica view snapshot $META2 $ORG1 $TGT2 $RS"
ORG2=$(dm_dev org2)

fio --name=w2 --filename="$ORG2" --rw=randwrite --bs=4k --io_size=2M "${J[@]}"
fio --name=w3 --filename="$ORG2" --rw=randwrite --bs=64k --io_size=8M "${J[@]}"
fio --name=w4 --filename="$ORG2" --rw=randwrite --bs=4k --blockalign=512 --number_ios=300 "${J[@]}"
fio_verify "$ORG2" 2M --offset=40M --output=/dev/null

step "compare"
save_image "$ORG2" "$TEST_TMP/top.img"
check_image "$SRC" "$TEST_TMP/top.img" "source holds what the top origin wrote"
check_image "$(dm_dev snap1)" "$TEST_TMP/pit1.img" "first view"
check_image "$(dm_dev snap2)" "$TEST_TMP/pit2.img" "second view"
for d in org1 org2; do
	st $d
	assert_eq "${ST[state]} ${ST[health]} ${ST[copy_errors]}" "synchronized AA 0" "$d status"
	((ST[in_sync] > 0)) || fail "$d preserved no region"
done

# views stay independent: a write to the first view shows in neither the
# second view nor the origin
step "view write"
put "$(dm_dev snap1)" "$TEST_TMP/pit1.img" 1048576 65536
check_image "$(dm_dev snap1)" "$TEST_TMP/pit1.img" "first view after its write"
check_image "$(dm_dev snap2)" "$TEST_TMP/pit2.img" "second view after a first-view write"
check_image "$ORG2" "$TEST_TMP/top.img" "origin after a first-view write"
step "done"
dm_remove snap2
dm_remove org2
dm_remove snap1
dm_remove org1
