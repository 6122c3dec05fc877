//! One snapshot per diagnostic code of the checker (`lcc_check::codes::CHECK_CODES`).
//!
//! Each case is a small model that triggers exactly that code and nothing else; the snapshot
//! shows the source and every diagnostic as the terminal renders it
//! (`Diagnostic::render_to_string`). The cases are in `tests/common` (the fix tests apply their
//! fixes too); `every_check_code_has_a_case` keeps the table complete.

// Test code: a failed expectation is a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::CODE_CASES as CASES;
use lcc_check::codes::CHECK_CODES;
use std::collections::BTreeSet;

fn source_of(code: &str) -> &'static str {
    CASES.iter().find(|(c, _)| *c == code).map(|(_, s)| *s).unwrap_or_else(|| panic!("no case for {code}"))
}

/// The snapshot text: the source, then every diagnostic rendered.
fn render(file: &str, source: &str) -> String {
    let (_, diagnostics) = lcc_check::check_source(source);
    let mut out = format!("--- {file}\n{source}--- diagnostics\n");
    for d in &diagnostics {
        out.push_str(&d.render_to_string(file, source));
    }
    out
}

fn check_code(code: &str) {
    let source = source_of(code);
    let (_, diagnostics) = lcc_check::check_source(source);
    let found: BTreeSet<&str> = diagnostics.iter().map(|d| d.code.id).collect();
    assert!(found.contains(code), "{code} not reported; got {found:?}");
    assert_eq!(found, BTreeSet::from([code]), "the case for {code} should trigger only {code}");
    let info = lcc_check::codes::lookup(code).unwrap();
    for d in diagnostics.iter().filter(|d| d.code.id == code) {
        assert_eq!(d.severity, info.severity);
        assert!(d.label.is_some(), "{code}: no label at the primary span");
        assert!(d.help.is_some(), "{code}: no help");
        assert!((d.span.end as usize) <= source.len(), "{code}: span outside the source");
        assert!(!d.span.is_empty(), "{code}: empty primary span");
    }
    let name = format!("{code}_{}", info.name);
    insta::assert_snapshot!(name, render(&format!("{code}.lcc"), source));
}

#[test]
fn e0101_undefined_role() {
    check_code("E0101");
}

#[test]
fn e0102_role_arity_mismatch() {
    check_code("E0102");
}

#[test]
fn e0103_role_change_foreign_id() {
    check_code("E0103");
}

#[test]
fn e0104_duplicate_clause() {
    check_code("E0104");
}

#[test]
fn e0105_builtin_arity() {
    check_code("E0105");
}

#[test]
fn e0106_bad_role_term() {
    check_code("E0106");
}

#[test]
fn w0101_singleton_variable() {
    check_code("W0101");
}

#[test]
fn w0102_unbound_variable() {
    check_code("W0102");
}

#[test]
fn w0103_unreceivable_message() {
    check_code("W0103");
}

#[test]
fn w0104_unsent_message() {
    check_code("W0104");
}

#[test]
fn w0105_incompatible_message() {
    check_code("W0105");
}

#[test]
fn w0106_ambiguous_precedence() {
    check_code("W0106");
}

#[test]
fn w0107_unreachable_alternative() {
    check_code("W0107");
}

#[test]
fn w0108_undeclared_role() {
    check_code("W0108");
}

#[test]
fn w0109_role_without_clause() {
    check_code("W0109");
}

#[test]
fn w0110_dialect_role_arity() {
    check_code("W0110");
}

/// Every checker code has a case above (and so a snapshot test), and every case is a code.
#[test]
fn every_check_code_has_a_case() {
    let codes: BTreeSet<&str> = CHECK_CODES.iter().map(|c| c.id).collect();
    let cases: BTreeSet<&str> = CASES.iter().map(|(c, _)| *c).collect();
    assert_eq!(cases.len(), CASES.len(), "a code has two cases");
    let missing: Vec<_> = codes.difference(&cases).collect();
    assert!(missing.is_empty(), "codes without a snapshot case: {missing:?}");
    let extra: Vec<_> = cases.difference(&codes).collect();
    assert!(extra.is_empty(), "cases for codes that are not checker codes: {extra:?}");
    // Each case is run by a test named after it (a new code needs a new #[test] too).
    let this_file = include_str!("codes.rs");
    for code in &codes {
        assert!(this_file.contains(&format!("check_code(\"{code}\")")), "no #[test] runs the case of {code}");
    }
}

/// The same code ids are not registered twice in the whole toolchain.
#[test]
fn codes_are_unique() {
    let mut seen = BTreeSet::new();
    for code in lcc_check::codes::all() {
        assert!(seen.insert(code.id), "duplicate code {}", code.id);
    }
}
