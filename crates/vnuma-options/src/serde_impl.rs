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
