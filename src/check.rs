//! `lcc check`: parse and check files (syntax, resolution, lints) and report their diagnostics, for people (ariadne on stderr plus a
//! summary line) or for tools (one JSON document on stdout).

use crate::cli::{CheckArgs, Deny, Format};
use crate::input;
use crate::json;
use crate::output::{self, Status, complain, count, level, stdout_failed, write_stderr, write_stdout};
use lcc_syntax::Severity;

/// What has been seen so far across all files.
#[derive(Default)]
struct Tally {
    /// Files read and parsed.
    files: usize,
    /// Files that could not be read.
    unreadable: usize,
    errors: usize,
    warnings: usize,
}

pub fn run(args: &CheckArgs) -> Status {
    if let Some(code) = &args.explain {
        return crate::explain::run(code.as_deref());
    }
    let deny_warnings = args.deny.contains(&Deny::Warnings);
    let color = output::stderr_color();
    let mut tally = Tally::default();
    let mut json_diagnostics = Vec::new();
    let db = lcc_check::Database::default();

    for path in &args.files {
        let source = match input::read_source(path) {
            Ok(source) => source,
            Err(err) => {
                complain(err);
                tally.unreadable += 1;
                continue;
            }
        };
        let file = lcc_check::SourceFile::new(&db, source.name.clone(), source.text.clone());
        let diagnostics = lcc_check::diagnostics(&db, file);
        tally.files += 1;
        let positions = json::Positions::new(&source.text);
        for d in diagnostics {
            match d.severity {
                Severity::Error => tally.errors += 1,
                Severity::Warning => tally.warnings += 1,
            }
            match args.format {
                Format::Human => {
                    // Rendered whole, then written at once: stderr is unbuffered.
                    let mut rendered = Vec::new();
                    let _ = d.render(&source.name, &source.text, color, &mut rendered);
                    write_stderr(&String::from_utf8_lossy(&rendered));
                }
                Format::Json => json_diagnostics.push(json::diagnostic(&source.name, &positions, d)),
            }
        }
    }

    let mut status = if tally.errors > 0 || (deny_warnings && tally.warnings > 0) {
        Status::Failure
    } else {
        Status::Success
    };
    if tally.unreadable > 0 {
        status = Status::Trouble;
    }
    match args.format {
        Format::Human => write_stderr(&summary(&tally, deny_warnings, color)),
        Format::Json => {
            let document = json::document(tally.files, tally.errors, tally.warnings, json_diagnostics);
            let text = format!("{document:#}\n");
            if let Err(err) = write_stdout(&text) {
                status = stdout_failed(&err);
            }
        }
    }
    status
}

/// The closing lines of the human report, such as `error: 2 errors, 1 warning in 3 files`.
fn summary(tally: &Tally, deny_warnings: bool, color: bool) -> String {
    let mut out = String::new();
    let files = count(tally.files, "file");
    let mut problems = Vec::new();
    if tally.errors > 0 {
        problems.push(count(tally.errors, "error"));
    }
    if tally.warnings > 0 {
        problems.push(count(tally.warnings, "warning"));
    }
    let problems = problems.join(", ");
    if tally.errors > 0 {
        out.push_str(&format!("{}: {problems} in {files}\n", level("error", color)));
    } else if tally.warnings > 0 && deny_warnings {
        out.push_str(&format!("{}: {problems} in {files} (warnings denied)\n", level("error", color)));
    } else if tally.warnings > 0 {
        out.push_str(&format!("{}: {problems} in {files}\n", level("warning", color)));
    } else if tally.files > 0 || tally.unreadable == 0 {
        out.push_str(&format!("checked {files}: no problems\n"));
    }
    if tally.unreadable > 0 {
        let total = tally.files + tally.unreadable;
        out.push_str(&format!(
            "{}: {} of {} could not be read\n",
            level("error", color),
            tally.unreadable,
            count(total, "file")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(files: usize, unreadable: usize, errors: usize, warnings: usize) -> Tally {
        Tally { files, unreadable, errors, warnings }
    }

    #[test]
    fn summaries() {
        assert_eq!(summary(&tally(3, 0, 2, 1), false, false), "error: 2 errors, 1 warning in 3 files\n");
        assert_eq!(summary(&tally(1, 0, 1, 0), false, false), "error: 1 error in 1 file\n");
        assert_eq!(summary(&tally(3, 0, 0, 0), false, false), "checked 3 files: no problems\n");
        assert_eq!(summary(&tally(2, 0, 0, 2), false, false), "warning: 2 warnings in 2 files\n");
        assert_eq!(
            summary(&tally(2, 0, 0, 1), true, false),
            "error: 1 warning in 2 files (warnings denied)\n"
        );
        assert_eq!(
            summary(&tally(1, 1, 0, 0), false, false),
            "checked 1 file: no problems\nerror: 1 of 2 files could not be read\n"
        );
        assert_eq!(summary(&tally(0, 1, 0, 0), false, false), "error: 1 of 1 file could not be read\n");
        assert!(summary(&tally(1, 0, 1, 0), false, true).starts_with("\x1b[1;31merror\x1b[0m:"));
    }
}
