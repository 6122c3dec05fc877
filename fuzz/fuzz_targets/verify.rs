//! Feeds arbitrary bytes to the model checker: when the text checks without errors, it is
//! verified with one peer per role (ids `p1`, `p2`, …, role arguments `'?'`) under tight
//! bounds, for every built-in property. Crashes are panics, sanitizer reports and hangs
//! (libFuzzer's `-timeout`); every counterexample must replay.
#![no_main]

use lcc_check::mc::explore::StoreMode;
use lcc_check::mc::scenario::{self, Bounds, PeerSpec, Scenario};
use lcc_check::mc::value::Value;
use lcc_check::mc::verify::{self, Property, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = String::from_utf8_lossy(data);
    let source = source.as_ref();
    let (model, diagnostics) = lcc_check::check_source(source);
    if diagnostics.iter().any(|d| d.is_error()) || model.roles.is_empty() {
        return;
    }
    let peers = model
        .roles
        .iter()
        .take(4)
        .enumerate()
        .map(|(i, role)| PeerSpec { role: scenario::initial_role(&model, role), id: Value::atom(&format!("p{}", i + 1)) })
        .collect();
    let scenario = Scenario {
        name: "fuzz".into(),
        peers,
        constraints: Vec::new(),
        bounds: Bounds { states: 2_000, depth: Some(40), mailbox: 3, recursion: 4 },
        properties: Vec::new(),
    };
    for reduce in [false, true] {
        let request = Request {
            scenario: &scenario,
            properties: vec![Property::DeadlockFree, Property::NoOrphans, Property::Terminates],
            threads: 2,
            mode: StoreMode::Exact,
            full: false,
            reduce,
            reproducible: false,
            progress: None,
        };
        let Ok(report) = verify::verify(&model, source, &request) else { return };
        for p in &report.properties {
            if let Some(trace) = &p.trace {
                assert!(verify::replay(&model, &scenario, trace).is_ok(), "{} does not replay", p.name);
            }
        }
    }
});
