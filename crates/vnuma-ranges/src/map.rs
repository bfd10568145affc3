//! [`RangeMap`]: disjoint ranges mapped to values, kept sorted in a `Vec`.

use alloc::vec::Vec;
use core::fmt;
use core::iter::FusedIterator;

use crate::{OverlapError, Range};

/// A map from disjoint [`Range`]s to values of type `V`.
///
/// Entries are kept in a `Vec` sorted by address. Lookups binary-search it,
/// so they take O(log n) time and never allocate; [`insert`](Self::insert)
/// and [`remove`](Self::remove) shift the tail of the `Vec`, so they take
/// O(n) time in the worst case. That is a good fit for the hundreds to
/// thousands of ranges that describe a machine's memory layout, and for
/// maps that are built once and queried often.
///
/// Ranges never overlap: [`insert`](Self::insert) refuses a range that
/// shares an address with an existing one. Adjacent ranges (one ends where
/// the next starts) are allowed and stay separate entries, even if their
/// values are equal; the map never merges or splits entries.
///
/// # Examples
///
/// ```
/// use vnuma_ranges::{Range, RangeMap};
///
/// let mut map = RangeMap::new();
/// map.insert(Range::new(0x0, 0x1000)?, "low")?;
/// map.insert(Range::new(0x1000, 0x2000)?, "high")?;
/// assert_eq!(map.get(0xfff), Some(&"low"));
/// assert_eq!(map.get(0x1000), Some(&"high"));
/// assert_eq!(map.get(0x2000), None);
/// assert_eq!(map.len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RangeMap<V> {
    // Invariant: sorted by range, ranges pairwise disjoint. Hence both the
    // starts and the lasts are strictly increasing.
    entries: Vec<(Range, V)>,
}

impl<V> Default for RangeMap<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: fmt::Debug> fmt::Debug for RangeMap<V> {
    /// Formats as a map in address order, e.g.
    /// `{[0x0, 0x1000): "low", [0x1000, 0x2000): "high"}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(r, v)| (r, v)))
            .finish()
    }
}

impl<V> RangeMap<V> {
    /// Creates an empty map. Does not allocate.
    pub const fn new() -> Self {
        RangeMap {
            entries: Vec::new(),
        }
    }

    /// Creates an empty map with room for `capacity` entries before it
    /// reallocates. Allocates once, for `capacity` entries.
    pub fn with_capacity(capacity: usize) -> Self {
        RangeMap {
            entries: Vec::with_capacity(capacity),
        }
    }

    /// Builds a map from `(range, value)` pairs given in any order.
    ///
    /// Takes O(n log n) time (the pairs are sorted once), unlike n calls to
    /// [`insert`](Self::insert), which take O(n²) in the worst case.
    ///
    /// # Errors
    ///
    /// Returns an [`OverlapError`] if two of the ranges overlap. The error
    /// names the first overlap found when scanning the ranges in address
    /// order: [`existing`](OverlapError::existing) is the range that sorts
    /// first (lower start, or same start and shorter) and
    /// [`range`](OverlapError::range) the other one. All values are dropped
    /// in that case.
    ///
    /// # Examples
    ///
    /// ```
    /// use vnuma_ranges::{Range, RangeMap};
    ///
    /// let map = RangeMap::try_from_iter([
    ///     (Range::new(0x2000, 0x3000)?, 'b'),
    ///     (Range::new(0x0, 0x1000)?, 'a'),
    /// ])?;
    /// assert_eq!(map.values().collect::<String>(), "ab");
    ///
    /// let err = RangeMap::try_from_iter([
    ///     (Range::new(0x2000, 0x4000)?, 'b'),
    ///     (Range::new(0x1000, 0x3000)?, 'a'),
    /// ])
    /// .unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "range [0x2000, 0x4000) overlaps existing range [0x1000, 0x3000)"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_from_iter<I>(iter: I) -> Result<Self, OverlapError>
    where
        I: IntoIterator<Item = (Range, V)>,
    {
        let mut entries: Vec<(Range, V)> = iter.into_iter().collect();
        entries.sort_unstable_by_key(|(r, _)| *r);
        // Once sorted, a prefix without overlaps is disjoint and sorted, so
        // an overlap always shows up between two neighbours.
        for pair in entries.windows(2) {
            if let [(a, _), (b, _)] = pair {
                if a.overlaps(b) {
                    return Err(OverlapError {
                        range: *b,
                        existing: *a,
                    });
                }
            }
        }
        Ok(RangeMap { entries })
    }

    /// Index of the first entry whose last address is `>= addr`, i.e. the
    /// only entry that may contain `addr`. O(log n).
    fn lower_bound(&self, addr: u64) -> usize {
        self.entries.partition_point(|(r, _)| r.last() < addr)
    }

    /// Index of the entry containing `addr`, if any. O(log n).
    fn index_of(&self, addr: u64) -> Option<usize> {
        let idx = self.lower_bound(addr);
        match self.entries.get(idx) {
            Some((r, _)) if r.start() <= addr => Some(idx),
            _ => None,
        }
    }

    /// Inserts `value` for `range`.
    ///
    /// Takes O(log n) to find the slot plus O(n) in the worst case to shift
    /// the following entries.
    ///
    /// # Errors
    ///
    /// If `range` shares an address with an entry already in the map,
    /// returns an [`OverlapError`] naming `range` and the lowest existing
    /// range it overlaps. The map is unchanged and `value` is dropped.
    /// Adjacent ranges do not overlap and are kept as separate entries.
    ///
    /// # Examples
    ///
    /// ```
    /// use vnuma_ranges::{OverlapError, Range, RangeMap};
    ///
    /// let mut map = RangeMap::new();
    /// map.insert(Range::new(0x2000, 0x4000)?, 1)?;
    /// map.insert(Range::new(0x4000, 0x5000)?, 1)?; // adjacent: fine
    /// let err = map.insert(Range::new(0x1000, 0x3000)?, 2).unwrap_err();
    /// assert_eq!(err.existing, Range::new(0x2000, 0x4000)?);
    /// assert_eq!(
    ///     err.to_string(),
    ///     "range [0x1000, 0x3000) overlaps existing range [0x2000, 0x4000)"
    /// );
    /// assert_eq!(map.len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn insert(&mut self, range: Range, value: V) -> Result<(), OverlapError> {
        // Every entry before `idx` ends below `range`. The entry at `idx`
        // (if any) is the lowest one that could overlap; since ends increase,
        // if it does not overlap then every later entry starts after `range`.
        let idx = self.lower_bound(range.start());
        if let Some((existing, _)) = self.entries.get(idx) {
            if existing.start() <= range.last() {
                return Err(OverlapError {
                    range,
                    existing: *existing,
                });
            }
        }
        self.entries.insert(idx, (range, value));
        Ok(())
    }

    /// Removes the entry whose range is exactly `range` (same start and same
    /// end) and returns its value.
    ///
    /// Returns `None` and leaves the map unchanged if there is no such
    /// entry, including when `range` only overlaps, contains or is contained
    /// in an entry. Takes O(log n) to find the entry plus O(n) in the worst
    /// case to shift the following entries.
    ///
    /// # Examples
    ///
    /// ```
    /// use vnuma_ranges::{Range, RangeMap};
    ///
    /// let mut map = RangeMap::new();
    /// map.insert(Range::new(0x1000, 0x3000)?, 'a')?;
    /// assert_eq!(map.remove(Range::new(0x1000, 0x2000)?), None); // not exact
    /// assert_eq!(map.remove(Range::new(0x1000, 0x3000)?), Some('a'));
    /// assert!(map.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove(&mut self, range: Range) -> Option<V> {
        let idx = self.lower_bound(range.start());
        match self.entries.get(idx) {
            Some((r, _)) if *r == range => Some(self.entries.remove(idx).1),
            _ => None,
        }
    }

    /// The value of the entry containing `addr`. O(log n), no allocation.
    ///
    /// # Examples
    ///
    /// ```
    /// use vnuma_ranges::{Range, RangeMap};
    ///
    /// let mut map = RangeMap::new();
    /// map.insert(Range::to_top(0xffff_0000_0000_0000), 7)?;
    /// assert_eq!(map.get(u64::MAX), Some(&7));
    /// assert_eq!(map.get(0xfeff_ffff_ffff_ffff), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self, addr: u64) -> Option<&V> {
        self.get_entry(addr).map(|(_, v)| v)
    }

    /// The entry (range and value) containing `addr`. O(log n), no
    /// allocation.
    ///
    /// # Examples
    ///
    /// ```
    /// use vnuma_ranges::{Range, RangeMap};
    ///
    /// let mut map = RangeMap::new();
    /// let r = Range::new(0x1000, 0x2000)?;
    /// map.insert(r, "a")?;
    /// assert_eq!(map.get_entry(0x1800), Some((r, &"a")));
    /// assert_eq!(map.get_entry(0x2000), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_entry(&self, addr: u64) -> Option<(Range, &V)> {
        let idx = self.index_of(addr)?;
        self.entries.get(idx).map(|(r, v)| (*r, v))
    }

    /// A mutable reference to the value of the entry containing `addr`.
    /// The entry's range cannot be changed this way. O(log n), no
    /// allocation.
    ///
    /// # Examples
    ///
    /// ```
    /// use vnuma_ranges::{Range, RangeMap};
    ///
    /// let mut map = RangeMap::new();
    /// map.insert(Range::new(0, 0x1000)?, 1)?;
    /// if let Some(v) = map.get_mut(0x10) {
    ///     *v += 1;
    /// }
    /// assert_eq!(map.get(0), Some(&2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_mut(&mut self, addr: u64) -> Option<&mut V> {
        let idx = self.index_of(addr)?;
        self.entries.get_mut(idx).map(|(_, v)| v)
    }

    /// Whether some entry contains `addr`. O(log n), no allocation.
    pub fn contains(&self, addr: u64) -> bool {
        self.index_of(addr).is_some()
    }

    /// The number of entries. O(1).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map has no entries. O(1).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Removes all entries, keeping the allocated capacity. O(n) (drops the
    /// values).
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// The lowest entry, if any. O(1).
    pub fn first(&self) -> Option<(Range, &V)> {
        self.entries.first().map(|(r, v)| (*r, v))
    }

    /// The highest entry, if any. O(1).
    pub fn last(&self) -> Option<(Range, &V)> {
        self.entries.last().map(|(r, v)| (*r, v))
    }

    /// Iterates over the entries in address order. Each step is O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// use vnuma_ranges::{Range, RangeMap};
    ///
    /// let mut map = RangeMap::new();
    /// map.insert(Range::new(0x1000, 0x2000)?, 'b')?;
    /// map.insert(Range::new(0x0, 0x1000)?, 'a')?;
    /// let v: Vec<_> = map.iter().map(|(r, v)| (r.start(), *v)).collect();
    /// assert_eq!(v, [(0x0, 'a'), (0x1000, 'b')]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn iter(&self) -> Iter<'_, V> {
        Iter {
            inner: self.entries.iter(),
        }
    }

    /// Iterates over the ranges in address order. Each step is O(1).
    pub fn ranges(&self) -> impl DoubleEndedIterator<Item = Range> + ExactSizeIterator + '_ {
        self.entries.iter().map(|(r, _)| *r)
    }

    /// Iterates over the values in address order of their ranges. Each step
    /// is O(1).
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator + '_ {
        self.entries.iter().map(|(_, v)| v)
    }

    /// Iterates mutably over the values in address order of their ranges.
    /// Ranges cannot be changed this way. Each step is O(1).
    pub fn values_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = &mut V> + ExactSizeIterator + '_ {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    /// Iterates, in address order, over the ranges whose value equals
    /// `value`. O(n): every entry is compared.
    ///
    /// # Examples
    ///
    /// ```
    /// use vnuma_ranges::{Range, RangeMap};
    ///
    /// let mut map = RangeMap::new();
    /// map.insert(Range::new(0x0, 0x1000)?, 0)?;
    /// map.insert(Range::new(0x1000, 0x2000)?, 1)?;
    /// map.insert(Range::new(0x2000, 0x3000)?, 0)?;
    /// let r: Vec<_> = map.ranges_of(&0).collect();
    /// assert_eq!(r, [Range::new(0x0, 0x1000)?, Range::new(0x2000, 0x3000)?]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ranges_of<'a>(&'a self, value: &'a V) -> impl DoubleEndedIterator<Item = Range> + 'a
    where
        V: PartialEq,
    {
        self.entries
            .iter()
            .filter(move |(_, v)| v == value)
            .map(|(r, _)| *r)
    }

    /// Iterates, in address order, over the entries that share at least one
    /// address with `range`. Entries are yielded whole, not clipped to
    /// `range`.
    ///
    /// Finding the first and last such entry takes O(log n); each step is
    /// then O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// use vnuma_ranges::{Range, RangeMap};
    ///
    /// let mut map = RangeMap::new();
    /// map.insert(Range::new(0x0, 0x1000)?, 'a')?;
    /// map.insert(Range::new(0x1000, 0x2000)?, 'b')?;
    /// map.insert(Range::new(0x3000, 0x4000)?, 'c')?;
    /// let hit: Vec<_> = map
    ///     .overlapping(Range::new(0xfff, 0x3000)?)
    ///     .map(|(_, v)| *v)
    ///     .collect();
    /// assert_eq!(hit, ['a', 'b']);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn overlapping(&self, range: Range) -> Iter<'_, V> {
        Iter {
            inner: self.overlapping_slice(range).iter(),
        }
    }

    /// The sub-slice of entries overlapping `range`. O(log n).
    fn overlapping_slice(&self, range: Range) -> &[(Range, V)] {
        // Entries before `lo` end before `range` starts; entries from `hi`
        // on start after `range` ends. Entries before `lo` start before
        // `range` ends too, so `lo <= hi`; `get` keeps this panic-free even so.
        let lo = self.lower_bound(range.start());
        let hi = self
            .entries
            .partition_point(|(r, _)| r.start() <= range.last());
        self.entries.get(lo..hi).unwrap_or(&[])
    }

    /// Iterates, in address order, over the maximal sub-ranges of `within`
    /// that no entry covers.
    ///
    /// Entries that straddle a bound of `within` are clipped to it: only
    /// the part inside `within` counts. Adjacent entries leave no gap
    /// between them. If nothing in the map overlaps `within`, the single
    /// gap is `within` itself; if `within` is fully covered, there are no
    /// gaps. Use [`Range::FULL`] to find the gaps in the whole 64-bit space.
    ///
    /// Finding the entries overlapping `within` takes O(log n); each step is
    /// then O(1) amortized.
    ///
    /// # Examples
    ///
    /// ```
    /// use vnuma_ranges::{Range, RangeMap};
    ///
    /// let mut map = RangeMap::new();
    /// map.insert(Range::new(0x1000, 0x2000)?, ())?;
    /// map.insert(Range::new(0x3000, 0x4000)?, ())?;
    /// let gaps: Vec<_> = map.gaps(Range::new(0x1800, 0x5000)?).collect();
    /// assert_eq!(gaps, [Range::new(0x2000, 0x3000)?, Range::new(0x4000, 0x5000)?]);
    ///
    /// let all: Vec<_> = map.gaps(Range::FULL).map(|r| r.to_string()).collect();
    /// assert_eq!(
    ///     all,
    ///     ["[0x0, 0x1000)", "[0x2000, 0x3000)", "[0x4000, 0x10000000000000000)"]
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn gaps(&self, within: Range) -> Gaps<'_, V> {
        Gaps {
            entries: self.overlapping_slice(within).iter(),
            cursor: Some(within.start()),
            last: within.last(),
        }
    }

    /// Keeps only the entries for which `f(range, &mut value)` returns
    /// `true`, visiting them in address order. O(n).
    ///
    /// # Examples
    ///
    /// ```
    /// use vnuma_ranges::{Range, RangeMap};
    ///
    /// let mut map = RangeMap::new();
    /// map.insert(Range::new(0x0, 0x1000)?, 0)?;
    /// map.insert(Range::new(0x1000, 0x2000)?, 1)?;
    /// map.retain(|_, v| *v != 0);
    /// assert_eq!(map.ranges().collect::<Vec<_>>(), [Range::new(0x1000, 0x2000)?]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn retain<F>(&mut self, mut f: F)
    where
        F: FnMut(Range, &mut V) -> bool,
    {
        self.entries.retain_mut(|(r, v)| f(*r, v));
    }
}

/// Iterator over `(Range, &V)` entries of a [`RangeMap`], in address order.
///
/// Returned by [`RangeMap::iter`] and [`RangeMap::overlapping`].
#[derive(Debug)]
pub struct Iter<'a, V> {
    inner: core::slice::Iter<'a, (Range, V)>,
}

impl<V> Clone for Iter<'_, V> {
    fn clone(&self) -> Self {
        Iter {
            inner: self.inner.clone(),
        }
    }
}

impl<'a, V> Iterator for Iter<'a, V> {
    type Item = (Range, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|(r, v)| (*r, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<V> DoubleEndedIterator for Iter<'_, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back().map(|(r, v)| (*r, v))
    }
}

impl<V> ExactSizeIterator for Iter<'_, V> {}

impl<V> FusedIterator for Iter<'_, V> {}

/// Owning iterator over the `(Range, V)` entries of a [`RangeMap`], in
/// address order. Returned by `RangeMap::into_iter`.
#[derive(Debug)]
pub struct IntoIter<V> {
    inner: alloc::vec::IntoIter<(Range, V)>,
}

impl<V> Iterator for IntoIter<V> {
    type Item = (Range, V);

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<V> DoubleEndedIterator for IntoIter<V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back()
    }
}

impl<V> ExactSizeIterator for IntoIter<V> {}

impl<V> FusedIterator for IntoIter<V> {}

impl<'a, V> IntoIterator for &'a RangeMap<V> {
    type Item = (Range, &'a V);
    type IntoIter = Iter<'a, V>;

    fn into_iter(self) -> Iter<'a, V> {
        self.iter()
    }
}

impl<V> IntoIterator for RangeMap<V> {
    type Item = (Range, V);
    type IntoIter = IntoIter<V>;

    fn into_iter(self) -> IntoIter<V> {
        IntoIter {
            inner: self.entries.into_iter(),
        }
    }
}

/// Iterator over the uncovered sub-ranges of a window, in address order.
///
/// Returned by [`RangeMap::gaps`].
#[derive(Debug)]
pub struct Gaps<'a, V> {
    /// Entries overlapping the window not yet visited.
    entries: core::slice::Iter<'a, (Range, V)>,
    /// First address not yet reported or skipped; `None` once the window is
    /// exhausted. Always `<= last` when `Some`.
    cursor: Option<u64>,
    /// Last address of the window.
    last: u64,
}

impl<V> Clone for Gaps<'_, V> {
    fn clone(&self) -> Self {
        Gaps {
            entries: self.entries.clone(),
            cursor: self.cursor,
            last: self.last,
        }
    }
}

impl<V> Gaps<'_, V> {
    /// The address after `r`, if it is still inside the window.
    fn after(&self, r: &Range) -> Option<u64> {
        r.end().filter(|&next| next <= self.last)
    }
}

impl<V> Iterator for Gaps<'_, V> {
    type Item = Range;

    fn next(&mut self) -> Option<Range> {
        loop {
            let cursor = self.cursor?;
            let Some((r, _)) = self.entries.next() else {
                // No entry left in the window: the rest of it is a gap.
                self.cursor = None;
                return Range::inclusive(cursor, self.last).ok();
            };
            let r = *r;
            self.cursor = self.after(&r);
            if r.start() > cursor {
                // `r.start() > cursor >= 0`, so `r.start() - 1` cannot
                // underflow, and it is `>= cursor`, so the range is valid.
                return Range::inclusive(cursor, r.start() - 1).ok();
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self.cursor {
            None => (0, Some(0)),
            // At most one gap before each remaining entry, plus one after.
            Some(_) => (0, self.entries.len().checked_add(1)),
        }
    }
}

impl<V> FusedIterator for Gaps<'_, V> {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec;

    fn r(start: u64, end: u64) -> Range {
        Range::new(start, end).unwrap()
    }

    fn map_of(entries: &[(Range, u32)]) -> RangeMap<u32> {
        let mut m = RangeMap::new();
        for &(range, v) in entries {
            m.insert(range, v).unwrap();
        }
        m
    }

    fn gaps(m: &RangeMap<u32>, within: Range) -> Vec<Range> {
        m.gaps(within).collect()
    }

    #[test]
    fn empty_map() {
        let mut m: RangeMap<u32> = RangeMap::default();
        assert!(m.is_empty());
        assert_eq!(m.len(), 0);
        assert_eq!(m.get(0), None);
        assert_eq!(m.get(u64::MAX), None);
        assert_eq!(m.get_entry(5), None);
        assert_eq!(m.get_mut(5), None);
        assert!(!m.contains(0));
        assert_eq!(m.first(), None);
        assert_eq!(m.last(), None);
        assert_eq!(m.iter().next(), None);
        assert_eq!(m.overlapping(Range::FULL).next(), None);
        assert_eq!(m.ranges_of(&0).next(), None);
        assert_eq!(m.remove(Range::FULL), None);
        assert_eq!(gaps(&m, Range::FULL), [Range::FULL]);
        assert_eq!(gaps(&m, r(3, 4)), [r(3, 4)]);
        assert_eq!(format!("{m:?}"), "{}");
        assert_eq!(m, RangeMap::new());
    }

    #[test]
    fn address_zero() {
        let m = map_of(&[(r(0, 1), 1), (r(1, 0x10), 2)]);
        assert_eq!(m.get(0), Some(&1));
        assert_eq!(m.get(1), Some(&2));
        assert_eq!(m.get(0xf), Some(&2));
        assert_eq!(m.get(0x10), None);
        assert_eq!(gaps(&m, r(0, 0x20)), [r(0x10, 0x20)]);
        assert_eq!(gaps(&m, r(0, 1)), []);
        let mut m = m;
        assert_eq!(
            m.insert(r(0, 5), 9),
            Err(OverlapError {
                range: r(0, 5),
                existing: r(0, 1)
            })
        );
    }

    #[test]
    fn range_ending_at_top() {
        let top = Range::to_top(0xffff_ffff_0000_0000);
        let mut m = map_of(&[(r(0, 0x1000), 1), (top, 2)]);
        assert_eq!(m.get(u64::MAX), Some(&2));
        assert_eq!(m.get(0xffff_ffff_0000_0000), Some(&2));
        assert_eq!(m.get(0xffff_fffe_ffff_ffff), None);
        assert_eq!(m.get_entry(u64::MAX), Some((top, &2)));
        assert_eq!(m.last(), Some((top, &2)));
        assert_eq!(
            gaps(&m, Range::FULL),
            [Range::inclusive(0x1000, 0xffff_fffe_ffff_ffff).unwrap()]
        );
        assert_eq!(gaps(&m, Range::to_top(0xffff_ffff_0000_0000)), []);
        // Overlapping the top entry by its very last byte.
        let one = Range::to_top(u64::MAX);
        assert_eq!(
            m.insert(one, 3),
            Err(OverlapError {
                range: one,
                existing: top
            })
        );
        // Adjacent just below.
        let below = Range::new(0xfff0_0000_0000_0000, 0xffff_ffff_0000_0000).unwrap();
        m.insert(below, 4).unwrap();
        assert_eq!(m.get(0xffff_fffe_ffff_ffff), Some(&4));
        assert_eq!(
            gaps(&m, Range::to_top(0x8000)),
            [Range::new(0x8000, 0xfff0_0000_0000_0000).unwrap()]
        );
        assert_eq!(m.remove(top), Some(2));
        assert_eq!(m.get(u64::MAX), None);
        assert_eq!(
            gaps(&m, Range::to_top(0xffff_0000_0000_0000)),
            [Range::to_top(0xffff_ffff_0000_0000)]
        );
    }

    #[test]
    fn full_space_entry() {
        let mut m = map_of(&[(Range::FULL, 7)]);
        assert_eq!(m.get(0), Some(&7));
        assert_eq!(m.get(u64::MAX), Some(&7));
        assert_eq!(gaps(&m, Range::FULL), []);
        assert_eq!(gaps(&m, r(5, 6)), []);
        assert_eq!(m.overlapping(r(5, 6)).count(), 1);
        let e = m.insert(Range::to_top(u64::MAX), 1).unwrap_err();
        assert_eq!(e.existing, Range::FULL);
        assert_eq!(m.remove(Range::FULL), Some(7));
        assert!(m.is_empty());
    }

    #[test]
    fn adjacency_is_allowed_and_not_merged() {
        let mut m = RangeMap::new();
        m.insert(r(0x2000, 0x3000), 1).unwrap();
        m.insert(r(0x1000, 0x2000), 1).unwrap(); // below
        m.insert(r(0x3000, 0x4000), 1).unwrap(); // above
        assert_eq!(m.len(), 3);
        assert_eq!(
            m.ranges().collect::<Vec<_>>(),
            [r(0x1000, 0x2000), r(0x2000, 0x3000), r(0x3000, 0x4000)]
        );
        assert_eq!(m.get(0x1fff), Some(&1));
        assert_eq!(m.get_entry(0x2000).unwrap().0, r(0x2000, 0x3000));
        assert_eq!(gaps(&m, r(0x1000, 0x4000)), []);
        assert_eq!(gaps(&m, r(0, 0x5000)), [r(0, 0x1000), r(0x4000, 0x5000)]);
    }

    #[test]
    fn overlap_by_one_byte_each_side() {
        let mut m = map_of(&[(r(0x10, 0x20), 1)]);
        let before = m.clone();
        // Low side: new range's last byte is the existing start.
        let e = m.insert(r(0x0, 0x11), 2).unwrap_err();
        assert_eq!((e.range, e.existing), (r(0x0, 0x11), r(0x10, 0x20)));
        // High side: new range's first byte is the existing last.
        let e = m.insert(r(0x1f, 0x30), 2).unwrap_err();
        assert_eq!((e.range, e.existing), (r(0x1f, 0x30), r(0x10, 0x20)));
        assert_eq!(m, before);
    }

    #[test]
    fn containment_both_ways() {
        let mut m = map_of(&[(r(0x10, 0x20), 1)]);
        // New range inside the existing one.
        let e = m.insert(r(0x12, 0x14), 2).unwrap_err();
        assert_eq!(e.existing, r(0x10, 0x20));
        // New range containing the existing one.
        let e = m.insert(r(0x0, 0x100), 2).unwrap_err();
        assert_eq!(e.existing, r(0x10, 0x20));
        // Identical range.
        let e = m.insert(r(0x10, 0x20), 2).unwrap_err();
        assert_eq!(e.existing, r(0x10, 0x20));
        assert_eq!(m.len(), 1);
        assert_eq!(m.get(0x10), Some(&1));
    }

    #[test]
    fn overlap_reports_lowest_existing() {
        let mut m = map_of(&[(r(0x10, 0x20), 1), (r(0x30, 0x40), 2), (r(0x50, 0x60), 3)]);
        let e = m.insert(r(0x0, 0x100), 9).unwrap_err();
        assert_eq!(e.existing, r(0x10, 0x20));
        let e = m.insert(r(0x25, 0x55), 9).unwrap_err();
        assert_eq!(e.existing, r(0x30, 0x40));
        // In the hole between entries: fine.
        m.insert(r(0x20, 0x30), 4).unwrap();
        assert_eq!(m.len(), 4);
    }

    #[test]
    fn remove_exact_only() {
        let mut m = map_of(&[(r(0x10, 0x20), 1), (r(0x20, 0x30), 2)]);
        let before = m.clone();
        for probe in [
            r(0x10, 0x1f), // same start, shorter
            r(0x10, 0x21), // same start, longer
            r(0x11, 0x20), // same end, later start
            r(0xf, 0x20),  // same end, earlier start
            r(0x10, 0x30), // union of two entries
            r(0x0, 0x10),  // adjacent, no overlap
            r(0x30, 0x40), // adjacent above
            Range::FULL,
        ] {
            assert_eq!(m.remove(probe), None, "{probe}");
            assert_eq!(m, before);
        }
        assert_eq!(m.remove(r(0x20, 0x30)), Some(2));
        assert_eq!(m.remove(r(0x20, 0x30)), None);
        assert_eq!(m.remove(r(0x10, 0x20)), Some(1));
        assert!(m.is_empty());
    }

    #[test]
    fn get_mut_and_values_mut() {
        let mut m = map_of(&[(r(0, 0x10), 1), (r(0x20, 0x30), 2)]);
        *m.get_mut(0x25).unwrap() = 20;
        assert_eq!(m.get_mut(0x15), None);
        for v in m.values_mut() {
            *v += 1;
        }
        assert_eq!(m.values().copied().collect::<Vec<_>>(), [2, 21]);
    }

    #[test]
    fn gaps_with_straddling_entries() {
        let m = map_of(&[(r(0x0, 0x20), 1), (r(0x40, 0x60), 2), (r(0x80, 0xa0), 3)]);
        // Entries straddle both window bounds.
        assert_eq!(gaps(&m, r(0x10, 0x90)), [r(0x20, 0x40), r(0x60, 0x80)]);
        // Window starts inside an entry, ends in a hole.
        assert_eq!(gaps(&m, r(0x10, 0x70)), [r(0x20, 0x40), r(0x60, 0x70)]);
        // Window starts in a hole, ends inside an entry.
        assert_eq!(gaps(&m, r(0x30, 0x50)), [r(0x30, 0x40)]);
        // Window strictly inside one entry.
        assert_eq!(gaps(&m, r(0x45, 0x46)), []);
        // Window strictly inside one hole.
        assert_eq!(gaps(&m, r(0x25, 0x26)), [r(0x25, 0x26)]);
        // Window exactly one hole, bounded by adjacent entries.
        assert_eq!(gaps(&m, r(0x20, 0x40)), [r(0x20, 0x40)]);
        // Window ends exactly where an entry starts (adjacent, no overlap).
        assert_eq!(gaps(&m, r(0x30, 0x40)), [r(0x30, 0x40)]);
        // Window of one byte at each end of an entry.
        assert_eq!(gaps(&m, r(0x3f, 0x40)), [r(0x3f, 0x40)]);
        assert_eq!(gaps(&m, r(0x40, 0x41)), []);
        assert_eq!(gaps(&m, r(0x5f, 0x60)), []);
        assert_eq!(gaps(&m, r(0x60, 0x61)), [r(0x60, 0x61)]);
        // Whole space.
        assert_eq!(
            gaps(&m, Range::FULL),
            [r(0x20, 0x40), r(0x60, 0x80), Range::to_top(0xa0)]
        );
        // The iterator is fused.
        let mut g = m.gaps(r(0x45, 0x46));
        assert_eq!(g.next(), None);
        assert_eq!(g.next(), None);
    }

    #[test]
    fn gaps_size_hint_is_honest() {
        let m = map_of(&[(r(0x10, 0x20), 1), (r(0x30, 0x40), 2)]);
        let mut g = m.gaps(Range::FULL);
        let (lo, hi) = g.size_hint();
        assert!(lo <= 3 && hi >= Some(3));
        assert_eq!(g.by_ref().count(), 3);
        assert_eq!(g.size_hint(), (0, Some(0)));
    }

    #[test]
    fn overlapping_selects_intersecting_entries() {
        let m = map_of(&[(r(0x10, 0x20), 1), (r(0x20, 0x30), 2), (r(0x40, 0x50), 3)]);
        let ov = |s, e| m.overlapping(r(s, e)).map(|(_, v)| *v).collect::<Vec<_>>();
        assert_eq!(ov(0x0, 0x10), vec![]);
        assert_eq!(ov(0x0, 0x11), [1]);
        assert_eq!(ov(0x1f, 0x21), [1, 2]);
        assert_eq!(ov(0x30, 0x40), vec![]);
        assert_eq!(ov(0x2f, 0x41), [2, 3]);
        assert_eq!(ov(0x15, 0x16), [1]);
        assert_eq!(ov(0x0, 0x1000), [1, 2, 3]);
        assert_eq!(m.overlapping(Range::FULL).len(), 3);
        assert_eq!(
            m.overlapping(Range::FULL)
                .rev()
                .map(|(_, v)| *v)
                .collect::<Vec<_>>(),
            [3, 2, 1]
        );
    }

    #[test]
    fn ranges_of_and_iteration() {
        let m = map_of(&[(r(0x20, 0x30), 1), (r(0x0, 0x10), 1), (r(0x10, 0x20), 2)]);
        assert_eq!(
            m.ranges_of(&1).collect::<Vec<_>>(),
            [r(0, 0x10), r(0x20, 0x30)]
        );
        assert_eq!(m.ranges_of(&2).collect::<Vec<_>>(), [r(0x10, 0x20)]);
        assert_eq!(m.ranges_of(&3).count(), 0);
        assert_eq!(m.first(), Some((r(0, 0x10), &1)));
        assert_eq!(m.last(), Some((r(0x20, 0x30), &1)));
        let via_ref: Vec<_> = (&m).into_iter().collect();
        assert_eq!(via_ref, m.iter().collect::<Vec<_>>());
        assert_eq!(m.iter().len(), 3);
        let owned: Vec<_> = m.clone().into_iter().collect();
        assert_eq!(
            owned,
            [(r(0, 0x10), 1), (r(0x10, 0x20), 2), (r(0x20, 0x30), 1)]
        );
        assert_eq!(
            format!("{m:?}"),
            "{[0x0, 0x10): 1, [0x10, 0x20): 2, [0x20, 0x30): 1}"
        );
    }

    #[test]
    fn try_from_iter_sorts_and_detects_overlap() {
        let m = RangeMap::try_from_iter([
            (r(0x20, 0x30), 'c'),
            (r(0, 0x10), 'a'),
            (r(0x10, 0x20), 'b'),
        ])
        .unwrap();
        assert_eq!(m.values().copied().collect::<Vec<_>>(), ['a', 'b', 'c']);
        let e = RangeMap::try_from_iter([
            (r(0x18, 0x30), 'c'),
            (r(0, 0x10), 'a'),
            (r(0x10, 0x20), 'b'),
        ])
        .unwrap_err();
        assert_eq!((e.range, e.existing), (r(0x18, 0x30), r(0x10, 0x20)));
        let e = RangeMap::try_from_iter([(r(0, 0x10), 'a'), (r(0, 0x10), 'b')]).unwrap_err();
        assert_eq!((e.range, e.existing), (r(0, 0x10), r(0, 0x10)));
        let e = RangeMap::try_from_iter([(Range::FULL, 'a'), (r(5, 6), 'b')]).unwrap_err();
        assert_eq!((e.range, e.existing), (r(5, 6), Range::FULL));
        let empty = RangeMap::<u8>::try_from_iter([]).unwrap();
        assert!(empty.is_empty());
    }

    #[test]
    fn retain_and_clear() {
        let mut m = map_of(&[(r(0, 0x10), 1), (r(0x10, 0x20), 2), (r(0x20, 0x30), 3)]);
        m.retain(|range, v| {
            *v *= 10;
            range.start() != 0x10
        });
        assert_eq!(m.iter().map(|(_, v)| *v).collect::<Vec<_>>(), [10, 30]);
        assert_eq!(m.get(0x15), None);
        m.clear();
        assert!(m.is_empty());
        m.insert(Range::FULL, 1).unwrap();
        assert_eq!(m.len(), 1);
    }
}
