#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# replicactl: return values the kernel side decides - In Use (6) for a
# claimed source, Timeout (3) leaving the relationship in place, and a
# failure half-way that leaves the source's table and the pool as they were.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/replicactl-lib.sh"

SRC=$(ramdisk 64M)
SZ=$(sectors "$SRC")
SMALL=$(ramdisk 1M)
T=$(ramdisk 64M)
BIG=$(ramdisk 1G)
defer rctl_cleanup

expect_rv 5 create-element-replica --sync-type mirror --source-element "$SRC" \
	--target-element "$SMALL" --metadata-element "$T"
expect_rv 1 create-element-replica --sync-type mirror --source-element "$SRC" \
	--target-pool "$POOL" --source-access-point remote

# a source claimed by someone else
dm_create hold "0 $SZ linear $SRC 0"
expect_rv 6 create-element-replica --sync-type mirror --source-element "$SRC" --target-pool "$POOL"
dm_remove hold

# Timeout leaves the relationship in place
rctl create-element-replica --sync-type mirror --source-element "$BIG" --target-pool "$POOL" \
	--element-name slow --wait-for-copy-state synchronized --timeout 1 \
	--replication-setting-data '{"CopyPriority":"Low"}'
skip_if_unsupported
assert_match "$(rv)" '^(0|3)$' "ReturnValue"
[[ $(rv) == 3 ]] && assert_eq "$RC" 3 "exit status of a timeout"
expect_rv 0 get-replication-relationships --element slow
assert_match "$OUT" 'DMREPLICA:sync:' "relationship kept after Timeout"
expect_rv 6 create-element-replica --sync-type mirror --source-element "$BIG" --target-pool "$POOL"
expect_rv 0 get-replication-relationships --element slow
META=$(jstr Metadata)
assert_match "$META" '^/dev/' "metadata device"
expect_rv 6 create-element-replica --sync-type mirror --source-element "$SRC" \
	--target-element "$T" --metadata-element "$META"

# a failure half-way (here: the kernel refusing a snapshot, or a clash on the
# view name) must leave the volume's table and the pool untouched
dm_create vol "0 $SZ linear $SRC 0"
BEFORE=$(dm_table vol)
dm_create s1 "0 8 zero"
NFILES=$(find "$POOL" -type f | wc -l)
rctl create-element-replica --sync-type snapshot --source-element vol --target-pool "$POOL" \
	--element-name s1
assert_match "$(rv)" '^(1|4|5)$' "ReturnValue of a clashing request"
assert_eq "$(dm_table vol)" "$BEFORE" "volume table after a failed create"
expect_fail dmsetup info s1-real
assert_eq "$(find "$POOL" -type f | wc -l)" "$NFILES" "pool files after a failed create"
dm_remove s1
# a metadata device that fails every write: the pool target allocated
# before it must be freed again
dm_create badmeta "0 2048 error"
rctl create-element-replica --sync-type mirror --source-element vol --target-pool "$POOL" \
	--metadata-element badmeta --element-name m9
assert_eq "$(rv)" 4 "ReturnValue with a failing metadata device"
assert_eq "$(dm_table vol)" "$BEFORE" "volume table after a failed create"
assert_eq "$(find "$POOL" -type f | wc -l)" "$NFILES" "pool files after a failed create"
expect_fail dmsetup info m9-real
dm_remove badmeta
rctl create-element-replica --sync-type snapshot --source-element vol --target-pool "$POOL" \
	--element-name s1
if [[ $(rv) == 1 ]]; then
	log "snapshot not in the module yet: checking the undo"
	assert_eq "$(dm_table vol)" "$BEFORE" "volume table after an unsupported create"
	expect_fail dmsetup info s1-real
	assert_eq "$(find "$POOL" -type f | wc -l)" "$NFILES" "pool files after an unsupported create"
else
	assert_eq "$(rv)" 0 "snapshot create"
	expect_rv 0 modify-replica-synchronization --operation return-to-pool --synchronization s1
	assert_eq "$(dm_table vol)" "$BEFORE" "volume table after Return To ResourcePool"
fi
