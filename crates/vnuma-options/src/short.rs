//! A string kept inline when short: the merged `-machine`/`-smp` keys and
//! values are nearly all a few bytes (`smp.sockets`, `q35`, `4`), and one
//! allocation each was most of the cost of reading a typical `-smp`.

use alloc::boxed::Box;
use core::borrow::Borrow;
use core::cmp::Ordering;
use core::fmt;

/// Bytes kept inline (with the length and the tag, the whole is 24 bytes,
/// the size of a `String`).
const INLINE: usize = 22;

/// An immutable string, inline up to [`INLINE`] bytes, boxed beyond.
#[derive(Clone)]
pub(crate) enum ShortString {
    Inline { len: u8, bytes: [u8; INLINE] },
    Boxed(Box<str>),
}

impl ShortString {
    /// `a` followed by `b`.
    pub(crate) fn concat(a: &str, b: &str) -> Self {
        Self::from_parts(&[a, b])
    }

    /// The parts end to end.
    pub(crate) fn from_parts(parts: &[&str]) -> Self {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len <= INLINE {
            let mut bytes = [0; INLINE];
            let mut at = 0;
            for p in parts {
                bytes[at..at + p.len()].copy_from_slice(p.as_bytes());
                at += p.len();
            }
            // `len` <= INLINE < 256.
            ShortString::Inline {
                len: len as u8,
                bytes,
            }
        } else {
            let mut s = alloc::string::String::with_capacity(len);
            for p in parts {
                s.push_str(p);
            }
            ShortString::Boxed(s.into_boxed_str())
        }
    }

    /// The UTF-8 bytes, without checking them again.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            ShortString::Inline { len, bytes } => &bytes[..usize::from(*len)],
            ShortString::Boxed(s) => s.as_bytes(),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            // The bytes are the UTF-8 of `&str`s put end to end, so
            // this never fails; the empty fallback keeps the
            // crate free of `unsafe`.
            ShortString::Inline { len, bytes } => {
                core::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            ShortString::Boxed(s) => s,
        }
    }
}

impl From<&str> for ShortString {
    fn from(s: &str) -> Self {
        ShortString::concat(s, "")
    }
}

impl core::ops::Deref for ShortString {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

/// Maps keyed by `ShortString` are searched by bytes: the same order as
/// `str`'s (UTF-8 orders as code points do), without checking the UTF-8
/// of every key compared.
impl Borrow<[u8]> for ShortString {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for ShortString {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for ShortString {}

impl PartialOrd for ShortString {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ShortString {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Debug for ShortString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_boxed_read_back_and_order_as_str() {
        let cases = [
            ("", ""),
            ("smp.", "sockets"),
            ("", "q35"),
            ("é", "ü"),
            ("smp.", "a-key-of-exactly-22b"),
            ("smp.", "a-key-of-exactly-23by"),
            ("", "memory-backend-with-a-long-id"),
        ];
        let mut made: alloc::vec::Vec<(ShortString, alloc::string::String)> = cases
            .iter()
            .map(|(a, b)| (ShortString::concat(a, b), alloc::format!("{a}{b}")))
            .collect();
        for (s, want) in &made {
            assert_eq!(s.as_str(), want.as_str());
            let inline = matches!(s, ShortString::Inline { .. });
            assert_eq!(inline, want.len() <= INLINE, "{want:?}");
        }
        made.sort_by(|a, b| a.0.cmp(&b.0));
        assert!(made.windows(2).all(|w| w[0].1 <= w[1].1));
        assert_eq!(core::mem::size_of::<ShortString>(), 24);
    }
}
