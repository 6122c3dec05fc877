//! stdlib/vm/offline_migration.lcc, the offline migration of a service between datacentres
//! (section 4 of the VM-migration paper, Figs. 4 to 8): its scenario file verifies with no
//! flags; a run moves the service in the order of the workflow (new VM and service started,
//! every client redirected, old service stopped, old VM deleted last), and falls back cleanly
//! when the host declines or the new service does not start; the published form of Fig. 8
//! (stdlib/vm/offline_migration_as_published.lcc) deadlocks as its scenario file says; the
//! diagram in docs/stdlib is current.
//!
//! The constraints are answered by tests/fixtures/offline_migration/provider.py (pm1 in dc1 is
//! overloaded and runs vm1 with service sid1, used by c1 and c2; pm2 in dc2 has room; the
//! environment variable OFFLINE_MIGRATION_FAIL names a constraint to fail). Commands run in the
//! root of the package. Tests with the Python provider say that they skipped when `python3` is
//! not on PATH.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{JsonRun, lcc, python3, root};
use serde_json::Value;

const MODEL: &str = "stdlib/vm/offline_migration.lcc";
const AS_PUBLISHED: &str = "stdlib/vm/offline_migration_as_published.lcc";
const SVG: &str = "docs/stdlib/offline_migration.svg";
const PROVIDER: &str = "python3 tests/fixtures/offline_migration/provider.py";
/// Every peer of the scenario file, which `lcc run` uses when no `--peers` is given.
const PEERS: [&str; 6] = ["pm1", "pm2", "sid1", "sid2", "c1", "c2"];

/// `lcc verify --format json ARGS`, expecting exit status `code`; the parsed report.
fn verify_json(args: &[&str], code: i32) -> Value {
    let mut all = vec!["verify", "--format", "json"];
    all.extend_from_slice(args);
    let out = lcc(&all);
    assert_eq!(out.code, code, "lcc {all:?}:\n{}{}", out.stdout, out.stderr);
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("lcc {all:?} printed no JSON ({e}):\n{}", out.stdout))
}

/// The verdict of each property of one scenario's report, by name.
fn verdicts(scenario: &Value) -> Vec<(String, String)> {
    scenario["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_string(), p["verdict"].as_str().unwrap().to_string()))
        .collect()
}

/// The report of property `name` in one scenario's report.
fn property<'a>(scenario: &'a Value, name: &str) -> &'a Value {
    scenario["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no property `{name}` in {scenario}"))
}

/// A finished `lcc run` of the model (the shared [`JsonRun`], with this model's questions).
struct Run(JsonRun);

impl std::ops::Deref for Run {
    type Target = JsonRun;
    fn deref(&self) -> &JsonRun {
        &self.0
    }
}

impl Run {
    /// `lcc run MODEL --trace json ARGS`, which must exit 0 (success).
    fn new(args: &[&str]) -> Run {
        let mut all = vec!["run", MODEL, "--trace", "json"];
        all.extend_from_slice(args);
        let run = Run(JsonRun::new(&all));
        assert_eq!(run.end()["ending"], "success", "{:?}: {}", run.args, run.end());
        run
    }

    /// Where `action` is in [`Run::actions`]; it must occur exactly once.
    fn position(&self, action: &str) -> usize {
        let actions = self.actions();
        let found: Vec<usize> =
            actions.iter().enumerate().filter(|(_, a)| *a == action).map(|(i, _)| i).collect();
        assert_eq!(
            found.len(),
            1,
            "{:?}: `{action}` occurs {} times in {actions:#?}",
            self.args,
            found.len()
        );
        found[0]
    }

    /// Peer `id` ended with `status` (`finished`, `idle`) and read every message sent to it.
    fn assert_peer(&self, id: &str, status: &str) {
        let peer = self.peer(id);
        assert_eq!(peer["status"], status, "{:?}: {id} is not {status}: {peer}", self.args);
        assert_eq!(
            peer["mailbox"],
            serde_json::json!([]),
            "{:?}: {id} has unread messages: {peer}",
            self.args
        );
    }

    /// The whole workflow ran, in its order: vm2 created and its service started before any
    /// client is redirected, both clients redirected (once, to sid2) before sid1 stops, vm1
    /// deleted after that and last of all.
    fn assert_workflow_in_order(&self) {
        let args = &self.args;
        let created = self.position("call(pm2, createNewVMs(vm1, profile(2, 4096), vm2, [sid2]))");
        let started = self.position("call(sid2, startService())");
        let told = self.position("recv(pm2, pm1, done(\"start\"))");
        let shutdown_asked = self.position("send(pm1, sid1, do(\"shutdown\"))");
        let redirected: Vec<usize> =
            ["c1", "c2"].iter().map(|c| self.position(&format!("call({c}, redirect(sid1, sid2))"))).collect();
        let stopped = self.position("call(sid1, shutdown())");
        let deleted = self.position("call(pm1, deleteVM(vm1))");
        assert!(created < started, "{args:?}: the service started before its VM was created");
        assert!(
            started < told && told < shutdown_asked,
            "{args:?}: the old service was asked to stop before the new one ran"
        );
        for (client, at) in ["c1", "c2"].iter().zip(&redirected) {
            assert!(started < *at, "{args:?}: {client} was redirected before the new service started");
            assert!(*at < stopped, "{args:?}: the old service stopped before {client} was redirected");
        }
        assert!(stopped < deleted, "{args:?}: vm1 was deleted before its service stopped");
        assert_eq!(deleted, self.actions().len() - 2, "{args:?}: deleting vm1 is not the last thing done");
        assert_eq!(self.actions().last().unwrap(), "done(pm1)", "{args:?}: pm1 did not finish right after");
        // Each client checked that sid2 runs before reattaching to it, and told sid1.
        for client in ["c1", "c2"] {
            assert_eq!(
                self.matching(&format!("send({client}, ")),
                [
                    format!("send({client}, sid2, chk(\"running\"))"),
                    format!("send({client}, sid1, done(\"redirect\"))")
                ],
                "{args:?}: {client}'s messages"
            );
        }
        assert!(self.matching("call(pm2, deleteVM(").is_empty(), "{args:?}: the new VM was deleted");
        self.assert_peer("pm1", "finished");
        self.assert_peer("sid1", "finished");
        for id in ["pm2", "sid2", "c1", "c2"] {
            self.assert_peer(id, "idle");
        }
        assert_eq!(self.peer("pm2")["role"], "host(40)", "{args:?}: the host does not wait for more offers");
    }
}

#[test]
fn the_model_verifies_with_no_flags() {
    let out = lcc(&["verify", MODEL]);
    assert_eq!(out.code, 0, "lcc verify {MODEL} did not prove every property:\n{}{}", out.stdout, out.stderr);
    for needle in ["deadlock-free: holds", "no-orphans: holds", "terminates: holds", "verdict: holds"] {
        assert!(out.stdout.contains(needle), "no `{needle}` in:\n{}", out.stdout);
    }
    assert!(!out.stdout.contains("violated (") && !out.stdout.contains("inconclusive"), "{}", out.stdout);

    let doc = verify_json(&[MODEL], 0);
    assert_eq!(doc["scenario"], "one-service-two-clients", "{doc}");
    assert_eq!(doc["verdict"], "holds", "{doc}");
    assert_eq!(doc["bound"], Value::Null, "a bound was reached: {doc}");
    assert_eq!(doc["deadlock_states"], 0, "{doc}");
    assert!(doc["states"].as_u64().unwrap() > 100, "the workflow was explored too little: {doc}");
    let peers: Vec<&str> = doc["peers"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    let clients = peers.iter().filter(|p| p.starts_with("a(client,")).count();
    assert!(clients >= 2, "the scenario needs at least two clients: {peers:?}");
    for role in ["a(initial, pm1)", "a(initial, pm2)", "a(service, sid1)", "a(service, sid2)"] {
        assert!(peers.contains(&role), "no {role} in {peers:?}");
    }
    let verdicts = verdicts(&doc);
    for required in ["deadlock-free", "no-orphans", "terminates"] {
        assert!(
            verdicts.contains(&(required.to_string(), "holds".to_string())),
            "`{required}` is not among the properties that hold: {verdicts:?}"
        );
    }
    assert!(verdicts.len() > 3, "the order of the workflow is not checked: {verdicts:?}");
    assert!(verdicts.iter().all(|(_, v)| v == "holds"), "{verdicts:?}");
}

#[test]
fn the_model_needs_its_fixes() {
    // What the scenario file fixes and the model marks total is what makes it hold: a service
    // that may fail to stop leaves the emigrant waiting for done("shutdown").
    let doc = verify_json(&[MODEL, "--assume", "shutdown/0=any"], 1);
    let deadlock = property(&doc, "deadlock-free");
    assert_eq!(deadlock["verdict"], "violated", "{doc}");
    let stuck = deadlock["trace"]["stuck"].as_array().unwrap();
    assert!(
        stuck.iter().any(|s| s["peer"] == "sid1" && s["why"].as_str().unwrap().contains("shutdown")),
        "the old service is not stuck on its failed shutdown: {stuck:?}"
    );
}

#[test]
fn a_run_moves_the_service_in_the_order_of_the_workflow() {
    if !python3("a_run_moves_the_service_in_the_order_of_the_workflow") {
        return;
    }
    let run = Run::new(&["--provider", PROVIDER]);
    let args = &run.args;
    let ids: Vec<&str> =
        run.end()["peers"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, PEERS, "{args:?}: the run does not use the peers of the scenario file");
    // pm1 offered vm1 to pm2, which accepted it.
    assert_eq!(
        run.matching("send(pm1, pm2, "),
        ["send(pm1, pm2, readyToMigrate(vm1, profile(2, 4096)))"],
        "{args:?}: the offer"
    );
    assert_eq!(
        run.matching("send(pm2, pm1, "),
        ["send(pm2, pm1, migration(\"ok\"))", "send(pm2, pm1, done(\"start\"))"],
        "{args:?}: the host's answers"
    );
    run.assert_workflow_in_order();
}

#[test]
fn under_any_schedule_the_workflow_runs_whole_or_not_at_all() {
    if !python3("under_any_schedule_the_workflow_runs_whole_or_not_at_all") {
        return;
    }
    // An emigrant that looks for a host before pm2 has become one keeps its VM: nothing else
    // happens. Otherwise the whole workflow runs, in order.
    let mut whole = 0;
    for seed in 1..=6 {
        let seed = seed.to_string();
        let run = Run::new(&["--provider", PROVIDER, "--seed", &seed]);
        if run.matching("send(pm1, pm2, readyToMigrate(").is_empty() {
            let args = &run.args;
            let others: Vec<String> = run
                .actions()
                .into_iter()
                .filter(|a| a.starts_with("send(") || a.contains("redirect"))
                .collect();
            assert!(others.is_empty(), "{args:?}: no offer was made, yet {others:?}");
            run.assert_peer("pm1", "finished");
            for id in ["sid1", "sid2", "c1", "c2"] {
                run.assert_peer(id, "idle");
            }
        } else {
            run.assert_workflow_in_order();
            whole += 1;
        }
    }
    assert!(whole > 0, "no seed ran the workflow");
}

#[test]
fn a_declined_offer_and_a_failed_start_leave_the_service_where_it_is() {
    if !python3("a_declined_offer_and_a_failed_start_leave_the_service_where_it_is") {
        return;
    }
    // The host has no room: it says no, nothing is created, and it waits for other offers.
    let declined = Run::new(&["--provider", &format!("OFFLINE_MIGRATION_FAIL=migrationPossible {PROVIDER}")]);
    let args = &declined.args;
    assert_eq!(
        declined.matching("send(pm2, pm1, "),
        ["send(pm2, pm1, migration(\"no\"))"],
        "{args:?}: the decline is not answered"
    );
    assert!(
        declined.matching("recv(pm2, pm1, migration(\"no\"))").len() == 1,
        "{args:?}: pm1 did not hear no"
    );
    for absent in ["createNewVMs(", "startService(", "redirect(", "shutdown(", "deleteVM("] {
        assert!(
            !declined.actions().iter().any(|a| a.contains(absent)),
            "{args:?}: `{absent}` in a run where the host declined"
        );
    }
    declined.assert_peer("pm1", "finished");
    declined.assert_peer("pm2", "idle");
    assert_eq!(declined.peer("pm2")["role"], "host(40)", "{args:?}");

    // The new service does not start: the host deletes the new VM and tells the emigrant,
    // which keeps the old one; no client is touched.
    let failed = Run::new(&["--provider", &format!("OFFLINE_MIGRATION_FAIL=startService {PROVIDER}")]);
    let args = &failed.args;
    assert_eq!(
        failed.matching("send(sid2, "),
        ["send(sid2, pm2, failed(\"start\"))"],
        "{args:?}: the failure is not reported to the host"
    );
    let heard = failed.position("recv(sid2, pm2, failed(\"start\"))");
    let told = failed.position("send(pm2, pm1, failed(\"start\"))");
    let removed = failed.position("call(pm2, deleteVM(vm2))");
    assert!(heard < told && told < removed, "{args:?}: the host did not report, then delete vm2");
    assert!(failed.position("recv(pm2, pm1, failed(\"start\"))") > told, "{args:?}");
    for absent in ["redirect(", "shutdown(", "deleteVM(vm1)", "do(\"shutdown\")"] {
        assert!(
            !failed.actions().iter().any(|a| a.contains(absent)),
            "{args:?}: `{absent}` in a run where the new service failed"
        );
    }
    failed.assert_peer("pm1", "finished");
    failed.assert_peer("sid2", "finished");
    for id in ["pm2", "sid1", "c1", "c2"] {
        failed.assert_peer(id, "idle");
    }
}

#[test]
fn the_published_form_deadlocks() {
    let doc = verify_json(&[AS_PUBLISHED], 1);
    assert_eq!(doc["verdict"], "violated", "{doc}");
    let scenarios = doc["scenarios"].as_array().unwrap();
    let names: Vec<&str> = scenarios.iter().map(|s| s["scenario"].as_str().unwrap()).collect();
    assert_eq!(names, ["one-service-two-clients", "matched"], "{doc}");
    for scenario in scenarios {
        assert_eq!(scenario["bound"], Value::Null, "a bound was reached: {scenario}");
        assert_eq!(property(scenario, "no-orphans")["verdict"], "holds", "{scenario}");
        // `initial` polls for ever.
        let terminates = property(scenario, "terminates");
        assert_eq!(terminates["verdict"], "violated", "{scenario}");
        assert!(terminates["trace"]["cycle_start"].is_u64(), "no loop shown: {terminates}");
    }

    // From `initial`: both machines overloaded, both emigrants wait for a host for ever.
    let deadlock = property(&scenarios[0], "deadlock-free");
    assert_eq!(deadlock["verdict"], "violated", "{deadlock}");
    assert_eq!(
        deadlock["trace"]["steps"].as_array().unwrap().len(),
        4,
        "not the shortest deadlock: {deadlock}"
    );
    let stuck = deadlock["trace"]["stuck"].as_array().unwrap();
    assert_eq!(stuck.len(), 2, "{stuck:?}");
    for (peer, id) in stuck.iter().zip(["pm1", "pm2"]) {
        assert_eq!(peer["peer"], id, "{stuck:?}");
        assert!(peer["role"].as_str().unwrap().starts_with("emigrant("), "{peer}");
        assert!(peer["event"].as_str().unwrap().starts_with("readyToMigrate("), "{peer}");
        assert_eq!(peer["why"], "no other peer is in role `host`", "{peer}");
    }

    // Paired: the host declines without a word, and the emigrant waits for its answer.
    let deadlock = property(&scenarios[1], "deadlock-free");
    assert_eq!(deadlock["verdict"], "violated", "{deadlock}");
    let steps = deadlock["trace"]["steps"].as_array().unwrap();
    assert!(
        steps.iter().any(|s| s["peer"] == "pm2" && s["event"] == "a(initial, PID2)"),
        "the host does not go back to `initial`: {steps:?}"
    );
    let stuck = deadlock["trace"]["stuck"].as_array().unwrap();
    assert!(
        stuck.iter().any(|s| s["peer"] == "pm1"
            && s["event"] == "migration(\"ok\") <= a(host, PID2)"
            && s["why"] == "no message is pending for it"),
        "the emigrant does not wait for the answer: {stuck:?}"
    );
    // And nothing makes the emigrant wait for the new service: a client can be redirected
    // before it started.
    let early = property(&scenarios[1], "[!call(_, startService())* . call(_, redirect(_, _))] false");
    assert_eq!(early["verdict"], "violated", "{early}");
}

#[test]
fn the_diagram_has_every_lane() {
    // Its freshness is checked with every stdlib diagram (tests/stdlib.rs).
    let committed = std::fs::read_to_string(root().join(SVG)).unwrap_or_else(|e| panic!("{SVG}: {e}"));
    for head in ["a(initial, PM)", "a(emigrant(Vm, Profile), PM1)", "a(host(State), PM2)", "a(client, C)"] {
        assert!(committed.contains(head), "no lane `{head}` in {SVG}");
    }
}
