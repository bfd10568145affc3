//! JSON that keeps the order of object members, written the way Python's
//! `json.dumps` writes it (the golden files were first written by Python,
//! and QEMU's answers keep QEMU's member order there).
//!
//! serde_json's own `Value` sorts members unless its `preserve_order`
//! feature is on, and that feature would reach every crate of the
//! workspace through feature unification; this type leaves it alone.

use std::fmt::{self, Write as _};

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

/// A JSON value whose objects keep their members in the order read.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Num(Number),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object, members in order (a repeated key keeps both; [`Json::get`]
    /// finds the last, as Python's `json.loads` keeps the last).
    Obj(Vec<(String, Json)>),
}

/// How [`Json::dumps`] writes: the options of Python's `json.dumps` that
/// the golden files use (separators are always `", "` and `": "`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// `ensure_ascii=True`: every non-ASCII character as `\uXXXX`.
    pub ensure_ascii: bool,
    /// `sort_keys=True`.
    pub sort_keys: bool,
}

impl Json {
    /// Parses one JSON document.
    pub fn parse(text: &str) -> Result<Json, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The member `key` of an object (the last one of that name).
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Whether an object has a member `key`.
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The items, if this is an array.
    pub fn as_arr(&self) -> Option<&[Json]> {
        match self {
            Json::Arr(a) => Some(a),
            _ => None,
        }
    }

    /// The number as an `i64`, if it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Json::Num(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// A string value.
    pub fn str(s: &str) -> Json {
        Json::Str(s.to_string())
    }

    /// An integer value.
    pub fn int(n: i64) -> Json {
        Json::Num(n.into())
    }

    /// An array of strings.
    pub fn strings<S: AsRef<str>>(items: &[S]) -> Json {
        Json::Arr(items.iter().map(|s| Json::str(s.as_ref())).collect())
    }

    /// An object from `(key, value)` pairs, in that order.
    pub fn obj(members: Vec<(&str, Json)>) -> Json {
        Json::Obj(
            members
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    /// The same value as a `serde_json::Value` (member order is
    /// serde_json's).
    pub fn to_value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Num(n) => Value::Number(n.clone()),
            Json::Str(s) => Value::String(s.clone()),
            Json::Arr(a) => Value::Array(a.iter().map(Json::to_value).collect()),
            Json::Obj(m) => {
                Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_value())).collect())
            }
        }
    }

    /// `json.dumps(self, ...)` on one line, with `style`'s options.
    pub fn dumps(&self, style: Style) -> String {
        let mut out = String::new();
        self.write(&mut out, style, None, 0);
        out
    }

    /// `json.dumps(self, indent=indent)` (ASCII only, keys in order), as
    /// `machines.json` is written.
    pub fn dumps_indented(&self, indent: usize) -> String {
        let mut out = String::new();
        let style = Style {
            ensure_ascii: true,
            sort_keys: false,
        };
        self.write(&mut out, style, Some(indent), 0);
        out
    }

    fn write(&self, out: &mut String, style: Style, indent: Option<usize>, level: usize) {
        // With an indent Python separates items with "," and a new line.
        let newline = |out: &mut String, level: usize| {
            if let Some(n) = indent {
                out.push('\n');
                out.extend(std::iter::repeat_n(' ', n * level));
            }
        };
        let sep = if indent.is_some() { "," } else { ", " };
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(true) => out.push_str("true"),
            Json::Bool(false) => out.push_str("false"),
            Json::Num(n) => {
                let _ = write!(out, "{n}");
            }
            Json::Str(s) => write_str(out, s, style.ensure_ascii),
            Json::Arr(a) if a.is_empty() => out.push_str("[]"),
            Json::Arr(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push_str(sep);
                    }
                    newline(out, level + 1);
                    v.write(out, style, indent, level + 1);
                }
                newline(out, level);
                out.push(']');
            }
            Json::Obj(m) if m.is_empty() => out.push_str("{}"),
            Json::Obj(m) => {
                let mut members: Vec<&(String, Json)> = m.iter().collect();
                if style.sort_keys {
                    members.sort_by(|a, b| a.0.cmp(&b.0));
                }
                out.push('{');
                for (i, (k, v)) in members.into_iter().enumerate() {
                    if i > 0 {
                        out.push_str(sep);
                    }
                    newline(out, level + 1);
                    write_str(out, k, style.ensure_ascii);
                    out.push_str(": ");
                    v.write(out, style, indent, level + 1);
                }
                newline(out, level);
                out.push('}');
            }
        }
    }
}

impl fmt::Display for Json {
    /// `json.dumps(self, ensure_ascii=False)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.dumps(Style::default()))
    }
}

/// A string as Python's json module writes it.
fn write_str(out: &mut String, s: &str, ensure_ascii: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (ensure_ascii && !c.is_ascii()) => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Json, E> {
        Ok(Json::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Json, E> {
        Ok(Json::Num(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Json, E> {
        Ok(Json::Num(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Json, E> {
        Ok(Number::from_f64(n).map_or(Json::Null, Json::Num))
    }

    fn visit_str<E>(self, s: &str) -> Result<Json, E> {
        Ok(Json::Str(s.to_string()))
    }

    fn visit_string<E>(self, s: String) -> Result<Json, E> {
        Ok(Json::Str(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        Ok(Json::Arr(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Json>()? {
            members.push((k, v));
        }
        Ok(Json::Obj(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_python_style() {
        let text = r#"{"b": 1, "a": [true, null, "x\u00e9\n"], "c": {}, "d": []}"#;
        let v = Json::parse(text).unwrap();
        assert_eq!(
            v.dumps(Style::default()),
            "{\"b\": 1, \"a\": [true, null, \"x\u{e9}\\n\"], \"c\": {}, \"d\": []}"
        );
        let ascii = Style {
            ensure_ascii: true,
            sort_keys: true,
        };
        assert_eq!(
            v.dumps(ascii),
            "{\"a\": [true, null, \"x\\u00e9\\n\"], \"b\": 1, \"c\": {}, \"d\": []}"
        );
        assert_eq!(v.get("b").and_then(Json::as_i64), Some(1));
    }

    #[test]
    fn indents_like_python() {
        let v = Json::parse(r#"[{"name": "pc", "alias": null}]"#).unwrap();
        assert_eq!(
            v.dumps_indented(1),
            "[\n {\n  \"name\": \"pc\",\n  \"alias\": null\n }\n]"
        );
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(Json::parse("{\"a\": ").is_err());
        assert!(Json::parse(&"[".repeat(1000)).is_err());
    }
}
