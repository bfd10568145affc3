//! Model-based property tests: every operation is applied both to a
//! `RangeMap` and to a naive model (an unsorted `Vec` scanned linearly), and
//! every result is compared.
//!
//! Addresses are drawn mostly from two tiny windows, `[0, 64)` and the top 64
//! addresses below 2^64, with short lengths, so overlaps, adjacency and
//! ranges ending at 2^64 come up often.

use proptest::prelude::*;
use proptest::sample::Index;
use vnuma_ranges::{OverlapError, Range, RangeError, RangeMap};

type Val = u8;

/// `(start, last, value)`, inclusive bounds.
type Entry = (u64, u64, Val);

/// The naive reference implementation.
#[derive(Default, Debug)]
struct Model {
    /// In insertion order, not sorted.
    entries: Vec<Entry>,
}

impl Model {
    fn sorted(&self) -> Vec<Entry> {
        let mut v = self.entries.clone();
        v.sort_by_key(|&(s, _, _)| s);
        v
    }

    /// Err carries the lowest existing range overlapping `[s, l]`.
    fn insert(&mut self, s: u64, l: u64, v: Val) -> Result<(), (u64, u64)> {
        let lowest = self
            .entries
            .iter()
            .filter(|&&(es, el, _)| es <= l && s <= el)
            .min_by_key(|&&(es, _, _)| es);
        match lowest {
            Some(&(es, el, _)) => Err((es, el)),
            None => {
                self.entries.push((s, l, v));
                Ok(())
            }
        }
    }

    fn remove(&mut self, s: u64, l: u64) -> Option<Val> {
        let i = self
            .entries
            .iter()
            .position(|&(es, el, _)| es == s && el == l)?;
        Some(self.entries.swap_remove(i).2)
    }

    fn get(&self, addr: u64) -> Option<Entry> {
        self.entries
            .iter()
            .copied()
            .find(|&(s, l, _)| s <= addr && addr <= l)
    }

    fn get_mut(&mut self, addr: u64) -> Option<&mut Val> {
        self.entries
            .iter_mut()
            .find(|(s, l, _)| *s <= addr && addr <= *l)
            .map(|(_, _, v)| v)
    }

    fn ranges_of(&self, v: Val) -> Vec<(u64, u64)> {
        self.sorted()
            .into_iter()
            .filter(|&(_, _, ev)| ev == v)
            .map(|(s, l, _)| (s, l))
            .collect()
    }

    fn overlapping(&self, s: u64, l: u64) -> Vec<Entry> {
        self.sorted()
            .into_iter()
            .filter(|&(es, el, _)| es <= l && s <= el)
            .collect()
    }

    /// Sweep with u128 exclusive ends, independent of the crate's cursor
    /// logic.
    fn gaps(&self, s: u64, l: u64) -> Vec<(u64, u64)> {
        let end = u128::from(l) + 1;
        let mut cur = u128::from(s);
        let mut out = Vec::new();
        for (es, el, _) in self.overlapping(s, l) {
            let es = u128::from(es.max(s));
            if es > cur {
                out.push((cur as u64, (es - 1) as u64));
            }
            cur = cur.max(u128::from(el.min(l)) + 1);
        }
        if cur < end {
            out.push((cur as u64, (end - 1) as u64));
        }
        out
    }
}

#[derive(Clone, Debug)]
enum Op {
    Insert(Range, Val),
    /// Remove an entry that is in the map (if any), by exact range.
    RemoveExisting(Index),
    /// Remove an arbitrary range (usually not an exact entry).
    Remove(Range),
    Get(u64),
    /// Look up start-1, start, last and last+1 of an existing entry.
    GetAround(Index),
    GetMut(u64, Val),
    RangesOf(Val),
    Gaps(Range),
    Overlapping(Range),
    Clear,
}

// The strategies below pick their variant from a plain integer instead of
// `prop_oneof!`: nested unions are slow to generate in debug builds, and
// the suite must run thousands of cases in a few seconds. Shrinking still
// works: the selector and the raw numbers shrink towards 0, i.e. towards
// small addresses and short ranges.

/// Maps a raw draw to an address: 60% in `[0, 64)`, 30% in the top 64
/// addresses, 10% anywhere.
fn pick_addr(kind: u8, x: u64) -> u64 {
    match kind % 10 {
        0..=5 => x % 64,
        6..=8 => u64::MAX - x % 64,
        _ => x,
    }
}

fn addr() -> impl Strategy<Value = u64> {
    (any::<u8>(), any::<u64>()).prop_map(|(k, x)| pick_addr(k, x))
}

/// Maps raw draws to a range: mostly short (1 to 12 addresses), sometimes
/// up to the top, between two random addresses, or the whole space.
fn pick_range(kind: u8, a: u64, b: u64) -> Range {
    match kind % 16 {
        0..=11 => Range::inclusive(a, a.saturating_add(b % 12)).unwrap(),
        12 => Range::to_top(a),
        13 | 14 => Range::inclusive(a.min(b), a.max(b)).unwrap(),
        _ => Range::FULL,
    }
}

fn range() -> impl Strategy<Value = Range> {
    (any::<u8>(), addr(), addr()).prop_map(|(k, a, b)| pick_range(k, a, b))
}

fn value() -> impl Strategy<Value = Val> {
    0u8..4
}

fn op() -> impl Strategy<Value = Op> {
    (0u8..36, range(), value(), addr(), any::<Index>()).prop_map(|(k, r, v, a, i)| match k {
        0..=11 => Op::Insert(r, v),
        12..=14 => Op::RemoveExisting(i),
        15..=16 => Op::Remove(r),
        17..=20 => Op::Get(a),
        21..=24 => Op::GetAround(i),
        25..=26 => Op::GetMut(a, v),
        27..=28 => Op::RangesOf(v),
        29..=31 => Op::Gaps(r),
        32..=34 => Op::Overlapping(r),
        _ => Op::Clear,
    })
}

fn to_tuple(r: Range) -> (u64, u64) {
    (r.start(), r.last())
}

fn entry((r, v): (Range, &Val)) -> Entry {
    (r.start(), r.last(), *v)
}

fn check_get(map: &RangeMap<Val>, model: &Model, addr: u64) -> Result<(), TestCaseError> {
    let want = model.get(addr);
    prop_assert_eq!(
        map.get_entry(addr).map(entry),
        want,
        "get_entry({:#x})",
        addr
    );
    prop_assert_eq!(
        map.get(addr).copied(),
        want.map(|e| e.2),
        "get({:#x})",
        addr
    );
    prop_assert_eq!(map.contains(addr), want.is_some(), "contains({:#x})", addr);
    Ok(())
}

fn check_all(map: &RangeMap<Val>, model: &Model) -> Result<(), TestCaseError> {
    let sorted = model.sorted();
    prop_assert_eq!(map.len(), sorted.len());
    prop_assert_eq!(map.is_empty(), sorted.is_empty());
    prop_assert_eq!(map.iter().map(entry).collect::<Vec<_>>(), sorted.clone());
    prop_assert_eq!(
        map.iter().rev().map(entry).collect::<Vec<_>>(),
        sorted.iter().rev().copied().collect::<Vec<_>>()
    );
    prop_assert_eq!(map.first().map(entry), sorted.first().copied());
    prop_assert_eq!(map.last().map(entry), sorted.last().copied());
    Ok(())
}

fn apply(map: &mut RangeMap<Val>, model: &mut Model, op: &Op) -> Result<(), TestCaseError> {
    match *op {
        Op::Insert(r, v) => {
            let before = map.clone();
            let got = map.insert(r, v);
            match model.insert(r.start(), r.last(), v) {
                Ok(()) => prop_assert_eq!(got, Ok(())),
                Err(existing) => {
                    let err = got.expect_err("insert should have failed");
                    prop_assert_eq!(err.range, r);
                    prop_assert_eq!(to_tuple(err.existing), existing);
                    prop_assert_eq!(map, &before, "map changed by failed insert");
                }
            }
        }
        Op::RemoveExisting(i) => {
            let sorted = model.sorted();
            if !sorted.is_empty() {
                let (s, l, v) = *i.get(&sorted);
                let r = Range::inclusive(s, l).unwrap();
                prop_assert_eq!(map.remove(r), Some(v));
                prop_assert_eq!(model.remove(s, l), Some(v));
                // A second removal is a no-op.
                prop_assert_eq!(map.remove(r), None);
            }
        }
        Op::Remove(r) => {
            let before = map.clone();
            let got = map.remove(r);
            prop_assert_eq!(got, model.remove(r.start(), r.last()));
            if got.is_none() {
                prop_assert_eq!(map, &before, "map changed by no-op remove");
            }
        }
        Op::Get(a) => check_get(map, model, a)?,
        Op::GetAround(i) => {
            let sorted = model.sorted();
            if !sorted.is_empty() {
                let (s, l, _) = *i.get(&sorted);
                let probes = [s.checked_sub(1), Some(s), Some(l), l.checked_add(1)];
                for a in probes.into_iter().flatten() {
                    check_get(map, model, a)?;
                }
            }
        }
        Op::GetMut(a, v) => {
            let got = map.get_mut(a).map(|x| {
                let old = *x;
                *x = v;
                old
            });
            let want = model.get_mut(a).map(|x| {
                let old = *x;
                *x = v;
                old
            });
            prop_assert_eq!(got, want, "get_mut({:#x})", a);
        }
        Op::RangesOf(v) => {
            let got: Vec<_> = map.ranges_of(&v).map(to_tuple).collect();
            prop_assert_eq!(got, model.ranges_of(v));
        }
        Op::Gaps(w) => {
            let got: Vec<_> = map.gaps(w).map(to_tuple).collect();
            let want = model.gaps(w.start(), w.last());
            prop_assert_eq!(&got, &want, "gaps({})", w);
            // Covered part + gaps = the whole window.
            let covered: u128 = map
                .overlapping(w)
                .filter_map(|(r, _)| r.intersection(&w))
                .map(|r| r.size())
                .sum();
            let holes: u128 = map.gaps(w).map(|r| r.size()).sum();
            prop_assert_eq!(covered + holes, w.size());
        }
        Op::Overlapping(w) => {
            let got: Vec<_> = map.overlapping(w).map(entry).collect();
            prop_assert_eq!(
                got,
                model.overlapping(w.start(), w.last()),
                "overlapping({})",
                w
            );
            prop_assert_eq!(map.overlapping(w).len(), map.overlapping(w).count());
        }
        Op::Clear => {
            map.clear();
            model.entries.clear();
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 4000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn range_map_matches_model(ops in prop::collection::vec(op(), 1..48)) {
        let mut map = RangeMap::new();
        let mut model = Model::default();
        for op in &ops {
            apply(&mut map, &mut model, op)?;
            check_all(&map, &model)?;
        }
        check_all(&map, &model)?;
        // Rebuilding from the final entries gives the same map.
        let rebuilt = RangeMap::try_from_iter(map.clone()).unwrap();
        prop_assert_eq!(rebuilt, map);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn try_from_iter_matches_sequential_inserts(
        items in prop::collection::vec((range(), value()), 0..12)
    ) {
        let mut model = Model::default();
        let all_fit = items
            .iter()
            .all(|&(r, v)| model.insert(r.start(), r.last(), v).is_ok());
        match RangeMap::try_from_iter(items.clone()) {
            Ok(map) => {
                prop_assert!(all_fit, "overlapping input accepted: {:?}", items);
                check_all(&map, &model)?;
            }
            Err(OverlapError { range, existing, .. }) => {
                prop_assert!(!all_fit, "disjoint input refused: {:?}", items);
                prop_assert!(range.overlaps(&existing));
                prop_assert!(existing <= range);
                prop_assert!(items.iter().any(|&(r, _)| r == range));
                prop_assert!(items.iter().any(|&(r, _)| r == existing));
            }
        }
    }

    #[test]
    fn range_constructors_agree_with_u128_arithmetic(a in addr(), b in addr(), len in addr()) {
        const TOP: u128 = 1 << 64;
        match Range::new(a, b) {
            Ok(r) => {
                prop_assert!(a < b);
                prop_assert_eq!((r.start(), r.end(), r.size()), (a, Some(b), u128::from(b - a)));
            }
            Err(RangeError::Empty { start }) => prop_assert!(a == b && start == a),
            Err(RangeError::Reversed { start, end }) => prop_assert!(a > b && (start, end) == (a, b)),
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
        let want_end = u128::from(a) + u128::from(len);
        match Range::from_start_len(a, len) {
            Ok(r) => {
                prop_assert!(len > 0 && want_end <= TOP);
                prop_assert_eq!(r.size(), u128::from(len));
                prop_assert_eq!(r.end().map(u128::from).unwrap_or(TOP), want_end);
            }
            Err(RangeError::Empty { start }) => prop_assert!(len == 0 && start == a),
            Err(RangeError::Overflow { start, len: l }) => {
                prop_assert!(want_end > TOP && (start, l) == (a, len));
            }
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
        match Range::inclusive(a, b) {
            Ok(r) => {
                prop_assert!(a <= b);
                prop_assert_eq!(r.size(), u128::from(b - a) + 1);
                prop_assert_eq!(r.contains(a) && r.contains(b), true);
                prop_assert_eq!(r.end().is_none(), b == u64::MAX);
            }
            Err(RangeError::ReversedInclusive { start, last }) => {
                prop_assert!(a > b && (start, last) == (a, b));
            }
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
    }
}
