#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# LIO and In Use (6): a device an LIO backstore holds open is In Use
# wherever an operation needs it free, the message names the backstore, and
# nothing is changed:
#  - CreateElementReplica with it as TargetElement or MetadataElement;
#  - Detach of a mirror and Return To ResourcePool of a snapshot whose
#    front another tool's backstore (raw configfs, as targetcli makes) holds;
#  - export of a front someone else exports already.
# With the foreign backstore gone, the same requests succeed; the helper's
# own export (an iSCSI LUN) is removed by Detach without complaint.
# timeout: 240
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/replicactl-lib.sh"
. "$SELFTESTS_DIR/lio-lib.sh"

lio_require
defer lio_cleanup

SRC=$(ramdisk 32M)
HELD=$(ramdisk 32M)
META=$(ramdisk 4M)
BS=$(lio_iblock 93 held "$HELD")
assert_match "$(cat "$BS/info")" "CLAIMED: IBLOCK" "the backstore claims $HELD"
defer rctl_cleanup
defer lio_cleanup	# runs first: LIO holds the devices
nodev() { [[ -z $(dmsetup ls 2>/dev/null | grep -v '^No devices found') ]]; }

# TargetElement and MetadataElement held by LIO
expect_rv 6 create-element-replica --sync-type mirror --source-element "$SRC" \
	--target-element "$HELD" --metadata-element "$META" --element-name m1
assert_match "$(cat "$TEST_TMP/rctl.err")" "TargetElement: $HELD is in use: the LIO backstore iblock_93/held holds it" "In Use message"
nodev || fail "devices left by a refused create: $(dmsetup ls)"
[[ -z $(find "$POOL" -type f) ]] || fail "pool files left by a refused create: $(find "$POOL" -type f)"
expect_rv 6 create-element-replica --sync-type snapshot --source-element "$SRC" \
	--target-pool "dir:$POOL" --metadata-element "$HELD" --element-name s1
assert_match "$(cat "$TEST_TMP/rctl.err")" "MetadataElement: $HELD is in use: the LIO backstore iblock_93/held holds it" "In Use message"
nodev || fail "devices left by a refused create: $(dmsetup ls)"
[[ -z $(find "$POOL" -type f) ]] || fail "pool files left by a refused create: $(find "$POOL" -type f)"
expect_rv 6 create-element-replica --sync-type clone --source-element "$HELD" \
	--target-pool "dir:$POOL" --element-name c1
assert_match "$(cat "$TEST_TMP/rctl.err")" "SourceElement: $HELD is in use: the LIO backstore iblock_93/held holds it" "In Use message"

# a mirror whose front someone else exports
expect_rv 0 create-element-replica --sync-type mirror --source-element "$SRC" \
	--target-pool "dir:$POOL" --element-name m1 --wait-for-copy-state synchronized --timeout 60
TGT=$(jstr DeviceID)
FBS=$(lio_iblock 94 foreign /dev/mapper/m1)
expect_rv 6 export --synchronization m1 --fabric iscsi
assert_match "$(cat "$TEST_TMP/rctl.err")" "iblock_94/foreign" "In Use names the backstore"
expect_rv 6 modify-replica-synchronization --operation detach --synchronization m1
assert_match "$(cat "$TEST_TMP/rctl.err")" "/dev/mapper/m1 is held by the LIO backstore iblock_94/foreign" "Detach: In Use message"
assert_eq "$(dm_type m1)" replica "Detach refused: the front is still a replica"
[[ -d $FBS ]] || fail "Detach refused: the foreign backstore is gone"
[[ -b $TGT ]] || fail "Detach refused: the target is gone"
rmdir "$FBS" "${FBS%/*}"

# Return To ResourcePool (snapshot) with the front held by someone else
SRC2=$(ramdisk 16M)
expect_rv 0 create-element-replica --sync-type snapshot --source-element "$SRC2" \
	--target-pool "dir:$POOL" --element-name s2 --wait-for-copy-state synchronized
FBS=$(lio_iblock 95 foreign2 /dev/mapper/s2-front)
expect_rv 6 modify-replica-synchronization --operation return-to-pool --synchronization s2
assert_match "$(cat "$TEST_TMP/rctl.err")" "/dev/mapper/s2-front is held by the LIO backstore iblock_95/foreign2" "Return To ResourcePool: In Use message"
assert_eq "$(dm_type s2-front) $(dm_type s2)" "replica replica" "Return To ResourcePool refused: nothing changed"
rmdir "$FBS" "${FBS%/*}"
expect_rv 0 modify-replica-synchronization --operation return-to-pool --synchronization s2

# the helper's own export is no obstacle: Detach removes it first
expect_rv 0 export --synchronization m1 --fabric iscsi
assert_eq "$(lio_backstores | grep -c replica-m1)" 1 "the helper's backstore"
expect_rv 0 modify-replica-synchronization --operation detach --synchronization m1
! lio_backstores | grep -q replica-m1 || fail "backstore left after Detach: $(lio_backstores)"
! lio_targets | grep -q iscsi/ || fail "iSCSI target left after Detach: $(lio_targets)"

# the held device is free again once the backstore is gone
rmdir "$BS" "${BS%/*}"
expect_rv 0 create-element-replica --sync-type mirror --source-element "$SRC" \
	--target-element "$HELD" --metadata-element "$META" --element-name m2 --wait-for-copy-state synchronized --timeout 60
expect_rv 0 modify-replica-synchronization --operation detach --synchronization m2
