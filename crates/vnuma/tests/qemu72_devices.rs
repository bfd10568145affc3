//! The facade held against QEMU 7.2's answers for the devices corpus
//! (`tests/qemu72_devices/golden.jsonl`, captured by
//! `cargo xtask qemu-diff --update --corpus devices`): memory devices
//! (`pc-dimm`, `nvdimm`, `virtio-mem-pci`, `virtio-pmem-pci`), ACPI
//! switches and command lines as management layers write them. Every
//! case: accept or reject, the first error exactly as QEMU prints it
//! (with the option, `-device pc-dimm,...: message`), the warnings,
//! `info numa`, and `query-memory-devices` compared as JSON values.
//!
//! Deliberate deviations are listed, with the reason, by
//! `vnuma_qemu_harness::deviation` for `Corpus::Devices` (which
//! `cargo xtask qemu-diff --corpus devices` uses too); the cases it names
//! are counted apart.

use serde_json::Value;
use vnuma_qemu_harness::corpus::{parse_golden, QmpAnswer};
use vnuma_qemu_harness::deviation::{
    deviation, first_error, json_detail_matches, warnings, JSON_DETAIL,
};
use vnuma_qemu_harness::{Case, Corpus};

fn cases() -> Vec<Case<QmpAnswer>> {
    parse_golden(include_str!("qemu72_devices/golden.jsonl")).expect("golden.jsonl is well-formed")
}

/// How vnuma's answer differs from QEMU's, or `Ok`.
fn compare(c: &Case<QmpAnswer>) -> Result<(), String> {
    let a = &c.answer;
    let qemu_error = first_error(&a.stderr);
    match (a.accepted, vnuma::Vm::from_args(&c.args)) {
        (false, Err(e)) => {
            let ours = e.display_qemu().to_string();
            let q = qemu_error.unwrap_or_else(|| "<no message>".into());
            if q == ours || json_detail_matches(&q, &ours) == Some(true) {
                Ok(())
            } else {
                Err(format!("first error: QEMU `{q}`, vnuma `{ours}`"))
            }
        }
        (false, Ok(_)) => Err(format!(
            "QEMU rejects with `{}`, vnuma accepts",
            qemu_error.unwrap_or_default()
        )),
        (true, Err(e)) => Err(format!(
            "QEMU accepts, vnuma rejects with `{}`",
            e.display_qemu()
        )),
        (true, Ok(vm)) => {
            let want = warnings(&a.stderr);
            let got: Vec<String> = vm
                .topology()
                .warnings()
                .iter()
                .map(|w| w.display_qemu().to_string())
                .collect();
            if want != got {
                return Err(format!("warnings: QEMU {want:?}, vnuma {got:?}"));
            }
            let info_numa = vm.info_numa();
            if a.info_numa.as_deref() != Some(info_numa.as_str()) {
                return Err(format!(
                    "info numa: QEMU {:?}, vnuma {info_numa:?}",
                    a.info_numa
                ));
            }
            let ours = serde_json::to_value(vm.query_memory_devices()).unwrap();
            let theirs = a.memory_devices_value();
            if ours != theirs {
                return Err(format!("query-memory-devices: QEMU {theirs}, vnuma {ours}"));
            }
            Ok(())
        }
    }
}

#[test]
fn agrees_with_qemu_7_2() {
    let cases = cases();
    let memory = cases.iter().filter(|c| !c.id.starts_with("mgmt-")).count();
    let management = cases.len() - memory;
    assert!(memory >= 150, "{memory} memory-device cases");
    assert!(management >= 50, "{management} management-layer cases");
    let mut failures = Vec::new();
    let (mut agreed, mut deviations) = (0, 0);
    for c in &cases {
        let a = &c.answer;
        if deviation(Corpus::Devices, &c.args, &a.stderr, a.exit).is_some() {
            deviations += 1;
            continue;
        }
        match compare(c) {
            Ok(()) => agreed += 1,
            Err(e) => failures.push(format!("{}: {e}\n    {}", c.id, c.args.join(" "))),
        }
    }
    // JSON syntax details are the parser's own: counted as agreeing above
    // when the text up to `JSON parse error` matches.
    let _ = JSON_DETAIL;
    eprintln!(
        "{agreed} agree, {deviations} deviations, {} disagree",
        failures.len()
    );
    assert!(agreed >= 250, "only {agreed} cases agree");
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree with QEMU 7.2 ({agreed} agree, {deviations} documented deviations):\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The corpus records what it says it does: every accepted case with
/// a device has QEMU's `query-memory-devices`, and the devices vnuma
/// plugs are in its JSON report too.
#[test]
fn accepted_devices_are_recorded_and_reported() {
    let mut with_devices = 0;
    for c in cases().iter().filter(|c| c.answer.accepted) {
        let Value::Array(list) = c.answer.memory_devices_value() else {
            panic!("{}: no query-memory-devices", c.id);
        };
        if list.is_empty() {
            continue;
        }
        with_devices += 1;
        if let Ok(vm) = vnuma::Vm::from_args(&c.args) {
            let report: Value = serde_json::from_str(&vm.report().to_json()).unwrap();
            assert_eq!(
                report["memory_devices"],
                serde_json::to_value(vm.query_memory_devices()).unwrap(),
                "{}",
                c.id
            );
        }
    }
    assert!(
        with_devices >= 100,
        "only {with_devices} accepted cases plug devices"
    );
}
