//! The facade's reports against QEMU's QMP answers for the topology
//! corpus of each release (`info numa`, `query-memdev`,
//! `query-hotpluggable-cpus`), each with its profile: for every accepted
//! case, the JSON report must carry the same text, the same memory backends
//! with the same properties, the same node per slot, and the release in
//! `qemu_version`. Rejected cases are vnuma-topology's golden test's.

use serde_json::Value;
use vnuma::topology::Profile;
use vnuma_qemu_harness::corpus::{parse_golden, QmpAnswer};

#[test]
fn reports_agree_with_qemu_7_2() {
    reports_agree(
        include_str!("../../vnuma-topology/tests/qemu72/golden.jsonl"),
        Profile::Qemu72,
        "7.2",
    );
}

#[test]
fn reports_agree_with_qemu_10_0() {
    reports_agree(
        include_str!("../../vnuma-topology/tests/qemu100/golden.jsonl"),
        Profile::Qemu100,
        "10.0",
    );
}

/// Every accepted case of a release's topology corpus through the facade
/// with that release's profile.
fn reports_agree(golden: &str, profile: Profile, version: &str) {
    let cases = parse_golden::<QmpAnswer>(golden).expect("golden.jsonl is well-formed");
    let (mut compared, mut skipped) = (0, 0);
    let mut failures = Vec::new();
    for case in &cases {
        let qemu = &case.answer;
        let Some(info_numa) = qemu.info_numa.as_deref().filter(|_| qemu.exit == 0) else {
            continue;
        };
        let Ok(vm) = vnuma::Vm::for_qemu(profile, &case.args) else {
            skipped += 1;
            continue;
        };
        compared += 1;
        let report: Value = serde_json::from_str(&vm.report().to_json()).unwrap();
        let id = &case.id;
        if report["qemu_version"] != version {
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
    eprintln!("{profile:?}: {compared} accepted cases compared, {skipped} skipped as deviations");
    assert!(compared >= 200, "only {compared} compared");
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
