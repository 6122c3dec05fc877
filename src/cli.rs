//! The command-line interface: every subcommand, flag and its help text.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// lcc is a toolchain for the Lightweight Coordination Calculus (LCC), the language of
/// interaction models in which peers play roles and coordinate by passing messages. It reads
/// the union of the published LCC dialects (OpenKnowledge kernel, LiJ, WebLCC/OKeilidh, xlcc),
/// reports syntax errors and dialect differences as diagnostics with stable codes (see
/// `lcc check --explain`), and rewrites models in one canonical layout.
#[derive(Debug, Parser)]
#[command(name = "lcc", version, verbatim_doc_comment)]
#[command(propagate_version = true, subcommand_required = true, arg_required_else_help = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Check(CheckArgs),
    Fmt(FmtArgs),
}

/// Parse LCC files and report every diagnostic.
///
/// Human output renders each diagnostic with the source around it on stderr (in colour on a
/// terminal, unless NO_COLOR is set) and ends with a summary line. JSON output is one document
/// on stdout: {"files", "errors", "warnings", "diagnostics": [...]}, with 1-based lines and
/// columns.
///
/// Exit status: 0 when no file has an error, 1 when any has (or has a warning, with
/// `--deny warnings`), 2 on a usage error or a file that cannot be read (the other files are
/// still checked).
#[derive(Debug, Args)]
#[command(verbatim_doc_comment, about = "Parse LCC files and report every diagnostic")]
#[command(
    after_help = "Examples:\n  lcc check model.lcc\n  lcc check --format json *.lcc\n  lcc check --explain E0001\n"
)]
pub struct CheckArgs {
    /// Report for people (`human`, on stderr) or for tools (`json`, on stdout)
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Format::Human)]
    pub format: Format,

    /// `--deny warnings`: fail (exit status 1) on warnings too
    #[arg(long, value_enum, value_name = "LINTS")]
    pub deny: Vec<Deny>,

    /// Explain a diagnostic code instead of checking files
    ///
    /// CODE is an id such as `E0001` or a name such as `unexpected-token`.
    /// Without CODE, list every code.
    #[arg(long, value_name = "CODE", conflicts_with_all = ["files", "format", "deny"])]
    #[arg(verbatim_doc_comment)]
    pub explain: Option<Option<String>>,

    /// The LCC files to check; `-` reads standard input
    #[arg(value_name = "FILE", required_unless_present = "explain")]
    pub files: Vec<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Diagnostics with source excerpts and a summary line, on stderr
    Human,
    /// One JSON document with every diagnostic, on stdout
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Deny {
    /// Any warning makes the check fail
    Warnings,
}

/// Rewrite LCC files in the canonical layout.
///
/// A file is rewritten in place only when its layout changes, through a temporary file in the
/// same directory that is renamed over the original, so nothing is lost on failure; each
/// rewritten file is named on stderr (`Reformatted: FILE`). A file with syntax errors is left
/// untouched and its errors are reported.
///
/// Exit status: 0 on success, 1 when a file has syntax errors (or, with `--check`, would be
/// reformatted), 2 on a usage error or a file that cannot be read or written.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment, about = "Rewrite LCC files in the canonical layout")]
#[command(
    after_help = "Examples:\n  lcc fmt model.lcc\n  lcc fmt --check models/*.lcc\n  lcc fmt - < model.lcc > formatted.lcc\n"
)]
pub struct FmtArgs {
    /// Change nothing; list the files that would change and fail if there is any
    ///
    /// Prints `Would reformat: FILE` on stdout for each file whose layout would change, and
    /// exits with status 1 if there is any.
    #[arg(long, verbatim_doc_comment)]
    pub check: bool,

    /// The LCC files to format; `-` formats standard input to standard output
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
