//! Every construct of LCC.md sections 2 and 3, as insta snapshots of the compact S-expression
//! AST (`lcc_syntax::sexpr`). Each snapshot holds, for every case of one feature, the source,
//! a line `---`, the tree, and the diagnostics (`CODE line:col message`) if there are any, so
//! that a reader checks the tree against the source without leaving the file.
//!
//! Reading the trees: `(clause (a Role Id) Def)`, `(send Msg (a Role Id) <- Guard)`,
//! `(recv …)`, `(become (a Role Id))` for a role change, `(null)`; `then`/`or`/`par` chains are
//! printed flat (they are associative) and parentheses, which only group, are not printed.
//! Atoms print bare when they can, quoted otherwise; strings print with Rust escapes.

// Test code: a failed expectation is a panic, and indexing a checked vector is fine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::compact;
use lcc_syntax::ast::{CommentKind, DefKind, EventKind, ItemKind, Model};
use lcc_syntax::{Diagnostic, parse, sexpr};

/// One case: the source, `---`, the tree and the diagnostics.
fn case(source: &str) -> String {
    let (model, diags) = parse(source);
    format!("{}\n---\n{}{}", source.trim_end(), sexpr::model(&model), compact(&diags, source))
}

/// Several cases, separated by blank lines; none may have an error.
fn cases(sources: &[&str]) -> String {
    for source in sources {
        let (_, diags) = parse(source);
        let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
        assert!(errors.is_empty(), "{source}\n{}", compact(&diags, source));
    }
    sources.iter().map(|s| case(s)).collect::<Vec<_>>().join("\n\n")
}

fn tree(source: &str) -> String {
    let (model, diags) = parse(source);
    assert!(diags.is_empty(), "{source}\n{}", compact(&diags, source));
    sexpr::model(&model)
}

/// All spellings of one operator give one tree.
fn same_tree(spellings: &[&str]) {
    let first = tree(spellings[0]);
    for other in &spellings[1..] {
        assert_eq!(tree(other), first, "`{other}` and `{}` differ", spellings[0]);
    }
}

// ---- section 2: operators and their spellings -------------------------------------------------

const CLAUSE_OPS: [&str; 2] = ["a(r, X) :: null", "a(r, X) ::= null"];
const SEND_OPS: [&str; 2] = ["a(r, X) :: m(X) => a(s, Y)", "a(r, X) :: m(X) ⇒ a(s, Y)"];
const RECEIVE_OPS: [&str; 2] = ["a(r, X) :: m(X) <= a(s, Y)", "a(r, X) :: m(X) ⇐ a(s, Y)"];
const GUARD_OPS: [&str; 3] =
    ["a(r, X) :: null <- ok(X)", "a(r, X) :: null <-- ok(X)", "a(r, X) :: null ← ok(X)"];
const AND_OPS: [&str; 3] =
    ["a(r, X) :: null <- p(X) and q(X)", "a(r, X) :: null <- p(X) ∧ q(X)", "a(r, X) :: null <- p(X) && q(X)"];
// The word `or` is a connective of the guard only inside parentheses (LCC.md section 3: at the
// top level of a guard it is the choice between definitions); `∨` and `||` are always.
const OR_OPS: [&str; 3] = [
    "a(r, X) :: null <- (p(X) or q(X))",
    "a(r, X) :: null <- p(X) ∨ q(X)",
    "a(r, X) :: null <- p(X) || q(X)",
];
const NOT_OPS: [&str; 3] =
    ["a(r, X) :: null <- not p(X)", "a(r, X) :: null <- ¬ p(X)", "a(r, X) :: null <- \\+ p(X)"];

#[test]
fn every_spelling_of_an_operator_gives_the_same_tree() {
    same_tree(&CLAUSE_OPS);
    same_tree(&SEND_OPS);
    same_tree(&RECEIVE_OPS);
    same_tree(&GUARD_OPS);
    same_tree(&AND_OPS);
    same_tree(&OR_OPS);
    same_tree(&NOT_OPS);
}

#[test]
fn operator_spellings() {
    let all: Vec<&str> =
        [&CLAUSE_OPS[..], &SEND_OPS, &RECEIVE_OPS, &GUARD_OPS, &AND_OPS, &OR_OPS, &NOT_OPS].concat();
    insta::assert_snapshot!(cases(&all));
}

#[test]
fn comparisons() {
    insta::assert_snapshot!(cases(&[
        "a(r, X) :: null <- A = B",
        "a(r, X) :: null <- A \\= B",
        "a(r, X) :: null <- A == B",
        "a(r, X) :: null <- A \\== B",
        "a(r, X) :: null <- A != B",
        "a(r, X) :: null <- A < B",
        "a(r, X) :: null <- A > B",
        "a(r, X) :: null <- A =< B",
        "a(r, X) :: null <- A >= B",
        "a(r, X) :: null <- A =:= B",
        "a(r, X) :: null <- A =\\= B",
        // Operands are terms: compounds, lists, strings.
        "a(r, X) :: null <- f(A, [1]) \\== \"s\"",
    ]));
}

#[test]
fn arithmetic_and_is() {
    insta::assert_snapshot!(cases(&[
        // `*` binds tighter than `+`.
        "a(r, X) :: null <- X is A + B * C",
        "a(r, X) :: null <- X is (A + B) * C",
        // Left associative.
        "a(r, X) :: null <- X is A - B - C",
        "a(r, X) :: null <- X is A * B / C mod D",
        "a(r, X) :: null <- X is A mod 2 + B / 4",
        // Unary minus: on a variable it is a negation, right before a number a literal.
        "a(r, X) :: null <- X is -A + 2",
        "a(r, X) :: null <- X is A - -2",
        // Arithmetic on both sides of a comparison, and inside parentheses.
        "a(r, X) :: null <- Y * 2 + 1 > X - 1",
        "a(r, X) :: null <- X =:= 2 * (Y - 1)",
        // Comparisons bind tighter than `and`, `and` tighter than `||`, `not` tightest.
        "a(r, X) :: null <- N1 is N - 1 and N1 >= 0 || not N > 3 and N < 9",
    ]));
}

// ---- section 3: items ---------------------------------------------------------------------------

#[test]
fn role_declarations() {
    insta::assert_snapshot!(cases(&[
        // Two, three and four arguments; every kind; a compound role.
        "r(buyer, initial)\n\
         r(shop, necessary, 1)\n\
         r(helper, optional, 0, 3)\n\
         r(waiter(L), auxiliary)\n\
         r(logger, auxiliary, 1, 1).",
        // LiJ's kinds: read, with a dialect warning each.
        "r(ticker, cyclic)\nr(idler, uncommitted, 2)",
    ]));
}

#[test]
fn role_declaration_fields() {
    let (model, _) = parse("r(helper, optional, 0, 3)\nr(x, uncommitted)");
    let decls: Vec<_> = model
        .items
        .iter()
        .map(|i| match &i.kind {
            ItemKind::RoleDecl(d) => (d.kind.name(), d.min.map(|m| m.0), d.max.map(|m| m.0)),
            other => panic!("not a role declaration: {other:?}"),
        })
        .collect();
    assert_eq!(decls, [("optional", Some(0), Some(3)), ("uncommitted", None, None)]);
}

#[test]
fn annotations() {
    insta::assert_snapshot!(cases(&[
        "@annotation(@constraint(getPeerState(_)), total)",
        // Nested, as the OK kernel writes per-role annotations; values are any term.
        "@annotation(@role(buyer), @annotation(@message(ask(X)), commit(X)))",
        "@annotation(@variable(X), rdf(\"http://example.org/words#Greeting\")).",
        // An annotation does not swallow the clause after it.
        "@annotation(@role(p), @annotation(@variable(Y), city))\na(p, X) :: null <- at(Y)",
    ]));
}

#[test]
fn comments() {
    let source = "\
/** The buyer.
    Asks, then pays. */
r(buyer, initial) // a line comment
% a Prolog comment
a(buyer, B) ::        /* a block comment */
  ask(X /* inside a term */) => a(shop, S) then   % after an operator
  // between events
  note(\"50% off // not a comment\", 'it\\'s /* not one */') => a(shop, S)
/* at the end, with no newline */";
    let (model, diags) = parse(source);
    let listed: String = model.comments.iter().map(|c| format!("{:?} {:?}\n", c.kind, c.text)).collect();
    insta::assert_snapshot!(format!(
        "{}\n---\n{}{}---\n{listed}",
        source,
        sexpr::model(&model),
        compact(&diags, source)
    ));
    let kinds: Vec<CommentKind> = model.comments.iter().map(|c| c.kind).collect();
    use CommentKind::*;
    assert_eq!(kinds, [Block, Line, Percent, Block, Block, Percent, Line, Block]);
    assert!(model.comments[0].is_doc() && !model.comments[3].is_doc());
    // Every comment's span is exactly its text.
    for c in &model.comments {
        assert_eq!(source.get(c.span.range()), Some(c.text.as_str()));
    }
}

// ---- section 3: definitions -----------------------------------------------------------------------

#[test]
fn definition_operators_and_precedence() {
    insta::assert_snapshot!(cases(&[
        "a(r, X) :: m1 => a(s, Y) then m2 <= a(s, Y)",
        "a(r, X) :: m1 => a(s, Y) par m2 => a(t, Z)",
        // Tightest first: `or`, `par`, `then` (LCC.md section 3; the OK kernel's order).
        "a(r, X) :: m1 => a(s, Y) then m2 => a(s, Y) par m3 => a(s, Y) or m4 => a(s, Y)",
        "a(r, X) :: m1 => a(s, Y) or m2 => a(s, Y) par m3 => a(s, Y) then m4 => a(s, Y)",
        // Parentheses group (and are not printed: `(m1 then m2) then m3` is `m1 then m2 then m3`).
        "a(r, X) :: (m1 => a(s, Y) then m2 => a(s, Y)) or m3 => a(s, Y)",
        "a(r, X) :: (m1 => a(s, Y) then m2 => a(s, Y)) then m3 => a(s, Y)",
        "a(r, X) :: ((null))",
        // xlcc braces group like parentheses, with a dialect warning.
        "a(r, X) :: m1 <= a(s, Y) then { m2 => a(s, Y) or a(r, X) }",
    ]));
}

#[test]
fn events() {
    insta::assert_snapshot!(cases(&[
        // null, with and without a guard.
        "a(r, X) :: null",
        "a(r, X) :: null <- ready(X)",
        // Role changes, with a guard, with a compound role.
        "a(r, X) :: a(idle, X)",
        "a(r, X) :: a(busy(N), X) <- load(N) and N > 3",
        // A receive's guard after the message, and before it (guard-first form).
        "a(r, X) :: ask(Q) <= a(s, Y) <- valid(Q)",
        "a(r, X) :: valid(Q) <- ask(Q) <= a(s, Y)",
        "a(r, X) :: Q > 0 and ok(Q) <- ask(Q) <= a(s, Y)",
        // A send's guard (solved before the send).
        "a(r, X) :: ask(Q) => a(s, Y) <- pick(Q)",
        // Discovery-style sends: the peer id is unbound or anonymous.
        "a(r, X) :: hello(X) => a(server, S) then welcome <= a(server, S)",
        "a(r, X) :: hello(X) => a(server, _)",
    ]));
}

#[test]
fn guard_first_receive_is_marked() {
    let (model, _) = parse("a(r, X) :: ok(Q) <- ask(Q) <= a(s, Y) then ask(Q) <= a(s, Y) <- ok(Q)");
    let ItemKind::Clause(clause) = &model.items[0].kind else { panic!() };
    let Some((_, first, second)) = clause.body.as_ref().unwrap().as_binary() else { panic!() };
    let guard_first = |d: &lcc_syntax::ast::Def| match &d.kind {
        DefKind::Event(e) => match &e.kind {
            EventKind::Receive { guard_first, .. } => *guard_first && e.guard.is_some(),
            _ => panic!("not a receive"),
        },
        _ => panic!("not an event"),
    };
    assert!(guard_first(first));
    assert!(!guard_first(second));
}

#[test]
fn optional_terminators() {
    let source = "r(p, initial).\nr(q, necessary)\n@annotation(@role(p), x).\na(p, X) :: null.\na(q, Y) :: null\na(s, Z) :: null. a(t, W) :: null.";
    insta::assert_snapshot!(case(source));
    let (model, diags) = parse(source);
    assert!(diags.is_empty());
    let terminated: Vec<bool> = model.items.iter().map(|i| i.terminated).collect();
    assert_eq!(terminated, [true, false, true, true, false, true, true]);
}

// ---- section 2: terms -------------------------------------------------------------------------------

#[test]
fn terms() {
    insta::assert_snapshot!(cases(&[
        // Nested compounds and lists.
        "a(r, X) :: order(item(book, isbn(\"0-13\")), [qty(2), [gift, wrap]]) => a(s, Y)",
        // Lists: empty, with a tail, with several items and a tail.
        "a(r, X) :: null <- L = [] and L2 = [H | T] and L3 = [1, 2 | Rest]",
        // Strings with every escape; quoted atoms with spaces and an escaped quote.
        "a(r, X) :: say(\"a \\\"quote\\\", a \\\\ backslash,\\na newline and\\ta tab\") => a(s, Y)",
        "a(r, X) :: say('hello world', 'it\\'s', 'Upper', plain) => a(s, Y)",
        // Numbers: negative integers, floats, exponents.
        "a(r, X) :: at(-3, 0, 42, 1.5, -2.25, 6.02e23, 1.0E-3) => a(s, Y)",
        "a(r, X) :: null <- X = -7 and Y = -0.5",
        // Variables, `_` and `_Name`.
        "a(r, X) :: pair(X, _, _Ignored, Y2) => a(s, Y)",
        // `f()` is the atom `f` (LCC.md section 2).
        "a(r, X) :: ping() => a(s, Y) then null <- ready()",
        // `a` and `r` are atoms outside agent and role-declaration positions.
        "a(r, X) :: a => a(r, Y) then pair(a, r) <= a(r, Y) then null <- X = a and r(X) \\= r",
        "r(a, initial)\na(a, X) :: null",
    ]));
}

#[test]
fn empty_argument_list_is_the_atom() {
    assert_eq!(tree("a(r, X) :: ping() => a(s, Y)"), tree("a(r, X) :: ping => a(s, Y)"));
    assert_eq!(tree("a(r, X) :: null <- ready()"), tree("a(r, X) :: null <- ready"));
}

#[test]
fn strings_and_atoms_are_different_values() {
    assert_ne!(tree("a(r, X) :: m(\"ok\") => a(s, Y)"), tree("a(r, X) :: m(ok) => a(s, Y)"));
    assert_ne!(tree("a(r, X) :: m(\"ok\") => a(s, Y)"), tree("a(r, X) :: m('ok') => a(s, Y)"));
    // A quoted atom that needs no quotes is the plain atom.
    assert_eq!(tree("a(r, X) :: m('ok') => a(s, Y)"), tree("a(r, X) :: m(ok) => a(s, Y)"));
}

#[test]
fn whitespace_is_insignificant() {
    assert_eq!(
        tree("a(r,X)::m=>a(s,Y)then n<=a(s,Y)<-X>=1"),
        tree("a( r , X )\n::\n\tm\n=>\na( s , Y )\r\nthen\n n <= a(s, Y) <- X >= 1")
    );
}

#[test]
fn nodes_carry_their_spans() {
    let source = "a(r, X) :: ask(Q) => a(s, Y) <- pick(Q)";
    let (model, _) = parse(source);
    let item = &model.items[0];
    assert_eq!(source.get(item.span.range()), Some(source));
    let ItemKind::Clause(clause) = &item.kind else { panic!() };
    assert_eq!(source.get(clause.head.span.range()), Some("a(r, X)"));
    let body = clause.body.as_ref().unwrap();
    assert_eq!(source.get(body.span.range()), Some("ask(Q) => a(s, Y) <- pick(Q)"));
    let DefKind::Event(event) = &body.kind else { panic!() };
    let guard = event.guard.as_ref().unwrap();
    assert_eq!(source.get(guard.arrow.range()), Some("<-"));
    assert_eq!(source.get(guard.constraint.span.range()), Some("pick(Q)"));
    let EventKind::Send { message, to } = &event.kind else { panic!() };
    assert_eq!(source.get(message.span.range()), Some("ask(Q)"));
    assert_eq!(source.get(to.span.range()), Some("a(s, Y)"));
}

#[test]
fn a_whole_model() {
    let source = "\
// The seed's buyer and shopkeeper, with every kind of item.
r(buyer, initial)
r(shopkeeper, necessary, 1)
@annotation(@constraint(in_stock(_, _)), total)

a(buyer, B) ::
  ask(X) => a(shopkeeper, S) then
  price(X, P) <= a(shopkeeper, S) then
  (
    buy(X, P) => a(shopkeeper, S) <- afford(X, P) then sold(X, P) <= a(shopkeeper, S)
  )
  or
  null <- not afford(X, P)

a(shopkeeper, S) ::
  ask(X) <= a(buyer, B) then
  price(X, P) => a(buyer, B) <- in_stock(X, P) then
  buy(X, P) <= a(buyer, B) then
  sold(X, P) => a(buyer, B)
";
    insta::assert_snapshot!(case(source));
    let (model, diags): (Model, _) = parse(source);
    assert!(diags.is_empty());
    assert_eq!(model.items.len(), 5);
}
