//! Helpers shared by the test files of lcc-syntax.

#![allow(dead_code)]

pub mod rng;

use lcc_syntax::Diagnostic;
use lcc_syntax::diagnostic::LineIndex;

/// Where the shared corpus is, relative to this crate (beside the repository).
pub const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");

/// `CODE line:col message`, one diagnostic a line: the compact form for assertions.
pub fn compact(diags: &[Diagnostic], source: &str) -> String {
    let index = LineIndex::new(source);
    diags
        .iter()
        .map(|d| {
            let (line, col) = index.line_col(source, d.span.start);
            format!("{} {line}:{col} {}\n", d.code.id, d.message)
        })
        .collect()
}
