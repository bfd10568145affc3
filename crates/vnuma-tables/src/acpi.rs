//! The ACPI table header every table starts with, checksums, and splitting
//! a blob of concatenated tables (such as QEMU's `etc/acpi/tables`).

use alloc::vec::Vec;

use crate::bytes::{Bytes, Put};
use crate::Error;

/// Length of the standard ACPI table header.
pub const HEADER_LEN: usize = 36;

/// The identification fields of an ACPI table header.
///
/// [`Oem::default`] is what QEMU 7.2 writes on x86 (`pc`, `q35`): OEM id
/// `"BOCHS "`, OEM table id `"BXPC    "`, OEM revision 1, creator id
/// `"BXPC"`, creator revision 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Oem {
    /// OEM id (6 bytes).
    pub oem_id: [u8; 6],
    /// OEM table id (8 bytes).
    pub oem_table_id: [u8; 8],
    /// OEM revision.
    pub oem_revision: u32,
    /// Creator (ASL compiler) id.
    pub creator_id: [u8; 4],
    /// Creator (ASL compiler) revision.
    pub creator_revision: u32,
}

impl Default for Oem {
    fn default() -> Self {
        Oem {
            oem_id: *b"BOCHS ",
            oem_table_id: *b"BXPC    ",
            oem_revision: 1,
            creator_id: *b"BXPC",
            creator_revision: 1,
        }
    }
}

impl Oem {
    /// QEMU's values with the OEM id and OEM table id replaced, as
    /// `-machine x-oem-id=,x-oem-table-id=` does: the text is cut to 6 and
    /// 8 bytes and padded with NUL bytes (QEMU rejects longer values; this
    /// function never fails).
    pub fn with_ids(oem_id: &str, oem_table_id: &str) -> Oem {
        Oem {
            oem_id: padded(oem_id.as_bytes()),
            oem_table_id: padded(oem_table_id.as_bytes()),
            ..Oem::default()
        }
    }
}

fn padded<const N: usize>(s: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    for (o, b) in out.iter_mut().zip(s) {
        *o = *b;
    }
    out
}

/// A parsed ACPI table header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TableHeader {
    /// Signature (`SRAT`, `SLIT`, `HMAT`, ...).
    pub signature: [u8; 4],
    /// Length of the whole table in bytes.
    pub length: u32,
    /// Table revision.
    pub revision: u8,
    /// The checksum byte as stored.
    pub checksum: u8,
    /// Identification fields.
    pub oem: Oem,
}

impl TableHeader {
    /// Read the header at the start of `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<TableHeader, Error> {
        let b = Bytes(bytes);
        let short = || Error::Truncated {
            table: "ACPI",
            offset: 0,
            need: HEADER_LEN,
            have: bytes.len(),
        };
        Ok(TableHeader {
            signature: b.array(0).ok_or_else(short)?,
            length: b.u32(4).ok_or_else(short)?,
            revision: b.u8(8).ok_or_else(short)?,
            checksum: b.u8(9).ok_or_else(short)?,
            oem: Oem {
                oem_id: b.array(10).ok_or_else(short)?,
                oem_table_id: b.array(16).ok_or_else(short)?,
                oem_revision: b.u32(24).ok_or_else(short)?,
                creator_id: b.array(28).ok_or_else(short)?,
                creator_revision: b.u32(32).ok_or_else(short)?,
            },
        })
    }
}

/// The byte that makes `bytes` sum to zero, computed with the checksum
/// byte (offset 9) taken as zero.
pub fn checksum(bytes: &[u8]) -> u8 {
    let sum = bytes
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != 9)
        .fold(0u8, |acc, (_, &b)| acc.wrapping_add(b));
    0u8.wrapping_sub(sum)
}

/// Whether all bytes of a table sum to zero modulo 256 (a valid checksum).
///
/// QEMU leaves the checksum of the tables in `etc/acpi/tables` at 0 for the
/// firmware to fill in, so such tables are not valid here until then.
pub fn checksum_valid(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |acc, &b| acc.wrapping_add(b)) == 0
}

/// Set the checksum byte of a complete table (no-op if it is shorter than
/// a header).
pub fn fix_checksum(table: &mut [u8]) {
    if table.len() >= HEADER_LEN {
        table[9] = checksum(table);
    }
}

/// Wrap `body` in a header: signature, length, revision, `oem`, and a
/// correct checksum.
pub(crate) fn encode(
    signature: &'static str,
    revision: u8,
    oem: &Oem,
    body: &[u8],
) -> Result<Vec<u8>, Error> {
    let total = body.len() as u64 + HEADER_LEN as u64;
    let length = u32::try_from(total).map_err(|_| Error::TableTooLarge {
        table: signature,
        len: total,
    })?;
    let mut out = Vec::with_capacity(total as usize);
    out.extend_from_slice(signature.as_bytes());
    out.put_u32(length);
    out.put_u8(revision);
    out.put_u8(0);
    out.extend_from_slice(&oem.oem_id);
    out.extend_from_slice(&oem.oem_table_id);
    out.put_u32(oem.oem_revision);
    out.extend_from_slice(&oem.creator_id);
    out.put_u32(oem.creator_revision);
    out.extend_from_slice(body);
    fix_checksum(&mut out);
    Ok(out)
}

/// Check the header of a table to be parsed: the signature and the length
/// field against the bytes given. Returns the header and the body.
pub(crate) fn open<'a>(
    signature: &'static str,
    bytes: &'a [u8],
) -> Result<(TableHeader, &'a [u8]), Error> {
    let header = TableHeader::parse(bytes)?;
    if header.signature != signature.as_bytes() {
        return Err(Error::Signature {
            expected: signature,
            found: header.signature,
        });
    }
    if header.length as usize != bytes.len() {
        return Err(Error::Length {
            table: signature,
            header: header.length,
            actual: bytes.len(),
        });
    }
    Ok((header, &bytes[HEADER_LEN..]))
}

/// The tables of a blob of concatenated ACPI tables, in order: each is
/// its signature and its bytes (header included). A `FACS` (no standard
/// header; length at offset 4) is handled like the others. Iteration stops
/// at the first zero signature, length below 8 or table running past the
/// end, so trailing padding is skipped.
///
/// ```
/// # use vnuma_tables::acpi::split_tables;
/// let mut blob = vec![0u8; 64];
/// blob[..4].copy_from_slice(b"FACS");
/// blob[4] = 64;
/// blob.extend_from_slice(&[0; 100]); // padding
/// let sigs: Vec<_> = split_tables(&blob).map(|(s, _)| s).collect();
/// assert_eq!(sigs, [*b"FACS"]);
/// ```
pub fn split_tables(blob: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> + '_ {
    let mut off = 0usize;
    core::iter::from_fn(move || {
        let b = Bytes(blob);
        let sig: [u8; 4] = b.array(off)?;
        let len = b.u32(off + 4)? as usize;
        if sig == [0; 4] || len < 8 {
            return None;
        }
        let table = b.slice(off, len)?;
        off += len;
        Some((sig, table))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums() {
        let mut t = encode("TEST", 3, &Oem::default(), &[1, 2, 3]).unwrap();
        assert!(checksum_valid(&t));
        assert_eq!(t.len(), HEADER_LEN + 3);
        assert_eq!(&t[10..36], b"BOCHS BXPC    \x01\0\0\0BXPC\x01\0\0\0");
        let sum = t[9];
        t[9] = 0;
        assert_eq!(checksum(&t), sum);
        fix_checksum(&mut t);
        assert_eq!(t[9], sum);
        let mut short = [1u8; 10];
        fix_checksum(&mut short);
        assert_eq!(short, [1; 10]);
    }

    #[test]
    fn split_stops_at_padding_and_overruns() {
        let a = encode("AAAA", 1, &Oem::default(), &[]).unwrap();
        let b = encode("BBBB", 1, &Oem::default(), &[7; 5]).unwrap();
        let mut blob = [a.clone(), b.clone(), alloc::vec![0; 64]].concat();
        let got: Vec<_> = split_tables(&blob).collect();
        assert_eq!(got, [(*b"AAAA", &a[..]), (*b"BBBB", &b[..])]);
        // A length running past the end stops the walk.
        blob[a.len() + 4] = 0xff;
        assert_eq!(split_tables(&blob).count(), 1);
    }
}
