//! The crate's error type.

use alloc::string::String;

/// What went wrong building, encoding or parsing a table.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An encoded table would not fit the 32-bit length of an ACPI header.
    #[error("{table} would be {len} bytes, more than an ACPI table can hold")]
    TableTooLarge {
        /// The table's signature.
        table: &'static str,
        /// Its length in bytes.
        len: u64,
    },
    /// A structure holds more items than its count or length field can say.
    #[error("{table}: {what} has too many entries to encode")]
    TooManyEntries {
        /// The table's signature.
        table: &'static str,
        /// Which structure.
        what: &'static str,
    },
    /// The SLIT matrix is not `count × count` bytes.
    #[error("SLIT: {len} distances do not make a {count}x{count} matrix")]
    SlitShape {
        /// The locality count.
        count: u64,
        /// Bytes of the matrix.
        len: usize,
    },
    /// A latency/bandwidth structure whose entry count is not
    /// initiators × targets.
    #[error("HMAT: {entries} entries for {initiators} initiators and {targets} targets")]
    HmatShape {
        /// Initiator domains.
        initiators: usize,
        /// Target domains.
        targets: usize,
        /// Entries given.
        entries: usize,
    },
    /// Bytes too short for what they must hold.
    #[error("{table}: truncated at offset {offset} (need {need} bytes, have {have})")]
    Truncated {
        /// The table (or `"ACPI"` for a header).
        table: &'static str,
        /// Where the missing data starts.
        offset: usize,
        /// Bytes needed from there.
        need: usize,
        /// Bytes there are.
        have: usize,
    },
    /// The header's signature is not the expected one.
    #[error("expected a {expected} table, found signature {found:?}")]
    Signature {
        /// The signature wanted.
        expected: &'static str,
        /// The four bytes found.
        found: [u8; 4],
    },
    /// The header's length field disagrees with the bytes given.
    #[error("{table}: header says {header} bytes, {actual} given")]
    Length {
        /// The table.
        table: &'static str,
        /// The header's length field.
        header: u32,
        /// Bytes given.
        actual: usize,
    },
    /// A structure inside a table is malformed.
    #[error("{table}: bad structure at offset {offset}: {what}")]
    Structure {
        /// The table.
        table: &'static str,
        /// Byte offset of the structure from the start of the table.
        offset: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// [`crate::info::verify`]: the tables do not describe the topology.
    #[error("{table}: {what} differs from the topology (item {index})")]
    Mismatch {
        /// The table.
        table: &'static str,
        /// What differs.
        what: &'static str,
        /// The index of the first differing item, where that applies.
        index: usize,
    },
    /// The device-tree writer failed.
    #[error("device tree: {0}")]
    Fdt(String),
    /// A device of a node has a name that is no device handle, so no SRAT
    /// Generic Initiator entry can name it.
    #[error("node {node}: device '{device}' is neither a PCI address ([segment:]bus:device.function) nor acpi:HID:UID")]
    DeviceHandle {
        /// The node id.
        node: u32,
        /// The device name.
        device: String,
    },
}
