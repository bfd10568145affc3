//! Every fuzz oracle, a few hundred seeded iterations, under `cargo test`;
//! and every committed seed.

use arbitrary::{Arbitrary, Unstructured};
use vnuma_fuzz::{description, options, pipeline, ranges, Rng};

fn seeds(target: &str) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(target);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        out.extend(
            text.lines()
                .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
                .map(String::from),
        );
    }
    assert!(!out.is_empty(), "no seeds in {}", dir.display());
    out
}

#[test]
fn options_seeded() {
    for line in seeds("options") {
        options::check_option_text(&line);
        options::check_argv(
            &line
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>(),
        );
    }
    let mut rng = Rng::new(1);
    for i in 0..400 {
        let len = (rng.next_u64() % 64) as usize;
        let mut data = rng.bytes(len);
        // Bias towards option-like text.
        for b in &mut data {
            *b = b",=-0123456789abcdefnodistcpumemx.Kk "[(*b as usize) % 36];
        }
        data.insert(0, i as u8);
        options::check_bytes(&data);
    }
}

#[test]
fn options_repeated_flags_and_long_arguments() {
    for (count, piece, which) in [
        (116_000, ",prealloc", 0u8),
        (100_000, ",noprealloc", 0),
        (50_000, ",share=on", 0),
        (100_000, ",mem=1G", 1),
        (100_000, ",cpus=0", 1),
        (100_000, ",slots=1", 2),
        (1, &"x".repeat(1 << 20) as &str, 0),
        (1, &"y".repeat(1 << 20) as &str, 1),
    ] {
        options::check_repeated(count, piece, which);
    }
    // Through the fuzz entry's own encoding.
    options::check_bytes(&[3, 0xff, 0xff, 0, b',', b'd', b'u', b'm', b'p']);
}

#[test]
fn pipeline_seeded() {
    for line in seeds("pipeline") {
        pipeline::check_argv(
            &line
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>(),
        );
    }
    let mut rng = Rng::new(2);
    let (mut resolved, mut with_devices, mut virt) = (0, 0, 0);
    for _ in 0..2000 {
        let data = rng.bytes(256);
        let mut u = Unstructured::new(&data);
        if let Ok(input) = pipeline::Input::arbitrary(&mut u) {
            let args = input.argv();
            let rules = input.rules();
            if rules.target == vnuma_topology::Target::Aarch64 {
                let vm = vnuma::Vm::for_qemu_target(rules.profile, rules.target, &args);
                virt += usize::from(vm.is_ok());
            }
            if let Ok(cl) = vnuma_options::CommandLine::parse(&args) {
                if let Ok(t) = vnuma_topology::resolve(&cl) {
                    resolved += 1;
                    with_devices += usize::from(!t.devices().is_empty());
                }
            }
            pipeline::check(&input);
        }
    }
    // The generator must produce accepted configurations too, or the
    // invariants are never exercised.
    assert!(
        resolved > 20,
        "only {resolved} seeded command lines resolved"
    );
    // Arm's virt board is drawn and accepted too.
    eprintln!("{virt} virt resolved");
    assert!(virt > 20, "only {virt} virt command lines resolved");
    eprintln!("{resolved} resolved, {with_devices} with memory devices");
    assert!(
        with_devices > 15,
        "only {with_devices} seeded command lines plugged memory devices"
    );
}

#[test]
fn ranges_seeded() {
    let mut rng = Rng::new(3);
    for _ in 0..300 {
        let data = rng.bytes(512);
        let mut u = Unstructured::new(&data);
        if let Ok(ops) = Vec::<ranges::Op>::arbitrary(&mut u) {
            ranges::check(&ops);
        }
    }
}

#[test]
fn description_seeded() {
    let mut rng = Rng::new(4);
    let mut resolved = 0;
    for _ in 0..4000 {
        let data = rng.bytes(192);
        let mut u = Unstructured::new(&data);
        if let Ok(input) = description::Input::arbitrary(&mut u) {
            resolved += usize::from(input.config().resolve().is_ok());
            description::check(&input);
        }
    }
    assert!(
        resolved > 20,
        "only {resolved} seeded descriptions resolved"
    );
}

// The backend oracle runs in `tests/backend.rs`, a process of its own.
