//! The `swarm` target: swarm testing (Groce et al., 2012; as wasm-smith's
//! per-module configuration does) over the pipeline's generator. Each
//! input first draws a configuration that switches kinds of options on
//! and off, then a [`pipeline::Input`]; options of a switched-off kind
//! are left out of its command line before it runs through
//! [`pipeline::check_argv`]. A run where, say, `-numa dist` and `-smp`
//! are off reaches states that the full mix, whose long command lines
//! almost always contain one option that fails early, rarely does.
//!
//! Kinds are recognised on the rendered argv, so whatever the pipeline's
//! generator learns to draw (memory devices, more machine properties)
//! is swarmed too: unknown options belong to the `other` kind.

use arbitrary::Arbitrary;

use crate::pipeline;

/// The kinds of option a configuration switches on and off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `-machine`.
    Machine,
    /// `-m`.
    Memory,
    /// `-smp`.
    Smp,
    /// `-object`.
    Object,
    /// `-numa node`.
    Node,
    /// `-numa dist`.
    Dist,
    /// `-numa cpu`.
    Cpu,
    /// `-numa hmat-lb`.
    HmatLb,
    /// `-numa hmat-cache`.
    HmatCache,
    /// Any other `-numa` text.
    NumaOther,
    /// `-device`.
    Device,
    /// Anything else.
    Other,
}

impl Kind {
    /// Every kind, in bit order.
    pub const ALL: [Kind; 12] = [
        Kind::Machine,
        Kind::Memory,
        Kind::Smp,
        Kind::Object,
        Kind::Node,
        Kind::Dist,
        Kind::Cpu,
        Kind::HmatLb,
        Kind::HmatCache,
        Kind::NumaOther,
        Kind::Device,
        Kind::Other,
    ];

    /// The kind of option `name` with argument `arg`.
    pub fn of(name: &str, arg: &str) -> Kind {
        match name.trim_start_matches('-') {
            "machine" | "M" => Kind::Machine,
            "m" => Kind::Memory,
            "smp" => Kind::Smp,
            "object" => Kind::Object,
            "device" => Kind::Device,
            "numa" => {
                let ty = arg.split(',').next().unwrap_or("");
                let ty = ty.strip_prefix("type=").unwrap_or(ty);
                match ty {
                    "node" => Kind::Node,
                    "dist" => Kind::Dist,
                    "cpu" => Kind::Cpu,
                    "hmat-lb" => Kind::HmatLb,
                    "hmat-cache" => Kind::HmatCache,
                    _ => Kind::NumaOther,
                }
            }
            _ => Kind::Other,
        }
    }

    fn bit(self) -> u16 {
        1 << Kind::ALL.iter().position(|&k| k == self).unwrap_or(0)
    }
}

/// A swarm configuration and the pipeline input it filters.
#[derive(Arbitrary, Clone, Debug)]
pub struct Input {
    /// Bit `i` set: [`Kind::ALL`]`[i]` is switched *off*.
    off: u16,
    /// The command line before filtering.
    input: pipeline::Input,
}

impl Input {
    /// Whether `kind` is switched on.
    pub fn enabled(&self, kind: Kind) -> bool {
        self.off & kind.bit() == 0
    }

    /// The filtered argv: each option (with its argument, when the
    /// rendered argv pairs them) kept only if its kind is on.
    pub fn argv(&self) -> Vec<String> {
        filter(&self.input.argv(), |k| self.enabled(k))
    }
}

/// The options of `argv` (`-name arg` pairs, or a lone `-name` before
/// another option) whose kind `keep` accepts.
pub fn filter(argv: &[String], keep: impl Fn(Kind) -> bool) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len());
    let mut i = 0;
    while i < argv.len() {
        let name = &argv[i];
        let arg = argv.get(i + 1).filter(|a| !a.starts_with('-'));
        let kind = Kind::of(name, arg.map_or("", String::as_str));
        let take = 1 + usize::from(arg.is_some());
        if keep(kind) {
            out.extend(argv[i..i + take].iter().cloned());
        }
        i += take;
    }
    out
}

/// The fuzz entry.
pub fn check(input: &Input) {
    pipeline::check_argv_with(&input.argv(), input.input.rules());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn kinds_are_filtered_in_pairs() {
        let argv = v(&[
            "-machine",
            "q35",
            "-numa",
            "node,nodeid=0",
            "-numa",
            "dist,src=0,dst=1,val=20",
            "-smp",
            "2",
            "-nodefaults",
        ]);
        let kept = filter(&argv, |k| k != Kind::Dist && k != Kind::Smp);
        assert_eq!(
            kept,
            v(&["-machine", "q35", "-numa", "node,nodeid=0", "-nodefaults"])
        );
        assert_eq!(Kind::of("-numa", "type=hmat-lb,initiator=0"), Kind::HmatLb);
        assert_eq!(Kind::of("-numa", "bogus"), Kind::NumaOther);
    }
}
