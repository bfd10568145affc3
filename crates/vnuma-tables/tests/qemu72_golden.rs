//! vnuma-tables held against the SRAT, SLIT and HMAT that QEMU 7.2 builds
//! for the command lines of `tests/qemu72/cases.txt` (bytes in
//! `golden.jsonl`, captured by `cargo xtask qemu-diff --update --corpus
//! tables`): every table byte for byte,
//! with QEMU's checksum byte (0, left for the firmware's linker/loader)
//! normalised; the checksum this crate computes is checked separately.
//! Then each golden table is parsed and checked against the topology.

use vnuma_options::CommandLine;
use vnuma_qemu_harness::corpus::{parse_golden, AcpiTables};
use vnuma_qemu_harness::Case;
use vnuma_tables::acpi;
use vnuma_tables::info::{verify, NumaInfo};
use vnuma_tables::{build, TableOptions};
use vnuma_topology::layout::MemoryLayout;
use vnuma_topology::resolve;

fn cases() -> Vec<Case<AcpiTables>> {
    parse_golden(include_str!("qemu72/golden.jsonl")).expect("golden.jsonl is well-formed")
}

/// The options QEMU used: its OEM ids unless `x-oem-id`/`x-oem-table-id`
/// (the facade's, which `xtask qemu-diff` uses too).
fn options(cl: &CommandLine) -> TableOptions {
    vnuma::Vm::from_command_line(cl.clone())
        .expect("the golden cases resolve")
        .table_options()
}

fn first_difference(a: &[u8], b: &[u8]) -> String {
    let at = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let window = |v: &[u8]| {
        v[at.saturating_sub(8)..(at + 24).min(v.len())]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    format!(
        "lengths {} vs {}, first difference at byte {at}\n  ours: {}\n  qemu: {}",
        a.len(),
        b.len(),
        window(a),
        window(b)
    )
}

#[test]
fn golden_tables_match_qemu_byte_for_byte() {
    let cases = cases();
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let mut failures = Vec::new();
    let mut matched = 0;
    for c in &cases {
        let cl = CommandLine::parse(&c.args).unwrap_or_else(|e| panic!("{}: {e}", c.id));
        let t = resolve(&cl).unwrap_or_else(|e| panic!("{}: {e}", c.id));
        let layout = MemoryLayout::new(&t);
        let opts = options(&cl);
        let ours = build(&t, &layout, &opts).unwrap_or_else(|e| panic!("{}: {e}", c.id));
        let mut ok = true;
        for (i, (sig, golden)) in c.answer.tables().into_iter().enumerate() {
            let mine: Option<Vec<u8>> = ours.as_ref().and_then(|o| match i {
                0 => Some(o.srat.clone()),
                1 => o.slit.clone(),
                _ => o.hmat.clone(),
            });
            match (mine, golden) {
                (None, None) => {}
                (Some(m), Some(g)) => {
                    assert!(acpi::checksum_valid(&m), "{}: {sig} checksum", c.id);
                    let mut normalised = m.clone();
                    normalised[9] = 0;
                    if normalised != g {
                        ok = false;
                        failures.push(format!(
                            "{} {sig}: {}",
                            c.id,
                            first_difference(&normalised, g)
                        ));
                    }
                }
                (m, g) => {
                    ok = false;
                    failures.push(format!(
                        "{} {sig}: ours {}, qemu {}",
                        c.id,
                        if m.is_some() { "present" } else { "absent" },
                        if g.is_some() { "present" } else { "absent" }
                    ));
                }
            }
        }
        if ok {
            matched += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{matched}/{} cases match; differences:\n{}",
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn golden_tables_read_back_to_their_topology() {
    for c in cases() {
        let cl = CommandLine::parse(&c.args).unwrap();
        let t = resolve(&cl).unwrap();
        let layout = MemoryLayout::new(&t);
        let [(_, srat), (_, slit), (_, hmat)] = c.answer.tables();
        let srat = srat.expect("every case has NUMA");
        let info =
            NumaInfo::from_tables(srat, slit, hmat).unwrap_or_else(|e| panic!("{}: {e}", c.id));
        verify(&t, &layout, &options(&cl), &info).unwrap_or_else(|e| panic!("{}: {e}", c.id));
        // Every CPU slot's node as the guest sees it.
        for cpu in t.cpus() {
            assert_eq!(
                info.node_of_cpu(cpu.slot.apic_id),
                cpu.node,
                "{}: APIC id {}",
                c.id,
                cpu.slot.apic_id
            );
        }
        // Parsing and re-encoding gives the same bytes.
        let (header, parsed) = vnuma_tables::srat::Srat::parse(srat).unwrap();
        let mut again = parsed.to_bytes(&header.oem).unwrap();
        again[9] = 0;
        assert_eq!(again, srat, "{}: SRAT re-encoded", c.id);
        if let Some(hmat) = hmat {
            let (header, parsed) = vnuma_tables::hmat::Hmat::parse(hmat).unwrap();
            let mut again = parsed.to_bytes(&header.oem).unwrap();
            again[9] = 0;
            assert_eq!(again, hmat, "{}: HMAT re-encoded", c.id);
        }
    }
}
