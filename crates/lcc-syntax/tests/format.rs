//! The canonical formatter: on every corpus file it succeeds, is idempotent, keeps the
//! meaning (the S-expression of the model) and keeps every comment; snapshots pin the layout.

use lcc_syntax::ast::{CommentKind, Model};
use lcc_syntax::format::{format_range, format_source};
use lcc_syntax::{parse, sexpr};
use std::path::{Path, PathBuf};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");

/// A comment's text as the formatter must keep it: line breaks are normalised and a line
/// comment loses its trailing whitespace (the `\r` of a CRLF file is part of the lexeme).
fn comment_texts(model: &Model) -> Vec<String> {
    model
        .comments
        .iter()
        .map(|c| match c.kind {
            CommentKind::Block => c.text.replace("\r\n", "\n"),
            CommentKind::Line | CommentKind::Percent => c.text.trim_end().to_string(),
        })
        .collect()
}

/// Formats `source` and checks every property the formatter promises; returns the output.
fn check(name: &str, source: &str) -> String {
    let result = format_source(source);
    assert!(result.is_ok(), "{name}: formatting refused: {:#?}", result.as_ref().err());
    let formatted = result.unwrap_or_default();
    let (before, _) = parse(source);
    let (after, diags) = parse(&formatted);
    let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{name}: the output has syntax errors {errors:#?}\n{formatted}");
    assert_eq!(sexpr::model(&before), sexpr::model(&after), "{name}: meaning changed\n{formatted}");
    assert_eq!(comment_texts(&before), comment_texts(&after), "{name}: comments changed\n{formatted}");
    for text in comment_texts(&before) {
        assert_eq!(
            formatted.matches(text.as_str()).count(),
            source.replace("\r\n", "\n").matches(text.as_str()).count(),
            "{name}: comment {text:?} is not printed exactly once\n{formatted}"
        );
    }
    let again = format_source(&formatted);
    assert!(again.is_ok(), "{name}: second pass refused: {:#?}", again.as_ref().err());
    let again = again.unwrap_or_default();
    assert_eq!(formatted, again, "{name}: not idempotent");
    if !formatted.is_empty() {
        assert!(formatted.ends_with('\n') && !formatted.ends_with("\n\n"), "{name}: must end with one newline");
    }
    for line in formatted.lines() {
        let is_comment_line = line.trim_start().starts_with("/*") || line.trim_start().starts_with('*');
        assert!(
            is_comment_line || line == line.trim_end(),
            "{name}: trailing whitespace in {line:?}\n{formatted}"
        );
    }
    formatted
}

fn corpus_files() -> Option<Vec<PathBuf>> {
    let root = Path::new(CORPUS);
    if !root.is_dir() {
        return None;
    }
    let mut files = Vec::new();
    let list = |dir: &Path, out: &mut Vec<PathBuf>| {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                out.push(entry.path());
            }
        }
    };
    let mut seed = Vec::new();
    list(&root.join("seed"), &mut seed);
    files.extend(seed.into_iter().filter(|p| p.extension().is_some_and(|e| e == "lcc")));
    let mut dialects = Vec::new();
    list(&root.join("external"), &mut dialects);
    for dir in dialects.into_iter().filter(|p| p.is_dir()) {
        list(&dir, &mut files);
    }
    files.retain(|p| p.is_file());
    files.sort();
    Some(files)
}

fn seed(name: &str) -> Option<String> {
    std::fs::read_to_string(Path::new(CORPUS).join("seed").join(name)).ok()
}

#[test]
fn every_corpus_file_formats_idempotently_and_keeps_meaning_and_comments() {
    let Some(files) = corpus_files() else {
        println!("skipped: ../shared/corpus not found");
        return;
    };
    assert!(!files.is_empty(), "the corpus is empty");
    for path in files {
        let source = std::fs::read_to_string(&path);
        assert!(source.is_ok(), "{}: {:?}", path.display(), source.as_ref().err());
        let source = source.unwrap_or_default();
        check(&path.display().to_string(), &source);
    }
}

#[test]
fn seed_balance_fig2() {
    let Some(source) = seed("balance_fig2.lcc") else {
        println!("skipped: ../shared/corpus not found");
        return;
    };
    insta::assert_snapshot!(check("balance_fig2.lcc", &source));
}

#[test]
fn seed_balance_slides() {
    let Some(source) = seed("balance_slides.lcc") else {
        println!("skipped: ../shared/corpus not found");
        return;
    };
    insta::assert_snapshot!(check("balance_slides.lcc", &source));
}

#[test]
fn seed_buyer_shopkeeper() {
    let Some(source) = seed("buyer_shopkeeper.lcc") else {
        println!("skipped: ../shared/corpus not found");
        return;
    };
    insta::assert_snapshot!(check("buyer_shopkeeper.lcc", &source));
}

// ---- targeted inputs -------------------------------------------------------------------------

#[test]
fn precedence_mixing_gets_parentheses_and_chains_print_flat() {
    let source = "\
a(r, X) :: m1 => a(s, Y) or m2 => a(s, Y) then m3 => a(s, Y) par m4 <= a(s, Y) then
  (m5 => a(s, Y) then (m6 => a(s, Y) then m7 => a(s, Y))) or { null <- ready } or (a(r, X))
a(s, Y) :: (((m1 <= a(r, X)))) par m2 <= a(r, X) par (m3 <= a(r, X) par m4 <= a(r, X) or null)
";
    insta::assert_snapshot!(check("precedence", source));
}

#[test]
fn group_as_left_operand_of_then() {
    let source = "\
a(r, X) :: (ping => a(s, Y) or pong => a(s, Y)) then done => a(s, Y).
a(s, Y) :: ((ping <= a(r, X) then null) par (pong <= a(r, X) then null)) then (a(s, Y) or null).
";
    insta::assert_snapshot!(check("group-left-of-then", source));
}

#[test]
fn guards_with_or_and_not() {
    let source = "\
a(r, X) ::
  null <- a || b then
  null <- (a or b) and not c then
  null <- (not (a and b) or \\+ c && d) then
  null <- (a and b) and c then
  null <- ((a or b) or c) and (d or (e or f)) then
  null <- not not X > 3 then
  m => a(s, Y) <- ¬ p(X) ∧ q(X) ∨ r(X) then
  X > 1 || Y < 2 <- m(X, Y) <= a(s, Y) then
  ok(X) && \\+ bad(X) <- m(X) <= a(s, Y) then
  not p(X) <- m(X) <= a(s, Y) then
  a(r, X) <- L == [] or a(s, X)
";
    insta::assert_snapshot!(check("guards", source));
}

#[test]
fn arithmetic_keeps_its_tree_with_minimal_parentheses() {
    let source = "\
a(r, X) ::
  null <- X is (A + B) * C and Y is A - (B - C) and Z is A - B - C then
  null <- W is A / (B * C) and V is A * B / C and U is A + (B + C) then
  null <- N1 is -(A + 1) and N2 is - 5 and N3 is -5 and N4 is -X and N5 is - (-X) then
  null <- X > Y + -3 and X =< Y * 2 and M is A mod B * C and K is A mod (B * C) then
  null <- F is 1.50 * -2.5e3 and G =:= H and H =\\= I and f(-1, - 2) = f(A, B)
";
    insta::assert_snapshot!(check("arithmetic", source));
}

#[test]
fn terms_lists_strings_atoms() {
    let source = r#"
a(r, X) ::
  list([], [a], [H|T], [a, b | [c | T]], [[1, 2], [3 | _]]) => a(s, Y) then
  text("say \"hi\"\\ to\nall\tnow", 'hello world', 'it\'s', 'or', 'Foo'(x), f(), g) <= a(s, Y) then
  null <- _findPeers("agent", S) then
  null <- S = [H | Sr] and atom_length(x, 'A b')
"#;
    insta::assert_snapshot!(check("terms", source));
}

#[test]
fn comments_in_awkward_places() {
    let source = "\
% a Prolog-style header
/* block */ // and a line comment on the same line

// about the roles
r(a, initial) // trailing
r(b, necessary, 1, 3). /* trailing block */
% between declarations
@annotation(@role(a), // inside an annotation
   total)

a(a, X) // before the clause operator
  :: // after it
  m1 => a(b, Y) // after the first event
  then // after then
  ( // after an opening parenthesis
    // own line inside a group
    m2 => a(b, Y) /* inside */ or
    // before the second alternative
    m3 => a(b, Y) <- c(X) % in a guard
    // before the closing parenthesis
  ) then
  m4 => a(b, Y) <- x(X) and /* mid guard */ y(X)
  // after the last event


/* between clauses */
a(b, Y) :: m1 <= a(a, X)
or // after or
m2 <= a(a, X). // after the dot

// at the end
/* really the end */
";
    insta::assert_snapshot!(check("comments", source));
}

#[test]
fn items_keep_terminators_grouping_and_dialect_text() {
    let source = "\
r(buyer, initial).
r(seller, necessary, 1)
@annotation(@constraint(c(_)), total).

r(auditor, optional)
r(x, cyclic)
a(buyer, B) :: m => a(seller, S).
a(seller, S) :: m <= a(buyer, B).
a(publisher(x), P).
plays(\"alice\", buyer).
knows(\"http://example.org/x.js\").
header([ { jid : \"x\", // a comment inside the header
   role : \"\" } ])
a(x, Y) :: null
";
    insta::assert_snapshot!(check("items", source));
}
