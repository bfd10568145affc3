//! CXL and PCI expander bridges on QEMU's x86 boards, as far as they touch
//! NUMA and the address space: `-machine cxl=on` and its fixed memory
//! windows (`cxl-fmw`), which QEMU reserves between the device-memory
//! window and the 64-bit PCI hole; the expander bridges `pxb` (pc),
//! `pxb-pcie` and `pxb-cxl` (q35), each a root bus of its own with a bus
//! number and an optional `numa_node`; and `acpi-generic-port`, which puts
//! a CXL host bridge in a node (an SRAT Generic Port Affinity structure
//! whose ACPI handle is `ACPI0016` with the bridge's bus number as `_UID`).
//!
//! The checks and their order are QEMU's: window properties when the
//! machine is configured, the bridges when each `-device` is realized, and
//! then, once the machine is complete, `cxl=off` with a CXL bridge present
//! and window targets that name no CXL bridge.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use vnuma_options::CxlFixedWindow;

use crate::error::ErrorKind;

/// The interleave ways a fixed memory window can have (its target count).
const INTERLEAVE_WAYS: [usize; 8] = [1, 2, 3, 4, 6, 8, 12, 16];

/// The sizes of the fixed memory windows, after QEMU's checks of each in
/// order: the number of targets, the size (a multiple of 256 MiB), the
/// interleave granularity (256 B to 16 KiB, a power of two).
pub(crate) fn window_sizes(
    windows: &[CxlFixedWindow],
    qemu72: bool,
) -> Result<Vec<u64>, ErrorKind> {
    windows
        .iter()
        .map(|w| {
            if !INTERLEAVE_WAYS.contains(&w.targets.len()) {
                return Err(ErrorKind::CxlInterleaveWays {
                    ways: w.targets.len(),
                });
            }
            if w.size % (256 << 20) != 0 {
                return Err(ErrorKind::CxlWindowSize { qemu72 });
            }
            if let Some(g) = w.interleave_granularity {
                if !(256..=16384).contains(&g) || !g.is_power_of_two() {
                    return Err(ErrorKind::CxlGranularity { value: g });
                }
            }
            Ok(w.size)
        })
        .collect()
}

/// The kinds of PCI expander bridge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PxbKind {
    /// `pxb`: conventional PCI, any device behind it.
    Pci,
    /// `pxb-pcie`: PCIe, root ports behind it.
    Pcie,
    /// `pxb-cxl`: a CXL host bridge, root ports behind it.
    Cxl,
}

impl PxbKind {
    pub(crate) fn of(driver: &str) -> Option<PxbKind> {
        match driver {
            "pxb" => Some(PxbKind::Pci),
            "pxb-pcie" => Some(PxbKind::Pcie),
            "pxb-cxl" => Some(PxbKind::Cxl),
            _ => None,
        }
    }

    pub(crate) fn driver(self) -> &'static str {
        match self {
            PxbKind::Pci => "pxb",
            PxbKind::Pcie => "pxb-pcie",
            PxbKind::Cxl => "pxb-cxl",
        }
    }
}

/// One PCI expander bridge as created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pxb {
    pub(crate) kind: PxbKind,
    /// `id` (its bus has the same name).
    pub(crate) id: Option<String>,
    /// `bus_nr` (default 0).
    pub(crate) bus_nr: u8,
}

/// A PCI-to-PCI bridge model of QEMU's x86 binary: what a PCIe expander
/// bridge's bus takes.
pub(crate) fn is_bridge_model(driver: &str) -> bool {
    matches!(
        driver,
        "pci-bridge"
            | "pci-bridge-seat"
            | "pcie-pci-bridge"
            | "pcie-root-port"
            | "ioh3420"
            | "x3130-upstream"
            | "xio3130-downstream"
            | "i82801b11-bridge"
            | "cxl-rp"
            | "cxl-upstream"
            | "cxl-downstream"
    )
}

/// A qdev integer property from QemuOpts text: `integer` when it does not
/// parse (base 0, as `strtoull`), the C type's name when out of range.
fn uint_property(
    key: &str,
    value: &str,
    max: u64,
    type_name: &'static str,
) -> Result<u64, ErrorKind> {
    let parsed =
        vnuma_options::value::parse_u64(value).ok_or_else(|| ErrorKind::DeviceProperty {
            key: key.into(),
            expected: "integer",
        })?;
    if parsed > max {
        return Err(ErrorKind::DeviceProperty {
            key: key.into(),
            expected: type_name,
        });
    }
    Ok(parsed)
}

/// Type and check an expander bridge being realized: its properties, the
/// kind of bus it sits on (`q35`: PCIe), its `numa_node` against the node
/// count, and its bus number against the bridges before it.
pub(crate) fn realize_pxb(
    kind: PxbKind,
    id: Option<&str>,
    props: &[(&str, &str)],
    q35: bool,
    nodes: usize,
    earlier: &[Pxb],
) -> Result<Pxb, ErrorKind> {
    let get = |key: &str| props.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let bus_nr = match get("bus_nr") {
        Some(v) => uint_property("bus_nr", v, u64::from(u8::MAX), "uint8_t")? as u8,
        None => 0,
    };
    // MAX_NODES (128), the default, means unassigned.
    let numa_node = match get("numa_node") {
        Some(v) => Some(uint_property("numa_node", v, u64::from(u16::MAX), "uint16_t")? as u16),
        None => None,
    }
    .filter(|&n| n != 128);
    match (kind, q35) {
        (PxbKind::Pci, true) => {
            return Err(ErrorKind::PxbWrongBus {
                driver: kind.driver().into(),
                bus: "PCIe",
            })
        }
        (PxbKind::Pcie | PxbKind::Cxl, false) => {
            return Err(ErrorKind::PxbWrongBus {
                driver: kind.driver().into(),
                bus: "PCI",
            })
        }
        _ => {}
    }
    if let Some(node) = numa_node {
        if usize::from(node) >= nodes {
            return Err(ErrorKind::PxbNumaNode { node });
        }
    }
    if earlier.iter().any(|p| p.bus_nr == bus_nr) {
        return Err(ErrorKind::PxbBusInUse { bus: bus_nr });
    }
    Ok(Pxb {
        kind,
        id: id.map(ToString::to_string),
        bus_nr,
    })
}

/// What QEMU checks once the machine is complete: a CXL host bridge needs
/// `cxl=on`; with it, every window target names a CXL host bridge.
pub(crate) fn machine_done(
    cxl: bool,
    windows: &[CxlFixedWindow],
    bridges: &[Pxb],
) -> Result<(), ErrorKind> {
    let is_cxl = |id: &str| {
        bridges
            .iter()
            .any(|p| p.kind == PxbKind::Cxl && p.id.as_deref() == Some(id))
    };
    if !cxl {
        if bridges.iter().any(|p| p.kind == PxbKind::Cxl) {
            return Err(ErrorKind::CxlOff);
        }
        return Ok(());
    }
    for target in windows.iter().flat_map(|w| &w.targets) {
        if !is_cxl(target) {
            return Err(ErrorKind::CxlTarget {
                target: target.clone(),
            });
        }
    }
    Ok(())
}

/// The generic port handle of the CXL host bridge `pci_bus` names (its id,
/// which is also its bus's name): `acpi:ACPI0016:BUS_NR`.
pub(crate) fn port_handle(pci_bus: &str, bridges: &[Pxb]) -> Option<String> {
    bridges
        .iter()
        .find(|p| p.kind == PxbKind::Cxl && p.id.as_deref() == Some(pci_bus))
        .map(|p| alloc::format!("acpi:ACPI0016:{}", p.bus_nr))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(size: u64, targets: usize, granularity: Option<u64>) -> CxlFixedWindow {
        CxlFixedWindow {
            size,
            interleave_granularity: granularity,
            targets: (0..targets).map(|i| alloc::format!("c{i}")).collect(),
        }
    }

    #[test]
    fn windows_are_checked_in_qemus_order() {
        assert_eq!(
            window_sizes(
                &[window(4 << 30, 1, None), window(0, 3, Some(16384))],
                false
            ),
            Ok(alloc::vec![4 << 30, 0])
        );
        // Ways first, then size, then granularity.
        assert_eq!(
            window_sizes(&[window(300 << 20, 5, Some(100))], false),
            Err(ErrorKind::CxlInterleaveWays { ways: 5 })
        );
        assert_eq!(
            window_sizes(&[window(300 << 20, 2, Some(100))], true)
                .unwrap_err()
                .to_string(),
            "Size of a CXL fixed memory window must my a multiple of 256MiB"
        );
        assert_eq!(
            window_sizes(&[window(1 << 30, 2, Some(32768))], false),
            Err(ErrorKind::CxlGranularity { value: 32768 })
        );
        assert_eq!(
            window_sizes(&[window(1 << 30, 2, Some(384))], false),
            Err(ErrorKind::CxlGranularity { value: 384 })
        );
    }

    #[test]
    fn bridges_are_checked_when_realized() {
        let cxl =
            |bus: &str| realize_pxb(PxbKind::Cxl, Some("c1"), &[("bus_nr", bus)], true, 2, &[]);
        assert_eq!(cxl("12").unwrap().bus_nr, 12);
        assert_eq!(cxl("0x10").unwrap().bus_nr, 16);
        assert_eq!(
            cxl("300").unwrap_err().to_string(),
            "Parameter 'bus_nr' expects uint8_t"
        );
        assert_eq!(
            cxl("x").unwrap_err().to_string(),
            "Parameter 'bus_nr' expects integer"
        );
        assert_eq!(
            realize_pxb(PxbKind::Cxl, None, &[], false, 2, &[])
                .unwrap_err()
                .to_string(),
            "pxb-cxl devices cannot reside on a PCI bus"
        );
        assert_eq!(
            realize_pxb(PxbKind::Pci, None, &[], true, 2, &[])
                .unwrap_err()
                .to_string(),
            "pxb devices cannot reside on a PCIe bus"
        );
        assert_eq!(
            realize_pxb(PxbKind::Pcie, None, &[("numa_node", "2")], true, 2, &[])
                .unwrap_err()
                .to_string(),
            "Illegal numa node 2"
        );
        // 128 (MAX_NODES) is "unassigned"; 65535 is no node.
        assert!(realize_pxb(PxbKind::Pcie, None, &[("numa_node", "128")], true, 0, &[]).is_ok());
        assert_eq!(
            realize_pxb(
                PxbKind::Pcie,
                None,
                &[("numa_node", "65535")],
                true,
                200,
                &[]
            ),
            Err(ErrorKind::PxbNumaNode { node: 65535 })
        );
        let first = cxl("12").unwrap();
        assert_eq!(
            realize_pxb(
                PxbKind::Pcie,
                None,
                &[("bus_nr", "12")],
                true,
                2,
                core::slice::from_ref(&first)
            ),
            Err(ErrorKind::PxbBusInUse { bus: 12 })
        );
        assert_eq!(
            port_handle("c1", core::slice::from_ref(&first)).as_deref(),
            Some("acpi:ACPI0016:12")
        );
        assert_eq!(port_handle("c2", &[first]), None);
    }

    #[test]
    fn machine_done_needs_cxl_on_and_known_targets() {
        let bridge = Pxb {
            kind: PxbKind::Cxl,
            id: Some("c1".into()),
            bus_nr: 12,
        };
        let pcie = Pxb {
            kind: PxbKind::Pcie,
            id: Some("p1".into()),
            bus_nr: 13,
        };
        assert_eq!(
            machine_done(false, &[], core::slice::from_ref(&bridge)),
            Err(ErrorKind::CxlOff)
        );
        // Windows are not looked at with CXL off.
        assert_eq!(
            machine_done(false, &[window(1 << 30, 1, None)], &[]),
            Ok(())
        );
        let mut w = window(1 << 30, 1, None);
        w.targets = alloc::vec!["p1".into()];
        assert_eq!(
            machine_done(true, &[w], &[bridge.clone(), pcie]),
            Err(ErrorKind::CxlTarget {
                target: "p1".into()
            })
        );
        let mut w = window(1 << 30, 1, None);
        w.targets = alloc::vec!["c1".into()];
        assert_eq!(machine_done(true, &[w], &[bridge]), Ok(()));
    }
}
