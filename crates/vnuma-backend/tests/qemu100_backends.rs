//! What QEMU 10.0 added to memory backends, planned and allocated:
//! `memory-backend-file` `offset` (the mapping starts there, the file must
//! hold it, QEMU's messages) and `rom`, and `memory-backend-shm` (shared,
//! `share=off` refused, nothing left behind). Every text was checked
//! against QEMU 10.0.2.
mod common;

use std::io::{Read, Seek, SeekFrom, Write};

use common::*;
use vnuma_backend::{AllocOptions, BackendPlan, Defaults, HostMemoryBackend};
use vnuma_options::{MemoryBackendOptions, ObjectOptions, Syntax};

fn parse(object: &str) -> MemoryBackendOptions {
    match ObjectOptions::parse_with(object, Syntax::Qemu100)
        .expect(object)
        .value
    {
        ObjectOptions::MemoryBackend(b) => b,
        other => panic!("{object}: {other:?}"),
    }
}

fn defaults_10_0() -> Defaults {
    Defaults {
        release: Syntax::Qemu100,
        ..defaults()
    }
}

fn plan_err(object: &str, d: &Defaults) -> String {
    BackendPlan::new(&parse(object), d, &host())
        .expect_err(object)
        .to_string()
}

#[test]
fn file_offset_maps_from_the_offset() {
    let _g = map_lock();
    let dir = Scratch::new("offset");
    let path = dir.str("f");
    // An existing file of 12 KiB whose second page holds a marker.
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(&[0u8; 12 << 10]).unwrap();
    f.seek(SeekFrom::Start(4096)).unwrap();
    f.write_all(b"page one").unwrap();
    drop(f);
    let object = format!("memory-backend-file,id=m0,size=8K,mem-path={path},offset=4K,share=on");
    let plan = BackendPlan::new(&parse(&object), &defaults_10_0(), &host()).unwrap();
    let (b, _) = HostMemoryBackend::allocate(&plan, AllocOptions::new()).unwrap();
    let mut buf = [0u8; 8];
    b.read_at(0, &mut buf).unwrap();
    assert_eq!(&buf, b"page one");
    b.write_at(4096, b"page two").unwrap();
    drop(b);
    let mut back = Vec::new();
    std::fs::File::open(&path)
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert_eq!(back.len(), 12 << 10, "the file keeps its size");
    assert_eq!(&back[8192..8200], b"page two");
}

#[test]
fn file_offset_creates_the_file_past_the_offset() {
    let _g = map_lock();
    let dir = Scratch::new("offset-new");
    let path = dir.str("f");
    let object = format!("memory-backend-file,id=m0,size=8K,mem-path={path},offset=4K");
    let plan = BackendPlan::new(&parse(&object), &defaults_10_0(), &host()).unwrap();
    let (b, _) = HostMemoryBackend::allocate(&plan, AllocOptions::new()).unwrap();
    // QEMU 10.0 leaves a 12 KiB file for this.
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 12 << 10);
    drop(b);
}

#[test]
fn file_offset_and_size_messages() {
    let dir = Scratch::new("offset-msg");
    let path = dir.str("f");
    std::fs::write(&path, vec![0u8; 8 << 20]).unwrap();
    let d10 = defaults_10_0();
    assert_eq!(
        plan_err(
            &format!("memory-backend-file,id=m0,size=4M,mem-path={path},offset=6M"),
            &d10
        ),
        "m0 backing store size 0x800000 is too small for 'size' option 0x400000 plus 'offset' option 0x600000"
    );
    assert_eq!(
        plan_err(
            &format!("memory-backend-file,id=m0,size=16M,mem-path={path}"),
            &d10
        ),
        "m0 backing store size 0x800000 is too small for 'size' option 0x1000000 plus 'offset' option 0x0"
    );
    // The same file too small, in QEMU 7.2's words.
    assert_eq!(
        plan_err(
            &format!("memory-backend-file,id=m0,size=16M,mem-path={path}"),
            &defaults()
        ),
        "backing store size 0x800000 does not match 'size' option 0x1000000"
    );
    assert_eq!(
        plan_err(
            &format!("memory-backend-file,id=m0,size=4M,mem-path={path},offset=1"),
            &d10
        ),
        "offset 0x1 must be multiples of page size 0x1000"
    );
    // The alignment is checked first.
    assert_eq!(
        plan_err(
            &format!("memory-backend-file,id=m0,size=4M,mem-path={path},offset=1,align=3K"),
            &d10
        ),
        "alignment 0xc00 must be multiples of page size 0x1000"
    );
}

#[test]
fn file_rom_rules() {
    let d10 = defaults_10_0();
    assert_eq!(
        plan_err(
            "memory-backend-file,id=m0,size=16M,mem-path=/dev/shm,rom=on",
            &d10
        ),
        "property 'rom' = 'on' is not supported with 'readonly' = 'off'"
    );
    assert_eq!(
        plan_err(
            "memory-backend-file,id=m0,size=16M,mem-path=/dev/shm,rom=off,readonly=on,share=on",
            &d10
        ),
        "property 'rom' = 'off' is incompatible with 'readonly' = 'on' and 'share' = 'on'"
    );
    // Allowed combinations plan (read-only needs an existing file).
    let dir = Scratch::new("rom");
    let path = dir.str("f");
    std::fs::write(&path, vec![0u8; 16 << 20]).unwrap();
    for ok in [
        "memory-backend-file,id=m0,size=16M,mem-path=/dev/shm,rom=off".to_string(),
        format!("memory-backend-file,id=m0,size=16M,mem-path={path},rom=auto,readonly=on"),
        format!("memory-backend-file,id=m0,size=16M,mem-path={path},rom=on,readonly=on,share=on"),
    ] {
        BackendPlan::new(&parse(&ok), &d10, &host()).expect(&ok);
    }
}

#[test]
fn shm_is_shared_and_leaves_nothing_behind() {
    let _g = map_lock();
    let shm_before = std::fs::read_dir("/dev/shm").map(|d| d.count()).ok();
    let opts = parse("memory-backend-shm,id=m0,size=4M");
    let plan = BackendPlan::new(&opts, &defaults_10_0(), &host()).unwrap();
    assert!(plan.memdev().share, "share defaults to on");
    let (b, _) = HostMemoryBackend::allocate(&plan, AllocOptions::new()).unwrap();
    let f = smaps(b.as_ptr()).vm_flags;
    assert!(f.iter().any(|x| x == "sh"), "a shared mapping: {f:?}");
    b.write_at(0, b"x").unwrap();
    assert_eq!(
        std::fs::read_dir("/dev/shm").map(|d| d.count()).ok(),
        shm_before,
        "no name in /dev/shm"
    );
    drop(b);
    assert_eq!(
        plan_err(
            "memory-backend-shm,id=m0,size=4M,share=off",
            &defaults_10_0()
        ),
        "can't create shm backend with `share=off`"
    );
    assert_eq!(
        plan_err("memory-backend-shm,id=m0,size=0", &defaults_10_0()),
        "property 'size' of memory-backend-shm doesn't take value '0'"
    );
}

#[test]
fn qemu_7_2_has_none_of_it() {
    for object in [
        "memory-backend-shm,id=m0,size=4M",
        "memory-backend-file,id=m0,size=4M,mem-path=/dev/shm,offset=4K",
        "memory-backend-file,id=m0,size=4M,mem-path=/dev/shm,rom=off",
    ] {
        assert!(ObjectOptions::parse(object).is_err(), "{object}");
    }
    assert_eq!(
        ObjectOptions::parse("memory-backend-file,id=m0,size=4M,mem-path=/dev/shm,rom=off")
            .unwrap_err()
            .to_string(),
        "Invalid parameter 'rom'"
    );
    assert_eq!(
        ObjectOptions::parse("memory-backend-shm,id=m0,size=4M")
            .unwrap_err()
            .to_string(),
        "Parameter 'qom-type' does not accept value 'memory-backend-shm'"
    );
}
