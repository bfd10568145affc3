//! vnuma-topology held against QEMU 7.2's answers for 494 command lines
//! (`tests/qemu72/golden.jsonl`, captured by `cargo xtask qemu-diff --update`): accept or
//! reject, the first error exactly as QEMU prints it, the warnings, the
//! `info numa` text, and every CPU slot's node, APIC id and topology ids.
//!
//! Deliberate deviations are listed, with the reason, by
//! `vnuma_qemu_harness::deviation` (which `cargo xtask qemu-diff` uses
//! too); the cases it names are counted apart.

use vnuma_options::CommandLine;
use vnuma_qemu_harness::corpus::{parse_golden, QmpAnswer, Slot};
use vnuma_qemu_harness::deviation::{deviation, qemu_error, warnings};
use vnuma_qemu_harness::{Case, Corpus};
use vnuma_topology::{resolve, Topology};

/// `info numa` and the slots as the facade reports them (the same code
/// `xtask qemu-diff` compares).
fn info_numa(t: &Topology) -> String {
    vnuma::Vm::from_topology(t.clone()).info_numa()
}

fn check_slots(t: &Topology, want: &[Slot]) -> Result<(), String> {
    let report = vnuma::Vm::from_topology(t.clone()).report().to_json();
    Slot::compare(&Slot::of_report(&report)?, want)
}

fn cases() -> Vec<Case<QmpAnswer>> {
    parse_golden(include_str!("qemu72/golden.jsonl")).expect("golden.jsonl is well-formed")
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
        let a = &c.answer;
        if let Some(why) = deviation(Corpus::Topology, &c.args, &a.stderr, a.exit) {
            deviations += 1;
            let _ = why;
            continue;
        }
        let qemu_error = qemu_error(&a.stderr);
        let outcome = match (&qemu_error, &result) {
            (Some(q), Err(ours)) if q == ours => Ok(()),
            (Some(q), Err(ours)) => Err(format!("error: QEMU `{q}`, vnuma `{ours}`")),
            (Some(q), Ok(_)) => Err(format!("QEMU rejects with `{q}`, vnuma accepts")),
            (None, Err(ours)) => Err(format!("QEMU accepts, vnuma rejects with `{ours}`")),
            (None, Ok(t)) => {
                let want_warnings = warnings(&a.stderr);
                let got_warnings: Vec<String> = t
                    .warnings()
                    .iter()
                    .map(|w| w.display_qemu().to_string())
                    .collect();
                if want_warnings != got_warnings {
                    Err(format!(
                        "warnings: QEMU {want_warnings:?}, vnuma {got_warnings:?}"
                    ))
                } else if a.info_numa.as_deref() != Some(info_numa(t).as_str()) {
                    Err(format!(
                        "info numa: QEMU {:?}, vnuma {:?}",
                        a.info_numa,
                        info_numa(t)
                    ))
                } else if let Some(slots) = &a.slots {
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
