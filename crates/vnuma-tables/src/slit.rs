//! SLIT, the System Locality Information Table: the node distance matrix.

use alloc::vec::Vec;

use vnuma_topology::Topology;

use crate::acpi::{self, Oem, TableHeader};
use crate::bytes::{Bytes, Put};
use crate::Error;

/// The signature.
pub const SIGNATURE: &str = "SLIT";
/// The revision QEMU writes.
pub const REVISION: u8 = 1;

/// The SLIT body: `count × count` distances, row-major.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Slit {
    /// Number of localities (nodes).
    pub count: u64,
    /// `matrix[i * count + j]` is the distance from `i` to `j`.
    pub matrix: Vec<u8>,
}

/// The distance of a locality that cannot be reached.
pub const UNREACHABLE: u8 = 255;

impl Slit {
    /// The SLIT of a topology: `None` unless distances were given
    /// (`-numa dist`), as QEMU builds it only then.
    ///
    /// SLIT rows and columns are proximity domains, so with sparse node
    /// ids the table covers `0..=highest id`: a domain that is no node is
    /// unreachable (255) from every other and 10 from itself (Linux skips
    /// localities that name no node). With ids `0..n` this is the
    /// topology's matrix as is.
    pub fn from_topology(t: &Topology) -> Option<Slit> {
        let matrix = t.distances()?;
        let nodes = t.nodes();
        let n = nodes.len();
        let count = nodes.last().map_or(0, |last| u64::from(last.id) + 1);
        if count == n as u64 {
            return Some(Slit {
                count,
                matrix: matrix.to_vec(),
            });
        }
        let size = usize::try_from(count).ok()?;
        let mut out = alloc::vec![UNREACHABLE; size.checked_mul(size)?];
        for i in 0..size {
            out[i * size + i] = 10;
        }
        for (pa, a) in nodes.iter().enumerate() {
            for (pb, b) in nodes.iter().enumerate() {
                out[a.id as usize * size + b.id as usize] = matrix[pa * n + pb];
            }
        }
        Some(Slit { count, matrix: out })
    }

    /// The distance from `a` to `b`.
    pub fn distance(&self, a: u64, b: u64) -> Option<u8> {
        if a >= self.count || b >= self.count {
            return None;
        }
        let i = a.checked_mul(self.count)?.checked_add(b)?;
        self.matrix.get(usize::try_from(i).ok()?).copied()
    }

    fn check_shape(&self) -> Result<(), Error> {
        let ok = self
            .count
            .checked_mul(self.count)
            .is_some_and(|n| n == self.matrix.len() as u64);
        if ok {
            Ok(())
        } else {
            Err(Error::SlitShape {
                count: self.count,
                len: self.matrix.len(),
            })
        }
    }

    /// Encode the whole table with a header and checksum.
    pub fn to_bytes(&self, oem: &Oem) -> Result<Vec<u8>, Error> {
        self.check_shape()?;
        let mut body = Vec::with_capacity(8 + self.matrix.len());
        body.put_u64(self.count);
        body.extend_from_slice(&self.matrix);
        acpi::encode(SIGNATURE, REVISION, oem, &body)
    }

    /// Parse a whole SLIT (header included). The checksum is not checked.
    pub fn parse(bytes: &[u8]) -> Result<(TableHeader, Slit), Error> {
        let (header, body) = acpi::open(SIGNATURE, bytes)?;
        let count = Bytes(body).u64(0).ok_or(Error::Truncated {
            table: SIGNATURE,
            offset: acpi::HEADER_LEN,
            need: 8,
            have: body.len(),
        })?;
        let slit = Slit {
            count,
            matrix: body[8..].to_vec(),
        };
        slit.check_shape().map_err(|_| Error::Structure {
            table: SIGNATURE,
            offset: acpi::HEADER_LEN,
            what: "the matrix is not count x count bytes",
        })?;
        Ok((header, slit))
    }
}
