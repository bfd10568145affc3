//! `query-memdev` entries (QMP `Memdev`) and HMP `info memdev` text.

use std::fmt::{self, Write as _};

use vnuma_options::HostMemPolicy;

/// One backend as QMP `query-memdev` reports it (QEMU 7.2). Made from a
/// backend's [`crate::Effective`] properties. With the `serde` feature it
/// serializes with QMP's field names (absent `id`/`reserve` left out).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "kebab-case")
)]
pub struct Memdev {
    /// The object id (`pc.ram` for the machine's default RAM backend).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub id: Option<String>,
    /// `size` in bytes.
    pub size: u64,
    /// `merge`.
    pub merge: bool,
    /// `dump`.
    pub dump: bool,
    /// `prealloc`.
    pub prealloc: bool,
    /// `share`.
    pub share: bool,
    /// `reserve` (present on Linux).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub reserve: Option<bool>,
    /// `host-nodes`, ascending.
    pub host_nodes: Vec<u16>,
    /// `policy`.
    pub policy: HostMemPolicy,
}

fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl Memdev {
    /// The JSON object QEMU 7.2 sends, members in its order
    /// (`{"share": false, "reserve": true, "prealloc": false,
    /// "host-nodes": [], "size": 268435456, "merge": true, "dump": true,
    /// "policy": "default", "id": "pc.ram"}`).
    pub fn to_qmp_json(&self) -> String {
        let mut s = String::from("{");
        let _ = write!(s, "\"share\": {}, ", self.share);
        if let Some(r) = self.reserve {
            let _ = write!(s, "\"reserve\": {r}, ");
        }
        let _ = write!(s, "\"prealloc\": {}, ", self.prealloc);
        s.push_str("\"host-nodes\": [");
        for (i, n) in self.host_nodes.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            let _ = write!(s, "{n}");
        }
        s.push_str("], ");
        let _ = write!(
            s,
            "\"size\": {}, \"merge\": {}, \"dump\": {}, \"policy\": \"{}\"",
            self.size, self.merge, self.dump, self.policy
        );
        if let Some(id) = &self.id {
            s.push_str(", \"id\": ");
            json_string(&mut s, id);
        }
        s.push('}');
        s
    }

    /// A `query-memdev` return value: the entries as a JSON array.
    pub fn list_to_qmp_json(list: &[Memdev]) -> String {
        let items: Vec<String> = list.iter().map(Memdev::to_qmp_json).collect();
        format!("[{}]", items.join(", "))
    }
}

impl fmt::Display for Memdev {
    /// HMP `info memdev`'s block for this backend (QEMU 7.2: the lines
    /// below, host nodes range-compressed as `0-1,3`, then a blank line).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "memory backend: {}", self.id.as_deref().unwrap_or(""))?;
        writeln!(f, "  size:  {}", self.size)?;
        writeln!(f, "  merge: {}", self.merge)?;
        writeln!(f, "  dump: {}", self.dump)?;
        writeln!(f, "  prealloc: {}", self.prealloc)?;
        writeln!(f, "  share: {}", self.share)?;
        if let Some(r) = self.reserve {
            writeln!(f, "  reserve: {r}")?;
        }
        writeln!(f, "  policy: {}", self.policy)?;
        writeln!(f, "  host nodes: {}", RangeList(&self.host_nodes))?;
        writeln!(f)
    }
}

/// Ascending ids in the string output visitor's form (`0-1,3`).
struct RangeList<'a>(&'a [u16]);

impl fmt::Display for RangeList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut i = 0;
        let ids = self.0;
        while i < ids.len() {
            let mut j = i;
            while j + 1 < ids.len() && ids[j + 1] == ids[j].wrapping_add(1) {
                j += 1;
            }
            if i > 0 {
                f.write_str(",")?;
            }
            if j > i {
                write!(f, "{}-{}", ids[i], ids[j])?;
            } else {
                write!(f, "{}", ids[i])?;
            }
            i = j + 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_memdev_and_json() {
        let m = Memdev {
            id: Some("m\"0".into()),
            size: 8 << 20,
            merge: true,
            dump: false,
            prealloc: false,
            share: true,
            reserve: None,
            host_nodes: vec![0, 1, 3, 5, 6, 7],
            policy: HostMemPolicy::Interleave,
        };
        // QEMU 7.2 `info memdev` renders host-nodes=0-1,host-nodes=3 as
        // `0-1,3`.
        assert!(m
            .to_string()
            .ends_with("  policy: interleave\n  host nodes: 0-1,3,5-7\n\n"));
        assert_eq!(
            m.to_qmp_json(),
            r#"{"share": true, "prealloc": false, "host-nodes": [0, 1, 3, 5, 6, 7], "size": 8388608, "merge": true, "dump": false, "policy": "interleave", "id": "m\"0"}"#
        );
    }
}
