#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# replicactl: Reverse Roles (20) of a synchronized mirror over a plain
# source.  Not Synchronized: 5.  Synchronized: the front carries a mirror
# from the old target to the old source (a full copy), its data unchanged;
# new writes reach the old source as the target; Detach leaves the front's
# data on the old target.  A source reloaded in place: 1.
# timeout: 400
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/replicactl-lib.sh"

SRC=$(ramdisk 32M)
SZ=$(sectors "$SRC")
dd if=/dev/urandom of="$SRC" bs=1M count=32 oflag=direct status=none
defer rctl_cleanup

expect_rv 0 create-element-replica --sync-type mirror --source-element "$SRC" \
	--target-pool "$POOL" --element-name m --wait-for-copy-state synchronized --timeout 120
TGT=$(losetup -j "$POOL/m-target.img" | cut -d: -f1)
[[ -b $TGT ]] || fail "no loop device on the target file"
expect_rv 0 modify-replica-synchronization --operation fracture --synchronization m
expect_rv 5 modify-replica-synchronization --operation "Reverse Roles" --synchronization m
expect_rv 0 modify-replica-synchronization --operation resync --synchronization m \
	--wait-for-copy-state synchronized --timeout 120
BEFORE=$(sha256_dev /dev/mapper/m "$SZ")
expect_rv 0 modify-replica-synchronization --operation "Reverse Roles" --synchronization m \
	--wait-for-copy-state synchronized --timeout 180
assert_eq "$(sha256_dev /dev/mapper/m "$SZ")" "$BEFORE" "front data unchanged by Reverse Roles"
read -r _ _ _ _ _ _ SRC_DEV TGT_DEV _ < <(dmsetup table m)
assert_eq "$SRC_DEV" "$(stat -Lc '%t:%T' "$TGT" | { IFS=: read -r a b; echo "$((16#$a)):$((16#$b))"; })" \
	"the old target is the source"
assert_eq "$TGT_DEV" "$(stat -Lc '%t:%T' "$SRC" | { IFS=: read -r a b; echo "$((16#$a)):$((16#$b))"; })" \
	"the old source is the target"
rctl get-replication-relationships --element m
assert_eq "$(jq -r '.Synchronizations[0].DmReplica.Source' <<<"$OUT")" "$TGT" "record: source"
assert_eq "$(jq -r '.Synchronizations[0].DmReplica.Target' <<<"$OUT")" "$SRC" "record: target"
# new writes are mirrored to the old source
dd if=/dev/urandom of=/dev/mapper/m bs=64k count=32 seek=64 oflag=direct status=none
expect_rv 0 modify-replica-synchronization --operation split --synchronization m \
	--wait-for-copy-state split
NOW=$(sha256_dev /dev/mapper/m "$SZ")
assert_eq "$(sha256_dev "$SRC" "$SZ")" "$NOW" "old source = front after split"
expect_rv 0 modify-replica-synchronization --operation detach --synchronization m
assert_eq "$(sha256_dev "$TGT" "$SZ")" "$NOW" "old target keeps the data after Detach"

# ---- a dm-linear source is reloaded in place: no Reverse Roles ----
SRC2=$(ramdisk 16M)
SZ2=$(sectors "$SRC2")
dm_create vol "0 $SZ2 linear $SRC2 0"
expect_rv 0 create-element-replica --sync-type mirror --source-element vol \
	--target-pool "$POOL" --element-name v --wait-for-copy-state synchronized --timeout 120
expect_rv 1 modify-replica-synchronization --operation reverse-roles --synchronization v
assert_eq "$(dm_type vol)" replica "nothing changed"
expect_rv 0 modify-replica-synchronization --operation detach --synchronization v
log "reverse roles: ok"
