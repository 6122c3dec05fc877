//! `lcc-check`: the semantic checker. A salsa database with source files as inputs and tracked
//! queries `parse -> check -> diagnostics`; resolution and lowering to the typed IR
//! ([`ir`]), and the lints. The IR is the single input of every later stage: none of them
//! re-parses or re-resolves.

pub mod analysis;
pub mod codes;
pub mod db;
pub mod ide;
pub mod ir;
pub mod lower;
pub mod mc;

pub use db::{Database, SourceFile, check, diagnostics, parse};

use lcc_syntax::{Diagnostic, ast};

/// Lowers a parsed file to the IR and runs every analysis. Pure: the database calls this, and
/// so can tests that need no incrementality. Given the parser's diagnostics, the lints that
/// would only repeat a syntax error in other words (a variable whose other occurrence was lost,
/// a message whose partner was in the broken text) stay quiet about the clauses that hold one.
pub fn check_parsed(source: &str, ast: &ast::Model, syntax: &[Diagnostic]) -> (ir::Model, Vec<Diagnostic>) {
    let lower::Lowered { mut model, mut diagnostics } = lower::lower(source, ast);
    let errors: Vec<ast::Span> = syntax.iter().filter(|d| d.is_error()).map(|d| d.span).collect();
    let broken = analysis::broken_clauses(&model, &errors);
    analysis::bindings(&mut model, &broken, &mut diagnostics);
    analysis::messages(&mut model, &broken, &mut diagnostics);
    analysis::ambiguous_precedence(ast, &mut diagnostics);
    analysis::unreachable_alternatives(&model, &mut diagnostics);
    (model, diagnostics)
}

/// Parses and checks one source: every diagnostic, in source order, and the IR.
pub fn check_source(source: &str) -> (ir::Model, Vec<Diagnostic>) {
    let (ast, mut diagnostics) = lcc_syntax::parse(source);
    let (model, more) = check_parsed(source, &ast, &diagnostics);
    diagnostics.extend(more);
    sort_diagnostics(&mut diagnostics);
    (model, diagnostics)
}

/// Source order: by primary span, then code (so that output is stable).
pub fn sort_diagnostics(diagnostics: &mut [Diagnostic]) {
    diagnostics
        .sort_by(|a, b| (a.span.start, a.span.end, a.code.id).cmp(&(b.span.start, b.span.end, b.code.id)));
}
