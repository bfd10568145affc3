//! rust-vmm's `acpi_tables` encodes the entries vnuma converts into the
//! same bytes as vnuma does.

use acpi_tables::Aml;
use vnuma_tables::acpi::{Oem, HEADER_LEN};
use vnuma_tables::srat::{Srat, SratEntry};
use vnuma_tables::{build, rust_vmm, TableOptions};
use vnuma_topology::cpu::CpuTopology;
use vnuma_topology::layout::MemoryLayout;
use vnuma_topology::machine::MachineModel;
use vnuma_topology::{Distances, MemoryZone, NodeConfig, NumaConfig};

const MIB: u64 = 1 << 20;

#[test]
fn same_bytes_as_acpi_tables() {
    let t = NumaConfig::new(MachineModel::generic("vmm", 8), CpuTopology::new(2))
        .node(
            NodeConfig::new(0)
                .cpus(0..1)
                .zone(MemoryZone::new(64 * MIB)),
        )
        .node(
            NodeConfig::new(1)
                .cpus(1..2)
                .zone(MemoryZone::new(32 * MIB)),
        )
        .node(NodeConfig::new(2).device("0000:00:05.3"))
        .node(NodeConfig::new(3).device("acpi:ACPI0016:1"))
        .distances(Distances::fill(20).set(0, 1, 12))
        .resolve()
        .unwrap();
    let layout = MemoryLayout::new(&t);
    let opts = TableOptions::default();
    let tables = build(&t, &layout, &opts).unwrap().unwrap();
    let (_, ours) = Srat::parse(&tables.srat).unwrap();

    let (theirs, left_out) = rust_vmm::srat(&ours, &Oem::default());
    assert_eq!(left_out, 2, "the two processor entries");
    let mut bytes = Vec::new();
    theirs.to_aml_bytes(&mut bytes);
    // Our structures without the processor entries, re-encoded.
    let kept = Srat {
        entries: ours
            .entries
            .iter()
            .filter(|e| matches!(e, SratEntry::Memory(_) | SratEntry::GenericInitiator(_)))
            .cloned()
            .collect(),
    };
    let mine = kept.to_bytes(&Oem::default()).unwrap();
    assert_eq!(&bytes[HEADER_LEN..], &mine[HEADER_LEN..]);
    assert_eq!(bytes.len(), mine.len());

    let slit = vnuma_tables::slit::Slit::parse(tables.slit.as_deref().unwrap())
        .unwrap()
        .1;
    let mut bytes = Vec::new();
    rust_vmm::slit(&slit, &Oem::default())
        .unwrap()
        .to_aml_bytes(&mut bytes);
    assert_eq!(&bytes[HEADER_LEN..], &tables.slit.unwrap()[HEADER_LEN..]);
}
