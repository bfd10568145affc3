//! A qtest session on QEMU's stdin and stdout, and the fw_cfg reads the
//! tables corpus needs (QEMU builds its ACPI tables when it creates the
//! machine, so nothing has to boot: `-S`).
//!
//! fw_cfg: the feature bits (selector 0x01; bit 1 is the DMA interface,
//! which machine types before 2.5 lack), the file directory (selector
//! 0x19: a big-endian count, then entries of {u32 size, u16 select, u16
//! reserved, char name\[56\]}), then a file by its selector. With DMA a
//! big-endian `FWCfgDmaAccess` descriptor is written to guest RAM at
//! 0x1000, its address to the DMA register (high half at 0x514, then the
//! byte-swapped low half at 0x518, which starts the transfer) and the data
//! read back from guest RAM at 1 MiB; without DMA, byte by byte from the
//! data port 0x511.
//!
//! On Arm's `virt` fw_cfg is memory-mapped ([`VIRT_FW_CFG`]): the data
//! register at the base (read as a byte stream, up to 8 bytes an access),
//! the 16-bit selector at +8 and the 64-bit DMA address at +16, both
//! big-endian registers, so the harness writes their bytes in that order
//! with qtest's raw `write` rather than `writew`/`writeq` (which use the
//! guest's little-endian order); DMA scratch space is at the start of
//! RAM.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::qmp::{finish, Exit, Launch};
use crate::Error;

const FW_CFG_SELECTOR: u16 = 0x510;
const FW_CFG_DATA: u16 = 0x511;
const FW_CFG_DMA_HIGH: u16 = 0x514;
const FW_CFG_DMA_LOW: u16 = 0x518;
const FW_CFG_ID: u16 = 0x01;
const FW_CFG_FILE_DIR: u16 = 0x19;
const FW_CFG_DMA_CTL_READ: u32 = 0x02;
const FW_CFG_DMA_CTL_SELECT: u32 = 0x08;
/// Guest-physical scratch space for DMA (every case has RAM there).
const DMA_DESC: u64 = 0x1000;
const DMA_BUF: u64 = 0x10_0000;
/// The most a fw_cfg file may be here (a bound on what QEMU's answer can
/// make the harness allocate).
const MAX_FILE: usize = 64 << 20;

/// Where the guest's fw_cfg device is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FwCfgAt {
    /// x86 I/O ports 0x510 (selector), 0x511 (data), 0x514 (DMA); guest
    /// RAM from 0.
    Io,
    /// Memory-mapped registers at `base`; guest RAM from `ram`.
    Mmio {
        /// The data register's address.
        base: u64,
        /// Where guest RAM starts (for the DMA descriptor and buffer).
        ram: u64,
    },
}

/// fw_cfg on Arm's `virt` board: at 0x0902_0000, RAM from 1 GiB.
pub const VIRT_FW_CFG: FwCfgAt = FwCfgAt::Mmio {
    base: 0x0902_0000,
    ram: 0x4000_0000,
};

/// A qtest session (`-qtest stdio -qtest-log /dev/null`).
pub struct Qtest {
    fw: FwCfgAt,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    errors: Option<JoinHandle<Vec<u8>>>,
    deadline: Instant,
    timed_out: bool,
}

impl Qtest {
    /// Starts QEMU with qtest on stdio.
    pub fn start(launch: &Launch<'_>) -> Result<Qtest, Error> {
        let (mut child, errors) =
            launch.spawn(&["-qtest", "stdio", "-qtest-log", "/dev/null"], true)?;
        let (tx, rx) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Ok(Qtest {
            fw: FwCfgAt::Io,
            stdin: child.stdin.take(),
            child,
            lines: rx,
            errors: Some(errors),
            deadline: Instant::now() + launch.timeout,
            timed_out: false,
        })
    }

    /// The session with fw_cfg at `at` (x86's I/O ports unless said).
    pub fn with_fw_cfg(mut self, at: FwCfgAt) -> Qtest {
        self.fw = at;
        self
    }

    /// Sends one qtest command; the text after its `OK`.
    pub fn cmd(&mut self, text: &str) -> Result<String, Error> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| Error::new("QEMU exited"))?;
        stdin
            .write_all(format!("{text}\n").as_bytes())
            .and_then(|()| stdin.flush())
            .map_err(|_| Error::new("QEMU exited"))?;
        loop {
            let left = self.deadline.saturating_duration_since(Instant::now());
            let line = match self.lines.recv_timeout(left) {
                Ok(line) => line,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.timed_out = true;
                    return Err(Error::new("qtest timed out"));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return Err(Error::new("QEMU exited")),
            };
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("OK") {
                return Ok(rest.trim().to_string());
            }
            if line.starts_with("FAIL") || line.starts_with("ERR") {
                return Err(Error::new(format!("{text:?}: {line}")));
            }
            // Asynchronous lines (IRQ ...) are skipped.
        }
    }

    /// Kills QEMU (it never exits by itself under `-S`) and collects
    /// stderr.
    pub fn close(mut self) -> Exit {
        drop(self.stdin.take());
        let _ = self.child.kill();
        finish(
            &mut self.child,
            None,
            Instant::now() + Duration::from_secs(5),
            self.timed_out,
            self.errors.take(),
        )
    }

    fn select(&mut self, key: u16) -> Result<(), Error> {
        match self.fw {
            FwCfgAt::Io => self.cmd(&format!("outw {FW_CFG_SELECTOR:#x} {key:#x}")),
            FwCfgAt::Mmio { base, .. } => self.cmd(&format!("write {:#x} 2 0x{key:04x}", base + 8)),
        }
        .map(drop)
    }

    fn read_io(&mut self, n: usize) -> Result<Vec<u8>, Error> {
        if let FwCfgAt::Mmio { base, .. } = self.fw {
            let mut out = Vec::with_capacity(n);
            while out.len() < n {
                let k = (n - out.len()).min(8);
                out.extend(self.read_mem(base, k)?);
            }
            return Ok(out);
        }
        (0..n)
            .map(|_| {
                let v = self.cmd(&format!("inb {FW_CFG_DATA:#x}"))?;
                parse_hex_u64(&v)
                    .map(|b| (b & 0xff) as u8)
                    .ok_or_else(|| Error::new(format!("inb answered {v:?}")))
            })
            .collect()
    }

    fn read_mem(&mut self, addr: u64, n: usize) -> Result<Vec<u8>, Error> {
        let v = self.cmd(&format!("read {addr:#x} {n}"))?;
        let data = v
            .get(2..)
            .and_then(crate::corpus::unhex)
            .ok_or_else(|| Error::new(format!("read answered {v:?}")))?;
        if data.len() != n {
            return Err(Error::new("short read"));
        }
        Ok(data)
    }

    /// Whether fw_cfg has the DMA interface.
    pub fn has_dma(&mut self) -> Result<bool, Error> {
        self.select(FW_CFG_ID)?;
        let id = self.read_io(4)?;
        Ok(u32::from_le_bytes([id[0], id[1], id[2], id[3]]) & 2 != 0)
    }

    fn read_dma(&mut self, key: u16, n: usize) -> Result<Vec<u8>, Error> {
        let control = (u32::from(key) << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ;
        let mut desc = Vec::with_capacity(16);
        desc.extend(control.to_be_bytes());
        desc.extend((n as u32).to_be_bytes());
        let ram = match self.fw {
            FwCfgAt::Io => 0,
            FwCfgAt::Mmio { ram, .. } => ram,
        };
        let (desc_at, buf_at) = (ram + DMA_DESC, ram + DMA_BUF);
        desc.extend(buf_at.to_be_bytes());
        self.cmd(&format!(
            "write {desc_at:#x} {} 0x{}",
            desc.len(),
            crate::corpus::hex(&desc)
        ))?;
        match self.fw {
            FwCfgAt::Io => {
                self.cmd(&format!("outl {FW_CFG_DMA_HIGH:#x} 0x0"))?;
                let low = u32::from_le_bytes((desc_at as u32).to_be_bytes());
                self.cmd(&format!("outl {FW_CFG_DMA_LOW:#x} {low:#x}"))?;
            }
            FwCfgAt::Mmio { base, .. } => {
                self.cmd(&format!("write {:#x} 8 0x{desc_at:016x}", base + 16))?;
            }
        }
        let status = self.read_mem(desc_at, 4)?;
        if status != [0; 4] {
            return Err(Error::new(format!(
                "fw_cfg DMA failed: {}",
                crate::corpus::hex(&status)
            )));
        }
        self.read_mem(buf_at, n)
    }

    /// The fw_cfg file directory: `(name, size, selector)`.
    pub fn files(&mut self, dma: bool) -> Result<Vec<(String, usize, u16)>, Error> {
        let (count, raw) = if dma {
            let c = self.read_dma(FW_CFG_FILE_DIR, 4)?;
            let count = u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize;
            check_size(64 * count)?;
            let raw = self.read_dma(FW_CFG_FILE_DIR, 4 + 64 * count)?;
            (count, raw[4..].to_vec())
        } else {
            self.select(FW_CFG_FILE_DIR)?;
            let c = self.read_io(4)?;
            let count = u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize;
            check_size(64 * count)?;
            (count, self.read_io(64 * count)?)
        };
        Ok(raw
            .chunks_exact(64)
            .take(count)
            .map(|e| {
                let size = u32::from_be_bytes([e[0], e[1], e[2], e[3]]) as usize;
                let sel = u16::from_be_bytes([e[4], e[5]]);
                let name = e[8..].split(|b| *b == 0).next().unwrap_or(&[]);
                (String::from_utf8_lossy(name).into_owned(), size, sel)
            })
            .collect())
    }

    /// fw_cfg's `etc/acpi/tables` (without DMA, up to the end of the last
    /// table: the padding after it is not read).
    pub fn acpi_tables(&mut self) -> Result<Vec<u8>, Error> {
        self.acpi_tables_if_any()?
            .ok_or_else(|| Error::new("no etc/acpi/tables"))
    }

    /// [`Qtest::acpi_tables`], `None` when fw_cfg has no such file (ACPI
    /// off).
    pub fn acpi_tables_if_any(&mut self) -> Result<Option<Vec<u8>>, Error> {
        let dma = self.has_dma()?;
        let files = self.files(dma)?;
        let Some(&(_, size, sel)) = files.iter().find(|f| f.0 == "etc/acpi/tables") else {
            return Ok(None);
        };
        check_size(size)?;
        if dma {
            return self.read_dma(sel, size).map(Some);
        }
        self.select(sel)?;
        let mut blob = Vec::new();
        while blob.len() + 8 <= size {
            let head = self.read_io(8)?;
            blob.extend(&head);
            let length = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
            if head[..4] == [0; 4] || length < 8 || blob.len() - 8 + length > size {
                break;
            }
            let rest = self.read_io(length - 8)?;
            blob.extend(rest);
        }
        Ok(Some(blob))
    }
}

impl Drop for Qtest {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn check_size(n: usize) -> Result<(), Error> {
    if n > MAX_FILE {
        Err(Error::new(format!("fw_cfg file of {n} bytes")))
    } else {
        Ok(())
    }
}

fn parse_hex_u64(s: &str) -> Option<u64> {
    let s = s.trim();
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    u64::from_str_radix(digits, 16).ok()
}
