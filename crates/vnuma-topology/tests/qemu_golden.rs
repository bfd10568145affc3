//! vnuma-topology held against QEMU's answers for the topology corpus,
//! each profile against its release: QEMU 7.2 (`tests/qemu72/golden.jsonl`)
//! and QEMU 10.0.2 (`tests/qemu100/golden.jsonl`, the same command lines),
//! both captured by `cargo xtask qemu-diff --update [--qemu PATH]`: accept
//! or reject, the first error exactly as QEMU prints it, the warnings, the
//! `info numa` text, and every CPU slot's node, APIC id and topology ids.
//!
//! Deliberate deviations are listed, with the reason, by
//! `vnuma_qemu_harness::deviation` (which `cargo xtask qemu-diff` uses
//! too); the cases it names are counted apart.

use vnuma_options::CommandLine;
use vnuma_qemu_harness::corpus::{parse_golden, QmpAnswer, Slot};
use vnuma_qemu_harness::deviation::{deviation, qemu_error, warnings};
use vnuma_qemu_harness::{Case, Corpus};
use vnuma_topology::{resolve_with, Config, Profile, Topology};

/// `info numa` and the slots as the facade reports them (the same code
/// `xtask qemu-diff` compares).
fn info_numa(t: &Topology) -> String {
    vnuma::Vm::from_topology(t.clone()).info_numa()
}

fn check_slots(t: &Topology, want: &[Slot]) -> Result<(), String> {
    let report = vnuma::Vm::from_topology(t.clone()).report().to_json();
    Slot::compare(&Slot::of_report(&report)?, want)
}

/// Hold `profile` to a QEMU release's answers (`golden`), apart from the
/// harness's deviations and `listed` (`(id, reason)`: cases where this
/// profile knowingly answers otherwise, which must still disagree).
fn agrees_with(golden: &str, profile: Profile, listed: &[(&str, &str)], min_agree: usize) {
    let cases: Vec<Case<QmpAnswer>> = parse_golden(golden).expect("golden.jsonl is well-formed");
    assert!(cases.len() >= 490, "only {} cases", cases.len());
    let config = Config::qemu(profile);
    let mut failures = Vec::new();
    let (mut agreed, mut deviations, mut known) = (0, 0, 0);
    for c in &cases {
        let result = CommandLine::parse(&c.args)
            .map_err(|e| e.display_qemu().to_string())
            .and_then(|cl| resolve_with(&cl, &config).map_err(|e| e.display_qemu().to_string()));
        let a = &c.answer;
        if deviation(Corpus::Topology, &c.args, &a.stderr, a.exit).is_some() {
            deviations += 1;
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
        let listed = listed.iter().any(|(id, _)| *id == c.id);
        match (outcome, listed) {
            (Ok(()), false) => agreed += 1,
            (Ok(()), true) => failures.push(format!("{}: listed as a deviation but agrees", c.id)),
            (Err(_), true) => known += 1,
            (Err(e), false) => failures.push(format!("{}: {e}\n    {}", c.id, c.args.join(" "))),
        }
    }
    eprintln!(
        "{profile:?}: {agreed} agree, {deviations} deviations, {known} listed, {} disagree",
        failures.len()
    );
    assert!(agreed >= min_agree, "only {agreed} cases compared");
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree with QEMU ({profile:?}):\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn agrees_with_qemu_7_2() {
    agrees_with(
        include_str!("qemu72/golden.jsonl"),
        Profile::Qemu72,
        &[],
        440,
    );
}

#[test]
fn agrees_with_qemu_10_0() {
    agrees_with(
        include_str!("qemu100/golden.jsonl"),
        Profile::Qemu100,
        &[],
        440,
    );
}

/// The machine-type table of the 10.0 profile is QEMU 10.0's
/// `query-machines` (`tests/qemu100/machines.json`): the same pc/q35 types,
/// aliases, default, `cpu-max`, `numa-mem-supported`, deprecation; and
/// likewise 7.2's.
#[test]
fn machine_table_is_query_machines() {
    use vnuma_topology::machine::{machine_aliases, QEMU_10_0, QEMU_7_2};
    use vnuma_topology::MachineModel;
    for (qemu, json) in [
        (QEMU_10_0, include_str!("qemu100/machines.json")),
        (QEMU_7_2, include_str!("qemu72/machines.json")),
    ] {
        let all: Vec<serde_json::Value> = serde_json::from_str(json).unwrap();
        let x86: Vec<&serde_json::Value> = all
            .iter()
            .filter(|m| {
                let n = m["name"].as_str().unwrap();
                n.starts_with("pc-i440fx-") || n.starts_with("pc-q35-")
            })
            .collect();
        let mut names: Vec<String> = x86
            .iter()
            .map(|m| m["name"].as_str().unwrap().to_string())
            .collect();
        let mut ours: Vec<String> = MachineModel::supported_names_in(qemu)
            .into_iter()
            .filter(|n| n.starts_with("pc-"))
            .collect();
        names.sort();
        ours.sort();
        assert_eq!(names, ours, "QEMU {qemu}");
        for m in x86 {
            let name = m["name"].as_str().unwrap();
            let model = MachineModel::lookup_in(qemu, Some(name)).unwrap();
            assert_eq!(u64::from(model.max_cpus), m["cpu-max"], "{name}");
            assert_eq!(model.numa_mem_supported, m["numa-mem-supported"], "{name}");
            assert_eq!(model.deprecated(), m["deprecated"], "{name}");
            if let Some(alias) = m["alias"].as_str() {
                assert!(machine_aliases(qemu).contains(&(alias, name)), "{name}");
            }
            if m["is-default"] == true {
                assert_eq!(MachineModel::lookup_in(qemu, None).unwrap().name, name);
            }
        }
    }
}
