//! The VM against LCC.md section 5, one construct at a time: committed choice, `par`, atomic
//! receive-with-guard, discovery of an unbound receiver, nested and tail role changes, and the
//! classification of the end of a run. (The conformance test compares the VM with the model
//! checker on whole models; these pin down each rule by itself.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use lcc_check::mc::scenario::{PeerSpec, parse_peers};
use lcc_check::mc::value::{Action, Value};
use lcc_runtime::abi::{ProviderError, Registry, TableProvider};
use lcc_runtime::bytecode::{self, Program};
use lcc_runtime::solve::Notice;
use lcc_runtime::vm::{Ending, Options, RunEnd, Status, Vm, Why};

fn program(source: &str) -> Program {
    let (model, diagnostics) = lcc_check::check_source(source);
    let errors: Vec<_> = diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    bytecode::program(&model)
}

fn peers(text: &str) -> Vec<PeerSpec> {
    parse_peers(text).unwrap()
}

/// Runs to the end and returns the actions of every step, as text.
fn run<'p>(
    program: &'p Program,
    peers_text: &str,
    registry: Registry,
    seed: Option<u64>,
) -> (Vec<String>, RunEnd, Vm<'p>) {
    let options = Options { seed, ..Options::default() };
    let mut vm = Vm::new(program, &peers(peers_text), registry, options).unwrap();
    let mut trace = Vec::new();
    let end = vm.run(10_000, &mut |_, step| {
        trace.extend(step.actions.iter().map(ToString::to_string));
    });
    (trace, end, vm)
}

fn table(pairs: &[(&str, usize, bool)]) -> Registry {
    let mut r = Registry::new();
    for &(name, arity, ok) in pairs {
        r.register(name, arity, TableProvider::constant(ok));
    }
    r
}

#[test]
fn committed_choice_takes_the_first_enabled_alternative_only() {
    let p = program(
        "a(r, X) :: ( null <- first() then null <- after_first() ) or null <- second() or null <- third()",
    );
    // The first alternative is disabled: the second is taken, the third never considered.
    let (trace, end, _) = run(
        &p,
        "a(r, x)",
        table(&[("first", 0, false), ("after_first", 0, true), ("second", 0, true), ("third", 0, true)]),
        None,
    );
    assert_eq!(trace, ["call(x, second())", "done(x)"]);
    assert_eq!(end, RunEnd::Terminal(Ending::Success));
    // Once committed, a later failure does not fall back to another alternative.
    let (trace, end, vm) = run(
        &p,
        "a(r, x)",
        table(&[("first", 0, true), ("after_first", 0, false), ("second", 0, true), ("third", 0, true)]),
        None,
    );
    assert_eq!(trace, ["call(x, first())"]);
    assert_eq!(end, RunEnd::Terminal(Ending::Deadlock));
    let Status::Stuck(blocked) = &vm.report()[0].status else { panic!("{:?}", vm.report()) };
    assert!(
        matches!(&blocked[0].why, Why::Guard(f) if f.to_string().contains("after_first()")),
        "{blocked:?}"
    );
}

#[test]
fn par_interleaves_and_completes_when_both_sides_have() {
    let p = program(
        "a(left, L) :: m(1) => a(right, r) par m(2) => a(right, r)\n\
         a(right, R) :: m(X) <= a(left, L) then m(Y) <= a(left, L) then null <- sum(X, Y)",
    );
    let mut orders = std::collections::HashSet::new();
    for seed in 0..20 {
        let mut reg = Registry::new();
        reg.register_fn("sum", 2, |call| Ok(vec![call.args.to_vec()]));
        let (trace, end, _) = run(&p, "a(left, l), a(right, r)", reg, Some(seed));
        assert_eq!(end, RunEnd::Terminal(Ending::Success), "{trace:?}");
        let sends: Vec<&String> = trace.iter().filter(|a| a.starts_with("send")).collect();
        assert_eq!(sends.len(), 2);
        // `done(l)` comes with the second send, whichever it is.
        let done = trace.iter().position(|a| a == "done(l)").unwrap();
        assert!(trace[..done].iter().filter(|a| a.starts_with("send")).count() == 2);
        orders.insert(sends.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    }
    assert_eq!(orders.len(), 2, "both branches of the par go first under some schedule");
}

#[test]
fn a_receive_with_a_guard_takes_a_message_for_which_the_guard_holds_atomically() {
    let p = program(
        "a(sender, S) :: offer(1) => a(taker, t) then offer(5) => a(taker, t)\n\
         a(taker, T) :: offer(X) <= a(sender, S) <- X > 3 then null <- got(X)",
    );
    let mut reg = Registry::new();
    reg.register_fn("got", 1, |call| Ok(vec![call.args.to_vec()]));
    let (trace, end, vm) = run(&p, "a(sender, s), a(taker, t)", reg, None);
    assert!(trace.contains(&"recv(s, t, offer(5))".to_string()), "{trace:?}");
    assert!(trace.contains(&"call(t, got(5))".to_string()), "{trace:?}");
    // offer(1) stays in the mailbox: the guard failed, the message was not consumed.
    assert_eq!(end, RunEnd::Terminal(Ending::Orphans));
    let report = vm.report();
    assert_eq!(
        report[1].mailbox,
        vec![(Value::atom("s"), Value::Compound("offer".into(), vec![Value::Int(1)]))]
    );
}

#[test]
fn discovery_sends_to_a_peer_currently_in_the_role_or_waits_for_one() {
    let p = program(
        "a(asker, A) :: q => a(server, S) then r <= a(server, S)\n\
         a(server, S) :: q <= a(asker, A) then r => a(asker, A)\n\
         a(later, L) :: null <- ready() then a(server, L)",
    );
    // The only server is `s2` once `later` has become one.
    let (trace, end, _) = run(&p, "a(asker, a), a(later, s2)", table(&[("ready", 0, true)]), None);
    assert_eq!(end, RunEnd::Terminal(Ending::Success), "{trace:?}");
    assert!(trace.contains(&"send(a, s2, q)".to_string()), "{trace:?}");
    // With no server ever, the asker is stuck for want of a partner.
    let (_, end, vm) = run(&p, "a(asker, a), a(later, s2)", table(&[("ready", 0, false)]), None);
    assert_eq!(end, RunEnd::Terminal(Ending::Deadlock));
    let Status::Stuck(blocked) = &vm.report()[0].status else { panic!() };
    assert_eq!(blocked[0].why, Why::NoPartner("server".into()));
}

#[test]
fn tail_role_changes_do_not_grow_and_nested_ones_return() {
    // 5,000 iterations of a tail-recursive role with a depth limit of 3.
    let p = program(
        "a(count(N), X) :: ( null <- N < 5000 then a(count(M), X) <- M is N + 1 ) or null <- N >= 5000",
    );
    let options = Options { max_depth: 3, record: false, ..Options::default() };
    let specs = peers("a(count(0), c)");
    let mut vm = Vm::new(&p, &specs, Registry::new(), options).unwrap();
    let end = vm.run(1_000_000, &mut |_, _| {});
    assert_eq!(end, RunEnd::Terminal(Ending::Success));
    assert_eq!(vm.steps(), 2 * 5000 + 1);
    // A nested call returns to what follows it, in the caller's role.
    let p = program("a(outer, X) :: a(inner, X) then null <- back()\na(inner, X) :: null <- in()");
    let (trace, end, _) = run(&p, "a(outer, o)", table(&[("back", 0, true), ("in", 0, true)]), None);
    assert_eq!(trace, ["become(o, inner)", "call(o, in())", "call(o, back())", "done(o)"]);
    assert_eq!(end, RunEnd::Terminal(Ending::Success));
    // Nested calls deeper than the limit are refused with a reason.
    let p = program("a(deep, X) :: a(deep, X) then null");
    let options = Options { max_depth: 50, ..Options::default() };
    let specs = peers("a(deep, d)");
    let mut vm = Vm::new(&p, &specs, Registry::new(), options).unwrap();
    assert_eq!(vm.run(1_000, &mut |_, _| {}), RunEnd::Terminal(Ending::Deadlock));
    let Status::Stuck(blocked) = &vm.report()[0].status else { panic!() };
    assert_eq!(blocked[0].why, Why::TooDeep(50));
}

#[test]
fn an_idle_server_is_a_success_and_a_message_left_is_an_orphan() {
    let p = program(
        "a(client, C) :: hello => a(server, s)\na(server, S) :: hello <= a(client, C) then a(server, S)",
    );
    let (_, end, vm) = run(&p, "a(client, c), a(server, s)", Registry::new(), None);
    assert_eq!(end, RunEnd::Terminal(Ending::Success));
    assert_eq!(vm.report()[1].status, Status::Idle);
    let p = program(
        "a(client, C) :: hello => a(server, s) then hello => a(server, s)\na(server, S) :: hello <= a(client, C)",
    );
    let (_, end, _) = run(&p, "a(client, c), a(server, s)", Registry::new(), None);
    assert_eq!(end, RunEnd::Terminal(Ending::Orphans));
}

#[test]
fn a_failing_provider_fails_the_call_with_a_notice_and_the_model_goes_on() {
    let p = program("a(r, X) :: null <- fragile() or null <- fallback()");
    let mut reg = Registry::new();
    reg.register_fn("fragile", 0, |_| Err(ProviderError("the host library is down".into())));
    reg.register_fn("fallback", 0, |call| Ok(vec![call.args.to_vec()]));
    let options = Options::default();
    let specs = peers("a(r, x)");
    let mut vm = Vm::new(&p, &specs, reg, options).unwrap();
    let mut trace = Vec::new();
    let end = vm.run(100, &mut |_, s| trace.extend(s.actions.iter().cloned()));
    assert_eq!(end, RunEnd::Terminal(Ending::Success));
    assert!(matches!(&trace[0], Action::Call { constraint, .. } if constraint.to_string() == "fallback()"));
    let notices = vm.take_notices();
    assert!(
        matches!(&notices[0], Notice::ProviderError { reason, .. } if reason.contains("down")),
        "{notices:?}"
    );
    // A provider that panics is a failed call too.
    let mut reg = Registry::new();
    reg.register_fn("fragile", 0, |_| panic!("boom"));
    reg.register_fn("fallback", 0, |call| Ok(vec![call.args.to_vec()]));
    let mut vm = Vm::new(&p, &specs, reg, Options::default()).unwrap();
    assert_eq!(vm.run(100, &mut |_, _| {}), RunEnd::Terminal(Ending::Success));
    assert!(
        matches!(&vm.take_notices()[0], Notice::ProviderError { reason, .. } if reason.contains("panicked: boom"))
    );
}

#[test]
fn a_built_in_with_an_unbound_input_is_a_run_time_error_not_a_panic() {
    let p = program("a(r, X) :: null <- Y > 3 or null <- Z is W + 1");
    let specs = peers("a(r, x)");
    let mut vm = Vm::new(&p, &specs, Registry::new(), Options::default()).unwrap();
    assert_eq!(vm.run(100, &mut |_, _| {}), RunEnd::Terminal(Ending::Deadlock));
    let notices = vm.take_notices();
    assert_eq!(notices.len(), 2, "{notices:?}");
    assert!(
        notices.iter().all(|n| matches!(n, Notice::GuardError { detail, .. } if detail.contains("unbound")))
    );
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let p = program(
        "a(w, X) :: ( m(1) => a(sink, s) then m(2) => a(sink, s) ) par ( m(3) => a(sink, s) then m(4) => a(sink, s) )\n\
         a(sink, S) :: m(A) <= a(w, X) then a(sink, S)",
    );
    let runs: Vec<Vec<String>> =
        (0..2).map(|_| run(&p, "a(w, w1), a(w, w2), a(sink, s)", Registry::new(), Some(42)).0).collect();
    assert_eq!(runs[0], runs[1]);
    let other = run(&p, "a(w, w1), a(w, w2), a(sink, s)", Registry::new(), Some(7)).0;
    assert_ne!(runs[0], other, "another seed, another interleaving");
}

#[test]
fn the_vm_refuses_a_peer_whose_role_does_not_exist_or_does_not_match() {
    let p = program("a(r(N), X) :: null");
    let err = Vm::new(&p, &peers("a(q, x)"), Registry::new(), Options::default()).err().unwrap();
    assert!(err.message.contains("no role `q`") && err.help.unwrap().contains('r'));
    let twice = [peers("a(r(1), x)"), peers("a(r(2), x)")].concat();
    let err = Vm::new(&p, &twice, Registry::new(), Options::default()).err().unwrap();
    assert!(err.message.contains("two peers have the id x"), "{}", err.message);
}

#[test]
fn unification_binds_the_variables_of_both_sides() {
    // `T` holds `f(p, _)` (an output left unbound): `T = f(W, _)` must still give W its value.
    let p = program(
        "a(start, P) :: null <- pick(V) then null <- T = f(P, V) then null <- T = f(W, _) then a(done(W), P)\n\
         a(done(W), P) :: null <- W == p",
    );
    let (trace, end, _) = run(&p, "a(start, p)", table(&[("pick", 1, true)]), None);
    assert_eq!(end, RunEnd::Terminal(Ending::Success), "{trace:?}");
    assert!(trace.contains(&"become(p, done(p))".to_string()), "{trace:?}");
}
