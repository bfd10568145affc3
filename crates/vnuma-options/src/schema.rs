//! The memory-backend schema, written once.
//!
//! [`visit_backend`] lists every property of `memory-backend-ram`,
//! `-file` and `-memfd` after `qom-type` and `id`: its name, its QAPI type
//! (the [`BackendVisitor`] method it calls, which carries the width and
//! limits) and which backend types have it (the `match` on the kind), in
//! QEMU 7.2's schema order (`MemoryBackendProperties`, then
//! `MemoryBackendFileProperties` / `MemoryBackendMemfdProperties`). The
//! order is the order of checks, so the first error is QEMU's.
//!
//! Four visitors walk it: two [`Input`]s, the QemuOpts one
//! ([`OptsBackendVisitor`], for `-object memory-backend-ram,...`) and the
//! JSON one (`-object {...}`, QMP `object-add`, serde deserialization; in
//! `serde_impl`), and two writers, `Display` (canonical QemuOpts text,
//! [`DisplayVisitor`]) and serde serialization (in `serde_impl`).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::error::{Error, ErrorKind};
use crate::numa::ItemWriter;
use crate::object::{BackendKind, HostMemPolicy, MemoryBackendOptions, OnOffAuto};
use crate::span::Span;
use crate::value::format_size;
use crate::visit::{self, Visitor};
use crate::{IdRange, Syntax};

/// One pass over a backend's properties, reading them (an [`Input`]
/// fills in `value`) or writing them (an output visitor reads `value`).
/// A method is one QAPI type; absent optional members stay `None`.
pub(crate) trait BackendVisitor {
    /// What a visit can fail with.
    type Error;

    /// A `bool` member.
    fn bool(&mut self, name: &'static str, value: &mut Option<bool>) -> Result<(), Self::Error>;

    /// A `uint32` member.
    fn uint32(&mut self, name: &'static str, value: &mut Option<u32>) -> Result<(), Self::Error>;

    /// A `size` member (`uint64`; QemuOpts takes suffixes).
    fn size(&mut self, name: &'static str, value: &mut Option<u64>) -> Result<(), Self::Error>;

    /// A `str` member.
    fn string(&mut self, name: &'static str, value: &mut Option<String>)
        -> Result<(), Self::Error>;

    /// A `['uint16']` member, kept as the ranges written.
    fn uint16_list(
        &mut self,
        name: &'static str,
        value: &mut Vec<IdRange>,
    ) -> Result<(), Self::Error>;

    /// The `HostMemPolicy` member.
    fn policy(
        &mut self,
        name: &'static str,
        value: &mut Option<HostMemPolicy>,
    ) -> Result<(), Self::Error>;

    /// An `OnOffAuto` member.
    fn on_off_auto(
        &mut self,
        name: &'static str,
        value: &mut Option<OnOffAuto>,
    ) -> Result<(), Self::Error>;

    /// A mandatory member of the type `member` visits. Output visitors
    /// write it as a present member; [`Input`]s report it missing.
    fn required<T: Clone>(
        &mut self,
        name: &'static str,
        value: &mut T,
        member: Member<Self, T>,
    ) -> Result<(), Self::Error> {
        member(self, name, &mut Some(value.clone()))
    }
}

/// A [`BackendVisitor`] method for members of type `T`.
pub(crate) type Member<V, T> =
    fn(&mut V, &'static str, &mut Option<T>) -> Result<(), <V as BackendVisitor>::Error>;

/// An input visitor: each member's value as written, if it is present.
pub(crate) trait Input {
    /// A `bool` member.
    fn bool(&mut self, name: &'static str) -> Result<Option<bool>, Error>;
    /// A `uint32` member.
    fn uint32(&mut self, name: &'static str) -> Result<Option<u32>, Error>;
    /// A `size` member.
    fn size(&mut self, name: &'static str) -> Result<Option<u64>, Error>;
    /// A `str` member.
    fn string(&mut self, name: &'static str) -> Result<Option<String>, Error>;
    /// A `['uint16']` member (empty when absent).
    fn uint16_list(&mut self, name: &'static str) -> Result<Vec<IdRange>, Error>;
    /// The `HostMemPolicy` member.
    fn policy(&mut self, name: &'static str) -> Result<Option<HostMemPolicy>, Error>;
    /// An `OnOffAuto` member.
    fn on_off_auto(&mut self, name: &'static str) -> Result<Option<OnOffAuto>, Error>;
    /// The error for a mandatory member that is absent.
    fn missing(&self, name: &'static str) -> Error;
}

impl<I: Input> BackendVisitor for I {
    type Error = Error;

    fn bool(&mut self, name: &'static str, value: &mut Option<bool>) -> Result<(), Error> {
        *value = Input::bool(self, name)?;
        Ok(())
    }

    fn uint32(&mut self, name: &'static str, value: &mut Option<u32>) -> Result<(), Error> {
        *value = Input::uint32(self, name)?;
        Ok(())
    }

    fn size(&mut self, name: &'static str, value: &mut Option<u64>) -> Result<(), Error> {
        *value = Input::size(self, name)?;
        Ok(())
    }

    fn string(&mut self, name: &'static str, value: &mut Option<String>) -> Result<(), Error> {
        *value = Input::string(self, name)?;
        Ok(())
    }

    fn uint16_list(&mut self, name: &'static str, value: &mut Vec<IdRange>) -> Result<(), Error> {
        *value = Input::uint16_list(self, name)?;
        Ok(())
    }

    fn policy(
        &mut self,
        name: &'static str,
        value: &mut Option<HostMemPolicy>,
    ) -> Result<(), Error> {
        *value = Input::policy(self, name)?;
        Ok(())
    }

    fn on_off_auto(
        &mut self,
        name: &'static str,
        value: &mut Option<OnOffAuto>,
    ) -> Result<(), Error> {
        *value = Input::on_off_auto(self, name)?;
        Ok(())
    }

    fn required<T: Clone>(
        &mut self,
        name: &'static str,
        value: &mut T,
        member: Member<Self, T>,
    ) -> Result<(), Error> {
        let mut v = None;
        member(self, name, &mut v)?;
        *value = v.ok_or_else(|| self.missing(name))?;
        Ok(())
    }
}

/// The memory-backend schema: every property after `qom-type` and `id`,
/// once, in QEMU's order; the kind decides the type's own ones, `syntax`
/// the release (a property that release lacks is not visited, so an input
/// reports it as `Invalid parameter`). Writers pass the latest release.
pub(crate) fn visit_backend<V: BackendVisitor>(
    v: &mut V,
    b: &mut MemoryBackendOptions,
    syntax: Syntax,
) -> Result<(), V::Error> {
    let q100 = syntax >= Syntax::Qemu100;
    v.bool("dump", &mut b.dump)?;
    v.uint16_list("host-nodes", &mut b.host_nodes)?;
    v.bool("merge", &mut b.merge)?;
    v.policy("policy", &mut b.policy)?;
    v.bool("prealloc", &mut b.prealloc)?;
    v.uint32("prealloc-threads", &mut b.prealloc_threads)?;
    v.string("prealloc-context", &mut b.prealloc_context)?;
    v.bool("share", &mut b.share)?;
    v.bool("reserve", &mut b.reserve)?;
    v.required("size", &mut b.size, V::size)?;
    v.bool(
        "x-use-canonical-path-for-ramblock-id",
        &mut b.x_use_canonical_path_for_ramblock_id,
    )?;
    match &mut b.kind {
        BackendKind::Ram | BackendKind::Shm => Ok(()),
        BackendKind::File(f) => {
            v.size("align", &mut f.align)?;
            if q100 {
                v.size("offset", &mut f.offset)?;
            }
            v.bool("discard-data", &mut f.discard_data)?;
            v.required("mem-path", &mut f.mem_path, V::string)?;
            v.bool("pmem", &mut f.pmem)?;
            v.bool("readonly", &mut f.readonly)?;
            if q100 {
                v.on_off_auto("rom", &mut f.rom)?;
            }
            Ok(())
        }
        BackendKind::Memfd(m) => {
            v.bool("hugetlb", &mut m.hugetlb)?;
            v.size("hugetlbsize", &mut m.hugetlbsize)?;
            v.bool("seal", &mut m.seal)
        }
    }
}

/// The QemuOpts input: QEMU's options visitor over `-object` items.
pub(crate) struct OptsBackendVisitor<'a> {
    pub(crate) v: Visitor<'a>,
    /// The whole argument, where a missing member is reported.
    pub(crate) whole: Span,
}

impl Input for OptsBackendVisitor<'_> {
    fn bool(&mut self, name: &'static str) -> Result<Option<bool>, Error> {
        self.v.scalar(name).map(visit::bool_member).transpose()
    }

    fn uint32(&mut self, name: &'static str) -> Result<Option<u32>, Error> {
        self.v.scalar(name).map(visit::u32_member).transpose()
    }

    fn size(&mut self, name: &'static str) -> Result<Option<u64>, Error> {
        match self.v.scalar(name) {
            Some(item) => self.v.size(item).map(Some),
            None => Ok(None),
        }
    }

    fn string(&mut self, name: &'static str) -> Result<Option<String>, Error> {
        Ok(self.v.scalar(name).map(visit::string_member))
    }

    fn uint16_list(&mut self, name: &'static str) -> Result<Vec<IdRange>, Error> {
        visit::u16_list(&self.v.list(name))
    }

    fn policy(&mut self, name: &'static str) -> Result<Option<HostMemPolicy>, Error> {
        self.v
            .scalar(name)
            .map(|item| {
                visit::enum_member(item, HostMemPolicy::NAMES).map(|i| HostMemPolicy::ALL[i])
            })
            .transpose()
    }

    fn on_off_auto(&mut self, name: &'static str) -> Result<Option<OnOffAuto>, Error> {
        self.v
            .scalar(name)
            .map(|item| visit::enum_member(item, OnOffAuto::NAMES).map(|i| OnOffAuto::ALL[i]))
            .transpose()
    }

    fn missing(&self, name: &'static str) -> Error {
        Error::new(ErrorKind::MissingParameter { key: name.into() }, self.whole)
    }
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

/// The canonical QemuOpts text (`Display`).
pub(crate) struct DisplayVisitor<'a, 'b> {
    pub(crate) w: ItemWriter<'a, 'b>,
}

impl BackendVisitor for DisplayVisitor<'_, '_> {
    type Error = fmt::Error;

    fn bool(&mut self, name: &'static str, value: &mut Option<bool>) -> fmt::Result {
        self.w.opt(name, value.map(on_off))
    }

    fn uint32(&mut self, name: &'static str, value: &mut Option<u32>) -> fmt::Result {
        self.w.opt(name, *value)
    }

    fn size(&mut self, name: &'static str, value: &mut Option<u64>) -> fmt::Result {
        self.w.opt(name, value.map(format_size))
    }

    fn string(&mut self, name: &'static str, value: &mut Option<String>) -> fmt::Result {
        self.w.string(name, value.as_deref())
    }

    fn uint16_list(&mut self, name: &'static str, value: &mut Vec<IdRange>) -> fmt::Result {
        value.iter().try_for_each(|r| self.w.item(name, r))
    }

    fn policy(&mut self, name: &'static str, value: &mut Option<HostMemPolicy>) -> fmt::Result {
        self.w.opt(name, *value)
    }

    fn on_off_auto(&mut self, name: &'static str, value: &mut Option<OnOffAuto>) -> fmt::Result {
        self.w.opt(name, *value)
    }
}
