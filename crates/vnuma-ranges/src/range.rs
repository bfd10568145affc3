//! The [`Range`] type: a non-empty half-open range of the 64-bit space.

use core::fmt;

use crate::RangeError;

/// A non-empty, half-open range `[start, end)` of the 64-bit address space.
///
/// The range is stored as the inclusive pair `(start, last)` with
/// `start <= last`, so every non-empty range is representable, including the
/// ones that end exactly at 2^64 (for example `[0xffff_ffff_ffff_f000, 2^64)`
/// or the whole space, [`Range::FULL`]). Because of that:
///
/// * [`end`](Range::end) returns `None` for a range that ends at 2^64;
/// * [`size`](Range::size) returns a `u128`, since the whole space holds
///   2^64 addresses, one more than `u64::MAX`;
/// * [`Display`](fmt::Display) prints such an end as `0x10000000000000000`.
///
/// Ranges order by `start`, then by `last`. For disjoint ranges this is
/// address order.
///
/// `Debug` prints the same text as `Display`, e.g. `[0x1000, 0x2000)`.
///
/// # Examples
///
/// ```
/// use vnuma_ranges::Range;
///
/// let r = Range::new(0x1000, 0x2000)?;
/// assert_eq!((r.start(), r.last(), r.end()), (0x1000, 0x1fff, Some(0x2000)));
/// assert_eq!(r.size(), 0x1000);
/// assert_eq!(r.to_string(), "[0x1000, 0x2000)");
///
/// let top = Range::to_top(0xffff_ffff_ffff_f000);
/// assert_eq!(top.end(), None);
/// assert!(top.contains(u64::MAX));
/// assert_eq!(top.to_string(), "[0xfffffffffffff000, 0x10000000000000000)");
/// # Ok::<(), vnuma_ranges::RangeError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "RangeFields"))]
pub struct Range {
    // Invariant: start <= last.
    start: u64,
    last: u64,
}

/// The serialized form of a [`Range`], checked on the way in.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeFields {
    start: u64,
    last: u64,
}

#[cfg(feature = "serde")]
impl TryFrom<RangeFields> for Range {
    type Error = RangeError;

    fn try_from(f: RangeFields) -> Result<Self, RangeError> {
        Range::inclusive(f.start, f.last)
    }
}

impl Range {
    /// The whole 64-bit space, `[0, 2^64)`.
    pub const FULL: Range = Range {
        start: 0,
        last: u64::MAX,
    };

    /// Builds the half-open range `[start, end)`.
    ///
    /// `end` is exclusive, so it cannot express a range that ends at 2^64;
    /// use [`Range::to_top`], [`Range::inclusive`] or
    /// [`Range::from_start_len`] for those.
    ///
    /// # Errors
    ///
    /// [`RangeError::Empty`] if `start == end`, [`RangeError::Reversed`] if
    /// `start > end`.
    ///
    /// # Examples
    ///
    /// ```
    /// use vnuma_ranges::{Range, RangeError};
    ///
    /// assert_eq!(Range::new(0, 1)?.last(), 0);
    /// assert_eq!(Range::new(5, 5), Err(RangeError::Empty { start: 5 }));
    /// assert_eq!(Range::new(9, 5), Err(RangeError::Reversed { start: 9, end: 5 }));
    /// # Ok::<(), RangeError>(())
    /// ```
    pub const fn new(start: u64, end: u64) -> Result<Self, RangeError> {
        if start < end {
            // `end > start >= 0`, so `end - 1` cannot underflow.
            Ok(Range {
                start,
                last: end - 1,
            })
        } else if start == end {
            Err(RangeError::Empty { start })
        } else {
            Err(RangeError::Reversed { start, end })
        }
    }

    /// Builds the range of `len` addresses starting at `start`.
    ///
    /// `start + len` may be exactly 2^64 (the range then ends at the top of
    /// the space).
    ///
    /// # Errors
    ///
    /// [`RangeError::Empty`] if `len == 0`, [`RangeError::Overflow`] if
    /// `start + len > 2^64`.
    ///
    /// # Examples
    ///
    /// ```
    /// use vnuma_ranges::{Range, RangeError};
    ///
    /// assert_eq!(Range::from_start_len(0x1000, 0x1000)?, Range::new(0x1000, 0x2000)?);
    /// let top = Range::from_start_len(u64::MAX - 0xfff, 0x1000)?;
    /// assert_eq!(top.end(), None);
    /// assert_eq!(
    ///     Range::from_start_len(u64::MAX - 0xfff, 0x1001),
    ///     Err(RangeError::Overflow { start: u64::MAX - 0xfff, len: 0x1001 })
    /// );
    /// assert_eq!(Range::from_start_len(7, 0), Err(RangeError::Empty { start: 7 }));
    /// # Ok::<(), RangeError>(())
    /// ```
    pub const fn from_start_len(start: u64, len: u64) -> Result<Self, RangeError> {
        if len == 0 {
            return Err(RangeError::Empty { start });
        }
        // `len >= 1`, so `len - 1` cannot underflow.
        match start.checked_add(len - 1) {
            Some(last) => Ok(Range { start, last }),
            None => Err(RangeError::Overflow { start, len }),
        }
    }

    /// Builds the inclusive range `[start, last]`, i.e. `[start, last + 1)`.
    ///
    /// # Errors
    ///
    /// [`RangeError::ReversedInclusive`] if `start > last`.
    ///
    /// # Examples
    ///
    /// ```
    /// use vnuma_ranges::{Range, RangeError};
    ///
    /// assert_eq!(Range::inclusive(0, u64::MAX)?, Range::FULL);
    /// assert_eq!(Range::inclusive(3, 3)?.size(), 1);
    /// assert_eq!(
    ///     Range::inclusive(9, 5),
    ///     Err(RangeError::ReversedInclusive { start: 9, last: 5 })
    /// );
    /// # Ok::<(), RangeError>(())
    /// ```
    pub const fn inclusive(start: u64, last: u64) -> Result<Self, RangeError> {
        if start <= last {
            Ok(Range { start, last })
        } else {
            Err(RangeError::ReversedInclusive { start, last })
        }
    }

    /// Builds `[start, 2^64)`: everything from `start` to the top of the
    /// 64-bit space. Never fails, since the range always holds at least
    /// `u64::MAX`.
    ///
    /// # Examples
    ///
    /// ```
    /// use vnuma_ranges::Range;
    ///
    /// assert_eq!(Range::to_top(0), Range::FULL);
    /// assert_eq!(Range::to_top(u64::MAX).size(), 1);
    /// ```
    pub const fn to_top(start: u64) -> Self {
        Range {
            start,
            last: u64::MAX,
        }
    }

    /// The first address in the range.
    pub const fn start(&self) -> u64 {
        self.start
    }

    /// The last address in the range (inclusive). Always `>= start()`.
    pub const fn last(&self) -> u64 {
        self.last
    }

    /// The exclusive end, `last() + 1`, or `None` if the range ends at 2^64
    /// (that is, if it contains `u64::MAX`).
    ///
    /// # Examples
    ///
    /// ```
    /// use vnuma_ranges::Range;
    ///
    /// assert_eq!(Range::new(1, 2)?.end(), Some(2));
    /// assert_eq!(Range::to_top(1).end(), None);
    /// # Ok::<(), vnuma_ranges::RangeError>(())
    /// ```
    pub const fn end(&self) -> Option<u64> {
        self.last.checked_add(1)
    }

    /// The number of addresses in the range, `end - start`.
    ///
    /// This is a `u128` because [`Range::FULL`] holds 2^64 addresses, which
    /// does not fit in a `u64`. The result is always at least 1.
    ///
    /// # Examples
    ///
    /// ```
    /// use vnuma_ranges::Range;
    ///
    /// assert_eq!(Range::new(0x1000, 0x3000)?.size(), 0x2000);
    /// assert_eq!(Range::FULL.size(), 1u128 << 64);
    /// # Ok::<(), vnuma_ranges::RangeError>(())
    /// ```
    pub const fn size(&self) -> u128 {
        // Invariant `start <= last`: the subtraction cannot underflow, and
        // adding 1 in u128 cannot overflow.
        (self.last - self.start) as u128 + 1
    }

    /// Whether `addr` lies in the range.
    ///
    /// # Examples
    ///
    /// ```
    /// use vnuma_ranges::Range;
    ///
    /// let r = Range::new(0x1000, 0x2000)?;
    /// assert!(r.contains(0x1000) && r.contains(0x1fff));
    /// assert!(!r.contains(0xfff) && !r.contains(0x2000));
    /// # Ok::<(), vnuma_ranges::RangeError>(())
    /// ```
    pub const fn contains(&self, addr: u64) -> bool {
        self.start <= addr && addr <= self.last
    }

    /// Whether the two ranges share at least one address. Adjacent ranges
    /// (one's end is the other's start) do not overlap.
    ///
    /// # Examples
    ///
    /// ```
    /// use vnuma_ranges::Range;
    ///
    /// let a = Range::new(0x1000, 0x2000)?;
    /// assert!(a.overlaps(&Range::new(0x1fff, 0x3000)?));
    /// assert!(!a.overlaps(&Range::new(0x2000, 0x3000)?));
    /// # Ok::<(), vnuma_ranges::RangeError>(())
    /// ```
    pub const fn overlaps(&self, other: &Range) -> bool {
        self.start <= other.last && other.start <= self.last
    }

    /// The addresses common to both ranges, or `None` if they do not
    /// overlap.
    ///
    /// # Examples
    ///
    /// ```
    /// use vnuma_ranges::Range;
    ///
    /// let a = Range::new(0x1000, 0x3000)?;
    /// let b = Range::new(0x2000, 0x4000)?;
    /// assert_eq!(a.intersection(&b), Some(Range::new(0x2000, 0x3000)?));
    /// assert_eq!(a.intersection(&Range::new(0x3000, 0x4000)?), None);
    /// # Ok::<(), vnuma_ranges::RangeError>(())
    /// ```
    pub const fn intersection(&self, other: &Range) -> Option<Range> {
        if !self.overlaps(other) {
            return None;
        }
        let start = if self.start > other.start {
            self.start
        } else {
            other.start
        };
        let last = if self.last < other.last {
            self.last
        } else {
            other.last
        };
        // Overlapping ranges: max(start) <= min(last).
        Some(Range { start, last })
    }
}

impl fmt::Display for Range {
    /// Formats as `[0x1000, 0x2000)`; a range ending at 2^64 is shown with
    /// the end `0x10000000000000000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.end() {
            Some(end) => write!(f, "[{:#x}, {:#x})", self.start, end),
            None => write!(f, "[{:#x}, 0x10000000000000000)", self.start),
        }
    }
}

impl fmt::Debug for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl TryFrom<core::ops::Range<u64>> for Range {
    type Error = RangeError;

    /// Same as [`Range::new(r.start, r.end)`](Range::new).
    fn try_from(r: core::ops::Range<u64>) -> Result<Self, RangeError> {
        Range::new(r.start, r.end)
    }
}

impl From<Range> for core::ops::RangeInclusive<u64> {
    /// `start..=last`, which can represent ranges ending at 2^64.
    fn from(r: Range) -> Self {
        r.start..=r.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;

    const TOP: u128 = 1 << 64;

    #[test]
    fn new_accepts_non_empty() {
        let r = Range::new(0, 1).unwrap();
        assert_eq!((r.start(), r.last(), r.end(), r.size()), (0, 0, Some(1), 1));
        let r = Range::new(0, u64::MAX).unwrap();
        assert_eq!(r.last(), u64::MAX - 1);
        assert_eq!(r.end(), Some(u64::MAX));
        assert_eq!(r.size(), u128::from(u64::MAX));
    }

    #[test]
    fn new_rejects_empty_and_reversed() {
        assert_eq!(Range::new(0, 0), Err(RangeError::Empty { start: 0 }));
        assert_eq!(
            Range::new(u64::MAX, u64::MAX),
            Err(RangeError::Empty { start: u64::MAX })
        );
        assert_eq!(
            Range::new(1, 0),
            Err(RangeError::Reversed { start: 1, end: 0 })
        );
        assert_eq!(
            Range::new(u64::MAX, 0),
            Err(RangeError::Reversed {
                start: u64::MAX,
                end: 0
            })
        );
    }

    #[test]
    fn from_start_len_edges() {
        assert_eq!(
            Range::from_start_len(0, 0),
            Err(RangeError::Empty { start: 0 })
        );
        assert_eq!(
            Range::from_start_len(0, u64::MAX).unwrap().last(),
            u64::MAX - 1
        );
        // start + len == 2^64 exactly.
        let r = Range::from_start_len(1, u64::MAX).unwrap();
        assert_eq!((r.start(), r.last(), r.end()), (1, u64::MAX, None));
        assert_eq!(r.size(), u128::from(u64::MAX));
        let r = Range::from_start_len(u64::MAX, 1).unwrap();
        assert_eq!(r, Range::to_top(u64::MAX));
        // One past 2^64.
        assert_eq!(
            Range::from_start_len(2, u64::MAX),
            Err(RangeError::Overflow {
                start: 2,
                len: u64::MAX
            })
        );
        assert_eq!(
            Range::from_start_len(u64::MAX, 2),
            Err(RangeError::Overflow {
                start: u64::MAX,
                len: 2
            })
        );
        assert_eq!(
            Range::from_start_len(u64::MAX, u64::MAX),
            Err(RangeError::Overflow {
                start: u64::MAX,
                len: u64::MAX
            })
        );
    }

    #[test]
    fn inclusive_edges() {
        assert_eq!(Range::inclusive(0, u64::MAX).unwrap(), Range::FULL);
        assert_eq!(
            Range::inclusive(u64::MAX, u64::MAX).unwrap(),
            Range::to_top(u64::MAX)
        );
        assert_eq!(Range::inclusive(0, 0).unwrap(), Range::new(0, 1).unwrap());
        assert_eq!(
            Range::inclusive(1, 0),
            Err(RangeError::ReversedInclusive { start: 1, last: 0 })
        );
    }

    #[test]
    fn full_and_top() {
        assert_eq!(Range::FULL.size(), TOP);
        assert_eq!(Range::FULL.end(), None);
        assert!(Range::FULL.contains(0) && Range::FULL.contains(u64::MAX));
        assert_eq!(Range::to_top(0), Range::FULL);
        assert_eq!(Range::to_top(u64::MAX).size(), 1);
        assert_eq!(Range::to_top(1).size(), TOP - 1);
    }

    #[test]
    fn contains_bounds() {
        let r = Range::new(0x10, 0x20).unwrap();
        assert!(!r.contains(0xf));
        assert!(r.contains(0x10));
        assert!(r.contains(0x1f));
        assert!(!r.contains(0x20));
        let z = Range::new(0, 1).unwrap();
        assert!(z.contains(0) && !z.contains(1) && !z.contains(u64::MAX));
    }

    #[test]
    fn overlaps_and_intersection() {
        let a = Range::new(0x10, 0x20).unwrap();
        let cases = [
            // (other, expected intersection)
            ((0x0, 0x10), None),                // adjacent below
            ((0x20, 0x30), None),               // adjacent above
            ((0x0, 0x11), Some((0x10, 0x11))),  // one byte at the low side
            ((0x1f, 0x30), Some((0x1f, 0x20))), // one byte at the high side
            ((0x12, 0x14), Some((0x12, 0x14))), // contained
            ((0x0, 0x40), Some((0x10, 0x20))),  // containing
            ((0x10, 0x20), Some((0x10, 0x20))), // equal
        ];
        for ((s, e), want) in cases {
            let b = Range::new(s, e).unwrap();
            let want = want.map(|(s, e)| Range::new(s, e).unwrap());
            assert_eq!(a.overlaps(&b), want.is_some(), "{a} vs {b}");
            assert_eq!(b.overlaps(&a), want.is_some(), "{b} vs {a}");
            assert_eq!(a.intersection(&b), want, "{a} & {b}");
            assert_eq!(b.intersection(&a), want, "{b} & {a}");
        }
        let top = Range::to_top(u64::MAX);
        assert!(top.overlaps(&Range::FULL));
        assert_eq!(Range::FULL.intersection(&top), Some(top));
        assert!(!top.overlaps(&Range::new(0, u64::MAX).unwrap()));
    }

    #[test]
    fn display_and_debug() {
        let r = Range::new(0x1000, 0x2000).unwrap();
        assert_eq!(r.to_string(), "[0x1000, 0x2000)");
        assert_eq!(format!("{r:?}"), "[0x1000, 0x2000)");
        assert_eq!(Range::new(0, 1).unwrap().to_string(), "[0x0, 0x1)");
        assert_eq!(
            Range::new(0xABC, 0xDEF).unwrap().to_string(),
            "[0xabc, 0xdef)"
        );
        assert_eq!(
            Range::to_top(0xffff_ffff_ffff_f000).to_string(),
            "[0xfffffffffffff000, 0x10000000000000000)"
        );
        assert_eq!(Range::FULL.to_string(), "[0x0, 0x10000000000000000)");
        assert_eq!(
            Range::new(0, u64::MAX).unwrap().to_string(),
            "[0x0, 0xffffffffffffffff)"
        );
    }

    #[test]
    fn ordering_is_start_then_last() {
        let a = Range::new(1, 2).unwrap();
        let b = Range::new(1, 3).unwrap();
        let c = Range::new(2, 3).unwrap();
        assert!(a < b && b < c);
        assert!(Range::to_top(0) > Range::new(0, 5).unwrap());
    }

    #[test]
    fn conversions() {
        assert_eq!(Range::try_from(3..7), Range::new(3, 7));
        assert_eq!(Range::try_from(7..7), Err(RangeError::Empty { start: 7 }));
        let r: core::ops::RangeInclusive<u64> = Range::FULL.into();
        assert_eq!(r, 0..=u64::MAX);
    }
}
