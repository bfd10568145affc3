//! The facade held against QEMU 7.2's and QEMU 10.0's answers for the
//! devices corpus (`tests/qemu72_devices/golden.jsonl` and
//! `tests/qemu100_devices/golden.jsonl`, captured by `cargo xtask qemu-diff
//! --update --corpus devices [--qemu PREFIX/bin/qemu-system-x86_64]`), each
//! with its profile: memory devices
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
use vnuma::topology::Profile;
use vnuma_qemu_harness::corpus::{parse_golden, QmpAnswer};
use vnuma_qemu_harness::deviation::{
    deviation, first_error, json_detail_matches, warnings, JSON_DETAIL,
};
use vnuma_qemu_harness::{Case, Corpus};

fn cases() -> Vec<Case<QmpAnswer>> {
    parse_golden(include_str!("qemu72_devices/golden.jsonl")).expect("golden.jsonl is well-formed")
}

fn cases_10_0() -> Vec<Case<QmpAnswer>> {
    parse_golden(include_str!("qemu100_devices/golden.jsonl")).expect("golden.jsonl is well-formed")
}

/// Where the 10.0 profile does not answer as QEMU 10.0 yet (each case
/// must still disagree, so that the list stays true).
const NOT_DONE_10_0: &[(&str, &str)] = &[];

/// How vnuma's answer differs from QEMU's, or `Ok`.
fn compare(profile: Profile, c: &Case<QmpAnswer>) -> Result<(), String> {
    let a = &c.answer;
    let qemu_error = first_error(&a.stderr);
    match (a.accepted, vnuma::Vm::for_qemu(profile, &c.args)) {
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

/// Every case of `cases` against `profile`: agreements, documented
/// deviations, the cases listed in `not_done` (which must disagree).
fn agrees(profile: Profile, cases: &[Case<QmpAnswer>], not_done: &[(&str, &str)]) -> usize {
    let memory = cases.iter().filter(|c| !c.id.starts_with("mgmt-")).count();
    let management = cases.len() - memory;
    assert!(memory >= 150, "{memory} memory-device cases");
    assert!(management >= 50, "{management} management-layer cases");
    let mut failures = Vec::new();
    let (mut agreed, mut deviations, mut known) = (0, 0, 0);
    for c in cases {
        let a = &c.answer;
        if deviation(Corpus::Devices, &c.args, &a.stderr, a.exit).is_some() {
            deviations += 1;
            continue;
        }
        let listed = not_done.iter().any(|(id, _)| *id == c.id);
        match (compare(profile, c), listed) {
            (Ok(()), false) => agreed += 1,
            (Err(_), true) => known += 1,
            (Ok(()), true) => failures.push(format!("{}: listed as not done but agrees", c.id)),
            (Err(e), false) => failures.push(format!("{}: {e}\n    {}", c.id, c.args.join(" "))),
        }
    }
    // JSON syntax details are the parser's own: counted as agreeing above
    // when the text up to `JSON parse error` matches.
    let _ = JSON_DETAIL;
    eprintln!(
        "QEMU {profile}: {agreed} agree, {deviations} deviations, {known} not done, {} disagree",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree with QEMU {profile} ({agreed} agree, {deviations} documented deviations):\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    agreed
}

#[test]
fn agrees_with_qemu_7_2() {
    let agreed = agrees(Profile::Qemu72, &cases(), &[]);
    assert!(agreed >= 250, "only {agreed} cases agree");
}

#[test]
fn agrees_with_qemu_10_0() {
    let cases = cases_10_0();
    // The same command lines as the 7.2 corpus.
    assert_eq!(cases.len(), self::cases().len());
    let agreed = agrees(Profile::Qemu100, &cases, NOT_DONE_10_0);
    assert!(agreed >= 250, "only {agreed} cases agree");
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
