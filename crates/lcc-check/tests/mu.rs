#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used, clippy::panic)]
//! The mu-calculus property module: parser, printer, evaluation and evidence.

use lcc_check::mc::graph::Graph;
use lcc_check::mc::mu::{ActionFormula, Evidence, Formula, Regex, check, parse, satisfying_states};
use lcc_check::mc::value::{Action, Value};

// ---------------------------------------------------------------------------------------------
// Helpers

fn atom(name: &str) -> Value {
    Value::atom(name)
}

fn send(msg: &str) -> Action {
    Action::Send { from: atom("p"), to: atom("q"), msg: atom(msg) }
}

/// Parses, with `@m` standing for the pattern `send(_, _, m)`.
fn f(text: &str) -> Formula {
    let mut expanded = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '@' {
            let mut name = String::new();
            while let Some(&d) = chars.peek() {
                if !d.is_alphanumeric() {
                    break;
                }
                name.push(d);
                chars.next();
            }
            expanded.push_str(&format!("send(_, _, {name})"));
        } else {
            expanded.push(c);
        }
    }
    parse(&expanded).unwrap_or_else(|e| panic!("{expanded}: {e}"))
}

/// A graph whose labels are single sends, `(source, message, target)`.
fn graph(states: usize, edges: &[(u32, &str, u32)]) -> Graph {
    let mut labels: Vec<Vec<Action>> = Vec::new();
    let mut list = Vec::new();
    for &(s, msg, t) in edges {
        let label = vec![send(msg)];
        let index = labels.iter().position(|l| *l == label).unwrap_or_else(|| {
            labels.push(label);
            labels.len() - 1
        });
        list.push((s, index as u32, t));
    }
    Graph::from_edges(states, list, labels)
}

fn sat(g: &Graph, text: &str) -> Vec<bool> {
    satisfying_states(g, &f(text))
}

fn bools(s: &str) -> Vec<bool> {
    s.chars().map(|c| c == 'T').collect()
}

fn source(g: &Graph, edge: usize) -> usize {
    (0..g.state_count())
        .find(|&s| (g.offsets[s] as usize..g.offsets[s + 1] as usize).contains(&edge))
        .unwrap()
}

/// Every evidence path must be a real path from state 0, and a lasso must close.
fn assert_path(g: &Graph, evidence: &Evidence) {
    let mut state = 0;
    for &e in &evidence.edges {
        assert_eq!(source(g, e), state, "edge {e} does not leave state {state}: {evidence:?}");
        state = g.targets[e] as usize;
    }
    if let Some(i) = evidence.cycle_start {
        assert!(i < evidence.edges.len(), "{evidence:?}");
        assert_eq!(source(g, evidence.edges[i]), state, "the lasso does not close: {evidence:?}");
    }
}

fn messages(g: &Graph, edges: &[usize]) -> Vec<String> {
    edges
        .iter()
        .map(|&e| match &g.labels[g.edge_labels[e] as usize][0] {
            Action::Send { msg, .. } => msg.to_string(),
            other => other.to_string(),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Parser

fn b(x: Formula) -> Box<Formula> {
    Box::new(x)
}

fn msg_pattern(m: &str) -> Regex {
    Regex::Action(pat(m))
}

fn rb(x: Regex) -> Box<Regex> {
    Box::new(x)
}

#[test]
fn state_precedence() {
    use Formula::*;
    assert_eq!(parse("true && false || true").unwrap(), Or(b(And(b(True), b(False))), b(True)));
    assert_eq!(parse("true || false && true").unwrap(), Or(b(True), b(And(b(False), b(True)))));
    assert_eq!(parse("true => false => true").unwrap(), Implies(b(True), b(Implies(b(False), b(True)))));
    assert_eq!(parse("true || false => true").unwrap(), Implies(b(Or(b(True), b(False))), b(True)));
    assert_eq!(parse("!true && false").unwrap(), And(b(Not(b(True))), b(False)));
    assert_eq!(parse("true && true && false").unwrap(), And(b(And(b(True), b(True))), b(False)));
    let any = Regex::Action(ActionFormula::True);
    assert_eq!(parse("[true] true && false").unwrap(), And(b(Must(any.clone(), b(True))), b(False)));
    assert_eq!(parse("<true> !true").unwrap(), May(any.clone(), b(Not(b(True)))));
    assert_eq!(parse("![true] false").unwrap(), Not(b(Must(any, b(False)))));
    // mu/nu extend as far right as possible.
    let x = || b(Var("X".into()));
    assert_eq!(
        parse("mu X. X && true || false").unwrap(),
        Mu("X".into(), b(Or(b(And(x(), b(True))), b(False))))
    );
    assert_eq!(
        parse("true && nu X. X || false").unwrap(),
        And(b(True), b(Nu("X".into(), b(Or(x(), b(False))))))
    );
    assert_eq!(parse("(mu X. X) && true").unwrap(), And(b(Mu("X".into(), x())), b(True)));
    assert_eq!(parse("  ( true )  ").unwrap(), True);
}

#[test]
fn regex_precedence_and_postfix_plus() {
    let (a, bb, c) = (msg_pattern("a"), msg_pattern("b"), msg_pattern("c"));
    let must = |text: &str| match f(text) {
        Formula::Must(r, _) => r,
        other => panic!("{other:?}"),
    };
    use Regex::*;
    assert_eq!(must("[@a . @b + @c] true"), Choice(rb(Seq(rb(a.clone()), rb(bb.clone()))), rb(c.clone())));
    assert_eq!(must("[@a + @b . @c] true"), Choice(rb(a.clone()), rb(Seq(rb(bb.clone()), rb(c.clone())))));
    assert_eq!(must("[@a . @b*] true"), Seq(rb(a.clone()), rb(Star(rb(bb.clone())))));
    assert_eq!(must("[@a + @b + @c] true"), Choice(rb(Choice(rb(a.clone()), rb(bb.clone()))), rb(c.clone())));
    // Postfix `+` when nothing that starts an expression follows, binary otherwise.
    assert_eq!(must("[@a+] true"), Plus(rb(a.clone())));
    assert_eq!(must("[@a+ + @b] true"), Choice(rb(Plus(rb(a.clone()))), rb(bb.clone())));
    assert_eq!(must("[@a++@b] true"), Choice(rb(Plus(rb(a.clone()))), rb(bb.clone())));
    assert_eq!(must("[@a+ . @b] true"), Seq(rb(Plus(rb(a.clone()))), rb(bb.clone())));
    assert_eq!(must("[@a + (@b)] true"), Choice(rb(a.clone()), rb(bb.clone())));
    assert_eq!(
        must("[@a + !@b] true"),
        Choice(rb(a.clone()), rb(Action(ActionFormula::Not(Box::new(pat("b"))))))
    );
    assert_eq!(must("[@a*+] true"), Plus(rb(Star(rb(a.clone())))));
    assert_eq!(
        must("[(@a . @b)+ . @c] true"),
        Seq(rb(Plus(rb(Seq(rb(a.clone()), rb(bb.clone()))))), rb(c.clone()))
    );
    // Action operators bind tighter than regular ones.
    let or_ab = ActionFormula::Or(Box::new(pat("a")), Box::new(pat("b")));
    assert_eq!(must("[@a || @b*] true"), Star(rb(Action(or_ab.clone()))));
    assert_eq!(must("[(@a || @b)*] true"), Star(rb(Action(or_ab))));
    assert_eq!(
        must("[!@a && @b] true"),
        Action(ActionFormula::And(Box::new(ActionFormula::Not(Box::new(pat("a")))), Box::new(pat("b"))))
    );
    // `true*` is any sequence.
    assert_eq!(must("[true*] true"), Star(rb(Action(ActionFormula::True))));
}

fn pat(m: &str) -> ActionFormula {
    ActionFormula::Pattern(Box::new(Action::Send { from: Value::Unbound, to: Value::Unbound, msg: atom(m) }))
}

#[test]
fn action_patterns() {
    let formula = parse("<send(_, server, req(N)) || recv(A, b, 'x y') || call(P, getLoad(_)) || become(P, overloaded) || done(p)> true").unwrap();
    let Formula::May(Regex::Action(action), _) = formula else { panic!() };
    let text = action.to_string();
    assert_eq!(
        text,
        "send(_, server, req(_)) || recv(_, b, 'x y') || call(_, getLoad(_)) || become(_, overloaded) || done(p)"
    );
    let hit = |label: Vec<Action>| action.matches(&label);
    let req = Value::Compound("req".into(), vec![Value::Int(3)]);
    assert!(hit(vec![Action::Send { from: atom("c"), to: atom("server"), msg: req.clone() }]));
    assert!(!hit(vec![Action::Send { from: atom("c"), to: atom("other"), msg: req }]));
    // A multi-action matches when one of its actions does.
    assert!(hit(vec![send("x"), Action::Done { peer: atom("p") }]));
    assert!(!hit(vec![send("x"), Action::Done { peer: atom("q") }]));
    // The role of `become` matches by functor, other arguments do not.
    let overloaded = Value::Compound("overloaded".into(), vec![atom("?")]);
    assert!(hit(vec![Action::Become { peer: atom("s"), role: overloaded.clone() }]));
    assert!(!hit(vec![Action::Call { peer: atom("s"), constraint: Value::atom("getLoad") }]));
    let only_send = parse("<send(_, _, overloaded)> true").unwrap();
    let Formula::May(Regex::Action(only_send), _) = only_send else { panic!() };
    assert!(!only_send.matches(&[Action::Send { from: atom("a"), to: atom("b"), msg: overloaded }]));
    // Negation is of the whole label.
    let not_a = parse("<!send(_, _, a)> true").unwrap();
    let Formula::May(Regex::Action(not_a), _) = not_a else { panic!() };
    assert!(!not_a.matches(&[send("a"), Action::Done { peer: atom("p") }]));
    assert!(not_a.matches(&[send("b")]));
}

#[test]
fn errors_have_offsets_and_messages() {
    let cases: &[(&str, usize, &str)] = &[
        ("mu x. true", 3, "expected a fixpoint variable"),
        ("mu X true", 5, "expected `.` after the fixpoint variable `X`"),
        ("nu", 2, "expected a fixpoint variable"),
        ("X", 0, "`X` is not bound"),
        ("mu X. Y", 6, "`Y` is not bound"),
        ("mu X. !X", 7, "`X` occurs under an odd number of negations"),
        ("mu X. X => false", 6, "`X` occurs under an odd number of negations"),
        ("mu X. nu Y. !(Y && X)", 14, "`Y` occurs under an odd number"),
        ("[send(a, b)] true", 1, "`send` takes 3 arguments (From, To, Msg), found 2"),
        ("[done(a, b)] true", 1, "`done` takes 1 argument (Peer), found 2"),
        ("[become(a)] true", 1, "`become` takes 2 arguments (Peer, Role), found 1"),
        ("[call()] true", 1, "`call` takes 2 arguments (Peer, Constraint), found 0"),
        ("[done] true", 5, "expected `(` after `done`"),
        ("[sned(a)] true", 1, "the actions are"),
        ("[true true", 6, "expected `]`"),
        ("<true] true", 5, "expected `>`"),
        ("true &&", 7, "expected a state formula"),
        ("true && )", 8, "expected a state formula"),
        ("true false", 5, "expected `&&`, `||`, `=>` or the end of the formula, found `false`"),
        ("send(a, b, c)", 0, "actions go inside a modality"),
        ("[(true . true) || true] true", 1, "`||` combines action formulas"),
        ("[!(true*)] true", 2, "`!` combines action formulas"),
        ("[] true", 1, "expected an action formula"),
        ("(true", 5, "expected `)`"),
        ("[send(a, b, ] true", 12, "expected a term"),
        ("[done(a b)] true", 8, "expected `,` or `)` in the arguments of `done`"),
        ("[done(a)", 8, "expected `]`"),
        ("", 0, "expected a state formula"),
        ("foo", 0, "found `foo`"),
    ];
    for &(text, offset, message) in cases {
        let e = parse(text).expect_err(text);
        assert!(e.message.contains(message), "{text:?}: {:?} does not contain {message:?}", e.message);
        assert_eq!(e.offset, offset, "{text:?}: {e:?}");
    }
    // Even negations are fine, also through `=>`.
    assert!(parse("nu X. (X => false) => true").is_ok());
    assert!(parse("mu X. !!X").is_ok());
    assert!(parse("mu X. !(nu Y. !X)").is_ok());
    // Inputs that would nest too deeply are refused, not a stack overflow.
    let deep = format!("{}true", "!".repeat(100_000));
    assert!(parse(&deep).unwrap_err().message.contains("too large"));
    let long = vec!["true"; 100_000].join(" && ");
    assert!(parse(&long).unwrap_err().message.contains("too large"));
    let brackets = format!("{}true{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(parse(&brackets).unwrap_err().message.contains("nest"));
    let term = format!("[done({}a{})] true", "[".repeat(10_000), "]".repeat(10_000));
    assert!(parse(&term).is_err());
}

#[test]
fn display_round_trips() {
    let formulas = [
        "true",
        "[true*. send(_, _, req)] false",
        "<true*. done(server)> true",
        "[true*. send(client, _, req)] mu X. ([!recv(client, _, resp)] X && <true> true)",
        "nu X. mu Y. ([recv(_, _, tick)] X && [!recv(_, _, tick)] Y)",
        "!(true && false) || !!true",
        "(true => false) => true => false",
        "(mu X. X) && nu Y. Y || true",
        "!(mu X. X) && true",
        r#"[send("s t", 'A b', [1, 2.5, f(x), -3])]true"#,
        "<(send(_, _, a) || recv(_, _, b))* . (call(_, c) && !done(_))+ + become(_, r)> true",
        "[send(_, _, a)+ + send(_, _, b) . (send(_, _, c) + true)*] ![true] false",
        "mu X. [true] (X && nu Y. <!done(p)> Y) || <false> X",
        "[(true + true) . true] true",
        "[true . (true . true)] true",
        "[(true . true) . true] true",
        "[true + (true + true)] true",
        "<become(P, overloaded)> true && [true] (false || true)",
        "mu X. nu Y. mu Z. (<true> X || [true] Y) && Z",
    ];
    for text in formulas {
        let formula = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let shown = formula.to_string();
        assert_eq!(parse(&shown).unwrap_or_else(|e| panic!("{shown}: {e}")), formula, "{text} -> {shown}");
        assert_eq!(parse(&shown).unwrap().to_string(), shown);
    }
    assert_eq!(f("[true*.@req]false").to_string(), "[true* . send(_, _, req)] false");
    assert_eq!(f("(mu X. X) && true").to_string(), "(mu X. X) && true");
    assert_eq!(f("true && (mu X. X)").to_string(), "true && mu X. X");
    assert_eq!(f("[(@a || @b)*] true").to_string(), "[(send(_, _, a) || send(_, _, b))*] true");
    assert_eq!(
        f("[@a + (@b + @c)] true").to_string(),
        "[send(_, _, a) + (send(_, _, b) + send(_, _, c))] true"
    );
}

// ---------------------------------------------------------------------------------------------
// Semantics on hand-made graphs

/// 0 -a-> 1 -c-> 3, 0 -b-> 2 -a-> 3; 3 has no transitions.
fn diamond() -> Graph {
    graph(4, &[(0, "a", 1), (0, "b", 2), (1, "c", 3), (2, "a", 3)])
}

/// 0 -a-> 1 -b-> 0, 1 -c-> 2 -c-> 2.
fn loops() -> Graph {
    graph(3, &[(0, "a", 1), (1, "b", 0), (1, "c", 2), (2, "c", 2)])
}

#[test]
fn box_and_diamond() {
    let g = diamond();
    assert_eq!(sat(&g, "<@a> true"), bools("TFTF"));
    assert_eq!(sat(&g, "[@a] false"), bools("FTFT"));
    assert_eq!(sat(&g, "[@a] <@c> true"), bools("TTFT"));
    assert_eq!(sat(&g, "<true> true"), bools("TTTF"));
    assert_eq!(sat(&g, "<!@a> true"), bools("TTFF"));
    assert_eq!(sat(&g, "<@a && !@a> true"), bools("FFFF"));
    assert_eq!(sat(&g, "<@a || @c> true"), bools("TTTF"));
    assert_eq!(sat(&g, "[false] false"), bools("TTTT"));
    assert_eq!(sat(&g, "<true> <true> true"), bools("TFFF"));
    assert_eq!(sat(&g, "<@b> [true] false"), bools("FFFF"));
    assert_eq!(sat(&g, "<@b> <@a> [true] false"), bools("TFFF"));
    // Negation and implication.
    assert_eq!(sat(&g, "!<@a> true"), sat(&g, "[@a] false"));
    assert_eq!(sat(&g, "<@a> true => <@c> true"), bools("FTFT"));
    assert_eq!(sat(&g, "!(<@a> true || <@c> true)"), bools("FFFT"));
    assert_eq!(sat(&g, "![@a] <@c> true"), bools("FFTF"));
    assert!(check(&g, &f("<@a> true")).holds);
    assert!(!check(&g, &f("[@a] false")).holds);
}

#[test]
fn regular_modalities() {
    let g = diamond();
    assert_eq!(sat(&g, "<@b . @a> true"), bools("TFFF"));
    assert_eq!(sat(&g, "[@b . @a] false"), bools("FTTT"));
    assert_eq!(sat(&g, "[@a + @b] <true> true"), bools("TTFT"));
    assert_eq!(sat(&g, "<@a + @c> [true] false"), bools("FTTF"));
    assert_eq!(sat(&g, "<@a+> true"), bools("TFTF"));
    assert_eq!(sat(&g, "<@a*> <@c> true"), bools("TTFF"));
    assert_eq!(sat(&g, "<@a+> <@c> true"), bools("TFFF"));
    assert_eq!(sat(&g, "[@a*] <true> true"), bools("TTFF"));
    assert_eq!(sat(&g, "[@a+] <true> true"), bools("TTFT"));
    // Reachability of the terminal state, and "no terminal state reachable".
    assert_eq!(sat(&g, "<true*> [true] false"), bools("TTTT"));
    assert_eq!(sat(&g, "[true*] <true> true"), bools("FFFF"));
    assert_eq!(sat(&g, "[true*. @c] false"), bools("FFTT"));
    assert_eq!(sat(&g, "[true*. (@a + @b) . @a] false"), bools("FTTT"));
    assert_eq!(sat(&g, "<(@a + @b)* . @c> true"), bools("TTFF"));
    assert_eq!(sat(&g, "<true . true> true"), bools("TFFF"));
    assert_eq!(sat(&g, "<(true . true)*> [true] false"), bools("TFFT"));
    let l = loops();
    assert_eq!(sat(&l, "<(@a . @b)*> <@c> true"), bools("FTT"));
    assert_eq!(sat(&l, "<(@a . @b)+> <@c> true"), bools("FFF"));
    assert_eq!(sat(&l, "<(@a . @b)+> <@a> true"), bools("TFF"));
    assert_eq!(sat(&l, "[true*] <true*> <@a> true"), bools("FFF"));
    assert_eq!(sat(&l, "<true*> [true*] <@c> true"), bools("TTT"));
    assert_eq!(sat(&l, "[(@a + @b)*] <true> true"), bools("TTT"));
}

#[test]
fn fixpoints() {
    let l = loops();
    // An infinite a/b path.
    assert_eq!(sat(&l, "nu X. <@a || @b> X"), bools("TTF"));
    // All paths finite: nowhere, every state reaches a cycle.
    assert_eq!(sat(&l, "mu X. [true] X"), bools("FFF"));
    // Inevitably a `c` (and no deadlock before): only where already looping on c.
    assert_eq!(sat(&l, "mu X. [!@c] X && <true> true"), bools("FFT"));
    assert_eq!(sat(&l, "<true*> nu X. <@c> X"), bools("TTT"));
    assert_eq!(sat(&l, "nu X. [@a] X && <true> true"), bools("TTT"));
    assert_eq!(sat(&l, "mu X. <@c> true || <true> X"), bools("TTT"));
    assert_eq!(sat(&l, "mu X. <@b> true || <@a> X"), bools("TTF"));
    // Negated fixpoints and shadowing.
    assert_eq!(sat(&l, "!mu X. <@b> true || <@a> X"), bools("FFT"));
    let dual = "nu X. !(mu X. !(<@a || @b> true && [true] !X))";
    assert_eq!(sat(&l, dual), sat(&l, "nu X. <@a || @b> true && [true] X"));
    assert_eq!(sat(&l, "!(mu X. !(<@c> true && [true] !X))"), bools("FFT"));
    assert_eq!(sat(&l, "!(nu X. !(<@c> true || <true> !X))"), bools("TTT"));
    assert_eq!(sat(&l, "!(nu X. !(<@b> true || <@c> !X))"), bools("FTF"));
    assert_eq!(sat(&l, "mu X. X"), bools("FFF"));
    assert_eq!(sat(&l, "nu X. X"), bools("TTT"));
    // A same-sign nesting solved as one system.
    assert_eq!(sat(&l, "nu X. [@a] X && [@c*] nu Y. <true> Y && [@b] X"), bools("TTT"));
    assert_eq!(sat(&l, "nu X. ([@a] X && <true*> nu Z. <@c> Z)"), bools("TTT"));
}

#[test]
fn alternating_fixpoints() {
    // On every infinite run, a infinitely often.
    let inf_a = "nu X. mu Y. ([@a] X && [!@a] Y)";
    // Some run with a infinitely often.
    let some_inf_a = "nu X. mu Y. (<@a> X || <!@a> Y)";
    // On every run, a only finitely often.
    let fin_a = "mu X. nu Y. ([@a] X && [!@a] Y)";
    let alternating = graph(2, &[(0, "a", 1), (1, "b", 0)]);
    assert_eq!(sat(&alternating, inf_a), bools("TT"));
    assert_eq!(sat(&alternating, some_inf_a), bools("TT"));
    assert_eq!(sat(&alternating, fin_a), bools("FF"));
    let escape = graph(2, &[(0, "a", 0), (0, "b", 1), (1, "b", 1)]);
    assert_eq!(sat(&escape, inf_a), bools("FF"));
    assert_eq!(sat(&escape, some_inf_a), bools("TF"));
    assert_eq!(sat(&escape, fin_a), bools("FT"));
    let settle = graph(2, &[(0, "b", 1), (1, "a", 1)]);
    assert_eq!(sat(&settle, inf_a), bools("TT"));
    assert_eq!(sat(&settle, fin_a), bools("FF"));
    let l = loops();
    assert_eq!(sat(&l, inf_a), bools("FFF"));
    assert_eq!(sat(&l, some_inf_a), bools("TTF"));
    // Regular modalities inside an alternating formula: infinitely often b after a.
    assert_eq!(sat(&l, "nu X. mu Y. ([@a . @b] X && [!@a] Y && [@a . !@b] Y)"), bools("FFF"));
    assert_eq!(sat(&alternating, "nu X. mu Y. ([@a . @b] X && [!@a] Y && [@a . !@b] Y)"), bools("TT"));
}

// ---------------------------------------------------------------------------------------------
// Evidence

#[test]
fn shortest_counterexample_for_safety() {
    // A long way to `req` (four steps) and a short one (two).
    let g = graph(
        8,
        &[(0, "a", 1), (1, "a", 2), (2, "a", 3), (3, "req", 4), (0, "b", 5), (5, "req", 6), (6, "c", 7)],
    );
    let outcome = check(&g, &f("[true*. @req] false"));
    assert!(!outcome.holds);
    let evidence = outcome.evidence.unwrap();
    assert_path(&g, &evidence);
    assert_eq!(evidence.cycle_start, None);
    assert_eq!(messages(&g, &evidence.edges), ["b", "req"]);
    // Without the short path the long one is reported.
    let g = graph(5, &[(0, "a", 1), (1, "a", 2), (2, "a", 3), (3, "req", 4)]);
    let evidence = check(&g, &f("[true*. @req] false")).evidence.unwrap();
    assert_path(&g, &evidence);
    assert_eq!(messages(&g, &evidence.edges), ["a", "a", "a", "req"]);
    // A deadlock: the path ends where `<true> true` fails.
    let evidence = check(&g, &f("[true*] <true> true")).evidence.unwrap();
    assert_path(&g, &evidence);
    assert_eq!(evidence.edges.len(), 4);
    // Failing at the initial state: an empty path.
    let evidence = check(&g, &f("<@b> true")).evidence.unwrap();
    assert_eq!(evidence, Evidence { edges: vec![], cycle_start: None });
}

#[test]
fn lasso_for_liveness() {
    // After req, resp must come; the run can circle 1 -> 2 -> 1 forever instead.
    let g = graph(5, &[(0, "req", 1), (1, "x", 2), (2, "y", 1), (1, "resp", 3), (3, "z", 4), (4, "z", 3)]);
    let outcome = check(&g, &f("[true*. @req] mu X. ([!@resp] X && <true> true)"));
    assert!(!outcome.holds);
    let evidence = outcome.evidence.unwrap();
    assert_path(&g, &evidence);
    assert_eq!(messages(&g, &evidence.edges), ["req", "x", "y"], "{evidence:?}");
    assert_eq!(evidence.cycle_start, Some(1));
    // Without the detour it holds.
    let g = graph(5, &[(0, "req", 1), (1, "resp", 3), (3, "z", 4), (4, "z", 3)]);
    assert!(check(&g, &f("[true*. @req] mu X. ([!@resp] X && <true> true)")).holds);
    // All runs finite, violated by a cycle only.
    let g = graph(3, &[(0, "a", 1), (1, "b", 2), (2, "c", 1)]);
    let outcome = check(&g, &f("mu X. [true] X && <true> true"));
    assert!(!outcome.holds);
    let evidence = outcome.evidence.unwrap();
    assert_path(&g, &evidence);
    assert_eq!(evidence.cycle_start, Some(1));
    assert_eq!(messages(&g, &evidence.edges), ["a", "b", "c"]);
}

#[test]
fn lasso_respects_the_outermost_variable() {
    // "a infinitely often on every run" fails through the b-loop, not the a-loop (on which
    // the outermost variable unfolded is the greatest fixpoint).
    let g = graph(2, &[(0, "a", 0), (0, "b", 1), (1, "b", 1)]);
    let outcome = check(&g, &f("nu X. mu Y. ([@a] X && [!@a] Y)"));
    assert!(!outcome.holds);
    let evidence = outcome.evidence.unwrap();
    assert_path(&g, &evidence);
    let start = evidence.cycle_start.unwrap();
    assert!(messages(&g, &evidence.edges[start..]).iter().all(|m| m == "b"), "{evidence:?}");
}

#[test]
fn witnesses() {
    let g = graph(5, &[(0, "a", 1), (1, "a", 2), (2, "done", 3), (0, "b", 4), (4, "b", 4)]);
    let outcome = check(&g, &f("<true*. @done> true"));
    assert!(outcome.holds);
    let evidence = outcome.evidence.unwrap();
    assert_path(&g, &evidence);
    assert_eq!(messages(&g, &evidence.edges), ["a", "a", "done"]);
    // An infinite run as a lasso.
    let outcome = check(&g, &f("nu X. <@b> X"));
    assert!(outcome.holds);
    let evidence = outcome.evidence.unwrap();
    assert_path(&g, &evidence);
    assert_eq!(evidence.cycle_start, Some(1));
    // A universal property that holds needs no path.
    assert_eq!(check(&g, &f("[true*] true")), lcc_check::mc::mu::Outcome { holds: true, evidence: None });
}

#[test]
fn empty_graph() {
    let g = Graph::from_edges(0, vec![], vec![]);
    assert!(!check(&g, &f("true")).holds);
    assert!(satisfying_states(&g, &f("true")).is_empty());
    let single = Graph::from_edges(1, vec![], vec![]);
    assert!(check(&single, &f("[true] false")).holds);
}

#[test]
fn multi_action_labels() {
    let done = Action::Done { peer: atom("p") };
    let call = Action::Call { peer: atom("p"), constraint: atom("ok") };
    let labels = vec![vec![call, send("req")], vec![send("x"), done]];
    let g = Graph::from_edges(3, vec![(0, 0, 1), (1, 1, 2)], labels);
    assert!(check(&g, &f("<call(p, ok)> <@x> true")).holds);
    assert!(check(&g, &f("<@req . done(p)> true")).holds);
    assert!(check(&g, &f("<call(_, _) && @req> true")).holds);
    assert!(!check(&g, &f("<call(_, _) && !@req> true")).holds);
    assert!(check(&g, &f("[true*] [done(_)] [true] false")).holds);
}

// ---------------------------------------------------------------------------------------------
// Randomised cross-check against a direct, textbook evaluator

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // SplitMix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const MESSAGES: [&str; 3] = ["a", "b", "c"];

fn random_graph(rng: &mut Rng) -> Graph {
    let states = 1 + rng.below(6);
    let labels: Vec<Vec<Action>> = vec![
        vec![send("a")],
        vec![send("b")],
        vec![send("c")],
        vec![send("a"), Action::Done { peer: atom("p") }],
    ];
    let edges = (0..rng.below(2 * states + 1))
        .map(|_| (rng.below(states) as u32, rng.below(labels.len()) as u32, rng.below(states) as u32))
        .collect();
    Graph::from_edges(states, edges, labels)
}

fn random_action(rng: &mut Rng, depth: usize) -> ActionFormula {
    let pick = if depth == 0 { rng.below(3) } else { rng.below(6) };
    match pick {
        0 => ActionFormula::True,
        1 if rng.below(3) == 0 => ActionFormula::Pattern(Box::new(Action::Done { peer: Value::Unbound })),
        1 | 2 => pat(MESSAGES[rng.below(3)]),
        3 => ActionFormula::Not(Box::new(random_action(rng, depth - 1))),
        4 => ActionFormula::And(
            Box::new(random_action(rng, depth - 1)),
            Box::new(random_action(rng, depth - 1)),
        ),
        _ => ActionFormula::Or(
            Box::new(random_action(rng, depth - 1)),
            Box::new(random_action(rng, depth - 1)),
        ),
    }
}

fn random_regex(rng: &mut Rng, depth: usize) -> Regex {
    let pick = if depth == 0 { 0 } else { rng.below(6) };
    match pick {
        0 | 1 => Regex::Action(random_action(rng, 1)),
        2 => Regex::Seq(rb(random_regex(rng, depth - 1)), rb(random_regex(rng, depth - 1))),
        3 => Regex::Choice(rb(random_regex(rng, depth - 1)), rb(random_regex(rng, depth - 1))),
        4 => Regex::Star(rb(random_regex(rng, depth - 1))),
        _ => Regex::Plus(rb(random_regex(rng, depth - 1))),
    }
}

/// A well-formed formula: variables bound, under an even number of negations (`scope`:
/// variable and parity of negations at its binder).
fn random_formula(rng: &mut Rng, depth: usize, scope: &mut Vec<(String, usize)>, parity: usize) -> Formula {
    let usable: Vec<String> = ["X", "Y", "Z"]
        .iter()
        .filter(|name| scope.iter().rev().find(|(n, _)| n == *name).is_some_and(|&(_, p)| p == parity))
        .map(|s| s.to_string())
        .collect();
    let pick = if depth == 0 { rng.below(3) } else { rng.below(12) };
    let sub = |rng: &mut Rng, scope: &mut Vec<(String, usize)>, parity| {
        random_formula(rng, depth - 1, scope, parity)
    };
    match pick {
        0 => Formula::True,
        1 => Formula::False,
        2 if !usable.is_empty() => Formula::Var(usable[rng.below(usable.len())].clone()),
        2 => Formula::True,
        3 => Formula::Not(b(sub(rng, scope, parity + 1))),
        4 => Formula::And(b(sub(rng, scope, parity)), b(sub(rng, scope, parity))),
        5 => Formula::Or(b(sub(rng, scope, parity)), b(sub(rng, scope, parity))),
        6 => Formula::Implies(b(sub(rng, scope, parity + 1)), b(sub(rng, scope, parity))),
        7 => Formula::Must(random_regex(rng, 2), b(sub(rng, scope, parity))),
        8 => Formula::May(random_regex(rng, 2), b(sub(rng, scope, parity))),
        _ => {
            let name = ["X", "Y", "Z"][rng.below(3)].to_string();
            scope.push((name.clone(), parity));
            let body = b(sub(rng, scope, parity));
            scope.pop();
            if rng.below(2) == 0 { Formula::Mu(name, body) } else { Formula::Nu(name, body) }
        }
    }
}

type Relation = Vec<Vec<bool>>;

fn relation(g: &Graph, r: &Regex) -> Relation {
    let n = g.state_count();
    let identity: Relation = (0..n).map(|i| (0..n).map(|j| i == j).collect()).collect();
    let compose = |x: &Relation, y: &Relation| -> Relation {
        (0..n).map(|i| (0..n).map(|j| (0..n).any(|k| x[i][k] && y[k][j])).collect()).collect()
    };
    let union = |x: &Relation, y: &Relation| -> Relation {
        (0..n).map(|i| (0..n).map(|j| x[i][j] || y[i][j]).collect()).collect()
    };
    let closure = |x: &Relation| -> Relation {
        let mut result = x.clone();
        loop {
            let next = union(&result, &compose(&result, x));
            if next == result {
                return result;
            }
            result = next;
        }
    };
    match r {
        Regex::Action(a) => {
            let mut rel = vec![vec![false; n]; n];
            for (s, row) in rel.iter_mut().enumerate() {
                for (e, _, t) in g.successors(s as u32) {
                    if a.matches(g.label(g.edge_labels[e])) {
                        row[t as usize] = true;
                    }
                }
            }
            rel
        }
        Regex::Seq(x, y) => compose(&relation(g, x), &relation(g, y)),
        Regex::Choice(x, y) => union(&relation(g, x), &relation(g, y)),
        Regex::Star(x) => union(&identity, &closure(&relation(g, x))),
        Regex::Plus(x) => closure(&relation(g, x)),
    }
}

fn reference(g: &Graph, formula: &Formula, env: &mut Vec<(String, Vec<bool>)>) -> Vec<bool> {
    let n = g.state_count();
    match formula {
        Formula::True => vec![true; n],
        Formula::False => vec![false; n],
        Formula::Var(x) => env.iter().rev().find(|(name, _)| name == x).unwrap().1.clone(),
        Formula::Not(a) => reference(g, a, env).iter().map(|v| !v).collect(),
        Formula::And(a, c) => {
            let (a, c) = (reference(g, a, env), reference(g, c, env));
            a.iter().zip(&c).map(|(x, y)| *x && *y).collect()
        }
        Formula::Or(a, c) => {
            let (a, c) = (reference(g, a, env), reference(g, c, env));
            a.iter().zip(&c).map(|(x, y)| *x || *y).collect()
        }
        Formula::Implies(a, c) => {
            let (a, c) = (reference(g, a, env), reference(g, c, env));
            a.iter().zip(&c).map(|(x, y)| !*x || *y).collect()
        }
        Formula::Must(r, a) | Formula::May(r, a) => {
            let rel = relation(g, r);
            let target = reference(g, a, env);
            let must = matches!(formula, Formula::Must(..));
            (0..n)
                .map(|s| {
                    if must {
                        (0..n).all(|t| !rel[s][t] || target[t])
                    } else {
                        (0..n).any(|t| rel[s][t] && target[t])
                    }
                })
                .collect()
        }
        Formula::Mu(x, body) | Formula::Nu(x, body) => {
            let mut current = vec![matches!(formula, Formula::Nu(..)); n];
            loop {
                env.push((x.clone(), current.clone()));
                let next = reference(g, body, env);
                env.pop();
                if next == current {
                    return current;
                }
                current = next;
            }
        }
    }
}

#[test]
fn random_formulas_agree_with_the_textbook_evaluator() {
    let mut rng = Rng(7);
    for case in 0..3000 {
        let g = random_graph(&mut rng);
        let formula = random_formula(&mut rng, 1 + case % 5, &mut Vec::new(), 0);
        let shown = formula.to_string();
        let reparsed = parse(&shown).unwrap_or_else(|e| panic!("{shown}: {e}"));
        assert_eq!(reparsed, formula, "round trip of {shown}");
        let expected = reference(&g, &formula, &mut Vec::new());
        assert_eq!(satisfying_states(&g, &formula), expected, "case {case}: {shown} on {g:?}");
        let outcome = check(&g, &formula);
        assert_eq!(outcome.holds, expected[0], "{shown}");
        if !outcome.holds {
            assert!(outcome.evidence.is_some(), "case {case}: no counterexample for {shown} on {g:?}");
        }
        if let Some(evidence) = &outcome.evidence {
            assert_path(&g, evidence);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Size

#[test]
fn large_graph_alternation_free() {
    // A ring of 100 000 states with chords; linear-time formulas should be quick even in a
    // debug build.
    let n = 100_000u32;
    let mut edges = Vec::new();
    for s in 0..n {
        edges.push((s, if s % 1000 == 999 { 1 } else { 0 }, (s + 1) % n));
        if s % 7 == 0 {
            edges.push((s, 0, (s * 13 + 5) % n));
        }
    }
    let g = Graph::from_edges(n as usize, edges, vec![vec![send("a")], vec![send("req")]]);
    let outcome = check(&g, &f("[true*. @req] false"));
    assert!(!outcome.holds);
    let evidence = outcome.evidence.unwrap();
    assert_path(&g, &evidence);
    assert_eq!(messages(&g, &evidence.edges).last().map(String::as_str), Some("req"));
    assert!(evidence.edges.len() <= 1000);
    assert!(check(&g, &f("[true*] <true> true")).holds);
    assert!(check(&g, &f("[true*] <true*> <@req> true")).holds);
    let outcome = check(&g, &f("<true*. @req> true"));
    assert!(outcome.holds);
    assert_path(&g, &outcome.evidence.unwrap());
    // Every run is infinite: a lasso.
    let outcome = check(&g, &f("mu X. [true] X"));
    assert!(!outcome.holds);
    let evidence = outcome.evidence.unwrap();
    assert_path(&g, &evidence);
    assert!(evidence.cycle_start.is_some());
}

/// Lassos on random graphs, checked against what the formula says about runs.
#[test]
fn random_lassos_are_real_counterexamples() {
    let mut rng = Rng(11);
    let mut lassos = 0;
    for case in 0..2000 {
        let states = 1 + rng.below(7);
        let labels: Vec<Vec<Action>> = MESSAGES.iter().map(|m| vec![send(m)]).collect();
        let edges = (0..rng.below(3 * states + 1))
            .map(|_| (rng.below(states) as u32, rng.below(3) as u32, rng.below(states) as u32))
            .collect();
        let g = Graph::from_edges(states, edges, labels);
        let cycle = |e: &Evidence| messages(&g, &e.edges[e.cycle_start.unwrap()..]);
        // Every infinite run has infinitely many a.
        let outcome = check(&g, &f("nu X. mu Y. ([@a] X && [!@a] Y)"));
        if let Some(e) = outcome.evidence.as_ref().filter(|e| e.cycle_start.is_some()) {
            assert!(!outcome.holds);
            assert_path(&g, e);
            assert!(cycle(e).iter().all(|m| m != "a"), "case {case}: {e:?} on {g:?}");
            lassos += 1;
        }
        // Some run has infinitely many a.
        let outcome = check(&g, &f("nu X. mu Y. (<@a> X || <!@a> Y)"));
        if let Some(e) = outcome.evidence.as_ref().filter(|e| e.cycle_start.is_some()) {
            assert!(outcome.holds);
            assert_path(&g, e);
            assert!(cycle(e).iter().any(|m| m == "a"), "case {case}: {e:?} on {g:?}");
            lassos += 1;
        }
        // After each b, inevitably c.
        let outcome = check(&g, &f("[true*. @b] mu X. ([!@c] X && <true> true)"));
        if let Some(e) = outcome.evidence.as_ref().filter(|e| e.cycle_start.is_some()) {
            assert!(!outcome.holds);
            assert_path(&g, e);
            let run = messages(&g, &e.edges);
            let last_b = run.iter().rposition(|m| m == "b").unwrap();
            assert!(last_b < e.cycle_start.unwrap() || !cycle(e).contains(&"c".to_string()));
            assert!(run[last_b..].iter().all(|m| m != "c"), "case {case}: {run:?} {e:?} on {g:?}");
            lassos += 1;
        }
        // No infinite run at all.
        let outcome = check(&g, &f("mu X. [true] X"));
        assert_eq!(outcome.holds, outcome.evidence.is_none());
        if let Some(e) = &outcome.evidence {
            assert_path(&g, e);
            assert!(e.cycle_start.is_some());
            lassos += 1;
        }
    }
    assert!(lassos > 1000, "{lassos}");
}
