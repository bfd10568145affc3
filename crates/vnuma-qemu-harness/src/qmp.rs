//! A QMP client: QEMU started with `-S -nodefaults -display none`, an
//! accelerator, the case's arguments and a QMP server on a unix socket in
//! the temporary directory (removed again however the session ends).

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::json::{Json, Style};
use crate::Error;

/// QEMU's binary, as the corpora name it.
pub const QEMU: &str = "qemu-system-x86_64";

/// QEMU's Arm binary, as the virt corpus names it.
pub const QEMU_AARCH64: &str = "qemu-system-aarch64";

/// The placeholder the virt corpus writes for the firmware image
/// (`-bios @EFI@`); [`Launch::argv`] puts [`Launch::firmware`] there.
pub const EFI_PLACEHOLDER: &str = "@EFI@";

/// The arguments every session starts with, before the accelerator.
pub const BASE_ARGS: [&str; 4] = ["-S", "-nodefaults", "-display", "none"];

/// How to start QEMU.
#[derive(Clone, Debug)]
pub struct Launch<'a> {
    /// The binary (default [`QEMU`]).
    pub qemu: &'a str,
    /// `-accel` (`tcg`, `kvm`).
    pub accel: &'a str,
    /// The arguments after the harness's own.
    pub args: &'a [String],
    /// The limit of the whole session, from the start to the exit.
    pub timeout: Duration,
    /// The file put in place of [`EFI_PLACEHOLDER`] in the arguments.
    pub firmware: Option<&'a str>,
}

impl<'a> Launch<'a> {
    /// [`QEMU`] under TCG with `args` and a 20 s limit (the corpora's).
    pub fn new(args: &'a [String]) -> Launch<'a> {
        Launch {
            qemu: QEMU,
            accel: "tcg",
            args,
            timeout: Duration::from_secs(20),
            firmware: None,
        }
    }

    /// QEMU's arguments with the harness's own (`extra` after the
    /// accelerator, before the case's).
    pub fn argv(&self, extra: &[&str]) -> Vec<String> {
        BASE_ARGS
            .iter()
            .chain(&["-accel", self.accel])
            .chain(extra)
            .map(|s| s.to_string())
            .chain(self.args.iter().map(|a| match self.firmware {
                Some(f) if a.contains(EFI_PLACEHOLDER) => a.replace(EFI_PLACEHOLDER, f),
                _ => a.clone(),
            }))
            .collect()
    }

    /// The program name QEMU puts before its messages.
    pub fn program_name(&self) -> String {
        std::path::Path::new(self.qemu)
            .file_name()
            .map_or(self.qemu.into(), |n| n.to_string_lossy().into_owned())
    }

    /// Spawns QEMU with `extra` arguments; stdout and stdin unused,
    /// stderr collected in the background.
    pub(crate) fn spawn(
        &self,
        extra: &[&str],
        stdio: bool,
    ) -> Result<(Child, JoinHandle<Vec<u8>>), Error> {
        let pipe = || if stdio { Stdio::piped() } else { Stdio::null() };
        let mut child = Command::new(self.qemu)
            .args(self.argv(extra))
            .env("LC_ALL", "C")
            .env("LANG", "C")
            .current_dir(std::env::temp_dir())
            .stdin(pipe())
            .stdout(pipe())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::new(format!("cannot run {}: {e}", self.qemu)))?;
        let mut stderr = child.stderr.take();
        let errors = std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(s) = stderr.as_mut() {
                let _ = s.read_to_end(&mut buf);
            }
            buf
        });
        Ok((child, errors))
    }
}

/// The UEFI image of Debian's `qemu-efi-aarch64` package (`QEMU_EFI.fd`)
/// that the virt corpus's memory-hotplug cases boot with: the file named
/// by `VNUMA_EFI_AARCH64`, else the one `dpkg -L qemu-efi-aarch64` lists.
pub fn efi_aarch64() -> Option<String> {
    if let Ok(p) = std::env::var("VNUMA_EFI_AARCH64") {
        return Some(p);
    }
    let out = Command::new("dpkg")
        .args(["-L", "qemu-efi-aarch64"])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.ends_with("/QEMU_EFI.fd"))
        .map(String::from)
}

/// How QEMU ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exit {
    /// The exit status, minus the signal's number when killed, -1 when
    /// the session timed out.
    pub status: i64,
    /// All of stderr (with `\n<timeout>` after it when timed out).
    pub stderr: String,
    /// The session ran out of time (QEMU was killed).
    pub timed_out: bool,
}

/// Why a QMP command has no `return`.
#[derive(Clone, Debug, PartialEq)]
pub enum QmpError {
    /// QEMU answered with an `error`.
    Error(Json),
    /// QEMU closed the connection (or never opened it).
    Closed,
    /// The session's time ran out.
    Timeout,
}

impl std::fmt::Display for QmpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QmpError::Error(e) => write!(f, "QMP error {e}"),
            QmpError::Closed => f.write_str("QEMU closed QMP"),
            QmpError::Timeout => f.write_str("QMP timed out"),
        }
    }
}

impl std::error::Error for QmpError {}

/// Removes the socket file when the session ends.
struct SocketFile(PathBuf);

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A QMP session with one QEMU process.
pub struct Qmp {
    child: Child,
    status: Option<std::process::ExitStatus>,
    errors: Option<JoinHandle<Vec<u8>>>,
    reader: Option<BufReader<UnixStream>>,
    writer: Option<UnixStream>,
    pending: Vec<u8>,
    deadline: Instant,
    timed_out: bool,
    counter: u32,
    socket: SocketFile,
}

fn socket_path() -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("vnuma-qmp-{}-{n}.sock", std::process::id()))
}

impl Qmp {
    /// Starts QEMU; the QMP connection is made by [`Qmp::greeting`].
    pub fn start(launch: &Launch<'_>) -> Result<Qmp, Error> {
        let deadline = Instant::now() + launch.timeout;
        let socket = SocketFile(socket_path());
        let _ = std::fs::remove_file(&socket.0);
        let chardev = format!("unix:{},server=on,wait=off", socket.0.display());
        let (child, errors) = launch.spawn(&["-qmp", &chardev], false)?;
        Ok(Qmp {
            child,
            status: None,
            errors: Some(errors),
            reader: None,
            writer: None,
            pending: Vec::new(),
            deadline,
            timed_out: false,
            counter: 0,
            socket,
        })
    }

    /// The QMP socket's path (removed when the session ends).
    pub fn socket_path(&self) -> &std::path::Path {
        &self.socket.0
    }

    /// Whether QEMU has exited (reaping it if so).
    fn exited(&mut self) -> bool {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status.is_some()
    }

    /// Connects to the socket once QEMU made it; false when QEMU exited
    /// first or time ran out.
    fn connect(&mut self) -> bool {
        loop {
            if let Ok(stream) = UnixStream::connect(&self.socket.0) {
                let Ok(w) = stream.try_clone() else {
                    return false;
                };
                self.reader = Some(BufReader::new(stream));
                self.writer = Some(w);
                return true;
            }
            if self.exited() {
                return false;
            }
            if Instant::now() >= self.deadline {
                self.timed_out = true;
                return false;
            }
            std::thread::sleep(Duration::from_micros(500));
        }
    }

    /// The next JSON object QEMU sends.
    fn next_msg(&mut self) -> Result<Json, QmpError> {
        loop {
            let Some(reader) = self.reader.as_mut() else {
                return Err(QmpError::Closed);
            };
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                self.timed_out = true;
                return Err(QmpError::Timeout);
            }
            let _ = reader.get_ref().set_read_timeout(Some(left));
            match reader.read_until(b'\n', &mut self.pending) {
                Ok(0) => {
                    self.reader = None;
                    return Err(QmpError::Closed);
                }
                Ok(_) if self.pending.ends_with(b"\n") => {
                    let line = String::from_utf8_lossy(&self.pending).into_owned();
                    self.pending.clear();
                    if let Ok(msg @ Json::Obj(_)) = Json::parse(line.trim()) {
                        return Ok(msg);
                    }
                }
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.reader = None;
                    return Err(QmpError::Closed);
                }
            }
        }
    }

    /// Connects and waits for QMP's greeting; false when QEMU exited (it
    /// rejected the configuration) or time ran out first.
    pub fn greeting(&mut self) -> bool {
        if self.reader.is_none() && !self.connect() {
            return false;
        }
        loop {
            match self.next_msg() {
                Ok(msg) if msg.has("QMP") => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    }

    /// The greeting and `qmp_capabilities`.
    pub fn handshake(&mut self) -> Result<(), QmpError> {
        if !self.greeting() {
            return Err(if self.timed_out {
                QmpError::Timeout
            } else {
                QmpError::Closed
            });
        }
        self.execute("qmp_capabilities", None).map(drop)
    }

    /// Sends one command (with an `id`) and returns its reply, the whole
    /// message with `return` or `error`; events are skipped.
    pub fn command(&mut self, execute: &str, arguments: Option<Json>) -> Result<Json, QmpError> {
        self.counter += 1;
        let id = format!("c{}", self.counter);
        let mut req = vec![("execute", Json::str(execute)), ("id", Json::str(&id))];
        if let Some(a) = arguments {
            req.push(("arguments", a));
        }
        let line = Json::obj(req).dumps(Style::default()) + "\n";
        let writer = self.writer.as_mut().ok_or(QmpError::Closed)?;
        if writer
            .write_all(line.as_bytes())
            .and_then(|()| writer.flush())
            .is_err()
        {
            return Err(QmpError::Closed);
        }
        loop {
            let msg = self.next_msg()?;
            if msg.get("id").and_then(Json::as_str) == Some(id.as_str()) {
                return Ok(msg);
            }
        }
    }

    /// Sends one command and returns its `return` value.
    pub fn execute(&mut self, execute: &str, arguments: Option<Json>) -> Result<Json, QmpError> {
        let reply = self.command(execute, arguments)?;
        match reply.get("return") {
            Some(r) => Ok(r.clone()),
            None => Err(QmpError::Error(
                reply.get("error").cloned().unwrap_or(Json::Null),
            )),
        }
    }

    /// `human-monitor-command`: the HMP command's output.
    pub fn human_monitor_command(&mut self, command_line: &str) -> Result<Json, QmpError> {
        let args = Json::obj(vec![("command-line", Json::str(command_line))]);
        self.execute("human-monitor-command", Some(args))
    }

    /// `qom-get` of `property` on `path`.
    pub fn qom_get(&mut self, path: Json, property: &str) -> Result<Json, QmpError> {
        let args = Json::obj(vec![("path", path), ("property", Json::str(property))]);
        self.execute("qom-get", Some(args))
    }

    /// `quit`: true when QEMU answered it.
    pub fn quit(&mut self) -> bool {
        self.command("quit", None).is_ok()
    }

    /// Closes the connection and waits for QEMU to exit (killing it when
    /// the session's time has run out).
    pub fn finish(mut self) -> Exit {
        self.reader = None;
        self.writer = None;
        let until = Instant::now()
            + self
                .deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(100));
        finish(
            &mut self.child,
            self.status.take(),
            until,
            self.timed_out,
            self.errors.take(),
        )
    }
}

impl Drop for Qmp {
    fn drop(&mut self) {
        if self.status.is_none() && matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits for `child` until `until` (killing it then), and collects
/// stderr.
pub(crate) fn finish(
    child: &mut Child,
    status: Option<std::process::ExitStatus>,
    until: Instant,
    mut timed_out: bool,
    errors: Option<JoinHandle<Vec<u8>>>,
) -> Exit {
    let mut status = status;
    let code = loop {
        if let Some(s) = status {
            break s
                .code()
                .map_or_else(|| -i64::from(s.signal().unwrap_or(0)), i64::from);
        }
        match child.try_wait() {
            Ok(Some(s)) => status = Some(s),
            Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_micros(500)),
            _ => {
                timed_out = true;
                let _ = child.kill();
                let _ = child.wait();
                break -1;
            }
        }
    };
    let err = errors.and_then(|h| h.join().ok()).unwrap_or_default();
    let mut stderr = String::from_utf8_lossy(&err).into_owned();
    if timed_out {
        stderr.push_str("\n<timeout>");
    }
    Exit {
        status: if timed_out { -1 } else { code },
        stderr,
        timed_out,
    }
}

/// `qemu --version`'s first line, or `None` when it cannot be run.
pub fn qemu_version(qemu: &str) -> Option<String> {
    let out = Command::new(qemu).arg("--version").output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string(),
    )
}
