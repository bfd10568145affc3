//! Reports: QEMU's `info numa` and `query-memdev`, and the JSON report.

use vnuma_backend::{effective, Defaults};
use vnuma_options::{BackendKind, MemoryBackendOptions};
use vnuma_topology::layout::MemoryLayout;
use vnuma_topology::Topology;

/// `info numa` (spec §6.1).
pub(crate) fn info_numa(t: &Topology, layout: &MemoryLayout) -> String {
    let mut s = format!("{} nodes\n", t.nodes().len());
    for n in t.nodes() {
        s.push_str(&format!("node {} cpus:", n.id));
        for c in t.node_cpus(n.id) {
            s.push_str(&format!(" {c}"));
        }
        s.push_str(&format!(
            "\nnode {} size: {} MB\n",
            n.id,
            layout.node_size(n.id) >> 20
        ));
        s.push_str(&format!(
            "node {} plugged: {} MB\n",
            n.id,
            layout.node_plugged(n.id) >> 20
        ));
    }
    s
}

/// One entry of QEMU's `query-memdev`: vnuma-backend's type, re-exported.
pub use vnuma_backend::Memdev;

/// What the machine and `-smp` give backend properties left unset.
pub(crate) fn backend_defaults(t: &Topology) -> Defaults {
    Defaults {
        merge: t.mem_merge(),
        dump: t.dump_guest_core(),
        prealloc: t.mem_prealloc(),
        prealloc_threads: t.cpu_topology().cpus.max(1),
        release: match t.machine().qemu {
            Some(v) if v >= vnuma_topology::machine::QEMU_10_0 => vnuma_options::Syntax::Qemu100,
            _ => vnuma_options::Syntax::Qemu72,
        },
    }
}

/// `query-memdev` (spec §6.2): each backend's effective properties
/// (vnuma-backend's [`effective`], as planning uses them).
pub(crate) fn query_memdev(t: &Topology) -> Vec<Memdev> {
    let defaults = backend_defaults(t);
    let mut out: Vec<Memdev> = t
        .backends()
        .iter()
        .map(|b| effective(b, &defaults).memdev())
        .collect();
    // The machine creates its own RAM backend unless RAM comes from
    // -numa memdev or -machine memory-backend.
    if let Some(id) = &t.machine().default_ram_id {
        if !t.uses_memdevs() && t.memory_backend().is_none() && t.ram_size() != 0 {
            let ram = MemoryBackendOptions::new(id.clone(), BackendKind::Ram, t.ram_size());
            out.push(effective(&ram, &defaults).memdev());
        }
    }
    out
}

/// The JSON report (feature `serde`).
#[cfg(feature = "serde")]
mod json {
    use serde::Serialize;

    use super::*;
    use crate::{Error, Vm};

    #[derive(Clone, Debug, Serialize)]
    struct MachineReport {
        #[serde(rename = "type")]
        machine_type: String,
        hmat: bool,
    }

    #[derive(Clone, Debug, Serialize)]
    struct SmpReport {
        cpus: u32,
        maxcpus: u32,
        sockets: u32,
        dies: u32,
        clusters: u32,
        modules: u32,
        cores: u32,
        threads: u32,
    }

    #[derive(Clone, Debug, Serialize)]
    #[serde(rename_all = "kebab-case")]
    struct MemoryReport {
        size: u64,
        slots: u64,
        max_size: u64,
    }

    #[derive(Clone, Debug, Serialize)]
    struct NodeReport {
        id: u32,
        cpus: Vec<u32>,
        size_bytes: u64,
        plugged_bytes: u64,
        memdev: Option<String>,
        initiator: Option<u32>,
        /// Generic initiators (PCI devices) on the node.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        generic_initiators: Vec<String>,
        /// Generic ports (CXL host bridges, `acpi:ACPI0016:UID`).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        generic_ports: Vec<String>,
    }

    #[derive(Clone, Debug, Serialize)]
    #[serde(rename_all = "kebab-case")]
    struct CpuReport {
        cpu_index: u32,
        present: bool,
        apic_id: u32,
        socket_id: u32,
        die_id: Option<u32>,
        /// QEMU 10.0 with more than one module per die.
        #[serde(skip_serializing_if = "Option::is_none")]
        module_id: Option<u32>,
        /// Boards with clusters (aarch64 `virt`).
        #[serde(skip_serializing_if = "Option::is_none")]
        cluster_id: Option<u32>,
        core_id: u32,
        thread_id: u32,
        node_id: Option<u32>,
    }

    #[derive(Clone, Debug, Serialize)]
    struct RangeReport {
        node: u32,
        start: u64,
        end: u64,
    }

    /// The JSON report of an accepted configuration (see the CLI's docs for
    /// the schema).
    #[derive(Clone, Debug, Serialize)]
    pub struct Report {
        accepted: bool,
        /// The QEMU release whose rules gave the answer (`"10.0"`), null
        /// for a board that is not QEMU's.
        qemu_version: Option<String>,
        /// The guest architecture of a QEMU board (`"x86_64"`,
        /// `"aarch64"`), null for a board that is not QEMU's.
        arch: Option<&'static str>,
        machine: MachineReport,
        smp: SmpReport,
        memory: MemoryReport,
        warnings: Vec<String>,
        info_numa: String,
        nodes: Vec<NodeReport>,
        cpus: Vec<CpuReport>,
        distances: Option<Vec<Vec<u8>>>,
        memdevs: Vec<Memdev>,
        memory_devices: Vec<crate::MemoryDeviceInfo>,
        ranges: Vec<RangeReport>,
    }

    impl Report {
        pub(crate) fn new(vm: &Vm) -> Report {
            let t = vm.topology();
            let layout = vm.layout();
            let c = t.cpu_topology();
            let n = t.nodes().len();
            Report {
                accepted: true,
                qemu_version: t.machine().qemu.map(|v| v.to_string()),
                arch: if t.machine().virt.is_some() {
                    Some(vnuma_topology::Target::Aarch64.as_str())
                } else if t.machine().x86.is_some() {
                    Some(vnuma_topology::Target::X86_64.as_str())
                } else {
                    None
                },
                machine: MachineReport {
                    machine_type: t.machine().name.clone(),
                    hmat: t.hmat_enabled(),
                },
                smp: SmpReport {
                    cpus: c.cpus,
                    maxcpus: c.max_cpus,
                    sockets: c.sockets,
                    dies: c.dies,
                    clusters: c.clusters,
                    modules: c.modules,
                    cores: c.cores,
                    threads: c.threads,
                },
                memory: MemoryReport {
                    size: t.ram_size(),
                    slots: t.ram_slots(),
                    max_size: t.max_ram_size(),
                },
                warnings: t.warnings().iter().map(ToString::to_string).collect(),
                info_numa: vm.info_numa(),
                nodes: t
                    .nodes()
                    .iter()
                    .map(|node| NodeReport {
                        id: node.id,
                        cpus: t.node_cpus(node.id).collect(),
                        size_bytes: layout.node_size(node.id),
                        plugged_bytes: layout.node_plugged(node.id),
                        memdev: node.memdev.clone(),
                        initiator: node.initiator,
                        generic_initiators: node.devices.clone(),
                        generic_ports: node.ports.clone(),
                    })
                    .collect(),
                cpus: t
                    .cpus()
                    .iter()
                    .map(|cpu| CpuReport {
                        cpu_index: cpu.slot.index,
                        present: cpu.present,
                        apic_id: cpu.slot.apic_id,
                        socket_id: cpu.slot.socket_id,
                        die_id: cpu.slot.die_id,
                        module_id: cpu.slot.module_id,
                        cluster_id: cpu.slot.cluster_id,
                        core_id: cpu.slot.core_id,
                        thread_id: cpu.slot.thread_id,
                        node_id: cpu.node,
                    })
                    .collect(),
                distances: t
                    .distances()
                    .map(|d| d.chunks(n.max(1)).map(<[u8]>::to_vec).collect()),
                memdevs: vm.query_memdev(),
                memory_devices: vm.query_memory_devices(),
                ranges: layout
                    .ranges()
                    .map(|(r, owner)| RangeReport {
                        node: owner.node(),
                        start: r.start(),
                        end: r.end().unwrap_or(u64::MAX),
                    })
                    .collect(),
            }
        }

        /// The report as one line of JSON.
        pub fn to_json(&self) -> String {
            serde_json::to_string(self).unwrap_or_default()
        }
    }

    /// The JSON report of a rejected configuration.
    #[derive(Clone, Debug, Serialize)]
    pub struct Rejection {
        accepted: bool,
        /// The QEMU release whose rules gave the answer, when known
        /// ([`Rejection::for_qemu`]).
        #[serde(skip_serializing_if = "Option::is_none")]
        qemu_version: Option<String>,
        /// The guest architecture the command line was read for, when
        /// known ([`Rejection::for_target`]).
        #[serde(skip_serializing_if = "Option::is_none")]
        arch: Option<&'static str>,
        error: String,
        error_location: Option<String>,
        warnings: Vec<String>,
    }

    impl Rejection {
        /// The report of `error`, with the warnings QEMU printed before it.
        pub fn new(error: &Error, warnings: Vec<String>) -> Rejection {
            Rejection {
                accepted: false,
                qemu_version: None,
                arch: None,
                error: error.to_string(),
                error_location: error.location().map(ToString::to_string),
                warnings,
            }
        }

        /// The same, saying which QEMU release's rules rejected it
        /// (`qemu_version`: `"10.0"`).
        pub fn for_qemu(mut self, profile: vnuma_topology::Profile) -> Rejection {
            self.qemu_version = profile.qemu_version().map(|v| v.to_string());
            self
        }

        /// The same, saying for which guest architecture (`arch`:
        /// `"aarch64"`).
        pub fn for_target(mut self, target: vnuma_topology::Target) -> Rejection {
            self.arch = Some(target.as_str());
            self
        }

        /// The report as one line of JSON.
        pub fn to_json(&self) -> String {
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}

#[cfg(feature = "serde")]
pub use json::{Rejection, Report};

/// One entry of QEMU's `query-memory-devices`: the device's type and its
/// data, with QEMU's member names.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MemoryDeviceInfo {
    /// `dimm`, `nvdimm`, `virtio-mem` or `virtio-pmem`.
    #[cfg_attr(feature = "serde", serde(rename = "type"))]
    pub kind: &'static str,
    /// The device's properties.
    pub data: MemoryDeviceData,
}

/// The data of a [`MemoryDeviceInfo`]; members a type does not have are
/// left out.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub struct MemoryDeviceData {
    /// The device id.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub id: Option<String>,
    /// DIMMs: the guest-physical address.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub addr: Option<u64>,
    /// virtio devices: the guest-physical address.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub memaddr: Option<u64>,
    /// Bytes (virtio-mem: plugged bytes).
    pub size: u64,
    /// virtio-mem: the region's size.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub max_size: Option<u64>,
    /// virtio-mem: bytes requested.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub requested_size: Option<u64>,
    /// virtio-mem: the block size.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub block_size: Option<u64>,
    /// DIMMs: the slot.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub slot: Option<u32>,
    /// The node (not virtio-pmem).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub node: Option<u32>,
    /// The backend's QOM path.
    pub memdev: String,
    /// DIMMs: plugged after boot.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub hotplugged: Option<bool>,
    /// DIMMs: can be unplugged.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub hotpluggable: Option<bool>,
}

/// `query-memory-devices`: the devices in address order.
pub(crate) fn query_memory_devices(t: &Topology) -> Vec<MemoryDeviceInfo> {
    use vnuma_topology::MemoryDeviceKind;
    let mut devices: Vec<_> = t.devices().iter().collect();
    devices.sort_by_key(|d| d.range.start());
    devices
        .into_iter()
        .map(|d| {
            let c = &d.config;
            let size = u64::try_from(d.range.size()).unwrap_or(u64::MAX);
            let mut data = MemoryDeviceData {
                id: c.id.clone(),
                addr: None,
                memaddr: None,
                size,
                max_size: None,
                requested_size: None,
                block_size: None,
                slot: d.slot,
                node: d.node,
                memdev: format!("/objects/{}", c.backend.as_deref().unwrap_or_default()),
                hotplugged: None,
                hotpluggable: None,
            };
            let kind = match c.kind {
                MemoryDeviceKind::Dimm | MemoryDeviceKind::Nvdimm { .. } => {
                    data.addr = Some(d.range.start());
                    data.hotplugged = Some(false);
                    data.hotpluggable = Some(true);
                    if matches!(c.kind, MemoryDeviceKind::Dimm) {
                        "dimm"
                    } else {
                        "nvdimm"
                    }
                }
                MemoryDeviceKind::VirtioMem {
                    requested_size,
                    block_size,
                } => {
                    data.memaddr = Some(d.range.start());
                    data.size = d.plugged();
                    data.max_size = Some(size);
                    data.requested_size = Some(requested_size);
                    data.block_size = Some(block_size);
                    "virtio-mem"
                }
                MemoryDeviceKind::VirtioPmem => {
                    data.memaddr = Some(d.range.start());
                    "virtio-pmem"
                }
            };
            MemoryDeviceInfo { kind, data }
        })
        .collect()
}
