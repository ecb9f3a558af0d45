#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# LIO: a snapshot view exported read-only through tcm_loop refuses writes
# (write-protected LUN: the disk is read-only, a WRITE sent anyway fails, the
# point-in-time data is unchanged) while the front is exported read-write
# next to it.  LIO does not enforce read-only tcm_loop LUNs itself, so the
# view is created read-only (ReadOnly=SyncedElement) and a read-only loop
# export of a writable device is Not Supported (1); a backstore made by someone else (raw configfs, as targetcli
# would) makes export and Return To ResourcePool In Use (6); Return To
# ResourcePool removes this helper's exports first.
# timeout: 240
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/replicactl-lib.sh"
. "$SELFTESTS_DIR/lio-lib.sh"

require_cmd python3	# scsi_write10
lio_require tcm_loop

SRC=$(ramdisk 32M)
SZ=$(sectors "$SRC")
dd if=/dev/urandom of="$SRC" bs=1M count=8 oflag=direct status=none
PIT=$(sha256_dev "$SRC" "$SZ")
defer rctl_cleanup
defer lio_cleanup	# runs first: LIO holds the devices
rctl create-element-replica --sync-type snapshot --source-element "$SRC" \
	--target-pool "dir:$POOL" --element-name s1 --wait-for-copy-state synchronized \
	--replication-setting-data '{"ReadOnly":"SyncedElement"}'
skip_if_unsupported
[[ $(rv) == 0 ]] || fail "create: ReturnValue $(rv): $(cat "$TEST_TMP/rctl.err")"
SYNC=$(jstr InstanceID)
# the front is writable: a read-only tcm_loop LUN on it would not be enforced
expect_rv 1 export --synchronization "$SYNC" --read-only
[[ -z $(lio_backstores) ]] || fail "backstore left by a refused export: $(lio_backstores)"

expect_rv 0 export --synchronization "$SYNC" --view --read-only
VSD=$(jstr DeviceID)
assert_match "$VSD" '^/dev/sd[a-z]+$' "SCSI disk of the view"
assert_eq "$(jstr Device)" /dev/mapper/s1 "exported device is the view"
assert_match "$OUT" '"ReadOnly":true' "ReadOnly"
VBS=$(jstr Backstore)
assert_match "$(cat "$LIO/core/$VBS/info")" "readonly: 1" "backstore read-only"
wait_for 10 test -b "$VSD"
# write-protected LUN: sd marks the disk read-only (WP bit of MODE SENSE)
assert_eq "$(cat /sys/block/${VSD#/dev/}/ro)" 1 "read-only flag of the view's disk"
expect_fail dd if=/dev/zero of="$VSD" bs=4k count=1 oflag=direct status=none
# a WRITE sent anyway (SG_IO, past the block layer's check) is refused
expect_fail scsi_write10 "$VSD" 8
assert_match "$(cat "$TEST_TMP/expect_fail.out")" "status 0x02 " "refused WRITE(10): CHECK CONDITION"
assert_eq "$(sha256_dev /dev/mapper/s1 "$SZ")" "$PIT" "view unchanged after the refused WRITE"

# the front, read-write, beside it: writes go through, the view keeps the PIT
expect_rv 0 export --synchronization "$SYNC"
FSD=$(jstr DeviceID)
assert_eq "$(jstr Device)" /dev/mapper/s1-front "exported device is the front"
wait_for 10 test -b "$FSD"
dd if=/dev/urandom of="$FSD" bs=64k count=64 oflag=direct status=none
blockdev --flushbufs "$FSD"
assert_eq "$(sha256_dev "$VSD" "$SZ")" "$PIT" "view (over LIO) keeps the PIT"
assert_eq "$(sha256_dev /dev/mapper/s1 "$SZ")" "$PIT" "view keeps the PIT"

# unexport only the view, export it again read-write: two backstores now
expect_rv 0 unexport --synchronization s1 --view
assert_match "$OUT" "\"$VBS\"" "removed backstore"
[[ ! -e /sys/block/${VSD#/dev/} ]] || fail "$VSD still present after unexport"
assert_eq "$(lio_backstores | wc -l)" 1 "backstores after unexport --view"

# someone else's backstore over the view: In Use for export and for
# Return To ResourcePool, and nothing is changed
mkdir -p "$LIO/core/iblock_90/foreign"
echo "udev_path=/dev/mapper/s1,readonly=1" > "$LIO/core/iblock_90/foreign/control"
echo 1 > "$LIO/core/iblock_90/foreign/enable"
expect_rv 6 export --synchronization s1 --view
assert_match "$(cat "$TEST_TMP/rctl.err")" "iblock_90/foreign" "In Use names the backstore"
expect_rv 6 modify-replica-synchronization --operation return-to-pool --synchronization s1
assert_eq "$(lio_backstores | wc -l)" 2 "backstores after a refused Return To ResourcePool"
dmsetup info s1 >/dev/null
rmdir "$LIO/core/iblock_90/foreign" "$LIO/core/iblock_90"

# Return To ResourcePool removes the front's export, then the relationship
expect_rv 0 modify-replica-synchronization --operation return-to-pool --synchronization s1
[[ -z $(lio_backstores) ]] || fail "backstores left: $(lio_backstores)"
[[ -z $(lio_targets) ]] || fail "fabric targets left: $(lio_targets)"
[[ ! -e /sys/block/${FSD#/dev/} ]] || fail "$FSD still present"
expect_fail dmsetup info s1
