//! Malformed input: what the parser says and what it still builds.
//!
//! Each case is an insta snapshot of the source, the S-expression of what was recovered, and
//! every diagnostic rendered as the terminal shows it (`Diagnostic::render_to_string`). Every
//! diagnostic of every case is also held to the quality bar of the front end:
//! - it has a code, a message, a label at its primary span, and a span inside the source
//!   (secondary labels and fix edits too);
//! - a syntax error (E0001) says what was expected;
//! - a fix, when there is one, applies cleanly and removes the diagnostic it belongs to;
//! - most diagnostics carry a help line (checked over all cases together).
//!
//! The tests after the table check recovery: the clauses around an error are still parsed,
//! and with several errors in one file each is reported on its own line.

// Test code: a failed expectation is a panic, and indexing a checked vector is fine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use lcc_syntax::ast::{ItemKind, Model, Span};
use lcc_syntax::diagnostic::{LineIndex, apply_edits};
use lcc_syntax::{Diagnostic, parse, sexpr};

const FILE: &str = "test.lcc";

/// (snapshot name, source). Each source is malformed in one way unless its name says more.
const CASES: &[(&str, &str)] = &[
    // ---- definitions
    (
        "missing_then_between_lines",
        "a(buyer, B) ::\n  ask(X) => a(shop, S)\n  price(X) <= a(shop, S)\n\na(shop, S) ::\n  ask(X) <= a(buyer, B)\n",
    ),
    ("missing_then_twice_on_one_line", "a(p, X) :: ask(X) => a(s, S) price(X) <= a(s, S) null\n"),
    ("trailing_then", "a(p, X) ::\n  ping => a(q, Y) then\n"),
    ("two_operators_in_a_row", "a(p, X) :: ping => a(q, Y) then then null\n"),
    ("empty_body", "a(x, Y) ::\n\na(y, Z) :: null\n"),
    ("bare_term_as_event", "a(buyer, B) ::\n  ask(X) then null\n"),
    ("condition_as_event", "a(buyer, B) ::\n  X > 3 then null\n"),
    ("missing_agent_after_send", "a(p, X) ::\n  ping =>\n"),
    ("missing_agent_after_receive", "a(p, X) ::\n  ping <= then null\n"),
    ("agent_with_one_argument", "a(p, X) :: ping => a(q)\n"),
    ("role_change_with_one_argument", "a(p, X) :: null then a(idle)\n"),
    // ---- guards
    ("receive_arrow_as_comparison", "a(buyer, B) ::\n  null <- X <= 3 then ask(X) => a(shop, S)\n"),
    ("or_at_top_level_of_guard", "a(p, X) ::\n  ping => a(q, Y) <- ready(X) or busy(X)\n"),
    ("or_chain_at_top_level_of_guard", "a(x, X) :: null <- X > 1 or Y < 2 or Z = 3\n"),
    ("guard_with_no_condition", "a(p, X) :: null <-\n"),
    ("two_guards", "a(p, X) :: ping => a(q, Y) <- ready(X) <- set(Y)\n"),
    ("arithmetic_as_condition", "a(p, X) :: null <- X + 1\n"),
    ("variable_as_condition", "a(p, X) :: null <- X and ok\n"),
    ("float_without_decimal_point", "a(x, X) :: null <- X = 1e5\n"),
    // ---- terms and literals
    ("trailing_comma", "a(p, X) :: null <- f(X,)\n"),
    ("list_tail_missing", "a(p, X) :: null <- X = [1, 2 | ]\n"),
    ("integer_overflow", "a(p, X) ::\n  null <- N = 99999999999999999999\n"),
    ("unknown_escape", "a(p, X) ::\n  hello(\"a\\qb\") => a(q, Y)\n"),
    ("unterminated_string", "a(buyer, B) ::\n  ask(\"milk) => a(shop, S) then\n  null <- ok\n"),
    ("unterminated_quoted_atom", "a(buyer, B) ::\n  ask('milk) => a(shop, S)\n"),
    ("unterminated_block_comment", "a(buyer, B) ::\n  ask(X) => a(shop, S) /* the rest\n  then null\n"),
    ("unknown_character", "a(buyer, B) ::\n  ask(#X) => a(shop, S)\n"),
    ("bang_is_not_negation", "a(p, X) :: null <- ! ready(X)\n"),
    // ---- delimiters
    (
        "unclosed_paren_while_typing",
        "a(buyer, B) ::\n  ask(X => a(shop, S) then\n  price(X) <= a(shop, S)\n\na(shop, S) ::\n  ask(X) <= a(buyer, B)\n",
    ),
    ("unclosed_group", "a(p, X) :: (ping => a(q, Y)\na(q, Y) :: ping <= a(p, X)\n"),
    ("stray_closing_paren", "a(buyer, B) ::\n  ask(X)) => a(shop, S)\n"),
    ("stray_paren_on_its_own_line", "a(x, X) :: null\n)\na(y, Y) :: null\n"),
    ("mismatched_closer", "a(p, X) :: null <- X = [1, 2)\n"),
    ("unclosed_bracket_inside_call", "a(p, X) :: ask(X, [1, 2) => a(q, Y)\n"),
    // ---- items
    ("bad_clause_head", "buyer(B) ::\n  ask(X) => a(shop, S)\n"),
    ("clause_head_with_one_argument", "a(p) :: ping => a(q, Y)\n"),
    ("atom_as_clause_head", "r(shop, necessary)\nbuyer :: ask => a(shop, S)\n"),
    ("clause_operator_inside_a_definition", "a(p, X) :: ping => a(q, Y) :: pong\n"),
    (
        "bad_role_declarations",
        "r(buyer)\nr(buyer, first)\nr(buyer, initial, -1)\nr(buyer, initial, 3, 1)\nr(buyer, initial, 1, 2, 3)\nr(X, initial)\nr(b, initial, many)\n",
    ),
    ("role_declaration_overflow", "r(x, initial, 99999999999999999999)\n"),
    ("bad_annotations", "@role(x)\n@annotation(a)\n@annotation(@role(x), y, z)\n"),
    ("term_as_item", "hello\na(p, X) :: null\n"),
    ("colon_and_semicolon_junk", "a(p, X) ::\n  ping: pong => a(q, Y); null\n"),
    ("only_garbage", "#$ garbage ?? ~~ }\n"),
    ("empty_file", ""),
    ("only_comments", "// nothing\n% here\n/* at all */\n"),
];

fn check_span(source: &str, span: Span, what: &str) {
    let (start, end) = (span.start as usize, span.end as usize);
    assert!(start <= end && end <= source.len(), "{what}: span {start}..{end} outside the source");
    assert!(
        source.is_char_boundary(start) && source.is_char_boundary(end),
        "{what}: span splits a character"
    );
}

/// The quality bar every diagnostic of the parser meets (see the module documentation).
fn check_quality(name: &str, source: &str, diags: &[Diagnostic]) {
    for d in diags {
        let what = format!("{name}: {} `{}`", d.code.id, d.message);
        assert!(!d.code.id.is_empty() && !d.code.name.is_empty(), "{what}: no code");
        assert!(!d.message.is_empty(), "{what}: no message");
        assert!(d.label.as_deref().is_some_and(|l| !l.is_empty()), "{what}: no label at the primary span");
        check_span(source, d.span, &what);
        for label in &d.labels {
            check_span(source, label.span, &format!("{what}, label `{}`", label.message));
        }
        if d.code.id == "E0001" {
            assert!(d.message.contains("expected"), "{what}: a syntax error must say what was expected");
        }
        if let Some(fix) = &d.fix {
            for edit in &fix.edits {
                check_span(source, edit.span, &format!("{what}, fix"));
            }
            let fixed =
                apply_edits(source, &fix.edits).unwrap_or_else(|| panic!("{what}: the fix does not apply"));
            let (_, after) = parse(&fixed);
            let count =
                |ds: &[Diagnostic]| ds.iter().filter(|x| x.code == d.code && x.message == d.message).count();
            assert!(
                count(&after) < count(diags),
                "{what}: applying the fix `{}` leaves the diagnostic in\n{fixed}",
                fix.message
            );
        }
    }
}

fn report(name: &str, source: &str) -> String {
    let (model, diags) = parse(source);
    check_quality(name, source, &diags);
    let mut out = format!("{source}\n---\n{}---\n", sexpr::model(&model));
    if diags.is_empty() {
        out.push_str("(no diagnostics)\n");
    }
    for d in &diags {
        out.push_str(&d.render_to_string(FILE, source));
    }
    out
}

#[test]
fn malformed_inputs() {
    assert!(CASES.len() >= 25);
    for (name, source) in CASES {
        insta::assert_snapshot!(*name, report(name, source));
    }
}

#[test]
fn most_diagnostics_have_help() {
    let (mut with_help, mut total) = (0, 0);
    let mut without = String::new();
    for (name, source) in CASES {
        let (_, diags) = parse(source);
        for d in &diags {
            total += 1;
            if d.help.is_some() {
                with_help += 1;
            } else {
                without.push_str(&format!("{name}: {} {}\n", d.code.id, d.message));
            }
        }
    }
    assert!(with_help * 10 >= total * 9, "{with_help} of {total} diagnostics have help; without:\n{without}");
}

#[test]
fn every_case_reports_something_except_the_well_formed_ones() {
    for (name, source) in CASES {
        let (_, diags) = parse(source);
        let clean = matches!(*name, "empty_file" | "only_comments");
        assert_eq!(diags.is_empty(), clean, "{name}: {} diagnostics", diags.len());
        if !clean {
            assert!(diags.iter().any(Diagnostic::is_error), "{name}: only warnings");
        }
    }
}

// ---- recovery ------------------------------------------------------------------------------------

/// (line, column) of each diagnostic, and its code.
fn positions(source: &str, diags: &[Diagnostic]) -> Vec<(usize, usize, &'static str)> {
    let index = LineIndex::new(source);
    diags
        .iter()
        .map(|d| {
            let (line, col) = index.line_col(source, d.span.start);
            (line, col, d.code.id)
        })
        .collect()
}

/// The S-expression of each item, one string per item.
fn items(model: &Model) -> Vec<String> {
    model.items.iter().map(sexpr::item).collect()
}

#[test]
fn an_unclosed_paren_while_typing_keeps_the_clauses_after_it() {
    let source = "\
a(buyer, B) ::
  ask(X => a(shop, S) then
  price(X) <= a(shop, S)

a(shop, S) ::
  ask(X) <= a(buyer, B) then
  price(X, P) => a(buyer, B)

r(shop, necessary)
";
    let (model, diags) = parse(source);
    assert_eq!(positions(source, &diags), [(2, 6, "E0004")], "one report, at the `(`");
    let items = items(&model);
    assert_eq!(items.len(), 3);
    assert!(matches!(model.items[0].kind, ItemKind::Clause(_)), "the clause being edited is still a clause");
    assert_eq!(
        items[1],
        "(clause (a shop S) (then (recv ask(X) (a buyer B)) (send price(X, P) (a buyer B))))"
    );
    assert_eq!(items[2], "(role shop necessary)");
}

#[test]
fn a_missing_then_keeps_both_events() {
    let source = "a(buyer, B) ::\n  ask(X) => a(shop, S)\n  price(X) <= a(shop, S)\n";
    let (model, diags) = parse(source);
    assert_eq!(positions(source, &diags), [(3, 3, "E0001")]);
    assert_eq!(
        items(&model),
        ["(clause (a buyer B) (then (send ask(X) (a shop S)) (recv price(X) (a shop S))))"]
    );
}

#[test]
fn two_syntax_errors_with_good_clauses_between_them() {
    let source = "\
a(buyer, B) ::
  ask(X) => a(shop, S)
  price(X) <= a(shop, S)

a(shop, S) ::
  ask(X) <= a(buyer, B)

a(bank, K) ::
  null <- Amount <= 3 then pay(Amount) => a(shop, S)

a(auditor, U) ::
  report <= a(bank, K) then null <- file(report)
";
    let (model, diags) = parse(source);
    assert_eq!(positions(source, &diags), [(3, 3, "E0001"), (9, 18, "E0001")]);
    assert!(diags[0].message.contains("`then`"), "{}", diags[0].message);
    assert!(diags[1].help.as_deref().is_some_and(|h| h.contains("=<")), "{:?}", diags[1].help);
    let items = items(&model);
    assert_eq!(items.len(), 4);
    assert_eq!(items[1], "(clause (a shop S) (recv ask(X) (a buyer B)))");
    assert_eq!(items[3], "(clause (a auditor U) (then (recv report (a bank K)) (null <- file(report))))");
    // The clause with the bad guard keeps the event after it.
    assert_eq!(items[2], "(clause (a bank K) (then (error) (send pay(Amount) (a shop S))))");
}

#[test]
fn delimiter_and_literal_errors_in_one_file() {
    let source = "\
a(p, X) ::
  ask(X => a(q, Y)

a(q, Y) ::
  ask(X) <= a(p, X)

a(r, Z) ::
  ping) => a(q, Y)

a(s, W) :: say(\"hello) => a(q, Y)
a(t, V) :: null
";
    let (model, diags) = parse(source);
    assert_eq!(positions(source, &diags), [(2, 6, "E0004"), (8, 7, "E0005"), (10, 16, "E0003")]);
    let items = items(&model);
    assert_eq!(items.len(), 5);
    assert_eq!(items[1], "(clause (a q Y) (recv ask(X) (a p X)))");
    // The stray `)` is skipped: the rest of its clause parses.
    assert_eq!(items[2], "(clause (a r Z) (send ping (a q Y)))");
    // The unterminated string stops at the end of its line: the next clause is untouched.
    assert_eq!(items[4], "(clause (a t V) (null))");
}

#[test]
fn item_errors_in_one_file() {
    let source = "\
r(buyer, first)
r(shop, necessary, 1)

buyer(B) ::
  ask(X) => a(shop, S)

a(shop, S) ::
  ask(X) <= a(buyer, B) then
  price(X, 10) => a(buyer, B)

a(buyer, B) ::
  ask(€X) => a(shop, S)
";
    let (model, diags) = parse(source);
    assert_eq!(positions(source, &diags), [(1, 10, "E0008"), (4, 1, "E0006"), (12, 7, "E0002")]);
    let items = items(&model);
    assert_eq!(
        items,
        [
            "(error)",
            "(role shop necessary 1)",
            "(error)",
            "(clause (a shop S) (then (recv ask(X) (a buyer B)) (send price(X, 10) (a buyer B))))",
            "(clause (a buyer B) (send ask(X) (a shop S)))",
        ]
    );
    // Columns count characters: `€` is three bytes but one column.
    let index = LineIndex::new(source);
    assert_eq!(index.line_col(source, diags[2].span.end), (12, 8));
}
