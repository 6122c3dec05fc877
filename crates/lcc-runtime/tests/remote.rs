//! The VM API a host agent drives: peers executed by another agent (`add_remote`,
//! `set_remote_role`), messages carried between agents (`take_outbox`, `deliver`), and what
//! an agent asks of its local peers (`active_roles`, `is_at_rest`, `abandon`). Remote peers
//! take part in discovery and receive messages through the outbox, but are never stepped,
//! reported or classified here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use lcc_check::mc::scenario::parse_peers;
use lcc_check::mc::value::{Value, parse_value};
use lcc_runtime::abi::Registry;
use lcc_runtime::bytecode::{self, Program};
use lcc_runtime::vm::{Ending, Msg, Options, Outgoing, RunEnd, Status, Vm, Why};

/// An asker that asks once and waits for the reply, and a server that answers forever.
const ASK: &str = "a(asker, A) :: ask(1) => a(answerer, B) then reply(X) <= a(answerer, B).\n\
                   a(answerer, B) :: ask(N) <= a(asker, A) then reply(N) => a(asker, A) then a(answerer, B).";

fn program(source: &str) -> Program {
    let (model, diagnostics) = lcc_check::check_source(source);
    let errors: Vec<_> = diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    bytecode::program(&model)
}

fn vm<'p>(program: &'p Program, peers_text: &str) -> Vm<'p> {
    Vm::new(program, &parse_peers(peers_text).unwrap(), Registry::new(), Options::default()).unwrap()
}

fn v(text: &str) -> Value {
    parse_value(text).unwrap()
}

/// Runs to a terminal configuration (with the final sweep), returning the actions as text.
fn run(vm: &mut Vm<'_>) -> (Vec<String>, RunEnd) {
    let mut trace = Vec::new();
    let end = vm.run(1_000, &mut |_, step| trace.extend(step.actions.iter().map(ToString::to_string)));
    (trace, end)
}

/// Steps only the peers that are runnable (no sweep): what moves here was woken.
fn run_woken(vm: &mut Vm<'_>) -> Vec<String> {
    let mut trace = Vec::new();
    vm.run_until_quiet(1_000, &mut |_, step| trace.extend(step.actions.iter().map(ToString::to_string)));
    trace
}

fn stuck_on(vm: &Vm<'_>, p: usize) -> Vec<Why> {
    match &vm.report()[p].status {
        Status::Stuck(blocked) => blocked.iter().map(|b| b.why.clone()).collect(),
        other => panic!("peer {p} is not stuck: {other:?}"),
    }
}

/// A local asker `a` (index 0) whose only partner is the remote answerer `b`: it has sent
/// `ask(1)` (taken from the outbox) and waits for the reply.
fn asker_waiting_for_remote(p: &Program) -> (Vm<'_>, usize) {
    let mut vm = vm(p, "a(asker, a)");
    let b = vm.add_remote(Value::atom("b"));
    vm.set_remote_role(b, Some("answerer".into()));
    assert_eq!(run(&mut vm).0, ["send(a, b, ask(1))"]);
    assert_eq!(vm.take_outbox().len(), 1);
    assert_eq!(vm.in_flight(), 0);
    (vm, b)
}

#[test]
fn a_send_to_a_remote_role_waits_for_the_role_then_goes_to_the_outbox() {
    let p = program(ASK);
    let mut vm = vm(&p, "a(asker, a)");
    let b = vm.add_remote(Value::atom("b"));
    assert_eq!(b, 1);
    assert_eq!(vm.peer_count(), 2);
    assert_eq!(vm.peer_index(&Value::atom("b")), Some(b));
    assert_eq!(vm.peer_id(b), Some(&Value::atom("b")));
    assert!(vm.is_remote(b));
    assert!(!vm.is_remote(0));
    assert!(!vm.is_remote(99));

    // Without a role the remote peer is not a partner: nothing fires.
    let (trace, end) = run(&mut vm);
    assert!(trace.is_empty(), "{trace:?}");
    assert_eq!(end, RunEnd::Terminal(Ending::Deadlock));
    assert_eq!(stuck_on(&vm, 0), [Why::NoPartner("answerer".into())]);
    assert!(vm.take_outbox().is_empty());
    assert_eq!(vm.in_flight(), 0);

    // Giving it the role wakes the asker (no sweep needed), and the send goes to the outbox.
    vm.set_remote_role(b, Some("answerer".into()));
    assert_eq!(run_woken(&mut vm), ["send(a, b, ask(1))"]);
    assert_eq!(vm.in_flight(), 1, "a message in the outbox is in flight");
    assert!(vm.report().iter().all(|r| r.mailbox.is_empty()), "{:?}", vm.report());
    assert_eq!(
        vm.take_outbox(),
        [Outgoing {
            from: Value::atom("a"),
            to: Value::atom("b"),
            from_role: "asker".into(),
            to_role: "answerer".into(),
            content: v("ask(1)"),
        }]
    );
    assert_eq!(vm.in_flight(), 0);
    assert!(vm.take_outbox().is_empty(), "taking empties the outbox");
    // The asker now waits for the reply.
    assert!(!vm.is_finished(0));
    assert_eq!(run(&mut vm).1, RunEnd::Terminal(Ending::Deadlock));
    assert_eq!(stuck_on(&vm, 0), [Why::NoMessage]);
}

#[test]
fn a_delivered_reply_from_a_remote_peer_lets_the_asker_finish() {
    let p = program(ASK);
    let (mut vm, b) = asker_waiting_for_remote(&p);

    // Deliveries that have no local recipient (or no known sender) are refused.
    assert!(!vm.deliver(0, b, "asker".into(), "answerer".into(), v("ask(2)")), "to a remote peer");
    assert!(!vm.deliver(b, 42, "answerer".into(), "asker".into(), v("reply(2)")), "to an unknown index");
    assert!(!vm.deliver(42, 0, "answerer".into(), "asker".into(), v("reply(2)")), "from an unknown index");
    assert_eq!(vm.in_flight(), 0);
    assert!(vm.take_outbox().is_empty());

    assert!(vm.deliver(b, 0, "answerer".into(), "asker".into(), v("reply(7)")));
    assert_eq!(vm.in_flight(), 1);
    assert_eq!(vm.report()[0].mailbox, [(Value::atom("b"), v("reply(7)"))]);
    // The delivery wakes the asker: it moves without a sweep.
    assert_eq!(run_woken(&mut vm), ["recv(b, a, reply(7))", "done(a)"]);
    assert!(vm.is_finished(0));
    assert_eq!(vm.in_flight(), 0);
    assert_eq!(vm.classify(), Ending::Success);
}

#[test]
fn a_remote_peer_without_a_role_leaves_discovery() {
    let p = program(
        "a(pinger, A) :: ping(1) => a(answerer, B) then ping(2) => a(answerer, C).\n\
         a(answerer, B) :: ping(N) <= a(pinger, A) then a(answerer, B).",
    );
    let mut vm = vm(&p, "a(pinger, a)");
    let b = vm.add_remote(Value::atom("b"));
    vm.set_remote_role(b, Some("answerer".into()));
    let first = vm.step_peer(0, None);
    assert!(matches!(first, lcc_runtime::vm::Attempted::Fired(_)), "{first:?}");
    assert_eq!(vm.take_outbox().len(), 1);

    vm.set_remote_role(b, None);
    let (trace, end) = run(&mut vm);
    assert!(trace.is_empty(), "the second send found a partner: {trace:?}");
    assert_eq!(end, RunEnd::Terminal(Ending::Deadlock));
    assert_eq!(stuck_on(&vm, 0), [Why::NoPartner("answerer".into())]);
    assert!(vm.take_outbox().is_empty());

    // Back in the role: the waiting pinger is woken and sends.
    vm.set_remote_role(b, Some("answerer".into()));
    assert_eq!(run_woken(&mut vm), ["send(a, b, ping(2))", "done(a)"]);
    assert_eq!(vm.take_outbox()[0].content, v("ping(2)"));
}

#[test]
fn report_and_classify_leave_remote_peers_out() {
    let p = program(ASK);
    let mut vm = vm(&p, "a(answerer, b)");
    let a = vm.add_remote(Value::atom("a"));
    vm.set_remote_role(a, Some("asker".into()));
    assert_eq!(vm.peer_count(), 2);

    let report = vm.report();
    assert_eq!(report.len(), 1, "{report:?}");
    assert_eq!(report[0].id, Value::atom("b"));
    assert_eq!(report[0].status, Status::Idle);
    assert_eq!(vm.classify(), Ending::Success);
    assert_eq!(run(&mut vm).1, RunEnd::Terminal(Ending::Success));

    // A question from the remote asker is answered by id: the reply goes to the outbox.
    assert!(vm.deliver(a, 0, "asker".into(), "answerer".into(), v("ask(3)")));
    let (trace, end) = run(&mut vm);
    assert_eq!(trace, ["recv(a, b, ask(3))", "send(b, a, reply(3))", "become(b, answerer)"]);
    // The local server is idle again; the reply still in the outbox is in flight.
    assert_eq!(end, RunEnd::Terminal(Ending::Orphans));
    let report = vm.report();
    assert_eq!(report.len(), 1, "{report:?}");
    assert_eq!(report[0].status, Status::Idle);
    assert_eq!(
        vm.take_outbox(),
        [Outgoing {
            from: Value::atom("b"),
            to: Value::atom("a"),
            from_role: "answerer".into(),
            to_role: "asker".into(),
            content: v("reply(3)"),
        }]
    );
    assert_eq!(vm.classify(), Ending::Success);
}

#[test]
fn active_roles_and_rest_follow_nested_calls_servers_and_blocked_peers() {
    // A nested (non-tail) role call: `outer` continues after `inner` returns.
    let p = program(
        "a(outer, X) :: a(inner, X) then fin(1) => a(sink, S).\n\
         a(inner, Y) :: go(N) <= a(feeder, Z).\n\
         a(sink, S) :: fin(N) <= a(outer, X).\n\
         a(feeder, F) :: go(1) => a(inner, I).",
    );
    let mut nested = vm(&p, "a(outer, o)");
    assert_eq!(nested.active_roles(0), ["outer"]);
    let entered = nested.step_peer(0, None);
    assert!(matches!(entered, lcc_runtime::vm::Attempted::Fired(_)), "{entered:?}");
    assert_eq!(nested.active_roles(0), ["outer", "inner"]);
    assert_eq!(nested.role_of(0), Some(Value::atom("inner")));

    let p = program(ASK);
    // A server at its first receive with an empty mailbox is at rest, and stays so after
    // serving a request (a tail role change does not nest).
    let mut local = vm(&p, "a(asker, a), a(answerer, b)");
    assert!(local.is_at_rest(1));
    assert_eq!(local.active_roles(1), ["answerer"]);
    assert!(!local.is_at_rest(0), "an asker about to send is not at rest");
    assert_eq!(run(&mut local).1, RunEnd::Terminal(Ending::Success));
    assert!(local.is_finished(0));
    assert!(local.is_at_rest(0), "a finished peer is at rest");
    assert!(local.active_roles(0).is_empty(), "a finished peer plays no role");
    assert!(local.is_at_rest(1));
    assert_eq!(local.active_roles(1), ["answerer"]);
    // A server with a message pending is not at rest.
    assert!(local.deliver(0, 1, "stranger".into(), "answerer".into(), v("ask(9)")));
    assert!(!local.is_at_rest(1));

    // A peer blocked mid-interaction (waiting for a reply) is not at rest.
    let (remote, b) = asker_waiting_for_remote(&p);
    assert!(!remote.is_at_rest(0));
    assert_eq!(remote.active_roles(0), ["asker"]);
    // A remote peer is neither at rest here nor playing roles here.
    assert!(!remote.is_at_rest(b));
    assert!(remote.active_roles(b).is_empty());
}

#[test]
fn abandon_restarts_a_blocked_peer_and_keeps_only_messages_for_its_role() {
    let p = program(ASK);
    let (mut vm, b) = asker_waiting_for_remote(&p);
    // Given up on while waiting for the reply: it is woken and asks again.
    assert!(vm.abandon(0, &Value::atom("asker")).unwrap().is_empty());
    assert_eq!(run_woken(&mut vm), ["send(a, b, ask(1))"]);
    assert_eq!(vm.take_outbox()[0].content, v("ask(1)"));
    assert!(!vm.is_at_rest(0));

    assert!(vm.deliver(b, 0, "answerer".into(), "other".into(), v("noise(1)")));
    assert!(vm.deliver(b, 0, "answerer".into(), "asker".into(), v("reply(5)")));

    let dropped = vm.abandon(0, &Value::atom("asker")).unwrap();
    assert_eq!(
        dropped,
        [Msg { from: b, from_role: "answerer".into(), to_role: "other".into(), content: v("noise(1)") }]
    );
    assert_eq!(vm.report()[0].mailbox, [(Value::atom("b"), v("reply(5)"))]);
    assert_eq!(vm.active_roles(0), ["asker"]);
    // It starts its role again from the start (it asks again), then takes the kept reply.
    assert_eq!(run_woken(&mut vm), ["send(a, b, ask(1))", "recv(b, a, reply(5))", "done(a)"]);
    assert_eq!(vm.take_outbox()[0].content, v("ask(1)"));
    assert!(vm.is_finished(0));
    assert_eq!(vm.classify(), Ending::Success);
}

#[test]
fn abandon_into_another_role_keeps_the_messages_for_that_role() {
    let p = program(ASK);
    let (mut vm, b) = asker_waiting_for_remote(&p);
    assert!(vm.deliver(b, 0, "answerer".into(), "asker".into(), v("reply(5)")));
    assert!(vm.deliver(b, 0, "asker".into(), "answerer".into(), v("ask(2)")));

    let dropped = vm.abandon(0, &Value::atom("answerer")).unwrap();
    assert_eq!(
        dropped,
        [Msg { from: b, from_role: "answerer".into(), to_role: "asker".into(), content: v("reply(5)") }]
    );
    assert_eq!(vm.active_roles(0), ["answerer"]);
    assert_eq!(vm.role_of(0), Some(Value::atom("answerer")));
    assert_eq!(vm.report()[0].mailbox, [(Value::atom("b"), v("ask(2)"))]);
    assert_eq!(run_woken(&mut vm), ["recv(b, a, ask(2))", "send(a, b, reply(2))", "become(a, answerer)"]);
    assert_eq!(vm.take_outbox()[0].content, v("reply(2)"));
    assert!(vm.is_at_rest(0));
}

#[test]
fn abandon_refuses_remote_and_unknown_peers_and_unknown_roles() {
    let p = program(ASK);
    let (mut vm, b) = asker_waiting_for_remote(&p);
    assert!(vm.deliver(b, 0, "answerer".into(), "asker".into(), v("reply(5)")));
    assert!(vm.abandon(b, &Value::atom("answerer")).is_err(), "a remote peer is not executed here");
    assert!(vm.abandon(42, &Value::atom("asker")).is_err());
    assert!(vm.abandon(0, &Value::atom("nosuch")).is_err());
    // A refused abandon leaves the peer as it was: still waiting, its reply still there.
    assert_eq!(vm.report()[0].mailbox, [(Value::atom("b"), v("reply(5)"))]);
    assert_eq!(run_woken(&mut vm), ["recv(b, a, reply(5))", "done(a)"]);
    assert!(vm.take_outbox().is_empty());
}

#[test]
fn add_remote_of_a_known_id_returns_its_index() {
    let p = program(ASK);
    let mut vm = vm(&p, "a(asker, a), a(answerer, b)");
    assert_eq!(vm.add_remote(Value::atom("b")), 1);
    assert_eq!(vm.peer_count(), 2);
    assert!(!vm.is_remote(1), "a local peer stays local");
    let c = vm.add_remote(Value::atom("c"));
    assert_eq!(c, 2);
    assert!(vm.is_remote(c));
    assert_eq!(vm.add_remote(Value::atom("c")), c);
    assert_eq!(vm.peer_count(), 3);
    assert_eq!(vm.report().len(), 2);
    // The local pair still runs as before.
    assert_eq!(run(&mut vm).1, RunEnd::Terminal(Ending::Success));
}
