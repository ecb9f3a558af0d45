#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# replicactl: snapshot and clone views (skipped while the module reports
# them unsupported).  Snapshot: the view keeps the point-in-time data while
# the source changes; Return To ResourcePool frees the space.  Clone: wait
# for Synchronized, Detach turns the view into a linear device on the target.
# timeout: 400
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/replicactl-lib.sh"

SRC=$(ramdisk 64M)
SZ=$(sectors "$SRC")
dd if=/dev/urandom of="$SRC" bs=1M count=16 oflag=direct status=none
PIT=$(sha256_dev "$SRC" "$SZ")
defer rctl_cleanup

rctl create-element-replica --sync-type snapshot --source-element "$SRC" \
	--target-pool "$POOL" --element-name snap --wait-for-copy-state synchronized
skip_if_unsupported
assert_eq "$(rv)" 0 "snapshot create"
assert_eq "$(jstr DeviceID)" /dev/mapper/snap "TargetElement is the view"
assert_match "$(dmsetup info -c --noheadings -o uuid snap)" '^DMREPLICA-.*-view$' "view uuid"
assert_match "$(dm_table snap)" "^view snapshot " "view table"
dd if=/dev/urandom of=/dev/mapper/snap-front bs=64k count=64 oflag=direct status=none
assert_eq "$(sha256_dev /dev/mapper/snap "$SZ")" "$PIT" "view keeps the PIT"
expect_rv 0 modify-replica-synchronization --operation "Restore from Replica" \
	--synchronization snap --wait-for-copy-state restored --timeout 120
assert_eq "$(sha256_dev /dev/mapper/snap-front "$SZ")" "$PIT" "source restored to the PIT"
dd if=/dev/urandom of=/dev/mapper/snap-front bs=64k count=16 seek=300 oflag=direct status=none
NOW=$(sha256_dev /dev/mapper/snap-front "$SZ")
expect_rv 0 modify-replica-synchronization --operation resync --synchronization snap
assert_eq "$(sha256_dev /dev/mapper/snap "$SZ")" "$NOW" "Resync takes a new point in time"
expect_rv 1 modify-replica-synchronization --operation fracture --synchronization snap
expect_rv 0 modify-replica-synchronization --operation return-to-pool --synchronization snap
expect_fail dmsetup info snap
expect_fail dmsetup info snap-front	# unused: removed with the relationship
[[ -z $(find "$POOL" -name 'snap-*') ]] || fail "pool space not returned"

PIT=$(sha256_dev "$SRC" "$SZ")
rctl create-element-replica --sync-type clone --source-element "$SRC" \
	--target-pool "$POOL" --element-name cl --wait-for-copy-state synchronized --timeout 180
skip_if_unsupported
assert_eq "$(rv)" 0 "clone create"
assert_eq "$(sha256_dev /dev/mapper/cl "$SZ")" "$PIT" "clone view content"
expect_rv 0 modify-replica-synchronization --operation detach --synchronization cl
assert_eq "$(dm_type cl)" linear "view after Detach"
assert_eq "$(sha256_dev /dev/mapper/cl "$SZ")" "$PIT" "detached clone content"
