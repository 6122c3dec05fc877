//! Feeds arbitrary text to the runtime: whatever IR the checker makes of it (errors included,
//! which the CLI refuses but the library must survive) is compiled to bytecode and run, one
//! peer per role, every external constraint answered true or false (chosen by the input), under
//! a seeded schedule. It fails on a panic, a hang (`-timeout`), or a step count past the limit.
#![no_main]

use lcc_check::mc::scenario::{self, PeerSpec};
use lcc_check::mc::value::Value;
use lcc_runtime::abi::{Registry, TableProvider};
use lcc_runtime::bytecode;
use lcc_runtime::vm::{Options, RunEnd, Vm};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = String::from_utf8_lossy(data);
    let source = source.as_ref();
    let (model, _) = lcc_check::check_source(source);
    let program = bytecode::program(&model);
    let _ = program.disassemble();
    let peers: Vec<PeerSpec> = model
        .roles
        .iter()
        .take(6)
        .enumerate()
        .map(|(i, role)| PeerSpec { role: scenario::initial_role(&model, role), id: Value::atom(&format!("p{}", i + 1)) })
        .collect();
    let mut registry = Registry::new();
    for (i, c) in model.constraints.iter().enumerate() {
        let answer = data.get(i).is_some_and(|b| b & 1 == 1);
        registry.register(&c.name, c.arity, TableProvider::constant(answer));
    }
    let options = Options { seed: Some(data.len() as u64), max_depth: 32, ..Options::default() };
    let Ok(mut vm) = Vm::new(&program, &peers, registry, options) else { return };
    let end = vm.run(2_000, &mut |_, _| {});
    assert!(vm.steps() <= 2_000);
    if let RunEnd::Terminal(_) = end {
        let _ = vm.report();
    }
    let _ = vm.take_notices();
});
