//! `-numa node|dist|cpu|hmat-lb|hmat-cache` (QAPI `NumaOptions`).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

use crate::error::Error;
use crate::grammar::{self, escape};
use crate::span::Span;
use crate::value::{self, format_size};
use crate::visit::{self, Visitor};
use crate::{IdRange, Parsed};

/// One `-numa` option (QMP: the `set-numa-node` arguments).
///
/// ```
/// use vnuma_options::NumaOptions;
/// let opt: NumaOptions = "node,nodeid=1,cpus=0-3,memdev=m1".parse().unwrap();
/// let NumaOptions::Node(node) = &opt else { panic!() };
/// assert_eq!(node.nodeid, Some(1));
/// assert_eq!(opt.to_string(), "node,nodeid=1,cpus=0-3,memdev=m1");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "type", rename_all = "kebab-case"))]
pub enum NumaOptions {
    /// `-numa node`: declare a node.
    Node(NumaNodeOptions),
    /// `-numa dist`: one distance.
    Dist(NumaDistOptions),
    /// `-numa cpu`: map CPU slots by topology ids.
    Cpu(NumaCpuOptions),
    /// `-numa hmat-lb`: one HMAT latency or bandwidth entry.
    HmatLb(NumaHmatLbOptions),
    /// `-numa hmat-cache`: one HMAT memory-side cache.
    HmatCache(NumaHmatCacheOptions),
}

/// `-numa node[,nodeid=N][,cpus=A[-B]]...[,mem=S][,memdev=ID][,initiator=I]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct NumaNodeOptions {
    /// The node id; the next free count of nodes when absent.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub nodeid: Option<u16>,
    /// CPU indexes, as the ranges written (duplicates allowed, order kept).
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Vec::is_empty",
            with = "crate::serde_impl::id_list"
        )
    )]
    pub cpus: Vec<IdRange>,
    /// Legacy memory size in bytes (on the command line a size without
    /// suffix is in MiB).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub mem: Option<u64>,
    /// Id of the memory backend holding the node's RAM.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub memdev: Option<String>,
    /// HMAT initiator node (needs `-machine hmat=on`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub initiator: Option<u16>,
}

/// `-numa dist,src=S,dst=D,val=V`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct NumaDistOptions {
    /// Source node.
    pub src: u16,
    /// Destination node.
    pub dst: u16,
    /// Distance (10 local, 255 unreachable).
    pub val: u8,
}

/// `-numa cpu,node-id=N[,socket-id=S][,die-id=D][,cluster-id=C][,core-id=K][,thread-id=T]`.
///
/// All members are optional here (QEMU checks `node-id` semantically) and
/// signed, as in QEMU's schema.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(deny_unknown_fields, rename_all = "kebab-case")
)]
pub struct NumaCpuOptions {
    /// Target node.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub node_id: Option<i64>,
    /// Socket id to match.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub socket_id: Option<i64>,
    /// Die id to match.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub die_id: Option<i64>,
    /// Cluster id to match.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub cluster_id: Option<i64>,
    /// Drawer id (QEMU 8.2; s390x's level, accepted and ignored on x86 by
    /// QEMU 10.0; not read with the 7.2 profile).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub drawer_id: Option<i64>,
    /// Book id (as `drawer_id`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub book_id: Option<i64>,
    /// Module id to match (QEMU 9.1, x86 with `-smp modules=`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub module_id: Option<i64>,
    /// Core id to match.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub core_id: Option<i64>,
    /// Thread id to match.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub thread_id: Option<i64>,
}

macro_rules! qapi_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        pub enum $name {
            $($(#[$vm])* #[cfg_attr(feature = "serde", serde(rename = $text))] $variant,)*
        }

        impl $name {
            /// Every value, in QAPI order (the index is the ACPI value).
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];
            pub(crate) const NAMES: &'static [&'static str] = &[$($text,)*];

            /// QEMU's spelling.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use qapi_enum;

qapi_enum! {
    /// HMAT memory hierarchy (`hierarchy=`).
    HmatLbMemoryHierarchy {
        /// The memory itself.
        Memory = "memory",
        /// First-level memory-side cache.
        FirstLevel = "first-level",
        /// Second-level memory-side cache.
        SecondLevel = "second-level",
        /// Third-level memory-side cache.
        ThirdLevel = "third-level",
    }
}

qapi_enum! {
    /// HMAT data type (`data-type=`).
    HmatLbDataType {
        /// Access latency.
        AccessLatency = "access-latency",
        /// Read latency.
        ReadLatency = "read-latency",
        /// Write latency.
        WriteLatency = "write-latency",
        /// Access bandwidth.
        AccessBandwidth = "access-bandwidth",
        /// Read bandwidth.
        ReadBandwidth = "read-bandwidth",
        /// Write bandwidth.
        WriteBandwidth = "write-bandwidth",
    }
}

impl HmatLbDataType {
    /// Whether this is one of the latency types (else bandwidth).
    pub const fn is_latency(self) -> bool {
        matches!(
            self,
            HmatLbDataType::AccessLatency
                | HmatLbDataType::ReadLatency
                | HmatLbDataType::WriteLatency
        )
    }
}

qapi_enum! {
    /// HMAT cache associativity (`associativity=`).
    HmatCacheAssociativity {
        /// None.
        None = "none",
        /// Direct mapped.
        Direct = "direct",
        /// Complex (hashed).
        Complex = "complex",
    }
}

qapi_enum! {
    /// HMAT cache write policy (`policy=`).
    HmatCacheWritePolicy {
        /// None.
        None = "none",
        /// Write-back.
        WriteBack = "write-back",
        /// Write-through.
        WriteThrough = "write-through",
    }
}

/// `-numa hmat-lb,initiator=I,target=T,hierarchy=H,data-type=D[,latency=L][,bandwidth=B]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(deny_unknown_fields, rename_all = "kebab-case")
)]
pub struct NumaHmatLbOptions {
    /// Initiator node.
    pub initiator: u16,
    /// Target node.
    pub target: u16,
    /// Memory hierarchy level.
    pub hierarchy: HmatLbMemoryHierarchy,
    /// Latency or bandwidth type.
    pub data_type: HmatLbDataType,
    /// Latency in nanoseconds.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub latency: Option<u64>,
    /// Bandwidth in bytes per second.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub bandwidth: Option<u64>,
}

/// `-numa hmat-cache,node-id=N,size=S,level=L,associativity=A,policy=P,line=W`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(deny_unknown_fields, rename_all = "kebab-case")
)]
pub struct NumaHmatCacheOptions {
    /// The node the cache belongs to.
    pub node_id: u32,
    /// Cache size in bytes.
    pub size: u64,
    /// Cache level (1–3).
    pub level: u8,
    /// Associativity.
    pub associativity: HmatCacheAssociativity,
    /// Write policy.
    pub policy: HmatCacheWritePolicy,
    /// Line size in bytes.
    pub line: u16,
}

const TYPES: &[&str] = &["node", "dist", "cpu", "hmat-lb", "hmat-cache"];

const U8: u64 = u8::MAX as u64;
const U16: u64 = u16::MAX as u64;
const U32: u64 = u32::MAX as u64;

/// One member of a plain option, typed as it is read: a second
/// occurrence gives up, as the full path's "last one wins" would decide.
macro_rules! once {
    ($slot:ident, $value:expr) => {{
        if $slot.is_some() {
            return None;
        }
        $slot = Some($value);
    }};
}

/// The index of an enum member's value among `names`, if it is one.
#[inline]
fn plain_enum(value: &str, names: &[&str]) -> Option<usize> {
    names.iter().position(|n| *n == value)
}

impl NumaOptions {
    /// Parse the argument of one `-numa` option with QEMU's rules,
    /// returning the value and the warnings QEMU would print.
    ///
    /// A `mem=` without suffix is in MiB, as on QEMU's command line.
    pub fn parse(text: &str) -> Result<Parsed<NumaOptions>, Error> {
        Self::parse_with(text, crate::Syntax::Qemu72)
    }

    /// [`NumaOptions::parse`] with a release's syntax.
    pub fn parse_with(text: &str, syntax: crate::Syntax) -> Result<Parsed<NumaOptions>, Error> {
        if let Some(value) = Self::parse_plain(text) {
            return Ok(Parsed {
                value,
                warnings: Vec::new(),
            });
        }
        let opts = grammar::parse_opts(text, Some("type"))?;
        let mut parsed = Self::from_opts(text, &opts, syntax)?;
        let mut warnings = opts.warnings;
        warnings.append(&mut parsed.warnings);
        parsed.warnings = warnings;
        Ok(parsed)
    }

    /// Type already tokenized items (the typing warnings only).
    pub(crate) fn from_opts(
        text: &str,
        opts: &grammar::Opts<'_>,
        syntax: crate::Syntax,
    ) -> Result<Parsed<NumaOptions>, Error> {
        let whole = Span::new(0, text.len());
        let mut v = Visitor::new(&opts.items, opts.id.as_ref());
        v.syntax = syntax;
        let ty = v.required("type", whole)?;
        let mut mem_item = None;
        let value = match visit::enum_member(ty, TYPES)? {
            0 => {
                let nodeid = v.scalar("nodeid").map(visit::u16_member).transpose()?;
                let cpus = visit::u16_list(&v.list("cpus"))?;
                mem_item = v.scalar("mem");
                let mem = mem_item.map(|item| v.size(item)).transpose()?;
                let memdev = v.scalar("memdev").map(visit::string_member);
                let initiator = v.scalar("initiator").map(visit::u16_member).transpose()?;
                NumaOptions::Node(NumaNodeOptions {
                    nodeid,
                    cpus,
                    mem,
                    memdev,
                    initiator,
                })
            }
            1 => {
                let src = visit::u16_member(v.required("src", whole)?)?;
                let dst = visit::u16_member(v.required("dst", whole)?)?;
                let val = visit::u8_member(v.required("val", whole)?)?;
                NumaOptions::Dist(NumaDistOptions { src, dst, val })
            }
            2 => {
                let mut get = |key: &str| v.scalar(key).map(visit::i64_member).transpose();
                NumaOptions::Cpu(NumaCpuOptions {
                    node_id: get("node-id")?,
                    socket_id: get("socket-id")?,
                    die_id: get("die-id")?,
                    cluster_id: get("cluster-id")?,
                    drawer_id: get("drawer-id")?,
                    book_id: get("book-id")?,
                    module_id: get("module-id")?,
                    core_id: get("core-id")?,
                    thread_id: get("thread-id")?,
                })
            }
            3 => {
                let initiator = visit::u16_member(v.required("initiator", whole)?)?;
                let target = visit::u16_member(v.required("target", whole)?)?;
                let hierarchy = HmatLbMemoryHierarchy::ALL[visit::enum_member(
                    v.required("hierarchy", whole)?,
                    HmatLbMemoryHierarchy::NAMES,
                )?];
                let data_type = HmatLbDataType::ALL
                    [visit::enum_member(v.required("data-type", whole)?, HmatLbDataType::NAMES)?];
                let latency = v.scalar("latency").map(visit::u64_member).transpose()?;
                let bandwidth = match v.scalar("bandwidth") {
                    Some(item) => Some(v.size(item)?),
                    None => None,
                };
                NumaOptions::HmatLb(NumaHmatLbOptions {
                    initiator,
                    target,
                    hierarchy,
                    data_type,
                    latency,
                    bandwidth,
                })
            }
            _ => {
                let node_id = visit::u32_member(v.required("node-id", whole)?)?;
                let size_item = v.required("size", whole)?;
                let size = v.size(size_item)?;
                let level = visit::u8_member(v.required("level", whole)?)?;
                let associativity = HmatCacheAssociativity::ALL[visit::enum_member(
                    v.required("associativity", whole)?,
                    HmatCacheAssociativity::NAMES,
                )?];
                let policy = HmatCacheWritePolicy::ALL[visit::enum_member(
                    v.required("policy", whole)?,
                    HmatCacheWritePolicy::NAMES,
                )?];
                let line = visit::u16_member(v.required("line", whole)?)?;
                NumaOptions::HmatCache(NumaHmatCacheOptions {
                    node_id,
                    size,
                    level,
                    associativity,
                    policy,
                    line,
                })
            }
        };
        let mut warnings = v.finish()?;
        // Only after the whole visit succeeded does QEMU re-read `mem=`
        // with MiB as the default unit.
        let mut value = value;
        if let (NumaOptions::Node(node), Some(item)) = (&mut value, mem_item) {
            if let Some(bytes) = node.mem {
                node.mem = Some(visit::legacy_mem(item, bytes, &mut warnings, syntax)?);
            }
        }
        Ok(Parsed { value, warnings })
    }

    /// The value of a `-numa` argument written the plain way (see
    /// [`grammar::Plain`]: no escape, flag or `id`), each member once
    /// (`cpus` may repeat) and every value typing without error or
    /// warning: what [`NumaOptions::from_opts`] gives for the same text,
    /// read in one pass without the item vector and the visitor. `None`
    /// for anything else (a `-numa cpu` with the members only QEMU 10.0
    /// reads included), which then takes the full path.
    pub(crate) fn parse_plain(text: &str) -> Option<NumaOptions> {
        if let Some(dist) = Self::parse_plain_dist(text) {
            return Some(NumaOptions::Dist(dist));
        }
        let mut r = grammar::Plain::new(text);
        if r.implied("dist") {
            return Self::plain_dist(r);
        }
        Some(if r.implied("node") {
            let mut node = NumaNodeOptions::default();
            let (mut nodeid, mut mem, mut memdev, mut initiator) = (None, None, None, None);
            while !r.at_end() {
                if r.key(b"nodeid=") {
                    once!(nodeid, r.decimal(U16)? as u16);
                } else if r.key(b"cpus=") {
                    node.cpus.push(visit::u16_range(r.value()?).ok()?);
                } else if r.key(b"memdev=") {
                    once!(memdev, String::from(r.value()?));
                } else if r.key(b"mem=") {
                    once!(mem, r.size()?);
                } else if r.key(b"initiator=") {
                    once!(initiator, r.decimal(U16)? as u16);
                } else {
                    return None;
                }
            }
            node.nodeid = nodeid;
            // QEMU reads `mem=` again with MiB as the default unit; a
            // number without suffix too large for that is not plain.
            node.mem = match mem {
                Some((bytes, Some(_))) => Some(bytes),
                Some((number, None)) => Some(number.checked_mul(1 << 20)?),
                None => None,
            };
            node.memdev = memdev;
            node.initiator = initiator;
            NumaOptions::Node(node)
        } else if r.implied("hmat-lb") {
            let (mut initiator, mut target, mut hierarchy, mut data_type) =
                (None, None, None, None);
            let (mut latency, mut bandwidth) = (None, None);
            while !r.at_end() {
                if r.key(b"initiator=") {
                    once!(initiator, r.decimal(U16)? as u16);
                } else if r.key(b"target=") {
                    once!(target, r.decimal(U16)? as u16);
                } else if r.key(b"hierarchy=") {
                    let i = plain_enum(r.value()?, HmatLbMemoryHierarchy::NAMES)?;
                    once!(hierarchy, HmatLbMemoryHierarchy::ALL[i]);
                } else if r.key(b"data-type=") {
                    let i = plain_enum(r.value()?, HmatLbDataType::NAMES)?;
                    once!(data_type, HmatLbDataType::ALL[i]);
                } else if r.key(b"latency=") {
                    once!(latency, r.decimal(u64::MAX)?);
                } else if r.key(b"bandwidth=") {
                    once!(bandwidth, r.size()?.0);
                } else {
                    return None;
                }
            }
            NumaOptions::HmatLb(NumaHmatLbOptions {
                initiator: initiator?,
                target: target?,
                hierarchy: hierarchy?,
                data_type: data_type?,
                latency,
                bandwidth,
            })
        } else if r.implied("hmat-cache") {
            let (mut node_id, mut size, mut level) = (None, None, None);
            let (mut associativity, mut policy, mut line) = (None, None, None);
            while !r.at_end() {
                if r.key(b"node-id=") {
                    once!(node_id, r.decimal(U32)? as u32);
                } else if r.key(b"size=") {
                    once!(size, r.size()?.0);
                } else if r.key(b"level=") {
                    once!(level, r.decimal(U8)? as u8);
                } else if r.key(b"associativity=") {
                    let i = plain_enum(r.value()?, HmatCacheAssociativity::NAMES)?;
                    once!(associativity, HmatCacheAssociativity::ALL[i]);
                } else if r.key(b"policy=") {
                    let i = plain_enum(r.value()?, HmatCacheWritePolicy::NAMES)?;
                    once!(policy, HmatCacheWritePolicy::ALL[i]);
                } else if r.key(b"line=") {
                    once!(line, r.decimal(U16)? as u16);
                } else {
                    return None;
                }
            }
            NumaOptions::HmatCache(NumaHmatCacheOptions {
                node_id: node_id?,
                size: size?,
                level: level?,
                associativity: associativity?,
                policy: policy?,
                line: line?,
            })
        } else if r.implied("cpu") {
            let mut cpu = NumaCpuOptions::default();
            let (mut node, mut socket, mut die, mut cluster, mut core, mut thread) =
                (None, None, None, None, None, None);
            while !r.at_end() {
                // Members only QEMU 10.0 reads (`module-id`, ...) take
                // the full path.
                let slot = if r.key(b"node-id=") {
                    &mut node
                } else if r.key(b"socket-id=") {
                    &mut socket
                } else if r.key(b"die-id=") {
                    &mut die
                } else if r.key(b"cluster-id=") {
                    &mut cluster
                } else if r.key(b"core-id=") {
                    &mut core
                } else if r.key(b"thread-id=") {
                    &mut thread
                } else {
                    return None;
                };
                let v = value::parse_int64(r.value()?)?;
                if slot.replace(v).is_some() {
                    return None;
                }
            }
            cpu.node_id = node;
            cpu.socket_id = socket;
            cpu.die_id = die;
            cpu.cluster_id = cluster;
            cpu.core_id = core;
            cpu.thread_id = thread;
            NumaOptions::Cpu(cpu)
        } else {
            return None;
        })
    }

    /// [`NumaOptions::parse_plain`] of the distance matrix's options,
    /// most of a large configuration and nearly always written
    /// `dist,src=S,dst=D,val=V` in that order: read straight, the value
    /// small enough to return in registers.
    #[inline]
    pub(crate) fn parse_plain_dist(text: &str) -> Option<NumaDistOptions> {
        let mut q = grammar::Plain::new(text);
        (q.implied("dist") && q.key(b"src=")).then_some(())?;
        let src = q.decimal(U16)? as u16;
        q.key(b"dst=").then_some(())?;
        let dst = q.decimal(U16)? as u16;
        q.key(b"val=").then_some(())?;
        let val = q.decimal(U8)? as u8;
        q.at_end().then_some(NumaDistOptions { src, dst, val })
    }

    /// `-numa dist` members in any order, after the type.
    #[inline(never)]
    fn plain_dist(mut r: grammar::Plain<'_>) -> Option<NumaOptions> {
        let (mut src, mut dst, mut val) = (None, None, None);
        while !r.at_end() {
            if r.key(b"src=") {
                once!(src, r.decimal(U16)? as u16);
            } else if r.key(b"dst=") {
                once!(dst, r.decimal(U16)? as u16);
            } else if r.key(b"val=") {
                once!(val, r.decimal(U8)? as u8);
            } else {
                return None;
            }
        }
        Some(NumaOptions::Dist(NumaDistOptions {
            src: src?,
            dst: dst?,
            val: val?,
        }))
    }

    /// The option type's name (`node`, `dist`, ...).
    pub const fn type_name(&self) -> &'static str {
        match self {
            NumaOptions::Node(_) => "node",
            NumaOptions::Dist(_) => "dist",
            NumaOptions::Cpu(_) => "cpu",
            NumaOptions::HmatLb(_) => "hmat-lb",
            NumaOptions::HmatCache(_) => "hmat-cache",
        }
    }
}

impl FromStr for NumaOptions {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        NumaOptions::parse(s).map(|p| p.value)
    }
}

/// Writes `,key=value` items.
pub(crate) struct ItemWriter<'a, 'b> {
    pub(crate) f: &'a mut fmt::Formatter<'b>,
}

impl ItemWriter<'_, '_> {
    pub(crate) fn item(&mut self, key: &str, value: impl fmt::Display) -> fmt::Result {
        write!(self.f, ",{key}={value}")
    }

    pub(crate) fn opt(&mut self, key: &str, value: Option<impl fmt::Display>) -> fmt::Result {
        match value {
            Some(v) => self.item(key, v),
            None => Ok(()),
        }
    }

    pub(crate) fn string(&mut self, key: &str, value: Option<&str>) -> fmt::Result {
        match value {
            Some(v) => self.item(key, escape(v)),
            None => Ok(()),
        }
    }
}

/// A legacy `mem=` value that reads back to the same byte count through
/// both of QEMU's parses (bytes, then MiB as default unit).
fn legacy_mem_text(bytes: u64) -> String {
    let text = format_size(bytes);
    if text.ends_with(|c: char| c.is_ascii_digit()) {
        alloc::format!("{text}b")
    } else {
        text
    }
}

impl fmt::Display for NumaOptions {
    /// Canonical QEMU syntax; parsing it gives back the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.type_name())?;
        let mut w = ItemWriter { f };
        match self {
            NumaOptions::Node(n) => {
                w.opt("nodeid", n.nodeid)?;
                for r in &n.cpus {
                    w.item("cpus", r)?;
                }
                w.opt("mem", n.mem.map(legacy_mem_text))?;
                w.string("memdev", n.memdev.as_deref())?;
                w.opt("initiator", n.initiator)
            }
            NumaOptions::Dist(d) => {
                w.item("src", d.src)?;
                w.item("dst", d.dst)?;
                w.item("val", d.val)
            }
            NumaOptions::Cpu(c) => {
                w.opt("node-id", c.node_id)?;
                w.opt("drawer-id", c.drawer_id)?;
                w.opt("book-id", c.book_id)?;
                w.opt("socket-id", c.socket_id)?;
                w.opt("die-id", c.die_id)?;
                w.opt("cluster-id", c.cluster_id)?;
                w.opt("module-id", c.module_id)?;
                w.opt("core-id", c.core_id)?;
                w.opt("thread-id", c.thread_id)
            }
            NumaOptions::HmatLb(h) => {
                w.item("initiator", h.initiator)?;
                w.item("target", h.target)?;
                w.item("hierarchy", h.hierarchy)?;
                w.item("data-type", h.data_type)?;
                w.opt("latency", h.latency)?;
                w.opt("bandwidth", h.bandwidth.map(format_size))
            }
            NumaOptions::HmatCache(c) => {
                w.item("node-id", c.node_id)?;
                w.item("size", format_size(c.size))?;
                w.item("level", c.level)?;
                w.item("associativity", c.associativity)?;
                w.item("policy", c.policy)?;
                w.item("line", c.line)
            }
        }
    }
}

impl From<NumaNodeOptions> for NumaOptions {
    fn from(v: NumaNodeOptions) -> Self {
        NumaOptions::Node(v)
    }
}

impl From<NumaDistOptions> for NumaOptions {
    fn from(v: NumaDistOptions) -> Self {
        NumaOptions::Dist(v)
    }
}

impl From<NumaCpuOptions> for NumaOptions {
    fn from(v: NumaCpuOptions) -> Self {
        NumaOptions::Cpu(v)
    }
}

impl From<NumaHmatLbOptions> for NumaOptions {
    fn from(v: NumaHmatLbOptions) -> Self {
        NumaOptions::HmatLb(v)
    }
}

impl From<NumaHmatCacheOptions> for NumaOptions {
    fn from(v: NumaHmatCacheOptions) -> Self {
        NumaOptions::HmatCache(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The full path alone: tokenizer, visitor, every warning.
    fn full(text: &str, syntax: crate::Syntax) -> Result<Parsed<NumaOptions>, Error> {
        let opts = grammar::parse_opts(text, Some("type"))?;
        let mut parsed = NumaOptions::from_opts(text, &opts, syntax)?;
        let mut warnings = opts.warnings;
        warnings.append(&mut parsed.warnings);
        parsed.warnings = warnings;
        Ok(parsed)
    }

    /// The fast path answers only where the full path types the text
    /// without a warning, and then with the same value.
    fn agrees(text: &str) -> Option<NumaOptions> {
        let plain = NumaOptions::parse_plain(text);
        if let Some(value) = &plain {
            // The fast path is shared by both releases' syntax, so it must
            // answer only what both type the same way.
            for syntax in [crate::Syntax::Qemu72, crate::Syntax::Qemu100] {
                let full = full(text, syntax)
                    .unwrap_or_else(|e| panic!("{text:?} ({syntax:?}): fast path took {e}"));
                assert_eq!(&full.value, value, "{text:?} ({syntax:?})");
                assert!(full.warnings.is_empty(), "{text:?}: {:?}", full.warnings);
            }
        }
        plain
    }

    #[test]
    fn plain_options_take_the_fast_path() {
        for text in [
            "dist,src=0,dst=127,val=255",
            "node,nodeid=3,memdev=m3,cpus=6-8,cpus=10",
            "node,mem=1G,cpus=0",
            "node,mem=15E",
            "node,mem=4096",
            "node",
            "hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-latency,latency=10",
            "hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-bandwidth,bandwidth=2G",
            "hmat-cache,node-id=1,size=10K,level=1,associativity=direct,policy=write-back,line=64",
            "cpu,node-id=1,socket-id=0,core-id=-1,thread-id=0x1",
        ] {
            assert!(agrees(text).is_some(), "{text}");
        }
    }

    #[test]
    fn anything_else_takes_the_full_path() {
        for text in [
            "",
            "dist",
            "dist,src=0,dst=1",
            "dist,src=0,dst=1,val=256",
            "dist,src=0,dst=1,val=010",
            "dist,src=0,dst=1,val=0x10",
            "dist,src=0,dst=1,val=+1",
            "dist,src=0,dst=1,val= 1",
            "dist,src=0,dst=1,val=10,",
            "dist,src=0,dst=1,val=10,,",
            "dist,src=0,src=0,dst=1,val=10",
            "dist,src=0,dst=1,val=10,id=d",
            "dist,src=0,dst=1,val=10,nosrc",
            "dist,type=dist,src=0,dst=1,val=10",
            "type=dist,src=0,dst=1,val=10",
            "dist,,src=0",
            "dist,src=99999999999999999999,dst=1,val=10",
            "node,mem=0x1M",
            "node,mem=17592186044416",
            "node,mem=1.5G",
            "node,mem=1x",
            "node,memdev=a,,b",
            "node,cpus=1-0",
            "node,cpus=70000",
            "hmat-lb,initiator=0,target=1,hierarchy=mem,data-type=access-latency",
            "cpu,node-id=0,module-id=1",
            "cpu,node-id=0,node-id=1",
        ] {
            assert!(agrees(text).is_none(), "{text}");
        }
    }

    /// Keys of each type (and a few that no type has), values that type
    /// and values that do not: mostly plain text, some of it not.
    const TYPES_KEYS: &[(&str, &[&str])] = &[
        ("dist", &["src", "dst", "val"]),
        ("node", &["nodeid", "cpus", "mem", "memdev", "initiator"]),
        (
            "cpu",
            &[
                "node-id",
                "socket-id",
                "die-id",
                "cluster-id",
                "core-id",
                "thread-id",
                "module-id",
            ],
        ),
        (
            "hmat-lb",
            &[
                "initiator",
                "target",
                "hierarchy",
                "data-type",
                "latency",
                "bandwidth",
            ],
        ),
        (
            "hmat-cache",
            &[
                "node-id",
                "size",
                "level",
                "associativity",
                "policy",
                "line",
            ],
        ),
        ("nodes", &["id", "type", "", "no"]),
        ("type=dist", &["src", "dst", "val"]),
    ];

    /// A value `key` types without error (chosen by `any`), if any.
    fn good(key: &str, any: &'static str) -> &'static str {
        let pick = |values: &[&'static str]| values[any.len() % values.len()];
        match key {
            "hierarchy" => pick(HmatLbMemoryHierarchy::NAMES),
            "data-type" => pick(HmatLbDataType::NAMES),
            "associativity" => pick(HmatCacheAssociativity::NAMES),
            "policy" => pick(HmatCacheWritePolicy::NAMES),
            "cpus" => pick(&["0", "1-3", "0-65535", "7"]),
            "mem" | "size" | "bandwidth" => pick(&[
                "1G",
                "4096",
                "0",
                "10k",
                "1.5M",
                "16E",
                "17592186044416",
                "2b",
            ]),
            "memdev" => pick(&["m0", "a=b", "", "é"]),
            _ => pick(&["0", "1", "9", "10", "255", "128"]),
        }
    }

    fn text() -> impl Strategy<Value = String> {
        let value = prop::sample::select(vec![
            "0",
            "00",
            "1",
            "01",
            "9",
            "10",
            "255",
            "256",
            "65535",
            "65536",
            "4294967295",
            "4294967296",
            "18446744073709551615",
            "18446744073709551616",
            "9999999999999999999",
            "-1",
            "+1",
            " 1",
            "1 ",
            "0x10",
            "0X1f",
            "1-3",
            "3-1",
            "0-65535",
            "1G",
            "1.5M",
            "0x1M",
            "10K",
            "1e3",
            "",
            "x",
            "memory",
            "first-level",
            "access-latency",
            "access-bandwidth",
            "direct",
            "none",
            "write-back",
            "complex",
            "m0",
            "a=b",
            "é",
        ]);
        let sep = prop::sample::select(vec![",", ",,", "=", ""]);
        // Per item: written at all, how (key=good value, key=any value,
        // flag, id=), separator before it (mostly `,`).
        let item = (0..10u8, 0..32u8, value, 0..40usize, sep);
        (
            0..TYPES_KEYS.len(),
            prop::collection::vec(item, 0..8),
            0..20u8,
            any::<prop::sample::Index>(),
        )
            .prop_map(|(ty, items, trailing, start)| {
                let (ty, keys) = TYPES_KEYS[ty];
                let mut s = String::from(ty);
                // The type's keys in turn from a random one, so that
                // most texts have each member once.
                let first = start.index(keys.len());
                // Mostly no more items than keys.
                let count = if trailing == 1 {
                    items.len()
                } else {
                    items.len().min(keys.len())
                };
                for (i, (written, form, value, sep_pick, sep)) in
                    items.into_iter().take(count).enumerate()
                {
                    if written == 0 {
                        continue;
                    }
                    s.push_str(if sep_pick == 0 { sep } else { "," });
                    let key = match form {
                        0 => "id",
                        1 => keys[(first + i * 7) % keys.len()],
                        _ => keys[(first + i) % keys.len()],
                    };
                    s.push_str(key);
                    if form != 2 {
                        s.push('=');
                        s.push_str(if form < 6 { value } else { good(key, value) });
                    }
                }
                if trailing == 0 {
                    s.push(',');
                }
                s
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn fast_path_agrees_with_the_full_path(texts in prop::collection::vec(text(), 64)) {
            let hits = texts.iter().filter(|t| agrees(t).is_some()).count();
            // The generator reaches the fast path, not only its refusals.
            prop_assert!(hits > 0);
        }
    }
}
