//! `lcc lsp`: the language server of `lcc-lsp` on stdin/stdout.

use crate::cli::LspArgs;
use crate::output::{Status, complain};

pub fn run(_args: &LspArgs) -> Status {
    match lcc_lsp::run_stdio() {
        Ok(()) => Status::Success,
        Err(err) => {
            complain(format_args!("the language server could not start: {err}"));
            Status::Trouble
        }
    }
}
