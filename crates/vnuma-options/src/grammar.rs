//! The two option grammars QEMU uses on its command line.
//!
//! * **QemuOpts** (`-numa`, `-object`, `-m`): items separated by `,`; an
//!   item is `key=value`, a flag (`foo` = `foo=on`, `nofoo` = `foo=off`)
//!   or, first only, the value of an implied key (`node` in
//!   `-numa node,nodeid=0`). Inside a value `,,` is a literal comma.
//! * **keyval** (`-smp`, `-machine`): the same, but keys may be dotted
//!   paths (`smp.cpus`), must be names, flags are an error
//!   (`Expected '=' after parameter 'foo'`), and an implied value ends at
//!   the first comma or `=` (no `,,` escape there).
//!
//! Both produce [`Item`]s in order, each with byte spans into the text,
//! so a later error can point at the bytes it is about.

use alloc::borrow::Cow;
use alloc::vec::Vec;

use crate::error::{Error, ErrorKind, Warning, WarningKind};
use crate::span::Span;

/// How an item was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItemForm {
    /// `key=value`.
    KeyValue,
    /// The first item without `=`: the value of the implied key.
    Implied,
    /// A later item without `=` (`foo` or `nofoo`).
    Flag,
}

/// One `key=value` item of an option argument, borrowing from the text
/// (a value is copied only when it had `,,` escapes).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Item<'a> {
    /// The key (for a flag, without the `no` prefix; for an implied item,
    /// the implied key).
    pub key: &'a str,
    /// The value with `,,` unescaped (`on`/`off` for flags).
    pub value: Cow<'a, str>,
    /// How it was written.
    pub form: ItemForm,
    /// The key as written (empty at the item's start for an implied item).
    pub key_span: Span,
    /// The value as written (the whole item for flags).
    pub value_span: Span,
}

impl Item<'_> {
    /// The whole item as written.
    pub fn span(&self) -> Span {
        self.key_span.join(self.value_span)
    }
}

/// The result of QemuOpts parsing: the items in order (without `id`), the
/// first `id=` value, and the warnings QEMU prints while parsing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Opts<'a> {
    /// Items in the order written, `id` items removed.
    pub items: Vec<Item<'a>>,
    /// The first `id=` item, which QemuOpts takes as the option's id.
    pub id: Option<Item<'a>>,
    /// Short-form boolean warnings.
    pub warnings: Vec<Warning>,
}

/// Read a value starting at `p` up to the next single `,`; returns the
/// unescaped value (borrowed unless it had `,,`) and the index of the
/// terminating `,` (or the end).
#[inline]
fn read_value(text: &str, p: usize) -> (Cow<'_, str>, usize) {
    let b = text.as_bytes();
    let mut end = p;
    let mut escaped = false;
    loop {
        // The next `,` (most values have none before their end).
        while end < b.len() && b[end] != b',' {
            end += 1;
        }
        if end + 1 < b.len() && b[end + 1] == b',' {
            escaped = true;
            end += 2;
            continue;
        }
        break;
    }
    let raw = &text[p..end];
    let value = if escaped {
        Cow::Owned(raw.replace(",,", ","))
    } else {
        Cow::Borrowed(raw)
    };
    (value, end)
}

/// Position of the first `=` or `,` at or after `p` (or the end).
#[inline]
fn key_end(b: &[u8], p: usize) -> usize {
    let mut end = p;
    while end < b.len() && b[end] != b'=' && b[end] != b',' {
        end += 1;
    }
    end
}

/// Tokenize in QemuOpts style without interpreting `id`; `implied` applies
/// to the first item only.
fn qemu_opts_items<'a>(
    text: &'a str,
    implied: Option<&'a str>,
    warnings: Option<&mut Vec<Warning>>,
) -> Vec<Item<'a>> {
    let mut items = Vec::new();
    qemu_opts_items_into(text, implied, warnings, &mut items);
    items
}

/// [`qemu_opts_items`] appending to `items` (whose allocation a caller
/// parsing many options reuses).
fn qemu_opts_items_into<'a>(
    text: &'a str,
    implied: Option<&'a str>,
    warnings: Option<&mut Vec<Warning>>,
    items: &mut Vec<Item<'a>>,
) {
    let b = text.as_bytes();
    let mut warnings = warnings;
    let mut implied = implied;
    let mut p = 0;
    while p < b.len() {
        let len_end = key_end(b, p);
        let item;
        let next;
        if b.get(len_end) != Some(&b'=') {
            if let Some(key) = implied {
                let (value, end) = read_value(text, p);
                item = Item {
                    key,
                    value,
                    form: ItemForm::Implied,
                    key_span: Span::empty(p),
                    value_span: Span::new(p, end),
                };
                next = end;
            } else {
                let written = &text[p..len_end];
                let (key, value) = match written.strip_prefix("no") {
                    Some(rest) => (rest, "off"),
                    None => (written, "on"),
                };
                if let Some(w) = warnings.as_deref_mut() {
                    w.push(Warning::new(
                        WarningKind::ShortFormBoolean {
                            item: written.into(),
                            key: key.into(),
                            value,
                        },
                        Span::new(p, len_end),
                    ));
                }
                item = Item {
                    key,
                    value: Cow::Borrowed(value),
                    form: ItemForm::Flag,
                    key_span: Span::new(p, len_end),
                    value_span: Span::new(p, len_end),
                };
                next = len_end;
            }
        } else {
            let (value, end) = read_value(text, len_end + 1);
            item = Item {
                key: &text[p..len_end],
                value,
                form: ItemForm::KeyValue,
                key_span: Span::new(p, len_end),
                value_span: Span::new(len_end + 1, end),
            };
            next = end;
        }
        items.push(item);
        implied = None;
        p = if next < b.len() { next + 1 } else { next };
    }
}

/// Parse `text` with QemuOpts rules. `implied` is the key of a first item
/// written without `=` (`type` for `-numa`, `qom-type` for `-object`,
/// `size` for `-m`).
///
/// Fails only on a malformed `id=` (`Parameter 'id' expects an
/// identifier`), which QemuOpts checks before anything else; every other
/// check belongs to the option's schema.
///
/// ```
/// use vnuma_options::grammar::{parse_opts, ItemForm};
/// let opts = parse_opts("node,memdev=a,,b,nodeid=1", Some("type")).unwrap();
/// assert_eq!(opts.items[0].form, ItemForm::Implied);
/// assert_eq!(opts.items[1].value, "a,b");
/// assert_eq!(opts.items[2].key, "nodeid");
/// ```
pub fn parse_opts<'a>(text: &'a str, implied: Option<&'a str>) -> Result<Opts<'a>, Error> {
    parse_opts_reusing(text, implied, Vec::new())
}

/// [`parse_opts`] into `items` (cleared first): a caller parsing many
/// options hands the previous result's `items` back to save an
/// allocation per option.
pub(crate) fn parse_opts_reusing<'a>(
    text: &'a str,
    implied: Option<&'a str>,
    mut items: Vec<Item<'a>>,
) -> Result<Opts<'a>, Error> {
    let mut warnings = Vec::new();
    items.clear();
    qemu_opts_items_into(text, implied, Some(&mut warnings), &mut items);
    // QemuOpts looks for the id in a pass that treats the first item as a
    // flag (no implied key), so `node,,id=x` has id `x` and `id,...` has id
    // `on`. That pass differs from this one only when the first item is
    // implied and has an escape or is itself `id`/`noid`: then run it.
    let first_differs = items.first().is_some_and(|first| {
        first.form == ItemForm::Implied
            // read_value copies a value exactly when it had `,,`.
            && (matches!(first.value, Cow::Owned(_))
                || matches!(&text[first.value_span.range()], "id" | "noid"))
    });
    let id = if first_differs {
        qemu_opts_items(text, None, None)
            .into_iter()
            .find(|item| item.key == "id")
    } else {
        // A flag counts too: `id` alone is `id=on`.
        items
            .iter()
            .find(|item| item.key == "id" && item.form != ItemForm::Implied)
            .cloned()
    };
    if let Some(id) = &id {
        if !crate::value::is_identifier(&id.value) {
            return Err(Error::new(
                ErrorKind::InvalidValue {
                    key: "id".into(),
                    expected: crate::error::Expected::Identifier,
                },
                id.value_span,
            ));
        }
    }
    // Without the second pass, no id means no `id` item to take out.
    if first_differs || id.is_some() {
        items.retain(|item| item.key != "id" || item.form == ItemForm::Implied);
    }
    Ok(Opts {
        items,
        id,
        warnings,
    })
}

/// A reader of a QemuOpts argument written the plain way, for typing
/// fast paths: an implied first value, then `key=value` items, with no
/// `,,` escape, no flag item and no trailing comma, each byte read once.
/// Every method gives up (`false` / `None`) where the text is not
/// plain, and the caller then takes the full path ([`parse_opts`] and
/// the visitor), which gives QEMU's answer for every text; on plain text
/// both read the same items.
#[derive(Clone)]
pub(crate) struct Plain<'a> {
    text: &'a str,
    /// The bytes not read yet (a suffix of `text`).
    rest: &'a [u8],
}

impl<'a> Plain<'a> {
    /// A reader at the start of `text`.
    #[inline]
    pub(crate) fn new(text: &'a str) -> Self {
        Plain {
            text,
            rest: text.as_bytes(),
        }
    }

    /// Whether every item has been read.
    #[inline]
    pub(crate) fn at_end(&self) -> bool {
        self.rest.is_empty()
    }

    /// Step over the separator after a value that ends `at` bytes into
    /// the rest: true at the end, or at a single `,` that another item
    /// follows.
    #[inline(always)]
    fn separator(&mut self, at: usize) -> bool {
        match self.rest.get(at..) {
            Some([]) => {
                self.rest = &[];
                true
            }
            Some([b',', c, ..]) if *c != b',' => {
                self.rest = &self.rest[at + 1..];
                true
            }
            _ => false,
        }
    }

    /// Whether the first item is the implied value `word` (then read).
    #[inline(always)]
    pub(crate) fn implied(&mut self, word: &str) -> bool {
        self.rest.starts_with(word.as_bytes()) && self.separator(word.len())
    }

    /// Whether the next item's key is `key_eq` (the key and its `=`);
    /// if so the reader moves to its value.
    #[inline(always)]
    pub(crate) fn key(&mut self, key_eq: &[u8]) -> bool {
        match self.rest.strip_prefix(key_eq) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    /// The value at the reader as text, up to its separator.
    #[inline]
    pub(crate) fn value(&mut self) -> Option<&'a str> {
        let start = self.text.len() - self.rest.len();
        let len = self
            .rest
            .iter()
            .position(|&c| c == b',')
            .unwrap_or(self.rest.len());
        // Both ends are at an ASCII byte or the end of the text, so on
        // character boundaries.
        let text = self.text;
        self.separator(len).then(|| &text[start..start + len])
    }

    /// The value at the reader as a plain decimal number no greater than
    /// `max`: `0`, or up to 19 digits not starting with `0` (what the
    /// base-0 `strtoull` QEMU uses reads as decimal, and without
    /// overflow). `None` for anything else (octal, hexadecimal, signs,
    /// white space, too large).
    #[inline(always)]
    pub(crate) fn decimal(&mut self, max: u64) -> Option<u64> {
        let (v, n) = self.digits(max)?;
        self.separator(n).then_some(v)
    }

    /// The value at the reader as a plain size: a [`Plain::decimal`]
    /// number, then at most one binary suffix (`B`, `K`, `M`, `G`, `T`,
    /// `P`, `E`, either case), with no overflow. Every QEMU release reads
    /// that text the same way. Returns the number, and its multiplier if
    /// a suffix was written (`None` otherwise, where the caller's default
    /// unit applies).
    #[inline]
    pub(crate) fn size(&mut self) -> Option<(u64, Option<u64>)> {
        let (v, n) = self.digits(u64::MAX)?;
        let shift = match self.rest.get(n).map(u8::to_ascii_uppercase) {
            Some(b'B') => 0,
            Some(b'K') => 10,
            Some(b'M') => 20,
            Some(b'G') => 30,
            Some(b'T') => 40,
            Some(b'P') => 50,
            Some(b'E') => 60,
            _ => return self.separator(n).then_some((v, None)),
        };
        let mul = 1u64 << shift;
        let bytes = v.checked_mul(mul)?;
        self.separator(n + 1).then_some((bytes, Some(mul)))
    }

    /// The plain decimal digits at the reader, their value (at most
    /// `max`) and count; the reader does not move.
    #[inline(always)]
    fn digits(&self, max: u64) -> Option<(u64, usize)> {
        let rest = self.rest;
        let mut v: u64 = 0;
        let mut n = 0;
        for &c in rest.iter().take(20) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            // No overflow within 19 digits; a 20th is refused below.
            v = v.wrapping_mul(10).wrapping_add(u64::from(d));
            n += 1;
        }
        if n == 0 || n == 20 || (n > 1 && rest[0] == b'0') || v > max {
            return None;
        }
        Some((v, n))
    }
}

/// Length of a QAPI name at the start of `s` (`parse_qapi_name` with
/// `complete = false`): a letter, then letters, digits, `-`, `_`; with an
/// optional downstream `__RFQDN_` prefix. 0 if there is none.
fn qapi_name_len(s: &[u8]) -> usize {
    let mut p = 0;
    if s.first() == Some(&b'_') {
        if s.get(1) != Some(&b'_') {
            return 0;
        }
        p = 2;
        while p < s.len() && (s[p].is_ascii_alphanumeric() || s[p] == b'-' || s[p] == b'.') {
            p += 1;
        }
        if s.get(p) != Some(&b'_') {
            return 0;
        }
        p += 1;
    }
    if !s.get(p).is_some_and(u8::is_ascii_alphabetic) {
        return 0;
    }
    p += 1;
    while p < s.len() && (s[p].is_ascii_alphanumeric() || s[p] == b'-' || s[p] == b'_') {
        p += 1;
    }
    p
}

/// Whether `key` is a valid keyval key: dot-separated fragments, each a
/// QAPI name (later fragments may also be list indexes).
fn valid_keyval_key(key: &str) -> bool {
    let b = key.as_bytes();
    let mut p = 0;
    let mut first = true;
    loop {
        let rest = &b[p..];
        let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        let len = if !first && digits > 0 && !(digits > 1 && rest[0] == b'0') {
            digits
        } else {
            qapi_name_len(rest)
        };
        if len == 0 || (len < rest.len() && rest[len] != b'.') {
            return false;
        }
        p += len;
        if p >= b.len() {
            return true;
        }
        p += 1; // the '.'
        if p >= b.len() {
            return false;
        }
        first = false;
    }
}

/// Parse `text` with keyval rules (`-smp`, `-machine`). Keys may be dotted
/// (`smp.cpus`). Errors: `Invalid parameter '{key}'` for a malformed key,
/// `Expected '=' after parameter '{key}'` for a flag.
///
/// ```
/// use vnuma_options::grammar::parse_keyval;
/// let items = parse_keyval("q35,smp.cpus=4", Some("type")).unwrap();
/// assert_eq!(items[0].key, "type");
/// assert_eq!(items[1].key, "smp.cpus");
/// assert!(parse_keyval("pc,hmat", Some("type")).is_err());
/// ```
pub fn parse_keyval<'a>(text: &'a str, implied: Option<&'a str>) -> Result<Vec<Item<'a>>, Error> {
    let mut items = Vec::new();
    parse_keyval_into(text, implied, &mut items)?;
    Ok(items)
}

/// [`parse_keyval`] appending to `items` (a caller reading many options
/// reuses one buffer); on error, `items` holds what came before it.
pub(crate) fn parse_keyval_into<'a>(
    text: &'a str,
    implied: Option<&'a str>,
    items: &mut Vec<Item<'a>>,
) -> Result<(), Error> {
    let b = text.as_bytes();
    let mut implied = implied;
    let mut p = 0;
    while p < b.len() {
        let len_end = key_end(b, p);
        if len_end > p && b.get(len_end) != Some(&b'=') {
            if let Some(key) = implied.take() {
                items.push(Item {
                    key,
                    value: Cow::Borrowed(&text[p..len_end]),
                    form: ItemForm::Implied,
                    key_span: Span::empty(p),
                    value_span: Span::new(p, len_end),
                });
                p = if len_end < b.len() {
                    len_end + 1
                } else {
                    len_end
                };
                continue;
            }
        }
        implied = None;
        let key = &text[p..len_end];
        if !valid_keyval_key(key) {
            return Err(Error::new(
                ErrorKind::InvalidKey { key: key.into() },
                Span::new(p, len_end),
            ));
        }
        if b.get(len_end) != Some(&b'=') {
            return Err(Error::new(
                ErrorKind::ExpectedEquals { key: key.into() },
                Span::new(p, len_end),
            ));
        }
        let (value, end) = read_value(text, len_end + 1);
        items.push(Item {
            key,
            value,
            form: ItemForm::KeyValue,
            key_span: Span::new(p, len_end),
            value_span: Span::new(len_end + 1, end),
        });
        p = if end < b.len() { end + 1 } else { end };
    }
    Ok(())
}

/// Escape a value for QemuOpts / keyval output: every `,` doubled.
pub fn escape(value: &str) -> alloc::string::String {
    value.replace(',', ",,")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv<'a>(opts: &'a Opts<'_>) -> Vec<(&'a str, &'a str, ItemForm)> {
        opts.items
            .iter()
            .map(|i| (i.key, &*i.value, i.form))
            .collect()
    }

    #[test]
    fn implied_and_escapes() {
        let o = parse_opts("node,memdev=a,,b,cpus=0-1", Some("type")).unwrap();
        assert_eq!(
            kv(&o),
            [
                ("type", "node", ItemForm::Implied),
                ("memdev", "a,b", ItemForm::KeyValue),
                ("cpus", "0-1", ItemForm::KeyValue),
            ]
        );
        assert_eq!(o.items[1].value_span, Span::new(12, 16));
        // An implied value takes ,, escapes too.
        let o = parse_opts("node,,nodeid=1", Some("type")).unwrap();
        assert_eq!(kv(&o), [("type", "node,nodeid=1", ItemForm::Implied)]);
    }

    #[test]
    fn implied_only_first() {
        let o = parse_opts("type=node,dist", Some("type")).unwrap();
        assert_eq!(o.items[1].form, ItemForm::Flag);
        assert_eq!(o.items[1].key, "dist");
    }

    #[test]
    fn flags_and_warnings() {
        let o = parse_opts("node,foo,nobar", Some("type")).unwrap();
        assert_eq!(
            kv(&o)[1..],
            [
                ("foo", "on", ItemForm::Flag),
                ("bar", "off", ItemForm::Flag)
            ]
        );
        assert_eq!(o.warnings.len(), 2);
        assert_eq!(
            o.warnings[1].to_string(),
            "short-form boolean option 'nobar' deprecated"
        );
        assert_eq!(o.warnings[1].hint().unwrap(), "Please use bar=off instead");
    }

    #[test]
    fn empty_and_trailing() {
        assert!(parse_opts("", Some("type")).unwrap().items.is_empty());
        let o = parse_opts("node,", Some("type")).unwrap();
        assert_eq!(o.items.len(), 1);
        let o = parse_opts(",node", Some("type")).unwrap();
        assert_eq!(kv(&o)[0], ("type", "", ItemForm::Implied));
        // QEMU reads a flag starting with "no" as negated: `node` is `de=off`.
        assert_eq!(kv(&o)[1], ("de", "off", ItemForm::Flag));
        // An empty key=value.
        let o = parse_opts("node,memdev=", Some("type")).unwrap();
        assert_eq!(kv(&o)[1], ("memdev", "", ItemForm::KeyValue));
    }

    #[test]
    fn id_is_taken_out_and_checked() {
        let o = parse_opts("node,id=x,id=y", Some("type")).unwrap();
        assert_eq!(o.id.unwrap().value, "x");
        assert_eq!(o.items.len(), 1);
        let e = parse_opts("node,id=1x", Some("type")).unwrap_err();
        assert_eq!(e.to_string(), "Parameter 'id' expects an identifier");
        assert_eq!(e.span(), Span::new(8, 10));
        assert!(e.hint().unwrap().starts_with("Identifiers consist"));
        // Only the first id is checked.
        assert!(parse_opts("node,id=x,id=1x", Some("type")).is_ok());
        // The id pass has no implied key.
        let o = parse_opts("node,,id=x", Some("type")).unwrap();
        assert_eq!(o.id.as_ref().unwrap().value, "x");
        assert_eq!(kv(&o), [("type", "node,id=x", ItemForm::Implied)]);
    }

    #[test]
    fn keyval_rules() {
        let items = parse_keyval("4,sockets=2,,", Some("cpus")).unwrap();
        assert_eq!(items[0].value, "4");
        assert_eq!(items[1].value, "2,");
        let e = parse_keyval("4,foo", Some("cpus")).unwrap_err();
        assert_eq!(e.to_string(), "Expected '=' after parameter 'foo'");
        let e = parse_keyval("4,,sockets=2", Some("cpus")).unwrap_err();
        assert_eq!(e.to_string(), "Invalid parameter ''");
        let e = parse_keyval("a b=1", None).unwrap_err();
        assert_eq!(e.to_string(), "Invalid parameter 'a b'");
        assert!(parse_keyval("smp.cpus=1,x.0=1,__org.qemu_a=1", None).is_ok());
        assert!(parse_keyval("smp..cpus=1", None).is_err());
        assert!(parse_keyval("smp.=1", None).is_err());
        assert!(parse_keyval("1a=1", None).is_err());
        // An implied value has no ,, escape and ends at '='? No: '=' makes
        // it a key.
        let items = parse_keyval("pc", Some("type")).unwrap();
        assert_eq!(items[0].value, "pc");
    }

    #[test]
    fn hostile_commas_are_linear() {
        let text = ",".repeat(1 << 20);
        let o = parse_opts(&text, Some("type")).unwrap();
        // Pairs of commas are one escaped comma in the implied value.
        assert_eq!(o.items.len(), 1);
        assert_eq!(o.items[0].value.len(), 1 << 19);
        let text = "a,".repeat(1 << 19);
        let o = parse_opts(&text, Some("type")).unwrap();
        assert_eq!(o.items.len(), 1 << 19);
    }
}
