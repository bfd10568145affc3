//! serde helpers for the QMP JSON forms.

/// A `uint16` list in JSON (`[0, 1, 2]`) ⇄ the ranges kept in Rust.
/// Serialization expands ranges; deserialization keeps each element as a
/// single-id range, so order and duplicates survive.
pub(crate) mod id_list {
    use alloc::vec::Vec;

    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::IdRange;

    pub(crate) fn serialize<S: Serializer>(ranges: &[IdRange], s: S) -> Result<S::Ok, S::Error> {
        let len: usize = ranges.iter().map(|r| r.len()).sum();
        let mut seq = s.serialize_seq(Some(len))?;
        for id in ranges.iter().flat_map(|r| r.iter()) {
            seq.serialize_element(&id)?;
        }
        seq.end()
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IdRange>, D::Error> {
        let ids = Vec::<u16>::deserialize(d)?;
        Ok(ids.into_iter().map(IdRange::single).collect())
    }
}

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, ErrorKind, Expected};
use crate::object::{BackendKind, HostMemPolicy, MemoryBackendOptions, ObjectOptions, OnOffAuto};
use crate::schema::{self, BackendVisitor, Input};
use crate::span::Span;
use crate::{IdRange, Syntax};

/// `host-nodes` as QMP writes it: the ids, ranges expanded.
struct IdList<'a>(&'a [IdRange]);

impl Serialize for IdList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        id_list::serialize(self.0, s)
    }
}

/// QMP `object-add`'s arguments from the schema: `qom-type`, `id`, then
/// the properties that are set, in schema order.
struct SerializeVisitor<M> {
    map: M,
}

impl<M: SerializeMap> BackendVisitor for SerializeVisitor<M> {
    type Error = M::Error;

    fn bool(&mut self, name: &'static str, value: &mut Option<bool>) -> Result<(), M::Error> {
        value.map_or(Ok(()), |b| self.map.serialize_entry(name, &b))
    }

    fn uint32(&mut self, name: &'static str, value: &mut Option<u32>) -> Result<(), M::Error> {
        value.map_or(Ok(()), |n| self.map.serialize_entry(name, &n))
    }

    fn size(&mut self, name: &'static str, value: &mut Option<u64>) -> Result<(), M::Error> {
        value.map_or(Ok(()), |n| self.map.serialize_entry(name, &n))
    }

    fn string(&mut self, name: &'static str, value: &mut Option<String>) -> Result<(), M::Error> {
        value
            .as_ref()
            .map_or(Ok(()), |s| self.map.serialize_entry(name, s))
    }

    fn uint16_list(
        &mut self,
        name: &'static str,
        value: &mut Vec<IdRange>,
    ) -> Result<(), M::Error> {
        if value.is_empty() {
            return Ok(());
        }
        self.map.serialize_entry(name, &IdList(value))
    }

    fn policy(
        &mut self,
        name: &'static str,
        value: &mut Option<HostMemPolicy>,
    ) -> Result<(), M::Error> {
        value.map_or(Ok(()), |p| self.map.serialize_entry(name, &p))
    }

    fn on_off_auto(
        &mut self,
        name: &'static str,
        value: &mut Option<OnOffAuto>,
    ) -> Result<(), M::Error> {
        value.map_or(Ok(()), |p| self.map.serialize_entry(name, &p))
    }
}

impl Serialize for MemoryBackendOptions {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("qom-type", self.qom_type())?;
        map.serialize_entry("id", &self.id)?;
        let mut v = SerializeVisitor { map };
        schema::visit_backend(&mut v, &mut self.clone(), Syntax::Qemu100)?;
        v.map.end()
    }
}

impl<'de> Deserialize<'de> for MemoryBackendOptions {
    /// The members are checked as for JSON `-object`, with its messages;
    /// another object type is `Invalid parameter value for 'qom-type'`.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        match backend_from_map(&map, 0, Syntax::Qemu100).map_err(D::Error::custom)? {
            Ok(b) => Ok(b),
            Err(qom_type) => Err(D::Error::custom(Error::new(
                ErrorKind::InvalidEnumValue {
                    key: "qom-type".into(),
                    value: qom_type,
                },
                Span::default(),
            ))),
        }
    }
}

fn json_error(message: impl ToString, len: usize) -> Error {
    Error::new(
        ErrorKind::Json {
            message: message.to_string(),
        },
        Span::new(0, len),
    )
}

/// Typed access to a JSON object's members with the messages of QEMU's
/// QObject input visitor.
struct JsonVisitor<'a> {
    map: &'a serde_json::Map<String, serde_json::Value>,
    seen: Vec<&'a str>,
    len: usize,
}

impl<'a> JsonVisitor<'a> {
    fn err(&self, kind: ErrorKind) -> Error {
        Error::new(kind, Span::new(0, self.len))
    }

    fn get(&mut self, key: &'a str) -> Option<&'a serde_json::Value> {
        self.seen.push(key);
        self.map.get(key)
    }

    fn wrong_type(&self, key: &str, expected: &str) -> Error {
        self.err(ErrorKind::Json {
            message: alloc::format!("Invalid parameter type for '{key}', expected: {expected}"),
        })
    }

    fn expects(&self, key: &str, what: &str) -> Error {
        self.err(ErrorKind::Json {
            message: alloc::format!("Parameter '{key}' expects {what}"),
        })
    }

    fn uint(&self, key: &str, v: &serde_json::Value, max: u64, width: &str) -> Result<u64, Error> {
        // QEMU accepts negative numbers here for compatibility (they wrap).
        let n = v
            .as_u64()
            .or_else(|| v.as_i64().map(|i| i as u64))
            .ok_or_else(|| self.expects(key, "uint64"))?;
        if n > max {
            return Err(self.expects(key, width));
        }
        Ok(n)
    }

    fn opt_uint(&mut self, key: &'a str, max: u64, width: &str) -> Result<Option<u64>, Error> {
        match self.get(key) {
            Some(v) => self.uint(key, v, max, width).map(Some),
            None => Ok(None),
        }
    }

    fn opt_bool(&mut self, key: &'a str) -> Result<Option<bool>, Error> {
        match self.get(key) {
            Some(v) => v
                .as_bool()
                .map(Some)
                .ok_or_else(|| self.wrong_type(key, "boolean")),
            None => Ok(None),
        }
    }

    fn opt_str(&mut self, key: &'a str) -> Result<Option<String>, Error> {
        match self.get(key) {
            Some(v) => v
                .as_str()
                .map(|s| Some(s.into()))
                .ok_or_else(|| self.wrong_type(key, "string")),
            None => Ok(None),
        }
    }

    fn finish(&self) -> Result<(), Error> {
        match self.map.keys().find(|k| !self.seen.contains(&k.as_str())) {
            Some(k) => Err(self.err(ErrorKind::UnexpectedParameter { key: k.clone() })),
            None => Ok(()),
        }
    }
}

impl Input for JsonVisitor<'_> {
    fn bool(&mut self, name: &'static str) -> Result<Option<bool>, Error> {
        self.opt_bool(name)
    }

    fn uint32(&mut self, name: &'static str) -> Result<Option<u32>, Error> {
        let n = self.opt_uint(name, u32::MAX.into(), "uint32_t")?;
        Ok(n.map(|n| n as u32))
    }

    fn size(&mut self, name: &'static str) -> Result<Option<u64>, Error> {
        self.opt_uint(name, u64::MAX, "uint64")
    }

    fn string(&mut self, name: &'static str) -> Result<Option<String>, Error> {
        self.opt_str(name)
    }

    fn uint16_list(&mut self, name: &'static str) -> Result<Vec<IdRange>, Error> {
        let Some(list) = self.get(name) else {
            return Ok(Vec::new());
        };
        let items = list
            .as_array()
            .ok_or_else(|| self.wrong_type(name, "array"))?;
        let mut out = Vec::with_capacity(items.len().min(128));
        for (i, item) in items.iter().enumerate() {
            let key = alloc::format!("{name}[{i}]");
            out.push(IdRange::single(
                self.uint(&key, item, u16::MAX.into(), "uint16_t")? as u16,
            ));
        }
        Ok(out)
    }

    fn policy(&mut self, name: &'static str) -> Result<Option<HostMemPolicy>, Error> {
        let Some(p) = self.opt_str(name)? else {
            return Ok(None);
        };
        HostMemPolicy::ALL
            .iter()
            .copied()
            .find(|x| x.as_str() == p)
            .map(Some)
            .ok_or_else(|| {
                self.err(ErrorKind::InvalidEnumValue {
                    key: name.into(),
                    value: p,
                })
            })
    }

    fn on_off_auto(&mut self, name: &'static str) -> Result<Option<OnOffAuto>, Error> {
        let Some(p) = self.opt_str(name)? else {
            return Ok(None);
        };
        OnOffAuto::ALL
            .iter()
            .copied()
            .find(|x| x.as_str() == p)
            .map(Some)
            .ok_or_else(|| {
                self.err(ErrorKind::InvalidEnumValue {
                    key: name.into(),
                    value: p,
                })
            })
    }

    fn missing(&self, name: &'static str) -> Error {
        self.err(ErrorKind::MissingParameter { key: name.into() })
    }
}

/// `-object {...}`: a memory backend, or another object type kept as
/// written. Members are checked in QEMU's schema order with its messages;
/// JSON syntax errors say `JSON parse error, ...` as QEMU does, with the
/// JSON parser's own detail.
pub(crate) fn object_from_json(text: &str, syntax: Syntax) -> Result<ObjectOptions, Error> {
    let len = text.len();
    let value = crate::qemu_json::parse(text).map_err(|e| json_error(e.0, len))?;
    let Some(map) = value.as_object() else {
        return Err(json_error("Invalid parameter type, expected: object", len));
    };
    Ok(match backend_from_map(map, len, syntax)? {
        Ok(backend) => ObjectOptions::MemoryBackend(backend),
        Err(qom_type) => ObjectOptions::Other {
            qom_type,
            id: map.get("id").and_then(|i| i.as_str()).map(String::from),
            text: text.into(),
        },
    })
}

/// A JSON object's members as a memory backend, or (`Err`) the
/// `qom-type` of another object type QEMU has. Errors span `len` bytes.
fn backend_from_map(
    map: &serde_json::Map<String, serde_json::Value>,
    len: usize,
    syntax: Syntax,
) -> Result<Result<MemoryBackendOptions, String>, Error> {
    let mut v = JsonVisitor {
        map,
        seen: Vec::new(),
        len,
    };
    let qom_type = v
        .opt_str("qom-type")?
        .ok_or_else(|| v.missing("qom-type"))?;
    if crate::object::is_other_object_type(&qom_type, syntax) {
        return Ok(Err(qom_type));
    }
    let kind = BackendKind::from_qom_type_in(&qom_type, syntax).ok_or_else(|| {
        v.err(ErrorKind::InvalidEnumValue {
            key: "qom-type".into(),
            value: qom_type.clone(),
        })
    })?;
    let id = v.opt_str("id")?.ok_or_else(|| v.missing("id"))?;
    let mut backend = MemoryBackendOptions::new(id, kind, 0);
    schema::visit_backend(&mut v, &mut backend, syntax)?;
    v.finish()?;
    if !crate::value::is_identifier(&backend.id) {
        return Err(v.err(ErrorKind::InvalidValue {
            key: "id".into(),
            expected: Expected::Identifier,
        }));
    }
    Ok(Ok(backend))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// serde and JSON `-object` read a backend through the same schema:
    /// the same values and the same first error.
    #[test]
    fn deserialize_is_the_json_object_path() {
        for json in [
            r#"{"qom-type":"memory-backend-memfd","id":"m","size":1,"hugetlbsize":2,"seal":false}"#,
            r#"{"qom-type":"memory-backend-ram","id":"m","size":"1M"}"#,
            r#"{"qom-type":"memory-backend-ram","id":"m","size":1,"host-nodes":[70000]}"#,
            r#"{"qom-type":"memory-backend-file","id":"m","size":1,"seal":true}"#,
            r#"{"qom-type":"memory-backend-file","id":"m","size":1}"#,
            r#"{"qom-type":"memory-backend-ram","id":"0m","size":1,"policy":"x"}"#,
            r#"{"qom-type":"memory-backend-ram","id":"0m","size":1}"#,
            r#"{"qom-type":"memory-backend-ram","size":1}"#,
            r#"{"qom-type":"iothread","id":"t"}"#,
        ] {
            let serde =
                serde_json::from_str::<MemoryBackendOptions>(json).map_err(|e| e.to_string());
            let object = match object_from_json(json, Syntax::Qemu100) {
                Ok(ObjectOptions::MemoryBackend(b)) => Ok(b),
                Ok(ObjectOptions::Other { qom_type, .. }) => Err(Error::new(
                    ErrorKind::InvalidEnumValue {
                        key: "qom-type".into(),
                        value: qom_type,
                    },
                    Span::default(),
                )
                .to_string()),
                Err(e) => Err(e.to_string()),
            };
            match (serde, object) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{json}"),
                (Err(a), Err(b)) => assert!(a.starts_with(&b), "{json}: {a} vs {b}"),
                (a, b) => panic!("{json}: {a:?} vs {b:?}"),
            }
        }
    }

    #[test]
    fn serialize_in_schema_order() {
        let b: MemoryBackendOptions =
            "memory-backend-file,id=m0,size=2M,mem-path=/x,host-nodes=0-1,policy=bind,readonly=on"
                .parse()
                .unwrap();
        assert_eq!(
            serde_json::to_string(&b).unwrap(),
            r#"{"qom-type":"memory-backend-file","id":"m0","host-nodes":[0,1],"policy":"bind","size":2097152,"mem-path":"/x","readonly":true}"#
        );
    }
}
