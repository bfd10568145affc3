//! The `options` target: arbitrary bytes into every option parser.
//!
//! Invariants: nothing panics; every span lies inside its text on
//! character boundaries; anything that parses prints back to text that
//! parses to the same value.

use vnuma_options::{CommandLine, Error, MemoryBackendOptions, NumaOptions, ObjectOptions};

fn span_ok(text: &str, e: &Error) {
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
        }
        Err(e) => span_ok(text, &e),
    }
    match ObjectOptions::parse(text) {
        Ok(p) => {
            if let ObjectOptions::MemoryBackend(b) = &p.value {
                let printed = b.to_string();
                let back: MemoryBackendOptions = printed.parse().unwrap_or_else(|e| {
                    panic!("{text:?} printed as {printed:?}, which fails: {e}")
                });
                assert_eq!(&back, b, "{text:?} printed as {printed:?}");
                let _ = b.validate();
            }
        }
        Err(e) => {
            if !text.starts_with('{') {
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
    if cl.check().is_err() {
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
