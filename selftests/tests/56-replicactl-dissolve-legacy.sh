#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# replicactl: Dissolve (9) keeps a SynchronizationAspect record
# (get-synchronization-aspects) with the point in time; the legacy
# ModifySynchronization operations (modify-synchronization, 2..13) run as
# their ModifyReplicaSynchronization translations; Prepare, Unprepare,
# Failover answer 1.  Finished jobs: job delete, and gone after
# REPLICACTL_JOB_RETENTION.
# timeout: 400
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/replicactl-lib.sh"

SRC=$(ramdisk 32M)
SZ=$(sectors "$SRC")
dd if=/dev/urandom of="$SRC" bs=1M count=32 oflag=direct status=none
defer rctl_cleanup

# ---- mirror through the legacy operations ----
expect_rv 0 create-element-replica --sync-type mirror --source-element "$SRC" \
	--target-pool "$POOL" --element-name m --wait-for-copy-state synchronized --timeout 120
expect_rv 0 modify-synchronization --operation fracture --synchronization m
assert_eq "$(jnum TranslatedOperation)" 12 "legacy 3 -> Fracture"
assert_eq "$(jnum CopyState)" 6 "Fractured"
expect_rv 0 modify-synchronization --operation 4 --synchronization m \
	--wait-for-copy-state synchronized --timeout 120
assert_eq "$(jnum TranslatedOperation)" 14 "legacy 4 -> Resync Replica"
expect_rv 0 modify-synchronization --operation stop-copy --synchronization m
assert_eq "$(jnum TranslatedOperation)" 22 "legacy 13 -> Suspend"
assert_eq "$(jnum CopyState)" 9 "Suspended"
expect_rv 0 modify-synchronization --operation "Start Copy" --synchronization m \
	--wait-for-copy-state synchronized --timeout 120
assert_eq "$(jnum TranslatedOperation)" 16 "legacy 12 on a suspended mirror -> Resume"
expect_rv 0 modify-synchronization --operation quiesce --synchronization m
assert_eq "$(jnum CopyState)" 9 "Quiesce stops the copy engine"
expect_rv 0 modify-synchronization --operation unquiesce --synchronization m
expect_rv 0 modify-synchronization --operation reset-to-async --synchronization m
rctl get-replication-relationships --element m
assert_eq "$(jnum Mode)" 3 "legacy 11 -> Reset To Async"
expect_rv 1 modify-synchronization --operation prepare --synchronization m
expect_rv 1 modify-synchronization --operation unprepare --synchronization m
expect_rv 1 modify-replica-synchronization --operation failover --synchronization m
expect_rv 5 modify-synchronization --operation 14 --synchronization m

# ---- Dissolve of a split mirror: an aspect with the split time ----
expect_rv 0 modify-replica-synchronization --operation split --synchronization m \
	--wait-for-copy-state split
T0=$(date +%s)
SPLIT=$(sha256_dev /dev/mapper/m "$SZ")
expect_rv 0 modify-replica-synchronization --operation dissolve --synchronization m
ASPECT=$(grep -o '"InstanceID":"DMREPLICA:aspect:[^"]*"' <<<"$OUT" | cut -d'"' -f4)
[[ -n $ASPECT ]] || fail "no SettingsState out of Dissolve"
expect_fail dmsetup info m	# an unused front over a plain device goes away
rctl get-replication-relationships --element m
assert_eq "$(jstr ElementName)" "" "the relationship is gone"
expect_rv 0 get-synchronization-aspects --element m
assert_eq "$(jstr InstanceID)" "$ASPECT" "aspect listed"
PIT=$(jnum PointInTime)
((PIT > 0 && PIT <= T0)) || fail "aspect point in time $PIT is not the split time (<= $T0)"
assert_eq "$(jnum CopyStateAtDissolve)" 7 "aspect remembers Split"
TGT=$(jstr TargetDevice)
assert_eq "$(head -c "$((SZ * 512))" "$POOL/m-target.img" | sha256sum | cut -d' ' -f1)" "$SPLIT" \
	"the dissolved target ($TGT) holds the split image"
expect_rv 0 delete-synchronization-aspect --settings-state "$ASPECT"
expect_rv 0 get-synchronization-aspects
assert_eq "$(jstr InstanceID)" "" "aspect deleted"
expect_rv 5 delete-synchronization-aspect --settings-state "$ASPECT"
losetup -j "$POOL/m-target.img" | cut -d: -f1 | while read -r d; do losetup -d "$d"; done

# ---- clone: Start Copy activates a start_inactive clone; Dissolve keeps the PIT ----
PITSUM=$(sha256_dev "$SRC" "$SZ")
expect_rv 0 create-element-replica --sync-type clone --source-element "$SRC" \
	--target-pool "$POOL" --element-name c --wait-for-copy-state initialized
expect_rv 0 modify-synchronization --operation start-copy --synchronization c \
	--wait-for-copy-state synchronized --timeout 180
assert_eq "$(jnum TranslatedOperation)" 4 "legacy 12 on an initialized clone -> Activate"
expect_rv 0 modify-replica-synchronization --operation 9 --synchronization c
expect_rv 0 get-synchronization-aspects --element c
(($(jnum PointInTime) > 0)) || fail "clone aspect without the kernel point in time"
assert_eq "$(dm_type c)" linear "clone view is linear on the target after Dissolve"
assert_eq "$(sha256_dev /dev/mapper/c "$SZ")" "$PITSUM" "dissolved clone content"
dmsetup remove c

# ---- snapshot: no Dissolve, no Quiesce ----
expect_rv 0 create-element-replica --sync-type snapshot --source-element "$SRC" \
	--target-pool "$POOL" --element-name s --wait-for-copy-state synchronized
expect_rv 1 modify-replica-synchronization --operation dissolve --synchronization s
expect_rv 1 modify-synchronization --operation quiesce --synchronization s
expect_rv 1 modify-synchronization --operation detach --synchronization s
expect_rv 0 modify-replica-synchronization --operation return-to-pool --synchronization s

# ---- job cleanup: a finished job stays for REPLICACTL_JOB_RETENTION ----
SRC2=$(ramdisk 64M)
dd if=/dev/urandom of="$SRC2" bs=1M count=64 oflag=direct status=none
rctl create-element-replica --sync-type clone --source-element "$SRC2" \
	--target-pool "$POOL" --element-name j --wait-for-copy-state synchronized
assert_match "$(rv)" '^(0|4096)$' "clone create"
if [[ $(rv) == 4096 ]]; then
	JOB=$(job_of)
	rctl job delete "$JOB"	# still running: 6 In Use; finished: 0
	assert_match "$(rv)" '^(0|6)$' "job delete"
	if [[ $(rv) == 6 ]]; then
		expect_rv 0 job wait "$JOB" --timeout 180
		rctl job list
		assert_match "$OUT" "$JOB" "a finished job is listed until its retention ends"
		expect_rv 0 job delete "$JOB"
	fi
	expect_rv 5 job show "$JOB"
else
	log "the clone hydrated at once: no job to clean up"
fi
rctl modify-replica-synchronization --operation resync --synchronization j \
	--wait-for-copy-state synchronized --force
if [[ $(rv) == 4096 ]]; then
	JOB=$(job_of)
	expect_rv 0 job wait "$JOB" --timeout 180
	REPLICACTL_JOB_RETENTION=0 expect_rv 0 job list
	assert_eq "$(job_of)" "" "retention 0: finished jobs are gone"
	expect_rv 5 job show "$JOB"
fi
expect_rv 0 modify-replica-synchronization --operation return-to-pool --synchronization j
log "dissolve/legacy: ok"
