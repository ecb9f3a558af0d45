#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# LIO: a synchronous mirror's front exported by `replicactl export` through
# tcm_loop: a SCSI disk appears, reports a write-back cache (so initiators
# send SYNCHRONIZE CACHE), takes a crc32c fio verify, and both legs are
# equal afterwards; a second export is In Use, and so is a device an LIO
# backstore holds for a new relationship; Detach removes the export first.
# timeout: 240
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/replicactl-lib.sh"
. "$SELFTESTS_DIR/lio-lib.sh"

require_cmd fio
lio_require tcm_loop

SRC=$(ramdisk 32M)	# loop devices on tmpfs: volatile write cache, discard
SZ=$(sectors "$SRC")
defer rctl_cleanup
defer lio_cleanup	# runs first: LIO holds the devices
rctl create-element-replica --sync-type mirror --mode sync --source-element "$SRC" \
	--target-pool "dir:$POOL" --element-name m1 \
	--wait-for-copy-state synchronized --timeout 60
skip_if_unsupported
[[ $(rv) == 0 ]] || fail "create: ReturnValue $(rv): $(cat "$TEST_TMP/rctl.err")"
SYNC=$(jstr InstanceID)
TGT=$(jstr DeviceID)

expect_rv 0 export --synchronization "$SYNC" --fabric loop
SD=$(jstr DeviceID)
BS=$(jstr Backstore)
assert_match "$SD" '^/dev/sd[a-z]+$' "SCSI disk of the export"
assert_match "$BS" '^iblock_[0-9]+/replica-m1$' "backstore"
assert_eq "$(jstr Device)" /dev/mapper/m1 "exported device"
assert_eq "$(cat "$LIO/core/$BS/udev_path")" /dev/mapper/m1 "udev_path"
info=$(cat "$LIO/core/$BS/info")
assert_match "$info" "UDEV PATH: /dev/mapper/m1 " "backstore device"
assert_match "$info" "Major: $(( $(dmsetup info -c --noheadings -o major m1) )) Minor: $(( $(dmsetup info -c --noheadings -o minor m1) )) +CLAIMED: IBLOCK" "backstore claims the front"
wait_for 10 test -b "$SD"
assert_eq "$(sectors "$SD")" "$SZ" "SCSI disk size"
assert_eq "$(cat /sys/block/${SD#/dev/}/ro)" 0 "read-only flag of the disk"

# write cache: the front has one, LIO reports WCE=1, sd turns it into a
# volatile cache, so the initiator sends SYNCHRONIZE CACHE on flushes
front_dm=dm-$(( $(dmsetup info -c --noheadings -o minor m1) ))
assert_eq "$(cat /sys/block/$front_dm/queue/write_cache)" "write back" "front write cache"
assert_eq "$(scsi_wc "$SD")" "write back" "SCSI disk write cache"
sdc=$(ls -d /sys/block/${SD#/dev/}/device/scsi_disk/*)
assert_eq "$(cat "$sdc/cache_type")" "write back" "sd cache_type (WCE from MODE SENSE)"

# a second export of the same device: In Use; an unknown relationship: 5
expect_rv 6 export --synchronization m1 --fabric loop
expect_rv 5 export --synchronization nosuch
expect_rv 5 export --synchronization m1 --view

fio_verify "$SD" 8M --fsync=16

# a write + fsync on the SCSI disk: SYNCHRONIZE CACHE -> LIO -> a flush
# of the front -> a flush of both legs (their request queues count it)
flushes() { local s; read -ra s < "/sys/block/${1#/dev/}/stat"; echo "${s[15]:-0}"; }
s0=$(flushes "$SRC") t0=$(flushes "$TGT")
dd if=/dev/urandom of="$SD" bs=4k count=1 seek=100 oflag=direct conv=fsync status=none
s1=$(flushes "$SRC") t1=$(flushes "$TGT")
log "leg flushes: source $s0 -> $s1, target $t0 -> $t1"
((s1 > s0)) || fail "no flush reached the source leg after fsync on $SD"
((t1 > t0)) || fail "no flush reached the target leg after fsync on $SD"
wait_copy_state m1 4 60
assert_eq "$(sha256_dev "$SRC" "$SZ")" "$(sha256_dev "$TGT" "$SZ")" "source leg == target leg"
assert_eq "$(sha256_dev "$SD" "$SZ")" "$(sha256_dev "$TGT" "$SZ")" "SCSI disk == target leg"

# a device an LIO backstore holds is In Use for a new relationship
OTHER=$(ramdisk 32M)
mkdir -p "$LIO/core/iblock_90/other"
echo "udev_path=$OTHER" > "$LIO/core/iblock_90/other/control"
echo 1 > "$LIO/core/iblock_90/other/enable"
expect_rv 6 create-element-replica --sync-type mirror --source-element "$OTHER" \
	--target-pool "dir:$POOL" --element-name m2
rmdir "$LIO/core/iblock_90/other" "$LIO/core/iblock_90"

# Detach removes the export first (the disk and the backstore go away)
expect_rv 0 modify-replica-synchronization --operation detach --synchronization "$SYNC"
[[ -z $(lio_backstores) ]] || fail "backstores left after Detach: $(lio_backstores)"
[[ ! -e /sys/block/${SD#/dev/} ]] || fail "$SD still present after Detach"
[[ -z $(lio_targets) ]] || fail "fabric targets left after Detach: $(lio_targets)"
