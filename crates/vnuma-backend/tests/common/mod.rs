//! Helpers shared by the integration tests: what the kernel says about
//! our mappings (`/proc/self/{maps,smaps,numa_maps}`), a lock for tests
//! that count mappings, scratch directories, mounts, and QEMU 7.2.
#![allow(dead_code, missing_docs, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use vnuma_backend::{Defaults, HostInfo};

static MAP_LOCK: Mutex<()> = Mutex::new(());

/// Held by every test that maps memory, so that mapping counts taken by
/// one test are not disturbed by another.
pub fn map_lock() -> MutexGuard<'static, ()> {
    MAP_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Mappings in /proc/self/maps whose length is one of `sizes`.
///
/// Counting every line would be disturbed by the test harness and the C
/// library (thread stacks come and go, and are cached); the tests that
/// count mappings use sizes no thread stack has (5, 7, 9, 11 MiB...).
pub fn maps_count_of(sizes: &[u64]) -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .filter(|l| {
            let range = l.split_whitespace().next().unwrap_or("");
            let Some((a, b)) = range.split_once('-') else {
                return false;
            };
            let (a, b) = (
                u64::from_str_radix(a, 16).unwrap(),
                u64::from_str_radix(b, 16).unwrap(),
            );
            sizes.contains(&(b - a))
        })
        .count()
}

/// The smaps block of the mapping that starts at `addr`.
#[derive(Debug)]
pub struct Smaps {
    pub size_kb: u64,
    pub rss_kb: u64,
    pub vm_flags: Vec<String>,
}

pub fn smaps(addr: *const u8) -> Smaps {
    let text = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let start = format!("{:x}-", addr as usize);
    let mut lines = text.lines().skip_while(|l| !l.starts_with(&start));
    assert!(lines.next().is_some(), "no mapping at {start} in smaps");
    let mut s = Smaps {
        size_kb: 0,
        rss_kb: 0,
        vm_flags: Vec::new(),
    };
    for l in lines {
        if l.split_whitespace()
            .next()
            .is_some_and(|w| w.contains('-') && !w.ends_with(':'))
        {
            break;
        }
        let kb = || {
            l.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        if l.starts_with("Size:") {
            s.size_kb = kb();
        } else if l.starts_with("Rss:") {
            s.rss_kb = kb();
        } else if let Some(f) = l.strip_prefix("VmFlags:") {
            s.vm_flags = f.split_whitespace().map(str::to_owned).collect();
        }
    }
    s
}

/// The numa_maps line of the mapping that starts at `addr`.
pub fn numa_maps(addr: *const u8) -> String {
    let text = std::fs::read_to_string("/proc/self/numa_maps").unwrap();
    let start = format!("{:x} ", addr as usize);
    text.lines()
        .find(|l| l.starts_with(&start))
        .unwrap_or_else(|| panic!("no mapping at {start} in numa_maps"))
        .to_owned()
}

/// A scratch directory, removed (with its contents) on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!(
            "vnuma-backend-test-{}-{tag}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn str(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    pub fn files(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A file system mounted for the test (needs root), unmounted on drop.
pub struct Mount {
    pub dir: Scratch,
}

impl Mount {
    /// `mount -t {fstype} -o {options} none {dir}`, or `None` (with a
    /// message) where that is not possible.
    pub fn new(fstype: &str, options: &str) -> Option<Mount> {
        let dir = Scratch::new(fstype);
        let ok = Command::new("mount")
            .args(["-t", fstype, "-o", options, "none"])
            .arg(&dir.0)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipping: cannot mount {fstype} (needs root)");
            return None;
        }
        Some(Mount { dir })
    }

    pub fn path(&self) -> &Path {
        &self.dir.0
    }

    pub fn str(&self) -> String {
        self.dir.0.display().to_string()
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir.0).status();
    }
}

pub fn defaults() -> Defaults {
    Defaults::default()
}

pub fn host() -> HostInfo {
    HostInfo::probe()
}

/// Free 2 MiB huge pages on the host.
pub fn free_2m_hugepages() -> u64 {
    host().hugepage_pool(2 << 20).map_or(0, |p| p.available())
}

const QEMU: &str = "qemu-system-x86_64";

/// Whether QEMU 7.2 can be run here.
pub fn qemu_72() -> bool {
    Command::new(QEMU)
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("version 7.2"))
}

/// Run QEMU with `args` (stopped, no devices, TCG) and return the message
/// of the error it exits with (without the `qemu-system-x86_64: `
/// prefix), or `None` if it accepted the configuration (still running
/// after 5 s).
pub fn qemu_error(args: &[&str]) -> Option<String> {
    let mut child = Command::new(QEMU)
        .args(["-S", "-nodefaults", "-display", "none", "-accel", "tcg"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qemu");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            assert_eq!(status.code(), Some(1), "qemu {args:?}: {err}");
            let line = err.lines().next().unwrap_or("").to_owned();
            let msg = line
                .strip_prefix("qemu-system-x86_64: ")
                .unwrap_or(&line)
                .to_owned();
            return Some(msg);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
