//! The facade's reports with the QEMU 10.0 profile against QEMU 10.0.2's
//! QMP answers for the whole topology corpus
//! (`vnuma-topology/tests/qemu100/golden.jsonl`): `info numa`,
//! `query-memdev` (10.0 has the same fields and defaults as 7.2 for every
//! accepted case), each CPU's node; and `qemu_version` in the JSON report.

use serde_json::Value;
use vnuma::topology::Profile;
use vnuma_qemu_harness::corpus::{parse_golden, QmpAnswer};

#[test]
fn reports_agree_with_qemu_10_0() {
    let golden = include_str!("../../vnuma-topology/tests/qemu100/golden.jsonl");
    let cases = parse_golden::<QmpAnswer>(golden).expect("golden.jsonl is well-formed");
    let (mut compared, mut skipped) = (0, 0);
    let mut failures = Vec::new();
    for case in &cases {
        let qemu = &case.answer;
        let Some(info_numa) = qemu.info_numa.as_deref().filter(|_| qemu.exit == 0) else {
            continue;
        };
        let Ok(vm) = vnuma::Vm::for_qemu(Profile::Qemu100, &case.args) else {
            skipped += 1;
            continue;
        };
        compared += 1;
        let report: Value = serde_json::from_str(&vm.report().to_json()).unwrap();
        let id = &case.id;
        if report["qemu_version"] != "10.0" {
            failures.push(format!("{id}: qemu_version {}", report["qemu_version"]));
        }
        if report["info_numa"] != info_numa {
            failures.push(format!(
                "{id}: info numa {} vs {info_numa:?}",
                report["info_numa"]
            ));
        }
        let mut ours: Vec<Value> = report["memdevs"].as_array().unwrap().clone();
        ours.sort_by_key(|m| m["id"].as_str().unwrap().to_string());
        let theirs = qemu.memdevs_value();
        if theirs.as_array() != Some(&ours) {
            failures.push(format!("{id}: memdevs {ours:?} vs {theirs}"));
        }
        if let Some(slots) = &qemu.slots {
            for (cpu, slot) in report["cpus"].as_array().unwrap().iter().zip(slots) {
                if cpu["node-id"].as_i64() != slot.prop("node-id")
                    || cpu["cpu-index"].as_i64() != Some(slot.index)
                {
                    failures.push(format!("{id}: cpu {cpu} vs {slot:?}"));
                    break;
                }
            }
        }
    }
    eprintln!("{compared} accepted cases compared, {skipped} skipped as deviations");
    assert!(compared >= 200, "only {compared} compared");
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
