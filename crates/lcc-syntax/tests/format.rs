//! The canonical formatter: on every corpus file it succeeds, is idempotent, keeps the
//! meaning (the S-expression of the model) and keeps every comment; snapshots pin the layout.

mod common;

use common::CORPUS;
use common::rng::Rng;
use lcc_syntax::ast::{CommentKind, Model};
use lcc_syntax::format::{format_range, format_source};
use lcc_syntax::{parse, sexpr};
use std::path::{Path, PathBuf};

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
        assert!(
            formatted.ends_with('\n') && !formatted.ends_with("\n\n"),
            "{name}: must end with one newline"
        );
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

// ---- refusal, edge cases ---------------------------------------------------------------------

#[test]
fn refuses_files_with_syntax_errors() {
    let result = format_source("a(r, X) :: m => a(s, Y) then then\n");
    assert!(result.is_err());
    let errors = result.err().unwrap_or_default();
    assert!(!errors.is_empty() && errors.iter().all(|d| d.is_error()));
    assert!(format_range("a(r, X) :: (m => a(s, Y)\n", 0, 1).is_err());
}

#[test]
fn empty_and_comment_only_files() {
    assert_eq!(check("empty", ""), "");
    assert_eq!(check("blank", "\n\n  \n"), "");
    assert_eq!(
        check("comments only", "\n\n// one\n\n\n/* two */   % three\n\n"),
        "// one\n\n/* two */ % three\n"
    );
}

#[test]
fn crlf_sources_come_out_with_lf() {
    let source =
        "// head\r\nr(a, initial)\r\n\r\na(a, X) :: /* x\r\n y */ m => a(b, Y) // t\r\n then null\r\n";
    let formatted = check("crlf", source);
    assert!(!formatted.contains('\r'), "{formatted:?}");
    assert_eq!(
        formatted,
        "// head\nr(a, initial)\n\na(a, X) :: /* x\n y */\n    m => a(b, Y) then // t\n    null\n"
    );
}

// ---- range formatting ------------------------------------------------------------------------

fn apply(source: &str, edits: &[lcc_syntax::diagnostic::TextEdit]) -> String {
    let mut out = source.to_string();
    let mut sorted: Vec<_> = edits.iter().collect();
    sorted.sort_by_key(|e| std::cmp::Reverse(e.span.start));
    for e in sorted {
        out.replace_range(e.span.start as usize..e.span.end as usize, &e.replacement);
    }
    out
}

const RANGE_SOURCE: &str = "\
r(a,initial)  // roles
r(b,necessary)

a(a,X)::m1=>a(b,Y) // first
  then m2<=a(b,Y)
    % inside, own line
  then null<-c(X)


a(b,Y)::m1<=a(a,X) then
  m2=>a(a,X)
";

#[test]
fn range_formatting_rewrites_only_the_items_it_touches() {
    let at = |needle: &str| u32::try_from(RANGE_SOURCE.find(needle).unwrap_or(0)).unwrap_or(0);
    // A cursor inside the first clause: only that clause changes (with its comments).
    let edits = format_range(RANGE_SOURCE, at("m2<="), at("m2<=")).unwrap_or_default();
    assert_eq!(edits.len(), 1);
    let applied = apply(RANGE_SOURCE, &edits);
    insta::assert_snapshot!("range_one_clause", applied);
    assert!(applied.starts_with("r(a,initial)  // roles\nr(b,necessary)\n\na(a, X) ::\n"));
    assert!(applied.ends_with("\n\n\na(b,Y)::m1<=a(a,X) then\n  m2=>a(a,X)\n"));
    let (before, _) = parse(RANGE_SOURCE);
    let (after, _) = parse(&applied);
    assert_eq!(sexpr::model(&before), sexpr::model(&after));
    assert_eq!(comment_texts(&before), comment_texts(&after));

    // A selection over the role declarations reformats both, keeping the trailing comment.
    let edits = format_range(RANGE_SOURCE, at("initial"), at("necessary")).unwrap_or_default();
    let applied = apply(RANGE_SOURCE, &edits);
    assert!(applied.starts_with("r(a, initial) // roles\nr(b, necessary)\n\na(a,X)::"), "{applied}");

    // The whole file as one range gives what the whole-file formatter gives.
    let len = u32::try_from(RANGE_SOURCE.len()).unwrap_or(0);
    let whole = apply(RANGE_SOURCE, &format_range(RANGE_SOURCE, 0, len).unwrap_or_default());
    assert_eq!(whole, format_source(RANGE_SOURCE).unwrap_or_default());

    // Outside every item, or over formatted text: no edits.
    assert!(format_range(RANGE_SOURCE, at("\n\n\n") + 1, at("\n\n\n") + 1).unwrap_or_default().is_empty());
    let formatted = format_source(RANGE_SOURCE).unwrap_or_default();
    let flen = u32::try_from(formatted.len()).unwrap_or(0);
    assert!(format_range(&formatted, 0, flen).unwrap_or_default().is_empty());
}

#[test]
fn range_formatting_puts_an_item_that_shares_a_line_on_its_own_line() {
    let source = "r(a, initial). r(b,initial). // end\n";
    let start = u32::try_from(source.find("r(b").unwrap_or(0)).unwrap_or(0);
    let applied = apply(source, &format_range(source, start, start + 1).unwrap_or_default());
    assert_eq!(applied, "r(a, initial).\nr(b, initial). // end\n");
}

// ---- random models ---------------------------------------------------------------------------

/// Builds a model as a token list; the separators between tokens (where comments and line
/// breaks go) are chosen afterwards.
struct Gen {
    rng: Rng,
    toks: Vec<String>,
}

impl Gen {
    fn tok(&mut self, t: &str) {
        self.toks.push(t.to_string());
    }

    fn term(&mut self, depth: u32) {
        match if depth >= 2 { self.rng.below(7) } else { self.rng.below(11) } {
            0 | 1 => {
                let v = self.rng.pick(&["X", "Y", "Need", "_", "_Acc", "T"]);
                self.tok(v);
            }
            2 => {
                let a = self.rng.pick(&["ok", "a", "r", "'hello world'", "'or'", "'it\\'s'", "nil"]);
                self.tok(a);
            }
            3 => {
                let n = self.rng.pick(&["0", "42", "-7", "1.50", "-2.5e3"]);
                self.tok(n);
            }
            4 => {
                let s = self.rng.pick(&["\"ok\"", "\"say \\\"hi\\\"\"", "\"a\\\\b\\n\\tc\"", "\"\""]);
                self.tok(s);
            }
            5 => {
                let f = self.rng.pick(&["ping", "f", "_findPeers"]);
                self.tok(f);
                self.tok("(");
                self.tok(")");
            }
            6 if depth >= 2 => self.tok("[]"),
            6 | 7 => {
                self.tok("[");
                let n = 1 + self.rng.below(3);
                for i in 0..n {
                    if i > 0 {
                        self.tok(",");
                    }
                    self.term(depth + 1);
                }
                if self.rng.chance(40) {
                    self.tok("|");
                    self.term(depth + 1);
                }
                self.tok("]");
            }
            _ => {
                let f = self.rng.pick(&["msg", "vm", "'Quoted'", "pair"]);
                self.tok(f);
                self.tok("(");
                let n = 1 + self.rng.below(3);
                for i in 0..n {
                    if i > 0 {
                        self.tok(",");
                    }
                    self.term(depth + 1);
                }
                self.tok(")");
            }
        }
    }

    /// A term that the grammar's `Term` rule accepts (no negative literal at the top).
    fn plain_term(&mut self, depth: u32) {
        let before = self.toks.len();
        self.term(depth);
        if self.toks.get(before).is_some_and(|t| t.starts_with('-')) {
            self.toks.truncate(before);
            self.tok("Z");
        }
    }

    fn expr(&mut self, depth: u32) {
        match if depth >= 2 { self.rng.below(3) } else { self.rng.below(7) } {
            0 | 1 => self.plain_term(3),
            2 => {
                let n = self.rng.pick(&["3", "-3", "0.5"]);
                self.tok(n);
            }
            3 | 4 => {
                self.expr(depth + 1);
                let op = self.rng.pick(&["+", "-", "*", "/", "mod"]);
                self.tok(op);
                self.expr(depth + 1);
            }
            5 => {
                self.tok("-");
                self.expr(depth + 1);
            }
            _ => {
                self.tok("(");
                self.expr(depth + 1);
                let op = self.rng.pick(&["+", "-", "*", "/"]);
                self.tok(op);
                self.expr(depth + 1);
                self.tok(")");
            }
        }
    }

    fn call(&mut self) {
        let c = self.rng.pick(&["ready", "check", "'odd name'"]);
        self.tok(c);
        if self.rng.chance(60) {
            self.tok("(");
            self.term(2);
            self.tok(")");
        }
    }

    /// A condition in parentheses or after `and`/`not` (`inside`: the word `or` is allowed).
    fn cond(&mut self, depth: u32, inside: bool) {
        match if depth >= 2 { self.rng.below(3) } else { self.rng.below(8) } {
            0 => self.call(),
            1 => {
                self.expr(1);
                let op = self.rng.pick(&["=", "\\=", "==", "<", ">=", "=<", "=:=", "!="]);
                self.tok(op);
                self.expr(1);
            }
            2 => {
                self.plain_term(3);
                self.tok("is");
                self.expr(0);
            }
            3 => {
                let not = self.rng.pick(&["not", "\\+", "¬"]);
                self.tok(not);
                self.cond(depth + 1, false);
            }
            4 | 5 => {
                self.cond(depth + 1, false);
                let and = self.rng.pick(&["and", "&&", "∧"]);
                self.tok(and);
                self.cond(depth + 1, inside);
            }
            6 => {
                self.cond(depth + 1, false);
                let or = if inside { self.rng.pick(&["or", "||", "∨"]) } else { "||" };
                self.tok(or);
                self.cond(depth + 1, inside);
            }
            _ => {
                self.tok("(");
                self.cond(depth + 1, true);
                self.tok(")");
            }
        }
    }

    fn agent(&mut self) {
        self.tok("a");
        self.tok("(");
        let role = self.rng.pick(&["buyer", "shop", "idle", "r"]);
        self.tok(role);
        if self.rng.chance(30) {
            self.tok("(");
            self.term(2);
            self.tok(")");
        }
        self.tok(",");
        let id = self.rng.pick(&["X", "Y", "_", "peer1"]);
        self.tok(id);
        self.tok(")");
    }

    fn guard(&mut self) {
        let arrow = self.rng.pick(&["<-", "<--", "←"]);
        self.tok(arrow);
        self.cond(0, false);
    }

    fn event(&mut self) {
        match self.rng.below(9) {
            0 | 1 => {
                self.plain_term(1);
                let send = self.rng.pick(&["=>", "⇒"]);
                self.tok(send);
                self.agent();
            }
            2 | 3 => {
                self.plain_term(1);
                self.tok("<=");
                self.agent();
            }
            4 => {
                // Guard-first receive: the condition starts with a term or `not`.
                match self.rng.below(3) {
                    0 => self.call(),
                    1 => {
                        self.plain_term(2);
                        self.tok(">");
                        self.expr(1);
                    }
                    _ => {
                        self.tok("not");
                        self.cond(1, false);
                    }
                }
                if self.rng.chance(30) {
                    self.tok("&&");
                    self.cond(1, false);
                }
                if self.rng.chance(20) {
                    self.tok("||");
                    self.cond(1, false);
                }
                self.tok("<-");
                self.plain_term(1);
                self.tok("<=");
                self.agent();
                return;
            }
            5 | 6 => self.tok("null"),
            _ => self.agent(),
        }
        if self.rng.chance(40) {
            self.guard();
        }
    }

    fn def(&mut self, depth: u32) {
        match if depth >= 3 { 0 } else { self.rng.below(10) } {
            0..=3 => self.event(),
            4..=7 => {
                self.def(depth + 1);
                let op = self.rng.pick(&["then", "then", "or", "par"]);
                self.tok(op);
                self.def(depth + 1);
            }
            8 => {
                self.tok("(");
                self.def(depth + 1);
                self.tok(")");
            }
            _ => {
                self.tok("{");
                self.def(depth + 1);
                self.tok("}");
            }
        }
    }

    fn item(&mut self) {
        match self.rng.below(6) {
            0 => {
                self.tok("r");
                self.tok("(");
                let role = self.rng.pick(&["buyer", "shop", "idle"]);
                self.tok(role);
                self.tok(",");
                let kind = self.rng.pick(&["initial", "necessary", "optional", "auxiliary"]);
                self.tok(kind);
                if self.rng.chance(50) {
                    self.tok(",");
                    self.tok("1");
                    if self.rng.chance(50) {
                        self.tok(",");
                        self.tok("3");
                    }
                }
                self.tok(")");
            }
            1 => {
                self.tok("@annotation");
                self.tok("(");
                self.tok("@constraint");
                self.tok("(");
                self.call();
                self.tok(")");
                self.tok(",");
                self.tok("total");
                self.tok(")");
            }
            _ => {
                self.agent();
                let op = self.rng.pick(&["::", "::="]);
                self.tok(op);
                self.def(0);
            }
        }
        if self.rng.chance(30) {
            self.tok(".");
        }
    }
}

/// Joins tokens with random separators: spaces, line breaks, blank lines and comments.
fn render(rng: &mut Rng, toks: &[String]) -> String {
    let mut out = String::new();
    let mut n = 0;
    for (i, tok) in toks.iter().enumerate() {
        if i > 0 {
            n += 1;
            let sep = match rng.below(40) {
                0 => format!(" // c{n}\n  "),
                1 => format!("\n  /* c{n} */ "),
                2 => format!(" /* c{n}\n  more */ "),
                3 => format!("\n% c{n}\n  "),
                4 => "\n\n  ".to_string(),
                5..=9 => "\n  ".to_string(),
                _ => " ".to_string(),
            };
            out.push_str(&sep);
        }
        out.push_str(tok);
    }
    // Items begin at the start of a line, comments may come before and after.
    out = out.replace("  a ( ", "a ( ");
    format!("// top\n{out}\n/* tail */\n")
}

#[test]
fn random_models_format_idempotently_and_keep_meaning_and_comments() {
    let mut parsed = 0;
    let total = 1500u64;
    for seed in 0..total {
        let mut g = Gen { rng: Rng(seed.wrapping_mul(0x1CC)), toks: Vec::new() };
        let items = 1 + g.rng.below(4);
        for _ in 0..items {
            g.item();
        }
        let toks = std::mem::take(&mut g.toks);
        let source = render(&mut g.rng, &toks);
        let (_, diags) = parse(&source);
        if diags.iter().any(|d| d.is_error()) {
            continue;
        }
        parsed += 1;
        check(&format!("random model {seed}:\n{source}\n"), &source);
    }
    assert!(parsed * 10 >= total * 9, "only {parsed} of {total} generated models parse");
}
