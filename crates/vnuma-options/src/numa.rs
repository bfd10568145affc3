//! `-numa node|dist|cpu|hmat-lb|hmat-cache` (QAPI `NumaOptions`).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

use crate::error::Error;
use crate::grammar::{self, escape};
use crate::span::Span;
use crate::value::format_size;
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
