//! The simulated datacentre: the experiment of Fig. 3 of the VM-migration paper (seeds/000)
//! and the power-saving policy, with the stdlib models.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use lcc_runtime::bytecode;
use lcc_runtime::sim::{Config, simulate};

fn program(path: &str) -> bytecode::Program {
    let source = std::fs::read_to_string(format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let (model, diagnostics) = lcc_check::check_source(&source);
    assert!(!diagnostics.iter().any(|d| d.is_error()), "{path} has errors");
    bytecode::program(&model)
}

#[test]
fn fig3_fifteen_hosts_fifty_vms_end_balanced() {
    let p = program("stdlib/vm/balance.lcc");
    for seed in 1..=40 {
        let config = Config { seed, ..Config::default() };
        let out = simulate(&p, &config, &mut |_| {}).unwrap();
        let first = &out.ticks[0];
        let lo = config.lower * first.average;
        let hi = config.upper * first.average;
        let initially = first.loads.iter().filter(|&&l| l >= lo && l <= hi).count();
        println!(
            "seed {seed}: {} of 15 hosts in range at the start, {} at the end; {} migrations; stable {} after {} ticks",
            initially,
            out.in_range(),
            out.migrations,
            out.stable,
            out.ticks.len() - 1
        );
        assert!(out.inventory_exact);
    }
}

