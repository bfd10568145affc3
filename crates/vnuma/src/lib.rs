//! Guest NUMA for virtual machine monitors, as one call.
//!
//! `vnuma` runs the whole pipeline of the vnuma crates: QEMU-style
//! arguments (or typed options, or JSON) are read
//! ([`options`]), resolved into a validated topology with the rules of
//! QEMU 7.2 (the default) or QEMU 10.0 ([`Vm::for_qemu`],
//! [`topology::Profile`]) ([`topology`]), laid out in guest-physical address space
//! ([`topology::layout`]), and reported the way QEMU reports them
//! (`info numa`, `query-memdev`) or as one JSON document.
//!
//! ## Should I use this crate or a layer?
//!
//! Use `vnuma` when you want the whole answer from a command line. Take a
//! layer alone when that is all you need:
//!
//! | you need | crate |
//! | --- | --- |
//! | QEMU's option syntax, typed | [`vnuma-options`](options) |
//! | an address → range index | [`vnuma-ranges`](ranges) |
//! | validation, CPU slots, node memory, address → node | [`vnuma-topology`](topology) |
//! | host memory for backends, mbind, preallocation | [`vnuma-backend`](backend) |
//! | ACPI SRAT/SLIT/HMAT bytes, device-tree NUMA | [`vnuma-tables`](tables) |
//!
//! ## From a VMM's own configuration
//!
//! [`Vm::from_numa_config`] takes a [`topology::NumaConfig`] built in code;
//! [`Vm::zone_ranges`] says where each memory zone lies for VMMs that map
//! one host region per zone. The examples `cloud_hypervisor` and `openvmm`
//! in this crate (`cargo run -p vnuma --example cloud_hypervisor`) go from
//! those VMMs' config shapes to host memory and checked SRAT/SLIT bytes.
//!
//! ## Hand-offs to a VMM
//!
//! What a VMM would otherwise write itself:
//!
//! * [`ram_request`]: what `vnuma-backend` needs to allocate a topology's
//!   RAM ([`Vm::allocate`] uses it);
//! * [`segments`]: the boot RAM as guest-physical [`Segment`]s (zone,
//!   node, offset in the zone's mapping and in boot RAM, guest address,
//!   length), for VMMs that map one host region per zone or per node;
//! * [`Vm::guest_memory`] (feature `vm-memory`): the allocated RAM as a
//!   `vm_memory::GuestMemoryMmap<B>` with the VMM's own bitmap type (such
//!   as cloud-hypervisor's `AtomicBitmap`), each region's node beside it;
//!   `backend::NumaGuestMemory::from_segments` does the same for mappings
//!   made per zone;
//! * ACPI tables ([`Vm::acpi_tables`], or `tables::build` with
//!   [`tables::TableOptions`]: SRAT Generic Initiator entries for device
//!   nodes, the SRAT revision, x2APIC-only entries) and device-tree
//!   properties (`tables::fdt`: writers for the VMM's own CPU and memory
//!   nodes, the arm64 MPIDR `reg` scheme);
//! * [`split_command_line`]/[`qemu_args_from_pasted`] for a pasted
//!   command line and [`render_error`]/[`caret_line`] for QEMU-style
//!   error lines with a caret, as the `vnuma` command prints them.
//!
//! ## Features
//!
//! * `serde` (default): the JSON report ([`Report`], [`Rejection`]) and
//!   serde for every layer's types.
//! * `fdt` (default): device-tree output ([`Vm::dtb`], `tables::fdt`)
//!   through rust-vmm's `vm-fdt` 0.3, a public dependency then.
//! * `vm-memory`: [`Vm::guest_memory`] and the backend's vm-memory
//!   hand-off, through rust-vmm's `vm-memory` 0.18, a public dependency
//!   then (re-exported as `backend::vm_memory`).
//!
//! ## Example
//!
//! ```
//! let vm = vnuma::Vm::from_args([
//!     "-M", "q35", "-m", "4G", "-smp", "4,sockets=2",
//!     "-object", "memory-backend-ram,id=m0,size=2G",
//!     "-object", "memory-backend-ram,id=m1,size=2G",
//!     "-numa", "node,nodeid=0,memdev=m0",
//!     "-numa", "node,nodeid=1,memdev=m1",
//! ])?;
//! assert!(vm.info_numa().starts_with("2 nodes\nnode 0 cpus: 0 1\n"));
//! assert_eq!(vm.layout().node_of(0x1_0000_0000), Some(1));
//! # #[cfg(feature = "serde")]
//! # {
//! let json = vm.report().to_json();
//! assert!(json.contains("\"accepted\":true"));
//! # }
//!
//! let err = vnuma::Vm::from_args(["-numa", "node,nodeid=200"]).unwrap_err();
//! assert_eq!(err.display_qemu().to_string(), "-numa node,nodeid=200: Max number of NUMA nodes reached: 200");
//! # Ok::<(), vnuma::Error>(())
//! ```
#![forbid(unsafe_code)]

pub use vnuma_backend as backend;
pub use vnuma_options as options;
pub use vnuma_ranges as ranges;
pub use vnuma_tables as tables;
pub use vnuma_topology as topology;

mod error;
mod handoff;
mod report;
mod text;
mod zones;

pub use error::Error;
pub use handoff::{ram_request, segments, Segment};
pub use report::{Memdev, MemoryDeviceData, MemoryDeviceInfo};
#[cfg(feature = "serde")]
pub use report::{Rejection, Report};
pub use text::{caret_line, qemu_args_from_pasted, render_error, split_command_line, SplitError};
pub use zones::ZoneRanges;

use vnuma_backend::{AllocOptions, GuestRam, HostInfo, RamPlan, RamRequest};
use vnuma_options::CommandLine;
use vnuma_topology::layout::MemoryLayout;
use vnuma_topology::{Config, Topology};

/// A resolved guest configuration: its topology and memory layout, and
/// the command line it came from when it came from one.
#[derive(Clone, Debug)]
pub struct Vm {
    command_line: Option<CommandLine>,
    topology: Topology,
    layout: MemoryLayout,
}

impl Vm {
    /// Read QEMU-style arguments (without the program name) and resolve
    /// them with QEMU 7.2's rules.
    pub fn from_args<I, S>(args: I) -> Result<Vm, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::from_command_line(CommandLine::parse(args)?)
    }

    /// Resolve an already parsed command line.
    pub fn from_command_line(command_line: CommandLine) -> Result<Vm, Error> {
        Self::with_config(command_line, &Config::default())
    }

    /// Read QEMU-style arguments and resolve them with the rules of a
    /// given QEMU release.
    ///
    /// ```
    /// use vnuma::topology::Profile;
    /// let args = ["-M", "pc-i440fx-5.0"];
    /// let vm = vnuma::Vm::for_qemu(Profile::Qemu100, args).unwrap();
    /// assert_eq!(
    ///     vm.topology().warnings()[0].to_string(),
    ///     "Machine type 'pc-i440fx-5.0' is deprecated: machines more than 3 years old are subject to deletion after 6 years",
    /// );
    /// assert_eq!(vm.qemu_version().unwrap().to_string(), "10.0");
    /// let vm = vnuma::Vm::for_qemu(Profile::Qemu72, args).unwrap();
    /// assert!(vm.topology().warnings().is_empty());
    /// ```
    pub fn for_qemu<I, S>(profile: vnuma_topology::Profile, args: I) -> Result<Vm, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::with_config(CommandLine::parse(args)?, &Config::qemu(profile))
    }

    /// Read `qemu-system-TARGET` arguments and resolve them with the rules
    /// of a given QEMU release: [`topology::Target::Aarch64`] is the `virt`
    /// board (`-M virt`, `virt-7.2` … `virt-2.6`), whose [`Vm::dtb`] and
    /// [`Vm::acpi_tables`] are QEMU's own.
    pub fn for_qemu_target<I, S>(
        profile: vnuma_topology::Profile,
        target: vnuma_topology::Target,
        args: I,
    ) -> Result<Vm, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let args: Vec<S> = args.into_iter().collect();
        let config = Config {
            firmware: vnuma_topology::virt::has_firmware(&args),
            ..Config::qemu_target(profile, target)
        };
        Self::with_config(CommandLine::parse(args)?, &config)
    }

    /// The QEMU release whose rules resolved this guest (`None` for a
    /// board that is not QEMU's).
    pub fn qemu_version(&self) -> Option<vnuma_topology::machine::Version> {
        self.topology.machine().qemu
    }

    /// Resolve with a machine model or profile of your choice.
    pub fn with_config(command_line: CommandLine, config: &Config) -> Result<Vm, Error> {
        let topology = vnuma_topology::resolve_with(&command_line, config)?;
        let layout = MemoryLayout::new(&topology);
        Ok(Vm {
            command_line: Some(command_line),
            topology,
            layout,
        })
    }

    /// Resolve a command line as QEMU 7.2 would on this host: each memory
    /// backend is also checked against `host` (its `mem-path`, host nodes,
    /// room) when QEMU creates it, so a host problem is reported where
    /// QEMU reports it (before `-numa` is applied). Reads the host, maps
    /// nothing.
    pub fn with_host_checks(
        command_line: CommandLine,
        config: &Config,
        host: &HostInfo,
    ) -> Result<Vm, Error> {
        let machine = command_line.machine().ok();
        let defaults = vnuma_backend::Defaults {
            merge: machine.as_ref().and_then(|m| m.mem_merge).unwrap_or(true),
            dump: machine
                .as_ref()
                .and_then(|m| m.dump_guest_core)
                .unwrap_or(true),
            prealloc: command_line.mem_prealloc(),
            prealloc_threads: 1,
        };
        let host = host.clone();
        let check: vnuma_topology::BackendCheck = std::sync::Arc::new(move |b| {
            vnuma_backend::BackendPlan::new(b, &defaults, &host)
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
        let config = Config {
            backend_check: Some(check),
            ..config.clone()
        };
        Self::with_config(command_line, &config)
    }

    /// Resolve a configuration described in code (a VMM's own
    /// configuration, no QEMU syntax involved).
    ///
    /// ```
    /// use vnuma::topology::{cpu::CpuTopology, machine::MachineModel};
    /// use vnuma::topology::{MemoryZone, NodeConfig, NumaConfig};
    /// let config = NumaConfig::new(MachineModel::generic("my-vmm", 8), CpuTopology::new(4))
    ///     .node(NodeConfig::new(0).cpus(0..2).zone(MemoryZone::new(1 << 30)))
    ///     .node(NodeConfig::new(1).cpus(2..4).zone(MemoryZone::new(1 << 30)));
    /// let vm = vnuma::Vm::from_numa_config(&config)?;
    /// assert_eq!(vm.layout().node_of(1 << 30), Some(1));
    /// # Ok::<(), vnuma::Error>(())
    /// ```
    pub fn from_numa_config(config: &vnuma_topology::NumaConfig) -> Result<Vm, Error> {
        Ok(Self::from_topology(config.resolve()?))
    }

    /// A guest from an already resolved topology.
    pub fn from_topology(topology: Topology) -> Vm {
        let layout = MemoryLayout::new(&topology);
        Vm {
            command_line: None,
            topology,
            layout,
        }
    }

    /// The command line as read, if the guest came from one.
    pub fn command_line(&self) -> Option<&CommandLine> {
        self.command_line.as_ref()
    }

    /// The resolved topology.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The guest memory layout.
    pub fn layout(&self) -> &MemoryLayout {
        &self.layout
    }

    /// Every memory zone with its guest-physical ranges: nodes in id
    /// order, each node's zones in their configured order. For a VMM that
    /// maps one host region per zone (a node may have several zones, or a
    /// zone may be split around an MMIO gap), where [`Vm::allocate`]
    /// composes one backend per node.
    ///
    /// ```
    /// use vnuma::ranges::Range;
    /// use vnuma::topology::{cpu::CpuTopology, machine::{MachineModel, RamLayout}};
    /// use vnuma::topology::{MemoryZone, NodeConfig, NumaConfig};
    /// const MIB: u64 = 1 << 20;
    /// let board = MachineModel::generic("my-vmm", 2)
    ///     .with_ram_layout(RamLayout::around_gaps(0, &[Range::new(96 * MIB, 128 * MIB)?]));
    /// let config = NumaConfig::new(board, CpuTopology::new(2))
    ///     .node(NodeConfig::new(0).cpus(0..1).zone(MemoryZone::new(64 * MIB)).zone(MemoryZone::new(64 * MIB)))
    ///     .node(NodeConfig::new(1).cpus(1..2).zone(MemoryZone::new(64 * MIB)));
    /// let vm = vnuma::Vm::from_numa_config(&config)?;
    /// let zones = vm.zone_ranges();
    /// assert_eq!((zones[1].node, zones[1].index), (0, 1));
    /// // The second zone of node 0 crosses the gap.
    /// assert_eq!(zones[1].ranges, [Range::new(64 * MIB, 96 * MIB)?, Range::new(128 * MIB, 160 * MIB)?]);
    /// assert_eq!(zones[2].ranges, [Range::new(160 * MIB, 224 * MIB)?]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn zone_ranges(&self) -> Vec<ZoneRanges> {
        zones::zone_ranges(&self.topology)
    }

    /// The layout, to plug and unplug DIMMs.
    pub fn layout_mut(&mut self) -> &mut MemoryLayout {
        &mut self.layout
    }

    /// QEMU's `info numa` text (spec §6.1), lines ending in `\n`.
    pub fn info_numa(&self) -> String {
        report::info_numa(&self.topology, &self.layout)
    }

    /// QEMU's `query-memdev` (spec §6.2): every memory backend in
    /// command-line order, then the default RAM backend when the machine
    /// creates one.
    pub fn query_memdev(&self) -> Vec<Memdev> {
        report::query_memdev(&self.topology)
    }

    /// QEMU's `query-memory-devices`: the memory devices in address order.
    pub fn query_memory_devices(&self) -> Vec<MemoryDeviceInfo> {
        report::query_memory_devices(&self.topology)
    }

    /// The JSON report of an accepted configuration (feature `serde`).
    #[cfg(feature = "serde")]
    pub fn report(&self) -> Report {
        Report::new(self)
    }

    /// The ACPI table options QEMU would use for this machine: its OEM
    /// ids, or `-machine x-oem-id=`/`x-oem-table-id=`; with the QEMU 10.0
    /// profile, HMAT without memory-less nodes' proximity attributes.
    pub fn table_options(&self) -> vnuma_tables::TableOptions {
        let mut oem = vnuma_tables::acpi::Oem::default();
        if let Some(Ok(machine)) = self.command_line.as_ref().map(CommandLine::machine) {
            let prop = |k: &str| {
                machine
                    .ignored
                    .iter()
                    .rev()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.clone())
            };
            if let Some(id) = prop("x-oem-id") {
                oem.oem_id = vnuma_tables::acpi::Oem::with_ids(&id, "").oem_id;
            }
            if let Some(id) = prop("x-oem-table-id") {
                oem.oem_table_id = vnuma_tables::acpi::Oem::with_ids("", &id).oem_table_id;
            }
        }
        // QEMU 10.0 writes a Memory Proximity Domain Attributes structure
        // only for nodes with memory (7.2: for every node).
        let hmat_skip_memoryless = self
            .topology
            .machine()
            .qemu
            .is_some_and(|q| q >= vnuma_topology::machine::QEMU_10_0);
        let opts = vnuma_tables::TableOptions::with_oem(oem)
            .with_hmat_skip_memoryless(hmat_skip_memoryless);
        if self.topology.machine().virt.is_some() {
            // QEMU's virt: GICC entries, SRAT revision 3, memory per node
            // from 1 GiB.
            opts.with_processors(vnuma_tables::ProcessorEntries::Gicc)
                .with_srat_revision(3)
                .with_memory(vnuma_tables::MemoryStyle::Layout)
        } else {
            opts
        }
    }

    /// The SRAT, SLIT and HMAT QEMU (7.2 or 10.0, the profile's) would build for this guest, with
    /// checksums; `None` without NUMA, and without ACPI (`-no-acpi`,
    /// `-machine acpi=off`: QEMU builds no tables at all).
    pub fn acpi_tables(&self) -> Result<Option<vnuma_tables::NumaTables>, Error> {
        if !self.topology.acpi() {
            return Ok(None);
        }
        Ok(vnuma_tables::build(
            &self.topology,
            &self.layout,
            &self.table_options(),
        )?)
    }

    /// A device-tree blob with the guest's NUMA nodes (`numa-node-id` on
    /// CPUs and memory, a distance map when distances were given; feature
    /// `fdt`).
    ///
    /// For QEMU's aarch64 `virt` board, the tree QEMU hands the guest as
    /// far as NUMA goes (`tables::fdt::virt_dtb`): its `memory@…` nodes,
    /// `/cpus` with each `cpu@N`'s MPIDR and node, and the distance map.
    #[cfg(feature = "fdt")]
    pub fn dtb(&self) -> Result<Vec<u8>, Error> {
        if self.topology.machine().virt.is_some() {
            return Ok(vnuma_tables::fdt::virt_dtb(&self.topology)?);
        }
        Ok(vnuma_tables::fdt::numa_dtb(&self.topology, &self.layout)?)
    }

    /// What the backend crate needs to place this guest's RAM
    /// ([`ram_request`]).
    pub fn ram_request(&self) -> RamRequest {
        handoff::ram_request(&self.topology)
    }

    /// The boot RAM as guest-physical segments with zone, node and
    /// offsets ([`segments`]).
    pub fn segments(&self) -> Vec<Segment> {
        handoff::segments(&self.topology)
    }

    /// This guest's RAM, allocated by [`Vm::allocate`], as guest memory
    /// for rust-vmm consumers with the caller's bitmap type (`()`, or
    /// cloud-hypervisor's `AtomicBitmap`), each region's node beside it
    /// (feature `vm-memory`). Zones at fixed addresses are not part of
    /// `GuestRam`; map those per zone with
    /// `NumaGuestMemory::from_segments`.
    #[cfg(feature = "vm-memory")]
    pub fn guest_memory<B: vnuma_backend::vm_memory::bitmap::NewBitmap>(
        &self,
        ram: &GuestRam,
    ) -> Result<vnuma_backend::NumaGuestMemory<B>, Error> {
        let segments: Vec<vnuma_backend::GpaSegment> = self
            .segments()
            .iter()
            .filter_map(Segment::gpa_segment)
            .collect();
        Ok(ram.guest_memory(&segments)?)
    }

    /// Check this guest's RAM against the host (nodes exist, huge pages
    /// and file systems have room, sizes fit) without mapping anything.
    pub fn plan_ram(&self, host: &HostInfo) -> Result<RamPlan, Error> {
        Ok(RamPlan::new(&self.ram_request(), host)?)
    }

    /// Allocate, place and (where asked) preallocate this guest's RAM on
    /// this host. A failure part-way leaves nothing mapped.
    pub fn allocate(&self, opts: AllocOptions<'_>) -> Result<GuestRam, Error> {
        let plan = self.plan_ram(&HostInfo::probe())?;
        Ok(GuestRam::allocate(&plan, opts)?)
    }
}

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
