//! The virtual machine: peers executing bytecode with the semantics of LCC.md section 5.
//!
//! A peer's state is a [`Frame`] (a clause activation: its role term, environment and
//! control) and a mailbox. The control of a frame is a small tree mirroring the model
//! checker's residuals: a program counter, the branches of a running `par` with the address
//! where they join, or a nested role call with the address it returns to. A role change in
//! tail position replaces the frame (no stack growth).
//!
//! One step executes one enabled event of one peer, atomically: a guard is solved, a message
//! is sent or taken, a role is entered. A committed choice (`or`) takes the first
//! alternative, in writing order, that can make a step; an alternative that cannot is not
//! remembered, so it is tried again on the next attempt.

use crate::abi::Registry;
use crate::bytecode::{ClauseCode, Goal, Instr, Program};
use crate::solve::{Failure, Notice, Solver};
use crate::terms::{Env, instantiate, unify};
use crate::value::{Action, Value, functor};
use lcc_check::mc::scenario::PeerSpec;
use lcc_syntax::ast::Span;
use smol_str::SmolStr;
use std::collections::{HashMap, VecDeque};

/// A message in flight, tagged as LCC.md section 5 says.
#[derive(Clone, Debug, PartialEq)]
pub struct Msg {
    /// Sender's peer index.
    pub from: usize,
    /// Role functors of sender and receiver.
    pub from_role: SmolStr,
    pub to_role: SmolStr,
    pub content: Value,
}

#[derive(Clone, Debug, PartialEq)]
enum Ctl {
    Done,
    At(u32),
    /// Running `par` branches (completed ones are `Done`), and the join address.
    Par(Vec<Ctl>, u32),
    /// A nested role call and the address it returns to.
    Call(Box<Frame>, u32),
}

/// A clause activation.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    clause: u32,
    /// The role term (`overloaded(3)`); its functor is the role.
    role: Value,
    functor: SmolStr,
    env: Env,
    ctl: Ctl,
}

/// Why an event cannot happen now.
#[derive(Clone, Debug, PartialEq)]
pub enum Why {
    /// A send by discovery with no other peer in that role.
    NoPartner(SmolStr),
    /// A send to an id that no peer has.
    NoPeer(Value),
    /// A receive with no matching message.
    NoMessage,
    /// The guard failed.
    Guard(Failure),
    /// A role change to a role with no clause of that arity, or whose head does not match.
    NoClause(SmolStr),
    /// A role change nested deeper than the VM allows.
    TooDeep(usize),
    /// Text that could not be parsed.
    Broken,
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Why::NoPartner(role) => write!(f, "no other peer is in role `{role}`"),
            Why::NoPeer(id) => write!(f, "no peer has the id {id}"),
            Why::NoMessage => f.write_str("no matching message"),
            Why::Guard(failure) => write!(f, "{failure}"),
            Why::NoClause(role) => write!(f, "role `{role}` has no clause that matches"),
            Why::TooDeep(depth) => write!(f, "role calls nested {depth} deep (the limit)"),
            Why::Broken => f.write_str("this part of the model could not be parsed"),
        }
    }
}

/// An event a peer is blocked on.
#[derive(Clone, Debug, PartialEq)]
pub struct Blocked {
    pub clause: u32,
    pub pc: u32,
    pub span: Span,
    pub why: Why,
}

/// One executed step.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub number: u64,
    pub peer: usize,
    pub clause: u32,
    pub pc: u32,
    /// The event executed.
    pub span: Span,
    /// What it did, as the model checker labels it (empty unless labels are recorded).
    pub actions: Vec<Action>,
}

/// Decides whether a candidate step (its actions, without `done`) may be taken: how a replay
/// makes the VM follow a given schedule.
pub type Filter<'f> = &'f mut dyn FnMut(&[Action]) -> bool;

/// The outcome of trying one peer.
#[derive(Clone, Debug, PartialEq)]
pub enum Attempted {
    Fired(Step),
    /// Some step was possible but the filter refused every one.
    Refused,
    /// Nothing is enabled.
    Disabled,
}

/// How a terminal configuration is classified (LCC.md section 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    Success,
    /// Success with undelivered messages.
    Orphans,
    Deadlock,
}

/// Where a peer is at the end of a run.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    Finished,
    /// Waiting at the first receive of its role with nothing pending: an idle server.
    Idle,
    Stuck(Vec<Blocked>),
    /// Still able to move (the run stopped at its step limit).
    Running,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PeerReport {
    pub id: Value,
    /// The current role term (of the innermost running role call).
    pub role: Value,
    pub status: Status,
    /// Messages waiting in its mailbox (`from`, content).
    pub mailbox: Vec<(Value, Value)>,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunEnd {
    Terminal(Ending),
    /// The step limit was reached with peers still able to move.
    Limit,
}

#[derive(Clone, Debug)]
pub struct Options {
    /// `Some`: seeded random scheduling (which peer, which branch of a `par`, which message,
    /// which discovered partner). `None`: round-robin, first-come first-served.
    pub seed: Option<u64>,
    /// The deepest nesting of role calls (non-tail role changes).
    pub max_depth: usize,
    /// Build the labels of steps (the actions); off for simulations that never read them.
    pub record: bool,
    /// Wake peers blocked on a constraint after any step that called a constraint (a step
    /// may have changed what providers answer). A simulation wakes them by its clock instead.
    pub wake_on_calls: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { seed: None, max_depth: 10_000, record: true, wake_on_calls: true }
    }
}

/// SplitMix64: small, fast and reproducible across platforms.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
    }
    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Peer {
    id: Value,
    /// A peer executed by another agent (see [`Vm::add_remote`]): never stepped here; what is
    /// sent to it goes to the outbox.
    remote: bool,
    frame: Frame,
    mailbox: Vec<Msg>,
    /// Reasons of the last attempt that found nothing enabled.
    blocked: Vec<Blocked>,
    /// What that attempt reported (the same reports from the next attempt are not repeated).
    reported: Vec<Notice>,
    asleep: bool,
}

/// What an attempt needs besides the frame being stepped.
struct Cx<'a, 'f> {
    program: &'a Program,
    registry: &'a mut Registry,
    me: usize,
    my_id: &'a Value,
    mailbox: &'a [Msg],
    roles: &'a [Option<SmolStr>],
    peers: &'a [Value],
    ids: &'a HashMap<Value, usize>,
    rng: Option<&'a mut Rng>,
    filter: Option<Filter<'f>>,
    notices: &'a mut Vec<Notice>,
    blocked: Vec<Blocked>,
    record: bool,
    max_depth: usize,
    depth: usize,
    looked_roles: bool,
    called_external: bool,
}

/// The effect of a fired event on the rest of the configuration.
struct Fired {
    clause: u32,
    pc: u32,
    actions: Vec<Action>,
    consumed: Option<usize>,
    sent: Option<(usize, Msg)>,
}

enum Try {
    Fired(Fired),
    Refused,
    Disabled,
}

pub struct Vm<'p> {
    program: &'p Program,
    pub registry: Registry,
    peers: Vec<Peer>,
    ids: HashMap<Value, usize>,
    peer_ids: Vec<Value>,
    /// Current role functor of every peer (`None` once finished).
    roles: Vec<Option<SmolStr>>,
    rng: Option<Rng>,
    options: Options,
    notices: Vec<Notice>,
    steps: u64,
    ready: VecDeque<usize>,
    waiting_roles: Vec<usize>,
    waiting_calls: Vec<usize>,
    /// Messages sent to remote peers, for the agent to carry.
    outbox: Vec<Outgoing>,
}

/// A message for a peer that another agent executes.
#[derive(Clone, Debug, PartialEq)]
pub struct Outgoing {
    pub from: Value,
    pub to: Value,
    pub from_role: SmolStr,
    pub to_role: SmolStr,
    pub content: Value,
}

/// A run that cannot start.
#[derive(Clone, Debug, PartialEq)]
pub struct StartError {
    pub message: String,
    pub help: Option<String>,
}

impl<'p> Vm<'p> {
    /// A VM with one peer per spec, each at the start of its initial role.
    pub fn new(
        program: &'p Program,
        specs: &[PeerSpec],
        registry: Registry,
        options: Options,
    ) -> Result<Vm<'p>, StartError> {
        let mut peers = Vec::new();
        let mut ids = HashMap::new();
        for spec in specs {
            let (name, arity) = spec.role.functor().unwrap_or(("", 0));
            let Some(role) = program.role_named(name) else {
                let roles: Vec<&str> = program.roles.iter().map(|r| r.name.as_str()).collect();
                return Err(StartError {
                    message: format!("peer {spec}: the model has no role `{name}`"),
                    help: Some(format!("the roles are: {}", roles.join(", "))),
                });
            };
            let Some(frame) = program
                .clause_for(role, arity)
                .and_then(|c| enter(program, c, &spec.role, &spec.id, &spec.id))
            else {
                return Err(StartError {
                    message: format!("peer {spec}: role `{name}` has no clause whose head matches it"),
                    help: None,
                });
            };
            if ids.insert(spec.id.clone(), peers.len()).is_some() {
                return Err(StartError { message: format!("two peers have the id {}", spec.id), help: None });
            }
            peers.push(Peer {
                id: spec.id.clone(),
                remote: false,
                frame,
                mailbox: Vec::new(),
                blocked: Vec::new(),
                reported: Vec::new(),
                asleep: false,
            });
        }
        let roles = peers.iter().map(|p| current_role(&p.frame)).collect();
        let peer_ids = peers.iter().map(|p| p.id.clone()).collect();
        let ready = (0..peers.len()).collect();
        Ok(Vm {
            program,
            registry,
            peers,
            ids,
            peer_ids,
            roles,
            rng: options.seed.map(Rng::new),
            options,
            notices: Vec::new(),
            steps: 0,
            ready,
            waiting_roles: Vec::new(),
            waiting_calls: Vec::new(),
            outbox: Vec::new(),
        })
    }

    pub fn program(&self) -> &'p Program {
        self.program
    }
    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }
    pub fn peer_id(&self, p: usize) -> Option<&Value> {
        self.peer_ids.get(p)
    }
    pub fn peer_index(&self, id: &Value) -> Option<usize> {
        self.ids.get(id).copied()
    }
    pub fn steps(&self) -> u64 {
        self.steps
    }
    /// Run-time errors and provider failures since the last call.
    pub fn take_notices(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.notices)
    }
    /// The current role term of a peer (its innermost running role call).
    pub fn role_of(&self, p: usize) -> Option<Value> {
        self.peers.get(p).map(|peer| innermost(&peer.frame).role.clone())
    }
    pub fn is_finished(&self, p: usize) -> bool {
        self.peers.get(p).is_some_and(|peer| peer.frame.ctl == Ctl::Done)
    }
    /// Messages in flight.
    pub fn in_flight(&self) -> usize {
        self.peers.iter().map(|p| p.mailbox.len()).sum::<usize>() + self.outbox.len()
    }

    /// Adds a peer that another agent executes (found in the role registry), or returns the
    /// index it already has. It is never stepped here: it takes part in discovery with the
    /// role [`Vm::set_remote_role`] gives it, and messages to it go to [`Vm::take_outbox`].
    pub fn add_remote(&mut self, id: Value) -> usize {
        if let Some(&p) = self.ids.get(&id) {
            return p;
        }
        let p = self.peers.len();
        self.ids.insert(id.clone(), p);
        self.peer_ids.push(id.clone());
        self.roles.push(None);
        self.peers.push(Peer {
            id,
            remote: true,
            frame: placeholder(),
            mailbox: Vec::new(),
            blocked: Vec::new(),
            reported: Vec::new(),
            asleep: true,
        });
        p
    }

    pub fn is_remote(&self, p: usize) -> bool {
        self.peers.get(p).is_some_and(|peer| peer.remote)
    }

    /// Sets the role a remote peer currently plays (`None`: none, it left discovery). Peers
    /// that waited for a partner in some role are woken when it changes.
    pub fn set_remote_role(&mut self, p: usize, role: Option<SmolStr>) {
        if !self.is_remote(p) || self.roles.get(p) == Some(&role) {
            return;
        }
        if let Some(slot) = self.roles.get_mut(p) {
            *slot = role;
        }
        for q in std::mem::take(&mut self.waiting_roles) {
            if let Some(peer) = self.peers.get_mut(q) {
                wake(peer, q, &mut self.ready);
            }
        }
    }

    /// Messages sent to remote peers since the last call.
    pub fn take_outbox(&mut self) -> Vec<Outgoing> {
        std::mem::take(&mut self.outbox)
    }

    /// Puts a message from peer `from` (local or remote) into the mailbox of local peer `to`
    /// and wakes it. False when `to` is not a local peer.
    pub fn deliver(
        &mut self,
        from: usize,
        to: usize,
        from_role: SmolStr,
        to_role: SmolStr,
        content: Value,
    ) -> bool {
        match self.peers.get_mut(to) {
            Some(peer) if !peer.remote && from < self.peer_ids.len() => {
                peer.mailbox.push(Msg { from, from_role, to_role, content });
                wake(peer, to, &mut self.ready);
                true
            }
            _ => false,
        }
    }

    /// The roles a local peer is playing: the role of every running role call, outermost
    /// first (a message addressed to one of them can be taken some day).
    pub fn active_roles(&self, p: usize) -> Vec<SmolStr> {
        fn walk(frame: &Frame, out: &mut Vec<SmolStr>) {
            if frame.ctl == Ctl::Done {
                return;
            }
            out.push(frame.functor.clone());
            fn calls<'a>(ctl: &'a Ctl, out: &mut Vec<&'a Frame>) {
                match ctl {
                    Ctl::Call(f, _) => out.push(f),
                    Ctl::Par(bs, _) => bs.iter().for_each(|b| calls(b, out)),
                    _ => {}
                }
            }
            let mut inner = Vec::new();
            calls(&frame.ctl, &mut inner);
            for f in inner {
                walk(f, out);
            }
        }
        let mut out = Vec::new();
        if let Some(peer) = self.peers.get(p).filter(|peer| !peer.remote) {
            walk(&peer.frame, &mut out);
        }
        out
    }

    /// Whether a local peer waits for nothing in particular: finished, or an idle server
    /// (at the first receive of its role with nothing pending).
    pub fn is_at_rest(&self, p: usize) -> bool {
        self.peers.get(p).is_some_and(|peer| {
            !peer.remote
                && (peer.frame.ctl == Ctl::Done
                    || (peer.mailbox.is_empty() && is_idle_server(self.program, &peer.frame)))
        })
    }

    /// Abandons what local peer `p` is doing and starts it afresh as `role`: the failure path
    /// of an interaction whose partner never answered. Messages in its mailbox addressed to
    /// roles it no longer plays are dropped and returned (for the log).
    pub fn abandon(&mut self, p: usize, role: &Value) -> Result<Vec<Msg>, StartError> {
        let program = self.program;
        let Some(peer) = self.peers.get_mut(p).filter(|peer| !peer.remote) else {
            return Err(StartError { message: format!("peer #{p} is not executed here"), help: None });
        };
        let (name, arity) = role.functor().unwrap_or(("", 0));
        let frame = program
            .role_named(name)
            .and_then(|r| program.clause_for(r, arity))
            .and_then(|c| enter(program, c, role, &peer.id, &peer.id))
            .ok_or_else(|| StartError {
                message: format!("peer {}: role {role} has no clause whose head matches it", peer.id),
                help: None,
            })?;
        let functor = frame.functor.clone();
        peer.frame = frame;
        peer.blocked.clear();
        peer.reported.clear();
        let (kept, dropped): (Vec<Msg>, Vec<Msg>) =
            std::mem::take(&mut peer.mailbox).into_iter().partition(|m| m.to_role == functor);
        peer.mailbox = kept;
        peer.asleep = true;
        wake(peer, p, &mut self.ready);
        // A fresh frame has no role call running: its own role is the current one.
        let role_after = Some(functor);
        if self.roles.get(p) != Some(&role_after) {
            if let Some(slot) = self.roles.get_mut(p) {
                *slot = role_after;
            }
            for q in std::mem::take(&mut self.waiting_roles) {
                if let Some(peer) = self.peers.get_mut(q) {
                    wake(peer, q, &mut self.ready);
                }
            }
        }
        Ok(dropped)
    }

    /// Tries to make one step of peer `p`. With a filter, a step is taken only if the filter
    /// accepts its actions (the other candidates of the same event are tried in turn); a
    /// refused step still counts as enabled, so committed choice is kept.
    pub fn step_peer(&mut self, p: usize, filter: Option<Filter<'_>>) -> Attempted {
        let has_filter = filter.is_some();
        let Some(peer) = self.peers.get_mut(p) else { return Attempted::Disabled };
        let mut frame = std::mem::replace(&mut peer.frame, placeholder());
        let mailbox = std::mem::take(&mut peer.mailbox);
        let my_id = peer.id.clone();
        let mut attempt_notices = Vec::new();
        let mut cx = Cx {
            program: self.program,
            registry: &mut self.registry,
            me: p,
            my_id: &my_id,
            mailbox: &mailbox,
            roles: &self.roles,
            peers: &self.peer_ids,
            ids: &self.ids,
            rng: self.rng.as_mut(),
            filter,
            notices: &mut attempt_notices,
            blocked: Vec::new(),
            record: self.options.record || has_filter,
            max_depth: self.options.max_depth,
            depth: 0,
            looked_roles: false,
            called_external: false,
        };
        let outcome = try_frame(&mut frame, &mut cx);
        let Cx { blocked, looked_roles, called_external, .. } = cx;
        fold_tail(self.program, &mut frame);
        let role_after = if frame.ctl == Ctl::Done { None } else { current_role(&frame) };
        let Some(peer) = self.peers.get_mut(p) else { return Attempted::Disabled };
        peer.frame = frame;
        peer.mailbox = mailbox;
        // A peer retried in the same situation fails in the same way: say it once.
        if matches!(outcome, Try::Disabled) && attempt_notices == peer.reported {
            attempt_notices.clear();
        } else {
            peer.reported =
                if matches!(outcome, Try::Disabled) { attempt_notices.clone() } else { Vec::new() };
        }
        self.notices.append(&mut attempt_notices);
        match outcome {
            Try::Fired(fired) => {
                peer.blocked.clear();
                if let Some(i) = fired.consumed
                    && i < peer.mailbox.len()
                {
                    peer.mailbox.remove(i);
                }
                let mut actions = fired.actions;
                if role_after.is_none() {
                    actions.push(Action::Done { peer: my_id.clone() });
                }
                let span = self.program.clause(fired.clause).map_or_else(Span::default, |c| c.span(fired.pc));
                self.steps += 1;
                if let Some((to, msg)) = fired.sent
                    && let Some(q) = self.peers.get_mut(to)
                {
                    if q.remote {
                        self.outbox.push(Outgoing {
                            from: my_id.clone(),
                            to: q.id.clone(),
                            from_role: msg.from_role,
                            to_role: msg.to_role,
                            content: msg.content,
                        });
                    } else {
                        q.mailbox.push(msg);
                        wake(q, to, &mut self.ready);
                    }
                }
                let role_changed = self.roles.get(p) != Some(&role_after);
                if let Some(slot) = self.roles.get_mut(p) {
                    *slot = role_after;
                }
                if role_changed {
                    for q in std::mem::take(&mut self.waiting_roles) {
                        if let Some(peer) = self.peers.get_mut(q) {
                            wake(peer, q, &mut self.ready);
                        }
                    }
                }
                if called_external && self.options.wake_on_calls {
                    for q in std::mem::take(&mut self.waiting_calls) {
                        if let Some(peer) = self.peers.get_mut(q) {
                            wake(peer, q, &mut self.ready);
                        }
                    }
                }
                Attempted::Fired(Step {
                    number: self.steps,
                    peer: p,
                    clause: fired.clause,
                    pc: fired.pc,
                    span,
                    actions,
                })
            }
            Try::Refused => Attempted::Refused,
            Try::Disabled => {
                peer.blocked = blocked;
                if looked_roles {
                    self.waiting_roles.push(p);
                }
                if called_external {
                    self.waiting_calls.push(p);
                }
                Attempted::Disabled
            }
        }
    }

    /// Marks every peer runnable (a simulation's clock tick: constraints may answer
    /// differently now).
    pub fn wake_all(&mut self) {
        for (i, peer) in self.peers.iter_mut().enumerate() {
            wake(peer, i, &mut self.ready);
        }
        self.waiting_calls.clear();
    }

    /// Runs until nothing is enabled or `limit` more steps were made, calling `on_step` after
    /// each step.
    pub fn run(&mut self, limit: u64, on_step: &mut dyn FnMut(&mut Vm<'p>, &Step)) -> RunEnd {
        let mut made = 0u64;
        loop {
            if made >= limit {
                return RunEnd::Limit;
            }
            let step = match self.next_ready() {
                Some(p) => self.step_ready(p),
                // Nothing is known to be runnable: try everyone once (a provider may answer
                // differently now); if nobody moves, the configuration is terminal.
                None => match self.sweep() {
                    Some(step) => Some(step),
                    None => return RunEnd::Terminal(self.classify()),
                },
            };
            if let Some(step) = step {
                made += 1;
                on_step(self, &step);
            }
        }
    }

    /// Runs until no peer can move (without the final sweep: peers blocked on constraints
    /// stay asleep until [`Vm::wake_all`]). For simulations driven by a clock.
    pub fn run_until_quiet(&mut self, limit: u64, on_step: &mut dyn FnMut(&mut Vm<'p>, &Step)) -> u64 {
        let mut made = 0u64;
        while made < limit {
            let Some(p) = self.next_ready() else { break };
            if let Some(step) = self.step_ready(p) {
                made += 1;
                on_step(self, &step);
            }
        }
        made
    }

    /// The next runnable peer: the oldest, or one at random under a seed.
    fn next_ready(&mut self) -> Option<usize> {
        match self.rng.as_mut() {
            Some(rng) if !self.ready.is_empty() => {
                let i = rng.below(self.ready.len());
                self.ready.swap_remove_back(i)
            }
            _ => self.ready.pop_front(),
        }
    }

    /// Steps a peer taken from the ready queue: it sleeps unless it moved.
    fn step_ready(&mut self, p: usize) -> Option<Step> {
        let peer = self.peers.get_mut(p)?;
        peer.asleep = true;
        if peer.frame.ctl == Ctl::Done {
            return None;
        }
        match self.step_peer(p, None) {
            Attempted::Fired(step) => {
                if let Some(peer) = self.peers.get_mut(p) {
                    wake(peer, p, &mut self.ready);
                }
                Some(step)
            }
            _ => None,
        }
    }

    /// Tries the unfinished peers in turn until one moves, and returns its step.
    fn sweep(&mut self) -> Option<Step> {
        for p in 0..self.peers.len() {
            if self.is_finished(p) {
                continue;
            }
            if let Attempted::Fired(step) = self.step_peer(p, None) {
                if let Some(peer) = self.peers.get_mut(p) {
                    wake(peer, p, &mut self.ready);
                }
                return Some(step);
            }
        }
        None
    }

    /// Classifies the current configuration as terminal (LCC.md section 5): success when
    /// every peer has finished or is an idle server with nothing pending.
    pub fn classify(&self) -> Ending {
        let mut success = true;
        for peer in self.peers.iter().filter(|p| !p.remote) {
            if peer.frame.ctl == Ctl::Done {
                continue;
            }
            if peer.mailbox.is_empty() && is_idle_server(self.program, &peer.frame) {
                continue;
            }
            success = false;
        }
        if !success {
            Ending::Deadlock
        } else if self.in_flight() == 0 {
            Ending::Success
        } else {
            Ending::Orphans
        }
    }

    /// The state of every peer.
    pub fn report(&self) -> Vec<PeerReport> {
        self.peers
            .iter()
            .filter(|peer| !peer.remote)
            .map(|peer| {
                let status = if peer.frame.ctl == Ctl::Done {
                    Status::Finished
                } else if peer.mailbox.is_empty() && is_idle_server(self.program, &peer.frame) {
                    Status::Idle
                } else if peer.asleep && !peer.blocked.is_empty() {
                    Status::Stuck(peer.blocked.clone())
                } else {
                    Status::Running
                };
                PeerReport {
                    id: peer.id.clone(),
                    role: innermost(&peer.frame).role.clone(),
                    status,
                    mailbox: peer
                        .mailbox
                        .iter()
                        .map(|m| {
                            (self.peer_ids.get(m.from).cloned().unwrap_or(Value::Unbound), m.content.clone())
                        })
                        .collect(),
                }
            })
            .collect()
    }
}

fn wake(peer: &mut Peer, index: usize, ready: &mut VecDeque<usize>) {
    if peer.asleep {
        peer.asleep = false;
        ready.push_back(index);
    }
}

fn placeholder() -> Frame {
    Frame { clause: 0, role: Value::Unbound, functor: SmolStr::default(), env: Vec::new(), ctl: Ctl::Done }
}

/// A new activation of `clause` for role term `role` and peer id `id` (`own` when `id` is
/// unbound); `None` when the head does not match. Mirrors the model checker's `enter`.
fn enter(program: &Program, clause: u32, role: &Value, id: &Value, own: &Value) -> Option<Frame> {
    let code = program.clause(clause)?;
    if !code.has_body() {
        return None;
    }
    let mut env: Env = vec![Value::Unbound; code.var_names.len()];
    let args: &[Value] = match role {
        Value::Compound(_, args) | Value::List(args) => args,
        _ => &[],
    };
    for (param, arg) in code.params.iter().zip(args) {
        if !unify(param, arg, &mut env) {
            return None;
        }
    }
    let id = if matches!(id, Value::Unbound) { own } else { id };
    if !unify(&code.self_id, id, &mut env) {
        return None;
    }
    let name = functor(role).cloned().unwrap_or_default();
    let role = if args.len() == code.params.len() {
        role.clone()
    } else if code.params.is_empty() {
        Value::Atom(name.clone())
    } else {
        Value::Compound(name.clone(), code.params.iter().map(|p| instantiate(p, &env)).collect())
    };
    let ctl = norm(code, Ctl::At(0));
    Some(Frame { clause, role, functor: name, env, ctl })
}

/// Follows jumps, opens forks and drops what has completed.
fn norm(code: &ClauseCode, ctl: Ctl) -> Ctl {
    match ctl {
        Ctl::At(mut pc) => {
            for _ in 0..=code.code.len() {
                match code.instr(pc) {
                    Some(Instr::Jump(t)) => pc = *t,
                    Some(Instr::End) | None => return Ctl::Done,
                    Some(Instr::Fork { branches, join }) => {
                        let bs = branches.iter().map(|&b| norm(code, Ctl::At(b))).collect();
                        return norm_par(code, bs, *join);
                    }
                    Some(_) => return Ctl::At(pc),
                }
            }
            Ctl::Done
        }
        Ctl::Par(bs, join) => norm_par(code, bs, join),
        Ctl::Call(inner, ret) => {
            if inner.ctl == Ctl::Done {
                norm(code, Ctl::At(ret))
            } else {
                Ctl::Call(inner, ret)
            }
        }
        Ctl::Done => Ctl::Done,
    }
}

fn norm_par(code: &ClauseCode, bs: Vec<Ctl>, join: u32) -> Ctl {
    let live = bs.iter().filter(|b| **b != Ctl::Done).count();
    if live == 0 {
        return norm(code, Ctl::At(join));
    }
    // One branch left and nothing after the `par`: it is the whole continuation (so that a
    // role change ending it folds as a tail call, as in the model checker).
    if live == 1 && norm(code, Ctl::At(join)) == Ctl::Done {
        return bs.into_iter().find(|b| *b != Ctl::Done).unwrap_or(Ctl::Done);
    }
    Ctl::Par(bs, join)
}

/// A frame whose whole control is a role call with nothing after it *is* that call (a tail
/// role change: no stack growth).
fn fold_tail(program: &Program, frame: &mut Frame) {
    loop {
        let Some(code) = program.clause(frame.clause) else { return };
        match &mut frame.ctl {
            Ctl::Call(inner, ret) if norm(code, Ctl::At(*ret)) == Ctl::Done => {
                let inner = std::mem::replace(&mut **inner, placeholder());
                *frame = inner;
            }
            _ => return,
        }
    }
}

fn innermost(frame: &Frame) -> &Frame {
    fn callee(ctl: &Ctl) -> Option<&Frame> {
        match ctl {
            Ctl::Call(f, _) => Some(f),
            Ctl::Par(bs, _) => bs.iter().find_map(callee),
            _ => None,
        }
    }
    let mut f = frame;
    while let Some(inner) = callee(&f.ctl) {
        f = inner;
    }
    f
}

fn current_role(frame: &Frame) -> Option<SmolStr> {
    Some(innermost(frame).functor.clone())
}

fn is_idle_server(program: &Program, frame: &Frame) -> bool {
    let f = innermost(frame);
    let Some(code) = program.clause(f.clause) else { return false };
    if norm(code, Ctl::At(0)) != f.ctl {
        return false;
    }
    let mut firsts = Vec::new();
    code.first_events(0, &mut firsts);
    !firsts.is_empty() && firsts.iter().all(|&pc| matches!(code.instr(pc), Some(Instr::Recv(_))))
}

fn try_frame(frame: &mut Frame, cx: &mut Cx<'_, '_>) -> Try {
    let Some(code) = cx.program.clause(frame.clause) else { return Try::Disabled };
    let outer_depth = cx.depth;
    let r = try_ctl(code, &mut frame.ctl, frame.clause, &frame.functor, &mut frame.env, cx);
    cx.depth = outer_depth;
    if let Try::Fired(_) = r {
        let ctl = std::mem::replace(&mut frame.ctl, Ctl::Done);
        frame.ctl = norm(code, ctl);
    }
    r
}

fn try_ctl(
    code: &ClauseCode,
    ctl: &mut Ctl,
    clause: u32,
    functor: &SmolStr,
    env: &mut Env,
    cx: &mut Cx<'_, '_>,
) -> Try {
    match ctl {
        Ctl::Done => Try::Disabled,
        Ctl::At(pc) => {
            let pc = *pc;
            match code.instr(pc) {
                Some(Instr::Choice(alts)) => {
                    for &alt in alts.iter() {
                        let mut c = norm(code, Ctl::At(alt));
                        match try_ctl(code, &mut c, clause, functor, env, cx) {
                            Try::Fired(f) => {
                                *ctl = c;
                                return Try::Fired(f);
                            }
                            Try::Refused => return Try::Refused,
                            Try::Disabled => {}
                        }
                    }
                    Try::Disabled
                }
                Some(Instr::Stuck) => {
                    cx.blocked.push(Blocked { clause, pc, span: code.span(pc), why: Why::Broken });
                    Try::Disabled
                }
                Some(_) => match try_event(code, pc, clause, functor, env, cx) {
                    EventTry::Fired(fired) => {
                        let (fired, new_env, callee) = *fired;
                        *env = new_env;
                        *ctl = match callee {
                            Some(frame) => Ctl::Call(Box::new(frame), pc + 1),
                            None => norm(code, Ctl::At(pc + 1)),
                        };
                        Try::Fired(fired)
                    }
                    EventTry::Refused => Try::Refused,
                    EventTry::Disabled => Try::Disabled,
                },
                None => Try::Disabled,
            }
        }
        Ctl::Par(bs, join) => {
            let n = bs.len();
            let start = cx.rng.as_mut().map_or(0, |r| r.below(n));
            let mut refused = false;
            for k in 0..n {
                let i = (start + k) % n;
                let Some(b) = bs.get_mut(i) else { continue };
                match try_ctl(code, b, clause, functor, env, cx) {
                    Try::Fired(f) => {
                        let taken = std::mem::take(bs);
                        *ctl = norm_par(code, taken, *join);
                        return Try::Fired(f);
                    }
                    Try::Refused => refused = true,
                    Try::Disabled => {}
                }
            }
            if refused { Try::Refused } else { Try::Disabled }
        }
        Ctl::Call(inner, ret) => {
            cx.depth += 1;
            let Some(inner_code) = cx.program.clause(inner.clause) else { return Try::Disabled };
            let inner = &mut **inner;
            let r = try_ctl(inner_code, &mut inner.ctl, inner.clause, &inner.functor, &mut inner.env, cx);
            if let Try::Fired(_) = r {
                fold_tail(cx.program, inner);
                if inner.ctl == Ctl::Done {
                    *ctl = norm(code, Ctl::At(*ret));
                }
            }
            r
        }
    }
}

enum EventTry {
    Fired(Box<(Fired, Env, Option<Frame>)>),
    Refused,
    Disabled,
}

/// What the continuation of a guard decided.
struct Found {
    env: Env,
    actions: Vec<Action>,
    consumed: Option<usize>,
    sent: Option<(usize, Msg)>,
    callee: Option<Frame>,
}

fn try_event(
    code: &ClauseCode,
    pc: u32,
    clause: u32,
    functor: &SmolStr,
    env: &Env,
    cx: &mut Cx<'_, '_>,
) -> EventTry {
    let Some(instr) = code.instr(pc) else { return EventTry::Disabled };
    let span = code.span(pc);
    let mut found: Option<Found> = None;
    let mut refused = false;
    let mut why: Option<Why> = None;
    let program = cx.program;
    let record = cx.record;
    let me = cx.me;
    let my_id = cx.my_id;
    let mut filter = cx.filter.take();
    let mut rng = cx.rng.take();
    let accept = |actions: &[Action], filter: &mut Option<Filter<'_>>| match filter {
        Some(f) => f(actions),
        None => true,
    };
    let mut notices = std::mem::take(cx.notices);
    let (looked_roles, called_external);
    {
        let mut solver = Solver {
            program,
            registry: cx.registry,
            peer: my_id,
            calls: Vec::new(),
            failure: None,
            notices: &mut notices,
            called_external: false,
            record,
        };
        let mut roles_looked = false;
        match instr {
            Instr::Null(guard) => {
                let mut k = |s: &mut Solver<'_>, e: Env| {
                    let actions = s.calls.clone();
                    if !accept(&actions, &mut filter) {
                        refused = true;
                        return false;
                    }
                    found = Some(Found { env: e, actions, consumed: None, sent: None, callee: None });
                    true
                };
                solve_guard(&mut solver, guard.as_ref(), env.clone(), &mut k);
            }
            Instr::Send(op) => {
                let roles = cx.roles;
                let ids = cx.ids;
                let peers = cx.peers;
                let mut k = |s: &mut Solver<'_>, e: Env| {
                    let target = instantiate(&op.id, &e);
                    let mut candidates: Vec<(usize, Env)> = Vec::new();
                    if matches!(target, Value::Unbound) {
                        roles_looked = true;
                        for (j, r) in roles.iter().enumerate() {
                            if j == me || r.as_ref() != Some(&op.role) {
                                continue;
                            }
                            let Some(id) = peers.get(j) else { continue };
                            let mut e2 = e.clone();
                            if unify(&op.id, id, &mut e2) {
                                candidates.push((j, e2));
                            }
                        }
                        if candidates.is_empty() {
                            why.get_or_insert(Why::NoPartner(op.role.clone()));
                            return false;
                        }
                        if let Some(r) = rng.as_mut() {
                            let k = r.below(candidates.len());
                            candidates.rotate_left(k);
                        }
                    } else {
                        match ids.get(&target) {
                            Some(&j) => candidates.push((j, e)),
                            None => {
                                why.get_or_insert(Why::NoPeer(target));
                                return false;
                            }
                        }
                    }
                    for (j, e) in candidates {
                        let content = instantiate(&op.message, &e);
                        let mut actions = s.calls.clone();
                        if record {
                            actions.push(Action::Send {
                                from: my_id.clone(),
                                to: peers.get(j).cloned().unwrap_or(Value::Unbound),
                                msg: content.clone(),
                            });
                        }
                        if !accept(&actions, &mut filter) {
                            refused = true;
                            continue;
                        }
                        let msg =
                            Msg { from: me, from_role: functor.clone(), to_role: op.role.clone(), content };
                        found = Some(Found {
                            env: e,
                            actions,
                            consumed: None,
                            sent: Some((j, msg)),
                            callee: None,
                        });
                        return true;
                    }
                    false
                };
                solve_guard(&mut solver, op.guard.as_ref(), env.clone(), &mut k);
            }
            Instr::Recv(op) => {
                let mailbox = cx.mailbox;
                let peers = cx.peers;
                let n = mailbox.len();
                let start = rng.as_mut().map_or(0, |r| r.below(n));
                let mut matched = false;
                for k in 0..n {
                    let i = (start + k) % n;
                    let Some(msg) = mailbox.get(i) else { continue };
                    if msg.to_role != *functor || msg.from_role != op.role {
                        continue;
                    }
                    let Some(sender) = peers.get(msg.from) else { continue };
                    let mut e = env.clone();
                    if !unify(&op.id, sender, &mut e) || !unify(&op.message, &msg.content, &mut e) {
                        continue;
                    }
                    matched = true;
                    let mut k = |s: &mut Solver<'_>, e: Env| {
                        let mut actions = Vec::new();
                        if record {
                            actions.push(Action::Recv {
                                from: sender.clone(),
                                to: my_id.clone(),
                                msg: msg.content.clone(),
                            });
                        }
                        actions.extend(s.calls.iter().cloned());
                        if !accept(&actions, &mut filter) {
                            refused = true;
                            return false;
                        }
                        found = Some(Found { env: e, actions, consumed: Some(i), sent: None, callee: None });
                        true
                    };
                    if solve_guard(&mut solver, op.guard.as_ref(), e, &mut k) {
                        break;
                    }
                }
                if !matched {
                    why = Some(Why::NoMessage);
                }
            }
            Instr::Become(op) => {
                let depth = cx.depth;
                let max_depth = cx.max_depth;
                let mut k = |s: &mut Solver<'_>, e: Env| {
                    let args: Vec<Value> = op.args.iter().map(|a| instantiate(a, &e)).collect();
                    let role = if args.is_empty() {
                        Value::Atom(op.role_name.clone())
                    } else {
                        Value::Compound(op.role_name.clone(), args)
                    };
                    let arity = op.args.len();
                    let id = instantiate(&op.id, &e);
                    let frame = op
                        .role
                        .and_then(|r| program.clause_for(r, arity))
                        .and_then(|c| enter(program, c, &role, &id, my_id));
                    let Some(frame) = frame else {
                        why.get_or_insert(Why::NoClause(op.role_name.clone()));
                        return false;
                    };
                    // A frame just entered has no call of its own yet: one level more.
                    if depth + 1 > max_depth {
                        why.get_or_insert(Why::TooDeep(max_depth));
                        return false;
                    }
                    let mut actions = s.calls.clone();
                    if record {
                        actions.push(Action::Become { peer: my_id.clone(), role: frame.role.clone() });
                    }
                    if !accept(&actions, &mut filter) {
                        refused = true;
                        return false;
                    }
                    found = Some(Found { env: e, actions, consumed: None, sent: None, callee: Some(frame) });
                    true
                };
                solve_guard(&mut solver, op.guard.as_ref(), env.clone(), &mut k);
            }
            Instr::Choice(_) | Instr::Fork { .. } | Instr::Jump(_) | Instr::End | Instr::Stuck => {}
        }
        if found.is_none() && why.is_none() {
            why = solver.failure.take().map(Why::Guard);
        }
        looked_roles = roles_looked;
        called_external = solver.called_external;
    }
    *cx.notices = notices;
    cx.filter = filter;
    cx.rng = rng;
    cx.looked_roles |= looked_roles;
    cx.called_external |= called_external;
    match found {
        Some(f) => EventTry::Fired(Box::new((
            Fired { clause, pc, actions: f.actions, consumed: f.consumed, sent: f.sent },
            f.env,
            f.callee,
        ))),
        None if refused => EventTry::Refused,
        None => {
            if let Some(why) = why {
                cx.blocked.push(Blocked { clause, pc, span, why });
            }
            EventTry::Disabled
        }
    }
}

fn solve_guard<'a>(
    solver: &mut Solver<'a>,
    guard: Option<&Goal>,
    env: Env,
    k: &mut crate::solve::Cont<'_, 'a>,
) -> bool {
    match guard {
        None => k(solver, env),
        Some(g) => solver.solve(g, env, k),
    }
}
