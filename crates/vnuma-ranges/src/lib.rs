//! A map from disjoint half-open `u64` ranges to values.
//!
//! [`RangeMap<V>`] associates non-overlapping [`Range`]s of the 64-bit space
//! with values and answers "which entry contains this address?" in
//! O(log n) without allocating. In vnuma it maps guest-physical address
//! ranges to the NUMA node that owns them, but the crate knows nothing about
//! NUMA: values are any `V`.
//!
//! # When to use it
//!
//! Use this crate when you have a modest number of disjoint ranges (up to a
//! few thousand, such as a machine's memory map), build the map once or
//! change it rarely, and query it often by address. The entries live in one
//! sorted `Vec`, so lookups are cache-friendly binary searches, while each
//! insertion or removal may shift the whole `Vec` (O(n)). For millions of
//! ranges with frequent updates, or for ranges that may overlap (an interval
//! tree problem), use a different structure.
//!
//! # Example
//!
//! ```
//! use vnuma_ranges::{Range, RangeMap};
//!
//! // 2 GiB of RAM at 0, 2 GiB above the 4 GiB boundary, 1 MiB of flash at the top.
//! let mut map = RangeMap::new();
//! map.insert(Range::new(0, 0x8000_0000)?, "ram0")?;
//! map.insert(Range::from_start_len(0x1_0000_0000, 0x8000_0000)?, "ram1")?;
//! map.insert(Range::to_top(0xffff_ffff_fff0_0000), "flash")?;
//!
//! assert_eq!(map.get(0x7fff_ffff), Some(&"ram0"));
//! assert_eq!(map.get(0x8000_0000), None);
//! assert_eq!(map.get(u64::MAX), Some(&"flash"));
//!
//! // Overlaps are refused and leave the map unchanged.
//! let err = map.insert(Range::new(0x7000_0000, 0x9000_0000)?, "bad").unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "range [0x70000000, 0x90000000) overlaps existing range [0x0, 0x80000000)"
//! );
//!
//! // Holes in the first 8 GiB.
//! let holes: Vec<String> = map
//!     .gaps(Range::new(0, 0x2_0000_0000)?)
//!     .map(|r| r.to_string())
//!     .collect();
//! assert_eq!(holes, ["[0x80000000, 0x100000000)", "[0x180000000, 0x200000000)"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Edge cases
//!
//! * **Ranges are never empty.** [`Range::new`] rejects `start == end`
//!   ([`RangeError::Empty`]) and `start > end` ([`RangeError::Reversed`]);
//!   [`Range::from_start_len`] rejects a zero length ([`RangeError::Empty`]).
//! * **The top of the space is representable.** A [`Range`] is stored as the
//!   inclusive pair `(start, last)`, so `[start, 2^64)` exists (see
//!   [`Range::to_top`], [`Range::FULL`]). For such a range
//!   [`Range::end`] is `None`, [`Range::size`] is a `u128` (the full space
//!   holds 2^64 addresses), and `Display` prints the end as
//!   `0x10000000000000000`. [`Range::from_start_len`] accepts
//!   `start + len == 2^64` and reports [`RangeError::Overflow`] beyond it.
//! * **Adjacent is not overlapping.** `[a, b)` and `[b, c)` can both be in a
//!   map; they stay separate entries even with equal values (no merging).
//! * **Overlap errors** name the new range and the *lowest* existing range it
//!   overlaps; the map is unchanged and the value is dropped.
//! * **Removal is exact.** [`RangeMap::remove`] only removes an entry with the
//!   same start and end; a partial or covering range is a no-op returning
//!   `None` (entries are never split).
//! * **Gaps are clipped** to the window passed to [`RangeMap::gaps`]: entries
//!   straddling its bounds count only for their part inside it.
//! * **Ordering.** [`Range`] orders by start, then by last address; for the
//!   disjoint ranges of a map this is address order, which is the order of
//!   every iterator here.
//! * **No panics.** No method panics on any input (other than the allocator
//!   failing), and the crate contains no `unsafe`.

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

mod error;
mod map;
mod range;

pub use error::{OverlapError, RangeError};
pub use map::{Gaps, IntoIter, Iter, RangeMap};
pub use range::Range;

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
