//! `cargo xtask qemu-diff [--corpus options|topology|tables|devices|virt|all|FILE]
//! [--update] [--only ID,...] [--generate N --seed S] [--qemu BINARY]
//! [--jobs N]`: live differential testing against QEMU 7.2 or 10.0.
//!
//! The QEMU binary's `--version` picks vnuma's profile
//! (`vnuma::topology::Profile`) and the golden folder: a named corpus is
//! `tests/qemu72/` with QEMU 7.2 and its sibling `tests/qemu100/` with
//! QEMU 10.0 (created from the 7.2 `cases.txt` on the first `--update`).
//!
//! Every case (a corpus in the `cases.txt` format, the topology corpus by
//! default, or random command lines from the seeded generator) runs
//! through `qemu-system-x86_64` as the corpus records it
//! (`vnuma_qemu_harness::capture`: a QMP session for the options and
//! topology corpora, fw_cfg over qtest for the tables corpus) and through
//! vnuma in-process (`vnuma::Vm::from_args`). Every disagreement is
//! printed: accept or reject, the first error, the warnings, `info numa`,
//! `query-memdev`, `query-memory-devices` (devices corpus), each CPU slot's node, APIC id and topology ids, and
//! the SRAT/SLIT/HMAT bytes. Cases on the harness's list of deliberate
//! deviations are counted apart. The exit status is 0 when nothing
//! disagrees, 1 when something does, 2 when QEMU is missing or the
//! arguments are wrong.
//!
//! `--update` writes QEMU's answers: the corpus's `golden.jsonl` (and for
//! the whole topology corpus its `machines.json`); with `--generate`, the
//! generated cases are appended to the corpus (default: the topology
//! corpus) and their answers to its `golden.jsonl`. This is how the
//! golden data is captured.
//!
//! The virt corpus (Arm's `virt` board) runs under `qemu-system-aarch64`
//! (or the aarch64 binary `--qemu` names) and vnuma answers it as
//! `Target::Aarch64`: the QMP answers as above, then the NUMA nodes of the
//! device tree (`-machine dumpdtb=`, decoded by the harness's FDT reader,
//! which reads vnuma's `Vm::dtb` too) and the SRAT/SLIT/HMAT bytes (read
//! from the memory-mapped fw_cfg). Its memory-hotplug cases boot the
//! `qemu-efi-aarch64` package's image in place of `@EFI@`. `--corpus all`
//! includes it only when an aarch64 QEMU is found; the x86 corpora run
//! under `qemu-system-x86_64` (or the x86 binary `--qemu` names).
//!
//! The QEMU side (clients, corpus formats, deviations, generator) lives in
//! `vnuma-qemu-harness`; this file keeps the driver and vnuma's side.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::Value;
use vnuma::topology::{Profile, Target as VmTarget};
use vnuma_qemu_harness::capture::{
    capture_machines, capture_qmp, capture_tables, capture_virt, run_parallel,
};
use vnuma_qemu_harness::corpus::{
    append_cases, load_cases, record_line, rewrite_golden, write_atomic, AcpiTables, Answer,
    QmpAnswer, Slot, SlotTuple, VirtAnswer,
};
use vnuma_qemu_harness::deviation::{
    deviation, first_error, json_detail_matches, warnings, JSON_DETAIL,
};
use vnuma_qemu_harness::fdt::FdtNuma;
use vnuma_qemu_harness::generate::generate;
use vnuma_qemu_harness::qmp::{efi_aarch64, qemu_version, Launch, EFI_PLACEHOLDER};
use vnuma_qemu_harness::{Case, Corpus, Target};

/// Time limit of one QMP case (all QMP traffic and the exit).
const QMP_TIMEOUT: Duration = Duration::from_secs(20);
/// Time limit of one tables case (byte reads of old machine types are
/// slow).
const TABLES_TIMEOUT: Duration = Duration::from_secs(60);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
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

/// The firmware file name vnuma is given for the virt corpus's `@EFI@`
/// (vnuma only needs to know that firmware is given).
const EFI_NAME: &str = "QEMU_EFI.fd";

fn run_vnuma(profile: Profile, target: Target, args: &[String]) -> VnumaAnswer {
    // QEMU runs with the harness's `-nodefaults`; vnuma reads it too (it
    // decides the PCI slots a generic initiator's device gets).
    let args: Vec<String> = std::iter::once("-nodefaults".to_string())
        .chain(args.iter().map(|a| a.replace(EFI_PLACEHOLDER, EFI_NAME)))
        .collect();
    let target = match target {
        Target::X86_64 => VmTarget::X86_64,
        Target::Aarch64 => VmTarget::Aarch64,
    };
    match std::panic::catch_unwind(|| vnuma::Vm::for_qemu_target(profile, target, &args)) {
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

fn summary_vnuma(v: &VnumaAnswer) -> String {
    match v {
        VnumaAnswer::Accepted { .. } => "accepted".into(),
        VnumaAnswer::Rejected(e) => format!("rejected: {e}"),
        VnumaAnswer::Panicked(p) => format!("panicked: {p}"),
    }
}

// ---------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------

/// How one case came out.
enum Outcome {
    Agree,
    Deviation(&'static str),
    Disagree(Vec<String>),
}

/// What a corpus records and how vnuma's answer is held against it.
trait Compared: Answer + Send + Sync + Sized {
    /// Runs QEMU on one case.
    fn capture(launch: &Launch<'_>, corpus: Corpus, id: &str) -> Result<Self, String>;
    /// Holds vnuma's answer against QEMU's.
    fn compare(case: &Case<Self>, corpus: Corpus, vnuma: &VnumaAnswer) -> Outcome;
    /// QEMU's answer in one line.
    fn summary(&self) -> String;
}

impl Compared for QmpAnswer {
    fn capture(launch: &Launch<'_>, corpus: Corpus, _: &str) -> Result<Self, String> {
        Ok(capture_qmp(launch, corpus)?)
    }

    fn compare(case: &Case<Self>, corpus: Corpus, vnuma: &VnumaAnswer) -> Outcome {
        let qemu = &case.answer;
        if let Some(why) = deviation(corpus, &case.args, &qemu.stderr, qemu.exit) {
            return Outcome::Deviation(why);
        }
        let mut diffs = Vec::new();
        let qemu_error = first_error(&qemu.stderr);
        match (qemu.accepted, vnuma) {
            (_, VnumaAnswer::Panicked(msg)) => diffs.push(format!("vnuma panicked: {msg}")),
            (false, VnumaAnswer::Rejected(ours)) => {
                let q = qemu_error.unwrap_or_else(|| "<no message>".into());
                if q != *ours {
                    match json_detail_matches(&q, ours) {
                        Some(true) => return Outcome::Deviation(JSON_DETAIL),
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
                    warnings: ours,
                    report,
                },
            ) => {
                let want = warnings(&qemu.stderr);
                if &want != ours {
                    diffs.push(format!("warnings: QEMU {want:?}, vnuma {ours:?}"));
                }
                let theirs = qemu.info_numa.as_deref().map_or(Value::Null, Value::from);
                if report["info_numa"] != theirs {
                    diffs.push(format!(
                        "info numa: QEMU {}, vnuma {}",
                        theirs, report["info_numa"]
                    ));
                }
                let mut ours: Vec<Value> =
                    report["memdevs"].as_array().cloned().unwrap_or_default();
                ours.sort_by_key(|m| m["id"].as_str().unwrap_or("").to_string());
                let theirs = qemu.memdevs_value();
                if theirs.as_array() != Some(&ours) {
                    diffs.push(format!(
                        "memdevs: QEMU {theirs}, vnuma {}",
                        Value::Array(ours)
                    ));
                }
                if corpus == Corpus::Devices {
                    let ours =
                        serde_json::to_value(vm.query_memory_devices()).unwrap_or(Value::Null);
                    let theirs = qemu.memory_devices_value();
                    if ours != theirs {
                        diffs.push(format!("query-memory-devices: QEMU {theirs}, vnuma {ours}"));
                    }
                }
                if let Some(slots) = &qemu.slots {
                    let theirs: Vec<SlotTuple> = slots.iter().map(|s| s.tuple()).collect();
                    diffs.extend(compare_slots(&theirs, vm));
                }
            }
        }
        if diffs.is_empty() {
            Outcome::Agree
        } else {
            Outcome::Disagree(diffs)
        }
    }

    fn summary(&self) -> String {
        if self.accepted {
            "accepted".into()
        } else {
            format!(
                "rejected (exit {}): {}",
                self.exit,
                first_error(&self.stderr).unwrap_or_else(|| "<no message>".into())
            )
        }
    }
}

impl Compared for AcpiTables {
    fn capture(launch: &Launch<'_>, _: Corpus, id: &str) -> Result<Self, String> {
        let launch = Launch {
            timeout: TABLES_TIMEOUT,
            ..launch.clone()
        };
        Ok(capture_tables(&launch, id)?)
    }

    fn compare(case: &Case<Self>, _: Corpus, vnuma: &VnumaAnswer) -> Outcome {
        let vm = match vnuma {
            VnumaAnswer::Accepted { vm, .. } => vm,
            other => return Outcome::Disagree(vec![format!("vnuma {}", summary_vnuma(other))]),
        };
        let diffs = compare_tables(&case.answer, vm);
        if diffs.is_empty() {
            Outcome::Agree
        } else {
            Outcome::Disagree(diffs)
        }
    }

    fn summary(&self) -> String {
        let built: Vec<&str> = self
            .tables()
            .into_iter()
            .filter(|(_, t)| t.is_some())
            .map(|(sig, _)| sig)
            .collect();
        format!("built {}", built.join(", "))
    }
}

impl Compared for VirtAnswer {
    fn capture(launch: &Launch<'_>, _: Corpus, id: &str) -> Result<Self, String> {
        let launch = Launch {
            timeout: TABLES_TIMEOUT,
            ..launch.clone()
        };
        Ok(capture_virt(&launch, id)?)
    }

    /// The QMP answers as for the other corpora, then the device tree's
    /// NUMA nodes and the tables.
    fn compare(case: &Case<Self>, corpus: Corpus, vnuma: &VnumaAnswer) -> Outcome {
        let qmp = Case {
            id: case.id.clone(),
            args: case.args.clone(),
            answer: case.answer.qmp.clone(),
        };
        let mut diffs = match QmpAnswer::compare(&qmp, corpus, vnuma) {
            Outcome::Deviation(why) => return Outcome::Deviation(why),
            Outcome::Agree => Vec::new(),
            Outcome::Disagree(d) => d,
        };
        if let (true, VnumaAnswer::Accepted { vm, .. }) = (case.answer.qmp.accepted, vnuma) {
            match (&case.answer.fdt, vm.dtb()) {
                (None, _) => diffs.push("the record has no device tree".into()),
                (Some(_), Err(e)) => diffs.push(format!("vnuma's device tree: {e}")),
                (Some(theirs), Ok(blob)) => match FdtNuma::from_blob(&blob) {
                    Ok(ours) => diffs.extend(theirs.diff(&ours)),
                    Err(e) => diffs.push(format!("vnuma's device tree does not decode: {e}")),
                },
            }
            diffs.extend(compare_tables(&case.answer.tables, vm));
        }
        if diffs.is_empty() {
            Outcome::Agree
        } else {
            Outcome::Disagree(diffs)
        }
    }

    fn summary(&self) -> String {
        self.qmp.summary()
    }
}

/// Every table byte for byte, vnuma's checksum byte set to 0 as in
/// fw_cfg (the firmware fills it in); one line per differing table.
fn compare_tables(qemu: &AcpiTables, vm: &vnuma::Vm) -> Vec<String> {
    let ours = match vm.acpi_tables() {
        Ok(t) => t,
        Err(e) => return vec![format!("vnuma's tables: {e}")],
    };
    let mine = |sig: &str| -> Option<Vec<u8>> {
        let (_, table) = ours.as_ref()?.iter().find(|&(s, _)| s == sig)?;
        let mut bytes = table.to_vec();
        if let Some(b) = bytes.get_mut(9) {
            *b = 0;
        }
        Some(bytes)
    };
    qemu.tables()
        .into_iter()
        .filter_map(|(sig, qemu)| match (mine(sig), qemu) {
            (None, None) => None,
            (Some(m), Some(q)) if m == q => None,
            (Some(m), Some(q)) => Some(format!(
                "{sig}: {} bytes, QEMU {}; first difference at byte {}",
                m.len(),
                q.len(),
                m.iter()
                    .zip(q)
                    .position(|(a, b)| a != b)
                    .unwrap_or(m.len().min(q.len()))
            )),
            (m, q) => Some(format!(
                "{sig}: vnuma {}, QEMU {}",
                if m.is_some() { "builds it" } else { "none" },
                if q.is_some() { "builds it" } else { "none" }
            )),
        })
        .collect()
}

fn compare_slots(theirs: &[SlotTuple], vm: &vnuma::Vm) -> Option<String> {
    let ours: Vec<SlotTuple> = match Slot::of_report(&vm.report().to_json()) {
        Ok(slots) => slots.iter().map(Slot::tuple).collect(),
        Err(e) => return Some(format!("slots: {e}")),
    };
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

/// The argv as a shell command line.
fn shell_line(qemu: &str, args: &[String]) -> String {
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
    let mut s = qemu.to_string();
    for a in args {
        s.push(' ');
        s.push_str(&quote(a));
    }
    s
}

// ---------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------

struct Options {
    /// `None`: the topology corpus; `Some(None)`: every corpus.
    corpus: Option<Option<PathBuf>>,
    /// The corpus was given by name (its folder follows the QEMU release).
    named: bool,
    update: bool,
    only: Option<Vec<String>>,
    generate: Option<u64>,
    seed: u64,
    /// `--qemu`: used for the corpora of the target it emulates.
    qemu: Option<String>,
    jobs: usize,
}

const USAGE: &str = "usage: cargo xtask qemu-diff [--corpus options|topology|tables|devices|virt|all|FILE] [--update] [--only ID,...] [--generate N --seed S] [--qemu BINARY] [--jobs N]";

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        corpus: None,
        named: true,
        update: false,
        only: None,
        generate: None,
        seed: 0,
        qemu: None,
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
            "--corpus" => {
                let v = value("--corpus")?;
                o.named = Corpus::from_name(&v).is_some() || v == "all";
                o.corpus = Some(match Corpus::from_name(&v) {
                    Some(c) => Some(c.cases_path(&root())),
                    None if v == "all" => None,
                    None => Some(resolve_path(Path::new(&v))),
                });
            }
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
            "--qemu" => o.qemu = Some(value("--qemu")?),
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
    if o.generate.is_some() && o.corpus == Some(None) {
        return Err("--generate goes with one corpus".into());
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

/// One QEMU binary, ready to run a corpus.
struct Qemu {
    /// The binary.
    path: String,
    /// `--version`'s first line.
    version: String,
    /// The profile vnuma answers with.
    profile: Profile,
    /// The emulated target.
    target: Target,
    /// The file put in place of `@EFI@` (aarch64 only).
    firmware: Option<String>,
}

/// Run QEMU on every case, `jobs` at a time.
fn run_all<A: Compared>(
    o: &Options,
    qemu: &Qemu,
    corpus: Corpus,
    cases: &[Case],
) -> Vec<Result<A, String>> {
    let progress = std::io::stderr().is_terminal();
    let answers = run_parallel(
        cases,
        o.jobs,
        |case| {
            let launch = Launch {
                qemu: &qemu.path,
                timeout: QMP_TIMEOUT,
                firmware: qemu.firmware.as_deref(),
                ..Launch::new(&case.args)
            };
            A::capture(&launch, corpus, &case.id)
        },
        |done, total| {
            if progress {
                eprint!("\rqemu-diff: {done}/{total} ");
            }
        },
    );
    if progress {
        eprint!("\r\x1b[K");
    }
    answers
}

/// The QEMU binary for `target`: the one `--qemu` names when it emulates
/// that target, else the target's binary on `PATH`; `Err` with the
/// message to print when it cannot be run or has no vnuma profile.
fn find_qemu(o: &Options, target: Target) -> Result<Qemu, String> {
    let path = match &o.qemu {
        Some(q) if Target::of_binary(q) == target => q.clone(),
        _ => target.binary().to_string(),
    };
    let Some(version) = qemu_version(&path) else {
        let package = match target {
            Target::X86_64 => "qemu-system-x86",
            Target::Aarch64 => "qemu-system-arm",
        };
        return Err(format!(
            "xtask: cannot run `{path}`: QEMU 7.2 is the reference and is not installed.\n\
             Install it with:  apt-get install -y {package}\n\
             (or pass --qemu /path/to/{})",
            target.binary()
        ));
    };
    let Some(profile) = profile_of(&version) else {
        return Err(format!(
            "xtask: vnuma has profiles for QEMU 7.2 and 10.0, this is: {version}"
        ));
    };
    let firmware = match target {
        Target::Aarch64 => efi_aarch64(),
        Target::X86_64 => None,
    };
    Ok(Qemu {
        path,
        version,
        profile,
        target,
        firmware,
    })
}

fn run(o: &Options) -> Result<ExitCode, String> {
    let paths = match &o.corpus {
        None => vec![Corpus::Topology.cases_path(&root())],
        Some(Some(p)) => vec![p.clone()],
        Some(None) => Corpus::ALL.iter().map(|c| c.cases_path(&root())).collect(),
    };
    let every = o.corpus == Some(None);
    let mut found: HashMap<Target, Qemu> = HashMap::new();
    let mut failed = false;
    for path in paths {
        let target = Corpus::detect(&path).target();
        let qemu = match found.entry(target) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => match find_qemu(o, target) {
                Ok(q) => {
                    eprintln!("qemu-diff: {}: vnuma answers as QEMU {}", q.path, q.profile);
                    e.insert(q)
                }
                // `all` runs the aarch64 corpus only where its QEMU is.
                Err(err) if every && target == Target::Aarch64 => {
                    eprintln!("qemu-diff: the virt corpus is skipped: {err}");
                    continue;
                }
                Err(err) => {
                    eprintln!("{err}");
                    return Ok(ExitCode::from(2));
                }
            },
        };
        let path = if o.named {
            release_cases(&path, qemu.profile, o.update)?
        } else {
            path
        };
        let corpus = Corpus::detect(&path);
        let disagree = match corpus {
            Corpus::Tables => run_corpus::<AcpiTables>(o, qemu, &path, corpus)?,
            Corpus::Virt => run_corpus::<VirtAnswer>(o, qemu, &path, corpus)?,
            _ => run_corpus::<QmpAnswer>(o, qemu, &path, corpus)?,
        };
        failed |= disagree > 0;
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs one corpus (or generated cases in its format); the number of
/// disagreements.
fn run_corpus<A: Compared>(
    o: &Options,
    qemu: &Qemu,
    path: &Path,
    corpus: Corpus,
) -> Result<usize, String> {
    let version = &qemu.version;
    let golden = path.with_file_name("golden.jsonl");
    let mut cases = match o.generate {
        Some(n) => {
            let prefix = corpus
                .generated_prefix()
                .ok_or_else(|| format!("the {} corpus takes no generated cases", corpus.name()))?;
            (0..n)
                .map(|k| Case {
                    id: format!("{prefix}gen-{}-{k}", o.seed),
                    args: generate(o.seed, k),
                    answer: (),
                })
                .collect()
        }
        None => load_cases(path)?,
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
    if o.update {
        for c in &cases {
            corpus.check_id(&c.id)?;
        }
    }

    let what = match o.generate {
        Some(n) => format!("{n} generated cases (seed {})", o.seed),
        None => format!("{} cases of {}", cases.len(), path.display()),
    };
    eprintln!("qemu-diff: {what} against {version}, {} jobs", o.jobs);
    let start = Instant::now();
    let answers = run_all::<A>(o, qemu, corpus, &cases);

    let (mut agree, mut disagree) = (0, 0);
    let mut deviations: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut records = Vec::new();
    let mut out = std::io::stdout().lock();
    for (case, answer) in cases.iter().zip(answers) {
        let answer = answer.map_err(|e| format!("{}: {e}", case.id))?;
        let recorded = case.with(answer);
        records.push(record_line(&recorded, corpus));
        let vnuma = run_vnuma(qemu.profile, qemu.target, &case.args);
        match A::compare(&recorded, corpus, &vnuma) {
            Outcome::Agree => agree += 1,
            Outcome::Deviation(why) => deviations.entry(why).or_default().push(&case.id),
            Outcome::Disagree(diffs) => {
                disagree += 1;
                let _ = writeln!(out, "DISAGREE {}", case.id);
                let _ = writeln!(out, "    {}", shell_line(&qemu.path, &case.args));
                let _ = writeln!(out, "    QEMU:  {}", recorded.answer.summary());
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
        match o.generate {
            None => update_golden(&golden, &all_cases, &cases, &records)?,
            Some(n) => append_generated(path, &cases, &records, n, o.seed)?,
        }
        if corpus == Corpus::Topology && o.only.is_none() && o.generate.is_none() {
            let machines = path.with_file_name("machines.json");
            write_atomic(&machines, &capture_machines(&qemu.path)?)?;
            eprintln!("qemu-diff: {}", machines.display());
        }
        if disagree > 0 {
            eprintln!(
                "qemu-diff: note: {disagree} of these cases disagree with vnuma; a golden test that checks them fails until vnuma is fixed"
            );
        }
    }
    Ok(disagree)
}

/// The profile for `qemu --version`'s first line
/// (`QEMU emulator version 10.0.2 (Debian …)`).
fn profile_of(version: &str) -> Option<Profile> {
    let v = version
        .split("version ")
        .nth(1)?
        .split_whitespace()
        .next()?;
    v.parse().ok()
}

/// The golden folder of a QEMU release: `tests/qemu72/cases.txt` for 7.2,
/// `tests/qemu100/cases.txt` for 10.0 (`qemu72_devices/` and
/// `qemu100_devices/` likewise); with `--update`, a missing
/// `cases.txt` is copied from the 7.2 folder.
fn release_cases(cases: &Path, profile: Profile, update: bool) -> Result<PathBuf, String> {
    let Some(dir) = cases.parent() else {
        return Ok(cases.to_path_buf());
    };
    let folder = match profile {
        Profile::Qemu100 => "qemu100",
        _ => return Ok(cases.to_path_buf()),
    };
    // `tests/qemu72/` or a named corpus's `tests/qemu72_NAME/`.
    let Some(suffix) = dir
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("qemu72"))
        .filter(|s| s.is_empty() || s.starts_with('_'))
    else {
        return Ok(cases.to_path_buf());
    };
    let sibling = dir
        .with_file_name(format!("{folder}{suffix}"))
        .join("cases.txt");
    if !sibling.exists() {
        if !update {
            return Err(format!(
                "{} does not exist yet: capture it with --update",
                sibling.display()
            ));
        }
        std::fs::create_dir_all(sibling.parent().unwrap_or(dir))
            .map_err(|e| format!("{}: {e}", sibling.display()))?;
        std::fs::copy(cases, &sibling).map_err(|e| format!("{}: {e}", sibling.display()))?;
        std::fs::write(sibling.with_file_name("golden.jsonl"), "")
            .map_err(|e| format!("{}: {e}", sibling.display()))?;
    }
    Ok(sibling)
}

/// Rewrite `golden.jsonl` in case order: the cases just run get their new
/// line, the others keep theirs (all of them were run without `--only`).
fn update_golden(
    golden: &Path,
    all: &[Case],
    ran: &[Case],
    records: &[String],
) -> Result<(), String> {
    let new: HashMap<&str, &str> = ran
        .iter()
        .map(|c| c.id.as_str())
        .zip(records.iter().map(String::as_str))
        .collect();
    rewrite_golden(golden, all, &new).map_err(|e| format!("{e}: run --update without --only"))?;
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
    cases: &[Case],
    records: &[String],
    n: u64,
    seed: u64,
) -> Result<(), String> {
    let new: Vec<(&Case, &str)> = cases
        .iter()
        .zip(records.iter().map(String::as_str))
        .collect();
    let comment = format!("generated by `cargo xtask qemu-diff --generate {n} --seed {seed}`");
    match append_cases(corpus, &comment, &new)? {
        0 => eprintln!(
            "qemu-diff: every generated case is already in {}",
            corpus.display()
        ),
        added => eprintln!(
            "qemu-diff: appended {added} cases to {} and its golden.jsonl",
            corpus.display()
        ),
    }
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
