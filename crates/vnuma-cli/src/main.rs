//! `vnuma [OPTIONS] [QEMU-STYLE ARGS...]`: read a QEMU command line's NUMA
//! configuration, check it with QEMU 10.0's rules (or 7.2's,
//! `--qemu-version 7.2`), and show what the guest gets. See `vnuma --help`.

use std::io::Write;
use std::process::ExitCode;

use vnuma::options::CommandLine;
use vnuma::{Error, Rejection, Vm};

const HELP: &str = "\
vnuma: check and explain a QEMU guest NUMA configuration

usage: vnuma [--qemu-version 7.2|10.0] [--arch x86_64|aarch64] [--json] [--allocate] [--acpi-dir DIR] [--dtb FILE]
             [QEMU-STYLE ARGS...]
       vnuma --help | --version

Reads the QEMU options that shape guest NUMA (-numa, -object memory-backend-*,
-m, -smp, -machine/-M, -mem-path, -mem-prealloc), checks them exactly as
QEMU 10.0 does (or 7.2, --qemu-version 7.2), and prints what the guest gets: `info numa`, the guest-physical
ranges of each node, the distances, and QEMU's warnings. A pasted QEMU command
line works: options that do not concern NUMA are ignored.

options:
  --qemu-version 7.2|10.0
              answer as this QEMU release does (default: 10.0): its
              machine types, checks, messages and warnings
  --arch x86_64|aarch64
              the guest architecture: which qemu-system-* binary's boards
              and rules (default: aarch64 when the machine type is virt or
              virt-X.Y (-M virt, -machine virt...), else x86_64). aarch64
              is QEMU's virt board and answers as QEMU 7.2 (the default
              there; QEMU 10.0's virt is not modelled); --dtb writes the
              NUMA nodes of the tree QEMU's virt hands the guest
  --json      one JSON object on stdout (accepted: the whole configuration;
              rejected: the error, its location and the warnings; both
              with qemu_version, the release answered for, and arch)
  --allocate  also allocate the guest's RAM on this host as QEMU would
              (backends, host-node binding, preallocation), report it, and
              free it again. A check, never destructive: files vnuma
              creates for mem-path are removed again, discard-data is
              never applied, and backends on existing files are not
              mapped at all (planned and checked only; a dry run)
  --allocate-existing
              --allocate, and map and preallocate existing mem-path files
              too (their data is left as it is; a running VM's shared
              memory may still be disturbed by preallocation)
  --acpi-dir DIR
              write the ACPI tables QEMU would build for the guest
              (SRAT.dat, and SLIT.dat / HMAT.dat when it builds them) to DIR
  --dtb FILE  write a device-tree blob with the guest's NUMA nodes
  --cmdline LINE
              a whole QEMU command line as one string (quotes and
              backslashes as in a shell; the program name is dropped)
  --help      this text
  --version   the version

exit status: 0 accepted, 1 rejected, 2 usage error (an argument that is not
UTF-8 included), 3 output could not be written, 130/143 interrupted by
SIGINT/SIGTERM during --allocate (memory freed, created files removed).

examples:
  vnuma -M q35 -m 4G -smp 4,sockets=2 \\
        -object memory-backend-ram,id=m0,size=2G \\
        -object memory-backend-ram,id=m1,size=2G \\
        -numa node,nodeid=0,memdev=m0 -numa node,nodeid=1,memdev=m1 \\
        -numa dist,src=0,dst=1,val=21
  vnuma --json -m 1G -numa node,mem=512M -numa node,mem=512M
";

fn human_size(bytes: u128) -> String {
    const UNITS: [(u32, &str); 5] = [
        (50, "PiB"),
        (40, "TiB"),
        (30, "GiB"),
        (20, "MiB"),
        (10, "KiB"),
    ];
    for (shift, unit) in UNITS {
        if bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return format!("{} {unit}", bytes >> shift);
        }
    }
    for (shift, unit) in UNITS {
        if bytes >= 1 << shift {
            return format!("{:.1} {unit}", bytes as f64 / (1u128 << shift) as f64);
        }
    }
    format!("{bytes} B")
}

/// The person-readable report.
fn text(vm: &Vm) -> String {
    let t = vm.topology();
    let mut s = vm.info_numa();
    let ranges: Vec<_> = vm.layout().ranges().collect();
    if !ranges.is_empty() {
        s.push_str("\nguest-physical memory:\n");
        for (r, owner) in ranges {
            let label = if t.nodes().is_empty() {
                "ram".to_string()
            } else {
                format!("node {}", owner.node())
            };
            let kind = match owner {
                vnuma::topology::layout::Owner::Boot(_) => "",
                vnuma::topology::layout::Owner::Dimm(_) => " (dimm)",
            };
            s.push_str(&format!(
                "  {label:<8} 0x{:016x}-0x{:016x}  {}{kind}\n",
                r.start(),
                r.last(),
                human_size(r.size())
            ));
        }
    }
    if let Some(w) = vm.layout().device_memory() {
        s.push_str(&format!(
            "  hotplug  0x{:016x}-0x{:016x}  {}\n",
            w.start(),
            w.last(),
            human_size(w.size())
        ));
    }
    if let Some(d) = t.distances() {
        let n = t.nodes().len();
        s.push_str("\ndistances:\n     ");
        for b in 0..n {
            s.push_str(&format!("{b:>4}"));
        }
        s.push('\n');
        for a in 0..n {
            s.push_str(&format!("  {a:>3}"));
            for b in 0..n {
                s.push_str(&format!("{:>4}", d[a * n + b]));
            }
            s.push('\n');
        }
    }
    s
}

/// `vnuma: {location}: {message}`, a caret line under the offending bytes,
/// and QEMU's hint (the facade's renderer).
fn print_error(e: &Error) {
    let _ = write!(
        std::io::stderr().lock(),
        "{}",
        vnuma::render_error(e, "vnuma")
    );
}

/// `--acpi-dir` and `--dtb`.
fn write_outputs(
    vm: &Vm,
    acpi_dir: Option<&std::path::Path>,
    dtb: Option<&std::path::Path>,
) -> Result<(), String> {
    if let Some(dir) = acpi_dir {
        if !vm.topology().acpi() {
            eprintln!("vnuma: ACPI is off (-no-acpi or -machine acpi=off): no ACPI tables written");
        }
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if let Some(tables) = vm.acpi_tables().map_err(|e| e.to_string())? {
            for (signature, bytes) in tables.iter() {
                let path = dir.join(format!("{signature}.dat"));
                std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
    }
    if let Some(path) = dtb {
        let blob = vm.dtb().map_err(|e| e.to_string())?;
        std::fs::write(path, blob).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// A line on stderr; a failing stderr is ignored (there is nowhere left
/// to say so), never a panic.
fn err_line(line: std::fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(line);
    let _ = err.write_all(b"\n");
}

/// Exit status when stdout cannot be written (a closed pipe, a full
/// disk).
const OUTPUT_FAILED: u8 = 3;

/// Write `text` to stdout; on failure (EPIPE, ENOSPC, ...) say so on
/// stderr and give the exit status.
fn out(text: &str) -> Result<(), ExitCode> {
    let mut o = std::io::stdout().lock();
    o.write_all(text.as_bytes())
        .and_then(|()| o.flush())
        .map_err(|e| {
            err_line(format_args!("vnuma: cannot write output: {e}"));
            ExitCode::from(OUTPUT_FAILED)
        })
}

/// At most this many warnings are printed in full for one option; QEMU
/// prints every one with the whole option, which for an argument of
/// 10^5 short-form flags is gigabytes of output.
const WARNINGS_PER_OPTION: usize = 8;

/// The topology's warnings as QEMU prints them, the first
/// [`WARNINGS_PER_OPTION`] of each option in full, then one line with
/// the count of the others.
fn print_warnings(vm: &Vm) {
    let mut shown: std::collections::BTreeMap<usize, usize> = Default::default();
    let mut hidden: std::collections::BTreeMap<usize, (String, usize)> = Default::default();
    for w in vm.topology().warnings() {
        if let Some(loc) = w.location() {
            let n = shown.entry(loc.index()).or_default();
            if *n >= WARNINGS_PER_OPTION {
                hidden
                    .entry(loc.index())
                    .or_insert((loc.option().to_string(), 0))
                    .1 += 1;
                continue;
            }
            *n += 1;
        }
        err_line(format_args!("vnuma: {}", w.display_qemu()));
        if let Some(hint) = w.hint() {
            err_line(format_args!("{hint}"));
        }
    }
    for (index, (option, n)) in hidden {
        err_line(format_args!(
            "vnuma: {option} (argument {}): {n} more warnings not shown",
            index + 1
        ));
    }
}

/// Exit status for a run ended by `signal` (130 for SIGINT, 143 for
/// SIGTERM).
fn signal_exit(signal: i32) -> ExitCode {
    let name = if signal == 2 { "SIGINT" } else { "SIGTERM" };
    err_line(format_args!(
        "vnuma: interrupted by {name}: preallocation stopped, memory freed, files vnuma created removed"
    ));
    ExitCode::from(u8::try_from(128 + signal).unwrap_or(1))
}

/// aarch64 when the machine type is `virt` or `virt-X.Y`, else x86_64.
fn inferred_target(cl: Option<&CommandLine>) -> vnuma::topology::Target {
    match cl.and_then(CommandLine::machine_type) {
        Some(t) if t == "virt" || t.starts_with("virt-") => vnuma::topology::Target::Aarch64,
        _ => vnuma::topology::Target::X86_64,
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(code) | Err(code) => code,
    }
}

fn run() -> Result<ExitCode, ExitCode> {
    let mut json = false;
    let mut allocate = false;
    let mut allocate_existing = false;
    let mut acpi_dir: Option<std::path::PathBuf> = None;
    let mut dtb: Option<std::path::PathBuf> = None;
    let mut qemu_args: Vec<String> = Vec::new();
    let mut profile = vnuma::topology::Profile::Qemu100;
    let mut profile_given = false;
    let mut target: Option<vnuma::topology::Target> = None;
    let mut argv = std::env::args_os().skip(1).enumerate();
    while let Some((n, arg)) = argv.next() {
        if let Some(flag @ ("--acpi-dir" | "--dtb")) = arg.to_str() {
            let Some((_, path)) = argv.next() else {
                err_line(format_args!(
                    "vnuma: {flag} needs a path (see vnuma --help)"
                ));
                return Ok(ExitCode::from(2));
            };
            // Paths may be any bytes.
            if flag == "--dtb" {
                dtb = Some(path.into());
            } else {
                acpi_dir = Some(path.into());
            }
            continue;
        }
        let arg = match arg.into_string() {
            Ok(a) => a,
            Err(raw) => {
                err_line(format_args!(
                    "vnuma: argument {} is not valid UTF-8: {}",
                    n + 1,
                    raw.to_string_lossy().escape_debug()
                ));
                return Ok(ExitCode::from(2));
            }
        };
        match arg.as_str() {
            "--cmdline" => {
                // A pasted QEMU command line, split as a shell would.
                let Some((_, line)) = argv.next() else {
                    err_line(format_args!(
                        "vnuma: --cmdline needs a command line (see vnuma --help)"
                    ));
                    return Ok(ExitCode::from(2));
                };
                let Some(line) = line.to_str() else {
                    err_line(format_args!("vnuma: --cmdline: not valid UTF-8"));
                    return Ok(ExitCode::from(2));
                };
                match vnuma::qemu_args_from_pasted(line) {
                    Ok(args) => qemu_args.extend(args),
                    Err(e) => {
                        err_line(format_args!("vnuma: --cmdline: {e}"));
                        return Ok(ExitCode::from(2));
                    }
                }
            }
            "--qemu-version" => {
                let version = argv.next().map(|(_, v)| v);
                match version.as_ref().and_then(|v| v.to_str()).map(str::parse) {
                    Some(Ok(p)) => {
                        profile = p;
                        profile_given = true;
                    }
                    _ => {
                        err_line(format_args!(
                            "vnuma: --qemu-version needs 7.2 or 10.0 (see vnuma --help)"
                        ));
                        return Ok(ExitCode::from(2));
                    }
                }
            }
            "--arch" => {
                let arch = argv.next().map(|(_, v)| v);
                match arch.as_ref().and_then(|v| v.to_str()).map(str::parse) {
                    Some(Ok(t)) => target = Some(t),
                    _ => {
                        err_line(format_args!(
                            "vnuma: --arch needs x86_64 or aarch64 (see vnuma --help)"
                        ));
                        return Ok(ExitCode::from(2));
                    }
                }
            }
            "--json" => json = true,
            "--allocate" => allocate = true,
            "--allocate-existing" => {
                allocate = true;
                allocate_existing = true;
            }
            "--help" | "-h" => {
                out(HELP)?;
                return Ok(ExitCode::SUCCESS);
            }
            "--version" | "-V" => {
                out(&format!("vnuma {}\n", env!("CARGO_PKG_VERSION")))?;
                return Ok(ExitCode::SUCCESS);
            }
            _ => qemu_args.push(arg),
        }
    }

    let target =
        target.unwrap_or_else(|| inferred_target(CommandLine::parse(&qemu_args).ok().as_ref()));
    if target == vnuma::topology::Target::Aarch64 && !profile_given {
        // Only QEMU 7.2's virt is modelled.
        profile = vnuma::topology::Profile::Qemu72;
    }
    let parsed = CommandLine::parse_with(&qemu_args, profile.syntax()).map_err(Error::from);
    let warnings: Vec<String> = match &parsed {
        Ok(cl) => cl.warnings().iter().map(ToString::to_string).collect(),
        Err(_) => Vec::new(),
    };
    let reject = |e: &Error, warnings: Vec<String>| -> Result<ExitCode, ExitCode> {
        if json {
            let rejection = Rejection::new(e, warnings)
                .for_qemu(profile)
                .for_target(target);
            out(&format!("{}\n", rejection.to_json()))?;
        } else {
            print_error(e);
        }
        Ok(ExitCode::FAILURE)
    };
    // Backends are checked against this host where QEMU creates them (read
    // only; nothing is mapped without --allocate).
    let host = vnuma::backend::HostInfo::probe();
    let config = vnuma::topology::Config {
        firmware: vnuma::topology::virt::has_firmware(&qemu_args),
        ..vnuma::topology::Config::qemu_target(profile, target)
    };
    let vm = match parsed.and_then(|cl| Vm::with_host_checks(cl, &config, &host)) {
        Ok(vm) => vm,
        Err(e) => return reject(&e, warnings),
    };
    let mut not_allocated = Vec::new();
    let allocation = if allocate {
        // SIGINT/SIGTERM stop preallocation; everything is freed and the
        // files vnuma created are removed before the exit.
        let cancel = vnuma::backend::cancel_on_signals().ok();
        let plan = match vm.plan_ram(&vnuma::backend::HostInfo::probe()) {
            Ok(p) => p,
            Err(e) => return reject(&e, warnings),
        };
        for b in plan.backends() {
            if let vnuma::backend::Source::File {
                path,
                open: vnuma::backend::FileOpen::Existing { .. },
                ..
            } = b.source()
            {
                not_allocated.push(format!(
                    "memory backend '{}' uses the existing file {}",
                    b.id(),
                    path.display()
                ));
            }
        }
        if !not_allocated.is_empty() && !allocate_existing {
            None
        } else {
            // A check: never discard data, never leave a file behind.
            let mut opts = vnuma::backend::AllocOptions::new()
                .discard_data(false)
                .keep_created_files(false);
            if let Some(flag) = cancel {
                opts = opts.cancel_flag(flag);
            }
            not_allocated.clear();
            let start = std::time::Instant::now();
            let result = vnuma::backend::GuestRam::allocate(&plan, opts);
            if let Some(sig) = vnuma::backend::cancel_signal() {
                drop(result);
                return Err(signal_exit(sig));
            }
            match result {
                Ok(ram) => Some((ram, start.elapsed())),
                Err(e) => return reject(&Error::from(e), warnings),
            }
        }
    } else {
        None
    };
    if let Err(e) = write_outputs(&vm, acpi_dir.as_deref(), dtb.as_deref()) {
        err_line(format_args!("vnuma: {e}"));
        return Ok(ExitCode::FAILURE);
    }
    for what in &not_allocated {
        err_line(format_args!(
            "vnuma: not allocated: {what}; vnuma --allocate does not touch files it did not create (--allocate-existing maps them)"
        ));
    }
    if json {
        out(&format!("{}\n", vm.report().to_json()))?;
    } else {
        print_warnings(&vm);
        let mut text = text(&vm);
        if let Some((ram, took)) = &allocation {
            for w in ram.warnings() {
                err_line(format_args!("vnuma: warning: {w}"));
            }
            let pre = ram
                .backends()
                .iter()
                .filter(|b| b.is_preallocated())
                .count();
            text.push_str(&format!(
                "\nallocated {} in {} backend(s) in {:.3} s ({pre} preallocated)\n",
                human_size(ram.backends().iter().map(|b| b.len() as u128).sum()),
                ram.backends().len(),
                took.as_secs_f64()
            ));
        }
        out(&text)?;
    }
    drop(allocation);
    if let Some(sig) = vnuma::backend::cancel_signal() {
        return Err(signal_exit(sig));
    }
    Ok(ExitCode::SUCCESS)
}
