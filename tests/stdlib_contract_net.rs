//! stdlib/market/contract_net.lcc, the FIPA contract net: its scenario file verifies with no
//! flags, and runs with three contractors award the task to the lowest bid, reject the other
//! bids, answer nobody who refused, and end in success, also when everybody refuses or the
//! winner fails.
//!
//! The bids come from tests/fixtures/contract_net/bids.py (one `id=price` argument per
//! contractor that bids; `--fail id` makes that contractor's task fail). Commands run in the
//! root of the package. Tests with the Python provider say that they skipped when `python3`
//! is not on PATH.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{JsonRun, lcc, python3};
use serde_json::Value;

const MODEL: &str = "stdlib/market/contract_net.lcc";
/// Manager h1 auctions vm1 to contractors h2, h3 and h4, called in that order.
const PEERS: &str =
    "a(manager(vm1, [h2, h3, h4]), h1), a(contractor, h2), a(contractor, h3), a(contractor, h4)";
const BIDS: &str = "python3 tests/fixtures/contract_net/bids.py";

/// A finished `lcc run` of the model (the shared [`JsonRun`], with this model's questions).
struct Run(JsonRun);

impl std::ops::Deref for Run {
    type Target = JsonRun;
    fn deref(&self) -> &JsonRun {
        &self.0
    }
}

impl Run {
    /// `lcc run MODEL --peers PEERS --trace json ARGS`, which must exit 0 (success).
    fn new(args: &[&str]) -> Run {
        let mut all = vec!["run", MODEL, "--peers", PEERS, "--trace", "json"];
        all.extend_from_slice(args);
        Run(JsonRun::new(&all))
    }

    /// The `kind` actions (`send`, `recv`, `call`) of message or constraint `name`, sorted:
    /// `of("send", "reject_proposal")` is every rejection sent.
    fn of(&self, kind: &str, name: &str) -> Vec<String> {
        let mut found: Vec<String> = self
            .actions()
            .into_iter()
            .filter(|a| a.starts_with(&format!("{kind}(")) && a.contains(&format!(", {name}(")))
            .collect();
        found.sort();
        found
    }

    /// The run ended in success with every peer finished and no message left in a mailbox.
    fn assert_everybody_finished(&self) {
        assert_eq!(self.end()["ending"], "success", "{:?}: {}", self.args, self.end());
        for id in ["h1", "h2", "h3", "h4"] {
            let peer = self.peer(id);
            assert_eq!(peer["status"], "finished", "{:?}: {id} did not finish: {peer}", self.args);
            assert_eq!(
                peer["mailbox"],
                serde_json::json!([]),
                "{:?}: {id} has unread messages: {peer}",
                self.args
            );
        }
    }
}

#[test]
fn every_scenario_verifies_with_no_flags() {
    let out = lcc(&["verify", MODEL]);
    assert_eq!(out.code, 0, "lcc verify {MODEL} did not prove every property:\n{}{}", out.stdout, out.stderr);
    for needle in ["scenario `two-contractors`", "scenario `three-contractors`", "scenario `lowest-bid-wins`"]
    {
        assert!(out.stdout.contains(needle), "no {needle} in:\n{}", out.stdout);
    }
    assert!(!out.stdout.contains("violated (") && !out.stdout.contains("inconclusive"), "{}", out.stdout);

    // The same in JSON: each scenario explored in full, with every property holding.
    let json = lcc(&["verify", "--format", "json", MODEL]);
    assert_eq!(json.code, 0, "{}{}", json.stdout, json.stderr);
    let doc: Value = serde_json::from_str(&json.stdout).expect("lcc verify --format json prints JSON");
    assert_eq!(doc["verdict"], "holds", "{doc}");
    let scenarios = doc["scenarios"].as_array().unwrap();
    let names: Vec<&str> = scenarios.iter().map(|s| s["scenario"].as_str().unwrap()).collect();
    assert_eq!(names, ["two-contractors", "three-contractors", "lowest-bid-wins"]);
    for scenario in scenarios {
        let name = &scenario["scenario"];
        assert_eq!(scenario["verdict"], "holds", "{name}: {scenario}");
        assert_eq!(scenario["bound"], Value::Null, "{name} reached a bound: {scenario}");
        assert_eq!(scenario["deadlock_states"], 0, "{name}: {scenario}");
        // Exploring the protocol takes dozens of states per contractor, not one or two.
        assert!(scenario["states"].as_u64().unwrap() > 100, "{name} explored too little: {scenario}");
        let properties: Vec<(&str, &str)> = scenario["properties"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["name"].as_str().unwrap(), p["verdict"].as_str().unwrap()))
            .collect();
        for required in ["deadlock-free", "no-orphans", "terminates"] {
            assert!(
                properties.contains(&(required, "holds")),
                "{name}: `{required}` is not among the properties that hold: {properties:?}"
            );
        }
        assert!(properties.iter().all(|(_, verdict)| *verdict == "holds"), "{name}: {properties:?}");
    }
    let contractors = |i: usize| {
        scenarios[i]["peers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p.as_str().unwrap().starts_with("a(contractor"))
            .count()
    };
    assert_eq!((contractors(0), contractors(1)), (2, 3), "{doc}");
}

#[test]
fn the_lowest_bidder_is_awarded_the_task_and_the_others_are_rejected() {
    if !python3("the_lowest_bidder_is_awarded_the_task_and_the_others_are_rejected") {
        return;
    }
    // h3 bids lowest; it is neither first nor last of the list. Every schedule gives the same
    // outcome.
    let provider = format!("{BIDS} h2=30 h3=10 h4=20");
    for seed in [None, Some("1"), Some("2"), Some("3")] {
        let mut args = vec!["--provider", provider.as_str()];
        if let Some(seed) = seed {
            args.extend(["--seed", seed]);
        }
        let run = Run::new(&args);
        let args = &run.args;
        run.assert_everybody_finished();

        // Everybody was called, in list order, and bid what the provider says.
        let cfps: Vec<String> =
            run.actions().into_iter().filter(|a| a.starts_with("send(h1, ") && a.contains("cfp(")).collect();
        assert_eq!(
            cfps,
            ["send(h1, h2, cfp(vm1))", "send(h1, h3, cfp(vm1))", "send(h1, h4, cfp(vm1))"],
            "{args:?}"
        );
        assert_eq!(
            run.of("call", "bid"),
            ["call(h2, bid(vm1, 30))", "call(h3, bid(vm1, 10))", "call(h4, bid(vm1, 20))"],
            "{args:?}"
        );
        assert_eq!(
            run.of("recv", "propose"),
            [
                "recv(h2, h1, propose(vm1, 30))",
                "recv(h3, h1, propose(vm1, 10))",
                "recv(h4, h1, propose(vm1, 20))"
            ],
            "{args:?}: the manager did not hear every bid"
        );
        assert_eq!(run.of("recv", "refuse"), Vec::<String>::new(), "{args:?}: nobody refused");

        // h3, the lowest bid, is accepted, once; h2 and h4 are rejected; each receives its answer.
        assert_eq!(
            run.of("send", "accept_proposal"),
            ["send(h1, h3, accept_proposal(vm1))"],
            "{args:?}: the award"
        );
        assert_eq!(run.of("recv", "accept_proposal"), ["recv(h1, h3, accept_proposal(vm1))"], "{args:?}");
        assert_eq!(
            run.of("send", "reject_proposal"),
            ["send(h1, h2, reject_proposal(vm1))", "send(h1, h4, reject_proposal(vm1))"],
            "{args:?}: the rejections"
        );
        assert_eq!(
            run.of("recv", "reject_proposal"),
            ["recv(h1, h2, reject_proposal(vm1))", "recv(h1, h4, reject_proposal(vm1))"],
            "{args:?}: the rejections received"
        );

        // The winner performs the task and the manager hears the result.
        assert_eq!(run.of("call", "perform"), ["call(h3, perform(vm1, placed(vm1, h3)))"], "{args:?}");
        assert_eq!(
            run.of("recv", "inform_result"),
            ["recv(h3, h1, inform_result(vm1, placed(vm1, h3)))"],
            "{args:?}: the manager did not hear the result"
        );
        assert_eq!(run.of("send", "failure"), Vec::<String>::new(), "{args:?}");
        assert_eq!(
            run.peer("h1")["role"],
            "awarding(vm1, [], h3)",
            "{args:?}: the manager's last role names the winner"
        );
    }
}

#[test]
fn when_every_contractor_refuses_the_manager_ends_without_awarding() {
    // Fixed answers: no contractor bids, so nobody ever performs the task.
    let runs = [Run::new(&["--assume", "bid/2=false", "--assume", "perform/2=true"])];
    // The same with the provider, which refuses for every contractor without a bid.
    let provider = python3("when_every_contractor_refuses_the_manager_ends_without_awarding (provider)")
        .then(|| Run::new(&["--provider", BIDS]));
    for run in runs.iter().chain(provider.iter()) {
        let args = &run.args;
        run.assert_everybody_finished();
        assert_eq!(
            run.of("recv", "refuse"),
            ["recv(h2, h1, refuse(vm1))", "recv(h3, h1, refuse(vm1))", "recv(h4, h1, refuse(vm1))"],
            "{args:?}: the manager did not hear every refusal"
        );
        for action in run.actions() {
            assert!(
                ![
                    "propose(",
                    "accept_proposal(",
                    "reject_proposal(",
                    "inform_result(",
                    "failure(",
                    "perform("
                ]
                .iter()
                .any(|m| action.contains(m)),
                "{args:?}: `{action}` in a run where everybody refused"
            );
        }
        assert_eq!(
            run.peer("h1")["role"],
            "evaluating(vm1, [], [], none)",
            "{args:?}: the manager did not end after hearing everybody, with no proposer and no bid"
        );
    }
}

#[test]
fn a_refusal_gets_no_answer_and_a_failed_task_is_reported() {
    if !python3("a_refusal_gets_no_answer_and_a_failed_task_is_reported") {
        return;
    }
    // h3 refuses; h4 wins over h2 but cannot perform the task.
    let run = Run::new(&["--provider", &format!("{BIDS} h2=30 h4=20 --fail h4")]);
    let args = &run.args;
    run.assert_everybody_finished();
    assert_eq!(run.matching("recv(h3, h1, "), ["recv(h3, h1, refuse(vm1))"], "{args:?}");
    assert_eq!(
        run.matching("send(h1, h3, "),
        ["send(h1, h3, cfp(vm1))"],
        "{args:?}: h3 refused, it gets nothing more"
    );
    assert_eq!(
        run.matching("send(h1, h4, "),
        ["send(h1, h4, cfp(vm1))", "send(h1, h4, accept_proposal(vm1))"],
        "{args:?}: h4, the lowest bid, is not awarded"
    );
    assert_eq!(
        run.matching("send(h1, h2, "),
        ["send(h1, h2, cfp(vm1))", "send(h1, h2, reject_proposal(vm1))"],
        "{args:?}: h2 is not rejected"
    );
    assert_eq!(
        run.of("call", "perform"),
        Vec::<String>::new(),
        "{args:?}: h4's task should fail, with no result"
    );
    assert_eq!(
        run.matching("recv(h4, h1, "),
        ["recv(h4, h1, propose(vm1, 20))", "recv(h4, h1, failure(vm1))"],
        "{args:?}: the winner's failure is not reported"
    );
    assert_eq!(run.peer("h1")["role"], "awarding(vm1, [], h4)", "{args:?}");
}
