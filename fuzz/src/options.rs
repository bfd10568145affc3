//! The `options` target: arbitrary bytes into every option parser.
//!
//! Invariants: nothing panics; every span lies inside its text on
//! character boundaries; anything that parses prints back to text that
//! parses to the same value.

use vnuma_options::device::DeviceOptions;
use vnuma_options::value::{format_size, is_identifier, parse_bool};
use vnuma_options::{
    CommandLine, Error, MemoryBackendOptions, NumaOptions, ObjectOptions, ThreadContextOptions,
};

/// An error renders (its text, QEMU's line, its hint) without panicking.
fn renders(e: &Error) {
    assert!(!e.to_string().is_empty());
    let qemu = e.display_qemu().to_string();
    assert!(qemu.contains(&e.to_string()), "{qemu:?}");
    let _ = e.hint();
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

/// One option argument through the `-numa` and `-object` parsers.
pub fn check_option_text(text: &str) {
    match NumaOptions::parse(text) {
        Ok(p) => {
            let printed = p.value.to_string();
            let back: NumaOptions = printed
                .parse()
                .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which fails: {e}"));
            assert_eq!(back, p.value, "{text:?} printed as {printed:?}");
            json_round_trip(&p.value, "-numa");
            for w in &p.warnings {
                assert!(!w.display_qemu().to_string().is_empty());
                let _ = w.hint();
            }
        }
        Err(e) => span_ok(text, &e),
    }
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
    // The value helpers.
    let _ = parse_bool(text);
    let _ = is_identifier(text);
    let n = text
        .bytes()
        .fold(0u64, |a, b| a.rotate_left(7) ^ u64::from(b));
    let size = format_size(n);
    assert!(size.starts_with(|c: char| c.is_ascii_digit()), "{size}");
    match ObjectOptions::parse(text) {
        Ok(p) => {
            if let ObjectOptions::MemoryBackend(b) = &p.value {
                let printed = b.to_string();
                let back: MemoryBackendOptions = printed.parse().unwrap_or_else(|e| {
                    panic!("{text:?} printed as {printed:?}, which fails: {e}")
                });
                assert_eq!(&back, b, "{text:?} printed as {printed:?}");
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

/// An argv through [`CommandLine`]: if it reads and types, its canonical
/// form reads back to the same values.
pub fn check_argv(args: &[String]) {
    let cl = match CommandLine::parse(args) {
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
    // A few warnings rendered (a long argument may carry 10^5).
    for w in cl.warnings().iter().take(4) {
        assert!(!w.display_qemu().to_string().is_empty());
    }
    if let Err(e) = cl.check() {
        renders(&e);
        return;
    }
    let canonical = cl.to_args().expect("a checked command line prints");
    let again = CommandLine::parse(&canonical)
        .unwrap_or_else(|e| panic!("{args:?} printed as {canonical:?}, which fails: {e}"));
    assert_eq!(again.machine().ok(), cl.machine().ok(), "{canonical:?}");
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
        for w in cl.warnings() {
            if let Some(arg) = w.location().and_then(|l| l.arg()) {
                assert_eq!(arg, args[1].as_str());
            }
        }
    }
}

/// The fuzz entry: the first byte chooses between one option text, an
/// argv split at NUL bytes, and a long argument of a repeated piece
/// (mode 3 mod 4: two bytes of count, one of option, then the piece).
pub fn check_bytes(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 4 == 3 {
        if let [hi, lo, which, piece @ ..] = rest {
            let count = usize::from(*hi) << 8 | usize::from(*lo);
            check_repeated(count * 8, &String::from_utf8_lossy(piece), *which);
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
