//! `stdlib/federation/transfer_proxy.lcc`, the migration of a VM between federated cloud sites
//! through Transfer proxies (Elmroth and Larsson, seeds/004, section III): its scenarios
//! verified, and runs with a Python provider of random Transfer tokens
//! (`tests/fixtures/federation/tokens.py`): a migration that succeeds, one whose token is
//! rejected (expired), and a Forced migration that never asks the Source.
//!
//! Commands run in the root of the package. Tests with the Python provider run when `python3`
//! is on PATH and say that they skipped otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{TempDir, json_lines, lcc, python3, root};
use serde_json::Value;

const MODEL: &str = "stdlib/federation/transfer_proxy.lcc";
const SVG: &str = "docs/stdlib/transfer_proxy.svg";
const PROVIDER: &str = "python3 tests/fixtures/federation/tokens.py";
/// The scenarios of `transfer_proxy.verify.toml`.
const SCENARIOS: [&str; 5] = [
    "requested-migration-succeeds",
    "forced-migration-succeeds",
    "requested-anything-may-fail",
    "forced-anything-may-fail",
    "two-destinations",
];
const REQUESTED: &str =
    "a(controller(vm1, requested), c), a(intermediary, i), a(source, s), a(destination, d)";
const FORCED: &str = "a(controller(vm1, forced), c), a(intermediary, i), a(source, s), a(destination, d)";

/// A run of the model: its JSON trace and the decisions the provider logged.
struct Run {
    lines: Vec<Value>,
    log: Vec<String>,
}

impl Run {
    /// `lcc run MODEL --peers PEERS --provider 'tokens.py OPTIONS --log FILE' --trace json`,
    /// which must exit 0 (the run ends in success).
    fn new(peers: &str, options: &str) -> Run {
        let dir = TempDir::new("federation");
        let log = dir.file("tokens.log");
        let provider = format!("{PROVIDER} {options} --log {log}");
        let args = ["run", MODEL, "--peers", peers, "--provider", &provider, "--trace", "json"];
        let out = lcc(&args);
        assert_eq!(out.code, 0, "lcc {args:?} did not end in success:\n{}\n{}", out.stdout, out.stderr);
        let lines = json_lines(&out.stdout);
        let log = std::fs::read_to_string(&log).unwrap_or_default().lines().map(str::to_string).collect();
        Run { lines, log }
    }

    /// The actions of every step, each with the number of its step.
    fn actions(&self) -> Vec<(u64, String)> {
        self.lines
            .iter()
            .filter(|l| l["event"] == "step")
            .flat_map(|s| {
                let step = s["step"].as_u64().unwrap();
                s["actions"].as_array().unwrap().iter().map(move |a| (step, a.as_str().unwrap().to_string()))
            })
            .collect()
    }

    /// The step of the first action that starts with `prefix`; fails the test if there is none.
    fn step_of(&self, prefix: &str) -> u64 {
        self.actions()
            .into_iter()
            .find(|(_, a)| a.starts_with(prefix))
            .unwrap_or_else(|| panic!("no action `{prefix}…` in the run:\n{:#?}", self.actions()))
            .0
    }

    /// Whether some action contains `text`.
    fn has(&self, text: &str) -> bool {
        self.actions().iter().any(|(_, a)| a.contains(text))
    }

    /// The `end` event.
    fn end(&self) -> &Value {
        self.lines.last().unwrap()
    }

    /// Asserts that the run ended in success with every peer finished (nobody waits) and no
    /// message left undelivered, and that the Controller ended in `outcome`.
    fn assert_everyone_finished(&self, outcome: &str) {
        let end = self.end();
        assert_eq!(end["ending"], "success", "{end}");
        let peers = end["peers"].as_array().unwrap();
        assert_eq!(peers.len(), 4, "{end}");
        for peer in peers {
            assert_eq!(peer["status"], "finished", "peer {} did not finish: {end}", peer["id"]);
            assert_eq!(peer["mailbox"], Value::Array(vec![]), "a message was left for {}: {end}", peer["id"]);
        }
        let controller = peers.iter().find(|p| p["id"] == "c").unwrap();
        assert_eq!(controller["role"], outcome, "the Controller's outcome: {end}");
    }
}

/// The quoted token in an action such as `call(s, obtain_transfer_token(vm1, "…"))`.
fn token_in(action: &str) -> String {
    let start = action.find('"').unwrap_or_else(|| panic!("no token in `{action}`")) + 1;
    let len = action[start..].find('"').unwrap_or_else(|| panic!("unterminated token in `{action}`"));
    action[start..start + len].to_string()
}

/// The token that `peer`'s Transfer proxy issued in `run`, as the trace shows it.
fn issued_token(run: &Run, peer: &str) -> String {
    let prefix = format!("call({peer}, obtain_transfer_token(vm1, \"");
    let (_, action) = run
        .actions()
        .into_iter()
        .find(|(_, a)| a.starts_with(&prefix))
        .unwrap_or_else(|| panic!("{peer} issued no token:\n{:#?}", run.actions()));
    let token = token_in(&action);
    assert!(
        token.len() == 32 && token.chars().all(|c| c.is_ascii_hexdigit()),
        "not a token of tokens.py: `{token}` in `{action}`"
    );
    token
}

// ---------------------------------------------------------------- lcc verify, check, fmt, viz

#[test]
fn every_scenario_of_the_model_verifies_with_no_flags() {
    let out = lcc(&["verify", MODEL]);
    assert_eq!(out.code, 0, "lcc verify {MODEL}:\n{}\n{}", out.stdout, out.stderr);
    for name in SCENARIOS {
        assert!(
            out.stdout.contains(&format!("scenario `{name}`")),
            "scenario {name} not run:\n{}",
            out.stdout
        );
    }
    let verdicts: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("verdict:")).collect();
    assert_eq!(verdicts.len(), SCENARIOS.len(), "{}", out.stdout);
    for verdict in verdicts {
        assert!(verdict.starts_with("verdict: holds (0 of "), "{verdict} in:\n{}", out.stdout);
    }
    assert!(!out.stdout.contains("violated:") && !out.stdout.contains("inconclusive"), "{}", out.stdout);

    // The same in JSON: every property of every scenario holds, and each scenario proves at
    // least deadlock freedom, no orphans and termination, without reaching a bound.
    let out = lcc(&["verify", "--format", "json", MODEL]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).expect("JSON report");
    let scenarios = doc["scenarios"].as_array().expect("several scenarios");
    let names: Vec<&str> = scenarios.iter().map(|s| s["scenario"].as_str().unwrap()).collect();
    assert_eq!(names, SCENARIOS);
    for scenario in scenarios {
        let name = &scenario["scenario"];
        assert_eq!(scenario["verdict"], "holds", "{name}: {scenario}");
        assert_eq!(scenario["bound"], Value::Null, "{name} reached a bound: {scenario}");
        let properties = scenario["properties"].as_array().unwrap();
        for property in properties {
            assert_eq!(property["verdict"], "holds", "{name}: {property}");
        }
        let proved: Vec<&str> = properties.iter().map(|p| p["name"].as_str().unwrap()).collect();
        for needed in ["deadlock-free", "no-orphans", "terminates"] {
            assert!(proved.contains(&needed), "{name} does not prove {needed}: {proved:?}");
        }
    }
}

#[test]
fn the_diagram_has_every_role() {
    // Diagnostics, layout and freshness are checked for every stdlib model (tests/stdlib.rs).
    let svg = std::fs::read_to_string(root().join(SVG)).unwrap_or_else(|e| panic!("{SVG}: {e}"));
    let doc =
        roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{SVG} is not well-formed XML: {e}"));
    let texts: Vec<&str> =
        doc.descendants().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text()).collect();
    for head in [
        "a(controller(Vm, Mode), C)",
        "a(intermediary, I)",
        "a(source, S)",
        "a(source_transfer_proxy(Vm, STok), S)",
        "a(destination, D)",
    ] {
        assert!(
            texts.contains(&head),
            "no lane `{head}` in {SVG} (regenerate it with lcc viz --engine builtin)"
        );
    }
}

// ---------------------------------------------------------------- lcc run with tokens.py

#[test]
fn a_migration_with_a_valid_token_succeeds_in_order() {
    if !python3("a_migration_with_a_valid_token_succeeds_in_order") {
        return;
    }
    let run = Run::new(REQUESTED, "");
    run.assert_everyone_finished("migrated(vm1, d)");
    let source_token = issued_token(&run, "s");
    let destination_token = issued_token(&run, "d");
    assert_ne!(source_token, destination_token, "the two Transfer proxies issued the same token");

    // The Source was asked (a Migration request, not a Forced one) and accepted.
    let accepted = run.step_of("call(s, accept_migration(vm1))");
    // The token issued at the Source, supplied by the Destination through the Intermediary,
    // verified by the Source's Transfer proxy, then the files, then the transfer completing.
    let issued = run.step_of(&format!("call(s, obtain_transfer_token(vm1, \"{source_token}\"))"));
    let initiated = run.step_of(&format!("send(c, d, initiate_transfer(vm1, i, \"{source_token}\", d, "));
    let connected = run.step_of(&format!("send(i, s, connect(\"{source_token}\"))"));
    let verified = run.step_of(&format!("call(s, verify_transfer_token(vm1, \"{source_token}\"))"));
    let sent = run.step_of("send(s, i, vm_files(vm1))");
    let delivered = run.step_of("recv(i, d, vm_files(vm1))");
    let copied = run.step_of(&format!("call(d, copy_vm_files(vm1, \"{destination_token}\"))"));
    let reported = run.step_of("recv(d, c, transfer_status(vm1, success))");
    let checked = run.step_of("recv(i, c, transfer_status(vm1, success))");
    let migrated = run.step_of("become(c, migrated(vm1, d))");
    assert!(accepted <= issued, "the Source issued its token before accepting:\n{:#?}", run.actions());
    let order =
        [issued, initiated, connected, verified, sent, delivered, copied, reported, checked, migrated];
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "steps out of order (issued, initiated, connected, verified, sent, delivered, copied, reported, \
         checked, migrated): {order:?}\n{:#?}",
        run.actions()
    );
    assert!(!run.has("token_rejected") && !run.has("failure"), "{:#?}", run.actions());

    // The provider saw the same: both tokens issued, the Source's verified, the files copied.
    assert_eq!(
        run.log,
        [
            format!("issued d vm1 {destination_token}"),
            "accepted s vm1".to_string(),
            format!("issued s vm1 {source_token}"),
            format!("verified s vm1 {source_token}"),
            format!("copied d vm1 {destination_token}"),
        ],
        "the provider's log"
    );

    // The token is random: another run issues another one.
    let again = Run::new(REQUESTED, "");
    again.assert_everyone_finished("migrated(vm1, d)");
    assert_ne!(issued_token(&again, "s"), source_token, "two runs issued the same token");
}

#[test]
fn an_expired_token_is_rejected_the_files_never_flow_and_nobody_waits() {
    if !python3("an_expired_token_is_rejected_the_files_never_flow_and_nobody_waits") {
        return;
    }
    // --ttl 0: every token has expired by the time it is checked.
    let run = Run::new(REQUESTED, "--ttl 0");
    run.assert_everyone_finished("migration_failed(vm1, transfer_failed)");
    let token = issued_token(&run, "s");
    assert!(
        run.log.contains(&format!("rejected s vm1 {token} expired")),
        "the provider did not reject the token as expired: {:?}",
        run.log
    );
    assert!(!run.log.iter().any(|l| l.starts_with("verified") || l.starts_with("copied")), "{:?}", run.log);

    // The transfer does not happen: no files sent or copied.
    assert!(!run.has("vm_files") && !run.has("copy_vm_files"), "the files flowed:\n{:#?}", run.actions());
    // The failure path: the rejection goes back to the Destination, which reports the failure;
    // the Controller still verifies the transfer at the Source, which reports it too.
    let connected = run.step_of(&format!("send(d, i, connect(\"{token}\"))"));
    let rejected = run.step_of(&format!("send(s, i, token_rejected(\"{token}\"))"));
    let relayed = run.step_of(&format!("recv(i, d, token_rejected(\"{token}\"))"));
    let reported = run.step_of("recv(d, c, transfer_status(vm1, failure))");
    let verification = run.step_of(&format!("recv(i, s, transfer_verification(vm1, \"{token}\"))"));
    let checked = run.step_of("recv(i, c, transfer_status(vm1, failure))");
    let failed = run.step_of("become(c, migration_failed(vm1, transfer_failed))");
    let order = [connected, rejected, relayed, reported, verification, checked, failed];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "steps out of order: {order:?}\n{:#?}", run.actions());
}

#[test]
fn a_forced_migration_never_asks_the_source_to_accept() {
    if !python3("a_forced_migration_never_asks_the_source_to_accept") {
        return;
    }
    // The Source would refuse a Migration request...
    let requested = Run::new(REQUESTED, "--source-refuses");
    requested.assert_everyone_finished("migration_failed(vm1, rejected_by_source)");
    assert_eq!(requested.log.iter().filter(|l| *l == "refused s vm1").count(), 1, "{:?}", requested.log);
    // ... and the Destination's offer is then cancelled, so that it does not wait.
    requested.step_of("recv(c, d, migration_cancelled(vm1))");
    assert!(!requested.has("initiate_transfer"), "{:#?}", requested.actions());

    // ... but a Forced migration is not a question: the Source is never asked, and the VM moves.
    let forced = Run::new(FORCED, "--source-refuses");
    forced.assert_everyone_finished("migrated(vm1, d)");
    let sent = forced.step_of("send(c, i, forced_migration(vm1))");
    let relayed = forced.step_of("recv(i, s, forced_migration(vm1))");
    let issued = forced.step_of("call(s, obtain_transfer_token(vm1, ");
    assert!(sent < relayed && relayed < issued, "{:#?}", forced.actions());
    assert!(!forced.has("accept_migration"), "the Source was asked:\n{:#?}", forced.actions());
    assert!(
        !forced.has("send(c, i, migration_request") && !forced.has("send(i, s, migration_request"),
        "the Source got a Migration request:\n{:#?}",
        forced.actions()
    );
    assert!(
        !forced.log.iter().any(|l| l.starts_with("refused") || l.starts_with("accepted")),
        "the provider was asked whether the Source accepts: {:?}",
        forced.log
    );
    let token = issued_token(&forced, "s");
    assert!(forced.log.contains(&format!("verified s vm1 {token}")), "{:?}", forced.log);
}
