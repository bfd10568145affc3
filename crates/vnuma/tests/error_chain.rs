//! The facade's error exposes the layer's error as its `source()`, and
//! through it the OS error of a host failure.

use std::error::Error as _;

use vnuma::backend::HostInfo;
use vnuma::{Error, Vm};

#[test]
fn backend_error_chain_reaches_the_io_error() {
    let vm = Vm::from_args([
        "-m",
        "4M",
        "-object",
        "memory-backend-file,id=f0,size=4M,mem-path=/nonexistent-vnuma-dir/sub/file",
        "-numa",
        "node,memdev=f0",
    ])
    .unwrap();
    let e = vm.plan_ram(&HostInfo::probe()).unwrap_err();
    assert!(matches!(e, Error::Backend(_)));
    let backend = e
        .source()
        .and_then(|s| s.downcast_ref::<vnuma::backend::Error>())
        .expect("the backend error is the source");
    assert_eq!(backend.to_string(), e.to_string());
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    let mut io = None;
    while let Some(cause) = next {
        io = io.or(cause.downcast_ref::<std::io::Error>());
        next = cause.source();
    }
    let io = io.expect("the std::io::Error is in the chain");
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
}

#[test]
fn options_error_is_the_source() {
    let e = Vm::from_args(["-object", "memory-backend-ram,id=m0,size=1X"]).unwrap_err();
    assert!(matches!(e, Error::Options(_)), "{e:?}");
    let inner = e
        .source()
        .and_then(|s| s.downcast_ref::<vnuma::options::Error>())
        .expect("vnuma-options' error is the source");
    assert_eq!(inner.to_string(), e.to_string());
}

#[test]
fn topology_error_keeps_the_option_error_as_source() {
    use std::error::Error as _;
    let cl = vnuma::options::CommandLine::parse(["-numa", "node,nodeid=x"]).unwrap();
    let err = vnuma::topology::resolve(&cl).unwrap_err();
    let source = err.source().expect("the option error underneath");
    assert_eq!(source.to_string(), err.to_string());
    assert!(source.downcast_ref::<vnuma::options::Error>().is_some());
}
