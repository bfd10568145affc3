//! The `ranges` target: `RangeMap` operation sequences against a naive
//! model, compared after every step, and every `Range` constructor and
//! query against 128-bit arithmetic.

use arbitrary::Arbitrary;
use vnuma_ranges::{Range, RangeError, RangeMap};

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
    /// The entries overlapping `[start, start + len)`.
    Overlapping {
        /// Start.
        start: Addr,
        /// Length.
        len: u8,
    },
    /// Keep the entries whose value is not `v`, adding 1 to the others'.
    Retain(u8),
    /// Rebuild the map with `try_from_iter` from its entries in reverse
    /// order, plus an extra entry.
    Rebuild {
        /// Start of the extra entry.
        start: Addr,
        /// Length of the extra entry.
        len: u8,
    },
    /// Empty the map.
    Clear,
    /// Every `Range` constructor and query on these operands.
    Arith {
        /// A start.
        a: Addr,
        /// An end, last address or length.
        b: Addr,
        /// Another range's start.
        c: Addr,
        /// Another range's last address.
        d: Addr,
    },
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

/// Every constructor against its definition in 128-bit arithmetic, and
/// the queries of two ranges against their sets of addresses.
pub fn check_arith(a: u64, b: u64, c: u64, d: u64) {
    let top = 1u128 << 64;
    // new(start, end): [a, b).
    match Range::new(a, b) {
        Ok(r) => {
            assert!(a < b);
            assert_eq!(
                (r.start(), r.end(), r.size()),
                (a, Some(b), u128::from(b - a))
            );
            assert_eq!(Range::try_from(a..b), Ok(r));
            assert_eq!(r.to_string(), format!("[{a:#x}, {b:#x})"));
            assert_eq!(format!("{r:?}"), r.to_string());
        }
        Err(RangeError::Empty { start }) => assert!(a == b && start == a),
        Err(RangeError::Reversed { start, end }) => assert!(a > b && (start, end) == (a, b)),
        Err(e) => panic!("new({a:#x}, {b:#x}): {e}"),
    }
    // from_start_len(start, len).
    match Range::from_start_len(a, b) {
        Ok(r) => {
            assert_eq!(r.start(), a);
            assert_eq!(r.size(), u128::from(b));
            assert!(u128::from(a) + u128::from(b) <= top);
        }
        Err(RangeError::Empty { .. }) => assert_eq!(b, 0),
        Err(RangeError::Overflow { start, len }) => {
            assert_eq!((start, len), (a, b));
            assert!(u128::from(a) + u128::from(b) > top);
        }
        Err(e) => panic!("from_start_len({a:#x}, {b:#x}): {e}"),
    }
    // inclusive(start, last), to_top, and the queries of two ranges.
    let (Ok(r), Ok(s)) = (Range::inclusive(a, b), Range::inclusive(c, d)) else {
        assert!(a > b || c > d);
        if a > b {
            let e = Range::inclusive(a, b).unwrap_err();
            assert_eq!(e, RangeError::ReversedInclusive { start: a, last: b });
            assert!(!e.to_string().is_empty());
        }
        return;
    };
    assert_eq!((r.start(), r.last()), (a, b));
    assert_eq!(r.size(), u128::from(b - a) + 1);
    assert_eq!(r.end(), b.checked_add(1));
    let incl: core::ops::RangeInclusive<u64> = r.into();
    assert_eq!(incl, a..=b);
    if b == u64::MAX {
        assert_eq!(r, Range::to_top(a));
        assert!(r.to_string().ends_with("0x10000000000000000)"));
    }
    for addr in [c, d, a.wrapping_sub(1), b.wrapping_add(1)] {
        assert_eq!(r.contains(addr), a <= addr && addr <= b);
    }
    let overlap = a <= d && c <= b;
    assert_eq!(r.overlaps(&s), overlap);
    assert_eq!(s.overlaps(&r), overlap);
    let i = r.intersection(&s);
    assert_eq!(i, s.intersection(&r));
    match i {
        Some(i) => {
            assert!(overlap);
            assert_eq!((i.start(), i.last()), (a.max(c), b.min(d)));
        }
        None => assert!(!overlap),
    }
    assert_eq!(r.cmp(&s), (a, b).cmp(&(c, d)));
    // serde: `{ "start", "last" }`, reversed pairs refused.
    let json = serde_json::to_string(&r).expect("a range serializes");
    assert_eq!(json, format!("{{\"start\":{a},\"last\":{b}}}"));
    assert_eq!(serde_json::from_str::<Range>(&json).ok(), Some(r));
    let swapped = format!("{{\"start\":{b},\"last\":{a}}}");
    assert_eq!(serde_json::from_str::<Range>(&swapped).is_ok(), a == b);
    assert!(Range::FULL.intersection(&r) == Some(r));
}

fn model_overlapping(model: &[(u64, u64, u8)], w: Range) -> Vec<(u64, u64, u8)> {
    model
        .iter()
        .filter(|&&(s, l, _)| s <= w.last() && w.start() <= l)
        .copied()
        .collect()
}

/// Run the operations against `RangeMap` and a `Vec` model.
pub fn check(ops: &[Op]) {
    let mut map: RangeMap<u8> = RangeMap::with_capacity(ops.len().min(64));
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
                let back: Vec<(u64, u64)> = map
                    .ranges_of(&v)
                    .rev()
                    .map(|r| (r.start(), r.last()))
                    .collect();
                assert!(back.iter().rev().eq(want.iter()));
            }
            Op::Overlapping { start, len } => {
                let Some(w) = range(start, len) else { continue };
                let want = model_overlapping(&model, w);
                let it = map.overlapping(w);
                assert_eq!(it.len(), want.len(), "overlapping {w}");
                let got: Vec<(u64, u64, u8)> =
                    it.clone().map(|(r, v)| (r.start(), r.last(), *v)).collect();
                assert_eq!(got, want, "overlapping {w}");
                let back: Vec<(u64, u64, u8)> =
                    it.rev().map(|(r, v)| (r.start(), r.last(), *v)).collect();
                assert!(back.iter().rev().eq(want.iter()));
                // The gaps and the overlapping entries tile the window.
                let g = map.gaps(w);
                let n = g.clone().count();
                assert!(g.size_hint().1.is_none_or(|hi| n <= hi), "gaps size hint");
                let gaps: u128 = g.map(|r| r.size()).sum();
                let used: u128 = want
                    .iter()
                    .map(|&(s, l, _)| u128::from(l.min(w.last()) - s.max(w.start())) + 1)
                    .sum();
                assert_eq!(gaps + used, w.size(), "gaps and entries in {w}");
            }
            Op::Retain(v) => {
                let mut seen = Vec::new();
                map.retain(|r, x| {
                    seen.push(r.start());
                    if *x == v {
                        false
                    } else {
                        *x = x.wrapping_add(1);
                        true
                    }
                });
                assert!(
                    seen.windows(2).all(|w| w[0] < w[1]),
                    "retain visits in order"
                );
                model.retain(|e| e.2 != v);
                for e in &mut model {
                    e.2 = e.2.wrapping_add(1);
                }
            }
            Op::Rebuild { start, len } => {
                let mut pairs: Vec<(Range, u8)> = map.iter().map(|(r, v)| (r, *v)).rev().collect();
                let extra = range(start, len);
                if let Some(r) = extra {
                    pairs.push((r, 0));
                }
                match RangeMap::try_from_iter(pairs) {
                    Ok(m) => {
                        if let Some(r) = extra {
                            assert!(!model
                                .iter()
                                .any(|&(s, l, _)| s <= r.last() && r.start() <= l));
                            model.push((r.start(), r.last(), 0));
                            model.sort_unstable();
                        }
                        map = m;
                    }
                    Err(e) => {
                        let r = extra.expect("without an extra entry nothing overlaps");
                        assert!(e.range.overlaps(&e.existing));
                        assert!(e.range == r || e.existing == r, "{e}");
                        assert!(e.existing <= e.range);
                    }
                }
            }
            Op::Clear => {
                map.clear();
                model.clear();
                assert!(map.is_empty());
            }
            Op::Arith { a, b, c, d } => check_arith(a.get(), b.get(), c.get(), d.get()),
        }
        assert_eq!(map.len(), model.len());
        assert_eq!(map.is_empty(), model.is_empty());
        assert_eq!(
            map.first().map(|(r, v)| (r.start(), r.last(), *v)),
            model.first().copied()
        );
        assert_eq!(
            map.last().map(|(r, v)| (r.start(), r.last(), *v)),
            model.last().copied()
        );
        if let Some(&(s, l, v)) = model.first() {
            assert_eq!(
                map.get_entry(l).map(|(r, x)| (r.start(), r.last(), *x)),
                Some((s, l, v))
            );
            assert!(map.contains(s));
            if let Some(x) = map.get_mut(s) {
                *x = x.wrapping_add(0);
            }
        }
        assert!(map
            .ranges()
            .rev()
            .map(|r| r.start())
            .eq(model.iter().rev().map(|e| e.0)));
        assert!(map.values().copied().eq(model.iter().map(|e| e.2)));
        assert!(map.values_mut().map(|v| *v).eq(model.iter().map(|e| e.2)));
        assert!((&map)
            .into_iter()
            .rev()
            .map(|(r, _)| r.last())
            .eq(model.iter().rev().map(|e| e.1)));
        let got: Vec<(u64, u64, u8)> = map.iter().map(|(r, v)| (r.start(), r.last(), *v)).collect();
        assert_eq!(got, model);
    }
    let owned: Vec<(u64, u64, u8)> = map
        .clone()
        .into_iter()
        .map(|(r, v)| (r.start(), r.last(), v))
        .collect();
    assert_eq!(owned, model);
    let back: Vec<u64> = map.into_iter().rev().map(|(r, _)| r.start()).collect();
    assert!(back.iter().eq(model.iter().rev().map(|e| &e.0)));
    assert!(format!("{:?}", RangeMap::<u8>::default()).contains('{'));
}
