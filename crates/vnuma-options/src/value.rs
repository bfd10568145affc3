//! Value parsers with QEMU's exact acceptance rules.
//!
//! QEMU parses numbers with the C library (`strtoull`, `strtoll`,
//! `strtod`) and its own `qemu_strtosz`. The functions here reproduce what
//! those accept, byte for byte, without depending on a C library: leading
//! white space, an optional sign, base-0 prefixes (`0x` hexadecimal, `0`
//! octal), overflow detection.

/// The outcome of a C-style unsigned parse (`strtoull`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CUnsigned {
    /// The value (wrapped negation for a leading `-`, `u64::MAX` on
    /// overflow), as the C function returns it.
    pub(crate) value: u64,
    /// Index one past the last byte consumed (0 if nothing was converted).
    pub(crate) end: usize,
    /// The magnitude did not fit in 64 bits (`ERANGE`).
    pub(crate) overflow: bool,
    /// Whether a `-` sign was consumed.
    pub(crate) negative: bool,
}

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn digit_value(b: u8) -> Option<u32> {
    match b {
        b'0'..=b'9' => Some(u32::from(b - b'0')),
        b'a'..=b'z' => Some(u32::from(b - b'a') + 10),
        b'A'..=b'Z' => Some(u32::from(b - b'A') + 10),
        _ => None,
    }
}

/// Emulates C `strtoull(s, &end, base)` for base 0, 10 or 16.
pub(crate) fn c_strtoull(s: &[u8], base: u32) -> CUnsigned {
    // Fast path: up to 19 decimal digits starting with 1-9 (no space,
    // sign or base prefix; cannot overflow), the common case. Base 0
    // reads them as decimal too.
    if base != 16 && s.first().is_some_and(|b| (b'1'..=b'9').contains(b)) {
        let n = s.iter().take(20).take_while(|b| b.is_ascii_digit()).count();
        if n <= 19 {
            let value = s[..n]
                .iter()
                .fold(0u64, |v, &b| v * 10 + u64::from(b - b'0'));
            return CUnsigned {
                value,
                end: n,
                overflow: false,
                negative: false,
            };
        }
    }
    let none = CUnsigned {
        value: 0,
        end: 0,
        overflow: false,
        negative: false,
    };
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut negative = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        negative = s[i] == b'-';
        i += 1;
    }
    let mut base = base;
    let has_hex_prefix = |i: usize| {
        i + 2 < s.len() + 1
            && s.get(i) == Some(&b'0')
            && matches!(s.get(i + 1), Some(b'x' | b'X'))
            && s.get(i + 2)
                .and_then(|&b| digit_value(b))
                .is_some_and(|d| d < 16)
    };
    if (base == 0 || base == 16) && has_hex_prefix(i) {
        base = 16;
        i += 2;
    } else if base == 0 {
        base = if s.get(i) == Some(&b'0') { 8 } else { 10 };
    }
    let start = i;
    let mut value: u64 = 0;
    let mut overflow = false;
    while let Some(d) = s.get(i).and_then(|&b| digit_value(b)) {
        if d >= base {
            break;
        }
        match value
            .checked_mul(u64::from(base))
            .and_then(|v| v.checked_add(u64::from(d)))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start {
        return none;
    }
    if overflow {
        value = u64::MAX;
    } else if negative {
        value = value.wrapping_neg();
    }
    CUnsigned {
        value,
        end: i,
        overflow,
        negative,
    }
}

/// Emulates C `strtoll(s, &end, base)`: `(value, end, overflow)`.
pub(crate) fn c_strtoll(s: &[u8], base: u32) -> (i64, usize, bool) {
    let u = c_strtoull(s, base);
    if u.end == 0 {
        return (0, 0, false);
    }
    if u.overflow {
        return (if u.negative { i64::MIN } else { i64::MAX }, u.end, true);
    }
    // Magnitude of the digits (undo the wrapping negation).
    let magnitude = if u.negative {
        u.value.wrapping_neg()
    } else {
        u.value
    };
    if u.negative {
        if magnitude > 1u64 << 63 {
            (i64::MIN, u.end, true)
        } else {
            (0i64.wrapping_sub_unsigned(magnitude), u.end, false)
        }
    } else if magnitude > i64::MAX as u64 {
        (i64::MAX, u.end, true)
    } else {
        (magnitude as i64, u.end, false)
    }
}

/// QEMU's `parse_uint(s, &v, &end, 0)`: an unsigned base-0 number that
/// must not be negative. Returns the value and the index where parsing
/// stopped, or `None` (no digits, overflow, or a minus sign).
pub(crate) fn parse_uint(s: &str) -> Option<(u64, usize)> {
    let u = c_strtoull(s.as_bytes(), 0);
    if u.end == 0 || u.overflow || u.negative {
        return None;
    }
    Some((u.value, u.end))
}

/// QEMU's `parse_uint_full`: [`parse_uint`] that must consume everything.
pub(crate) fn parse_uint_full(s: &str) -> Option<u64> {
    match parse_uint(s) {
        Some((v, end)) if end == s.len() => Some(v),
        _ => None,
    }
}

/// The options visitor's signed parse (`strtoll`, base 0, whole string).
pub(crate) fn parse_int64(s: &str) -> Option<i64> {
    let (v, end, overflow) = c_strtoll(s.as_bytes(), 0);
    (end != 0 && end == s.len() && !overflow).then_some(v)
}

/// Why an unsigned or size parse failed, where QEMU tells the two apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NumError {
    /// Not a number (`EINVAL`).
    Invalid,
    /// A number too large (`ERANGE`).
    Range,
}

/// QEMU's `qemu_strtou64(s, NULL, 0)`: like `strtoull`, so a leading `-`
/// wraps (`-1` is 2^64 − 1); the whole string must be consumed.
pub(crate) fn qemu_strtou64(s: &str) -> Result<u64, NumError> {
    let u = c_strtoull(s.as_bytes(), 0);
    if u.end == 0 {
        return Err(NumError::Invalid);
    }
    if u.overflow {
        return Err(if u.end == s.len() {
            NumError::Range
        } else {
            NumError::Invalid
        });
    }
    if u.end != s.len() {
        return Err(NumError::Invalid);
    }
    Ok(u.value)
}

/// An unsigned integer as QEMU reads a device's integer property from
/// `-device` text (`qemu_strtou64(s, NULL, 0)`: decimal, `0x` hex or `0`
/// octal, a leading `-` wrapping); `None` when it does not parse or
/// overflows.
///
/// ```
/// use vnuma_options::value::parse_u64;
/// assert_eq!(parse_u64("0x10"), Some(16));
/// assert_eq!(parse_u64("-1"), Some(u64::MAX));
/// assert_eq!(parse_u64("12k"), None);
/// ```
pub fn parse_u64(s: &str) -> Option<u64> {
    qemu_strtou64(s).ok()
}

/// QEMU's `qemu_strtoi64(s, NULL, 0)`.
pub(crate) fn qemu_strtoi64(s: &str) -> Result<i64, NumError> {
    let (v, end, overflow) = c_strtoll(s.as_bytes(), 0);
    if end == 0 || end != s.len() {
        return Err(NumError::Invalid);
    }
    if overflow {
        return Err(NumError::Range);
    }
    Ok(v)
}

/// QEMU's boolean spellings (`qapi_bool_parse`), case-sensitive.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "on" | "yes" | "true" | "y" => Some(true),
        "off" | "no" | "false" | "n" => Some(false),
        _ => None,
    }
}

/// A successfully parsed size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Size {
    pub(crate) bytes: u64,
    /// Hexadecimal with a suffix: QEMU 7.2 accepts it with a deprecation
    /// warning.
    pub(crate) hex_with_suffix: bool,
}

fn suffix_mul(b: u8) -> Option<u64> {
    let shift = match b.to_ascii_uppercase() {
        b'B' => 0,
        b'K' => 10,
        b'M' => 20,
        b'G' => 30,
        b'T' => 40,
        b'P' => 50,
        b'E' => 60,
        _ => return None,
    };
    Some(1u64 << shift)
}

/// The unit a size without suffix is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DefaultUnit {
    /// Bytes (`qemu_strtosz`).
    Bytes,
    /// MiB (`qemu_strtosz_MiB`, the legacy `-numa node,mem=` re-parse).
    MiB,
}

/// What `strtod` makes of a fraction that starts at a `.`.
enum Fraction {
    /// Nothing converted (a `.` without digits).
    None,
    /// The digits run to `end`, but the value underflows (`ERANGE`).
    Underflow { end: usize },
    /// A value in `[0, 1]` and the index after it.
    Value { value: f64, end: usize },
    /// The converted text has an exponent: QEMU rejects the size.
    Exponent,
}

/// Parse a fraction that starts at the `.` of `s[dot..]` the way `strtod`
/// would.
fn parse_fraction(s: &[u8], dot: usize) -> Fraction {
    let mut i = dot + 1;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
    }
    let digits = &s[dot + 1..i];
    if digits.is_empty() {
        return Fraction::None;
    }
    // An exponent is part of what strtod consumes if it is complete.
    if i < s.len() && (s[i] == b'e' || s[i] == b'E') {
        let mut j = i + 1;
        if j < s.len() && (s[j] == b'+' || s[j] == b'-') {
            j += 1;
        }
        if j < s.len() && s[j].is_ascii_digit() {
            return Fraction::Exponent;
        }
    }
    // Bound the work on hostile input: 40 significant digits are far
    // beyond f64 precision, and more than 400 leading zeros always
    // underflow.
    let leading_zeros = digits.iter().take_while(|&&d| d == b'0').count();
    if leading_zeros == digits.len() {
        return Fraction::Value { value: 0.0, end: i };
    }
    if leading_zeros > 400 {
        return Fraction::Underflow { end: i };
    }
    let mut text = alloc::string::String::with_capacity(3 + leading_zeros + 40);
    text.push_str("0.");
    let kept = digits.len().min(leading_zeros + 40);
    for &d in &digits[..kept] {
        text.push(char::from(d));
    }
    // Keep the rounding of dropped digits: a trailing non-zero digit makes
    // ties round the way the full string would.
    if digits[kept..].iter().any(|&d| d != b'0') {
        text.push('1');
    }
    let value: f64 = text.parse().unwrap_or(0.0);
    if value < f64::MIN_POSITIVE {
        return Fraction::Underflow { end: i };
    }
    Fraction::Value { value, end: i }
}

/// `qemu_strtosz` / `qemu_strtosz_MiB` of the given release.
pub(crate) fn parse_size_in(
    s: &str,
    unit: DefaultUnit,
    syntax: crate::Syntax,
) -> Result<Size, NumError> {
    match syntax {
        crate::Syntax::Qemu72 => parse_size(s, unit),
        crate::Syntax::Qemu100 => parse_size_10_0(s, unit),
    }
}

/// QEMU 10.0's `qemu_strtosz` (as rewritten in 8.0): a hexadecimal number
/// takes no suffix and no fraction; a negative number (`-0` too) is out of
/// range; a fraction may stand without an integral part (`.5K`), is read
/// up to the first `e`/`E` (a suffix, not an exponent), carries into the
/// integral part when it rounds to 1, and counts as non-zero when it
/// underflows.
fn parse_size_10_0(s: &str, unit: DefaultUnit) -> Result<Size, NumError> {
    let b = s.as_bytes();
    // QEMU returns ERANGE only when nothing follows where it stopped.
    let range_at = |end: usize| {
        if end == b.len() {
            NumError::Range
        } else {
            NumError::Invalid
        }
    };
    let dec = c_strtoull(b, 10);
    let integral = dec.end != 0;
    if integral && (dec.overflow || dec.negative) {
        return Err(range_at(dec.end));
    }
    let mut end = dec.end;
    let mut val = if integral { dec.value } else { 0 };
    let mut valf: u64 = 0;
    if integral && val == 0 && matches!(b.get(end), Some(b'x' | b'X')) {
        let h = c_strtoull(b, 16);
        if h.overflow {
            return Err(range_at(h.end));
        }
        val = h.value;
        end = h.end;
        if b.get(end) == Some(&b'.') || b.get(end).is_some_and(|&c| suffix_mul(c).is_some()) {
            return Err(NumError::Invalid);
        }
    } else if b.get(end) == Some(&b'.') || (!integral && b.contains(&b'.')) {
        if integral && !b.get(end + 1).is_some_and(u8::is_ascii_digit) {
            end += 1;
        } else {
            // strtod over a copy cut at the first `e`/`E`. Without an
            // integral part, strtod may skip white space and a sign first;
            // anything but a fraction then fails (inf and nan are refused).
            let cut = b[end..]
                .iter()
                .position(|&c| c == b'e' || c == b'E')
                .map_or(b.len(), |i| end + i);
            let copy = &b[..cut];
            let mut i = end;
            while i < copy.len() && is_c_space(copy[i]) {
                i += 1;
            }
            let mut negative = false;
            if !integral && i < copy.len() && (copy[i] == b'+' || copy[i] == b'-') {
                negative = copy[i] == b'-';
                i += 1;
            }
            if copy.get(i) != Some(&b'.') {
                return Err(NumError::Invalid);
            }
            let (fraction, after) = match parse_fraction(copy, i) {
                Fraction::None | Fraction::Exponent => return Err(NumError::Invalid),
                Fraction::Underflow { end: after } => (None, after),
                Fraction::Value { value, end: after } => (Some(value), after),
            };
            end = after;
            if negative {
                return Err(range_at(end));
            }
            match fraction {
                Some(f) if f >= 1.0 => val = val.checked_add(1).ok_or_else(|| range_at(end))?,
                // An underflowing fraction is not zero.
                None => valf = 1,
                Some(f) => {
                    valf = (f * 18_446_744_073_709_551_616.0) as u64;
                    if valf == 0 && f > 0.0 {
                        valf = 1;
                    }
                }
            }
        }
    } else if !integral {
        // Neither digits nor a fraction.
        return Err(NumError::Invalid);
    }
    let mul = match b.get(end).and_then(|&c| suffix_mul(c)) {
        Some(m) => {
            end += 1;
            m
        }
        None => match unit {
            DefaultUnit::Bytes => 1,
            DefaultUnit::MiB => 1 << 20,
        },
    };
    let bytes = if mul == 1 {
        if valf != 0 {
            return Err(NumError::Invalid);
        }
        val
    } else {
        let whole = u128::from(val) * u128::from(mul);
        let frac = u128::from(valf) * u128::from(mul);
        let total = whole + (frac >> 64) + ((frac >> 63) & 1);
        u64::try_from(total).map_err(|_| range_at(end))?
    };
    if end != b.len() {
        return Err(NumError::Invalid);
    }
    Ok(Size {
        bytes,
        hex_with_suffix: false,
    })
}

/// QEMU 7.2's `qemu_strtosz` (`unit` = [`DefaultUnit::Bytes`]) and
/// `qemu_strtosz_MiB`: decimal with optional fraction and binary suffix,
/// or hexadecimal (then no fraction); the whole string must be consumed.
pub(crate) fn parse_size(s: &str, unit: DefaultUnit) -> Result<Size, NumError> {
    let b = s.as_bytes();
    let dec = c_strtoull(b, 10);
    if dec.end == 0 {
        return Err(NumError::Invalid);
    }
    let mut end = dec.end;
    if dec.overflow {
        // qemu_strtou64 reports ERANGE, unless bytes follow (EINVAL).
        return Err(if end == b.len() {
            NumError::Range
        } else {
            NumError::Invalid
        });
    }
    if b[..end].contains(&b'-') {
        return Err(NumError::Invalid);
    }
    let mut val = dec.value;
    let mut valf: u64 = 0;
    let mut hex = false;
    if val == 0 && matches!(b.get(end), Some(b'x' | b'X')) {
        let h = c_strtoull(b, 16);
        if h.end == 0 {
            return Err(NumError::Invalid);
        }
        if h.overflow {
            return Err(if h.end == b.len() {
                NumError::Range
            } else {
                NumError::Invalid
            });
        }
        val = h.value;
        end = h.end;
        hex = true;
        if b.get(end) == Some(&b'.') {
            return Err(NumError::Invalid);
        }
    } else if b.get(end) == Some(&b'.') {
        match parse_fraction(b, end) {
            Fraction::Exponent => return Err(NumError::Invalid),
            // QEMU steps one byte past where strtod stopped: past the
            // '.' when nothing converted, past the byte after the digits
            // on underflow (which swallows a suffix).
            Fraction::None => end += 1,
            Fraction::Underflow { end: after } => end = (after + 1).min(b.len()),
            Fraction::Value {
                value: fraction,
                end: after,
            } => {
                end = after;
                let scaled = fraction * 18_446_744_073_709_551_616.0;
                // C's double → uint64 conversion of exactly 2^64 (a
                // fraction that rounded up to 1.0) yields 0 on x86-64.
                valf = if scaled >= 18_446_744_073_709_551_616.0 {
                    0
                } else {
                    scaled as u64
                };
            }
        }
    }
    let mut hex_with_suffix = false;
    let mul = match b.get(end).and_then(|&c| suffix_mul(c)) {
        Some(m) => {
            end += 1;
            hex_with_suffix = hex;
            m
        }
        None => match unit {
            DefaultUnit::Bytes => 1,
            DefaultUnit::MiB => 1 << 20,
        },
    };
    let result = if mul == 1 {
        if valf != 0 {
            return Err(NumError::Invalid);
        }
        Ok(val)
    } else {
        let whole = u128::from(val) * u128::from(mul);
        let frac = u128::from(valf) * u128::from(mul);
        let total = whole + (frac >> 64) + ((frac >> 63) & 1);
        u64::try_from(total).map_err(|_| NumError::Range)
    };
    if end != b.len() {
        return Err(NumError::Invalid);
    }
    result.map(|bytes| Size {
        bytes,
        hex_with_suffix,
    })
}

/// Whether `s` is a QEMU identifier (`id_wellformed`): a letter, then
/// letters, digits, `-`, `.` and `_`.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

/// Format a byte count with the largest binary suffix that divides it
/// exactly (`1G`, `1536M`, `4097`), which every size parser reads back
/// to the same value.
pub fn format_size(bytes: u64) -> alloc::string::String {
    const SUFFIXES: [(u32, char); 6] = [
        (60, 'E'),
        (50, 'P'),
        (40, 'T'),
        (30, 'G'),
        (20, 'M'),
        (10, 'K'),
    ];
    if bytes != 0 {
        for (shift, suffix) in SUFFIXES {
            if bytes.trailing_zeros() >= shift {
                return alloc::format!("{}{}", bytes >> shift, suffix);
            }
        }
    }
    alloc::format!("{bytes}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtoull_base0_prefixes() {
        let p = |s: &str| {
            let u = c_strtoull(s.as_bytes(), 0);
            (u.value, u.end)
        };
        assert_eq!(p("10"), (10, 2));
        assert_eq!(p("010"), (8, 3));
        assert_eq!(p("08"), (0, 1));
        assert_eq!(p("0x1f"), (31, 4));
        assert_eq!(p("0X1F"), (31, 4));
        assert_eq!(p("0x"), (0, 1));
        assert_eq!(p("0xg"), (0, 1));
        assert_eq!(p(" \t+7"), (7, 4));
        assert_eq!(p("-1"), (u64::MAX, 2));
        assert_eq!(p(""), (0, 0));
        assert_eq!(p("-"), (0, 0));
        assert_eq!(p("x"), (0, 0));
        let big = c_strtoull(b"18446744073709551616", 0);
        assert!(big.overflow);
        assert_eq!(big.end, 20);
        let max = c_strtoull(b"18446744073709551615", 0);
        assert!(!max.overflow);
        assert_eq!(max.value, u64::MAX);
    }

    #[test]
    fn uint_rules() {
        assert_eq!(parse_uint("+5"), Some((5, 2)));
        assert_eq!(parse_uint(" 5"), Some((5, 2)));
        assert_eq!(parse_uint("-0"), None);
        assert_eq!(parse_uint("1-3"), Some((1, 1)));
        assert_eq!(parse_uint_full("1-3"), None);
        assert_eq!(parse_uint_full("0x10"), Some(16));
        assert_eq!(parse_uint_full("5 "), None);
    }

    #[test]
    fn int64_rules() {
        assert_eq!(parse_int64("-1"), Some(-1));
        assert_eq!(parse_int64("0x10"), Some(16));
        assert_eq!(parse_int64("-0x8000000000000000"), Some(i64::MIN));
        assert_eq!(parse_int64("0x8000000000000000"), None);
        assert_eq!(parse_int64("-9223372036854775809"), None);
        assert_eq!(parse_int64(""), None);
        assert_eq!(parse_int64("1x"), None);
    }

    #[test]
    fn qemu_strtou64_wraps_negative() {
        assert_eq!(qemu_strtou64("-1"), Ok(u64::MAX));
        assert_eq!(
            qemu_strtou64("99999999999999999999999"),
            Err(NumError::Range)
        );
        assert_eq!(
            qemu_strtou64("99999999999999999999999x"),
            Err(NumError::Invalid)
        );
        assert_eq!(qemu_strtou64("x"), Err(NumError::Invalid));
    }

    /// Every value here was checked against QEMU 7.2 through
    /// `-object memory-backend-ram,size=...` and `query-memdev`.
    #[test]
    fn sizes_as_qemu_7_2() {
        let ok = |s: &str| parse_size(s, DefaultUnit::Bytes).map(|z| z.bytes);
        assert_eq!(ok("1.5M"), Ok(1_572_864));
        assert_eq!(ok("1.5"), Err(NumError::Invalid));
        assert_eq!(ok("1.k"), Ok(1024));
        assert_eq!(ok("0.5K"), Ok(512));
        assert_eq!(ok("1.0000001K"), Ok(1024));
        assert_eq!(ok("1e3K"), Err(NumError::Invalid));
        assert_eq!(ok("1.5e3K"), Err(NumError::Invalid));
        assert_eq!(ok("0x"), Err(NumError::Invalid));
        assert_eq!(ok("0x1.5"), Err(NumError::Invalid));
        assert_eq!(ok("0x10"), Ok(16));
        assert_eq!(ok("0x10B"), Ok(0x10b));
        assert_eq!(ok("16E"), Err(NumError::Range));
        assert_eq!(ok("15E"), Ok(15 << 60));
        assert_eq!(ok("1b"), Ok(1));
        assert_eq!(ok("1B"), Ok(1));
        assert_eq!(ok("1kb"), Err(NumError::Invalid));
        assert_eq!(ok(" 5M"), Ok(5 << 20));
        assert_eq!(ok("+5M"), Ok(5 << 20));
        assert_eq!(ok("-5M"), Err(NumError::Invalid));
        assert_eq!(ok("010"), Ok(10));
        assert_eq!(ok(".5K"), Err(NumError::Invalid));
        assert_eq!(ok("5.M"), Ok(5 << 20));
        assert_eq!(ok("1.9999999999999999999K"), Ok(1024));
        assert_eq!(ok("0.0009765625K"), Ok(1));
        assert_eq!(ok("1.00048828125K"), Ok(1025));
        assert_eq!(ok("3.3333333333K"), Ok(3413));
        assert_eq!(ok("0X10"), Ok(16));
        assert_eq!(ok("1.5m"), Ok(1_572_864));
        assert_eq!(ok("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(ok("18446744073709551616"), Err(NumError::Range));
        assert_eq!(ok(""), Err(NumError::Invalid));
        assert_eq!(ok("1.0"), Ok(1));
        assert_eq!(ok("1."), Ok(1));
        assert_eq!(ok(" 0x10"), Ok(16));
        assert_eq!(ok("0x-1"), Err(NumError::Invalid));
        assert_eq!(ok("1 "), Err(NumError::Invalid));
        assert_eq!(ok("1.5b"), Err(NumError::Invalid));
        let hex = parse_size("0x8M", DefaultUnit::Bytes).unwrap();
        assert_eq!(hex.bytes, 8 << 20);
        assert!(hex.hex_with_suffix);
        assert!(
            !parse_size("8M", DefaultUnit::Bytes)
                .unwrap()
                .hex_with_suffix
        );
    }

    /// Every value here was checked against QEMU 10.0.2 through
    /// `-object memory-backend-ram,size=...` and `query-memdev`, beside
    /// what 7.2 answers for the same text where it differs.
    #[test]
    fn sizes_as_qemu_10_0() {
        let q10 = |s: &str| parse_size_in(s, DefaultUnit::Bytes, crate::Syntax::Qemu100);
        let ok = |s: &str| q10(s).map(|z| z.bytes);
        let q72 = |s: &str| parse_size(s, DefaultUnit::Bytes).map(|z| z.bytes);
        // Where the releases differ.
        assert_eq!(q72("0x8M"), Ok(8 << 20));
        assert_eq!(ok("0x8M"), Err(NumError::Invalid));
        assert_eq!(ok("0x1p3"), Err(NumError::Invalid));
        assert_eq!(q72(".5K"), Err(NumError::Invalid));
        assert_eq!(ok(".5K"), Ok(512));
        assert_eq!(ok("+.5K"), Ok(512));
        assert_eq!(ok(" .5K"), Ok(512));
        assert_eq!(q72("1.9999999999999999999K"), Ok(1024));
        assert_eq!(ok("1.9999999999999999999K"), Ok(2048));
        assert_eq!(ok("1.99999999999999999999"), Ok(2));
        assert_eq!(q72("-5"), Err(NumError::Invalid));
        assert_eq!(ok("-5"), Err(NumError::Range));
        assert_eq!(ok("-0"), Err(NumError::Range));
        assert_eq!(ok("-5M"), Err(NumError::Invalid));
        assert_eq!(ok("-.5"), Err(NumError::Range));
        assert_eq!(ok("-.5K"), Err(NumError::Invalid));
        let mut tiny = alloc::string::String::from("1.");
        for _ in 0..1000 {
            tiny.push('0');
        }
        tiny.push_str("1K");
        assert_eq!(q72(&tiny), Ok(1));
        assert_eq!(ok(&tiny), Ok(1024));
        assert_eq!(ok("1.5e3K"), Err(NumError::Invalid));
        assert_eq!(ok("1.5E"), Ok(3 << 59));
        // Where they agree.
        for s in [
            "1.5M",
            "1.5",
            "1.k",
            "0.5K",
            "1.0000001K",
            "0x10",
            "0x10B",
            "16E",
            "15E",
            " 5M",
            "+5M",
            "010",
            "5.M",
            "0.0009765625K",
            "1.00048828125K",
            "3.3333333333K",
            "1.0",
            "1.",
            " 0x10",
            "1 ",
            "0.4b",
            "0x",
            "0xffffffffffffffffff",
            "18446744073709551615",
            "18446744073709551616",
            "1.5b",
            "0x1.5",
            ".",
            ".k",
            "inf",
            "nan",
            "",
            " ",
            "K",
            "x.5",
        ] {
            let want = q72(s).map_err(|_| ());
            assert_eq!(ok(s).map_err(|_| ()), want, "{s:?}");
        }
        assert!(!q10("0x10").unwrap().hex_with_suffix);
        let mib = |s: &str| parse_size_in(s, DefaultUnit::MiB, crate::Syntax::Qemu100);
        assert_eq!(mib("17592186044416"), Err(NumError::Range));
        assert_eq!(mib("1.5").map(|z| z.bytes), Ok(3 << 19));
        assert_eq!(mib("0x10").map(|z| z.bytes), Ok(16 << 20));
    }

    #[test]
    fn sizes_in_mib() {
        let mib = |s: &str| parse_size(s, DefaultUnit::MiB).map(|z| z.bytes);
        assert_eq!(mib("512"), Ok(512 << 20));
        assert_eq!(mib("512M"), Ok(512 << 20));
        assert_eq!(mib("1G"), Ok(1 << 30));
        assert_eq!(mib("1024b"), Ok(1024));
        assert_eq!(mib("0x10"), Ok(16 << 20));
        assert_eq!(mib("1.5"), Ok(3 << 19));
        assert_eq!(mib("17592186044416"), Err(NumError::Range));
    }

    #[test]
    fn hostile_fraction_is_cheap() {
        let mut s = alloc::string::String::from("1.");
        for _ in 0..100_000 {
            s.push('3');
        }
        s.push('K');
        assert_eq!(
            parse_size(&s, DefaultUnit::Bytes).map(|z| z.bytes),
            Ok(1365)
        );
        let mut z = alloc::string::String::from("1.");
        for _ in 0..1000 {
            z.push('0');
        }
        z.push_str("1K");
        // strtod underflows (ERANGE) and QEMU skips the byte after the
        // digits, the suffix: 1 byte (checked against QEMU 7.2).
        assert_eq!(parse_size(&z, DefaultUnit::Bytes).map(|z| z.bytes), Ok(1));
        z.push('X');
        assert_eq!(parse_size(&z, DefaultUnit::Bytes), Err(NumError::Invalid));
        let mut m = alloc::string::String::from("2.");
        for _ in 0..400 {
            m.push('0');
        }
        m.push_str("1M");
        assert_eq!(parse_size(&m, DefaultUnit::Bytes).map(|z| z.bytes), Ok(2));
    }

    #[test]
    fn bools_and_ids() {
        for t in ["on", "yes", "true", "y"] {
            assert_eq!(parse_bool(t), Some(true));
        }
        for f in ["off", "no", "false", "n"] {
            assert_eq!(parse_bool(f), Some(false));
        }
        for bad in ["ON", "1", "0", "", "On"] {
            assert_eq!(parse_bool(bad), None);
        }
        assert!(is_identifier("m0"));
        assert!(is_identifier("a-b.c_d"));
        assert!(!is_identifier("1x"));
        assert!(!is_identifier(""));
        assert!(!is_identifier("a,b"));
        assert!(!is_identifier("_a"));
    }

    #[test]
    fn size_format_round_trips() {
        for v in [0, 1, 1023, 1024, 1536 << 20, 1 << 30, u64::MAX, 15 << 60] {
            let s = format_size(v);
            assert_eq!(parse_size(&s, DefaultUnit::Bytes).unwrap().bytes, v, "{s}");
        }
        assert_eq!(format_size(1 << 30), "1G");
        assert_eq!(format_size(1536 << 20), "1536M");
    }
}
