//! `-device`: the memory devices vnuma models (`pc-dimm`, `nvdimm`,
//! `virtio-mem-pci`, `virtio-pmem-pci`) typed, every other device model of
//! QEMU 7.2 accepted by name and kept as written.
//!
//! QEMU reads `-device` with QemuOpts (implied key `driver`) and sets the
//! properties in the order written when it creates the device, after the
//! machine: a property error is the first one written, with QEMU's
//! message (`Parameter 'node' expects integer`, `Property
//! 'pc-dimm.foo' not found`).

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::device_models::{QEMU72_X86_DEVICE_MODELS, QEMU_X86_PCI_DEVICE_MODELS};
use crate::error::{Error, ErrorKind, Expected, Warning, WarningKind};
use crate::grammar::{self, Item};
use crate::span::Span;
use crate::value::{self, DefaultUnit};

/// The memory device models vnuma places in guest memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemoryDeviceDriver {
    /// `pc-dimm`: a DIMM of RAM.
    PcDimm,
    /// `nvdimm`: a DIMM of persistent memory (needs `-machine nvdimm=on`).
    Nvdimm,
    /// `virtio-mem-pci`: memory plugged in blocks by a virtio device.
    VirtioMemPci,
    /// `virtio-pmem-pci`: persistent memory through a virtio device.
    VirtioPmemPci,
}

impl MemoryDeviceDriver {
    /// The device model name.
    pub const fn name(self) -> &'static str {
        match self {
            MemoryDeviceDriver::PcDimm => "pc-dimm",
            MemoryDeviceDriver::Nvdimm => "nvdimm",
            MemoryDeviceDriver::VirtioMemPci => "virtio-mem-pci",
            MemoryDeviceDriver::VirtioPmemPci => "virtio-pmem-pci",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "pc-dimm" => MemoryDeviceDriver::PcDimm,
            "nvdimm" => MemoryDeviceDriver::Nvdimm,
            "virtio-mem-pci" => MemoryDeviceDriver::VirtioMemPci,
            "virtio-pmem-pci" => MemoryDeviceDriver::VirtioPmemPci,
            _ => return None,
        })
    }

    /// Whether the model is a DIMM (`pc-dimm`, `nvdimm`: slots, `addr`).
    pub const fn is_dimm(self) -> bool {
        matches!(
            self,
            MemoryDeviceDriver::PcDimm | MemoryDeviceDriver::Nvdimm
        )
    }
}

/// A memory device's properties as written (unset ones `None`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MemoryDeviceOptions {
    /// The model.
    pub driver: MemoryDeviceDriver,
    /// `id`.
    pub id: Option<String>,
    /// `memdev`: the memory backend, by QOM path or id.
    pub memdev: Option<String>,
    /// `node`.
    pub node: Option<u32>,
    /// `addr` of a DIMM, `memaddr` of a virtio device (0: unassigned).
    pub addr: Option<u64>,
    /// `slot` of a DIMM (-1: unassigned).
    pub slot: Option<i64>,
    /// `label-size` of an `nvdimm`.
    pub label_size: Option<u64>,
    /// `requested-size` of a `virtio-mem-pci`.
    pub requested_size: Option<u64>,
    /// `block-size` of a `virtio-mem-pci`.
    pub block_size: Option<u64>,
    /// Other properties, kept as written (`bus`, PCI `addr`, `uuid`, …).
    pub other: Vec<(String, String)>,
}

impl MemoryDeviceOptions {
    /// A device of model `driver` with nothing set.
    pub fn new(driver: MemoryDeviceDriver) -> Self {
        MemoryDeviceOptions {
            driver,
            id: None,
            memdev: None,
            node: None,
            addr: None,
            slot: None,
            label_size: None,
            requested_size: None,
            block_size: None,
            other: Vec::new(),
        }
    }
}

/// One `-device`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DeviceOptions {
    /// A memory device.
    Memory(MemoryDeviceOptions),
    /// Any other device model of QEMU 7.2: not modelled, kept as written.
    Other {
        /// The model name.
        driver: String,
        /// `id`.
        id: Option<String>,
    },
}

/// Properties of the virtio memory devices that vnuma keeps without
/// reading (their PCI and virtio transport properties).
const VIRTIO_PCI_PROPERTIES: &[&str] = &[
    "acpi-index",
    "addr",
    "aer",
    "any_layout",
    "ats",
    "bus",
    "disable-legacy",
    "disable-modern",
    "event_idx",
    "failover_pair_id",
    "indirect_desc",
    "ioeventfd",
    "iommu_platform",
    "migrate-extra",
    "modern-pio-notify",
    "multifunction",
    "notify_on_empty",
    "packed",
    "page-per-vq",
    "prealloc",
    "queue_reset",
    "rombar",
    "romfile",
    "unplugged-inaccessible",
    "use-disabled-flag",
    "use-started",
    "vectors",
    "virtio-backend",
    "virtio-pci-bus-master-bug-migration",
    "x-disable-legacy-check",
    "x-disable-pcie",
    "x-ignore-backend-features",
    "x-pcie-deverr-init",
    "x-pcie-extcap-init",
    "x-pcie-flr-init",
    "x-pcie-lnkctl-init",
    "x-pcie-lnksta-dllla",
    "x-pcie-pm-init",
];

/// The smallest NVDIMM label area QEMU accepts.
const MIN_LABEL_SIZE: u64 = 128 << 10;

fn invalid(item: &Item<'_>, expected: Expected) -> Error {
    Error::new(
        ErrorKind::InvalidValue {
            key: item.key.into(),
            expected,
        },
        item.value_span,
    )
}

/// An `int64` property (QEMU's string input visitor: `strtoll`, base 0).
fn int(item: &Item<'_>) -> Result<i64, Error> {
    value::qemu_strtoi64(&item.value).map_err(|_| invalid(item, Expected::Integer))
}

/// A `uint32` property: an integer, then the width.
fn uint32(item: &Item<'_>) -> Result<u32, Error> {
    let v = value::qemu_strtou64(&item.value).map_err(|_| invalid(item, Expected::Integer))?;
    // QEMU reads the value as a signed 64-bit integer first.
    let signed = value::qemu_strtoi64(&item.value).ok();
    match (u32::try_from(v), signed) {
        (Ok(v), Some(s)) if s >= 0 => Ok(v),
        _ => Err(invalid(item, Expected::Uint32)),
    }
}

/// A `uint64` property.
fn uint64(item: &Item<'_>) -> Result<u64, Error> {
    value::qemu_strtou64(&item.value).map_err(|_| invalid(item, Expected::Integer))
}

/// A `size` property.
fn size(item: &Item<'_>, syntax: crate::Syntax, warnings: &mut Vec<Warning>) -> Result<u64, Error> {
    value::parse_size_in(&item.value, DefaultUnit::Bytes, syntax)
        .map(|s| {
            if s.hex_with_suffix {
                warnings.push(Warning::new(
                    WarningKind::HexSizeSuffix {
                        text: item.value.to_string(),
                    },
                    item.value_span,
                ));
            }
            s.bytes
        })
        .map_err(|_| invalid(item, Expected::KeyvalSize))
}

impl DeviceOptions {
    /// Read `-device` text (QemuOpts; the first item is the driver). Only
    /// the syntax is checked; the properties are typed by
    /// [`DeviceOptions::type_properties`], when QEMU creates the device.
    pub fn parse(text: &str) -> Result<DeviceOptions, Error> {
        Self::type_properties(text)
    }

    /// The device model name a `-device` text names, if it names one.
    pub fn driver_of(text: &str) -> Option<String> {
        let opts = grammar::parse_opts(text, Some("driver")).ok()?;
        opts.items
            .iter()
            .find(|i| i.key == "driver")
            .map(|i| i.value.to_string())
    }

    /// Type the device as QEMU does when it creates it: the model must
    /// exist, then each property in the order written.
    pub fn type_properties(text: &str) -> Result<DeviceOptions, Error> {
        Self::type_properties_in(text, crate::Syntax::Qemu72)
    }

    /// [`DeviceOptions::type_properties`] with a release's syntax for
    /// sizes (QEMU 10.0 refuses `0x10M`, reads `.5K`).
    pub fn type_properties_in(text: &str, syntax: crate::Syntax) -> Result<DeviceOptions, Error> {
        Self::type_properties_warning(text, syntax, &mut Vec::new())
    }

    /// [`DeviceOptions::type_properties_in`], with the warnings QEMU
    /// prints while setting the properties (7.2: a hex size with a
    /// suffix).
    pub(crate) fn type_properties_warning(
        text: &str,
        syntax: crate::Syntax,
        warnings: &mut Vec<Warning>,
    ) -> Result<DeviceOptions, Error> {
        let whole = Span::new(0, text.len());
        let opts = grammar::parse_opts(text, Some("driver"))?;
        let id = opts.id.as_ref().map(|i| i.value.to_string());
        let Some(driver_item) = opts.items.iter().find(|i| i.key == "driver") else {
            return Err(Error::new(
                ErrorKind::MissingParameter {
                    key: "driver".into(),
                },
                whole,
            ));
        };
        let driver = driver_item.value.to_string();
        if QEMU72_X86_DEVICE_MODELS
            .binary_search(&driver.as_str())
            .is_err()
        {
            return Err(Error::new(
                ErrorKind::InvalidDeviceModel { driver },
                driver_item.value_span,
            ));
        }
        let Some(model) = MemoryDeviceDriver::from_name(&driver) else {
            return Ok(DeviceOptions::Other { driver, id });
        };
        let mut d = MemoryDeviceOptions::new(model);
        d.id = id;
        let virtio = !model.is_dimm();
        for item in opts.items.iter().filter(|i| i.key != "driver") {
            match (item.key, model) {
                ("memdev", _) => d.memdev = Some(item.value.to_string()),
                ("node", MemoryDeviceDriver::PcDimm | MemoryDeviceDriver::Nvdimm)
                | ("node", MemoryDeviceDriver::VirtioMemPci) => d.node = Some(uint32(item)?),
                ("addr", _) if !virtio => d.addr = Some(uint64(item)?),
                ("memaddr", _) if virtio => d.addr = Some(uint64(item)?),
                ("slot", _) if !virtio => d.slot = Some(int(item)?),
                ("label-size", MemoryDeviceDriver::Nvdimm) => {
                    let v = size(item, syntax, warnings)?;
                    // The property's setter: at least 128 KiB.
                    if v < MIN_LABEL_SIZE {
                        return Err(Error::new(
                            ErrorKind::LabelSizeTooSmall {
                                value: v,
                                min: MIN_LABEL_SIZE,
                            },
                            item.value_span,
                        ));
                    }
                    d.label_size = Some(v);
                }
                ("unarmed", MemoryDeviceDriver::Nvdimm) => {
                    value::parse_bool(&item.value).ok_or_else(|| invalid(item, Expected::Bool))?;
                    d.other.push((item.key.into(), item.value.to_string()));
                }
                ("uuid", MemoryDeviceDriver::Nvdimm) => {
                    d.other.push((item.key.into(), item.value.to_string()));
                }
                ("requested-size", MemoryDeviceDriver::VirtioMemPci) => {
                    d.requested_size = Some(size(item, syntax, warnings)?)
                }
                ("block-size", MemoryDeviceDriver::VirtioMemPci) => {
                    let v = size(item, syntax, warnings)?;
                    // The property's setter.
                    if !v.is_power_of_two() {
                        return Err(Error::new(
                            ErrorKind::BlockSizeNotPowerOfTwo,
                            item.value_span,
                        ));
                    }
                    d.block_size = Some(v)
                }
                // Read-only properties of every device.
                ("hotplugged" | "hotpluggable" | "realized", _) => {
                    return Err(Error::new(
                        ErrorKind::PropertyNotWritable {
                            driver: model.name().into(),
                            key: item.key.into(),
                        },
                        item.key_span,
                    ))
                }
                (key, _) if virtio && VIRTIO_PCI_PROPERTIES.contains(&key) => {
                    d.other.push((item.key.into(), item.value.to_string()));
                }
                _ => {
                    return Err(Error::new(
                        ErrorKind::UnknownDeviceProperty {
                            driver: model.name().into(),
                            key: item.key.into(),
                        },
                        item.key_span,
                    ))
                }
            }
        }
        Ok(DeviceOptions::Memory(d))
    }
}

impl DeviceOptions {
    /// Type the JSON form of `-device` (`{"driver": "pc-dimm", ...}`):
    /// strings, integers and booleans are read as their text; needs the
    /// `serde` feature. Deviation: members are typed in key order, not in
    /// the order written, and errors point at the whole argument.
    pub fn from_json(text: &str) -> Result<DeviceOptions, Error> {
        let whole = Span::new(0, text.len());
        let json_error = |message: String| Error::new(ErrorKind::Json { message }, whole);
        #[cfg(feature = "serde")]
        {
            let v = crate::qemu_json::parse(text).map_err(|e| json_error(e.0))?;
            let obj = v
                .as_object()
                .ok_or_else(|| json_error("-device JSON must be an object".into()))?;
            let value_text = |v: &serde_json::Value| -> Option<String> {
                match v {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    serde_json::Value::Bool(b) => Some(if *b { "on" } else { "off" }.into()),
                    _ => None,
                }
            };
            let mut parts: Vec<String> = Vec::new();
            if let Some(driver) = obj.get("driver") {
                let d = value_text(driver)
                    .ok_or_else(|| json_error("Invalid parameter type for 'driver'".into()))?;
                parts.push(alloc::format!("driver={}", grammar::escape(&d)));
            }
            for (k, v) in obj.iter().filter(|(k, _)| *k != "driver") {
                let value = value_text(v).ok_or_else(|| {
                    json_error(alloc::format!("Invalid parameter type for '{k}'"))
                })?;
                parts.push(alloc::format!(
                    "{}={}",
                    grammar::escape(k),
                    grammar::escape(&value)
                ));
            }
            let as_opts = parts.join(",");
            Self::type_properties(&as_opts).map_err(|e| {
                let kind = e.kind().clone();
                Error::new(kind, whole)
            })
        }
        #[cfg(not(feature = "serde"))]
        {
            Err(json_error(
                "JSON -device needs vnuma-options' serde feature".into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        DeviceOptions::type_properties(text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn typing_follows_qemu() {
        let DeviceOptions::Memory(d) =
            DeviceOptions::type_properties("pc-dimm,id=d,memdev=m0,node=1,addr=0x100000000,slot=0")
                .unwrap()
        else {
            panic!("a memory device")
        };
        assert_eq!(
            (d.id.as_deref(), d.memdev.as_deref(), d.node, d.addr, d.slot),
            (Some("d"), Some("m0"), Some(1), Some(1 << 32), Some(0))
        );
        assert_eq!(err("pc-dimm,node=x"), "Parameter 'node' expects integer");
        assert_eq!(err("pc-dimm,node=-1"), "Parameter 'node' expects uint32_t");
        assert_eq!(
            err("pc-dimm,node=4294967296"),
            "Parameter 'node' expects uint32_t"
        );
        assert_eq!(err("pc-dimm,addr=1G"), "Parameter 'addr' expects integer");
        assert_eq!(err("pc-dimm,foo=1"), "Property 'pc-dimm.foo' not found");
        assert_eq!(
            err("pc-dimm,memaddr=0"),
            "Property 'pc-dimm.memaddr' not found"
        );
        assert_eq!(
            err("nvdimm,label-size=x"),
            "Parameter 'label-size' expects size"
        );
        assert_eq!(
            err("nvdimm,label-size=64K"),
            "Property 'nvdimm.label-size' (0x10000) is required at least 0x20000"
        );
        assert_eq!(
            err("virtio-mem-pci,requested-size=x"),
            "Parameter 'requested-size' expects size"
        );
        assert_eq!(
            err("foo-device"),
            "'foo-device' is not a valid device model name"
        );
        // The first bad property written is the one reported.
        assert_eq!(
            err("pc-dimm,slot=x,node=y"),
            "Parameter 'slot' expects integer"
        );
        // Other models are kept by name; virtio's PCI address is not memaddr.
        assert!(matches!(
            DeviceOptions::type_properties("virtio-net-pci,id=n0").unwrap(),
            DeviceOptions::Other { .. }
        ));
        let DeviceOptions::Memory(v) =
            DeviceOptions::type_properties("virtio-mem-pci,memdev=m,addr=0x5,memaddr=0x100000000")
                .unwrap()
        else {
            panic!("a memory device")
        };
        assert_eq!(v.addr, Some(1 << 32));
    }
}

/// Whether a device model sits on a PCI bus (QEMU 7.2's x86 models whose
/// `-device help` says `bus PCI`).
pub fn is_pci_model(driver: &str) -> bool {
    QEMU_X86_PCI_DEVICE_MODELS.binary_search(&driver).is_ok()
}

#[cfg(test)]
mod pci_model_tests {
    #[test]
    fn pci_models_are_sorted_and_known() {
        let list = super::QEMU_X86_PCI_DEVICE_MODELS;
        assert!(list.windows(2).all(|w| w[0] < w[1]));
        assert!(super::is_pci_model("virtio-balloon-pci"));
        assert!(super::is_pci_model("e1000"));
        assert!(!super::is_pci_model("pc-dimm"));
        assert!(!super::is_pci_model("isa-serial"));
    }
}
