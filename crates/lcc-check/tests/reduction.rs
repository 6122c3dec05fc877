//! Partial-order reduction against full exploration: for properties of terminal
//! configurations, exploring only one independent peer's steps must keep every reachable
//! deadlock and orphan configuration, at its shortest distance from the start. Each model is
//! explored to the end both ways (`full`) and the counts, verdicts and trace lengths compared.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use lcc_check::mc::explore::StoreMode;
use lcc_check::mc::scenario::{self, Scenario};
use lcc_check::mc::verify::{self, Property, Report, Request, Verdict};

const LOAD_BALANCING: &str = include_str!("../../../stdlib/vm/balance_as_published.lcc");
const SHOP: &str = include_str!("../../../stdlib/market/buyer_shopkeeper_as_published.lcc");

/// Local steps everywhere: `null`s, `par` branches, nested role calls, a discovery send.
const MIXED: &str = "\
a(worker, W) ::
  ( null <- prepare(W) par null <- warm(W) ) then
  a(helper, W) then
  job(N) <= a(boss, B) <- N > 1 then
  done(N) => a(boss, B)

a(helper, W) ::
  null <- tidy(W) then
  null

a(boss, B) ::
  job(2) => a(worker, W) then
  job(1) => a(worker, W) then
  done(N) <= a(worker, W)
";

fn scenario(peers: &str, assume: &[&str]) -> Scenario {
    let mut s = Scenario {
        name: "test".into(),
        peers: scenario::parse_peers(peers).unwrap(),
        constraints: Vec::new(),
        bounds: scenario::Bounds::default(),
        properties: Vec::new(),
    };
    for rule in assume {
        s.assume(scenario::parse_assume(rule).unwrap());
    }
    s
}

fn run(source: &str, s: &Scenario, reduce: bool, threads: usize) -> Report {
    let (model, diagnostics) = lcc_check::check_source(source);
    assert!(diagnostics.iter().all(|d| !d.is_error()), "{diagnostics:?}");
    let request = Request {
        scenario: s,
        properties: vec![Property::DeadlockFree, Property::NoOrphans],
        threads,
        mode: StoreMode::Exact,
        full: true,
        reduce,
        reproducible: false,
        progress: None,
    };
    verify::verify(&model, source, &request).unwrap()
}

fn trace_len(r: &Report, property: &str) -> Option<usize> {
    let p = r.properties.iter().find(|p| p.name == property)?;
    p.trace.as_ref().map(|t| t.steps.len())
}

fn same_terminals(source: &str, s: &Scenario) -> (Report, Report) {
    let full = run(source, s, false, 2);
    let reduced = run(source, s, true, 2);
    assert!(reduced.reduced && !full.reduced);
    assert!(reduced.states <= full.states);
    assert_eq!(reduced.deadlock_states, full.deadlock_states, "deadlock states differ");
    for (a, b) in full.properties.iter().zip(&reduced.properties) {
        assert_eq!(a.verdict, b.verdict, "{}", a.name);
    }
    for property in ["deadlock-free", "no-orphans"] {
        assert_eq!(
            trace_len(&full, property),
            trace_len(&reduced, property),
            "{property}: shortest trace length"
        );
    }
    (full, reduced)
}

#[test]
fn load_balancing_keeps_every_deadlock_and_its_distance() {
    for hosts in [2, 3] {
        let peers: Vec<String> = (1..=hosts).map(|i| format!("a(idle, h{i})")).collect();
        let abstract_hosts = scenario(&peers.join(", "), &[]);
        let (full, reduced) = same_terminals(LOAD_BALANCING, &abstract_hosts);
        assert_eq!(full.verdict, Verdict::Violated);
        assert!(reduced.states < full.states, "{hosts} hosts: nothing was reduced");
        let reliable = scenario(
            &peers.join(", "),
            &[
                "getPeerState/1=true",
                "migration/2=true",
                "isMigrationPossible/2=true",
                "waitForMigration/0=true",
            ],
        );
        same_terminals(LOAD_BALANCING, &reliable);
    }
}

#[test]
fn reduction_does_not_depend_on_the_thread_count() {
    let s = scenario(
        "a(idle, h1), a(idle, h2), a(idle, h3)",
        &["getPeerState/1=true", "migration/2=true", "isMigrationPossible/2=true", "waitForMigration/0=true"],
    );
    let one = run(LOAD_BALANCING, &s, true, 1);
    let two = run(LOAD_BALANCING, &s, true, 2);
    assert_eq!(
        (one.states, one.transitions, one.deadlock_states),
        (two.states, two.transitions, two.deadlock_states)
    );
}

#[test]
fn par_nested_calls_and_guarded_receives() {
    let s = scenario("a(worker, w), a(boss, b)", &[]);
    same_terminals(MIXED, &s);
    let reliable = scenario("a(worker, w), a(boss, b)", &["prepare/1=true", "warm/1=true", "tidy/1=true"]);
    let (full, _) = same_terminals(MIXED, &reliable);
    // job(2) is taken (N > 1), job(1) is never received: an orphan at the end.
    assert_eq!(full.properties[0].verdict, Verdict::Holds);
    assert_eq!(full.properties[1].verdict, Verdict::Violated);
}

#[test]
fn buyer_and_shopkeeper() {
    same_terminals(SHOP, &scenario("a(buyer, b), a(shopkeeper, s)", &[]));
    same_terminals(
        SHOP,
        &scenario("a(buyer, b), a(shopkeeper, s)", &["want/1=true", "in_stock/2=true", "afford/2=true"]),
    );
}

#[test]
fn seed_balance_slides() {
    let Some(root) = common::corpus() else {
        println!("skipped: ../shared/corpus not found");
        return;
    };
    let source = std::fs::read_to_string(root.join("seed/balance_slides.lcc")).unwrap();
    for peers in ["a(idle, h1), a(idle, h2)", "a(idle, h1), a(idle, h2), a(idle, h3)"] {
        same_terminals(&source, &scenario(peers, &[]));
    }
}
