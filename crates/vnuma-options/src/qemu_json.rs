//! QEMU's JSON dialect, as its parser reads `-object {...}` and
//! `-device {...}`: strings in double or single quotes (`\'` escapes a
//! single quote), and its error messages (`JSON parse error, premature
//! EOI`, `invalid keyword 'id'`, `expecting value`, `missing : in object
//! pair`, `key is not a string in object`, `expected separator in dict`,
//! `stray '@'`, and `Expecting at most one JSON value` for trailing text).
//! Values come out as `serde_json::Value`, integers as `i64` or `u64`
//! where they fit and as floating point otherwise, as QEMU's parser does.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Number, Value};

/// Why a text is not one QEMU JSON value: the message after the option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct JsonError(pub(crate) String);

fn parse_error(what: &str) -> JsonError {
    JsonError(format!("JSON parse error, {what}"))
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Open(char),
    Close(char),
    Colon,
    Comma,
    Str(String),
    Num(Number),
    Literal(Value),
}

struct Lexer<'a> {
    s: &'a [u8],
    at: usize,
}

impl Lexer<'_> {
    fn eoi() -> JsonError {
        parse_error("premature EOI")
    }

    /// The next token; `None` at the end of the input.
    fn next(&mut self) -> Result<Option<Token>, JsonError> {
        while self.at < self.s.len() && matches!(self.s[self.at], b' ' | b'\t' | b'\n' | b'\r') {
            self.at += 1;
        }
        let Some(&c) = self.s.get(self.at) else {
            return Ok(None);
        };
        self.at += 1;
        Ok(Some(match c {
            b'{' => Token::Open('{'),
            b'[' => Token::Open('['),
            b'}' => Token::Close('}'),
            b']' => Token::Close(']'),
            b':' => Token::Colon,
            b',' => Token::Comma,
            b'"' | b'\'' => Token::Str(self.string(c)?),
            b'-' | b'0'..=b'9' => Token::Num(self.number()?),
            c if c.is_ascii_alphabetic() => {
                let start = self.at - 1;
                while self.s.get(self.at).is_some_and(u8::is_ascii_alphabetic) {
                    self.at += 1;
                }
                let word = core::str::from_utf8(&self.s[start..self.at]).unwrap_or_default();
                match word {
                    "true" => Token::Literal(Value::Bool(true)),
                    "false" => Token::Literal(Value::Bool(false)),
                    "null" => Token::Literal(Value::Null),
                    _ => return Err(parse_error(&format!("invalid keyword '{word}'"))),
                }
            }
            _ => {
                let ch = core::str::from_utf8(&self.s[self.at - 1..])
                    .ok()
                    .and_then(|r| r.chars().next())
                    .unwrap_or('?');
                return Err(parse_error(&format!("stray '{ch}'")));
            }
        }))
    }

    fn string(&mut self, quote: u8) -> Result<String, JsonError> {
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.at) else {
                return Err(Self::eoi());
            };
            self.at += 1;
            match c {
                c if c == quote => break,
                b'\\' => {
                    let Some(&e) = self.s.get(self.at) else {
                        return Err(Self::eoi());
                    };
                    self.at += 1;
                    match e {
                        b'"' | b'\'' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let hex = self.s.get(self.at..self.at + 4).ok_or_else(Self::eoi)?;
                            self.at += 4;
                            let code = core::str::from_utf8(hex)
                                .ok()
                                .and_then(|h| u32::from_str_radix(h, 16).ok())
                                .and_then(char::from_u32)
                                .ok_or_else(|| {
                                    parse_error("invalid hex escape sequence in string")
                                })?;
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(code.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => return Err(parse_error("invalid escape sequence in string")),
                    }
                }
                c => out.push(c),
            }
        }
        String::from_utf8(out).map_err(|_| parse_error("invalid UTF-8 sequence in string"))
    }

    fn number(&mut self) -> Result<Number, JsonError> {
        let start = self.at - 1;
        let digits = |l: &mut Self| {
            let from = l.at;
            while l.s.get(l.at).is_some_and(u8::is_ascii_digit) {
                l.at += 1;
            }
            l.at > from
        };
        let mut float = false;
        if self.s[start] != b'-' {
            digits(self);
        } else if !digits(self) {
            return Err(if self.at >= self.s.len() {
                Self::eoi()
            } else {
                parse_error("expecting value")
            });
        }
        if self.s.get(self.at) == Some(&b'.') {
            self.at += 1;
            float = true;
            digits(self);
        }
        if matches!(self.s.get(self.at), Some(b'e' | b'E')) {
            self.at += 1;
            float = true;
            if matches!(self.s.get(self.at), Some(b'+' | b'-')) {
                self.at += 1;
            }
            digits(self);
        }
        let text = core::str::from_utf8(&self.s[start..self.at]).unwrap_or_default();
        if !float {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(Number::from(i));
            }
            if let Ok(u) = text.parse::<u64>() {
                return Ok(Number::from(u));
            }
        }
        let f: f64 = text.parse().unwrap_or(f64::INFINITY);
        Number::from_f64(f).ok_or_else(|| parse_error("expecting value"))
    }
}

struct Parser<'a> {
    lex: Lexer<'a>,
}

impl Parser<'_> {
    fn value(&mut self, first: Option<Token>) -> Result<Value, JsonError> {
        match first {
            None => Err(Lexer::eoi()),
            Some(Token::Open('{')) => self.object(),
            Some(Token::Open(_)) => self.array(),
            Some(Token::Str(s)) => Ok(Value::String(s)),
            Some(Token::Num(n)) => Ok(Value::Number(n)),
            Some(Token::Literal(v)) => Ok(v),
            Some(_) => Err(parse_error("expecting value")),
        }
    }

    fn object(&mut self) -> Result<Value, JsonError> {
        let mut map = Map::new();
        let mut tok = self.lex.next()?;
        if tok == Some(Token::Close('}')) {
            return Ok(Value::Object(map));
        }
        loop {
            let key = match tok {
                None => return Err(Lexer::eoi()),
                Some(Token::Str(k)) => k,
                Some(Token::Close(_)) | Some(Token::Comma) | Some(Token::Colon) => {
                    return Err(parse_error("expecting value"))
                }
                Some(_) => return Err(parse_error("key is not a string in object")),
            };
            match self.lex.next()? {
                Some(Token::Colon) => {}
                None => return Err(Lexer::eoi()),
                Some(_) => return Err(parse_error("missing : in object pair")),
            }
            let first = self.lex.next()?;
            let v = self.value(first)?;
            map.insert(key, v);
            match self.lex.next()? {
                Some(Token::Comma) => tok = self.lex.next()?,
                Some(Token::Close('}')) => return Ok(Value::Object(map)),
                None => return Err(Lexer::eoi()),
                Some(_) => return Err(parse_error("expected separator in dict")),
            }
        }
    }

    fn array(&mut self) -> Result<Value, JsonError> {
        let mut list = Vec::new();
        let mut tok = self.lex.next()?;
        if tok == Some(Token::Close(']')) {
            return Ok(Value::Array(list));
        }
        loop {
            list.push(self.value(tok)?);
            match self.lex.next()? {
                Some(Token::Comma) => tok = self.lex.next()?,
                Some(Token::Close(']')) => return Ok(Value::Array(list)),
                None => return Err(Lexer::eoi()),
                Some(_) => return Err(parse_error("expected separator in array")),
            }
        }
    }
}

/// Parse exactly one QEMU JSON value.
pub(crate) fn parse(text: &str) -> Result<Value, JsonError> {
    let mut p = Parser {
        lex: Lexer {
            s: text.as_bytes(),
            at: 0,
        },
    };
    let first = p.lex.next()?;
    let v = p.value(first)?;
    match p.lex.next() {
        Ok(None) => Ok(v),
        Ok(Some(_)) | Err(_) => Err(JsonError("Expecting at most one JSON value".to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(text).unwrap_err().0
    }

    #[test]
    fn qemu_dialect_and_messages() {
        let v = parse("{'qom-type':'memory-backend-ram','id':'m\\'0','size':134217728}").unwrap();
        assert_eq!(v["id"], "m'0");
        assert_eq!(v["size"], 134217728);
        assert!(parse("{'size':18446744073709551616}").unwrap()["size"].is_f64());
        assert_eq!(err("{'size':1"), "JSON parse error, premature EOI");
        assert_eq!(err("{"), "JSON parse error, premature EOI");
        assert_eq!(
            err("{'a':'m0',id:1}"),
            "JSON parse error, invalid keyword 'id'"
        );
        assert_eq!(err("{'size':}"), "JSON parse error, expecting value");
        assert_eq!(err("{\"a\":1,}"), "JSON parse error, expecting value");
        assert_eq!(err("{'a' 1}"), "JSON parse error, missing : in object pair");
        assert_eq!(
            err("{1:2}"),
            "JSON parse error, key is not a string in object"
        );
        assert_eq!(
            err("{'a':1 'b':2}"),
            "JSON parse error, expected separator in dict"
        );
        assert_eq!(err("{'a':@}"), "JSON parse error, stray '@'");
        assert_eq!(err("{'a':tru}"), "JSON parse error, invalid keyword 'tru'");
        assert_eq!(err("{'a':1} x"), "Expecting at most one JSON value");
    }
}
