#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# selftests/demo.sh: what `make demo` runs inside the VM.  A placeholder to
# grow: loads the module, makes a synchronous mirror over RAM disks, writes
# through it and shows the status.
. "$(dirname "$0")/lib.sh"

say() { printf '\n>>> %s\n' "$*"; }

if [[ ! -d /sys/module/dm_replica ]]; then
	replica_load
	defer rmmod dm_replica
fi
say "dm-replica loaded on $KERNEL_RELEASE"
dmsetup targets | grep -E '^(replica|mirror|linear)'

brd_setup 3 64M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
TABLE="0 $SZ replica mirror sync $META $SRC $TGT 1024"

say "dmsetup create demo: $TABLE"
dm_create demo "$TABLE"
dmsetup table demo
dmsetup status demo

say "writing 16 MiB through /dev/mapper/demo"
dd if=/dev/urandom of=/dev/mapper/demo bs=1M count=16 oflag=direct status=none
dmsetup status demo
echo "device $(sha256_dev /dev/mapper/demo 32768)"
echo "source $(sha256_dev "$SRC" 32768)"
echo "target $(sha256_dev "$TGT" 32768)"

say "removing"
dm_remove demo
echo "demo done"
