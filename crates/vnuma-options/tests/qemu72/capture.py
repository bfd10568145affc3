#!/usr/bin/env python3
"""Capture QEMU 7.2's answers for the command lines in cases.txt.

Usage: python3 capture.py [--cases FILE] [--out FILE] [--qemu BINARY]
                          [--only ID[,ID...]]

Reads cases.txt (same folder by default), runs every case through
qemu-system-x86_64 and writes golden.jsonl (same folder by default).
With --only, the selected cases are printed to stdout instead.
Python 3 standard library only.  Cases run one at a time (some share a
scratch file), and the output is deterministic.
"""

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PROG = "qemu-system-x86_64"
BASE_ARGS = ["-S", "-nodefaults", "-display", "none", "-accel", "tcg",
             "-qmp", "stdio"]
TIMEOUT = 20
# A file that some cases use as mem-path; it is removed before and after
# every case so that each case starts from the same state.
SCRATCH_FILES = ["/dev/shm/vnuma-capture-test"]
QMP_INPUT = "".join(json.dumps(c, separators=(",", ":")) + "\n" for c in [
    {"execute": "qmp_capabilities", "id": "caps"},
    {"execute": "human-monitor-command",
     "arguments": {"command-line": "info numa"}, "id": "numa"},
    {"execute": "query-memdev", "id": "memdev"},
    {"execute": "quit", "id": "quit"},
])
ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
PREFIXES = ("numa-node-", "numa-dist-", "numa-cpu-", "hmat-lb-",
            "hmat-cache-", "object-", "m-", "smp-", "machine-", "misc-")


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
            if not ID_RE.match(cid) or not cid.startswith(PREFIXES):
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


def clean_scratch():
    for p in SCRATCH_FILES:
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass


def normalise_stderr(text, prog):
    lines = text.replace("\r", "").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    prefix = prog + ": "
    return ["qemu: " + l[len(prefix):] if l.startswith(prefix) else l
            for l in lines]


def run_case(qemu, cid, args):
    clean_scratch()
    env = dict(os.environ, LC_ALL="C", LANG="C")
    try:
        p = subprocess.run([qemu] + BASE_ARGS + args, input=QMP_INPUT,
                           capture_output=True, text=True, timeout=TIMEOUT,
                           env=env, cwd="/tmp")
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        def dec(b):
            if b is None:
                return ""
            return b.decode("utf-8", "replace") if isinstance(b, bytes) else b
        rc, out, err = -1, dec(e.stdout), dec(e.stderr) + "\n<timeout>"
    finally:
        clean_scratch()

    replies = {}
    greeting = False
    for line in out.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if "QMP" in msg:
            greeting = True
        elif "id" in msg:
            replies[msg["id"]] = msg

    def ret(key):
        r = replies.get(key)
        return r["return"] if r is not None and "return" in r else None

    info_numa = ret("numa")
    if info_numa is not None:
        info_numa = info_numa.replace("\r\n", "\n")
    memdevs = ret("memdev")
    if memdevs is not None:
        memdevs = sorted(memdevs, key=lambda m: (m.get("id", ""),
                                                 json.dumps(m, sort_keys=True)))
    accepted = rc == 0 and greeting and "quit" in replies
    return {
        "id": cid,
        "args": args,
        "exit": rc,
        "accepted": accepted,
        "stderr": normalise_stderr(err, os.path.basename(qemu)),
        "info_numa": info_numa,
        "memdevs": memdevs,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default=os.path.join(HERE, "cases.txt"))
    ap.add_argument("--out", default=os.path.join(HERE, "golden.jsonl"))
    ap.add_argument("--qemu", default=PROG)
    ap.add_argument("--only", help="comma-separated case ids; print to stdout")
    opts = ap.parse_args()

    try:
        version = subprocess.run([opts.qemu, "--version"], capture_output=True,
                                 text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        sys.exit(f"cannot run {opts.qemu} --version")
    if "version 7.2." not in version:
        print(f"warning: golden data was captured with QEMU 7.2, this is: "
              f"{version}", file=sys.stderr)

    cases = load_cases(opts.cases)
    if opts.only:
        wanted = set(opts.only.split(","))
        cases = [c for c in cases if c[0] in wanted]
    results = [run_case(opts.qemu, *c) for c in cases]

    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results)
    if opts.only:
        sys.stdout.write(text)
        return
    tmp = opts.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, opts.out)
    acc = sum(r["accepted"] for r in results)
    print(f"{len(results)} cases: {acc} accepted, {len(results) - acc} "
          f"rejected -> {opts.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
