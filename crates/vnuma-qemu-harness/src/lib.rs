//! Tooling that holds vnuma against QEMU 7.2, written once for the golden
//! tests, `cargo xtask qemu-diff` and `cargo xtask bench`:
//!
//! * [`qmp`]: a QMP client (QEMU started with `-S -nodefaults -display
//!   none`, QMP on a unix socket; handshake, commands, HMP, `qom-get`,
//!   clean exit, time limits);
//! * [`qtest`]: a qtest client and the fw_cfg reads of `etc/acpi/tables`;
//! * [`fdt`]: a device-tree reader and the tree's NUMA nodes in a
//!   comparable form (the virt corpus);
//! * [`corpus`]: the golden corpora, `cases.txt` and `golden.jsonl`
//!   ([`Case`] is a command line with what QEMU answered);
//! * [`capture`]: QEMU's answers in the corpora's record formats (what
//!   `cargo xtask qemu-diff --update` writes);
//! * [`deviation`]: where vnuma differs from QEMU on purpose, per corpus,
//!   and how QEMU's stderr is read;
//! * [`generate`]: random plausible command lines;
//! * [`json`]: JSON that keeps member order, written as Python writes it.
//!
//! It depends on no vnuma crate (their golden tests dev-depend on it);
//! comparing with vnuma's answers is left to the tests and to xtask.
//!
//! ```
//! use vnuma_qemu_harness::corpus::{parse_golden, Corpus, QmpAnswer};
//! use vnuma_qemu_harness::deviation::{deviation, qemu_error};
//!
//! let golden = r#"{"id": "machine-none", "args": ["-M", "none"], "exit": 1, "accepted": false, "stderr": ["qemu: oops"], "info_numa": null, "memdevs": null, "slots": null}"#;
//! let cases = parse_golden::<QmpAnswer>(golden)?;
//! let case = &cases[0];
//! assert_eq!(qemu_error(&case.answer.stderr).as_deref(), Some("oops"));
//! let why = deviation(Corpus::Topology, &case.args, &case.answer.stderr, case.answer.exit);
//! assert_eq!(why, Some("vnuma models the pc and q35 machine types only"));
//! # Ok::<(), vnuma_qemu_harness::Error>(())
//! ```

#![forbid(unsafe_code)]

pub mod capture;
pub mod corpus;
pub mod deviation;
pub mod fdt;
pub mod generate;
pub mod json;
pub mod qmp;
pub mod qtest;

pub use corpus::{Case, Corpus, Target};

/// What went wrong, as a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(String);

impl Error {
    /// An error with `message`.
    pub fn new(message: impl Into<String>) -> Error {
        Error(message.into())
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<Error> for String {
    fn from(e: Error) -> String {
        e.0
    }
}
