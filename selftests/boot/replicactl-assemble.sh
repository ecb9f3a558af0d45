#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# replicactl across a crash: a synchronous mirror on persistent disks is
# created with replicactl, written to, and the VM crashes (no clean
# shutdown); after the reboot `replicactl assemble` finds the metadata by its
# superblock, brings the relationship back under the same Synchronization
# ID, the mirror resynchronizes, and after Detach the target holds exactly
# what was written.
# vm-disks: 128M 128M 16M
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/replicactl-lib.sh"
export REPLICACTL_STATE_DIR=$BOOT_STATE/replicactl

SRC=$(boot_disk 0)
TGT=$(boot_disk 1)
META=$(boot_disk 2)
SZ=$(sectors "$SRC")

case $BOOT_PHASE in
phase1)
	dd if=/dev/urandom of="$SRC" bs=1M count=32 oflag=direct status=none
	rctl create-element-replica --sync-type mirror --source-element "$SRC" \
		--target-element "$TGT" --metadata-element "$META" --element-name r1 \
		--wait-for-copy-state synchronized --timeout 180
	skip_if_unsupported
	assert_eq "$(rv)" 0 "create"
	jstr InstanceID > "$BOOT_STATE/sync"
	dd if=/dev/urandom of=/dev/mapper/r1 bs=64k count=128 seek=700 \
		oflag=direct,sync status=none
	sha256_dev /dev/mapper/r1 "$SZ" > "$BOOT_STATE/sum"
	next_phase phase2
	crash_now
	;;
phase2)
	[[ -s $BOOT_STATE/sum ]] || fail "no checksum from phase1"
	defer rctl_cleanup
	expect_rv 0 assemble
	assert_match "$(dm_table r1)" "^mirror sync " "assembled origin"
	expect_rv 0 get-replication-relationships --element r1
	assert_eq "$(jstr InstanceID)" "$(cat "$BOOT_STATE/sync")" "Synchronization ID"
	assert_eq "$(sha256_dev /dev/mapper/r1 "$SZ")" "$(cat "$BOOT_STATE/sum")" "data after the crash"
	wait_copy_state r1 4 180
	expect_rv 0 modify-replica-synchronization --operation detach --synchronization r1
	assert_eq "$(sha256_dev "$TGT" "$SZ")" "$(cat "$BOOT_STATE/sum")" "target after resync"
	;;
*)
	fail "unknown phase '$BOOT_PHASE'"
	;;
esac
