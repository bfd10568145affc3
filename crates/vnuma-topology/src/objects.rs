//! The order in which QEMU walks its user-created objects.
//!
//! QEMU builds the SRAT's Generic Initiator and Generic Port entries by
//! walking the children of its `/objects` container, and a QOM object
//! keeps its children in a GLib hash table keyed by name. The entries
//! therefore come in that table's iteration order, which follows from
//! the object names, the order they were added, and GLib's open
//! addressing: a string hash (`h = h * 33 + c` from 5381, over signed
//! chars), a home bucket of `(hash * 11) mod p` for a prime `p` just
//! below the table size, quadratic probing (`+1, +2, +3, ...` masked),
//! and an in-place rehash when the table is full to 15/16 (the size then
//! becomes the power of two above `4/3` of the entries). This is the
//! table of GLib 2.60 and later (Debian 12's 2.74 under both QEMU 7.2
//! and 10.0 here); the cases captured from QEMU 10.0 agree with it.
//!
//! Objects join `/objects` in QEMU's creation phases: `thread-context`
//! first, then every other type except the late ones, then the late ones
//! (memory backends and the types that need a character device or a
//! netdev), each phase in command-line order; the default RAM backend
//! (`pc.ram`) last, when the machine creates one.

use alloc::vec;
use alloc::vec::Vec;

/// `prime_mod[shift]`: the modulus of a table of `1 << shift` buckets.
const PRIME_MOD: [u32; 32] = [
    1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071,
    262139, 524287, 1048573, 2097143, 4194301, 8388593, 16777213, 33554393, 67108859, 134217689,
    268435399, 536870909, 1073741789, 2147483647,
];
const MIN_SHIFT: u32 = 3;

/// GLib's `g_str_hash`, with its "real hash" floor of 2.
fn str_hash(name: &str) -> u32 {
    let h = name.bytes().fold(5381u32, |h, b| {
        // `signed char`: bytes above 127 count negative.
        h.wrapping_mul(33).wrapping_add(b as i8 as i32 as u32)
    });
    h.max(2)
}

struct Table {
    shift: u32,
    /// Per bucket: the entry's hash (0: empty) and its index in the
    /// insertion order.
    hashes: Vec<u32>,
    entries: Vec<usize>,
    nodes: usize,
}

impl Table {
    fn new() -> Self {
        let size = 1usize << MIN_SHIFT;
        Table {
            shift: MIN_SHIFT,
            hashes: vec![0; size],
            entries: vec![0; size],
            nodes: 0,
        }
    }

    fn mask(&self) -> usize {
        (1usize << self.shift) - 1
    }

    fn home(&self, hash: u32) -> usize {
        (hash.wrapping_mul(11) % PRIME_MOD[self.shift as usize]) as usize
    }

    fn insert(&mut self, hash: u32, entry: usize) {
        let mut i = self.home(hash);
        let mut step = 0;
        while self.hashes[i] != 0 {
            step += 1;
            i = (i + step) & self.mask();
        }
        self.hashes[i] = hash;
        self.entries[i] = entry;
        self.nodes += 1;
        let size = self.hashes.len();
        if size <= self.nodes + self.nodes / 16 {
            self.grow();
        }
    }

    /// GLib's in-place rehash: each bucket in order is taken out and put
    /// at its new place, evicting (and then placing) what was there
    /// unless that was placed already in this pass.
    fn grow(&mut self) {
        let old_size = self.hashes.len();
        let wanted = (self.nodes as f64 * 1.333) as u64;
        let shift = (u64::BITS - wanted.leading_zeros()).max(MIN_SHIFT);
        self.shift = shift.min(31);
        let size = 1usize << self.shift;
        self.hashes.resize(size, 0);
        self.entries.resize(size, 0);
        let mut placed = vec![false; size.max(old_size)];
        for i in 0..old_size {
            let mut hash = self.hashes[i];
            if hash == 0 || placed[i] {
                continue;
            }
            let mut entry = self.entries[i];
            self.hashes[i] = 0;
            loop {
                let mut j = self.home(hash);
                let mut step = 0;
                while placed[j] {
                    step += 1;
                    j = (j + step) & self.mask();
                }
                placed[j] = true;
                let (evicted_hash, evicted) = (self.hashes[j], self.entries[j]);
                self.hashes[j] = hash;
                self.entries[j] = entry;
                if evicted_hash == 0 {
                    break;
                }
                hash = evicted_hash;
                entry = evicted;
            }
        }
    }
}

/// The iteration order of a GLib string-keyed hash table after `names`
/// were inserted in that order: indexes into `names`.
pub(crate) fn table_order(names: &[&str]) -> Vec<usize> {
    let mut table = Table::new();
    for (i, name) in names.iter().enumerate() {
        table.insert(str_hash(name), i);
    }
    table
        .hashes
        .iter()
        .zip(&table.entries)
        .filter(|(h, _)| **h != 0)
        .map(|(_, &e)| e)
        .collect()
}

/// Whether QEMU creates objects of `qom_type` late (after the
/// accelerator and the character devices), and whether first of all.
fn phase(qom_type: &str) -> u8 {
    const LATE: &[&str] = &[
        "rng-egd",
        "qtest",
        "cryptodev-vhost-user",
        "vhost-user-blk-server",
        "filter-buffer",
        "filter-dump",
        "filter-mirror",
        "filter-redirector",
        "filter-replay",
        "filter-rewriter",
        "colo-compare",
        "input-barrier",
        "input-linux",
        "dbus-vmstate",
        "throttle-group",
    ];
    if qom_type == "thread-context" {
        0
    } else if qom_type.starts_with("memory-backend-") || LATE.contains(&qom_type) {
        2
    } else {
        1
    }
}

/// The ids of `/objects` in the order QEMU walks them, from the objects
/// as written (`(type, id)`, command-line order) and whether the machine
/// adds its default RAM backend (`default_ram`, e.g. `pc.ram`).
pub(crate) fn walk_order<'a>(
    objects: &[(&str, &'a str)],
    default_ram: Option<&'a str>,
) -> Vec<&'a str> {
    let mut created: Vec<&str> = Vec::with_capacity(objects.len() + 1);
    for p in 0..3 {
        created.extend(
            objects
                .iter()
                .filter(|(t, _)| phase(t) == p)
                .map(|(_, id)| *id),
        );
    }
    created.extend(default_ram);
    table_order(&created)
        .into_iter()
        .map(|i| created[i])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Orders QEMU 10.0 wrote the SRAT's generic initiators in (the
    /// `q35-gi-order-*` cases of the 10.0 tables corpus).
    #[test]
    fn qemu_10_0_walked_these_in_this_order() {
        let walk = |objects: &[(&str, &'static str)]| walk_order(objects, None);
        let gi = "acpi-generic-initiator";
        let ram = "memory-backend-ram";
        assert_eq!(
            walk(&[(ram, "m0"), (gi, "gx"), (gi, "gb"), (gi, "gk"), (gi, "ga")]),
            ["ga", "gx", "m0", "gb", "gk"]
        );
        assert_eq!(
            walk(&[(ram, "m0"), (gi, "zeta"), (gi, "alpha")]),
            ["alpha", "m0", "zeta"]
        );
        assert_eq!(
            walk(&[(ram, "m0"), (gi, "gi0"), (gi, "gi1")]),
            ["gi0", "m0", "gi1"]
        );
    }

    #[test]
    fn the_table_grows_without_losing_entries() {
        let names: Vec<alloc::string::String> =
            (0..1000).map(|i| alloc::format!("obj{i}")).collect();
        let refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        let mut order = table_order(&refs);
        assert_eq!(order.len(), 1000);
        order.sort_unstable();
        assert!(order.iter().enumerate().all(|(i, &e)| i == e));
        // Eight entries fill the first table (15/16): it grows to 16.
        let eight: Vec<&str> = refs[..8].to_vec();
        assert_eq!(table_order(&eight).len(), 8);
    }

    #[test]
    fn glib_string_hash() {
        // djb2 with signed chars: "a" is 5381 * 33 + 97.
        assert_eq!(str_hash("a"), 177_670);
        assert_eq!(str_hash(""), 5381);
        // A byte above 127 counts negative.
        assert_eq!(str_hash("\u{e9}"), {
            let h = 5381u32
                .wrapping_mul(33)
                .wrapping_add(0xc3u8 as i8 as i32 as u32);
            h.wrapping_mul(33).wrapping_add(0xa9u8 as i8 as i32 as u32)
        });
    }
}
