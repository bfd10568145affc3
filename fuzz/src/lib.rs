//! Fuzz oracles for vnuma. Each `fuzz_targets/*.rs` is a thin shim over a
//! function here, and `tests/seeded.rs` runs every oracle a few hundred
//! times with seeded inputs under plain `cargo test`, so the fuzz code
//! cannot rot.
//!
//! An oracle panics (which libFuzzer reports as a crash) when an invariant
//! does not hold; it never panics on input the library rightly rejects.

pub mod backend;
pub mod description;
pub mod options;
pub mod pipeline;
pub mod ranges;
pub mod swarm;

/// A small deterministic generator for the seeded runs (xorshift64*).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}
