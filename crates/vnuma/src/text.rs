//! Text for people: a pasted command line split into arguments, and an
//! error rendered the way the `vnuma` command prints it (QEMU's line, a
//! caret line under the offending bytes, QEMU's hint).

use core::fmt;

use crate::Error;

/// A command line that cannot be split: an unterminated quote, or a
/// backslash at the very end.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot split the command line: unterminated quote or trailing backslash")]
#[non_exhaustive]
pub struct SplitError;

/// Split a command line as a POSIX shell would (quotes, backslashes,
/// backslash-newline continuations), with the `shlex` crate. No
/// expansion of variables, globs or `~`.
///
/// `shlex` turns a continuation that starts a word (`-m 2G \` at the
/// end of a line) into an empty word; such continuations are removed
/// first, which is what a shell does, except inside single quotes (where
/// a shell keeps them, and a pasted QEMU command line has none).
///
/// ```
/// let args = vnuma::split_command_line(
///     "-m 2G \\\n -object 'memory-backend-file,id=m0,size=2G,mem-path=/dev/hugepages' -numa \"node,memdev=m0\"",
/// )?;
/// assert_eq!(args, ["-m", "2G", "-object", "memory-backend-file,id=m0,size=2G,mem-path=/dev/hugepages", "-numa", "node,memdev=m0"]);
/// assert!(vnuma::split_command_line("-numa 'node").is_err());
/// # Ok::<(), vnuma::SplitError>(())
/// ```
pub fn split_command_line(line: &str) -> Result<Vec<String>, SplitError> {
    let joined = line
        .replace(" \\\r\n", " ")
        .replace("\t\\\r\n", " ")
        .replace(" \\\n", " ")
        .replace("\t\\\n", " ");
    shlex::split(&joined).ok_or(SplitError)
}

/// Split a pasted QEMU command line and drop the program name
/// (`qemu-system-x86_64`, `/usr/bin/qemu-kvm`, ...: a first word that is
/// not an option), giving what [`Vm::from_args`](crate::Vm::from_args)
/// takes.
///
/// ```
/// let args = vnuma::qemu_args_from_pasted("qemu-system-x86_64 -M q35 -m 1G")?;
/// assert_eq!(args, ["-M", "q35", "-m", "1G"]);
/// # Ok::<(), vnuma::SplitError>(())
/// ```
pub fn qemu_args_from_pasted(line: &str) -> Result<Vec<String>, SplitError> {
    let mut args = split_command_line(line)?;
    if args.first().is_some_and(|a| !a.starts_with('-')) {
        args.remove(0);
    }
    Ok(args)
}

/// The caret line under the offending bytes of an error's option
/// argument, for a message line that starts with `prefix` (such as
/// `"vnuma: "`) followed by QEMU's `{option} {argument}: ...`; `None`
/// when the error has no argument span. Widths count characters.
///
/// ```
/// let err = vnuma::Vm::from_args(["-numa", "node,nodeid=200"]).unwrap_err();
/// assert_eq!(err.display_qemu().to_string(), "-numa node,nodeid=200: Max number of NUMA nodes reached: 200");
/// assert_eq!(vnuma::caret_line(&err, "vnuma: ").as_deref(), Some("                  ^^^^^^^^^^"));
/// ```
pub fn caret_line(e: &Error, prefix: &str) -> Option<String> {
    let (loc, span) = (e.location()?, e.span()?);
    let arg = loc.arg()?;
    // prefix + option + " " puts the argument's first byte here.
    let indent = prefix.chars().count() + loc.option().chars().count() + 1;
    let before = arg.get(..span.start).map_or(0, |s| s.chars().count());
    let width = arg
        .get(span.range())
        .map_or(1, |s| s.chars().count().max(1));
    Some(format!(
        "{}{}",
        " ".repeat(indent + before),
        "^".repeat(width)
    ))
}

/// An error as the `vnuma` command prints it, every line ending in `\n`:
/// `{program}: {location}: {message}`, the caret line, QEMU's hint.
///
/// ```
/// let err = vnuma::Vm::from_args(["-m", "1G", "-numa", "node,mem=1G,cpus=x"]).unwrap_err();
/// let text = vnuma::render_error(&err, "vnuma").to_string();
/// assert!(text.starts_with("vnuma: -numa node,mem=1G,cpus=x: "), "{text}");
/// assert!(text.lines().nth(1).unwrap().trim_start().starts_with('^'), "{text}");
/// ```
pub fn render_error<'a>(e: &'a Error, program: &'a str) -> impl fmt::Display + 'a {
    RenderError { e, program }
}

struct RenderError<'a> {
    e: &'a Error,
    program: &'a str,
}

impl fmt::Display for RenderError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = format!("{}: ", self.program);
        writeln!(f, "{prefix}{}", self.e.display_qemu())?;
        if let Some(caret) = caret_line(self.e, &prefix) {
            writeln!(f, "{caret}")?;
        }
        if let Some(hint) = self.e.hint() {
            writeln!(f, "{hint}")?;
        }
        Ok(())
    }
}
