//! The editor features of `lcc_check::ide` on small models, with the cursor written as `$0`
//! (and further places as `$1`, `$2`, …) in the source.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use lcc_check::ide::{self, CompletionKind};
use lcc_check::{Database, SourceFile};
use lcc_syntax::ast::Span;

/// The source without its markers, and the offset of each marker `$0`..`$9`.
fn marked(source: &str) -> (String, Vec<Option<u32>>) {
    let mut text = String::new();
    let mut marks = vec![None; 10];
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            let d = chars.next().unwrap().to_digit(10).unwrap() as usize;
            marks[d] = Some(text.len() as u32);
        } else {
            text.push(c);
        }
    }
    (text, marks)
}

struct Fixture {
    db: Database,
    file: SourceFile,
    text: String,
    marks: Vec<Option<u32>>,
}

impl Fixture {
    fn new(source: &str) -> Fixture {
        let (text, marks) = marked(source);
        let db = Database::default();
        let file = SourceFile::new(&db, "test.lcc".into(), text.clone());
        Fixture { db, file, text, marks }
    }
    fn at(&self, n: usize) -> u32 {
        self.marks[n].unwrap_or_else(|| panic!("no marker ${n}"))
    }
    fn slice(&self, span: Span) -> &str {
        &self.text[span.range()]
    }
}

const BALANCE: &str = "\
r(idle, initial).
r(overloaded, auxiliary, 0, 6).

/** A host with more load than it should carry. */
a(over$3loaded(Need), PID1) ::
  readyToMigrate(Need) => a(underloaded, PID2) then
  migration(ok) <= a(underloaded, PID2) then
  a(idle, PID1)

a(idle, ID) ::
  null <- isOverLoaded(Lo$1ad) then
  a(overlo$0aded(Load), ID)

a(underloaded, PID2) ::
  readyToMig$2rate(N) <= a(overloaded(_), PID1) then
  migration(ok) => a(overloaded(N), PID1)
";

#[test]
fn hover_shows_a_role_with_its_clause_declaration_and_doc() {
    let f = Fixture::new(BALANCE);
    let (span, text) = ide::hover(&f.db, f.file, f.at(0)).unwrap();
    assert_eq!(f.slice(span), "overloaded");
    assert!(text.contains("a(overloaded(Need), PID1) ::"), "{text}");
    assert!(text.contains("r(overloaded, auxiliary, 0, 6)"), "{text}");
    assert!(text.contains("A host with more load than it should carry."), "{text}");
    assert!(text.contains("sends `readyToMigrate/1` to `underloaded`"), "{text}");
}

#[test]
fn hover_shows_variables_messages_and_constraints() {
    let f = Fixture::new(BALANCE);
    let (span, text) = ide::hover(&f.db, f.file, f.at(1)).unwrap();
    assert_eq!(f.slice(span), "Load");
    assert!(text.contains("bound at 11:24"), "{text}");
    let (_, text) = ide::hover(&f.db, f.file, f.at(2)).unwrap();
    assert!(text.contains("message `readyToMigrate/1` from `overloaded` to `underloaded`"), "{text}");
    let isover = f.text.find("isOverLoaded").unwrap() as u32 + 2;
    let (_, text) = ide::hover(&f.db, f.file, isover).unwrap();
    assert!(text.contains("external constraint `isOverLoaded/1`"), "{text}");
}

#[test]
fn definition_of_a_role_reference_is_its_clause_and_of_a_receive_its_sends() {
    let f = Fixture::new(BALANCE);
    let targets = ide::definition(&f.db, f.file, f.at(0));
    assert_eq!(targets.len(), 1);
    assert_eq!(f.slice(targets[0].focus), "overloaded");
    assert_eq!(targets[0].focus.start, f.at(3) - 4);
    // A receive goes to the sends that can reach it.
    let targets = ide::definition(&f.db, f.file, f.at(2));
    assert_eq!(targets.len(), 1);
    assert_eq!(f.slice(targets[0].focus), "readyToMigrate");
    assert!(targets[0].focus.start < f.at(2));
    // A variable goes to its binding site.
    let targets = ide::definition(&f.db, f.file, f.at(1));
    assert_eq!(f.slice(targets[0].focus), "Load");
}

#[test]
fn references_and_rename_of_a_role_cover_heads_declarations_and_agent_terms() {
    let f = Fixture::new(BALANCE);
    let refs = ide::references(&f.db, f.file, &[f.file], f.at(0), true);
    let texts: Vec<&str> = refs.iter().map(|t| f.slice(t.focus)).collect();
    assert_eq!(texts, ["overloaded"; 5], "{refs:?}");
    let without = ide::references(&f.db, f.file, &[f.file], f.at(0), false);
    assert_eq!(without.len(), 3);
    let edits = ide::rename(&f.db, f.file, &[f.file], f.at(0), "busy").unwrap();
    let mut text = f.text.clone();
    let mut spans: Vec<Span> = edits.iter().map(|e| e.1).collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.start));
    for span in spans {
        text.replace_range(span.range(), "busy");
    }
    assert!(text.contains("r(busy, auxiliary, 0, 6)") && text.contains("a(busy(Need), PID1) ::"), "{text}");
    assert!(text.contains("a(busy(Load), ID)") && text.contains("a(busy(_), PID1)"), "{text}");
    let (_, diagnostics) = lcc_check::check_source(&text);
    assert!(diagnostics.iter().all(|d| !d.is_error()), "{diagnostics:?}");
    // Bad names are refused with a reason.
    assert!(ide::rename(&f.db, f.file, &[f.file], f.at(0), "Busy").is_err());
}

#[test]
fn rename_of_a_variable_stays_in_its_clause() {
    let f = Fixture::new(BALANCE);
    let edits = ide::rename(&f.db, f.file, &[f.file], f.at(1), "Weight").unwrap();
    assert_eq!(edits.len(), 2);
    assert!(edits.iter().all(|(_, span, _)| f.slice(*span) == "Load"));
    let err = ide::rename(&f.db, f.file, &[f.file], f.at(1), "ID").unwrap_err();
    assert!(err.0.contains("already has a variable `ID`"), "{err:?}");
    assert!(ide::rename(&f.db, f.file, &[f.file], f.at(1), "weight").is_err());
    assert!(ide::prepare_rename(&f.db, f.file, f.at(2)).is_err());
}

#[test]
fn completion_knows_roles_constraints_messages_and_variables() {
    let roles = Fixture::new("a(idle, X) ::\n  a($0\n\na(busy, Y) :: null\n");
    let items = ide::completions(&roles.db, roles.file, &[roles.file], roles.at(0));
    let labels: Vec<&str> = items.iter().map(|i| i.label.as_str()).collect();
    assert_eq!(labels, ["busy", "idle"]);

    let guard = Fixture::new("a(idle, X) ::\n  null <- full(X) then\n  null <- $0\n");
    let items = ide::completions(&guard.db, guard.file, &[guard.file], guard.at(0));
    assert!(
        items.iter().any(|i| i.label == "full/1"
            && i.kind == CompletionKind::Constraint
            && i.insert == "full(${1:_})")
    );
    assert!(items.iter().any(|i| i.label == "member/2"));
    assert!(items.iter().any(|i| i.label == "X" && i.kind == CompletionKind::Variable));

    let event = Fixture::new(
        "a(c, C) ::\n  $0 => a(s, S)\n\na(s, S) ::\n  req(N) <= a(c, C) then ok <= a(c, C)\n\na(t, T) :: other <= a(c, C)\n",
    );
    let items = ide::completions(&event.db, event.file, &[event.file], event.at(0));
    let messages: Vec<&str> =
        items.iter().filter(|i| i.kind == CompletionKind::Message).map(|i| i.label.as_str()).collect();
    assert_eq!(messages, ["ok/0", "req/1"], "only what `s` accepts");

    let top = Fixture::new("$0");
    let items = ide::completions(&top.db, top.file, &[top.file], top.at(0));
    assert!(items.iter().any(|i| i.snippet && i.insert.starts_with("a(${1:role}, ${2:Id}) ::")));
}

#[test]
fn signature_help_follows_the_argument_of_a_role_change() {
    let f = Fixture::new("a(busy(Need, Max), P) :: null\n\na(idle, X) ::\n  a(busy(3, $0), X)\n");
    let help = ide::signature_help(&f.db, f.file, f.at(0)).unwrap();
    assert_eq!(help.signatures[0].label, "a(busy(Need, Max), P)");
    assert_eq!(help.active_parameter, 1);
    let params = &help.signatures[0].parameters;
    assert_eq!(params.len(), 3);
    let label = &help.signatures[0].label;
    assert_eq!(&label[params[1].0 as usize..params[1].1 as usize], "Max");
    let g = Fixture::new("a(busy(Need, Max), P) :: null\n\na(idle, X) ::\n  a(busy(3, 4), $0)\n");
    assert_eq!(ide::signature_help(&g.db, g.file, g.at(0)).unwrap().active_parameter, 2);
    let none = Fixture::new("a(idle, X) :: null <- $0\n");
    assert!(ide::signature_help(&none.db, none.file, none.at(0)).is_none());
}

#[test]
fn semantic_tokens_tell_roles_messages_constraints_and_variables_apart() {
    let f = Fixture::new(BALANCE);
    let tokens = ide::semantic_tokens(&f.db, f.file);
    let kind_of = |needle: &str| {
        let start = f.text.find(needle).unwrap() as u32;
        let t = tokens.iter().find(|t| t.start == start).unwrap();
        ide::TOKEN_TYPES[t.kind as usize]
    };
    assert_eq!(kind_of("idle"), "type");
    assert_eq!(kind_of("readyToMigrate"), "function");
    assert_eq!(kind_of("isOverLoaded"), "method");
    assert_eq!(kind_of("Need"), "variable");
    assert_eq!(kind_of("/**"), "comment");
    assert_eq!(kind_of("then"), "keyword");
    assert_eq!(kind_of("=>"), "operator");
    assert!(tokens.windows(2).all(|w| w[0].end <= w[1].start), "in order, not overlapping");
}

#[test]
fn symbols_list_roles_with_their_clauses() {
    let f = Fixture::new(BALANCE);
    let symbols = ide::document_symbols(&f.db, f.file);
    let names: Vec<&str> = symbols.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["idle", "overloaded", "underloaded"]);
    assert_eq!(symbols[1].clauses[0].0, "a(overloaded(Need), PID1)");
    let found = ide::workspace_symbols(&f.db, &[f.file], "ovld");
    assert_eq!(found.len(), 1);
}

mod random {
    use super::*;
    use proptest::prelude::*;

    /// Pieces of LCC, whole and broken, to build sources from.
    const PIECES: &[&str] = &[
        "a(idle, X) ::",
        "a(busy(N), Y) ::",
        " null",
        " then",
        " or",
        " par",
        "(",
        ")",
        " m(X)",
        " => a(busy(3), Y)",
        " <= a(idle, X)",
        " <- c(X)",
        " <- member(X, L)",
        " and",
        " not",
        "r(idle, initial).",
        "\n\n",
        "\n",
        "/** doc */",
        "// c\n",
        "'q a'",
        "\"s\"",
        "⇒",
        "é",
        "🙂",
        ",",
        "[X|T]",
        " a(idle, X)",
        "::",
        "_",
        " 1.5",
        " X is N + 1",
    ];

    fn source() -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(PIECES), 0..40).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
        /// Whatever the text and the offset (past the end, inside a character), every feature
        /// answers without panicking, and what it returns lies within the text.
        #[test]
        fn every_feature_answers_on_any_text_at_any_offset(text in source(), offsets in proptest::collection::vec(0u32..400, 1..6)) {
            let db = Database::default();
            let file = SourceFile::new(&db, "p.lcc".into(), text.clone());
            let len = text.len() as u32;
            let inside = |s: Span| s.start <= s.end && s.end <= len;
            for t in ide::semantic_tokens(&db, file) {
                prop_assert!(t.start < t.end && t.end <= len);
            }
            for s in ide::document_symbols(&db, file) {
                prop_assert!(inside(s.range) && inside(s.focus));
            }
            for offset in offsets {
                if let Some((span, _)) = ide::hover(&db, file, offset) {
                    prop_assert!(inside(span));
                }
                for t in ide::definition(&db, file, offset) {
                    prop_assert!(inside(t.range) && inside(t.focus));
                }
                for t in ide::references(&db, file, &[file], offset, true) {
                    prop_assert!(inside(t.focus));
                }
                let _ = ide::completions(&db, file, &[file], offset);
                let _ = ide::signature_help(&db, file, offset);
                if let Ok(edits) = ide::rename(&db, file, &[file], offset, "Renamed") {
                    for (_, span, _) in edits {
                        prop_assert!(inside(span));
                    }
                }
                let _ = ide::prepare_rename(&db, file, offset);
            }
        }
    }
}

#[test]
fn completion_after_a_finished_clause_offers_a_new_one() {
    for source in ["a(r, I) ::\n    null\n\n$0", "a(r, I) ::\n    null.\n$0"] {
        let f = Fixture::new(source);
        let items = ide::completions(&f.db, f.file, &[f.file], f.at(0));
        assert!(items.iter().any(|i| i.label == "a(role, Id) ::"), "{source:?}: {items:?}");
        assert!(!items.iter().any(|i| i.label == "then"), "{source:?}");
    }
}

#[test]
fn completion_offers_the_variables_of_the_event_being_typed_and_only_them_at_a_peer_id() {
    let guard = Fixture::new(
        "a(buyer, B) ::\n    ask(X) => a(shop, S) <- $0\n\na(shop, S) ::\n    ask(X) <= a(buyer, B)\n",
    );
    let items = ide::completions(&guard.db, guard.file, &[guard.file], guard.at(0));
    let vars: Vec<&str> =
        items.iter().filter(|i| i.kind == CompletionKind::Variable).map(|i| i.label.as_str()).collect();
    assert!(vars.contains(&"X") && vars.contains(&"S") && vars.contains(&"B"), "{vars:?}");
    let peer = Fixture::new(
        "a(buyer, B) ::\n    ask(X) => a(shop, $0)\n\na(shop, S) ::\n    ask(X) <= a(buyer, B)\n",
    );
    let items = ide::completions(&peer.db, peer.file, &[peer.file], peer.at(0));
    assert!(!items.is_empty() && items.iter().all(|i| i.kind == CompletionKind::Variable), "{items:?}");
}
