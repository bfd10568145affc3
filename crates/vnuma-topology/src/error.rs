//! Errors and warnings of machine and NUMA resolution, with QEMU 7.2's
//! message texts.

use alloc::boxed::Box;
use alloc::string::String;
use core::fmt;

use vnuma_options::{Location, Span};

use crate::cpu::{SmpError, SmpWarning};

/// Everything resolution can reject. `Display` is QEMU's text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An option did not parse or type (vnuma-options' error, with its own
    /// span and location; also its `source()`).
    #[error("{0}")]
    Options(#[from] vnuma_options::Error),
    /// `-machine type=` names no machine vnuma models.
    #[error("unsupported machine type")]
    UnsupportedMachineType {
        /// The name as written.
        name: String,
    },
    /// The same in QEMU 9.1 and later, which name the type.
    #[error("unsupported machine type: \"{name}\"")]
    UnsupportedMachineTypeNamed {
        /// The name as written.
        name: String,
    },
    /// The machine type has no NUMA.
    #[error("NUMA is not supported by this machine-type")]
    NumaNotSupported,
    /// `-smp` is invalid for the machine.
    #[error("{0}")]
    Smp(#[from] SmpError),
    /// `-m maxmem=` below the RAM size.
    #[error("invalid value of maxmem: maximum memory size (0x{max:x}) must be at least the initial memory size (0x{size:x})")]
    MaxmemTooSmall {
        /// maxmem.
        max: u64,
        /// RAM size.
        size: u64,
    },
    /// `-m` with slots and maxmem equal to the RAM size.
    #[error("invalid value of maxmem: memory slots were specified but maximum memory size (0x{max:x}) is equal to the initial memory size (0x{size:x})")]
    MaxmemEqualWithSlots {
        /// maxmem.
        max: u64,
        /// RAM size.
        size: u64,
    },
    /// `-m slots=` without maxmem.
    #[error("slots specified but no max-size")]
    SlotsWithoutMaxSize,
    /// `-machine memory-backend=` names no backend.
    #[error("Memory backend '{id}' not found")]
    MemoryBackendNotFound {
        /// The id.
        id: String,
    },
    /// `-machine memory-backend=` with a size other than `-m`.
    #[error("Machine memory size does not match the size of the memory backend")]
    MemoryBackendSizeMismatch,
    /// A user object has the default RAM backend's id.
    #[error("object name '{id}' is reserved for the default RAM backend, it can't be used for any other purposes. Change the object's 'id' to something else")]
    ReservedRamId {
        /// The id (`pc.ram`).
        id: String,
    },
    /// The same in QEMU 10.0's words.
    #[error("object's id '{id}' is reserved for the default RAM backend, it can't be used for any other purposes")]
    ReservedRamIdObject {
        /// The id (`pc.ram`).
        id: String,
    },
    /// `hmat-lb`, `hmat-cache` or `node,initiator=` without `hmat=on`.
    #[error("ACPI Heterogeneous Memory Attribute Table (HMAT) is disabled, enable it with -machine hmat=on before using any of hmat specific options")]
    HmatDisabled,
    /// A node id of 128 or more.
    #[error("Max number of NUMA nodes reached: {node}")]
    MaxNodes {
        /// The id.
        node: u32,
    },
    /// A node declared twice.
    #[error("Duplicate NUMA nodeid: {node}")]
    DuplicateNode {
        /// The id.
        node: u16,
    },
    /// `node,initiator=` of 128 or more (QEMU prints this and goes on
    /// without the node; vnuma stops).
    #[error("The initiator id {initiator} expects an integer between 0 and 127")]
    InitiatorOutOfRange {
        /// The initiator.
        initiator: u16,
    },
    /// `node,cpus=` beyond the possible CPUs.
    #[error("CPU index ({cpu}) should be smaller than maxcpus ({max_cpus})")]
    CpuIndexTooLarge {
        /// The CPU index.
        cpu: u16,
        /// maxcpus.
        max_cpus: u32,
    },
    /// A CPU slot mapped to two nodes.
    #[error("CPU is already assigned to node-id: {node}")]
    CpuAlreadyAssigned {
        /// The node it has.
        node: u16,
    },
    /// `mem=` and `memdev=` both used.
    #[error("numa configuration should use either mem= or memdev=,mixing both is not allowed")]
    MixedMemAndMemdev,
    /// `mem=` on a machine type from 5.1 on.
    #[error("Parameter -numa node,mem is not supported by this machine type")]
    MemNotSupported,
    /// `memdev=` names no backend (or several).
    #[error("memdev={name} is ambiguous")]
    MemdevAmbiguous {
        /// The name.
        name: String,
    },
    /// `dist,src=` or `dst=` of 128 or more.
    #[error("Parameter '{key}' expects an integer between 0 and 127")]
    DistNodeOutOfRange {
        /// `src` or `dst`.
        key: &'static str,
    },
    /// `dist` before its nodes exist.
    #[error("Source/Destination NUMA node is missing. Please use '-numa node' option to declare it first.")]
    DistNodeMissing,
    /// A distance below 10.
    #[error("NUMA distance ({val}) is invalid, it shouldn't be less than 10.")]
    DistanceTooSmall {
        /// The value.
        val: u8,
    },
    /// A local distance other than 10.
    #[error("Local distance of node {node} should be 10.")]
    LocalDistance {
        /// The node.
        node: u16,
    },
    /// `-numa cpu` without node-id.
    #[error("Missing mandatory node-id property")]
    CpuMissingNodeId,
    /// `-numa cpu,node-id=` of a node not declared (or out of range).
    #[error("Invalid node-id={node}, NUMA node must be defined with -numa node,nodeid=ID before it's used with -numa cpu,node-id=ID")]
    CpuUndefinedNode {
        /// The node id as given.
        node: i64,
    },
    /// A `-numa cpu` property the slots do not have.
    #[error("{property} is not supported")]
    CpuPropertyNotSupported {
        /// `die-id`, `cluster-id`, ...
        property: &'static str,
    },
    /// `-numa cpu` matched no slot.
    #[error("no match found")]
    CpuNoMatch,
    /// With HMAT, a CPU node whose initiator is another node.
    #[error("The initiator of CPU NUMA node {node} should be itself (got {initiator})")]
    CpuInitiatorNotItself {
        /// The node.
        node: u16,
        /// Its initiator.
        initiator: u16,
    },
    /// hmat-lb initiator beyond the node count.
    #[error("Invalid initiator={initiator}, it should be less than {nodes}")]
    HmatInitiatorRange {
        /// The initiator.
        initiator: u16,
        /// Nodes so far.
        nodes: u32,
    },
    /// hmat-lb target beyond the node count.
    #[error("Invalid target={target}, it should be less than {nodes}")]
    HmatTargetRange {
        /// The target.
        target: u16,
        /// Nodes so far.
        nodes: u32,
    },
    /// hmat-lb initiator without CPUs.
    #[error("Invalid initiator={initiator}, it isn't an initiator proximity domain")]
    HmatNotInitiator {
        /// The initiator.
        initiator: u16,
    },
    /// hmat-lb target not declared.
    #[error("The target={target} should point to an existing node")]
    HmatTargetMissing {
        /// The target.
        target: u16,
    },
    /// A latency type without `latency=`.
    #[error("Missing 'latency' option")]
    HmatMissingLatency,
    /// A latency type with `bandwidth=`.
    #[error("Invalid option 'bandwidth' since the data type is latency")]
    HmatBandwidthForLatency,
    /// A bandwidth type without `bandwidth=`.
    #[error("Missing 'bandwidth' option")]
    HmatMissingBandwidth,
    /// A bandwidth type with `latency=`.
    #[error("Invalid option 'latency' since the data type is bandwidth")]
    HmatLatencyForBandwidth,
    /// The same (initiator, target) latency twice.
    #[error(
        "Duplicate configuration of the latency for initiator={initiator} and target={target}"
    )]
    HmatDuplicateLatency {
        /// Initiator.
        initiator: u16,
        /// Target.
        target: u16,
    },
    /// A latency that does not compress into 16 bits with the others.
    #[error("Latency {latency} between initiator={initiator} and target={target} should not differ from previously entered min or max values on more than 65534")]
    HmatLatencyRange {
        /// The latency.
        latency: u64,
        /// Initiator.
        initiator: u16,
        /// Target.
        target: u16,
    },
    /// A bandwidth not a multiple of 1 MiB/s.
    #[error("Bandwidth {bandwidth} between initiator={initiator} and target={target} should be 1MB aligned")]
    HmatBandwidthAlign {
        /// The bandwidth.
        bandwidth: u64,
        /// Initiator.
        initiator: u16,
        /// Target.
        target: u16,
    },
    /// The same (initiator, target) bandwidth twice.
    #[error(
        "Duplicate configuration of the bandwidth for initiator={initiator} and target={target}"
    )]
    HmatDuplicateBandwidth {
        /// Initiator.
        initiator: u16,
        /// Target.
        target: u16,
    },
    /// A bandwidth that does not compress into 16 bits with the others.
    #[error("Bandwidth {bandwidth} between initiator={initiator} and target={target} should not differ from previously entered values on more than 65534")]
    HmatBandwidthRange {
        /// The bandwidth.
        bandwidth: u64,
        /// Initiator.
        initiator: u16,
        /// Target.
        target: u16,
    },
    /// hmat-cache node beyond the node count.
    #[error("Invalid node-id={node}, it should be less than {nodes}")]
    CacheNodeRange {
        /// The node.
        node: u32,
        /// Nodes so far.
        nodes: u32,
    },
    /// hmat-cache before the node's latency and bandwidth.
    #[error("The latency and bandwidth information of node-id={node} should be provided before memory side cache attributes")]
    CacheNeedsLb {
        /// The node.
        node: u32,
    },
    /// hmat-cache level outside 1..=3.
    #[error("Invalid level={level}, it should be larger than 0 and less than or equal to 3")]
    CacheLevel {
        /// The level.
        level: u8,
    },
    /// The same (node, level) cache twice.
    #[error("Duplicate configuration of the side cache for node-id={node} and level={level}")]
    CacheDuplicate {
        /// The node.
        node: u32,
        /// The level.
        level: u8,
    },
    /// A cache level before the level below it.
    #[error("Cache level={level} shall be defined first")]
    CacheLevelMissing {
        /// The missing level.
        level: u8,
    },
    /// A cache not larger than the level below.
    #[error("Invalid size={size}, the size of level={level} should be larger than the size({lower}) of level={lower_level}")]
    CacheSmallerThanLower {
        /// The size.
        size: u64,
        /// Its level.
        level: u8,
        /// The size of the level below.
        lower: u64,
        /// The level below.
        lower_level: u8,
    },
    /// A cache not smaller than the level above.
    #[error("Invalid size={size}, the size of level={level} should be less than the size({upper}) of level={upper_level}")]
    CacheLargerThanUpper {
        /// The size.
        size: u64,
        /// Its level.
        level: u8,
        /// The size of the level above.
        upper: u64,
        /// The level above.
        upper_level: u8,
    },
    /// Node ids with a hole.
    #[error("numa: Node ID missing: {node}")]
    NodeIdMissing {
        /// The largest missing id.
        node: u16,
    },
    /// Node memory does not add up to the RAM size.
    #[error("total memory for NUMA nodes (0x{sum:x}) should equal RAM size (0x{ram:x})")]
    TotalMemory {
        /// The sum of node memory.
        sum: u64,
        /// The RAM size.
        ram: u64,
    },
    /// `-machine memory-backend` and `-numa memdev` together.
    #[error("'-machine memory-backend' and '-numa memdev' properties are mutually exclusive")]
    MemoryBackendAndMemdev,
    /// A backend used by two consumers.
    #[error("memory backend {id} can't be used multiple times.")]
    BackendUsedTwice {
        /// The backend.
        id: String,
    },
    /// A node pair without any distance.
    #[error("The distance between node {a} and {b} is missing, at least one distance value between each nodes should be provided.")]
    DistanceMissing {
        /// Lower node.
        a: u16,
        /// Higher node.
        b: u16,
    },
    /// Asymmetric distances with a direction missing.
    #[error("At least one asymmetrical pair of distances is given, please provide distances for both directions of all node pairs.")]
    AsymmetricDistanceMissing,
    /// An initiator that is not a node.
    #[error("NUMA node {initiator} is missing, use '-numa node' option to declare it first")]
    InitiatorNodeMissing {
        /// The initiator.
        initiator: u16,
    },
    /// An initiator without CPUs.
    #[error("The initiator of NUMA node {node} is invalid")]
    InitiatorInvalid {
        /// The node whose initiator it is.
        node: u16,
    },
    /// `-m slots=/maxmem=` on a machine type without a hotplug window.
    #[error("\"-memory 'slots|maxmem'\" is not supported by: {machine}")]
    MemoryHotplugNotSupported {
        /// The machine type.
        machine: String,
    },
    /// More DIMM slots than ACPI allows.
    #[error("unsupported amount of memory slots: {slots}")]
    UnsupportedSlots {
        /// The slots.
        slots: u64,
    },
    /// maxmem not a multiple of the page size.
    #[error("maximum memory size must by aligned to multiple of 4096 bytes")]
    MaxmemAlignment,
    /// A hotplug window past the end of the address space.
    #[error("unsupported amount of maximum memory: 0x{max:x}")]
    UnsupportedMaxmem {
        /// maxmem.
        max: u64,
    },
    /// `-machine max-ram-below-4g=` above 4 GiB.
    #[error("Machine option 'max-ram-below-4g={value}' expects size less than or equal to 4G")]
    MaxRamBelow4g {
        /// The value.
        value: u64,
    },
    /// A DIMM on a node that does not exist.
    #[error(
        "'DIMM property node has value {node}' which exceeds the number of numa nodes: {nodes}"
    )]
    DimmNode {
        /// The node.
        node: u32,
        /// Node count (1 without NUMA).
        nodes: u32,
    },
    /// A DIMM outside the hotplug window (or of size 0).
    #[error("DIMM [0x{addr:x}, +0x{size:x}) is not inside the device memory window")]
    DimmRange {
        /// Address.
        addr: u64,
        /// Size.
        size: u64,
    },
    /// A DIMM overlapping another.
    #[error("DIMM [0x{addr:x}, +0x{size:x}) overlaps the DIMM at 0x{existing:x}")]
    DimmOverlap {
        /// Address.
        addr: u64,
        /// Size.
        size: u64,
        /// Start of the DIMM it overlaps.
        existing: u64,
    },
    /// The 2016 seed profile's own rules ([`crate::seed::SeedError`]).
    #[cfg(feature = "seed2016")]
    #[error(transparent)]
    Seed(#[from] crate::seed::SeedError),
    /// APIC ids past what the legacy CPU hotplug description covers
    /// (x86 machine types up to 2.6).
    #[error("max_cpus is too large. APIC ID of last CPU is {last}")]
    ApicIdTooLarge {
        /// The last CPU's APIC id.
        last: u32,
    },
    /// Two objects with one id (one of them in JSON form).
    #[error("attempt to add duplicate property '{id}' to object (type 'container')")]
    DuplicateObjectId {
        /// The id.
        id: String,
    },
    /// A backend's `prealloc-context` naming an object that is no
    /// `thread-context`.
    #[error("Invalid parameter type for 'prealloc-context', expected: thread-context")]
    PreallocContextType,
    /// `acpi-generic-initiator` `node=` of 128 or more (QEMU 10.0 prints
    /// it without its program name and exits).
    #[error("acpi-generic-initiator: Invalid NUMA node specified")]
    GenericInitiatorNodeLimit,
    /// `acpi-generic-initiator` `node=` not below the number of nodes
    /// (QEMU compares with the count, so a sparse id above it is refused
    /// too), found when the SRAT is built.
    #[error("acpi-generic-initiator: Specified node {node} is invalid.")]
    GenericInitiatorNode {
        /// `node`.
        node: u32,
    },
    /// `acpi-generic-port` `node=` not below the number of nodes.
    #[error("acpi-generic-port: node {node} is invalid.")]
    GenericPortNode {
        /// `node`.
        node: u32,
    },
    /// `acpi-generic-port` `pci-bus=` that names no CXL host bridge
    /// (`pxb-cxl`).
    #[error("acpi-generic-port: device must be a CXL host bridge.")]
    GenericPortNotCxl,
    /// A PCI expander bridge (`pxb`, `pxb-pcie`, `pxb-cxl`) on a bus of
    /// the other kind: `pxb` needs conventional PCI (pc), the others PCIe
    /// (q35).
    #[error("{driver} devices cannot reside on a {bus} bus")]
    PxbWrongBus {
        /// The model.
        driver: String,
        /// `PCI` or `PCIe`.
        bus: &'static str,
    },
    /// A PCI expander bridge's `numa_node` that is not below the number
    /// of nodes (QEMU 7.2 crashes on this one).
    #[error("Illegal numa node {node}")]
    PxbNumaNode {
        /// `numa_node`.
        node: u16,
    },
    /// Two PCI expander bridges with one `bus_nr`.
    #[error("Bus {bus} is already in use")]
    PxbBusInUse {
        /// `bus_nr`.
        bus: u8,
    },
    /// A device that is not a bridge on a PCIe expander bridge's bus
    /// (where a device without `bus=` lands after one).
    #[error("PCI: Only PCI/PCIe bridges can be plugged into {driver}")]
    PxbBridgesOnly {
        /// The expander bridge's model.
        driver: String,
    },
    /// A device property that does not type (`bus_nr=300`: `uint8_t`,
    /// `bus_nr=x`: `integer`).
    #[error("Parameter '{key}' expects {expected}")]
    DeviceProperty {
        /// The property.
        key: String,
        /// What it takes.
        expected: &'static str,
    },
    /// `pxb-cxl` without `-machine cxl=on`.
    #[error("CXL host bridges present, but cxl=off")]
    CxlOff,
    /// A `cxl-fmw` target that names no `pxb-cxl`.
    #[error("Could not resolve CXLFM target {target}")]
    CxlTarget {
        /// The target as written.
        target: String,
    },
    /// A `cxl-fmw` with a number of targets CXL cannot interleave over
    /// (1, 2, 3, 4, 6, 8, 12 or 16).
    #[error("Interleave ways: {ways} not supported")]
    CxlInterleaveWays {
        /// The number of targets.
        ways: usize,
    },
    /// A `cxl-fmw` `interleave-granularity` other than 256 B to 16 KiB in
    /// powers of two.
    #[error("Interleave granularity: {value} invalid")]
    CxlGranularity {
        /// The value in bytes.
        value: u64,
    },
    /// A `cxl-fmw` size that is not a multiple of 256 MiB (QEMU 7.2's text
    /// has a typo, kept).
    #[error(
        "Size of a CXL fixed memory window must {} a multiple of 256MiB",
        if *qemu72 { "my" } else { "be" }
    )]
    CxlWindowSize {
        /// Word it as QEMU 7.2 does.
        qemu72: bool,
    },
    /// `acpi-generic-initiator` `pci-dev=` that names no PCI device.
    #[error("acpi-generic-initiator: Specified device must be a PCI device.")]
    GenericInitiatorNotPci,
    /// vnuma does not know the PCI address QEMU gives the device a
    /// generic initiator names (behind a bridge, default devices without
    /// `-nodefaults`, a JSON `-device`).
    #[error("acpi-generic-initiator: the PCI address of device '{device}' is not modelled ({reason}); give it addr= on the root bus, or -nodefaults")]
    GenericInitiatorAddress {
        /// `pci-dev`.
        device: String,
        /// Why.
        reason: &'static str,
    },
    /// Two devices at one PCI address of the root bus.
    #[error("PCI: slot {slot} function {function} not available for {driver}, in use by {user}")]
    PciSlotInUse {
        /// The slot.
        slot: u8,
        /// The function.
        function: u8,
        /// The model of the device being added.
        driver: String,
        /// `MODEL,id=ID` of the device there (`id=(null)` for the board's).
        user: String,
    },
    /// A `-device` naming an object that does not exist.
    #[error("Device '{id}' not found")]
    DeviceNotFound {
        /// The name as written.
        id: String,
    },
    /// A DIMM on an x86 machine without ACPI.
    #[error("memory hotplug is not enabled: missing acpi device or acpi disabled")]
    MemoryHotplugNoAcpi,
    /// An `nvdimm` without `-machine nvdimm=on`.
    #[error("nvdimm is not enabled: missing 'nvdimm' in '-M'")]
    NvdimmNotEnabled,
    /// A memory device without a backend.
    #[error("'memdev' property must be set")]
    MemdevNotSet,
    /// A DIMM without `-m slots=`.
    #[error("no slots where allocated, please specify the 'slots' option")]
    NoSlots,
    /// A DIMM slot out of range.
    #[error("invalid slot number {slot}, valid range is [0-{max}]")]
    SlotRange {
        /// The slot asked for.
        slot: i64,
        /// The last slot.
        max: u64,
    },
    /// A DIMM slot taken.
    #[error("slot {slot} is busy")]
    SlotBusy {
        /// The slot.
        slot: i64,
    },
    /// Every DIMM slot taken.
    #[error("no free slots available")]
    NoFreeSlots,
    /// A memory device without a device-memory window.
    #[error("memory devices (e.g. for memory hotplug) are not enabled, please specify the maxmem option")]
    DeviceMemoryDisabled,
    /// [`ErrorKind::DeviceMemoryDisabled`] in QEMU 10.0's words.
    #[error("the configuration is not prepared for memory devices (e.g., for memory hotplug), consider specifying the maxmem option")]
    DeviceMemoryNotPrepared,
    /// A device alignment the window's start does not have.
    #[error("the alignment (0x{align:x}) is not supported")]
    DeviceAlignment {
        /// The alignment.
        align: u64,
    },
    /// Memory devices larger than `maxmem - size`.
    #[error("not enough space, currently 0x{used:x} in use of total space for memory devices 0x{total:x}")]
    DeviceSpace {
        /// Bytes already in use.
        used: u64,
        /// `maxmem - size`.
        total: u64,
    },
    /// A device address not aligned.
    #[error("address must be aligned to 0x{align:x} bytes")]
    DeviceAddrAlign {
        /// The alignment.
        align: u64,
    },
    /// A device size not a multiple of its alignment.
    #[error("backend memory size must be multiple of 0x{align:x}")]
    DeviceSizeAlign {
        /// The alignment.
        align: u64,
    },
    /// A device address outside the window.
    #[error("can't add memory device [0x{addr:x}:0x{size:x}], usable range for memory devices [0x{base:x}:0x{window:x}]")]
    DeviceOutsideWindow {
        /// The address asked for.
        addr: u64,
        /// The device's size.
        size: u64,
        /// The window's start.
        base: u64,
        /// The window's size.
        window: u64,
    },
    /// A device address overlapping another device.
    #[error("address range conflicts with memory device id='{id}'")]
    DeviceConflict {
        /// The other device's id (`(unnamed)`).
        id: String,
    },
    /// No room left for a device.
    #[error("could not find position in guest address space for memory device - memory fragmented due to alignments")]
    DeviceFragmented,
    /// A backend already in use.
    #[error("can't use already busy memdev: {memdev}")]
    MemdevBusy {
        /// The backend.
        memdev: String,
    },
    /// A backend the host cannot provide, found by
    /// [`crate::Config::backend_check`] (QEMU's message).
    #[error("{message}")]
    BackendCreation {
        /// The message.
        message: String,
    },
    /// The highest guest-physical address in use past the CPU's physical
    /// address width.
    #[error("Address space limit 0x{limit:x} < 0x{used:x} phys-bits too low ({bits})")]
    PhysBitsTooLow {
        /// `2^bits - 1`.
        limit: u64,
        /// The highest address in use.
        used: u64,
        /// The CPU model's physical address bits.
        bits: u8,
    },
    /// `-machine acpi=` neither on, off nor auto.
    #[error("Parameter 'acpi' does not accept value '{value}'")]
    AcpiValue {
        /// The value.
        value: String,
    },
    /// A virtio memory device on a backend already in use.
    #[error("'memdev' property specifies a busy memdev: {memdev}")]
    VirtioMemdevBusy {
        /// The backend.
        memdev: String,
    },
    /// A virtio-mem device on a preallocated backend (QEMU 10.0; the
    /// device preallocates what it plugs itself). QEMU's text, its
    /// trailing space included.
    #[error("'memdev' property specifies a memdev with preallocation enabled: {memdev}. Instead, specify 'prealloc=on' for the virtio-mem device. ")]
    VirtioMemdevPrealloc {
        /// The backend.
        memdev: String,
    },
    /// A virtio-mem device on a node that does not exist (QEMU's text,
    /// missing space included).
    #[error("'node' property has value '{node}', which exceedsthe number of numa nodes: {nodes}")]
    VirtioMemNodeRange {
        /// The node.
        node: u32,
        /// The node count.
        nodes: u32,
    },
    /// A virtio-mem backend whose size is not in blocks (QEMU 10.0's
    /// check and words, its missing space included).
    #[error("'memdev' property memdev size has to be multiples of'block-size' (0x{block_size:x})")]
    VirtioMemdevBlockSize {
        /// The block size.
        block_size: u64,
    },
    /// A virtio-mem requested size not in blocks.
    #[error("'requested-size' property has to be multiples of 'block-size' (0x{block_size:x})")]
    VirtioMemRequestedSize {
        /// The block size.
        block_size: u64,
    },
    /// An NVDIMM backend too small for its label and one aligned page.
    #[error("the size of memdev {memdev} (0x{size:x}) is too small to contain nvdimm label (0x{label:x}) and aligned PMEM (0x{align:x})")]
    NvdimmTooSmall {
        /// The backend.
        memdev: String,
        /// Its size.
        size: u64,
        /// The label size.
        label: u64,
        /// The alignment.
        align: u64,
    },
    /// A machine model that cannot work (a VMM's own board).
    #[error("invalid board: {field} {reason}")]
    InvalidBoard {
        /// The model's field.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// More nodes than the board allows.
    #[error("{count} NUMA nodes, but the board allows at most {max}")]
    TooManyNodes {
        /// Nodes described.
        count: usize,
        /// The board's limit.
        max: u32,
    },
    /// Two nodes with one id.
    #[error("node id {id} is used by more than one node")]
    NodeIdRepeated {
        /// The id.
        id: u32,
    },
    /// A memory zone of size 0.
    #[error("a memory zone must not be empty")]
    ZoneEmpty,
    /// RAM that runs past the end of the guest-physical address space.
    #[error("guest RAM runs past the end of the address space")]
    RamTooLarge,
    /// RAM that does not fit in the board's explicit RAM ranges.
    #[error("guest RAM of 0x{size:x} bytes does not fit in the board's RAM ranges")]
    RamDoesNotFit {
        /// The RAM size.
        size: u64,
    },
    /// A zone and its backend differ in size.
    #[error("memory zone of 0x{zone:x} bytes, but its backend '{id}' has 0x{backend:x}")]
    ZoneBackendSize {
        /// The backend.
        id: String,
        /// Its size.
        backend: u64,
        /// The zone's size.
        zone: u64,
    },
    /// No RAM size and no nodes to take it from.
    #[error("the RAM size is needed when there are no nodes")]
    RamSizeMissing,
    /// RAM not a multiple of the board's alignment.
    #[error("RAM size 0x{size:x} is not a multiple of the board's alignment 0x{align:x}")]
    RamAlign {
        /// The RAM size.
        size: u64,
        /// The alignment.
        align: u64,
    },
    /// Two zones (or a zone and RAM) overlap.
    #[error("memory at 0x{addr:x} overlaps memory at 0x{other:x}")]
    ZoneOverlap {
        /// Start of the zone placed second.
        addr: u64,
        /// Start of what it overlaps.
        other: u64,
    },
    /// A zone at a fixed address inside an MMIO gap.
    #[error("memory at 0x{addr:x} lies in the MMIO gap at 0x{gap:x}")]
    ZoneInGap {
        /// The zone's address.
        addr: u64,
        /// The gap's start.
        gap: u64,
    },
    /// A CPU topology whose members do not multiply to its CPUs.
    #[error("sockets ({sockets}) * dies ({dies}) * clusters ({clusters}){} * cores ({cores}) * threads ({threads}) != maxcpus ({max_cpus})", modules_text(*.modules))]
    CpuTopologyMismatch {
        /// Sockets.
        sockets: u32,
        /// Dies per socket.
        dies: u32,
        /// Clusters per die.
        clusters: u32,
        /// Modules per cluster (shown when not 1).
        modules: u32,
        /// Cores per cluster.
        cores: u32,
        /// Threads per core.
        threads: u32,
        /// Possible CPUs.
        max_cpus: u32,
    },
    /// CPU counts out of the board's limits.
    #[error("{cpus} CPUs of {max_cpus} possible: need 1 <= CPUs <= possible <= {board_max}")]
    CpuCount {
        /// Present CPUs.
        cpus: u32,
        /// Possible CPUs.
        max_cpus: u32,
        /// The board's limit.
        board_max: u32,
    },
    /// A node lists a CPU that does not exist.
    #[error("CPU index {cpu} is out of range: the guest has {max_cpus} possible CPUs")]
    CpuOutOfRange {
        /// The CPU index.
        cpu: u32,
        /// Possible CPUs.
        max_cpus: u32,
    },
    /// A CPU on two nodes.
    #[error("CPU {cpu} is on node {first} and on node {second}")]
    CpuInTwoNodes {
        /// The CPU index.
        cpu: u32,
        /// The first node.
        first: u32,
        /// The second node.
        second: u32,
    },
    /// Some CPUs placed on nodes, but not this one.
    #[error("CPU {cpu} is on no node (once any CPU is placed, every CPU must be)")]
    CpuUnmapped {
        /// The CPU index.
        cpu: u32,
    },
    /// A distance naming a node that does not exist.
    #[error("distance to or from node {node}, which does not exist")]
    DistanceUnknownNode {
        /// The node id.
        node: u32,
    },
    /// A node's distance to itself other than 10.
    #[error("the distance from node {node} to itself must be 10, not {val}")]
    LocalDistanceNot10 {
        /// The node.
        node: u32,
        /// The value.
        val: u8,
    },
    /// A distance the policy requires but nobody gave.
    #[error("the distance from node {a} to node {b} is missing")]
    DistanceNotGiven {
        /// From.
        a: u32,
        /// To.
        b: u32,
    },
    /// An HMAT initiator that is no node.
    #[error("the initiator {initiator} of node {node} is not a node")]
    InitiatorUnknown {
        /// The node.
        node: u32,
        /// Its initiator.
        initiator: u32,
    },
    /// An HMAT initiator without CPUs or devices.
    #[error("the initiator {initiator} of node {node} has no CPUs and no devices")]
    InitiatorWithoutCpu {
        /// The node.
        node: u32,
        /// Its initiator.
        initiator: u32,
    },
    /// HMAT data about a node that does not exist.
    #[error("HMAT data names node {node}, which does not exist")]
    HmatUnknownNode {
        /// The node id.
        node: u32,
    },
    /// A rule of QEMU's aarch64 `virt` board (QEMU's text).
    #[error("{0}")]
    Virt(#[from] crate::virt::VirtError),
}

impl ErrorKind {
    /// The key of the option item the error is about, when it is about one
    /// (`nodeid` for `Duplicate NUMA nodeid`), so a caller can point at it.
    pub fn key(&self) -> Option<&'static str> {
        Some(match self {
            ErrorKind::MaxNodes { .. } | ErrorKind::DuplicateNode { .. } => "nodeid",
            ErrorKind::InitiatorOutOfRange { .. } => "initiator",
            ErrorKind::CpuIndexTooLarge { .. } => "cpus",
            ErrorKind::MixedMemAndMemdev | ErrorKind::MemNotSupported => "mem",
            ErrorKind::MemdevAmbiguous { .. } => "memdev",
            ErrorKind::DistNodeOutOfRange { key } => key,
            ErrorKind::DistanceTooSmall { .. } | ErrorKind::LocalDistance { .. } => "val",
            ErrorKind::CpuUndefinedNode { .. } => "node-id",
            ErrorKind::CpuPropertyNotSupported { property } => property,
            ErrorKind::HmatInitiatorRange { .. } | ErrorKind::HmatNotInitiator { .. } => {
                "initiator"
            }
            ErrorKind::HmatTargetRange { .. } | ErrorKind::HmatTargetMissing { .. } => "target",
            ErrorKind::HmatBandwidthForLatency
            | ErrorKind::HmatBandwidthAlign { .. }
            | ErrorKind::HmatBandwidthRange { .. } => "bandwidth",
            ErrorKind::HmatLatencyForBandwidth | ErrorKind::HmatLatencyRange { .. } => "latency",
            ErrorKind::HmatMissingLatency | ErrorKind::HmatMissingBandwidth => "data-type",
            ErrorKind::CacheNodeRange { .. } | ErrorKind::CacheNeedsLb { .. } => "node-id",
            ErrorKind::CacheLevel { .. }
            | ErrorKind::CacheDuplicate { .. }
            | ErrorKind::CacheLevelMissing { .. } => "level",
            ErrorKind::CacheSmallerThanLower { .. } | ErrorKind::CacheLargerThanUpper { .. } => {
                "size"
            }
            _ => return None,
        })
    }
}

/// A resolution error: what ([`ErrorKind`], QEMU's text) and, for errors
/// QEMU reports while applying an option, the option ([`Location`]).
///
/// `source()` is the error underneath the kind, such as the option error
/// of [`ErrorKind::Options`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(Box<Inner>);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.kind.fmt(f)
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        core::error::Error::source(&self.0.kind)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Inner {
    kind: ErrorKind,
    location: Option<Location>,
    span: Option<Span>,
    path: Option<String>,
    device: Option<usize>,
}

impl Error {
    /// An error without location.
    pub fn new(kind: ErrorKind) -> Self {
        Error(Box::new(Inner {
            kind,
            location: None,
            span: None,
            path: None,
            device: None,
        }))
    }

    /// An error raised while applying the option at `location`.
    pub fn at(kind: ErrorKind, location: &Location) -> Self {
        Error(Box::new(Inner {
            kind,
            location: Some(location.clone()),
            span: None,
            path: None,
            device: None,
        }))
    }

    /// An error about the option item at `span` of the option at
    /// `location`.
    pub fn at_item(kind: ErrorKind, location: &Location, span: Option<Span>) -> Self {
        Error(Box::new(Inner {
            kind,
            location: Some(location.clone()),
            span,
            path: None,
            device: None,
        }))
    }

    /// An error about a field of a [`crate::config::NumaConfig`], by its
    /// path (`nodes[2].memory[0].size`).
    pub fn in_field(kind: ErrorKind, path: impl Into<String>) -> Self {
        Error(Box::new(Inner {
            kind,
            location: None,
            span: None,
            path: Some(path.into()),
            device: None,
        }))
    }

    /// An error about memory device `index` of a description.
    pub(crate) fn in_device(kind: ErrorKind, index: usize) -> Self {
        let mut e = Error::in_field(kind, crate::devices::path(index));
        e.0.device = Some(index);
        e
    }

    /// The memory device at fault, by position, for errors plugging one.
    pub fn device_index(&self) -> Option<usize> {
        self.0.device
    }

    /// The error without its path (a front end whose user did not write
    /// the description).
    pub(crate) fn without_path(mut self) -> Self {
        self.0.path = None;
        self
    }

    /// The field of the description at fault, as a path such as
    /// `nodes[2].memory[0].size`, for errors about a described
    /// configuration.
    pub fn path(&self) -> Option<&str> {
        self.0.path.as_deref()
    }

    /// The bytes of the option's argument the error is about: the item it
    /// blames, or the whole argument; `None` without an option.
    pub fn span(&self) -> Option<Span> {
        match &self.0.kind {
            ErrorKind::Options(e) if e.location().is_some() => Some(e.span()),
            _ => {
                let arg = self.location()?.arg()?;
                Some(self.0.span.unwrap_or(Span::new(0, arg.len())))
            }
        }
    }

    /// What is wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// The option QEMU would name, if any.
    pub fn location(&self) -> Option<&Location> {
        match &self.0.kind {
            ErrorKind::Options(e) => e.location(),
            _ => self.0.location.as_ref(),
        }
    }

    /// The line QEMU prints after the message, if any.
    pub fn hint(&self) -> Option<&'static str> {
        match &self.0.kind {
            ErrorKind::Options(e) => e.hint(),
            ErrorKind::UnsupportedMachineType { .. }
            | ErrorKind::UnsupportedMachineTypeNamed { .. } => {
                Some("Use -machine help to list supported machines")
            }
            ErrorKind::MemNotSupported => Some("Use -numa node,memdev instead"),
            ErrorKind::Virt(v) => v.hint(),
            _ => None,
        }
    }

    /// `{location}: {message}` or `{message}`, as QEMU prints it after the
    /// program name.
    pub fn display_qemu(&self) -> impl fmt::Display + '_ {
        DisplayQemu(self)
    }
}

struct DisplayQemu<'a>(&'a Error);

impl fmt::Display for DisplayQemu<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.0;
        match (&e.0.path, e.location()) {
            (Some(path), None) => write!(f, "{path}: {}", e.0.kind),
            (_, location) => vnuma_options::error::qemu_line(location, false, &e.0.kind).fmt(f),
        }
    }
}

impl From<vnuma_options::Error> for Error {
    fn from(e: vnuma_options::Error) -> Self {
        Error::new(ErrorKind::Options(e))
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error::new(kind)
    }
}

/// What QEMU warns about while resolving. `Display` is QEMU's text
/// without `warning:`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WarningKind {
    /// A warning from reading the options.
    Options(vnuma_options::Warning),
    /// A `-smp` warning.
    Smp(SmpWarning),
    /// `-numa node,mem=` on a machine type that still accepts it.
    MemDeprecated,
    /// CPUs left out of a partial mapping (QEMU's list text).
    CpusNotPresent {
        /// `CPU 2 [socket-id: 2, core-id: 0, thread-id: 0], ...`
        list: String,
    },
    /// The second line of that warning.
    PartialMappingObsolete,
    /// A machine type QEMU deprecates (7.2: pc-i440fx 1.4–1.7; 10.0:
    /// every type of 7.0 and older).
    DeprecatedMachine {
        /// Its name.
        name: String,
        /// QEMU's reason ([`crate::machine::MachineModel::deprecation_reason`]).
        reason: &'static str,
    },
    /// `-machine max-ram-below-4g=` below 1 MiB.
    LowRamBelow4g {
        /// The value.
        value: u64,
    },
    /// i440FX: large RAM and a `max-ram-below-4g` not a multiple of 1 GiB.
    I440fxLowmemAlign {
        /// The value.
        value: u64,
    },
    /// q35: RAM over twice `max-ram-below-4g`, which is not GiB-aligned.
    Q35LowmemAlign {
        /// RAM size.
        ram: u64,
        /// The value.
        value: u64,
    },
    /// A virtio-mem `block-size` below the default (2 MiB).
    VirtioMemSmallBlock,
    /// virtio-mem discards all its memory when realized; on a private
    /// mapping of a file (a `memory-backend-file` or `-memfd` with
    /// `share=off`) QEMU 8.1 and later warn, once per process.
    DiscardPrivateFileMapping,
    /// A warning of the 2016 seed profile.
    #[cfg(feature = "seed2016")]
    Seed(crate::seed::SeedWarning),
}

impl fmt::Display for WarningKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WarningKind::VirtioMemSmallBlock => f.write_str(
                "'block-size' property is smaller than the default block size (2 MiB)",
            ),
            WarningKind::DiscardPrivateFileMapping => f.write_str(
                "ram_block_discard_range: Discarding RAM in private file mappings is possibly dangerous, because it will modify the underlying file and will affect other users of the file",
            ),
            WarningKind::Options(w) => fmt::Display::fmt(w, f),
            WarningKind::Smp(w) => fmt::Display::fmt(w, f),
            WarningKind::MemDeprecated => {
                f.write_str("Parameter -numa node,mem is deprecated, use -numa node,memdev instead")
            }
            WarningKind::CpusNotPresent { list } => write!(f, "CPU(s) not present in any NUMA nodes: {list}"),
            WarningKind::PartialMappingObsolete => f.write_str(
                "All CPU(s) up to maxcpus should be described in NUMA config, ability to start up with partial NUMA mappings is obsoleted and will be removed in future",
            ),
            WarningKind::DeprecatedMachine { name, reason } => {
                write!(f, "Machine type '{name}' is deprecated: {reason}")
            }
            WarningKind::LowRamBelow4g { value } => write!(
                f,
                "Only {value} bytes of RAM below the 4GiB boundary,BIOS may not work with less than 1MiB"
            ),
            WarningKind::I440fxLowmemAlign { value } => write!(
                f,
                "Large machine and max_ram_below_4g ({value}) not a multiple of 1G; possible bad performance."
            ),
            WarningKind::Q35LowmemAlign { ram, value } => write!(
                f,
                "There is possibly poor performance as the ram size  (0x{ram:x}) is more then twice the size of max-ram-below-4g ({value}) and max-ram-below-4g is not a multiple of 1G."
            ),
            #[cfg(feature = "seed2016")]
            WarningKind::Seed(w) => w.fmt(f),
        }
    }
}

/// A warning and the option it belongs to, if QEMU names one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Warning {
    kind: WarningKind,
    location: Option<Location>,
}

impl Warning {
    pub(crate) fn new(kind: WarningKind, location: Option<&Location>) -> Self {
        Warning {
            kind,
            location: location.cloned(),
        }
    }

    /// What it is about.
    pub fn kind(&self) -> &WarningKind {
        &self.kind
    }

    /// The option QEMU names, if any.
    pub fn location(&self) -> Option<&Location> {
        match &self.kind {
            WarningKind::Options(w) => w.location(),
            _ => self.location.as_ref(),
        }
    }

    /// A line QEMU prints after the warning, if any.
    pub fn hint(&self) -> Option<String> {
        match &self.kind {
            WarningKind::Options(w) => w.hint(),
            _ => None,
        }
    }

    /// `{location}: warning: {message}` as QEMU prints it after the
    /// program name.
    pub fn display_qemu(&self) -> impl fmt::Display + '_ {
        vnuma_options::error::qemu_line(self.location(), true, &self.kind)
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.kind, f)
    }
}

impl From<vnuma_options::Warning> for Warning {
    fn from(w: vnuma_options::Warning) -> Self {
        Warning {
            kind: WarningKind::Options(w),
            location: None,
        }
    }
}

/// ` * modules (N)` when a topology has other than one module.
fn modules_text(modules: u32) -> String {
    if modules == 1 {
        String::new()
    } else {
        alloc::format!(" * modules ({modules})")
    }
}
