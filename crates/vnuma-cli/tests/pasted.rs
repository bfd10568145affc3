//! `--cmdline`: a pasted QEMU command line, split by the facade's
//! shell-words splitter; errors rendered by the facade's caret renderer.

use std::process::Command;

fn vnuma(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vnuma"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_pasted_command_line_is_split_like_a_shell_does() {
    let line = "qemu-system-x86_64 -M q35 -m 2G \\\n  -object 'memory-backend-ram,id=m0,size=1G' \
                -object \"memory-backend-ram,id=m1,size=1G\" \
                -numa node,memdev=m0 -numa node,memdev=m1";
    let (code, out, err) = vnuma(&["--cmdline", line]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("2 nodes\n"), "{out}");
    // The same as separate arguments.
    let (_, separate, _) = vnuma(&[
        "-M",
        "q35",
        "-m",
        "2G",
        "-object",
        "memory-backend-ram,id=m0,size=1G",
        "-object",
        "memory-backend-ram,id=m1,size=1G",
        "-numa",
        "node,memdev=m0",
        "-numa",
        "node,memdev=m1",
    ]);
    assert_eq!(out, separate);
}

#[test]
fn unbalanced_quotes_are_a_usage_error() {
    let (code, _, err) = vnuma(&["--cmdline", "-m 1G -numa 'node"]);
    assert_eq!(code, 2);
    assert!(err.contains("unterminated quote"), "{err}");
}

#[test]
fn the_caret_points_at_the_bytes_after_splitting() {
    let (code, _, err) = vnuma(&["--cmdline", "qemu -numa 'node,nodeid=200'"]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "vnuma: -numa node,nodeid=200: Max number of NUMA nodes reached: 200\n                  ^^^^^^^^^^\n"
    );
}
