#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Send one SCSI command with SG_IO (used by selftests/lio-lib.sh).

  sg-cmd.py write10 DEV LBA   WRITE(10) of one zero block at LBA
  sg-cmd.py sync-cache DEV    SYNCHRONIZE CACHE(10) of the whole device

Prints the SCSI/host/driver status (and the sense key or data); exits 0
only when all of them are good.
"""
import ctypes
import fcntl
import os
import sys

SG_IO = 0x2285
SG_DXFER_NONE, SG_DXFER_TO_DEV = -1, -2


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


def sg_io(dev, cdb_bytes, buf, timeout_ms):
    cdb = (ctypes.c_ubyte * len(cdb_bytes))(*cdb_bytes)
    sense = ctypes.create_string_buffer(32)
    h = Hdr(interface_id=ord("S"),
            dxfer_direction=SG_DXFER_TO_DEV if buf is not None else SG_DXFER_NONE,
            cmd_len=len(cdb_bytes), mx_sb_len=32,
            dxfer_len=len(buf) if buf is not None else 0,
            dxferp=ctypes.cast(buf, ctypes.c_void_p) if buf is not None else None,
            cmdp=ctypes.cast(cdb, ctypes.c_void_p),
            sbp=ctypes.cast(sense, ctypes.c_void_p), timeout=timeout_ms)
    fd = os.open(dev, os.O_RDONLY)
    try:
        fcntl.ioctl(fd, SG_IO, h)
    finally:
        os.close(fd)
    return h, sense.raw[:h.sb_len_wr]


def good(h):
    return h.status == 0 and h.host_status == 0 and h.driver_status == 0


def write10(dev, lba):
    bs = int(open("/sys/block/%s/queue/logical_block_size"
                  % os.path.basename(dev)).read())
    cdb = (0x2a, 0, (lba >> 24) & 255, (lba >> 16) & 255, (lba >> 8) & 255,
           lba & 255, 0, 0, 1, 0)
    h, sense = sg_io(dev, cdb, ctypes.create_string_buffer(bs), 30000)
    sk = (sense[2] & 15) if len(sense) > 2 and (sense[0] & 0x7f) in (0x70, 0x71) else \
         (sense[1] & 15) if len(sense) > 1 else 0
    print("WRITE(10) lba %d: status 0x%02x host 0x%x driver 0x%x sense key 0x%x"
          % (lba, h.status, h.host_status, h.driver_status, sk))
    return good(h)


def sync_cache(dev):
    h, sense = sg_io(dev, (0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0), None, 60000)
    print("SYNCHRONIZE CACHE(10): status 0x%02x host 0x%x driver 0x%x sense %s"
          % (h.status, h.host_status, h.driver_status, sense.hex()))
    return good(h)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "write10":
        ok = write10(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 3 and sys.argv[1] == "sync-cache":
        ok = sync_cache(sys.argv[2])
    else:
        sys.exit(__doc__)
    sys.exit(0 if ok else 1)
