#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# selftests/demo.sh: what `make demo` runs inside the VM.  A source volume
# gets a synchronous mirror, a snapshot and a clone through replicactl;
# each shows its status and progress, and its data is checked.
. "$(dirname "$0")/lib.sh"
. "$SELFTESTS_DIR/replicactl-lib.sh"

say() { printf '\n>>> %s\n' "$*"; }
show() { echo "\$ replicactl $*"; "$RCTL" "$@"; }
same() {	# same WHAT DEV_A DEV_B
	local a b
	a=$(sha256_dev "$2" "$SZ") b=$(sha256_dev "$3" "$SZ")
	[[ $a == "$b" ]] || fail "$1: $2 and $3 differ"
	echo "$1: $2 and $3 hold the same data (sha256 ${a:0:16}...)"
}

# the source and the pool's sparse files live on loop devices
modprobe loop 2>/dev/null || true
if [[ ! -d /sys/module/dm_replica ]]; then
	replica_load
	defer rmmod dm_replica
fi
say "dm-replica loaded on $KERNEL_RELEASE"
dmsetup targets | grep -E '^replica'
defer rctl_cleanup

say "source volume: a 64 MiB disk with 16 MiB of data"
SRC=$(ramdisk 64M)
SZ=$(sectors "$SRC")
dd if=/dev/urandom of="$SRC" bs=1M count=16 oflag=direct status=none

say "synchronous mirror (SyncType 6, Mode 2), waiting for Synchronized"
show create-element-replica --sync-type mirror --mode sync --source-element "$SRC" \
	--target-pool "$POOL" --element-name demo-mirror \
	--wait-for-copy-state synchronized --timeout 120
rctl get-replication-relationships --element demo-mirror
TGT=$(jstr DeviceID)
dmsetup status demo-mirror
dd if=/dev/urandom of=/dev/mapper/demo-mirror bs=64k count=32 seek=100 oflag=direct status=none
same "mirror legs after a write" /dev/mapper/demo-mirror "$TGT"
show modify-replica-synchronization --operation detach --synchronization demo-mirror

say "snapshot (SyncType 7): the view keeps the point in time"
PIT=$(sha256_dev "$SRC" "$SZ")
show create-element-replica --sync-type snapshot --source-element "$SRC" \
	--target-pool "$POOL" --element-name demo-snap --wait-for-copy-state synchronized
dd if=/dev/urandom of=/dev/mapper/demo-snap-front bs=64k count=64 oflag=direct status=none
dmsetup status demo-snap
[[ $(sha256_dev /dev/mapper/demo-snap "$SZ") == "$PIT" ]] || fail "snapshot view changed"
echo "snapshot view still holds the point-in-time data after 4 MiB of source writes"
show get-replication-relationships --sync-type snapshot
show modify-replica-synchronization --operation return-to-pool --synchronization demo-snap

say "clone (SyncType 8): usable at once, hydrated in the background"
PIT=$(sha256_dev "$SRC" "$SZ")
rctl create-element-replica --sync-type clone --source-element "$SRC" \
	--target-pool "$POOL" --element-name demo-clone
echo "ReturnValue $(rv), Job $(jstr InstanceID)"
dmsetup status demo-clone
[[ $(sha256_dev /dev/mapper/demo-clone "$SZ") == "$PIT" ]] || fail "clone view differs"
echo "clone view equals the source at the point in time, while hydrating"
wait_copy_state demo-clone 4 180 || fail "clone did not reach Synchronized"
show get-replication-relationships --element demo-clone
show modify-replica-synchronization --operation detach --synchronization demo-clone
dmsetup table demo-clone
[[ $(sha256_dev /dev/mapper/demo-clone "$SZ") == "$PIT" ]] || fail "detached clone differs"
echo "detached clone is a plain linear device with the point-in-time data"
dm_remove demo-clone 2>/dev/null || true

say "demo done"
