//! The verdicts of `corpus/seed/EXPECTED.md` for `lcc check`, at the exact lines, and no false
//! errors on `corpus/external`. The corpus is read where it lies (`../shared/corpus`, beside
//! the repository); without it the tests print `skipped: ../shared/corpus not found`.

// Test code: a failed expectation is a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use lcc_check::check_source;
use lcc_syntax::Diagnostic;
use lcc_syntax::diagnostic::{LineIndex, apply_edits};
use std::path::Path;

fn read(corpus: &Path, file: &str) -> String {
    std::fs::read_to_string(corpus.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn listing(diags: &[Diagnostic], file: &str, source: &str) -> String {
    diags.iter().map(|d| d.render_to_string(file, source)).collect()
}

/// 1-based (line, column) of a diagnostic's primary span.
fn position(source: &str, d: &Diagnostic) -> (usize, usize) {
    LineIndex::new(source).line_col(source, d.span.start)
}

/// 1-based (line, column) of the `nth` (0-based) occurrence of `needle`, plus `skip` bytes.
fn find(source: &str, needle: &str, nth: usize, skip: usize) -> (usize, usize) {
    let offset =
        source.match_indices(needle).nth(nth).unwrap_or_else(|| panic!("`{needle}` #{nth} not found")).0;
    LineIndex::new(source).line_col(source, u32::try_from(offset + skip).unwrap())
}

/// balance_fig2.lcc: one error, E0103, at `PID1` in `a(idle, PID1)` of the underloaded
/// clause; its fix renames it to PID2, and then no error remains.
#[test]
fn balance_fig2_has_the_foreign_id_error() {
    let Some(corpus) = common::corpus() else { return };
    let file = "seed/balance_fig2.lcc";
    let source = read(&corpus, file);
    let (_, diags) = check_source(&source);
    let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 1, "exactly one error expected\n{}", listing(&diags, file, &source));
    let e = errors[0];
    assert_eq!(e.code.id, "E0103");
    // The underloaded clause is the last; its last line is `  a(idle, PID1)`.
    let underloaded = source.find("a(underloaded(Capacity), PID2) ::").unwrap();
    let slip = underloaded + source[underloaded..].find("a(idle, PID1)").unwrap() + "a(idle, ".len();
    assert_eq!(e.span.range(), slip..slip + "PID1".len(), "{}", listing(&diags, file, &source));
    let (line, col) = position(&source, e);
    assert_eq!((line, col), (28, 11), "at the line of `a(idle, PID1)` in the underloaded clause");
    assert_eq!(source.lines().nth(line - 1), Some("  a(idle, PID1)"));
    // The secondary label points at the clause's own id, in the head.
    let own = underloaded + "a(underloaded(Capacity), ".len();
    assert!(e.labels.iter().any(|l| l.span.range() == (own..own + 4)), "{e:#?}");
    // The fix.
    let fix = e.fix.as_ref().expect("E0103 carries a fix");
    assert_eq!(fix.edits.len(), 1);
    assert_eq!(fix.edits[0].span.range(), slip..slip + 4);
    assert_eq!(fix.edits[0].replacement, "PID2");
    let fixed = apply_edits(&source, &fix.edits).unwrap();
    assert!(fixed.trim_end().ends_with("a(idle, PID2)"), "{fixed}");
    let (_, after) = check_source(&fixed);
    assert!(after.iter().all(|d| !d.is_error()), "errors after the fix\n{}", listing(&after, file, &fixed));
}

/// EXPECTED.md: after the fix, balance_fig2 behaves like balance_slides; for the checker,
/// the fixed fig2 and balance_slides report the same codes apart from what the slides' own
/// wording adds (the unbound `OK` of `migration(OK)`).
#[test]
fn fixed_fig2_checks_like_the_slides() {
    let Some(corpus) = common::corpus() else { return };
    let mut source = read(&corpus, "seed/balance_fig2.lcc");
    // The last line only: the overloaded clause rightly ends with `a(idle, PID1)` too.
    let last = source.rfind("a(idle, PID1)").unwrap();
    source.replace_range(last..last + "a(idle, PID1)".len(), "a(idle, PID2)");
    let (_, diags) = check_source(&source);
    let codes: Vec<&str> = diags.iter().map(|d| d.code.id).collect();
    assert!(diags.iter().all(|d| !d.is_error()), "{}", listing(&diags, "fixed fig2", &source));
    // The published text mixes `then` and `or` without parentheses (W0106); nothing else.
    assert_eq!(codes, ["W0106"], "{}", listing(&diags, "fixed fig2", &source));
}

/// balance_slides.lcc: no error.
#[test]
fn balance_slides_has_no_error() {
    let Some(corpus) = common::corpus() else { return };
    let file = "seed/balance_slides.lcc";
    let source = read(&corpus, file);
    let (_, diags) = check_source(&source);
    assert!(diags.iter().all(|d| !d.is_error()), "{}", listing(&diags, file, &source));
    // What it does say: `migration(OK)` is sent by the underloaded clause with OK unbound,
    // and the overloaded clause never uses the OK it receives.
    let said: Vec<(&str, (usize, usize))> = diags.iter().map(|d| (d.code.id, position(&source, d))).collect();
    assert_eq!(
        said,
        [
            ("W0101", find(&source, "migration(OK) <=", 0, 10)),
            ("W0102", find(&source, "migration(OK) =>", 0, 10))
        ],
        "{}",
        listing(&diags, file, &source)
    );
}

/// buyer_shopkeeper.lcc: W0102 at the `X` of `ask(X)` in the buyer clause, and no error.
#[test]
fn buyer_shopkeeper_warns_about_unbound_x() {
    let Some(corpus) = common::corpus() else { return };
    let file = "seed/buyer_shopkeeper.lcc";
    let source = read(&corpus, file);
    let (_, diags) = check_source(&source);
    assert!(diags.iter().all(|d| !d.is_error()), "{}", listing(&diags, file, &source));
    let w: Vec<&Diagnostic> = diags.iter().filter(|d| d.code.id == "W0102").collect();
    assert_eq!(w.len(), 1, "{}", listing(&diags, file, &source));
    let x = find(&source, "ask(X) =>", 0, "ask(".len());
    assert_eq!(x, (4, 7));
    assert_eq!(position(&source, w[0]), x, "{}", listing(&diags, file, &source));
    assert_eq!(w[0].span.len(), 1, "the span is the X");
    assert!(w[0].message.contains("`X`"), "{}", w[0].message);
    // The secondary label points at where X does get a value: the receive of price(X, P).
    let later = source.find("price(X, P) <=").unwrap() + "price(".len();
    assert!(w[0].labels.iter().any(|l| l.span.start as usize == later), "{:#?}", w[0]);
    // And nothing else: the model is otherwise consistent.
    assert_eq!(diags.len(), 1, "{}", listing(&diags, file, &source));
}

/// No false errors on public models: every external file checks without an error, except
/// okeilidh/MTurk.xlcc, whose `a(subscribe, S)` misspells the role `subscriber`.
#[test]
fn external_models_have_no_false_errors() {
    let Some(corpus) = common::corpus() else { return };
    let files = common::corpus_files(&corpus, "external");
    assert!(files.len() >= 10, "the external corpus has gone missing: {files:?}");
    for path in files {
        let name = path.strip_prefix(&corpus).unwrap().display().to_string();
        let source = std::fs::read_to_string(&path).unwrap();
        let (_, diags) = check_source(&source);
        let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
        if name.ends_with("okeilidh/MTurk.xlcc") {
            assert_eq!(errors.len(), 1, "{name}: one error expected\n{}", listing(&diags, &name, &source));
            let e = errors[0];
            assert_eq!(e.code.id, "E0101", "{name}");
            assert_eq!(&source[e.span.range()], "subscribe");
            assert_eq!(position(&source, e), find(&source, "a(subscribe, S)", 0, 2));
            let fix = e.fix.as_ref().expect("a fix suggesting `subscriber`");
            assert_eq!(fix.edits.len(), 1);
            assert_eq!(fix.edits[0].replacement, "subscriber");
            assert!(e.help.as_deref().unwrap_or("").contains("subscriber"), "{e:#?}");
            let fixed = apply_edits(&source, &fix.edits).unwrap();
            let (_, after) = check_source(&fixed);
            assert!(
                after.iter().all(|d| !d.is_error()),
                "{name} after the fix\n{}",
                listing(&after, &name, &fixed)
            );
        } else {
            assert!(
                errors.is_empty(),
                "{name}: false errors\n{}",
                listing(&errors.into_iter().cloned().collect::<Vec<_>>(), &name, &source)
            );
        }
    }
}

/// The external models' warnings that are known to be right, kept as a guard against both
/// regressions and new false positives: the typo `IDI` (for ID1) in booktrip, the committed
/// choice in ping.lcc whose second alternative can never be taken, and the `receipt`
/// mismatch of the WebLCC example.
#[test]
fn external_models_true_warnings() {
    let Some(corpus) = common::corpus() else { return };
    let check = |file: &str| {
        let source = read(&corpus, file);
        let (_, diags) = check_source(&source);
        (source, diags)
    };
    let (source, diags) = check("external/baile/booktrip.lcc");
    let idi = diags.iter().find(|d| d.code.id == "W0101" && &source[d.span.range()] == "IDI");
    assert!(idi.is_some(), "{}", listing(&diags, "booktrip.lcc", &source));

    let (source, diags) = check("external/lij/ping.lcc");
    let dead = diags.iter().find(|d| d.code.id == "W0107").expect("W0107 in ping.lcc");
    assert_eq!(&source[dead.span.range()], "a(agent, A)");

    let (source, diags) = check("external/okeilidh/example.lcc");
    let codes: Vec<(&str, &str)> = diags
        .iter()
        .filter(|d| d.code.id.starts_with("W01"))
        .map(|d| (d.code.id, &source[d.span.range()]))
        .collect();
    assert_eq!(
        codes,
        [("W0104", "receipt"), ("W0103", "receipt(R)")],
        "{}",
        listing(&diags, "example.lcc", &source)
    );

    // Models that must check clean of the checker's own warnings.
    for file in ["external/lij/helloworld.lcc", "external/lij/comparison.lcc"] {
        let (source, diags) = check(file);
        assert!(diags.is_empty(), "{}", listing(&diags, file, &source));
    }
}
