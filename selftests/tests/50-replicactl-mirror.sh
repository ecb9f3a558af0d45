#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# replicactl: a synchronous mirror through the CIM-shaped CLI - create from a
# directory pool waiting for Synchronized, fracture, a failed precondition
# (5), resync, split, detach - and the data on both legs.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/replicactl-lib.sh"

SRC=$(ramdisk 64M)
SZ=$(sectors "$SRC")
dd if=/dev/urandom of="$SRC" bs=1M count=16 oflag=direct status=none
defer rctl_cleanup

rctl create-element-replica --sync-type mirror --source-element "$SRC" \
	--target-pool "dir:$POOL" --element-name m1 \
	--wait-for-copy-state synchronized --timeout 180
skip_if_unsupported
[[ $(rv) == 0 ]] || fail "create: ReturnValue $(rv): $(cat "$TEST_TMP/rctl.err")"
assert_eq "$RC" 0 "exit status"
SYNC=$(jstr InstanceID)
TGT=$(jstr DeviceID)
assert_match "$SYNC" '^DMREPLICA:sync:[0-9a-f-]{36}$' "Synchronization"
assert_match "$(dmsetup info -c --noheadings -o uuid m1)" '^DMREPLICA-.*-front$' "dm uuid"
assert_match "$(dm_table m1)" "^mirror sync " "front table"
assert_eq "$(sectors /dev/mapper/m1)" "$SZ" "front size"

# writes through the front reach both legs
dd if=/dev/urandom of=/dev/mapper/m1 bs=64k count=64 seek=100 oflag=direct status=none

expect_rv 0 get-replication-relationships --sync-type mirror --copy-state synchronized
assert_eq "$(jnum CopyState)" 4 "CopyState"
assert_eq "$(jnum PercentSynced)" 100 "PercentSynced"
assert_eq "$(jstr InstanceID)" "$SYNC" "listed relationship"

expect_rv 0 modify-replica-synchronization --operation fracture --synchronization "$SYNC"
assert_eq "$(jnum CopyState)" 6 "CopyState after Fracture"
dd if=/dev/urandom of=/dev/mapper/m1 bs=64k count=32 seek=600 oflag=direct status=none
expect_rv 5 modify-replica-synchronization --operation Fracture --synchronization "$SYNC"
expect_rv 5 modify-replica-synchronization --operation 21 --synchronization m1

expect_rv 0 modify-replica-synchronization --operation "Resync Replica" \
	--synchronization "$SYNC" --wait-for-copy-state synchronized --timeout 120
assert_eq "$(jnum CopyState)" 4 "CopyState after Resync"
expect_rv 0 modify-replica-synchronization --operation split --synchronization "$SYNC"
assert_eq "$(jnum CopyState)" 7 "CopyState after Split"

# Detach while the front is open: it stays, as a linear device on the source
exec 8</dev/mapper/m1
expect_rv 0 modify-replica-synchronization --operation detach --synchronization "$SYNC"
exec 8<&-
assert_eq "$(dm_type m1)" linear "front after Detach"
assert_eq "$(sha256_dev /dev/mapper/m1 "$SZ")" "$(sha256_dev "$TGT" "$SZ")" "target == source"
dmsetup remove m1
expect_rv 0 get-replication-relationships
[[ $OUT != *DMREPLICA:sync:* ]] || fail "relationship still listed after Detach"
