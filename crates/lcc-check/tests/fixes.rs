//! Every fix does what it says: applying it (`lcc_syntax::diagnostic::apply_edits`) and checking
//! again removes the diagnostic it belongs to (same code, same place) and adds no error.
//!
//! The named tests cover each kind of fix of the checker and of the parser (whose diagnostics
//! `check_source` includes); `every_fix_in_every_model` applies every fix offered on every model
//! of these tests, of `tests/common` and of the corpus.

// Test code: a failed expectation is a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use lcc_check::check_source;
use lcc_syntax::Diagnostic;
use lcc_syntax::ast::Span;
use lcc_syntax::diagnostic::{TextEdit, apply_edits};
use std::collections::BTreeMap;

/// (name, code whose fix is tested): cases whose model is the one of `common::CODE_CASES`.
const SHARED_FIX_CASES: &[(&str, &str)] = &[
    ("e0101_rename_to_the_close_role", "E0101"),
    ("e0103_own_id", "E0103"),
    ("w0101_rename_to_underscore", "W0101"),
    ("w0106_or_inside_then", "W0106"),
    ("w0108_declare_after_the_last_declaration", "W0108"),
];

/// (name, code whose fix is tested, model).
const FIX_CASES: &[(&str, &str, &str)] = &[
    // ---- the checker's fixes
    (
        "e0103_constant_own_id",
        "E0103",
        "\
a(server, s1) ::
  req(X) <= a(client, C) then
  ans(X) => a(client, C) then
  a(server, C)

a(client, C) ::
  req(1) => a(server, s1) then
  ans(A) <= a(server, s1) then
  null <- show(A)
",
    ),
    (
        "e0106_capitalised_role",
        "E0106",
        "\
a(client, C) ::
  ping => a(Server, S) then
  pong <= a(server, S)

a(server, S) ::
  ping <= a(client, C) then
  pong => a(client, C)
",
    ),
    (
        "w0106_or_before_then",
        "W0106",
        "\
a(p, P) ::
  ping => a(q, Q) or pong => a(q, Q) then
  done <= a(q, Q)

a(q, Q) ::
  (ping <= a(p, P) or pong <= a(p, P)) then
  done => a(p, P)
",
    ),
    (
        "w0106_par_inside_then_and_or_inside_par",
        "W0106",
        "\
a(p, P) ::
  a1 => a(q, Q) then a2 => a(q, Q) par a3 => a(q, Q) or a4 => a(q, Q)

a(q, Q) ::
  a1 <= a(p, P) then (a2 <= a(p, P) par (a3 <= a(p, P) or a4 <= a(p, P)))
",
    ),
    (
        "w0108_declare_with_terminators",
        "W0108",
        "\
r(client, initial, 1).
r(server, necessary).

a(client, C) ::
  hi => a(server, S) then
  hi => a(logger, L).

a(server, S) ::
  hi <= a(client, C).

a(logger, L) ::
  hi <= a(client, C).
",
    ),
    // ---- the parser's fixes, as `lcc check` reports them
    (
        "w0002_braces_to_parentheses",
        "W0002",
        "\
a(p, P) ::
  { ping => a(q, Q) then pong <= a(q, Q) }

a(q, Q) ::
  ping <= a(p, P) then pong => a(p, P)
",
    ),
    (
        "w0005_lij_kind_to_auxiliary",
        "W0005",
        "\
r(p, cyclic)
r(q, necessary)

a(p, P) ::
  ping => a(q, Q) then pong <= a(q, Q)

a(q, Q) ::
  ping <= a(p, P) then pong => a(p, P)
",
    ),
    (
        "w0007_extra_paren_after_annotation",
        "W0007",
        "\
@annotation(@role(p), @annotation(@constraint(ok(_)), total)))

a(p, P) ::
  null <- ok(P)
",
    ),
    (
        "e0003_unterminated_string",
        "E0003",
        "\
a(p, P) ::
  null <- Greeting = \"hello
  then greet(Greeting) => a(q, Q)

a(q, Q) ::
  greet(G) <= a(p, P) then null <- show(G)
",
    ),
    (
        "e0003_unterminated_quoted_atom",
        "E0003",
        "\
a(p, P) ::
  null <- Mood = 'very happy
  then mood(Mood) => a(q, Q)

a(q, Q) ::
  mood(M) <= a(p, P) then null <- show(M)
",
    ),
    (
        "e0005_stray_closer",
        "E0005",
        "\
a(p, P) ::
  ping => a(q, Q)) then
  pong <= a(q, Q)

a(q, Q) ::
  ping <= a(p, P) then pong => a(p, P)
",
    ),
    (
        "e0007_condition_as_event",
        "E0007",
        "\
a(p(N), P) ::
  N > 0 then
  ping => a(q, Q) then
  pong <= a(q, Q)

a(q, Q) ::
  ping <= a(p, P) then pong => a(p, P)
",
    ),
    (
        "e0007_or_in_a_guard",
        "E0007",
        "\
a(p, P) ::
  null <- hot(P) or cold(P) then
  ping => a(q, Q) then
  pong <= a(q, Q)

a(q, Q) ::
  ping <= a(p, P) then pong => a(p, P)
",
    ),
    (
        "e0001_missing_then",
        "E0001",
        "\
a(p, P) ::
  ping => a(q, Q)
  pong <= a(q, Q)

a(q, Q) ::
  ping <= a(p, P) then pong => a(p, P)
",
    ),
    (
        "e0001_two_operators",
        "E0001",
        "\
a(p, P) ::
  ping => a(q, Q) then then pong <= a(q, Q)

a(q, Q) ::
  ping <= a(p, P) then pong => a(p, P)
",
    ),
    (
        "e0011_unknown_escape",
        "E0011",
        "\
a(p, P) ::
  say(\"a\\qb\") => a(q, Q) then
  ok <= a(q, Q)

a(q, Q) ::
  say(X) <= a(p, P) then ok => a(p, P) <- log(X)
",
    ),
];

/// Where an offset of the old text lands in the fixed text. An insertion right at the offset
/// lands before it for the start of a span (`at_end == false`) and after it for the end.
fn map_offset(offset: u32, edits: &[TextEdit], at_end: bool) -> u32 {
    let mut shift: i64 = 0;
    for e in edits {
        let (start, end) = (e.span.start, e.span.end);
        let before = if e.span.is_empty() {
            if at_end { start < offset } else { start <= offset }
        } else {
            end <= offset
        };
        if before {
            shift += e.replacement.len() as i64 - i64::from(e.span.len());
        } else if start < offset && offset < end {
            // Inside a replaced range: the replacement's start (or end).
            let base = i64::from(start) + shift;
            return u32::try_from(if at_end { base + e.replacement.len() as i64 } else { base }).unwrap();
        }
    }
    u32::try_from(i64::from(offset) + shift).unwrap()
}

fn overlaps(a: Span, b: Span) -> bool {
    a.start < b.end.max(b.start + 1) && b.start < a.end.max(a.start + 1)
}

fn errors(diags: &[Diagnostic]) -> BTreeMap<(&'static str, String), usize> {
    let mut out = BTreeMap::new();
    for d in diags.iter().filter(|d| d.is_error()) {
        *out.entry((d.code.id, d.message.clone())).or_default() += 1;
    }
    out
}

fn listing(diags: &[Diagnostic], file: &str, source: &str) -> String {
    diags.iter().map(|d| d.render_to_string(file, source)).collect()
}

/// Applies the fix of `diag` (one of `before`, the diagnostics of `source`) and checks the result.
/// Returns the fixed source.
fn check_fix(name: &str, source: &str, before: &[Diagnostic], diag: &Diagnostic) -> String {
    let fix = diag.fix.as_ref().unwrap();
    assert!(!fix.edits.is_empty(), "{name}: {} offers a fix with no edits", diag.code.id);
    let fixed = apply_edits(source, &fix.edits)
        .unwrap_or_else(|| panic!("{name}: the edits of the {} fix do not apply", diag.code.id));
    assert_ne!(fixed, source, "{name}: the {} fix changes nothing", diag.code.id);
    let (_, after) = check_source(&fixed);
    let place = Span {
        start: map_offset(diag.span.start, &fix.edits, false),
        end: map_offset(diag.span.end, &fix.edits, true),
    };
    let still: Vec<&Diagnostic> = after
        .iter()
        .filter(|d| d.code.id == diag.code.id && d.message == diag.message && overlaps(d.span, place))
        .collect();
    assert!(
        still.is_empty(),
        "{name}: the fix `{}` did not remove {} `{}`\n--- fixed source\n{fixed}\n--- diagnostics\n{}",
        fix.message,
        diag.code.id,
        diag.message,
        listing(&after, name, &fixed),
    );
    if matches!(diag.code.id, "W0106" | "W0002") {
        // Only grouping changes: the model means the same.
        let sexpr = |s: &str| lcc_syntax::sexpr::model(&lcc_syntax::parse(s).0);
        assert_eq!(sexpr(source), sexpr(&fixed), "{name}: the {} fix changed the meaning", diag.code.id);
    }
    let (old, new) = (errors(before), errors(&after));
    for (key, count) in &new {
        assert!(
            old.get(key).copied().unwrap_or(0) >= *count,
            "{name}: the fix `{}` of {} introduced the error {} `{}`\n--- fixed source\n{fixed}\n--- diagnostics\n{}",
            fix.message,
            diag.code.id,
            key.0,
            key.1,
            listing(&after, name, &fixed),
        );
    }
    fixed
}

/// The code and model of a named case.
fn case(name: &str) -> (&'static str, &'static str) {
    if let Some((_, code, source)) = FIX_CASES.iter().find(|(n, _, _)| *n == name) {
        return (code, source);
    }
    let (_, code) =
        SHARED_FIX_CASES.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("no case {name}"));
    (code, common::code_case(code))
}

/// Checks the fix of every `code` diagnostic of a case (there must be one). Returns the fixed
/// sources.
fn fix_case(name: &str) -> Vec<String> {
    let (code, source) = case(name);
    let (_, before) = check_source(source);
    let with_fix: Vec<&Diagnostic> = before.iter().filter(|d| d.code.id == code && d.fix.is_some()).collect();
    assert!(
        !with_fix.is_empty(),
        "{name}: no {code} diagnostic with a fix\n{}",
        listing(&before, name, source)
    );
    with_fix.into_iter().map(|d| check_fix(name, source, &before, d)).collect()
}

/// The single fixed source of a case.
fn fixed(name: &str) -> String {
    let mut all = fix_case(name);
    assert_eq!(all.len(), 1, "{name}: expected one fix");
    all.remove(0)
}

// ---- the checker's fixes

#[test]
fn e0101_rename_to_the_close_role() {
    let fixed = fixed("e0101_rename_to_the_close_role");
    assert!(fixed.contains("ask(milk) => a(shopkeeper, S)"), "{fixed}");
    let (_, diags) = check_source(&fixed);
    assert!(diags.iter().all(|d| !d.is_error()), "{}", listing(&diags, "fixed", &fixed));
}

#[test]
fn e0103_own_id() {
    let fixed = fixed("e0103_own_id");
    assert!(fixed.contains("  a(idle, Me)\n\na(boss"), "{fixed}");
    let (_, diags) = check_source(&fixed);
    assert!(diags.is_empty(), "{}", listing(&diags, "fixed", &fixed));
}

#[test]
fn e0103_constant_own_id() {
    let fixed = fixed("e0103_constant_own_id");
    assert!(fixed.contains("a(server, s1)\n\na(client"), "{fixed}");
}

/// The slip of the seed paper's Fig. 2: the fix renames PID1 to the clause's own PID2, and
/// then no error remains.
#[test]
fn e0103_on_the_fig2_seed() {
    let Some(corpus) = common::corpus() else { return };
    let source = std::fs::read_to_string(corpus.join("seed/balance_fig2.lcc")).unwrap();
    let (_, before) = check_source(&source);
    let diag = before.iter().find(|d| d.code.id == "E0103").expect("E0103 on balance_fig2.lcc");
    let fixed = check_fix("balance_fig2.lcc", &source, &before, diag);
    let fix = diag.fix.as_ref().unwrap();
    assert_eq!(fix.edits.len(), 1);
    assert_eq!(fix.edits[0].replacement, "PID2");
    assert_eq!(&source[fix.edits[0].span.range()], "PID1");
    let (_, after) = check_source(&fixed);
    assert!(after.iter().all(|d| !d.is_error()), "{}", listing(&after, "balance_fig2.lcc", &fixed));
}

#[test]
fn e0106_capitalised_role() {
    let fixed = fixed("e0106_capitalised_role");
    assert!(fixed.contains("ping => a(server, S)"), "{fixed}");
    let (_, diags) = check_source(&fixed);
    assert!(diags.is_empty(), "{}", listing(&diags, "fixed", &fixed));
}

#[test]
fn w0101_rename_to_underscore() {
    let fixed = fixed("w0101_rename_to_underscore");
    assert!(fixed.contains("afford(Item, _Cst)"), "{fixed}");
    let (_, diags) = check_source(&fixed);
    assert!(diags.is_empty(), "{}", listing(&diags, "fixed", &fixed));
}

#[test]
fn w0106_or_inside_then() {
    let fixed = fixed("w0106_or_inside_then");
    assert!(fixed.contains("  (yes => a(client, C) or no => a(client, C))\n"), "{fixed}");
    let (_, diags) = check_source(&fixed);
    assert!(diags.is_empty(), "{}", listing(&diags, "fixed", &fixed));
}

/// `a or b then c` is `(a or b) then c`: the fix writes that, and the meaning is unchanged.
#[test]
fn w0106_or_before_then() {
    let name = "w0106_or_before_then";
    let fixed = fixed(name);
    assert!(fixed.contains("(ping => a(q, Q) or pong => a(q, Q)) then"), "{fixed}");
    let source = case(name).1;
    let sexpr = |s: &str| lcc_syntax::sexpr::model(&lcc_syntax::parse(s).0);
    assert_eq!(sexpr(source), sexpr(&fixed), "the parentheses changed the meaning");
}

/// Two mixed operators in one clause: each fix removes its own warning, and applying both
/// leaves none.
#[test]
fn w0106_par_inside_then_and_or_inside_par() {
    let name = "w0106_par_inside_then_and_or_inside_par";
    let source = case(name).1;
    let all = fix_case(name);
    assert_eq!(all.len(), 2, "expected two W0106");
    let (_, diags) = check_source(source);
    let edits: Vec<TextEdit> = diags
        .iter()
        .filter(|d| d.code.id == "W0106")
        .flat_map(|d| d.fix.as_ref().unwrap().edits.clone())
        .collect();
    let both = apply_edits(source, &edits).unwrap();
    assert!(
        both.contains("a1 => a(q, Q) then (a2 => a(q, Q) par (a3 => a(q, Q) or a4 => a(q, Q)))"),
        "{both}"
    );
    let (_, after) = check_source(&both);
    assert!(after.is_empty(), "{}", listing(&after, name, &both));
}

#[test]
fn w0108_declare_after_the_last_declaration() {
    let fixed = fixed("w0108_declare_after_the_last_declaration");
    assert!(fixed.starts_with("r(client, initial)\nr(server, auxiliary)\n\na(client"), "{fixed}");
    let (_, diags) = check_source(&fixed);
    assert!(diags.is_empty(), "{}", listing(&diags, "fixed", &fixed));
}

#[test]
fn w0108_declare_with_terminators() {
    let all = fix_case("w0108_declare_with_terminators");
    assert_eq!(all.len(), 1, "one W0108, for `logger`");
    assert!(
        all[0].starts_with("r(client, initial, 1).\nr(server, necessary).\nr(logger, auxiliary).\n"),
        "{}",
        all[0]
    );
}

// ---- the parser's fixes

#[test]
fn w0002_braces_to_parentheses() {
    let fixed = fixed("w0002_braces_to_parentheses");
    assert!(fixed.contains("( ping => a(q, Q) then pong <= a(q, Q) )"), "{fixed}");
}

#[test]
fn w0005_lij_kind_to_auxiliary() {
    let fixed = fixed("w0005_lij_kind_to_auxiliary");
    assert!(fixed.starts_with("r(p, auxiliary)\n"), "{fixed}");
}

#[test]
fn w0007_extra_paren_after_annotation() {
    let fixed = fixed("w0007_extra_paren_after_annotation");
    assert!(fixed.starts_with("@annotation(@role(p), @annotation(@constraint(ok(_)), total))\n"), "{fixed}");
}

#[test]
fn e0003_unterminated_string() {
    let fixed = fixed("e0003_unterminated_string");
    assert!(fixed.contains("Greeting = \"hello\"\n"), "{fixed}");
    let (_, diags) = check_source(&fixed);
    assert!(diags.iter().all(|d| !d.is_error()), "{}", listing(&diags, "fixed", &fixed));
}

#[test]
fn e0003_unterminated_quoted_atom() {
    let fixed = fixed("e0003_unterminated_quoted_atom");
    assert!(fixed.contains("Mood = 'very happy'\n"), "{fixed}");
    let (_, diags) = check_source(&fixed);
    assert!(diags.iter().all(|d| !d.is_error()), "{}", listing(&diags, "fixed", &fixed));
}

#[test]
fn e0005_stray_closer() {
    let fixed = fixed("e0005_stray_closer");
    assert!(fixed.contains("ping => a(q, Q) then"), "{fixed}");
    let (_, diags) = check_source(&fixed);
    assert!(diags.iter().all(|d| !d.is_error()), "{}", listing(&diags, "fixed", &fixed));
}

#[test]
fn e0007_condition_as_event() {
    let fixed = fixed("e0007_condition_as_event");
    assert!(fixed.contains("null <- N > 0 then"), "{fixed}");
    let (_, diags) = check_source(&fixed);
    assert!(diags.iter().all(|d| !d.is_error()), "{}", listing(&diags, "fixed", &fixed));
}

#[test]
fn e0007_or_in_a_guard() {
    let fixed = fixed("e0007_or_in_a_guard");
    assert!(fixed.contains("null <- (hot(P) or cold(P)) then"), "{fixed}");
    let (_, diags) = check_source(&fixed);
    assert!(diags.is_empty(), "{}", listing(&diags, "fixed", &fixed));
}

#[test]
fn e0001_missing_then() {
    let fixed = fixed("e0001_missing_then");
    assert!(fixed.contains("ping => a(q, Q) then\n  pong"), "{fixed}");
    let (_, diags) = check_source(&fixed);
    assert!(diags.is_empty(), "{}", listing(&diags, "fixed", &fixed));
}

#[test]
fn e0001_two_operators() {
    let fixed = fixed("e0001_two_operators");
    let (_, diags) = check_source(&fixed);
    assert!(diags.is_empty(), "{}", listing(&diags, "fixed", &fixed));
}

#[test]
fn e0011_unknown_escape() {
    let fixed = fixed("e0011_unknown_escape");
    assert!(fixed.contains(r#"say("a\\qb")"#), "{fixed}");
    let (_, diags) = check_source(&fixed);
    assert!(diags.is_empty(), "{}", listing(&diags, "fixed", &fixed));
}

/// Every case above is run by a test of its own.
#[test]
fn every_fix_case_has_a_test() {
    let this_file = include_str!("fixes.rs");
    let names = FIX_CASES.iter().map(|(n, _, _)| n).chain(SHARED_FIX_CASES.iter().map(|(n, _)| n));
    for name in names {
        assert!(this_file.contains(&format!("fn {name}()")), "no #[test] fn {name}");
    }
}

/// Every fix offered on any model of the tests or the corpus does what it says.
#[test]
fn every_fix_in_every_model() {
    let mut models: Vec<(String, String)> = Vec::new();
    for (name, _, source) in FIX_CASES {
        models.push(((*name).to_string(), (*source).to_string()));
    }
    for (code, source) in common::CODE_CASES {
        models.push((format!("{code}.lcc"), (*source).to_string()));
    }
    if let Some(corpus) = common::corpus() {
        for sub in ["seed", "external"] {
            for path in common::corpus_files(&corpus, sub) {
                let source = std::fs::read_to_string(&path).unwrap();
                models.push((path.display().to_string(), source));
            }
        }
    }
    let mut checked: BTreeMap<&'static str, usize> = BTreeMap::new();
    for (name, source) in &models {
        let (_, before) = check_source(source);
        for diag in before.iter().filter(|d| d.fix.is_some()) {
            check_fix(name, source, &before, diag);
            *checked.entry(diag.code.id).or_default() += 1;
        }
    }
    println!("fixes checked, by code: {checked:?}");
    for code in [
        "E0101", "E0103", "E0106", "W0101", "W0106", "W0108", "W0002", "W0005", "W0007", "E0003", "E0005",
        "E0007",
    ] {
        assert!(checked.contains_key(code), "no {code} fix was checked");
    }
}
