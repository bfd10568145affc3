#!/usr/bin/env python3
"""Capture the SRAT, SLIT and HMAT that QEMU 7.2 builds for cases.txt.

Usage: python3 capture.py [--cases FILE] [--out FILE] [--qemu BINARY]
                          [--only ID[,ID...]]

Each case runs as

    qemu-system-x86_64 -S -nodefaults -display none -accel tcg
                       -qtest stdio -qtest-log /dev/null <argv...>

The script speaks the qtest protocol on QEMU's stdin/stdout and reads the
fw_cfg device without booting anything: the file directory (selector
0x19), then the file `etc/acpi/tables`.  It uses the fw_cfg DMA interface
(I/O port 0x514) when the machine type has it, and byte reads from the data
port 0x511 otherwise.  It then walks the tables in that blob (FACS first,
then one ACPI header after another) and keeps SRAT, SLIT and HMAT as hex.
Their checksum byte is 0 there: the firmware's linker/loader fills it in.

Writes golden.jsonl (same folder by default), one object per case in
cases.txt order: {"id", "args", "SRAT", "SLIT", "HMAT"}, absent tables as
null.  With --only, the selected cases are printed to stdout instead and
nothing is written.

Python 3 standard library only.  Cases run one at a time and the output is
deterministic (two runs give identical files).
"""

import argparse
import json
import os
import re
import struct
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
PROG = "qemu-system-x86_64"
BASE_ARGS = ["-S", "-nodefaults", "-display", "none",
             "-qtest", "stdio", "-qtest-log", "/dev/null"]
# Cases whose id starts with "kvm-" run under KVM (/dev/kvm needed): TCG
# refuses APIC ids of 255 and more, so x2APIC entries need KVM.
KVM_PREFIX = "kvm-"
TIMEOUT = 60.0
ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
WANTED = ("SRAT", "SLIT", "HMAT")

FW_CFG_SELECTOR = 0x510
FW_CFG_DATA = 0x511
FW_CFG_DMA_HIGH = 0x514
FW_CFG_DMA_LOW = 0x518
FW_CFG_ID = 0x01
FW_CFG_FILE_DIR = 0x19
FW_CFG_DMA_CTL_READ = 0x02
FW_CFG_DMA_CTL_SELECT = 0x08
# Guest-physical scratch space for DMA (every case has RAM there).
DMA_DESC = 0x1000
DMA_BUF = 0x100000


def load_cases(path):
    cases = []
    seen = set()
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if "\t" not in line:
                sys.exit(f"{path}:{lineno}: expected <id><TAB><json array>")
            cid, js = line.split("\t", 1)
            if not ID_RE.match(cid):
                sys.exit(f"{path}:{lineno}: bad case id {cid!r}")
            if cid in seen:
                sys.exit(f"{path}:{lineno}: duplicate case id {cid!r}")
            seen.add(cid)
            args = json.loads(js)
            if not isinstance(args, list) or \
                    not all(isinstance(a, str) for a in args):
                sys.exit(f"{path}:{lineno}: args must be a JSON array of "
                         "strings")
            cases.append((cid, args))
    return cases


class QtestError(Exception):
    pass


class Qtest:
    """A qtest session on QEMU's stdio."""

    def __init__(self, qemu, args, accel="tcg"):
        env = dict(os.environ, LC_ALL="C")
        self.proc = subprocess.Popen(
            [qemu] + BASE_ARGS + ["-accel", accel] + args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd="/tmp", env=env)
        self.stderr = []
        self.err_thread = threading.Thread(target=self._drain, daemon=True)
        self.err_thread.start()
        self.timer = threading.Timer(TIMEOUT, self.proc.kill)
        self.timer.start()

    def _drain(self):
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip("\n"))

    def cmd(self, text):
        try:
            self.proc.stdin.write(text + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise QtestError(self._died())
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise QtestError(self._died())
            line = line.strip()
            if line.startswith("OK"):
                return line[2:].strip()
            if line.startswith("FAIL") or line.startswith("ERR"):
                raise QtestError(f"{text!r}: {line}")
            # Asynchronous lines (IRQ ...) are ignored.

    def _died(self):
        self.proc.wait()
        self.err_thread.join(5)
        return "QEMU exited %s: %s" % (self.proc.returncode,
                                        " | ".join(self.stderr))

    def close(self):
        self.timer.cancel()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.err_thread.join(5)
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass

    # fw_cfg over I/O ports.
    def select(self, key):
        self.cmd("outw %#x %#x" % (FW_CFG_SELECTOR, key))

    def read_io(self, n):
        out = bytearray()
        for _ in range(n):
            out.append(int(self.cmd("inb %#x" % FW_CFG_DATA), 16) & 0xff)
        return bytes(out)

    def has_dma(self):
        self.select(FW_CFG_ID)
        return bool(struct.unpack("<I", self.read_io(4))[0] & 2)

    def read_dma(self, key, n):
        control = (key << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ
        desc = struct.pack(">IIQ", control, n, DMA_BUF)
        self.cmd("write %#x %d 0x%s" % (DMA_DESC, len(desc), desc.hex()))
        # The DMA address register is big-endian; writing its low half
        # starts the transfer.
        self.cmd("outl %#x 0x0" % FW_CFG_DMA_HIGH)
        self.cmd("outl %#x %#x" % (FW_CFG_DMA_LOW,
                                   struct.unpack("<I", struct.pack(
                                       ">I", DMA_DESC))[0]))
        status = bytes.fromhex(self.cmd("read %#x 4" % DMA_DESC)[2:])
        if struct.unpack(">I", status)[0] != 0:
            raise QtestError("fw_cfg DMA failed: %s" % status.hex())
        data = bytes.fromhex(self.cmd("read %#x %d" % (DMA_BUF, n))[2:])
        if len(data) != n:
            raise QtestError("short read")
        return data


def read_files(q, dma):
    if dma:
        count = struct.unpack(">I", q.read_dma(FW_CFG_FILE_DIR, 4))[0]
        raw = q.read_dma(FW_CFG_FILE_DIR, 4 + 64 * count)[4:]
    else:
        q.select(FW_CFG_FILE_DIR)
        count = struct.unpack(">I", q.read_io(4))[0]
        raw = q.read_io(64 * count)
    files = {}
    for i in range(count):
        e = raw[64 * i:64 * (i + 1)]
        size, sel = struct.unpack(">IH", e[:6])
        name = e[8:].split(b"\0", 1)[0].decode("ascii")
        files[name] = (size, sel)
    return files


def walk_tables(blob):
    """Split etc/acpi/tables into (signature, bytes) in blob order."""
    tables = []
    off = 0
    while off + 8 <= len(blob):
        sig = blob[off:off + 4]
        length = struct.unpack_from("<I", blob, off + 4)[0]
        if sig == b"\0\0\0\0" or length < 8 or off + length > len(blob):
            break
        tables.append((sig.decode("ascii", "replace"),
                       blob[off:off + length]))
        off += length
    return tables


def read_tables_io(q, size):
    """Byte reads, stopping after the last table (skips the padding)."""
    sel = None
    blob = bytearray()
    while len(blob) + 8 <= size:
        head = q.read_io(8)
        blob += head
        length = struct.unpack_from("<I", head, 4)[0]
        if head[:4] == b"\0\0\0\0" or length < 8 or \
                len(blob) - 8 + length > size:
            break
        blob += q.read_io(length - 8)
    return bytes(blob)


def capture(qemu, cid, args):
    q = Qtest(qemu, args, "kvm" if cid.startswith(KVM_PREFIX) else "tcg")
    try:
        dma = q.has_dma()
        files = read_files(q, dma)
        if "etc/acpi/tables" not in files:
            raise QtestError("no etc/acpi/tables")
        size, sel = files["etc/acpi/tables"]
        if dma:
            blob = q.read_dma(sel, size)
        else:
            q.select(sel)
            blob = read_tables_io(q, size)
    except QtestError as e:
        q.close()
        sys.exit(f"{cid}: {e}")
    q.close()
    tables = walk_tables(blob)
    sigs = [s for s, _ in tables]
    if not sigs or sigs[0] != "FACS":
        sys.exit(f"{cid}: unexpected table layout {sigs}")
    out = {"id": cid, "args": args}
    for want in WANTED:
        found = [t for s, t in tables if s == want]
        if len(found) > 1:
            sys.exit(f"{cid}: {want} appears {len(found)} times")
        out[want] = found[0].hex() if found else None
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default=os.path.join(HERE, "cases.txt"))
    ap.add_argument("--out", default=os.path.join(HERE, "golden.jsonl"))
    ap.add_argument("--qemu", default=PROG)
    ap.add_argument("--only", default=None)
    opts = ap.parse_args()

    version = subprocess.run([opts.qemu, "--version"], capture_output=True,
                             text=True).stdout.split("\n")[0]
    if not re.search(r"version 7\.2\.", version):
        print(f"warning: expected QEMU 7.2.x, got {version!r}",
              file=sys.stderr)

    cases = load_cases(opts.cases)
    if opts.only:
        wanted = set(opts.only.split(","))
        unknown = wanted - {c for c, _ in cases}
        if unknown:
            sys.exit("unknown case ids: " + ", ".join(sorted(unknown)))
        cases = [(c, a) for c, a in cases if c in wanted]

    lines = []
    for cid, args in cases:
        lines.append(json.dumps(capture(opts.qemu, cid, args),
                                separators=(", ", ": ")))
    text = "".join(line + "\n" for line in lines)
    if opts.only:
        sys.stdout.write(text)
    else:
        tmp = opts.out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, opts.out)
        print(f"wrote {len(lines)} cases to {opts.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
