//! `-smp`: QEMU 7.2's CPU topology resolution, and the x86 possible-CPU
//! slots with their APIC ids.
//!
//! [`resolve_smp`] turns the members of `-smp` ([`SmpOptions`]) into a
//! [`CpuTopology`] exactly as QEMU 7.2's `machine_parse_smp_config` does,
//! with its messages ([`SmpError`], [`SmpWarning`]). The methods of
//! [`CpuTopology`] then number the possible CPUs as QEMU's x86 machines do
//! (`hw/i386/x86.c`, `include/hw/i386/topology.h`): CPU index → socket,
//! die, core and thread ids, and the APIC id that packs them in bit fields.
//!
//! ```
//! # use vnuma_topology::cpu::{resolve_smp, SmpLimits};
//! use vnuma_options::SmpOptions;
//!
//! let limits = SmpLimits::x86("pc-i440fx-7.2", 255, false);
//! // -smp 2,maxcpus=12,sockets=2,threads=3
//! let opts = SmpOptions {
//!     cpus: Some(2),
//!     maxcpus: Some(12),
//!     sockets: Some(2),
//!     threads: Some(3),
//!     ..SmpOptions::default()
//! };
//! let (topo, warnings) = resolve_smp(&opts, &limits)?;
//! assert!(warnings.is_empty());
//! assert_eq!((topo.sockets, topo.cores, topo.threads), (2, 2, 3));
//! // Three threads take two bits of the APIC id, so ids 3, 7, 11 are holes.
//! let ids: Vec<u32> = topo.x86_slots().iter().map(|s| s.apic_id).collect();
//! assert_eq!(ids, [0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14]);
//! assert_eq!(topo.x86_apic_id_limit(), 15);
//!
//! // QEMU's message, to the letter:
//! let opts = SmpOptions { cpus: Some(4), sockets: Some(3), ..SmpOptions::default() };
//! assert_eq!(
//!     resolve_smp(&opts, &limits).unwrap_err().to_string(),
//!     "Invalid CPU topology: product of the hierarchy must match maxcpus: \
//!      sockets (3) * dies (1) * cores (1) * threads (1) != maxcpus (4)",
//! );
//! # Ok::<(), vnuma_topology::cpu::SmpError>(())
//! ```
//!
//! ## QEMU 7.2's arithmetic, and where vnuma differs
//!
//! QEMU keeps the members as C `unsigned` (32 bits) although `-smp` reads
//! them as 64-bit signed integers:
//!
//! - Each value is reduced modulo 2³² (`-smp 4294967298` is 2 CPUs,
//!   `-smp -1` is 4294967295 CPUs and is reported as
//!   `Invalid SMP CPUs -1. ...` because the message prints it as a C `int`).
//!   A value that reduces to 0 counts as omitted, and does not trigger the
//!   zero warning, which looks at the 64-bit value (`-smp 4294967296` is
//!   silently 1 CPU).
//! - Products and quotients are computed modulo 2³², and the messages show
//!   the wrapped values (`-smp sockets=65536,cores=65536` fails with
//!   `Invalid SMP CPUs 0. The min CPUs supported by machine '...' is 1`).
//!
//! Two consequences of that arithmetic are not reproduced, as the project
//! turns QEMU's misbehaviour into clear errors:
//!
//! - When the product of the members used to compute an omitted one is a
//!   multiple of 2³² (`-smp cpus=4,sockets=65536,threads=65536`), QEMU 7.2
//!   divides by zero and dies of `SIGFPE`; vnuma returns
//!   [`SmpError::DivisionByZero`].
//! - When the product of the hierarchy only matches `maxcpus` modulo 2³²
//!   (`-smp 4,sockets=2,cores=2147483650`), QEMU 7.2 accepts a machine whose
//!   CPUs get socket ids 0…3 on a 2-socket machine; vnuma returns
//!   [`SmpError::ProductOverflow`] (after every check QEMU makes, so that
//!   QEMU's own errors keep precedence).
//!
//! And one bound of its own: no machine allows more than
//! [`MAX_POSSIBLE_CPUS`] possible CPUs, whatever [`SmpLimits::max_cpus`]
//! says, so that a resolved topology never makes a huge allocation.
//!
//! ## x86 numbering
//!
//! CPU index `i` (0 ≤ i < `max_cpus`; the first `cpus` are present at
//! boot) is split as a mixed-radix number, threads fastest:
//! `thread = i % threads`, `core = i / threads % cores`,
//! `die = i / (cores·threads) % dies`, `socket = i / (dies·cores·threads)`.
//! The APIC id puts the thread id in the low `w(threads)` bits, then the
//! core id in `w(cores)` bits, the die id in `w(dies)` bits and the socket
//! id above, where `w(n)` is the number of bits needed to count to `n − 1`
//! (`w(1) = 0`, `w(3) = 2`). Counts that are not powers of two therefore
//! leave holes in the APIC id space. x86 in QEMU 7.2 has no clusters:
//! [`CpuTopology::clusters`] plays no part in the numbering.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::iter::FusedIterator;

use vnuma_options::SmpOptions;

/// The most possible CPUs (`maxcpus`) vnuma accepts on any machine: the
/// bound on every allocation sized by a topology.
///
/// QEMU 7.2's largest x86 machine (`pc-q35-7.2`) allows 288.
pub const MAX_POSSIBLE_CPUS: u32 = 1 << 16;

/// APIC ids from this value up need x2APIC (see
/// [`CpuTopology::x86_check_without_x2apic`]).
const XAPIC_ID_LIMIT: u32 = 255;

/// What a machine type allows in `-smp` (QEMU's `MachineClass` fields
/// `max_cpus`, `min_cpus`, `default_cpus` and `smp_props`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SmpLimits {
    /// The machine type's name as QEMU prints it in messages
    /// (`pc-i440fx-7.2`, not the alias `pc`).
    pub machine_name: String,
    /// Most possible CPUs (`maxcpus`). QEMU 7.2: 255 on `pc-i440fx-*`, 288
    /// on `pc-q35-*`, 1 on `isapc`. Values above [`MAX_POSSIBLE_CPUS`] act
    /// as [`MAX_POSSIBLE_CPUS`].
    pub max_cpus: u32,
    /// Fewest boot CPUs (1 on every QEMU machine).
    pub min_cpus: u32,
    /// Omitted members are computed preferring sockets over cores, as
    /// machine types before 6.2 do (`pc-i440fx-6.1`, `pc-q35-6.1` and
    /// older); since 6.2 cores are preferred.
    pub prefer_sockets: bool,
    /// The machine has dies (x86: yes).
    pub dies_supported: bool,
    /// The machine has clusters (x86 in QEMU 7.2: no; arm `virt`: yes).
    pub clusters_supported: bool,
    /// Boot CPUs when `-smp` is absent (1 on x86).
    pub default_cpus: u32,
    /// The machine has modules between clusters and cores (x86 from QEMU
    /// 9.1): `-smp modules=` may exceed 1 and they appear in the
    /// messages' hierarchy.
    pub modules_supported: bool,
    /// A member given as 0 is an error (QEMU 9.0 on) rather than a
    /// deprecation warning (7.2), and the unsupported-member checks come
    /// in QEMU 9.0's order and wording (`clusters > 1 not supported …`).
    pub zero_is_error: bool,
}

impl SmpLimits {
    /// The limits of a QEMU 7.2 x86 machine type: `min_cpus` 1,
    /// `default_cpus` 1, dies but no clusters.
    ///
    /// `max_cpus` is 255 for `pc-i440fx-*` and 288 for `pc-q35-*`;
    /// `prefer_sockets` is true for machine types before 6.2.
    pub fn x86(machine_name: impl Into<String>, max_cpus: u32, prefer_sockets: bool) -> Self {
        SmpLimits {
            machine_name: machine_name.into(),
            max_cpus,
            min_cpus: 1,
            prefer_sockets,
            dies_supported: true,
            clusters_supported: false,
            default_cpus: 1,
            modules_supported: false,
            zero_is_error: false,
        }
    }

    /// The limits of a QEMU 10.0 x86 machine type: as [`SmpLimits::x86`],
    /// with modules and QEMU 10.0's checks.
    pub fn x86_10_0(machine_name: impl Into<String>, max_cpus: u32, prefer_sockets: bool) -> Self {
        SmpLimits {
            modules_supported: true,
            zero_is_error: true,
            ..SmpLimits::x86(machine_name, max_cpus, prefer_sockets)
        }
    }
}

/// A resolved `-smp`: how many CPUs, and how they are grouped.
///
/// From [`resolve_smp`], `sockets · dies · clusters · cores · threads`
/// equals `max_cpus` exactly, `1 ≤ cpus ≤ max_cpus ≤`
/// [`MAX_POSSIBLE_CPUS`] and every member is at least 1 (except for a
/// machine's `default_cpus`, taken as is when `-smp` is absent). The fields
/// are public so a topology can be written by hand; the methods never panic
/// whatever the fields hold, and compute what QEMU 7.2 on an x86 host
/// would for topologies `resolve_smp` does not produce (32-bit wrapping
/// products, shift counts taken modulo 32, a division by zero giving 0
/// where QEMU would crash).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CpuTopology {
    /// CPUs present at boot (indexes `0..cpus`).
    pub cpus: u32,
    /// Possible CPUs: present plus hot-pluggable (indexes `0..max_cpus`).
    pub max_cpus: u32,
    /// Sockets (packages).
    pub sockets: u32,
    /// Dies per socket.
    pub dies: u32,
    /// Clusters per die (1 on x86).
    pub clusters: u32,
    /// Modules per cluster (x86 from QEMU 9.1; 1 elsewhere). Part of the
    /// x86 APIC id, between the core and die fields.
    #[cfg_attr(feature = "serde", serde(default = "one"))]
    pub modules: u32,
    /// Cores per module.
    pub cores: u32,
    /// Threads per core.
    pub threads: u32,
}

#[cfg(feature = "serde")]
fn one() -> u32 {
    1
}

/// A warning [`resolve_smp`] returns instead of printing. `Display` is
/// QEMU's text without the `warning: ` prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SmpWarning {
    /// A member was given as 0 (`-smp 0`, `-smp 4,sockets=0`); it counts
    /// as omitted. QEMU 7.2 warns once however many members are 0, and
    /// only for a value that is 0 as a 64-bit integer (`4294967296` is
    /// omitted too, silently).
    ZeroParameter,
}

impl fmt::Display for SmpWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SmpWarning::ZeroParameter => f.write_str(
                "Deprecated CPU topology (considered invalid): \
                 CPU topology parameters must be greater than zero",
            ),
        }
    }
}

/// The topology members as QEMU lists them in its messages, e.g.
/// `sockets (2) * dies (1) * cores (4) * threads (1)`: dies only on
/// machines with dies, clusters only on machines with clusters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SmpHierarchy {
    /// Sockets.
    pub sockets: u32,
    /// Dies per socket, `None` on machines without dies.
    pub dies: Option<u32>,
    /// Clusters per die, `None` on machines without clusters.
    pub clusters: Option<u32>,
    /// Modules per cluster, `None` on machines without modules (QEMU 10.0
    /// x86 has them: `sockets (2) * dies (1) * modules (1) * cores (2) …`).
    pub modules: Option<u32>,
    /// Cores per module.
    pub cores: u32,
    /// Threads per core.
    pub threads: u32,
}

impl fmt::Display for SmpHierarchy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sockets ({})", self.sockets)?;
        if let Some(dies) = self.dies {
            write!(f, " * dies ({dies})")?;
        }
        if let Some(clusters) = self.clusters {
            write!(f, " * clusters ({clusters})")?;
        }
        if let Some(modules) = self.modules {
            write!(f, " * modules ({modules})")?;
        }
        write!(f, " * cores ({}) * threads ({})", self.cores, self.threads)
    }
}

/// A rejected `-smp`. `Display` is QEMU 7.2's message where QEMU has one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum SmpError {
    /// `dies` above 1 on a machine without dies.
    #[error("dies not supported by this machine's CPU topology")]
    DiesNotSupported,
    /// `clusters` above 1 on a machine without clusters (every x86
    /// machine in QEMU 7.2).
    #[error("clusters not supported by this machine's CPU topology")]
    ClustersNotSupported,
    /// QEMU 9.0 on: a member above 1 that the machine does not have, in
    /// QEMU's later wording (`clusters > 1 not supported by this machine's
    /// CPU topology`).
    #[error("{member} > 1 not supported by this machine's CPU topology")]
    AboveOneNotSupported {
        /// `dies` or `clusters`.
        member: &'static str,
    },
    /// QEMU 9.0 on: a member given as 0 (`-smp 0`, `-smp 4,sockets=0`).
    /// QEMU 7.2 warns instead ([`SmpWarning::ZeroParameter`]).
    #[error("Invalid CPU topology: CPU topology parameters must be greater than zero")]
    ZeroParameter,
    /// The product of the members (modulo 2³²) is not `maxcpus`.
    #[error(
        "Invalid CPU topology: product of the hierarchy must match maxcpus: \
         {hierarchy} != maxcpus ({max_cpus})"
    )]
    ProductMismatch {
        /// The members after defaults and computation.
        hierarchy: SmpHierarchy,
        /// `maxcpus` after defaults.
        max_cpus: u32,
    },
    /// `maxcpus` is below `cpus`.
    #[error(
        "Invalid CPU topology: maxcpus must be equal to or greater than smp: \
         {hierarchy} == maxcpus ({max_cpus}) < smp_cpus ({cpus})"
    )]
    MaxCpusBelowCpus {
        /// The members after defaults and computation.
        hierarchy: SmpHierarchy,
        /// `maxcpus`.
        max_cpus: u32,
        /// `cpus`.
        cpus: u32,
    },
    /// Fewer boot CPUs than the machine's minimum. The count is printed as
    /// a C `int`.
    #[error(
        "Invalid SMP CPUs {}. The min CPUs supported by machine '{machine}' is {}",
        c_int(*.cpus),
        c_int(*.min_cpus)
    )]
    TooFewCpus {
        /// Boot CPUs.
        cpus: u32,
        /// [`SmpLimits::machine_name`].
        machine: String,
        /// [`SmpLimits::min_cpus`].
        min_cpus: u32,
    },
    /// More possible CPUs than the machine's maximum. The count is printed
    /// as a C `int` (`-smp -1` gives `Invalid SMP CPUs -1. ...`).
    #[error(
        "Invalid SMP CPUs {}. The max CPUs supported by machine '{machine}' is {}",
        c_int(*.max_cpus),
        c_int(*.limit)
    )]
    TooManyCpus {
        /// Possible CPUs (`maxcpus`).
        max_cpus: u32,
        /// [`SmpLimits::machine_name`].
        machine: String,
        /// [`SmpLimits::max_cpus`], at most [`MAX_POSSIBLE_CPUS`].
        limit: u32,
    },
    /// vnuma only: an omitted member would be `maxcpus` divided by a
    /// product of the other members that is a multiple of 2³²; QEMU 7.2
    /// divides by zero there and dies of `SIGFPE`.
    #[error(
        "Invalid CPU topology: cannot compute {member}: the product of the \
         other members is a multiple of 2^32"
    )]
    DivisionByZero {
        /// The member being computed: `sockets`, `cores` or `threads`.
        member: &'static str,
    },
    /// vnuma only: the product of the members matches `maxcpus` only
    /// modulo 2³². QEMU 7.2 accepts such a topology and numbers its CPUs
    /// inconsistently (socket ids beyond the number of sockets).
    #[error(
        "Invalid CPU topology: product of the hierarchy overflows 32 bits: \
         {hierarchy} != maxcpus ({max_cpus})"
    )]
    ProductOverflow {
        /// The members after defaults and computation.
        hierarchy: SmpHierarchy,
        /// `maxcpus`.
        max_cpus: u32,
    },
    /// x86: some APIC id is 255 or more, which QEMU 7.2 refuses unless KVM
    /// runs with an in-kernel irqchip and the X2APIC API (never with TCG).
    /// From [`CpuTopology::x86_check_without_x2apic`], not from
    /// [`resolve_smp`].
    #[error("current -smp configuration requires kernel irqchip and X2APIC API support.")]
    X2apicRequired {
        /// [`CpuTopology::x86_apic_id_limit`].
        apic_id_limit: u32,
    },
}

/// A C `unsigned` printed with `%d`.
fn c_int(v: u32) -> i32 {
    i32::from_ne_bytes(v.to_ne_bytes())
}

/// A QAPI `int` member stored into a C `unsigned`: reduced modulo 2³²;
/// omitted is 0.
fn c_unsigned(v: Option<i64>) -> u32 {
    // Keeping the low 32 bits is exactly C's conversion to unsigned.
    v.map_or(0, |v| (v & 0xffff_ffff) as u32)
}

/// `v` if non-zero, else 1 (an omitted member defaulting to 1).
fn or_one(v: u32) -> u32 {
    if v == 0 {
        1
    } else {
        v
    }
}

/// The product of `factors` modulo 2³², as C computes it.
fn wrapping_product(factors: &[u32]) -> u32 {
    factors.iter().fold(1u32, |p, &f| p.wrapping_mul(f))
}

/// `max_cpus / product(factors)` for the omitted `member`.
fn quotient(max_cpus: u32, factors: &[u32], member: &'static str) -> Result<u32, SmpError> {
    max_cpus
        .checked_div(wrapping_product(factors))
        .ok_or(SmpError::DivisionByZero { member })
}

/// Resolve `-smp` for a machine, as QEMU 7.2's `machine_parse_smp_config`
/// does: omitted members computed from the given ones, then checked.
///
/// - An empty `opts` (no `-smp`) gives the machine's `default_cpus`, one
///   of each member, and no checks.
/// - When neither `cpus` nor `maxcpus` is given, the omitted members are
///   1 and both counts are their product.
/// - Otherwise `maxcpus` defaults to `cpus`, and one omitted member is
///   `maxcpus` divided by the others (rounding down): `cores` since 6.2
///   (sockets then default to 1), `sockets` before (cores default to 1).
///   If both were given, `threads` is the one computed. Omitted dies,
///   clusters and threads default to 1; omitted `cpus` is `maxcpus`.
/// - Checks, in QEMU's order: dies, clusters, the product equals
///   `maxcpus`, `maxcpus ≥ cpus`, the machine's minimum, the machine's
///   maximum.
///
/// All of it in QEMU's 32-bit arithmetic, except where that misbehaves
/// (see the [module documentation](self)).
pub fn resolve_smp(
    opts: &SmpOptions,
    limits: &SmpLimits,
) -> Result<(CpuTopology, Vec<SmpWarning>), SmpError> {
    if opts.is_empty() {
        let n = limits.default_cpus;
        let topology = CpuTopology {
            cpus: n,
            max_cpus: n,
            sockets: 1,
            dies: 1,
            clusters: 1,
            modules: 1,
            cores: 1,
            threads: 1,
        };
        return Ok((topology, Vec::new()));
    }

    let mut warnings = Vec::new();
    let given = [
        opts.cpus,
        opts.sockets,
        opts.dies,
        opts.clusters,
        opts.modules,
        opts.cores,
        opts.threads,
        opts.maxcpus,
    ];
    if given.contains(&Some(0)) {
        if limits.zero_is_error {
            return Err(SmpError::ZeroParameter);
        }
        warnings.push(SmpWarning::ZeroParameter);
    }

    let mut cpus = c_unsigned(opts.cpus);
    let mut sockets = c_unsigned(opts.sockets);
    let mut dies = c_unsigned(opts.dies);
    let mut clusters = c_unsigned(opts.clusters);
    let mut modules = c_unsigned(opts.modules);
    let mut cores = c_unsigned(opts.cores);
    let mut threads = c_unsigned(opts.threads);
    let mut max_cpus = c_unsigned(opts.maxcpus);

    if limits.zero_is_error {
        // QEMU 9.0's order: modules, clusters, dies.
        if !limits.modules_supported && modules > 1 {
            return Err(SmpError::AboveOneNotSupported { member: "modules" });
        }
        if !limits.clusters_supported && clusters > 1 {
            return Err(SmpError::AboveOneNotSupported { member: "clusters" });
        }
        if !limits.dies_supported && dies > 1 {
            return Err(SmpError::AboveOneNotSupported { member: "dies" });
        }
    }
    if !limits.dies_supported && dies > 1 {
        return Err(SmpError::DiesNotSupported);
    }
    if !limits.clusters_supported && clusters > 1 {
        return Err(SmpError::ClustersNotSupported);
    }
    dies = or_one(dies);
    clusters = or_one(clusters);
    modules = or_one(modules);

    if cpus == 0 && max_cpus == 0 {
        sockets = or_one(sockets);
        cores = or_one(cores);
        threads = or_one(threads);
    } else {
        if max_cpus == 0 {
            max_cpus = cpus;
        }
        if limits.prefer_sockets {
            if sockets == 0 {
                cores = or_one(cores);
                threads = or_one(threads);
                sockets = quotient(
                    max_cpus,
                    &[dies, clusters, modules, cores, threads],
                    "sockets",
                )?;
            } else if cores == 0 {
                threads = or_one(threads);
                cores = quotient(
                    max_cpus,
                    &[sockets, dies, clusters, modules, threads],
                    "cores",
                )?;
            }
        } else if cores == 0 {
            sockets = or_one(sockets);
            threads = or_one(threads);
            cores = quotient(
                max_cpus,
                &[sockets, dies, clusters, modules, threads],
                "cores",
            )?;
        } else if sockets == 0 {
            threads = or_one(threads);
            sockets = quotient(
                max_cpus,
                &[dies, clusters, modules, cores, threads],
                "sockets",
            )?;
        }
        if threads == 0 {
            threads = quotient(
                max_cpus,
                &[sockets, dies, clusters, modules, cores],
                "threads",
            )?;
        }
    }

    let factors = [sockets, dies, clusters, modules, cores, threads];
    let product = wrapping_product(&factors);
    if max_cpus == 0 {
        max_cpus = product;
    }
    if cpus == 0 {
        cpus = max_cpus;
    }

    let hierarchy = SmpHierarchy {
        sockets,
        dies: limits.dies_supported.then_some(dies),
        clusters: limits.clusters_supported.then_some(clusters),
        modules: limits.modules_supported.then_some(modules),
        cores,
        threads,
    };
    if product != max_cpus {
        return Err(SmpError::ProductMismatch {
            hierarchy,
            max_cpus,
        });
    }
    if max_cpus < cpus {
        return Err(SmpError::MaxCpusBelowCpus {
            hierarchy,
            max_cpus,
            cpus,
        });
    }
    if cpus < limits.min_cpus {
        return Err(SmpError::TooFewCpus {
            cpus,
            machine: limits.machine_name.clone(),
            min_cpus: limits.min_cpus,
        });
    }
    let limit = limits.max_cpus.min(MAX_POSSIBLE_CPUS);
    if max_cpus > limit {
        return Err(SmpError::TooManyCpus {
            max_cpus,
            machine: limits.machine_name.clone(),
            limit,
        });
    }
    let exact = factors
        .iter()
        .try_fold(1u64, |p, &f| p.checked_mul(u64::from(f)));
    if exact != Some(u64::from(max_cpus)) {
        return Err(SmpError::ProductOverflow {
            hierarchy,
            max_cpus,
        });
    }

    let topology = CpuTopology {
        cpus,
        max_cpus,
        sockets,
        dies,
        clusters,
        modules,
        cores,
        threads,
    };
    Ok((topology, warnings))
}

/// One possible CPU slot (present at boot or hot-pluggable) of an x86
/// machine, with the properties QEMU gives it (`query-hotpluggable-cpus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CpuSlot {
    /// CPU index (`cpu-index`), `0..max_cpus`.
    pub index: u32,
    /// Initial APIC id (the slot's arch id).
    pub apic_id: u32,
    /// `socket-id`.
    pub socket_id: u32,
    /// `die-id`: only on topologies with more than one die per socket, as
    /// QEMU sets the property.
    pub die_id: Option<u32>,
    /// `module-id`: only on topologies with more than one module per die
    /// (QEMU 10.0), as QEMU sets the property.
    pub module_id: Option<u32>,
    /// `cluster-id`: on boards with clusters (arm `virt`), always set
    /// there; never on x86.
    pub cluster_id: Option<u32>,
    /// `core-id` (within the module).
    pub core_id: u32,
    /// `thread-id` (within the core).
    pub thread_id: u32,
}

/// Bit widths of the x86 APIC id fields of a topology.
#[derive(Clone, Copy, Debug)]
struct ApicFields {
    smt_width: u32,
    core_width: u32,
    module_width: u32,
    die_width: u32,
}

/// Bits needed for the ids `0..count` (0 for a count of 0 or 1).
fn bits_for_count(count: u32) -> u32 {
    match count.checked_sub(1) {
        None | Some(0) => 0,
        Some(highest) => u32::BITS - highest.leading_zeros(),
    }
}

/// The `width` low bits.
fn low_bits(width: u32) -> u32 {
    1u32.checked_shl(width)
        .map_or(u32::MAX, |bit| bit.wrapping_sub(1))
}

impl ApicFields {
    fn core_offset(self) -> u32 {
        self.smt_width
    }

    fn module_offset(self) -> u32 {
        self.smt_width + self.core_width
    }

    fn die_offset(self) -> u32 {
        self.smt_width + self.core_width + self.module_width
    }

    fn socket_offset(self) -> u32 {
        self.smt_width + self.core_width + self.module_width + self.die_width
    }
}

impl CpuTopology {
    /// `cpus` CPUs, all present, one socket of `cpus` cores.
    pub const fn new(cpus: u32) -> Self {
        CpuTopology {
            cpus,
            max_cpus: cpus,
            sockets: 1,
            dies: 1,
            clusters: 1,
            modules: 1,
            cores: cpus,
            threads: 1,
        }
    }

    /// The same CPUs in `sockets` sockets of equal size (cores divided
    /// evenly; a remainder makes the topology invalid, which
    /// [`crate::config::NumaConfig::resolve`] reports).
    pub const fn with_sockets(mut self, sockets: u32) -> Self {
        self.sockets = sockets;
        self.cores = match self.max_cpus.checked_div(sockets) {
            Some(c) => match c.checked_div(self.threads) {
                Some(c) => c,
                None => 0,
            },
            None => 0,
        };
        self
    }

    /// `max_cpus` possible CPUs of which the first `cpus` are present
    /// (the rest hot-pluggable), one socket.
    pub const fn with_hotplug(cpus: u32, max_cpus: u32) -> Self {
        CpuTopology {
            cpus,
            max_cpus,
            sockets: 1,
            dies: 1,
            clusters: 1,
            modules: 1,
            cores: max_cpus,
            threads: 1,
        }
    }

    fn apic_fields(&self) -> ApicFields {
        ApicFields {
            smt_width: bits_for_count(self.threads),
            core_width: bits_for_count(self.cores),
            module_width: bits_for_count(self.modules),
            die_width: bits_for_count(self.dies),
        }
    }

    /// The hierarchy as QEMU prints it for a machine with dies and without
    /// clusters (x86).
    pub fn x86_hierarchy(&self) -> SmpHierarchy {
        SmpHierarchy {
            sockets: self.sockets,
            dies: Some(self.dies),
            clusters: None,
            modules: None,
            cores: self.cores,
            threads: self.threads,
        }
    }

    /// The APIC id of CPU index `index`: its socket, die, core and thread
    /// ids in bit fields, each as wide as its count needs (QEMU's
    /// `x86_cpu_apic_id_from_index`). Defined for every `index`, including
    /// indexes beyond `max_cpus` (the socket id keeps growing).
    pub fn x86_apic_id(&self, index: u32) -> u32 {
        let f = self.apic_fields();
        // Wrapping products and shifts: QEMU's C arithmetic on an x86
        // host, which only matters for topologies resolve_smp rejects.
        let per_core = self.threads;
        let per_module = self.cores.wrapping_mul(per_core);
        let per_die = self.modules.wrapping_mul(per_module);
        let per_socket = self.dies.wrapping_mul(per_die);
        let socket = index.checked_div(per_socket).unwrap_or(0);
        let die = index
            .checked_div(per_die)
            .and_then(|v| v.checked_rem(self.dies))
            .unwrap_or(0);
        let module = index
            .checked_div(per_module)
            .and_then(|v| v.checked_rem(self.modules))
            .unwrap_or(0);
        let core = index
            .checked_div(per_core)
            .and_then(|v| v.checked_rem(self.cores))
            .unwrap_or(0);
        let thread = index.checked_rem(per_core).unwrap_or(0);
        socket.wrapping_shl(f.socket_offset())
            | die.wrapping_shl(f.die_offset())
            | module.wrapping_shl(f.module_offset())
            | core.wrapping_shl(f.core_offset())
            | thread
    }

    /// The slot of CPU index `index`, `None` from `max_cpus` on. Its ids are
    /// read back from the APIC id, as QEMU's `x86_possible_cpu_arch_ids`
    /// does.
    pub fn x86_slot(&self, index: u32) -> Option<CpuSlot> {
        (index < self.max_cpus).then(|| self.slot_unchecked(index))
    }

    fn slot_unchecked(&self, index: u32) -> CpuSlot {
        let f = self.apic_fields();
        let apic_id = self.x86_apic_id(index);
        CpuSlot {
            index,
            apic_id,
            socket_id: apic_id.wrapping_shr(f.socket_offset()),
            die_id: (self.dies > 1)
                .then(|| apic_id.wrapping_shr(f.die_offset()) & low_bits(f.die_width)),
            module_id: (self.modules > 1)
                .then(|| apic_id.wrapping_shr(f.module_offset()) & low_bits(f.module_width)),
            cluster_id: None,
            core_id: apic_id.wrapping_shr(f.core_offset()) & low_bits(f.core_width),
            thread_id: apic_id & low_bits(f.smt_width),
        }
    }

    /// Every possible CPU slot in index order, without allocating: exactly
    /// `max_cpus` items.
    pub fn x86_slots_iter(&self) -> X86Slots {
        X86Slots {
            topology: *self,
            next: 0,
            end: self.max_cpus,
        }
    }

    /// Every possible CPU slot in index order: `max_cpus` entries, at most
    /// [`MAX_POSSIBLE_CPUS`] (a hand-written topology with more gets its
    /// first [`MAX_POSSIBLE_CPUS`]; [`x86_slots_iter`](Self::x86_slots_iter)
    /// has them all).
    pub fn x86_slots(&self) -> Vec<CpuSlot> {
        let mut slots = self.x86_slots_iter();
        slots.end = slots.end.min(MAX_POSSIBLE_CPUS);
        slots.collect()
    }

    /// One more than the APIC id of the last possible CPU (QEMU's
    /// `apic_id_limit`, the size of per-APIC-id tables such as the one in
    /// `fw_cfg`); 0 when there are no CPUs. As APIC ids grow with the
    /// index, this is the highest APIC id plus one for every topology from
    /// [`resolve_smp`]. Saturates at `u32::MAX`.
    pub fn x86_apic_id_limit(&self) -> u32 {
        match self.max_cpus.checked_sub(1) {
            None => 0,
            Some(last) => self.x86_apic_id(last).saturating_add(1),
        }
    }

    /// The check QEMU 7.2 makes when the accelerator cannot deliver
    /// interrupts to APIC ids of 255 and above (TCG; KVM without an
    /// in-kernel irqchip or without the X2APIC API): the highest APIC id
    /// must be at most 254. So `-smp 255` is accepted but `-smp 256` on
    /// `q35` and `-smp 255,threads=3` (APIC ids up to 338) are not.
    pub fn x86_check_without_x2apic(&self) -> Result<(), SmpError> {
        let apic_id_limit = self.x86_apic_id_limit();
        if apic_id_limit > XAPIC_ID_LIMIT {
            return Err(SmpError::X2apicRequired { apic_id_limit });
        }
        Ok(())
    }
}

/// The possible CPU slots of a topology in index order
/// ([`CpuTopology::x86_slots_iter`]).
#[derive(Clone, Debug)]
pub struct X86Slots {
    topology: CpuTopology,
    next: u32,
    end: u32,
}

impl Iterator for X86Slots {
    type Item = CpuSlot;

    fn next(&mut self) -> Option<CpuSlot> {
        if self.next >= self.end {
            return None;
        }
        let slot = self.topology.slot_unchecked(self.next);
        self.next += 1;
        Some(slot)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::try_from(self.end.saturating_sub(self.next)).unwrap_or(usize::MAX);
        (n, Some(n))
    }
}

impl DoubleEndedIterator for X86Slots {
    fn next_back(&mut self) -> Option<CpuSlot> {
        if self.next >= self.end {
            return None;
        }
        self.end -= 1;
        Some(self.topology.slot_unchecked(self.end))
    }
}

impl ExactSizeIterator for X86Slots {}

impl FusedIterator for X86Slots {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;
    use alloc::vec;
    use proptest::prelude::*;
    use vnuma_options::CommandLine;

    /// `(index, apic_id, socket_id, die_id, core_id, thread_id)`.
    type Slot = (u32, u32, u32, Option<u32>, u32, u32);

    enum Expect {
        /// `topology` is `[cpus, max_cpus, sockets, dies, clusters, cores,
        /// threads]`; `slots` is every slot (when it has `max_cpus`
        /// entries) or a sample that includes the last one.
        Accepted {
            topology: [u32; 7],
            zero_warning: bool,
            needs_x2apic: bool,
            slots: &'static [Slot],
        },
        /// The whole message.
        Rejected(&'static str),
    }
    use Expect::{Accepted, Rejected};

    struct Case {
        /// `-M` value.
        machine: &'static str,
        /// `-smp` value; `None`: no `-smp`.
        smp: Option<&'static str>,
        expect: Expect,
    }

    fn limits(machine: &str) -> SmpLimits {
        match machine {
            "pc" => SmpLimits::x86("pc-i440fx-7.2", 255, false),
            "q35" => SmpLimits::x86("pc-q35-7.2", 288, false),
            "pc-i440fx-6.1" => SmpLimits::x86("pc-i440fx-6.1", 255, true),
            "pc-q35-6.1" => SmpLimits::x86("pc-q35-6.1", 288, true),
            _ => unreachable!("no limits for {machine}"),
        }
    }

    /// The `-smp` text through vnuma-options, as a VMM gets it.
    fn smp(text: Option<&str>) -> SmpOptions {
        match text {
            None => SmpOptions::default(),
            Some(text) => {
                let cl = CommandLine::parse(["-smp", text]).expect("parses");
                cl.machine().expect("types").smp
            }
        }
    }

    fn topology(t: [u32; 7]) -> CpuTopology {
        let [cpus, max_cpus, sockets, dies, clusters, cores, threads] = t;
        CpuTopology {
            cpus,
            max_cpus,
            sockets,
            dies,
            clusters,
            modules: 1,
            cores,
            threads,
        }
    }

    fn slot(s: Slot) -> CpuSlot {
        let (index, apic_id, socket_id, die_id, core_id, thread_id) = s;
        CpuSlot {
            index,
            apic_id,
            socket_id,
            die_id,
            module_id: None,
            cluster_id: None,
            core_id,
            thread_id,
        }
    }

    /// QEMU 7.2 (`qemu-system-x86_64 -S -nodefaults -display none -accel
    /// tcg -qmp stdio -M <machine> -smp <smp>`): the message on stderr, or
    /// the slots of `query-hotpluggable-cpus` with the `apic-id` of each
    /// CPU (boot CPUs as they are, the others after `device_add` with the
    /// slot's properties), and whether the zero warning was printed.
    #[rustfmt::skip]
    const CASES: &[Case] = &[
        Case { machine: "pc", smp: None, expect: Accepted { topology: [1, 1, 1, 1, 1, 1, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0)] } },
        Case { machine: "pc", smp: Some("4"), expect: Accepted { topology: [4, 4, 1, 1, 1, 4, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 0, None, 2, 0), (3, 3, 0, None, 3, 0)] } },
        Case { machine: "pc", smp: Some("cpus=4,sockets=2"), expect: Accepted { topology: [4, 4, 2, 1, 1, 2, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 1, None, 0, 0), (3, 3, 1, None, 1, 0)] } },
        Case { machine: "pc", smp: Some("cpus=8,cores=2"), expect: Accepted { topology: [8, 8, 4, 1, 1, 2, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 1, None, 0, 0), (3, 3, 1, None, 1, 0), (4, 4, 2, None, 0, 0), (5, 5, 2, None, 1, 0), (6, 6, 3, None, 0, 0), (7, 7, 3, None, 1, 0)] } },
        Case { machine: "pc", smp: Some("cpus=8,threads=2"), expect: Accepted { topology: [8, 8, 1, 1, 1, 4, 2], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 0, 1), (2, 2, 0, None, 1, 0), (3, 3, 0, None, 1, 1), (4, 4, 0, None, 2, 0), (5, 5, 0, None, 2, 1), (6, 6, 0, None, 3, 0), (7, 7, 0, None, 3, 1)] } },
        Case { machine: "pc", smp: Some("sockets=2,cores=2,threads=2"), expect: Accepted { topology: [8, 8, 2, 1, 1, 2, 2], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 0, 1), (2, 2, 0, None, 1, 0), (3, 3, 0, None, 1, 1), (4, 4, 1, None, 0, 0), (5, 5, 1, None, 0, 1), (6, 6, 1, None, 1, 0), (7, 7, 1, None, 1, 1)] } },
        Case { machine: "pc", smp: Some("sockets=2"), expect: Accepted { topology: [2, 2, 2, 1, 1, 1, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 1, None, 0, 0)] } },
        Case { machine: "pc", smp: Some("cores=3"), expect: Accepted { topology: [3, 3, 1, 1, 1, 3, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 0, None, 2, 0)] } },
        Case { machine: "pc", smp: Some("threads=3"), expect: Accepted { topology: [3, 3, 1, 1, 1, 1, 3], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 0, 1), (2, 2, 0, None, 0, 2)] } },
        Case { machine: "pc", smp: Some("maxcpus=8"), expect: Accepted { topology: [8, 8, 1, 1, 1, 8, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 0, None, 2, 0), (3, 3, 0, None, 3, 0), (4, 4, 0, None, 4, 0), (5, 5, 0, None, 5, 0), (6, 6, 0, None, 6, 0), (7, 7, 0, None, 7, 0)] } },
        Case { machine: "pc", smp: Some("2,maxcpus=8"), expect: Accepted { topology: [2, 8, 1, 1, 1, 8, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 0, None, 2, 0), (3, 3, 0, None, 3, 0), (4, 4, 0, None, 4, 0), (5, 5, 0, None, 5, 0), (6, 6, 0, None, 6, 0), (7, 7, 0, None, 7, 0)] } },
        Case { machine: "pc", smp: Some("2,maxcpus=8,sockets=2"), expect: Accepted { topology: [2, 8, 2, 1, 1, 4, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 0, None, 2, 0), (3, 3, 0, None, 3, 0), (4, 4, 1, None, 0, 0), (5, 5, 1, None, 1, 0), (6, 6, 1, None, 2, 0), (7, 7, 1, None, 3, 0)] } },
        Case { machine: "pc", smp: Some("2,maxcpus=12,sockets=2,threads=3"), expect: Accepted { topology: [2, 12, 2, 1, 1, 2, 3], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 0, 1), (2, 2, 0, None, 0, 2), (3, 4, 0, None, 1, 0), (4, 5, 0, None, 1, 1), (5, 6, 0, None, 1, 2), (6, 8, 1, None, 0, 0), (7, 9, 1, None, 0, 1), (8, 10, 1, None, 0, 2), (9, 12, 1, None, 1, 0), (10, 13, 1, None, 1, 1), (11, 14, 1, None, 1, 2)] } },
        Case { machine: "pc", smp: Some("6,cores=3,threads=2"), expect: Accepted { topology: [6, 6, 1, 1, 1, 3, 2], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 0, 1), (2, 2, 0, None, 1, 0), (3, 3, 0, None, 1, 1), (4, 4, 0, None, 2, 0), (5, 5, 0, None, 2, 1)] } },
        Case { machine: "pc", smp: Some("12,sockets=2,dies=2,cores=3"), expect: Accepted { topology: [12, 12, 2, 2, 1, 3, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, Some(0), 0, 0), (1, 1, 0, Some(0), 1, 0), (2, 2, 0, Some(0), 2, 0), (3, 4, 0, Some(1), 0, 0), (4, 5, 0, Some(1), 1, 0), (5, 6, 0, Some(1), 2, 0), (6, 8, 1, Some(0), 0, 0), (7, 9, 1, Some(0), 1, 0), (8, 10, 1, Some(0), 2, 0), (9, 12, 1, Some(1), 0, 0), (10, 13, 1, Some(1), 1, 0), (11, 14, 1, Some(1), 2, 0)] } },
        Case { machine: "pc", smp: Some("16,sockets=2,dies=2,cores=2,threads=2"), expect: Accepted { topology: [16, 16, 2, 2, 1, 2, 2], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, Some(0), 0, 0), (1, 1, 0, Some(0), 0, 1), (2, 2, 0, Some(0), 1, 0), (3, 3, 0, Some(0), 1, 1), (4, 4, 0, Some(1), 0, 0), (5, 5, 0, Some(1), 0, 1), (6, 6, 0, Some(1), 1, 0), (7, 7, 0, Some(1), 1, 1), (8, 8, 1, Some(0), 0, 0), (9, 9, 1, Some(0), 0, 1), (10, 10, 1, Some(0), 1, 0), (11, 11, 1, Some(0), 1, 1), (12, 12, 1, Some(1), 0, 0), (13, 13, 1, Some(1), 0, 1), (14, 14, 1, Some(1), 1, 0), (15, 15, 1, Some(1), 1, 1)] } },
        Case { machine: "pc", smp: Some("4,dies=2"), expect: Accepted { topology: [4, 4, 1, 2, 1, 2, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, Some(0), 0, 0), (1, 1, 0, Some(0), 1, 0), (2, 2, 0, Some(1), 0, 0), (3, 3, 0, Some(1), 1, 0)] } },
        Case { machine: "pc", smp: Some("dies=2"), expect: Accepted { topology: [2, 2, 1, 2, 1, 1, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, Some(0), 0, 0), (1, 1, 0, Some(1), 0, 0)] } },
        Case { machine: "pc", smp: Some("4,maxcpus=12,dies=3"), expect: Accepted { topology: [4, 12, 1, 3, 1, 4, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, Some(0), 0, 0), (1, 1, 0, Some(0), 1, 0), (2, 2, 0, Some(0), 2, 0), (3, 3, 0, Some(0), 3, 0), (4, 4, 0, Some(1), 0, 0), (5, 5, 0, Some(1), 1, 0), (6, 6, 0, Some(1), 2, 0), (7, 7, 0, Some(1), 3, 0), (8, 8, 0, Some(2), 0, 0), (9, 9, 0, Some(2), 1, 0), (10, 10, 0, Some(2), 2, 0), (11, 11, 0, Some(2), 3, 0)] } },
        Case { machine: "pc", smp: Some("cpus=4,sockets=2,cores=2,threads=1,maxcpus=4"), expect: Accepted { topology: [4, 4, 2, 1, 1, 2, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 1, None, 0, 0), (3, 3, 1, None, 1, 0)] } },
        Case { machine: "pc", smp: Some("0"), expect: Accepted { topology: [1, 1, 1, 1, 1, 1, 1], zero_warning: true, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0)] } },
        Case { machine: "pc", smp: Some("cpus=0,sockets=0"), expect: Accepted { topology: [1, 1, 1, 1, 1, 1, 1], zero_warning: true, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0)] } },
        Case { machine: "pc", smp: Some("4,sockets=0"), expect: Accepted { topology: [4, 4, 1, 1, 1, 4, 1], zero_warning: true, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 0, None, 2, 0), (3, 3, 0, None, 3, 0)] } },
        Case { machine: "pc", smp: Some("4,cores=0,threads=0"), expect: Accepted { topology: [4, 4, 1, 1, 1, 4, 1], zero_warning: true, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 0, None, 2, 0), (3, 3, 0, None, 3, 0)] } },
        Case { machine: "pc", smp: Some("4,maxcpus=0"), expect: Accepted { topology: [4, 4, 1, 1, 1, 4, 1], zero_warning: true, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 0, None, 2, 0), (3, 3, 0, None, 3, 0)] } },
        Case { machine: "pc", smp: Some("4,dies=0"), expect: Accepted { topology: [4, 4, 1, 1, 1, 4, 1], zero_warning: true, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 0, None, 2, 0), (3, 3, 0, None, 3, 0)] } },
        Case { machine: "pc", smp: Some("clusters=1"), expect: Accepted { topology: [1, 1, 1, 1, 1, 1, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0)] } },
        Case { machine: "pc", smp: Some("4,clusters=0"), expect: Accepted { topology: [4, 4, 1, 1, 1, 4, 1], zero_warning: true, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 0, None, 2, 0), (3, 3, 0, None, 3, 0)] } },
        Case { machine: "pc", smp: Some("4,clusters=2"), expect: Rejected("clusters not supported by this machine's CPU topology") },
        Case { machine: "pc", smp: Some("dies=2,clusters=2"), expect: Rejected("clusters not supported by this machine's CPU topology") },
        Case { machine: "pc", smp: Some("4,clusters=4294967298"), expect: Rejected("clusters not supported by this machine's CPU topology") },
        Case { machine: "pc", smp: Some("4,clusters=-1"), expect: Rejected("clusters not supported by this machine's CPU topology") },
        Case { machine: "pc", smp: Some("4,clusters=4294967297"), expect: Accepted { topology: [4, 4, 1, 1, 1, 4, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 0, None, 2, 0), (3, 3, 0, None, 3, 0)] } },
        Case { machine: "pc", smp: Some("-1"), expect: Rejected("Invalid SMP CPUs -1. The max CPUs supported by machine 'pc-i440fx-7.2' is 255") },
        Case { machine: "pc", smp: Some("4294967296"), expect: Accepted { topology: [1, 1, 1, 1, 1, 1, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0)] } },
        Case { machine: "pc", smp: Some("4294967297"), expect: Accepted { topology: [1, 1, 1, 1, 1, 1, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0)] } },
        Case { machine: "pc", smp: Some("4294967298"), expect: Accepted { topology: [2, 2, 1, 1, 1, 2, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0)] } },
        Case { machine: "pc", smp: Some("9223372036854775807"), expect: Rejected("Invalid SMP CPUs -1. The max CPUs supported by machine 'pc-i440fx-7.2' is 255") },
        Case { machine: "pc", smp: Some("-9223372036854775808"), expect: Accepted { topology: [1, 1, 1, 1, 1, 1, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0)] } },
        Case { machine: "pc", smp: Some("-4294967295"), expect: Accepted { topology: [1, 1, 1, 1, 1, 1, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0)] } },
        Case { machine: "pc", smp: Some("300"), expect: Rejected("Invalid SMP CPUs 300. The max CPUs supported by machine 'pc-i440fx-7.2' is 255") },
        Case { machine: "pc", smp: Some("256"), expect: Rejected("Invalid SMP CPUs 256. The max CPUs supported by machine 'pc-i440fx-7.2' is 255") },
        Case { machine: "pc", smp: Some("255"), expect: Accepted { topology: [255, 255, 1, 1, 1, 255, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 0, None, 2, 0), (85, 85, 0, None, 85, 0), (127, 127, 0, None, 127, 0), (253, 253, 0, None, 253, 0), (254, 254, 0, None, 254, 0)] } },
        Case { machine: "pc", smp: Some("2,maxcpus=1"), expect: Rejected("Invalid CPU topology: maxcpus must be equal to or greater than smp: sockets (1) * dies (1) * cores (1) * threads (1) == maxcpus (1) < smp_cpus (2)") },
        Case { machine: "pc", smp: Some("4,sockets=3"), expect: Rejected("Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (3) * dies (1) * cores (1) * threads (1) != maxcpus (4)") },
        Case { machine: "pc", smp: Some("cpus=4,dies=-1"), expect: Rejected("Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (1) * dies (4294967295) * cores (0) * threads (1) != maxcpus (4)") },
        Case { machine: "pc", smp: Some("cpus=-1,maxcpus=1"), expect: Rejected("Invalid CPU topology: maxcpus must be equal to or greater than smp: sockets (1) * dies (1) * cores (1) * threads (1) == maxcpus (1) < smp_cpus (4294967295)") },
        Case { machine: "pc", smp: Some("cpus=1,maxcpus=-1"), expect: Rejected("Invalid SMP CPUs -1. The max CPUs supported by machine 'pc-i440fx-7.2' is 255") },
        Case { machine: "pc", smp: Some("sockets=65536,cores=65536"), expect: Rejected("Invalid SMP CPUs 0. The min CPUs supported by machine 'pc-i440fx-7.2' is 1") },
        Case { machine: "pc", smp: Some("8,sockets=2,cores=2,threads=3"), expect: Rejected("Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (2) * dies (1) * cores (2) * threads (3) != maxcpus (8)") },
        Case { machine: "pc", smp: Some("10,threads=3"), expect: Rejected("Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (1) * dies (1) * cores (3) * threads (3) != maxcpus (10)") },
        Case { machine: "pc", smp: Some("5,sockets=2"), expect: Rejected("Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (2) * dies (1) * cores (2) * threads (1) != maxcpus (5)") },
        Case { machine: "pc", smp: Some("3,threads=2"), expect: Rejected("Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (1) * dies (1) * cores (1) * threads (2) != maxcpus (3)") },
        // QEMU 7.2: accepted, socket ids 0..3
        Case { machine: "pc", smp: Some("4,sockets=2,cores=2147483650"), expect: Rejected("Invalid CPU topology: product of the hierarchy overflows 32 bits: sockets (2) * dies (1) * cores (2147483650) * threads (1) != maxcpus (4)") },
        // QEMU 7.2: accepted, socket ids 0..3
        Case { machine: "pc", smp: Some("4,dies=2147483650,sockets=2"), expect: Rejected("Invalid CPU topology: product of the hierarchy overflows 32 bits: sockets (2) * dies (2147483650) * cores (1) * threads (1) != maxcpus (4)") },
        // QEMU 7.2: killed by SIGFPE
        Case { machine: "pc", smp: Some("cpus=4,sockets=65536,threads=65536"), expect: Rejected("Invalid CPU topology: cannot compute cores: the product of the other members is a multiple of 2^32") },
        // QEMU 7.2: killed by SIGFPE
        Case { machine: "pc", smp: Some("maxcpus=4,sockets=65536,cores=65536"), expect: Rejected("Invalid CPU topology: cannot compute threads: the product of the other members is a multiple of 2^32") },
        // TCG: rejected for APIC ids >= 255; slots from the same QEMU with -accel kvm
        Case { machine: "pc", smp: Some("255,threads=3"), expect: Accepted { topology: [255, 255, 1, 1, 1, 85, 3], zero_warning: false, needs_x2apic: true, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 0, 1), (2, 2, 0, None, 0, 2), (85, 113, 0, None, 28, 1), (127, 169, 0, None, 42, 1), (253, 337, 0, None, 84, 1), (254, 338, 0, None, 84, 2)] } },
        Case { machine: "pc", smp: Some("128,sockets=2,cores=64"), expect: Accepted { topology: [128, 128, 2, 1, 1, 64, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 0, None, 2, 0), (42, 42, 0, None, 42, 0), (64, 64, 1, None, 0, 0), (126, 126, 1, None, 62, 0), (127, 127, 1, None, 63, 0)] } },
        Case { machine: "pc", smp: Some("1,maxcpus=255"), expect: Accepted { topology: [1, 255, 1, 1, 1, 255, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 0, None, 2, 0), (85, 85, 0, None, 85, 0), (127, 127, 0, None, 127, 0), (253, 253, 0, None, 253, 0), (254, 254, 0, None, 254, 0)] } },
        Case { machine: "pc", smp: Some("cpus=6,maxcpus=24,sockets=2,dies=2,cores=3,threads=2"), expect: Accepted { topology: [6, 24, 2, 2, 1, 3, 2], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, Some(0), 0, 0), (1, 1, 0, Some(0), 0, 1), (2, 2, 0, Some(0), 1, 0), (3, 3, 0, Some(0), 1, 1), (4, 4, 0, Some(0), 2, 0), (5, 5, 0, Some(0), 2, 1), (6, 8, 0, Some(1), 0, 0), (7, 9, 0, Some(1), 0, 1), (8, 10, 0, Some(1), 1, 0), (9, 11, 0, Some(1), 1, 1), (10, 12, 0, Some(1), 2, 0), (11, 13, 0, Some(1), 2, 1), (12, 16, 1, Some(0), 0, 0), (13, 17, 1, Some(0), 0, 1), (14, 18, 1, Some(0), 1, 0), (15, 19, 1, Some(0), 1, 1), (16, 20, 1, Some(0), 2, 0), (17, 21, 1, Some(0), 2, 1), (18, 24, 1, Some(1), 0, 0), (19, 25, 1, Some(1), 0, 1), (20, 26, 1, Some(1), 1, 0), (21, 27, 1, Some(1), 1, 1), (22, 28, 1, Some(1), 2, 0), (23, 29, 1, Some(1), 2, 1)] } },
        Case { machine: "pc", smp: Some("cpus=2,maxcpus=8,sockets=4"), expect: Accepted { topology: [2, 8, 4, 1, 1, 2, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 1, None, 0, 0), (3, 3, 1, None, 1, 0), (4, 4, 2, None, 0, 0), (5, 5, 2, None, 1, 0), (6, 6, 3, None, 0, 0), (7, 7, 3, None, 1, 0)] } },
        Case { machine: "pc", smp: Some("dies=2,maxcpus=8"), expect: Accepted { topology: [8, 8, 1, 2, 1, 4, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, Some(0), 0, 0), (1, 1, 0, Some(0), 1, 0), (2, 2, 0, Some(0), 2, 0), (3, 3, 0, Some(0), 3, 0), (4, 4, 0, Some(1), 0, 0), (5, 5, 0, Some(1), 1, 0), (6, 6, 0, Some(1), 2, 0), (7, 7, 0, Some(1), 3, 0)] } },
        Case { machine: "pc", smp: Some("cores=2,maxcpus=8"), expect: Accepted { topology: [8, 8, 4, 1, 1, 2, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 1, None, 0, 0), (3, 3, 1, None, 1, 0), (4, 4, 2, None, 0, 0), (5, 5, 2, None, 1, 0), (6, 6, 3, None, 0, 0), (7, 7, 3, None, 1, 0)] } },
        Case { machine: "pc", smp: Some("cpus=3,maxcpus=8,threads=2"), expect: Accepted { topology: [3, 8, 1, 1, 1, 4, 2], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 0, 1), (2, 2, 0, None, 1, 0), (3, 3, 0, None, 1, 1), (4, 4, 0, None, 2, 0), (5, 5, 0, None, 2, 1), (6, 6, 0, None, 3, 0), (7, 7, 0, None, 3, 1)] } },
        Case { machine: "pc", smp: Some("4,maxcpus=4294967300"), expect: Accepted { topology: [4, 4, 1, 1, 1, 4, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 0, None, 2, 0), (3, 3, 0, None, 3, 0)] } },
        Case { machine: "pc", smp: Some("4,sockets=4294967298,cores=2"), expect: Accepted { topology: [4, 4, 2, 1, 1, 2, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 1, None, 0, 0), (3, 3, 1, None, 1, 0)] } },
        Case { machine: "pc", smp: Some("threads=4294967296"), expect: Accepted { topology: [1, 1, 1, 1, 1, 1, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0)] } },
        Case { machine: "q35", smp: None, expect: Accepted { topology: [1, 1, 1, 1, 1, 1, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0)] } },
        Case { machine: "q35", smp: Some("4"), expect: Accepted { topology: [4, 4, 1, 1, 1, 4, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 0, None, 2, 0), (3, 3, 0, None, 3, 0)] } },
        Case { machine: "q35", smp: Some("300"), expect: Rejected("Invalid SMP CPUs 300. The max CPUs supported by machine 'pc-q35-7.2' is 288") },
        Case { machine: "q35", smp: Some("289"), expect: Rejected("Invalid SMP CPUs 289. The max CPUs supported by machine 'pc-q35-7.2' is 288") },
        // TCG: rejected for APIC ids >= 255; slots from the same QEMU with -accel kvm
        Case { machine: "q35", smp: Some("288"), expect: Accepted { topology: [288, 288, 1, 1, 1, 288, 1], zero_warning: false, needs_x2apic: true, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 0, None, 2, 0), (96, 96, 0, None, 96, 0), (144, 144, 0, None, 144, 0), (286, 286, 0, None, 286, 0), (287, 287, 0, None, 287, 0)] } },
        // TCG: rejected for APIC ids >= 255; slots from the same QEMU with -accel kvm
        Case { machine: "q35", smp: Some("256"), expect: Accepted { topology: [256, 256, 1, 1, 1, 256, 1], zero_warning: false, needs_x2apic: true, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 0, None, 2, 0), (85, 85, 0, None, 85, 0), (128, 128, 0, None, 128, 0), (254, 254, 0, None, 254, 0), (255, 255, 0, None, 255, 0)] } },
        Case { machine: "q35", smp: Some("255"), expect: Accepted { topology: [255, 255, 1, 1, 1, 255, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 0, None, 2, 0), (85, 85, 0, None, 85, 0), (127, 127, 0, None, 127, 0), (253, 253, 0, None, 253, 0), (254, 254, 0, None, 254, 0)] } },
        Case { machine: "q35", smp: Some("0"), expect: Accepted { topology: [1, 1, 1, 1, 1, 1, 1], zero_warning: true, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0)] } },
        Case { machine: "q35", smp: Some("-1"), expect: Rejected("Invalid SMP CPUs -1. The max CPUs supported by machine 'pc-q35-7.2' is 288") },
        Case { machine: "q35", smp: Some("8,sockets=2,dies=2,threads=2"), expect: Accepted { topology: [8, 8, 2, 2, 1, 1, 2], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, Some(0), 0, 0), (1, 1, 0, Some(0), 0, 1), (2, 2, 0, Some(1), 0, 0), (3, 3, 0, Some(1), 0, 1), (4, 4, 1, Some(0), 0, 0), (5, 5, 1, Some(0), 0, 1), (6, 6, 1, Some(1), 0, 0), (7, 7, 1, Some(1), 0, 1)] } },
        Case { machine: "q35", smp: Some("4,maxcpus=10,cores=5"), expect: Accepted { topology: [4, 10, 2, 1, 1, 5, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 0, None, 2, 0), (3, 3, 0, None, 3, 0), (4, 4, 0, None, 4, 0), (5, 8, 1, None, 0, 0), (6, 9, 1, None, 1, 0), (7, 10, 1, None, 2, 0), (8, 11, 1, None, 3, 0), (9, 12, 1, None, 4, 0)] } },
        Case { machine: "q35", smp: Some("4,clusters=2"), expect: Rejected("clusters not supported by this machine's CPU topology") },
        Case { machine: "q35", smp: Some("2,maxcpus=1"), expect: Rejected("Invalid CPU topology: maxcpus must be equal to or greater than smp: sockets (1) * dies (1) * cores (1) * threads (1) == maxcpus (1) < smp_cpus (2)") },
        Case { machine: "q35", smp: Some("3,sockets=2"), expect: Rejected("Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (2) * dies (1) * cores (1) * threads (1) != maxcpus (3)") },
        // TCG: rejected for APIC ids >= 255; slots from the same QEMU with -accel kvm
        Case { machine: "q35", smp: Some("1,maxcpus=288,sockets=2,cores=144"), expect: Accepted { topology: [1, 288, 2, 1, 1, 144, 1], zero_warning: false, needs_x2apic: true, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 0, None, 2, 0), (96, 96, 0, None, 96, 0), (144, 256, 1, None, 0, 0), (286, 398, 1, None, 142, 0), (287, 399, 1, None, 143, 0)] } },
        Case { machine: "q35", smp: Some("cpus=2,maxcpus=8,threads=2"), expect: Accepted { topology: [2, 8, 1, 1, 1, 4, 2], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 0, 1), (2, 2, 0, None, 1, 0), (3, 3, 0, None, 1, 1), (4, 4, 0, None, 2, 0), (5, 5, 0, None, 2, 1), (6, 6, 0, None, 3, 0), (7, 7, 0, None, 3, 1)] } },
        Case { machine: "pc-i440fx-6.1", smp: Some("4"), expect: Accepted { topology: [4, 4, 4, 1, 1, 1, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 1, None, 0, 0), (2, 2, 2, None, 0, 0), (3, 3, 3, None, 0, 0)] } },
        Case { machine: "pc-i440fx-6.1", smp: Some("8,cores=2"), expect: Accepted { topology: [8, 8, 4, 1, 1, 2, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 1, None, 0, 0), (3, 3, 1, None, 1, 0), (4, 4, 2, None, 0, 0), (5, 5, 2, None, 1, 0), (6, 6, 3, None, 0, 0), (7, 7, 3, None, 1, 0)] } },
        Case { machine: "pc-i440fx-6.1", smp: Some("8,threads=2"), expect: Accepted { topology: [8, 8, 4, 1, 1, 1, 2], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 0, 1), (2, 2, 1, None, 0, 0), (3, 3, 1, None, 0, 1), (4, 4, 2, None, 0, 0), (5, 5, 2, None, 0, 1), (6, 6, 3, None, 0, 0), (7, 7, 3, None, 0, 1)] } },
        Case { machine: "pc-i440fx-6.1", smp: Some("8,sockets=2"), expect: Accepted { topology: [8, 8, 2, 1, 1, 4, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 0, None, 2, 0), (3, 3, 0, None, 3, 0), (4, 4, 1, None, 0, 0), (5, 5, 1, None, 1, 0), (6, 6, 1, None, 2, 0), (7, 7, 1, None, 3, 0)] } },
        Case { machine: "pc-i440fx-6.1", smp: Some("8,sockets=2,cores=2"), expect: Accepted { topology: [8, 8, 2, 1, 1, 2, 2], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 0, 1), (2, 2, 0, None, 1, 0), (3, 3, 0, None, 1, 1), (4, 4, 1, None, 0, 0), (5, 5, 1, None, 0, 1), (6, 6, 1, None, 1, 0), (7, 7, 1, None, 1, 1)] } },
        Case { machine: "pc-i440fx-6.1", smp: Some("2,maxcpus=8"), expect: Accepted { topology: [2, 8, 8, 1, 1, 1, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 1, None, 0, 0), (2, 2, 2, None, 0, 0), (3, 3, 3, None, 0, 0), (4, 4, 4, None, 0, 0), (5, 5, 5, None, 0, 0), (6, 6, 6, None, 0, 0), (7, 7, 7, None, 0, 0)] } },
        Case { machine: "pc-i440fx-6.1", smp: Some("8,dies=2"), expect: Accepted { topology: [8, 8, 4, 2, 1, 1, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, Some(0), 0, 0), (1, 1, 0, Some(1), 0, 0), (2, 2, 1, Some(0), 0, 0), (3, 3, 1, Some(1), 0, 0), (4, 4, 2, Some(0), 0, 0), (5, 5, 2, Some(1), 0, 0), (6, 6, 3, Some(0), 0, 0), (7, 7, 3, Some(1), 0, 0)] } },
        Case { machine: "pc-i440fx-6.1", smp: Some("sockets=2,cores=2"), expect: Accepted { topology: [4, 4, 2, 1, 1, 2, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 1, None, 0, 0), (3, 3, 1, None, 1, 0)] } },
        Case { machine: "pc-i440fx-6.1", smp: Some("6,threads=3"), expect: Accepted { topology: [6, 6, 2, 1, 1, 1, 3], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 0, 1), (2, 2, 0, None, 0, 2), (3, 4, 1, None, 0, 0), (4, 5, 1, None, 0, 1), (5, 6, 1, None, 0, 2)] } },
        Case { machine: "pc-i440fx-6.1", smp: Some("4,sockets=2,threads=2"), expect: Accepted { topology: [4, 4, 2, 1, 1, 1, 2], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 0, 1), (2, 2, 1, None, 0, 0), (3, 3, 1, None, 0, 1)] } },
        Case { machine: "pc-i440fx-6.1", smp: Some("5,cores=2"), expect: Rejected("Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (2) * dies (1) * cores (2) * threads (1) != maxcpus (5)") },
        Case { machine: "pc-i440fx-6.1", smp: Some("0"), expect: Accepted { topology: [1, 1, 1, 1, 1, 1, 1], zero_warning: true, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0)] } },
        Case { machine: "pc-i440fx-6.1", smp: Some("300"), expect: Rejected("Invalid SMP CPUs 300. The max CPUs supported by machine 'pc-i440fx-6.1' is 255") },
        Case { machine: "pc-i440fx-6.1", smp: Some("maxcpus=6,cores=3"), expect: Accepted { topology: [6, 6, 2, 1, 1, 3, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 0, None, 2, 0), (3, 4, 1, None, 0, 0), (4, 5, 1, None, 1, 0), (5, 6, 1, None, 2, 0)] } },
        Case { machine: "pc-i440fx-6.1", smp: Some("-1"), expect: Rejected("Invalid SMP CPUs -1. The max CPUs supported by machine 'pc-i440fx-6.1' is 255") },
        Case { machine: "pc-i440fx-6.1", smp: Some("4,clusters=2"), expect: Rejected("clusters not supported by this machine's CPU topology") },
        Case { machine: "pc-q35-6.1", smp: Some("4"), expect: Accepted { topology: [4, 4, 4, 1, 1, 1, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 1, None, 0, 0), (2, 2, 2, None, 0, 0), (3, 3, 3, None, 0, 0)] } },
        Case { machine: "pc-q35-6.1", smp: Some("6,cores=3"), expect: Accepted { topology: [6, 6, 2, 1, 1, 3, 1], zero_warning: false, needs_x2apic: false, slots: &[(0, 0, 0, None, 0, 0), (1, 1, 0, None, 1, 0), (2, 2, 0, None, 2, 0), (3, 4, 1, None, 0, 0), (4, 5, 1, None, 1, 0), (5, 6, 1, None, 2, 0)] } },
        Case { machine: "pc-q35-6.1", smp: Some("300"), expect: Rejected("Invalid SMP CPUs 300. The max CPUs supported by machine 'pc-q35-6.1' is 288") },
    ];

    #[test]
    fn qemu72_cases() {
        assert!(CASES.len() >= 100);
        for case in CASES {
            let what = format!("-M {} -smp {:?}", case.machine, case.smp);
            let got = resolve_smp(&smp(case.smp), &limits(case.machine));
            match (&case.expect, got) {
                (Rejected(text), Err(e)) => assert_eq!(e.to_string(), *text, "{what}"),
                (Rejected(text), Ok(t)) => panic!("{what}: accepted {t:?}, QEMU: {text}"),
                (Accepted { .. }, Err(e)) => panic!("{what}: rejected: {e}"),
                (
                    Accepted {
                        topology: expected,
                        zero_warning,
                        needs_x2apic,
                        slots,
                    },
                    Ok((t, warnings)),
                ) => {
                    assert_eq!(t, topology(*expected), "{what}");
                    let want: Vec<SmpWarning> = if *zero_warning {
                        vec![SmpWarning::ZeroParameter]
                    } else {
                        vec![]
                    };
                    assert_eq!(warnings, want, "{what}");
                    let all = t.x86_slots();
                    assert_eq!(all.len(), t.max_cpus as usize, "{what}");
                    if slots.len() == all.len() {
                        let want: Vec<CpuSlot> = slots.iter().copied().map(slot).collect();
                        assert_eq!(all, want, "{what}");
                    }
                    for &s in *slots {
                        assert_eq!(t.x86_slot(s.0), Some(slot(s)), "{what}");
                        assert_eq!(t.x86_apic_id(s.0), s.1, "{what}");
                    }
                    let last = slots.last().expect("the last slot is listed");
                    assert_eq!(last.0 + 1, t.max_cpus, "{what}");
                    assert_eq!(t.x86_apic_id_limit(), last.1 + 1, "{what}");
                    let check = t.x86_check_without_x2apic();
                    if *needs_x2apic {
                        assert_eq!(
                            check.map_err(|e| e.to_string()),
                            Err("current -smp configuration requires kernel irqchip and X2APIC API support.".to_string()),
                            "{what}"
                        );
                    } else {
                        assert_eq!(check, Ok(()), "{what}");
                    }
                }
            }
        }
    }

    /// Topologies `resolve_smp` rejects but QEMU 7.2 accepts, numbered as
    /// QEMU numbers them (`query-hotpluggable-cpus` on `-M pc`).
    #[test]
    fn wrapped_topologies_number_like_qemu() {
        // -smp 4,sockets=2,cores=2147483650: 2 * 2147483650 = 4 mod 2^32.
        let t = topology([4, 4, 2, 1, 1, 2_147_483_650, 1]);
        assert_eq!(
            t.x86_slots(),
            [
                slot((0, 0, 0, None, 0, 0)),
                slot((1, 1, 1, None, 1, 0)),
                slot((2, 2, 2, None, 2, 0)),
                slot((3, 3, 3, None, 3, 0)),
            ]
        );
        // -smp 4,dies=2147483650,sockets=2
        let t = topology([4, 4, 2, 2_147_483_650, 1, 1, 1]);
        assert_eq!(
            t.x86_slots(),
            [
                slot((0, 0, 0, Some(0), 0, 0)),
                slot((1, 1, 1, Some(1), 0, 0)),
                slot((2, 2, 2, Some(2), 0, 0)),
                slot((3, 3, 3, Some(3), 0, 0)),
            ]
        );
        // -smp 4,cores=2147483650,threads=2
        let t = topology([4, 4, 1, 1, 1, 2_147_483_650, 2]);
        assert_eq!(
            t.x86_slots(),
            [
                slot((0, 0, 0, None, 0, 0)),
                slot((1, 1, 0, None, 0, 1)),
                slot((2, 2, 1, None, 1, 0)),
                slot((3, 3, 1, None, 1, 1)),
            ]
        );
        // -smp 4,threads=2147483650,sockets=2
        let t = topology([4, 4, 2, 1, 1, 1, 2_147_483_650]);
        assert_eq!(
            t.x86_slots(),
            [
                slot((0, 0, 0, None, 0, 0)),
                slot((1, 1, 1, None, 0, 1)),
                slot((2, 2, 2, None, 0, 2)),
                slot((3, 3, 3, None, 0, 3)),
            ]
        );
        for text in [
            "4,sockets=2,cores=2147483650",
            "4,dies=2147483650,sockets=2",
            "4,cores=2147483650,threads=2",
            "4,threads=2147483650,sockets=2",
            "sockets=2,cores=2147483650",
        ] {
            let err = resolve_smp(&smp(Some(text)), &limits("pc")).unwrap_err();
            assert!(
                matches!(err, SmpError::ProductOverflow { max_cpus: 4, .. }),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn warning_text() {
        assert_eq!(
            SmpWarning::ZeroParameter.to_string(),
            "Deprecated CPU topology (considered invalid): CPU topology parameters must be greater than zero"
        );
        // One warning however many members are 0.
        let (t, w) = resolve_smp(
            &smp(Some(
                "cpus=0,sockets=0,dies=0,clusters=0,cores=0,threads=0,maxcpus=0",
            )),
            &limits("pc"),
        )
        .unwrap();
        assert_eq!(w, [SmpWarning::ZeroParameter]);
        assert_eq!(t, topology([1, 1, 1, 1, 1, 1, 1]));
    }

    /// Limits of machines other than x86, for the parts of the messages x86
    /// never shows.
    #[test]
    fn other_machines() {
        let mut arm = SmpLimits::x86("virt-7.2", 512, false);
        arm.dies_supported = false;
        arm.clusters_supported = true;
        let err = resolve_smp(&smp(Some("4,dies=2")), &arm).unwrap_err();
        assert_eq!(err, SmpError::DiesNotSupported);
        assert_eq!(
            err.to_string(),
            "dies not supported by this machine's CPU topology"
        );
        // dies=1 (or a value that truncates to 1) is fine.
        assert!(resolve_smp(&smp(Some("4,dies=4294967297")), &arm).is_ok());
        // dies is checked before clusters.
        let mut none = arm.clone();
        none.clusters_supported = false;
        assert_eq!(
            resolve_smp(&smp(Some("4,dies=2,clusters=2")), &none),
            Err(SmpError::DiesNotSupported)
        );
        let (t, _) = resolve_smp(&smp(Some("8,clusters=2,threads=2")), &arm).unwrap();
        assert_eq!(t, topology([8, 8, 1, 1, 2, 2, 2]));
        assert_eq!(
            resolve_smp(&smp(Some("8,sockets=3,clusters=2")), &arm)
                .unwrap_err()
                .to_string(),
            "Invalid CPU topology: product of the hierarchy must match maxcpus: \
             sockets (3) * clusters (2) * cores (1) * threads (1) != maxcpus (8)"
        );
        assert_eq!(
            resolve_smp(&smp(Some("8,maxcpus=4,clusters=2")), &arm)
                .unwrap_err()
                .to_string(),
            "Invalid CPU topology: maxcpus must be equal to or greater than smp: \
             sockets (1) * clusters (2) * cores (2) * threads (1) == maxcpus (4) < smp_cpus (8)"
        );
        // A machine with a minimum above 1, and one whose default is not 1.
        let mut big = SmpLimits::x86("big", 64, false);
        big.min_cpus = 2;
        big.default_cpus = 4;
        assert_eq!(
            resolve_smp(&smp(Some("1")), &big).unwrap_err().to_string(),
            "Invalid SMP CPUs 1. The min CPUs supported by machine 'big' is 2"
        );
        let (t, w) = resolve_smp(&SmpOptions::default(), &big).unwrap();
        assert_eq!((t, w.len()), (topology([4, 4, 1, 1, 1, 1, 1]), 0));
    }

    #[test]
    fn limit_is_bounded() {
        let huge = SmpLimits::x86("huge", u32::MAX, false);
        assert_eq!(
            resolve_smp(&smp(Some("70000")), &huge).unwrap_err(),
            SmpError::TooManyCpus {
                max_cpus: 70000,
                machine: "huge".into(),
                limit: MAX_POSSIBLE_CPUS
            }
        );
        let (t, _) =
            resolve_smp(&smp(Some("1,maxcpus=65536,sockets=16,threads=2")), &huge).unwrap();
        assert_eq!(t, topology([1, 65536, 16, 1, 1, 2048, 2]));
        assert_eq!(t.x86_slots().len(), 65536);
        assert_eq!(t.x86_apic_id_limit(), 65536);
        // A hand-written topology with more slots: the Vec is capped, the
        // iterator is not.
        let t = topology([1, u32::MAX, 1, 1, 1, u32::MAX, 1]);
        assert_eq!(t.x86_slots().len(), MAX_POSSIBLE_CPUS as usize);
        assert_eq!(t.x86_slots_iter().len(), u32::MAX as usize);
        // The core id takes all 32 bits, so the socket id is read from a
        // shift by 32, which x86 (and QEMU on it) takes as a shift by 0.
        assert_eq!(
            t.x86_slots_iter().next_back(),
            Some(slot((
                u32::MAX - 1,
                u32::MAX - 1,
                u32::MAX - 1,
                None,
                u32::MAX - 1,
                0
            )))
        );
        assert_eq!(t.x86_slot(u32::MAX), None);
        assert_eq!(t.x86_apic_id_limit(), u32::MAX);
    }

    /// QEMU 10.0's `-smp` (texts from `qemu-system-x86_64` 10.0.2).
    #[test]
    fn qemu_10_0_checks_and_messages() {
        let l = SmpLimits::x86_10_0("pc-i440fx-10.0", 255, false);
        let err = |text: &str| resolve_smp(&smp(Some(text)), &l).unwrap_err().to_string();
        let zero = "Invalid CPU topology: CPU topology parameters must be greater than zero";
        assert_eq!(err("4,sockets=0"), zero);
        assert_eq!(err("0"), zero);
        assert_eq!(err("4,maxcpus=0,clusters=2"), zero);
        assert_eq!(
            err("5,sockets=2,cores=2"),
            "Invalid CPU topology: product of the hierarchy must match maxcpus: \
             sockets (2) * dies (1) * modules (1) * cores (2) * threads (1) != maxcpus (5)"
        );
        assert_eq!(
            err("4,dies=2,sockets=3"),
            "Invalid CPU topology: product of the hierarchy must match maxcpus: \
             sockets (3) * dies (2) * modules (1) * cores (0) * threads (1) != maxcpus (4)"
        );
        assert_eq!(
            err("4,maxcpus=2"),
            "Invalid CPU topology: maxcpus must be equal to or greater than smp: \
             sockets (1) * dies (1) * modules (1) * cores (2) * threads (1) == maxcpus (2) < smp_cpus (4)"
        );
        assert_eq!(
            err("4,clusters=2"),
            "clusters > 1 not supported by this machine's CPU topology"
        );
        // 4294967296 is 0 in 32 bits but not 0 as given: omitted, silently.
        let (t, w) = resolve_smp(&smp(Some("4294967296")), &l).unwrap();
        assert_eq!((t.cpus, w.len()), (1, 0));
        // The same in 7.2: a warning.
        let l72 = SmpLimits::x86("pc-i440fx-7.2", 255, false);
        let (_, w) = resolve_smp(&smp(Some("4,sockets=0")), &l72).unwrap();
        assert_eq!(w, [SmpWarning::ZeroParameter]);
    }

    #[test]
    fn error_texts() {
        let h = SmpHierarchy {
            sockets: 2,
            dies: Some(1),
            clusters: None,
            modules: None,
            cores: 3,
            threads: 1,
        };
        let cases: [(SmpError, &str); 6] = [
            (
                SmpError::TooManyCpus { max_cpus: u32::MAX, machine: "pc-q35-7.2".into(), limit: 288 },
                "Invalid SMP CPUs -1. The max CPUs supported by machine 'pc-q35-7.2' is 288",
            ),
            (
                SmpError::TooFewCpus { cpus: 0, machine: "pc-i440fx-7.2".into(), min_cpus: 1 },
                "Invalid SMP CPUs 0. The min CPUs supported by machine 'pc-i440fx-7.2' is 1",
            ),
            (
                SmpError::ProductMismatch { hierarchy: h, max_cpus: 7 },
                "Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (2) * dies (1) * cores (3) * threads (1) != maxcpus (7)",
            ),
            (
                SmpError::ClustersNotSupported,
                "clusters not supported by this machine's CPU topology",
            ),
            (
                SmpError::DivisionByZero { member: "cores" },
                "Invalid CPU topology: cannot compute cores: the product of the other members is a multiple of 2^32",
            ),
            (
                SmpError::X2apicRequired { apic_id_limit: 256 },
                "current -smp configuration requires kernel irqchip and X2APIC API support.",
            ),
        ];
        for (e, text) in cases {
            assert_eq!(e.to_string(), text);
        }
        assert_eq!(topology([6, 6, 2, 1, 1, 3, 1]).x86_hierarchy(), h);
    }

    #[test]
    fn division_by_zero_in_each_member() {
        for (m, text, member) in [
            ("pc", "cpus=4,sockets=65536,threads=65536", "cores"),
            ("pc", "cpus=4,cores=65536,threads=65536", "sockets"),
            ("pc", "cpus=4,sockets=65536,cores=65536", "threads"),
            (
                "pc-i440fx-6.1",
                "cpus=4,cores=65536,threads=65536",
                "sockets",
            ),
            (
                "pc-i440fx-6.1",
                "cpus=4,sockets=65536,threads=65536",
                "cores",
            ),
            (
                "pc-i440fx-6.1",
                "cpus=4,sockets=65536,cores=65536",
                "threads",
            ),
        ] {
            assert_eq!(
                resolve_smp(&smp(Some(text)), &limits(m)),
                Err(SmpError::DivisionByZero { member }),
                "{m} {text}"
            );
        }
    }

    #[test]
    fn degenerate_hand_written_topologies() {
        // Zero members and a zero max_cpus: no panic, no slot.
        let zero = topology([0; 7]);
        assert_eq!(zero.x86_slots(), []);
        assert_eq!(zero.x86_apic_id_limit(), 0);
        assert_eq!(zero.x86_apic_id(5), 0);
        assert_eq!(zero.x86_slot(0), None);
        assert_eq!(zero.x86_check_without_x2apic(), Ok(()));
        // Widths adding up past 32 bits.
        let wide = topology([1, 3, 1, u32::MAX, 1, u32::MAX, u32::MAX]);
        assert_eq!(wide.x86_slots().len(), 3);
        let _ = wide.x86_apic_id(u32::MAX);
        // A product wrapping to 0.
        let wrap = topology([1, 8, 1, 1, 1, 1 << 16, 1 << 16]);
        assert_eq!(wrap.x86_slots().len(), 8);
        // Beyond max_cpus the socket id keeps growing, as in QEMU.
        let t = topology([2, 2, 1, 1, 1, 2, 1]);
        assert_eq!(t.x86_apic_id(2), 2);
        assert_eq!(t.x86_apic_id(5), 5);
    }

    #[test]
    fn slot_iterator() {
        let (t, _) = resolve_smp(
            &smp(Some("2,maxcpus=12,sockets=2,threads=3")),
            &limits("pc"),
        )
        .unwrap();
        let it = t.x86_slots_iter();
        assert_eq!(it.len(), 12);
        let fwd: Vec<CpuSlot> = it.clone().collect();
        let mut back: Vec<CpuSlot> = it.rev().collect();
        back.reverse();
        assert_eq!(fwd, back);
        assert_eq!(fwd, t.x86_slots());
        let mut it = t.x86_slots_iter();
        it.nth(11);
        assert_eq!((it.next(), it.next(), it.len()), (None, None, 0));
    }

    fn member() -> impl Strategy<Value = Option<i64>> {
        prop_oneof![
            3 => Just(None),
            4 => (0i64..=12).prop_map(Some),
            1 => prop_oneof![
                Just(-1i64),
                Just(1 << 32),
                Just((1 << 32) + 2),
                Just(1 << 16),
                Just(2_147_483_650),
                Just(i64::MAX),
                Just(i64::MIN),
                any::<i64>(),
            ]
            .prop_map(Some),
        ]
    }

    fn options() -> impl Strategy<Value = SmpOptions> {
        (
            member(),
            member(),
            member(),
            member(),
            member(),
            member(),
            member(),
        )
            .prop_map(|(cpus, sockets, dies, clusters, cores, threads, maxcpus)| {
                SmpOptions {
                    cpus,
                    sockets,
                    dies,
                    clusters,
                    modules: None,
                    cores,
                    threads,
                    maxcpus,
                }
            })
    }

    fn machine() -> impl Strategy<Value = SmpLimits> {
        prop_oneof![
            Just(limits("pc")),
            Just(limits("q35")),
            Just(limits("pc-i440fx-6.1")),
            Just(SmpLimits {
                clusters_supported: true,
                dies_supported: false,
                ..SmpLimits::x86("virt", 512, false)
            }),
            Just(SmpLimits::x86("huge", u32::MAX, false)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// Any input: no panic; an accepted topology is consistent and its
        /// slots are QEMU's mixed-radix numbering.
        #[test]
        fn resolved_topologies_are_consistent(opts in options(), limits in machine()) {
            let Ok((t, warnings)) = resolve_smp(&opts, &limits) else { return Ok(()) };
            let product = [t.sockets, t.dies, t.clusters, t.cores, t.threads]
                .iter()
                .map(|&v| u64::from(v))
                .product::<u64>();
            prop_assert_eq!(product, u64::from(t.max_cpus));
            prop_assert!(1 <= t.cpus && t.cpus <= t.max_cpus);
            prop_assert!(t.max_cpus <= limits.max_cpus.min(MAX_POSSIBLE_CPUS));
            prop_assert!(limits.clusters_supported || t.clusters == 1);
            prop_assert!(limits.dies_supported || t.dies == 1);
            let members = [opts.cpus, opts.sockets, opts.dies, opts.clusters, opts.cores, opts.threads, opts.maxcpus];
            prop_assert_eq!(warnings.is_empty(), !members.contains(&Some(0)));
            if limits.clusters_supported {
                return Ok(());
            }
            let slots = t.x86_slots();
            prop_assert_eq!(slots.len(), t.max_cpus as usize);
            let (w_t, w_c) = (bits_for_count(t.threads), bits_for_count(t.cores));
            let w_d = bits_for_count(t.dies);
            for (i, s) in slots.iter().enumerate() {
                let i = i as u32;
                prop_assert_eq!(s.index, i);
                prop_assert_eq!(s.thread_id, i % t.threads);
                prop_assert_eq!(s.core_id, i / t.threads % t.cores);
                let die = i / (t.threads * t.cores) % t.dies;
                prop_assert_eq!(s.die_id, (t.dies > 1).then_some(die));
                prop_assert_eq!(s.socket_id, i / (t.threads * t.cores * t.dies));
                prop_assert!(s.socket_id < t.sockets);
                let apic = (u64::from(s.socket_id) << (w_t + w_c + w_d))
                    | (u64::from(die) << (w_t + w_c))
                    | (u64::from(s.core_id) << w_t)
                    | u64::from(s.thread_id);
                prop_assert_eq!(u64::from(s.apic_id), apic);
            }
            prop_assert!(slots.windows(2).all(|w| w[0].apic_id < w[1].apic_id));
            prop_assert_eq!(t.x86_apic_id_limit(), slots.last().map_or(0, |s| s.apic_id + 1));
        }

        /// Hand-written topologies: no panic anywhere.
        #[test]
        fn x86_methods_never_panic(
            t in (any::<u32>(), 0u32..40, any::<u32>(), any::<u32>(), any::<u32>(), any::<u32>(), any::<u32>())
                .prop_map(|(cpus, max_cpus, sockets, dies, clusters, cores, threads)| CpuTopology {
                    cpus, max_cpus, sockets, dies, clusters, modules: dies ^ clusters, cores, threads,
                }),
            index in any::<u32>(),
        ) {
            let _ = t.x86_apic_id(index);
            let _ = t.x86_slot(index);
            let _ = t.x86_apic_id_limit();
            let _ = t.x86_check_without_x2apic();
            prop_assert_eq!(t.x86_slots().len(), t.max_cpus as usize);
            prop_assert_eq!(t.x86_slots_iter().rev().count(), t.max_cpus as usize);
        }
    }
}
