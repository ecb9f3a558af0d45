#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# replicactl: TargetPool as an LVM volume group (lvm:VG).  A VG on a
# ramdisk; lvm runs without udev (LVM_SYSTEM_DIR with its own lvm.conf).
# Mirror of an LV of the VG (reloaded in place) with target and metadata
# LVs from the pool: Detach frees the metadata LV and keeps the target LV.
# Snapshot of a plain device: Return To ResourcePool removes both LVs.
# Bad pools and a pool without space: 5 / 4, and nothing is left behind.
# timeout: 400
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/replicactl-lib.sh"
require_cmd lvcreate lvremove vgcreate pvcreate lvs

PV=$(ramdisk 200M)
# lvm without udev, on a read-only root: no backups, nodes made by libdm,
# only our PV scanned
export LVM_SYSTEM_DIR=$TEST_TMP/lvm
mkdir -p "$LVM_SYSTEM_DIR"
cat > "$LVM_SYSTEM_DIR/lvm.conf" <<EOF
devices {
	obtain_device_list_from_udev = 0
	external_device_info_source = "none"
	use_devicesfile = 0
	global_filter = [ "a|^$PV\$|", "r|.*|" ]
}
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
backup { backup = 0 archive = 0 }
EOF
VG=rctlvg$$
lvm_cleanup() {
	rctl_cleanup
	vgchange -q -an "$VG" >/dev/null 2>&1
	rctl_cleanup
	vgremove -q -ff "$VG" >/dev/null 2>&1
	pvremove -q -ff -y "$PV" >/dev/null 2>&1
	true
}
pvcreate -q -y "$PV" >/dev/null
vgcreate -q "$VG" "$PV" >/dev/null 2>&1
defer lvm_cleanup
lv_exists() { lvs --noheadings -o lv_name "$VG/$1" >/dev/null 2>&1; }
lv_count() { lvs --noheadings -o lv_name "$VG" 2>/dev/null | wc -l; }

# ---- bad pools: 5, nothing made ----
expect_rv 5 create-element-replica --sync-type mirror --source-element "$PV" \
	--target-pool lvm:novg$$ --element-name m0
assert_match "$(cat "$TEST_TMP/rctl.err")" "TargetPool" "message names TargetPool"
expect_rv 5 create-element-replica --sync-type mirror --source-element "$PV" \
	--target-pool 'lvm:bad/vg' --element-name m0
expect_rv 5 create-element-replica --sync-type snapshot --source-element "$PV" \
	--target-pool "lvm:$VG" --element-name snapshot1
assert_match "$(cat "$TEST_TMP/rctl.err")" "ElementName" "message names ElementName"
assert_eq "$(lv_count)" 0 "no LV after bad requests"

# ---- mirror of an LV of the VG, reloaded in place ----
lvcreate -q -y -n db -L 32M "$VG" >/dev/null 2>&1
SRC=/dev/$VG/db
dd if=/dev/urandom of="$SRC" bs=1M count=32 oflag=direct status=none
SZ=$(sectors "$SRC")
expect_rv 0 create-element-replica --sync-type mirror --source-element "$SRC" \
	--target-pool "lvm:$VG" --element-name dbm --wait-for-copy-state synchronized --timeout 180
assert_eq "$(jstr DeviceID)" "/dev/$VG/dbm-target" "TargetElement is the target LV"
lv_exists dbm-target || fail "no target LV"
lv_exists dbm-meta || fail "no metadata LV"
assert_eq "$(dm_type "$VG-db")" replica "the LV carries the replica table"
dd if=/dev/urandom of="$SRC" bs=64k count=32 seek=40 oflag=direct status=none
expect_rv 0 modify-replica-synchronization --operation split --synchronization dbm \
	--wait-for-copy-state split
assert_eq "$(sha256_dev "/dev/$VG/dbm-target" "$SZ")" "$(sha256_dev "$SRC" "$SZ")" \
	"target LV = source after split"
grep -rqF "lvm:$VG/dbm-target" "$REPLICACTL_STATE_DIR/syncs" || fail "record does not name the target LV"
expect_rv 0 modify-replica-synchronization --operation detach --synchronization dbm
assert_eq "$(dm_type "$VG-db")" linear "the LV is linear again"
lv_exists dbm-meta && fail "metadata LV not released on Detach"
lv_exists dbm-target || fail "Detach must keep the target LV"
lvremove -q -f "$VG/dbm-target" >/dev/null 2>&1

# ---- snapshot of a plain device, Return To ResourcePool ----
SRC2=$(ramdisk 48M)
SZ2=$(sectors "$SRC2")
dd if=/dev/urandom of="$SRC2" bs=1M count=8 oflag=direct status=none
PIT=$(sha256_dev "$SRC2" "$SZ2")
expect_rv 0 create-element-replica --sync-type snapshot --source-element "$SRC2" \
	--target-pool "$VG" --element-name snp --wait-for-copy-state synchronized
lv_exists snp-target || fail "no snapshot target LV"
lv_exists snp-meta || fail "no snapshot metadata LV"
dd if=/dev/urandom of=/dev/mapper/snp-front bs=64k count=64 oflag=direct status=none
assert_eq "$(sha256_dev /dev/mapper/snp "$SZ2")" "$PIT" "view keeps the PIT"
expect_rv 0 modify-replica-synchronization --operation return-to-pool --synchronization snp
expect_fail dmsetup info snp
lv_exists snp-target && fail "target LV not returned to the pool"
lv_exists snp-meta && fail "metadata LV not returned to the pool"

# ---- no space left: lvcreate fails half-way, everything rolled back ----
FREE=$(vgs --noheadings --units b --nosuffix -o vg_free "$VG" | tr -d ' ')
# room for the target LV, none left for the metadata LV
lvcreate -q -y -n hog -L "$((FREE - SZ2 * 512))b" "$VG" >/dev/null 2>&1
expect_rv 4 create-element-replica --sync-type clone --source-element "$SRC2" \
	--target-pool "lvm:$VG" --element-name cl
assert_match "$(cat "$TEST_TMP/rctl.err")" "TargetPool: lvcreate" "lvcreate failure reported"
lv_exists cl-target && fail "target LV left behind after a failed create"
lv_exists cl-meta && fail "metadata LV left behind after a failed create"
expect_fail dmsetup info cl
expect_fail dmsetup info cl-front
rctl get-replication-relationships
assert_eq "$(jstr ElementName)" "" "no relationship recorded"
lvremove -q -f "$VG/hog" >/dev/null 2>&1
log "lvm pool: ok"
