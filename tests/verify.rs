//! `lcc verify` end to end: the verdicts, state counts and counterexamples of small models
//! whose answers are derived by hand from LCC.md sections 5-7 and the README's reading of
//! them (each derivation is written at the top of its model in `tests/fixtures/verify/`),
//! the seed models of `../shared/corpus/seed/EXPECTED.md`, exit statuses, output formats and
//! scenarios.
//!
//! State counts are taken where the whole graph is explored: with a property that needs it
//! (`terminates`, a formula), with `--full`, or with `--no-reduction` where the default
//! partial-order reduction would otherwise skip interleavings.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{Output, run_lcc};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The models of these tests; commands run there so that file names in the output are short.
fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures").join("verify")
}

/// `../shared/corpus/seed` beside the repository, if it is there.
fn seeds() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if dir.is_dir() {
        Some(dir.join("seed"))
    } else {
        println!("skipped: ../shared/corpus not found");
        None
    }
}

/// `lcc ARGS` in `dir`, with `NO_COLOR` set and an empty standard input.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    run_lcc(dir, args, None, &[("NO_COLOR", "1")])
}

/// `lcc verify ARGS` in the fixtures directory.
fn verify(args: &[&str]) -> Output {
    let mut all = vec!["verify"];
    all.extend_from_slice(args);
    run_in(&fixtures(), &all)
}

/// `lcc verify --format json ARGS` in `dir`: the exit status and the parsed report.
fn json_in(dir: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["verify", "--format", "json"];
    all.extend_from_slice(args);
    let out = run_in(dir, &all);
    let doc: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("lcc {all:?}: stdout is not JSON ({e}):\n{}\n{}", out.stdout, out.stderr));
    (out.code, doc)
}

fn json(args: &[&str]) -> (i32, Value) {
    json_in(&fixtures(), args)
}

/// The report of the property named `name`. Formulas are reported in their printed form, so
/// they are matched with spaces and parentheses left out.
fn prop<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let key =
        |s: &str| s.chars().filter(|c| !c.is_whitespace() && *c != '(' && *c != ')').collect::<String>();
    doc["properties"]
        .as_array()
        .expect("properties")
        .iter()
        .find(|p| p["name"] == name || key(p["name"].as_str().unwrap_or("")) == key(name))
        .unwrap_or_else(|| panic!("no property `{name}` in {doc:#}"))
}

fn verdict<'a>(doc: &'a Value, name: &str) -> &'a str {
    prop(doc, name)["verdict"].as_str().expect("verdict")
}

fn steps<'a>(doc: &'a Value, name: &str) -> &'a Vec<Value> {
    prop(doc, name)["trace"]["steps"].as_array().unwrap_or_else(|| panic!("no trace for `{name}`: {doc:#}"))
}

fn counts(doc: &Value) -> (u64, u64) {
    (doc["states"].as_u64().expect("states"), doc["transitions"].as_u64().expect("transitions"))
}

/// Every action of every step of a trace, as text.
fn actions(trace_steps: &[Value]) -> Vec<String> {
    trace_steps
        .iter()
        .flat_map(|s| {
            s["actions"].as_array().expect("actions").iter().map(|a| a.as_str().unwrap().to_string())
        })
        .collect()
}

/// The names of the properties of a report.
fn names(doc: &Value) -> Vec<String> {
    doc["properties"]
        .as_array()
        .expect("properties")
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().expect("array").iter().map(|s| s.as_str().expect("string").to_string()).collect()
}

const DF: &str = "deadlock-free";
const NO: &str = "no-orphans";
const TE: &str = "terminates";

fn with_props<'a>(args: &[&'a str], props: &[&'a str]) -> Vec<&'a str> {
    let mut all = args.to_vec();
    for p in props {
        all.push("--property");
        all.push(p);
    }
    all
}

// ---------------------------------------------------------------- 1. committed choice

#[test]
fn choice_with_both_first_steps_enabled_takes_only_the_first() {
    let never_second = "[true* . send(_, _, second)] false";
    let first = "<true* . send(p1, q1, first)> true";
    let args =
        with_props(&["--peers", "a(p, p1), a(q, q1)", "choice_both.lcc"], &[DF, NO, TE, never_second, first]);
    let (code, doc) = json(&args);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(counts(&doc), (3, 2));
    for name in [DF, NO, TE, never_second, first] {
        assert_eq!(verdict(&doc, name), "holds", "{name}");
    }
}

#[test]
fn choice_takes_the_second_while_the_first_waits_for_a_message() {
    let no_second_after_ping = "[true* . send(_, _, ping) . true* . send(_, _, second)] false";
    let second_at_once = "<send(p1, q1, second)> true";
    let args = with_props(
        &["--peers", "a(p, p1), a(q, q1)", "choice_race.lcc"],
        &[DF, NO, TE, no_second_after_ping, second_at_once],
    );
    let (code, doc) = json(&args);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(counts(&doc), (4, 3));
    assert_eq!(verdict(&doc, no_second_after_ping), "holds");
    assert_eq!(verdict(&doc, second_at_once), "holds");
    assert_eq!(verdict(&doc, NO), "holds");
    assert_eq!(verdict(&doc, TE), "holds");
    assert_eq!(verdict(&doc, DF), "violated");
    let trace = &prop(&doc, DF)["trace"];
    assert_eq!(actions(steps(&doc, DF)), ["send(p1, q1, second)", "done(p1)"]);
    let stuck = trace["stuck"].as_array().unwrap();
    assert_eq!(stuck.len(), 1, "{trace:#}");
    assert_eq!(stuck[0]["peer"], "q1");
    assert_eq!(stuck[0]["why"], "no other peer is in role `p`");
    assert_eq!(strings(&trace["in_flight"]), ["p1 -> q1: second"]);
}

#[test]
fn choice_with_a_concretely_false_guard_takes_the_second() {
    for (peer, sent, never) in
        [("a(p(1), p1), a(q, q1)", "second", "first"), ("a(p(5), p1), a(q, q1)", "first", "second")]
    {
        let sent_f = format!("<true* . send(p1, q1, {sent})> true");
        let never_f = format!("[true* . send(_, _, {never})] false");
        let args = with_props(&["--peers", peer, "choice_guard.lcc"], &[DF, TE, &sent_f, &never_f]);
        let (code, doc) = json(&args);
        assert_eq!(code, 0, "{peer}: {doc:#}");
        assert_eq!(counts(&doc), (3, 2), "{peer}");
        assert_eq!(verdict(&doc, &sent_f), "holds");
        assert_eq!(verdict(&doc, &never_f), "holds");
    }
}

#[test]
fn choice_with_an_abstract_guard_can_take_either_alternative() {
    let first = "<true* . send(p1, q1, first)> true";
    let second = "<true* . send(p1, q1, second)> true";
    let args =
        with_props(&["--peers", "a(p, p1), a(q, q1)", "choice_abstract.lcc"], &[DF, NO, TE, first, second]);
    let (code, doc) = json(&args);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(counts(&doc), (4, 4));
    for name in [DF, NO, TE, first, second] {
        assert_eq!(verdict(&doc, name), "holds", "{name}");
    }
}

// ---------------------------------------------------------------- 2. par

#[test]
fn par_interleaves_both_branches_and_completes_when_both_have() {
    let m1_first = "<true* . send(_, _, m1) . send(_, _, m2)> true";
    let m2_first = "<true* . send(_, _, m2) . send(_, _, m1)> true";
    // p1 never finishes in a step that is not its m1 send, with m1 not yet sent (and the same
    // for m2): it finishes only when both branches have.
    let done_needs_m1 = "[(!send(_, _, m1))* . (done(p1) && !send(_, _, m1))] false";
    let done_needs_m2 = "[(!send(_, _, m2))* . (done(p1) && !send(_, _, m2))] false";
    let can_finish = "<true* . done(p1)> true";
    let args = with_props(
        &["--peers", "a(p, p1), a(q, q1)", "par.lcc"],
        &[DF, NO, TE, m1_first, m2_first, done_needs_m1, done_needs_m2, can_finish],
    );
    let (code, doc) = json(&args);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(counts(&doc), (9, 12));
    for name in [DF, NO, TE, m1_first, m2_first, done_needs_m1, done_needs_m2, can_finish] {
        assert_eq!(verdict(&doc, name), "holds", "{name}");
    }
}

// ---------------------------------------------------------------- 3. recursion and bounds

#[test]
fn guarded_recursive_role_change_counts_to_three_and_finishes() {
    let finishes = "<true* . done(c)> true";
    let args = with_props(&["--peers", "a(counter(0), c)", "counter.lcc"], &[DF, NO, TE, finishes]);
    let (code, doc) = json(&args);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(counts(&doc), (8, 7));
    for name in [DF, NO, TE, finishes] {
        assert_eq!(verdict(&doc, name), "holds", "{name}");
    }
    // Started at 3, only the final null: 2 states.
    let (code, doc) = json(&with_props(&["--peers", "a(counter(3), c)", "counter.lcc"], &[TE]));
    assert_eq!(code, 0);
    assert_eq!(counts(&doc), (2, 1));
}

#[test]
fn unbounded_counter_hits_the_state_bound() {
    let out = verify(&["--peers", "a(up(0), c)", "--max-states", "10", "up.lcc"]);
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("bound: the state bound (10 states) was reached"), "{}", out.stdout);
    assert!(out.stdout.contains("deadlock-free: inconclusive"), "{}", out.stdout);
    let (code, doc) = json(&["--peers", "a(up(0), c)", "--max-states", "10", "up.lcc"]);
    assert_eq!(code, 3);
    assert_eq!(doc["verdict"], "inconclusive");
    assert!(doc["bound"].as_str().unwrap().contains("state bound"), "{doc:#}");
    assert_eq!(verdict(&doc, DF), "inconclusive");
}

#[test]
fn unbounded_counter_hits_the_depth_bound() {
    let out = verify(&["--peers", "a(up(0), c)", "--max-depth", "5", "up.lcc"]);
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("the depth bound (5 steps) was reached"), "{}", out.stdout);
    // A formula is inconclusive too, never "holds", on a partial graph.
    let (code, doc) = json(&["--peers", "a(up(0), c)", "--max-depth", "5", "--property", TE, "up.lcc"]);
    assert_eq!(code, 3);
    assert_eq!(verdict(&doc, TE), "inconclusive");
}

#[test]
fn nested_role_calls_hit_the_recursion_bound() {
    let out = verify(&["--peers", "a(deep, d)", "--recursion", "5", "deep.lcc"]);
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("recursion bound (5 nested role calls)"), "{}", out.stdout);
}

#[test]
fn the_mailbox_bound_cuts_a_send_and_is_reported() {
    let (code, doc) =
        json(&["--peers", "a(spam(k), s), a(sink, k)", "--mailbox", "3", "--no-reduction", "spam.lcc"]);
    assert_eq!(code, 3, "{doc:#}");
    assert_eq!(doc["states"], 15);
    assert!(doc["bound"].as_str().unwrap().contains("mailbox"), "{doc:#}");
    assert_eq!(verdict(&doc, DF), "inconclusive");
}

/// "--max-depth N: explore runs of at most N steps". choice_race.lcc deadlocks after 1 step:
/// that run is within the bound, so the deadlock must be found (a violation found within a
/// bound is a violation, README "Bounds").
#[test]
fn a_depth_bound_as_long_as_the_shortest_deadlock_still_finds_it() {
    let (code, doc) = json(&["--peers", "a(p, p1), a(q, q1)", "--max-depth", "1", "choice_race.lcc"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(verdict(&doc, DF), "violated");
    assert_eq!(steps(&doc, DF).len(), 1);
}

/// `[R] false` is violated exactly when some path matches R; a path through explored states
/// is a real path whatever lies beyond the bound. In up.lcc, c becomes up(1) after 2 steps,
/// well inside 10 states: a violation found, so not inconclusive (README "Bounds").
#[test]
fn a_safety_formula_violated_inside_a_bound_is_violated() {
    let never_up = "[true* . become(c, up)] false";
    let (code, doc) =
        json(&["--peers", "a(up(0), c)", "--max-states", "10", "--property", never_up, "up.lcc"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(verdict(&doc, never_up), "violated");
    assert_eq!(steps(&doc, never_up).len(), 2);
}

/// counter.lcc has a single run of 7 steps: `--max-depth 7` cuts nothing, and the report's
/// depth (the longest run explored, in steps like the bound) is 7.
#[test]
fn depth_counts_steps_like_the_depth_bound() {
    let (code, doc) = json(&["--peers", "a(counter(0), c)", "--property", TE, "counter.lcc"]);
    assert_eq!(code, 0);
    assert_eq!(doc["depth"], 7, "{doc:#}");
    let (code, doc) = json(&["--peers", "a(counter(0), c)", "--max-depth", "7", "counter.lcc"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["bound"], Value::Null);
}

// ---------------------------------------------------------------- 4. discovery

#[test]
fn discovery_sends_to_either_server() {
    let to_s1 = "<true* . send(c, s1, req)> true";
    let to_s2 = "<true* . send(c, s2, req)> true";
    let args = with_props(
        &["--peers", "a(client, c), a(server, s1), a(server, s2)", "discovery.lcc"],
        &[DF, NO, TE, to_s1, to_s2],
    );
    let (code, doc) = json(&args);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(counts(&doc), (5, 4));
    for name in [DF, NO, TE, to_s1, to_s2] {
        assert_eq!(verdict(&doc, name), "holds", "{name}");
    }
    // The reduction keeps both choices (they are sends).
    let (_, doc) = json(&["--peers", "a(client, c), a(server, s1), a(server, s2)", "discovery.lcc"]);
    assert_eq!(counts(&doc), (5, 4));
}

#[test]
fn discovery_with_no_peer_in_the_role_deadlocks() {
    let (code, doc) = json(&["--peers", "a(client, c)", "discovery.lcc"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(doc["states"], 1);
    assert_eq!(steps(&doc, DF).len(), 0);
    let stuck = prop(&doc, DF)["trace"]["stuck"].as_array().unwrap().clone();
    assert_eq!(stuck.len(), 1);
    assert_eq!(stuck[0]["peer"], "c");
    assert_eq!(stuck[0]["event"], "req => a(server, S)");
    assert_eq!(stuck[0]["why"], "no other peer is in role `server`");
    let out = verify(&["--peers", "a(client, c)", "discovery.lcc"]);
    assert!(
        out.stdout.contains(
            "stuck: c as client at `req => a(server, S)` [discovery.lcc:12:3]: no other peer is in role `server`"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn discovery_looks_at_the_current_role() {
    let boot_first = "[!become(s1, server)] false";
    let args =
        with_props(&["--peers", "a(client, c), a(boot, s1)", "discovery_boot.lcc"], &[DF, TE, boot_first]);
    let (code, doc) = json(&args);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(counts(&doc), (4, 3));
    assert_eq!(verdict(&doc, boot_first), "holds");
}

#[test]
fn discovery_never_picks_the_sender_itself() {
    let never_self = "[true* . (send(g1, g1, _) || send(g2, g2, _))] false";
    let args =
        with_props(&["--peers", "a(gossip, g1), a(gossip, g2)", "gossip.lcc"], &[DF, NO, TE, never_self]);
    let (code, doc) = json(&args);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(counts(&doc), (7, 8));
    assert_eq!(verdict(&doc, never_self), "holds");
}

#[test]
fn a_send_to_a_fixed_id_that_no_peer_has_is_stuck() {
    let (code, doc) = json(&["--peers", "a(client, c), a(server, s1)", "fixed_id.lcc"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(steps(&doc, DF).len(), 0);
    let stuck = prop(&doc, DF)["trace"]["stuck"].as_array().unwrap().clone();
    assert_eq!(stuck.len(), 1, "the idle server s1 is not stuck: {stuck:?}");
    assert_eq!(stuck[0]["why"], "no peer has the id s9");
}

// ---------------------------------------------------------------- 5. guarded receive

#[test]
fn a_guarded_receive_consumes_only_a_message_its_guard_accepts() {
    let n1_never = "[true* . recv(_, _, n(1))] false";
    let n5_received = "<true* . recv(p, d, n(5))> true";
    let args = with_props(
        &["--peers", "a(src, p), a(dst, d)", "guarded_receive.lcc"],
        &[NO, TE, n1_never, n5_received],
    );
    let (code, doc) = json(&args);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(verdict(&doc, n1_never), "holds");
    assert_eq!(verdict(&doc, n5_received), "holds");
    assert_eq!(verdict(&doc, TE), "holds");
    assert_eq!(verdict(&doc, NO), "violated");
    let trace = steps(&doc, NO);
    assert_eq!(trace.len(), 3);
    // The receive and its guard are one step: it receives n(5) and nothing else.
    assert_eq!(strings(&trace[2]["actions"]), ["recv(p, d, n(5))", "done(d)"]);
    assert_eq!(trace[2]["guard_failed"], false);
    assert_eq!(strings(&prop(&doc, NO)["trace"]["in_flight"]), ["p -> d: n(1)"]);
}

/// README: "A guard that is concretely false (`X > 3` with `X = 1`) simply never enables its
/// event." In guarded_receive.lcc the guard is false only for the n(1) candidate; in
/// guarded_builtin.lcc only for the X = 1 solution of member/2. Neither may become a
/// "failed for good" step: 4 states (3 transitions) and 2 states (1 transition), no deadlock.
#[test]
fn a_concretely_false_guard_is_never_a_failure_step() {
    let args = with_props(&["--peers", "a(src, p), a(dst, d)", "guarded_receive.lcc"], &[DF, NO, TE]);
    let (_, doc) = json(&args);
    assert_eq!(counts(&doc), (4, 3), "{doc:#}");
    assert_eq!(verdict(&doc, DF), "holds");
    assert_eq!(verdict(&doc, NO), "violated");

    let (code, doc) = json(&with_props(&["--peers", "a(pick, p)", "guarded_builtin.lcc"], &[DF, TE]));
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(counts(&doc), (2, 1));
    assert_eq!(verdict(&doc, DF), "holds");
}

// ---------------------------------------------------------------- 6. orphans

#[test]
fn a_success_that_leaves_a_message_violates_no_orphans() {
    let args = with_props(&["--peers", "a(talker, t), a(listener, l)", "orphans.lcc"], &[DF, NO, TE]);
    let (code, doc) = json(&args);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(counts(&doc), (5, 5));
    assert_eq!(verdict(&doc, DF), "holds");
    assert_eq!(verdict(&doc, TE), "holds");
    assert_eq!(verdict(&doc, NO), "violated");
    let trace = &prop(&doc, NO)["trace"];
    assert_eq!(steps(&doc, NO).len(), 3);
    let acts = actions(steps(&doc, NO));
    for a in ["send(t, l, hello)", "send(t, l, bye)", "recv(t, l, hello)", "done(t)", "done(l)"] {
        assert!(acts.contains(&a.to_string()), "{a} missing from {acts:?}");
    }
    assert_eq!(strings(&trace["in_flight"]), ["t -> l: bye"]);
    assert_eq!(prop(&doc, NO)["note"], "messages left undelivered after 3 steps");
    // Without the whole graph (and with the reduction) the same shortest trace length.
    let (code, doc) = json(&["--peers", "a(talker, t), a(listener, l)", "--property", NO, "orphans.lcc"]);
    assert_eq!(code, 1);
    assert_eq!(steps(&doc, NO).len(), 3);
}

#[test]
fn clean_models_have_no_orphans() {
    for (peers, file) in [
        ("a(p, p1), a(q, q1)", "par.lcc"),
        ("a(client, c), a(server, s1), a(server, s2)", "discovery.lcc"),
        ("a(gossip, g1), a(gossip, g2)", "gossip.lcc"),
    ] {
        let (code, doc) = json(&["--peers", peers, "--property", NO, "--property", DF, file]);
        assert_eq!(code, 0, "{file}: {doc:#}");
        assert_eq!(verdict(&doc, NO), "holds");
    }
}

// ---------------------------------------------------------------- 7. liveness

#[test]
fn ping_pong_forever_is_deadlock_free_but_never_terminates() {
    let someone_finishes = "mu X. [!done(_)] X";
    let response = "[true* . send(_, _, ping)] mu X . (<true> true && [!recv(_, _, pong)] X)";
    let infinitely_often = "nu X. mu Y. ([recv(_, _, pong)] X && [!recv(_, _, pong)] Y)";
    let args = with_props(
        &["--peers", "a(pinger, p), a(ponger, q)", "pingpong.lcc"],
        &[DF, NO, TE, someone_finishes, response, infinitely_often],
    );
    let (code, doc) = json(&args);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(counts(&doc), (9, 12));
    assert_eq!(verdict(&doc, DF), "holds");
    assert_eq!(verdict(&doc, NO), "holds");
    assert_eq!(verdict(&doc, TE), "violated");
    assert_eq!(prop(&doc, TE)["note"], "a run that never ends");
    assert_eq!(verdict(&doc, someone_finishes), "violated");
    assert_eq!(verdict(&doc, response), "holds");
    assert_eq!(verdict(&doc, infinitely_often), "holds");
    for p in [prop(&doc, TE), prop(&doc, someone_finishes)] {
        let trace = &p["trace"];
        let start = trace["cycle_start"].as_u64().unwrap_or_else(|| panic!("no lasso: {p:#}")) as usize;
        let len = trace["steps"].as_array().unwrap().len();
        // Every cycle: ping sent, received, pong sent, received, two role changes.
        assert_eq!(len - start, 6, "{p:#}");
        let loop_actions = actions(&trace["steps"].as_array().unwrap()[start..]);
        for a in ["send(p, q, ping)", "recv(p, q, ping)", "send(q, p, pong)", "recv(q, p, pong)"] {
            assert!(loop_actions.contains(&a.to_string()), "{a} missing from the loop {loop_actions:?}");
        }
    }
    let out = verify(&["--peers", "a(pinger, p), a(ponger, q)", "--property", TE, "pingpong.lcc"]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("-- the following steps repeat forever --"), "{}", out.stdout);
    assert!(out.stdout.contains("terminates: violated (a run that never ends)"), "{}", out.stdout);
}

// ---------------------------------------------------------------- further semantics

#[test]
fn a_nested_role_call_plays_the_inner_role_then_returns() {
    let helper_first = "<become(m, helper)> true";
    let hi_from_helper = "<true* . recv(m, k, hi)> true";
    let args = with_props(
        &["--peers", "a(main, m), a(sink, k)", "nested.lcc"],
        &[DF, NO, TE, helper_first, hi_from_helper],
    );
    let (code, doc) = json(&args);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(counts(&doc), (7, 7));
    for name in [DF, NO, TE, helper_first, hi_from_helper] {
        assert_eq!(verdict(&doc, name), "holds", "{name}");
    }
}

#[test]
fn a_client_can_discover_a_peer_inside_a_nested_call() {
    let (code, doc) =
        json(&with_props(&["--peers", "a(host, h), a(client, c)", "nested_server.lcc"], &[DF, TE, NO]));
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(counts(&doc), (5, 4));
}

/// LCC.md 5: success when every peer has finished "or waits at the first receive of its
/// current role with no message pending for it"; README: "the current role of a peer is that
/// of its innermost running role call". h's current role is server, waiting at its first
/// receive with nothing pending: success, 2 states, 1 transition.
#[test]
fn an_idle_server_inside_a_nested_call_is_a_success() {
    let (code, doc) = json(&with_props(&["--peers", "a(host, h)", "nested_server.lcc"], &[DF, TE]));
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(counts(&doc), (2, 1));
    assert_eq!(verdict(&doc, DF), "holds");
}

#[test]
fn a_message_to_a_fixed_id_waits_for_its_role() {
    let (code, doc) =
        json(&with_props(&["--peers", "a(client, c), a(boot, s1)", "early_send.lcc"], &[DF, TE]));
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(counts(&doc), (5, 5));
    // Alone, s1 ends as an idle server: success.
    let (code, doc) = json(&with_props(&["--peers", "a(boot, s1)", "early_send.lcc"], &[DF, TE]));
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(counts(&doc), (2, 1));
}

#[test]
fn a_comparison_with_the_unknown_value_goes_both_ways() {
    let can_finish = "<true* . done(p)> true";
    let (code, doc) = json(&with_props(&["--peers", "a(t('?'), p)", "unknown.lcc"], &[DF, TE, can_finish]));
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(counts(&doc), (2, 1));
    assert_eq!(verdict(&doc, can_finish), "holds");
    let (code, doc) = json(&with_props(&["--peers", "a(t(5), p)", "unknown.lcc"], &[DF, TE]));
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(counts(&doc), (2, 1));
}

#[test]
fn an_empty_argument_list_is_the_atom_and_strings_are_not_atoms() {
    let ping = "<true* . recv(s1, r1, ping)> true";
    let (code, doc) = json(&with_props(&["--peers", "a(s, s1), a(r, r1)", "values.lcc"], &[DF, TE, ping]));
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(counts(&doc), (5, 5));
    assert_eq!(verdict(&doc, ping), "holds");
    assert_eq!(steps(&doc, DF).len(), 3);
    let trace = &prop(&doc, DF)["trace"];
    assert_eq!(trace["stuck"][0]["peer"], "r1");
    assert_eq!(trace["stuck"][0]["why"], "no pending message matches");
    assert_eq!(strings(&trace["in_flight"]), ["s1 -> r1: m(\"ok\")"]);
}

#[test]
fn a_receive_may_take_any_pending_message() {
    let y_first = "<send(s1, r1, x) . send(s1, r1, y) . recv(s1, r1, y)> true";
    let (code, doc) =
        json(&with_props(&["--peers", "a(s, s1), a(r, r1)", "multiset.lcc"], &[DF, TE, y_first]));
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(counts(&doc), (10, 10));
    assert_eq!(verdict(&doc, y_first), "holds");
}

#[test]
fn a_choice_whose_alternatives_all_fail_is_stuck_for_good() {
    let second = "<call(p, a2(p))> true";
    let (code, doc) = json(&with_props(&["--peers", "a(p, p)", "choice_all_fail.lcc"], &[TE, DF, second]));
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(counts(&doc), (3, 3));
    assert_eq!(verdict(&doc, second), "holds");
    let trace = steps(&doc, DF);
    assert_eq!(trace.len(), 1);
    assert_eq!(trace[0]["guard_failed"], true);
}

#[test]
fn list_built_ins_branch_per_solution_and_a_false_guard_never_fails_for_good() {
    let (code, doc) = json(&with_props(&["--peers", "a(l, p)", "lists.lcc"], &[TE, DF]));
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(counts(&doc), (6, 5));
    let trace = steps(&doc, DF);
    assert_eq!(trace.len(), 1);
    assert_eq!(trace[0]["guard_failed"], false);
    let why = prop(&doc, DF)["trace"]["stuck"][0]["why"].as_str().unwrap().to_string();
    assert!(why.contains("0 > 0"), "{why}");
}

#[test]
fn a_send_guard_binds_the_message() {
    let sent = "<true* . send(s1, b1, price(7))> true";
    let (code, doc) =
        json(&with_props(&["--peers", "a(s, s1), a(b, b1)", "send_guard.lcc"], &[TE, DF, NO, sent]));
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(counts(&doc), (3, 2));
    assert_eq!(verdict(&doc, sent), "holds");
}

#[test]
fn a_guard_written_before_the_receive_means_the_same() {
    let (code, doc) =
        json(&with_props(&["--peers", "a(src, p), a(dst, d)", "guarded_receive_first.lcc"], &[TE, DF, NO]));
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(counts(&doc), (4, 3));
    assert_eq!(verdict(&doc, DF), "holds");
    assert_eq!(steps(&doc, NO).len(), 3);
    assert_eq!(strings(&prop(&doc, NO)["trace"]["in_flight"]), ["p -> d: n(1)"]);
}

#[test]
fn full_counts_every_deadlock_state() {
    // choice_race.lcc: two deadlock states (after `second`, and after p1 took ping).
    let (code, doc) = json(&["--peers", "a(p, p1), a(q, q1)", "--full", "--no-reduction", "choice_race.lcc"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(counts(&doc), (4, 3));
    assert_eq!(doc["deadlock_states"], 2);
}

/// '?' stands for an unknown value (README): got('?') may concretely be got(apple), so
/// "got(apple) is never sent" is not proven. The counterexample: pick succeeds, got('?') is
/// sent (2 steps).
#[test]
fn a_formula_about_a_value_is_not_proven_by_an_abstract_value() {
    let never_apple = "[true* . send(_, _, got(apple))] false";
    let never_other = "[true* . send(_, _, other(_))] false";
    let (code, doc) = json(&with_props(
        &["--peers", "a(asker, a1), a(sink, k)", "abstract_value.lcc"],
        &[never_other, never_apple],
    ));
    assert_eq!(verdict(&doc, never_other), "holds");
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(verdict(&doc, never_apple), "violated");
    assert_eq!(steps(&doc, never_apple).len(), 2);
}

// ---------------------------------------------------------------- 8. exit statuses

#[test]
fn exit_status_0_1_2_3() {
    assert_eq!(verify(&["--peers", "a(p, p1), a(q, q1)", "choice_both.lcc"]).code, 0);
    assert_eq!(verify(&["--peers", "a(talker, t), a(listener, l)", "--property", NO, "orphans.lcc"]).code, 1);
    assert_eq!(verify(&["--peers", "a(up(0), c)", "--max-states", "10", "up.lcc"]).code, 3);

    let usage = |args: &[&str], says: &str| {
        let out = verify(args);
        assert_eq!(out.code, 2, "{args:?}:\n{}{}", out.stdout, out.stderr);
        assert!(out.stderr.contains(says), "{args:?}: stderr lacks `{says}`:\n{}", out.stderr);
        assert_eq!(out.stdout, "", "{args:?}");
    };
    usage(&["--peers", "a(p, p1", "choice_both.lcc"], "invalid --peers");
    usage(&["--peers", "a(nosuch, x)", "choice_both.lcc"], "has no role `nosuch`");
    usage(
        &["--peers", "a(p, p1), a(q, q1)", "--property", "[true* . send(_, _", "choice_both.lcc"],
        "invalid property",
    );
    usage(
        &["--peers", "a(p, p1), a(q, q1)", "--property", "eventually", "choice_both.lcc"],
        "invalid property",
    );
    usage(&["--peers", "a(p, p1), a(q, q1)", "--assume", "nosuch/1=true", "choice_both.lcc"], "nosuch/1");
    usage(
        &["--peers", "a(p, p1), a(q, q1)", "--assume", "ok/1=maybe", "choice_abstract.lcc"],
        "invalid --assume",
    );
    usage(&["--peers", "a(p, p1), a(p, p1)", "choice_both.lcc"], "p1");
    usage(&["--peers", "a(p, p1)", "--max-states", "0", "choice_both.lcc"], "positive");
    usage(&["--peers", "a(p, p1)", "missing.lcc"], "missing.lcc");
    usage(&["--scenario", "nosuch", "scenarios.lcc"], "no scenario `nosuch`");
    usage(&["--scenario", "one-server", "--peers", "a(client, c)", "scenarios.lcc"], "--peers");
    usage(&["--scenario-file", "choice_both.lcc", "scenarios.lcc"], "choice_both.lcc");
}

// ---------------------------------------------------------------- 9. the seed models

#[test]
fn balance_fig2_is_refused_while_its_error_remains() {
    let Some(seed) = seeds() else { return };
    let out = run_in(&seed, &["verify", "--peers", "a(idle, h1), a(idle, h2)", "balance_fig2.lcc"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("E0103"), "{}", out.stderr);
    assert!(out.stderr.contains("role change names peer `PID1`"), "{}", out.stderr);
    assert!(out.stderr.contains("balance_fig2.lcc cannot be verified"), "{}", out.stderr);
    // For tools: still exit 2, and the error is in the document on stdout.
    let (code, doc) = json_in(&seed, &["--peers", "a(idle, h1), a(idle, h2)", "balance_fig2.lcc"]);
    assert_eq!(code, 2);
    assert!(doc.to_string().contains("E0103"), "{doc:#}");
}

#[test]
fn balance_slides_two_idle_hosts_both_overloaded_deadlock() {
    let Some(seed) = seeds() else { return };
    for reduction in [&[][..], &["--no-reduction"][..]] {
        let mut args = vec!["--peers", "a(idle,h1), a(idle,h2)", "balance_slides.lcc"];
        args.extend_from_slice(reduction);
        let (code, doc) = json_in(&seed, &args);
        assert_eq!(code, 1, "{doc:#}");
        assert_eq!(verdict(&doc, DF), "violated");
        assert_eq!(prop(&doc, DF)["note"], "deadlock after 4 steps");
        let trace = steps(&doc, DF);
        assert_eq!(trace.len(), 4, "{doc:#}");
        let mut acts = actions(trace);
        acts.sort();
        assert_eq!(
            acts,
            [
                "become(h1, overloaded('?'))",
                "become(h2, overloaded('?'))",
                "call(h1, overloaded('?'))",
                "call(h2, overloaded('?'))",
            ]
        );
        let stuck = prop(&doc, DF)["trace"]["stuck"].as_array().unwrap().clone();
        let mut peers: Vec<&str> = stuck.iter().map(|s| s["peer"].as_str().unwrap()).collect();
        peers.sort_unstable();
        assert_eq!(peers, ["h1", "h2"]);
        for s in &stuck {
            assert_eq!(s["role"], "overloaded('?')");
            assert_eq!(s["event"], "readyToMigrate(Need) => a(underloaded, ID3)");
            assert_eq!((s["line"].as_u64(), s["column"].as_u64()), (Some(13), Some(3)));
            assert_eq!(s["why"], "no other peer is in role `underloaded`");
        }
    }
    let out = run_in(&seed, &["verify", "--peers", "a(idle,h1), a(idle,h2)", "balance_slides.lcc"]);
    assert!(out.stdout.contains("deadlock-free: violated (deadlock after 4 steps)"), "{}", out.stdout);
    assert_eq!(
        out.stdout
            .matches(
                "as overloaded('?') at `readyToMigrate(Need) => a(underloaded, ID3)` [balance_slides.lcc:13:3]: no other peer is in role `underloaded`"
            )
            .count(),
        2,
        "{}",
        out.stdout
    );
}

/// Peers a(overloaded(high), h1), a(underloaded(low), h2): h1 must send first (h2 waits for
/// it), h2 must receive, then canMigrate(low, high) may fail for good: the shortest deadlock
/// has 3 steps and leaves h1 waiting for migration(OK).
#[test]
fn balance_slides_failed_can_migrate_leaves_the_partner_waiting() {
    let Some(seed) = seeds() else { return };
    let (code, doc) = json_in(
        &seed,
        &["--peers", "a(overloaded(high), h1), a(underloaded(low), h2)", "balance_slides.lcc"],
    );
    assert_eq!(code, 1, "{doc:#}");
    let trace = steps(&doc, DF);
    assert_eq!(trace.len(), 3, "{doc:#}");
    assert_eq!(strings(&trace[0]["actions"]), ["send(h1, h2, readyToMigrate(high))"]);
    assert_eq!(strings(&trace[1]["actions"]), ["recv(h1, h2, readyToMigrate(high))"]);
    assert_eq!(strings(&trace[2]["actions"]), ["call(h2, canMigrate(low, high))"]);
    assert_eq!(trace[2]["guard_failed"], true);
    assert_eq!(trace[2]["peer"], "h2");
    let stuck = prop(&doc, DF)["trace"]["stuck"].as_array().unwrap().clone();
    let h1 = stuck.iter().find(|s| s["peer"] == "h1").expect("h1 is stuck");
    assert_eq!(h1["event"], "migration(OK) <= a(underloaded, ID3)");
    assert_eq!(h1["why"], "no message is pending for it");
    let h2 = stuck.iter().find(|s| s["peer"] == "h2").expect("h2 is stuck");
    assert!(h2["why"].as_str().unwrap().contains("canMigrate(Capacity, Need)"), "{h2:#}");
}

#[test]
fn buyer_shopkeeper_deadlocks_when_a_constraint_may_fail() {
    let Some(seed) = seeds() else { return };
    // in_stock/2 may fail: ask sent, received, in_stock fails for good: 3 steps.
    let (code, doc) = json_in(&seed, &["--peers", "a(buyer,b), a(shopkeeper,s)", "buyer_shopkeeper.lcc"]);
    assert_eq!(code, 1, "{doc:#}");
    let trace = steps(&doc, DF);
    assert_eq!(trace.len(), 3);
    assert_eq!(strings(&trace[0]["actions"]), ["send(b, s, ask(_))"]);
    assert_eq!(trace[2]["guard_failed"], true);
    assert!(trace[2]["actions"][0].as_str().unwrap().starts_with("call(s, in_stock("), "{doc:#}");
    // afford/2 may fail: ask, received, price sent, received, afford fails: 5 steps.
    let (code, doc) = json_in(
        &seed,
        &["--peers", "a(buyer,b), a(shopkeeper,s)", "--assume", "in_stock/2=true", "buyer_shopkeeper.lcc"],
    );
    assert_eq!(code, 1, "{doc:#}");
    let trace = steps(&doc, DF);
    assert_eq!(trace.len(), 5);
    assert_eq!(trace[4]["guard_failed"], true);
    assert_eq!(trace[4]["peer"], "b");
    assert!(trace[4]["actions"][0].as_str().unwrap().starts_with("call(b, afford("), "{doc:#}");
}

/// Both constraints true: one run of 8 steps (ask, price, buy, sold, each sent and received),
/// 9 states; everything holds.
#[test]
fn buyer_shopkeeper_with_both_constraints_true_is_clean() {
    let Some(seed) = seeds() else { return };
    let base = [
        "--peers",
        "a(buyer,b), a(shopkeeper,s)",
        "--assume",
        "in_stock/2=true",
        "--assume",
        "afford/2=true",
        "buyer_shopkeeper.lcc",
    ];
    let (code, doc) = json_in(&seed, &with_props(&base, &[DF, TE, NO]));
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(counts(&doc), (9, 8));
    for name in [DF, TE, NO] {
        assert_eq!(verdict(&doc, name), "holds", "{name}");
    }
    let out = run_in(&seed, &{
        let mut a = vec!["verify"];
        a.extend(with_props(&base, &[DF, TE, NO]));
        a
    });
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("verdict: holds (0 of 3 properties violated)"), "{}", out.stdout);
}

// ---------------------------------------------------------------- 10. formats and scenarios

fn assert_type(v: &Value, key: &str, ok: fn(&Value) -> bool) {
    assert!(v.get(key).is_some_and(ok), "`{key}` missing or of the wrong type in {v:#}");
}

#[test]
fn json_report_has_the_documented_keys_and_types() {
    let args = with_props(&["--peers", "a(talker, t), a(listener, l)", "orphans.lcc"], &[DF, NO]);
    let (_, violated) = json(&args);
    let (_, lasso) = json(&["--peers", "a(pinger, p), a(ponger, q)", "--property", TE, "pingpong.lcc"]);
    let (_, deadlock) = json(&["--peers", "a(client, c)", "discovery.lcc"]);
    for doc in [&violated, &lasso, &deadlock] {
        assert_type(doc, "file", Value::is_string);
        assert_type(doc, "scenario", Value::is_string);
        assert_type(doc, "peers", |v| v.as_array().is_some_and(|a| a.iter().all(Value::is_string)));
        assert_type(doc, "verdict", |v| {
            ["holds", "violated", "inconclusive"].contains(&v.as_str().unwrap_or(""))
        });
        for key in ["states", "transitions", "depth", "deadlock_states"] {
            assert_type(doc, key, Value::is_u64);
        }
        for key in ["seconds", "states_per_second", "bytes_per_state"] {
            assert_type(doc, key, Value::is_number);
        }
        assert_type(doc, "hash_compaction", Value::is_boolean);
        assert_type(doc, "bound", |v| v.is_null() || v.is_string());
        for p in doc["properties"].as_array().expect("properties") {
            assert_type(p, "name", Value::is_string);
            assert_type(p, "verdict", Value::is_string);
            assert_type(p, "note", |v| v.is_null() || v.is_string());
            assert_type(p, "trace", |v| v.is_null() || v.is_object());
            let trace = &p["trace"];
            if trace.is_null() {
                continue;
            }
            assert_type(trace, "cycle_start", |v| v.is_null() || v.is_u64());
            assert_type(trace, "in_flight", |v| v.as_array().is_some_and(|a| a.iter().all(Value::is_string)));
            for s in trace["steps"].as_array().expect("steps") {
                for key in ["peer", "role", "event"] {
                    assert_type(s, key, Value::is_string);
                }
                assert_type(s, "line", Value::is_u64);
                assert_type(s, "column", Value::is_u64);
                assert_type(s, "actions", |v| v.as_array().is_some_and(|a| a.iter().all(Value::is_string)));
                assert_type(s, "guard_failed", Value::is_boolean);
            }
            for s in trace["stuck"].as_array().expect("stuck") {
                for key in ["peer", "role", "event", "why"] {
                    assert_type(s, key, Value::is_string);
                }
                assert_type(s, "line", Value::is_u64);
                assert_type(s, "column", Value::is_u64);
            }
        }
    }
    assert_eq!(violated["file"], "orphans.lcc");
    assert_eq!(violated["scenario"], "command line");
    assert_eq!(strings(&violated["peers"]), ["a(talker, t)", "a(listener, l)"]);
    assert_eq!(violated["verdict"], "violated");
    assert_eq!(violated["hash_compaction"], false);
    assert_eq!(violated["bound"], Value::Null);
    assert_eq!(prop(&violated, DF)["trace"], Value::Null);
    assert_eq!(prop(&violated, DF)["note"], Value::Null);
    assert_eq!(prop(&violated, NO)["trace"]["cycle_start"], Value::Null);
    // The first step of the orphan trace: t sends hello, written on line 9, column 3.
    let first = &steps(&violated, NO)[0];
    assert_eq!(first["peer"], "t");
    assert_eq!(first["role"], "talker");
    assert_eq!(first["event"], "hello => a(listener, L)");
    assert_eq!((first["line"].as_u64(), first["column"].as_u64()), (Some(9), Some(3)));
    assert_eq!(strings(&first["actions"]), ["send(t, l, hello)"]);
    assert!(lasso["properties"][0]["trace"]["cycle_start"].is_u64());
    assert!(deadlock["deadlock_states"].as_u64().unwrap() >= 1);

    let (_, compact) = json(&["--peers", "a(p, p1), a(q, q1)", "--hash-compaction", "choice_both.lcc"]);
    assert_eq!(compact["hash_compaction"], true);
}

#[test]
fn mermaid_traces_are_sequence_diagrams() {
    let args = [
        "--peers",
        "a(talker, t), a(listener, l)",
        "--property",
        NO,
        "--trace-format",
        "mermaid",
        "orphans.lcc",
    ];
    let out = verify(&args);
    assert_eq!(out.code, 1);
    let diagram = out.stdout.split_once("sequenceDiagram\n").map(|(_, d)| d).unwrap_or_else(|| {
        panic!("no sequenceDiagram line:\n{}", out.stdout);
    });
    assert!(out.stdout.lines().any(|l| l == "sequenceDiagram"), "{}", out.stdout);
    for arrow in ["t->>l: hello", "t->>l: bye"] {
        assert!(diagram.contains(arrow), "`{arrow}` missing:\n{diagram}");
    }
    let (_, doc) = json(&args);
    let text = prop(&doc, NO)["trace"].as_str().expect("a Mermaid trace is a string in JSON");
    assert!(text.starts_with("sequenceDiagram"), "{text}");
    assert!(text.contains("t->>l: hello") && text.contains("t->>l: bye"), "{text}");
    // A lasso is drawn as a loop.
    let (_, doc) = json(&[
        "--peers",
        "a(pinger, p), a(ponger, q)",
        "--property",
        TE,
        "--trace-format",
        "mermaid",
        "pingpong.lcc",
    ]);
    let text = prop(&doc, TE)["trace"].as_str().unwrap();
    assert!(text.starts_with("sequenceDiagram"), "{text}");
    assert!(text.contains("p->>q: ping") && text.contains("q->>p: pong") && text.contains("loop"), "{text}");
}

#[test]
fn the_scenario_file_next_to_the_model_is_used() {
    // Both scenarios of scenarios.verify.toml, with ready/1 fixed to true by the file.
    let (code, doc) = json(&["scenarios.lcc"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["verdict"], "holds");
    let list = doc["scenarios"].as_array().expect("several scenarios: a list");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["scenario"], "one-server");
    assert_eq!(counts(&list[0]), (3, 2));
    assert_eq!(names(&list[0]), [DF]);
    assert_eq!(list[1]["scenario"], "two-servers");
    assert_eq!(counts(&list[1]), (5, 4));
    assert_eq!(names(&list[1]), [DF, NO]);
    // --scenario selects one: a single report.
    let (code, doc) = json(&["--scenario", "two-servers", "scenarios.lcc"]);
    assert_eq!(code, 0);
    assert_eq!(doc["scenario"], "two-servers");
    assert_eq!(strings(&doc["peers"]), ["a(client, c)", "a(server, s1)", "a(server, s2)"]);
    // --scenario-file names it explicitly, for another model with the same roles.
    let (code, doc) =
        json(&["--scenario-file", "scenarios.verify.toml", "--scenario", "one-server", "total.lcc"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["scenario"], "one-server");
    // --peers replaces the file.
    let (_, doc) = json(&["--peers", "a(client, c)", "scenarios.lcc"]);
    assert_eq!(doc["scenario"], "command line");
}

#[test]
fn scenario_files_give_solution_tables_bounds_and_properties() {
    let (code, doc) = json(&["--scenario", "fruit", "abstract_value.lcc"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(counts(&doc), (7, 6));
    assert_eq!(names(&doc).len(), 4);
    assert!(doc["properties"].as_array().unwrap().iter().all(|p| p["verdict"] == "holds"), "{doc:#}");
    let (code, doc) = json(&["--scenario", "tiny", "abstract_value.lcc"]);
    assert_eq!(code, 3, "{doc:#}");
    assert_eq!(names(&doc), [DF]);
    assert!(doc["bound"].as_str().unwrap().contains("state bound (3 states)"), "{doc:#}");
    // Both: the worst verdict.
    let (code, doc) = json(&["abstract_value.lcc"]);
    assert_eq!(code, 3, "{doc:#}");
    assert_eq!(doc["verdict"], "inconclusive");
    // The command line's bound overrides the file's.
    let (code, doc) = json(&["--scenario", "tiny", "--max-states", "100", "abstract_value.lcc"]);
    assert_eq!(code, 0, "{doc:#}");
}

#[test]
fn assume_overrides_the_scenario_file_and_the_model() {
    // ready/1 fixed to false: never enabled, deadlock at once.
    let (code, doc) = json(&["--scenario", "one-server", "--assume", "ready/1=false", "scenarios.lcc"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(doc["states"], 1);
    assert_eq!(steps(&doc, DF).len(), 0);
    let why = prop(&doc, DF)["trace"]["stuck"][0]["why"].as_str().unwrap().to_string();
    assert!(why.contains("ready(C)"), "{why}");
    // ready/1 may fail: a failure step of its own.
    let (code, doc) = json(&[
        "--scenario",
        "one-server",
        "--assume",
        "ready/1=any",
        "--property",
        TE,
        "--property",
        DF,
        "scenarios.lcc",
    ]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(counts(&doc), (4, 3));
    assert_eq!(steps(&doc, DF).len(), 1);
    assert_eq!(steps(&doc, DF)[0]["guard_failed"], true);
    // The model's `total` annotation, and --assume over it.
    let (code, doc) = json(&["--peers", "a(client, c), a(server, s1)", "--property", TE, "total.lcc"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(counts(&doc), (3, 2));
    let (code, doc) = json(&[
        "--peers",
        "a(client, c), a(server, s1)",
        "--assume",
        "ready/1=any",
        "--property",
        TE,
        "--property",
        DF,
        "total.lcc",
    ]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(counts(&doc), (4, 3));
    assert_eq!(steps(&doc, DF).len(), 1);
}

#[test]
fn role_declarations_give_the_default_population() {
    let to_s2 = "<true* . send(client1, server2, req)> true";
    let (code, doc) = json(&with_props(&["declared.lcc"], &[DF, TE, to_s2]));
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["scenario"], "declared roles");
    assert_eq!(strings(&doc["peers"]), ["a(client, client1)", "a(server, server1)", "a(server, server2)"]);
    assert_eq!(counts(&doc), (5, 4));
    assert_eq!(verdict(&doc, to_s2), "holds");
}

#[test]
fn declared_roles_with_arguments_get_the_unknown_value() {
    let (code, doc) = json(&with_props(&["declared_args.lcc"], &[TE, DF]));
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(strings(&doc["peers"]), ["a(worker('?'), worker1)", "a(worker('?'), worker2)"]);
    assert_eq!(counts(&doc), (9, 12));
    assert_eq!(verdict(&doc, TE), "holds");
    assert_eq!(steps(&doc, DF).len(), 2);
}

#[test]
fn verify_reads_the_model_from_standard_input() {
    let model = std::fs::read(fixtures().join("choice_both.lcc")).unwrap();
    let args = ["verify", "--format", "json", "--peers", "a(p, p1), a(q, q1)", "--property", TE, "-"];
    let out = run_lcc(&fixtures(), &args, Some(&model), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(counts(&doc), (3, 2));
}

#[test]
fn a_model_without_a_scenario_is_refused_with_help() {
    let out = verify(&["choice_both.lcc"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "");
    for hint in ["--peers", "a(p, p1)", "MODEL.verify.toml", "r(p, initial"] {
        assert!(out.stderr.contains(hint), "`{hint}` missing:\n{}", out.stderr);
    }
}

#[test]
fn counts_do_not_depend_on_threads_hash_compaction_or_repetition() {
    let peers = "a(snd(r1), s1), a(rcv, r1), a(snd(r2), s2), a(rcv, r2), a(snd(r3), s3), a(rcv, r3), a(snd(r4), s4), a(rcv, r4)";
    for extra in [
        &["--threads", "1"][..],
        &["--threads", "2"][..],
        &["--threads", "2", "--hash-compaction"][..],
        &["--threads", "1"][..],
    ] {
        let mut args = vec!["--peers", peers, "--full", "--no-reduction", "medium.lcc"];
        args.extend_from_slice(extra);
        let (code, doc) = json(&args);
        assert_eq!(code, 0, "{extra:?}: {doc:#}");
        assert_eq!(counts(&doc), (10_000, 48_000), "{extra:?}");
    }
}

/// The shipped load-balancing model with three reliable hosts: many equally short deadlocks.
/// Whatever the thread count and however the threads are scheduled, the report is the same
/// (apart from the timing line).
#[test]
fn traces_do_not_depend_on_threads_or_scheduling() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let report = |threads: &str| {
        let out = run_in(
            root,
            &[
                "verify",
                "--threads",
                threads,
                "--scenario",
                "reliable-hosts",
                "--trace-format",
                "mermaid",
                "stdlib/vm/balance_as_published.lcc",
            ],
        );
        assert_eq!(out.code, 1, "{}", out.stdout);
        out.stdout.lines().filter(|l| !l.starts_with("explored ")).collect::<Vec<_>>().join("\n")
    };
    let one = report("1");
    assert!(one.contains("sequenceDiagram") && one.contains("stuck at readyToMigrate"), "{one}");
    for _ in 0..4 {
        assert_eq!(report("2"), one);
    }
    assert_eq!(report("3"), one);
}

/// `--progress always` prints progress lines on stderr, ending with the totals; `never` (and
/// `auto` without a terminal, as here) prints none.
#[test]
fn the_progress_line_reports_states_rate_and_memory() {
    let args = ["--peers", "a(p, p1), a(q, q1)", "choice_both.lcc"];
    let out = verify(&[&["--progress", "always"][..], &args[..]].concat());
    let last = out.stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("lcc verify: 3 states, 2 transitions, depth "), "{}", out.stderr);
    assert!(last.contains(" states/s, ") && last.contains(" MiB, "), "{last}");
    for quiet in [&["--progress", "never"][..], &[][..]] {
        let out = verify(&[quiet, &args[..]].concat());
        assert!(!out.stderr.contains("lcc verify:"), "{}", out.stderr);
    }
}

#[test]
fn a_formula_counterexample_ending_where_peers_can_still_move_names_no_stuck_peer() {
    // The violation is the send itself; afterwards the mln peer can still receive and answer.
    let model = concat!(env!("CARGO_MANIFEST_DIR"), "/stdlib/mln/cloudburst.lcc");
    let out = verify(&[
        "--scenario",
        "queue-of-10-migrates",
        "--property",
        "[true* . send(vm1, mln, upgrade(_, _))] false",
        model,
    ]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("send(vm1, mln, upgrade(cloud, estimate(10, 100, 65)))"), "{}", out.stdout);
    assert!(!out.stdout.contains("stuck:"), "no peer is stuck at the end of this trace:\n{}", out.stdout);
}

#[test]
fn a_formula_pattern_f_matches_the_value_f_with_no_arguments() {
    // LCC.md section 2: `f()` and `f` are the same value, in patterns too.
    let model = concat!(env!("CARGO_MANIFEST_DIR"), "/stdlib/vm/offline_migration.lcc");
    for formula in ["<true* . call(_, shutdown)> true", "<true* . call(_, shutdown())> true"] {
        let out = verify(&["--property", formula, model]);
        assert_eq!(out.code, 0, "{formula}:\n{}{}", out.stdout, out.stderr);
        assert!(out.stdout.contains(": holds"), "{}", out.stdout);
    }
}
