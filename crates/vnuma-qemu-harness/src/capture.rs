//! Capturing QEMU's answers for the corpora: the QMP session of the
//! options and topology corpora ([`capture_qmp`]), `machines.json`
//! ([`capture_machines`]), and the ACPI tables of the tables corpus
//! ([`capture_tables`], over qtest and fw_cfg).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::corpus::{AcpiTables, Corpus, QmpAnswer, Slot, VirtAnswer};
use crate::fdt::FdtNuma;
use crate::json::{Json, Style};
use crate::qmp::{finish, Launch, Qmp};
use crate::qtest::{Qtest, VIRT_FW_CFG};
use crate::Error;

/// Files some options cases use as `mem-path`: removed before and after
/// every case that names one, and such cases never run concurrently.
pub const SCRATCH_FILES: [&str; 1] = ["/dev/shm/vnuma-capture-test"];

/// Serialises the cases that use a scratch file.
static SCRATCH: Mutex<()> = Mutex::new(());

fn remove_scratch() {
    for p in SCRATCH_FILES {
        let _ = std::fs::remove_file(p);
    }
}

/// Runs `f` on every item, `jobs` at a time (QEMU runs are independent;
/// those that share a scratch file serialise themselves), calling
/// `progress(done, total)` after each; the results in item order.
pub fn run_parallel<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    f: impl Fn(&T) -> R + Sync,
    progress: impl Fn(usize, usize) + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs.min(items.len()).max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
                progress(done.fetch_add(1, Ordering::Relaxed) + 1, items.len());
            });
        }
    });
    // Every slot is filled: a worker that panicked re-panics above.
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

/// stderr as the corpora record it: a line an element, `\r` removed, the
/// last empty line dropped, the time stamp `-msg timestamp=on` puts
/// first removed, `<prog>: ` at a line's start turned into `qemu: `.
pub fn normalise_stderr(text: &str, prog: &str) -> Vec<String> {
    let text = text.replace('\r', "");
    let mut lines: Vec<&str> = text.split('\n').collect();
    if lines.last() == Some(&"") {
        lines.pop();
    }
    let prefix = format!("{prog}: ");
    lines
        .into_iter()
        .map(strip_timestamp)
        .map(|l| match l.strip_prefix(&prefix) {
            Some(rest) => format!("qemu: {rest}"),
            None => l.to_string(),
        })
        .collect()
}

/// `line` without the UTC time stamp `-msg timestamp=on` puts before a
/// message (`2026-12-04T17:10:26.536947Z `).
fn strip_timestamp(line: &str) -> &str {
    let b = line.as_bytes();
    let stamp = b.len() > 28
        && b[4] == b'-'
        && b[10] == b'T'
        && b[19] == b'.'
        && b[26] == b'Z'
        && b[27] == b' '
        && [0..4, 5..7, 8..10, 11..13, 14..16, 17..19, 20..26]
            .into_iter()
            .all(|r| b[r].iter().all(u8::is_ascii_digit));
    if stamp {
        &line[28..]
    } else {
        line
    }
}

/// QEMU's answer over QMP for one command line: the greeting, then
/// `qmp_capabilities`, `x-exit-preconfig` (only with `--preconfig`), HMP
/// `info numa`, `query-memdev`, for the devices corpus
/// `query-memory-devices`, and for the topology corpus
/// `query-hotpluggable-cpus`, `query-cpus-fast` and the `apic-id` of each
/// CPU; then `quit`. An error only when QEMU cannot be run or its slots
/// cannot be matched.
pub fn capture_qmp(launch: &Launch<'_>, corpus: Corpus) -> Result<QmpAnswer, Error> {
    let args = launch.args;
    let scratch = args
        .iter()
        .any(|a| SCRATCH_FILES.iter().any(|f| a.contains(f)));
    let _guard = scratch.then(|| {
        let g = SCRATCH.lock().unwrap_or_else(|e| e.into_inner());
        remove_scratch();
        g
    });
    let mut q = Qmp::start(launch)?;
    let (mut info_numa, mut memdevs, mut slots) = (None, Json::Null, Ok(None));
    let mut memory_devices = Json::Null;
    let mut quit_ok = false;
    let greeted = q.greeting();
    if greeted {
        let _ = q.execute("qmp_capabilities", None);
        if args.iter().any(|a| a == "--preconfig") {
            let _ = q.command("x-exit-preconfig", None);
        }
        info_numa = match q.human_monitor_command("info numa") {
            Ok(Json::Str(s)) => Some(s.replace("\r\n", "\n")),
            _ => None,
        };
        memdevs = match q.execute("query-memdev", None) {
            Ok(Json::Arr(mut list)) => {
                let sorted = Style {
                    ensure_ascii: true,
                    sort_keys: true,
                };
                list.sort_by_cached_key(|m| {
                    (
                        m.get("id").and_then(Json::as_str).unwrap_or("").to_string(),
                        m.dumps(sorted),
                    )
                });
                Json::Arr(list)
            }
            Ok(other) => other,
            Err(_) => Json::Null,
        };
        if matches!(corpus, Corpus::Devices | Corpus::Virt) {
            memory_devices = q
                .execute("query-memory-devices", None)
                .unwrap_or(Json::Null);
        }
        if corpus == Corpus::Topology {
            let hotpluggable = q.execute("query-hotpluggable-cpus", None).ok();
            let cpus_fast = q.execute("query-cpus-fast", None).ok();
            let mut apic_ids = HashMap::new();
            for c in cpus_fast.as_ref().and_then(Json::as_arr).unwrap_or(&[]) {
                let path = c.get("qom-path").cloned().unwrap_or(Json::Null);
                let apic = q.qom_get(path, "apic-id").ok().and_then(|v| v.as_i64());
                apic_ids.insert(c.get("cpu-index").and_then(Json::as_i64), apic);
            }
            slots = build_slots(hotpluggable.as_ref(), cpus_fast.as_ref(), &apic_ids);
        }
        quit_ok = q.quit();
    }
    let exit = q.finish();
    if scratch {
        remove_scratch();
    }
    Ok(QmpAnswer {
        exit: exit.status,
        accepted: exit.status == 0 && greeted && quit_ok,
        stderr: normalise_stderr(&exit.stderr, &launch.program_name()),
        info_numa,
        memdevs,
        slots: slots.map_err(Error::new)?,
        memory_devices,
    })
}

/// query-hotpluggable-cpus and query-cpus-fast merged into one list in
/// cpu-index order. query-hotpluggable-cpus lists the slots in reverse
/// index order and without the index: a present slot gets the index of
/// the query-cpus-fast entry with the same props, one that is not
/// present its position in the reversed list. Without
/// query-hotpluggable-cpus (microvm) the slots are the present CPUs.
fn build_slots(
    hotpluggable: Option<&Json>,
    cpus_fast: Option<&Json>,
    apic_ids: &HashMap<Option<i64>, Option<i64>>,
) -> Result<Option<Vec<Slot>>, String> {
    let fast = cpus_fast.and_then(Json::as_arr).unwrap_or(&[]);
    let index_of = |c: &Json| c.get("cpu-index").and_then(Json::as_i64);
    let apic_of = |c: &Json| apic_ids.get(&index_of(c)).copied().flatten();
    let Some(hotpluggable) = hotpluggable else {
        if fast.is_empty() {
            return Ok(None);
        }
        let mut slots: Vec<Slot> = fast
            .iter()
            .map(|c| Slot {
                index: index_of(c).unwrap_or(-1),
                present: true,
                apic_id: apic_of(c),
                props: Slot::props_of(c.get("props")),
            })
            .collect();
        slots.sort_by_key(|s| s.index);
        return Ok(Some(slots));
    };
    let mut slots = Vec::new();
    for (pos, entry) in hotpluggable
        .as_arr()
        .unwrap_or(&[])
        .iter()
        .rev()
        .enumerate()
    {
        let props = Slot::props_of(entry.get("props"));
        let present = entry.has("qom-path");
        let (mut index, mut apic_id) = (pos as i64, None);
        if present {
            let matches: Vec<&Json> = fast
                .iter()
                .filter(|c| Slot::props_of(c.get("props")) == props)
                .collect();
            let [m] = matches[..] else {
                return Err(format!(
                    "cannot match present slot {props:?} with query-cpus-fast ({})",
                    matches.len()
                ));
            };
            index = index_of(m).unwrap_or(-1);
            apic_id = apic_of(m);
        }
        slots.push(Slot {
            index,
            present,
            apic_id,
            props,
        });
    }
    slots.sort_by_key(|s| s.index);
    if slots.iter().enumerate().any(|(i, s)| s.index != i as i64) {
        return Err("slot indexes are not 0..n-1".into());
    }
    Ok(Some(slots))
}

/// The machine types `machines.json` lists.
fn listed_machine(name: &str) -> bool {
    name.starts_with("pc-i440fx-")
        || name.starts_with("pc-q35-")
        || ["pc", "q35", "isapc", "microvm", "none"].contains(&name)
}

/// The members of a `machines.json` entry, with the value used when
/// query-machines leaves an optional one out.
const MACHINE_KEYS: [(&str, Option<Json>); 9] = [
    ("name", None),
    ("alias", Some(Json::Null)),
    ("is-default", Some(Json::Bool(false))),
    ("cpu-max", None),
    ("numa-mem-supported", None),
    ("default-ram-id", Some(Json::Null)),
    ("deprecated", None),
    ("hotpluggable-cpus", None),
    ("default-cpu-type", Some(Json::Null)),
];

/// `machines.json` of the topology corpus (with its final newline): the
/// x86 machine types of one `query-machines` (`-M none`), sorted by name.
pub fn capture_machines(qemu: &str) -> Result<String, Error> {
    let args = ["-M".to_string(), "none".to_string()];
    let launch = Launch {
        qemu,
        ..Launch::new(&args)
    };
    let mut q = Qmp::start(&launch)?;
    let mut machines = None;
    if q.greeting() {
        let _ = q.execute("qmp_capabilities", None);
        machines = q.execute("query-machines", None).ok();
        q.quit();
    }
    q.finish();
    let Some(Json::Arr(machines)) = machines else {
        return Err(Error::new("query-machines failed"));
    };
    let mut out: Vec<Json> = machines
        .iter()
        .filter(|m| {
            m.get("name")
                .and_then(Json::as_str)
                .is_some_and(listed_machine)
        })
        .map(|m| {
            Json::obj(
                MACHINE_KEYS
                    .iter()
                    .map(|(k, default)| {
                        let v = m.get(k).cloned().or_else(|| default.clone());
                        (*k, v.unwrap_or(Json::Null))
                    })
                    .collect(),
            )
        })
        .collect();
    out.sort_by_cached_key(|m| {
        m.get("name")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string()
    });
    Ok(Json::Arr(out).dumps_indented(1) + "\n")
}

/// Cases of the tables corpus whose id starts with this run under KVM:
/// TCG refuses APIC ids of 255 and more, which x2APIC entries need.
pub const KVM_PREFIX: &str = "kvm-";

/// The SRAT, SLIT and HMAT QEMU builds for a tables case `id` with the
/// arguments of `launch` (whose accelerator is replaced by KVM for
/// [`KVM_PREFIX`] cases): read from fw_cfg's `etc/acpi/tables` over
/// qtest without booting anything.
pub fn capture_tables(launch: &Launch<'_>, id: &str) -> Result<AcpiTables, Error> {
    let launch = Launch {
        accel: if id.starts_with(KVM_PREFIX) {
            "kvm"
        } else {
            launch.accel
        },
        ..launch.clone()
    };
    let mut q = Qtest::start(&launch)?;
    let blob = q.acpi_tables();
    let exit = q.close();
    let blob = blob.map_err(|e| {
        let err = normalise_stderr(&exit.stderr, &launch.program_name()).join(" | ");
        Error::new(format!("{id}: {e} (QEMU exited {}: {err})", exit.status))
    })?;
    numa_tables(&blob, id, *b"FACS")
}

/// SRAT, SLIT and HMAT out of an `etc/acpi/tables` blob whose first
/// table must be `first` (a check that the blob was read right).
fn numa_tables(blob: &[u8], id: &str, first: [u8; 4]) -> Result<AcpiTables, Error> {
    let tables = walk_tables(blob);
    if tables.first().map(|(s, _)| *s) != Some(first) {
        let sigs: Vec<String> = tables
            .iter()
            .map(|(s, _)| String::from_utf8_lossy(s).into_owned())
            .collect();
        return Err(Error::new(format!(
            "{id}: unexpected table layout {sigs:?}"
        )));
    }
    let mut out = AcpiTables::default();
    for (sig, slot) in [
        (b"SRAT", &mut out.srat),
        (b"SLIT", &mut out.slit),
        (b"HMAT", &mut out.hmat),
    ] {
        let found: Vec<&[u8]> = tables
            .iter()
            .filter(|(s, _)| s == sig)
            .map(|(_, t)| *t)
            .collect();
        if found.len() > 1 {
            return Err(Error::new(format!(
                "{id}: {} appears {} times",
                String::from_utf8_lossy(sig),
                found.len()
            )));
        }
        *slot = found.first().map(|t| t.to_vec());
    }
    Ok(out)
}

/// QEMU's answer for a case of the virt corpus (`qemu-system-aarch64`,
/// the case gives `-M virt…` and `-cpu`): the QMP session of
/// [`capture_qmp`]; when QEMU accepts the line, two more runs of it: one
/// with `-machine dumpdtb=FILE` for the device tree (decoded to its NUMA
/// nodes), one over qtest for the ACPI tables, read from the
/// memory-mapped fw_cfg ([`VIRT_FW_CFG`]) at `-S` without booting.
pub fn capture_virt(launch: &Launch<'_>, id: &str) -> Result<VirtAnswer, Error> {
    let qmp = capture_qmp(launch, Corpus::Virt)?;
    if !qmp.accepted {
        return Ok(VirtAnswer {
            qmp,
            fdt: None,
            tables: AcpiTables::default(),
        });
    }
    let fdt = Some(capture_dtb(launch, id)?);
    let mut q = Qtest::start(launch)?.with_fw_cfg(VIRT_FW_CFG);
    let blob = q.acpi_tables_if_any();
    let exit = q.close();
    let blob = blob.map_err(|e| {
        let err = normalise_stderr(&exit.stderr, &launch.program_name()).join(" | ");
        Error::new(format!("{id}: {e} (QEMU exited {}: {err})", exit.status))
    })?;
    // virt is hardware-reduced: no FACS, the DSDT comes first. No
    // tables at all with `acpi=off`.
    let tables = match blob {
        Some(blob) => numa_tables(&blob, id, *b"DSDT")?,
        None => AcpiTables::default(),
    };
    Ok(VirtAnswer { qmp, fdt, tables })
}

/// The NUMA nodes of the device tree QEMU builds for `launch`'s line
/// (`-machine dumpdtb=FILE` after the case's arguments: QEMU writes the
/// tree when the machine is done and exits 0).
pub fn capture_dtb(launch: &Launch<'_>, id: &str) -> Result<FdtNuma, Error> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let file = std::env::temp_dir().join(format!("vnuma-dtb-{}-{n}.dtb", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let opt = format!("dumpdtb={}", file.display());
    let mut args = launch.args.to_vec();
    args.extend(["-machine".to_string(), opt]);
    let (mut child, errors) = Launch {
        args: &args,
        ..launch.clone()
    }
    .spawn(&[], false)?;
    let exit = finish(
        &mut child,
        None,
        std::time::Instant::now() + launch.timeout,
        false,
        Some(errors),
    );
    let blob = std::fs::read(&file);
    let _ = std::fs::remove_file(&file);
    let blob = blob.map_err(|e| {
        let err = normalise_stderr(&exit.stderr, &launch.program_name()).join(" | ");
        Error::new(format!(
            "{id}: no device tree ({e}; QEMU exited {}: {err})",
            exit.status
        ))
    })?;
    FdtNuma::from_blob(&blob).map_err(|e| Error::new(format!("{id}: {e}")))
}

/// `etc/acpi/tables` split into `(signature, table)` in blob order, up to
/// the first zero signature or bad length.
pub fn walk_tables(blob: &[u8]) -> Vec<([u8; 4], &[u8])> {
    let mut tables = Vec::new();
    let mut off = 0;
    while let Some(head) = blob.get(off..off + 8) {
        let sig = [head[0], head[1], head[2], head[3]];
        let length = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        if sig == [0; 4] || length < 8 {
            break;
        }
        let Some(table) = blob.get(off..off + length) else {
            break;
        };
        tables.push((sig, table));
        off += length;
    }
    tables
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_is_normalised() {
        let text = "qemu-system-x86_64: bad\r\nhint\nqemu-system-x86_64x: no\n\
                    2026-12-04T17:10:26.536947Z qemu-system-x86_64: stamped\n";
        assert_eq!(
            normalise_stderr(text, "qemu-system-x86_64"),
            [
                "qemu: bad",
                "hint",
                "qemu-system-x86_64x: no",
                "qemu: stamped"
            ]
        );
    }

    #[test]
    fn runs_in_parallel_in_order() {
        let items: Vec<u32> = (0..50).collect();
        let out = run_parallel(&items, 3, |i| i * 2, |_, _| {});
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
    }

    #[test]
    fn tables_are_walked() {
        let mut blob = b"FACS\x0c\0\0\0abcd".to_vec();
        blob.extend(b"SRAT\x09\0\0\0x");
        blob.extend([0; 8]);
        let t = walk_tables(&blob);
        assert_eq!(t.len(), 2);
        assert_eq!(t[1], (*b"SRAT", &b"SRAT\x09\0\0\0x"[..]));
        assert!(walk_tables(b"SRAT\xff\0\0\0").is_empty());
    }

    #[test]
    fn slots_are_matched() {
        let hot = Json::parse(
            r#"[{"props": {"socket-id": 1, "core-id": 0, "thread-id": 0}},
                {"props": {"socket-id": 0, "core-id": 0, "thread-id": 0}, "qom-path": "/c0"}]"#,
        )
        .unwrap();
        let fast = Json::parse(
            r#"[{"cpu-index": 0, "qom-path": "/c0", "props": {"socket-id": 0, "core-id": 0, "thread-id": 0}}]"#,
        )
        .unwrap();
        let apic = HashMap::from([(Some(0), Some(0))]);
        let slots = build_slots(Some(&hot), Some(&fast), &apic)
            .unwrap()
            .unwrap();
        assert_eq!(slots[0].tuple(), (0, true, Some(0), None, 0, None, 0, 0));
        assert_eq!(slots[1].tuple(), (1, false, None, None, 1, None, 0, 0));
    }
}
