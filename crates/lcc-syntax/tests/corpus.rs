//! The shared corpus (`../shared/corpus`, LCC.md section 8) through the front end:
//! - every model file parses with no error, and the only warnings are the dialect codes
//!   W0001..W0007, each at the construct that calls for it;
//! - one insta snapshot per file of its S-expression AST (and its diagnostics);
//! - the OK kernel's precedence test: the trees stated in the comments of
//!   `okkernel/precedence_test.lcc` are the trees lcc builds.
//!
//! The corpus lives beside the repository (`/work/shared` next to `/work/main`, and the same in
//! CI); it is never copied into the repository. When it is absent each test says that it
//! skipped and passes.

// Test code: a failed expectation is a panic, and indexing a checked vector is fine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{CORPUS, compact};
use lcc_syntax::ast::{Def, DefKind, EventKind, ItemKind, Model};
use lcc_syntax::diagnostic::LineIndex;
use lcc_syntax::{Severity, parse, sexpr};
use std::path::{Path, PathBuf};

/// The dialect warnings of LCC.md section 1: the only diagnostics a corpus file may have.
const DIALECT_CODES: [&str; 7] = ["W0001", "W0002", "W0003", "W0004", "W0005", "W0006", "W0007"];

/// A model file of the corpus: its path relative to the corpus root and its text.
struct CorpusFile {
    name: String,
    source: String,
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("readable corpus directory")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Every model file of the corpus (`EXPECTED.md` and other documentation are not models), or
/// `None` with the skip message printed when the corpus is not there.
fn corpus() -> Option<Vec<CorpusFile>> {
    let root = Path::new(CORPUS);
    if !root.is_dir() {
        println!("skipped: ../shared/corpus not found");
        return None;
    }
    let mut paths = Vec::new();
    collect(root, &mut paths);
    let files: Vec<CorpusFile> = paths
        .into_iter()
        .filter(|p| p.extension().is_none_or(|ext| ext != "md"))
        .map(|path| {
            let name = path.strip_prefix(root).expect("under the root").to_string_lossy().replace('\\', "/");
            let source = std::fs::read_to_string(&path).expect("a UTF-8 corpus file");
            CorpusFile { name, source }
        })
        .collect();
    assert!(!files.is_empty(), "the corpus at {CORPUS} holds no model file");
    Some(files)
}

#[test]
fn every_corpus_file_parses_with_only_dialect_warnings() {
    let Some(files) = corpus() else { return };
    let mut failures = String::new();
    for file in &files {
        let (model, diags) = parse(&file.source);
        for d in &diags {
            if d.severity == Severity::Error || !DIALECT_CODES.contains(&d.code.id) {
                failures.push_str(&d.render_to_string(&file.name, &file.source));
            }
        }
        assert!(!model.items.is_empty(), "{}: no item parsed", file.name);
        for item in &model.items {
            assert!(!matches!(item.kind, ItemKind::Error), "{}: an error item at {:?}", file.name, item.span);
        }
    }
    assert!(failures.is_empty(), "corpus files with errors or non-dialect warnings:\n{failures}");
}

/// Each dialect construct of the corpus and the warning it must produce: the code, the line,
/// and the text the primary span starts with. Files not listed here must have no diagnostic
/// at all (new files added to the corpus later are only held to the test above).
/// A diagnostic as the table states it: code, line, start of the underlined text.
type Expected = (&'static str, usize, &'static str);

const DIALECT_EXPECTATIONS: &[(&str, &[Expected])] = &[
    ("external/baile/booktrip.lcc", &[]),
    ("external/lij/comparison.lcc", &[]),
    ("external/lij/diningphilosophers.lcc", &[]),
    ("external/lij/helloworld.lcc", &[]),
    // LiJ's special constraint, written as a call of a variable.
    ("external/lij/ping.lcc", &[("W0006", 39, "_findPeers")]),
    (
        "external/okeilidh/MTurk.xlcc",
        &[
            // xlcc groups with braces ...
            ("W0002", 18, "{"),
            // ... instantiates a role with a body-less clause head ...
            ("W0004", 24, "a(publisher('Annotate this page"),
            // ... and OKeilidh deploys with plays/knows facts.
            ("W0003", 26, "plays(\"alice@"),
            ("W0003", 27, "plays(\"amazon@"),
            ("W0003", 28, "knows(\"http:"),
        ],
    ),
    // The WebLCC header binds peers to roles.
    ("external/okeilidh/example.lcc", &[("W0001", 1, "header")]),
    ("external/okeilidh/purchase.im", &[]),
    // The OK kernel's own test file has one `)` too many after an annotation.
    ("external/okkernel/annotation.lcc", &[("W0007", 33, ")")]),
    ("external/okkernel/list-op.lcc", &[]),
    ("external/okkernel/no-annotation.lcc", &[]),
    ("external/okkernel/precedence_test.lcc", &[]),
    ("external/okkernel/weather_forecast_ann.lcc", &[]),
    ("seed/balance_fig2.lcc", &[]),
    ("seed/balance_slides.lcc", &[]),
    ("seed/buyer_shopkeeper.lcc", &[]),
];

#[test]
fn each_dialect_construct_gets_its_warning() {
    let Some(files) = corpus() else { return };
    for (name, expected) in DIALECT_EXPECTATIONS {
        let Some(file) = files.iter().find(|f| f.name == *name) else {
            panic!("{name} is not in the corpus any more; update DIALECT_EXPECTATIONS");
        };
        let (_, diags) = parse(&file.source);
        let index = LineIndex::new(&file.source);
        let got: Vec<(&str, usize, &str)> = diags
            .iter()
            .map(|d| {
                let (line, _) = index.line_col(&file.source, d.span.start);
                let text = file.source.get(d.span.range()).unwrap_or("");
                (d.code.id, line, text)
            })
            .collect();
        assert_eq!(
            got.len(),
            expected.len(),
            "{name}: expected {} diagnostics, got:\n{}",
            expected.len(),
            compact(&diags, &file.source)
        );
        for ((code, line, text), (want_code, want_line, want_start)) in got.iter().zip(expected.iter()) {
            assert_eq!(
                (*code, *line),
                (*want_code, *want_line),
                "{name}:\n{}",
                compact(&diags, &file.source)
            );
            assert!(
                text.starts_with(want_start),
                "{name}:{line}: {code} should underline `{want_start}…`, underlines `{text}`"
            );
        }
        // Dialect warnings come with advice: what the construct is and what to write instead.
        for d in &diags {
            assert!(d.label.is_some() && d.help.is_some(), "{name}: {} lacks a label or help", d.code.id);
        }
    }
}

#[test]
fn ast_snapshots() {
    let Some(files) = corpus() else { return };
    for file in &files {
        let (model, diags) = parse(&file.source);
        let mut text = sexpr::model(&model);
        if diags.is_empty() {
            text.push_str("--- no diagnostics\n");
        } else {
            text.push_str("--- diagnostics\n");
            text.push_str(&compact(&diags, &file.source));
        }
        let snapshot = file.name.replace('/', "__");
        insta::with_settings!({ description => file.name.as_str(), omit_expression => true }, {
            insta::assert_snapshot!(snapshot, text);
        });
    }
}

// ---- the OK kernel's precedence test -----------------------------------------------------------

/// A tree with `a`, `b`, `c` at the leaves, as the comments of precedence_test.lcc write them.
#[derive(Clone, Debug, PartialEq)]
enum Tree {
    Leaf(char),
    Node(String, Vec<Tree>),
}

impl Tree {
    /// Chains of one operator made flat: `or(or(a,b),c)` and `or(a,or(b,c))` both become
    /// `or(a,b,c)`.
    fn flatten(self) -> Tree {
        match self {
            Tree::Leaf(c) => Tree::Leaf(c),
            Tree::Node(op, children) => {
                let mut flat = Vec::new();
                for child in children {
                    match child.flatten() {
                        Tree::Node(inner, grandchildren) if inner == op => flat.extend(grandchildren),
                        other => flat.push(other),
                    }
                }
                Tree::Node(op, flat)
            }
        }
    }

    fn show(&self) -> String {
        match self {
            Tree::Leaf(c) => c.to_string(),
            Tree::Node(op, children) => {
                let parts: Vec<String> = children.iter().map(Tree::show).collect();
                format!("{op}({})", parts.join(","))
            }
        }
    }
}

/// Parses the notation of the comments: `then( or(a,b), c)`.
fn parse_tree(text: &str) -> Tree {
    fn node(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Tree {
        let mut word = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_ascii_alphabetic() {
                word.push(c);
                chars.next();
            } else if c == ' ' {
                chars.next();
            } else {
                break;
            }
        }
        if chars.peek() != Some(&'(') {
            assert_eq!(word.len(), 1, "a leaf is one letter, got `{word}`");
            return Tree::Leaf(word.chars().next().unwrap());
        }
        chars.next();
        let mut children = vec![node(chars)];
        loop {
            while chars.peek() == Some(&' ') {
                chars.next();
            }
            match chars.next() {
                Some(',') => children.push(node(chars)),
                Some(')') => return Tree::Node(word, children),
                other => panic!("unexpected {other:?} in a stated tree"),
            }
        }
    }
    node(&mut text.trim().chars().peekable())
}

/// The tree lcc built for a clause body: events become `a`, `b`, `c` after the message
/// functors `msgA`, `msgB`, `msgC`; parentheses only group.
fn body_tree(def: &Def) -> Tree {
    let def = def.ungrouped();
    if let Some((op, left, right)) = def.as_binary() {
        return Tree::Node(op.keyword().to_string(), vec![body_tree(left), body_tree(right)]);
    }
    let DefKind::Event(event) = &def.kind else { panic!("an error node in the precedence test") };
    let EventKind::Send { message, .. } = &event.kind else { panic!("the precedence test only sends") };
    let (functor, _) = message.functor().expect("a message with a functor");
    let letter = functor.strip_prefix("msg").expect("msgA, msgB or msgC");
    Tree::Leaf(letter.to_ascii_lowercase().chars().next().unwrap())
}

/// For each clause, the last `Should generate tree:` comment between the previous item and it.
fn stated_trees(model: &Model) -> Vec<(String, Tree, Tree)> {
    let mut out = Vec::new();
    let mut from = 0;
    for item in &model.items {
        let ItemKind::Clause(clause) = &item.kind else {
            from = item.span.end;
            continue;
        };
        let stated = model
            .comments
            .iter()
            .filter(|c| c.span.start >= from && c.span.end <= item.span.start)
            .filter_map(|c| c.text.split_once("Should generate tree:").map(|(_, tree)| tree))
            .next_back();
        from = item.span.end;
        let Some(stated) = stated else { continue };
        let role = sexpr::term(&clause.head.role);
        let body = clause.body.as_ref().expect("a clause with a body");
        out.push((role, parse_tree(stated), body_tree(body)));
    }
    out
}

#[test]
fn precedence_test_gives_the_trees_its_comments_state() {
    let Some(files) = corpus() else { return };
    let file = files
        .iter()
        .find(|f| f.name == "external/okkernel/precedence_test.lcc")
        .expect("precedence_test.lcc");
    let (model, diags) = parse(&file.source);
    assert!(diags.is_empty(), "{}", compact(&diags, &file.source));
    let trees = stated_trees(&model);
    let roles: Vec<&str> = trees.iter().map(|(role, _, _)| role.as_str()).collect();
    assert_eq!(roles, ["role1", "role2", "role3", "role4", "role5"], "one stated tree per clause");
    for (role, stated, built) in &trees {
        // The kernel writes `a or b or c` as `or(or(a,b),c)` (left-nested); lcc builds every
        // definition operator right-nested (LCC.md section 3), `or(a,or(b,c))`. All three
        // operators are associative, so the two mean the same: compare the flattened forms,
        // which is also what `sexpr` prints. Operators and operand order must match exactly.
        assert_eq!(
            built.clone().flatten().show(),
            stated.clone().flatten().show(),
            "{role}: the comment states {}, lcc built {}",
            stated.show(),
            built.show()
        );
    }
    // The one place where nesting differs, written down: role5 is right-nested in lcc.
    let (_, stated5, built5) = &trees[4];
    assert_eq!(stated5.show(), "or(or(a,b),c)");
    assert_eq!(built5.show(), "or(a,or(b,c))");
}

#[test]
fn stated_tree_notation_is_read_as_written() {
    assert_eq!(parse_tree(" then( or(a,b), c)").show(), "then(or(a,b),c)");
    assert_eq!(parse_tree("or( then(a,b),c )").show(), "or(then(a,b),c)");
    assert_eq!(parse_tree("or( or(a,b), c )").flatten().show(), "or(a,b,c)");
    // Flattening never merges different operators.
    assert_eq!(parse_tree("or(a, then(b,c))").flatten().show(), "or(a,then(b,c))");
}
