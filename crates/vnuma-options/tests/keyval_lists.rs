//! `-machine` keys that are lists (`cxl-fmw.0.targets.1=...`): QEMU's
//! keyval makes a group whose members are all indexes an array after each
//! option, checks that no index is missing, and refuses to add to it from
//! a later option; `cxl-fmw` is then typed as a list of windows. Texts as
//! QEMU 7.2 and 10.0 print them (captured in the devices corpora,
//! `cxl-fmw-*` cases).

use vnuma_options::{CommandLine, CxlFixedWindow, MachineSchema};

fn parse(args: &[&str]) -> Result<CommandLine, String> {
    CommandLine::parse(args.iter().copied()).map_err(|e| e.display_qemu().to_string())
}

fn machine(args: &[&str]) -> Result<vnuma_options::MachineOptions, String> {
    let cl = parse(args)?;
    let schema = MachineSchema {
        type_name: "pc-q35-10.0",
        properties: &["cxl", "cxl-fmw"],
    };
    cl.machine_for(&schema).map_err(|e| e.to_string())
}

#[test]
fn windows_are_typed_in_order() {
    let m = machine(&[
        "-M",
        "q35,cxl=on,cxl-fmw.0.targets.0=c1,cxl-fmw.0.targets.1=c2,cxl-fmw.0.size=4G,\
         cxl-fmw.1.size=512M,cxl-fmw.1.targets.0=c2,cxl-fmw.1.interleave-granularity=8k",
    ])
    .unwrap();
    assert_eq!(m.cxl, Some(true));
    assert_eq!(
        m.cxl_fmw,
        Some(vec![
            CxlFixedWindow {
                size: 4 << 30,
                interleave_granularity: None,
                targets: vec!["c1".into(), "c2".into()],
            },
            CxlFixedWindow {
                size: 512 << 20,
                interleave_granularity: Some(8192),
                targets: vec!["c2".into()],
            },
        ])
    );
    // Display writes them back so that they parse to the same value.
    let again = machine(&["-M", &m.to_string()]).unwrap();
    assert_eq!(again, m);
}

#[test]
fn a_missing_index_is_refused_where_it_was_written() {
    assert_eq!(
        parse(&["-M", "q35,cxl-fmw.0.targets.1=c1,cxl-fmw.0.size=4G"]).unwrap_err(),
        "-M q35,cxl-fmw.0.targets.1=c1,cxl-fmw.0.size=4G: Parameter 'cxl-fmw.0.targets.0' missing"
    );
    assert_eq!(
        parse(&["-M", "cxl-fmw.1.targets.0=c1,cxl-fmw.1.size=4G"]).unwrap_err(),
        "-M cxl-fmw.1.targets.0=c1,cxl-fmw.1.size=4G: Parameter 'cxl-fmw.0' missing"
    );
}

#[test]
fn a_list_takes_nothing_from_a_later_option() {
    for later in [
        "cxl-fmw.1.targets.0=c1,cxl-fmw.1.size=4G",
        "cxl-fmw.0.size=8G",
    ] {
        assert_eq!(
            parse(&[
                "-M",
                "cxl-fmw.0.targets.0=c1,cxl-fmw.0.size=4G",
                "-M",
                later
            ])
            .unwrap_err(),
            format!("-M {later}: Parameters 'cxl-fmw.*' used inconsistently")
        );
    }
    // Within one option a repeated member is the last one written.
    let m = machine(&[
        "-M",
        "cxl-fmw.0.targets.0=c1,cxl-fmw.0.size=4G,cxl-fmw.0.size=8G",
    ])
    .unwrap();
    assert_eq!(m.cxl_fmw.unwrap()[0].size, 8 << 30);
    // Other groups still merge across options.
    assert!(machine(&[
        "-M",
        "cxl-fmw.0.targets.0=c1,cxl-fmw.0.size=4G",
        "-M",
        "cxl=on"
    ])
    .is_ok());
}

#[test]
fn windows_are_checked_as_qemus_visitor_does() {
    let err = |w: &str| machine(&["-M", w]).unwrap_err();
    assert_eq!(
        err("cxl-fmw.0.foo=1"),
        "Parameter 'cxl-fmw.0.size' is missing"
    );
    assert_eq!(
        err("cxl-fmw.0.size=1G,cxl-fmw.0.foo=1"),
        "Parameter 'cxl-fmw.0.targets' is missing"
    );
    assert_eq!(
        err("cxl-fmw.0.size=1G,cxl-fmw.0.targets.0=c1,cxl-fmw.0.foo=1"),
        "Parameter 'cxl-fmw.0.foo' is unexpected"
    );
    assert_eq!(
        err("cxl-fmw.0.targets=c1,cxl-fmw.0.size=4G"),
        "Invalid parameter type for 'cxl-fmw.0.targets', expected: array"
    );
    assert_eq!(
        err("cxl-fmw=1"),
        "Invalid parameter type for 'cxl-fmw', expected: array"
    );
    assert_eq!(
        err("cxl-fmw.foo=1"),
        "Invalid parameter type for 'cxl-fmw', expected: array"
    );
    assert_eq!(
        err("cxl-fmw.0=1"),
        "Invalid parameter type for 'cxl-fmw.0', expected: object"
    );
    assert_eq!(
        err("cxl-fmw.0.size=1G,cxl-fmw.0.targets.0.x=1"),
        "Parameters 'cxl-fmw.0.targets.0.*' are unexpected"
    );
    assert_eq!(err("cxl=foo"), "Parameter 'cxl' expects 'on' or 'off'");
}

#[test]
fn boards_without_cxl_do_not_have_the_properties() {
    let cl = parse(&["-M", "cxl=on"]).unwrap();
    let schema = MachineSchema {
        type_name: "virt-7.2",
        properties: &[],
    };
    assert_eq!(
        cl.machine_for(&schema).unwrap_err().to_string(),
        "Property 'virt-7.2-machine.cxl' not found"
    );
}

/// Hostile input: a long list is checked in one pass, not per element.
#[test]
fn long_lists_stay_linear() {
    let n = 50_000;
    let text: String = (0..n)
        .map(|i| format!("cxl-fmw.0.targets.{i}=c{i}"))
        .collect::<Vec<_>>()
        .join(",");
    let text = format!("{text},cxl-fmw.0.size=4G");
    let m = machine(&["-M", &text]).unwrap();
    assert_eq!(m.cxl_fmw.unwrap()[0].targets.len(), n);
}
