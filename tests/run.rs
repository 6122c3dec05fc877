//! `lcc run` and `lcc simulate` end to end: external constraint providers (Python, and
//! providers that crash, hang or answer garbage), the endings of a run and their exit
//! statuses, the human and JSON traces, seeded scheduling, the bytecode listing, bad input;
//! the simulated datacentre with its report, CSV and SVG.
//!
//! Fixtures are in tests/fixtures/run/. Commands run in the root of the package, so that file
//! names in the output are the relative paths given here. Tests with a Python provider run
//! when `python3` is on PATH and say that they skipped otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{TempDir, json_lines, lcc, lcc_patiently, python3, trace_actions, trace_peer};
use serde_json::Value;

const SHOP: &str = "stdlib/market/buyer_shopkeeper_as_published.lcc";
const SHOP_PROVIDER: &str = "python3 examples/python/shop_provider.py";
/// Committed choice on cheap/1 (tests/fixtures/run/choice.lcc).
const CHOICE: &str = "tests/fixtures/run/choice.lcc";
const CHOICE_PROVIDER: &str = "python3 tests/fixtures/run/choice_provider.py";
/// `par`, a nested role call and a guarded receive.
const PIPELINE: &str = "tests/fixtures/run/pipeline.lcc";
const PIPELINE_PEERS: &str = "a(producer, p), a(consumer, c)";
/// Two peers that never talk.
const WORKERS: &str = "tests/fixtures/run/two_workers.lcc";
const WORKERS_PEERS: &str = "a(worker, w1), a(worker, w2)";
/// A role that changes to itself for ever.
const LOOP: &str = "tests/fixtures/run/loop.lcc";
/// A model with syntax errors (shared with tests/cli.rs).
const PROBLEMS: &str = "tests/fixtures/problems.lcc";
const BALANCE: &str = "stdlib/vm/balance.lcc";
const POWERSAVE: &str = "stdlib/vm/powersave.lcc";

/// `sh tests/fixtures/run/bad_provider.sh MODE NAME ARITY`: a provider of NAME/ARITY that
/// crashes, hangs or answers garbage on its first call.
fn bad_provider(mode: &str, constraint: &str, arity: usize) -> String {
    format!("sh tests/fixtures/run/bad_provider.sh {mode} {constraint} {arity}")
}

/// The `end` event of a `--trace json` output.
fn end(lines: &[Value]) -> &Value {
    lines.last().unwrap()
}

/// The lines of one kind of event.
fn events<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["event"] == kind).collect()
}

/// The actions of every step, in order.
fn actions(lines: &[Value]) -> Vec<String> {
    trace_actions(lines)
}

/// The peer that made each step, in order.
fn schedule(lines: &[Value]) -> Vec<String> {
    events(lines, "step").iter().map(|s| s["peer"].as_str().unwrap().to_string()).collect()
}

/// The final report of a peer in the `end` event.
fn peer<'a>(lines: &'a [Value], id: &str) -> &'a Value {
    trace_peer(lines, id)
}

/// `lcc run ARGS --trace json`, expecting `code`.
fn run_json(args: &[&str], code: i32) -> Vec<Value> {
    let mut all = vec!["run", "--trace", "json"];
    all.extend_from_slice(args);
    let out = lcc_patiently(&all);
    assert_eq!(out.code, code, "lcc {all:?}:\n{}\n{}", out.stdout, out.stderr);
    json_lines(&out.stdout)
}

// ---------------------------------------------------------------- lcc run: providers

#[test]
fn python_provider_answers_the_buyer_and_the_shopkeeper() {
    if !python3("python_provider_answers_the_buyer_and_the_shopkeeper") {
        return;
    }
    let out = lcc_patiently(&["run", SHOP, "--provider", SHOP_PROVIDER]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    // The values the provider chose: the first thing the buyer wants, the shop's price, the
    // buyer's budget check, and the sale that follows from them.
    for expected in [
        "call(b, want(bread)), send(b, s, ask(bread))",
        "call(s, in_stock(bread, 5)), send(s, b, price(bread, 5))",
        "call(b, afford(bread, 5)), send(b, s, buy(bread, 5))",
        "recv(s, b, sold(bread, 5)), done(b)",
        "run ended in success after 8 steps\n",
        "  b as buyer: finished\n",
        "  s as shopkeeper: finished\n",
    ] {
        assert!(out.stdout.contains(expected), "no `{expected}` in:\n{}", out.stdout);
    }
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);

    let lines = run_json(&[SHOP, "--provider", SHOP_PROVIDER], 0);
    let calls: Vec<String> = actions(&lines).into_iter().filter(|a| a.starts_with("call(")).collect();
    assert_eq!(calls, ["call(b, want(bread))", "call(s, in_stock(bread, 5))", "call(b, afford(bread, 5))"]);
    assert_eq!(end(&lines)["ending"], "success");
    assert_eq!(end(&lines)["steps"], 8);
    for id in ["b", "s"] {
        assert_eq!(peer(&lines, id)["status"], "finished", "{}", end(&lines));
    }
}

#[test]
fn a_failing_python_constraint_makes_the_choice_take_its_other_branch() {
    if !python3("a_failing_python_constraint_makes_the_choice_take_its_other_branch") {
        return;
    }
    // cheap(apple) holds: the first alternative (buy).
    let lines =
        run_json(&[CHOICE, "--peers", "a(client(apple), c), a(server, s)", "--provider", CHOICE_PROVIDER], 0);
    let done = actions(&lines);
    assert!(done.contains(&"call(c, cheap(apple))".to_string()), "{done:?}");
    assert!(done.contains(&"send(c, s, buy(apple))".to_string()), "{done:?}");
    assert!(done.contains(&"recv(s, c, reply(apple, sold))".to_string()), "{done:?}");
    assert!(!done.iter().any(|a| a.contains("haggle")), "{done:?}");
    assert_eq!(events(&lines, "step")[0]["line"], 10, "the first alternative is on line 10");

    // cheap(caviar) fails: the second alternative (haggle), and nothing of the first.
    let lines = run_json(
        &[CHOICE, "--peers", "a(client(caviar), c), a(server, s)", "--provider", CHOICE_PROVIDER],
        0,
    );
    let done = actions(&lines);
    assert!(done.contains(&"call(c, known(caviar))".to_string()), "{done:?}");
    assert!(done.contains(&"send(c, s, haggle(caviar))".to_string()), "{done:?}");
    assert!(done.contains(&"recv(c, s, haggle(caviar))".to_string()), "{done:?}");
    assert!(done.contains(&"recv(s, c, reply(caviar, offer))".to_string()), "{done:?}");
    assert!(!done.iter().any(|a| a.contains("buy(") || a.contains("sold")), "{done:?}");
    assert_eq!(events(&lines, "step")[0]["line"], 12, "the second alternative is on line 12");
    assert!(events(&lines, "provider-error").is_empty(), "a failing constraint is no provider error");
    assert_eq!(end(&lines)["ending"], "success");
    for id in ["c", "s"] {
        assert_eq!(peer(&lines, id)["status"], "finished", "{}", end(&lines));
    }
}

#[test]
fn a_provider_that_crashes_fails_the_call_and_the_model_goes_on() {
    // The only alternative left: the choice takes its second branch and the run succeeds.
    let crash = bad_provider("crash", "cheap", 1);
    let args = ["run", CHOICE, "--peers", "a(client(apple), c), a(server, s)"];
    let out = lcc_patiently(&[&args[..], &["--provider", &crash, "--assume", "known/1=true"]].concat());
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("send(c, s, haggle(apple))"), "{}", out.stdout);
    assert!(out.stdout.contains("run ended in success"), "{}", out.stdout);
    assert!(out.stderr.contains("lcc: warning: peer c: constraint `cheap(apple)` failed"), "{}", out.stderr);
    assert!(out.stderr.contains("exit status: 3"), "the reason gives the exit status:\n{}", out.stderr);
    assert!(out.stderr.contains("bad_provider: crashing on purpose"), "and its stderr:\n{}", out.stderr);

    // Mid-run, with no alternative: the shopkeeper is stuck on its failed guard (exit 1).
    let crash = bad_provider("crash", "in_stock", 2);
    let shop = ["run", SHOP, "--assume", "want/1=true", "--assume", "afford/2=true", "--provider", &crash];
    let out = lcc_patiently(&shop);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("recv(b, s, ask(_))"), "steps before the crash ran:\n{}", out.stdout);
    assert!(out.stdout.contains("run ended in deadlock"), "{}", out.stdout);
    assert!(out.stdout.contains("  s as shopkeeper: stuck\n"), "{}", out.stdout);
    assert!(out.stderr.contains("peer s: constraint `in_stock(_, _)` failed"), "{}", out.stderr);
    assert!(out.stderr.contains("exit status: 3"), "{}", out.stderr);

    let lines = run_json(&shop[1..], 1);
    let errors = events(&lines, "provider-error");
    assert!(!errors.is_empty(), "no provider-error event:\n{lines:#?}");
    assert_eq!(errors[0]["peer"], "s");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(message.contains("in_stock") && message.contains("exit status: 3"), "{message}");
    assert!(message.contains("crashing on purpose"), "{message}");
    assert_eq!(end(&lines)["ending"], "deadlock");
    let s = peer(&lines, "s");
    assert_eq!(s["status"], "stuck");
    assert_eq!(s["stuck"][0]["line"], 19, "{s}");
    assert!(s["stuck"][0]["why"].as_str().unwrap().contains("in_stock"), "{s}");
}

#[test]
fn a_provider_that_hangs_times_out_and_the_run_ends() {
    let hang = bad_provider("hang", "cheap", 1);
    let args = ["run", CHOICE, "--peers", "a(client(apple), c), a(server, s)", "--assume", "known/1=true"];
    let out = lcc_patiently(&[&args[..], &["--provider", &hang, "--provider-timeout", "300"]].concat());
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("constraint `cheap(apple)` failed"), "{}", out.stderr);
    assert!(out.stderr.contains("within 300ms"), "the reason names the timeout:\n{}", out.stderr);
    assert!(out.stdout.contains("send(c, s, haggle(apple))"), "{}", out.stdout);
    assert!(out.stdout.contains("run ended in success"), "{}", out.stdout);

    // Without an alternative: the call fails, the shopkeeper is stuck, the run still ends.
    let hang = bad_provider("hang", "in_stock", 2);
    let shop = [SHOP, "--assume", "want/1=true", "--assume", "afford/2=true", "--provider", &hang];
    let lines = run_json(&[&shop[..], &["--provider-timeout", "300"]].concat(), 1);
    let errors = events(&lines, "provider-error");
    assert!(!errors.is_empty(), "no provider-error event:\n{lines:#?}");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(message.contains("within 300ms"), "{message}");
    assert_eq!(end(&lines)["ending"], "deadlock");
    assert_eq!(peer(&lines, "s")["status"], "stuck");
}

#[test]
fn a_provider_that_answers_garbage_fails_the_call() {
    let garbage = bad_provider("garbage", "cheap", 1);
    let args = ["run", CHOICE, "--peers", "a(client(apple), c), a(server, s)", "--assume", "known/1=true"];
    let out = lcc_patiently(&[&args[..], &["--provider", &garbage]].concat());
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("constraint `cheap(apple)` failed"), "{}", out.stderr);
    assert!(out.stderr.contains("garbage"), "{}", out.stderr);
    assert!(out.stderr.contains("this is not JSON at all"), "the reason quotes the line:\n{}", out.stderr);
    assert!(out.stdout.contains("send(c, s, haggle(apple))"), "{}", out.stdout);

    let lines = run_json(&[&args[1..], &["--provider", &garbage]].concat(), 0);
    let errors = events(&lines, "provider-error");
    assert_eq!(errors.len(), 1, "{lines:#?}");
    assert_eq!(errors[0]["peer"], "c");
    assert!(errors[0]["message"].as_str().unwrap().contains("this is not JSON at all"), "{}", errors[0]);
    assert!(actions(&lines).contains(&"send(c, s, haggle(apple))".to_string()));
    assert_eq!(end(&lines)["ending"], "success");
}

// ---------------------------------------------------------------- lcc run: endings

const OUT_OF_STOCK: [&str; 7] =
    [SHOP, "--assume", "want/1=true", "--assume", "in_stock/2=false", "--assume", "afford/2=true"];

#[test]
fn a_deadlock_names_the_stuck_peers_and_why() {
    let out = lcc(&[&["run"], &OUT_OF_STOCK[..]].concat());
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("run ended in deadlock after 2 steps"), "{}", out.stdout);
    for expected in [
        "  b as buyer: stuck\n",
        "at `price(X, P) <= a(shopkeeper, S)` [stdlib/market/buyer_shopkeeper_as_published.lcc:13:5]: no matching message",
        "  s as shopkeeper: stuck\n",
        "at `price(X, P) => a(buyer, B) <- in_stock(X, P)` [stdlib/market/buyer_shopkeeper_as_published.lcc:19:5]: constraint `in_stock(_, _)` failed",
    ] {
        assert!(out.stdout.contains(expected), "no `{expected}` in:\n{}", out.stdout);
    }

    let lines = run_json(&OUT_OF_STOCK, 1);
    let end = end(&lines);
    assert_eq!(end["ending"], "deadlock");
    assert_eq!(end["steps"], 2);
    let b = peer(&lines, "b");
    assert_eq!(b["status"], "stuck");
    assert_eq!((&b["stuck"][0]["line"], &b["stuck"][0]["column"]), (&Value::from(13), &Value::from(5)));
    assert_eq!(b["stuck"][0]["why"], "no matching message");
    let s = peer(&lines, "s");
    assert_eq!(s["status"], "stuck");
    assert_eq!((&s["stuck"][0]["line"], &s["stuck"][0]["column"]), (&Value::from(19), &Value::from(5)));
    assert_eq!(s["stuck"][0]["text"], "price(X, P) => a(buyer, B) <- in_stock(X, P)");
    assert!(s["stuck"][0]["why"].as_str().unwrap().contains("in_stock"), "{s}");
}

#[test]
fn missing_providers_are_all_named_and_nothing_runs() {
    let out = lcc(&["run", SHOP]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(out.stdout, "", "nothing runs");
    assert!(out.stderr.contains("no provider for 3 external constraints"), "{}", out.stderr);
    for name in ["want/1", "in_stock/2", "afford/2"] {
        assert!(out.stderr.contains(name), "{name} is not named:\n{}", out.stderr);
    }
    assert!(out.stderr.contains("--provider") && out.stderr.contains("--assume"), "{}", out.stderr);

    // Those with a provider are not named; the others still are.
    let out = lcc(&["run", SHOP, "--assume", "want/1=true", "--trace", "json"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(out.stdout, "", "nothing runs");
    assert!(out.stderr.contains("no provider for 2 external constraints"), "{}", out.stderr);
    assert!(out.stderr.contains("in_stock/2") && out.stderr.contains("afford/2"), "{}", out.stderr);
    assert!(!out.stderr.contains("want/1"), "{}", out.stderr);
}

#[test]
fn seeded_runs_are_reproducible() {
    let seeded = |seed: &str, trace: &str| {
        let out = lcc(&["run", WORKERS, "--peers", WORKERS_PEERS, "--seed", seed, "--trace", trace]);
        assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
        out.stdout
    };
    for trace in ["human", "json"] {
        for seed in ["1", "7", "12345"] {
            assert_eq!(seeded(seed, trace), seeded(seed, trace), "seed {seed}, --trace {trace}");
        }
    }
    let lines = json_lines(&seeded("7", "json"));
    assert_eq!(end(&lines)["seed"], 7);
    assert_eq!(end(&lines)["ending"], "success");
    assert_eq!(schedule(&lines).len(), 8);

    // Different seeds interleave the two independent peers differently.
    let schedules: std::collections::BTreeSet<Vec<String>> =
        (1..=10).map(|seed| schedule(&json_lines(&seeded(&seed.to_string(), "json")))).collect();
    assert!(schedules.len() > 1, "ten seeds gave one schedule: {schedules:?}");
    for s in &schedules {
        assert_eq!(s.iter().filter(|p| *p == "w1").count(), 4, "{s:?}");
        assert_eq!(s.iter().filter(|p| *p == "w2").count(), 4, "{s:?}");
    }

    // Without a seed the schedule is fixed too.
    let plain = || lcc(&["run", WORKERS, "--peers", WORKERS_PEERS]).stdout;
    assert_eq!(plain(), plain());
}

#[test]
fn max_steps_stops_a_run_that_never_ends() {
    let out = lcc(&["run", LOOP, "--peers", "a(looper(0), l)", "--max-steps", "50"]);
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("stopped after 50 steps (--max-steps)"), "{}", out.stdout);
    assert!(out.stdout.contains("   50. l as looper(24)"), "{}", out.stdout);
    assert!(!out.stdout.contains("   51. "), "{}", out.stdout);
    assert!(out.stdout.contains("  l as looper(25): running\n"), "{}", out.stdout);

    let lines = run_json(&[LOOP, "--peers", "a(looper(0), l)", "--max-steps", "7"], 3);
    assert_eq!(end(&lines)["ending"], "step-limit");
    assert_eq!(end(&lines)["steps"], 7);
    assert_eq!(events(&lines, "step").len(), 7);
    assert_eq!(peer(&lines, "l")["status"], "running");

    // Tail role changes do not grow a stack: the default limit is reached, not another one.
    let out = lcc(&["run", LOOP, "--peers", "a(looper(0), l)", "--trace", "none"]);
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("stopped after 100000 steps (--max-steps)"), "{}", out.stdout);
}

// ---------------------------------------------------------------- lcc run: bad input

#[test]
fn a_model_with_syntax_errors_is_not_run() {
    let out = lcc(&["run", PROBLEMS, "--assume", "want/1=true"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("tests/fixtures/problems.lcc:11:14"), "no file:line:col:\n{}", out.stderr);
    assert!(out.stderr.contains("cannot be run"), "{}", out.stderr);
}

#[test]
fn peers_naming_an_unknown_role_list_the_roles() {
    let out = lcc(&[&["run"], &OUT_OF_STOCK[..], &["--peers", "a(buyer, b), a(nobody, n)"]].concat());
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("no role `nobody`"), "{}", out.stderr);
    assert!(out.stderr.contains("the roles are: buyer, shopkeeper"), "{}", out.stderr);
}

#[test]
fn malformed_peers_are_reported_with_the_column() {
    let out = lcc(&[&["run"], &OUT_OF_STOCK[..], &["--peers", "a(buyer, b), a(shopkeeper s)"]].concat());
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("invalid --peers `a(buyer, b), a(shopkeeper s)`"), "{}", out.stderr);
    assert!(out.stderr.contains("(at column 27)"), "{}", out.stderr);
}

#[test]
fn assume_any_is_refused_at_run_time() {
    let out = lcc(&[
        "run",
        SHOP,
        "--assume",
        "want/1=any",
        "--assume",
        "in_stock/2=true",
        "--assume",
        "afford/2=true",
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("want/1=any"), "{}", out.stderr);
    assert!(out.stderr.contains("`any` is for the model checker"), "{}", out.stderr);

    let out = lcc(&["run", SHOP, "--assume", "want=true"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("invalid --assume `want=true`"), "{}", out.stderr);
}

#[test]
fn a_provider_command_that_does_not_exist_is_named() {
    let out = lcc_patiently(&["run", SHOP, "--provider", "no-such-provider-command-x7"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("--provider `no-such-provider-command-x7`"), "{}", out.stderr);
    assert!(out.stderr.contains("not found"), "its stderr is quoted:\n{}", out.stderr);
}

// ---------------------------------------------------------------- lcc run: semantics

#[test]
fn dump_bytecode_lists_the_instructions() {
    let out = lcc(&["run", PIPELINE, "--dump-bytecode"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let listing = &out.stdout;
    for expected in [
        "clause 0: a(producer",
        "clause 1: a(checker(N, M), _P)",
        "clause 2: a(consumer",
        "FORK    1, 4 join 6",
        "SEND    offer(3) => a(consumer, c)",
        "RECV    offer(N) <= a(producer, P)  <- guard",
        "BECOME  a(checker(N, M), P)",
        "CHOICE  ",
        "JUMP    ",
        "NULL  <- guard",
        "END",
    ] {
        assert!(listing.contains(expected), "no `{expected}` in:\n{listing}");
    }
    // Nothing runs: no provider is needed, no step is printed.
    assert!(!listing.contains("run ended"), "{listing}");
    assert!(!listing.contains("   1. "), "{listing}");
}

#[test]
fn par_nested_role_calls_and_guarded_receives_run_to_the_end() {
    let args = [PIPELINE, "--peers", PIPELINE_PEERS, "--assume", "note/1=true"];
    let check = |lines: &[Value], what: &str| {
        let done = actions(lines);
        let position = |action: &str| {
            done.iter().position(|a| a == action).unwrap_or_else(|| panic!("{what}: no {action} in {done:?}"))
        };
        // The guard of the first receive rejects offer(3) and takes offer(8), which was sent
        // after it; the second receive takes offer(3).
        let first_recv = done.iter().find(|a| a.starts_with("recv(p, c, offer(")).unwrap();
        assert_eq!(first_recv, "recv(p, c, offer(8))", "{what}: {done:?}");
        assert!(position("send(p, c, offer(3))") < position("send(p, c, offer(8))"), "{what}: {done:?}");
        assert!(position("recv(p, c, offer(8))") < position("recv(p, c, offer(3))"), "{what}: {done:?}");
        // Both branches of the par ran before the join (the receive of took).
        assert!(position("call(p, note(started))") < position("recv(c, p, took(8, 3))"), "{what}: {done:?}");
        // The nested role call ran its first alternative, then returned to the producer.
        let become_ = position("become(p, checker(8, 3))");
        let checked = position("call(p, note(checked(8, 3)))");
        assert!(become_ < checked && checked < position("send(p, c, thanks(8, 3))"), "{what}: {done:?}");
        assert!(!done.iter().any(|a| a.contains("unordered")), "{what}: {done:?}");
        let roles: Vec<&str> = events(lines, "step")
            .iter()
            .filter(|s| s["peer"] == "p")
            .map(|s| s["role"].as_str().unwrap())
            .collect();
        assert!(roles.contains(&"checker(8, 3)"), "{what}: {roles:?}");
        assert_eq!(roles.last(), Some(&"producer"), "{what}: back in the producer after the call");
        assert_eq!(done.last().map(String::as_str), Some("done(c)"), "{what}: {done:?}");
        assert!(done.contains(&"done(p)".to_string()), "{what}: {done:?}");
        assert_eq!(end(lines)["ending"], "success", "{what}");
        for id in ["p", "c"] {
            let report = peer(lines, id);
            assert_eq!(report["status"], "finished", "{what}: {report}");
            assert_eq!(report["mailbox"], Value::Array(vec![]), "{what}: {report}");
        }
        assert_eq!(peer(lines, "p")["role"], "producer", "{what}");
    };
    check(&run_json(&args, 0), "round-robin");
    for seed in 1..=5 {
        let seed = seed.to_string();
        check(&run_json(&[&args[..], &["--seed", &seed]].concat(), 0), &format!("seed {seed}"));
    }

    let out = lcc(&[&["run"], &args[..]].concat());
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("p as checker(8, 3): null <- N > M"), "{}", out.stdout);
    assert!(out.stdout.contains("run ended in success after 12 steps\n"), "{}", out.stdout);
    assert!(out.stdout.contains("  p as producer: finished\n  c as consumer: finished\n"), "{}", out.stdout);
}

// ---------------------------------------------------------------- lcc simulate

/// The number before `of TOTAL` in a line of the human report that starts with `prefix`.
fn count_of(stdout: &str, prefix: &str, total: usize) -> usize {
    let line =
        stdout.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no `{prefix}`:\n{stdout}"));
    let (before, _) =
        line.split_once(&format!(" of {total}")).unwrap_or_else(|| panic!("no `of {total}` in `{line}`"));
    before.rsplit(' ').next().unwrap().parse().unwrap_or_else(|e| panic!("`{line}`: {e}"))
}

/// Whether an SVG element has `class` among its classes.
fn has_class(node: &roxmltree::Node<'_, '_>, class: &str) -> bool {
    node.attribute("class").is_some_and(|c| c.split_whitespace().any(|c| c == class))
}

#[test]
fn simulate_balance_reports_and_writes_csv_and_svg() {
    let dir = TempDir::new("simulate");
    let (csv, svg) = (dir.file("loads.csv"), dir.file("loads.svg"));
    let out = lcc(&["simulate", BALANCE, "--csv", &csv, "--plot", &svg]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report = &out.stdout;
    assert!(report.starts_with("stdlib/vm/balance.lcc: 15 hosts, 50 VMs, seed 1\n"), "{report}");
    let in_range = count_of(report, "hosts within 80%-120% of the average load", 15);
    assert!((1..=15).contains(&in_range), "{report}");
    let at_start: usize = report
        .split_once("at the end (")
        .and_then(|(_, rest)| rest.split_once(" at the start)"))
        .map(|(n, _)| n.parse().unwrap())
        .unwrap_or_else(|| panic!("no count at the start:\n{report}"));
    assert!(in_range > at_start, "balancing brought no host into the range:\n{report}");
    // `stable after N intervals (...): M migrations, S steps`
    let stable =
        report.lines().find(|l| l.starts_with("stable after ")).unwrap_or_else(|| panic!("{report}"));
    let intervals: usize = stable["stable after ".len()..].split(' ').next().unwrap().parse().unwrap();
    let migrations: usize = stable.split("): ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(migrations > 0, "{report}");
    assert!(report.contains(&format!("wrote {csv}, {svg}")), "{report}");

    let csv = std::fs::read_to_string(&csv).unwrap();
    let mut rows = csv.lines();
    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
    let hosts: Vec<String> = (1..=15).map(|h| format!("h{h}")).collect();
    assert_eq!(header[..2], ["tick", "average"]);
    assert_eq!(header[2..], hosts[..], "{csv}");
    let rows: Vec<Vec<f64>> = rows
        .map(|row| {
            row.split(',').map(|x| x.parse().unwrap_or_else(|e| panic!("`{x}` in `{row}`: {e}"))).collect()
        })
        .collect();
    assert_eq!(rows.len(), intervals + 1, "one row per interval, from tick 0:\n{csv}");
    for (tick, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), 17, "{row:?}");
        assert_eq!(row[0], tick as f64, "{row:?}");
        assert!(row[2..].iter().all(|&load| load >= 0.0), "{row:?}");
        let mean = row[2..].iter().sum::<f64>() / 15.0;
        assert!((mean - row[1]).abs() < 0.05, "the average is not the mean: {row:?}");
    }

    let svg = std::fs::read_to_string(&svg).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{svg}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let lines: Vec<_> = doc.descendants().filter(|n| n.tag_name().name() == "polyline").collect();
    let host_lines: Vec<_> = lines.iter().filter(|n| has_class(n, "host")).collect();
    let average_lines: Vec<_> = lines.iter().filter(|n| has_class(n, "average")).collect();
    assert_eq!(host_lines.len(), 15, "{svg}");
    assert_eq!(average_lines.len(), 1, "{svg}");
    for line in host_lines.iter().chain(&average_lines) {
        let points = line.attribute("points").unwrap().split_whitespace().count();
        assert_eq!(points, rows.len(), "one point per interval");
    }
}

#[test]
fn simulate_json_report() {
    let out = lcc(&["simulate", BALANCE, "--format", "json"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}:\n{}", out.stdout));
    assert_eq!(doc["stable"], true, "{doc:#}");
    assert!(doc["migrations"].as_u64().unwrap() > 0, "{doc:#}");
    let in_range = doc["in_range"].as_u64().unwrap();
    assert!(in_range <= 15 && in_range > doc["in_range_at_start"].as_u64().unwrap(), "{doc:#}");
    assert!(doc["empty"].as_u64().unwrap() <= 15, "{doc:#}");
    assert_eq!(doc["inventory_exact"], true, "{doc:#}");
    assert_eq!(doc["hosts"], 15);
    assert_eq!(doc["vms"], 50);
    assert_eq!(doc["final_loads"].as_array().unwrap().len(), 15);
    let counts = doc["final_vm_counts"].as_array().unwrap();
    assert_eq!(counts.iter().map(|c| c.as_u64().unwrap()).sum::<u64>(), 50, "every VM is on one host");

    // The same seed gives the same simulation as the human report.
    let human = lcc(&["simulate", BALANCE]);
    let migrations = format!(": {} migrations, ", doc["migrations"]);
    assert!(human.stdout.contains(&migrations), "{}\n{doc:#}", human.stdout);
    assert!(human.stdout.contains(&format!(": {in_range} of 15 at the end")), "{}", human.stdout);
}

#[test]
fn simulate_powersave_empties_hosts() {
    let out = lcc(&["simulate", POWERSAVE]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let empty = count_of(&out.stdout, "hosts with no VM:", 15);
    assert!(empty >= 1, "no host was emptied:\n{}", out.stdout);

    let out = lcc(&["simulate", POWERSAVE, "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["empty"], empty, "{doc:#}");
    assert_eq!(doc["inventory_exact"], true, "{doc:#}");
    let zeros = doc["final_vm_counts"].as_array().unwrap().iter().filter(|c| c.as_u64() == Some(0)).count();
    assert_eq!(zeros, empty, "{doc:#}");
}

#[test]
fn simulate_refuses_bad_input() {
    let dir = TempDir::new("simulate-bad");
    let csv = dir.file("loads.csv");
    let refused = |args: &[&str]| {
        let out = lcc(&[&["simulate"], args, &["--csv", &csv]].concat());
        assert_eq!(out.code, 2, "lcc simulate {args:?}: {}", out.stderr);
        assert_eq!(out.stdout, "", "lcc simulate {args:?}");
        out.stderr
    };

    let stderr = refused(&[BALANCE, "--hosts", "0"]);
    assert!(stderr.contains("--hosts must be at least 1"), "{stderr}");

    let stderr = refused(&[BALANCE, "--lower", "1.5", "--upper", "1.2"]);
    assert!(stderr.contains("--lower < --upper"), "{stderr}");
    assert!(stderr.contains("--lower 1.5 --upper 1.2"), "{stderr}");

    let stderr = refused(&["tests/fixtures/run/unknown_host_constraint.lcc"]);
    assert!(stderr.contains("frobnicate/2, which the host library does not provide"), "{stderr}");
    for provided in
        ["getPeerState/1", "isOverLoaded/0", "isUnderLoaded/0", "selectVM/2", "migrate/2", "timedOut/0"]
    {
        assert!(stderr.contains(provided), "{provided} is not listed:\n{stderr}");
    }

    let stderr = refused(&[PROBLEMS]);
    assert!(stderr.contains("tests/fixtures/problems.lcc:11:14"), "{stderr}");
    assert!(stderr.contains("cannot be simulated"), "{stderr}");

    assert_eq!(dir.names(), Vec::<String>::new(), "no CSV is written on errors");
}

// ---------------------------------------------------------------- lcc run: sequence diagrams

#[test]
fn a_run_is_drawn_as_a_sequence_diagram() {
    let out = lcc(&[&["run"], &OUT_OF_STOCK[..], &["--trace", "mermaid"]].concat());
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.starts_with("sequenceDiagram\n"), "{}", out.stdout);
    assert!(out.stdout.contains("participant b\n    participant s\n"), "{}", out.stdout);
    assert!(out.stdout.contains("b->>s: ask(_)"), "{}", out.stdout);
    assert!(
        out.stdout.contains("Note over s: stuck at price(X, P) => a(buyer, B) <- in_stock(X, P)"),
        "{}",
        out.stdout
    );
    // The summary goes to stderr, so that stdout is the diagram alone.
    assert!(out.stderr.contains("run ended in deadlock after 2 steps"), "{}", out.stderr);
    let out = lcc(&[&["run"], &OUT_OF_STOCK[..], &["--trace", "dot"]].concat());
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.starts_with("digraph"), "{}", out.stdout);
    assert!(out.stdout.contains("ask(_)") && out.stdout.contains("stuck at"), "{}", out.stdout);
}

#[test]
fn simulate_reports_progress_when_asked_off_a_terminal() {
    let out =
        lcc(&["simulate", BALANCE, "--progress", "always", "--max-ticks", "30", "--stable-ticks", "100"]);
    assert_eq!(out.code, 3, "not stable within 30 intervals: {}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().filter(|l| l.starts_with("lcc simulate: interval ")).collect();
    assert_eq!(lines.len(), 10, "{}", out.stderr);
    assert!(lines[9].starts_with("lcc simulate: interval 30/30, "), "{}", out.stderr);
    assert!(out.stdout.contains("not stable after 30 intervals (--max-ticks)"), "{}", out.stdout);
    // Without a terminal, `auto` stays quiet.
    let out = lcc(&["simulate", BALANCE]);
    assert_eq!(out.code, 0);
    assert_eq!(out.stderr, "");
}

#[test]
fn the_simulated_models_are_verified_by_their_scenario_files() {
    for model in [BALANCE, POWERSAVE] {
        let out = lcc(&["verify", model]);
        assert_eq!(out.code, 0, "{model}: {}\n{}", out.stdout, out.stderr);
        for scenario in ["two-hosts", "three-hosts", "four-hosts"] {
            assert!(out.stdout.contains(&format!("scenario `{scenario}`")), "{}", out.stdout);
        }
        assert_eq!(out.stdout.matches("deadlock-free: holds").count(), 3, "{}", out.stdout);
        assert_eq!(out.stdout.matches("no-orphans: holds").count(), 3, "{}", out.stdout);
    }
}
