//! The transition system of a model under a scenario (LCC.md section 5).
//!
//! A peer's local state is a [`Frame`]: its role term, its clause, its variable environment
//! and the residual of the clause body still to run ([`Res`]). Frames, residuals,
//! environments, messages and step labels are interned in [`Tables`], so a configuration is
//! a short vector of integers: one frame id per peer, then the in-flight messages, each as
//! `(recipient << 24) | message id`, sorted. Equal configurations therefore have equal words.
//!
//! [`System::local_steps`] computes what one peer can do in a configuration; the explorer
//! caches the answer per (peer, frame, pending messages[, roles of the others]), so the
//! clause interpretation below runs once per distinct local situation, not per state.

use super::scenario::{Behaviour, Bounds, Scenario};
use super::term::{Number, TermData, TermId, Terms, UNBOUND, UNKNOWN, apply, compare_numbers};
use super::value::{Action, Value};
use crate::ir::{self, ClauseId, Cond, NodeKind};
use lcc_syntax::ast::{CmpOp, Span};
use smol_str::SmolStr;
use std::collections::HashMap;
use std::hash::Hash;

macro_rules! id {
    ($name:ident) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);
    };
}
id!(NodeIdx);
id!(ResId);
id!(EnvId);
id!(FrameId);
id!(MsgId);
id!(LabelId);

/// An interning table: every distinct value once, named by its index.
#[derive(Debug)]
pub struct Interner<T> {
    items: Vec<T>,
    index: HashMap<T, u32>,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Interner { items: Vec::new(), index: HashMap::new() }
    }
}

impl<T> Interner<T> {
    pub fn get(&self, id: u32) -> Option<&T> {
        self.items.get(id as usize)
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl<T: Hash + Eq + Clone> Interner<T> {
    pub fn intern(&mut self, item: T) -> u32 {
        if let Some(&id) = self.index.get(&item) {
            return id;
        }
        let id = u32::try_from(self.items.len()).unwrap_or(u32::MAX);
        self.items.push(item.clone());
        self.index.insert(item, id);
        id
    }
}

/// What is left to run of a clause body.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Res {
    Done,
    /// A node not started yet: an event or an `or` (the others are unfolded on the spot).
    Start(NodeIdx),
    /// Running child `pos` of the `then` node, whose residual is `cur`.
    Then {
        cur: ResId,
        node: NodeIdx,
        pos: u32,
    },
    /// The unfinished branches of a `par`.
    Par(Box<[ResId]>),
    /// A nested role change: the callee's frame runs, then this residual is done.
    Callee(FrameId),
    /// An event whose guard failed for good (an abstract constraint chose to fail): it never
    /// moves again.
    Blocked(NodeIdx),
}

/// A clause activation: the local state of a peer (and of each nested role call).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    /// The role term (`overloaded('?')`): its functor is the role.
    pub role: TermId,
    pub clause: ClauseId,
    pub env: EnvId,
    pub res: ResId,
}

/// An in-flight message, tagged as LCC.md section 5 says.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Msg {
    pub from: u8,
    pub to: u8,
    /// Role functors (atoms) of sender and receiver.
    pub from_role: TermId,
    pub to_role: TermId,
    pub content: TermId,
}

/// Packs a message into a configuration word: recipient first, so that sorted mailboxes are
/// grouped by recipient.
pub fn msg_word(to: u8, msg: MsgId) -> u32 {
    (u32::from(to) << 24) | (msg.0 & 0x00ff_ffff)
}
pub fn word_recipient(word: u32) -> u8 {
    (word >> 24) as u8
}
pub fn word_msg(word: u32) -> MsgId {
    MsgId(word & 0x00ff_ffff)
}
/// Message ids must fit the 24 bits of a configuration word.
pub const MAX_MESSAGES: usize = 1 << 24;

/// Every interned value of one verification run.
#[derive(Debug, Default)]
pub struct Tables {
    pub terms: Terms,
    pub envs: Interner<Box<[TermId]>>,
    pub res: Interner<Res>,
    pub frames: Interner<Frame>,
    pub msgs: Interner<Msg>,
    pub labels: Interner<Vec<Action>>,
}

impl Tables {
    fn res(&self, id: ResId) -> Res {
        self.res.get(id.0).cloned().unwrap_or(Res::Done)
    }
    pub fn frame(&self, id: FrameId) -> Option<&Frame> {
        self.frames.get(id.0)
    }
    pub fn env(&self, id: EnvId) -> &[TermId] {
        self.envs.get(id.0).map(|e| &e[..]).unwrap_or(&[])
    }
    pub fn msg(&self, id: MsgId) -> Option<&Msg> {
        self.msgs.get(id.0)
    }
    pub fn label(&self, id: LabelId) -> &[Action] {
        self.labels.get(id.0).map(Vec::as_slice).unwrap_or(&[])
    }
    fn intern_res(&mut self, res: Res) -> ResId {
        ResId(self.res.intern(res))
    }
    fn intern_env(&mut self, env: Vec<TermId>) -> EnvId {
        EnvId(self.envs.intern(env.into_boxed_slice()))
    }
}

/// Why a peer cannot move (for deadlock reports).
#[derive(Clone, Debug, PartialEq)]
pub enum Why {
    /// A send to `a(role, _)` with no other peer currently in that role.
    NoPartner { node: NodeIdx, role: SmolStr },
    /// A send to a fixed id that no peer has.
    NoPeer { node: NodeIdx, id: TermId },
    /// A receive with no matching message in the mailbox.
    NoMessage { node: NodeIdx },
    /// The guard cannot hold (it failed, or an abstract constraint chose to fail).
    /// `soft`: only because of `'?'` (never a failure for good, see `Solved::soft`).
    /// `call`: the external constraint call that failed, when it was one.
    GuardFailed { node: NodeIdx, cond: Span, detail: String, call: Option<Value>, soft: bool },
    /// A role change to a role with no clause of that arity.
    NoClause { node: NodeIdx },
}

impl Why {
    pub fn node(&self) -> NodeIdx {
        match self {
            Why::NoPartner { node, .. }
            | Why::NoPeer { node, .. }
            | Why::NoMessage { node }
            | Why::GuardFailed { node, .. }
            | Why::NoClause { node } => *node,
        }
    }
    fn is_failure(&self) -> bool {
        matches!(self, Why::GuardFailed { soft: false, .. } | Why::NoClause { .. })
    }
}

/// One thing a peer can do in a configuration: its next frame and its effect on mailboxes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LocalStep {
    pub next: FrameId,
    /// The message word consumed from this peer's mailbox.
    pub consumed: Option<u32>,
    /// The message word put in flight.
    pub sent: Option<u32>,
    pub label: LabelId,
    /// The event executed (for traces).
    pub node: NodeIdx,
    /// The event's guard failed for good in this step (it never happens).
    pub failed: bool,
}

/// The answer of [`System::local_steps`].
#[derive(Clone, Debug, Default)]
pub struct LocalSteps {
    pub steps: Vec<LocalStep>,
    /// Whether the answer depends on the roles of the other peers (a discovery send).
    pub used_roles: bool,
    /// A step was dropped because the recursion bound was reached.
    pub recursion_bound: bool,
    /// Every step is independent of every step of the other peers: computing them looked at
    /// no mailbox and no other peer's role, none sends or receives, and none changes this
    /// peer's role from or to a role that some send discovers. Such a set of steps is a
    /// stubborn set: exploring only it preserves every reachable terminal configuration and
    /// its distance from the start (the explorer's partial-order reduction).
    pub independent: bool,
}

/// What computing a peer's steps looked at besides its own frame.
#[derive(Clone, Copy, Debug, Default)]
pub struct Looked {
    /// The current roles of the other peers (a discovery send).
    pub roles: bool,
    /// Its mailbox (a receive).
    pub mail: bool,
}

/// A compiled IR node.
#[derive(Clone, Debug)]
pub struct CNode<'m> {
    pub clause: ClauseId,
    pub ir: &'m ir::Node,
    pub children: Vec<NodeIdx>,
}

/// A peer of the scenario.
#[derive(Clone, Debug)]
pub struct Peer {
    pub id: TermId,
    pub name: Value,
    pub initial: FrameId,
}

/// How an external constraint behaves in this run.
#[derive(Clone, Debug)]
enum Rule {
    Any,
    Succeeds,
    Fails,
    Table(Vec<Vec<TermId>>),
}

/// A model compiled against one scenario.
#[derive(Debug)]
pub struct System<'m> {
    pub model: &'m ir::Model,
    pub nodes: Vec<CNode<'m>>,
    clause_root: Vec<Option<NodeIdx>>,
    pub peers: Vec<Peer>,
    rules: Vec<Rule>,
    pub bounds: Bounds,
    /// Roles that some send addresses by discovery (`a(R, I)` with `I` a variable).
    discoverable: std::collections::HashSet<SmolStr>,
}

/// A configuration error of the scenario against the model.
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioMismatch {
    pub message: String,
    pub help: Option<String>,
}

/// Where the step function looks at the rest of the configuration.
pub struct Context<'a> {
    pub peer: usize,
    /// This peer's in-flight messages (configuration words), sorted.
    pub pending: &'a [u32],
    /// The current role functor of every peer (`None` for a finished or blocked peer).
    pub roles: &'a [Option<TermId>],
}

struct Partial {
    res: ResId,
    env: Vec<TermId>,
    consumed: Option<u32>,
    sent: Option<u32>,
    actions: Vec<Action>,
    node: NodeIdx,
    /// The step in which a guard fails for good.
    failed: bool,
}

#[derive(Default)]
struct Enumerated {
    steps: Vec<Partial>,
    /// A world in which nothing here can move, and why.
    disabled: Option<Why>,
}

struct Solution {
    env: Vec<TermId>,
    calls: Vec<Action>,
}

/// Why a guard may fail: a description, and the external call that failed when it was one.
#[derive(Clone, Debug, Default)]
struct Failure {
    detail: String,
    call: Option<Value>,
}

impl Failure {
    fn new(detail: impl Into<String>) -> Option<Failure> {
        Some(Failure { detail: detail.into(), call: None })
    }
}

#[derive(Default)]
struct Solved {
    sols: Vec<Solution>,
    fail: Option<Failure>,
    /// The failure comes only from `'?'` (an unknown value may or may not satisfy a test):
    /// both outcomes are explored, but it never makes a peer stuck for good, since the
    /// complementary test of another alternative would then hold.
    soft: bool,
}

impl Solved {
    fn fail(detail: impl Into<String>) -> Solved {
        Solved { sols: Vec::new(), fail: Failure::new(detail), soft: false }
    }
    fn one(env: Vec<TermId>) -> Solved {
        Solved { sols: vec![Solution { env, calls: Vec::new() }], fail: None, soft: false }
    }
}

enum Arith {
    Num(Number),
    Unknown,
    Unbound,
    NotNumber,
}

impl<'m> System<'m> {
    /// Compiles `model` for `scenario`. Fails when the scenario names roles or constraints
    /// that the model does not have.
    pub fn new(
        model: &'m ir::Model,
        scenario: &Scenario,
        tables: &mut Tables,
    ) -> Result<System<'m>, ScenarioMismatch> {
        let mut sys = System {
            model,
            nodes: Vec::new(),
            clause_root: Vec::new(),
            peers: Vec::new(),
            rules: Vec::new(),
            bounds: scenario.bounds,
            discoverable: std::collections::HashSet::new(),
        };
        // Role functors are looked up (not interned) when reading configurations, from several
        // workers: intern them all up front so that the lookup never misses.
        for role in &model.roles {
            tables.terms.atom(&role.name);
        }
        for (i, clause) in model.clauses.iter().enumerate() {
            let root = clause.body.as_ref().map(|body| sys.compile(ClauseId::from_index(i), body));
            sys.clause_root.push(root);
        }
        for sig in &model.constraints {
            let rule = scenario
                .constraints
                .iter()
                .rev()
                .find(|r| r.name == sig.name && r.arity == sig.arity)
                .map(|r| match &r.behaviour {
                    Behaviour::Any => Rule::Any,
                    Behaviour::Succeeds => Rule::Succeeds,
                    Behaviour::Fails => Rule::Fails,
                    Behaviour::Table(rows) => Rule::Table(
                        rows.iter()
                            .map(|row| row.iter().map(|v| tables.terms.from_value(v)).collect())
                            .collect(),
                    ),
                })
                .unwrap_or(if sig.total { Rule::Succeeds } else { Rule::Any });
            sys.rules.push(rule);
        }
        for rule in &scenario.constraints {
            if !model.constraints.iter().any(|c| c.name == rule.name && c.arity == rule.arity) {
                return Err(ScenarioMismatch {
                    message: format!("the model calls no external constraint `{}/{}`", rule.name, rule.arity),
                    help: Some(constraint_list(model)),
                });
            }
        }
        if scenario.peers.len() > 255 {
            return Err(ScenarioMismatch {
                message: format!("{} peers: the model checker handles at most 255", scenario.peers.len()),
                help: None,
            });
        }
        for spec in &scenario.peers {
            let id = tables.terms.from_value(&spec.id);
            let role = tables.terms.from_value(&spec.role);
            let (name, arity) = spec.role.functor().unwrap_or(("", 0));
            let Some(role_id) = model.role_named(name) else {
                return Err(ScenarioMismatch {
                    message: format!("peer {spec}: the model has no role `{name}`"),
                    help: Some(format!(
                        "the roles are: {}",
                        model.roles.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")
                    )),
                });
            };
            let Some(clause) = sys.clause_for(role_id, arity) else {
                return Err(ScenarioMismatch {
                    message: format!("peer {spec}: role `{name}` has no clause with {arity} argument(s)"),
                    help: None,
                });
            };
            let Some(frame) = sys.enter(tables, clause, role, id, id) else {
                return Err(ScenarioMismatch {
                    message: format!("peer {spec}: its role term does not match the head of clause `{name}`"),
                    help: None,
                });
            };
            if sys.peers.iter().any(|p| p.id == id) {
                return Err(ScenarioMismatch {
                    message: format!("two peers have the id {}", spec.id),
                    help: None,
                });
            }
            sys.peers.push(Peer { id, name: spec.id.clone(), initial: frame });
        }
        Ok(sys)
    }

    fn compile(&mut self, clause: ClauseId, node: &'m ir::Node) -> NodeIdx {
        let idx = NodeIdx(u32::try_from(self.nodes.len()).unwrap_or(u32::MAX));
        self.nodes.push(CNode { clause, ir: node, children: Vec::new() });
        let children = match &node.kind {
            NodeKind::Then(cs) | NodeKind::Or(cs) | NodeKind::Par(cs) => {
                cs.iter().map(|c| self.compile(clause, c)).collect()
            }
            _ => Vec::new(),
        };
        if let Some(n) = self.nodes.get_mut(idx.0 as usize) {
            n.children = children;
        }
        if let NodeKind::Send { to, .. } = &node.kind
            && matches!(to.id, ir::Term::Var(..) | ir::Term::Anon(_))
        {
            self.discoverable.insert(to.role_name.clone());
        }
        idx
    }

    pub fn node(&self, idx: NodeIdx) -> Option<&CNode<'m>> {
        self.nodes.get(idx.0 as usize)
    }

    fn clause_for(&self, role: ir::RoleId, arity: usize) -> Option<ClauseId> {
        let r = self.model.role(role)?;
        let with_body = |c: &&ClauseId| self.model.clause(**c).is_some_and(|c| c.body.is_some());
        r.clauses
            .iter()
            .filter(with_body)
            .find(|&&c| self.model.clause(c).is_some_and(|c| c.params.len() == arity))
            .or_else(|| if arity == 0 { r.clauses.iter().find(with_body) } else { None })
            .copied()
    }

    /// A new activation of `clause` for role term `role` (whose arguments unify with the
    /// head's parameters) and peer id `id`. `None` when the head does not match.
    fn enter(
        &self,
        t: &mut Tables,
        clause: ClauseId,
        role: TermId,
        id: TermId,
        own_id: TermId,
    ) -> Option<FrameId> {
        let c = self.model.clause(clause)?;
        let mut env = vec![UNBOUND; c.vars.len()];
        let args: Vec<TermId> = t.terms.args(role).to_vec();
        for (param, &arg) in c.params.iter().zip(args.iter()) {
            env = self.unify(t, param, arg, env)?;
        }
        let id = if id == UNBOUND { own_id } else { id };
        env = self.unify(t, &c.self_id, id, env)?;
        // Unbound parameters (a role entered as `a(r, Id)` without arguments) stay unbound.
        let role = if args.len() == c.params.len() {
            role
        } else {
            let name = t.terms.functor(role).cloned().unwrap_or_default();
            if c.params.is_empty() {
                t.terms.intern(TermData::Atom(name))
            } else {
                let args = c.params.iter().map(|p| self.instantiate(t, p, &env)).collect();
                t.terms.intern(TermData::Compound(name, args))
            }
        };
        let root = self.clause_root.get(clause.index()).copied().flatten()?;
        let start = t.intern_res(Res::Start(root));
        let res = self.norm(t, start);
        let env = t.intern_env(env);
        Some(self.intern_frame(t, Frame { role, clause, env, res }))
    }

    /// Interns a frame, folding a tail role change: a frame whose whole residual is a callee
    /// *is* that callee (no stack growth, LCC.md section 5).
    fn intern_frame(&self, t: &mut Tables, mut frame: Frame) -> FrameId {
        while let Res::Callee(inner) = t.res(frame.res) {
            match t.frame(inner) {
                Some(f) => frame = f.clone(),
                None => break,
            }
        }
        FrameId(t.frames.intern(frame))
    }

    /// Unfolds `then` and `par` so that a residual starts at events and choices; drops what
    /// has completed.
    fn norm(&self, t: &mut Tables, res: ResId) -> ResId {
        match t.res(res) {
            Res::Start(n) => {
                let Some(node) = self.node(n) else { return res };
                match &node.ir.kind {
                    NodeKind::Then(_) => {
                        let Some(&first) = node.children.first() else { return t.intern_res(Res::Done) };
                        let cur = t.intern_res(Res::Start(first));
                        let cur = self.norm(t, cur);
                        let then = t.intern_res(Res::Then { cur, node: n, pos: 0 });
                        self.norm(t, then)
                    }
                    NodeKind::Par(_) => {
                        let branches: Vec<ResId> = node
                            .children
                            .clone()
                            .into_iter()
                            .map(|c| {
                                let r = t.intern_res(Res::Start(c));
                                self.norm(t, r)
                            })
                            .collect();
                        let par = t.intern_res(Res::Par(branches.into_boxed_slice()));
                        self.norm(t, par)
                    }
                    NodeKind::Error => t.intern_res(Res::Blocked(n)),
                    _ => res,
                }
            }
            Res::Then { cur, node, pos } => {
                let next = self.node(node).and_then(|n| n.children.get(pos as usize + 1)).copied();
                if next.is_none() {
                    // The last child: nothing follows, so the residual is the child's own (this
                    // is what lets a role change at the end of a `then` fold as a tail call).
                    return cur;
                }
                if t.res(cur) != Res::Done {
                    return res;
                }
                match next {
                    Some(child) => {
                        let cur = t.intern_res(Res::Start(child));
                        let cur = self.norm(t, cur);
                        let then = t.intern_res(Res::Then { cur, node, pos: pos + 1 });
                        self.norm(t, then)
                    }
                    None => t.intern_res(Res::Done),
                }
            }
            Res::Par(branches) => {
                let live: Vec<ResId> = branches.iter().copied().filter(|&b| t.res(b) != Res::Done).collect();
                match live.len() {
                    0 => t.intern_res(Res::Done),
                    1 => live.first().copied().unwrap_or(res),
                    n if n == branches.len() => res,
                    _ => t.intern_res(Res::Par(live.into_boxed_slice())),
                }
            }
            Res::Callee(f) => {
                if t.frame(f).is_some_and(|f| t.res(f.res) == Res::Done) {
                    t.intern_res(Res::Done)
                } else {
                    res
                }
            }
            Res::Done | Res::Blocked(_) => res,
        }
    }

    /// Everything peer `cx.peer` in frame `frame` can do next.
    pub fn local_steps(&self, t: &mut Tables, frame: FrameId, cx: &Context<'_>) -> LocalSteps {
        let mut looked = Looked::default();
        let e = self.frame_enum(t, frame, cx, false, &mut looked);
        let mut out = LocalSteps { used_roles: looked.roles, ..LocalSteps::default() };
        let role_before = self.current_role(t, frame);
        let own = self.peers.get(cx.peer).map(|p| p.id).unwrap_or(UNBOUND);
        for p in e.steps {
            let Some(old) = t.frame(frame).cloned() else { continue };
            let env = t.intern_env(p.env);
            let next = self.intern_frame(t, Frame { env, res: p.res, ..old });
            // Nested (non-tail) role calls are bounded: the whole chain of this peer counts.
            if self.depth(t, next) > self.bounds.recursion as usize {
                out.recursion_bound = true;
                continue;
            }
            let mut actions = p.actions;
            if self.is_done(t, next) {
                actions.push(Action::Done { peer: t.terms.to_value(own) });
            }
            let label = LabelId(t.labels.intern(actions));
            out.steps.push(LocalStep {
                next,
                consumed: p.consumed,
                sent: p.sent,
                label,
                node: p.node,
                failed: p.failed,
            });
        }
        out.steps.sort_by_key(|s| (s.node, s.next, s.consumed, s.sent, s.label));
        out.steps.dedup();
        // Independent of every other peer: neither looks at nor changes mailboxes or the
        // roles others discover (see `LocalSteps::independent`).
        let discoverable = |role: Option<TermId>| {
            role.and_then(|r| t.terms.functor(r)).is_some_and(|name| self.discoverable.contains(name))
        };
        out.independent = !looked.roles
            && !looked.mail
            && !out.recursion_bound
            && out.steps.iter().all(|s| {
                let role_after = if self.is_done(t, s.next) { None } else { self.current_role(t, s.next) };
                s.sent.is_none()
                    && s.consumed.is_none()
                    && (role_after == role_before || !(discoverable(role_before) || discoverable(role_after)))
            });
        out
    }

    /// Why the peer cannot move, if it cannot (for deadlock reports): one reason per
    /// blocked event.
    pub fn why_stuck(&self, t: &mut Tables, frame: FrameId, cx: &Context<'_>) -> Vec<Why> {
        let mut used = Looked::default();
        let Some(f) = t.frame(frame).cloned() else { return Vec::new() };
        let mut out = Vec::new();
        self.collect_why(t, f.res, t.env(f.env).to_vec(), &f, cx, &mut used, &mut out);
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn collect_why(
        &self,
        t: &mut Tables,
        res: ResId,
        env: Vec<TermId>,
        frame: &Frame,
        cx: &Context<'_>,
        used: &mut Looked,
        out: &mut Vec<Why>,
    ) {
        match t.res(res) {
            Res::Par(branches) => {
                for b in branches.iter() {
                    self.collect_why(t, *b, env.clone(), frame, cx, used, out);
                }
            }
            Res::Then { cur, .. } => self.collect_why(t, cur, env, frame, cx, used, out),
            Res::Callee(f) => {
                if let Some(inner) = t.frame(f).cloned() {
                    let env = t.env(inner.env).to_vec();
                    self.collect_why(t, inner.res, env, &inner, cx, used, out);
                }
            }
            Res::Blocked(node) => out.push(self.blocked_why(node)),
            Res::Done => {}
            Res::Start(_) => {
                let e = self.enumerate(t, res, &env, frame, cx, true, used);
                if let Some(why) = e.disabled {
                    out.push(why);
                }
            }
        }
    }

    fn blocked_why(&self, node: NodeIdx) -> Why {
        let cond = self.node(node).and_then(|n| n.ir.kind.guard()).map(Cond::span).unwrap_or_default();
        Why::GuardFailed {
            node,
            cond,
            detail: "an abstract constraint in the guard failed".into(),
            call: None,
            soft: false,
        }
    }

    pub fn is_done(&self, t: &Tables, frame: FrameId) -> bool {
        t.frame(frame).is_some_and(|f| t.res(f.res) == Res::Done)
    }

    /// Whether the peer sits at the very start of its current role's clause and that clause
    /// starts by receiving: an idle server (LCC.md section 5, success).
    pub fn is_idle_server(&self, t: &mut Tables, frame: FrameId) -> bool {
        // The current role is the innermost running role call: look at that frame.
        let frame = self.innermost_frame(t, frame);
        let Some(f) = t.frame(frame).cloned() else { return false };
        let Some(root) = self.clause_root.get(f.clause.index()).copied().flatten() else { return false };
        let start = t.intern_res(Res::Start(root));
        if self.norm(t, start) != f.res {
            return false;
        }
        let mut firsts = Vec::new();
        self.first_events(t, f.res, &mut firsts);
        !firsts.is_empty()
            && firsts
                .iter()
                .all(|&n| self.node(n).is_some_and(|n| matches!(n.ir.kind, NodeKind::Receive { .. })))
    }

    fn innermost_frame(&self, t: &Tables, frame: FrameId) -> FrameId {
        fn callee(t: &Tables, res: ResId) -> Option<FrameId> {
            match t.res(res) {
                Res::Callee(f) => Some(f),
                Res::Then { cur, .. } => callee(t, cur),
                Res::Par(bs) => bs.iter().find_map(|&b| callee(t, b)),
                _ => None,
            }
        }
        let mut frame = frame;
        while let Some(inner) = t.frame(frame).and_then(|f| callee(t, f.res)) {
            frame = inner;
        }
        frame
    }

    fn first_events(&self, t: &Tables, res: ResId, out: &mut Vec<NodeIdx>) {
        match t.res(res) {
            Res::Start(n) => match self.node(n) {
                Some(node) if matches!(node.ir.kind, NodeKind::Or(_)) => {
                    for &c in &node.children {
                        self.first_events_of_node(c, out);
                    }
                }
                Some(_) => out.push(n),
                None => {}
            },
            Res::Then { cur, .. } => self.first_events(t, cur, out),
            Res::Par(bs) => bs.iter().for_each(|&b| self.first_events(t, b, out)),
            Res::Callee(f) => {
                if let Some(f) = t.frame(f) {
                    self.first_events(t, f.res, out);
                }
            }
            Res::Done | Res::Blocked(_) => {}
        }
    }

    fn first_events_of_node(&self, n: NodeIdx, out: &mut Vec<NodeIdx>) {
        let Some(node) = self.node(n) else { return };
        match &node.ir.kind {
            NodeKind::Then(_) => {
                if let Some(&c) = node.children.first() {
                    self.first_events_of_node(c, out);
                }
            }
            NodeKind::Or(_) | NodeKind::Par(_) => {
                node.children.iter().for_each(|&c| self.first_events_of_node(c, out))
            }
            _ => out.push(n),
        }
    }

    /// The current role functor of a peer: that of its innermost running role call.
    pub fn current_role(&self, t: &Tables, frame: FrameId) -> Option<TermId> {
        let role = self.current_role_term(t, frame)?;
        t.terms_lookup_atom(t.terms.functor(role)?)
    }

    /// The role term of that innermost running role call.
    pub fn current_role_term(&self, t: &Tables, frame: FrameId) -> Option<TermId> {
        let f = t.frame(frame)?;
        self.innermost(t, f.res).or(Some(f.role))
    }

    fn innermost(&self, t: &Tables, res: ResId) -> Option<TermId> {
        match t.res(res) {
            Res::Callee(f) => {
                let f = t.frame(f)?;
                self.innermost(t, f.res).or(Some(f.role))
            }
            Res::Then { cur, .. } => self.innermost(t, cur),
            Res::Par(bs) => bs.iter().find_map(|&b| self.innermost(t, b)),
            _ => None,
        }
    }

    fn frame_enum(
        &self,
        t: &mut Tables,
        frame: FrameId,
        cx: &Context<'_>,
        in_choice: bool,
        used: &mut Looked,
    ) -> Enumerated {
        let Some(f) = t.frame(frame).cloned() else { return Enumerated::default() };
        let env = t.env(f.env).to_vec();
        self.enumerate(t, f.res, &env, &f, cx, in_choice, used)
    }

    #[allow(clippy::too_many_arguments)]
    fn enumerate(
        &self,
        t: &mut Tables,
        res: ResId,
        env: &[TermId],
        frame: &Frame,
        cx: &Context<'_>,
        in_choice: bool,
        used: &mut Looked,
    ) -> Enumerated {
        match t.res(res) {
            Res::Done => Enumerated::default(),
            Res::Blocked(node) => Enumerated { steps: Vec::new(), disabled: Some(self.blocked_why(node)) },
            Res::Start(n) => {
                let Some(node) = self.node(n) else { return Enumerated::default() };
                let mut e = if let NodeKind::Or(_) = node.ir.kind {
                    self.choice(t, n, env, frame, cx, used)
                } else {
                    self.event(t, n, env, frame, cx, used)
                };
                // A choice point that may fail for good: the failure is a step of its own,
                // after which this part of the clause never moves (LCC.md section 6: the
                // abstract constraint chose to fail).
                if !in_choice
                    && !e.steps.is_empty()
                    && let Some(why) = e.disabled.as_ref().filter(|w| w.is_failure())
                {
                    let blocked = t.intern_res(Res::Blocked(why.node()));
                    let actions = match why {
                        Why::GuardFailed { call: Some(call), .. } => {
                            vec![Action::Call { peer: self.own_value(t, cx), constraint: call.clone() }]
                        }
                        _ => Vec::new(),
                    };
                    e.steps.push(Partial {
                        res: blocked,
                        env: env.to_vec(),
                        consumed: None,
                        sent: None,
                        actions,
                        node: why.node(),
                        failed: true,
                    });
                }
                e
            }
            Res::Then { cur, node, pos } => {
                let mut e = self.enumerate(t, cur, env, frame, cx, in_choice, used);
                for p in &mut e.steps {
                    let then = t.intern_res(Res::Then { cur: p.res, node, pos });
                    p.res = self.norm(t, then);
                }
                e
            }
            Res::Par(branches) => {
                let mut out = Enumerated::default();
                let mut all_disabled = true;
                let mut waiting = None;
                let mut failed = None;
                for (i, &b) in branches.iter().enumerate() {
                    let e = self.enumerate(t, b, env, frame, cx, in_choice, used);
                    if !e.steps.is_empty() && e.disabled.is_none() {
                        all_disabled = false;
                    }
                    for mut p in e.steps {
                        let mut bs = branches.to_vec();
                        if let Some(slot) = bs.get_mut(i) {
                            *slot = p.res;
                        }
                        let par = t.intern_res(Res::Par(bs.into_boxed_slice()));
                        p.res = self.norm(t, par);
                        out.steps.push(p);
                    }
                    match e.disabled {
                        Some(w) if w.is_failure() => failed = failed.or(Some(w)),
                        Some(w) => waiting = waiting.or(Some(w)),
                        None => {}
                    }
                }
                out.disabled = if all_disabled { waiting.or(failed) } else { None };
                out
            }
            Res::Callee(callee) => {
                let Some(inner) = t.frame(callee).cloned() else { return Enumerated::default() };
                let inner_env = t.env(inner.env).to_vec();
                let mut e = self.enumerate(t, inner.res, &inner_env, &inner, cx, in_choice, used);
                for p in &mut e.steps {
                    let new_env = t.intern_env(std::mem::replace(&mut p.env, env.to_vec()));
                    let f = self.intern_frame(t, Frame { env: new_env, res: p.res, ..inner.clone() });
                    p.res = if self.is_done(t, f) {
                        t.intern_res(Res::Done)
                    } else {
                        t.intern_res(Res::Callee(f))
                    };
                }
                e
            }
        }
    }

    /// Committed choice: an alternative is considered only in the worlds where every earlier
    /// one is disabled.
    fn choice(
        &self,
        t: &mut Tables,
        n: NodeIdx,
        env: &[TermId],
        frame: &Frame,
        cx: &Context<'_>,
        used: &mut Looked,
    ) -> Enumerated {
        let children = self.node(n).map(|n| n.children.clone()).unwrap_or_default();
        let mut out = Enumerated::default();
        let mut waiting = None;
        let mut failed = None;
        for child in children {
            let start = t.intern_res(Res::Start(child));
            let start = self.norm(t, start);
            let e = self.enumerate(t, start, env, frame, cx, true, used);
            let disabled = if e.steps.is_empty() {
                Some(e.disabled.unwrap_or(Why::NoMessage { node: child }))
            } else {
                e.disabled
            };
            out.steps.extend(e.steps);
            match disabled {
                None => return out,
                Some(w) if w.is_failure() => failed = failed.or(Some(w)),
                Some(w) => waiting = waiting.or(Some(w)),
            }
        }
        // Every alternative can be disabled at once: the choice waits if one of them waits
        // for something that may still come, and has failed for good otherwise.
        out.disabled = waiting.or(failed);
        out
    }

    fn own_value(&self, t: &Tables, cx: &Context<'_>) -> Value {
        self.peers.get(cx.peer).map(|p| t.terms.to_value(p.id)).unwrap_or(Value::Unbound)
    }

    fn event(
        &self,
        t: &mut Tables,
        n: NodeIdx,
        env: &[TermId],
        frame: &Frame,
        cx: &Context<'_>,
        used: &mut Looked,
    ) -> Enumerated {
        let Some(node) = self.node(n) else { return Enumerated::default() };
        let me = self.own_value(t, cx);
        let done = t.intern_res(Res::Done);
        let mut out = Enumerated::default();
        let guard_fail = |solved: &Solved, cond: Option<&Cond>| {
            solved.fail.as_ref().map(|failure| Why::GuardFailed {
                node: n,
                cond: cond.map(Cond::span).unwrap_or_default(),
                detail: failure.detail.clone(),
                call: failure.call.clone(),
                soft: solved.soft,
            })
        };
        match &node.ir.kind {
            NodeKind::Null { guard } => {
                let solved = self.solve_opt(t, guard.as_ref(), env.to_vec(), cx);
                out.disabled = guard_fail(&solved, guard.as_ref());
                for s in solved.sols {
                    out.steps.push(Partial {
                        res: done,
                        env: s.env,
                        consumed: None,
                        sent: None,
                        actions: s.calls,
                        node: n,
                        failed: false,
                    });
                }
            }
            NodeKind::Send { message, to, guard, .. } => {
                let solved = self.solve_opt(t, guard.as_ref(), env.to_vec(), cx);
                out.disabled = guard_fail(&solved, guard.as_ref());
                let from_role = self.functor_atom(t, frame.role);
                let to_role = t.terms.atom(&to.role_name);
                for s in solved.sols {
                    let target = self.instantiate(t, &to.id, &s.env);
                    let mut targets = Vec::new();
                    if target == UNBOUND {
                        // Discovery: any other peer whose current role is R.
                        used.roles = true;
                        for (j, peer) in self.peers.iter().enumerate() {
                            if j != cx.peer
                                && cx.roles.get(j).copied().flatten() == Some(to_role)
                                && let Some(env) = self.unify(t, &to.id, peer.id, s.env.clone())
                            {
                                targets.push((j, env));
                            }
                        }
                        if targets.is_empty() {
                            out.disabled
                                .get_or_insert(Why::NoPartner { node: n, role: to.role_name.clone() });
                        }
                    } else {
                        match self.peers.iter().position(|p| p.id == target) {
                            Some(j) => targets.push((j, s.env.clone())),
                            None => {
                                out.disabled.get_or_insert(Why::NoPeer { node: n, id: target });
                            }
                        }
                    }
                    for (j, env) in targets {
                        let content = self.instantiate(t, message, &env);
                        let to_peer = u8::try_from(j).unwrap_or(u8::MAX);
                        let from = u8::try_from(cx.peer).unwrap_or(u8::MAX);
                        let msg = Msg { from, to: to_peer, from_role, to_role, content };
                        let id = MsgId(t.msgs.intern(msg));
                        let mut actions = s.calls.clone();
                        let to_value = self.peers.get(j).map(|p| p.name.clone()).unwrap_or(Value::Unbound);
                        actions.push(Action::Send {
                            from: me.clone(),
                            to: to_value,
                            msg: t.terms.to_value(content),
                        });
                        out.steps.push(Partial {
                            res: done,
                            env,
                            consumed: None,
                            sent: Some(msg_word(to_peer, id)),
                            actions,
                            node: n,
                            failed: false,
                        });
                    }
                }
            }
            NodeKind::Receive { message, from, guard, .. } => {
                used.mail = true;
                let my_role = self.functor_atom(t, frame.role);
                let from_role = t.terms.atom(&from.role_name);
                let mut matched = false;
                // The receive is disabled in some world only if the guard may fail for every
                // matching message (a message whose guard surely holds keeps it enabled).
                let mut every_may_fail = true;
                let mut first_failure = None;
                let mut seen: Option<u32> = None;
                for &word in cx.pending {
                    if seen == Some(word) {
                        continue;
                    }
                    seen = Some(word);
                    let Some(msg) = t.msg(word_msg(word)).cloned() else { continue };
                    if msg.to_role != my_role || msg.from_role != from_role {
                        continue;
                    }
                    let Some(sender) = self.peers.get(msg.from as usize) else { continue };
                    let Some(env1) = self.unify(t, &from.id, sender.id, env.to_vec()) else { continue };
                    let Some(env2) = self.unify(t, message, msg.content, env1) else { continue };
                    matched = true;
                    let solved = self.solve_opt(t, guard.as_ref(), env2, cx);
                    match guard_fail(&solved, guard.as_ref()) {
                        Some(why) => first_failure = first_failure.or(Some(why)),
                        None => every_may_fail = false,
                    }
                    for s in solved.sols {
                        let mut actions = vec![Action::Recv {
                            from: sender.name.clone(),
                            to: me.clone(),
                            msg: t.terms.to_value(msg.content),
                        }];
                        actions.extend(s.calls);
                        out.steps.push(Partial {
                            res: done,
                            env: s.env,
                            consumed: Some(word),
                            sent: None,
                            actions,
                            node: n,
                            failed: false,
                        });
                    }
                }
                out.disabled = if !matched {
                    Some(Why::NoMessage { node: n })
                } else if every_may_fail {
                    first_failure
                } else {
                    None
                };
            }
            NodeKind::RoleChange { target, guard, .. } => {
                let solved = self.solve_opt(t, guard.as_ref(), env.to_vec(), cx);
                out.disabled = guard_fail(&solved, guard.as_ref());
                let own = self.peers.get(cx.peer).map(|p| p.id).unwrap_or(UNBOUND);
                for s in solved.sols {
                    let args: Vec<TermId> =
                        target.args.iter().map(|a| self.instantiate(t, a, &s.env)).collect();
                    let role = if args.is_empty() {
                        t.terms.atom(&target.role_name)
                    } else {
                        t.terms.intern(TermData::Compound(
                            target.role_name.clone(),
                            args.clone().into_boxed_slice(),
                        ))
                    };
                    let id = self.instantiate(t, &target.id, &s.env);
                    let clause = target.role.and_then(|r| self.clause_for(r, args.len()));
                    let Some(frame_id) = clause.and_then(|c| self.enter(t, c, role, id, own)) else {
                        out.disabled.get_or_insert(Why::NoClause { node: n });
                        continue;
                    };
                    let role_value =
                        t.frame(frame_id).map(|f| t.terms.to_value(f.role)).unwrap_or(Value::Unbound);
                    let mut actions = s.calls;
                    actions.push(Action::Become { peer: me.clone(), role: role_value });
                    let res = t.intern_res(Res::Callee(frame_id));
                    out.steps.push(Partial {
                        res,
                        env: s.env,
                        consumed: None,
                        sent: None,
                        actions,
                        node: n,
                        failed: false,
                    });
                }
            }
            NodeKind::Then(_) | NodeKind::Or(_) | NodeKind::Par(_) | NodeKind::Error => {}
        }
        out
    }

    /// Nesting depth of role calls in a frame.
    pub fn depth(&self, t: &Tables, frame: FrameId) -> usize {
        fn res_depth(t: &Tables, res: ResId) -> usize {
            match t.res(res) {
                Res::Callee(f) => t.frame(f).map_or(0, |f| 1 + res_depth(t, f.res)),
                Res::Then { cur, .. } => res_depth(t, cur),
                Res::Par(bs) => bs.iter().map(|&b| res_depth(t, b)).max().unwrap_or(0),
                _ => 0,
            }
        }
        t.frame(frame).map_or(0, |f| res_depth(t, f.res))
    }

    fn functor_atom(&self, t: &mut Tables, role: TermId) -> TermId {
        let name = t.terms.functor(role).cloned().unwrap_or_default();
        t.terms.intern(TermData::Atom(name))
    }

    // ---- terms ----

    /// The value of an IR term in `env` (unbound variables and `_` give [`UNBOUND`]).
    pub fn instantiate(&self, t: &mut Tables, term: &ir::Term, env: &[TermId]) -> TermId {
        match term {
            ir::Term::Var(v, _) => env.get(v.index()).copied().unwrap_or(UNBOUND),
            ir::Term::Anon(_) | ir::Term::Error(_) => UNBOUND,
            ir::Term::Atom(a, _) => t.terms.intern(TermData::Atom(a.clone())),
            ir::Term::Int(n, _) => t.terms.int(*n),
            ir::Term::Float(x, _) => t.terms.intern(TermData::Float(x.to_bits())),
            ir::Term::Str(s, _) => t.terms.intern(TermData::Str(s.as_str().into())),
            ir::Term::Compound { functor, args, .. } => {
                let args = args.iter().map(|a| self.instantiate(t, a, env)).collect();
                t.terms.intern(TermData::Compound(functor.clone(), args))
            }
            ir::Term::List { items, tail, .. } => {
                let mut values: Vec<TermId> = items.iter().map(|a| self.instantiate(t, a, env)).collect();
                if let Some(tail) = tail {
                    let tail = self.instantiate(t, tail, env);
                    match t.terms.get(tail) {
                        TermData::List(rest) => values.extend(rest.iter().copied()),
                        _ => return UNKNOWN,
                    }
                }
                t.terms.intern(TermData::List(values.into_boxed_slice()))
            }
            ir::Term::Arith { .. } | ir::Term::Neg(..) => match self.arith(t, term, env) {
                Arith::Num(n) => t.terms.number(n),
                Arith::Unbound => UNBOUND,
                Arith::Unknown | Arith::NotNumber => UNKNOWN,
            },
        }
    }

    /// Unifies an IR term (with variables) against a value, extending `env`. `_` in the value
    /// binds nothing; `'?'` in the value binds the pattern's variables to `'?'`.
    fn unify(
        &self,
        t: &mut Tables,
        pattern: &ir::Term,
        value: TermId,
        mut env: Vec<TermId>,
    ) -> Option<Vec<TermId>> {
        match pattern {
            ir::Term::Var(v, _) => {
                let slot = env.get_mut(v.index())?;
                if *slot == UNBOUND {
                    *slot = value;
                    Some(env)
                } else if t.terms.compatible(*slot, value) {
                    Some(env)
                } else {
                    None
                }
            }
            ir::Term::Anon(_) | ir::Term::Error(_) => Some(env),
            _ if value == UNBOUND => Some(env),
            _ if value == UNKNOWN => {
                let mut vars = Vec::new();
                pattern.vars(&mut vars);
                for (v, _) in vars {
                    if let Some(slot) = env.get_mut(v.index())
                        && *slot == UNBOUND
                    {
                        *slot = UNKNOWN;
                    }
                }
                Some(env)
            }
            ir::Term::Compound { functor, args, .. } => {
                let TermData::Compound(f, values) = t.terms.get(value).clone() else { return None };
                if &f != functor || values.len() != args.len() {
                    return None;
                }
                for (a, &v) in args.iter().zip(values.iter()) {
                    env = self.unify(t, a, v, env)?;
                }
                Some(env)
            }
            ir::Term::List { items, tail, .. } => {
                let TermData::List(values) = t.terms.get(value).clone() else { return None };
                if values.len() < items.len() || (tail.is_none() && values.len() != items.len()) {
                    return None;
                }
                for (a, &v) in items.iter().zip(values.iter()) {
                    env = self.unify(t, a, v, env)?;
                }
                if let Some(tail) = tail {
                    let rest = values.get(items.len()..).unwrap_or(&[]).to_vec();
                    let rest = t.terms.intern(TermData::List(rest.into_boxed_slice()));
                    env = self.unify(t, tail, rest, env)?;
                }
                Some(env)
            }
            _ => {
                let own = self.instantiate(t, pattern, &env);
                t.terms.compatible(own, value).then_some(env)
            }
        }
    }

    /// `A = B` with variables on both sides: structure against structure, so that a bound
    /// side gives values to the variables of the other (`f(p, _) = f(W, _)` binds `W`). The
    /// runtime's `terms::unify_both` is the same rule.
    fn unify_both(
        &self,
        t: &mut Tables,
        a: &ir::Term,
        b: &ir::Term,
        env: Vec<TermId>,
    ) -> Option<Vec<TermId>> {
        let unbound = |term: &ir::Term, env: &[TermId]| match term {
            ir::Term::Var(v, _) => env.get(v.index()) == Some(&UNBOUND),
            _ => false,
        };
        match (a, b) {
            (
                ir::Term::Compound { functor: f, args: xs, .. },
                ir::Term::Compound { functor: g, args: ys, .. },
            ) => {
                if f != g || xs.len() != ys.len() {
                    return None;
                }
                xs.iter().zip(ys).try_fold(env, |env, (x, y)| self.unify_both(t, x, y, env))
            }
            (ir::Term::List { items: xs, tail: None, .. }, ir::Term::List { items: ys, tail: None, .. }) => {
                if xs.len() != ys.len() {
                    return None;
                }
                xs.iter().zip(ys).try_fold(env, |env, (x, y)| self.unify_both(t, x, y, env))
            }
            _ if unbound(a, &env)
                || !unbound(b, &env) && !matches!(b, ir::Term::Compound { .. } | ir::Term::List { .. }) =>
            {
                let value = self.instantiate(t, b, &env);
                self.unify(t, a, value, env)
            }
            _ => {
                let value = self.instantiate(t, a, &env);
                self.unify(t, b, value, env)
            }
        }
    }

    fn arith(&self, t: &mut Tables, term: &ir::Term, env: &[TermId]) -> Arith {
        match term {
            ir::Term::Arith { op, lhs, rhs, .. } => {
                let (a, b) = (self.arith(t, lhs, env), self.arith(t, rhs, env));
                match (a, b) {
                    (Arith::Num(a), Arith::Num(b)) => apply(*op, a, b).map_or(Arith::NotNumber, Arith::Num),
                    (Arith::Unbound, _) | (_, Arith::Unbound) => Arith::Unbound,
                    (Arith::NotNumber, _) | (_, Arith::NotNumber) => Arith::NotNumber,
                    _ => Arith::Unknown,
                }
            }
            ir::Term::Neg(inner, _) => match self.arith(t, inner, env) {
                Arith::Num(Number::Int(n)) => Arith::Num(Number::Int(n.wrapping_neg())),
                Arith::Num(Number::Float(x)) => Arith::Num(Number::Float(-x)),
                other => other,
            },
            _ => {
                let v = self.instantiate(t, term, env);
                if v == UNBOUND {
                    Arith::Unbound
                } else if v == UNKNOWN {
                    Arith::Unknown
                } else {
                    t.terms.as_number(v).map_or(Arith::NotNumber, Arith::Num)
                }
            }
        }
    }

    // ---- guards ----

    fn solve_opt(&self, t: &mut Tables, cond: Option<&Cond>, env: Vec<TermId>, cx: &Context<'_>) -> Solved {
        match cond {
            None => Solved::one(env),
            Some(c) => self.solve(t, c, env, cx),
        }
    }

    fn solve(&self, t: &mut Tables, cond: &Cond, env: Vec<TermId>, cx: &Context<'_>) -> Solved {
        match cond {
            Cond::And(parts, _) => {
                // The conjunction may fail when some conjunct may fail for every solution of
                // the ones before it (each solution is evaluated in its own world).
                let mut current = vec![Solution { env, calls: Vec::new() }];
                let mut fail = None;
                let mut soft = true;
                for part in parts {
                    let mut next = Vec::new();
                    let mut every_may_fail = true;
                    let mut detail = None;
                    let mut part_soft = true;
                    for s in current {
                        let r = self.solve(t, part, s.env, cx);
                        match r.fail {
                            Some(d) => {
                                detail = detail.or(Some(d));
                                part_soft &= r.soft;
                            }
                            None => every_may_fail = false,
                        }
                        for mut sol in r.sols {
                            let mut calls = s.calls.clone();
                            calls.append(&mut sol.calls);
                            next.push(Solution { env: sol.env, calls });
                        }
                    }
                    if every_may_fail && detail.is_some() {
                        fail = fail.or(detail);
                        soft &= part_soft;
                    }
                    current = next;
                }
                Solved { sols: current, soft: soft && fail.is_some(), fail }
            }
            Cond::Or(parts, _) => {
                let mut out = Solved::default();
                let mut all_fail = true;
                let mut first_fail = None;
                for part in parts {
                    let r = self.solve(t, part, env.clone(), cx);
                    if r.fail.is_none() && !r.sols.is_empty() {
                        all_fail = false;
                    }
                    out.soft |= r.fail.is_some() && r.soft;
                    first_fail = first_fail.or(r.fail);
                    out.sols.extend(r.sols);
                }
                if all_fail {
                    out.fail = first_fail.or_else(|| Failure::new("no alternative of the guard holds"));
                } else {
                    out.soft = false;
                }
                out
            }
            Cond::Not(inner, _) => {
                let r = self.solve(t, inner, env.clone(), cx);
                if r.sols.is_empty() {
                    Solved::one(env)
                } else if r.fail.is_some() {
                    Solved {
                        sols: vec![Solution { env, calls: Vec::new() }],
                        fail: Failure::new("the negated condition may hold"),
                        soft: r.soft,
                    }
                } else {
                    Solved::fail("the negated condition holds")
                }
            }
            Cond::Compare { op, lhs, rhs, .. } => self.compare(t, *op, lhs, rhs, env),
            Cond::Is { lhs, rhs, .. } => match self.arith(t, rhs, &env) {
                Arith::Num(n) => {
                    let v = t.terms.number(n);
                    self.unify(t, lhs, v, env)
                        .map_or_else(|| Solved::fail("`is` does not match"), Solved::one)
                }
                Arith::Unknown => {
                    self.unify(t, lhs, UNKNOWN, env).map_or_else(|| Solved::fail("`is`"), Solved::one)
                }
                Arith::Unbound => Solved::fail("`is` has an unbound input (a run-time error)"),
                Arith::NotNumber => Solved::fail("`is` on a value that is not a number"),
            },
            Cond::Builtin { builtin, args, .. } => self.builtin(t, *builtin, args, env),
            Cond::External { constraint, args, .. } => {
                let Some(sig) = self.model.constraint(*constraint) else {
                    return Solved::fail("unknown constraint");
                };
                let me = self.own_value(t, cx);
                let rule = self.rules.get(constraint.index()).cloned().unwrap_or(Rule::Any);
                let mut sols = Vec::new();
                let call_value = |t: &mut Tables, env: &[TermId], this: &Self| {
                    let args = args.iter().map(|a| this.instantiate(t, a, env)).collect();
                    let c = t.terms.intern(TermData::Compound(sig.name.clone(), args));
                    t.terms.to_value(c)
                };
                let failed_call = call_value(t, &env, self);
                let fail = Some(Failure { detail: failed_call.to_string(), call: Some(failed_call) });
                match rule {
                    Rule::Fails => Solved { sols, fail, soft: false },
                    Rule::Any | Rule::Succeeds => {
                        let mut env = env;
                        for a in args {
                            let v = self.instantiate(t, a, &env);
                            if t.terms.has_unbound(v) {
                                match self.unify(t, a, UNKNOWN, env.clone()) {
                                    Some(e) => env = e,
                                    None => return Solved { sols, fail, soft: false },
                                }
                            }
                        }
                        let c = call_value(t, &env, self);
                        sols.push(Solution { env, calls: vec![Action::Call { peer: me, constraint: c }] });
                        let fail = if matches!(rule, Rule::Any) { fail } else { None };
                        Solved { sols, fail, soft: false }
                    }
                    Rule::Table(rows) => {
                        for row in rows {
                            let mut e = Some(env.clone());
                            for (a, &v) in args.iter().zip(row.iter()) {
                                e = e.and_then(|e| self.unify(t, a, v, e));
                            }
                            if let Some(e) = e {
                                let c = call_value(t, &e, self);
                                sols.push(Solution {
                                    env: e,
                                    calls: vec![Action::Call { peer: me.clone(), constraint: c }],
                                });
                            }
                        }
                        if sols.is_empty() {
                            Solved { sols, fail, soft: false }
                        } else {
                            Solved { sols, fail: None, soft: false }
                        }
                    }
                }
            }
            Cond::Error(_) => Solved::fail("the guard could not be parsed"),
        }
    }

    fn compare(&self, t: &mut Tables, op: CmpOp, lhs: &ir::Term, rhs: &ir::Term, env: Vec<TermId>) -> Solved {
        let (l, r) = (self.instantiate(t, lhs, &env), self.instantiate(t, rhs, &env));
        let text = format!("{} {} {}", t.terms.show(l), op.text(), t.terms.show(r));
        let both = |env: Vec<TermId>| Solved {
            sols: vec![Solution { env, calls: Vec::new() }],
            fail: Failure::new(format!("{text} may fail ('?' is unknown)")),
            soft: true,
        };
        let decide = |holds: bool, env: Vec<TermId>| {
            if holds { Solved::one(env) } else { Solved::fail(format!("{text} is false")) }
        };
        match op {
            CmpOp::Unify => self
                .unify_both(t, lhs, rhs, env)
                .map_or_else(|| Solved::fail(format!("{text} is false")), Solved::one),
            CmpOp::NotUnify | CmpOp::Identical | CmpOp::NotIdentical | CmpOp::NotEqual => {
                if t.terms.has_unknown(l) || t.terms.has_unknown(r) {
                    return both(env);
                }
                let holds = match op {
                    CmpOp::NotUnify => !t.terms.compatible(l, r),
                    CmpOp::Identical => l == r,
                    _ => l != r,
                };
                decide(holds, env)
            }
            _ => match (self.arith(t, lhs, &env), self.arith(t, rhs, &env)) {
                (Arith::Num(a), Arith::Num(b)) => {
                    let holds = compare_numbers(op, a, b);
                    decide(holds, env)
                }
                (Arith::Unbound, _) | (_, Arith::Unbound) => {
                    Solved::fail(format!("{text}: an input is unbound (a run-time error)"))
                }
                (Arith::NotNumber, _) | (_, Arith::NotNumber) => {
                    Solved::fail(format!("{text}: not a number"))
                }
                _ => both(env),
            },
        }
    }

    fn builtin(&self, t: &mut Tables, builtin: ir::Builtin, args: &[ir::Term], env: Vec<TermId>) -> Solved {
        let values: Vec<TermId> = args.iter().map(|a| self.instantiate(t, a, &env)).collect();
        let list = |t: &Tables, v: TermId| match t.terms.get(v) {
            TermData::List(items) => Some(items.to_vec()),
            _ => None,
        };
        let name = builtin.name();
        let unknown_any = values.contains(&UNKNOWN);
        let mut sols = Vec::new();
        let mut push = |e: Option<Vec<TermId>>| {
            if let Some(env) = e {
                sols.push(Solution { env, calls: Vec::new() });
            }
        };
        match (builtin, args, values.as_slice()) {
            (ir::Builtin::Member, [x, _], [_, l]) => match list(t, *l) {
                Some(items) => {
                    for item in items {
                        push(self.unify(t, x, item, env.clone()));
                    }
                }
                None if unknown_any => {
                    push(self.unify(t, x, UNKNOWN, env.clone()));
                    return Solved {
                        sols,
                        fail: Failure::new(format!("{name}/2 on '?' may fail")),
                        soft: true,
                    };
                }
                None => return Solved::fail(format!("{name}/2: the list is unbound (a run-time error)")),
            },
            (ir::Builtin::Length, [_, n], [l, _]) => match list(t, *l) {
                Some(items) => {
                    let len = t.terms.int(i64::try_from(items.len()).unwrap_or(i64::MAX));
                    push(self.unify(t, n, len, env.clone()));
                }
                None if unknown_any => push(self.unify(t, n, UNKNOWN, env.clone())),
                None => return Solved::fail(format!("{name}/2: the list is unbound (a run-time error)")),
            },
            (ir::Builtin::Nth0 | ir::Builtin::Nth1, [i, _, e], [iv, l, _]) => {
                let base = if builtin == ir::Builtin::Nth0 { 0 } else { 1 };
                match (list(t, *l), t.terms.as_number(*iv)) {
                    (Some(items), Some(Number::Int(k))) => {
                        let item = usize::try_from(k - base).ok().and_then(|k| items.get(k)).copied();
                        if let Some(item) = item {
                            push(self.unify(t, e, item, env.clone()));
                        }
                    }
                    (Some(items), None) if *iv == UNBOUND => {
                        for (k, item) in items.into_iter().enumerate() {
                            let idx = t.terms.int(i64::try_from(k).unwrap_or(0) + base);
                            let e1 = self.unify(t, i, idx, env.clone());
                            push(e1.and_then(|env| self.unify(t, e, item, env)));
                        }
                    }
                    _ if unknown_any => {
                        push(self.unify(t, e, UNKNOWN, env.clone()));
                        return Solved {
                            sols,
                            fail: Failure::new(format!("{name}/3 on '?' may fail")),
                            soft: true,
                        };
                    }
                    _ => {
                        return Solved::fail(format!(
                            "{name}/3: unbound or non-list input (a run-time error)"
                        ));
                    }
                }
            }
            (ir::Builtin::Append, [a, b, c], [av, bv, cv]) => {
                match (list(t, *av), list(t, *bv), list(t, *cv)) {
                    (Some(x), Some(y), _) => {
                        let joined: Vec<TermId> = x.into_iter().chain(y).collect();
                        let joined = t.terms.intern(TermData::List(joined.into_boxed_slice()));
                        push(self.unify(t, c, joined, env.clone()));
                    }
                    (_, _, Some(z)) => {
                        for k in 0..=z.len() {
                            let (x, y) = z.split_at(k);
                            let x = t.terms.intern(TermData::List(x.to_vec().into_boxed_slice()));
                            let y = t.terms.intern(TermData::List(y.to_vec().into_boxed_slice()));
                            let e1 = self.unify(t, a, x, env.clone());
                            push(e1.and_then(|env| self.unify(t, b, y, env)));
                        }
                    }
                    _ if unknown_any => {
                        push(self.unify(t, c, UNKNOWN, env.clone()));
                        return Solved { sols, fail: Failure::new("append/3 on '?' may fail"), soft: true };
                    }
                    _ => return Solved::fail("append/3: unbound inputs (a run-time error)"),
                }
            }
            _ => return Solved::fail(format!("{name}: wrong number of arguments")),
        }
        if sols.is_empty() {
            Solved::fail(format!("{name} has no solution"))
        } else {
            Solved { sols, fail: None, soft: false }
        }
    }
}

impl Tables {
    /// The id of an atom already interned (role functors always are).
    pub fn terms_lookup_atom(&self, name: &SmolStr) -> Option<TermId> {
        self.terms.lookup(&TermData::Atom(name.clone()))
    }
}

fn constraint_list(model: &ir::Model) -> String {
    if model.constraints.is_empty() {
        return "the model calls no external constraints".into();
    }
    let names: Vec<String> = model.constraints.iter().map(|c| format!("{}/{}", c.name, c.arity)).collect();
    format!("its external constraints are: {}", names.join(", "))
}
