#!/usr/bin/env python3
"""Capture QEMU 7.2's NUMA semantics and topology for the cases in cases.txt.

Usage: python3 capture.py [--cases FILE] [--out FILE] [--machines FILE]
                          [--qemu BINARY] [--only ID[,ID...]] [--no-machines]

Reads cases.txt (same folder by default), runs every case through
qemu-system-x86_64 while talking QMP to it interactively, and writes
golden.jsonl (same folder by default).  It also writes machines.json from
one `query-machines` call.  With --only, the selected cases are printed to
stdout instead and nothing is written.

Python 3 standard library only.  Cases run one at a time and the output is
deterministic (two runs give identical files).
"""

import argparse
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROG = "qemu-system-x86_64"
BASE_ARGS = ["-S", "-nodefaults", "-display", "none", "-accel", "tcg",
             "-qmp", "stdio"]
TIMEOUT = 20.0
ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
PREFIXES = ("node-", "dist-", "cpu-", "hmat-", "complete-", "smp-", "m-",
            "qtest-", "machine-")
# Machine types listed in machines.json.
MACHINE_RE = re.compile(r"^(pc-i440fx-.*|pc-q35-.*|pc|q35|isapc|microvm|none)$")
MACHINE_KEYS = ("name", "alias", "is-default", "cpu-max",
                "numa-mem-supported", "default-ram-id", "deprecated",
                "hotpluggable-cpus", "default-cpu-type")
# Values used when query-machines leaves an optional member out.
MACHINE_DEFAULTS = {"alias": None, "is-default": False,
                    "default-ram-id": None, "default-cpu-type": None}
# Topology properties kept in a slot's "props", in this order.
PROP_KEYS = ("node-id", "socket-id", "die-id", "cluster-id", "core-id",
             "thread-id")


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


def normalise_stderr(text, prog):
    lines = text.replace("\r", "").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    prefix = prog + ": "
    return ["qemu: " + l[len(prefix):] if l.startswith(prefix) else l
            for l in lines]


class Qmp:
    """A minimal interactive QMP client over a child's stdin/stdout."""

    def __init__(self, argv, deadline):
        env = dict(os.environ, LC_ALL="C", LANG="C")
        self.deadline = deadline
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env,
                                     cwd="/tmp")
        self.lines = queue.Queue()
        self.err = []
        self.timed_out = False
        self.counter = 0
        threading.Thread(target=self._pump_out, daemon=True).start()
        self.err_thread = threading.Thread(target=self._pump_err, daemon=True)
        self.err_thread.start()

    def _pump_out(self):
        for raw in self.proc.stdout:
            self.lines.put(raw.decode("utf-8", "replace"))
        self.lines.put(None)

    def _pump_err(self):
        self.err.append(self.proc.stderr.read().decode("utf-8", "replace"))

    def _next_msg(self):
        """Next JSON object from stdout, or None at EOF / timeout."""
        while True:
            left = self.deadline - time.monotonic()
            if left <= 0:
                self.timed_out = True
                return None
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                self.timed_out = True
                return None
            if line is None:
                self.lines.put(None)   # keep reporting EOF
                return None
            line = line.strip()
            if not line:
                continue
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if isinstance(msg, dict):
                return msg

    def greeting(self):
        while True:
            msg = self._next_msg()
            if msg is None:
                return False
            if "QMP" in msg:
                return True

    def cmd(self, execute, arguments=None):
        """Send one command; return its reply ({"return"|"error"}) or None."""
        self.counter += 1
        cid = f"c{self.counter}"
        req = {"execute": execute, "id": cid}
        if arguments is not None:
            req["arguments"] = arguments
        try:
            self.proc.stdin.write((json.dumps(req) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        while True:
            msg = self._next_msg()
            if msg is None:
                return None
            if msg.get("id") == cid:
                return msg

    def finish(self):
        """Wait for the process; return (exit status, stderr text)."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        left = max(0.1, self.deadline - time.monotonic())
        try:
            rc = self.proc.wait(timeout=left)
        except subprocess.TimeoutExpired:
            self.timed_out = True
            self.proc.kill()
            self.proc.wait()
            rc = -1
        if self.timed_out:
            rc = -1
        self.err_thread.join()
        text = "".join(self.err)
        if self.timed_out:
            text += "\n<timeout>"
        return rc, text


def ret(reply):
    if reply is not None and "return" in reply:
        return reply["return"]
    return None


def slot_props(props):
    return {k: props[k] for k in PROP_KEYS if k in props}


def build_slots(hotpluggable, cpus_fast, apic_ids):
    """Merge query-hotpluggable-cpus and query-cpus-fast into slot list.

    Machines without CPU hotplug (microvm) fail query-hotpluggable-cpus;
    their slots are then the present CPUs of query-cpus-fast.  Without
    either, the result is None.
    """
    if hotpluggable is None:
        if not cpus_fast:
            return None
        slots = [{"index": c["cpu-index"], "present": True,
                  "apic_id": apic_ids.get(c["cpu-index"]),
                  "props": slot_props(c.get("props", {}))}
                 for c in cpus_fast]
        return sorted(slots, key=lambda s: s["index"])
    slots = []
    fast = list(cpus_fast or [])
    for pos, entry in enumerate(reversed(hotpluggable)):
        props = slot_props(entry.get("props", {}))
        present = "qom-path" in entry
        index = pos
        apic = None
        if present:
            match = [c for c in fast
                     if slot_props(c.get("props", {})) == props]
            if len(match) != 1:
                raise RuntimeError(f"cannot match present slot {props} "
                                   f"with query-cpus-fast ({len(match)})")
            index = match[0]["cpu-index"]
            apic = apic_ids.get(index)
        slots.append({"index": index, "present": present, "apic_id": apic,
                      "props": props})
    slots.sort(key=lambda s: s["index"])
    if [s["index"] for s in slots] != list(range(len(slots))):
        raise RuntimeError("slot indexes are not 0..n-1")
    return slots


def run_case(qemu, cid, args):
    deadline = time.monotonic() + TIMEOUT
    q = Qmp([qemu] + BASE_ARGS + args, deadline)
    info_numa = memdevs = slots = None
    quit_ok = False
    greeted = q.greeting()
    if greeted:
        ret(q.cmd("qmp_capabilities"))
        if "--preconfig" in args:
            q.cmd("x-exit-preconfig")
        info_numa = ret(q.cmd("human-monitor-command",
                              {"command-line": "info numa"}))
        if info_numa is not None:
            info_numa = info_numa.replace("\r\n", "\n")
        memdevs = ret(q.cmd("query-memdev"))
        if memdevs is not None:
            memdevs = sorted(memdevs, key=lambda m: (
                m.get("id", ""), json.dumps(m, sort_keys=True)))
        hotpluggable = ret(q.cmd("query-hotpluggable-cpus"))
        cpus_fast = ret(q.cmd("query-cpus-fast"))
        apic_ids = {}
        for c in cpus_fast or []:
            apic_ids[c["cpu-index"]] = ret(q.cmd(
                "qom-get", {"path": c["qom-path"], "property": "apic-id"}))
        slots = build_slots(hotpluggable, cpus_fast, apic_ids)
        quit_ok = q.cmd("quit") is not None
    rc, err = q.finish()
    return {
        "id": cid,
        "args": args,
        "exit": rc,
        "accepted": rc == 0 and greeted and quit_ok,
        "stderr": normalise_stderr(err, os.path.basename(qemu)),
        "info_numa": info_numa,
        "memdevs": memdevs,
        "slots": slots,
    }


def capture_machines(qemu):
    deadline = time.monotonic() + TIMEOUT
    q = Qmp([qemu] + BASE_ARGS + ["-M", "none"], deadline)
    machines = None
    if q.greeting():
        q.cmd("qmp_capabilities")
        machines = ret(q.cmd("query-machines"))
        q.cmd("quit")
    q.finish()
    if machines is None:
        sys.exit("query-machines failed")
    out = []
    for m in machines:
        if not MACHINE_RE.match(m["name"]):
            continue
        out.append({k: m.get(k, MACHINE_DEFAULTS.get(k)) for k in MACHINE_KEYS})
    out.sort(key=lambda m: m["name"])
    return out


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default=os.path.join(HERE, "cases.txt"))
    ap.add_argument("--out", default=os.path.join(HERE, "golden.jsonl"))
    ap.add_argument("--machines", default=os.path.join(HERE, "machines.json"))
    ap.add_argument("--qemu", default=PROG)
    ap.add_argument("--only", help="comma-separated case ids; print to stdout")
    ap.add_argument("--no-machines", action="store_true",
                    help="do not rewrite machines.json")
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
        unknown = wanted - {c[0] for c in cases}
        if unknown:
            sys.exit(f"unknown case ids: {', '.join(sorted(unknown))}")
        cases = [c for c in cases if c[0] in wanted]
    results = [run_case(opts.qemu, *c) for c in cases]

    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results)
    if opts.only:
        sys.stdout.write(text)
        return
    write_atomic(opts.out, text)
    acc = sum(r["accepted"] for r in results)
    print(f"{len(results)} cases: {acc} accepted, {len(results) - acc} "
          f"rejected -> {opts.out}", file=sys.stderr)
    if not opts.no_machines:
        machines = capture_machines(opts.qemu)
        write_atomic(opts.machines, json.dumps(machines, indent=1) + "\n")
        print(f"{len(machines)} machine types -> {opts.machines}",
              file=sys.stderr)


if __name__ == "__main__":
    main()
