//! The model checker as a library: every counterexample it reports replays against the step
//! semantics ([`replay`]) and ends where the violation is; state and transition counts do not
//! depend on the number of threads, on hash compaction or on running twice; the partial-order
//! reduction keeps verdicts and shortest trace lengths.
//!
//! The models are those of the CLI tests (`tests/fixtures/verify/` of the workspace, each with
//! its hand derivation) and, when present, the seed models of `../shared/corpus`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use lcc_check::ir;
use lcc_check::mc::explore::{StoreMode, TerminalKind};
use lcc_check::mc::scenario::{Bounds, Scenario, parse_assume, parse_peers};
use lcc_check::mc::verify::{Property, Report, Request, Verdict, replay, verify};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../../tests/fixtures/verify/", $name))
    };
}

fn model(source: &str) -> ir::Model {
    let (model, diagnostics) = lcc_check::check_source(source);
    let errors: Vec<_> = diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "the model has errors: {errors:?}");
    model
}

fn scenario(peers: &str, assume: &[&str]) -> Scenario {
    let mut s = Scenario {
        name: "test".into(),
        peers: parse_peers(peers).unwrap(),
        constraints: Vec::new(),
        bounds: Bounds::default(),
        properties: Vec::new(),
    };
    for rule in assume {
        s.assume(parse_assume(rule).unwrap());
    }
    s
}

#[derive(Clone, Copy, Debug)]
struct Config {
    threads: usize,
    mode: StoreMode,
    reduce: bool,
    full: bool,
}

const PLAIN: Config = Config { threads: 1, mode: StoreMode::Exact, reduce: false, full: false };

fn run(source: &str, model: &ir::Model, scenario: &Scenario, properties: &[&str], config: Config) -> Report {
    let request = Request {
        scenario,
        properties: properties.iter().map(|p| Property::parse(p).unwrap()).collect(),
        threads: config.threads,
        mode: config.mode,
        full: config.full,
        reduce: config.reduce,
        reproducible: false,
        progress: None,
    };
    verify(model, source, &request).unwrap_or_else(|e| panic!("scenario mismatch: {}", e.message))
}

/// A model, a scenario and properties with their hand-derived verdicts (in order).
struct Case {
    name: &'static str,
    source: String,
    peers: &'static str,
    assume: &'static [&'static str],
    properties: &'static [(&'static str, Verdict)],
}

const DF: &str = "deadlock-free";
const NO: &str = "no-orphans";
const TE: &str = "terminates";
use Verdict::{Holds, Violated};

fn cases() -> Vec<Case> {
    let case = |name, source: &str, peers, assume, properties| Case {
        name,
        source: source.to_string(),
        peers,
        assume,
        properties,
    };
    let mut out = vec![
        // Derivations: at the top of each fixture.
        case(
            "choice_race",
            fixture!("choice_race.lcc"),
            "a(p, p1), a(q, q1)",
            &[],
            &[
                (DF, Violated),
                (NO, Holds),
                (TE, Holds),
                ("[true* . send(_, _, ping) . true* . send(_, _, second)] false", Holds),
            ],
        ),
        // `second` can be sent (when ok/1 fails): a finite counterexample.
        case(
            "choice_abstract",
            fixture!("choice_abstract.lcc"),
            "a(p, p1), a(q, q1)",
            &[],
            &[(DF, Holds), ("[true* . send(_, _, second)] false", Violated)],
        ),
        case(
            "guarded_receive",
            fixture!("guarded_receive.lcc"),
            "a(src, p), a(dst, d)",
            &[],
            &[(DF, Holds), (NO, Violated), (TE, Holds)],
        ),
        case(
            "orphans",
            fixture!("orphans.lcc"),
            "a(talker, t), a(listener, l)",
            &[],
            &[(DF, Holds), (NO, Violated), (TE, Holds)],
        ),
        case("no server", fixture!("discovery.lcc"), "a(client, c)", &[], &[(DF, Violated), (NO, Holds)]),
        case("fixed id", fixture!("fixed_id.lcc"), "a(client, c), a(server, s1)", &[], &[(DF, Violated)]),
        case(
            "pingpong",
            fixture!("pingpong.lcc"),
            "a(pinger, p), a(ponger, q)",
            &[],
            &[
                (DF, Holds),
                (TE, Violated),
                ("mu X. [!done(_)] X", Violated),
                // p sends ping in the first step: a one-step counterexample.
                ("[true* . send(_, _, ping)] false", Violated),
            ],
        ),
        case(
            "ready any",
            fixture!("scenarios.lcc"),
            "a(client, c), a(server, s1)",
            &["ready/1=any"],
            &[(DF, Violated), (TE, Holds)],
        ),
        case(
            "total overridden",
            fixture!("total.lcc"),
            "a(client, c), a(server, s1)",
            &["ready/1=any"],
            &[(DF, Violated), (NO, Holds)],
        ),
        case(
            "choice_all_fail",
            fixture!("choice_all_fail.lcc"),
            "a(p, p)",
            &[],
            &[(DF, Violated), (TE, Holds)],
        ),
        case("lists", fixture!("lists.lcc"), "a(l, p)", &[], &[(DF, Violated), (TE, Holds)]),
        case("values", fixture!("values.lcc"), "a(s, s1), a(r, r1)", &[], &[(DF, Violated), (NO, Holds)]),
        case("unknown", fixture!("unknown.lcc"), "a(t('?'), p)", &[], &[(DF, Holds), (TE, Holds)]),
        case(
            "declared_args",
            fixture!("declared_args.lcc"),
            "a(worker('?'), w1), a(worker('?'), w2)",
            &[],
            &[(DF, Violated), (TE, Holds)],
        ),
        // Its only infinite runs pile up messages: the mailbox bound cuts them and leaves no
        // cycle, so there is no lasso to show and no proof either.
        case("spam", fixture!("spam.lcc"), "a(spam(k), s), a(sink, k)", &[], &[(TE, Verdict::Inconclusive)]),
    ];
    if let Some(corpus) = common::corpus() {
        let read = |name: &str| std::fs::read_to_string(corpus.join("seed").join(name)).unwrap();
        let slides = read("balance_slides.lcc");
        let buyer = read("buyer_shopkeeper.lcc");
        out.push(case(
            "balance_slides idle",
            &slides,
            "a(idle, h1), a(idle, h2)",
            &[],
            &[(DF, Violated), (TE, Violated)],
        ));
        // No peer ever finishes, so a success configuration has every peer an idle server
        // (underloaded, at its first receive) with nothing pending for it: no messages at all.
        out.push(case(
            "balance_slides idle, orphans",
            &slides,
            "a(idle, h1), a(idle, h2)",
            &[],
            &[(NO, Holds), (DF, Violated)],
        ));
        out.push(case(
            "balance_slides pair",
            &slides,
            "a(overloaded(high), h1), a(underloaded(low), h2)",
            &[],
            &[(DF, Violated)],
        ));
        out.push(case(
            "buyer_shopkeeper",
            &buyer,
            "a(buyer, b), a(shopkeeper, s)",
            &[],
            &[(DF, Violated), (TE, Holds)],
        ));
        out.push(case(
            "buyer_shopkeeper afford",
            &buyer,
            "a(buyer, b), a(shopkeeper, s)",
            &["in_stock/2=true"],
            &[(DF, Violated)],
        ));
        out.push(case(
            "buyer_shopkeeper true",
            &buyer,
            "a(buyer, b), a(shopkeeper, s)",
            &["in_stock/2=true", "afford/2=true"],
            &[(DF, Holds), (TE, Holds), (NO, Holds)],
        ));
    }
    out
}

#[test]
fn every_counterexample_replays_and_ends_at_its_violation() {
    let mut replayed = 0;
    for case in cases() {
        let m = model(&case.source);
        let s = scenario(case.peers, case.assume);
        let texts: Vec<&str> = case.properties.iter().map(|(p, _)| *p).collect();
        let mut lengths: Option<Vec<Option<usize>>> = None;
        for threads in [1, 2] {
            for reduce in [false, true] {
                let config = Config { threads, reduce, ..PLAIN };
                let report = run(&case.source, &m, &s, &texts, config);
                let what = format!("{} {config:?}", case.name);
                assert_eq!(report.properties.len(), case.properties.len(), "{what}");
                let mut these = Vec::new();
                for ((text, expected), p) in case.properties.iter().zip(&report.properties) {
                    assert_eq!(p.verdict, *expected, "{what}: {text}: {:?}", p.note);
                    if p.verdict != Verdict::Violated {
                        these.push(None);
                        continue;
                    }
                    let trace = p.trace.as_ref().unwrap_or_else(|| panic!("{what}: {text}: no trace"));
                    let end = replay(&m, &s, trace)
                        .unwrap_or_else(|i| panic!("{what}: {text}: step {i} does not replay: {trace:#?}"));
                    match *text {
                        DF => {
                            assert_eq!(end.terminal, Some(TerminalKind::Deadlock), "{what}: {text}");
                            assert!(!trace.stuck.is_empty(), "{what}: a deadlock names its stuck peers");
                        }
                        NO => {
                            assert_eq!(end.terminal, Some(TerminalKind::Orphans), "{what}: {text}");
                            assert!(!trace.in_flight.is_empty(), "{what}: orphans are listed");
                        }
                        _ => {}
                    }
                    if *text == TE || text.starts_with("mu X") {
                        assert!(trace.cycle_start.is_some(), "{what}: {text}: a lasso");
                    }
                    if trace.cycle_start.is_some() {
                        assert_eq!(end.closes_cycle, Some(true), "{what}: {text}: the loop closes");
                        assert_eq!(end.terminal, None, "{what}: {text}: a lasso ends in no terminal");
                    }
                    these.push(if trace.cycle_start.is_none() { Some(trace.steps.len()) } else { None });
                    replayed += 1;
                }
                // Shortest traces have one length, whatever the threads and the reduction.
                match &lengths {
                    None => lengths = Some(these),
                    Some(first) => assert_eq!(first, &these, "{what}: trace lengths differ"),
                }
            }
        }
    }
    assert!(replayed >= 40, "only {replayed} traces replayed");
}

#[test]
fn hand_derived_trace_lengths() {
    // (model, peers, assumptions, property, steps): the derivations are in the fixtures and in
    // tests/verify.rs of the workspace.
    let cases: &[(&str, &str, &[&str], &str, usize)] = &[
        (fixture!("choice_race.lcc"), "a(p, p1), a(q, q1)", &[], DF, 1),
        (fixture!("guarded_receive.lcc"), "a(src, p), a(dst, d)", &[], NO, 3),
        (fixture!("orphans.lcc"), "a(talker, t), a(listener, l)", &[], NO, 3),
        (fixture!("discovery.lcc"), "a(client, c)", &[], DF, 0),
        (fixture!("scenarios.lcc"), "a(client, c), a(server, s1)", &["ready/1=any"], DF, 1),
        (fixture!("pingpong.lcc"), "a(pinger, p), a(ponger, q)", &[], "[true* . send(_, _, ping)] false", 1),
    ];
    for &(source, peers, assume, property, expected) in cases {
        let m = model(source);
        let s = scenario(peers, assume);
        for reduce in [false, true] {
            let report = run(source, &m, &s, &[property], Config { reduce, ..PLAIN });
            let trace = report.properties[0].trace.as_ref().unwrap();
            assert_eq!(trace.steps.len(), expected, "{peers} {property} reduce={reduce}");
        }
    }
}

#[test]
fn a_tampered_trace_does_not_replay() {
    let source = fixture!("orphans.lcc");
    let m = model(source);
    let s = scenario("a(talker, t), a(listener, l)", &[]);
    let report = run(source, &m, &s, &[NO], PLAIN);
    let trace = report.properties[0].trace.clone().unwrap();
    assert!(replay(&m, &s, &trace).is_ok());
    // Without its first step (t sends hello), nothing after it can happen first.
    let mut cut = trace.clone();
    cut.steps.remove(0);
    assert_eq!(replay(&m, &s, &cut), Err(0));
    // A step by another peer than the one that can take it.
    let mut wrong = trace.clone();
    wrong.steps[0].peer = lcc_check::mc::value::Value::atom("l");
    assert_eq!(replay(&m, &s, &wrong), Err(0));
    // A prefix replays but does not end at the orphans.
    let mut prefix = trace;
    prefix.steps.pop();
    assert_eq!(replay(&m, &s, &prefix).unwrap().terminal, None);

    // A lasso without its last step does not close.
    let source = fixture!("pingpong.lcc");
    let m = model(source);
    let s = scenario("a(pinger, p), a(ponger, q)", &[]);
    let report = run(source, &m, &s, &[TE], PLAIN);
    let mut lasso = report.properties[0].trace.clone().unwrap();
    assert_eq!(replay(&m, &s, &lasso).unwrap().closes_cycle, Some(true));
    lasso.steps.pop();
    assert_eq!(replay(&m, &s, &lasso).unwrap().closes_cycle, Some(false));
}

/// (states, transitions) of a whole exploration under each configuration.
fn counts_everywhere(source: &str, peers: &str, properties: &[&str], reduce: bool) -> Vec<(u64, u64)> {
    let m = model(source);
    let s = scenario(peers, &[]);
    let mut out = Vec::new();
    for (threads, mode) in [
        (1, StoreMode::Exact),
        (2, StoreMode::Exact),
        (1, StoreMode::HashCompaction),
        (2, StoreMode::HashCompaction),
        (1, StoreMode::Exact),
    ] {
        let report = run(source, &m, &s, properties, Config { threads, mode, reduce, full: true });
        assert!(report.bound.is_none(), "{:?}", report.bound);
        out.push((report.states, report.transitions));
    }
    out
}

const MEDIUM_PEERS: &str = "a(snd(r1), s1), a(rcv, r1), a(snd(r2), s2), a(rcv, r2), a(snd(r3), s3), a(rcv, r3), a(snd(r4), s4), a(rcv, r4)";

#[test]
fn counts_do_not_depend_on_threads_hash_compaction_or_repetition_medium() {
    // Derived in medium.lcc: 10^4 states, 4 * 12 * 10^3 transitions.
    let all = counts_everywhere(fixture!("medium.lcc"), MEDIUM_PEERS, &[DF], false);
    assert!(all.iter().all(|&c| c == (10_000, 48_000)), "{all:?}");
    // The whole graph (a formula) explores the same.
    let all = counts_everywhere(fixture!("medium.lcc"), MEDIUM_PEERS, &[TE], false);
    assert!(all.iter().all(|&c| c == (10_000, 48_000)), "{all:?}");
    // With the reduction: fewer or as many, and the same everywhere.
    let all = counts_everywhere(fixture!("medium.lcc"), MEDIUM_PEERS, &[DF], true);
    assert!(all.iter().all(|&c| c == all[0] && c.0 <= 10_000), "{all:?}");
}

#[test]
fn counts_do_not_depend_on_threads_hash_compaction_or_repetition_balance_slides() {
    let Some(corpus) = common::corpus() else { return };
    let source = std::fs::read_to_string(corpus.join("seed/balance_slides.lcc")).unwrap();
    let peers = "a(idle, h1), a(idle, h2)";
    let full = counts_everywhere(&source, peers, &[DF], false);
    assert!(full.iter().all(|&c| c == full[0]), "{full:?}");
    let graph = counts_everywhere(&source, peers, &[TE, DF], false);
    assert!(graph.iter().all(|&c| c == full[0]), "graph {graph:?} vs {full:?}");
    let reduced = counts_everywhere(&source, peers, &[DF], true);
    assert!(reduced.iter().all(|&c| c == reduced[0] && c.0 <= full[0].0), "{reduced:?}");
    // And a second scenario of it.
    let pair = counts_everywhere(&source, "a(overloaded(high), h1), a(underloaded(low), h2)", &[DF], false);
    assert!(pair.iter().all(|&c| c == pair[0]), "{pair:?}");
}

#[test]
fn exploring_twice_gives_the_same_report() {
    for (source, peers) in [
        (fixture!("pingpong.lcc"), "a(pinger, p), a(ponger, q)"),
        (fixture!("par.lcc"), "a(p, p1), a(q, q1)"),
        (fixture!("choice_abstract.lcc"), "a(p, p1), a(q, q1)"),
    ] {
        let m = model(source);
        let s = scenario(peers, &[]);
        let a = run(source, &m, &s, &[DF, TE, NO], Config { threads: 2, ..PLAIN });
        let b = run(source, &m, &s, &[DF, TE, NO], Config { threads: 2, ..PLAIN });
        assert_eq!((a.states, a.transitions, a.depth), (b.states, b.transitions, b.depth), "{peers}");
        let verdicts = |r: &Report| r.properties.iter().map(|p| p.verdict).collect::<Vec<_>>();
        assert_eq!(verdicts(&a), verdicts(&b));
    }
}
