//! Errors keep their causes: a caller walking `source()` finds the OS
//! error as a `std::io::Error`, and a property error as vnuma-options'
//! error, while `Display` stays QEMU's one-line message.

use std::error::Error as _;

use vnuma_backend::{BackendPlan, Defaults, Errno, Error, HostInfo};
use vnuma_options::MemoryBackendOptions;

fn plan_err(object: &str) -> Error {
    let opts: MemoryBackendOptions = object.parse().expect(object);
    BackendPlan::new(&opts, &Defaults::default(), &HostInfo::probe()).expect_err(object)
}

/// Every error in the chain from `e`, `e` first.
fn chain<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Vec<&'a (dyn std::error::Error + 'static)> {
    let mut out = vec![e];
    let mut next = e.source();
    while let Some(e) = next {
        out.push(e);
        next = e.source();
    }
    out
}

#[test]
fn open_failure_carries_the_io_error() {
    let e = plan_err("memory-backend-file,id=f0,size=4M,mem-path=/nonexistent-vnuma-dir/sub/file");
    assert_eq!(
        e.to_string(),
        "can't open backing store /nonexistent-vnuma-dir/sub/file for guest RAM: No such file or directory"
    );
    let chain = chain(&e);
    let errno = chain
        .iter()
        .find_map(|e| e.downcast_ref::<Errno>())
        .expect("the errno is a source");
    assert_eq!(errno.raw(), libc::ENOENT);
    assert_eq!(errno.to_string(), "No such file or directory");
    let io = chain
        .iter()
        .find_map(|e| e.downcast_ref::<std::io::Error>())
        .expect("the std::io::Error is in the chain");
    assert_eq!(io.raw_os_error(), Some(libc::ENOENT));
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    assert!(io.source().is_none());
    assert_eq!(e.errno(), Some(Errno::new(libc::ENOENT)));
}

#[test]
fn property_error_is_the_source() {
    let e = plan_err("memory-backend-ram,id=m0,size=0");
    assert_eq!(
        e.to_string(),
        "property 'size' of memory-backend-ram doesn't take value '0'"
    );
    let inner = e
        .source()
        .and_then(|s| s.downcast_ref::<vnuma_options::Error>())
        .expect("vnuma-options' error is the source");
    assert_eq!(inner.to_string(), e.to_string());
}

#[test]
fn errors_without_a_cause_have_no_source() {
    let e = plan_err("memory-backend-ram,id=m0,size=4M,policy=bind");
    assert_eq!(e.to_string(), "host-nodes must be set for policy bind");
    assert!(chain(&e)
        .iter()
        .all(|e| e.downcast_ref::<std::io::Error>().is_none()));
}
