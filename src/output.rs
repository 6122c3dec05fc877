//! What every subcommand shares about its output: the exit status, when to use colour, and
//! the wording of counts and top-level error messages.

use std::fmt::Display;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

/// The outcome of a subcommand, ordered from best to worst so that `max` combines them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Exit 0: nothing wrong.
    #[default]
    Success,
    /// Exit 3: no violation found, but the answer is not complete (`lcc verify` hit a bound).
    Inconclusive,
    /// Exit 1: the input has problems (errors, denied warnings, files that need formatting).
    Failure,
    /// Exit 2: lcc could not do its job (usage, unreadable or unwritable files).
    Trouble,
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> ExitCode {
        match status {
            Status::Success => ExitCode::SUCCESS,
            Status::Inconclusive => ExitCode::from(3),
            Status::Failure => ExitCode::from(1),
            Status::Trouble => ExitCode::from(2),
        }
    }
}

/// Colour on stderr: only on a terminal, and never when `NO_COLOR` is set to a non-empty value
/// (<https://no-color.org>).
pub fn stderr_color() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stderr().is_terminal()
}

/// Prints `lcc: MESSAGE` to stderr (the form of every top-level error).
pub fn complain(message: impl Display) {
    write_stderr(&format!("lcc: {message}\n"));
}

/// Writes to stderr in one piece. A failure to write there cannot be reported anywhere, so it
/// is ignored (unlike `eprintln!`, which panics on a closed pipe).
pub fn write_stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Writes to stdout and flushes. The caller turns a failure (such as a closed pipe) into
/// [`Status::Trouble`] with [`stdout_failed`] instead of panicking as `println!` would.
pub fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Reports a failed write to stdout.
pub fn stdout_failed(err: &std::io::Error) -> Status {
    complain(format_args!("cannot write to standard output: {err}"));
    Status::Trouble
}

/// `1 error`, `2 errors`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 { format!("{n} {noun}") } else { format!("{n} {noun}s") }
}

/// The severity word that starts a summary line, in bold colour when asked.
pub fn level(word: &str, color: bool) -> String {
    if !color {
        return word.to_string();
    }
    let code = if word == "error" { "1;31" } else { "1;33" };
    format!("\x1b[{code}m{word}\x1b[0m")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_combine_to_the_worst() {
        assert_eq!(Status::Success.max(Status::Failure), Status::Failure);
        assert_eq!(Status::Trouble.max(Status::Failure), Status::Trouble);
        assert_eq!(count(1, "file"), "1 file");
        assert_eq!(count(0, "warning"), "0 warnings");
        assert_eq!(level("error", false), "error");
    }
}
