//! Machine models: what a board allows and how it numbers CPUs and lays
//! out RAM. QEMU's x86 `pc` (i440FX) and `q35` machine types, every
//! version QEMU 7.2 and QEMU 10.0 have (each QEMU release its own table:
//! [`versions_in`], [`MachineModel::lookup_in`]), and a generic model for
//! other VMMs.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use vnuma_ranges::Range;

use crate::cpu::{SmpLimits, MAX_POSSIBLE_CPUS};
use crate::error::{Error, ErrorKind};

/// QEMU's `MAX_NODES`: node ids are 0..=127.
pub const MAX_NODES: u16 = 128;

/// QEMU 7.2, the release whose machine types [`MachineModel::lookup`]
/// and [`versions`] give.
pub const QEMU_7_2: Version = Version::new(7, 2);

/// QEMU 10.0.
pub const QEMU_10_0: Version = Version::new(10, 0);

/// The QEMU releases whose machine-type tables vnuma has.
pub const QEMU_RELEASES: &[Version] = &[QEMU_7_2, QEMU_10_0];

/// The machine type QEMU 7.2 uses on x86 without `-machine type=`.
pub const DEFAULT_MACHINE_TYPE: &str = "pc-i440fx-7.2";

/// QEMU 7.2's x86 machine aliases and the types they stand for.
pub const MACHINE_ALIASES: &[(&str, &str)] = &[("pc", "pc-i440fx-7.2"), ("q35", "pc-q35-7.2")];

/// QEMU 10.0's x86 machine aliases and the types they stand for.
pub const MACHINE_ALIASES_10_0: &[(&str, &str)] =
    &[("pc", "pc-i440fx-10.0"), ("q35", "pc-q35-10.0")];

/// The aliases of a QEMU release (its newest `pc`/`q35` types).
pub fn machine_aliases(qemu: Version) -> &'static [(&'static str, &'static str)] {
    if qemu >= QEMU_10_0 {
        MACHINE_ALIASES_10_0
    } else {
        MACHINE_ALIASES
    }
}

/// The machine type name a `-machine type=` value stands for in QEMU 7.2
/// (aliases resolved, the default when absent).
pub fn canonical_machine_type(written: Option<&str>) -> &str {
    canonical_machine_type_in(QEMU_7_2, written)
}

/// The machine type name a `-machine type=` value stands for in a QEMU
/// release (aliases resolved, the default `pc` when absent).
pub fn canonical_machine_type_in(qemu: Version, written: Option<&str>) -> &str {
    let aliases = machine_aliases(qemu);
    match written {
        None => aliases[0].1,
        Some(t) => aliases
            .iter()
            .find(|(alias, _)| *alias == t)
            .map_or(t, |(_, full)| full),
    }
}

/// `-machine` properties of QEMU 7.2's x86 machines beyond the common
/// schema: they do not affect NUMA or memory, so they are accepted and
/// kept as written, not interpreted.
pub const X86_MACHINE_PROPERTIES: &[&str] = &[
    "accel",
    "acpi",
    "append",
    "boot",
    "bus-lock-ratelimit",
    "confidential-guest-support",
    "cxl",
    "cxl-fmw",
    "default-bus-bypass-iommu",
    "dt-compatible",
    "dtb",
    "dumpdtb",
    "firmware",
    "graphics",
    "hpet",
    "i8042",
    "igd-passthru",
    "initrd",
    "kernel",
    "kernel-irqchip",
    "kvm-shadow-mem",
    "max-fw-size",
    "memory-encryption",
    "nvdimm",
    "nvdimm-persistence",
    "pflash0",
    "pflash1",
    "phandle-start",
    "pic",
    "pit",
    "sata",
    "sgx-epc",
    "smbus",
    "smm",
    "suppress-vmdesc",
    "usb",
    "vmport",
    "x-oem-id",
    "x-oem-table-id",
];

/// The guest architecture a QEMU command line is for: which
/// `qemu-system-*` binary's boards and rules apply.
///
/// ```
/// use vnuma_topology::Target;
/// assert_eq!("aarch64".parse::<Target>(), Ok(Target::Aarch64));
/// assert_eq!(Target::default().to_string(), "x86_64");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Target {
    /// `qemu-system-x86_64`: `pc` and `q35`.
    #[default]
    X86_64,
    /// `qemu-system-aarch64`: the `virt` board.
    Aarch64,
}

impl Target {
    /// The name QEMU's binary carries (`x86_64`, `aarch64`).
    pub fn as_str(self) -> &'static str {
        match self {
            Target::X86_64 => "x86_64",
            Target::Aarch64 => "aarch64",
        }
    }
}

impl core::fmt::Display for Target {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A target name vnuma does not model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unsupported architecture (supported: x86_64, aarch64)")]
pub struct UnknownTarget;

/// `x86_64` (also `x86-64`, `x86`), `aarch64` (also `arm64`).
impl core::str::FromStr for Target {
    type Err = UnknownTarget;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "x86_64" | "x86-64" | "x86" => Ok(Target::X86_64),
            "aarch64" | "arm64" => Ok(Target::Aarch64),
            _ => Err(UnknownTarget),
        }
    }
}

/// The x86 chipsets QEMU models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Chipset {
    /// `pc-i440fx-*` (`pc`).
    I440fx,
    /// `pc-q35-*` (`q35`).
    Q35,
}

/// A QEMU machine-type version (`7.2`, `4.0.1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Version {
    /// Major.
    pub major: u8,
    /// Minor.
    pub minor: u8,
    /// Micro (`pc-q35-4.0.1`).
    pub micro: u8,
}

impl Version {
    /// `major.minor`.
    pub const fn new(major: u8, minor: u8) -> Self {
        Version {
            major,
            minor,
            micro: 0,
        }
    }

    fn parse(s: &str) -> Option<Version> {
        let mut parts = s.split('.');
        let mut num = || -> Option<u8> {
            let p = parts.next()?;
            if p.is_empty()
                || p.len() > 2
                || (p.len() > 1 && p.starts_with('0'))
                || !p.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            p.parse().ok()
        };
        let major = num()?;
        let minor = num()?;
        let micro = match parts.next() {
            None => 0,
            Some("1") => 1,
            Some(_) => return None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Version {
            major,
            minor,
            micro,
        })
    }
}

impl core::fmt::Display for Version {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.micro == 0 {
            write!(f, "{}.{}", self.major, self.minor)
        } else {
            write!(f, "{}.{}.{}", self.major, self.minor, self.micro)
        }
    }
}

/// The machine-type versions QEMU 7.2 has for each chipset.
pub fn versions(chipset: Chipset) -> Vec<Version> {
    versions_in(QEMU_7_2, chipset)
}

/// The machine-type versions a QEMU release has for each chipset: 7.2
/// has `pc-i440fx-1.4` … `7.2` and `pc-q35-2.4` … `7.2`; 10.0 removed
/// everything before 2.4 and goes up to `10.0` (`machine help`).
pub fn versions_in(qemu: Version, chipset: Chipset) -> Vec<Version> {
    let mut v = versions_72(chipset);
    if qemu >= QEMU_10_0 {
        v.retain(|&m| m >= Version::new(2, 4));
        v.extend([
            Version::new(8, 0),
            Version::new(8, 1),
            Version::new(8, 2),
            Version::new(9, 0),
            Version::new(9, 1),
            Version::new(9, 2),
            Version::new(10, 0),
        ]);
    }
    v
}

fn versions_72(chipset: Chipset) -> Vec<Version> {
    let mut v = Vec::new();
    let (first_2x, extra) = match chipset {
        Chipset::I440fx => {
            for minor in 4..=7 {
                v.push(Version::new(1, minor));
            }
            (0, false)
        }
        Chipset::Q35 => (4, true),
    };
    for minor in first_2x..=12 {
        v.push(Version::new(2, minor));
    }
    v.extend([Version::new(3, 0), Version::new(3, 1), Version::new(4, 0)]);
    if extra {
        v.push(Version {
            major: 4,
            minor: 0,
            micro: 1,
        });
    }
    v.extend([
        Version::new(4, 1),
        Version::new(4, 2),
        Version::new(5, 0),
        Version::new(5, 1),
        Version::new(5, 2),
        Version::new(6, 0),
        Version::new(6, 1),
        Version::new(6, 2),
        Version::new(7, 0),
        Version::new(7, 1),
        Version::new(7, 2),
    ]);
    v
}

/// How a board numbers its CPU slots' architecture ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum CpuIdScheme {
    /// x86 APIC ids with QEMU's bit-width encoding (holes where a level's
    /// count is not a power of two).
    X86Apic,
    /// The arch id is the CPU index.
    Linear,
    /// arm64 MPIDR affinity as QEMU's `virt` packs it: Aff0 counts CPUs
    /// within a cluster of `cluster_size` (16 with GICv3, 8 with GICv2 and
    /// on `virt-2.6`), Aff1 upwards the cluster number; socket, cluster,
    /// core and thread ids from the CPU index
    /// ([`crate::virt::slots`]).
    ArmMpidr {
        /// CPUs per Aff0 cluster.
        cluster_size: u32,
    },
}

/// Where a CPU goes when no `-numa` option places any CPU.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum DefaultCpuNode {
    /// Socket id modulo the number of nodes (QEMU's x86 rule).
    SocketModNodes,
    /// CPU index modulo the number of nodes.
    IndexModNodes,
    /// Node of CPU index `i` is `table[i % table.len()] % nodes`.
    Table(Vec<u16>),
}

/// How RAM offsets map to guest-physical addresses.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum RamLayout {
    /// x86 PC: RAM below the PCI hole up to `below_4g`, the rest from
    /// 4 GiB.
    X86 {
        /// The chipset (decides the split point).
        chipset: Chipset,
        /// Machine types from 2.0 split large RAM at 3 GiB (i440FX)
        /// instead of 3.5 GiB.
        gigabyte_align: bool,
        /// A device-memory (hotplug) window exists (i440FX from 2.1).
        has_reserved_memory: bool,
        /// The window has 1 GiB of room per slot (i440FX from 2.2).
        enforce_aligned_dimm: bool,
    },
    /// RAM from `base`, no holes.
    Flat {
        /// Guest-physical address of RAM offset 0.
        base: u64,
    },
    /// RAM from `base` up, around MMIO gaps (as OpenVMM's
    /// `MemoryLayout::new_with_numa` places it): RAM offsets fill the
    /// address space in order, skipping each gap. Build it with
    /// [`RamLayout::around_gaps`].
    Gaps {
        /// Guest-physical address of RAM offset 0.
        base: u64,
        /// MMIO gaps, in address order, disjoint.
        gaps: Vec<Range>,
    },
    /// RAM in these guest-physical ranges only, filled in order; guest RAM
    /// that does not fit is an error. Build it with [`RamLayout::explicit`].
    Explicit {
        /// RAM ranges, in address order, disjoint.
        ram: Vec<Range>,
    },
}

impl RamLayout {
    /// RAM from `base` up, skipping `gaps` (sorted into address order).
    pub fn around_gaps(base: u64, gaps: &[Range]) -> RamLayout {
        let mut gaps = gaps.to_vec();
        gaps.sort_by_key(Range::start);
        RamLayout::Gaps { base, gaps }
    }

    /// RAM in exactly these ranges (sorted into address order).
    pub fn explicit(ram: &[Range]) -> RamLayout {
        let mut ram = ram.to_vec();
        ram.sort_by_key(Range::start);
        RamLayout::Explicit { ram }
    }
}

/// A machine model: the facts about a board that NUMA resolution and the
/// memory layout depend on. Build one with [`MachineModel::lookup`] for
/// QEMU's machine types or [`MachineModel::generic`] for your own board and
/// adjust its public fields.
///
/// ```
/// use vnuma_topology::machine::{MachineModel, DefaultCpuNode};
/// let q35 = MachineModel::lookup(Some("q35")).unwrap();
/// assert_eq!(q35.name, "pc-q35-7.2");
/// assert!(!q35.numa_mem_supported);
///
/// let mut board = MachineModel::generic("my-board", 64);
/// board.default_cpu_node = DefaultCpuNode::IndexModNodes;
/// assert_eq!(board.max_cpus, 64);
///
/// // The fields are the contract: struct update syntax works too.
/// let board = MachineModel {
///     default_cpu_node: DefaultCpuNode::IndexModNodes,
///     max_nodes: 8,
///     ..MachineModel::generic("my-board", 64)
/// };
/// assert_eq!(board.max_nodes, 8);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MachineModel {
    /// Canonical name (`pc-i440fx-7.2`), used in messages.
    pub name: String,
    /// The chipset and version, for QEMU's x86 machines.
    pub x86: Option<(Chipset, Version)>,
    /// Most possible CPUs (`cpu-max`).
    pub max_cpus: u32,
    /// Fewest CPUs.
    pub min_cpus: u32,
    /// CPUs without `-smp`.
    pub default_cpus: u32,
    /// RAM without `-m`.
    pub default_ram_size: u64,
    /// RAM sizes are rounded up to a multiple of this.
    pub ram_align: u64,
    /// Id of the RAM backend the machine creates itself (`pc.ram`), if any.
    pub default_ram_id: Option<String>,
    /// Unspecified `-smp` members prefer sockets (machine types before 6.2).
    pub smp_prefer_sockets: bool,
    /// `-smp dies=` above 1 is allowed.
    pub dies_supported: bool,
    /// `-smp clusters=` above 1 is allowed.
    pub clusters_supported: bool,
    /// `-numa` is allowed at all.
    pub numa_supported: bool,
    /// `-numa node,mem=` is allowed (machine types up to 5.0).
    pub numa_mem_supported: bool,
    /// NUMA switches itself on (one node) with `-m slots=` (x86 from 2.11).
    pub auto_enable_numa_with_memhp: bool,
    /// NUMA switches itself on with `maxmem` above the RAM size (from 5.1).
    pub auto_enable_numa_with_memdev: bool,
    /// Most NUMA nodes (QEMU: 128).
    pub max_nodes: u32,
    /// How CPU slots are numbered.
    pub cpu_ids: CpuIdScheme,
    /// Default CPU → node rule.
    pub default_cpu_node: DefaultCpuNode,
    /// RAM offset → guest-physical mapping.
    pub ram_layout: RamLayout,
    /// Physical address bits of the guest CPU (QEMU's default x86 model,
    /// `qemu64`: 40); `None`: no limit checked.
    pub phys_bits: Option<u8>,
    /// RAM above 4 GiB moves to 1 TiB when the address space would reach
    /// AMD's HyperTransport range (QEMU x86 machine types from 7.1 with an
    /// AMD-vendor CPU model, the default `qemu64`).
    pub amd_1tb_hole: bool,
    /// Size of the 64-bit PCI hole after RAM and the device-memory window
    /// (QEMU: 2 GiB on i440FX, 32 GiB on q35).
    pub pci_hole64_size: u64,
    /// The 64-bit PCI hole starts at the device-memory window's start, not
    /// its end (QEMU x86 machine types up to 2.4).
    pub broken_reserved_end: bool,
    /// CXL (`-machine cxl=on`, x86): the sizes of the fixed memory windows
    /// (`cxl-fmw`), placed with 1 MiB of host-bridge registers after the
    /// device-memory window and before the 64-bit PCI hole. `None`: CXL
    /// off, nothing reserved.
    #[cfg_attr(feature = "serde", serde(default))]
    pub cxl_windows: Option<Vec<u64>>,
    /// ACPI describes CPU hotplug the legacy way, which covers APIC ids
    /// 0..=255 only (QEMU's x86 machine types up to 2.6).
    pub legacy_cpu_hotplug: bool,
    /// `-machine` properties the board has beyond the common schema
    /// (accepted and kept, not interpreted); others are QEMU's
    /// `Property '…-machine.KEY' not found`. (QEMU's boards name theirs
    /// from static tables: borrowed, so building or copying a model does
    /// not allocate each name.)
    pub properties: Vec<Cow<'static, str>>,
    /// The QEMU release whose machine type this is (`None`: not QEMU's).
    /// It decides the rules that are QEMU's rather than the board's: the
    /// deprecation of old machine types and `-smp`'s checks and messages
    /// (see [`MachineModel::smp_limits`]).
    #[cfg_attr(feature = "serde", serde(default))]
    pub qemu: Option<Version>,
    /// The aarch64 `virt` board's own facts (GIC, highmem, CPU model,
    /// firmware), for QEMU's `virt-*` machine types; `None` elsewhere.
    #[cfg_attr(feature = "serde", serde(default))]
    pub virt: Option<crate::virt::VirtBoard>,
}

const MIB: u64 = 1 << 20;

impl MachineModel {
    /// One of QEMU 7.2's x86 machine types.
    pub fn x86(chipset: Chipset, version: Version) -> MachineModel {
        MachineModel::x86_in(QEMU_7_2, chipset, version)
    }

    /// One of a QEMU release's x86 machine types (the release is not
    /// checked to have it; [`MachineModel::lookup_in`] does).
    pub fn x86_in(qemu: Version, chipset: Chipset, version: Version) -> MachineModel {
        let name = match chipset {
            Chipset::I440fx => format!("pc-i440fx-{version}"),
            Chipset::Q35 => format!("pc-q35-{version}"),
        };
        let at_least = |major, minor| version >= Version::new(major, minor);
        MachineModel {
            name,
            x86: Some((chipset, version)),
            max_cpus: match chipset {
                Chipset::I440fx => 255,
                // QEMU 8.1 raised q35's limit to 1024, 9.0 to 4096.
                Chipset::Q35 if qemu >= Version::new(9, 0) && at_least(9, 0) => 4096,
                Chipset::Q35 if qemu >= Version::new(8, 1) && at_least(8, 1) => 1024,
                Chipset::Q35 if at_least(2, 8) => 288,
                Chipset::Q35 => 255,
            },
            min_cpus: 1,
            default_cpus: 1,
            default_ram_size: 128 * MIB,
            ram_align: 8192,
            default_ram_id: Some("pc.ram".into()),
            smp_prefer_sockets: !at_least(6, 2),
            dies_supported: true,
            clusters_supported: false,
            numa_supported: true,
            numa_mem_supported: !at_least(5, 1),
            auto_enable_numa_with_memhp: at_least(2, 11),
            auto_enable_numa_with_memdev: at_least(5, 1),
            max_nodes: MAX_NODES as u32,
            cpu_ids: CpuIdScheme::X86Apic,
            default_cpu_node: DefaultCpuNode::SocketModNodes,
            ram_layout: RamLayout::X86 {
                chipset,
                gigabyte_align: at_least(2, 0),
                has_reserved_memory: chipset == Chipset::Q35 || at_least(2, 1),
                enforce_aligned_dimm: chipset == Chipset::Q35 || at_least(2, 2),
            },
            phys_bits: Some(40),
            amd_1tb_hole: at_least(7, 1),
            pci_hole64_size: match chipset {
                Chipset::I440fx => 2 << 30,
                Chipset::Q35 => 32 << 30,
            },
            broken_reserved_end: !at_least(2, 5),
            cxl_windows: None,
            legacy_cpu_hotplug: !at_least(2, 7),
            properties: {
                let mut p: Vec<Cow<'static, str>> =
                    X86_MACHINE_PROPERTIES.iter().map(|&p| p.into()).collect();
                // x86 has modules from QEMU 9.1 on.
                if qemu >= Version::new(9, 1) {
                    p.push("smp.modules".into());
                }
                // s390's books and drawers are in every machine's `-smp`
                // schema from QEMU 8.2 on; x86 takes only 1.
                if qemu >= Version::new(8, 2) {
                    p.push("smp.books".into());
                    p.push("smp.drawers".into());
                }
                p
            },
            qemu: Some(qemu),
            virt: None,
        }
    }

    /// The QEMU 7.2 model for a `-machine type=` value: `pc`, `q35`,
    /// `pc-i440fx-X.Y`, `pc-q35-X.Y`; `None` is QEMU's default (`pc`).
    pub fn lookup(name: Option<&str>) -> Result<MachineModel, Error> {
        MachineModel::lookup_in(QEMU_7_2, name)
    }

    /// [`MachineModel::lookup`] in a QEMU release's table ([`versions_in`],
    /// [`machine_aliases`]).
    ///
    /// ```
    /// use vnuma_topology::machine::{MachineModel, QEMU_10_0};
    /// let q35 = MachineModel::lookup_in(QEMU_10_0, Some("q35")).unwrap();
    /// assert_eq!(q35.name, "pc-q35-10.0");
    /// assert!(MachineModel::lookup_in(QEMU_10_0, Some("pc-i440fx-2.3")).is_err());
    /// ```
    pub fn lookup_in(qemu: Version, name: Option<&str>) -> Result<MachineModel, Error> {
        let canonical = canonical_machine_type_in(qemu, name);
        let parsed = if let Some(v) = canonical.strip_prefix("pc-i440fx-") {
            Version::parse(v).map(|v| (Chipset::I440fx, v))
        } else if let Some(v) = canonical.strip_prefix("pc-q35-") {
            Version::parse(v).map(|v| (Chipset::Q35, v))
        } else {
            None
        };
        match parsed {
            Some((chipset, version)) if versions_in(qemu, chipset).contains(&version) => {
                Ok(MachineModel::x86_in(qemu, chipset, version))
            }
            _ if qemu >= Version::new(9, 1) => {
                Err(Error::new(ErrorKind::UnsupportedMachineTypeNamed {
                    name: name.unwrap_or_default().to_string(),
                }))
            }
            _ => Err(Error::new(ErrorKind::UnsupportedMachineType {
                name: name.unwrap_or_default().to_string(),
            })),
        }
    }

    /// Every machine type name [`MachineModel::lookup`] accepts.
    pub fn supported_names() -> Vec<String> {
        MachineModel::supported_names_in(QEMU_7_2)
    }

    /// Every machine type name [`MachineModel::lookup_in`] accepts for a
    /// QEMU release.
    pub fn supported_names_in(qemu: Version) -> Vec<String> {
        let mut names: Vec<String> = machine_aliases(qemu)
            .iter()
            .map(|(alias, _)| String::from(*alias))
            .collect();
        for chipset in [Chipset::I440fx, Chipset::Q35] {
            for v in versions_in(qemu, chipset) {
                names.push(MachineModel::x86_in(qemu, chipset, v).name);
            }
        }
        names
    }

    /// A board that is not QEMU's: RAM from address 0 without holes, CPUs
    /// numbered linearly, the default CPU → node rule by socket, 128 nodes,
    /// no legacy `mem=`, no automatic NUMA.
    pub fn generic(name: &str, max_cpus: u32) -> MachineModel {
        MachineModel {
            name: name.into(),
            x86: None,
            max_cpus,
            min_cpus: 1,
            default_cpus: 1,
            default_ram_size: 128 * MIB,
            ram_align: 4096,
            default_ram_id: None,
            smp_prefer_sockets: false,
            dies_supported: true,
            clusters_supported: true,
            numa_supported: true,
            numa_mem_supported: false,
            auto_enable_numa_with_memhp: false,
            auto_enable_numa_with_memdev: false,
            max_nodes: MAX_NODES as u32,
            cpu_ids: CpuIdScheme::Linear,
            default_cpu_node: DefaultCpuNode::SocketModNodes,
            ram_layout: RamLayout::Flat { base: 0 },
            phys_bits: None,
            amd_1tb_hole: false,
            pci_hole64_size: 0,
            broken_reserved_end: false,
            cxl_windows: None,
            legacy_cpu_hotplug: false,
            properties: Vec::new(),
            qemu: None,
            virt: None,
        }
    }

    /// The model with another RAM layout.
    pub fn with_ram_layout(mut self, layout: RamLayout) -> Self {
        self.ram_layout = layout;
        self
    }

    /// The model allowing at most `max_nodes` nodes.
    pub fn with_max_nodes(mut self, max_nodes: u32) -> Self {
        self.max_nodes = max_nodes;
        self
    }

    /// Check that the model is usable: CPU limits ordered and at least 1,
    /// at most [`MAX_POSSIBLE_CPUS`] CPUs, at least one node, `ram_align`
    /// a power of two, a non-empty default CPU table, RAM ranges and gaps
    /// sorted and disjoint. Errors name the field (`board.ram_align`).
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |field: &'static str, reason: &'static str| {
            Err(Error::in_field(
                ErrorKind::InvalidBoard { field, reason },
                alloc::format!("board.{field}"),
            ))
        };
        if self.max_cpus == 0 || self.max_cpus > MAX_POSSIBLE_CPUS {
            return bad("max_cpus", "must be between 1 and 65536");
        }
        if self.min_cpus == 0 || self.min_cpus > self.max_cpus {
            return bad("min_cpus", "must be between 1 and max_cpus");
        }
        if self.default_cpus > self.max_cpus {
            return bad("default_cpus", "must be at most max_cpus");
        }
        if self.max_nodes == 0 {
            return bad("max_nodes", "must be at least 1");
        }
        if !self.ram_align.is_power_of_two() {
            return bad("ram_align", "must be a power of two");
        }
        if matches!(&self.default_cpu_node, DefaultCpuNode::Table(t) if t.is_empty()) {
            return bad("default_cpu_node", "the table must not be empty");
        }
        let sorted = |ranges: &[Range]| ranges.windows(2).all(|w| w[0].last() < w[1].start());
        match &self.ram_layout {
            RamLayout::Gaps { gaps, .. } if !sorted(gaps) => {
                bad("ram_layout", "gaps must be sorted and disjoint")
            }
            RamLayout::Explicit { ram } if !sorted(ram) => {
                bad("ram_layout", "RAM ranges must be sorted and disjoint")
            }
            RamLayout::Explicit { ram } if ram.is_empty() => {
                bad("ram_layout", "at least one RAM range is needed")
            }
            _ => Ok(()),
        }
    }

    /// The `-smp` limits of this machine.
    pub fn smp_limits(&self) -> SmpLimits {
        SmpLimits {
            machine_name: self.name.clone(),
            max_cpus: self.max_cpus,
            min_cpus: self.min_cpus,
            prefer_sockets: self.smp_prefer_sockets,
            dies_supported: self.dies_supported,
            clusters_supported: self.clusters_supported,
            default_cpus: self.default_cpus,
            modules_supported: self.properties.iter().any(|p| p == "smp.modules"),
            // QEMU 9.0 made a zero member an error (was a deprecation
            // warning) and reworded the `> 1` checks.
            zero_is_error: self.qemu.is_some_and(|q| q >= Version::new(9, 0)),
        }
    }

    /// Whether the machine type's QEMU marks it deprecated: in 7.2,
    /// `pc-i440fx-1.x`; from 9.1 on, every versioned machine type more
    /// than three years older than the release (10.0: 7.0 and older).
    pub fn deprecated(&self) -> bool {
        let Some((chipset, v)) = self.x86 else {
            return false;
        };
        match self.qemu {
            Some(q) if q >= Version::new(9, 1) => {
                let age = i32::from(q.major) - i32::from(v.major);
                age > 3 || (age == 3 && q.minor >= v.minor)
            }
            _ => chipset == Chipset::I440fx && v.major == 1,
        }
    }

    /// The reason QEMU gives in its deprecation warning.
    pub fn deprecation_reason(&self) -> &'static str {
        if self.qemu.is_some_and(|q| q >= Version::new(9, 1)) {
            "machines more than 3 years old are subject to deletion after 6 years"
        } else {
            "old and unattended - use a newer version instead"
        }
    }

    /// Whether the machine is an x86 machine type from `major.minor` on.
    pub fn x86_at_least(&self, major: u8, minor: u8) -> bool {
        self.x86
            .is_some_and(|(_, v)| v >= Version::new(major, minor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_names() {
        assert_eq!(MachineModel::lookup(None).unwrap().name, "pc-i440fx-7.2");
        assert_eq!(
            MachineModel::lookup(Some("pc")).unwrap().name,
            "pc-i440fx-7.2"
        );
        assert_eq!(
            MachineModel::lookup(Some("q35")).unwrap().name,
            "pc-q35-7.2"
        );
        assert_eq!(
            MachineModel::lookup(Some("pc-q35-4.0.1")).unwrap().name,
            "pc-q35-4.0.1"
        );
        assert_eq!(
            MachineModel::lookup(Some("pc-i440fx-1.4")).unwrap().name,
            "pc-i440fx-1.4"
        );
        for bad in [
            "pc-q35-2.3",
            "pc-i440fx-1.3",
            "pc-i440fx-7.3",
            "pc-i440fx-4.0.1",
            "foo",
            "",
            "isapc",
            "pc-q35-07.2",
        ] {
            let e = MachineModel::lookup(Some(bad)).unwrap_err();
            assert_eq!(e.to_string(), "unsupported machine type", "{bad}");
            assert_eq!(
                e.hint(),
                Some("Use -machine help to list supported machines")
            );
        }
        // QEMU 7.2 lists 31 i440fx and 24 q35 versions, plus two aliases.
        assert_eq!(MachineModel::supported_names().len(), 2 + 31 + 24);
    }

    /// QEMU 10.0's table (`qemu-system-x86_64 -machine help` of 10.0.2).
    #[test]
    fn qemu_10_0_table() {
        let m = |n| MachineModel::lookup_in(QEMU_10_0, Some(n));
        assert_eq!(m("pc").unwrap().name, "pc-i440fx-10.0");
        assert_eq!(m("q35").unwrap().name, "pc-q35-10.0");
        assert_eq!(
            MachineModel::lookup_in(QEMU_10_0, None).unwrap().name,
            "pc-i440fx-10.0"
        );
        for gone in [
            "pc-i440fx-1.4",
            "pc-i440fx-2.3",
            "pc-q35-2.3",
            "pc-i440fx-10.1",
        ] {
            assert!(m(gone).is_err(), "{gone}");
        }
        for there in [
            "pc-i440fx-2.4",
            "pc-q35-4.0.1",
            "pc-q35-8.1",
            "pc-i440fx-9.2",
        ] {
            assert!(m(there).is_ok(), "{there}");
        }
        // 2.4–2.12, 3.0, 3.1, 4.0, 4.1, 4.2, 5.0–5.2, 6.0–6.2, 7.0–7.2,
        // 8.0–8.2, 9.0–9.2, 10.0: 30 i440fx, 31 q35 (4.0.1), 2 aliases.
        assert_eq!(
            MachineModel::supported_names_in(QEMU_10_0).len(),
            2 + 30 + 31
        );
        // Deprecated: 7.0 and older.
        assert!(m("pc-i440fx-7.0").unwrap().deprecated());
        assert!(m("pc-q35-2.4").unwrap().deprecated());
        assert!(!m("pc-i440fx-7.1").unwrap().deprecated());
        assert!(!m("q35").unwrap().deprecated());
        assert_eq!(
            m("pc-i440fx-5.0").unwrap().deprecation_reason(),
            "machines more than 3 years old are subject to deletion after 6 years"
        );
        // In 7.2 only pc-i440fx-1.x is.
        assert!(!MachineModel::lookup(Some("pc-i440fx-5.0"))
            .unwrap()
            .deprecated());
        // q35's CPU limit by machine type.
        assert_eq!(m("pc-q35-8.0").unwrap().max_cpus, 288);
        assert_eq!(m("pc-q35-8.1").unwrap().max_cpus, 1024);
        assert_eq!(m("pc-q35-9.0").unwrap().max_cpus, 4096);
        assert_eq!(m("q35").unwrap().max_cpus, 4096);
        assert_eq!(m("pc").unwrap().max_cpus, 255);
        let limits = m("pc").unwrap().smp_limits();
        assert!(limits.modules_supported && limits.zero_is_error);
        let limits = MachineModel::lookup(Some("pc")).unwrap().smp_limits();
        assert!(!limits.modules_supported && !limits.zero_is_error);
    }

    #[test]
    fn compat_flags() {
        let m = |n| MachineModel::lookup(Some(n)).unwrap();
        assert!(m("pc-i440fx-5.0").numa_mem_supported);
        assert!(!m("pc-i440fx-5.1").numa_mem_supported);
        assert!(m("pc-q35-6.1").smp_prefer_sockets);
        assert!(!m("pc-q35-6.2").smp_prefer_sockets);
        assert!(!m("pc-i440fx-2.10").auto_enable_numa_with_memhp);
        assert!(m("pc-i440fx-2.11").auto_enable_numa_with_memhp);
        assert!(!m("pc-q35-5.0").auto_enable_numa_with_memdev);
        assert!(m("pc-q35-5.1").auto_enable_numa_with_memdev);
        assert_eq!(m("pc").max_cpus, 255);
        assert_eq!(m("q35").max_cpus, 288);
    }
}
