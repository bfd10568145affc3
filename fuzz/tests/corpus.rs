//! Every input of the committed, minimized corpora (`fuzz/corpus/<target>/`,
//! kept small by `cargo xtask fuzz cmin`) through its target's oracle,
//! decoded as libFuzzer hands it to the target (`arbitrary_take_rest` for
//! the structured ones). Crashes found by fuzzing are kept in these
//! corpora under a name saying what they were, and as named tests.

use std::path::PathBuf;

use arbitrary::{Arbitrary, Unstructured};
use vnuma_fuzz::{description, options, pipeline, ranges, swarm};

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut out: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let path = e.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            (path, data)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "{} is empty", dir.display());
    out
}

fn each<T: for<'a> Arbitrary<'a>>(target: &str, check: impl Fn(&T)) {
    for (path, data) in corpus(target) {
        if let Ok(input) = T::arbitrary_take_rest(Unstructured::new(&data)) {
            eprintln!("{}", path.display());
            check(&input);
        }
    }
}

#[test]
fn options_corpus() {
    for (_, data) in corpus("options") {
        options::check_bytes(&data);
    }
}

#[test]
fn pipeline_corpus() {
    each::<pipeline::Input>("pipeline", pipeline::check);
}

#[test]
fn swarm_corpus() {
    each::<swarm::Input>("swarm", swarm::check);
}

#[test]
fn description_corpus() {
    each::<description::Input>("description", description::check);
}

#[test]
fn ranges_corpus() {
    each::<Vec<ranges::Op>>("ranges", |ops| ranges::check(ops));
}

// The backend corpus runs in `tests/backend.rs`, a process of its own.
