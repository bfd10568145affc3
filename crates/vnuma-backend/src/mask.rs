//! Sets of host nodes and CPUs that reach the kernel (`mbind` node masks,
//! `sched_setaffinity` CPU masks): `bitvec` bitsets sized from the host
//! and bounds-checked, behind one crate-private type so that the
//! representation can change.

use bitvec::prelude::{BitVec, Lsb0};

/// Linux's largest `MAX_NUMNODES` (`CONFIG_NODES_SHIFT` = 10).
pub(crate) const MAX_NODES: usize = 1024;

/// Linux's largest `NR_CPUS` (`CONFIG_MAXSMP`).
pub(crate) const MAX_CPUS: usize = 8192;

/// A bounded set of ids, stored as the kernel's array of `unsigned long`
/// words (64-bit little-endian bit order, as `Lsb0` over `u64`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct IdSet(BitVec<u64, Lsb0>);

/// An id at or past the set's size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OutOfRange;

impl IdSet {
    /// An empty set of room for ids `0..len` (rounded up to whole
    /// words), `len` at most `limit`.
    pub(crate) fn with_room(len: usize, limit: usize) -> IdSet {
        let len = len.clamp(1, limit).next_multiple_of(64);
        IdSet(BitVec::repeat(false, len))
    }

    /// Add `id`, or `OutOfRange` (the set is unchanged).
    pub(crate) fn insert(&mut self, id: usize) -> Result<(), OutOfRange> {
        match self.0.get_mut(id) {
            Some(mut bit) => {
                *bit = true;
                Ok(())
            }
            None => Err(OutOfRange),
        }
    }

    /// Whether no id is in the set.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.not_any()
    }

    /// The kernel's words.
    pub(crate) fn words(&self) -> &[u64] {
        self.0.as_raw_slice()
    }

    /// Room, in bits.
    #[cfg(test)]
    pub(crate) fn bits(&self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sized_and_bounded() {
        let mut s = IdSet::with_room(3, MAX_NODES);
        assert_eq!(s.bits(), 64);
        assert!(s.is_empty());
        s.insert(0).unwrap();
        s.insert(63).unwrap();
        assert_eq!(s.insert(64), Err(OutOfRange));
        assert_eq!(s.words(), [1 | 1 << 63]);
        let mut big = IdSet::with_room(usize::MAX, MAX_CPUS);
        assert_eq!(big.bits(), MAX_CPUS);
        big.insert(MAX_CPUS - 1).unwrap();
        assert_eq!(big.insert(MAX_CPUS), Err(OutOfRange));
        assert_eq!(big.insert(u32::MAX as usize), Err(OutOfRange));
        assert_eq!(big.words().len(), MAX_CPUS / 64);
        assert_eq!(big.words()[MAX_CPUS / 64 - 1], 1 << 63);
    }
}
