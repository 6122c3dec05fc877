//! Evaluation of a core formula on a graph.
//!
//! Each block of fixpoints (see [`Var::block`]) is an equation system solved by a worklist:
//! all variables start at the bottom of their lattice, every node of the block's region is
//! computed once, and then each (node, state) is re-examined only when an operand changes
//! (through the predecessor index for the modalities), so one solve costs about
//! O(region x (states + transitions)). Values of a least-fixpoint block are stored
//! complemented, which turns it into a greatest-fixpoint system over the dual operators, so
//! one propagation routine serves both signs.
//!
//! A block reads the values of other blocks as constants. One nested inside it whose value
//! depends on its own variables (an alternating formula) is re-solved from scratch whenever
//! those change, and the block iterates until that no longer changes anything: the textbook
//! nested iteration. Blocks whose inputs did not change are not re-solved.

use super::bits::Bits;
use super::ir::{Ir, Node, Sign};
use crate::mc::graph::Graph;
use std::ops::Range;

/// A node of a block's equation system, operands being local indices. The operators are the
/// dual ones in a least-fixpoint block.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Const(bool),
    /// The current value of a variable outside the block (a constant for this block).
    Leaf(usize),
    /// A variable of the block: equal to its body.
    Id(usize),
    And(usize, usize),
    Or(usize, usize),
    Must(usize, usize),
    May(usize, usize),
}

struct System {
    /// Values stored complemented (a least-fixpoint block).
    dual: bool,
    /// The variables of the block; local node `i < vars.len()` is variable `vars[i]`.
    vars: Vec<usize>,
    kinds: Vec<Kind>,
    parents: Vec<Vec<usize>>,
    values: Vec<Bits>,
    /// For `May` nodes of a block with variables: the first matching transition of each state
    /// whose target satisfies the operand (its witness); empty otherwise.
    cursors: Vec<Vec<u32>>,
    /// Variables read from outside: (variable, whether through a nested fixpoint).
    leaves: Vec<(usize, bool)>,
}

impl System {
    fn bit(&self, local: usize, state: usize) -> bool {
        self.values.get(local).is_some_and(|b| b.get(state))
    }
    fn clear(&mut self, local: usize, state: usize) {
        if let Some(b) = self.values.get_mut(local) {
            b.clear(state);
        }
    }
}

/// Where the value of a node is: a constant, or a bitset (complemented if the flag is set).
#[derive(Clone, Copy, Debug)]
pub(crate) enum NodeValue<'s> {
    Const(bool),
    Bits(&'s Bits, bool),
}

impl NodeValue<'_> {
    pub fn get(self, state: usize) -> bool {
        match self {
            NodeValue::Const(b) => b,
            NodeValue::Bits(bits, complement) => bits.get(state) != complement,
        }
    }
}

/// Transitions by target: slots `offsets[t]..offsets[t + 1]` are the transitions into `t`,
/// each with its source and label next to it (the propagation reads them together; looking
/// them up by edge index would cost a cache miss each on a large graph).
struct Predecessors {
    offsets: Vec<u32>,
    slots: Vec<Slot>,
}

/// A transition into a state, as stored in [`Predecessors`].
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    source: u32,
    label: u32,
    edge: u32,
}

/// The evaluator. After [`Solver::run`], [`Solver::value`] gives every node at every state.
pub(crate) struct Solver<'a> {
    pub graph: &'a Graph,
    pub ir: &'a Ir,
    pub states: usize,
    /// Per action formula, per label: whether the label satisfies it.
    masks: Vec<Vec<bool>>,
    predecessors: Option<Predecessors>,
    var_value: Vec<Bits>,
    var_version: Vec<u64>,
    /// Per block, plus the top-level region as the last one.
    systems: Vec<Option<System>>,
    active: Vec<bool>,
    solved: Vec<bool>,
    /// Per block: the variables outside it that its value depends on, with their versions
    /// when it was solved.
    deps: Vec<Vec<(usize, u64)>>,
    /// Per node: the block system and local index holding its values.
    owner: Vec<Option<(usize, usize)>>,
}

impl<'a> Solver<'a> {
    pub fn new(graph: &'a Graph, ir: &'a Ir) -> Solver<'a> {
        let states = graph.state_count();
        let masks =
            ir.actions.iter().map(|a| graph.labels.iter().map(|label| a.matches(label)).collect()).collect();
        let blocks = ir.blocks.len() + 1;
        Solver {
            graph,
            ir,
            states,
            masks,
            predecessors: None,
            var_value: vec![Bits::filled(states, false); ir.vars.len()],
            var_version: vec![0; ir.vars.len()],
            systems: (0..blocks).map(|_| None).collect(),
            active: vec![false; blocks],
            solved: vec![false; blocks],
            deps: vec![Vec::new(); blocks],
            owner: vec![None; ir.nodes.len()],
        }
    }

    /// Evaluates the whole formula.
    pub fn run(&mut self) {
        self.solve(self.ir.blocks.len());
    }

    /// The value of a node at a state (after [`Solver::run`]).
    pub fn value(&self, node: usize, state: usize) -> bool {
        match self.ir.nodes.get(node) {
            Some(Node::Const(b)) => *b,
            Some(Node::Var(v) | Node::Fix(v)) => self.var_value.get(*v).is_some_and(|b| b.get(state)),
            Some(_) => match self.owner.get(node).copied().flatten() {
                Some((block, local)) => self
                    .systems
                    .get(block)
                    .and_then(Option::as_ref)
                    .is_some_and(|sys| sys.bit(local, state) != sys.dual),
                None => false,
            },
            None => false,
        }
    }

    /// Where the value of every node is stored, for fast repeated lookups.
    pub fn node_values(&self) -> Vec<NodeValue<'_>> {
        let lookup = |node: usize, kind: &Node| match kind {
            Node::Const(b) => NodeValue::Const(*b),
            Node::Var(v) | Node::Fix(v) => {
                self.var_value.get(*v).map_or(NodeValue::Const(false), |bits| NodeValue::Bits(bits, false))
            }
            _ => {
                let stored = self.owner.get(node).copied().flatten().and_then(|(block, local)| {
                    let sys = self.systems.get(block)?.as_ref()?;
                    Some(NodeValue::Bits(sys.values.get(local)?, sys.dual))
                });
                stored.unwrap_or(NodeValue::Const(false))
            }
        };
        self.ir.nodes.iter().enumerate().map(|(node, kind)| lookup(node, kind)).collect()
    }

    pub fn edges(&self, state: usize) -> Range<usize> {
        let start = self.graph.offsets.get(state).map_or(0, |&o| o as usize);
        let end = self.graph.offsets.get(state + 1).map_or(0, |&o| o as usize);
        start..end.max(start)
    }

    pub fn target(&self, edge: usize) -> Option<usize> {
        self.graph.targets.get(edge).map(|&t| t as usize)
    }

    /// Whether transition `edge` satisfies action formula `action`.
    pub fn matches(&self, action: usize, edge: usize) -> bool {
        let Some(&label) = self.graph.edge_labels.get(edge) else { return false };
        self.masks.get(action).and_then(|m| m.get(label as usize)).copied().unwrap_or(false)
    }

    /// The source state of a transition.
    pub fn source(&self, edge: usize) -> usize {
        self.graph.offsets.partition_point(|&o| o as usize <= edge).saturating_sub(1)
    }

    fn block_of(&self, var: usize) -> usize {
        self.ir.vars.get(var).map_or(usize::MAX, |v| v.block)
    }

    fn is_active(&self, block: usize) -> bool {
        self.active.get(block).copied().unwrap_or(true)
    }

    /// Whether a block must be (re-)solved: never solved, or an input changed since.
    fn stale(&self, block: usize) -> bool {
        !self.solved.get(block).copied().unwrap_or(false)
            || self.deps.get(block).is_some_and(|deps| {
                deps.iter().any(|&(v, version)| self.var_version.get(v).copied() != Some(version))
            })
    }

    fn ensure_predecessors(&mut self) {
        if self.predecessors.is_some() {
            return;
        }
        let n = self.states;
        let mut counts = vec![0u32; n + 1];
        for &t in &self.graph.targets {
            if let Some(c) = counts.get_mut(t as usize + 1) {
                *c += 1;
            }
        }
        for i in 1..counts.len() {
            let previous = counts.get(i - 1).copied().unwrap_or(0);
            if let Some(c) = counts.get_mut(i) {
                *c += previous;
            }
        }
        let offsets = counts.clone();
        let total = counts.last().copied().unwrap_or(0) as usize;
        let mut slots = vec![Slot::default(); total];
        for s in 0..n {
            for e in self.edges(s) {
                let (Some(t), Some(&label)) = (self.target(e), self.graph.edge_labels.get(e)) else {
                    continue;
                };
                let Some(next) = counts.get_mut(t) else { continue };
                if let Some(slot) = slots.get_mut(*next as usize) {
                    *slot = Slot { source: s as u32, label, edge: e as u32 };
                }
                *next += 1;
            }
        }
        self.predecessors = Some(Predecessors { offsets, slots });
    }

    /// Builds the equation system of a block (the top-level region for the last index).
    fn compile(&mut self, block: usize) -> System {
        let ir = self.ir;
        let vars: Vec<usize> = ir.blocks.get(block).cloned().unwrap_or_default();
        let dual = vars.first().and_then(|&v| ir.vars.get(v)).is_some_and(|v| v.sign == Sign::Mu);
        let mut compiler = Compiler {
            ir,
            dual,
            vars: &vars,
            map: vec![None; ir.nodes.len()],
            kinds: vars.iter().map(|_| Kind::Id(0)).collect(),
            leaves: Vec::new(),
        };
        let roots: Vec<usize> = if vars.is_empty() {
            vec![ir.top]
        } else {
            vars.iter().filter_map(|&v| ir.vars.get(v)).map(|v| v.body).collect()
        };
        for (i, root) in roots.into_iter().enumerate() {
            let local = compiler.visit(root);
            if i < vars.len()
                && let Some(kind) = compiler.kinds.get_mut(i)
            {
                *kind = Kind::Id(local);
            }
        }
        for (node, local) in compiler.map.iter().enumerate() {
            let Some(local) = *local else { continue };
            let shown = !matches!(ir.nodes.get(node), Some(Node::Var(_) | Node::Fix(_)));
            if shown
                && let Some(owner) = self.owner.get_mut(node)
                && owner.is_none()
            {
                *owner = Some((block, local));
            }
        }
        let Compiler { kinds, leaves, .. } = compiler;
        let mut parents = vec![Vec::new(); kinds.len()];
        for (p, kind) in kinds.iter().enumerate() {
            let operands: &[usize] = match kind {
                Kind::Id(c) | Kind::Must(_, c) | Kind::May(_, c) => &[*c],
                Kind::And(a, b) | Kind::Or(a, b) => &[*a, *b],
                Kind::Const(_) | Kind::Leaf(_) => &[],
            };
            for &c in operands {
                if let Some(list) = parents.get_mut(c) {
                    list.push(p);
                }
            }
        }
        let values = vec![Bits::filled(self.states, false); kinds.len()];
        let cursors = vec![Vec::new(); kinds.len()];
        System { dual, vars, kinds, parents, values, cursors, leaves }
    }

    /// Solves a block: its variables get their fixpoint values, given the current values of
    /// the variables outside it.
    fn solve(&mut self, block: usize) {
        if self.is_active(block) {
            return;
        }
        if let Some(a) = self.active.get_mut(block) {
            *a = true;
        }
        let mut sys = match self.systems.get_mut(block).and_then(Option::take) {
            Some(sys) => sys,
            None => self.compile(block),
        };
        if !sys.vars.is_empty() {
            self.ensure_predecessors();
        }
        // Start from the bottom of the lattice: everything for nu, nothing for mu.
        for i in 0..sys.vars.len() {
            if let Some(b) = sys.values.get_mut(i) {
                *b = Bits::filled(self.states, true);
            }
        }
        let all_vars: Vec<usize> = (0..sys.vars.len()).collect();
        self.publish(&sys, &all_vars);
        loop {
            for &(var, nested) in &sys.leaves {
                let inner = self.block_of(var);
                if nested && !self.is_active(inner) && self.stale(inner) {
                    self.solve(inner);
                }
            }
            self.initialise(&mut sys);
            let changed = self.propagate(&mut sys);
            if changed.is_empty() {
                break;
            }
            self.publish(&sys, &changed);
            let again = sys.leaves.iter().any(|&(var, nested)| {
                let inner = self.block_of(var);
                nested && !self.is_active(inner) && self.stale(inner)
            });
            if !again {
                break;
            }
        }
        // The variables outside the block that its value depends on: those it reads, and
        // those the blocks nested in it depend on (all fresh now, so current versions).
        let mut inputs: Vec<usize> = Vec::new();
        for &(var, nested) in &sys.leaves {
            let inner = self.block_of(var);
            if nested && !self.is_active(inner) {
                inputs.extend(self.deps.get(inner).into_iter().flatten().map(|&(v, _)| v));
            } else {
                inputs.push(var);
            }
        }
        inputs.retain(|v| !sys.vars.contains(v));
        inputs.sort_unstable();
        inputs.dedup();
        let deps = inputs.into_iter().map(|v| (v, self.var_version.get(v).copied().unwrap_or(0))).collect();
        if let Some(slot) = self.deps.get_mut(block) {
            *slot = deps;
        }
        if let Some(slot) = self.systems.get_mut(block) {
            *slot = Some(sys);
        }
        if let Some(a) = self.active.get_mut(block) {
            *a = false;
        }
        if let Some(s) = self.solved.get_mut(block) {
            *s = true;
        }
    }

    /// Copies the values of the given local variables out of the system, as new versions.
    fn publish(&mut self, sys: &System, locals: &[usize]) {
        for &i in locals {
            let (Some(&var), Some(bits)) = (sys.vars.get(i), sys.values.get(i)) else { continue };
            if let Some(slot) = self.var_value.get_mut(var) {
                *slot = bits.complemented_if(sys.dual);
            }
            if let Some(version) = self.var_version.get_mut(var) {
                *version += 1;
            }
        }
    }

    /// Computes every non-variable node from its operands, the variables keeping their
    /// current values.
    fn initialise(&self, sys: &mut System) {
        let with_cursors = !sys.vars.is_empty();
        for u in sys.vars.len()..sys.kinds.len() {
            let Some(&kind) = sys.kinds.get(u) else { continue };
            let operand = |i: usize| sys.values.get(i);
            let bits = match kind {
                Kind::Const(b) => Bits::filled(self.states, b),
                Kind::Leaf(v) => {
                    self.var_value.get(v).map_or_else(|| Bits::filled(self.states, false), Bits::clone)
                }
                Kind::Id(c) => operand(c).cloned().unwrap_or_default(),
                Kind::And(a, b) => match (operand(a), operand(b)) {
                    (Some(a), Some(b)) => a.and(b),
                    _ => Bits::filled(self.states, false),
                },
                Kind::Or(a, b) => match (operand(a), operand(b)) {
                    (Some(a), Some(b)) => a.or(b),
                    _ => Bits::filled(self.states, false),
                },
                Kind::Must(action, c) => {
                    let empty = Bits::default();
                    let child = operand(c).unwrap_or(&empty);
                    let mut bits = Bits::filled(self.states, false);
                    for s in 0..self.states {
                        let all = self.edges(s).all(|e| {
                            !self.matches(action, e) || self.target(e).is_some_and(|t| child.get(t))
                        });
                        if all {
                            bits.set(s);
                        }
                    }
                    bits
                }
                Kind::May(action, c) => {
                    let empty = Bits::default();
                    let child = operand(c).unwrap_or(&empty);
                    let mut bits = Bits::filled(self.states, false);
                    let mut cursor = if with_cursors { vec![0u32; self.states] } else { Vec::new() };
                    for s in 0..self.states {
                        let witness = self.edges(s).find(|&e| {
                            self.matches(action, e) && self.target(e).is_some_and(|t| child.get(t))
                        });
                        if let Some(e) = witness {
                            bits.set(s);
                            if let Some(slot) = cursor.get_mut(s) {
                                *slot = e as u32;
                            }
                        }
                    }
                    if let Some(slot) = sys.cursors.get_mut(u) {
                        *slot = cursor;
                    }
                    bits
                }
            };
            // Leaves and constants of a least-fixpoint block are stored complemented too.
            let bits = match kind {
                Kind::Const(_) | Kind::Leaf(_) => bits.complemented_if(sys.dual),
                _ => bits,
            };
            if let Some(slot) = sys.values.get_mut(u) {
                *slot = bits;
            }
        }
    }

    /// Greatest-fixpoint propagation over the stored bits: removes the states where a
    /// variable is set but its body is not, and everything that depended on them. Returns the
    /// local variables that changed.
    fn propagate(&self, sys: &mut System) -> Vec<usize> {
        let mut changed = vec![false; sys.vars.len()];
        let mut stack: Vec<(usize, usize)> = Vec::new();
        for i in 0..sys.vars.len() {
            let Some(&Kind::Id(body)) = sys.kinds.get(i) else { continue };
            let Some(body_bits) = sys.values.get(body).cloned() else { continue };
            let Some(bits) = sys.values.get_mut(i) else { continue };
            let removed = bits.retain_in(&body_bits);
            if !removed.is_empty()
                && let Some(c) = changed.get_mut(i)
            {
                *c = true;
            }
            stack.extend(removed.into_iter().map(|s| (i, s)));
        }
        let empty = Predecessors { offsets: Vec::new(), slots: Vec::new() };
        let pred = self.predecessors.as_ref().unwrap_or(&empty);
        // Taken out for the loop so that `sys` can be updated while they are read.
        let all_parents = std::mem::take(&mut sys.parents);
        while let Some((u, s)) = stack.pop() {
            let Some(parents) = all_parents.get(u) else { continue };
            for &p in parents {
                let Some(&kind) = sys.kinds.get(p) else { continue };
                match kind {
                    Kind::Id(_) | Kind::And(..) => {
                        if sys.bit(p, s) {
                            sys.clear(p, s);
                            stack.push((p, s));
                            if let Some(c) = changed.get_mut(p) {
                                *c = true;
                            }
                        }
                    }
                    Kind::Or(a, b) => {
                        if sys.bit(p, s) && !sys.bit(a, s) && !sys.bit(b, s) {
                            sys.clear(p, s);
                            stack.push((p, s));
                        }
                    }
                    Kind::Must(action, _) | Kind::May(action, _) => {
                        let start = pred.offsets.get(s).map_or(0, |&o| o as usize);
                        let end = pred.offsets.get(s + 1).map_or(0, |&o| o as usize);
                        let mask = self.masks.get(action).map_or(&[][..], Vec::as_slice);
                        for slot in pred.slots.get(start..end).unwrap_or(&[]) {
                            let src = slot.source as usize;
                            if !mask.get(slot.label as usize).copied().unwrap_or(false) || !sys.bit(p, src) {
                                continue;
                            }
                            if let Kind::May(_, c) = kind {
                                // Only the loss of the witness matters; look for the next one.
                                let e = slot.edge as usize;
                                let cursor = sys.cursors.get(p).and_then(|cur| cur.get(src)).copied();
                                if cursor.map(|c| c as usize) != Some(e) {
                                    continue;
                                }
                                let range = self.edges(src);
                                let next = (e + 1..range.end).find(|&f| {
                                    self.matches(action, f) && self.target(f).is_some_and(|t| sys.bit(c, t))
                                });
                                if let Some(f) = next {
                                    if let Some(slot) =
                                        sys.cursors.get_mut(p).and_then(|cur| cur.get_mut(src))
                                    {
                                        *slot = f as u32;
                                    }
                                    continue;
                                }
                            }
                            sys.clear(p, src);
                            stack.push((p, src));
                        }
                    }
                    Kind::Const(_) | Kind::Leaf(_) => {}
                }
            }
        }
        sys.parents = all_parents;
        changed.iter().enumerate().filter(|(_, c)| **c).map(|(i, _)| i).collect()
    }
}

struct Compiler<'s> {
    ir: &'s Ir,
    dual: bool,
    vars: &'s [usize],
    /// Per node of the formula: its local node, once visited.
    map: Vec<Option<usize>>,
    kinds: Vec<Kind>,
    leaves: Vec<(usize, bool)>,
}

impl Compiler<'_> {
    /// The local node of a formula node, adding it (and its operands) on first visit; the
    /// operands come first, so local order is a topological order apart from the variables.
    fn visit(&mut self, node: usize) -> usize {
        if let Some(local) = self.map.get(node).copied().flatten() {
            return local;
        }
        let kind = match self.ir.nodes.get(node).copied().unwrap_or(Node::Const(false)) {
            Node::Const(b) => Kind::Const(b),
            Node::Var(v) | Node::Fix(v) => {
                if let Some(i) = self.vars.iter().position(|&w| w == v) {
                    if let Some(slot) = self.map.get_mut(node) {
                        *slot = Some(i);
                    }
                    return i;
                }
                let nested = matches!(self.ir.nodes.get(node), Some(Node::Fix(_)));
                self.leaves.push((v, nested));
                Kind::Leaf(v)
            }
            Node::And(a, b) | Node::Or(a, b) => {
                let conjunction = matches!(self.ir.nodes.get(node), Some(Node::And(..))) != self.dual;
                let (a, b) = (self.visit(a), self.visit(b));
                if conjunction { Kind::And(a, b) } else { Kind::Or(a, b) }
            }
            Node::Must(action, c) | Node::May(action, c) => {
                let must = matches!(self.ir.nodes.get(node), Some(Node::Must(..))) != self.dual;
                let c = self.visit(c);
                if must { Kind::Must(action, c) } else { Kind::May(action, c) }
            }
        };
        self.kinds.push(kind);
        let local = self.kinds.len() - 1;
        if let Some(slot) = self.map.get_mut(node) {
            *slot = Some(local);
        }
        local
    }
}
