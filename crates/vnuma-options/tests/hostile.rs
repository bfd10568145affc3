//! Hostile input is rejected (or accepted) fast, with memory bounded by
//! the input's own size: ranges are never expanded, nothing is quadratic.
//!
//! These tests assert outcomes, not times; a quadratic or expanding
//! implementation would make them run for minutes and use gigabytes.

use vnuma_options::*;

#[test]
fn huge_ranges_are_errors() {
    for text in [
        "node,cpus=0-4294967295",
        "node,cpus=0-65536",
        "node,cpus=0-18446744073709551615",
    ] {
        let e = NumaOptions::parse(text).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Parameter 'cpus' expects a uint64 value or range",
            "{text}"
        );
    }
    let e = NumaOptions::parse("node,cpus=65535-65536").unwrap_err();
    assert_eq!(e.to_string(), "Parameter 'null' expects uint16_t");
}

#[test]
fn huge_sizes_are_errors() {
    for text in [
        "memory-backend-ram,id=m,size=99999999999E",
        "memory-backend-ram,id=m,size=16E",
        "memory-backend-ram,id=m,size=18446744073709551616",
    ] {
        let e = ObjectOptions::parse(text).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Parameter 'size' expects a size value",
            "{text}"
        );
    }
    let e = CommandLine::parse(["-m", "99999999999E"]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Value '99999999999E' is out of range for parameter 'size'"
    );
}

#[test]
fn a_megabyte_of_commas() {
    let commas = ",".repeat(1 << 20);
    // As -numa: one implied value of half a million escaped commas.
    let e = NumaOptions::parse(&commas).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::InvalidEnumValue { key, .. } if key == "type"));
    // Odd count: the last comma ends the value.
    let e = NumaOptions::parse(&commas[1..]).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::InvalidEnumValue { .. }));
    // As keyval: an empty key.
    let e = CommandLine::parse(["-smp", &format!("4{commas}")]).unwrap_err();
    assert_eq!(e.to_string(), "Invalid parameter ''");
    let cl = CommandLine::parse(["-numa", &format!("node{commas}")]).unwrap();
    assert!(cl.check().is_err());
}

#[test]
fn deep_repetition_keeps_ranges_unexpanded() {
    // 80 000 ranges of 65 536 CPUs each would be 10 GB expanded.
    let text = format!("node{}", ",cpus=0-65535".repeat(80_000));
    let parsed = NumaOptions::parse(&text).unwrap().value;
    let NumaOptions::Node(node) = parsed else {
        panic!()
    };
    assert_eq!(node.cpus.len(), 80_000);
    assert!(node.cpus.iter().all(|r| r.len() == 65536));
    // A scalar repeated: last wins.
    let text = format!("node{},nodeid=7", ",nodeid=1".repeat(100_000));
    let NumaOptions::Node(node) = NumaOptions::parse(&text).unwrap().value else {
        panic!()
    };
    assert_eq!(node.nodeid, Some(7));
}

#[test]
fn many_unknown_keys_and_options() {
    let text: String = (0..100_000).map(|i| format!(",k{i}=1")).collect();
    let e = NumaOptions::parse(&format!("node{text}")).unwrap_err();
    assert_eq!(e.to_string(), "Invalid parameter 'k0'");
    // Many machine properties and many ids.
    let machine: String = (0..50_000).map(|_| "accel=tcg,").collect();
    let cl = CommandLine::parse(["-machine", &machine]).unwrap();
    assert!(cl.machine().is_ok());
    let mut args = Vec::new();
    for i in 0..20_000 {
        args.push("-object".to_string());
        args.push(format!("memory-backend-ram,id=m{i},size=1M"));
    }
    args.push("-object".into());
    args.push("memory-backend-ram,id=m7,size=1M".into());
    let e = CommandLine::parse(&args).unwrap_err();
    assert_eq!(e.to_string(), "Duplicate ID 'm7' for object");
}

#[test]
fn long_fraction_and_number_text() {
    let digits = "9".repeat(1 << 20);
    assert!(ObjectOptions::parse(&format!("memory-backend-ram,id=m,size=1.{digits}K")).is_ok());
    assert!(ObjectOptions::parse(&format!("memory-backend-ram,id=m,size={digits}")).is_err());
    assert!(NumaOptions::parse(&format!("node,nodeid=0x{digits}")).is_err());
}
