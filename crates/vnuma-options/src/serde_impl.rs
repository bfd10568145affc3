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

fn json_error(e: impl ToString, len: usize) -> Error {
    Error::new(
        ErrorKind::Json {
            message: e.to_string(),
        },
        Span::new(0, len),
    )
}

/// `-object {...}`: a memory backend, or another object type kept as
/// written.
pub(crate) fn object_from_json(text: &str) -> Result<ObjectOptions, Error> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| json_error(e, text.len()))?;
    let qom_type = match value.get("qom-type") {
        Some(serde_json::Value::String(t)) => t.clone(),
        Some(_) => {
            return Err(json_error(
                "Invalid parameter type for 'qom-type', expected: string",
                text.len(),
            ))
        }
        None => {
            return Err(Error::new(
                ErrorKind::MissingParameter {
                    key: "qom-type".into(),
                },
                Span::new(0, text.len()),
            ))
        }
    };
    if OTHER_OBJECT_TYPES.contains(&qom_type.as_str()) {
        let id = value.get("id").and_then(|v| v.as_str()).map(String::from);
        return Ok(ObjectOptions::Other {
            qom_type,
            id,
            text: text.into(),
        });
    }
    let json: BackendJson = serde_json::from_value(value).map_err(|e| json_error(e, text.len()))?;
    MemoryBackendOptions::try_from(json)
        .map(ObjectOptions::MemoryBackend)
        .map_err(|e| Error::new(e.kind().clone(), Span::new(0, text.len())))
}
