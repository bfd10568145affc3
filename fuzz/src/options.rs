//! The `options` target: arbitrary bytes into every option parser.
//!
//! Invariants: nothing panics; every span lies inside its text on
//! character boundaries; anything that parses prints back to text that
//! parses to the same value.

use vnuma_options::{CommandLine, Error, MemoryBackendOptions, NumaOptions, ObjectOptions};

fn span_ok(text: &str, e: &Error) {
    let span = e.span();
    let arg = e.location().and_then(|l| l.arg.as_deref()).unwrap_or(text);
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
                    args.get(loc.index).map(String::as_str),
                    Some(&*loc.option),
                    "{e}"
                );
                if let Some(arg) = &loc.arg {
                    assert_eq!(args.get(loc.index + 1).map(String::as_str), Some(&**arg), "{e}");
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

/// The fuzz entry: the first byte chooses between one option text and an
/// argv split at NUL bytes.
pub fn check_bytes(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    if mode % 2 == 0 {
        check_option_text(&text);
    } else {
        let args: Vec<String> = text.split('\0').map(String::from).collect();
        check_argv(&args);
    }
}
