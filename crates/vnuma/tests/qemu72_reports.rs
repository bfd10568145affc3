//! The facade's reports against QEMU 7.2's QMP answers for the topology
//! corpus (`info numa`, `query-memdev`, `query-hotpluggable-cpus`): for
//! every accepted case, the JSON report must carry the same text, the same
//! memory backends with the same properties, and the same node per slot.

use serde_json::Value;

#[test]
fn reports_agree_with_qemu_7_2() {
    let golden = include_str!("../../vnuma-topology/tests/qemu72/golden.jsonl");
    let (mut compared, mut skipped) = (0, 0);
    let mut failures = Vec::new();
    for line in golden.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).unwrap();
        if case["exit"] != 0 || case["info_numa"].is_null() {
            continue;
        }
        let args: Vec<String> = case["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().into())
            .collect();
        let Ok(vm) = vnuma::Vm::from_args(&args) else {
            // Deliberate deviations (machine types not modelled, ...) are
            // covered by vnuma-topology's golden test.
            skipped += 1;
            continue;
        };
        compared += 1;
        let report: Value = serde_json::from_str(&vm.report().to_json()).unwrap();
        let id = case["id"].as_str().unwrap();
        if report["info_numa"] != case["info_numa"] {
            failures.push(format!(
                "{id}: info numa {} vs {}",
                report["info_numa"], case["info_numa"]
            ));
        }
        let mut ours: Vec<Value> = report["memdevs"].as_array().unwrap().clone();
        ours.sort_by_key(|m| m["id"].as_str().unwrap().to_string());
        let theirs = case["memdevs"].as_array().unwrap();
        if &ours != theirs {
            failures.push(format!("{id}: memdevs {ours:?} vs {theirs:?}"));
        }
        if let Some(slots) = case["slots"].as_array() {
            for (cpu, slot) in report["cpus"].as_array().unwrap().iter().zip(slots) {
                if cpu["node-id"] != slot["props"]["node-id"] || cpu["cpu-index"] != slot["index"] {
                    failures.push(format!("{id}: cpu {cpu} vs {slot}"));
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
