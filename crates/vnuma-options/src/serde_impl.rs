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

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Expected};
use crate::object::{
    BackendKind, FileBackendOptions, HostMemPolicy, MemfdBackendOptions, MemoryBackendOptions,
    ObjectOptions, OTHER_OBJECT_TYPES,
};
use crate::span::Span;
use crate::IdRange;

/// The flat QMP `object-add` / JSON `-object` form of a memory backend.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct BackendJson {
    qom_type: String,
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dump: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host_nodes: Option<Vec<u16>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    merge: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    policy: Option<HostMemPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prealloc: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prealloc_threads: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prealloc_context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    share: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reserve: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x_use_canonical_path_for_ramblock_id: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mem_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    align: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    discard_data: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pmem: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    readonly: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hugetlb: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hugetlbsize: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seal: Option<bool>,
}

fn unexpected(key: &str) -> Error {
    Error::new(
        ErrorKind::UnexpectedParameter { key: key.into() },
        Span::default(),
    )
}

impl TryFrom<BackendJson> for MemoryBackendOptions {
    type Error = Error;

    fn try_from(j: BackendJson) -> Result<Self, Error> {
        if !crate::value::is_identifier(&j.id) {
            return Err(Error::new(
                ErrorKind::InvalidValue {
                    key: "id".into(),
                    expected: Expected::Identifier,
                },
                Span::default(),
            ));
        }
        let file_only = [
            ("mem-path", j.mem_path.is_some()),
            ("align", j.align.is_some()),
            ("discard-data", j.discard_data.is_some()),
            ("pmem", j.pmem.is_some()),
            ("readonly", j.readonly.is_some()),
        ];
        let memfd_only = [
            ("hugetlb", j.hugetlb.is_some()),
            ("hugetlbsize", j.hugetlbsize.is_some()),
            ("seal", j.seal.is_some()),
        ];
        fn foreign(set: &[(&'static str, bool)]) -> Option<&'static str> {
            set.iter().find(|(_, present)| *present).map(|(k, _)| *k)
        }
        let kind = match j.qom_type.as_str() {
            "memory-backend-ram" => {
                if let Some(k) = foreign(&file_only).or_else(|| foreign(&memfd_only)) {
                    return Err(unexpected(k));
                }
                BackendKind::Ram
            }
            "memory-backend-file" => {
                if let Some(k) = foreign(&memfd_only) {
                    return Err(unexpected(k));
                }
                BackendKind::File(FileBackendOptions {
                    mem_path: j.mem_path.clone().ok_or_else(|| {
                        Error::new(
                            ErrorKind::MissingParameter {
                                key: "mem-path".into(),
                            },
                            Span::default(),
                        )
                    })?,
                    align: j.align,
                    discard_data: j.discard_data,
                    pmem: j.pmem,
                    readonly: j.readonly,
                })
            }
            "memory-backend-memfd" => {
                if let Some(k) = foreign(&file_only) {
                    return Err(unexpected(k));
                }
                BackendKind::Memfd(MemfdBackendOptions {
                    hugetlb: j.hugetlb,
                    hugetlbsize: j.hugetlbsize,
                    seal: j.seal,
                })
            }
            other => {
                return Err(Error::new(
                    ErrorKind::InvalidEnumValue {
                        key: "qom-type".into(),
                        value: other.into(),
                    },
                    Span::default(),
                ))
            }
        };
        let size = j.size.ok_or_else(|| {
            Error::new(
                ErrorKind::MissingParameter { key: "size".into() },
                Span::default(),
            )
        })?;
        Ok(MemoryBackendOptions {
            id: j.id,
            kind,
            size,
            dump: j.dump,
            host_nodes: j
                .host_nodes
                .unwrap_or_default()
                .into_iter()
                .map(IdRange::single)
                .collect(),
            merge: j.merge,
            policy: j.policy,
            prealloc: j.prealloc,
            prealloc_threads: j.prealloc_threads,
            prealloc_context: j.prealloc_context,
            share: j.share,
            reserve: j.reserve,
            x_use_canonical_path_for_ramblock_id: j.x_use_canonical_path_for_ramblock_id,
        })
    }
}

impl From<MemoryBackendOptions> for BackendJson {
    fn from(b: MemoryBackendOptions) -> Self {
        let mut j = BackendJson {
            qom_type: b.qom_type().into(),
            id: b.id.clone(),
            size: Some(b.size),
            dump: b.dump,
            host_nodes: (!b.host_nodes.is_empty())
                .then(|| b.host_nodes.iter().flat_map(|r| r.iter()).collect()),
            merge: b.merge,
            policy: b.policy,
            prealloc: b.prealloc,
            prealloc_threads: b.prealloc_threads,
            prealloc_context: b.prealloc_context.clone(),
            share: b.share,
            reserve: b.reserve,
            x_use_canonical_path_for_ramblock_id: b.x_use_canonical_path_for_ramblock_id,
            ..BackendJson::default()
        };
        match b.kind {
            BackendKind::Ram => {}
            BackendKind::File(f) => {
                j.mem_path = Some(f.mem_path);
                j.align = f.align;
                j.discard_data = f.discard_data;
                j.pmem = f.pmem;
                j.readonly = f.readonly;
            }
            BackendKind::Memfd(m) => {
                j.hugetlb = m.hugetlb;
                j.hugetlbsize = m.hugetlbsize;
                j.seal = m.seal;
            }
        }
        j
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

    fn required<T>(&self, key: &str, v: Option<T>) -> Result<T, Error> {
        v.ok_or_else(|| self.err(ErrorKind::MissingParameter { key: key.into() }))
    }

    fn finish(&self) -> Result<(), Error> {
        match self.map.keys().find(|k| !self.seen.contains(&k.as_str())) {
            Some(k) => Err(self.err(ErrorKind::UnexpectedParameter { key: k.clone() })),
            None => Ok(()),
        }
    }
}

/// `-object {...}`: a memory backend, or another object type kept as
/// written. Members are checked in QEMU's schema order with its messages;
/// JSON syntax errors say `JSON parse error, ...` as QEMU does, with the
/// JSON parser's own detail.
pub(crate) fn object_from_json(text: &str) -> Result<ObjectOptions, Error> {
    let len = text.len();
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| json_error(alloc::format!("JSON parse error, {e}"), len))?;
    let Some(map) = value.as_object() else {
        return Err(json_error("Invalid parameter type, expected: object", len));
    };
    let mut v = JsonVisitor {
        map,
        seen: Vec::new(),
        len,
    };
    let qom_type = v.opt_str("qom-type")?;
    let qom_type = v.required("qom-type", qom_type)?;
    if OTHER_OBJECT_TYPES.contains(&qom_type.as_str()) {
        let id = map.get("id").and_then(|i| i.as_str()).map(String::from);
        return Ok(ObjectOptions::Other {
            qom_type,
            id,
            text: text.into(),
        });
    }
    let kind_index = [
        "memory-backend-ram",
        "memory-backend-file",
        "memory-backend-memfd",
    ]
    .iter()
    .position(|t| *t == qom_type)
    .ok_or_else(|| {
        v.err(ErrorKind::InvalidEnumValue {
            key: "qom-type".into(),
            value: qom_type.clone(),
        })
    })?;
    let id = v.opt_str("id")?;
    let id = v.required("id", id)?;
    let dump = v.opt_bool("dump")?;
    let host_nodes = match v.get("host-nodes") {
        None => Vec::new(),
        Some(list) => {
            let items = list
                .as_array()
                .ok_or_else(|| v.wrong_type("host-nodes", "array"))?;
            let mut out = Vec::with_capacity(items.len().min(128));
            for (i, item) in items.iter().enumerate() {
                let key = alloc::format!("host-nodes[{i}]");
                out.push(IdRange::single(
                    v.uint(&key, item, u16::MAX.into(), "uint16_t")? as u16,
                ));
            }
            out
        }
    };
    let merge = v.opt_bool("merge")?;
    let policy = match v.opt_str("policy")? {
        None => None,
        Some(p) => Some(
            HostMemPolicy::ALL
                .iter()
                .copied()
                .find(|x| x.as_str() == p)
                .ok_or_else(|| {
                    v.err(ErrorKind::InvalidEnumValue {
                        key: "policy".into(),
                        value: p.clone(),
                    })
                })?,
        ),
    };
    let prealloc = v.opt_bool("prealloc")?;
    let prealloc_threads = v
        .opt_uint("prealloc-threads", u32::MAX.into(), "uint32_t")?
        .map(|n| n as u32);
    let prealloc_context = v.opt_str("prealloc-context")?;
    let share = v.opt_bool("share")?;
    let reserve = v.opt_bool("reserve")?;
    let size = v.opt_uint("size", u64::MAX, "uint64")?;
    let size = v.required("size", size)?;
    let x_use_canonical_path_for_ramblock_id =
        v.opt_bool("x-use-canonical-path-for-ramblock-id")?;
    let kind = match kind_index {
        0 => BackendKind::Ram,
        1 => {
            let align = v.opt_uint("align", u64::MAX, "uint64")?;
            let discard_data = v.opt_bool("discard-data")?;
            let mem_path = v.opt_str("mem-path")?;
            let mem_path = v.required("mem-path", mem_path)?;
            let pmem = v.opt_bool("pmem")?;
            let readonly = v.opt_bool("readonly")?;
            BackendKind::File(FileBackendOptions {
                mem_path,
                align,
                discard_data,
                pmem,
                readonly,
            })
        }
        _ => {
            let hugetlb = v.opt_bool("hugetlb")?;
            let hugetlbsize = v.opt_uint("hugetlbsize", u64::MAX, "uint64")?;
            let seal = v.opt_bool("seal")?;
            BackendKind::Memfd(MemfdBackendOptions {
                hugetlb,
                hugetlbsize,
                seal,
            })
        }
    };
    v.finish()?;
    if !crate::value::is_identifier(&id) {
        return Err(v.err(ErrorKind::InvalidValue {
            key: "id".into(),
            expected: Expected::Identifier,
        }));
    }
    Ok(ObjectOptions::MemoryBackend(MemoryBackendOptions {
        id,
        kind,
        size,
        dump,
        host_nodes,
        merge,
        policy,
        prealloc,
        prealloc_threads,
        prealloc_context,
        share,
        reserve,
        x_use_canonical_path_for_ramblock_id,
    }))
}
