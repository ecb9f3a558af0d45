# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# selftests/lio-lib.sh: helpers for the LIO export tests (tests/60-lio-*.sh).
# Source it after lib.sh (and replicactl-lib.sh).
#
#   lio_require [MOD...]   load configfs, target_core_mod, target_core_iblock,
#                          sd_mod and MOD... (tcm_loop, iscsi_target_mod ...);
#                          skip the test with the reason when one is missing
#   lio_cleanup            remove every LIO object left behind (fabric LUNs,
#                          targets, backstores); `defer lio_cleanup`
#   lio_backstores         "iblock_N/NAME" of every iblock backstore, one a line
#   lio_targets            "<fabric>/<wwn>" of every fabric target, one a line
#   scsi_write10 DEV LBA   send one WRITE(10) of a zero block with SG_IO (past
#                          the block layer's read-only checks); prints the
#                          SCSI status and sense key; fails when refused
#   scsi_wc DEV            /sys/block/<dev>/queue/write_cache ("write back" ...)

LIO=/sys/kernel/config/target

lio_require() {
	local m
	# no udev and no kernel module autoload in the VM: load everything here
	for m in configfs target_core_mod target_core_iblock sd_mod "$@"; do
		modprobe -q "$m" 2>/dev/null || skip "kernel module $m not available"
	done
	mountpoint -q /sys/kernel/config ||
		mount -t configfs none /sys/kernel/config 2>/dev/null ||
		skip "cannot mount configfs"
	[[ -d $LIO/core ]] || skip "LIO configfs tree $LIO/core missing"
}

lio_backstores() {
	local d
	for d in "$LIO"/core/iblock_*/*/; do
		[[ -d $d && -e $d/info ]] || continue
		d=${d%/}
		echo "${d#"$LIO"/core/}"
	done
}

lio_targets() {
	local w
	for w in "$LIO"/loopback/naa.* "$LIO"/iscsi/iqn.*; do
		[[ -d $w ]] && echo "${w#"$LIO"/}"
	done
	return 0
}

_rmdirs() { local d; for d; do [[ -d $d ]] && rmdir "$d" 2>/dev/null; done; return 0; }

lio_cleanup() {
	local f w t l x
	for f in "$LIO"/*/; do
		f=${f%/}
		[[ ${f##*/} == core ]] && continue
		for w in "$f"/*/; do
			for t in "${w%/}"/tpgt_*; do
				[[ -d $t ]] || continue
				[[ -e $t/enable ]] && echo 0 > "$t/enable" 2>/dev/null
				for l in "$t"/acls/*/lun_*; do
					for x in "$l"/*; do [[ -L $x ]] && rm -f "$x"; done
					_rmdirs "$l"
				done
				_rmdirs "$t"/acls/*
				for l in "$t"/lun/lun_*; do
					for x in "$l"/*; do [[ -L $x ]] && rm -f "$x"; done
					_rmdirs "$l"
				done
				_rmdirs "$t"/np/*
				_rmdirs "$t"
			done
			[[ ${w%/} == */discovery_auth ]] || _rmdirs "${w%/}"
		done
	done
	for x in "$LIO"/core/iblock_*/*/; do _rmdirs "${x%/}"; done
	_rmdirs "$LIO"/core/iblock_*
	return 0
}

scsi_wc() { cat "/sys/block/${1#/dev/}/queue/write_cache"; }

scsi_write10() {
	python3 - "$1" "$2" <<'PY'
import ctypes, fcntl, os, sys
class Hdr(ctypes.Structure):
    _fields_ = [("interface_id", ctypes.c_int), ("dxfer_direction", ctypes.c_int),
                ("cmd_len", ctypes.c_ubyte), ("mx_sb_len", ctypes.c_ubyte),
                ("iovec_count", ctypes.c_ushort), ("dxfer_len", ctypes.c_uint),
                ("dxferp", ctypes.c_void_p), ("cmdp", ctypes.c_void_p),
                ("sbp", ctypes.c_void_p), ("timeout", ctypes.c_uint),
                ("flags", ctypes.c_uint), ("pack_id", ctypes.c_int),
                ("usr_ptr", ctypes.c_void_p), ("status", ctypes.c_ubyte),
                ("masked_status", ctypes.c_ubyte), ("msg_status", ctypes.c_ubyte),
                ("sb_len_wr", ctypes.c_ubyte), ("host_status", ctypes.c_ushort),
                ("driver_status", ctypes.c_ushort), ("resid", ctypes.c_int),
                ("duration", ctypes.c_uint), ("info", ctypes.c_uint)]
dev, lba = sys.argv[1], int(sys.argv[2])
bs = int(open("/sys/block/%s/queue/logical_block_size" % os.path.basename(dev)).read())
cdb = (ctypes.c_ubyte * 10)(0x2a, 0, (lba >> 24) & 255, (lba >> 16) & 255,
                            (lba >> 8) & 255, lba & 255, 0, 0, 1, 0)
buf = ctypes.create_string_buffer(bs)
sense = ctypes.create_string_buffer(32)
h = Hdr(interface_id=ord("S"), dxfer_direction=-2, cmd_len=10, mx_sb_len=32,
        dxfer_len=bs, dxferp=ctypes.cast(buf, ctypes.c_void_p),
        cmdp=ctypes.cast(cdb, ctypes.c_void_p), sbp=ctypes.cast(sense, ctypes.c_void_p),
        timeout=30000)
fd = os.open(dev, os.O_RDONLY)
fcntl.ioctl(fd, 0x2285, h)
sk = (sense.raw[2] & 15) if h.sb_len_wr > 2 and (sense.raw[0] & 0x7f) in (0x70, 0x71) else \
     (sense.raw[1] & 15) if h.sb_len_wr > 1 else 0
print("WRITE(10) lba %d: status 0x%02x host 0x%x driver 0x%x sense key 0x%x"
      % (lba, h.status, h.host_status, h.driver_status, sk))
sys.exit(0 if h.status == 0 and h.host_status == 0 and h.driver_status == 0 else 1)
PY
}
