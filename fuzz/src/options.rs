//! The `options` target: arbitrary bytes into every option parser.
//!
//! Invariants: nothing panics; every span lies inside its text on
//! character boundaries; anything that parses prints back to text that
//! parses to the same value.

use vnuma_options::device::DeviceOptions;
use vnuma_options::value::{format_size, is_identifier, parse_bool};
use vnuma_options::{
    CommandLine, Error, GenericInitiatorOptions, GenericPortOptions, MemoryBackendOptions,
    NumaOptions, ObjectOptions, Syntax, ThreadContextOptions, Warning,
};

/// Both QEMU releases whose option syntax vnuma reads.
const SYNTAXES: [Syntax; 2] = [Syntax::Qemu72, Syntax::Qemu100];

/// An error renders (its text, QEMU's line, its hint) without panicking.
fn renders(e: &Error) {
    assert!(!e.to_string().is_empty());
    let qemu = e.display_qemu().to_string();
    assert!(qemu.contains(&e.to_string()), "{qemu:?}");
    let _ = e.hint();
}

/// A warning renders, and its span lies inside the text it is about (its
/// option's argument when it has one, else `text` when given).
fn warning_ok(text: Option<&str>, w: &Warning) {
    let shown = w.to_string();
    assert!(!shown.is_empty());
    assert!(w.display_qemu().to_string().contains(&shown));
    let _ = (w.kind(), w.hint());
    if let Some(arg) = w.location().and_then(|l| l.arg()).or(text) {
        let span = w.span();
        assert!(
            arg.get(span.range()).is_some(),
            "warning span {span} (len {}) outside {arg:?}: {shown}",
            span.len()
        );
    }
}

/// `text` as a QemuOpts value (commas doubled).
fn escaped(text: &str) -> String {
    text.replace(',', ",,")
}

/// A value's JSON form (QMP's) reads back to a value with the same JSON
/// form (QMP lists CPUs one by one where the text has ranges, so the
/// values themselves may differ in how a list is grouped).
fn json_round_trip<T>(value: &T, what: &str)
where
    T: serde::Serialize + serde::de::DeserializeOwned + core::fmt::Debug,
{
    let json = serde_json::to_string(value).expect("a parsed value serializes");
    let back: T = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("{what} {value:?} as {json}, which fails: {e}"));
    let again = serde_json::to_string(&back).expect("a read value serializes");
    assert_eq!(again, json, "{what}");
}

fn span_ok(text: &str, e: &Error) {
    renders(e);
    let span = e.span();
    let arg = e.location().and_then(|l| l.arg()).unwrap_or(text);
    assert!(
        arg.get(span.range()).is_some(),
        "span {span} outside {arg:?} for {e}"
    );
}

/// One option argument through the `-numa` and `-object` parsers, under
/// each release's syntax.
pub fn check_option_text(text: &str) {
    for syntax in SYNTAXES {
        check_option_text_with(text, syntax);
    }
    // The objects that place a PCI device or bus in a node: what types
    // prints back (as QemuOpts text) to the same value.
    if let Ok(gi) = GenericInitiatorOptions::parse(text) {
        let printed = format!(
            "acpi-generic-initiator,id={},pci-dev={},node={}",
            escaped(&gi.id),
            escaped(&gi.pci_dev),
            gi.node
        );
        let back = GenericInitiatorOptions::parse(&printed)
            .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which fails: {e}"));
        assert_eq!(back, gi, "{text:?} printed as {printed:?}");
    }
    if let Ok(gp) = GenericPortOptions::parse(text) {
        let printed = format!(
            "acpi-generic-port,id={},pci-bus={},node={}",
            escaped(&gp.id),
            escaped(&gp.pci_bus),
            gp.node
        );
        let back = GenericPortOptions::parse(&printed)
            .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which fails: {e}"));
        assert_eq!(back, gp, "{text:?} printed as {printed:?}");
    }
    // The value helpers.
    let _ = parse_bool(text);
    let _ = is_identifier(text);
    let n = text
        .bytes()
        .fold(0u64, |a, b| a.rotate_left(7) ^ u64::from(b));
    let size = format_size(n);
    assert!(size.starts_with(|c: char| c.is_ascii_digit()), "{size}");
}

/// One option argument through the `-numa` and `-object` parsers of one
/// release: what parses prints back to the same value (read with the same
/// syntax), errors and warnings point into the text.
fn check_option_text_with(text: &str, syntax: Syntax) {
    match NumaOptions::parse_with(text, syntax) {
        Ok(p) => {
            let printed = p.value.to_string();
            let back = NumaOptions::parse_with(&printed, syntax)
                .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which fails: {e}"));
            assert_eq!(back.value, p.value, "{text:?} printed as {printed:?}");
            json_round_trip(&p.value, "-numa");
            for w in &p.warnings {
                warning_ok(Some(text), w);
            }
        }
        Err(e) => span_ok(text, &e),
    }
    // The rest does not depend on the release.
    if syntax == Syntax::Qemu72 {
        check_other_parsers(text);
    }
    match ObjectOptions::parse_with(text, syntax) {
        Ok(p) => {
            for w in &p.warnings {
                warning_ok(Some(text), w);
            }
            if let ObjectOptions::MemoryBackend(b) = &p.value {
                let printed = b.to_string();
                let back = ObjectOptions::parse_with(&printed, syntax).unwrap_or_else(|e| {
                    panic!("{text:?} printed as {printed:?}, which fails: {e}")
                });
                assert_eq!(
                    back.value,
                    ObjectOptions::MemoryBackend(b.clone()),
                    "{text:?} printed as {printed:?}"
                );
                json_round_trip(b, "-object");
                if let Err(e) = b.validate() {
                    renders(&e);
                }
                if let Err(e) = b.check_policy() {
                    renders(&e);
                }
                let _ = b.host_node_ids();
            }
        }
        Err(e) => {
            if text.starts_with('{') {
                renders(&e);
            } else {
                span_ok(text, &e);
            }
        }
    }
}

/// The parsers whose grammar is the same in both releases: QMP JSON,
/// `-device`, `thread-context`.
fn check_other_parsers(text: &str) {
    // The same text as QMP JSON (`set-numa-node`, `object-add`).
    if text.starts_with('{') {
        if let Ok(n) = serde_json::from_str::<NumaOptions>(text) {
            json_round_trip(&n, "set-numa-node");
        }
        if let Ok(b) = serde_json::from_str::<MemoryBackendOptions>(text) {
            json_round_trip(&b, "object-add");
        }
        match DeviceOptions::from_json(text) {
            Ok(d) => {
                let _ = format!("{d:?}");
            }
            Err(e) => renders(&e),
        }
    } else {
        match DeviceOptions::parse(text) {
            Ok(_) => {
                if let Err(e) = DeviceOptions::type_properties(text) {
                    span_ok(text, &e);
                }
            }
            Err(e) => span_ok(text, &e),
        }
        let _ = DeviceOptions::driver_of(text);
        match ThreadContextOptions::parse(text) {
            Ok(t) => {
                if let Err(e) = t.validate() {
                    renders(&e);
                }
            }
            Err(e) => renders(&e),
        }
    }
}

/// An argv through [`CommandLine`] under each release's syntax: if it
/// reads and types, its canonical form reads back to the same values.
pub fn check_argv(args: &[String]) {
    for syntax in SYNTAXES {
        check_argv_with(args, syntax);
    }
}

/// An argv through [`CommandLine`] under `syntax`.
fn check_argv_with(args: &[String], syntax: Syntax) {
    let cl = match CommandLine::parse_with(args, syntax) {
        Ok(cl) => cl,
        Err(e) => {
            renders(&e);
            if let Some(loc) = e.location() {
                assert_eq!(
                    args.get(loc.index()).map(String::as_str),
                    Some(loc.option()),
                    "{e}"
                );
                if let Some(arg) = loc.arg() {
                    assert_eq!(
                        args.get(loc.index() + 1).map(String::as_str),
                        Some(arg),
                        "{e}"
                    );
                    span_ok(arg, &e);
                }
            }
            return;
        }
    };
    assert_eq!(cl.syntax(), syntax);
    // A few warnings checked (a long argument may carry 10^5).
    for w in cl.warnings().iter().take(4) {
        warning_ok(None, w);
        if let Some(loc) = w.location() {
            assert_eq!(
                args.get(loc.index()).map(String::as_str),
                Some(loc.option()),
                "{w}"
            );
        }
    }
    if let Err(e) = cl.check() {
        renders(&e);
        return;
    }
    let canonical = cl.to_args().expect("a checked command line prints");
    let again = CommandLine::parse_with(&canonical, syntax)
        .unwrap_or_else(|e| panic!("{args:?} printed as {canonical:?}, which fails: {e}"));
    let machine = cl.machine().ok();
    assert_eq!(again.machine().ok(), machine, "{canonical:?}");
    if let Some(m) = &machine {
        // `-smp` and `-m` print as text that reads back to them.
        let smp = m.smp.to_string();
        let mem = m.memory.to_string();
        let mut printed: Vec<String> = Vec::new();
        if !smp.is_empty() {
            printed.extend(["-smp".into(), smp]);
        }
        // `-machine memory.size=0` is zero bytes of RAM (QEMU 7.2 boots
        // with none), which `-m` cannot say: its 0 is the default size.
        // `MemoryOptions` prints it as `size=0B` all the same (its doc
        // says so; `MachineOptions` prints `memory.size=0`).
        let zero = m.memory.size == Some(0);
        if !mem.is_empty() && !zero {
            printed.extend(["-m".into(), mem]);
        }
        let back = CommandLine::parse_with(&printed, syntax)
            .and_then(|c| c.machine())
            .unwrap_or_else(|e| panic!("{args:?}: -smp and -m printed as {printed:?}: {e}"));
        assert_eq!(back.smp, m.smp, "{printed:?}");
        if !zero {
            assert_eq!(back.memory, m.memory, "{printed:?}");
        }
    }
    // (`to_args` prints no `-device`, `-nodefaults` or `-no-acpi`.)
    let _ = (cl.nodefaults(), cl.no_acpi(), cl.devices());
    assert_eq!(again.mem_path(), cl.mem_path(), "{canonical:?}");
    assert_eq!(again.mem_prealloc(), cl.mem_prealloc(), "{canonical:?}");
    let a: Vec<_> = again.numa_options().map(Result::ok).collect();
    let b: Vec<_> = cl.numa_options().map(Result::ok).collect();
    assert_eq!(a, b, "{canonical:?}");
    let a: Vec<_> = again.objects().iter().map(|o| &o.object).collect();
    let b: Vec<_> = cl.objects().iter().map(|o| &o.object).collect();
    assert_eq!(a, b, "{canonical:?}");
}

/// Long arguments of repeated flags or items (issue 17): `piece`
/// repeated `count` times (at most 1 MiB in all) after a backend or a
/// node, as `-object`, `-numa` and `-m` arguments. Checks the argv
/// oracle, and that warnings stay bounded by the input (at most one per
/// item, each sharing its option's text).
pub fn check_repeated(count: usize, piece: &str, which: u8) {
    if piece.is_empty() {
        return;
    }
    let count = count.min((1 << 20) / piece.len()).max(1);
    let (option, head) = match which % 3 {
        0 => ("-object", "memory-backend-ram,id=a,size=4K"),
        1 => ("-numa", "node,nodeid=0"),
        _ => ("-m", "4K"),
    };
    let mut arg = String::with_capacity(head.len() + piece.len() * count + 1);
    arg.push_str(head);
    if !piece.starts_with(',') {
        arg.push(',');
    }
    for _ in 0..count {
        arg.push_str(piece);
    }
    let args = vec![option.to_string(), arg];
    check_argv(&args);
    if let Ok(cl) = CommandLine::parse(&args) {
        let items = args[1].bytes().filter(|&b| b == b',').count() + 1;
        assert!(
            cl.warnings().len() <= items,
            "{} warnings",
            cl.warnings().len()
        );
        // Each names the argument; compared once, then by address (they
        // share one copy of it), as 10^5 comparisons of 1 MiB would make
        // this input take seconds.
        let mut seen: Option<*const u8> = None;
        for w in cl.warnings() {
            if let Some(arg) = w.location().and_then(|l| l.arg()) {
                if seen != Some(arg.as_ptr()) {
                    assert_eq!(arg, args[1].as_str());
                    seen = Some(arg.as_ptr());
                }
            }
        }
    }
}

/// The fuzz entry: the first byte chooses between one option text, an
/// argv split at NUL bytes, and a long argument of a repeated piece
/// (mode 3 mod 4: two bytes of count, one of option, then the piece).
/// The fuzz entry keeps such an argument to 64 KiB (a megabyte takes
/// about 0.1 s through every check, and a quarter of all inputs are of
/// this mode); `cargo test` runs the megabyte cases.
pub fn check_bytes(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 4 == 3 {
        if let [hi, lo, which, piece @ ..] = rest {
            let piece = String::from_utf8_lossy(piece);
            let count = (usize::from(*hi) << 8 | usize::from(*lo)) * 8;
            check_repeated(count.min((1 << 16) / piece.len().max(1)), &piece, *which);
        }
        return;
    }
    let text = String::from_utf8_lossy(rest);
    if mode % 2 == 0 {
        check_option_text(&text);
    } else {
        let args: Vec<String> = text.split('\0').map(String::from).collect();
        check_argv(&args);
    }
}
