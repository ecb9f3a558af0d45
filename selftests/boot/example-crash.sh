#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Example multi-boot test: data written (and flushed) to a persistent disk
# before a crash (sysrq b, no sync, no clean shutdown) is there after reboot.
# vm-disks: 64M
. "$(dirname "$0")/../lib.sh"

DISK=$(boot_disk 0)

case $BOOT_PHASE in
phase1)
	dd if=/dev/urandom of="$DISK" bs=1M count=16 oflag=direct,sync status=none
	sha256_dev "$DISK" 32768 > "$BOOT_STATE/sum"
	log "wrote 16 MiB, sha256 $(cat "$BOOT_STATE/sum")"
	next_phase phase2
	crash_now
	;;
phase2)
	[[ -s $BOOT_STATE/sum ]] || fail "no checksum from phase1"
	assert_eq "$(sha256_dev "$DISK" 32768)" "$(cat "$BOOT_STATE/sum")" "data after the crash"
	;;
*)
	fail "unknown phase '$BOOT_PHASE'"
	;;
esac
