//! Robustness properties of the front end: the lexer, the parser and the formatter never panic,
//! whatever the input, and what they return is consistent.
//!
//! Inputs come from four families:
//! - random bytes, made text with `String::from_utf8_lossy`;
//! - "token soup": random concatenations of LCC fragments (`a(`, `::`, `then`, `<-`, `"`, …);
//! - random edits of the files in `shared/corpus` (delete, duplicate or swap tokens, truncate
//!   at a byte, insert a fragment); skipped with a message when the corpus is not there;
//! - well-formed models built from the grammar, so that the formatter round trip is exercised
//!   on many inputs it accepts.
//!
//! Invariants checked on every input:
//! - every token, diagnostic span (primary, secondary, fix edits), item, comment and AST node
//!   span lies within the source, starts no later than it ends, and falls on char boundaries;
//! - when `format_source` succeeds, its output parses with no errors, means the same
//!   (`sexpr::model` is equal), keeps every comment, and formatting it again changes nothing.
//!
//! Each property runs 256 cases by default (the one on long models a quarter of that); set
//! `PROPTEST_CASES` to change that (e.g.
//! `PROPTEST_CASES=5000 cargo test -p lcc-syntax --release --test robustness`).

mod common;

use common::CORPUS;
use lcc_syntax::ast::*;
use lcc_syntax::{Diagnostic, format, lexer, parse, sexpr};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::TestCaseError;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

// ---- span invariants -------------------------------------------------------------------------

fn check_range(source: &str, start: usize, end: usize, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(start <= end, "{what}: start {start} > end {end}");
    prop_assert!(end <= source.len(), "{what}: end {end} past the source ({} bytes)", source.len());
    prop_assert!(source.is_char_boundary(start), "{what}: start {start} inside a character");
    prop_assert!(source.is_char_boundary(end), "{what}: end {end} inside a character");
    Ok(())
}

fn check_span(source: &str, span: Span, what: &str) -> Result<(), TestCaseError> {
    check_range(source, span.start as usize, span.end as usize, what)
}

fn check_diagnostic(source: &str, diag: &Diagnostic) -> Result<(), TestCaseError> {
    let what = format!("diagnostic {} `{}`", diag.code.name, diag.message);
    check_span(source, diag.span, &what)?;
    for label in &diag.labels {
        check_span(source, label.span, &format!("{what}, label `{}`", label.message))?;
    }
    if let Some(fix) = &diag.fix {
        for edit in &fix.edits {
            check_span(source, edit.span, &format!("{what}, fix `{}`", fix.message))?;
        }
    }
    Ok(())
}

/// Walks the AST and checks every span in it.
struct SpanWalker<'a> {
    source: &'a str,
}

impl SpanWalker<'_> {
    fn span(&self, span: Span, what: &str) -> Result<(), TestCaseError> {
        check_span(self.source, span, what)
    }

    fn item(&self, item: &Item) -> Result<(), TestCaseError> {
        self.span(item.span, "item")?;
        match &item.kind {
            ItemKind::Clause(clause) => {
                self.agent(&clause.head)?;
                if let Some(body) = &clause.body {
                    self.def(body)?;
                }
            }
            ItemKind::RoleDecl(decl) => {
                self.term(&decl.role)?;
                self.span(decl.kind_span, "role kind")?;
                for (_, span) in decl.min.iter().chain(decl.max.iter()) {
                    self.span(*span, "role count")?;
                }
            }
            ItemKind::Annotation(ann) => {
                self.annotation_arg(&ann.target)?;
                self.annotation_arg(&ann.value)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn annotation_arg(&self, arg: &AnnotationArg) -> Result<(), TestCaseError> {
        match arg {
            AnnotationArg::Tagged { args, span, .. } => {
                self.span(*span, "annotation argument")?;
                for a in args {
                    self.annotation_arg(a)?;
                }
                Ok(())
            }
            AnnotationArg::Term(t) => self.term(t),
        }
    }

    fn agent(&self, agent: &Agent) -> Result<(), TestCaseError> {
        self.span(agent.span, "agent")?;
        self.term(&agent.role)?;
        self.term(&agent.id)
    }

    fn def(&self, def: &Def) -> Result<(), TestCaseError> {
        self.span(def.span, "definition")?;
        match &def.kind {
            DefKind::Then(a, b) | DefKind::Or(a, b) | DefKind::Par(a, b) => {
                self.def(a)?;
                self.def(b)
            }
            DefKind::Group { inner, .. } => self.def(inner),
            DefKind::Event(event) => self.event(event),
            _ => Ok(()),
        }
    }

    fn event(&self, event: &Event) -> Result<(), TestCaseError> {
        self.span(event.span, "event")?;
        match &event.kind {
            EventKind::Send { message, to: agent } | EventKind::Receive { message, from: agent, .. } => {
                self.term(message)?;
                self.agent(agent)?;
            }
            EventKind::Null { span } => self.span(*span, "null")?,
            EventKind::RoleChange(agent) => self.agent(agent)?,
        }
        if let Some(guard) = &event.guard {
            self.span(guard.arrow, "guard arrow")?;
            self.constraint(&guard.constraint)?;
        }
        Ok(())
    }

    fn constraint(&self, c: &Constraint) -> Result<(), TestCaseError> {
        self.span(c.span, "constraint")?;
        match &c.kind {
            ConstraintKind::And(a, b) | ConstraintKind::Or(a, b) => {
                self.constraint(a)?;
                self.constraint(b)
            }
            ConstraintKind::Not(a) => self.constraint(a),
            ConstraintKind::Call(t) => self.term(t),
            ConstraintKind::Compare { lhs, rhs, .. } | ConstraintKind::Is { lhs, rhs } => {
                self.term(lhs)?;
                self.term(rhs)
            }
            _ => Ok(()),
        }
    }

    fn term(&self, t: &Term) -> Result<(), TestCaseError> {
        self.span(t.span, "term")?;
        match &t.kind {
            TermKind::Compound { args, .. } => args.iter().try_for_each(|a| self.term(a)),
            TermKind::List { items, tail } => {
                items.iter().try_for_each(|a| self.term(a))?;
                tail.iter().try_for_each(|a| self.term(a))
            }
            TermKind::Arith { lhs, rhs, .. } => {
                self.term(lhs)?;
                self.term(rhs)
            }
            TermKind::Neg(a) => self.term(a),
            _ => Ok(()),
        }
    }
}

/// The lexer and the parser: no panic, and every span is sound.
fn check_front_end(source: &str) -> Result<(), TestCaseError> {
    let tokens = lexer::tokenize(source);
    let mut previous_end = 0;
    for tok in &tokens {
        check_range(source, tok.start, tok.end, "token")?;
        prop_assert!(tok.start < tok.end, "empty token {:?} at {}", tok.token, tok.start);
        prop_assert!(
            tok.start >= previous_end,
            "token {:?} at {} overlaps the previous one",
            tok.token,
            tok.start
        );
        previous_end = tok.end;
    }

    let (model, diags) = parse(source);
    for diag in &diags {
        check_diagnostic(source, diag)?;
    }
    let walker = SpanWalker { source };
    for item in &model.items {
        walker.item(item)?;
    }
    for comment in &model.comments {
        check_span(source, comment.span, "comment")?;
    }
    Ok(())
}

/// The parser's speed-ups change nothing: parsing in segments gives what lexing the whole file
/// first gives, and the fast path for well-formed clauses builds what the grammar builds, only
/// where the grammar reports nothing (`lcc_syntax::parser::fast::differential`).
fn check_fast_path(source: &str) -> Result<(), TestCaseError> {
    match lcc_syntax::parser::fast::differential(source) {
        Ok(_) => Ok(()),
        Err(message) => Err(TestCaseError::fail(message)),
    }
}

fn error_summary(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}..{} {}: {}", d.span.start, d.span.end, d.code.name, d.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The formatter: no panic; when it accepts the source, its output is clean, equivalent and
/// stable.
fn check_formatter(source: &str) -> Result<(), TestCaseError> {
    let Ok(formatted) = format::format_source(source) else {
        return Ok(());
    };
    let (before, _) = parse(source);
    let (after, diags) = parse(&formatted);
    prop_assert!(
        !diags.iter().any(Diagnostic::is_error),
        "the formatted text does not parse: {}\n--- input\n{source}\n--- output\n{formatted}",
        error_summary(&diags)
    );
    let (want, got) = (sexpr::model(&before), sexpr::model(&after));
    prop_assert!(
        want == got,
        "formatting changed the meaning\n--- input\n{source}\n--- output\n{formatted}\n--- sexpr before\n{want}--- sexpr after\n{got}"
    );
    prop_assert_eq!(
        before.comments.len(),
        after.comments.len(),
        "formatting lost or added comments\n--- input\n{}\n--- output\n{}",
        source,
        formatted
    );
    match format::format_source(&formatted) {
        Ok(again) => prop_assert!(
            again == formatted,
            "formatting is not idempotent\n--- input\n{source}\n--- first\n{formatted}\n--- second\n{again}"
        ),
        Err(diags) => prop_assert!(
            false,
            "the formatter refuses its own output: {}\n--- output\n{formatted}",
            error_summary(&diags)
        ),
    }
    Ok(())
}

// ---- input families --------------------------------------------------------------------------

/// Fragments that LCC source is made of, with the usual mistakes among them.
const FRAGMENTS: &[&str] = &[
    "a(",
    "r(",
    "a",
    "r",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "|",
    ",",
    ".",
    "::",
    "::=",
    "then",
    "or",
    "par",
    "and",
    "not",
    "is",
    "mod",
    "null",
    "<-",
    "<--",
    "=>",
    "<=",
    "⇒",
    "⇐",
    "←",
    "∧",
    "∨",
    "¬",
    "&&",
    "||",
    "\\+",
    "=",
    "\\=",
    "==",
    "\\==",
    "!=",
    "<",
    ">",
    "=<",
    ">=",
    "=:=",
    "=\\=",
    "+",
    "-",
    "*",
    "/",
    "\"",
    "\"str\"",
    "\"a\\\"b\\n\"",
    "'",
    "'quoted atom'",
    "'it\\'s'",
    "/*",
    "*/",
    "/* note */",
    "/** doc */",
    "//",
    "// line\n",
    "%",
    "% prolog\n",
    "X",
    "Y",
    "Id",
    "_",
    "_Tmp",
    "f(",
    "g(",
    "msg(",
    "f()",
    "ok",
    "idle",
    "initial",
    "0",
    "7",
    "42",
    "-3",
    "1.5",
    "2.0e3",
    "99999999999999999999",
    "1.0e999",
    "\n",
    "\n\n",
    " ",
    "\t",
    "@annotation(",
    "@role(",
    "@",
    "é",
    "\\",
    "!",
    ":",
    ";",
    "header(",
    "plays(",
    "knows(",
    "\u{feff}",
    "a(r, X) ::",
    "a(",
];

fn token_soup() -> impl Strategy<Value = String> {
    let piece = (select(FRAGMENTS), select(&["", " ", " ", "\n", "\r\n", "\r"][..]));
    prop::collection::vec(piece, 0..80).prop_map(|pieces| {
        let mut out = String::new();
        for (fragment, sep) in pieces {
            out.push_str(fragment);
            out.push_str(sep);
        }
        out
    })
}

fn random_text() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u8>(), 0..400).prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

fn corpus_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            corpus_files(&path, out);
        } else if path.extension().is_some_and(|e| e != "md") {
            out.push(path);
        }
    }
}

/// The text of every model in the shared corpus; empty (with a message) when it is absent.
fn corpus() -> &'static [String] {
    static CORPUS_TEXTS: OnceLock<Vec<String>> = OnceLock::new();
    CORPUS_TEXTS.get_or_init(|| {
        let mut paths = Vec::new();
        corpus_files(Path::new(CORPUS), &mut paths);
        let texts: Vec<String> = paths.iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect();
        if texts.is_empty() {
            println!("skipped: ../shared/corpus not found");
        }
        texts
    })
}

#[derive(Clone, Debug)]
enum Edit {
    Delete(Index),
    Duplicate(Index),
    SwapWithNext(Index),
    Truncate(Index),
    Insert(Index, &'static str),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<Index>().prop_map(Edit::Delete),
        any::<Index>().prop_map(Edit::Duplicate),
        any::<Index>().prop_map(Edit::SwapWithNext),
        any::<Index>().prop_map(Edit::Truncate),
        (any::<Index>(), select(FRAGMENTS)).prop_map(|(i, f)| Edit::Insert(i, f)),
    ]
}

fn slice(text: &str, start: usize, end: usize) -> &str {
    text.get(start..end).unwrap_or("")
}

fn apply_edit(text: &str, edit: &Edit) -> String {
    let tokens = lexer::tokenize(text);
    let len = text.len();
    let token =
        |i: &Index| (!tokens.is_empty()).then(|| i.index(tokens.len())).and_then(|i| tokens.get(i).copied());
    match edit {
        Edit::Truncate(at) => {
            let mut cut = if len == 0 { 0 } else { at.index(len + 1) };
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            slice(text, 0, cut).to_string()
        }
        Edit::Delete(i) => match token(i) {
            Some(t) => format!("{}{}", slice(text, 0, t.start), slice(text, t.end, len)),
            None => text.to_string(),
        },
        Edit::Duplicate(i) => match token(i) {
            Some(t) => {
                format!(
                    "{} {}{}",
                    slice(text, 0, t.end),
                    slice(text, t.start, t.end),
                    slice(text, t.end, len)
                )
            }
            None => text.to_string(),
        },
        Edit::SwapWithNext(i) => {
            let pair = token(i).and_then(|a| {
                let next = tokens.iter().position(|t| t.start >= a.end)?;
                Some((a, *tokens.get(next)?))
            });
            match pair {
                Some((a, b)) => [
                    slice(text, 0, a.start),
                    slice(text, b.start, b.end),
                    slice(text, a.end, b.start),
                    slice(text, a.start, a.end),
                    slice(text, b.end, len),
                ]
                .concat(),
                None => text.to_string(),
            }
        }
        Edit::Insert(i, fragment) => {
            let at = token(i).map_or(len, |t| t.start);
            format!("{} {fragment} {}", slice(text, 0, at), slice(text, at, len))
        }
    }
}

fn corpus_edit() -> impl Strategy<Value = String> {
    (any::<Index>(), prop::collection::vec(edit(), 1..4)).prop_map(|(file, edits)| {
        let texts = corpus();
        if texts.is_empty() {
            return String::new();
        }
        let mut text = texts.get(file.index(texts.len())).cloned().unwrap_or_default();
        for e in &edits {
            text = apply_edit(&text, e);
        }
        text
    })
}

// ---- well-formed models ------------------------------------------------------------------------

const VARS: &[&str] = &["X", "Y", "Id", "Need", "PeerID", "_", "_Skip", "List"];
const ATOMS: &[&str] = &["ok", "idle", "h1", "a", "r", "x_y", "vmState"];
const QUOTED: &[&str] = &["'hello world'", "'then'", "'it\\'s'", "'X'", "'a\\\\b'", "'tab\\there'", "'é'"];
const STRINGS: &[&str] = &["\"ok\"", "\"\"", "\"say \\\"hi\\\"\"", "\"line\\nbreak\"", "\"é ⇒\""];
const NUMBERS: &[&str] = &["0", "7", "42", "1.5", "2.0e3", "3.25E-2", "9223372036854775807"];
const FUNCTORS: &[&str] = &["f", "msg", "vm", "host", "a", "r", "'quoted f'"];
const CMP_OPS: &[&str] = &["=", "\\=", "==", "\\==", "!=", "<", ">", "=<", ">=", "=:=", "=\\="];
const CALLS: &[&str] =
    &["ready", "check(X)", "free(Need, host(h))", "member(X, [1, 2])", "f()", "a(idle, X)", "'q'(1)"];

fn term() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        3 => select(VARS).prop_map(str::to_string),
        3 => select(ATOMS).prop_map(str::to_string),
        1 => select(QUOTED).prop_map(str::to_string),
        1 => select(STRINGS).prop_map(str::to_string),
        2 => select(NUMBERS).prop_map(str::to_string),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        let arg = prop_oneof![
            4 => inner.clone(),
            1 => select(&["-1", "-2.5", "- 3"][..]).prop_map(str::to_string),
        ];
        prop_oneof![
            (select(FUNCTORS), prop::collection::vec(arg.clone(), 0..4))
                .prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
            prop::collection::vec(arg.clone(), 0..4).prop_map(|items| format!("[{}]", items.join(", "))),
            (prop::collection::vec(arg, 1..3), select(&["T", "_", "[]", "[x]"][..]))
                .prop_map(|(items, tail)| format!("[{} | {tail}]", items.join(", "))),
        ]
    })
}

fn expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        select(VARS).prop_map(str::to_string),
        select(&["0", "1", "2.5", "100"][..]).prop_map(str::to_string),
        select(&["size(X)", "max(X, Y)"][..]).prop_map(str::to_string),
    ];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), select(&["+", "-", "*", "/", "mod"][..]), inner.clone())
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            inner.clone().prop_map(|a| format!("({a})")),
            (select(&["-", "- "][..]), inner).prop_map(|(minus, a)| format!("{minus}{a}")),
        ]
    })
}

fn condition() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        2 => select(CALLS).prop_map(str::to_string),
        2 => (expr(), select(CMP_OPS), expr()).prop_map(|(a, op, b)| format!("{a} {op} {b}")),
        1 => (select(VARS), expr()).prop_map(|(v, e)| format!("{v} is {e}")),
        1 => term().prop_map(|t| format!("p({t})")),
    ];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), select(&["and", "&&", "∧"][..]), inner.clone())
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            (inner.clone(), select(&["||", "∨"][..]), inner.clone())
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} or {b})")),
            (select(&["not ", "\\+ ", "¬"][..]), inner.clone()).prop_map(|(op, a)| format!("{op}{a}")),
            inner.prop_map(|a| format!("({a})")),
        ]
    })
}

fn agent() -> impl Strategy<Value = String> {
    (select(&["buyer", "shop", "idle", "overloaded(Need)", "r", "'odd role'"][..]), select(VARS))
        .prop_map(|(role, id)| format!("a({role}, {id})"))
}

/// An optional guard, with its arrow (or nothing).
fn guard() -> impl Strategy<Value = String> {
    prop::option::of(condition()).prop_map(|c| c.map(|c| format!(" <- {c}")).unwrap_or_default())
}

fn event() -> impl Strategy<Value = String> {
    let arrow = select(&["=>", "<=", "⇒", "⇐"][..]);
    prop_oneof![
        (term(), arrow, agent(), guard()).prop_map(|(m, op, a, g)| format!("{m} {op} {a}{g}")),
        guard().prop_map(|g| format!("null{g}")),
        (agent(), guard()).prop_map(|(a, g)| format!("{a}{g}")),
        (select(CALLS), term(), agent()).prop_map(|(c, m, a)| format!("{c} <- {m} <= {a}")),
    ]
}

fn definition() -> impl Strategy<Value = String> {
    event().prop_recursive(4, 16, 2, |inner| {
        prop_oneof![
            (inner.clone(), select(&["then", "or", "par"][..]), inner.clone(), select(&[" ", "\n  "][..]))
                .prop_map(|(a, op, b, sep)| format!("{a}{sep}{op} {b}")),
            inner.prop_map(|d| format!("( {d} )")),
        ]
    })
}

fn well_formed_item() -> impl Strategy<Value = String> {
    let comment = select(&["", "// a comment\n", "% prolog comment\n", "/* block */\n", "/** doc */\n"][..]);
    let dot = || select(&["", "."][..]);
    prop_oneof![
        6 => (comment, agent(), definition(), dot()).prop_map(|(c, head, body, dot)| format!("{c}{head} ::\n  {body}{dot}\n")),
        1 => (select(&["buyer", "shop(X)"][..]), select(&["initial", "necessary", "optional", "auxiliary", "cyclic"][..]),
              select(&["", ", 1", ", 0, 3"][..]), dot())
            .prop_map(|(role, kind, counts, dot)| format!("r({role}, {kind}{counts}){dot}\n")),
        1 => (term(), dot()).prop_map(|(t, dot)| format!("@annotation(@role(buyer), {t}){dot}\n")),
    ]
}

fn well_formed_model() -> impl Strategy<Value = String> {
    prop::collection::vec(well_formed_item(), 1..4).prop_map(|items| items.join("\n"))
}

/// A long model (hundreds to thousands of tokens, so that the parser works in several
/// segments): well-formed items mixed with edited corpus files and token soup.
fn long_model() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        6 => well_formed_item(),
        1 => corpus_edit(),
        1 => token_soup(),
    ];
    prop::collection::vec(part, 5..25).prop_map(|parts| parts.join("\n"))
}

// ---- properties ----------------------------------------------------------------------------------

proptest! {
    // 256 cases unless PROPTEST_CASES says otherwise.
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn front_end_survives_random_bytes(source in random_text()) {
        check_front_end(&source)?;
    }

    #[test]
    fn front_end_survives_token_soup(source in token_soup()) {
        check_front_end(&source)?;
    }

    #[test]
    fn front_end_survives_corpus_edits(source in corpus_edit()) {
        check_front_end(&source)?;
    }

    #[test]
    fn front_end_accepts_well_formed_models(source in well_formed_model()) {
        check_front_end(&source)?;
        let (_, diags) = parse(&source);
        prop_assert!(
            !diags.iter().any(Diagnostic::is_error),
            "a well-formed model has errors: {}\n{source}",
            error_summary(&diags)
        );
    }

    #[test]
    fn fast_path_agrees_with_the_grammar_on_well_formed_models(source in well_formed_model()) {
        check_fast_path(&source)?;
    }

    #[test]
    fn fast_path_agrees_with_the_grammar_on_edited_models(
        source in well_formed_model(),
        edits in prop::collection::vec(edit(), 1..3),
    ) {
        let mut text = source;
        for e in &edits {
            text = apply_edit(&text, e);
        }
        check_fast_path(&text)?;
    }

    #[test]
    fn fast_path_agrees_with_the_grammar_on_corpus_edits(source in corpus_edit()) {
        check_fast_path(&source)?;
    }

    #[test]
    fn fast_path_agrees_with_the_grammar_on_token_soup(source in token_soup()) {
        check_fast_path(&source)?;
    }

    #[test]
    fn formatter_survives_random_bytes(source in random_text()) {
        check_formatter(&source)?;
    }

    #[test]
    fn formatter_survives_token_soup(source in token_soup()) {
        check_formatter(&source)?;
    }

    #[test]
    fn formatter_survives_corpus_edits(source in corpus_edit()) {
        check_formatter(&source)?;
    }

    #[test]
    fn formatter_round_trips_well_formed_models(source in well_formed_model()) {
        check_formatter(&source)?;
    }
}

/// The unedited corpus passes every check (and tells when it is missing).
#[test]
fn corpus_files_pass_every_check() {
    let texts = corpus();
    for text in texts {
        let result =
            check_front_end(text).and_then(|()| check_formatter(text)).and_then(|()| check_fast_path(text));
        assert!(result.is_ok(), "{result:?}");
    }
}

/// The number of cases of the properties on long inputs: a quarter of the others'.
fn long_cases() -> u32 {
    (ProptestConfig::default().cases / 4).max(1)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(long_cases()))]

    #[test]
    fn fast_path_and_segments_agree_with_the_plain_parser_on_long_models(source in long_model()) {
        check_fast_path(&source)?;
    }
}

/// The whole corpus as one file: long enough for the parser to work in several segments.
#[test]
fn corpus_as_one_file_parses_as_the_plain_parser_does() {
    let joined = corpus().join("\n");
    let result = check_front_end(&joined).and_then(|()| check_fast_path(&joined));
    assert!(result.is_ok(), "{result:?}");
}

/// Deep nesting and long operator chains: the parser's fast path recurses only up to a fixed
/// depth and leaves deeper input to the grammar (whose stack is on the heap); chains are loops.
/// Either way the result is the plain parser's, with no error, and nothing overflows the stack.
/// (Brackets nest 900 deep, under the parser's limit of 1,000 and past the fast path's own;
/// chains are 2,000 long: few enough for the recursive `Drop` of the tree on a test thread's
/// stack in a debug build.)
#[test]
fn deep_nesting_and_long_chains_parse_like_the_plain_parser() {
    let (d, n) = (900, 2_000);
    let sources = [
        format!("a(r, X) :: m({}x{}) => a(r, X)", "f(".repeat(d), ")".repeat(d)),
        format!("a(r, X) :: m({}x{}) => a(r, X)", "[".repeat(d), "]".repeat(d)),
        format!("a(r, X) :: {}null{}", "(".repeat(d), ")".repeat(d)),
        format!("a(r, X) :: null <- {}p{}", "(".repeat(d), ")".repeat(d)),
        format!("a(r, X) :: null <- X > {}1{}", "(".repeat(d), ")".repeat(d)),
        format!("a(r, X) :: {}", vec!["null"; n].join(" then ")),
        format!("a(r, X) :: {}", vec!["null"; n].join(" or ")),
        format!("a(r, X) :: null <- {}", vec!["p"; n].join(" and ")),
        format!("a(r, X) :: null <- ({})", vec!["p"; n].join(" or ")),
        format!("a(r, X) :: null <- {}p", "not ".repeat(n)),
        format!("a(r, X) :: null <- X > {}1", "- ".repeat(n)),
        format!("a(r, X) :: null <- X is {}", vec!["1"; n].join(" + ")),
    ];
    for source in &sources {
        let (_, diags) = parse(source);
        assert!(!diags.iter().any(Diagnostic::is_error), "{}", error_summary(&diags));
        let result = check_fast_path(source);
        assert!(result.is_ok(), "{result:?}");
    }
}

/// Past the limits, the item is refused with E0013 (the rest of the file still parses), so no
/// later stage recurses deeper than the limits allow.
#[test]
fn nesting_and_chains_past_the_limits_are_refused() {
    let deep = 1_001;
    let long = 100_002; // nulls: 100,001 `then`s, one past the limit
    let sources = [
        format!("a(r, X) :: m({}x{}) => a(r, X)\na(s, Y) :: null", "f(".repeat(deep), ")".repeat(deep)),
        format!("a(r, X) :: {}\na(s, Y) :: null", vec!["null"; long].join(" then ")),
        format!("a(r, X) :: null <- X > {}1\na(s, Y) :: null", "- ".repeat(long)),
    ];
    for source in &sources {
        let (model, diags) = parse(source);
        assert!(diags.iter().any(|d| d.code.id == "E0013"), "{}", error_summary(&diags));
        assert_eq!(model.items.len(), 2, "the next clause is still parsed");
        assert!(matches!(model.items.get(1).map(|i| &i.kind), Some(lcc_syntax::ast::ItemKind::Clause(_))));
        let result = check_fast_path(source);
        assert!(result.is_ok(), "{result:?}");
    }
}

/// Inputs that the fuzzer (fuzz/) found breaking an invariant, kept as regressions.
const FUZZ_REGRESSIONS: &[&str] = &[
    // An xlcc `{ … }` group whose `}` the facade supplied at the end of the item: the
    // "closed here" label and the fix pointed one byte past the end of the source.
    "S::{}{",
    "a(x, X) :: { null",
];

#[test]
fn fuzz_regressions() {
    for source in FUZZ_REGRESSIONS {
        let result = check_front_end(source)
            .and_then(|()| check_formatter(source))
            .and_then(|()| check_fast_path(source));
        assert!(result.is_ok(), "{source:?}: {result:?}");
    }
}

/// Lone carriage returns (`\r\r\n`) in text the formatter copies (a WebLCC header, a block
/// comment). Found by the fuzzer: the formatter turned each `\r\n` into `\n` once, which left
/// `\r\n` behind, so the second pass changed the text again.
const FORMATTER_CR_REGRESSIONS: &[&str] = &["header\r\r\ne", "/* x\r\r\ny */\na(r, X) :: null\n"];

// Found by fuzzing: `\r\r\n` used to be normalised in two steps, so formatting twice differed.
#[test]
fn formatter_is_idempotent_on_lone_carriage_returns() {
    for source in FORMATTER_CR_REGRESSIONS {
        let result = check_formatter(source);
        assert!(result.is_ok(), "{source:?}: {result:?}");
    }
}

// Found by the token-soup property: the lexer ends a `//` comment only at `\n`, and the
// formatter used to turn a lone `\r` into a line break, also inside a comment it copies
// verbatim (here in a WebLCC header), so the rest of the comment became code.
#[test]
fn formatter_keeps_comments_with_a_lone_cr() {
    for source in ["header(//a(\r@annotation(a(\na", "header([\n// x\ry(\n])\na(r, X) :: null\n"] {
        let result = check_formatter(source);
        assert!(result.is_ok(), "{source:?}: {result:?}");
    }
}
