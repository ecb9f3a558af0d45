#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# replicactl: an asynchronous mirror of a dm-linear volume reloaded in place,
# a Job (4096) that completes at Synchronized, Reset To Sync, a simulated
# reboot brought back by `assemble`, records rebuilt from the kernel, and
# Detach restoring the volume's original table.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/replicactl-lib.sh"

SRC=$(ramdisk 128M)
SZ=$(sectors "$SRC")
dd if=/dev/urandom of="$SRC" bs=1M count=32 oflag=direct status=none
dm_create vol "0 $SZ linear $SRC 0"
ORIG=$(dm_table vol)
defer rctl_cleanup

rctl create-element-replica --sync-type 6 --mode async --source-element vol \
	--target-pool "$POOL" --element-name a1 --wait-for-copy-state Synchronized \
	--replication-setting-data 'instance of CIM_ReplicationSettingData { CopyPriority = 1; };'
skip_if_unsupported
assert_eq "$RC" 0 "exit status"
assert_match "$(rv)" '^(0|4096)$' "ReturnValue"
assert_match "$(dm_table vol)" "^mirror async " "volume reloaded in place"
if [[ $(rv) == 4096 ]]; then
	JOB=$(job_of)
	assert_match "$JOB" '^DMREPLICA:job:' "Job"
	expect_rv 0 job show "$JOB"
	assert_match "$(jnum JobState)" '^(4|7)$' "JobState while running"
	expect_rv 0 job wait "$JOB" --timeout 180
	assert_eq "$(jnum JobState)" 7 "JobState"
	assert_eq "$(jnum PercentComplete)" 100 "PercentComplete"
	assert_match "$(tr -d ' \n' <<<"$OUT")" '"OperationalStatus":\[2,17\]' "OperationalStatus"
fi
expect_rv 0 modify-replica-synchronization --operation reset-to-sync --synchronization a1
assert_match "$(dm_table vol)" "^mirror sync " "mode after Reset To Sync"

# "reboot": all dm devices and loop devices go away, the state dir stays
dm_remove vol
dmsetup remove a1-real
for f in "$POOL"/*.img; do losetup -j "$f" | cut -d: -f1 | while read -r d; do losetup -d "$d"; done; done
dm_create vol "0 $SZ linear $SRC 0"
expect_rv 0 assemble
assert_match "$(dm_table vol)" "^mirror sync " "assembled in place"
expect_rv 0 get-replication-relationships --element vol
assert_eq "$(jstr ElementName)" a1 "ElementName"

# lost records are rebuilt from the kernel
rm -rf "$REPLICACTL_STATE_DIR/syncs"
expect_rv 0 get-replication-relationships
assert_eq "$(jstr ElementName)" a1 "ElementName rebuilt"
wait_copy_state a1 4 120
expect_rv 0 modify-replica-synchronization --operation detach --synchronization a1
assert_eq "$(dm_table vol)" "$ORIG" "original table back"
expect_fail dmsetup info a1-real
