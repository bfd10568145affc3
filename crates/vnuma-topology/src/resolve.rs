//! From a command line to a [`Topology`], in QEMU 7.2's order.
//!
//! QEMU reports the first error it meets, and what it meets first depends
//! on when it checks what. The phases, in order:
//!
//! 1. reading argv (done by `vnuma_options::CommandLine::parse`);
//! 2. choosing the machine type;
//! 3. setting the machine properties: their types, `-smp`, `-m`;
//! 4. creating the memory backends (their property checks);
//! 5. resolving `-machine memory-backend`;
//! 6. applying each `-numa` in command-line order (typing, then §2 rules);
//! 7. board init: the machine backend's size, the reserved RAM id;
//! 8. completion (§3): automatic node, sparse ids, memory total, memdev
//!    use, distances, CPU mapping, HMAT initiators.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use vnuma_options::{CommandLine, MachineOptions, MemoryBackendOptions, NumaOptions};

use crate::config::{
    board_slots, Distances, HostMemory, MemoryDeviceConfig, MemoryDeviceKind, MemoryZone,
    NodeConfig, NumaConfig, RamConfig,
};
use crate::cpu::{self, CpuSlot};
use crate::error::{Error, ErrorKind, Warning, WarningKind};
use crate::machine::{Chipset, DefaultCpuNode, MachineModel, RamLayout};
use crate::numa::{NumaState, NO_INITIATOR};
use crate::topology::{Hmat, Node, Topology};

/// How to resolve (`Config { profile, ..Config::default() }` or
/// [`Config::with_machine`]).
#[derive(Clone, Default)]
pub struct Config {
    /// Use this machine model instead of looking up `-machine type=`
    /// (a VMM's own board).
    pub machine: Option<MachineModel>,
    /// Which QEMU's NUMA rules.
    pub profile: Profile,
    /// Checks to make when QEMU creates each memory backend, after its
    /// property checks: the host-side ones (its `mem-path`, host nodes,
    /// room), which this crate never makes itself. Its error (QEMU's
    /// message) is reported where QEMU reports it, before `-numa` is
    /// applied. `vnuma::Vm::with_host_checks` passes vnuma-backend's
    /// planning, which reads the host but maps nothing.
    pub backend_check: Option<BackendCheck>,
    /// Which `qemu-system-*` the command line is for (default x86_64);
    /// `Aarch64` looks machine types up in the `virt` table
    /// ([`crate::virt`]). Ignored when [`Config::machine`] is given.
    pub target: crate::machine::Target,
    /// The guest has firmware (`-bios`, `-pflash`, `-drive if=pflash`),
    /// which `vnuma_options::CommandLine` does not keep: on `virt`, memory
    /// hotplug needs it. `vnuma::Vm::for_qemu_target` sets it from argv
    /// ([`crate::virt::has_firmware`]); `-machine pflash0=`/`firmware=`
    /// count without it.
    pub firmware: bool,
}

/// A check of one memory backend against the host (see
/// [`Config::backend_check`]); `Err` holds QEMU's message.
pub type BackendCheck =
    alloc::sync::Arc<dyn Fn(&MemoryBackendOptions) -> Result<(), String> + Send + Sync>;

impl core::fmt::Debug for Config {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Config")
            .field("machine", &self.machine)
            .field("profile", &self.profile)
            .field("backend_check", &self.backend_check.is_some())
            .field("target", &self.target)
            .field("firmware", &self.firmware)
            .finish()
    }
}

/// Which QEMU's NUMA rules to apply.
///
/// A QEMU release decides the machine-type table (which types exist,
/// what `pc`/`q35` stand for), the compat flags that follow from it, the
/// deprecation rule, and `-smp`'s checks and messages. The default stays
/// QEMU 7.2, the reference this crate was written against.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Profile {
    /// QEMU 7.2 (the reference).
    #[default]
    Qemu72,
    /// QEMU 10.0: machine types `pc-i440fx-2.4`/`pc-q35-2.4` to `10.0`
    /// (`pc`/`q35` are 10.0), types of 7.0 and older deprecated, `-smp`
    /// with modules and a zero member an error, q35 with up to 4096 CPUs.
    Qemu100,
    /// The 2016 `numa.c` vnuma started from (feature `seed2016`): only
    /// `-numa node`; `memdev`
    /// on all nodes or none; a CPU listed in two nodes is reported after
    /// all options; with no memory given, RAM is split in 8 MiB-aligned
    /// shares with the rest on the last node; its messages.
    #[cfg(feature = "seed2016")]
    Seed2016,
}

impl Profile {
    /// The QEMU release whose rules this is (`None` for the 2016 seed).
    pub fn qemu_version(self) -> Option<crate::machine::Version> {
        match self {
            Profile::Qemu72 => Some(crate::machine::QEMU_7_2),
            Profile::Qemu100 => Some(crate::machine::QEMU_10_0),
            #[cfg(feature = "seed2016")]
            Profile::Seed2016 => None,
        }
    }

    /// The profile for a QEMU release `major.minor` (any micro): 7.2 or
    /// 10.0.
    pub fn for_qemu(major: u8, minor: u8) -> Option<Profile> {
        match (major, minor) {
            (7, 2) => Some(Profile::Qemu72),
            (10, 0) => Some(Profile::Qemu100),
            _ => None,
        }
    }

    /// The option syntax of this profile's release, for
    /// `CommandLine::parse_with` (7.2's for the 2016 seed).
    pub fn syntax(self) -> vnuma_options::Syntax {
        match self {
            Profile::Qemu100 => vnuma_options::Syntax::Qemu100,
            _ => vnuma_options::Syntax::Qemu72,
        }
    }

    /// The QEMU profiles, oldest first.
    pub const QEMU: &'static [Profile] = &[Profile::Qemu72, Profile::Qemu100];

    /// The model for a `-machine type=` value in this profile's table.
    pub fn lookup_machine(self, name: Option<&str>) -> Result<MachineModel, Error> {
        MachineModel::lookup_in(
            self.qemu_version().unwrap_or(crate::machine::QEMU_7_2),
            name,
        )
    }
}

/// `7.2`, `10.0` (a micro version is accepted: `10.0.2`).
impl core::str::FromStr for Profile {
    type Err = UnknownQemuVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split('.');
        let mut num = || parts.next().and_then(|p| p.parse::<u8>().ok());
        let (major, minor) = (num(), num());
        match (major, minor) {
            (Some(major), Some(minor)) if s.split('.').count() <= 3 => {
                Profile::for_qemu(major, minor).ok_or(UnknownQemuVersion)
            }
            _ => Err(UnknownQemuVersion),
        }
    }
}

/// A QEMU version vnuma has no profile for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unsupported QEMU version (supported: 7.2, 10.0)")]
pub struct UnknownQemuVersion;

impl core::fmt::Display for Profile {
    /// `7.2`, `10.0`, `seed2016`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.qemu_version() {
            Some(v) => write!(f, "{v}"),
            None => f.write_str("seed2016"),
        }
    }
}

impl Config {
    /// Resolve with the rules of a QEMU release.
    pub fn qemu(profile: Profile) -> Self {
        Config {
            machine: None,
            profile,
            backend_check: None,
            target: crate::machine::Target::X86_64,
            firmware: false,
        }
    }

    /// Resolve with the rules of a QEMU release for a guest architecture.
    pub fn qemu_target(profile: Profile, target: crate::machine::Target) -> Self {
        Config {
            target,
            ..Config::qemu(profile)
        }
    }

    /// Resolve with a given machine model.
    pub fn with_machine(machine: MachineModel) -> Self {
        Config {
            machine: Some(machine),
            profile: Profile::Qemu72,
            backend_check: None,
            target: crate::machine::Target::X86_64,
            firmware: false,
        }
    }

    /// Resolve with the 2016 seed's rules.
    #[cfg(feature = "seed2016")]
    pub fn seed() -> Self {
        Config {
            machine: None,
            profile: Profile::Seed2016,
            backend_check: None,
            target: crate::machine::Target::X86_64,
            firmware: false,
        }
    }
}

/// Resolve a command line with QEMU 7.2's rules for its machine type.
///
/// ```
/// use vnuma_options::CommandLine;
/// let cl = CommandLine::parse([
///     "-M", "q35", "-m", "4G", "-smp", "4,sockets=2",
///     "-object", "memory-backend-ram,id=m0,size=2G",
///     "-object", "memory-backend-ram,id=m1,size=2G",
///     "-numa", "node,nodeid=0,memdev=m0",
///     "-numa", "node,nodeid=1,memdev=m1",
///     "-numa", "dist,src=0,dst=1,val=21",
/// ]).unwrap();
/// let t = vnuma_topology::resolve(&cl).unwrap();
/// assert_eq!(t.node_cpus(0).collect::<Vec<_>>(), [0, 1]);
/// assert_eq!(t.node_cpus(1).collect::<Vec<_>>(), [2, 3]);
/// assert_eq!(t.distance(1, 0), Some(21));
/// ```
pub fn resolve(cl: &CommandLine) -> Result<Topology, Error> {
    resolve_with(cl, &Config::default())
}

/// Find a memory backend by QOM (partial) path: its id, `objects/ID` or
/// `/objects/ID`.
pub(crate) fn find_backend<'a>(
    backends: &'a [MemoryBackendOptions],
    name: &str,
) -> Option<&'a MemoryBackendOptions> {
    // QOM's partial-path lookup: an empty name matches any backend, so
    // it resolves when there is exactly one.
    if name.is_empty() {
        return match backends {
            [only] => Some(only),
            _ => None,
        };
    }
    let id = name
        .strip_prefix("/objects/")
        .or_else(|| name.strip_prefix("objects/"))
        .unwrap_or(name);
    backends.iter().find(|b| b.id == id)
}

/// An error raised while applying the option at `location`, with the span
/// of the item it blames (the last item with the error's key, the one
/// QEMU used).
pub(crate) fn option_error(kind: ErrorKind, location: &vnuma_options::Location) -> Error {
    let span = kind.key().and_then(|key| {
        let arg = location.arg()?;
        let opts = vnuma_options::grammar::parse_opts(arg, Some("type")).ok()?;
        opts.items
            .iter()
            .rev()
            .find(|i| i.key == key)
            .map(|i| i.span())
    });
    Error::at_item(kind, location, span)
}

fn align_up(v: u64, align: u64) -> Option<u64> {
    if align <= 1 {
        return Some(v);
    }
    v.checked_add(align - 1).map(|x| x / align * align)
}

fn slot_props(slot: &CpuSlot) -> String {
    let mut s = alloc::format!("socket-id: {}", slot.socket_id);
    if let Some(die) = slot.die_id {
        s.push_str(&alloc::format!(", die-id: {die}"));
    }
    if let Some(cluster) = slot.cluster_id {
        s.push_str(&alloc::format!(", cluster-id: {cluster}"));
    }
    if let Some(module) = slot.module_id {
        s.push_str(&alloc::format!(", module-id: {module}"));
    }
    s.push_str(&alloc::format!(
        ", core-id: {}, thread-id: {}",
        slot.core_id,
        slot.thread_id
    ));
    s
}

/// [`resolve`] with options.
pub fn resolve_with(cl: &CommandLine, config: &Config) -> Result<Topology, Error> {
    let mut warnings: Vec<Warning> = cl.warnings().iter().cloned().map(Warning::from).collect();

    // Thread contexts are created first of all (QEMU's earliest objects);
    // what needs the host (their CPUs) is checked by vnuma-backend.
    let mut thread_contexts = Vec::new();
    for o in cl.objects() {
        if let Some(tc) = o.object.thread_context() {
            let tc = tc?;
            tc.validate()?;
            thread_contexts.push(tc);
        }
    }

    // 2. The machine type.
    let model = match &config.machine {
        Some(m) => m.clone(),
        None if config.target == crate::machine::Target::Aarch64 => {
            crate::virt::lookup(config.profile, cl.machine_type())?
        }
        None => config.profile.lookup_machine(cl.machine_type())?,
    };

    // `-cpu`: what changes the address space (QEMU under TCG: 40 physical
    // address bits unless `phys-bits=`; AMD-vendor models move RAM above
    // 4 GiB past AMD's HyperTransport range). `host` depends on the host:
    // not checked.
    let mut model = model;
    if let Some(cpu) = cl.cpu() {
        apply_cpu_model(&mut model, cpu);
    }
    let virt_cpu = match (&model.virt, cl.cpu()) {
        (Some(_), Some(cpu)) => Some(cpu),
        _ => None,
    };

    if model.deprecated() {
        warnings.push(Warning::new(
            WarningKind::DeprecatedMachine {
                name: model.name.clone(),
                reason: model.deprecation_reason(),
            },
            None,
        ));
    }

    // 3. Machine properties.
    let properties: Vec<&str> = model.properties.iter().map(|p| p.as_ref()).collect();
    let machine = cl.machine_parsed(Some(&vnuma_options::MachineSchema {
        type_name: &model.name,
        properties: &properties,
    }))?;
    warnings.extend(machine.warnings.into_iter().map(Warning::from));
    let machine = machine.value;
    // `acpi` is OnOffAuto.
    if let Some((_, v)) = machine.ignored.iter().rev().find(|(k, _)| k == "acpi") {
        if !matches!(v.as_str(), "on" | "off" | "auto") {
            return Err(ErrorKind::AcpiValue { value: v.clone() }.into());
        }
    }
    // CXL fixed memory windows are checked when the property is set,
    // whether CXL is on or not; with `cxl=on` they and the host-bridge
    // registers take address space.
    if model.x86.is_some() {
        let qemu72 = !matches!(config.profile, Profile::Qemu100);
        let windows = machine.cxl_fmw.as_deref().unwrap_or_default();
        let sizes = crate::cxl::window_sizes(windows, qemu72)?;
        if machine.cxl == Some(true) {
            model.cxl_windows = Some(sizes);
        }
    }
    if model.virt.is_some() {
        let firmware = config.firmware
            || prop_of(&machine, "pflash0").is_some()
            || prop_of(&machine, "firmware").is_some();
        crate::virt::apply_machine(&mut model, |k| prop_of(&machine, k), firmware)?;
    }
    let (cpu, smp_warnings) =
        cpu::resolve_smp(&machine.smp, &model.smp_limits()).map_err(ErrorKind::Smp)?;
    warnings.extend(
        smp_warnings
            .into_iter()
            .map(|w| Warning::new(WarningKind::Smp(w), None)),
    );
    let explicit_size = machine.memory.size;
    let mut ram_size = align_up(
        explicit_size.unwrap_or(model.default_ram_size),
        model.ram_align,
    )
    .ok_or(ErrorKind::TotalMemory { sum: 0, ram: 0 })?;
    let max_ram_size = match machine.memory.max_size {
        Some(max) => {
            if max < ram_size {
                return Err(ErrorKind::MaxmemTooSmall {
                    max,
                    size: ram_size,
                }
                .into());
            }
            if machine.memory.slots.is_some_and(|s| s != 0) && max == ram_size {
                return Err(ErrorKind::MaxmemEqualWithSlots {
                    max,
                    size: ram_size,
                }
                .into());
            }
            max
        }
        None => {
            if machine.memory.slots.is_some() {
                return Err(ErrorKind::SlotsWithoutMaxSize.into());
            }
            ram_size
        }
    };
    let ram_slots = machine.memory.slots.unwrap_or(0);
    if let Some(value) = machine.max_ram_below_4g {
        if model.x86.is_some() {
            if value > 4 << 30 {
                return Err(ErrorKind::MaxRamBelow4g { value }.into());
            }
            if value < 1 << 20 {
                warnings.push(Warning::new(WarningKind::LowRamBelow4g { value }, None));
            }
        }
    }

    // 4. Memory backends are created. One id namespace: a JSON object
    // (not seen by QemuOpts' duplicate check) may repeat another's id.
    let mut ids: Vec<&str> = Vec::new();
    for o in cl.objects() {
        if let Some(id) = o.object.id() {
            if ids.contains(&id) {
                return Err(ErrorKind::DuplicateObjectId { id: id.into() }.into());
            }
            ids.push(id);
        }
    }
    let backends: Vec<MemoryBackendOptions> = cl.memory_backends().cloned().collect();
    // Objects are created in command-line order; QEMU 10.0's
    // acpi-generic-initiator checks its node's limit then.
    for o in cl.objects() {
        let b = match &o.object {
            vnuma_options::ObjectOptions::MemoryBackend(b) => b,
            other => {
                // acpi-generic-port shares the initiator's `node` setter
                // and its message.
                let node = match (other.generic_initiator(), other.generic_port()) {
                    (Some(Ok(gi)), _) => Some(gi.node),
                    (_, Some(Ok(gp))) => Some(gp.node),
                    _ => None,
                };
                if node.is_some_and(|n| n >= 128) {
                    return Err(ErrorKind::GenericInitiatorNodeLimit.into());
                }
                continue;
            }
        };
        b.validate()?;
        if let Some(ctx) = &b.prealloc_context {
            match cl
                .objects()
                .iter()
                .find(|o| o.object.id() == Some(ctx.as_str()))
            {
                None => return Err(ErrorKind::DeviceNotFound { id: ctx.clone() }.into()),
                Some(o) if o.object.thread_context().is_none() => {
                    return Err(ErrorKind::PreallocContextType.into())
                }
                Some(_) => {}
            }
        }
        b.check_alloc()?;
        b.check_policy()?;
        if let Some(check) = &config.backend_check {
            check(b).map_err(|message| Error::new(ErrorKind::BackendCreation { message }))?;
        }
    }

    // `-cpu` is looked up after the backends are created.
    if let Some(option) = virt_cpu {
        crate::virt::apply_cpu(&mut model, option)?;
    }

    // 5. -machine memory-backend.
    if let Some(id) = &machine.memory_backend {
        let b = find_backend(&backends, id)
            .ok_or_else(|| ErrorKind::MemoryBackendNotFound { id: id.clone() })?;
        if explicit_size.is_none() {
            ram_size = b.size;
        }
    }

    // 6-8. -numa, board init, completion.
    let hmat_enabled = machine.hmat.unwrap_or(false);
    let slots: Vec<CpuSlot> = board_slots(&model, &cpu);
    let ctx = Ctx {
        cl,
        model: &model,
        machine: &machine,
        backends: &backends,
        slots: &slots,
        max_cpus: cpu.max_cpus,
        ram_size,
        max_ram_size,
        ram_slots,
        hmat_enabled,
    };
    let outcome = match config.profile {
        Profile::Qemu72 | Profile::Qemu100 => modern_numa(&ctx, &mut warnings)?,
        #[cfg(feature = "seed2016")]
        Profile::Seed2016 => crate::seed::numa(&ctx, &mut warnings)?,
    };
    // The board's own init checks (aarch64 `virt`).
    crate::virt::board_init(&model, &cpu, ram_size, max_ram_size, ram_slots)?;
    // The description QEMU's rules produced; its resolution places memory
    // and makes the board-init checks that remain.
    let n = outcome.nodes.len();
    let mut node_cpus: Vec<Vec<u32>> = alloc::vec![Vec::new(); n];
    if n > 0 {
        for (slot, node) in slots.iter().zip(&outcome.slot_node) {
            if let Some(list) = node.and_then(|node| node_cpus.get_mut(node as usize)) {
                list.push(slot.index);
            }
        }
    }
    let mut distances = Distances::complete();
    if let Some(d) = &outcome.distances {
        // Collected, not inserted one by one: the pairs come in key order,
        // which the map builds from in one pass (16,384 inserts searched
        // the tree each were a third of resolving 128 nodes).
        distances.given = (0..n)
            .flat_map(|a| (0..n).map(move |b| ((a as u32, b as u32), d[a * n + b])))
            .collect();
    }
    let description = NumaConfig {
        board: model,
        cpus: cpu,
        ram: RamConfig {
            size: Some(ram_size),
            // `-machine memory-backend` can raise the RAM size above the
            // maxmem QEMU settled before it.
            max_size: Some(max_ram_size.max(ram_size)),
            slots: ram_slots,
            max_below_4g: machine.max_ram_below_4g,
        },
        nodes: outcome
            .nodes
            .into_iter()
            .zip(node_cpus)
            .map(|(node, cpus)| NodeConfig {
                id: node.id,
                cpus,
                memory: if node.mem == 0 {
                    Vec::new()
                } else {
                    alloc::vec![MemoryZone {
                        size: node.mem,
                        addr: None,
                        backend: node.memdev,
                    }]
                },
                initiator: node.initiator,
                devices: Vec::new(),
                ports: Vec::new(),
            })
            .collect(),
        distances,
        hmat: hmat_enabled.then_some(outcome.hmat),
        host: HostMemory {
            machine_backend: machine
                .memory_backend
                .as_deref()
                .and_then(|id| find_backend(&backends, id))
                .map(|b| b.id.clone()),
            backends,
            mem_path: cl.mem_path().map(String::from),
            prealloc: cl.mem_prealloc(),
            merge: machine.mem_merge.unwrap_or(true),
            dump: machine.dump_guest_core.unwrap_or(true),
            thread_contexts,
        },
        devices: Vec::new(),
        acpi: true,
        nvdimm: false,
        affinity_order: Vec::new(),
    };
    // Devices are created after the machine, in order: each one's model
    // and properties are typed, then it is plugged. A typing error waits
    // until the devices before it are plugged.
    let mut pci = qemu_pci(cl, &description.board, description.nodes.len());
    let (devices, pending) = qemu_devices(cl, &description, pci.error.take());
    let device_warnings =
        qemu_device_warnings(cl, &devices, &description.host.backends, config.profile);
    let mut description = description;
    description.devices = devices;
    let prop = |key: &str| {
        machine
            .ignored
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    // `-no-acpi` is `-machine acpi=off` in command-line order.
    description.acpi = prop("acpi") != Some("off");
    description.nvdimm = prop("nvdimm").and_then(vnuma_options::value::parse_bool) == Some(true);
    // What is left to fail is QEMU's board init, which names no option,
    // and the devices, which name theirs.
    // QEMU 10.0 writes a Generic Initiator Affinity structure for each
    // acpi-generic-initiator when it builds the SRAT (with NUMA and ACPI
    // on), after everything else; its errors wait until then.
    let mut gi_error = None;
    if !description.nodes.is_empty() && description.acpi {
        let ranks = object_ranks(cl, &description);
        match generic_initiators(cl, &pci, &ranks) {
            Ok(list) => {
                let count = description.nodes.len();
                for (node, device) in list {
                    description.affinity_order.push(device.clone());
                    // QEMU compares with the node count; a node id below it
                    // that is no node (sparse ids) is refused here too.
                    let found = (node as usize) < count;
                    match description.nodes.iter_mut().find(|n| found && n.id == node) {
                        Some(n) => n.devices.push(device),
                        None => {
                            gi_error = Some(ErrorKind::GenericInitiatorNode { node }.into());
                            break;
                        }
                    }
                }
            }
            Err(e) => gi_error = Some(e),
        }
        // Then a Generic Port Affinity structure for each
        // acpi-generic-port: its node, and the CXL host bridge `pci-bus`
        // names (in the same walk).
        if gi_error.is_none() {
            let count = description.nodes.len();
            let mut ports: Vec<vnuma_options::GenericPortOptions> = cl
                .objects()
                .iter()
                .filter_map(|o| o.object.generic_port().and_then(Result::ok))
                .collect();
            ports.sort_by_key(|p| rank_of(&ranks, &p.id));
            for gp in ports {
                let node = (gp.node as usize) < count;
                let node = description
                    .nodes
                    .iter_mut()
                    .find(|n| node && n.id == gp.node);
                let handle = crate::cxl::port_handle(&gp.pci_bus, &pci.bridges);
                match (node, handle) {
                    (None, _) => {
                        gi_error = Some(ErrorKind::GenericPortNode { node: gp.node }.into());
                        break;
                    }
                    (Some(_), None) => {
                        gi_error = Some(ErrorKind::GenericPortNotCxl.into());
                        break;
                    }
                    (Some(n), Some(handle)) => {
                        description.affinity_order.push(handle.clone());
                        n.ports.push(handle);
                    }
                }
            }
        }
    }
    let mut topology = description.resolve_with_warnings(warnings).map_err(|e| {
        // The index counts memory devices only (others are not plugged).
        let memory_device = |i: usize| {
            devices_in_creation_order(cl)
                .filter(|arg| matches!(arg.options(), Ok(vnuma_options::DeviceOptions::Memory(_))))
                .nth(i)
        };
        match e.device_index().and_then(memory_device) {
            Some(arg) => Error::at(e.kind().clone(), &arg.location),
            None => e.without_path(),
        }
    })?;
    topology.warnings.extend(device_warnings);
    // Once the machine is complete: CXL bridges need `cxl=on`, windows
    // name CXL bridges; then the SRAT's generic affinity structures.
    let cxl_error = crate::cxl::machine_done(
        machine.cxl == Some(true),
        machine.cxl_fmw.as_deref().unwrap_or_default(),
        &pci.bridges,
    )
    .err()
    .map(Error::from);
    match pending.or(cxl_error).or(gi_error) {
        Some(e) => Err(e),
        None => Ok(topology),
    }
}

/// The root PCI bus's slots the board fills itself with `-nodefaults`
/// (`(devfn, model)`): pc has the i440FX host bridge and PIIX3 (ISA, IDE,
/// power management), q35 the MCH and ICH9 (LPC, AHCI, SMBus).
fn board_pci_functions(board: &MachineModel) -> &'static [(u8, &'static str)] {
    match board.x86 {
        Some((crate::machine::Chipset::I440fx, _)) => &[
            (0, "i440FX"),
            (8, "PIIX3"),
            (9, "piix3-ide"),
            (11, "PIIX4_PM"),
        ],
        Some((crate::machine::Chipset::Q35, _)) => &[
            (0, "mch"),
            (0xf8, "ICH9-LPC"),
            (0xfa, "ich9-ahci"),
            (0xfb, "ICH9-SMB"),
        ],
        None => &[],
    }
}

/// A PCI `addr=` (`SLOT[.FUNCTION]`, hexadecimal, `0x` allowed) as devfn.
fn parse_pci_addr(text: &str) -> Option<u8> {
    let hex = |t: &str| {
        let t = t
            .strip_prefix("0x")
            .or_else(|| t.strip_prefix("0X"))
            .unwrap_or(t);
        u8::from_str_radix(t, 16).ok()
    };
    let (slot, function) = match text.split_once('.') {
        Some((s, f)) => (hex(s)?, hex(f)?),
        None => (hex(text)?, 0),
    };
    (slot <= 0x1f && function <= 7).then_some(slot << 3 | function)
}

/// Where each object id comes when QEMU walks `/objects` (see
/// [`crate::objects`]): a rank per id, `usize::MAX` for ids not there.
fn object_ranks(cl: &CommandLine, description: &NumaConfig) -> BTreeMap<String, usize> {
    let objects: Vec<(&str, &str)> = cl
        .objects()
        .iter()
        .filter_map(|o| {
            let qom_type = match &o.object {
                vnuma_options::ObjectOptions::MemoryBackend(_) => "memory-backend-ram",
                vnuma_options::ObjectOptions::Other { qom_type, .. } => qom_type.as_str(),
            };
            Some((qom_type, o.object.id()?))
        })
        .collect();
    // The machine adds its default RAM backend when neither
    // `memory-backend=` nor a node's `memdev` gives the RAM.
    let legacy = description.host.machine_backend.is_none()
        && description
            .nodes
            .iter()
            .all(|n| n.memory.iter().all(|z| z.backend.is_none()));
    let default_ram = description
        .board
        .default_ram_id
        .as_deref()
        .filter(|_| legacy && description.ram.size != Some(0));
    crate::objects::walk_order(&objects, default_ram)
        .into_iter()
        .enumerate()
        .map(|(rank, id)| (String::from(id), rank))
        .collect()
}

fn rank_of(ranks: &BTreeMap<String, usize>, id: &str) -> usize {
    ranks.get(id).copied().unwrap_or(usize::MAX)
}

/// The generic initiators of a QEMU 10.0 command line as `(node, PCI
/// address)`, in the order QEMU walks its objects, with the addresses the
/// PCI pass gave the devices.
fn generic_initiators(
    cl: &CommandLine,
    pci: &PciPlan,
    ranks: &BTreeMap<String, usize>,
) -> Result<Vec<(u32, String)>, Error> {
    let mut gis: Vec<vnuma_options::GenericInitiatorOptions> = cl
        .objects()
        .iter()
        .filter_map(|o| o.object.generic_initiator().and_then(Result::ok))
        .collect();
    gis.sort_by_key(|g| rank_of(ranks, &g.id));
    gis.into_iter()
        .map(|gi| {
            let name = gi
                .pci_dev
                .strip_prefix("/machine/peripheral/")
                .unwrap_or(&gi.pci_dev);
            let (bus, devfn) = match pci.placed.iter().find(|(id, _)| id == name) {
                None => return Err(ErrorKind::GenericInitiatorNotPci.into()),
                Some((_, Err(reason))) => {
                    return Err(ErrorKind::GenericInitiatorAddress {
                        device: gi.pci_dev.clone(),
                        reason,
                    }
                    .into())
                }
                Some((_, Ok(at))) => *at,
            };
            Ok((
                gi.node,
                alloc::format!("0000:{bus:02x}:{:02x}.{:x}", devfn >> 3, devfn & 7),
            ))
        })
        .collect()
}

/// The name of an x86 board's root PCI bus.
fn root_bus(board: &MachineModel) -> &'static str {
    match board.x86 {
        Some((crate::machine::Chipset::Q35, _)) => "pcie.0",
        _ => "pci.0",
    }
}

/// What the PCI devices of a command line come to: the expander bridges,
/// each device's address by id (bus number and devfn, or why vnuma does
/// not know it), and the first error with the index (in creation order)
/// of the device it belongs to.
#[derive(Default)]
struct PciPlan {
    bridges: Vec<crate::cxl::Pxb>,
    placed: Vec<(String, PciAddress)>,
    error: Option<(usize, Error)>,
}

/// A device's bus number and devfn, or why vnuma does not know them.
type PciAddress = Result<(u8, u8), &'static str>;

/// Realize the PCI devices of an x86 command line in creation order, as
/// far as addresses and expander bridges go. A device lands on `bus=`
/// (the root bus or an expander bridge's), else on the last expander
/// bridge's bus, else on the root bus; an expander bridge's bus takes
/// only bridges, but for a conventional `pxb` that `bus=` names. Then its slot: `addr=` must be free; without it, the
/// first free slot (known with `-nodefaults` only: the default devices
/// take slots too). Then an expander bridge's own checks.
fn qemu_pci(cl: &CommandLine, board: &MachineModel, nodes: usize) -> PciPlan {
    use crate::cxl::PxbKind;
    let mut plan = PciPlan::default();
    let Some((chipset, _)) = board.x86 else {
        return plan;
    };
    let q35 = chipset == Chipset::Q35;
    let root = root_bus(board);
    // Occupancy: (bus: `None` the root, else an expander bridge by index,
    // devfn, `MODEL,id=ID`).
    let mut used: Vec<(Option<usize>, u8, String)> = board_pci_functions(board)
        .iter()
        .map(|&(devfn, model)| (None, devfn, alloc::format!("{model},id=(null)")))
        .collect();
    for (i, arg) in devices_in_creation_order(cl).enumerate() {
        let text = arg.location.arg().unwrap_or_default();
        let fail = |kind: ErrorKind| Some((i, Error::at(kind, &arg.location)));
        if text.starts_with('{') {
            if let Some(id) = vnuma_options::DeviceOptions::from_json(text)
                .ok()
                .and_then(|d| match d {
                    vnuma_options::DeviceOptions::Other { id, .. } => id,
                    vnuma_options::DeviceOptions::Memory(m) => m.id,
                })
            {
                plan.placed.push((id, Err("a JSON -device")));
            }
            continue;
        }
        let Ok(opts) = vnuma_options::grammar::parse_opts(text, Some("driver")) else {
            continue;
        };
        let props: Vec<(&str, &str)> = opts
            .items
            .iter()
            .map(|i| (i.key, i.value.as_ref()))
            .collect();
        let get = |key: &str| props.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| *v);
        let Some(driver) = get("driver") else {
            continue;
        };
        if !vnuma_options::device::is_pci_model(driver) {
            continue;
        }
        let id = opts.id.as_ref().map(|i| i.value.as_ref());
        let bus: Result<Option<usize>, &'static str> = match get("bus") {
            Some(b) if b == root => Ok(None),
            Some(b) => plan
                .bridges
                .iter()
                .position(|p| p.id.as_deref() == Some(b))
                .map(Some)
                .ok_or("behind a bridge"),
            None => Ok(plan.bridges.len().checked_sub(1)),
        };
        // An expander bridge's bus takes only bridges; QEMU lets other
        // devices onto a conventional `pxb` when `bus=` names it.
        if let Ok(Some(b)) = bus {
            let parent = plan.bridges[b].kind;
            let named = get("bus").is_some();
            if (parent != PxbKind::Pci || !named) && !crate::cxl::is_bridge_model(driver) {
                plan.error = fail(ErrorKind::PxbBridgesOnly {
                    driver: parent.driver().into(),
                });
                return plan;
            }
        }
        let where_ = match bus {
            Err(reason) => Err(reason),
            // A conventional `pxb`'s bus is the far side of a PCI bridge
            // QEMU puts behind it: its number is the guest firmware's.
            Ok(Some(b)) if plan.bridges[b].kind == PxbKind::Pci => {
                Err("behind a pxb's PCI bridge, whose bus number the guest firmware assigns")
            }
            Ok(bus) => match get("addr") {
                Some(a) => match parse_pci_addr(a) {
                    Some(devfn) => {
                        if let Some((_, _, user)) =
                            used.iter().find(|(b, d, _)| *b == bus && *d == devfn)
                        {
                            plan.error = fail(ErrorKind::PciSlotInUse {
                                slot: devfn >> 3,
                                function: devfn & 7,
                                driver: driver.into(),
                                user: user.clone(),
                            });
                            return plan;
                        }
                        Ok((bus, devfn))
                    }
                    None => Err("an addr= vnuma does not read"),
                },
                None if !cl.nodefaults() => Err("default devices without -nodefaults"),
                None => (0..32u8)
                    .map(|slot| slot << 3)
                    .find(|devfn| used.iter().all(|(b, d, _)| *b != bus || d != devfn))
                    .map(|devfn| (bus, devfn))
                    .ok_or("the bus is full"),
            },
        };
        if let Ok((bus, devfn)) = where_ {
            let user = alloc::format!("{driver},id={}", id.unwrap_or("(null)"));
            used.push((bus, devfn, user));
        }
        if let Some(id) = id {
            let bus_nr = |bus: Option<usize>| bus.map_or(0, |b| plan.bridges[b].bus_nr);
            let at = where_.map(|(bus, devfn)| (bus_nr(bus), devfn));
            plan.placed.push((id.into(), at));
        }
        if let Some(kind) = PxbKind::of(driver) {
            match crate::cxl::realize_pxb(kind, id, &props, q35, nodes, &plan.bridges) {
                Ok(p) => plan.bridges.push(p),
                Err(k) => {
                    plan.error = fail(k);
                    return plan;
                }
            }
        }
    }
    plan
}

/// A `-machine` property as written, the last one winning.
fn prop_of<'a>(machine: &'a MachineOptions, key: &str) -> Option<&'a str> {
    machine
        .ignored
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The `-device` options in the order QEMU 7.2 creates them
/// (`qemu_create_cli_devices`): the keyval ones in command-line order,
/// then the JSON ones in command-line order.
fn devices_in_creation_order(
    cl: &CommandLine,
) -> impl Iterator<Item = &vnuma_options::DeviceArg> + '_ {
    let json =
        |a: &&vnuma_options::DeviceArg| a.location.arg().unwrap_or_default().starts_with('{');
    let keyval = cl.devices().iter().filter(move |a| !json(a));
    keyval.chain(cl.devices().iter().filter(json))
}

/// What `-cpu MODEL[,phys-bits=N][,vendor=V]...` changes on an x86 board.
fn apply_cpu_model(model: &mut MachineModel, cpu: &str) {
    if model.x86.is_none() {
        return;
    }
    let mut parts = cpu.split(',');
    let name = parts.next().unwrap_or_default();
    let mut vendor: Option<&str> = None;
    for p in parts {
        if let Some(v) = p.strip_prefix("phys-bits=") {
            if let Ok(bits) = v.parse::<u8>() {
                model.phys_bits = Some(bits);
            }
        } else if let Some(v) = p.strip_prefix("vendor=") {
            vendor = Some(v);
        }
    }
    if name == "host" {
        model.phys_bits = None;
        return;
    }
    let amd_model = ["qemu64", "max", "phenom", "athlon"].contains(&name)
        || name.starts_with("EPYC")
        || name.starts_with("Opteron");
    let amd = match vendor {
        Some(v) => v == "AuthenticAMD",
        None => amd_model,
    };
    if !amd {
        model.amd_1tb_hole = false;
    }
}

/// The warnings QEMU prints while realizing memory devices: a virtio-mem
/// block size below the default.
fn qemu_device_warnings(
    cl: &CommandLine,
    devices: &[MemoryDeviceConfig],
    backends: &[MemoryBackendOptions],
    profile: Profile,
) -> Vec<Warning> {
    let mut out = Vec::new();
    let mut discard_warned = false;
    let memory_args = devices_in_creation_order(cl)
        .filter(|arg| matches!(arg.options(), Ok(vnuma_options::DeviceOptions::Memory(_))));
    for (d, arg) in devices.iter().zip(memory_args) {
        let Ok(typed) = arg.typed() else { continue };
        // Setting the properties (a hex size with a suffix, 7.2), then
        // realizing the device.
        out.extend(typed.warnings.into_iter().map(Warning::from));
        let explicit = matches!(
            typed.value,
            vnuma_options::DeviceOptions::Memory(ref m) if m.block_size.is_some()
        );
        if let MemoryDeviceKind::VirtioMem { block_size, .. } = d.kind {
            if explicit && block_size < 2 << 20 {
                out.push(Warning::new(
                    WarningKind::VirtioMemSmallBlock,
                    Some(&arg.location),
                ));
            }
            // Realizing it discards the backend's memory (QEMU 8.1 on
            // warns about a private file mapping, once).
            let private_file = d
                .backend
                .as_deref()
                .and_then(|id| find_backend(backends, id))
                .is_some_and(|b| match &b.kind {
                    vnuma_options::BackendKind::File(_) => b.share != Some(true),
                    vnuma_options::BackendKind::Memfd(_) => b.share == Some(false),
                    _ => false,
                });
            if private_file && !discard_warned && profile == Profile::Qemu100 {
                discard_warned = true;
                out.push(Warning::new(
                    WarningKind::DiscardPrivateFileMapping,
                    Some(&arg.location),
                ));
            }
        }
    }
    out
}

/// The memory devices of a command line up to the first that does not
/// type (that error is returned beside them), each with its backend's size
/// and the alignment QEMU 7.2 gives it.
fn qemu_devices(
    cl: &CommandLine,
    description: &NumaConfig,
    stop: Option<(usize, Error)>,
) -> (Vec<MemoryDeviceConfig>, Option<Error>) {
    use vnuma_options::{BackendKind, DeviceOptions, MemoryDeviceDriver};
    let backends = &description.host.backends;
    let legacy_align = !matches!(
        description.board.ram_layout,
        RamLayout::X86 {
            enforce_aligned_dimm: true,
            ..
        }
    ) && description.board.x86.is_some();
    let mut out = Vec::new();
    // An error of another device (an expander bridge, a bus) ends the
    // list there; a memory device realized there is plugged first.
    let (stop_at, mut stop) = match stop {
        Some((i, e)) => (i, Some(e)),
        None => (usize::MAX, None),
    };
    for (i, arg) in devices_in_creation_order(cl).enumerate() {
        if i > stop_at {
            break;
        }
        let d = match arg.options() {
            Ok(DeviceOptions::Memory(d)) => d,
            Ok(DeviceOptions::Other { .. }) if i == stop_at => break,
            Ok(DeviceOptions::Other { .. }) => continue,
            Err(e) => return (out, Some(Error::from(e))),
        };
        let backend = match &d.memdev {
            Some(name) => match find_backend(backends, name) {
                Some(b) => Some(b),
                None => {
                    let kind = ErrorKind::DeviceNotFound { id: name.clone() };
                    return (out, Some(Error::at(kind, &arg.location)));
                }
            },
            None => None,
        };
        let backend_align = backend.map_or(4096, |b| match &b.kind {
            BackendKind::Ram => 2 << 20,
            BackendKind::Memfd(m) if m.hugetlb == Some(true) => m.hugetlbsize.unwrap_or(2 << 20),
            BackendKind::File(f) => f.align.filter(|&a| a != 0).unwrap_or(4096),
            BackendKind::Memfd(_) | BackendKind::Shm => 4096,
        });
        let kind = match d.driver {
            MemoryDeviceDriver::PcDimm => MemoryDeviceKind::Dimm,
            MemoryDeviceDriver::Nvdimm => MemoryDeviceKind::Nvdimm {
                label_size: d.label_size.unwrap_or(0),
            },
            MemoryDeviceDriver::VirtioMemPci => MemoryDeviceKind::VirtioMem {
                requested_size: d.requested_size.unwrap_or(0),
                // Default: the larger of the THP size and the backend's
                // page size; an explicit one is kept (QEMU warns when it
                // is below the default).
                block_size: d.block_size.unwrap_or((2 << 20).max(backend_align)),
            },
            MemoryDeviceDriver::VirtioPmemPci => MemoryDeviceKind::VirtioPmem,
        };
        out.push(MemoryDeviceConfig {
            id: d.id.clone(),
            kind,
            backend: backend.map(|b| b.id.clone()),
            backend_size: backend.map_or(0, |b| b.size),
            align: if legacy_align && kind.is_dimm() {
                4096
            } else {
                backend_align
            },
            node: d.node,
            addr: d.addr,
            slot: d.slot,
        });
    }
    (out, stop.take())
}

/// q35's split before `max-ram-below-4g` is applied.
fn q35_initial_lowmem(ram: u64) -> u64 {
    if ram >= 0xb000_0000 {
        0x8000_0000
    } else {
        0xb000_0000
    }
}

/// The performance warnings QEMU prints when `max-ram-below-4g` is not
/// GiB-aligned and RAM is large.
pub(crate) fn split_warning(
    board: &MachineModel,
    ram_size: u64,
    max_ram_below_4g: Option<u64>,
) -> Option<WarningKind> {
    let max = max_ram_below_4g.filter(|&m| m != 0)?;
    match board.ram_layout {
        RamLayout::X86 {
            chipset: Chipset::I440fx,
            gigabyte_align: true,
            ..
        } if ram_size >= max && max % (1 << 30) != 0 => {
            Some(WarningKind::I440fxLowmemAlign { value: max })
        }
        // QEMU's q35 code subtracts without a sign: RAM below the limit
        // wraps and warns too.
        RamLayout::X86 {
            chipset: Chipset::Q35,
            ..
        } if q35_initial_lowmem(ram_size) > max
            && ram_size.wrapping_sub(max) > max
            && max % (1 << 30) != 0 =>
        {
            Some(WarningKind::Q35LowmemAlign {
                ram: ram_size,
                value: max,
            })
        }
        _ => None,
    }
}

/// What resolution has settled before `-numa` is applied.
pub(crate) struct Ctx<'a> {
    pub(crate) cl: &'a CommandLine,
    pub(crate) model: &'a MachineModel,
    pub(crate) machine: &'a MachineOptions,
    pub(crate) backends: &'a [MemoryBackendOptions],
    pub(crate) slots: &'a [CpuSlot],
    pub(crate) max_cpus: u32,
    pub(crate) ram_size: u64,
    pub(crate) max_ram_size: u64,
    pub(crate) ram_slots: u64,
    pub(crate) hmat_enabled: bool,
}

/// What `-numa` and completion produce.
pub(crate) struct NumaOutcome {
    pub(crate) nodes: Vec<Node>,
    pub(crate) slot_node: Vec<Option<u16>>,
    pub(crate) distances: Option<Vec<u8>>,
    pub(crate) hmat: Hmat,
}

/// QEMU 7.2: apply `-numa` in order, board init checks, completion.
fn modern_numa(ctx: &Ctx<'_>, warnings: &mut Vec<Warning>) -> Result<NumaOutcome, Error> {
    let Ctx {
        cl,
        model,
        machine,
        backends,
        slots,
        max_cpus,
        ram_size,
        max_ram_size,
        ram_slots,
        hmat_enabled,
    } = *ctx;
    let mut numa = NumaState::new(hmat_enabled, slots.len());
    for arg in cl.numa() {
        let loc = &arg.location;
        let at = |kind: ErrorKind| option_error(kind, loc);
        let parsed = arg.result.as_ref().map_err(|e| Error::from(e.clone()))?;
        if !model.numa_supported {
            return Err(at(ErrorKind::NumaNotSupported));
        }
        warnings.extend(parsed.warnings.iter().cloned().map(Warning::from));
        match &parsed.value {
            NumaOptions::Node(node) => {
                numa.node(node, max_cpus, model.numa_mem_supported, |name| {
                    find_backend(backends, name).map(|b| (b.id.clone(), b.size))
                })
                .map_err(at)?;
                if node.mem.is_some() {
                    warnings.push(Warning::new(WarningKind::MemDeprecated, Some(loc)));
                }
            }
            NumaOptions::Dist(d) => numa.dist(d).map_err(at)?,
            NumaOptions::Cpu(c) => {
                if model.qemu.is_none_or(|q| q < crate::machine::QEMU_10_0) {
                    // Members QEMU 7.2 does not have: its `Invalid
                    // parameter` for the first one written.
                    let later = [
                        ("drawer-id", c.drawer_id),
                        ("book-id", c.book_id),
                        ("module-id", c.module_id),
                    ];
                    if let Some(e) = unknown_cpu_member(loc, &later) {
                        return Err(e);
                    }
                }
                numa.cpu(c, slots).map_err(at)?
            }
            NumaOptions::HmatLb(h) => {
                if !hmat_enabled {
                    return Err(at(ErrorKind::HmatDisabled));
                }
                numa.hmat_lb(h).map_err(at)?;
            }
            NumaOptions::HmatCache(c) => {
                if !hmat_enabled {
                    return Err(at(ErrorKind::HmatDisabled));
                }
                numa.hmat_cache(c).map_err(at)?;
            }
        }
    }

    // 7. Board init.
    if let Some(id) = &machine.memory_backend {
        if find_backend(backends, id).is_some_and(|b| b.size != ram_size) {
            return Err(ErrorKind::MemoryBackendSizeMismatch.into());
        }
    } else if let Some(ram_id) = &model.default_ram_id {
        if ram_size != 0
            && !numa.have_memdevs
            && cl
                .objects()
                .iter()
                .any(|o| o.object.id() == Some(ram_id.as_str()))
        {
            let id = ram_id.clone();
            return Err(if model.qemu >= Some(crate::machine::QEMU_10_0) {
                ErrorKind::ReservedRamIdObject { id }
            } else {
                ErrorKind::ReservedRamId { id }
            }
            .into());
        }
    }

    // 8. Completion.
    if numa.num_nodes == 0
        && ((ram_slots != 0 && model.auto_enable_numa_with_memhp)
            || (max_ram_size > ram_size && model.auto_enable_numa_with_memdev))
    {
        numa.node(&Default::default(), max_cpus, true, |_| None)
            .map_err(Error::new)?;
        numa.nodes[0].mem = ram_size;
    }
    for id in (0..numa.max_nodeid).rev() {
        if !numa.nodes[id as usize].present {
            return Err(ErrorKind::NodeIdMissing { node: id as u16 }.into());
        }
    }
    let n = numa.num_nodes as usize;
    if n > 0 {
        let sum = numa.nodes[..n]
            .iter()
            .fold(0u64, |s, node| s.wrapping_add(node.mem));
        if sum != ram_size {
            return Err(ErrorKind::TotalMemory { sum, ram: ram_size }.into());
        }
        if numa.have_memdevs {
            if model.default_ram_id.is_some() && machine.memory_backend.is_some() {
                return Err(ErrorKind::MemoryBackendAndMemdev.into());
            }
            let mut used: Vec<&str> = Vec::new();
            for node in &numa.nodes[..n] {
                if let Some(id) = node.memdev.as_deref() {
                    if used.contains(&id) {
                        return Err(ErrorKind::BackendUsedTwice { id: id.into() }.into());
                    }
                    used.push(id);
                }
            }
        }
        if numa.have_distance {
            numa.complete_distances()?;
        }

        // CPU mapping.
        let default_mapping = numa.slot_node.iter().all(Option::is_none);
        let mut unmapped = String::new();
        for (i, slot) in slots.iter().enumerate() {
            if numa.slot_node[i].is_some() {
                continue;
            }
            let node = if default_mapping {
                default_node(&model.default_cpu_node, slot, numa.num_nodes)
            } else {
                if !unmapped.is_empty() {
                    unmapped.push_str(", ");
                }
                unmapped.push_str(&alloc::format!("CPU {i} [{}]", slot_props(slot)));
                0
            };
            numa.set_slot_node(i, node)?;
        }
        // QEMU prints the partial-mapping warnings before it validates
        // the HMAT initiators.
        if !unmapped.is_empty() {
            warnings.push(Warning::new(
                WarningKind::CpusNotPresent { list: unmapped },
                None,
            ));
            warnings.push(Warning::new(WarningKind::PartialMappingObsolete, None));
        }
        if hmat_enabled {
            numa.validate_initiators()?;
        }
    }

    let nodes: Vec<Node> = numa.nodes[..n]
        .iter()
        .enumerate()
        .map(|(id, s)| Node {
            id: id as u32,
            mem: s.mem,
            memdev: s.memdev.clone(),
            zones: Vec::new(),
            initiator: (s.initiator != NO_INITIATOR).then_some(u32::from(s.initiator)),
            has_cpu: s.has_cpu,
            devices: Vec::new(),
            ports: Vec::new(),
        })
        .collect();
    let distances = (n > 0 && numa.have_distance).then(|| {
        let mut d = Vec::with_capacity(n * n);
        for a in 0..n {
            d.extend((0..n).map(|b| numa.dist_at(a, b)));
        }
        d
    });
    let hmat = Hmat {
        lb: numa
            .lb
            .iter()
            .flat_map(|row| row.iter())
            .filter_map(|t| t.as_ref())
            .filter(|t| !t.entries.is_empty())
            .cloned()
            .collect(),
        caches: numa.caches.values().copied().collect(),
    };
    Ok(NumaOutcome {
        nodes,
        slot_node: numa.slot_node,
        distances,
        hmat,
    })
}

/// `Invalid parameter 'KEY'` for the first of `members` that is set, by
/// its place in the option text.
fn unknown_cpu_member(
    location: &vnuma_options::Location,
    members: &[(&'static str, Option<i64>)],
) -> Option<Error> {
    let arg = location.arg()?;
    let opts = vnuma_options::grammar::parse_opts(arg, Some("type")).ok()?;
    let item = opts
        .items
        .iter()
        .find(|i| members.iter().any(|(k, v)| v.is_some() && i.key == *k))?;
    let kind = vnuma_options::ErrorKind::InvalidParameter {
        key: String::from(item.key),
    };
    Some(Error::from(
        vnuma_options::Error::new(kind, item.key_span).with_location(location.clone()),
    ))
}

pub(crate) fn default_node(rule: &DefaultCpuNode, slot: &CpuSlot, nodes: u32) -> u16 {
    let nodes = nodes.max(1);
    let v = match rule {
        DefaultCpuNode::SocketModNodes => slot.socket_id % nodes,
        DefaultCpuNode::IndexModNodes => slot.index % nodes,
        DefaultCpuNode::Table(t) if !t.is_empty() => {
            u32::from(t[slot.index as usize % t.len()]) % nodes
        }
        DefaultCpuNode::Table(_) => 0,
    };
    v as u16
}
