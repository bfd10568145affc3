//! The 2016 seed's address index, the baseline the lookup benchmark
//! measures vnuma's `MemoryLayout::node_of` against.

/// The 2016 seed's address index (`numa_set_mem_node_id`,
/// `numa_unset_mem_node_id`, `numa_get_node`), kept as the baseline of the
/// lookup benchmark: per node a list of inclusive ranges; a lookup scans
/// nodes in id order and the lowest node containing the address wins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeedIndex {
    nodes: Vec<Vec<(u64, u64)>>,
}

impl SeedIndex {
    /// An index for `nodes` nodes (at least one).
    pub fn new(nodes: u16) -> SeedIndex {
        SeedIndex {
            nodes: vec![Vec::new(); usize::from(nodes.max(1))],
        }
    }

    /// Add `[addr, addr + size - 1]` to `node`; size 0 is ignored.
    pub fn set(&mut self, addr: u64, size: u64, node: u16) {
        if size == 0 {
            return;
        }
        if let Some(list) = self.nodes.get_mut(usize::from(node)) {
            list.insert(0, (addr, addr.saturating_add(size - 1)));
        }
    }

    /// Remove the first range of `node` that is exactly
    /// `[addr, addr + size - 1]`; anything else is a no-op.
    pub fn unset(&mut self, addr: u64, size: u64, node: u16) {
        if size == 0 {
            return;
        }
        let last = addr.saturating_add(size - 1);
        if let Some(list) = self.nodes.get_mut(usize::from(node)) {
            if let Some(i) = list.iter().position(|&r| r == (addr, last)) {
                list.remove(i);
            }
        }
    }

    /// The lowest node with a range containing `addr` (the seed's
    /// `Address 0x{addr} doesn't belong to any NUMA node` otherwise).
    pub fn get_node(&self, addr: u64) -> Result<u16, String> {
        for (node, list) in self.nodes.iter().enumerate() {
            if list.iter().any(|&(s, l)| s <= addr && addr <= l) {
                return Ok(node as u16);
            }
        }
        Err(format!(
            "Address 0x{addr:x} doesn't belong to any NUMA node"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::SeedIndex;

    #[test]
    fn seed_index() {
        let mut s = SeedIndex::new(2);
        s.set(0, 0x1000, 1);
        s.set(0x800, 0x1000, 0);
        s.set(0x5000, 0, 0); // size 0: ignored
        assert_eq!(s.get_node(0x900).unwrap(), 0, "lowest node wins on overlap");
        assert_eq!(s.get_node(0x100).unwrap(), 1);
        assert_eq!(
            s.get_node(0x5000).unwrap_err(),
            "Address 0x5000 doesn't belong to any NUMA node"
        );
        s.unset(0x800, 0x800, 0); // not exact: no-op
        assert_eq!(s.get_node(0x900).unwrap(), 0);
        s.unset(0x800, 0x1000, 0);
        assert_eq!(s.get_node(0x900).unwrap(), 1);
    }
}
