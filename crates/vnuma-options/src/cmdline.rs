//! A QEMU-style command line: the options vnuma understands, in order,
//! each with its original text.

use alloc::borrow::Cow;
use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::device::DeviceOptions;
use crate::error::{Error, ErrorKind, Location, Warning};
use crate::grammar;
use crate::machine::{self, MachineArgs, MachineOptions, MachineSchema};
use crate::numa::NumaOptions;
use crate::object::{BackendKind, MemoryBackendOptions, ObjectOptions};
use crate::span::Span;
use crate::Parsed;

/// QEMU options that do not affect NUMA or memory and take an argument:
/// accepted and skipped with their argument. Together with
/// [`IGNORED_FLAGS`] and the options vnuma reads, every option of
/// `qemu-system-x86_64` 7.2 (its `-help`, each probed for whether it takes
/// an argument, plus the hidden ones QEMU still accepts).
pub const IGNORED_WITH_ARGUMENT: &[&str] = &[
    "D",
    "L",
    "accel",
    "acpitable",
    "action",
    "add-fd",
    "append",
    "audio",
    "audiodev",
    "bios",
    "blockdev",
    "boot",
    "cdrom",
    "chardev",
    "chroot",
    "compat",
    "d",
    "debugcon",
    "dfilter",
    "display",
    "drive",
    "dtb",
    "dump-vmstate",
    "echr",
    "fda",
    "fdb",
    "fsdev",
    "fw_cfg",
    "gdb",
    "global",
    "hda",
    "hdb",
    "hdc",
    "hdd",
    "icount",
    "incoming",
    "initrd",
    "iscsi",
    "k",
    "kernel",
    "loadvm",
    "mon",
    "monitor",
    "msg",
    "mtdblock",
    "name",
    "net",
    "netdev",
    "nic",
    "option-rom",
    "overcommit",
    "parallel",
    "pflash",
    "pidfile",
    "plugin",
    "qmp",
    "qmp-pretty",
    "readconfig",
    "rotate",
    "rtc",
    "runas",
    "sandbox",
    "sd",
    "seed",
    "semihosting-config",
    "serial",
    "set",
    "smbios",
    "spice",
    "tpmdev",
    "trace",
    "usbdevice",
    "uuid",
    "vga",
    "virtfs",
    "vnc",
    "watchdog",
    "watchdog-action",
    "writeconfig",
    "xen-domid",
];

/// QEMU options that do not affect NUMA or memory and take no argument.
pub const IGNORED_FLAGS: &[&str] = &[
    "S",
    "async-teardown",
    "daemonize",
    "enable-kvm",
    "enable-sync-profile",
    "full-screen",
    "no-acpi",
    "no-fd-bootchk",
    "no-hpet",
    "no-quit",
    "no-reboot",
    "no-shutdown",
    "no-user-config",
    "nodefaults",
    "nographic",
    "only-migratable",
    "portrait",
    "preconfig",
    "s",
    "singlestep",
    "snapshot",
    "usb",
    "win2k-hack",
    "xen-attach",
    "xen-domid-restrict",
];

/// One `-numa` option: where it was and what it parses to. QEMU types a
/// `-numa` option only when it applies it, after the machine and the
/// earlier `-numa` options, so its typing error is kept here until then.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NumaArg {
    /// The option as written.
    pub location: Location,
    /// The typed value (and warnings) or the error, both located.
    pub result: Result<Parsed<NumaOptions>, Error>,
}

/// One `-device` option. QEMU creates devices after the machine, in
/// order; [`DeviceArg::options`] types it then.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceArg {
    /// The option as written.
    pub location: Location,
    /// The release whose syntax its sizes follow.
    syntax: crate::Syntax,
}

impl DeviceArg {
    /// The device as QEMU creates it: its model, then its properties in
    /// the order written; errors carry this option's location.
    pub fn options(&self) -> Result<DeviceOptions, Error> {
        self.typed().map(|p| p.value)
    }

    /// [`DeviceArg::options`] with the warnings QEMU prints while setting
    /// the properties, located at this option.
    pub fn typed(&self) -> Result<crate::Parsed<DeviceOptions>, Error> {
        let text = self.location.arg().unwrap_or_default();
        let mut warnings = Vec::new();
        let typed = if text.starts_with('{') {
            DeviceOptions::from_json(text)
        } else {
            DeviceOptions::type_properties_warning(text, self.syntax, &mut warnings)
        };
        let value = typed.map_err(|e| located(e, &self.location))?;
        let warnings = warnings
            .into_iter()
            .map(|w| w.with_location(self.location.clone()))
            .collect();
        Ok(crate::Parsed { value, warnings })
    }
}

/// One `-object` option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectArg {
    /// The option as written.
    pub location: Location,
    /// The object.
    pub object: ObjectOptions,
}

/// A parsed command line.
///
/// [`CommandLine::parse`] does what QEMU does while it reads argv: it
/// rejects unknown options, missing arguments, malformed option syntax,
/// bad `id=`s, and types `-object` and `-m` (QEMU checks those while
/// reading). `-machine`/`-smp` values and `-numa` options are typed too,
/// but QEMU reports their errors later (after choosing the machine type,
/// and when each `-numa` is applied), so those errors are returned by
/// [`CommandLine::machine`] and kept in each [`NumaArg`]; a resolver that
/// wants QEMU's exact first error takes them in that order, and
/// [`CommandLine::check`] reports the first of them for a caller that
/// only wants a valid command line.
///
/// ```
/// use vnuma_options::{CommandLine, NumaOptions};
/// let cl = CommandLine::parse([
///     "-m", "4G", "-smp", "4,sockets=2",
///     "-object", "memory-backend-ram,id=m0,size=2G",
///     "-object", "memory-backend-ram,id=m1,size=2G",
///     "-numa", "node,nodeid=0,memdev=m0",
///     "-numa", "node,nodeid=1,memdev=m1",
///     "-numa", "dist,src=0,dst=1,val=21",
///     "-nodefaults", "-display", "none",
/// ])
/// .unwrap();
/// cl.check().unwrap();
/// assert_eq!(cl.memory_backends().count(), 2);
/// let numa: Vec<NumaOptions> = cl.numa_options().collect::<Result<_, _>>().unwrap();
/// assert_eq!(numa.len(), 3);
///
/// let err = CommandLine::parse(["-numa", "node,nodeid=x"]).unwrap().check().unwrap_err();
/// assert_eq!(err.display_qemu().to_string(), "-numa node,nodeid=x: Parameter 'nodeid' expects a uint64 value");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommandLine {
    machine: MachineArgs,
    objects: Vec<ObjectArg>,
    numa: Vec<NumaArg>,
    devices: Vec<DeviceArg>,
    no_acpi: bool,
    cpu: Option<String>,
    mem_path: Option<String>,
    mem_prealloc: bool,
    nodefaults: bool,
    warnings: Vec<Warning>,
    syntax: crate::Syntax,
}

#[derive(Clone, Copy)]
enum Opt {
    Numa,
    Cpu,
    Device,
    NoAcpi,
    Object,
    M,
    Smp,
    Machine,
    MemPath,
    MemPrealloc,
    IgnoredWithArg,
    IgnoredFlag,
}

fn lookup(name: &str) -> Option<Opt> {
    Some(match name {
        "numa" => Opt::Numa,
        "device" => Opt::Device,
        "cpu" => Opt::Cpu,
        "no-acpi" => Opt::NoAcpi,
        "object" => Opt::Object,
        "m" => Opt::M,
        "smp" => Opt::Smp,
        "machine" | "M" => Opt::Machine,
        "mem-path" => Opt::MemPath,
        "mem-prealloc" => Opt::MemPrealloc,
        n if IGNORED_WITH_ARGUMENT.contains(&n) => Opt::IgnoredWithArg,
        n if IGNORED_FLAGS.contains(&n) => Opt::IgnoredFlag,
        _ => return None,
    })
}

/// `a == b` for short option names, compared inline (a call to `memcmp`
/// costs more than the comparison).
#[inline]
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
}

/// The id and size of `-object memory-backend-ram,id=ID,size=S` (the two
/// in either order) written the plain way ([`grammar::Plain`]) with a
/// well-formed id and a plain size: what the full path (QemuOpts, the id
/// check, the backend schema) gives for the same text, without its item
/// vector and visitor. `None` for anything else.
fn plain_ram_backend(text: &str) -> Option<(&str, u64)> {
    let mut r = grammar::Plain::new(text);
    if !r.implied("memory-backend-ram") {
        return None;
    }
    let (mut id, mut size) = (None, None);
    while !r.at_end() {
        // A member written twice gives up.
        if r.key(b"id=") {
            let value = r.value().filter(|v| crate::value::is_identifier(v))?;
            id.replace(value).is_none().then_some(())?;
        } else if r.key(b"size=") {
            let value = r.size()?.0;
            size.replace(value).is_none().then_some(())?;
        } else {
            return None;
        }
    }
    Some((id?, size?))
}

fn located(e: Error, location: &Location) -> Error {
    e.with_location(location.clone())
}

fn check_duplicate_id<'a>(
    ids: &mut BTreeSet<Cow<'a, str>>,
    id: Option<&grammar::Item<'a>>,
    group: &str,
    location: &Location,
) -> Result<(), Error> {
    if let Some(id) = id {
        if ids.contains(&id.value) {
            return Err(Error::new(
                ErrorKind::DuplicateId {
                    id: id.value.clone().into_owned(),
                    group: group.into(),
                },
                id.value_span,
            )
            .with_location(location.clone()));
        }
        // Borrowed from the argument unless it had `,,` escapes.
        ids.insert(id.value.clone());
    }
    Ok(())
}

impl CommandLine {
    /// Read QEMU-style arguments (without the program name) in order.
    /// Arguments that are not options (disk images) are ignored, as are the
    /// QEMU options listed in [`IGNORED_WITH_ARGUMENT`] and
    /// [`IGNORED_FLAGS`]; any other option is an `invalid option` error
    /// naming it.
    pub fn parse<I, S>(args: I) -> Result<CommandLine, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::parse_with(args, crate::Syntax::Qemu72)
    }

    /// [`CommandLine::parse`] as the given QEMU release reads argv (see
    /// [`Syntax`](crate::Syntax) for what differs); the typing done later
    /// ([`CommandLine::machine`], each [`NumaArg`]) follows it too.
    pub fn parse_with<I, S>(args: I, syntax: crate::Syntax) -> Result<CommandLine, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let args: Vec<S> = args.into_iter().collect();
        let mut cl = CommandLine {
            syntax,
            ..CommandLine::default()
        };
        cl.machine.syntax = syntax;
        // One pass over the option names sizes the two long lists, so a
        // command line of thousands of `-numa` is not copied as it grows.
        let (mut numa, mut objects) = (0, 0);
        // (An estimate: the argument after each one is not looked at.)
        let mut k = 0;
        while k < args.len() {
            match args[k].as_ref().as_bytes() {
                b"-numa" | b"--numa" => {
                    numa += 1;
                    k += 1;
                }
                b"-object" | b"--object" => {
                    objects += 1;
                    k += 1;
                }
                _ => {}
            }
            k += 1;
        }
        cl.numa.reserve_exact(numa);
        cl.objects.reserve_exact(objects);
        let mut numa_ids = BTreeSet::new();
        let mut device_ids = BTreeSet::new();
        let mut object_ids = BTreeSet::new();
        // Every location of this call points into one copy of the whole
        // argv (memory linear in the input; no allocation per option).
        let mut text = String::with_capacity(args.iter().map(|a| a.as_ref().len()).sum());
        for a in &args {
            text.push_str(a.as_ref());
        }
        let text = Arc::new(text);
        // The previous option as written and what it is: long command
        // lines repeat one option (`-numa`) many times.
        let mut previous: Option<(&str, Opt)> = None;
        // The tokenizer's item buffer, reused from option to option.
        let mut items: Vec<grammar::Item<'_>> = Vec::new();
        let mut i = 0;
        // Where `args[i]` starts in `text`.
        let mut at = 0;
        while i < args.len() {
            let written = args[i].as_ref();
            let index = i;
            let option = at..at + written.len();
            i += 1;
            at = option.end;
            let opt = match previous {
                Some((w, opt)) if same(w, written) => opt,
                _ => {
                    let Some(name) = written.strip_prefix('-').filter(|n| !n.is_empty()) else {
                        continue;
                    };
                    let name = name.strip_prefix('-').unwrap_or(name);
                    // QEMU 10.0 has no `-no-acpi` (`-machine acpi=off`).
                    let opt = lookup(name).filter(|o| {
                        !(matches!(o, Opt::NoAcpi) && syntax >= crate::Syntax::Qemu100)
                    });
                    let Some(opt) = opt else {
                        return Err(Error::new(
                            ErrorKind::InvalidOption {
                                option: written.into(),
                            },
                            Span::default(),
                        )
                        .with_location(Location::shared(&text, option, None, index)));
                    };
                    previous = Some((written, opt));
                    opt
                }
            };
            let takes_arg = !matches!(opt, Opt::MemPrealloc | Opt::NoAcpi | Opt::IgnoredFlag);
            // The argument follows its option in `text`, as in argv.
            let (arg, arg_end) = if takes_arg {
                let Some(arg) = args.get(i) else {
                    return Err(Error::new(
                        ErrorKind::MissingArgument {
                            option: written.into(),
                        },
                        Span::default(),
                    )
                    .with_location(Location::shared(&text, option, None, index)));
                };
                let arg = arg.as_ref();
                i += 1;
                at += arg.len();
                (arg, Some(at))
            } else {
                ("", None)
            };
            let location = Location::shared(&text, option, arg_end, index);
            match opt {
                Opt::Numa => {
                    // Most `-numa` options are written the plain way and
                    // type without error: one pass, no item vector.
                    if let Some(dist) = NumaOptions::parse_plain_dist(arg) {
                        cl.numa.push(NumaArg {
                            location,
                            result: Ok(Parsed {
                                value: NumaOptions::Dist(dist),
                                warnings: Vec::new(),
                            }),
                        });
                        continue;
                    }
                    if let Some(value) = NumaOptions::parse_plain(arg) {
                        cl.numa.push(NumaArg {
                            location,
                            result: Ok(Parsed {
                                value,
                                warnings: Vec::new(),
                            }),
                        });
                        continue;
                    }
                    let mut opts =
                        grammar::parse_opts_reusing(arg, Some("type"), core::mem::take(&mut items))
                            .map_err(|e| located(e, &location))?;
                    check_duplicate_id(&mut numa_ids, opts.id.as_ref(), "numa", &location)?;
                    // Moved, not cloned: each warning shares the
                    // location's text (memory linear in the input).
                    if !opts.warnings.is_empty() {
                        cl.warnings.extend(
                            core::mem::take(&mut opts.warnings)
                                .into_iter()
                                .map(|w| w.with_location(location.clone())),
                        );
                    }
                    let result = NumaOptions::from_opts(arg, &opts, syntax)
                        .map(|mut p| {
                            if !p.warnings.is_empty() {
                                p.warnings = p
                                    .warnings
                                    .into_iter()
                                    .map(|w| w.with_location(location.clone()))
                                    .collect();
                            }
                            p
                        })
                        .map_err(|e| located(e, &location));
                    items = opts.items;
                    cl.numa.push(NumaArg { location, result });
                }
                Opt::Object => {
                    // A RAM backend written the plain way, with an id not
                    // seen before, types as it is read; a duplicate takes
                    // the full path, which reports it.
                    if let Some((id, size)) = plain_ram_backend(arg) {
                        if object_ids.insert(Cow::Borrowed(id)) {
                            cl.objects.push(ObjectArg {
                                location,
                                object: ObjectOptions::MemoryBackend(MemoryBackendOptions::new(
                                    id,
                                    BackendKind::Ram,
                                    size,
                                )),
                            });
                            continue;
                        }
                    }
                    let parsed = if arg.starts_with('{') {
                        ObjectOptions::parse_json_with(arg, syntax)
                    } else {
                        let mut opts = grammar::parse_opts_reusing(
                            arg,
                            Some("qom-type"),
                            core::mem::take(&mut items),
                        )
                        .map_err(|e| located(e, &location))?;
                        check_duplicate_id(&mut object_ids, opts.id.as_ref(), "object", &location)?;
                        cl.warnings.extend(
                            core::mem::take(&mut opts.warnings)
                                .into_iter()
                                .map(|w| w.with_location(location.clone())),
                        );
                        let parsed = ObjectOptions::from_opts(arg, &opts, syntax);
                        items = opts.items;
                        parsed
                    }
                    .map_err(|e| located(e, &location))?;
                    cl.warnings.extend(
                        parsed
                            .warnings
                            .into_iter()
                            .map(|w| w.with_location(location.clone())),
                    );
                    // QEMU types every object while reading argv.
                    if let Some(Err(e)) = parsed.value.thread_context() {
                        return Err(located(e, &location));
                    }
                    if let Some(Err(e)) = parsed.value.generic_initiator() {
                        return Err(located(e, &location));
                    }
                    if let Some(Err(e)) = parsed.value.generic_port() {
                        return Err(located(e, &location));
                    }
                    cl.objects.push(ObjectArg {
                        location,
                        object: parsed.value,
                    });
                }
                Opt::M => machine::parse_m(
                    arg,
                    &mut cl.machine,
                    &location,
                    &mut cl.warnings,
                    &mut items,
                )
                .map_err(|e| located(e, &location))?,
                Opt::Smp => cl.machine.add_smp(arg, &location, &mut items)?,
                Opt::Machine => cl.machine.add_machine(arg, &location, &mut items)?,
                Opt::MemPath => cl.mem_path = Some(arg.into()),
                Opt::MemPrealloc => cl.mem_prealloc = true,
                Opt::Device => {
                    // QEMU reads the syntax now and creates the device (its
                    // model and properties) after the machine.
                    if arg.starts_with('{') {
                        // QEMU reads the JSON while reading argv.
                        #[cfg(feature = "serde")]
                        crate::qemu_json::parse(arg).map_err(|e| {
                            located(
                                Error::new(
                                    ErrorKind::Json { message: e.0 },
                                    Span::new(0, arg.len()),
                                ),
                                &location,
                            )
                        })?;
                    } else {
                        let opts = grammar::parse_opts(arg, Some("driver"))
                            .map_err(|e| located(e, &location))?;
                        check_duplicate_id(&mut device_ids, opts.id.as_ref(), "device", &location)?;
                    }
                    cl.devices.push(DeviceArg {
                        location: location.clone(),
                        syntax,
                    });
                }
                // The last -cpu wins; vnuma reads only what changes the
                // address space (the model's vendor, phys-bits).
                Opt::Cpu => cl.cpu = Some(arg.into()),
                Opt::NoAcpi => {
                    // QEMU sets the machine property, in command-line
                    // order with -machine.
                    cl.no_acpi = true;
                    cl.machine.add_machine("acpi=off", &location, &mut items)?;
                }
                Opt::IgnoredFlag if matches!(written, "-nodefaults" | "--nodefaults") => {
                    cl.nodefaults = true
                }
                Opt::IgnoredWithArg | Opt::IgnoredFlag => {}
            }
        }
        Ok(cl)
    }

    /// Whether `-nodefaults` was given (no default VGA, NIC, ... on the
    /// PCI bus).
    pub fn nodefaults(&self) -> bool {
        self.nodefaults
    }

    /// The release whose syntax this command line was read with.
    pub fn syntax(&self) -> crate::Syntax {
        self.syntax
    }

    /// Every `-device`, in order.
    pub fn devices(&self) -> &[DeviceArg] {
        &self.devices
    }

    /// `-cpu` as written (the last one).
    pub fn cpu(&self) -> Option<&str> {
        self.cpu.as_deref()
    }

    /// `-no-acpi`.
    pub fn no_acpi(&self) -> bool {
        self.no_acpi
    }

    /// The machine options (`-machine`, `-smp`, `-m`), typed the way QEMU
    /// types them when it creates the machine; errors carry no location,
    /// as in QEMU.
    ///
    /// Properties beyond the common schema are kept as written; which ones
    /// a machine has is the board's knowledge
    /// ([`CommandLine::machine_for`]).
    pub fn machine(&self) -> Result<MachineOptions, Error> {
        self.machine.resolve(None).map(|(m, _)| m)
    }

    /// [`CommandLine::machine`] for a board that has only the properties
    /// `schema` lists beyond the common ones.
    pub fn machine_for(&self, schema: &MachineSchema<'_>) -> Result<MachineOptions, Error> {
        self.machine.resolve(Some(schema)).map(|(m, _)| m)
    }

    /// [`CommandLine::machine_for`] with the warnings typing prints (a
    /// hexadecimal `-m` with the implied MiB suffix); without a schema,
    /// every extra property is kept.
    pub fn machine_parsed(
        &self,
        schema: Option<&MachineSchema<'_>>,
    ) -> Result<Parsed<MachineOptions>, Error> {
        self.machine
            .resolve(schema)
            .map(|(value, warnings)| Parsed { value, warnings })
    }

    /// The machine type as written, before typing (aliases unresolved).
    pub fn machine_type(&self) -> Option<&str> {
        self.machine.machine_type()
    }

    /// Every `-object`, in order.
    pub fn objects(&self) -> &[ObjectArg] {
        &self.objects
    }

    /// The memory backends among the objects, in order.
    pub fn memory_backends(&self) -> impl Iterator<Item = &MemoryBackendOptions> {
        self.objects.iter().filter_map(|o| match &o.object {
            ObjectOptions::MemoryBackend(b) => Some(b),
            ObjectOptions::Other { .. } => None,
        })
    }

    /// Every `-numa`, in order, typed or with its error.
    pub fn numa(&self) -> &[NumaArg] {
        &self.numa
    }

    /// The `-numa` values in order; the first bad one yields its error.
    pub fn numa_options(&self) -> impl Iterator<Item = Result<NumaOptions, Error>> + '_ {
        self.numa.iter().map(|a| {
            a.result
                .as_ref()
                .map(|p| p.value.clone())
                .map_err(Clone::clone)
        })
    }

    /// `-mem-path` (last wins).
    pub fn mem_path(&self) -> Option<&str> {
        self.mem_path.as_deref()
    }

    /// Whether `-mem-prealloc` was given.
    pub fn mem_prealloc(&self) -> bool {
        self.mem_prealloc
    }

    /// Warnings QEMU prints while reading argv, in order.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The first error QEMU would report for the options themselves,
    /// after reading argv: machine typing, then each `-numa` in order.
    /// Semantic checks (topology, memory sizes, ...) are not made here.
    pub fn check(&self) -> Result<(), Error> {
        self.machine()?;
        for arg in &self.numa {
            if let Err(e) = &arg.result {
                return Err(e.clone());
            }
        }
        Ok(())
    }

    /// Canonical QEMU arguments for everything vnuma models (ignored
    /// options are dropped). Parsing them gives back the same typed values.
    /// Fails if the machine options or a `-numa` do not type.
    pub fn to_args(&self) -> Result<Vec<String>, Error> {
        let mut out = Vec::new();
        let machine = self.machine()?;
        let text = alloc::string::ToString::to_string(&machine);
        if !text.is_empty() {
            out.push("-machine".into());
            out.push(text);
        }
        for o in &self.objects {
            out.push("-object".into());
            out.push(alloc::string::ToString::to_string(&o.object));
        }
        for n in self.numa_options() {
            out.push("-numa".into());
            out.push(alloc::string::ToString::to_string(&n?));
        }
        if let Some(p) = &self.mem_path {
            out.push("-mem-path".into());
            out.push(p.clone());
        }
        if self.mem_prealloc {
            out.push("-mem-prealloc".into());
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path answers only where the full path types the text
    /// without a warning, and then with the same backend.
    #[test]
    fn plain_ram_backends_agree_with_the_full_path() {
        let texts = [
            ("memory-backend-ram,id=m0,size=4G", true),
            ("memory-backend-ram,size=1024,id=a.b-c_d", true),
            ("memory-backend-ram,id=m0,size=15E", true),
            ("memory-backend-ram,id=m0,size=16E", false),
            ("memory-backend-ram,id=m0", false),
            ("memory-backend-ram,size=1G", false),
            ("memory-backend-ram,id=m0,size=1G,id=m1", false),
            ("memory-backend-ram,id=a,id=size=5", false),
            ("memory-backend-ram,id=1a,size=1G", false),
            ("memory-backend-ram,id=m0,size=0x1G", false),
            ("memory-backend-ram,id=m0,size=1.5G", false),
            ("memory-backend-ram,id=m0,size=1G,", false),
            ("memory-backend-ram,id=m,,0,size=1G", false),
            ("memory-backend-ram,id=m0,size=1G,prealloc=on", false),
            ("memory-backend-ram,id=m0,size=1G,noprealloc", false),
            ("memory-backend-file,id=m0,size=1G", false),
            ("qom-type=memory-backend-ram,id=m0,size=1G", false),
            ("memory-backend-ramx,id=m0,size=1G", false),
        ];
        for (text, plain) in texts {
            let fast = plain_ram_backend(text);
            assert_eq!(fast.is_some(), plain, "{text}");
            if let Some((id, size)) = fast {
                let opts = grammar::parse_opts(text, Some("qom-type")).unwrap();
                assert!(opts.warnings.is_empty());
                for syntax in [crate::Syntax::Qemu72, crate::Syntax::Qemu100] {
                    let full = ObjectOptions::from_opts(text, &opts, syntax).unwrap();
                    assert!(full.warnings.is_empty());
                    let backend = MemoryBackendOptions::new(id, BackendKind::Ram, size);
                    assert_eq!(full.value, ObjectOptions::MemoryBackend(backend), "{text}");
                }
            }
        }
        // A duplicate id still gets QEMU's message, from the full path.
        let e = CommandLine::parse([
            "-object",
            "memory-backend-ram,id=m0,size=1G",
            "-object",
            "memory-backend-ram,id=m0,size=1G",
        ])
        .unwrap_err();
        assert_eq!(e.to_string(), "Duplicate ID 'm0' for object");
        assert_eq!(e.span(), Span::new(22, 24));
        assert_eq!(e.location().unwrap().index(), 2);
    }

    /// Locations point into the call's shared copy of argv at the right
    /// places (after a multi-byte disk image and a flag without argument),
    /// and compare and hash like locations built
    /// on their own.
    #[test]
    fn locations_read_back_the_arguments_as_written() {
        use core::hash::BuildHasher;
        let args = [
            "dïsk.img",
            "-mem-prealloc",
            "-object",
            "memory-backend-ram,id=m0,size=1G",
            "--numa",
            "node,memdev=m0",
            "-device",
            "pc-dimm,id=d0",
            "-numa",
            "node,nodeid=x",
        ];
        let cl = CommandLine::parse(args).unwrap();
        let object = &cl.objects()[0].location;
        assert_eq!(object.option(), "-object");
        assert_eq!(object.arg(), Some(args[3]));
        assert_eq!(object.index(), 2);
        let numa = &cl.numa()[0].location;
        assert_eq!(numa.to_string(), "--numa node,memdev=m0");
        assert_eq!(numa.index(), 4);
        assert_eq!(cl.devices()[0].location.arg(), Some("pc-dimm,id=d0"));
        let alone = Location::new("--numa", Some("node,memdev=m0"), 4);
        assert_eq!(*numa, alone);
        assert_eq!(format!("{numa:?}"), format!("{alone:?}"));
        let state = std::collections::hash_map::RandomState::new();
        assert_eq!(state.hash_one(numa), state.hash_one(&alone));
        assert_ne!(*numa, Location::new("--numa", Some("node,memdev=m0"), 5));
        assert_ne!(*numa, Location::new("-numa", Some("node,memdev=m0"), 4));
        assert_ne!(*numa, Location::new("--numa", Some("node,memdev=m"), 4));
        // The last option's error points at the end of the buffer.
        let e = cl.numa()[1].result.as_ref().unwrap_err();
        assert_eq!(
            e.display_qemu().to_string(),
            "-numa node,nodeid=x: Parameter 'nodeid' expects a uint64 value"
        );
        // A flag has no argument, which is not an empty one.
        let e = CommandLine::parse(["-mem-prealloc", "-bogus"]).unwrap_err();
        let l = e.location().unwrap();
        assert_eq!((l.option(), l.arg(), l.index()), ("-bogus", None, 1));
        assert_eq!(l.to_string(), "-bogus");
        assert_ne!(*l, Location::new("-bogus", Some(""), 1));
        let e = CommandLine::parse(["-numa"]).unwrap_err();
        assert_eq!(e.location(), Some(&Location::new("-numa", None, 0)));
        // Every warning holds a location: it stays as small as the two
        // `Arc<str>` and the index it replaced (the bounded-memory test).
        assert!(core::mem::size_of::<Location>() <= 5 * core::mem::size_of::<usize>());
    }
}
