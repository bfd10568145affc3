//! Error types returned by [`Range`] constructors and [`RangeMap`] mutators.
//!
//! [`RangeMap`]: crate::RangeMap

use crate::Range;

/// Why a [`Range`] could not be built.
///
/// Every variant carries the values the caller passed in, so the message
/// pinpoints the bad input. All addresses are shown in lowercase hexadecimal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum RangeError {
    /// The range would contain no address: `start == end` for
    /// [`Range::new`], or a zero length for [`Range::from_start_len`].
    #[error("empty range: start {start:#x} equals end")]
    Empty {
        /// The start address that was given.
        start: u64,
    },
    /// [`Range::new`] was given an exclusive `end` below `start`.
    #[error("reversed range: start {start:#x} is after end {end:#x}")]
    Reversed {
        /// The start address that was given.
        start: u64,
        /// The exclusive end address that was given.
        end: u64,
    },
    /// [`Range::inclusive`] was given a `last` address below `start`.
    #[error("reversed range: start {start:#x} is after last address {last:#x}")]
    ReversedInclusive {
        /// The start address that was given.
        start: u64,
        /// The inclusive last address that was given.
        last: u64,
    },
    /// [`Range::from_start_len`] was given a length that takes the range past
    /// the top of the 64-bit space (`start + len > 2^64`).
    #[error("range overflow: start {start:#x} plus length {len:#x} exceeds 2^64")]
    Overflow {
        /// The start address that was given.
        start: u64,
        /// The length that was given.
        len: u64,
    },
}

/// An insertion into a [`RangeMap`](crate::RangeMap) was refused because the
/// new range intersects a range already in the map.
///
/// The map is left unchanged when this error is returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[error("range {range} overlaps existing range {existing}")]
#[non_exhaustive]
pub struct OverlapError {
    /// The range that was being inserted.
    pub range: Range,
    /// The existing range it overlaps. When several existing ranges overlap,
    /// this is the lowest one.
    pub existing: Range,
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn range_error_messages() {
        assert_eq!(
            RangeError::Empty { start: 5 }.to_string(),
            "empty range: start 0x5 equals end"
        );
        assert_eq!(
            RangeError::Reversed { start: 9, end: 5 }.to_string(),
            "reversed range: start 0x9 is after end 0x5"
        );
        assert_eq!(
            RangeError::ReversedInclusive { start: 9, last: 5 }.to_string(),
            "reversed range: start 0x9 is after last address 0x5"
        );
        assert_eq!(
            RangeError::Overflow {
                start: 0xffff_ffff_ffff_f000,
                len: 0x2000
            }
            .to_string(),
            "range overflow: start 0xfffffffffffff000 plus length 0x2000 exceeds 2^64"
        );
    }

    #[test]
    fn overlap_error_message() {
        let e = OverlapError {
            range: Range::new(0x1000, 0x3000).unwrap(),
            existing: Range::new(0x2000, 0x4000).unwrap(),
        };
        assert_eq!(
            e.to_string(),
            "range [0x1000, 0x3000) overlaps existing range [0x2000, 0x4000)"
        );
    }

    #[test]
    fn errors_implement_core_error() {
        fn is_error<E: core::error::Error + Send + Sync + 'static>(_: &E) {}
        is_error(&RangeError::Empty { start: 0 });
        is_error(&OverlapError {
            range: Range::FULL,
            existing: Range::FULL,
        });
    }
}
