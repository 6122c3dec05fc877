//! The analyses on tricky models: each case lists exactly what `check_source` must report, as
//! (code, text at the primary span). Most cases are correct models written in the ways that
//! trip naive checkers (false positives are the worst outcome); the others are real slips.

// Test code: a failed expectation is a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use lcc_check::check_source;
use lcc_check::ir::{NodeKind, Sort};

/// (name, model, expected diagnostics as (code, text at the primary span)).
type Case = (&'static str, &'static str, &'static [(&'static str, &'static str)]);

const CASES: &[Case] = &[
    // ---- binding: no false "unbound"
    (
        "not_binds_nothing_and_needs_only_its_inputs",
        "\
a(client, C) ::
  null <- options(L) and not(member(banned, L)) and not(busy(_Anyone)) then
  req(L) => a(server, S) then
  ack <= a(server, S)

a(server, S) ::
  req(L) <= a(client, C) then
  ack => a(client, C) <- store(L)
",
        &[],
    ),
    (
        "par_branches_bind_for_what_follows",
        "\
a(client, C) ::
  ( ping => a(server, S) par ack(V) <= a(server, S) ) then
  null <- show(V)

a(server, S) ::
  ping <= a(client, C) then
  ack(1) => a(client, C)
",
        &[],
    ),
    (
        "guard_first_receive_binds_before_its_guard",
        "\
a(p, P) ::
  X > 3 <- m(X) <= a(q, Q) then
  n(X) => a(q, Q)

a(q, Q) ::
  m(5) => a(p, P) then
  n(Y) <= a(p, P) then
  null <- use(Y)
",
        &[],
    ),
    (
        "discovery_send_binds_the_id",
        "\
a(client, C) ::
  hello => a(server, S) then
  bye => a(server, S)

a(server, S) ::
  hello <= a(client, C) then
  bye <= a(client, C)
",
        &[],
    ),
    (
        "variable_messages_match_anything",
        "\
a(source, S) ::
  hello(1) => a(relay, R) <- choose(R)

a(relay, R) ::
  Msg <= a(source, S) then
  Msg => a(sink, K) <- route(S, K)

a(sink, K) ::
  hello(N) <= a(relay, R) then
  null <- log(N, R)
",
        &[],
    ),
    (
        "lists_with_tails_and_empty_argument_lists",
        "\
a(client, C) ::
  ping() => a(server, S) then
  data([H | T], M) <= a(server, S) then
  null <- use(H, T, M) then
  pong => a(server, S)

a(server, S) ::
  ping <= a(client, C) then
  data([a, b], ok) => a(client, C) then
  pong() <= a(client, C)
",
        &[],
    ),
    (
        "role_arguments_and_accumulators",
        "\
a(counter(N), C) ::
  ( null <- N >= 10 then done(N) => a(display, D) <- pick(D) )
  or
  ( tick(N) => a(display, D) <- pick(D) and N1 is N + 1 then a(counter(N1), C) )

a(display, D) ::
  ( tick(X) <= a(counter, C) then null <- show(X, C) then a(display, D) )
  or
  ( done(Y) <= a(counter, C) then null <- show(Y, C) )

a(start, S) :: a(counter(0), S)
",
        &[],
    ),
    (
        "bound_on_every_alternative",
        "\
a(picker(Options), P) ::
  null <- (Choice = first or Choice = second) then
  null <- length(Options, Count) and Count > 0 and nth0(0, Options, Top) then
  pick(Choice, Top, Count) => a(judge, J) <- choose(J)

a(judge, J) ::
  pick(C, T, N) <= a(picker, P) then
  null <- record(C, T, N, P)
",
        &[],
    ),
    // ---- binding: real slips
    (
        "bound_on_one_alternative_only",
        "\
a(p, P) ::
  ( null <- a(X) or null <- ready ) then
  m(X) => a(q, Q) <- pick(Q)

a(q, Q) ::
  m(Y) <= a(p, P) then
  null <- log(Y, P)
",
        &[("W0102", "X")],
    ),
    (
        "arithmetic_on_an_unbound_variable",
        "\
a(p, P) ::
  null <- not(X > 3) then
  null <- Y is X + 1 and show(Y)
",
        &[("W0102", "X")],
    ),
    (
        "unbound_and_singleton_is_reported_once",
        "\
a(p, P) ::
  m(X) => a(q, Q) <- pick(Q)

a(q, Q) ::
  m(Y) <= a(p, P) then
  null <- log(Y, P)
",
        &[("W0102", "X")],
    ),
    // ---- sorts: no false incompatibilities
    (
        "conflicting_evidence_is_no_evidence",
        "\
a(p, P) ::
  m(X) => a(q, Q) <- (X = 1 or X = \"one\") and pick(Q) then
  k(Y) => a(q, Q) <- Y = 2 then
  k(Y2) => a(q, Q) <- Y2 = \"two\"

a(q, Q) ::
  m(\"one\") <= a(p, P) then
  k(Z) <= a(p, P) then
  null <- Z > 1
",
        &[],
    ),
    (
        "a_test_after_the_send_says_nothing_about_what_was_sent",
        "\
a(p, P) ::
  l(Y) => a(q, Q) <- pick(Y) and pick(Q) then
  null <- Y = \"a\"

a(q, Q) ::
  l(1) <= a(p, P) then
  null <- log(P)
",
        &[],
    ),
    (
        "a_variable_pattern_matches_any_sort",
        "\
a(p, P) ::
  fwd(Z) <= a(q, Q) then
  again(Z) => a(q, Q)

a(q, Q) ::
  fwd(\"x\") => a(p, P) then
  again(N) <= a(p, P) <- N > 3
",
        &[],
    ),
    // ---- sorts: real mismatches
    (
        "number_against_string",
        "\
a(p, P) ::
  m(1) => a(q, Q) then
  n(X) => a(q, Q) <- X is 2 * 3

a(q, Q) ::
  m(\"1\") <= a(p, P) then
  n(\"6\") <= a(p, P)
",
        &[("W0105", "1"), ("W0105", "X")],
    ),
    (
        "string_against_atom_nested_and_values",
        "\
a(p, P) ::
  s(f(\"ok\")) => a(q, Q) then
  k(busy) => a(q, Q) then
  r([1, 2]) => a(q, Q)

a(q, Q) ::
  s(f(ok)) <= a(p, P) then
  k(idle) <= a(p, P) then
  r([A]) <= a(p, P) then
  null <- use(A)
",
        &[("W0105", "\"ok\""), ("W0105", "busy"), ("W0105", "[1, 2]")],
    ),
    (
        "a_bound_pattern_variable_keeps_its_sort",
        "\
a(server, S) ::
  query(Q) <= a(client, C) then
  confirm(Q) <= a(client, C)

a(client, C) ::
  query(\"x\") => a(server, S) then
  confirm(1) => a(server, S)
",
        &[("W0105", "1")],
    ),
    (
        "one_matching_receive_is_enough",
        "\
a(p, P) ::
  k(busy) => a(q, Q) <- pick(Q)

a(q, Q) ::
  ( k(idle) <= a(p, P) ) or ( k(busy) <= a(p, P) )
",
        &[],
    ),
    // ---- messages
    (
        "name_and_arity_mismatch_points_at_both_ends",
        "\
a(client(PC), C) ::
  buy(PC) => a(shop, S) then
  receipt <= a(shop, S)

a(shop, S) ::
  buy(PC) <= a(client, C) then
  receipt(PC) => a(client, C)
",
        &[("W0104", "receipt"), ("W0103", "receipt(PC)")],
    ),
    (
        "no_cascade_from_an_undefined_role",
        "\
a(publisher, P) ::
  publish => a(broker, B) <- pick(B) then
  result(R) <= a(subscribe, S) then
  null <- show(R, S)

a(broker, B) ::
  publish <= a(publisher, P) then
  task(P) => a(subscriber, S) <- pick(S)

a(subscriber, S) ::
  task(P) <= a(broker, B) then
  result(1) => a(publisher, P) <- log(B)
",
        &[("E0101", "subscribe")],
    ),
    // ---- syntax errors do not cascade
    (
        "no_cascade_from_a_broken_clause",
        "\
a(p, P) ::
  m(X) => a(q, Q) <- pick(X) then
  n(Y) <= a(q, Q) then null <- show(Y)

a(q, Q) ::
  m(X) <= a(p, P) then
  n(X => a(p, P)
",
        &[("E0004", "(")],
    ),
    (
        "no_undefined_role_for_a_clause_that_did_not_parse",
        "\
a(p, P) ::
  m => a(q, Q) then
  k <= a(q, Q)

a(q(, Q) ::
  m <= a(p, P) then k => a(p, P)
",
        // The parser reads on past the missing head (E0001), but `q` is not reported undefined.
        &[("E0001", "a"), ("E0004", "(")],
    ),
    // ---- resolution
    (
        "an_anonymous_id_in_a_role_change_is_no_foreign_id",
        "\
a(p, P) ::
  null <- rest then
  a(p, _)
",
        &[],
    ),
    (
        "several_clauses_are_listed_once_in_the_arity_error",
        "\
a(q, Q) :: m <= a(p, P) then null <- log(P)
a(q, Q) :: m <= a(p, P) then null <- log(P)
a(p, P) :: m => a(q(1, 2), Q) <- pick(Q)
",
        &[("E0104", "a(q, Q)"), ("E0102", "q(1, 2)")],
    ),
    (
        "no_suggestion_between_unrelated_short_names",
        "\
a(p, P) :: m => a(x, Q) <- pick(Q)
a(q, Q) :: null
",
        &[("E0101", "x")],
    ),
    (
        "declarations_in_the_lij_style",
        "\
r(waiter, initial)
r(waiter(L), auxiliary)
r(guest, necessary, 2)

a(waiter, W) :: a(waiter([]), W)
a(waiter(L), W) ::
  ( null <- L == [] ) or ( order(X) <= a(guest, G) then a(waiter([X | L]), W) <- log(G) )
a(guest, G) :: order(soup) => a(waiter, W) <- pick(W)
",
        &[("W0110", "waiter(L)")],
    ),
];

fn listing(diags: &[lcc_syntax::Diagnostic], source: &str) -> String {
    diags.iter().map(|d| d.render_to_string("case.lcc", source)).collect()
}

#[test]
fn each_case_reports_exactly_what_it_should() {
    let mut failures = Vec::new();
    for (name, source, expected) in CASES {
        let (_, diags) = check_source(source);
        let got: Vec<(&str, &str)> = diags.iter().map(|d| (d.code.id, &source[d.span.range()])).collect();
        let mut want: Vec<(&str, &str)> = expected.to_vec();
        let mut got_sorted = got.clone();
        want.sort_unstable();
        got_sorted.sort_unstable();
        if got_sorted != want {
            failures.push(format!("{name}: expected {expected:?}, got {got:?}\n{}", listing(&diags, source)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn case_names_are_unique() {
    let mut names: Vec<&str> = CASES.iter().map(|(n, _, _)| *n).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), CASES.len());
}

/// The IR carries what the inference found: sorts of variables and of message arguments.
#[test]
fn inferred_sorts_reach_the_ir() {
    let source = "\
a(counter(N), C) ::
  tick(N, Next, [N]) => a(display, D) <- Next is N + 1 and pick(D)

a(display, D) ::
  tick(X, Y, L) <= a(counter, C) then
  null <- show(X, Y, L, C)
";
    let (ir, diags) = check_source(source);
    assert!(diags.is_empty(), "{}", listing(&diags, source));
    let display = &ir.clauses[1];
    let sort = |name: &str| display.vars.iter().find(|v| v.name == name).unwrap().sort.clone();
    assert_eq!(sort("Y"), Sort::Number, "Next is a number, so what is received in its place is one");
    assert_eq!(sort("X"), Sort::Unknown, "N comes from the head: any value");
    assert_eq!(sort("L"), Sort::List(Box::new(Sort::Unknown)));
    assert_eq!(sort("C"), Sort::PeerId);
    let tick = ir.messages.iter().find(|m| m.functor == "tick").unwrap();
    assert_eq!(tick.arity, 3);
    assert_eq!(tick.arg_sorts[1], Sort::Number);
    assert_eq!((tick.sends.len(), tick.receives.len()), (1, 1));
    // Every send and receive points at its signature.
    for clause in &ir.clauses {
        let Some(body) = &clause.body else { continue };
        let mut stack = vec![body];
        while let Some(n) = stack.pop() {
            match &n.kind {
                NodeKind::Send { message_id, .. } | NodeKind::Receive { message_id, .. } => {
                    assert!(message_id.is_some());
                }
                NodeKind::Then(c) | NodeKind::Or(c) | NodeKind::Par(c) => stack.extend(c),
                _ => {}
            }
        }
    }
    // Binding sites: X's is the receive.
    let x = display.vars.iter().find(|v| v.name == "X").unwrap();
    assert_eq!(&source[x.binding.range()], "X");
    assert!(x.binding.start as usize > source.find("a(display").unwrap());
}
