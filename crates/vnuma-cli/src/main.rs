//! `vnuma [OPTIONS] [QEMU-STYLE ARGS...]`: read a QEMU command line's NUMA
//! configuration, check it with QEMU 7.2's rules, and show what the guest
//! gets. See `vnuma --help`.

use std::io::Write;
use std::process::ExitCode;

use vnuma::options::CommandLine;
use vnuma::{Error, Rejection, Vm};

const HELP: &str = "\
vnuma: check and explain a QEMU guest NUMA configuration

usage: vnuma [--json] [--allocate] [--acpi-dir DIR] [--dtb FILE] [QEMU-STYLE ARGS...]
       vnuma --help | --version

Reads the QEMU options that shape guest NUMA (-numa, -object memory-backend-*,
-m, -smp, -machine/-M, -mem-path, -mem-prealloc), checks them exactly as
QEMU 7.2 does, and prints what the guest gets: `info numa`, the guest-physical
ranges of each node, the distances, and QEMU's warnings. A pasted QEMU command
line works: options that do not concern NUMA are ignored.

options:
  --json      one JSON object on stdout (accepted: the whole configuration;
              rejected: the error, its location and the warnings)
  --allocate  also allocate the guest's RAM on this host as QEMU would
              (backends, host-node binding, preallocation), report it, and
              free it again
  --acpi-dir DIR
              write the ACPI tables QEMU 7.2 would build for the guest
              (SRAT.dat, and SLIT.dat / HMAT.dat when it builds them) to DIR
  --dtb FILE  write a device-tree blob with the guest's NUMA nodes
  --cmdline LINE
              a whole QEMU command line as one string (quotes and
              backslashes as in a shell; the program name is dropped)
  --help      this text
  --version   the version

exit status: 0 accepted, 1 rejected, 2 usage error.

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

fn main() -> ExitCode {
    let mut json = false;
    let mut allocate = false;
    let mut acpi_dir: Option<std::path::PathBuf> = None;
    let mut dtb: Option<std::path::PathBuf> = None;
    let mut qemu_args: Vec<String> = Vec::new();
    let mut argv = std::env::args().skip(1);
    while let Some(arg) = argv.next() {
        match arg.as_str() {
            "--acpi-dir" | "--dtb" => {
                let Some(path) = argv.next() else {
                    eprintln!("vnuma: {arg} needs a path (see vnuma --help)");
                    return ExitCode::from(2);
                };
                if arg == "--dtb" {
                    dtb = Some(path.into());
                } else {
                    acpi_dir = Some(path.into());
                }
            }
            "--cmdline" => {
                // A pasted QEMU command line, split as a shell would.
                let Some(line) = argv.next() else {
                    eprintln!("vnuma: {arg} needs a command line (see vnuma --help)");
                    return ExitCode::from(2);
                };
                match vnuma::qemu_args_from_pasted(&line) {
                    Ok(args) => qemu_args.extend(args),
                    Err(e) => {
                        eprintln!("vnuma: --cmdline: {e}");
                        return ExitCode::from(2);
                    }
                }
            }
            "--json" => json = true,
            "--allocate" => allocate = true,
            "--help" | "-h" => {
                print!("{HELP}");
                return ExitCode::SUCCESS;
            }
            "--version" | "-V" => {
                println!("vnuma {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            _ => qemu_args.push(arg),
        }
    }

    let parsed = CommandLine::parse(&qemu_args).map_err(Error::from);
    let warnings: Vec<String> = match &parsed {
        Ok(cl) => cl.warnings().iter().map(ToString::to_string).collect(),
        Err(_) => Vec::new(),
    };
    match parsed.and_then(Vm::from_command_line) {
        Ok(vm) => {
            let allocation = if allocate {
                let start = std::time::Instant::now();
                match vm.allocate(vnuma::backend::AllocOptions::new()) {
                    Ok(ram) => Some((ram, start.elapsed())),
                    Err(e) => {
                        if json {
                            println!("{}", Rejection::new(&e, warnings).to_json());
                        } else {
                            print_error(&e);
                        }
                        return ExitCode::FAILURE;
                    }
                }
            } else {
                None
            };
            if let Err(e) = write_outputs(&vm, acpi_dir.as_deref(), dtb.as_deref()) {
                eprintln!("vnuma: {e}");
                return ExitCode::FAILURE;
            }
            if json {
                println!("{}", vm.report().to_json());
            } else {
                for w in vm.topology().warnings() {
                    eprintln!("vnuma: {}", w.display_qemu());
                    if let Some(hint) = w.hint() {
                        eprintln!("{hint}");
                    }
                }
                print!("{}", text(&vm));
                if let Some((ram, took)) = &allocation {
                    for w in ram.warnings() {
                        eprintln!("vnuma: warning: {w}");
                    }
                    let pre = ram
                        .backends()
                        .iter()
                        .filter(|b| b.is_preallocated())
                        .count();
                    println!(
                        "\nallocated {} in {} backend(s) in {:.3} s ({pre} preallocated)",
                        human_size(ram.backends().iter().map(|b| b.len() as u128).sum()),
                        ram.backends().len(),
                        took.as_secs_f64()
                    );
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            if json {
                println!("{}", Rejection::new(&e, warnings).to_json());
            } else {
                print_error(&e);
            }
            ExitCode::FAILURE
        }
    }
}
