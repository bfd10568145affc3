//! The facade's error: one of the layers' errors, which is its `source()`.

use core::fmt;

use vnuma_options::{Location, Span};

/// What went wrong, from whichever layer found it. `Display` is QEMU's
/// message; [`Error::display_qemu`] adds the option QEMU names.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading the options.
    #[error("{0}")]
    Options(#[from] vnuma_options::Error),
    /// Resolving the topology.
    #[error("{0}")]
    Topology(#[from] vnuma_topology::Error),
    /// Placing memory on the host.
    #[error("{0}")]
    Backend(#[from] vnuma_backend::Error),
    /// Building tables.
    #[error("{0}")]
    Tables(#[from] vnuma_tables::Error),
}

impl Error {
    /// The option QEMU would name, if any.
    pub fn location(&self) -> Option<&Location> {
        match self {
            Error::Options(e) => e.location(),
            Error::Topology(e) => e.location(),
            Error::Backend(_) | Error::Tables(_) => None,
        }
    }

    /// The offending bytes of the option's argument, when known; for errors
    /// about a whole option, its whole argument.
    pub fn span(&self) -> Option<Span> {
        match self {
            Error::Options(e) => e.location().map(|_| e.span()),
            Error::Topology(e) => e.span(),
            Error::Backend(_) | Error::Tables(_) => None,
        }
    }

    /// For a configuration described in code, the field at fault
    /// (`nodes[2].memory[0].size`).
    pub fn path(&self) -> Option<&str> {
        match self {
            Error::Topology(e) => e.path(),
            Error::Options(_) | Error::Backend(_) | Error::Tables(_) => None,
        }
    }

    /// A line QEMU prints after the message, if any.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::Options(e) => e.hint(),
            Error::Topology(e) => e.hint(),
            Error::Backend(_) | Error::Tables(_) => None,
        }
    }

    /// `{location}: {message}` as QEMU prints it after the program name.
    pub fn display_qemu(&self) -> impl fmt::Display + '_ {
        DisplayQemu(self)
    }
}

struct DisplayQemu<'a>(&'a Error);

impl fmt::Display for DisplayQemu<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Error::Options(e) => e.display_qemu().fmt(f),
            Error::Topology(e) => e.display_qemu().fmt(f),
            Error::Backend(e) => e.fmt(f),
            Error::Tables(e) => e.fmt(f),
        }
    }
}
