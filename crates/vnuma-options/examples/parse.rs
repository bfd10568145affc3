//! Read a QEMU-style command line and print what vnuma-options makes of
//! it: the typed options in canonical syntax, warnings, or QEMU's error.
//!
//! ```text
//! cargo run -p vnuma-options --example parse -- \
//!     -m 2G -object memory-backend-ram,id=m0,size=2G -numa node,memdev=m0,cpus=0-3
//! ```

use std::process::ExitCode;

use vnuma_options::CommandLine;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = if args.is_empty() {
        println!("(no arguments given: using an example configuration)");
        [
            "-machine",
            "q35",
            "-m",
            "4G",
            "-smp",
            "4,sockets=2",
            "-object",
            "memory-backend-ram,id=m0,size=2G",
            "-object",
            "memory-backend-ram,id=m1,size=2G,policy=bind,host-nodes=0",
            "-numa",
            "node,nodeid=0,memdev=m0",
            "-numa",
            "node,nodeid=1,memdev=m1",
            "-numa",
            "dist,src=0,dst=1,val=21",
        ]
        .map(String::from)
        .to_vec()
    } else {
        args
    };
    let report = |e: vnuma_options::Error| {
        eprintln!("vnuma: {}", e.display_qemu());
        if let Some(hint) = e.hint() {
            eprintln!("{hint}");
        }
        ExitCode::FAILURE
    };
    let cl = match CommandLine::parse(&args) {
        Ok(cl) => cl,
        Err(e) => return report(e),
    };
    for w in cl.warnings() {
        eprintln!("vnuma: {}", w.display_qemu());
    }
    if let Err(e) = cl.check() {
        return report(e);
    }
    match cl.to_args() {
        Ok(canonical) => {
            for pair in canonical.chunks(2) {
                println!("{}", pair.join(" "));
            }
            ExitCode::SUCCESS
        }
        Err(e) => report(e),
    }
}
