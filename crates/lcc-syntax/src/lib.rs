//! `lcc-syntax`: the front end of lcc. An IO-free library: source text in, AST and diagnostics
//! out. It depends on no salsa and no LSP crate (see ARCHITECTURE.md).
//!
//! - [`lexer`]: the logos lexer;
//! - [`parser::parse`]: the never-failing parser facade over the lalrpop grammar in
//!   `grammar/lcc.lalrpop`;
//! - [`ast`]: the tree, every node with its byte span;
//! - [`diagnostic`] and [`codes`]: the one diagnostic type of the toolchain and its codes;
//! - [`format`]: the canonical formatter behind `lcc fmt`;
//! - [`sexpr`]: a compact S-expression view of the AST, for snapshots and equality tests.

pub mod ast;
pub mod codes;
pub mod diagnostic;
pub mod format;
pub mod lexer;
pub mod parser;
pub mod sexpr;

pub use diagnostic::{Diagnostic, Severity};
pub use parser::parse;
