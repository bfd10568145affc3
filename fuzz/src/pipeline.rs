//! The `pipeline` target: a structure-aware command line through parse,
//! resolve and the memory layout, with the topology's invariants checked
//! on success and the error's location checked on failure.
//!
//! Values are bounded and mostly plausible (node memory often adds up to
//! `-m`, CPU indexes near `-smp`), with faults mixed in: out-of-range ids,
//! raw text in place of an option, shuffled order. Memory devices
//! (keyval and JSON `-device`) and ACPI switches are drawn too, and their
//! invariants checked ([`check_devices`]).

use arbitrary::Arbitrary;
use vnuma_options::CommandLine;
use vnuma_topology::layout::{MemoryLayout, Owner, LOW_WINDOW};
use vnuma_topology::{Config, MemoryDeviceKind, Profile, Target, Topology};

const MACHINES: &[&str] = &[
    "pc",
    "q35",
    "pc-i440fx-7.2",
    "pc-q35-7.2",
    "pc-i440fx-6.1",
    "pc-q35-5.0",
    "pc-i440fx-5.0",
    "pc-i440fx-2.10",
    "pc-i440fx-2.0",
    "pc-q35-2.4",
    "pc-i440fx-1.7",
    "pc-q35-10.0",
    "pc-i440fx-9.2",
    "pc-q35-8.1",
    "isapc",
    "",
];

/// The `-smp` of a case.
#[derive(Arbitrary, Clone, Debug)]
pub struct Smp {
    cpus: Option<u8>,
    sockets: Option<u8>,
    dies: Option<u8>,
    cores: Option<u8>,
    threads: Option<u8>,
    maxcpus: Option<u16>,
}

/// A memory backend: size in MiB (small: nothing is allocated).
#[derive(Arbitrary, Clone, Debug)]
pub struct Backend {
    mib: u8,
    kind: u8,
    extra: Option<u8>,
}

/// One `-numa` option, with small ids.
#[derive(Arbitrary, Clone, Debug)]
pub enum Numa {
    /// `node`.
    Node {
        /// nodeid.
        nodeid: Option<u8>,
        /// CPU ranges.
        cpus: Vec<(u8, u8)>,
        /// Backend index.
        memdev: Option<u8>,
        /// Legacy MiB.
        mem: Option<u8>,
        /// Initiator.
        initiator: Option<u8>,
    },
    /// `dist`.
    Dist(u8, u8, u8),
    /// `cpu`.
    Cpu {
        /// node-id.
        node: Option<i8>,
        /// socket-id.
        socket: Option<i8>,
        /// die-id.
        die: Option<i8>,
        /// core-id.
        core: Option<i8>,
        /// thread-id.
        thread: Option<i8>,
    },
    /// `hmat-lb`.
    HmatLb {
        /// initiator.
        initiator: u8,
        /// target.
        target: u8,
        /// hierarchy.
        hierarchy: u8,
        /// data type.
        data_type: u8,
        /// latency.
        latency: Option<u16>,
        /// bandwidth in MiB/s.
        bandwidth_mib: Option<u16>,
    },
    /// `hmat-cache`.
    HmatCache {
        /// node-id.
        node: u8,
        /// size in KiB.
        kib: u16,
        /// level.
        level: u8,
    },
    /// Raw text as the `-numa` argument.
    Raw(String),
}

/// A memory device with its own backend.
#[derive(Arbitrary, Clone, Debug)]
pub struct Device {
    /// pc-dimm, nvdimm, virtio-mem-pci, virtio-pmem-pci.
    kind: u8,
    /// The backend's size in 2 MiB units (odd sizes through `extra`).
    size_2m: u8,
    /// ram or memfd.
    backend: u8,
    node: Option<u8>,
    slot: Option<u8>,
    /// A fixed address, in 256 MiB steps from 4 GiB.
    addr_256m: Option<u8>,
    /// label-size, requested-size, an odd size, a busy memdev.
    extra: Option<u8>,
    /// The JSON form of `-device`.
    json: bool,
}

/// A whole command line.
#[derive(Arbitrary, Clone, Debug)]
pub struct Input {
    machine: u8,
    hmat: bool,
    /// `-m` in MiB; `None`: the sum of the backends (often what fits).
    mem: Option<u16>,
    slots: Option<u8>,
    maxmem_extra_gib: Option<u8>,
    below_4g: Option<u8>,
    smp: Option<Smp>,
    backends: Vec<Backend>,
    numa: Vec<Numa>,
    /// Memory devices (with slots and maxmem unless the input sets them).
    devices: Vec<Device>,
    /// 1: `-no-acpi`, 2: `-machine acpi=off`, 3: `acpi=on`.
    acpi: u8,
    /// Swap two options before rendering.
    swap: Option<(u8, u8)>,
    /// Odd: QEMU 10.0's rules ([`Profile::Qemu100`]), else QEMU 7.2's.
    /// Last, so that inputs drawn before it existed keep their meaning.
    profile: u8,
    /// 1 (mod 4): Arm's `virt` board (`qemu-system-aarch64`, QEMU 7.2), with
    /// its CPU model, GIC version, `highmem` and firmware drawn from the
    /// other bits. After `profile`, for the same reason.
    board: u8,
    /// Low three bits all set: `virt` under QEMU 10.0's rules (which vnuma
    /// refuses: only 7.2's board is modelled); bit 3: `-nodefaults`; bit
    /// 4: `-mem-prealloc`; bits 5 and 6 both: the options of `more` (a switch, so that
    /// one bit turns these error-prone options off). After `board`, for
    /// the same reason.
    flags: u8,
    /// Options of the kinds drawn since (QEMU 10.0 syntax, PCI devices,
    /// generic initiators and ports, CXL, `-cpu`, rarer errors), last.
    more: Vec<More>,
}

/// Options drawn in addition to the ones above, each likely to reach a
/// check of its own: what QEMU 10.0 added (hex sizes, books, drawers and
/// modules, `memory-backend-shm`, file `offset`/`rom`,
/// `acpi-generic-initiator`, `acpi-generic-port`, CXL host bridges and
/// fixed memory windows), PCI devices whose slots a generic initiator
/// reads, x86 `-cpu` models, and rarer properties of the usual options.
#[derive(Arbitrary, Clone, Debug)]
pub enum More {
    /// `-machine` with one more property (`MACHINE_PROPS`).
    Machine(u8),
    /// `-m` in another spelling (`MEM_TEXTS`).
    Mem(u8),
    /// `-smp` with the members 10.0 added or a board may refuse.
    Smp {
        /// `books`.
        books: Option<u8>,
        /// `drawers`.
        drawers: Option<u8>,
        /// `modules`.
        modules: Option<u8>,
        /// `clusters`.
        clusters: Option<u8>,
        /// `cpus`.
        cpus: Option<u8>,
    },
    /// An x86 `-cpu` model with `phys-bits`/`vendor`.
    Cpu {
        /// Index into `X86_CPUS`.
        model: u8,
        /// `phys-bits`.
        phys_bits: Option<u8>,
        /// 1: `vendor=AuthenticAMD`, 2: `vendor=GenuineIntel`.
        vendor: u8,
    },
    /// A memory backend of another kind or with rarer properties
    /// (`BACKEND_TEXTS`), as `-object`, id `x{n}`.
    Backend {
        /// Index into `BACKEND_TEXTS`.
        kind: u8,
        /// Size in MiB.
        mib: u8,
    },
    /// A PCI device on the root bus (or not), id `d{id}`.
    Pci {
        /// Index into `PCI_MODELS`.
        model: u8,
        /// Its id number.
        id: u8,
        /// `addr=` slot (and function from the high bits).
        addr: Option<u8>,
        /// Put it behind a bridge (`bus=`).
        bridge: bool,
    },
    /// `-object acpi-generic-initiator,id=gi{id},pci-dev=d{dev},node=N`.
    GenericInitiator {
        /// Its id number.
        id: u8,
        /// The device's id number.
        dev: u8,
        /// The node (small, or raw when above 0xf0).
        node: u8,
    },
    /// `-device pxb-cxl,bus_nr=N,bus=pcie.0,id=cxl{id}[,addr=S]`.
    PxbCxl {
        /// Its id number.
        id: u8,
        /// `bus_nr`.
        bus_nr: u8,
        /// `addr=`.
        addr: Option<u8>,
    },
    /// `-object acpi-generic-port,id=gp{id},pci-bus=cxl{bus},node=N`
    /// (`pci-bus=pcie.0` when `bus` is 0xff).
    GenericPort {
        /// Its id number.
        id: u8,
        /// The bridge's id number.
        bus: u8,
        /// The node.
        node: u8,
    },
    /// A thread context, and a backend preallocated with it.
    ThreadContext {
        /// `node-affinity` or `cpu-affinity`, by the low bit; the value.
        affinity: u8,
        /// Name a context that is not one.
        wrong: bool,
    },
    /// A memory device with a property of its own (`DEVICE_TEXTS`).
    Device(u8),
    /// `-mem-path`.
    MemPath,
    /// Raw text as an option and its argument.
    Raw(String, String),
}

/// `-machine` properties for [`More::Machine`].
const MACHINE_PROPS: &[&str] = &[
    "cxl=on",
    "cxl=on,cxl-fmw.0.targets.0=cxl0,cxl-fmw.0.size=4G",
    "cxl-fmw.0.targets.0=cxl0,cxl-fmw.0.size=4G",
    "cxl=on,cxl-fmw.0.targets.0=cxl1,cxl-fmw.0.targets.1=cxl0,cxl-fmw.0.size=8G,cxl-fmw.0.interleave-granularity=8k",
    "memory-backend=m0",
    "memory-backend=x0",
    "memory-backend=nope",
    "virtualization=on",
    "gic-version=host",
    "gic-version=4",
    "gic-version=5",
    "smp.cpus=4,smp.sockets=2",
    "smp.cpus=4,smp.bogus=1",
    "smp=4",
    "memory.size=1G",
    "memory.size=0x40000000",
    "memory.size=1x",
    "memory.slots=2,memory.maxmem=4G",
    "max-ram-below-4g=0x80000000",
    "max-ram-below-4g=4G",
    "max-ram-below-4g=1x",
    "hmat=off",
    "acpi=auto",
    "acpi=maybe",
    "nvdimm=on",
    "nvdimm-persistence=cpu",
    "highmem=off",
    "its=off",
    "ras=on",
    "mte=on",
    "secure=on",
    "dump-guest-core=off",
    "mem-merge=off",
    "type=q35,type=pc",
    "memory.size=1G,memory=2G",
    "bogus=on",
    "sgx-epc.0.memdev=m0",
];

/// `-m` texts for [`More::Mem`].
const MEM_TEXTS: &[&str] = &[
    "0x10000000",
    "0x10M",
    "1T",
    "1100G,maxmem=1200G,slots=2",
    "size=256M,slots=300,maxmem=1G",
    "size=256M,slots=2,maxmem=255M",
    "size=256M,slots=2,maxmem=1023M",
    "size=256M,slots=2,maxmem=0x7fffffff00000000",
    "256M,maxmem=1G",
    "256M,slots=2",
    "size=0",
    "16E",
    "1.5G",
    "0x1p3M",
    "2048",
    "size=128M,size=256M",
    "256M,bogus=1",
];

/// x86 CPU models for [`More::Cpu`].
const X86_CPUS: &[&str] = &[
    "qemu64",
    "max",
    "host",
    "EPYC",
    "Skylake-Server",
    "Opteron_G5",
    "core2duo",
];

/// Backend texts for [`More::Backend`] (`ID` and `SIZE` filled in).
const BACKEND_TEXTS: &[&str] = &[
    "memory-backend-file,id=ID,size=SIZE,mem-path=/dev/shm/vnuma",
    "memory-backend-file,id=ID,size=SIZE,mem-path=/dev/shm/vnuma,offset=0x200000,rom=off,readonly=on,share=on",
    "memory-backend-file,id=ID,size=SIZE,mem-path=/dev/shm/vnuma,rom=on",
    "memory-backend-file,id=ID,size=SIZE,mem-path=/dev/shm/vnuma,rom=on,readonly=on",
    "memory-backend-file,id=ID,size=SIZE,mem-path=/dev/shm/vnuma,align=2M,discard-data=on,pmem=off",
    "memory-backend-file,id=ID,size=SIZE,mem-path=/dev/shm/vnuma,offset=1",
    "memory-backend-shm,id=ID,size=SIZE",
    "memory-backend-shm,id=ID,size=SIZE,share=off",
    "memory-backend-memfd,id=ID,size=SIZE,hugetlb=on,hugetlbsize=0",
    "memory-backend-memfd,id=ID,size=SIZE,hugetlb=on,hugetlbsize=2M,seal=off",
    "memory-backend-ram,id=ID,size=SIZE,host-nodes=200,policy=bind",
    "memory-backend-ram,id=ID,size=SIZE,host-nodes=0-1,policy=interleave",
    "memory-backend-ram,id=ID,size=SIZE,policy=preferred",
    "memory-backend-ram,id=ID,size=0xSIZE",
    "memory-backend-ram,id=ID,size=SIZE,x-use-canonical-path-for-ramblock-id=off",
    "memory-backend-epc,id=ID,size=SIZE",
    "memory-backend-ram,id=ID",
    "memory-backend-ram,id=mem0,size=SIZE",
    "memory-backend-ram,id=pc.ram,size=SIZE",
    "memory-backend-ram,id=ID,size=SIZE,prealloc=on,prealloc-threads=2",
];

/// PCI device models for [`More::Pci`] (the last are not PCI).
const PCI_MODELS: &[&str] = &[
    "virtio-balloon-pci",
    "pci-testdev",
    "virtio-net-pci",
    "e1000",
    "pcie-root-port",
    "isa-serial",
    "cxl-type3",
];

/// Memory devices with rarer properties for [`More::Device`] (backend
/// `m0`, the first drawn).
const DEVICE_TEXTS: &[&str] = &[
    "nvdimm,id=nv9,memdev=m0,label-size=1",
    "virtio-mem-pci,id=vm9,memdev=m0,block-size=3M",
    "virtio-mem-pci,id=vm9,memdev=m0,block-size=1M",
    "virtio-mem-pci,id=vm9,memdev=m0,size=0",
    "virtio-mem-pci,id=vm9,memdev=m0,prealloc=on",
    "virtio-pmem-pci,id=vp9,memdev=m0,bogus=1",
    "pc-dimm,id=d9,memdev=m0,size=1G",
    "pc-dimm,id=d9,memdev=m0,addr=0x100000001",
    "pc-dimm,id=d9",
    "pc-dimm,id=d9,memdev=m0,node=0,slot=0,addr=0",
    "nvdimm,id=nv9,memdev=m0,unarmed=on,uuid=0",
    "{\"driver\":\"pc-dimm\",\"id\":\"j9\",\"memdev\":\"m0\",\"addr\":\"x\"}",
    "{\"driver\":\"virtio-mem-pci\",\"memdev\":\"m0\",\"requested-size\":3}",
];

/// A small id (0-3), or a raw one (from 0xf0) for the range checks.
fn small(v: u8) -> u8 {
    if v >= 0xf0 {
        v
    } else {
        v % 4
    }
}

/// `virt` machine types whose rules differ (GED from 4.2, automatic NUMA
/// from 4.2/5.1, `mem=` up to 5.0, sockets preferred before 6.2, MPIDR
/// clusters of 8 on 2.6).
const VIRT_MACHINES: &[&str] = &[
    "virt", "virt-7.2", "virt-6.1", "virt-5.0", "virt-4.1", "virt-2.6",
];
/// CPU models with different address widths (a15: 32-bit, a53: 40 bits).
const VIRT_CPUS: &[&str] = &[
    "cortex-a57",
    "max",
    "cortex-a53",
    "cortex-a72",
    "cortex-a15",
];

/// The QEMU rules a case runs under: the release and the target (x86's
/// pc/q35 or Arm's `virt`), read from an [`Input`] by [`Input::rules`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    /// Which QEMU release.
    pub profile: Profile,
    /// Which `qemu-system-*`.
    pub target: Target,
}

fn kv(out: &mut String, key: &str, v: Option<impl core::fmt::Display>) {
    if let Some(v) = v {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(&format!("{key}={v}"));
    }
}

impl Input {
    /// The rules this input runs under.
    pub fn rules(&self) -> Rules {
        if self.virt() {
            // Only QEMU 7.2's virt is modelled: 10.0's is refused, which
            // is drawn now and then.
            return Rules {
                profile: if self.flags & 7 == 7 {
                    Profile::Qemu100
                } else {
                    Profile::Qemu72
                },
                target: Target::Aarch64,
            };
        }
        Rules {
            profile: if self.profile % 2 == 1 {
                Profile::Qemu100
            } else {
                Profile::Qemu72
            },
            target: Target::X86_64,
        }
    }

    fn virt(&self) -> bool {
        self.board % 4 == 1
    }

    /// The QEMU-style argv this input stands for.
    pub fn argv(&self) -> Vec<String> {
        let mut opts: Vec<(String, String)> = Vec::new();
        let virt = self.virt();
        let machine = if virt {
            VIRT_MACHINES[usize::from(self.machine) % VIRT_MACHINES.len()]
        } else {
            MACHINES[usize::from(self.machine) % MACHINES.len()]
        };
        let mut m = format!("type={machine}");
        if virt {
            match (self.board >> 2) % 4 {
                1 => m.push_str(",gic-version=3"),
                2 => m.push_str(",gic-version=2"),
                3 => m.push_str(",gic-version=max"),
                _ => {}
            }
            if (self.board >> 4) % 4 == 1 {
                m.push_str(",highmem=off");
            }
        }
        if self.hmat {
            m.push_str(",hmat=on");
        }
        let devices: Vec<&Device> = self.devices.iter().take(6).collect();
        if devices
            .iter()
            .any(|d| d.kind % 4 == 1 && d.extra != Some(0))
        {
            m.push_str(",nvdimm=on");
        }
        match self.acpi % 4 {
            2 => m.push_str(",acpi=off"),
            3 => m.push_str(",acpi=on"),
            _ => {}
        }
        if let Some(b) = self.below_4g.filter(|_| !virt) {
            m.push_str(&format!(",max-ram-below-4g={}M", u32::from(b) * 32));
        }
        opts.push(("-machine".into(), m));
        if virt {
            let cpu = VIRT_CPUS[usize::from(self.board >> 5) % VIRT_CPUS.len()];
            opts.push(("-cpu".into(), cpu.into()));
            // Firmware (any file name: only its presence matters), which
            // memory hotplug needs.
            if self.board & 0x80 == 0 {
                opts.push(("-bios".into(), "QEMU_EFI.fd".into()));
            }
        }
        if self.acpi % 4 == 1 {
            opts.push(("-no-acpi".into(), String::new()));
        }
        let backends: Vec<&Backend> = self.backends.iter().take(8).collect();
        let sum: u32 = backends.iter().map(|b| u32::from(b.mib.max(1))).sum();
        let ram = self.mem.map_or(sum.max(1), u32::from);
        let mut mem = format!("{ram}M");
        let hotplug = !devices.is_empty();
        match self.slots {
            Some(s) => mem.push_str(&format!(",slots={}", s % 8)),
            None if hotplug => mem.push_str(",slots=4"),
            None => {}
        }
        match self.maxmem_extra_gib {
            Some(g) => mem.push_str(&format!(",maxmem={}M", ram + u32::from(g % 16) * 1024)),
            None if hotplug => mem.push_str(&format!(",maxmem={}M", ram + 4096)),
            None => {}
        }
        opts.push(("-m".into(), mem));
        if let Some(s) = &self.smp {
            let mut t = String::new();
            kv(&mut t, "cpus", s.cpus);
            kv(&mut t, "sockets", s.sockets.map(|v| v % 8));
            // virt has clusters and refuses dies.
            let dies = if virt { "clusters" } else { "dies" };
            kv(&mut t, dies, s.dies.map(|v| v % 4));
            kv(&mut t, "cores", s.cores.map(|v| v % 16));
            kv(&mut t, "threads", s.threads.map(|v| v % 4));
            kv(&mut t, "maxcpus", s.maxcpus.map(|v| v % 300));
            opts.push(("-smp".into(), t));
        }
        for (i, b) in backends.iter().enumerate() {
            let kind = [
                "memory-backend-ram",
                "memory-backend-memfd",
                "memory-backend-ram,share=on",
            ][usize::from(b.kind) % 3];
            let mut text = format!("{kind},id=m{i},size={}M", b.mib.max(1));
            match b.extra.map(|e| e % 6) {
                Some(0) => text.push_str(",host-nodes=0,policy=bind"),
                Some(1) => text.push_str(",prealloc=on,reserve=off"),
                Some(2) => text.push_str(",policy=bind"),
                Some(3) => text.push_str(",merge=off,dump=off"),
                Some(4) => text.push_str(",prealloc-threads=0"),
                _ => {}
            }
            opts.push(("-object".into(), text));
        }
        for n in self.numa.iter().take(24) {
            let text = match n {
                Numa::Node {
                    nodeid,
                    cpus,
                    memdev,
                    mem,
                    initiator,
                } => {
                    let mut t = String::from("node");
                    kv(&mut t, "nodeid", *nodeid);
                    for &(a, b) in cpus.iter().take(4) {
                        kv(&mut t, "cpus", Some(if a < b { format!("{a}-{b}") } else { a.to_string() }));
                    }
                    kv(&mut t, "memdev", memdev.map(|d| format!("m{}", d % 9)));
                    kv(&mut t, "mem", mem.map(|m| format!("{m}M")));
                    kv(&mut t, "initiator", *initiator);
                    t
                }
                Numa::Dist(s, d, v) => {
                    format!("dist,src={},dst={},val={v}", small(*s), small(*d))
                }
                Numa::Cpu {
                    node,
                    socket,
                    die,
                    core,
                    thread,
                } => {
                    let mut t = String::from("cpu");
                    kv(&mut t, "node-id", *node);
                    kv(&mut t, "socket-id", *socket);
                    kv(&mut t, "die-id", *die);
                    kv(&mut t, "core-id", *core);
                    kv(&mut t, "thread-id", *thread);
                    t
                }
                Numa::HmatLb {
                    initiator,
                    target,
                    hierarchy,
                    data_type,
                    latency,
                    bandwidth_mib,
                } => {
                    let h = ["memory", "first-level", "second-level", "third-level"][usize::from(*hierarchy) % 4];
                    let d = [
                        "access-latency",
                        "read-latency",
                        "write-latency",
                        "access-bandwidth",
                        "read-bandwidth",
                        "write-bandwidth",
                    ][usize::from(*data_type) % 6];
                    let mut t = format!(
                        "hmat-lb,initiator={},target={},hierarchy={h},data-type={d}",
                        small(*initiator),
                        small(*target)
                    );
                    kv(&mut t, "latency", *latency);
                    kv(&mut t, "bandwidth", bandwidth_mib.map(|b| format!("{b}M")));
                    t
                }
                Numa::HmatCache { node, kib, level } => format!(
                    "hmat-cache,node-id={},size={kib}K,level={},associativity=direct,policy=write-back,line=64",
                    small(*node),
                    level % 5
                ),
                Numa::Raw(s) => s.chars().take(64).collect(),
            };
            opts.push(("-numa".into(), text));
        }
        for (i, d) in devices.iter().enumerate() {
            let extra = d.extra.map(|e| e % 8);
            let mib = u32::from(d.size_2m % 64).max(1) * 2 + u32::from(extra == Some(3));
            let backend =
                ["memory-backend-ram", "memory-backend-memfd"][usize::from(d.backend) % 2];
            opts.push(("-object".into(), format!("{backend},id=dev{i},size={mib}M")));
            let kind =
                ["pc-dimm", "nvdimm", "virtio-mem-pci", "virtio-pmem-pci"][usize::from(d.kind) % 4];
            let dimm = d.kind % 4 < 2;
            let memdev = if extra == Some(4) {
                "m0".to_string()
            } else {
                format!("dev{i}")
            };
            let mut props: Vec<(&str, String, bool)> =
                vec![("id", format!("md{i}"), false), ("memdev", memdev, false)];
            if let Some(n) = d.node {
                props.push(("node", (n % 5).to_string(), true));
            }
            if let Some(s) = d.slot.filter(|_| dimm) {
                props.push(("slot", (s % 6).to_string(), true));
            }
            if let Some(a) = d.addr_256m {
                let addr = (1u64 << 32) + u64::from(a % 32) * (256 << 20);
                props.push((
                    if dimm { "addr" } else { "memaddr" },
                    addr.to_string(),
                    true,
                ));
            }
            match (d.kind % 4, extra) {
                (1, Some(1)) => props.push(("label-size", "131072".into(), true)),
                (2, Some(1)) => props.push(("requested-size", "2097152".into(), true)),
                (2, Some(2)) => props.push(("block-size", "4194304".into(), true)),
                _ => {}
            }
            let text = if d.json {
                let members: Vec<String> = props
                    .iter()
                    .map(|(k, v, num)| {
                        if *num {
                            format!("\"{k}\":{v}")
                        } else {
                            format!("\"{k}\":\"{v}\"")
                        }
                    })
                    .collect();
                format!("{{\"driver\":\"{kind}\",{}}}", members.join(","))
            } else {
                let mut t = kind.to_string();
                for (k, v, _) in &props {
                    t.push_str(&format!(",{k}={v}"));
                }
                t
            };
            opts.push(("-device".into(), text));
        }
        if self.flags & 8 != 0 {
            opts.push(("-nodefaults".into(), String::new()));
        }
        if self.flags & 16 != 0 {
            opts.push(("-mem-prealloc".into(), String::new()));
        }
        let more = if self.flags & 0x60 == 0x60 {
            &self.more[..]
        } else {
            &[]
        };
        for (n, more) in more.iter().take(6).enumerate() {
            more.render(n, &mut opts);
        }
        if let Some((a, b)) = self.swap {
            if !opts.is_empty() {
                let (a, b) = (usize::from(a) % opts.len(), usize::from(b) % opts.len());
                opts.swap(a, b);
            }
        }
        opts.into_iter()
            .flat_map(|(o, a)| if a.is_empty() { vec![o] } else { vec![o, a] })
            .collect()
    }
}

impl More {
    /// Append this option (and what it needs) to `opts`; `n` numbers the
    /// objects it creates.
    fn render(&self, n: usize, opts: &mut Vec<(String, String)>) {
        let pick = |list: &[&'static str], i: u8| list[usize::from(i) % list.len()];
        let mut push = |o: &str, a: String| opts.push((o.into(), a));
        match self {
            More::Machine(i) => push("-machine", pick(MACHINE_PROPS, *i).into()),
            More::Mem(i) => push("-m", pick(MEM_TEXTS, *i).into()),
            More::Smp {
                books,
                drawers,
                modules,
                clusters,
                cpus,
            } => {
                let mut t = String::new();
                kv(&mut t, "cpus", *cpus);
                kv(&mut t, "drawers", drawers.map(|v| v % 4));
                kv(&mut t, "books", books.map(|v| v % 4));
                kv(&mut t, "modules", modules.map(|v| v % 4));
                kv(&mut t, "clusters", clusters.map(|v| v % 4));
                push("-smp", t);
            }
            More::Cpu {
                model,
                phys_bits,
                vendor,
            } => {
                let mut t = pick(X86_CPUS, *model).to_string();
                kv(&mut t, "phys-bits", phys_bits.map(|b| 32 + b % 24));
                match vendor % 4 {
                    1 => t.push_str(",vendor=AuthenticAMD"),
                    2 => t.push_str(",vendor=GenuineIntel"),
                    _ => {}
                }
                push("-cpu", t);
            }
            More::Backend { kind, mib } => {
                let size = format!("{}M", mib.max(&1));
                let text = pick(BACKEND_TEXTS, *kind)
                    .replace("ID", &format!("x{n}"))
                    .replace("0xSIZE", &format!("0x{:x}", u32::from(*mib.max(&1)) << 20))
                    .replace("SIZE", &size);
                push("-object", text);
            }
            More::Pci {
                model,
                id,
                addr,
                bridge,
            } => {
                let mut t = format!("{},id=d{}", pick(PCI_MODELS, *model), id % 4);
                if let Some(a) = addr {
                    // Slot 0-31, and a function from the top bits.
                    t.push_str(&format!(",addr=0x{:x}", a % 32));
                    if a & 0x80 != 0 {
                        t.push_str(&format!(".{}", (a >> 5) & 3));
                    }
                }
                if *bridge {
                    t.push_str(",bus=cxl0");
                }
                push("-device", t);
            }
            More::GenericInitiator { id, dev, node } => push(
                "-object",
                format!(
                    "acpi-generic-initiator,id=gi{},pci-dev=d{},node={}",
                    id % 4,
                    dev % 4,
                    small(*node)
                ),
            ),
            More::PxbCxl { id, bus_nr, addr } => {
                let mut t = format!("pxb-cxl,bus_nr={bus_nr},bus=pcie.0,id=cxl{}", id % 2);
                kv(&mut t, "addr", addr.map(|a| a % 32));
                push("-device", t);
            }
            More::GenericPort { id, bus, node } => {
                let bus = if *bus == 0xff {
                    "pcie.0".to_string()
                } else {
                    format!("cxl{}", bus % 2)
                };
                push(
                    "-object",
                    format!(
                        "acpi-generic-port,id=gp{},pci-bus={bus},node={}",
                        id % 4,
                        small(*node)
                    ),
                );
            }
            More::ThreadContext { affinity, wrong } => {
                let a = if affinity & 1 == 0 {
                    format!("node-affinity={}", (affinity >> 1) % 4)
                } else {
                    format!("cpu-affinity={}", (affinity >> 1) % 4)
                };
                push("-object", format!("thread-context,id=tc{n},{a}"));
                let ctx = if *wrong {
                    "m0".to_string()
                } else {
                    format!("tc{n}")
                };
                push(
                    "-object",
                    format!(
                        "memory-backend-ram,id=t{n},size=2M,prealloc=on,prealloc-context={ctx}"
                    ),
                );
            }
            More::Device(i) => push("-device", pick(DEVICE_TEXTS, *i).into()),
            More::MemPath => push("-mem-path", "/dev/hugepages".into()),
            More::Raw(o, a) => push(
                &o.chars().take(16).collect::<String>(),
                a.chars().take(64).collect(),
            ),
        }
    }
}

/// Check a resolved topology and its layout.
pub fn check_topology(t: &Topology, layout: &MemoryLayout, args: &[String]) {
    let nodes = t.nodes().len();
    // Every possible CPU slot belongs to exactly one node (none without NUMA).
    for c in t.cpus() {
        match c.node {
            Some(n) => assert!(
                t.node_index(n).is_some(),
                "{args:?}: CPU {} on node {n} of {nodes}",
                c.slot.index
            ),
            None => assert_eq!(nodes, 0, "{args:?}: CPU {} without node", c.slot.index),
        }
    }
    assert_eq!(t.cpus().len() as u32, t.cpu_topology().max_cpus);
    // Node sizes sum to the RAM size.
    if nodes > 0 {
        let sum: u64 = t.nodes().iter().map(|n| n.mem).sum();
        assert_eq!(sum, t.ram_size(), "{args:?}");
    }
    // Distances: complete, 10 on the diagonal.
    if let Some(d) = t.distances() {
        assert_eq!(d.len(), nodes * nodes);
        for a in 0..nodes {
            for b in 0..nodes {
                let v = d[a * nodes + b];
                assert!(v >= 10, "{args:?}: distance {a}->{b} = {v}");
                if a == b {
                    assert_eq!(v, 10);
                }
            }
        }
    }
    // The layout covers exactly the RAM (less the 640K-1M window on x86)
    // and node_of agrees with a linear scan.
    let ranges: Vec<_> = layout.ranges().collect();
    let total: u128 = ranges
        .iter()
        .filter(|(_, o)| matches!(o, Owner::Boot(_)))
        .map(|(r, _)| r.size())
        .sum();
    let split = layout.split();
    let window = if t.machine().x86.is_some() && split.below_4g > LOW_WINDOW.0 {
        split.below_4g.min(LOW_WINDOW.1) - LOW_WINDOW.0
    } else {
        0
    };
    assert_eq!(total, u128::from(t.ram_size() - window), "{args:?}");
    for pair in ranges.windows(2) {
        assert!(
            pair[0].0.last() < pair[1].0.start(),
            "{args:?}: overlapping ranges"
        );
    }
    // Sorted and disjoint (just checked), so the range holding an address
    // of `r` is `r`, and the one holding the address after it is the next
    // range if that starts there: node_of agrees with a scan in O(n).
    let mut boot: Vec<(u32, u128)> = Vec::with_capacity(t.nodes().len());
    for (i, (r, owner)) in ranges.iter().enumerate() {
        assert_eq!(layout.owner_of(r.last()), Some((*r, *owner)), "{args:?}");
        for addr in [r.start(), r.start() / 2 + r.last() / 2] {
            assert_eq!(layout.node_of(addr), Some(owner.node()));
        }
        if let Some(after) = r.end() {
            let scan = ranges
                .get(i + 1)
                .filter(|(q, _)| q.start() == after)
                .map(|(_, o)| o.node());
            assert_eq!(layout.node_of(after), scan);
        }
        if let Owner::Boot(n) = owner {
            match boot.iter_mut().find(|(m, _)| m == n) {
                Some((_, size)) => *size += r.size(),
                None => boot.push((*n, r.size())),
            }
        }
    }
    // The layout's nodes are the topology's (node 0 alone without NUMA),
    // and the ranges of the first are those the scan gave it.
    let ids = layout.node_ids();
    assert_eq!(ids.len(), layout.node_count());
    if nodes == 0 {
        assert_eq!(ids, [0], "{args:?}");
    } else {
        assert!(
            ids.iter().copied().eq(t.nodes().iter().map(|n| n.id)),
            "{args:?}"
        );
    }
    if let Some(&first) = ids.first() {
        let of: u128 = layout.ranges_of(first).map(|r| r.size()).sum();
        let scan: u128 = ranges
            .iter()
            .filter(|(_, o)| o.node() == first)
            .map(|(r, _)| r.size())
            .sum();
        assert_eq!(of, scan, "{args:?}: ranges of node {first}");
    }
    for node in t.nodes() {
        let n = node.id;
        let covered: u128 = boot
            .iter()
            .find(|(m, _)| *m == n)
            .map_or(0, |&(_, size)| size);
        let mem = u128::from(node.mem);
        assert!(
            covered <= mem && mem - covered <= u128::from(window),
            "{args:?}: node {n}"
        );
    }
}

/// Check the memory devices of a resolved topology: each inside the
/// device-memory window, disjoint from each other and from boot RAM, on
/// an existing node (virtio-pmem on none), and the layout's plugged bytes
/// per node the sum of its devices' (virtio-pmem counted on node 0, or
/// the first node, as QEMU 7.2's `info numa` does).
pub fn check_devices(t: &Topology, layout: &MemoryLayout, args: &[String]) {
    let devices = t.devices();
    if devices.is_empty() {
        return;
    }
    let window = t
        .device_memory()
        .unwrap_or_else(|| panic!("{args:?}: devices without a device-memory window"));
    assert_eq!(layout.device_memory(), Some(window), "{args:?}");
    let boot: Vec<_> = layout
        .ranges()
        .filter(|(_, o)| matches!(o, Owner::Boot(_)))
        .map(|(r, _)| r)
        .collect();
    let ids: Vec<u32> = if t.nodes().is_empty() {
        vec![0]
    } else {
        t.nodes().iter().map(|n| n.id).collect()
    };
    let mut plugged = vec![0u64; ids.len()];
    for (i, d) in devices.iter().enumerate() {
        assert_eq!(
            window.intersection(&d.range),
            Some(d.range),
            "{args:?}: device {i} {:?} outside the window {window:?}",
            d.range
        );
        for (j, e) in devices.iter().enumerate().skip(i + 1) {
            assert!(
                !d.range.overlaps(&e.range),
                "{args:?}: devices {i} and {j} overlap"
            );
        }
        for b in &boot {
            assert!(
                !d.range.overlaps(b),
                "{args:?}: device {i} overlaps boot RAM {b:?}"
            );
        }
        let pmem = matches!(d.config.kind, MemoryDeviceKind::VirtioPmem);
        assert_eq!(d.node.is_none(), pmem, "{args:?}: device {i}'s node");
        let slot = match d.node {
            Some(n) => ids
                .iter()
                .position(|&id| id == n)
                .unwrap_or_else(|| panic!("{args:?}: device {i} on node {n}, not a node")),
            None => ids.iter().position(|&id| id == 0).unwrap_or(0),
        };
        plugged[slot] += d.plugged();
        if let Some(n) = d.node {
            assert_eq!(layout.node_of(d.range.start()), Some(n), "{args:?}");
        }
    }
    for (k, &id) in ids.iter().enumerate() {
        assert_eq!(
            layout.node_plugged(id),
            plugged[k],
            "{args:?}: node {id} plugged"
        );
    }
}

/// Check what is particular to Arm's `virt` board: RAM from 1 GiB, each
/// CPU's MPIDR (its arch id) unique and made of its affinity fields, a
/// device tree that is a well-formed blob with one `memory@` node per
/// node with memory, and a `cpu@` node and a `numa-node-id` per CPU.
pub fn check_virt(vm: &vnuma::Vm, args: &[String]) {
    let t = vm.topology();
    assert!(t.machine().virt.is_some(), "{args:?}: not a virt board");
    if let Some((r, _)) = vm.layout().ranges().next() {
        assert_eq!(r.start(), 1 << 30, "{args:?}: RAM starts at 1 GiB");
    }
    let mut ids: Vec<u32> = t.cpus().iter().map(|c| c.slot.apic_id).collect();
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "{args:?}: MPIDRs not unique");
    let blob = vm
        .dtb()
        .unwrap_or_else(|e| panic!("{args:?}: no device tree: {e}"));
    assert_eq!(
        blob.get(..4),
        Some(&[0xd0, 0x0d, 0xfe, 0xed][..]),
        "{args:?}"
    );
    let total = u32::from_be_bytes(blob[4..8].try_into().unwrap());
    assert_eq!(total as usize, blob.len(), "{args:?}: FDT totalsize");
    let count = |needle: &[u8]| blob.windows(needle.len()).filter(|w| *w == needle).count();
    let with_mem = t.nodes().iter().filter(|n| n.mem > 0).count();
    if t.numa_enabled() {
        assert_eq!(count(b"memory@"), with_mem.max(1), "{args:?}: memory nodes");
    }
    assert_eq!(
        count(b"cpu@"),
        t.cpu_topology().cpus as usize,
        "{args:?}: cpu nodes"
    );
}

/// Check the warnings of a resolved command line: each renders as QEMU's
/// line, and one that names an option names one on the command line.
pub fn check_warnings(t: &Topology, args: &[String]) {
    for w in t.warnings() {
        assert!(!w.display_qemu().to_string().is_empty(), "{args:?}");
        let _ = (w.kind(), w.hint());
        if let Some(loc) = w.location() {
            assert_eq!(
                args.get(loc.index()).map(String::as_str),
                Some(loc.option()),
                "{args:?}: {w}"
            );
        }
    }
}

/// Check an x86 board's CPU slots against the CPU topology's own
/// arithmetic: the first and last slot are the ones `x86_slot` computes
/// (and the slot iterator ends on the last), there is none past
/// `max_cpus`, and the check without x2APIC fails exactly when an APIC
/// id reaches 255.
pub fn check_x86_slots(t: &Topology, args: &[String]) {
    let topo = t.cpu_topology();
    let cpus = t.cpus();
    for c in [cpus.first(), cpus.last()].into_iter().flatten() {
        assert_eq!(
            topo.x86_slot(c.slot.index),
            Some(c.slot),
            "{args:?}: CPU {}",
            c.slot.index
        );
    }
    assert_eq!(topo.x86_slot(topo.max_cpus), None, "{args:?}");
    assert_eq!(
        topo.x86_slots_iter().next_back(),
        cpus.last().map(|c| c.slot),
        "{args:?}"
    );
    assert_eq!(
        topo.x86_check_without_x2apic().is_ok(),
        topo.x86_apic_id_limit() <= 255,
        "{args:?}"
    );
}

/// Run a command line through the pipeline with QEMU 7.2's rules and
/// check what comes out.
pub fn check_argv(args: &[String]) {
    check_argv_with(args, Rules::default());
}

/// Run a command line through the pipeline under `rules` and check what
/// comes out.
pub fn check_argv_with(args: &[String], rules: Rules) {
    // The rules print as their names and read back.
    assert_eq!(rules.profile.to_string().parse(), Ok(rules.profile));
    assert_eq!(rules.target.to_string().parse(), Ok(rules.target));
    let cl = match CommandLine::parse_with(args, rules.profile.syntax()) {
        Ok(cl) => cl,
        Err(_) => return,
    };
    let config = Config {
        firmware: vnuma_topology::virt::has_firmware(args),
        ..Config::qemu_target(rules.profile, rules.target)
    };
    match vnuma::Vm::with_config(cl, &config) {
        Ok(vm) => {
            let t = vm.topology();
            check_topology(t, vm.layout(), args);
            check_devices(t, vm.layout(), args);
            check_warnings(t, args);
            if t.machine().x86.is_some() {
                check_x86_slots(t, args);
            }
            if rules.target == Target::Aarch64 {
                check_virt(&vm, args);
            }
            // The JSON report serializes (`to_json` would hide a failure
            // as an empty string; serde_json's output is JSON when it
            // succeeds), streamed to nowhere rather than built and parsed.
            serde_json::to_writer(std::io::sink(), &vm.report())
                .expect("the JSON report serializes");
            // The ACPI tables parse back to the same nodes, CPUs, ranges
            // and distances.
            let tables = vm
                .acpi_tables()
                .expect("tables build for a resolved topology");
            if let Some(tables) = tables {
                let info = vnuma::tables::info::NumaInfo::from_tables(
                    &tables.srat,
                    tables.slit.as_deref(),
                    tables.hmat.as_deref(),
                )
                .expect("emitted tables parse");
                if let Err(e) =
                    vnuma::tables::info::verify(t, vm.layout(), &vm.table_options(), &info)
                {
                    panic!("{args:?}: tables disagree with the topology: {e}");
                }
                for (_, bytes) in tables.iter() {
                    assert_eq!(
                        bytes.iter().fold(0u8, |a, b| a.wrapping_add(*b)),
                        0,
                        "checksum"
                    );
                }
            } else {
                // No tables: no NUMA, or no ACPI at all.
                assert!(!t.numa_enabled() || !t.acpi());
            }
        }
        Err(e) => {
            // QEMU's line holds the message; the span lies in the argument.
            let line = e.display_qemu().to_string();
            assert!(line.contains(&e.to_string()), "{args:?}: {line:?}");
            let _ = e.hint();
            if let (Some(span), Some(arg)) = (e.span(), e.location().and_then(|l| l.arg())) {
                assert!(
                    arg.get(span.range()).is_some(),
                    "{args:?}: span {span} outside {arg:?} for {e}"
                );
            }
            // The error names an option that is on the command line.
            if let Some(loc) = e.location() {
                assert_eq!(
                    args.get(loc.index()).map(String::as_str),
                    Some(loc.option()),
                    "{e}"
                );
                if let Some(arg) = loc.arg() {
                    assert_eq!(
                        args.get(loc.index() + 1).map(String::as_str),
                        Some(arg),
                        "{e}"
                    );
                }
            }
            assert!(!e.to_string().is_empty());
        }
    }
}

/// The fuzz entry.
pub fn check(input: &Input) {
    check_argv_with(&input.argv(), input.rules());
}
