//! The self-managing VM policies of the MLN paper (seeds/003) in stdlib/mln/: each model is
//! clean (`lcc check`, `lcc fmt --check`), its scenarios verify (`lcc verify MODEL`, no
//! flags), and `lcc run` with the Python providers of tests/fixtures/mln/ reproduces what the
//! paper's examples and figures show:
//!
//! - cloudburst.lcc (section 5.2): with 10-minute jobs at home, 5 in the cloud and a
//!   15-minute migration, the VM migrates exactly when its queue is longer than 3; a queue of
//!   10 takes 100 minutes at home and 65 with the migration; the 6-hour daily allowance sends
//!   it home;
//! - webfarm.lcc (section 4, Figure 2): for a stepped connection rate from 0 to 130 per
//!   second, the frontend asks for ceil(rate / 25) web servers, at least 1 and at most 7;
//! - follow_majority.lcc (section 5.1, Figure 3): as the clients move from Oslo to Gjovik
//!   over the day, the VM moves to Oslo when Oslo has more than 60% of them and later to
//!   Gjovik when Gjovik has, and stays while neither has.
//!
//! Commands run in the root of the package. Tests with a Python provider run when `python3`
//! is on PATH and say that they skipped otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{lcc, lcc_patiently, python3, root};
use serde_json::Value;

const CLOUDBURST: &str = "stdlib/mln/cloudburst.lcc";
const WEBFARM: &str = "stdlib/mln/webfarm.lcc";
const FOLLOW: &str = "stdlib/mln/follow_majority.lcc";
const MODELS: [&str; 3] = [CLOUDBURST, WEBFARM, FOLLOW];

/// The paper's costs: 10-minute jobs at home, 5 in the cloud, a 15-minute migration, 6 hours
/// (360 minutes) a day in the cloud; a day of 24 checks of the queue.
const CLOUDBURST_PEERS: &str = "a(vm(local, costs(10, 5, 15, 360), 0, 24), vm1), a(mln, mln)";
/// The paper's quota: 25 connections per second per server, 1 to 7 servers; one server
/// running at first; comparisons enough for any schedule used here.
const WEBFARM_PEERS: &str = "a(frontend(1, quota(25, 1, 7), 1000), fe), a(mln, mln)";
/// The VM starts the day in Gjovik; it moves on more than 60% of the clients.
const FOLLOW_PEERS: &str = "a(vm(gjovik, oslo, 60, 1000), vm1), a(mln, mln)";

/// A finished `lcc run --trace json`: the action of every step, in order, and the `end` event.
struct Run {
    actions: Vec<String>,
    end: Value,
}

impl Run {
    /// The status (`finished`, `idle`, `stuck`) of a peer at the end.
    fn status(&self, id: &str) -> &str {
        self.end["peers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap_or_else(|| panic!("no peer {id} in {}", self.end))["status"]
            .as_str()
            .unwrap()
    }

    /// The actions that start with `prefix`, in order.
    fn starting(&self, prefix: &str) -> Vec<&str> {
        self.actions.iter().map(String::as_str).filter(|a| a.starts_with(prefix)).collect()
    }

    /// Asserts that the run ended in success with `peer` finished and MLN an idle server.
    fn assert_success(&self, peer: &str) {
        assert_eq!(self.end["ending"], "success", "the run did not succeed: {}", self.end);
        assert_eq!(self.status(peer), "finished", "{peer} did not finish: {}", self.end);
        assert_eq!(self.status("mln"), "idle", "MLN is not waiting for requests: {}", self.end);
        for p in self.end["peers"].as_array().unwrap() {
            assert_eq!(p["mailbox"], Value::Array(vec![]), "a message was left undelivered: {}", self.end);
        }
    }
}

/// `lcc run MODEL --peers PEERS --provider 'python3 tests/fixtures/mln/PROVIDER ARGS'
/// --trace json`, expecting success (exit 0).
fn run(model: &str, peers: &str, provider: &str, args: &[&str]) -> Run {
    let provider = format!("python3 tests/fixtures/mln/{provider} {}", args.join(" "));
    let all = ["run", model, "--peers", peers, "--provider", &provider, "--trace", "json"];
    let out = lcc_patiently(&all);
    assert_eq!(out.code, 0, "lcc {all:?} did not end in success:\n{}\n{}", out.stdout, out.stderr);
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}")))
        .collect();
    let (end, steps) = lines.split_last().expect("no output");
    assert_eq!(end["event"], "end", "the last line is not the end: {end}");
    for line in steps {
        assert_ne!(line["event"], "provider-error", "the provider failed: {line}\n{}", out.stderr);
    }
    let actions = steps
        .iter()
        .filter(|l| l["event"] == "step")
        .flat_map(|s| s["actions"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()))
        .collect();
    Run { actions, end: end.clone() }
}

/// The arguments of an action `PREFIX a, b, c))` (a constraint call or a message with
/// arguments that are not compound), when it has that prefix.
fn args<'a>(action: &'a str, prefix: &str) -> Option<Vec<&'a str>> {
    let inner = action.strip_prefix(prefix)?.strip_suffix("))")?;
    Some(inner.split(", ").collect())
}

fn number(text: &str) -> i64 {
    text.parse().unwrap_or_else(|_| panic!("not a whole number: {text}"))
}

// ---------------------------------------------------------------- the models and scenarios

#[test]
fn every_scenario_of_the_models_verifies() {
    // Diagnostics and layout are checked for every stdlib model (tests/stdlib.rs).
    for model in MODELS {
        // Every scenario of the file is run, and every property of each holds.
        let toml = std::fs::read_to_string(root().join(model.replace(".lcc", ".verify.toml"))).unwrap();
        let scenarios = toml.matches("[[scenario]]").count();
        assert!(scenarios >= 3, "{model}: only {scenarios} scenarios");
        let out = lcc(&["verify", model]);
        assert_eq!(out.code, 0, "lcc verify {model}:\n{}\n{}", out.stdout, out.stderr);
        assert_eq!(
            out.stdout.matches("verdict: holds (0 of").count(),
            scenarios,
            "lcc verify {model}: not every scenario holds:\n{}",
            out.stdout
        );
        for property in ["deadlock-free: holds", "terminates: holds", "no-orphans: holds"] {
            assert_eq!(
                out.stdout.matches(property).count(),
                scenarios,
                "lcc verify {model}: `{property}` is not in every scenario:\n{}",
                out.stdout
            );
        }
        assert!(!out.stdout.contains("inconclusive"), "{}", out.stdout);
    }
}

// ---------------------------------------------------------------- cloudburst

#[test]
fn cloudburst_migrates_exactly_when_the_queue_is_longer_than_three() {
    if !python3("cloudburst_migrates_exactly_when_the_queue_is_longer_than_three") {
        return;
    }
    for n in 1..=10i64 {
        let r = run(CLOUDBURST, CLOUDBURST_PEERS, "cloudburst_provider.py", &[&n.to_string()]);
        r.assert_success("vm1");
        assert_eq!(r.starting("call(vm1, queue_length("), [format!("call(vm1, queue_length({n}))")]);
        // The estimate: n * 10 minutes at home, n * 5 + 15 with the migration.
        let to_cloud = format!("send(vm1, mln, upgrade(cloud, estimate({n}, {}, {})))", 10 * n, 5 * n + 15);
        let upgrades = r.starting("send(vm1, mln, upgrade(");
        let processed = r.starting("call(vm1, process_queue(");
        if n > 3 {
            // Into the cloud, the n jobs there, and home again at the end of the day (an empty
            // queue: 0 minutes at home against the 15 of a migration).
            assert_eq!(
                upgrades,
                [to_cloud.as_str(), "send(vm1, mln, upgrade(local, estimate(0, 0, 15)))"],
                "queue of {n}"
            );
            assert!(r.actions.contains(&"recv(mln, vm1, migrated(cloud))".to_string()), "queue of {n}");
            assert_eq!(
                processed[0],
                format!("call(vm1, process_queue(cloud, {n}, {}))", 5 * n),
                "queue of {n}"
            );
        } else {
            assert!(upgrades.is_empty(), "a queue of {n} is not worth a migration, yet: {upgrades:?}");
            assert_eq!(
                processed[0],
                format!("call(vm1, process_queue(local, {n}, {}))", 10 * n),
                "queue of {n}"
            );
        }
    }

    // The paper's example: 100 minutes at home, 65 with the migration, 50 of them in the cloud.
    let r = run(CLOUDBURST, CLOUDBURST_PEERS, "cloudburst_provider.py", &["10"]);
    for expected in [
        "send(vm1, mln, upgrade(cloud, estimate(10, 100, 65)))",
        "call(mln, mln_upgrade(vm1, cloud))",
        "call(vm1, process_queue(cloud, 10, 50))",
    ] {
        assert!(r.actions.contains(&expected.to_string()), "no `{expected}` in {:#?}", r.actions);
    }
}

#[test]
fn cloudburst_stays_in_the_cloud_within_the_daily_allowance() {
    if !python3("cloudburst_stays_in_the_cloud_within_the_daily_allowance") {
        return;
    }
    // Nine queues of 10 (50 cloud minutes each), then 2 and 8. Seven fit in the 360 minutes
    // (350); the eighth would make 400: the VM goes home, and the 8 jobs later (40 more
    // minutes) do not fit either, though they would be worth a migration.
    let queues = ["10", "10", "10", "10", "10", "10", "10", "10", "10", "2", "8"];
    let r = run(CLOUDBURST, CLOUDBURST_PEERS, "cloudburst_provider.py", &queues);
    r.assert_success("vm1");
    assert_eq!(
        r.starting("send(vm1, mln, upgrade("),
        [
            "send(vm1, mln, upgrade(cloud, estimate(10, 100, 65)))",
            "send(vm1, mln, upgrade(local, estimate(10, 100, 65)))"
        ],
        "one migration into the cloud and one home when the allowance is spent"
    );
    let processed: Vec<Vec<&str>> =
        r.actions.iter().filter_map(|a| args(a, "call(vm1, process_queue(")).collect();
    let sites: Vec<&str> = processed.iter().map(|a| a[0]).collect();
    assert_eq!(
        sites,
        [
            "cloud", "cloud", "cloud", "cloud", "cloud", "cloud", "cloud", "local", "local", "local",
            "local", "local"
        ],
        "{processed:?}"
    );
    let in_cloud: i64 = processed.iter().filter(|a| a[0] == "cloud").map(|a| number(a[2])).sum();
    assert_eq!(in_cloud, 350, "minutes in the cloud: {processed:?}");
    assert_eq!(processed[10], ["local", "8", "80"]);
}

#[test]
fn cloudburst_processes_at_home_when_mln_cannot_migrate() {
    if !python3("cloudburst_processes_at_home_when_mln_cannot_migrate") {
        return;
    }
    // The first upgrade fails: the VM is told so and processes its queue where it is; the
    // next queue gets a migration that works.
    let r = run(CLOUDBURST, CLOUDBURST_PEERS, "cloudburst_provider.py", &["10", "6", "--refuse", "1"]);
    r.assert_success("vm1");
    assert!(r.actions.contains(&"recv(mln, vm1, not_migrated(cloud))".to_string()), "{:#?}", r.actions);
    assert_eq!(
        r.starting("call(vm1, process_queue("),
        [
            "call(vm1, process_queue(local, 10, 100))",
            "call(vm1, process_queue(cloud, 6, 30))",
            "call(vm1, process_queue(local, 0, 0))"
        ]
    );
    assert_eq!(r.starting("send(vm1, mln, upgrade(cloud").len(), 2, "{:#?}", r.actions);
}

// ---------------------------------------------------------------- webfarm

/// The rate steps of the experiment of Figure 2: up from 0 to 130 connections per second in a
/// few minutes, slowly down to 20, a 30-second burst at 13 minutes, 18 minutes in all.
const FIGURE_2: [&str; 12] = [
    "0:60", "30:60", "60:60", "100:60", "130:180", "110:120", "90:120", "70:120", "50:120", "20:60",
    "130:30", "20:90",
];

/// The servers the paper's quota asks for at `rate`: ceil(rate / 25), at least 1, at most 7.
fn servers_for(rate: i64) -> i64 {
    ((rate + 24) / 25).clamp(1, 7)
}

/// Follows the frontend through a run: at each comparison (an average_rate/1 call), the rate
/// and the number of servers running after it. Fails the test when the frontend asks for a
/// count other than [`servers_for`] the rate, or asks when it already has that count.
fn comparisons(r: &Run) -> Vec<(i64, i64)> {
    let mut servers = 1;
    let mut rate = None;
    let mut asked = None;
    let mut seen = Vec::new();
    for action in &r.actions {
        if let Some(a) = args(action, "call(fe, average_rate(") {
            if let Some(rate) = rate {
                assert!(asked.is_none(), "no answer to the request for {asked:?} servers");
                seen.push((rate, servers));
            }
            rate = Some(number(a[0]));
        } else if let Some(a) = args(action, "send(fe, mln, scale(") {
            let rate = rate.expect("a request before any comparison");
            let target = number(a[0]);
            assert_eq!(
                target,
                servers_for(rate),
                "at {rate} connections/s the frontend asked for {target} servers"
            );
            assert_ne!(target, servers, "the frontend asked for the {servers} servers it has");
            assert_eq!(number(a[1]), rate, "{action}");
            asked = Some(target);
        } else if let Some(a) = args(action, "recv(mln, fe, scaled(") {
            assert_eq!(Some(number(a[0])), asked, "{action}");
            servers = asked.take().unwrap();
        } else if action.starts_with("recv(mln, fe, not_scaled(") {
            asked = None;
        }
    }
    seen.push((rate.expect("no comparison"), servers));
    seen
}

#[test]
fn webfarm_follows_the_quota_through_the_rate_steps_of_figure_2() {
    if !python3("webfarm_follows_the_quota_through_the_rate_steps_of_figure_2") {
        return;
    }
    // Every 5 seconds, the 60-second average: 216 comparisons in 18 minutes.
    let r = run(WEBFARM, WEBFARM_PEERS, "webfarm_provider.py", &FIGURE_2);
    r.assert_success("fe");
    let seen = comparisons(&r);
    assert_eq!(seen.len(), 216, "comparisons in 18 minutes");
    for &(rate, servers) in &seen {
        assert_eq!(
            servers,
            servers_for(rate),
            "at {rate} connections/s the farm has {servers} servers: {seen:?}"
        );
    }

    // At the end of each step that lasts a whole window, the average is the step's rate and
    // the farm has ceil(rate / 25) servers: 1 at 0 and 20, 6 at 130.
    let mut end = 0;
    for step in FIGURE_2 {
        let (rate, seconds) = step.split_once(':').unwrap();
        end += number(seconds) / 5;
        if number(seconds) >= 60 {
            let rate = number(rate);
            assert_eq!(
                seen[end as usize - 1],
                (rate, servers_for(rate)),
                "at the end of step {step}: {seen:?}"
            );
        }
    }
    let asked: Vec<i64> =
        r.actions.iter().filter_map(|a| args(a, "send(fe, mln, scale(")).map(|a| number(a[0])).collect();
    assert_eq!(asked.iter().max(), Some(&6), "130 connections/s need 6 servers: {asked:?}");
    assert_eq!(asked.last(), Some(&1), "back to 1 server at 20 connections/s: {asked:?}");
    // The burst at 13 minutes is averaged over the window: (130 * 30 + 20 * 30) / 60 = 75.
    assert!(seen.contains(&(75, 3)), "the burst peaks at 75 connections/s with 3 servers: {seen:?}");
}

#[test]
fn webfarm_never_asks_for_more_than_seven_servers_nor_fewer_than_one() {
    if !python3("webfarm_never_asks_for_more_than_seven_servers_nor_fewer_than_one") {
        return;
    }
    let r = run(
        WEBFARM,
        WEBFARM_PEERS,
        "webfarm_provider.py",
        &["--window", "5", "0:10", "175:10", "176:10", "300:10", "0:10"],
    );
    r.assert_success("fe");
    let seen = comparisons(&r);
    assert_eq!(
        seen,
        [(0, 1), (0, 1), (175, 7), (175, 7), (176, 7), (176, 7), (300, 7), (300, 7), (0, 1), (0, 1)]
    );
    let asked = r.starting("send(fe, mln, scale(");
    assert_eq!(asked, ["send(fe, mln, scale(7, 175))", "send(fe, mln, scale(1, 0))"]);
}

#[test]
fn webfarm_asks_again_when_mln_cannot_scale() {
    if !python3("webfarm_asks_again_when_mln_cannot_scale") {
        return;
    }
    let r = run(WEBFARM, WEBFARM_PEERS, "webfarm_provider.py", &["--window", "5", "--refuse", "1", "100:15"]);
    r.assert_success("fe");
    assert_eq!(
        r.starting("recv(mln, fe, "),
        ["recv(mln, fe, not_scaled(4))", "recv(mln, fe, scaled(4))"],
        "the refused upgrade is asked for again at the next comparison"
    );
    assert_eq!(comparisons(&r), [(100, 1), (100, 4), (100, 4)]);
}

// ---------------------------------------------------------------- follow_majority

/// Follows the VM through a run: at each check, (the site it is at, Oslo's clients, Gjovik's
/// clients), and every site it asked to move to. Fails the test when a request does not
/// follow the 60% rule.
fn checks(r: &Run) -> (Vec<(String, i64, i64)>, Vec<String>) {
    let mut here = "gjovik".to_string();
    let mut seen = Vec::new();
    let mut moves = Vec::new();
    let mut asked: Option<String> = None;
    for action in &r.actions {
        if let Some(a) = args(action, "call(vm1, clients(") {
            assert!(asked.is_none(), "no answer to the request to move to {asked:?}");
            assert_eq!(a[0], here, "the VM is in {here} but counts as if in {}", a[0]);
            let (at_here, at_there) = (number(a[1]), number(a[3]));
            let (oslo, gjovik) = if here == "oslo" { (at_here, at_there) } else { (at_there, at_here) };
            seen.push((here.clone(), oslo, gjovik));
        } else if let Some(a) = args(action, "send(vm1, mln, upgrade(") {
            let &(_, oslo, gjovik) = seen.last().expect("a request before any check");
            let (there, clients) = if here == "oslo" { ("gjovik", gjovik) } else { ("oslo", oslo) };
            assert_eq!(a[0], there, "{action}");
            assert!(
                clients * 100 > 60 * (oslo + gjovik),
                "the VM asked to move to {there} with {clients} of {} clients there",
                oslo + gjovik
            );
            assert_eq!(
                format!("{}, {}", a[1], a[2]),
                format!("share({clients}, {})", oslo + gjovik),
                "{action}"
            );
            asked = Some(there.to_string());
        } else if let Some(a) = args(action, "recv(mln, vm1, migrated(") {
            assert_eq!(Some(a[0]), asked.as_deref(), "{action}");
            here = asked.take().unwrap();
            moves.push(here.clone());
        } else if action.starts_with("recv(mln, vm1, not_migrated(") {
            asked = None;
        }
    }
    (seen, moves)
}

/// The share of the clients at `site`, in percent, that decides a move; none without clients.
fn share(site: &str, oslo: i64, gjovik: i64) -> Option<f64> {
    let at = if site == "oslo" { oslo } else { gjovik };
    (oslo + gjovik > 0).then(|| 100.0 * at as f64 / (oslo + gjovik) as f64)
}

#[test]
fn follow_majority_moves_to_oslo_then_to_gjovik_as_in_figure_3() {
    if !python3("follow_majority_moves_to_oslo_then_to_gjovik_as_in_figure_3") {
        return;
    }
    // Checks every 10 minutes from 06:00 to 22:00; Oslo's working day from 07:00, Gjovik's
    // three hours later.
    let r = run(FOLLOW, FOLLOW_PEERS, "follow_majority_provider.py", &[]);
    r.assert_success("vm1");
    let (seen, moves) = checks(&r);
    assert_eq!(seen.len(), 96, "checks from 06:00 to 22:00");
    assert_eq!(moves, ["oslo", "gjovik"], "{seen:?}");

    // Each check: the VM moved iff the other site had more than 60% of the clients.
    for (i, (here, oslo, gjovik)) in seen.iter().enumerate() {
        let there = if here == "oslo" { "gjovik" } else { "oslo" };
        let moved = seen.get(i + 1).is_some_and(|next| next.0 != *here);
        let over = share(there, *oslo, *gjovik).is_some_and(|s| s > 60.0);
        assert_eq!(moved, over, "check {i} in {here}: Oslo {oslo}, Gjovik {gjovik} clients: {seen:?}");
    }

    // Oslo's working day moves it to Oslo at once (the first clients are all Oslo's)...
    let first = seen.iter().position(|&(_, oslo, gjovik)| oslo + gjovik > 0).unwrap();
    assert_eq!(seen[first + 1].0, "oslo", "{seen:?}");
    // ... then, while neither site has more than 60%, it stays in Oslo, even with the
    // majority in Gjovik ...
    let even: Vec<&(String, i64, i64)> = seen
        .iter()
        .filter(|(_, oslo, gjovik)| share("oslo", *oslo, *gjovik).is_some_and(|s| (40.0..=60.0).contains(&s)))
        .collect();
    assert!(even.len() >= 5, "too few checks with no site over 60%: {seen:?}");
    assert!(even.iter().all(|(here, _, _)| here == "oslo"), "{even:?}");
    assert!(
        even.iter().any(|(_, oslo, gjovik)| gjovik > oslo),
        "no check with a Gjovik majority under 60%: {even:?}"
    );
    // ... and moves to Gjovik at the first check where Gjovik has more than 60%, for the
    // rest of the day.
    assert!(seen[..=first].iter().all(|(here, _, _)| here == "gjovik"), "{seen:?}");
    let last = seen.iter().rposition(|(here, _, _)| here == "oslo").unwrap();
    assert!(seen[first + 1..=last].iter().all(|(here, _, _)| here == "oslo"), "{seen:?}");
    assert!(seen[last + 1..].iter().all(|(here, _, _)| here == "gjovik"), "{seen:?}");
    let (_, oslo, gjovik) = &seen[last];
    assert!(share("gjovik", *oslo, *gjovik).unwrap() > 60.0, "{seen:?}");
    let (_, oslo, gjovik) = &seen[last - 1];
    assert!(share("gjovik", *oslo, *gjovik).unwrap() <= 60.0, "{seen:?}");
}

#[test]
fn follow_majority_stays_when_mln_cannot_move_it_and_tries_again() {
    if !python3("follow_majority_stays_when_mln_cannot_move_it_and_tries_again") {
        return;
    }
    let r = run(FOLLOW, FOLLOW_PEERS, "follow_majority_provider.py", &["--refuse", "1"]);
    r.assert_success("vm1");
    let (seen, moves) = checks(&r);
    assert_eq!(moves, ["oslo", "gjovik"], "{seen:?}");
    let refused = r.starting("recv(mln, vm1, not_migrated(");
    assert_eq!(refused, ["recv(mln, vm1, not_migrated(oslo))"]);
    assert_eq!(r.starting("send(vm1, mln, upgrade(oslo, ").len(), 2, "asked again at the next check");
}
