//! CPU topology (temporary stand-in with the final interface; the full
//! QEMU 7.2 -smp rules are being written).
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use vnuma_options::SmpOptions;

/// What a machine type allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmpLimits {
    /// Machine name for messages.
    pub machine_name: String,
    /// Most CPUs.
    pub max_cpus: u32,
    /// Fewest CPUs.
    pub min_cpus: u32,
    /// Prefer sockets.
    pub prefer_sockets: bool,
    /// Dies allowed.
    pub dies_supported: bool,
    /// Clusters allowed.
    pub clusters_supported: bool,
    /// CPUs without -smp.
    pub default_cpus: u32,
}

/// A resolved -smp.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CpuTopology {
    /// Boot CPUs.
    pub cpus: u32,
    /// Possible CPUs.
    pub max_cpus: u32,
    /// Sockets.
    pub sockets: u32,
    /// Dies per socket.
    pub dies: u32,
    /// Clusters per die.
    pub clusters: u32,
    /// Cores per cluster.
    pub cores: u32,
    /// Threads per core.
    pub threads: u32,
}

/// SMP warnings.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SmpWarning {}

impl fmt::Display for SmpWarning {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}

/// SMP errors.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SmpError {
    /// Too many.
    #[error("Invalid SMP CPUs {cpus}. The max CPUs supported by machine '{machine}' is {max}")]
    TooMany {
        /// cpus
        cpus: i64,
        /// machine
        machine: String,
        /// max
        max: u32,
    },
}

/// Resolve -smp.
pub fn resolve_smp(
    opts: &SmpOptions,
    limits: &SmpLimits,
) -> Result<(CpuTopology, Vec<SmpWarning>), SmpError> {
    let g = |v: Option<i64>| v.filter(|&v| v > 0).map(|v| v as u32);
    let cpus = g(opts.cpus);
    let max_cpus = g(opts.maxcpus).or(cpus).unwrap_or(limits.default_cpus);
    let dies = g(opts.dies).unwrap_or(1);
    let threads = g(opts.threads).unwrap_or(1);
    let (sockets, cores) = match (g(opts.sockets), g(opts.cores)) {
        (Some(s), Some(c)) => (s, c),
        (Some(s), None) => (s, (max_cpus / (s * dies * threads)).max(1)),
        (None, Some(c)) => ((max_cpus / (c * dies * threads)).max(1), c),
        (None, None) if limits.prefer_sockets => ((max_cpus / (dies * threads)).max(1), 1),
        (None, None) => (1, (max_cpus / (dies * threads)).max(1)),
    };
    let max_cpus = sockets * dies * cores * threads;
    let cpus = cpus.unwrap_or(max_cpus);
    if max_cpus > limits.max_cpus {
        return Err(SmpError::TooMany {
            cpus: max_cpus.into(),
            machine: limits.machine_name.clone(),
            max: limits.max_cpus,
        });
    }
    Ok((
        CpuTopology {
            cpus,
            max_cpus,
            sockets,
            dies,
            clusters: 1,
            cores,
            threads,
        },
        Vec::new(),
    ))
}

/// One possible CPU slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CpuSlot {
    /// Index.
    pub index: u32,
    /// APIC id.
    pub apic_id: u32,
    /// Socket.
    pub socket_id: u32,
    /// Die, when dies > 1.
    pub die_id: Option<u32>,
    /// Core.
    pub core_id: u32,
    /// Thread.
    pub thread_id: u32,
}

fn width(n: u32) -> u32 {
    if n <= 1 {
        0
    } else {
        32 - (n - 1).leading_zeros()
    }
}

impl CpuTopology {
    /// APIC id of an index.
    pub fn x86_apic_id(&self, index: u32) -> u32 {
        let s = self.x86_slot(index).unwrap();
        let tw = width(self.threads);
        let cw = width(self.cores);
        let dw = width(self.dies);
        (s.socket_id << (tw + cw + dw))
            | (s.die_id.unwrap_or(0) << (tw + cw))
            | (s.core_id << tw)
            | s.thread_id
    }

    /// Slot of an index.
    pub fn x86_slot(&self, index: u32) -> Option<CpuSlot> {
        if index >= self.max_cpus {
            return None;
        }
        let thread = index % self.threads;
        let core = index / self.threads % self.cores;
        let die = index / (self.threads * self.cores) % self.dies;
        let socket = index / (self.threads * self.cores * self.dies);
        let mut slot = CpuSlot {
            index,
            apic_id: 0,
            socket_id: socket,
            die_id: (self.dies > 1).then_some(die),
            core_id: core,
            thread_id: thread,
        };
        let tw = width(self.threads);
        let cw = width(self.cores);
        let dw = width(self.dies);
        slot.apic_id = (socket << (tw + cw + dw)) | (die << (tw + cw)) | (core << tw) | thread;
        Some(slot)
    }

    /// All slots.
    pub fn x86_slots(&self) -> Vec<CpuSlot> {
        (0..self.max_cpus)
            .filter_map(|i| self.x86_slot(i))
            .collect()
    }
}
