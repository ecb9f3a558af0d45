#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""
selftests/log-replay.py: a replayer for dm-log-writes logs (Debian ships no
replay-log), used by the crash-replay selftests (tests/70-crash-replay-*.sh,
helpers in replay-lib.sh).

Log format (drivers/md/dm-log-writes.c): sector 0 holds the super
(le64 magic 0x6a736677736872, le64 version 1, le64 nr_entries, le32
sectorsize); from the next sector on, nr_entries entries, each one sector
holding (le64 sector, le64 nr_sectors, le64 flags, le64 data_len) (+ the mark
text for a mark), followed by nr_sectors sectors of data (none for discards
and marks).  Sectors and nr_sectors count in the logged device's sectorsize.
Flags: 1 FLUSH, 2 FUA, 4 DISCARD, 8 MARK, 16 METADATA.  dm-log-writes logs a
write only once a later flush (or its own FUA) completed, in completion
order, so every prefix of the log is a state the disk could have been in
at a crash.

Durability model (--devs given): the logged device is carved into several
devices (dm-linear); a plain write to device D stays *pending* (in D's
volatile cache) until a flush entry for D (an empty flush is logged with the
sector of the linear's start, so it names its device) or a FUA write to D;
pending writes of D are then applied in log order.  A flush that names no
known device flushes all.  This is stricter than "the log prefix is the
disk": dm-log-writes splices the writes of all devices into whichever flush
comes first, so without it a missing flush of the target before a metadata
commit would go unseen.  (A FUA write to D also makes D's earlier pending
writes durable: a valid crash state, and it keeps overlapping writes in
order.)  --global uses the plain prefix model.

Commands:
  dump LOG                       print the entries
  selftest                       check the replayer on a synthetic log
  serve LOG BASE OUT [options]   choose replay points, then read commands on
                                 stdin, one per line, answering one line each:
     next               advance to the next point, write the disk state
                        into OUT (rewritten in place: a loop device may sit on
                        it), answer "POINT <i> <n> <entry> <kind> <marks>"
                        (marks: comma list of the marks in the prefix, "-"
                        when none), or "END"
     data DEV ROLE      every write of the manifest with role ROLE whose mark
                        is in the prefix (and that no later manifest write
                        overlaps) must be on DEV: "OK <n checked>" / "BAD ..."
     view DEV PIT ROLE  DEV must equal the image file PIT region by region,
                        except regions written by a manifest write with role
                        ROLE: those hold the PIT data or the PIT data with
                        the write (the latter once its mark is in the
                        prefix): "OK <regions> <n as PIT> <n with view data>"
     equal A B          A and B (devices or files) hold the same bytes
     quit
  sweep LOG BASE [options]       replay every durable state (every flush/FUA
                                 entry: between them the durable state does not
                                 change under the per-device model) in-process
                                 and check the committed metadata against the
                                 data: the metadata must load (replica-mdump),
                                 a mirror region clean in it must be equal on
                                 both legs, and a snapshot's or clone's image
                                 (target where the bit is set, else source) must
                                 be the point in time as `view` checks it; with
                                 --src-role, marked writes of that role must be
                                 on the source.  Prints "SWEEP OK <flush/FUA
                                 points> <marks> <metadata states> <region
                                 checks>" (the start of the log is one more
                                 point) or up to 10
                                 "SWEEP BAD ..." lines (exit 1).  Needs --devs
                                 with exactly meta,source,target; --pit FILE
                                 (default: the source leg of BASE), --view-role
                                 ROLE (default view), --src-role ROLE, --mdump
                                 PATH (default userspace/replica-mdump).
  Options: --devs S:N[,S:N...] (512-byte start:length of each device, for the
  durability model), --global, --cap-flush N (at most N flush/FUA points,
  evenly chosen when there are more; default 24), --samples N (plain write
  points chosen at random in between; default 6), --seed N, --manifest FILE
  (lines "NAME ROLE BYTE_OFF BYTES CHUNKFILE", in write order; NAME is the
  mark logged after the write was acknowledged and flushed; NAME "-" for a
  write without a mark), --region BYTES (default 65536), --after-mark NAME
  (flush/FUA and sample points only after that mark; the start and the end
  of the log are points all the same).
"""
import mmap
import os
import random
import struct
import sys

MAGIC = 0x6a736677736872
F_FLUSH, F_FUA, F_DISCARD, F_MARK = 1, 2, 4, 8


class Entry:
    __slots__ = ("idx", "sector", "nr", "flags", "mark", "data_off", "dev")


def parse(path):
    with open(path, "rb") as f:
        sup = f.read(4096)
        magic, version, nr_entries, ss = struct.unpack_from("<QQQI", sup)
        if magic != MAGIC:
            sys.exit("log-replay: %s: bad magic %#x" % (path, magic))
        if version != 1:
            sys.exit("log-replay: %s: version %d" % (path, version))
        entries = []
        pos = ss
        for i in range(nr_entries):
            f.seek(pos)
            blk = f.read(ss)
            if len(blk) < 32:
                sys.exit("log-replay: log truncated at entry %d" % i)
            sector, nr, flags, dlen = struct.unpack_from("<QQQQ", blk)
            e = Entry()
            e.idx, e.sector, e.nr, e.flags = i, sector, nr, flags
            e.mark = None
            e.dev = None
            pos += ss
            e.data_off = pos
            if flags & F_MARK:
                e.mark = blk[32:32 + dlen].decode("ascii", "replace")
            elif not flags & F_DISCARD:
                pos += nr * ss
            entries.append(e)
    return entries, ss


def kind(e):
    if e.flags & F_MARK:
        return "mark"
    if e.flags & F_DISCARD:
        return "discard"
    k = []
    if e.flags & F_FLUSH:
        k.append("flush")
    if e.flags & F_FUA:
        k.append("fua")
    if e.nr and not k:
        k.append("write")
    elif e.nr:
        k.append("write")
    return "+".join(k) or "empty"


def cmd_dump(argv):
    entries, ss = parse(argv[0])
    print("# sectorsize %d, %d entries" % (ss, len(entries)))
    for e in entries:
        print("%6d %-16s sector %10d nr %6d%s" % (
            e.idx, kind(e), e.sector, e.nr,
            (" mark " + e.mark) if e.mark else ""))


class Replayer:
    def __init__(self, log, base, out, devs, glob, ss, entries):
        self.log = open(log, "rb")
        self.out = out
        self.ss = ss
        self.entries = entries
        self.devs = devs	# [(start_bytes, len_bytes)]
        self.glob = glob or not devs
        # the working image: a copy of BASE next to OUT
        self.work_path = out + ".work"
        with open(base, "rb") as src, open(self.work_path, "wb") as dst:
            n = os.fstat(src.fileno()).st_size
            copy_range(src.fileno(), dst.fileno(), n)
        self.size = n
        self.work = os.open(self.work_path, os.O_RDWR)
        self.pending = {i: [] for i in range(len(devs))}
        self.next_entry = 0
        self.marks = []
        self.unknown_flushes = 0
        self.applied = 0
        self.lost_at_end = 0

    def dev_of(self, byte_off):
        for i, (s, n) in enumerate(self.devs):
            if s <= byte_off < s + n:
                return i
        return None

    def apply(self, e):
        off = e.sector * self.ss
        n = e.nr * self.ss
        if off + n > self.size:
            sys.exit("log-replay: entry %d beyond the base image" % e.idx)
        if e.flags & F_DISCARD:
            zero = bytes(min(n, 1 << 20))
            done = 0
            while done < n:
                k = min(len(zero), n - done)
                os.pwrite(self.work, zero[:k], off + done)
                done += k
        else:
            self.log.seek(e.data_off)
            data = self.log.read(n)
            if len(data) != n:
                sys.exit("log-replay: entry %d: data truncated" % e.idx)
            os.pwrite(self.work, data, off)
        self.applied += 1

    def pending_desc(self):
        """writes left out as not durable, per device: dev:count(regions)"""
        out = []
        for d, v in sorted(self.pending.items()):
            regs = sorted({(p.sector * self.ss - self.devs[d][0]) // REGION for p in v})
            r = ".".join(map(str, regs[:12])) + (".." if len(regs) > 12 else "")
            out.append("%d:%d" % (d, len(v)) + ("(%s)" % r if r else ""))
        return ",".join(out) or "-"

    def flush_dev(self, d):
        for p in self.pending[d]:
            self.apply(p)
        self.pending[d] = []

    def step(self, e):
        if e.flags & F_MARK:
            self.marks.append(e.mark)
            return
        has_data = e.nr > 0
        if self.glob:
            if has_data:
                self.apply(e)
            return
        d = self.dev_of(e.sector * self.ss)
        if e.flags & F_FLUSH:
            if d is None:
                if has_data:
                    sys.exit("log-replay: entry %d: write outside every device" % e.idx)
                self.unknown_flushes += 1
                for x in self.pending:
                    self.flush_dev(x)
            else:
                self.flush_dev(d)
        if not has_data:
            return
        if d is None:
            sys.exit("log-replay: entry %d: write outside every device" % e.idx)
        if e.flags & F_FUA:
            self.flush_dev(d)
            self.apply(e)
        elif e.flags & F_FLUSH:
            # PREFLUSH without FUA: the data itself is cached
            self.pending[d].append(e)
        else:
            self.pending[d].append(e)

    def advance(self, upto):
        """apply entries [next_entry, upto]"""
        while self.next_entry <= upto:
            self.step(self.entries[self.next_entry])
            self.next_entry += 1

    def materialise(self):
        fd = os.open(self.out, os.O_WRONLY)
        try:
            copy_range(self.work, fd, self.size, src_off=0)
            os.fsync(fd)
        finally:
            os.close(fd)


def copy_range(src, dst, n, src_off=None):
    done = 0
    while done < n:
        try:
            k = os.copy_file_range(src, dst, n - done, done, done)
        except OSError:
            buf = os.pread(src, min(n - done, 1 << 22), done)
            k = os.pwrite(dst, buf, done)
        if k <= 0:
            break
        done += k
    if done != n:
        sys.exit("log-replay: short copy (%d of %d)" % (done, n))


def choose_points(entries, cap, samples, seed, after=None):
    first = 0
    if after:
        first = next((e.idx for e in entries if e.mark == after), 0)
    flush = [e.idx for e in entries[first:] if e.flags & (F_FLUSH | F_FUA)]
    writes = [e.idx for e in entries[first:]
              if not e.flags & (F_FLUSH | F_FUA | F_MARK) and e.nr]
    nflush = len(flush)
    if len(flush) > cap:
        # evenly spread, always the first and the last
        pick = sorted({flush[round(i * (len(flush) - 1) / (cap - 1))]
                       for i in range(cap)})
        flush = pick
    rnd = random.Random(seed)
    samp = sorted(rnd.sample(writes, min(samples, len(writes))))
    pts = {-1: "start"}
    for i in flush:
        pts[i] = kind(entries[i])
    for i in samp:
        pts.setdefault(i, "write")
    if entries:
        pts.setdefault(len(entries) - 1, "end")
    return sorted(pts.items()), nflush, len(writes)


def read_manifest(path):
    out = []
    if not path or not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) == 5:
                out.append((p[0], p[1], int(p[2]), int(p[3]), p[4]))
    return out


def read_direct(dev, off, n):
    """O_DIRECT read (nothing from the page cache) of n bytes at off"""
    a = off & ~4095
    end = (off + n + 4095) & ~4095
    buf = mmap.mmap(-1, end - a)
    fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
    try:
        got = os.preadv(fd, [buf], a)
    finally:
        os.close(fd)
    if got != end - a:
        raise IOError("short read of %s at %d" % (dev, a))
    return bytes(buf[off - a:off - a + n])


def overlaps(a_off, a_len, b_off, b_len):
    return a_off < b_off + b_len and b_off < a_off + a_len


def chunk(path):
    with open(path, "rb") as f:
        return f.read()


def cmd_data(rp, man, dev, role):
    marks = set(rp.marks)
    n = 0
    for i, (name, r, off, ln, cf) in enumerate(man):
        if r != role or name not in marks:
            continue
        if any(r2 == r and overlaps(off, ln, o2, l2) for (_, r2, o2, l2, _) in man[i + 1:]):
            continue
        n += 1
        got = read_any(dev, off, ln)
        if got != chunk(cf):
            return "BAD write %s (%d bytes at byte %d, region %d) acknowledged and flushed before the point is not on %s" % (
                name, ln, off, off // REGION, dev)
    return "OK %d" % n


def cmd_view(rp, man, dev, pit, role):
    marks = set(rp.marks)
    size = os.path.getsize(pit)
    writes = {}
    for (name, r, off, ln, cf) in man:
        if r != role:
            continue
        reg = off // REGION
        if (off + ln - 1) // REGION != reg:
            return "BAD manifest write %s spans regions" % name
        writes.setdefault(reg, []).append((name, off, chunk(cf)))
    npit = nview = 0
    fd = os.open(pit, os.O_RDONLY)
    try:
        step = max(REGION, 1 << 20)
        for base in range(0, size, step):
            k = min(step, size - base)
            wbuf = os.pread(fd, k, base)
            gbuf = read_any(dev, base, k)
            for reg in range(base // REGION, (base + k) // REGION):
                o = reg * REGION - base
                want = wbuf[o:o + REGION]
                got = gbuf[o:o + REGION]
                m, why = view_region(got, want, reg, writes.get(reg, []), marks)
                if why:
                    return "BAD region %d of %s%s %s" % (
                        reg, dev, " (view-written)" if reg in writes else "", why)
                if m:
                    nview += 1
                else:
                    npit += 1
    finally:
        os.close(fd)
    return "OK %d %d %d" % (size // REGION, npit, nview)


def view_region(got, want, reg, writes, marks):
    """One region of a point-in-time image as read (got) against its PIT
    data (want) and the view writes to it, in order ((name, byte_off,
    data)): it must hold the PIT data with a prefix of them (a later write
    is not acknowledged before an earlier one), at least up to the last one
    whose mark is in marks.  Returns (number of view writes it holds, None)
    or (that, the reason it is wrong)."""
    cands = [want]
    cur = bytearray(want)
    for (name, off, data) in writes:
        wo = off - reg * REGION
        cur[wo:wo + len(data)] = data
        cands.append(bytes(cur))
    match = [j for j, c in enumerate(cands) if c == got]
    if not match:
        if writes:
            return None, "is neither the PIT data nor the PIT data with the view writes (%s)" % (
                first_diff(got, want, reg))
        return None, "differs from the point-in-time image (%s)" % first_diff(got, want, reg)
    m = max(match)
    need = max([j + 1 for j, w in enumerate(writes) if w[0] in marks] or [0])
    if m < need:
        return m, "lacks view write %s, acknowledged and flushed before the point" % writes[need - 1][0]
    return m, None


def size_of(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.lseek(fd, 0, os.SEEK_END)
    finally:
        os.close(fd)


def cmd_equal(a, b):
    """a and b (devices or files) have the same size and bytes"""
    n = size_of(a)
    if size_of(b) != n:
        return "BAD %s and %s differ in size" % (a, b)
    step = 1 << 20
    for off in range(0, n, step):
        k = min(step, n - off)
        x = read_any(a, off, k)
        y = read_any(b, off, k)
        if x != y:
            i = next(j for j in range(k) if x[j] != y[j])
            return "BAD %s and %s differ at byte %d (region %d)" % (
                a, b, off + i, (off + i) // REGION)
    return "OK"


def read_any(path, off, n):
    if os.path.isfile(path):
        with open(path, "rb") as f:
            f.seek(off)
            return f.read(n)
    return read_direct(path, off, n)


def first_diff(got, want, reg):
    for i in range(len(got)):
        if got[i] != want[i]:
            return "first difference at byte %d" % (reg * REGION + i)
    return "?"


REGION = 65536


def cmd_serve(argv):
    global REGION
    opts = {"--cap-flush": "24", "--samples": "6", "--seed": "1",
            "--devs": "", "--manifest": "", "--region": "65536",
            "--after-mark": ""}
    pos = []
    glob = False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--global":
            glob = True
        elif a in opts:
            i += 1
            opts[a] = argv[i]
        else:
            pos.append(a)
        i += 1
    log, base, out = pos
    REGION = int(opts["--region"])
    devs = []
    if opts["--devs"]:
        for d in opts["--devs"].split(","):
            s, n = d.split(":")
            devs.append((int(s) * 512, int(n) * 512))
    entries, ss = parse(log)
    pts, nflush, nwrites = choose_points(entries, int(opts["--cap-flush"]),
                                         int(opts["--samples"]), int(opts["--seed"]),
                                         opts["--after-mark"])
    rp = Replayer(log, base, out, devs, glob, ss, entries)
    nmarks = sum(1 for e in entries if e.flags & F_MARK)
    sys.stderr.write("# log-replay: %d entries (%d flush/FUA, %d plain writes, %d marks%s), "
                     "%d replay points (cap %s flush points, %s samples), %s model\n" % (
                         len(entries), nflush, nwrites, nmarks,
                         (", points after mark " + opts["--after-mark"]) if opts["--after-mark"] else "",
                         len(pts), opts["--cap-flush"], opts["--samples"],
                         "global-prefix" if rp.glob else "per-device-flush"))
    sys.stderr.flush()
    man = None
    k = 0
    for line in sys.stdin:
        c = line.split()
        if not c:
            continue
        try:
            if c[0] == "next":
                if k >= len(pts):
                    ans = "END"
                else:
                    idx, kd = pts[k]
                    rp.advance(idx)
                    rp.materialise()
                    k += 1
                    ans = "POINT %d %d %d %s %s %s" % (k, len(pts), idx, kd,
                                                    ",".join(rp.marks) or "-", rp.pending_desc())
            elif c[0] == "data":
                man = read_manifest(opts["--manifest"])
                ans = cmd_data(rp, man, c[1], c[2])
            elif c[0] == "view":
                man = read_manifest(opts["--manifest"])
                ans = cmd_view(rp, man, c[1], c[2], c[3])
            elif c[0] == "equal":
                ans = cmd_equal(c[1], c[2])
            elif c[0] == "quit":
                break
            else:
                ans = "BAD unknown command " + c[0]
        except Exception as ex:	# answer, never leave the shell waiting
            ans = "BAD %s: %s" % (c[0], ex)
        sys.stdout.write(ans + "\n")
        sys.stdout.flush()
    if rp.unknown_flushes:
        sys.stderr.write("# log-replay: %d flushes named no device\n" % rp.unknown_flushes)


class Sweep:
    """every durable state of a meta/source/target log, checked in-process"""

    def __init__(self, argv):
        opts = {"--devs": "", "--manifest": "", "--region": "65536",
                "--pit": "", "--view-role": "view", "--src-role": "",
                "--mdump": os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "..", "userspace", "replica-mdump")}
        pos = []
        i = 0
        while i < len(argv):
            if argv[i] in opts:
                opts[argv[i]] = argv[i + 1]
                i += 2
            else:
                pos.append(argv[i])
                i += 1
        if len(pos) != 2 or not opts["--devs"]:
            sys.exit("usage: log-replay.py sweep LOG BASE --devs M:N,S:N,T:N [options]")
        global REGION
        REGION = int(opts["--region"])
        self.log, base = pos
        self.devs = []
        for d in opts["--devs"].split(","):
            a, n = d.split(":")
            self.devs.append((int(a) * 512, int(n) * 512))
        if len(self.devs) != 3:
            sys.exit("log-replay: sweep needs three devices (meta, source, target)")
        self.mdump = opts["--mdump"]
        self.view_role = opts["--view-role"]
        self.src_role = opts["--src-role"]
        entries, ss = parse(self.log)
        self.entries = entries
        work_dir = os.path.dirname(os.path.abspath(self.log))
        self.rp = Replayer(self.log, base, os.path.join(work_dir, "sweep.img"),
                           self.devs, False, ss, entries)
        self.rp.touched = set()
        self.src_off, self.leg = self.devs[1]
        self.tgt_off = self.devs[2][0]
        self.nreg = self.leg // REGION
        if opts["--pit"]:
            with open(opts["--pit"], "rb") as f:
                self.pit = f.read(self.leg)
        else:
            self.pit = os.pread(self.rp.work, self.leg, self.src_off)
        self.man = read_manifest(opts["--manifest"])
        self.view_writes = {}
        for (name, r, off, ln, cf) in self.man:
            if r == self.view_role:
                self.view_writes.setdefault(off // REGION, []).append((name, off, chunk(cf)))
        self.bits = None
        self.mdump_proc = None
        self.bad = []
        self.points = self.mark_points = self.meta_states = self.region_checks = 0

    def read(self, off, n):
        return os.pread(self.rp.work, n, off)

    def load_meta(self):
        """the committed state: (header dict, bit list) or (error, None)"""
        if self.mdump_proc is None:
            import subprocess
            self.mdump_proc = subprocess.Popen(
                [self.mdump, "--serve", self.rp.work_path], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, text=True)
        p = self.mdump_proc
        p.stdin.write("%d %d\n" % self.devs[0])
        p.stdin.flush()
        lines = []
        while True:
            ln = p.stdout.readline()
            if not ln:
                sys.exit("log-replay: replica-mdump --serve died (exit %s)" % p.wait())
            if ln == "end\n":
                break
            lines.append(ln.rstrip("\n"))
        if not lines:
            sys.exit("log-replay: replica-mdump gave no answer")
        if not lines[0].startswith("ok "):
            return lines[0], None
        f = lines[0].split()
        hdr = {f[i]: f[i + 1] for i in range(1, len(f) - 1, 2)}
        if int(hdr["store_slots"]):
            sys.exit("log-replay: sweep: snapshot stores (a target smaller than the source) are not supported")
        if int(hdr["region_sectors"]) * 512 != REGION:
            sys.exit("log-replay: sweep: metadata region size %s sectors, --region %d bytes" % (
                hdr["region_sectors"], REGION))
        hx = lines[1].split()[1]
        raw = bytes.fromhex(hx) if hx != "-" else b""
        bits = [(raw[i >> 3] >> (i & 7)) & 1 for i in range(int(hdr["nr_regions"]))]
        return hdr, bits

    def check_region(self, reg):
        self.region_checks += 1
        s = self.read(self.src_off + reg * REGION, REGION)
        bit = self.bits[reg] if reg < len(self.bits) else 0
        if self.sync_type == 6:
            if not bit:
                t = self.read(self.tgt_off + reg * REGION, REGION)
                if s != t:
                    return "mirror region %d is clean in the metadata but the legs differ (%s)" % (
                        reg, first_diff(s, t, reg))
            return None
        img = self.read(self.tgt_off + reg * REGION, REGION) if bit else s
        want = self.pit[reg * REGION:(reg + 1) * REGION]
        _, why = view_region(img, want, reg, self.view_writes.get(reg, []), set(self.rp.marks))
        if why:
            return "region %d (bit %d: read from the %s) %s" % (
                reg, bit, "target" if bit else "source", why)
        return None

    def check_src_writes(self):
        marks = set(self.rp.marks)
        for i, (name, r, off, ln, cf) in enumerate(self.man):
            if r != self.src_role or name not in marks:
                continue
            if any(r2 == r and overlaps(off, ln, o2, l2) for (_, r2, o2, l2, _) in self.man[i + 1:]):
                continue
            if self.read(self.src_off + off, ln) != chunk(cf):
                return "source write %s (region %d), acknowledged and flushed before the point, is not on the source" % (
                    name, off // REGION)
        return None

    def point(self, e):
        """check the durable state after entry e"""
        where = "entry %d (%s, last mark %s)" % (e.idx if e else -1, kind(e) if e else "start",
                                               self.rp.marks[-1] if self.rp.marks else "-")
        regs = set()
        meta_changed = self.bits is None or any(d == 0 for d, _ in self.rp.touched)
        for d, reg in self.rp.touched:
            if d in (1, 2) and reg < self.nreg:
                regs.add(reg)
        self.rp.touched.clear()
        if meta_changed:
            hdr, bits = self.load_meta()
            if bits is None:
                self.bad.append("%s: the metadata would not load: %s" % (where, hdr))
                self.bits = None
                return
            self.meta_states += 1
            self.sync_type = int(hdr["sync_type"])
            if self.bits is None:
                regs = set(range(self.nreg))
            else:
                regs |= {i for i in range(self.nreg) if bits[i] != self.bits[i]}
            self.bits = bits
        new_mark = len(self.rp.marks) != self.nmarks
        if new_mark:
            self.nmarks = len(self.rp.marks)
            regs |= set(self.view_writes)
        for reg in sorted(regs):
            msg = self.check_region(reg)
            if msg:
                self.bad.append("%s: %s" % (where, msg))
                return
        if self.src_role and (new_mark or regs):
            msg = self.check_src_writes()
            if msg:
                self.bad.append("%s: %s" % (where, msg))

    def run(self):
        rp = self.rp
        orig_apply = rp.apply

        def apply(e):
            orig_apply(e)
            off = e.sector * rp.ss
            d = rp.dev_of(off)
            if d is None:
                return
            rel = off - self.devs[d][0]
            for reg in range(rel // REGION, (rel + max(e.nr * rp.ss, 1) - 1) // REGION + 1):
                rp.touched.add((d, reg))
        rp.apply = apply
        self.nmarks = 0
        self.point(None)
        for e in self.entries:
            rp.step(e)
            if e.flags & F_MARK:
                # a mark changes no data, but what must be there
                self.mark_points += 1
                self.point(e)
            elif e.flags & (F_FLUSH | F_FUA):
                self.points += 1
                self.point(e)
            if len(self.bad) >= 10:
                break
        if self.mdump_proc:
            self.mdump_proc.stdin.close()
            self.mdump_proc.wait()
        os.close(rp.work)
        os.unlink(rp.work_path)
        if self.bad:
            for b in self.bad:
                print("SWEEP BAD " + b)
            return 1
        print("SWEEP OK %d %d %d %d" % (self.points, self.mark_points, self.meta_states,
                                         self.region_checks))
        return 0


def cmd_sweep(argv):
    sys.exit(Sweep(argv).run())


def cmd_selftest(argv):
    """the replayer on a synthetic log: durability model and checks"""
    import tempfile
    global REGION
    REGION = 1024
    ss = 512
    d = tempfile.mkdtemp(prefix="log-replay-selftest.")

    def ent(sector, nr, flags, data=b"", mark=None):
        e = struct.pack("<QQQQ", sector, nr, flags, len(mark) if mark else len(data))
        if mark:
            e += mark.encode()
        return e.ljust(ss, b"\0") + data
    # two devices: 0 = sectors 0..7, 1 = sectors 8..19
    es = [ent(10, 1, 0, b"A" * 512),        # 0 dev1, pending
          ent(0, 0, F_FLUSH),               # 1 flush dev0: A still pending
          ent(4, 1, F_FUA, b"M" * 512),     # 2 FUA dev0: durable
          ent(8, 0, F_FLUSH),               # 3 flush dev1: A durable
          ent(0, 0, F_MARK, mark="m1"),     # 4
          ent(12, 2, F_DISCARD),            # 5 dev1, pending
          ent(16, 1, 0, b"B" * 512),        # 6 dev1, pending
          ent(8, 0, F_FLUSH),               # 7 flush dev1
          ent(0, 0, F_MARK, mark="m2")]     # 8
    log = bytearray(struct.pack("<QQQI", MAGIC, 1, len(es), ss).ljust(ss, b"\0"))
    for e in es:
        log += e
    lp, bp, op = (os.path.join(d, n) for n in ("log", "base", "out"))
    open(lp, "wb").write(log)
    open(bp, "wb").write(b"\xff" * (20 * ss))
    open(op, "wb").write(bytes(20 * ss))
    open(os.path.join(d, "cA"), "wb").write(b"A" * 512)
    open(os.path.join(d, "cB"), "wb").write(b"B" * 512)
    entries, _ = parse(lp)
    rp = Replayer(lp, bp, op, [(0, 8 * ss), (8 * ss, 12 * ss)], False, ss, entries)
    man = [("m1", "src", 10 * ss, ss, os.path.join(d, "cA")),
           ("m2", "src", 16 * ss, ss, os.path.join(d, "cB"))]
    bad = []

    def sect(n):
        return open(op, "rb").read()[n * ss:(n + 1) * ss]

    def expect(what, cond):
        if not cond:
            bad.append(what)
    rp.advance(1)
    rp.materialise()
    expect("write pending after another device's flush", sect(10) == b"\xff" * ss)
    expect("data check passes with no mark", cmd_data(rp, man, op, "src").startswith("OK 0"))
    rp.advance(2)
    rp.materialise()
    expect("FUA write durable", sect(4) == b"M" * ss)
    rp.advance(4)
    rp.materialise()
    expect("write durable after its device's flush", sect(10) == b"A" * ss)
    expect("data check finds m1", cmd_data(rp, man, op, "src") == "OK 1")
    rp.advance(6)
    rp.materialise()
    expect("discard pending", sect(12) == b"\xff" * ss)
    rp.advance(8)
    rp.materialise()
    expect("discard applied as zeroes", sect(12) == bytes(ss) and sect(13) == bytes(ss))
    expect("data check finds m2", cmd_data(rp, man, op, "src") == "OK 2")
    # a marked write missing from the device must fail
    open(os.path.join(d, "cB"), "wb").write(b"C" * 512)
    expect("data check fails on a lost write", cmd_data(rp, man, op, "src").startswith("BAD"))
    # view: PIT = base; region 5 (sectors 10,11) written through the view
    vman = [("m1", "view", 10 * ss, ss, os.path.join(d, "cA"))]
    expect("view: other regions differ from PIT", cmd_view(rp, vman, op, bp, "view").startswith("BAD region 2"))
    shutil_copy(bp, op)
    expect("view: PIT only, mark in prefix", "lacks view write m1" in cmd_view(rp, vman, op, bp, "view"))
    rp.marks = []
    expect("view: PIT only, no mark", cmd_view(rp, vman, op, bp, "view").startswith("OK 10 10 0"))
    with open(op, "r+b") as f:
        f.seek(10 * ss)
        f.write(b"A" * ss)
    expect("view: with the view write", cmd_view(rp, vman, op, bp, "view").startswith("OK 10 9 1"))
    with open(op, "r+b") as f:
        f.seek(11 * ss)
        f.write(b"Z" * ss)
    expect("view: torn region", cmd_view(rp, vman, op, bp, "view").startswith("BAD region 5"))
    expect("equal", cmd_equal(bp, bp) == "OK" and cmd_equal(bp, op).startswith("BAD"))
    sweep_selftest(d, ent, ss, expect)
    REGION = 1024
    for n in os.listdir(d):
        os.unlink(os.path.join(d, n))
    os.rmdir(d)
    if bad:
        sys.exit("log-replay selftest FAILED: " + "; ".join(bad))
    print("log-replay selftest: ok")


def sweep_selftest(d, ent, ss, expect):
    """the sweep on synthetic logs, with a stand-in for replica-mdump that
    reads byte 0 of the metadata as the bits of two 1 KiB regions and byte 1
    as the sync type: meta = sectors 0-1, source 2-5, target 6-9"""
    import contextlib
    import io
    fake = os.path.join(d, "fake-mdump")
    with open(fake, "w") as f:
        f.write("#!%s\nimport sys\nfor l in sys.stdin:\n"
                "    o, n = map(int, l.split())\n"
                "    b = open(sys.argv[2], 'rb').read()[o:o + 2]\n"
                "    print('ok slot 0 generation 1 flags 0 sync_type %%d mode 2 copy_state 4 "
                "region_sectors 2 nr_regions 2 bits_set 0 store_slots 0' %% b[1])\n"
                "    print('bits %%02x' %% (b[0] & 3))\n    print('end', flush=True)\n" % sys.executable)
    os.chmod(fake, 0o755)

    def meta(bits, st):
        return bytes([bits, st]).ljust(ss, b"\0")

    def run(name, base, es, pit=None):
        lp, bp = os.path.join(d, name + ".log"), os.path.join(d, name + ".base")
        log = bytearray(struct.pack("<QQQI", MAGIC, 1, len(es), ss).ljust(ss, b"\0"))
        for e in es:
            log += e
        open(lp, "wb").write(log)
        open(bp, "wb").write(base)
        argv = [lp, bp, "--devs", "0:2,2:4,6:4", "--region", "1024", "--mdump", fake]
        if pit:
            open(os.path.join(d, "pit"), "wb").write(pit)
            argv += ["--pit", os.path.join(d, "pit")]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = Sweep(argv).run()
        return rc, out.getvalue()
    P, N, Z = b"P" * 1024, b"N" * 1024, bytes(1024)
    base = meta(0, 7) + bytes(ss) + P + P + Z + Z
    # a bit committed before its copy was flushed on the target
    rc, out = run("early", base, [ent(6, 2, 0, P), ent(0, 1, F_FUA, meta(1, 7))])
    expect("sweep: bit before its data", rc == 1 and "region 0 (bit 1: read from the target)" in out)
    # the same with the target flushed first, then the origin overwritten
    rc, out = run("ordered", base, [ent(6, 2, 0, P), ent(6, 0, F_FLUSH),
                                    ent(0, 1, F_FUA, meta(1, 7)), ent(2, 2, 0, N),
                                    ent(2, 0, F_FLUSH)])
    expect("sweep: copy, flush, bit, overwrite", rc == 0 and out.startswith("SWEEP OK 3 0 "))
    # the origin overwritten before the bit was durable
    rc, out = run("overwrite", base, [ent(6, 2, 0, P), ent(2, 2, F_FUA, N)])
    expect("sweep: overwrite before the bit", rc == 1 and "(bit 0: read from the source)" in out)
    # mirror: a clean region whose legs differ
    A = b"A" * 1024
    mbase = meta(0, 6) + bytes(ss) + A + A + A + A
    rc, out = run("mirror", mbase, [ent(0, 1, F_FUA, meta(2, 6)), ent(4, 2, F_FUA, N),
                                    ent(0, 1, F_FUA, meta(0, 6))])
    expect("sweep: mirror clean with unequal legs", rc == 1 and "mirror region 1 is clean" in out)
    rc, out = run("mirror-ok", mbase, [ent(0, 1, F_FUA, meta(2, 6)), ent(4, 2, F_FUA, N),
                                       ent(8, 2, 0, N), ent(6, 0, F_FLUSH),
                                       ent(0, 1, F_FUA, meta(0, 6))])
    expect("sweep: mirror resynced, then clean", rc == 0)


def shutil_copy(a, b):
    with open(a, "rb") as x, open(b, "wb") as y:
        y.write(x.read())


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    c, argv = sys.argv[1], sys.argv[2:]
    if c == "dump":
        cmd_dump(argv)
    elif c == "serve":
        cmd_serve(argv)
    elif c == "selftest":
        cmd_selftest(argv)
    elif c == "sweep":
        cmd_sweep(argv)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
