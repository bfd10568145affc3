//! `--arch` and its inference from `-M virt`.

use std::process::Command;

fn vnuma(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vnuma"))
        .args(args)
        .output()
        .expect("run vnuma");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn virt_infers_aarch64() {
    let (code, out, _) = vnuma(&["--json", "-M", "virt", "-m", "1G", "-smp", "2"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("\"qemu_version\":\"7.2\",\"arch\":\"aarch64\""),
        "{out}"
    );
    let (code, out, _) = vnuma(&["--json", "-M", "q35", "-m", "1G"]);
    assert_eq!(code, 0);
    assert!(out.contains("\"arch\":\"x86_64\""), "{out}");
}

#[test]
fn arch_option() {
    // virt is no x86 machine type.
    let (code, _, err) = vnuma(&["--arch", "x86_64", "-M", "virt"]);
    assert_eq!(code, 1);
    assert!(err.contains("unsupported machine type"), "{err}");
    // Nor is pc an aarch64 one.
    let (code, _, err) = vnuma(&["--arch", "aarch64", "-M", "pc"]);
    assert_eq!(code, 1);
    assert!(err.contains("unsupported machine type"), "{err}");
    let (code, _, err) = vnuma(&["--arch", "arm"]);
    assert_eq!(code, 2);
    assert!(err.contains("--arch needs x86_64 or aarch64"), "{err}");
    let (code, out, _) = vnuma(&["--json", "--arch", "aarch64", "-M", "virt", "-smp", "9"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("exceeds max CPUs supported by machine 'mach-virt' (8)")
            && out.contains("\"arch\":\"aarch64\""),
        "{out}"
    );
    let (_, help, _) = vnuma(&["--help"]);
    assert!(help.contains("--arch x86_64|aarch64"));
}
