//! The `lcc` command line. This file only declares the interface (clap derive) and dispatches;
//! each subcommand lives in its own module.

// The root package does not inherit `[workspace.lints]`; keep the same bar here.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod agent;
mod check;
mod cli;
mod explain;
mod fmt;
mod input;
mod json;
mod lsp;
mod output;
#[cfg(feature = "png")]
mod raster;
mod run;
mod simulate;
mod verify;
mod viz;

use clap::Parser;
use cli::{Cli, Command};
use std::process::ExitCode;

/// Stack for the thread that does the work. The tree walks recurse once per nesting level and
/// per chained operator; the parser bounds both (E0013), and this stack holds the deepest tree
/// the parser accepts. Only the pages actually touched are committed.
const STACK_BYTES: usize = 1 << 30;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let worker = std::thread::Builder::new().name("lcc".into()).stack_size(STACK_BYTES).spawn(move || {
        match cli.command {
            Command::Check(args) => check::run(&args),
            Command::Fmt(args) => fmt::run(&args),
            Command::Verify(args) => verify::run(&args),
            Command::Viz(args) => viz::run(&args),
            Command::Lsp(args) => lsp::run(&args),
            Command::Run(args) => run::run(&args),
            Command::Simulate(args) => simulate::run(&args),
            Command::Agent(args) => agent::run(&args),
        }
    });
    match worker.map(|handle| handle.join()) {
        Ok(Ok(status)) => status.into(),
        Ok(Err(_)) => ExitCode::from(101),
        Err(err) => {
            eprintln!("lcc: cannot start a worker thread: {err}");
            ExitCode::from(2)
        }
    }
}
