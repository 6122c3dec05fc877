//! `lcc verify` as a library: one scenario, a list of properties, a report with verdicts and
//! counterexample traces. Pure apart from threads: the caller reads files and prints.

use super::explore::{
    self, BoundHit, Explored, Options, Progress, StoreMode, TerminalKind, TraceStep, Worker,
};
use super::mu;
use super::scenario::Scenario;
use super::system::{Context, FrameId, NodeIdx, ScenarioMismatch, System, Tables, Why, word_recipient};
use super::value::{Action, Value};
use crate::ir;
use lcc_syntax::ast::Span;
use std::fmt;
use std::sync::RwLock;

/// A property to check.
#[derive(Clone, Debug)]
pub enum Property {
    /// No reachable configuration is a deadlock (LCC.md section 5).
    DeadlockFree,
    /// Every run is finite.
    Terminates,
    /// No success configuration leaves messages undelivered.
    NoOrphans,
    Formula(mu::Formula),
}

impl Property {
    /// Reads a property name or a formula.
    pub fn parse(text: &str) -> Result<Property, mu::FormulaError> {
        Ok(match text.trim() {
            "deadlock-free" => Property::DeadlockFree,
            "terminates" => Property::Terminates,
            "no-orphans" => Property::NoOrphans,
            other => Property::Formula(mu::parse(other)?),
        })
    }
    pub fn name(&self) -> String {
        match self {
            Property::DeadlockFree => "deadlock-free".into(),
            Property::Terminates => "terminates".into(),
            Property::NoOrphans => "no-orphans".into(),
            Property::Formula(f) => f.to_string(),
        }
    }
    fn needs_graph(&self) -> bool {
        matches!(self, Property::Terminates | Property::Formula(_))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Holds,
    Inconclusive,
    Violated,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Violated => "violated",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One step of a counterexample.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub peer: Value,
    /// The peer's role before the step.
    pub role: Value,
    /// The event executed and where it is written.
    pub event: String,
    pub span: Span,
    /// What the step did (send, recv, call, become, done); empty for a plain `null`.
    pub actions: Vec<Action>,
    /// The event's guard failed for good here: the event never happens.
    pub failed: bool,
}

/// A peer that cannot move in the final configuration of a trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Stuck {
    pub peer: Value,
    pub role: Value,
    /// The event it is stuck on, and where.
    pub event: String,
    pub span: Span,
    pub why: String,
}

/// A counterexample: a path from the initial configuration, possibly ending in a loop.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Trace {
    pub steps: Vec<Step>,
    /// A lasso: the steps from this index on repeat forever.
    pub cycle_start: Option<usize>,
    /// For a deadlock: every stuck peer and why.
    pub stuck: Vec<Stuck>,
    /// Messages still in flight at the end (`from -> to: msg`).
    pub in_flight: Vec<String>,
    /// The raw configurations after each step (for replay tests).
    pub configurations: Vec<Vec<u32>>,
}

#[derive(Clone, Debug)]
pub struct PropertyReport {
    pub name: String,
    pub verdict: Verdict,
    pub trace: Option<Trace>,
    /// Why the verdict is inconclusive, or what the violation is.
    pub note: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Report {
    pub scenario: String,
    /// `a(role, id)` of every peer.
    pub peers: Vec<String>,
    /// The id of every peer, as written in traces.
    pub peer_ids: Vec<String>,
    pub verdict: Verdict,
    pub states: u64,
    pub transitions: u64,
    pub depth: u32,
    pub seconds: f64,
    pub bytes: usize,
    pub bound: Option<String>,
    pub deadlock_states: u64,
    pub hash_compaction: bool,
    /// Whether partial-order reduction was used.
    pub reduced: bool,
    pub properties: Vec<PropertyReport>,
}

pub struct Request<'a> {
    pub scenario: &'a Scenario,
    pub properties: Vec<Property>,
    pub threads: usize,
    pub mode: StoreMode,
    /// Explore every reachable state even after a violation was found.
    pub full: bool,
    /// Partial-order reduction for `deadlock-free` and `no-orphans` (when no other property
    /// needs the whole graph).
    pub reduce: bool,
    /// Traces that do not depend on the thread count: with several threads, which of several
    /// equally short traces is found depends on timing, so when a property is violated the
    /// exploration is repeated on one thread (up to where it stops) for the traces.
    pub reproducible: bool,
    pub progress: Option<&'a (dyn Fn(&Progress) + Sync)>,
}

/// Verifies `model` (checked, with no errors) under one scenario.
pub fn verify(model: &ir::Model, source: &str, request: &Request<'_>) -> Result<Report, ScenarioMismatch> {
    let mut tables = Tables::default();
    let sys = System::new(model, request.scenario, &mut tables)?;
    let tables = RwLock::new(tables);
    let properties =
        if request.properties.is_empty() { vec![Property::DeadlockFree] } else { request.properties.clone() };
    let keep_graph = properties.iter().any(Property::needs_graph);
    let mut stop_on = Vec::new();
    if !keep_graph && !request.full {
        for p in &properties {
            match p {
                Property::DeadlockFree => stop_on.push(TerminalKind::Deadlock),
                Property::NoOrphans => stop_on.push(TerminalKind::Orphans),
                _ => {}
            }
        }
    }
    let options = Options {
        threads: request.threads,
        mode: request.mode,
        keep_graph,
        // The reduction keeps terminal configurations only: not for whole-graph properties.
        reduce: request.reduce && !keep_graph,
        stop_on,
        progress: request.progress,
    };
    let explored = explore::explore(&sys, &tables, &options);
    let ctx = Explain { sys: &sys, tables: &tables, source, explored: &explored };
    let mut reports = Vec::new();
    for property in &properties {
        reports.push(ctx.check(property));
    }
    if request.reproducible && request.threads > 1 && reports.iter().any(|r| r.trace.is_some()) {
        let again = Request {
            threads: 1,
            progress: None,
            reproducible: false,
            properties: properties.clone(),
            ..*request
        };
        if let Ok(single) = verify(model, source, &again) {
            for (report, same) in reports.iter_mut().zip(single.properties) {
                if report.verdict == same.verdict {
                    report.trace = same.trace;
                    report.note = same.note;
                }
            }
        }
    }
    let verdict = reports.iter().map(|r| r.verdict).max().unwrap_or(Verdict::Holds);
    Ok(Report {
        scenario: request.scenario.name.clone(),
        peers: request.scenario.peers.iter().map(ToString::to_string).collect(),
        peer_ids: request.scenario.peers.iter().map(|p| p.id.to_string()).collect(),
        verdict,
        states: explored.store.len(),
        transitions: explored.transitions,
        depth: explored.depth,
        seconds: explored.seconds,
        bytes: explored.bytes,
        bound: explored.bound.as_ref().map(BoundHit::describe),
        deadlock_states: explored.deadlock_states,
        hash_compaction: request.mode == StoreMode::HashCompaction,
        reduced: options.reduce,
        properties: reports,
    })
}

struct Explain<'a, 'm> {
    sys: &'a System<'m>,
    tables: &'a RwLock<Tables>,
    source: &'a str,
    explored: &'a Explored,
}

impl Explain<'_, '_> {
    fn inconclusive(&self) -> Option<String> {
        match &self.explored.bound {
            Some(b) => Some(b.describe()),
            None if !self.explored.complete => Some("the exploration stopped early".into()),
            None => None,
        }
    }

    fn check(&self, property: &Property) -> PropertyReport {
        let name = property.name();
        let terminal = |kind: TerminalKind| match kind {
            TerminalKind::Deadlock => self.explored.deadlock.as_ref(),
            _ => self.explored.orphans.as_ref(),
        };
        match property {
            Property::DeadlockFree | Property::NoOrphans => {
                let kind = if matches!(property, Property::DeadlockFree) {
                    TerminalKind::Deadlock
                } else {
                    TerminalKind::Orphans
                };
                if let Some(t) = terminal(kind.clone()) {
                    let path = self.explored.store.path_to(t.state);
                    let hops: Vec<(u32, Option<u32>)> = path.iter().skip(1).map(|&id| (id, None)).collect();
                    let trace = self.trace(&hops, None);
                    let note = match kind {
                        TerminalKind::Deadlock => format!("deadlock after {}", steps(hops.len())),
                        _ => format!("messages left undelivered after {}", steps(hops.len())),
                    };
                    return PropertyReport { name, verdict: Verdict::Violated, trace, note: Some(note) };
                }
                match self.inconclusive() {
                    Some(note) => {
                        PropertyReport { name, verdict: Verdict::Inconclusive, trace: None, note: Some(note) }
                    }
                    None => PropertyReport { name, verdict: Verdict::Holds, trace: None, note: None },
                }
            }
            Property::Terminates => {
                let Ok(formula) = mu::parse("mu X . [true] X") else {
                    return PropertyReport { name, verdict: Verdict::Inconclusive, trace: None, note: None };
                };
                let mut r = self.formula(&formula, true);
                r.name = name;
                if r.verdict == Verdict::Violated {
                    r.note = Some("a run that never ends".into());
                }
                r
            }
            // `[R] false` (and conjunctions of such) is refuted by a path alone: a
            // counterexample found in a partial graph is real.
            Property::Formula(f) => self.formula(f, refuted_by_a_path(f)),
        }
    }

    /// `sound_if_partial`: a counterexample found in a partial graph is still real (a lasso
    /// for `terminates`).
    fn formula(&self, formula: &mu::Formula, sound_if_partial: bool) -> PropertyReport {
        let name = formula.to_string();
        let Some(g) = &self.explored.graph else {
            return PropertyReport { name, verdict: Verdict::Inconclusive, trace: None, note: None };
        };
        let outcome = mu::check(&g.graph, formula);
        let partial = self.inconclusive();
        if outcome.holds || (partial.is_some() && !sound_if_partial) {
            return match partial {
                Some(note) => {
                    PropertyReport { name, verdict: Verdict::Inconclusive, trace: None, note: Some(note) }
                }
                None => PropertyReport { name, verdict: Verdict::Holds, trace: None, note: None },
            };
        }
        let trace = outcome.evidence.as_ref().and_then(|ev| {
            let hops: Vec<(u32, Option<u32>)> = ev
                .edges
                .iter()
                .filter_map(|&e| {
                    let target = *g.graph.targets.get(e)?;
                    let label = *g.graph.edge_labels.get(e)?;
                    Some((*g.ids.get(target as usize)?, Some(label)))
                })
                .collect();
            self.trace(&hops, ev.cycle_start)
        });
        PropertyReport { name, verdict: Verdict::Violated, trace, note: None }
    }

    fn trace(&self, hops: &[(u32, Option<u32>)], cycle_start: Option<usize>) -> Option<Trace> {
        let steps = explore::steps_along(self.sys, self.tables, &self.explored.store, hops)?;
        let mut trace = Trace { cycle_start, ..Trace::default() };
        let mut before = self.explored.initial.clone();
        for step in &steps {
            trace.steps.push(self.describe_step(&before, step));
            trace.configurations.push(step.words.clone());
            before = step.words.clone();
        }
        let end = before;
        if cycle_start.is_none() {
            // Peers are stuck only where nothing can move (a formula's counterexample may end
            // in a configuration that still has successors).
            let terminal = explore::Worker::new(self.sys, self.tables).expand(&end).successors.is_empty();
            if terminal {
                trace.stuck = self.stuck_peers(&end);
            }
            trace.in_flight = self.in_flight(&end);
        }
        Some(trace)
    }

    fn event_text(&self, node: NodeIdx) -> (String, Span) {
        let Some(n) = self.sys.node(node) else { return (String::new(), Span::default()) };
        let span = n.ir.span;
        let text = self.source.get(span.start as usize..span.end as usize).unwrap_or("");
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        (text, span)
    }

    fn role_of(&self, words: &[u32], peer: usize) -> Value {
        let t = self.tables.read().unwrap_or_else(|e| e.into_inner());
        let Some(&frame) = words.get(peer) else { return Value::Unbound };
        self.sys.current_role_term(&t, FrameId(frame)).map_or(Value::Unbound, |r| t.terms.to_value(r))
    }

    fn describe_step(&self, before: &[u32], step: &TraceStep) -> Step {
        let (event, span) = self.event_text(step.node);
        let t = self.tables.read().unwrap_or_else(|e| e.into_inner());
        let actions = t.label(step.label).to_vec();
        drop(t);
        Step {
            peer: self.sys.peers.get(step.peer).map_or(Value::Unbound, |p| p.name.clone()),
            role: self.role_of(before, step.peer),
            event,
            span,
            actions,
            failed: step.failed,
        }
    }

    fn in_flight(&self, words: &[u32]) -> Vec<String> {
        let n = self.sys.peers.len();
        let t = self.tables.read().unwrap_or_else(|e| e.into_inner());
        let name = |i: usize| self.sys.peers.get(i).map_or(String::from("?"), |p| p.name.to_string());
        words
            .get(n..)
            .unwrap_or(&[])
            .iter()
            .filter_map(|&w| {
                let m = t.msg(super::system::word_msg(w))?;
                Some(format!(
                    "{} -> {}: {}",
                    name(m.from as usize),
                    name(m.to as usize),
                    t.terms.show(m.content)
                ))
            })
            .collect()
    }

    fn stuck_peers(&self, words: &[u32]) -> Vec<Stuck> {
        let n = self.sys.peers.len();
        let msgs = words.get(n..).unwrap_or(&[]);
        let mut worker = Worker::new(self.sys, self.tables);
        let roles = worker.roles(words);
        let mut out = Vec::new();
        for (peer, &frame) in words.iter().take(n).enumerate() {
            let pending: Vec<u32> =
                msgs.iter().copied().filter(|&w| word_recipient(w) as usize == peer).collect();
            let whys = {
                let mut t = self.tables.write().unwrap_or_else(|e| e.into_inner());
                if self.sys.is_done(&t, FrameId(frame))
                    || (pending.is_empty() && self.sys.is_idle_server(&mut t, FrameId(frame)))
                {
                    continue;
                }
                let cx = Context { peer, pending: &pending, roles: &roles };
                self.sys.why_stuck(&mut t, FrameId(frame), &cx)
            };
            for why in whys {
                let (event, span) = self.event_text(why.node());
                out.push(Stuck {
                    peer: self.sys.peers.get(peer).map_or(Value::Unbound, |p| p.name.clone()),
                    role: self.role_of(words, peer),
                    event,
                    span,
                    why: self.explain_why(&why, !pending.is_empty()),
                });
            }
        }
        out
    }

    fn explain_why(&self, why: &Why, has_mail: bool) -> String {
        match why {
            Why::NoPartner { role, .. } => format!("no other peer is in role `{role}`"),
            Why::NoPeer { id, .. } => {
                let t = self.tables.read().unwrap_or_else(|e| e.into_inner());
                format!("no peer has the id {}", t.terms.show(*id))
            }
            Why::NoMessage { .. } if has_mail => "no pending message matches".into(),
            Why::NoMessage { .. } => "no message is pending for it".into(),
            Why::GuardFailed { detail, cond, .. } => {
                let text = self.source.get(cond.start as usize..cond.end as usize).unwrap_or("");
                if text.is_empty() {
                    format!("its guard failed ({detail})")
                } else {
                    format!(
                        "its guard `{}` failed ({detail})",
                        text.split_whitespace().collect::<Vec<_>>().join(" ")
                    )
                }
            }
            Why::NoClause { .. } => "the role it changes to has no clause for those arguments".into(),
        }
    }
}

/// A small state space, for drawing: every configuration with the role of each peer and the
/// messages in flight, every transition with its actions.
#[derive(Clone, Debug)]
pub struct StateSpace {
    pub peer_ids: Vec<String>,
    /// State 0 is the initial configuration.
    pub states: Vec<StateView>,
    /// (from, to, actions).
    pub edges: Vec<(u32, u32, String)>,
    /// False when `max_states` cut the exploration.
    pub complete: bool,
}

#[derive(Clone, Debug)]
pub struct StateView {
    /// The current role of each peer (`-` when finished).
    pub roles: Vec<String>,
    pub in_flight: Vec<String>,
    /// For a configuration where nothing is enabled: what kind it is.
    pub terminal: Option<TerminalKind>,
}

/// Explores at most `max_states` configurations (one thread, exact, no reduction) and
/// describes them.
pub fn state_space(
    model: &ir::Model,
    scenario: &Scenario,
    max_states: u64,
) -> Result<StateSpace, ScenarioMismatch> {
    let mut scenario = scenario.clone();
    scenario.bounds.states = max_states.max(1);
    let mut tables = Tables::default();
    let sys = System::new(model, &scenario, &mut tables)?;
    let tables = RwLock::new(tables);
    let options = Options {
        threads: 1,
        mode: StoreMode::Exact,
        keep_graph: true,
        reduce: false,
        stop_on: Vec::new(),
        progress: None,
    };
    let explored = explore::explore(&sys, &tables, &options);
    let ctx = Explain { sys: &sys, tables: &tables, source: "", explored: &explored };
    let mut worker = Worker::new(&sys, &tables);
    let mut states = Vec::new();
    let mut edges = Vec::new();
    if let Some(g) = &explored.graph {
        for (dense, &id) in g.ids.iter().enumerate() {
            let words = explored.store.words(id).map(<[u32]>::to_vec).unwrap_or_default();
            let roles = (0..sys.peers.len())
                .map(|p| {
                    let done = words.get(p).is_some_and(|&f| {
                        sys.is_done(&tables.read().unwrap_or_else(|e| e.into_inner()), FrameId(f))
                    });
                    if done { "-".to_string() } else { ctx.role_of(&words, p).to_string() }
                })
                .collect();
            let expansion = worker.expand(&words);
            let terminal = (expansion.successors.is_empty() && expansion.bound.is_none())
                .then(|| worker.classify(&words));
            states.push(StateView { roles, in_flight: ctx.in_flight(&words), terminal });
            for (_, label, target) in g.graph.successors(u32::try_from(dense).unwrap_or(u32::MAX)) {
                let actions: Vec<String> = g.graph.label(label).iter().map(ToString::to_string).collect();
                edges.push((u32::try_from(dense).unwrap_or(u32::MAX), target, actions.join(", ")));
            }
        }
    }
    Ok(StateSpace {
        peer_ids: scenario.peers.iter().map(|p| p.id.to_string()).collect(),
        states,
        edges,
        complete: explored.complete,
    })
}

fn refuted_by_a_path(f: &mu::Formula) -> bool {
    match f {
        mu::Formula::Must(_, inner) => matches!(**inner, mu::Formula::False) || refuted_by_a_path(inner),
        mu::Formula::And(a, b) => refuted_by_a_path(a) && refuted_by_a_path(b),
        _ => false,
    }
}

fn steps(n: usize) -> String {
    if n == 1 { "1 step".into() } else { format!("{n} steps") }
}

/// Replays a trace against the semantics, independently of the exploration that produced
/// it: from the initial configuration, each step must be one of the successors that the
/// step function computes afresh (same peer, same event, same actions). Returns the final
/// configuration, or the index of the first step that does not replay.
pub fn replay(model: &ir::Model, scenario: &Scenario, trace: &Trace) -> Result<ReplayEnd, usize> {
    let mut tables = Tables::default();
    let sys = System::new(model, scenario, &mut tables).map_err(|_| 0usize)?;
    let tables = RwLock::new(tables);
    let mut worker = Worker::new(&sys, &tables);
    let mut words = explore::initial_state(&sys);
    let mut seen = vec![words.clone()];
    for (i, step) in trace.steps.iter().enumerate() {
        let successors = worker.expand(&words).successors;
        let next = successors.into_iter().find(|s| {
            sys.peers.get(s.peer).is_some_and(|p| p.name == step.peer)
                && sys.node(s.step.node).is_some_and(|n| n.ir.span == step.span)
                && worker.label(s.step.label) == step.actions
                && s.step.failed == step.failed
        });
        let Some(next) = next else { return Err(i) };
        words = next.words;
        seen.push(words.clone());
    }
    let expansion = worker.expand(&words);
    let terminal = if expansion.successors.is_empty() && expansion.bound.is_none() {
        Some(worker.classify(&words))
    } else {
        None
    };
    // A lasso must come back to where its loop started.
    let closes = trace.cycle_start.map(|c| seen.get(c) == Some(&words));
    Ok(ReplayEnd { terminal, closes_cycle: closes })
}

/// Where a replayed trace ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayEnd {
    /// The terminal kind of the final configuration, if nothing is enabled there.
    pub terminal: Option<TerminalKind>,
    /// For a lasso: whether the final configuration equals the one where the loop starts.
    pub closes_cycle: Option<bool>,
}
