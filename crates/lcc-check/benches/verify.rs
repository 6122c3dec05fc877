//! Model-checking speed and memory on the load-balancing protocol of the seed (the corrected
//! Fig. 2 model, `stdlib/vm/balance_as_published.lcc`), scaled from 2 to 6 hosts.
//!
//! `cargo bench -p lcc-check --bench verify` explores the whole state space (as `lcc verify
//! --full` does) of every host count, in exact mode and with hash compaction, with and
//! without partial-order reduction, and prints one line per run: states, transitions,
//! seconds, states/s and bytes per state. The scenario is `reliable-hosts` of the shipped
//! scenario file: the host library never fails, the load tests (`isOverLoaded`,
//! `isUnderLoaded`) may go either way. `LCC_BENCH_HOSTS=2..5` (or `5`) picks the host counts;
//! `LCC_BENCH_THREADS` the worker threads (default: all cores);
//! `LCC_BENCH_ONLY=exact-por|hc-por|exact-full|hc-full` one configuration. Under `cargo test --benches`
//! (no `--bench` flag) it runs 2 and 3 hosts only, as a smoke test.
//!
//! For reference (PLATFORM.md): SPIN 6.5.2 on a hand-written Promela model of the same
//! protocol took 22.5 s for 8.9 M states (397 k states/s, 230 bytes/state) at 5 hosts on
//! the 2-core machine of this project.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use lcc_check::mc::explore::StoreMode;
use lcc_check::mc::scenario::{self, Scenario};
use lcc_check::mc::verify::{self, Property, Request};

const MODEL: &str = include_str!("../../../stdlib/vm/balance_as_published.lcc");

fn scenario(hosts: usize) -> Scenario {
    let peers: Vec<String> = (1..=hosts).map(|i| format!("a(idle, h{i})")).collect();
    let mut s = Scenario {
        name: format!("{hosts} hosts"),
        peers: scenario::parse_peers(&peers.join(", ")).unwrap(),
        constraints: Vec::new(),
        bounds: scenario::Bounds { states: 500_000_000, ..Default::default() },
        properties: Vec::new(),
    };
    for rule in
        ["getPeerState/1=true", "migration/2=true", "isMigrationPossible/2=true", "waitForMigration/0=true"]
    {
        s.assume(scenario::parse_assume(rule).unwrap());
    }
    s
}

fn main() {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let hosts: Vec<usize> = match std::env::var("LCC_BENCH_HOSTS") {
        Ok(spec) => match spec.split_once("..") {
            Some((a, b)) => (a.parse().unwrap()..=b.parse().unwrap()).collect(),
            None => vec![spec.parse().unwrap()],
        },
        Err(_) if benchmarking => (2..=6).collect(),
        Err(_) => vec![2, 3],
    };
    let threads = std::env::var("LCC_BENCH_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let (model, diagnostics) = lcc_check::check_source(MODEL);
    assert!(diagnostics.iter().all(|d| !d.is_error()), "the shipped model has errors");
    println!("load balancing, every reachable state, {threads} threads");
    println!(
        "{:>5}  {:<15} {:<4} {:>12} {:>13} {:>9} {:>12} {:>12}",
        "hosts", "store", "por", "states", "transitions", "seconds", "states/s", "bytes/state"
    );
    for &n in &hosts {
        let s = scenario(n);
        let mut reference = None;
        let mut deadlock_states = None;
        for (mode, reduce) in [
            (StoreMode::Exact, true),
            (StoreMode::HashCompaction, true),
            (StoreMode::Exact, false),
            (StoreMode::HashCompaction, false),
        ] {
            let name = format!(
                "{}-{}",
                if mode == StoreMode::Exact { "exact" } else { "hc" },
                if reduce { "por" } else { "full" }
            );
            if std::env::var("LCC_BENCH_ONLY").is_ok_and(|only| only != name) {
                continue;
            }
            // 6 hosts: about 10^8 states even reduced; only fingerprints fit this machine's
            // memory.
            if n >= 6 && (!reduce || mode == StoreMode::Exact) {
                continue;
            }
            let request = Request {
                scenario: &s,
                properties: vec![Property::DeadlockFree, Property::NoOrphans],
                threads,
                mode,
                full: true,
                reduce,
                reproducible: false,
                progress: None,
            };
            let report = verify::verify(&model, MODEL, &request).unwrap();
            assert!(report.bound.is_none(), "{n} hosts: {:?}", report.bound);
            let rate = report.states as f64 / report.seconds.max(1e-9);
            let bytes = report.bytes as f64 / report.states.max(1) as f64;
            println!(
                "{n:>5}  {:<15} {:<4} {:>12} {:>13} {:>9.2} {:>12.0} {:>12.1}",
                if mode == StoreMode::Exact { "exact" } else { "hash compaction" },
                if reduce { "on" } else { "off" },
                report.states,
                report.transitions,
                report.seconds,
                rate,
                bytes
            );
            // The store mode changes nothing; the reduction keeps every deadlock state.
            if mode == StoreMode::Exact {
                reference = Some((reduce, report.states));
            } else if reference.is_some_and(|(r, _)| r == reduce) {
                assert_eq!(
                    reference,
                    Some((reduce, report.states)),
                    "hash compaction disagrees with exact mode"
                );
            }
            let deadlocks = *deadlock_states.get_or_insert(report.deadlock_states);
            assert_eq!(deadlocks, report.deadlock_states, "the reduction lost deadlock states");
        }
    }
}
