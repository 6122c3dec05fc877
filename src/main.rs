//! The `lcc` command line. This file only declares the interface (clap derive) and dispatches;
//! each subcommand lives in its own module.

// The root package does not inherit `[workspace.lints]`; keep the same bar here.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod check;
mod cli;
mod explain;
mod fmt;
mod input;
mod json;
mod output;

use clap::Parser;
use cli::{Cli, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let status = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Fmt(args) => fmt::run(&args),
    };
    status.into()
}
