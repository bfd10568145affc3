//! `-object memory-backend-ram|memory-backend-file|memory-backend-memfd`
//! (QAPI `ObjectOptions`, the memory-backend variants, as of QEMU 7.2).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

use crate::error::{Error, ErrorKind};
use crate::grammar::{self, Opts};
use crate::numa::{qapi_enum, ItemWriter};
use crate::schema::{self, DisplayVisitor, OptsBackendVisitor};
use crate::span::Span;
use crate::visit::Visitor;
use crate::{IdRange, Parsed};

qapi_enum! {
    /// Host memory policy (`policy=`), the `mbind` mode.
    HostMemPolicy {
        /// MPOL_DEFAULT.
        Default = "default",
        /// MPOL_PREFERRED (MPOL_PREFERRED_MANY for several nodes where the
        /// kernel has it).
        Preferred = "preferred",
        /// MPOL_BIND.
        Bind = "bind",
        /// MPOL_INTERLEAVE.
        Interleave = "interleave",
    }
}

qapi_enum! {
    /// QAPI's `OnOffAuto` (`memory-backend-file` `rom=`).
    OnOffAuto {
        /// Decided from other properties.
        Auto = "auto",
        /// On.
        On = "on",
        /// Off.
        Off = "off",
    }
}

/// The memory-backend types vnuma models.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// `memory-backend-ram`: anonymous memory.
    Ram,
    /// `memory-backend-file`: a file or a directory (hugetlbfs) to map.
    File(FileBackendOptions),
    /// `memory-backend-memfd`: an anonymous memory file.
    Memfd(MemfdBackendOptions),
    /// `memory-backend-shm` (QEMU 9.1): POSIX shared memory, unlinked at
    /// once; `share` defaults to on and must stay on.
    Shm,
}

impl BackendKind {
    /// The QOM type name.
    pub const fn qom_type(&self) -> &'static str {
        match self {
            BackendKind::Ram => "memory-backend-ram",
            BackendKind::File(_) => "memory-backend-file",
            BackendKind::Memfd(_) => "memory-backend-memfd",
            BackendKind::Shm => "memory-backend-shm",
        }
    }

    /// The kind a QOM type name stands for, with no type-specific
    /// property set; `None` for other types.
    pub fn from_qom_type(qom_type: &str) -> Option<BackendKind> {
        Self::from_qom_type_in(qom_type, crate::Syntax::Qemu72)
    }

    /// [`BackendKind::from_qom_type`] among the types of a release
    /// (`memory-backend-shm` from QEMU 9.1).
    pub fn from_qom_type_in(qom_type: &str, syntax: crate::Syntax) -> Option<BackendKind> {
        match qom_type {
            "memory-backend-ram" => Some(BackendKind::Ram),
            "memory-backend-file" => Some(BackendKind::File(FileBackendOptions::default())),
            "memory-backend-memfd" => Some(BackendKind::Memfd(MemfdBackendOptions::default())),
            "memory-backend-shm" if syntax >= crate::Syntax::Qemu100 => Some(BackendKind::Shm),
            _ => None,
        }
    }
}

/// Properties of `memory-backend-file` beyond the common ones.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FileBackendOptions {
    /// `mem-path`: a file, or a directory to create a temporary file in.
    pub mem_path: String,
    /// `align` in bytes (0 or unset: the page size).
    pub align: Option<u64>,
    /// `offset` into the file in bytes (QEMU 8.2).
    pub offset: Option<u64>,
    /// `discard-data`: drop the contents when the backend goes away.
    pub discard_data: Option<bool>,
    /// `pmem`: the file is persistent memory.
    pub pmem: Option<bool>,
    /// `readonly`: map read-only.
    pub readonly: Option<bool>,
    /// `rom` (QEMU 8.2): whether the guest sees ROM; `auto` follows
    /// `readonly`.
    pub rom: Option<OnOffAuto>,
}

/// Properties of `memory-backend-memfd` beyond the common ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MemfdBackendOptions {
    /// `hugetlb`: use huge pages.
    pub hugetlb: Option<bool>,
    /// `hugetlbsize`: the huge page size in bytes.
    pub hugetlbsize: Option<u64>,
    /// `seal` (default on): seal against growing and shrinking.
    pub seal: Option<bool>,
}

/// One memory backend object. Properties left `None` take QEMU's default
/// (which for `merge`, `dump` and `prealloc-threads` depends on the
/// machine and `-smp`, and for `share` on the type).
///
/// ```
/// use vnuma_options::{BackendKind, MemoryBackendOptions};
/// let b: MemoryBackendOptions =
///     "memory-backend-ram,id=m0,size=2G,host-nodes=0-1,policy=bind".parse().unwrap();
/// assert_eq!(b.id, "m0");
/// assert_eq!(b.size, 2 << 30);
/// assert_eq!(b.kind, BackendKind::Ram);
/// assert_eq!(b.to_string(), "memory-backend-ram,id=m0,host-nodes=0-1,policy=bind,size=2G");
/// ```
///
/// With the `serde` feature it is (de)serialized as QMP `object-add`'s
/// arguments (`{"qom-type": ..., "id": ..., "size": ...}`), through the
/// same schema and with the same messages as the JSON `-object` syntax.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MemoryBackendOptions {
    /// The object id (an identifier).
    pub id: String,
    /// Type and type-specific properties.
    pub kind: BackendKind,
    /// `size` in bytes.
    pub size: u64,
    /// `dump`: include in core dumps.
    pub dump: Option<bool>,
    /// `host-nodes`: host NUMA nodes, as the ranges written.
    pub host_nodes: Vec<IdRange>,
    /// `merge`: allow KSM merging.
    pub merge: Option<bool>,
    /// `policy`: host memory policy.
    pub policy: Option<HostMemPolicy>,
    /// `prealloc`: populate all pages up front.
    pub prealloc: Option<bool>,
    /// `prealloc-threads`: threads for preallocation.
    pub prealloc_threads: Option<u32>,
    /// `prealloc-context`: id of a `thread-context` object.
    pub prealloc_context: Option<String>,
    /// `share`: shared instead of private mapping.
    pub share: Option<bool>,
    /// `reserve`: reserve swap / huge pages (off = MAP_NORESERVE).
    pub reserve: Option<bool>,
    /// `x-use-canonical-path-for-ramblock-id`.
    pub x_use_canonical_path_for_ramblock_id: Option<bool>,
}

/// QEMU 7.2's other `-object` types: accepted and ignored on a command
/// line, since they do not affect NUMA.
pub const OTHER_OBJECT_TYPES: &[&str] = &[
    "authz-list",
    "authz-listfile",
    "authz-pam",
    "authz-simple",
    "can-bus",
    "can-host-socketcan",
    "colo-compare",
    "cryptodev-backend",
    "cryptodev-backend-builtin",
    "cryptodev-vhost-user",
    "dbus-vmstate",
    "filter-buffer",
    "filter-dump",
    "filter-mirror",
    "filter-redirector",
    "filter-replay",
    "filter-rewriter",
    "input-barrier",
    "input-linux",
    "iothread",
    "main-loop",
    "memory-backend-epc",
    "pef-guest",
    "pr-manager-helper",
    "qtest",
    "rng-builtin",
    "rng-egd",
    "rng-random",
    "s390-pv-guest",
    "secret",
    "secret_keyring",
    "sev-guest",
    "thread-context",
    "throttle-group",
    "tls-cipher-suites",
    "tls-creds-anon",
    "tls-creds-psk",
    "tls-creds-x509",
    "x-remote-object",
    "x-vfio-user-server",
];

/// Object types QEMU 10.0 has beyond 7.2's, kept as written on a 10.0
/// command line: `acpi-generic-initiator` and `acpi-generic-port` (typed
/// by [`ObjectOptions::generic_initiator`] and
/// [`ObjectOptions::generic_port`]) and two that do not affect NUMA.
pub const OTHER_OBJECT_TYPES_10_0: &[&str] = &[
    "acpi-generic-initiator",
    "acpi-generic-port",
    "iommufd",
    "sev-snp-guest",
];

/// Whether `qom_type` is an object type of the release that vnuma accepts
/// without interpreting it.
pub(crate) fn is_other_object_type(qom_type: &str, syntax: crate::Syntax) -> bool {
    OTHER_OBJECT_TYPES.contains(&qom_type)
        || (syntax >= crate::Syntax::Qemu100 && OTHER_OBJECT_TYPES_10_0.contains(&qom_type))
}

/// What one `-object` argument is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ObjectOptions {
    /// A memory backend.
    MemoryBackend(MemoryBackendOptions),
    /// Another QEMU object type (`iothread`, `rng-random`, ...), kept as
    /// written; vnuma does not interpret it.
    Other {
        /// The `qom-type`.
        qom_type: String,
        /// The object's `id`, if any.
        id: Option<String>,
        /// The whole argument as written.
        text: String,
    },
}

impl ObjectOptions {
    /// Parse one `-object` argument in QemuOpts syntax (for the JSON form
    /// see [`ObjectOptions::parse_json`], with the `serde` feature).
    pub fn parse(text: &str) -> Result<Parsed<ObjectOptions>, Error> {
        Self::parse_with(text, crate::Syntax::Qemu72)
    }

    /// [`ObjectOptions::parse`] with a release's syntax and object types.
    pub fn parse_with(text: &str, syntax: crate::Syntax) -> Result<Parsed<ObjectOptions>, Error> {
        if text.starts_with('{') {
            return Self::parse_json_with(text, syntax);
        }
        let opts = grammar::parse_opts(text, Some("qom-type"))?;
        let mut parsed = Self::from_opts(text, &opts, syntax)?;
        let mut warnings = opts.warnings;
        warnings.append(&mut parsed.warnings);
        parsed.warnings = warnings;
        Ok(parsed)
    }

    pub(crate) fn from_opts(
        text: &str,
        opts: &Opts<'_>,
        syntax: crate::Syntax,
    ) -> Result<Parsed<ObjectOptions>, Error> {
        let whole = Span::new(0, text.len());
        let mut v = Visitor::new(&opts.items, opts.id.as_ref());
        v.syntax = syntax;
        let ty = v.required("qom-type", whole)?;
        let kind = match BackendKind::from_qom_type_in(&ty.value, syntax) {
            Some(k) => k,
            None if is_other_object_type(&ty.value, syntax) => {
                return Ok(Parsed {
                    value: ObjectOptions::Other {
                        qom_type: ty.value.clone().into_owned(),
                        id: opts.id.as_ref().map(|i| i.value.clone().into_owned()),
                        text: text.into(),
                    },
                    warnings: Vec::new(),
                })
            }
            None => {
                return Err(Error::new(
                    ErrorKind::InvalidEnumValue {
                        key: "qom-type".into(),
                        value: ty.value.clone().into_owned(),
                    },
                    ty.value_span,
                ))
            }
        };
        let id = v
            .id()
            .ok_or_else(|| Error::new(ErrorKind::MissingParameter { key: "id".into() }, whole))?
            .value
            .clone()
            .into_owned();
        let mut backend = MemoryBackendOptions::new(id, kind, 0);
        let mut v = OptsBackendVisitor { v, whole };
        schema::visit_backend(&mut v, &mut backend, syntax)?;
        let warnings = v.v.finish()?;
        Ok(Parsed {
            value: ObjectOptions::MemoryBackend(backend),
            warnings,
        })
    }

    /// Parse the JSON form of `-object` (`{"qom-type": ..., "id": ..., ...}`,
    /// also QMP `object-add`'s arguments). Needs the `serde` feature;
    /// without it every JSON object is an error saying so.
    pub fn parse_json(text: &str) -> Result<Parsed<ObjectOptions>, Error> {
        Self::parse_json_with(text, crate::Syntax::Qemu72)
    }

    /// [`ObjectOptions::parse_json`] with a release's syntax.
    pub fn parse_json_with(
        text: &str,
        syntax: crate::Syntax,
    ) -> Result<Parsed<ObjectOptions>, Error> {
        #[cfg(not(feature = "serde"))]
        let _ = syntax;
        #[cfg(feature = "serde")]
        {
            crate::serde_impl::object_from_json(text, syntax).map(|value| Parsed {
                value,
                warnings: Vec::new(),
            })
        }
        #[cfg(not(feature = "serde"))]
        {
            Err(Error::new(
                ErrorKind::Json {
                    message: "JSON object syntax needs vnuma-options' serde feature".into(),
                },
                Span::new(0, text.len()),
            ))
        }
    }

    /// A `thread-context` object's properties, typed; `None` for other
    /// objects.
    pub fn thread_context(&self) -> Option<Result<ThreadContextOptions, Error>> {
        match self {
            ObjectOptions::Other { qom_type, text, .. } if qom_type == "thread-context" => {
                Some(ThreadContextOptions::parse(text))
            }
            _ => None,
        }
    }

    /// An `acpi-generic-initiator` object's properties, typed; `None` for
    /// other objects.
    pub fn generic_initiator(&self) -> Option<Result<GenericInitiatorOptions, Error>> {
        match self {
            ObjectOptions::Other { qom_type, text, .. } if qom_type == "acpi-generic-initiator" => {
                Some(GenericInitiatorOptions::parse(text))
            }
            _ => None,
        }
    }

    /// An `acpi-generic-port` object's properties, typed; `None` for
    /// other objects.
    pub fn generic_port(&self) -> Option<Result<GenericPortOptions, Error>> {
        match self {
            ObjectOptions::Other { qom_type, text, .. } if qom_type == "acpi-generic-port" => {
                Some(GenericPortOptions::parse(text))
            }
            _ => None,
        }
    }

    /// The object's id, if it has one.
    pub fn id(&self) -> Option<&str> {
        match self {
            ObjectOptions::MemoryBackend(b) => Some(&b.id),
            ObjectOptions::Other { id, .. } => id.as_deref(),
        }
    }
}

impl MemoryBackendOptions {
    /// A backend of `kind` with only `id` and `size` set.
    pub fn new(id: impl Into<String>, kind: BackendKind, size: u64) -> Self {
        MemoryBackendOptions {
            id: id.into(),
            kind,
            size,
            dump: None,
            host_nodes: Vec::new(),
            merge: None,
            policy: None,
            prealloc: None,
            prealloc_threads: None,
            prealloc_context: None,
            share: None,
            reserve: None,
            x_use_canonical_path_for_ramblock_id: None,
        }
    }

    /// The QOM type name.
    pub const fn qom_type(&self) -> &'static str {
        self.kind.qom_type()
    }

    /// The property checks QEMU's setters make when the object is created
    /// (after the machine options, before `-numa`): `size` and
    /// `prealloc-threads` must not be 0, `hugetlbsize` must not be 0,
    /// every host node must be below 128, `prealloc=on` needs
    /// `reserve=on`. See also [`MemoryBackendOptions::check_policy`];
    /// host-dependent rules are the backend crate's.
    pub fn validate(&self) -> Result<(), Error> {
        let zero = |property: &str| {
            Error::new(
                ErrorKind::PropertyValue {
                    qom_type: self.qom_type().into(),
                    property: property.into(),
                    value: "0".into(),
                },
                Span::default(),
            )
        };
        if self.size == 0 {
            return Err(zero("size"));
        }
        if self.prealloc_threads == Some(0) {
            return Err(zero("prealloc-threads"));
        }
        if let Some(bad) = self.host_nodes.iter().find(|r| r.last() >= 128) {
            let value = if bad.first() >= 128 { bad.first() } else { 128 };
            return Err(Error::new(
                ErrorKind::HostNodesValue {
                    value: value.into(),
                },
                Span::default(),
            ));
        }
        if self.prealloc == Some(true) && self.reserve == Some(false) {
            return Err(Error::new(
                ErrorKind::PreallocWithoutReserve,
                Span::default(),
            ));
        }
        if let BackendKind::Memfd(m) = &self.kind {
            if m.hugetlbsize == Some(0) {
                return Err(Error::new(
                    ErrorKind::ClassPropertyValue {
                        qom_type: self.qom_type().into(),
                        property: "hugetlbsize".into(),
                        value: "0".into(),
                    },
                    Span::default(),
                ));
            }
        }
        Ok(())
    }

    /// The checks QEMU's backend types make when they allocate, before
    /// anything is mapped and without looking at the host:
    /// `memory-backend-shm` refuses `share=off`, `memory-backend-file`
    /// checks `rom` against `readonly` and `share`. They come after
    /// [`MemoryBackendOptions::validate`] and before
    /// [`MemoryBackendOptions::check_policy`].
    pub fn check_alloc(&self) -> Result<(), Error> {
        let kind = match &self.kind {
            BackendKind::Shm if self.share == Some(false) => ErrorKind::ShmNotShared,
            BackendKind::File(f) => {
                let readonly = f.readonly == Some(true);
                match f.rom {
                    Some(OnOffAuto::On) if !readonly => ErrorKind::RomWithoutReadonly,
                    Some(OnOffAuto::Off) if readonly && self.share == Some(true) => {
                        ErrorKind::RomOffReadonlyShared
                    }
                    _ => return Ok(()),
                }
            }
            _ => return Ok(()),
        };
        Err(Error::new(kind, Span::default()))
    }

    /// The rule QEMU applies between `policy` and `host-nodes` when it
    /// completes the backend (after mapping it; nothing here depends on the
    /// host): nodes need a policy other than `default`, and a policy other
    /// than `default` needs nodes.
    pub fn check_policy(&self) -> Result<(), Error> {
        let policy = self.policy.unwrap_or(HostMemPolicy::Default);
        let kind = match (self.host_nodes.is_empty(), policy) {
            (false, HostMemPolicy::Default) => ErrorKind::HostNodesWithDefaultPolicy,
            (true, HostMemPolicy::Default) | (false, _) => return Ok(()),
            (true, policy) => ErrorKind::PolicyWithoutHostNodes { policy },
        };
        Err(Error::new(kind, Span::default()))
    }

    /// The host nodes as a sorted, de-duplicated list.
    pub fn host_node_ids(&self) -> Vec<u16> {
        let mut ids: Vec<u16> = self.host_nodes.iter().flat_map(|r| r.iter()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

impl FromStr for MemoryBackendOptions {
    type Err = Error;

    /// Parse a memory backend; another object type is an error.
    fn from_str(s: &str) -> Result<Self, Error> {
        match ObjectOptions::parse(s)?.value {
            ObjectOptions::MemoryBackend(b) => Ok(b),
            ObjectOptions::Other { qom_type, .. } => Err(Error::new(
                ErrorKind::InvalidObjectType { qom_type },
                Span::new(0, s.len()),
            )),
        }
    }
}

impl FromStr for ObjectOptions {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        ObjectOptions::parse(s).map(|p| p.value)
    }
}

impl fmt::Display for MemoryBackendOptions {
    /// Canonical QEMU syntax, members in QEMU's schema order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},id={}", self.qom_type(), self.id)?;
        let mut v = DisplayVisitor {
            w: ItemWriter { f },
        };
        schema::visit_backend(&mut v, &mut self.clone(), crate::Syntax::Qemu100)
    }
}

impl fmt::Display for ObjectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectOptions::MemoryBackend(b) => b.fmt(f),
            ObjectOptions::Other { text, .. } => f.write_str(text),
        }
    }
}

/// A `thread-context` object (QEMU 7.2): threads created in it (a
/// backend's preallocation threads, `prealloc-context=`) run on these host
/// CPUs, or on the CPUs of these host nodes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub struct ThreadContextOptions {
    /// `id`.
    pub id: String,
    /// `cpu-affinity`: host CPUs.
    #[cfg_attr(feature = "serde", serde(default, with = "crate::serde_impl::id_list"))]
    pub cpu_affinity: Vec<IdRange>,
    /// `node-affinity`: host nodes.
    #[cfg_attr(feature = "serde", serde(default, with = "crate::serde_impl::id_list"))]
    pub node_affinity: Vec<IdRange>,
}

impl ThreadContextOptions {
    /// Type `-object thread-context,...` text.
    pub fn parse(text: &str) -> Result<ThreadContextOptions, Error> {
        let opts = grammar::parse_opts(text, Some("qom-type"))?;
        let whole = Span::new(0, text.len());
        let mut v = Visitor::new(&opts.items, opts.id.as_ref());
        v.required("qom-type", whole)?;
        let id = v
            .id()
            .ok_or_else(|| Error::new(ErrorKind::MissingParameter { key: "id".into() }, whole))?
            .value
            .clone()
            .into_owned();
        let cpu_affinity = crate::visit::u16_list(&v.list("cpu-affinity"))?;
        let node_affinity = crate::visit::u16_list(&v.list("node-affinity"))?;
        v.finish()?;
        Ok(ThreadContextOptions {
            id,
            cpu_affinity,
            node_affinity,
        })
    }

    /// QEMU's check that needs no host: not both kinds of affinity.
    pub fn validate(&self) -> Result<(), Error> {
        if !self.cpu_affinity.is_empty() && !self.node_affinity.is_empty() {
            return Err(Error::new(ErrorKind::MixedAffinity, Span::new(0, 0)));
        }
        Ok(())
    }
}

/// `-object acpi-generic-initiator` (QEMU 9.0): a PCI device that
/// initiates memory accesses in a NUMA node, written to the SRAT as a
/// Generic Initiator Affinity structure.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct GenericInitiatorOptions {
    /// `id`.
    pub id: String,
    /// `pci-dev`: the device's id (or QOM path).
    pub pci_dev: String,
    /// `node`: the proximity domain.
    pub node: u32,
}

impl GenericInitiatorOptions {
    /// Type `-object acpi-generic-initiator,...` text (QemuOpts form; the
    /// JSON form is not read), members in QEMU's schema order (`pci-dev`,
    /// `node`, both mandatory).
    pub fn parse(text: &str) -> Result<GenericInitiatorOptions, Error> {
        let (id, pci_dev, node) =
            parse_device_node_object(text, "acpi-generic-initiator", "pci-dev")?;
        Ok(GenericInitiatorOptions { id, pci_dev, node })
    }
}

/// `-object acpi-generic-port` (QEMU 9.2): a CXL host bridge's port in a
/// NUMA node (an SRAT Generic Port Affinity structure).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct GenericPortOptions {
    /// `id`.
    pub id: String,
    /// `pci-bus`: the CXL host bridge's id.
    pub pci_bus: String,
    /// `node`.
    pub node: u32,
}

impl GenericPortOptions {
    /// Type `-object acpi-generic-port,...` text (QemuOpts form), members
    /// in QEMU's schema order (`pci-bus`, `node`, both mandatory).
    pub fn parse(text: &str) -> Result<GenericPortOptions, Error> {
        let (id, pci_bus, node) = parse_device_node_object(text, "acpi-generic-port", "pci-bus")?;
        Ok(GenericPortOptions { id, pci_bus, node })
    }
}

/// The `id`, the device member and `node` of an object placing a PCI
/// device or bus in a NUMA node (`acpi-generic-initiator`,
/// `acpi-generic-port`), typed from QemuOpts text in QEMU's schema order
/// (both members mandatory); the JSON form is not read.
fn parse_device_node_object(
    text: &str,
    qom_type: &str,
    member: &str,
) -> Result<(String, String, u32), Error> {
    let whole = Span::new(0, text.len());
    if text.starts_with('{') {
        return Err(Error::new(
            ErrorKind::Json {
                message: alloc::format!("vnuma reads {qom_type} only as key=value"),
            },
            whole,
        ));
    }
    let opts = grammar::parse_opts(text, Some("qom-type"))?;
    let mut v = Visitor::new(&opts.items, opts.id.as_ref());
    v.required("qom-type", whole)?;
    let id = v
        .id()
        .ok_or_else(|| Error::new(ErrorKind::MissingParameter { key: "id".into() }, whole))?
        .value
        .clone()
        .into_owned();
    let device = crate::visit::string_member(v.required(member, whole)?);
    let node = crate::visit::u32_member(v.required("node", whole)?)?;
    v.finish()?;
    Ok((id, device, node))
}
