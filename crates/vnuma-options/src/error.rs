//! Errors and warnings, with QEMU's message texts.

use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;

use crate::span::Span;

/// What a parameter's value was expected to be; the tail of QEMU's
/// `Parameter '{key}' expects {expected}` message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Expected {
    /// `a uint64 value` (options visitor, scalar member).
    Uint64,
    /// `a uint64 value or range` (options visitor, list element).
    Uint64OrRange,
    /// `uint8_t` (width check after a successful uint64 parse).
    Uint8,
    /// `uint16_t`.
    Uint16,
    /// `uint32_t`.
    Uint32,
    /// `an int64 value` (options visitor, signed member).
    Int64,
    /// `a size value` (options visitor, size member).
    Size,
    /// `'on' or 'off'` (any boolean).
    Bool,
    /// `an identifier` (`id=`).
    Identifier,
    /// `a non-negative number below 2^64` (`-m` size, QemuOpts size).
    NonNegativeNumber,
    /// `a number` (`-m slots=`, QemuOpts number).
    Number,
    /// `integer` (keyval: `-smp`, `-machine smp.*`).
    Integer,
    /// `size` (keyval: `-machine max-ram-below-4g=`, `memory.size`).
    KeyvalSize,
}

impl Expected {
    /// The text QEMU prints.
    pub const fn as_str(self) -> &'static str {
        match self {
            Expected::Uint64 => "a uint64 value",
            Expected::Uint64OrRange => "a uint64 value or range",
            Expected::Uint8 => "uint8_t",
            Expected::Uint16 => "uint16_t",
            Expected::Uint32 => "uint32_t",
            Expected::Int64 => "an int64 value",
            Expected::Size => "a size value",
            Expected::Bool => "'on' or 'off'",
            Expected::Identifier => "an identifier",
            Expected::NonNegativeNumber => "a non-negative number below 2^64",
            Expected::Number => "a number",
            Expected::Integer => "integer",
            Expected::KeyvalSize => "size",
        }
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can be wrong with an option, with QEMU 7.2's message
/// text as the `Display` form.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A mandatory member (or the union tag) is absent.
    #[error("Parameter '{key}' is missing")]
    MissingParameter {
        /// The missing key.
        key: String,
    },
    /// A key that the option (or the selected variant) does not have.
    #[error("Invalid parameter '{key}'")]
    InvalidParameter {
        /// The key as written.
        key: String,
    },
    /// A value of the wrong type or out of range for its member.
    #[error("Parameter '{key}' expects {expected}")]
    InvalidValue {
        /// The key (literally `null` for a list element's width check,
        /// as QEMU prints it).
        key: String,
        /// What was expected.
        expected: Expected,
    },
    /// An enum member (or the union tag) with an unknown value.
    #[error("Parameter '{key}' does not accept value '{value}'")]
    InvalidEnumValue {
        /// The key.
        key: String,
        /// The value as written.
        value: String,
    },
    /// Two options of one group with the same `id=`.
    #[error("Duplicate ID '{id}' for {group}")]
    DuplicateId {
        /// The id.
        id: String,
        /// The option group (`numa`, `object`).
        group: String,
    },
    /// keyval syntax (`-smp`, `-machine`): an item without `=`.
    #[error("Expected '=' after parameter '{key}'")]
    ExpectedEquals {
        /// The key as written.
        key: String,
    },
    /// keyval syntax: a key that is not a valid name.
    #[error("Invalid parameter '{key}'")]
    InvalidKey {
        /// The key as written.
        key: String,
    },
    /// keyval syntax: a key used both as a scalar and as a group
    /// (`smp=4,smp.cpus=2`).
    #[error("Parameters '{key}.*' used inconsistently")]
    InconsistentKey {
        /// The group key.
        key: String,
    },
    /// keyval: a key used both as a value and as a group across options
    /// (`-machine smp=4 -smp 2`, `-machine memory=1G`).
    #[error("Parameter '{key}' used inconsistently")]
    InconsistentMerge {
        /// The key.
        key: String,
    },
    /// keyval: a list (keys `KEY.0`, `KEY.1`, ...) with an index missing
    /// (`-machine cxl-fmw.0.targets.1=cxl.1` without `targets.0`).
    #[error("Parameter '{key}' missing")]
    ListIndexMissing {
        /// The missing element's key (`cxl-fmw.0.targets.0`).
        key: String,
    },
    /// keyval: a value or a group where a list was expected
    /// (`-machine cxl-fmw.0.targets=cxl.1`).
    #[error("Invalid parameter type for '{key}', expected: array")]
    ExpectedArray {
        /// The key.
        key: String,
    },
    /// keyval: members under a key that takes a value
    /// (`-machine cxl-fmw.0.targets.0.x=1`).
    #[error("Parameters '{key}.*' are unexpected")]
    UnexpectedMembers {
        /// The key.
        key: String,
    },
    /// keyval: a value where a group of members was expected
    /// (`-machine smp=4`).
    #[error("Invalid parameter type for '{key}', expected: object")]
    ExpectedObject {
        /// The key.
        key: String,
    },
    /// QemuOpts number too large (`-m slots=`).
    #[error("Value '{value}' is too large for parameter '{key}'")]
    ValueTooLarge {
        /// The key.
        key: String,
        /// The value as written.
        value: String,
    },
    /// QemuOpts size too large (`-m 16E`).
    #[error("Value '{value}' is out of range for parameter '{key}'")]
    ValueOutOfRange {
        /// The key.
        key: String,
        /// The value as written.
        value: String,
    },
    /// QEMU 10.0's MiB re-read of `-numa node,mem=` failed
    /// (`mem=17592186044416`: 2^44 MiB is 2^64 bytes).
    #[error(
        "could not parse memory size '{value}': {}",
        if *out_of_range { "Numerical result out of range" } else { "Invalid argument" }
    )]
    MemSizeUnparsable {
        /// The value as written.
        value: String,
        /// `ERANGE` rather than `EINVAL`.
        out_of_range: bool,
    },
    /// A member of `-smp` / `-machine smp.*` that does not exist.
    #[error("Parameter '{key}' is unexpected")]
    UnexpectedParameter {
        /// The full dotted key (`smp.foo`).
        key: String,
    },
    /// A `thread-context` with both CPU and node affinity.
    #[error("Mixing CPU and node affinity not supported")]
    MixedAffinity,
    /// A virtio-mem `block-size` that is no power of two.
    #[error("'block-size' property has to be a power of two")]
    BlockSizeNotPowerOfTwo,
    /// A read-only device property given a value.
    #[error("Property '{driver}.{key}' is not writable")]
    PropertyNotWritable {
        /// The model.
        driver: String,
        /// The property.
        key: String,
    },
    /// A `-device` model QEMU does not have.
    #[error("'{driver}' is not a valid device model name")]
    InvalidDeviceModel {
        /// The model as written.
        driver: String,
    },
    /// A `-device` property the model does not have.
    #[error("Property '{driver}.{key}' not found")]
    UnknownDeviceProperty {
        /// The model.
        driver: String,
        /// The property.
        key: String,
    },
    /// An NVDIMM label area below the minimum.
    #[error("Property 'nvdimm.label-size' (0x{value:x}) is required at least 0x{min:x}")]
    LabelSizeTooSmall {
        /// The value.
        value: u64,
        /// The minimum.
        min: u64,
    },
    /// A `-machine` property the machine does not have.
    #[error("Property '{machine}-machine.{key}' not found")]
    UnknownMachineProperty {
        /// The machine type name.
        machine: String,
        /// The property.
        key: String,
    },
    /// A command-line option vnuma does not know.
    #[error("invalid option")]
    InvalidOption {
        /// The option as written (`-frobnicate`).
        option: String,
    },
    /// An option that takes an argument came last.
    #[error("requires an argument")]
    MissingArgument {
        /// The option as written.
        option: String,
    },
    /// A memory backend's `-object` type that vnuma does not model.
    #[error("invalid object type: {qom_type}")]
    InvalidObjectType {
        /// The `qom-type` value.
        qom_type: String,
    },
    /// A QOM property value a backend refuses (`size=0`,
    /// `prealloc-threads=0`, ...).
    #[error("property '{property}' of {qom_type} doesn't take value '{value}'")]
    PropertyValue {
        /// The backend type (`memory-backend-ram`).
        qom_type: String,
        /// The property.
        property: String,
        /// The refused value.
        value: String,
    },
    /// `Property 'memory-backend-memfd.hugetlbsize' doesn't take value '0'`.
    #[error("Property '{qom_type}.{property}' doesn't take value '{value}'")]
    ClassPropertyValue {
        /// The backend type.
        qom_type: String,
        /// The property.
        property: String,
        /// The refused value.
        value: String,
    },
    /// `prealloc=on` with `reserve=off`.
    #[error("'prealloc=on' and 'reserve=off' are incompatible")]
    PreallocWithoutReserve,
    /// `memory-backend-file` `rom=on` without `readonly=on` (QEMU 8.2).
    #[error("property 'rom' = 'on' is not supported with 'readonly' = 'off'")]
    RomWithoutReadonly,
    /// `memory-backend-file` `rom=off` with `readonly=on,share=on`.
    #[error("property 'rom' = 'off' is incompatible with 'readonly' = 'on' and 'share' = 'on'")]
    RomOffReadonlyShared,
    /// `memory-backend-shm` with `share=off` (QEMU 9.1).
    #[error("can't create shm backend with `share=off`")]
    ShmNotShared,
    /// `host-nodes` with the `default` policy.
    #[error("host-nodes must be empty for policy default, or you should explicitly specify a policy other than default")]
    HostNodesWithDefaultPolicy,
    /// A policy other than `default` without `host-nodes`.
    #[error("host-nodes must be set for policy {policy}")]
    PolicyWithoutHostNodes {
        /// The policy.
        policy: crate::HostMemPolicy,
    },
    /// A `host-nodes` element of 128 or more.
    #[error("Invalid host-nodes value: {value}")]
    HostNodesValue {
        /// The element.
        value: u64,
    },
    /// A JSON (`-object '{...}'`, QMP) document that does not parse.
    #[error("{message}")]
    Json {
        /// The JSON parser's message.
        message: String,
    },
}

/// Where on the command line an error or warning arose: the option and its
/// argument as written, so it can be printed the way QEMU does
/// (`-numa node,nodeid=200`).
///
/// The text is shared, not copied: every location made by one
/// [`CommandLine::parse`](crate::CommandLine::parse) points into one buffer
/// holding all the arguments of that call, so a command line costs one
/// copy of its text however many options and messages it has, and memory
/// stays linear in the input (a 1 MB argument of 10^5 short-form flags
/// costs 1 MB, not 10^5 MB). Cloning is a reference-count increment.
/// Equality and hashing compare the option, the argument and the index,
/// not the buffer.
#[derive(Clone)]
pub struct Location {
    /// The text the offsets below point into.
    text: Arc<String>,
    /// `start..option_end`: the option name.
    start: usize,
    option_end: usize,
    /// `option_end..arg_end`: the argument, which follows its option in
    /// the buffer as it does in argv; none when `arg_end` is [`NO_ARG`].
    /// (Three offsets, not two ranges: a location is as small as the two
    /// `Arc<str>` it replaced, and every warning holds one.)
    arg_end: usize,
    index: usize,
}

/// `Location::arg_end` of a location without an argument.
const NO_ARG: usize = usize::MAX;

impl Location {
    /// A location of its own (one allocation holding both texts): `option`
    /// as written with its dash(es), its argument if it takes one, and its
    /// index in the argv it came from.
    pub fn new(option: &str, arg: Option<&str>, index: usize) -> Self {
        let mut text = String::with_capacity(option.len() + arg.map_or(0, str::len));
        text.push_str(option);
        text.push_str(arg.unwrap_or_default());
        let arg_end = if arg.is_some() { text.len() } else { NO_ARG };
        Location {
            text: Arc::new(text),
            start: 0,
            option_end: option.len(),
            arg_end,
            index,
        }
    }

    /// A location pointing into a shared buffer: the option at
    /// `option`, its argument (if any) from `option.end` to `arg_end`.
    /// The command-line reader passes the offsets of whole arguments; an
    /// offset that is not on a character boundary of `text` would read as
    /// empty, never panic.
    pub(crate) fn shared(
        text: &Arc<String>,
        option: core::ops::Range<usize>,
        arg_end: Option<usize>,
        index: usize,
    ) -> Self {
        Location {
            text: text.clone(),
            start: option.start,
            option_end: option.end,
            arg_end: arg_end.unwrap_or(NO_ARG),
            index,
        }
    }

    /// The option name as written, with its dash(es): `-numa`, `--numa`.
    pub fn option(&self) -> &str {
        self.text
            .get(self.start..self.option_end)
            .unwrap_or_default()
    }

    /// The option's argument, if it takes one.
    pub fn arg(&self) -> Option<&str> {
        if self.arg_end == NO_ARG {
            return None;
        }
        self.text.get(self.option_end..self.arg_end)
    }

    /// Index of the option in the argv slice given to the parser.
    pub fn index(&self) -> usize {
        self.index
    }
}

impl PartialEq for Location {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index && self.option() == other.option() && self.arg() == other.arg()
    }
}

impl Eq for Location {}

impl core::hash::Hash for Location {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.option().hash(state);
        self.arg().hash(state);
        self.index.hash(state);
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Location")
            .field("option", &self.option())
            .field("arg", &self.arg())
            .field("index", &self.index)
            .finish()
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.arg() {
            Some(arg) => write!(f, "{} {}", self.option(), arg),
            None => f.write_str(self.option()),
        }
    }
}

/// An option error: what is wrong ([`ErrorKind`], whose `Display` is
/// QEMU's text), the byte span of the offending text inside the option's
/// argument and, for command lines, the option it came from.
///
/// `Display` prints only the message, as QEMU's QMP `desc` would; use
/// [`Error::location`] (or [`Error::display_qemu`]) for the
/// `-numa node,nodeid=200: Max number ...` form.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.kind)]
pub struct Error(alloc::boxed::Box<ErrorInner>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct ErrorInner {
    kind: ErrorKind,
    span: Span,
    location: Option<Location>,
}

impl Error {
    /// An error of `kind` at `span`.
    pub fn new(kind: ErrorKind, span: Span) -> Self {
        Error(alloc::boxed::Box::new(ErrorInner {
            kind,
            span,
            location: None,
        }))
    }

    /// What is wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// The offending bytes of the option argument (of
    /// [`Location::arg`] when there is a location).
    pub fn span(&self) -> Span {
        self.0.span
    }

    /// The command-line option the error belongs to, if it came from a
    /// command line.
    pub fn location(&self) -> Option<&Location> {
        self.0.location.as_ref()
    }

    /// Attach (or replace) the command-line location.
    pub fn with_location(mut self, location: Location) -> Self {
        self.0.location = Some(location);
        self
    }

    /// A second line QEMU prints after the message, if any (not part of
    /// the QMP error).
    pub fn hint(&self) -> Option<&'static str> {
        match &self.0.kind {
            ErrorKind::InvalidValue {
                expected: Expected::Identifier,
                ..
            } => Some("Identifiers consist of letters, digits, '-', '.', '_', starting with a letter."),
            ErrorKind::InvalidValue {
                expected: Expected::NonNegativeNumber,
                ..
            } => Some(
                "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively.",
            ),
            _ => None,
        }
    }

    /// The error as QEMU prints it after the program name:
    /// `{location}: {message}` or just `{message}`.
    pub fn display_qemu(&self) -> impl fmt::Display + '_ {
        QemuLine {
            location: self.0.location.as_ref(),
            warning: false,
            message: &self.0.kind,
        }
    }
}

struct QemuLine<'a, M: fmt::Display> {
    location: Option<&'a Location>,
    warning: bool,
    message: &'a M,
}

/// A message as QEMU prints it after the program name:
/// `{location}: {message}`, with `warning: ` before the message for
/// warnings. For the other vnuma crates' errors and warnings.
pub fn qemu_line<'a, M: fmt::Display>(
    location: Option<&'a Location>,
    warning: bool,
    message: &'a M,
) -> impl fmt::Display + 'a {
    QemuLine {
        location,
        warning,
        message,
    }
}

impl<M: fmt::Display> fmt::Display for QemuLine<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = self.location {
            write!(f, "{loc}: ")?;
        }
        if self.warning {
            f.write_str("warning: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// Something QEMU accepts but warns about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WarningKind {
    /// A flag item (`foo` / `nofoo`) in QemuOpts syntax.
    ShortFormBoolean {
        /// The item as written (`nofoo`).
        item: String,
        /// The key it stands for (`foo`).
        key: String,
        /// `on` or `off`.
        value: &'static str,
    },
    /// A size in hexadecimal with a suffix (`0x8M`).
    HexSizeSuffix {
        /// The size text as written.
        text: String,
    },
}

impl fmt::Display for WarningKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WarningKind::ShortFormBoolean { item, .. } => {
                write!(f, "short-form boolean option '{item}' deprecated")
            }
            WarningKind::HexSizeSuffix { text } => write!(
                f,
                "Using a multiplier suffix on hex numbers is deprecated: {text}"
            ),
        }
    }
}

/// A warning: what, where in the argument, and on which option.
/// `Display` is QEMU's text without the `warning:` prefix.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Warning {
    kind: WarningKind,
    span: Span,
    location: Option<Location>,
}

impl Warning {
    pub(crate) fn new(kind: WarningKind, span: Span) -> Self {
        Warning {
            kind,
            span,
            location: None,
        }
    }

    /// What the warning is about.
    pub fn kind(&self) -> &WarningKind {
        &self.kind
    }

    /// The offending bytes of the option argument.
    pub fn span(&self) -> Span {
        self.span
    }

    /// The command-line option it belongs to, if any.
    pub fn location(&self) -> Option<&Location> {
        self.location.as_ref()
    }

    pub(crate) fn with_location(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    /// The line QEMU prints after the warning, if any.
    pub fn hint(&self) -> Option<String> {
        match &self.kind {
            WarningKind::ShortFormBoolean { key, value, .. } => {
                Some(alloc::format!("Please use {key}={value} instead"))
            }
            WarningKind::HexSizeSuffix { .. } => None,
        }
    }

    /// The warning as QEMU prints it after the program name:
    /// `{location}: warning: {message}`.
    pub fn display_qemu(&self) -> impl fmt::Display + '_ {
        QemuLine {
            location: self.location.as_ref(),
            warning: true,
            message: &self.kind,
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.kind, f)
    }
}
