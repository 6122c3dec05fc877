//! Sequence diagrams of `lcc verify` counterexamples, in Mermaid and in DOT.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use lcc_check::mc::explore::StoreMode;
use lcc_check::mc::scenario::{self, Scenario};
use lcc_check::mc::verify::{self, Property, Trace};

const SHOP: &str = "\
a(buyer, B) ::
  ask(milk) => a(shopkeeper, S) then
  price(X, P) <= a(shopkeeper, S)

a(shopkeeper, S) ::
  ask(X) <= a(buyer, B) then
  price(X, P) => a(buyer, B) <- in_stock(X, P)
";

const PING: &str = "\
a(pinger, A) ::
  ping => a(ponger, B) then
  pong <= a(ponger, B) then
  a(pinger, A)

a(ponger, B) ::
  ping <= a(pinger, A) then
  pong => a(pinger, A) then
  a(ponger, B)
";

fn trace(source: &str, peers: &str, property: Property) -> (Trace, Vec<String>) {
    let (model, _) = lcc_check::check_source(source);
    let s = Scenario {
        name: "t".into(),
        peers: scenario::parse_peers(peers).unwrap(),
        constraints: Vec::new(),
        bounds: scenario::Bounds::default(),
        properties: Vec::new(),
    };
    let request = verify::Request {
        scenario: &s,
        properties: vec![property],
        threads: 1,
        mode: StoreMode::Exact,
        full: false,
        reduce: true,
        reproducible: false,
        progress: None,
    };
    let report = verify::verify(&model, source, &request).unwrap();
    (report.properties[0].trace.clone().unwrap(), report.peer_ids)
}

#[test]
fn a_deadlock_as_mermaid_and_dot() {
    let (t, ids) = trace(SHOP, "a(buyer, b), a(shopkeeper, s)", Property::DeadlockFree);
    let mermaid = lcc_viz::sequence_mermaid(&t, &ids);
    assert!(mermaid.starts_with("sequenceDiagram\n    participant b\n    participant s\n"), "{mermaid}");
    assert!(mermaid.contains("    b->>s: ask(milk)\n"), "{mermaid}");
    assert!(mermaid.contains("in_stock(milk, _) fails"), "{mermaid}");
    assert_eq!(mermaid.matches("stuck at").count(), 2, "{mermaid}");
    let dot = lcc_viz::sequence_dot(&t, &ids);
    assert!(dot.starts_with("digraph sequence {") && dot.ends_with("}\n"));
    assert_eq!(dot.matches("{ rank=same;").count(), t.steps.len() + 1);
    // The send arrow goes to the row of its receive (row 1, the second step).
    assert!(dot.contains("c0_0 -> c1_1 [style=solid"), "{dot}");
    assert!(dot.contains("(fails for good)") && dot.matches("shape=note").count() == 2, "{dot}");
}

#[test]
fn a_lasso_is_marked_as_a_loop() {
    let (t, ids) = trace(PING, "a(pinger, a1), a(ponger, b1)", Property::Terminates);
    assert!(t.cycle_start.is_some());
    let mermaid = lcc_viz::sequence_mermaid(&t, &ids);
    assert!(mermaid.contains("    loop forever\n") && mermaid.trim_end().ends_with("end"), "{mermaid}");
    let dot = lcc_viz::sequence_dot(&t, &ids);
    assert!(dot.contains("color=\"#1f5fa8\""), "{dot}");
}
