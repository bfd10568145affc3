//! The `ranges` target: `RangeMap` operation sequences against a naive
//! model, compared after every step.

use arbitrary::Arbitrary;
use vnuma_ranges::{Range, RangeMap};

/// One operation. Addresses are small or near the top of the 64-bit space
/// so that overlaps, adjacency and the 2^64 end are frequent.
#[derive(Arbitrary, Clone, Debug)]
pub enum Op {
    /// Insert `[start, start + len)` with a value.
    Insert {
        /// Start.
        start: Addr,
        /// Length (0 is an invalid range).
        len: u8,
        /// Value.
        value: u8,
    },
    /// Remove exactly `[start, start + len)`.
    Remove {
        /// Start.
        start: Addr,
        /// Length.
        len: u8,
    },
    /// Look an address up.
    Get(Addr),
    /// The gaps within `[start, start + len)`.
    Gaps {
        /// Start.
        start: Addr,
        /// Length.
        len: u8,
    },
    /// The ranges of a value.
    RangesOf(u8),
}

/// An address: low (`0..=255`) or high (`2^64 - 256 ..`).
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Addr {
    /// `n`.
    Low(u8),
    /// `u64::MAX - n`.
    High(u8),
}

impl Addr {
    fn get(self) -> u64 {
        match self {
            Addr::Low(n) => n.into(),
            Addr::High(n) => u64::MAX - u64::from(n),
        }
    }
}

fn range(start: Addr, len: u8) -> Option<Range> {
    Range::from_start_len(start.get(), len.into()).ok()
}

/// Run the operations against `RangeMap` and a `Vec` model.
pub fn check(ops: &[Op]) {
    let mut map: RangeMap<u8> = RangeMap::new();
    let mut model: Vec<(u64, u64, u8)> = Vec::new(); // (start, last, value)
    for op in ops {
        match *op {
            Op::Insert { start, len, value } => {
                let Some(r) = range(start, len) else { continue };
                let overlaps = model
                    .iter()
                    .any(|&(s, l, _)| s <= r.last() && r.start() <= l);
                let result = map.insert(r, value);
                assert_eq!(result.is_err(), overlaps, "insert {r} into {map:?}");
                if !overlaps {
                    model.push((r.start(), r.last(), value));
                    model.sort_unstable();
                }
            }
            Op::Remove { start, len } => {
                let Some(r) = range(start, len) else { continue };
                let pos = model
                    .iter()
                    .position(|&(s, l, _)| s == r.start() && l == r.last());
                let got = map.remove(r);
                assert_eq!(got, pos.map(|i| model.remove(i).2), "remove {r}");
            }
            Op::Get(a) => {
                let addr = a.get();
                let want = model
                    .iter()
                    .find(|&&(s, l, _)| s <= addr && addr <= l)
                    .map(|e| e.2);
                assert_eq!(map.get(addr).copied(), want, "get {addr:#x}");
            }
            Op::Gaps { start, len } => {
                let Some(w) = range(start, len) else { continue };
                let mut want = Vec::new();
                let mut cursor = Some(w.start());
                for &(s, l, _) in &model {
                    let Some(c) = cursor else { break };
                    if l < c || s > w.last() {
                        continue;
                    }
                    if s > c {
                        want.push((c, s - 1));
                    }
                    cursor = l.checked_add(1);
                }
                if let Some(c) = cursor {
                    if c <= w.last() {
                        want.push((c, w.last()));
                    }
                }
                let got: Vec<(u64, u64)> = map.gaps(w).map(|r| (r.start(), r.last())).collect();
                assert_eq!(got, want, "gaps in {w}");
            }
            Op::RangesOf(v) => {
                let want: Vec<(u64, u64)> = model
                    .iter()
                    .filter(|e| e.2 == v)
                    .map(|e| (e.0, e.1))
                    .collect();
                let got: Vec<(u64, u64)> =
                    map.ranges_of(&v).map(|r| (r.start(), r.last())).collect();
                assert_eq!(got, want);
            }
        }
        let got: Vec<(u64, u64, u8)> = map.iter().map(|(r, v)| (r.start(), r.last(), *v)).collect();
        assert_eq!(got, model);
    }
}
