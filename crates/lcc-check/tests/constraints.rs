//! How external constraints behave in the model checker (LCC.md section 6): abstract by
//! default (may succeed with `'?'` outputs, or fail for good), `total` by annotation,
//! fixed by `--assume`, or a finite table of solutions from a scenario file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use lcc_check::mc::explore::StoreMode;
use lcc_check::mc::scenario::{self, Scenario};
use lcc_check::mc::verify::{self, Property, Report, Request, Verdict};

const SHOP: &str = "\
a(buyer, B) ::
  ask(milk) => a(shopkeeper, S) then
  price(X, P) <= a(shopkeeper, S)

a(shopkeeper, S) ::
  ask(X) <= a(buyer, B) then
  price(X, P) => a(buyer, B) <- in_stock(X, P)
";

fn run(source: &str, s: &Scenario, properties: Vec<Property>) -> Report {
    let (model, diagnostics) = lcc_check::check_source(source);
    assert!(diagnostics.iter().all(|d| !d.is_error()), "{diagnostics:?}");
    let request = Request {
        scenario: s,
        properties,
        threads: 1,
        mode: StoreMode::Exact,
        full: true,
        reduce: false,
        reproducible: false,
        progress: None,
    };
    verify::verify(&model, source, &request).unwrap()
}

fn shop(rules: &[&str]) -> Scenario {
    let mut s = Scenario {
        name: "test".into(),
        peers: scenario::parse_peers("a(buyer, b), a(shopkeeper, s)").unwrap(),
        constraints: Vec::new(),
        bounds: scenario::Bounds::default(),
        properties: Vec::new(),
    };
    for rule in rules {
        s.assume(scenario::parse_assume(rule).unwrap());
    }
    s
}

#[test]
fn abstract_by_default_may_fail_for_good() {
    // send ask, receive ask, then in_stock either succeeds (P = '?') or fails for good: the
    // initial state, 2 after the messages, then one success and one failure state, then the
    // buyer's receive: 6 states, and exactly one deadlock (the failure).
    let r = run(SHOP, &shop(&[]), vec![Property::DeadlockFree]);
    assert_eq!((r.states, r.deadlock_states), (6, 1));
    let trace = r.properties[0].trace.as_ref().unwrap();
    assert!(trace.steps.last().unwrap().failed);
    assert!(trace.stuck.iter().any(|s| s.why.contains("in_stock")), "{:?}", trace.stuck);
}

#[test]
fn total_annotation_never_fails() {
    let source = format!("@annotation(@constraint(in_stock(_, _)), total)\n\n{SHOP}");
    let r = run(&source, &shop(&[]), vec![Property::DeadlockFree, Property::Terminates]);
    assert_eq!((r.states, r.deadlock_states, r.verdict), (5, 0, Verdict::Holds));
    // `--assume` overrides the annotation.
    let r = run(&source, &shop(&["in_stock/2=false"]), vec![Property::DeadlockFree]);
    assert_eq!((r.states, r.deadlock_states, r.verdict), (3, 1, Verdict::Violated));
}

#[test]
fn assume_true_and_false() {
    let r = run(SHOP, &shop(&["in_stock/2=true"]), vec![Property::DeadlockFree]);
    assert_eq!((r.states, r.verdict), (5, Verdict::Holds));
    let r = run(SHOP, &shop(&["in_stock/2=false"]), vec![Property::DeadlockFree]);
    assert_eq!((r.states, r.verdict), (3, Verdict::Violated));
}

#[test]
fn a_table_of_solutions_branches_and_binds() {
    let file = r#"
[[scenario]]
name = "two prices"
peers = ["a(buyer, b)", "a(shopkeeper, s)"]
[scenario.constraints]
"in_stock/2" = { solutions = [["milk", "1"], ["milk", "2"], ["bread", "3"]] }
"#;
    let s = &scenario::parse_scenario_file(file).unwrap()[0];
    // Two rows match milk: two different price messages, two final states; no failure.
    let r = run(SHOP, s, vec![Property::DeadlockFree, Property::Formula(lcc_check::mc::mu::parse(
        "<true*. recv(s, b, price(milk, 1))> true && <true*. recv(s, b, price(milk, 2))> true && [true*. send(_, _, price(bread, _))] false",
    ).unwrap())]);
    assert_eq!((r.states, r.deadlock_states, r.verdict), (7, 0, Verdict::Holds));
    // No row matches: the call fails.
    let file = file.replace("\"milk\", \"1\"], [\"milk\", \"2\"", "\"tea\", \"1\"], [\"tea\", \"2\"");
    let s = &scenario::parse_scenario_file(&file).unwrap()[0];
    let r = run(SHOP, s, vec![Property::DeadlockFree]);
    assert_eq!((r.states, r.verdict), (3, Verdict::Violated));
}

#[test]
fn unknown_values_make_comparisons_go_both_ways() {
    // get(X) gives X = '?', so X > 3 may hold or not: both branches of the choice.
    let source = "\
a(p, P) ::
  null <- get(X) then
  ( null <- X > 3 then done => a(q, Q) )
  or
  ( null <- X =< 3 then small => a(q, Q) )

a(q, Q) ::
  ( done <= a(p, P) ) or ( small <= a(p, P) )
";
    let s = Scenario { peers: scenario::parse_peers("a(p, p1), a(q, q1)").unwrap(), ..shop(&["get/1=true"]) };
    let both =
        lcc_check::mc::mu::parse("<true*. send(p1, q1, done)> true && <true*. send(p1, q1, small)> true")
            .unwrap();
    let r = run(source, &s, vec![Property::DeadlockFree, Property::Formula(both)]);
    assert_eq!(r.verdict, Verdict::Holds, "{:?}", r.properties);
}
