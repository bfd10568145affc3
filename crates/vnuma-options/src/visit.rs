//! The options visitor: typed members out of QemuOpts items, with QEMU's
//! order of checks and messages (`qapi/opts-visitor.c`).
//!
//! Members are visited in schema order; a scalar takes the last of its
//! occurrences, a list all of them in order; keys nobody visited are
//! reported at the end as `Invalid parameter '{key}'`.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Error, ErrorKind, Expected, Warning, WarningKind};
use crate::grammar::Item;
use crate::span::Span;
use crate::value::{self, DefaultUnit, NumError};
use crate::IdRange;

/// Elements one `A-B` range may produce (QEMU's `OPTS_VISITOR_RANGE_MAX`).
pub(crate) const RANGE_MAX: u64 = 65536;

pub(crate) struct Visitor<'a> {
    items: &'a [Item<'a>],
    /// Which items a member took: a bit per item for the first 128, a
    /// vector beyond (hostile input only).
    processed: Processed,
    /// A well-formed `id=` the option group passes on as a member; the
    /// `-numa` schema has none, so it ends up invalid.
    id: Option<&'a Item<'a>>,
    id_processed: bool,
    pub(crate) warnings: Vec<Warning>,
    /// The release whose size syntax [`Visitor::size`] reads.
    pub(crate) syntax: crate::Syntax,
}

/// `a == b` for the short keys of an option, compared inline (a call to
/// `memcmp` per item and member costs more than the comparison).
#[inline]
fn key_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
}

fn invalid(key: &str, expected: Expected, span: Span) -> Error {
    Error::new(
        ErrorKind::InvalidValue {
            key: key.into(),
            expected,
        },
        span,
    )
}

impl<'a> Visitor<'a> {
    pub(crate) fn new(items: &'a [Item<'a>], id: Option<&'a Item<'a>>) -> Self {
        Visitor {
            items,
            processed: Processed::new(items.len()),
            id,
            id_processed: false,
            warnings: Vec::new(),
            syntax: crate::Syntax::Qemu72,
        }
    }

    /// The last occurrence of `key`, marking every occurrence processed.
    #[inline(always)]
    pub(crate) fn scalar(&mut self, key: &str) -> Option<&'a Item<'a>> {
        let mut found = None;
        for (i, item) in self.items.iter().enumerate() {
            if key_eq(item.key, key) {
                self.processed.set(i);
                found = Some(item);
            }
        }
        found
    }

    /// The `id` pseudo-member.
    pub(crate) fn id(&mut self) -> Option<&'a Item<'a>> {
        self.id_processed = true;
        self.id
    }

    /// Every occurrence of `key`, in order, marked processed.
    #[inline(always)]
    pub(crate) fn list(&mut self, key: &str) -> Vec<&'a Item<'a>> {
        let mut out = Vec::new();
        for (i, item) in self.items.iter().enumerate() {
            if key_eq(item.key, key) {
                self.processed.set(i);
                out.push(item);
            }
        }
        out
    }

    #[inline(always)]
    pub(crate) fn required(&mut self, key: &str, whole: Span) -> Result<&'a Item<'a>, Error> {
        self.scalar(key)
            .ok_or_else(|| Error::new(ErrorKind::MissingParameter { key: key.into() }, whole))
    }

    /// Report the first key no member took.
    pub(crate) fn finish(self) -> Result<Vec<Warning>, Error> {
        if let Some(id) = self.id.filter(|_| !self.id_processed) {
            return Err(Error::new(
                ErrorKind::InvalidParameter { key: "id".into() },
                id.span(),
            ));
        }
        if let Some(i) = (0..self.items.len()).find(|&i| !self.processed.get(i)) {
            let item = &self.items[i];
            return Err(Error::new(
                ErrorKind::InvalidParameter {
                    key: item.key.into(),
                },
                item.key_span,
            ));
        }
        Ok(self.warnings)
    }

    pub(crate) fn size(&mut self, item: &Item) -> Result<u64, Error> {
        match value::parse_size_in(&item.value, DefaultUnit::Bytes, self.syntax) {
            Ok(size) => {
                if size.hex_with_suffix {
                    self.warnings.push(Warning::new(
                        WarningKind::HexSizeSuffix {
                            text: item.value.clone().into_owned(),
                        },
                        item.value_span,
                    ));
                }
                Ok(size.bytes)
            }
            Err(_) => Err(invalid(item.key, Expected::Size, item.value_span)),
        }
    }
}

/// A set of item indexes.
pub(crate) struct Processed {
    bits: u128,
    more: Vec<bool>,
}

impl Processed {
    fn new(len: usize) -> Self {
        Processed {
            bits: 0,
            more: if len > 128 {
                alloc::vec![false; len - 128]
            } else {
                Vec::new()
            },
        }
    }

    fn set(&mut self, i: usize) {
        match i.checked_sub(128) {
            None => self.bits |= 1 << i,
            Some(j) => self.more[j] = true,
        }
    }

    fn get(&self, i: usize) -> bool {
        match i.checked_sub(128) {
            None => self.bits & (1 << i) != 0,
            Some(j) => self.more[j],
        }
    }
}

/// A scalar unsigned value: `uint64` parse then the width check; the
/// error is what was expected (`Uint64`, or `width` above `max`).
#[inline]
pub(crate) fn uint_value(text: &str, max: u64, width: Expected) -> Result<u64, Expected> {
    match value::parse_uint(text) {
        Some((v, end)) if end == text.len() => {
            if v > max {
                Err(width)
            } else {
                Ok(v)
            }
        }
        _ => Err(Expected::Uint64),
    }
}

/// A scalar unsigned member: [`uint_value`] with the item's key and span.
pub(crate) fn uint(item: &Item, max: u64, width: Expected) -> Result<u64, Error> {
    uint_value(&item.value, max, width).map_err(|e| invalid(item.key, e, item.value_span))
}

pub(crate) fn u8_member(item: &Item) -> Result<u8, Error> {
    uint(item, u8::MAX.into(), Expected::Uint8).map(|v| v as u8)
}

pub(crate) fn u16_member(item: &Item) -> Result<u16, Error> {
    uint(item, u16::MAX.into(), Expected::Uint16).map(|v| v as u16)
}

pub(crate) fn u32_member(item: &Item) -> Result<u32, Error> {
    uint(item, u32::MAX.into(), Expected::Uint32).map(|v| v as u32)
}

pub(crate) fn u64_member(item: &Item) -> Result<u64, Error> {
    uint(item, u64::MAX, Expected::Uint64)
}

/// A signed member (`strtoll`, base 0).
pub(crate) fn i64_member(item: &Item) -> Result<i64, Error> {
    value::parse_int64(&item.value)
        .ok_or_else(|| invalid(item.key, Expected::Int64, item.value_span))
}

pub(crate) fn bool_member(item: &Item) -> Result<bool, Error> {
    value::parse_bool(&item.value).ok_or_else(|| invalid(item.key, Expected::Bool, item.value_span))
}

/// Why one element of a `uint16` list member is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ListError {
    /// Not `A` or `A-B` with `A ≤ B` and `B − A < 65536`
    /// (`Parameter '{key}' expects a uint64 value or range`).
    Syntax,
    /// A bound above 65535 (`Parameter 'null' expects uint16_t`).
    Width,
}

/// One element of a `uint16` list member, as the range written.
#[inline]
pub(crate) fn u16_range(text: &str) -> Result<IdRange, ListError> {
    let (first, end) = value::parse_uint(text).ok_or(ListError::Syntax)?;
    let last = if end == text.len() {
        first
    } else if text.as_bytes()[end] == b'-' {
        match value::parse_uint_full(&text[end + 1..]) {
            Some(last) if first <= last && last - first < RANGE_MAX => last,
            _ => return Err(ListError::Syntax),
        }
    } else {
        return Err(ListError::Syntax);
    };
    // Elements are produced and checked one by one, so the first one
    // above 65535 fails.
    if first > u64::from(u16::MAX) || last > u64::from(u16::MAX) {
        return Err(ListError::Width);
    }
    Ok(IdRange::new(first as u16, last as u16))
}

/// The elements of a `uint16` list member, kept as the ranges written:
/// `A` or `A-B` with `A ≤ B` and `B − A < 65536`; each element is
/// width-checked with QEMU's `null` key.
pub(crate) fn u16_list(items: &[&Item<'_>]) -> Result<Vec<IdRange>, Error> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match u16_range(&item.value) {
            Ok(range) => out.push(range),
            Err(ListError::Syntax) => {
                return Err(invalid(item.key, Expected::Uint64OrRange, item.value_span))
            }
            Err(ListError::Width) => {
                return Err(invalid("null", Expected::Uint16, item.value_span))
            }
        }
    }
    Ok(out)
}

/// An enum member: the value must be one of `names` (index returned).
pub(crate) fn enum_member(item: &Item, names: &[&str]) -> Result<usize, Error> {
    names.iter().position(|n| *n == item.value).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidEnumValue {
                key: item.key.into(),
                value: item.value.clone().into_owned(),
            },
            item.value_span,
        )
    })
}

/// The legacy CLI re-parse of `-numa node,mem=` in MiB. QEMU 7.2 ignores
/// a failure of this second parse and keeps the byte value of the first;
/// 10.0 reports it (`could not parse memory size '…': Numerical result out
/// of range`).
pub(crate) fn legacy_mem(
    item: &Item,
    bytes: u64,
    warnings: &mut Vec<Warning>,
    syntax: crate::Syntax,
) -> Result<u64, Error> {
    if syntax != crate::Syntax::Qemu72 {
        return value::parse_size_in(&item.value, DefaultUnit::MiB, syntax)
            .map(|size| size.bytes)
            .map_err(|e| {
                Error::new(
                    ErrorKind::MemSizeUnparsable {
                        value: item.value.clone().into_owned(),
                        out_of_range: e == NumError::Range,
                    },
                    item.value_span,
                )
            });
    }
    Ok(match value::parse_size(&item.value, DefaultUnit::MiB) {
        Ok(size) => {
            if size.hex_with_suffix {
                warnings.push(Warning::new(
                    WarningKind::HexSizeSuffix {
                        text: item.value.clone().into_owned(),
                    },
                    item.value_span,
                ));
            }
            size.bytes
        }
        Err(NumError::Invalid | NumError::Range) => bytes,
    })
}

pub(crate) fn string_member(item: &Item) -> String {
    item.value.clone().into_owned()
}
