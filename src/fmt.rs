//! `lcc fmt`: rewrite files in the canonical layout of `lcc_syntax::format`, or with `--check`
//! only report which files would change.

use crate::cli::FmtArgs;
use crate::input::{self, Source};
use crate::output::{self, Status, complain, stdout_failed, write_stderr, write_stdout};
use lcc_syntax::format::format_source;
use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::Path;

pub fn run(args: &FmtArgs) -> Status {
    let color = output::stderr_color();
    args.files.iter().map(|path| format_one(path, args.check, color)).fold(Status::Success, Status::max)
}

fn format_one(path: &Path, check: bool, color: bool) -> Status {
    let source = match input::read_source(path) {
        Ok(source) => source,
        Err(err) => {
            complain(err);
            return Status::Trouble;
        }
    };
    let formatted = match format_source(&source.text) {
        Ok(formatted) => formatted,
        Err(diagnostics) => return refuse(&source, &diagnostics, color),
    };
    let changed = formatted != source.text;
    if check {
        if !changed {
            return Status::Success;
        }
        return match write_stdout(&format!("Would reformat: {}\n", source.name)) {
            Ok(()) => Status::Failure,
            Err(err) => stdout_failed(&err),
        };
    }
    if input::is_stdin(path) {
        return match write_stdout(&formatted) {
            Ok(()) => Status::Success,
            Err(err) => stdout_failed(&err),
        };
    }
    if !changed {
        return Status::Success;
    }
    match replace_file(path, &formatted) {
        Ok(()) => {
            write_stderr(&format!("Reformatted: {}\n", source.name));
            Status::Success
        }
        Err(err) => {
            complain(format_args!("cannot write {}: {}", source.name, input::io_reason(&err)));
            Status::Trouble
        }
    }
}

/// A file with syntax errors is not formatted: report why and leave it alone.
fn refuse(source: &Source, diagnostics: &[lcc_syntax::Diagnostic], color: bool) -> Status {
    for d in diagnostics {
        let mut rendered = Vec::new();
        let _ = d.render(&source.name, &source.text, color, &mut rendered);
        write_stderr(&String::from_utf8_lossy(&rendered));
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    complain(format_args!(
        "{} not formatted: it has {}",
        source.name,
        output::count(errors.max(1), "syntax error")
    ));
    Status::Failure
}

/// Replaces the contents of `path` without ever leaving it half-written: the new text goes to
/// a temporary file next to the target, which is then renamed over it. A symbolic link is
/// followed, so the link keeps pointing at the (now formatted) file; permissions are kept.
fn replace_file(path: &Path, text: &str) -> std::io::Result<()> {
    let target = fs::canonicalize(path)?;
    let permissions = fs::metadata(&target)?.permissions();
    let dir = target.parent().unwrap_or_else(|| Path::new("."));
    let base = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    for attempt in 0..100u32 {
        let temp = dir.join(format!(".{base}.lcc-fmt-{}-{attempt}.tmp", std::process::id()));
        let mut file = match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(file) => file,
            Err(err) if err.kind() == ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        };
        let written = file
            .write_all(text.as_bytes())
            .and_then(|()| file.set_permissions(permissions.clone()))
            .and_then(|()| file.sync_all());
        drop(file);
        let result = written.and_then(|()| fs::rename(&temp, &target));
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        return result;
    }
    Err(std::io::Error::new(ErrorKind::AlreadyExists, "no free temporary file name next to it"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_file_keeps_no_temporary_and_follows_links() {
        let dir = std::env::temp_dir().join(format!("lcc-fmt-unit-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        assert!(fs::create_dir_all(&dir).is_ok());
        let file = dir.join("m.lcc");
        assert!(fs::write(&file, "old").is_ok());
        assert!(replace_file(&file, "new").is_ok());
        assert_eq!(fs::read_to_string(&file).ok().as_deref(), Some("new"));
        #[cfg(unix)]
        {
            let link = dir.join("link.lcc");
            assert!(std::os::unix::fs::symlink(&file, &link).is_ok());
            assert!(replace_file(&link, "newer").is_ok());
            assert!(fs::symlink_metadata(&link).is_ok_and(|m| m.file_type().is_symlink()));
            assert_eq!(fs::read_to_string(&file).ok().as_deref(), Some("newer"));
        }
        let names: Vec<_> = fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
        let _ = fs::remove_dir_all(&dir);
    }
}
