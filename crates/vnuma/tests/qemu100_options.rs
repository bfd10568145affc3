//! The option-syntax corpus (`crates/vnuma-options/tests/qemu100/`, the
//! 7.2 corpus's 300 command lines captured with QEMU 10.0.2) through the
//! whole pipeline with the QEMU 10.0 profile: accept or reject, the first
//! error, the warnings, `info numa`. The command lines are read with
//! 10.0's syntax (`Syntax::Qemu100`: hexadecimal sizes with a suffix
//! refused, `-numa node,mem=` checked for overflow, `memory-backend-file`
//! `offset`/`rom`, `-smp books`); a case where vnuma knowingly answers
//! otherwise would be listed in [`DEVIATIONS_10_0`] (none is).

use vnuma::topology::Profile;
use vnuma_qemu_harness::corpus::{parse_golden, QmpAnswer};
use vnuma_qemu_harness::deviation::{deviation, json_detail_matches, qemu_error, warnings};
use vnuma_qemu_harness::{Case, Corpus};

/// Where the 10.0 profile knowingly answers otherwise than QEMU 10.0.
const DEVIATIONS_10_0: &[(&str, &str)] = &[];

fn cases() -> Vec<Case<QmpAnswer>> {
    parse_golden(include_str!(
        "../../vnuma-options/tests/qemu100/golden.jsonl"
    ))
    .expect("golden.jsonl is well-formed")
}

fn compare(c: &Case<QmpAnswer>) -> Result<(), String> {
    let a = &c.answer;
    let q = qemu_error(&a.stderr);
    match (vnuma::Vm::for_qemu(Profile::Qemu100, &c.args), q) {
        (Err(e), Some(q)) => {
            let ours = e.display_qemu().to_string();
            if ours == q || json_detail_matches(&q, &ours) == Some(true) {
                Ok(())
            } else {
                Err(format!("error: QEMU `{q}`, vnuma `{ours}`"))
            }
        }
        (Err(e), None) => Err(format!(
            "QEMU accepts, vnuma rejects with `{}`",
            e.display_qemu()
        )),
        (Ok(_), Some(q)) => Err(format!("QEMU rejects with `{q}`, vnuma accepts")),
        (Ok(vm), None) => {
            let want = warnings(&a.stderr);
            let got: Vec<String> = vm
                .topology()
                .warnings()
                .iter()
                .map(|w| w.display_qemu().to_string())
                .collect();
            if want != got {
                Err(format!("warnings: QEMU {want:?}, vnuma {got:?}"))
            } else if a.info_numa.as_deref() != Some(vm.info_numa().as_str()) {
                Err(format!(
                    "info numa: QEMU {:?}, vnuma {:?}",
                    a.info_numa,
                    vm.info_numa()
                ))
            } else {
                Ok(())
            }
        }
    }
}

#[test]
fn agrees_with_qemu_10_0() {
    let cases = cases();
    assert_eq!(cases.len(), 300);
    let (mut agreed, mut deviations, mut known) = (0, 0, 0);
    let mut failures = Vec::new();
    for c in &cases {
        if deviation(Corpus::Options, &c.args, &c.answer.stderr, c.answer.exit).is_some() {
            deviations += 1;
            continue;
        }
        let listed = DEVIATIONS_10_0.iter().any(|(id, _)| *id == c.id);
        match (compare(c), listed) {
            (Ok(()), false) => agreed += 1,
            (Ok(()), true) => failures.push(format!("{}: listed as a deviation but agrees", c.id)),
            (Err(_), true) => known += 1,
            (Err(e), false) => failures.push(format!("{}: {e}\n    {}", c.id, c.args.join(" "))),
        }
    }
    eprintln!(
        "{agreed} agree, {deviations} deviations, {known} 10.0 deviations, {} disagree",
        failures.len()
    );
    assert!(agreed >= 294, "only {agreed} agree");
    assert!(
        failures.is_empty(),
        "{} cases disagree with QEMU 10.0:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
