//! `cargo xtask qemu-diff [--corpus FILE] [--update] [--only ID,...]
//! [--generate N --seed S] [--qemu BINARY] [--jobs N]`: live differential
//! testing against QEMU 7.2.
//!
//! Every case (a corpus in the `cases.txt` format, or random command lines
//! from a seeded generator) runs through `qemu-system-x86_64` in a QMP
//! session exactly like the one the topology corpus's `capture.py` holds,
//! and through vnuma in-process (`vnuma::Vm::from_args`). Every
//! disagreement is printed: accept or reject, the first error, the
//! warnings, `info numa`, `query-memdev`, and each CPU slot's node, APIC
//! id and topology ids. Cases on vnuma's list of deliberate deviations are
//! counted apart. The exit status is 0 when nothing disagrees, 1 when
//! something does, 2 when QEMU is missing or the arguments are wrong.
//!
//! `--update` writes QEMU's answers as `capture.py` would: for a corpus,
//! the `golden.jsonl` next to it (byte for byte what that folder's
//! `capture.py` writes, in its record format; `machines.json` is left to
//! `capture.py`); with `--generate`, the generated cases are appended to
//! the corpus (default: the topology corpus) and their answers to its
//! `golden.jsonl`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// QEMU's binary, as `capture.py` names it.
const QEMU: &str = "qemu-system-x86_64";
/// The arguments every case runs with, before its own.
const BASE_ARGS: &[&str] = &[
    "-S",
    "-nodefaults",
    "-display",
    "none",
    "-accel",
    "tcg",
    "-qmp",
    "stdio",
];
/// Per-case time limit (all QMP traffic and the exit).
const TIMEOUT: Duration = Duration::from_secs(20);
/// Files some options cases use as `mem-path`; removed before and after
/// every case that names one (the options `capture.py` does this for
/// every case; those cases also never run concurrently here).
const SCRATCH_FILES: &[&str] = &["/dev/shm/vnuma-capture-test"];
/// Topology properties kept in a slot's `props`, in this order.
const PROP_KEYS: &[&str] = &[
    "node-id",
    "socket-id",
    "die-id",
    "cluster-id",
    "core-id",
    "thread-id",
];
/// The default corpus, relative to the workspace root.
const DEFAULT_CORPUS: &str = "crates/vnuma-topology/tests/qemu72/cases.txt";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

// ---------------------------------------------------------------------
// JSON that keeps key order, written the way Python's json.dumps does.
// (serde_json's `preserve_order` would change key order for every crate
// of the workspace through feature unification, so xtask has its own.)
// ---------------------------------------------------------------------

/// A JSON value with object members in their original order.
#[derive(Clone, Debug, PartialEq)]
enum J {
    Null,
    Bool(bool),
    /// The number as written.
    Num(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    fn get(&self, key: &str) -> Option<&J> {
        match self {
            J::Obj(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            J::Str(s) => Some(s),
            _ => None,
        }
    }

    fn as_arr(&self) -> Option<&[J]> {
        match self {
            J::Arr(a) => Some(a),
            _ => None,
        }
    }

    fn str(s: &str) -> J {
        J::Str(s.to_string())
    }

    fn int(n: i64) -> J {
        J::Num(n.to_string())
    }

    fn obj(members: Vec<(&str, J)>) -> J {
        J::Obj(
            members
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    fn to_serde(&self) -> Value {
        match self {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Num(n) => serde_json::from_str(n).unwrap_or(Value::Null),
            J::Str(s) => Value::String(s.clone()),
            J::Arr(a) => Value::Array(a.iter().map(J::to_serde).collect()),
            J::Obj(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_serde())).collect()),
        }
    }

    /// `json.dumps(self, ensure_ascii=False[, sort_keys=True])`.
    fn dumps(&self, sort_keys: bool) -> String {
        let mut out = String::new();
        self.dump_into(&mut out, sort_keys);
        out
    }

    fn dump_into(&self, out: &mut String, sort_keys: bool) {
        match self {
            J::Null => out.push_str("null"),
            J::Bool(true) => out.push_str("true"),
            J::Bool(false) => out.push_str("false"),
            // Python prints an int it parsed in canonical form.
            J::Num(n) => match n.parse::<i128>() {
                Ok(i) => {
                    let _ = write!(out, "{i}");
                }
                Err(_) => out.push_str(n),
            },
            J::Str(s) => dump_str(out, s),
            J::Arr(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.dump_into(out, sort_keys);
                }
                out.push(']');
            }
            J::Obj(m) => {
                let mut members: Vec<&(String, J)> = m.iter().collect();
                if sort_keys {
                    members.sort_by(|a, b| a.0.cmp(&b.0));
                }
                out.push('{');
                for (i, (k, v)) in members.into_iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    dump_str(out, k);
                    out.push_str(": ");
                    v.dump_into(out, sort_keys);
                }
                out.push('}');
            }
        }
    }
}

/// A string as Python's json module writes it with `ensure_ascii=False`.
fn dump_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Parse one JSON document (surrounding white space allowed).
fn parse_json(text: &str) -> Option<J> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let v = p.value(0)?;
    p.ws();
    (p.i == p.s.len()).then_some(v)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn lit(&mut self, word: &str, v: J) -> Option<J> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Some(v)
        } else {
            None
        }
    }

    fn value(&mut self, depth: usize) -> Option<J> {
        if depth > 128 {
            return None;
        }
        self.ws();
        match *self.s.get(self.i)? {
            b'n' => self.lit("null", J::Null),
            b't' => self.lit("true", J::Bool(true)),
            b'f' => self.lit("false", J::Bool(false)),
            b'"' => self.string().map(J::Str),
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                if self.eat(b']') {
                    return Some(J::Arr(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    if self.eat(b']') {
                        return Some(J::Arr(items));
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            b'{' => {
                self.i += 1;
                let mut members = Vec::new();
                if self.eat(b'}') {
                    return Some(J::Obj(members));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    if !self.eat(b':') {
                        return None;
                    }
                    let v = self.value(depth + 1)?;
                    members.push((k, v));
                    if self.eat(b'}') {
                        return Some(J::Obj(members));
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = self.i;
                self.i += 1;
                while matches!(
                    self.s.get(self.i),
                    Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                ) {
                    self.i += 1;
                }
                let n = std::str::from_utf8(&self.s[start..self.i]).ok()?;
                serde_json::from_str::<Value>(n).ok()?;
                Some(J::Num(n.to_string()))
            }
            _ => None,
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = std::str::from_utf8(self.s.get(self.i..self.i + 4)?).ok()?;
        self.i += 4;
        u32::from_str_radix(h, 16).ok()
    }

    fn string(&mut self) -> Option<String> {
        if self.s.get(self.i) != Some(&b'"') {
            return None;
        }
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let b = *self.s.get(self.i)?;
            self.i += 1;
            match b {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = *self.s.get(self.i)?;
                    self.i += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xd800..0xdc00).contains(&hi)
                                && self.s.get(self.i..self.i + 2) == Some(b"\\u")
                            {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xdc00..0xe000).contains(&lo) {
                                    0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                                } else {
                                    self.i = save;
                                    hi
                                }
                            } else {
                                hi
                            };
                            char::from_u32(code).unwrap_or('\u{fffd}')
                        }
                        _ => return None,
                    };
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                b => out.push(b),
            }
        }
    }
}

// ---------------------------------------------------------------------
// Corpora
// ---------------------------------------------------------------------

/// One command line to compare.
#[derive(Clone, Debug)]
struct Case {
    id: String,
    args: Vec<String>,
}

/// Which `capture.py` record format a corpus uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    /// `crates/vnuma-topology/tests/qemu72`: with `slots`.
    Topology,
    /// `crates/vnuma-options/tests/qemu72`: without `slots`.
    Options,
}

fn load_cases(path: &Path) -> Result<Vec<Case>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut cases = Vec::new();
    let mut seen = HashSet::new();
    for (n, line) in text.lines().enumerate() {
        let at = || format!("{}:{}", path.display(), n + 1);
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((id, js)) = line.split_once('\t') else {
            return Err(format!("{}: expected <id><TAB><json array>", at()));
        };
        if !seen.insert(id.to_string()) {
            return Err(format!("{}: duplicate case id {id:?}", at()));
        }
        let args = match parse_json(js) {
            Some(J::Arr(items)) => items
                .iter()
                .map(|a| a.as_str().map(String::from))
                .collect::<Option<Vec<_>>>(),
            _ => None,
        };
        let Some(args) = args else {
            return Err(format!("{}: args must be a JSON array of strings", at()));
        };
        cases.push(Case {
            id: id.to_string(),
            args,
        });
    }
    Ok(cases)
}

/// The record format of the corpus at `cases`: the one its `golden.jsonl`
/// has, else the one its `capture.py` writes, else the topology format.
fn detect_style(cases: &Path) -> Style {
    let dir = cases.parent().unwrap_or(Path::new("."));
    if let Ok(golden) = std::fs::read_to_string(dir.join("golden.jsonl")) {
        if let Some(first) = golden.lines().find_map(parse_json) {
            return if first.has("slots") {
                Style::Topology
            } else {
                Style::Options
            };
        }
    }
    match std::fs::read_to_string(dir.join("capture.py")) {
        Ok(py) if !py.contains("query-hotpluggable-cpus") => Style::Options,
        _ => Style::Topology,
    }
}

/// The id prefix generated cases need so that the corpus's `capture.py`
/// accepts them (it checks ids against its `PREFIXES`).
fn generated_prefix(cases: &Path) -> String {
    let dir = cases.parent().unwrap_or(Path::new("."));
    let Ok(py) = std::fs::read_to_string(dir.join("capture.py")) else {
        return String::new();
    };
    let Some(start) = py.find("PREFIXES = (") else {
        return String::new();
    };
    let rest = &py[start + "PREFIXES = (".len()..];
    let body = &rest[..rest.find(')').unwrap_or(rest.len())];
    let prefixes: Vec<&str> = body.split('"').skip(1).step_by(2).collect();
    if prefixes.is_empty() || prefixes.iter().any(|p| "gen-".starts_with(p)) {
        return String::new();
    }
    ["complete-", "misc-"]
        .iter()
        .find(|p| prefixes.contains(p))
        .map_or(prefixes[0], |p| p)
        .to_string()
}

// ---------------------------------------------------------------------
// QEMU
// ---------------------------------------------------------------------

/// What QEMU answered for one case: the fields of a `golden.jsonl` record.
#[derive(Clone, Debug)]
struct QemuAnswer {
    exit: i64,
    accepted: bool,
    stderr: Vec<String>,
    info_numa: J,
    memdevs: J,
    /// `Err` when the slots could not be matched (`capture.py` would stop).
    slots: Result<J, String>,
}

impl QemuAnswer {
    /// The `golden.jsonl` line `capture.py` writes (without the newline).
    fn record(&self, case: &Case, style: Style) -> Result<String, String> {
        let mut members = vec![
            ("id", J::str(&case.id)),
            (
                "args",
                J::Arr(case.args.iter().map(|a| J::str(a)).collect()),
            ),
            ("exit", J::int(self.exit)),
            ("accepted", J::Bool(self.accepted)),
            (
                "stderr",
                J::Arr(self.stderr.iter().map(|l| J::str(l)).collect()),
            ),
            ("info_numa", self.info_numa.clone()),
            ("memdevs", self.memdevs.clone()),
        ];
        if style == Style::Topology {
            members.push(("slots", self.slots.clone()?));
        }
        Ok(J::obj(members).dumps(false))
    }
}

/// A minimal interactive QMP client over the child's stdin and stdout,
/// as in the topology corpus's `capture.py`.
struct Qmp {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    stderr: Option<std::thread::JoinHandle<Vec<u8>>>,
    deadline: Instant,
    eof: bool,
    timed_out: bool,
    counter: u32,
}

impl Qmp {
    fn start(qemu: &str, args: &[String], deadline: Instant) -> std::io::Result<Qmp> {
        let mut child = Command::new(qemu)
            .args(BASE_ARGS)
            .args(args)
            .env("LC_ALL", "C")
            .env("LANG", "C")
            .current_dir("/tmp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut buf = Vec::new();
            while matches!(r.read_until(b'\n', &mut buf), Ok(n) if n > 0) {
                if tx.send(String::from_utf8_lossy(&buf).into_owned()).is_err() {
                    break;
                }
                buf.clear();
            }
        });
        let err = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = stderr.read_to_end(&mut buf);
            buf
        });
        Ok(Qmp {
            stdin: child.stdin.take(),
            child,
            lines: rx,
            stderr: Some(err),
            deadline,
            eof: false,
            timed_out: false,
            counter: 0,
        })
    }

    /// The next JSON object from stdout, or `None` at EOF or timeout.
    fn next_msg(&mut self) -> Option<J> {
        loop {
            if self.eof {
                return None;
            }
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                self.timed_out = true;
                return None;
            }
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(msg @ J::Obj(_)) = parse_json(line.trim()) {
                        return Some(msg);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.timed_out = true;
                    return None;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => self.eof = true,
            }
        }
    }

    fn greeting(&mut self) -> bool {
        while let Some(msg) = self.next_msg() {
            if msg.has("QMP") {
                return true;
            }
        }
        false
    }

    /// Send one command; its reply (`return` or `error`), or `None`.
    fn cmd(&mut self, execute: &str, arguments: Option<J>) -> Option<J> {
        self.counter += 1;
        let id = format!("c{}", self.counter);
        let mut req = vec![("execute", J::str(execute)), ("id", J::str(&id))];
        if let Some(a) = arguments {
            req.push(("arguments", a));
        }
        let line = J::obj(req).dumps(false) + "\n";
        let stdin = self.stdin.as_mut()?;
        if stdin
            .write_all(line.as_bytes())
            .and_then(|()| stdin.flush())
            .is_err()
        {
            return None;
        }
        loop {
            let msg = self.next_msg()?;
            if msg.get("id").and_then(J::as_str) == Some(id.as_str()) {
                return Some(msg);
            }
        }
    }

    /// Wait for the exit: the status (-1 on timeout) and stderr's text.
    fn finish(mut self) -> (i64, String) {
        drop(self.stdin.take());
        let left = self
            .deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(100));
        let until = Instant::now() + left;
        let mut rc = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    break status
                        .code()
                        .map_or_else(|| -i64::from(status.signal().unwrap_or(0)), i64::from)
                }
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(2)),
                _ => {
                    self.timed_out = true;
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break -1;
                }
            }
        };
        if self.timed_out {
            rc = -1;
        }
        let err = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        let mut text = String::from_utf8_lossy(&err).into_owned();
        if self.timed_out {
            text.push_str("\n<timeout>");
        }
        (rc, text)
    }
}

fn ret(reply: Option<J>) -> Option<J> {
    match reply {
        Some(J::Obj(m)) => m
            .into_iter()
            .rev()
            .find(|(k, _)| k == "return")
            .map(|(_, v)| v),
        _ => None,
    }
}

fn normalise_stderr(text: &str, prog: &str) -> Vec<String> {
    let text = text.replace('\r', "");
    let mut lines: Vec<&str> = text.split('\n').collect();
    if lines.last() == Some(&"") {
        lines.pop();
    }
    let prefix = format!("{prog}: ");
    lines
        .into_iter()
        .map(|l| match l.strip_prefix(&prefix) {
            Some(rest) => format!("qemu: {rest}"),
            None => l.to_string(),
        })
        .collect()
}

fn slot_props(props: Option<&J>) -> J {
    J::Obj(
        PROP_KEYS
            .iter()
            .filter_map(|k| props?.get(k).map(|v| (k.to_string(), v.clone())))
            .collect(),
    )
}

/// `build_slots` of `capture.py`: query-hotpluggable-cpus and
/// query-cpus-fast merged into one list in cpu-index order.
fn build_slots(
    hotpluggable: Option<&J>,
    cpus_fast: Option<&J>,
    apic_ids: &HashMap<String, J>,
) -> Result<J, String> {
    let fast = cpus_fast.and_then(J::as_arr).unwrap_or(&[]);
    let index_of = |j: &J| j.get("cpu-index").map_or(String::new(), |v| v.dumps(false));
    let slot = |index: J, present: bool, apic: J, props: J| {
        J::obj(vec![
            ("index", index),
            ("present", J::Bool(present)),
            ("apic_id", apic),
            ("props", props),
        ])
    };
    let sort_key = |s: &J| -> i128 {
        match s.get("index") {
            Some(J::Num(n)) => n.parse().unwrap_or(i128::MAX),
            _ => i128::MAX,
        }
    };
    let Some(hotpluggable) = hotpluggable else {
        if fast.is_empty() {
            return Ok(J::Null);
        }
        let mut slots: Vec<J> = fast
            .iter()
            .map(|c| {
                slot(
                    c.get("cpu-index").cloned().unwrap_or(J::Null),
                    true,
                    apic_ids.get(&index_of(c)).cloned().unwrap_or(J::Null),
                    slot_props(c.get("props")),
                )
            })
            .collect();
        slots.sort_by_key(sort_key);
        return Ok(J::Arr(slots));
    };
    let entries = hotpluggable.as_arr().unwrap_or(&[]);
    let mut slots = Vec::new();
    for (pos, entry) in entries.iter().rev().enumerate() {
        let props = slot_props(entry.get("props"));
        let present = entry.has("qom-path");
        let (mut index, mut apic) = (J::int(pos as i64), J::Null);
        if present {
            let matches: Vec<&J> = fast
                .iter()
                .filter(|c| slot_props(c.get("props")) == props)
                .collect();
            if matches.len() != 1 {
                return Err(format!(
                    "cannot match present slot {} with query-cpus-fast ({})",
                    props.dumps(false),
                    matches.len()
                ));
            }
            index = matches[0].get("cpu-index").cloned().unwrap_or(J::Null);
            apic = apic_ids
                .get(&index_of(matches[0]))
                .cloned()
                .unwrap_or(J::Null);
        }
        slots.push(slot(index, present, apic, props));
    }
    slots.sort_by_key(sort_key);
    if slots
        .iter()
        .enumerate()
        .any(|(i, s)| sort_key(s) != i as i128)
    {
        return Err("slot indexes are not 0..n-1".into());
    }
    Ok(J::Arr(slots))
}

fn remove_scratch() {
    for p in SCRATCH_FILES {
        let _ = std::fs::remove_file(p);
    }
}

/// Serialises the cases that use a scratch file.
static SCRATCH: Mutex<()> = Mutex::new(());

/// `run_case` of the topology corpus's `capture.py`.
fn run_qemu(qemu: &str, args: &[String]) -> Result<QemuAnswer, String> {
    let scratch = args
        .iter()
        .any(|a| SCRATCH_FILES.iter().any(|f| a.contains(f)));
    let _guard = scratch.then(|| {
        let g = SCRATCH.lock().unwrap_or_else(|e| e.into_inner());
        remove_scratch();
        g
    });
    let deadline = Instant::now() + TIMEOUT;
    let mut q = Qmp::start(qemu, args, deadline).map_err(|e| format!("cannot run {qemu}: {e}"))?;
    let (mut info_numa, mut memdevs, mut slots) = (J::Null, J::Null, Ok(J::Null));
    let mut quit_ok = false;
    let greeted = q.greeting();
    if greeted {
        ret(q.cmd("qmp_capabilities", None));
        if args.iter().any(|a| a == "--preconfig") {
            q.cmd("x-exit-preconfig", None);
        }
        let hmp = J::obj(vec![("command-line", J::str("info numa"))]);
        info_numa = match ret(q.cmd("human-monitor-command", Some(hmp))) {
            Some(J::Str(s)) => J::Str(s.replace("\r\n", "\n")),
            Some(other) => other,
            None => J::Null,
        };
        memdevs = match ret(q.cmd("query-memdev", None)) {
            Some(J::Arr(mut list)) => {
                list.sort_by_cached_key(|m| {
                    (
                        m.get("id").and_then(J::as_str).unwrap_or("").to_string(),
                        m.dumps(true),
                    )
                });
                J::Arr(list)
            }
            Some(other) => other,
            None => J::Null,
        };
        let hotpluggable = ret(q.cmd("query-hotpluggable-cpus", None));
        let cpus_fast = ret(q.cmd("query-cpus-fast", None));
        let mut apic_ids = HashMap::new();
        for c in cpus_fast.as_ref().and_then(J::as_arr).unwrap_or(&[]) {
            let path = c.get("qom-path").cloned().unwrap_or(J::Null);
            let a = J::obj(vec![("path", path), ("property", J::str("apic-id"))]);
            let key = c.get("cpu-index").map_or(String::new(), |v| v.dumps(false));
            apic_ids.insert(key, ret(q.cmd("qom-get", Some(a))).unwrap_or(J::Null));
        }
        slots = build_slots(hotpluggable.as_ref(), cpus_fast.as_ref(), &apic_ids);
        quit_ok = q.cmd("quit", None).is_some();
    }
    let (exit, err) = q.finish();
    if scratch {
        remove_scratch();
    }
    let prog = Path::new(qemu)
        .file_name()
        .map_or(qemu.into(), |n| n.to_string_lossy().into_owned());
    Ok(QemuAnswer {
        exit,
        accepted: exit == 0 && greeted && quit_ok,
        stderr: normalise_stderr(&err, &prog),
        info_numa,
        memdevs,
        slots,
    })
}

/// QEMU's version line, or `None` when it cannot be run.
fn qemu_version(qemu: &str) -> Option<String> {
    let out = Command::new(qemu).arg("--version").output().ok()?;
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .to_string(),
    )
}

// ---------------------------------------------------------------------
// vnuma
// ---------------------------------------------------------------------

/// What vnuma answered for one case.
enum VnumaAnswer {
    Accepted {
        vm: Box<vnuma::Vm>,
        /// `display_qemu()` of each warning, in order.
        warnings: Vec<String>,
        /// The JSON report.
        report: Value,
    },
    Rejected(String),
    Panicked(String),
}

fn run_vnuma(args: &[String]) -> VnumaAnswer {
    match std::panic::catch_unwind(|| vnuma::Vm::from_args(args)) {
        Ok(Ok(vm)) => VnumaAnswer::Accepted {
            warnings: vm
                .topology()
                .warnings()
                .iter()
                .map(|w| w.display_qemu().to_string())
                .collect(),
            report: serde_json::from_str(&vm.report().to_json()).unwrap_or(Value::Null),
            vm: Box::new(vm),
        },
        Ok(Err(e)) => VnumaAnswer::Rejected(e.display_qemu().to_string()),
        Err(p) => VnumaAnswer::Panicked(
            p.downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into()),
        ),
    }
}

// ---------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------

/// One ACPI table comparison between QEMU's bytes and vnuma's.
struct TableComparison {
    /// The table's signature (`SRAT`, `SLIT`, `HMAT`).
    name: &'static str,
    /// The difference for one accepted case, if any.
    compare: fn(&QemuAnswer, &vnuma::Vm) -> Option<String>,
}

/// EXTENSION POINT (ACPI tables): the table comparisons that exist.
///
/// None yet: SRAT/SLIT/HMAT arrive with `vnuma-tables`. To add one, make
/// [`run_qemu`] fetch QEMU's table bytes into [`QemuAnswer`] (they are not
/// part of `golden.jsonl`, so `--update` output does not change), and
/// return a [`TableComparison`] here; every case both sides accept runs
/// through each entry, and a difference is a disagreement.
fn table_comparisons() -> &'static [TableComparison] {
    &[]
}

/// How one case came out.
enum Outcome {
    Agree,
    Deviation(&'static str),
    Disagree(Vec<String>),
}

/// Why vnuma answers differently on purpose.
///
/// Copied from `deviation` in
/// `crates/vnuma-topology/tests/qemu72_golden.rs`, which is the source of
/// truth: keep the two in step.
fn deviation(args: &[String], stderr: &[String], exit: i64) -> Option<&'static str> {
    let joined = args.join(" ");
    let stderr = stderr.join("\n");
    if ["isapc", "microvm", "none"].iter().any(|m| {
        args.windows(2)
            .any(|w| (w[0] == "-M" || w[0] == "-machine") && w[1].split(',').next() == Some(m))
    }) {
        return Some("vnuma models the pc and q35 machine types only");
    }
    if joined.contains("--preconfig") {
        return Some("--preconfig (QMP before machine creation) is not a command-line behaviour");
    }
    if stderr.contains("requires kernel irqchip and X2APIC API support") {
        return Some("TCG-only limit on APIC ids >= 255; vnuma models KVM, where x2APIC lifts it");
    }
    if stderr.contains("phys-bits too low") {
        return Some("the guest CPU's physical address width depends on -cpu and the accelerator, which vnuma does not model");
    }
    if stderr.contains("cannot bind memory to host NUMA nodes") {
        return Some("host memory binding is vnuma-backend's job, not resolution's");
    }
    if exit == 0 && stderr.contains("The initiator id") {
        return Some("QEMU prints the out-of-range initiator error and goes on without the node; vnuma stops (spec §2.1.4)");
    }
    // Checks that need the host: vnuma-backend makes them when it plans
    // the guest's RAM (`vnuma --allocate`), not resolution.
    if stderr.contains("can't open backing store")
        || stderr.contains("must be multiples of page size")
    {
        return Some(
            "file backends are checked against the host by vnuma-backend, not by resolution",
        );
    }
    // The runner itself passes `-accel tcg`.
    if stderr.contains("The -accel and \"-machine accel=\" options are incompatible") {
        return Some("the runner's own -accel tcg meets the case's -machine accel=");
    }
    // Disk images and other files QEMU opens are outside vnuma's scope.
    if stderr.contains("Could not open '") {
        return Some("vnuma ignores disk images and never opens them");
    }
    None
}

/// The detail of a JSON syntax error is the JSON parser's own; only the
/// text up to "JSON parse error" is compared (as in
/// `crates/vnuma-options/tests/qemu72_golden.rs`).
const JSON_DETAIL: &str = "JSON syntax errors: the detail is the JSON parser's own";

fn is_error(line: &str) -> bool {
    line.starts_with("qemu: ")
        && !line.contains(": warning: ")
        && !line.starts_with("qemu: warning: ")
}

/// Warnings vnuma does not produce because they depend on the guest CPU
/// model (`-cpu`), which it does not model (as in the golden test).
fn ignored_warning(line: &str) -> bool {
    line.contains("doesn't support hyperthreading")
}

/// QEMU's first error: the first `qemu: ` line that is not a warning, else
/// the first line that is not a warning (messages printed inside a QMP
/// command carry no prefix).
fn qemu_first_error(stderr: &[String]) -> Option<String> {
    stderr
        .iter()
        .find(|l| is_error(l))
        .map(|l| l["qemu: ".len()..].to_string())
        .or_else(|| {
            stderr
                .iter()
                .find(|l| !l.trim().is_empty() && !l.contains("warning: "))
                .cloned()
        })
}

/// A slot as `(index, present, apic id, node, socket, die, core, thread)`.
type SlotTuple = (
    i64,
    bool,
    Option<i64>,
    Option<i64>,
    i64,
    Option<i64>,
    i64,
    i64,
);

fn qemu_slots(slots: &Value) -> Option<Vec<SlotTuple>> {
    Some(
        slots
            .as_array()?
            .iter()
            .map(|w| {
                let p = &w["props"];
                let get = |k: &str| p.get(k).and_then(Value::as_i64);
                (
                    w["index"].as_i64().unwrap_or(-1),
                    w["present"].as_bool().unwrap_or(false),
                    w["apic_id"].as_i64(),
                    get("node-id"),
                    get("socket-id").unwrap_or(-1),
                    get("die-id"),
                    get("core-id").unwrap_or(-1),
                    get("thread-id").unwrap_or(-1),
                )
            })
            .collect(),
    )
}

fn vnuma_slots(vm: &vnuma::Vm) -> Vec<SlotTuple> {
    vm.topology()
        .cpus()
        .iter()
        .map(|cpu| {
            let s = cpu.slot;
            (
                i64::from(s.index),
                cpu.present,
                cpu.present.then_some(i64::from(s.apic_id)),
                cpu.node.map(i64::from),
                i64::from(s.socket_id),
                s.die_id.map(i64::from),
                i64::from(s.core_id),
                i64::from(s.thread_id),
            )
        })
        .collect()
}

fn compare(case: &Case, qemu: &QemuAnswer, vnuma: &VnumaAnswer) -> Outcome {
    if let Some(why) = deviation(&case.args, &qemu.stderr, qemu.exit) {
        return Outcome::Deviation(why);
    }
    let mut diffs = Vec::new();
    if let Err(e) = &qemu.slots {
        diffs.push(format!("QEMU's slots: {e}"));
    }
    let qemu_error = qemu_first_error(&qemu.stderr);
    match (qemu.accepted, vnuma) {
        (_, VnumaAnswer::Panicked(msg)) => diffs.push(format!("vnuma panicked: {msg}")),
        (false, VnumaAnswer::Rejected(ours)) => {
            let q = qemu_error.unwrap_or_else(|| "<no message>".into());
            if q != *ours {
                let json_prefix = q
                    .find("JSON parse error")
                    .map(|i| &q[..i + "JSON parse error".len()]);
                match json_prefix {
                    Some(p) if ours.starts_with(p) => return Outcome::Deviation(JSON_DETAIL),
                    _ => diffs.push(format!("first error: QEMU `{q}`, vnuma `{ours}`")),
                }
            }
        }
        (false, VnumaAnswer::Accepted { .. }) => diffs.push(format!(
            "QEMU rejects (exit {}) with `{}`, vnuma accepts",
            qemu.exit,
            qemu_error.as_deref().unwrap_or("<no message>")
        )),
        (true, VnumaAnswer::Rejected(ours)) => {
            diffs.push(format!("QEMU accepts, vnuma rejects with `{ours}`"));
        }
        (
            true,
            VnumaAnswer::Accepted {
                vm,
                warnings,
                report,
            },
        ) => {
            let want: Vec<String> = qemu
                .stderr
                .iter()
                .filter(|l| l.starts_with("qemu: ") && !ignored_warning(l))
                .map(|l| l["qemu: ".len()..].to_string())
                .collect();
            if &want != warnings {
                diffs.push(format!("warnings: QEMU {want:?}, vnuma {warnings:?}"));
            }
            let theirs = qemu.info_numa.to_serde();
            if report["info_numa"] != theirs {
                diffs.push(format!(
                    "info numa: QEMU {}, vnuma {}",
                    theirs, report["info_numa"]
                ));
            }
            let mut ours: Vec<Value> = report["memdevs"].as_array().cloned().unwrap_or_default();
            ours.sort_by_key(|m| m["id"].as_str().unwrap_or("").to_string());
            let theirs = qemu.memdevs.to_serde();
            if theirs.as_array() != Some(&ours) {
                diffs.push(format!(
                    "memdevs: QEMU {theirs}, vnuma {}",
                    Value::Array(ours)
                ));
            }
            if let Ok(slots) = &qemu.slots {
                diffs.extend(compare_slots(slots, vm));
            }
            for t in table_comparisons() {
                if let Some(d) = (t.compare)(qemu, vm) {
                    diffs.push(format!("{}: {d}", t.name));
                }
            }
        }
    }
    if diffs.is_empty() {
        Outcome::Agree
    } else {
        Outcome::Disagree(diffs)
    }
}

fn compare_slots(slots: &J, vm: &vnuma::Vm) -> Option<String> {
    let theirs = qemu_slots(&slots.to_serde())?;
    let ours = vnuma_slots(vm);
    if theirs.len() != ours.len() {
        return Some(format!(
            "slots: QEMU has {}, vnuma {}",
            theirs.len(),
            ours.len()
        ));
    }
    let bad: Vec<String> = theirs
        .iter()
        .zip(&ours)
        .filter(|(q, o)| q != o)
        .map(|(q, o)| format!("slot {}: QEMU {q:?}, vnuma {o:?}", q.0))
        .collect();
    (!bad.is_empty()).then(|| {
        let n = bad.len();
        let mut s = format!(
            "{n} slot(s) differ (index, present, apic id, node, socket, die, core, thread): {}",
            bad[..n.min(3)].join("; ")
        );
        if n > 3 {
            s.push_str("; ...");
        }
        s
    })
}

/// One line per answer, for a disagreement's header.
fn summary_qemu(q: &QemuAnswer) -> String {
    if q.accepted {
        "accepted".into()
    } else {
        format!(
            "rejected (exit {}): {}",
            q.exit,
            qemu_first_error(&q.stderr).unwrap_or_else(|| "<no message>".into())
        )
    }
}

fn summary_vnuma(v: &VnumaAnswer) -> String {
    match v {
        VnumaAnswer::Accepted { .. } => "accepted".into(),
        VnumaAnswer::Rejected(e) => format!("rejected: {e}"),
        VnumaAnswer::Panicked(p) => format!("panicked: {p}"),
    }
}

/// The argv as a shell command line.
fn shell_line(args: &[String]) -> String {
    let quote = |a: &str| {
        if !a.is_empty()
            && a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b",._-=+:/@%".contains(&b))
        {
            a.to_string()
        } else {
            format!("'{}'", a.replace('\'', "'\\''"))
        }
    };
    let mut s = format!("{QEMU} -S -nodefaults -display none -accel tcg -qmp stdio");
    for a in args {
        s.push(' ');
        s.push_str(&quote(a));
    }
    s
}

// ---------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------

/// SplitMix64: small, seedable, good enough for drawing command lines.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Versioned machine types the generator draws from, and whether each
/// still takes `-numa node,mem=` (up to 5.0).
const MACHINES: &[(&str, bool)] = &[
    ("pc-i440fx-1.7", true),
    ("pc-i440fx-2.0", true),
    ("pc-i440fx-2.1", true),
    ("pc-i440fx-3.1", true),
    ("pc-q35-2.4", true),
    ("pc-i440fx-2.10", true),
    ("pc-i440fx-2.11", true),
    ("pc-i440fx-4.2", true),
    ("pc-i440fx-5.0", true),
    ("pc-i440fx-5.1", false),
    ("pc-i440fx-6.1", false),
    ("pc-i440fx-6.2", false),
    ("pc-i440fx-7.1", false),
    ("pc-q35-2.11", true),
    ("pc-q35-4.2", true),
    ("pc-q35-5.0", true),
    ("pc-q35-5.1", false),
    ("pc-q35-6.1", false),
    ("pc-q35-6.2", false),
    ("pc-q35-7.1", false),
];

/// One plausible random command line; case `k` of seed `seed` is the same
/// whatever N is.
fn generate(seed: u64, k: u64) -> Vec<String> {
    let mut r =
        Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ k.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    r.next();
    let mut a: Vec<String> = Vec::new();
    fn push(a: &mut Vec<String>, opt: &str, val: String) {
        a.push(opt.to_string());
        a.push(val);
    }

    // Machine type, and whether `mem=` is still allowed.
    let hmat = r.chance(15);
    let (machine, old) = match r.below(100) {
        0..=29 => (None, false),
        30..=44 => (Some("pc".to_string()), false),
        45..=64 => (Some("q35".to_string()), false),
        _ => {
            let (m, old) = *r.pick(MACHINES);
            (Some(m.to_string()), old)
        }
    };
    match (&machine, hmat) {
        (Some(m), true) if r.chance(50) => push(&mut a, "-M", format!("{m},hmat=on")),
        (Some(m), true) => {
            push(&mut a, "-M", m.clone());
            push(&mut a, "-machine", "hmat=on".into());
        }
        (Some(m), false) => push(&mut a, "-M", m.clone()),
        (None, true) => push(&mut a, "-machine", "hmat=on".into()),
        (None, false) => {}
    }

    // -smp: the generator's guess at the CPU count and socket count.
    let sockets = *r.pick(&[1u64, 1, 2, 2, 3, 4]);
    let dies = if r.chance(10) { 2 } else { 1 };
    let cores = *r.pick(&[1u64, 1, 2, 2, 3, 4, 6]);
    let threads = *r.pick(&[1u64, 1, 1, 1, 2, 2, 3]);
    let maxcpus = sockets * dies * cores * threads;
    let (max_cpus, socket_count) = match r.below(100) {
        0..=14 => (1, 1),
        15..=39 => {
            let n = r.range(1, 8);
            push(&mut a, "-smp", n.to_string());
            (n, n)
        }
        40..=59 => {
            let n = sockets * r.range(1, 3);
            push(&mut a, "-smp", format!("{n},sockets={sockets}"));
            (n, sockets)
        }
        60..=94 => {
            let cpus = if r.chance(35) {
                r.range(1, maxcpus)
            } else {
                maxcpus
            };
            let mut s = format!("cpus={cpus},sockets={sockets}");
            if dies > 1 {
                let _ = write!(s, ",dies={dies}");
            }
            let _ = write!(s, ",cores={cores},threads={threads}");
            if cpus < maxcpus || r.chance(20) {
                let _ = write!(s, ",maxcpus={maxcpus}");
            }
            if r.chance(5) {
                // Occasionally inconsistent.
                let _ = write!(s, ",maxcpus={}", maxcpus + 1);
            }
            push(&mut a, "-smp", s);
            (maxcpus, sockets)
        }
        _ => {
            let n = sockets * cores;
            push(
                &mut a,
                "-machine",
                format!("smp.cpus={n},smp.sockets={sockets}"),
            );
            (n, sockets)
        }
    };

    // Nodes and their memory.
    let nodes = if r.chance(10) { 0 } else { r.range(1, 6) };
    let ids: Vec<u64> = if r.chance(20) {
        // Sparse or shuffled explicit ids.
        let mut pool: Vec<u64> = (0..nodes + 3).collect();
        let mut ids = Vec::new();
        for _ in 0..nodes {
            let i = r.below(pool.len() as u64) as usize;
            ids.push(pool.swap_remove(i));
        }
        ids
    } else {
        (0..nodes).collect()
    };
    let explicit_ids = ids.iter().enumerate().any(|(i, &id)| id != i as u64) || r.chance(40);
    let mem_style = match r.below(100) {
        _ if nodes == 0 => 0,
        0..=84 => 0,         // memdev
        85..=89 => 2,        // no memory on any node
        90..=99 if old => 1, // mem=
        90..=92 => 1,        // mem= on a machine that refuses it
        _ => 0,
    };
    let mut sizes: Vec<u64> = ids
        .iter()
        .map(|_| {
            if mem_style == 0 && r.chance(10) {
                0
            } else {
                *r.pick(&[64u64, 100, 128, 128, 256, 256, 512, 1000, 1536, 3072])
            }
        })
        .collect();
    // Keep the guest's RAM (address space only: nothing touches it) small.
    while sizes.iter().sum::<u64>() > 4096 {
        let big = sizes.iter().copied().max().unwrap_or(0);
        if let Some(s) = sizes.iter_mut().find(|s| **s == big) {
            *s = 256;
        }
    }
    let total: u64 = sizes.iter().sum();
    let slots = r.chance(10);
    let m = match r.below(100) {
        _ if nodes == 0 || mem_style == 2 => Some(*r.pick(&[128u64, 256, 512])),
        0..=84 => Some(total),
        85..=92 => Some(total + 128),
        93..=96 => Some(total.saturating_sub(64).max(64)),
        _ => None,
    };
    if let Some(m) = m {
        let mut v = match r.below(10) {
            0 => format!("size={m}M"),
            1 => m.to_string(),
            2 if m % 1024 == 0 => format!("{}G", m / 1024),
            _ => format!("{m}M"),
        };
        if slots {
            let _ = write!(v, ",slots=2,maxmem={}M", m + 1024);
        }
        push(&mut a, "-m", v);
    }
    if r.chance(5) {
        let below = *r.pick(&["1G", "1536M", "2G", "3G"]);
        push(&mut a, "-machine", format!("max-ram-below-4g={below}"));
    }
    if mem_style == 0 {
        for (i, &size) in sizes.iter().enumerate() {
            if size > 0 {
                push(
                    &mut a,
                    "-object",
                    format!("memory-backend-ram,id=m{i},size={size}M"),
                );
            }
        }
        if r.chance(3) {
            push(
                &mut a,
                "-object",
                "memory-backend-ram,id=spare,size=64M".into(),
            );
        }
    }

    // CPU placement: default, cpus= ranges, or -numa cpu.
    let cpu_style = if nodes == 0 { 0 } else { r.below(100) };
    let mut node_cpus: Vec<Vec<String>> = vec![Vec::new(); ids.len()];
    if (35..75).contains(&cpu_style) {
        let partial = r.chance(20);
        let limit = if partial {
            max_cpus.div_ceil(2)
        } else {
            max_cpus
        };
        let mut next = 0;
        for (i, cpus) in node_cpus.iter_mut().enumerate() {
            if next >= limit {
                break;
            }
            let left = limit - next;
            let take = if i + 1 == ids.len() {
                left
            } else {
                r.range(0, left)
            };
            if take == 0 {
                continue;
            }
            let last = next + take - 1;
            if take > 2 && r.chance(15) {
                // Two ranges for one node.
                let mid = next + take / 2;
                cpus.push(format!("{next}-{}", mid - 1));
                cpus.push(if mid == last {
                    mid.to_string()
                } else {
                    format!("{mid}-{last}")
                });
            } else if take == 1 {
                cpus.push(next.to_string());
            } else {
                cpus.push(format!("{next}-{last}"));
            }
            next = last + 1;
        }
        if r.chance(5) && ids.len() > 1 {
            // A CPU in two nodes, or one beyond maxcpus.
            let extra = if r.chance(50) { 0 } else { max_cpus };
            node_cpus[ids.len() - 1].push(extra.to_string());
        }
    }
    for (i, &id) in ids.iter().enumerate() {
        let mut s = String::from("node");
        if explicit_ids {
            let _ = write!(s, ",nodeid={id}");
        }
        match mem_style {
            0 if sizes[i] > 0 => {
                let _ = write!(s, ",memdev=m{i}");
            }
            1 => {
                let _ = write!(s, ",mem={}M", sizes[i]);
            }
            _ => {}
        }
        for c in &node_cpus[i] {
            let _ = write!(s, ",cpus={c}");
        }
        if hmat && i > 0 && r.chance(60) {
            let _ = write!(s, ",initiator={}", ids[0]);
        }
        push(&mut a, "-numa", s);
    }
    if cpu_style >= 75 {
        for socket in 0..socket_count {
            if r.chance(10) {
                continue;
            }
            let node = ids[r.below(ids.len() as u64) as usize];
            let mut s = format!("cpu,node-id={node},socket-id={socket}");
            if dies > 1 && r.chance(50) {
                let _ = write!(s, ",die-id={}", r.below(dies));
            }
            if r.chance(15) {
                let _ = write!(s, ",core-id={}", r.below(cores));
                if threads > 1 && r.chance(50) {
                    let _ = write!(s, ",thread-id={}", r.below(threads));
                }
            }
            push(&mut a, "-numa", s);
        }
    }

    // Distances.
    if ids.len() > 1 && r.chance(35) {
        let asymmetric = r.chance(20);
        let incomplete = r.chance(20);
        for (i, &src) in ids.iter().enumerate() {
            for &dst in &ids[i + 1..] {
                if incomplete && r.chance(40) {
                    continue;
                }
                let val = r.range(11, 40);
                push(
                    &mut a,
                    "-numa",
                    format!("dist,src={src},dst={dst},val={val}"),
                );
                if asymmetric || r.chance(30) {
                    let back = if asymmetric { r.range(11, 40) } else { val };
                    push(
                        &mut a,
                        "-numa",
                        format!("dist,src={dst},dst={src},val={back}"),
                    );
                }
            }
        }
        if r.chance(10) {
            push(
                &mut a,
                "-numa",
                format!("dist,src={0},dst={0},val=10", ids[0]),
            );
        }
        if r.chance(5) {
            let val = *r.pick(&[9u64, 20, 256]);
            push(
                &mut a,
                "-numa",
                format!("dist,src={},dst={},val={val}", ids[0], ids[ids.len() - 1]),
            );
        }
    }

    // HMAT.
    if hmat && !ids.is_empty() && r.chance(70) {
        let init = ids[0];
        for &target in &ids {
            if r.chance(80) {
                let lat = r.range(1, 200) * 5;
                push(
                    &mut a,
                    "-numa",
                    format!("hmat-lb,initiator={init},target={target},hierarchy=memory,data-type=access-latency,latency={lat}"),
                );
            }
            if r.chance(50) {
                let bw = *r.pick(&["200M", "1G", "10G", "65534M"]);
                push(
                    &mut a,
                    "-numa",
                    format!("hmat-lb,initiator={init},target={target},hierarchy=memory,data-type=access-bandwidth,bandwidth={bw}"),
                );
            }
        }
        if r.chance(40) {
            let node = *r.pick(&ids);
            let level = r.range(1, 3);
            let assoc = *r.pick(&["none", "direct", "complex"]);
            let policy = *r.pick(&["none", "write-back", "write-through"]);
            push(
                &mut a,
                "-numa",
                format!("hmat-cache,node-id={node},size=10K,level={level},associativity={assoc},policy={policy},line=8"),
            );
        }
    }
    a
}

// ---------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------

struct Options {
    corpus: Option<PathBuf>,
    update: bool,
    only: Option<Vec<String>>,
    generate: Option<u64>,
    seed: u64,
    qemu: String,
    jobs: usize,
}

const USAGE: &str = "usage: cargo xtask qemu-diff [--corpus FILE] [--update] [--only ID,...] [--generate N --seed S] [--qemu BINARY] [--jobs N]";

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        corpus: None,
        update: false,
        only: None,
        generate: None,
        seed: 0,
        qemu: QEMU.into(),
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let mut seed = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        let number = |name: &str, v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{name} needs a number, not `{v}`"))
        };
        match a.as_str() {
            "--corpus" => o.corpus = Some(PathBuf::from(value("--corpus")?)),
            "--update" => o.update = true,
            "--only" => {
                o.only = Some(
                    value("--only")?
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect(),
                );
            }
            "--generate" => o.generate = Some(number("--generate", value("--generate")?)?),
            "--seed" => seed = Some(number("--seed", value("--seed")?)?),
            "--qemu" => o.qemu = value("--qemu")?,
            "--jobs" | "-j" => o.jobs = number("--jobs", value("--jobs")?)?.max(1) as usize,
            "--help" | "-h" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    match (o.generate, seed) {
        (Some(_), Some(s)) => o.seed = s,
        (Some(_), None) => return Err("--generate needs --seed S".into()),
        (None, Some(_)) => return Err("--seed goes with --generate".into()),
        (None, None) => {}
    }
    Ok(o)
}

/// A path as given, else relative to the workspace root.
fn resolve_path(p: &Path) -> PathBuf {
    if p.is_absolute() || p.exists() {
        p.to_path_buf()
    } else {
        root().join(p)
    }
}

/// Run QEMU on every case, `jobs` at a time.
fn run_all(qemu: &str, cases: &[Case], jobs: usize) -> Vec<Result<QemuAnswer, String>> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<QemuAnswer, String>>>> =
        Mutex::new((0..cases.len()).map(|_| None).collect());
    let progress = std::io::stderr().is_terminal();
    std::thread::scope(|s| {
        for _ in 0..jobs.min(cases.len()).max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                let answer = run_qemu(qemu, &case.args);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(answer);
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                if progress {
                    eprint!("\rqemu-diff: {d}/{} ", cases.len());
                }
            });
        }
    });
    if progress {
        eprint!("\r\x1b[K");
    }
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err("not run".into())))
        .collect()
}

fn write_atomic(path: &Path, text: &str) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn run(o: &Options) -> Result<ExitCode, String> {
    let corpus = resolve_path(o.corpus.as_deref().unwrap_or(Path::new(DEFAULT_CORPUS)));
    let style = detect_style(&corpus);
    let golden = corpus.with_file_name("golden.jsonl");

    let Some(version) = qemu_version(&o.qemu) else {
        eprintln!(
            "xtask: cannot run `{}`: QEMU 7.2 is the reference and is not installed.\n\
             Install it with:  apt-get install -y qemu-system-x86\n\
             (or pass --qemu /path/to/qemu-system-x86_64)",
            o.qemu
        );
        return Ok(ExitCode::from(2));
    };
    if !version.contains("version 7.2.") {
        eprintln!("xtask: warning: vnuma's reference is QEMU 7.2, this is: {version}");
    }

    let mut cases = match o.generate {
        Some(n) => {
            let prefix = generated_prefix(&corpus);
            (0..n)
                .map(|k| Case {
                    id: format!("{prefix}gen-{}-{k}", o.seed),
                    args: generate(o.seed, k),
                })
                .collect()
        }
        None => load_cases(&corpus)?,
    };
    let all_cases = cases.clone();
    if let Some(only) = &o.only {
        let known: HashSet<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        let unknown: Vec<&str> = only
            .iter()
            .map(String::as_str)
            .filter(|id| !known.contains(id))
            .collect();
        if !unknown.is_empty() {
            return Err(format!("unknown case ids: {}", unknown.join(", ")));
        }
        cases.retain(|c| only.contains(&c.id));
    }

    let what = match o.generate {
        Some(n) => format!("{n} generated cases (seed {})", o.seed),
        None => format!("{} cases of {}", cases.len(), corpus.display()),
    };
    eprintln!("qemu-diff: {what} against {version}, {} jobs", o.jobs);
    let start = Instant::now();
    let answers = run_all(&o.qemu, &cases, o.jobs);

    let (mut agree, mut disagree) = (0, 0);
    let mut deviations: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut records = Vec::new();
    let mut out = std::io::stdout().lock();
    for (case, answer) in cases.iter().zip(&answers) {
        let answer = match answer {
            Ok(a) => a,
            Err(e) => return Err(format!("{}: {e}", case.id)),
        };
        records.push(
            answer
                .record(case, style)
                .map_err(|e| format!("{}: {e}", case.id)),
        );
        let vnuma = run_vnuma(&case.args);
        match compare(case, answer, &vnuma) {
            Outcome::Agree => agree += 1,
            Outcome::Deviation(why) => deviations.entry(why).or_default().push(&case.id),
            Outcome::Disagree(diffs) => {
                disagree += 1;
                let _ = writeln!(out, "DISAGREE {}", case.id);
                let _ = writeln!(out, "    {}", shell_line(&case.args));
                let _ = writeln!(out, "    QEMU:  {}", summary_qemu(answer));
                let _ = writeln!(out, "    vnuma: {}", summary_vnuma(&vnuma));
                for d in diffs {
                    let _ = writeln!(out, "    - {d}");
                }
            }
        }
    }
    let n_dev: usize = deviations.values().map(Vec::len).sum();
    if n_dev > 0 {
        let _ = writeln!(out, "deviations ({n_dev}):");
        for (why, ids) in &deviations {
            let _ = writeln!(out, "  deviation ({why}): {}", ids.join(", "));
        }
    }
    let _ = writeln!(
        out,
        "{} cases: {agree} agree, {n_dev} deviations, {disagree} disagree",
        cases.len()
    );
    let _ = writeln!(out, "({:.1} s)", start.elapsed().as_secs_f64());
    drop(out);

    if o.update {
        let records: Vec<String> = records.into_iter().collect::<Result<_, _>>()?;
        match o.generate {
            None => update_golden(&golden, &all_cases, &cases, &records)?,
            Some(n) => append_generated(&corpus, &golden, &cases, &records, n, o.seed)?,
        }
        if disagree > 0 {
            eprintln!(
                "qemu-diff: note: {disagree} of these cases disagree with vnuma; a golden test that checks them fails until vnuma is fixed"
            );
        }
    }
    Ok(if disagree > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Rewrite `golden.jsonl` in case order: the cases just run get their new
/// line, the others keep theirs (all of them were run without `--only`).
fn update_golden(
    golden: &Path,
    all: &[Case],
    ran: &[Case],
    records: &[String],
) -> Result<(), String> {
    let new: HashMap<&str, &String> = ran.iter().map(|c| c.id.as_str()).zip(records).collect();
    let old_text = std::fs::read_to_string(golden).unwrap_or_default();
    let old: HashMap<String, &str> = old_text
        .lines()
        .filter_map(|l| {
            let id = parse_json(l)?.get("id")?.as_str()?.to_string();
            Some((id, l))
        })
        .collect();
    let mut text = String::new();
    for c in all {
        let line = match new.get(c.id.as_str()) {
            Some(l) => l.as_str(),
            None => old.get(&c.id).copied().ok_or_else(|| {
                format!(
                    "{} has no line for `{}`: run --update without --only",
                    golden.display(),
                    c.id
                )
            })?,
        };
        text.push_str(line);
        text.push('\n');
    }
    write_atomic(golden, &text)?;
    eprintln!(
        "qemu-diff: {} ({} cases, {} rewritten)",
        golden.display(),
        all.len(),
        ran.len()
    );
    Ok(())
}

/// Append generated cases (those not in the corpus yet) to the corpus and
/// their answers to `golden.jsonl`.
fn append_generated(
    corpus: &Path,
    golden: &Path,
    cases: &[Case],
    records: &[String],
    n: u64,
    seed: u64,
) -> Result<(), String> {
    let existing: HashSet<String> = load_cases(corpus)?.into_iter().map(|c| c.id).collect();
    let mut case_text = std::fs::read_to_string(corpus).map_err(|e| e.to_string())?;
    let mut golden_text = std::fs::read_to_string(golden).unwrap_or_default();
    for t in [&mut case_text, &mut golden_text] {
        if !t.is_empty() && !t.ends_with('\n') {
            t.push('\n');
        }
    }
    let mut added = 0;
    for (c, rec) in cases.iter().zip(records) {
        if existing.contains(&c.id) {
            continue;
        }
        if added == 0 {
            let _ = writeln!(
                case_text,
                "# generated by `cargo xtask qemu-diff --generate {n} --seed {seed}`"
            );
        }
        let args = J::Arr(c.args.iter().map(|a| J::str(a)).collect()).dumps(false);
        let _ = writeln!(case_text, "{}\t{args}", c.id);
        golden_text.push_str(rec);
        golden_text.push('\n');
        added += 1;
    }
    if added == 0 {
        eprintln!(
            "qemu-diff: every generated case is already in {}",
            corpus.display()
        );
        return Ok(());
    }
    write_atomic(corpus, &case_text)?;
    write_atomic(golden, &golden_text)?;
    eprintln!(
        "qemu-diff: appended {added} cases to {} and {}",
        corpus.display(),
        golden.display()
    );
    Ok(())
}

/// Entry point: `args` are the words after `qemu-diff`.
pub(crate) fn main(args: &[String]) -> ExitCode {
    let o = match parse_options(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&o) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::from(2)
        }
    }
}
