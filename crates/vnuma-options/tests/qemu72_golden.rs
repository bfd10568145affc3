//! vnuma-options held against QEMU 7.2's answers for the same command
//! lines (`tests/qemu72/golden.jsonl`, captured with `cargo xtask qemu-diff
//! --update --corpus options`).
//!
//! QEMU reports option-level errors (syntax, types, unknown keys) and
//! semantic errors (topology, memory totals) with the same exit status.
//! This crate owns the first kind, so for every case:
//! * if QEMU's first error is an option-level message, vnuma must report
//!   exactly that message at exactly that location, either while reading
//!   argv ([`CommandLine::parse`]) or when typing the machine and `-numa`
//!   options ([`CommandLine::check`]);
//! * otherwise (accepted, or a semantic error) vnuma must read and type
//!   the whole command line without error;
//! * when QEMU accepted, the option-level warnings must match, in order.

use vnuma_options::CommandLine;
use vnuma_qemu_harness::corpus::{parse_golden, QmpAnswer};
use vnuma_qemu_harness::deviation::{json_detail_matches, qemu_error};
use vnuma_qemu_harness::Case;

const OPTION_LEVEL: &[&str] = &[
    "Parameter '",
    "Invalid parameter",
    "Duplicate ID '",
    "Expected '=' after parameter",
    "Parameters '",
    "Property '",
    "invalid option",
    "requires an argument",
    "Value '",
    "JSON parse error",
    "Invalid parameter type",
];

fn is_option_level(message: &str) -> bool {
    // Strip an optional "-opt arg: " location.
    let msg = message_of(message);
    OPTION_LEVEL.iter().any(|p| msg.starts_with(p))
        && !msg.starts_with("Parameter -numa node,mem")
        && !msg.contains("expects an integer between")
        && !msg.starts_with("Property 'memory-backend")
        // Which -machine properties exist is the board's knowledge
        // (vnuma-topology's machine models and its corpus).
        && !msg.contains("-machine.")
}

/// The text after the location, if the line has one (QEMU's location is
/// the option and its argument, which may themselves contain ": ").
fn message_of(line: &str) -> &str {
    for marker in OPTION_LEVEL {
        if let Some(i) = line.find(marker) {
            return &line[i..];
        }
    }
    line
}

fn option_level_warnings(stderr: &[String]) -> Vec<String> {
    stderr
        .iter()
        .filter(|l| l.starts_with("qemu: "))
        .map(|l| l["qemu: ".len()..].to_string())
        .filter(|l| {
            l.contains("warning: short-form boolean")
                || l.contains("warning: Using a multiplier suffix")
        })
        .collect()
}

fn cases() -> Vec<Case<QmpAnswer>> {
    parse_golden(include_str!("qemu72/golden.jsonl")).expect("golden.jsonl is well-formed")
}

/// vnuma's first option-level error in QEMU's order, as QEMU prints it.
fn vnuma_first_error(cl: &Result<CommandLine, vnuma_options::Error>) -> Option<String> {
    match cl {
        Err(e) => Some(e.display_qemu().to_string()),
        Ok(cl) => cl.check().err().map(|e| e.display_qemu().to_string()),
    }
}

fn vnuma_warnings(cl: &CommandLine) -> Vec<String> {
    let mut out: Vec<String> = cl
        .warnings()
        .iter()
        .map(|w| w.display_qemu().to_string())
        .collect();
    if let Ok(m) = cl.machine_parsed(None) {
        out.extend(m.warnings.iter().map(|w| w.display_qemu().to_string()));
    }
    for arg in cl.numa() {
        if let Ok(p) = &arg.result {
            out.extend(p.warnings.iter().map(|w| w.display_qemu().to_string()));
        }
    }
    out
}

#[test]
fn agrees_with_qemu_7_2() {
    let cases = cases();
    assert!(
        cases.len() >= 200,
        "golden corpus too small: {}",
        cases.len()
    );
    let mut failures = Vec::new();
    let mut option_level = 0;
    for case in &cases {
        let cl = CommandLine::parse(&case.args);
        let ours = vnuma_first_error(&cl);
        let qemu_error = qemu_error(&case.answer.stderr);
        match (&qemu_error, case.answer.accepted) {
            (Some(q), false) if is_option_level(q) => {
                option_level += 1;
                // JSON syntax errors: the detail is the JSON parser's own.
                let same = match ours.as_deref() {
                    Some(o) => json_detail_matches(q, o).unwrap_or(o == q),
                    None => false,
                };
                if !same {
                    failures.push(format!("{}: QEMU `{q}`, vnuma {:?}", case.id, ours));
                }
            }
            _ => {
                if let Some(ours) = &ours {
                    failures.push(format!(
                        "{}: QEMU {} ({:?}), vnuma rejected the options: `{ours}`",
                        case.id,
                        if case.answer.accepted {
                            "accepted"
                        } else {
                            "rejected later"
                        },
                        qemu_error
                    ));
                } else if case.answer.accepted {
                    let cl = cl.as_ref().unwrap();
                    let want = option_level_warnings(&case.answer.stderr);
                    let got = vnuma_warnings(cl);
                    if want != got {
                        failures.push(format!(
                            "{}: warnings: QEMU {want:?}, vnuma {got:?}",
                            case.id
                        ));
                    }
                }
            }
        }
    }
    assert!(
        option_level >= 80,
        "too few option-level cases: {option_level}"
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree with QEMU 7.2:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
