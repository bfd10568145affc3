//! A small flattened-device-tree reader and the NUMA part of a tree in a
//! canonical, comparable form ([`FdtNuma`]).
//!
//! QEMU's `virt` tree describes every device of the board; the virt
//! corpus compares only what guest NUMA reads from it: the memory nodes
//! (`reg` in the root's cells, `numa-node-id`), `/cpus` (`#address-cells`
//! and each `cpu@N` with its `reg` cells and `numa-node-id`) and
//! `/distance-map` (`compatible`, `distance-matrix` as triples). Node order
//! in a tree carries no meaning, so memory nodes are sorted by their
//! first address and cpu nodes by their `reg`.
//!
//! The reader checks every offset and length against the blob and bounds
//! the nesting depth, so a corrupt blob is an error, never a panic, and
//! nothing is allocated beyond what the blob holds.

use crate::json::Json;
use crate::Error;

const MAGIC: u32 = 0xd00d_feed;
const BEGIN_NODE: u32 = 1;
const END_NODE: u32 = 2;
const PROP: u32 = 3;
const NOP: u32 = 4;
const END: u32 = 9;
/// Deeper trees are refused (QEMU's are a handful of levels deep).
const MAX_DEPTH: usize = 64;

/// A node of a decoded tree: its name (`memory@40000000`), its
/// properties as raw bytes in tree order, and its children.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Node {
    /// The node's name with its unit address; empty for the root.
    pub name: String,
    /// `(name, value)` in tree order.
    pub props: Vec<(String, Vec<u8>)>,
    /// The child nodes in tree order.
    pub children: Vec<Node>,
}

impl Node {
    /// The property `name`'s bytes.
    pub fn prop(&self, name: &str) -> Option<&[u8]> {
        self.props
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The child called `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The property `name` as big-endian 32-bit cells.
    pub fn cells(&self, name: &str) -> Result<Option<Vec<u32>>, Error> {
        let Some(v) = self.prop(name) else {
            return Ok(None);
        };
        if v.len() % 4 != 0 {
            return Err(Error::new(format!(
                "{}: property {name} is {} bytes, not cells",
                self.name,
                v.len()
            )));
        }
        Ok(Some(
            v.chunks_exact(4)
                .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ))
    }

    /// The property `name` as one cell.
    pub fn u32(&self, name: &str) -> Result<Option<u32>, Error> {
        match self.cells(name)?.as_deref() {
            None => Ok(None),
            Some([v]) => Ok(Some(*v)),
            Some(_) => Err(Error::new(format!(
                "{}: property {name} is not one cell",
                self.name
            ))),
        }
    }

    /// The property `name` as a NUL-terminated string.
    pub fn string(&self, name: &str) -> Option<String> {
        let v = self.prop(name)?;
        let s = v.strip_suffix(&[0]).unwrap_or(v);
        Some(String::from_utf8_lossy(s).into_owned())
    }
}

fn be32(blob: &[u8], off: usize) -> Result<u32, Error> {
    off.checked_add(4)
        .and_then(|end| blob.get(off..end))
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| Error::new(format!("FDT: read past the end at {off:#x}")))
}

fn cstr(bytes: &[u8], off: usize) -> Result<&[u8], Error> {
    let rest = bytes
        .get(off..)
        .ok_or_else(|| Error::new("FDT: string offset out of range"))?;
    let len = rest
        .iter()
        .position(|b| *b == 0)
        .ok_or_else(|| Error::new("FDT: unterminated string"))?;
    Ok(&rest[..len])
}

/// Decodes a flattened device tree blob into its root [`Node`].
pub fn parse(blob: &[u8]) -> Result<Node, Error> {
    if be32(blob, 0)? != MAGIC {
        return Err(Error::new("FDT: bad magic"));
    }
    let total = be32(blob, 4)? as usize;
    let blob = blob
        .get(..total)
        .ok_or_else(|| Error::new("FDT: totalsize beyond the blob"))?;
    let off_struct = be32(blob, 8)? as usize;
    let off_strings = be32(blob, 12)? as usize;
    let size_strings = be32(blob, 32)? as usize;
    let size_struct = be32(blob, 36)? as usize;
    let structs = off_struct
        .checked_add(size_struct)
        .and_then(|end| blob.get(off_struct..end))
        .ok_or_else(|| Error::new("FDT: structure block out of range"))?;
    let strings = off_strings
        .checked_add(size_strings)
        .and_then(|end| blob.get(off_strings..end))
        .ok_or_else(|| Error::new("FDT: strings block out of range"))?;

    let mut stack: Vec<Node> = Vec::new();
    let mut root = None;
    let mut off = 0;
    loop {
        let token = be32(structs, off)?;
        off += 4;
        match token {
            BEGIN_NODE => {
                if root.is_some() {
                    return Err(Error::new("FDT: a second root node"));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(Error::new("FDT: nested too deep"));
                }
                let name = cstr(structs, off)?;
                off = (off + name.len() + 1 + 3) & !3;
                stack.push(Node {
                    name: String::from_utf8_lossy(name).into_owned(),
                    ..Node::default()
                });
            }
            END_NODE => {
                let node = stack
                    .pop()
                    .ok_or_else(|| Error::new("FDT: unbalanced end of node"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            PROP => {
                let len = be32(structs, off)? as usize;
                let name_off = be32(structs, off + 4)? as usize;
                off += 8;
                let value = off
                    .checked_add(len)
                    .and_then(|end| structs.get(off..end))
                    .ok_or_else(|| Error::new("FDT: property value out of range"))?;
                off = (off + len + 3) & !3;
                let name = String::from_utf8_lossy(cstr(strings, name_off)?).into_owned();
                stack
                    .last_mut()
                    .ok_or_else(|| Error::new("FDT: property outside a node"))?
                    .props
                    .push((name, value.to_vec()));
            }
            NOP => {}
            END => break,
            t => return Err(Error::new(format!("FDT: bad token {t:#x} at {off:#x}"))),
        }
    }
    if !stack.is_empty() {
        return Err(Error::new("FDT: unclosed node"));
    }
    root.ok_or_else(|| Error::new("FDT: no root node"))
}

/// A memory node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryNode {
    /// `memory@ADDR`.
    pub name: String,
    /// `reg` as `(address, size)` pairs in the root's cells.
    pub reg: Vec<(u64, u64)>,
    /// `numa-node-id`.
    pub node: Option<u32>,
}

/// A cpu node under `/cpus`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuNode {
    /// `cpu@N`.
    pub name: String,
    /// `reg` cells (the MPIDR affinity on Arm).
    pub reg: Vec<u32>,
    /// `numa-node-id`.
    pub node: Option<u32>,
}

/// `/distance-map`: its `compatible` and its `distance-matrix` as
/// `(from, to, distance)` triples in tree order.
pub type DistanceMap = (String, Vec<(u32, u32, u32)>);

/// The NUMA-relevant part of a device tree, canonical (sorted) and
/// JSON-serialisable ([`FdtNuma::to_json`], [`FdtNuma::from_json`]).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FdtNuma {
    /// The memory nodes (`device_type = "memory"` or named `memory@…`),
    /// by first address.
    pub memory: Vec<MemoryNode>,
    /// `/cpus`'s `#address-cells` (`None` without `/cpus`).
    pub cpu_address_cells: Option<u32>,
    /// The `cpu@N` nodes under `/cpus`, by `reg`.
    pub cpus: Vec<CpuNode>,
    /// `/distance-map`: `compatible` and `distance-matrix` as
    /// `(from, to, distance)` in tree order; `None` without the node.
    pub distance_map: Option<DistanceMap>,
}

fn cells_value(cells: &[u32]) -> u64 {
    cells
        .iter()
        .fold(0u64, |acc, c| (acc << 32) | u64::from(*c))
}

impl FdtNuma {
    /// The NUMA part of the tree in `blob`.
    pub fn from_blob(blob: &[u8]) -> Result<FdtNuma, Error> {
        FdtNuma::from_tree(&parse(blob)?)
    }

    /// The NUMA part of the decoded tree `root`.
    pub fn from_tree(root: &Node) -> Result<FdtNuma, Error> {
        let addr_cells = root.u32("#address-cells")?.unwrap_or(2) as usize;
        let size_cells = root.u32("#size-cells")?.unwrap_or(1) as usize;
        if !(1..=2).contains(&addr_cells) || size_cells > 2 {
            return Err(Error::new("FDT: root cells beyond 64 bits"));
        }
        let mut out = FdtNuma::default();
        for n in &root.children {
            let is_memory = n.string("device_type").as_deref() == Some("memory")
                || n.name == "memory"
                || n.name.starts_with("memory@");
            if !is_memory {
                continue;
            }
            let cells = n.cells("reg")?.unwrap_or_default();
            let pair = addr_cells + size_cells;
            if pair == 0 || cells.len() % pair != 0 {
                return Err(Error::new(format!(
                    "{}: reg is not address/size pairs",
                    n.name
                )));
            }
            let reg = cells
                .chunks_exact(pair)
                .map(|c| (cells_value(&c[..addr_cells]), cells_value(&c[addr_cells..])))
                .collect();
            out.memory.push(MemoryNode {
                name: n.name.clone(),
                reg,
                node: n.u32("numa-node-id")?,
            });
        }
        out.memory
            .sort_by(|a, b| (a.reg.first(), &a.name).cmp(&(b.reg.first(), &b.name)));
        if let Some(cpus) = root.child("cpus") {
            out.cpu_address_cells = cpus.u32("#address-cells")?;
            for c in cpus.children.iter().filter(|c| c.name.starts_with("cpu@")) {
                out.cpus.push(CpuNode {
                    name: c.name.clone(),
                    reg: c.cells("reg")?.unwrap_or_default(),
                    node: c.u32("numa-node-id")?,
                });
            }
            out.cpus
                .sort_by(|a, b| (&a.reg, &a.name).cmp(&(&b.reg, &b.name)));
        }
        if let Some(d) = root.child("distance-map") {
            let m = d.cells("distance-matrix")?.unwrap_or_default();
            if m.len() % 3 != 0 {
                return Err(Error::new("distance-map: distance-matrix is not triples"));
            }
            out.distance_map = Some((
                d.string("compatible").unwrap_or_default(),
                m.chunks_exact(3).map(|t| (t[0], t[1], t[2])).collect(),
            ));
        }
        Ok(out)
    }

    /// The record form: `{"memory": [{"name", "reg": [["0x…", "0x…"]],
    /// "numa-node-id"}], "cpus": {"#address-cells", "cpu": [{"name",
    /// "reg", "numa-node-id"}]} | null, "distance-map": {"compatible",
    /// "distance-matrix": [[from, to, d]]} | null}` (addresses and sizes
    /// as hex strings, absent ids as `null`).
    pub fn to_json(&self) -> Json {
        let id = |n: Option<u32>| n.map_or(Json::Null, |n| Json::int(n.into()));
        let memory = self
            .memory
            .iter()
            .map(|m| {
                Json::obj(vec![
                    ("name", Json::str(&m.name)),
                    (
                        "reg",
                        Json::Arr(
                            m.reg
                                .iter()
                                .map(|(a, s)| {
                                    Json::Arr(vec![
                                        Json::Str(format!("{a:#x}")),
                                        Json::Str(format!("{s:#x}")),
                                    ])
                                })
                                .collect(),
                        ),
                    ),
                    ("numa-node-id", id(m.node)),
                ])
            })
            .collect();
        let cpus = match self.cpu_address_cells {
            None if self.cpus.is_empty() => Json::Null,
            cells => Json::obj(vec![
                ("#address-cells", id(cells)),
                (
                    "cpu",
                    Json::Arr(
                        self.cpus
                            .iter()
                            .map(|c| {
                                Json::obj(vec![
                                    ("name", Json::str(&c.name)),
                                    (
                                        "reg",
                                        Json::Arr(
                                            c.reg.iter().map(|r| Json::int((*r).into())).collect(),
                                        ),
                                    ),
                                    ("numa-node-id", id(c.node)),
                                ])
                            })
                            .collect(),
                    ),
                ),
            ]),
        };
        let distance = self.distance_map.as_ref().map_or(Json::Null, |(c, m)| {
            Json::obj(vec![
                ("compatible", Json::str(c)),
                (
                    "distance-matrix",
                    Json::Arr(
                        m.iter()
                            .map(|(a, b, d)| {
                                Json::Arr(vec![
                                    Json::int((*a).into()),
                                    Json::int((*b).into()),
                                    Json::int((*d).into()),
                                ])
                            })
                            .collect(),
                    ),
                ),
            ])
        });
        Json::obj(vec![
            ("memory", Json::Arr(memory)),
            ("cpus", cpus),
            ("distance-map", distance),
        ])
    }

    /// Reads the record form back ([`FdtNuma::to_json`]).
    pub fn from_json(v: &Json) -> Result<FdtNuma, Error> {
        let bad = |what: &str| Error::new(format!("fdt: bad {what}"));
        let u32_of = |v: &Json, what: &str| -> Result<u32, Error> {
            v.as_i64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| bad(what))
        };
        let id_of = |v: Option<&Json>| -> Result<Option<u32>, Error> {
            match v {
                None | Some(Json::Null) => Ok(None),
                Some(n) => u32_of(n, "numa-node-id").map(Some),
            }
        };
        let hex_of = |v: &Json| -> Result<u64, Error> {
            let s = v.as_str().ok_or_else(|| bad("reg"))?;
            u64::from_str_radix(s.trim_start_matches("0x"), 16).map_err(|_| bad("reg"))
        };
        let mut out = FdtNuma::default();
        for m in v.get("memory").and_then(Json::as_arr).unwrap_or(&[]) {
            let mut reg = Vec::new();
            for p in m
                .get("reg")
                .and_then(Json::as_arr)
                .ok_or_else(|| bad("reg"))?
            {
                let [a, s] = p.as_arr().ok_or_else(|| bad("reg"))? else {
                    return Err(bad("reg"));
                };
                reg.push((hex_of(a)?, hex_of(s)?));
            }
            out.memory.push(MemoryNode {
                name: m
                    .get("name")
                    .and_then(Json::as_str)
                    .ok_or_else(|| bad("memory name"))?
                    .into(),
                reg,
                node: id_of(m.get("numa-node-id"))?,
            });
        }
        if let Some(c) = v.get("cpus").filter(|c| **c != Json::Null) {
            out.cpu_address_cells = id_of(c.get("#address-cells"))?;
            for cpu in c.get("cpu").and_then(Json::as_arr).unwrap_or(&[]) {
                out.cpus.push(CpuNode {
                    name: cpu
                        .get("name")
                        .and_then(Json::as_str)
                        .ok_or_else(|| bad("cpu name"))?
                        .into(),
                    reg: cpu
                        .get("reg")
                        .and_then(Json::as_arr)
                        .ok_or_else(|| bad("cpu reg"))?
                        .iter()
                        .map(|r| u32_of(r, "cpu reg"))
                        .collect::<Result<_, _>>()?,
                    node: id_of(cpu.get("numa-node-id"))?,
                });
            }
        }
        if let Some(d) = v.get("distance-map").filter(|d| **d != Json::Null) {
            let mut m = Vec::new();
            for t in d
                .get("distance-matrix")
                .and_then(Json::as_arr)
                .ok_or_else(|| bad("distance-matrix"))?
            {
                let [a, b, x] = t.as_arr().ok_or_else(|| bad("distance-matrix"))? else {
                    return Err(bad("distance-matrix"));
                };
                m.push((
                    u32_of(a, "distance-matrix")?,
                    u32_of(b, "distance-matrix")?,
                    u32_of(x, "distance-matrix")?,
                ));
            }
            let compatible = d
                .get("compatible")
                .and_then(Json::as_str)
                .unwrap_or_default();
            out.distance_map = Some((compatible.into(), m));
        }
        Ok(out)
    }

    /// The differences from `other` (`self` is QEMU's), one line each;
    /// empty when equal.
    pub fn diff(&self, other: &FdtNuma) -> Vec<String> {
        let mut out = Vec::new();
        if self.memory != other.memory {
            out.push(format!(
                "memory nodes: QEMU {:?}, vnuma {:?}",
                self.memory, other.memory
            ));
        }
        if self.cpu_address_cells != other.cpu_address_cells {
            out.push(format!(
                "/cpus #address-cells: QEMU {:?}, vnuma {:?}",
                self.cpu_address_cells, other.cpu_address_cells
            ));
        }
        if self.cpus.len() != other.cpus.len() {
            out.push(format!(
                "cpu nodes: QEMU {}, vnuma {}",
                self.cpus.len(),
                other.cpus.len()
            ));
        }
        let bad: Vec<String> = self
            .cpus
            .iter()
            .zip(&other.cpus)
            .filter(|(a, b)| a != b)
            .map(|(a, b)| format!("QEMU {a:?}, vnuma {b:?}"))
            .collect();
        if !bad.is_empty() {
            out.push(format!(
                "{} cpu node(s) differ: {}{}",
                bad.len(),
                bad[..bad.len().min(3)].join("; "),
                if bad.len() > 3 { "; ..." } else { "" }
            ));
        }
        if self.distance_map != other.distance_map {
            out.push(format!(
                "distance-map: QEMU {:?}, vnuma {:?}",
                self.distance_map, other.distance_map
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A blob built by hand: root cells 2/2, one memory node, /cpus with
    /// one cpu, a distance map.
    fn blob() -> Vec<u8> {
        let mut strings = Vec::new();
        let mut name = |s: &str| {
            let off = strings.len() as u32;
            strings.extend(s.as_bytes());
            strings.push(0);
            off
        };
        let (ac, sc, reg, nid, dt, comp, dm) = (
            name("#address-cells"),
            name("#size-cells"),
            name("reg"),
            name("numa-node-id"),
            name("device_type"),
            name("compatible"),
            name("distance-matrix"),
        );
        let mut s = Vec::new();
        let begin = |s: &mut Vec<u8>, n: &str| {
            s.extend(BEGIN_NODE.to_be_bytes());
            s.extend(n.as_bytes());
            s.push(0);
            while s.len() % 4 != 0 {
                s.push(0);
            }
        };
        let prop = |s: &mut Vec<u8>, off: u32, v: &[u8]| {
            s.extend(PROP.to_be_bytes());
            s.extend((v.len() as u32).to_be_bytes());
            s.extend(off.to_be_bytes());
            s.extend(v);
            while s.len() % 4 != 0 {
                s.push(0);
            }
        };
        let cells = |c: &[u32]| c.iter().flat_map(|x| x.to_be_bytes()).collect::<Vec<u8>>();
        begin(&mut s, "");
        prop(&mut s, ac, &cells(&[2]));
        prop(&mut s, sc, &cells(&[2]));
        begin(&mut s, "memory@80000000");
        prop(&mut s, nid, &cells(&[1]));
        prop(&mut s, reg, &cells(&[0, 0x8000_0000, 1, 0]));
        prop(&mut s, dt, b"memory\0");
        s.extend(END_NODE.to_be_bytes());
        begin(&mut s, "cpus");
        prop(&mut s, ac, &cells(&[1]));
        begin(&mut s, "cpu@1");
        prop(&mut s, reg, &cells(&[0x101]));
        prop(&mut s, nid, &cells(&[1]));
        s.extend(END_NODE.to_be_bytes());
        begin(&mut s, "cpu@0");
        prop(&mut s, reg, &cells(&[0]));
        s.extend(NOP.to_be_bytes());
        s.extend(END_NODE.to_be_bytes());
        s.extend(END_NODE.to_be_bytes());
        begin(&mut s, "distance-map");
        prop(&mut s, comp, b"numa-distance-map-v1\0");
        prop(&mut s, dm, &cells(&[0, 1, 20]));
        s.extend(END_NODE.to_be_bytes());
        s.extend(END_NODE.to_be_bytes());
        s.extend(END.to_be_bytes());
        let off_struct = 40 + 16;
        let off_strings = off_struct + s.len();
        let total = off_strings + strings.len();
        let mut b = Vec::new();
        for v in [
            MAGIC,
            total as u32,
            off_struct as u32,
            off_strings as u32,
            40,
            17,
            16,
            0,
            strings.len() as u32,
            s.len() as u32,
        ] {
            b.extend(v.to_be_bytes());
        }
        b.extend([0; 16]);
        b.extend(s);
        b.extend(strings);
        b
    }

    #[test]
    fn numa_nodes_are_decoded_and_round_trip() {
        let f = FdtNuma::from_blob(&blob()).unwrap();
        assert_eq!(
            f.memory,
            [MemoryNode {
                name: "memory@80000000".into(),
                reg: vec![(0x8000_0000, 1 << 32)],
                node: Some(1),
            }]
        );
        assert_eq!(f.cpu_address_cells, Some(1));
        // Sorted by reg: cpu@0 first although the tree lists it second.
        assert_eq!(f.cpus[0].name, "cpu@0");
        assert_eq!(f.cpus[0].node, None);
        assert_eq!(f.cpus[1].reg, [0x101]);
        assert_eq!(
            f.distance_map,
            Some(("numa-distance-map-v1".into(), vec![(0, 1, 20)]))
        );
        let json = f.to_json();
        assert_eq!(FdtNuma::from_json(&json).unwrap(), f);
        let text = json.dumps(Default::default());
        assert!(
            text.contains(r#""reg": [["0x80000000", "0x100000000"]]"#),
            "{text}"
        );
        assert!(f.diff(&f).is_empty());
        let mut g = f.clone();
        g.cpus[1].node = Some(0);
        assert_eq!(f.diff(&g).len(), 1);
    }

    #[test]
    fn corrupt_blobs_are_errors() {
        let b = blob();
        assert!(parse(&b[..b.len() - 4]).is_err());
        for cut in [0, 3, 8, 39, 60, 100] {
            assert!(parse(&b[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad = b.clone();
        bad[0] = 0;
        assert!(parse(&bad).is_err());
        // Every byte flipped: an error or a tree, never a panic.
        for i in 0..b.len() {
            let mut x = b.clone();
            x[i] ^= 0xff;
            let _ = FdtNuma::from_blob(&x);
        }
    }
}
