//! Runtime figures, printed (never asserted): events per second of in-process execution, and
//! the time to simulate a large datacentre to a stable state.
//!
//! `cargo bench -p lcc-runtime --bench runtime`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use lcc_check::mc::scenario::PeerSpec;
use lcc_check::mc::value::Value;
use lcc_runtime::abi::Registry;
use lcc_runtime::bytecode;
use lcc_runtime::sim::{Config, simulate};
use lcc_runtime::vm::{Options, Vm};
use std::time::Instant;

/// Two peers passing a counter back and forth: a send, a receive with arithmetic and a tail
/// role change per turn.
const PING_PONG: &str = r#"
a(ping(N), P) ::
    ball(N) => a(pong, Q) <- partner(P, Q) then
    ball(M) <= a(pong, Q) then
    a(ping(M), P)

a(pong, Q) ::
    ball(N) <= a(ping, P) then
    ball(M) => a(ping, P) <- M is N + 1 then
    a(pong, Q)
"#;

fn program(source: &str) -> bytecode::Program {
    let (model, diagnostics) = lcc_check::check_source(source);
    assert!(!diagnostics.iter().any(|d| d.is_error()), "{diagnostics:?}");
    bytecode::program(&model)
}

/// CPU time of this thread so far, in seconds, from /proc (the machine may be shared: wall
/// time then counts other tenants' work too). `None` off Linux.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn events_per_second(pairs: usize, events: u64) {
    let program = program(PING_PONG);
    let mut peers = Vec::new();
    for i in 0..pairs {
        peers.push(PeerSpec {
            role: Value::Compound("ping".into(), vec![Value::Int(0)]),
            id: Value::Int(2 * i as i64),
        });
        peers.push(PeerSpec { role: Value::atom("pong"), id: Value::Int(2 * i as i64 + 1) });
    }
    let mut registry = Registry::new();
    registry.register_fn("partner", 2, |call| {
        let Value::Int(p) = call.args[0] else { return Ok(Vec::new()) };
        Ok(vec![vec![Value::Int(p), Value::Int(p + 1)]])
    });
    for (label, record) in [("labels off", false), ("labels on", true)] {
        let options = Options { seed: None, record, ..Options::default() };
        let mut vm = Vm::new(&program, &peers, registry_clone(&mut registry), options).unwrap();
        let start = Instant::now();
        let cpu = cpu_seconds();
        vm.run(events, &mut |_, _| {});
        let secs = start.elapsed().as_secs_f64();
        let cpu = cpu.zip(cpu_seconds()).map(|(a, b)| b - a).filter(|&c| c > 0.0);
        println!(
            "ping-pong, {pairs} pair(s), {label}: {} events in {secs:.3} s = {:.2} M events/s wall{}",
            vm.steps(),
            vm.steps() as f64 / secs / 1e6,
            cpu.map(|c| format!(
                ", {:.2} M events per CPU second ({c:.2} s of CPU)",
                vm.steps() as f64 / c / 1e6
            ))
            .unwrap_or_default()
        );
    }
}

fn registry_clone(_: &mut Registry) -> Registry {
    let mut registry = Registry::new();
    registry.register_fn("partner", 2, |call| {
        let Value::Int(p) = call.args[0] else { return Ok(Vec::new()) };
        Ok(vec![vec![Value::Int(p), Value::Int(p + 1)]])
    });
    registry
}

fn datacentre(hosts: usize, vms: usize) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../stdlib/vm/balance.lcc");
    let program = program(&std::fs::read_to_string(path).unwrap());
    let config = Config { hosts, vms, seed: 1, max_ticks: 2_000, ..Config::default() };
    let start = Instant::now();
    let out = simulate(&program, &config, &mut |_| {}).unwrap();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "balance.lcc, {hosts} hosts, {vms} VMs: {} after {} intervals, {} migrations, {} events in {secs:.2} s ({:.2} M events/s); {} of {hosts} hosts in range",
        if out.stable { "stable" } else { "NOT stable" },
        out.ticks.len() - 1,
        out.migrations,
        out.steps,
        out.steps as f64 / secs / 1e6,
        out.in_range()
    );
}

fn main() {
    events_per_second(1, 2_000_000);
    events_per_second(1_000, 2_000_000);
    datacentre(15, 50);
    datacentre(1_000, 5_000);
}
