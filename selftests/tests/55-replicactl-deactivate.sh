#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# replicactl: Deactivate (7) and Activate (4) on the kernel's "deactivate"
# and "start" messages.
#  mirror:   Deactivate -> Inactive, the target is left alone while the
#            source changes; a second Deactivate is 5; Activate copies the
#            changes -> Synchronized, legs equal.
#  snapshot: Deactivate (devices suspended by the helper) -> Inactive, the
#            view fails I/O; Activate takes a new point in time.
#  clone:    Deactivate -> Inactive, the view still shows the PIT; Activate
#            -> Synchronized.
# timeout: 400
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/replicactl-lib.sh"

grep -qw deactivate "$REPO/dm-replica/replica-target.c" ||
	skip "the module has no deactivate message"
SRC=$(ramdisk 32M)
SZ=$(sectors "$SRC")
dd if=/dev/urandom of="$SRC" bs=1M count=32 oflag=direct status=none
defer rctl_cleanup

rctl capabilities --sync-type mirror
jq -e '.ReplicationTypes[0].SupportedOperations | index(7)' <<<"$OUT" >/dev/null ||
	fail "Deactivate (7) not advertised for mirrors"

# ---- mirror ----
expect_rv 0 create-element-replica --sync-type mirror --mode async --source-element "$SRC" \
	--target-pool "$POOL" --element-name m --wait-for-copy-state synchronized --timeout 120
TGT=$POOL/m-target.img
expect_rv 0 modify-replica-synchronization --operation deactivate --synchronization m \
	--wait-for-copy-state inactive
assert_eq "$(jnum CopyState)" 8 "mirror CopyState after Deactivate"
expect_rv 5 modify-replica-synchronization --operation deactivate --synchronization m
expect_rv 5 modify-replica-synchronization --operation fracture --synchronization m
BEFORE=$(sha256sum < "$TGT")
dd if=/dev/urandom of=/dev/mapper/m bs=64k count=16 seek=100 oflag=direct status=none
sleep 1
assert_eq "$(sha256sum < "$TGT")" "$BEFORE" "mirror target untouched while inactive"
rctl get-replication-relationships --element m
assert_eq "$(jnum CopyState)" 8 "listed as Inactive"
expect_rv 0 modify-replica-synchronization --operation activate --synchronization m \
	--wait-for-copy-state synchronized --timeout 120
expect_rv 0 modify-replica-synchronization --operation split --synchronization m \
	--wait-for-copy-state split
assert_eq "$(head -c "$((SZ * 512))" "$TGT" | sha256sum | cut -d' ' -f1)" \
	"$(sha256_dev /dev/mapper/m "$SZ")" \
	"mirror legs equal after Activate"
expect_rv 0 modify-replica-synchronization --operation detach --synchronization m

# ---- snapshot ----
PIT=$(sha256_dev "$SRC" "$SZ")
expect_rv 0 create-element-replica --sync-type snapshot --source-element "$SRC" \
	--target-pool "$POOL" --element-name s --wait-for-copy-state synchronized
dd if=/dev/urandom of=/dev/mapper/s-front bs=64k count=16 seek=10 oflag=direct status=none
assert_eq "$(sha256_dev /dev/mapper/s "$SZ")" "$PIT" "view = PIT"
expect_rv 0 modify-replica-synchronization --operation deactivate --synchronization s \
	--wait-for-copy-state inactive
assert_eq "$(jnum CopyState)" 8 "snapshot CopyState after Deactivate"
expect_fail dd if=/dev/mapper/s of=/dev/null bs=4k count=1 iflag=direct status=none
expect_rv 5 modify-replica-synchronization --operation "Restore from Replica" --synchronization s
dd if=/dev/urandom of=/dev/mapper/s-front bs=64k count=16 seek=200 oflag=direct status=none
NOW=$(sha256_dev /dev/mapper/s-front "$SZ")
expect_rv 0 modify-replica-synchronization --operation activate --synchronization s \
	--wait-for-copy-state synchronized
assert_eq "$(sha256_dev /dev/mapper/s "$SZ")" "$NOW" "Activate takes a new point in time"
dd if=/dev/urandom of=/dev/mapper/s-front bs=64k count=16 seek=300 oflag=direct status=none
assert_eq "$(sha256_dev /dev/mapper/s "$SZ")" "$NOW" "the new PIT is preserved"
expect_rv 0 modify-replica-synchronization --operation return-to-pool --synchronization s

# ---- clone ----
PIT=$(sha256_dev "$SRC" "$SZ")
expect_rv 0 create-element-replica --sync-type clone --source-element "$SRC" \
	--target-pool "$POOL" --element-name c --wait-for-copy-state synchronized --timeout 180
expect_rv 0 modify-replica-synchronization --operation deactivate --synchronization c
assert_eq "$(jnum CopyState)" 8 "clone CopyState after Deactivate"
dd if=/dev/urandom of=/dev/mapper/c-front bs=64k count=16 seek=50 oflag=direct status=none
assert_eq "$(sha256_dev /dev/mapper/c "$SZ")" "$PIT" "clone view keeps the PIT while inactive"
expect_rv 0 modify-replica-synchronization --operation activate --synchronization c \
	--wait-for-copy-state synchronized --timeout 120
assert_eq "$(sha256_dev /dev/mapper/c "$SZ")" "$PIT" "clone view after Activate"
expect_rv 0 modify-replica-synchronization --operation return-to-pool --synchronization c
log "deactivate/activate: ok"
