//! The NUMA state QEMU keeps while it applies `-numa` options, and the
//! rules of each option type (spec §2), in QEMU's order of checks.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use vnuma_options::{
    HmatLbDataType, HmatLbMemoryHierarchy, NumaCpuOptions, NumaDistOptions, NumaHmatCacheOptions,
    NumaHmatLbOptions, NumaNodeOptions,
};

use crate::cpu::CpuSlot;
use crate::error::ErrorKind;
use crate::machine::MAX_NODES;

/// The "unset" initiator (QEMU stores `MAX_NODES`).
pub(crate) const NO_INITIATOR: u16 = MAX_NODES;

#[derive(Clone, Debug)]
pub(crate) struct NodeState {
    pub(crate) present: bool,
    pub(crate) mem: u64,
    pub(crate) memdev: Option<String>,
    pub(crate) initiator: u16,
    pub(crate) has_cpu: bool,
    /// bit 0: a non-zero latency targets this node; bit 1: a bandwidth.
    pub(crate) lb_bits: u8,
}

impl Default for NodeState {
    fn default() -> Self {
        NodeState {
            present: false,
            mem: 0,
            memdev: None,
            initiator: NO_INITIATOR,
            has_cpu: false,
            lb_bits: 0,
        }
    }
}

/// One HMAT latency or bandwidth table (a hierarchy and data type), as
/// QEMU accumulates it: the entries in the order given, the base unit and
/// the compression state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LbTable {
    /// Memory hierarchy.
    pub hierarchy: Option<HmatLbMemoryHierarchy>,
    /// Data type.
    pub data_type: Option<HmatLbDataType>,
    /// Base unit: for latency the largest power of ten dividing every
    /// non-zero entry (picoseconds are `base × 1000`), for bandwidth the
    /// lowest set bit of all entries (bytes/s). Computed from the entries
    /// by QEMU's rules when a description is resolved (a value given in a
    /// [`crate::config::NumaConfig`] is replaced).
    pub base: u64,
    /// Latency: the largest compressed value so far; bandwidth: the OR of
    /// all entries.
    pub(crate) range: u64,
    /// `(initiator, target, raw value)` in the order given; 0 = "not
    /// provided".
    pub entries: Vec<(u16, u16, u64)>,
}

impl LbTable {
    /// Account one entry's raw value (spec §2.4.7/2.4.8): update the base
    /// unit and the range, or refuse a value the 16-bit entries cannot
    /// hold with QEMU's message. Whether the value was provided (non-zero).
    pub(crate) fn account(&mut self, value: u64, i: u16, t: u16) -> Result<bool, ErrorKind> {
        let latency = self.data_type.is_none_or(|d| d.is_latency());
        if latency {
            if self.base == 0 {
                self.base = u64::MAX;
            }
            if value == 0 {
                return Ok(false);
            }
            let mut power = 1u64;
            let mut rest = value;
            while rest % 10 == 0 {
                rest /= 10;
                power *= 10;
            }
            let new_base = self.base.min(power);
            // QEMU divides by the base before this entry's update.
            let max_entry = self.range.max(value / self.base);
            if max_entry >= u64::from(u16::MAX) {
                return Err(ErrorKind::HmatLatencyRange {
                    latency: value,
                    initiator: i,
                    target: t,
                });
            }
            self.range = max_entry;
            self.base = new_base;
        } else {
            if self.base == 0 {
                self.base = 1;
            }
            if value == 0 {
                return Ok(false);
            }
            let bits = self.range | value;
            let first = bits.trailing_zeros();
            let last = 64 - bits.leading_zeros();
            let base = 1u64 << first;
            if last - first > 16 || value / base >= u64::from(u16::MAX) {
                return Err(ErrorKind::HmatBandwidthRange {
                    bandwidth: value,
                    initiator: i,
                    target: t,
                });
            }
            self.range = bits;
            self.base = base;
        }
        Ok(true)
    }
}

/// The resolution state (QEMU's `NumaState` plus the CPU slots' node ids).
#[derive(Clone, Debug)]
pub(crate) struct NumaState {
    pub(crate) nodes: Vec<NodeState>,
    pub(crate) num_nodes: u32,
    pub(crate) max_nodeid: u32,
    pub(crate) have_memdevs: bool,
    pub(crate) have_mem: bool,
    pub(crate) have_distance: bool,
    /// `distance[src * distance_dim + dst]`, 0 = not given; square, as
    /// wide as the node ids seen so far (not 128 × 128: zeroing 16 KiB
    /// was the largest cost of resolving a small configuration).
    distance: Vec<u8>,
    distance_dim: usize,
    pub(crate) hmat_enabled: bool,
    /// `[hierarchy][data type]`.
    pub(crate) lb: [[Option<LbTable>; 6]; 4],
    /// `(node, level)` → cache.
    pub(crate) caches: BTreeMap<(u32, u8), NumaHmatCacheOptions>,
    /// Node of each possible CPU slot.
    pub(crate) slot_node: Vec<Option<u16>>,
}

/// How a `-numa cpu` (or a `node,cpus=` index) selects slots.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SlotMatch {
    pub(crate) socket_id: Option<i64>,
    pub(crate) die_id: Option<i64>,
    pub(crate) cluster_id: Option<i64>,
    pub(crate) module_id: Option<i64>,
    pub(crate) core_id: Option<i64>,
    pub(crate) thread_id: Option<i64>,
}

impl NumaState {
    pub(crate) fn new(hmat_enabled: bool, slots: usize) -> Self {
        NumaState {
            nodes: vec![NodeState::default(); MAX_NODES as usize],
            num_nodes: 0,
            max_nodeid: 0,
            have_memdevs: false,
            have_mem: false,
            have_distance: false,
            distance: Vec::new(),
            distance_dim: 0,
            hmat_enabled,
            lb: Default::default(),
            caches: BTreeMap::new(),
            slot_node: vec![None; slots],
        }
    }

    /// Map every slot matching `m` to `node` (QEMU's
    /// `machine_set_cpu_numa_node`).
    pub(crate) fn set_cpu_node(
        &mut self,
        slots: &[CpuSlot],
        m: &SlotMatch,
        node: u16,
    ) -> Result<(), ErrorKind> {
        let mut matched = false;
        for (i, slot) in slots.iter().enumerate() {
            // x86 slots have socket, core and thread ids, a die id only
            // with several dies, never a cluster id; arm `virt` slots have
            // a cluster id and no die id.
            if m.cluster_id.is_some() && slot.cluster_id.is_none() {
                return Err(ErrorKind::CpuPropertyNotSupported {
                    property: "cluster-id",
                });
            }
            if m.die_id.is_some() && slot.die_id.is_none() {
                return Err(ErrorKind::CpuPropertyNotSupported { property: "die-id" });
            }
            if m.module_id.is_some() && slot.module_id.is_none() {
                return Err(ErrorKind::CpuPropertyNotSupported {
                    property: "module-id",
                });
            }
            let differs = |want: Option<i64>, have: i64| want.is_some_and(|w| w != have);
            if differs(m.thread_id, slot.thread_id.into())
                || differs(m.core_id, slot.core_id.into())
                || differs(m.module_id, slot.module_id.map_or(0, i64::from))
                || differs(m.cluster_id, slot.cluster_id.map_or(0, i64::from))
                || differs(m.die_id, slot.die_id.map_or(0, i64::from))
                || differs(m.socket_id, slot.socket_id.into())
            {
                continue;
            }
            if let Some(old) = self.slot_node[i] {
                if old != node {
                    return Err(ErrorKind::CpuAlreadyAssigned { node: old });
                }
            }
            matched = true;
            self.slot_node[i] = Some(node);
            if self.hmat_enabled {
                let info = &mut self.nodes[usize::from(node)];
                if info.initiator < NO_INITIATOR && info.initiator != node {
                    return Err(ErrorKind::CpuInitiatorNotItself {
                        node,
                        initiator: info.initiator,
                    });
                }
                info.has_cpu = true;
                info.initiator = node;
            }
        }
        if matched {
            Ok(())
        } else {
            Err(ErrorKind::CpuNoMatch)
        }
    }

    /// Map the slot at `index` to `node`: what [`Self::set_cpu_node`] does
    /// with a slot's own properties (on x86 they designate exactly that
    /// slot), without scanning every slot.
    pub(crate) fn set_slot_node(&mut self, index: usize, node: u16) -> Result<(), ErrorKind> {
        if let Some(old) = self.slot_node[index] {
            if old != node {
                return Err(ErrorKind::CpuAlreadyAssigned { node: old });
            }
        }
        self.slot_node[index] = Some(node);
        if self.hmat_enabled {
            let info = &mut self.nodes[usize::from(node)];
            if info.initiator < NO_INITIATOR && info.initiator != node {
                return Err(ErrorKind::CpuInitiatorNotItself {
                    node,
                    initiator: info.initiator,
                });
            }
            info.has_cpu = true;
            info.initiator = node;
        }
        Ok(())
    }

    /// `-numa node` (spec §2.1). `memdev_size` resolves a backend name to
    /// its canonical id and size.
    pub(crate) fn node(
        &mut self,
        opts: &NumaNodeOptions,
        max_cpus: u32,
        mem_supported: bool,
        memdev_size: impl Fn(&str) -> Option<(String, u64)>,
    ) -> Result<(), ErrorKind> {
        let nodenr = opts.nodeid.map_or(self.num_nodes, u32::from);
        if nodenr >= u32::from(MAX_NODES) {
            return Err(ErrorKind::MaxNodes { node: nodenr });
        }
        let n = nodenr as u16;
        let idx = usize::from(n);
        if self.nodes[idx].present {
            return Err(ErrorKind::DuplicateNode { node: n });
        }
        self.nodes[idx].initiator = NO_INITIATOR;
        if let Some(initiator) = opts.initiator {
            if !self.hmat_enabled {
                return Err(ErrorKind::HmatDisabled);
            }
            if initiator >= MAX_NODES {
                // QEMU prints this and carries on without the node.
                return Err(ErrorKind::InitiatorOutOfRange { initiator });
            }
            self.nodes[idx].initiator = initiator;
        }
        for cpu in opts.cpus.iter().flat_map(|r| r.iter()) {
            if u32::from(cpu) >= max_cpus {
                return Err(ErrorKind::CpuIndexTooLarge { cpu, max_cpus });
            }
            self.set_slot_node(usize::from(cpu), n)?;
        }
        self.have_memdevs |= opts.memdev.is_some();
        self.have_mem |= opts.mem.is_some();
        if (opts.mem.is_some() && self.have_memdevs) || (opts.memdev.is_some() && self.have_mem) {
            return Err(ErrorKind::MixedMemAndMemdev);
        }
        if let Some(mem) = opts.mem {
            if !mem_supported {
                return Err(ErrorKind::MemNotSupported);
            }
            self.nodes[idx].mem = mem;
        }
        if let Some(name) = &opts.memdev {
            let (id, size) = memdev_size(name)
                .ok_or_else(|| ErrorKind::MemdevAmbiguous { name: name.clone() })?;
            self.nodes[idx].mem = size;
            self.nodes[idx].memdev = Some(id);
        }
        self.nodes[idx].present = true;
        self.max_nodeid = self.max_nodeid.max(nodenr + 1);
        self.num_nodes += 1;
        Ok(())
    }

    /// `-numa dist` (spec §2.2).
    pub(crate) fn dist(&mut self, d: &NumaDistOptions) -> Result<(), ErrorKind> {
        if d.src >= MAX_NODES || d.dst >= MAX_NODES {
            return Err(ErrorKind::DistNodeOutOfRange {
                key: if d.src >= MAX_NODES { "src" } else { "dst" },
            });
        }
        if !self.nodes[usize::from(d.src)].present || !self.nodes[usize::from(d.dst)].present {
            return Err(ErrorKind::DistNodeMissing);
        }
        if d.val < 10 {
            return Err(ErrorKind::DistanceTooSmall { val: d.val });
        }
        if d.src == d.dst && d.val != 10 {
            return Err(ErrorKind::LocalDistance { node: d.src });
        }
        let (a, b) = (usize::from(d.src), usize::from(d.dst));
        self.widen_distances(a.max(b) + 1);
        self.distance[a * self.distance_dim + b] = d.val;
        self.have_distance = true;
        Ok(())
    }

    /// `-numa cpu` (spec §2.3). QEMU does not range-check `node-id`;
    /// vnuma rejects any id that is not a declared node.
    pub(crate) fn cpu(&mut self, c: &NumaCpuOptions, slots: &[CpuSlot]) -> Result<(), ErrorKind> {
        let node = c.node_id.ok_or(ErrorKind::CpuMissingNodeId)?;
        let n = u16::try_from(node)
            .ok()
            .filter(|&n| n < MAX_NODES && self.nodes[usize::from(n)].present)
            .ok_or(ErrorKind::CpuUndefinedNode { node })?;
        let m = SlotMatch {
            socket_id: c.socket_id,
            die_id: c.die_id,
            cluster_id: c.cluster_id,
            module_id: c.module_id,
            core_id: c.core_id,
            thread_id: c.thread_id,
        };
        self.set_cpu_node(slots, &m, n)
    }

    /// `-numa hmat-lb` (spec §2.4).
    pub(crate) fn hmat_lb(&mut self, o: &NumaHmatLbOptions) -> Result<(), ErrorKind> {
        let (i, t) = (o.initiator, o.target);
        // QEMU compares with `>`, so the count itself passes here.
        if u32::from(i) > self.num_nodes {
            return Err(ErrorKind::HmatInitiatorRange {
                initiator: i,
                nodes: self.num_nodes,
            });
        }
        if u32::from(t) > self.num_nodes {
            return Err(ErrorKind::HmatTargetRange {
                target: t,
                nodes: self.num_nodes,
            });
        }
        if !self.nodes[usize::from(i)].has_cpu {
            return Err(ErrorKind::HmatNotInitiator { initiator: i });
        }
        if !self.nodes[usize::from(t)].present {
            return Err(ErrorKind::HmatTargetMissing { target: t });
        }
        let table =
            self.lb[o.hierarchy as usize][o.data_type as usize].get_or_insert_with(|| LbTable {
                hierarchy: Some(o.hierarchy),
                data_type: Some(o.data_type),
                ..LbTable::default()
            });
        let duplicate = table.entries.iter().any(|&(ei, et, _)| ei == i && et == t);
        let value = if o.data_type.is_latency() {
            let latency = o.latency.ok_or(ErrorKind::HmatMissingLatency)?;
            if o.bandwidth.is_some() {
                return Err(ErrorKind::HmatBandwidthForLatency);
            }
            if duplicate {
                return Err(ErrorKind::HmatDuplicateLatency {
                    initiator: i,
                    target: t,
                });
            }
            if table.account(latency, i, t)? {
                self.nodes[usize::from(t)].lb_bits |= 1;
            }
            latency
        } else {
            let bandwidth = o.bandwidth.ok_or(ErrorKind::HmatMissingBandwidth)?;
            if o.latency.is_some() {
                return Err(ErrorKind::HmatLatencyForBandwidth);
            }
            if bandwidth % (1 << 20) != 0 {
                return Err(ErrorKind::HmatBandwidthAlign {
                    bandwidth,
                    initiator: i,
                    target: t,
                });
            }
            if duplicate {
                return Err(ErrorKind::HmatDuplicateBandwidth {
                    initiator: i,
                    target: t,
                });
            }
            if table.account(bandwidth, i, t)? {
                self.nodes[usize::from(t)].lb_bits |= 2;
            }
            bandwidth
        };
        table.entries.push((i, t, value));
        Ok(())
    }

    /// `-numa hmat-cache` (spec §2.5).
    pub(crate) fn hmat_cache(&mut self, c: &NumaHmatCacheOptions) -> Result<(), ErrorKind> {
        let (n, l) = (c.node_id, c.level);
        if n >= self.num_nodes {
            return Err(ErrorKind::CacheNodeRange {
                node: n,
                nodes: self.num_nodes,
            });
        }
        if self.nodes[n as usize].lb_bits != 3 {
            return Err(ErrorKind::CacheNeedsLb { node: n });
        }
        if !(1..=3).contains(&l) {
            return Err(ErrorKind::CacheLevel { level: l });
        }
        if self.caches.contains_key(&(n, l)) {
            return Err(ErrorKind::CacheDuplicate { node: n, level: l });
        }
        if l > 1 {
            let lower = self
                .caches
                .get(&(n, l - 1))
                .ok_or(ErrorKind::CacheLevelMissing { level: l - 1 })?;
            if c.size <= lower.size {
                return Err(ErrorKind::CacheSmallerThanLower {
                    size: c.size,
                    level: l,
                    lower: lower.size,
                    lower_level: l - 1,
                });
            }
        }
        if l < 3 {
            if let Some(upper) = self.caches.get(&(n, l + 1)) {
                if c.size >= upper.size {
                    return Err(ErrorKind::CacheLargerThanUpper {
                        size: c.size,
                        level: l,
                        upper: upper.size,
                        upper_level: l + 1,
                    });
                }
            }
        }
        self.caches.insert((n, l), *c);
        Ok(())
    }

    /// The distance from `a` to `b` as given (0: not given).
    pub(crate) fn dist_at(&self, a: usize, b: usize) -> u8 {
        let dim = self.distance_dim;
        if a < dim && b < dim {
            self.distance[a * dim + b]
        } else {
            0
        }
    }

    /// Make the matrix at least `dim` wide (and as wide as the node ids
    /// declared so far, so declaring nodes one by one between distances
    /// does not re-lay it out each time), keeping what it holds.
    fn widen_distances(&mut self, dim: usize) {
        if dim <= self.distance_dim {
            return;
        }
        let new_dim = dim
            .max(self.max_nodeid as usize)
            .min(usize::from(MAX_NODES));
        let old_dim = self.distance_dim;
        let mut wider = vec![0; new_dim * new_dim];
        for a in 0..old_dim {
            wider[a * new_dim..a * new_dim + old_dim]
                .copy_from_slice(&self.distance[a * old_dim..(a + 1) * old_dim]);
        }
        self.distance = wider;
        self.distance_dim = new_dim;
    }

    /// Distance validation and completion (spec §3.5).
    pub(crate) fn complete_distances(&mut self) -> Result<(), ErrorKind> {
        let n = self.num_nodes as usize;
        self.widen_distances(n);
        let mut asymmetric = false;
        for a in 0..n {
            for b in a..n {
                let (ab, ba) = (self.dist_at(a, b), self.dist_at(b, a));
                if ab == 0 && ba == 0 && a != b {
                    return Err(ErrorKind::DistanceMissing {
                        a: a as u16,
                        b: b as u16,
                    });
                }
                if ab != 0 && ba != 0 && ab != ba {
                    asymmetric = true;
                }
            }
        }
        if asymmetric {
            for a in 0..n {
                for b in 0..n {
                    if a != b && self.dist_at(a, b) == 0 {
                        return Err(ErrorKind::AsymmetricDistanceMissing);
                    }
                }
            }
        }
        for a in 0..n {
            for b in 0..n {
                if self.dist_at(a, b) == 0 {
                    let v = if a == b { 10 } else { self.dist_at(b, a) };
                    self.distance[a * self.distance_dim + b] = v;
                }
            }
        }
        Ok(())
    }

    /// HMAT initiator validation (spec §3.6.4, 7.2 rules).
    pub(crate) fn validate_initiators(&self) -> Result<(), ErrorKind> {
        for (i, node) in self.nodes.iter().take(self.num_nodes as usize).enumerate() {
            if node.initiator == NO_INITIATOR {
                continue;
            }
            let init = &self.nodes[usize::from(node.initiator)];
            if !init.present {
                return Err(ErrorKind::InitiatorNodeMissing {
                    initiator: node.initiator,
                });
            }
            if !init.has_cpu {
                return Err(ErrorKind::InitiatorInvalid { node: i as u16 });
            }
        }
        Ok(())
    }
}
