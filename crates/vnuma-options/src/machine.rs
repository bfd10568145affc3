//! `-machine`/`-M`, `-smp` and `-m`.
//!
//! In QEMU 7.2 `-machine` and `-smp` use the keyval grammar and are merged
//! into one dictionary of machine properties (`-smp 4,sockets=2` is
//! `smp.cpus=4,smp.sockets=2`); `-m` uses QemuOpts and is merged last as
//! `memory.*`. The values are typed only when the machine is created, after
//! the whole command line was read, which is why [`MachineOptions`] is
//! built from a [`MachineArgs`] in a second step.

use alloc::collections::btree_map::Entry;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::ops::Bound;

use crate::error::{Error, ErrorKind, Expected, Location, Warning, WarningKind};
use crate::grammar::{self, Item, ItemForm};
use crate::short::ShortString;
use crate::span::Span;
use crate::value::{self, format_size, DefaultUnit, NumError};

/// What a board says about its `-machine` properties beyond the common
/// schema (`type`, `smp.*`, `memory.*`, `hmat`, `mem-merge`,
/// `dump-guest-core`, `memory-backend`, `max-ram-below-4g`): the machine
/// type's name QEMU uses in its messages, and the other properties it has,
/// which are accepted and kept as written ([`MachineOptions::ignored`]),
/// not interpreted. The boards themselves (QEMU's machine types, a VMM's
/// own) live in `vnuma-topology`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MachineSchema<'a> {
    /// The canonical machine type name (`pc-i440fx-7.2`).
    pub type_name: &'a str,
    /// Further properties the board has. `smp.modules` among them lets
    /// `-smp modules=` through (QEMU 9.1 on x86).
    pub properties: &'a [&'a str],
}

/// `-smp` (machine property `smp`): all members optional, signed as in
/// QEMU's schema; their meaning and checks belong to the topology.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct SmpOptions {
    /// Boot CPUs.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub cpus: Option<i64>,
    /// Sockets.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub sockets: Option<i64>,
    /// Dies per socket.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub dies: Option<i64>,
    /// Clusters per die.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub clusters: Option<i64>,
    /// Modules per cluster (QEMU 9.1 on x86): read only when the
    /// machine's schema lists `smp.modules` among its properties, as QEMU
    /// 7.2 has no such member (`Parameter 'smp.modules' is unexpected`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub modules: Option<i64>,
    /// Books (s390; QEMU 8.2): read only when the machine's schema lists
    /// `smp.books`; QEMU 10.0's x86 boards take 1 and refuse more.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub books: Option<i64>,
    /// Drawers (s390; QEMU 8.2), as [`SmpOptions::books`].
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub drawers: Option<i64>,
    /// Cores per cluster.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub cores: Option<i64>,
    /// Threads per core.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub threads: Option<i64>,
    /// Possible CPUs (boot plus hot-pluggable).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub maxcpus: Option<i64>,
}

const SMP_MEMBERS: [&str; 10] = [
    "cpus", "drawers", "books", "sockets", "dies", "clusters", "modules", "cores", "threads",
    "maxcpus",
];

impl SmpOptions {
    fn slot(&mut self, member: &str) -> Option<&mut Option<i64>> {
        Some(match member {
            "cpus" => &mut self.cpus,
            "sockets" => &mut self.sockets,
            "dies" => &mut self.dies,
            "clusters" => &mut self.clusters,
            "modules" => &mut self.modules,
            "books" => &mut self.books,
            "drawers" => &mut self.drawers,
            "cores" => &mut self.cores,
            "threads" => &mut self.threads,
            "maxcpus" => &mut self.maxcpus,
            _ => return None,
        })
    }

    fn get(&self, member: &str) -> Option<i64> {
        match member {
            "cpus" => self.cpus,
            "sockets" => self.sockets,
            "dies" => self.dies,
            "clusters" => self.clusters,
            "modules" => self.modules,
            "books" => self.books,
            "drawers" => self.drawers,
            "cores" => self.cores,
            "threads" => self.threads,
            "maxcpus" => self.maxcpus,
            _ => None,
        }
    }

    /// Whether no member is set.
    pub fn is_empty(&self) -> bool {
        *self == SmpOptions::default()
    }
}

impl fmt::Display for SmpOptions {
    /// `-smp` syntax (`cpus=4,sockets=2`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for member in SMP_MEMBERS {
            if let Some(v) = self.get(member) {
                if !first {
                    f.write_str(",")?;
                }
                write!(f, "{member}={v}")?;
                first = false;
            }
        }
        Ok(())
    }
}

/// `-m [size=]S[,slots=N][,maxmem=M]` (machine property `memory`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(deny_unknown_fields, rename_all = "kebab-case")
)]
pub struct MemoryOptions {
    /// Boot RAM in bytes (`-m` without suffix is MiB); `None`: the
    /// machine's default.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub size: Option<u64>,
    /// DIMM slots for memory hotplug.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub slots: Option<u64>,
    /// Maximum RAM including hot-plugged memory (`maxmem=`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub max_size: Option<u64>,
}

impl fmt::Display for MemoryOptions {
    /// `-m` syntax (`size=1G,slots=2,maxmem=4G`). A size of zero has no
    /// `-m` spelling (QEMU reads `-m 0` as the default size); it prints as
    /// `size=0B` all the same, and [`MachineOptions`] prints it as
    /// `memory.size=0`, which QEMU reads as zero bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if let Some(size) = self.size {
            parts.push(alloc::format!("size={}", mem_text(size)));
        }
        if let Some(slots) = self.slots {
            parts.push(alloc::format!("slots={slots}"));
        }
        if let Some(max) = self.max_size {
            parts.push(alloc::format!("maxmem={}", format_size(max)));
        }
        f.write_str(&parts.join(","))
    }
}

/// A `-m` size that reads back to `bytes` through the suffix-less-is-MiB
/// fix-up: a suffix is always written.
fn mem_text(bytes: u64) -> String {
    let text = format_size(bytes);
    if text.ends_with(|c: char| c.is_ascii_digit()) {
        alloc::format!("{text}B")
    } else {
        text
    }
}

/// The raw `-m` values after the argv pass: QemuOpts has checked their
/// types; the MiB fix-up of `size` is applied when the machine is built.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RawMemory {
    /// `size` text (last wins) with its location, if non-zero.
    size: Option<(ShortString, Location, Span)>,
    slots: Option<u64>,
    /// `maxmem` text (re-read when the machine is built) and value.
    maxmem: Option<(ShortString, u64, Span)>,
}

/// Parse one `-m` argument (QemuOpts with typed members, checked while
/// the command line is read).
///
/// `items` is scratch space (reused from option to option).
pub(crate) fn parse_m<'a>(
    text: &'a str,
    machine: &mut MachineArgs,
    location: &Location,
    warnings: &mut Vec<Warning>,
    items: &mut Vec<Item<'a>>,
) -> Result<(), Error> {
    let syntax = machine.syntax;
    let into = &mut machine.memory;
    let opts = grammar::parse_opts_reusing(text, Some("size"), core::mem::take(items))?;
    warnings.extend(
        opts.warnings
            .iter()
            .cloned()
            .map(|w| w.with_location(location.clone())),
    );
    if let Some(id) = &opts.id {
        return Err(Error::new(
            ErrorKind::InvalidParameter { key: "id".into() },
            id.span(),
        ));
    }
    for item in &opts.items {
        match item.key {
            "size" => {
                let bytes = qemu_opts_size(item, location, warnings, syntax)?;
                into.size = (bytes != 0).then(|| {
                    (
                        ShortString::from(&*item.value),
                        location.clone(),
                        item.value_span,
                    )
                });
            }
            "maxmem" => {
                let bytes = qemu_opts_size(item, location, warnings, syntax)?;
                into.maxmem = Some((ShortString::from(&*item.value), bytes, item.value_span));
            }
            "slots" => {
                into.slots = Some(match value::qemu_strtou64(&item.value) {
                    Ok(v) => v,
                    Err(NumError::Range) => {
                        return Err(Error::new(
                            ErrorKind::ValueTooLarge {
                                key: item.key.into(),
                                value: item.value.clone().into_owned(),
                            },
                            item.value_span,
                        ))
                    }
                    Err(NumError::Invalid) => {
                        return Err(Error::new(
                            ErrorKind::InvalidValue {
                                key: item.key.into(),
                                expected: Expected::Number,
                            },
                            item.value_span,
                        ))
                    }
                })
            }
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidParameter {
                        key: item.key.into(),
                    },
                    item.key_span,
                ))
            }
        }
    }
    *items = opts.items;
    Ok(())
}

/// A QemuOpts size member (`-m size=`, `maxmem=`).
fn qemu_opts_size(
    item: &Item<'_>,
    location: &Location,
    warnings: &mut Vec<Warning>,
    syntax: crate::Syntax,
) -> Result<u64, Error> {
    match value::parse_size_in(&item.value, DefaultUnit::Bytes, syntax) {
        Ok(size) => {
            if size.hex_with_suffix {
                warnings.push(
                    Warning::new(
                        WarningKind::HexSizeSuffix {
                            text: item.value.clone().into_owned(),
                        },
                        item.value_span,
                    )
                    .with_location(location.clone()),
                );
            }
            Ok(size.bytes)
        }
        Err(NumError::Range) => Err(Error::new(
            ErrorKind::ValueOutOfRange {
                key: item.key.into(),
                value: item.value.clone().into_owned(),
            },
            item.value_span,
        )),
        Err(NumError::Invalid) => Err(Error::new(
            ErrorKind::InvalidValue {
                key: item.key.into(),
                expected: Expected::NonNegativeNumber,
            },
            item.value_span,
        )),
    }
}

/// One merged machine property: its dotted key, value and where it came
/// from.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Prop {
    /// Order of first appearance.
    seq: usize,
    value: ShortString,
    span: Span,
}

/// A merged property with its key, as typing reads it.
#[derive(Clone, Copy)]
struct Keyed<'a> {
    key: &'a str,
    seq: usize,
    value: &'a str,
    span: Span,
}

impl<'a> From<(&'a ShortString, &'a Prop)> for Keyed<'a> {
    fn from((key, p): (&'a ShortString, &'a Prop)) -> Self {
        Keyed {
            key,
            seq: p.seq,
            value: &p.value,
            span: p.span,
        }
    }
}

/// `-machine`, `-smp` and `-m` as read from the command line, merged in
/// QEMU's way but not yet typed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MachineArgs {
    /// By key, so merging stays O(log n) per item on hostile input.
    props: BTreeMap<ShortString, Prop>,
    /// Groups an earlier `-machine` made lists (keys `G.0`, `G.1`, ...):
    /// QEMU's keyval turns them into arrays after each option, and a
    /// later option cannot add to them.
    lists: BTreeSet<String>,
    pub(crate) memory: RawMemory,
    /// The release whose size syntax `-m` and `memory.*` follow.
    pub(crate) syntax: crate::Syntax,
}

/// One `-machine`/`-smp` argument's keyval items into `items` (cleared
/// first: a buffer reused from option to option), errors located.
fn read_keyval<'a>(
    text: &'a str,
    implied: &'a str,
    location: &Location,
    items: &mut Vec<Item<'a>>,
) -> Result<(), Error> {
    items.clear();
    grammar::parse_keyval_into(text, Some(implied), items)
        .map_err(|e| e.with_location(location.clone()))
}

fn loc_err(kind: ErrorKind, span: Span, location: &Location) -> Error {
    Error::new(kind, span).with_location(location.clone())
}

/// A keyval list index: decimal digits without a leading zero.
fn is_index(segment: &str) -> bool {
    !segment.is_empty()
        && segment.len() <= 19
        && segment.bytes().all(|b| b.is_ascii_digit())
        && (segment == "0" || !segment.starts_with('0'))
}

/// The groups a dotted key is in, outermost first (`a.b.c`: `a`, `a.b`).
fn group_prefixes(key: &str) -> impl Iterator<Item = &str> + '_ {
    key.match_indices('.').map(move |(i, _)| &key[..i])
}

impl MachineArgs {
    /// Merge keyval items into the dictionary; `prefix` is `smp.` for
    /// `-smp`. A key used both as a value and as a group is an error.
    fn merge(
        &mut self,
        items: &mut Vec<Item<'_>>,
        prefix: &str,
        location: &Location,
        within_option: bool,
    ) -> Result<(), Error> {
        for item in items.drain(..) {
            let key = ShortString::concat(prefix, item.key);
            let bytes = key.as_bytes();
            // A conflict is an existing key that is a group prefix of this
            // one (`smp` vs `smp.cpus`) or that this key is a group of.
            let ancestor = (0..bytes.len())
                .filter(|&i| bytes[i] == b'.')
                .find(|&i| self.props.contains_key(&bytes[..i]));
            let group = ShortString::from_parts(&[prefix, item.key, "."]);
            let descendant = self
                .props
                .range::<[u8], _>((Bound::Included(group.as_bytes()), Bound::Unbounded))
                .next()
                .filter(|(k, _)| k.as_bytes().starts_with(group.as_bytes()))
                .is_some();
            if ancestor.is_some() || descendant {
                let key = key.as_str();
                let shorter = String::from(ancestor.map_or(key, |i| &key[..i]));
                let kind = if within_option {
                    ErrorKind::InconsistentKey { key: shorter }
                } else {
                    ErrorKind::InconsistentMerge { key: shorter }
                };
                return Err(loc_err(kind, item.span(), location));
            }
            let span = if item.form == ItemForm::Implied {
                item.value_span
            } else {
                item.span()
            };
            let value = ShortString::from(&*item.value);
            let seq = self.props.len();
            match self.props.entry(key) {
                // Written again: the value is the last one, the order
                // the first.
                Entry::Occupied(mut e) => {
                    let p = e.get_mut();
                    p.value = value;
                    p.span = span;
                }
                Entry::Vacant(e) => {
                    e.insert(Prop { seq, value, span });
                }
            }
        }
        Ok(())
    }

    /// Add one `-machine` argument (`items`: scratch space reused from
    /// option to option).
    pub(crate) fn add_machine<'a>(
        &mut self,
        text: &'a str,
        location: &Location,
        items: &mut Vec<Item<'a>>,
    ) -> Result<(), Error> {
        read_keyval(text, "type", location, items)?;
        // A group an earlier option made a list takes nothing more.
        if !self.lists.is_empty() {
            for item in items.iter() {
                let listed = group_prefixes(item.key)
                    .chain(core::iter::once(item.key))
                    .find(|g| self.lists.contains(*g));
                if let Some(group) = listed {
                    let kind = ErrorKind::InconsistentKey { key: group.into() };
                    return Err(loc_err(kind, item.span(), location));
                }
            }
        }
        // The groups this option gives a numeric member (`G.0`): after
        // merging, each must be a list with no index missing.
        let mut groups: BTreeMap<&str, Span> = BTreeMap::new();
        for item in items.iter() {
            for (i, _) in item.key.match_indices('.') {
                let rest = &item.key[i + 1..];
                let segment = rest.split('.').next().unwrap_or(rest);
                if is_index(segment) {
                    groups.entry(&item.key[..i]).or_insert_with(|| item.span());
                }
            }
        }
        let mut indexed: Vec<(String, Span)> = groups
            .into_iter()
            .map(|(g, s)| (String::from(g), s))
            .collect();
        self.merge(items, "", location, true)?;
        // Deeper groups first, as QEMU makes the innermost lists first.
        indexed.sort_by(|a, b| {
            let depth = |g: &str| g.matches('.').count();
            depth(&b.0).cmp(&depth(&a.0)).then_with(|| a.0.cmp(&b.0))
        });
        for (group, span) in indexed {
            self.listify(&group, span, location)?;
            self.lists.insert(group);
        }
        Ok(())
    }

    /// Check that the merged members of `group` form a list: every member
    /// an index (else QEMU's `Parameters 'G.*' used inconsistently`), and
    /// the indexes `0..n` all present (else `Parameter 'G.i' missing`).
    fn listify(&self, group: &str, span: Span, location: &Location) -> Result<(), Error> {
        let mut prefix = String::with_capacity(group.len() + 1);
        prefix.push_str(group);
        prefix.push('.');
        let mut indexes: BTreeSet<u64> = BTreeSet::new();
        for key in self
            .props
            .range::<[u8], _>((Bound::Included(prefix.as_bytes()), Bound::Unbounded))
            .map(|(k, _)| k.as_str())
            .take_while(|k| k.starts_with(prefix.as_str()))
        {
            let rest = &key[prefix.len()..];
            let segment = rest.split('.').next().unwrap_or(rest);
            match segment.parse::<u64>() {
                Ok(i) if is_index(segment) => {
                    indexes.insert(i);
                }
                _ => {
                    let kind = ErrorKind::InconsistentKey { key: group.into() };
                    return Err(loc_err(kind, span, location));
                }
            }
        }
        if let Some(missing) = (0u64..).zip(indexes.iter()).find(|(i, got)| i != *got) {
            let kind = ErrorKind::ListIndexMissing {
                key: alloc::format!("{group}.{}", missing.0),
            };
            return Err(loc_err(kind, span, location));
        }
        Ok(())
    }

    /// Add one `-smp` argument (`items` as for
    /// [`MachineArgs::add_machine`]).
    pub(crate) fn add_smp<'a>(
        &mut self,
        text: &'a str,
        location: &Location,
        items: &mut Vec<Item<'a>>,
    ) -> Result<(), Error> {
        read_keyval(text, "cpus", location, items)?;
        self.merge(items, "smp.", location, false)
    }

    /// `cxl-fmw`, typed as QEMU's visitor reads a list of
    /// `CXLFixedMemoryWindowOptions` (members `size`,
    /// `interleave-granularity`, `targets`, in that order, then anything
    /// else as unexpected). Listing is checked when merging, so the
    /// elements are `0..n`.
    fn cxl_windows(&self) -> Result<Vec<CxlFixedWindow>, Error> {
        let group = "cxl-fmw";
        let members: Vec<Keyed<'_>> = self
            .props
            .range::<[u8], _>((Bound::Included(group.as_bytes()), Bound::Unbounded))
            .map(Keyed::from)
            .take_while(|p| p.key == group || p.key.starts_with("cxl-fmw."))
            .collect();
        let err = |kind: ErrorKind, p: &Keyed<'_>| Error::new(kind, p.span);
        // A value, or a group that is not a list (every member an index).
        let not_list = members.iter().find(|p| {
            p.key == group || !is_index(p.key[group.len() + 1..].split('.').next().unwrap_or(""))
        });
        if let Some(p) = not_list {
            return Err(err(ErrorKind::ExpectedArray { key: group.into() }, p));
        }
        // Elements by index (0..n, checked when merging).
        let mut elements: BTreeMap<u64, Vec<&Keyed<'_>>> = BTreeMap::new();
        for p in &members {
            let rest = &p.key[group.len() + 1..];
            let index = rest.split('.').next().unwrap_or(rest);
            elements
                .entry(index.parse().unwrap_or(u64::MAX))
                .or_default()
                .push(p);
        }
        let mut out = Vec::with_capacity(elements.len());
        for (index, props) in elements {
            let base = alloc::format!("{group}.{index}");
            let member = |p: &Keyed<'_>| -> Option<String> {
                p.key
                    .strip_prefix(base.as_str())
                    .and_then(|r| r.strip_prefix('.'))
                    .map(String::from)
            };
            if let Some(p) = props.iter().find(|p| p.key == base) {
                return Err(err(ErrorKind::ExpectedObject { key: base }, p));
            }
            let scalar = |name: &str| -> Result<Option<&Keyed<'_>>, Error> {
                let key = alloc::format!("{base}.{name}");
                match props.iter().find(|p| {
                    p.key.len() > key.len()
                        && p.key.starts_with(key.as_str())
                        && p.key.as_bytes()[key.len()] == b'.'
                }) {
                    Some(p) => Err(err(
                        ErrorKind::InvalidValue {
                            key,
                            expected: Expected::KeyvalSize,
                        },
                        p,
                    )),
                    None => Ok(props.iter().copied().find(|p| p.key == key)),
                }
            };
            let size_of = |p: &Keyed<'_>| {
                value::parse_size_in(p.value, DefaultUnit::Bytes, self.syntax)
                    .map(|s| s.bytes)
                    .map_err(|_| {
                        err(
                            ErrorKind::InvalidValue {
                                key: p.key.into(),
                                expected: Expected::KeyvalSize,
                            },
                            p,
                        )
                    })
            };
            let size = match scalar("size")? {
                Some(p) => size_of(p)?,
                None => {
                    let key = alloc::format!("{base}.size");
                    return Err(err(ErrorKind::MissingParameter { key }, props[0]));
                }
            };
            let interleave_granularity = match scalar("interleave-granularity")? {
                Some(p) => Some(size_of(p)?),
                None => None,
            };
            let targets_key = alloc::format!("{base}.targets");
            let mut targets: BTreeMap<u64, &Keyed<'_>> = BTreeMap::new();
            for p in &props {
                let Some(rest) = p.key.strip_prefix(targets_key.as_str()) else {
                    continue;
                };
                if rest.is_empty() {
                    return Err(err(ErrorKind::ExpectedArray { key: targets_key }, p));
                }
                let Some(rest) = rest.strip_prefix('.') else {
                    continue;
                };
                match rest.split_once('.') {
                    Some((i, _)) => {
                        let key = alloc::format!("{targets_key}.{i}");
                        return Err(err(ErrorKind::UnexpectedMembers { key }, p));
                    }
                    None => {
                        targets.insert(rest.parse().unwrap_or(u64::MAX), p);
                    }
                }
            }
            if targets.is_empty() {
                return Err(err(
                    ErrorKind::MissingParameter { key: targets_key },
                    props[0],
                ));
            }
            if let Some(p) = props.iter().find(|p| {
                member(p).is_some_and(|m| {
                    let name = m.split('.').next().unwrap_or(&m);
                    !matches!(name, "size" | "interleave-granularity" | "targets")
                })
            }) {
                return Err(err(ErrorKind::UnexpectedParameter { key: p.key.into() }, p));
            }
            out.push(CxlFixedWindow {
                size,
                interleave_granularity,
                targets: targets.into_values().map(|p| p.value.into()).collect(),
            });
        }
        Ok(out)
    }

    /// The machine type as written (last `type=` or implied value).
    pub fn machine_type(&self) -> Option<&str> {
        self.props.get(b"type".as_slice()).map(|p| p.value.as_str())
    }

    /// Type every property, in the order first written, with QEMU's
    /// messages (no location: QEMU reports these without one). Returns the
    /// typed options and the warnings of the `-m` fix-up. Without a
    /// `schema` every property outside the common schema is kept as
    /// written; with one, a property the board does not have is QEMU's
    /// `Property '…-machine.KEY' not found`.
    pub fn resolve(
        &self,
        schema: Option<&MachineSchema<'_>>,
    ) -> Result<(MachineOptions, Vec<Warning>), Error> {
        let mut m = MachineOptions {
            machine_type: self.machine_type().map(String::from),
            ..MachineOptions::default()
        };
        let mut warnings = Vec::new();
        let mut props: Vec<Keyed<'_>> = self.props.iter().map(Keyed::from).collect();
        props.sort_by_key(|p| p.seq);
        for p in props {
            let invalid = |expected| {
                Error::new(
                    ErrorKind::InvalidValue {
                        key: p.key.into(),
                        expected,
                    },
                    p.span,
                )
            };
            let boolean = || value::parse_bool(p.value).ok_or_else(|| invalid(Expected::Bool));
            let size = || {
                value::parse_size_in(p.value, DefaultUnit::Bytes, self.syntax)
                    .map(|s| s.bytes)
                    .map_err(|_| invalid(Expected::KeyvalSize))
            };
            let (group, member) = match p.key.split_once('.') {
                Some((g, rest)) => (g, Some(rest)),
                None => (p.key, None),
            };
            match (group, member) {
                ("type", None) => {}
                ("hmat", None) => m.hmat = Some(boolean()?),
                ("mem-merge", None) => m.mem_merge = Some(boolean()?),
                ("dump-guest-core", None) => m.dump_guest_core = Some(boolean()?),
                ("memory-backend", None) => m.memory_backend = Some(p.value.into()),
                ("max-ram-below-4g", None) => m.max_ram_below_4g = Some(size()?),
                ("smp", Some(member)) => {
                    // Members beyond 7.2's exist where the board's schema
                    // lists them (`smp.modules`, `smp.books`, ...).
                    let later = matches!(member, "modules" | "books" | "drawers");
                    let listed = || {
                        schema.is_some_and(|s| {
                            s.properties
                                .iter()
                                .any(|p| p.strip_prefix("smp.") == Some(member))
                        })
                    };
                    let slot = m.smp.slot(member).filter(|_| !later || listed());
                    let slot = slot.ok_or_else(|| {
                        Error::new(ErrorKind::UnexpectedParameter { key: p.key.into() }, p.span)
                    })?;
                    *slot = Some(
                        value::qemu_strtoi64(p.value).map_err(|_| invalid(Expected::Integer))?,
                    );
                }
                ("memory", Some("size")) => m.memory.size = Some(size()?),
                ("memory", Some("max-size")) => m.memory.max_size = Some(size()?),
                ("memory", Some("slots")) => {
                    m.memory.slots = Some(
                        value::qemu_strtou64(p.value).map_err(|_| invalid(Expected::Integer))?,
                    )
                }
                ("memory", Some(_)) => {
                    return Err(Error::new(
                        ErrorKind::UnexpectedParameter { key: p.key.into() },
                        p.span,
                    ))
                }
                ("smp", None) => {
                    return Err(Error::new(
                        ErrorKind::ExpectedObject { key: p.key.into() },
                        p.span,
                    ))
                }
                // QEMU always merges a `memory` group from -m afterwards.
                ("memory", None) => {
                    return Err(Error::new(
                        ErrorKind::InconsistentMerge { key: p.key.into() },
                        p.span,
                    ))
                }
                ("cxl", None) if schema.is_none_or(|s| s.properties.contains(&"cxl")) => {
                    m.cxl = Some(boolean()?)
                }
                ("cxl-fmw", _) if schema.is_none_or(|s| s.properties.contains(&"cxl-fmw")) => {
                    if m.cxl_fmw.is_none() {
                        m.cxl_fmw = Some(self.cxl_windows()?);
                    }
                }
                (g, _) => match schema {
                    Some(schema) if !schema.properties.contains(&g) => {
                        return Err(Error::new(
                            ErrorKind::UnknownMachineProperty {
                                machine: schema.type_name.into(),
                                key: p.key.into(),
                            },
                            p.span,
                        ))
                    }
                    _ => m.ignored.push((p.key.into(), p.value.into())),
                },
            }
        }
        // -m is merged after everything else and overrides memory.*.
        if let Some((text, location, span)) = &self.memory.size {
            let fixed: alloc::borrow::Cow<'_, str> = if text.ends_with(|c: char| c.is_ascii_digit())
            {
                alloc::format!("{}M", text.as_str()).into()
            } else {
                text.as_str().into()
            };
            match value::parse_size_in(&fixed, DefaultUnit::Bytes, self.syntax) {
                Ok(size) => {
                    if size.hex_with_suffix {
                        // QEMU reports this one without the option's location.
                        let _ = location;
                        warnings.push(Warning::new(
                            WarningKind::HexSizeSuffix {
                                text: fixed.to_string(),
                            },
                            *span,
                        ));
                    }
                    m.memory.size = Some(size.bytes);
                }
                Err(_) => {
                    return Err(Error::new(
                        ErrorKind::InvalidValue {
                            key: "memory.size".into(),
                            expected: Expected::KeyvalSize,
                        },
                        *span,
                    ))
                }
            }
        }
        if let Some(slots) = self.memory.slots {
            m.memory.slots = Some(slots);
        }
        if let Some((text, max, span)) = &self.memory.maxmem {
            if value::parse_size_in(text, DefaultUnit::Bytes, self.syntax)
                .is_ok_and(|s| s.hex_with_suffix)
            {
                warnings.push(Warning::new(
                    WarningKind::HexSizeSuffix {
                        text: text.to_string(),
                    },
                    *span,
                ));
            }
            m.memory.max_size = Some(*max);
        }
        Ok((m, warnings))
    }
}

/// The typed machine configuration: `-machine` properties that matter for
/// NUMA and memory, `-smp` and `-m`.
///
/// ```
/// use vnuma_options::CommandLine;
/// let cl = CommandLine::parse(["-M", "q35,hmat=on", "-smp", "4,sockets=2", "-m", "2G"]).unwrap();
/// let m = cl.machine().unwrap();
/// assert_eq!(m.machine_type.as_deref(), Some("q35"));
/// assert_eq!(m.hmat, Some(true));
/// assert_eq!(m.smp.sockets, Some(2));
/// assert_eq!(m.memory.size, Some(2 << 30));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MachineOptions {
    /// `type=` as written (aliases unresolved).
    pub machine_type: Option<String>,
    /// `hmat=`: build an ACPI HMAT.
    pub hmat: Option<bool>,
    /// `memory-backend=`: a backend holding all boot RAM.
    pub memory_backend: Option<String>,
    /// `max-ram-below-4g=`.
    pub max_ram_below_4g: Option<u64>,
    /// `mem-merge=`: default of backends' `merge`.
    pub mem_merge: Option<bool>,
    /// `dump-guest-core=`: default of backends' `dump`.
    pub dump_guest_core: Option<bool>,
    /// `-smp` / `smp.*`.
    pub smp: SmpOptions,
    /// `-m` / `memory.*`.
    pub memory: MemoryOptions,
    /// `cxl=`: CXL host bridges and fixed memory windows (x86, QEMU 7.1 on).
    pub cxl: Option<bool>,
    /// `cxl-fmw.N.*`: the CXL fixed memory windows, in order.
    pub cxl_fmw: Option<Vec<CxlFixedWindow>>,
    /// Properties that do not concern NUMA (`accel=kvm`, ...), as written.
    pub ignored: Vec<(String, String)>,
}

/// One CXL fixed memory window (`-machine cxl-fmw.N.size=4G,
/// cxl-fmw.N.targets.0=cxl.1`): host-physical space QEMU reserves above the
/// device-memory window and interleaves over the named CXL host bridges.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CxlFixedWindow {
    /// `size`.
    pub size: u64,
    /// `interleave-granularity`, if given.
    pub interleave_granularity: Option<u64>,
    /// `targets`: ids of `pxb-cxl` host bridges.
    pub targets: Vec<String>,
}

impl fmt::Display for MachineOptions {
    /// `-machine` syntax covering everything, `smp.*` and `memory.*`
    /// included (`type=q35,hmat=on,smp.cpus=4,memory.size=2G`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on_off = |b: bool| if b { "on" } else { "off" };
        let mut parts: Vec<String> = Vec::new();
        let mut push = |key: &str, value: Option<String>| {
            if let Some(v) = value {
                parts.push(alloc::format!("{key}={}", grammar::escape(&v)));
            }
        };
        push("type", self.machine_type.clone());
        push("hmat", self.hmat.map(|b| on_off(b).into()));
        push("memory-backend", self.memory_backend.clone());
        push("max-ram-below-4g", self.max_ram_below_4g.map(format_size));
        push("mem-merge", self.mem_merge.map(|b| on_off(b).into()));
        push(
            "dump-guest-core",
            self.dump_guest_core.map(|b| on_off(b).into()),
        );
        for member in SMP_MEMBERS {
            push(
                &alloc::format!("smp.{member}"),
                self.smp.get(member).map(|v| v.to_string()),
            );
        }
        push("memory.size", self.memory.size.map(format_size));
        push("memory.slots", self.memory.slots.map(|v| v.to_string()));
        push("memory.max-size", self.memory.max_size.map(format_size));
        push("cxl", self.cxl.map(|b| on_off(b).into()));
        for (i, w) in self.cxl_fmw.iter().flatten().enumerate() {
            push(
                &alloc::format!("cxl-fmw.{i}.size"),
                Some(format_size(w.size)),
            );
            push(
                &alloc::format!("cxl-fmw.{i}.interleave-granularity"),
                w.interleave_granularity.map(format_size),
            );
            for (j, t) in w.targets.iter().enumerate() {
                push(&alloc::format!("cxl-fmw.{i}.targets.{j}"), Some(t.clone()));
            }
        }
        for (k, v) in &self.ignored {
            push(k, Some(v.clone()));
        }
        f.write_str(&parts.join(","))
    }
}
