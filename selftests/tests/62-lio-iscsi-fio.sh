#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# LIO over iSCSI with the kernel's own initiator: open-iscsi (iscsid in the
# VM) logs in on 127.0.0.1 to an async mirror and a snapshot source exported
# by `replicactl export --fabric iscsi`; fio writes both SCSI disks with
# crc32c checksums and verifies them (fsync every 32 writes: SYNCHRONIZE
# CACHE over iSCSI).  Then the replica is checked against the source: the
# mirror's legs are equal once caught up, the SCSI disk reads the source
# leg, and the snapshot view still equals the point-in-time image.
# timeout: 420
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/replicactl-lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"
. "$SELFTESTS_DIR/lio-lib.sh"

require_cmd fio ip iscsid iscsiadm
lio_require iscsi_target_mod crc32c
defer lio_cleanup
ip link set lo up

MSRC=$(ramdisk 16M)
SZ=$(sectors "$MSRC")
defer rctl_cleanup
defer lio_cleanup	# runs first: LIO holds the devices
rctl create-element-replica --sync-type mirror --mode async --source-element "$MSRC" \
	--target-pool "dir:$POOL" --element-name am --wait-for-copy-state synchronized --timeout 60
skip_if_unsupported
[[ $(rv) == 0 ]] || fail "create mirror: ReturnValue $(rv): $(cat "$TEST_TMP/rctl.err")"
MTGT=$(jstr DeviceID)

SSRC=$(ramdisk 16M)
fill_random "$SSRC" 16
save_image "$SSRC" "$TEST_TMP/pit.img"
expect_rv 0 create-element-replica --sync-type snapshot --source-element "$SSRC" \
	--target-pool "dir:$POOL" --element-name sn --wait-for-copy-state synchronized

expect_rv 0 export --synchronization am --fabric iscsi
MIQN=$(jstr TargetName)
expect_rv 0 export --synchronization sn --fabric iscsi
SIQN=$(jstr TargetName)
assert_eq "$(jstr Device)" /dev/mapper/sn-front "exported device of the snapshot"

initiator_start	# stopped (sessions logged out) before the LIO cleanup
MSD=$(iscsi_login "$MIQN")
SSD=$(iscsi_login "$SIQN")
log "iSCSI disks: mirror $MSD, snapshot source $SSD"
assert_eq "$(sectors "$MSD")" "$SZ" "size of the mirror's iSCSI disk"
assert_eq "$(sectors "$SSD")" "$SZ" "size of the snapshot's iSCSI disk"
assert_eq "$(scsi_wc "$MSD")" "write back" "iSCSI disk write cache"

step "fio on the mirror"
fio_verify "$MSD" 8M --fsync=32
step "fio on the snapshot source"
fio_verify "$SSD" 8M --offset=4M --fsync=32
step "fio done"

# the mirror: caught up, both legs equal, and equal to what the initiator sees
wait_copy_state am 4 120 || fail "async mirror not synchronized: $(dmsetup status am)"
m_src=$(sha256_dev "$MSRC" "$SZ")
assert_eq "$(sha256_dev "$MTGT" "$SZ")" "$m_src" "mirror: target leg == source leg"
assert_eq "$(sha256_dev "$MSD" "$SZ")" "$m_src" "mirror: iSCSI disk == source leg"
# the snapshot: the view is the point in time, the source what was written
check_image /dev/mapper/sn "$TEST_TMP/pit.img" "snapshot view after fio on the source"
assert_eq "$(sha256_dev "$SSD" "$SZ")" "$(sha256_dev "$SSRC" "$SZ")" "snapshot: iSCSI disk == source"
[[ $(sha256_dev "$SSRC" "$SZ") != $(sha_file "$TEST_TMP/pit.img") ]] ||
	fail "the snapshot source did not change"
