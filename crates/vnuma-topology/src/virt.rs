//! QEMU's aarch64 `virt` board (`qemu-system-aarch64 -M virt`), as QEMU
//! 7.2 builds it under TCG: its versioned machine types, `-smp` with
//! clusters, the CPU limits of its interrupt controller, MPIDR affinity
//! packing, the default CPU → node rule, and RAM from 1 GiB with the
//! device-memory window above it.
//!
//! What changes with the machine type (QEMU 7.2 has `virt-2.6` …
//! `virt-7.2`, `virt` = `virt-7.2`):
//!
//! | from | change |
//! | --- | --- |
//! | 2.7 | MPIDR Aff0 clusters follow the GIC (16 CPUs with GICv3; 8 before) |
//! | 4.2 | NUMA switches itself on with `-m slots=` |
//! | 5.1 | `-numa node,mem=` refused; NUMA switches itself on with `maxmem` |
//! | 6.2 | `-smp` prefers cores over sockets; `/cpus/cpu-map` in the tree |
//!
//! The board's checks, after NUMA completion and in QEMU's order
//! ([`board_init`]): the CPU model, the memory slots and the physical
//! address space (`Addressing limited to …`), the GIC version, the CPU
//! limit of the GIC (8 with GICv2; 512 with GICv3, the machine's
//! limit; 317 with GICv4), and with `highmem=off` the capacity of the
//! low redistributor region (123 CPUs with GICv3, 61 with GICv4).
//! Memory devices need firmware (`-bios`, `-pflash`, `-drive if=pflash`):
//! without it QEMU has no ACPI GED device to plug them into.
//!
//! Not modelled: KVM (`gic-version=host`, `-cpu host` are QEMU's TCG
//! errors), `virtualization=on`'s CPU requirements, `mte`, `secure`,
//! `virtio-mem-pci`/`virtio-pmem-pci` on `virt`, the `cpu-map` in the
//! device tree, and QEMU 10.0's `virt` (an error says so).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::cpu::{CpuSlot, CpuTopology, MAX_POSSIBLE_CPUS};
use crate::error::{Error, ErrorKind};
use crate::machine::{
    CpuIdScheme, DefaultCpuNode, MachineModel, RamLayout, Version, MAX_NODES, QEMU_7_2,
};
use crate::resolve::Profile;

const GIB: u64 = 1 << 30;

/// Where RAM starts on `virt` (1 GiB).
pub const RAM_BASE: u64 = 0x4000_0000;

/// The memory slots `-m slots=` may ask for on `virt` (ACPI's limit).
pub const MAX_RAM_SLOTS: u64 = 256;

/// The machine type `virt` stands for in QEMU 7.2.
pub const DEFAULT_MACHINE_TYPE: &str = "virt-7.2";

/// `-machine` properties of QEMU 7.2's `virt` beyond the common schema
/// (`-M virt,help`, plus the accelerator's and the instance properties):
/// accepted and kept; those that matter here (`gic-version`, `highmem`,
/// `virtualization`, firmware, `nvdimm`) are read when the QEMU front end
/// applies `-machine`.
pub const MACHINE_PROPERTIES: &[&str] = &[
    "accel",
    "acpi",
    "append",
    "boot",
    "confidential-guest-support",
    "default-bus-bypass-iommu",
    "dt-compatible",
    "dtb",
    "dtb-kaslr-seed",
    "dtb-randomness",
    "dumpdtb",
    "firmware",
    "gic-version",
    "graphics",
    "highmem",
    "initrd",
    "iommu",
    "its",
    "kernel",
    "kernel-irqchip",
    "kvm-shadow-mem",
    "memory-encryption",
    "mte",
    "nvdimm",
    "nvdimm-persistence",
    "pflash0",
    "pflash1",
    "phandle-start",
    "ras",
    "secure",
    "suppress-vmdesc",
    "usb",
    "virtualization",
    "x-oem-id",
    "x-oem-table-id",
];

/// The interrupt controller a `virt` guest gets (`-machine gic-version=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum GicVersion {
    /// Not given: GICv2 under TCG.
    #[default]
    Default,
    /// `2`: at most 8 CPUs.
    V2,
    /// `3`.
    V3,
    /// `4` (needs `virtualization=on` under TCG).
    V4,
    /// `host` (needs KVM).
    Host,
    /// `max`: the highest TCG can do (3, or 4 with `virtualization=on`).
    Max,
}

impl GicVersion {
    /// The value of `-machine gic-version=`; `None` for a value QEMU
    /// refuses.
    pub fn parse(value: &str) -> Option<GicVersion> {
        Some(match value {
            "2" => GicVersion::V2,
            "3" => GicVersion::V3,
            "4" => GicVersion::V4,
            "host" => GicVersion::Host,
            "max" => GicVersion::Max,
            _ => return None,
        })
    }

    /// The version TCG uses: 2, 3 or 4 (`Host` counts as 3; QEMU refuses
    /// it in [`board_init`]).
    pub fn effective(self, virtualization: bool) -> u8 {
        match self {
            GicVersion::Default | GicVersion::V2 => 2,
            GicVersion::V3 | GicVersion::Host => 3,
            GicVersion::V4 => 4,
            GicVersion::Max if virtualization => 4,
            GicVersion::Max => 3,
        }
    }
}

/// A `-cpu` model as the `virt` board sees it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct VirtCpu {
    /// The model name (`cortex-a57`).
    pub name: String,
    /// Its physical address bits (QEMU's `arm_pamax`).
    pub pa_bits: u8,
    /// Whether `virt` accepts it (A-profile models with a generic timer).
    pub supported: bool,
}

/// QEMU 7.2's aarch64 CPU models: name, physical address bits (from
/// `ID_AA64MMFR0.PARange`, or 40 for v7 with LPAE), accepted by `virt`.
const CPU_MODELS: &[(&str, u8, bool)] = &[
    ("a64fx", 40, true),
    ("cortex-a15", 40, true),
    ("cortex-a35", 40, true),
    ("cortex-a53", 40, true),
    ("cortex-a57", 44, true),
    ("cortex-a7", 40, true),
    ("cortex-a72", 44, true),
    ("cortex-a76", 40, true),
    ("max", 52, true),
    ("neoverse-n1", 48, true),
    ("arm1026", 32, false),
    ("arm1136", 32, false),
    ("arm1136-r2", 32, false),
    ("arm1176", 32, false),
    ("arm11mpcore", 32, false),
    ("arm926", 32, false),
    ("arm946", 32, false),
    ("cortex-a8", 32, false),
    ("cortex-a9", 32, false),
    ("cortex-m0", 32, false),
    ("cortex-m3", 32, false),
    ("cortex-m33", 32, false),
    ("cortex-m4", 32, false),
    ("cortex-m55", 32, false),
    ("cortex-m7", 32, false),
    ("cortex-r5", 32, false),
    ("cortex-r5f", 32, false),
    ("pxa250", 32, false),
    ("pxa255", 32, false),
    ("pxa260", 32, false),
    ("pxa261", 32, false),
    ("pxa262", 32, false),
    ("pxa270", 32, false),
    ("pxa270-a0", 32, false),
    ("pxa270-a1", 32, false),
    ("pxa270-b0", 32, false),
    ("pxa270-b1", 32, false),
    ("pxa270-c0", 32, false),
    ("pxa270-c5", 32, false),
    ("sa1100", 32, false),
    ("sa1110", 32, false),
    ("ti925t", 32, false),
];

impl VirtCpu {
    /// `virt`'s default model in QEMU 7.2: `cortex-a15` (32-bit, LPAE).
    pub fn default_model() -> VirtCpu {
        VirtCpu {
            name: "cortex-a15".into(),
            pa_bits: 40,
            supported: true,
        }
    }

    /// A `-cpu` value (`MODEL[,feature=…]`): QEMU's `unable to find CPU
    /// model` for a name it does not have (`host` included: TCG).
    pub fn lookup(option: &str) -> Result<VirtCpu, VirtError> {
        let name = option.split(',').next().unwrap_or_default();
        // QEMU also takes the QOM type name.
        let short = name.strip_suffix("-arm-cpu").unwrap_or(name);
        CPU_MODELS
            .iter()
            .find(|(n, _, _)| *n == short)
            .map(|&(n, pa_bits, supported)| VirtCpu {
                name: n.into(),
                pa_bits,
                supported,
            })
            .ok_or_else(|| VirtError::UnknownCpuModel { name: name.into() })
    }
}

/// The `virt` board's own facts: what its `-machine` properties, `-cpu`
/// and firmware decide.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct VirtBoard {
    /// The machine-type version (`7.2`).
    pub version: Version,
    /// `gic-version=`.
    pub gic: GicVersion,
    /// `virtualization=` (EL2).
    pub virtualization: bool,
    /// `highmem=` (default on): off limits the address space to 32 bits.
    pub highmem: bool,
    /// The CPU model.
    pub cpu: VirtCpu,
    /// Firmware present (`-bios`, `-pflash`, `-drive if=pflash`,
    /// `pflash0=`): with ACPI on, QEMU creates the ACPI GED device that
    /// memory hotplug needs.
    pub firmware: bool,
    /// `nvdimm=on`.
    pub nvdimm: bool,
}

impl VirtBoard {
    /// QEMU 7.2's defaults for a `virt-X.Y` machine type: GICv2,
    /// `cortex-a15`, highmem on, no firmware.
    pub fn new(version: Version) -> VirtBoard {
        VirtBoard {
            version,
            gic: GicVersion::Default,
            virtualization: false,
            highmem: true,
            cpu: VirtCpu::default_model(),
            firmware: false,
            nvdimm: false,
        }
    }

    /// Whether QEMU creates the ACPI GED device (which memory hotplug
    /// needs): from `virt-4.2`, with firmware and ACPI on.
    pub fn has_ged(&self, acpi: bool) -> bool {
        self.version >= Version::new(4, 2) && self.firmware && acpi
    }

    /// The GIC version in effect (2, 3 or 4).
    pub fn gic_version(&self) -> u8 {
        self.gic.effective(self.virtualization)
    }

    /// CPUs per MPIDR Aff0 cluster: 8 on `virt-2.6` (no adjustment to
    /// the GIC), else 8 with GICv2 and 16 with GICv3/v4.
    pub fn mpidr_cluster_size(&self) -> u32 {
        if self.version < Version::new(2, 7) || self.gic_version() == 2 {
            8
        } else {
            16
        }
    }

    /// The physical address bits the memory map must fit: the CPU's, or
    /// 32 with `highmem=off`.
    pub fn pa_bits(&self) -> u8 {
        if self.highmem {
            self.cpu.pa_bits
        } else {
            32
        }
    }

    /// Most possible CPUs the interrupt controller takes (QEMU's
    /// `virt_max_cpus`): 8 with GICv2; with GICv3/v4 the redistributors
    /// that fit the low region and the high one.
    pub fn gic_max_cpus(&self) -> u32 {
        match self.gic_version() {
            2 => 8,
            v => redist_low_capacity(v) + redist_high_capacity(v),
        }
    }
}

/// Redistributors in the low region (`0x080a0000`, 0xf60000 bytes):
/// 64 KiB frames, two per CPU for GICv3, four for GICv4.
fn redist_low_capacity(gic: u8) -> u32 {
    0xf6_0000 / redist_stride(gic)
}

/// Redistributors in the high region (64 MiB).
fn redist_high_capacity(gic: u8) -> u32 {
    (64 << 20) / redist_stride(gic)
}

fn redist_stride(gic: u8) -> u32 {
    if gic >= 4 {
        0x4_0000
    } else {
        0x2_0000
    }
}

/// The errors of the `virt` board, with QEMU 7.2's text.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum VirtError {
    /// Something vnuma does not model (no QEMU message).
    #[error("not modelled: {what}")]
    NotModelled {
        /// What.
        what: String,
    },
    /// `-cpu` names no model QEMU has.
    #[error("unable to find CPU model '{name}'")]
    UnknownCpuModel {
        /// As written.
        name: String,
    },
    /// A CPU model `virt` does not take.
    #[error("mach-virt: CPU type {name}-arm-cpu not supported")]
    CpuTypeNotSupported {
        /// The model.
        name: String,
    },
    /// `gic-version=` not one QEMU knows.
    #[error("Invalid gic-version value")]
    InvalidGicVersion,
    /// `gic-version=host` under TCG.
    #[error("gic-version=host requires KVM")]
    GicHostRequiresKvm,
    /// `gic-version=4` without `virtualization=on`.
    #[error("gic-version=4 requires virtualization enabled")]
    Gic4RequiresVirtualization,
    /// A boolean machine property that is neither on nor off.
    #[error("Parameter '{name}' expects 'on' or 'off'")]
    BoolProperty {
        /// The property.
        name: String,
    },
    /// More than 256 memory slots.
    #[error("unsupported number of memory slots: {slots}")]
    UnsupportedSlots {
        /// Slots asked for.
        slots: u64,
    },
    /// RAM and the device-memory window past the CPU's address space.
    #[error("Addressing limited to {bits} bits, but memory exceeds it by {excess} bytes")]
    AddressingLimited {
        /// Physical address bits.
        bits: u8,
        /// Bytes past `2^bits`.
        excess: u64,
    },
    /// The window's end past 2^64.
    #[error("maxmem/slots too huge")]
    MaxmemTooHuge,
    /// More possible CPUs than the interrupt controller takes.
    #[error("Number of SMP CPUs requested ({requested}) exceeds max CPUs supported by machine 'mach-virt' ({max})")]
    TooManyCpus {
        /// `maxcpus`.
        requested: u32,
        /// The GIC's limit.
        max: u32,
    },
    /// `highmem=off` with more boot CPUs than the low redistributor region
    /// holds.
    #[error(
        "Capacity of the redist regions({capacity}) does not match the number of vcpus({cpus})"
    )]
    RedistCapacity {
        /// Redistributors in the low region.
        capacity: u32,
        /// Boot CPUs.
        cpus: u32,
    },
    /// A DIMM without the ACPI GED device (no firmware, or ACPI off).
    #[error("memory hotplug is not enabled: missing acpi-ged device")]
    MissingAcpiGed,
    /// An NVDIMM without `nvdimm=on`.
    #[error("nvdimm is not enabled: add 'nvdimm=on' to '-M'")]
    NvdimmNotEnabled,
}

impl VirtError {
    /// The line QEMU prints after the message, if any.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            VirtError::InvalidGicVersion => Some("Valid values are 3, 2, host, max."),
            _ => None,
        }
    }
}

impl From<VirtError> for Error {
    fn from(e: VirtError) -> Error {
        Error::new(ErrorKind::Virt(e))
    }
}

/// The machine-type versions of `virt` QEMU 7.2 has: 2.6 … 2.12, 3.0,
/// 3.1, 4.0 … 4.2, 5.0 … 5.2, 6.0 … 6.2, 7.0 … 7.2.
pub fn versions() -> Vec<Version> {
    let mut v: Vec<Version> = (6..=12).map(|m| Version::new(2, m)).collect();
    for (major, last) in [(3, 1), (4, 2), (5, 2), (6, 2), (7, 2)] {
        v.extend((0..=last).map(|m| Version::new(major, m)));
    }
    v
}

/// Every name [`lookup`] accepts for QEMU 7.2: `virt` and `virt-X.Y`.
pub fn supported_names() -> Vec<String> {
    let mut names = alloc::vec![String::from("virt")];
    names.extend(versions().into_iter().map(|v| format!("virt-{v}")));
    names
}

/// The QEMU 7.2 model of machine type `virt-X.Y`.
///
/// ```
/// use vnuma_topology::machine::Version;
/// let m = vnuma_topology::virt::machine(Version::new(6, 1));
/// assert_eq!(m.name, "virt-6.1");
/// assert!(m.smp_prefer_sockets);
/// assert!(m.clusters_supported && !m.dies_supported);
/// ```
pub fn machine(version: Version) -> MachineModel {
    let at_least = |major, minor| version >= Version::new(major, minor);
    let board = VirtBoard::new(version);
    MachineModel {
        name: format!("virt-{version}"),
        x86: None,
        max_cpus: 512,
        min_cpus: 1,
        default_cpus: 1,
        default_ram_size: 128 << 20,
        ram_align: 8192,
        default_ram_id: Some("mach-virt.ram".into()),
        smp_prefer_sockets: !at_least(6, 2),
        dies_supported: false,
        clusters_supported: true,
        numa_supported: true,
        numa_mem_supported: !at_least(5, 1),
        auto_enable_numa_with_memhp: at_least(4, 2),
        auto_enable_numa_with_memdev: at_least(5, 1),
        max_nodes: u32::from(MAX_NODES),
        cpu_ids: CpuIdScheme::ArmMpidr {
            cluster_size: board.mpidr_cluster_size(),
        },
        default_cpu_node: DefaultCpuNode::SocketModNodes,
        ram_layout: RamLayout::Flat { base: RAM_BASE },
        // The address space is checked by the board (`board_init`), with
        // its own message.
        phys_bits: None,
        amd_1tb_hole: false,
        pci_hole64_size: 0,
        broken_reserved_end: false,
        cxl_windows: None,
        legacy_cpu_hotplug: false,
        properties: MACHINE_PROPERTIES.iter().map(|&p| p.into()).collect(),
        qemu: Some(QEMU_7_2),
        virt: Some(board),
    }
}

/// The model for a `qemu-system-aarch64 -machine type=` value: `virt`
/// (QEMU 7.2's default on aarch64 is none, so a missing type is `virt`
/// here), `virt-X.Y`. Other boards are `unsupported machine type`; the
/// QEMU 10.0 profile's `virt` is not modelled.
pub fn lookup(profile: Profile, name: Option<&str>) -> Result<MachineModel, Error> {
    if profile != Profile::Qemu72 {
        return Err(VirtError::NotModelled {
            what: format!("the aarch64 virt board of QEMU {profile} (only QEMU 7.2's)"),
        }
        .into());
    }
    let canonical = match name {
        None | Some("virt") => DEFAULT_MACHINE_TYPE,
        Some(n) => n,
    };
    canonical
        .strip_prefix("virt-")
        .and_then(|v| versions().into_iter().find(|x| x.to_string() == v))
        .map(machine)
        .ok_or_else(|| {
            Error::new(ErrorKind::UnsupportedMachineType {
                name: name.unwrap_or_default().to_string(),
            })
        })
}

/// Whether a command line gives the guest firmware: `-bios`, `-pflash`,
/// `-drive if=pflash`, or `-machine pflash0=`/`firmware=`.
pub fn has_firmware<S: AsRef<str>>(argv: &[S]) -> bool {
    let mut args = argv.iter().map(AsRef::as_ref).peekable();
    while let Some(a) = args.next() {
        let opt = a.strip_prefix("--").or_else(|| a.strip_prefix('-'));
        let Some(opt) = opt else { continue };
        let (opt, inline) = match opt.split_once('=') {
            Some((o, v)) => (o, Some(v)),
            None => (opt, None),
        };
        let mut value = || {
            inline
                .map(String::from)
                .or_else(|| args.peek().map(|v| v.to_string()))
        };
        let firmware = match opt {
            "bios" | "pflash" => true,
            "drive" => value().is_some_and(|v| v.split(',').any(|p| p == "if=pflash")),
            "M" | "machine" => value().is_some_and(|v| {
                v.split(',')
                    .any(|p| p.starts_with("pflash0=") || p.starts_with("firmware="))
            }),
            _ => false,
        };
        if firmware {
            return true;
        }
    }
    false
}

/// Apply what `-machine`'s properties and `-cpu` change on the board.
/// `props` are the machine properties as written, last one winning.
pub(crate) fn apply_machine<'a>(
    model: &mut MachineModel,
    prop: impl Fn(&str) -> Option<&'a str>,
    firmware: bool,
) -> Result<(), Error> {
    let Some(board) = model.virt.as_mut() else {
        return Ok(());
    };
    let bool_prop = |name: &str| -> Result<Option<bool>, Error> {
        match prop(name) {
            None => Ok(None),
            Some(v) => vnuma_options::value::parse_bool(v)
                .map(Some)
                .ok_or_else(|| VirtError::BoolProperty { name: name.into() }.into()),
        }
    };
    if let Some(v) = prop("gic-version") {
        board.gic = GicVersion::parse(v).ok_or(VirtError::InvalidGicVersion)?;
    }
    if let Some(on) = bool_prop("highmem")? {
        board.highmem = on;
    }
    if let Some(on) = bool_prop("virtualization")? {
        board.virtualization = on;
    }
    if let Some(on) = bool_prop("nvdimm")? {
        board.nvdimm = on;
    }
    board.firmware = firmware;
    model.cpu_ids = CpuIdScheme::ArmMpidr {
        cluster_size: board.mpidr_cluster_size(),
    };
    Ok(())
}

/// `-cpu` on `virt`: the model decides the address space.
pub(crate) fn apply_cpu(model: &mut MachineModel, option: &str) -> Result<(), Error> {
    if let Some(board) = model.virt.as_mut() {
        board.cpu = VirtCpu::lookup(option)?;
    }
    Ok(())
}

/// The possible CPU slots of `virt`: socket, cluster, core and thread ids
/// from the index (QEMU's `virt_possible_cpu_arch_ids`), the MPIDR
/// affinity as the arch id (in [`CpuSlot::apic_id`]). At most
/// [`MAX_POSSIBLE_CPUS`] slots.
pub fn slots(cpu: &CpuTopology, cluster_size: u32) -> Vec<CpuSlot> {
    let clusters = cpu.clusters.max(1);
    let cores = cpu.cores.max(1);
    let threads = cpu.threads.max(1);
    let per_socket = clusters.saturating_mul(cores).saturating_mul(threads);
    (0..cpu.max_cpus.min(MAX_POSSIBLE_CPUS))
        .map(|n| CpuSlot {
            index: n,
            apic_id: mpidr(n, cluster_size) as u32,
            socket_id: n / per_socket,
            die_id: None,
            module_id: None,
            cluster_id: Some(n / (cores * threads) % clusters),
            core_id: n / threads % cores,
            thread_id: n % threads,
        })
        .collect()
}

/// QEMU's `arm_cpu_mp_affinity`: Aff0 = index mod `cluster_size`, the
/// cluster number from bit 8 up.
///
/// ```
/// assert_eq!(vnuma_topology::virt::mpidr(17, 16), 0x101);
/// assert_eq!(vnuma_topology::virt::mpidr(17, 8), 0x201);
/// ```
pub fn mpidr(index: u32, cluster_size: u32) -> u64 {
    let c = cluster_size.max(1);
    u64::from(index / c) << 8 | u64::from(index % c)
}

/// The device-memory window of `virt` (QEMU's `virt_set_memmap`): from
/// the first GiB boundary after RAM, `maxmem - size` plus 1 GiB per slot;
/// `None` when that is empty. Checks slots and the address space
/// (`Addressing limited to …`) first.
pub fn device_memory(
    board: &VirtBoard,
    ram_size: u64,
    max_ram_size: u64,
    ram_slots: u64,
) -> Result<Option<(u64, u64)>, VirtError> {
    if ram_slots > MAX_RAM_SLOTS {
        return Err(VirtError::UnsupportedSlots { slots: ram_slots });
    }
    let round = |v: u64| v.wrapping_add(GIB - 1) & !(GIB - 1);
    let base = round(RAM_BASE.wrapping_add(ram_size));
    let size = max_ram_size
        .wrapping_sub(ram_size)
        .wrapping_add(ram_slots.wrapping_mul(GIB));
    let memtop = base.wrapping_add(round(size));
    let bits = board.pa_bits();
    let limit = 1u64 << bits;
    if memtop > limit {
        return Err(VirtError::AddressingLimited {
            bits,
            excess: memtop - limit,
        });
    }
    if memtop < base {
        return Err(VirtError::MaxmemTooHuge);
    }
    Ok((size > 0).then_some((base, size)))
}

/// The checks of QEMU 7.2's `machvirt_init` that can fail, in its order,
/// after NUMA completion: the CPU model, the memory map, the GIC version,
/// the CPU limit of the GIC, the low redistributor region with
/// `highmem=off`.
pub fn board_init(
    model: &MachineModel,
    cpu: &CpuTopology,
    ram_size: u64,
    max_ram_size: u64,
    ram_slots: u64,
) -> Result<(), VirtError> {
    let Some(board) = &model.virt else {
        return Ok(());
    };
    if !board.cpu.supported {
        return Err(VirtError::CpuTypeNotSupported {
            name: board.cpu.name.clone(),
        });
    }
    device_memory(board, ram_size, max_ram_size, ram_slots)?;
    match board.gic {
        GicVersion::Host => return Err(VirtError::GicHostRequiresKvm),
        GicVersion::V4 if !board.virtualization => {
            return Err(VirtError::Gic4RequiresVirtualization)
        }
        _ => {}
    }
    let max = board.gic_max_cpus();
    if cpu.max_cpus > max {
        return Err(VirtError::TooManyCpus {
            requested: cpu.max_cpus,
            max,
        });
    }
    let gic = board.gic_version();
    if gic >= 3 && !board.highmem && cpu.cpus > redist_low_capacity(gic) {
        return Err(VirtError::RedistCapacity {
            capacity: redist_low_capacity(gic),
            cpus: cpu.cpus,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_table() {
        // `qemu-system-aarch64 -M help` of 7.2: 21 virt-X.Y and the alias.
        assert_eq!(supported_names().len(), 22);
        let p = Profile::Qemu72;
        assert_eq!(lookup(p, Some("virt")).unwrap().name, "virt-7.2");
        assert_eq!(lookup(p, None).unwrap().name, "virt-7.2");
        assert_eq!(lookup(p, Some("virt-2.6")).unwrap().name, "virt-2.6");
        for bad in ["virt-2.5", "virt-7.3", "virt-4.0.1", "pc", "q35", "virt-"] {
            let e = lookup(p, Some(bad)).unwrap_err();
            assert_eq!(e.to_string(), "unsupported machine type", "{bad}");
        }
        let e = lookup(Profile::Qemu100, Some("virt")).unwrap_err();
        assert!(e.to_string().starts_with("not modelled"), "{e}");
    }

    #[test]
    fn compat_flags() {
        let m = |v: (u8, u8)| machine(Version::new(v.0, v.1));
        assert!(m((5, 0)).numa_mem_supported && !m((5, 1)).numa_mem_supported);
        assert!(!m((4, 1)).auto_enable_numa_with_memhp);
        assert!(m((4, 2)).auto_enable_numa_with_memhp);
        assert!(!m((5, 0)).auto_enable_numa_with_memdev);
        assert!(m((5, 1)).auto_enable_numa_with_memdev);
        assert!(m((6, 1)).smp_prefer_sockets && !m((6, 2)).smp_prefer_sockets);
        let mut b = VirtBoard::new(Version::new(2, 6));
        b.gic = GicVersion::V3;
        assert_eq!(b.mpidr_cluster_size(), 8);
        b.version = Version::new(2, 7);
        assert_eq!(b.mpidr_cluster_size(), 16);
        b.gic = GicVersion::V2;
        assert_eq!(b.mpidr_cluster_size(), 8);
    }

    #[test]
    fn gic_limits() {
        let mut b = VirtBoard::new(QEMU_7_2);
        assert_eq!(b.gic_max_cpus(), 8);
        b.gic = GicVersion::V3;
        assert_eq!(b.gic_max_cpus(), 123 + 512);
        b.gic = GicVersion::Max;
        assert_eq!(b.gic_version(), 3);
        b.virtualization = true;
        assert_eq!(b.gic_version(), 4);
        assert_eq!(b.gic_max_cpus(), 317);
        assert_eq!(redist_low_capacity(3), 123);
        assert_eq!(redist_low_capacity(4), 61);
    }

    #[test]
    fn slots_and_mpidr() {
        let cpu = CpuTopology {
            cpus: 24,
            max_cpus: 24,
            sockets: 2,
            dies: 1,
            clusters: 2,
            modules: 1,
            cores: 3,
            threads: 2,
        };
        let s = slots(&cpu, 16);
        assert_eq!(s.len(), 24);
        // CPU 13: socket 1 (12 per socket), cluster 0, core 0, thread 1.
        let c = s[13];
        assert_eq!(
            (c.socket_id, c.cluster_id, c.core_id, c.thread_id),
            (1, Some(0), 0, 1)
        );
        let c = s[7];
        assert_eq!(
            (c.socket_id, c.cluster_id, c.core_id, c.thread_id),
            (0, Some(1), 0, 1)
        );
        assert_eq!(s[16].apic_id, 0x100);
        assert_eq!(slots(&cpu, 8)[16].apic_id, 0x200);
    }

    #[test]
    fn address_space() {
        let mut b = VirtBoard::new(QEMU_7_2);
        b.cpu = VirtCpu::lookup("cortex-a53").unwrap();
        // -m 1G,maxmem=1T: RAM to 2 GiB, window 1023 GiB: 1 GiB past 2^40.
        assert_eq!(
            device_memory(&b, GIB, 1 << 40, 0).unwrap_err().to_string(),
            "Addressing limited to 40 bits, but memory exceeds it by 1073741824 bytes"
        );
        assert_eq!(
            device_memory(&b, GIB, 2 * GIB, 2).unwrap(),
            Some((2 * GIB, 3 * GIB))
        );
        b.highmem = false;
        assert!(device_memory(&b, 3 * GIB, 3 * GIB, 0).unwrap().is_none());
        assert_eq!(
            device_memory(&b, 3 * GIB + (2 << 20), 3 * GIB + (2 << 20), 0)
                .unwrap_err()
                .to_string(),
            "Addressing limited to 32 bits, but memory exceeds it by 1073741824 bytes"
        );
        assert_eq!(
            device_memory(&b, GIB, 2 * GIB, 257)
                .unwrap_err()
                .to_string(),
            "unsupported number of memory slots: 257"
        );
        b.cpu = VirtCpu::lookup("max,sve=off").unwrap();
        assert_eq!(b.cpu.pa_bits, 52);
        assert_eq!(
            VirtCpu::lookup("host").unwrap_err().to_string(),
            "unable to find CPU model 'host'"
        );
    }

    #[test]
    fn firmware_options() {
        assert!(has_firmware(&["-M", "virt", "-bios", "QEMU_EFI.fd"]));
        assert!(has_firmware(&["-drive", "if=pflash,format=raw,file=x"]));
        assert!(has_firmware(&["-machine", "virt,pflash0=fw"]));
        assert!(!has_firmware(&["-drive", "if=virtio,file=x", "-m", "1G"]));
    }
}
