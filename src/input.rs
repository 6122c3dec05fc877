//! Reading the source files named on the command line (or standard input for `-`).

use std::io::{ErrorKind, Read};
use std::path::Path;

/// A source read into memory.
pub struct Source {
    /// How the file is named in messages: the path as given, or `<stdin>`.
    pub name: String,
    pub text: String,
}

/// Why a file could not be read, already phrased for `lcc: cannot read FILE: REASON`.
pub struct ReadError {
    pub name: String,
    pub reason: String,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot read {}: {}", self.name, self.reason)
    }
}

pub const STDIN_NAME: &str = "<stdin>";

pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The name of a path in messages.
pub fn display_name(path: &Path) -> String {
    if is_stdin(path) { STDIN_NAME.to_string() } else { path.display().to_string() }
}

/// Reads a file (or stdin for `-`) as UTF-8 text. Never panics, whatever the bytes.
pub fn read_source(path: &Path) -> Result<Source, ReadError> {
    let name = display_name(path);
    let bytes = if is_stdin(path) {
        let mut buf = Vec::new();
        std::io::stdin().lock().read_to_end(&mut buf).map(|_| buf)
    } else if path.is_dir() {
        return Err(ReadError { name, reason: "it is a directory".to_string() });
    } else {
        std::fs::read(path)
    };
    let bytes = bytes.map_err(|err| ReadError { name: name.clone(), reason: io_reason(&err) })?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Source { name, text }),
        Err(err) => {
            let offset = err.utf8_error().valid_up_to();
            Err(ReadError {
                name,
                reason: format!("it is not valid UTF-8 (invalid byte at offset {offset})"),
            })
        }
    }
}

/// An I/O error as a short reason, without the `(os error N)` suffix for the common cases.
pub fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        ErrorKind::NotFound => "no such file or directory".to_string(),
        ErrorKind::PermissionDenied => "permission denied".to_string(),
        ErrorKind::IsADirectory => "it is a directory".to_string(),
        _ => err.to_string(),
    }
}

/// Renders the errors among `diagnostics` on stderr and says why `source` cannot be used for
/// `purpose` ("verified", "drawn", "run"): errors from `lcc check` block every later stage,
/// since the meaning of a broken model is not defined.
pub fn refuse_errors(
    source: &Source,
    diagnostics: &[lcc_syntax::Diagnostic],
    purpose: &str,
) -> Result<(), String> {
    let errors: Vec<_> = diagnostics.iter().filter(|d| d.is_error()).collect();
    if errors.is_empty() {
        return Ok(());
    }
    let color = crate::output::stderr_color();
    for d in &errors {
        let mut rendered = Vec::new();
        let _ = d.render(&source.name, &source.text, color, &mut rendered);
        crate::output::write_stderr(&String::from_utf8_lossy(&rendered));
    }
    Err(format!(
        "{} cannot be {purpose}: fix the {} first (`lcc check {}`)",
        source.name,
        crate::output::count(errors.len(), "error"),
        source.name
    ))
}
