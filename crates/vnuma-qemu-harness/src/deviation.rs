//! Where vnuma answers differently from QEMU 7.2 on purpose, and how
//! QEMU's recorded stderr is read for a comparison (first error,
//! warnings).

use crate::corpus::Corpus;

/// Why vnuma answers a case of `corpus` differently from QEMU on purpose
/// (QEMU ran `args`, wrote `stderr` as recorded, and exited `exit`), or
/// `None` when it must answer as QEMU does.
///
/// * topology: machine types vnuma does not model, `--preconfig`,
///   TCG-only and `-cpu`-dependent limits, host binding, and QEMU's
///   out-of-range initiator quirk;
/// * options: those, and what needs the host or files (file backends,
///   disk images) or meets the runner's own `-accel tcg`;
/// * tables: none (QEMU accepts every line of that corpus);
/// * devices: those of the options corpus, and those of memory devices
///   and management-layer command lines listed in `devices`;
/// * virt: those of the options corpus (none of the `virt` board's own
///   so far; QEMU's ACPI-size warning is left out by [`warnings`]).
pub fn deviation(
    corpus: Corpus,
    args: &[String],
    stderr: &[String],
    exit: i64,
) -> Option<&'static str> {
    match corpus {
        Corpus::Topology => topology(args, stderr, exit),
        Corpus::Options => topology(args, stderr, exit).or_else(|| options(stderr)),
        Corpus::Tables => None,
        Corpus::Devices => topology(args, stderr, exit)
            .or_else(|| options(stderr))
            .or_else(|| devices(args, stderr, exit)),
        Corpus::Virt => topology(args, stderr, exit).or_else(|| options(stderr)),
    }
}

/// Deviations of the devices corpus. Each is a gap of vnuma's, not a
/// choice, until the lead closes it (see issue 15).
fn devices(args: &[String], stderr: &[String], exit: i64) -> Option<&'static str> {
    let err = stderr.join("\n");
    let option_starts = |opt: &str, start: &str| {
        args.windows(2)
            .any(|w| w[0] == opt && w[1].starts_with(start))
    };
    if option_starts("-device", "{")
        && (err.contains("expects uint64") || err.contains("Invalid parameter type for"))
    {
        return Some("JSON -device members are typed from their text: QEMU's JSON visitor refuses a string where it wants a number");
    }
    if exit < 0
        && args
            .iter()
            .any(|a| a.starts_with("pxb-cxl") && a.contains("numa_node="))
    {
        return Some("QEMU 7.2 crashes (SIGSEGV) on a pxb-cxl with numa_node; vnuma checks it as QEMU 10.0 does");
    }
    if err.contains("Unknown firmware file in legacy mode") {
        return Some("the fw_cfg warning about the NVDIMM firmware file on machine types before 2.2 is not modelled");
    }
    if exit == 0 && err.contains("'unplugged-inaccessible' property set to 'off'") {
        return Some("virtio-mem's warning about unplugged-inaccessible=off (machine types before 7.0) on a backend without the shared zeropage is not modelled");
    }
    if exit == 0 && err.contains("has no peer") {
        return Some("warnings about non-memory devices (a NIC without a netdev) are not modelled");
    }
    if err.contains("Bus '") && err.contains("not found") {
        return Some("buses of non-memory devices (usb.0, pci.N) are not modelled");
    }
    if err.contains("Duplicate device ID") {
        return Some("ids of non-memory devices are not checked for duplicates");
    }
    None
}

fn topology(args: &[String], stderr: &[String], exit: i64) -> Option<&'static str> {
    let stderr = stderr.join("\n");
    if ["isapc", "microvm", "none"].iter().any(|m| {
        args.windows(2)
            .any(|w| (w[0] == "-M" || w[0] == "-machine") && w[1].split(',').next() == Some(m))
    }) {
        return Some("vnuma models the pc and q35 machine types only");
    }
    if args.iter().any(|a| a.contains("--preconfig")) {
        return Some("--preconfig (QMP before machine creation) is not a command-line behaviour");
    }
    // QEMU 10.0 under TCG: the default CPU model has no x2APIC.
    if stderr.contains("requires kernel irqchip and X2APIC API support")
        || stderr.contains("requires x2APIC feature in CPU")
    {
        return Some("TCG-only limit on APIC ids >= 255; vnuma models KVM, where x2APIC lifts it");
    }
    if stderr.contains("phys-bits too low")
        && args
            .windows(2)
            .any(|w| w[0] == "-cpu" && w[1].starts_with("host"))
    {
        return Some(
            "-cpu host's physical address width is the host's, which resolution does not read",
        );
    }
    if stderr.contains("cannot bind memory to host NUMA nodes") {
        return Some("host memory binding is vnuma-backend's job, not resolution's");
    }
    // QEMU 10.0 reads a negative `-numa cpu,node-id` as no node and
    // carries on; 7.2 refuses it.
    if exit == 0
        && args
            .windows(2)
            .any(|w| w[0] == "-numa" && w[1].starts_with("cpu,") && w[1].contains("node-id=-"))
    {
        return Some("QEMU 10.0 accepts a negative -numa cpu,node-id and leaves those CPUs in no node (info numa loses them); vnuma keeps 7.2's error");
    }
    if exit == 0 && stderr.contains("The initiator id") {
        return Some("QEMU prints the out-of-range initiator error and goes on without the node; vnuma stops (spec §2.1.4)");
    }
    None
}

fn options(stderr: &[String]) -> Option<&'static str> {
    let stderr = stderr.join("\n");
    // Checks that need the host: vnuma-backend makes them when it plans
    // the guest's RAM (`vnuma --allocate`), not resolution.
    if stderr.contains("can't open backing store")
        || stderr.contains("must be multiples of page size")
    {
        return Some(
            "file backends are checked against the host by vnuma-backend, not by resolution",
        );
    }
    // The runner itself passes `-accel tcg`.
    if stderr.contains("The -accel and \"-machine accel=\" options are incompatible") {
        return Some("the runner's own -accel tcg meets the case's -machine accel=");
    }
    // Disk images and other files QEMU opens are outside vnuma's scope.
    if stderr.contains("Could not open '") {
        return Some("vnuma ignores disk images and never opens them");
    }
    None
}

/// The reason given when only the detail of a JSON syntax error differs:
/// that detail is the JSON parser's own, and only the text up to `JSON
/// parse error` is compared.
pub const JSON_DETAIL: &str = "JSON syntax errors: the detail is the JSON parser's own";

/// Whether vnuma's error `ours` matches QEMU's `qemu` up to and
/// including `JSON parse error` (`None` when `qemu` is no JSON syntax
/// error).
pub fn json_detail_matches(qemu: &str, ours: &str) -> Option<bool> {
    let end = qemu.find("JSON parse error")? + "JSON parse error".len();
    Some(ours.starts_with(&qemu[..end]))
}

/// Whether a recorded stderr line is an error (`qemu: ` and no warning).
pub fn is_error(line: &str) -> bool {
    line.starts_with("qemu: ")
        && !line.contains(": warning: ")
        && !line.starts_with("qemu: warning: ")
}

/// QEMU's first error line without `qemu: `.
pub fn qemu_error(stderr: &[String]) -> Option<String> {
    stderr
        .iter()
        .find(|l| is_error(l))
        .map(|l| l["qemu: ".len()..].to_string())
}

/// QEMU's first error: [`qemu_error`], else the first line that is not a
/// warning (messages printed inside a QMP command carry no prefix).
pub fn first_error(stderr: &[String]) -> Option<String> {
    qemu_error(stderr).or_else(|| {
        stderr
            .iter()
            .find(|l| !l.trim().is_empty() && !l.contains("warning: "))
            .cloned()
    })
}

/// Warnings vnuma does not produce: those that depend on the guest CPU
/// model (`-cpu`), which it does not model, and QEMU's warning that the
/// whole ACPI blob exceeds 64 KiB (`ACPI table size N exceeds 65536
/// bytes, migration may not work`), whose size counts every table of the
/// board (DSDT, MADT, PPTT, ...), of which vnuma builds only the NUMA
/// ones. The hint line after it goes with it.
pub fn ignored_warning(line: &str) -> bool {
    line.contains("doesn't support hyperthreading")
        || (line.contains("ACPI table size") && line.contains("migration may not work"))
}

/// The messages of an accepted case that vnuma must give as warnings, in
/// order, without `qemu: ` (those that depend on `-cpu` left out).
pub fn warnings(stderr: &[String]) -> Vec<String> {
    stderr
        .iter()
        .filter(|l| l.starts_with("qemu: ") && !ignored_warning(l))
        .map(|l| l["qemu: ".len()..].to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn deviations_per_corpus() {
        let args = s(&["-M", "microvm,x=1"]);
        assert!(deviation(Corpus::Topology, &args, &[], 0).is_some());
        let err = s(&["qemu: Could not open 'x'"]);
        assert!(deviation(Corpus::Topology, &[], &err, 1).is_none());
        assert!(deviation(Corpus::Options, &[], &err, 1).is_some());
        assert!(deviation(Corpus::Tables, &args, &err, 1).is_none());
    }

    #[test]
    fn errors_and_warnings() {
        let err = s(&[
            "qemu: warning: w",
            "hint",
            "qemu: bad: x",
            "qemu: a: warning: b",
        ]);
        assert_eq!(qemu_error(&err).as_deref(), Some("bad: x"));
        assert_eq!(
            first_error(&s(&["x-exit failed"])).as_deref(),
            Some("x-exit failed")
        );
        assert_eq!(warnings(&err), ["warning: w", "bad: x", "a: warning: b"]);
        let acpi = s(&[
            "qemu: warning: ACPI table size 72493 exceeds 65536 bytes, migration may not work",
            "Try removing CPUs, NUMA nodes, memory slots or PCI bridges.",
            "qemu: warning: v",
        ]);
        assert_eq!(warnings(&acpi), ["warning: v"]);
        assert_eq!(
            json_detail_matches("JSON parse error, x", "JSON parse error, y"),
            Some(true)
        );
        assert_eq!(json_detail_matches("other", "other"), None);
    }
}
