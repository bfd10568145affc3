//! The golden corpora: `cases.txt` (the command lines) and
//! `golden.jsonl` (QEMU 7.2's recorded answers), in the formats the
//! corpora have always had.
//!
//! `cases.txt`: `#` comments and blank lines, then one case a line,
//! `<id><TAB><JSON array of argv strings>`; ids are unique lowercase
//! kebab-case. `golden.jsonl`: one JSON object a line, in `cases.txt`
//! order, `{"id", "args", ...answer}`; the answer is a [`QmpAnswer`]
//! (options, topology and devices corpora), [`AcpiTables`] (tables
//! corpus) or [`VirtAnswer`] (the aarch64 `virt` corpus).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::fdt::FdtNuma;
use crate::json::{Json, Style};
use crate::Error;

/// One of the golden corpora of the workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Corpus {
    /// `crates/vnuma-options/tests/qemu72`: option syntax and typed
    /// values; QMP answers without CPU slots.
    Options,
    /// `crates/vnuma-topology/tests/qemu72`: NUMA semantics; QMP answers
    /// with every CPU slot, and `machines.json`.
    Topology,
    /// `crates/vnuma-tables/tests/qemu72`: the SRAT, SLIT and HMAT bytes
    /// QEMU builds (read from fw_cfg over qtest).
    Tables,
    /// `crates/vnuma/tests/qemu72_devices`: memory devices, ACPI
    /// switches and command lines as management layers write them; QMP
    /// answers with `query-memory-devices`, without CPU slots.
    Devices,
    /// `crates/vnuma/tests/qemu72_virt`: Arm's `virt` board under
    /// `qemu-system-aarch64`; QMP answers with `query-memory-devices`,
    /// the NUMA nodes of the device tree and the SRAT/SLIT/HMAT bytes.
    Virt,
}

/// The QEMU system emulator a corpus runs under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// `qemu-system-x86_64`.
    X86_64,
    /// `qemu-system-aarch64` (the case gives `-M virt` and `-cpu`).
    Aarch64,
}

impl Target {
    /// The binary's name, looked up on `PATH`.
    pub fn binary(self) -> &'static str {
        match self {
            Target::X86_64 => crate::qmp::QEMU,
            Target::Aarch64 => crate::qmp::QEMU_AARCH64,
        }
    }

    /// The target a QEMU binary emulates, by its file name
    /// (`…-aarch64` is Arm, anything else x86).
    pub fn of_binary(qemu: &str) -> Target {
        let name = Path::new(qemu)
            .file_name()
            .map_or(qemu.into(), |n| n.to_string_lossy());
        if name.contains("aarch64") {
            Target::Aarch64
        } else {
            Target::X86_64
        }
    }
}

impl Corpus {
    /// Every corpus.
    pub const ALL: [Corpus; 5] = [
        Corpus::Options,
        Corpus::Topology,
        Corpus::Tables,
        Corpus::Devices,
        Corpus::Virt,
    ];

    /// Its short name: `options`, `topology`, `tables`, `devices`,
    /// `virt`.
    pub fn name(self) -> &'static str {
        match self {
            Corpus::Options => "options",
            Corpus::Topology => "topology",
            Corpus::Tables => "tables",
            Corpus::Devices => "devices",
            Corpus::Virt => "virt",
        }
    }

    /// The QEMU it runs under.
    pub fn target(self) -> Target {
        match self {
            Corpus::Virt => Target::Aarch64,
            _ => Target::X86_64,
        }
    }

    /// The corpus called `name` (see [`Corpus::name`]).
    pub fn from_name(name: &str) -> Option<Corpus> {
        Corpus::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Its folder, relative to the workspace root.
    pub fn dir(self) -> &'static str {
        match self {
            Corpus::Options => "crates/vnuma-options/tests/qemu72",
            Corpus::Topology => "crates/vnuma-topology/tests/qemu72",
            Corpus::Tables => "crates/vnuma-tables/tests/qemu72",
            Corpus::Devices => "crates/vnuma/tests/qemu72_devices",
            Corpus::Virt => "crates/vnuma/tests/qemu72_virt",
        }
    }

    /// Its `cases.txt` under the workspace root `root`.
    pub fn cases_path(self, root: &Path) -> PathBuf {
        root.join(self.dir()).join("cases.txt")
    }

    /// The corpus a `cases.txt` at `path` belongs to: by its folder, else
    /// by the record format of the `golden.jsonl` next to it, else the
    /// topology corpus (whose format generated cases use).
    pub fn detect(path: &Path) -> Corpus {
        let dir = path.parent().unwrap_or(Path::new("."));
        if let Some(c) = Corpus::ALL.into_iter().find(|c| dir.ends_with(c.dir())) {
            return c;
        }
        // A sibling folder of another QEMU release (`tests/qemu100`).
        let release = dir
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("qemu"));
        if let Some(c) = Corpus::ALL.into_iter().find(|c| {
            release
                && dir
                    .parent()
                    .zip(Path::new(c.dir()).parent())
                    .is_some_and(|(d, c)| d.ends_with(c))
        }) {
            return c;
        }
        let golden = std::fs::read_to_string(dir.join("golden.jsonl")).unwrap_or_default();
        match golden.lines().find_map(|l| Json::parse(l).ok()) {
            Some(first) if first.has("fdt") => Corpus::Virt,
            Some(first) if first.has("SRAT") => Corpus::Tables,
            Some(first) if first.has("memory_devices") => Corpus::Devices,
            Some(first) if !first.has("slots") => Corpus::Options,
            _ => Corpus::Topology,
        }
    }

    /// The id prefixes its cases use (a case id starts with one of them);
    /// empty when any kebab-case id will do.
    pub fn prefixes(self) -> &'static [&'static str] {
        match self {
            Corpus::Options => &[
                "numa-node-",
                "numa-dist-",
                "numa-cpu-",
                "hmat-lb-",
                "hmat-cache-",
                "object-",
                "m-",
                "smp-",
                "machine-",
                "misc-",
            ],
            Corpus::Topology => &[
                "node-",
                "dist-",
                "cpu-",
                "hmat-",
                "complete-",
                "smp-",
                "m-",
                "qtest-",
                "machine-",
            ],
            Corpus::Tables => &[],
            Corpus::Devices => &[
                "dimm-", "nvdimm-", "vmem-", "vpmem-", "mix-", "acpi-", "mgmt-", "cxl-",
            ],
            Corpus::Virt => &[
                "virt-", "node-", "cpu-", "smp-", "dist-", "hmat-", "mem-", "dimm-", "gic-",
                "err-", "ver-", "qtest-",
            ],
        }
    }

    /// The prefix of generated case ids (`<prefix>gen-<seed>-<k>`), or
    /// `None` when generated cases do not belong in this corpus (QEMU
    /// must accept every line of the tables corpus).
    pub fn generated_prefix(self) -> Option<&'static str> {
        match self {
            Corpus::Options => Some("misc-"),
            Corpus::Topology => Some("complete-"),
            Corpus::Tables => None,
            Corpus::Devices => Some("mix-"),
            Corpus::Virt => None,
        }
    }

    /// How its `golden.jsonl` lines are written.
    pub fn style(self) -> Style {
        Style {
            ensure_ascii: matches!(self, Corpus::Tables | Corpus::Virt),
            sort_keys: false,
        }
    }

    /// Checks a case id: lowercase kebab-case, with one of the corpus's
    /// prefixes.
    pub fn check_id(self, id: &str) -> Result<(), Error> {
        let kebab = !id.is_empty()
            && id.split('-').all(|w| {
                !w.is_empty()
                    && w.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        let prefixed =
            self.prefixes().is_empty() || self.prefixes().iter().any(|p| id.starts_with(p));
        if kebab && prefixed {
            Ok(())
        } else {
            Err(Error::new(format!(
                "bad case id {id:?} for the {} corpus",
                self.name()
            )))
        }
    }
}

/// A command line of a corpus and what QEMU answered to it: `A` is `()`
/// for a line of `cases.txt`, [`QmpAnswer`] or [`AcpiTables`] for a
/// record of `golden.jsonl`.
#[derive(Clone, Debug, PartialEq)]
pub struct Case<A = ()> {
    /// The case id.
    pub id: String,
    /// QEMU's arguments after the harness's own (`-S -nodefaults ...`).
    pub args: Vec<String>,
    /// What QEMU answered.
    pub answer: A,
}

impl Case {
    /// The same case with QEMU's answer.
    pub fn with<A>(&self, answer: A) -> Case<A> {
        Case {
            id: self.id.clone(),
            args: self.args.clone(),
            answer,
        }
    }
}

/// Reads a `cases.txt` file.
pub fn load_cases(path: &Path) -> Result<Vec<Case>, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
    parse_cases(&text, &path.display().to_string())
}

/// Parses the text of a `cases.txt` (`name` is used in error messages).
pub fn parse_cases(text: &str, name: &str) -> Result<Vec<Case>, Error> {
    let mut cases = Vec::new();
    let mut seen = HashSet::new();
    for (n, line) in text.lines().enumerate() {
        let at = || format!("{name}:{}", n + 1);
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((id, js)) = line.split_once('\t') else {
            return Err(Error::new(format!(
                "{}: expected <id><TAB><json array>",
                at()
            )));
        };
        if !seen.insert(id.to_string()) {
            return Err(Error::new(format!("{}: duplicate case id {id:?}", at())));
        }
        let args = serde_json::from_str::<Vec<String>>(js)
            .map_err(|_| Error::new(format!("{}: args must be a JSON array of strings", at())))?;
        cases.push(Case {
            id: id.to_string(),
            args,
            answer: (),
        });
    }
    Ok(cases)
}

/// The `cases.txt` line of a case (without the newline).
pub fn case_line<A>(case: &Case<A>) -> String {
    format!("{}\t{}", case.id, Json::strings(&case.args))
}

/// Writes `text` to `path` through a temporary file next to it.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), Error> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| Error::new(format!("{}: {e}", path.display())))
}

/// Rewrites the `golden.jsonl` at `path` in the order of `all` (every case
/// of the corpus): a case that has a line in `new` (by id) gets it, the
/// others keep the line the file has for them.
pub fn rewrite_golden(path: &Path, all: &[Case], new: &HashMap<&str, &str>) -> Result<(), Error> {
    let old_text = std::fs::read_to_string(path).unwrap_or_default();
    let old: HashMap<String, &str> = old_text
        .lines()
        .filter_map(|l| Some((Json::parse(l).ok()?.get("id")?.as_str()?.to_string(), l)))
        .collect();
    let mut text = String::new();
    for c in all {
        let line = match new.get(c.id.as_str()) {
            Some(l) => *l,
            None => old.get(&c.id).copied().ok_or_else(|| {
                Error::new(format!("{} has no line for `{}`", path.display(), c.id))
            })?,
        };
        text.push_str(line);
        text.push('\n');
    }
    write_atomic(path, &text)
}

/// Appends the cases of `new` that the `cases.txt` at `cases` does not
/// have yet to it (after a `# comment` line) and their record lines to
/// the `golden.jsonl` next to it; how many were appended.
pub fn append_cases(cases: &Path, comment: &str, new: &[(&Case, &str)]) -> Result<usize, Error> {
    let golden = cases.with_file_name("golden.jsonl");
    let existing: HashSet<String> = load_cases(cases)?.into_iter().map(|c| c.id).collect();
    let mut case_text = std::fs::read_to_string(cases)
        .map_err(|e| Error::new(format!("{}: {e}", cases.display())))?;
    let mut golden_text = std::fs::read_to_string(&golden).unwrap_or_default();
    for t in [&mut case_text, &mut golden_text] {
        if !t.is_empty() && !t.ends_with('\n') {
            t.push('\n');
        }
    }
    let mut added = 0;
    for (c, record) in new.iter().filter(|(c, _)| !existing.contains(&c.id)) {
        if added == 0 {
            let _ = writeln!(case_text, "# {comment}");
        }
        let _ = writeln!(case_text, "{}", case_line(c));
        let _ = writeln!(golden_text, "{record}");
        added += 1;
    }
    if added > 0 {
        write_atomic(cases, &case_text)?;
        write_atomic(&golden, &golden_text)?;
    }
    Ok(added)
}

/// A recorded answer: the members a `golden.jsonl` record has after `id`
/// and `args`.
pub trait Answer: Sized {
    /// Reads the answer out of a record.
    fn from_record(record: &Json) -> Result<Self, Error>;
    /// Appends the answer's members, in the record's order, for `corpus`.
    fn to_members(&self, corpus: Corpus, members: &mut Vec<(String, Json)>);
}

/// Parses the text of a `golden.jsonl`.
pub fn parse_golden<A: Answer>(text: &str) -> Result<Vec<Case<A>>, Error> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            parse_record(l).map_err(|e| Error::new(format!("golden.jsonl:{}: {e}", n + 1)))
        })
        .collect()
}

/// Reads a `golden.jsonl` file.
pub fn load_golden<A: Answer>(path: &Path) -> Result<Vec<Case<A>>, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
    parse_golden(&text).map_err(|e| Error::new(format!("{}: {e}", path.display())))
}

/// Parses one `golden.jsonl` line.
pub fn parse_record<A: Answer>(line: &str) -> Result<Case<A>, Error> {
    let v = Json::parse(line).map_err(|e| Error::new(e.to_string()))?;
    let id = v
        .get("id")
        .and_then(Json::as_str)
        .ok_or_else(|| Error::new("no \"id\""))?;
    let args = strings(&v, "args")?.ok_or_else(|| Error::new("no \"args\""))?;
    Ok(Case {
        id: id.to_string(),
        args,
        answer: A::from_record(&v)?,
    })
}

/// The `golden.jsonl` line of a case of `corpus` (without the newline).
pub fn record_line<A: Answer>(case: &Case<A>, corpus: Corpus) -> String {
    let mut members = vec![
        ("id".to_string(), Json::str(&case.id)),
        ("args".to_string(), Json::strings(&case.args)),
    ];
    case.answer.to_members(corpus, &mut members);
    Json::Obj(members).dumps(corpus.style())
}

/// The member `key` as a list of strings; `None` when absent or `null`.
fn strings(v: &Json, key: &str) -> Result<Option<Vec<String>>, Error> {
    match v.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Arr(a)) => a
            .iter()
            .map(|s| s.as_str().map(String::from))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| Error::new(format!("\"{key}\" must be strings"))),
        Some(_) => Err(Error::new(format!("\"{key}\" must be a list"))),
    }
}

/// What QEMU answered over QMP: a record of the options or the topology
/// corpus.
#[derive(Clone, Debug, PartialEq)]
pub struct QmpAnswer {
    /// QEMU's exit status (-1: timeout).
    pub exit: i64,
    /// QEMU exited 0, sent the QMP greeting and answered `quit`.
    pub accepted: bool,
    /// All of stderr, a line an element, `\r` removed, the program name
    /// at a line's start replaced by `qemu`.
    pub stderr: Vec<String>,
    /// HMP `info numa` (`\r\n` turned into `\n`), `None` when rejected.
    pub info_numa: Option<String>,
    /// `query-memdev`'s answer sorted by id, in QEMU's member order;
    /// [`Json::Null`] when rejected.
    pub memdevs: Json,
    /// Every possible CPU slot in cpu-index order (topology corpus only;
    /// `None` there when QEMU has no CPU or rejected the line).
    pub slots: Option<Vec<Slot>>,
    /// `query-memory-devices`' answer in QEMU's order and member order
    /// (devices corpus only; [`Json::Null`] when rejected or not
    /// recorded).
    pub memory_devices: Json,
}

impl QmpAnswer {
    /// `memdevs` as a `serde_json::Value`.
    pub fn memdevs_value(&self) -> serde_json::Value {
        self.memdevs.to_value()
    }

    /// `memory_devices` as a `serde_json::Value`.
    pub fn memory_devices_value(&self) -> serde_json::Value {
        self.memory_devices.to_value()
    }
}

impl Answer for QmpAnswer {
    fn from_record(v: &Json) -> Result<Self, Error> {
        let slots = match v.get("slots") {
            None | Some(Json::Null) => None,
            Some(Json::Arr(a)) => Some(a.iter().map(Slot::from_json).collect::<Result<_, _>>()?),
            Some(_) => return Err(Error::new("\"slots\" must be a list")),
        };
        Ok(QmpAnswer {
            exit: v
                .get("exit")
                .and_then(Json::as_i64)
                .ok_or_else(|| Error::new("no \"exit\""))?,
            accepted: v
                .get("accepted")
                .and_then(Json::as_bool)
                .ok_or_else(|| Error::new("no \"accepted\""))?,
            stderr: strings(v, "stderr")?.unwrap_or_default(),
            info_numa: v.get("info_numa").and_then(Json::as_str).map(String::from),
            memdevs: v.get("memdevs").cloned().unwrap_or(Json::Null),
            slots,
            memory_devices: v.get("memory_devices").cloned().unwrap_or(Json::Null),
        })
    }

    fn to_members(&self, corpus: Corpus, members: &mut Vec<(String, Json)>) {
        members.push(("exit".into(), Json::int(self.exit)));
        members.push(("accepted".into(), Json::Bool(self.accepted)));
        members.push(("stderr".into(), Json::strings(&self.stderr)));
        members.push((
            "info_numa".into(),
            self.info_numa.as_deref().map_or(Json::Null, Json::str),
        ));
        members.push(("memdevs".into(), self.memdevs.clone()));
        if corpus == Corpus::Topology {
            let slots = self.slots.as_ref().map_or(Json::Null, |s| {
                Json::Arr(s.iter().map(Slot::to_json).collect())
            });
            members.push(("slots".into(), slots));
        }
        if matches!(corpus, Corpus::Devices | Corpus::Virt) {
            members.push(("memory_devices".into(), self.memory_devices.clone()));
        }
    }
}

/// The topology properties of a CPU slot, in the order they are written.
pub const PROP_KEYS: [&str; 7] = [
    "node-id",
    "socket-id",
    "die-id",
    "cluster-id",
    "core-id",
    "thread-id",
    // QEMU 10.0 with `-smp modules=` above 1 (last, so that records
    // without it are unchanged).
    "module-id",
];

/// A possible CPU slot as QEMU reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    /// The cpu index.
    pub index: i64,
    /// Whether a CPU is realized in it.
    pub present: bool,
    /// The CPU's `apic-id` (present slots only).
    pub apic_id: Option<i64>,
    /// The values of [`PROP_KEYS`] QEMU gave, in that order.
    pub props: [Option<i64>; 7],
}

/// A slot as `(index, present, apic id, node, socket, die, core,
/// thread)`, a missing socket, core or thread as -1: the form in which
/// the golden test and `xtask qemu-diff` compare slots.
pub type SlotTuple = (
    i64,
    bool,
    Option<i64>,
    Option<i64>,
    i64,
    Option<i64>,
    i64,
    i64,
);

impl Slot {
    /// The property `key` (one of [`PROP_KEYS`]).
    pub fn prop(&self, key: &str) -> Option<i64> {
        PROP_KEYS
            .iter()
            .position(|k| *k == key)
            .and_then(|i| self.props[i])
    }

    /// The slot as a [`SlotTuple`].
    pub fn tuple(&self) -> SlotTuple {
        (
            self.index,
            self.present,
            self.apic_id,
            self.prop("node-id"),
            self.prop("socket-id").unwrap_or(-1),
            self.prop("die-id"),
            self.prop("core-id").unwrap_or(-1),
            self.prop("thread-id").unwrap_or(-1),
        )
    }

    /// The CPU slots of a vnuma JSON report (its `cpus` member, whose
    /// members are named as QEMU's), as QEMU reports them: the APIC id of
    /// present slots only. The one way the golden tests and
    /// `xtask qemu-diff` read vnuma's side.
    pub fn of_report(report_json: &str) -> Result<Vec<Slot>, String> {
        let report = Json::parse(report_json).map_err(|e| e.to_string())?;
        let cpus = report
            .get("cpus")
            .and_then(Json::as_arr)
            .ok_or("the report has no cpus")?;
        Ok(cpus
            .iter()
            .map(|c| {
                let present = c.get("present").and_then(Json::as_bool).unwrap_or(false);
                Slot {
                    index: c.get("cpu-index").and_then(Json::as_i64).unwrap_or(-1),
                    present,
                    apic_id: c.get("apic-id").and_then(Json::as_i64).filter(|_| present),
                    props: Slot::props_of(Some(c)),
                }
            })
            .collect())
    }

    /// Compare vnuma's slots with QEMU's (as [`SlotTuple`]s): the first
    /// difference, or a count mismatch.
    pub fn compare(ours: &[Slot], qemu: &[Slot]) -> Result<(), String> {
        if ours.len() != qemu.len() {
            return Err(format!("{} slots, QEMU {}", ours.len(), qemu.len()));
        }
        for (o, q) in ours.iter().zip(qemu) {
            let (o, q) = (o.tuple(), q.tuple());
            if o != q {
                return Err(format!("slot {}: vnuma {o:?}, QEMU {q:?}", o.0));
            }
        }
        Ok(())
    }

    /// The props of a QMP `props` object.
    pub fn props_of(props: Option<&Json>) -> [Option<i64>; 7] {
        PROP_KEYS.map(|k| props.and_then(|p| p.get(k)).and_then(Json::as_i64))
    }

    fn from_json(v: &Json) -> Result<Slot, Error> {
        Ok(Slot {
            index: v
                .get("index")
                .and_then(Json::as_i64)
                .ok_or_else(|| Error::new("slot without \"index\""))?,
            present: v.get("present").and_then(Json::as_bool).unwrap_or(false),
            apic_id: v.get("apic_id").and_then(Json::as_i64),
            props: Slot::props_of(v.get("props")),
        })
    }

    fn to_json(&self) -> Json {
        let props = PROP_KEYS
            .iter()
            .zip(self.props)
            .filter_map(|(k, v)| Some((k.to_string(), Json::int(v?))))
            .collect();
        Json::obj(vec![
            ("index", Json::int(self.index)),
            ("present", Json::Bool(self.present)),
            ("apic_id", self.apic_id.map_or(Json::Null, Json::int)),
            ("props", Json::Obj(props)),
        ])
    }
}

/// The ACPI tables QEMU built: a record of the tables corpus. Each is
/// the table's bytes exactly as in fw_cfg's `etc/acpi/tables` (checksum
/// byte 0, left to the firmware), `None` when QEMU built none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AcpiTables {
    /// The SRAT.
    pub srat: Option<Vec<u8>>,
    /// The SLIT.
    pub slit: Option<Vec<u8>>,
    /// The HMAT.
    pub hmat: Option<Vec<u8>>,
}

impl AcpiTables {
    /// The signatures recorded, in record order.
    pub const SIGNATURES: [&'static str; 3] = ["SRAT", "SLIT", "HMAT"];

    /// `(signature, bytes)` of each table, in record order.
    pub fn tables(&self) -> [(&'static str, Option<&[u8]>); 3] {
        [
            ("SRAT", self.srat.as_deref()),
            ("SLIT", self.slit.as_deref()),
            ("HMAT", self.hmat.as_deref()),
        ]
    }

    fn slot(&mut self, signature: &str) -> Option<&mut Option<Vec<u8>>> {
        match signature {
            "SRAT" => Some(&mut self.srat),
            "SLIT" => Some(&mut self.slit),
            "HMAT" => Some(&mut self.hmat),
            _ => None,
        }
    }
}

impl Answer for AcpiTables {
    fn from_record(v: &Json) -> Result<Self, Error> {
        let mut out = AcpiTables::default();
        for sig in AcpiTables::SIGNATURES {
            let bytes = match v.get(sig) {
                None | Some(Json::Null) => None,
                Some(Json::Str(hex)) => {
                    Some(unhex(hex).ok_or_else(|| Error::new(format!("\"{sig}\" is not hex")))?)
                }
                Some(_) => return Err(Error::new(format!("\"{sig}\" must be hex or null"))),
            };
            if let Some(t) = out.slot(sig) {
                *t = bytes;
            }
        }
        Ok(out)
    }

    fn to_members(&self, _: Corpus, members: &mut Vec<(String, Json)>) {
        for (sig, bytes) in self.tables() {
            members.push((sig.into(), bytes.map_or(Json::Null, |b| Json::Str(hex(b)))));
        }
    }
}

/// What QEMU answered for a case of the virt corpus: the QMP session
/// (verdict, stderr, `info numa`, `query-memdev`,
/// `query-memory-devices`), and for an accepted case the NUMA nodes of
/// the device tree it dumps (`-machine dumpdtb=`) and the SRAT, SLIT and
/// HMAT it builds (read from fw_cfg over qtest). The record is
/// `{"id", "args", "exit", "accepted", "stderr", "info_numa", "memdevs",
/// "memory_devices", "fdt", "SRAT", "SLIT", "HMAT"}`.
#[derive(Clone, Debug, PartialEq)]
pub struct VirtAnswer {
    /// The QMP session.
    pub qmp: QmpAnswer,
    /// The device tree's NUMA nodes; `None` when QEMU rejected the line.
    pub fdt: Option<FdtNuma>,
    /// The ACPI tables (all `None` when QEMU rejected the line).
    pub tables: AcpiTables,
}

impl Answer for VirtAnswer {
    fn from_record(v: &Json) -> Result<Self, Error> {
        let fdt = match v.get("fdt") {
            None | Some(Json::Null) => None,
            Some(f) => Some(FdtNuma::from_json(f)?),
        };
        Ok(VirtAnswer {
            qmp: QmpAnswer::from_record(v)?,
            fdt,
            tables: AcpiTables::from_record(v)?,
        })
    }

    fn to_members(&self, corpus: Corpus, members: &mut Vec<(String, Json)>) {
        self.qmp.to_members(corpus, members);
        members.push((
            "fdt".into(),
            self.fdt.as_ref().map_or(Json::Null, FdtNuma::to_json),
        ));
        self.tables.to_members(corpus, members);
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of a hex string; `None` when it is not one.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_and_errors() {
        let cases = parse_cases("# c\n\na-1\t[\"-m\", \"1G\"]\n", "x").unwrap();
        assert_eq!(cases[0].id, "a-1");
        assert_eq!(case_line(&cases[0]), "a-1\t[\"-m\", \"1G\"]");
        assert!(parse_cases("a\t[1]\n", "x").is_err());
        assert!(parse_cases("a\t[]\na\t[]\n", "x").is_err());
        assert!(parse_cases("a []\n", "x").is_err());
    }

    #[test]
    fn records_round_trip() {
        let line = r#"{"id": "x", "args": ["-M", "none"], "exit": 0, "accepted": true, "stderr": [], "info_numa": "0 nodes\n", "memdevs": [{"size": 1, "id": "m"}], "slots": [{"index": 0, "present": true, "apic_id": 0, "props": {"socket-id": 0, "core-id": 0, "thread-id": 0}}]}"#;
        let case: Case<QmpAnswer> = parse_record(line).unwrap();
        assert_eq!(record_line(&case, Corpus::Topology), line);
        let slots = case.answer.slots.as_ref().unwrap();
        assert_eq!(slots[0].tuple(), (0, true, Some(0), None, 0, None, 0, 0));
        let line = r#"{"id": "t", "args": [], "SRAT": "00ff", "SLIT": null, "HMAT": null}"#;
        let case: Case<AcpiTables> = parse_record(line).unwrap();
        assert_eq!(case.answer.srat, Some(vec![0, 255]));
        assert_eq!(record_line(&case, Corpus::Tables), line);
        assert!(parse_record::<AcpiTables>(r#"{"id": "t", "args": [], "SRAT": "0"}"#).is_err());
        let line = r##"{"id": "virt-a", "args": ["-M", "virt"], "exit": 0, "accepted": true, "stderr": [], "info_numa": "0 nodes\n", "memdevs": [], "memory_devices": [], "fdt": {"memory": [{"name": "memory@40000000", "reg": [["0x40000000", "0x8000000"]], "numa-node-id": null}], "cpus": {"#address-cells": 1, "cpu": [{"name": "cpu@0", "reg": [0], "numa-node-id": null}]}, "distance-map": null}, "SRAT": null, "SLIT": null, "HMAT": null}"##;
        let case: Case<VirtAnswer> = parse_record(line).unwrap();
        assert_eq!(record_line(&case, Corpus::Virt), line);
        let fdt = case.answer.fdt.as_ref().unwrap();
        assert_eq!(fdt.memory[0].reg, [(0x4000_0000, 0x800_0000)]);
        assert_eq!(fdt.cpus[0].reg, [0]);
    }

    #[test]
    fn golden_files_are_rewritten_and_appended() {
        let dir = std::env::temp_dir().join(format!("vnuma-harness-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cases_path = dir.join("cases.txt");
        let golden = dir.join("golden.jsonl");
        std::fs::write(&cases_path, "a\t[]\nb\t[]\n").unwrap();
        std::fs::write(&golden, "{\"id\": \"a\", \"x\": 1}\n{\"id\": \"b\"}\n").unwrap();
        let all = load_cases(&cases_path).unwrap();
        let new = HashMap::from([("b", "{\"id\": \"b\", \"x\": 2}")]);
        rewrite_golden(&golden, &all, &new).unwrap();
        let text = std::fs::read_to_string(&golden).unwrap();
        assert_eq!(
            text,
            "{\"id\": \"a\", \"x\": 1}\n{\"id\": \"b\", \"x\": 2}\n"
        );
        let c = Case {
            id: "c".into(),
            args: vec!["-m".into()],
            answer: (),
        };
        let n = append_cases(
            &cases_path,
            "gen",
            &[(&all[0], "x"), (&c, "{\"id\": \"c\"}")],
        )
        .unwrap();
        assert_eq!(n, 1);
        let text = std::fs::read_to_string(&cases_path).unwrap();
        assert_eq!(text, "a\t[]\nb\t[]\n# gen\nc\t[\"-m\"]\n");
        assert!(std::fs::read_to_string(&golden)
            .unwrap()
            .ends_with("{\"id\": \"c\"}\n"));
        let missing = HashMap::new();
        let more = [all[0].clone(), c];
        assert!(rewrite_golden(&golden, &more[..1], &missing).is_ok());
        std::fs::write(&golden, "").unwrap();
        assert!(rewrite_golden(&golden, &more, &missing).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn ids() {
        assert!(Corpus::Topology.check_id("node-a-1").is_ok());
        assert!(Corpus::Topology.check_id("misc-a").is_err());
        assert!(Corpus::Tables.check_id("pc-A").is_err());
        assert_eq!(
            Corpus::detect(Path::new("crates/vnuma-tables/tests/qemu72/cases.txt")),
            Corpus::Tables
        );
        assert_eq!(
            Corpus::detect(Path::new("crates/vnuma-options/tests/qemu100/cases.txt")),
            Corpus::Options
        );
        assert_eq!(
            Corpus::detect(Path::new("crates/vnuma/tests/qemu72_virt/cases.txt")),
            Corpus::Virt
        );
        assert_eq!(
            Corpus::detect(Path::new("crates/vnuma/tests/qemu72_devices/cases.txt")),
            Corpus::Devices
        );
        assert_eq!(Corpus::Virt.target(), Target::Aarch64);
        assert_eq!(Corpus::Tables.target(), Target::X86_64);
        assert_eq!(
            Target::of_binary("PREFIX/bin/qemu-system-aarch64"),
            Target::Aarch64
        );
        assert_eq!(Target::of_binary("qemu-system-x86_64"), Target::X86_64);
        assert!(Corpus::Virt.check_id("dimm-firmware-two").is_ok());
        assert!(Corpus::Virt.check_id("complete-x").is_err());
    }
}
